//! The validated configuration: what to list and how, derived once from [`crate::cli::Args`].
//!
//! netstat's selection rules live here: which tables the socket-type and family flags select,
//! and which states `-a`, `-l` and the default show (turned into sock_diag state masks, so the
//! kernel does the filtering where it can).

use std::path::PathBuf;
use std::time::Duration;

use crate::cli::{Args, OwnerScanArg, SourceArg};
use crate::filter::{parse_uid, Filter, SystemTables};
use crate::model::{Family, InetProto, State, Table};
use crate::names::NumericMode;
use crate::procmap::ScanChoice;
use crate::source::SourceChoice;

/// Which sockets by listening status (netstat's -a / -l / default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShowMode {
    /// "servers and established"
    All,
    /// "only servers"
    Listening,
    /// "w/o servers"
    NonListening,
}

impl ShowMode {
    /// netstat's section header suffix.
    pub fn header_suffix(self) -> &'static str {
        match self {
            ShowMode::All => "(servers and established)",
            ShowMode::Listening => "(only servers)",
            ShowMode::NonListening => "(w/o servers)",
        }
    }
}

/// What one run does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// List sockets (once, or every interval with -c).
    List,
    /// Follow the listing and print transitions.
    Watch(Duration),
    /// Print socket destruction events from the kernel.
    Events,
    /// netstat -s.
    Statistics,
    /// ss -s.
    Summary,
    /// netstat's other tables: -r, -i, -g, and the -M / -Z messages.
    NetTable(crate::nettab::Table),
    /// ss -K: close the selected sockets, print those closed.
    Kill,
    /// Prometheus metrics: printed once, or served on the address until interrupted.
    Metrics(Option<std::net::SocketAddr>),
}

/// Which socket internals to fetch and show (each needs netlink; absent on the /proc source).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Internals {
    pub info: bool,
    pub memory: bool,
    pub extended: bool,
}

impl Internals {
    pub fn any(self) -> bool {
        self.info || self.memory || self.extended
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputMode {
    Table,
    /// `--json`: one array per listing.
    Json,
    /// `--json-lines`: one object per socket (or event) per line.
    JsonLines,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// Tables to list, in output order (inet first, unix last, like netstat).
    pub tables: Vec<Table>,
    pub show: ShowMode,
    pub programs: bool,
    pub extend: bool,
    pub timers: bool,
    pub numeric: NumericMode,
    pub continuous: Option<Duration>,
    pub verbose: bool,
    pub output: OutputMode,
    /// Section headers and column titles in the table (off with -H).
    pub headers: bool,
    pub source: SourceChoice,
    pub owner_scan: ScanChoice,
    pub proc_root: PathBuf,
    pub mode: Mode,
    pub filter: Filter,
    pub internals: Internals,
    /// The socket-type and family flags as given, for -s (netstat -s -t, -s -6, ...).
    pub stats_selection: crate::stats::Selection,
    /// What -r, -i and -g show.
    pub nettab: crate::nettab::Options,
    /// `-N`: the network namespaces to list; empty for rnetstat's own only (and no Netns column).
    pub netns: Vec<crate::netns::Spec>,
}

/// A usage error found after clap's own checks.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// The shortest interval `-c` and `--watch` take: below it a round would start before the
/// last one's output is read, and 1e-300 busy-looped a core.
pub const MIN_INTERVAL_SECS: f64 = 0.01;

fn seconds(flag: &str, value: f64) -> Result<Duration, UsageError> {
    if value.is_finite() && (MIN_INTERVAL_SECS..=86_400.0).contains(&value) {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(UsageError(format!(
            "{flag} takes a number of seconds from {MIN_INTERVAL_SECS} to 86400, not {value}"
        )))
    }
}

/// /etc/services and /etc/passwd, read only when a filter or --uid needs a name.
fn system_tables() -> SystemTables {
    SystemTables::from_text(
        &std::fs::read("/etc/services").unwrap_or_default(),
        &std::fs::read("/etc/passwd").unwrap_or_default(),
    )
}

impl Config {
    pub fn from_args(a: &Args) -> Result<Config, UsageError> {
        let continuous = a
            .continuous
            .map(|v| seconds("--continuous", v))
            .transpose()?;
        let watch = a.watch.map(|v| seconds("--watch", v)).transpose()?;
        let families = AddressFamilies::from_args(a)?;
        let net_tables = [
            (a.route, crate::nettab::Table::Routes, "-r"),
            (a.interfaces, crate::nettab::Table::Interfaces, "-i"),
            (a.groups, crate::nettab::Table::Groups, "-g"),
            (a.masquerade, crate::nettab::Table::Masquerade, "-M"),
            (a.context, crate::nettab::Table::Context, "-Z"),
        ];
        let net_table = net_tables.iter().find(|t| t.0).map(|t| t.1);
        let modes = [
            (watch.is_some(), "--watch"),
            (a.events, "--events"),
            (a.statistics, "-s"),
            (a.summary, "--summary"),
            (a.route, "-r"),
            (a.interfaces, "-i"),
            (a.groups, "-g"),
            (a.masquerade, "-M"),
            (a.context, "-Z"),
            (a.kill, "-K"),
            (a.metrics, "--metrics"),
            (a.metrics && a.json, "--json"),
        ];
        // -c repeats the listing and netstat's other tables; it is a mode of its own only
        // against --watch, --events, -s and --summary.
        let modes: Vec<(bool, &str)> =
            std::iter::once((continuous.is_some() && net_table.is_none(), "-c"))
                .chain(modes)
                .collect();
        let chosen: Vec<&str> = modes.iter().filter(|m| m.0).map(|m| m.1).collect();
        if chosen.len() > 1 {
            return Err(UsageError(format!(
                "{} cannot be combined",
                chosen.join(" and ")
            )));
        }
        // -s prints the kernel's protocol counters (SNMP MIBs), which belong to no socket: a
        // filter cannot select among them, and ignoring it would answer a question not asked.
        let filtered =
            !a.filter.is_empty() || !a.pid.is_empty() || !a.process.is_empty() || !a.uid.is_empty();
        if a.statistics && filtered {
            return Err(UsageError(
                "-s shows protocol counters, which no filter can select (--summary counts \
                 the sockets a filter selects)"
                    .into(),
            ));
        }
        let mode = if let Some(w) = watch {
            Mode::Watch(w)
        } else if a.events {
            Mode::Events
        } else if a.statistics {
            Mode::Statistics
        } else if a.summary {
            Mode::Summary
        } else if let Some(t) = net_table {
            Mode::NetTable(t)
        } else if a.kill {
            Mode::Kill
        } else if a.metrics {
            Mode::Metrics(a.listen)
        } else {
            Mode::List
        };
        let needs_tables = !a.filter.is_empty() || !a.uid.is_empty();
        let tables_for_names = if needs_tables {
            Some(system_tables())
        } else {
            None
        };
        let mut filter = match &tables_for_names {
            Some(t) if !a.filter.is_empty() => {
                Filter::parse(&a.filter, t).map_err(|e| UsageError(e.to_string()))?
            }
            _ => Filter::default(),
        };
        for pid in &a.pid {
            filter = filter.with_pid(*pid);
        }
        for name in &a.process {
            filter = filter.with_program(name.as_bytes());
        }
        for c in &a.container {
            if c.is_empty() {
                return Err(UsageError(
                    "--container takes an id prefix or a name".into(),
                ));
            }
            filter = filter.with_container(c.as_bytes());
        }
        let netns = a
            .netns
            .iter()
            .map(|n| crate::netns::Spec::parse(n))
            .collect::<Result<Vec<_>, _>>()
            .map_err(UsageError)?;
        if !netns.is_empty() && matches!(mode, Mode::Statistics) {
            return Err(UsageError("-N cannot be combined with -s yet".into()));
        }
        // Names and files are checked now, so a typo is a usage error before anything is listed.
        if !netns.is_empty() && !netns.contains(&crate::netns::Spec::All) {
            crate::netns::discover(&netns, &a.proc_root).map_err(|e| {
                let cause = std::error::Error::source(&e)
                    .map(|c| format!(": {c}"))
                    .unwrap_or_default();
                UsageError(format!("{e}{cause}"))
            })?;
        }
        if let Some(t) = &tables_for_names {
            for u in &a.uid {
                filter = filter.with_uid(parse_uid(u, t).map_err(UsageError)?);
            }
        }
        let any_proto = a.tcp || a.udp || a.udplite || a.raw;
        let (inet, inet6, unix) = (families.inet, families.inet6, a.unix || families.unix);
        let any_family = inet || inet6;
        let protos: Vec<InetProto> = if any_proto {
            InetProto::ALL
                .into_iter()
                .filter(|p| match p {
                    InetProto::Tcp => a.tcp,
                    InetProto::Udp => a.udp,
                    InetProto::UdpLite => a.udplite,
                    InetProto::Raw => a.raw,
                })
                .collect()
        } else if unix && !any_family {
            Vec::new()
        } else {
            InetProto::ALL.to_vec()
        };
        let socket_families: Vec<Family> = match (inet, inet6) {
            (true, false) => vec![Family::V4],
            (false, true) => vec![Family::V6],
            _ => Family::ALL.to_vec(),
        };
        let mut tables: Vec<Table> = protos
            .iter()
            .flat_map(|p| socket_families.iter().map(move |f| Table::Inet(*p, *f)))
            .collect();
        if unix || (!any_proto && !any_family) {
            tables.push(Table::Unix);
        }
        // Metrics count every socket unless -l asks for servers only.
        let show = if a.all || (a.metrics && !a.listening) {
            ShowMode::All
        } else if a.listening {
            ShowMode::Listening
        } else {
            ShowMode::NonListening
        };
        if a.kill && filter.is_empty() {
            return Err(UsageError(
                "-K closes every socket the filter selects, and with neither a filter nor a \
                 state selection that is every socket: give one (e.g. 'dport = :80' or \
                 'state established')"
                    .into(),
            ));
        }
        Ok(Config {
            tables,
            show,
            programs: a.programs,
            extend: a.extend > 0,
            timers: a.timers,
            numeric: NumericMode {
                hosts: a.numeric || a.numeric_hosts,
                ports: a.numeric || a.numeric_ports,
                users: a.numeric || a.numeric_users,
            },
            continuous,
            verbose: a.verbose,
            output: if a.json {
                OutputMode::Json
            } else if a.json_lines {
                OutputMode::JsonLines
            } else {
                OutputMode::Table
            },
            headers: !a.no_header,
            source: match a.source {
                SourceArg::Auto => SourceChoice::Auto,
                SourceArg::Netlink => SourceChoice::Netlink,
                SourceArg::Proc => SourceChoice::Proc,
            },
            owner_scan: match a.owner_scan {
                OwnerScanArg::Auto => ScanChoice::Auto,
                OwnerScanArg::Bpf => ScanChoice::Bpf,
                OwnerScanArg::Proc => ScanChoice::Proc,
            },
            proc_root: a.proc_root.clone(),
            mode,
            filter,
            internals: Internals {
                info: a.info,
                memory: a.memory,
                extended: a.extended,
            },
            stats_selection: stats_selection(a, &families),
            nettab: crate::nettab::Options {
                families: families.ordered.clone(),
                cache: a.cache && !a.fib,
                extend: a.extend,
                all: a.all,
                numeric_hosts: a.numeric || a.numeric_hosts,
                symbolic: a.symbolic,
                source: match a.source {
                    SourceArg::Auto => SourceChoice::Auto,
                    SourceArg::Netlink => SourceChoice::Netlink,
                    SourceArg::Proc => SourceChoice::Proc,
                },
                no_headers: a.no_header,
            },
            netns,
        })
    }

    /// The sock_diag state mask for `table`: the filter's `state` words when given (they
    /// replace -a/-l, as in ss), else netstat's -a/-l/default rule.
    pub fn state_mask(&self, table: Table) -> u32 {
        self.filter.request_mask(self.show_mask(table)) & State::KNOWN_MASK
    }

    /// Whether owners must be scanned: for -p, or for --pid/--process/--container.
    pub fn needs_owners(&self) -> bool {
        self.programs || self.filter.needs_owners()
    }

    /// Whether owners' containers are wanted: shown with -p, or filtered by --container.
    pub fn needs_containers(&self) -> bool {
        self.programs || self.filter.needs_containers()
    }

    /// netstat's -a/-l/default state mask for `table`.
    pub fn show_mask(&self, table: Table) -> u32 {
        // Every state netstat lists (the unix dump needs CLOSE for unconnected datagram
        // sockets, which the crate's own unix StateFlags::all() leaves out).
        let all = State::KNOWN_MASK;
        let server = match table {
            Table::Inet(InetProto::Tcp, _) | Table::Unix => State::Listen.mask_bit(),
            Table::Inet(..) => State::Close.mask_bit(),
        };
        match self.show {
            ShowMode::All => all,
            ShowMode::Listening => server,
            ShowMode::NonListening => all & !server,
        }
    }
}

/// The address families of -4, -6, -x and netstat's `-A FAMILY[,FAMILY...]` / `--protocol`.
#[derive(Debug, Clone, Default)]
struct AddressFamilies {
    inet: bool,
    inet6: bool,
    unix: bool,
    /// inet / inet6 in the order -A named them, then -4 and -6 (for -r, which prints one
    /// table per family in that order).
    ordered: Vec<Family>,
}

impl AddressFamilies {
    fn from_args(a: &Args) -> Result<AddressFamilies, UsageError> {
        let mut f = AddressFamilies {
            inet: a.inet,
            inet6: a.inet6,
            ..AddressFamilies::default()
        };
        for name in a
            .protocol
            .iter()
            .map(|n| n.trim())
            .filter(|n| !n.is_empty())
        {
            match name {
                "inet" => {
                    f.inet = true;
                    f.ordered.push(Family::V4);
                }
                "inet6" => {
                    f.inet6 = true;
                    f.ordered.push(Family::V6);
                }
                "unix" => {
                    if a.route {
                        return Err(UsageError(
                            "no routing for address family `unix'".to_string(),
                        ));
                    }
                    f.unix = true;
                }
                other => {
                    return Err(UsageError(format!(
                        "unknown address family `{}' (rnetstat knows inet, inet6 and unix)",
                        crate::escape::escape(other.as_bytes())
                    )))
                }
            }
        }
        if a.inet {
            f.ordered.push(Family::V4);
        }
        if a.inet6 {
            f.ordered.push(Family::V6);
        }
        let mut seen = Vec::new();
        f.ordered.retain(|fam| {
            let new = !seen.contains(fam);
            seen.push(*fam);
            new
        });
        Ok(f)
    }
}

/// netstat -s honours -t/-u/-w and -4/-6: with neither family flag it shows IPv4 only.
fn stats_selection(a: &Args, f: &AddressFamilies) -> crate::stats::Selection {
    let any_proto = a.tcp || a.udp || a.raw;
    crate::stats::Selection {
        ipv4: f.inet || !f.inet6,
        ipv6: f.inet6,
        tcp: !any_proto || a.tcp,
        udp: !any_proto || a.udp,
        raw: !any_proto || a.raw,
        sctp: !any_proto,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn tables(argv: &[&str]) -> Vec<String> {
        let args = Args::try_parse_from(std::iter::once("rnetstat").chain(argv.iter().copied()))
            .expect("parses");
        Config::from_args(&args)
            .expect("valid")
            .tables
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn no_type_flag_lists_everything_in_netstat_order() {
        assert_eq!(
            tables(&[]),
            ["tcp", "tcp6", "udp", "udp6", "udplite", "udplite6", "raw", "raw6", "unix"]
        );
    }

    #[test]
    fn type_and_family_flags_combine_like_netstat() {
        assert_eq!(tables(&["-t"]), ["tcp", "tcp6"]);
        assert_eq!(tables(&["-tu", "-4"]), ["tcp", "udp"]);
        assert_eq!(tables(&["-6", "-w"]), ["raw6"]);
        assert_eq!(tables(&["-x"]), ["unix"]);
        assert_eq!(tables(&["-x", "-t"]), ["tcp", "tcp6", "unix"]);
        assert_eq!(tables(&["-4"]), ["tcp", "udp", "udplite", "raw"]);
        assert_eq!(
            tables(&["-4", "-x"]),
            ["tcp", "udp", "udplite", "raw", "unix"]
        );
    }

    #[test]
    fn listening_masks_select_servers_per_protocol() {
        let args = Args::try_parse_from(["rnetstat", "-l"]).expect("parses");
        let c = Config::from_args(&args).expect("valid");
        assert_eq!(
            c.state_mask(Table::Inet(InetProto::Tcp, Family::V4)),
            1 << 10
        );
        assert_eq!(
            c.state_mask(Table::Inet(InetProto::Udp, Family::V4)),
            1 << 7
        );
        assert_eq!(c.state_mask(Table::Unix), 1 << 10);
        let args = Args::try_parse_from(["rnetstat"]).expect("parses");
        let c = Config::from_args(&args).expect("valid");
        assert_eq!(
            c.state_mask(Table::Inet(InetProto::Tcp, Family::V4)) & (1 << 10),
            0
        );
        assert_ne!(
            c.state_mask(Table::Inet(InetProto::Tcp, Family::V4)) & (1 << 6),
            0
        );
    }

    #[test]
    fn statistics_refuse_a_filter() {
        for extra in [
            &["state", "established"][..],
            &["--pid", "1"],
            &["--uid", "0"],
            &["--process", "x"],
        ] {
            let args =
                Args::try_parse_from(["rnetstat", "-s"].iter().chain(extra)).expect("parses");
            let e = Config::from_args(&args).expect_err("refused");
            assert!(e.to_string().contains("no filter"), "{extra:?}: {e}");
        }
        let args = Args::try_parse_from(["rnetstat", "-s", "-t"]).expect("parses");
        assert!(
            Config::from_args(&args).is_ok(),
            "-t selects protocols, as in netstat"
        );
    }

    #[test]
    fn bad_interval_is_a_usage_error() {
        for bad in ["0", "-1", "nan", "1e9", "1e-300", "0.009"] {
            for flag in ["-c", "--watch"] {
                let args = Args::try_parse_from(["rnetstat", flag, bad]);
                if let Ok(args) = args {
                    assert!(Config::from_args(&args).is_err(), "{flag} {bad}");
                }
            }
        }
        for good in ["0.01", "0.1", "86400"] {
            let args = Args::try_parse_from(["rnetstat", "--watch", good]).expect("parses");
            assert!(Config::from_args(&args).is_ok(), "{good}");
        }
    }
}
