//! What sock_diag tells about a socket's internals, decoded: `struct tcp_info` ([`TcpInfo`]),
//! socket memory ([`SkMemInfo`]), shutdown state ([`Shutdown`]) and the rest of the per-socket
//! extensions ([`Extensions`]). These are model types: the netlink source fills them in from the
//! attributes it receives, renderers and the library API read them, and neither needs the other.
//!
//! `struct tcp_info` grows with the kernel (104 bytes in 2.6, 232 in 5.x, 280 in 6.18) and MPTCP
//! sends other, shorter structs under the same attribute, so it is decoded field by field from
//! the kernel's offsets: a field whose bytes did not all arrive is `None`, never zero. The same
//! holds for skmeminfo, which gained `backlog` and `drops` over time.
//!
//! Each tcp_info field is declared once, in the [`tcp_info_fields!`] table below: its name (the
//! struct field and the JSON key), doc, type, and where its bytes are. The struct, its decoder,
//! its serde form (the JSON writer) and the field table tests and fuzzers check against all come
//! from that one list. The `--info` table line picks the fields ss shows, in ss's order.

use serde::{Serialize, Serializer};

use super::State;

/// `tcpi_ca_state`: the congestion-avoidance state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CaState {
    /// `TCP_CA_Open`: nothing unusual.
    Open,
    /// `TCP_CA_Disorder`: duplicate ACKs or SACKs seen.
    Disorder,
    /// `TCP_CA_CWR`: the window was reduced after an ECN signal.
    Cwr,
    /// `TCP_CA_Recovery`: fast retransmit.
    Recovery,
    /// `TCP_CA_Loss`: a retransmission timeout.
    Loss,
    /// A number this decoder does not know.
    Unknown(u8),
}

impl CaState {
    /// The kernel's number as a state.
    pub fn from_u8(n: u8) -> CaState {
        match n {
            0 => CaState::Open,
            1 => CaState::Disorder,
            2 => CaState::Cwr,
            3 => CaState::Recovery,
            4 => CaState::Loss,
            n => CaState::Unknown(n),
        }
    }

    /// The JSON name: `open`, `disorder`, `cwr`, `recovery`, `loss`, `unknown`.
    pub fn name(self) -> &'static str {
        match self {
            CaState::Open => "open",
            CaState::Disorder => "disorder",
            CaState::Cwr => "cwr",
            CaState::Recovery => "recovery",
            CaState::Loss => "loss",
            CaState::Unknown(_) => "unknown",
        }
    }
}

impl Serialize for CaState {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// `tcpi_options`: what the handshake negotiated (bits of `TCPI_OPT_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpOptions(pub u8);

impl TcpOptions {
    /// `TCPI_OPT_TIMESTAMPS`.
    pub const TIMESTAMPS: u8 = 1;
    /// `TCPI_OPT_SACK`.
    pub const SACK: u8 = 2;
    /// `TCPI_OPT_WSCALE`.
    pub const WSCALE: u8 = 4;
    /// `TCPI_OPT_ECN`.
    pub const ECN: u8 = 8;
    /// `TCPI_OPT_ECN_SEEN`.
    pub const ECN_SEEN: u8 = 16;
    /// `TCPI_OPT_SYN_DATA` (TCP Fast Open data in the SYN).
    pub const SYN_DATA: u8 = 32;
    /// `TCPI_OPT_USEC_TS`.
    pub const USEC_TS: u8 = 64;
    /// `TCPI_OPT_TFO_CHILD`.
    pub const TFO_CHILD: u8 = 128;

    const NAMES: [(u8, &'static str); 8] = [
        (Self::TIMESTAMPS, "ts"),
        (Self::SACK, "sack"),
        (Self::WSCALE, "wscale"),
        (Self::ECN, "ecn"),
        (Self::ECN_SEEN, "ecnseen"),
        (Self::SYN_DATA, "fastopen"),
        (Self::USEC_TS, "usec_ts"),
        (Self::TFO_CHILD, "tfo_child"),
    ];

    /// Whether `bit` (one of the constants above) is set.
    pub fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }

    /// The names of the bits set (ss's words where ss has one).
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Self::NAMES
            .into_iter()
            .filter(move |(bit, _)| self.has(*bit))
            .map(|(_, n)| n)
    }
}

impl Serialize for TcpOptions {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.names())
    }
}

fn state_name<S: Serializer>(st: &Option<State>, s: S) -> Result<S::Ok, S::Error> {
    match st {
        Some(st) => s.serialize_str(st.tcp_name()),
        None => s.serialize_none(),
    }
}

/// Fixed-size reads that say `None` past the end of what arrived.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn array<const N: usize>(&self, at: usize) -> Option<[u8; N]> {
        self.0.get(at..at.checked_add(N)?)?.try_into().ok()
    }
    fn u8(&self, at: usize) -> Option<u8> {
        self.0.get(at).copied()
    }
    fn u16(&self, at: usize) -> Option<u16> {
        self.array(at).map(u16::from_ne_bytes)
    }
    fn u32(&self, at: usize) -> Option<u32> {
        self.array(at).map(u32::from_ne_bytes)
    }
    fn u64(&self, at: usize) -> Option<u64> {
        self.array(at).map(u64::from_ne_bytes)
    }
}

/// Byte 6: `tcpi_snd_wscale:4, tcpi_rcv_wscale:4`, in the compiler's bit-field order.
fn snd_wscale(b: u8) -> u8 {
    if cfg!(target_endian = "little") {
        b & 0x0f
    } else {
        b >> 4
    }
}

fn rcv_wscale(b: u8) -> u8 {
    if cfg!(target_endian = "little") {
        b >> 4
    } else {
        b & 0x0f
    }
}

/// Byte 7: `tcpi_delivery_rate_app_limited:1, tcpi_fastopen_client_fail:2`.
fn app_limited(b: u8) -> bool {
    if cfg!(target_endian = "little") {
        b & 1 != 0
    } else {
        b & 0x80 != 0
    }
}

fn fastopen_client_fail(b: u8) -> u8 {
    if cfg!(target_endian = "little") {
        (b >> 1) & 3
    } else {
        (b >> 5) & 3
    }
}

/// One decoded field of `struct tcp_info`: its name (struct field and JSON key), and the bytes
/// it is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpInfoField {
    /// The field's name, as [`TcpInfo`] and the JSON `info` object spell it.
    pub name: &'static str,
    /// Byte offset in `struct tcp_info`.
    pub offset: usize,
    /// Bytes read (a bit field reads its whole byte).
    pub size: usize,
}

/// Declares every decoded field of `struct tcp_info` once: doc, extra serde attributes, name,
/// decoded type, the kernel's type and offset, an optional conversion, and an optional sentinel
/// (`unless N`): the kernel's "no value" (~0 pacing rates, TCP_INFINITE_SSTHRESH) is absent,
/// never printed as 18446744073709551615 or 2147483647. Generates
/// [`TcpInfo`], [`TcpInfo::from_bytes`] and [`TcpInfo::FIELDS`].
macro_rules! tcp_info_fields {
    ($(
        $(#[doc = $doc:literal])*
        $(#[serde($($serde:tt)*)])*
        $name:ident: $ty:ty = $raw:ident @ $off:literal $(=> $map:expr)? $(, unless $sentinel:literal)?;
    )*) => {
        /// `struct tcp_info` as far as it arrived: each field is `None` when the kernel sent too
        /// few bytes for it (old kernels, MPTCP). Units are the kernel's: times in microseconds
        /// (`rto`, `ato`, `rtt`, `rttvar`, `rcv_rtt`, `min_rtt`, `busy_time`, `rwnd_limited`,
        /// `sndbuf_limited`) except `last_*` and `total_rto_time` (milliseconds); rates in bytes
        /// per second; `snd_cwnd`, `snd_ssthresh`, `unacked`, `sacked`, `lost`, `retrans` in
        /// segments.
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
        #[non_exhaustive]
        pub struct TcpInfo {
            /// How many bytes the kernel sent (tells which fields a kernel of that age has).
            #[serde(skip)]
            pub len: usize,
            $(
                $(#[doc = $doc])*
                $(#[serde($($serde)*)])*
                #[serde(skip_serializing_if = "Option::is_none")]
                pub $name: Option<$ty>,
            )*
        }

        impl TcpInfo {
            /// Every decoded field, in struct order.
            pub const FIELDS: &'static [TcpInfoField] = &[
                $(TcpInfoField {
                    name: stringify!($name),
                    offset: $off,
                    size: std::mem::size_of::<$raw>(),
                },)*
            ];

            /// Decodes `struct tcp_info` from however many bytes arrived (0 included), in this
            /// machine's byte order, as `getsockopt(TCP_INFO)` and sock_diag's
            /// `INET_DIAG_INFO` hand it over. Bytes past the fields this decoder knows are
            /// ignored.
            ///
            /// ```
            /// let info = rnetstat::TcpInfo::from_bytes(&[1, 0, 0, 0, 0, 0x07]);
            /// assert_eq!(info.state, Some(rnetstat::State::Established));
            /// assert_eq!(info.options.map(|o| o.names().count()), Some(3));
            /// assert_eq!(info.rtt, None); // its bytes did not arrive
            /// ```
            pub fn from_bytes(raw: &[u8]) -> TcpInfo {
                let b = Bytes(raw);
                TcpInfo {
                    len: raw.len(),
                    $($name: b.$raw($off)$(.filter(|&v| v != $sentinel))?$(.map($map))?,)*
                }
            }
        }
    };
}

tcp_info_fields! {
    /// `tcpi_state`: the socket's state as tcp_info reports it.
    #[serde(serialize_with = "state_name")]
    state: State = u8 @ 0 => State::from_u8;
    /// `tcpi_ca_state`: the congestion-avoidance state.
    ca_state: CaState = u8 @ 1 => CaState::from_u8;
    /// `tcpi_retransmits`: retransmissions of the current segment.
    retransmits: u8 = u8 @ 2;
    /// `tcpi_probes`: unanswered zero-window or keepalive probes.
    probes: u8 = u8 @ 3;
    /// `tcpi_backoff`: exponential backoff of the retransmit timer.
    backoff: u8 = u8 @ 4;
    /// `tcpi_options`: what the handshake negotiated.
    options: TcpOptions = u8 @ 5 => TcpOptions;
    /// `tcpi_snd_wscale`: the peer's window scale.
    snd_wscale: u8 = u8 @ 6 => snd_wscale;
    /// `tcpi_rcv_wscale`: our window scale.
    rcv_wscale: u8 = u8 @ 6 => rcv_wscale;
    /// `tcpi_delivery_rate_app_limited`.
    delivery_rate_app_limited: bool = u8 @ 7 => app_limited;
    /// `tcpi_fastopen_client_fail`.
    fastopen_client_fail: u8 = u8 @ 7 => fastopen_client_fail;
    /// `tcpi_rto`: retransmission timeout, microseconds.
    rto: u32 = u32 @ 8;
    /// `tcpi_ato`: delayed-ACK timeout, microseconds.
    ato: u32 = u32 @ 12;
    /// `tcpi_snd_mss`: sending maximum segment size.
    snd_mss: u32 = u32 @ 16;
    /// `tcpi_rcv_mss`: receiving maximum segment size (estimated).
    rcv_mss: u32 = u32 @ 20;
    /// `tcpi_unacked`: segments sent and not yet acknowledged.
    unacked: u32 = u32 @ 24;
    /// `tcpi_sacked`: segments selectively acknowledged.
    sacked: u32 = u32 @ 28;
    /// `tcpi_lost`: segments considered lost.
    lost: u32 = u32 @ 32;
    /// `tcpi_retrans`: segments being retransmitted.
    retrans: u32 = u32 @ 36;
    /// `tcpi_last_data_sent`: milliseconds since data was last sent.
    last_data_sent: u32 = u32 @ 44;
    /// `tcpi_last_data_recv`: milliseconds since data was last received.
    last_data_recv: u32 = u32 @ 52;
    /// `tcpi_last_ack_recv`: milliseconds since an ACK was last received.
    last_ack_recv: u32 = u32 @ 56;
    /// `tcpi_pmtu`: path MTU.
    pmtu: u32 = u32 @ 60;
    /// `tcpi_rcv_ssthresh`: receive-side slow-start threshold.
    rcv_ssthresh: u32 = u32 @ 64;
    /// `tcpi_rtt`: smoothed round-trip time, microseconds.
    rtt: u32 = u32 @ 68;
    /// `tcpi_rttvar`: round-trip time variance, microseconds.
    rttvar: u32 = u32 @ 72;
    /// `tcpi_snd_ssthresh`: slow-start threshold, segments.
    snd_ssthresh: u32 = u32 @ 76, unless 0x7fff_ffff;
    /// `tcpi_snd_cwnd`: congestion window, segments.
    snd_cwnd: u32 = u32 @ 80;
    /// `tcpi_advmss`: advertised maximum segment size.
    advmss: u32 = u32 @ 84;
    /// `tcpi_reordering`: reordering metric.
    reordering: u32 = u32 @ 88;
    /// `tcpi_rcv_rtt`: receiver-side round-trip time estimate, microseconds.
    rcv_rtt: u32 = u32 @ 92;
    /// `tcpi_rcv_space`: receive buffer space being auto-tuned to.
    rcv_space: u32 = u32 @ 96;
    /// `tcpi_total_retrans`: retransmissions over the connection's life.
    total_retrans: u32 = u32 @ 100;
    /// `tcpi_pacing_rate`: bytes per second; absent when unlimited (the kernel's ~0).
    pacing_rate: u64 = u64 @ 104, unless 0xffff_ffff_ffff_ffff;
    /// `tcpi_max_pacing_rate`: bytes per second; absent when unlimited (the kernel's ~0).
    max_pacing_rate: u64 = u64 @ 112, unless 0xffff_ffff_ffff_ffff;
    /// `tcpi_bytes_acked`: bytes acknowledged by the peer (RFC 4898).
    bytes_acked: u64 = u64 @ 120;
    /// `tcpi_bytes_received`: bytes received (RFC 4898).
    bytes_received: u64 = u64 @ 128;
    /// `tcpi_segs_out`: segments sent.
    segs_out: u32 = u32 @ 136;
    /// `tcpi_segs_in`: segments received.
    segs_in: u32 = u32 @ 140;
    /// `tcpi_notsent_bytes`: bytes queued but not yet sent.
    notsent_bytes: u32 = u32 @ 144;
    /// `tcpi_min_rtt`: minimum round-trip time seen, microseconds.
    min_rtt: u32 = u32 @ 148;
    /// `tcpi_data_segs_in`: segments received with data.
    data_segs_in: u32 = u32 @ 152;
    /// `tcpi_data_segs_out`: segments sent with data.
    data_segs_out: u32 = u32 @ 156;
    /// `tcpi_delivery_rate`: bytes per second.
    delivery_rate: u64 = u64 @ 160;
    /// `tcpi_busy_time`: microseconds busy sending.
    busy_time: u64 = u64 @ 168;
    /// `tcpi_rwnd_limited`: microseconds limited by the receive window.
    rwnd_limited: u64 = u64 @ 176;
    /// `tcpi_sndbuf_limited`: microseconds limited by the send buffer.
    sndbuf_limited: u64 = u64 @ 184;
    /// `tcpi_delivered`: segments delivered.
    delivered: u32 = u32 @ 192;
    /// `tcpi_delivered_ce`: segments delivered with an ECN CE mark.
    delivered_ce: u32 = u32 @ 196;
    /// `tcpi_bytes_sent`: bytes sent, retransmissions included (RFC 4898).
    bytes_sent: u64 = u64 @ 200;
    /// `tcpi_bytes_retrans`: bytes retransmitted (RFC 4898).
    bytes_retrans: u64 = u64 @ 208;
    /// `tcpi_dsack_dups`: duplicate segments reported by DSACK.
    dsack_dups: u32 = u32 @ 216;
    /// `tcpi_reord_seen`: reordering events seen.
    reord_seen: u32 = u32 @ 220;
    /// `tcpi_rcv_ooopack`: out-of-order packets received.
    rcv_ooopack: u32 = u32 @ 224;
    /// `tcpi_snd_wnd`: the peer's advertised receive window, bytes.
    snd_wnd: u32 = u32 @ 228;
    /// `tcpi_rcv_wnd`: our advertised receive window, bytes (Linux 6.2+).
    rcv_wnd: u32 = u32 @ 232;
    /// `tcpi_rehash`: PLB or timeout-triggered rehashes.
    rehash: u32 = u32 @ 236;
    /// `tcpi_total_rto`: retransmission timeouts.
    total_rto: u16 = u16 @ 240;
    /// `tcpi_total_rto_recoveries`: recoveries from a retransmission timeout.
    total_rto_recoveries: u16 = u16 @ 242;
    /// `tcpi_total_rto_time`: milliseconds spent in timeout recovery.
    total_rto_time: u32 = u32 @ 244;
    /// `tcpi_received_ce`: packets received with a CE mark.
    received_ce: u32 = u32 @ 248;
    /// `tcpi_delivered_e1_bytes`: AccECN ECT(1) bytes delivered.
    delivered_e1_bytes: u32 = u32 @ 252;
    /// `tcpi_delivered_e0_bytes`: AccECN ECT(0) bytes delivered.
    delivered_e0_bytes: u32 = u32 @ 256;
    /// `tcpi_delivered_ce_bytes`: AccECN CE bytes delivered.
    delivered_ce_bytes: u32 = u32 @ 260;
    /// `tcpi_received_e1_bytes`: AccECN ECT(1) bytes received.
    received_e1_bytes: u32 = u32 @ 264;
    /// `tcpi_received_e0_bytes`: AccECN ECT(0) bytes received.
    received_e0_bytes: u32 = u32 @ 268;
    /// `tcpi_received_ce_bytes`: AccECN CE bytes received.
    received_ce_bytes: u32 = u32 @ 272;
}

impl TcpInfo {
    /// The size of `struct tcp_info` this decoder knows (Linux 6.18); 276..280 hold AccECN mode
    /// bits, not decoded.
    pub const KNOWN_LEN: usize = 280;
}

/// Socket memory (`INET_DIAG_SKMEMINFO`, ss's `skmem:`): the kernel's `SK_MEMINFO_*` array, in
/// bytes (`drops` in packets). Kernels before 3.x send fewer slots; a slot that did not arrive is
/// `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SkMemInfo {
    /// `SK_MEMINFO_RMEM_ALLOC`: receive queue memory in use.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rmem_alloc: Option<u32>,
    /// `SK_MEMINFO_RCVBUF`: receive buffer size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rcvbuf: Option<u32>,
    /// `SK_MEMINFO_WMEM_ALLOC`: send memory in flight.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wmem_alloc: Option<u32>,
    /// `SK_MEMINFO_SNDBUF`: send buffer size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sndbuf: Option<u32>,
    /// `SK_MEMINFO_FWD_ALLOC`: memory reserved ahead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fwd_alloc: Option<u32>,
    /// `SK_MEMINFO_WMEM_QUEUED`: send queue memory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wmem_queued: Option<u32>,
    /// `SK_MEMINFO_OPTMEM`: option memory (filters, options).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optmem: Option<u32>,
    /// `SK_MEMINFO_BACKLOG`: the backlog queue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backlog: Option<u32>,
    /// `SK_MEMINFO_DROPS`: packets dropped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drops: Option<u32>,
}

impl SkMemInfo {
    /// Decodes the `SK_MEMINFO_*` array from however many bytes arrived.
    pub fn from_bytes(raw: &[u8]) -> SkMemInfo {
        let b = Bytes(raw);
        SkMemInfo {
            rmem_alloc: b.u32(0),
            rcvbuf: b.u32(4),
            wmem_alloc: b.u32(8),
            sndbuf: b.u32(12),
            fwd_alloc: b.u32(16),
            wmem_queued: b.u32(20),
            optmem: b.u32(24),
            backlog: b.u32(28),
            drops: b.u32(32),
        }
    }
}

/// `INET_DIAG_SHUTDOWN`: which directions the socket has shut down (`sk_shutdown`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shutdown(pub u8);

impl Shutdown {
    /// No more receiving (RCV_SHUTDOWN).
    pub fn receive(self) -> bool {
        self.0 & 1 != 0
    }

    /// No more sending (SEND_SHUTDOWN).
    pub fn send(self) -> bool {
        self.0 & 2 != 0
    }

    /// ss's arrow: `<->` open both ways, `-->` receive shut, `<--` send shut, `---` both.
    pub fn arrow(self) -> &'static str {
        match (self.receive(), self.send()) {
            (false, false) => "<->",
            (true, false) => "-->",
            (false, true) => "<--",
            (true, true) => "---",
        }
    }
}

impl Serialize for Shutdown {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Shutdown", 2)?;
        st.serialize_field("receive", &self.receive())?;
        st.serialize_field("send", &self.send())?;
        st.end()
    }
}

/// The extensions of one inet_diag record; each `None` when its attribute did not arrive (not
/// requested, not applicable, or a kernel too old).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Extensions {
    /// `INET_DIAG_INFO`, decoded as `struct tcp_info`: requested for TCP only (MPTCP, for one,
    /// sends its own struct under the same type).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info: Option<TcpInfo>,
    /// `INET_DIAG_SKMEMINFO`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skmeminfo: Option<SkMemInfo>,
    /// Congestion control algorithm (`cubic`, `bbr`, ...), printable ASCII only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cong: Option<String>,
    /// `INET_DIAG_SHUTDOWN`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shutdown: Option<Shutdown>,
    /// `INET_DIAG_SKV6ONLY`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub v6only: Option<bool>,
    /// `INET_DIAG_MARK` (SO_MARK).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mark: Option<u32>,
    /// The socket's cgroup v2 id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cgroup_id: Option<u64>,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn off(name: &str) -> usize {
        let f = TcpInfo::FIELDS.iter().find(|f| f.name == name);
        f.expect("a decoded field").offset
    }

    /// A 280-byte `struct tcp_info` as Linux 6.18 sends it, every field a distinct value.
    pub(crate) fn tcp_info_6_18() -> Vec<u8> {
        let mut b = vec![
            1,    // tcpi_state = TCP_ESTABLISHED
            3,    // tcpi_ca_state = TCP_CA_Recovery
            2,    // tcpi_retransmits
            4,    // tcpi_probes
            5,    // tcpi_backoff
            0x07, // tcpi_options = TIMESTAMPS | SACK | WSCALE
        ];
        // tcpi_snd_wscale:4 = 7, tcpi_rcv_wscale:4 = 9 (low nibble first on little-endian)
        b.push(if cfg!(target_endian = "little") {
            0x97
        } else {
            0x79
        });
        // tcpi_delivery_rate_app_limited:1 = 1, tcpi_fastopen_client_fail:2 = 2
        b.push(if cfg!(target_endian = "little") {
            0b101
        } else {
            0b1100_0000
        });
        let u32s: &[u32] = &[
            204_000, // tcpi_rto (usec)
            40_000,  // tcpi_ato (usec)
            32_768,  // tcpi_snd_mss
            536,     // tcpi_rcv_mss
            11,      // tcpi_unacked
            12,      // tcpi_sacked
            13,      // tcpi_lost
            14,      // tcpi_retrans
            0,       // tcpi_fackets (unused)
            150,     // tcpi_last_data_sent (msec)
            0,       // tcpi_last_ack_sent (never filled)
            151,     // tcpi_last_data_recv
            152,     // tcpi_last_ack_recv
            65_535,  // tcpi_pmtu
            64_076,  // tcpi_rcv_ssthresh
            38,      // tcpi_rtt (usec)
            19,      // tcpi_rttvar
            20,      // tcpi_snd_ssthresh
            10,      // tcpi_snd_cwnd
            65_483,  // tcpi_advmss
            3,       // tcpi_reordering
            21,      // tcpi_rcv_rtt
            65_483,  // tcpi_rcv_space
            22,      // tcpi_total_retrans
        ];
        b.extend(u32s.iter().flat_map(|v| v.to_ne_bytes()));
        assert_eq!(b.len(), 104, "end of the 2.6-era struct");
        b.extend(1_000_000_001u64.to_ne_bytes()); // tcpi_pacing_rate
        b.extend(2_000_000_002u64.to_ne_bytes()); // tcpi_max_pacing_rate
        b.extend(1_000_003u64.to_ne_bytes()); //     tcpi_bytes_acked
        b.extend(1_000_004u64.to_ne_bytes()); //     tcpi_bytes_received
        b.extend(31u32.to_ne_bytes()); //            tcpi_segs_out
        b.extend(32u32.to_ne_bytes()); //            tcpi_segs_in
        b.extend(33u32.to_ne_bytes()); //            tcpi_notsent_bytes
        b.extend(17u32.to_ne_bytes()); //            tcpi_min_rtt (usec)
        b.extend(34u32.to_ne_bytes()); //            tcpi_data_segs_in
        b.extend(35u32.to_ne_bytes()); //            tcpi_data_segs_out
        b.extend(2_000_001u64.to_ne_bytes()); //     tcpi_delivery_rate
        b.extend(2_000_002u64.to_ne_bytes()); //     tcpi_busy_time (usec)
        b.extend(2_000_003u64.to_ne_bytes()); //     tcpi_rwnd_limited
        b.extend(2_000_004u64.to_ne_bytes()); //     tcpi_sndbuf_limited
        b.extend(36u32.to_ne_bytes()); //            tcpi_delivered
        b.extend(37u32.to_ne_bytes()); //            tcpi_delivered_ce
        b.extend(3_000_001u64.to_ne_bytes()); //     tcpi_bytes_sent
        b.extend(3_000_002u64.to_ne_bytes()); //     tcpi_bytes_retrans
        b.extend(38u32.to_ne_bytes()); //            tcpi_dsack_dups
        b.extend(39u32.to_ne_bytes()); //            tcpi_reord_seen
        b.extend(40u32.to_ne_bytes()); //            tcpi_rcv_ooopack
        b.extend(41u32.to_ne_bytes()); //            tcpi_snd_wnd
        assert_eq!(b.len(), 232, "end of the 5.4-era struct");
        b.extend(42u32.to_ne_bytes()); //            tcpi_rcv_wnd
        b.extend(43u32.to_ne_bytes()); //            tcpi_rehash
        b.extend(44u16.to_ne_bytes()); //            tcpi_total_rto
        b.extend(45u16.to_ne_bytes()); //            tcpi_total_rto_recoveries
        b.extend(46u32.to_ne_bytes()); //            tcpi_total_rto_time (msec)
        b.extend(47u32.to_ne_bytes()); //            tcpi_received_ce
        b.extend(48u32.to_ne_bytes()); //            tcpi_delivered_e1_bytes
        b.extend(49u32.to_ne_bytes()); //            tcpi_delivered_e0_bytes
        b.extend(50u32.to_ne_bytes()); //            tcpi_delivered_ce_bytes
        b.extend(51u32.to_ne_bytes()); //            tcpi_received_e1_bytes
        b.extend(52u32.to_ne_bytes()); //            tcpi_received_e0_bytes
        b.extend(53u32.to_ne_bytes()); //            tcpi_received_ce_bytes
        b.extend(0x0000_0006u32.to_ne_bytes()); //   AccECN mode bits (not decoded)
        assert_eq!(b.len(), TcpInfo::KNOWN_LEN);
        b
    }

    fn keys(info: &TcpInfo) -> Vec<String> {
        let v = serde_json::to_value(info).expect("serializes");
        let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
        k.sort();
        k
    }

    #[test]
    fn full_6_18_struct_decodes_every_field() {
        let t = TcpInfo::from_bytes(&tcp_info_6_18());
        assert_eq!(t.len, 280);
        assert_eq!(t.state, Some(State::Established));
        assert_eq!(t.ca_state, Some(CaState::Recovery));
        assert_eq!(
            (t.retransmits, t.probes, t.backoff),
            (Some(2), Some(4), Some(5))
        );
        let o = t.options.expect("options");
        assert_eq!(o.names().collect::<Vec<_>>(), ["ts", "sack", "wscale"]);
        assert_eq!((t.snd_wscale, t.rcv_wscale), (Some(7), Some(9)));
        assert_eq!(
            (t.delivery_rate_app_limited, t.fastopen_client_fail),
            (Some(true), Some(2))
        );
        assert_eq!(
            (t.rto, t.ato, t.snd_mss, t.rcv_mss),
            (Some(204_000), Some(40_000), Some(32_768), Some(536))
        );
        assert_eq!(
            (t.unacked, t.sacked, t.lost, t.retrans),
            (Some(11), Some(12), Some(13), Some(14))
        );
        assert_eq!(
            (t.last_data_sent, t.last_data_recv, t.last_ack_recv),
            (Some(150), Some(151), Some(152))
        );
        assert_eq!(
            (t.pmtu, t.rcv_ssthresh, t.rtt, t.rttvar),
            (Some(65_535), Some(64_076), Some(38), Some(19))
        );
        assert_eq!(
            (t.snd_ssthresh, t.snd_cwnd, t.advmss, t.reordering),
            (Some(20), Some(10), Some(65_483), Some(3))
        );
        assert_eq!(
            (t.rcv_rtt, t.rcv_space, t.total_retrans),
            (Some(21), Some(65_483), Some(22))
        );
        assert_eq!(
            (t.pacing_rate, t.max_pacing_rate),
            (Some(1_000_000_001), Some(2_000_000_002))
        );
        assert_eq!(
            (t.bytes_acked, t.bytes_received),
            (Some(1_000_003), Some(1_000_004))
        );
        assert_eq!(
            (t.segs_out, t.segs_in, t.notsent_bytes, t.min_rtt),
            (Some(31), Some(32), Some(33), Some(17))
        );
        assert_eq!(
            (t.data_segs_in, t.data_segs_out, t.delivery_rate),
            (Some(34), Some(35), Some(2_000_001))
        );
        assert_eq!(
            (t.busy_time, t.rwnd_limited, t.sndbuf_limited),
            (Some(2_000_002), Some(2_000_003), Some(2_000_004))
        );
        assert_eq!((t.delivered, t.delivered_ce), (Some(36), Some(37)));
        assert_eq!(
            (t.bytes_sent, t.bytes_retrans),
            (Some(3_000_001), Some(3_000_002))
        );
        assert_eq!(
            (t.dsack_dups, t.reord_seen, t.rcv_ooopack),
            (Some(38), Some(39), Some(40))
        );
        assert_eq!(
            (t.snd_wnd, t.rcv_wnd, t.rehash),
            (Some(41), Some(42), Some(43))
        );
        assert_eq!(
            (t.total_rto, t.total_rto_recoveries, t.total_rto_time),
            (Some(44), Some(45), Some(46))
        );
        assert_eq!(t.received_ce, Some(47));
        assert_eq!(
            (
                t.delivered_e1_bytes,
                t.delivered_e0_bytes,
                t.delivered_ce_bytes
            ),
            (Some(48), Some(49), Some(50))
        );
        assert_eq!(
            (
                t.received_e1_bytes,
                t.received_e0_bytes,
                t.received_ce_bytes
            ),
            (Some(51), Some(52), Some(53))
        );
        assert_eq!(
            keys(&t).len(),
            TcpInfo::FIELDS.len(),
            "every field serialized"
        );
    }

    /// Old kernels and MPTCP send shorter structs: a field is present exactly when all its
    /// bytes arrived, and then has the full struct's value.
    #[test]
    fn every_length_decodes_exactly_the_fields_that_arrived() {
        let full = tcp_info_6_18();
        let whole = serde_json::to_value(TcpInfo::from_bytes(&full)).expect("serializes");
        let mut long = full.clone();
        long.extend([0xee; 40]); // a future kernel's extra fields are ignored
        for n in 0..=long.len() {
            let t = TcpInfo::from_bytes(&long[..n]);
            assert_eq!(t.len, n);
            let v = serde_json::to_value(&t).expect("serializes");
            let mut want: Vec<String> = TcpInfo::FIELDS
                .iter()
                .filter(|f| f.offset + f.size <= n)
                .map(|f| f.name.to_string())
                .collect();
            want.sort();
            assert_eq!(keys(&t), want, "length {n}");
            for k in &want {
                assert_eq!(v[k], whole[k], "{k} at length {n}");
            }
        }
    }

    /// The kernel's "unlimited" (~0) pacing rates and TCP_INFINITE_SSTHRESH are absent, never
    /// printed as 18446744073709551615 or 2147483647.
    #[test]
    fn sentinel_values_are_absent() {
        let mut b = tcp_info_6_18();
        let (pacing, max, ssthresh) = (
            off("pacing_rate"),
            off("max_pacing_rate"),
            off("snd_ssthresh"),
        );
        b[pacing..pacing + 8].copy_from_slice(&u64::MAX.to_ne_bytes());
        b[max..max + 8].copy_from_slice(&u64::MAX.to_ne_bytes());
        b[ssthresh..ssthresh + 4].copy_from_slice(&0x7fff_ffffu32.to_ne_bytes());
        let t = TcpInfo::from_bytes(&b);
        assert_eq!(
            (t.pacing_rate, t.max_pacing_rate, t.snd_ssthresh),
            (None, None, None)
        );
        assert_eq!(t.total_retrans, Some(22), "the other fields stay");
    }

    #[test]
    fn kernel_generations_by_length() {
        let full = tcp_info_6_18();
        assert_eq!(TcpInfo::from_bytes(&[]), TcpInfo::default());
        let old = TcpInfo::from_bytes(&full[..104]); // 2.6 .. 3.x
        assert_eq!(old.total_retrans, Some(22));
        assert_eq!(
            (old.pacing_rate, old.bytes_acked, old.snd_wnd),
            (None, None, None)
        );
        let v5 = TcpInfo::from_bytes(&full[..232]); // 5.4 .. 6.1
        assert_eq!((v5.snd_wnd, v5.rcv_wnd), (Some(41), None));
        let odd = TcpInfo::from_bytes(&full[..125]); // cut inside tcpi_bytes_acked
        assert_eq!(
            (odd.max_pacing_rate, odd.bytes_acked),
            (Some(2_000_000_002), None)
        );
        let odd = TcpInfo::from_bytes(&full[..7]); // cut before tcpi_delivery_rate_app_limited
        assert_eq!(
            (odd.rcv_wscale, odd.delivery_rate_app_limited, odd.rto),
            (Some(9), None, None)
        );
    }

    /// The field table, checked against glibc's `struct tcp_info` as the libc crate declares
    /// it: every field both know has the same offset and size; the two bit-field bytes, which
    /// libc does not split, by their byte.
    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn offsets_match_libc() {
        use libc::tcp_info as T;
        use std::mem::{offset_of, size_of_val};
        // SAFETY: tcp_info is plain integers; all-zero is a valid value.
        let t: T = unsafe { std::mem::zeroed() };
        let libc = [
            (
                "state",
                offset_of!(T, tcpi_state),
                size_of_val(&t.tcpi_state),
            ),
            (
                "ca_state",
                offset_of!(T, tcpi_ca_state),
                size_of_val(&t.tcpi_ca_state),
            ),
            (
                "retransmits",
                offset_of!(T, tcpi_retransmits),
                size_of_val(&t.tcpi_retransmits),
            ),
            (
                "probes",
                offset_of!(T, tcpi_probes),
                size_of_val(&t.tcpi_probes),
            ),
            (
                "backoff",
                offset_of!(T, tcpi_backoff),
                size_of_val(&t.tcpi_backoff),
            ),
            (
                "options",
                offset_of!(T, tcpi_options),
                size_of_val(&t.tcpi_options),
            ),
            ("rto", offset_of!(T, tcpi_rto), size_of_val(&t.tcpi_rto)),
            ("ato", offset_of!(T, tcpi_ato), size_of_val(&t.tcpi_ato)),
            (
                "snd_mss",
                offset_of!(T, tcpi_snd_mss),
                size_of_val(&t.tcpi_snd_mss),
            ),
            (
                "rcv_mss",
                offset_of!(T, tcpi_rcv_mss),
                size_of_val(&t.tcpi_rcv_mss),
            ),
            (
                "unacked",
                offset_of!(T, tcpi_unacked),
                size_of_val(&t.tcpi_unacked),
            ),
            (
                "sacked",
                offset_of!(T, tcpi_sacked),
                size_of_val(&t.tcpi_sacked),
            ),
            ("lost", offset_of!(T, tcpi_lost), size_of_val(&t.tcpi_lost)),
            (
                "retrans",
                offset_of!(T, tcpi_retrans),
                size_of_val(&t.tcpi_retrans),
            ),
            (
                "last_data_sent",
                offset_of!(T, tcpi_last_data_sent),
                size_of_val(&t.tcpi_last_data_sent),
            ),
            (
                "last_data_recv",
                offset_of!(T, tcpi_last_data_recv),
                size_of_val(&t.tcpi_last_data_recv),
            ),
            (
                "last_ack_recv",
                offset_of!(T, tcpi_last_ack_recv),
                size_of_val(&t.tcpi_last_ack_recv),
            ),
            ("pmtu", offset_of!(T, tcpi_pmtu), size_of_val(&t.tcpi_pmtu)),
            (
                "rcv_ssthresh",
                offset_of!(T, tcpi_rcv_ssthresh),
                size_of_val(&t.tcpi_rcv_ssthresh),
            ),
            ("rtt", offset_of!(T, tcpi_rtt), size_of_val(&t.tcpi_rtt)),
            (
                "rttvar",
                offset_of!(T, tcpi_rttvar),
                size_of_val(&t.tcpi_rttvar),
            ),
            (
                "snd_ssthresh",
                offset_of!(T, tcpi_snd_ssthresh),
                size_of_val(&t.tcpi_snd_ssthresh),
            ),
            (
                "snd_cwnd",
                offset_of!(T, tcpi_snd_cwnd),
                size_of_val(&t.tcpi_snd_cwnd),
            ),
            (
                "advmss",
                offset_of!(T, tcpi_advmss),
                size_of_val(&t.tcpi_advmss),
            ),
            (
                "reordering",
                offset_of!(T, tcpi_reordering),
                size_of_val(&t.tcpi_reordering),
            ),
            (
                "rcv_rtt",
                offset_of!(T, tcpi_rcv_rtt),
                size_of_val(&t.tcpi_rcv_rtt),
            ),
            (
                "rcv_space",
                offset_of!(T, tcpi_rcv_space),
                size_of_val(&t.tcpi_rcv_space),
            ),
            (
                "total_retrans",
                offset_of!(T, tcpi_total_retrans),
                size_of_val(&t.tcpi_total_retrans),
            ),
            (
                "pacing_rate",
                offset_of!(T, tcpi_pacing_rate),
                size_of_val(&t.tcpi_pacing_rate),
            ),
            (
                "max_pacing_rate",
                offset_of!(T, tcpi_max_pacing_rate),
                size_of_val(&t.tcpi_max_pacing_rate),
            ),
            (
                "bytes_acked",
                offset_of!(T, tcpi_bytes_acked),
                size_of_val(&t.tcpi_bytes_acked),
            ),
            (
                "bytes_received",
                offset_of!(T, tcpi_bytes_received),
                size_of_val(&t.tcpi_bytes_received),
            ),
            (
                "segs_out",
                offset_of!(T, tcpi_segs_out),
                size_of_val(&t.tcpi_segs_out),
            ),
            (
                "segs_in",
                offset_of!(T, tcpi_segs_in),
                size_of_val(&t.tcpi_segs_in),
            ),
            (
                "notsent_bytes",
                offset_of!(T, tcpi_notsent_bytes),
                size_of_val(&t.tcpi_notsent_bytes),
            ),
            (
                "min_rtt",
                offset_of!(T, tcpi_min_rtt),
                size_of_val(&t.tcpi_min_rtt),
            ),
            (
                "data_segs_in",
                offset_of!(T, tcpi_data_segs_in),
                size_of_val(&t.tcpi_data_segs_in),
            ),
            (
                "data_segs_out",
                offset_of!(T, tcpi_data_segs_out),
                size_of_val(&t.tcpi_data_segs_out),
            ),
            (
                "delivery_rate",
                offset_of!(T, tcpi_delivery_rate),
                size_of_val(&t.tcpi_delivery_rate),
            ),
            (
                "busy_time",
                offset_of!(T, tcpi_busy_time),
                size_of_val(&t.tcpi_busy_time),
            ),
            (
                "rwnd_limited",
                offset_of!(T, tcpi_rwnd_limited),
                size_of_val(&t.tcpi_rwnd_limited),
            ),
            (
                "sndbuf_limited",
                offset_of!(T, tcpi_sndbuf_limited),
                size_of_val(&t.tcpi_sndbuf_limited),
            ),
            (
                "delivered",
                offset_of!(T, tcpi_delivered),
                size_of_val(&t.tcpi_delivered),
            ),
            (
                "delivered_ce",
                offset_of!(T, tcpi_delivered_ce),
                size_of_val(&t.tcpi_delivered_ce),
            ),
            (
                "bytes_sent",
                offset_of!(T, tcpi_bytes_sent),
                size_of_val(&t.tcpi_bytes_sent),
            ),
            (
                "bytes_retrans",
                offset_of!(T, tcpi_bytes_retrans),
                size_of_val(&t.tcpi_bytes_retrans),
            ),
            (
                "dsack_dups",
                offset_of!(T, tcpi_dsack_dups),
                size_of_val(&t.tcpi_dsack_dups),
            ),
            (
                "reord_seen",
                offset_of!(T, tcpi_reord_seen),
                size_of_val(&t.tcpi_reord_seen),
            ),
            (
                "rcv_ooopack",
                offset_of!(T, tcpi_rcv_ooopack),
                size_of_val(&t.tcpi_rcv_ooopack),
            ),
            (
                "snd_wnd",
                offset_of!(T, tcpi_snd_wnd),
                size_of_val(&t.tcpi_snd_wnd),
            ),
            (
                "rcv_wnd",
                offset_of!(T, tcpi_rcv_wnd),
                size_of_val(&t.tcpi_rcv_wnd),
            ),
            (
                "rehash",
                offset_of!(T, tcpi_rehash),
                size_of_val(&t.tcpi_rehash),
            ),
            (
                "total_rto",
                offset_of!(T, tcpi_total_rto),
                size_of_val(&t.tcpi_total_rto),
            ),
            (
                "total_rto_recoveries",
                offset_of!(T, tcpi_total_rto_recoveries),
                size_of_val(&t.tcpi_total_rto_recoveries),
            ),
            (
                "total_rto_time",
                offset_of!(T, tcpi_total_rto_time),
                size_of_val(&t.tcpi_total_rto_time),
            ),
            (
                "received_ce",
                offset_of!(T, tcpi_received_ce),
                size_of_val(&t.tcpi_received_ce),
            ),
            (
                "delivered_e1_bytes",
                offset_of!(T, tcpi_delivered_e1_bytes),
                size_of_val(&t.tcpi_delivered_e1_bytes),
            ),
            (
                "delivered_e0_bytes",
                offset_of!(T, tcpi_delivered_e0_bytes),
                size_of_val(&t.tcpi_delivered_e0_bytes),
            ),
            (
                "delivered_ce_bytes",
                offset_of!(T, tcpi_delivered_ce_bytes),
                size_of_val(&t.tcpi_delivered_ce_bytes),
            ),
            (
                "received_e1_bytes",
                offset_of!(T, tcpi_received_e1_bytes),
                size_of_val(&t.tcpi_received_e1_bytes),
            ),
            (
                "received_e0_bytes",
                offset_of!(T, tcpi_received_e0_bytes),
                size_of_val(&t.tcpi_received_e0_bytes),
            ),
            (
                "received_ce_bytes",
                offset_of!(T, tcpi_received_ce_bytes),
                size_of_val(&t.tcpi_received_ce_bytes),
            ),
        ];
        for (name, offset, size) in libc {
            let f = TcpInfo::FIELDS.iter().find(|f| f.name == name);
            assert_eq!(
                f.map(|f| (f.offset, f.size)),
                Some((offset, size)),
                "{name}"
            );
        }
        let wscale = offset_of!(T, tcpi_snd_rcv_wscale);
        assert_eq!((off("snd_wscale"), off("rcv_wscale")), (wscale, wscale));
        assert_eq!(off("delivery_rate_app_limited"), wscale + 1);
        assert_eq!(TcpInfo::FIELDS.len(), libc.len() + 4, "every field checked");
        assert_eq!(TcpInfo::KNOWN_LEN, size_of_val(&t));
        for f in TcpInfo::FIELDS {
            assert!(f.offset + f.size <= TcpInfo::KNOWN_LEN, "{}", f.name);
        }
    }

    /// TCP_INFO from the kernel for a real loopback connection that moved data.
    #[test]
    fn decodes_the_running_kernels_tcp_info() {
        use std::io::{Read, Write};
        use std::net::{TcpListener, TcpStream};
        use std::os::fd::AsRawFd;

        fn tcp_info(s: &TcpStream) -> TcpInfo {
            let mut buf = [0u8; 512];
            let mut len = buf.len() as libc::socklen_t;
            // SAFETY: buf is writable for len bytes; the kernel writes at most len.
            let rc = unsafe {
                libc::getsockopt(
                    s.as_raw_fd(),
                    libc::IPPROTO_TCP,
                    libc::TCP_INFO,
                    buf.as_mut_ptr().cast(),
                    &mut len,
                )
            };
            assert_eq!(
                rc,
                0,
                "getsockopt(TCP_INFO): {}",
                std::io::Error::last_os_error()
            );
            TcpInfo::from_bytes(&buf[..len as usize])
        }

        let listener = TcpListener::bind("127.0.0.1:0").expect("bind port 0");
        let addr = listener.local_addr().expect("local addr");
        let mut client = TcpStream::connect(addr).expect("connect");
        let (mut server, _) = listener.accept().expect("accept");
        let payload = vec![0x5a; 256 * 1024];
        let reader = std::thread::spawn(move || {
            let mut got = vec![0; 256 * 1024];
            server.read_exact(&mut got).expect("read all");
            server
        });
        client.write_all(&payload).expect("write");
        let server = reader.join().expect("reader thread");

        // The last ACKs may still be in flight right after the read; wait for them briefly.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let mut info = tcp_info(&client);
        while info.bytes_acked < Some(payload.len() as u64) && std::time::Instant::now() < deadline
        {
            std::thread::sleep(std::time::Duration::from_millis(10));
            info = tcp_info(&client);
        }
        eprintln!("kernel sent {} bytes of tcp_info", info.len);
        assert!(
            info.len >= 104,
            "tcp_info shorter than any kernel's: {}",
            info.len
        );
        assert_eq!(info.state, Some(State::Established));
        assert!(info.bytes_acked.is_some_and(|b| b > 0), "{info:?}");
        assert_eq!(
            info.bytes_acked,
            Some(payload.len() as u64 + 1),
            "data + SYN acked"
        );
        assert!(
            info.snd_mss.is_some_and(|m| (500..=65535).contains(&m)),
            "{info:?}"
        );
        assert!(info.rtt.is_some_and(|r| r > 0), "{info:?}");
        assert!(info.snd_cwnd.is_some_and(|c| c > 0), "{info:?}");
        if info.len >= off("bytes_sent") + 8 {
            assert!(info.bytes_sent >= Some(payload.len() as u64), "{info:?}");
        }
        let rx = tcp_info(&server);
        assert_eq!(rx.bytes_received, Some(payload.len() as u64));
        assert!(
            rx.rcv_mss.is_some_and(|m| (500..=65535).contains(&m)),
            "{rx:?}"
        );
    }
}
