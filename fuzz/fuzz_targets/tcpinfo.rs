//! Fuzzes the sock_diag extension decoders (`model::tcpinfo`, collected by `netlink::tcpinfo`)
//! through `tcpinfo::fuzz` (the input as `struct tcp_info`, as skmeminfo and as an attribute
//! stream, each serialized), then
//! checks the "a field is present iff all its bytes arrived" rule of `TcpInfo::from_bytes` and
//! `SkMemInfo::from_bytes` on the first, middle and last fields of each size, and that a present
//! field holds exactly its bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rnetstat::fuzzing::model::{SkMemInfo, TcpInfo};
use rnetstat::fuzzing::netlink_extensions::fuzz;

/// A decoded field's offset, from the library's one field table.
fn off(name: &str) -> usize {
    match TcpInfo::FIELDS.iter().find(|f| f.name == name) {
        Some(f) => f.offset,
        None => panic!("no tcp_info field {name}"),
    }
}

fn u16_at(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(d.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(d.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(d: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_ne_bytes(d.get(at..at + 8)?.try_into().ok()?))
}

fuzz_target!(|data: &[u8]| {
    fuzz(data);

    let i = TcpInfo::from_bytes(data);
    assert_eq!(i.len, data.len(), "len is how many bytes arrived");
    assert_eq!(i.retransmits, data.get(off("retransmits")).copied());
    assert_eq!(i.state.is_some(), !data.is_empty());
    assert_eq!(i.snd_wscale.is_some(), data.len() > off("snd_wscale"));
    assert_eq!(i.snd_wscale.is_some(), i.rcv_wscale.is_some());
    assert_eq!(
        i.fastopen_client_fail.is_some(),
        data.len() > off("fastopen_client_fail")
    );
    assert_eq!(i.rto, u32_at(data, off("rto")));
    assert_eq!(i.rtt, u32_at(data, off("rtt")));
    assert_eq!(i.total_retrans, u32_at(data, off("total_retrans")));
    assert_eq!(i.pacing_rate, u64_at(data, off("pacing_rate")));
    assert_eq!(i.bytes_retrans, u64_at(data, off("bytes_retrans")));
    assert_eq!(i.snd_wnd, u32_at(data, off("snd_wnd")));
    assert_eq!(i.total_rto, u16_at(data, off("total_rto")));
    assert_eq!(
        i.total_rto_recoveries,
        u16_at(data, off("total_rto_recoveries"))
    );
    assert_eq!(i.received_ce_bytes, u32_at(data, off("received_ce_bytes")));

    let m = SkMemInfo::from_bytes(data);
    assert_eq!(m.rmem_alloc, u32_at(data, 0));
    assert_eq!(m.optmem, u32_at(data, 24));
    assert_eq!(m.drops, u32_at(data, 32));
});
