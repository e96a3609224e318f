//! Collects the per-socket extensions a sock_diag dump can carry (`--info`, `--memory`,
//! `--extended`) from an inet_diag record's attributes into the model's `Extensions`:
//! `struct tcp_info`, skmeminfo, the congestion algorithm, shutdown state, v6only, mark and
//! cgroup id. The decoded types and the tcp_info field table live in `model::tcpinfo`.
//!
//! Everything here is pure (`&[u8]` in), so fixtures and fuzzers can drive it.

use crate::model::tcpinfo::{Extensions, Shutdown, SkMemInfo, TcpInfo};

pub const INET_DIAG_INFO: u16 = 2;
pub const INET_DIAG_CONG: u16 = 4;
pub const INET_DIAG_SKMEMINFO: u16 = 7;
pub const INET_DIAG_SHUTDOWN: u16 = 8;
pub const INET_DIAG_SKV6ONLY: u16 = 11;
pub const INET_DIAG_MARK: u16 = 15;
/// Arrives as an untyped attribute in netlink-packet-sock-diag 0.5.
pub const INET_DIAG_CGROUP_ID: u16 = 21;

/// The first `N` bytes of an attribute's value, if that many arrived.
fn array<const N: usize>(v: &[u8]) -> Option<[u8; N]> {
    v.get(..N)?.try_into().ok()
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
        match kind {
            INET_DIAG_INFO => x.info = Some(TcpInfo::from_bytes(v)),
            INET_DIAG_SKMEMINFO => x.skmeminfo = Some(SkMemInfo::from_bytes(v)),
            INET_DIAG_CONG => x.cong = cong_name(v),
            INET_DIAG_SHUTDOWN => x.shutdown = v.first().copied().map(Shutdown),
            INET_DIAG_SKV6ONLY => x.v6only = v.first().map(|o| *o != 0),
            INET_DIAG_MARK => x.mark = array(v).map(u32::from_ne_bytes),
            INET_DIAG_CGROUP_ID => x.cgroup_id = array(v).map(u64::from_ne_bytes),
            _ => {}
        }
    }
    x
}

/// Fuzzing entry point: `data` as a tcp_info, as skmeminfo, and as an attribute stream, each
/// result serialized. Must never panic.
#[cfg(any(test, feature = "fuzzing"))]
pub fn fuzz(data: &[u8]) {
    let x = extensions(super::parse::attributes(data));
    let info = TcpInfo::from_bytes(data);
    let mem = SkMemInfo::from_bytes(data);
    let _ = serde_json::to_writer(std::io::sink(), &(x, info, mem));
}

#[cfg(test)]
mod tests {
    use super::*;

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
        buf.extend(attr(
            INET_DIAG_INFO,
            &crate::model::tcpinfo::tests::tcp_info_6_18()[..232],
        ));
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
            &crate::model::tcpinfo::tests::tcp_info_6_18(),
        ] {
            fuzz(data);
        }
    }
}
