//! `--summary`: socket totals over a listing, in the layout of `ss -s`.

use std::io::{self, Write};

use serde::Serialize;

use crate::model::{Family, InetProto, Socket, State};

/// Socket totals for one transport, as `ss -s` tabulates them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct FamilyCount {
    pub total: u64,
    pub ipv4: u64,
    pub ipv6: u64,
}

impl FamilyCount {
    fn add(&mut self, family: Family) {
        self.total += 1;
        match family {
            Family::V4 => self.ipv4 += 1,
            Family::V6 => self.ipv6 += 1,
        }
    }
}

/// The TCP line of `ss -s`, plus every state's count.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct TcpSummary {
    /// Every TCP socket listed, TIME_WAIT and request sockets included.
    pub total: u64,
    pub estab: u64,
    /// TCP sockets in CLOSE (bound, never listening or connected).
    pub closed: u64,
    /// Sockets the owning process has closed that still finish their shutdown: FIN_WAIT1,
    /// FIN_WAIT2, CLOSING or LAST_ACK without an inode.
    pub orphaned: u64,
    pub timewait: u64,
    /// Count per state, netstat's state names as keys, states with no socket left out.
    pub states: std::collections::BTreeMap<&'static str, u64>,
}

/// `--summary`: `ss -s` style totals over a socket listing.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Summary {
    /// Every socket in the listing, unix sockets included.
    pub total: u64,
    pub tcp: TcpSummary,
    pub raw: FamilyCount,
    pub udp: FamilyCount,
    pub udplite: FamilyCount,
    /// TCP sockets holding a full socket: not TIME_WAIT and not request sockets (ss's
    /// "inuse" count).
    pub tcp_inuse: FamilyCount,
    /// raw + udp + udplite + tcp_inuse.
    pub inet: FamilyCount,
    pub unix: u64,
}

/// Counts `sockets` by protocol, family and TCP state.
///
/// ss -s reads the kernel's allocation counters (/proc/net/sockstat) instead; these totals
/// count what the listing holds, so they agree with the listing the user sees.
pub fn summarize(sockets: &[Socket]) -> Summary {
    let mut s = Summary::default();
    for sock in sockets {
        s.total += 1;
        let Some(i) = sock.inet() else {
            s.unix += 1;
            continue;
        };
        let row = match i.proto {
            InetProto::Raw => &mut s.raw,
            InetProto::Udp => &mut s.udp,
            InetProto::UdpLite => &mut s.udplite,
            InetProto::Tcp => {
                tcp_state(&mut s.tcp, sock);
                if matches!(
                    sock.state,
                    State::TimeWait | State::NewSynRecv | State::SynRecv
                ) {
                    continue;
                }
                &mut s.tcp_inuse
            }
        };
        row.add(i.family);
        s.inet.add(i.family);
    }
    s
}

fn tcp_state(t: &mut TcpSummary, sock: &Socket) {
    t.total += 1;
    match sock.state {
        State::Established => t.estab += 1,
        State::Close => t.closed += 1,
        State::TimeWait => t.timewait += 1,
        State::FinWait1 | State::FinWait2 | State::Closing | State::LastAck if sock.inode == 0 => {
            t.orphaned += 1
        }
        _ => {}
    }
    *t.states.entry(sock.state.tcp_name()).or_default() += 1;
}

/// Writes `--summary` text in ss -s layout. ss's FRAG row (IP fragments, not sockets) has no
/// counterpart in a socket listing and is left out; a UDPLITE row is added when there are
/// UDP-Lite sockets.
pub fn render_summary<W: Write>(w: &mut W, s: &Summary) -> io::Result<()> {
    let t = &s.tcp;
    writeln!(w, "Total: {}", s.total)?;
    writeln!(
        w,
        "TCP:   {} (estab {}, closed {}, orphaned {}, timewait {})",
        t.total, t.estab, t.closed, t.orphaned, t.timewait
    )?;
    writeln!(w)?;
    writeln!(w, "Transport Total     IP        IPv6")?;
    let mut row = |name: &str, c: &FamilyCount| {
        writeln!(w, "{name}\t  {:<9} {:<9} {:<9}", c.total, c.ipv4, c.ipv6)
    };
    row("RAW", &s.raw)?;
    row("UDP", &s.udp)?;
    if s.udplite.total > 0 {
        row("UDPLITE", &s.udplite)?;
    }
    row("TCP", &s.tcp_inuse)?;
    row("INET", &s.inet)?;
    writeln!(w)
}

/// Writes the `--json` form of `--summary` (one object, then a newline).
pub fn render_summary_json<W: Write>(w: &mut W, s: &Summary) -> io::Result<()> {
    serde_json::to_writer(&mut *w, s)?;
    writeln!(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sock(proto: InetProto, family: Family, state: State, inode: u64) -> Socket {
        let addr = match family {
            Family::V4 => "127.0.0.1:1".parse().expect("addr"),
            Family::V6 => "[::1]:1".parse().expect("addr"),
        };
        Socket {
            state,
            recv_q: Some(0),
            send_q: Some(0),
            uid: Some(0),
            inode,
            detail: crate::model::Detail::Inet(crate::model::InetInfo {
                bound_if: 0,
                mark: None,
                cgroup_id: None,
                kernel_filtered: false,
                internals: None,
                proto,
                family,
                local: addr,
                remote: addr,
                timer: None,
            }),
        }
    }

    #[test]
    fn summary_counts_like_ss() {
        use Family::{V4, V6};
        use InetProto::{Raw, Tcp, Udp, UdpLite};
        let unix = Socket {
            state: State::Listen,
            recv_q: None,
            send_q: None,
            uid: None,
            inode: 9,
            detail: crate::model::Detail::Unix(crate::model::UnixInfo {
                kind: crate::model::UnixType::Stream,
                name: None,
                peer_inode: None,
                refcnt: None,
            }),
        };
        let socks = vec![
            sock(Tcp, V4, State::Listen, 1),
            sock(Tcp, V4, State::Established, 2),
            sock(Tcp, V6, State::Established, 3),
            sock(Tcp, V4, State::TimeWait, 0),
            sock(Tcp, V4, State::FinWait2, 0),
            sock(Tcp, V4, State::FinWait1, 4), // still owned: not an orphan
            sock(Tcp, V6, State::NewSynRecv, 0),
            sock(Tcp, V4, State::Close, 5),
            sock(Udp, V4, State::Close, 6),
            sock(Udp, V6, State::Established, 7),
            sock(Raw, V6, State::Close, 8),
            unix,
        ];
        let s = summarize(&socks);
        assert_eq!((s.total, s.unix), (12, 1));
        let t = &s.tcp;
        assert_eq!(
            (t.total, t.estab, t.closed, t.orphaned, t.timewait),
            (8, 2, 1, 1, 1)
        );
        assert_eq!(t.states.get("ESTABLISHED"), Some(&2));
        assert_eq!(t.states.get("LISTEN"), Some(&1));
        assert_eq!(t.states.get("SYN_SENT"), None);
        assert_eq!(
            s.tcp_inuse,
            FamilyCount {
                total: 6,
                ipv4: 5,
                ipv6: 1
            }
        );
        assert_eq!(
            s.udp,
            FamilyCount {
                total: 2,
                ipv4: 1,
                ipv6: 1
            }
        );
        assert_eq!(
            s.raw,
            FamilyCount {
                total: 1,
                ipv4: 0,
                ipv6: 1
            }
        );
        assert_eq!(s.udplite, FamilyCount::default());
        assert_eq!(
            s.inet,
            FamilyCount {
                total: 9,
                ipv4: 6,
                ipv6: 3
            }
        );

        let mut out = Vec::new();
        render_summary(&mut out, &s).expect("renders");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "Total: 12\n\
             TCP:   8 (estab 2, closed 1, orphaned 1, timewait 1)\n\
             \n\
             Transport Total     IP        IPv6\n\
             RAW\t  1         0         1        \n\
             UDP\t  2         1         1        \n\
             TCP\t  6         5         1        \n\
             INET\t  9         6         3        \n\
             \n"
        );

        let mut out = Vec::new();
        render_summary_json(&mut out, &summarize(&[sock(UdpLite, V4, State::Close, 1)]))
            .expect("renders");
        let v: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
        assert_eq!(v["udplite"]["ipv4"], 1);
        assert_eq!(v["inet"]["total"], 1);
        assert_eq!(v["tcp"]["states"], serde_json::json!({}));
    }
}
