//! Reliability under a hostile environment (issue 16): descriptor limits, a missing /proc,
//! signals while stdout is blocked, sentinel kernel values, tiny intervals, control bytes in
//! arguments. Each test reproduces one reported failure against the real binary.

mod common;

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use common::{is_root, BIN};

/// Runs the binary with `args` under a descriptor limit of `soft`/`hard`.
fn run_limited(args: &[&str], soft: u64, hard: u64) -> std::process::Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            let lim = libc::rlimit {
                rlim_cur: soft,
                rlim_max: hard,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.output().expect("the rnetstat binary runs")
}

fn explain(args: &[&str], out: &std::process::Output) -> String {
    format!(
        "command: rnetstat {}\nstatus: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Regression: EMFILE while opening /proc/PID/fd was taken for "the process exited", so
/// `--pid P` under a low descriptor limit printed nothing with exit 0 in about a third of runs.
/// Now every run either finds the owner or says what it could not read and exits non-zero.
#[test]
fn a_descriptor_limit_never_loses_owners_silently() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let me = std::process::id().to_string();
    let args = ["-tan", "--owner-scan", "proc", "--pid", &me];
    let needle = format!("127.0.0.1:{port} ");
    let (mut found, mut reported) = (0, 0);
    for limit in [6u64, 7] {
        for _ in 0..10 {
            let out = run_limited(&args, limit, limit);
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            if stdout.contains(&needle) && out.status.success() {
                found += 1;
                continue;
            }
            assert!(
                !out.status.success()
                    && (stderr.contains("could not be read") || stderr.contains("cannot scan")),
                "owner lost without a word\n{}",
                explain(&args, &out)
            );
            reported += 1;
        }
    }
    eprintln!("{found} runs found the owner, {reported} said why not");
}

/// The soft limit is raised to the hard one at start, so a low soft limit costs nothing.
#[test]
fn a_low_soft_descriptor_limit_is_raised() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let me = std::process::id().to_string();
    let args = ["-tan", "--owner-scan", "proc", "--pid", &me];
    for _ in 0..10 {
        let out = run_limited(&args, 6, 4096);
        assert!(
            out.status.success()
                && String::from_utf8_lossy(&out.stdout).contains(&format!("127.0.0.1:{port} ")),
            "{}",
            explain(&args, &out)
        );
    }
}

/// Whether `unshare` can make a mount namespace here.
fn can_unshare_mounts() -> bool {
    Command::new("unshare")
        .args(["-m", "true"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Regression: with /proc unmounted every owner was `-` with exit 0, and `--pid` listed nothing
/// with exit 0. An empty scan of something that is not a proc file system is now reported, and
/// with an owner filter the run fails.
#[test]
fn an_unmounted_proc_is_reported_not_trusted() {
    if !is_root() || !can_unshare_mounts() {
        eprintln!("skipped: needs root and unshare(1) to unmount /proc in a mount namespace");
        return;
    }
    let script = format!(
        "umount -l /proc || exit 99; {BIN} -tanp --source netlink; echo \"status=$?\"; \
         {BIN} -tan --source netlink --pid 1; echo \"status=$?\""
    );
    let out = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", &script])
        .output()
        .expect("unshare runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let why = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_ne!(out.status.code(), Some(99), "umount failed: {why}");
    let statuses: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("status="))
        .collect();
    assert_eq!(statuses, ["0", "1"], "-p lists (0); --pid fails (1): {why}");
    assert_eq!(
        stderr
            .matches("/proc lists no processes (not a proc file system")
            .count(),
        2,
        "{why}"
    );
}

/// Regression: as root with `--owner-scan proc`, processes whose descriptors the kernel's
/// ptrace check refuses (here pid 1, which holds a capability we lack) drew netstat's "you would
/// have to be root". As root the hint now says why; as an ordinary user it stays netstat's.
#[test]
fn the_hidden_owners_hint_gives_the_real_reason() {
    let args = ["-tanp", "--owner-scan", "proc"];
    let out = run_limited(&args, 4096, 4096);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if is_root() {
        assert!(
            !stderr.contains("you would have to be root"),
            "{}",
            explain(&args, &out)
        );
        if !stderr.contains("Not all processes") {
            eprintln!("note: no process refused root here; only the wording is checked");
        }
    }
    let nobody = Command::new("setpriv")
        .args([
            "--reuid",
            "65534",
            "--regid",
            "65534",
            "--clear-groups",
            BIN,
        ])
        .args(args)
        .output();
    match nobody {
        Ok(out) if out.status.success() => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                stderr.contains("you would have to be root"),
                "{}",
                explain(&args, &out)
            );
        }
        _ => eprintln!("skipped the unprivileged half: setpriv cannot run here (needs root)"),
    }
}
