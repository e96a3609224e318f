//! `cgroup PATH` on real sockets: a child process moved into a cgroup v2 the test makes holds a
//! listener; `cgroup /that` (or its file system path) selects exactly it, as `ss` does, and
//! `cgroup != /that` everything else. The /proc source carries no cgroup, so there nothing
//! matches.
//!
//! Needs root (a writable cgroup2 hierarchy) and python3 for the child; skips with a message
//! otherwise. The cgroup is removed after the child ends.

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use common::{describe, have_tool, is_root, BIN};

fn cgroup2_mount() -> Option<String> {
    let t = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    t.lines().find_map(|l| {
        let (left, right) = l.split_once(" - ")?;
        (right.split_whitespace().next()? == "cgroup2")
            .then(|| left.split_whitespace().nth(4).map(str::to_string))?
    })
}

#[test]
fn cgroup_condition_selects_the_sockets_of_that_cgroup() {
    if !is_root() || !have_tool("python3") {
        eprintln!("skipping: needs root (a cgroup the test makes) and python3");
        return;
    }
    let Some(mount) = cgroup2_mount() else {
        eprintln!("skipping: no cgroup2 file system is mounted");
        return;
    };
    let name = format!("rnetstat-test-cg-{}", std::process::id());
    let dir = format!("{mount}/{name}");
    if std::fs::create_dir(&dir).is_err() {
        eprintln!("skipping: cannot make a cgroup under {mount}");
        return;
    }
    let procs = format!("{dir}/cgroup.procs");
    let mut cmd = Command::new("python3");
    cmd.args([
        "-c",
        "import socket,sys\n\
         s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen()\n\
         print(s.getsockname()[1], flush=True)\n\
         sys.stdin.read()",
    ])
    .stdin(Stdio::piped())
    .stdout(Stdio::piped());
    // SAFETY: the closure only writes a file, which is async-signal-safe enough for the child
    // between fork and exec (no allocation: the path is prepared before).
    let procs_c = std::ffi::CString::new(procs.clone()).expect("path");
    unsafe {
        cmd.pre_exec(move || {
            let fd = libc::open(procs_c.as_ptr(), libc::O_WRONLY);
            if fd < 0 {
                return Err(std::io::Error::last_os_error());
            }
            let ok = libc::write(fd, b"0".as_ptr().cast(), 1) == 1;
            libc::close(fd);
            if ok {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    let mut child = cmd.spawn().expect("python3 starts in the cgroup");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("port");
    let port: u16 = line.trim().parse().expect("a port number");

    let check = || -> Result<(), String> {
        for path in [format!("/{name}"), dir.clone()] {
            for source in ["auto", "proc"] {
                let filter = format!("cgroup {path}");
                let out = Command::new(BIN)
                    .args(["-tln", "--source", source, &filter])
                    .output()
                    .expect("rnetstat runs");
                let text = String::from_utf8_lossy(&out.stdout);
                let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("tcp")).collect();
                let what = describe(&format!("rnetstat -tln --source {source} {filter}"), &out);
                if source == "proc" {
                    // /proc/net carries no cgroup: nothing can be shown to be in it.
                    if !rows.is_empty() {
                        return Err(format!("/proc source matched a cgroup\n{what}"));
                    }
                    continue;
                }
                if rows.len() != 1 || !rows[0].contains(&format!("127.0.0.1:{port} ")) {
                    return Err(format!("expected only 127.0.0.1:{port}\n{what}"));
                }
                let neg = format!("cgroup != {path}");
                let out = Command::new(BIN)
                    .args(["-tln", &neg])
                    .output()
                    .expect("rnetstat runs");
                if String::from_utf8_lossy(&out.stdout).contains(&format!("127.0.0.1:{port} ")) {
                    return Err(describe(&format!("rnetstat -tln {neg}"), &out));
                }
                if have_tool("ss") {
                    let ss = Command::new("ss")
                        .args(["-Htln", "cgroup", &path])
                        .output()
                        .expect("ss runs");
                    let ss_rows = String::from_utf8_lossy(&ss.stdout).lines().count();
                    if ss_rows != 1 {
                        return Err(format!("ss disagrees\n{}", describe("ss", &ss)));
                    }
                }
            }
        }
        let out = Command::new(BIN)
            .args(["-tln", "cgroup", "/no-such-cgroup-here"])
            .output()
            .expect("rnetstat runs");
        if out.status.code() != Some(2) {
            return Err(describe("an unknown cgroup", &out));
        }
        Ok(())
    };
    let result = check();
    drop(child.stdin.take());
    let _ = child.wait();
    let _ = std::fs::remove_dir(&dir);
    if let Err(e) = result {
        panic!("{e}");
    }
}
