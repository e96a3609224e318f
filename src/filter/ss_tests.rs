//! Unit tests for what ss means by a filter (iproute2 misc/ssfilter.y and misc/ss.c, read and
//! measured against ss 6.1): left-to-right grouping and its notice, the kernel and user-space
//! passes that ss ANDs, iproute2's address syntax, and the `dev`, `fwmark`, `cgroup` and
//! `autobound` conditions. tests/filter_vs_ss.rs compares with the real ss on live sockets.

use super::*;
use crate::model::{Detail, Family, InetInfo, InetProto};
use std::net::SocketAddr;

/// Names a test can resolve without the system: interface `eth7` is index 7, cgroup `/box` is
/// id 99, the ephemeral range is 40000-40100.
struct Fixed;

impl Lookup for Fixed {
    fn service(&self, name: &str) -> ServicePorts {
        match name {
            "ssh" => ServicePorts {
                tcp: Some(22),
                udp: None,
            },
            _ => ServicePorts::default(),
        }
    }
    fn user(&self, _name: &str) -> Option<u32> {
        None
    }
    fn interface(&self, name: &str) -> Option<u32> {
        (name == "eth7").then_some(7)
    }
    fn cgroup_id(&self, path: &str) -> Result<u64, String> {
        if path.trim_start_matches('/') == "box" {
            Ok(99)
        } else {
            Err(format!("no cgroup '{path}'"))
        }
    }
    fn ephemeral_ports(&self) -> (u16, u16) {
        (40000, 40100)
    }
}

fn parse(s: &str) -> Filter {
    Filter::parse(&[s], &Fixed).unwrap_or_else(|e| panic!("{s:?} should parse:\n{e}"))
}

fn rejects(s: &str, needle: &str) {
    match Filter::parse(&[s], &Fixed) {
        Ok(f) => panic!("{s:?} should not parse, got {f:?}"),
        Err(e) => assert!(e.message().contains(needle), "{s:?}: {e}"),
    }
}

fn sock(local: &str, remote: &str) -> Socket {
    let local: SocketAddr = local.parse().expect("local");
    let remote: SocketAddr = remote.parse().expect("remote");
    Socket {
        state: State::Established,
        recv_q: Some(0),
        send_q: Some(0),
        uid: Some(0),
        inode: 1,
        detail: Detail::Inet(InetInfo {
            backlog: None,
            proto: InetProto::Tcp,
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
            internals: None,
        }),
    }
}

fn with(mut s: Socket, f: impl FnOnce(&mut InetInfo)) -> Socket {
    if let Detail::Inet(i) = &mut s.detail {
        f(i);
    }
    s
}

fn m(f: &str, s: &Socket) -> bool {
    parse(f).matches(s, std::iter::empty())
}

#[test]
fn mixing_and_with_or_is_read_left_to_right_and_said_so() {
    let f = parse("sport = :1 or dport = :2 and src [::1]");
    assert_eq!(f.notices().len(), 1);
    assert!(
        f.notices()[0].contains("reads as (sport = :1 or dport = :2) and src [::1]"),
        "{:?}",
        f.notices()
    );
    // Implicit `and` counts as `and`; the notice spells it out.
    let f = parse("sport = :1 or dport = :2 src [::1]");
    assert!(f.notices()[0].contains("(sport = :1 or dport = :2) and src [::1]"));
    // No notice when only one kind is used, or parentheses decide.
    for quiet in [
        "sport = :1 or dport = :2 or dport = :3",
        "sport = :1 and dport = :2 dport = :3",
        "sport = :1 or ( dport = :2 and src [::1] )",
        "( sport = :1 or dport = :2 ) and src [::1]",
    ] {
        assert!(parse(quiet).notices().is_empty(), "{quiet}");
    }
    // A socket that (A or B) and C rejects but A or (B and C) would keep.
    let s = sock("127.0.0.1:1", "127.0.0.1:9");
    assert!(!m("sport = :1 or dport = :2 and src [::1]", &s));
    assert!(m("sport = :1 or ( dport = :2 and src [::1] )", &s));
}

#[test]
fn zero_length_prefixes_keep_their_family() {
    let v4 = sock("127.0.0.1:5", "10.0.0.1:6");
    let v6 = sock("[::1]:5", "[2001:db8::1]:6");
    let mapped = sock("[::ffff:127.0.0.1]:5", "[::ffff:10.0.0.1]:6");
    let all = |f: &str| (m(f, &v4), m(f, &v6), m(f, &mapped));
    assert_eq!(all("dst ::/0"), (false, true, true));
    assert_eq!(all("dst 0.0.0.0/0"), (true, false, true));
    assert_eq!(all("dst *"), (true, true, true));
    assert_eq!(all("dst all"), (true, true, true));
    // ss's two passes: the kernel says "not IPv6" for v4, user space says "any" for all, so
    // `not dst ::/0` keeps nothing.
    assert_eq!(all("not dst ::/0"), (false, false, false));
    assert_eq!(all("not dst 0.0.0.0/0"), (false, false, false));
}

#[test]
fn v4_prefixes_match_v4_mapped_but_mapped_prefixes_only_v6() {
    let v4 = sock("127.0.0.1:5", "10.1.2.3:6");
    let mapped = sock("[::ffff:127.0.0.1]:5", "[::ffff:10.1.2.3]:6");
    assert!(m("dst 10.1.2.3", &v4) && m("dst 10.1.2.3", &mapped));
    assert!(m("dst 10.0.0.0/8", &mapped));
    assert!(!m("dst [::ffff:10.1.2.3]", &v4));
    assert!(m("dst [::ffff:10.1.2.3]", &mapped));
    assert!(m("dst ::ffff:10.0.0.0/104", &mapped));
}

#[test]
fn user_space_compares_raw_bytes_across_families_under_not() {
    // `src 0.0.0.0/8` against ::1: the kernel says no (family), ss's user space compares the
    // first byte of the raw address (0 = 0) and says yes; so `not` of it keeps nothing.
    let v6 = sock("[::1]:5", "[::1]:6");
    assert!(!m("src 0.0.0.0/8", &v6));
    assert!(!m("not src 0.0.0.0/8", &v6));
    // A prefix whose bytes differ: both passes agree the socket is outside it.
    assert!(m("not src 10.0.0.0/8", &v6));
}

#[test]
fn iproute2_address_syntax() {
    let s = sock("127.1.0.0:80", "10.0.0.1:6");
    for f in [
        "src 127.1",
        "src 127.1:80",
        "src 0x7f.1",
        "src 127.0.0.0/255.0.0.0",
        "src 127.0.0.0/0x8",
        "src 127.0.0.0/8:80",
        "src 127.0.0.0/8:0x50",
        "src [127.1.0.0]:80",
        "src *:80",
        "src :80",
        "src 127.1:*",
        "src 127.1:",
    ] {
        assert!(m(f, &s), "{f}");
    }
    let v6 = sock("[::1]:80", "[fe80::1]:6");
    for f in [
        "src [::1]",
        "src [::1/128]",
        "src [::1]/128",
        "src [::1]/128:80",
        "src ::1/128",
        "src ::1",
        "dst fe80::1",
        "dst fe80::/10",
        "src ::1:80",
    ] {
        assert!(m(f, &v6), "{f}");
    }
    // ss takes what follows the last colon for the port: `::1:80` is ::1 port 80, and
    // `1::2:81` is 1::2 port 81, not the address 1::2:81.
    assert!(!m("src ::1:81", &v6));
    rejects("src 127.0.0.1/33", "prefix length");
    rejects("src 127.0.0.0/255.0.255.0", "prefix length");
    rejects("src default/8", "no prefix length");
    rejects("src inet:127.0.0.1", "family prefix");
    rejects("src 300.1.1.1", "IP address");
}

#[test]
fn port_comparisons_with_star_follow_ss() {
    let low = sock("127.0.0.1:5", "127.0.0.1:6");
    let top = sock("127.0.0.1:65535", "127.0.0.1:6");
    // ss: port -1; user space -1, the kernel 65535 (the op's 16-bit field).
    assert!(!m("sport >= :*", &low) && m("sport >= :*", &top));
    for f in ["sport <= :*", "sport > :*", "sport < :*"] {
        assert!(!m(f, &low) && !m(f, &top), "{f}");
    }
    assert!(m("sport = :*", &low) && m("sport = :", &low));
    assert!(!m("sport != :*", &low));
    assert!(m("sport = 0x5", &low) && m("sport = 05", &low));
}

#[test]
fn dev_fwmark_cgroup_and_autobound() {
    let plain = sock("127.0.0.1:40050", "127.0.0.1:6");
    let bound = with(plain.clone(), |i| i.bound_if = 7);
    assert!(m("dev eth7", &bound) && !m("dev eth7", &plain));
    assert!(m("dev 7", &bound) && m("dev = 0x7", &bound));
    assert!(m("dev != eth7", &plain) && !m("dev != eth7", &bound));
    rejects("dev eth8", "no interface");
    rejects("dev > 1", "only = or !=");

    let marked = with(plain.clone(), |i| i.mark = Some(0x1234));
    assert!(m("fwmark = 0x1234", &marked));
    assert!(m("fwmark = 0x34/0xff", &marked));
    assert!(!m("fwmark = 0x35/0xff", &marked));
    assert!(m("fwmark != 0x35/0xff", &marked));
    // An unknown mark is 0, as ss reads a missing attribute.
    assert!(m("fwmark = 0", &plain) && !m("fwmark = 0x1234", &plain));
    rejects("fwmark = x", "not a mark");

    let boxed = with(plain.clone(), |i| i.cgroup_id = Some(99));
    assert!(m("cgroup /box", &boxed) && m("cgroup = box", &boxed));
    assert!(!m("cgroup /box", &plain) && m("cgroup != /box", &plain));
    rejects("cgroup /nope", "no cgroup");

    assert!(m("autobound", &plain));
    assert!(!m("autobound", &sock("127.0.0.1:39999", "127.0.0.1:6")));
    assert!(m("not autobound", &sock("127.0.0.1:40101", "127.0.0.1:6")));

    let f = parse("fwmark = 1");
    assert!(f.needs_labels());
    assert!(!parse("dev 7 or sport = :1").needs_labels());
}

#[test]
fn new_conditions_compile_to_kernel_ops() {
    let code = |s: &str| parse(s).inet_bytecode(InetProto::Tcp);
    // ops: AUTO 6, DEV_COND 9, MARK_COND 10, CGROUP_COND 13; each op's `yes` is its length.
    let b = code("autobound").expect("compiles");
    assert_eq!(&b[..2], &[6, 4]);
    let b = code("fwmark = 0x10/0xff").expect("compiles");
    assert_eq!(&b[..2], &[10, 12]);
    assert_eq!(&b[4..8], &0x10u32.to_ne_bytes());
    assert_eq!(&b[8..12], &0xffu32.to_ne_bytes());
    let b = code("cgroup /box").expect("compiles");
    assert_eq!(&b[..2], &[13, 12]);
    assert_eq!(&b[4..12], &99u64.to_ne_bytes());
    let b = code("dev eth7 and sport = :22").expect("compiles");
    assert_eq!(&b[..2], &[9, 8]);
    assert_eq!(&b[4..8], &7u32.to_ne_bytes());
    // With an address in the expression the kernel's reading of `dev` expressions could differ
    // from ss's user-space-only one: no program.
    assert_eq!(code("dev eth7 and src 127.0.0.1"), None);
    assert_eq!(code("dev eth7 or autobound"), None);
    // `::/0` keeps its family in the program.
    let b = code("dst ::/0").expect("compiles");
    assert_eq!(&b[4..6], &[10, 0]);
}
