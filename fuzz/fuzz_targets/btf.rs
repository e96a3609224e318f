//! Fuzzes the BTF reader in `procmap::btf` (what the BPF owner iterator trusts for struct
//! offsets): any bytes as a `/sys/kernel/btf/vmlinux` blob, then every lookup the iterator makes.
//! Every lookup must end without a panic (the walk over anonymous members and array nesting is
//! bounded), and a member found has an offset that came from a 32-bit bit offset.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rnetstat::fuzzing::bpf::BTF_NAMES;
use rnetstat::fuzzing::btf::Btf;

/// The iterator's own lookups (all of them in `BTF_NAMES`), plus one that names nothing.
const LOOKUPS: [(&str, &str); 10] = [
    ("bpf_iter__task_file", "meta"),
    ("bpf_iter__task_file", "task"),
    ("bpf_iter__task_file", "fd"),
    ("bpf_iter__task_file", "file"),
    ("bpf_iter_meta", "seq"),
    ("file", "f_inode"),
    ("inode", "i_mode"),
    ("inode", "i_ino"),
    ("task_struct", "tgid"),
    ("inode", "tgid"),
];

fuzz_target!(|data: &[u8]| {
    let Ok(btf) = Btf::parse(data, &BTF_NAMES) else { return };
    let _ = btf.func("bpf_iter_task_file");
    for (strukt, member) in LOOKUPS {
        if let Ok(m) = btf.member(strukt, member) {
            // Offsets are bytes of a bit offset that fits in u32.
            assert!(u64::from(m.offset) * 8 <= u64::from(u32::MAX));
        }
    }
});
