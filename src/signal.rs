//! Ending cleanly on SIGINT/SIGTERM: the long-running modes (`--watch`, `--events`, `-c`) poll
//! [`stop_requested`] and finish their output instead of dying mid-line, and [`StopOnSignal`]
//! gives up a write that blocks (a reader that never reads) once a stop is requested. Programs
//! built on the library (the demo) use the same handler; one that starts helper processes can
//! register them ([`ChildGuard::register`]): a second signal then kills them from the handler
//! and exits with status 130. The binary registers none, so for it a second signal changes
//! nothing.

use std::io::{self, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::Duration;

static STOP: AtomicBool = AtomicBool::new(false);

/// Whether a second signal ends the process (see [`exit_on_second_signal`]).
static EXIT_ON_SECOND: AtomicBool = AtomicBool::new(false);

/// Registered child pids, read by the handler itself (kill(2) is async-signal-safe).
static CHILD_PIDS: [AtomicI32; 64] = [const { AtomicI32::new(0) }; 64];

extern "C" fn on_signal(_: libc::c_int) {
    if STOP.swap(true, Ordering::SeqCst) && EXIT_ON_SECOND.load(Ordering::SeqCst) {
        for slot in &CHILD_PIDS {
            let pid = slot.load(Ordering::SeqCst);
            if pid > 0 {
                // SAFETY: kill(2) is async-signal-safe.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        // SAFETY: _exit(2) is async-signal-safe.
        unsafe { libc::_exit(130) };
    }
}

/// Installs the SIGINT and SIGTERM handlers, without SA_RESTART so a blocking read returns
/// EINTR.
pub fn install() -> std::io::Result<()> {
    install_for(&[libc::SIGINT, libc::SIGTERM])
}

/// Installs the same handler for each of `signals` (the demo adds SIGHUP and SIGQUIT, whose
/// default action would leave its sockets behind).
pub fn install_for(signals: &[libc::c_int]) -> std::io::Result<()> {
    for &sig in signals {
        // SAFETY: the handler only touches atomics and calls async-signal-safe functions; the
        // sigaction struct is zeroed (empty mask, no flags) before the handler is set.
        let rc = unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as *const () as usize;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut())
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Whether SIGINT or SIGTERM arrived since [`install`].
pub fn stop_requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// Sleeps for `d`, waking early when a stop is requested. Returns false if stopping.
pub fn sleep(d: std::time::Duration) -> bool {
    let end = std::time::Instant::now() + d;
    while !stop_requested() {
        let now = std::time::Instant::now();
        if now >= end {
            return true;
        }
        std::thread::sleep((end - now).min(std::time::Duration::from_millis(50)));
    }
    false
}

/// Makes a second SIGINT/SIGTERM kill the registered children and exit with status 130 at once,
/// for when the main thread does not get to its next check. [`ChildGuard::register`] turns it on
/// too.
pub fn exit_on_second_signal() {
    EXIT_ON_SECOND.store(true, Ordering::SeqCst);
}

/// A child process the signal handler kills on a second signal, until the guard is dropped.
#[derive(Debug)]
pub struct ChildGuard {
    slot: Option<usize>,
}

impl ChildGuard {
    /// Registers `pid` (at most 64 at a time; past that the pid is not registered) and makes a
    /// second signal end the process.
    pub fn register(pid: u32) -> ChildGuard {
        exit_on_second_signal();
        let slot = i32::try_from(pid).ok().and_then(|pid| {
            CHILD_PIDS.iter().position(|slot| {
                slot.compare_exchange(0, pid, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok()
            })
        });
        ChildGuard { slot }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(s) = self.slot.and_then(|s| CHILD_PIDS.get(s)) {
            s.store(0, Ordering::SeqCst);
        }
    }
}

/// The error a [`StopOnSignal`] write returns when it gives up: see [`is_stop`].
#[derive(Debug)]
pub struct Stopped;

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("output abandoned: stopped by a signal while the reader was not reading")
    }
}

impl std::error::Error for Stopped {}

/// Whether `e` is a write given up by [`StopOnSignal`] (the run ends as on any stop).
pub fn is_stop(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<Stopped>())
}

/// How long a write may wait for the reader once a stop is requested.
const STOP_GRACE: Duration = Duration::from_millis(40);
/// At most this much is written per call once a stop is requested: a pipe that polls writable
/// has a page free, so a write this size cannot block.
const STOP_CHUNK: usize = 4096;

/// A writer that ends a blocked write when SIGINT/SIGTERM arrives. The handlers are installed
/// without SA_RESTART, so a blocked write(2) returns EINTR (or a short count); std's writers
/// retry EINTR forever, and a reader that never reads (`rnetstat -c | sleep 20`) would keep the
/// process alive until SIGKILL. Once a stop is requested, each write first waits at most
/// [`STOP_GRACE`] for the descriptor to take data and writes a bounded chunk; a reader that
/// still reads gets the rest of the output, one that does not makes the write fail with
/// [`Stopped`].
pub struct StopOnSignal<W> {
    inner: W,
    /// A write gave up: later ones (a buffer's flush on drop) fail at once instead of waiting
    /// out the grace period again.
    gave_up: bool,
}

impl<W: Write + AsFd> StopOnSignal<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> StopOnSignal<W> {
        StopOnSignal {
            inner,
            gave_up: false,
        }
    }

    fn give_up(&mut self) -> io::Error {
        self.gave_up = true;
        io::Error::other(Stopped)
    }
}

/// Whether `fd` takes data within `wait`.
fn writable(fd: BorrowedFd<'_>, wait: Duration) -> bool {
    let mut p = [rustix::event::PollFd::new(
        &fd,
        rustix::event::PollFlags::OUT,
    )];
    let timeout = rustix::event::Timespec {
        tv_sec: 0,
        tv_nsec: wait.subsec_nanos().into(),
    };
    matches!(rustix::event::poll(&mut p, Some(&timeout)), Ok(n) if n > 0)
}

impl<W: Write + AsFd> Write for StopOnSignal<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        loop {
            let buf = if stop_requested() {
                if self.gave_up || !writable(self.inner.as_fd(), STOP_GRACE) {
                    return Err(self.give_up());
                }
                &buf[..buf.len().min(STOP_CHUNK)]
            } else {
                buf
            };
            match self.inner.write(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                r => return r,
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        loop {
            match self.inner.flush() {
                Err(e) if e.kind() == io::ErrorKind::Interrupted && !stop_requested() => continue,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => return Err(self.give_up()),
                r => return r,
            }
        }
    }
}

/// Now, as RFC 3339 UTC with milliseconds (`2026-11-25T17:05:01.123Z`).
pub(crate) fn timestamp() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        now.subsec_millis()
    )
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::civil_from_days;

    #[test]
    fn known_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_417), (2025, 11, 25));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
