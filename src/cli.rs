//! The command line, as clap sees it. Self-contained so the man page is generated from it; past
//! [`crate::config::Config::from_args`] nothing looks at these raw flags again.

use clap::{ArgAction, Parser, ValueEnum, ValueHint};
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OwnerScanArg {
    /// the BPF task_file iterator where it can run (root, BTF, initial pid namespace), else /proc
    Auto,
    /// the BPF iterator only; when it cannot run, that is an error
    Bpf,
    /// /proc/PID/fd only
    Proc,
}

/// The version `--version` prints: the package version and, when built from a git checkout, the
/// commit (`0.1.0 (git 1a2b3c4)`; see build.rs).
pub const VERSION: &str = env!("RNETSTAT_VERSION");

/// List sockets and the processes that own them — netstat's flags and layout, sock_diag's speed,
/// and JSON for scripts.
#[derive(Debug, Parser)]
#[command(
    name = "rnetstat",
    args_override_self = true,
    infer_long_args = true,
    version = VERSION,
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
    #[arg(short = 'p', long = "programs")]
    pub programs: bool,

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

    /// Print the listing again every SECONDS (default 1, at least 0.01) until interrupted
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

    /// Address families, as netstat's -A: inet, inet6, unix, comma-separated (repeatable)
    #[arg(
        short = 'A',
        long = "protocol",
        value_name = "FAMILY[,FAMILY...]",
        value_delimiter = ','
    )]
    pub protocol: Vec<String>,

    /// Show the kernel routing table (IPv4; IPv6 with -6 or -A inet6), as netstat -r
    #[arg(short = 'r', long = "route")]
    pub route: bool,

    /// Show the interface table (-a: also interfaces that are down; -e: the long form)
    #[arg(short = 'i', long = "interfaces")]
    pub interfaces: bool,

    /// Show IPv4 and IPv6 multicast group memberships
    #[arg(short = 'g', long = "groups")]
    pub groups: bool,

    /// With -r: the routing cache instead of the table
    #[arg(short = 'C', long = "cache")]
    pub cache: bool,

    /// With -r: the routing table (the default)
    #[arg(short = 'F', long = "fib")]
    pub fib: bool,

    /// Masqueraded connections: the kernel has had no ip_masquerade table since Linux 2.4, so
    /// this says so and exits 1, as netstat does
    #[arg(short = 'M', long = "masquerade")]
    pub masquerade: bool,

    /// SELinux contexts of sockets: not supported; says so and exits 1, as netstat does where
    /// SELinux is off
    #[arg(short = 'Z', long = "context")]
    pub context: bool,

    /// Accepted for netstat compatibility and ignored (as netstat ignores it, except that -r
    /// then prints numeric addresses); the short -N is left to network namespaces
    #[arg(long = "symbolic")]
    pub symbolic: bool,

    /// Say on stderr which source served each table and why a fallback was taken
    #[arg(short = 'v', long = "verbose")]
    pub verbose: bool,

    /// Print one JSON array of socket objects instead of the table (see JSON SCHEMA in the man page)
    #[arg(long = "json")]
    pub json: bool,

    /// Print one JSON object per socket, one per line, as the listing streams (with -c, every
    /// listing; with --watch or --events, one object per event)
    #[arg(long = "json-lines", conflicts_with = "json")]
    pub json_lines: bool,

    /// Print no section headers and no column titles, only rows (like ss -H; also for -r, -i, -g)
    #[arg(short = 'H', long = "no-header")]
    pub no_header: bool,

    /// Where socket tables come from (and, for -r, -i and -g, netlink means rtnetlink)
    #[arg(long = "source", value_enum, default_value_t = SourceArg::Auto)]
    pub source: SourceArg,

    /// How -p and the owner filters find which processes hold which sockets
    #[arg(long = "owner-scan", value_enum, default_value_t = OwnerScanArg::Auto)]
    pub owner_scan: OwnerScanArg,

    /// Only sockets owned by this process (repeatable)
    #[arg(long = "pid", value_name = "PID")]
    pub pid: Vec<u32>,

    /// Only sockets owned by a process with this exact name (comm; repeatable)
    #[arg(long = "process", value_name = "NAME")]
    pub process: Vec<String>,

    /// List the sockets (or the -r, -i, -g tables) of network namespace NS, with a first column naming it: a name under
    /// /run/netns, a namespace file (/proc/PID/ns/net, /run/docker/netns/ID), pid:PID, or all
    /// for every namespace on the host (repeatable; see NETWORK NAMESPACES)
    #[arg(short = 'N', long = "netns", value_name = "NS")]
    pub netns: Vec<String>,

    /// Only sockets owned by a process in this container: a prefix of its id, or its name
    /// (repeatable; see CONTAINERS)
    #[arg(long = "container", value_name = "ID|NAME")]
    pub container: Vec<String>,

    /// Only sockets of this user, by number or name (repeatable)
    #[arg(long = "uid", value_name = "UID|USER", value_hint = ValueHint::Username)]
    pub uid: Vec<String>,

    /// Show TCP internals from tcp_info on a second line: rtt, rto, mss, cwnd, windows, bytes, rates
    #[arg(long = "info")]
    pub info: bool,

    /// Show socket memory (skmeminfo) on a second line
    #[arg(long = "memory")]
    pub memory: bool,

    /// Show v6only, mark, cgroup path and shutdown state on a second line
    #[arg(long = "extended")]
    pub extended: bool,

    /// Follow the listing every SECONDS (default 1, at least 0.01) and print NEW, state changes and GONE as they happen
    #[arg(
        long = "watch",
        value_name = "SECONDS",
        num_args = 0..=1,
        default_missing_value = "1"
    )]
    pub watch: Option<f64>,

    /// Print socket destruction events from the kernel as they happen (any user: every TCP and
    /// UDP socket of this network namespace)
    #[arg(long = "events")]
    pub events: bool,

    /// Show per-protocol statistics from /proc/net/snmp, netstat and snmp6, like netstat -s
    #[arg(short = 's', long = "statistics")]
    pub statistics: bool,

    /// Close the sockets the filter selects (SOCK_DESTROY, as ss -K; with -N in each namespace)
    /// and print those closed; needs CAP_NET_ADMIN and a filter or state selection
    #[arg(short = 'K', long = "kill")]
    pub kill: bool,

    /// Show totals by protocol and state, like ss -s
    #[arg(long = "summary")]
    pub summary: bool,

    /// Print the selected sockets as Prometheus metrics (text format 0.0.4) once, or serve them
    /// with --listen (see METRICS in the man page)
    #[arg(long = "metrics")]
    pub metrics: bool,

    /// With --metrics: serve GET /metrics over HTTP on this address (such as 127.0.0.1:9464 or
    /// [::1]:9464) until interrupted
    #[arg(long = "listen", value_name = "ADDR:PORT", requires = "metrics")]
    pub listen: Option<std::net::SocketAddr>,

    /// Filter: `state NAME`, `exclude NAME`, and expressions such as `sport = :22`,
    /// `dport != :443`, `dst 10.0.0.0/8`, `src [::1]`, `dport > :1024`, joined with and, or, not
    /// and parentheses (see FILTERS in the man page)
    #[arg(value_name = "FILTER", value_parser = FilterWord, hide_possible_values = true)]
    pub filter: Vec<String>,

    /// Print the completion script for SHELL and exit (see SHELL COMPLETION in the man page)
    #[arg(long = "completions", value_name = "SHELL", value_enum)]
    pub completions: Option<crate::completions::CompletionShell>,

    /// Read /proc from this directory instead (for testing against a captured tree)
    #[arg(
        long = "proc-root",
        value_name = "DIR",
        default_value = "/proc",
        hide = true
    )]
    pub proc_root: PathBuf,
}

/// The FILTER words' parser: any text (the filter parser judges it later), but it names the
/// keywords and state names as possible values, so completion scripts offer them. Hidden from
/// `--help`, where they would read as the only values allowed.
#[derive(Debug, Clone, Copy)]
struct FilterWord;

impl clap::builder::TypedValueParser for FilterWord {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        clap::builder::StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        let words = crate::filter::FILTER_KEYWORDS
            .iter()
            .chain(crate::filter::STATE_WORDS);
        Some(Box::new(
            words.map(|w| clap::builder::PossibleValue::new(*w)),
        ))
    }
}

/// The clap command, for the man page generator.
pub fn command() -> clap::Command {
    <Args as clap::CommandFactory>::command()
}

/// Options whose value is optional (`-c [SECONDS]`, `--watch [SECONDS]`) would swallow the first
/// filter word (`rnetstat -c state established`), and netstat's `-c` takes no value at all, so
/// `-cnt` must not read `nt` as an interval. This rewrites such an option to carry its default
/// explicitly unless a number follows, pulls `-c` out of any short-option cluster
/// (`-cnt`, `-ctn`, `-tulpnc`), and recognises unique prefixes of `--continuous` and `--watch`.
pub fn normalize_args<I: IntoIterator<Item = std::ffi::OsString>>(
    args: I,
) -> Vec<std::ffi::OsString> {
    let args: Vec<std::ffi::OsString> = args.into_iter().collect();
    let longs: Vec<String> = command()
        .get_arguments()
        .filter_map(|a| a.get_long().map(str::to_string))
        .chain(["help".to_string(), "version".to_string()])
        .collect();
    let mut out = Vec::with_capacity(args.len());
    let is_number = |a: Option<&std::ffi::OsString>| {
        a.and_then(|a| a.to_str())
            .is_some_and(|a| a.parse::<f64>().is_ok())
    };
    let mut rest_are_positional = false;
    for (i, a) in args.iter().enumerate() {
        let text = a.to_str().unwrap_or("");
        if rest_are_positional || i == 0 {
            out.push(a.clone());
            continue;
        }
        if text == "--" {
            rest_are_positional = true;
            out.push(a.clone());
            continue;
        }
        let next_is_number = is_number(args.get(i + 1));
        if let Some(word) = text.strip_prefix("--") {
            let (name, value) = word
                .split_once('=')
                .map_or((word, None), |(n, v)| (n, Some(v)));
            if let Some(netstat) = netstat_meaning(&longs, name) {
                out.push(match value {
                    Some(v) => format!("--{netstat}={v}").into(),
                    None => format!("--{netstat}").into(),
                });
                continue;
            }
        }
        if let Some(name) = text.strip_prefix("--").filter(|n| !n.contains('=')) {
            let long = resolve_long(&longs, name);
            if matches!(long, Some("continuous" | "watch")) && !next_is_number {
                out.push(format!("--{}=1", long.unwrap_or_default()).into());
                continue;
            }
        } else if let Some(body) = text.strip_prefix('-') {
            if let Some(words) = split_cluster(body, next_is_number) {
                out.extend(words.into_iter().map(std::ffi::OsString::from));
                continue;
            }
        }
        out.push(a.clone());
    }
    out
}

/// netstat's own long options (net-tools 2.10), which win an abbreviation that is unique among
/// them: `--ext` is netstat's `--extend` although rnetstat also has `--extended`.
const NETSTAT_LONGS: [&str; 31] = [
    "route",
    "interfaces",
    "groups",
    "statistics",
    "masquerade",
    "verbose",
    "wide",
    "numeric",
    "numeric-hosts",
    "numeric-ports",
    "numeric-users",
    "symbolic",
    "extend",
    "programs",
    "timers",
    "continuous",
    "listening",
    "all",
    "fib",
    "cache",
    "context",
    "protocol",
    "tcp",
    "udp",
    "udplite",
    "raw",
    "unix",
    "inet",
    "inet6",
    "version",
    "help",
];

/// The netstat option an abbreviation `name` means when it is ambiguous among rnetstat's long
/// options but unique among netstat's.
fn netstat_meaning(longs: &[String], name: &str) -> Option<&'static str> {
    if name.is_empty() || longs.iter().any(|l| l == name) {
        return None;
    }
    if longs.iter().filter(|l| l.starts_with(name)).count() < 2 {
        return None;
    }
    let mut hits = NETSTAT_LONGS.iter().filter(|l| l.starts_with(name));
    match (hits.next(), hits.next()) {
        (Some(one), None) => Some(one),
        _ => None,
    }
}

/// The long option `name` stands for: itself, or the one long option it is a prefix of.
fn resolve_long<'a>(longs: &'a [String], name: &str) -> Option<&'a str> {
    if let Some(exact) = longs.iter().find(|l| *l == name) {
        return Some(exact);
    }
    let mut hits = longs.iter().filter(|l| l.starts_with(name));
    match (hits.next(), hits.next()) {
        (Some(one), None) if !name.is_empty() => Some(one),
        _ => None,
    }
}

/// A short-option cluster holding `c` without an interval, rewritten as the cluster without
/// it plus `--continuous=1`; `None` when there is nothing to rewrite. Letters after `A` are its
/// value and left alone; `c` followed by a number (`-c2`, `-tanc 0.5`) is an interval.
fn split_cluster(body: &str, next_is_number: bool) -> Option<Vec<String>> {
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.') {
        return None;
    }
    let a_at = body.find('A').unwrap_or(body.len());
    let c_at = body[..a_at].find('c')?;
    let (head, after) = (&body[..c_at], &body[c_at + 1..]);
    if (after.is_empty() && next_is_number) || (!after.is_empty() && after.parse::<f64>().is_ok()) {
        return None;
    }
    if !body[..c_at].bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let rest = format!("{head}{after}");
    let mut words = Vec::new();
    if !rest.is_empty() {
        match split_cluster(&rest, next_is_number) {
            Some(more) => words.extend(more),
            None => words.push(format!("-{rest}")),
        }
    }
    if !words.iter().any(|w| w == "--continuous=1") {
        words.push("--continuous=1".to_string());
    }
    Some(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(v: &[&str]) -> Vec<String> {
        normalize_args(v.iter().map(std::ffi::OsString::from))
            .into_iter()
            .map(|s| s.into_string().unwrap_or_default())
            .collect()
    }

    #[test]
    fn optional_values_only_take_numbers() {
        assert_eq!(norm(&["r", "-c", "2"]), ["r", "-c", "2"]);
        assert_eq!(
            norm(&["r", "-c", "state", "x"]),
            ["r", "--continuous=1", "state", "x"]
        );
        assert_eq!(
            norm(&["r", "-tanc", "state"]),
            ["r", "-tan", "--continuous=1", "state"]
        );
        assert_eq!(norm(&["r", "-tanc", "0.5"]), ["r", "-tanc", "0.5"]);
        assert_eq!(norm(&["r", "--watch"]), ["r", "--watch=1"]);
        assert_eq!(
            norm(&["r", "--watch", "0.1", "sport", "=", ":1"]),
            ["r", "--watch", "0.1", "sport", "=", ":1"]
        );
        assert_eq!(norm(&["r", "--", "-c"]), ["r", "--", "-c"]);
    }

    #[test]
    fn c_anywhere_in_a_cluster_is_netstat_s_continuous() {
        assert_eq!(norm(&["r", "-cnt"]), ["r", "-nt", "--continuous=1"]);
        assert_eq!(norm(&["r", "-ctn"]), ["r", "-tn", "--continuous=1"]);
        assert_eq!(norm(&["r", "-tulpnc"]), ["r", "-tulpn", "--continuous=1"]);
        assert_eq!(norm(&["r", "-c"]), ["r", "--continuous=1"]);
        assert_eq!(norm(&["r", "-c2", "-t"]), ["r", "-c2", "-t"]);
        assert_eq!(norm(&["r", "-rnc", "3"]), ["r", "-rnc", "3"]);
        assert_eq!(norm(&["r", "-tAinet"]), ["r", "-tAinet"]);
        assert_eq!(norm(&["r", "--conti"]), ["r", "--continuous=1"]);
        assert_eq!(norm(&["r", "--wat", "2"]), ["r", "--wat", "2"]);
        assert_eq!(norm(&["r", "--ext"]), ["r", "--extend"]);
        assert_eq!(norm(&["r", "--num"]), ["r", "--num"]);
    }
}
