//! INET_DIAG bytecode for an address/port expression (the `INET_DIAG_REQ_BYTECODE` request
//! attribute), so the kernel drops non-matching inet sockets before copying them out. With 100k
//! sockets and a filter naming one port, that is the difference between decoding 100k messages
//! and decoding a handful.
//!
//! The program is built so the kernel's audit (`inet_diag_bc_audit`) accepts it: every op's
//! `yes` falls through to the next op, every `no` jumps forward to an op boundary, the end
//! (accept) or four bytes past the end (reject). Conditions mean exactly what
//! the evaluator's kernel pass (`eval::Judge::Kernel`) computes, and what ss 6.1's
//! `ssfilter_bytecompile` sends: equality uses `S_COND`/`D_COND` host conditions (not the newer
//! `S_EQ`), `>`/`<` are the negations of `<=`/`>=`, a prefix keeps its family even at length 0
//! (so `::/0` is "any IPv6 socket"), `*` in a port comparison is port 65535.
//!
//! `dev` has a kernel op (`DEV_COND`) but ss 6.1 sends no program at all for an expression with
//! `dev`, leaving it to user space, which judges addresses differently. The program is still sent
//! when that difference cannot show (no address prefix, `*` comparison, `autobound` or `fwmark`
//! in the expression), and withheld otherwise.

use std::net::IpAddr;

use super::{CmpOp, Cond, Expr, HostCond, PortSpec, Side};
use crate::model::InetProto;

const JMP: u8 = 1;
const S_GE: u8 = 2;
const S_LE: u8 = 3;
const D_GE: u8 = 4;
const D_LE: u8 = 5;
const AUTO: u8 = 6;
const S_COND: u8 = 7;
const D_COND: u8 = 8;
const DEV_COND: u8 = 9;
const MARK_COND: u8 = 10;
const CGROUP_COND: u8 = 13;

const AF_UNSPEC: u8 = 0;
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;

/// The request attribute type that carries the program.
pub const INET_DIAG_REQ_BYTECODE: u16 = 1;

/// The longest program an `INET_DIAG_REQ_BYTECODE` attribute can carry: its 16-bit length
/// includes the 4-byte attribute header.
pub const MAX_LEN: usize = u16::MAX as usize - 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// A label, placed at an instruction index.
    Label(usize),
    /// Past the end: the socket is rejected.
    Reject,
}

struct Ins {
    code: u8,
    /// What follows the 4-byte op header (a host condition, or the port op).
    payload: Vec<u8>,
    /// Where `no` jumps.
    no: Target,
}

#[derive(Default)]
struct Prog {
    ins: Vec<Ins>,
    /// Label → instruction index it stands before.
    labels: Vec<Option<usize>>,
}

impl Prog {
    fn label(&mut self) -> usize {
        self.labels.push(None);
        self.labels.len() - 1
    }

    fn place(&mut self, l: usize) {
        self.labels[l] = Some(self.ins.len());
    }

    fn emit(&mut self, code: u8, payload: Vec<u8>, no: Target) {
        self.ins.push(Ins { code, payload, no });
    }

    /// Code that falls through when `e` holds and jumps to `f` when it does not.
    fn gen(&mut self, e: &Expr, proto: InetProto, f: Target) {
        match e {
            Expr::And(a, b) => {
                self.gen(a, proto, f);
                self.gen(b, proto, f);
            }
            Expr::Or(a, b) => {
                let try_b = self.label();
                let end = self.label();
                self.gen(a, proto, Target::Label(try_b));
                self.emit(JMP, Vec::new(), Target::Label(end));
                self.place(try_b);
                self.gen(b, proto, f);
                self.place(end);
            }
            Expr::Not(a) => self.negated(f, |p, t| p.gen(a, proto, t)),
            Expr::Cond(c) => self.cond(c, proto, f),
        }
    }

    /// Code for the negation of what `inner` emits.
    fn negated(&mut self, f: Target, inner: impl FnOnce(&mut Prog, Target)) {
        let holds_not = self.label();
        inner(self, Target::Label(holds_not));
        self.emit(JMP, Vec::new(), f);
        self.place(holds_not);
    }

    fn cond(&mut self, c: &Cond, proto: InetProto, f: Target) {
        match c {
            Cond::Host(side, hc) => {
                let port = match &hc.port {
                    None => None,
                    Some(spec) => match spec.for_proto(proto) {
                        Some(n) => Some(n),
                        None => return self.emit(JMP, Vec::new(), f), // never true
                    },
                };
                self.emit(host_code(*side), host_cond(hc, port), f);
            }
            Cond::Port(side, op, spec) => {
                let Some(n) = spec.for_proto(proto) else {
                    return self.emit(JMP, Vec::new(), f);
                };
                let any_host = HostCond {
                    prefix: None,
                    port: Some(PortSpec::Number(n)),
                };
                let (ge, le) = match side {
                    Side::Local => (S_GE, S_LE),
                    Side::Remote => (D_GE, D_LE),
                };
                let code = host_code(*side);
                match op {
                    CmpOp::Eq => self.emit(code, host_cond(&any_host, Some(n)), f),
                    CmpOp::Ne => {
                        self.negated(f, |p, t| p.emit(code, host_cond(&any_host, Some(n)), t))
                    }
                    CmpOp::Ge => self.emit(ge, port_op(n), f),
                    CmpOp::Le => self.emit(le, port_op(n), f),
                    CmpOp::Gt => self.negated(f, |p, t| p.emit(le, port_op(n), t)),
                    CmpOp::Lt => self.negated(f, |p, t| p.emit(ge, port_op(n), t)),
                }
            }
            // ss stores port -1 in the op's 16-bit field: 65535.
            Cond::PortStar(side, op) => {
                let (ge, le) = match side {
                    Side::Local => (S_GE, S_LE),
                    Side::Remote => (D_GE, D_LE),
                };
                let code = if *op == CmpOp::Ge { ge } else { le };
                self.emit(code, port_op(u16::MAX), f);
            }
            Cond::Dev(index) => self.emit(DEV_COND, index.to_ne_bytes().to_vec(), f),
            Cond::Mark { value, mask } => {
                let mut v = value.to_ne_bytes().to_vec();
                v.extend_from_slice(&mask.to_ne_bytes());
                self.emit(MARK_COND, v, f);
            }
            Cond::Cgroup(id) => self.emit(CGROUP_COND, id.to_ne_bytes().to_vec(), f),
            Cond::Autobound { .. } => self.emit(AUTO, Vec::new(), f),
        }
    }

    /// Lays the program out; `None` when a jump does not fit the op's 16-bit field or the
    /// program does not fit the netlink attribute (16-bit length, 4-byte header) it travels in.
    fn assemble(&self) -> Option<Vec<u8>> {
        let mut pos = Vec::with_capacity(self.ins.len() + 1);
        let mut at = 0usize;
        for i in &self.ins {
            pos.push(at);
            at += 4 + i.payload.len();
        }
        let total = at;
        if total > MAX_LEN {
            return None;
        }
        pos.push(total);
        let mut out = Vec::with_capacity(total);
        for (k, i) in self.ins.iter().enumerate() {
            let target = match i.no {
                Target::Reject => total + 4,
                Target::Label(l) => pos[self.labels[l]?],
            };
            let yes = u8::try_from(4 + i.payload.len()).ok()?;
            let no = u16::try_from(target.checked_sub(pos[k])?).ok()?;
            out.push(i.code);
            out.push(yes);
            out.extend_from_slice(&no.to_ne_bytes());
            out.extend_from_slice(&i.payload);
        }
        Some(out)
    }
}

fn host_code(side: Side) -> u8 {
    match side {
        Side::Local => S_COND,
        Side::Remote => D_COND,
    }
}

/// `struct inet_diag_hostcond { u8 family; u8 prefix_len; int port; be32 addr[]; }`.
fn host_cond(hc: &HostCond, port: Option<u16>) -> Vec<u8> {
    let (family, len, addr): (u8, u8, Vec<u8>) = match hc.prefix {
        None => (AF_UNSPEC, 0, Vec::new()),
        Some(p) => match p.addr {
            IpAddr::V4(a) => (AF_INET, p.len, a.octets().to_vec()),
            IpAddr::V6(a) => (AF_INET6, p.len, a.octets().to_vec()),
        },
    };
    let port: i32 = port.map_or(-1, i32::from);
    let mut v = vec![family, len, 0, 0];
    v.extend_from_slice(&port.to_ne_bytes());
    v.extend_from_slice(&addr);
    v
}

/// The second op of a port comparison: its `no` field holds the port.
fn port_op(port: u16) -> Vec<u8> {
    let mut v = vec![0, 0];
    v.extend_from_slice(&port.to_ne_bytes());
    v
}

/// Compiles `e` for sockets of `proto` (named ports resolve per protocol). `None` when the
/// program would be too long for the op format, or when the expression has `dev` and the
/// kernel's reading of it could differ from ss's user-space one (then filter in user space only).
pub fn compile(e: &Expr, proto: InetProto) -> Option<Vec<u8>> {
    if !super::eval::kernel_pass_applies(e)
        && super::eval::any_cond(e, &|c| {
            matches!(
                c,
                Cond::PortStar(..) | Cond::Autobound { .. } | Cond::Mark { .. }
            ) || matches!(c, Cond::Host(_, h) if h.prefix.is_some())
        })
    {
        return None;
    }
    let mut p = Prog::default();
    p.gen(e, proto, Target::Reject);
    p.assemble()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::{Filter, NoLookup};

    fn code(text: &str) -> Vec<u8> {
        let f = Filter::parse(&[text], &NoLookup).expect("parses");
        compile(f.expression().expect("expr"), InetProto::Tcp).expect("compiles")
    }

    fn op(code: u8, yes: u8, no: u16) -> Vec<u8> {
        let mut v = vec![code, yes];
        v.extend_from_slice(&no.to_ne_bytes());
        v
    }

    #[test]
    fn a_port_equality_is_one_host_condition_rejecting_past_the_end() {
        let mut want = op(S_COND, 12, 12 + 4);
        want.extend_from_slice(&[AF_UNSPEC, 0, 0, 0]);
        want.extend_from_slice(&22i32.to_ne_bytes());
        assert_eq!(code("sport = :22"), want);
    }

    #[test]
    fn an_address_carries_family_prefix_and_bytes() {
        let b = code("dst 10.0.0.0/8:443");
        assert_eq!(&b[..4], &op(D_COND, 16, 20)[..]);
        assert_eq!(&b[4..8], &[AF_INET, 8, 0, 0]);
        assert_eq!(&b[8..12], &443i32.to_ne_bytes());
        assert_eq!(&b[12..16], &[10, 0, 0, 0]);
        let b = code("src [::1]");
        assert_eq!(b.len(), 4 + 8 + 16);
        assert_eq!(&b[4..6], &[AF_INET6, 128]);
        assert_eq!(&b[8..12], &(-1i32).to_ne_bytes());
    }

    #[test]
    fn or_and_not_jump_forward_to_op_boundaries() {
        // sport = :1 or dport > :2, where `>` is not(<=):
        //  0 S_COND :1   no → 16 (try the right side)
        // 12 JMP         no → 28 (end: accept)
        // 16 D_LE 2      no → 28 (<= failed, so > holds: accept)
        // 24 JMP         no → 32 (<= held: reject)
        let b = code("sport = :1 or dport > :2");
        let at = |o: usize| (b[o], b[o + 1], u16::from_ne_bytes([b[o + 2], b[o + 3]]));
        assert_eq!(b.len(), 12 + 4 + 8 + 4);
        assert_eq!(at(0), (S_COND, 12, 16));
        assert_eq!(at(12), (JMP, 4, 28 - 12)); // to the end: accept
        assert_eq!(at(16), (D_LE, 8, 28 - 16)); // <= fails → `>` holds → end
        assert_eq!(u16::from_ne_bytes([b[22], b[23]]), 2);
        assert_eq!(at(24), (JMP, 4, 28 + 4 - 24)); // <= held → reject
    }

    /// `a or b` where each side is a chain of IPv6 host conditions just short of the 16-bit
    /// jump limit: every jump fits, but the whole program (twice as long) did not fit the
    /// attribute, and was emitted anyway, so the request failed instead of falling back to
    /// filtering in user space. Built directly: the parser no longer accepts that many
    /// conditions.
    #[test]
    fn a_program_longer_than_a_netlink_attribute_is_not_emitted() {
        let cond = || {
            Expr::Cond(Cond::Host(
                Side::Local,
                HostCond {
                    prefix: Some(super::super::Prefix {
                        addr: "::1".parse().expect("address"),
                        len: 128,
                    }),
                    port: None,
                },
            ))
        };
        // Balanced, so building, compiling and dropping it recurse only a dozen levels.
        fn chain(n: usize, cond: &dyn Fn() -> Expr) -> Expr {
            if n == 1 {
                return cond();
            }
            let a = chain(n / 2, cond);
            let b = chain(n - n / 2, cond);
            Expr::And(Box::new(a), Box::new(b))
        }
        // 2300 conditions of 28 bytes: 64,400 bytes a side, jumps up to 64,404.
        let e = Expr::Or(Box::new(chain(2300, &cond)), Box::new(chain(2300, &cond)));
        assert_eq!(compile(&e, InetProto::Tcp), None);
        // One side alone fits, right at the boundary's safe side.
        let one = compile(&chain(2300, &cond), InetProto::Tcp).expect("64,400 bytes fit");
        assert!(one.len() <= MAX_LEN);
    }
}
