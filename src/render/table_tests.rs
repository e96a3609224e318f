//! The table renderer into a `Vec<u8>`: netstat's headers and column widths, cells that grow
//! instead of being cut, every owner, and names escaped.

use std::time::Duration;

use super::table::TableWriter;
use super::{Context, RenderOptions, Section};
use crate::config::{Internals, ShowMode};
use crate::model::{
    Detail, Family, InetInfo, InetProto, Socket, State, UnixInfo, UnixName, UnixType,
};
use crate::names::{Names, NumericMode};
use crate::procmap::OwnerMap;

fn opts(show: ShowMode, programs: bool) -> RenderOptions {
    RenderOptions {
        show,
        programs,
        extend: false,
        timers: false,
        internals: Internals::default(),
        netns: false,
        headers: true,
    }
}

fn numeric() -> Names {
    let all = NumericMode {
        hosts: true,
        ports: true,
        users: true,
    };
    Names::new(all, Duration::ZERO)
}

fn inet(proto: InetProto, state: State, local: &str, remote: &str, inode: u64) -> Socket {
    let local: std::net::SocketAddr = local.parse().expect("local address");
    Socket {
        state,
        recv_q: Some(1),
        send_q: Some(22),
        uid: Some(0),
        inode,
        detail: Detail::Inet(InetInfo {
            bound_if: 0,
            mark: None,
            cgroup_id: None,
            kernel_filtered: false,
            backlog: None,
            proto,
            family: if local.is_ipv4() {
                Family::V4
            } else {
                Family::V6
            },
            local,
            remote: remote.parse().expect("remote address"),
            timer: None,
            internals: None,
        }),
    }
}

fn unix(state: State, name: Option<UnixName>, inode: u64) -> Socket {
    Socket {
        state,
        recv_q: Some(0),
        send_q: Some(0),
        uid: Some(0),
        inode,
        detail: Detail::Unix(UnixInfo {
            kind: UnixType::Stream,
            name,
            peer_inode: None,
            refcnt: None,
        }),
    }
}

/// Renders `sockets` under their sections, as a listing does.
fn render(o: RenderOptions, ctx: Context<'_>, sockets: &[(Section, Socket)]) -> String {
    let mut names = numeric();
    let mut w = TableWriter::new(Vec::new(), o, &mut names, ctx);
    let mut section = None;
    for (sec, s) in sockets {
        if section != Some(*sec) {
            section = Some(*sec);
            w.section(*sec).expect("renders");
        }
        w.socket(s).expect("renders");
    }
    String::from_utf8(w.finish().expect("flushes")).expect("UTF-8")
}

#[test]
fn inet_rows_keep_netstat_columns_and_header_words() {
    let got = render(
        opts(ShowMode::All, false),
        Context::default(),
        &[
            (
                Section::Inet,
                inet(
                    InetProto::Tcp,
                    State::Listen,
                    "127.0.0.1:8080",
                    "0.0.0.0:0",
                    1,
                ),
            ),
            (
                Section::Inet,
                inet(InetProto::Udp, State::Close, "0.0.0.0:53", "0.0.0.0:0", 2),
            ),
        ],
    );
    assert_eq!(
        got,
        "Active Internet connections (servers and established)\n\
         Proto Recv-Q Send-Q Local Address           Foreign Address         State      \n\
         tcp        1     22 127.0.0.1:8080          0.0.0.0:*               LISTEN     \n\
         udp        1     22 0.0.0.0:53              0.0.0.0:*                          \n"
    );
}

/// `-H`: the same rows, in both sections, with no section header and no column titles.
#[test]
fn no_headers_leaves_only_the_rows() {
    let sockets = [
        (
            Section::Inet,
            inet(
                InetProto::Tcp,
                State::Listen,
                "127.0.0.1:8080",
                "0.0.0.0:0",
                1,
            ),
        ),
        (
            Section::Unix,
            unix(State::Listen, Some(UnixName::Path(b"/run/x".to_vec())), 2),
        ),
    ];
    let with = render(opts(ShowMode::All, true), Context::default(), &sockets);
    let without = render(
        RenderOptions {
            headers: false,
            ..opts(ShowMode::All, true)
        },
        Context::default(),
        &sockets,
    );
    let rows: Vec<&str> = with
        .lines()
        .filter(|l| !l.starts_with("Active ") && !l.starts_with("Proto "))
        .collect();
    assert_eq!(rows.len(), 2, "{with}");
    assert_eq!(without.lines().collect::<Vec<_>>(), rows);
}

#[test]
fn header_suffix_follows_the_show_mode() {
    for (show, suffix) in [
        (ShowMode::All, "(servers and established)"),
        (ShowMode::Listening, "(only servers)"),
        (ShowMode::NonListening, "(w/o servers)"),
    ] {
        let mut names = numeric();
        let mut w = TableWriter::new(
            Vec::new(),
            opts(show, false),
            &mut names,
            Context::default(),
        );
        w.section(Section::Unix).expect("renders");
        let text = String::from_utf8(w.finish().expect("flushes")).expect("UTF-8");
        assert_eq!(
            text.lines().next(),
            Some(format!("Active UNIX domain sockets {suffix}").as_str())
        );
    }
}

#[test]
fn a_long_ipv6_address_is_never_cut_and_the_row_grows() {
    let local = "[2001:db8:1234:5678:9abc:def0:1234:5678]:443";
    let got = render(
        opts(ShowMode::All, false),
        Context::default(),
        &[(
            Section::Inet,
            inet(InetProto::Tcp, State::Established, local, "[::1]:55555", 3),
        )],
    );
    let row = got.lines().nth(2).expect("a row");
    assert_eq!(
        row,
        "tcp6       1     22 2001:db8:1234:5678:9abc:def0:1234:5678:443 ::1:55555               ESTABLISHED"
    );
}

#[test]
fn every_owner_is_listed_and_hostile_names_are_escaped() {
    let owners = OwnerMap::from_triples(
        &[(7, 100, 3), (7, 200, 4), (8, 300, 5)],
        &[
            (100, b"nginx"),
            (200, b"evil\x1b]0;T\x07"),
            (300, b"\xffbad\n"),
        ],
    );
    let ctx = Context {
        owners: Some(&owners),
        cgroups: None,
    };
    let got = render(
        opts(ShowMode::All, true),
        ctx,
        &[
            (
                Section::Inet,
                inet(InetProto::Tcp, State::Listen, "0.0.0.0:80", "0.0.0.0:0", 7),
            ),
            (
                Section::Unix,
                unix(
                    State::Listen,
                    Some(UnixName::Path(b"/run/a b\x1b[2J.sock".to_vec())),
                    8,
                ),
            ),
        ],
    );
    assert!(!got.bytes().any(|b| b == 0x1b || b == 0x07), "{got:?}");
    let lines: Vec<&str> = got.lines().collect();
    assert_eq!(
        lines[1],
        "Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name    "
    );
    assert!(
        lines[2].ends_with(r" 100/nginx,200/evil\x1b]0;T\x07"),
        "{:?}",
        lines[2]
    );
    assert_eq!(
        lines[4],
        "Proto RefCnt Flags       Type       State         I-Node   PID/Program name     Path"
    );
    assert!(lines[5].contains(r"300/\xffbad\n"), "{:?}", lines[5]);
    assert!(
        lines[5].ends_with(r"/run/a b\x1b[2J.sock"),
        "{:?}",
        lines[5]
    );
}

#[test]
fn the_netns_column_leads_and_containers_follow_owners_escaped() {
    let owners = OwnerMap::from_triples(&[(7, 100, 3), (8, 200, 4)], &[(100, b"nginx"), (200, b"sh")])
        .with_containers(vec![
            (
                100,
                crate::container::from_path(
                    b"/system.slice/docker-3f2a9c1b7d0e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c.scope",
                )
                .expect("docker"),
            ),
            (
                200,
                crate::container::from_path(b"/lxc.payload.w\x1b[2Jeb").expect("lxc"),
            ),
        ]);
    let ctx = Context {
        owners: Some(&owners),
        cgroups: None,
    };
    let mut o = opts(ShowMode::All, true);
    o.netns = true;
    let mut names = numeric();
    let mut w = TableWriter::new(Vec::new(), o, &mut names, ctx);
    w.section(Section::Inet).expect("renders");
    let own = crate::netns::Netns {
        inode: 4026531840,
        name: None,
        is_own: true,
    };
    let nameless = crate::netns::Netns {
        inode: 4026532281,
        name: None,
        is_own: false,
    };
    let hostile = crate::netns::Netns {
        inode: 4026532999,
        name: Some(b"evil\x1b]0;T\x07-and-long".to_vec().into()),
        is_own: false,
    };
    for ns in [&own, &nameless, &hostile] {
        w.set_netns(ns);
        w.socket(&inet(
            InetProto::Tcp,
            State::Listen,
            "0.0.0.0:80",
            "0.0.0.0:0",
            7,
        ))
        .expect("renders");
    }
    w.section(Section::Unix).expect("renders");
    w.set_netns(&nameless);
    w.socket(&unix(State::Listen, None, 8)).expect("renders");
    let got = String::from_utf8(w.finish().expect("flushes")).expect("UTF-8");
    assert!(!got.bytes().any(|b| b == 0x1b || b == 0x07), "{got:?}");
    let lines: Vec<&str> = got.lines().collect();
    assert!(lines[1].starts_with("Netns        Proto Recv-Q"), "{got}");
    assert!(lines[2].starts_with("[host]       tcp "), "{got}");
    assert!(lines[3].starts_with("[4026532281] tcp "), "{got}");
    assert!(
        lines[4].starts_with(r"evil\x1b]0;T\x07-and-long tcp "),
        "a long name grows the cell: {got}"
    );
    assert!(
        lines[2].ends_with(" 100/nginx@docker:3f2a9c1b7d0e"),
        "{got}"
    );
    assert!(lines[6].starts_with("Netns        Proto RefCnt"), "{got}");
    assert!(
        lines[7].starts_with("[4026532281] unix ") && lines[7].contains(r"200/sh@lxc:w\x1b[2Jeb"),
        "{got}"
    );
}
