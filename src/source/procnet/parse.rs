//! Pure parsers for the /proc/net socket tables: bytes of one line in, a [`Socket`] out.
//!
//! Kept free of I/O so they can be tested on captured text and fuzzed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::model::{
    Detail, Family, InetInfo, InetProto, Socket, State, Timer, TimerKind, UnixInfo, UnixName,
    UnixType,
};

/// Why one line of a /proc/net table could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError(pub &'static str);

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

type Result<T> = std::result::Result<T, LineError>;

fn field<'a>(it: &mut impl Iterator<Item = &'a [u8]>, what: &'static str) -> Result<&'a [u8]> {
    it.next().ok_or(LineError(what))
}

fn hex_u32(b: &[u8], what: &'static str) -> Result<u32> {
    let s = std::str::from_utf8(b).map_err(|_| LineError(what))?;
    u32::from_str_radix(s, 16).map_err(|_| LineError(what))
}

fn hex_u64(b: &[u8], what: &'static str) -> Result<u64> {
    let s = std::str::from_utf8(b).map_err(|_| LineError(what))?;
    u64::from_str_radix(s, 16).map_err(|_| LineError(what))
}

fn dec_u64(b: &[u8], what: &'static str) -> Result<u64> {
    let s = std::str::from_utf8(b).map_err(|_| LineError(what))?;
    s.parse().map_err(|_| LineError(what))
}

fn dec_u32(b: &[u8], what: &'static str) -> Result<u32> {
    let s = std::str::from_utf8(b).map_err(|_| LineError(what))?;
    s.parse().map_err(|_| LineError(what))
}

fn split_pair<'a>(b: &'a [u8], what: &'static str) -> Result<(&'a [u8], &'a [u8])> {
    let i = b.iter().position(|&c| c == b':').ok_or(LineError(what))?;
    Ok((&b[..i], &b[i + 1..]))
}

/// Parses `0100007F:1F90` (IPv4) or `00000000000000000000000001000000:1F90` (IPv6).
///
/// The kernel prints each 32-bit word of the address in host byte order with `%08X`, so the
/// word's native-endian bytes are the address bytes in network order.
fn endpoint(b: &[u8], family: Family) -> Result<SocketAddr> {
    let (addr, port) = split_pair(b, "address without ':'")?;
    let port = hex_u32(port, "bad port")?;
    let port = u16::try_from(port).map_err(|_| LineError("port out of range"))?;
    let ip = match family {
        Family::V4 => {
            if addr.len() != 8 {
                return Err(LineError("IPv4 address is not 8 hex digits"));
            }
            IpAddr::V4(Ipv4Addr::from(
                hex_u32(addr, "bad IPv4 address")?.to_ne_bytes(),
            ))
        }
        Family::V6 => {
            if addr.len() != 32 {
                return Err(LineError("IPv6 address is not 32 hex digits"));
            }
            let mut bytes = [0u8; 16];
            for (i, chunk) in addr.chunks(8).enumerate() {
                let word = hex_u32(chunk, "bad IPv6 address")?;
                bytes[i * 4..i * 4 + 4].copy_from_slice(&word.to_ne_bytes());
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
    };
    Ok(SocketAddr::new(ip, port))
}

/// Parses one data line of /proc/net/{tcp,tcp6,udp,udp6,udplite,udplite6,raw,raw6}.
///
/// `ticks_per_second` converts the timer column (clock ticks) to milliseconds.
pub fn inet_line(
    line: &[u8],
    proto: InetProto,
    family: Family,
    ticks_per_second: u64,
) -> Result<Socket> {
    let mut it = line
        .split(|c| c.is_ascii_whitespace())
        .filter(|f| !f.is_empty());
    let _slot = field(&mut it, "missing slot")?;
    let local = endpoint(field(&mut it, "missing local address")?, family)?;
    let remote = endpoint(field(&mut it, "missing remote address")?, family)?;
    let st = hex_u32(field(&mut it, "missing state")?, "bad state")?;
    let state = State::from_u8(u8::try_from(st).map_err(|_| LineError("state out of range"))?);
    let (tx, rx) = split_pair(field(&mut it, "missing queues")?, "bad queues")?;
    let (tx, rx) = (hex_u32(tx, "bad tx_queue")?, hex_u32(rx, "bad rx_queue")?);
    let (tr, when) = split_pair(field(&mut it, "missing timer")?, "bad timer")?;
    let tr = hex_u32(tr, "bad timer kind")?;
    let when = hex_u64(when, "bad timer expiry")?;
    let retrans = hex_u32(field(&mut it, "missing retransmits")?, "bad retransmits")?;
    let uid = dec_u32(field(&mut it, "missing uid")?, "bad uid")?;
    let probes = dec_u32(field(&mut it, "missing timeout")?, "bad timeout")?;
    let inode = dec_u64(field(&mut it, "missing inode")?, "bad inode")?;

    let kind = TimerKind::from_u8(u8::try_from(tr).map_err(|_| LineError("bad timer kind"))?);
    let remaining_ms = when.saturating_mul(1000) / ticks_per_second.max(1);
    let timer = Timer {
        kind,
        remaining_ms: if kind == TimerKind::Off {
            0
        } else {
            remaining_ms
        },
        retransmits: retrans,
        probes,
    };
    Ok(Socket {
        state,
        recv_q: crate::source::kernel_count(rx),
        send_q: crate::source::kernel_count(tx),
        uid: crate::source::kernel_count(uid),
        inode,
        detail: Detail::Inet(InetInfo {
            backlog: None,
            proto,
            family,
            local,
            remote,
            timer: Some(timer),
            bound_if: 0,
            mark: None,
            cgroup_id: None,
            kernel_filtered: false,
            internals: None,
        }),
    })
}

/// `__SO_ACCEPTCON`, the flag /proc/net/unix sets on listening sockets.
const SO_ACCEPTCON: u32 = 1 << 16;

/// Parses one data line of /proc/net/unix:
/// `Num RefCount Protocol Flags Type St Inode [Path]`.
///
/// The path is everything after the inode and one space, so a path with spaces is kept whole.
/// A path with a newline spans two lines of the file; the caller rejoins them (see
/// [`unix_path_mut`]).
pub fn unix_line(line: &[u8]) -> Result<Socket> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let mut rest = line;
    let mut next = |what: &'static str| -> Result<&[u8]> {
        let start = rest
            .iter()
            .position(|c| *c != b' ')
            .ok_or(LineError(what))?;
        let r = &rest[start..];
        let end = r.iter().position(|c| *c == b' ').unwrap_or(r.len());
        let (f, after) = r.split_at(end);
        rest = after;
        Ok(f)
    };
    let num = next("missing slot")?;
    if num.last() != Some(&b':') {
        return Err(LineError("slot without ':'"));
    }
    let refcnt = hex_u32(next("missing refcount")?, "bad refcount")?;
    let _protocol = next("missing protocol")?;
    let flags = hex_u32(next("missing flags")?, "bad flags")?;
    let kind = hex_u32(next("missing type")?, "bad type")?;
    let st = hex_u32(next("missing state")?, "bad state")?;
    let inode = dec_u64(next("missing inode")?, "bad inode")?;
    let name = match rest.strip_prefix(b" ") {
        None | Some(b"") => None,
        Some(p) => Some(match p.strip_prefix(b"@") {
            // The kernel prints abstract names with '@' for the leading NUL (and for any NUL
            // inside): the inner NULs cannot be told apart from a real '@' here.
            Some(a) => UnixName::Abstract(a.to_vec()),
            None => UnixName::Path(p.to_vec()),
        }),
    };
    // The kernel derives St from sk_state (unix_seq_show): CONNECTED/CONNECTING mean
    // ESTABLISHED (CONNECTING: an embryo waiting for accept(), with no struct socket yet),
    // UNCONNECTED/DISCONNECTING mean anything else. Map back to the sk_state netlink reports.
    let state = if flags & SO_ACCEPTCON != 0 {
        State::Listen
    } else {
        match st {
            2 | 3 => State::Established,
            1 | 4 => State::Close,
            _ => State::Unknown(u8::try_from(st).unwrap_or(u8::MAX)),
        }
    };
    Ok(Socket {
        state,
        recv_q: None,
        send_q: None,
        uid: None,
        inode,
        detail: Detail::Unix(UnixInfo {
            kind: UnixType::from_u8(u8::try_from(kind).map_err(|_| LineError("bad type"))?),
            name,
            peer_inode: None,
            refcnt: Some(refcnt),
        }),
    })
}

/// The path bytes of a unix socket record bound to a filesystem path, for joining a
/// continuation line (a path with a newline spans two lines of /proc/net/unix).
pub fn unix_path_mut(sock: &mut Socket) -> Option<&mut Vec<u8>> {
    match &mut sock.detail {
        Detail::Unix(UnixInfo {
            name: Some(UnixName::Path(p)) | Some(UnixName::Abstract(p)),
            ..
        }) => Some(p),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured on Linux 6.18 (x86_64): a listener on 127.0.0.1:55153 and one end of its
    // connection, from /proc/net/tcp.
    const TCP_LINUX_6_18: &[u8] = b"   \
   0: 0100007F:D771 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5427 1 0000000000000000 100 0 0 10 0
   2: 0100007F:D771 0100007F:882A 01 00000000:00000003 02:000AFC80 00000000  1000        0 5429 1 0000000000000000 20 4 30 10 -1
";

    fn lines(text: &[u8]) -> Vec<&[u8]> {
        text.split(|c| *c == b'\n')
            .map(|l| l.trim_ascii())
            .filter(|l| !l.is_empty())
            .collect()
    }

    #[test]
    fn tcp_listener_and_established_linux_6_18() {
        let l = lines(TCP_LINUX_6_18);
        let s = inet_line(l[0], InetProto::Tcp, Family::V4, 100).expect("listener parses");
        assert_eq!(s.state, State::Listen);
        assert_eq!(s.inode, 5427);
        let i = s.inet().expect("inet");
        assert_eq!(i.local, "127.0.0.1:55153".parse().expect("addr"));
        assert_eq!(i.remote, "0.0.0.0:0".parse().expect("addr"));

        let s = inet_line(l[1], InetProto::Tcp, Family::V4, 100).expect("established parses");
        assert_eq!(s.state, State::Established);
        assert_eq!((s.recv_q, s.send_q, s.uid), (Some(3), Some(0), Some(1000)));
        let t = s.inet().and_then(|i| i.timer).expect("timer");
        assert_eq!(t.kind, TimerKind::Keepalive);
        // 0xAFC80 ticks at 100 Hz = 7200 s.
        assert_eq!(t.remaining_ms, 7_200_000);
        assert_eq!(s.inet().map(|i| i.remote.port()), Some(34858));
    }

    // /proc/net/tcp6 line for a listener on [::1]:8080 and a v4-mapped peer, Linux 6.18.
    #[test]
    fn tcp6_addresses_keep_network_order() {
        let line = b"0: 00000000000000000000000001000000:1F90 0000000000000000FFFF00000100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 777 1 0000000000000000 20 4 30 10 -1";
        let s = inet_line(line, InetProto::Tcp, Family::V6, 100).expect("parses");
        let i = s.inet().expect("inet");
        assert_eq!(i.local, "[::1]:8080".parse().expect("addr"));
        assert_eq!(i.remote, "[::ffff:127.0.0.1]:54321".parse().expect("addr"));
    }

    #[test]
    fn truncated_and_garbage_lines_are_errors_not_panics() {
        for bad in [
            &b""[..],
            b"0:",
            b"0: 0100007F:D771",
            b"0: 0100007F 00000000:0000 0A",
            b"0: ZZ00007F:D771 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1",
            b"0: 0100007F:FFFFF 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1",
            b"0: 0100007F:D771 00000000:0000 1FF 00000000:00000000 00:00000000 00000000 0 0 1",
        ] {
            assert!(
                inet_line(bad, InetProto::Tcp, Family::V4, 100).is_err(),
                "{bad:?}"
            );
        }
    }

    // /proc/net/unix lines captured on Linux 6.18: a listener whose path holds a space, a
    // connected stream socket with no name, and an abstract datagram socket.
    const UNIX_LINUX_6_18: &[u8] = b"\
0000000000000000: 00000002 00000000 00010000 0001 01  5432 /tmp/t s.sock
0000000000000000: 00000003 00000000 00000000 0001 03  1677
0000000000000000: 00000002 00000000 00000000 0002 01  9001 @demo@x
";

    #[test]
    fn unix_paths_with_spaces_stay_whole_linux_6_18() {
        let l: Vec<&[u8]> = UNIX_LINUX_6_18.split(|c| *c == b'\n').collect();
        let s = unix_line(l[0]).expect("listener");
        assert_eq!(s.state, State::Listen);
        let u = s.unix().expect("unix");
        assert_eq!(u.name, Some(UnixName::Path(b"/tmp/t s.sock".to_vec())));
        assert_eq!(
            (u.kind, u.refcnt, s.inode),
            (UnixType::Stream, Some(2), 5432)
        );

        let s = unix_line(l[1]).expect("connected");
        assert_eq!(s.state, State::Established);
        assert_eq!(s.unix().and_then(|u| u.name.clone()), None);

        let s = unix_line(l[2]).expect("abstract");
        assert_eq!(s.state, State::Close);
        let u = s.unix().expect("unix");
        assert_eq!(u.kind, UnixType::Dgram);
        assert_eq!(u.name, Some(UnixName::Abstract(b"demo@x".to_vec())));
    }

    #[test]
    fn malformed_unix_lines_are_errors() {
        for bad in [
            &b""[..],
            b"0000: 2",
            b"x 00000002 0 0 1 1 5",
            b"0: 2 0 0 1 1 notanumber",
        ] {
            assert!(unix_line(bad).is_err(), "{bad:?}");
        }
    }
}
