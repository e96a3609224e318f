//! [`Sources::list_tcp_both`] on real loopback sockets of both families: the one legacy request
//! gives what the two per-table lists give, in their order, with the kernel applying the
//! states, the filter program and the extensions asked for. Needs no privilege (sock_diag
//! dumps are open to everyone).

use std::net::{TcpListener, TcpStream};

use super::*;
use crate::filter::{Filter, NoLookup};
use crate::model::{Family, InetProto, State};

/// A listener on `addr`, a client connected to it and the accepted end.
fn trio(addr: &str) -> (TcpListener, TcpStream, TcpStream, u16) {
    let l = TcpListener::bind(addr).expect("bind");
    let port = l.local_addr().expect("addr").port();
    let c = TcpStream::connect(l.local_addr().expect("addr")).expect("connect");
    let (a, _) = l.accept().expect("accept");
    (l, c, a, port)
}

const TCP4: Table = Table::Inet(InetProto::Tcp, Family::V4);
const TCP6: Table = Table::Inet(InetProto::Tcp, Family::V6);

fn per_table(query: &Query) -> Vec<Socket> {
    let mut got = Vec::new();
    let mut src = Sources::new(SourceChoice::Netlink, "/proc".into());
    for t in [TCP4, TCP6] {
        src.list(t, query, &mut |s: &Socket| {
            got.push(s.clone());
            Ok(())
        })
        .expect("a per-table dump");
    }
    got
}

fn together(query: &Query) -> (Vec<Socket>, Served, Served) {
    let mut got = Vec::new();
    let (a, b) = Sources::new(SourceChoice::Netlink, "/proc".into())
        .list_tcp_both(query, &mut |s: &Socket| {
            got.push(s.clone());
            Ok(())
        })
        .expect("this kernel answers TCPDIAG_GETSOCK");
    (got, a, b)
}

/// (table, state, local, remote) of the sockets on `ports`: other tests open and close sockets
/// meanwhile, so only ours are compared.
fn ours(
    list: &[Socket],
    ports: &[u16],
) -> Vec<(Table, State, std::net::SocketAddr, std::net::SocketAddr)> {
    let mut v: Vec<_> = list
        .iter()
        .filter_map(|s| {
            let i = s.inet()?;
            (ports.contains(&i.local.port()) || ports.contains(&i.remote.port())).then_some((
                s.table(),
                s.state,
                i.local,
                i.remote,
            ))
        })
        .collect();
    // The walk meets both families interleaved; what comes out is sorted by table below.
    v.sort_by_key(|k| (k.0 == TCP6, k.2, k.3));
    v
}

#[test]
fn one_legacy_request_lists_both_tcp_tables_as_two_dumps_do() {
    let v4 = trio("127.0.0.1:0");
    let v6 = trio("[::1]:0");
    let ports = [v4.3, v6.3];
    let no_time_wait = State::KNOWN_MASK & !State::TimeWait.mask_bit();
    let query = Query {
        states: no_time_wait,
        ..Query::default()
    };
    let (both, served, served6) = together(&query);
    assert_eq!(ours(&both, &ports), ours(&per_table(&query), &ports));
    assert_eq!(ours(&both, &ports).len(), 6, "three sockets per family");
    assert_eq!((served.table, served6.table), (TCP4, TCP6));
    assert_eq!(
        (served.by, served6.by),
        (SourceKind::Netlink, SourceKind::Netlink)
    );
    assert!(served.skipped.is_empty() && served6.skipped.is_empty());

    // The states mask is the kernel's to apply: listeners only.
    let listening = Query {
        states: State::Listen.mask_bit(),
        ..Query::default()
    };
    let (both, ..) = together(&listening);
    assert!(both.iter().all(|s| s.state == State::Listen));
    assert_eq!(ours(&both, &ports).len(), 2);

    // So is the filter program: nothing here filters in user space.
    let text = format!("src 127.0.0.1:{} or src [::1]:{}", v4.3, v6.3);
    let f = Filter::parse(&[text], &NoLookup).expect("parses");
    let filtered = Query {
        states: no_time_wait,
        bytecode: f.inet_bytecode(InetProto::Tcp),
        ..Query::default()
    };
    let (both, ..) = together(&filtered);
    let sports: Vec<_> = both
        .iter()
        .map(|s| (s.table(), s.inet().map(|i| i.local.port())))
        .collect();
    assert_eq!(
        sports.len(),
        4,
        "each family's listener and accepted end: {sports:?}"
    );
    assert!(
        both.iter()
            .all(|s| s.inet().is_some_and(|i| i.kernel_filtered)),
        "{sports:?}"
    );
    assert_eq!(ours(&both, &ports), ours(&per_table(&filtered), &ports));

    // And the extensions: tcp_info and memory on every socket of both families.
    let internals = Query {
        internals: true,
        ..filtered
    };
    let (both, ..) = together(&internals);
    assert_eq!(both.len(), 4);
    for s in &both {
        let x = s
            .inet()
            .and_then(|i| i.internals.as_ref())
            .expect("internals");
        assert!(x.info.is_some() && x.skmeminfo.is_some(), "{s:?}");
    }
}

#[test]
fn the_proc_source_never_takes_the_legacy_request() {
    let r = Sources::new(SourceChoice::Proc, "/proc".into())
        .list_tcp_both(&Query::default(), &mut |_| Ok(()));
    assert!(r.is_err_and(|e| e.wants_fallback()));
}
