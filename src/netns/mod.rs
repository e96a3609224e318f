//! Network namespaces for `-N`: which ones to list, found once by inode, and how to enter them.
//!
//! On a host running containers most sockets live in namespaces other than the one rnetstat
//! runs in. `-N all` finds every one: the names under /run/netns, every `/proc/PID/ns/net` and
//! `/proc/PID/task/TID/ns/net`, and the nsfs mounts in mountinfo (Docker keeps its own under
//! /run/docker/netns; `unshare -n` makes nameless ones only a process holds). Each is opened
//! once, which also keeps it alive until it has been listed. [`parse`] holds the pure parsing,
//! [`enter`] the setns(2) calls; this file does the discovery I/O.
//!
//! "Our own" namespace is the one of /proc/self/ns/net (the host's, unless rnetstat runs
//! inside a container; /proc/1/ns/net may be unreadable even to root). It is listed without
//! entering anything, so an ordinary user can always list it.

pub mod enter;
pub mod parse;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use rustix::fs::{openat, Mode, OFlags, CWD};

pub use parse::Spec;

/// Where `ip netns` keeps its names.
pub const NETNS_RUN_DIR: &str = "/run/netns";

/// One network namespace, as the output names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Netns {
    /// The nsfs inode: a namespace's identity (`ls -iL /proc/PID/ns/net`).
    pub inode: u64,
    /// Its name under /run/netns, if any (raw bytes of the file name).
    pub name: Option<Box<[u8]>>,
    /// Whether it is the namespace rnetstat runs in.
    pub is_own: bool,
}

impl Netns {
    /// The table's Netns cell, unescaped: the /run/netns name, `[host]` for our own namespace
    /// when it has no name, `[INODE]` otherwise.
    pub fn label(&self) -> std::borrow::Cow<'_, [u8]> {
        match (&self.name, self.is_own) {
            (Some(n), _) => std::borrow::Cow::Borrowed(n),
            (None, true) => std::borrow::Cow::Borrowed(b"[host]"),
            (None, false) => std::borrow::Cow::Owned(format!("[{}]", self.inode).into_bytes()),
        }
    }
}

/// A namespace to list, with the descriptor to enter it by (`None`: our own, nothing to enter).
#[derive(Debug)]
pub struct Target {
    pub netns: Netns,
    pub fd: Option<OwnedFd>,
}

/// Why a namespace was not listed.
#[derive(Debug)]
pub struct Skipped {
    // Not read yet: no message names the namespace (surfaced when the module became private).
    #[allow(dead_code)]
    pub netns: Netns,
    pub why: io::Error,
}

/// What discovery found.
#[derive(Debug, Default)]
pub struct Found {
    /// In output order: ours first, then named ones by name, then nameless ones by inode
    /// (for `all`); as given otherwise.
    pub targets: Vec<Target>,
    /// Processes whose namespace could not be read (another user's, without privilege).
    pub unreadable_processes: usize,
    /// Arguments whose namespace could no longer be opened (see [`discover_remaining`]).
    pub gone: Vec<(String, io::Error)>,
}

/// A `-N` argument that names nothing usable.
#[derive(Debug)]
pub struct NetnsError {
    /// The argument as given.
    pub arg: String,
    /// The file tried.
    pub path: PathBuf,
    pub source: io::Error,
}

impl fmt::Display for NetnsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "--netns {}: cannot use {} as a network namespace",
            self.arg,
            self.path.display()
        )
    }
}

impl std::error::Error for NetnsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// `NS_GET_NSTYPE`, `_IO(0xb7, 0x3)`: which kind of namespace an nsfs descriptor is.
const NS_GET_NSTYPE: libc::c_ulong = 0xb703;

/// Opens `path` and checks it is a network namespace; returns it with its inode.
fn open_netns(dir: Option<&OwnedFd>, path: &Path) -> io::Result<(OwnedFd, u64)> {
    let fd = match dir {
        Some(d) => openat(d, path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()),
        None => openat(CWD, path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()),
    }
    .map_err(io::Error::from)?;
    // SAFETY: NS_GET_NSTYPE takes no argument; on a descriptor that is not nsfs it fails.
    let kind = unsafe { libc::ioctl(fd.as_raw_fd(), NS_GET_NSTYPE as _) };
    if kind < 0 {
        let e = io::Error::last_os_error();
        return Err(if e.raw_os_error() == Some(libc::ENOTTY) {
            io::Error::new(io::ErrorKind::InvalidInput, "not a namespace file")
        } else {
            e
        });
    }
    if kind != libc::CLONE_NEWNET {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a namespace, but not a network namespace",
        ));
    }
    let st = rustix::fs::fstat(fd.as_fd()).map_err(io::Error::from)?;
    Ok((fd, st.st_ino))
}

/// Our own namespace's inode.
fn own_inode() -> io::Result<u64> {
    Ok(std::fs::metadata("/proc/self/ns/net")?.ino())
}

/// The names under /run/netns, by inode (the first name in byte order when several point at
/// one namespace). Files that are not namespaces (left behind unmounted) are ignored.
fn run_netns_names() -> BTreeMap<u64, Box<[u8]>> {
    let mut by_inode = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(NETNS_RUN_DIR) else {
        return by_inode;
    };
    let mut names: Vec<_> = entries.flatten().map(|e| e.file_name()).collect();
    names.sort();
    let nsfs_dev = std::fs::metadata("/proc/self/ns/net").map(|m| m.dev()).ok();
    for name in names {
        let Ok(m) = std::fs::metadata(Path::new(NETNS_RUN_DIR).join(&name)) else {
            continue;
        };
        if Some(m.dev()) != nsfs_dev {
            continue;
        }
        by_inode
            .entry(m.ino())
            .or_insert_with(|| name.as_bytes().into());
    }
    by_inode
}

/// Finds the namespaces `specs` select. An argument that names nothing usable is an error;
/// with `all`, whatever cannot be opened is simply not found.
pub fn discover(specs: &[Spec], proc_root: &Path) -> Result<Found, NetnsError> {
    discover_with(specs, proc_root, false)
}

/// [`discover`] for a listing after the arguments were checked: a namespace named by an
/// argument that has gone since (its process exited, its name was deleted) is reported in
/// [`Found::gone`] instead of failing the whole listing.
pub fn discover_remaining(specs: &[Spec], proc_root: &Path) -> Result<Found, NetnsError> {
    discover_with(specs, proc_root, true)
}

fn discover_with(specs: &[Spec], proc_root: &Path, lenient: bool) -> Result<Found, NetnsError> {
    let own = own_inode().map_err(|source| NetnsError {
        arg: "all".into(),
        path: "/proc/self/ns/net".into(),
        source,
    })?;
    let names = run_netns_names();
    let netns = |inode: u64| Netns {
        inode,
        name: names.get(&inode).cloned(),
        is_own: inode == own,
    };
    let mut found = Found::default();
    let mut seen: HashMap<u64, ()> = HashMap::new();
    let mut add = |found: &mut Found, inode: u64, fd: Option<OwnedFd>| {
        if seen.insert(inode, ()).is_none() {
            found.targets.push(Target {
                netns: netns(inode),
                // Our own namespace is never entered: that needs no privilege.
                fd: fd.filter(|_| inode != own),
            });
        }
    };
    if specs.contains(&Spec::All) {
        add(&mut found, own, None);
        let mut more: Vec<(u64, OwnedFd)> = Vec::new();
        let mut inodes = std::collections::HashSet::from([own]);
        let mut candidates: Vec<PathBuf> = names
            .values()
            .map(|n| Path::new(NETNS_RUN_DIR).join(std::ffi::OsStr::from_bytes(n)))
            .collect();
        let mountinfo = std::fs::read(proc_root.join("self/mountinfo")).unwrap_or_default();
        candidates.extend(
            parse::nsfs_net_mounts(&mountinfo)
                .into_iter()
                .map(|(_, p)| p),
        );
        for path in candidates {
            if let Ok((fd, inode)) = open_netns(None, &path) {
                if inodes.insert(inode) {
                    more.push((inode, fd));
                }
            }
        }
        let (from_procs, unreadable) = scan_processes(proc_root, &mut inodes);
        more.extend(from_procs);
        found.unreadable_processes = unreadable;
        // Named ones by name, then nameless by inode.
        more.sort_by(|a, b| {
            let key = |i: u64| (!names.contains_key(&i), names.get(&i).cloned(), i);
            key(a.0).cmp(&key(b.0))
        });
        for (inode, fd) in more {
            add(&mut found, inode, Some(fd));
        }
        return Ok(found);
    }
    for spec in specs {
        let (arg, path) = match spec {
            Spec::All => continue,
            Spec::Name(n) => (n.clone(), Path::new(NETNS_RUN_DIR).join(n)),
            Spec::Path(p) => (p.display().to_string(), p.clone()),
            Spec::Pid(pid) => (
                format!("pid:{pid}"),
                proc_root.join(format!("{pid}/ns/net")),
            ),
        };
        match open_netns(None, &path) {
            Ok((fd, inode)) => add(&mut found, inode, Some(fd)),
            Err(source) if lenient => found.gone.push((arg, source)),
            Err(source) => return Err(NetnsError { arg, path, source }),
        }
    }
    Ok(found)
}

/// Every process's and thread's namespace not yet in `known`, opened (and added to `known`);
/// and how many processes' namespaces could not be read.
fn scan_processes(
    proc_root: &Path,
    known: &mut std::collections::HashSet<u64>,
) -> (Vec<(u64, OwnedFd)>, usize) {
    let mut out: Vec<(u64, OwnedFd)> = Vec::new();
    let mut unreadable = 0;
    let Ok(root) = openat(
        CWD,
        proc_root,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    ) else {
        return (out, 0);
    };
    let Ok(dir) = std::fs::read_dir(proc_root) else {
        return (out, 0);
    };
    let mut consider = |out: &mut Vec<(u64, OwnedFd)>, link_path: &str| -> Result<(), ()> {
        let link = match rustix::fs::readlinkat(&root, link_path, Vec::new()) {
            Ok(l) => l,
            Err(rustix::io::Errno::ACCESS) | Err(rustix::io::Errno::PERM) => return Err(()),
            Err(_) => return Ok(()), // gone, or a kernel thread
        };
        let Some(inode) = parse::net_link_inode(link.as_bytes()) else {
            return Ok(());
        };
        if known.contains(&inode) {
            return Ok(());
        }
        // The process may have moved or exited since the link was read: trust the opened file.
        if let Ok((fd, inode)) = open_netns(Some(&root), Path::new(link_path)) {
            if known.insert(inode) {
                out.push((inode, fd));
            }
        }
        Ok(())
    };
    let mut path = String::with_capacity(48);
    for e in dir.flatten() {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        path.clear();
        path.push_str(pid);
        path.push_str("/ns/net");
        if consider(&mut out, &path).is_err() {
            unreadable += 1;
            continue;
        }
        // Threads of a process share its namespace unless one called setns or unshare.
        let Ok(tasks) = std::fs::read_dir(proc_root.join(pid).join("task")) else {
            continue;
        };
        for t in tasks.flatten() {
            let tid = t.file_name();
            let Some(tid) = tid.to_str() else { continue };
            if tid == pid {
                continue;
            }
            path.clear();
            path.push_str(pid);
            path.push_str("/task/");
            path.push_str(tid);
            path.push_str("/ns/net");
            let _ = consider(&mut out, &path);
        }
    }
    (out, unreadable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_finds_our_own_namespace_first_and_each_namespace_once() {
        let found = discover(&[Spec::All], Path::new("/proc")).expect("discover");
        let own = own_inode().expect("own");
        assert_eq!(found.targets[0].netns.inode, own);
        assert!(found.targets[0].netns.is_own && found.targets[0].fd.is_none());
        let mut inodes: Vec<u64> = found.targets.iter().map(|t| t.netns.inode).collect();
        inodes.sort_unstable();
        inodes.dedup();
        assert_eq!(inodes.len(), found.targets.len());
    }

    #[test]
    fn our_own_namespace_by_pid_needs_nothing_entered() {
        let me = std::process::id();
        let found = discover(
            &[Spec::Pid(me), Spec::Path("/proc/self/ns/net".into())],
            Path::new("/proc"),
        )
        .expect("discover");
        assert_eq!(
            found.targets.len(),
            1,
            "the same namespace twice is listed once"
        );
        assert!(found.targets[0].fd.is_none());
        assert_eq!(found.targets[0].netns.label().as_ref(), b"[host]".as_ref());
    }

    #[test]
    fn unusable_arguments_are_errors_naming_them() {
        for (spec, says) in [
            (
                Spec::Name("rnetstat-no-such-ns".into()),
                "rnetstat-no-such-ns",
            ),
            (Spec::Path("/etc/passwd".into()), "/etc/passwd"),
            (Spec::Path("/proc/self/ns/mnt".into()), "/proc/self/ns/mnt"),
            (Spec::Pid(u32::MAX), "pid:4294967295"),
        ] {
            let e = discover(&[spec], Path::new("/proc")).expect_err("unusable");
            assert!(e.to_string().contains(says), "{e}");
            assert!(std::error::Error::source(&e).is_some());
        }
    }
}
