//! Standard output for the listing: our own 64 KiB buffer already batches writes, so this writes
//! each batch straight to descriptor 1, without std's `LineWriter` underneath (which would scan
//! each batch for its last newline and hold back the partial line after it, one extra small
//! write(2) per batch).
//!
//! It also refuses to lose output quietly: a descriptor 1 that was closed when the program
//! started (`rnetstat >&-`) fails the run instead of writing into the /dev/null that Rust's
//! runtime puts there.

use std::io::{self, Write};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set before `main` when descriptor 1 was closed at exec (`rnetstat >&-`).
static STDOUT_CLOSED_AT_EXEC: AtomicBool = AtomicBool::new(false);

/// Runs from `.init_array`, before Rust's runtime starts: the runtime reopens a closed
/// descriptor 0, 1 or 2 on /dev/null, after which a closed stdout looks like `>/dev/null` and
/// the output would be lost with exit 0. Only a flag is stored; nothing else is touched yet.
extern "C" fn note_closed_stdout() {
    // SAFETY: F_GETFD only reads the descriptor's flags; any integer is a valid argument.
    if unsafe { libc::fcntl(1, libc::F_GETFD) } == -1 {
        STDOUT_CLOSED_AT_EXEC.store(true, Ordering::Relaxed);
    }
}

#[used]
#[link_section = ".init_array"]
static NOTE_CLOSED_STDOUT: extern "C" fn() = note_closed_stdout;

/// Whether descriptor 1 was open when the program was started.
pub fn was_open() -> bool {
    !STDOUT_CLOSED_AT_EXEC.load(Ordering::Relaxed)
}

pub struct RawStdout<'a> {
    /// Held so nothing else in the process interleaves with our writes.
    _lock: io::StdoutLock<'a>,
    /// A duplicate of descriptor 1, or why there is none (EBADF: it is closed).
    file: Result<std::fs::File, io::ErrorKind>,
}

impl<'a> RawStdout<'a> {
    pub fn new(lock: io::StdoutLock<'a>) -> RawStdout<'a> {
        let file = lock
            .as_fd()
            .try_clone_to_owned()
            .map(std::fs::File::from)
            .map_err(|e| e.kind());
        RawStdout { _lock: lock, file }
    }
}

/// The descriptor a blocked write waits on: the duplicate, or descriptor 1 itself.
impl std::os::fd::AsFd for RawStdout<'_> {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        match &self.file {
            Ok(f) => f.as_fd(),
            Err(_) => self._lock.as_fd(),
        }
    }
}

impl Write for RawStdout<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.file {
            Ok(f) => f.write(buf),
            Err(_) => Err(io::Error::from_raw_os_error(libc::EBADF)),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.file {
            Ok(f) => f.flush(),
            Err(_) => Err(io::Error::from_raw_os_error(libc::EBADF)),
        }
    }
}
