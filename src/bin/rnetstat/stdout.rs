//! Standard output for the listing: our own 64 KiB buffer already batches writes, so this writes
//! each batch straight to descriptor 1, without std's `LineWriter` underneath (which would scan
//! each batch for its last newline and hold back the partial line after it, one extra small
//! write(2) per batch).
//!
//! It also refuses to lose output quietly: std treats a closed descriptor 1 (`rnetstat >&-`) as
//! a sink that accepts everything, while this reports EBADF so the run fails.

use std::io::{self, Write};
use std::os::fd::AsFd;

/// Whether descriptor 1 was open when the program started.
///
/// Rust's runtime reopens a closed descriptor 0, 1 or 2 on /dev/null, read-write, before `main`
/// (so `rnetstat >&-` would write into /dev/null and report success). A shell's `>/dev/null`
/// opens it write-only, so descriptor 1 on /dev/null *read-write* is taken as closed.
pub fn was_open() -> bool {
    use rustix::fs::{fstat, FileType};
    let fd = io::stdout();
    let fd = fd.as_fd();
    let Ok(flags) = rustix::fs::fcntl_getfl(fd) else {
        return false;
    };
    let read_write = flags.contains(rustix::fs::OFlags::RDWR);
    let dev_null = fstat(fd).is_ok_and(|st| {
        FileType::from_raw_mode(st.st_mode) == FileType::CharacterDevice
            && st.st_rdev == rustix::fs::makedev(1, 3)
    });
    !(read_write && dev_null)
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
