//! The `rnetstat` binary: arguments → configuration → listing, plus the policy only a binary
//! has: what goes to stderr, exit status, and ending quietly on a closed pipe.
//!
//! Exit status: 0 success, 1 a runtime error (some table could not be listed), 2 a usage error.

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;

use rnetstat::cli::Args;
use rnetstat::config::Config;
use rnetstat::listing::{self, ListError, Outcome};
use rnetstat::names::{Names, DEFAULT_LOOKUP_BUDGET};
use rnetstat::source::SourceKind;

const EXIT_RUNTIME: u8 = 1;
const EXIT_USAGE: u8 = 2;

/// netstat's words, so people and scripts that know them recognise them.
const HIDDEN_OWNERS_HINT: &str =
    "(Not all processes could be identified, non-owned process info\n \
will not be shown, you would have to be root to see it all.)";

fn main() -> ExitCode {
    let args = match Args::try_parse() {
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
    match run(&cfg) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(EXIT_RUNTIME),
        Err(ListError::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rnetstat: {e}");
            ExitCode::from(EXIT_RUNTIME)
        }
    }
}

/// Runs the listing once, or forever with -c. `Ok(false)` when some table failed.
fn run(cfg: &Config) -> Result<bool, ListError> {
    let mut names = Names::new(cfg.numeric, DEFAULT_LOOKUP_BUDGET);
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    let mut hinted = false;
    let mut lookup_note = false;
    loop {
        let (w, outcome) = listing::list(cfg, &mut names, out)?;
        out = w;
        out.flush().map_err(ListError::Output)?;
        let ok = report(cfg, &outcome, &mut hinted);
        if names.lookups_timed_out && !lookup_note {
            lookup_note = true;
            eprintln!("rnetstat: host name lookups ran out of time; the rest are shown as numbers (use -n)");
        }
        match cfg.continuous {
            None => return Ok(ok),
            Some(interval) => std::thread::sleep(interval),
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
                    format!("{}/net/{}", cfg.proc_root.display(), proc_file(s.table))
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
    for f in &outcome.failures {
        let _ = writeln!(err, "rnetstat: {f}");
    }
    if outcome.owners_incomplete && !*hinted && cfg.output == rnetstat::config::OutputMode::Table {
        *hinted = true;
        let _ = writeln!(err, "{HIDDEN_OWNERS_HINT}");
    }
    outcome.failures.is_empty()
}

fn proc_file(t: rnetstat::model::Table) -> &'static str {
    match t {
        rnetstat::model::Table::Inet(p, f) => p.proc_file(f),
        rnetstat::model::Table::Unix => "unix",
    }
}
