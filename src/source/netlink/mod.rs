//! Netlink sock_diag: the primary source. One dump request per table; datagrams are decoded as
//! they arrive and each record goes straight to the sink, so nothing is held for the whole table.
//!
//! Requests are built with `netlink_packet_sock_diag`; responses are decoded by [`parse`]
//! (see there for why). Pitfalls handled here, each seen on a real kernel: errors that arrive
//! inside NLMSG_DONE, datagrams sized to the largest receive buffer seen (we read with
//! MSG_TRUNC into a 64 KiB buffer and fail loudly if one is cut), and stray sequence numbers.

pub mod parse;
pub mod tcpinfo;

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_packet_sock_diag::{
    inet::{ExtensionFlags, InetRequest, SocketId, StateFlags as InetStates},
    unix::{ShowFlags, StateFlags as UnixStates, UnixRequest},
    SockDiagMessage,
};
use netlink_sys::{protocols::NETLINK_SOCK_DIAG, Socket as NlSocket};

use super::{Query, Served, SourceError, SourceKind};
use crate::model::{Family, InetProto, Socket, Table};

/// `UDIAG_SHOW_UID`, missing from the crate's `ShowFlags`.
const UDIAG_SHOW_UID: u32 = 0x40;
const RECV_BUF: usize = 64 * 1024;

/// A sock_diag conversation. One per listing; a fresh one is opened after any error.
pub struct Netlink {
    sock: NlSocket,
    seq: u32,
    buf: Vec<u8>,
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
        })
    }

    /// Sends a dump request; `bytecode`, when given, follows the request as an
    /// INET_DIAG_REQ_BYTECODE attribute.
    fn request(
        &mut self,
        msg: SockDiagMessage,
        patch: impl FnOnce(&mut [u8]),
        bytecode: Option<&[u8]>,
    ) -> Result<u32, std::io::Error> {
        self.seq = self.seq.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | NLM_F_DUMP;
        header.sequence_number = self.seq;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(msg));
        packet.finalize();
        let mut bytes = vec![0u8; packet.buffer_len()];
        packet.serialize(&mut bytes);
        patch(&mut bytes[parse::NLMSG_HDRLEN..]);
        if let Some(code) = bytecode {
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
        }
        self.sock.send(&bytes, 0)?;
        Ok(self.seq)
    }

    /// Dumps `table`, calling `sink` for every socket whose state bit is in `query.states`.
    pub fn dump(
        &mut self,
        table: Table,
        query: &Query,
        sink: &mut dyn FnMut(&Socket) -> std::io::Result<()>,
    ) -> Result<Served, SourceError> {
        let states = query.states;
        // tcp_info and friends only make sense for TCP (MPTCP sends another struct).
        let internals = query.internals && matches!(table, Table::Inet(InetProto::Tcp, _));
        let send_err = |e: std::io::Error| classify(table, io_errno(&e));
        let seq = match table {
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
                if internals {
                    req.extensions = ExtensionFlags::INFO
                        | ExtensionFlags::CONG
                        | ExtensionFlags::SKMEMINFO
                        | ExtensionFlags::SHUTDOWN;
                }
                self.request(
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
                let req = UnixRequest {
                    state_flags: UnixStates::from_bits_retain(states),
                    inode: 0,
                    show_flags: ShowFlags::from_bits_retain(
                        (ShowFlags::NAME | ShowFlags::PEER | ShowFlags::RQLEN).bits()
                            | UDIAG_SHOW_UID,
                    ),
                    cookie: [0xff; 8],
                };
                self.request(SockDiagMessage::UnixRequest(req), |_| {}, None)
            }
        }
        .map_err(send_err)?;

        let mut served = Served::new(table, SourceKind::Netlink);
        loop {
            let n = self
                .sock
                .recv(&mut &mut self.buf[..], libc::MSG_TRUNC)
                .map_err(|e| match io_errno(&e) {
                    libc::ENOBUFS => SourceError::Netlink {
                        table,
                        what: "the kernel dropped dump data (ENOBUFS)".into(),
                    },
                    errno => classify(table, errno),
                })?;
            if n > self.buf.len() {
                return Err(SourceError::Netlink {
                    table,
                    what: format!(
                        "a {n}-byte datagram did not fit the {}-byte buffer",
                        self.buf.len()
                    ),
                });
            }
            if n == 0 {
                return Err(SourceError::Netlink {
                    table,
                    what: "netlink socket closed".into(),
                });
            }
            for msg in parse::messages(&self.buf[..n]) {
                let msg = msg.map_err(|e| SourceError::Netlink { table, what: e.0 })?;
                if msg.seq != seq {
                    continue; // a reply to some earlier request
                }
                if msg.flags & parse::NLM_F_DUMP_INTR != 0 {
                    served.interrupted = true;
                }
                match msg.kind {
                    parse::NLMSG_DONE => {
                        // The kernel reports "no such protocol" inside DONE.
                        return match parse::error_code(msg.payload) {
                            Some(code) if code < 0 => Err(classify(table, code.saturating_neg())),
                            _ => Ok(served),
                        };
                    }
                    parse::NLMSG_ERROR => {
                        return match parse::error_code(msg.payload) {
                            Some(0) => Ok(served),
                            Some(code) => Err(classify(table, code.saturating_neg())),
                            None => Err(SourceError::Netlink {
                                table,
                                what: "truncated NLMSG_ERROR".into(),
                            }),
                        };
                    }
                    parse::SOCK_DIAG_BY_FAMILY => {
                        let rec = match table {
                            Table::Inet(proto, _) => parse::inet(msg.payload, proto, internals),
                            Table::Unix => parse::unix(msg.payload),
                        };
                        match rec {
                            // The kernel filtered by state already; the mask is re-checked
                            // because unix dumps treat it loosely on some kernels.
                            Ok(sock) if states & sock.state.mask_bit() != 0 => {
                                sink(&sock).map_err(SourceError::Output)?
                            }
                            Ok(_) => {}
                            Err(e) => served.skipped.push(format!("netlink {table} record: {e}")),
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}
