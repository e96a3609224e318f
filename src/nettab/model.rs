//! The rows of netstat's other tables (-r, -i, -g), typed, with the kernel's flag words kept as
//! the kernel's bit values (`RTF_*`, `IFF_*`) so both sources fill them the same way and the
//! renderers decode them exactly as netstat does.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `RTF_*` route flags (linux/route.h, linux/ipv6_route.h).
pub mod rtf {
    pub const UP: u32 = 0x0001;
    pub const GATEWAY: u32 = 0x0002;
    pub const HOST: u32 = 0x0004;
    pub const REINSTATE: u32 = 0x0008;
    pub const DYNAMIC: u32 = 0x0010;
    pub const MODIFIED: u32 = 0x0020;
    pub const MTU: u32 = 0x0040;
    pub const WINDOW: u32 = 0x0080;
    pub const IRTT: u32 = 0x0100;
    pub const REJECT: u32 = 0x0200;
    pub const NOTCACHED: u32 = 0x0400;
    pub const DEFAULT: u32 = 0x0001_0000;
    pub const ALLONLINK: u32 = 0x0002_0000;
    pub const ADDRCONF: u32 = 0x0004_0000;
    #[allow(dead_code)] // unused, kept so the table is the kernel's whole list
    pub const PREFIX_RT: u32 = 0x0008_0000;
    pub const ANYCAST: u32 = 0x0010_0000;
    pub const NONEXTHOP: u32 = 0x0020_0000;
    pub const EXPIRES: u32 = 0x0040_0000;
    pub const CACHE: u32 = 0x0100_0000;
    pub const FLOW: u32 = 0x0200_0000;
    pub const POLICY: u32 = 0x0400_0000;
    pub const LOCAL: u32 = 0x8000_0000;
}

/// `IFF_*` interface flags (linux/if.h), the 16 bits SIOCGIFFLAGS reports.
pub mod iff {
    pub const UP: u32 = 0x1;
    pub const BROADCAST: u32 = 0x2;
    pub const DEBUG: u32 = 0x4;
    pub const LOOPBACK: u32 = 0x8;
    pub const POINTOPOINT: u32 = 0x10;
    pub const NOTRAILERS: u32 = 0x20;
    pub const RUNNING: u32 = 0x40;
    pub const NOARP: u32 = 0x80;
    pub const PROMISC: u32 = 0x100;
    pub const ALLMULTI: u32 = 0x200;
    pub const MASTER: u32 = 0x400;
    pub const SLAVE: u32 = 0x800;
    pub const MULTICAST: u32 = 0x1000;
    #[allow(dead_code)] // unused, kept so the table is the kernel's whole list
    pub const PORTSEL: u32 = 0x2000;
    #[allow(dead_code)] // unused, kept so the table is the kernel's whole list
    pub const AUTOMEDIA: u32 = 0x4000;
    pub const DYNAMIC: u32 = 0x8000;
}

/// One IPv4 route of the main table, as /proc/net/route gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route4 {
    pub destination: Ipv4Addr,
    pub genmask: Ipv4Addr,
    pub gateway: Ipv4Addr,
    /// `RTF_*` bits.
    pub flags: u32,
    pub metric: u32,
    pub refcnt: u32,
    pub use_count: u32,
    /// None for routes without a device (blackhole, unreachable): netstat prints `*`.
    pub iface: Option<String>,
    /// The advertised MSS plus 40, as /proc/net/route's MTU column (0 when unset).
    pub mss: u32,
    pub window: u32,
    /// The initial round-trip time as /proc/net/route reports it (the RTT metric divided by 8).
    pub irtt: u32,
}

impl Route4 {
    pub fn prefix_len(&self) -> u32 {
        u32::from(self.genmask).count_ones()
    }
}

/// One IPv6 route, as /proc/net/ipv6_route gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route6 {
    pub destination: Ipv6Addr,
    pub prefix_len: u8,
    pub next_hop: Ipv6Addr,
    /// `RTF_*` bits.
    pub flags: u32,
    pub metric: u32,
    /// The kernel's reference count of the route: only /proc/net/ipv6_route reports it.
    pub refcnt: Option<u32>,
    pub use_count: u32,
    pub iface: String,
}

/// Interface counters as /proc/net/dev adds them up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    pub rx_bytes: u64,
    pub rx_packets: u64,
    pub rx_errors: u64,
    /// rx_dropped + rx_missed_errors
    pub rx_dropped: u64,
    pub rx_fifo_errors: u64,
    /// length + over + crc + frame errors
    pub rx_frame_errors: u64,
    pub rx_compressed: u64,
    pub rx_multicast: u64,
    pub tx_bytes: u64,
    pub tx_packets: u64,
    pub tx_errors: u64,
    pub tx_dropped: u64,
    pub tx_fifo_errors: u64,
    pub collisions: u64,
    /// carrier + aborted + window + heartbeat errors
    pub tx_carrier_errors: u64,
    pub tx_compressed: u64,
}

/// The device map (SIOCGIFMAP / IFLA_MAP).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeviceMap {
    pub mem_start: u64,
    pub mem_end: u64,
    pub base_addr: u64,
    pub irq: u16,
    pub dma: u8,
}

/// An interface's IPv4 address as SIOCGIFADDR and friends report it: the first address whose
/// label is the interface's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Config {
    pub address: Ipv4Addr,
    pub netmask: Ipv4Addr,
    pub broadcast: Ipv4Addr,
    pub destination: Ipv4Addr,
}

/// An IPv6 address of an interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Config {
    pub address: Ipv6Addr,
    pub prefix_len: u8,
    /// The `IPV6_ADDR_*` scope bits /proc/net/if_inet6 reports (0 global, 0x10 host, 0x20 link,
    /// 0x40 site, 0x80 compat).
    pub scope: u32,
}

/// One interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    pub name: String,
    pub index: u32,
    /// `IFF_*` bits (the low 16, as SIOCGIFFLAGS reports them).
    pub flags: u32,
    pub mtu: u32,
    pub stats: Option<LinkStats>,
    /// `ARPHRD_*`.
    pub link_type: u16,
    pub hwaddr: Vec<u8>,
    pub txqueuelen: Option<u32>,
    pub map: DeviceMap,
    pub ipv4: Option<Ipv4Config>,
    pub ipv6: Vec<Ipv6Config>,
}

/// One multicast group membership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub iface: String,
    pub refcnt: u32,
    pub group: IpAddr,
}

/// The `IPV6_ADDR_*` scope bits of a unicast address, as the kernel's `ipv6_addr_scope` gives
/// them for /proc/net/if_inet6.
pub fn ipv6_scope_bits(a: Ipv6Addr) -> u32 {
    let s = a.segments();
    if a == Ipv6Addr::LOCALHOST {
        0x10
    } else if s[0] & 0xffc0 == 0xfe80 {
        0x20
    } else if s[0] & 0xffc0 == 0xfec0 {
        0x40
    } else if s[..6].iter().all(|x| *x == 0) && !a.is_unspecified() {
        0x80
    } else {
        0
    }
}

/// net-tools' `nstrcmp`: interface names compared with their trailing number as a number
/// (`eth2` before `eth10`), and `name:alias` after `name`.
pub fn nstrcmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    fn cut_alias(name: &str) -> (&str, Option<&str>) {
        let bytes = name.as_bytes();
        let mut digit = false;
        let mut pos = bytes.len();
        while pos > 0 {
            if bytes[pos - 1] == b':' && digit {
                return (&name[..pos - 1], Some(&name[pos..]));
            }
            if !bytes[pos - 1].is_ascii_digit() {
                break;
            }
            digit = true;
            pos -= 1;
        }
        (name, None)
    }
    fn rindex_nondigit(name: &str) -> usize {
        name.bytes()
            .rposition(|b| !b.is_ascii_digit())
            .map_or(0, |p| p + 1)
    }
    fn atoi(s: &str) -> i64 {
        let digits: String = s
            .chars()
            .take_while(char::is_ascii_digit)
            .take(18)
            .collect();
        digits.parse().unwrap_or(0)
    }
    let (a, a_alias) = cut_alias(a);
    let (b, b_alias) = cut_alias(b);
    let ai = rindex_nondigit(a);
    let bi = rindex_nondigit(b);
    let n = ai.min(bi);
    let head = a.as_bytes()[..n].cmp(&b.as_bytes()[..n]);
    if head != Ordering::Equal {
        return head;
    }
    if ai != bi {
        return ai.cmp(&bi);
    }
    let num = atoi(&a[ai..]).cmp(&atoi(&b[bi..]));
    if num != Ordering::Equal {
        return num;
    }
    let whole = a.cmp(b);
    if whole != Ordering::Equal {
        return whole;
    }
    let av = a_alias.map_or(-1, atoi);
    let bv = b_alias.map_or(-1, atoi);
    if av != bv {
        return av.cmp(&bv);
    }
    match (a_alias, b_alias) {
        (Some(x), Some(y)) => x.cmp(y),
        _ => Ordering::Equal,
    }
}

/// Orders interfaces as netstat does: each name inserted into a list kept sorted by
/// [`nstrcmp`], searching from the end; a name seen twice is kept once.
pub fn netstat_order(ifaces: Vec<Interface>) -> Vec<Interface> {
    let mut out: Vec<Interface> = Vec::with_capacity(ifaces.len());
    'next: for ife in ifaces {
        let mut at = out.len();
        while at > 0 {
            match nstrcmp(&out[at - 1].name, &ife.name) {
                std::cmp::Ordering::Equal => continue 'next,
                std::cmp::Ordering::Less => break,
                std::cmp::Ordering::Greater => at -= 1,
            }
        }
        out.insert(at, ife);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering::*;

    #[test]
    fn nstrcmp_agrees_with_net_tools_own_cases() {
        // The cases of net-tools' lib/nstrcmp.c NSTRCMP_TEST.
        let cases = [
            ("eth1", "eth1", Equal),
            ("eth0:1", "eth0:1", Equal),
            ("lan", "lan", Equal),
            ("100", "100", Equal),
            ("", "", Equal),
            (":", ":", Equal),
            ("a:b:c", "a:b:c", Equal),
            ("a", "aa", Less),
            ("eth0", "eth1", Less),
            ("eth1", "eth20", Less),
            ("eth20", "eth100", Less),
            ("eth", "eth2", Less),
            ("eth0:1", "eth0:2", Less),
            ("eth1:10", "eth13:10", Less),
            ("eth1:1", "eth1:13", Less),
            ("a", "a:", Less),
            ("aa", "a", Greater),
            ("eth13", "eth1", Greater),
            ("eth2:10", "eth2:1", Greater),
            ("eth3:2", "eth2:3", Greater),
            ("a1b12", "a1b2", Greater),
            ("eth1", "eth01", Greater),
            ("eth01", "eth1", Less),
            ("eth1:01", "eth01:1", Greater),
        ];
        for (a, b, want) in cases {
            assert_eq!(nstrcmp(a, b), want, "nstrcmp({a:?}, {b:?})");
        }
    }

    #[test]
    fn scope_bits_match_if_inet6() {
        assert_eq!(ipv6_scope_bits(Ipv6Addr::LOCALHOST), 0x10);
        assert_eq!(ipv6_scope_bits("fe80::1".parse().expect("address")), 0x20);
        assert_eq!(ipv6_scope_bits("2001:db8::1".parse().expect("address")), 0);
    }
}
