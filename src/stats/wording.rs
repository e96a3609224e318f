//! netstat's wording for `-s`: net-tools 2.10's phrase tables, in its order, and the lookup it
//! does over them. Data, kept apart from the printing that uses it.

use super::Proto;

/// How netstat prints a counter it knows.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Always printed with its phrase.
    Number,
    /// Printed with its phrase when not zero.
    OptNumber,
    /// Configuration, not a counter: never printed (netstat without its static flag).
    Static,
    /// Known and deliberately never printed (Tcp RtoMin, RtoMax, MaxConn).
    Silent,
    /// A line of the "ICMP input histogram:", printed when not zero.
    InHist,
    /// A line of the "ICMP output histogram:", printed when not zero.
    OutHist,
}

pub(super) struct Entry {
    pub(super) name: &'static str,
    pub(super) phrase: &'static str,
    pub(super) kind: Kind,
}

const fn e(name: &'static str, phrase: &'static str, kind: Kind) -> Entry {
    Entry { name, phrase, kind }
}

use Kind::{InHist, Number, OptNumber, OutHist, Silent, Static};

// The phrase tables of net-tools 2.10 (`statistics.c`), read from the netstat binary this was
// checked against, in its order. The order matters: netstat looks counters up with bsearch() in
// tables that are not quite sorted, so some counters it has a phrase for (Ip Forwarding, TcpExt
// TCPTimeouts, ...) are not found and print as `Name: value`. Scripts see that output, so the
// lookup below is the same binary search over the same order.
#[rustfmt::skip]
const TCPEXT: &[Entry] = &[
    e("DelayedACKLocked", "%llu delayed acks further delayed because of locked socket", OptNumber),
    e("DelayedACKLost", "Quick ack mode was activated %llu times", OptNumber),
    e("DelayedACKs", "%llu delayed acks sent", OptNumber),
    e("EmbryonicRsts", "%llu resets received for embryonic SYN_RECV sockets", OptNumber),
    e("ListenDrops", "%llu SYNs to LISTEN sockets dropped", OptNumber),
    e("ListenOverflows", "%llu times the listen queue of a socket overflowed", OptNumber),
    e("LockDroppedIcmps", "%llu ICMP packets dropped because socket was locked", OptNumber),
    e("OfoPruned", "%llu packets dropped from out-of-order queue because of socket buffer overrun", OptNumber),
    e("OutOfWindowIcmps", "%llu ICMP packets dropped because they were out-of-window", OptNumber),
    e("PAWSActive", "%llu active connections rejected because of time stamp", OptNumber),
    e("PAWSEstab", "%llu packets rejected in established connections because of timestamp", OptNumber),
    e("PAWSPassive", "%llu passive connections rejected because of time stamp", OptNumber),
    e("PruneCalled", "%llu packets pruned from receive queue because of socket buffer overrun", OptNumber),
    e("RcvPruned", "%llu packets pruned from receive queue", OptNumber),
    e("SockMallocOOM", "Ran %llu times out of system memory during packet sending", OptNumber),
    e("SyncookiesFailed", "%llu invalid SYN cookies received", OptNumber),
    e("SyncookiesRecv", "%llu SYN cookies received", OptNumber),
    e("SyncookiesSent", "%llu SYN cookies sent", OptNumber),
    e("TCPAbortFailed", "%llu times unable to send RST due to no memory", OptNumber),
    e("TCPAbortOnClose", "%llu connections reset due to early user close", OptNumber),
    e("TCPAbortOnData", "%llu connections reset due to unexpected data", OptNumber),
    e("TCPAbortOnLinger", "%llu connections aborted after user close in linger timeout", OptNumber),
    e("TCPAbortOnMemory", "%llu connections aborted due to memory pressure", OptNumber),
    e("TCPAbortOnSyn", "%llu connections reset due to unexpected SYN", OptNumber),
    e("TCPAbortOnTimeout", "%llu connections aborted due to timeout", OptNumber),
    e("TCPDirectCopyFromBacklog", "%llu bytes directly in process context from backlog", OptNumber),
    e("TCPDirectCopyFromPrequeue", "%llu bytes directly received in process context from prequeue", OptNumber),
    e("TCPDSACKOfoRecv", "%llu DSACKs for out of order packets received", OptNumber),
    e("TCPDSACKOfoSent", "%llu DSACKs sent for out of order packets", OptNumber),
    e("TCPDSACKOldSent", "%llu DSACKs sent for old packets", OptNumber),
    e("TCPDSACKRecv", "%llu DSACKs received", OptNumber),
    e("TCPDSackUndo", "%llu congestion window recovered without slow start using DSACK", OptNumber),
    e("TCPDSACKUndo", "%llu congestion windows recovered without slow start by DSACK", OptNumber),
    e("TCPFACKReorder", "Detected reordering %llu times using FACK", OptNumber),
    e("TCPFastRetrans", "%llu fast retransmits", OptNumber),
    e("TCPForwardRetrans", "%llu forward retransmits", OptNumber),
    e("TCPFullUndo", "%llu congestion windows fully recovered without slow start", OptNumber),
    e("TCPHPAcks", "%llu predicted acknowledgments", OptNumber),
    e("TCPHPHits", "%llu packet headers predicted", Number),
    e("TCPHPHitsToUser", "%llu packet headers predicted and directly queued to user", OptNumber),
    e("TCPLossFailures", "%llu timeouts in loss state", OptNumber),
    e("TCPLoss", "%llu TCP data loss events", OptNumber),
    e("TCPLossUndo", "%llu congestion windows recovered without slow start after partial ack", OptNumber),
    e("TCPLostRetransmits", "%llu retransmits lost", OptNumber),
    e("TCPMemoryPressures", "TCP ran low on memory %llu times", OptNumber),
    e("TCPPartialUndo", "%llu congestion windows partially recovered using Hoe heuristic", OptNumber),
    e("TCPPrequeued", "%llu packets directly queued to recvmsg prequeue", OptNumber),
    e("TCPPrequeueDropped", "%llu packets dropped from prequeue", OptNumber),
    e("TCPPureAcks", "%llu acknowledgments not containing data payload received", OptNumber),
    e("TCPRcvCollapsed", "%llu packets collapsed in receive queue due to low socket buffer", OptNumber),
    e("TCPRenoFailures", "%llu timeouts after reno fast retransmit", OptNumber),
    e("TCPRenoRecoveryFailed", "%llu reno fast retransmits failed", OptNumber),
    e("TCPRenoRecoveryFail", "%llu classic Reno fast retransmits failed", OptNumber),
    e("TCPRenoRecovery", "%llu times recovered from packet loss due to fast retransmit", OptNumber),
    e("TCPRenoReorder", "Detected reordering %llu times using reno fast retransmit", OptNumber),
    e("TCPSackFailures", "%llu timeouts after SACK recovery", OptNumber),
    e("TCPSackRecoveryFail", "%llu SACK retransmits failed", OptNumber),
    e("TCPSackRecovery", "%llu times recovered from packet loss by selective acknowledgements", OptNumber),
    e("TCPSACKReneging", "%llu bad SACK blocks received", OptNumber),
    e("TCPSACKReorder", "Detected reordering %llu times using SACK", OptNumber),
    e("TCPSchedulerFailed", "%llu times receiver scheduled too late for direct processing", OptNumber),
    e("TCPSlowStartRetrans", "%llu retransmits in slow start", OptNumber),
    e("TCPTimeouts", "%llu other TCP timeouts", OptNumber),
    e("TCPTSReorder", "Detected reordering %llu times using time stamp", OptNumber),
    e("TWKilled", "%llu TCP sockets finished time wait in slow timer", OptNumber),
    e("TW", "%llu TCP sockets finished time wait in fast timer", OptNumber),
    e("TWRecycled", "%llu time wait sockets recycled by time stamp", OptNumber),
];
#[rustfmt::skip]
const UDP6: &[Entry] = &[
    e("Udp6InDatagrams", "%llu packets received", Number),
    e("Udp6InErrors", "%llu packet receive errors", Number),
    e("Udp6NoPorts", "%llu packets to unknown port received", Number),
    e("Udp6OutDatagrams", "%llu packets sent", Number),
];
#[rustfmt::skip]
const UDP: &[Entry] = &[
    e("InDatagrams", "%llu packets received", Number),
    e("InErrors", "%llu packet receive errors", Number),
    e("NoPorts", "%llu packets to unknown port received", Number),
    e("OutDatagrams", "%llu packets sent", Number),
    e("RcvbufErrors", "%llu receive buffer errors", Number),
    e("SndbufErrors", "%llu send buffer errors", Number),
];
#[rustfmt::skip]
const TCP: &[Entry] = &[
    e("ActiveOpens", "%llu active connection openings", Number),
    e("AttemptFails", "%llu failed connection attempts", Number),
    e("CurrEstab", "%llu connections established", Number),
    e("EstabResets", "%llu connection resets received", Number),
    e("InErrs", "%llu bad segments received", Number),
    e("InSegs", "%llu segments received", Number),
    e("MaxConn", "", Silent),
    e("OutRsts", "%llu resets sent", Number),
    e("OutSegs", "%llu segments sent out", Number),
    e("PassiveOpens", "%llu passive connection openings", Number),
    e("RetransSegs", "%llu segments retransmitted", Number),
    e("RtoAlgorithm", "RTO algorithm is %s", Static),
    e("RtoMax", "", Silent),
    e("RtoMin", "", Silent),
];
#[rustfmt::skip]
const ICMP6: &[Entry] = &[
    e("Icmp6InDestUnreachs", "destination unreachable: %llu", InHist),
    e("Icmp6InEchoReplies", "echo replies: %llu", InHist),
    e("Icmp6InEchos", "echo requests: %llu", InHist),
    e("Icmp6InErrors", "%llu input ICMP message failed", Number),
    e("Icmp6InGroupMembQueries", "group member queries: %llu", InHist),
    e("Icmp6InGroupMembReductions", "group member reductions: %llu", InHist),
    e("Icmp6InGroupMembResponses", "group member responses: %llu", InHist),
    e("Icmp6InMsgs", "%llu ICMP messages received", Number),
    e("Icmp6InNeighborAdvertisements", "neighbour advertisement: %llu", InHist),
    e("Icmp6InNeighborSolicits", "neighbour solicits: %llu", InHist),
    e("Icmp6InParmProblems", "parameter problem: %llu", InHist),
    e("Icmp6InPktTooBigs", "packets too big: %llu", InHist),
    e("Icmp6InRedirects", "redirects: %llu", InHist),
    e("Icmp6InRouterAdvertisements", "router advertisement: %llu", InHist),
    e("Icmp6InRouterSolicits", "router solicits: %llu", InHist),
    e("Icmp6InTimeExcds", "received ICMPv6 time exceeded: %llu", InHist),
    e("Icmp6OutDestUnreachs", "destination unreachable: %llu", OutHist),
    e("Icmp6OutEchoReplies", "echo replies: %llu", OutHist),
    e("Icmp6OutEchos", "echo requests: %llu", OutHist),
    e("Icmp6OutGroupMembQueries", "group member queries: %llu", OutHist),
    e("Icmp6OutGroupMembReductions", "group member reductions: %llu", OutHist),
    e("Icmp6OutGroupMembResponses", "group member responses: %llu", OutHist),
    e("Icmp6OutMsgs", "%llu ICMP messages sent", Number),
    e("Icmp6OutNeighborAdvertisements", "neighbor advertisements: %llu", OutHist),
    e("Icmp6OutNeighborSolicits", "neighbor solicits: %llu", OutHist),
    e("Icmp6OutParmProblems", "parameter problem: %llu", OutHist),
    e("Icmp6OutPktTooBigs", "packets too big: %llu", OutHist),
    e("Icmp6OutRedirects", "redirects: %llu", OutHist),
    e("Icmp6OutRouterAdvertisements ", "router advertisement: %llu", OutHist),
    e("Icmp6OutRouterSolicits", "router solicits: %llu", OutHist),
    e("Icmp6OutTimeExcds", "sent ICMPv6 time exceeded: %llu", OutHist),
];
#[rustfmt::skip]
const ICMP: &[Entry] = &[
    e("InAddrMaskReps", "address mask replies: %llu", InHist),
    e("InAddrMasks", "address mask request: %llu", InHist),
    e("InDestUnreachs", "destination unreachable: %llu", InHist),
    e("InEchoReps", "echo replies: %llu", InHist),
    e("InEchos", "echo requests: %llu", InHist),
    e("InErrors", "%llu input ICMP message failed", Number),
    e("InMsgs", "%llu ICMP messages received", Number),
    e("InParmProbs", "wrong parameters: %llu", InHist),
    e("InRedirects", "redirects: %llu", InHist),
    e("InSrcQuenchs", "source quenches: %llu", InHist),
    e("InTimeExcds", "timeout in transit: %llu", InHist),
    e("InTimestampReps", "timestamp reply: %llu", InHist),
    e("InTimestamps", "timestamp request: %llu", InHist),
    e("OutAddrMaskReps", "address mask replies: %llu", OutHist),
    e("OutAddrMasks", "address mask requests: %llu", OutHist),
    e("OutDestUnreachs", "destination unreachable: %llu", OutHist),
    e("OutEchoReps", "echo replies: %llu", OutHist),
    e("OutEchos", "echo requests: %llu", OutHist),
    e("OutErrors", "%llu ICMP messages failed", Number),
    e("OutMsgs", "%llu ICMP messages sent", Number),
    e("OutParmProbs", "wrong parameters: %llu", OutHist),
    e("OutRedirects", "redirect: %llu", OutHist),
    e("OutSrcQuenchs", "source quench: %llu", OutHist),
    e("OutTimeExcds", "time exceeded: %llu", OutHist),
    e("OutTimestampReps", "timestamp replies: %llu", OutHist),
    e("OutTimestamps", "timestamp requests: %llu", OutHist),
];
#[rustfmt::skip]
const IP6: &[Entry] = &[
    e("Ip6FragCreates", "%llu fragments created", OptNumber),
    e("Ip6FragFails", "%llu outgoing packets failed fragmentation", OptNumber),
    e("Ip6FragOKs", "%llu outgoing packets fragmented ok", OptNumber),
    e("Ip6InAddrErrors", "%llu with invalid addresses", OptNumber),
    e("Ip6InDelivers", "%llu incoming packets delivered", Number),
    e("Ip6InDiscards", "%llu incoming packets discarded", Number),
    e("Ip6InHdrErrors", "%llu with invalid headers", OptNumber),
    e("Ip6InMcastPkts", "%llu incoming multicast packets", OptNumber),
    e("Ip6InNoRoutes", "%llu incoming packets with no route", OptNumber),
    e("Ip6InReceives", "%llu total packets received", Number),
    e("Ip6InTooBigErrors", "%llu with packets too big", OptNumber),
    e("Ip6InTruncatedPkts", "%llu with truncated packets", OptNumber),
    e("Ip6InUnknownProtos", "%llu with unknown protocol", OptNumber),
    e("Ip6OutDiscards", "%llu outgoing packets dropped", OptNumber),
    e("Ip6OutForwDatagrams", "%llu forwarded", Number),
    e("Ip6OutMcastPkts", "%llu outgoing multicast packets", OptNumber),
    e("Ip6OutNoRoutes", "%llu dropped because of missing route", OptNumber),
    e("Ip6OutRequests", "%llu requests sent out", Number),
    e("Ip6ReasmFails", "%llu packet reassemblies failed", OptNumber),
    e("Ip6ReasmOKs", "%llu packets reassembled ok", OptNumber),
    e("Ip6ReasmReqds", "%llu reassemblies required", OptNumber),
    e("Ip6ReasmTimeout", "%llu fragments dropped after timeout", OptNumber),
];
#[rustfmt::skip]
const IP: &[Entry] = &[
    e("DefaultTTL", "Default TTL is %llu", Static),
    e("Forwarding", "Forwarding is %s", Static),
    e("ForwDatagrams", "%llu forwarded", Number),
    e("FragCreates", "%llu fragments created", OptNumber),
    e("FragFails", "%llu outgoing packets failed fragmentation", OptNumber),
    e("FragOKs", "%llu outgoing packets fragmented ok", OptNumber),
    e("InAddrErrors", "%llu with invalid addresses", OptNumber),
    e("InDelivers", "%llu incoming packets delivered", Number),
    e("InDiscards", "%llu incoming packets discarded", Number),
    e("InHdrErrors", "%llu with invalid headers", OptNumber),
    e("InReceives", "%llu total packets received", Number),
    e("InUnknownProtos", "%llu with unknown protocol", OptNumber),
    e("OutDiscards", "%llu outgoing packets dropped", OptNumber),
    e("OutNoRoutes", "%llu dropped because of missing route", OptNumber),
    e("OutRequests", "%llu requests sent out", Number),
    e("ReasmFails", "%llu packet reassemblies failed", OptNumber),
    e("ReasmOKs", "%llu packets reassembled ok", OptNumber),
    e("ReasmReqds", "%llu reassemblies required", OptNumber),
    e("ReasmTimeout", "%llu fragments dropped after timeout", OptNumber),
];
#[rustfmt::skip]
const SCTP: &[Entry] = &[
    e("SctpAborteds", "%llu Number of Aborteds ", Number),
    e("SctpActiveEstabs", "%llu Active Associations", Number),
    e("SctpChecksumErrors", "%llu Number of Packets with invalid Checksum", Number),
    e("SctpCurrEstab", "%llu Current Associations", Number),
    e("SctpFragUsrMsgs", "%llu Number of messages fragmented", Number),
    e("SctpInCtrlChunks", "%llu Number of control chunks received", Number),
    e("SctpInOrderChunks", "%llu Number of ordered chunks received", Number),
    e("SctpInSCTPPacks", "%llu Number of SCTP packets received", Number),
    e("SctpInUnorderChunks", "%llu Number of Unordered chunks received", Number),
    e("SctpOutCtrlChunks", "%llu Number of control chunks sent", Number),
    e("SctpOutOfBlues", "%llu Number of Out of Blue packets", Number),
    e("SctpOutOrderChunks", "%llu Number of ordered chunks sent", Number),
    e("SctpOutSCTPPacks", "%llu Number of SCTP packets sent", Number),
    e("SctpOutUnorderChunks", "%llu Number of Unordered chunks sent", Number),
    e("SctpPassiveEstabs", "%llu Passive Associations", Number),
    e("SctpReasmUsrMsgs", "%llu Number of messages reassembled ", Number),
    e("SctpShutdowns", "%llu Number of Graceful Terminations", Number),
];

pub(super) struct Table {
    pub(super) name: &'static str,
    pub(super) entries: &'static [Entry],
    pub(super) proto: Proto,
}

/// netstat's `snmptabs`: the groups of net/snmp, net/netstat and net/sctp/snmp it knows.
pub(super) const SNMP_TABLES: &[Table] = &[
    Table {
        name: "Ip",
        entries: IP,
        proto: Proto::Raw,
    },
    Table {
        name: "Icmp",
        entries: ICMP,
        proto: Proto::Raw,
    },
    Table {
        name: "Tcp",
        entries: TCP,
        proto: Proto::Tcp,
    },
    Table {
        name: "Udp",
        entries: UDP,
        proto: Proto::Udp,
    },
    Table {
        name: "Sctp",
        entries: SCTP,
        proto: Proto::Sctp,
    },
    Table {
        name: "TcpExt",
        entries: TCPEXT,
        proto: Proto::Tcp,
    },
];

/// netstat's `snmp6tabs`.
pub(super) const SNMP6_TABLES: &[Table] = &[
    Table {
        name: "Ip6",
        entries: IP6,
        proto: Proto::Raw,
    },
    Table {
        name: "Icmp6",
        entries: ICMP6,
        proto: Proto::Raw,
    },
    Table {
        name: "Udp6",
        entries: UDP6,
        proto: Proto::Udp,
    },
    Table {
        name: "Tcp6",
        entries: TCP,
        proto: Proto::Tcp,
    },
];

/// C `bsearch()` with `strcmp()`, step for step (glibc's loop), so a table that is not sorted
/// misses exactly the names netstat misses.
pub(super) fn c_bsearch<'a>(entries: &'a [Entry], key: &str) -> Option<&'a Entry> {
    let (mut lo, mut hi) = (0, entries.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        match key.as_bytes().cmp(entries[mid].name.as_bytes()) {
            std::cmp::Ordering::Less => hi = mid,
            std::cmp::Ordering::Greater => lo = mid + 1,
            std::cmp::Ordering::Equal => return Some(&entries[mid]),
        }
    }
    None
}
