//! Printing `-s`: netstat's layout over the counters, driven by [`super::wording`], and the
//! `--json` form with every counter as a number.

use std::collections::HashSet;
use std::io::{self, Write};

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use super::wording::{c_bsearch, Entry, Kind, Table, SNMP6_TABLES, SNMP_TABLES};
use super::{Counter, Group, Selection, Stats};

/// netstat's printing state: what the last printed line was, which sets the indent of the next
/// unknown counter and whether a histogram title is due.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Number,
    OptNumber,
    InHist,
    OutHist,
}

impl Mode {
    fn indent(self) -> usize {
        match self {
            Mode::Number | Mode::OptNumber => 4,
            Mode::InHist | Mode::OutHist => 8,
        }
    }
}

/// One group as `-s` shows it: where netstat would look its phrases up, and whether its
/// counters are selected.
struct Section<'a> {
    group: &'a Group,
    /// `None` for a group netstat does not know (IcmpMsg, IpExt, UdpLite6, ...): every counter
    /// prints as `Name: value` when not zero.
    entries: Option<&'static [Entry]>,
    /// A known group whose protocol is not selected prints nothing at all.
    shown: bool,
}

fn section<'a>(tables: &[Table], group: &'a Group, sel: &Selection) -> Section<'a> {
    match tables.iter().find(|t| t.name == group.name) {
        Some(t) => Section {
            group,
            entries: Some(t.entries),
            shown: sel.shows(t.proto),
        },
        None => Section {
            group,
            entries: None,
            shown: true,
        },
    }
}

/// The groups `-s` shows for `sel`, in netstat's order: the IPv4 files as `netstat -s` reads
/// them, then snmp6 as `netstat -s -6` does. With IPv6 alone, netstat adds the Tcp group of
/// net/snmp (TCP's counters cover both families); with both it is already there.
fn plan<'a>(stats: &'a Stats, sel: &Selection) -> Vec<Section<'a>> {
    let mut out = Vec::new();
    if sel.ipv4 {
        let groups = stats
            .snmp
            .iter()
            .chain(stats.netstat.iter().flatten())
            .chain(stats.sctp.iter());
        out.extend(groups.map(|g| section(SNMP_TABLES, g, sel)));
    }
    if sel.ipv6 {
        let groups = stats.snmp6.iter().flatten();
        out.extend(groups.map(|g| section(SNMP6_TABLES, g, sel)));
        if !sel.ipv4 {
            let tcp = stats.snmp.iter().filter(|g| g.name.starts_with("Tcp"));
            out.extend(tcp.map(|g| section(SNMP_TABLES, g, sel)));
        }
    }
    out
}

/// netstat prints counters with `%llu` after `strtoull()`: a negative value wraps.
fn netstat_value(v: i128) -> u64 {
    if v < 0 {
        (v as i64) as u64
    } else {
        v as u64
    }
}

/// Writes `-s` output: net-tools 2.10's `netstat -s` (then `netstat -s -6`), byte for byte.
///
/// That includes netstat's quirks, kept because scripts and eyes compare against it: counters
/// it has no phrase for print as `Name: value` and only when not zero; a group it does not know
/// keeps the indent of the group before it (so `IcmpMsg` lines are indented 8 after the ICMP
/// histograms); a histogram title prints even when all its counters are zero, at the indent
/// of the line before it; and some phrases are missed because its tables are not sorted.
pub fn render<W: Write>(w: &mut W, stats: &Stats, sel: &Selection) -> io::Result<()> {
    let mut mode = Mode::Number;
    for s in plan(stats, sel) {
        if s.shown {
            writeln!(w, "{}:", s.group.name)?;
        }
        if s.entries.is_some() {
            // Only a group netstat knows resets its state.
            mode = Mode::Number;
        }
        if !s.shown {
            continue;
        }
        for c in &s.group.counters {
            counter(w, &mut mode, s.entries, &c.name, netstat_value(c.value))?;
        }
    }
    Ok(())
}

fn counter<W: Write>(
    w: &mut W,
    mode: &mut Mode,
    entries: Option<&'static [Entry]>,
    name: &str,
    v: u64,
) -> io::Result<()> {
    let Some(ent) = entries.and_then(|t| c_bsearch(t, name)) else {
        if v != 0 {
            writeln!(w, "{:indent$}{name}: {v}", "", indent = mode.indent())?;
        }
        return Ok(());
    };
    let next = match ent.kind {
        Kind::Static | Kind::Silent => return Ok(()),
        Kind::Number => Mode::Number,
        Kind::OptNumber => Mode::OptNumber,
        Kind::InHist | Kind::OutHist => {
            let (next, title) = if ent.kind == Kind::InHist {
                (Mode::InHist, "ICMP input histogram:")
            } else {
                (Mode::OutHist, "ICMP output histogram:")
            };
            if *mode != next {
                writeln!(w, "{:indent$}{title}", "", indent = mode.indent())?;
            }
            next
        }
    };
    if ent.kind == Kind::Number || v != 0 {
        let phrase = ent.phrase.replacen("%llu", &v.to_string(), 1);
        writeln!(w, "{:indent$}{phrase}", "", indent = next.indent())?;
    }
    *mode = next;
    Ok(())
}

/// The `--json` form of `-s`: `{"Ip": {"InReceives": 123, ...}, "Tcp": {...}, "Ip6": {...}}`,
/// the same groups the text shows, every counter (zeros too) as a number under the kernel's
/// name, in the kernel's order. A group or counter name seen twice keeps its first value.
pub struct StatsJson<'a> {
    sections: Vec<Section<'a>>,
}

impl Stats {
    /// What [`render_json`] writes, for callers that embed it in a larger document.
    pub fn json(&self, sel: &Selection) -> StatsJson<'_> {
        StatsJson {
            sections: plan(self, sel).into_iter().filter(|s| s.shown).collect(),
        }
    }
}

struct GroupJson<'a>(Vec<&'a Counter>);

impl Serialize for GroupJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        let mut seen = HashSet::new();
        for c in &self.0 {
            if !seen.insert(c.name.as_str()) {
                continue;
            }
            if c.value < 0 {
                m.serialize_entry(&c.name, &(c.value as i64))?;
            } else {
                m.serialize_entry(&c.name, &(c.value as u64))?;
            }
        }
        m.end()
    }
}

impl Serialize for StatsJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Same-named groups (possible only in doctored files) merge into the first.
        let mut order: Vec<&str> = Vec::new();
        let mut merged: Vec<Vec<&Counter>> = Vec::new();
        for sec in &self.sections {
            let name = sec.group.name.as_str();
            match order.iter().position(|n| *n == name) {
                Some(i) => merged[i].extend(&sec.group.counters),
                None => {
                    order.push(name);
                    merged.push(sec.group.counters.iter().collect());
                }
            }
        }
        let mut m = s.serialize_map(Some(order.len()))?;
        for (name, counters) in order.iter().zip(merged) {
            m.serialize_entry(name, &GroupJson(counters))?;
        }
        m.end()
    }
}

/// Writes the `--json` form of `-s` (one object, then a newline).
pub fn render_json<W: Write>(w: &mut W, stats: &Stats, sel: &Selection) -> io::Result<()> {
    serde_json::to_writer(&mut *w, &stats.json(sel))?;
    writeln!(w)
}
