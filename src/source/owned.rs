//! `-N`: a namespace's TCP tables from the sockets its processes hold, instead of a dump.
//!
//! Why: by default every network namespace shares the host's TCP hash tables, and a sock_diag
//! dump of one namespace walks all of them, skipping other namespaces' sockets. Listing 100
//! namespaces walked the host's TCP sockets 100 times: 4.5–5.5× the time of listing as many
//! sockets in one namespace. The owner scan's BPF iterator visits every open descriptor once
//! anyway; in the form [`crate::procmap::bpf::TaskFiles::load_tcp`] loads, it also reads each
//! TCP socket's namespace, state, addresses, queues and uid — the fields of an
//! `inet_diag_msg` — from the socket itself ([`TcpRecord`]).
//!
//! Those records are the whole TCP table of a namespace when its own counters
//! (`/proc/net/sockstat` and `sockstat6`, read inside it) say it holds nothing else:
//! - no TIME_WAIT socket (`tw`);
//! - as many hashed TCP sockets (`inuse`, IPv4 plus IPv6) as held sockets not in CLOSE: the
//!   kernel counts a socket from connect() or listen() until it is unhashed, and nothing else;
//! - no listener with a request socket (SYN_RECV) pending: those are in the hash, but not in
//!   `inuse`.
//!
//! Every TCP socket without a descriptor — TIME_WAIT, a connection not yet accept()ed, an
//! orphan closing down, a kernel socket, one in flight over SCM_RIGHTS — makes the counts
//! differ, and that namespace is dumped as before ([`Completeness::check`]). The counters are
//! read before the records are taken and again after; both must agree with them, so a
//! TIME_WAIT born meanwhile is seen too. Like a dump (which walks the hash while it changes),
//! the result is not one instant's snapshot: a socket opened or closed during the run may be
//! listed or not.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;

use crate::model::{Detail, Family, InetInfo, InetProto, Socket, State};
use crate::procmap::bpf::TcpRecord;

use super::kernel_count;

/// A namespace's TCP counters, from its sockstat files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpCounts {
    /// Hashed TCP sockets, IPv4 (`TCP: inuse`) plus IPv6 (`TCP6: inuse`).
    pub inuse: u64,
    /// TIME_WAIT sockets (`TCP: tw`).
    pub time_wait: u64,
}

impl TcpCounts {
    /// Reads `sockstat` and `sockstat6` in `net_dir` (`/proc/thread-self/net` inside the
    /// namespace). sockstat6 is absent without IPv6, and then counts nothing.
    /// The error names the file.
    pub fn read(net_dir: &Path) -> io::Result<TcpCounts> {
        let read = |name: &str| {
            let path = net_dir.join(name);
            std::fs::read(&path)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
        };
        let mut counts = TcpCounts::default();
        counts.add(&read("sockstat")?);
        match read("sockstat6") {
            Ok(text) => counts.add(&text),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        Ok(counts)
    }

    /// Adds the `TCP:` and `TCP6:` lines of a sockstat file's text (`word value` pairs).
    fn add(&mut self, text: &[u8]) {
        for line in text.split(|&b| b == b'\n') {
            let mut words = line.split(|&b| b == b' ').filter(|w| !w.is_empty());
            let v4 = match words.next() {
                Some(b"TCP:") => true,
                Some(b"TCP6:") => false,
                _ => continue,
            };
            while let (Some(key), Some(value)) = (words.next(), words.next()) {
                let Some(n) = std::str::from_utf8(value)
                    .ok()
                    .and_then(|v| v.parse::<u64>().ok())
                else {
                    break;
                };
                match key {
                    b"inuse" => self.inuse += n,
                    b"tw" if v4 => self.time_wait += n,
                    _ => {}
                }
            }
        }
    }
}

/// Whether a namespace's held TCP sockets are all of its TCP sockets.
pub enum Completeness {
    /// They are: list the records.
    Complete,
    /// They may not be, for this reason (shown with -v): dump the namespace.
    Incomplete(String),
}

impl Completeness {
    /// Compares the counters read `before` and `after` the records were taken with the
    /// namespace's `records`.
    pub fn check(before: TcpCounts, after: TcpCounts, records: &[TcpRecord]) -> Completeness {
        let state = |r: &TcpRecord| State::from_u8(r.state);
        if before.time_wait > 0 || after.time_wait > 0 {
            return Completeness::Incomplete("TIME_WAIT sockets have no owner".into());
        }
        if records
            .iter()
            .any(|r| state(r) == State::Listen && r.syn_queue > 0)
        {
            return Completeness::Incomplete("a listener has connections in SYN_RECV".into());
        }
        let held = records.iter().filter(|r| state(r) != State::Close).count() as u64;
        if before.inuse != held || after.inuse != held {
            return Completeness::Incomplete(format!(
                "{} TCP sockets in the kernel's hash, {held} held by processes",
                after.inuse.max(before.inuse)
            ));
        }
        Completeness::Complete
    }
}

/// The socket a sock_diag dump would report for `r`, as [`super::netlink`] decodes it (no
/// timer: the records are only used without -o); `None` for sockets a dump does not list
/// (CLOSE: not hashed) or in a family it does not know.
pub fn socket(r: &TcpRecord) -> Option<Socket> {
    let state = State::from_u8(r.state);
    if state == State::Close {
        return None;
    }
    let (family, local, remote) = match i32::from(r.family) {
        libc::AF_INET => (
            Family::V4,
            Ipv4Addr::from(r.local4).into(),
            Ipv4Addr::from(r.remote4).into(),
        ),
        libc::AF_INET6 => (
            Family::V6,
            Ipv6Addr::from(r.local6).into(),
            Ipv6Addr::from(r.remote6).into(),
        ),
        _ => return None,
    };
    // tcp_diag_get_info: a listener's queues are its accept queue and its limit.
    let listener = state == State::Listen;
    let (recv_q, send_q) = if listener {
        (r.ack_backlog, 0)
    } else {
        (
            (r.rcv_nxt.wrapping_sub(r.copied_seq) as i32).max(0) as u32,
            r.write_seq.wrapping_sub(r.snd_una),
        )
    };
    Some(Socket {
        state,
        recv_q: kernel_count(recv_q),
        send_q: kernel_count(send_q),
        uid: kernel_count(r.uid),
        inode: r.inode,
        detail: Detail::Inet(InetInfo {
            proto: InetProto::Tcp,
            family,
            local: SocketAddr::new(local, r.local_port),
            remote: SocketAddr::new(remote, r.remote_port),
            timer: None,
            bound_if: r.bound_if,
            mark: None,
            cgroup_id: None,
            kernel_filtered: false,
            backlog: listener.then_some(r.max_ack_backlog),
            internals: None,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(state: u8, syn_queue: u32) -> TcpRecord {
        TcpRecord {
            local_port: 80,
            remote4: [0; 4],
            max_ack_backlog: 128,
            syn_queue,
            ..TcpRecord::for_tests(7, 1, state)
        }
    }

    #[test]
    fn counts_add_both_families_and_time_wait_from_the_ipv4_line() {
        let mut c = TcpCounts::default();
        c.add(b"sockets: used 9\nTCP: inuse 3 orphan 1 tw 2 alloc 4 mem 1\nUDP: inuse 5\n");
        c.add(b"TCP6: inuse 4\nUDP6: inuse 1\n");
        assert_eq!(
            c,
            TcpCounts {
                inuse: 7,
                time_wait: 2
            }
        );
    }

    #[test]
    fn a_namespace_is_complete_only_when_every_hashed_socket_is_held() {
        let counts = |inuse, time_wait| TcpCounts { inuse, time_wait };
        let listener = [record(10, 0)];
        let complete =
            |b, a, r: &[TcpRecord]| matches!(Completeness::check(b, a, r), Completeness::Complete);
        assert!(complete(counts(1, 0), counts(1, 0), &listener));
        assert!(
            !complete(counts(1, 1), counts(1, 0), &listener),
            "TIME_WAIT"
        );
        assert!(
            !complete(counts(1, 0), counts(1, 1), &listener),
            "TIME_WAIT born meanwhile"
        );
        assert!(
            !complete(counts(2, 0), counts(2, 0), &listener),
            "a socket nobody holds"
        );
        assert!(
            !complete(counts(1, 0), counts(2, 0), &listener),
            "changed meanwhile"
        );
        assert!(
            !complete(counts(1, 0), counts(1, 0), &[record(10, 1)]),
            "SYN_RECV"
        );
        // A held socket in CLOSE (bound, never connected) is not in the hash.
        assert!(complete(
            counts(1, 0),
            counts(1, 0),
            &[record(10, 0), record(7, 0)]
        ));
        assert!(complete(counts(0, 0), counts(0, 0), &[]));
    }

    #[test]
    fn records_become_the_sockets_a_dump_reports() {
        let mut r = record(1, 0);
        r.rcv_nxt = 1000;
        r.copied_seq = 900;
        r.write_seq = 5;
        r.snd_una = u32::MAX - 4; // wrapped: 10 unacknowledged
        let s = socket(&r).expect("ESTABLISHED is listed");
        assert_eq!((s.recv_q, s.send_q), (Some(100), Some(10)));
        assert_eq!(s.inet().map(|i| i.backlog), Some(None));
        let mut l = record(10, 0);
        l.ack_backlog = 3;
        let s = socket(&l).expect("LISTEN is listed");
        assert_eq!((s.recv_q, s.send_q), (Some(3), Some(0)));
        assert_eq!(s.inet().and_then(|i| i.backlog), Some(128));
        assert_eq!(socket(&record(7, 0)), None, "CLOSE is not dumped");
        let mut odd = record(1, 0);
        odd.copied_seq = 10; // read past rcv_nxt by a racing reader: 0, as the kernel says
        assert_eq!(socket(&odd).and_then(|s| s.recv_q), Some(0));
    }
}
