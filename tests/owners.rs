//! The two owner scans, through the real binary: the BPF task_file iterator (root) and the
//! /proc/PID/fd walk must name the same processes and descriptors for the same sockets, `-v`
//! must say which one ran, and the iterator must never be used where its pids would not be the
//! pids /proc shows (another pid namespace). Tests that need root say so and skip otherwise.

mod common;

use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::process::Command;

use common::{
    describe, fork_listener, have_tool, inode_of, is_root, json_records, run, ChildSpec, SharedBin,
    BIN,
};
use serde_json::Value;

/// `(pid, name, fd)` of every owner of the record with `inode`, sorted.
fn owners_of(recs: &[Value], inode: u64) -> Vec<(u64, String, u64)> {
    let rec = recs
        .iter()
        .find(|r| r["inode"].as_u64() == Some(inode))
        .unwrap_or_else(|| panic!("socket {inode} not listed"));
    let mut owners: Vec<_> = rec["processes"]
        .as_array()
        .expect("processes with -p")
        .iter()
        .map(|p| {
            (
                p["pid"].as_u64().expect("pid"),
                p["name"].as_str().expect("name").to_string(),
                p["fd"].as_u64().expect("fd"),
            )
        })
        .collect();
    owners.sort();
    owners
}

fn listing(scan: &str) -> Vec<Value> {
    let out = run(&["--json", "-tlnp", "--owner-scan", scan]);
    assert!(out.status.success(), "{}", describe(scan, &out));
    json_records(&out)
}

/// The inode of a forked child's listener, found by its port in a listing.
fn inode_by_port(recs: &[Value], port: u16) -> u64 {
    recs.iter()
        .find(|r| r["local"]["port"].as_u64() == Some(u64::from(port)))
        .and_then(|r| r["inode"].as_u64())
        .unwrap_or_else(|| panic!("no listener on port {port}"))
}

#[test]
fn both_scans_name_the_same_owners() {
    let mine = TcpListener::bind("127.0.0.1:0").expect("bind");
    let child = fork_listener(&ChildSpec {
        comm: Some(b"rn-owner-child".to_vec()),
        ..ChildSpec::default()
    });
    let by_proc = listing("proc");
    let by_auto = listing("auto");
    let me = u64::from(std::process::id());
    let child_inode = inode_by_port(&by_proc, child.port);

    // Another test forking at that moment may briefly hold a copy of our socket, so look at
    // our own entry only; the child holds its listener alone.
    let mine_by = |recs: &[Value]| {
        owners_of(recs, inode_of(&mine))
            .into_iter()
            .find(|o| o.0 == me)
            .unwrap_or_else(|| panic!("this process does not own its listener"))
    };
    assert_eq!(mine_by(&by_proc).2, mine.as_raw_fd() as u64, "our fd");
    assert_eq!(
        mine_by(&by_auto),
        mine_by(&by_proc),
        "this process's listener"
    );
    let child_owner = vec![(child.pid as u64, "rn-owner-child".to_string(), 0)];
    let fd_free = |v: Vec<(u64, String, u64)>| -> Vec<(u64, String, u64)> {
        v.into_iter().map(|(p, n, _)| (p, n, 0)).collect()
    };
    assert_eq!(
        fd_free(owners_of(&by_proc, child_inode)),
        child_owner,
        "proc scan"
    );
    assert_eq!(
        fd_free(owners_of(&by_auto, child_inode)),
        child_owner,
        "auto scan"
    );
    assert_eq!(
        owners_of(&by_proc, child_inode),
        owners_of(&by_auto, child_inode),
        "same fd from both scans"
    );
}

#[test]
fn verbose_says_which_owner_scan_ran() {
    let out = run(&["-v", "-tlnp", "--owner-scan", "proc"]);
    assert!(
        out.status.success(),
        "{}",
        describe("--owner-scan proc", &out)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("rnetstat: owners: /proc/*/fd\n"), "{err}");

    let out = run(&["-v", "-tlnp"]);
    assert!(out.status.success(), "{}", describe("-v -tlnp", &out));
    let err = String::from_utf8_lossy(&out.stderr);
    if iterator_runs_here() {
        assert!(
            err.contains("rnetstat: owners: BPF task_file iterator\n"),
            "{err}"
        );
    } else if is_root() {
        // Root on a kernel that cannot run it: -v must say why.
        assert!(err.contains("(iterator not used: "), "{err}");
    } else {
        assert!(
            err.contains("rnetstat: owners: /proc/*/fd (iterator not used: needs CAP_BPF"),
            "{err}"
        );
    }
    // No -p, no scan, nothing said about owners.
    let out = run(&["-v", "-tln"]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("owners:"));
}

/// Whether `--owner-scan bpf` works for this test's user on this kernel.
fn iterator_runs_here() -> bool {
    is_root() && run(&["-tlnp", "--owner-scan", "bpf"]).status.success()
}

#[test]
fn forcing_the_iterator_where_it_cannot_run_is_an_error() {
    let args = ["-tlnp", "--owner-scan", "bpf"];
    // Without privilege: this user if it is not root, else nobody through setpriv.
    let shared;
    let out = if is_root() {
        if !have_tool("setpriv") {
            eprintln!("skipping: as root this needs setpriv(1) to run as nobody");
            return;
        }
        shared = SharedBin::new("owners");
        shared.as_nobody("", &args).output().expect("spawn setpriv")
    } else {
        run(&args)
    };
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        describe("--owner-scan bpf", &out)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("rnetstat: cannot run the BPF owner scan: needs CAP_BPF"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "nothing printed before the error");
}

#[test]
fn the_iterator_is_not_used_in_another_pid_namespace() {
    if !is_root() || !have_tool("unshare") {
        eprintln!("skipping: needs root and unshare(1) to make a pid namespace");
        return;
    }
    // Inside, /proc shows the namespace's pids while the iterator would report the kernel's:
    // the scan must fall back, and forcing the iterator must fail rather than show wrong pids.
    let run_inside = |extra: &[&str]| {
        let mut c = Command::new("unshare");
        c.args(["--pid", "--fork", "--mount-proc", BIN, "-v", "-tlnp"])
            .args(extra);
        c.output().expect("spawn unshare")
    };
    let out = run_inside(&[]);
    assert!(out.status.success(), "{}", describe("unshare auto", &out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("owners: /proc/*/fd (iterator not used: not in the initial pid namespace)"),
        "{}",
        describe("unshare auto", &out)
    );
    let out = run_inside(&["--owner-scan", "bpf"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        describe("unshare bpf", &out)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not in the initial pid namespace"),
        "{}",
        describe("unshare bpf", &out)
    );
}
