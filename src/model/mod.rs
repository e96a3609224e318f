//! The socket model every stage shares: what a socket *is*, independent of where it was read.
//!
//! Sources turn kernel bytes or /proc text into these types at their parse boundary, so no raw
//! kernel integer travels further than the parser. Renderers and filters only ever see this model.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

pub mod event;
pub mod tcpinfo;

pub use event::{Event, EventKind};
pub use tcpinfo::{CaState, Extensions, SkMemInfo, TcpInfo, TcpInfoField, TcpOptions};

/// The address family of an internet socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// IPv4 (`AF_INET`).
    V4,
    /// IPv6 (`AF_INET6`).
    V6,
}

impl Family {
    /// Both families, IPv4 first (netstat's order).
    pub const ALL: [Family; 2] = [Family::V4, Family::V6];

    /// The unspecified address of this family (`0.0.0.0` or `::`).
    pub fn unspecified(self) -> IpAddr {
        match self {
            Family::V4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            Family::V6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        }
    }
}

/// The transport protocol of an internet socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InetProto {
    Tcp,
    Udp,
    UdpLite,
    Raw,
}

impl InetProto {
    /// In netstat's section order.
    pub const ALL: [InetProto; 4] = [
        InetProto::Tcp,
        InetProto::Udp,
        InetProto::UdpLite,
        InetProto::Raw,
    ];

    /// The IPPROTO_* number used in sock_diag requests.
    pub fn ipproto(self) -> u8 {
        match self {
            InetProto::Tcp => 6,
            InetProto::Udp => 17,
            InetProto::UdpLite => 136,
            InetProto::Raw => 255,
        }
    }

    /// netstat's Proto column and the JSON `proto` key: `tcp`, `tcp6`, `udplite6`, ...
    pub fn name(self, family: Family) -> &'static str {
        match (self, family) {
            (InetProto::Tcp, Family::V4) => "tcp",
            (InetProto::Tcp, Family::V6) => "tcp6",
            (InetProto::Udp, Family::V4) => "udp",
            (InetProto::Udp, Family::V6) => "udp6",
            (InetProto::UdpLite, Family::V4) => "udplite",
            (InetProto::UdpLite, Family::V6) => "udplite6",
            (InetProto::Raw, Family::V4) => "raw",
            (InetProto::Raw, Family::V6) => "raw6",
        }
    }

    /// The /proc/net file that lists this protocol for a family.
    pub fn proc_file(self, family: Family) -> &'static str {
        self.name(family)
    }

    /// The protocol name /etc/services uses for port lookups.
    pub fn service_proto(self) -> &'static str {
        match self {
            InetProto::Tcp => "tcp",
            _ => "udp",
        }
    }
}

/// One socket table the tool can list: an (address family, protocol) pair, or unix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Table {
    Inet(InetProto, Family),
    Unix,
}

impl Table {
    /// The file under /proc/net that holds this table.
    pub fn proc_file(self) -> &'static str {
        match self {
            Table::Inet(p, fam) => p.proc_file(fam),
            Table::Unix => "unix",
        }
    }

    /// The name of `state` in this table, as JSON and --watch give it: netstat's TCP names;
    /// UNCONN for a UDP, raw or unix socket in the kernel's CLOSE state.
    pub fn state_name(self, state: State) -> &'static str {
        match (self, state) {
            (Table::Inet(InetProto::Tcp, _), s) => s.tcp_name(),
            (_, State::Close) => "UNCONN",
            (_, s) => s.tcp_name(),
        }
    }
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Table::Inet(p, fam) => f.write_str(p.name(*fam)),
            Table::Unix => f.write_str("unix"),
        }
    }
}

/// A socket state, as the kernel's `sk_state` (the TCP state numbers, which UDP, raw and unix
/// sockets reuse).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum State {
    /// `TCP_ESTABLISHED` (1); also a connected UDP or unix socket.
    Established,
    /// `TCP_SYN_SENT` (2).
    SynSent,
    /// `TCP_SYN_RECV` (3).
    SynRecv,
    /// `TCP_FIN_WAIT1` (4).
    FinWait1,
    /// `TCP_FIN_WAIT2` (5).
    FinWait2,
    /// `TCP_TIME_WAIT` (6).
    TimeWait,
    /// `TCP_CLOSE` (7); also an unconnected UDP, raw or unix socket.
    Close,
    /// `TCP_CLOSE_WAIT` (8).
    CloseWait,
    /// `TCP_LAST_ACK` (9).
    LastAck,
    /// `TCP_LISTEN` (10); also a listening unix socket.
    Listen,
    /// `TCP_CLOSING` (11).
    Closing,
    /// `TCP_NEW_SYN_RECV` (12): a request socket.
    NewSynRecv,
    /// A number this tool does not know; kept so nothing is silently renamed.
    Unknown(u8),
}

impl State {
    /// Every known state, in kernel order.
    pub const ALL: [State; 12] = [
        State::Established,
        State::SynSent,
        State::SynRecv,
        State::FinWait1,
        State::FinWait2,
        State::TimeWait,
        State::Close,
        State::CloseWait,
        State::LastAck,
        State::Listen,
        State::Closing,
        State::NewSynRecv,
    ];

    /// The kernel's `sk_state` number as a state.
    pub fn from_u8(n: u8) -> State {
        match n {
            1 => State::Established,
            2 => State::SynSent,
            3 => State::SynRecv,
            4 => State::FinWait1,
            5 => State::FinWait2,
            6 => State::TimeWait,
            7 => State::Close,
            8 => State::CloseWait,
            9 => State::LastAck,
            10 => State::Listen,
            11 => State::Closing,
            12 => State::NewSynRecv,
            n => State::Unknown(n),
        }
    }

    /// The kernel's `sk_state` number.
    pub fn as_u8(self) -> u8 {
        match self {
            State::Established => 1,
            State::SynSent => 2,
            State::SynRecv => 3,
            State::FinWait1 => 4,
            State::FinWait2 => 5,
            State::TimeWait => 6,
            State::Close => 7,
            State::CloseWait => 8,
            State::LastAck => 9,
            State::Listen => 10,
            State::Closing => 11,
            State::NewSynRecv => 12,
            State::Unknown(n) => n,
        }
    }

    /// The mask of every state above (bits 1..=12). Bit 13 is the kernel's TCP_BOUND_INACTIVE
    /// (bound sockets that neither listen nor connect), which netstat, ss and /proc/net never
    /// list; asking netlink for all 32 bits would add them to the netlink source only.
    pub const KNOWN_MASK: u32 = 0x1ffe;

    /// The bit of this state in a sock_diag state mask.
    pub fn mask_bit(self) -> u32 {
        1u32.checked_shl(u32::from(self.as_u8())).unwrap_or(0)
    }

    /// netstat's TCP state names (`TIME_WAIT`, `FIN_WAIT1`, ...).
    pub fn tcp_name(self) -> &'static str {
        match self {
            State::Established => "ESTABLISHED",
            State::SynSent => "SYN_SENT",
            State::SynRecv => "SYN_RECV",
            State::FinWait1 => "FIN_WAIT1",
            State::FinWait2 => "FIN_WAIT2",
            State::TimeWait => "TIME_WAIT",
            State::Close => "CLOSE",
            State::CloseWait => "CLOSE_WAIT",
            State::LastAck => "LAST_ACK",
            State::Listen => "LISTEN",
            State::Closing => "CLOSING",
            State::NewSynRecv => "NEW_SYN_RECV",
            State::Unknown(_) => "UNKNOWN",
        }
    }
}

/// One end of an internet socket.
pub type Endpoint = SocketAddr;

/// A kernel timer pending on a TCP socket (netstat -o).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timer {
    /// Which timer.
    pub kind: TimerKind,
    /// Time until the timer fires, in milliseconds.
    pub remaining_ms: u64,
    /// Retransmissions so far (for the retransmit timer).
    pub retransmits: u32,
    /// Unanswered keepalive or zero-window probes.
    pub probes: u32,
}

/// The kind of a TCP timer, as /proc/net/tcp's `tr` field and sock_diag's `idiag_timer` number
/// it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimerKind {
    /// No timer pending.
    Off,
    /// The retransmit timer.
    On,
    /// The keepalive timer.
    Keepalive,
    /// The TIME_WAIT timer.
    TimeWait,
    /// The zero-window probe timer.
    Probe,
    /// A number this tool does not know.
    Unknown(u8),
}

impl TimerKind {
    /// The kernel's number as a kind.
    pub fn from_u8(n: u8) -> TimerKind {
        match n {
            0 => TimerKind::Off,
            1 => TimerKind::On,
            2 => TimerKind::Keepalive,
            3 => TimerKind::TimeWait,
            4 => TimerKind::Probe,
            n => TimerKind::Unknown(n),
        }
    }

    /// netstat's word for the timer.
    pub fn name(self) -> &'static str {
        match self {
            TimerKind::Off => "off",
            TimerKind::On => "on",
            TimerKind::Keepalive => "keepalive",
            TimerKind::TimeWait => "timewait",
            TimerKind::Probe => "probe",
            TimerKind::Unknown(_) => "unknown",
        }
    }
}

/// The socket type of a unix socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnixType {
    Stream,
    Dgram,
    SeqPacket,
    Other(u8),
}

impl UnixType {
    pub fn from_u8(n: u8) -> UnixType {
        match n {
            1 => UnixType::Stream,
            2 => UnixType::Dgram,
            5 => UnixType::SeqPacket,
            n => UnixType::Other(n),
        }
    }

    /// netstat's Type column.
    pub fn netstat_name(self) -> &'static str {
        match self {
            UnixType::Stream => "STREAM",
            UnixType::Dgram => "DGRAM",
            UnixType::SeqPacket => "SEQPACKET",
            UnixType::Other(3) => "RAW",
            UnixType::Other(4) => "RDM",
            UnixType::Other(_) => "UNKNOWN",
        }
    }

    /// The JSON `type` value.
    pub fn json_name(self) -> &'static str {
        match self {
            UnixType::Stream => "stream",
            UnixType::Dgram => "dgram",
            UnixType::SeqPacket => "seqpacket",
            UnixType::Other(3) => "raw",
            UnixType::Other(4) => "rdm",
            UnixType::Other(_) => "unknown",
        }
    }
}

/// The name a unix socket is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnixName {
    /// A filesystem path, as raw bytes (not necessarily UTF-8).
    Path(Vec<u8>),
    /// An abstract name, without the leading NUL; may itself contain NUL bytes.
    Abstract(Vec<u8>),
}

impl UnixName {
    /// The name as netstat and ss print it: abstract names get a leading `@`.
    pub fn display_bytes(&self) -> std::borrow::Cow<'_, [u8]> {
        match self {
            UnixName::Path(p) => std::borrow::Cow::Borrowed(p),
            UnixName::Abstract(a) => {
                let mut v = Vec::with_capacity(a.len() + 1);
                v.push(b'@');
                v.extend_from_slice(a);
                std::borrow::Cow::Owned(v)
            }
        }
    }
}

/// What only internet sockets have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InetInfo {
    pub proto: InetProto,
    pub family: Family,
    pub local: Endpoint,
    pub remote: Endpoint,
    /// Pending timer; `None` when the source did not report one.
    pub timer: Option<Timer>,
    /// Index of the interface the socket is bound to (`SO_BINDTODEVICE`); 0 when unbound or
    /// when the source cannot tell (/proc/net).
    pub bound_if: u32,
    /// The socket's mark (`SO_MARK`), read only when a filter tests it and the kernel sends it
    /// (CAP_NET_ADMIN); `None` otherwise.
    pub mark: Option<u32>,
    /// The socket's cgroup v2 id, read only when a filter tests it; `None` otherwise.
    pub cgroup_id: Option<u64>,
    /// The kernel already ran the filter's bytecode on this socket (a netlink dump that carried
    /// it), so only ss's user-space pass is left to apply.
    pub kernel_filtered: bool,
    /// A TCP listener's accept-queue limit (its listen() backlog as the kernel capped it):
    /// netlink's wqueue for a listener. `None` for other sockets and from /proc/net, which does
    /// not carry it (there, and in [`Socket::send_q`], a listener shows 0 like netstat).
    pub backlog: Option<u32>,
    /// tcp_info, memory and the other sock_diag extensions, when asked for (`--info`,
    /// `--memory`, `--extended`) and served by netlink; `None` otherwise.
    pub internals: Option<Box<Extensions>>,
}

/// What only unix sockets have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnixInfo {
    pub kind: UnixType,
    pub name: Option<UnixName>,
    /// Inode of the connected peer (netlink only; /proc/net/unix does not carry it).
    pub peer_inode: Option<u64>,
    /// Reference count (/proc/net/unix only; netlink does not carry it).
    pub refcnt: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detail {
    Inet(InetInfo),
    Unix(UnixInfo),
}

/// One socket, as either source reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Socket {
    pub state: State,
    /// Bytes waiting to be read (for a listener: connections waiting for accept()).
    /// `None` when the source cannot tell (unix sockets read from /proc).
    pub recv_q: Option<u32>,
    /// Bytes not yet acknowledged by the peer. `None` when the source cannot tell.
    pub send_q: Option<u32>,
    /// Owner uid of the socket; `None` when the source cannot tell (unix from /proc).
    pub uid: Option<u32>,
    /// Socket inode; 0 when the socket has none (TIME_WAIT, request sockets).
    pub inode: u64,
    pub detail: Detail,
}

impl Socket {
    pub fn table(&self) -> Table {
        match &self.detail {
            Detail::Inet(i) => Table::Inet(i.proto, i.family),
            Detail::Unix(_) => Table::Unix,
        }
    }

    pub fn inet(&self) -> Option<&InetInfo> {
        match &self.detail {
            Detail::Inet(i) => Some(i),
            Detail::Unix(_) => None,
        }
    }

    pub fn unix(&self) -> Option<&UnixInfo> {
        match &self.detail {
            Detail::Unix(u) => Some(u),
            Detail::Inet(_) => None,
        }
    }
}

/// A process holding a socket open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner<'a> {
    pub pid: u32,
    pub fd: u32,
    /// The exact `comm` bytes (at most 15 bytes, not necessarily UTF-8).
    pub name: &'a [u8],
    /// The container the process runs in, from its cgroup (when looked for).
    pub container: Option<&'a crate::container::Container>,
}
