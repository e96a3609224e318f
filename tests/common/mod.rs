//! Shared helpers for integration tests: run the real binary, parse its JSON, spawn and reap
//! helper processes, and socket-holding children that the tests shape (a hostile name, another
//! user, another network namespace) and always end through a guard. On failure every assertion
//! message carries the command and its output.

#![allow(dead_code)]

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Child, Command, Output};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_rnetstat");

/// The result of one run of the binary, with everything needed to explain a failure.
pub struct Run {
    pub args: Vec<String>,
    pub out: Output,
}

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }

    pub fn code(&self) -> Option<i32> {
        self.out.status.code()
    }

    /// Context for assertion messages.
    pub fn explain(&self) -> String {
        format!(
            "command: rnetstat {}\nstatus: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.args.join(" "),
            self.out.status,
            self.stdout(),
            self.stderr()
        )
    }

    /// Asserts exit 0 and parses stdout as the JSON array of sockets.
    pub fn json(&self) -> Vec<Value> {
        assert_eq!(self.code(), Some(0), "{}", self.explain());
        let v: Value = serde_json::from_slice(&self.out.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{}", self.explain()));
        match v {
            Value::Array(a) => a,
            _ => panic!("JSON is not an array\n{}", self.explain()),
        }
    }
}

/// Runs the binary with `args` and returns its output (any status).
pub fn run(args: &[&str]) -> Output {
    rnetstat(args).out
}

/// Runs the binary with `args`.
pub fn rnetstat(args: &[&str]) -> Run {
    let out = Command::new(BIN)
        .args(args)
        .output()
        .expect("the rnetstat binary runs");
    Run {
        args: args.iter().map(|s| s.to_string()).collect(),
        out,
    }
}

pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// A child process killed and reaped when dropped, so no test leaves one behind.
pub struct Reaped(pub Child);

impl Reaped {
    pub fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The sockets in a JSON listing whose local port is `port`.
pub fn by_local_port(list: &[Value], port: u16) -> Vec<&Value> {
    list.iter()
        .filter(|s| s["local"]["port"].as_u64() == Some(u64::from(port)))
        .collect()
}

/// The socket with this inode, if listed.
pub fn by_inode(list: &[Value], inode: u64) -> Option<&Value> {
    list.iter().find(|s| s["inode"].as_u64() == Some(inode))
}

/// The inode of a socket descriptor this process holds.
pub fn inode_of(fd: &impl std::os::fd::AsRawFd) -> u64 {
    let link = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).expect("fd link");
    let s = link.to_string_lossy().into_owned();
    s.strip_prefix("socket:[")
        .and_then(|r| r.strip_suffix(']'))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{s} is not a socket link"))
}

/// The pids listed as owners of a JSON socket.
pub fn owner_pids(sock: &Value) -> Vec<u64> {
    sock["processes"]
        .as_array()
        .map(|a| a.iter().filter_map(|p| p["pid"].as_u64()).collect())
        .unwrap_or_default()
}

/// Whether the kernel serves UDP-Lite over this machine's sock_diag / proc.
pub fn have_ipv6() -> bool {
    std::net::UdpSocket::bind("[::1]:0").is_ok()
}

/// Whether `tool` is an executable on PATH.
pub fn have_tool(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
}

/// The command, status, stdout and stderr, for failure messages.
pub fn describe(what: &str, out: &Output) -> String {
    format!(
        "{what}\nstatus: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs `cmd`, insists on exit 0, and returns its output.
pub fn run_ok(mut cmd: Command) -> Output {
    let what = format!("{cmd:?}");
    let out = cmd.output().expect("spawn");
    assert!(out.status.success(), "{}", describe(&what, &out));
    out
}

/// Parses `--json` output: an array of socket objects.
pub fn json_records(out: &Output) -> Vec<Value> {
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", describe("json output", out)));
    v.as_array().expect("a JSON array").clone()
}

/// Copies the binary to a world-readable temporary place, for runs as another user (the build
/// tree may sit under a directory other users cannot enter).
pub struct SharedBin {
    pub dir: std::path::PathBuf,
    pub path: std::path::PathBuf,
}

impl SharedBin {
    pub fn new(tag: &str) -> SharedBin {
        use std::os::unix::fs::PermissionsExt;
        use std::sync::atomic::{AtomicUsize, Ordering};
        // Unique per call: tests of one binary run in parallel and each removes its copy.
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("rnetstat-{tag}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let path = dir.join("rnetstat");
        std::fs::copy(BIN, &path).expect("copy binary");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        SharedBin { dir, path }
    }
}

impl SharedBin {
    /// setpriv(1) running this copy with `args` as nobody (uid and gid 65534, no supplementary
    /// groups), with `caps` (such as `+net_admin`) inherited and ambient unless empty.
    pub fn as_nobody(&self, caps: &str, args: &[&str]) -> Command {
        as_nobody(&self.path, caps, args)
    }
}

/// setpriv(1) running `program` with `args` as nobody; see [`SharedBin::as_nobody`]. The program
/// must be where nobody can reach it (a [`SharedBin`]).
pub fn as_nobody(program: &std::path::Path, caps: &str, args: &[&str]) -> Command {
    let mut c = Command::new("setpriv");
    c.args(["--reuid=65534", "--regid=65534", "--clear-groups"]);
    if !caps.is_empty() {
        c.arg(format!("--inh-caps={caps}"))
            .arg(format!("--ambient-caps={caps}"));
    }
    c.arg(program).args(args);
    c
}

impl Drop for SharedBin {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// How a forked listener child is set up before it opens its socket.
#[derive(Default, Clone)]
pub struct ChildSpec {
    /// `prctl(PR_SET_NAME)`: the comm the child shows (at most 15 bytes are kept).
    pub comm: Option<Vec<u8>>,
    /// Drop to this uid/gid (with no supplementary groups) first.
    pub user: Option<u32>,
    /// Move into a new network namespace first (`unshare(CLONE_NEWNET)`).
    pub new_netns: bool,
}

/// A forked child holding one TCP listener, killed and reaped on drop.
pub struct ListenerChild {
    pub pid: i32,
    pub port: u16,
    /// Closing this makes the child exit on its own.
    _hold: OwnedFd,
}

impl Drop for ListenerChild {
    fn drop(&mut self) {
        // SAFETY: pid is our own child, not yet reaped.
        unsafe {
            libc::kill(self.pid, libc::SIGKILL);
            libc::waitpid(self.pid, std::ptr::null_mut(), 0);
        }
    }
}

fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid array of two ints.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(rc, 0, "pipe2: {}", std::io::Error::last_os_error());
    // SAFETY: both fds were just created and are owned here.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

/// Forks a child that applies `spec`, listens on TCP port 0 (127.0.0.1, or 0.0.0.0 in a new
/// network namespace whose loopback is down), reports the port and waits until it is dropped.
/// The child runs only raw system calls, which is what is safe after fork in a threaded process.
pub fn fork_listener(spec: &ChildSpec) -> ListenerChild {
    let comm = spec
        .comm
        .as_ref()
        .map(|c| CString::new(c.clone()).expect("comm without NUL"));
    let (port_r, port_w) = pipe();
    let (hold_r, hold_w) = pipe();
    // SAFETY: the child below calls only async-signal-safe functions and ends in _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
    if pid == 0 {
        // SAFETY: raw system calls on memory prepared before the fork.
        unsafe { child(spec, comm.as_ref(), port_w.as_raw_fd(), hold_r.as_raw_fd()) }
    }
    drop(port_w);
    drop(hold_r);
    let mut buf = [0u8; 4];
    // SAFETY: buf is valid for 4 bytes.
    let n = unsafe { libc::read(port_r.as_raw_fd(), buf.as_mut_ptr().cast(), 4) };
    let mut guard = ListenerChild {
        pid,
        port: 0,
        _hold: hold_w,
    };
    assert_eq!(
        n,
        4,
        "listener child failed to start (status code {})",
        i32::from_ne_bytes(buf)
    );
    let (status, port) = (buf[0], u16::from_ne_bytes([buf[2], buf[3]]));
    assert_eq!(status, 0, "listener child failed at step {status}");
    guard.port = port;
    guard
}

unsafe fn child(spec: &ChildSpec, comm: Option<&CString>, report: i32, hold: i32) -> ! {
    let fail = |step: u8| -> ! {
        let msg = [step, 0, 0, 0];
        libc::write(report, msg.as_ptr().cast(), 4);
        libc::_exit(1)
    };
    // Hold no descriptor of the parent's (its sockets must not gain this child as an owner,
    // and the parent's end of the hold pipe must close when the parent drops it).
    for fd in 3..4096 {
        if fd != report && fd != hold {
            libc::close(fd);
        }
    }
    if spec.new_netns && libc::unshare(libc::CLONE_NEWNET) != 0 {
        fail(1);
    }
    if let Some(uid) = spec.user {
        if libc::setgroups(0, std::ptr::null()) != 0
            || libc::setgid(uid) != 0
            || libc::setuid(uid) != 0
        {
            fail(2);
        }
        // A uid change without exec leaves the process undumpable, which makes its /proc
        // entries root's; a program started as that user (by exec) is dumpable, so be like it.
        if libc::prctl(libc::PR_SET_DUMPABLE, 1, 0, 0, 0) != 0 {
            fail(7);
        }
    }
    if let Some(c) = comm {
        if libc::prctl(libc::PR_SET_NAME, c.as_ptr() as libc::c_ulong, 0, 0, 0) != 0 {
            fail(3);
        }
    }
    let s = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
    if s < 0 {
        fail(4);
    }
    let mut addr: libc::sockaddr_in = std::mem::zeroed();
    addr.sin_family = libc::AF_INET as libc::sa_family_t;
    addr.sin_addr.s_addr = if spec.new_netns {
        0
    } else {
        u32::from_ne_bytes([127, 0, 0, 1])
    };
    let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    if libc::bind(s, (&raw const addr).cast(), len) != 0 || libc::listen(s, 16) != 0 {
        fail(5);
    }
    let mut got: libc::sockaddr_in = std::mem::zeroed();
    let mut glen = len;
    if libc::getsockname(s, (&raw mut got).cast(), &mut glen) != 0 {
        fail(6);
    }
    let port = u16::from_be(got.sin_port).to_ne_bytes();
    let msg = [0, 0, port[0], port[1]];
    libc::write(report, msg.as_ptr().cast(), 4);
    let mut b = [0u8; 1];
    libc::read(hold, b.as_mut_ptr().cast(), 1); // returns when the parent drops its end
    libc::_exit(0)
}

/// `promtool check metrics` reads `text` without a complaint (promtool must be installed).
pub fn promtool_check(text: &str) {
    let mut p = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn promtool");
    let mut stdin = p.stdin.take().expect("stdin");
    std::io::Write::write_all(&mut stdin, text.as_bytes()).expect("feed promtool");
    drop(stdin);
    let out = p.wait_with_output().expect("promtool runs");
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "promtool check metrics: {}\n{}{}\n--- input ---\n{text}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A named namespace (`ip netns add`), with loopback up, deleted on drop.
pub struct NamedNs {
    pub name: String,
}

impl NamedNs {
    pub fn new(tag: &str) -> NamedNs {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("rnt{}-{tag}{n}", std::process::id());
        let ok = |c: &mut Command| {
            let out = c.output().expect("ip runs");
            assert!(out.status.success(), "{c:?}: {out:?}");
        };
        ok(Command::new("ip").args(["netns", "add", &name]));
        let ns = NamedNs { name };
        ok(Command::new("ip").args(["netns", "exec", &ns.name, "ip", "link", "set", "lo", "up"]));
        ns
    }

    /// The namespace's nsfs inode, its identity.
    pub fn inode(&self) -> u64 {
        std::os::unix::fs::MetadataExt::ino(
            &std::fs::metadata(format!("/run/netns/{}", self.name)).expect("ns file"),
        )
    }
}

impl Drop for NamedNs {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// A directory under the system's temporary directory, emptied first and removed on drop (even
/// when the test fails). Named by tag, process and thread, so tests running side by side with
/// the same tag do not share it.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        // "ThreadId(7)" → "ThreadId7": no shell-special characters in the path.
        let thread: String = format!("{:?}", std::thread::current().id())
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        let d =
            std::env::temp_dir().join(format!("rnetstat-{tag}-{}-{thread}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("mkdir");
        TempDir(d)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Ends a helper that `ip netns exec` or `unshare` ran: `pid` is the one it reported (those
/// tools exec it, so it is `child` itself), then `child` is killed and reaped.
pub fn end_exec_child(pid: u32, child: &mut Child) {
    // SAFETY: kill(2) on the pid our own child reported for itself; no memory is involved.
    unsafe {
        libc::kill(pid as i32, libc::SIGKILL);
    }
    let _ = child.kill();
    let _ = child.wait();
}
