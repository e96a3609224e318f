//! Fuzzes `procnet::parse::inet_line`, the parser of /proc/net/{tcp,tcp6,udp,udp6,udplite,
//! udplite6,raw,raw6} lines. The first input byte picks the table and the clock-tick rate (0
//! included, which must not divide by zero); the rest is the line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rnetstat::fuzzing::model::{Family, InetProto};
use rnetstat::fuzzing::procnet_parse::inet_line;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, line)) = data.split_first() else {
        return;
    };
    let proto = InetProto::ALL[usize::from(sel & 3)];
    let family = if sel & 4 == 0 { Family::V4 } else { Family::V6 };
    let ticks = u64::from(sel >> 3) * 25; // 0, 25, 50, ... 775
    if let Ok(s) = inet_line(line, proto, family, ticks) {
        // A parsed record is what it says it is: right table, addresses of the file's family.
        let i = s.inet().expect("inet_line returns an inet socket");
        assert_eq!((i.proto, i.family), (proto, family));
        let v4 = family == Family::V4;
        assert_eq!(i.local.is_ipv4(), v4);
        assert_eq!(i.remote.is_ipv4(), v4);
    }
});
