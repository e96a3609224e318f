//! `-K/--kill`: connections to two listeners, the ones towards one of them closed; the others
//! and both listeners survive, the closed clients (and a closed UDP socket's owner) see
//! ECONNABORTED. Without CAP_NET_ADMIN nothing is closed and the exit status says so; without a
//! filter -K is a usage error.
//!
//! As root the sockets live in a network namespace of the test thread's own (the binary
//! inherits it); the closing part needs root and is skipped with a message otherwise.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output};
use std::time::Duration;

use common::{describe, have_tool, is_root, BIN};

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
