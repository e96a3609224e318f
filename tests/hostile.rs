//! Hostile input from the system, through the real binary: a process name with control
//! characters, an escape sequence and invalid UTF-8; unix socket paths with a newline, an escape
//! sequence and invalid UTF-8, one of maximum length; abstract names holding NUL bytes; and a
//! process with megabytes of argv. The table must never carry a raw control byte or split a
//! record across lines; `--json` must carry the exact value (U+FFFD where not UTF-8).

mod common;

use std::ffi::OsStr;
use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram, UnixListener};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use common::{describe, fork_listener, inode_of, json_records, owner_pids, run, ChildSpec};
use rnetstat::escape;

/// No control character other than the line ends, and valid UTF-8 throughout.
fn assert_clean_table(what: &str, out: &std::process::Output) {
    let text =
        std::str::from_utf8(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", describe(what, out)));
    if let Some(c) = text.chars().find(|c| c.is_control() && *c != '\n') {
        panic!(
            "raw control character {c:?} in the table: {}",
            describe(what, out)
        );
    }
}

/// The one table line whose whitespace-separated fields include `token`.
fn line_with<'a>(text: &'a str, token: &str) -> Vec<&'a str> {
    text.lines()
        .filter(|l| l.split_whitespace().any(|f| f == token))
        .collect()
}

/// The LISTEN rows whose Local Address is `local` (a TIME_WAIT left towards an earlier listener
/// on the same port by a test running alongside has it as its Foreign Address).
fn listener_rows<'a>(text: &'a str, local: &str) -> Vec<&'a str> {
    text.lines()
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.get(3) == Some(&local) && f.get(5) == Some(&"LISTEN")
        })
        .collect()
}

#[test]
fn hostile_process_name_is_escaped_in_the_table_and_exact_in_json() {
    // 14 bytes: an OSC title sequence, BEL, newline, invalid UTF-8, a tab, CSI.
    let comm: &[u8] = b"\x1b]0;pwn\x07\n\xff\xfe\tx\x1b[";
    let child = fork_listener(&ChildSpec {
        comm: Some(comm.to_vec()),
        ..ChildSpec::default()
    });
    let seen = std::fs::read(format!("/proc/{}/comm", child.pid)).expect("read comm");
    assert_eq!(seen, [comm, b"\n"].concat(), "the kernel kept the name raw");

    let out = run(&["-tanp"]);
    assert!(out.status.success(), "{}", describe("-tanp -n", &out));
    assert_clean_table("-tanp -n", &out);
    let text = String::from_utf8_lossy(&out.stdout);
    let local = format!("127.0.0.1:{}", child.port);
    let rows = listener_rows(&text, &local);
    assert_eq!(
        rows.len(),
        1,
        "one row for the listener: {}",
        describe("-tanp -n", &out)
    );
    let want = format!("{}/{}", child.pid, escape(comm));
    assert!(rows[0].contains(&want), "row {:?} lacks {want:?}", rows[0]);
    assert!(
        rows[0].trim_end().ends_with(&want),
        "owner is the last field: {:?}",
        rows[0]
    );

    let out = run(&["--json", "-tanp"]);
    assert!(
        out.status.success(),
        "{}",
        describe("--json -tanp -n", &out)
    );
    let all = json_records(&out);
    let recs = common::by_local_port(&all, child.port);
    assert_eq!(recs.len(), 1, "{recs:?}");
    let procs = recs[0]["processes"].as_array().expect("processes");
    let p = procs
        .iter()
        .find(|p| p["pid"].as_u64() == Some(child.pid as u64))
        .unwrap_or_else(|| panic!("child not an owner: {procs:?}"));
    assert_eq!(
        p["name"].as_str(),
        Some(String::from_utf8_lossy(comm).as_ref())
    );
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn hostile_unix_names_stay_on_one_line_and_exact_in_json() {
    let dir = TempDir(std::env::temp_dir().join(format!("rnh{}", std::process::id())));
    std::fs::create_dir_all(&dir.0).expect("mkdir");
    let base = dir.0.as_os_str().as_bytes().to_vec();

    // A path with a newline, an escape sequence and invalid UTF-8.
    let nasty = [&base[..], b"/nl\nesc\x1b[2J\xff\x9b.sock"].concat();
    // The longest path bind() takes: 107 bytes + the NUL = sizeof(sun_path).
    let mut longest = [&base[..], b"/"].concat();
    longest.resize(107, b'm');
    // An abstract name with NULs inside (and other hostile bytes).
    let abs_name = format!("rnetstat-hostile-{}", std::process::id()).into_bytes();
    let abs_name = [&abs_name[..], b"\0\x1b[1m\n\xfe\0end"].concat();

    let l1 = UnixListener::bind(OsStr::from_bytes(&nasty)).expect("bind nasty path");
    let l2 = UnixListener::bind(OsStr::from_bytes(&longest)).expect("bind longest path");
    let a = UnixDatagram::bind_addr(&SocketAddr::from_abstract_name(&abs_name).expect("abstract"))
        .expect("bind abstract");
    let cases: Vec<(u64, Vec<u8>)> = vec![
        (inode_of(&l1), nasty.clone()),
        (inode_of(&l2), longest.clone()),
        (inode_of(&a), [&b"@"[..], &abs_name].concat()),
    ];
    let me = u64::from(std::process::id());

    let out = run(&["-xanp"]);
    assert!(out.status.success(), "{}", describe("-xanp -n", &out));
    assert_clean_table("-xanp -n", &out);
    let text = String::from_utf8_lossy(&out.stdout);
    for (inode, name) in &cases {
        let rows = line_with(&text, &inode.to_string());
        assert_eq!(
            rows.len(),
            1,
            "one row for inode {inode}: {}",
            describe("-xanp", &out)
        );
        let want = escape(name);
        assert!(
            rows[0].trim_end().ends_with(&want),
            "row {:?} lacks {want:?}",
            rows[0]
        );
        assert!(
            rows[0].contains(&format!("{me}/")),
            "row {:?} lacks our pid",
            rows[0]
        );
    }

    let out = run(&["--json", "-xanp"]);
    assert!(
        out.status.success(),
        "{}",
        describe("--json -xanp -n", &out)
    );
    let recs = json_records(&out);
    for (inode, name) in &cases {
        let rec = recs
            .iter()
            .find(|r| r["inode"].as_u64() == Some(*inode))
            .unwrap_or_else(|| panic!("inode {inode} missing"));
        assert_eq!(
            rec["path"].as_str(),
            Some(String::from_utf8_lossy(name).as_ref()),
            "{rec}"
        );
        assert!(owner_pids(rec).contains(&me), "{rec}");
    }
    // The longest path and the abstract name are exact bytes (valid UTF-8), NULs included.
    assert!(cases[2].1.contains(&0));

    // /proc/net/unix writes a newline in a path raw, splitting the record over two lines: the
    // /proc source must rejoin it, keep the table clean, and not fail or panic.
    let out = run(&["-xan", "--source", "proc"]);
    assert!(
        out.status.success(),
        "{}",
        describe("-xan --source proc", &out)
    );
    assert_clean_table("-xan --source proc", &out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        line_with(&text, &cases[1].0.to_string()).len(),
        1,
        "longest path via /proc"
    );
    let nl_rows = line_with(&text, &cases[0].0.to_string());
    assert_eq!(nl_rows.len(), 1, "newline path via /proc");
    assert!(
        nl_rows[0].trim_end().ends_with(&escape(&nasty)),
        "the /proc source rejoins the path: {:?}",
        nl_rows[0]
    );
    drop((l1, l2, a));
}

#[test]
fn megabytes_of_argv_do_not_disturb_the_listing() {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let raw = l.as_raw_fd();
    // 15 arguments of 100,000 bytes: 1.5 MB of cmdline, within the exec limit of an 8 MiB stack.
    let big = "A".repeat(100_000);
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg("read x").arg("rnetstat-huge-argv");
    for _ in 0..15 {
        cmd.arg(&big);
    }
    cmd.stdin(Stdio::piped()).stdout(Stdio::null());
    // SAFETY: dup2/fcntl are async-signal-safe; the child gets the listener as fd 10.
    unsafe {
        cmd.pre_exec(move || {
            let rc = if raw == 10 {
                libc::fcntl(10, libc::F_SETFD, 0)
            } else {
                libc::dup2(raw, 10)
            };
            if rc < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd.spawn().expect("spawn sh with huge argv");
    struct Reap(std::process::Child);
    impl Drop for Reap {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let child = Reap(child);
    let pid = u64::from(child.0.id());
    // Read until the new image's argv shows (a loaded machine can be slow to get there).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut cmdline = Vec::new();
    while std::time::Instant::now() < deadline {
        cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).expect("cmdline");
        if cmdline.len() > 1_500_000 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(
        cmdline.len() > 1_500_000,
        "cmdline is {} bytes",
        cmdline.len()
    );
    let comm = std::fs::read(format!("/proc/{pid}/comm")).expect("comm");
    let comm = String::from_utf8_lossy(comm.strip_suffix(b"\n").unwrap_or(&comm)).into_owned();

    let t = std::time::Instant::now();
    let out = run(&["--json", "-tanp"]);
    eprintln!("listing beside a 1.5 MB cmdline took {:?}", t.elapsed());
    assert!(
        out.status.success(),
        "{}",
        describe("--json -tanp -n", &out)
    );
    let all = json_records(&out);
    let recs = common::by_local_port(&all, port);
    assert_eq!(recs.len(), 1, "{recs:?}");
    let p = recs[0]["processes"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["pid"].as_u64() == Some(pid)).cloned())
        .unwrap_or_else(|| panic!("sh not an owner: {}", recs[0]));
    assert_eq!(p["name"].as_str(), Some(comm.as_str()));
    assert!(owner_pids(recs[0]).contains(&u64::from(std::process::id())));

    let out = run(&["-tanp"]);
    assert!(out.status.success(), "{}", describe("-tanp -n", &out));
    assert_clean_table("-tanp -n", &out);
    let text = String::from_utf8_lossy(&out.stdout);
    let rows = listener_rows(&text, &format!("127.0.0.1:{port}"));
    assert_eq!(rows.len(), 1, "{text}");
    assert!(rows[0].contains(&format!("{pid}/{comm}")), "{:?}", rows[0]);
}
