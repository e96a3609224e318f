//! The `rnetstat` binary: arguments → configuration → one of the run modes, plus the policy only
//! a binary has: what goes to stderr, exit status, and ending quietly on a closed pipe.
//!
//! Exit status: 0 success, 1 a runtime error (some table could not be listed, /proc unreadable),
//! 2 a usage error (including a malformed filter).

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;

use rnetstat::cli::{normalize_args, Args};
use rnetstat::config::{Config, Mode, OutputMode, ShowMode};
use rnetstat::listing::{self, ListError, Outcome};
use rnetstat::names::{Names, DEFAULT_LOOKUP_BUDGET};
use rnetstat::procmap::ScanKind;
use rnetstat::source::SourceKind;

const EXIT_RUNTIME: u8 = 1;
const EXIT_USAGE: u8 = 2;

/// netstat's words, so people and scripts that know them recognise them.
const HIDDEN_OWNERS_HINT: &str =
    "(Not all processes could be identified, non-owned process info\n \
will not be shown, you would have to be root to see it all.)";

fn main() -> ExitCode {
    let args = match Args::try_parse_from(normalize_args(std::env::args_os())) {
        Ok(a) => a,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let cfg = match Config::from_args(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("rnetstat: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    rnetstat::signal::install();
    match run(&cfg) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(EXIT_RUNTIME),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rnetstat: {e:#}");
            ExitCode::from(EXIT_RUNTIME)
        }
    }
}

/// A closed pipe (`rnetstat | head`) is how a reader says it has enough: not an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
            || matches!(c.downcast_ref::<ListError>(), Some(ListError::Output(io)) if io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Runs the chosen mode. `Ok(false)` when some table failed but output was still produced.
fn run(cfg: &Config) -> anyhow::Result<bool> {
    let mut names = Names::new(cfg.numeric, DEFAULT_LOOKUP_BUDGET);
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(64 * 1024, RawStdout::new(stdout.lock()));
    let ok = match cfg.mode {
        Mode::List => list(cfg, &mut names, out)?,
        Mode::Watch(interval) => {
            rnetstat::watch::run(cfg, interval, &mut names, out)?;
            true
        }
        Mode::Events => {
            rnetstat::events::run(cfg, &mut names, out)?;
            true
        }
        Mode::Statistics => {
            let stats = rnetstat::stats::load(&cfg.proc_root)?;
            match cfg.output {
                OutputMode::Table => {
                    rnetstat::stats::render(&mut out, &stats, &cfg.stats_selection)?
                }
                OutputMode::Json => {
                    rnetstat::stats::render_json(&mut out, &stats, &cfg.stats_selection)?
                }
            }
            out.flush()?;
            true
        }
        Mode::Summary => {
            // Totals count every socket, listening or not.
            let all = Config {
                show: ShowMode::All,
                programs: false,
                ..cfg.clone()
            };
            let snap = listing::snapshot(&all)?;
            let summary = rnetstat::stats::summarize(&snap.sockets);
            match cfg.output {
                OutputMode::Table => rnetstat::stats::render_summary(&mut out, &summary)?,
                OutputMode::Json => rnetstat::stats::render_summary_json(&mut out, &summary)?,
            }
            out.flush()?;
            let mut hinted = false;
            report(cfg, &snap.outcome, &mut hinted)
        }
    };
    if names.lookups_timed_out {
        eprintln!(
            "rnetstat: host name lookups ran out of time; the rest are shown as numbers (use -n)"
        );
    }
    Ok(ok)
}

/// Standard output without std's line buffering: our own 64 KiB buffer already batches writes,
/// and std's `LineWriter` underneath would scan each batch for its last newline and hold back
/// the partial line after it, one extra small write(2) per batch. Written through a duplicate of
/// descriptor 1 when there is one; through the locked handle otherwise. The lock is held either
/// way, so nothing else in the process interleaves.
struct RawStdout<'a> {
    lock: io::StdoutLock<'a>,
    file: Option<std::fs::File>,
}

impl<'a> RawStdout<'a> {
    fn new(lock: io::StdoutLock<'a>) -> RawStdout<'a> {
        use std::os::fd::AsFd;
        let file = lock
            .as_fd()
            .try_clone_to_owned()
            .ok()
            .map(std::fs::File::from);
        RawStdout { lock, file }
    }
}

impl Write for RawStdout<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.file {
            Some(f) => f.write(buf),
            None => self.lock.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.file {
            Some(f) => f.flush(),
            None => self.lock.flush(),
        }
    }
}

/// The listing, once or every interval with -c.
fn list<W: Write>(cfg: &Config, names: &mut Names, mut out: W) -> anyhow::Result<bool> {
    let mut hinted = false;
    loop {
        let (w, outcome) = listing::list(cfg, names, out)?;
        out = w;
        out.flush().context("cannot write output")?;
        let ok = report(cfg, &outcome, &mut hinted);
        match cfg.continuous {
            Some(interval) if rnetstat::signal::sleep(interval) => {}
            _ => return Ok(ok),
        }
    }
}

/// Writes the stderr side of a listing; returns false if a table failed.
fn report(cfg: &Config, outcome: &Outcome, hinted: &mut bool) -> bool {
    let stderr = io::stderr();
    let mut err = stderr.lock();
    for s in &outcome.served {
        for skipped in &s.skipped {
            let _ = writeln!(
                err,
                "rnetstat: skipped a record that could not be read: {skipped}"
            );
        }
        if cfg.verbose {
            let by = match s.by {
                SourceKind::Netlink => "netlink sock_diag".to_string(),
                SourceKind::Proc => {
                    format!("{}/net/{}", cfg.proc_root.display(), s.table.proc_file())
                }
            };
            let _ = match &s.fallback_reason {
                Some(why) => writeln!(err, "rnetstat: {}: {by} (fallback: {why})", s.table),
                None => writeln!(err, "rnetstat: {}: {by}", s.table),
            };
            if s.interrupted {
                let _ = writeln!(
                    err,
                    "rnetstat: {}: the kernel says the table changed during the dump",
                    s.table
                );
            }
        }
    }
    if cfg.verbose {
        if let Some((by, why)) = &outcome.owners_by {
            let by = match by {
                ScanKind::Bpf => "BPF task_file iterator".to_string(),
                ScanKind::Proc => format!("{}/*/fd", cfg.proc_root.display()),
            };
            let _ = match why {
                Some(why) => writeln!(err, "rnetstat: owners: {by} (iterator not used: {why})"),
                None => writeln!(err, "rnetstat: owners: {by}"),
            };
        }
    }
    for f in &outcome.failures {
        let _ = writeln!(err, "rnetstat: {f}");
    }
    if outcome.owners_incomplete && cfg.programs && !*hinted && cfg.output == OutputMode::Table {
        *hinted = true;
        let _ = writeln!(err, "{HIDDEN_OWNERS_HINT}");
    }
    outcome.failures.is_empty()
}
