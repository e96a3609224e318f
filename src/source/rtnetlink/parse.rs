//! Pure decoding of rtnetlink answers: datagram bytes → messages ([`walk`]), and messages →
//! the rows netstat prints ([`routes4`], [`routes6`], [`interfaces`]), filled exactly as the
//! kernel fills /proc/net/route, /proc/net/ipv6_route and /proc/net/dev for the same objects,
//! so both sources print the same table.
//!
//! Headers are walked here rather than by the crate so that one message the crate cannot
//! decode (a new attribute, a non-UTF-8 name) is skipped instead of losing the datagram.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_packet_core::NetlinkMessage;
use netlink_packet_route::{
    address::{AddressAttribute, AddressMessage},
    link::{LinkAttribute, LinkMessage},
    route::{RouteAddress, RouteAttribute, RouteFlags, RouteMessage, RouteMetric, RouteType},
    AddressFamily, RouteNetlinkMessage,
};

use crate::nettab::model::{
    ipv6_scope_bits, rtf, DeviceMap, Interface, Ipv4Config, Ipv6Config, LinkStats, Route4, Route6,
};

pub const NLMSG_HDRLEN: usize = 16;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const RT_TABLE_MAIN: u32 = 254;
const RTPROT_RA: u8 = 9;

/// The messages of one datagram.
#[derive(Debug, Default)]
pub struct Walk {
    pub messages: Vec<RouteNetlinkMessage>,
    /// Messages that could not be decoded.
    pub skipped: usize,
    /// `Some` once the dump ended: `Ok` at NLMSG_DONE, `Err(errno)` on an error.
    pub end: Option<Result<(), i32>>,
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .map(u32::from_ne_bytes)
}

/// Splits a datagram into messages of dump `seq`; others' messages are ignored.
pub fn walk(datagram: &[u8], seq: u32) -> Walk {
    let mut w = Walk::default();
    let mut at = 0usize;
    while at + NLMSG_HDRLEN <= datagram.len() {
        let Some(len) = u32_at(datagram, at).map(|l| l as usize) else {
            break;
        };
        if len < NLMSG_HDRLEN || at + len > datagram.len() {
            w.skipped += 1;
            break;
        }
        let msg = &datagram[at..at + len];
        let kind = u16::from_ne_bytes([msg[4], msg[5]]);
        let msg_seq = u32_at(msg, 8).unwrap_or(0);
        at += len.div_ceil(4) * 4;
        if msg_seq != seq {
            continue;
        }
        match kind {
            NLMSG_DONE => {
                // The dump's status: 0, or a negative errno.
                let code = u32_at(msg, NLMSG_HDRLEN).map_or(0, |c| c as i32);
                w.end = Some(if code < 0 { Err(-code) } else { Ok(()) });
                return w;
            }
            NLMSG_ERROR => {
                let code = u32_at(msg, NLMSG_HDRLEN).map_or(0, |c| c as i32);
                w.end = Some(if code < 0 { Err(-code) } else { Ok(()) });
                return w;
            }
            _ => match NetlinkMessage::<RouteNetlinkMessage>::deserialize(msg) {
                Ok(m) => {
                    if let netlink_packet_core::NetlinkPayload::InnerMessage(inner) = m.payload {
                        w.messages.push(inner);
                    }
                }
                Err(_) => w.skipped += 1,
            },
        }
    }
    w
}

/// Whether some route names a nexthop object (RTA_NH_ID) without the kernel also giving its
/// gateway and device (it gives them unless `net.ipv4.nexthop_compat_mode` is 0): such routes
/// cannot be shown from this dump, while /proc/net/route resolves them.
pub fn has_unresolved_nexthops(msgs: &[RouteNetlinkMessage]) -> bool {
    msgs.iter().any(|m| match m {
        RouteNetlinkMessage::NewRoute(r) => {
            r.attributes
                .iter()
                .any(|a| matches!(a, RouteAttribute::NhId(_)))
                && first_hop(&r.attributes) == (None, None)
        }
        _ => false,
    })
}

/// Interface index → name, from a link dump.
pub fn link_names(msgs: &[RouteNetlinkMessage]) -> HashMap<u32, String> {
    msgs.iter()
        .filter_map(|m| match m {
            RouteNetlinkMessage::NewLink(l) => {
                link_name(l).map(|n| (l.header.index, n.to_string()))
            }
            _ => None,
        })
        .collect()
}

fn link_name(l: &LinkMessage) -> Option<&str> {
    l.attributes.iter().find_map(|a| match a {
        LinkAttribute::IfName(n) => Some(n.as_str()),
        _ => None,
    })
}

fn table_of(r: &RouteMessage) -> u32 {
    r.attributes
        .iter()
        .find_map(|a| match a {
            RouteAttribute::Table(t) => Some(*t),
            _ => None,
        })
        .unwrap_or(u32::from(r.header.table))
}

fn metric(r: &RouteMessage, pick: fn(&RouteMetric) -> Option<u32>) -> u32 {
    r.attributes
        .iter()
        .find_map(|a| match a {
            RouteAttribute::Metrics(ms) => ms.iter().find_map(pick),
            _ => None,
        })
        .unwrap_or(0)
}

fn priority(r: &RouteMessage) -> u32 {
    r.attributes
        .iter()
        .find_map(|a| match a {
            RouteAttribute::Priority(p) => Some(*p),
            _ => None,
        })
        .unwrap_or(0)
}

/// The first next hop's (gateway, output interface): the route's own attributes, or the first
/// entry of RTA_MULTIPATH (which is what /proc reports for a multipath route).
fn first_hop(attrs: &[RouteAttribute]) -> (Option<IpAddr>, Option<u32>) {
    let mut gw = None;
    let mut oif = None;
    for a in attrs {
        match a {
            RouteAttribute::Gateway(RouteAddress::Inet(g)) => gw = Some(IpAddr::V4(*g)),
            RouteAttribute::Gateway(RouteAddress::Inet6(g)) => gw = Some(IpAddr::V6(*g)),
            RouteAttribute::Oif(i) => oif = Some(*i),
            _ => {}
        }
    }
    if gw.is_none() && oif.is_none() {
        if let Some(hop) = attrs.iter().find_map(|a| match a {
            RouteAttribute::MultiPath(hops) => hops.first(),
            _ => None,
        }) {
            let (g, _) = first_hop(&hop.attributes);
            return (g, Some(hop.interface_index));
        }
    }
    (gw, oif)
}

fn mask_v4(len: u8) -> Ipv4Addr {
    let len = u32::from(len.min(32));
    Ipv4Addr::from(if len == 0 { 0 } else { u32::MAX << (32 - len) })
}

/// The IPv4 main table as /proc/net/route shows it (no broadcast or multicast entries, no
/// other tables), in dump order (the kernel walks the same trie for both).
pub fn routes4(msgs: &[RouteNetlinkMessage], names: &HashMap<u32, String>) -> Vec<Route4> {
    let mut out = Vec::new();
    for m in msgs {
        let RouteNetlinkMessage::NewRoute(r) = m else {
            continue;
        };
        if r.header.address_family != AddressFamily::Inet
            || table_of(r) != RT_TABLE_MAIN
            || matches!(r.header.kind, RouteType::Broadcast | RouteType::Multicast)
            || r.header.flags.contains(RouteFlags::Cloned)
        {
            continue;
        }
        let destination = r
            .attributes
            .iter()
            .find_map(|a| match a {
                RouteAttribute::Destination(RouteAddress::Inet(d)) => Some(*d),
                _ => None,
            })
            .unwrap_or(Ipv4Addr::UNSPECIFIED);
        let genmask = mask_v4(r.header.destination_prefix_length);
        let (gw, oif) = first_hop(&r.attributes);
        let gateway = match gw {
            Some(IpAddr::V4(g)) => g,
            _ => Ipv4Addr::UNSPECIFIED,
        };
        let mut flags = match r.header.kind {
            RouteType::Unreachable | RouteType::Prohibit => rtf::REJECT,
            _ => 0,
        };
        if !gateway.is_unspecified() {
            flags |= rtf::GATEWAY;
        }
        if genmask == Ipv4Addr::BROADCAST {
            flags |= rtf::HOST;
        }
        flags |= rtf::UP;
        let advmss = metric(r, |m| match m {
            RouteMetric::Advmss(v) => Some(*v),
            _ => None,
        });
        out.push(Route4 {
            destination: Ipv4Addr::from(u32::from(destination) & u32::from(genmask)),
            genmask,
            gateway,
            flags,
            metric: priority(r),
            refcnt: 0,
            use_count: 0,
            iface: oif.and_then(|i| names.get(&i).cloned()),
            mss: if advmss == 0 { 0 } else { advmss + 40 },
            window: metric(r, |m| match m {
                RouteMetric::Window(v) => Some(*v),
                _ => None,
            }),
            irtt: metric(r, |m| match m {
                RouteMetric::Rtt(v) => Some(*v),
                _ => None,
            }) >> 3,
        });
    }
    out
}

/// Every IPv6 route of every table, as /proc/net/ipv6_route lists them (one row per next hop
/// of a multipath route), with the `RTF_*` flags the kernel keeps for them rebuilt from the
/// route type, protocol and next hop. netlink has no reference count: `refcnt` is `None`.
/// `cache` selects cloned (RTF_CACHE) entries instead of the table.
pub fn routes6(
    msgs: &[RouteNetlinkMessage],
    names: &HashMap<u32, String>,
    cache: bool,
) -> Vec<Route6> {
    let mut out = Vec::new();
    for m in msgs {
        let RouteNetlinkMessage::NewRoute(r) = m else {
            continue;
        };
        if r.header.address_family != AddressFamily::Inet6 {
            continue;
        }
        let cloned = r.header.flags.contains(RouteFlags::Cloned);
        if cloned != cache {
            continue;
        }
        let destination = r
            .attributes
            .iter()
            .find_map(|a| match a {
                RouteAttribute::Destination(RouteAddress::Inet6(d)) => Some(*d),
                _ => None,
            })
            .unwrap_or(Ipv6Addr::UNSPECIFIED);
        let expires = r.attributes.iter().any(|a| match a {
            RouteAttribute::CacheInfo(c) => c.expires != 0,
            RouteAttribute::Expires(e) => *e != 0,
            _ => false,
        });
        let mut base = match r.header.kind {
            RouteType::Unreachable
            | RouteType::BlackHole
            | RouteType::Prohibit
            | RouteType::Throw => rtf::REJECT | rtf::NONEXTHOP,
            RouteType::Local => rtf::UP | rtf::NONEXTHOP | rtf::LOCAL,
            RouteType::Anycast => rtf::UP | rtf::NONEXTHOP | rtf::ANYCAST,
            _ => rtf::UP,
        };
        if expires {
            base |= rtf::EXPIRES;
        }
        if cloned {
            base |= rtf::CACHE;
        }
        if u8::from(r.header.protocol) == RTPROT_RA {
            base |= rtf::ADDRCONF;
            if r.header.destination_prefix_length == 0 {
                base |= rtf::DEFAULT;
            }
        }
        let hops: Vec<(Option<IpAddr>, Option<u32>)> =
            match r.attributes.iter().find_map(|a| match a {
                RouteAttribute::MultiPath(h) => Some(h),
                _ => None,
            }) {
                Some(h) if !h.is_empty() => h
                    .iter()
                    .map(|hop| (first_hop(&hop.attributes).0, Some(hop.interface_index)))
                    .collect(),
                _ => vec![first_hop(&r.attributes)],
            };
        for (gw, oif) in hops {
            let next_hop = match gw {
                Some(IpAddr::V6(g)) => g,
                _ => Ipv6Addr::UNSPECIFIED,
            };
            let mut flags = base;
            if gw.is_some() {
                flags |= rtf::GATEWAY;
            }
            out.push(Route6 {
                destination,
                prefix_len: r.header.destination_prefix_length,
                next_hop,
                flags,
                metric: priority(r),
                refcnt: None,
                use_count: 0,
                iface: oif.and_then(|i| names.get(&i).cloned()).unwrap_or_default(),
            });
        }
    }
    out
}

fn stats_of(l: &LinkMessage) -> Option<LinkStats> {
    l.attributes.iter().find_map(|a| match a {
        LinkAttribute::Stats64(s) => Some(LinkStats {
            rx_bytes: s.rx_bytes,
            rx_packets: s.rx_packets,
            rx_errors: s.rx_errors,
            rx_dropped: s.rx_dropped.wrapping_add(s.rx_missed_errors),
            rx_fifo_errors: s.rx_fifo_errors,
            rx_frame_errors: s
                .rx_length_errors
                .wrapping_add(s.rx_over_errors)
                .wrapping_add(s.rx_crc_errors)
                .wrapping_add(s.rx_frame_errors),
            rx_compressed: s.rx_compressed,
            rx_multicast: s.multicast,
            tx_bytes: s.tx_bytes,
            tx_packets: s.tx_packets,
            tx_errors: s.tx_errors,
            tx_dropped: s.tx_dropped,
            tx_fifo_errors: s.tx_fifo_errors,
            collisions: s.collisions,
            tx_carrier_errors: s
                .tx_carrier_errors
                .wrapping_add(s.tx_aborted_errors)
                .wrapping_add(s.tx_window_errors)
                .wrapping_add(s.tx_heartbeat_errors),
            tx_compressed: s.tx_compressed,
        }),
        _ => None,
    })
}

/// Interfaces from a link dump and an address dump: one per link, plus one per IPv4 address
/// label that names no link (an alias such as `eth0:1`, which SIOCGIFCONF lists and which has
/// no counters of its own), in dump order. The caller sorts them as netstat does.
pub fn interfaces(links: &[RouteNetlinkMessage], addrs: &[RouteNetlinkMessage]) -> Vec<Interface> {
    let mut out: Vec<Interface> = Vec::new();
    for m in links {
        let RouteNetlinkMessage::NewLink(l) = m else {
            continue;
        };
        let Some(name) = link_name(l) else {
            continue;
        };
        let mut ife = Interface {
            name: name.to_string(),
            index: l.header.index,
            flags: l.header.flags.bits() & 0xffff,
            mtu: 0,
            stats: stats_of(l),
            link_type: u16::from(l.header.link_layer_type),
            hwaddr: Vec::new(),
            txqueuelen: None,
            map: DeviceMap::default(),
            ipv4: None,
            ipv6: Vec::new(),
        };
        for a in &l.attributes {
            match a {
                LinkAttribute::Mtu(v) => ife.mtu = *v,
                LinkAttribute::Address(a) => ife.hwaddr.clone_from(a),
                LinkAttribute::TxQueueLen(q) => ife.txqueuelen = Some(*q),
                LinkAttribute::Map(m) => {
                    ife.map = DeviceMap {
                        mem_start: m.memory_start,
                        mem_end: m.memory_end,
                        base_addr: m.base_address,
                        irq: m.irq,
                        dma: m.dma,
                    }
                }
                _ => {}
            }
        }
        out.push(ife);
    }
    for m in addrs {
        let RouteNetlinkMessage::NewAddress(a) = m else {
            continue;
        };
        add_address(&mut out, a);
    }
    out
}

fn add_address(out: &mut Vec<Interface>, a: &AddressMessage) {
    let mut address = None;
    let mut local = None;
    let mut label = None;
    let mut broadcast = None;
    for attr in &a.attributes {
        match attr {
            AddressAttribute::Address(ip) => address = Some(*ip),
            AddressAttribute::Local(ip) => local = Some(*ip),
            AddressAttribute::Label(l) => label = Some(l.as_str()),
            AddressAttribute::Broadcast(b) => broadcast = Some(*b),
            _ => {}
        }
    }
    match a.header.family {
        AddressFamily::Inet => {
            let (Some(IpAddr::V4(addr)), peer) = (local.or(address), address) else {
                return;
            };
            let cfg = Ipv4Config {
                address: addr,
                netmask: mask_v4(a.header.prefix_len),
                broadcast: broadcast.unwrap_or(Ipv4Addr::UNSPECIFIED),
                destination: match peer {
                    Some(IpAddr::V4(p)) => p,
                    _ => addr,
                },
            };
            // Links come first in `out`, aliases after: the first match is the link.
            let Some(parent) = out.iter().position(|i| i.index == a.header.index) else {
                return;
            };
            let label = label.unwrap_or(&out[parent].name).to_string();
            if let Some(ife) = out.iter_mut().find(|i| i.name == label) {
                if ife.ipv4.is_none() {
                    ife.ipv4 = Some(cfg);
                }
            } else {
                // An alias: the parent's flags and MTU, no counters, no IPv6 addresses.
                let mut alias = out[parent].clone();
                alias.name = label;
                alias.stats = None;
                alias.ipv6.clear();
                alias.ipv4 = Some(cfg);
                out.push(alias);
            }
        }
        AddressFamily::Inet6 => {
            let Some(IpAddr::V6(addr)) = address.or(local) else {
                return;
            };
            if let Some(ife) = out.iter_mut().find(|i| i.index == a.header.index) {
                ife.ipv6.push(Ipv6Config {
                    address: addr,
                    prefix_len: a.header.prefix_len,
                    scope: ipv6_scope_bits(addr),
                });
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One RTM_NEWROUTE of an IPv4 dump and the NLMSG_DONE after it, as Linux 6.18 sends them
    /// for `ip route add 198.51.100.0/24 via 192.0.2.254` (dev index 2), little-endian.
    fn route_dump() -> Vec<u8> {
        let mut b = Vec::new();
        // nlmsghdr: length 60, RTM_NEWROUTE (24), NLM_F_MULTI (2), seq 7, port 0
        b.extend_from_slice(&60u32.to_ne_bytes());
        b.extend_from_slice(&24u16.to_ne_bytes());
        b.extend_from_slice(&2u16.to_ne_bytes());
        b.extend_from_slice(&7u32.to_ne_bytes());
        b.extend_from_slice(&0u32.to_ne_bytes());
        // rtmsg: AF_INET, dst_len 24, src_len 0, tos 0, table main (254), proto boot (3),
        // scope universe (0), type unicast (1), flags 0
        b.extend_from_slice(&[2, 24, 0, 0, 254, 3, 0, 1]);
        b.extend_from_slice(&0u32.to_ne_bytes());
        // RTA_TABLE (15): 254
        b.extend_from_slice(&8u16.to_ne_bytes());
        b.extend_from_slice(&15u16.to_ne_bytes());
        b.extend_from_slice(&254u32.to_ne_bytes());
        // RTA_DST (1): 198.51.100.0
        b.extend_from_slice(&8u16.to_ne_bytes());
        b.extend_from_slice(&1u16.to_ne_bytes());
        b.extend_from_slice(&[198, 51, 100, 0]);
        // RTA_GATEWAY (5): 192.0.2.254
        b.extend_from_slice(&8u16.to_ne_bytes());
        b.extend_from_slice(&5u16.to_ne_bytes());
        b.extend_from_slice(&[192, 0, 2, 254]);
        // RTA_OIF (4): 2
        b.extend_from_slice(&8u16.to_ne_bytes());
        b.extend_from_slice(&4u16.to_ne_bytes());
        b.extend_from_slice(&2u32.to_ne_bytes());
        // NLMSG_DONE: length 20, type 3, NLM_F_MULTI, seq 7, status 0
        b.extend_from_slice(&20u32.to_ne_bytes());
        b.extend_from_slice(&3u16.to_ne_bytes());
        b.extend_from_slice(&2u16.to_ne_bytes());
        b.extend_from_slice(&7u32.to_ne_bytes());
        b.extend_from_slice(&0u32.to_ne_bytes());
        b.extend_from_slice(&0i32.to_ne_bytes());
        b
    }

    #[test]
    fn a_gateway_route_becomes_netstat_s_row() {
        let w = walk(&route_dump(), 7);
        assert_eq!(w.skipped, 0);
        assert_eq!(w.end, Some(Ok(())));
        let names = HashMap::from([(2, "veth-a".to_string())]);
        let rows = routes4(&w.messages, &names);
        assert_eq!(
            rows,
            [Route4 {
                destination: Ipv4Addr::new(198, 51, 100, 0),
                genmask: Ipv4Addr::new(255, 255, 255, 0),
                gateway: Ipv4Addr::new(192, 0, 2, 254),
                flags: rtf::UP | rtf::GATEWAY,
                metric: 0,
                refcnt: 0,
                use_count: 0,
                iface: Some("veth-a".to_string()),
                mss: 0,
                window: 0,
                irtt: 0,
            }]
        );
    }

    #[test]
    fn other_dumps_messages_are_ignored_and_errors_end_the_dump() {
        assert!(walk(&route_dump(), 8).messages.is_empty());
        let mut err = route_dump();
        let done = err.len() - 4;
        err[done..].copy_from_slice(&(-libc::EPERM).to_ne_bytes());
        assert_eq!(walk(&err, 7).end, Some(Err(libc::EPERM)));
        // A message cut short is skipped, not a panic.
        let w = walk(&route_dump()[..40], 7);
        assert_eq!(w.skipped, 1);
        assert!(w.end.is_none());
    }

    #[test]
    fn unreachable_routes_are_reject_routes() {
        let mut b = route_dump();
        b[16 + 7] = 7; // rtm_type RTN_UNREACHABLE
        let w = walk(&b, 7);
        let rows = routes4(&w.messages, &HashMap::new());
        assert_eq!(rows[0].flags & rtf::REJECT, rtf::REJECT);
        assert_eq!(rows[0].iface, None);
    }
}
