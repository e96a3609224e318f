//! The `rnetstat` command line as a library entry point: parse the arguments netstat users type,
//! then run the mode they chose, writing output to a caller's writer and messages to a caller's
//! sink.
//!
//! The binary is this plus the policy only a program has: where stderr goes, how an error chain
//! is printed, and exit statuses. Keeping the run here, behind a small type, is what lets the
//! rest of the library stay private.

use std::ffi::OsString;
use std::fmt;
use std::io::{self, Write};

use clap::{CommandFactory, Parser};

use crate::cli::{normalize_args, Args};
use crate::config::{Config, Mode, OutputMode};
use crate::events::EventsError;
use crate::listing::{self, ListError, Outcome};
use crate::names::{Names, DEFAULT_LOOKUP_BUDGET};
use crate::procmap::ScanKind;
use crate::report::{Level, Message, Sink};
use crate::source::SourceKind;
use crate::stats::StatsError;

/// netstat's words, so people and scripts that know them recognise them.
const HIDDEN_OWNERS_HINT: &str =
    "(Not all processes could be identified, non-owned process info\n \
will not be shown, you would have to be root to see it all.)";

/// The same gap seen as root: ptrace access checks refused us some processes' descriptors.
const ROOT_DENIED_HINT: &str =
    "(Not all processes could be identified: the kernel refused access to some processes'\n \
descriptors even to root, because they hold capabilities this process lacks or belong to\n \
another user namespace; their sockets are shown without owners.)";

/// A validated `rnetstat` command line, ready to run.
#[derive(Debug, Clone)]
pub struct Command {
    cfg: Box<Config>,
}

/// What parsing a command line gave.
#[derive(Debug)]
pub enum Parsed {
    /// A command to run.
    Run(Command),
    /// `--help`, `--version` or `--completions SHELL`: this text belongs on standard output, and
    /// nothing runs.
    Print(String),
}

/// A command line that cannot run: an unknown flag, a bad value, a malformed filter.
#[derive(Debug)]
pub struct UsageError {
    text: String,
    from_clap: bool,
}

impl UsageError {
    /// Whether the text is clap's own (it already starts with `error:` and ends with a usage
    /// line), rather than a one-line message of ours.
    pub fn is_formatted(&self) -> bool {
        self.from_clap
    }
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text.trim_end())
    }
}

impl std::error::Error for UsageError {}

/// How a run ended when it did not fail outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Status {
    /// Everything asked for was listed.
    Complete,
    /// Output was produced, but some table could not be listed (see the warnings).
    Incomplete,
}

/// Why a run stopped.
#[derive(Debug)]
pub struct RunError(RunErrorKind);

#[derive(Debug)]
enum RunErrorKind {
    List(ListError),
    Events(EventsError),
    Stats(StatsError),
    NetTable(crate::nettab::CollectError),
    Kill(crate::kill::KillError),
    Summary(crate::summary::SummaryError),
    Metrics(crate::metrics::ServeError),
    Output(io::Error),
}

impl RunError {
    /// Whether the run stopped because the reader of its output went away (`rnetstat | head`):
    /// how a pipeline says it has enough, not a failure of rnetstat's.
    pub fn is_broken_pipe(&self) -> bool {
        let mut e: Option<&(dyn std::error::Error + 'static)> = Some(self);
        while let Some(err) = e {
            if err
                .downcast_ref::<io::Error>()
                .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
            {
                return true;
            }
            e = err.source();
        }
        false
    }
}

impl RunError {
    /// Whether the run stopped because SIGINT/SIGTERM came while its output was blocked (a
    /// reader that does not read; see [`crate::StopOnSignal`]): it ends as any stop does.
    pub fn is_stopped(&self) -> bool {
        let mut e: Option<&(dyn std::error::Error + 'static)> = Some(self);
        while let Some(err) = e {
            if err
                .downcast_ref::<io::Error>()
                .is_some_and(crate::signal::is_stop)
            {
                return true;
            }
            e = err.source();
        }
        false
    }
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Transparent over the step that failed: each of those says its own step.
        match &self.0 {
            RunErrorKind::List(e) => e.fmt(f),
            RunErrorKind::Events(e) => e.fmt(f),
            RunErrorKind::Stats(e) => e.fmt(f),
            RunErrorKind::NetTable(e) => e.fmt(f),
            RunErrorKind::Kill(e) => e.fmt(f),
            RunErrorKind::Summary(e) => e.fmt(f),
            RunErrorKind::Metrics(e) => e.fmt(f),
            RunErrorKind::Output(_) => f.write_str("cannot write output"),
        }
    }
}

impl std::error::Error for RunError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0 {
            RunErrorKind::List(e) => e.source(),
            RunErrorKind::Events(e) => e.source(),
            RunErrorKind::Stats(e) => e.source(),
            RunErrorKind::NetTable(e) => e.source(),
            RunErrorKind::Kill(e) => e.source(),
            RunErrorKind::Summary(e) => e.source(),
            RunErrorKind::Metrics(e) => e.source(),
            RunErrorKind::Output(e) => Some(e),
        }
    }
}

impl From<ListError> for RunError {
    fn from(e: ListError) -> RunError {
        RunError(RunErrorKind::List(e))
    }
}

impl From<EventsError> for RunError {
    fn from(e: EventsError) -> RunError {
        RunError(RunErrorKind::Events(e))
    }
}

impl From<StatsError> for RunError {
    fn from(e: StatsError) -> RunError {
        RunError(RunErrorKind::Stats(e))
    }
}

impl From<crate::nettab::CollectError> for RunError {
    fn from(e: crate::nettab::CollectError) -> RunError {
        RunError(RunErrorKind::NetTable(e))
    }
}

impl From<listing::KillListError> for RunError {
    fn from(e: listing::KillListError) -> RunError {
        match e {
            listing::KillListError::List(e) => RunError(RunErrorKind::List(e)),
            listing::KillListError::Kill(e) => RunError(RunErrorKind::Kill(e)),
        }
    }
}

impl From<crate::summary::SummaryError> for RunError {
    fn from(e: crate::summary::SummaryError) -> RunError {
        RunError(RunErrorKind::Summary(e))
    }
}

impl From<crate::metrics::ServeError> for RunError {
    fn from(e: crate::metrics::ServeError) -> RunError {
        RunError(RunErrorKind::Metrics(e))
    }
}

impl From<io::Error> for RunError {
    fn from(e: io::Error) -> RunError {
        RunError(RunErrorKind::Output(e))
    }
}

impl Command {
    /// Parses a whole command line, program name first (as `std::env::args_os()` gives it),
    /// with netstat's habits (`-tanc`, `-c` without a value) accepted.
    pub fn parse<I, T>(args: I) -> Result<Parsed, UsageError>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString>,
    {
        let args = match Args::try_parse_from(normalize_args(args.into_iter().map(Into::into))) {
            Ok(a) => a,
            Err(e) if e.use_stderr() => {
                return Err(UsageError {
                    text: e.render().to_string(),
                    from_clap: true,
                })
            }
            // --help, --version
            Err(e) => return Ok(Parsed::Print(e.render().to_string())),
        };
        if let Some(shell) = args.completions {
            let script = crate::completions::script(shell);
            return Ok(Parsed::Print(String::from_utf8_lossy(&script).into_owned()));
        }
        match Config::from_args(&args) {
            Ok(cfg) => Ok(Parsed::Run(Command { cfg: Box::new(cfg) })),
            Err(e) => Err(UsageError {
                text: e.to_string(),
                from_clap: false,
            }),
        }
    }

    /// The clap definition of the command line, for generating man pages and completions.
    pub fn definition() -> clap::Command {
        Args::command()
    }

    /// Runs the chosen mode until it is done, or, for the modes that follow the system (`-c`,
    /// `--watch`, `--events`, `--metrics --listen`), until SIGINT or SIGTERM (handlers are
    /// installed here).
    ///
    /// Output goes to `out`, unbuffered by this function: give it a buffered writer. Warnings,
    /// hints and `-v` notes go to `messages`.
    pub fn run<W: Write>(&self, out: W, messages: Sink<'_>) -> Result<Status, RunError> {
        let _ = crate::signal::install(); // without handlers, a signal ends the run at once
        crate::procmap::raise_descriptor_limit();
        let cfg: &Config = &self.cfg;
        for n in cfg.filter.notices() {
            messages(Message::warning(n.as_str()));
        }
        let mut names = Names::new(cfg.numeric, DEFAULT_LOOKUP_BUDGET);
        let mut out = out;
        let status = match cfg.mode {
            Mode::List => list(cfg, &mut names, out, messages)?,
            Mode::Watch(interval) => {
                crate::watch::run(cfg, interval, &mut names, out, messages)?;
                Status::Complete
            }
            Mode::Events => {
                crate::events::run(cfg, &mut names, out, messages)?;
                Status::Complete
            }
            Mode::Statistics => {
                let stats = crate::stats::load(&cfg.proc_root)?;
                match cfg.output {
                    OutputMode::Table => {
                        crate::stats::render(&mut out, &stats, &cfg.stats_selection)?
                    }
                    OutputMode::Json | OutputMode::JsonLines => {
                        crate::stats::render_json(&mut out, &stats, &cfg.stats_selection)?
                    }
                }
                out.flush()?;
                Status::Complete
            }
            Mode::NetTable(table) => crate::nettab::run(cfg, table, &mut names, out, messages)?,
            Mode::Kill => {
                let (mut w, outcome, _closed) = listing::kill(cfg, &mut names, out)?;
                w.flush()?;
                let mut hinted = false;
                report(cfg, &outcome, &mut hinted, messages)
            }
            Mode::Summary => {
                let counters = if cfg.netns.is_empty() {
                    crate::summary::load(&cfg.proc_root)?
                } else {
                    let (counters, hint) =
                        crate::summary::load_namespaces(&cfg.netns, &cfg.proc_root)?;
                    if let Some(hint) = hint {
                        messages(Message::warning(hint));
                    }
                    counters
                };
                let summary = crate::summary::Summary::from_counters(&counters);
                match cfg.output {
                    OutputMode::Table => crate::summary::render(&mut out, &summary)?,
                    OutputMode::Json | OutputMode::JsonLines => {
                        crate::summary::render_json(&mut out, &summary)?
                    }
                }
                out.flush()?;
                Status::Complete
            }
            Mode::Metrics(None) => {
                let outcome = crate::metrics::print(cfg, &mut out)?;
                out.flush()?;
                report(cfg, &outcome, &mut true, messages)
            }
            Mode::Metrics(Some(addr)) => {
                crate::metrics::serve(cfg, addr, |bound| {
                    messages(Message::info(format!(
                        "serving metrics on http://{bound}/metrics"
                    )));
                })?;
                Status::Complete
            }
        };
        if names.lookups_timed_out {
            messages(Message::warning(
                "host name lookups ran out of time; the rest are shown as numbers (use -n)",
            ));
        }
        Ok(status)
    }
}

/// The listing, once or every interval with -c.
fn list<W: Write>(
    cfg: &Config,
    names: &mut Names,
    mut out: W,
    messages: Sink<'_>,
) -> Result<Status, RunError> {
    let mut hinted = false;
    loop {
        let (w, outcome) = listing::list(cfg, names, out)?;
        out = w;
        out.flush()?;
        let status = report(cfg, &outcome, &mut hinted, messages);
        match cfg.continuous {
            Some(interval) if crate::signal::sleep(interval) => {}
            _ => return Ok(status),
        }
    }
}

/// Tells `messages` what a listing did besides its output.
fn report(cfg: &Config, outcome: &Outcome, hinted: &mut bool, messages: Sink<'_>) -> Status {
    for s in &outcome.served {
        for skipped in &s.skipped {
            messages(Message::warning(format!(
                "skipped a record that could not be read: {skipped}"
            )));
        }
        if cfg.verbose {
            let by = match s.by {
                SourceKind::Netlink => "netlink sock_diag".to_string(),
                SourceKind::Descriptors => {
                    "the sockets' descriptors (BPF task_file iterator)".into()
                }
                SourceKind::Proc => {
                    format!("{}/net/{}", cfg.proc_root.display(), s.table.proc_file())
                }
            };
            let note = s
                .note
                .as_ref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default();
            messages(Message::info(match &s.fallback_reason {
                Some(why) => format!("{}: {by} (fallback: {why}){note}", s.table),
                None => format!("{}: {by}{note}", s.table),
            }));
            if s.interrupted {
                messages(Message::info(format!(
                    "{}: the kernel says the table changed during the dump",
                    s.table
                )));
            }
        }
    }
    if cfg.verbose {
        if let Some((by, why)) = &outcome.owners_by {
            let by = match by {
                ScanKind::Bpf => "BPF task_file iterator".to_string(),
                ScanKind::Proc => format!("{}/*/fd", cfg.proc_root.display()),
            };
            messages(Message::info(match why {
                Some(why) => format!("owners: {by} (iterator not used: {why})"),
                None => format!("owners: {by}"),
            }));
        }
    }
    for f in &outcome.failures {
        messages(Message::warning(crate::report::chain(f)));
    }
    for (netns, f) in &outcome.netns_failures {
        messages(Message::warning(format!(
            "network namespace {netns}: {}",
            crate::report::chain(f)
        )));
    }
    if let Some(hint) = outcome.netns_hint().filter(|_| !*hinted) {
        messages(Message::warning(hint));
    }
    let gaps = &outcome.owner_gaps;
    let owner_filter = cfg.filter.needs_owners();
    if gaps.any() && (cfg.programs || owner_filter) && !*hinted {
        *hinted = true;
        if let Some(failure) = gaps.failure(&cfg.proc_root) {
            messages(Message::warning(failure));
        }
        if gaps.denied > 0 && cfg.output == OutputMode::Table {
            // As root, "you would have to be root" would be wrong: the kernel's ptrace check
            // refused (a process with capabilities we lack, another user namespace, an LSM).
            let hint = if rustix::process::geteuid().is_root() {
                ROOT_DENIED_HINT
            } else {
                HIDDEN_OWNERS_HINT
            };
            messages(Message::new(Level::Hint, hint));
        }
    }
    // With -c, each hint is said once, in the first round.
    if cfg.continuous.is_some() {
        *hinted |= outcome.netns_hint().is_some();
    }
    // An owner filter's answer is only as good as the scan: a scan that failed (rather than
    // being refused permission, which the hint covers) makes the listing incomplete.
    if outcome.failures.is_empty()
        && outcome.netns_failures.is_empty()
        && !(owner_filter && gaps.failed())
    {
        Status::Complete
    } else {
        Status::Incomplete
    }
}
