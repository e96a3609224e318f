//! Rendering netstat's other tables: the routing tables, the interface table (short and long
//! forms) and group memberships, byte for byte as net-tools netstat 2.10 prints them (each
//! format string below is netstat's, from lib/inet_gr.c, lib/inet6_gr.c, lib/interface.c and
//! netstat.c), and as JSON through the wire types at the end.
//!
//! Two deliberate differences, both in the man page's DIFFERENCES: names are never cut (netstat
//! cuts route destinations and gateways to 15 characters and -ree's interface to 6), and
//! names from the system are escaped.

use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Serialize;

use crate::names::Names;
use crate::netns::Netns;
use crate::nettab::model::{iff, rtf, Group, Interface, Route4, Route6};
use crate::nettab::{Collected, Options, Rows, Table};

/// netstat's route flag letters for an IPv4 route (lib/inet_gr.c).
pub fn route4_flags(f: u32) -> String {
    let mut s = String::new();
    if f & rtf::UP != 0 {
        s.push('U');
    }
    if f & rtf::GATEWAY != 0 {
        s.push('G');
    }
    if f & rtf::REJECT != 0 {
        s.clear();
        s.push('!');
    }
    for (bit, c) in [
        (rtf::HOST, "H"),
        (rtf::REINSTATE, "R"),
        (rtf::DYNAMIC, "D"),
        (rtf::MODIFIED, "M"),
        (rtf::DEFAULT, "d"),
        (rtf::ALLONLINK, "a"),
        (rtf::ADDRCONF, "c"),
        (rtf::NONEXTHOP, "o"),
        (rtf::EXPIRES, "e"),
        (rtf::CACHE, "c"),
        (rtf::FLOW, "f"),
        (rtf::POLICY, "p"),
        (rtf::LOCAL, "l"),
        (rtf::MTU, "u"),
        (rtf::WINDOW, "w"),
        (rtf::IRTT, "i"),
        (rtf::NOTCACHED, "n"),
    ] {
        if f & bit != 0 {
            s.push_str(c);
        }
    }
    s
}

/// netstat's route flag letters for an IPv6 route (lib/inet6_gr.c).
pub fn route6_flags(f: u32) -> String {
    let mut s = String::new();
    for (bit, c) in [
        (rtf::UP, 'U'),
        (rtf::REJECT, '!'),
        (rtf::GATEWAY, 'G'),
        (rtf::HOST, 'H'),
        (rtf::DEFAULT, 'D'),
        (rtf::ADDRCONF, 'A'),
        (rtf::CACHE, 'C'),
        (rtf::ALLONLINK, 'a'),
        (rtf::EXPIRES, 'e'),
        (rtf::MODIFIED, 'm'),
        (rtf::NONEXTHOP, 'n'),
        (rtf::FLOW, 'f'),
    ] {
        if f & bit != 0 {
            s.push(c);
        }
    }
    s
}

/// netstat -i's flag letters (lib/interface.c, ife_print_short).
pub fn iface_flags(f: u32) -> String {
    let mut s = String::new();
    if f == 0 {
        s.push_str("[NO FLAGS]");
    }
    for (bit, c) in [
        (iff::ALLMULTI, 'A'),
        (iff::BROADCAST, 'B'),
        (iff::DEBUG, 'D'),
        (iff::LOOPBACK, 'L'),
        (iff::MULTICAST, 'M'),
        (iff::DYNAMIC, 'd'),
        (iff::PROMISC, 'P'),
        (iff::NOTRAILERS, 'N'),
        (iff::NOARP, 'O'),
        (iff::POINTOPOINT, 'P'),
        (iff::SLAVE, 's'),
        (iff::MASTER, 'm'),
        (iff::RUNNING, 'R'),
        (iff::UP, 'U'),
    ] {
        if f & bit != 0 {
            s.push(c);
        }
    }
    s
}

/// /etc/networks, for netstat's getnetbyaddr on network destinations.
fn network_name(net: Ipv4Addr) -> Option<String> {
    let text = std::fs::read_to_string("/etc/networks").ok()?;
    let want = u32::from(net);
    text.lines().find_map(|line| {
        let line = line.split('#').next()?;
        let mut f = line.split_whitespace();
        let name = f.next()?;
        let number = f.next()?;
        let octets: Vec<u32> = number
            .split('.')
            .map(|o| o.parse().ok())
            .collect::<Option<_>>()?;
        if octets.is_empty() || octets.len() > 4 || octets.iter().any(|o| *o > 255) {
            return None;
        }
        // inet_network(): "169.254.0.0" is 0xa9fe0000, "127" is 0x7f.
        let value = octets.iter().fold(0u32, |acc, o| (acc << 8) | o);
        (value == want).then(|| name.to_string())
    })
}

/// netstat's INET_rresolve for route columns: `default` for 0.0.0.0/0, names for hosts
/// (`host`: the host bits are set or the route is a host route) and networks, else numbers.
fn inet_name(
    names: &mut Names,
    numeric: bool,
    a: Ipv4Addr,
    mask: Ipv4Addr,
    host: bool,
    dest: bool,
) -> String {
    if numeric {
        return a.to_string();
    }
    if a.is_unspecified() {
        return if !mask.is_unspecified() {
            "0.0.0.0".to_string()
        } else if dest {
            "default".to_string()
        } else {
            "*".to_string()
        };
    }
    let is_host = host || u32::from(a) & !u32::from(mask) != 0;
    let name = if is_host {
        names.host(IpAddr::V4(a)).map(escape)
    } else {
        network_name(a).map(|n| escape(&n))
    };
    name.unwrap_or_else(|| a.to_string())
}

fn escape(s: &str) -> String {
    crate::escape::escape(s.as_bytes())
}

fn inet6_name(names: &mut Names, numeric: bool, a: Ipv6Addr) -> String {
    if numeric {
        return a.to_string();
    }
    if a.is_unspecified() {
        return "[::]".to_string();
    }
    names
        .host(IpAddr::V6(a))
        .map(escape)
        .unwrap_or_else(|| a.to_string())
}

/// netstat's -e count picks the -r layout: none → MSS/Window/irtt, -e → Metric/Ref/Use,
/// -ee → both.
fn route4_layout(opts: &Options) -> u8 {
    match opts.extend {
        0 => 2,
        1 => 1,
        _ => 3,
    }
}

/// The title and column headers of the IPv4 table; `netns` goes before the column headers.
fn routes4_head<W: Write>(
    out: &mut W,
    opts: &Options,
    cache: bool,
    netns: &[u8],
) -> io::Result<()> {
    if opts.no_headers {
        return Ok(());
    }
    let ext = route4_layout(opts);
    if cache {
        out.write_all(b"Kernel IP routing cache\n")?;
        out.write_all(netns)?;
        out.write_all(match ext {
            1 => b"Source          Destination     Gateway         Flags Metric Ref    Use Iface\n" as &[u8],
            2 => b"Source          Destination     Gateway         Flags   MSS Window  irtt Iface\n",
            _ => b"Source          Destination     Gateway         Flags Metric Ref    Use Iface    MSS   Window irtt  TOS HHRef HHUptod     SpecDst\n",
        })?;
        return Ok(());
    }
    out.write_all(b"Kernel IP routing table\n")?;
    out.write_all(netns)?;
    out.write_all(match ext {
        1 => b"Destination     Gateway         Genmask         Flags Metric Ref    Use Iface\n" as &[u8],
        2 => b"Destination     Gateway         Genmask         Flags   MSS Window  irtt Iface\n",
        _ => b"Destination     Gateway         Genmask         Flags Metric Ref    Use Iface    MSS   Window irtt\n",
    })
}

fn routes4<W: Write>(
    out: &mut W,
    rows: &[Route4],
    opts: &Options,
    names: &mut Names,
    cache: bool,
) -> io::Result<()> {
    routes4_head(out, opts, cache, b"")?;
    if cache {
        return Ok(());
    }
    routes4_rows(out, rows, opts, names)
}

fn routes4_rows<W: Write>(
    out: &mut W,
    rows: &[Route4],
    opts: &Options,
    names: &mut Names,
) -> io::Result<()> {
    let ext = route4_layout(opts);
    let numeric = opts.numeric_hosts || opts.symbolic;
    for r in rows.iter().filter(|r| r.flags & rtf::UP != 0) {
        let dst = inet_name(
            names,
            numeric,
            r.destination,
            r.genmask,
            r.flags & rtf::HOST != 0,
            true,
        );
        let gw = inet_name(
            names,
            numeric,
            r.gateway,
            Ipv4Addr::new(255, 255, 255, 0),
            true,
            false,
        );
        let mask = r.genmask.to_string();
        let flags = route4_flags(r.flags);
        let iface = r.iface.as_deref().map_or_else(|| "*".to_string(), escape);
        let (metric, refcnt, use_count) = (r.metric as i32, r.refcnt as i32, r.use_count as i32);
        let (mss, window, irtt) = (r.mss as i32, r.window as i32, r.irtt as i32);
        let reject = r.flags & rtf::REJECT != 0;
        match (ext, reject) {
            (1, true) => writeln!(out, "{dst:<15} -               {mask:<15} {flags:<5} {metric:<6} -  {use_count:>7} -")?,
            (1, false) => writeln!(out, "{dst:<15} {gw:<15} {mask:<15} {flags:<5} {metric:<6} {refcnt:<2} {use_count:>7} {iface}")?,
            (2, true) => writeln!(out, "{dst:<15} -               {mask:<15} {flags:<5}     - -          - -")?,
            (2, false) => writeln!(out, "{dst:<15} {gw:<15} {mask:<15} {flags:<5} {mss:>5} {window:<5} {irtt:>6} {iface}")?,
            (_, true) => writeln!(out, "{dst:<15} -               {mask:<15} {flags:<5} {metric:<6} -  {use_count:>7} -        -     -      -")?,
            (_, false) => writeln!(out, "{dst:<15} {gw:<15} {mask:<15} {flags:<5} {metric:<6} {refcnt:<3} {use_count:>6} {iface:<6}   {mss:<5} {window:<6} {irtt}")?,
        }
    }
    Ok(())
}

fn routes6_head<W: Write>(out: &mut W, opts: &Options, netns: &[u8]) -> io::Result<()> {
    if opts.no_headers {
        return Ok(());
    }
    out.write_all(if opts.cache {
        b"Kernel IPv6 routing cache\n" as &[u8]
    } else {
        b"Kernel IPv6 routing table\n"
    })?;
    out.write_all(netns)?;
    out.write_all(
        b"Destination                    Next Hop                   Flag Met Ref  Use If\n",
    )
}

fn routes6<W: Write>(
    out: &mut W,
    rows: &[Route6],
    opts: &Options,
    names: &mut Names,
) -> io::Result<()> {
    routes6_head(out, opts, b"")?;
    routes6_rows(out, rows, opts, names)
}

fn routes6_rows<W: Write>(
    out: &mut W,
    rows: &[Route6],
    opts: &Options,
    names: &mut Names,
) -> io::Result<()> {
    let numeric = opts.numeric_hosts || opts.symbolic;
    for r in rows {
        let dst = format!(
            "{}/{}",
            inet6_name(names, numeric, r.destination),
            r.prefix_len
        );
        let hop = inet6_name(names, numeric, r.next_hop);
        let flags = route6_flags(r.flags);
        let refcnt = r
            .refcnt
            .map_or_else(|| "-".to_string(), |c| (c as i32).to_string());
        writeln!(
            out,
            "{dst:<30} {hop:<26} {flags:<4} {:<3} {refcnt:<1} {:>6} {}",
            r.metric as i32,
            r.use_count as i32,
            escape(&r.iface)
        )?;
    }
    Ok(())
}

/// Whether -i shows `ife`: up, or -a.
fn shown(ife: &Interface, opts: &Options) -> bool {
    opts.all || ife.flags & iff::UP != 0
}

fn iface_short<W: Write>(out: &mut W, ife: &Interface) -> io::Result<()> {
    write!(out, "{:<15} {:>5} ", escape(&ife.name), ife.mtu as i32)?;
    match &ife.stats {
        Some(s) => write!(
            out,
            "{:>8} {:>6} {:>6} {:<6} {:>8} {:>6} {:>6} {:>6} ",
            s.rx_packets,
            s.rx_errors,
            s.rx_dropped,
            s.rx_fifo_errors,
            s.tx_packets,
            s.tx_errors,
            s.tx_dropped,
            s.tx_fifo_errors
        )?,
        None => write!(out, "{:<56}", "     - no statistics available -")?,
    }
    writeln!(out, "{}", iface_flags(ife.flags))
}

/// ifconfig's flag list: `flags=4163<UP,BROADCAST,RUNNING,MULTICAST>`, built as netstat does
/// (including its `flags=0<` for no flags).
fn long_flags(f: u32) -> String {
    let mut s = format!("flags={}<", f as i16);
    if f == 0 {
        s.push('>');
    }
    for (bit, name) in [
        (iff::UP, "UP"),
        (iff::BROADCAST, "BROADCAST"),
        (iff::DEBUG, "DEBUG"),
        (iff::LOOPBACK, "LOOPBACK"),
        (iff::POINTOPOINT, "POINTOPOINT"),
        (iff::NOTRAILERS, "NOTRAILERS"),
        (iff::RUNNING, "RUNNING"),
        (iff::NOARP, "NOARP"),
        (iff::PROMISC, "PROMISC"),
        (iff::ALLMULTI, "ALLMULTI"),
        (iff::SLAVE, "SLAVE"),
        (iff::MASTER, "MASTER"),
        (iff::MULTICAST, "MULTICAST"),
        (iff::DYNAMIC, "DYNAMIC"),
    ] {
        if f & bit != 0 {
            s.push_str(name);
            s.push(',');
        }
    }
    if s.ends_with(',') {
        s.pop();
        s.push('>');
    } else {
        s.pop();
    }
    s
}

/// netstat's byte count in binary units: `810 (810.0 B)`, `1234567 (1.1 MiB)`.
fn short_bytes(n: u64) -> (u64, u64, &'static str) {
    let mut short = n.wrapping_mul(10);
    let unit = if n > 1_152_921_504_606_846_976 {
        short = n / 115_292_150_460_684_697;
        "EiB"
    } else if n > 1_125_899_906_842_624 {
        short /= 1_125_899_906_842_624;
        "PiB"
    } else if n > 1_099_511_627_776 {
        short /= 1_099_511_627_776;
        "TiB"
    } else if n > 1_073_741_824 {
        short /= 1_073_741_824;
        "GiB"
    } else if n > 1_048_576 {
        short /= 1_048_576;
        "MiB"
    } else if n > 1024 {
        short /= 1024;
        "KiB"
    } else {
        "B"
    };
    (short / 10, short % 10, unit)
}

/// (name, address as printed, title) of a link-layer type, as net-tools' lib/hw.c knows them.
fn hw_type(ife: &Interface) -> (&'static str, Option<String>, &'static str) {
    let mac = |n: usize| {
        let mut a = ife.hwaddr.clone();
        a.resize(n, 0);
        a.iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":")
    };
    match ife.link_type {
        1 => ("ether", Some(mac(6)), "Ethernet"),
        772 => ("loop", None, "Local Loopback"),
        776 => ("sit", None, "IPv6-in-IPv4"),
        768 => ("tunnel", Some(String::new()), "IPIP Tunnel"),
        512 => ("ppp", None, "Point-to-Point Protocol"),
        _ => {
            let mut a: Vec<u8> = ife.hwaddr.iter().take(8).copied().collect();
            a.resize(16, 0);
            let hex = a
                .iter()
                .map(|b| format!("{b:02X}"))
                .collect::<Vec<_>>()
                .join("-");
            ("unspec", Some(hex), "UNSPEC")
        }
    }
}

fn iface_long<W: Write>(out: &mut W, ife: &Interface) -> io::Result<()> {
    writeln!(
        out,
        "{}: {}  mtu {}",
        escape(&ife.name),
        long_flags(ife.flags),
        ife.mtu as i32
    )?;
    if let Some(v4) = &ife.ipv4 {
        write!(out, "        inet {}  netmask {}", v4.address, v4.netmask)?;
        if ife.flags & iff::BROADCAST != 0 {
            write!(out, "  broadcast {}", v4.broadcast)?;
        }
        if ife.flags & iff::POINTOPOINT != 0 {
            write!(out, "  destination {}", v4.destination)?;
        }
        out.write_all(b"\n")?;
    }
    for a in &ife.ipv6 {
        write!(
            out,
            "        inet6 {}  prefixlen {}  scopeid 0x{:x}",
            a.address, a.prefix_len, a.scope
        )?;
        let mut scope = a.scope;
        let mut f = String::from("<");
        if scope & 0x80 != 0 {
            f.push_str("compat,");
            scope -= 0x80;
        }
        if scope == 0 {
            f.push_str("global,");
        }
        for (bit, name) in [(0x20, "link,"), (0x40, "site,"), (0x10, "host,")] {
            if scope & bit != 0 {
                f.push_str(name);
            }
        }
        if f.ends_with(',') {
            f.pop();
            f.push('>');
        } else {
            f.pop();
        }
        writeln!(out, "{f}")?;
    }
    let (name, addr, title) = hw_type(ife);
    match addr {
        Some(a) => write!(out, "        {name} {a}")?,
        None => write!(out, "        {name}")?,
    }
    if let Some(q) = ife.txqueuelen {
        write!(out, "  txqueuelen {}", q as i32)?;
    }
    writeln!(out, "  ({title})")?;
    if let Some(s) = &ife.stats {
        let (rx_i, rx_f, rx_u) = short_bytes(s.rx_bytes);
        let (tx_i, tx_f, tx_u) = short_bytes(s.tx_bytes);
        writeln!(
            out,
            "        RX packets {}  bytes {} ({rx_i}.{rx_f} {rx_u})",
            s.rx_packets, s.rx_bytes
        )?;
        writeln!(
            out,
            "        RX errors {}  dropped {}  overruns {}  frame {}",
            s.rx_errors, s.rx_dropped, s.rx_fifo_errors, s.rx_frame_errors
        )?;
        writeln!(
            out,
            "        TX packets {}  bytes {} ({tx_i}.{tx_f} {tx_u})",
            s.tx_packets, s.tx_bytes
        )?;
        writeln!(
            out,
            "        TX errors {}  dropped {} overruns {}  carrier {}  collisions {}",
            s.tx_errors, s.tx_dropped, s.tx_fifo_errors, s.tx_carrier_errors, s.collisions
        )?;
    }
    let m = &ife.map;
    if m.irq != 0 || m.mem_start != 0 || m.dma != 0 || m.base_addr >= 0x100 {
        out.write_all(b"        device ")?;
        if m.irq != 0 {
            write!(out, "interrupt {}  ", m.irq)?;
        }
        if m.base_addr >= 0x100 {
            write!(out, "base 0x{:x}  ", m.base_addr)?;
        }
        if m.mem_start != 0 {
            write!(out, "memory 0x{:x}-{:x}  ", m.mem_start, m.mem_end)?;
        }
        if m.dma != 0 {
            write!(out, "  dma 0x{:x}", m.dma)?;
        }
        out.write_all(b"\n")?;
    }
    out.write_all(b"\n")
}

fn interfaces_head<W: Write>(
    out: &mut W,
    opts: &Options,
    first: bool,
    netns: &[u8],
) -> io::Result<()> {
    if opts.no_headers {
        return Ok(());
    }
    // netstat prints this line when it opens its socket, which with -c is only the first time.
    if first {
        out.write_all(b"Kernel Interface table\n")?;
    }
    if opts.extend == 0 {
        out.write_all(netns)?;
        out.write_all(b"Iface             MTU    RX-OK RX-ERR RX-DRP RX-OVR    TX-OK TX-ERR TX-DRP TX-OVR Flg\n")?;
    }
    Ok(())
}

fn interfaces<W: Write>(
    out: &mut W,
    rows: &[Interface],
    opts: &Options,
    first: bool,
) -> io::Result<()> {
    interfaces_head(out, opts, first, b"")?;
    interfaces_rows(out, rows, opts)
}

fn interfaces_rows<W: Write>(out: &mut W, rows: &[Interface], opts: &Options) -> io::Result<()> {
    for ife in rows.iter().filter(|i| shown(i, opts)) {
        if opts.extend == 0 {
            iface_short(out, ife)?;
        } else {
            iface_long(out, ife)?;
        }
    }
    Ok(())
}

/// `netns` and `rule` go before the column headers and the line under them.
fn groups_head<W: Write>(out: &mut W, opts: &Options, netns: &[u8], rule: &[u8]) -> io::Result<()> {
    if opts.no_headers {
        return Ok(());
    }
    out.write_all(b"IPv6/IPv4 Group Memberships\n")?;
    out.write_all(netns)?;
    out.write_all(b"Interface       RefCnt Group\n")?;
    out.write_all(rule)?;
    out.write_all(b"--------------- ------ ---------------------\n")
}

fn groups<W: Write>(
    out: &mut W,
    rows: &[Group],
    opts: &Options,
    names: &mut Names,
) -> io::Result<()> {
    groups_head(out, opts, b"", b"")?;
    groups_rows(out, rows, opts, names)
}

fn groups_rows<W: Write>(
    out: &mut W,
    rows: &[Group],
    opts: &Options,
    names: &mut Names,
) -> io::Result<()> {
    for g in rows {
        let group = match g.group {
            IpAddr::V4(a) => inet_name(
                names,
                opts.numeric_hosts,
                a,
                Ipv4Addr::new(255, 255, 255, 0),
                false,
                false,
            ),
            IpAddr::V6(a) => inet6_name(names, opts.numeric_hosts, a),
        };
        writeln!(
            out,
            "{:<15} {:<6} {group}",
            escape(&g.iface),
            g.refcnt as i32
        )?;
    }
    Ok(())
}

/// The table(s) of `table` as netstat prints them. `first` is false on -c's later rounds.
pub fn text<W: Write>(
    out: &mut W,
    table: Table,
    opts: &Options,
    collected: &[Collected],
    names: &mut Names,
    first: bool,
) -> io::Result<()> {
    for c in collected {
        match (&c.rows, table) {
            (Rows::Routes4(r), _) => routes4(out, r, opts, names, opts.cache)?,
            (Rows::Routes6(r), _) => routes6(out, r, opts, names)?,
            (Rows::Interfaces(r), _) => interfaces(out, r, opts, first)?,
            (Rows::Groups(r), _) => groups(out, r, opts, names)?,
        }
    }
    Ok(())
}

/// A writer that puts `prefix` before every line that is not empty: the Netns cell of -N.
struct Prefixed<'a, W: Write> {
    out: &'a mut W,
    prefix: &'a [u8],
    at_start: bool,
}

impl<W: Write> Write for Prefixed<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        while !rest.is_empty() {
            if self.at_start && rest[0] != b'\n' {
                self.out.write_all(self.prefix)?;
            }
            let line = match rest.iter().position(|b| *b == b'\n') {
                Some(at) => &rest[..=at],
                None => rest,
            };
            self.out.write_all(line)?;
            self.at_start = line.ends_with(b"\n");
            rest = &rest[line.len()..];
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// The Netns cell of a namespace: its label escaped, padded as the socket listing pads it,
/// and a space.
fn netns_cell(netns: &Netns) -> Vec<u8> {
    let mut label = String::new();
    crate::escape::escape_into(&mut label, &netns.label());
    let mut cell = String::new();
    crate::render::text::push_left(&mut cell, &label, crate::render::table::NETNS_WIDTH);
    cell.push(' ');
    cell.into_bytes()
}

/// -N: each table (family) once, its title and headers, then every namespace's rows, each row
/// led by the namespace's Netns cell (for -ie's long form, every line of the interface's block).
/// `per` holds what [`crate::nettab::collect_table`] gave in each namespace.
pub fn text_netns<W: Write>(
    out: &mut W,
    table: Table,
    opts: &Options,
    per: &[(Netns, Vec<Collected>)],
    names: &mut Names,
    first: bool,
) -> io::Result<()> {
    let mut head = String::new();
    crate::render::text::push_left(&mut head, "Netns", crate::render::table::NETNS_WIDTH + 1);
    let head = head.into_bytes();
    let mut rule = vec![b'-'; crate::render::table::NETNS_WIDTH];
    rule.push(b' ');
    let cells: Vec<Vec<u8>> = per.iter().map(|(ns, _)| netns_cell(ns)).collect();
    let tables = per.iter().map(|(_, c)| c.len()).max().unwrap_or(0);
    if tables == 0 {
        // Nothing listed (every namespace skipped): the headers alone, as an empty table.
        return match table {
            Table::Routes => routes4_head(out, opts, opts.cache, &head),
            Table::Interfaces => interfaces_head(out, opts, first, &head),
            Table::Groups => groups_head(out, opts, &head, &rule),
            Table::Masquerade | Table::Context => Ok(()),
        };
    }
    for k in 0..tables {
        let Some(kind) = per.iter().find_map(|(_, c)| c.get(k)) else {
            continue;
        };
        match &kind.rows {
            Rows::Routes4(_) => routes4_head(out, opts, opts.cache, &head)?,
            Rows::Routes6(_) => routes6_head(out, opts, &head)?,
            Rows::Interfaces(_) => interfaces_head(out, opts, first, &head)?,
            Rows::Groups(_) => groups_head(out, opts, &head, &rule)?,
        }
        for ((_, collected), cell) in per.iter().zip(&cells) {
            let Some(c) = collected.get(k) else { continue };
            let mut w = Prefixed {
                out: &mut *out,
                prefix: cell,
                at_start: true,
            };
            match &c.rows {
                Rows::Routes4(_) if opts.cache => {}
                Rows::Routes4(r) => routes4_rows(&mut w, r, opts, names)?,
                Rows::Routes6(r) => routes6_rows(&mut w, r, opts, names)?,
                Rows::Interfaces(r) => interfaces_rows(&mut w, r, opts)?,
                Rows::Groups(r) => groups_rows(&mut w, r, opts, names)?,
            }
        }
    }
    Ok(())
}

/// A route, for --json with -r.
#[derive(Debug, Serialize)]
pub struct RouteJson {
    pub family: &'static str,
    pub destination: String,
    pub prefix_len: u32,
    /// IPv4 only.
    pub genmask: Option<String>,
    pub gateway: String,
    pub flags: String,
    pub kernel_flags: u32,
    pub metric: u32,
    /// null where the source has no reference count (IPv6 routes over rtnetlink).
    #[serde(rename = "ref")]
    pub refcnt: Option<u32>,
    #[serde(rename = "use")]
    pub use_count: u32,
    pub interface: Option<String>,
    /// IPv4 only, as /proc/net/route reports them.
    pub mss: Option<u32>,
    pub window: Option<u32>,
    pub irtt: Option<u32>,
}

/// An IPv4 address of an interface, for --json with -ie.
#[derive(Debug, Serialize)]
pub struct InetJson {
    pub address: String,
    pub netmask: String,
    pub broadcast: String,
    pub destination: String,
}

/// An IPv6 address of an interface, for --json with -ie.
#[derive(Debug, Serialize)]
pub struct Inet6Json {
    pub address: String,
    pub prefix_len: u8,
    pub scope: u32,
}

/// An interface, for --json with -i. The counters are null for an alias (no counters of its
/// own); the fields after `tx_overrun` appear with -e only.
#[derive(Debug, Serialize)]
pub struct InterfaceJson {
    pub name: String,
    pub index: u32,
    pub mtu: u32,
    pub flags: String,
    pub kernel_flags: u32,
    pub rx_ok: Option<u64>,
    pub rx_err: Option<u64>,
    pub rx_drop: Option<u64>,
    pub rx_overrun: Option<u64>,
    pub tx_ok: Option<u64>,
    pub tx_err: Option<u64>,
    pub tx_drop: Option<u64>,
    pub tx_overrun: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extended: Option<InterfaceExtJson>,
}

/// The -e part of an interface.
#[derive(Debug, Serialize)]
pub struct InterfaceExtJson {
    pub rx_bytes: Option<u64>,
    pub tx_bytes: Option<u64>,
    pub rx_frame: Option<u64>,
    pub tx_carrier: Option<u64>,
    pub collisions: Option<u64>,
    pub link_type: u16,
    pub hwaddr: String,
    pub txqueuelen: Option<u32>,
    pub inet: Option<InetJson>,
    pub inet6: Vec<Inet6Json>,
}

/// A group membership, for --json with -g.
#[derive(Debug, Serialize)]
pub struct GroupJson {
    pub family: &'static str,
    pub interface: String,
    pub refcnt: u32,
    pub group: String,
}

#[derive(Serialize)]
#[serde(untagged)]
enum AnyJson {
    Route(RouteJson),
    Interface(Box<InterfaceJson>),
    Group(GroupJson),
}

fn interface_json(i: &Interface, extend: bool) -> InterfaceJson {
    let s = i.stats.as_ref();
    InterfaceJson {
        name: i.name.clone(),
        index: i.index,
        mtu: i.mtu,
        flags: iface_flags(i.flags),
        kernel_flags: i.flags,
        rx_ok: s.map(|s| s.rx_packets),
        rx_err: s.map(|s| s.rx_errors),
        rx_drop: s.map(|s| s.rx_dropped),
        rx_overrun: s.map(|s| s.rx_fifo_errors),
        tx_ok: s.map(|s| s.tx_packets),
        tx_err: s.map(|s| s.tx_errors),
        tx_drop: s.map(|s| s.tx_dropped),
        tx_overrun: s.map(|s| s.tx_fifo_errors),
        extended: extend.then(|| InterfaceExtJson {
            rx_bytes: s.map(|s| s.rx_bytes),
            tx_bytes: s.map(|s| s.tx_bytes),
            rx_frame: s.map(|s| s.rx_frame_errors),
            tx_carrier: s.map(|s| s.tx_carrier_errors),
            collisions: s.map(|s| s.collisions),
            link_type: i.link_type,
            hwaddr: i
                .hwaddr
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(":"),
            txqueuelen: i.txqueuelen,
            inet: i.ipv4.map(|a| InetJson {
                address: a.address.to_string(),
                netmask: a.netmask.to_string(),
                broadcast: a.broadcast.to_string(),
                destination: a.destination.to_string(),
            }),
            inet6: i
                .ipv6
                .iter()
                .map(|a| Inet6Json {
                    address: a.address.to_string(),
                    prefix_len: a.prefix_len,
                    scope: a.scope,
                })
                .collect(),
        }),
    }
}

/// The rows of every collected table as one JSON array (or, with `lines`, for --json-lines, one
/// object per line), numeric, nothing cut or escaped beyond JSON's own escaping. Interfaces that
/// are down appear only with -a, as in the table.
pub fn json<W: Write>(
    out: &mut W,
    opts: &Options,
    collected: &[Collected],
    lines: bool,
) -> io::Result<()> {
    write_json(out, &json_rows(opts, collected), lines)
}

/// `netns` as socket objects carry it with -N.
#[derive(Serialize)]
struct NetnsJson {
    inode: u64,
    name: Option<String>,
}

/// A row with the namespace it was read in.
#[derive(Serialize)]
struct InNetns {
    #[serde(flatten)]
    row: AnyJson,
    netns: NetnsJson,
}

/// [`json`] with -N: every namespace's rows, in discovery order, each object with a `netns`
/// object (`inode`, `name`) as socket objects have with -N.
pub fn json_netns<W: Write>(
    out: &mut W,
    opts: &Options,
    per: &[(Netns, Vec<Collected>)],
    lines: bool,
) -> io::Result<()> {
    let mut rows = Vec::new();
    for (ns, collected) in per {
        for row in json_rows(opts, collected) {
            rows.push(InNetns {
                row,
                netns: NetnsJson {
                    inode: ns.inode,
                    name: ns
                        .name
                        .as_deref()
                        .map(|n| String::from_utf8_lossy(n).into_owned()),
                },
            });
        }
    }
    write_json(out, &rows, lines)
}

fn write_json<W: Write, T: Serialize>(out: &mut W, rows: &[T], lines: bool) -> io::Result<()> {
    if lines {
        for row in rows {
            serde_json::to_writer(&mut *out, row).map_err(io::Error::from)?;
            out.write_all(b"\n")?;
        }
        return Ok(());
    }
    serde_json::to_writer(&mut *out, rows).map_err(io::Error::from)?;
    out.write_all(b"\n")
}

fn json_rows(opts: &Options, collected: &[Collected]) -> Vec<AnyJson> {
    let mut rows: Vec<AnyJson> = Vec::new();
    for c in collected {
        match &c.rows {
            Rows::Routes4(r) => rows.extend(r.iter().filter(|r| r.flags & rtf::UP != 0).map(|r| {
                AnyJson::Route(RouteJson {
                    family: "inet",
                    destination: r.destination.to_string(),
                    prefix_len: r.prefix_len(),
                    genmask: Some(r.genmask.to_string()),
                    gateway: r.gateway.to_string(),
                    flags: route4_flags(r.flags),
                    kernel_flags: r.flags,
                    metric: r.metric,
                    refcnt: Some(r.refcnt),
                    use_count: r.use_count,
                    interface: r.iface.clone(),
                    mss: Some(r.mss),
                    window: Some(r.window),
                    irtt: Some(r.irtt),
                })
            })),
            Rows::Routes6(r) => rows.extend(r.iter().map(|r| {
                AnyJson::Route(RouteJson {
                    family: "inet6",
                    destination: r.destination.to_string(),
                    prefix_len: u32::from(r.prefix_len),
                    genmask: None,
                    gateway: r.next_hop.to_string(),
                    flags: route6_flags(r.flags),
                    kernel_flags: r.flags,
                    metric: r.metric,
                    refcnt: r.refcnt,
                    use_count: r.use_count,
                    interface: (!r.iface.is_empty()).then(|| r.iface.clone()),
                    mss: None,
                    window: None,
                    irtt: None,
                })
            })),
            Rows::Interfaces(r) => rows.extend(
                r.iter()
                    .filter(|i| shown(i, opts))
                    .map(|i| AnyJson::Interface(Box::new(interface_json(i, opts.extend > 0)))),
            ),
            Rows::Groups(r) => rows.extend(r.iter().map(|g| {
                AnyJson::Group(GroupJson {
                    family: if g.group.is_ipv4() { "inet" } else { "inet6" },
                    interface: g.iface.clone(),
                    refcnt: g.refcnt,
                    group: g.group.to_string(),
                })
            })),
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_letters_follow_netstat() {
        assert_eq!(route4_flags(rtf::UP | rtf::GATEWAY), "UG");
        assert_eq!(route4_flags(rtf::UP | rtf::HOST), "UH");
        assert_eq!(route4_flags(rtf::UP | rtf::REJECT), "!");
        assert_eq!(route6_flags(0x0020_0200), "!n");
        assert_eq!(route6_flags(0x8020_0001), "Un");
        assert_eq!(iface_flags(0x1043), "BMRU");
        assert_eq!(iface_flags(0x49), "LRU");
        assert_eq!(iface_flags(0), "[NO FLAGS]");
        assert_eq!(
            long_flags(4163),
            "flags=4163<UP,BROADCAST,RUNNING,MULTICAST>"
        );
        assert_eq!(long_flags(0), "flags=0<");
    }

    #[test]
    fn byte_units_follow_netstat() {
        assert_eq!(short_bytes(810), (810, 0, "B"));
        assert_eq!(short_bytes(1024), (1024, 0, "B"));
        assert_eq!(short_bytes(1536), (1, 5, "KiB"));
        assert_eq!(short_bytes(5 * 1_048_576 + 1), (5, 0, "MiB"));
    }
}
