//! Evaluating a parsed filter against one socket of the model, the way ss does.
//!
//! ss keeps a socket only when both its kernel bytecode and its user-space evaluator
//! (`run_ssfilter`) accept it, and the two disagree on address families and on `*` in port
//! comparisons. So each condition is judged here in both [`Judge`]s and the expression's value is
//! the AND of the two whole-expression values, exactly as ss's two passes give it.

use std::net::IpAddr;

use super::{CmpOp, Cond, Expr, PortSpec, Prefix, Side, ALL_STATES};
use crate::model::{InetInfo, InetProto, Socket, State};

/// Whether `state` is in `mask`. A state number too large for a mask bit passes only the
/// all-states mask.
pub(super) fn state_in(mask: u32, state: State) -> bool {
    match state.mask_bit() {
        0 => mask == ALL_STATES,
        bit => mask & bit != 0,
    }
}

/// Which of ss's two passes a condition is judged in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Judge {
    /// The kernel's `inet_diag_bc_run`: a host test requires the prefix's family (or a
    /// v4-mapped address for an IPv4 prefix); `*` in a port comparison is port 65535.
    Kernel,
    /// ss's `run_ssfilter`: raw address bytes compared whatever the family (v4-mapped also
    /// tried as IPv4); `*` in a port comparison is -1.
    User,
}

/// The expression's value on `sock`, as ss would decide it.
pub(super) fn expr(e: &Expr, sock: &Socket) -> bool {
    both(e, sock.inet())
}

/// Whether the kernel pass applies at all: ss 6.1 compiles no bytecode for an expression with
/// `dev` in it, and then only user space decides.
pub(super) fn kernel_pass_applies(e: &Expr) -> bool {
    !any_cond(e, &|c| matches!(c, Cond::Dev(_)))
}

/// ss's user-space pass, and the kernel's unless the kernel has run it already (a netlink dump
/// with the bytecode: then its verdict, which sees what user space cannot, such as whether a
/// port was bound explicitly, stands) or ss would not send it.
fn both(e: &Expr, inet: Option<&InetInfo>) -> bool {
    eval(e, inet, Judge::User)
        && (!kernel_pass_applies(e)
            || inet.is_some_and(|i| i.kernel_filtered)
            || eval(e, inet, Judge::Kernel))
}

/// The expression's value on a socket without addresses or ports (a unix socket): every
/// condition is false there, so the value is the same for all such sockets.
pub(super) fn on_portless(e: &Expr) -> bool {
    both(e, None)
}

/// Whether some condition of `e` satisfies `f`.
pub(super) fn any_cond(e: &Expr, f: &dyn Fn(&Cond) -> bool) -> bool {
    match e {
        Expr::And(a, b) | Expr::Or(a, b) => any_cond(a, f) || any_cond(b, f),
        Expr::Not(a) => any_cond(a, f),
        Expr::Cond(c) => f(c),
    }
}

pub(super) fn eval(e: &Expr, inet: Option<&InetInfo>, judge: Judge) -> bool {
    match e {
        Expr::And(a, b) => eval(a, inet, judge) && eval(b, inet, judge),
        Expr::Or(a, b) => eval(a, inet, judge) || eval(b, inet, judge),
        Expr::Not(a) => !eval(a, inet, judge),
        Expr::Cond(c) => inet.is_some_and(|i| cond(c, i, judge)),
    }
}

fn cond(c: &Cond, i: &InetInfo, judge: Judge) -> bool {
    let end = |side: &Side| match side {
        Side::Local => i.local,
        Side::Remote => i.remote,
    };
    match c {
        Cond::Host(side, hc) => {
            let ep = end(side);
            hc.port
                .as_ref()
                .is_none_or(|p| p.for_proto(i.proto) == Some(ep.port()))
                && hc.prefix.is_none_or(|p| match judge {
                    Judge::Kernel => kernel_prefix_matches(p, ep.ip()),
                    Judge::User => user_prefix_matches(p, ep.ip()),
                })
        }
        Cond::Port(side, op, spec) => {
            let Some(want) = spec.for_proto(i.proto) else {
                return false;
            };
            let have = end(side).port();
            match op {
                CmpOp::Eq => have == want,
                CmpOp::Ne => have != want,
                CmpOp::Lt => have < want,
                CmpOp::Le => have <= want,
                CmpOp::Gt => have > want,
                CmpOp::Ge => have >= want,
            }
        }
        Cond::PortStar(side, op) => {
            let have = end(side).port();
            match (judge, op) {
                (Judge::Kernel, CmpOp::Ge) => have == u16::MAX,
                (Judge::Kernel, _) => true,
                (Judge::User, CmpOp::Ge) => true,
                (Judge::User, _) => false,
            }
        }
        Cond::Dev(index) => i.bound_if == *index,
        // ss reads a missing mark or cgroup attribute (no CAP_NET_ADMIN, a time-wait socket)
        // as 0, and so does the kernel for sockets that have none.
        Cond::Mark { value, mask } => i.mark.unwrap_or(0) & mask == *value,
        Cond::Cgroup(id) => i.cgroup_id.unwrap_or(0) == *id,
        Cond::Autobound { low, high } => (*low..=*high).contains(&i.local.port()),
    }
}

impl PortSpec {
    /// The port number this spec stands for on a socket of protocol `proto`.
    pub fn for_proto(&self, proto: InetProto) -> Option<u16> {
        match self {
            PortSpec::Number(n) => Some(*n),
            PortSpec::Named { ports, .. } => ports.for_proto(proto.service_proto()),
        }
    }
}

/// The kernel's host test: the families must agree, except that an IPv4 prefix matches a
/// v4-mapped IPv6 address on its last 32 bits; a zero-length prefix then matches.
pub(super) fn kernel_prefix_matches(p: Prefix, ip: IpAddr) -> bool {
    match (p.addr, ip) {
        (IpAddr::V4(want), IpAddr::V4(have)) => {
            bits_equal(u32::from(want).into(), u32::from(have).into(), 32, p.len)
        }
        (IpAddr::V6(want), IpAddr::V6(have)) => {
            bits_equal(u128::from(want), u128::from(have), 128, p.len)
        }
        (IpAddr::V4(want), IpAddr::V6(have)) => {
            mapped(have).is_some_and(|h| bits_equal(u32::from(want).into(), h.into(), 32, p.len))
        }
        (IpAddr::V6(_), IpAddr::V4(_)) => false,
    }
}

/// ss's user-space test (`inet2_addr_match`): the first `len` bits of the raw 16-byte address
/// fields (an IPv4 address is 4 bytes then zeros), whatever the families; failing that, an IPv4
/// prefix is tried on a v4-mapped address's last 32 bits. A zero-length prefix matches all.
pub(super) fn user_prefix_matches(p: Prefix, ip: IpAddr) -> bool {
    if p.len == 0 {
        return true;
    }
    let raw = |a: IpAddr| match a {
        IpAddr::V4(v4) => u128::from(u32::from(v4)) << 96,
        IpAddr::V6(v6) => u128::from(v6),
    };
    if bits_equal(raw(p.addr), raw(ip), 128, p.len) {
        return true;
    }
    match (p.addr, ip) {
        (IpAddr::V4(want), IpAddr::V6(have)) => {
            mapped(have).is_some_and(|h| bits_equal(u32::from(want).into(), h.into(), 32, p.len))
        }
        _ => false,
    }
}

/// The IPv4 address inside `::ffff:a.b.c.d`.
fn mapped(a: std::net::Ipv6Addr) -> Option<u32> {
    a.to_ipv4_mapped().map(u32::from)
}

/// Whether the top `len` of `width` bits of `a` and `b` agree.
fn bits_equal(a: u128, b: u128, width: u32, len: u8) -> bool {
    let len = u32::from(len).min(width);
    if len == 0 {
        return true;
    }
    let shift = width - len;
    (a >> shift) == (b >> shift)
}
