//! Records real fuzzing seeds from this machine: sock_diag dump datagrams, the extension
//! attributes (tcp_info, skmeminfo) of real TCP sockets, /proc/net lines and the
//! `--statistics` files.
//!
//! The fuzz targets in `fuzz/` start from these, so mutation begins from what the kernel really
//! sends rather than from hand-written bytes. The helper opens a varied set of its own sockets
//! (TCP listener and connection that moved data both ways, v4 and v6, UDP connected and not,
//! unix stream/datagram with a path holding a space, an abstract name holding a NUL, and a raw
//! ICMP socket when root), dumps every table over NETLINK_SOCK_DIAG with raw syscalls (TCP also
//! with every extension requested), and keeps its own records (plus two foreign ones and the
//! closing DONE) so each seed stays small.
//!
//! Run: `cargo run --example capture_seeds -- fuzz/seeds`

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram, UnixListener, UnixStream};
use std::path::{Path, PathBuf};

use rnetstat::fuzzing::netlink_extensions::{INET_DIAG_INFO, INET_DIAG_SKMEMINFO};
use rnetstat::fuzzing::netlink_parse::{
    attributes, messages, INET_DIAG_MSG_LEN, NLMSG_DONE, NLMSG_ERROR, SOCK_DIAG_BY_FAMILY,
};

const NETLINK_SOCK_DIAG: i32 = 4;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_DUMP: u16 = 0x300;

fn main() -> std::io::Result<()> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "fuzz/seeds".into()),
    );
    let tmp = std::env::temp_dir().join(format!("rnetstat seeds {}", std::process::id()));
    std::fs::create_dir_all(&tmp)?;

    // Our own sockets, so the capture holds every kind of record.
    let l4 = TcpListener::bind("127.0.0.1:0")?;
    let mut c4 = TcpStream::connect(l4.local_addr()?)?;
    let (mut a4, _) = l4.accept()?;
    // Move data both ways and leave some unread, so tcp_info and skmeminfo hold real counters
    // (bytes_acked, segs_out, delivery_rate, rmem_alloc...) rather than a fresh socket's zeros.
    c4.write_all(&[0x5a; 100_000])?;
    let mut got = vec![0u8; 60_000];
    a4.read_exact(&mut got)?;
    a4.write_all(b"reply")?;
    c4.read_exact(&mut got[..5])?;
    let l6 = TcpListener::bind("[::1]:0").ok();
    let c6 = l6
        .as_ref()
        .and_then(|l| TcpStream::connect(l.local_addr().ok()?).ok());
    let u4 = UdpSocket::bind("127.0.0.1:0")?;
    let u4c = UdpSocket::bind("127.0.0.1:0")?;
    u4c.connect(u4.local_addr()?)?;
    u4c.send(b"queued")?; // leaves bytes in u4's receive queue
    let u6 = UdpSocket::bind("[::1]:0").ok();
    let ul = UnixListener::bind(tmp.join("a b.sock"))?;
    let uc = UnixStream::connect(tmp.join("a b.sock"))?;
    let abs = UnixDatagram::bind_addr(&SocketAddr::from_abstract_name(b"rnetstat\0seed")?)?;
    let (p1, p2) = UnixStream::pair()?;
    let raw = open_raw_icmp();
    let _keep = (&c4, &a4, &c6, &u6, &ul, &uc, &abs, &p1, &p2, &raw);

    let ours = own_inodes()?;
    eprintln!("holding {} sockets", ours.len());

    // Netlink datagrams.
    let dir = out.join("netlink_datagram");
    std::fs::create_dir_all(&dir)?;
    for (name, req) in [
        (
            "tcp4",
            inet_req(libc::AF_INET as u8, libc::IPPROTO_TCP as u8, 0),
        ),
        (
            "tcp6",
            inet_req(libc::AF_INET6 as u8, libc::IPPROTO_TCP as u8, 0),
        ),
        (
            "tcp4-ext",
            inet_req(libc::AF_INET as u8, libc::IPPROTO_TCP as u8, EXT_ALL),
        ),
        (
            "tcp6-ext",
            inet_req(libc::AF_INET6 as u8, libc::IPPROTO_TCP as u8, EXT_ALL),
        ),
        (
            "udp4",
            inet_req(libc::AF_INET as u8, libc::IPPROTO_UDP as u8, 0),
        ),
        (
            "udp6",
            inet_req(libc::AF_INET6 as u8, libc::IPPROTO_UDP as u8, 0),
        ),
        (
            "raw4",
            inet_req(libc::AF_INET as u8, libc::IPPROTO_RAW as u8, 0),
        ),
        ("unix", unix_req()),
    ] {
        let dgrams = dump(&req)?;
        if name.ends_with("-ext") {
            extension_seeds(&out, name, &dgrams, &ours)?;
        }
        let small = shrink(&dgrams, &ours);
        std::fs::write(dir.join(format!("{name}.bin")), &small)?;
        eprintln!(
            "{name}: {} datagrams, seed {} bytes",
            dgrams.len(),
            small.len()
        );
    }

    // The --statistics files, whole.
    let dir = out.join("stats");
    std::fs::create_dir_all(&dir)?;
    for file in ["snmp", "netstat", "snmp6", "sctp/snmp"] {
        if let Ok(text) = std::fs::read(Path::new("/proc/net").join(file)) {
            std::fs::write(dir.join(file.replace('/', "_")), text)?;
        }
    }

    // /proc/net lines; the inet seed's first byte selects the table (see the fuzz target).
    let dir = out.join("procnet_inet");
    std::fs::create_dir_all(&dir)?;
    for (file, sel) in [("tcp", 0u8), ("udp", 1), ("udplite", 2), ("raw", 3)] {
        for (v6, suffix) in [(0u8, ""), (4, "6")] {
            let name = format!("{file}{suffix}");
            let lines = proc_lines(&name, &ours, |l| {
                l.split_ascii_whitespace()
                    .nth(9)
                    .and_then(|i| i.parse().ok())
            })?;
            for (n, line) in lines.iter().enumerate() {
                let mut seed = vec![sel | v6 | (4 << 3)]; // 4 << 3: 100 ticks per second
                seed.extend_from_slice(line.as_bytes());
                std::fs::write(dir.join(format!("{name}-{n}")), seed)?;
            }
        }
    }
    let dir = out.join("procnet_unix");
    std::fs::create_dir_all(&dir)?;
    let lines = proc_lines("unix", &ours, |l| {
        l.split_ascii_whitespace()
            .nth(6)
            .and_then(|i| i.parse().ok())
    })?;
    for (n, line) in lines.iter().enumerate() {
        std::fs::write(dir.join(format!("unix-{n}")), line)?;
    }

    // Names the escaper sees: real comm values and unix paths, plus hostile ones.
    let dir = out.join("escape");
    std::fs::create_dir_all(&dir)?;
    let mut names: Vec<Vec<u8>> = vec![
        b"nginx: worker".to_vec(),
        b"\x1b[31mred\x1b[0m".to_vec(),
        b"a\nb\tc\r\0d\x7f".to_vec(),
        b"bad\xff\xfeutf8\xe2\x82".to_vec(),
        "caf\u{e9} \u{202e}evil\u{9b}".as_bytes().to_vec(),
        b"back\\slash".to_vec(),
    ];
    names.push(std::fs::read("/proc/self/comm")?);
    names.push(std::fs::read("/proc/1/comm").unwrap_or_default());
    for (n, name) in names.iter().enumerate() {
        std::fs::write(dir.join(format!("name-{n}")), name)?;
    }
    std::fs::remove_dir_all(&tmp)?;
    Ok(())
}

fn open_raw_icmp() -> Option<OwnedFd> {
    // SAFETY: plain socket(2); the fd is owned immediately.
    let fd = unsafe {
        libc::socket(
            libc::AF_INET,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::IPPROTO_ICMP,
        )
    };
    // SAFETY: fd is a fresh descriptor we own.
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) })
}

fn own_inodes() -> std::io::Result<HashSet<u64>> {
    let mut set = HashSet::new();
    for e in std::fs::read_dir("/proc/self/fd")? {
        let Ok(link) = std::fs::read_link(e?.path()) else {
            continue;
        };
        let link = link.to_string_lossy().into_owned();
        if let Some(n) = link
            .strip_prefix("socket:[")
            .and_then(|s| s.strip_suffix(']'))
        {
            set.insert(n.parse().unwrap_or(0));
        }
    }
    Ok(set)
}

/// `idiag_ext` bits 1..=8: MEMINFO, INFO, VEGASINFO, CONG, TOS, TCLASS, SKMEMINFO, SHUTDOWN.
const EXT_ALL: u8 = 0xff;

/// The `tcpinfo` target's seeds: for each of our own TCP records in an extension dump, its
/// whole attribute stream and, alone, its `INET_DIAG_INFO` (tcp_info) and `INET_DIAG_SKMEMINFO`
/// values.
fn extension_seeds(
    out: &Path,
    name: &str,
    dgrams: &[Vec<u8>],
    ours: &HashSet<u64>,
) -> std::io::Result<()> {
    let dir = out.join("tcpinfo");
    std::fs::create_dir_all(&dir)?;
    let mut n = 0;
    for d in dgrams {
        for m in messages(d) {
            let Ok(m) = m else { break };
            if m.kind != SOCK_DIAG_BY_FAMILY || m.payload.len() < INET_DIAG_MSG_LEN {
                continue;
            }
            let ino =
                u32::from_ne_bytes([m.payload[68], m.payload[69], m.payload[70], m.payload[71]]);
            if !ours.contains(&u64::from(ino)) {
                continue;
            }
            let attrs = &m.payload[INET_DIAG_MSG_LEN..];
            std::fs::write(dir.join(format!("{name}-{n}-attrs")), attrs)?;
            for (kind, v) in attributes(attrs) {
                let what = match kind {
                    INET_DIAG_INFO => "info",
                    INET_DIAG_SKMEMINFO => "skmeminfo",
                    _ => continue,
                };
                std::fs::write(dir.join(format!("{name}-{n}-{what}")), v)?;
            }
            n += 1;
        }
    }
    eprintln!("{name}: {n} tcpinfo seeds");
    Ok(())
}

/// `nlmsghdr` + `inet_diag_req_v2` asking for every state and the `ext` extensions.
fn inet_req(family: u8, proto: u8, ext: u8) -> Vec<u8> {
    let mut body = vec![
        family,
        proto,
        ext,
        if proto == libc::IPPROTO_RAW as u8 {
            proto
        } else {
            0
        },
    ];
    body.extend_from_slice(&u32::MAX.to_ne_bytes()); // idiag_states
    body.extend_from_slice(&[0; 48]); // inet_diag_sockid
    with_header(&body)
}

/// `nlmsghdr` + `unix_diag_req` asking for name, vfs, peer, rqlen and uid.
fn unix_req() -> Vec<u8> {
    let mut body = vec![libc::AF_UNIX as u8, 0, 0, 0];
    body.extend_from_slice(&u32::MAX.to_ne_bytes()); // udiag_states
    body.extend_from_slice(&0u32.to_ne_bytes()); // udiag_ino
    body.extend_from_slice(&(0x01u32 | 0x02 | 0x04 | 0x10 | 0x40).to_ne_bytes()); // show
    body.extend_from_slice(&[0xff; 8]); // cookie
    with_header(&body)
}

fn with_header(body: &[u8]) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&((16 + body.len()) as u32).to_ne_bytes());
    m.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    m.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    m.extend_from_slice(&1u32.to_ne_bytes()); // seq
    m.extend_from_slice(&0u32.to_ne_bytes()); // pid
    m.extend_from_slice(body);
    m
}

/// Sends `req` and returns every datagram of the answer, up to DONE or ERROR.
fn dump(req: &[u8]) -> std::io::Result<Vec<Vec<u8>>> {
    // SAFETY: plain socket(2); the fd is owned immediately.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            NETLINK_SOCK_DIAG,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh descriptor we own.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: req is a valid buffer of req.len() bytes; the kernel is the default destination.
    if unsafe { libc::send(sock.as_raw_fd(), req.as_ptr().cast(), req.len(), 0) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut all = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        // SAFETY: buf is a valid writable buffer of buf.len() bytes.
        let n = unsafe { libc::recv(sock.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n <= 0 {
            return Err(std::io::Error::last_os_error());
        }
        let d = buf[..n as usize].to_vec();
        let end =
            messages(&d).any(|m| m.is_ok_and(|m| m.kind == NLMSG_DONE || m.kind == NLMSG_ERROR));
        all.push(d);
        if end {
            return Ok(all);
        }
    }
}

/// One datagram with our own records, two foreign ones and the closing message.
fn shrink(dgrams: &[Vec<u8>], ours: &HashSet<u64>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut foreign = 0;
    for d in dgrams {
        let mut at = 0usize;
        for m in messages(d) {
            let Ok(m) = m else { break };
            let len = 16 + m.payload.len();
            let raw = &d[at..at + len];
            at += (len + 3) & !3;
            let keep = match m.kind {
                SOCK_DIAG_BY_FAMILY => {
                    let ino = if m.payload.first() == Some(&(libc::AF_UNIX as u8)) {
                        m.payload.get(4..8)
                    } else {
                        m.payload.get(68..72)
                    };
                    let ino = ino.map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
                    let mine = ino.is_some_and(|i| ours.contains(&u64::from(i)));
                    if !mine {
                        foreign += 1;
                    }
                    mine || foreign <= 2
                }
                _ => true,
            };
            if keep {
                out.extend_from_slice(raw);
                out.resize((out.len() + 3) & !3, 0);
            }
        }
    }
    out
}

/// Lines of /proc/net/<name> (header excluded) for our sockets and two foreign ones.
fn proc_lines(
    name: &str,
    ours: &HashSet<u64>,
    inode: impl Fn(&str) -> Option<u64>,
) -> std::io::Result<Vec<String>> {
    let path = Path::new("/proc/net").join(name);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(Vec::new());
    };
    let mut foreign = 0;
    let mut keep = Vec::new();
    for line in text.lines().skip(1) {
        let mine = inode(line).is_some_and(|i| ours.contains(&i));
        if !mine {
            foreign += 1;
        }
        if mine || foreign <= 2 {
            keep.push(format!("{line}\n"));
        }
    }
    let _ = std::io::stderr().flush();
    Ok(keep)
}
