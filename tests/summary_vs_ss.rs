//! `--summary` against the real `ss -s`, byte for byte, in a network namespace the test makes
//! with a known population (listeners, connections, a TIME-WAIT, UDP, raw and unix sockets),
//! so no other socket moves the kernel's counters between the two runs.

mod common;

use std::io::Read;
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::process::Command;

use common::{describe, have_tool, is_root, BIN};

#[test]
fn summary_is_ss_s_byte_for_byte_in_a_fresh_namespace() {
    if !have_tool("ss") {
        eprintln!("skipping: ss (iproute2) is not installed");
        return;
    }
    if !is_root() {
        eprintln!("skipping: needs root (a network namespace of its own, a raw socket)");
        return;
    }
    let t = std::thread::spawn(|| {
        // SAFETY: unshare has no memory-safety preconditions; it changes only this thread.
        let rc = unsafe { libc::unshare(libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "unshare: {}", std::io::Error::last_os_error());
        let st = Command::new("ip")
            .args(["link", "set", "lo", "up"])
            .status()
            .expect("run ip");
        assert!(st.success(), "ip link set lo up: {st}");
        let l4 = TcpListener::bind("127.0.0.1:0").expect("bind port 0");
        let l6 = TcpListener::bind("[::1]:0").expect("bind port 0");
        let a = l4.local_addr().expect("addr");
        let conns: Vec<_> = (0..2)
            .map(|_| {
                let c = TcpStream::connect(a).expect("connect");
                (c, l4.accept().expect("accept").0)
            })
            .collect();
        // One connection closed client first: the client side stays in TIME_WAIT.
        let c = TcpStream::connect(a).expect("connect");
        let (mut s, _) = l4.accept().expect("accept");
        drop(c);
        let mut b = [0u8; 1];
        assert_eq!(s.read(&mut b).expect("read EOF"), 0);
        drop(s);
        std::thread::sleep(std::time::Duration::from_millis(200));
        let u4 = UdpSocket::bind("127.0.0.1:0").expect("udp bind");
        let u6 = UdpSocket::bind("[::1]:0").expect("udp bind");
        // SAFETY: plain socket(2); the fd is closed below.
        let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_ICMP) };
        assert!(raw >= 0, "raw socket: {}", std::io::Error::last_os_error());
        let path = std::env::temp_dir().join(format!("rnetstat-summary-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let ux = std::os::unix::net::UnixListener::bind(&path).expect("unix bind");

        // The TCP line's first figure is the kernel's count of TCP sockets allocated on the
        // whole host (tcp_sockets_allocated is not per namespace), so other processes can move
        // it between two runs: compare a round in which ss said the same before and after us.
        let ss_s = || Command::new("ss").arg("-s").output().expect("ss runs");
        let mut rounds = (0..20).map(|_| {
            let before = ss_s();
            let ours = Command::new(BIN)
                .arg("--summary")
                .output()
                .expect("rnetstat runs");
            let after = ss_s();
            (before.stdout == after.stdout, before, ours)
        });
        let first = rounds.next().expect("one round");
        let (_, ss, ours) = if first.0 {
            first
        } else {
            rounds.find(|r| r.0).unwrap_or(first)
        };
        let json = Command::new(BIN)
            .args(["--summary", "--json"])
            .output()
            .expect("rnetstat runs");
        // An ordinary user reads the same counters.
        let user = have_tool("setpriv").then(|| {
            Command::new("setpriv")
                .args([
                    "--reuid",
                    "65534",
                    "--regid",
                    "65534",
                    "--clear-groups",
                    BIN,
                ])
                .arg("--summary")
                .output()
                .expect("setpriv runs")
        });
        // SAFETY: closing the fd opened above, once.
        unsafe { libc::close(raw) };
        drop((ux, u4, u6, conns, l4, l6));
        let _ = std::fs::remove_file(&path);
        (ss, ours, json, user)
    });
    let (ss, ours, json, user) = match t.join() {
        Ok(r) => r,
        Err(p) => std::panic::resume_unwind(p),
    };
    assert!(ss.status.success(), "{}", describe("ss -s", &ss));
    let what = format!(
        "{}\n{}",
        describe("rnetstat --summary", &ours),
        describe("ss -s", &ss)
    );
    assert_eq!(ours.status.code(), Some(0), "{what}");
    assert_eq!(
        String::from_utf8_lossy(&ours.stdout),
        String::from_utf8_lossy(&ss.stdout),
        "{what}"
    );
    // The population's own figures, as ss derives them.
    let text = String::from_utf8_lossy(&ours.stdout);
    let line = |prefix: &str| {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} line\n{what}"))
            .split_whitespace()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert!(
        line("TCP:").join(" ").contains("(estab 4,")
            && line("TCP:").join(" ").contains("timewait 1)"),
        "{what}"
    );
    assert_eq!(line("RAW")[1..], ["1", "1", "0"], "{what}");
    assert_eq!(line("UDP")[1..], ["2", "1", "1"], "{what}");
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(v["tcp"]["estab"], 4, "{v}");
    assert_eq!(v["udp"]["ipv6"], 1, "{v}");
    assert_eq!(v["tcp"]["timewait"], 1, "{v}");
    if let Some(u) = user {
        assert_eq!(
            String::from_utf8_lossy(&u.stdout),
            text,
            "{}",
            describe("unprivileged --summary", &u)
        );
    }
}
