//! netstat's other tables: the routing table (-r), the interface table (-i) and multicast group
//! memberships (-g), plus the -M and -Z messages. rtnetlink first, the /proc/net files as the
//! fallback (see [`collect`]); rendered byte for byte as net-tools netstat 2.10 prints them, or
//! as JSON (see [`crate::render::nettab`]). `-c` repeats them.

pub mod collect;
pub mod model;

use std::io::Write;

use crate::command::{RunError, Status};
use crate::config::{Config, OutputMode};
use std::path::Path;

use crate::model::Family;
use crate::names::Names;
use crate::netns::Netns;
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
    /// -H: rows only, without the tables' titles and column headers.
    pub no_headers: bool,
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

/// With -N: each namespace's tables, read by a thread inside it.
#[derive(Debug, Default)]
pub struct PerNamespace {
    /// The namespaces listed, in discovery order, each with its tables (in `collect_table`'s
    /// order).
    pub listed: Vec<(Netns, Vec<Collected>)>,
    /// Namespaces entered whose table could not be read.
    pub failures: Vec<(Netns, CollectError)>,
    /// The namespaces that could not be entered or were gone (only the `netns_*` fields are
    /// set), for [`crate::listing::Outcome::netns_hint`].
    pub outcome: crate::listing::Outcome,
}

/// Collects `table` in every namespace `specs` select: our own without entering anything,
/// every other from a worker thread that entered it ([`crate::netns::enter::run_each`]), so
/// rtnetlink sockets and the SIOCGIF* socket are opened inside it and the /proc fallback reads
/// `<proc_root>/thread-self/net`. `strict`: an argument that names nothing is an error (the
/// library); otherwise it is reported as gone (the command line checked the arguments already).
pub fn collect_namespaces(
    table: Table,
    opts: &Options,
    specs: &[crate::netns::Spec],
    proc_root: &Path,
    strict: bool,
) -> Result<PerNamespace, crate::netns::NetnsError> {
    let found = if strict {
        crate::netns::discover(specs, proc_root)?
    } else {
        crate::netns::discover_remaining(specs, proc_root)?
    };
    let fds: Vec<_> = found.targets.iter().map(|t| t.fd.as_ref()).collect();
    let entered_root = proc_root.join("thread-self");
    let results = crate::netns::enter::run_each(&fds, 2, |i| {
        let root = if fds[i].is_some() {
            entered_root.as_path()
        } else {
            proc_root
        };
        collect_table(table, opts, root)
    });
    let mut per = PerNamespace {
        outcome: crate::listing::Outcome {
            netns_gone: found.gone,
            // As in the listing: said only to ordinary users, for whom it is the rule.
            netns_unreadable_processes: if rustix::process::geteuid().is_root() {
                0
            } else {
                found.unreadable_processes
            },
            ..Default::default()
        },
        ..Default::default()
    };
    for (target, r) in found.targets.into_iter().zip(results) {
        match r {
            Ok(Ok(c)) => per.listed.push((target.netns, c)),
            Ok(Err(e)) => per.failures.push((target.netns, e)),
            Err(e) => per.outcome.netns_skipped.push(crate::netns::Skipped {
                netns: target.netns,
                why: match e {
                    crate::netns::enter::EnterError::Setns(e)
                    | crate::netns::enter::EnterError::Thread(e) => e,
                },
            }),
        }
    }
    Ok(per)
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
        let status = if cfg.netns.is_empty() {
            let collected = collect_table(table, opts, &cfg.proc_root)?;
            tell(cfg, None, &collected, messages);
            match cfg.output {
                OutputMode::Table => {
                    crate::render::nettab::text(&mut out, table, opts, &collected, names, first)?
                }
                OutputMode::Json => crate::render::nettab::json(&mut out, opts, &collected, false)?,
                OutputMode::JsonLines => {
                    crate::render::nettab::json(&mut out, opts, &collected, true)?
                }
            }
            Status::Complete
        } else {
            run_namespaces(cfg, table, names, &mut out, messages, first)?
        };
        out.flush()?;
        first = false;
        match cfg.continuous {
            Some(interval) if crate::signal::sleep(interval) => {}
            _ => return Ok(status),
        }
    }
}

/// One round of -r, -i or -g with -N: every namespace's rows under one header, a Netns column
/// (table) or `netns` key (JSON) naming each row's namespace. A namespace whose table cannot be
/// read is a warning naming it; those that cannot be entered get the listing's one hint (on the
/// first round only, with -c).
fn run_namespaces<W: Write>(
    cfg: &Config,
    table: Table,
    names: &mut Names,
    out: &mut W,
    messages: Sink<'_>,
    first: bool,
) -> Result<Status, RunError> {
    let opts = &cfg.nettab;
    let per = collect_namespaces(table, opts, &cfg.netns, &cfg.proc_root, false)
        .map_err(|e| RunError::from(crate::listing::ListError::Netns(e)))?;
    for (ns, collected) in &per.listed {
        tell(cfg, Some(ns), collected, messages);
    }
    for (ns, e) in &per.failures {
        messages(Message::warning(format!(
            "network namespace {}: {}",
            crate::escape::escape(&ns.label()),
            crate::report::chain(e)
        )));
    }
    if first {
        if let Some(hint) = per.outcome.netns_hint() {
            messages(Message::warning(hint));
        }
    }
    match cfg.output {
        OutputMode::Table => {
            crate::render::nettab::text_netns(out, table, opts, &per.listed, names, first)?
        }
        OutputMode::Json => crate::render::nettab::json_netns(out, opts, &per.listed, false)?,
        OutputMode::JsonLines => crate::render::nettab::json_netns(out, opts, &per.listed, true)?,
    }
    Ok(if per.failures.is_empty() {
        Status::Complete
    } else {
        Status::Incomplete
    })
}

/// -v's word on which source served, and the records that could not be read; with -N, each
/// line names its namespace.
fn tell(cfg: &Config, netns: Option<&Netns>, collected: &[Collected], messages: Sink<'_>) {
    let on = netns
        .map(|n| format!("network namespace {}: ", crate::escape::escape(&n.label())))
        .unwrap_or_default();
    for c in collected {
        if cfg.verbose {
            messages(Message::info(match &c.fallback_reason {
                Some(why) => format!("{on}{}: {} (fallback: {why})", c.what, c.by),
                None => format!("{on}{}: {}", c.what, c.by),
            }));
        }
        for s in &c.skipped {
            messages(Message::warning(format!(
                "{on}skipped a record that could not be read: {s}"
            )));
        }
    }
}
