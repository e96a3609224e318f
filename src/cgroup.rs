//! cgroup id → cgroup path, for `--extended`.
//!
//! sock_diag reports a socket's cgroup v2 id; the id is the inode number of the cgroup's
//! directory on the cgroup2 filesystem, so one walk of that mount gives every path (as ss does).
//! Nothing here is needed unless `--extended` asks for cgroup paths.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// At most this many cgroups are walked (a runaway hierarchy cannot stall a listing).
const MAX_CGROUPS: usize = 200_000;

#[derive(Debug, Default)]
pub struct CgroupPaths {
    /// Paths as the kernel names them: bytes, since a directory name need not be UTF-8.
    by_id: HashMap<u64, Vec<u8>>,
}

impl CgroupPaths {
    /// Walks the cgroup2 mount named in `<proc_root>/self/mountinfo`; empty when there is none.
    pub fn scan(proc_root: &Path) -> CgroupPaths {
        let mut paths = CgroupPaths::default();
        let Some(root) = std::fs::read(proc_root.join("self/mountinfo"))
            .ok()
            .and_then(|t| cgroup2_mount(&t))
        else {
            return paths;
        };
        let mut stack = vec![(root.clone(), b"/".to_vec())];
        while let Some((dir, rel)) = stack.pop() {
            if paths.by_id.len() >= MAX_CGROUPS {
                break;
            }
            let Ok(meta) = std::fs::metadata(&dir) else {
                continue;
            };
            paths.by_id.insert(meta.ino(), rel.clone());
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    let mut child = rel.clone();
                    if child != b"/" {
                        child.push(b'/');
                    }
                    child.extend_from_slice(e.file_name().as_bytes());
                    stack.push((e.path(), child));
                }
            }
        }
        paths
    }

    /// The path of cgroup `id`, relative to the cgroup2 mount (`/` for the root), as bytes:
    /// escape it for a table like every other name.
    pub fn path(&self, id: u64) -> Option<&[u8]> {
        self.by_id.get(&id).map(Vec::as_slice)
    }
}

/// The cgroup v2 id of `path` for a `cgroup PATH` filter: a directory on the cgroup2 file
/// system named by its file system path, or else `path` relative to the cgroup2 mount (`/` is
/// the root cgroup).
pub fn id_of(proc_root: &Path, path: &str) -> Result<u64, String> {
    let mount = std::fs::read(proc_root.join("self/mountinfo"))
        .ok()
        .and_then(|t| cgroup2_mount(&t))
        .ok_or_else(|| "no cgroup2 file system is mounted here".to_string())?;
    let rel = path.trim_start_matches('/');
    // ss tries the path as given first, then under the mount; a path off the cgroup2 file
    // system (such as `/` itself) is skipped rather than matched against nothing.
    let candidates = [PathBuf::from(path), mount.join(rel)];
    let root_dev = std::fs::metadata(&mount).map(|m| m.dev()).ok();
    for c in &candidates {
        if let Ok(m) = std::fs::metadata(c) {
            if m.is_dir() && Some(m.dev()) == root_dev {
                return Ok(m.ino());
            }
        }
    }
    Err(format!(
        "no cgroup '{path}' under the cgroup2 mount {}",
        crate::escape::escape(std::os::unix::ffi::OsStrExt::as_bytes(mount.as_os_str()))
    ))
}

/// The mount point of the first cgroup2 filesystem in a mountinfo text.
fn cgroup2_mount(mountinfo: &[u8]) -> Option<PathBuf> {
    mountinfo.split(|&b| b == b'\n').find_map(|line| {
        let sep = line.windows(3).position(|w| w == b" - ")?;
        let (left, right) = (&line[..sep], &line[sep + 3..]);
        let fstype = right.split(|&b| b == b' ').find(|f| !f.is_empty())?;
        if fstype != b"cgroup2" {
            return None;
        }
        // Field 5 is the mount point; mountinfo escapes space, tab, newline and backslash as
        // octal (\040 ...), and the path's other bytes (even non-UTF-8 ones) are as they are.
        let mount = left
            .split(|&b| b == b' ')
            .filter(|f| !f.is_empty())
            .nth(4)?;
        Some(PathBuf::from(OsStr::from_bytes(&unoctal(mount))))
    })
}

/// Undoes mountinfo's `\NNN` octal escapes.
fn unoctal(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let digits = b
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match (b[i], digits) {
            (b'\\', Some(d)) => {
                let n = d.iter().fold(0u32, |n, c| n * 8 + u32::from(c - b'0'));
                out.push(u8::try_from(n).unwrap_or(b'?'));
                i += 4;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_cgroup2_mount_among_v1_mounts() {
        let info = b"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n\
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n\
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
        assert_eq!(
            cgroup2_mount(info),
            Some(PathBuf::from("/sys/fs/cgroup/unified"))
        );
        assert_eq!(cgroup2_mount(b"1 2 0:1 / / rw - ext4 /dev/vda rw\n"), None);
        let odd = b"41 31 0:38 / /mnt/a\\040b\xff rw - cgroup2 cgroup2 rw\n";
        assert_eq!(
            cgroup2_mount(odd),
            Some(PathBuf::from(OsStr::from_bytes(b"/mnt/a b\xff")))
        );
    }

    #[test]
    fn this_process_cgroup_root_has_a_path() {
        let p = CgroupPaths::scan(Path::new("/proc"));
        if p.by_id.is_empty() {
            eprintln!("skipping: no cgroup2 mount here");
            return;
        }
        assert!(p.by_id.values().any(|v| v == b"/"));
    }
}
