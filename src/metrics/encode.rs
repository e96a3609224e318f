//! The two exposition formats, from one [`Scrape`]: Prometheus text 0.0.4 (what `--metrics`
//! prints and node_exporter's textfile collector reads) and OpenMetrics 1.0 (what Prometheus
//! asks for first), chosen per request by [`Format::negotiate`].
//!
//! The formats differ only in how a counter family is named (`x_total` in text; `x` in its
//! HELP and TYPE lines in OpenMetrics, with `x_total` samples), and in OpenMetrics' closing
//! `# EOF`. Families are built once ([`families`]) and then written in either dialect.

use std::fmt::Write as _;

use super::collect::{
    slot_state, table_index, ListenerQueue, Scrape, LISTENER_CAP, PROGRAM_CAP, TABLES,
};
use crate::model::{InetProto, State, Table};
use crate::procmap::ScanKind;
use crate::source::SourceKind;

/// An exposition format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Prometheus text format 0.0.4.
    Text,
    /// OpenMetrics 1.0.0.
    OpenMetrics,
}

impl Format {
    /// The Content-Type header of an answer in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }

    /// The format an `Accept` header prefers: OpenMetrics when it asks for
    /// `application/openmetrics-text` (version 1.0.0 or unversioned) with a quality at least
    /// that of any text/plain or wildcard range; Prometheus text otherwise, and without a header.
    pub fn negotiate(accept: Option<&str>) -> Format {
        let Some(accept) = accept else {
            return Format::Text;
        };
        let (mut om, mut text) = (0.0f32, 0.0f32);
        for range in accept.split(',') {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().unwrap_or("").to_ascii_lowercase();
            let mut q = 1.0f32;
            let mut version = None;
            for p in parts {
                if let Some((k, v)) = p.split_once('=') {
                    let v = v.trim().trim_matches('"');
                    match k.trim().to_ascii_lowercase().as_str() {
                        "q" => q = v.parse().unwrap_or(0.0),
                        "version" => version = Some(v.to_string()),
                        _ => {}
                    }
                }
            }
            if !(0.0..=1.0).contains(&q) {
                continue;
            }
            match media.as_str() {
                "application/openmetrics-text"
                    if version.as_deref().is_none_or(|v| v == "1.0.0") =>
                {
                    om = om.max(q);
                }
                "text/plain" | "text/*" | "*/*" => text = text.max(q),
                _ => {}
            }
        }
        if om > 0.0 && om >= text {
            Format::OpenMetrics
        } else {
            Format::Text
        }
    }
}

/// What was left out past the caps, added up over every scrape of this process.
#[derive(Debug, Default, Clone, Copy)]
pub struct Dropped {
    /// Listener entries (each would have been one queue and one backlog series).
    pub listeners: u64,
    /// Programs (each would have had its own `rnetstat_program_sockets` series).
    pub programs: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Gauge,
    Counter,
}

#[derive(Debug)]
enum Value {
    Int(i128),
    Float(f64),
}

#[derive(Debug)]
struct Sample {
    labels: Vec<(&'static str, String)>,
    value: Value,
}

/// One metric family. `name` is the OpenMetrics family name: a counter's samples add `_total`.
#[derive(Debug)]
struct Family {
    name: &'static str,
    help: &'static str,
    kind: Kind,
    samples: Vec<Sample>,
}

impl Family {
    fn new(name: &'static str, kind: Kind, help: &'static str) -> Family {
        Family {
            name,
            help,
            kind,
            samples: Vec::new(),
        }
    }

    fn push(&mut self, labels: Vec<(&'static str, String)>, value: Value) {
        self.samples.push(Sample { labels, value });
    }
}

/// The kernel counters exported, from /proc/net/snmp (`Tcp`) and /proc/net/netstat (`TcpExt`):
/// (group, kernel name, family name, help).
pub const KERNEL_COUNTERS: [(&str, &str, &str, &str); 31] = [
    ("Tcp", "ActiveOpens", "rnetstat_tcp_active_opens", "TCP connections opened by connect() (Tcp ActiveOpens)."),
    ("Tcp", "PassiveOpens", "rnetstat_tcp_passive_opens", "TCP connections accepted from a listener (Tcp PassiveOpens)."),
    ("Tcp", "AttemptFails", "rnetstat_tcp_attempt_fails", "TCP connection attempts that failed (Tcp AttemptFails)."),
    ("Tcp", "EstabResets", "rnetstat_tcp_established_resets", "TCP connections reset from ESTABLISHED or CLOSE_WAIT (Tcp EstabResets)."),
    ("Tcp", "InSegs", "rnetstat_tcp_segments_received", "TCP segments received (Tcp InSegs)."),
    ("Tcp", "OutSegs", "rnetstat_tcp_segments_sent", "TCP segments sent (Tcp OutSegs)."),
    ("Tcp", "RetransSegs", "rnetstat_tcp_retransmitted_segments", "TCP segments retransmitted (Tcp RetransSegs)."),
    ("Tcp", "InErrs", "rnetstat_tcp_receive_errors", "TCP segments received in error (Tcp InErrs)."),
    ("Tcp", "OutRsts", "rnetstat_tcp_resets_sent", "TCP segments sent with RST (Tcp OutRsts)."),
    ("TcpExt", "ListenOverflows", "rnetstat_tcp_listen_overflows", "Connections dropped because a listener's accept queue was full (TcpExt ListenOverflows)."),
    ("TcpExt", "ListenDrops", "rnetstat_tcp_listen_drops", "SYNs to a listener that were dropped, overflows included (TcpExt ListenDrops)."),
    ("TcpExt", "TCPReqQFullDrop", "rnetstat_tcp_request_queue_full_drops", "SYNs dropped because the SYN queue was full and syncookies were off (TcpExt TCPReqQFullDrop)."),
    ("TcpExt", "TCPReqQFullDoCookies", "rnetstat_tcp_request_queue_full_cookies", "SYN cookies sent because the SYN queue was full (TcpExt TCPReqQFullDoCookies)."),
    ("TcpExt", "SyncookiesSent", "rnetstat_tcp_syncookies_sent", "SYN cookies sent (TcpExt SyncookiesSent)."),
    ("TcpExt", "SyncookiesRecv", "rnetstat_tcp_syncookies_received", "SYN cookies received back valid (TcpExt SyncookiesRecv)."),
    ("TcpExt", "SyncookiesFailed", "rnetstat_tcp_syncookies_failed", "SYN cookies received back invalid (TcpExt SyncookiesFailed)."),
    ("TcpExt", "TCPAbortOnData", "rnetstat_tcp_aborts_on_data", "Connections reset because data arrived after close (TcpExt TCPAbortOnData)."),
    ("TcpExt", "TCPAbortOnClose", "rnetstat_tcp_aborts_on_close", "Connections reset because they were closed with unread data (TcpExt TCPAbortOnClose)."),
    ("TcpExt", "TCPAbortOnMemory", "rnetstat_tcp_aborts_on_memory", "Connections aborted for lack of memory or too many orphans (TcpExt TCPAbortOnMemory)."),
    ("TcpExt", "TCPAbortOnTimeout", "rnetstat_tcp_aborts_on_timeout", "Connections aborted after their retransmits or probes timed out (TcpExt TCPAbortOnTimeout)."),
    ("TcpExt", "TCPAbortOnLinger", "rnetstat_tcp_aborts_on_linger", "Connections aborted in FIN_WAIT2 after the linger time (TcpExt TCPAbortOnLinger)."),
    ("TcpExt", "TCPAbortFailed", "rnetstat_tcp_abort_failures", "Aborts whose RST could not be sent (TcpExt TCPAbortFailed)."),
    ("TcpExt", "TW", "rnetstat_tcp_time_wait_finished", "TCP sockets that finished TIME_WAIT (TcpExt TW)."),
    ("TcpExt", "TWRecycled", "rnetstat_tcp_time_wait_recycled", "TIME_WAIT sockets recycled by timestamp (TcpExt TWRecycled)."),
    ("TcpExt", "TWKilled", "rnetstat_tcp_time_wait_killed", "TIME_WAIT sockets killed early (TcpExt TWKilled)."),
    ("TcpExt", "TCPTimeWaitOverflow", "rnetstat_tcp_time_wait_overflows", "TIME_WAIT sockets not created because tcp_max_tw_buckets was reached (TcpExt TCPTimeWaitOverflow)."),
    ("TcpExt", "TCPTimeouts", "rnetstat_tcp_timeouts", "Retransmission timeouts (TcpExt TCPTimeouts)."),
    ("TcpExt", "TCPSynRetrans", "rnetstat_tcp_syn_retransmits", "SYN and SYN-ACK retransmissions (TcpExt TCPSynRetrans)."),
    ("TcpExt", "TCPLostRetransmit", "rnetstat_tcp_lost_retransmits", "Retransmitted segments that were lost again (TcpExt TCPLostRetransmit)."),
    ("TcpExt", "TCPBacklogDrop", "rnetstat_tcp_backlog_drops", "Segments dropped because the socket backlog was full (TcpExt TCPBacklogDrop)."),
    ("TcpExt", "TCPMemoryPressures", "rnetstat_tcp_memory_pressures", "Times TCP entered memory pressure (TcpExt TCPMemoryPressures)."),
];

/// The states a table's sockets can be in and the listing names: these get a series even when
/// zero (where the listing asked for them), so alerts see 0 rather than nothing.
fn usual_states(t: Table) -> &'static [State] {
    match t {
        Table::Inet(InetProto::Tcp, _) => &[
            State::Established,
            State::SynSent,
            State::SynRecv,
            State::FinWait1,
            State::FinWait2,
            State::TimeWait,
            State::Close,
            State::CloseWait,
            State::LastAck,
            State::Listen,
            State::Closing,
        ],
        Table::Inet(..) => &[State::Established, State::Close],
        Table::Unix => &[State::Established, State::Listen, State::Close],
    }
}

fn label(v: impl Into<String>) -> String {
    v.into()
}

/// With `-N`, the `netns` label of namespace `i` appended to `labels`; nothing without `-N`.
fn with_netns(
    s: &Scrape,
    i: usize,
    mut labels: Vec<(&'static str, String)>,
) -> Vec<(&'static str, String)> {
    if let Some(n) = s.netns.get(i) {
        labels.push(("netns", n.clone()));
    }
    labels
}

/// The families of one scrape; `dropped` is the running total, updated here.
fn families(s: &Scrape, dropped: &mut Dropped) -> Vec<Family> {
    let mut out = Vec::new();

    let mut sockets = Family::new(
        "rnetstat_sockets",
        Kind::Gauge,
        "Sockets the listing shows, by protocol and state.",
    );
    for (ns, counts) in s.counts.iter().enumerate() {
        for &(table, mask) in &s.selected {
            let mut rows: Vec<(&'static str, u64)> = Vec::new();
            for st in usual_states(table) {
                if mask & st.mask_bit() != 0 {
                    rows.push((table.state_name(*st), 0));
                }
            }
            for (slot, &n) in counts[table_index(table)].iter().enumerate() {
                if n == 0 {
                    continue;
                }
                let name = table.state_name(slot_state(slot));
                match rows.iter_mut().find(|r| r.0 == name) {
                    Some(r) => r.1 += n,
                    None => rows.push((name, n)),
                }
            }
            for (state, n) in rows {
                sockets.push(
                    with_netns(
                        s,
                        ns,
                        vec![("proto", table.to_string()), ("state", label(state))],
                    ),
                    Value::Int(n.into()),
                );
            }
        }
    }
    out.push(sockets);

    let mut listeners: Vec<(&_, &ListenerQueue)> = s.listeners.iter().collect();
    listeners.sort_by(|a, b| a.0.cmp(b.0));
    if listeners.len() > LISTENER_CAP {
        dropped.listeners += (listeners.len() - LISTENER_CAP) as u64;
        listeners.truncate(LISTENER_CAP);
    }
    let mut queue = Family::new(
        "rnetstat_listen_queue",
        Kind::Gauge,
        "Connections waiting in a TCP listener's accept queue.",
    );
    let mut backlog = Family::new(
        "rnetstat_listen_backlog",
        Kind::Gauge,
        "The limit of a TCP listener's accept queue.",
    );
    for (k, q) in listeners {
        let labels = || {
            with_netns(
                s,
                k.netns,
                vec![
                    ("proto", TABLES[k.table].to_string()),
                    ("address", k.address.to_string()),
                    ("port", k.port.to_string()),
                    ("program", k.program.clone()),
                ],
            )
        };
        queue.push(labels(), Value::Int(q.queue.into()));
        backlog.push(labels(), Value::Int(q.backlog.into()));
    }
    out.push(queue);
    out.push(backlog);

    if s.by_program {
        let mut programs: Vec<_> = s.programs.iter().collect();
        programs.sort_by(|a, b| a.0.cmp(b.0));
        if programs.len() > PROGRAM_CAP {
            dropped.programs += (programs.len() - PROGRAM_CAP) as u64;
            programs.truncate(PROGRAM_CAP);
        }
        let mut fam = Family::new(
            "rnetstat_program_sockets",
            Kind::Gauge,
            "Sockets held by a program (comm name), by protocol and state.",
        );
        for (key, counts) in programs {
            for (t, table) in TABLES.iter().enumerate() {
                let mut rows: Vec<(&'static str, u64)> = Vec::new();
                for (slot, &n) in counts[t].iter().enumerate() {
                    if n == 0 {
                        continue;
                    }
                    let state = table.state_name(slot_state(slot));
                    match rows.iter_mut().find(|r| r.0 == state) {
                        Some(r) => r.1 += n,
                        None => rows.push((state, n)),
                    }
                }
                for (state, n) in rows {
                    let mut labels = vec![
                        ("program", key.name.clone()),
                        ("proto", table.to_string()),
                        ("state", label(state)),
                    ];
                    if !key.container.is_empty() {
                        labels.push(("container", key.container.clone()));
                    }
                    fam.push(with_netns(s, key.netns, labels), Value::Int(n.into()));
                }
            }
        }
        out.push(fam);
    }

    let mut d = Family::new(
        "rnetstat_series_dropped",
        Kind::Counter,
        "Entries left out past the caps: listeners (1000 a scrape) and programs (500 a scrape).",
    );
    d.push(
        vec![("family", label("listen"))],
        Value::Int(dropped.listeners.into()),
    );
    d.push(
        vec![("family", label("program"))],
        Value::Int(dropped.programs.into()),
    );
    out.push(d);

    let mut up = Family::new(
        "rnetstat_kernel_counters_up",
        Kind::Gauge,
        "Whether /proc/net/snmp and /proc/net/netstat could be read (1) or not (0).",
    );
    for (ns, k) in s.kernel.iter().enumerate() {
        up.push(
            with_netns(s, ns, Vec::new()),
            Value::Int(i128::from(k.is_ok())),
        );
    }
    out.push(up);
    for (group, counter, name, help) in KERNEL_COUNTERS {
        let mut f = Family::new(name, Kind::Counter, help);
        for (ns, k) in s.kernel.iter().enumerate() {
            let Ok(stats) = k else { continue };
            if let Some(v) = stats.group(group).and_then(|g| g.get(counter)) {
                f.push(with_netns(s, ns, Vec::new()), Value::Int(v.max(0)));
            }
        }
        if !f.samples.is_empty() {
            out.push(f);
        }
    }

    let mut table_up = Family::new(
        "rnetstat_table_up",
        Kind::Gauge,
        "Whether a selected socket table could be listed (1) or not (0).",
    );
    let mut source = Family::new(
        "rnetstat_table_source",
        Kind::Gauge,
        "Which source served a socket table this scrape (always 1; see the source label).",
    );
    for &(table, _) in &s.selected {
        let served = s.outcome.served.iter().find(|x| x.table == table);
        table_up.push(
            vec![("proto", table.to_string())],
            Value::Int(i128::from(served.is_some())),
        );
        if let Some(x) = served {
            let by = match x.by {
                SourceKind::Netlink => "netlink",
                SourceKind::Descriptors => "bpf",
                SourceKind::Proc => "proc",
            };
            source.push(
                vec![("proto", table.to_string()), ("source", label(by))],
                Value::Int(1),
            );
        }
    }
    out.push(table_up);
    out.push(source);

    if let Some((by, _)) = &s.outcome.owners_by {
        let mut f = Family::new(
            "rnetstat_owner_scan",
            Kind::Gauge,
            "How owners were found this scrape (always 1; see the method label).",
        );
        let method = match by {
            ScanKind::Bpf => "bpf",
            ScanKind::Proc => "proc",
        };
        f.push(vec![("method", label(method))], Value::Int(1));
        out.push(f);
        let mut f = Family::new(
            "rnetstat_owners_incomplete",
            Kind::Gauge,
            "Whether some processes could not be inspected, so some owners are missing (1) or not (0).",
        );
        f.push(
            Vec::new(),
            Value::Int(i128::from(s.outcome.owners_incomplete)),
        );
        out.push(f);
    }

    let mut f = Family::new(
        "rnetstat_scrape_duration_seconds",
        Kind::Gauge,
        "How long this scrape's listing and counters took.",
    );
    f.push(Vec::new(), Value::Float(s.seconds));
    out.push(f);
    out
}

/// Escapes a label value (both formats): backslash, double quote and newline.
fn escape_label(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Writes `s` in `format`; `dropped` carries the caps' running totals between scrapes.
pub fn encode(s: &Scrape, format: Format, dropped: &mut Dropped) -> String {
    let mut out = String::with_capacity(16 * 1024);
    for fam in families(s, dropped) {
        if fam.samples.is_empty() {
            continue;
        }
        let sample_name = match fam.kind {
            Kind::Counter => format!("{}_total", fam.name),
            Kind::Gauge => fam.name.to_string(),
        };
        let (head, kind) = match (format, fam.kind) {
            (Format::Text, k) => (sample_name.as_str(), k),
            (Format::OpenMetrics, k) => (fam.name, k),
        };
        let kind = match kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
        };
        // Help texts are constants without backslashes, quotes or newlines: nothing to escape.
        let _ = writeln!(out, "# HELP {head} {}", fam.help);
        let _ = writeln!(out, "# TYPE {head} {kind}");
        for sample in &fam.samples {
            out.push_str(&sample_name);
            if !sample.labels.is_empty() {
                out.push('{');
                for (i, (k, v)) in sample.labels.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(k);
                    out.push_str("=\"");
                    escape_label(&mut out, v);
                    out.push('"');
                }
                out.push('}');
            }
            out.push(' ');
            match sample.value {
                Value::Int(n) => {
                    out.push_str(itoa::Buffer::new().format(n));
                }
                Value::Float(x) => {
                    let _ = write!(out, "{x}");
                }
            }
            out.push('\n');
        }
    }
    if format == Format::OpenMetrics {
        out.push_str("# EOF\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_default_accept_header_gets_openmetrics() {
        let prom = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;\
                    version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(Format::negotiate(Some(prom)), Format::OpenMetrics);
        assert_eq!(
            Format::negotiate(Some("application/openmetrics-text")),
            Format::OpenMetrics
        );
    }

    #[test]
    fn text_unless_openmetrics_1_is_preferred() {
        assert_eq!(Format::negotiate(None), Format::Text);
        assert_eq!(Format::negotiate(Some("*/*")), Format::Text);
        assert_eq!(Format::negotiate(Some("text/plain")), Format::Text);
        assert_eq!(
            Format::negotiate(Some("application/openmetrics-text;version=0.0.1")),
            Format::Text
        );
        assert_eq!(
            Format::negotiate(Some(
                "text/plain;q=0.9, application/openmetrics-text; version=1.0.0; q=0.5"
            )),
            Format::Text
        );
        assert_eq!(
            Format::negotiate(Some("application/openmetrics-text;q=0")),
            Format::Text
        );
        assert_eq!(Format::negotiate(Some(",,;;=;q=x")), Format::Text);
    }

    use super::super::collect::{ListenerKey, ListenerQueue, SLOTS};
    use crate::model::Family as AddressFamily;
    use std::collections::HashMap;

    /// A scrape of `listeners` TCP listeners on 127.0.0.1, ports 1.., and nothing else.
    fn scrape_with(listeners: u16) -> Scrape {
        let tcp = Table::Inet(InetProto::Tcp, AddressFamily::V4);
        let mut counts = [[0; SLOTS]; TABLES.len()];
        counts[0][usize::from(State::Listen.as_u8())] = u64::from(listeners);
        let listeners: HashMap<_, _> = (1..=listeners)
            .map(|port| {
                let key = ListenerKey {
                    netns: 0,
                    table: 0,
                    address: std::net::Ipv4Addr::LOCALHOST.into(),
                    port,
                    program: "a\"b".to_string(),
                };
                (
                    key,
                    ListenerQueue {
                        queue: 1,
                        backlog: 4,
                    },
                )
            })
            .collect();
        Scrape {
            counts: vec![counts],
            netns: Vec::new(),
            selected: vec![(tcp, State::KNOWN_MASK)],
            listeners,
            programs: HashMap::new(),
            by_program: false,
            outcome: crate::listing::Outcome::default(),
            kernel: vec![Ok(crate::stats::Stats::default())],
            seconds: 0.25,
        }
    }

    #[test]
    fn counters_are_named_per_dialect_and_openmetrics_ends_in_eof() {
        let s = scrape_with(2);
        let text = encode(&s, Format::Text, &mut Dropped::default());
        assert!(text.contains("# TYPE rnetstat_series_dropped_total counter\n"));
        assert!(!text.contains("# EOF"));
        let om = encode(&s, Format::OpenMetrics, &mut Dropped::default());
        assert!(om.contains("# TYPE rnetstat_series_dropped counter\n"));
        assert!(om.contains("\nrnetstat_series_dropped_total{family=\"listen\"} 0\n"));
        assert!(om.ends_with("\n# EOF\n"));
        for out in [&text, &om] {
            assert!(out.contains(
                "rnetstat_listen_backlog{proto=\"tcp\",address=\"127.0.0.1\",port=\"2\",program=\"a\\\"b\"} 4\n"
            ));
            assert!(out.contains("rnetstat_sockets{proto=\"tcp\",state=\"LISTEN\"} 2\n"));
            assert!(out.contains("rnetstat_sockets{proto=\"tcp\",state=\"TIME_WAIT\"} 0\n"));
            assert!(out.contains("rnetstat_scrape_duration_seconds 0.25\n"));
        }
    }

    #[test]
    fn listeners_past_the_cap_are_dropped_and_counted_across_scrapes() {
        let extra = 5;
        let s = scrape_with(LISTENER_CAP as u16 + extra);
        let mut dropped = Dropped::default();
        let first = encode(&s, Format::Text, &mut dropped);
        assert_eq!(
            first.matches("\nrnetstat_listen_queue{").count(),
            LISTENER_CAP
        );
        // The lowest ports are kept.
        assert!(first.contains(&format!("port=\"{LISTENER_CAP}\"")));
        assert!(!first.contains(&format!("port=\"{}\"", LISTENER_CAP + 1)));
        assert!(first.contains("rnetstat_series_dropped_total{family=\"listen\"} 5\n"));
        let second = encode(&s, Format::Text, &mut dropped);
        assert!(second.contains("rnetstat_series_dropped_total{family=\"listen\"} 10\n"));
    }

    #[test]
    fn label_values_escape_backslash_quote_newline() {
        let mut s = String::new();
        escape_label(&mut s, "a\\b\"c\nd");
        assert_eq!(s, "a\\\\b\\\"c\\nd");
    }

    #[test]
    fn kernel_counter_names_are_unique_snake_case() {
        let mut names: Vec<&str> = KERNEL_COUNTERS.iter().map(|c| c.2).collect();
        for n in &names {
            assert!(
                n.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{n}"
            );
            assert!(!n.ends_with("_total"), "{n}");
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), KERNEL_COUNTERS.len());
    }
}
