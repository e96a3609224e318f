//! How every mode ends when its output cannot be written: quietly (exit 0, nothing on stderr)
//! when the reader went away, with one error and exit 1 when the disk is full or standard
//! output is closed; and never a panic, whatever happened to stderr.

mod common;

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{is_root, BIN};

/// Every mode, with arguments that make it print promptly.
const MODES: &[(&str, &[&str])] = &[
    ("listing", &["-tuxan"]),
    ("continuous", &["-tan", "-c", "0.1"]),
    ("watch", &["-tan", "--watch", "0.1"]),
    ("statistics", &["-s"]),
    ("summary", &["--summary"]),
    ("json listing", &["-tan", "--json"]),
];

/// Makes TCP connections on loopback come and go until `done` says stop, so `--events` has
/// destruction events to print.
fn churn_until(done: impl Fn() -> bool) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() && Instant::now() < deadline {
        let c = TcpStream::connect(addr).expect("connect");
        let (s, _) = listener.accept().expect("accept");
        drop(s);
        drop(c);
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A pipe: (read end, write end).
fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid array of two ints.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(rc, 0, "pipe2: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just created and are owned here.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

/// Runs `args` with stdout (and stderr too when `stderr_too`) on a pipe whose reader has gone.
fn into_closed_pipe(args: &[&str], stderr_too: bool) -> (Option<i32>, String) {
    let (reader, writer) = pipe();
    drop(reader);
    let mut cmd = Command::new(BIN);
    cmd.args(args).stdin(Stdio::null());
    if stderr_too {
        cmd.stdout(writer.try_clone().expect("dup")).stderr(writer);
    } else {
        cmd.stdout(writer).stderr(Stdio::piped());
    }
    let mut child = cmd.spawn().expect("spawn rnetstat");
    let mut events = None;
    if args.contains(&"--events") {
        let pid = child.id();
        events = Some(std::thread::spawn(move || {
            churn_until(|| !std::path::Path::new(&format!("/proc/{pid}")).exists())
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("rnetstat {args:?} did not stop after its output pipe closed");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    if let Some(t) = events {
        let _ = t.join();
    }
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    (status.code(), err)
}

#[test]
fn every_mode_ends_quietly_when_the_reader_goes_away() {
    let mut modes: Vec<(&str, Vec<&str>)> = MODES.iter().map(|(n, a)| (*n, a.to_vec())).collect();
    if is_root() {
        modes.push(("events", vec!["-t", "--events"]));
    } else {
        eprintln!("--events case skipped: following destruction events needs root here");
    }
    for (name, args) in modes {
        let (code, err) = into_closed_pipe(&args, false);
        assert_eq!(
            code,
            Some(0),
            "{name}: rnetstat {args:?} exit status; stderr: {err}"
        );
        assert_eq!(err, "", "{name}: rnetstat {args:?} must say nothing");
    }
}

#[test]
fn a_closed_stderr_never_panics() {
    // stdout and stderr on one pipe with no reader: the old binary panicked (exit 101) when it
    // then tried to print the broken pipe as an error.
    for (name, args) in MODES {
        let (code, _) = into_closed_pipe(args, true);
        assert_eq!(code, Some(0), "{name}: rnetstat {args:?}");
    }
    // An error to report, and nowhere to report it: still exit 1, not a panic.
    let (code, _) = into_closed_pipe(&["-s", "--proc-root", "/nonexistent"], true);
    assert_eq!(code, Some(1));
}

fn to_dev_full(args: &[&str]) -> std::process::Output {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    Command::new(BIN)
        .args(args)
        .stdout(full)
        .stderr(Stdio::piped())
        .output()
        .expect("spawn rnetstat")
}

#[test]
fn a_full_disk_is_one_error_and_exit_1_in_every_mode() {
    let mut modes: Vec<&[&str]> = MODES.iter().map(|(_, a)| *a).collect();
    modes.push(&["--help"]);
    modes.push(&["--version"]);
    for args in modes {
        let out = to_dev_full(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(1),
            "rnetstat {args:?}; stderr: {err}"
        );
        assert_eq!(
            err, "rnetstat: cannot write output: No space left on device\n",
            "rnetstat {args:?}: the cause once, without the errno suffix"
        );
    }
}

#[test]
fn a_closed_stdout_fails_instead_of_losing_the_output() {
    for args in [&["-tan"][..], &["--help"], &["-s"]] {
        let mut cmd = Command::new(BIN);
        cmd.args(args).stderr(Stdio::piped());
        // SAFETY: close(2) is async-signal-safe; the child closes its own descriptor 1.
        unsafe {
            cmd.pre_exec(|| {
                libc::close(1);
                Ok(())
            });
        }
        let out = cmd.output().expect("spawn rnetstat");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(1),
            "rnetstat {args:?} >&-; stderr: {err}"
        );
        assert_eq!(
            err,
            "rnetstat: cannot write output: standard output is closed\n"
        );
    }
}

#[test]
fn dev_null_opened_read_write_is_still_a_place_to_write() {
    // Python's subprocess.DEVNULL and others open /dev/null read-write: that is not a closed
    // stdout, whatever Rust's runtime does with a closed one.
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .expect("/dev/null");
    let out = Command::new(BIN)
        .args(["-tan"])
        .stdout(null)
        .stderr(Stdio::piped())
        .output()
        .expect("spawn rnetstat");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_error_prints_its_cause_once() {
    let out = Command::new(BIN)
        .args(["-s", "--proc-root", "/nonexistent"])
        .output()
        .expect("spawn rnetstat");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "rnetstat: cannot read /nonexistent/net/snmp: No such file or directory\n"
    );
}
