//! Just enough of the kernel's BTF (BPF Type Format) to find where a few struct members live.
//!
//! The owner iterator ([`super::bpf`]) reads `file->f_inode->i_mode`, `->i_ino` and
//! `task->tgid` directly, and the kernel's layout of those structs changes between versions
//! and configurations. The running kernel describes itself in `/sys/kernel/btf/vmlinux`; this
//! module looks member offsets and sizes up there, and the id of the iterator's attach point.
//! It is a pure parser over bytes, so it is tested on hand-built blobs and fuzzable.
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

/// One type record, decoded from its 12-byte header on demand.
#[derive(Debug, Clone, Copy)]
struct Type {
    name_off: u32,
    kind: u32,
    vlen: usize,
    kind_flag: bool,
    /// `size` or `type`, depending on the kind.
    size_or_type: u32,
    /// Offset of the data following the 12-byte header, inside the type section.
    data: usize,
}

/// Decodes the type record header at `at` in the type section.
fn decode(types: &[u8], at: usize) -> Result<Type, BtfError> {
    let (Some(name_off), Some(info), Some(size_or_type)) = (
        u32_at(types, at),
        u32_at(types, at + 4),
        u32_at(types, at + 8),
    ) else {
        return err(format!("type record cut short at byte {at}"));
    };
    Ok(Type {
        name_off,
        kind: (info >> 24) & 0x1f,
        vlen: (info & 0xffff) as usize,
        kind_flag: info >> 31 == 1,
        size_or_type,
        data: at + 12,
    })
}

/// A parsed BTF blob: an index of its types, borrowing the bytes.
pub struct Btf<'a> {
    types: &'a [u8],
    strings: &'a [u8],
    /// `offsets[id - 1]` is where type `id`'s record starts in `types` (id 0 is `void`).
    /// Four bytes per type: vmlinux has ~130k of them.
    offsets: Vec<u32>,
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

impl<'a> Btf<'a> {
    /// Indexes `blob` (little-endian, as on x86_64 and the other little-endian targets).
    pub fn parse(blob: &'a [u8]) -> Result<Btf<'a>, BtfError> {
        if blob.len() < HEADER_LEN {
            return err("shorter than its header");
        }
        let magic = u16::from_le_bytes([blob[0], blob[1]]);
        if magic != MAGIC {
            return err(format!("bad magic {magic:#06x} (big-endian or not BTF)"));
        }
        let field = |i: usize| u32_at(blob, 4 + 4 * i).unwrap_or(0) as usize;
        let (hdr_len, type_off, type_len, str_off, str_len) =
            (field(0), field(1), field(2), field(3), field(4));
        let section = |off: usize, len: usize| {
            hdr_len
                .checked_add(off)
                .and_then(|start| Some(start..start.checked_add(len)?))
                .and_then(|r| blob.get(r))
        };
        let (Some(types), Some(strings)) = (section(type_off, type_len), section(str_off, str_len))
        else {
            return err("a section lies outside the blob");
        };
        let Ok(type_len) = u32::try_from(types.len()) else {
            return err("type section over 4 GiB");
        };
        let mut offsets = Vec::new();
        let mut at = 0usize;
        while at < types.len() {
            let t = decode(types, at)?;
            let extra = match t.kind {
                KIND_INT | KIND_VAR | KIND_DECL_TAG => 4,
                KIND_PTR | KIND_FWD | KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT
                | KIND_FUNC | KIND_FLOAT | KIND_TYPE_TAG => 0,
                KIND_ARRAY => 12,
                KIND_STRUCT | KIND_UNION | KIND_DATASEC | KIND_ENUM64 => 12 * t.vlen,
                KIND_ENUM | KIND_FUNC_PROTO => 8 * t.vlen,
                other => return err(format!("unknown type kind {other} at byte {at}")),
            };
            offsets.push(at as u32); // at < types.len() <= u32::MAX
            at = t.data + extra;
        }
        if at != type_len as usize {
            return err("the last type record runs past the type section");
        }
        Ok(Btf {
            types,
            strings,
            offsets,
        })
    }

    fn name(&self, name_off: u32) -> &'a [u8] {
        let rest = self.strings.get(name_off as usize..).unwrap_or_default();
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        &rest[..end]
    }

    fn get(&self, id: u32) -> Option<Type> {
        let at = *self.offsets.get((id as usize).checked_sub(1)?)?;
        decode(self.types, at as usize).ok()
    }

    /// The id of the first type of `kind` named `name`.
    fn find(&self, kind: u32, name: &str) -> Option<u32> {
        let id = (1..=self.offsets.len()).find(|&id| {
            self.get(id as u32)
                .is_some_and(|t| t.kind == kind && self.name(t.name_off) == name.as_bytes())
        })?;
        u32::try_from(id).ok()
    }

    /// The id of function `name` (an iterator's attach point, say).
    pub fn func(&self, name: &str) -> Result<u32, BtfError> {
        self.find(KIND_FUNC, name)
            .map_or_else(|| err(format!("no function {name}")), Ok)
    }

    /// Offset and size of `strukt.member`, looking inside anonymous structs and unions.
    pub fn member(&self, strukt: &str, member: &str) -> Result<Member, BtfError> {
        let Some(id) = self.find(KIND_STRUCT, strukt) else {
            return err(format!("no struct {strukt}"));
        };
        let mut budget = MEMBER_VISITS;
        match self.member_in(id, member, 0, 0, &mut budget)? {
            Some(m) => Ok(m),
            None => err(format!("struct {strukt} has no member {member}")),
        }
    }

    fn member_in(
        &self,
        id: u32,
        member: &str,
        base_bits: u32,
        depth: u32,
        budget: &mut u32,
    ) -> Result<Option<Member>, BtfError> {
        let Some(t) = self.get(id) else {
            return err(format!("type id {id} out of range"));
        };
        if depth > 32 {
            return err("anonymous members nested too deep");
        }
        for i in 0..t.vlen {
            // A crafted blob can nest a struct in itself many times over: bound the walk.
            *budget = budget
                .checked_sub(1)
                .map_or_else(|| err("too many members to search"), Ok)?;
            let at = t.data + 12 * i;
            let (Some(name_off), Some(ty), Some(raw_off)) = (
                u32_at(self.types, at),
                u32_at(self.types, at + 4),
                u32_at(self.types, at + 8),
            ) else {
                return err("member record cut short");
            };
            let (bits, bitfield) = if t.kind_flag {
                (raw_off & 0x00ff_ffff, raw_off >> 24)
            } else {
                (raw_off, 0)
            };
            let bits = base_bits.saturating_add(bits);
            let name = self.name(name_off);
            if name == member.as_bytes() {
                if bitfield != 0 || bits % 8 != 0 {
                    return err(format!("{member} is a bit field"));
                }
                return Ok(Some(Member {
                    offset: bits / 8,
                    size: self.size_of(ty, 0)?,
                }));
            }
            if name.is_empty() {
                let inner = self.resolve(ty)?;
                if matches!(
                    self.get(inner).map(|t| t.kind),
                    Some(KIND_STRUCT | KIND_UNION)
                ) {
                    if let Some(m) = self.member_in(inner, member, bits, depth + 1, budget)? {
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
                Some(t)
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
        match self.get(id) {
            Some(t)
                if matches!(
                    t.kind,
                    KIND_INT | KIND_ENUM | KIND_ENUM64 | KIND_STRUCT | KIND_UNION | KIND_FLOAT
                ) =>
            {
                Ok(t.size_or_type)
            }
            Some(t) if t.kind == KIND_PTR => Ok(8),
            Some(t) if t.kind == KIND_ARRAY => {
                let (Some(elem), Some(n)) =
                    (u32_at(self.types, t.data), u32_at(self.types, t.data + 8))
                else {
                    return err("array record cut short");
                };
                self.size_of(elem, depth + 1)?
                    .checked_mul(n)
                    .map_or_else(|| err("array size overflows"), Ok)
            }
            _ => err(format!("type id {id} has no size")),
        }
    }
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

    #[test]
    fn finds_members_through_typedefs_and_anonymous_unions() {
        let mut b = Builder::new();
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
        let f = b.func("bpf_iter_task_file", proto);
        let blob = b.build();
        let btf = Btf::parse(&blob).expect("parse");
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
        assert!(Btf::parse(&blob).is_ok());
        for cut in 0..blob.len() {
            let _ = Btf::parse(&blob[..cut]).map(|btf| btf.member("s", "x"));
        }
        let mut swapped = blob.clone();
        swapped.swap(0, 1);
        assert!(Btf::parse(&swapped).is_err(), "big-endian magic");
        let mut unknown = blob.clone();
        unknown[HEADER_LEN + 7] = 30; // kind 30 in the first record's info
        assert!(Btf::parse(&unknown).is_err());
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
        let btf = Btf::parse(&blob).expect("parse");
        assert!(btf.member("loop", "x").is_err());
        assert!(btf.member("arr", "a").is_err());
    }

    #[test]
    fn parses_the_running_kernels_btf_when_it_has_one() {
        let Ok(blob) = std::fs::read("/sys/kernel/btf/vmlinux") else {
            eprintln!("skipped: this kernel has no /sys/kernel/btf/vmlinux");
            return;
        };
        let btf = Btf::parse(&blob).expect("the kernel's own BTF parses");
        let tgid = btf.member("task_struct", "tgid").expect("task_struct.tgid");
        assert_eq!(tgid.size, 4);
        assert_eq!(btf.member("inode", "i_mode").expect("i_mode").size, 2);
        assert_eq!(btf.member("file", "f_inode").expect("f_inode").size, 8);
    }
}
