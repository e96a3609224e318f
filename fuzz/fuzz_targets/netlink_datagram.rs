//! Fuzzes the sock_diag response decoders in `netlink::parse`: walks the datagram with
//! `messages`, reads the error code of every message, walks every message's attributes, and
//! decodes every SOCK_DIAG_BY_FAMILY payload as an inet record (each protocol; the family comes
//! from the payload, so v4 and v6 are both reached) and as a unix record. Inet records are
//! decoded twice, without and with internals (the tcp_info, skmeminfo, ... extension
//! attributes): both give the same record apart from `internals`, which is present only when
//! asked for, and whose tcp_info and skmeminfo are there exactly when (the last of) their
//! attributes arrived, holding as many bytes as it did.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rnetstat::fuzzing::model::{Family, InetProto};
use rnetstat::fuzzing::netlink_parse::{
    attributes, error_code, inet, messages, unix, INET_DIAG_MSG_LEN, NLMSG_HDRLEN,
    SOCK_DIAG_BY_FAMILY, UNIX_DIAG_MSG_LEN,
};
use rnetstat::fuzzing::netlink_extensions::{INET_DIAG_INFO, INET_DIAG_SKMEMINFO};

fuzz_target!(|data: &[u8]| {
    let mut seen = 0usize;
    for msg in messages(data) {
        let Ok(msg) = msg else { continue };
        seen += NLMSG_HDRLEN + msg.payload.len();
        assert!(
            seen <= data.len(),
            "messages overlap or overrun the datagram"
        );
        let _ = error_code(msg.payload);
        for (_, v) in attributes(msg.payload) {
            assert!(v.len() + 4 <= msg.payload.len());
        }
        if msg.kind != SOCK_DIAG_BY_FAMILY {
            continue;
        }
        for proto in InetProto::ALL {
            let plain = inet(msg.payload, proto, false, false);
            let full = inet(msg.payload, proto, true, false);
            assert_eq!(
                plain.is_ok(),
                full.is_ok(),
                "internals changed whether a record decodes"
            );
            let (Ok(s), Ok(mut f)) = (plain, full) else {
                continue;
            };
            assert!(msg.payload.len() >= INET_DIAG_MSG_LEN);
            let i = s.inet().expect("inet decodes an inet socket");
            assert!(i.internals.is_none(), "internals without asking");
            let want_v4 = msg.payload[0] == 2;
            assert_eq!(i.family == Family::V4, want_v4);
            assert_eq!(i.local.is_ipv4(), want_v4);
            let attrs = &msg.payload[INET_DIAG_MSG_LEN..];
            let last = |kind| attributes(attrs).filter(|(k, _)| *k == kind).last();
            let rnetstat::fuzzing::model::Detail::Inet(fi) = &mut f.detail else {
                panic!("inet decodes an inet socket");
            };
            let x = fi.internals.take().expect("internals when asked");
            assert_eq!(
                x.info.as_ref().map(|t| t.len),
                last(INET_DIAG_INFO).map(|(_, v)| v.len())
            );
            assert_eq!(x.skmeminfo.is_some(), last(INET_DIAG_SKMEMINFO).is_some());
            assert_eq!(s, f, "internals changed the rest of the record");
        }
        if unix(msg.payload).is_ok() {
            assert!(msg.payload.len() >= UNIX_DIAG_MSG_LEN);
        }
    }
});
