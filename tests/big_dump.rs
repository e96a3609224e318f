//! A table big enough that a dump spans many netlink datagrams, so the paths small tests never
//! reach are taken: the first table's dump read ahead while owners are scanned, then the rest
//! received on a second thread while the first decodes. Every socket this test holds must be
//! listed exactly once, with this process as its owner, by every owner scan and source.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::net::{TcpListener, TcpStream};

use common::{describe, inode_of, json_records, owner_pids, run};

/// Connections to hold: 2 sockets each, ~8 datagrams of TCP records.
const CONNECTIONS: usize = 800;

/// Raises the soft descriptor limit to the hard one (the test needs ~1,700 descriptors).
fn raise_fd_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: lim is a valid rlimit for getrlimit/setrlimit to read and write.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
            libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        }
    }
    lim.rlim_cur
}

#[test]
fn every_socket_of_a_many_datagram_dump_is_listed_once_with_its_owner() {
    if raise_fd_limit() < (2 * CONNECTIONS + 200) as u64 {
        eprintln!("skipping: the descriptor limit is below what {CONNECTIONS} connections need");
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let mut held = Vec::with_capacity(2 * CONNECTIONS);
    for _ in 0..CONNECTIONS {
        let c = TcpStream::connect(addr).expect("connect");
        let (a, _) = listener.accept().expect("accept");
        held.push(c);
        held.push(a);
    }
    let mut ours: HashSet<u64> = held.iter().map(inode_of).collect();
    ours.insert(inode_of(&listener));
    let me = u64::from(std::process::id());

    for args in [
        &["--json", "-tanp"][..],
        &["--json", "-tanp", "--owner-scan", "proc"],
        &["--json", "-tan"],
        &["--json", "-tanp", "--source", "proc"],
    ] {
        let out = run(args);
        let what = format!("rnetstat {}", args.join(" "));
        assert!(out.status.success(), "{}", describe(&what, &out));
        let mut seen: BTreeMap<u64, usize> = BTreeMap::new();
        for r in json_records(&out) {
            let Some(inode) = r["inode"].as_u64() else {
                continue;
            };
            if !ours.contains(&inode) {
                continue;
            }
            *seen.entry(inode).or_default() += 1;
            if args.contains(&"-tanp") {
                assert!(owner_pids(&r).contains(&me), "{what}: owner missing: {r}");
            }
        }
        let missing: Vec<_> = ours.iter().filter(|i| !seen.contains_key(i)).collect();
        let repeated: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
        assert!(
            missing.is_empty(),
            "{what}: {} of ours missing",
            missing.len()
        );
        assert!(repeated.is_empty(), "{what}: listed twice: {repeated:?}");
    }
}
