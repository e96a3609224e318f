//! `-K/--kill`: connections to two listeners, the ones towards one of them closed; the others
//! and both listeners survive, the closed clients (and a closed UDP socket's owner) see
//! ECONNABORTED. Without CAP_NET_ADMIN nothing is closed and the exit status says so; without a
//! filter -K is a usage error.
//!
//! As root the sockets live in a network namespace of the test thread's own (the binary
//! inherits it); the closing part needs root and is skipped with a message otherwise.
//!
//! With `-N` (and the library's `Query::namespace`), the sockets are held by a python3 process
//! in a named namespace the test makes (`ip netns add`, deleted on drop), with sockets on the
//! same ports in the test's own namespace that must survive. The library's `Query::kill` is
//! checked the same way, and its refusal without a filter as any user.

mod common;

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, ChildStdin, ChildStdout, Command, Output, Stdio};
use std::time::Duration;

use common::{describe, end_exec_child, have_tool, is_root, NamedNs, SharedBin, BIN};

fn rnetstat(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("rnetstat runs")
}

struct Pair {
    client: TcpStream,
    server: TcpStream,
}

fn pairs(l: &TcpListener, n: usize) -> Vec<Pair> {
    let addr = l.local_addr().expect("address");
    (0..n)
        .map(|_| {
            let client = TcpStream::connect(addr).expect("connect");
            let (server, _) = l.accept().expect("accept");
            client
                .set_read_timeout(Some(Duration::from_secs(5)))
                .expect("timeout");
            server
                .set_read_timeout(Some(Duration::from_secs(5)))
                .expect("timeout");
            Pair { client, server }
        })
        .collect()
}

/// A byte each way still gets through.
fn alive(p: &mut Pair) -> bool {
    let mut b = [0u8; 1];
    p.client.write_all(b"a").is_ok()
        && p.server.read_exact(&mut b).is_ok()
        && p.server.write_all(b"b").is_ok()
        && p.client.read_exact(&mut b).is_ok()
}

#[test]
fn kill_without_a_filter_is_a_usage_error() {
    for args in [&["-K"][..], &["-K", "-t"], &["--kill", "-tan"]] {
        let out = rnetstat(args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}",
            describe("rnetstat -K", &out)
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("-K closes every socket"), "{err}");
        assert!(out.stdout.is_empty());
    }
}

fn scenario() {
    // SAFETY: unshare has no memory-safety preconditions; it changes only this thread.
    let isolated = unsafe { libc::unshare(libc::CLONE_NEWNET) } == 0
        && Command::new("ip")
            .args(["link", "set", "lo", "up"])
            .status()
            .is_ok_and(|s| s.success());
    assert!(isolated, "a root test could not make a network namespace");
    let la = TcpListener::bind("127.0.0.1:0").expect("listen");
    let lb = TcpListener::bind("[::1]:0").or_else(|_| TcpListener::bind("127.0.0.2:0"));
    let lb = lb.expect("listen");
    let (pa, pb) = (
        la.local_addr().expect("a").port(),
        lb.local_addr().expect("b").port(),
    );
    let mut to_a = pairs(&la, 2);
    let mut to_b = pairs(&lb, 2);

    // Unprivileged first: refused, non-zero, nothing closed.
    if have_tool("setpriv") {
        let filter = format!("dport = :{pb}");
        let out = Command::new("setpriv")
            .args([
                "--reuid",
                "65534",
                "--regid",
                "65534",
                "--clear-groups",
                BIN,
            ])
            .args(["-K", "-tn", &filter])
            .output()
            .expect("setpriv runs");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_ne!(
            out.status.code(),
            Some(0),
            "{}",
            describe("unprivileged -K", &out)
        );
        assert!(
            err.contains("CAP_NET_ADMIN"),
            "{}",
            describe("unprivileged -K", &out)
        );
        assert!(!String::from_utf8_lossy(&out.stdout).contains(&format!(":{pb}")));
        for p in &mut to_b {
            assert!(alive(p), "an unprivileged -K closed a connection");
        }
    } else {
        eprintln!("note: setpriv is not installed; the unprivileged case is not run");
    }

    // Close the clients' ends of the connections towards A.
    let filter = format!("dport = :{pa}");
    let out = rnetstat(&["-K", "-tn", "--json", &filter]);
    let what = describe(&format!("rnetstat -K -tn --json {filter}"), &out);
    assert_eq!(out.status.code(), Some(0), "{what}");
    let closed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let closed = closed.as_array().expect("array");
    assert_eq!(closed.len(), 2, "{what}");
    let mut ports: Vec<u64> = closed
        .iter()
        .map(|s| s["local"]["port"].as_u64().expect("local port"))
        .collect();
    ports.sort_unstable();
    let mut want: Vec<u64> = to_a
        .iter()
        .map(|p| u64::from(p.client.local_addr().expect("a").port()))
        .collect();
    want.sort_unstable();
    assert_eq!(ports, want, "{what}");
    for s in closed {
        assert_eq!(s["remote"]["port"].as_u64(), Some(u64::from(pa)), "{what}");
    }

    // The closed clients see ECONNABORTED.
    for p in &mut to_a {
        let mut b = [0u8; 1];
        let e = p
            .client
            .read(&mut b)
            .expect_err("a closed socket reads an error");
        assert_eq!(e.kind(), ErrorKind::ConnectionAborted, "{e}");
    }
    // The others, and both listeners, survive.
    for p in &mut to_b {
        assert!(
            alive(p),
            "a connection towards the other listener was closed\n{what}"
        );
    }
    assert!(alive(&mut pairs(&la, 1)[0]), "listener A no longer accepts");
    assert!(alive(&mut pairs(&lb, 1)[0]), "listener B no longer accepts");

    // The table layout lists what was closed, one line per socket.
    let filter = format!("state established sport = :{pb}");
    let out = rnetstat(&["-K", "-tn", &filter]);
    let what = describe(&format!("rnetstat -K -tn {filter}"), &out);
    assert_eq!(out.status.code(), Some(0), "{what}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.lines().filter(|l| l.starts_with("tcp")).count(),
        2,
        "{what}"
    );
    for p in &mut to_b {
        let mut b = [0u8; 1];
        let e = p
            .server
            .read(&mut b)
            .expect_err("a closed socket reads an error");
        assert_eq!(e.kind(), ErrorKind::ConnectionAborted, "{e}");
    }

    // UDP too: the socket's owner sees ECONNABORTED on its next receive.
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp bind");
    udp.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let filter = format!("sport = :{}", udp.local_addr().expect("udp").port());
    let out = rnetstat(&["-K", "-uan", &filter]);
    let what = describe(&format!("rnetstat -K -uan {filter}"), &out);
    assert_eq!(out.status.code(), Some(0), "{what}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.starts_with("udp"))
            .count(),
        1,
        "{what}"
    );
    let e = udp
        .recv(&mut [0u8; 1])
        .expect_err("a closed UDP socket reads an error");
    assert_eq!(e.kind(), ErrorKind::ConnectionAborted, "{e}\n{what}");
}

#[test]
fn kill_closes_what_the_filter_selects_and_nothing_else() {
    if !is_root() {
        eprintln!("skipping: closing sockets needs root (CAP_NET_ADMIN and a test namespace)");
        // The refusal is still checked: an ordinary user cannot close anything.
        let out = rnetstat(&["-K", "-tn", "dport = :1"]);
        assert_ne!(
            out.status.code(),
            Some(0),
            "{}",
            describe("-K as a user", &out)
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("CAP_NET_ADMIN"));
        return;
    }
    let t = std::thread::spawn(scenario);
    if let Err(p) = t.join() {
        std::panic::resume_unwind(p);
    }
}

/// Runs `f` on a thread that moved into a fresh network namespace of its own (loopback up):
/// the test's "own" namespace, which the binary it spawns inherits.
fn in_own_namespace(f: fn()) {
    let t = std::thread::spawn(move || {
        // SAFETY: unshare has no memory-safety preconditions; it changes only this thread.
        let isolated = unsafe { libc::unshare(libc::CLONE_NEWNET) } == 0
            && Command::new("ip")
                .args(["link", "set", "lo", "up"])
                .status()
                .is_ok_and(|s| s.success());
        assert!(isolated, "a root test could not make a network namespace");
        f()
    });
    if let Err(p) = t.join() {
        std::panic::resume_unwind(p);
    }
}

/// Two listeners on 127.0.0.1:0, two connections to each; prints `pid P1 P2 C1 C2 C3 C4` (the
/// clients' ports, the first two towards P1). Then, per line on stdin: `check` prints, for
/// each connection, `alive` when a byte still gets through each way or the errno name its
/// client's call failed with; `accept` prints `accepts` or `refuses` for each listener.
const HOLD: &str = r#"import socket, sys, os, errno
ls = []
for _ in range(2):
    l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(8); ls.append(l)
pairs = []
for l in ls:
    for _ in range(2):
        c = socket.create_connection(l.getsockname()); a, _ = l.accept()
        c.settimeout(5); a.settimeout(5); pairs.append((c, a))
print(os.getpid(), *[l.getsockname()[1] for l in ls], *[c.getsockname()[1] for c, _ in pairs], flush=True)
def rt(c, a):
    try:
        c.sendall(b'a')
        if a.recv(1) != b'a': return 'eof'
        a.sendall(b'b')
        return 'alive' if c.recv(1) == b'b' else 'eof'
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
def accepts(l):
    try:
        c = socket.create_connection(l.getsockname(), timeout=5); a, _ = l.accept()
        c.close(); a.close(); return 'accepts'
    except OSError:
        return 'refuses'
for line in sys.stdin:
    if line.strip() == 'check': print(*[rt(c, a) for c, a in pairs], flush=True)
    else: print(*[accepts(l) for l in ls], flush=True)
"#;

/// The python3 process holding HOLD's sockets in a namespace; killed and reaped on drop.
struct Holder {
    child: Child,
    pid: u32,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    listeners: [u16; 2],
    clients: [u16; 4],
}

impl Holder {
    fn in_named(ns: &NamedNs) -> Holder {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &ns.name, "python3", "-c", HOLD])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn holder");
        let stdin = child.stdin.take().expect("stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("read");
        let f: Vec<u32> = line
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        assert_eq!(f.len(), 7, "holder said {line:?}");
        Holder {
            child,
            pid: f[0],
            stdin,
            stdout,
            listeners: [f[1] as u16, f[2] as u16],
            clients: [f[3] as u16, f[4] as u16, f[5] as u16, f[6] as u16],
        }
    }

    fn ask(&mut self, what: &str) -> Vec<String> {
        writeln!(self.stdin, "{what}").expect("ask the holder");
        self.stdin.flush().expect("flush");
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("holder answers");
        line.split_whitespace().map(str::to_string).collect()
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        end_exec_child(self.pid, &mut self.child);
    }
}

/// What a client whose socket was just closed sees: ECONNABORTED, or the reset.
fn just_closed(seen: &str) -> bool {
    matches!(seen, "ECONNABORTED" | "ECONNRESET")
}

fn cannot_run_in_namespaces() -> bool {
    let skip = |why: &str| {
        eprintln!("skipping: {why}");
        true
    };
    !is_root() && skip("needs root (ip netns add, setns, CAP_NET_ADMIN)")
        || !have_tool("ip") && skip("needs ip (iproute2)")
        || !have_tool("python3") && skip("needs python3")
}

fn netns_scenario() {
    let ns = NamedNs::new("kill");
    let mut h = Holder::in_named(&ns);
    let [p1, p2] = h.listeners;
    // The same ports in our own namespace, with connections of their own: never touched.
    let la = TcpListener::bind(("127.0.0.1", p1)).expect("listen on P1 here too");
    let lb = TcpListener::bind(("127.0.0.1", p2)).expect("listen on P2 here too");
    let mut here: Vec<Pair> = pairs(&la, 2).into_iter().chain(pairs(&lb, 2)).collect();
    let all_alive_here = |here: &mut Vec<Pair>, after: &str| {
        for p in here.iter_mut() {
            assert!(alive(p), "{after} closed a socket in our own namespace");
        }
    };

    // Unprivileged: refused, non-zero, nothing closed.
    if have_tool("setpriv") {
        let bin = SharedBin::new("kill-netns");
        let filter = format!("dport = :{p2}");
        let out = bin
            .as_nobody("", &["-N", &ns.name, "-K", "-tn", &filter])
            .output()
            .expect("setpriv runs");
        let what = describe(&format!("unprivileged -N {} -K {filter}", ns.name), &out);
        assert_ne!(out.status.code(), Some(0), "{what}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("CAP_NET_ADMIN"),
            "{what}"
        );
        assert!(!String::from_utf8_lossy(&out.stdout).contains(&format!(":{p2}")));
        assert_eq!(h.ask("check"), ["alive"; 4], "{what}");
        // With CAP_NET_ADMIN but not CAP_SYS_ADMIN: the namespace cannot be entered, so it is
        // skipped with the listing's one hint, and nothing in it is closed.
        let out = bin
            .as_nobody("+net_admin", &["-N", &ns.name, "-K", "-tn", &filter])
            .output()
            .expect("setpriv runs");
        let what = describe(
            &format!("CAP_NET_ADMIN only: -N {} -K {filter}", ns.name),
            &out,
        );
        assert_eq!(out.status.code(), Some(0), "{what}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let hints: Vec<&str> = stderr.lines().filter(|l| l.contains("skipped")).collect();
        assert_eq!(hints.len(), 1, "{what}");
        assert!(
            hints[0].contains("skipped 1 network namespace") && hints[0].contains("CAP_SYS_ADMIN"),
            "{what}"
        );
        assert!(!String::from_utf8_lossy(&out.stdout).contains(&format!(":{p2}")));
        assert_eq!(h.ask("check"), ["alive"; 4], "{what}");
    } else {
        eprintln!("note: setpriv is not installed; the unprivileged case is not run");
    }

    // -N NAME -K: the two clients towards P1 in that namespace, each with its namespace.
    let filter = format!("dport = :{p1}");
    let out = rnetstat(&["-N", &ns.name, "-K", "-tn", "--json", &filter]);
    let what = describe(
        &format!("rnetstat -N {} -K -tn --json {filter}", ns.name),
        &out,
    );
    assert_eq!(out.status.code(), Some(0), "{what}");
    let closed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let closed = closed.as_array().expect("array");
    let mut ports: Vec<u64> = closed
        .iter()
        .map(|s| s["local"]["port"].as_u64().expect("local port"))
        .collect();
    ports.sort_unstable();
    let mut want = vec![u64::from(h.clients[0]), u64::from(h.clients[1])];
    want.sort_unstable();
    assert_eq!(ports, want, "{what}");
    for s in closed {
        assert_eq!(s["remote"]["port"].as_u64(), Some(u64::from(p1)), "{what}");
        assert_eq!(s["netns"]["inode"].as_u64(), Some(ns.inode()), "{what}");
        assert_eq!(
            s["netns"]["name"].as_str(),
            Some(ns.name.as_str()),
            "{what}"
        );
    }
    let seen = h.ask("check");
    assert!(
        just_closed(&seen[0]) && just_closed(&seen[1]),
        "{seen:?}\n{what}"
    );
    assert_eq!(seen[2..], ["alive", "alive"], "{what}");
    all_alive_here(&mut here, "-N NAME -K");
    // Both of the namespace's listeners are still there.
    let out = rnetstat(&["-N", &ns.name, "-tln", "--json"]);
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    for p in [p1, p2] {
        assert!(
            listed.as_array().expect("array").iter().any(
                |s| s["state"] == "LISTEN" && s["local"]["port"].as_u64() == Some(u64::from(p))
            ),
            "{}",
            describe("rnetstat -N NAME -tln --json", &out)
        );
    }

    // The table layout: the namespace's name first on the one line of the socket closed.
    let filter = format!("dport = :{p2} and sport = :{}", h.clients[2]);
    let out = rnetstat(&["-N", &ns.name, "-K", "-tn", &filter]);
    let what = describe(&format!("rnetstat -N {} -K -tn {filter}", ns.name), &out);
    assert_eq!(out.status.code(), Some(0), "{what}");
    let text = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(&format!(":{}", h.clients[2])))
        .collect();
    assert_eq!(rows.len(), 1, "{what}");
    let cells: Vec<&str> = rows[0].split_whitespace().collect();
    assert_eq!(cells[..2], [ns.name.as_str(), "tcp"], "{what}");
    assert!(
        text.lines().nth(1).is_some_and(|h| h.starts_with("Netns")),
        "{what}"
    );

    // The library, with the namespace: the last client towards P2.
    let closed = rnetstat::Query::new()
        .tcp()
        .namespace(&ns.name)
        .expect("namespace")
        .filter(&format!("dport = :{p2}"))
        .expect("filter")
        .kill()
        .expect("Query::kill in the namespace");
    assert_eq!(closed.len(), 1, "{closed:?}");
    assert_eq!(closed[0].local().map(|a| a.port()), Some(h.clients[3]));
    let netns = closed[0].netns().expect("a namespace");
    assert_eq!(netns.inode(), ns.inode());
    assert_eq!(netns.name(), Some(ns.name.as_bytes()));
    let seen = h.ask("check");
    assert!(
        seen[..2].iter().all(|s| s != "alive") && seen[2..].iter().all(|s| just_closed(s)),
        "{seen:?}"
    );
    assert_eq!(
        h.ask("accept"),
        ["accepts", "accepts"],
        "the listeners survive"
    );
    all_alive_here(&mut here, "Query::kill with a namespace");

    // The library in our own namespace: the clients towards our own P1 listener.
    let closed = rnetstat::Query::new()
        .tcp()
        .filter(&format!("dport = :{p1}"))
        .expect("filter")
        .kill()
        .expect("Query::kill here");
    let mut ports: Vec<u16> = closed
        .iter()
        .map(|s| s.local().expect("inet").port())
        .collect();
    ports.sort_unstable();
    let mut want: Vec<u16> = here[..2]
        .iter()
        .map(|p| p.client.local_addr().expect("addr").port())
        .collect();
    want.sort_unstable();
    assert_eq!(ports, want, "{closed:?}");
    assert!(closed.iter().all(|s| s.netns().is_none()));
    for p in &mut here[..2] {
        let e = p
            .client
            .read(&mut [0u8; 1])
            .expect_err("a closed socket reads an error");
        assert_eq!(e.kind(), ErrorKind::ConnectionAborted, "{e}");
    }
    for p in &mut here[2..] {
        assert!(
            alive(p),
            "Query::kill closed a connection towards the other listener"
        );
    }
    assert!(
        alive(&mut pairs(&la, 1)[0]),
        "listener P1 no longer accepts"
    );
    assert!(
        alive(&mut pairs(&lb, 1)[0]),
        "listener P2 no longer accepts"
    );
    // And the namespace's remaining sockets were not touched by it.
    assert_eq!(h.ask("accept"), ["accepts", "accepts"]);
}

#[test]
fn kill_with_netns_closes_in_that_namespace_only_and_so_does_the_library() {
    if cannot_run_in_namespaces() {
        return;
    }
    in_own_namespace(netns_scenario);
}

#[test]
fn the_library_refuses_to_kill_without_a_filter() {
    for q in [
        rnetstat::Query::new(),
        rnetstat::Query::new().tcp().ipv4(),
        rnetstat::Query::new().tcp().listening(),
    ] {
        let e = q.kill().expect_err("refused");
        assert_eq!(e.kind(), rnetstat::ErrorKind::Unfiltered, "{e}");
    }
    if !is_root() {
        // An ordinary user: a filtered query is refused for want of CAP_NET_ADMIN.
        let e = rnetstat::Query::new()
            .tcp()
            .filter("dport = :1")
            .expect("filter")
            .kill()
            .expect_err("not permitted");
        assert_eq!(e.kind(), rnetstat::ErrorKind::Permission, "{e}");
    }
}
