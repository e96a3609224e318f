//! `--watch`: list repeatedly and print what changed — a socket appearing (NEW), changing state
//! (STATE, e.g. ESTABLISHED → FIN_WAIT2 → TIME_WAIT) or disappearing (GONE) — one flushed line
//! per event, so `rnetstat --watch --json | jq` sees them live.
//!
//! Sockets are matched between listings by table and addresses, not inode: a connection keeps
//! its addresses when the kernel swaps it for a TIME_WAIT mini-socket (inode 0). Listeners and
//! unconnected sockets also key on their inode, since several may share an address
//! (SO_REUSEPORT). A state held for less than one interval can be missed: this is sampling.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use crate::cgroup::CgroupPaths;
use crate::config::Config;
use crate::listing::{self, ListError};
use crate::model::{Detail, Event, EventKind, Socket, State, Table};
use crate::names::Names;
use crate::render::Context;
use crate::report::{Message, Sink};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Inet(Table, SocketAddr, SocketAddr, u64),
    Unix(u64),
}

fn key(s: &Socket) -> Key {
    match &s.detail {
        Detail::Inet(i) => {
            let shared_address = i.remote.port() == 0 && i.remote.ip().is_unspecified();
            Key::Inet(
                s.table(),
                i.local,
                i.remote,
                if shared_address { s.inode } else { 0 },
            )
        }
        Detail::Unix(_) => Key::Unix(s.inode),
    }
}

/// A socket's identity across listings: its namespace's inode (0 without -N) and its key.
type Keyed = (u64, Key);

/// One listing, indexed: each socket with the index of its namespace in `netns`.
struct Listing {
    sockets: HashMap<Keyed, (Socket, Option<u32>)>,
    netns: Vec<crate::netns::Netns>,
}

impl Listing {
    fn of(snap: &mut listing::Snapshot) -> Listing {
        let sockets = std::mem::take(&mut snap.sockets);
        let netns_of = std::mem::take(&mut snap.netns_of);
        let netns = std::mem::take(&mut snap.netns);
        let sockets = sockets
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                let ns = netns_of.get(i).copied();
                let inode = ns
                    .and_then(|n| netns.get(n as usize))
                    .map_or(0, |n| n.inode);
                ((inode, key(&s)), (s, ns))
            })
            .collect();
        Listing { sockets, netns }
    }

    fn netns(&self, i: Option<u32>) -> Option<&crate::netns::Netns> {
        self.netns.get(i? as usize)
    }
}

/// One event to print: what happened, the previous state, the socket and its namespace.
type Change<'a> = (
    EventKind,
    Option<State>,
    &'a Socket,
    Option<&'a crate::netns::Netns>,
);

/// Compares two listings: GONE first, then STATE, then NEW, each in namespace, table and
/// address order, so the same change always prints the same way.
fn diff<'a>(before: &'a Listing, after: &'a Listing) -> Vec<Change<'a>> {
    let mut events = Vec::new();
    for (k, (old, ns)) in &before.sockets {
        if !after.sockets.contains_key(k) {
            events.push((EventKind::Gone, None, old, before.netns(*ns)));
        }
    }
    for (k, (new, ns)) in &after.sockets {
        match before.sockets.get(k) {
            Some((old, _)) if old.state != new.state => {
                events.push((EventKind::State, Some(old.state), new, after.netns(*ns)))
            }
            Some(_) => {}
            None => events.push((EventKind::New, None, new, after.netns(*ns))),
        }
    }
    sort_events(&mut events);
    events
}

fn sort_events(events: &mut [Change<'_>]) {
    let rank = |k: EventKind| match k {
        EventKind::Gone => 0,
        EventKind::State => 1,
        _ => 2,
    };
    events.sort_by(|a, b| {
        let addr = |s: &Socket| s.inet().map(|i| (i.local, i.remote));
        let ns = |n: Option<&crate::netns::Netns>| n.map(|n| n.inode);
        (
            rank(a.0),
            ns(a.3),
            a.2.table().proc_file(),
            addr(a.2),
            a.2.inode,
        )
            .cmp(&(
                rank(b.0),
                ns(b.3),
                b.2.table().proc_file(),
                addr(b.2),
                b.2.inode,
            ))
    });
}

/// Watches until SIGINT/SIGTERM (see [`crate::signal`]) or a write error.
pub fn run<W: io::Write>(
    cfg: &Config,
    interval: Duration,
    names: &mut Names,
    out: W,
    messages: Sink<'_>,
) -> Result<(), ListError> {
    let cgroups = cfg
        .internals
        .extended
        .then(|| CgroupPaths::scan(&cfg.proc_root));
    let mut previous: Option<Listing> = None;
    // A GONE socket's owners are those of the listing it was last seen in.
    let mut previous_owners: Option<crate::procmap::OwnerMap> = None;
    let mut out = out;
    while !crate::signal::stop_requested() {
        let mut snap = listing::snapshot(cfg)?;
        // A table that failed or changed under the dump would show up as sockets vanishing and
        // coming back: say so, and compare against the next good listing instead.
        let interrupted = snap.outcome.served.iter().any(|s| s.interrupted);
        if !snap.outcome.failures.is_empty()
            || !snap.outcome.netns_failures.is_empty()
            || interrupted
        {
            for f in &snap.outcome.failures {
                messages(Message::warning(format!(
                    "{}; this round is skipped",
                    crate::report::chain(f)
                )));
            }
            for (netns, f) in &snap.outcome.netns_failures {
                messages(Message::warning(format!(
                    "network namespace {netns}: {}; this round is skipped",
                    crate::report::chain(f)
                )));
            }
            if interrupted {
                messages(Message::warning(
                    "a table changed during the dump; this round is skipped",
                ));
            }
            if !crate::signal::sleep(interval) {
                break;
            }
            continue;
        }
        if previous.is_none() {
            if let Some(hint) = snap.outcome.netns_hint() {
                messages(Message::warning(hint));
            }
        }
        let current = Listing::of(&mut snap);
        let time = crate::signal::timestamp();
        let events = match &previous {
            None => {
                let mut all: Vec<_> = current
                    .sockets
                    .values()
                    .map(|(s, ns)| (EventKind::Present, None, s, current.netns(*ns)))
                    .collect();
                sort_events(&mut all);
                all
            }
            Some(before) => diff(before, &current),
        };
        for (kind, from, socket, netns) in events {
            let owners = if kind == EventKind::Gone {
                previous_owners.as_ref()
            } else {
                snap.owners.as_ref()
            };
            let ctx = Context {
                owners: owners.filter(|_| cfg.programs),
                cgroups: cgroups.as_ref(),
            };
            let ev = Event {
                time: &time,
                kind,
                from,
                socket,
                netns,
            };
            out =
                crate::render::event_line(cfg, names, ctx, out, &ev).map_err(ListError::Output)?;
        }
        previous = Some(current);
        previous_owners = snap.owners;
        if !crate::signal::sleep(interval) {
            break;
        }
    }
    Ok(())
}
