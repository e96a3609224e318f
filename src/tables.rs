//! The library's API for netstat's other tables: the routing tables (`-r`), the interfaces
//! (`-i`) and multicast group memberships (`-g`), typed, from the same sources as the binary
//! (rtnetlink first, /proc/net as the fallback; see `rnetstat -v`), in our own network namespace
//! or, as with `-N`, in the namespaces a [`NetTable`] names. A thin layer over the internal
//! `nettab`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use crate::model::Family;
use crate::nettab::{self, model, Collected, Options, Rows, Table};
use crate::query::{Error, ErrorKind, Namespace, Source};
use crate::source::SourceChoice;

/// Which namespaces and source netstat's other tables are read from, built step by step; then
/// [`routes`](NetTable::routes), [`interfaces`](NetTable::interfaces) or
/// [`groups`](NetTable::groups) reads one.
///
/// ```
/// // Every network namespace has a loopback interface.
/// let interfaces = rnetstat::interfaces()?;
/// let lo = interfaces.iter().find(|i| i.name() == "lo").expect("lo is listed");
/// assert!(lo.is_loopback() && lo.mtu() > 0);
///
/// // As `rnetstat -N all -r`: every namespace that can be entered (ours always can), each
/// // route naming its namespace.
/// let routes = rnetstat::NetTable::new().namespace("all")?.routes()?;
/// assert!(routes.rows().iter().all(|r| r.netns().is_some()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct NetTable {
    source: SourceChoice,
    namespaces: Vec<crate::netns::Spec>,
    proc_root: PathBuf,
}

impl Default for NetTable {
    fn default() -> NetTable {
        NetTable::new()
    }
}

/// The rows of one table, and how many of the chosen namespaces were not read.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TableRows<T> {
    rows: Vec<T>,
    namespaces_skipped: usize,
}

impl<T> TableRows<T> {
    /// The rows: our own namespace's, or every chosen namespace's in turn (our own first, then
    /// named ones by name, then nameless ones by inode, as `rnetstat -N` lists them).
    pub fn rows(&self) -> &[T] {
        &self.rows
    }

    /// The rows, owned.
    pub fn into_rows(self) -> Vec<T> {
        self.rows
    }

    /// How many of the chosen namespaces were not read: they could not be entered (no
    /// CAP_SYS_ADMIN), were gone, or their table could not be listed. 0 without
    /// [`NetTable::namespace`].
    pub fn namespaces_skipped(&self) -> usize {
        self.namespaces_skipped
    }
}

impl NetTable {
    /// Our own network namespace, sources chosen as `rnetstat` chooses them.
    pub fn new() -> NetTable {
        NetTable {
            source: SourceChoice::Auto,
            namespaces: Vec::new(),
            proc_root: PathBuf::from("/proc"),
        }
    }

    /// Where the tables come from (default [`Source::Auto`]: rtnetlink, falling back to
    /// /proc/net; [`Source::Netlink`] and [`Source::Proc`] allow only that one, except that
    /// group memberships always come from /proc/net/igmp and igmp6).
    pub fn source(mut self, source: Source) -> NetTable {
        self.source = match source {
            Source::Netlink => SourceChoice::Netlink,
            Source::Proc => SourceChoice::Proc,
            _ => SourceChoice::Auto,
        };
        self
    }

    /// Reads the tables of the network namespace `spec` names, as `rnetstat -N` takes it (and
    /// as [`Query::namespace`](crate::Query::namespace) does): a name under /run/netns, a path
    /// to a namespace file, `pid:PID`, or `all`. Repeatable. With any namespace chosen, only the
    /// chosen ones are read, each from a thread that entered it (CAP_SYS_ADMIN; those that
    /// cannot be entered are counted in [`TableRows::namespaces_skipped`]), and each row names
    /// its namespace (`netns()`). A malformed `spec` is an [`ErrorKind::Namespace`] error here;
    /// one that names nothing is one when the table is read.
    pub fn namespace(mut self, spec: &str) -> Result<NetTable, Error> {
        let spec = crate::netns::Spec::parse(spec)
            .map_err(|why| Error::new(ErrorKind::Namespace, why, None))?;
        if !self.namespaces.contains(&spec) {
            self.namespaces.push(spec);
        }
        Ok(self)
    }

    /// The procfs to read /proc/net from (default `/proc`).
    pub fn proc_root(mut self, root: impl Into<PathBuf>) -> NetTable {
        self.proc_root = root.into();
        self
    }

    /// The routing tables as `rnetstat -r -A inet,inet6` shows them: the IPv4 routes of the
    /// main table that are up, then the IPv6 routes (the routing cache left out).
    pub fn routes(&self) -> Result<TableRows<Route>, Error> {
        let opts = Options {
            families: vec![Family::V4, Family::V6],
            ..self.options()
        };
        self.read(
            Table::Routes,
            &opts,
            "cannot list the routing table",
            |c, ns, out| match &c.rows {
                Rows::Routes4(r) => out.extend(
                    r.iter()
                        .filter(|r| r.flags & model::rtf::UP != 0)
                        .map(|r| Route {
                            inner: RouteInner::V4(r.clone()),
                            netns: ns.clone(),
                        }),
                ),
                Rows::Routes6(r) => out.extend(r.iter().map(|r| Route {
                    inner: RouteInner::V6(r.clone()),
                    netns: ns.clone(),
                })),
                _ => {}
            },
        )
    }

    /// Every interface, up or down (`rnetstat -ia`), in netstat's order, IPv4 alias labels
    /// (`eth0:1`) included.
    pub fn interfaces(&self) -> Result<TableRows<Interface>, Error> {
        self.read(
            Table::Interfaces,
            &self.options(),
            "cannot list the interfaces",
            |c, ns, out| {
                if let Rows::Interfaces(r) = &c.rows {
                    out.extend(r.iter().map(|i| Interface {
                        inner: i.clone(),
                        netns: ns.clone(),
                    }));
                }
            },
        )
    }

    /// IPv4 then IPv6 multicast group memberships (`rnetstat -g`).
    pub fn groups(&self) -> Result<TableRows<Group>, Error> {
        self.read(
            Table::Groups,
            &self.options(),
            "cannot list the multicast group memberships",
            |c, ns, out| {
                if let Rows::Groups(r) = &c.rows {
                    out.extend(r.iter().map(|g| Group {
                        inner: g.clone(),
                        netns: ns.clone(),
                    }));
                }
            },
        )
    }

    fn options(&self) -> Options {
        Options {
            all: true,
            numeric_hosts: true,
            source: self.source,
            ..Options::default()
        }
    }

    /// Collects `table` in our namespace or the chosen ones, and turns each namespace's
    /// collected tables into rows with `rows`.
    fn read<T>(
        &self,
        table: Table,
        opts: &Options,
        step: &str,
        mut rows: impl FnMut(&Collected, &Option<Namespace>, &mut Vec<T>),
    ) -> Result<TableRows<T>, Error> {
        let mut out = Vec::new();
        if self.namespaces.is_empty() {
            let collected = nettab::collect_table(table, opts, Path::new(&self.proc_root))
                .map_err(|e| Error::new(ErrorKind::Table, step, Some(Box::new(e))))?;
            for c in &collected {
                rows(c, &None, &mut out);
            }
            return Ok(TableRows {
                rows: out,
                namespaces_skipped: 0,
            });
        }
        let per = nettab::collect_namespaces(table, opts, &self.namespaces, &self.proc_root, true)
            .map_err(|e| {
                Error::new(
                    ErrorKind::Namespace,
                    "cannot open a network namespace",
                    Some(Box::new(e)),
                )
            })?;
        for (ns, collected) in &per.listed {
            let ns = Some(Namespace::from_netns(ns));
            for c in collected {
                rows(c, &ns, &mut out);
            }
        }
        Ok(TableRows {
            rows: out,
            namespaces_skipped: per.failures.len()
                + per.outcome.netns_skipped.len()
                + per.outcome.netns_gone.len(),
        })
    }
}

/// Our own namespace's routes: [`NetTable::routes`] of [`NetTable::new`].
pub fn routes() -> Result<Vec<Route>, Error> {
    Ok(NetTable::new().routes()?.into_rows())
}

/// Our own namespace's interfaces: [`NetTable::interfaces`] of [`NetTable::new`].
pub fn interfaces() -> Result<Vec<Interface>, Error> {
    Ok(NetTable::new().interfaces()?.into_rows())
}

/// Our own namespace's multicast group memberships: [`NetTable::groups`] of [`NetTable::new`].
pub fn groups() -> Result<Vec<Group>, Error> {
    Ok(NetTable::new().groups()?.into_rows())
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum RouteInner {
    V4(model::Route4),
    V6(model::Route6),
}

/// One route, as a row of `rnetstat -r` (IPv4) or `rnetstat -r6` (IPv6) shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Route {
    inner: RouteInner,
    netns: Option<Namespace>,
}

impl Route {
    /// IPv4 or IPv6.
    pub fn family(&self) -> Family {
        match self.inner {
            RouteInner::V4(_) => Family::V4,
            RouteInner::V6(_) => Family::V6,
        }
    }

    /// The destination network (or host).
    pub fn destination(&self) -> IpAddr {
        match &self.inner {
            RouteInner::V4(r) => IpAddr::V4(r.destination),
            RouteInner::V6(r) => IpAddr::V6(r.destination),
        }
    }

    /// The destination's prefix length (0 for the default route).
    pub fn prefix_len(&self) -> u8 {
        match &self.inner {
            RouteInner::V4(r) => r.prefix_len() as u8,
            RouteInner::V6(r) => r.prefix_len,
        }
    }

    /// The IPv4 genmask (netstat's Genmask column); `None` for IPv6.
    pub fn genmask(&self) -> Option<Ipv4Addr> {
        match &self.inner {
            RouteInner::V4(r) => Some(r.genmask),
            RouteInner::V6(_) => None,
        }
    }

    /// The gateway (next hop); the unspecified address (`0.0.0.0`, `::`) when there is none.
    pub fn gateway(&self) -> IpAddr {
        match &self.inner {
            RouteInner::V4(r) => IpAddr::V4(r.gateway),
            RouteInner::V6(r) => IpAddr::V6(r.next_hop),
        }
    }

    /// netstat's flag letters (`UG`, `UH`, `!` for a reject route, ...).
    pub fn flags(&self) -> String {
        match &self.inner {
            RouteInner::V4(r) => crate::render::nettab::route4_flags(r.flags),
            RouteInner::V6(r) => crate::render::nettab::route6_flags(r.flags),
        }
    }

    /// The kernel's `RTF_*` bits (linux/route.h, linux/ipv6_route.h).
    pub fn kernel_flags(&self) -> u32 {
        match &self.inner {
            RouteInner::V4(r) => r.flags,
            RouteInner::V6(r) => r.flags,
        }
    }

    /// Whether this is a reject route (blackhole, unreachable, prohibit): `RTF_REJECT`.
    pub fn is_reject(&self) -> bool {
        self.kernel_flags() & model::rtf::REJECT != 0
    }

    /// The metric.
    pub fn metric(&self) -> u32 {
        match &self.inner {
            RouteInner::V4(r) => r.metric,
            RouteInner::V6(r) => r.metric,
        }
    }

    /// The reference count; `None` where the source has none (IPv6 routes over rtnetlink).
    pub fn refcnt(&self) -> Option<u32> {
        match &self.inner {
            RouteInner::V4(r) => Some(r.refcnt),
            RouteInner::V6(r) => r.refcnt,
        }
    }

    /// netstat's Use column.
    pub fn use_count(&self) -> u32 {
        match &self.inner {
            RouteInner::V4(r) => r.use_count,
            RouteInner::V6(r) => r.use_count,
        }
    }

    /// The output interface; `None` for a route without a device (an IPv4 reject route).
    pub fn interface(&self) -> Option<&str> {
        match &self.inner {
            RouteInner::V4(r) => r.iface.as_deref(),
            RouteInner::V6(r) => (!r.iface.is_empty()).then_some(r.iface.as_str()),
        }
    }

    /// IPv4: the MSS column as /proc/net/route gives it (the advertised MSS plus 40; 0 when
    /// unset); `None` for IPv6.
    pub fn mss(&self) -> Option<u32> {
        match &self.inner {
            RouteInner::V4(r) => Some(r.mss),
            RouteInner::V6(_) => None,
        }
    }

    /// IPv4: the Window column; `None` for IPv6.
    pub fn window(&self) -> Option<u32> {
        match &self.inner {
            RouteInner::V4(r) => Some(r.window),
            RouteInner::V6(_) => None,
        }
    }

    /// IPv4: the irtt column (the RTT metric divided by 8, as /proc/net/route reports it);
    /// `None` for IPv6.
    pub fn irtt(&self) -> Option<u32> {
        match &self.inner {
            RouteInner::V4(r) => Some(r.irtt),
            RouteInner::V6(_) => None,
        }
    }

    /// The network namespace the route was read in, when namespaces were chosen
    /// ([`NetTable::namespace`]); `None` otherwise.
    pub fn netns(&self) -> Option<&Namespace> {
        self.netns.as_ref()
    }
}

/// One interface, as `rnetstat -iea` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Interface {
    inner: model::Interface,
    netns: Option<Namespace>,
}

impl Interface {
    /// The name (an alias label such as `eth0:1` for an IPv4 alias).
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The interface index (0 when unknown).
    pub fn index(&self) -> u32 {
        self.inner.index
    }

    /// The MTU.
    pub fn mtu(&self) -> u32 {
        self.inner.mtu
    }

    /// netstat -i's flag letters (`BMRU`, `LRU`, ...).
    pub fn flags(&self) -> String {
        crate::render::nettab::iface_flags(self.inner.flags)
    }

    /// The kernel's `IFF_*` bits (the low 16, linux/if.h).
    pub fn kernel_flags(&self) -> u32 {
        self.inner.flags
    }

    /// Whether the interface is up (`IFF_UP`); only those are in `rnetstat -i` without `-a`.
    pub fn is_up(&self) -> bool {
        self.inner.flags & model::iff::UP != 0
    }

    /// Whether it is a loopback interface (`IFF_LOOPBACK`).
    pub fn is_loopback(&self) -> bool {
        self.inner.flags & model::iff::LOOPBACK != 0
    }

    fn stat(&self, f: impl Fn(&model::LinkStats) -> u64) -> Option<u64> {
        self.inner.stats.as_ref().map(f)
    }

    /// Packets received (RX-OK); `None` for an alias, which has no counters of its own.
    pub fn rx_packets(&self) -> Option<u64> {
        self.stat(|s| s.rx_packets)
    }

    /// Receive errors (RX-ERR).
    pub fn rx_errors(&self) -> Option<u64> {
        self.stat(|s| s.rx_errors)
    }

    /// Received packets dropped (RX-DRP: dropped plus missed).
    pub fn rx_dropped(&self) -> Option<u64> {
        self.stat(|s| s.rx_dropped)
    }

    /// Receive FIFO overruns (RX-OVR).
    pub fn rx_overruns(&self) -> Option<u64> {
        self.stat(|s| s.rx_fifo_errors)
    }

    /// Bytes received.
    pub fn rx_bytes(&self) -> Option<u64> {
        self.stat(|s| s.rx_bytes)
    }

    /// Packets sent (TX-OK).
    pub fn tx_packets(&self) -> Option<u64> {
        self.stat(|s| s.tx_packets)
    }

    /// Transmit errors (TX-ERR).
    pub fn tx_errors(&self) -> Option<u64> {
        self.stat(|s| s.tx_errors)
    }

    /// Packets dropped on transmit (TX-DRP).
    pub fn tx_dropped(&self) -> Option<u64> {
        self.stat(|s| s.tx_dropped)
    }

    /// Transmit FIFO overruns (TX-OVR).
    pub fn tx_overruns(&self) -> Option<u64> {
        self.stat(|s| s.tx_fifo_errors)
    }

    /// Bytes sent.
    pub fn tx_bytes(&self) -> Option<u64> {
        self.stat(|s| s.tx_bytes)
    }

    /// The link type (`ARPHRD_*`: 1 Ethernet, 772 loopback, ...).
    pub fn link_type(&self) -> u16 {
        self.inner.link_type
    }

    /// The hardware address bytes (empty when there is none).
    pub fn hwaddr(&self) -> &[u8] {
        &self.inner.hwaddr
    }

    /// The transmit queue length, when known.
    pub fn txqueuelen(&self) -> Option<u32> {
        self.inner.txqueuelen
    }

    /// The IPv4 address ifconfig shows (the first whose label is this interface's name) and
    /// its netmask.
    pub fn ipv4(&self) -> Option<(Ipv4Addr, Ipv4Addr)> {
        self.inner.ipv4.map(|a| (a.address, a.netmask))
    }

    /// The IPv6 addresses with their prefix lengths, in /proc/net/if_inet6's order.
    pub fn ipv6(&self) -> Vec<(Ipv6Addr, u8)> {
        self.inner
            .ipv6
            .iter()
            .map(|a| (a.address, a.prefix_len))
            .collect()
    }

    /// The network namespace the interface was read in, when namespaces were chosen
    /// ([`NetTable::namespace`]); `None` otherwise.
    pub fn netns(&self) -> Option<&Namespace> {
        self.netns.as_ref()
    }
}

/// One multicast group membership, as a row of `rnetstat -gn`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Group {
    inner: model::Group,
    netns: Option<Namespace>,
}

impl Group {
    /// The interface that joined the group.
    pub fn interface(&self) -> &str {
        &self.inner.iface
    }

    /// How many times it was joined there.
    pub fn refcnt(&self) -> u32 {
        self.inner.refcnt
    }

    /// The group address.
    pub fn group(&self) -> IpAddr {
        self.inner.group
    }

    /// The network namespace the membership was read in, when namespaces were chosen
    /// ([`NetTable::namespace`]); `None` otherwise.
    pub fn netns(&self) -> Option<&Namespace> {
        self.netns.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sources_list_lo_and_a_route_per_family_agrees() {
        for source in [Source::Auto, Source::Netlink, Source::Proc] {
            let t = NetTable::new().source(source);
            let ifs = t.interfaces().expect("interfaces");
            let lo = ifs.rows().iter().find(|i| i.name() == "lo").expect("lo");
            assert!(lo.is_loopback() && lo.mtu() > 0 && lo.netns().is_none());
            assert_eq!(lo.link_type(), 772);
            let routes = t.routes().expect("routes");
            assert!(routes
                .rows()
                .iter()
                .all(|r| r.genmask().is_some() == (r.family() == Family::V4)));
        }
    }

    #[test]
    fn namespace_errors_are_typed() {
        assert_eq!(
            NetTable::new().namespace("pid:x").err().map(|e| e.kind()),
            Some(ErrorKind::Namespace)
        );
        let e = NetTable::new()
            .namespace("rnetstat-no-such-namespace")
            .expect("well formed")
            .routes()
            .expect_err("names nothing");
        assert_eq!(e.kind(), ErrorKind::Namespace);
        assert!(std::error::Error::source(&e).is_some());
        let e = NetTable::new()
            .source(Source::Proc)
            .proc_root("/nonexistent")
            .routes()
            .expect_err("no /proc there");
        assert_eq!(e.kind(), ErrorKind::Table);
        assert_eq!(e.to_string(), "cannot list the routing table");
    }

    #[test]
    fn our_own_namespace_by_file_names_it() {
        let own = std::fs::metadata("/proc/self/ns/net").expect("ns");
        let rows = NetTable::new()
            .namespace("/proc/self/ns/net")
            .expect("spec")
            .interfaces()
            .expect("interfaces");
        assert_eq!(rows.namespaces_skipped(), 0);
        assert!(rows.rows().iter().all(|i| {
            i.netns().is_some_and(|n| {
                n.is_own() && n.inode() == std::os::unix::fs::MetadataExt::ino(&own)
            })
        }));
    }
}
