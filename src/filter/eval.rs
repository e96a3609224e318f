//! Evaluating a parsed filter against one socket of the model.

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

/// The expression's value on `sock`.
pub(super) fn expr(e: &Expr, sock: &Socket) -> bool {
    eval(e, sock.inet())
}

/// The expression's value on a socket without addresses or ports (a unix socket): every
/// condition is false there, so the value is the same for all such sockets.
pub(super) fn on_portless(e: &Expr) -> bool {
    eval(e, None)
}

fn eval(e: &Expr, inet: Option<&InetInfo>) -> bool {
    match e {
        Expr::And(a, b) => eval(a, inet) && eval(b, inet),
        Expr::Or(a, b) => eval(a, inet) || eval(b, inet),
        Expr::Not(a) => !eval(a, inet),
        Expr::Cond(c) => inet.is_some_and(|i| cond(c, i)),
    }
}

fn cond(c: &Cond, i: &InetInfo) -> bool {
    let end = |side: &Side| match side {
        Side::Local => i.local,
        Side::Remote => i.remote,
    };
    match c {
        Cond::Host(side, hc) => {
            let ep = end(side);
            hc.prefix.is_none_or(|p| prefix_matches(p, ep.ip()))
                && hc
                    .port
                    .as_ref()
                    .is_none_or(|p| p.for_proto(i.proto) == Some(ep.port()))
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

/// Whether `ip` is inside `p`. A zero-length prefix matches every address of either family (as
/// in ss and in the kernel's bytecode); an IPv4 prefix also matches a v4-mapped IPv6 address;
/// otherwise families must agree.
pub(super) fn prefix_matches(p: Prefix, ip: IpAddr) -> bool {
    if p.len == 0 {
        return true;
    }
    match (p.addr, ip) {
        (IpAddr::V4(want), IpAddr::V4(have)) => {
            bits_equal(u32::from(want).into(), u32::from(have).into(), 32, p.len)
        }
        (IpAddr::V6(want), IpAddr::V6(have)) => {
            bits_equal(u128::from(want), u128::from(have), 128, p.len)
        }
        (IpAddr::V4(want), IpAddr::V6(have)) => have
            .to_ipv4_mapped()
            .is_some_and(|h| bits_equal(u32::from(want).into(), u32::from(h).into(), 32, p.len)),
        (IpAddr::V6(_), IpAddr::V4(_)) => false,
    }
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
