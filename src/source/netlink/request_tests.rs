//! Golden bytes of every request the netlink source sends, one commented field at a time, so a
//! change of crate version or of our own request building cannot change what the kernel is asked
//! without a test saying so. Multi-byte fields are in host order (little-endian here) except the
//! ports of the socket id, which the kernel keeps in network order.
#![cfg(target_endian = "little")]

use super::*;

fn query(states: u32, internals: bool, bytecode: Option<Vec<u8>>) -> Query {
    Query {
        states,
        bytecode,
        internals,
        labels: false,
    }
}

/// The 16-byte nlmsghdr every request starts with.
fn header(len: u32, seq: u32) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend(len.to_le_bytes()); // nlmsg_len: the whole request
    h.extend([20, 0]); // nlmsg_type: SOCK_DIAG_BY_FAMILY
    h.extend([0x01, 0x03]); // nlmsg_flags: NLM_F_REQUEST | NLM_F_DUMP (0x301)
    h.extend(seq.to_le_bytes()); // nlmsg_seq
    h.extend([0, 0, 0, 0]); // nlmsg_pid: the kernel fills in ours
    h
}

/// An inet_diag_req_v2 (56 bytes) after the header.
fn inet_request(family: u8, protocol: u8, ext: u8, raw_protocol: u8, states: u32) -> Vec<u8> {
    // sdiag_family, sdiag_protocol, idiag_ext (extension bits), sdiag_raw_protocol (the pad)
    let mut r = vec![family, protocol, ext, raw_protocol];
    r.extend(states.to_le_bytes()); // idiag_states: one bit per TCP_* state
    r.extend([0; 2]); // id.idiag_sport (network order): any
    r.extend([0; 2]); // id.idiag_dport: any
    r.extend([0; 16]); // id.idiag_src: any
    r.extend([0; 16]); // id.idiag_dst: any
    r.extend([0; 4]); // id.idiag_if: any interface
    r.extend([0; 8]); // id.idiag_cookie: unused by dumps
    r
}

#[test]
fn tcp4_dump_asks_for_every_state_without_extensions() {
    let got = dump_request(
        Table::Inet(InetProto::Tcp, Family::V4),
        &query(0x0fff, false, None),
        7,
    )
    .expect("builds");
    let mut want = header(72, 7);
    want.extend(inet_request(2, 6, 0, 0, 0x0fff)); // AF_INET, IPPROTO_TCP
    assert_eq!(got, want);
}

#[test]
fn tcp6_dump_with_internals_asks_for_info_cong_skmeminfo_and_shutdown() {
    let got = dump_request(
        Table::Inet(InetProto::Tcp, Family::V6),
        &query(1 << 10, true, None),
        1,
    )
    .expect("builds");
    let mut want = header(72, 1);
    // AF_INET6, IPPROTO_TCP; ext = 1<<(INET_DIAG_INFO-1) | 1<<(INET_DIAG_CONG-1)
    //                             | 1<<(INET_DIAG_SKMEMINFO-1) | 1<<(INET_DIAG_SHUTDOWN-1)
    want.extend(inet_request(10, 6, 2 | 8 | 64 | 128, 0, 1 << 10));
    assert_eq!(got, want);
}

#[test]
fn internals_are_asked_for_tcp_only() {
    let got = dump_request(
        Table::Inet(InetProto::Udp, Family::V4),
        &query(0x0fff, true, None),
        3,
    )
    .expect("builds");
    let mut want = header(72, 3);
    want.extend(inet_request(2, 17, 0, 0, 0x0fff)); // AF_INET, IPPROTO_UDP, no extensions
    assert_eq!(got, want);
}

#[test]
fn raw_dump_names_every_raw_protocol_in_the_pad_byte() {
    let got = dump_request(
        Table::Inet(InetProto::Raw, Family::V4),
        &query(0x0fff, false, None),
        2,
    )
    .expect("builds");
    let mut want = header(72, 2);
    // AF_INET, IPPROTO_RAW as the diag protocol and as sdiag_raw_protocol: every raw socket
    want.extend(inet_request(2, 255, 0, 255, 0x0fff));
    assert_eq!(got, want);
}

#[test]
fn udplite_dump_uses_its_own_protocol_number() {
    let got = dump_request(
        Table::Inet(InetProto::UdpLite, Family::V6),
        &query(0x0fff, false, None),
        4,
    )
    .expect("builds");
    let mut want = header(72, 4);
    want.extend(inet_request(10, 136, 0, 0, 0x0fff)); // AF_INET6, IPPROTO_UDPLITE
    assert_eq!(got, want);
}

#[test]
fn bytecode_follows_the_request_as_a_padded_attribute() {
    let got = dump_request(
        Table::Inet(InetProto::Udp, Family::V4),
        &query(1 << 7, false, Some(vec![1, 2, 3, 4, 5, 6])),
        9,
    )
    .expect("builds");
    let mut want = header(84, 9); // 16 + 56 + 4 (rtattr) + 6 (code) + 2 (padding to 4)
    want.extend(inet_request(2, 17, 0, 0, 1 << 7)); // AF_INET, IPPROTO_UDP, TCP_CLOSE only
    want.extend([10, 0]); // rta_len: 4 + 6 bytes of code (padding not counted)
    want.extend([1, 0]); // rta_type: INET_DIAG_REQ_BYTECODE
    want.extend([1, 2, 3, 4, 5, 6]); // the code
    want.extend([0, 0]); // padding to a 4-byte boundary
    assert_eq!(got, want);
}

#[test]
fn bytecode_longer_than_an_attribute_can_hold_is_refused() {
    let too_long = vec![0u8; usize::from(u16::MAX)];
    let got = dump_request(
        Table::Inet(InetProto::Tcp, Family::V4),
        &query(0x0fff, false, Some(too_long)),
        1,
    );
    assert!(got.is_err());
}

#[test]
fn unix_dump_asks_for_name_peer_queue_uid_and_the_accept_queue() {
    let got = dump_request(Table::Unix, &query(0x0fff, false, None), 5).expect("builds");
    let mut want = header(40, 5);
    want.extend([1, 0, 0, 0]); // sdiag_family AF_UNIX, sdiag_protocol 0, pad
    want.extend(0x0fffu32.to_le_bytes()); // udiag_states
    want.extend([0; 4]); // udiag_ino: any
                         // udiag_show: NAME | PEER | ICONS (a listener's queued connections) | RQLEN | UID
    want.extend((0x01u32 | 0x04 | 0x08 | 0x10 | 0x40).to_le_bytes());
    want.extend([0xff; 8]); // udiag_cookie: INET_DIAG_NOCOOKIE
    assert_eq!(got, want);
}

/// Without -a only non-listening sockets are wanted, but a queued connection is seen only
/// through its listener: listeners are asked for too (and dropped after decoding).
#[test]
fn a_unix_dump_for_connections_asks_for_listeners_and_their_queue() {
    let established = 1u32 << 1;
    let got = dump_request(Table::Unix, &query(established, false, None), 6).expect("builds");
    assert_eq!(&got[20..24], &(established | 1 << 10).to_le_bytes()); // + TCP_LISTEN
    assert_eq!(
        &got[28..32],
        &(0x01u32 | 0x04 | 0x08 | 0x10 | 0x40).to_le_bytes()
    );
    let listening = 1u32 << 10;
    let got = dump_request(Table::Unix, &query(listening, false, None), 7).expect("builds");
    assert_eq!(&got[20..24], &listening.to_le_bytes());
    assert_eq!(&got[28..32], &(0x01u32 | 0x04 | 0x10 | 0x40).to_le_bytes()); // no ICONS
}

/// The legacy TCPDIAG_GETSOCK request for both TCP tables: a 16-byte header of type 18 and a
/// 60-byte `struct inet_diag_req`.
fn tcp_both(len: u32, seq: u32, ext: u8, states: u32) -> Vec<u8> {
    let mut r = Vec::new();
    r.extend(len.to_le_bytes()); // nlmsg_len: the whole request
    r.extend([18, 0]); // nlmsg_type: TCPDIAG_GETSOCK
    r.extend([0x01, 0x03]); // nlmsg_flags: NLM_F_REQUEST | NLM_F_DUMP (0x301)
    r.extend(seq.to_le_bytes()); // nlmsg_seq
    r.extend([0, 0, 0, 0]); // nlmsg_pid: the kernel fills in ours
    r.push(2); // idiag_family: AF_INET as ss sends it (a dump asks for every family)
    r.push(0); // idiag_src_len: unused
    r.push(0); // idiag_dst_len: unused
    r.push(ext); // idiag_ext: extension bits, as in inet_diag_req_v2
    r.extend([0; 2]); // id.idiag_sport (network order): any
    r.extend([0; 2]); // id.idiag_dport: any
    r.extend([0; 16]); // id.idiag_src: any
    r.extend([0; 16]); // id.idiag_dst: any
    r.extend([0; 4]); // id.idiag_if: any interface
    r.extend([0; 8]); // id.idiag_cookie: unused by dumps
    r.extend(states.to_le_bytes()); // idiag_states: one bit per TCP_* state
    r.extend([0; 4]); // idiag_dbs: unused
    r
}

#[test]
fn tcp_both_dump_is_the_legacy_request_with_the_states_asked() {
    let got = tcp_both_request(&query(0x0fff, false, None), 11).expect("builds");
    assert_eq!(got, tcp_both(76, 11, 0, 0x0fff)); // 16 + 60
}

#[test]
fn tcp_both_dump_with_internals_and_bytecode_asks_as_the_per_table_dumps_do() {
    let got =
        tcp_both_request(&query(1 << 10, true, Some(vec![9, 8, 7, 6, 5])), 12).expect("builds");
    // 16 + 60 + 4 (rtattr) + 5 (code) + 3 (padding to 4);
    // ext = INFO | CONG | SKMEMINFO | SHUTDOWN, as tcp6_dump_with_internals_… above
    let mut want = tcp_both(88, 12, 2 | 8 | 64 | 128, 1 << 10);
    want.extend([9, 0]); // rta_len: 4 + 5 bytes of code (padding not counted)
    want.extend([1, 0]); // rta_type: INET_DIAG_REQ_BYTECODE
    want.extend([9, 8, 7, 6, 5]); // the code
    want.extend([0, 0, 0]); // padding to a 4-byte boundary
    assert_eq!(got, want);
    // The same program and extensions as a per-table request carries.
    let v2 = dump_request(
        Table::Inet(InetProto::Tcp, Family::V6),
        &query(1 << 10, true, Some(vec![9, 8, 7, 6, 5])),
        12,
    )
    .expect("builds");
    assert_eq!(got[19], v2[18], "idiag_ext");
    assert_eq!(&got[76..], &v2[72..], "the bytecode attribute");
}

#[test]
fn tcp_both_bytecode_longer_than_an_attribute_can_hold_is_refused() {
    let too_long = vec![0u8; usize::from(u16::MAX)];
    assert!(tcp_both_request(&query(0x0fff, false, Some(too_long)), 1).is_err());
}
