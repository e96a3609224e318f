//! The command line, as clap sees it. Self-contained so the man page is generated from it; past
//! [`crate::config::Config::from_args`] nothing looks at these raw flags again.

use clap::{ArgAction, Parser, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SourceArg {
    /// netlink sock_diag, falling back to /proc/net per table when netlink cannot serve it
    Auto,
    /// netlink sock_diag only; a table it cannot serve is an error
    Netlink,
    /// /proc/net text files only
    Proc,
}

/// List sockets and the processes that own them — netstat's flags and layout, sock_diag's speed,
/// and JSON for scripts.
#[derive(Debug, Parser)]
#[command(
    name = "rnetstat",
    version,
    about = "List sockets and the processes that own them",
    long_about = "List TCP, UDP, UDP-Lite, raw and unix sockets (IPv4 and IPv6) with their \
state and every process that owns them. Flags and table layout follow netstat(8); addresses are \
never cut, every owner is shown, and names from the system are escaped. --json gives a \
documented schema for scripts.",
    after_help = "With no socket-type option every type is listed. Without -a or -l only \
non-listening sockets are shown, like netstat."
)]
pub struct Args {
    /// Show both listening and non-listening sockets
    #[arg(short = 'a', long = "all")]
    pub all: bool,

    /// Show only listening sockets (and unconnected UDP, UDP-Lite and raw sockets)
    #[arg(short = 'l', long = "listening")]
    pub listening: bool,

    /// Show the PID and name of every process owning each socket
    #[arg(short = 'p', long = "program")]
    pub program: bool,

    /// Show numerical addresses, ports and users instead of resolving names
    #[arg(short = 'n', long = "numeric")]
    pub numeric: bool,

    /// Show numerical host addresses but resolve ports and users
    #[arg(long = "numeric-hosts")]
    pub numeric_hosts: bool,

    /// Show numerical port numbers but resolve hosts and users
    #[arg(long = "numeric-ports")]
    pub numeric_ports: bool,

    /// Show numerical user IDs but resolve hosts and ports
    #[arg(long = "numeric-users")]
    pub numeric_users: bool,

    /// Show extended information: the owning user and the socket inode
    #[arg(short = 'e', long = "extend", action = ArgAction::Count)]
    pub extend: u8,

    /// Show networking timers: on, keepalive, timewait, probe or off, with remaining seconds
    #[arg(short = 'o', long = "timers")]
    pub timers: bool,

    /// Wide output. Accepted for netstat compatibility: rnetstat never truncates addresses
    #[arg(short = 'W', long = "wide")]
    pub wide: bool,

    /// Print the listing again every SECONDS (default 1) until interrupted
    #[arg(
        short = 'c',
        long = "continuous",
        value_name = "SECONDS",
        num_args = 0..=1,
        default_missing_value = "1"
    )]
    pub continuous: Option<f64>,

    /// TCP sockets
    #[arg(short = 't', long = "tcp")]
    pub tcp: bool,

    /// UDP sockets
    #[arg(short = 'u', long = "udp")]
    pub udp: bool,

    /// UDP-Lite sockets
    #[arg(short = 'U', long = "udplite")]
    pub udplite: bool,

    /// Raw sockets
    #[arg(short = 'w', long = "raw")]
    pub raw: bool,

    /// Unix domain sockets
    #[arg(short = 'x', long = "unix")]
    pub unix: bool,

    /// IPv4 sockets only (with no -x: no unix sockets)
    #[arg(short = '4', long = "inet")]
    pub inet: bool,

    /// IPv6 sockets only (with no -x: no unix sockets)
    #[arg(short = '6', long = "inet6")]
    pub inet6: bool,

    /// Say on stderr which source served each table and why a fallback was taken
    #[arg(short = 'v', long = "verbose")]
    pub verbose: bool,

    /// Print one JSON array of socket objects instead of the table (see JSON SCHEMA in the man page)
    #[arg(long = "json")]
    pub json: bool,

    /// Where socket tables come from
    #[arg(long = "source", value_enum, default_value_t = SourceArg::Auto)]
    pub source: SourceArg,

    /// Read /proc from this directory instead (for testing against a captured tree)
    #[arg(
        long = "proc-root",
        value_name = "DIR",
        default_value = "/proc",
        hide = true
    )]
    pub proc_root: PathBuf,
}

/// The clap command, for the man page generator.
pub fn command() -> clap::Command {
    <Args as clap::CommandFactory>::command()
}
