//! The `rnetstat` binary: [`rnetstat::Command`] plus the policy only a program has — what goes
//! to stderr and how, exit statuses, and ending quietly on a closed pipe.
//!
//! Exit status (the man page's EXIT STATUS says the same):
//! - 0: success, and also when the reader of the output went away (`rnetstat | head`);
//! - 1: a runtime error: some table could not be listed, /proc unreadable, output could not be
//!   written (a full disk, a closed standard output);
//! - 2: a usage error, a malformed filter included.

mod messages;
mod stdout;

use std::io::{self, Write};
use std::process::ExitCode;

use rnetstat::{Command, Parsed, Status};

use messages::Stderr;
use stdout::RawStdout;

const EXIT_RUNTIME: u8 = 1;
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let mut stderr = Stderr::new();
    if !stdout::was_open() {
        stderr.error("cannot write output: standard output is closed");
        return ExitCode::from(EXIT_RUNTIME);
    }
    let command = match Command::parse(std::env::args_os()) {
        Ok(Parsed::Run(c)) => c,
        Ok(Parsed::Print(text)) => return print(&text, &mut stderr),
        Err(e) => {
            if e.is_formatted() {
                stderr.raw(&e.to_string());
            } else {
                stderr.error(&e.to_string());
            }
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let stdout = io::stdout();
    // SIGINT/SIGTERM end the run even while a write blocks (a reader that never reads).
    let out = io::BufWriter::with_capacity(
        64 * 1024,
        rnetstat::StopOnSignal::new(RawStdout::new(stdout.lock())),
    );
    match command.run(out, &mut |m| stderr.message(&m)) {
        Ok(Status::Complete) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(EXIT_RUNTIME),
        Err(e) if e.is_broken_pipe() || e.is_stopped() => ExitCode::SUCCESS,
        Err(e) => {
            stderr.error(&rnetstat::report::chain(&e));
            ExitCode::from(EXIT_RUNTIME)
        }
    }
}

/// `--help` and `--version`: their text must reach standard output, or the run failed.
fn print(text: &str, stderr: &mut Stderr) -> ExitCode {
    let stdout = io::stdout();
    let mut out = RawStdout::new(stdout.lock());
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            stderr.error(&format!(
                "cannot write output: {}",
                rnetstat::report::chain(&e)
            ));
            ExitCode::from(EXIT_RUNTIME)
        }
    }
}
