//! Pure parsers for the /proc/net files behind netstat's other tables: route, ipv6_route, dev,
//! if_inet6, igmp and igmp6. They take the file's text and return typed rows, so fixtures and
//! fuzzing need no /proc; the I/O lives in [`crate::nettab::collect`].
//!
//! Each parser reads what netstat's own sscanf formats read, and skips (and counts) lines it
//! cannot make sense of instead of failing the whole table.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::nettab::model::{Group, Ipv6Config, LinkStats, Route4, Route6};

/// Rows and the 1-based numbers of the lines that were skipped.
#[derive(Debug)]
pub struct Parsed<T> {
    pub rows: Vec<T>,
    pub skipped: Vec<usize>,
}

impl<T> Default for Parsed<T> {
    fn default() -> Self {
        Parsed {
            rows: Vec::new(),
            skipped: Vec::new(),
        }
    }
}

fn hex_u32(s: &str) -> Option<u32> {
    u32::from_str_radix(s, 16).ok()
}

/// An address as the kernel prints a `__be32` with `%08X`: the u32 in host order.
fn hex_ipv4(s: &str) -> Option<Ipv4Addr> {
    hex_u32(s).map(|v| Ipv4Addr::from(v.to_ne_bytes()))
}

/// 32 hex digits, the kernel's `%pi6`.
fn hex_ipv6(s: &str) -> Option<Ipv6Addr> {
    if s.len() != 32 {
        return None;
    }
    u128::from_str_radix(s, 16).ok().map(Ipv6Addr::from)
}

/// Every line of `text` after `header` lines through `parse`: its rows, and the numbers of the
/// lines it could not read. Blank lines are neither.
fn by_line<T>(text: &str, header: usize, parse: impl Fn(&str) -> Option<T>) -> Parsed<T> {
    let mut out = Parsed::default();
    for (i, line) in text.lines().enumerate().skip(header) {
        if line.trim().is_empty() {
            continue;
        }
        match parse(line) {
            Some(r) => out.rows.push(r),
            None => out.skipped.push(i + 1),
        }
    }
    out
}

/// /proc/net/route: `Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT`.
pub fn route(text: &str) -> Parsed<Route4> {
    by_line(text, 1, route_line)
}

fn route_line(line: &str) -> Option<Route4> {
    let f: Vec<&str> = line.split_whitespace().collect();
    if f.len() < 11 {
        return None;
    }
    Some(Route4 {
        iface: (f[0] != "*").then(|| f[0].to_string()),
        destination: hex_ipv4(f[1])?,
        gateway: hex_ipv4(f[2])?,
        flags: hex_u32(f[3])?,
        refcnt: f[4].parse().ok()?,
        use_count: f[5].parse().ok()?,
        metric: f[6].parse().ok()?,
        genmask: hex_ipv4(f[7])?,
        mss: f[8].parse().ok()?,
        window: f[9].parse().ok()?,
        irtt: f[10].parse().ok()?,
    })
}

/// /proc/net/ipv6_route: destination, prefix, source, source prefix, next hop, metric, refcnt,
/// use, flags (all hex), device.
pub fn ipv6_route(text: &str) -> Parsed<Route6> {
    by_line(text, 0, ipv6_route_line)
}

fn ipv6_route_line(line: &str) -> Option<Route6> {
    let f: Vec<&str> = line.split_whitespace().collect();
    if f.len() < 9 {
        return None;
    }
    Some(Route6 {
        destination: hex_ipv6(f[0])?,
        prefix_len: u8::from_str_radix(f[1], 16).ok()?,
        next_hop: hex_ipv6(f[4])?,
        metric: hex_u32(f[5])?,
        refcnt: Some(hex_u32(f[6])?),
        use_count: hex_u32(f[7])?,
        flags: hex_u32(f[8])?,
        // A route without a device prints an empty name.
        iface: f.get(9).map(|s| s.to_string()).unwrap_or_default(),
    })
}

/// /proc/net/dev: two header lines, then `name: 16 counters`. Names are kept as bytes: an
/// interface name need not be UTF-8, and the ioctls that follow need it exact.
pub fn dev(text: &[u8]) -> Parsed<(Vec<u8>, LinkStats)> {
    let mut out = Parsed::default();
    for (i, line) in text.split(|b| *b == b'\n').enumerate().skip(2) {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match dev_line(line) {
            Some(r) => out.rows.push(r),
            None => out.skipped.push(i + 1),
        }
    }
    out
}

fn dev_line(line: &[u8]) -> Option<(Vec<u8>, LinkStats)> {
    // Names hold no ':' or whitespace (the kernel's dev_valid_name), so the first ':' ends it.
    let colon = line.iter().position(|b| *b == b':')?;
    let name = line[..colon].trim_ascii().to_vec();
    let rest = std::str::from_utf8(&line[colon + 1..]).ok()?;
    let n: Vec<u64> = rest
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    if n.len() < 16 {
        return None;
    }
    Some((
        name,
        LinkStats {
            rx_bytes: n[0],
            rx_packets: n[1],
            rx_errors: n[2],
            rx_dropped: n[3],
            rx_fifo_errors: n[4],
            rx_frame_errors: n[5],
            rx_compressed: n[6],
            rx_multicast: n[7],
            tx_bytes: n[8],
            tx_packets: n[9],
            tx_errors: n[10],
            tx_dropped: n[11],
            tx_fifo_errors: n[12],
            collisions: n[13],
            tx_carrier_errors: n[14],
            tx_compressed: n[15],
        },
    ))
}

/// /proc/net/if_inet6: `address index prefix scope flags name`, in the file's order.
pub fn if_inet6(text: &str) -> Parsed<(String, Ipv6Config)> {
    by_line(text, 0, |line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        Some((
            f.get(5)?.to_string(),
            Ipv6Config {
                address: hex_ipv6(f.first()?)?,
                prefix_len: u8::from_str_radix(f.get(2)?, 16).ok()?,
                scope: hex_u32(f.get(3)?)?,
            },
        ))
    })
}

/// /proc/net/igmp: a device line (`Idx\tDevice : Count Querier`) followed by one tab-indented
/// line per group (`Group Users Timer Reporter`).
pub fn igmp(text: &str) -> Parsed<Group> {
    let mut out = Parsed::default();
    let mut device: Option<String> = None;
    for (i, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        if !line.starts_with('\t') {
            // "1\tlo        :     1      V3": the name ends at the colon.
            device = line
                .split_once('\t')
                .and_then(|(_, rest)| rest.split_once(':'))
                .map(|(name, _)| name.trim().to_string());
            if device.is_none() {
                out.skipped.push(i + 1);
            }
            continue;
        }
        let mut f = line.split_whitespace();
        let row = (|| {
            Some(Group {
                iface: device.clone()?,
                group: IpAddr::V4(hex_ipv4(f.next()?)?),
                refcnt: f.next()?.parse().ok()?,
            })
        })();
        match row {
            Some(g) => out.rows.push(g),
            None => out.skipped.push(i + 1),
        }
    }
    out
}

/// /proc/net/igmp6: `index device group users flags timer`.
pub fn igmp6(text: &str) -> Parsed<Group> {
    by_line(text, 0, |line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        Some(Group {
            iface: f.get(1)?.to_string(),
            group: IpAddr::V6(hex_ipv6(f.get(2)?)?),
            refcnt: f.get(3)?.parse().ok()?,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured on Linux 6.18 (x86_64, little-endian) in a test namespace.
    const ROUTE_6_18: &str = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT                                                       \n\
veth-a\t00000000\tFE0200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0                                                                               \n\
*\t0000010A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0                                                                               \n\
veth-a\t000200C0\t00000000\t0001\t0\t0\t50\t00FFFFFF\t1440\t0\t2                                                                               \n";

    #[test]
    #[cfg(target_endian = "little")] // the kernel prints __be32 as a host-order %08X
    fn route_linux_6_18() {
        let p = route(ROUTE_6_18);
        assert!(p.skipped.is_empty());
        assert_eq!(p.rows.len(), 3);
        assert_eq!(p.rows[0].gateway, Ipv4Addr::new(192, 0, 2, 254));
        assert_eq!(p.rows[0].flags, 3);
        assert_eq!(p.rows[1].iface, None);
        assert_eq!(p.rows[1].destination, Ipv4Addr::new(10, 1, 0, 0));
        assert_eq!(p.rows[1].genmask, Ipv4Addr::new(255, 255, 0, 0));
        assert_eq!(p.rows[2].metric, 50);
        assert_eq!(p.rows[2].mss, 1440);
        assert_eq!(p.rows[2].irtt, 2);
    }

    #[test]
    fn ipv6_route_linux_6_18() {
        let text = "20010db8000300000000000000000000 30 00000000000000000000000000000000 00 00000000000000000000000000000000 00000400 00000001 00000000 00200200       lo\n\
00000000000000000000000000000000 00 00000000000000000000000000000000 00 20010db80001000000000000000000fe 00000400 00000001 00000000 00000003   veth-a\n\
ff000000000000000000000000000000 08 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000002 00000000 00000001 veth-b-fifteen1\n";
        let p = ipv6_route(text);
        assert!(p.skipped.is_empty());
        assert_eq!(p.rows[0].prefix_len, 48);
        assert_eq!(p.rows[0].flags, 0x0020_0200);
        assert_eq!(
            p.rows[1].next_hop,
            "2001:db8:1::fe".parse::<Ipv6Addr>().expect("address")
        );
        assert_eq!(p.rows[1].metric, 1024);
        assert_eq!(p.rows[2].iface, "veth-b-fifteen1");
        assert_eq!(p.rows[2].refcnt, Some(2));
    }

    #[test]
    #[cfg(target_endian = "little")]
    fn dev_and_groups_linux_6_18() {
        let dev_text = "Inter-|   Receive                                                |  Transmit\n \
face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    \
lo:     486       5    0    0    0     0          0         0      486       5    0    0    0     0       0          0\n\
veth-b-fifteen1:       0       0    0    1    2     3          4         5      810      17    6    7    8     9      10         11\n";
        let d = dev(dev_text.as_bytes());
        assert!(d.skipped.is_empty());
        assert_eq!(d.rows[0].0, b"lo");
        assert_eq!(d.rows[0].1.rx_packets, 5);
        assert_eq!(d.rows[1].0, b"veth-b-fifteen1");
        assert_eq!(d.rows[1].1.tx_compressed, 11);
        assert_eq!(d.rows[1].1.rx_fifo_errors, 2);
        let igmp_text = "Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n\
1\tlo        :     1      V3\n\t\t\t\t010000E0     1 0:00000000\t\t0\n\
3\tveth-b-fifteen1:     2      V3\n\t\t\t\t030201EF     1 0:00000000\t\t0\n\t\t\t\t010000E0     2 0:00000000\t\t0\n";
        let g = igmp(igmp_text);
        assert!(g.skipped.is_empty());
        assert_eq!(g.rows.len(), 3);
        assert_eq!(g.rows[0].iface, "lo");
        assert_eq!(g.rows[1].group, IpAddr::V4(Ipv4Addr::new(239, 1, 2, 3)));
        assert_eq!(g.rows[2].refcnt, 2);
        let g6 = igmp6("1    lo              ff020000000000000000000000000001     1 0000000C 0\n");
        assert_eq!(
            g6.rows[0].group,
            "ff02::1".parse::<IpAddr>().expect("address")
        );
    }

    #[test]
    fn dev_keeps_a_name_that_is_not_utf8() {
        let mut text = b"h1\nh2\n".to_vec();
        text.extend_from_slice(b"n\xffx:");
        text.extend_from_slice(" 1".repeat(16).as_bytes());
        text.push(b'\n');
        let d = dev(&text);
        assert!(d.skipped.is_empty());
        assert_eq!(d.rows[0].0, b"n\xffx");
        assert_eq!(d.rows[0].1.tx_compressed, 1);
    }

    #[test]
    fn junk_lines_are_skipped_not_fatal() {
        let p = route("header\nnot a route\n");
        assert_eq!(p.skipped, [2]);
        let g = igmp("h\n\t\t\t\t010000E0 1 0:0\t\t0\n");
        assert_eq!(g.skipped, [2]);
    }
}
