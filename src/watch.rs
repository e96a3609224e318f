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
use crate::model::{Detail, Socket, State, Table};
use crate::names::Names;
use crate::render::Context;
use crate::report::{Message, Sink};

/// What happened to a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// Present in the first listing.
    Present,
    New,
    State,
    Gone,
    /// Destroyed, as the kernel reported (`--events`).
    Destroyed,
}

impl EventKind {
    pub fn table_name(self) -> &'static str {
        match self {
            EventKind::Present => "EXISTS",
            EventKind::New => "NEW",
            EventKind::State => "STATE",
            EventKind::Gone => "GONE",
            EventKind::Destroyed => "DESTROY",
        }
    }
    pub fn json_name(self) -> &'static str {
        match self {
            EventKind::Present => "exists",
            EventKind::New => "new",
            EventKind::State => "state",
            EventKind::Gone => "gone",
            EventKind::Destroyed => "destroy",
        }
    }
}

/// One line of watch output.
pub struct Event<'a> {
    pub time: &'a str,
    pub kind: EventKind,
    /// The previous state, for [`EventKind::State`].
    pub from: Option<State>,
    /// The socket as last seen (for GONE: as it was before it disappeared).
    pub socket: &'a Socket,
    /// With -N: the namespace the socket is in.
    pub netns: Option<&'a crate::netns::Netns>,
}

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

/// Compares two listings: GONE first, then STATE, then NEW, each in table and address order,
/// so the same change always prints the same way.
fn diff<'a>(
    before: &'a HashMap<Key, Socket>,
    after: &'a HashMap<Key, Socket>,
) -> Vec<(EventKind, Option<State>, &'a Socket)> {
    let mut events = Vec::new();
    for (k, old) in before {
        if !after.contains_key(k) {
            events.push((EventKind::Gone, None, old));
        }
    }
    for (k, new) in after {
        match before.get(k) {
            Some(old) if old.state != new.state => {
                events.push((EventKind::State, Some(old.state), new))
            }
            Some(_) => {}
            None => events.push((EventKind::New, None, new)),
        }
    }
    sort_events(&mut events);
    events
}

fn sort_events(events: &mut [(EventKind, Option<State>, &Socket)]) {
    let rank = |k: EventKind| match k {
        EventKind::Gone => 0,
        EventKind::State => 1,
        _ => 2,
    };
    events.sort_by(|a, b| {
        let addr = |s: &Socket| s.inet().map(|i| (i.local, i.remote));
        (rank(a.0), a.2.table().proc_file(), addr(a.2), a.2.inode).cmp(&(
            rank(b.0),
            b.2.table().proc_file(),
            addr(b.2),
            b.2.inode,
        ))
    });
}

fn index(sockets: Vec<Socket>) -> HashMap<Key, Socket> {
    sockets.into_iter().map(|s| (key(&s), s)).collect()
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
    let mut previous: Option<HashMap<Key, Socket>> = None;
    // A GONE socket's owners are those of the listing it was last seen in.
    let mut previous_owners: Option<crate::procmap::OwnerMap> = None;
    let mut out = out;
    while !crate::signal::stop_requested() {
        let snap = listing::snapshot(cfg)?;
        // A table that failed or changed under the dump would show up as sockets vanishing and
        // coming back: say so, and compare against the next good listing instead.
        let interrupted = snap.outcome.served.iter().any(|s| s.interrupted);
        if !snap.outcome.failures.is_empty() || interrupted {
            for f in &snap.outcome.failures {
                messages(Message::warning(format!(
                    "{}; this round is skipped",
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
        let current = index(snap.sockets);
        let time = crate::signal::timestamp();
        let events = match &previous {
            None => {
                let mut all: Vec<_> = current
                    .values()
                    .map(|s| (EventKind::Present, None, s))
                    .collect();
                sort_events(&mut all);
                all
            }
            Some(before) => diff(before, &current),
        };
        for (kind, from, socket) in events {
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
                netns: None,
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
