//! Churn, through the real binary: while a helper process opens and closes thousands of loopback
//! connections and forks and reaps short-lived processes, 200 consecutive listings (most over
//! netlink, a portion over /proc) must each exit 0 with nothing on stderr, and every long-lived
//! socket the test holds must be in every one of them with this process as its owner.
//! Bounded: the helper stops itself after 55 s, and the listings stop after 50 s.

mod common;

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{describe, have_tool, inode_of, json_records, owner_pids, run};

/// Opens and closes loopback connections as fast as it can (most closed with a reset, so
/// TIME_WAIT does not pile up; one in fifty closed normally), and forks and reaps a short-lived
/// process every ten connections. Says "ready" once churning, stops when stdin closes or after
/// 55 s, and prints "<connections> <forks>" made since "ready", then how many connects failed
/// and why. A failed connect is part of churning (the acceptor resets connections as fast as
/// they come, so an occasional connect sees ECONNRESET): counted, not printed as it happens,
/// so a passing run writes nothing that looks like an error.
const HELPER: &str = r#"
import collections, os, socket, struct, sys, threading, time
deadline = time.time() + 55
stop = threading.Event()
def watch_stdin():
    sys.stdin.read()
    stop.set()
threading.Thread(target=watch_stdin, daemon=True).start()
linger = struct.pack("ii", 1, 0)  # close with a reset: no TIME_WAIT left behind
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1024)
def acceptor():
    while True:
        try:
            c, _ = srv.accept()
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            c.close()
        except OSError:
            return
threading.Thread(target=acceptor, daemon=True).start()
conns = forks = 0
failed = collections.Counter()
ready = None
while not stop.is_set() and time.time() < deadline:
    for i in range(10):
        try:
            s = socket.create_connection(srv.getsockname())
        except OSError as e:  # a reset, or no free ephemeral port: churn goes on
            failed[e.strerror or repr(e)] += 1
            time.sleep(0.01)
            continue
        if conns % 50:  # one in fifty closes normally and leaves a TIME_WAIT
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        s.close()
        conns += 1
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    forks += 1
    if ready is None and conns >= 200:
        ready = (conns, forks)
        print("ready", flush=True)
ready = ready or (0, 0)
print(conns - ready[0], forks - ready[1], flush=True)
print("failed connects:", dict(failed) or "none", flush=True)
"#;

struct Helper(Child);

impl Drop for Helper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn two_hundred_listings_under_churn_keep_every_long_lived_socket() {
    if !have_tool("python3") {
        eprintln!("skipping: needs python3 for the churn helper");
        return;
    }
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let c = TcpStream::connect(l.local_addr().expect("addr")).expect("connect");
    let (a, _) = l.accept().expect("accept");
    let held = [inode_of(&l), inode_of(&c), inode_of(&a)];
    let me = u64::from(std::process::id());

    let mut helper = Helper(
        Command::new("python3")
            .arg("-c")
            .arg(HELPER)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn helper"),
    );
    let mut lines = BufReader::new(helper.0.stdout.take().expect("stdout")).lines();
    assert_eq!(lines.next().and_then(Result::ok).as_deref(), Some("ready"));

    let start = Instant::now();
    let mut made = 0;
    let mut seen_total = 0usize;
    for i in 0..200 {
        // About 2 s on an idle machine; the bound only keeps a pathological run from hanging CI.
        if start.elapsed() > Duration::from_secs(240) {
            break;
        }
        let source = if i % 4 == 3 { "proc" } else { "netlink" };
        let out = run(&["--source", source, "--json", "-tanp"]);
        let what = format!("listing {i} (--source {source})");
        assert!(out.status.success(), "{}", describe(&what, &out));
        assert!(out.stderr.is_empty(), "{}", describe(&what, &out));
        let recs = json_records(&out);
        seen_total += recs.len();
        for inode in held {
            let r = recs
                .iter()
                .find(|r| r["inode"].as_u64() == Some(inode))
                .unwrap_or_else(|| panic!("{what}: held socket {inode} missing"));
            assert!(owner_pids(r).contains(&me), "{what}: owner missing: {r}");
        }
        made += 1;
    }
    drop(helper.0.stdin.take()); // the helper stops and reports
    let report = lines.next().and_then(Result::ok).unwrap_or_default();
    let failures = lines.next().and_then(Result::ok).unwrap_or_default();
    eprintln!("helper said {report:?}; {failures}");
    let mut nums = report
        .split_whitespace()
        .map(|n| n.parse::<u64>().unwrap_or(0));
    let (conns, forks) = (nums.next().unwrap_or(0), nums.next().unwrap_or(0));
    eprintln!(
        "{made} listings in {:?} ({} records on average) while the helper made {conns} \
         connections and {forks} forks",
        start.elapsed(),
        seen_total / made.max(1)
    );
    assert_eq!(made, 200, "all listings within the time bound");
    assert!(conns >= 1000, "the helper churned only {conns} connections");
    assert!(forks >= 50, "the helper forked only {forks} times");
    drop((l, c, a));
}
