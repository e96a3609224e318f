//! Where sockets come from. Netlink sock_diag first; /proc/net text per table when netlink cannot
//! serve that table (unsupported by the kernel, or denied). The decision is made per table, so
//! one missing diag module never costs the others their netlink source.
//!
//! Sources never print: they hand each [`Socket`] to a sink and report how the table was served
//! in a [`Served`], which the caller may show with `-v`.

pub(crate) mod error;
pub mod netlink;
pub mod owned;
pub mod procnet;
pub mod rtnetlink;

use std::path::PathBuf;

pub use error::SourceError;

#[cfg(test)]
mod tcp_both_tests;

use crate::model::{Socket, Table};

/// A 32-bit count as the kernel reports it, or `None` for its "no value" sentinel: −1 as
/// unsigned (a UDP socket being destroyed reports its send queue as `sk_wmem_alloc − 1` = −1).
/// Such a value is never shown as 4294967295: tables print `-`, JSON `null`.
pub(crate) fn kernel_count(v: u32) -> Option<u32> {
    (v != u32::MAX).then_some(v)
}

/// Which source the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SourceChoice {
    /// Netlink, falling back to /proc per table.
    #[default]
    Auto,
    /// Netlink only; a table it cannot serve is an error.
    Netlink,
    /// /proc/net only.
    Proc,
}

/// The source that actually served a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Netlink,
    Proc,
    /// `-N`: a namespace's TCP sockets as the owner scan's BPF iterator read them from their
    /// descriptors, its counters showing no other ([`owned`]).
    Descriptors,
}

/// How one table was served.
#[derive(Debug)]
pub struct Served {
    pub table: Table,
    pub by: SourceKind,
    /// Why netlink was not used, when the fallback was taken.
    pub fallback_reason: Option<String>,
    /// Records that could not be decoded and were skipped, with where and why.
    pub skipped: Vec<String>,
    /// The kernel flagged the dump as interrupted by concurrent changes.
    pub interrupted: bool,
    /// How the table was asked for, when it was not the usual request of its own (shown with
    /// -v): the TCP tables dumped together, or why that was not done.
    pub note: Option<String>,
}

impl Served {
    pub(crate) fn new(table: Table, by: SourceKind) -> Served {
        Served {
            table,
            by,
            fallback_reason: None,
            skipped: Vec::new(),
            interrupted: false,
            note: None,
        }
    }
}

/// What to ask a source for, beyond the table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// sock_diag state bit mask; sockets in other states are not listed.
    pub states: u32,
    /// INET_DIAG bytecode for the kernel to filter inet dumps with (netlink only; callers still
    /// apply their own filter, which is the reference).
    pub bytecode: Option<Vec<u8>>,
    /// Ask netlink for tcp_info, memory and the other extensions of inet sockets.
    pub internals: bool,
    /// Read each inet socket's mark and cgroup id (a filter tests them).
    pub labels: bool,
}

/// Lets each socket of one table dump through once. Neither source is a snapshot: the kernel
/// resumes a /proc read() or a netlink dump batch at an offset inside a hash bucket, and a
/// socket added to that bucket's head meanwhile shifts the others, so one already listed comes
/// again (seen on /proc/net/tcp under load). A repeat therefore follows its first showing
/// closely — within one bucket's chain — so the last `WINDOW` sockets are remembered rather than
/// all of them: constant memory, and nothing growing with the table on the hot path.
///
/// Sockets are told apart by inode; inode-less TIME_WAIT/request sockets by a 63-bit hash of
/// their addresses (a false match inside one window is a ~2^-55 event).
struct Once {
    recent: [u64; Self::WINDOW],
    filled: usize,
    next: usize,
    /// How many keys in `recent` fall in each of 4096 hash buckets: a key whose bucket is empty
    /// is new without scanning the window, which is nearly every key.
    buckets: Box<[u16; Self::BUCKETS]>,
}

impl Once {
    const WINDOW: usize = 256;
    const BUCKETS: usize = 4096;
    const ADDRESS_KEY: u64 = 1 << 63;

    fn new() -> Once {
        Once {
            recent: [0; Self::WINDOW],
            filled: 0,
            next: 0,
            buckets: Box::new([0; Self::BUCKETS]),
        }
    }

    fn bucket(key: u64) -> usize {
        (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 52) as usize // the top 12 bits
    }

    fn first(&mut self, s: &Socket) -> bool {
        let key = match (s.inode, s.inet()) {
            (0, Some(i)) => {
                use std::hash::{Hash, Hasher};
                let mut h = std::collections::hash_map::DefaultHasher::new();
                (i.local, i.remote).hash(&mut h);
                h.finish() | Self::ADDRESS_KEY
            }
            (0, None) => return true,
            (inode, _) => inode & !Self::ADDRESS_KEY,
        };
        let b = Self::bucket(key);
        if self.buckets[b] != 0 && self.recent[..self.filled].contains(&key) {
            return false;
        }
        if self.filled == Self::WINDOW {
            let old = Self::bucket(self.recent[self.next]);
            self.buckets[old] -= 1;
        }
        self.recent[self.next] = key;
        self.buckets[b] += 1;
        self.next = (self.next + 1) % Self::WINDOW;
        self.filled = (self.filled + 1).min(Self::WINDOW);
        true
    }
}

/// Wraps `sink` to count what it was given and drop repeats.
fn counted<'a>(
    sink: &'a mut dyn FnMut(&Socket) -> std::io::Result<()>,
    n: &'a mut usize,
    once: &'a mut Once,
) -> impl FnMut(&Socket) -> std::io::Result<()> + 'a {
    move |s| {
        if !once.first(s) {
            return Ok(());
        }
        *n += 1;
        sink(s)
    }
}

/// Lists tables one after another with the chosen source, reusing one netlink socket.
pub struct Sources {
    choice: SourceChoice,
    proc_root: PathBuf,
    netlink: Option<netlink::Netlink>,
    one_thread: bool,
}

impl Sources {
    pub fn new(choice: SourceChoice, proc_root: PathBuf) -> Sources {
        Sources {
            choice,
            proc_root,
            netlink: None,
            one_thread: false,
        }
    }

    /// For a thread that entered another network namespace: /proc's tables are read from
    /// `<proc_root>/thread-self/net` (`<proc_root>/net` shows the main thread's namespace),
    /// and netlink dumps are received on the calling thread (a thread started there would
    /// start in that namespace).
    pub fn in_entered_netns(mut self) -> Sources {
        self.proc_root = self.proc_root.join("thread-self");
        self.one_thread = true;
        self
    }

    /// Lists `table`, calling `sink` for each socket whose state bit is set in `query.states`.
    pub fn list(
        &mut self,
        table: Table,
        query: &Query,
        sink: &mut dyn FnMut(&Socket) -> std::io::Result<()>,
    ) -> Result<Served, SourceError> {
        self.list_prefetching(table, query, sink, None)
    }

    /// [`Sources::list`], with `prefetch` hearing each netlink datagram's inodes before the sink
    /// gets its sockets.
    pub fn list_prefetching(
        &mut self,
        table: Table,
        query: &Query,
        sink: &mut dyn FnMut(&Socket) -> std::io::Result<()>,
        prefetch: netlink::Prefetch<'_>,
    ) -> Result<Served, SourceError> {
        let mut once = Once::new();
        let mut emitted = 0usize;
        if self.choice == SourceChoice::Proc {
            let mut sink = counted(sink, &mut emitted, &mut once);
            return procnet::dump(&self.proc_root, table, query.states, &mut sink);
        }
        let mut attempt = self.netlink_dump(
            table,
            query,
            &mut counted(sink, &mut emitted, &mut once),
            prefetch,
        );
        if let Err(
            SourceError::Unsupported {
                errno: libc::EINVAL,
                ..
            }
            | SourceError::Denied {
                errno: libc::EPERM, ..
            },
        ) = attempt
        {
            if query.bytecode.is_some() && emitted == 0 {
                // The kernel refused the filter program, not the table (EPERM: a mark test
                // needs CAP_NET_ADMIN): dump without it (the caller's own filter still
                // applies).
                let plain = Query {
                    bytecode: None,
                    ..query.clone()
                };
                attempt = self.netlink_dump(
                    table,
                    &plain,
                    &mut counted(sink, &mut emitted, &mut once),
                    prefetch,
                );
            }
        }
        match attempt {
            // Falling back after some records went out would print them twice.
            Err(e) if self.choice == SourceChoice::Auto && e.wants_fallback() && emitted == 0 => {
                let mut sink = counted(sink, &mut emitted, &mut once);
                let mut served = procnet::dump(&self.proc_root, table, query.states, &mut sink)?;
                served.fallback_reason = Some(e.to_string());
                Ok(served)
            }
            other => other,
        }
    }

    /// Lists both TCP tables (IPv4 and IPv6) with one netlink request, which the kernel answers
    /// with one walk of its TCP hash tables where [`Sources::list`] per table takes two (see
    /// [`netlink::Netlink::dump_tcp_both`]). `sink` gets the sockets of both families as they
    /// come; how each table was served comes back as (tcp, tcp6), the same as per-table lists
    /// would give.
    ///
    /// Nothing falls back here: on any error, whatever `sink` got must be dropped and the
    /// tables listed one by one (which also takes the /proc fallback where it is due). With
    /// `/proc` chosen, this is an error at once.
    pub fn list_tcp_both(
        &mut self,
        query: &Query,
        sink: &mut dyn FnMut(&Socket) -> std::io::Result<()>,
    ) -> Result<(Served, Served), SourceError> {
        use crate::model::{Family, InetProto};
        if self.choice == SourceChoice::Proc {
            return Err(SourceError::Unsupported {
                table: Table::Inet(InetProto::Tcp, Family::V4),
                errno: libc::EOPNOTSUPP,
            });
        }
        let nl = match &mut self.netlink {
            Some(nl) => nl,
            slot => {
                let mut nl = netlink::Netlink::open(Table::Inet(InetProto::Tcp, Family::V4))?;
                nl.one_thread = self.one_thread;
                slot.insert(nl)
            }
        };
        // Repeats are dropped per table, as per-table lists drop them.
        let (mut once4, mut once6) = (Once::new(), Once::new());
        let mut each = |s: &Socket| {
            let once = match s.inet().map(|i| i.family) {
                Some(Family::V6) => &mut once6,
                _ => &mut once4,
            };
            if once.first(s) {
                sink(s)
            } else {
                Ok(())
            }
        };
        let result = nl.dump_tcp_both(query, &mut each);
        if result.is_err() {
            // After an error the socket may hold the rest of a dump: never reuse it.
            self.netlink = None;
        }
        result
    }

    /// Starts the netlink dump of `table` early and holds up to `limit` bytes of it until
    /// `stop()` (see [`netlink::Netlink::read_ahead`]); the next [`Sources::list`] of the same
    /// table and query uses it. Does nothing when `/proc` was chosen. Errors are kept for that
    /// `list` to report, so the fallback decision is the same as without reading ahead.
    pub fn read_ahead(
        &mut self,
        table: Table,
        query: &Query,
        stop: &dyn Fn() -> bool,
        limit: usize,
    ) {
        if self.choice == SourceChoice::Proc {
            return;
        }
        let nl = match &mut self.netlink {
            Some(nl) => nl,
            slot => match netlink::Netlink::open(table) {
                Ok(mut nl) => {
                    nl.one_thread = self.one_thread;
                    slot.insert(nl)
                }
                Err(_) => return, // `list` opens it again and reports why it cannot
            },
        };
        nl.read_ahead(table, query, stop, limit);
    }

    fn netlink_dump(
        &mut self,
        table: Table,
        query: &Query,
        sink: &mut dyn FnMut(&Socket) -> std::io::Result<()>,
        prefetch: netlink::Prefetch<'_>,
    ) -> Result<Served, SourceError> {
        let nl = match &mut self.netlink {
            Some(nl) => nl,
            slot => {
                let mut nl = netlink::Netlink::open(table)?;
                nl.one_thread = self.one_thread;
                slot.insert(nl)
            }
        };
        let result = nl.dump(table, query, sink, prefetch);
        if result.is_err() {
            // After an error the socket may hold the rest of a dump: never reuse it.
            self.netlink = None;
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Detail, Family, InetInfo, InetProto, State};

    fn tcp(inode: u64, port: u16) -> Socket {
        Socket {
            state: State::TimeWait,
            recv_q: Some(0),
            send_q: Some(0),
            uid: Some(0),
            inode,
            detail: Detail::Inet(InetInfo {
                backlog: None,
                internals: None,
                proto: InetProto::Tcp,
                family: Family::V4,
                local: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
                remote: std::net::SocketAddr::from(([127, 0, 0, 1], 80)),
                timer: None,
                bound_if: 0,
                mark: None,
                cgroup_id: None,
                kernel_filtered: false,
            }),
        }
    }

    #[test]
    fn once_drops_a_repeat_within_its_window_and_forgets_beyond_it() {
        let mut once = Once::new();
        assert!(once.first(&tcp(7, 1)));
        assert!(!once.first(&tcp(7, 1)), "repeat by inode");
        assert!(once.first(&tcp(0, 2)));
        assert!(!once.first(&tcp(0, 2)), "inode-less repeat by addresses");
        assert!(once.first(&tcp(0, 3)), "other addresses are another socket");
        // Push 7 and the address keys out of the window; the bucket counts must follow.
        for inode in 1000..1000 + Once::WINDOW as u64 {
            assert!(once.first(&tcp(inode, 9)));
        }
        assert!(
            once.first(&tcp(7, 1)),
            "beyond the window a key is new again"
        );
        let counted: usize = once.buckets.iter().map(|&n| usize::from(n)).sum();
        assert_eq!(counted, Once::WINDOW);
        assert!(!once.first(&tcp(1000 + Once::WINDOW as u64 - 1, 9)));
    }
}
