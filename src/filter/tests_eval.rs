//! Filters on real sockets: a loopback listener, a client and the accepted connection, read back
//! through both sources and through the kernel state mask, must give exactly the sockets the
//! filter names — the same set every way.

use std::collections::BTreeSet;
use std::net::{SocketAddr, TcpListener, TcpStream};

use crate::cli::Args;
use crate::config::Config;
use crate::filter::{parse_uid, Filter, NoLookup, SystemTables};
use crate::listing::{snapshot, Snapshot};
use crate::model::{Family, InetProto, Socket, State, Table};
use crate::source::{Query, SourceChoice, Sources};
use clap::Parser;

/// A listener on 127.0.0.1:0, a client connected to it and the accepted server side.
struct Trio {
    _listener: TcpListener,
    _client: TcpStream,
    _server: TcpStream,
    port: u16,
    client_port: u16,
}

impl Trio {
    fn open() -> Trio {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("local addr").port();
        let client = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        let client_port = client.local_addr().expect("client addr").port();
        let (server, _) = listener.accept().expect("accept");
        Trio {
            _listener: listener,
            _client: client,
            _server: server,
            port,
            client_port,
        }
    }

    fn at(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    fn listener(&self) -> Key {
        (
            State::Listen.tcp_name(),
            Trio::at(self.port),
            "0.0.0.0:0".parse().expect("any"),
        )
    }
    fn server(&self) -> Key {
        (
            State::Established.tcp_name(),
            Trio::at(self.port),
            Trio::at(self.client_port),
        )
    }
    fn client(&self) -> Key {
        (
            State::Established.tcp_name(),
            Trio::at(self.client_port),
            Trio::at(self.port),
        )
    }
}

type Key = (&'static str, SocketAddr, SocketAddr);

fn key(s: &Socket) -> Key {
    let i = s.inet().expect("an inet socket");
    (s.state.tcp_name(), i.local, i.remote)
}

fn take(argv: &[&str]) -> Snapshot {
    let args = Args::try_parse_from(std::iter::once("rnetstat").chain(argv.iter().copied()))
        .expect("args parse");
    let cfg = Config::from_args(&args).expect("valid config");
    let snap = snapshot(&cfg).expect("snapshot");
    assert!(
        snap.outcome.failures.is_empty(),
        "{:?}",
        snap.outcome.failures
    );
    snap
}

fn select(f: &Filter, snap: &Snapshot) -> BTreeSet<Key> {
    snap.sockets
        .iter()
        .filter(|s| match &snap.owners {
            Some(o) => f.matches(s, o.owners(s.inode)),
            None => f.matches(s, std::iter::empty()),
        })
        .map(key)
        .collect()
}

fn filter(text: &str) -> Filter {
    Filter::parse(&[text], &NoLookup).unwrap_or_else(|e| panic!("{text}:\n{e}"))
}

fn set(keys: &[Key]) -> BTreeSet<Key> {
    keys.iter().copied().collect()
}

#[test]
fn a_filter_on_a_listeners_port_lists_exactly_its_sockets() {
    let t = Trio::open();
    let p = t.port;
    let cases: Vec<(String, BTreeSet<Key>)> = vec![
        (
            format!("src 127.0.0.1:{p}"),
            set(&[t.listener(), t.server()]),
        ),
        (
            format!("sport = :{p} and src 127.0.0.1"),
            set(&[t.listener(), t.server()]),
        ),
        (format!("dst 127.0.0.1:{p}"), set(&[t.client()])),
        (format!("dport == {p} dst 127.0.0.0/8"), set(&[t.client()])),
        (
            format!("state listening src 127.0.0.1:{p}"),
            set(&[t.listener()]),
        ),
        (
            format!("exclude listening src 127.0.0.1:{p}"),
            set(&[t.server()]),
        ),
        (
            format!("state established ( sport = :{p} or dport = :{p} ) src 127.0.0.0/8"),
            set(&[t.server(), t.client()]),
        ),
        (
            format!("state listening state established (src 127.0.0.1:{p} or dst 127.0.0.1:{p})"),
            set(&[t.listener(), t.server(), t.client()]),
        ),
        (
            format!("not sport = :{p} and dport = :{p} and dst 127.0.0.1"),
            set(&[t.client()]),
        ),
        (
            format!(
                "src 127.0.0.1:{p} and ( dport > :{} or dport < :1 )",
                t.client_port - 1
            ),
            set(&[t.listener(), t.server()]),
        ),
        (
            format!("src 127.0.0.1:{p} and dport >= :{}", t.client_port + 1),
            set(&[]),
        ),
        (format!("state time-wait src 127.0.0.1:{p}"), set(&[])),
    ];
    let by_netlink = take(&["-tan", "--source", "netlink"]);
    let by_proc = take(&["-tan", "--source", "proc"]);
    for (text, want) in &cases {
        let f = filter(text);
        assert_eq!(&select(&f, &by_netlink), want, "netlink: {text}");
        assert_eq!(&select(&f, &by_proc), want, "/proc: {text}");
    }
}

#[test]
fn the_state_mask_goes_to_the_kernel_with_the_same_result() {
    let t = Trio::open();
    let f = filter(&format!("state listening src 127.0.0.1:{}", t.port));
    let mask = f.request_mask(u32::MAX);
    assert_eq!(mask, State::Listen.mask_bit());
    for choice in [SourceChoice::Netlink, SourceChoice::Proc] {
        let mut sources = Sources::new(choice, "/proc".into());
        let mut got = Vec::new();
        sources
            .list(
                Table::Inet(InetProto::Tcp, Family::V4),
                &Query {
                    states: mask,
                    ..Query::default()
                },
                &mut |s: &Socket| {
                    got.push(s.clone());
                    Ok(())
                },
            )
            .expect("list tcp");
        // The source already dropped every non-listener: the mask did the state part.
        assert!(
            got.iter().all(|s| s.state == State::Listen),
            "{choice:?}: {got:?}"
        );
        let matched: BTreeSet<Key> = got
            .iter()
            .filter(|s| f.matches(s, std::iter::empty()))
            .map(key)
            .collect();
        assert_eq!(matched, set(&[t.listener()]), "{choice:?}");
    }
}

#[test]
fn pid_program_and_uid_select_this_processes_sockets() {
    let t = Trio::open();
    let p = t.port;
    let snap = take(&["-tanp"]);
    assert!(snap.owners.is_some());
    let me = std::process::id();
    let comm = std::fs::read("/proc/self/comm").expect("comm");
    let comm = comm.strip_suffix(b"\n").unwrap_or(&comm);
    let mine_on_p = format!("src 127.0.0.1:{p} or dst 127.0.0.1:{p}");
    let all3 = set(&[t.listener(), t.server(), t.client()]);

    assert_eq!(select(&filter(&mine_on_p).with_pid(me), &snap), all3);
    assert_eq!(select(&filter(&mine_on_p).with_program(comm), &snap), all3);
    assert_eq!(
        select(&filter(&mine_on_p).with_pid(me).with_program(comm), &snap),
        all3
    );
    assert_eq!(
        select(&filter(&mine_on_p).with_pid(u32::MAX), &snap),
        set(&[])
    );
    assert_eq!(
        select(&filter(&mine_on_p).with_program(b"no-such-comm"), &snap),
        set(&[])
    );
    // --pid alone, no expression: every socket of this process, ours among them
    let mine = select(&Filter::default().with_pid(me), &snap);
    assert!(mine.is_superset(&all3), "{mine:?}");

    let uid = rustix::process::geteuid().as_raw();
    assert_eq!(select(&filter(&mine_on_p).with_uid(uid), &snap), all3);
    assert_eq!(
        select(&filter(&mine_on_p).with_uid(uid.wrapping_add(1)), &snap),
        set(&[])
    );
    // a user name resolves through passwd text (made here: no assumption about /etc/passwd)
    let passwd = format!("someone:x:{uid}:{uid}::/:/bin/false\n");
    let tables = SystemTables::from_text(b"", passwd.as_bytes());
    assert_eq!(parse_uid("someone", &tables), Ok(uid));
}

#[test]
fn port_filters_never_match_unix_sockets_but_their_negation_does() {
    let dir = std::env::temp_dir().join(format!("rnetstat-filter-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    struct Cleanup(std::path::PathBuf);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let _cleanup = Cleanup(dir.clone());
    let path = dir.join("l.sock");
    let _l = std::os::unix::net::UnixListener::bind(&path).expect("bind unix");
    let snap = take(&["-xan"]);
    let ours = |s: &&Socket| {
        s.unix()
            .and_then(|u| u.name.as_ref())
            .is_some_and(|n| n.display_bytes().as_ref() == path.as_os_str().as_encoded_bytes())
    };
    let sock = snap
        .sockets
        .iter()
        .find(ours)
        .expect("our unix listener is listed");
    assert_eq!(sock.state, State::Listen);
    for text in [
        "sport = :1",
        "sport != :1",
        "sport > :0",
        "src 127.0.0.1",
        "src *",
    ] {
        let f = filter(text);
        assert!(!f.matches(sock, std::iter::empty()), "{text}");
        assert!(!f.may_match_unix(), "{text}");
    }
    for text in [
        "not sport = :1",
        "state listening",
        "state listening not src *",
    ] {
        let f = filter(text);
        assert!(f.matches(sock, std::iter::empty()), "{text}");
    }
    assert!(!filter("state established").matches(sock, std::iter::empty()));
}
