//! Fuzzes `procnet::parse::unix_line`, the parser of /proc/net/unix lines.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rnetstat::fuzzing::model::UnixName;
use rnetstat::fuzzing::procnet_parse::unix_line;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = unix_line(data) {
        let u = s.unix().expect("unix_line returns a unix socket");
        // The name is a sub-slice of the line, never invented.
        if let Some(UnixName::Path(p) | UnixName::Abstract(p)) = &u.name {
            assert!(p.len() < data.len());
        }
    }
});
