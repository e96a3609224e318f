//! Fuzzes the sock_diag response decoders in `netlink::parse`: walks the datagram with
//! `messages`, reads the error code of every message, walks every message's attributes, and
//! decodes every SOCK_DIAG_BY_FAMILY payload as an inet record (each protocol; the family comes
//! from the payload, so v4 and v6 are both reached) and as a unix record.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rnetstat::model::{Family, InetProto};
use rnetstat::source::netlink::parse::{
    attributes, error_code, inet, messages, unix, INET_DIAG_MSG_LEN, NLMSG_HDRLEN,
    SOCK_DIAG_BY_FAMILY, UNIX_DIAG_MSG_LEN,
};

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
            if let Ok(s) = inet(msg.payload, proto) {
                assert!(msg.payload.len() >= INET_DIAG_MSG_LEN);
                let i = s.inet().expect("inet decodes an inet socket");
                let want_v4 = msg.payload[0] == 2;
                assert_eq!(i.family == Family::V4, want_v4);
                assert_eq!(i.local.is_ipv4(), want_v4);
                for (_, v) in attributes(&msg.payload[INET_DIAG_MSG_LEN..]) {
                    let _ = v.len();
                }
            }
        }
        if unix(msg.payload).is_ok() {
            assert!(msg.payload.len() >= UNIX_DIAG_MSG_LEN);
        }
    }
});
