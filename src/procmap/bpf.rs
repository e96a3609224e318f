//! The fast owner scan: a BPF `task_file` iterator walks every open file of every process inside
//! the kernel and hands back `(socket inode, tgid, fd)` for each socket — one `read()` per 32 KiB
//! of results instead of one `statx()` per descriptor.
//!
//! Why: the `/proc/*/fd` walk costs two path lookups per descriptor (directory fill, then the
//! link), about 2.5 µs of kernel time per descriptor on the development machine, and that was
//! most of `-p`'s time on a busy server; the iterator takes about 0.5 µs. The iterator needs root (CAP_BPF + CAP_PERFMON) and a kernel with BTF; when it
//! cannot be used, [`super`] falls back to the `/proc` walk and says why under `-v`.
//!
//! The program is nine loads, a mode test and one `bpf_seq_write` — assembled here, so there
//! is no compiler, object file or libbpf to ship. For `-N` a second form
//! ([`TaskFiles::load_tcp`]) also reads each TCP socket's namespace, state, addresses, queues
//! and uid from the socket itself ([`TcpRecord`]), so a namespace whose TCP sockets all have
//! owners needs no sock_diag dump (see [`crate::source::owned`]). Struct member offsets come from the running
//! kernel's BTF ([`super::btf`]); the verifier checks every load against the same BTF, so a
//! wrong offset is refused at load time rather than read at run time.
//!
//! Limits, all checked by the caller before it gets here: `task->tgid` is the pid in the
//! initial pid namespace, so the iterator is only used there, and only against the real `/proc`.

use std::fmt;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::btf::{Btf, BtfError, Member, Source};

const BTF_PATH: &str = "/sys/kernel/btf/vmlinux";

// bpf(2) commands, program and attach types, helpers: include/uapi/linux/bpf.h.
const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_LINK_CREATE: libc::c_long = 28;
const BPF_ITER_CREATE: libc::c_long = 33;
const BPF_PROG_TYPE_TRACING: u32 = 26;
const BPF_TRACE_ITER: u32 = 28;
const BPF_FUNC_SEQ_WRITE: i32 = 127;
const BPF_FUNC_SKC_TO_TCP_SOCK: i32 = 137;
const BPF_FUNC_SOCK_FROM_FILE: i32 = 162;

/// One record, as the program writes it: inode (u64), tgid (u32), fd (u32), native endian.
const RECORD: usize = 16;
/// A TCP socket's record from a [`TaskFiles::load_tcp`] iterator: the short record, then the socket's
/// fields as u32 words (see [`TcpLayout::fields`]).
const TCP_RECORD: usize = 112;
/// Set in a record's fd word when the rest of a TCP record follows (descriptors are below 2^31).
const TCP_FLAG: u32 = 1 << 31;
/// `TCP_LISTEN`.
pub(crate) const TCP_LISTEN: u8 = 10;

/// How many namespaces [`TaskFiles::load_tcp`] filters TCP records by (one comparison each per TCP
/// socket); beyond, every TCP socket gets its record.
pub const NETNS_FILTER_MAX: usize = 256;

/// A TCP socket as the iterator read it from its descriptor: the kernel's own fields, as
/// sock_diag's `inet_diag_msg_common_fill` and `tcp_diag_get_info` read them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpRecord {
    pub inode: u64,
    /// The inode of the socket's network namespace (`sk->sk_net->ns.inum`).
    pub netns: u32,
    /// `AF_INET` or `AF_INET6`.
    pub family: u16,
    pub state: u8,
    pub local_port: u16,
    pub remote_port: u16,
    pub uid: u32,
    pub rcv_nxt: u32,
    pub copied_seq: u32,
    pub write_seq: u32,
    pub snd_una: u32,
    pub ack_backlog: u32,
    pub max_ack_backlog: u32,
    /// Request sockets (SYN_RECV) of a listener: `icsk_accept_queue.qlen`.
    pub syn_queue: u32,
    pub bound_if: u32,
    pub local4: [u8; 4],
    pub remote4: [u8; 4],
    pub local6: [u8; 16],
    pub remote6: [u8; 16],
}

impl TcpRecord {
    /// A loopback IPv4 record with every count zero, for tests to change what they test.
    #[cfg(test)]
    pub(crate) fn for_tests(inode: u64, netns: u32, state: u8) -> TcpRecord {
        TcpRecord {
            inode,
            netns,
            family: libc::AF_INET as u16,
            state,
            local_port: 0,
            remote_port: 0,
            uid: 0,
            rcv_nxt: 0,
            copied_seq: 0,
            write_seq: 0,
            snd_una: 0,
            ack_backlog: 0,
            max_ack_backlog: 0,
            syn_queue: 0,
            bound_if: 0,
            local4: [127, 0, 0, 1],
            remote4: [127, 0, 0, 1],
            local6: [0; 16],
            remote6: [0; 16],
        }
    }

    /// Decodes the TCP part of a record (bytes 16.. of a [`TCP_RECORD`]).
    fn decode(inode: u64, r: &[u8]) -> TcpRecord {
        let word = |at: usize| u32::from_ne_bytes([r[at], r[at + 1], r[at + 2], r[at + 3]]);
        let bytes4 = |at: usize| [r[at], r[at + 1], r[at + 2], r[at + 3]];
        let bytes16 = |at: usize| {
            let mut b = [0u8; 16];
            b.copy_from_slice(&r[at..at + 16]);
            b
        };
        TcpRecord {
            inode,
            netns: word(0),
            family: word(4) as u16,
            state: word(8) as u8,
            local_port: word(12) as u16,
            // sk_dport is in network order; loaded as a native u16 it is byte-swapped here.
            remote_port: u16::from_be(word(16) as u16),
            uid: word(20),
            rcv_nxt: word(24),
            copied_seq: word(28),
            write_seq: word(32),
            snd_una: word(36),
            ack_backlog: word(40),
            max_ack_backlog: word(44),
            syn_queue: word(48),
            bound_if: word(52),
            // Addresses were copied as words in memory order, so their bytes are as stored.
            remote4: bytes4(56),
            local4: bytes4(60),
            remote6: bytes16(64),
            local6: bytes16(80),
        }
    }
}

/// Why the iterator could not be used.
#[derive(Debug)]
pub enum BpfError {
    /// The kernel's BTF is missing or lacks something the program needs.
    Btf(String),
    /// A bpf(2) step failed (EPERM without root, EINVAL on kernels without the iterator...).
    Syscall {
        step: &'static str,
        err: std::io::Error,
    },
    /// The kernel's verifier refused the program; `log` is the last line of its log.
    Verifier {
        step: &'static str,
        err: std::io::Error,
        log: String,
    },
    /// Reading the iterator's output failed.
    Read(std::io::Error),
}

impl fmt::Display for BpfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BpfError::Btf(why) => write!(f, "{BTF_PATH}: {why}"),
            BpfError::Syscall { step, err } => write!(f, "bpf {step}: {err}"),
            BpfError::Verifier { step, err, log } => write!(f, "bpf {step}: {err} ({log})"),
            BpfError::Read(err) => write!(f, "reading the task_file iterator: {err}"),
        }
    }
}

impl std::error::Error for BpfError {}

impl BpfError {
    /// Whether trying again later may succeed (memory or a busy resource), as opposed to a
    /// kernel or a privilege that will not change during this run.
    pub fn is_transient(&self) -> bool {
        match self {
            BpfError::Btf(_) | BpfError::Verifier { .. } => false,
            BpfError::Syscall { err, .. } => matches!(
                err.raw_os_error(),
                Some(libc::ENOMEM | libc::EAGAIN | libc::EINTR | libc::EBUSY)
            ),
            BpfError::Read(_) => true,
        }
    }
}

impl From<BtfError> for BpfError {
    fn from(e: BtfError) -> BpfError {
        BpfError::Btf(e.0)
    }
}

/// A loaded, attached `task_file` iterator; each [`TaskFiles::run`] call runs it once.
pub struct TaskFiles {
    /// Keeps the program alive with the link (the link holds its own reference too).
    _prog: OwnedFd,
    link: OwnedFd,
    /// Whether TCP records come (see [`TaskFiles::load_tcp`]).
    tcp: bool,
}

/// The kernel layout the program depends on.
struct Layout {
    attach_btf_id: u32,
    /// The program's context, `struct bpf_iter__task_file`, and `bpf_iter_meta.seq`.
    ctx_meta: Member,
    ctx_task: Member,
    ctx_fd: Member,
    ctx_file: Member,
    meta_seq: Member,
    f_inode: Member,
    i_mode: Member,
    i_ino: Member,
    tgid: Member,
}

/// Every struct, member and function name the iterator looks up in BTF.
pub const BTF_NAMES: [&str; 14] = [
    "bpf_iter_task_file",
    "bpf_iter__task_file",
    "meta",
    "task",
    "fd",
    "file",
    "bpf_iter_meta",
    "seq",
    "f_inode",
    "inode",
    "i_mode",
    "i_ino",
    "task_struct",
    "tgid",
];

impl Layout {
    fn from_btf<S: Source + ?Sized>(btf: &Btf<'_, S>) -> Result<Layout, BpfError> {
        let layout = Layout {
            attach_btf_id: btf.func("bpf_iter_task_file")?,
            ctx_meta: btf.member("bpf_iter__task_file", "meta")?,
            ctx_task: btf.member("bpf_iter__task_file", "task")?,
            ctx_fd: btf.member("bpf_iter__task_file", "fd")?,
            ctx_file: btf.member("bpf_iter__task_file", "file")?,
            meta_seq: btf.member("bpf_iter_meta", "seq")?,
            f_inode: btf.member("file", "f_inode")?,
            i_mode: btf.member("inode", "i_mode")?,
            i_ino: btf.member("inode", "i_ino")?,
            tgid: btf.member("task_struct", "tgid")?,
        };
        let fits = |m: Member, size: u32| m.size == size && m.offset <= i16::MAX as u32;
        if !(fits(layout.ctx_meta, 8)
            && fits(layout.ctx_task, 8)
            && fits(layout.ctx_fd, 4)
            && fits(layout.ctx_file, 8)
            && fits(layout.meta_seq, 8)
            && fits(layout.f_inode, 8)
            && fits(layout.i_mode, 2)
            && fits(layout.i_ino, 8)
            && fits(layout.tgid, 4))
        {
            return Err(BpfError::Btf(
                "members the iterator reads have unexpected sizes".into(),
            ));
        }
        Ok(layout)
    }
}

/// Where the TCP fields live, for [`TaskFiles::load_tcp`]: offsets from a `struct tcp_sock`
/// (whose first member is, through `inet_connection_sock` and `inet_sock`, its `struct sock`).
struct TcpLayout {
    socket_sk: u32,
    /// Where `struct sock` starts in `struct tcp_sock` (0 in every kernel so far).
    sk: u32,
    /// `sk->sk_net.net`, a `struct net *`.
    skc_net: u32,
    /// `net->ns.inum`, from a `struct net`.
    net_inum: u32,
    family: u32,
    state: u32,
    num: u32,
    dport: u32,
    bound_if: u32,
    daddr: u32,
    rcv_saddr: u32,
    v6_daddr: u32,
    v6_rcv_saddr: u32,
    uid: u32,
    ack_backlog: u32,
    max_ack_backlog: u32,
    rcv_nxt: u32,
    copied_seq: u32,
    write_seq: u32,
    snd_una: u32,
    qlen: u32,
}

/// Every name the TCP part of the program looks up in BTF, on top of [`BTF_NAMES`].
pub const TCP_BTF_NAMES: [&str; 34] = [
    "socket",
    "sk",
    "tcp_sock",
    "inet_conn",
    "inet_connection_sock",
    "icsk_inet",
    "icsk_accept_queue",
    "inet_sock",
    "sock",
    "__sk_common",
    "sk_uid",
    "sk_ack_backlog",
    "sk_max_ack_backlog",
    "sock_common",
    "skc_net",
    "skc_family",
    "skc_state",
    "skc_num",
    "skc_dport",
    "skc_bound_dev_if",
    "skc_daddr",
    "skc_rcv_saddr",
    "skc_v6_daddr",
    "skc_v6_rcv_saddr",
    "rcv_nxt",
    "copied_seq",
    "write_seq",
    "snd_una",
    "request_sock_queue",
    "qlen",
    "net",
    "ns",
    "ns_common",
    "inum",
];

impl TcpLayout {
    fn from_btf<S: Source + ?Sized>(btf: &Btf<'_, S>) -> Result<TcpLayout, BpfError> {
        // A member of `strukt` that must have `size` bytes.
        let sized = |strukt: &str, name: &str, size: u32| -> Result<u32, BpfError> {
            let m = btf.member(strukt, name)?;
            if m.size != size {
                return Err(BpfError::Btf(format!(
                    "{strukt}.{name} is {} bytes, expected {size}",
                    m.size
                )));
            }
            Ok(m.offset)
        };
        let at = |strukt: &str, name: &str| btf.member(strukt, name).map(|m| m.offset);
        let sk = at("tcp_sock", "inet_conn")?
            + at("inet_connection_sock", "icsk_inet")?
            + at("inet_sock", "sk")?;
        let skc = sk + at("sock", "__sk_common")?;
        let common = |name: &str, size: u32| sized("sock_common", name, size).map(|o| skc + o);
        let tcp = |name: &str| sized("tcp_sock", name, 4);
        let layout = TcpLayout {
            socket_sk: sized("socket", "sk", 8)?,
            sk,
            // possible_net_t is one pointer with network namespaces, empty without them.
            skc_net: common("skc_net", 8)?,
            net_inum: at("net", "ns")? + sized("ns_common", "inum", 4)?,
            family: common("skc_family", 2)?,
            state: common("skc_state", 1)?,
            num: common("skc_num", 2)?,
            dport: common("skc_dport", 2)?,
            bound_if: common("skc_bound_dev_if", 4)?,
            daddr: common("skc_daddr", 4)?,
            rcv_saddr: common("skc_rcv_saddr", 4)?,
            v6_daddr: common("skc_v6_daddr", 16)?,
            v6_rcv_saddr: common("skc_v6_rcv_saddr", 16)?,
            uid: sk + sized("sock", "sk_uid", 4)?,
            ack_backlog: sk + sized("sock", "sk_ack_backlog", 4)?,
            max_ack_backlog: sk + sized("sock", "sk_max_ack_backlog", 4)?,
            rcv_nxt: tcp("rcv_nxt")?,
            copied_seq: tcp("copied_seq")?,
            write_seq: tcp("write_seq")?,
            snd_una: tcp("snd_una")?,
            qlen: at("tcp_sock", "inet_conn")?
                + at("inet_connection_sock", "icsk_accept_queue")?
                + sized("request_sock_queue", "qlen", 4)?,
        };
        let (every, listener, connection) = layout.fields();
        let furthest = every
            .iter()
            .chain(&listener)
            .chain(&connection)
            .map(|&(_, from, _)| from)
            .chain([layout.socket_sk, layout.skc_net, layout.net_inum])
            .max()
            .unwrap_or(0);
        if furthest > i16::MAX as u32 {
            return Err(BpfError::Btf("TCP socket members lie too far in".into()));
        }
        Ok(layout)
    }

    /// What the program copies after the namespace: (load opcode, offset in `tcp_sock`,
    /// offset in the record), one u32 word each; [`TcpRecord::decode`] reads them back. Every
    /// socket's fields, then a listener's, then a connection's: each socket is read only
    /// where its state needs it (these loads are cache misses, one to three per line).
    fn fields(&self) -> ([Field; 16], [Field; 3], [Field; 4]) {
        let v6 =
            |base: u32, to: u32| -> [Field; 4] { [0, 4, 8, 12].map(|i| (LDX_W, base + i, to + i)) };
        let [a0, a1, a2, a3] = v6(self.v6_daddr, 80);
        let [b0, b1, b2, b3] = v6(self.v6_rcv_saddr, 96);
        let every = [
            (LDX_H, self.family, 20),
            (LDX_H, self.num, 28),
            (LDX_H, self.dport, 32),
            (LDX_W, self.uid, 36),
            (LDX_W, self.bound_if, 68),
            (LDX_W, self.daddr, 72),
            (LDX_W, self.rcv_saddr, 76),
            a0,
            a1,
            a2,
            a3,
            b0,
            b1,
            b2,
            b3,
            (LDX_B, self.state, STATE_AT),
        ];
        let listener = [
            (LDX_W, self.ack_backlog, 56),
            (LDX_W, self.max_ack_backlog, 60),
            (LDX_W, self.qlen, 64),
        ];
        let connection = [
            (LDX_W, self.rcv_nxt, 40),
            (LDX_W, self.copied_seq, 44),
            (LDX_W, self.write_seq, 48),
            (LDX_W, self.snd_una, 52),
        ];
        (every, listener, connection)
    }
}

/// (load opcode, offset in `tcp_sock`, offset in the record).
type Field = (u8, u32, u32);
/// Where the state lies in a TCP record.
const STATE_AT: u32 = 24;

/// One eBPF instruction (`struct bpf_insn`).
#[derive(Clone, Copy)]
#[repr(C)]
struct Insn {
    code: u8,
    regs: u8,
    off: i16,
    imm: i32,
}

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        regs: (src << 4) | (dst & 0x0f),
        off,
        imm,
    }
}

// Opcodes used below (BPF_CLASS | BPF_SIZE/OP | BPF_MODE/SRC).
const LDX_DW: u8 = 0x79;
const LDX_W: u8 = 0x61;
const LDX_H: u8 = 0x69;
const LDX_B: u8 = 0x71;
const STX_DW: u8 = 0x7b;
const STX_W: u8 = 0x63;
const MOV64_X: u8 = 0xbf;
const MOV64_K: u8 = 0xb7;
const ADD64_K: u8 = 0x07;
const AND64_K: u8 = 0x57;
const MOD64_K: u8 = 0x97;
const OR32_K: u8 = 0x44;
const JA: u8 = 0x05;
const JEQ_K: u8 = 0x15;
const JEQ32_K: u8 = 0x16;
const JGT32_K: u8 = 0x26;
const ST_W: u8 = 0x62;
const JNE_K: u8 = 0x55;
const CALL: u8 = 0x85;
const EXIT: u8 = 0x95;

/// Where a program's forward jumps go.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Label {
    /// An internet socket.
    Inet,
    /// A TCP socket of a namespace asked for.
    Wanted,
    /// A TCP socket that is not a listener.
    Connection,
    /// The TCP record's `bpf_seq_write`.
    WriteTcp,
    /// The short record's `bpf_seq_write`.
    Write,
    /// `return 0`.
    Out,
    /// The upper half of a node of the namespace comparison tree.
    Above(u32),
}

/// Jumps to [`Label::Wanted`] when r2 (a namespace inode) is one of `sorted`, to
/// [`Label::Write`] otherwise: a binary tree of 32-bit comparisons, about two per level, so 100
/// namespaces cost each TCP socket 14 instructions rather than up to 100.
fn netns_tree(a: &mut Asm, sorted: &[u32], nodes: &mut u32) {
    if sorted.len() <= 3 {
        for &inum in sorted {
            a.jump(JEQ32_K, 2, inum as i32, Label::Wanted);
        }
        a.jump(JA, 0, 0, Label::Write);
        return;
    }
    let mid = sorted.len() / 2;
    let above = Label::Above(*nodes);
    *nodes += 1;
    a.jump(JEQ32_K, 2, sorted[mid] as i32, Label::Wanted);
    a.jump(JGT32_K, 2, sorted[mid] as i32, above);
    netns_tree(a, &sorted[..mid], nodes);
    a.label(above);
    netns_tree(a, &sorted[mid + 1..], nodes);
}

/// Builds a program whose jumps name labels; [`Asm::finish`] turns them into offsets.
#[derive(Default)]
struct Asm {
    insns: Vec<Insn>,
    jumps: Vec<(usize, Label)>,
    labels: Vec<(Label, usize)>,
}

impl Asm {
    fn op(&mut self, code: u8, dst: u8, src: u8, off: i16, imm: i32) {
        self.insns.push(insn(code, dst, src, off, imm));
    }
    fn jump(&mut self, code: u8, dst: u8, imm: i32, to: Label) {
        self.jumps.push((self.insns.len(), to));
        self.op(code, dst, 0, 0, imm);
    }
    fn label(&mut self, l: Label) {
        self.labels.push((l, self.insns.len()));
    }
    /// `*(u32 *)(fp + to) = *(size *)(base + from)`, through r2.
    fn copy_u32(&mut self, load: u8, base: u8, from: u32, to: i16) {
        self.op(load, 2, base, from as i16, 0); // offsets checked to fit by the layouts
        self.op(STX_W, 10, 2, to, 0);
    }
    /// `bpf_seq_write(ctx->meta->seq, fp + at, len); return 0` (ctx in r6).
    fn seq_write(&mut self, l: &Layout, at: i16, len: i32) {
        self.op(LDX_DW, 1, 6, l.ctx_meta.offset as i16, 0);
        self.op(LDX_DW, 1, 1, l.meta_seq.offset as i16, 0);
        self.op(MOV64_X, 2, 10, 0, 0);
        self.op(ADD64_K, 2, 0, 0, i32::from(at));
        self.op(MOV64_K, 3, 0, 0, len);
        self.op(CALL, 0, 0, 0, BPF_FUNC_SEQ_WRITE);
    }
    fn finish(mut self) -> Vec<Insn> {
        for &(at, to) in &self.jumps {
            let target = self
                .labels
                .iter()
                .find(|(l, _)| *l == to)
                .map(|&(_, pc)| pc)
                .expect("every jump's label is placed"); // a bug in this file, not input
            self.insns[at].off = (target as i64 - at as i64 - 1) as i16;
        }
        self.insns
    }
}

/// What [`program`] needs for TCP records.
#[derive(Clone, Copy)]
struct Tcp<'a> {
    layout: &'a TcpLayout,
    /// Namespaces whose sockets get TCP records (empty: all).
    netns: &'a [u32],
    /// Processes with `tgid % parts == part` are visited.
    part: u32,
    parts: u32,
}

/// The program, in C terms (`tcp` adds the parts in brackets):
/// ```c
/// if (!ctx->file || !ctx->task) return 0;
/// [if (ctx->task->tgid % parts != part) return 0;]
/// struct inode *i = ctx->file->f_inode;
/// if ((i->i_mode & S_IFMT) != S_IFSOCK) return 0;
/// struct { u64 ino; u32 tgid, fd; struct tcp_fields t; } r = { i->i_ino, ctx->task->tgid, ctx->fd };
/// [struct socket *so = bpf_sock_from_file(ctx->file);
///  struct sock *sk = so ? so->sk : NULL;
///  if (sk && (sk->sk_family == AF_INET || sk->sk_family == AF_INET6)
///      && sk->sk_net.net->ns.inum is one of netns (or netns is empty)) {
///      r.t.netns = sk->sk_net.net->ns.inum;
///      struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
///      if (tp) { r.fd |= TCP_FLAG; r.t = the fields every socket has, then a listener's
///                (accept queue) or a connection's (sequence numbers), the others zero;
///                bpf_seq_write(ctx->meta->seq, &r, sizeof r); return 0; } }]
/// bpf_seq_write(ctx->meta->seq, &r, RECORD);
/// return 0;
/// ```
fn program(l: &Layout, tcp: Option<Tcp<'_>>) -> Vec<Insn> {
    let off = |m: Member| m.offset as i16; // checked to fit by Layout::from_btf
    let rec = -(TCP_RECORD as i16); // the record's place on the stack
    let mut a = Asm::default();
    a.op(MOV64_X, 6, 1, 0, 0); // r6 = ctx
    a.op(LDX_DW, 7, 6, off(l.ctx_file), 0); // r7 = ctx->file
    a.jump(JEQ_K, 7, 0, Label::Out);
    a.op(LDX_DW, 8, 6, off(l.ctx_task), 0); // r8 = ctx->task
    a.jump(JEQ_K, 8, 0, Label::Out);
    if let Some(t) = tcp.filter(|t| t.parts > 1) {
        a.op(LDX_W, 5, 8, off(l.tgid), 0); // another part's process: skip
        a.op(MOD64_K, 5, 0, 0, t.parts as i32);
        a.jump(JNE_K, 5, t.part as i32, Label::Out);
    }
    a.op(LDX_DW, 2, 7, off(l.f_inode), 0); // r2 = file->f_inode
    a.op(LDX_H, 3, 2, off(l.i_mode), 0); // r3 = inode->i_mode
    a.op(AND64_K, 3, 0, 0, 0o170000); // r3 &= S_IFMT
    a.jump(JNE_K, 3, 0o140000, Label::Out); // not S_IFSOCK
    a.op(LDX_DW, 4, 2, off(l.i_ino), 0); // r.ino = inode->i_ino
    a.op(STX_DW, 10, 4, rec, 0);
    a.op(LDX_W, 5, 8, off(l.tgid), 0); // r.tgid = task->tgid
    a.op(STX_W, 10, 5, rec + 8, 0);
    a.op(LDX_W, 5, 6, off(l.ctx_fd), 0); // r.fd = ctx->fd
    a.op(STX_W, 10, 5, rec + 12, 0);
    if let Some(Tcp {
        layout: t, netns, ..
    }) = tcp
    {
        a.op(MOV64_X, 1, 7, 0, 0); // r0 = bpf_sock_from_file(file)
        a.op(CALL, 0, 0, 0, BPF_FUNC_SOCK_FROM_FILE);
        a.jump(JEQ_K, 0, 0, Label::Write);
        a.op(LDX_DW, 9, 0, t.socket_sk as i16, 0); // r9 = socket->sk
        a.jump(JEQ_K, 9, 0, Label::Write);
        // Family and namespace first, from the struct sock: a socket that is not asked for
        // costs one cache line, not the eight its TCP fields span.
        let in_sock = |at: u32| (at - t.sk) as i16; // `sk` is tcp_sock's first member
        a.op(LDX_H, 2, 9, in_sock(t.family), 0); // r2 = sk->sk_family
        a.jump(JEQ_K, 2, libc::AF_INET, Label::Inet);
        a.jump(JNE_K, 2, libc::AF_INET6, Label::Write);
        a.label(Label::Inet);
        a.op(LDX_DW, 1, 9, in_sock(t.skc_net), 0); // r1 = sk->sk_net.net
        a.op(LDX_W, 2, 1, t.net_inum as i16, 0); // r2 = net->ns.inum
        if !netns.is_empty() {
            // Only the namespaces asked for; other sockets get the short record.
            let mut sorted = netns.to_vec();
            sorted.sort_unstable();
            sorted.dedup();
            let mut nodes = 0;
            netns_tree(&mut a, &sorted, &mut nodes);
        }
        a.label(Label::Wanted);
        a.op(STX_W, 10, 2, rec + 16, 0); // r.netns = r2
        a.op(MOV64_X, 1, 9, 0, 0); // r0 = bpf_skc_to_tcp_sock(sk): TCP, full socket
        a.op(CALL, 0, 0, 0, BPF_FUNC_SKC_TO_TCP_SOCK);
        a.jump(JEQ_K, 0, 0, Label::Write);
        a.op(MOV64_X, 7, 0, 0, 0); // r7 = tp
        a.op(LDX_W, 2, 10, rec + 12, 0); // r.fd |= TCP_FLAG
        a.op(OR32_K, 2, 0, 0, TCP_FLAG as i32);
        a.op(STX_W, 10, 2, rec + 12, 0);
        let (every, listener, connection) = t.fields();
        for &(load, from, to) in &every {
            a.copy_u32(load, 7, from, rec + to as i16);
        }
        // r2 holds the state, copied last.
        a.jump(JNE_K, 2, i32::from(TCP_LISTEN), Label::Connection);
        for &(load, from, to) in &listener {
            a.copy_u32(load, 7, from, rec + to as i16);
        }
        for &(_, _, to) in &connection {
            a.op(ST_W, 10, 0, rec + to as i16, 0);
        }
        a.jump(JA, 0, 0, Label::WriteTcp);
        a.label(Label::Connection);
        for &(load, from, to) in &connection {
            a.copy_u32(load, 7, from, rec + to as i16);
        }
        for &(_, _, to) in &listener {
            a.op(ST_W, 10, 0, rec + to as i16, 0);
        }
        a.label(Label::WriteTcp);
        a.seq_write(l, rec, TCP_RECORD as i32);
        a.jump(JA, 0, 0, Label::Out);
    }
    a.label(Label::Write);
    a.seq_write(l, rec, RECORD as i32);
    a.label(Label::Out);
    a.op(MOV64_K, 0, 0, 0, 0);
    a.op(EXIT, 0, 0, 0, 0);
    a.finish()
}

/// `union bpf_attr`, large enough for every command used here; fields are set by byte offset.
#[repr(C, align(8))]
struct Attr([u8; 128]);

impl Attr {
    fn new() -> Attr {
        Attr([0; 128])
    }
    fn u32(&mut self, at: usize, v: u32) -> &mut Attr {
        self.0[at..at + 4].copy_from_slice(&v.to_ne_bytes());
        self
    }
    fn u64(&mut self, at: usize, v: u64) -> &mut Attr {
        self.0[at..at + 8].copy_from_slice(&v.to_ne_bytes());
        self
    }
}

/// bpf(2) for a command that returns a new descriptor.
fn bpf_fd(cmd: libc::c_long, attr: &mut Attr, step: &'static str) -> Result<OwnedFd, BpfError> {
    // SAFETY: `attr` is a live, zero-initialised 128-byte bpf_attr; every pointer stored in it
    // (program, license) outlives this call; the kernel reads at most `size` bytes.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            attr.0.as_mut_ptr(),
            std::mem::size_of::<Attr>() as libc::c_uint,
        )
    };
    if rc < 0 {
        return Err(BpfError::Syscall {
            step,
            err: std::io::Error::last_os_error(),
        });
    }
    let fd = RawFd::try_from(rc).map_err(|_| BpfError::Syscall {
        step,
        err: std::io::Error::other("descriptor out of range"),
    })?;
    // SAFETY: the kernel just returned this descriptor to us; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

impl TaskFiles {
    /// Loads and attaches the owner iterator, reading the kernel's layout from its BTF.
    pub fn load() -> Result<TaskFiles, BpfError> {
        let file = std::fs::File::open(BTF_PATH).map_err(|e| BpfError::Btf(e.to_string()))?;
        let layout = Layout::from_btf(&Btf::parse(&file, &BTF_NAMES)?)?;
        let insns = program(&layout, None);
        TaskFiles::attach(&insns, layout.attach_btf_id, false)
    }

    /// Loads `parts` iterators (at least one) that also read every TCP socket's fields
    /// ([`TcpRecord`]); part `i` visits the processes whose tgid is `i` modulo `parts`, so
    /// they can run side by side on as many cores and together see every process once. With
    /// namespace inodes in `netns` (at most [`NETNS_FILTER_MAX`]), only TCP sockets of those
    /// namespaces get a TCP record.
    ///
    /// Why parts: reading a socket's fields costs several cache misses (a `tcp_sock` spans
    /// 36 cache lines, the fields lie on eight), which a dump would have spent on another
    /// core while the owner scan ran; here they are on the scan's own path.
    pub fn load_tcp(netns: &[u32], parts: u32) -> Result<Vec<TaskFiles>, BpfError> {
        let file = std::fs::File::open(BTF_PATH).map_err(|e| BpfError::Btf(e.to_string()))?;
        let mut names: Vec<&str> = BTF_NAMES.to_vec();
        names.extend(TCP_BTF_NAMES.iter().filter(|n| !BTF_NAMES.contains(n)));
        let btf = Btf::parse(&file, &names)?;
        let layout = Layout::from_btf(&btf)?;
        let netns = if netns.len() <= NETNS_FILTER_MAX {
            netns
        } else {
            &[]
        };
        let tcp = TcpLayout::from_btf(&btf)?;
        let parts = parts.max(1);
        (0..parts)
            .map(|part| {
                let insns = program(
                    &layout,
                    Some(Tcp {
                        layout: &tcp,
                        netns,
                        part,
                        parts,
                    }),
                );
                TaskFiles::attach(&insns, layout.attach_btf_id, true)
            })
            .collect()
    }

    fn attach(insns: &[Insn], attach_btf_id: u32, tcp: bool) -> Result<TaskFiles, BpfError> {
        let prog = match load_program(insns, attach_btf_id, None) {
            Ok(prog) => prog,
            Err(e) => {
                // Once more with the verifier's log, to say why.
                let mut log = vec![0u8; 64 * 1024];
                return Err(match load_program(insns, attach_btf_id, Some(&mut log)) {
                    Err(BpfError::Syscall { step, err }) => BpfError::Verifier {
                        step,
                        err,
                        log: last_log_line(&log),
                    },
                    _ => e,
                });
            }
        };
        let mut attr = Attr::new();
        attr.u32(0, prog.as_raw_fd() as u32).u32(8, BPF_TRACE_ITER);
        let link = bpf_fd(BPF_LINK_CREATE, &mut attr, "link create")?;
        Ok(TaskFiles {
            _prog: prog,
            link,
            tcp,
        })
    }

    /// Runs the iterator once, calling `found(inode, tgid, fd, tcp)` for every socket
    /// descriptor; `tcp` is the socket's fields when it is TCP and the iterator came from
    /// [`TaskFiles::load_tcp`].
    pub fn run(
        &self,
        mut found: impl FnMut(u64, u32, u32, Option<&TcpRecord>),
    ) -> Result<(), BpfError> {
        let mut attr = Attr::new();
        attr.u32(0, self.link.as_raw_fd() as u32);
        let iter = std::fs::File::from(bpf_fd(BPF_ITER_CREATE, &mut attr, "iterator create")?);
        let tcp = self.tcp;
        let mut buf = vec![0u8; 256 * 1024];
        let mut filled = 0usize;
        loop {
            let n = match std::io::Read::read(&mut &iter, &mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                // After a million objects with no output in one read() the kernel returns
                // EAGAIN and keeps its place: read again.
                Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => continue,
                Err(e) => return Err(BpfError::Read(e)),
            };
            filled += n;
            let mut at = 0;
            while filled - at >= RECORD {
                let r = &buf[at..filled];
                let word = |i: usize| u32::from_ne_bytes([r[i], r[i + 1], r[i + 2], r[i + 3]]);
                let mut ino = [0u8; 8];
                ino.copy_from_slice(&r[..8]);
                let inode = u64::from_ne_bytes(ino);
                let (tgid, fd) = (word(8), word(12));
                if tcp && fd & TCP_FLAG != 0 {
                    if r.len() < TCP_RECORD {
                        break; // the rest comes with the next read
                    }
                    let record = TcpRecord::decode(inode, &r[RECORD..TCP_RECORD]);
                    found(inode, tgid, fd & !TCP_FLAG, Some(&record));
                    at += TCP_RECORD;
                } else {
                    found(inode, tgid, fd, None);
                    at += RECORD;
                }
            }
            buf.copy_within(at..filled, 0);
            filled -= at;
        }
        if filled != 0 {
            return Err(BpfError::Read(std::io::Error::other(
                "the iterator ended inside a record",
            )));
        }
        Ok(())
    }
}

/// BPF_PROG_LOAD of a `task_file` iterator program, with the verifier's log in `log` if given.
fn load_program(
    insns: &[Insn],
    attach_btf_id: u32,
    log: Option<&mut [u8]>,
) -> Result<OwnedFd, BpfError> {
    let license = c"GPL"; // bpf_seq_write is GPL-only
    let mut attr = Attr::new();
    attr.u32(0, BPF_PROG_TYPE_TRACING)
        .u32(4, insns.len() as u32)
        .u64(8, insns.as_ptr() as u64)
        .u64(16, license.as_ptr() as u64)
        .u32(68, BPF_TRACE_ITER) // expected_attach_type
        .u32(108, attach_btf_id);
    if let Some(log) = log {
        attr.u32(24, 1) // log_level
            .u32(28, log.len() as u32)
            .u64(32, log.as_mut_ptr() as u64);
    }
    attr.0[48..48 + 10].copy_from_slice(b"rnetstat_o"); // prog_name, for bpftool
    bpf_fd(BPF_PROG_LOAD, &mut attr, "program load")
}

/// The verifier log's last non-empty line (where it says why it refused), printable.
fn last_log_line(log: &[u8]) -> String {
    let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
    let text = String::from_utf8_lossy(&log[..end]);
    let line = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    line.chars().filter(|c| !c.is_control()).take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plausible layout of the owner program's structs.
    fn layout() -> Layout {
        let m = |offset, size| Member { offset, size };
        Layout {
            attach_btf_id: 1,
            ctx_meta: m(0, 8),
            ctx_task: m(8, 8),
            ctx_fd: m(16, 4),
            ctx_file: m(24, 8),
            meta_seq: m(0, 8),
            f_inode: m(40, 8),
            i_mode: m(0, 2),
            i_ino: m(64, 8),
            tgid: m(1200, 4),
        }
    }

    #[test]
    fn the_program_jumps_land_on_its_exit_path() {
        let p = program(&layout(), None);
        let out = p.len() - 2;
        for (pc, i) in p.iter().enumerate() {
            if i.code == JEQ_K || i.code == JNE_K {
                assert_eq!(pc as i64 + 1 + i64::from(i.off), out as i64, "jump at {pc}");
            }
        }
        assert_eq!(p[out].code, MOV64_K);
        assert_eq!(p[out + 1].code, EXIT);
    }

    #[test]
    fn the_tcp_program_compares_each_namespace_skips_other_parts_and_jumps_forward() {
        let l = layout();
        let t = TcpLayout {
            socket_sk: 24,
            sk: 0,
            skc_net: 48,
            net_inum: 176,
            family: 16,
            state: 18,
            num: 14,
            dport: 12,
            bound_if: 20,
            daddr: 0,
            rcv_saddr: 4,
            v6_daddr: 56,
            v6_rcv_saddr: 72,
            uid: 528,
            ack_backlog: 600,
            max_ack_backlog: 604,
            rcv_nxt: 1664,
            copied_seq: 1464,
            write_seq: 1576,
            snd_una: 1672,
            qlen: 1024,
        };
        let netns = [4026531840, 4026532281];
        let p = program(
            &l,
            Some(Tcp {
                layout: &t,
                netns: &netns,
                part: 1,
                parts: 2,
            }),
        );
        let mut compared: Vec<u32> = p
            .iter()
            .filter(|i| i.code == JEQ32_K)
            .map(|i| i.imm as u32)
            .collect();
        compared.sort_unstable();
        assert_eq!(compared, netns, "one 32-bit equality test per namespace");
        let part = p
            .iter()
            .position(|i| i.code == MOD64_K)
            .expect("the part test");
        assert_eq!(p[part].imm, 2);
        assert_eq!((p[part + 1].code, p[part + 1].imm), (JNE_K, 1));
        for (pc, i) in p.iter().enumerate() {
            if matches!(i.code, JA | JEQ_K | JNE_K | JEQ32_K | JGT32_K) {
                let to = pc as i64 + 1 + i64::from(i.off);
                assert!(
                    to > pc as i64 && to < p.len() as i64,
                    "jump at {pc} to {to}"
                );
            }
        }
        assert_eq!(p.last().map(|i| i.code), Some(EXIT));
        // Two writes: the TCP record and the short one.
        let writes = p
            .iter()
            .filter(|i| i.code == CALL && i.imm == BPF_FUNC_SEQ_WRITE);
        assert_eq!(writes.count(), 2);
    }

    /// Runs the comparison tree as the kernel would, for namespace inode `r2`.
    fn tree_says(p: &[Insn], r2: u32) -> bool {
        let mut pc = p.iter().position(|i| i.code == JEQ32_K).expect("a tree");
        loop {
            let i = p[pc];
            let to = (pc as i64 + 1 + i64::from(i.off)) as usize;
            match i.code {
                JEQ32_K if r2 == i.imm as u32 => return true,
                JGT32_K if r2 > i.imm as u32 => pc = to,
                JEQ32_K | JGT32_K => pc += 1,
                JA => return false,
                other => panic!("opcode {other:#x} inside the tree at {pc}"),
            }
        }
    }

    #[test]
    fn the_namespace_tree_finds_exactly_the_namespaces_asked_for() {
        for n in [1usize, 2, 3, 4, 7, 100, 256] {
            // Inodes above 2^31, as the kernel's are: the comparisons must be unsigned 32-bit.
            let wanted: Vec<u32> = (0..n as u32).map(|k| 4_026_531_840 + 3 * k).collect();
            let mut a = Asm::default();
            let mut nodes = 0;
            netns_tree(&mut a, &wanted, &mut nodes);
            a.label(Label::Wanted);
            a.op(MOV64_K, 0, 0, 0, 1);
            a.label(Label::Write);
            a.op(EXIT, 0, 0, 0, 0);
            let p = a.finish();
            for probe in 4_026_531_838..4_026_531_840 + 3 * n as u32 + 2 {
                assert_eq!(
                    tree_says(&p, probe),
                    wanted.contains(&probe),
                    "{n}: {probe}"
                );
            }
            let depth = p.iter().filter(|i| i.code == JGT32_K).count();
            assert!(n < 4 || depth < n, "{n}: a tree, not a list");
        }
    }

    #[test]
    fn only_memory_and_busy_failures_are_worth_retrying() {
        let syscall = |errno| BpfError::Syscall {
            step: "program load",
            err: std::io::Error::from_raw_os_error(errno),
        };
        assert!(syscall(libc::ENOMEM).is_transient());
        assert!(syscall(libc::EAGAIN).is_transient());
        assert!(
            !syscall(libc::EPERM).is_transient(),
            "no privilege stays so"
        );
        assert!(
            !syscall(libc::EINVAL).is_transient(),
            "a kernel without the iterator"
        );
        assert!(!BpfError::Btf("no struct file".into()).is_transient());
    }

    #[test]
    fn the_iterator_finds_a_socket_this_process_holds() {
        if !rustix::process::geteuid().is_root() {
            eprintln!("skipped: the task_file iterator needs root");
            return;
        }
        let files = match TaskFiles::load() {
            Ok(f) => f,
            Err(e) => {
                eprintln!("skipped: this kernel cannot run the iterator: {e}");
                return;
            }
        };
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let inode = std::fs::metadata(format!("/proc/self/fd/{}", l.as_raw_fd()))
            .map(|m| std::os::unix::fs::MetadataExt::ino(&m))
            .expect("stat");
        let mut hits = Vec::new();
        files
            .run(|ino, pid, fd, _| {
                if ino == inode {
                    hits.push((pid, fd));
                }
            })
            .expect("run");
        assert!(
            hits.contains(&(std::process::id(), l.as_raw_fd() as u32)),
            "{hits:?}"
        );
    }

    #[test]
    fn the_tcp_iterator_reads_what_sock_diag_reports_for_a_connection() {
        if !rustix::process::geteuid().is_root() {
            eprintln!("skipped: the task_file iterator needs root");
            return;
        }
        let files = match TaskFiles::load_tcp(&[], 1) {
            Ok(mut f) => f.pop().expect("one iterator for one part"),
            Err(e) => {
                eprintln!("skipped: this kernel cannot run the TCP iterator: {e}");
                return;
            }
        };
        let inode_of = |fd: RawFd| {
            std::fs::metadata(format!("/proc/self/fd/{fd}"))
                .map(|m| std::os::unix::fs::MetadataExt::ino(&m))
                .expect("stat")
        };
        let netns = std::fs::metadata("/proc/self/ns/net")
            .map(|m| std::os::unix::fs::MetadataExt::ino(&m))
            .expect("stat netns");
        let l4 = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let c4 = std::net::TcpStream::connect(l4.local_addr().expect("addr")).expect("connect");
        let l6 = std::net::TcpListener::bind("[::1]:0");
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp");
        let mut seen = std::collections::HashMap::new();
        let mut plain = Vec::new();
        files
            .run(|inode, pid, _fd, tcp| {
                if pid != std::process::id() {
                    return;
                }
                match tcp {
                    Some(r) => {
                        seen.insert(inode, *r);
                    }
                    None => plain.push(inode),
                }
            })
            .expect("run");
        let listener = seen.get(&inode_of(l4.as_raw_fd())).expect("the listener");
        assert_eq!(listener.netns as u64, netns);
        assert_eq!(listener.family, libc::AF_INET as u16);
        assert_eq!(listener.state, 10, "LISTEN");
        assert_eq!(listener.local_port, l4.local_addr().expect("addr").port());
        assert_eq!(listener.local4, [127, 0, 0, 1]);
        assert_eq!(listener.max_ack_backlog, 128, "std's listen backlog");
        let client = seen.get(&inode_of(c4.as_raw_fd())).expect("the client");
        assert_eq!(client.state, 1, "ESTABLISHED");
        assert_eq!(client.remote_port, l4.local_addr().expect("addr").port());
        assert_eq!(client.local_port, c4.local_addr().expect("addr").port());
        assert_eq!(client.remote4, [127, 0, 0, 1]);
        assert_eq!(client.uid, rustix::process::getuid().as_raw());
        assert_eq!(
            client.write_seq.wrapping_sub(client.snd_una),
            0,
            "nothing unacked"
        );
        if let Ok(l6) = l6 {
            let r = seen
                .get(&inode_of(l6.as_raw_fd()))
                .expect("the IPv6 listener");
            assert_eq!(r.family, libc::AF_INET6 as u16);
            assert_eq!(r.local6, std::net::Ipv6Addr::LOCALHOST.octets());
        }
        assert!(
            plain.contains(&inode_of(udp.as_raw_fd())),
            "UDP gets the short record"
        );
        assert!(!seen.contains_key(&inode_of(udp.as_raw_fd())));
    }
}
