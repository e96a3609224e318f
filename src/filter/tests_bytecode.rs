//! The INET_DIAG bytecode a filter compiles to must select, in the kernel, exactly the sockets
//! `Filter::matches` selects in user space. Checked on real loopback sockets (IPv4, IPv6 and an
//! IPv6 listener on a v4-mapped address) with a hand-built sock_diag request, so the test does
//! not depend on how the listing source is wired.

use std::collections::BTreeSet;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use crate::filter::bytecode::INET_DIAG_REQ_BYTECODE;
use crate::filter::{Filter, NoLookup};
use crate::model::{Family, InetProto, Socket, Table};
use crate::source::{Query, SourceChoice, Sources};

type Key = (u8, SocketAddr, SocketAddr);

/// A listener, a client connected to it, and the accepted server side.
struct Trio {
    _sockets: (TcpListener, TcpStream, TcpStream),
    port: u16,
    client_port: u16,
}

impl Trio {
    fn open(listen_on: &str, connect_to: &str) -> Trio {
        let l = TcpListener::bind(listen_on).expect("bind");
        let port = l.local_addr().expect("addr").port();
        let target: IpAddr = connect_to.parse().expect("ip");
        let c = TcpStream::connect((target, port)).expect("connect");
        let client_port = c.local_addr().expect("addr").port();
        let (s, _) = l.accept().expect("accept");
        Trio {
            _sockets: (l, c, s),
            port,
            client_port,
        }
    }
}

const SOCK_DIAG_BY_FAMILY: u16 = 20;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;

/// One TCP dump of `family` over a raw NETLINK_SOCK_DIAG socket, with an optional program.
fn kernel_dump(family: Family, states: u32, bytecode: Option<&[u8]>) -> io::Result<BTreeSet<Key>> {
    // SAFETY: plain socket(2) call; the result is checked before use.
    let raw = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            libc::NETLINK_SOCK_DIAG,
        )
    };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `raw` is a fresh descriptor nobody else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };

    let af = match family {
        Family::V4 => libc::AF_INET as u8,
        Family::V6 => libc::AF_INET6 as u8,
    };
    let mut body = vec![af, 6 /* IPPROTO_TCP */, 0, 0];
    body.extend_from_slice(&states.to_ne_bytes());
    body.extend_from_slice(&[0u8; 48]); // inet_diag_sockid: wildcard
    if let Some(bc) = bytecode {
        let len = u16::try_from(4 + bc.len()).expect("short program");
        body.extend_from_slice(&len.to_ne_bytes());
        body.extend_from_slice(&INET_DIAG_REQ_BYTECODE.to_ne_bytes());
        body.extend_from_slice(bc);
        while body.len() % 4 != 0 {
            body.push(0);
        }
    }
    let mut msg = Vec::new();
    msg.extend_from_slice(&(16 + body.len() as u32).to_ne_bytes());
    msg.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    msg.extend_from_slice(&((libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16).to_ne_bytes());
    msg.extend_from_slice(&7u32.to_ne_bytes()); // seq
    msg.extend_from_slice(&0u32.to_ne_bytes()); // pid
    msg.extend_from_slice(&body);
    // SAFETY: a zeroed sockaddr_nl is valid; we set the family (pid 0 = the kernel).
    let mut sa: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    sa.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    // SAFETY: `msg` and `sa` are valid for the lengths passed.
    let sent = unsafe {
        libc::sendto(
            fd.as_raw_fd(),
            msg.as_ptr().cast(),
            msg.len(),
            0,
            (&sa as *const libc::sockaddr_nl).cast(),
            std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        )
    };
    if sent < 0 {
        return Err(io::Error::last_os_error());
    }

    let mut out = BTreeSet::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        // SAFETY: `buf` is writable for its length.
        let n = unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut b = &buf[..n as usize];
        while b.len() >= 16 {
            let len = u32::from_ne_bytes(b[0..4].try_into().expect("4")) as usize;
            let ty = u16::from_ne_bytes(b[4..6].try_into().expect("2"));
            assert!(len >= 16 && len <= b.len(), "bad netlink length {len}");
            let payload = &b[16..len];
            match ty {
                NLMSG_DONE | NLMSG_ERROR => {
                    let code = i32::from_ne_bytes(payload[0..4].try_into().expect("4"));
                    if code < 0 {
                        return Err(io::Error::from_raw_os_error(-code));
                    }
                    return Ok(out);
                }
                SOCK_DIAG_BY_FAMILY => {
                    out.insert(decode(payload));
                }
                _ => {}
            }
            b = &b[(len + 3) & !3..];
        }
    }
}

/// `struct inet_diag_msg`: family, state, timer, retrans, then the socket id.
fn decode(m: &[u8]) -> Key {
    let state = m[1];
    let sport = u16::from_be_bytes([m[4], m[5]]);
    let dport = u16::from_be_bytes([m[6], m[7]]);
    let addr = |a: &[u8]| -> IpAddr {
        if i32::from(m[0]) == libc::AF_INET {
            IpAddr::V4(Ipv4Addr::new(a[0], a[1], a[2], a[3]))
        } else {
            IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(a).expect("16")))
        }
    };
    (
        state,
        SocketAddr::new(addr(&m[8..24]), sport),
        SocketAddr::new(addr(&m[24..40]), dport),
    )
}

fn key(s: &Socket) -> Key {
    let i = s.inet().expect("inet");
    (s.state.as_u8(), i.local, i.remote)
}

#[test]
fn kernel_bytecode_selects_exactly_what_the_evaluator_selects() {
    let v4 = Trio::open("127.0.0.1:0", "127.0.0.1");
    let v6 = Trio::open("[::1]:0", "::1");
    // An IPv6 listener on a v4-mapped address, reached over IPv4: the accepted socket is an
    // IPv6 socket with ::ffff:127.0.0.1 at both ends.
    let mapped = Trio::open("[::ffff:127.0.0.1]:0", "127.0.0.1");
    let ports = [
        v4.port,
        v4.client_port,
        v6.port,
        v6.client_port,
        mapped.port,
        mapped.client_port,
    ];
    // Every case is ANDed with this guard so sockets other tests open and close meanwhile
    // cannot make the two dumps differ.
    let guard = ports
        .iter()
        .map(|p| format!("sport = :{p} or dport = :{p}"))
        .collect::<Vec<_>>()
        .join(" or ");
    let (p4, p6, pm) = (v4.port, v6.port, mapped.port);
    let cases = [
        "src 127.0.0.1".to_string(),
        "src 127.0.0.0/8".into(),
        format!("dst 127.0.0.1:{p4}"),
        format!("src 127.0.0.1:{pm}"),
        "src [::1]".into(),
        "dst ::1/128".into(),
        "src ::ffff:127.0.0.1".into(),
        "src [::ffff:127.0.0.0/104]".into(),
        "dst 0.0.0.0/0".into(),
        "dst ::/0".into(),
        "dst 10.0.0.0/8".into(),
        "src 127.0.0.2".into(),
        format!("sport = :{p4}"),
        format!("sport != :{p4}"),
        format!("dport > :{p6}"),
        format!("dport < :{p6}"),
        format!("sport >= :{pm}"),
        format!("sport <= :{pm}"),
        format!("src *:{p6}"),
        "sport = :*".into(),
        "not src 127.0.0.1".into(),
        "src 127.0.0.1 or src [::1]".into(),
        format!("not ( src 127.0.0.1 and dport = :{p4} ) or dst [::1]"),
        format!("( sport = :{p4} or sport = :{p6} ) and not dport = :0"),
        format!("not not ( dst 127.0.0.1 or not sport > :{pm} )"),
    ];
    // TIME_WAIT sockets of other tests come and go between two dumps (and can reuse our
    // ports with other peers): leave them out of both.
    let states = !(1u32 << 6);
    let mut nonempty = 0;
    for family in [Family::V4, Family::V6] {
        let mut all = Vec::new();
        Sources::new(SourceChoice::Netlink, "/proc".into())
            .list(
                Table::Inet(InetProto::Tcp, family),
                &Query {
                    states,
                    ..Query::default()
                },
                &mut |s: &Socket| {
                    all.push(s.clone());
                    Ok(())
                },
            )
            .expect("netlink dump");
        for case in &cases {
            let text = format!("( {guard} ) and ( {case} )");
            let f = Filter::parse(&[&text], &NoLookup).unwrap_or_else(|e| panic!("{e}"));
            let bc = f.inet_bytecode(InetProto::Tcp).expect("compiles");
            let in_kernel = kernel_dump(family, states, Some(&bc))
                .unwrap_or_else(|e| panic!("{family:?} {case}: kernel refused the program: {e}"));
            let in_user: BTreeSet<Key> = all
                .iter()
                .filter(|s| f.matches(s, std::iter::empty()))
                .map(key)
                .collect();
            assert_eq!(in_kernel, in_user, "{family:?}: {case}");
            nonempty += usize::from(!in_kernel.is_empty());
        }
    }
    assert!(nonempty > 20, "too few cases selected anything: {nonempty}");

    // And one exact answer, so agreement cannot come from both being empty.
    let f = Filter::parse(&[format!("sport = :{p4}")], &NoLookup).expect("parses");
    let got = kernel_dump(
        Family::V4,
        states,
        f.inet_bytecode(InetProto::Tcp).as_deref(),
    )
    .expect("dump");
    let ports: BTreeSet<(u8, u16)> = got.iter().map(|k| (k.0, k.2.port())).collect();
    assert_eq!(ports, [(1, v4.client_port), (10, 0)].into_iter().collect());
}
