//! The library's public API: [`Query`] says which sockets to list, [`Query::run`] lists them
//! through the same pipeline as the `rnetstat` binary (netlink sock_diag first, /proc/net per
//! table where netlink cannot serve, every owner from one process scan) and hands back typed
//! [`Socket`]s with their [`Owner`]s.
//!
//! It exists for test suites that spawn sockets and assert what the system lists, and for tools
//! like the demo. It is a thin layer over the internal [`Config`] and [`listing::snapshot`]: the
//! binary's hot path does not go through it, and nothing here costs the binary anything.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::config::{Config, Internals, Mode, OutputMode, ShowMode};
use crate::filter::{Filter, SystemTables};
use crate::listing;
use crate::model::{self, Family, InetProto, SkMemInfo, State, TcpInfo, Timer, UnixName};
use crate::names::{Names, NumericMode};
use crate::procmap::{OwnerMap, ScanChoice};
use crate::render::{table::TableWriter, Context, RenderOptions, Section};
use crate::source::SourceChoice;

/// A socket's protocol, as netstat's Proto column names it without the family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// UDP-Lite.
    UdpLite,
    /// Raw IP.
    Raw,
    /// Unix domain.
    Unix,
}

/// Where the socket tables are read from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// Netlink sock_diag, falling back to /proc/net per table (what `rnetstat` does).
    #[default]
    Auto,
    /// Netlink only: a table it cannot serve is an error.
    Netlink,
    /// /proc/net text only (no `tcp_info` or memory extras there).
    Proc,
}

/// Which sockets to list, built step by step; [`Query::run`] or [`Query::sockets`] lists them.
///
/// With no protocol chosen every protocol is listed; with no family chosen, both. Every state is
/// listed unless [`listening`](Query::listening) or [`not_listening`](Query::not_listening) says
/// otherwise.
///
/// ```
/// use std::net::TcpListener;
/// use rnetstat::{Query, State};
///
/// let listener = TcpListener::bind("127.0.0.1:0")?;
/// let addr = listener.local_addr()?;
/// let sockets = Query::new().tcp().ipv4().listening().owners(true).sockets()?;
/// let ours = sockets
///     .iter()
///     .find(|s| s.local() == Some(addr))
///     .expect("the listener is listed");
/// assert_eq!(ours.state(), State::Listen);
/// assert!(ours.owners().iter().any(|o| o.pid() == std::process::id()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Query {
    protocols: Vec<InetProto>,
    unix: bool,
    families: Vec<Family>,
    config: Config,
}

impl Default for Query {
    fn default() -> Query {
        Query::new()
    }
}

impl Query {
    /// Every socket of every protocol and family, without owners or extras.
    pub fn new() -> Query {
        let numeric = NumericMode {
            hosts: true,
            ports: true,
            users: true,
        };
        Query {
            protocols: Vec::new(),
            unix: false,
            families: Vec::new(),
            config: Config {
                tables: Vec::new(),
                show: ShowMode::All,
                programs: false,
                extend: false,
                timers: false,
                numeric,
                continuous: None,
                verbose: false,
                output: OutputMode::Table,
                headers: true,
                source: SourceChoice::Auto,
                owner_scan: ScanChoice::Auto,
                proc_root: PathBuf::from("/proc"),
                mode: Mode::List,
                filter: Filter::default(),
                internals: Internals::default(),
                stats_selection: Default::default(),
                nettab: Default::default(),
                netns: Vec::new(),
            },
        }
    }

    fn protocol(mut self, p: InetProto) -> Query {
        if !self.protocols.contains(&p) {
            self.protocols.push(p);
        }
        self
    }

    /// Lists TCP sockets.
    pub fn tcp(self) -> Query {
        self.protocol(InetProto::Tcp)
    }

    /// Lists UDP sockets.
    pub fn udp(self) -> Query {
        self.protocol(InetProto::Udp)
    }

    /// Lists UDP-Lite sockets.
    pub fn udplite(self) -> Query {
        self.protocol(InetProto::UdpLite)
    }

    /// Lists raw IP sockets.
    pub fn raw(self) -> Query {
        self.protocol(InetProto::Raw)
    }

    /// Lists unix domain sockets.
    pub fn unix(mut self) -> Query {
        self.unix = true;
        self
    }

    /// Limits internet sockets to IPv4.
    pub fn ipv4(mut self) -> Query {
        if !self.families.contains(&Family::V4) {
            self.families.push(Family::V4);
        }
        self
    }

    /// Limits internet sockets to IPv6.
    pub fn ipv6(mut self) -> Query {
        if !self.families.contains(&Family::V6) {
            self.families.push(Family::V6);
        }
        self
    }

    /// Only "servers", as netstat's `-l` means it: TCP and unix listeners, unconnected UDP,
    /// UDP-Lite and raw sockets.
    pub fn listening(mut self) -> Query {
        self.config.show = ShowMode::Listening;
        self
    }

    /// Everything but the servers [`listening`](Query::listening) selects (netstat's default).
    pub fn not_listening(mut self) -> Query {
        self.config.show = ShowMode::NonListening;
        self
    }

    /// Finds the processes holding each socket ([`Socket::owners`]); costs one scan of every
    /// process's descriptors (or of the BPF iterator, as root).
    pub fn owners(mut self, on: bool) -> Query {
        self.config.programs = on;
        self
    }

    /// Asks for pending TCP timers ([`Socket::timer`]).
    pub fn timers(mut self, on: bool) -> Query {
        self.config.timers = on;
        self
    }

    /// Asks the kernel for `struct tcp_info` and the congestion algorithm of TCP sockets
    /// ([`Socket::tcp_info`], [`Socket::congestion`]); netlink only.
    pub fn info(mut self) -> Query {
        self.config.internals.info = true;
        self
    }

    /// Asks the kernel for socket memory ([`Socket::memory`]); netlink only.
    pub fn memory(mut self) -> Query {
        self.config.internals.memory = true;
        self
    }

    /// Selects with an ss filter expression, as `rnetstat` takes it after the options:
    /// `state established and dport = :443`, `sport = :8080 or src 127.0.0.1`, ... Service and
    /// user names are looked up in /etc/services and /etc/passwd.
    ///
    /// ```
    /// let bad = rnetstat::Query::new().filter("sport = :notaport");
    /// assert_eq!(bad.err().map(|e| e.kind()), Some(rnetstat::ErrorKind::Filter));
    /// ```
    pub fn filter(mut self, expression: &str) -> Result<Query, Error> {
        let words: Vec<&str> = expression.split_whitespace().collect();
        let tables = SystemTables::from_text(
            &std::fs::read("/etc/services").unwrap_or_default(),
            &std::fs::read("/etc/passwd").unwrap_or_default(),
        );
        self.config.filter = Filter::parse(&words, &tables).map_err(|e| Error {
            kind: ErrorKind::Filter,
            step: format!("invalid filter expression {expression:?}"),
            cause: Some(Box::new(e)),
        })?;
        Ok(self)
    }

    /// Where socket tables come from (default [`Source::Auto`]).
    pub fn source(mut self, source: Source) -> Query {
        self.config.source = match source {
            Source::Auto => SourceChoice::Auto,
            Source::Netlink => SourceChoice::Netlink,
            Source::Proc => SourceChoice::Proc,
        };
        self
    }

    /// Also lists the network namespace `spec` names, as `rnetstat -N` takes it: a name under
    /// /run/netns (as `ip netns add` makes), a path to a namespace file (`/proc/PID/ns/net`,
    /// `/run/docker/netns/ID`), `pid:PID`, or `all` for every namespace on the host. Repeatable.
    /// With any namespace chosen, only the chosen ones are listed (our own is part of `all`),
    /// and each socket names its [`Socket::netns`]. Entering another namespace needs
    /// CAP_SYS_ADMIN; those that cannot be entered are skipped and counted
    /// ([`Listing::namespaces_skipped`]). A malformed `spec` is an [`ErrorKind::Namespace`]
    /// error here; one that names nothing is one from [`run`](Query::run).
    ///
    /// ```
    /// use std::net::TcpListener;
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0")?;
    /// let addr = listener.local_addr()?;
    /// let pid = format!("pid:{}", std::process::id());
    /// let listing = rnetstat::Query::new().tcp().namespace(&pid)?.run()?;
    /// let ours = listing.sockets().iter().find(|s| s.local() == Some(addr)).expect("listed");
    /// // Our own namespace: listed without entering anything, by any user.
    /// assert!(ours.netns().is_some_and(|n| n.is_own()));
    /// assert!(rnetstat::Query::new().namespace("pid:x").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn namespace(mut self, spec: &str) -> Result<Query, Error> {
        let spec = crate::netns::Spec::parse(spec).map_err(|why| Error {
            kind: ErrorKind::Namespace,
            step: why,
            cause: None,
        })?;
        if !self.config.netns.contains(&spec) {
            self.config.netns.push(spec);
        }
        Ok(self)
    }

    /// Only sockets owned by a process in the container `id_or_name` names: a prefix of its id
    /// or its whole name (as `--container` takes it). Implies [`owners`](Query::owners).
    pub fn container(mut self, id_or_name: &str) -> Query {
        self.config.programs = true;
        self.config.filter =
            std::mem::take(&mut self.config.filter).with_container(id_or_name.as_bytes());
        self
    }

    /// The procfs to read /proc/net and the processes from (default `/proc`), e.g. another
    /// namespace's or a fixture tree.
    pub fn proc_root(mut self, root: impl Into<PathBuf>) -> Query {
        self.config.proc_root = root.into();
        self
    }

    /// The internal configuration this query stands for.
    fn resolved(&self) -> Config {
        let mut cfg = self.config.clone();
        let families: &[Family] = if self.families.is_empty() {
            &Family::ALL
        } else {
            &self.families
        };
        let everything = self.protocols.is_empty() && !self.unix;
        let protocols: &[InetProto] = if everything {
            &InetProto::ALL
        } else {
            &self.protocols
        };
        cfg.tables = protocols
            .iter()
            .flat_map(|p| families.iter().map(|f| model::Table::Inet(*p, *f)))
            .collect();
        if self.unix || (everything && self.families.is_empty()) {
            cfg.tables.push(model::Table::Unix);
        }
        cfg
    }

    /// Lists the sockets. Fails when a table cannot be listed at all, or the owner scan cannot
    /// start; processes that cannot be inspected only leave owners out (see
    /// [`Listing::owners_complete`]).
    pub fn run(&self) -> Result<Listing, Error> {
        let cfg = self.resolved();
        let snap = listing::snapshot(&cfg).map_err(list_error)?;
        if let Some(f) = snap.outcome.failures.into_iter().next() {
            return Err(table_error(f));
        }
        let sockets = sockets_of(
            snap.sockets,
            snap.owners.as_ref(),
            &snap.netns,
            &snap.netns_of,
        );
        let owners = snap.owners;
        Ok(Listing {
            sockets,
            owners,
            owners_complete: !snap.outcome.owners_incomplete,
            namespaces_skipped: snap.outcome.netns_skipped.len()
                + snap.outcome.netns_failures.len()
                + snap.outcome.netns_gone.len(),
            config: cfg,
        })
    }

    /// Lists the sockets, as [`run`](Query::run) does, and keeps only them.
    pub fn sockets(&self) -> Result<Vec<Socket>, Error> {
        Ok(self.run()?.sockets)
    }

    /// Closes every socket the query selects, with the kernel's SOCK_DESTROY (as `rnetstat -K`
    /// and `ss -K` do), and returns those it closed. The process holding a closed socket sees
    /// its next call on it fail with ECONNABORTED; the peer of a TCP connection gets a reset.
    /// TCP and UDP sockets, IPv4 and IPv6, are closed; unix and raw ones are left alone, and
    /// sockets gone meanwhile are not returned.
    ///
    /// A query without a [`filter`](Query::filter) (or [`container`](Query::container)) would
    /// close every socket of its protocols, so it is refused with [`ErrorKind::Unfiltered`]
    /// before anything is listed; [`listening`](Query::listening) and
    /// [`not_listening`](Query::not_listening) select whole classes and do not count — say
    /// `state established` or `state listening` in the filter. Closing needs CAP_NET_ADMIN:
    /// without it the error is [`ErrorKind::Permission`], and nothing is closed; on a kernel
    /// built without CONFIG_INET_DIAG_DESTROY it is [`ErrorKind::Unsupported`]. Both are
    /// checked before anything is closed. A refusal part way (the kernel answering one
    /// request with EPERM) stops there with [`ErrorKind::Permission`]; a table that cannot be
    /// listed at all is an [`ErrorKind::Table`] error, as for [`run`](Query::run), and then
    /// sockets of the tables before it may have been closed.
    ///
    /// With [`namespace`](Query::namespace), each namespace's sockets are found and closed over
    /// a netlink socket opened by a thread inside it, and each one returned names its
    /// [`Socket::netns`]; namespaces that cannot be entered are skipped.
    ///
    /// ```
    /// use std::net::{TcpListener, TcpStream};
    /// use rnetstat::{ErrorKind, Query};
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0")?;
    /// let server = listener.local_addr()?;
    /// let client = TcpStream::connect(server)?;
    /// let mine = client.local_addr()?;
    /// // Exactly this connection's client end.
    /// let query = Query::new()
    ///     .tcp()
    ///     .filter(&format!("src {mine} and dst {server}"))?;
    /// match query.kill() {
    ///     Ok(closed) => {
    ///         assert_eq!(closed.len(), 1);
    ///         assert_eq!(closed[0].local(), Some(mine));
    ///     }
    ///     // Not root: nothing was closed.
    ///     Err(e) if e.kind() == ErrorKind::Permission => eprintln!("{e}"),
    ///     Err(e) => return Err(e.into()),
    /// }
    /// // Without a filter it would close every TCP socket: refused.
    /// let refused = Query::new().tcp().kill().map_err(|e| e.kind());
    /// assert_eq!(refused.err(), Some(ErrorKind::Unfiltered));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn kill(&self) -> Result<Vec<Socket>, Error> {
        if self.config.filter.is_empty() {
            return Err(Error {
                kind: ErrorKind::Unfiltered,
                step: "refusing to close sockets without a filter: it would close every \
                       socket the query lists (give one, e.g. 'dport = :80' or 'state \
                       established')"
                    .to_string(),
                cause: None,
            });
        }
        let mut cfg = self.resolved();
        cfg.mode = Mode::Kill;
        let snap = listing::kill_snapshot(&cfg).map_err(|e| match e {
            listing::KillListError::List(e) => list_error(e),
            listing::KillListError::Kill(e) => kill_error(e),
        })?;
        if let Some(f) = snap.outcome.failures.into_iter().next() {
            return Err(table_error(f));
        }
        Ok(sockets_of(
            snap.sockets,
            snap.owners.as_ref(),
            &snap.netns,
            &snap.netns_of,
        ))
    }
}

fn list_error(e: listing::ListError) -> Error {
    match e {
        listing::ListError::Netns(e) => Error {
            kind: ErrorKind::Namespace,
            step: "cannot open a network namespace".to_string(),
            cause: Some(Box::new(e)),
        },
        e => Error {
            kind: ErrorKind::Owners,
            step: "cannot find socket owners".to_string(),
            cause: Some(Box::new(e)),
        },
    }
}

fn table_error(f: crate::source::SourceError) -> Error {
    Error {
        kind: ErrorKind::Table,
        step: "cannot list a socket table".to_string(),
        cause: Some(Box::new(f)),
    }
}

fn kill_error(e: crate::kill::KillError) -> Error {
    use crate::kill::KillError;
    let (kind, step, cause) = match e {
        KillError::NotPermitted(None) => (
            ErrorKind::Permission,
            "closing sockets needs CAP_NET_ADMIN; nothing was closed",
            None,
        ),
        KillError::NotPermitted(Some(e)) => (
            ErrorKind::Permission,
            "the kernel refused to close a socket (closing needs CAP_NET_ADMIN); closing \
             stopped there",
            Some(e),
        ),
        KillError::Unsupported(e) => (
            ErrorKind::Unsupported,
            "this kernel cannot close sockets (it was built without CONFIG_INET_DIAG_DESTROY)",
            Some(e),
        ),
        KillError::Netlink(e) => (ErrorKind::Close, "a SOCK_DESTROY request failed", Some(e)),
    };
    Error {
        kind,
        step: step.to_string(),
        cause: cause.map(|e| Box::new(e) as _),
    }
}

/// The public sockets of a snapshot: each with its owners (when they were scanned) and its
/// namespace (with -N).
fn sockets_of(
    sockets: Vec<model::Socket>,
    owners: Option<&OwnerMap>,
    netns: &[crate::netns::Netns],
    netns_of: &[u32],
) -> Vec<Socket> {
    let namespaces: Vec<Namespace> = netns.iter().map(Namespace::from_netns).collect();
    sockets
        .into_iter()
        .enumerate()
        .map(|(i, inner)| {
            let owners = match owners {
                Some(m) if inner.inode != 0 => m
                    .owners(inner.inode)
                    .map(|o| Owner {
                        pid: o.pid,
                        fd: o.fd,
                        comm: o.name.to_vec(),
                        container: o.container.map(|c| Container(c.clone())),
                    })
                    .collect(),
                _ => Vec::new(),
            };
            let netns = netns_of
                .get(i)
                .and_then(|&n| namespaces.get(n as usize))
                .cloned();
            Socket {
                inner,
                owners,
                netns,
            }
        })
        .collect()
}

/// The result of one [`Query::run`]: the sockets, in netstat's table order, and how complete
/// their owners are.
#[derive(Debug)]
pub struct Listing {
    sockets: Vec<Socket>,
    owners: Option<OwnerMap>,
    owners_complete: bool,
    namespaces_skipped: usize,
    config: Config,
}

impl Listing {
    /// The sockets listed.
    pub fn sockets(&self) -> &[Socket] {
        &self.sockets
    }

    /// Keeps only the sockets `keep` says yes to.
    pub fn retain(&mut self, keep: impl FnMut(&Socket) -> bool) {
        self.sockets.retain(keep);
    }

    /// Puts the sockets in the order `key` gives (a stable sort).
    pub fn sort_by_key<K: Ord>(&mut self, key: impl FnMut(&Socket) -> K) {
        self.sockets.sort_by_key(key);
    }

    /// The sockets, owned.
    pub fn into_sockets(self) -> Vec<Socket> {
        self.sockets
    }

    /// Whether every process could be inspected for owners (false: some owners may be missing,
    /// typically other users' processes when not root).
    pub fn owners_complete(&self) -> bool {
        self.owners_complete
    }

    /// How many of the chosen namespaces were not listed: they could not be entered (no
    /// CAP_SYS_ADMIN), could not be dumped, or were gone before their turn. 0 without
    /// [`Query::namespace`].
    pub fn namespaces_skipped(&self) -> usize {
        self.namespaces_skipped
    }

    /// Writes the sockets as `rnetstat -n` prints them: netstat's layout and section headers
    /// (one per section the query covers, even when empty), the PID/Program and Timer columns
    /// when the query asked for owners and timers, every address and port numeric. Hands the
    /// writer back.
    pub fn write_table<W: io::Write>(&self, out: W) -> io::Result<W> {
        let mut names = Names::new(self.config.numeric, Duration::ZERO);
        let mut w = TableWriter::new(
            out,
            RenderOptions::from_config(&self.config),
            &mut names,
            Context {
                owners: self.owners.as_ref(),
                cgroups: None,
            },
        );
        let tables = &self.config.tables;
        if tables.iter().any(|t| *t != model::Table::Unix) {
            w.section(Section::Inet)?;
            for s in self.sockets.iter().filter(|s| s.inner.inet().is_some()) {
                w.socket(&s.inner)?;
            }
        }
        if tables.contains(&model::Table::Unix) {
            w.section(Section::Unix)?;
            for s in self.sockets.iter().filter(|s| s.inner.unix().is_some()) {
                w.socket(&s.inner)?;
            }
        }
        w.finish()
    }
}

/// One socket as the kernel reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Socket {
    inner: model::Socket,
    owners: Vec<Owner>,
    netns: Option<Namespace>,
}

impl Socket {
    /// The protocol.
    pub fn protocol(&self) -> Protocol {
        match &self.inner.detail {
            model::Detail::Inet(i) => match i.proto {
                InetProto::Tcp => Protocol::Tcp,
                InetProto::Udp => Protocol::Udp,
                InetProto::UdpLite => Protocol::UdpLite,
                InetProto::Raw => Protocol::Raw,
            },
            model::Detail::Unix(_) => Protocol::Unix,
        }
    }

    /// Whether this is an IPv6 socket (`false` for IPv4 and unix).
    pub fn is_ipv6(&self) -> bool {
        self.inner.inet().is_some_and(|i| i.family == Family::V6)
    }

    /// netstat's Proto column: `tcp`, `tcp6`, `udp`, `udplite6`, `raw`, `unix`, ...
    pub fn proto_name(&self) -> &'static str {
        match &self.inner.detail {
            model::Detail::Inet(i) => i.proto.name(i.family),
            model::Detail::Unix(_) => "unix",
        }
    }

    /// The state (UDP, raw and unix sockets reuse TCP's numbers: an unconnected one is
    /// [`State::Close`]).
    pub fn state(&self) -> State {
        self.inner.state
    }

    /// The state as `rnetstat --json` names it: netstat's TCP words, `UNCONN` for a UDP, raw
    /// or unix socket in the CLOSE state.
    pub fn state_name(&self) -> &'static str {
        self.inner.table().state_name(self.inner.state)
    }

    /// The local address of an internet socket.
    pub fn local(&self) -> Option<SocketAddr> {
        self.inner.inet().map(|i| i.local)
    }

    /// The remote address of an internet socket (unspecified, port 0, when unconnected).
    pub fn remote(&self) -> Option<SocketAddr> {
        self.inner.inet().map(|i| i.remote)
    }

    /// Bytes waiting to be read (for a listener: connections waiting for accept()); `None`
    /// when the source cannot tell.
    pub fn recv_q(&self) -> Option<u32> {
        self.inner.recv_q
    }

    /// Bytes not yet acknowledged by the peer; `None` when the source cannot tell.
    pub fn send_q(&self) -> Option<u32> {
        self.inner.send_q
    }

    /// The socket's owner uid; `None` when the source cannot tell (unix from /proc).
    pub fn uid(&self) -> Option<u32> {
        self.inner.uid
    }

    /// The socket's inode; 0 when it has none (TIME_WAIT, request sockets).
    pub fn inode(&self) -> u64 {
        self.inner.inode
    }

    /// Every process holding the socket open, when the query asked for owners.
    pub fn owners(&self) -> &[Owner] {
        &self.owners
    }

    /// The pending timer, when the query asked for timers and the source reported one.
    pub fn timer(&self) -> Option<Timer> {
        self.inner.inet().and_then(|i| i.timer)
    }

    /// `struct tcp_info`, when the query asked for [`info`](Query::info) and netlink sent it.
    pub fn tcp_info(&self) -> Option<&TcpInfo> {
        self.internals().and_then(|x| x.info.as_ref())
    }

    /// The congestion control algorithm (`cubic`, `bbr`, ...), with [`Query::info`].
    pub fn congestion(&self) -> Option<&str> {
        self.internals().and_then(|x| x.cong.as_deref())
    }

    /// Socket memory, when the query asked for [`memory`](Query::memory) and netlink sent it.
    pub fn memory(&self) -> Option<&SkMemInfo> {
        self.internals().and_then(|x| x.skmeminfo.as_ref())
    }

    /// The name a unix socket is bound to.
    pub fn unix_name(&self) -> Option<&UnixName> {
        self.inner.unix().and_then(|u| u.name.as_ref())
    }

    /// The inode of a unix socket's peer (netlink only).
    pub fn unix_peer_inode(&self) -> Option<u64> {
        self.inner.unix().and_then(|u| u.peer_inode)
    }

    /// The network namespace the socket was listed in, when the query chose namespaces
    /// ([`Query::namespace`]); `None` otherwise.
    pub fn netns(&self) -> Option<&Namespace> {
        self.netns.as_ref()
    }

    fn internals(&self) -> Option<&model::Extensions> {
        self.inner.inet().and_then(|i| i.internals.as_deref())
    }
}

/// A process holding a socket open.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Owner {
    pid: u32,
    fd: u32,
    comm: Vec<u8>,
    container: Option<Container>,
}

impl Owner {
    /// The process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The descriptor number the socket has in that process.
    pub fn fd(&self) -> u32 {
        self.fd
    }

    /// The process's exact `comm` (at most 15 bytes, not necessarily UTF-8).
    pub fn comm(&self) -> &[u8] {
        &self.comm
    }

    /// `comm` as the table prints it: control bytes and invalid UTF-8 escaped (see
    /// [`escape`](crate::escape)).
    pub fn comm_escaped(&self) -> String {
        crate::escape::escape(&self.comm)
    }

    /// The container the process runs in, from its cgroup path; `None` outside one.
    pub fn container(&self) -> Option<&Container> {
        self.container.as_ref()
    }
}

/// A network namespace, as [`Socket::netns`] names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Namespace {
    inode: u64,
    name: Option<Vec<u8>>,
    is_own: bool,
}

impl Namespace {
    pub(crate) fn from_netns(n: &crate::netns::Netns) -> Namespace {
        Namespace {
            inode: n.inode,
            name: n.name.as_deref().map(<[u8]>::to_vec),
            is_own: n.is_own,
        }
    }

    /// The nsfs inode, the namespace's identity (`ls -iL /proc/PID/ns/net`).
    pub fn inode(&self) -> u64 {
        self.inode
    }

    /// Its name under /run/netns, if it has one (the file name's bytes).
    pub fn name(&self) -> Option<&[u8]> {
        self.name.as_deref()
    }

    /// Whether it is the namespace the caller runs in (the host's, outside containers).
    pub fn is_own(&self) -> bool {
        self.is_own
    }
}

/// A container, as its cgroup path names it (Docker, containerd, CRI-O, Podman, LXC,
/// systemd-nspawn; Kubernetes pods by their uid).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Container(crate::container::Container);

impl Container {
    /// The runtime, as `rnetstat --json` names it: `docker`, `containerd`, `cri-o`, `podman`,
    /// `lxc` or `systemd-nspawn`.
    pub fn runtime(&self) -> &'static str {
        self.0.runtime.name()
    }

    /// The full id (64 hex digits for Docker, containerd, CRI-O and Podman; the name for LXC
    /// and systemd-nspawn), as the path's bytes.
    pub fn id(&self) -> &[u8] {
        &self.0.id
    }

    /// The Kubernetes pod's uid (with dashes), when the container is in a pod.
    pub fn pod_uid(&self) -> Option<&str> {
        self.0.pod_uid.as_deref()
    }

    /// The container's name, when the path carries one (LXC, systemd-nspawn).
    pub fn name(&self) -> Option<&[u8]> {
        self.0.name.as_deref()
    }
}

/// What went wrong in a [`Query`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The filter expression does not parse.
    Filter,
    /// The owner scan could not start (e.g. the procfs root is not a procfs).
    Owners,
    /// A socket table, or one of netstat's other tables ([`NetTable`](crate::NetTable)), could
    /// not be listed by any allowed source.
    Table,
    /// A namespace argument is malformed, or names no namespace that can be opened.
    Namespace,
    /// [`Query::kill`] was refused: the query has no filter, so it would close every socket.
    Unfiltered,
    /// [`Query::kill`] lacks the privilege to close sockets (CAP_NET_ADMIN).
    Permission,
    /// [`Query::kill`]: this kernel cannot close sockets (no CONFIG_INET_DIAG_DESTROY).
    Unsupported,
    /// [`Query::kill`]: a SOCK_DESTROY request failed otherwise.
    Close,
}

/// A [`Query`] failed. `Display` says which step failed; [`source`](std::error::Error::source)
/// gives the cause.
#[derive(Debug)]
#[non_exhaustive]
pub struct Error {
    kind: ErrorKind,
    step: String,
    cause: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    pub(crate) fn new(
        kind: ErrorKind,
        step: impl Into<String>,
        cause: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Error {
        Error {
            kind,
            step: step.into(),
            cause,
        }
    }

    /// Which step failed.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.step)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream, UdpSocket};

    #[test]
    fn tables_follow_protocols_and_families() {
        let t = |q: Query| q.resolved().tables;
        assert_eq!(t(Query::new()).len(), 9, "every inet table and unix");
        assert_eq!(
            t(Query::new().tcp()),
            [
                model::Table::Inet(InetProto::Tcp, Family::V4),
                model::Table::Inet(InetProto::Tcp, Family::V6)
            ]
        );
        assert_eq!(
            t(Query::new().udp().ipv6().unix()),
            [
                model::Table::Inet(InetProto::Udp, Family::V6),
                model::Table::Unix
            ]
        );
        assert_eq!(t(Query::new().ipv4()).len(), 4, "-4 alone: inet only");
    }

    /// The API lists a real connection's two ends with their addresses, state and owner, and
    /// tcp_info when asked.
    #[test]
    fn lists_a_loopback_connection_with_owners_and_tcp_info() {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = l.local_addr().expect("addr");
        let c = TcpStream::connect(addr).expect("connect");
        let (_s, peer) = l.accept().expect("accept");
        let q = Query::new()
            .tcp()
            .ipv4()
            .owners(true)
            .info()
            .filter(&format!("dport = :{}", addr.port()))
            .expect("filter");
        let listing = q.run().expect("list");
        let client: Vec<&Socket> = listing
            .sockets()
            .iter()
            .filter(|s| s.local() == Some(peer))
            .collect();
        assert_eq!(client.len(), 1, "{:?}", listing.sockets());
        let s = client[0];
        assert_eq!(s.state(), State::Established);
        assert_eq!(s.remote(), Some(addr));
        assert_eq!(s.protocol(), Protocol::Tcp);
        assert_eq!(s.proto_name(), "tcp");
        assert!(s.inode() != 0);
        let me = std::process::id();
        assert!(s.owners().iter().any(|o| o.pid() == me), "{s:?}");
        if let Some(info) = s.tcp_info() {
            assert_eq!(info.state, Some(State::Established));
        }
        drop(c);
    }

    #[test]
    fn udp_and_the_proc_source() {
        let u = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let addr = u.local_addr().expect("addr");
        for source in [Source::Proc, Source::Auto] {
            let found = Query::new()
                .udp()
                .source(source)
                .listening()
                .sockets()
                .expect("list")
                .into_iter()
                .find(|s| s.local() == Some(addr))
                .expect("listed");
            assert_eq!(found.state_name(), "UNCONN");
            assert!(found.owners().is_empty(), "owners were not asked for");
        }
    }

    #[test]
    fn errors_say_their_step_and_keep_the_cause() {
        use std::error::Error as _;
        let e = Query::new().filter("dport = = :1").expect_err("bad filter");
        assert_eq!(e.kind(), ErrorKind::Filter);
        assert!(e.to_string().starts_with("invalid filter expression"));
        assert!(e.source().is_some());
        let e = Query::new()
            .tcp()
            .source(Source::Proc)
            .proc_root("/nonexistent")
            .run()
            .expect_err("no /proc there");
        assert_eq!(e.kind(), ErrorKind::Table);
        assert_eq!(e.to_string(), "cannot list a socket table");
        assert!(e.source().is_some());
    }

    #[test]
    fn kill_refuses_a_query_without_a_filter_and_types_its_errors() {
        use std::error::Error as _;
        for q in [
            Query::new(),
            Query::new().tcp(),
            Query::new().tcp().listening(),
            Query::new()
                .udp()
                .not_listening()
                .namespace("all")
                .expect("all"),
        ] {
            let e = q.kill().expect_err("no filter");
            assert_eq!(e.kind(), ErrorKind::Unfiltered);
            assert!(e.to_string().contains("without a filter"), "{e}");
        }
        use crate::kill::KillError;
        let eperm = || io::Error::from_raw_os_error(libc::EPERM);
        for (e, kind, cause) in [
            (KillError::NotPermitted(None), ErrorKind::Permission, false),
            (
                KillError::NotPermitted(Some(eperm())),
                ErrorKind::Permission,
                true,
            ),
            (
                KillError::Unsupported(io::Error::from_raw_os_error(libc::EOPNOTSUPP)),
                ErrorKind::Unsupported,
                true,
            ),
            (KillError::Netlink(eperm()), ErrorKind::Close, true),
        ] {
            let e = kill_error(e);
            assert_eq!(e.kind(), kind);
            assert_eq!(e.source().is_some(), cause, "{e}");
        }
        assert!(kill_error(KillError::NotPermitted(None))
            .to_string()
            .contains("CAP_NET_ADMIN"));
    }

    #[test]
    fn write_table_prints_netstats_rows() {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = l.local_addr().expect("addr");
        let mut listing = Query::new().tcp().ipv4().listening().run().expect("list");
        listing.retain(|s| s.local() == Some(addr));
        let text =
            String::from_utf8(listing.write_table(Vec::new()).expect("write")).expect("utf-8");
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some("Active Internet connections (only servers)")
        );
        assert!(
            lines.next().is_some_and(|h| h.starts_with("Proto Recv-Q")),
            "{text}"
        );
        let row = lines.next().expect("a row");
        assert!(row.starts_with("tcp "), "{row}");
        assert!(
            row.contains(&addr.to_string()) && row.contains("LISTEN"),
            "{row}"
        );
        assert_eq!(lines.next(), None);
    }
}
