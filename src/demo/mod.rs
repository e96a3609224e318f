//! The companion demo (`rnetstat-demo`): each scenario makes one TCP/UDP lesson happen on
//! loopback and shows it through rnetstat's own listing ([`crate::listing::snapshot`]), limited
//! to the demo's ports.
//!
//! This module holds what every scenario shares: the output context ([`Ctx`]: narration, the
//! socket calls just made, the filtered table), a socket wrapper whose drop is abortive so that
//! an interrupted run leaves no TIME_WAIT behind ([`Sock`]), child processes that are killed and
//! waited on every exit path ([`Kid`]), Ctrl-C handling, and the TIME_WAIT reaper that makes sure
//! the demo's graceful closes leave nothing in the kernel after it exits.
//!
//! Nothing a scenario reports is assumed: states, timers, errno names, pids and counts all come
//! from the kernel at run time.

pub mod cli;
pub mod concurrency;
pub mod proc;
pub mod reuseaddr;
pub mod reuseport;
pub mod states;
pub mod time_wait;
pub mod udp;
pub mod window;

use std::collections::BTreeSet;
use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context as _, Result};
use socket2::{Domain, Protocol, Type};

use crate::config::{Config, OutputMode, ShowMode};
use crate::listing;
use crate::model::{Family, InetProto, Socket, State, Table, TimerKind};
use crate::names::{Names, NumericMode};
use crate::procmap::OwnerMap;
use crate::render::table::TableWriter;
use crate::render::{RenderOptions, Section};
use crate::source::SourceChoice;

/// The scenarios, in the order `all` runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    TimeWait,
    Reuseaddr,
    Reuseport,
    States,
    Window,
    Concurrency,
    Udp,
}

impl Scenario {
    pub const ALL: [Scenario; 7] = [
        Scenario::TimeWait,
        Scenario::Reuseaddr,
        Scenario::Reuseport,
        Scenario::States,
        Scenario::Window,
        Scenario::Concurrency,
        Scenario::Udp,
    ];

    /// The subcommand and the JSON `scenario` value.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::TimeWait => "time-wait",
            Scenario::Reuseaddr => "reuseaddr",
            Scenario::Reuseport => "reuseport",
            Scenario::States => "states",
            Scenario::Window => "window",
            Scenario::Concurrency => "concurrency",
            Scenario::Udp => "udp",
        }
    }
}

/// Knobs the command line can turn.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Print one JSON object per scenario instead of the narrated walk-through.
    pub json: bool,
    /// time-wait: follow the TIME_WAIT socket until the kernel drops it (about 60 s).
    pub wait: bool,
    /// reuseport: listener processes.
    pub listeners: usize,
    /// reuseport: clients.
    pub clients: usize,
    /// concurrency: clients per server.
    pub workers: usize,
    /// Pause after each step's table (narrated mode only).
    pub step_delay: Duration,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            json: false,
            wait: false,
            listeners: 2,
            clients: 20,
            workers: 5,
            step_delay: Duration::ZERO,
        }
    }
}

/// Runs one scenario, writing narration (or nothing, with `--json`) to `out`; returns the
/// scenario's JSON object.
pub fn run(
    scenario: Scenario,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<serde_json::Value> {
    let mut ctx = Ctx::new(settings.clone(), out);
    ctx.banner(scenario)?;
    let result = match scenario {
        Scenario::TimeWait => time_wait::run(&mut ctx),
        Scenario::Reuseaddr => reuseaddr::run(&mut ctx),
        Scenario::Reuseport => reuseport::run(&mut ctx),
        Scenario::States => states::run(&mut ctx),
        Scenario::Window => window::run(&mut ctx),
        Scenario::Concurrency => concurrency::run(&mut ctx),
        Scenario::Udp => udp::run(&mut ctx),
    };
    // Whatever happened, take the demo's TIME_WAIT sockets with it.
    let reaped = ctx.reap_time_wait();
    let mut value = result?;
    reaped?;
    if let Some(obj) = value.as_object_mut() {
        obj.insert("cleanup".into(), serde_json::to_value(&ctx.cleanup)?);
    }
    Ok(value)
}

// ---------------------------------------------------------------------------------------------
// Ctrl-C

/// Set by the first SIGINT/SIGTERM/SIGHUP/SIGQUIT; every wait in the demo polls it.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Child pids, so a second signal can kill them from the handler itself (kill(2) is
/// async-signal-safe) when the main thread is stuck.
static CHILD_PIDS: [AtomicI32; 64] = [const { AtomicI32::new(0) }; 64];

extern "C" fn on_signal(_sig: libc::c_int) {
    if INTERRUPTED.swap(true, Ordering::SeqCst) {
        for slot in &CHILD_PIDS {
            let pid = slot.load(Ordering::SeqCst);
            if pid > 0 {
                // SAFETY: kill and _exit are async-signal-safe.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        unsafe { libc::_exit(130) };
    }
}

/// Installs the handlers for SIGINT, SIGTERM, SIGHUP (the terminal closed) and SIGQUIT
/// (Ctrl-\\): the first signal asks the demo to stop at its next wait and clean up (kill
/// children, reap TIME_WAIT); a second one kills the children and exits. Left to their default
/// action, SIGHUP and SIGQUIT would end the demo with its TIME_WAIT sockets still there.
pub fn install_signal_handlers() -> io::Result<()> {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT] {
        // SAFETY: a zeroed sigaction with a plain handler and an empty mask is valid; the
        // handler only touches atomics and async-signal-safe calls.
        let rc = unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut())
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// The error a scenario returns when the user interrupted it.
#[derive(Debug)]
pub struct Interrupted;

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interrupted")
    }
}

impl std::error::Error for Interrupted {}

/// Whether a signal asked the demo to stop.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// `Err(Interrupted)` once a signal arrived.
pub fn check_interrupt() -> Result<()> {
    if interrupted() {
        Err(Interrupted.into())
    } else {
        Ok(())
    }
}

/// Reads from `sock` (which must have a read timeout) until EOF, `want` bytes, or 10,000 reads,
/// checking for Ctrl-C between timeouts. Returns the bytes read.
pub fn drain(sock: &socket2::Socket, want: Option<usize>) -> Result<usize> {
    let mut buf = vec![0u8; 65536];
    let mut read = 0usize;
    for _ in 0..10_000 {
        if want.is_some_and(|w| read >= w) {
            break;
        }
        match io::Read::read(&mut &*sock, &mut buf) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                check_interrupt()?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(read)
}

/// Sleeps in short slices, stopping early on a signal.
pub fn nap(d: Duration) -> Result<()> {
    let end = Instant::now() + d;
    loop {
        check_interrupt()?;
        let now = Instant::now();
        if now >= end {
            return Ok(());
        }
        std::thread::sleep((end - now).min(Duration::from_millis(20)));
    }
}

fn register_pid(pid: u32) -> Option<usize> {
    let pid = i32::try_from(pid).ok()?;
    CHILD_PIDS.iter().position(|slot| {
        slot.compare_exchange(0, pid, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    })
}

fn unregister_pid(slot: Option<usize>) {
    if let Some(s) = slot.and_then(|s| CHILD_PIDS.get(s)) {
        s.store(0, Ordering::SeqCst);
    }
}

// ---------------------------------------------------------------------------------------------
// Errors as the kernel names them

/// The errno name of an error (`EADDRINUSE`), or its text when it carries no errno.
pub fn errno_name(e: &io::Error) -> String {
    let Some(n) = e.raw_os_error() else {
        return e.to_string();
    };
    let name = match n {
        libc::EADDRINUSE => "EADDRINUSE",
        libc::EADDRNOTAVAIL => "EADDRNOTAVAIL",
        libc::EACCES => "EACCES",
        libc::EAGAIN => "EAGAIN",
        libc::EINPROGRESS => "EINPROGRESS",
        libc::ECONNREFUSED => "ECONNREFUSED",
        libc::ECONNRESET => "ECONNRESET",
        libc::EINVAL => "EINVAL",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::EPIPE => "EPIPE",
        libc::ETIMEDOUT => "ETIMEDOUT",
        libc::EISCONN => "EISCONN",
        libc::ENOTCONN => "ENOTCONN",
        libc::EPERM => "EPERM",
        other => return format!("errno {other}"),
    };
    name.to_string()
}

/// `"ok"` or the errno name.
pub fn outcome<T>(r: &io::Result<T>) -> String {
    match r {
        Ok(_) => "ok".to_string(),
        Err(e) => errno_name(e),
    }
}

// ---------------------------------------------------------------------------------------------
// Sockets

/// `127.0.0.1:port`.
pub fn lo(port: u16) -> SocketAddr {
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))
}

/// A socket whose drop is abortive (SO_LINGER 0: an RST, no TIME_WAIT), so an early return or an
/// interrupt leaves nothing behind. A scenario that wants TCP's orderly close calls [`Sock::close`].
pub struct Sock {
    inner: Option<socket2::Socket>,
}

impl Sock {
    pub fn tcp() -> io::Result<Sock> {
        Ok(Sock::from(socket2::Socket::new(
            Domain::IPV4,
            Type::STREAM,
            Some(Protocol::TCP),
        )?))
    }

    /// A TCP client socket bound to 127.0.0.1 on a port of its own (bind port 0 before
    /// connect). connect() alone may pick a local port that other connections already use
    /// (only the address pair must be unique); a port of its own lets the demo's TIME_WAIT
    /// reaper bind it again after the connection is closed.
    pub fn client() -> io::Result<Sock> {
        let s = Sock::tcp()?;
        s.s().bind(&lo(0).into())?;
        Ok(s)
    }

    pub fn udp() -> io::Result<Sock> {
        Ok(Sock::from(socket2::Socket::new(
            Domain::IPV4,
            Type::DGRAM,
            Some(Protocol::UDP),
        )?))
    }

    /// The socket itself.
    pub fn s(&self) -> &socket2::Socket {
        // `inner` is only `None` inside `close` and `drop`, which consume the Sock.
        match &self.inner {
            Some(s) => s,
            None => unreachable!("Sock used after close"),
        }
    }

    /// close(2) with TCP's orderly release (FIN), as a program normally closes.
    pub fn close(mut self) {
        drop(self.inner.take());
    }

    pub fn local(&self) -> io::Result<SocketAddr> {
        self.s()
            .local_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::other("not an internet socket"))
    }

    pub fn fd(&self) -> i32 {
        self.s().as_raw_fd()
    }

    /// A blocking connect bounded in time (loopback answers at once unless a queue is full).
    pub fn connect(&self, to: SocketAddr) -> io::Result<()> {
        self.s().connect_timeout(&to.into(), Duration::from_secs(3))
    }

    /// Writes all of `data`, failing instead of blocking for long.
    pub fn send_all(&self, data: &[u8]) -> io::Result<()> {
        self.s().set_write_timeout(Some(Duration::from_secs(3)))?;
        let mut s = self.s();
        s.write_all(data)
    }

    /// Reads what is there (waiting up to 3 s for the first byte).
    pub fn recv_some(&self) -> io::Result<Vec<u8>> {
        self.s().set_read_timeout(Some(Duration::from_secs(3)))?;
        let mut buf = vec![0u8; 4096];
        let n = io::Read::read(&mut self.s(), &mut buf)?;
        buf.truncate(n);
        Ok(buf)
    }

    /// Waits up to `timeout` for a connection, watching for Ctrl-C.
    pub fn accept(&self, timeout: Duration) -> Result<(Sock, SocketAddr)> {
        let end = Instant::now() + timeout;
        loop {
            check_interrupt()?;
            if poll_in(self.fd(), 20)? {
                let (s, addr) = self.s().accept().context("accept")?;
                let addr = addr
                    .as_socket()
                    .ok_or_else(|| anyhow!("accept returned a non-internet address"))?;
                return Ok((Sock::from(s), addr));
            }
            if Instant::now() >= end {
                return Err(anyhow!("no connection arrived within {timeout:?}"));
            }
        }
    }
}

impl From<socket2::Socket> for Sock {
    fn from(s: socket2::Socket) -> Sock {
        Sock { inner: Some(s) }
    }
}

impl Drop for Sock {
    fn drop(&mut self) {
        if let Some(s) = self.inner.take() {
            let _ = s.set_linger(Some(Duration::ZERO));
        }
    }
}

/// poll(2) for readability, `ms` milliseconds at most.
pub fn poll_in(fd: i32, ms: i32) -> io::Result<bool> {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let rc = unsafe { libc::poll(&mut p, 1, ms) };
    match rc {
        -1 => {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                Ok(false)
            } else {
                Err(e)
            }
        }
        0 => Ok(false),
        _ => Ok(true),
    }
}

/// A TCP listener on 127.0.0.1, on a port the kernel picks.
pub fn listener(reuseaddr: bool, backlog: i32) -> io::Result<(Sock, u16)> {
    let s = Sock::tcp()?;
    s.s().set_reuse_address(reuseaddr)?;
    s.s().bind(&lo(0).into())?;
    s.s().listen(backlog)?;
    let port = s.local()?.port();
    Ok((s, port))
}

// ---------------------------------------------------------------------------------------------
// Child processes

/// A child process running one of the demo's hidden subcommands, killed and waited on drop.
/// Its stdout lines arrive on a channel.
pub struct Kid {
    child: std::process::Child,
    pub pid: u32,
    lines: std::sync::mpsc::Receiver<String>,
    slot: Option<usize>,
    _stdin: Option<std::process::ChildStdin>,
}

impl Kid {
    /// Starts `rnetstat-demo <args>` (the running binary itself).
    pub fn spawn(args: &[String]) -> Result<Kid> {
        let exe: PathBuf = std::env::current_exe().context("cannot find the demo's own binary")?;
        let mut child = std::process::Command::new(&exe)
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .with_context(|| format!("cannot start {}", exe.display()))?;
        let pid = child.id();
        let slot = register_pid(pid);
        let stdout = child.stdout.take();
        let stdin = child.stdin.take();
        let (tx, rx) = std::sync::mpsc::channel();
        if let Some(stdout) = stdout {
            std::thread::spawn(move || {
                for line in io::BufRead::lines(io::BufReader::new(stdout)) {
                    match line {
                        Ok(l) => {
                            if tx.send(l).is_err() {
                                break;
                            }
                        }
                        Err(_) => break,
                    }
                }
            });
        }
        Ok(Kid {
            child,
            pid,
            lines: rx,
            slot,
            _stdin: stdin,
        })
    }

    /// The next line the child printed, waiting up to `timeout`.
    pub fn line(&mut self, timeout: Duration) -> Result<Option<String>> {
        let end = Instant::now() + timeout;
        loop {
            check_interrupt()?;
            match self.lines.recv_timeout(Duration::from_millis(20)) {
                Ok(l) => return Ok(Some(l)),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(anyhow!("child {} exited early", self.pid))
                }
            }
            if Instant::now() >= end {
                return Ok(None);
            }
        }
    }

    /// A line the child printed that is already there, if any.
    pub fn try_line(&mut self) -> Option<String> {
        self.lines.try_recv().ok()
    }

    /// Waits for the line starting with `word ` and returns the rest.
    pub fn wait_word(&mut self, word: &str, timeout: Duration) -> Result<String> {
        let end = Instant::now() + timeout;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.line(left)? {
                Some(l) => {
                    if let Some(rest) = l.strip_prefix(word) {
                        return Ok(rest.trim().to_string());
                    }
                    if let Some(err) = l.strip_prefix("error ") {
                        return Err(anyhow!("child {}: {err}", self.pid));
                    }
                }
                None => return Err(anyhow!("child {} did not say {word:?} in time", self.pid)),
            }
        }
    }
}

impl Drop for Kid {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        unregister_pid(self.slot);
    }
}

/// A grandchild (forked by a child server): killed on drop, and waited for until it is gone
/// (its parent reaps it).
pub struct Grandkid {
    pub pid: u32,
    slot: Option<usize>,
}

impl Grandkid {
    pub fn new(pid: u32) -> Grandkid {
        Grandkid {
            pid,
            slot: register_pid(pid),
        }
    }
}

impl Drop for Grandkid {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.pid) {
            // SAFETY: plain kill(2) on a pid this demo's child reported as its own fork.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            let end = Instant::now() + Duration::from_secs(2);
            while process_alive(self.pid) && Instant::now() < end {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        unregister_pid(self.slot);
    }
}

/// Whether `pid` exists and is not a zombie.
pub fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            // The state follows the last ')' (the command name may contain one).
            let state = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.trim_start().chars().next());
            !matches!(state, Some('Z') | Some('X'))
        }
        Err(_) => false,
    }
}

// ---------------------------------------------------------------------------------------------
// The listing, through the library

/// The demo's view of the socket table: only sockets on the demo's ports.
pub struct Listing {
    pub sockets: Vec<Socket>,
    pub owners: Option<OwnerMap>,
}

impl Listing {
    /// The TCP socket with exactly this local and remote address.
    pub fn conn(&self, local: SocketAddr, remote: SocketAddr) -> Option<&Socket> {
        self.sockets.iter().find(|s| {
            s.inet().is_some_and(|i| {
                i.proto == InetProto::Tcp && i.local == local && i.remote == remote
            })
        })
    }

    /// TCP sockets bound to local port `port` in state `state`.
    pub fn on_port(&self, port: u16, state: State) -> Vec<&Socket> {
        self.sockets
            .iter()
            .filter(|s| {
                s.state == state
                    && s.inet()
                        .is_some_and(|i| i.proto == InetProto::Tcp && i.local.port() == port)
            })
            .collect()
    }

    /// Every distinct pid holding the socket.
    pub fn pids(&self, s: &Socket) -> Vec<u32> {
        let mut v: Vec<u32> = match &self.owners {
            Some(m) if s.inode != 0 => m.owners(s.inode).map(|o| o.pid).collect(),
            _ => Vec::new(),
        };
        v.dedup();
        v
    }

    /// The state of the TCP connection `local → remote`, if the kernel still has it.
    pub fn state_of(&self, local: SocketAddr, remote: SocketAddr) -> Option<State> {
        self.conn(local, remote).map(|s| s.state)
    }

    /// The remaining TIME_WAIT time of a connection, from the kernel's timer.
    pub fn time_wait_ms(&self, local: SocketAddr, remote: SocketAddr) -> Option<u64> {
        let s = self.conn(local, remote)?;
        if s.state != State::TimeWait {
            return None;
        }
        s.inet()?
            .timer
            .filter(|t| t.kind == TimerKind::TimeWait)
            .map(|t| t.remaining_ms)
    }
}

/// State names as the demo reports them: netstat's TCP names; `SYN_RECV` for request sockets.
pub fn state_name(s: State) -> &'static str {
    match s {
        State::NewSynRecv => "SYN_RECV",
        s => s.tcp_name(),
    }
}

/// The protocols whose ports the demo watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Proto {
    Tcp,
    Udp,
}

/// What the end-of-scenario cleanup did.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Cleanup {
    /// TIME_WAIT sockets on the demo's ports removed before exit.
    pub time_wait_reaped: usize,
    /// TIME_WAIT sockets that could not be removed; the kernel drops them when their timer ends.
    pub time_wait_left: usize,
}

/// One run's output context.
pub struct Ctx<'o> {
    pub settings: Settings,
    out: &'o mut dyn Write,
    cfg: Config,
    names: Names,
    /// Ports this scenario made, per protocol; the listing shows sockets of that protocol with
    /// either end on one of them.
    pub ports: BTreeSet<(Proto, u16)>,
    step: usize,
    /// What the TIME_WAIT reaper did so far.
    pub cleanup: Cleanup,
}

impl<'o> Ctx<'o> {
    pub fn new(settings: Settings, out: &'o mut dyn Write) -> Ctx<'o> {
        let numeric = NumericMode {
            hosts: true,
            ports: true,
            users: true,
        };
        let cfg = Config {
            tables: vec![
                Table::Inet(InetProto::Tcp, Family::V4),
                Table::Inet(InetProto::Udp, Family::V4),
            ],
            show: ShowMode::All,
            programs: true,
            extend: false,
            timers: true,
            numeric,
            continuous: None,
            verbose: false,
            output: OutputMode::Table,
            headers: true,
            source: SourceChoice::Auto,
            owner_scan: crate::procmap::ScanChoice::Auto,
            proc_root: PathBuf::from("/proc"),
            mode: crate::config::Mode::List,
            filter: crate::filter::Filter::default(),
            internals: crate::config::Internals::default(),
            stats_selection: crate::stats::Selection::default(),
            nettab: crate::nettab::Options::default(),
        };
        Ctx {
            settings,
            out,
            cfg,
            names: Names::new(numeric, Duration::ZERO),
            ports: BTreeSet::new(),
            step: 0,
            cleanup: Cleanup::default(),
        }
    }

    pub fn json(&self) -> bool {
        self.settings.json
    }

    /// Adds a TCP port to the set the listing is limited to.
    pub fn watch(&mut self, port: u16) {
        self.ports.insert((Proto::Tcp, port));
    }

    /// Adds a UDP port to the set the listing is limited to.
    pub fn watch_udp(&mut self, port: u16) {
        self.ports.insert((Proto::Udp, port));
    }

    fn banner(&mut self, scenario: Scenario) -> Result<()> {
        if self.json() {
            return Ok(());
        }
        let title = format!("rnetstat-demo {}", scenario.name());
        writeln!(self.out, "{title}\n{}", "=".repeat(title.len()))?;
        Ok(())
    }

    /// Narration (not printed with --json).
    pub fn say(&mut self, text: &str) -> Result<()> {
        if !self.json() {
            writeln!(self.out, "{text}")?;
        }
        Ok(())
    }

    /// A numbered step: its title, narration, and the socket calls just made.
    pub fn step(&mut self, title: &str, narration: &str, calls: &[String]) -> Result<()> {
        self.step += 1;
        if self.json() {
            return Ok(());
        }
        writeln!(self.out, "\n[{}] {title}", self.step)?;
        for line in narration.lines() {
            writeln!(self.out, "    {line}")?;
        }
        if !calls.is_empty() {
            writeln!(self.out, "    calls:")?;
            for c in calls {
                writeln!(self.out, "      {c}")?;
            }
        }
        Ok(())
    }

    /// The listing now, limited to the demo's ports.
    pub fn look(&mut self) -> Result<Listing> {
        // The kernel filters by port too (state mask and bytecode), so a busy machine's other
        // sockets are never copied out; the exact selection below stays the reference.
        let mut cfg = self.cfg.clone();
        let mut words = Vec::new();
        for (_, port) in &self.ports {
            if !words.is_empty() {
                words.push("or".to_string());
            }
            words.extend(
                format!("sport = :{port} or dport = :{port}")
                    .split(' ')
                    .map(str::to_string),
            );
        }
        if !words.is_empty() {
            cfg.filter = crate::filter::Filter::parse(&words, &crate::filter::NoLookup)
                .map_err(|e| anyhow!("demo port filter: {e}"))?;
        }
        let snap = listing::snapshot(&cfg).context("cannot list sockets")?;
        if let Some(f) = snap.outcome.failures.first() {
            return Err(anyhow!("cannot list sockets: {f}"));
        }
        let ports = &self.ports;
        let mut sockets: Vec<Socket> = snap
            .sockets
            .into_iter()
            .filter(|s| {
                s.inet().is_some_and(|i| {
                    let p = match i.proto {
                        InetProto::Tcp => Proto::Tcp,
                        InetProto::Udp => Proto::Udp,
                        _ => return false,
                    };
                    i.local.ip().is_loopback()
                        && (ports.contains(&(p, i.local.port()))
                            || ports.contains(&(p, i.remote.port())))
                })
            })
            .collect();
        // Listeners first, then the two ends of each connection next to each other: easier to
        // read than the kernel's hash order.
        sockets.sort_by_key(|s| {
            s.inet().map(|i| {
                let (a, b) = (i.local.port(), i.remote.port());
                (
                    i.proto != InetProto::Tcp,
                    s.state != State::Listen,
                    a.min(b),
                    a.max(b),
                    i.local,
                )
            })
        });
        Ok(Listing {
            sockets,
            owners: snap.owners,
        })
    }

    /// Prints a listing as rnetstat's table (`-4tuanpo`, limited to the demo's ports).
    pub fn show(&mut self, l: &Listing) -> Result<()> {
        if self.json() {
            return Ok(());
        }
        let list = |want: Proto| {
            self.ports
                .iter()
                .filter(|(p, _)| *p == want)
                .map(|(_, n)| n.to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        let (tcp, udp) = (list(Proto::Tcp), list(Proto::Udp));
        let which = match (tcp.is_empty(), udp.is_empty()) {
            (false, true) => format!("tcp ports {tcp}"),
            (true, false) => format!("udp ports {udp}"),
            _ => format!("tcp ports {tcp}, udp ports {udp}"),
        };
        writeln!(
            self.out,
            "    rnetstat -4tuanpo, limited to the demo's {which}:"
        )?;
        let mut buf = Vec::new();
        {
            let mut w = TableWriter::new(
                &mut buf,
                RenderOptions::from_config(&self.cfg),
                &mut self.names,
                crate::render::Context {
                    owners: l.owners.as_ref(),
                    cgroups: None,
                },
            );
            w.section(Section::Inet)?;
            for s in &l.sockets {
                w.socket(s)?;
            }
            w.finish()?;
        }
        let text = String::from_utf8_lossy(&buf);
        // Skip the "Active Internet connections" line: the demo's own heading says what it is.
        for line in text.lines().skip(1) {
            writeln!(self.out, "    {line}")?;
        }
        if l.sockets.is_empty() {
            writeln!(self.out, "    (no sockets on these ports)")?;
        }
        if !self.settings.step_delay.is_zero() {
            writeln!(
                self.out,
                "    (pausing {:.1} s; Ctrl-C stops the demo and cleans up)",
                self.settings.step_delay.as_secs_f64()
            )?;
            self.out.flush()?;
            nap(self.settings.step_delay)?;
        }
        self.out.flush()?;
        Ok(())
    }

    /// Looks and shows; returns the listing.
    pub fn look_show(&mut self) -> Result<Listing> {
        let l = self.look()?;
        self.show(&l)?;
        Ok(l)
    }

    /// Polls the listing until `pred` holds or `timeout` passes; the last listing either way.
    pub fn wait_for(
        &mut self,
        timeout: Duration,
        pred: impl Fn(&Listing) -> bool,
    ) -> Result<(bool, Listing)> {
        let end = Instant::now() + timeout;
        loop {
            let l = self.look()?;
            if pred(&l) {
                return Ok((true, l));
            }
            if Instant::now() >= end {
                return Ok((false, l));
            }
            nap(Duration::from_millis(10))?;
        }
    }

    /// Removes every TIME_WAIT socket on the demo's ports, so the demo leaves nothing behind.
    ///
    /// A TIME_WAIT socket answers a SYN for its own address pair with an ACK; a client in
    /// SYN_SENT that gets an ACK it did not expect answers with an RST whose sequence number
    /// is exactly what the TIME_WAIT socket expects, and Linux (net.ipv4.tcp_rfc1337 = 0, the
    /// default) then drops the TIME_WAIT socket ("TIME_WAIT assassination", RFC 1337). So:
    /// bind to the remote end, connect to the local end, and the TIME_WAIT socket is gone.
    /// No listener may be on the port (a listener would take the SYN as a new connection).
    pub fn reap_time_wait(&mut self) -> Result<()> {
        let mut c = Cleanup::default();
        let l = self.look()?;
        let tws: Vec<(SocketAddr, SocketAddr)> = l
            .sockets
            .iter()
            .filter(|s| s.state == State::TimeWait)
            .filter_map(|s| s.inet().map(|i| (i.local, i.remote)))
            .collect();
        if tws.is_empty() {
            return Ok(());
        }
        // Ignore an interrupt here: this is the cleanup an interrupt asked for.
        let mut last = l;
        for _round in 0..3 {
            let left: Vec<(SocketAddr, SocketAddr)> = tws
                .iter()
                .copied()
                .filter(|&(a, b)| last.state_of(a, b) == Some(State::TimeWait))
                .collect();
            if left.is_empty() {
                break;
            }
            let mut probes = Vec::new();
            for &(local, remote) in &left {
                if let Ok(s) = Sock::tcp() {
                    let ok = s.s().set_reuse_address(true).is_ok()
                        && s.s().bind(&remote.into()).is_ok()
                        && s.s().set_nonblocking(true).is_ok();
                    if ok {
                        let _ = s.s().connect(&local.into());
                        probes.push(s);
                    }
                }
            }
            let end = Instant::now() + Duration::from_millis(500);
            loop {
                last = self.look()?;
                let gone = left
                    .iter()
                    .all(|&(a, b)| last.state_of(a, b) != Some(State::TimeWait));
                if gone || Instant::now() >= end {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            drop(probes);
        }
        for &(a, b) in &tws {
            if last.state_of(a, b) == Some(State::TimeWait) {
                c.time_wait_left += 1;
            } else {
                c.time_wait_reaped += 1;
            }
        }
        if !self.json() {
            writeln!(
                self.out,
                "\n(cleanup: {} TIME_WAIT socket(s) of this demo removed by an RFC 1337 reset{})",
                c.time_wait_reaped,
                if c.time_wait_left > 0 {
                    format!(
                        "; {} left to expire by their timer (net.ipv4.tcp_rfc1337 may be set)",
                        c.time_wait_left
                    )
                } else {
                    String::new()
                }
            )?;
        }
        self.cleanup.time_wait_reaped += c.time_wait_reaped;
        self.cleanup.time_wait_left += c.time_wait_left;
        Ok(())
    }
}

/// Formats milliseconds as netstat's timer does: `59.87`.
pub fn secs(ms: u64) -> String {
    format!("{}.{:02} s", ms / 1000, ms % 1000 / 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_names_are_the_kernels() {
        assert_eq!(
            errno_name(&io::Error::from_raw_os_error(libc::EADDRINUSE)),
            "EADDRINUSE"
        );
        assert_eq!(
            errno_name(&io::Error::from_raw_os_error(libc::EOPNOTSUPP)),
            "EOPNOTSUPP"
        );
        assert_eq!(
            errno_name(&io::Error::from_raw_os_error(9999)),
            "errno 9999"
        );
        assert_eq!(outcome(&Ok::<(), io::Error>(())), "ok");
    }

    /// Guards the promise that an early return leaves no TIME_WAIT: dropping a `Sock` resets.
    #[test]
    fn dropping_a_sock_resets_instead_of_leaving_time_wait() {
        let (l, port) = listener(false, 8).expect("listen");
        let c = Sock::client().expect("client");
        c.connect(lo(port)).expect("connect");
        let (s, peer) = l.accept(Duration::from_secs(2)).expect("accept");
        drop(s);
        drop(c);
        drop(l);
        let text = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
        let needle = format!(":{:04X}", peer.port());
        assert!(
            !text
                .lines()
                .any(|line| line.contains(&needle) && line.split_whitespace().nth(3) == Some("06")),
            "a TIME_WAIT was left:\n{text}"
        );
    }

    #[test]
    fn own_process_is_alive_and_a_free_pid_is_not() {
        assert!(process_alive(std::process::id()));
        assert!(!process_alive(u32::MAX - 1));
    }

    #[test]
    fn tcp_info_reads_the_kernels_figures() {
        let (l, port) = listener(false, 8).expect("listen");
        let c = Sock::client().expect("client");
        c.connect(lo(port)).expect("connect");
        let info = window::tcp_info(c.fd()).expect("TCP_INFO");
        assert!(info.snd_mss.is_some_and(|m| m > 0), "{info:?}");
        assert!(info.rcv_mss.is_some_and(|m| m > 0), "{info:?}");
        drop(l);
    }
}
