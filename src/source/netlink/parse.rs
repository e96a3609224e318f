//! Pure decoding of sock_diag dump datagrams: `&[u8]` in, typed records out.
//!
//! Headers and attributes are walked by hand rather than through
//! `netlink_packet_sock_diag`'s `deserialize`, which drops a whole message when one attribute is
//! malformed and misreads some unix attributes (see shared notes). Every length is checked; a
//! malformed message becomes an error for that message only.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::model::{
    Detail, Family, InetInfo, InetProto, Socket, State, Timer, TimerKind, UnixInfo, UnixName,
    UnixType,
};

pub const NLMSG_HDRLEN: usize = 16;
pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;
pub const SOCK_DIAG_BY_FAMILY: u16 = 20;
/// The legacy TCP request, `TCPDIAG_GETSOCK`: its records come back with this type too (an
/// `inet_diag_msg`, as for [`SOCK_DIAG_BY_FAMILY`]), for IPv4 and IPv6 sockets in one dump.
pub const TCPDIAG_GETSOCK: u16 = 18;
/// Set by the kernel when the table changed during the dump (the dump may miss or repeat rows).
pub const NLM_F_DUMP_INTR: u16 = 0x10;

/// `sizeof(struct inet_diag_msg)`.
pub const INET_DIAG_MSG_LEN: usize = 72;
/// `sizeof(struct unix_diag_msg)`.
pub const UNIX_DIAG_MSG_LEN: usize = 16;

const UNIX_DIAG_NAME: u16 = 0;
const UNIX_DIAG_PEER: u16 = 2;
const UNIX_DIAG_ICONS: u16 = 3;
const UNIX_DIAG_RQLEN: u16 = 4;
const UNIX_DIAG_UID: u16 = 7;

/// Why a datagram or a message in it could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(what: impl Into<String>) -> Result<T, DecodeError> {
    Err(DecodeError(what.into()))
}

/// One netlink message inside a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    pub kind: u16,
    pub flags: u16,
    pub seq: u32,
    pub payload: &'a [u8],
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// Walks the netlink messages of one datagram. A header whose length runs past the datagram
/// ends the walk with an error: nothing after it can be trusted.
pub fn messages(buf: &[u8]) -> impl Iterator<Item = Result<Message<'_>, DecodeError>> {
    let mut rest = buf;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let parsed = (|| {
            let len = u32_at(rest, 0).ok_or(())? as usize;
            let kind = u16_at(rest, 4).ok_or(())?;
            let flags = u16_at(rest, 6).ok_or(())?;
            let seq = u32_at(rest, 8).ok_or(())?;
            if len < NLMSG_HDRLEN || len > rest.len() {
                return Err(());
            }
            Ok((
                len,
                Message {
                    kind,
                    flags,
                    seq,
                    payload: &rest[NLMSG_HDRLEN..len],
                },
            ))
        })();
        match parsed {
            Ok((len, msg)) => {
                rest = rest.get(align4(len)..).unwrap_or_default();
                Some(Ok(msg))
            }
            Err(()) => {
                let n = rest.len();
                rest = &[];
                Some(err(format!(
                    "netlink header overruns the datagram ({n} bytes left)"
                )))
            }
        }
    })
}

/// The error code carried by NLMSG_ERROR or NLMSG_DONE (negative errno, or 0).
/// The socket inode of a `SOCK_DIAG_BY_FAMILY` record, read without decoding the rest
/// (`idiag_inode` of an inet record, `udiag_ino` of a unix one).
pub fn record_inode(payload: &[u8], unix: bool) -> Option<u64> {
    u32_at(payload, if unix { 4 } else { 68 }).map(u64::from)
}

pub fn error_code(payload: &[u8]) -> Option<i32> {
    u32_at(payload, 0).map(|v| v as i32)
}

/// Walks the `rtattr`s of a message body: `(type, value)` pairs. Stops quietly at the first
/// attribute whose length does not fit (what came before it is still good).
pub fn attributes(mut b: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        let len = usize::from(u16_at(b, 0)?);
        let kind = u16_at(b, 2)? & 0x3fff; // strip NLA_F_NESTED / NLA_F_NET_BYTEORDER
        if len < 4 || len > b.len() {
            b = &[];
            return None;
        }
        let value = &b[4..len];
        b = b.get(align4(len)..).unwrap_or_default();
        Some((kind, value))
    })
}

fn ip(bytes: &[u8], family: Family) -> Option<IpAddr> {
    Some(match family {
        Family::V4 => IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(bytes.get(..4)?).ok()?)),
        Family::V6 => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(bytes.get(..16)?).ok()?)),
    })
}

/// Decodes the payload of one SOCK_DIAG_BY_FAMILY message for an inet table; with
/// `internals`, also the extension attributes (tcp_info, skmeminfo, ...); with `labels`, the
/// mark and cgroup id attributes a filter tests.
pub fn inet(
    payload: &[u8],
    proto: InetProto,
    internals: bool,
    labels: bool,
) -> Result<Socket, DecodeError> {
    if payload.len() < INET_DIAG_MSG_LEN {
        return err(format!(
            "inet_diag_msg is {} bytes, expected at least {INET_DIAG_MSG_LEN}",
            payload.len()
        ));
    }
    let family = match payload[0] {
        2 => Family::V4,
        10 => Family::V6,
        f => return err(format!("inet_diag_msg for unknown family {f}")),
    };
    let state = State::from_u8(payload[1]);
    let timer_kind = TimerKind::from_u8(payload[2]);
    let retrans = u32::from(payload[3]);
    let sport = u16::from_be_bytes([payload[4], payload[5]]);
    let dport = u16::from_be_bytes([payload[6], payload[7]]);
    let (Some(src), Some(dst)) = (ip(&payload[8..24], family), ip(&payload[24..40], family)) else {
        return err("inet_diag_msg address does not fit");
    };
    let field = |at| u32_at(payload, at).unwrap_or_default();
    let expires = field(52);
    let rqueue = field(56);
    let wqueue = field(60);
    let uid = field(64);
    let inode = u64::from(field(68));
    let bound_if = field(40);
    let (mut mark, mut cgroup_id) = (None, None);
    if labels {
        for (kind, value) in attributes(&payload[INET_DIAG_MSG_LEN..]) {
            match kind {
                super::tcpinfo::INET_DIAG_MARK => mark = u32_at(value, 0),
                super::tcpinfo::INET_DIAG_CGROUP_ID => {
                    cgroup_id = value
                        .get(..8)
                        .and_then(|b| <[u8; 8]>::try_from(b).ok())
                        .map(u64::from_ne_bytes)
                }
                _ => {}
            }
        }
    }
    let (retransmits, probes) = match timer_kind {
        TimerKind::On => (retrans, 0),
        TimerKind::Keepalive | TimerKind::Probe => (0, retrans),
        _ => (0, 0),
    };
    let timer = Timer {
        kind: timer_kind,
        remaining_ms: if timer_kind == TimerKind::Off {
            0
        } else {
            u64::from(expires)
        },
        retransmits,
        probes,
    };
    // A TCP listener's wqueue is its accept backlog limit; /proc/net/tcp (and netstat) show 0
    // there, and both sources must give the same record.
    let listener = proto == InetProto::Tcp && state == State::Listen;
    let send_q = if listener { 0 } else { wqueue };
    let backlog = listener.then_some(wqueue);
    Ok(Socket {
        state,
        recv_q: crate::source::kernel_count(rqueue),
        send_q: crate::source::kernel_count(send_q),
        uid: crate::source::kernel_count(uid),
        inode,
        detail: Detail::Inet(InetInfo {
            backlog,
            proto,
            family,
            local: SocketAddr::new(src, sport),
            remote: SocketAddr::new(dst, dport),
            timer: Some(timer),
            bound_if,
            mark,
            cgroup_id,
            kernel_filtered: false,
            internals: internals.then(|| {
                Box::new(super::tcpinfo::extensions(attributes(
                    &payload[INET_DIAG_MSG_LEN..],
                )))
            }),
        }),
    })
}

/// The connections waiting in a unix listener's accept queue ("embryos": connected, not yet
/// accepted), from its UNIX_DIAG_ICONS attribute. The kernel cannot dump an embryo itself (it
/// has no inode yet, and the dump skips inode 0) but lists, per queued connection, the inode
/// of the connecting socket. Each becomes the record /proc/net/unix shows for it: the
/// listener's type and name, inode 0, ESTABLISHED (its sk_state), with the connecting socket
/// as its peer — so both sources list the same sockets.
pub fn unix_embryos(listener: &Socket, payload: &[u8]) -> Vec<Socket> {
    let Some(icons) = payload
        .get(UNIX_DIAG_MSG_LEN..)
        .and_then(|b| attributes(b).find(|(t, _)| *t == UNIX_DIAG_ICONS))
        .map(|(_, v)| v)
    else {
        return Vec::new();
    };
    let Detail::Unix(u) = &listener.detail else {
        return Vec::new();
    };
    icons
        .chunks_exact(4)
        .filter_map(|c| c.try_into().ok().map(u32::from_ne_bytes))
        .map(|peer| Socket {
            state: State::Established,
            recv_q: None,
            send_q: None,
            uid: None,
            inode: 0,
            detail: Detail::Unix(UnixInfo {
                kind: u.kind,
                name: u.name.clone(),
                peer_inode: (peer != 0).then_some(u64::from(peer)),
                refcnt: None,
            }),
        })
        .collect()
}

/// Decodes the payload of one SOCK_DIAG_BY_FAMILY message for the unix table.
pub fn unix(payload: &[u8]) -> Result<Socket, DecodeError> {
    if payload.len() < UNIX_DIAG_MSG_LEN {
        return err(format!(
            "unix_diag_msg is {} bytes, expected at least {UNIX_DIAG_MSG_LEN}",
            payload.len()
        ));
    }
    if payload[0] != 1 {
        return err(format!("unix_diag_msg for family {}", payload[0]));
    }
    let kind = UnixType::from_u8(payload[1]);
    let state = State::from_u8(payload[2]);
    let inode = u64::from(u32_at(payload, 4).unwrap_or_default());
    let mut sock = Socket {
        state,
        recv_q: None,
        send_q: None,
        uid: None,
        inode,
        detail: Detail::Unix(UnixInfo {
            kind,
            name: None,
            peer_inode: None,
            refcnt: None,
        }),
    };
    let mut name = None;
    let mut peer = None;
    for (t, v) in attributes(&payload[UNIX_DIAG_MSG_LEN..]) {
        match t {
            UNIX_DIAG_NAME => name = unix_name(v),
            UNIX_DIAG_PEER => peer = u32_at(v, 0).map(u64::from).filter(|p| *p != 0),
            UNIX_DIAG_RQLEN => {
                sock.recv_q = u32_at(v, 0).and_then(crate::source::kernel_count);
                sock.send_q = u32_at(v, 4).and_then(crate::source::kernel_count);
            }
            UNIX_DIAG_UID => sock.uid = u32_at(v, 0).and_then(crate::source::kernel_count),
            _ => {}
        }
    }
    if let Detail::Unix(u) = &mut sock.detail {
        u.name = name;
        u.peer_inode = peer;
    }
    Ok(sock)
}

fn unix_name(v: &[u8]) -> Option<UnixName> {
    match v.split_first() {
        None => None,
        Some((0, abs)) => Some(UnixName::Abstract(abs.to_vec())),
        Some(_) => {
            // A path name may arrive with its terminating NUL.
            let end = v.iter().position(|c| *c == 0).unwrap_or(v.len());
            Some(UnixName::Path(v[..end].to_vec()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An nlmsghdr for a payload of `len` bytes.
    fn header(len: usize, kind: u16, flags: u16, seq: u32) -> Vec<u8> {
        let mut h = Vec::new();
        h.extend_from_slice(&((NLMSG_HDRLEN + len) as u32).to_ne_bytes()); // nlmsg_len
        h.extend_from_slice(&kind.to_ne_bytes()); // nlmsg_type
        h.extend_from_slice(&flags.to_ne_bytes()); // nlmsg_flags
        h.extend_from_slice(&seq.to_ne_bytes()); // nlmsg_seq
        h.extend_from_slice(&0u32.to_ne_bytes()); // nlmsg_pid
        h
    }

    /// inet_diag_msg for 127.0.0.1:8080 -> 127.0.0.1:51000, ESTABLISHED, keepalive timer.
    fn inet_v4_established() -> Vec<u8> {
        let mut m = vec![
            2, // idiag_family = AF_INET
            1, // idiag_state = TCP_ESTABLISHED
            2, // idiag_timer = keepalive
            3, // idiag_retrans (keepalive probes here)
        ];
        m.extend_from_slice(&8080u16.to_be_bytes()); // id.idiag_sport
        m.extend_from_slice(&51000u16.to_be_bytes()); // id.idiag_dport
        m.extend_from_slice(&[127, 0, 0, 1]); // id.idiag_src[0]
        m.extend_from_slice(&[0; 12]); //        id.idiag_src[1..4]
        m.extend_from_slice(&[127, 0, 0, 1]); // id.idiag_dst[0]
        m.extend_from_slice(&[0; 12]); //        id.idiag_dst[1..4]
        m.extend_from_slice(&0u32.to_ne_bytes()); // id.idiag_if
        m.extend_from_slice(&[0xaa; 8]); // id.idiag_cookie
        m.extend_from_slice(&7_199_000u32.to_ne_bytes()); // idiag_expires (ms)
        m.extend_from_slice(&5u32.to_ne_bytes()); // idiag_rqueue
        m.extend_from_slice(&9u32.to_ne_bytes()); // idiag_wqueue
        m.extend_from_slice(&1000u32.to_ne_bytes()); // idiag_uid
        m.extend_from_slice(&424242u32.to_ne_bytes()); // idiag_inode
        assert_eq!(m.len(), INET_DIAG_MSG_LEN);
        m
    }

    #[test]
    fn inet_message_decodes_every_field() {
        let s = inet(&inet_v4_established(), InetProto::Tcp, false, false).expect("decodes");
        assert_eq!(s.state, State::Established);
        assert_eq!(
            (s.recv_q, s.send_q, s.uid, s.inode),
            (Some(5), Some(9), Some(1000), 424242)
        );
        let i = s.inet().expect("inet");
        assert_eq!(i.local, "127.0.0.1:8080".parse().expect("addr"));
        assert_eq!(i.remote, "127.0.0.1:51000".parse().expect("addr"));
        let t = i.timer.expect("timer");
        assert_eq!(
            (t.kind, t.remaining_ms, t.probes),
            (TimerKind::Keepalive, 7_199_000, 3)
        );
    }

    #[test]
    fn tcp_listener_send_q_is_zero_like_proc() {
        let mut m = inet_v4_established();
        m[1] = 10; // TCP_LISTEN; wqueue (9) is the backlog limit
        let s = inet(&m, InetProto::Tcp, false, false).expect("decodes");
        assert_eq!(s.send_q, Some(0));
        assert_eq!(s.inet().and_then(|i| i.backlog), Some(9));
    }

    #[test]
    fn short_inet_message_is_an_error() {
        let m = inet_v4_established();
        for n in [0, 1, 40, INET_DIAG_MSG_LEN - 1] {
            assert!(inet(&m[..n], InetProto::Tcp, false, false).is_err());
        }
    }

    #[test]
    fn datagram_walk_reads_records_and_done_code() {
        let rec = inet_v4_established();
        let mut dgram = header(rec.len(), SOCK_DIAG_BY_FAMILY, 2, 7);
        dgram.extend_from_slice(&rec);
        dgram.extend(header(4, NLMSG_DONE, 2, 7));
        dgram.extend_from_slice(&(-libc::ENOENT).to_ne_bytes()); // DONE carries -ENOENT
        let msgs: Vec<_> = messages(&dgram).collect::<Result<_, _>>().expect("walks");
        assert_eq!(msgs.len(), 2);
        assert_eq!((msgs[0].kind, msgs[0].seq), (SOCK_DIAG_BY_FAMILY, 7));
        assert_eq!(msgs[1].kind, NLMSG_DONE);
        assert_eq!(error_code(msgs[1].payload), Some(-libc::ENOENT));
    }

    #[test]
    fn overlong_header_is_an_error_not_a_panic() {
        let mut dgram = header(1000, SOCK_DIAG_BY_FAMILY, 0, 1);
        dgram.extend_from_slice(&[0; 20]);
        let got: Vec<_> = messages(&dgram).collect();
        assert_eq!(got.len(), 1);
        assert!(got[0].is_err());
    }

    /// unix_diag_msg + attributes for an abstract stream socket "@demo\0x" with a peer.
    #[test]
    fn unix_message_with_attributes() {
        let mut m = vec![
            1, // udiag_family = AF_UNIX
            1, // udiag_type = SOCK_STREAM
            1, // udiag_state = TCP_ESTABLISHED
            0, // pad
        ];
        m.extend_from_slice(&777u32.to_ne_bytes()); // udiag_ino
        m.extend_from_slice(&[0; 8]); // udiag_cookie
        let name = b"\0demo\0x";
        m.extend_from_slice(&((4 + name.len()) as u16).to_ne_bytes()); // rta_len
        m.extend_from_slice(&UNIX_DIAG_NAME.to_ne_bytes()); // rta_type
        m.extend_from_slice(name);
        m.push(0); // pad to 4
        m.extend_from_slice(&8u16.to_ne_bytes());
        m.extend_from_slice(&UNIX_DIAG_PEER.to_ne_bytes());
        m.extend_from_slice(&778u32.to_ne_bytes()); // peer inode
        m.extend_from_slice(&12u16.to_ne_bytes());
        m.extend_from_slice(&UNIX_DIAG_RQLEN.to_ne_bytes());
        m.extend_from_slice(&3u32.to_ne_bytes()); // rqueue
        m.extend_from_slice(&4u32.to_ne_bytes()); // wqueue
        m.extend_from_slice(&8u16.to_ne_bytes());
        m.extend_from_slice(&UNIX_DIAG_UID.to_ne_bytes());
        m.extend_from_slice(&1000u32.to_ne_bytes());
        let s = unix(&m).expect("decodes");
        let u = s.unix().expect("unix");
        assert_eq!(u.name, Some(UnixName::Abstract(b"demo\0x".to_vec())));
        assert_eq!(u.peer_inode, Some(778));
        assert_eq!(
            (s.recv_q, s.send_q, s.uid, s.inode),
            (Some(3), Some(4), Some(1000), 777)
        );
        assert_eq!(u.kind, UnixType::Stream);

        // A truncated attribute ends the walk without losing the record.
        let cut = m.len() - 2;
        let s = unix(&m[..cut]).expect("still decodes");
        assert_eq!(s.unix().and_then(|u| u.peer_inode), Some(778));
        assert_eq!(s.uid, None);
    }

    #[test]
    fn path_names_lose_their_terminating_nul() {
        assert_eq!(
            unix_name(b"/run/x.sock\0"),
            Some(UnixName::Path(b"/run/x.sock".to_vec()))
        );
        assert_eq!(unix_name(b""), None);
    }
}
