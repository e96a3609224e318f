//! One listing, start to end: the owner scan (only when -p or an owner filter needs it), each
//! selected table from its source with the kernel-side filters (state mask, bytecode), the
//! user's filter, and each passing socket straight to a [`Visitor`] — a printer, or a collector
//! for callers that want data (`--watch`, `--summary`, the demo).

use std::io;

use crate::cgroup::CgroupPaths;
use crate::config::Config;
use crate::model::{Socket, Table};
use crate::names::Names;
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
}

/// Why a listing stopped early.
#[derive(Debug)]
pub enum ListError {
    /// Writing failed (a closed pipe, a full disk).
    Output(io::Error),
    /// The process scan could not start (e.g. /proc is not mounted).
    Scan(ScanError),
}

impl std::fmt::Display for ListError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ListError::Output(_) => f.write_str("cannot write output"),
            ListError::Scan(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ListError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ListError::Output(e) => Some(e),
            ListError::Scan(e) => std::error::Error::source(e),
        }
    }
}

/// Receives a listing as it is produced.
pub trait Visitor {
    /// A new section (inet, unix) starts.
    fn section(&mut self, _section: Section) -> io::Result<()> {
        Ok(())
    }
    /// A socket that passed every filter.
    fn socket(&mut self, s: &Socket, owners: Option<&OwnerMap>) -> io::Result<()>;
}

impl<W: io::Write> Visitor for Printer<'_, W> {
    fn section(&mut self, section: Section) -> io::Result<()> {
        Printer::section(self, section)
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
        let scan = || OwnerMap::scan(&cfg.proc_root, cfg.owner_scan);
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
}

/// Collects everything `cfg` selects.
pub fn snapshot(cfg: &Config) -> Result<Snapshot, ListError> {
    let (mut sources, owners) = prepare(cfg)?;
    let mut sockets = Vec::new();
    let outcome = walk(cfg, &mut sources, owners.as_ref(), &mut sockets)?;
    Ok(Snapshot {
        sockets,
        owners,
        outcome,
    })
}
