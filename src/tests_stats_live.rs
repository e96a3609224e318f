//! `-s` rendering against the real `netstat -s` (net-tools) on this machine's live counters.
//!
//! Host counters move between two reads, so on the host only the structure is compared. As
//! root, a fresh network namespace gives counters nothing else touches: there the output must be
//! byte for byte what netstat prints, after real loopback traffic in that namespace.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;

use crate::stats::{self, Selection};

fn netstat(args: &[&str]) -> Option<String> {
    let out = match Command::new("netstat").args(args).output() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("skipping: cannot run netstat: {e}");
            return None;
        }
    };
    assert!(
        out.status.success(),
        "netstat {args:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).expect("netstat prints UTF-8"))
}

fn ours(proc_root: &Path, sel: Selection) -> String {
    let s = stats::load(proc_root).expect("counters load");
    let mut out = Vec::new();
    stats::render(&mut out, &s, &sel).expect("renders");
    String::from_utf8(out).expect("UTF-8")
}

fn v4_only() -> Selection {
    Selection {
        ipv6: false,
        ..Selection::default()
    }
}

fn headers(text: &str) -> Vec<&str> {
    text.lines().filter(|l| !l.starts_with(' ')).collect()
}

/// The always-printed phrase lines of Ip, Tcp and Udp with their numbers masked: the part of
/// the output whose shape cannot change between two reads.
fn stable_lines(text: &str) -> Vec<String> {
    let mut group = "";
    let mut out = Vec::new();
    for l in text.lines() {
        if !l.starts_with(' ') {
            group = l;
            continue;
        }
        let body = l.trim_start();
        if ["Ip:", "Tcp:", "Udp:"].contains(&group)
            && body.starts_with(|c: char| c.is_ascii_digit())
        {
            let masked: String = l
                .chars()
                .map(|c| if c.is_ascii_digit() { '9' } else { c })
                .collect();
            let mut collapsed = String::new();
            for c in masked.chars() {
                if !(c == '9' && collapsed.ends_with('9')) {
                    collapsed.push(c);
                }
            }
            out.push(format!("{group} {collapsed}"));
        }
    }
    out
}

#[test]
fn host_counters_have_netstats_groups_and_wording() {
    let Some(theirs) = netstat(&["-s"]) else {
        return;
    };
    let mine = ours(Path::new("/proc"), v4_only());
    assert_eq!(
        headers(&mine),
        headers(&theirs),
        "groups\n--- ours\n{mine}\n--- netstat\n{theirs}"
    );
    let (m, t) = (stable_lines(&mine), stable_lines(&theirs));
    assert!(m.len() >= 20, "{m:?}");
    assert_eq!(m, t);
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Runs `f` on a thread of its own inside a new network namespace (unshare affects only the
/// calling thread; /proc/thread-self/net shows that thread's namespace, and children spawned
/// from it inherit it).
fn in_new_netns<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(move || {
        // SAFETY: plain syscall on the current thread.
        let rc = unsafe { libc::unshare(libc::CLONE_NEWNET) };
        assert_eq!(
            rc,
            0,
            "unshare(CLONE_NEWNET): {}",
            std::io::Error::last_os_error()
        );
        f()
    })
    .join()
    .expect("namespace thread")
}

/// Loopback traffic inside the namespace: connect, move data both ways, close.
fn traffic() {
    let st = Command::new("ip")
        .args(["link", "set", "lo", "up"])
        .status()
        .expect("run ip");
    assert!(st.success(), "ip link set lo up: {st}");
    let l = TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    let addr = l.local_addr().expect("addr");
    let mut c = TcpStream::connect(addr).expect("connect");
    let (mut s, _) = l.accept().expect("accept");
    c.write_all(&[7; 100_000]).expect("write");
    let mut buf = vec![0; 100_000];
    s.read_exact(&mut buf).expect("read");
    s.write_all(b"bye").expect("write");
    c.read_exact(&mut buf[..3]).expect("read");
    drop(c);
    drop(s);
    let u = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp bind");
    u.send_to(b"x", u.local_addr().expect("addr"))
        .expect("udp send");
    u.recv(&mut buf).expect("udp recv");
    // Let the FIN exchange and delayed ACKs finish; nothing else runs in this namespace.
    std::thread::sleep(std::time::Duration::from_millis(500));
}

#[test]
fn fresh_namespace_output_is_netstats_byte_for_byte() {
    if !is_root() {
        eprintln!("skipping: needs root (a new network namespace)");
        return;
    }
    if netstat(&["--version"]).is_none() {
        return;
    }
    let (rounds, mine, theirs) = in_new_netns(|| {
        traffic();
        let root = Path::new("/proc/thread-self");
        let sel6 = Selection {
            ipv4: false,
            ..Selection::default()
        };
        // Counters settle after the traffic; a round where they moved between the two reads
        // is repeated.
        let mut last = None;
        for round in 1..=5 {
            let mine = (ours(root, v4_only()), ours(root, sel6));
            let theirs = (netstat(&["-s"]), netstat(&["-s", "-6"]));
            let theirs = (theirs.0.unwrap_or_default(), theirs.1.unwrap_or_default());
            let again = (ours(root, v4_only()), ours(root, sel6));
            if mine == again {
                return (round, mine, theirs);
            }
            last = Some((round, mine, theirs));
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        last.expect("five rounds ran")
    });
    eprintln!("compared in round {rounds}");
    assert!(mine.0.contains(" active connection openings\n"));
    assert!(
        !mine.0.contains("    0 active connection openings\n"),
        "traffic counted:\n{}",
        mine.0
    );
    assert_eq!(mine.0, theirs.0, "netstat -s");
    assert_eq!(mine.1, theirs.1, "netstat -s -6");
}
