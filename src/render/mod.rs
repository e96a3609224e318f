//! Turning sockets into output. Renderers are generic over `io::Write`, never read /proc, and
//! write each socket as it arrives: nothing waits for the whole listing. Everything gathered
//! before rendering (owners, cgroup paths) comes in a [`Context`]; the only lookups made while
//! rendering are names through [`Names`] (cached /etc/services, /etc/passwd and the bounded
//! reverse-DNS budget), and none with `-n`.

pub mod json;
pub mod nettab;
pub mod table;
#[cfg(test)]
mod table_tests;
pub(crate) mod text;

use std::io;

use crate::cgroup::CgroupPaths;
use crate::config::{Config, Internals, OutputMode, ShowMode};
use crate::model::Socket;
use crate::names::Names;
use crate::procmap::OwnerMap;

/// The two sections of a listing, in netstat's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Inet,
    Unix,
}

/// What the renderers need besides the socket itself.
pub struct RenderOptions {
    pub show: ShowMode,
    pub programs: bool,
    pub extend: bool,
    pub timers: bool,
    pub internals: Internals,
    /// Section headers and column titles (the table's; off with -H).
    pub headers: bool,
    /// -N: a Netns column (table) or `netns` key (JSON).
    pub netns: bool,
}

/// Data gathered before rendering that rows are looked up in.
#[derive(Clone, Copy, Default)]
pub struct Context<'a> {
    /// Owners, when -p shows them.
    pub owners: Option<&'a OwnerMap>,
    /// cgroup paths, when --extended shows them.
    pub cgroups: Option<&'a CgroupPaths>,
}

impl RenderOptions {
    pub fn from_config(c: &Config) -> RenderOptions {
        RenderOptions {
            show: c.show,
            programs: c.programs,
            extend: c.extend,
            timers: c.timers,
            internals: c.internals,
            headers: c.headers,
            netns: !c.netns.is_empty(),
        }
    }
}

/// Writes one event line (`--watch`, `--events`) with a printer made for it: each line may need
/// its own owner map (a GONE socket's owners come from an earlier listing). Hands `out` back.
pub fn event_line<W: io::Write>(
    cfg: &Config,
    names: &mut Names,
    ctx: Context<'_>,
    out: W,
    ev: &crate::model::Event<'_>,
) -> io::Result<W> {
    let mut printer = Printer::new(cfg.output, out, RenderOptions::from_config(cfg), names, ctx);
    printer.event(ev)?;
    printer.into_inner()
}

/// One renderer per output mode.
pub enum Printer<'a, W: io::Write> {
    Table(table::TableWriter<'a, W>),
    Json(json::JsonWriter<'a, W>),
}

impl<'a, W: io::Write> Printer<'a, W> {
    pub fn new(
        mode: OutputMode,
        out: W,
        opts: RenderOptions,
        names: &'a mut Names,
        ctx: Context<'a>,
    ) -> Printer<'a, W> {
        match mode {
            OutputMode::Table => Printer::Table(table::TableWriter::new(out, opts, names, ctx)),
            OutputMode::Json => Printer::Json(json::JsonWriter::new(out, opts, names, ctx)),
            OutputMode::JsonLines => Printer::Json(json::JsonWriter::lines(out, opts, names, ctx)),
        }
    }

    pub fn begin(&mut self) -> io::Result<()> {
        match self {
            Printer::Table(_) => Ok(()),
            Printer::Json(j) => j.begin(),
        }
    }

    pub fn section(&mut self, section: Section) -> io::Result<()> {
        match self {
            Printer::Table(t) => t.section(section),
            Printer::Json(_) => Ok(()),
        }
    }

    /// With -N: the namespace of the sockets that follow.
    pub fn netns(&mut self, netns: &crate::netns::Netns) {
        match self {
            Printer::Table(t) => t.set_netns(netns),
            Printer::Json(j) => j.set_netns(netns),
        }
    }

    pub fn socket(&mut self, s: &Socket) -> io::Result<()> {
        match self {
            Printer::Table(t) => t.socket(s),
            Printer::Json(j) => j.socket(s),
        }
    }

    /// One `--watch` event line.
    pub fn event(&mut self, ev: &crate::model::Event<'_>) -> io::Result<()> {
        match self {
            Printer::Table(t) => t.event(ev),
            Printer::Json(j) => j.event(ev),
        }
    }

    /// Flushes and hands back the writer without ending a listing (for event streams).
    pub fn into_inner(self) -> io::Result<W> {
        match self {
            Printer::Table(t) => t.into_inner(),
            Printer::Json(j) => j.into_inner(),
        }
    }

    /// Ends the listing and flushes, handing back the writer.
    pub fn finish(self) -> io::Result<W> {
        match self {
            Printer::Table(t) => t.finish(),
            Printer::Json(j) => j.finish(),
        }
    }
}
