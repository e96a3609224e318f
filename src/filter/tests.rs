//! Parser and evaluator tests on constructed sockets. The real-socket test is
//! tests/filter_eval.rs.

use super::*;
use crate::model::{Detail, Family, InetInfo, InetProto, UnixInfo, UnixName, UnixType};
use std::net::SocketAddr;

fn tables() -> SystemTables {
    SystemTables::from_text(
        b"ssh 22/tcp\nhttp 80/tcp www\ndomain 53/tcp\ndomain 53/udp\n\
          shell 514/tcp cmd\nsyslog 514/udp\nodd 700/tcp\nodd 701/udp\n",
        b"root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n",
    )
}

fn parse(s: &str) -> Filter {
    Filter::parse(&[s], &tables()).unwrap_or_else(|e| panic!("{s:?} should parse:\n{e}"))
}

fn parse_err(s: &str) -> FilterError {
    match Filter::parse(&[s], &tables()) {
        Ok(f) => panic!("{s:?} should not parse, got {f:?}"),
        Err(e) => e,
    }
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
            bound_if: 0,
            mark: None,
            cgroup_id: None,
            kernel_filtered: false,
            proto,
            family: if local.is_ipv4() {
                Family::V4
            } else {
                Family::V6
            },
            local,
            remote,
            timer: None,
        }),
    }
}

fn tcp(state: State, local: &str, remote: &str) -> Socket {
    inet(InetProto::Tcp, state, local, remote)
}

fn unix(state: State) -> Socket {
    Socket {
        state,
        recv_q: None,
        send_q: None,
        uid: Some(0),
        inode: 77,
        detail: Detail::Unix(UnixInfo {
            kind: UnixType::Stream,
            name: Some(UnixName::Path(b"/run/x.sock".to_vec())),
            peer_inode: None,
            refcnt: None,
        }),
    }
}

fn m(f: &Filter, s: &Socket) -> bool {
    f.matches(s, std::iter::empty())
}

fn bit(s: State) -> u32 {
    s.mask_bit()
}

// ---- states ----

#[test]
fn no_words_is_the_empty_filter_that_matches_everything() {
    let f = Filter::parse::<&str>(&[], &NoLookup).expect("empty parses");
    assert_eq!(f.state_mask(), None);
    assert!(!f.has_conditions());
    assert!(f.expression().is_none());
    assert!(f.is_empty());
    assert_eq!(f.inet_bytecode(InetProto::Tcp), None);
    assert!(!parse("state listening").is_empty());
    assert!(!Filter::default().with_uid(0).is_empty());
    assert!(m(&f, &tcp(State::Listen, "0.0.0.0:22", "0.0.0.0:0")));
    assert!(m(&f, &unix(State::Established)));
    assert_eq!(f.request_mask(0x400), 0x400);
}

#[test]
fn single_states_give_their_bit() {
    for (name, st) in [
        ("established", State::Established),
        ("syn-sent", State::SynSent),
        ("fin-wait-1", State::FinWait1),
        ("fin-wait-2", State::FinWait2),
        ("time-wait", State::TimeWait),
        ("closed", State::Close),
        ("close", State::Close),
        ("unconnected", State::Close),
        ("close-wait", State::CloseWait),
        ("last-ack", State::LastAck),
        ("listening", State::Listen),
        ("listen", State::Listen),
        ("closing", State::Closing),
        // netstat's spellings and any case
        ("TIME_WAIT", State::TimeWait),
        ("FIN_WAIT1", State::FinWait1),
        ("Established", State::Established),
    ] {
        let f = parse(&format!("state {name}"));
        assert_eq!(f.state_mask(), Some(bit(st)), "{name}");
        assert!(!f.has_conditions(), "{name}");
    }
    // SYN-RECV carries the request-socket state with it (the kernel reports those as SYN-RECV).
    let f = parse("state syn-recv");
    assert_eq!(
        f.state_mask(),
        Some(bit(State::SynRecv) | bit(State::NewSynRecv))
    );
    assert_eq!(parse("state syn-rcv"), f);
}

#[test]
fn state_groups_mean_what_ss_says() {
    let known: u32 = State::ALL
        .iter()
        .map(|s| s.mask_bit())
        .fold(0, |a, b| a | b);
    let mask = |w: &str| parse(&format!("state {w}")).state_mask().expect("mask") & known;
    let set = |ss: &[State]| ss.iter().map(|s| s.mask_bit()).fold(0, |a, b| a | b);
    use State::*;
    assert_eq!(parse("state all").state_mask(), Some(u32::MAX));
    assert_eq!(
        mask("connected"),
        set(&[
            Established,
            SynSent,
            SynRecv,
            FinWait1,
            FinWait2,
            TimeWait,
            CloseWait,
            LastAck,
            Closing,
            NewSynRecv
        ])
    );
    assert_eq!(
        mask("synchronized"),
        set(&[
            Established,
            SynRecv,
            FinWait1,
            FinWait2,
            TimeWait,
            CloseWait,
            LastAck,
            Closing,
            NewSynRecv
        ])
    );
    assert_eq!(mask("bucket"), set(&[SynRecv, TimeWait, NewSynRecv]));
    assert_eq!(
        mask("big"),
        set(&[
            Established,
            SynSent,
            FinWait1,
            FinWait2,
            Close,
            CloseWait,
            LastAck,
            Listen,
            Closing
        ])
    );
    assert_eq!(mask("listening"), set(&[Listen]));
}

#[test]
fn several_states_or_together_and_exclude_removes() {
    let f = parse("state established state time-wait");
    assert_eq!(
        f.state_mask(),
        Some(bit(State::Established) | bit(State::TimeWait))
    );
    assert!(m(&f, &tcp(State::TimeWait, "127.0.0.1:1", "127.0.0.1:2")));
    assert!(!m(&f, &tcp(State::Listen, "127.0.0.1:1", "0.0.0.0:0")));

    let f = parse("exclude listening");
    assert_eq!(f.state_mask(), Some(!bit(State::Listen)));
    assert!(!m(&f, &tcp(State::Listen, "0.0.0.0:22", "0.0.0.0:0")));
    assert!(m(
        &f,
        &tcp(State::Established, "127.0.0.1:22", "127.0.0.1:5")
    ));
    // unknown future states are kept by exclude (as -a keeps them)
    assert!(f.matches_state(State::Unknown(13)));
    assert!(parse("state all").matches_state(State::Unknown(200)));
    assert!(
        !f.matches_state(State::Unknown(200)),
        "no bit for 200: only 'all' passes it"
    );

    // left to right, like ss: a state after an exclude adds back
    let f = parse("exclude all state listening");
    assert_eq!(f.state_mask(), Some(bit(State::Listen)));
    let f = parse("state connected exclude time-wait");
    assert!(!f.matches_state(State::TimeWait));
    assert!(f.matches_state(State::Established));
    assert!(!f.matches_state(State::Listen));
    // `excl` is ss's short form
    assert_eq!(parse("excl listening"), parse("exclude listening"));
}

#[test]
fn request_mask_is_replaced_by_explicit_states() {
    let f = parse("state listening");
    assert_eq!(f.request_mask(!bit(State::Listen)), bit(State::Listen));
    let f = parse("sport = :22");
    assert_eq!(f.request_mask(0x1234), 0x1234);
}

#[test]
fn states_apply_to_unix_sockets_too() {
    let f = parse("state listening");
    assert!(m(&f, &unix(State::Listen)));
    assert!(!m(&f, &unix(State::Established)));
}

// ---- expression forms ----

fn port_cond(side: Side, op: CmpOp, n: u16) -> Expr {
    Expr::Cond(Cond::Port(side, op, PortSpec::Number(n)))
}

#[test]
fn every_port_operator_spelling_parses() {
    for (ops, op) in [
        (&["=", "==", "eq"][..], CmpOp::Eq),
        (&["!=", "ne", "neq"][..], CmpOp::Ne),
        (&["<", "lt"][..], CmpOp::Lt),
        (&["<=", "le", "leq"][..], CmpOp::Le),
        (&[">", "gt"][..], CmpOp::Gt),
        (&[">=", "ge", "geq"][..], CmpOp::Ge),
    ] {
        for o in ops {
            for (kw, side) in [("sport", Side::Local), ("dport", Side::Remote)] {
                let f = parse(&format!("{kw} {o} :1024"));
                assert_eq!(f.expression(), Some(&port_cond(side, op, 1024)), "{kw} {o}");
                assert!(f.has_conditions());
                assert_eq!(f.state_mask(), None);
            }
        }
    }
    // the operator may be left out (means =), and the colon too
    assert_eq!(
        parse("sport :22").expression(),
        Some(&port_cond(Side::Local, CmpOp::Eq, 22))
    );
    assert_eq!(
        parse("dport = 22").expression(),
        Some(&port_cond(Side::Remote, CmpOp::Eq, 22))
    );
}

#[test]
fn port_comparisons_evaluate() {
    let s = tcp(State::Established, "127.0.0.1:2000", "127.0.0.1:443");
    for (f, want) in [
        ("sport = :2000", true),
        ("sport == :2001", false),
        ("dport != :443", false),
        ("dport != :80", true),
        ("sport > :1024", true),
        ("sport > :2000", false),
        ("sport >= :2000", true),
        ("dport < :443", false),
        ("dport < :444", true),
        ("dport <= :443", true),
        ("dport lt :100", false),
        ("dport gt :100", true),
        ("sport le :2000", true),
        ("sport ge :2001", false),
        ("dport eq :443", true),
        ("dport ne :443", false),
        ("sport = :*", true),
        ("sport != *", false),
    ] {
        assert_eq!(m(&parse(f), &s), want, "{f}");
    }
}

#[test]
fn named_ports_resolve_through_the_lookup_per_protocol() {
    let f = parse("sport = :ssh");
    assert!(m(&f, &tcp(State::Listen, "0.0.0.0:22", "0.0.0.0:0")));
    assert!(!m(&f, &tcp(State::Listen, "0.0.0.0:23", "0.0.0.0:0")));
    // aliases work, with or without the colon
    assert!(m(
        &parse("dport www"),
        &tcp(State::Established, "127.0.0.1:5", "127.0.0.1:80")
    ));
    // a name listed for tcp only applies to udp too (as ss resolves it once)
    let udp22 = inet(InetProto::Udp, State::Close, "0.0.0.0:22", "0.0.0.0:0");
    assert!(m(&f, &udp22));
    // a name with different numbers per protocol resolves per socket
    let f = parse("sport = :odd");
    assert!(m(&f, &tcp(State::Listen, "0.0.0.0:700", "0.0.0.0:0")));
    assert!(!m(&f, &tcp(State::Listen, "0.0.0.0:701", "0.0.0.0:0")));
    assert!(m(
        &f,
        &inet(InetProto::Udp, State::Close, "0.0.0.0:701", "0.0.0.0:0")
    ));
    assert!(!m(
        &f,
        &inet(InetProto::Udp, State::Close, "0.0.0.0:700", "0.0.0.0:0")
    ));
    // comparisons with names
    assert!(m(
        &parse("sport > :ssh"),
        &tcp(State::Listen, "0.0.0.0:23", "0.0.0.0:0")
    ));
}

#[test]
fn address_forms_parse_and_match() {
    let v4 = tcp(State::Established, "127.0.0.1:8080", "10.1.2.3:443");
    let v6 = tcp(State::Established, "[::1]:8080", "[2001:db8::5]:443");
    let mapped = tcp(
        State::Established,
        "[::ffff:127.0.0.1]:8080",
        "[::ffff:10.1.2.3]:443",
    );
    for (f, a, b, c) in [
        ("dst 10.0.0.0/8", true, false, true),
        ("dst 10.1.2.3", true, false, true),
        ("dst = 10.1.2.3", true, false, true),
        ("dst == 10.1.2.4", false, false, false),
        ("dst 10.1.2.3/32", true, false, true),
        ("src 127.0.0.1:8080", true, false, true),
        ("src 127.0.0.1:8081", false, false, false),
        ("src 127.0.0.0/8:8080", true, false, true),
        ("src [::1]", false, true, false),
        ("src [::1]:8080", false, true, false),
        ("src [::1]:8081", false, false, false),
        ("src ::1", false, true, false),
        ("dst 2001:db8::/32", false, true, false),
        ("dst [2001:db8::/32]:443", false, true, false),
        ("dst [::ffff:10.1.2.3]", false, false, true),
        ("src *:8080", true, true, true),
        ("src :8080", true, true, true),
        ("src *", true, true, true),
        // a zero-length prefix keeps its family (the kernel's test, as ss sends it): `::/0` is
        // every IPv6 socket, `0.0.0.0/0` every IPv4 one and the v4-mapped IPv6 ones
        ("dst ::/0", false, true, true),
        ("dst 0.0.0.0/0", true, false, true),
        ("dst default", true, true, true),
        ("dst any", true, true, true),
        ("dst *:443", true, true, true),
        ("dst *:*", true, true, true),
    ] {
        let f = parse(f);
        assert_eq!((m(&f, &v4), m(&f, &v6), m(&f, &mapped)), (a, b, c), "{f:?}");
    }
    // != on an address is `not`
    let f = parse("dst != 10.0.0.0/8");
    assert_eq!(
        f.expression(),
        Some(&Expr::Not(Box::new(Expr::Cond(Cond::Host(
            Side::Remote,
            HostCond {
                prefix: Some(Prefix {
                    addr: "10.0.0.0".parse().expect("ip"),
                    len: 8
                }),
                port: None
            }
        )))))
    );
    assert!(!m(&f, &v4));
    assert!(m(&f, &v6));
}

#[test]
fn named_port_in_an_address() {
    let f = parse("src 127.0.0.1:ssh");
    assert!(m(&f, &tcp(State::Listen, "127.0.0.1:22", "0.0.0.0:0")));
    assert!(!m(&f, &tcp(State::Listen, "127.0.0.2:22", "0.0.0.0:0")));
}

// ---- boolean structure ----

fn c(side: Side, n: u16) -> Expr {
    port_cond(side, CmpOp::Eq, n)
}
fn and(a: Expr, b: Expr) -> Expr {
    Expr::And(Box::new(a), Box::new(b))
}
fn or(a: Expr, b: Expr) -> Expr {
    Expr::Or(Box::new(a), Box::new(b))
}
fn not(a: Expr) -> Expr {
    Expr::Not(Box::new(a))
}

#[test]
fn and_and_or_group_left_to_right_like_ss() {
    use Side::{Local as L, Remote as R};
    let e = |s: &str| parse(s).expression().cloned().expect("expr");
    assert_eq!(
        e("sport = :1 or sport = :2 and dport = :3"),
        and(or(c(L, 1), c(L, 2)), c(R, 3))
    );
    assert_eq!(
        e("sport = :1 and sport = :2 or dport = :3"),
        or(and(c(L, 1), c(L, 2)), c(R, 3))
    );
    assert_eq!(
        e("not sport = :1 and dport = :3"),
        and(not(c(L, 1)), c(R, 3))
    );
    assert_eq!(e("! sport = :1 or dport = :3"), or(not(c(L, 1)), c(R, 3)));
    assert_eq!(e("not not sport = :1"), not(not(c(L, 1))));
    // symbols
    assert_eq!(
        e("sport = :1 | sport = :2 & dport = :3"),
        and(or(c(L, 1), c(L, 2)), c(R, 3))
    );
    assert_eq!(
        e("sport = :1 || sport = :2 && dport = :3"),
        and(or(c(L, 1), c(L, 2)), c(R, 3))
    );
    assert_eq!(
        e("sport = :1 or ( sport = :2 and dport = :3 )"),
        or(c(L, 1), and(c(L, 2), c(R, 3)))
    );
    // implicit and, grouping like and
    assert_eq!(e("sport = :1 dport = :2"), and(c(L, 1), c(R, 2)));
    assert_eq!(
        e("sport = :1 or sport = :2 dport = :3"),
        and(or(c(L, 1), c(L, 2)), c(R, 3))
    );
    // left-associative chains
    assert_eq!(
        e("sport = :1 or sport = :2 or sport = :3"),
        or(or(c(L, 1), c(L, 2)), c(L, 3))
    );
    // parentheses
    assert_eq!(
        e("( sport = :1 or sport = :2 ) and dport = :3"),
        and(or(c(L, 1), c(L, 2)), c(R, 3))
    );
    assert_eq!(
        e("not ( sport = :1 or sport = :2 )"),
        not(or(c(L, 1), c(L, 2)))
    );
    // parentheses and ! glued to words, as people type them
    assert_eq!(
        e("(sport = :1 or sport = :2) and dport = :3"),
        and(or(c(L, 1), c(L, 2)), c(R, 3))
    );
    assert_eq!(e("!(sport = :1)"), not(c(L, 1)));
    assert_eq!(e("((sport = :1))"), c(L, 1));
}

#[test]
fn words_may_be_split_across_arguments() {
    let one = Filter::parse(
        &["state established ( dport = :ssh or sport = :ssh )"],
        &tables(),
    )
    .expect("one word");
    let many = Filter::parse(
        &[
            "state",
            "established",
            "(",
            "dport",
            "=",
            ":ssh",
            "or",
            "sport",
            "=",
            ":ssh",
            ")",
        ],
        &tables(),
    )
    .expect("many words");
    assert_eq!(one, many);
    assert_eq!(one.state_mask(), Some(bit(State::Established)));
}

#[test]
fn boolean_evaluation() {
    let s = tcp(State::Established, "127.0.0.1:22", "127.0.0.1:5000");
    for (f, want) in [
        ("sport = :22 and dport = :5000", true),
        ("sport = :22 and dport = :5001", false),
        ("sport = :21 or dport = :5000", true),
        ("not sport = :22", false),
        ("not sport = :21", true),
        ("( sport = :21 or sport = :22 ) dport > :4000", true),
        ("sport = :21 or sport = :22 and dport = :1", false),
        ("sport = :22 or sport = :21 and dport = :1", false),
        ("sport = :22 or ( sport = :21 and dport = :1 )", true),
    ] {
        assert_eq!(m(&parse(f), &s), want, "{f}");
    }
}

#[test]
fn states_and_expression_combine_with_and() {
    let f = parse("state established sport = :22");
    assert!(m(
        &f,
        &tcp(State::Established, "127.0.0.1:22", "127.0.0.1:5")
    ));
    assert!(!m(&f, &tcp(State::Listen, "127.0.0.1:22", "0.0.0.0:0")));
    assert!(!m(
        &f,
        &tcp(State::Established, "127.0.0.1:23", "127.0.0.1:5")
    ));
}

// ---- unix sockets ----

#[test]
fn address_and_port_tests_are_false_on_unix_sockets() {
    let u = unix(State::Established);
    for f in [
        "sport = :22",
        "dport != :443",
        "dport > :1024",
        "sport < :65535",
        "src 127.0.0.1",
        "dst 0.0.0.0/0",
        "src *",
        "sport = :*",
    ] {
        let f = parse(f);
        assert!(!m(&f, &u), "{f:?}");
        assert!(!f.may_match_unix(), "{f:?}");
    }
    // only an explicit `not` turns them into true
    for f in [
        "not sport = :22",
        "sport = :22 or not dst 10.0.0.0/8",
        "!(src 127.0.0.1)",
    ] {
        let f = parse(f);
        assert!(m(&f, &u), "{f:?}");
        assert!(f.may_match_unix(), "{f:?}");
    }
    assert!(parse("state listening").may_match_unix());
    assert!(Filter::default().may_match_unix());
}

// ---- owners and uid ----

#[test]
fn pid_program_and_uid_matchers() {
    let s = tcp(State::Established, "127.0.0.1:22", "127.0.0.1:5000");
    let owners = [
        Owner {
            pid: 10,
            fd: 3,
            name: b"sshd",
            container: None,
        },
        Owner {
            pid: 11,
            fd: 4,
            name: b"a-very-long-nam",
            container: None,
        }, // comm cut to 15 bytes
    ];
    let f = Filter::default().with_pid(10);
    assert!(f.has_conditions() && f.needs_owners());
    assert_eq!(f.state_mask(), None);
    assert!(f.matches(&s, owners.iter().cloned()));
    assert!(!f.matches(&s, owners[1..].iter().cloned()));
    assert!(
        !f.matches(&s, std::iter::empty()),
        "no owner known → no match"
    );
    // several pids OR together
    assert!(Filter::default()
        .with_pid(99)
        .with_pid(11)
        .matches(&s, owners.iter().cloned()));

    let f = Filter::default().with_program(b"sshd");
    assert!(f.matches(&s, owners.iter().cloned()));
    assert!(!f.matches(&s, owners[1..].iter().cloned()));
    assert!(!Filter::default()
        .with_program(b"ssh")
        .matches(&s, owners.iter().cloned()));
    // a name longer than comm matches on comm's 15 bytes
    let f = Filter::default().with_program(b"a-very-long-name-indeed");
    assert!(f.matches(&s, owners.iter().cloned()));

    // pid and program together must hold for the same owner
    let f = Filter::default().with_pid(11).with_program(b"sshd");
    assert!(!f.matches(&s, owners.iter().cloned()));
    let f = Filter::default().with_pid(10).with_program(b"sshd");
    assert!(f.matches(&s, owners.iter().cloned()));

    let f = Filter::default().with_uid(1000);
    assert!(f.has_conditions() && !f.needs_owners());
    assert!(m(&f, &s));
    assert!(!m(&Filter::default().with_uid(0), &s));
    let mut no_uid = s.clone();
    no_uid.uid = None;
    assert!(!m(&f, &no_uid));

    // --container: an id prefix or a whole name, on some owner
    let docker = crate::container::from_path(
        b"/system.slice/docker-3f2a9c1b7d0e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c.scope",
    )
    .expect("docker");
    let lxc = crate::container::from_path(b"/lxc.payload.web").expect("lxc");
    let in_containers = [
        Owner {
            container: Some(&docker),
            ..owners[0].clone()
        },
        Owner {
            container: Some(&lxc),
            ..owners[1].clone()
        },
    ];
    let f = Filter::default().with_container(b"3f2a9c1b");
    assert!(f.has_conditions() && f.needs_owners() && f.needs_containers());
    assert!(f.matches(&s, in_containers.iter().cloned()));
    assert!(!f.matches(&s, in_containers[1..].iter().cloned()));
    assert!(
        !f.matches(&s, owners.iter().cloned()),
        "no container → no match"
    );
    assert!(Filter::default()
        .with_container(b"nope")
        .with_container(b"web")
        .matches(&s, in_containers[1..].iter().cloned()));
    assert!(!Filter::default()
        .with_container(b"3f2a9c1b")
        .with_pid(11)
        .matches(&s, in_containers.iter().cloned()));

    // combined with a parsed filter
    let f = parse("sport = :22").with_uid(1000).with_pid(10);
    assert!(f.matches(&s, owners.iter().cloned()));
    assert!(!f.matches(&s, owners[1..].iter().cloned()));
}

#[test]
fn uid_values_are_numbers_or_user_names() {
    let t = tables();
    assert_eq!(parse_uid("0", &t), Ok(0));
    assert_eq!(parse_uid("1000", &t), Ok(1000));
    assert_eq!(parse_uid("alice", &t), Ok(1000));
    assert_eq!(parse_uid("root", &t), Ok(0));
    assert!(parse_uid("bob", &t)
        .expect_err("unknown")
        .contains("no such user: bob"));
    assert!(parse_uid("99999999999", &t)
        .expect_err("range")
        .contains("out of range"));
    assert!(parse_uid("", &t).is_err());
}

// ---- errors ----

#[track_caller]
fn assert_err(input: &str, token: Option<usize>, text: &str, msg_part: &str) {
    let e = parse_err(input);
    assert_eq!(e.token_index(), token, "{input:?}: {e}");
    assert_eq!(e.token_text(), text, "{input:?}: {e}");
    assert!(
        e.message().contains(msg_part),
        "{input:?}: {:?} lacks {msg_part:?}",
        e.message()
    );
}

#[test]
fn errors_name_the_offending_token() {
    assert_err("sport = :abc", Some(2), ":abc", "expected a port after ':'");
    assert_err("sport = :70000", Some(2), ":70000", "out of range");
    assert_err("sport =", None, "", "expected a port after '='");
    assert_err("dport", None, "", "expected a port after 'dport'");
    assert_err("src", None, "", "expected an address after 'src'");
    assert_err("state", None, "", "expected a state name after 'state'");
    assert_err("state bogus", Some(1), "bogus", "unknown state 'bogus'");
    assert_err(
        "exclude listening sport = :1 state established",
        Some(5),
        "state",
        "must come before",
    );
    assert_err(
        "src localhost",
        Some(1),
        "localhost",
        "host names are not resolved",
    );
    assert_err("src 10.0.0.0/33", Some(1), "10.0.0.0/33", "prefix length");
    assert_err("dst [::1", Some(1), "[::1", "no closing ']'");
    assert_err("dst [::1]x", Some(1), "[::1]x", "expected ':PORT'");
    assert_err("dst fe80::1:ssh:", Some(1), "fe80::1:ssh:", "not resolved");
    assert_err(
        "src /run/x.sock",
        Some(1),
        "/run/x.sock",
        "unix socket paths",
    );
    assert_err("src > 10.0.0.1", Some(1), ">", "takes only = or !=");
    assert_err(
        "sport = :1 and",
        None,
        "",
        "expected a condition after 'and'",
    );
    assert_err("sport = :1 or", None, "", "expected a condition after 'or'");
    assert_err("not", None, "", "expected a condition after 'not'");
    assert_err("( sport = :1", Some(0), "(", "never closed");
    assert_err("sport = :1 )", Some(3), ")", "without a matching '('");
    assert_err("( )", Some(1), ")", "empty parentheses");
    assert_err("sport = :1 bogus", Some(3), "bogus", "expected a condition");
    assert_err(
        "established",
        Some(0),
        "established",
        "write 'state established'",
    );
    assert_err("= :22", Some(0), "=", "needs a condition word");
    assert_err(
        "sport = and",
        Some(2),
        "and",
        "expected a port after 'sport'",
    );
    assert_err(
        "sport = 127.0.0.1:22",
        Some(2),
        "127.0.0.1:22",
        "use src/dst",
    );
}

#[test]
fn error_positions_count_tokens_over_all_words() {
    let e = Filter::parse(
        &["state", "established", "(sport = :1", "or", "dport = :x)"],
        &tables(),
    )
    .expect_err("bad port");
    // tokens: state established ( sport = :1 or dport = :x )
    assert_eq!(e.token_index(), Some(9));
    assert_eq!(e.token_text(), ":x");
    assert_eq!(e.input(), "state established (sport = :1 or dport = :x)");
}

#[test]
fn caret_rendering_points_under_the_token() {
    let e = parse_err("sport = :abc");
    assert_eq!(
        e.to_string(),
        "filter error: expected a port after ':' but 'abc' is neither a number nor a service \
         name in /etc/services\n  sport = :abc\n          ^^^^"
    );
    assert_eq!(e.caret(), "        ^^^^");

    // at the end: one caret just past the input
    let e = parse_err("sport =");
    assert_eq!(
        e.to_string(),
        "filter error: expected a port after '='\n  sport =\n          ^"
    );

    // a glued parenthesis gets its own caret
    let e = Filter::parse(&["(sport = :1", "or", "dport = :2"], &tables()).expect_err("unclosed");
    assert_eq!(e.caret(), "^");
    let e = parse_err("sport = :1 or (dport = :2))");
    assert_eq!(e.token_text(), ")");
    assert_eq!(e.caret(), format!("{}^", " ".repeat(26)));

    // non-ASCII input: columns count characters, not bytes
    let e = parse_err("src é");
    assert_eq!(e.caret(), "    ^");
}

// ---- limits (found by the `filter` fuzz target) ----

#[test]
fn deeply_nested_parentheses_are_an_error_not_a_stack_overflow() {
    let deep = format!("{}sport = :1{}", "(".repeat(20_000), ")".repeat(20_000));
    let e = parse_err(&deep);
    assert!(e.message().contains("nest more than"), "{e}");
    assert_eq!(e.token_index(), Some(MAX_NESTING_FOR_TEST));
    // The limit itself still parses.
    let ok = format!(
        "{}sport = :1{}",
        "(".repeat(MAX_NESTING_FOR_TEST),
        ")".repeat(MAX_NESTING_FOR_TEST)
    );
    assert!(m(
        &parse(&ok),
        &tcp(State::Listen, "0.0.0.0:1", "0.0.0.0:0")
    ));
}

#[test]
fn a_long_run_of_nots_is_an_error_not_a_stack_overflow() {
    let e = parse_err(&format!("{}sport = :1", "!".repeat(100_000)));
    assert!(e.message().contains("nest more than"), "{e}");
    let e = parse_err(&format!("{}sport = :1", "not ".repeat(50_000)));
    assert!(e.message().contains("nest more than"), "{e}");
    // An even number of nots up to the limit cancels out.
    let ok = parse(&format!("{}sport = :1", "!".repeat(MAX_NESTING_FOR_TEST)));
    assert!(m(&ok, &tcp(State::Listen, "0.0.0.0:1", "0.0.0.0:0")));
}

#[test]
fn too_many_conditions_are_an_error_not_a_stack_overflow() {
    // A chain builds a tree as deep as it is long; 100,000 terms overflowed evaluating it.
    let e = parse_err(&"sport = :1 ".repeat(100_000));
    assert!(e.message().contains("conditions"), "{e}");
    let e = parse_err(&"dst 10.0.0.1 or ".repeat(50_000));
    assert!(e.message().contains("conditions"), "{e}");
    // The limit itself parses, evaluates and compiles.
    let ok = parse(&"sport != :1 ".repeat(super::parse::MAX_CONDITIONS));
    assert!(m(&ok, &tcp(State::Listen, "0.0.0.0:2", "0.0.0.0:0")));
    assert!(ok.inet_bytecode(InetProto::Tcp).is_some());
}

const MAX_NESTING_FOR_TEST: usize = super::parse::MAX_NESTING;

/// Shell completion offers these words (src/completions.rs): each must mean something here.
#[test]
fn every_completed_filter_word_parses() {
    for state in STATE_WORDS {
        parse(&format!("state {state}"));
        parse(&format!("exclude {state}"));
    }
    let uses = [
        ("state", "state established"),
        ("exclude", "exclude listening"),
        ("sport", "sport = :1"),
        ("dport", "dport != :2"),
        ("src", "src 127.0.0.1"),
        ("dst", "dst ::1"),
        ("dev", "dev = 1"),
        ("fwmark", "fwmark = 0x10/0xff"),
        ("cgroup", "cgroup = /"),
        ("autobound", "autobound"),
        ("and", "sport = :1 and dport = :2"),
        ("or", "sport = :1 or dport = :2"),
        ("not", "not sport = :1"),
    ];
    for word in FILTER_KEYWORDS {
        let (_, text) = uses
            .iter()
            .find(|(w, _)| w == word)
            .unwrap_or_else(|| panic!("no example use of the completed keyword {word:?}"));
        parse(text);
    }
}
