//! One scrape's data: a fresh listing folded, socket by socket, into a bounded aggregate.
//!
//! Nothing per connection is kept: a socket adds one to a fixed `(table, state)` cell, one to
//! each of its programs' cells (with `-p`), and a listener adds its queue to its
//! `(proto, address, port, program)` entry. Remote addresses and ports are never looked at, so
//! the series a scrape yields are bounded by the tables, the states, the listeners and the
//! programs of the host — and the last two are capped when encoded ([`LISTENER_CAP`],
//! [`PROGRAM_CAP`]). The kernel's TCP counters come from the `-s` parser in [`crate::stats`].
//!
//! With `-N` every cell is also keyed by the namespace the socket was listed in (the `netns`
//! label), and each namespace's kernel counters are read inside it: the kernel keeps them per
//! namespace. A program's cell is keyed by its container too (the `container` label).

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::time::Instant;

use crate::config::Config;
use crate::listing::{self, ListError, Outcome, Visitor};
use crate::model::{Family, InetProto, Socket, State, Table};
use crate::netns::Netns;
use crate::procmap::OwnerMap;
use crate::stats::{Stats, StatsError};

/// At most this many listener series per scrape (the lowest by proto, address, port, program).
pub const LISTENER_CAP: usize = 1000;
/// At most this many programs get `rnetstat_program_sockets` series (the first by name).
pub const PROGRAM_CAP: usize = 500;

/// Every table the listing knows, in its order; an aggregate cell is indexed by position here.
pub(crate) const TABLES: [Table; 9] = [
    Table::Inet(InetProto::Tcp, Family::V4),
    Table::Inet(InetProto::Tcp, Family::V6),
    Table::Inet(InetProto::Udp, Family::V4),
    Table::Inet(InetProto::Udp, Family::V6),
    Table::Inet(InetProto::UdpLite, Family::V4),
    Table::Inet(InetProto::UdpLite, Family::V6),
    Table::Inet(InetProto::Raw, Family::V4),
    Table::Inet(InetProto::Raw, Family::V6),
    Table::Unix,
];

/// State slots per table: the kernel's state numbers 1..=12 have their own slot; any other
/// number shares slot 0 (named UNKNOWN).
pub(crate) const SLOTS: usize = 16;

pub(crate) fn table_index(t: Table) -> usize {
    let family = |f: Family| usize::from(f == Family::V6);
    match t {
        Table::Inet(InetProto::Tcp, f) => family(f),
        Table::Inet(InetProto::Udp, f) => 2 + family(f),
        Table::Inet(InetProto::UdpLite, f) => 4 + family(f),
        Table::Inet(InetProto::Raw, f) => 6 + family(f),
        Table::Unix => 8,
    }
}

fn slot(state: State) -> usize {
    match state {
        State::Unknown(_) => 0,
        s => usize::from(s.as_u8()),
    }
}

/// The state a slot stands for.
pub(crate) fn slot_state(slot: usize) -> State {
    State::from_u8(u8::try_from(slot).unwrap_or(0))
}

/// Sockets counted by table and state slot.
pub(crate) type Counts = [[u64; SLOTS]; TABLES.len()];

/// One listener series: the local end and who holds it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ListenerKey {
    /// Position in [`Scrape::netns`] (0 without `-N`).
    pub netns: usize,
    /// Position in [`TABLES`].
    pub table: usize,
    pub address: IpAddr,
    pub port: u16,
    /// The distinct owning programs, sorted and joined with `,`; empty without `-p` or when no
    /// owner could be seen.
    pub program: String,
}

/// Sockets that share a [`ListenerKey`] (SO_REUSEPORT groups) are summed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListenerQueue {
    /// Connections waiting for accept() now.
    pub queue: u64,
    /// The accept queue's limit (the listen() backlog as the kernel capped it).
    pub backlog: u64,
}

/// One program's series: its namespace, name and container.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProgramKey {
    /// The program (comm), escaped for display.
    pub name: String,
    /// The container its process runs in, as the table names it (`docker:3f2a9c1b7d0e`); empty
    /// outside one.
    pub container: String,
    /// Position in [`Scrape::netns`] (0 without `-N`).
    pub netns: usize,
}

/// What one scrape found.
#[derive(Debug)]
pub struct Scrape {
    /// Sockets by namespace (one entry without `-N`), table and state.
    pub(crate) counts: Vec<Counts>,
    /// With `-N`: each namespace's `netns` label (its /run/netns name, `[host]` for our own,
    /// `[INODE]` otherwise, escaped), in discovery order. Empty without `-N`: no label.
    pub netns: Vec<String>,
    /// Tables the configuration selects (those a filter rules out entirely are left out), with
    /// the state mask asked of each: the states whose zero counts are meaningful.
    pub(crate) selected: Vec<(Table, u32)>,
    pub listeners: HashMap<ListenerKey, ListenerQueue>,
    /// A program's sockets by table and state.
    pub programs: HashMap<ProgramKey, Box<Counts>>,
    /// Whether program series were asked for (`-p`).
    pub by_program: bool,
    pub outcome: Outcome,
    /// The kernel's counters: one entry without `-N`, else one per namespace of [`Scrape::netns`].
    pub kernel: Vec<Result<Stats, StatsError>>,
    /// How long the listing and the counters took.
    pub seconds: f64,
}

/// The [`Visitor`] that folds a listing into a [`Scrape`]'s cells.
struct Aggregate {
    /// By namespace; the last entry is the current namespace's.
    counts: Vec<Counts>,
    netns: Vec<String>,
    by_program: bool,
    listeners: HashMap<ListenerKey, ListenerQueue>,
    /// (namespace, raw comm bytes, container label) → position in `program_counts`.
    program_index: HashMap<(usize, Box<[u8]>, String), usize>,
    program_keys: Vec<(usize, Box<[u8]>, String)>,
    program_counts: Vec<Counts>,
    /// The last owner looked up (its name, its container) and its position: a process's
    /// sockets tend to come together.
    last: Option<(usize, *const crate::container::Container)>,
    /// The current socket's distinct programs (reused so counting allocates nothing).
    seen: Vec<usize>,
}

impl Aggregate {
    /// The namespace the current socket is in.
    fn ns(&self) -> usize {
        self.counts.len() - 1
    }

    fn program(&mut self, name: &[u8], container: Option<&crate::container::Container>) -> usize {
        let ns = self.ns();
        let ptr = container.map_or(std::ptr::null(), |c| c as *const _);
        if let Some((i, last_ptr)) = self.last {
            let (last_ns, last_name, _) = &self.program_keys[i];
            if *last_ns == ns && **last_name == *name && last_ptr == ptr {
                return i;
            }
        }
        let key = (ns, Box::<[u8]>::from(name), container_label(container));
        let i = match self.program_index.get(&key) {
            Some(&i) => i,
            None => {
                let i = self.program_keys.len();
                self.program_keys.push(key.clone());
                self.program_counts.push([[0; SLOTS]; TABLES.len()]);
                self.program_index.insert(key, i);
                i
            }
        };
        self.last = Some((i, ptr));
        i
    }

    fn listener(&mut self, s: &Socket, table: usize, owners: Option<&OwnerMap>) {
        let Some(inet) = s.inet() else { return };
        let mut names: Vec<String> = Vec::new();
        if self.by_program {
            if let Some(map) = owners {
                for o in map.owners(s.inode) {
                    let n = crate::escape::escape(o.name);
                    if !names.contains(&n) {
                        names.push(n);
                    }
                }
            }
        }
        names.sort();
        let key = ListenerKey {
            netns: self.ns(),
            table,
            address: inet.local.ip(),
            port: inet.local.port(),
            program: names.join(","),
        };
        let q = self.listeners.entry(key).or_default();
        q.queue += u64::from(s.recv_q.unwrap_or(0));
        q.backlog += u64::from(inet.backlog.unwrap_or(0));
    }
}

impl Visitor for Aggregate {
    fn netns(&mut self, netns: &Netns) -> io::Result<()> {
        if !self.netns.is_empty() {
            self.counts.push([[0; SLOTS]; TABLES.len()]);
        }
        self.netns.push(crate::escape::escape(&netns.label()));
        Ok(())
    }

    fn socket(&mut self, s: &Socket, owners: Option<&OwnerMap>) -> io::Result<()> {
        let table = table_index(s.table());
        let slot = slot(s.state);
        let ns = self.ns();
        self.counts[ns][table][slot] += 1;
        if s.state == State::Listen && table < 2 {
            self.listener(s, table, owners);
        }
        if self.by_program && s.inode != 0 {
            if let Some(map) = owners {
                let mut seen = std::mem::take(&mut self.seen);
                seen.clear();
                for o in map.owners(s.inode) {
                    let i = self.program(o.name, o.container);
                    if !seen.contains(&i) {
                        seen.push(i);
                    }
                }
                for &i in &seen {
                    self.program_counts[i][table][slot] += 1;
                }
                self.seen = seen;
            }
        }
        Ok(())
    }
}

/// Takes a fresh listing of what `cfg` selects, and the kernel's counters.
pub fn scrape(cfg: &Config) -> Result<Scrape, ListError> {
    let start = Instant::now();
    let mut agg = Aggregate {
        counts: vec![[[0; SLOTS]; TABLES.len()]],
        netns: Vec::new(),
        by_program: cfg.programs,
        listeners: HashMap::new(),
        program_index: HashMap::new(),
        program_keys: Vec::new(),
        program_counts: Vec::new(),
        last: None,
        seen: Vec::new(),
    };
    let (outcome, kernel) = if cfg.netns.is_empty() {
        let (mut sources, owners) = listing::prepare(cfg)?;
        let outcome = listing::walk(cfg, &mut sources, owners.as_ref(), &mut agg)?;
        (outcome, vec![crate::stats::load(&cfg.proc_root)])
    } else {
        listing::visit_netns(cfg, &mut agg)?
    };
    let programs = agg
        .program_keys
        .into_iter()
        .zip(agg.program_counts)
        .map(|((netns, name, container), counts)| {
            let key = ProgramKey {
                name: crate::escape::escape(&name),
                container,
                netns,
            };
            (key, Box::new(counts))
        })
        .fold(
            HashMap::new(),
            |mut m: HashMap<ProgramKey, Box<Counts>>, (n, c)| {
                // Two raw names can escape alike only if one holds a literal escape: add them up.
                match m.get_mut(&n) {
                    Some(acc) => {
                        for (a, b) in acc.iter_mut().zip(c.iter()) {
                            for (x, y) in a.iter_mut().zip(b) {
                                *x += y;
                            }
                        }
                    }
                    None => {
                        m.insert(n, c);
                    }
                }
                m
            },
        );
    let selected = cfg
        .tables
        .iter()
        .copied()
        .filter(|&t| t != Table::Unix || cfg.filter.may_match_unix())
        .map(|t| (t, cfg.state_mask(t)))
        .collect();
    Ok(Scrape {
        counts: agg.counts,
        netns: agg.netns,
        selected,
        listeners: agg.listeners,
        programs,
        by_program: cfg.programs,
        outcome,
        kernel,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// A container as the `container` label names it: the table's `RUNTIME:ID` (ids cut to 12 hex
/// digits as `docker ps` shows them, names whole), escaped; empty outside one.
fn container_label(c: Option<&crate::container::Container>) -> String {
    match c {
        None => String::new(),
        Some(c) => format!(
            "{}:{}",
            c.runtime.name(),
            crate::escape::escape(c.short_id())
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_has_its_own_index() {
        for (i, t) in TABLES.iter().enumerate() {
            assert_eq!(table_index(*t), i, "{t}");
        }
    }

    #[test]
    fn unknown_state_numbers_share_the_unknown_slot() {
        assert_eq!(slot(State::Unknown(13)), 0);
        assert_eq!(slot(State::Unknown(200)), 0);
        assert_eq!(slot_state(0).tcp_name(), "UNKNOWN");
        for s in State::ALL {
            assert_eq!(slot_state(slot(s)), s);
        }
    }
}
