//! Fuzzes the `--statistics` parsers through `stats::fuzz`: the input is parsed as
//! /proc/net/snmp (and netstat, same format), /proc/net/snmp6 and /proc/net/sctp/snmp, and
//! whatever parsed is rendered as text and JSON for three protocol selections. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rnetstat::fuzzing::stats(data);
});
