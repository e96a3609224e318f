//! One listing, start to end: the owner scan (only when -p or an owner filter needs it), each
//! selected table from its source with the kernel-side filters (state mask, bytecode), the
//! user's filter, and each passing socket straight to a [`Visitor`] — a printer, or a collector
//! for callers that want data (`--watch`, `--summary`, the demo).

use std::io;

use crate::cgroup::CgroupPaths;
use crate::config::Config;
use crate::model::{Socket, Table};
use crate::names::Names;
use crate::netns::{self, Netns, NetnsError};
use crate::procmap::{OwnerMap, ScanError, ScanGaps, ScanKind};
use crate::render::{Context, Printer, RenderOptions, Section};
use crate::source::{Query, Served, SourceChoice, SourceError, Sources};

/// What happened besides the output.
#[derive(Debug, Default)]
pub struct Outcome {
    /// How each table was served.
    pub served: Vec<Served>,
    /// Tables that could not be listed at all.
    pub failures: Vec<SourceError>,
    /// Some processes could not be inspected, so some owners may be missing.
    pub owners_incomplete: bool,
    /// What the owner scan could not see, and why (empty when it saw everything).
    pub owner_gaps: ScanGaps,
    /// How owners were found, and why the BPF iterator was not used if it was not.
    pub owners_by: Option<(ScanKind, Option<String>)>,
    /// With -N: tables that could not be listed in a namespace, by the namespace's label
    /// (escaped for display).
    pub netns_failures: Vec<(String, SourceError)>,
    /// With -N: namespaces that could not be entered, and why.
    pub netns_skipped: Vec<netns::Skipped>,
    /// With -N: arguments whose namespace has gone since they were checked, and why.
    pub netns_gone: Vec<(String, io::Error)>,
    /// With `-N all`: processes whose namespace could not be read.
    pub netns_unreadable_processes: usize,
}

impl Outcome {
    /// The one hint `-N` prints on stderr when it could not list everything: how many
    /// namespaces were skipped and why.
    pub fn netns_hint(&self) -> Option<String> {
        let mut parts = Vec::new();
        if !self.netns_skipped.is_empty() {
            let mut why: Vec<(String, usize)> = Vec::new();
            for s in &self.netns_skipped {
                let full = s.why.to_string();
                let plain = full.split(" (os error").next().unwrap_or(&full);
                let text = if s.why.raw_os_error() == Some(libc::EPERM) {
                    format!("{plain}: entering another namespace needs CAP_SYS_ADMIN")
                } else {
                    plain.to_string()
                };
                match why.iter_mut().find(|(t, _)| *t == text) {
                    Some((_, n)) => *n += 1,
                    None => why.push((text, 1)),
                }
            }
            let n = self.netns_skipped.len();
            let reasons: Vec<String> = if why.len() == 1 {
                why.into_iter().map(|(t, _)| t).collect()
            } else {
                why.into_iter().map(|(t, k)| format!("{k}: {t}")).collect()
            };
            parts.push(format!(
                "skipped {n} network namespace{} that could not be entered ({})",
                if n == 1 { "" } else { "s" },
                reasons.join("; ")
            ));
        }
        if !self.netns_gone.is_empty() {
            let gone: Vec<String> = self
                .netns_gone
                .iter()
                .map(|(arg, why)| {
                    let full = why.to_string();
                    let plain = full.split(" (os error").next().unwrap_or(&full).to_string();
                    format!("{} ({plain})", crate::escape::escape(arg.as_bytes()))
                })
                .collect();
            parts.push(format!(
                "skipped network namespaces that are gone: {}",
                gone.join(", ")
            ));
        }
        if self.netns_unreadable_processes > 0 {
            parts.push(format!(
                "the namespaces of {} processes could not be read (you would have to be root \
to see them all)",
                self.netns_unreadable_processes
            ));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

/// Why a listing stopped early.
#[derive(Debug)]
pub enum ListError {
    /// Writing failed (a closed pipe, a full disk).
    Output(io::Error),
    /// The process scan could not start (e.g. /proc is not mounted).
    Scan(ScanError),
    /// A `-N` namespace could not be found or opened.
    Netns(NetnsError),
}

impl std::fmt::Display for ListError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ListError::Output(_) => f.write_str("cannot write output"),
            ListError::Scan(e) => e.fmt(f),
            ListError::Netns(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ListError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ListError::Output(e) => Some(e),
            ListError::Scan(e) => std::error::Error::source(e),
            ListError::Netns(e) => std::error::Error::source(e),
        }
    }
}

/// Receives a listing as it is produced.
pub trait Visitor {
    /// A new section (inet, unix) starts.
    fn section(&mut self, _section: Section) -> io::Result<()> {
        Ok(())
    }
    /// With -N: the sockets that follow, until the next call, are in namespace `netns`.
    fn netns(&mut self, _netns: &Netns) -> io::Result<()> {
        Ok(())
    }
    /// A socket that passed every filter.
    fn socket(&mut self, s: &Socket, owners: Option<&OwnerMap>) -> io::Result<()>;
}

impl<W: io::Write> Visitor for Printer<'_, W> {
    fn section(&mut self, section: Section) -> io::Result<()> {
        Printer::section(self, section)
    }
    fn netns(&mut self, netns: &Netns) -> io::Result<()> {
        Printer::netns(self, netns);
        Ok(())
    }
    fn socket(&mut self, s: &Socket, _owners: Option<&OwnerMap>) -> io::Result<()> {
        Printer::socket(self, s)
    }
}

/// Collects sockets.
impl Visitor for Vec<Socket> {
    fn socket(&mut self, s: &Socket, _owners: Option<&OwnerMap>) -> io::Result<()> {
        self.push(s.clone());
        Ok(())
    }
}

fn section_of(t: Table) -> Section {
    match t {
        Table::Inet(..) => Section::Inet,
        Table::Unix => Section::Unix,
    }
}

/// How much of the first table's dump may be held while the owner scan runs.
/// It is a bound, not an allocation: only what arrives before the scan ends is held (about 7 MiB
/// at 100k TCP sockets, about 20 MiB at 200k with the BPF scan), and a lower bound made the listing
/// wait for the scan with one core idle once the population outgrew it.
const READ_AHEAD_LIMIT: usize = 32 << 20;

/// Scans owners if the configuration needs them, and opens the sources.
///
/// The owner scan runs on its own thread while this one starts the first table's netlink dump
/// and holds what arrives (up to [`READ_AHEAD_LIMIT`]): the kernel's dump work and the scan
/// overlap instead of following each other, and nothing is printed before owners are known.
pub fn prepare(cfg: &Config) -> Result<(Sources, Option<OwnerMap>), ListError> {
    let mut sources = Sources::new(cfg.source, cfg.proc_root.clone());
    if !cfg.needs_owners() {
        return Ok((sources, None));
    }
    let first = cfg
        .tables
        .iter()
        .copied()
        .find(|&t| t != Table::Unix || cfg.filter.may_match_unix());
    let scanned = std::thread::scope(|s| {
        let scan = || scan_owners(cfg);
        match std::thread::Builder::new().spawn_scoped(s, scan) {
            Ok(scan) => {
                if let Some(table) = first {
                    let done = || scan.is_finished();
                    sources.read_ahead(table, &query_for(cfg, table), &done, READ_AHEAD_LIMIT);
                }
                scan.join()
            }
            // No thread to be had (a pids or process limit): scan here, then list as usual.
            Err(_) => Ok(scan()),
        }
    });
    match scanned {
        Ok(Ok(map)) => Ok((sources, Some(map))),
        Ok(Err(e)) => Err(ListError::Scan(e)),
        Err(_) => Err(ListError::Scan(ScanError::Proc {
            root: cfg.proc_root.clone(),
            source: io::Error::other("the owner scan thread panicked"),
        })),
    }
}

/// The owner scan, with containers when they are wanted.
fn scan_owners(cfg: &Config) -> Result<OwnerMap, ScanError> {
    let mut map = OwnerMap::scan(&cfg.proc_root, cfg.owner_scan)?;
    if cfg.needs_containers() {
        map.find_containers(&cfg.proc_root);
    }
    Ok(map)
}

/// [`scan_owners`], handing every held TCP socket's fields (when the BPF iterator reads
/// them) to `ready` before the owners' names and containers are looked up.
fn scan_owners_with_tcp(
    cfg: &Config,
    netns: &[u64],
    ready: &mut dyn FnMut(Option<crate::procmap::OwnedTcp>),
) -> Result<OwnerMap, ScanError> {
    let mut map = OwnerMap::scan_with_tcp(&cfg.proc_root, cfg.owner_scan, netns, ready)?;
    if cfg.needs_containers() {
        map.find_containers(&cfg.proc_root);
    }
    Ok(map)
}

/// What to ask the source of `table` for.
fn query_for(cfg: &Config, table: Table) -> Query {
    Query {
        states: cfg.state_mask(table),
        bytecode: match table {
            Table::Inet(proto, _) if cfg.source != SourceChoice::Proc => {
                cfg.filter.inet_bytecode(proto)
            }
            _ => None,
        },
        internals: cfg.internals.any(),
        labels: cfg.filter.needs_labels(),
    }
}

/// Runs every selected table through `visitor`. `owners` must be given when
/// `cfg.needs_owners()`.
pub fn walk(
    cfg: &Config,
    sources: &mut Sources,
    owners: Option<&OwnerMap>,
    visitor: &mut dyn Visitor,
) -> Result<Outcome, ListError> {
    let mut outcome = Outcome {
        owners_incomplete: owners.is_some_and(OwnerMap::incomplete),
        owner_gaps: owners.map(|m| m.gaps.clone()).unwrap_or_default(),
        owners_by: owners.map(|m| (m.by, m.fallback_reason.clone())),
        ..Outcome::default()
    };
    let mut section = None;
    // An owner filter can only pass sockets whose owners we know.
    let filtering = !cfg.filter.is_empty();
    for &table in &cfg.tables {
        if section != Some(section_of(table)) {
            section = Some(section_of(table));
            visitor
                .section(section_of(table))
                .map_err(ListError::Output)?;
        }
        if table == Table::Unix && !cfg.filter.may_match_unix() {
            continue;
        }
        let query = query_for(cfg, table);
        let mut sink = |s: &Socket| {
            if filtering {
                let passes = match owners {
                    Some(map) => cfg.filter.matches(s, map.owners(s.inode)),
                    None => cfg.filter.matches(s, std::iter::empty()),
                };
                if !passes {
                    return Ok(());
                }
            }
            visitor.socket(s, owners)
        };
        let prefetch = owners.map(|map| move |inodes: &[u64]| map.prefetch(inodes));
        let prefetch = prefetch.as_ref().map(|f| f as &dyn Fn(&[u64]));
        match sources.list_prefetching(table, &query, &mut sink, prefetch) {
            Ok(served) => outcome.served.push(served),
            Err(SourceError::Output(e)) => return Err(ListError::Output(e)),
            Err(e) => outcome.failures.push(e),
        }
    }
    Ok(outcome)
}

/// Lists everything `cfg` selects into `out`, returning the writer and what happened.
pub fn list<W: io::Write>(
    cfg: &Config,
    names: &mut Names,
    out: W,
) -> Result<(W, Outcome), ListError> {
    if !cfg.netns.is_empty() {
        return list_netns(cfg, names, out);
    }
    let (mut sources, owners) = prepare(cfg)?;
    let cgroups = cfg
        .internals
        .extended
        .then(|| CgroupPaths::scan(&cfg.proc_root));
    let ctx = Context {
        owners: if cfg.programs { owners.as_ref() } else { None },
        cgroups: cgroups.as_ref(),
    };
    let mut printer = Printer::new(cfg.output, out, RenderOptions::from_config(cfg), names, ctx);
    printer.begin().map_err(ListError::Output)?;
    let outcome = walk(cfg, &mut sources, owners.as_ref(), &mut printer)?;
    let out = printer.finish().map_err(ListError::Output)?;
    Ok((out, outcome))
}

/// `-K`: closes every socket `cfg` selects and prints those it closed in the usual layout.
/// Returns the writer, what happened, and how many sockets were closed. Nothing is listed, let
/// alone closed, when closing cannot work here (see [`crate::kill::Killer::open`]).
pub fn kill<W: io::Write>(
    cfg: &Config,
    names: &mut Names,
    out: W,
) -> Result<(W, Outcome, usize), KillListError> {
    if !cfg.netns.is_empty() {
        return kill_netns(cfg, names, out);
    }
    let killer = crate::kill::Killer::open().map_err(KillListError::Kill)?;
    let (mut sources, owners) = prepare(cfg).map_err(KillListError::List)?;
    let ctx = Context {
        owners: if cfg.programs { owners.as_ref() } else { None },
        cgroups: None,
    };
    let mut printer = Printer::new(cfg.output, out, RenderOptions::from_config(cfg), names, ctx);
    printer
        .begin()
        .map_err(|e| KillListError::List(ListError::Output(e)))?;
    let mut closing = crate::kill::Closing {
        killer,
        inner: &mut printer,
        closed: 0,
        error: None,
    };
    let walked = walk(cfg, &mut sources, owners.as_ref(), &mut closing);
    let (closed, error) = (closing.closed, closing.error.take());
    // What was closed is shown even when closing stopped part way.
    let out = printer
        .finish()
        .map_err(|e| KillListError::List(ListError::Output(e)))?;
    if let Some(e) = error {
        return Err(KillListError::Kill(e));
    }
    let outcome = walked.map_err(KillListError::List)?;
    Ok((out, outcome, closed))
}

/// `-K` without output, for the library: closes every socket `cfg` selects and collects
/// those it closed (with -N, each with its namespace). Stops at the first refusal, and before
/// anything is closed when closing cannot work here.
pub fn kill_snapshot(cfg: &Config) -> Result<Snapshot, KillListError> {
    if !cfg.netns.is_empty() {
        let (g, mut killers) = plan_kill_netns(cfg)?;
        let mut got = Collected::default();
        close_in_namespaces(cfg, &g, &mut killers, &mut got)?;
        return Ok(Snapshot {
            sockets: got.sockets,
            owners: g.owners,
            outcome: g.outcome,
            netns: got.netns,
            netns_of: got.netns_of,
        });
    }
    let killer = crate::kill::Killer::open().map_err(KillListError::Kill)?;
    let (mut sources, owners) = prepare(cfg).map_err(KillListError::List)?;
    let mut sockets = Vec::new();
    let mut closing = crate::kill::Closing {
        killer,
        inner: &mut sockets,
        closed: 0,
        error: None,
    };
    let walked = walk(cfg, &mut sources, owners.as_ref(), &mut closing);
    if let Some(e) = closing.error.take() {
        return Err(KillListError::Kill(e));
    }
    let outcome = walked.map_err(KillListError::List)?;
    Ok(Snapshot {
        sockets,
        owners,
        outcome,
        netns: Vec::new(),
        netns_of: Vec::new(),
    })
}

/// -K with -N, up to the closing: CAP_NET_ADMIN and the kernel's support checked first (here,
/// so nothing is listed, let alone closed, without them), then every namespace dumped by a
/// thread inside it, which also opens the netlink socket that namespace's sockets are closed
/// over. A namespace where that socket cannot be had stops the run before anything is closed;
/// one that cannot be entered is skipped, as a listing skips it.
fn plan_kill_netns(cfg: &Config) -> Result<(Gathered, Vec<crate::kill::Killer>), KillListError> {
    drop(crate::kill::Killer::open().map_err(KillListError::Kill)?);
    let mut g = gather_with(cfg, Gather::Kill).map_err(KillListError::List)?;
    let killers = std::mem::take(&mut g.killers)
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .map_err(KillListError::Kill)?;
    Ok((g, killers))
}

/// Closes, in each namespace over its own netlink socket, the sockets that pass the filter, and
/// gives `visitor` those closed: within each section (inet, unix) the namespaces in discovery
/// order, as a listing with -N orders them. Returns how many were closed; the first refusal
/// stops it.
fn close_in_namespaces(
    cfg: &Config,
    g: &Gathered,
    killers: &mut [crate::kill::Killer],
    visitor: &mut dyn Visitor,
) -> Result<usize, KillListError> {
    let output = |e| KillListError::List(ListError::Output(e));
    let mut closed = 0;
    let mut sections: Vec<Section> = cfg.tables.iter().map(|&t| section_of(t)).collect();
    sections.dedup();
    for section in sections {
        visitor.section(section).map_err(output)?;
        for ((ns, sockets), killer) in g.namespaces.iter().zip(killers.iter_mut()) {
            visitor.netns(ns).map_err(output)?;
            for s in sockets {
                if section_of(s.table()) != section || !passes(cfg, g.owners.as_ref(), s) {
                    continue;
                }
                match killer.close(s).map_err(KillListError::Kill)? {
                    crate::kill::Closed::Yes => {
                        closed += 1;
                        visitor.socket(s, g.owners.as_ref()).map_err(output)?;
                    }
                    crate::kill::Closed::No => {}
                }
            }
        }
    }
    Ok(closed)
}

/// `kill` with -N: the Netns column (or `"netns"` object) on each socket closed.
fn kill_netns<W: io::Write>(
    cfg: &Config,
    names: &mut Names,
    out: W,
) -> Result<(W, Outcome, usize), KillListError> {
    let (g, mut killers) = plan_kill_netns(cfg)?;
    let ctx = Context {
        owners: if cfg.programs {
            g.owners.as_ref()
        } else {
            None
        },
        cgroups: None,
    };
    let mut printer = Printer::new(cfg.output, out, RenderOptions::from_config(cfg), names, ctx);
    printer
        .begin()
        .map_err(|e| KillListError::List(ListError::Output(e)))?;
    let closed = close_in_namespaces(cfg, &g, &mut killers, &mut printer);
    // What was closed is shown even when closing stopped part way.
    let out = printer
        .finish()
        .map_err(|e| KillListError::List(ListError::Output(e)))?;
    let closed = closed?;
    Ok((out, g.outcome, closed))
}

/// Collects sockets with the namespace each was announced in.
#[derive(Default)]
struct Collected {
    sockets: Vec<Socket>,
    netns: Vec<Netns>,
    netns_of: Vec<u32>,
    current: u32,
}

impl Visitor for Collected {
    fn netns(&mut self, netns: &Netns) -> io::Result<()> {
        self.current = match self.netns.iter().position(|n| n.inode == netns.inode) {
            Some(i) => i as u32,
            None => {
                self.netns.push(netns.clone());
                (self.netns.len() - 1) as u32
            }
        };
        Ok(())
    }

    fn socket(&mut self, s: &Socket, _owners: Option<&OwnerMap>) -> io::Result<()> {
        self.sockets.push(s.clone());
        self.netns_of.push(self.current);
        Ok(())
    }
}

/// Why `-K` stopped.
#[derive(Debug)]
pub enum KillListError {
    /// Listing failed.
    List(ListError),
    /// Closing was refused or failed.
    Kill(crate::kill::KillError),
}

impl std::fmt::Display for KillListError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KillListError::List(e) => e.fmt(f),
            KillListError::Kill(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for KillListError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            KillListError::List(e) => e.source(),
            KillListError::Kill(e) => e.source(),
        }
    }
}

/// Every selected socket, collected: for callers that want data rather than output.
pub struct Snapshot {
    pub sockets: Vec<Socket>,
    /// Present when owners were needed (`-p`, `--pid`, `--process`).
    pub owners: Option<OwnerMap>,
    pub outcome: Outcome,
    /// With -N: the namespaces listed, and for each socket the index of its namespace there.
    /// Both empty without -N.
    pub netns: Vec<Netns>,
    pub netns_of: Vec<u32>,
}

impl Snapshot {
    /// The namespace socket `i` was listed in (`None` without -N).
    pub fn netns_of(&self, i: usize) -> Option<&Netns> {
        self.netns.get(*self.netns_of.get(i)? as usize)
    }
}

/// Collects everything `cfg` selects.
pub fn snapshot(cfg: &Config) -> Result<Snapshot, ListError> {
    if !cfg.netns.is_empty() {
        let g = gather(cfg)?;
        let mut sockets = Vec::new();
        let mut netns_of = Vec::new();
        let mut namespaces = Vec::new();
        for (i, (ns, socks)) in g.namespaces.into_iter().enumerate() {
            for s in socks {
                if passes(cfg, g.owners.as_ref(), &s) {
                    sockets.push(s);
                    netns_of.push(i as u32);
                }
            }
            namespaces.push(ns);
        }
        return Ok(Snapshot {
            sockets,
            owners: g.owners,
            outcome: g.outcome,
            netns: namespaces,
            netns_of,
        });
    }
    let (mut sources, owners) = prepare(cfg)?;
    let mut sockets = Vec::new();
    let outcome = walk(cfg, &mut sources, owners.as_ref(), &mut sockets)?;
    Ok(Snapshot {
        sockets,
        owners,
        outcome,
        netns: Vec::new(),
        netns_of: Vec::new(),
    })
}

/// Whether `s` passes the user's filter (the kernel already applied states and bytecode).
fn passes(cfg: &Config, owners: Option<&OwnerMap>, s: &Socket) -> bool {
    if cfg.filter.is_empty() {
        return true;
    }
    match owners {
        Some(map) => cfg.filter.matches(s, map.owners(s.inode)),
        None => cfg.filter.matches(s, std::iter::empty()),
    }
}

/// Every namespace's sockets (all tables, kernel-side filters applied, in table order), with
/// the owners of all of them.
struct Gathered {
    namespaces: Vec<(Netns, Vec<Socket>)>,
    /// For --metrics: each listed namespace's kernel counters, read inside it (in the order
    /// of `namespaces`); empty in other modes.
    kernel: Vec<Result<crate::stats::Stats, crate::stats::StatsError>>,
    /// For -K: each listed namespace's SOCK_DESTROY socket, opened by the thread inside it (in
    /// the order of `namespaces`); empty in other modes.
    killers: Vec<Result<crate::kill::Killer, crate::kill::KillError>>,
    owners: Option<OwnerMap>,
    outcome: Outcome,
}

/// One namespace's tables, read by a thread inside it.
#[derive(Default)]
struct Dump {
    sockets: Vec<Socket>,
    served: Vec<Served>,
    failures: Vec<SourceError>,
    kernel: Option<Result<crate::stats::Stats, crate::stats::StatsError>>,
    killer: Option<Result<crate::kill::Killer, crate::kill::KillError>>,
}

/// One namespace's work, on a thread inside it: its tables, its counters for --metrics, and
/// with `kill` the netlink socket its sockets are closed over (a sock_diag socket speaks to the
/// namespace it was created in, whichever thread uses it later).
fn dump_tables(cfg: &Config, entered: bool, kill: bool, held: Option<HeldTcp<'_>>) -> Dump {
    let mut sources = Sources::new(cfg.source, cfg.proc_root.clone());
    if entered {
        sources = sources.in_entered_netns();
    }
    let mut dump = Dump {
        // Opened first: where closing cannot work, the run stops before anything is closed.
        killer: kill.then(crate::kill::Killer::open),
        ..Dump::default()
    };
    let mut not_held = None;
    let (mut tcp, mut tcp6, refused) = match held.map(|h| h.tables(cfg)) {
        Some(Ok((tcp, tcp6))) => (Some(tcp), Some(tcp6), None),
        not => {
            not_held = not.and_then(Result::err);
            match dump_tcp_both(cfg, &mut sources) {
                TcpBoth::Dumped { tcp, tcp6 } => (Some(tcp), Some(tcp6), None),
                TcpBoth::Refused(why) => (None, None, Some(why)),
                TcpBoth::NotAsked => (None, None, None),
            }
        }
    };
    for &table in &cfg.tables {
        if table == Table::Unix && !cfg.filter.may_match_unix() {
            continue;
        }
        let together = match table {
            TCP4 => tcp.take(),
            TCP6 => tcp6.take(),
            _ => None,
        };
        if let Some((sockets, mut served)) = together {
            dump.sockets.extend(sockets);
            if let Some(why) = &not_held {
                served.note = Some(not_held_note(served.note.take(), why));
            }
            dump.served.push(served);
            continue;
        }
        let query = query_for(cfg, table);
        let sockets = &mut dump.sockets;
        let mut sink = |s: &Socket| {
            sockets.push(s.clone());
            Ok(())
        };
        match sources.list(table, &query, &mut sink) {
            Ok(mut served) => {
                if matches!(table, TCP4 | TCP6) {
                    if let Some(why) = &refused {
                        served.note = Some(format!(
                            "one TCPDIAG_GETSOCK request for tcp and tcp6 failed, so asked per \
table: {why}"
                        ));
                    }
                    if let Some(why) = &not_held {
                        served.note = Some(not_held_note(served.note.take(), why));
                    }
                }
                dump.served.push(served)
            }
            Err(e) => dump.failures.push(e),
        }
    }
    if matches!(cfg.mode, crate::config::Mode::Metrics(_)) {
        // The counters are per namespace too: read them from inside it.
        dump.kernel = Some(if entered {
            crate::stats::load(&cfg.proc_root.join("thread-self"))
        } else {
            crate::stats::load(&cfg.proc_root)
        });
    }
    dump
}

const TCP4: Table = Table::Inet(crate::model::InetProto::Tcp, crate::model::Family::V4);
const TCP6: Table = Table::Inet(crate::model::InetProto::Tcp, crate::model::Family::V6);

/// -N: where one namespace's TCP tables may come from the sockets its processes hold
/// ([`crate::source::owned`]) instead of a dump of the host's whole TCP hash.
#[derive(Clone, Copy)]
struct HeldTcp<'a> {
    /// The namespace's inode.
    netns: u64,
    scanned: &'a Scanned,
}

/// The owner scan's TCP records, handed from the scan thread to the namespace workers that
/// wait for them.
#[derive(Default)]
struct Scanned {
    /// `None` inside: the scan did not run the iterator (or did not run).
    records: std::sync::OnceLock<Option<crate::procmap::OwnedTcp>>,
    lock: std::sync::Mutex<()>,
    done: std::sync::Condvar,
}

impl Scanned {
    /// Hands over the records (the first call counts) and wakes every waiter.
    fn set(&self, records: Option<crate::procmap::OwnedTcp>) {
        let _ = self.records.set(records);
        let _held = self
            .lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.done.notify_all();
    }

    /// Waits for [`Scanned::set`].
    fn wait(&self) -> Option<&crate::procmap::OwnedTcp> {
        let mut held = self
            .lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while self.records.get().is_none() {
            held = self
                .done
                .wait(held)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        drop(held);
        self.records.get().and_then(Option::as_ref)
    }
}

/// Both TCP tables of a namespace, each with how it was served.
type TcpTables = ((Vec<Socket>, Served), (Vec<Socket>, Served));

impl HeldTcp<'_> {
    /// Both TCP tables from the held sockets, on the thread inside the namespace, when its
    /// counters show no other TCP socket; otherwise why not (the caller dumps them).
    fn tables(self, cfg: &Config) -> Result<TcpTables, String> {
        use crate::source::owned::{Completeness, TcpCounts};
        let net = cfg.proc_root.join("thread-self").join("net");
        let counts = || TcpCounts::read(&net).map_err(|e| e.to_string());
        let before = counts()?;
        if before.time_wait > 0 {
            // Known without waiting for the scan: dump now, alongside it.
            return Err("TIME_WAIT sockets have no owner".into());
        }
        let Some(owned) = self.scanned.wait() else {
            return Err("the owner scan did not read TCP sockets".into());
        };
        let records = owned.in_netns(self.netns);
        if let Completeness::Incomplete(why) = Completeness::check(before, counts()?, records) {
            return Err(why);
        }
        let (mut v4, mut v6) = (Vec::new(), Vec::new());
        for s in records.iter().filter_map(crate::source::owned::socket) {
            let (table, list) = match s.inet().map(|i| i.family) {
                Some(crate::model::Family::V6) => (TCP6, &mut v6),
                _ => (TCP4, &mut v4),
            };
            if cfg.state_mask(table) & s.state.mask_bit() != 0 {
                list.push(s);
            }
        }
        let by = crate::source::SourceKind::Descriptors;
        Ok(((v4, Served::new(TCP4, by)), (v6, Served::new(TCP6, by))))
    }
}

/// -v's note on a TCP table that was dumped although held sockets were looked at.
fn not_held_note(note: Option<String>, why: &str) -> String {
    match note {
        Some(n) => format!("{n}; not from the sockets' descriptors: {why}"),
        None => format!("not from the sockets' descriptors: {why}"),
    }
}

/// -N: whether held TCP sockets may stand in for TCP dumps ([`HeldTcp`]): the owner scan runs
/// anyway and may use the BPF iterator, and nothing is asked that only a dump gives (timers,
/// tcp_info and the other extensions, marks and cgroup ids).
fn held_tcp_may_serve(cfg: &Config) -> bool {
    cfg.needs_owners()
        && cfg.owner_scan != crate::procmap::ScanChoice::Proc
        && cfg.source != SourceChoice::Proc
        && cfg.tables.iter().any(|&t| t == TCP4 || t == TCP6)
        && !cfg.timers
        && !cfg.internals.any()
        && !cfg.filter.needs_labels()
}

/// What [`dump_tcp_both`] did.
enum TcpBoth {
    /// Both TCP tables, each with its sockets (in the kernel's order) and how it was served.
    Dumped {
        tcp: (Vec<Socket>, Served),
        tcp6: (Vec<Socket>, Served),
    },
    /// The kernel refused the request, for this reason: ask per table.
    Refused(String),
    /// Not tried (the TCP tables are not both selected, or /proc is chosen).
    NotAsked,
}

/// -N: both TCP tables with one request, when both are selected and netlink may serve them.
/// By default every namespace shares the host's TCP hash tables, and each dump walks all of
/// them, skipping other namespaces' sockets: one walk for both families instead of two halves
/// what listing many namespaces costs the kernel. The sockets and how each table was served are
/// the same as per-table dumps give, in the same order (IPv4 then IPv6, each in walk order).
fn dump_tcp_both(cfg: &Config, sources: &mut Sources) -> TcpBoth {
    if cfg.source == SourceChoice::Proc
        || !cfg.tables.contains(&TCP4)
        || !cfg.tables.contains(&TCP6)
    {
        return TcpBoth::NotAsked;
    }
    let query = query_for(cfg, TCP4);
    if query != query_for(cfg, TCP6) {
        return TcpBoth::NotAsked;
    }
    let (mut v4, mut v6) = (Vec::new(), Vec::new());
    let mut sink = |s: &Socket| {
        match s.inet().map(|i| i.family) {
            Some(crate::model::Family::V6) => v6.push(s.clone()),
            _ => v4.push(s.clone()),
        }
        Ok(())
    };
    match sources.list_tcp_both(&query, &mut sink) {
        Ok((mut served, mut served6)) => {
            let note = "one TCPDIAG_GETSOCK request for tcp and tcp6".to_string();
            served.note = Some(note.clone());
            served6.note = Some(note);
            TcpBoth::Dumped {
                tcp: (v4, served),
                tcp6: (v6, served6),
            }
        }
        // What came before the error is dropped: the per-table dumps list it again.
        Err(e) => TcpBoth::Refused(crate::report::chain(&e)),
    }
}

/// -N: finds the namespaces, dumps each from a thread inside it (a few at a time) while the
/// owner scan runs once for all of them — socket inodes are unique host-wide.
fn gather(cfg: &Config) -> Result<Gathered, ListError> {
    gather_with(cfg, Gather::Plain)
}

/// What [`gather_with`] is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Gather {
    /// Sockets as dumps give them (--watch, --events and the library compare whole records).
    Plain,
    /// A listing or a scrape: TCP tables may come from held sockets ([`HeldTcp`]).
    Listing,
    /// -K: also a SOCK_DESTROY socket opened inside each namespace.
    Kill,
}

/// [`gather`], for `purpose`.
fn gather_with(cfg: &Config, purpose: Gather) -> Result<Gathered, ListError> {
    let kill = purpose == Gather::Kill;
    let found = netns::discover_remaining(&cfg.netns, &cfg.proc_root).map_err(ListError::Netns)?;
    let fds: Vec<_> = found.targets.iter().map(|t| t.fd.as_ref()).collect();
    let held = purpose == Gather::Listing && held_tcp_may_serve(cfg);
    let inodes: Vec<u64> = found.targets.iter().map(|t| t.netns.inode).collect();
    // Set by the owner scan when it is done, to its TCP records (or to nothing): namespace
    // workers that may use them wait for it.
    let scanned = Scanned::default();
    let work = |i: usize| {
        let held = held.then(|| HeldTcp {
            netns: found.targets[i].netns.inode,
            scanned: &scanned,
        });
        dump_tables(cfg, fds[i].is_some(), kill, held)
    };
    let scan = || {
        if !held {
            return scan_owners(cfg);
        }
        // Whatever happens, the waiting workers are released.
        struct Release<'a>(&'a Scanned);
        impl Drop for Release<'_> {
            fn drop(&mut self) {
                self.0.set(None);
            }
        }
        let _release = Release(&scanned);
        scan_owners_with_tcp(cfg, &inodes, &mut |owned| scanned.set(owned))
    };
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(2, 4);
    let (dumps, scanned_owners) = std::thread::scope(|s| {
        let scan = cfg
            .needs_owners()
            .then(|| std::thread::Builder::new().spawn_scoped(s, scan));
        if matches!(scan, None | Some(Err(_))) {
            scanned.set(None); // no scan running: nobody is to wait for one
        }
        let dumps = netns::enter::run_each(&fds, threads, work);
        let scanned = match scan {
            None => None,
            Some(Ok(h)) => Some(h.join().unwrap_or_else(|_| {
                Err(ScanError::Proc {
                    root: cfg.proc_root.clone(),
                    source: io::Error::other("the owner scan thread panicked"),
                })
            })),
            Some(Err(_)) => Some(scan_owners(cfg)),
        };
        (dumps, scanned)
    });
    let owners = scanned_owners.transpose().map_err(ListError::Scan)?;
    let mut outcome = Outcome {
        owners_incomplete: owners.as_ref().is_some_and(OwnerMap::incomplete),
        owner_gaps: owners.as_ref().map(|m| m.gaps.clone()).unwrap_or_default(),
        owners_by: owners.as_ref().map(|m| (m.by, m.fallback_reason.clone())),
        // Root may still be refused a few (a sandbox's pid 1): said only to ordinary users,
        // for whom it is the rule.
        netns_unreadable_processes: if rustix::process::geteuid().is_root() {
            0
        } else {
            found.unreadable_processes
        },
        netns_gone: found.gone,
        ..Outcome::default()
    };
    let mut namespaces = Vec::new();
    let mut kernel = Vec::new();
    let mut killers = Vec::new();
    for (target, dump) in found.targets.into_iter().zip(dumps) {
        match dump {
            Ok(d) => {
                let label = crate::escape::escape(&target.netns.label());
                outcome.served.extend(d.served);
                outcome
                    .netns_failures
                    .extend(d.failures.into_iter().map(|e| (label.clone(), e)));
                namespaces.push((target.netns, d.sockets));
                kernel.extend(d.kernel);
                killers.extend(d.killer);
            }
            Err(e) => outcome.netns_skipped.push(netns::Skipped {
                netns: target.netns,
                why: match e {
                    netns::enter::EnterError::Setns(e) | netns::enter::EnterError::Thread(e) => e,
                },
            }),
        }
    }
    Ok(Gathered {
        namespaces,
        kernel,
        killers,
        owners,
        outcome,
    })
}

/// -N for callers that fold sockets as they come (--metrics): every namespace's sockets that
/// pass the filter go through `visitor`, each namespace's after its [`Visitor::netns`] call.
/// Also hands back, in the same order, each namespace's kernel counters (read inside it).
pub fn visit_netns(
    cfg: &Config,
    visitor: &mut dyn Visitor,
) -> Result<
    (
        Outcome,
        Vec<Result<crate::stats::Stats, crate::stats::StatsError>>,
    ),
    ListError,
> {
    let g = gather_with(cfg, Gather::Listing)?;
    for (ns, sockets) in &g.namespaces {
        visitor.netns(ns).map_err(ListError::Output)?;
        for s in sockets {
            if passes(cfg, g.owners.as_ref(), s) {
                visitor
                    .socket(s, g.owners.as_ref())
                    .map_err(ListError::Output)?;
            }
        }
    }
    Ok((g.outcome, g.kernel))
}

/// `list` with -N: a first column naming the namespace; within each section (inet, unix) the
/// namespaces in discovery order, each with its tables in order.
fn list_netns<W: io::Write>(
    cfg: &Config,
    names: &mut Names,
    out: W,
) -> Result<(W, Outcome), ListError> {
    let g = gather_with(cfg, Gather::Listing)?;
    let cgroups = cfg
        .internals
        .extended
        .then(|| CgroupPaths::scan(&cfg.proc_root));
    let ctx = Context {
        owners: if cfg.programs {
            g.owners.as_ref()
        } else {
            None
        },
        cgroups: cgroups.as_ref(),
    };
    let mut printer = Printer::new(cfg.output, out, RenderOptions::from_config(cfg), names, ctx);
    printer.begin().map_err(ListError::Output)?;
    let mut sections: Vec<Section> = cfg.tables.iter().map(|&t| section_of(t)).collect();
    sections.dedup();
    for section in sections {
        Visitor::section(&mut printer, section).map_err(ListError::Output)?;
        for (ns, sockets) in &g.namespaces {
            Visitor::netns(&mut printer, ns).map_err(ListError::Output)?;
            for s in sockets {
                if section_of(s.table()) == section && passes(cfg, g.owners.as_ref(), s) {
                    printer.socket(s).map_err(ListError::Output)?;
                }
            }
        }
    }
    let out = printer.finish().map_err(ListError::Output)?;
    Ok((out, g.outcome))
}
