//! Where the rows of -r, -i and -g come from, and the rule that picks: rtnetlink first, the
//! /proc/net files (and, for interfaces, the SIOCGIF* ioctls netstat itself uses, SIOCGIFCONF
//! for alias labels) when rtnetlink cannot serve — or cannot serve whole: links it could not
//! decode, routes through unresolved nexthop objects — or when `--source proc` says so. Two exceptions, both because the
//! other source lacks what netstat prints: the IPv6 routing table prefers /proc/net/ipv6_route
//! (only it has the routes' reference counts and the kernel's null entry), and group
//! memberships come from /proc/net/igmp and igmp6 only (IPv4 memberships have no rtnetlink
//! dump on the kernels we support).

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use netlink_packet_route::AddressFamily;

use super::model::{netstat_order, DeviceMap, Interface, Ipv4Config};
use super::Rows;
use crate::model::Family;
use crate::source::procnet::nettab as procparse;
use crate::source::rtnetlink::{parse as nlparse, Dump, Rtnl, RtnlError};
use crate::source::SourceChoice;

/// Which source served a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServedBy {
    Rtnetlink,
    /// The files read.
    Proc(Vec<PathBuf>),
}

impl std::fmt::Display for ServedBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServedBy::Rtnetlink => f.write_str("rtnetlink"),
            ServedBy::Proc(paths) if paths.is_empty() => f.write_str("no source (nothing to read)"),
            ServedBy::Proc(paths) => {
                let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
                f.write_str(&names.join(", "))
            }
        }
    }
}

/// One table's rows and how they were served.
#[derive(Debug, Clone)]
pub struct Collected {
    /// "IPv4 routes", "interfaces", ...
    pub what: &'static str,
    pub rows: Rows,
    pub by: ServedBy,
    /// Why the preferred source was not used.
    pub fallback_reason: Option<String>,
    /// Records that could not be decoded, with where.
    pub skipped: Vec<String>,
}

/// A table neither source could serve.
#[derive(Debug)]
pub enum CollectError {
    Rtnetlink {
        what: &'static str,
        source: RtnlError,
    },
    Proc {
        path: PathBuf,
        source: std::io::Error,
    },
    /// rtnetlink sent links the decoder could not read.
    Undecodable { what: &'static str, count: usize },
    /// Routes use nexthop objects the route dump does not resolve.
    NexthopObjects { what: &'static str },
}

impl std::fmt::Display for CollectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CollectError::Rtnetlink { what, .. } => write!(f, "cannot list {what} over rtnetlink"),
            CollectError::Proc { path, .. } => write!(f, "cannot read {}", path.display()),
            CollectError::Undecodable { what, count } => write!(
                f,
                "cannot list {what} over rtnetlink: {count} link message(s) could not be decoded"
            ),
            CollectError::NexthopObjects { what } => write!(
                f,
                "cannot list {what} over rtnetlink: routes use nexthop objects the dump does not resolve"
            ),
        }
    }
}

impl std::error::Error for CollectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CollectError::Rtnetlink { source, .. } => Some(source),
            CollectError::Proc { source, .. } => Some(source),
            CollectError::Undecodable { .. } | CollectError::NexthopObjects { .. } => None,
        }
    }
}

/// An error with its causes, for a one-line fallback reason.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

fn read(path: PathBuf) -> Result<(String, PathBuf), CollectError> {
    read_bytes(path).map(|(b, p)| (String::from_utf8_lossy(&b).into_owned(), p))
}

fn read_bytes(path: PathBuf) -> Result<(Vec<u8>, PathBuf), CollectError> {
    match std::fs::read(&path) {
        Ok(b) => Ok((b, path)),
        Err(source) => Err(CollectError::Proc { path, source }),
    }
}

fn skipped_lines(path: &Path, lines: &[usize]) -> Vec<String> {
    lines
        .iter()
        .map(|l| format!("{} line {l}", path.display()))
        .collect()
}

/// Runs `netlink` or `proc` as `choice` and `prefer_proc` say, falling back from the preferred
/// one to the other in auto mode.
fn pick(
    choice: SourceChoice,
    prefer_proc: bool,
    netlink: impl FnOnce() -> Result<Collected, CollectError>,
    proc: impl FnOnce() -> Result<Collected, CollectError>,
) -> Result<Collected, CollectError> {
    let with_reason = |r: Result<Collected, CollectError>, why: &CollectError| {
        r.map(|mut c| {
            c.fallback_reason = Some(chain(why));
            c
        })
    };
    match (choice, prefer_proc) {
        (SourceChoice::Netlink, _) => netlink(),
        (SourceChoice::Proc, _) => proc(),
        (SourceChoice::Auto, false) => match netlink() {
            Ok(c) => Ok(c),
            Err(e) => with_reason(proc(), &e),
        },
        (SourceChoice::Auto, true) => match proc() {
            Ok(c) => Ok(c),
            Err(e) => with_reason(netlink(), &e),
        },
    }
}

fn rtnl_dump(
    what: &'static str,
    rtnl: &mut Rtnl,
    d: Dump,
) -> Result<(Vec<netlink_packet_route::RouteNetlinkMessage>, usize), CollectError> {
    rtnl.dump(d)
        .map_err(|source| CollectError::Rtnetlink { what, source })
}

fn rtnl_open(what: &'static str) -> Result<Rtnl, CollectError> {
    Rtnl::open().map_err(|source| CollectError::Rtnetlink { what, source })
}

/// A link dump with messages the decoder could not read (a name that is not UTF-8) would lose
/// those interfaces, and the names of routes through them: an error, so auto mode takes /proc.
fn all_links_read(what: &'static str, skipped: usize) -> Result<(), CollectError> {
    if skipped == 0 {
        Ok(())
    } else {
        Err(CollectError::Undecodable {
            what,
            count: skipped,
        })
    }
}

/// One family's routes as rtnetlink gave them, with the names of the links they refer to.
struct RtnlRoutes {
    routes: Vec<netlink_packet_route::RouteNetlinkMessage>,
    names: std::collections::HashMap<u32, String>,
    /// Messages the decoder skipped, over both dumps.
    skipped: usize,
}

/// Dumps the links, then one family's routes; routes through nexthop objects are an error (auto
/// mode then takes /proc).
fn rtnl_routes(what: &'static str, family: AddressFamily) -> Result<RtnlRoutes, CollectError> {
    let mut rtnl = rtnl_open(what)?;
    let (links, s1) = rtnl_dump(what, &mut rtnl, Dump::Links)?;
    all_links_read(what, s1)?;
    let (routes, s2) = rtnl_dump(what, &mut rtnl, Dump::Routes(family))?;
    if nlparse::has_unresolved_nexthops(&routes) {
        return Err(CollectError::NexthopObjects { what });
    }
    Ok(RtnlRoutes {
        routes,
        names: nlparse::link_names(&links),
        skipped: s1 + s2,
    })
}

fn skipped_msgs(n: usize) -> Vec<String> {
    (0..n.min(1))
        .map(|_| format!("{n} rtnetlink message(s) the decoder did not understand"))
        .collect()
}

/// The IPv4 routing table (with `cache`, the routing cache, which Linux has not had since
/// 3.6: always empty).
pub fn routes4(
    choice: SourceChoice,
    proc_root: &Path,
    cache: bool,
) -> Result<Collected, CollectError> {
    const WHAT: &str = "IPv4 routes";
    if cache {
        // Linux has had no IPv4 routing cache since 3.6: netstat prints the headers only.
        return Ok(Collected {
            what: "IPv4 routing cache",
            rows: Rows::Routes4(Vec::new()),
            by: ServedBy::Proc(Vec::new()),
            fallback_reason: None,
            skipped: Vec::new(),
        });
    }
    pick(
        choice,
        false,
        || {
            let r = rtnl_routes(WHAT, AddressFamily::Inet)?;
            Ok(Collected {
                what: WHAT,
                rows: Rows::Routes4(nlparse::routes4(&r.routes, &r.names)),
                by: ServedBy::Rtnetlink,
                fallback_reason: None,
                skipped: skipped_msgs(r.skipped),
            })
        },
        || {
            let (text, path) = read(proc_root.join("net/route"))?;
            let p = procparse::route(&text);
            Ok(Collected {
                what: WHAT,
                rows: Rows::Routes4(p.rows),
                skipped: skipped_lines(&path, &p.skipped),
                by: ServedBy::Proc(vec![path]),
                fallback_reason: None,
            })
        },
    )
}

/// The IPv6 routing table, or with `cache` its cloned entries.
pub fn routes6(
    choice: SourceChoice,
    proc_root: &Path,
    cache: bool,
) -> Result<Collected, CollectError> {
    const WHAT: &str = "IPv6 routes";
    pick(
        choice,
        true,
        || {
            let r = rtnl_routes(WHAT, AddressFamily::Inet6)?;
            Ok(Collected {
                what: WHAT,
                rows: Rows::Routes6(nlparse::routes6(&r.routes, &r.names, cache)),
                by: ServedBy::Rtnetlink,
                fallback_reason: None,
                skipped: skipped_msgs(r.skipped),
            })
        },
        || {
            let (text, path) = read(proc_root.join("net/ipv6_route"))?;
            let p = procparse::ipv6_route(&text);
            let rows = p
                .rows
                .into_iter()
                .filter(|r| (r.flags & super::model::rtf::CACHE != 0) == cache)
                .collect();
            Ok(Collected {
                what: WHAT,
                rows: Rows::Routes6(rows),
                skipped: skipped_lines(&path, &p.skipped),
                by: ServedBy::Proc(vec![path]),
                fallback_reason: None,
            })
        },
    )
}

/// Every interface, in netstat's order.
pub fn interfaces(choice: SourceChoice, proc_root: &Path) -> Result<Collected, CollectError> {
    const WHAT: &str = "interfaces";
    let mut c = pick(
        choice,
        false,
        || {
            let mut rtnl = rtnl_open(WHAT)?;
            let (links, s1) = rtnl_dump(WHAT, &mut rtnl, Dump::Links)?;
            all_links_read(WHAT, s1)?;
            let (addrs, s2) = rtnl_dump(WHAT, &mut rtnl, Dump::Addresses)?;
            Ok(Collected {
                what: WHAT,
                rows: Rows::Interfaces(nlparse::interfaces(&links, &addrs)),
                by: ServedBy::Rtnetlink,
                fallback_reason: None,
                skipped: skipped_msgs(s1 + s2),
            })
        },
        || interfaces_proc(proc_root),
    )?;
    if let Rows::Interfaces(list) = &mut c.rows {
        if c.by == ServedBy::Rtnetlink {
            inet6_file_order(list, proc_root);
        }
        *list = netstat_order(std::mem::take(list));
    }
    Ok(c)
}

/// Puts each interface's IPv6 addresses in /proc/net/if_inet6's order (the kernel's address
/// hash), which is the order netstat prints them in; rtnetlink lists them per device in the
/// order they were added. Without the file the rtnetlink order stays.
fn inet6_file_order(list: &mut [Interface], proc_root: &Path) {
    let Ok((text, _)) = read(proc_root.join("net/if_inet6")) else {
        return;
    };
    let order = procparse::if_inet6(&text).rows;
    for ife in list {
        let pos = |a: &super::model::Ipv6Config| {
            order
                .iter()
                .position(|(n, o)| *n == ife.name && o.address == a.address)
                .unwrap_or(usize::MAX)
        };
        let mut v = std::mem::take(&mut ife.ipv6);
        v.sort_by_key(|a| pos(a));
        ife.ipv6 = v;
    }
}

/// /proc/net/dev for names and counters, /proc/net/if_inet6 for IPv6 addresses, and the
/// SIOCGIF* ioctls for the rest, as netstat does.
fn interfaces_proc(proc_root: &Path) -> Result<Collected, CollectError> {
    let (text, dev_path) = read_bytes(proc_root.join("net/dev"))?;
    let p = procparse::dev(&text);
    let mut skipped = skipped_lines(&dev_path, &p.skipped);
    let mut paths = vec![dev_path];
    let v6 = match read(proc_root.join("net/if_inet6")) {
        Ok((t, path)) => {
            let q = procparse::if_inet6(&t);
            skipped.extend(skipped_lines(&path, &q.skipped));
            paths.push(path);
            q.rows
        }
        Err(_) => Vec::new(), // no IPv6
    };
    let sock = ioctl::Socket::open().map_err(|source| CollectError::Proc {
        path: PathBuf::from("SIOCGIFFLAGS"),
        source,
    })?;
    let mut rows = Vec::new();
    for (raw, stats) in p.rows {
        let Ok(flags) = sock.flags(&raw) else {
            continue; // gone since the file was read
        };
        let name = String::from_utf8_lossy(&raw).into_owned();
        rows.push(Interface {
            index: sock.index(&raw).unwrap_or(0),
            flags,
            mtu: sock.mtu(&raw).unwrap_or(0),
            stats: Some(stats),
            link_type: sock.hwaddr(&raw).map_or(0, |h| h.0),
            hwaddr: sock.hwaddr(&raw).map(|h| h.1).unwrap_or_default(),
            txqueuelen: sock.txqueuelen(&raw).ok(),
            map: sock.map(&raw).unwrap_or_default(),
            ipv4: sock.ipv4(&raw),
            ipv6: v6
                .iter()
                .filter(|(n, _)| *n == name)
                .map(|(_, a)| *a)
                .collect(),
            name,
        });
    }
    // IPv4 alias labels (eth0:1) exist only in SIOCGIFCONF, as in netstat; they have no
    // counters of their own.
    for label in sock.labels().unwrap_or_default() {
        let name = String::from_utf8_lossy(&label).into_owned();
        if rows.iter().any(|r| r.name == name) {
            continue;
        }
        let Ok(flags) = sock.flags(&label) else {
            continue;
        };
        rows.push(Interface {
            index: sock.index(&label).unwrap_or(0),
            flags,
            mtu: sock.mtu(&label).unwrap_or(0),
            stats: None,
            link_type: sock.hwaddr(&label).map_or(0, |h| h.0),
            hwaddr: sock.hwaddr(&label).map(|h| h.1).unwrap_or_default(),
            txqueuelen: sock.txqueuelen(&label).ok(),
            map: sock.map(&label).unwrap_or_default(),
            ipv4: sock.ipv4(&label),
            ipv6: Vec::new(),
            name,
        });
    }
    Ok(Collected {
        what: "interfaces",
        rows: Rows::Interfaces(rows),
        by: ServedBy::Proc(paths),
        fallback_reason: None,
        skipped,
    })
}

/// Multicast memberships: /proc/net/igmp then /proc/net/igmp6, as netstat prints them.
pub fn groups(proc_root: &Path, families: &[Family]) -> Result<Collected, CollectError> {
    let mut rows = Vec::new();
    let mut paths = Vec::new();
    let mut skipped = Vec::new();
    for f in families {
        let (file, parse): (&str, fn(&str) -> procparse::Parsed<super::Group>) = match f {
            Family::V4 => ("net/igmp", procparse::igmp),
            Family::V6 => ("net/igmp6", procparse::igmp6),
        };
        match read(proc_root.join(file)) {
            Ok((text, path)) => {
                let p = parse(&text);
                rows.extend(p.rows);
                skipped.extend(skipped_lines(&path, &p.skipped));
                paths.push(path);
            }
            // A kernel without that family has no file: netstat then prints nothing for it.
            Err(CollectError::Proc { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Collected {
        what: "multicast groups",
        rows: Rows::Groups(rows),
        by: ServedBy::Proc(paths),
        fallback_reason: None,
        skipped,
    })
}

/// The SIOCGIF* ioctls on an AF_INET datagram socket.
mod ioctl {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

    use super::{DeviceMap, Ipv4Addr, Ipv4Config};

    const SIOCGIFFLAGS: libc::c_ulong = 0x8913;
    const SIOCGIFADDR: libc::c_ulong = 0x8915;
    const SIOCGIFDSTADDR: libc::c_ulong = 0x8917;
    const SIOCGIFBRDADDR: libc::c_ulong = 0x8919;
    const SIOCGIFNETMASK: libc::c_ulong = 0x891b;
    const SIOCGIFMTU: libc::c_ulong = 0x8921;
    const SIOCGIFHWADDR: libc::c_ulong = 0x8927;
    const SIOCGIFINDEX: libc::c_ulong = 0x8933;
    const SIOCGIFTXQLEN: libc::c_ulong = 0x8942;
    const SIOCGIFMAP: libc::c_ulong = 0x8970;

    pub struct Socket(OwnedFd);

    impl Socket {
        pub fn open() -> std::io::Result<Socket> {
            // SAFETY: socket(2) with constant arguments; the result is checked before use.
            let fd =
                unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
            if fd < 0 {
                return Err(std::io::Error::last_os_error());
            }
            // SAFETY: `fd` is a fresh descriptor we own.
            Ok(Socket(unsafe { OwnedFd::from_raw_fd(fd) }))
        }

        /// Runs one ioctl on an `ifreq` naming `name`.
        fn call(&self, name: &[u8], req: libc::c_ulong) -> std::io::Result<libc::ifreq> {
            // SAFETY: ifreq is plain data; all-zero is a valid value.
            let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
            let bytes = name;
            if bytes.len() >= ifr.ifr_name.len() {
                return Err(std::io::Error::from_raw_os_error(libc::ENODEV));
            }
            for (d, s) in ifr.ifr_name.iter_mut().zip(bytes) {
                *d = *s as libc::c_char;
            }
            // SAFETY: the SIOCGIF* requests read the name and write within the ifreq we pass.
            let rc = unsafe { libc::ioctl(self.0.as_raw_fd(), req as _, &mut ifr) };
            if rc < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(ifr)
        }

        /// The names SIOCGIFCONF lists: one per IPv4 address label.
        pub fn labels(&self) -> std::io::Result<Vec<Vec<u8>>> {
            const SIOCGIFCONF: libc::c_ulong = 0x8912;
            let mut n = 32usize;
            loop {
                // SAFETY: ifreq is plain data; all-zero is a valid value.
                let mut reqs: Vec<libc::ifreq> = vec![unsafe { std::mem::zeroed() }; n];
                let bytes = n * std::mem::size_of::<libc::ifreq>();
                let mut conf = libc::ifconf {
                    ifc_len: libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX),
                    ifc_ifcu: libc::__c_anonymous_ifc_ifcu {
                        ifcu_req: reqs.as_mut_ptr(),
                    },
                };
                // SAFETY: the kernel writes at most ifc_len bytes of ifreqs into `reqs`.
                let rc = unsafe { libc::ioctl(self.0.as_raw_fd(), SIOCGIFCONF as _, &mut conf) };
                if rc < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                let used =
                    usize::try_from(conf.ifc_len).unwrap_or(0) / std::mem::size_of::<libc::ifreq>();
                if used >= n && n < 1 << 16 {
                    n *= 4; // it may have been cut: ask again with more room
                    continue;
                }
                return Ok(reqs[..used.min(n)]
                    .iter()
                    .map(|r| {
                        r.ifr_name
                            .iter()
                            .take_while(|c| **c != 0)
                            .map(|c| *c as u8)
                            .collect()
                    })
                    .collect());
            }
        }

        pub fn flags(&self, name: &[u8]) -> std::io::Result<u32> {
            // SAFETY: SIOCGIFFLAGS fills ifru_flags.
            self.call(name, SIOCGIFFLAGS)
                .map(|r| u32::from(unsafe { r.ifr_ifru.ifru_flags } as u16))
        }

        pub fn index(&self, name: &[u8]) -> std::io::Result<u32> {
            // SAFETY: SIOCGIFINDEX fills ifru_ifindex.
            self.call(name, SIOCGIFINDEX)
                .map(|r| unsafe { r.ifr_ifru.ifru_ifindex } as u32)
        }

        pub fn mtu(&self, name: &[u8]) -> std::io::Result<u32> {
            // SAFETY: SIOCGIFMTU fills ifru_mtu.
            self.call(name, SIOCGIFMTU)
                .map(|r| unsafe { r.ifr_ifru.ifru_mtu } as u32)
        }

        pub fn txqueuelen(&self, name: &[u8]) -> std::io::Result<u32> {
            // SAFETY: SIOCGIFTXQLEN fills ifru_ifindex (ifr_qlen is the same int).
            self.call(name, SIOCGIFTXQLEN)
                .map(|r| unsafe { r.ifr_ifru.ifru_ifindex } as u32)
        }

        /// (ARPHRD type, the first 8 address bytes, as netstat copies them).
        pub fn hwaddr(&self, name: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
            self.call(name, SIOCGIFHWADDR).map(|r| {
                // SAFETY: SIOCGIFHWADDR fills ifru_hwaddr.
                let sa = unsafe { r.ifr_ifru.ifru_hwaddr };
                (
                    sa.sa_family,
                    sa.sa_data.iter().take(8).map(|b| *b as u8).collect(),
                )
            })
        }

        pub fn map(&self, name: &[u8]) -> std::io::Result<DeviceMap> {
            self.call(name, SIOCGIFMAP).map(|r| {
                // SAFETY: SIOCGIFMAP fills ifru_map.
                let m = unsafe { r.ifr_ifru.ifru_map };
                DeviceMap {
                    mem_start: m.mem_start,
                    mem_end: m.mem_end,
                    base_addr: u64::from(m.base_addr),
                    irq: u16::from(m.irq),
                    dma: m.dma,
                }
            })
        }

        fn addr(&self, name: &[u8], req: libc::c_ulong) -> Option<Ipv4Addr> {
            self.call(name, req).ok().map(|r| {
                // SAFETY: the address requests fill a sockaddr_in in ifru_addr.
                let sa = unsafe { r.ifr_ifru.ifru_addr };
                let d = sa.sa_data;
                Ipv4Addr::new(d[2] as u8, d[3] as u8, d[4] as u8, d[5] as u8)
            })
        }

        pub fn ipv4(&self, name: &[u8]) -> Option<Ipv4Config> {
            let address = self.addr(name, SIOCGIFADDR)?;
            let zero = Ipv4Addr::UNSPECIFIED;
            Some(Ipv4Config {
                address,
                netmask: self.addr(name, SIOCGIFNETMASK).unwrap_or(zero),
                broadcast: self.addr(name, SIOCGIFBRDADDR).unwrap_or(zero),
                destination: self.addr(name, SIOCGIFDSTADDR).unwrap_or(zero),
            })
        }
    }
}
