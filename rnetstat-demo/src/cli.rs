//! The demo's command line, as clap sees it. Kept in the library (not in the binary) so the man
//! page test can generate `man/rnetstat-demo.1` from the same definition.

use clap::{Args, Parser, Subcommand};

/// Watch TCP's lessons happen on loopback, through rnetstat's own listing.
#[derive(Debug, Parser)]
#[command(
    name = "rnetstat-demo",
    version,
    about = "TIME_WAIT, SO_REUSEADDR, SO_REUSEPORT and TCP's other lessons, observed live through rnetstat",
    long_about = "Each scenario makes one lesson of a TCP tutorial happen on loopback (127.0.0.1, \
ports the kernel picks) and shows it with rnetstat's own listing, limited to the demo's ports: \
each step prints a short narration, the socket calls just made, and the table. Everything \
reported is measured at run time. Every process and socket the demo makes is gone when it exits, \
also on Ctrl-C: helper processes are killed and waited for, and TIME_WAIT sockets it leaves are \
removed with an RFC 1337 reset (unless net.ipv4.tcp_rfc1337 is 1).",
    after_help = "Each scenario takes a few seconds (time-wait --wait: about a minute). With --json \
each scenario prints one JSON object on one line."
)]
pub struct DemoArgs {
    /// Print one JSON object per scenario (one per line) instead of the narrated walk-through
    #[arg(long, global = true)]
    pub json: bool,

    /// Pause this many seconds after each step's table, to watch the sockets from another
    /// terminal (for example with `rnetstat -tanpo`)
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 0.0, value_parser = parse_delay)]
    pub step_delay: f64,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The server closes first and holds TIME_WAIT; shows every state on the way and the
    /// kernel's TIME_WAIT timer
    TimeWait {
        /// Follow the TIME_WAIT socket until the kernel drops it (about 60 s)
        #[arg(long)]
        wait: bool,
    },
    /// The restart matrix: old and new server with SO_REUSEADDR off/on, measured; and
    /// SO_REUSEADDR against a live listener
    Reuseaddr,
    /// N listener processes share one port with SO_REUSEPORT; M clients are spread over them
    Reuseport(ReuseportArgs),
    /// One connection walked through TCP's state machine, drawn on the state diagram
    States,
    /// The sliding window: a receiver stops reading, the window closes, then reopens
    Window,
    /// A forking server and a threaded server with K clients each: who owns which socket
    Concurrency(ConcurrencyArgs),
    /// TCP vs UDP: UNCONN, no listen/accept, no handshake, no TIME_WAIT
    Udp,
    /// Every scenario in turn
    All {
        #[command(flatten)]
        reuseport: ReuseportArgs,
        #[command(flatten)]
        concurrency: ConcurrencyArgs,
    },
    /// Internal: a listener process for `reuseport`
    #[command(name = "__listener", hide = true)]
    InternalListener {
        #[arg(long)]
        port: u16,
        #[arg(long)]
        reuseport: bool,
    },
    /// Internal: the forking server for `concurrency`
    #[command(name = "__fork-server", hide = true)]
    InternalForkServer,
}

#[derive(Debug, Clone, Args)]
pub struct ReuseportArgs {
    /// Listener processes sharing the port
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=32))]
    pub listeners: u16,
    /// Clients connecting to the shared port
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u16).range(1..=500))]
    pub clients: u16,
}

#[derive(Debug, Clone, Args)]
pub struct ConcurrencyArgs {
    /// Clients per server
    #[arg(long = "workers", default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..=40))]
    pub workers: u16,
}

fn parse_delay(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..=600.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "expected a number of seconds from 0 to 600, not {s:?}"
        )),
    }
}

/// The clap command, for the man page generator.
pub fn command() -> clap::Command {
    <DemoArgs as clap::CommandFactory>::command()
}
