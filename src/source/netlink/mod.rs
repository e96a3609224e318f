//! Netlink sock_diag: the primary source. One dump request per table; datagrams are decoded as
//! they arrive and each record goes straight to the sink, so nothing is held for the whole table.
//!
//! Requests are built with `netlink_packet_sock_diag`; responses are decoded by [`parse`]
//! (see there for why). Pitfalls handled here, each seen on a real kernel: errors that arrive
//! inside NLMSG_DONE, datagrams sized to the largest receive buffer seen (we read with
//! MSG_TRUNC into a 64 KiB buffer and fail loudly if one is cut), and stray sequence numbers.

pub mod parse;
pub mod tcpinfo;

#[cfg(test)]
mod replay_tests;
#[cfg(test)]
mod request_tests;

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_packet_sock_diag::{
    inet::{ExtensionFlags, InetRequest, SocketId, StateFlags as InetStates},
    unix::{ShowFlags, StateFlags as UnixStates, UnixRequest},
    SockDiagMessage,
};
use netlink_sys::{protocols::NETLINK_SOCK_DIAG, Socket as NlSocket};
use std::sync::mpsc;

use super::{Query, Served, SourceError, SourceKind};
use crate::model::{Family, InetProto, Socket, State, Table};

/// `UDIAG_SHOW_UID`, missing from the crate's `ShowFlags`.
const UDIAG_SHOW_UID: u32 = 0x40;
const RECV_BUF: usize = 64 * 1024;

/// A sock_diag conversation. One per listing; a fresh one is opened after any error.
pub struct Netlink {
    sock: NlSocket,
    seq: u32,
    buf: Vec<u8>,
    /// A dump started by [`Netlink::read_ahead`] and not yet handed to a sink.
    ahead: Option<ReadAhead>,
    /// Receive on the calling thread only: set for a thread inside another network namespace,
    /// which must not start threads there.
    pub one_thread: bool,
}

/// Datagrams of one dump, received before anyone could print them (see [`Netlink::read_ahead`]).
struct ReadAhead {
    table: Table,
    query: Query,
    seq: u32,
    datagrams: Vec<Vec<u8>>,
    /// A receive error, to be reported when the dump is consumed.
    error: Option<SourceError>,
    /// The last datagram ends the dump.
    ended: bool,
}

/// What a datagram leaves of its dump: `Some` once the dump has ended (or failed).
type Ended = Option<Result<(), SourceError>>;

/// Why a read-ahead stopped, i.e. what the consumer does after replaying it.
enum Rest {
    /// The dump goes on: receive the rest.
    Live,
    /// The dump's end is among the datagrams held.
    Held,
    /// Receiving failed: report this after the datagrams held.
    Failed(SourceError),
}

fn io_errno(e: &std::io::Error) -> i32 {
    e.raw_os_error().unwrap_or(libc::EIO)
}

/// Classifies a kernel errno for `table`: unsupported and denied lead to the /proc fallback.
fn classify(table: Table, errno: i32) -> SourceError {
    match errno {
        libc::EPERM | libc::EACCES => SourceError::Denied { table, errno },
        libc::ENOENT
        | libc::EINVAL
        | libc::EOPNOTSUPP
        | libc::EPROTONOSUPPORT
        | libc::EAFNOSUPPORT => SourceError::Unsupported { table, errno },
        _ => SourceError::Netlink {
            table,
            what: format!(
                "kernel answered {}",
                std::io::Error::from_raw_os_error(errno)
            ),
        },
    }
}

impl Netlink {
    /// Opens a NETLINK_SOCK_DIAG socket. Fails as `Unsupported`/`Denied` when the kernel or a
    /// sandbox refuses the socket itself.
    pub fn open(table: Table) -> Result<Netlink, SourceError> {
        let mut sock =
            NlSocket::new(NETLINK_SOCK_DIAG).map_err(|e| classify(table, io_errno(&e)))?;
        sock.bind_auto()
            .map_err(|e| classify(table, io_errno(&e)))?;
        Ok(Netlink {
            sock,
            seq: 0,
            buf: vec![0; RECV_BUF],
            ahead: None,
            one_thread: false,
        })
    }

    /// Sends the dump request for `table` (with `ask`, the legacy request for both TCP
    /// tables); returns its sequence number.
    fn send_dump(&mut self, table: Table, query: &Query, ask: Ask) -> Result<u32, SourceError> {
        self.seq = self.seq.wrapping_add(1);
        let send = |bytes: Vec<u8>| self.sock.send(&bytes, 0);
        match ask {
            Ask::Table => dump_request(table, query, self.seq),
            Ask::TcpBoth => tcp_both_request(query, self.seq),
        }
        .and_then(send)
        .map_err(|e| classify(table, io_errno(&e)))?;
        Ok(self.seq)
    }

    /// Starts dumping `table` and keeps the datagrams, until `stop()` says enough, `limit` bytes
    /// are held, or the dump ends. The next [`Netlink::dump`] of the same table and query
    /// replays them first. This lets the kernel produce the dump while another thread scans
    /// for owners, which the listing needs before it can print a row.
    pub fn read_ahead(
        &mut self,
        table: Table,
        query: &Query,
        stop: &dyn Fn() -> bool,
        limit: usize,
    ) {
        let mut ahead = ReadAhead {
            table,
            query: query.clone(),
            seq: 0,
            datagrams: Vec::new(),
            error: None,
            ended: false,
        };
        match self.send_dump(table, query, Ask::Table) {
            Ok(seq) => ahead.seq = seq,
            Err(e) => ahead.error = Some(e),
        }
        let mut held = 0usize;
        while ahead.error.is_none() && held < limit && !stop() {
            match receive(&self.sock, &mut self.buf, table) {
                Ok(n) => {
                    let datagram = self.buf[..n].to_vec();
                    held += n;
                    ahead.ended = ends_dump(&datagram, ahead.seq);
                    ahead.datagrams.push(datagram);
                    if ahead.ended {
                        break;
                    }
                }
                Err(e) => ahead.error = Some(e),
            }
        }
        self.ahead = Some(ahead);
    }

    /// Dumps `table`, calling `sink` for every socket whose state bit is in `query.states`.
    ///
    /// A dump longer than a few datagrams is received on a second thread while this one decodes
    /// and hands sockets to `sink`: the kernel's work (walking its tables, filling records) and
    /// ours (decoding, printing) then overlap instead of taking turns.
    pub fn dump(
        &mut self,
        table: Table,
        query: &Query,
        sink: &mut dyn FnMut(&Socket) -> std::io::Result<()>,
        prefetch: Prefetch<'_>,
    ) -> Result<Served, SourceError> {
        self.dump_as(table, query, Ask::Table, sink, prefetch)
            .map(|(served, _)| served)
    }

    /// Dumps both TCP tables (IPv4 and IPv6) with one legacy `TCPDIAG_GETSOCK` request, which
    /// the kernel answers with one walk of its TCP hash tables for both families where two
    /// `SOCK_DIAG_BY_FAMILY` requests take two. `sink` gets the sockets of both families as
    /// the walk meets them; how each table was served comes back as (tcp, tcp6).
    ///
    /// Kernels that do not know the request answer with an error, as for any table they cannot
    /// list; the caller then asks per table.
    pub fn dump_tcp_both(
        &mut self,
        query: &Query,
        sink: &mut dyn FnMut(&Socket) -> std::io::Result<()>,
    ) -> Result<(Served, Served), SourceError> {
        let (v4, v6) = (
            Table::Inet(InetProto::Tcp, Family::V4),
            Table::Inet(InetProto::Tcp, Family::V6),
        );
        let (served, served6) = self.dump_as(v4, query, Ask::TcpBoth, sink, None)?;
        Ok((
            served,
            served6.unwrap_or_else(|| Served::new(v6, SourceKind::Netlink)),
        ))
    }

    /// [`Netlink::dump`] with the request `ask`: with [`Ask::TcpBoth`], `table` is the IPv4 TCP
    /// table and the second [`Served`] the IPv6 one's.
    fn dump_as(
        &mut self,
        table: Table,
        query: &Query,
        ask: Ask,
        sink: &mut dyn FnMut(&Socket) -> std::io::Result<()>,
        prefetch: Prefetch<'_>,
    ) -> Result<(Served, Option<Served>), SourceError> {
        let (seq, queued, rest) = match self.ahead.take() {
            Some(a) if ask == Ask::Table && a.table == table && a.query == *query => {
                let rest = match (a.error, a.ended) {
                    (Some(e), _) => Rest::Failed(e),
                    (None, true) => Rest::Held,
                    (None, false) => Rest::Live,
                };
                (a.seq, a.datagrams, rest)
            }
            Some(_) => {
                // Read ahead for another dump (callers should not): the socket still holds that
                // dump's rest, which must not be mistaken for this one's. Start afresh.
                let one_thread = self.one_thread;
                *self = Netlink::open(table)?;
                self.one_thread = one_thread;
                (self.send_dump(table, query, ask)?, Vec::new(), Rest::Live)
            }
            None => (self.send_dump(table, query, ask)?, Vec::new(), Rest::Live),
        };
        let mut dec = Decoder {
            table,
            query,
            seq,
            record: match ask {
                Ask::Table => parse::SOCK_DIAG_BY_FAMILY,
                Ask::TcpBoth => parse::TCPDIAG_GETSOCK,
            },
            prefetch,
            sink,
            served: Served::new(table, SourceKind::Netlink),
            served6: (ask == Ask::TcpBoth)
                .then(|| Served::new(Table::Inet(InetProto::Tcp, Family::V6), SourceKind::Netlink)),
        };
        let ended = match rest {
            Rest::Live => None,
            Rest::Held => Some(Err(no_done(table))),
            Rest::Failed(e) => Some(Err(e)),
        };
        if let Some(not_live) = ended {
            // Nothing more to receive: the datagrams held end the dump, or the error does.
            let r = queued.iter().find_map(|d| dec.feed(d)).unwrap_or(not_live);
            return r.map(|()| (dec.served, dec.served6));
        }
        if self.one_thread {
            let r = match queued.iter().find_map(|d| dec.feed(d)) {
                Some(r) => r,
                None => pump(&self.sock, &mut self.buf, &mut dec, usize::MAX)
                    .unwrap_or(Err(no_done(table))),
            };
            return r.map(|()| (dec.served, dec.served6));
        }
        if queued.is_empty() {
            // Most dumps end within a few datagrams: no thread for them.
            if let Some(r) = pump(&self.sock, &mut self.buf, &mut dec, SYNC_DATAGRAMS) {
                return r.map(|()| (dec.served, dec.served6));
            }
        }
        let sock = &self.sock;
        let r = std::thread::scope(|s| {
            let (full_tx, full) =
                mpsc::sync_channel::<Result<(Vec<u8>, usize), SourceError>>(DEPTH);
            let (empty, empty_rx) = mpsc::channel::<Vec<u8>>();
            for _ in 0..DEPTH + 2 {
                let _ = empty.send(vec![0; RECV_BUF]);
            }
            let receiver = std::thread::Builder::new().spawn_scoped(s, move || {
                // Ends at the dump's end, on an error, or when the decoder hangs up.
                while let Ok(mut buf) = empty_rx.recv() {
                    let got = receive(sock, &mut buf, table);
                    let last = match &got {
                        Ok(n) => ends_dump(&buf[..*n], seq),
                        Err(_) => true,
                    };
                    if full_tx.send(got.map(|n| (buf, n))).is_err() || last {
                        break;
                    }
                }
            });
            if let Some(r) = queued.iter().find_map(|d| dec.feed(d)) {
                return r;
            }
            drop(queued);
            if receiver.is_err() {
                // No thread to be had (a pids or process limit): receive here instead.
                let mut buf = vec![0; RECV_BUF];
                return pump(sock, &mut buf, &mut dec, usize::MAX).unwrap_or(Err(no_done(table)));
            }
            for got in full.iter() {
                let (buf, n) = got?;
                if let Some(r) = dec.feed(&buf[..n]) {
                    return r;
                }
                let _ = empty.send(buf);
            }
            Err(no_done(table))
        });
        r.map(|()| (dec.served, dec.served6))
    }
}

/// Which request a dump is asked with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ask {
    /// `SOCK_DIAG_BY_FAMILY` for one table.
    Table,
    /// The legacy `TCPDIAG_GETSOCK`: both TCP tables in one walk.
    TcpBoth,
}

/// Receives up to `max` datagrams into `buf`, feeding each to `dec`; `Some` once the dump
/// has ended or receiving failed.
fn pump(sock: &NlSocket, buf: &mut [u8], dec: &mut Decoder<'_, '_>, max: usize) -> Ended {
    for _ in 0..max {
        match receive(sock, buf, dec.table) {
            Ok(n) => {
                if let Some(r) = dec.feed(&buf[..n]) {
                    return Some(r);
                }
            }
            Err(e) => return Some(Err(e)),
        }
    }
    None
}

/// How many datagrams a dump is read on the calling thread before a receiver thread takes over.
const SYNC_DATAGRAMS: usize = 4;
/// Datagrams the receiver thread may hold ahead of the decoder.
const DEPTH: usize = 16;

fn no_done(table: Table) -> SourceError {
    SourceError::Netlink {
        table,
        what: "the dump ended without NLMSG_DONE".into(),
    }
}

/// Receives the next datagram of a dump into `buf`; returns its length.
fn receive(sock: &NlSocket, buf: &mut [u8], table: Table) -> Result<usize, SourceError> {
    let n = sock
        .recv(&mut &mut buf[..], libc::MSG_TRUNC)
        .map_err(|e| match io_errno(&e) {
            libc::ENOBUFS => SourceError::Netlink {
                table,
                what: "the kernel dropped dump data (ENOBUFS)".into(),
            },
            errno => classify(table, errno),
        })?;
    if n > buf.len() {
        return Err(SourceError::Netlink {
            table,
            what: format!(
                "a {n}-byte datagram did not fit the {}-byte buffer",
                buf.len()
            ),
        });
    }
    if n == 0 {
        return Err(SourceError::Netlink {
            table,
            what: "netlink socket closed".into(),
        });
    }
    Ok(n)
}

/// The bytes of the dump request for `table` with sequence number `seq`. Pure, so tests pin
/// every request we send byte for byte (see `request_tests.rs`).
fn dump_request(table: Table, query: &Query, seq: u32) -> Result<Vec<u8>, std::io::Error> {
    let states = query.states;
    match table {
        Table::Inet(proto, family) => {
            let mut req = InetRequest {
                family: match family {
                    Family::V4 => libc::AF_INET as u8,
                    Family::V6 => libc::AF_INET6 as u8,
                },
                protocol: proto.ipproto(),
                extensions: ExtensionFlags::empty(),
                states: InetStates::from_bits_retain(states),
                socket_id: match family {
                    Family::V4 => SocketId::new_v4(),
                    Family::V6 => SocketId::new_v6(),
                },
            };
            if wants_internals(table, query) {
                req.extensions = ExtensionFlags::INFO
                    | ExtensionFlags::CONG
                    | ExtensionFlags::SKMEMINFO
                    | ExtensionFlags::SHUTDOWN;
            }
            encode_request(
                seq,
                SockDiagMessage::InetRequest(req),
                |payload| {
                    if proto == InetProto::Raw {
                        // `sdiag_raw_protocol` lives in the pad byte: every raw protocol.
                        payload[3] = libc::IPPROTO_RAW as u8;
                    }
                },
                query.bytecode.as_deref(),
            )
        }
        Table::Unix => {
            // Queued connections are only seen through their listener: ask for listeners
            // whenever ESTABLISHED is wanted (unwanted ones are dropped after).
            let embryos = states & State::Established.mask_bit() != 0;
            let asked = if embryos {
                states | State::Listen.mask_bit()
            } else {
                states
            };
            let req = UnixRequest {
                state_flags: UnixStates::from_bits_retain(asked),
                inode: 0,
                show_flags: ShowFlags::from_bits_retain(
                    (ShowFlags::NAME | ShowFlags::PEER | ShowFlags::RQLEN).bits()
                        | UDIAG_SHOW_UID
                        // A listener's queued connections (see parse::unix_embryos).
                        | if embryos { ShowFlags::ICONS.bits() } else { 0 },
                ),
                cookie: [0xff; 8],
            };
            encode_request(seq, SockDiagMessage::UnixRequest(req), |_| {}, None)
        }
    }
}

/// The bytes of the legacy `TCPDIAG_GETSOCK` dump request, for the TCP sockets of both
/// families at once, with sequence number `seq`: the header, a `struct inet_diag_req` (the
/// layout before `inet_diag_req_v2`), and the bytecode as in [`dump_request`]. The kernel
/// (`inet_diag_dump_compat`) turns it into a v2 request for IPPROTO_TCP with `sdiag_family`
/// AF_UNSPEC, so one walk of the TCP hash tables yields both families. Pure, for the golden
/// bytes in `request_tests.rs`.
fn tcp_both_request(query: &Query, seq: u32) -> Result<Vec<u8>, std::io::Error> {
    let ext = if wants_internals(Table::Inet(InetProto::Tcp, Family::V4), query) {
        (ExtensionFlags::INFO
            | ExtensionFlags::CONG
            | ExtensionFlags::SKMEMINFO
            | ExtensionFlags::SHUTDOWN)
            .bits()
    } else {
        0
    };
    let mut bytes = Vec::with_capacity(parse::NLMSG_HDRLEN + INET_DIAG_REQ_LEN);
    let len = (parse::NLMSG_HDRLEN + INET_DIAG_REQ_LEN) as u32;
    bytes.extend_from_slice(&len.to_ne_bytes()); // nlmsg_len
    bytes.extend_from_slice(&parse::TCPDIAG_GETSOCK.to_ne_bytes()); // nlmsg_type
    bytes.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes()); // nlmsg_flags
    bytes.extend_from_slice(&seq.to_ne_bytes()); // nlmsg_seq
    bytes.extend_from_slice(&0u32.to_ne_bytes()); // nlmsg_pid: the kernel fills it in
                                                  // idiag_family: ignored by dumps, which ask for every family; AF_INET as ss sends it.
    bytes.push(libc::AF_INET as u8);
    bytes.push(0); // idiag_src_len: unused
    bytes.push(0); // idiag_dst_len: unused
    bytes.push(ext); // idiag_ext
    bytes.extend_from_slice(&[0; 48]); // id (inet_diag_sockid): any port, address, interface
    bytes.extend_from_slice(&query.states.to_ne_bytes()); // idiag_states
    bytes.extend_from_slice(&0u32.to_ne_bytes()); // idiag_dbs: unused
    if let Some(code) = query.bytecode.as_deref() {
        append_bytecode(&mut bytes, code)?;
    }
    Ok(bytes)
}

/// `sizeof(struct inet_diag_req)`.
const INET_DIAG_REQ_LEN: usize = 60;

/// Appends `code` to the request `bytes` as an INET_DIAG_REQ_BYTECODE attribute, fixing up
/// `nlmsg_len`.
fn append_bytecode(bytes: &mut Vec<u8>, code: &[u8]) -> Result<(), std::io::Error> {
    let attr_len = 4 + code.len();
    let (Ok(rta_len), Ok(total)) = (
        u16::try_from(attr_len),
        u32::try_from(bytes.len() + attr_len.div_ceil(4) * 4),
    ) else {
        return Err(std::io::Error::other("filter bytecode too long"));
    };
    bytes.extend_from_slice(&rta_len.to_ne_bytes()); // rta_len
    bytes.extend_from_slice(&crate::filter::bytecode::INET_DIAG_REQ_BYTECODE.to_ne_bytes());
    bytes.extend_from_slice(code);
    bytes.resize(total as usize, 0);
    bytes[..4].copy_from_slice(&total.to_ne_bytes()); // nlmsg_len
    Ok(())
}

/// A dump request as bytes; `bytecode`, when given, follows the request as an
/// INET_DIAG_REQ_BYTECODE attribute.
fn encode_request(
    seq: u32,
    msg: SockDiagMessage,
    patch: impl FnOnce(&mut [u8]),
    bytecode: Option<&[u8]>,
) -> Result<Vec<u8>, std::io::Error> {
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | NLM_F_DUMP;
    header.sequence_number = seq;
    let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(msg));
    packet.finalize();
    let mut bytes = vec![0u8; packet.buffer_len()];
    packet.serialize(&mut bytes);
    patch(&mut bytes[parse::NLMSG_HDRLEN..]);
    if let Some(code) = bytecode {
        append_bytecode(&mut bytes, code)?;
    }
    Ok(bytes)
}

/// tcp_info and friends only make sense for TCP (MPTCP sends another struct).
fn wants_internals(table: Table, query: &Query) -> bool {
    query.internals && matches!(table, Table::Inet(InetProto::Tcp, _))
}

/// Whether `datagram` holds the DONE or ERROR that ends dump `seq`.
fn ends_dump(datagram: &[u8], seq: u32) -> bool {
    parse::messages(datagram).any(|m| match m {
        Ok(m) => m.seq == seq && matches!(m.kind, parse::NLMSG_DONE | parse::NLMSG_ERROR),
        Err(_) => true,
    })
}

/// Told the inodes of a datagram's records before they go to the sink one by one, so whatever
/// the sink looks them up in can start loading them all at once (see `OwnerMap::prefetch`).
pub type Prefetch<'a> = Option<&'a dyn Fn(&[u64])>;

/// One dump being decoded: what it answers, where its sockets go, and what it has said so far.
struct Decoder<'a, 's> {
    table: Table,
    query: &'a Query,
    seq: u32,
    /// The nlmsg_type of the records: SOCK_DIAG_BY_FAMILY, or TCPDIAG_GETSOCK for the legacy
    /// request.
    record: u16,
    prefetch: Prefetch<'a>,
    sink: &'a mut (dyn FnMut(&Socket) -> std::io::Result<()> + 's),
    served: Served,
    /// With the legacy request for both TCP tables, how the IPv6 one was served (`served` is
    /// the IPv4 one's).
    served6: Option<Served>,
}

impl Decoder<'_, '_> {
    /// Decodes one datagram of the dump, handing its sockets to the sink.
    fn feed(&mut self, datagram: &[u8]) -> Ended {
        let (table, query, seq, record) = (self.table, self.query, self.seq, self.record);
        let states = query.states;
        let internals = wants_internals(table, query);
        if let Some(prefetch) = self.prefetch {
            let inodes: Vec<u64> = parse::messages(datagram)
                .filter_map(Result::ok)
                .filter(|m| m.seq == seq && m.kind == record)
                .filter_map(|m| parse::record_inode(m.payload, table == Table::Unix))
                .collect();
            prefetch(&inodes);
        }
        for msg in parse::messages(datagram) {
            let msg = match msg {
                Ok(m) => m,
                Err(e) => return Some(Err(SourceError::Netlink { table, what: e.0 })),
            };
            if msg.seq != seq {
                continue; // a reply to some earlier request
            }
            if msg.flags & parse::NLM_F_DUMP_INTR != 0 {
                self.served.interrupted = true;
                if let Some(s6) = &mut self.served6 {
                    s6.interrupted = true; // one walk served both
                }
            }
            match msg.kind {
                parse::NLMSG_DONE => {
                    // The kernel reports "no such protocol" inside DONE.
                    return Some(match parse::error_code(msg.payload) {
                        Some(code) if code < 0 => Err(classify(table, code.saturating_neg())),
                        _ => Ok(()),
                    });
                }
                parse::NLMSG_ERROR => {
                    return Some(match parse::error_code(msg.payload) {
                        Some(0) => Ok(()),
                        Some(code) => Err(classify(table, code.saturating_neg())),
                        None => Err(SourceError::Netlink {
                            table,
                            what: "truncated NLMSG_ERROR".into(),
                        }),
                    });
                }
                kind if kind == record => {
                    let rec = match table {
                        Table::Inet(proto, _) => {
                            parse::inet(msg.payload, proto, internals, query.labels).map(|mut s| {
                                if let crate::model::Detail::Inet(i) = &mut s.detail {
                                    i.kernel_filtered = query.bytecode.is_some();
                                }
                                s
                            })
                        }
                        Table::Unix => parse::unix(msg.payload),
                    };
                    match rec {
                        // The kernel filtered by state already; the mask is re-checked
                        // because unix dumps treat it loosely on some kernels, and because
                        // listeners are asked for their queues even when not wanted.
                        Ok(sock) => {
                            if states & sock.state.mask_bit() != 0 {
                                if let Err(e) = (self.sink)(&sock) {
                                    return Some(Err(SourceError::Output(e)));
                                }
                            }
                            if table == Table::Unix && sock.state == State::Listen {
                                for e in parse::unix_embryos(&sock, msg.payload) {
                                    if states & e.state.mask_bit() == 0 {
                                        continue;
                                    }
                                    if let Err(e) = (self.sink)(&e) {
                                        return Some(Err(SourceError::Output(e)));
                                    }
                                }
                            }
                        }
                        Err(e) => match &mut self.served6 {
                            // The legacy request's records are of both families.
                            Some(s6) if msg.payload.first() == Some(&(libc::AF_INET6 as u8)) => {
                                s6.skipped.push(format!("netlink {} record: {e}", s6.table))
                            }
                            _ => self
                                .served
                                .skipped
                                .push(format!("netlink {table} record: {e}")),
                        },
                    }
                }
                _ => {}
            }
        }
        None
    }
}
