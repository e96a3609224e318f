//! rtnetlink (NETLINK_ROUTE): the primary source of netstat's route and interface tables.
//! Synchronous dumps over a netlink-sys socket — RTM_GETROUTE, RTM_GETLINK (with 64-bit
//! counters), RTM_GETADDR — whose datagrams [`parse`] turns into rows.
//!
//! Same pitfalls as sock_diag (see `source::netlink`): errors can arrive inside NLMSG_DONE,
//! datagrams are sized to the receive buffer the kernel has seen, so we read with MSG_TRUNC into
//! a 64 KiB buffer and fail loudly if one is cut, and stray sequence numbers are ignored.

pub mod parse;

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_packet_route::{
    address::AddressMessage, link::LinkMessage, route::RouteMessage, AddressFamily,
    RouteNetlinkMessage,
};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket as NlSocket};

const RECV_BUF: usize = 64 * 1024;

/// Why an rtnetlink dump failed.
#[derive(Debug)]
pub enum RtnlError {
    /// The socket could not be opened or bound.
    Open(std::io::Error),
    /// Sending the request or receiving the answer failed.
    Io(std::io::Error),
    /// The kernel answered the dump with an error.
    Kernel(i32),
    /// A datagram did not fit the receive buffer.
    Truncated,
}

impl std::fmt::Display for RtnlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RtnlError::Open(_) => f.write_str("cannot open a NETLINK_ROUTE socket"),
            RtnlError::Io(_) => f.write_str("rtnetlink dump failed"),
            RtnlError::Kernel(errno) => write!(
                f,
                "the kernel refused the rtnetlink dump ({})",
                crate::source::error::errno_name(*errno)
            ),
            RtnlError::Truncated => f.write_str("an rtnetlink datagram did not fit the buffer"),
        }
    }
}

impl std::error::Error for RtnlError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RtnlError::Open(e) | RtnlError::Io(e) => Some(e),
            _ => None,
        }
    }
}

/// What a dump asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dump {
    Routes(AddressFamily),
    Links,
    Addresses,
}

/// One rtnetlink conversation.
pub struct Rtnl {
    sock: NlSocket,
    seq: u32,
    buf: Vec<u8>,
}

impl Rtnl {
    pub fn open() -> Result<Rtnl, RtnlError> {
        let mut sock = NlSocket::new(NETLINK_ROUTE).map_err(RtnlError::Open)?;
        sock.bind_auto().map_err(RtnlError::Open)?;
        Ok(Rtnl {
            sock,
            seq: 0,
            buf: vec![0; RECV_BUF],
        })
    }

    /// Runs one dump; returns its messages in the kernel's order and how many could not be
    /// decoded (skipped, not fatal).
    pub fn dump(&mut self, what: Dump) -> Result<(Vec<RouteNetlinkMessage>, usize), RtnlError> {
        self.seq = self.seq.wrapping_add(1);
        let msg = match what {
            Dump::Routes(family) => {
                let mut m = RouteMessage::default();
                m.header.address_family = family;
                RouteNetlinkMessage::GetRoute(m)
            }
            Dump::Links => RouteNetlinkMessage::GetLink(LinkMessage::default()),
            Dump::Addresses => RouteNetlinkMessage::GetAddress(AddressMessage::default()),
        };
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | NLM_F_DUMP;
        header.sequence_number = self.seq;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(msg));
        packet.finalize();
        let mut bytes = vec![0u8; packet.buffer_len()];
        packet.serialize(&mut bytes);
        self.sock.send(&bytes, 0).map_err(RtnlError::Io)?;
        let mut out = Vec::new();
        let mut skipped = 0;
        loop {
            let n = self
                .sock
                .recv(&mut &mut self.buf[..], libc::MSG_TRUNC)
                .map_err(RtnlError::Io)?;
            if n > self.buf.len() {
                return Err(RtnlError::Truncated);
            }
            let walk = parse::walk(&self.buf[..n], self.seq);
            skipped += walk.skipped;
            out.extend(walk.messages);
            match walk.end {
                Some(Ok(())) => return Ok((out, skipped)),
                Some(Err(errno)) => return Err(RtnlError::Kernel(errno)),
                None => {}
            }
        }
    }
}
