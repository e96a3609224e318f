//! The demo's helper processes: what runs inside the hidden subcommands the demo starts by
//! re-executing its own binary (`__listener`, `__fork-server`).
//!
//! They talk to the demo over stdout, one line per event (`ready PORT`, `accepted N PEER`,
//! `forked PID PEER`, `error ERRNO`), and end when the demo closes their stdin or dies
//! (PR_SET_PDEATHSIG), so no helper can outlive the demo.

use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::time::Duration;

use anyhow::{Context as _, Result};

use super::{errno_name, listener, lo, Sock};

/// Asks the kernel to kill this process when its parent dies.
fn die_with_parent() {
    // SAFETY: prctl with PR_SET_PDEATHSIG takes a signal number and no pointers.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
    }
}

fn say(line: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()
}

/// Waits until the listener has a connection (`Ok(true)`) or stdin closed (`Ok(false)`).
fn wait_listener_or_eof(listen_fd: i32) -> io::Result<bool> {
    let stdin_fd = io::stdin().as_raw_fd();
    loop {
        let mut fds = [
            libc::pollfd {
                fd: listen_fd,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: stdin_fd,
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: two valid pollfds.
        let rc = unsafe { libc::poll(fds.as_mut_ptr(), 2, 1000) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if fds[1].revents != 0 {
            // The demo never writes to us: readable stdin means it closed (or died).
            return Ok(false);
        }
        if fds[0].revents != 0 {
            return Ok(true);
        }
    }
}

/// `__listener`: listen on 127.0.0.1:`port` (0 = let the kernel pick), with or without
/// SO_REUSEPORT, accept forever and report each accept; hold every connection open.
pub fn listener_main(port: u16, reuseport: bool) -> Result<()> {
    die_with_parent();
    let s = Sock::tcp().context("socket")?;
    s.s().set_reuse_port(reuseport).context("SO_REUSEPORT")?;
    if let Err(e) = s.s().bind(&lo(port).into()) {
        say(&format!("error {}", errno_name(&e)))?;
        return Ok(());
    }
    s.s().listen(128).context("listen")?;
    say(&format!("ready {}", s.local()?.port()))?;
    let mut held = Vec::new();
    while wait_listener_or_eof(s.fd())? {
        let (c, peer) = s.s().accept().context("accept")?;
        // An abortive close when this process ends: no TIME_WAIT left behind.
        c.set_linger(Some(Duration::ZERO))?;
        held.push(c);
        let peer = peer.as_socket().map(|a| a.to_string()).unwrap_or_default();
        say(&format!("accepted {} {peer}", held.len()))?;
    }
    Ok(())
}

/// `__fork-server`: the classic forking server. accept(), then fork(): the child serves the
/// connection (sends its pid, then waits for the client to go), the parent closes its copy of
/// the connection and goes back to accept().
///
/// fork() is safe here because this process never starts a thread: the child inherits a
/// single-threaded image, and it ends with `_exit` without running the parent's destructors.
pub fn fork_server_main() -> Result<()> {
    die_with_parent();
    let (l, port) = listener(false, 128).context("listen")?;
    // Children are reaped by the kernel: no zombies while the server runs.
    // SAFETY: setting SIGCHLD's disposition to SIG_IGN.
    unsafe { libc::signal(libc::SIGCHLD, libc::SIG_IGN) };
    say(&format!("ready {port}"))?;
    while wait_listener_or_eof(l.fd())? {
        let (c, peer) = l.s().accept().context("accept")?;
        c.set_linger(Some(Duration::ZERO))?;
        let peer = peer.as_socket().map(|a| a.to_string()).unwrap_or_default();
        io::stdout().flush()?;
        // SAFETY: this process is single-threaded (see above).
        let pid = unsafe { libc::fork() };
        match pid {
            0 => serve_forked(l.fd(), c),
            -1 => say(&format!(
                "error fork {}",
                errno_name(&io::Error::last_os_error())
            ))?,
            child => {
                // The parent's copy of the connection; the child keeps the socket open.
                drop(c);
                say(&format!("forked {child} {peer}"))?;
            }
        }
    }
    Ok(())
}

/// The forked child: never returns.
fn serve_forked(listen_fd: i32, c: socket2::Socket) -> ! {
    die_with_parent();
    // SAFETY: closing the inherited listener fd; the parent keeps its own.
    unsafe { libc::close(listen_fd) };
    // SAFETY: getpid has no preconditions.
    let me = unsafe { libc::getpid() };
    let msg = format!("pid {me}\n");
    let mut s = &c;
    let _ = s.write_all(msg.as_bytes());
    let mut buf = [0u8; 256];
    loop {
        match io::Read::read(&mut s, &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
    drop(c);
    // SAFETY: _exit ends the child without running the parent's atexit handlers or flushing
    // the parent's inherited buffers.
    unsafe { libc::_exit(0) }
}
