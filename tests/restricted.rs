//! Restricted environments, through the real binary: an unprivileged user, /proc mounted with
//! hidepid=2, netlink sock_diag denied by a seccomp filter, and another network namespace.
//! Each test that needs root or a tool says so and skips when it is missing.

mod common;

use std::collections::BTreeSet;
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Output};

use common::{
    describe, fork_listener, have_tool, inode_of, is_root, json_records, owner_pids, run, run_ok,
    ChildSpec, SharedBin, BIN,
};
use serde_json::Value;

const NOBODY: u32 = 65534;
const HINT: &str = "(Not all processes could be identified";

fn skip(why: &str) -> bool {
    eprintln!("skipping: {why}");
    true
}

fn inodes(recs: &[Value]) -> BTreeSet<u64> {
    recs.iter()
        .filter_map(|r| r["inode"].as_u64())
        .filter(|i| *i != 0)
        .collect()
}

/// `setpriv` as nobody, then `program args`.
fn as_nobody(program: &str, args: &[&str]) -> Command {
    let mut c = Command::new("setpriv");
    c.args(["--reuid=65534", "--regid=65534", "--clear-groups", program])
        .args(args);
    c
}

/// What an unprivileged run must show: exit 0, every socket root sees (allowing for churn:
/// those present in a root listing before and after), the user's own listener with its pid,
/// root's listener without an owner, and the hint exactly once on stderr.
/// `hint_required` is false only where the binary is known not to detect hidden processes yet
/// (see `hidepid_2_prints_the_hint`); the hint must then still never repeat.
fn check_unprivileged(hint_required: bool, run_as_nobody: impl Fn(&[&str]) -> Output) {
    let root_listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let root_port = root_listener.local_addr().expect("addr").port();
    let child = fork_listener(&ChildSpec {
        comm: Some(b"rn-nobody".to_vec()),
        user: Some(NOBODY),
        ..ChildSpec::default()
    });

    let before = json_records(&run_ok({
        let mut c = Command::new(BIN);
        c.args(["--json", "-tan"]);
        c
    }));
    let table = run_as_nobody(&["-tanp"]);
    let json = run_as_nobody(&["--json", "-tanp"]);
    let after = json_records(&run_ok({
        let mut c = Command::new(BIN);
        c.args(["--json", "-tan"]);
        c
    }));

    assert!(
        table.status.success(),
        "{}",
        describe("nobody -tanp -n", &table)
    );
    let stderr = String::from_utf8_lossy(&table.stderr);
    let hints = stderr.matches(HINT).count();
    let want = if hint_required { 1..=1 } else { 0..=1 };
    assert!(
        want.contains(&hints),
        "{hints} hints: {}",
        describe("nobody -tanp", &table)
    );
    let text = String::from_utf8_lossy(&table.stdout);
    let row = |port: u16| -> String {
        let local = format!("127.0.0.1:{port}");
        let rows: Vec<&str> = text
            .lines()
            .filter(|l| l.split_whitespace().nth(3) == Some(&local))
            .collect();
        assert_eq!(
            rows.len(),
            1,
            "one row for {local}: {}",
            describe("nobody -tanp", &table)
        );
        rows[0].to_string()
    };
    let own = row(child.port);
    assert!(
        own.trim_end()
            .ends_with(&format!("{}/rn-nobody", child.pid)),
        "the user's own process is shown: {own:?}"
    );
    let foreign = row(root_port);
    assert!(
        foreign.trim_end().ends_with(" -"),
        "root's process is hidden: {foreign:?}"
    );

    assert!(
        json.status.success(),
        "{}",
        describe("nobody --json", &json)
    );
    assert!(
        json.stderr.is_empty(),
        "{}",
        describe("nobody --json", &json)
    );
    let recs = json_records(&json);
    let seen = inodes(&recs);
    let steady: BTreeSet<u64> = inodes(&before)
        .intersection(&inodes(&after))
        .copied()
        .collect();
    let missing: Vec<_> = steady.difference(&seen).collect();
    assert!(
        missing.is_empty(),
        "sockets root sees that nobody does not: {missing:?}"
    );
    assert!(steady.contains(&inode_of(&root_listener)));
    let own = common::by_local_port(&recs, child.port);
    assert_eq!(own.len(), 1);
    assert_eq!(owner_pids(own[0]), vec![child.pid as u64]);
    let foreign = common::by_local_port(&recs, root_port);
    assert_eq!(foreign.len(), 1);
    assert!(owner_pids(foreign[0]).is_empty(), "{}", foreign[0]);
    eprintln!(
        "unprivileged run saw {} sockets ({} steady in root runs)",
        seen.len(),
        steady.len()
    );
}

#[test]
fn unprivileged_user_sees_every_socket_and_its_own_processes() {
    if !is_root() && skip("needs root (to become nobody)")
        || !have_tool("setpriv") && skip("needs setpriv")
    {
        return;
    }
    let bin = SharedBin::new("unpriv");
    let path = bin.path.to_string_lossy().into_owned();
    check_unprivileged(true, |args| {
        as_nobody(&path, args).output().expect("spawn setpriv")
    });
}

fn hidepid_tools_missing() -> bool {
    !is_root() && skip("needs root (mount namespace)")
        || !have_tool("unshare") && skip("needs unshare")
        || !have_tool("setpriv") && skip("needs setpriv")
        || !have_tool("mount") && skip("needs mount")
}

#[test]
fn proc_mounted_with_hidepid_2_still_lists_every_socket() {
    if hidepid_tools_missing() {
        return;
    }
    check_hidepid(false);
}

/// With hidepid=2 other users' processes are not unreadable but absent from /proc, so the
/// owner scan meets no EACCES; the hint must still be printed, once (`procmap` reads the proc
/// mount's options to know owners may be missing).
#[test]
fn hidepid_2_prints_the_hint() {
    if hidepid_tools_missing() {
        return;
    }
    check_hidepid(true);
}

fn check_hidepid(hint_required: bool) {
    let bin = SharedBin::new("hidepid");
    let path = bin.path.to_string_lossy().into_owned();
    // Check the private mount really hides other users' processes before trusting the test.
    let probe = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c"])
        .arg("mount -t proc -o hidepid=2 proc /proc && exec setpriv --reuid=65534 --regid=65534 --clear-groups ls /proc")
        .output()
        .expect("spawn unshare");
    assert!(
        probe.status.success(),
        "{}",
        describe("hidepid probe", &probe)
    );
    let visible = String::from_utf8_lossy(&probe.stdout);
    assert!(
        !visible.split_whitespace().any(|p| p == "1"),
        "hidepid=2 did not hide pid 1: {visible}"
    );
    check_unprivileged(hint_required, |args| {
        Command::new("unshare")
            .args(["-m", "--propagation", "private", "sh", "-c"])
            .arg("mount -t proc -o hidepid=2 proc /proc && exec setpriv --reuid=65534 --regid=65534 --clear-groups \"$0\" \"$@\"")
            .arg(&path)
            .args(args)
            .output()
            .expect("spawn unshare")
    });
}

// ---- netlink denied by seccomp --------------------------------------------------------------

#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xc000_003e; // AUDIT_ARCH_X86_64
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xc000_00b7; // AUDIT_ARCH_AARCH64

/// A seccomp program: socket(AF_NETLINK, ...) fails with EPERM, everything else is allowed.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn deny_netlink_filter() -> Vec<libc::sock_filter> {
    let stmt = |code: u32, k: u32| libc::sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    };
    let jeq = |k: u32, jf: u8| libc::sock_filter {
        code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
        jt: 0,
        jf,
        k,
    };
    let ld = |offset: u32| stmt(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, offset);
    vec![
        ld(4),                           // 0: seccomp_data.arch
        jeq(AUDIT_ARCH, 5),              // 1: another ABI → allow (7)
        ld(0),                           // 2: seccomp_data.nr
        jeq(libc::SYS_socket as u32, 3), // 3: not socket() → allow (7)
        ld(16),                          // 4: low half of args[0] (little-endian)
        jeq(libc::AF_NETLINK as u32, 1), // 5: not AF_NETLINK → allow (7)
        stmt(
            libc::BPF_RET | libc::BPF_K,
            libc::SECCOMP_RET_ERRNO | libc::EPERM as u32,
        ), // 6
        stmt(libc::BPF_RET | libc::BPF_K, libc::SECCOMP_RET_ALLOW), // 7
    ]
}

/// The binary with netlink sockets denied by a seccomp filter installed before exec.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn run_without_netlink(args: &[&str]) -> Output {
    let filter = deny_netlink_filter();
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    // SAFETY: prctl is async-signal-safe; the filter lives in the parent's memory, which the
    // forked child sees unchanged until exec.
    unsafe {
        cmd.pre_exec(move || {
            let prog = libc::sock_fprog {
                len: filter.len() as u16,
                filter: filter.as_ptr().cast_mut(),
            };
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                || libc::prctl(
                    libc::PR_SET_SECCOMP,
                    libc::SECCOMP_MODE_FILTER as libc::c_ulong,
                    &raw const prog as libc::c_ulong,
                    0,
                    0,
                ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.output().expect("spawn rnetstat under seccomp")
}

/// The records of a `--json -tan` run that touch `port` (either end), sorted.
fn records_of(out: &Output, port: u16) -> Vec<Value> {
    let mut v: Vec<Value> = json_records(out)
        .into_iter()
        .filter(|r| {
            r["local"]["port"].as_u64() == Some(u64::from(port))
                || r["remote"]["port"].as_u64() == Some(u64::from(port))
        })
        .collect();
    v.sort_by_key(|r| r["inode"].as_u64());
    v
}

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[test]
fn netlink_denied_falls_back_to_proc_with_the_same_records() {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let (a, _) = l.accept().expect("accept");

    // The filter really denies netlink: the netlink-only source must fail, clearly, exit 1.
    let out = run_without_netlink(&["--source", "netlink", "-tan"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        describe("--source netlink (denied)", &out)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("denied") && err.contains("EPERM"),
        "{}",
        describe("denied", &out)
    );
    assert!(!err.contains("panicked"), "{err}");
    eprintln!("--source netlink under the filter: {}", err.trim_end());

    let reference = run(&["--source", "proc", "--json", "-tan"]);
    assert!(
        reference.status.success(),
        "{}",
        describe("--source proc", &reference)
    );
    let auto = run_without_netlink(&["--source", "auto", "--json", "-tan"]);
    assert!(
        auto.status.success(),
        "{}",
        describe("auto (denied)", &auto)
    );
    assert!(
        auto.stderr.is_empty(),
        "quiet without -v: {}",
        describe("auto (denied)", &auto)
    );
    let want = records_of(&reference, port);
    assert_eq!(want.len(), 3, "listener and both ends: {want:?}");
    let want_inodes: BTreeSet<u64> = [inode_of(&l), inode_of(&c), inode_of(&a)]
        .into_iter()
        .collect();
    assert_eq!(inodes(&want), want_inodes);
    assert_eq!(records_of(&auto, port), want);

    let verbose = run_without_netlink(&["--source", "auto", "-v", "--json", "-tan"]);
    assert!(
        verbose.status.success(),
        "{}",
        describe("auto -v (denied)", &verbose)
    );
    let err = String::from_utf8_lossy(&verbose.stderr);
    assert!(
        err.contains("fallback") && err.contains("/net/tcp") && err.contains("denied"),
        "-v names the fallback and why: {err}"
    );
    eprintln!("--source auto -v under the filter:\n{}", err.trim_end());
    assert_eq!(records_of(&verbose, port), want);
}

// ---- another network namespace --------------------------------------------------------------

fn socket_inodes_of(pid: i32) -> BTreeSet<u64> {
    let mut set = BTreeSet::new();
    for e in std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("fd dir")
        .flatten()
    {
        let link = std::fs::read_link(e.path()).unwrap_or_default();
        let link = link.to_string_lossy();
        if let Some(n) = link
            .strip_prefix("socket:[")
            .and_then(|s| s.strip_suffix(']'))
        {
            set.insert(n.parse().expect("inode"));
        }
    }
    set
}

#[test]
fn another_network_namespace_lists_only_its_own_sockets() {
    if !is_root() && skip("needs root (unshare CLONE_NEWNET)") {
        return;
    }
    let outer = TcpListener::bind("127.0.0.1:0").expect("bind");
    let outer_inode = inode_of(&outer);
    let child = fork_listener(&ChildSpec {
        comm: Some(b"rn-netns".to_vec()),
        new_netns: true,
        ..ChildSpec::default()
    });
    let inner_inodes = socket_inodes_of(child.pid);
    assert_eq!(inner_inodes.len(), 1, "the child holds one socket");
    let ns: OwnedFd = std::fs::File::open(format!("/proc/{}/ns/net", child.pid))
        .expect("open the child's netns")
        .into();
    let ns_fd = ns.as_raw_fd();
    let inside = |args: &[&str]| -> Output {
        let mut cmd = Command::new(BIN);
        cmd.args(args);
        // SAFETY: setns is async-signal-safe; ns_fd stays open in the parent until after spawn.
        unsafe {
            cmd.pre_exec(move || {
                if libc::setns(ns_fd, libc::CLONE_NEWNET) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        cmd.output().expect("spawn rnetstat in the namespace")
    };
    for source in ["netlink", "proc", "auto"] {
        let out = inside(&["--source", source, "--json", "-tanp"]);
        assert!(out.status.success(), "{}", describe(source, &out));
        assert!(out.stderr.is_empty(), "{}", describe(source, &out));
        let recs = json_records(&out);
        assert_eq!(
            recs.len(),
            1,
            "only the namespace's listener ({source}): {recs:?}"
        );
        let r = &recs[0];
        assert_eq!(r["state"], "LISTEN");
        assert_eq!(r["local"]["port"].as_u64(), Some(u64::from(child.port)));
        assert_eq!(inodes(&recs), inner_inodes);
        assert!(!inodes(&recs).contains(&outer_inode));
        assert_eq!(owner_pids(r), vec![child.pid as u64]);
        assert_eq!(r["processes"][0]["name"], "rn-netns");
    }
    let out = run(&["--json", "-tanp"]);
    assert!(out.status.success(), "{}", describe("outer", &out));
    let outside = inodes(&json_records(&out));
    assert!(outside.contains(&outer_inode));
    assert!(
        outside.is_disjoint(&inner_inodes),
        "the namespace's socket leaked out"
    );
    drop(ns);
}
