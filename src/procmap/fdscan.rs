//! The portable owner scan: every `/proc/PID/fd` directory, one `statx` per descriptor.
//!
//! Used when the BPF iterator ([`super::bpf`]) cannot be: without root, inside a pid namespace,
//! on kernels without BTF, or on another proc root. It is a lean loop rather than
//! `procfs::Process::fd()` (four syscalls per fd, and silent about what it skips):
//! `getdents64` into a reused buffer and one `statx` per descriptor, spread over the cores by
//! process. statx follows the descriptor to its socket's inode without the kernel formatting a
//! `socket:[N]` link text (measured ~5% less CPU than readlinkat).
//!
//! Processes that exit mid-scan (ENOENT, ESRCH) are skipped; every other failure is counted:
//! permission apart (netstat's hint), anything else (a descriptor limit, memory) with its first
//! error, so the caller can say once how many processes' owners are missing and why.

use std::mem::MaybeUninit;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use rustix::fs::{openat, statx, AtFlags, Mode, OFlags, RawDir, StatxFlags, CWD};
use rustix::io::Errno;

use super::{read_comm, Entry, ScanGaps};

/// What one scan found, before it is indexed.
#[derive(Default)]
pub(super) struct Found {
    pub entries: Vec<Entry>,
    pub names: Vec<(u32, Box<[u8]>)>,
    pub gaps: ScanGaps,
}

/// `PROC_SUPER_MAGIC` from linux/magic.h: what statfs says of a proc file system.
const PROC_SUPER_MAGIC: i64 = 0x9fa0;

/// Whether `e` means the process (or the descriptor) went away while we looked.
fn vanished(e: Errno) -> bool {
    e == Errno::NOENT || e == Errno::SRCH
}

impl Found {
    /// A process whose descriptors could not be read, for a reason other than exiting.
    fn failed(&mut self, e: Errno) {
        if e == Errno::ACCESS || e == Errno::PERM {
            self.gaps.denied += 1;
        } else {
            self.gaps.failed += 1;
            self.gaps.first_error.get_or_insert(e.raw_os_error());
        }
    }
}

/// Scans every process under `proc_root` (normally `/proc`).
pub(super) fn scan(proc_root: &Path) -> std::io::Result<Found> {
    let root = openat(
        CWD,
        proc_root,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let pids = list_pids(&root)?;
    let mut found = Found::default();
    if pids.is_empty() {
        // A real proc file system always shows at least this process: an empty one is not
        // "no owners" but no /proc (unmounted, or a stand-in directory).
        // f_type's width differs by architecture.
        #[allow(clippy::useless_conversion)]
        let procfs =
            rustix::fs::fstatfs(&root).is_ok_and(|st| i64::from(st.f_type) == PROC_SUPER_MAGIC);
        found.gaps.no_processes = Some(procfs);
        return Ok(found);
    }
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8)
        .min(pids.len() / 32 + 1);
    let partials: Vec<Found> = if threads <= 1 {
        vec![scan_pids(&root, pids.iter().copied())]
    } else {
        std::thread::scope(|s| {
            let (root, pids) = (&root, &pids);
            // Interleave so each thread gets a similar mix of big and small processes.
            let share =
                move |t: usize| scan_pids(root, pids.iter().skip(t).step_by(threads).copied());
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    (
                        t,
                        std::thread::Builder::new().spawn_scoped(s, move || share(t)),
                    )
                })
                .collect();
            handles
                .into_iter()
                .map(|(t, h)| match h {
                    // A scan thread that died cannot vouch for its processes: say owners
                    // may be missing rather than pretend it found none.
                    Ok(h) => h.join().unwrap_or_else(|_| {
                        let mut f = Found::default();
                        f.failed(Errno::CHILD);
                        f
                    }),
                    // No thread to be had (a pids or process limit): scan that share here.
                    Err(_) => share(t),
                })
                .collect()
        })
    };
    // With hidepid, other users' processes are absent rather than unreadable: count that
    // as "some processes could not be read" too, or the hint would never show.
    if !rustix::process::geteuid().is_root() && hides_pids(proc_root) {
        found.gaps.denied += 1;
    }
    for p in partials {
        found.entries.extend(p.entries);
        found.names.extend(p.names);
        found.gaps.denied += p.gaps.denied;
        found.gaps.failed += p.gaps.failed;
        if found.gaps.first_error.is_none() {
            found.gaps.first_error = p.gaps.first_error;
        }
    }
    Ok(found)
}

/// Whether the proc file system at `proc_root` is mounted with a `hidepid` other than 0/off.
fn hides_pids(proc_root: &Path) -> bool {
    let Ok(info) = std::fs::read(proc_root.join("self/mountinfo")) else {
        return false;
    };
    let root = std::fs::canonicalize(proc_root).unwrap_or_else(|_| proc_root.to_path_buf());
    mount_hides_pids(&String::from_utf8_lossy(&info), &root.to_string_lossy())
}

/// The mountinfo decision, for `mount_point`: the last proc mount there wins (it hides the
/// earlier ones).
fn mount_hides_pids(mountinfo: &str, mount_point: &str) -> bool {
    let mut hides = false;
    for line in mountinfo.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        if left.split_whitespace().nth(4) != Some(mount_point) {
            continue;
        }
        let mut r = right.split_whitespace();
        if r.next() != Some("proc") {
            continue;
        }
        let opts = r.nth(1).unwrap_or("");
        hides = opts.split(',').any(|o| {
            o.strip_prefix("hidepid=")
                .is_some_and(|v| !matches!(v, "0" | "off"))
        });
    }
    hides
}

fn parse_u32(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 10 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

fn list_pids(root: &OwnedFd) -> std::io::Result<Vec<u32>> {
    let dir = openat(
        root,
        ".",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let mut buf = Vec::with_capacity(32 * 1024);
    let mut it = RawDir::new(dir, buf.spare_capacity_mut());
    let mut pids = Vec::new();
    while let Some(entry) = it.next() {
        if let Some(pid) = parse_u32(entry?.file_name().to_bytes()) {
            pids.push(pid);
        }
    }
    Ok(pids)
}

const S_IFMT: u32 = 0o170000;
const S_IFSOCK: u32 = 0o140000;

fn scan_pids(root: &OwnedFd, pids: impl Iterator<Item = u32>) -> Found {
    let mut out = Found::default();
    let mut dirbuf: Vec<MaybeUninit<u8>> = vec![MaybeUninit::uninit(); 16 * 1024];
    let mut path = String::with_capacity(32);
    for pid in pids {
        path.clear();
        crate::decimal::push_u64(&mut path, pid.into());
        path.push_str("/fd");
        let fd_dir = match openat(
            root,
            path.as_str(),
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(d) => d,
            Err(e) if vanished(e) => continue,
            Err(e) => {
                out.failed(e);
                continue;
            }
        };
        let before = out.entries.len();
        let mut it = RawDir::new(fd_dir.as_fd(), &mut dirbuf);
        while let Some(entry) = it.next() {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) if vanished(e) => break,
                Err(e) => {
                    out.failed(e);
                    break;
                }
            };
            let name = entry.file_name();
            let Some(fd) = parse_u32(name.to_bytes()) else {
                continue;
            };
            // statx follows the fd's link to the open file's inode: a socket shows as S_IFSOCK
            // with its sockfs inode number, without the kernel formatting "socket:[N]".
            let st = match statx(
                fd_dir.as_fd(),
                name,
                AtFlags::empty(),
                StatxFlags::TYPE | StatxFlags::INO,
            ) {
                Ok(st) => st,
                Err(e) if vanished(e) => continue, // closed meanwhile
                // The directory may be listable while its links are not (ptrace checks), or
                // the kernel may refuse for want of memory: the rest of this process is
                // unknown either way.
                Err(e) => {
                    out.failed(e);
                    break;
                }
            };
            if u32::from(st.stx_mode) & S_IFMT == S_IFSOCK {
                out.entries.push(Entry {
                    inode: st.stx_ino,
                    pid,
                    fd,
                });
            }
        }
        if out.entries.len() > before {
            out.names.push((pid, read_comm(root, pid)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidepid_is_read_from_the_last_proc_mount() {
        let info = "22 1 0:21 / /proc rw,nosuid - proc proc rw\n\
                    99 22 0:50 / /proc rw,relatime - proc proc rw,hidepid=invisible\n";
        assert!(mount_hides_pids(info, "/proc"));
        assert!(!mount_hides_pids(
            "22 1 0:21 / /proc rw - proc proc rw\n",
            "/proc"
        ));
        assert!(!mount_hides_pids(
            "22 1 0:21 / /proc rw - proc proc rw,hidepid=0\n",
            "/proc"
        ));
        assert!(!mount_hides_pids(info, "/elsewhere"));
    }
}
