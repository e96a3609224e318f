//! Replays dump datagrams captured from a real kernel (Linux 6.18, by
//! `examples/capture_seeds.rs`; the fuzz targets start from the same files) through
//! [`Netlink::dump`]'s read-ahead path and the decoder behind it, as they arrived and cut into
//! one datagram per message. Each capture holds the capturing program's own sockets, so what it
//! must decode to is known: the states and ports below were read off the capture's headers.

use super::*;
use crate::model::State;

const SEEDS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/seeds/netlink_datagram");

fn seed(name: &str) -> Vec<u8> {
    std::fs::read(format!("{SEEDS}/{name}")).unwrap_or_else(|e| panic!("{SEEDS}/{name}: {e}"))
}

/// Every message of `capture` as a datagram of its own.
fn one_message_each(capture: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = capture;
    while rest.len() >= parse::NLMSG_HDRLEN {
        let len = u32::from_ne_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let step = len.div_ceil(4) * 4;
        out.push(rest[..len].to_vec());
        rest = &rest[step.min(rest.len())..];
    }
    out
}

/// A conversation whose read-ahead already holds `datagrams`, a whole dump with sequence `seq`.
fn held(table: Table, internals: bool, seq: u32, datagrams: Vec<Vec<u8>>) -> (Netlink, Query) {
    let query = Query {
        states: State::KNOWN_MASK,
        bytecode: None,
        internals,
        labels: false,
    };
    let mut nl = Netlink::open(table).expect("a NETLINK_SOCK_DIAG socket");
    nl.ahead = Some(ReadAhead {
        table,
        query: query.clone(),
        seq,
        datagrams,
        error: None,
        ended: true,
    });
    (nl, query)
}

/// The sockets a held dump decodes to, through `Netlink::dump`.
fn replay(table: Table, internals: bool, datagrams: Vec<Vec<u8>>) -> (Vec<Socket>, Served) {
    let seq = datagrams
        .first()
        .and_then(|d| parse::messages(d).next())
        .and_then(Result::ok)
        .map(|m| m.seq)
        .expect("a captured message");
    let (mut nl, query) = held(table, internals, seq, datagrams);
    let mut got = Vec::new();
    let mut sink = |s: &Socket| {
        got.push(s.clone());
        Ok(())
    };
    let served = nl
        .dump(table, &query, &mut sink, None)
        .expect("the capture decodes");
    (got, served)
}

/// (state, local port, remote port) of each socket, in dump order.
fn ports(sockets: &[Socket]) -> Vec<(State, u16, u16)> {
    sockets
        .iter()
        .map(|s| {
            let i = s.inet().expect("an inet socket");
            (s.state, i.local.port(), i.remote.port())
        })
        .collect()
}

fn check(file: &str, table: Table, internals: bool, want: &[(State, u16, u16)]) -> Vec<Socket> {
    let capture = seed(file);
    let (whole, served) = replay(table, internals, vec![capture.clone()]);
    assert_eq!(ports(&whole), want, "{file}");
    assert!(served.skipped.is_empty(), "{file}: {:?}", served.skipped);
    let (split, _) = replay(table, internals, one_message_each(&capture));
    assert_eq!(
        split, whole,
        "{file}: one datagram per message decodes the same"
    );
    whole
}

use State::{Close, Established, Listen};

#[test]
fn tcp4_capture_replays_two_listeners_and_a_connection() {
    let t = Table::Inet(InetProto::Tcp, Family::V4);
    let got = check(
        "tcp4.bin",
        t,
        false,
        &[
            (Listen, 2024, 0),
            (Listen, 43725, 0),
            (Established, 56976, 43725),
            (Established, 43725, 56976),
        ],
    );
    assert!(got.iter().all(|s| s.table() == t && s.inode != 0));
}

#[test]
fn tcp4_capture_with_extensions_carries_tcp_info_of_its_length() {
    let got = check(
        "tcp4-ext.bin",
        Table::Inet(InetProto::Tcp, Family::V4),
        true,
        &[
            (Listen, 2024, 0),
            (Listen, 42879, 0),
            (Established, 52592, 42879),
            (Established, 42879, 52592),
        ],
    );
    for s in &got {
        let x = s.inet().and_then(|i| i.internals.as_ref());
        let x = x.expect("internals were asked for and sent");
        // Linux 6.18 sends 280 bytes of tcp_info; every record has its memory and congestion.
        assert_eq!(x.info.as_ref().map(|t| t.len), Some(280));
        assert!(x.skmeminfo.is_some());
        assert!(x.cong.is_some());
    }
}

#[test]
fn tcp6_captures_replay_with_and_without_extensions() {
    let t = Table::Inet(InetProto::Tcp, Family::V6);
    let got = check(
        "tcp6.bin",
        t,
        false,
        &[
            (Listen, 39569, 0),
            (Established, 39569, 46258),
            (Established, 46258, 39569),
        ],
    );
    assert!(got
        .iter()
        .all(|s| s.inet().is_some_and(|i| i.local.is_ipv6())));
    check(
        "tcp6-ext.bin",
        t,
        true,
        &[
            (Listen, 45193, 0),
            (Established, 51826, 45193),
            (Established, 45193, 51826),
        ],
    );
}

#[test]
fn udp_captures_replay_unconnected_and_connected_sockets() {
    check(
        "udp4.bin",
        Table::Inet(InetProto::Udp, Family::V4),
        false,
        &[(Close, 45493, 0), (Established, 55812, 45493)],
    );
    check(
        "udp6.bin",
        Table::Inet(InetProto::Udp, Family::V6),
        false,
        &[(Close, 53544, 0)],
    );
}

#[test]
fn a_done_carrying_enoent_is_unsupported_so_proc_takes_over() {
    // The capturing kernel has no raw-socket diag: it answers the dump with a lone NLMSG_DONE
    // whose code is -ENOENT. Read as "no sockets" that would hide every raw socket.
    let table = Table::Inet(InetProto::Raw, Family::V4);
    let (mut nl, query) = held(table, false, 1, vec![seed("raw4.bin")]);
    let r = nl.dump(table, &query, &mut |_| Ok(()), None);
    match r {
        Err(e @ SourceError::Unsupported { errno, .. }) => {
            assert_eq!(errno, libc::ENOENT);
            assert!(e.wants_fallback());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unix_capture_replays_every_record_with_its_names() {
    let capture = seed("unix.bin");
    let (whole, served) = replay(Table::Unix, false, vec![capture.clone()]);
    assert_eq!(whole.len(), 7, "seven records before the DONE");
    assert!(served.skipped.is_empty(), "{:?}", served.skipped);
    assert!(whole
        .iter()
        .all(|s| s.table() == Table::Unix && s.inode != 0));
    // The capture holds a path with a space and an abstract name with a NUL in it.
    let names: Vec<_> = whole
        .iter()
        .filter_map(|s| match &s.detail {
            crate::model::Detail::Unix(u) => u.name.clone(),
            _ => None,
        })
        .collect();
    assert!(names.len() >= 2, "named sockets: {names:?}");
    let (split, _) = replay(Table::Unix, false, one_message_each(&capture));
    assert_eq!(split, whole);
}

#[test]
fn a_capture_without_its_done_is_an_error_not_a_short_listing() {
    let capture = seed("tcp4.bin");
    let mut messages = one_message_each(&capture);
    messages.pop(); // the DONE
    let table = Table::Inet(InetProto::Tcp, Family::V4);
    let (mut nl, query) = held(table, false, 1, messages);
    let r = nl.dump(table, &query, &mut |_| Ok(()), None);
    assert!(matches!(r, Err(SourceError::Netlink { .. })), "{r:?}");
}

/// `capture`'s records (not its DONE) as messages of `kind` with sequence `seq` and `flags`.
fn records_as(capture: &[u8], kind: u16, seq: u32, flags: u16) -> Vec<u8> {
    let mut out = Vec::new();
    for mut m in one_message_each(capture) {
        if u16::from_ne_bytes([m[4], m[5]]) != parse::SOCK_DIAG_BY_FAMILY {
            continue;
        }
        m[4..6].copy_from_slice(&kind.to_ne_bytes()); // nlmsg_type
        m[6..8].copy_from_slice(&flags.to_ne_bytes()); // nlmsg_flags
        m[8..12].copy_from_slice(&seq.to_ne_bytes()); // nlmsg_seq
        m.resize(m.len().div_ceil(4) * 4, 0);
        out.extend(m);
    }
    out
}

/// A DONE with code 0 for dump `seq`.
fn done(seq: u32) -> Vec<u8> {
    let mut d = Vec::new();
    d.extend(20u32.to_ne_bytes()); // nlmsg_len
    d.extend(parse::NLMSG_DONE.to_ne_bytes()); // nlmsg_type
    d.extend(2u16.to_ne_bytes()); // nlmsg_flags: NLM_F_MULTI
    d.extend(seq.to_ne_bytes()); // nlmsg_seq
    d.extend(0u32.to_ne_bytes()); // nlmsg_pid
    d.extend(0i32.to_ne_bytes()); // the code
    d
}

/// The legacy request's answer: records of type TCPDIAG_GETSOCK of both families, one
/// interrupted, one IPv6 record cut short. The decoder hands both families to the sink in walk
/// order, ignores records of another type, and says for each table what the per-table dumps
/// would have said: the cut record skipped in tcp6's entry, the interruption in both.
#[test]
fn the_legacy_tcp_answer_decodes_both_families_and_serves_each_table() {
    let seq = 5;
    let mut datagram = records_as(&seed("tcp6.bin"), parse::TCPDIAG_GETSOCK, seq, 2);
    datagram.extend(records_as(
        &seed("tcp4.bin"),
        parse::TCPDIAG_GETSOCK,
        seq,
        2 | parse::NLM_F_DUMP_INTR,
    ));
    // A SOCK_DIAG_BY_FAMILY record is not part of this dump.
    datagram.extend(records_as(
        &seed("udp4.bin"),
        parse::SOCK_DIAG_BY_FAMILY,
        seq,
        2,
    ));
    // An IPv6 record too short to be an inet_diag_msg.
    let mut cut = Vec::new();
    cut.extend(24u32.to_ne_bytes()); // nlmsg_len: 8 bytes of payload
    cut.extend(parse::TCPDIAG_GETSOCK.to_ne_bytes());
    cut.extend(2u16.to_ne_bytes());
    cut.extend(seq.to_ne_bytes());
    cut.extend(0u32.to_ne_bytes());
    cut.extend([10, 1, 0, 0, 0, 0, 0, 0]); // AF_INET6, ESTABLISHED, then nothing
    datagram.extend(cut);
    datagram.extend(done(seq));

    let query = Query {
        states: State::KNOWN_MASK,
        ..Query::default()
    };
    let mut got = Vec::new();
    let mut sink = |s: &Socket| {
        got.push(s.clone());
        Ok(())
    };
    let mut dec = Decoder {
        table: Table::Inet(InetProto::Tcp, Family::V4),
        query: &query,
        seq,
        record: parse::TCPDIAG_GETSOCK,
        prefetch: None,
        sink: &mut sink,
        served: Served::new(Table::Inet(InetProto::Tcp, Family::V4), SourceKind::Netlink),
        served6: Some(Served::new(
            Table::Inet(InetProto::Tcp, Family::V6),
            SourceKind::Netlink,
        )),
    };
    assert!(matches!(dec.feed(&datagram), Some(Ok(()))));
    let (served, served6) = (dec.served, dec.served6.expect("tcp6's entry"));
    assert_eq!(
        ports(&got),
        [
            (Listen, 39569, 0),
            (Established, 39569, 46258),
            (Established, 46258, 39569),
            (Listen, 2024, 0),
            (Listen, 43725, 0),
            (Established, 56976, 43725),
            (Established, 43725, 56976),
        ]
    );
    let families: Vec<_> = got.iter().map(|s| s.table()).collect();
    assert_eq!(
        families,
        [
            [Table::Inet(InetProto::Tcp, Family::V6); 3].as_slice(),
            &[Table::Inet(InetProto::Tcp, Family::V4); 4],
        ]
        .concat()
    );
    assert!(served.skipped.is_empty(), "{:?}", served.skipped);
    assert_eq!(served6.skipped.len(), 1, "{:?}", served6.skipped);
    assert!(served6.skipped[0].starts_with("netlink tcp6 record"));
    assert!(served.interrupted && served6.interrupted);
}
