//! Fuzzes the filter language: `Filter::parse` on the input (lossy UTF-8, split on whitespace
//! into words, resolved through small fixed /etc/services and /etc/passwd tables), then every
//! question a parsed filter answers. An error must render without panicking. Properties:
//! - every INET_DIAG bytecode program we emit passes a copy of the kernel's audit
//!   (`inet_diag_bc_audit` and `valid_cc` in net/ipv4/inet_diag.c, Linux 6.18) and fits the
//!   16-bit netlink attribute it travels in;
//! - running it through a copy of the kernel's interpreter (`inet_diag_bc_run`) on a set of
//!   constructed sockets agrees with `Filter::matches` (the state part aside), so kernel-side and
//!   user-side filtering give the same answer;
//! - when `may_match_unix` says no unix socket can match, none does.
#![no_main]

use std::net::{IpAddr, SocketAddr};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rnetstat::fuzzing::{Filter, SystemTables};
use rnetstat::fuzzing::model::{
    Detail, Family, InetInfo, InetProto, Socket, State, UnixInfo, UnixName, UnixType,
};

const SERVICES: &[u8] = b"ssh 22/tcp\nhttp 80/tcp www\ndomain 53/tcp\ndomain 53/udp\n\
    shell 514/tcp cmd\nsyslog 514/udp\nodd 700/tcp\nodd 701/udp\nhttps 443/tcp\n";
const PASSWD: &[u8] = b"root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n";

// Op codes and families, from include/uapi/linux/inet_diag.h and socket.h.
const NOP: u8 = 0;
const JMP: u8 = 1;
const S_GE: u8 = 2;
const S_LE: u8 = 3;
const D_GE: u8 = 4;
const D_LE: u8 = 5;
const AUTO: u8 = 6;
const S_COND: u8 = 7;
const D_COND: u8 = 8;
const AF_UNSPEC: u8 = 0;
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;

fn tables() -> &'static SystemTables {
    static T: OnceLock<SystemTables> = OnceLock::new();
    T.get_or_init(|| SystemTables::from_text(SERVICES, PASSWD))
}

fn inet(proto: InetProto, state: State, local: &str, remote: &str) -> Socket {
    let local: SocketAddr = local.parse().expect("local");
    let remote: SocketAddr = remote.parse().expect("remote");
    Socket {
        state,
        recv_q: Some(0),
        send_q: Some(0),
        uid: Some(1000),
        inode: 4242,
        detail: Detail::Inet(InetInfo {
            backlog: None,
            internals: None,
            proto,
            family: if local.is_ipv4() {
                Family::V4
            } else {
                Family::V6
            },
            local,
            remote,
            timer: None,
            bound_if: 0,
            mark: None,
            cgroup_id: None,
            kernel_filtered: false,
        }),
    }
}

fn unix(state: State, kind: UnixType) -> Socket {
    Socket {
        state,
        recv_q: None,
        send_q: None,
        uid: Some(0),
        inode: 77,
        detail: Detail::Unix(UnixInfo {
            kind,
            name: Some(UnixName::Path(b"/run/x.sock".to_vec())),
            peer_inode: None,
            refcnt: None,
        }),
    }
}

fn sockets() -> &'static [Socket] {
    static S: OnceLock<Vec<Socket>> = OnceLock::new();
    S.get_or_init(|| {
        use InetProto::{Tcp, Udp};
        vec![
            inet(Tcp, State::Established, "127.0.0.1:22", "10.1.2.3:443"),
            inet(Tcp, State::Listen, "0.0.0.0:80", "0.0.0.0:0"),
            inet(Tcp, State::Listen, "[::]:80", "[::]:0"),
            inet(
                Tcp,
                State::Established,
                "[::ffff:127.0.0.1]:8080",
                "[::ffff:10.1.2.3]:53",
            ),
            inet(Tcp, State::TimeWait, "[2001:db8::5]:443", "[::1]:700"),
            inet(Tcp, State::SynSent, "192.168.7.9:40000", "10.255.0.1:65535"),
            inet(Udp, State::Close, "0.0.0.0:53", "0.0.0.0:0"),
            inet(Udp, State::Established, "[::1]:514", "[fe80::1]:701"),
            inet(Udp, State::Established, "10.0.0.1:1", "127.0.0.1:514"),
            unix(State::Established, UnixType::Stream),
            unix(State::Listen, UnixType::Stream),
            unix(State::Close, UnixType::Dgram),
        ]
    })
}

fn op_at(b: &[u8], at: usize) -> (u8, u8, u16) {
    (b[at], b[at + 1], u16::from_ne_bytes([b[at + 2], b[at + 3]]))
}

/// The kernel's `valid_cc`: walking `yes` links from the start reaches the op with `cc` bytes
/// left.
fn valid_cc(bc: &[u8], cc: i64) -> bool {
    let mut len = bc.len() as i64;
    let mut at = 0usize;
    while len >= 0 {
        if cc > len {
            return false;
        }
        if cc == len {
            return true;
        }
        // The kernel reads the op here; `len > cc >= 0` guarantees a byte, we need four.
        if at + 4 > bc.len() {
            return false;
        }
        let yes = i64::from(bc[at + 1]);
        if yes < 4 || yes & 3 != 0 {
            return false;
        }
        len -= yes;
        at += yes as usize;
    }
    false
}

/// The kernel's `inet_diag_bc_audit` for the ops we may emit (no device, mark or cgroup
/// conditions). Returns why it would answer -EINVAL.
fn audit(bc: &[u8]) -> Result<(), String> {
    if bc.len() < 4 {
        return Err("shorter than one op".into());
    }
    if bc.len() + 4 > usize::from(u16::MAX) {
        return Err(format!("{} bytes do not fit a netlink attribute", bc.len()));
    }
    let total = bc.len() as i64;
    let mut len = total;
    let mut at = 0usize;
    while len > 0 {
        if len < 4 {
            return Err(format!("truncated op at {at}"));
        }
        let (code, yes, no) = op_at(bc, at);
        let mut min_len = 4i64;
        match code {
            S_COND | D_COND => {
                min_len += 8; // struct inet_diag_hostcond
                if len < min_len {
                    return Err(format!("hostcond at {at} truncated"));
                }
                let (family, prefix_len) = (bc[at + 4], bc[at + 5]);
                let addr_len = match family {
                    AF_UNSPEC => 0,
                    AF_INET => 4,
                    AF_INET6 => 16,
                    f => return Err(format!("family {f} at {at}")),
                };
                min_len += addr_len;
                if len < min_len {
                    return Err(format!("address at {at} truncated"));
                }
                if i64::from(prefix_len) > 8 * addr_len {
                    return Err(format!(
                        "prefix /{prefix_len} at {at} longer than its address"
                    ));
                }
            }
            S_GE | S_LE | D_GE | D_LE => {
                min_len += 4; // the follow-on op holding the port
                if len < min_len {
                    return Err(format!("port op at {at} truncated"));
                }
            }
            AUTO | JMP | NOP => {}
            c => return Err(format!("unknown op {c} at {at}")),
        }
        if code != NOP {
            let no = i64::from(no);
            if no < min_len || no > len + 4 || no & 3 != 0 {
                return Err(format!("bad no {no} at {at} (min {min_len}, left {len})"));
            }
            if no < len && !valid_cc(bc, len - no) {
                return Err(format!("no {no} at {at} lands inside an op"));
            }
        }
        let yes = i64::from(yes);
        if yes < min_len || yes > len + 4 || yes & 3 != 0 {
            return Err(format!("bad yes {yes} at {at} (min {min_len}, left {len})"));
        }
        at += yes as usize;
        len -= yes;
    }
    if len == 0 {
        Ok(())
    } else {
        Err(format!("ends {len} bytes off the end"))
    }
}

/// The socket as the kernel's `struct inet_diag_entry` sees it: family, addresses as four
/// big-endian words, host-order ports.
struct Entry {
    family: u8,
    saddr: [u8; 16],
    daddr: [u8; 16],
    sport: u16,
    dport: u16,
}

fn addr_bytes(ip: IpAddr) -> [u8; 16] {
    let mut a = [0u8; 16];
    match ip {
        IpAddr::V4(v) => a[..4].copy_from_slice(&v.octets()),
        IpAddr::V6(v) => a = v.octets(),
    }
    a
}

/// The kernel's `bitstring_match`: the first `bits` bits agree.
fn bitstring_match(a: &[u8], b: &[u8], bits: usize) -> bool {
    let bytes = bits / 8;
    if a[..bytes] != b[..bytes] {
        return false;
    }
    let rest = bits % 8;
    if rest != 0 {
        let mask = 0xffu8 << (8 - rest);
        if (a[bytes] ^ b[bytes]) & mask != 0 {
            return false;
        }
    }
    true
}

/// The kernel's `inet_diag_bc_run`, for an audited program.
fn run(bc: &[u8], e: &Entry) -> bool {
    let mut len = bc.len() as i64;
    let mut at = 0usize;
    while len > 0 {
        let (code, op_yes, op_no) = op_at(bc, at);
        let yes = match code {
            NOP => true,
            JMP => false,
            S_GE => e.sport >= op_at(bc, at + 4).2,
            S_LE => e.sport <= op_at(bc, at + 4).2,
            D_GE => e.dport >= op_at(bc, at + 4).2,
            D_LE => e.dport <= op_at(bc, at + 4).2,
            S_COND | D_COND => {
                let c = &bc[at + 4..];
                let (family, prefix_len) = (c[0], usize::from(c[1]));
                let port = i32::from_ne_bytes([c[4], c[5], c[6], c[7]]);
                let cond_addr = &c[8..];
                let (addr, eport) = if code == S_COND {
                    (&e.saddr, e.sport)
                } else {
                    (&e.daddr, e.dport)
                };
                if port != -1 && port != i32::from(eport) {
                    false
                } else if family != AF_UNSPEC && family != e.family {
                    e.family == AF_INET6
                        && family == AF_INET
                        && addr[..10] == [0; 10]
                        && addr[10..12] == [0xff, 0xff]
                        && bitstring_match(&addr[12..], cond_addr, prefix_len)
                } else {
                    prefix_len == 0 || bitstring_match(addr, cond_addr, prefix_len)
                }
            }
            c => panic!("audited program holds op {c}"),
        };
        let step = if yes {
            i64::from(op_yes)
        } else {
            i64::from(op_no)
        };
        len -= step;
        at = at.wrapping_add(step as usize);
    }
    len == 0
}

/// Checks the auditor against programs the kernel rejects, so a passing audit means something.
fn self_check() {
    let op = |code: u8, yes: u8, no: u16| {
        let mut v = vec![code, yes];
        v.extend_from_slice(&no.to_ne_bytes());
        v
    };
    let cat = |parts: &[Vec<u8>]| parts.concat();
    let port = |p: u16| op(0, 0, p);
    let host = |family: u8, prefix: u8, addr: &[u8]| {
        let mut v = vec![family, prefix, 0, 0];
        v.extend_from_slice(&(-1i32).to_ne_bytes());
        v.extend_from_slice(addr);
        v
    };
    // Accepted: reject-past-the-end and accept-at-the-end jumps, a port pair, a host condition.
    let good = cat(&[
        op(S_GE, 8, 8 + 12 + 4),
        port(1000),
        op(S_COND, 12, 12 + 4),
        host(AF_UNSPEC, 0, &[]),
    ]);
    assert_eq!(audit(&good), Ok(()));
    assert!(run(
        &good,
        &Entry {
            family: AF_INET,
            saddr: [0; 16],
            daddr: [0; 16],
            sport: 1000,
            dport: 0
        }
    ));
    assert!(!run(
        &good,
        &Entry {
            family: AF_INET,
            saddr: [0; 16],
            daddr: [0; 16],
            sport: 999,
            dport: 0
        }
    ));
    for (why, bad) in [
        ("empty", vec![]),
        ("unknown op", op(99, 4, 8)),
        ("no not a multiple of 4", op(JMP, 4, 6)),
        ("no past end + 4", op(JMP, 4, 12)),
        ("yes short of the op", cat(&[op(S_GE, 4, 12), port(1)])),
        (
            "no into the op itself",
            cat(&[op(S_COND, 12, 4), host(AF_UNSPEC, 0, &[])]),
        ),
        (
            "no inside the next op",
            cat(&[op(JMP, 4, 8), op(S_GE, 8, 12), port(1), op(JMP, 4, 8)]),
        ),
        (
            "v4 prefix /33",
            cat(&[op(S_COND, 16, 20), host(AF_INET, 33, &[10, 0, 0, 0])]),
        ),
        ("bad family", cat(&[op(D_COND, 12, 16), host(7, 0, &[])])),
        (
            "truncated address",
            cat(&[op(D_COND, 12, 16), host(AF_INET6, 8, &[])]),
        ),
    ] {
        assert!(
            audit(&bad).is_err(),
            "the auditor accepted a program with {why}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    static CHECKED: std::sync::Once = std::sync::Once::new();
    CHECKED.call_once(self_check);
    let text = String::from_utf8_lossy(data);
    let words: Vec<&str> = text.split_whitespace().collect();
    let f = match Filter::parse(&words, tables()) {
        Ok(f) => f,
        Err(e) => {
            let msg = e.to_string();
            assert!(!msg.is_empty(), "an empty error message");
            return;
        }
    };
    let _ = format!("{f:?}");
    let _ = f.state_mask();
    let _ = f.request_mask(u32::MAX);
    let unix_possible = f.may_match_unix();
    let mut programs = Vec::new();
    for proto in InetProto::ALL {
        let code = f.inet_bytecode(proto);
        if let Some(code) = &code {
            assert_eq!(
                code.len() % 4,
                0,
                "program length {} for {proto:?}",
                code.len()
            );
            if let Err(why) = audit(code) {
                panic!("the kernel would reject the program for {proto:?}: {why}\n{code:?}");
            }
        }
        programs.push((proto, code));
    }
    for s in sockets() {
        let matched = f.matches(s, std::iter::empty());
        match &s.detail {
            Detail::Unix(_) => assert!(unix_possible || !matched, "may_match_unix lied"),
            Detail::Inet(i) => {
                let Some((_, Some(code))) = programs.iter().find(|(p, _)| *p == i.proto) else {
                    continue;
                };
                let e = Entry {
                    family: if i.family == Family::V4 {
                        AF_INET
                    } else {
                        AF_INET6
                    },
                    saddr: addr_bytes(i.local.ip()),
                    daddr: addr_bytes(i.remote.ip()),
                    sport: i.local.port(),
                    dport: i.remote.port(),
                };
                let kernel = f.matches_state(s.state) && run(code, &e);
                assert_eq!(
                    kernel, matched,
                    "kernel bytecode and Filter::matches disagree on {s:?}\n{code:?}"
                );
            }
        }
    }
});
