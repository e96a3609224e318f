//! The `rnetstat-demo` binary: parses the command line and runs scenarios from
//! [`rnetstat_demo`]; also the entry point of the demo's hidden helper processes.
//!
//! Exit status: 0 success, 1 a scenario failed, 2 a usage error, 130 interrupted.

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;

use rnetstat_demo::cli::{Command, DemoArgs};
use rnetstat_demo::{self as demo, proc, Interrupted, Scenario, Settings};

fn main() -> ExitCode {
    let args = match DemoArgs::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let mut settings = Settings {
        json: args.json,
        step_delay: std::time::Duration::from_secs_f64(args.step_delay),
        ..Settings::default()
    };
    let scenarios: Vec<Scenario> = match args.command {
        Command::InternalListener { port, reuseport } => {
            return helper(proc::listener_main(port, reuseport))
        }
        Command::InternalForkServer => return helper(proc::fork_server_main()),
        Command::TimeWait { wait } => {
            settings.wait = wait;
            vec![Scenario::TimeWait]
        }
        Command::Reuseaddr => vec![Scenario::Reuseaddr],
        Command::Reuseport(r) => {
            settings.listeners = usize::from(r.listeners);
            settings.clients = usize::from(r.clients);
            vec![Scenario::Reuseport]
        }
        Command::States => vec![Scenario::States],
        Command::Window => vec![Scenario::Window],
        Command::Concurrency(c) => {
            settings.workers = usize::from(c.workers);
            vec![Scenario::Concurrency]
        }
        Command::Udp => vec![Scenario::Udp],
        Command::All {
            reuseport,
            concurrency,
        } => {
            settings.listeners = usize::from(reuseport.listeners);
            settings.clients = usize::from(reuseport.clients);
            settings.workers = usize::from(concurrency.workers);
            Scenario::ALL.to_vec()
        }
    };
    if let Err(e) = demo::install_signal_handlers() {
        eprintln!("rnetstat-demo: cannot install signal handlers: {e}");
        return ExitCode::from(1);
    }
    let stdout = io::stdout();
    for (i, sc) in scenarios.iter().enumerate() {
        let mut out = stdout.lock();
        if i > 0 && !settings.json {
            let _ = writeln!(out);
        }
        match demo::run(*sc, &settings, &mut out) {
            Ok(value) => {
                if settings.json {
                    let _ = writeln!(out, "{value}");
                }
                let _ = out.flush();
            }
            Err(e) if e.is::<Interrupted>() => {
                let _ = out.flush();
                eprintln!("rnetstat-demo: interrupted; helpers stopped and sockets cleaned up");
                return ExitCode::from(130);
            }
            Err(e) if is_broken_pipe(&e) => return ExitCode::SUCCESS,
            Err(e) => {
                let _ = out.flush();
                eprintln!("rnetstat-demo: {}: {e:#}", sc.name());
                return ExitCode::from(1);
            }
        }
    }
    ExitCode::SUCCESS
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// A helper process's exit: errors go to stderr (the demo reads stdout).
fn helper(r: anyhow::Result<()>) -> ExitCode {
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rnetstat-demo helper: {e:#}");
            ExitCode::from(1)
        }
    }
}
