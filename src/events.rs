//! `--events`: socket destruction events from the kernel (like `ss -E`).
//!
//! sock_diag broadcasts an inet_diag record to the SKNLGRP_*_DESTROY multicast groups when a
//! TCP or UDP socket is destroyed. The record carries the socket's last state and addresses, but
//! by then its inode is 0 and its owner has closed it. So with -p (or an owner filter) a listing
//! is kept, refreshed every second with the previous one kept too, and a destroyed socket is
//! matched to it by addresses: the event then shows the inode and owners it was last seen with
//! ("where known"), and the uid it was listed with (the kernel's record says 0 for every
//! destroyed socket). That costs one listing a second; without -p nothing is listed.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use netlink_sys::{protocols::NETLINK_SOCK_DIAG, Socket as NlSocket};

use crate::cgroup::CgroupPaths;
use crate::config::Config;
use crate::listing::{ListError, Snapshot};
use crate::model::{Event, EventKind};
use crate::model::{InetProto, Table};
use crate::names::Names;
use crate::procmap::OwnerMap;
use crate::render::Context;
use crate::report::{Message, Sink};
use crate::source::netlink::parse;

/// SKNLGRP_INET_TCP_DESTROY, SKNLGRP_INET_UDP_DESTROY, SKNLGRP_INET6_TCP_DESTROY,
/// SKNLGRP_INET6_UDP_DESTROY.
const GROUPS: [(u32, InetProto); 4] = [
    (1, InetProto::Tcp),
    (2, InetProto::Udp),
    (3, InetProto::Tcp),
    (4, InetProto::Udp),
];

/// Why events could not be followed.
#[derive(Debug)]
pub enum EventsError {
    Subscribe(io::Error),
    Receive(io::Error),
    List(ListError),
}

impl std::fmt::Display for EventsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EventsError::Subscribe(_) => {
                f.write_str("cannot subscribe to sock_diag destroy events")
            }
            EventsError::Receive(_) => f.write_str("cannot receive sock_diag events"),
            EventsError::List(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for EventsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            EventsError::Subscribe(e) | EventsError::Receive(e) => Some(e),
            // Transparent: the listing error says its own step.
            EventsError::List(e) => e.source(),
        }
    }
}

/// A listing, indexed by addresses, to name the owner of a socket after it is gone.
struct Recent {
    snap: Snapshot,
    /// Inode and uid as listed.
    by_addr: HashMap<AddrKey, (u64, Option<u32>)>,
}

/// A socket by namespace inode (0 without -N), table and addresses.
type AddrKey = (u64, Table, SocketAddr, SocketAddr);

impl Recent {
    fn take(cfg: &Config) -> Result<Recent, EventsError> {
        let snap = crate::listing::snapshot(cfg).map_err(EventsError::List)?;
        let by_addr = snap
            .sockets
            .iter()
            .enumerate()
            .filter_map(|(n, s)| {
                let ns = snap.netns_of(n).map_or(0, |ns| ns.inode);
                s.inet()
                    .map(|i| ((ns, s.table(), i.local, i.remote), (s.inode, s.uid)))
            })
            .filter(|(_, (inode, _))| *inode != 0)
            .collect();
        Ok(Recent { snap, by_addr })
    }

    /// The inode, uid and owners `key` was last listed with.
    fn owners_of(&self, key: &AddrKey) -> Option<(u64, Option<u32>, &OwnerMap)> {
        let (inode, uid) = *self.by_addr.get(key)?;
        let map = self.snap.owners.as_ref()?;
        Some((inode, uid, map))
    }
}

fn subscribe() -> io::Result<NlSocket> {
    let mut sock = NlSocket::new(NETLINK_SOCK_DIAG)?;
    sock.bind_auto()?;
    for (group, _) in GROUPS {
        sock.add_membership(group)?;
    }
    // Room for bursts (a process exiting closes thousands of sockets at once) while the owner
    // listing is refreshed; the kernel caps this at net.core.rmem_max.
    rustix::net::sockopt::set_socket_recv_buffer_size(sock.as_fd(), 4 << 20)?;
    // Wake up every 200 ms to refresh owners and notice SIGINT/SIGTERM.
    rustix::net::sockopt::set_socket_timeout(
        sock.as_fd(),
        rustix::net::sockopt::Timeout::Recv,
        Some(Duration::from_millis(200)),
    )?;
    Ok(sock)
}

/// The subscriptions to follow: one in our own namespace, or with -N one made inside each
/// namespace by a thread that entered it (a netlink socket stays in the namespace it was made
/// in). Namespaces that cannot be entered are skipped, with the same hint as a listing.
fn subscriptions(
    cfg: &Config,
    messages: Sink<'_>,
) -> Result<Vec<(Option<crate::netns::Netns>, NlSocket)>, EventsError> {
    if cfg.netns.is_empty() {
        return Ok(vec![(None, subscribe().map_err(EventsError::Subscribe)?)]);
    }
    let found = crate::netns::discover(&cfg.netns, &cfg.proc_root)
        .map_err(|e| EventsError::List(ListError::Netns(e)))?;
    let fds: Vec<_> = found.targets.iter().map(|t| t.fd.as_ref()).collect();
    let made = crate::netns::enter::run_each(&fds, 2, |_| subscribe());
    let mut subs = Vec::new();
    let mut outcome = crate::listing::Outcome::default();
    for (target, r) in found.targets.into_iter().zip(made) {
        match r {
            Ok(Ok(sock)) => subs.push((Some(target.netns), sock)),
            // Our own namespace fails as it would without -N.
            Ok(Err(e)) if target.fd.is_none() => return Err(EventsError::Subscribe(e)),
            Ok(Err(e)) => messages(Message::warning(format!(
                "network namespace {}: cannot subscribe to sock_diag destroy events: {e}",
                crate::escape::escape(&target.netns.label())
            ))),
            Err(
                crate::netns::enter::EnterError::Setns(e)
                | crate::netns::enter::EnterError::Thread(e),
            ) => outcome.netns_skipped.push(crate::netns::Skipped {
                netns: target.netns,
                why: e,
            }),
        }
    }
    if let Some(hint) = outcome.netns_hint() {
        messages(Message::warning(hint));
    }
    Ok(subs)
}

/// Waits up to 200 ms for a datagram on any of `subs`; the indexes of those that have one.
fn ready(subs: &[(Option<crate::netns::Netns>, NlSocket)]) -> Vec<usize> {
    if subs.len() == 1 {
        return vec![0]; // its receive timeout does the waiting
    }
    let mut fds: Vec<libc::pollfd> = subs
        .iter()
        .map(|(_, s)| libc::pollfd {
            fd: std::os::fd::AsRawFd::as_raw_fd(s),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    // SAFETY: `fds` is a valid array of `fds.len()` pollfd structures for the whole call.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 200) };
    if n <= 0 {
        return Vec::new();
    }
    fds.iter()
        .enumerate()
        .filter(|(_, p)| p.revents != 0)
        .map(|(i, _)| i)
        .collect()
}

/// Prints destruction events until SIGINT/SIGTERM or a write error.
pub fn run<W: io::Write>(
    cfg: &Config,
    names: &mut Names,
    out: W,
    messages: Sink<'_>,
) -> Result<(), EventsError> {
    let subs = subscriptions(cfg, messages)?;
    let cgroups = cfg
        .internals
        .extended
        .then(|| CgroupPaths::scan(&cfg.proc_root));
    // The listing used to find owners: every state, the user's tables, no filter.
    let lookup_cfg = Config {
        show: crate::config::ShowMode::All,
        filter: crate::filter::Filter::default(),
        programs: true,
        ..cfg.clone()
    };
    let keep_listing = cfg.needs_owners();
    let take = || -> Result<Option<Recent>, EventsError> {
        if keep_listing {
            Recent::take(&lookup_cfg).map(Some)
        } else {
            Ok(None)
        }
    };
    let (mut older, mut recent) = (None::<Recent>, take()?);
    let mut taken = Instant::now();
    let mut buf = vec![0u8; 64 * 1024];
    if cfg.verbose {
        // Subscribed and, with -p, the first owner listing taken: events from now on are seen.
        messages(Message::info("following socket destruction events"));
    }
    let mut out = out;
    while !crate::signal::stop_requested() {
        if keep_listing && taken.elapsed() >= Duration::from_secs(1) {
            older = recent.take();
            recent = take()?;
            taken = Instant::now();
        }
        for i in ready(&subs) {
            let (netns, sock) = &subs[i];
            let (n, from) = match sock.recv_from(&mut &mut buf[..], libc::MSG_TRUNC) {
                Ok(r) => r,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) =>
                {
                    continue
                }
                // The receive buffer overflowed: events were lost, but the stream goes on.
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    messages(Message::warning(
                        "the kernel dropped some destruction events (receive buffer full)",
                    ));
                    continue;
                }
                Err(e) => return Err(EventsError::Receive(e)),
            };
            if n > buf.len() {
                messages(Message::warning(format!(
                    "skipped a {n}-byte event datagram larger than the buffer"
                )));
                continue;
            }
            let groups = from.multicast_groups();
            let Some(&(_, proto)) = GROUPS.iter().find(|(g, _)| groups & (1 << (g - 1)) != 0)
            else {
                continue;
            };
            for msg in parse::messages(&buf[..n]) {
                let msg = match msg {
                    Ok(m) => m,
                    Err(e) => {
                        messages(Message::warning(format!(
                            "skipped an event that could not be read: {e}"
                        )));
                        break;
                    }
                };
                if msg.kind != parse::SOCK_DIAG_BY_FAMILY {
                    continue;
                }
                let Ok(mut sock_rec) = parse::inet(msg.payload, proto, false, false) else {
                    continue;
                };
                // The record's uid is not the owner's: the kernel fills it in after the socket has
                // left its file, and sends 0 (root) for every destroyed socket (seen on 6.18 for
                // sockets of other users). Unknown, unless a listing saw the socket.
                sock_rec.uid = None;
                let Some(info) = sock_rec.inet() else {
                    continue;
                };
                let table = sock_rec.table();
                if !cfg.tables.contains(&table) {
                    continue;
                }
                let key = (
                    netns.as_ref().map_or(0, |n| n.inode),
                    table,
                    info.local,
                    info.remote,
                );
                let seen: Vec<_> = [recent.as_ref(), older.as_ref()]
                    .into_iter()
                    .flatten()
                    .filter_map(|r| r.owners_of(&key))
                    .collect();
                // A listing taken while the owner was exiting sees the socket but no longer
                // its descriptor: then the same socket's owners from the listing before.
                let known = seen
                    .iter()
                    .find(|(inode, _, map)| {
                        *inode == seen[0].0 && map.owners(*inode).next().is_some()
                    })
                    .or(seen.first())
                    .copied();
                let owners = known.map(|(inode, uid, map)| {
                    // As last seen, so its owners can be named.
                    sock_rec.inode = inode;
                    sock_rec.uid = uid;
                    map
                });
                let passes = match owners {
                    Some(m) => cfg.filter.matches(&sock_rec, m.owners(sock_rec.inode)),
                    None => cfg.filter.matches(&sock_rec, std::iter::empty()),
                };
                if !passes {
                    continue;
                }
                let ctx = Context {
                    owners: if cfg.programs { owners } else { None },
                    cgroups: cgroups.as_ref(),
                };
                let time = crate::signal::timestamp();
                let ev = Event {
                    time: &time,
                    kind: EventKind::Destroyed,
                    from: None,
                    socket: &sock_rec,
                    netns: netns.as_ref(),
                };
                out = crate::render::event_line(cfg, names, ctx, out, &ev)
                    .map_err(|e| EventsError::List(ListError::Output(e)))?;
            }
        }
    }
    Ok(())
}
