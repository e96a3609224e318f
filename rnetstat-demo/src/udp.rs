//! `udp`: TCP and UDP side by side. A UDP socket is UNCONN until connect(), has no listen() or
//! accept(), connect() sends nothing (no handshake), and close() leaves no TIME_WAIT.

use std::io;
use std::time::Duration;

use anyhow::Result;
use serde::Serialize;

use super::{listener, lo, outcome, Ctx, Sock};
use rnetstat::{Protocol, State};

#[derive(Serialize)]
struct Nobody {
    udp_connect: String,
    udp_send: String,
    udp_recv_after_send: String,
    tcp_connect: String,
}

#[derive(Serialize)]
struct Report {
    scenario: &'static str,
    /// The two UDP sockets' ports.
    ports: Vec<u16>,
    /// The TCP connection's server and client ports (where its TIME_WAIT was).
    tcp_ports: Vec<u16>,
    observed: Vec<String>,
    listen: String,
    accept: String,
    connect_to_nobody: Nobody,
    /// After close(): does the protocol leave a TIME_WAIT socket?
    time_wait_after_close: TimeWaitAfter,
}

#[derive(Serialize)]
struct TimeWaitAfter {
    tcp: bool,
    udp: bool,
    /// The UDP socket is gone from the listing right after close().
    udp_gone: bool,
}

fn libc_result(rc: i32) -> io::Result<()> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// The demo's UDP state word: netstat leaves it blank, ss says UNCONN.
fn udp_state(l: &super::Listing, port: u16) -> Option<String> {
    l.sockets()
        .iter()
        .find(|s| s.protocol() == Protocol::Udp && s.local().is_some_and(|a| a.port() == port))
        .map(|s| match s.state() {
            State::Close => "UNCONN".to_string(),
            st => st.tcp_name().to_string(),
        })
}

pub fn run(ctx: &mut Ctx) -> Result<serde_json::Value> {
    let mut observed = Vec::new();
    let a = Sock::udp()?;
    a.s().bind(&lo(0).into())?;
    let b = Sock::udp()?;
    b.s().bind(&lo(0).into())?;
    let (pa, pb) = (a.local()?.port(), b.local()?.port());
    ctx.watch_udp(pa);
    ctx.watch_udp(pb);
    // listen() and accept() on a datagram socket.
    // SAFETY: plain syscalls on an owned fd; accept gets null address pointers.
    let listen = outcome(&libc_result(unsafe { libc::listen(a.fd(), 1) }));
    let accept = outcome(&libc_result(unsafe {
        libc::accept(a.fd(), std::ptr::null_mut(), std::ptr::null_mut())
    }));
    ctx.step(
        "Two UDP sockets: bound, not connected (UNCONN)",
        &format!(
            "A UDP socket needs only socket() and bind() to receive. There is no listen() ({listen})\n\
             and no accept() ({accept}): no connections, so no LISTEN state either. netstat leaves the\n\
             State column blank; ss calls it UNCONN."
        ),
        &[
            format!("a: socket(AF_INET, SOCK_DGRAM, 0); bind(127.0.0.1:0) -> {pa}"),
            format!("b: socket(AF_INET, SOCK_DGRAM, 0); bind(127.0.0.1:0) -> {pb}"),
            format!("a: listen(fd, 1) = {listen}; accept(fd) = {accept}"),
        ],
    )?;
    let l = ctx.look_show()?;
    if let Some(s) = udp_state(&l, pa) {
        observed.push(s);
    }

    // A datagram, no connection.
    a.s().send_to(b"ping", &lo(pb).into())?;
    b.s().set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 64];
    let (n, from) = b.s().recv_from(&mut buf)?;
    let from = from.as_socket().map(|s| s.to_string()).unwrap_or_default();
    a.s().connect(&lo(pb).into())?;
    ctx.step(
        "sendto() needs no connection; connect() only fixes the peer",
        &format!(
            "b received {n} bytes from {from} with no handshake. connect() on a UDP socket sends\n\
             nothing: it records the peer, so send() needs no address and only that peer's\n\
             datagrams are received. The kernel now reports a's state as ESTABLISHED."
        ),
        &[
            format!("a: sendto(\"ping\", 127.0.0.1:{pb})   b: recvfrom() = {n} bytes from {from}"),
            format!("a: connect(127.0.0.1:{pb})"),
        ],
    )?;
    let l = ctx.look_show()?;
    if let Some(s) = udp_state(&l, pa) {
        observed.push(s);
    }

    // No handshake: connect() to a port nobody has.
    let hole = Sock::udp()?;
    hole.s().bind(&lo(0).into())?;
    let nobody_udp = hole.local()?.port();
    drop(hole);
    let u = Sock::udp()?;
    let udp_connect = outcome(&u.s().connect(&lo(nobody_udp).into()));
    let udp_send = outcome(&u.s().send(b"anyone?"));
    u.s().set_read_timeout(Some(Duration::from_millis(500)))?;
    let mut buf2 = [std::mem::MaybeUninit::<u8>::uninit(); 64];
    let udp_recv = outcome(&u.s().recv(&mut buf2));
    // A TCP port that is bound but not listening answers SYN with RST.
    let tcp_hole = Sock::tcp()?;
    tcp_hole.s().bind(&lo(0).into())?;
    let nobody_tcp = tcp_hole.local()?.port();
    let t = Sock::tcp()?;
    let tcp_connect = outcome(&t.connect(lo(nobody_tcp)));
    ctx.watch_udp(nobody_udp);
    ctx.watch(nobody_tcp);
    ctx.step(
        "No handshake: connect() to a port nobody listens on",
        &format!(
            "UDP: connect() = {udp_connect} and send() = {udp_send}, because nothing was sent to ask.\n\
             Only the next recv() learns of the ICMP port-unreachable: {udp_recv}.\n\
             TCP: connect() = {tcp_connect} at once: the port's only socket is bound but not\n\
             listening (CLOSE), so the SYN was answered with RST. The UDP socket stays\n\
             \"connected\" (ESTABLISHED) to a port nobody has."
        ),
        &[
            format!("udp: connect(127.0.0.1:{nobody_udp}) = {udp_connect}; send() = {udp_send}; recv() = {udp_recv}"),
            format!("tcp: connect(127.0.0.1:{nobody_tcp}) = {tcp_connect}"),
        ],
    )?;
    ctx.look_show()?;
    drop((u, t, tcp_hole));

    // close(): TCP leaves TIME_WAIT on the side that closed first; UDP leaves nothing.
    let (ls, tport) = listener(false, 8)?;
    ctx.watch(tport);
    let tc = Sock::client()?;
    tc.connect(lo(tport))?;
    let (ts, _) = ls.accept(Duration::from_secs(3))?;
    let taddr = tc.local()?;
    drop(ls);
    tc.close();
    let _ = ts.recv_some()?;
    ts.close();
    a.close();
    b.close();
    let (_, l) = ctx.wait_for(Duration::from_secs(2), |l| {
        l.state_of(taddr, lo(tport)) == Some(State::TimeWait)
    })?;
    let tcp_tw = l.state_of(taddr, lo(tport)) == Some(State::TimeWait);
    let udp_left: Vec<_> = l
        .sockets()
        .iter()
        .filter(|s| s.protocol() == Protocol::Udp)
        .collect();
    let udp_tw = udp_left.iter().any(|s| s.state() == State::TimeWait);
    ctx.step(
        "close(): TCP leaves TIME_WAIT, UDP leaves nothing",
        &format!(
            "A TCP connection closed by the client first: the client's side is in TIME_WAIT ({}).\n\
             The two UDP sockets were closed at the same time: {}.",
            if tcp_tw { "seen" } else { "not seen" },
            if udp_left.is_empty() { "gone from the listing" } else { "still listed!" }
        ),
        &[
            format!("tcp: connect(127.0.0.1:{tport}); client close(); server recv() = 0; close()"),
            "udp: close(a); close(b)".into(),
        ],
    )?;
    ctx.show(&l)?;
    if tcp_tw {
        observed.push("TCP TIME_WAIT after close".into());
    }
    if udp_left.is_empty() {
        observed.push("UDP gone after close".into());
    }
    let report = Report {
        scenario: "udp",
        ports: vec![pa, pb],
        tcp_ports: vec![tport, taddr.port()],
        observed,
        listen,
        accept,
        connect_to_nobody: Nobody {
            udp_connect,
            udp_send,
            udp_recv_after_send: udp_recv,
            tcp_connect,
        },
        time_wait_after_close: TimeWaitAfter {
            tcp: tcp_tw,
            udp: udp_tw,
            udp_gone: udp_left.is_empty(),
        },
    };
    Ok(serde_json::to_value(report)?)
}
