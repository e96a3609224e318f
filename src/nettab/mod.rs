//! netstat's other tables: the routing table (-r), the interface table (-i) and multicast group
//! memberships (-g), plus the -M and -Z messages. rtnetlink first, the /proc/net files as the
//! fallback (see [`collect`]); rendered byte for byte as net-tools netstat 2.10 prints them, or
//! as JSON (see [`crate::render::nettab`]). `-c` repeats them.

pub mod collect;
pub mod model;

use std::io::Write;

use crate::command::{RunError, Status};
use crate::config::{Config, OutputMode};
use crate::model::Family;
use crate::names::Names;
use crate::report::{Level, Message, Sink};
use crate::source::SourceChoice;

pub use collect::{CollectError, Collected};
pub use model::{Group, Interface, Route4, Route6};

/// Which of netstat's other tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Routes,
    Interfaces,
    Groups,
    /// netstat -M: masqueraded connections (gone from Linux since 2.4).
    Masquerade,
    /// netstat -Z: SELinux contexts.
    Context,
}

/// What -r, -i and -g show, from the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// For -r: the families in the order asked for (empty: IPv4). For -g: which files.
    pub families: Vec<Family>,
    /// -r -C: the routing cache.
    pub cache: bool,
    /// How many -e.
    pub extend: u8,
    /// -a: interfaces that are down too.
    pub all: bool,
    /// -n / --numeric-hosts.
    pub numeric_hosts: bool,
    /// --symbolic: netstat's -N, which makes -r (only) numeric.
    pub symbolic: bool,
    pub source: SourceChoice,
}

impl Options {
    fn route_families(&self) -> Vec<Family> {
        if self.families.is_empty() {
            vec![Family::V4]
        } else {
            self.families.clone()
        }
    }

    fn group_families(&self) -> Vec<Family> {
        if self.families.is_empty() {
            vec![Family::V4, Family::V6]
        } else {
            let mut f = self.families.clone();
            f.sort_by_key(|f| matches!(f, Family::V6));
            f
        }
    }
}

/// One table's rows, whichever it is.
#[derive(Debug, Clone)]
pub enum Rows {
    Routes4(Vec<Route4>),
    Routes6(Vec<Route6>),
    Interfaces(Vec<Interface>),
    Groups(Vec<Group>),
}

/// Collects what `table` shows under `opts`: one `Collected` per family for routes, one for
/// interfaces, one for groups. The library side of `rnetstat -r`, `-i` and `-g`.
pub fn collect_table(
    table: Table,
    opts: &Options,
    proc_root: &std::path::Path,
) -> Result<Vec<Collected>, collect::CollectError> {
    match table {
        Table::Routes => opts
            .route_families()
            .into_iter()
            .map(|f| match f {
                Family::V4 => collect::routes4(opts.source, proc_root, opts.cache),
                Family::V6 => collect::routes6(opts.source, proc_root, opts.cache),
            })
            .collect(),
        Table::Interfaces => Ok(vec![collect::interfaces(opts.source, proc_root)?]),
        Table::Groups => Ok(vec![collect::groups(proc_root, &opts.group_families())?]),
        Table::Masquerade | Table::Context => Ok(Vec::new()),
    }
}

/// netstat's words for -M where the kernel has no ip_masquerade (every kernel since 2.4).
pub const MASQUERADE_MESSAGE: &str = "no support for `ip_masquerade' on this system.";

/// Whether SELinux is enabled (selinuxfs mounted with an enforce file).
fn selinux_enabled() -> bool {
    std::path::Path::new("/sys/fs/selinux/enforce").exists()
}

/// Runs -r, -i, -g, -M or -Z: prints the table (every `cfg.continuous` interval with -c) and
/// tells `messages` which source served, what was skipped, and -M's and -Z's refusals.
/// `Incomplete` for -M and -Z, which fail as netstat's do.
pub fn run<W: Write>(
    cfg: &Config,
    table: Table,
    names: &mut Names,
    mut out: W,
    messages: Sink<'_>,
) -> Result<Status, RunError> {
    match table {
        Table::Masquerade => {
            messages(Message::warning(MASQUERADE_MESSAGE));
            return Ok(Status::Incomplete);
        }
        Table::Context => {
            messages(if selinux_enabled() {
                Message::warning("-Z: SELinux contexts are not shown by rnetstat")
            } else {
                Message::new(Level::Hint, "SELinux is not enabled on this machine.")
            });
            return Ok(Status::Incomplete);
        }
        _ => {}
    }
    let opts = &cfg.nettab;
    let mut first = true;
    loop {
        let collected = collect_table(table, opts, &cfg.proc_root)?;
        for c in &collected {
            if cfg.verbose {
                messages(Message::info(match &c.fallback_reason {
                    Some(why) => format!("{}: {} (fallback: {why})", c.what, c.by),
                    None => format!("{}: {}", c.what, c.by),
                }));
            }
            for s in &c.skipped {
                messages(Message::warning(format!(
                    "skipped a record that could not be read: {s}"
                )));
            }
        }
        match cfg.output {
            OutputMode::Table => {
                crate::render::nettab::text(&mut out, table, opts, &collected, names, first)?
            }
            OutputMode::Json => crate::render::nettab::json(&mut out, opts, &collected, false)?,
            OutputMode::JsonLines => crate::render::nettab::json(&mut out, opts, &collected, true)?,
        }
        out.flush()?;
        first = false;
        match cfg.continuous {
            Some(interval) if crate::signal::sleep(interval) => {}
            _ => return Ok(Status::Complete),
        }
    }
}
