//! Just enough of the kernel's BTF (BPF Type Format) to find where a few struct members live.
//!
//! The owner iterator ([`super::bpf`]) reads `file->f_inode->i_mode`, `->i_ino` and
//! `task->tgid` directly, and the kernel's layout of those structs changes between versions
//! and configurations. The running kernel describes itself in `/sys/kernel/btf/vmlinux`; this
//! module looks member offsets and sizes up there, and the id of the iterator's attach point.
//! It reads through a [`Source`]: the kernel's file piece by piece (64 KiB at a time, plus an
//! index of 4 bytes per type), or a blob in memory, so it is tested on hand-built blobs and
//! fuzzable.
//!
//! Format: `include/uapi/linux/btf.h` and the kernel's Documentation/bpf/btf.rst.

use std::fmt;

const MAGIC: u16 = 0xeb9f;
const HEADER_LEN: usize = 24;
/// How many struct members one [`Btf::member`] lookup may look at (vmlinux needs a few hundred).
const MEMBER_VISITS: u32 = 100_000;

const KIND_INT: u32 = 1;
const KIND_PTR: u32 = 2;
const KIND_ARRAY: u32 = 3;
const KIND_STRUCT: u32 = 4;
const KIND_UNION: u32 = 5;
const KIND_ENUM: u32 = 6;
const KIND_FWD: u32 = 7;
const KIND_TYPEDEF: u32 = 8;
const KIND_VOLATILE: u32 = 9;
const KIND_CONST: u32 = 10;
const KIND_RESTRICT: u32 = 11;
const KIND_FUNC: u32 = 12;
const KIND_FUNC_PROTO: u32 = 13;
const KIND_VAR: u32 = 14;
const KIND_DATASEC: u32 = 15;
const KIND_FLOAT: u32 = 16;
const KIND_DECL_TAG: u32 = 17;
const KIND_TYPE_TAG: u32 = 18;
const KIND_ENUM64: u32 = 19;

/// Why a BTF blob could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BtfError(pub String);

impl fmt::Display for BtfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BTF: {}", self.0)
    }
}

impl std::error::Error for BtfError {}

fn err<T>(what: impl Into<String>) -> Result<T, BtfError> {
    Err(BtfError(what.into()))
}

/// One type record, decoded from its 12-byte header.
#[derive(Debug, Clone, Copy)]
struct Type {
    name_off: u32,
    kind: u32,
    vlen: usize,
    kind_flag: bool,
    /// `size` or `type`, depending on the kind.
    size_or_type: u32,
}

impl Type {
    fn decode(h: &[u8; 12]) -> Type {
        let word = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
        let info = word(4);
        Type {
            name_off: word(0),
            kind: (info >> 24) & 0x1f,
            vlen: (info & 0xffff) as usize,
            kind_flag: info >> 31 == 1,
            size_or_type: word(8),
        }
    }

    /// Bytes of kind-specific data after the header.
    fn extra(&self) -> Result<usize, BtfError> {
        Ok(match self.kind {
            KIND_INT | KIND_VAR | KIND_DECL_TAG => 4,
            KIND_PTR | KIND_FWD | KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT
            | KIND_FUNC | KIND_FLOAT | KIND_TYPE_TAG => 0,
            KIND_ARRAY => 12,
            KIND_STRUCT | KIND_UNION | KIND_DATASEC | KIND_ENUM64 => 12 * self.vlen,
            KIND_ENUM | KIND_FUNC_PROTO => 8 * self.vlen,
            other => return err(format!("unknown type kind {other}")),
        })
    }
}

/// Where BTF bytes come from: the kernel's file, read piece by piece (the blob is 5.5 MB on the
/// development machine, and holding it doubled `-p`'s memory on a small system), or a blob in
/// memory for tests and fuzzing.
pub trait Source {
    /// Fills `buf` from byte `at`, or fails if the source ends first.
    fn read_at(&self, at: u64, buf: &mut [u8]) -> Result<(), BtfError>;
    /// How many bytes the source holds.
    fn size(&self) -> Result<u64, BtfError>;
}

impl Source for [u8] {
    fn read_at(&self, at: u64, buf: &mut [u8]) -> Result<(), BtfError> {
        let start = usize::try_from(at).map_err(|_| BtfError("offset too large".into()))?;
        match start
            .checked_add(buf.len())
            .and_then(|end| self.get(start..end))
        {
            Some(src) => {
                buf.copy_from_slice(src);
                Ok(())
            }
            None => err(format!("{} bytes at {at} lie past the end", buf.len())),
        }
    }

    fn size(&self) -> Result<u64, BtfError> {
        Ok(<[u8]>::len(self) as u64)
    }
}

impl Source for std::fs::File {
    fn read_at(&self, at: u64, buf: &mut [u8]) -> Result<(), BtfError> {
        std::os::unix::fs::FileExt::read_exact_at(self, buf, at)
            .map_err(|e| BtfError(format!("reading {} bytes at {at}: {e}", buf.len())))
    }

    fn size(&self) -> Result<u64, BtfError> {
        self.metadata()
            .map(|m| m.len())
            .map_err(|e| BtfError(e.to_string()))
    }
}

/// How much of a section is read at a time while indexing.
const CHUNK: usize = 64 * 1024;

/// An index of a BTF blob's types, and of where the names asked for at parse time are.
pub struct Btf<'s, S: Source + ?Sized> {
    src: &'s S,
    /// Where the type section starts in the source.
    types_at: u64,
    /// `offsets[id - 1]` is where type `id`'s record starts in the type section (id 0 is
    /// `void`). Four bytes per type: vmlinux has ~130k of them.
    offsets: Vec<u32>,
    /// Each wanted name, with every string offset that spells it.
    wanted: Vec<(String, Vec<u32>)>,
    /// Each wanted name's first STRUCT and first FUNC type id (0: none).
    structs: Vec<u32>,
    funcs: Vec<u32>,
}

/// Where a member sits in its struct, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    pub offset: u32,
    pub size: u32,
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    let bytes = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(bytes.try_into().ok()?))
}

impl<'s, S: Source + ?Sized> Btf<'s, S> {
    /// Indexes the blob in `src` (little-endian, as on x86_64 and the other little-endian
    /// targets). Only names in `wanted` can be looked up afterwards: structs, their members and
    /// functions alike.
    pub fn parse(src: &'s S, wanted: &[&str]) -> Result<Btf<'s, S>, BtfError> {
        let total = src.size()?;
        let mut header = [0u8; HEADER_LEN];
        if total < HEADER_LEN as u64 {
            return err("shorter than its header");
        }
        src.read_at(0, &mut header)?;
        let magic = u16::from_le_bytes([header[0], header[1]]);
        if magic != MAGIC {
            return err(format!("bad magic {magic:#06x} (big-endian or not BTF)"));
        }
        let field = |i: usize| u64::from(u32_at(&header, 4 + 4 * i).unwrap_or(0));
        let (hdr_len, type_off, type_len, str_off, str_len) =
            (field(0), field(1), field(2), field(3), field(4));
        let (types_at, strings_at) = (hdr_len + type_off, hdr_len + str_off);
        if types_at + type_len > total || strings_at + str_len > total {
            return err("a section lies outside the blob");
        }
        let mut btf = Btf {
            src,
            types_at,
            offsets: Vec::new(),
            wanted: wanted.iter().map(|w| (w.to_string(), Vec::new())).collect(),
            structs: vec![0; wanted.len()],
            funcs: vec![0; wanted.len()],
        };
        btf.find_strings(strings_at, str_len)?;
        btf.index_types(type_len)?;
        Ok(btf)
    }

    /// Records where each wanted name is spelled in the string section, reading it in chunks.
    fn find_strings(&mut self, at: u64, len: u64) -> Result<(), BtfError> {
        let mut pending: Vec<u8> = Vec::new(); // a string cut by the chunk boundary
        let mut pending_at = 0u64;
        let mut buf = vec![0u8; CHUNK];
        let mut done = 0u64;
        // Bit `len` of `maybe[first byte]` is set when a wanted name has that first byte and
        // length (under 64): most of vmlinux's ~100k strings are passed over with one test
        // instead of a comparison with every wanted name.
        let mut maybe = [0u64; 256];
        for (w, _) in &self.wanted {
            if let (Some(&first), true) = (w.as_bytes().first(), w.len() < 64) {
                maybe[usize::from(first)] |= 1 << w.len();
            }
        }
        let may_be_wanted = |s: &[u8]| {
            s.first()
                .is_some_and(|&f| s.len() >= 64 || maybe[usize::from(f)] & (1 << s.len()) != 0)
        };
        while done < len {
            let n = CHUNK.min((len - done) as usize);
            self.src.read_at(at + done, &mut buf[..n])?;
            let mut start = 0;
            for (i, &b) in buf[..n].iter().enumerate() {
                if b != 0 {
                    continue;
                }
                let (string, string_at) = if pending.is_empty() {
                    (&buf[start..i], done + start as u64)
                } else {
                    pending.extend_from_slice(&buf[start..i]);
                    (&pending[..], pending_at)
                };
                if may_be_wanted(string) {
                    if let Some((_, offs)) =
                        self.wanted.iter_mut().find(|(w, _)| w.as_bytes() == string)
                    {
                        offs.push(u32::try_from(string_at).unwrap_or(u32::MAX));
                    }
                }
                pending.clear();
                start = i + 1;
            }
            if start < n {
                if pending.is_empty() {
                    pending_at = done + start as u64;
                }
                // Wanted names are short; a longer string need not be kept whole.
                if pending.len() < 256 {
                    pending.extend_from_slice(&buf[start..n]);
                }
            }
            done += n as u64;
        }
        Ok(())
    }

    /// Walks the type section in chunks: every record's offset, and the ids of wanted structs
    /// and functions.
    fn index_types(&mut self, len: u64) -> Result<(), BtfError> {
        let mut at = 0u64; // start of the next record
        let mut buf: Vec<u8> = Vec::with_capacity(CHUNK);
        let mut buf_at = 0u64; // where buf[0] is in the section
                               // Every string offset of a wanted name, sorted, with the name's index: one binary
                               // search per struct or function instead of a look at every wanted name.
        let mut by_offset: Vec<(u32, usize)> = self
            .wanted
            .iter()
            .enumerate()
            .flat_map(|(i, (_, offs))| offs.iter().map(move |&o| (o, i)))
            .collect();
        by_offset.sort_unstable();
        while at < len {
            let local = (at - buf_at) as usize;
            if buf.len() < local + 12 {
                refill(self.src, self.types_at, len, &mut buf, &mut buf_at, at)?;
                if buf.len() < 12 {
                    return err(format!("type record cut short at byte {at}"));
                }
                continue;
            }
            let header: [u8; 12] = buf[local..local + 12].try_into().unwrap_or([0; 12]);
            let t = Type::decode(&header);
            let size = 12 + t.extra()? as u64;
            if at + size > len {
                return err("the last type record runs past the type section");
            }
            let Ok(offset) = u32::try_from(at) else {
                return err("type section over 4 GiB");
            };
            self.offsets.push(offset);
            let id = self.offsets.len() as u32;
            if t.kind == KIND_STRUCT || t.kind == KIND_FUNC {
                if let Ok(k) = by_offset.binary_search_by_key(&t.name_off, |&(o, _)| o) {
                    let i = by_offset[k].1;
                    let slot = if t.kind == KIND_STRUCT {
                        &mut self.structs[i]
                    } else {
                        &mut self.funcs[i]
                    };
                    if *slot == 0 {
                        *slot = id;
                    }
                }
            }
            at += size;
        }
        Ok(())
    }

    fn wanted_index(&self, name: &str) -> Result<usize, BtfError> {
        self.wanted.iter().position(|(w, _)| w == name).map_or_else(
            || err(format!("{name} was not asked for at parse time")),
            Ok,
        )
    }

    /// The header of type `id`, and where its data starts in the source.
    fn get(&self, id: u32) -> Result<(Type, u64), BtfError> {
        let Some(&off) = (id as usize)
            .checked_sub(1)
            .and_then(|i| self.offsets.get(i))
        else {
            return err(format!("type id {id} out of range"));
        };
        let at = self.types_at + u64::from(off);
        let mut h = [0u8; 12];
        self.src.read_at(at, &mut h)?;
        Ok((Type::decode(&h), at + 12))
    }

    /// The id of function `name` (an iterator's attach point, say).
    pub fn func(&self, name: &str) -> Result<u32, BtfError> {
        match self.funcs[self.wanted_index(name)?] {
            0 => err(format!("no function {name}")),
            id => Ok(id),
        }
    }

    /// Offset and size of `strukt.member`, looking inside anonymous structs and unions.
    pub fn member(&self, strukt: &str, member: &str) -> Result<Member, BtfError> {
        let id = match self.structs[self.wanted_index(strukt)?] {
            0 => return err(format!("no struct {strukt}")),
            id => id,
        };
        let names = &self.wanted[self.wanted_index(member)?].1;
        let mut budget = MEMBER_VISITS;
        match self.member_in(id, names, 0, 0, &mut budget)? {
            Some(m) => Ok(m),
            None => err(format!("struct {strukt} has no member {member}")),
        }
    }

    fn member_in(
        &self,
        id: u32,
        names: &[u32],
        base_bits: u32,
        depth: u32,
        budget: &mut u32,
    ) -> Result<Option<Member>, BtfError> {
        if depth > 32 {
            return err("anonymous members nested too deep");
        }
        let (t, data) = self.get(id)?;
        let mut members = vec![0u8; 12 * t.vlen];
        self.src.read_at(data, &mut members)?;
        for m in members.chunks_exact(12) {
            // A crafted blob can nest a struct in itself many times over: bound the walk.
            *budget = budget
                .checked_sub(1)
                .map_or_else(|| err("too many members to search"), Ok)?;
            let word = |i: usize| u32_at(m, i).unwrap_or(0);
            let (name_off, ty, raw_off) = (word(0), word(4), word(8));
            let (bits, bitfield) = if t.kind_flag {
                (raw_off & 0x00ff_ffff, raw_off >> 24)
            } else {
                (raw_off, 0)
            };
            let bits = base_bits.saturating_add(bits);
            if names.contains(&name_off) && name_off != 0 {
                if bitfield != 0 || bits % 8 != 0 {
                    return err("the member is a bit field");
                }
                return Ok(Some(Member {
                    offset: bits / 8,
                    size: self.size_of(ty, 0)?,
                }));
            }
            if name_off == 0 {
                let inner = self.resolve(ty)?;
                if matches!(
                    self.get(inner).map(|(t, _)| t.kind),
                    Ok(KIND_STRUCT | KIND_UNION)
                ) {
                    if let Some(m) = self.member_in(inner, names, bits, depth + 1, budget)? {
                        return Ok(Some(m));
                    }
                }
            }
        }
        Ok(None)
    }

    /// Follows typedefs and qualifiers to the type they name.
    fn resolve(&self, mut id: u32) -> Result<u32, BtfError> {
        for _ in 0..64 {
            match self.get(id) {
                Ok((t, _))
                    if matches!(
                        t.kind,
                        KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT | KIND_TYPE_TAG
                    ) =>
                {
                    id = t.size_or_type;
                }
                _ => return Ok(id),
            }
        }
        err("typedef chain too long")
    }

    /// The size in bytes of a scalar, pointer or aggregate type.
    fn size_of(&self, id: u32, depth: u32) -> Result<u32, BtfError> {
        if depth > 32 {
            return err("arrays nested too deep");
        }
        let id = self.resolve(id)?;
        let (t, data) = self.get(id)?;
        match t.kind {
            KIND_INT | KIND_ENUM | KIND_ENUM64 | KIND_STRUCT | KIND_UNION | KIND_FLOAT => {
                Ok(t.size_or_type)
            }
            KIND_PTR => Ok(8),
            KIND_ARRAY => {
                let mut a = [0u8; 12];
                self.src.read_at(data, &mut a)?;
                let (elem, n) = (u32_at(&a, 0).unwrap_or(0), u32_at(&a, 8).unwrap_or(0));
                self.size_of(elem, depth + 1)?
                    .checked_mul(n)
                    .map_or_else(|| err("array size overflows"), Ok)
            }
            _ => err(format!("type id {id} has no size")),
        }
    }
}

/// Makes `buf` hold the type section from byte `at` on (up to a chunk, or to the end).
fn refill<S: Source + ?Sized>(
    src: &S,
    types_at: u64,
    len: u64,
    buf: &mut Vec<u8>,
    buf_at: &mut u64,
    at: u64,
) -> Result<(), BtfError> {
    // Only record headers are read from here, so a chunk always holds a whole one (or the end).
    let want = (CHUNK as u64).min(len - at) as usize;
    buf.resize(want, 0);
    src.read_at(types_at + at, buf)?;
    *buf_at = at;
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a BTF blob from type records, naming things through a string table.
    #[derive(Default)]
    pub(crate) struct Builder {
        types: Vec<u8>,
        strings: Vec<u8>,
        next_id: u32,
    }

    impl Builder {
        pub(crate) fn new() -> Builder {
            Builder {
                strings: vec![0],
                next_id: 1,
                ..Builder::default()
            }
        }

        fn string(&mut self, s: &str) -> u32 {
            if s.is_empty() {
                return 0;
            }
            let off = self.strings.len() as u32;
            self.strings.extend_from_slice(s.as_bytes());
            self.strings.push(0);
            off
        }

        fn header(
            &mut self,
            name: &str,
            kind: u32,
            vlen: u32,
            flag: bool,
            size_or_type: u32,
        ) -> u32 {
            let name = self.string(name);
            for w in [name, kind << 24 | vlen | (flag as u32) << 31, size_or_type] {
                self.types.extend_from_slice(&w.to_le_bytes());
            }
            self.next_id += 1;
            self.next_id - 1
        }

        pub(crate) fn int(&mut self, name: &str, size: u32) -> u32 {
            let id = self.header(name, KIND_INT, 0, false, size);
            self.types.extend_from_slice(&(size * 8).to_le_bytes());
            id
        }

        pub(crate) fn ptr(&mut self, to: u32) -> u32 {
            self.header("", KIND_PTR, 0, false, to)
        }

        pub(crate) fn typedef(&mut self, name: &str, to: u32) -> u32 {
            self.header(name, KIND_TYPEDEF, 0, false, to)
        }

        /// An array type whose element type is itself.
        pub(crate) fn array_of_self(&mut self) -> u32 {
            let id = self.header("", KIND_ARRAY, 0, false, 0);
            for w in [id, 1, 4] {
                self.types.extend_from_slice(&w.to_le_bytes()); // elem, index type, count
            }
            id
        }

        pub(crate) fn func(&mut self, name: &str, proto: u32) -> u32 {
            self.header(name, KIND_FUNC, 0, false, proto)
        }

        pub(crate) fn func_proto(&mut self, ret: u32) -> u32 {
            self.header("", KIND_FUNC_PROTO, 0, false, ret)
        }

        /// A struct (or union) whose members are (name, type, bit offset).
        pub(crate) fn aggregate(
            &mut self,
            union: bool,
            name: &str,
            size: u32,
            members: &[(&str, u32, u32)],
        ) -> u32 {
            let kind = if union { KIND_UNION } else { KIND_STRUCT };
            let id = self.header(name, kind, members.len() as u32, false, size);
            for &(m, ty, bits) in members {
                let m = self.string(m);
                for w in [m, ty, bits] {
                    self.types.extend_from_slice(&w.to_le_bytes());
                }
            }
            id
        }

        pub(crate) fn build(&self) -> Vec<u8> {
            let mut blob = Vec::new();
            let words = [
                HEADER_LEN as u32,
                0,
                self.types.len() as u32,
                self.types.len() as u32,
                self.strings.len() as u32,
            ];
            blob.extend_from_slice(&MAGIC.to_le_bytes());
            blob.extend_from_slice(&[1, 0]);
            for w in words {
                blob.extend_from_slice(&w.to_le_bytes());
            }
            blob.extend_from_slice(&self.types);
            blob.extend_from_slice(&self.strings);
            blob
        }
    }

    /// Every name the tests look up.
    const NAMES: [&str; 15] = [
        "inode",
        "i_mode",
        "i_ino",
        "file",
        "f_inode",
        "bpf_iter_task_file",
        "f_nope",
        "nope",
        "s",
        "x",
        "loop",
        "arr",
        "a",
        "task_struct",
        "tgid",
    ];

    /// The struct layout the lookup tests expect, after whatever `b` already holds.
    fn inode_and_file(b: &mut Builder) -> u32 {
        let u16_ = b.int("unsigned short", 2);
        let umode = b.typedef("umode_t", u16_);
        let ulong = b.int("long unsigned int", 8);
        let anon = b.aggregate(true, "", 8, &[("i_ino", ulong, 0), ("other", ulong, 0)]);
        let inode = b.aggregate(
            false,
            "inode",
            80,
            &[("i_mode", umode, 0), ("", anon, 64 * 8)],
        );
        let p = b.ptr(inode);
        b.aggregate(false, "file", 32, &[("f_inode", p, 16 * 8)]);
        let proto = b.func_proto(0);
        b.func("bpf_iter_task_file", proto)
    }

    #[test]
    fn names_and_records_cut_by_a_read_chunk_are_read_whole() {
        for shift in 0..4 {
            for k in [0, 3, 7, 13] {
                let mut b = Builder::new();
                // A long first name puts the wanted names near the first chunk boundary of the
                // string section; 16-byte INT records plus `shift` 12-byte pointers move the
                // records of interest across the type section's first boundary.
                b.int(&"z".repeat(CHUNK - 16 + k), 4);
                for _ in 0..CHUNK / 16 {
                    b.int("", 4);
                }
                for _ in 0..shift {
                    b.ptr(0);
                }
                let f = inode_and_file(&mut b);
                let blob = b.build();
                let btf = Btf::parse(&blob[..], &NAMES).expect("parse");
                let at = format!("shift {shift}, k {k}");
                assert_eq!(
                    btf.member("inode", "i_ino").map(|m| m.offset),
                    Ok(64),
                    "{at}"
                );
                assert_eq!(btf.member("file", "f_inode").map(|m| m.size), Ok(8), "{at}");
                assert_eq!(btf.func("bpf_iter_task_file"), Ok(f), "{at}");
            }
        }
    }

    #[test]
    fn finds_members_through_typedefs_and_anonymous_unions() {
        let mut b = Builder::new();
        let f = inode_and_file(&mut b);
        let blob = b.build();
        let btf = Btf::parse(&blob[..], &NAMES).expect("parse");
        assert_eq!(
            btf.member("inode", "i_mode"),
            Ok(Member { offset: 0, size: 2 })
        );
        assert_eq!(
            btf.member("inode", "i_ino"),
            Ok(Member {
                offset: 64,
                size: 8
            })
        );
        assert_eq!(
            btf.member("file", "f_inode"),
            Ok(Member {
                offset: 16,
                size: 8
            })
        );
        assert_eq!(btf.func("bpf_iter_task_file"), Ok(f));
        assert!(btf.member("file", "f_nope").is_err());
        assert!(btf.member("nope", "f_inode").is_err());
        assert!(btf.func("nope").is_err());
    }

    #[test]
    fn rejects_bad_blobs_without_panicking() {
        let mut b = Builder::new();
        let i = b.int("int", 4);
        b.aggregate(false, "s", 4, &[("x", i, 0)]);
        let blob = b.build();
        assert!(Btf::parse(&blob[..], &NAMES).is_ok());
        for cut in 0..blob.len() {
            let _ = Btf::parse(&blob[..cut], &NAMES).map(|btf| btf.member("s", "x"));
        }
        let mut swapped = blob.clone();
        swapped.swap(0, 1);
        assert!(
            Btf::parse(&swapped[..], &NAMES).is_err(),
            "big-endian magic"
        );
        let mut unknown = blob.clone();
        unknown[HEADER_LEN + 7] = 30; // kind 30 in the first record's info
        assert!(Btf::parse(&unknown[..], &NAMES).is_err());
    }

    #[test]
    fn self_nesting_types_end_in_an_error_not_a_hang_or_overflow() {
        let mut b = Builder::new();
        // Type 1: a struct of 1000 anonymous members, each of type 1 itself.
        let members: Vec<(&str, u32, u32)> = (0..1000).map(|_| ("", 1, 0)).collect();
        b.aggregate(false, "loop", 8, &members);
        // Type 2: an array of itself, held by a struct.
        let id = b.array_of_self();
        b.aggregate(false, "arr", 8, &[("a", id, 0)]);
        let blob = b.build();
        let btf = Btf::parse(&blob[..], &NAMES).expect("parse");
        assert!(btf.member("loop", "x").is_err());
        assert!(btf.member("arr", "a").is_err());
    }

    #[test]
    fn parses_the_running_kernels_btf_when_it_has_one() {
        let Ok(file) = std::fs::File::open("/sys/kernel/btf/vmlinux") else {
            eprintln!("skipped: this kernel has no /sys/kernel/btf/vmlinux");
            return;
        };
        let btf = Btf::parse(&file, &NAMES).expect("the kernel's own BTF parses");
        let tgid = btf.member("task_struct", "tgid").expect("task_struct.tgid");
        assert_eq!(tgid.size, 4);
        assert_eq!(btf.member("inode", "i_mode").expect("i_mode").size, 2);
        assert_eq!(btf.member("file", "f_inode").expect("f_inode").size, 8);
    }
}
