//! `window`: TCP's sliding window, made visible. A receiver stops reading: its Recv-Q fills, the
//! window it advertises falls to zero, the sender's Send-Q grows and its writes would block.
//! Then the receiver drains and the window reopens. Queues come from the listing, window and
//! mss figures from getsockopt(TCP_INFO).

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Result;
use serde::Serialize;

use super::{errno_name, lo, nap, Ctx, Listing, Sock};

/// The tcp_info fields the demo shows, decoded by the library ([`rnetstat::TcpInfo`]) from the
/// bytes the kernel returns (older kernels return fewer: a field past the end is `None`).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct TcpInfo {
    pub snd_mss: Option<u32>,
    pub rcv_mss: Option<u32>,
    /// The receive window the peer last advertised (what this end may still send).
    pub snd_wnd: Option<u32>,
    /// The receive window this end advertises.
    pub rcv_wnd: Option<u32>,
    pub rcv_space: Option<u32>,
    pub unacked: Option<u32>,
}

/// getsockopt(TCP_INFO).
pub fn tcp_info(fd: i32) -> io::Result<TcpInfo> {
    let mut buf = [0u8; 512];
    let mut len = buf.len() as libc::socklen_t;
    // SAFETY: the buffer and its length are valid for the kernel to fill.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            buf.as_mut_ptr().cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    let got = &buf[..(len as usize).min(buf.len())];
    let info = rnetstat::TcpInfo::from_bytes(got);
    Ok(TcpInfo {
        snd_mss: info.snd_mss,
        rcv_mss: info.rcv_mss,
        unacked: info.unacked,
        rcv_space: info.rcv_space,
        snd_wnd: info.snd_wnd,
        rcv_wnd: info.rcv_wnd,
    })
}

#[derive(Serialize)]
struct Figures {
    phase: &'static str,
    receiver_recv_q: Option<u32>,
    sender_send_q: Option<u32>,
    sender: TcpInfo,
    receiver: TcpInfo,
    /// The sender's pending timer, from the listing ("probe" = zero-window probes).
    sender_timer: Option<String>,
    bytes_written: usize,
    bytes_read: usize,
    last_write: String,
}

#[derive(Serialize)]
struct Report {
    scenario: &'static str,
    port: u16,
    observed: Vec<Figures>,
    zero_window_seen: bool,
    writes_blocked: bool,
    reopened: bool,
}

fn opt(v: Option<u32>) -> String {
    v.map(|n| n.to_string()).unwrap_or_else(|| "-".into())
}

#[allow(clippy::too_many_arguments)]
fn figures(
    phase: &'static str,
    l: &Listing,
    s_addr: (SocketAddr, SocketAddr),
    sender: &Sock,
    receiver: &Sock,
    written: usize,
    read: usize,
    last_write: &str,
) -> Result<Figures> {
    let snd = l.conn(s_addr.0, s_addr.1);
    let rcv = l.conn(s_addr.1, s_addr.0);
    Ok(Figures {
        phase,
        receiver_recv_q: rcv.and_then(|s| s.recv_q()),
        sender_send_q: snd.and_then(|s| s.send_q()),
        sender: tcp_info(sender.fd())?,
        receiver: tcp_info(receiver.fd())?,
        sender_timer: snd
            .and_then(|s| s.timer())
            .map(|t| t.kind.name().to_string()),
        bytes_written: written,
        bytes_read: read,
        last_write: last_write.to_string(),
    })
}

fn describe(f: &Figures) -> String {
    format!(
        "queues (listing):  receiver Recv-Q {}, sender Send-Q {}, sender timer {}\n\
         tcp_info:          sender sees a window (snd_wnd) of {}, receiver advertises (rcv_wnd) {},\n\
         \x20                  mss sender/receiver {}/{}",
        opt(f.receiver_recv_q),
        opt(f.sender_send_q),
        f.sender_timer.as_deref().unwrap_or("-"),
        opt(f.sender.snd_wnd),
        opt(f.receiver.rcv_wnd),
        opt(f.sender.snd_mss),
        opt(f.receiver.rcv_mss),
    )
}

pub fn run(ctx: &mut Ctx) -> Result<serde_json::Value> {
    let ls = Sock::tcp()?;
    ls.s().set_recv_buffer_size(16 * 1024)?;
    ls.s().bind(&lo(0).into())?;
    ls.s().listen(8)?;
    let port = ls.local()?.port();
    ctx.watch(port);
    let sender = Sock::tcp()?;
    sender.s().set_send_buffer_size(16 * 1024)?;
    sender.connect(lo(port))?;
    let (receiver, _) = ls.accept(Duration::from_secs(3))?;
    drop(ls);
    let saddr = sender.local()?;
    let pair = (saddr, lo(port));
    let mut observed = Vec::new();

    let l = ctx.look()?;
    let f = figures("connected", &l, pair, &sender, &receiver, 0, 0, "-")?;
    ctx.step(
        "Connected: empty queues, an open window",
        &format!(
            "The receiver's buffer is small (SO_RCVBUF 16 KiB) so its window fills quickly.\n{}",
            describe(&f)
        ),
        &[
            format!("receiver: socket(); setsockopt(SO_RCVBUF, 16384); bind() -> {port}; listen(); accept()"),
            format!("sender: socket(); setsockopt(SO_SNDBUF, 16384); connect(127.0.0.1:{port})"),
        ],
    )?;
    ctx.show(&l)?;
    observed.push(f);

    // The receiver stops reading; the sender writes until the kernel says it would block.
    sender.s().set_nonblocking(true)?;
    let chunk = [b'w'; 4096];
    let mut written = 0usize;
    let mut blocked = 0usize;
    let mut last = String::from("-");
    let mut zero = false;
    for _ in 0..200 {
        match io::Write::write(&mut sender.s(), &chunk) {
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                blocked += 1;
                last = errno_name(&e);
                if tcp_info(sender.fd())?.snd_wnd == Some(0) && blocked >= 3 {
                    zero = true;
                    break;
                }
                nap(Duration::from_millis(20))?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    let (_, l) = ctx.wait_for(Duration::from_millis(500), |l| {
        l.conn(pair.0, pair.1).and_then(|s| s.timer()).is_some()
    })?;
    let f = figures(
        "receiver stopped reading",
        &l,
        pair,
        &sender,
        &receiver,
        written,
        0,
        &last,
    )?;
    let zero_window = f.sender.snd_wnd == Some(0) || f.receiver.rcv_wnd == Some(0) || zero;
    ctx.step(
        "The receiver stops reading: the window closes",
        &format!(
            "The sender wrote {written} bytes; the receiver read none. Its Recv-Q holds what arrived,\n\
             the window it advertises fell to {}, and the rest waits in the sender's Send-Q{}.\n\
             The next write() = {last}: a blocking socket would sleep here. The sender's 'probe'\n\
             timer sends zero-window probes until the window reopens.\n{}",
            opt(f.receiver.rcv_wnd),
            match (f.receiver_recv_q, f.sender_send_q) {
                (Some(r), Some(q)) if r as usize + q as usize == written =>
                    format!(" ({r} + {q} = all {written} bytes)"),
                _ => String::new(),
            },
            describe(&f)
        ),
        &[
            "receiver: (no recv())".into(),
            format!("sender: fcntl(O_NONBLOCK); send(4096) x N = {written} bytes; send() = {last}"),
        ],
    )?;
    ctx.show(&l)?;
    observed.push(f);

    // The receiver drains; the window reopens and the sender's queue empties.
    sender.s().set_nonblocking(false)?;
    receiver
        .s()
        .set_read_timeout(Some(Duration::from_millis(200)))?;
    let read = super::drain(receiver.s(), Some(written))?;
    let (_, l) = ctx.wait_for(Duration::from_secs(2), |l| {
        l.conn(pair.0, pair.1).and_then(|s| s.send_q()) == Some(0)
    })?;
    let f = figures(
        "receiver drained",
        &l,
        pair,
        &sender,
        &receiver,
        written,
        read,
        "-",
    )?;
    let reopened = f.sender.snd_wnd.is_some_and(|w| w > 0) && f.sender_send_q == Some(0);
    ctx.step(
        "The receiver drains: the window reopens",
        &format!(
            "The receiver read {read} bytes. It advertised a window again, the sender's kernel sent\n\
             what was queued, and both queues are empty.\n{}",
            describe(&f)
        ),
        &[format!("receiver: recv() until {read} bytes")],
    )?;
    ctx.show(&l)?;
    observed.push(f);

    let report = Report {
        scenario: "window",
        port,
        observed,
        zero_window_seen: zero_window,
        writes_blocked: blocked > 0,
        reopened,
    };
    Ok(serde_json::to_value(report)?)
}
