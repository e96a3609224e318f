//! Counter files as text → [`Group`]s: `/proc/net/snmp`'s header/value line pairs,
//! `/proc/net/netstat`'s the same, and `snmp6`'s and `sctp/snmp`'s name-value lines. Pure, so
//! fixtures and fuzzers drive it directly.

use std::fmt;

use super::{Counter, Group};

/// Why a counters file could not be parsed: the 1-based line and what was wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub what: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.what)
    }
}

impl std::error::Error for ParseError {}

fn perr<T>(line: usize, what: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError {
        line,
        what: what.into(),
    })
}

/// Non-blank lines with their 1-based numbers.
fn lines(text: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    text.split(|b| *b == b'\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.iter().all(u8::is_ascii_whitespace))
}

fn fields(s: &[u8]) -> impl Iterator<Item = &[u8]> {
    s.split(u8::is_ascii_whitespace).filter(|f| !f.is_empty())
}

/// A counter or group name: the kernel's are ASCII letters and digits; anything printable
/// without whitespace is accepted, nothing that could drive a terminal.
fn name(line: usize, b: &[u8]) -> Result<String, ParseError> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_graphic) {
        return perr(line, format!("bad name {:?}", String::from_utf8_lossy(b)));
    }
    Ok(String::from_utf8_lossy(b).into_owned())
}

fn value(line: usize, b: &[u8]) -> Result<i128, ParseError> {
    let parsed = std::str::from_utf8(b).ok().and_then(|s| {
        if s.starts_with('-') {
            s.parse::<i64>().ok().map(i128::from)
        } else if s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse::<u64>().ok().map(i128::from)
        } else {
            None
        }
    });
    match parsed {
        Some(v) => Ok(v),
        None => perr(
            line,
            format!("bad counter value {:?}", String::from_utf8_lossy(b)),
        ),
    }
}

/// Splits `Name: rest` at the first colon.
fn prefixed(line: usize, l: &[u8]) -> Result<(String, &[u8]), ParseError> {
    match l.iter().position(|b| *b == b':') {
        Some(i) => Ok((name(line, l[..i].trim_ascii())?, &l[i + 1..])),
        None => perr(line, "expected `Group: ...`"),
    }
}

/// Parses /proc/net/snmp or /proc/net/netstat: per group, a line of counter names and a line of
/// values, both starting with `Group:`.
pub fn parse_snmp(text: &[u8]) -> Result<Vec<Group>, ParseError> {
    let mut groups = Vec::new();
    let mut it = lines(text);
    while let Some((hn, header)) = it.next() {
        let (group, names) = prefixed(hn, header)?;
        let Some((vn, values)) = it.next() else {
            return perr(
                hn,
                format!("`{group}:` names have no line of values after them"),
            );
        };
        let (vgroup, values) = prefixed(vn, values)?;
        if vgroup != group {
            return perr(
                vn,
                format!("expected values for `{group}`, found `{vgroup}`"),
            );
        }
        let names: Vec<&[u8]> = fields(names).collect();
        let values: Vec<&[u8]> = fields(values).collect();
        if names.len() != values.len() {
            return perr(
                vn,
                format!(
                    "`{group}` has {} names but {} values",
                    names.len(),
                    values.len()
                ),
            );
        }
        let counters = names
            .iter()
            .zip(&values)
            .map(|(n, v)| {
                Ok(Counter {
                    name: name(hn, n)?,
                    value: value(vn, v)?,
                })
            })
            .collect::<Result<_, ParseError>>()?;
        groups.push(Group {
            name: group,
            counters,
        });
    }
    Ok(groups)
}

/// `name value` lines (/proc/net/snmp6, /proc/net/sctp/snmp).
fn name_value_lines(text: &[u8]) -> impl Iterator<Item = Result<Counter, ParseError>> + '_ {
    lines(text).map(|(n, l)| {
        let mut f = fields(l);
        match (f.next(), f.next(), f.next()) {
            (Some(k), Some(v), None) => Ok(Counter {
                name: name(n, k)?,
                value: value(n, v)?,
            }),
            _ => perr(n, "expected `Name value`"),
        }
    })
}

/// The group a snmp6 counter starts: its name up to and including the first `6` (`Ip6InReceives`
/// → `Ip6`), as netstat cuts it.
fn snmp6_group(counter: &str) -> &str {
    match counter.find('6') {
        Some(i) => &counter[..=i],
        None => counter,
    }
}

/// Parses /proc/net/snmp6 (`Ip6InReceives 123` lines). Lines are grouped as netstat groups
/// them: a new group starts at a name that does not contain the current group's name.
pub fn parse_snmp6(text: &[u8]) -> Result<Vec<Group>, ParseError> {
    let mut groups: Vec<Group> = Vec::new();
    for c in name_value_lines(text) {
        let c = c?;
        match groups.last_mut() {
            Some(g) if c.name.contains(g.name.as_str()) => g.counters.push(c),
            _ => groups.push(Group {
                name: snmp6_group(&c.name).to_string(),
                counters: vec![c],
            }),
        }
    }
    Ok(groups)
}

/// Parses /proc/net/sctp/snmp (`SctpCurrEstab 0` lines) into the `Sctp` group.
pub fn parse_sctp(text: &[u8]) -> Result<Group, ParseError> {
    Ok(Group {
        name: "Sctp".to_string(),
        counters: name_value_lines(text).collect::<Result<_, _>>()?,
    })
}
