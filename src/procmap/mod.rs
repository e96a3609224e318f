//! Which processes hold which sockets: one scan of every process's descriptors builds
//! inode → every owner.
//!
//! There are two ways to scan, and [`OwnerMap::scan`] picks one per run:
//! - [`bpf`]: a BPF `task_file` iterator that walks every open file inside the kernel and
//!   returns only sockets — about 20 ms for 100k descriptors. Needs root (CAP_BPF and
//!   CAP_PERFMON), a kernel with BTF, the initial pid namespace and the real `/proc`.
//! - [`fdscan`]: `getdents64` over `/proc/PID/fd` and one `statx` per descriptor, parallel over
//!   the cores — works for anyone, about 2.5 µs of kernel time per descriptor.
//!
//! Both produce the same (inode, pid, fd) triples, which become one sorted vector plus an inode
//! index, so memory stays linear and a lookup is one hash probe returning every holder. Process
//! names come from `/proc/PID/comm` either way, read once per process that holds a socket.

pub mod bpf;
pub mod btf;
mod fdscan;

use std::fmt;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::sync::OnceLock;

use rustix::fs::{openat, Mode, OFlags, CWD};

use crate::container::Container;
use crate::model::Owner;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    inode: u64,
    pid: u32,
    fd: u32,
}

/// How owners should be found (`--owner-scan`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScanChoice {
    /// The BPF iterator where it can run, the /proc walk otherwise.
    #[default]
    Auto,
    /// The BPF iterator only; failing to run it is an error.
    Bpf,
    /// The /proc walk only.
    Proc,
}

/// How owners were actually found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanKind {
    Bpf,
    Proc,
}

/// Why no owner map could be built.
#[derive(Debug)]
pub enum ScanError {
    /// The /proc walk could not start (e.g. /proc is not mounted).
    Proc {
        root: std::path::PathBuf,
        source: std::io::Error,
    },
    /// `--owner-scan bpf` was asked for and the iterator cannot run here.
    Bpf(String),
}

impl fmt::Display for ScanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScanError::Proc { root, .. } => {
                write!(f, "cannot scan processes under {}", root.display())
            }
            ScanError::Bpf(why) => write!(f, "cannot run the BPF owner scan: {why}"),
        }
    }
}

impl std::error::Error for ScanError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ScanError::Proc { source, .. } => Some(source),
            ScanError::Bpf(_) => None,
        }
    }
}

/// What a scan could not see, so owners may be missing: data for the caller to report once.
/// A process that exits mid-scan is not a gap (its sockets go with it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanGaps {
    /// Processes whose descriptors we may not read (EACCES, EPERM), plus one for hidepid.
    pub denied: usize,
    /// Processes whose descriptors could not be read for any other reason.
    pub failed: usize,
    /// The first of those other errors, as an OS error number.
    pub first_error: Option<i32>,
    /// The proc root lists no process at all; `Some(true)` if it is a proc file system
    /// nonetheless, `Some(false)` if it is not one (e.g. /proc unmounted).
    pub no_processes: Option<bool>,
}

impl ScanGaps {
    /// Whether some owners may be missing.
    pub fn any(&self) -> bool {
        self.denied > 0 || self.failed > 0 || self.no_processes.is_some()
    }

    /// Whether some owners are missing for a reason other than permission: an owner filter's
    /// answer cannot be trusted then.
    pub fn failed(&self) -> bool {
        self.failed > 0 || self.no_processes.is_some()
    }

    /// The non-permission gaps as a message (without the program name), if there are any.
    /// Like every message it may echo a path: escape it for the terminal when printing.
    pub fn failure(&self, proc_root: &Path) -> Option<String> {
        let root = proc_root.display();
        if let Some(procfs) = self.no_processes {
            let why = if procfs {
                "a proc file system that shows no process"
            } else {
                "not a proc file system; is /proc mounted?"
            };
            return Some(format!(
                "{root} lists no processes ({why}): sockets are shown without owners"
            ));
        }
        if self.failed == 0 {
            return None;
        }
        let error = self
            .first_error
            .map(|n| std::io::Error::from_raw_os_error(n).to_string())
            .unwrap_or_else(|| "unknown error".into());
        let (n, s) = (self.failed, if self.failed == 1 { "" } else { "es" });
        Some(format!(
            "the descriptors of {n} process{s} under {root} could not be read ({error}): \
             their sockets are shown without owners"
        ))
    }
}

/// Raises the soft descriptor limit to the hard one: the owner scan holds a directory open per
/// scanning thread, and a limit of a few descriptors would otherwise cost owners. Failing is
/// harmless (the scan reports what it could not read).
pub fn raise_descriptor_limit() {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut lim = getrlimit(Resource::Nofile);
    if lim.current < lim.maximum {
        lim.current = lim.maximum;
        let _ = setrlimit(Resource::Nofile, lim);
    }
}

/// inode → owners, built by [`OwnerMap::scan`].
#[derive(Debug)]
pub struct OwnerMap {
    /// Sorted by (inode, pid, fd), without repeats.
    entries: Vec<Entry>,
    /// inode → its first entry: open addressing with linear probing over `entries` positions
    /// plus one (0 is an empty slot), at most half full. A lookup touches one 4-byte slot and
    /// the entry it names — two cache lines at 100k sockets, where a general hash map takes three.
    slots: Vec<u32>,
    /// Sorted by pid; only processes that hold at least one socket.
    names: Vec<(u32, Box<[u8]>)>,
    /// What the scan could not see.
    pub gaps: ScanGaps,
    /// Sorted by pid; only processes in a container, once [`OwnerMap::find_containers`] ran.
    containers: Vec<(u32, Container)>,
    /// Which scan ran.
    pub by: ScanKind,
    /// Why the BPF iterator was not used, when `Auto` fell back to /proc.
    pub fallback_reason: Option<String>,
}

/// The owner iterator is loaded once per process: `-c`, `--watch` and `--events` scan again
/// and again.
static ITERATOR: OnceLock<bpf::TaskFiles> = OnceLock::new();
/// Why the iterator cannot be loaded in this run, once that is known not to change; a
/// transient failure (memory, a busy resource) is tried again on the next scan.
static ITERATOR_REFUSED: OnceLock<String> = OnceLock::new();

fn iterator() -> Result<&'static bpf::TaskFiles, String> {
    if let Some(it) = ITERATOR.get() {
        return Ok(it);
    }
    if let Some(why) = ITERATOR_REFUSED.get() {
        return Err(why.clone());
    }
    match bpf::TaskFiles::load() {
        // Another thread may have loaded one meanwhile: keep that, drop this.
        Ok(it) => Ok(ITERATOR.get_or_init(|| it)),
        Err(e) => {
            let why = e.to_string();
            if !e.is_transient() {
                let _ = ITERATOR_REFUSED.set(why.clone());
            }
            Err(why)
        }
    }
}

/// The TCP sockets an [`OwnerMap::scan_with_tcp`] read from their descriptors, each once,
/// grouped by network namespace: every TCP socket some process holds, whichever namespace it
/// lives in, from the one pass over all processes.
#[derive(Debug, Default)]
pub struct OwnedTcp {
    /// Sorted by (namespace, listeners first, inode); one record per inode.
    records: Vec<bpf::TcpRecord>,
}

/// What a scan with TCP records is asked: the namespaces (all when empty), and where the
/// records go as soon as they are read.
type TcpRequest<'n, 'r, 'f> = (&'n [u64], &'r mut (dyn FnMut(Option<OwnedTcp>) + 'f));

impl OwnedTcp {
    fn new(records: Vec<bpf::TcpRecord>) -> OwnedTcp {
        // Sorted through small keys (the records are ~100 bytes each). A socket held by
        // several descriptors or processes is one socket, even if its state changed between
        // two reads of it: one record per inode.
        let mut keys: Vec<(u64, u32)> = (0..records.len() as u32)
            .map(|i| (records[i as usize].inode, i))
            .collect();
        keys.sort_unstable();
        keys.dedup_by_key(|k| k.0);
        let mut order: Vec<(u32, bool, u64, u32)> = keys
            .into_iter()
            .map(|(inode, i)| {
                let r = &records[i as usize];
                (r.netns, r.state != bpf::TCP_LISTEN, inode, i)
            })
            .collect();
        order.sort_unstable();
        let records = order.into_iter().map(|k| records[k.3 as usize]).collect();
        OwnedTcp { records }
    }

    /// The held TCP sockets of the namespace with inode `netns`, listeners first.
    pub fn in_netns(&self, netns: u64) -> &[bpf::TcpRecord] {
        let Ok(netns) = u32::try_from(netns) else {
            return &[];
        };
        let start = self.records.partition_point(|r| r.netns < netns);
        let len = self.records[start..].partition_point(|r| r.netns == netns);
        &self.records[start..start + len]
    }
}

impl OwnerMap {
    /// Scans every process, with the iterator or under `proc_root` (normally `/proc`).
    pub fn scan(proc_root: &Path, choice: ScanChoice) -> Result<OwnerMap, ScanError> {
        Self::scan_reporting(proc_root, choice, None)
    }

    /// [`OwnerMap::scan`], and with the BPF iterator also every held TCP socket's fields,
    /// handed to `ready` as soon as they are read — before process names and the owner index
    /// are built, so the caller can use them meanwhile. `ready` gets `None` when the TCP
    /// iterator cannot run (then the /proc walk or the plain iterator finds owners); it is
    /// called once, unless the scan fails. With namespace inodes in `netns`, only their TCP
    /// sockets are kept (and read).
    pub fn scan_with_tcp(
        proc_root: &Path,
        choice: ScanChoice,
        netns: &[u64],
        ready: &mut dyn FnMut(Option<OwnedTcp>),
    ) -> Result<OwnerMap, ScanError> {
        Self::scan_reporting(proc_root, choice, Some((netns, ready)))
    }

    fn scan_reporting(
        proc_root: &Path,
        choice: ScanChoice,
        mut tcp: Option<TcpRequest<'_, '_, '_>>,
    ) -> Result<OwnerMap, ScanError> {
        let mut fallback_reason = None;
        if choice != ScanChoice::Proc {
            let bpf_tcp = tcp.as_mut().map(|(netns, ready)| (*netns, &mut **ready));
            match bpf_scan(proc_root, bpf_tcp) {
                Ok(map) => return Ok(map),
                Err(why) if choice == ScanChoice::Bpf => return Err(ScanError::Bpf(why)),
                Err(why) => fallback_reason = Some(why),
            }
        }
        if let Some((_, ready)) = tcp {
            ready(None);
        }
        let found = fdscan::scan(proc_root).map_err(|source| ScanError::Proc {
            root: proc_root.to_path_buf(),
            source,
        })?;
        let mut map = OwnerMap::build(found.entries, found.names, ScanKind::Proc);
        map.gaps = found.gaps;
        map.fallback_reason = fallback_reason;
        Ok(map)
    }

    fn build(mut entries: Vec<Entry>, mut names: Vec<(u32, Box<[u8]>)>, by: ScanKind) -> OwnerMap {
        entries.sort_unstable();
        // A thread with a file table of its own shows its table under its process's pid.
        entries.dedup();
        names.sort_unstable_by_key(|(pid, _)| *pid);
        // More entries than u32 positions cannot come from one machine's descriptors; index
        // only what fits rather than fail.
        entries.truncate(u32::MAX as usize - 1);
        let mut slots = vec![0u32; (entries.len() * 2).next_power_of_two().max(16)];
        let mask = slots.len() - 1;
        for (i, e) in entries.iter().enumerate() {
            if i > 0 && entries[i - 1].inode == e.inode {
                continue; // the run's first entry is indexed
            }
            let mut h = slot_of(e.inode, mask);
            while slots[h] != 0 {
                h = (h + 1) & mask;
            }
            slots[h] = i as u32 + 1;
        }
        OwnerMap {
            entries,
            slots,
            names,
            gaps: ScanGaps::default(),
            containers: Vec::new(),
            by,
            fallback_reason: None,
        }
    }

    /// Starts loading what looking up `inodes` will touch. A lookup is two dependent cache
    /// misses (slot, then entry) at 100k sockets; issued for a whole datagram's sockets at once,
    /// the loads overlap instead of stalling one row at a time. Plain reads, no intrinsics: the
    /// loop's loads are independent, so the processor keeps many in flight.
    pub fn prefetch(&self, inodes: &[u64]) {
        if self.slots.is_empty() {
            return;
        }
        let mask = self.slots.len() - 1;
        let mut touched = 0u64;
        for &inode in inodes {
            touched ^= u64::from(self.slots[slot_of(inode, mask)]);
        }
        for &inode in inodes {
            if let Some(e) = self.slots[slot_of(inode, mask)]
                .checked_sub(1)
                .and_then(|i| self.entries.get(i as usize))
            {
                touched ^= e.inode;
            }
        }
        std::hint::black_box(touched);
    }

    /// The entries of `inode`: a run in `entries`.
    fn run_of(&self, inode: u64) -> &[Entry] {
        if inode == 0 || self.slots.is_empty() {
            return &[];
        }
        let mask = self.slots.len() - 1;
        let mut h = slot_of(inode, mask);
        loop {
            let first = match self.slots[h] {
                0 => return &[],
                n => n as usize - 1,
            };
            if self.entries[first].inode == inode {
                let rest = &self.entries[first..];
                let n = rest.iter().take_while(|e| e.inode == inode).count();
                return &rest[..n];
            }
            h = (h + 1) & mask;
        }
    }

    /// A map holding exactly `(inode, pid, fd)` triples, for renderer tests.
    #[cfg(test)]
    pub(crate) fn from_triples(triples: &[(u64, u32, u32)], names: &[(u32, &[u8])]) -> OwnerMap {
        let entries = triples
            .iter()
            .map(|&(inode, pid, fd)| Entry { inode, pid, fd })
            .collect();
        let names = names.iter().map(|&(pid, n)| (pid, n.into())).collect();
        OwnerMap::build(entries, names, ScanKind::Proc)
    }

    /// Every process holding socket `inode`, by pid then fd. Empty for inode 0.
    pub fn owners(&self, inode: u64) -> impl Iterator<Item = Owner<'_>> {
        self.run_of(inode).iter().map(move |e| Owner {
            pid: e.pid,
            fd: e.fd,
            name: self.name(e.pid),
            container: self.container(e.pid),
        })
    }

    /// Reads the cgroup of every process that holds a socket (`<proc_root>/PID/cgroup`) and
    /// keeps the container it names, for [`Owner::container`]. One small read per process, not
    /// per socket; a process gone meanwhile has none.
    pub fn find_containers(&mut self, proc_root: &Path) {
        let Ok(root) = openat(
            CWD,
            proc_root,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        ) else {
            return;
        };
        let mut buf = vec![0u8; 4096];
        let mut path = String::with_capacity(24);
        self.containers = self
            .names
            .iter()
            .filter_map(|&(pid, _)| {
                path.clear();
                crate::decimal::push_u64(&mut path, pid.into());
                path.push_str("/cgroup");
                let text = read_small(&root, &path, &mut buf)?;
                crate::container::from_proc_cgroup(text).map(|c| (pid, c))
            })
            .collect();
    }

    fn container(&self, pid: u32) -> Option<&Container> {
        if self.containers.is_empty() {
            return None;
        }
        self.containers
            .binary_search_by_key(&pid, |(p, _)| *p)
            .ok()
            .map(|i| &self.containers[i].1)
    }

    /// A map with containers for some pids, for renderer tests.
    #[cfg(test)]
    pub(crate) fn with_containers(mut self, mut containers: Vec<(u32, Container)>) -> OwnerMap {
        containers.sort_by_key(|(p, _)| *p);
        self.containers = containers;
        self
    }

    fn name(&self, pid: u32) -> &[u8] {
        match self.names.binary_search_by_key(&pid, |(p, _)| *p) {
            Ok(i) => &self.names[i].1,
            Err(_) => b"",
        }
    }

    /// Whether some processes could not be inspected (so some owners may be missing).
    pub fn incomplete(&self) -> bool {
        self.gaps.any()
    }
}

/// The home slot of `inode` in a table of `mask + 1` slots (Fibonacci hashing: inodes are
/// sequential numbers, and the multiply spreads them over the high bits taken here).
fn slot_of(inode: u64, mask: usize) -> usize {
    let bits = mask.count_ones();
    (inode.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - bits)) as usize & mask
}

/// `PROC_PID_INIT_INO`: the initial pid namespace's fixed inode number.
const INIT_PID_NS_INO: u64 = 0xEFFF_FFFC;

/// Why the iterator's pids would not be the pids `proc_root` shows, if they would not.
fn bpf_precondition(proc_root: &Path) -> Result<(), String> {
    if proc_root != Path::new("/proc") {
        return Err(format!("{} is not /proc", proc_root.display()));
    }
    // The iterator reports task->tgid, the pid in the initial namespace.
    match std::fs::metadata("/proc/self/ns/pid") {
        Ok(m) if std::os::unix::fs::MetadataExt::ino(&m) == INIT_PID_NS_INO => {}
        Ok(_) => return Err("not in the initial pid namespace".into()),
        Err(e) => return Err(format!("/proc/self/ns/pid: {e}")),
    }
    let me = std::process::id().to_string();
    match std::fs::read_link("/proc/self") {
        Ok(p) if p.as_os_str() == me.as_str() => {}
        _ => return Err("/proc belongs to another pid namespace".into()),
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let caps = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .unwrap_or(0);
    const CAP_SYS_ADMIN: u64 = 1 << 21;
    const CAP_PERFMON: u64 = 1 << 38;
    const CAP_BPF: u64 = 1 << 39;
    if caps & CAP_SYS_ADMIN == 0 && caps & (CAP_BPF | CAP_PERFMON) != CAP_BPF | CAP_PERFMON {
        return Err("needs CAP_BPF and CAP_PERFMON (root)".into());
    }
    Ok(())
}

/// The BPF scan; with `tcp`, also the TCP records of the namespaces it names (all when
/// empty), handed to its `ready` before the owner map is built.
fn bpf_scan(proc_root: &Path, tcp: Option<TcpRequest<'_, '_, '_>>) -> Result<OwnerMap, String> {
    bpf_precondition(proc_root)?;
    let root = openat(
        CWD,
        proc_root,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| format!("{}: {e}", proc_root.display()))?;
    // A kernel that can run the owner iterator but not the TCP one (no bpf_sock_from_file
    // before 5.11, say) still gets the fast owner scan, without TCP records.
    let (entries, records) = match tcp.as_ref().map(|(netns, _)| bpf_scan_tcp(netns)) {
        Some(Ok((entries, records))) => (entries, Some(records)),
        _ => {
            let mut entries = Vec::new();
            iterator()?
                .run(|inode, pid, fd, _| entries.push(Entry { inode, pid, fd }))
                .map_err(|e| e.to_string())?;
            (entries, None)
        }
    };
    // Nothing below fails: the records are handed over exactly once.
    if let Some((_, ready)) = tcp {
        ready(records.map(OwnedTcp::new));
    }
    let mut pids: Vec<u32> = entries.iter().map(|e| e.pid).collect();
    pids.sort_unstable();
    pids.dedup();
    let names = pids
        .into_iter()
        .map(|pid| (pid, read_comm(&root, pid)))
        .collect();
    Ok(OwnerMap::build(entries, names, ScanKind::Bpf))
}

/// The owner entries and TCP records of every process, from iterators made for this run (they
/// depend on the namespaces asked for), one per core up to four, run side by side.
fn bpf_scan_tcp(netns: &[u64]) -> Result<(Vec<Entry>, Vec<bpf::TcpRecord>), String> {
    // Namespace inodes are u32 in the kernel (`ns.inum`); one that is not names none.
    let mut wanted: Vec<u32> = netns
        .iter()
        .filter_map(|&n| u32::try_from(n).ok())
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    let parts = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let iterators = bpf::TaskFiles::load_tcp(&wanted, parts as u32).map_err(|e| e.to_string())?;
    let run = |it: &bpf::TaskFiles| {
        let (mut entries, mut records) = (Vec::new(), Vec::new());
        it.run(|inode, pid, fd, record| {
            entries.push(Entry { inode, pid, fd });
            if let Some(r) = record {
                // The kernel filtered already unless there were too many namespaces to.
                if wanted.is_empty() || wanted.binary_search(&r.netns).is_ok() {
                    records.push(*r);
                }
            }
        })
        .map(|()| (entries, records))
        .map_err(|e| e.to_string())
    };
    let results: Vec<_> = std::thread::scope(|s| {
        let mut handles = Vec::new();
        let mut here = Vec::new();
        for it in &iterators {
            match std::thread::Builder::new().spawn_scoped(s, || run(it)) {
                Ok(h) => handles.push(h),
                // No thread to be had: that part runs here, after the others started.
                Err(_) => here.push(it),
            }
        }
        let mut results: Vec<_> = here.into_iter().map(run).collect();
        results.extend(handles.into_iter().map(|h| {
            h.join()
                .unwrap_or_else(|_| Err("a scan thread panicked".to_string()))
        }));
        results
    });
    let (mut entries, mut records) = (Vec::new(), Vec::new());
    for r in results {
        let (e, t) = r?;
        entries.extend(e);
        records.extend(t);
    }
    Ok((entries, records))
}

/// A whole small file under `root` into `buf` (grown up to 64 KiB: a cgroup file lists one line
/// per hierarchy); `None` when it cannot be read.
fn read_small<'b>(root: &OwnedFd, path: &str, buf: &'b mut Vec<u8>) -> Option<&'b [u8]> {
    let f = openat(root, path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()).ok()?;
    let mut n = 0;
    loop {
        if n == buf.len() {
            if buf.len() >= 64 * 1024 {
                break;
            }
            buf.resize(buf.len() * 2, 0);
        }
        match rustix::io::read(&f, &mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(rustix::io::Errno::INTR) => {}
            Err(_) => return None,
        }
    }
    Some(&buf[..n])
}

/// `/proc/PID/comm` without its newline; empty when the process is gone.
pub(crate) fn read_comm(root: &OwnedFd, pid: u32) -> Box<[u8]> {
    let path = format!("{pid}/comm");
    let Ok(f) = openat(
        root,
        path.as_str(),
        OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    ) else {
        return Box::default();
    };
    let mut buf = [0u8; 64];
    let n = rustix::io::read(&f, &mut buf).unwrap_or(0);
    let s = &buf[..n];
    s.strip_suffix(b"\n").unwrap_or(s).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inode_of(fd: &impl std::os::fd::AsRawFd) -> u64 {
        let m = std::fs::metadata(format!("/proc/self/fd/{}", fd.as_raw_fd())).expect("stat");
        std::os::unix::fs::MetadataExt::ino(&m)
    }

    #[test]
    fn both_scans_find_a_socket_this_process_holds() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let inode = inode_of(&l);
        let me = std::process::id();
        for choice in [ScanChoice::Proc, ScanChoice::Auto] {
            let map = OwnerMap::scan(Path::new("/proc"), choice).expect("scan");
            let owners: Vec<_> = map.owners(inode).collect();
            assert!(owners.iter().any(|o| o.pid == me), "{choice:?}: {owners:?}");
            assert_eq!(map.owners(0).count(), 0);
        }
    }

    #[test]
    fn held_tcp_sockets_come_once_each_by_namespace_listeners_first() {
        let r = bpf::TcpRecord::for_tests;
        // Inode 5 read twice (two holders, read by two parts as its state changed).
        let owned = OwnedTcp::new(vec![
            r(9, 2, 1),
            r(5, 1, 1),
            r(7, 1, 10),
            r(5, 1, 8),
            r(3, 1, 1),
        ]);
        let inodes = |ns| {
            owned
                .in_netns(ns)
                .iter()
                .map(|r| r.inode)
                .collect::<Vec<_>>()
        };
        assert_eq!(inodes(1), [7, 3, 5], "the listener, then by inode, 5 once");
        assert_eq!(inodes(2), [9]);
        assert_eq!(inodes(3), Vec::<u64>::new());
        assert_eq!(
            inodes(u64::MAX),
            Vec::<u64>::new(),
            "not a 32-bit namespace inode"
        );
    }

    #[test]
    fn the_index_finds_every_run_of_owners_and_nothing_else() {
        let mut entries = Vec::new();
        // Sequential inodes (as sockfs hands them out), some held twice, some by two processes.
        for inode in 1..5000u64 {
            entries.push(Entry {
                inode,
                pid: 100,
                fd: inode as u32,
            });
            if inode % 7 == 0 {
                entries.push(Entry {
                    inode,
                    pid: 200,
                    fd: 3,
                });
                entries.push(Entry {
                    inode,
                    pid: 100,
                    fd: 9999,
                });
            }
        }
        entries.reverse();
        let names = vec![(100, b"a".to_vec().into()), (200, b"b".to_vec().into())];
        let map = OwnerMap::build(entries, names, ScanKind::Proc);
        for inode in 1..5000u64 {
            let got: Vec<_> = map
                .owners(inode)
                .map(|o| (o.pid, o.fd, o.name.to_vec()))
                .collect();
            let mut want = vec![(100, inode as u32, b"a".to_vec())];
            if inode % 7 == 0 {
                want = vec![
                    (100, inode as u32, b"a".to_vec()),
                    (100, 9999, b"a".to_vec()),
                    (200, 3, b"b".to_vec()),
                ];
                want.sort();
            }
            assert_eq!(got, want, "inode {inode}");
        }
        for absent in [0, 5000, 123_456_789, u64::MAX] {
            assert_eq!(map.owners(absent).count(), 0, "inode {absent}");
        }
        // A prefetch is only a hint: any inode, present or not, and an empty map are fine.
        map.prefetch(&[0, 1, 7, 5000, u64::MAX]);
        let empty = OwnerMap::build(Vec::new(), Vec::new(), ScanKind::Proc);
        empty.prefetch(&[1]);
        assert_eq!(empty.owners(1).count(), 0);
    }

    #[test]
    fn forcing_bpf_on_another_proc_root_is_an_error() {
        let err =
            OwnerMap::scan(Path::new("/nonexistent"), ScanChoice::Bpf).expect_err("not /proc");
        assert!(err.to_string().contains("not /proc"), "{err}");
    }
}
