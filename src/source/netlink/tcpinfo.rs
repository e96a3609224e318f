//! Decoders for the per-socket extensions a sock_diag dump can carry (`--info`, `--memory`,
//! `--extended`): `struct tcp_info`, skmeminfo, the congestion algorithm, shutdown state,
//! v6only, mark and cgroup id.
//!
//! `struct tcp_info` grows with the kernel (104 bytes in 2.6, 232 in 5.x, 280 in 6.18) and MPTCP
//! sends other, shorter structs under the same attribute, so it is decoded field by field from
//! the kernel's offsets: a field whose bytes did not all arrive is `None`, never zero. The same
//! holds for skmeminfo, which gained `backlog` and `drops` over time.
//!
//! Everything here is pure (`&[u8]` in), so fixtures and fuzzers can drive it.

use serde::{Serialize, Serializer};

use crate::model::State;

pub const INET_DIAG_MEMINFO: u16 = 1;
pub const INET_DIAG_INFO: u16 = 2;
pub const INET_DIAG_CONG: u16 = 4;
pub const INET_DIAG_SKMEMINFO: u16 = 7;
pub const INET_DIAG_SHUTDOWN: u16 = 8;
pub const INET_DIAG_SKV6ONLY: u16 = 11;
pub const INET_DIAG_MARK: u16 = 15;
/// Arrives as an untyped attribute in netlink-packet-sock-diag 0.5.
pub const INET_DIAG_CGROUP_ID: u16 = 21;

/// Byte offsets of `struct tcp_info` (include/uapi/linux/tcp.h). A field is present when
/// `offset + size` bytes arrived.
pub mod offset {
    pub const STATE: usize = 0; // __u8
    pub const CA_STATE: usize = 1; // __u8
    pub const RETRANSMITS: usize = 2; // __u8
    pub const PROBES: usize = 3; // __u8
    pub const BACKOFF: usize = 4; // __u8
    pub const OPTIONS: usize = 5; // __u8
    pub const WSCALE: usize = 6; // __u8 snd_wscale:4, rcv_wscale:4
    pub const APP_LIMITED: usize = 7; // __u8 delivery_rate_app_limited:1, fastopen_client_fail:2
    pub const RTO: usize = 8; // __u32, usec
    pub const ATO: usize = 12;
    pub const SND_MSS: usize = 16;
    pub const RCV_MSS: usize = 20;
    pub const UNACKED: usize = 24;
    pub const SACKED: usize = 28;
    pub const LOST: usize = 32;
    pub const RETRANS: usize = 36;
    pub const FACKETS: usize = 40; // unused since 4.15
    pub const LAST_DATA_SENT: usize = 44; // msec ago
    pub const LAST_ACK_SENT: usize = 48; // never filled in
    pub const LAST_DATA_RECV: usize = 52;
    pub const LAST_ACK_RECV: usize = 56;
    pub const PMTU: usize = 60;
    pub const RCV_SSTHRESH: usize = 64;
    pub const RTT: usize = 68; // usec
    pub const RTTVAR: usize = 72;
    pub const SND_SSTHRESH: usize = 76;
    pub const SND_CWND: usize = 80;
    pub const ADVMSS: usize = 84;
    pub const REORDERING: usize = 88;
    pub const RCV_RTT: usize = 92;
    pub const RCV_SPACE: usize = 96;
    pub const TOTAL_RETRANS: usize = 100; // end of the 2.6-era struct: 104 bytes
    pub const PACING_RATE: usize = 104; // __u64, bytes/s
    pub const MAX_PACING_RATE: usize = 112; // __u64
    pub const BYTES_ACKED: usize = 120; // __u64
    pub const BYTES_RECEIVED: usize = 128; // __u64
    pub const SEGS_OUT: usize = 136;
    pub const SEGS_IN: usize = 140;
    pub const NOTSENT_BYTES: usize = 144;
    pub const MIN_RTT: usize = 148;
    pub const DATA_SEGS_IN: usize = 152;
    pub const DATA_SEGS_OUT: usize = 156;
    pub const DELIVERY_RATE: usize = 160; // __u64
    pub const BUSY_TIME: usize = 168; // __u64, usec
    pub const RWND_LIMITED: usize = 176; // __u64
    pub const SNDBUF_LIMITED: usize = 184; // __u64
    pub const DELIVERED: usize = 192;
    pub const DELIVERED_CE: usize = 196;
    pub const BYTES_SENT: usize = 200; // __u64
    pub const BYTES_RETRANS: usize = 208; // __u64
    pub const DSACK_DUPS: usize = 216;
    pub const REORD_SEEN: usize = 220;
    pub const RCV_OOOPACK: usize = 224;
    pub const SND_WND: usize = 228; // end of the 5.4-era struct: 232 bytes
    pub const RCV_WND: usize = 232;
    pub const REHASH: usize = 236;
    pub const TOTAL_RTO: usize = 240; // __u16
    pub const TOTAL_RTO_RECOVERIES: usize = 242; // __u16
    pub const TOTAL_RTO_TIME: usize = 244; // msec
    pub const RECEIVED_CE: usize = 248;
    pub const DELIVERED_E1_BYTES: usize = 252;
    pub const DELIVERED_E0_BYTES: usize = 256;
    pub const DELIVERED_CE_BYTES: usize = 260;
    pub const RECEIVED_E1_BYTES: usize = 264;
    pub const RECEIVED_E0_BYTES: usize = 268;
    pub const RECEIVED_CE_BYTES: usize = 272; // 276..280: AccECN mode bits, not decoded
    /// The size this decoder knows (Linux 6.18).
    pub const KNOWN_LEN: usize = 280;
}

/// `tcpi_ca_state`: the congestion-avoidance state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaState {
    Open,
    Disorder,
    Cwr,
    Recovery,
    Loss,
    Unknown(u8),
}

impl CaState {
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

/// `tcpi_options`: what the handshake negotiated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpOptions(pub u8);

impl TcpOptions {
    pub const TIMESTAMPS: u8 = 1;
    pub const SACK: u8 = 2;
    pub const WSCALE: u8 = 4;
    pub const ECN: u8 = 8;
    pub const ECN_SEEN: u8 = 16;
    pub const SYN_DATA: u8 = 32;
    pub const USEC_TS: u8 = 64;
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

/// `struct tcp_info` as far as it arrived. Units are the kernel's: times in microseconds
/// (`rto`, `ato`, `rtt`, `rttvar`, `rcv_rtt`, `min_rtt`, `busy_time`, `rwnd_limited`,
/// `sndbuf_limited`) except `last_*` and `total_rto_time` (milliseconds); rates in bytes per
/// second; `snd_cwnd`, `snd_ssthresh`, `unacked`, `sacked`, `lost`, `retrans` in segments.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TcpInfo {
    /// How many bytes the kernel sent (tells which fields a kernel of that age has).
    #[serde(skip)]
    pub len: usize,
    #[serde(serialize_with = "state_name", skip_serializing_if = "Option::is_none")]
    pub state: Option<State>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_state: Option<CaState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retransmits: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probes: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backoff: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<TcpOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snd_wscale: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rcv_wscale: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_rate_app_limited: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fastopen_client_fail: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rto: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ato: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snd_mss: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rcv_mss: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unacked: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sacked: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lost: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retrans: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_data_sent: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_data_recv: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_ack_recv: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pmtu: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rcv_ssthresh: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rtt: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rttvar: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snd_ssthresh: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snd_cwnd: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advmss: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reordering: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rcv_rtt: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rcv_space: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_retrans: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pacing_rate: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_pacing_rate: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_acked: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_received: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segs_out: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segs_in: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notsent_bytes: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_rtt: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_segs_in: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_segs_out: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_rate: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub busy_time: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rwnd_limited: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sndbuf_limited: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered_ce: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_sent: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_retrans: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dsack_dups: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reord_seen: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rcv_ooopack: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snd_wnd: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rcv_wnd: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rehash: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_rto: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_rto_recoveries: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_rto_time: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_ce: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered_e1_bytes: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered_e0_bytes: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered_ce_bytes: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_e1_bytes: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_e0_bytes: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_ce_bytes: Option<u32>,
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

/// The two 4-bit window scales of byte 6, in the compiler's bit-field order.
fn wscales(b: u8) -> (u8, u8) {
    if cfg!(target_endian = "little") {
        (b & 0x0f, b >> 4)
    } else {
        (b >> 4, b & 0x0f)
    }
}

/// Byte 7: `delivery_rate_app_limited:1, fastopen_client_fail:2`.
fn app_limited(b: u8) -> (bool, u8) {
    if cfg!(target_endian = "little") {
        (b & 1 != 0, (b >> 1) & 3)
    } else {
        (b & 0x80 != 0, (b >> 5) & 3)
    }
}

impl TcpInfo {
    /// Decodes `struct tcp_info` from however many bytes arrived (0 included). Bytes past the
    /// fields this decoder knows are ignored.
    pub fn decode(raw: &[u8]) -> TcpInfo {
        use offset::*;
        let b = Bytes(raw);
        let ws = b.u8(WSCALE).map(wscales);
        let app = b.u8(APP_LIMITED).map(app_limited);
        TcpInfo {
            len: raw.len(),
            state: b.u8(STATE).map(State::from_u8),
            ca_state: b.u8(CA_STATE).map(CaState::from_u8),
            retransmits: b.u8(RETRANSMITS),
            probes: b.u8(PROBES),
            backoff: b.u8(BACKOFF),
            options: b.u8(OPTIONS).map(TcpOptions),
            snd_wscale: ws.map(|w| w.0),
            rcv_wscale: ws.map(|w| w.1),
            delivery_rate_app_limited: app.map(|a| a.0),
            fastopen_client_fail: app.map(|a| a.1),
            rto: b.u32(RTO),
            ato: b.u32(ATO),
            snd_mss: b.u32(SND_MSS),
            rcv_mss: b.u32(RCV_MSS),
            unacked: b.u32(UNACKED),
            sacked: b.u32(SACKED),
            lost: b.u32(LOST),
            retrans: b.u32(RETRANS),
            last_data_sent: b.u32(LAST_DATA_SENT),
            last_data_recv: b.u32(LAST_DATA_RECV),
            last_ack_recv: b.u32(LAST_ACK_RECV),
            pmtu: b.u32(PMTU),
            rcv_ssthresh: b.u32(RCV_SSTHRESH),
            rtt: b.u32(RTT),
            rttvar: b.u32(RTTVAR),
            // TCP_INFINITE_SSTHRESH: no threshold yet (ss leaves it out too).
            snd_ssthresh: b.u32(SND_SSTHRESH).filter(|&t| t < 0x7fff_ffff),
            snd_cwnd: b.u32(SND_CWND),
            advmss: b.u32(ADVMSS),
            reordering: b.u32(REORDERING),
            rcv_rtt: b.u32(RCV_RTT),
            rcv_space: b.u32(RCV_SPACE),
            total_retrans: b.u32(TOTAL_RETRANS),
            // ~0 is the kernel's "unlimited" (no pacing, no cap): absent, never 18446744073709551615.
            pacing_rate: b.u64(PACING_RATE).filter(|&r| r != u64::MAX),
            max_pacing_rate: b.u64(MAX_PACING_RATE).filter(|&r| r != u64::MAX),
            bytes_acked: b.u64(BYTES_ACKED),
            bytes_received: b.u64(BYTES_RECEIVED),
            segs_out: b.u32(SEGS_OUT),
            segs_in: b.u32(SEGS_IN),
            notsent_bytes: b.u32(NOTSENT_BYTES),
            min_rtt: b.u32(MIN_RTT),
            data_segs_in: b.u32(DATA_SEGS_IN),
            data_segs_out: b.u32(DATA_SEGS_OUT),
            delivery_rate: b.u64(DELIVERY_RATE),
            busy_time: b.u64(BUSY_TIME),
            rwnd_limited: b.u64(RWND_LIMITED),
            sndbuf_limited: b.u64(SNDBUF_LIMITED),
            delivered: b.u32(DELIVERED),
            delivered_ce: b.u32(DELIVERED_CE),
            bytes_sent: b.u64(BYTES_SENT),
            bytes_retrans: b.u64(BYTES_RETRANS),
            dsack_dups: b.u32(DSACK_DUPS),
            reord_seen: b.u32(REORD_SEEN),
            rcv_ooopack: b.u32(RCV_OOOPACK),
            snd_wnd: b.u32(SND_WND),
            rcv_wnd: b.u32(RCV_WND),
            rehash: b.u32(REHASH),
            total_rto: b.u16(TOTAL_RTO),
            total_rto_recoveries: b.u16(TOTAL_RTO_RECOVERIES),
            total_rto_time: b.u32(TOTAL_RTO_TIME),
            received_ce: b.u32(RECEIVED_CE),
            delivered_e1_bytes: b.u32(DELIVERED_E1_BYTES),
            delivered_e0_bytes: b.u32(DELIVERED_E0_BYTES),
            delivered_ce_bytes: b.u32(DELIVERED_CE_BYTES),
            received_e1_bytes: b.u32(RECEIVED_E1_BYTES),
            received_e0_bytes: b.u32(RECEIVED_E0_BYTES),
            received_ce_bytes: b.u32(RECEIVED_CE_BYTES),
        }
    }
}

/// `INET_DIAG_SKMEMINFO`: the `SK_MEMINFO_*` array, in bytes (drops in packets). Kernels before
/// 3.x send fewer slots; a slot that did not arrive is `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SkMemInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rmem_alloc: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rcvbuf: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wmem_alloc: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sndbuf: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fwd_alloc: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wmem_queued: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optmem: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backlog: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drops: Option<u32>,
}

impl SkMemInfo {
    pub fn decode(raw: &[u8]) -> SkMemInfo {
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
    /// `INET_DIAG_INFO`, decoded as `struct tcp_info`: request it for TCP only (MPTCP, for one,
    /// sends its own struct under the same type).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info: Option<TcpInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skmeminfo: Option<SkMemInfo>,
    /// Congestion control algorithm (`cubic`, `bbr`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cong: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shutdown: Option<Shutdown>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub v6only: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mark: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cgroup_id: Option<u64>,
}

/// The congestion algorithm's name: NUL-terminated in the attribute; anything but printable
/// ASCII becomes `?` so it can go straight to a terminal.
fn cong_name(v: &[u8]) -> Option<String> {
    let end = v.iter().position(|c| *c == 0).unwrap_or(v.len());
    let name = &v[..end];
    if name.is_empty() {
        return None;
    }
    Some(
        name.iter()
            .map(|&c| {
                if c.is_ascii_graphic() {
                    char::from(c)
                } else {
                    '?'
                }
            })
            .collect(),
    )
}

/// Collects the extensions from an inet_diag record's attributes (`parse::attributes` output).
/// An attribute too short for its type is treated as absent; a later duplicate wins.
pub fn extensions<'a>(attrs: impl Iterator<Item = (u16, &'a [u8])>) -> Extensions {
    let mut x = Extensions::default();
    for (kind, v) in attrs {
        let b = Bytes(v);
        match kind {
            INET_DIAG_INFO => x.info = Some(TcpInfo::decode(v)),
            INET_DIAG_SKMEMINFO => x.skmeminfo = Some(SkMemInfo::decode(v)),
            INET_DIAG_CONG => x.cong = cong_name(v),
            INET_DIAG_SHUTDOWN => x.shutdown = b.u8(0).map(Shutdown),
            INET_DIAG_SKV6ONLY => x.v6only = b.u8(0).map(|o| o != 0),
            INET_DIAG_MARK => x.mark = b.u32(0),
            INET_DIAG_CGROUP_ID => x.cgroup_id = b.u64(0),
            _ => {}
        }
    }
    x
}

/// Fuzzing entry point: `data` as a tcp_info, as skmeminfo, and as an attribute stream, each
/// result serialized. Must never panic.
pub fn fuzz(data: &[u8]) {
    let x = extensions(super::parse::attributes(data));
    let info = TcpInfo::decode(data);
    let mem = SkMemInfo::decode(data);
    let _ = serde_json::to_writer(std::io::sink(), &(x, info, mem));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every decoded field: JSON key, offset, size. Checked against libc's struct below and
    /// used to predict which keys a truncated struct must have.
    const FIELDS: &[(&str, usize, usize)] = &[
        ("state", 0, 1),
        ("ca_state", 1, 1),
        ("retransmits", 2, 1),
        ("probes", 3, 1),
        ("backoff", 4, 1),
        ("options", 5, 1),
        ("snd_wscale", 6, 1),
        ("rcv_wscale", 6, 1),
        ("delivery_rate_app_limited", 7, 1),
        ("fastopen_client_fail", 7, 1),
        ("rto", 8, 4),
        ("ato", 12, 4),
        ("snd_mss", 16, 4),
        ("rcv_mss", 20, 4),
        ("unacked", 24, 4),
        ("sacked", 28, 4),
        ("lost", 32, 4),
        ("retrans", 36, 4),
        ("last_data_sent", 44, 4),
        ("last_data_recv", 52, 4),
        ("last_ack_recv", 56, 4),
        ("pmtu", 60, 4),
        ("rcv_ssthresh", 64, 4),
        ("rtt", 68, 4),
        ("rttvar", 72, 4),
        ("snd_ssthresh", 76, 4),
        ("snd_cwnd", 80, 4),
        ("advmss", 84, 4),
        ("reordering", 88, 4),
        ("rcv_rtt", 92, 4),
        ("rcv_space", 96, 4),
        ("total_retrans", 100, 4),
        ("pacing_rate", 104, 8),
        ("max_pacing_rate", 112, 8),
        ("bytes_acked", 120, 8),
        ("bytes_received", 128, 8),
        ("segs_out", 136, 4),
        ("segs_in", 140, 4),
        ("notsent_bytes", 144, 4),
        ("min_rtt", 148, 4),
        ("data_segs_in", 152, 4),
        ("data_segs_out", 156, 4),
        ("delivery_rate", 160, 8),
        ("busy_time", 168, 8),
        ("rwnd_limited", 176, 8),
        ("sndbuf_limited", 184, 8),
        ("delivered", 192, 4),
        ("delivered_ce", 196, 4),
        ("bytes_sent", 200, 8),
        ("bytes_retrans", 208, 8),
        ("dsack_dups", 216, 4),
        ("reord_seen", 220, 4),
        ("rcv_ooopack", 224, 4),
        ("snd_wnd", 228, 4),
        ("rcv_wnd", 232, 4),
        ("rehash", 236, 4),
        ("total_rto", 240, 2),
        ("total_rto_recoveries", 242, 2),
        ("total_rto_time", 244, 4),
        ("received_ce", 248, 4),
        ("delivered_e1_bytes", 252, 4),
        ("delivered_e0_bytes", 256, 4),
        ("delivered_ce_bytes", 260, 4),
        ("received_e1_bytes", 264, 4),
        ("received_e0_bytes", 268, 4),
        ("received_ce_bytes", 272, 4),
    ];

    /// A 280-byte `struct tcp_info` as Linux 6.18 sends it, every field a distinct value.
    fn tcp_info_6_18() -> Vec<u8> {
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
        assert_eq!(b.len(), offset::KNOWN_LEN);
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
        let t = TcpInfo::decode(&tcp_info_6_18());
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
        assert_eq!(keys(&t).len(), FIELDS.len(), "every field serialized");
    }

    /// Old kernels and MPTCP send shorter structs: a field is present exactly when all its
    /// bytes arrived, and then has the full struct's value.
    #[test]
    fn every_length_decodes_exactly_the_fields_that_arrived() {
        let full = tcp_info_6_18();
        let whole = serde_json::to_value(TcpInfo::decode(&full)).expect("serializes");
        let mut long = full.clone();
        long.extend([0xee; 40]); // a future kernel's extra fields are ignored
        for n in 0..=long.len() {
            let t = TcpInfo::decode(&long[..n]);
            assert_eq!(t.len, n);
            let v = serde_json::to_value(&t).expect("serializes");
            let mut want: Vec<String> = FIELDS
                .iter()
                .filter(|(_, off, size)| off + size <= n)
                .map(|(k, _, _)| k.to_string())
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
        b[offset::PACING_RATE..offset::PACING_RATE + 8].copy_from_slice(&u64::MAX.to_ne_bytes());
        b[offset::MAX_PACING_RATE..offset::MAX_PACING_RATE + 8]
            .copy_from_slice(&u64::MAX.to_ne_bytes());
        b[offset::SND_SSTHRESH..offset::SND_SSTHRESH + 4]
            .copy_from_slice(&0x7fff_ffffu32.to_ne_bytes());
        let t = TcpInfo::decode(&b);
        assert_eq!(
            (t.pacing_rate, t.max_pacing_rate, t.snd_ssthresh),
            (None, None, None)
        );
        assert_eq!(t.total_retrans, Some(22), "the other fields stay");
    }

    #[test]
    fn kernel_generations_by_length() {
        let full = tcp_info_6_18();
        assert_eq!(TcpInfo::decode(&[]), TcpInfo::default());
        let old = TcpInfo::decode(&full[..104]); // 2.6 .. 3.x
        assert_eq!(old.total_retrans, Some(22));
        assert_eq!(
            (old.pacing_rate, old.bytes_acked, old.snd_wnd),
            (None, None, None)
        );
        let v5 = TcpInfo::decode(&full[..232]); // 5.4 .. 6.1
        assert_eq!((v5.snd_wnd, v5.rcv_wnd), (Some(41), None));
        let odd = TcpInfo::decode(&full[..125]); // cut inside tcpi_bytes_acked
        assert_eq!(
            (odd.max_pacing_rate, odd.bytes_acked),
            (Some(2_000_000_002), None)
        );
        let odd = TcpInfo::decode(&full[..7]); // cut before tcpi_delivery_rate_app_limited
        assert_eq!(
            (odd.rcv_wscale, odd.delivery_rate_app_limited, odd.rto),
            (Some(9), None, None)
        );
    }

    #[test]
    fn offsets_match_libc() {
        use libc::tcp_info as T;
        use std::mem::offset_of;
        let checks = [
            (offset::STATE, offset_of!(T, tcpi_state)),
            (offset::OPTIONS, offset_of!(T, tcpi_options)),
            (offset::WSCALE, offset_of!(T, tcpi_snd_rcv_wscale)),
            (offset::RTO, offset_of!(T, tcpi_rto)),
            (offset::FACKETS, offset_of!(T, tcpi_fackets)),
            (offset::LAST_ACK_SENT, offset_of!(T, tcpi_last_ack_sent)),
            (offset::PMTU, offset_of!(T, tcpi_pmtu)),
            (offset::TOTAL_RETRANS, offset_of!(T, tcpi_total_retrans)),
            (offset::PACING_RATE, offset_of!(T, tcpi_pacing_rate)),
            (offset::BYTES_RECEIVED, offset_of!(T, tcpi_bytes_received)),
            (offset::SEGS_IN, offset_of!(T, tcpi_segs_in)),
            (offset::DATA_SEGS_OUT, offset_of!(T, tcpi_data_segs_out)),
        ];
        for (ours, libc) in checks {
            assert_eq!(ours, libc);
        }
        for (k, off, size) in FIELDS {
            assert!(off + size <= offset::KNOWN_LEN, "{k}");
        }
    }

    /// One attribute: rta_len, rta_type, value, padding to 4.
    fn attr(kind: u16, value: &[u8]) -> Vec<u8> {
        let mut a = Vec::new();
        a.extend(((4 + value.len()) as u16).to_ne_bytes()); // rta_len
        a.extend(kind.to_ne_bytes()); //                       rta_type
        a.extend_from_slice(value);
        while a.len() % 4 != 0 {
            a.push(0); // padding
        }
        a
    }

    #[test]
    fn extensions_collects_every_attribute() {
        let mut mem = Vec::new();
        for v in [0u32, 131_072, 0, 2_626_560, 0, 0, 0, 0, 7] {
            // rmem_alloc, rcvbuf, wmem_alloc, sndbuf, fwd_alloc, wmem_queued, optmem, backlog,
            // drops
            mem.extend(v.to_ne_bytes());
        }
        let mut buf = Vec::new();
        buf.extend(attr(INET_DIAG_SHUTDOWN, &[2])); // SEND_SHUTDOWN
        buf.extend(attr(INET_DIAG_INFO, &tcp_info_6_18()[..232]));
        buf.extend(attr(INET_DIAG_CONG, b"cubic\0"));
        buf.extend(attr(INET_DIAG_SKMEMINFO, &mem));
        buf.extend(attr(INET_DIAG_SKV6ONLY, &[1]));
        buf.extend(attr(INET_DIAG_MARK, &0x1234u32.to_ne_bytes()));
        buf.extend(attr(INET_DIAG_CGROUP_ID, &8_812u64.to_ne_bytes()));
        buf.extend(attr(5, &[0x10])); // INET_DIAG_TOS: not collected
        let x = extensions(super::super::parse::attributes(&buf));
        assert_eq!(x.info.as_ref().and_then(|i| i.snd_wnd), Some(41));
        assert_eq!(x.info.as_ref().and_then(|i| i.rcv_wnd), None);
        assert_eq!(x.cong.as_deref(), Some("cubic"));
        let m = x.skmeminfo.expect("skmeminfo");
        assert_eq!(
            (m.rcvbuf, m.sndbuf, m.drops),
            (Some(131_072), Some(2_626_560), Some(7))
        );
        assert_eq!(x.shutdown.map(Shutdown::arrow), Some("<--"));
        assert_eq!(
            (x.v6only, x.mark, x.cgroup_id),
            (Some(true), Some(0x1234), Some(8_812))
        );

        let v = serde_json::to_value(&x).expect("serializes");
        assert_eq!(
            v["shutdown"],
            serde_json::json!({"receive": false, "send": true})
        );
        assert_eq!(v["info"]["state"], "ESTABLISHED");
        assert_eq!(v["info"]["ca_state"], "recovery");
        assert_eq!(
            v["info"]["options"],
            serde_json::json!(["ts", "sack", "wscale"])
        );
        assert_eq!(v["skmeminfo"]["drops"], 7);
    }

    #[test]
    fn short_or_odd_attributes_are_absent_not_zero() {
        let mut buf = Vec::new();
        buf.extend(attr(INET_DIAG_MARK, &[1, 2])); // 2 of 4 bytes
        buf.extend(attr(INET_DIAG_CGROUP_ID, &[1, 2, 3, 4])); // 4 of 8 bytes
        buf.extend(attr(INET_DIAG_SHUTDOWN, &[]));
        buf.extend(attr(INET_DIAG_CONG, b"\0"));
        buf.extend(attr(INET_DIAG_SKMEMINFO, &[0; 30])); // 7 whole slots and a half
        let x = extensions(super::super::parse::attributes(&buf));
        assert_eq!(
            (x.mark, x.cgroup_id, x.shutdown, x.cong),
            (None, None, None, None)
        );
        let m = x.skmeminfo.expect("skmeminfo");
        assert_eq!((m.optmem, m.backlog, m.drops), (Some(0), None, None));
        assert_eq!(cong_name(b"bb\x1br"), Some("bb?r".to_string()));
        assert_eq!(extensions(std::iter::empty()), Extensions::default());
        assert_eq!(
            serde_json::to_string(&Extensions::default()).expect("json"),
            "{}"
        );
    }

    #[test]
    fn fuzz_entry_survives_odd_input() {
        for data in [
            &[][..],
            &[0xff; 3],
            &[8, 0, 2, 0, 1, 2, 3, 4],
            &tcp_info_6_18(),
        ] {
            fuzz(data);
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
            TcpInfo::decode(&buf[..len as usize])
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
        if info.len >= offset::BYTES_SENT + 8 {
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
