//! `-K/--kill`: closing the sockets a filter selects, with the kernel's SOCK_DESTROY (as `ss -K`).
//!
//! Each selected inet socket is named to the kernel by its sock_diag id (addresses, ports,
//! interface, no cookie) in a SOCK_DESTROY request on a netlink socket of its own; the kernel
//! aborts it and its owner's next call fails with ECONNABORTED. Where ss prints
//! "Operation not permitted" and exits 0, closing here stops at the first refusal with an error,
//! and is refused up front without CAP_NET_ADMIN or on a kernel built without
//! CONFIG_INET_DIAG_DESTROY, so nothing is closed then.
//!
//! A sock_diag socket speaks to the network namespace it was created in, whichever thread uses
//! it later: with -N a [`Killer`] is opened by the thread that entered each namespace (see
//! `listing::plan_kill_netns`), and that namespace's sockets are closed over it.

use std::io;
use std::net::IpAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use crate::listing::Visitor;
use crate::model::{Detail, InetProto, Socket};
use crate::procmap::OwnerMap;
use crate::render::Section;

const SOCK_DESTROY: u16 = 21;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_ACK: u16 = 4;
const NLMSG_ERROR: u16 = 2;
const CAP_NET_ADMIN: u32 = 12;

/// Why sockets could not be closed.
#[derive(Debug)]
pub enum KillError {
    /// No CAP_NET_ADMIN (seen in the capability set, or the kernel answered EPERM).
    NotPermitted(Option<io::Error>),
    /// The kernel cannot close sockets (built without CONFIG_INET_DIAG_DESTROY).
    Unsupported(io::Error),
    /// The netlink conversation failed.
    Netlink(io::Error),
}

impl std::fmt::Display for KillError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KillError::NotPermitted(None) => {
                write!(
                    f,
                    "closing sockets (-K) needs CAP_NET_ADMIN; nothing was closed"
                )
            }
            KillError::NotPermitted(Some(_)) => write!(
                f,
                "the kernel refused to close a socket (-K needs CAP_NET_ADMIN); closing \
                 stopped there"
            ),
            KillError::Unsupported(_) => write!(
                f,
                "this kernel cannot close sockets (-K needs CONFIG_INET_DIAG_DESTROY)"
            ),
            KillError::Netlink(_) => write!(f, "the SOCK_DESTROY request failed"),
        }
    }
}

impl std::error::Error for KillError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            KillError::NotPermitted(e) => e.as_ref().map(|e| e as _),
            KillError::Unsupported(e) | KillError::Netlink(e) => Some(e),
        }
    }
}

/// What one SOCK_DESTROY did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// The socket was closed.
    Yes,
    /// It was gone already (ENOENT) or is of a kind the kernel cannot close (EOPNOTSUPP).
    No,
}

/// A netlink socket for SOCK_DESTROY requests.
pub struct Killer {
    fd: OwnedFd,
    seq: u32,
}

impl Killer {
    /// Opens the netlink socket and checks, before anything is closed, that closing can work
    /// here: CAP_NET_ADMIN in the effective set, and a kernel that knows SOCK_DESTROY (asked
    /// about a socket that does not exist: ENOENT means it could close one).
    pub fn open() -> Result<Killer, KillError> {
        if !has_net_admin() {
            return Err(KillError::NotPermitted(None));
        }
        // SAFETY: plain socket(2); the descriptor is owned below.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_SOCK_DIAG,
            )
        };
        if fd < 0 {
            return Err(KillError::Netlink(io::Error::last_os_error()));
        }
        // SAFETY: `fd` is a fresh descriptor nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let mut k = Killer { fd, seq: 0 };
        let probe = Id {
            family: libc::AF_INET as u8,
            protocol: libc::IPPROTO_TCP as u8,
            src: [0; 16],
            dst: [0; 16],
            sport: 0,
            dport: 0,
            ifindex: 0,
        };
        match k.request(&probe) {
            Ok(()) => Ok(k),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(k),
            Err(e) => Err(classify(e)),
        }
    }

    /// Closes `sock` (an inet socket; anything else is `Closed::No`).
    pub fn close(&mut self, sock: &Socket) -> Result<Closed, KillError> {
        let Some(id) = Id::of(sock) else {
            return Ok(Closed::No);
        };
        match self.request(&id) {
            Ok(()) => Ok(Closed::Yes),
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::EOPNOTSUPP)) => {
                Ok(Closed::No)
            }
            Err(e) => Err(classify(e)),
        }
    }

    /// Sends one SOCK_DESTROY and reads its acknowledgement.
    fn request(&mut self, id: &Id) -> io::Result<()> {
        self.seq = self.seq.wrapping_add(1);
        let msg = id.message(self.seq);
        // SAFETY: `msg` is a valid buffer of its length; the kernel address is zeroed.
        let mut to: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        to.nl_family = libc::AF_NETLINK as u16;
        // SAFETY: pointers and lengths describe live buffers.
        let n = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                msg.as_ptr().cast(),
                msg.len(),
                0,
                (&to as *const libc::sockaddr_nl).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as u32,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut buf = [0u8; 1024];
        loop {
            // SAFETY: `buf` is writable for its length.
            let n =
                unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            let got = &buf[..n as usize];
            // nlmsghdr: len u32, type u16, flags u16, seq u32, pid u32; then the error code.
            if got.len() < 20 {
                return Err(io::Error::other("short netlink answer to SOCK_DESTROY"));
            }
            let kind = u16::from_ne_bytes([got[4], got[5]]);
            let seq = u32::from_ne_bytes([got[8], got[9], got[10], got[11]]);
            if seq != self.seq {
                continue;
            }
            if kind != NLMSG_ERROR {
                return Err(io::Error::other(format!(
                    "unexpected netlink message type {kind} answering SOCK_DESTROY"
                )));
            }
            let code = i32::from_ne_bytes([got[16], got[17], got[18], got[19]]);
            return if code == 0 {
                Ok(())
            } else {
                Err(io::Error::from_raw_os_error(-code))
            };
        }
    }
}

fn classify(e: io::Error) -> KillError {
    match e.raw_os_error() {
        Some(libc::EPERM | libc::EACCES) => KillError::NotPermitted(Some(e)),
        Some(libc::EOPNOTSUPP) => KillError::Unsupported(e),
        _ => KillError::Netlink(e),
    }
}

/// Whether CAP_NET_ADMIN is in this process's effective set (/proc/self/status `CapEff`).
fn has_net_admin() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("CapEff:"))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        })
        .is_some_and(|caps| caps & (1 << CAP_NET_ADMIN) != 0)
}

/// The sock_diag id of an inet socket.
struct Id {
    family: u8,
    protocol: u8,
    src: [u8; 16],
    dst: [u8; 16],
    sport: u16,
    dport: u16,
    ifindex: u32,
}

impl Id {
    fn of(sock: &Socket) -> Option<Id> {
        let Detail::Inet(i) = &sock.detail else {
            return None;
        };
        let protocol = match i.proto {
            InetProto::Tcp => libc::IPPROTO_TCP,
            InetProto::Udp => libc::IPPROTO_UDP,
            InetProto::UdpLite => libc::IPPROTO_UDPLITE,
            // Raw sockets come from /proc here, and their destroy request needs the raw
            // protocol number as well.
            InetProto::Raw => return None,
        } as u8;
        let bytes = |ip: IpAddr| {
            let mut b = [0u8; 16];
            match ip {
                IpAddr::V4(a) => b[..4].copy_from_slice(&a.octets()),
                IpAddr::V6(a) => b.copy_from_slice(&a.octets()),
            }
            b
        };
        Some(Id {
            family: match i.family {
                crate::model::Family::V4 => libc::AF_INET as u8,
                crate::model::Family::V6 => libc::AF_INET6 as u8,
            },
            protocol,
            src: bytes(i.local.ip()),
            dst: bytes(i.remote.ip()),
            sport: i.local.port(),
            dport: i.remote.port(),
            ifindex: i.bound_if,
        })
    }

    /// nlmsghdr + inet_diag_req_v2 { family, protocol, ext, pad, states, id }.
    fn message(&self, seq: u32) -> Vec<u8> {
        let mut m = Vec::with_capacity(72);
        m.extend_from_slice(&72u32.to_ne_bytes());
        m.extend_from_slice(&SOCK_DESTROY.to_ne_bytes());
        m.extend_from_slice(&(NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
        m.extend_from_slice(&seq.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(&[self.family, self.protocol, 0, 0]);
        m.extend_from_slice(&u32::MAX.to_ne_bytes()); // every state
        m.extend_from_slice(&self.sport.to_be_bytes());
        m.extend_from_slice(&self.dport.to_be_bytes());
        m.extend_from_slice(&self.src);
        m.extend_from_slice(&self.dst);
        m.extend_from_slice(&self.ifindex.to_ne_bytes());
        m.extend_from_slice(&[0xff; 8]); // INET_DIAG_NOCOOKIE
        debug_assert_eq!(m.len(), 72);
        m
    }
}

/// A visitor that closes each socket it is given and passes on only those it closed, so the
/// usual printer shows what was closed. The first refusal stops the walk.
pub struct Closing<'a, V> {
    pub killer: Killer,
    pub inner: &'a mut V,
    /// Sockets closed.
    pub closed: usize,
    /// The refusal that stopped the walk.
    pub error: Option<KillError>,
}

impl<V: Visitor> Visitor for Closing<'_, V> {
    fn section(&mut self, section: Section) -> io::Result<()> {
        self.inner.section(section)
    }

    fn socket(&mut self, s: &Socket, owners: Option<&OwnerMap>) -> io::Result<()> {
        match self.killer.close(s) {
            Ok(Closed::Yes) => {
                self.closed += 1;
                self.inner.socket(s, owners)
            }
            Ok(Closed::No) => Ok(()),
            Err(e) => {
                self.error = Some(e);
                Err(io::Error::other("closing stopped"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_names_the_socket_without_a_cookie() {
        let id = Id {
            family: 10,
            protocol: 6,
            src: [1; 16],
            dst: [2; 16],
            sport: 0x1234,
            dport: 80,
            ifindex: 3,
        };
        let m = id.message(7);
        assert_eq!(&m[0..4], &72u32.to_ne_bytes());
        assert_eq!(&m[4..6], &21u16.to_ne_bytes()); // SOCK_DESTROY
        assert_eq!(&m[6..8], &5u16.to_ne_bytes()); // REQUEST | ACK
        assert_eq!(&m[8..12], &7u32.to_ne_bytes());
        assert_eq!(&m[16..20], &[10, 6, 0, 0]);
        assert_eq!(&m[24..26], &[0x12, 0x34]); // sport, big-endian
        assert_eq!(&m[26..28], &[0, 80]);
        assert_eq!(&m[28..44], &[1; 16]);
        assert_eq!(&m[44..60], &[2; 16]);
        assert_eq!(&m[60..64], &3u32.to_ne_bytes());
        assert_eq!(&m[64..72], &[0xff; 8]);
    }
}
