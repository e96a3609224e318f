//! `--summary`: what `ss -s` prints, line for line and figure for figure.
//!
//! ss 6.1's `print_summary` does not count a listing: it reads the kernel's own counters, so
//! this does the same. `/proc/net/sockstat` and `sockstat6` give sockets in use per protocol,
//! TCP's allocated, orphaned and time-wait counts and the IP fragment queues;
//! `/proc/net/snmp` gives `Tcp: CurrEstab`. From those ss derives its figures:
//! - `Total` is `sockets: used` (every socket of the namespace's kernel accounting);
//! - `TCP:` is alloc + tw; `closed` is alloc − (inuse4 + inuse6 − tw), which can be large on a
//!   busy host (sockets allocated but not hashed: closed or being closed);
//! - the table's TCP row is the hashed (in-use) counts, INET their sum with RAW and UDP, and FRAG
//!   the fragment queues.
//!
//! Parsing is pure (text in, [`Summary`] out) and mirrors ss's `get_sockstat_line` and
//! `get_snmp_int`, including what they make of odd input (a field that does not parse stays 0).

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

/// The counters `ss -s` reads. Values are C `int`s in ss; kept as `i64` here (never negative
/// from a sane kernel, but `closed` is a difference).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub sockets_used: i64,
    pub tcp_inuse4: i64,
    pub tcp_orphan: i64,
    pub tcp_tw: i64,
    pub tcp_alloc: i64,
    pub tcp_mem: i64,
    pub udp4: i64,
    pub raw4: i64,
    pub frag4: i64,
    pub frag4_mem: i64,
    pub tcp_inuse6: i64,
    pub udp6: i64,
    pub raw6: i64,
    pub frag6: i64,
    pub frag6_mem: i64,
    /// `Tcp: CurrEstab` from /proc/net/snmp.
    pub tcp_estab: i64,
}

/// The leading integer of `s` as C's `%d` reads it (optional sign, digits); `None` when there
/// is none.
fn c_int(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let sign_len = usize::from(matches!(b.first(), Some(b'-' | b'+')));
    let digits = b[sign_len..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    if digits == 0 {
        return None;
    }
    let v: i64 = s[..sign_len + digits].parse().ok()?;
    // ss reads into an int.
    Some(v.clamp(i64::from(i32::MIN), i64::from(i32::MAX)))
}

impl Counters {
    /// One line of sockstat or sockstat6, as ss's `get_sockstat_line` reads it: the first word
    /// names the line, then `word value` pairs whose values are taken in order; a value that
    /// does not parse ends the line (what is read so far stays).
    pub fn sockstat_line(&mut self, line: &str) {
        let Some((id, rest)) = line.split_once(' ') else {
            return;
        };
        let slots: Vec<&mut i64> = match id {
            "sockets:" => vec![&mut self.sockets_used],
            "UDP:" => vec![&mut self.udp4],
            "UDP6:" => vec![&mut self.udp6],
            "RAW:" => vec![&mut self.raw4],
            "RAW6:" => vec![&mut self.raw6],
            "TCP6:" => vec![&mut self.tcp_inuse6],
            "FRAG:" => vec![&mut self.frag4, &mut self.frag4_mem],
            "FRAG6:" => vec![&mut self.frag6, &mut self.frag6_mem],
            "TCP:" => vec![
                &mut self.tcp_inuse4,
                &mut self.tcp_orphan,
                &mut self.tcp_tw,
                &mut self.tcp_alloc,
                &mut self.tcp_mem,
            ],
            _ => return,
        };
        let mut words = rest.split_whitespace();
        for slot in slots {
            let (Some(_label), Some(value)) = (words.next(), words.next()) else {
                return;
            };
            match c_int(value) {
                Some(v) => *slot = v,
                None => return,
            }
        }
    }

    /// `Tcp: CurrEstab` from the text of /proc/net/snmp, as ss's `get_snmp_int` finds it: the
    /// header line starting `Tcp:` that names the key, and the value in the same position on the
    /// next line. `None` when it is not there.
    pub fn curr_estab(snmp: &str) -> Option<i64> {
        let mut lines = snmp.lines();
        while let Some(head) = lines.next() {
            if !head.starts_with("Tcp:") {
                continue;
            }
            let pos = head.split(' ').position(|w| w == "CurrEstab")?;
            let values = lines.next()?;
            if !values.starts_with("Tcp:") {
                return None;
            }
            return values.split(' ').nth(pos).and_then(c_int);
        }
        None
    }
}

/// What could not be read.
#[derive(Debug)]
pub struct SummaryError {
    pub path: PathBuf,
    pub source: io::Error,
}

impl std::fmt::Display for SummaryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot read {}", self.path.display())
    }
}

impl std::error::Error for SummaryError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Reads the counters under a procfs root (`/proc`, or `/proc/thread-self` for the calling
/// thread's network namespace). sockstat and snmp must be there; sockstat6 is absent without
/// IPv6 and then counts as zeros, as in ss.
pub fn load(proc_root: &Path) -> Result<Counters, SummaryError> {
    let read = |name: &str| {
        let path = proc_root.join("net").join(name);
        std::fs::read(&path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .map_err(|source| SummaryError { path, source })
    };
    let mut c = Counters::default();
    for line in read("sockstat")?.lines() {
        c.sockstat_line(line);
    }
    if let Ok(text) = read("sockstat6") {
        for line in text.lines() {
            c.sockstat_line(line);
        }
    }
    c.tcp_estab = Counters::curr_estab(&read("snmp")?).unwrap_or(0);
    Ok(c)
}

/// With -N: the counters of every namespace `specs` selects, each read by a thread inside it
/// (`/proc/thread-self/net`), added up. The kernel keeps the TCP orphan, allocated-socket and
/// memory counters host-wide, so those are taken once, as ss shows them in any namespace. Also
/// returns the hint about namespaces that could not be entered, if any.
pub fn load_namespaces(
    specs: &[crate::netns::Spec],
    proc_root: &Path,
) -> Result<(Counters, Option<String>), SummaryError> {
    let found = crate::netns::discover_remaining(specs, proc_root).map_err(|e| SummaryError {
        path: e.path,
        source: e.source,
    })?;
    let fds: Vec<_> = found.targets.iter().map(|t| t.fd.as_ref()).collect();
    let loaded = crate::netns::enter::run_each(&fds, 2, |i| {
        if fds[i].is_some() {
            load(&proc_root.join("thread-self"))
        } else {
            load(proc_root)
        }
    });
    let mut total: Option<Counters> = None;
    let mut outcome = crate::listing::Outcome {
        netns_gone: found.gone,
        ..Default::default()
    };
    for (target, r) in found.targets.into_iter().zip(loaded) {
        match r {
            Ok(c) => {
                let c = c?;
                match &mut total {
                    None => total = Some(c),
                    Some(t) => {
                        for (sum, v) in [
                            (&mut t.sockets_used, c.sockets_used),
                            (&mut t.tcp_inuse4, c.tcp_inuse4),
                            (&mut t.tcp_tw, c.tcp_tw),
                            (&mut t.udp4, c.udp4),
                            (&mut t.raw4, c.raw4),
                            (&mut t.frag4, c.frag4),
                            (&mut t.frag4_mem, c.frag4_mem),
                            (&mut t.tcp_inuse6, c.tcp_inuse6),
                            (&mut t.udp6, c.udp6),
                            (&mut t.raw6, c.raw6),
                            (&mut t.frag6, c.frag6),
                            (&mut t.frag6_mem, c.frag6_mem),
                            (&mut t.tcp_estab, c.tcp_estab),
                        ] {
                            *sum += v;
                        }
                    }
                }
            }
            Err(
                crate::netns::enter::EnterError::Setns(e)
                | crate::netns::enter::EnterError::Thread(e),
            ) => outcome.netns_skipped.push(crate::netns::Skipped {
                netns: target.netns,
                why: e,
            }),
        }
    }
    Ok((total.unwrap_or_default(), outcome.netns_hint()))
}

/// One row of the transport table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Row {
    pub total: i64,
    pub ipv4: i64,
    pub ipv6: i64,
}

/// The TCP line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TcpLine {
    pub total: i64,
    pub estab: i64,
    pub closed: i64,
    pub orphaned: i64,
    pub timewait: i64,
}

/// The figures `ss -s` prints, derived from [`Counters`] as ss derives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub total: i64,
    pub tcp: TcpLine,
    pub raw: Row,
    pub udp: Row,
    /// In-use (hashed) TCP sockets: the table's TCP row.
    pub tcp_inuse: Row,
    pub inet: Row,
    /// IP fragment queues (`FRAG` row).
    pub frag: Row,
}

impl Summary {
    pub fn from_counters(c: &Counters) -> Summary {
        let row = |ipv4: i64, ipv6: i64| Row {
            total: ipv4 + ipv6,
            ipv4,
            ipv6,
        };
        Summary {
            total: c.sockets_used,
            tcp: TcpLine {
                total: c.tcp_alloc + c.tcp_tw,
                estab: c.tcp_estab,
                closed: c.tcp_alloc - (c.tcp_inuse4 + c.tcp_inuse6 - c.tcp_tw),
                orphaned: c.tcp_orphan,
                timewait: c.tcp_tw,
            },
            raw: row(c.raw4, c.raw6),
            udp: row(c.udp4, c.udp6),
            tcp_inuse: row(c.tcp_inuse4, c.tcp_inuse6),
            inet: row(
                c.raw4 + c.udp4 + c.tcp_inuse4,
                c.raw6 + c.udp6 + c.tcp_inuse6,
            ),
            frag: row(c.frag4, c.frag6),
        }
    }
}

/// Writes the summary exactly as ss 6.1's `print_summary` does.
pub fn render<W: Write>(w: &mut W, s: &Summary) -> io::Result<()> {
    let t = &s.tcp;
    writeln!(w, "Total: {}", s.total)?;
    writeln!(
        w,
        "TCP:   {} (estab {}, closed {}, orphaned {}, timewait {})",
        t.total, t.estab, t.closed, t.orphaned, t.timewait
    )?;
    writeln!(w)?;
    writeln!(w, "Transport Total     IP        IPv6")?;
    for (name, r) in [
        ("RAW", &s.raw),
        ("UDP", &s.udp),
        ("TCP", &s.tcp_inuse),
        ("INET", &s.inet),
        ("FRAG", &s.frag),
    ] {
        writeln!(w, "{name}\t  {:<9} {:<9} {:<9}", r.total, r.ipv4, r.ipv6)?;
    }
    writeln!(w)
}

/// Writes the `--json` form: one object with the same figures, then a newline.
pub fn render_json<W: Write>(w: &mut W, s: &Summary) -> io::Result<()> {
    serde_json::to_writer(&mut *w, s)?;
    writeln!(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured on Linux 6.18 (this machine's host namespace), with `ss -s` run at the same
    // moment.
    const SOCKSTAT: &str = "sockets: used 344\n\
TCP: inuse 15 orphan 0 tw 26 alloc 3205 mem 2\n\
UDP: inuse 3 mem 2\n\
UDPLITE: inuse 0\n\
RAW: inuse 1\n\
FRAG: inuse 0 memory 0\n";
    const SOCKSTAT6: &str = "TCP6: inuse 4\nUDP6: inuse 2\nUDPLITE6: inuse 0\nRAW6: inuse 0\n\
FRAG6: inuse 1 memory 1024\n";
    const SNMP: &str = "Ip: Forwarding DefaultTTL\nIp: 1 64\n\
Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs\n\
Tcp: 1 200 120000 -1 500 400 3 4 9 12345\n\
Udp: InDatagrams\nUdp: 5\n";

    #[test]
    fn figures_and_layout_are_ss_s() {
        let mut c = Counters::default();
        for l in SOCKSTAT.lines().chain(SOCKSTAT6.lines()) {
            c.sockstat_line(l);
        }
        c.tcp_estab = Counters::curr_estab(SNMP).expect("CurrEstab");
        assert_eq!(c.tcp_estab, 9);
        let mut out = Vec::new();
        render(&mut out, &Summary::from_counters(&c)).expect("renders");
        assert_eq!(
            String::from_utf8(out).expect("UTF-8"),
            "Total: 344\n\
             TCP:   3231 (estab 9, closed 3212, orphaned 0, timewait 26)\n\
             \n\
             Transport Total     IP        IPv6\n\
             RAW\t  1         1         0        \n\
             UDP\t  5         3         2        \n\
             TCP\t  19        15        4        \n\
             INET\t  25        19        6        \n\
             FRAG\t  1         0         1        \n\
             \n"
        );
        let mut out = Vec::new();
        render_json(&mut out, &Summary::from_counters(&c)).expect("renders");
        let v: serde_json::Value = serde_json::from_slice(&out).expect("JSON");
        assert_eq!(v["tcp"]["closed"], 3212);
        assert_eq!(v["frag"]["ipv6"], 1);
    }

    #[test]
    fn odd_input_reads_as_ss_reads_it() {
        let mut c = Counters::default();
        c.sockstat_line("TCP: inuse 7 orphan x tw 3");
        assert_eq!((c.tcp_inuse4, c.tcp_orphan, c.tcp_tw), (7, 0, 0));
        c.sockstat_line("sockets: used 12abc");
        assert_eq!(c.sockets_used, 12);
        c.sockstat_line("garbage");
        c.sockstat_line("");
        assert_eq!(Counters::curr_estab("Tcp: A B\nUdp: 1 2\n"), None);
        assert_eq!(Counters::curr_estab("Tcp: CurrEstab\nTcp: -5\n"), Some(-5));
        assert_eq!(c_int("99999999999"), Some(i64::from(i32::MAX)));
    }
}
