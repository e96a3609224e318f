//! `-s/--statistics`: the kernel's protocol counters, as netstat -s prints them.
//!
//! netstat -s prints the counters of /proc/net/snmp, /proc/net/netstat and /proc/net/snmp6 (and
//! /proc/net/sctp/snmp when SCTP is loaded) grouped by protocol, in its own English wording;
//! scripts grep that wording, so [`render()`] reproduces net-tools 2.10's output byte for byte,
//! quirks included. [`render_json`] gives the same groups with every counter as a number under
//! the kernel's own names.
//!
//! One concern a file: [`parse`] turns counter files into [`Group`]s (pure, so fixtures and
//! fuzzers drive it), [`wording`] holds netstat's phrase tables, [`mod@render`] prints; this
//! module only reads the files under a procfs root ([`load`]) and names the file and line of
//! anything it cannot parse.

mod parse;
mod render;
mod wording;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

pub use parse::{parse_sctp, parse_snmp, parse_snmp6, ParseError};
pub use render::{render, render_json};

/// One counter, under the kernel's name. Values span `i64::MIN..=u64::MAX`: the kernel prints
/// most counters unsigned, a few signed (Tcp MaxConn is -1 for "no fixed limit").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counter {
    pub name: String,
    pub value: i128,
}

/// The counters of one protocol, in the kernel's order (`Ip`, `TcpExt`, `Ip6`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    pub counters: Vec<Counter>,
}

impl Group {
    /// The value of the counter called `name`, if the kernel reports it.
    pub fn get(&self, name: &str) -> Option<i128> {
        self.counters
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.value)
    }
}

/// Everything `-s` reads, file by file (netstat's rendering depends on which file a group came
/// from).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stats {
    /// `net/snmp`: Ip, Icmp, IcmpMsg, Tcp, Udp, UdpLite.
    pub snmp: Vec<Group>,
    /// `net/netstat`: TcpExt, IpExt, MPTcpExt. `None` when the file does not exist.
    pub netstat: Option<Vec<Group>>,
    /// `net/snmp6`: Ip6, Icmp6, Udp6, UdpLite6. `None` when IPv6 is disabled (no file).
    pub snmp6: Option<Vec<Group>>,
    /// `net/sctp/snmp`: `None` unless the sctp module is loaded.
    pub sctp: Option<Group>,
}

impl Stats {
    /// The first group called `name` in any file.
    pub fn group(&self, name: &str) -> Option<&Group> {
        self.snmp
            .iter()
            .chain(self.netstat.iter().flatten())
            .chain(self.snmp6.iter().flatten())
            .chain(self.sctp.iter())
            .find(|g| g.name == name)
    }
}

/// Why [`load`] failed, naming the file.
#[derive(Debug)]
pub enum StatsError {
    Io {
        path: PathBuf,
        source: io::Error,
    },
    Parse {
        path: PathBuf,
        line: usize,
        what: String,
    },
}

impl fmt::Display for StatsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatsError::Io { path, .. } => write!(f, "cannot read {}", path.display()),
            StatsError::Parse { path, line, what } => {
                write!(f, "cannot parse {}, line {line}: {what}", path.display())
            }
        }
    }
}

impl std::error::Error for StatsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StatsError::Io { source, .. } => Some(source),
            StatsError::Parse { .. } => None,
        }
    }
}

fn read(path: &Path, required: bool) -> Result<Option<Vec<u8>>, StatsError> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if !required && e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(StatsError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn parsed<T>(path: &Path, r: Result<T, ParseError>) -> Result<T, StatsError> {
    r.map_err(|e| StatsError::Parse {
        path: path.to_path_buf(),
        line: e.line,
        what: e.what,
    })
}

/// Reads the counters under `proc_root` (normally `/proc`): `net/snmp` must exist; `net/netstat`,
/// `net/snmp6` and `net/sctp/snmp` are optional (old kernels, IPv6 disabled, no sctp module).
pub fn load(proc_root: &Path) -> Result<Stats, StatsError> {
    let net = proc_root.join("net");
    let path = net.join("snmp");
    let snmp = match read(&path, true)? {
        Some(b) => parsed(&path, parse_snmp(&b))?,
        None => Vec::new(),
    };
    let path = net.join("netstat");
    let netstat = match read(&path, false)? {
        Some(b) => Some(parsed(&path, parse_snmp(&b))?),
        None => None,
    };
    let path = net.join("snmp6");
    let snmp6 = match read(&path, false)? {
        Some(b) => Some(parsed(&path, parse_snmp6(&b))?),
        None => None,
    };
    let path = net.join("sctp").join("snmp");
    let sctp = match read(&path, false)? {
        Some(b) => Some(parsed(&path, parse_sctp(&b))?),
        None => None,
    };
    Ok(Stats {
        snmp,
        netstat,
        snmp6,
        sctp,
    })
}

/// Which counters `-s` shows; netstat's `-4/-6` and `-t/-u/-w/-S` with `-s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selection {
    /// snmp, netstat and sctp files (`netstat -s`).
    pub ipv4: bool,
    /// the snmp6 file (`netstat -s -6`).
    pub ipv6: bool,
    /// Tcp, TcpExt, Tcp6 (`-t`).
    pub tcp: bool,
    /// Udp, Udp6 (`-u`).
    pub udp: bool,
    /// Ip, Icmp, Ip6, Icmp6 (`-w`).
    pub raw: bool,
    /// Sctp (`-S`).
    pub sctp: bool,
}

impl Default for Selection {
    /// Everything, both families.
    fn default() -> Self {
        Selection {
            ipv4: true,
            ipv6: true,
            tcp: true,
            udp: true,
            raw: true,
            sctp: true,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Proto {
    Tcp,
    Udp,
    Raw,
    Sctp,
}

impl Selection {
    fn shows(&self, p: Proto) -> bool {
        match p {
            Proto::Tcp => self.tcp,
            Proto::Udp => self.udp,
            Proto::Raw => self.raw,
            Proto::Sctp => self.sctp,
        }
    }
}

/// Fuzzing entry point: every parser over `data`, and whatever parses through both renderers.
/// Must never panic.
#[cfg(any(test, feature = "fuzzing"))]
pub fn fuzz(data: &[u8]) {
    let mut stats = Stats::default();
    if let Ok(g) = parse_snmp(data) {
        stats.snmp = g.clone();
        stats.netstat = Some(g);
    }
    if let Ok(g) = parse_snmp6(data) {
        stats.snmp6 = Some(g);
    }
    if let Ok(g) = parse_sctp(data) {
        stats.sctp = Some(g);
    }
    for (ipv4, ipv6, tcp) in [
        (true, true, true),
        (false, true, false),
        (true, false, true),
    ] {
        let sel = Selection {
            ipv4,
            ipv6,
            tcp,
            ..Selection::default()
        };
        let _ = render(&mut io::sink(), &stats, &sel);
        let _ = render_json(&mut io::sink(), &stats, &sel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured from this machine's /proc (Linux 6.18), and the same files with every counter
    // set to a distinct non-zero value (Forwarding 1, MaxConn -1) so every phrase is exercised.
    // The `.expected` files are net-tools 2.10 `netstat -s` output over exactly these files
    // (bind-mounted over /proc in a private mount namespace).
    const SNMP: &[u8] = include_bytes!("../../tests/data/snmp_linux_6_18");
    const NETSTAT: &[u8] = include_bytes!("../../tests/data/netstat_linux_6_18");
    const SNMP6: &[u8] = include_bytes!("../../tests/data/snmp6_linux_6_18");
    const SNMP_ALL: &[u8] = include_bytes!("../../tests/data/snmp_allset_linux_6_18");
    const NETSTAT_ALL: &[u8] = include_bytes!("../../tests/data/netstat_allset_linux_6_18");
    const SNMP6_ALL: &[u8] = include_bytes!("../../tests/data/snmp6_allset_linux_6_18");
    const SCTP: &[u8] = include_bytes!("../../tests/data/sctp_snmp_synthetic");

    fn stats(snmp: &[u8], netstat: &[u8], snmp6: &[u8], sctp: Option<&[u8]>) -> Stats {
        Stats {
            snmp: parse_snmp(snmp).expect("snmp parses"),
            netstat: Some(parse_snmp(netstat).expect("netstat parses")),
            snmp6: Some(parse_snmp6(snmp6).expect("snmp6 parses")),
            sctp: sctp.map(|s| parse_sctp(s).expect("sctp parses")),
        }
    }

    fn text(stats: &Stats, sel: Selection) -> String {
        let mut out = Vec::new();
        render(&mut out, stats, &sel).expect("renders");
        String::from_utf8(out).expect("utf-8")
    }

    /// netstat's flags as a [`Selection`]: `-s`, `-s -6`, `-s -t`, `-s -u`, `-s -w`.
    fn modes() -> [(&'static str, Selection); 5] {
        let none = Selection {
            ipv4: true,
            ipv6: false,
            tcp: false,
            udp: false,
            raw: false,
            sctp: false,
        };
        [
            (
                "s",
                Selection {
                    ipv6: false,
                    ..Selection::default()
                },
            ),
            (
                "s6",
                Selection {
                    ipv4: false,
                    ..Selection::default()
                },
            ),
            ("st", Selection { tcp: true, ..none }),
            ("su", Selection { udp: true, ..none }),
            ("sw", Selection { raw: true, ..none }),
        ]
    }

    fn expected(mode: &str, set: &str) -> String {
        let path = format!(
            "{}/tests/data/netstat_{mode}_{set}.expected",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).expect("expected output exists")
    }

    #[test]
    fn snmp_linux_6_18_parses_every_group() {
        let g = parse_snmp(SNMP).expect("parses");
        let names: Vec<&str> = g.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["Ip", "Icmp", "IcmpMsg", "Tcp", "Udp", "UdpLite"]);
        assert_eq!(g[0].counters.len(), 20);
        assert_eq!(g[0].get("Forwarding"), Some(2));
        assert_eq!(g[0].get("DefaultTTL"), Some(64));
        assert_eq!(g[3].get("MaxConn"), Some(-1));
        assert_eq!(g[3].get("RtoMax"), Some(120000));
    }

    #[test]
    fn netstat_linux_6_18_parses_every_group() {
        let g = parse_snmp(NETSTAT).expect("parses");
        let names: Vec<&str> = g.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["TcpExt", "IpExt", "MPTcpExt"]);
        assert_eq!(g[0].counters.len(), 135);
        assert_eq!(g[0].get("TW"), Some(32));
        assert_eq!(g[2].counters.len(), 76);
    }

    #[test]
    fn snmp6_linux_6_18_groups_like_netstat() {
        let g = parse_snmp6(SNMP6).expect("parses");
        let names: Vec<&str> = g.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["Ip6", "Icmp6", "Udp6", "UdpLite6"]);
        assert_eq!(g[0].get("Ip6InReceives"), Some(19));
        assert_eq!(g[1].get("Icmp6OutType143"), Some(4));
        let total: usize = g.iter().map(|g| g.counters.len()).sum();
        assert_eq!(total, 90, "one counter per line");
    }

    #[test]
    fn render_matches_netstat_2_10_on_captured_counters() {
        let s = stats(SNMP, NETSTAT, SNMP6, None);
        for (mode, sel) in modes() {
            assert_eq!(
                text(&s, sel),
                expected(mode, "linux_6_18"),
                "netstat -{mode}"
            );
        }
    }

    #[test]
    fn render_matches_netstat_2_10_with_every_counter_set() {
        let s = stats(SNMP_ALL, NETSTAT_ALL, SNMP6_ALL, Some(SCTP));
        for (mode, sel) in modes() {
            assert_eq!(
                text(&s, sel),
                expected(mode, "allset_linux_6_18"),
                "netstat -{mode}"
            );
        }
    }

    #[test]
    fn both_families_print_ipv4_then_ipv6_without_a_second_tcp() {
        let s = stats(SNMP, NETSTAT, SNMP6, None);
        let both = text(&s, Selection::default());
        let v4 = expected("s", "linux_6_18");
        let rest = both.strip_prefix(&v4).expect("IPv4 part first, unchanged");
        assert!(rest.starts_with("Ip6:\n"));
        assert!(!rest.contains("Tcp:"));
        assert!(expected("s6", "linux_6_18").starts_with(rest));
    }

    #[test]
    fn netstat_quirks_are_kept() {
        let out = expected("s", "linux_6_18");
        // Phrases missed by netstat's bsearch over unsorted tables.
        assert!(out.contains("\n    Forwarding: 2\n"));
        assert!(out.contains("\n    TCPTimeouts: 3\n"));
        // Histogram title with nothing under it; IcmpMsg keeps the histogram's indent.
        assert!(out.contains("    ICMP output histogram:\nIcmpMsg:\n        InType3: 1\n"));
        let s = stats(SNMP, NETSTAT, SNMP6, None);
        assert_eq!(
            text(
                &s,
                Selection {
                    ipv6: false,
                    ..Selection::default()
                }
            ),
            out
        );
    }

    #[test]
    fn json_has_every_counter_as_a_number() {
        let s = stats(SNMP, NETSTAT, SNMP6, None);
        let mut out = Vec::new();
        render_json(&mut out, &s, &Selection::default()).expect("renders");
        let v: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
        let keys: Vec<&str> = v
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        let mut want = vec![
            "Ip", "Icmp", "IcmpMsg", "Tcp", "Udp", "UdpLite", "TcpExt", "IpExt", "MPTcpExt", "Ip6",
            "Icmp6", "Udp6", "UdpLite6",
        ];
        want.sort_unstable();
        assert_eq!(sorted, want);
        assert_eq!(v["Ip"]["InReceives"], 758721);
        assert_eq!(v["Ip"]["DefaultTTL"], 64);
        assert_eq!(v["Tcp"]["MaxConn"], -1);
        assert_eq!(v["TcpExt"]["ArpFilter"], 0, "zeros are kept");
        assert_eq!(v["Ip6"]["Ip6InReceives"], 19);
        assert_eq!(v["Icmp6"]["Icmp6OutType143"], 4);
        assert_eq!(v["TcpExt"].as_object().map(|o| o.len()), Some(135));

        // Only the TCP groups with -t, and unknown groups as netstat shows them.
        let sel = Selection {
            ipv6: false,
            udp: false,
            raw: false,
            sctp: false,
            ..Selection::default()
        };
        let mut out = Vec::new();
        render_json(&mut out, &s, &sel).expect("renders");
        let v: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
        assert!(v.get("Tcp").is_some() && v.get("TcpExt").is_some());
        assert!(v.get("Ip").is_none() && v.get("Udp").is_none() && v.get("Ip6").is_none());
    }

    #[test]
    fn json_merges_duplicate_names() {
        let s = Stats {
            snmp: parse_snmp(b"A: x x y\nA: 1 2 3\nA: z\nA: 4\n").expect("parses"),
            ..Stats::default()
        };
        let mut out = Vec::new();
        render_json(&mut out, &s, &Selection::default()).expect("renders");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "{\"A\":{\"x\":1,\"y\":3,\"z\":4}}\n"
        );
    }

    #[test]
    fn malformed_input_names_the_line() {
        let cases: &[(&[u8], usize, &str)] = &[
            (b"Ip: a b\nIp: 1\n", 2, "2 names but 1 values"),
            (b"Ip: a b\n", 1, "no line of values"),
            (b"Ip: a\nTcp: 1\n", 2, "expected values for `Ip`"),
            (b"\nIp: a\nIp: x\n", 3, "bad counter value"),
            (b"Ip: a\nIp: 99999999999999999999\n", 2, "bad counter value"),
            (b"Ip a\nIp 1\n", 1, "expected `Group: ...`"),
            (b"Ip: a\x1b[2J\nIp: 1\n", 1, "bad name"),
        ];
        for (text, line, what) in cases {
            let e = parse_snmp(text).expect_err("malformed");
            assert_eq!(e.line, *line, "{e}");
            assert!(e.what.contains(what), "{e}");
        }
        let e = parse_snmp6(b"Ip6InReceives 1\nIp6InDelivers\n").expect_err("malformed");
        assert_eq!(e.line, 2);
        let e = parse_snmp6(b"Ip6InReceives 1 2\n").expect_err("malformed");
        assert_eq!(e.line, 1);
    }

    #[test]
    fn load_reads_a_proc_tree_and_names_the_bad_file() {
        let dir = std::env::temp_dir().join(format!("rnetstat-stats-{}", std::process::id()));
        let net = dir.join("net");
        std::fs::create_dir_all(&net).expect("mkdir");
        std::fs::write(net.join("snmp"), SNMP).expect("write");
        let s = load(&dir).expect("snmp alone is enough");
        assert_eq!(s.snmp.len(), 6);
        assert_eq!((s.netstat, s.snmp6, s.sctp), (None, None, None));

        std::fs::write(net.join("snmp6"), b"Ip6InReceives 1\nIp6InDelivers x\n").expect("write");
        let e = load(&dir).expect_err("bad snmp6");
        let msg = e.to_string();
        assert!(
            msg.contains("net/snmp6, line 2: bad counter value"),
            "{msg}"
        );

        std::fs::remove_file(net.join("snmp")).expect("rm");
        let e = load(&dir).expect_err("no snmp");
        assert!(
            matches!(&e, StatsError::Io { path, .. } if path.ends_with("net/snmp")),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn fuzz_entry_survives_odd_input() {
        for data in [
            &b""[..],
            b"\n\n",
            b"A: x\nA: -9223372036854775808\n",
            b"A: x\nA: 18446744073709551615\n",
            b"Ip6 6 \n666 1\n",
            &[0xff, b':', b'\n', 0, 0],
            SNMP,
            SNMP6,
        ] {
            fuzz(data);
        }
    }
}
