//! One listing, start to end: the owner scan (only with -p), each selected table from its
//! source, each socket straight to the printer. The binary and the demo both go through here.

use std::io;

use crate::config::Config;
use crate::model::{Socket, Table};
use crate::names::Names;
use crate::procmap::OwnerMap;
use crate::render::{Printer, RenderOptions, Section};
use crate::source::{Served, SourceError, Sources};

/// What happened besides the output.
#[derive(Debug, Default)]
pub struct Outcome {
    /// How each table was served.
    pub served: Vec<Served>,
    /// Tables that could not be listed at all.
    pub failures: Vec<SourceError>,
    /// Some processes could not be inspected, so some owners may be missing.
    pub owners_incomplete: bool,
}

/// Why a listing stopped early.
#[derive(Debug)]
pub enum ListError {
    /// Writing failed (a closed pipe, a full disk).
    Output(io::Error),
    /// The process scan could not start (e.g. /proc is not mounted).
    Scan(io::Error),
}

impl std::fmt::Display for ListError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ListError::Output(e) => write!(f, "cannot write output: {e}"),
            ListError::Scan(e) => write!(f, "cannot scan processes under /proc: {e}"),
        }
    }
}

impl std::error::Error for ListError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ListError::Output(e) | ListError::Scan(e) => Some(e),
        }
    }
}

fn section_of(t: Table) -> Section {
    match t {
        Table::Inet(..) => Section::Inet,
        Table::Unix => Section::Unix,
    }
}

/// Lists everything `cfg` selects into `out`, returning the writer and what happened.
pub fn list<W: io::Write>(
    cfg: &Config,
    names: &mut Names,
    out: W,
) -> Result<(W, Outcome), ListError> {
    let owners = if cfg.programs {
        Some(OwnerMap::scan(&cfg.proc_root).map_err(ListError::Scan)?)
    } else {
        None
    };
    let mut outcome = Outcome {
        owners_incomplete: owners.as_ref().is_some_and(OwnerMap::incomplete),
        ..Outcome::default()
    };
    let mut printer = Printer::new(
        cfg.output,
        out,
        RenderOptions::from_config(cfg),
        names,
        owners.as_ref(),
    );
    printer.begin().map_err(ListError::Output)?;
    let mut sources = Sources::new(cfg.source, cfg.proc_root.clone());
    let mut section = None;
    for &table in &cfg.tables {
        if section != Some(section_of(table)) {
            section = Some(section_of(table));
            printer
                .section(section_of(table))
                .map_err(ListError::Output)?;
        }
        let states = cfg.state_mask(table);
        match sources.list(table, states, &mut |s: &Socket| printer.socket(s)) {
            Ok(served) => outcome.served.push(served),
            Err(SourceError::Output(e)) => return Err(ListError::Output(e)),
            Err(e) => outcome.failures.push(e),
        }
    }
    let out = printer.finish().map_err(ListError::Output)?;
    Ok((out, outcome))
}

/// Every selected socket, collected: for callers that want data rather than output (the demo).
pub struct Snapshot {
    pub sockets: Vec<Socket>,
    /// Present when `cfg.programs` was set.
    pub owners: Option<OwnerMap>,
    pub outcome: Outcome,
}

/// Collects everything `cfg` selects.
pub fn snapshot(cfg: &Config) -> Result<Snapshot, ListError> {
    let owners = if cfg.programs {
        Some(OwnerMap::scan(&cfg.proc_root).map_err(ListError::Scan)?)
    } else {
        None
    };
    let mut outcome = Outcome {
        owners_incomplete: owners.as_ref().is_some_and(OwnerMap::incomplete),
        ..Outcome::default()
    };
    let mut sockets = Vec::new();
    let mut sources = Sources::new(cfg.source, cfg.proc_root.clone());
    for &table in &cfg.tables {
        let mut sink = |s: &Socket| {
            sockets.push(s.clone());
            Ok(())
        };
        match sources.list(table, cfg.state_mask(table), &mut sink) {
            Ok(served) => outcome.served.push(served),
            Err(e) => outcome.failures.push(e),
        }
    }
    Ok(Snapshot {
        sockets,
        owners,
        outcome,
    })
}
