//! `states`: one connection walked through TCP's state machine, with a listing at each state it
//! can be held in: SYN_SENT (a full accept queue drops SYNs), SYN_RECV (held by
//! TCP_DEFER_ACCEPT until data arrives), ESTABLISHED, FIN_WAIT2 / CLOSE_WAIT, LAST_ACK (held by a
//! zero window in front of the FIN), TIME_WAIT. The path taken is drawn on the state diagram.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Result;
use serde::Serialize;

use super::time_wait::Seen;
use super::{errno_name, lo, nap, secs, Ctx, Listing, Sock};
use rnetstat::State;

#[derive(Serialize)]
struct Report {
    scenario: &'static str,
    port: u16,
    client_port: u16,
    observed: Vec<String>,
    not_observed: Vec<String>,
    client_path: Vec<String>,
    server_path: Vec<String>,
}

/// The states this scenario tries to hold still, in the order it tries.
const TARGETS: [&str; 8] = [
    "LISTEN",
    "SYN_SENT",
    "SYN_RECV",
    "ESTABLISHED",
    "FIN_WAIT2",
    "CLOSE_WAIT",
    "LAST_ACK",
    "TIME_WAIT",
];

fn set_int(fd: i32, level: i32, opt: i32, v: i32) -> io::Result<()> {
    // SAFETY: a valid fd and a pointer to an int of the size passed.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            opt,
            (&v as *const i32).cast(),
            std::mem::size_of::<i32>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Appends `s` to a path unless it is already its last state.
fn push(path: &mut Vec<String>, s: Option<State>) {
    if let Some(s) = s {
        let n = super::state_name(s).to_string();
        if path.last() != Some(&n) {
            path.push(n);
        }
    }
}

struct Walk {
    seen: Seen,
    client: Vec<String>,
    server: Vec<String>,
    saddr: SocketAddr,
    caddr: SocketAddr,
}

impl Walk {
    fn record(&mut self, l: &Listing) {
        let (c, s) = (
            l.state_of(self.caddr, self.saddr),
            l.state_of(self.saddr, self.caddr),
        );
        push(&mut self.client, c);
        push(&mut self.server, s);
        for st in [c, s].into_iter().flatten() {
            self.seen.add(st);
        }
    }
}

pub fn run(ctx: &mut Ctx) -> Result<serde_json::Value> {
    // A listener with backlog 0, a small receive buffer and TCP_DEFER_ACCEPT.
    let ls = Sock::tcp()?;
    ls.s().set_recv_buffer_size(4096)?;
    ls.s().bind(&lo(0).into())?;
    ls.s().listen(0)?;
    set_int(ls.fd(), libc::IPPROTO_TCP, libc::TCP_DEFER_ACCEPT, 5)?;
    let port = ls.local()?.port();
    let saddr = lo(port);
    ctx.watch(port);
    let mut seen = Seen::default();

    // Fill the accept queue: one connection that has sent data and is never accepted (yet).
    let blocker = Sock::tcp()?;
    blocker.connect(saddr)?;
    blocker.send_all(b"x")?;
    let (queued, _) = ctx.wait_for(Duration::from_secs(2), |l| {
        l.on_port(port, State::Listen)
            .first()
            .and_then(|s| s.recv_q())
            == Some(1)
    })?;
    ctx.step(
        "LISTEN, with a full accept queue",
        &format!(
            "The server listens with backlog 0 and does not call accept(). One connection that\n\
             has completed its handshake (and sent a byte) sits in the accept queue: the\n\
             listener's Recv-Q is the queue length{}.",
            if queued { " (1)" } else { " (not seen at 1!)" }
        ),
        &[
            format!(
                "server: socket(); setsockopt(SO_RCVBUF, 4096); bind() -> {port}; listen(fd, 0)"
            ),
            "server: setsockopt(TCP_DEFER_ACCEPT, 5)".into(),
            format!("blocker: connect(127.0.0.1:{port}); send(\"x\")   (never accepted, yet)"),
        ],
    )?;
    let l = ctx.look_show()?;
    if !l.on_port(port, State::Listen).is_empty() {
        seen.add(State::Listen);
    }

    // SYN_SENT: the kernel drops SYNs while the accept queue is full.
    let client = Sock::client()?;
    client.s().set_send_buffer_size(4096)?;
    client.s().set_nonblocking(true)?;
    let started = client.s().connect(&saddr.into());
    let started = match started {
        Ok(()) => "ok".to_string(),
        Err(e) => errno_name(&e),
    };
    let caddr = client.local()?;
    let mut walk = Walk {
        seen,
        client: Vec::new(),
        server: Vec::new(),
        saddr,
        caddr,
    };
    let (_, l) = ctx.wait_for(Duration::from_millis(300), |l| {
        l.state_of(caddr, saddr) == Some(State::SynSent)
    })?;
    ctx.step(
        "SYN_SENT: the client's SYN is dropped",
        "With the accept queue full the server's kernel drops the SYN without answering, so the\n\
         client waits in SYN_SENT and retransmits (timer 'on': 1 s, then 2 s, 4 s ...).",
        &[format!("client: socket(); bind(127.0.0.1:0); fcntl(O_NONBLOCK); connect(127.0.0.1:{port}) = {started}, from {caddr}")],
    )?;
    ctx.show(&l)?;
    walk.record(&l);

    // SYN_RECV: accept the blocker; the retransmitted SYN gets in; TCP_DEFER_ACCEPT keeps the
    // server's side in SYN_RECV until data arrives.
    let (b_conn, _) = ls.accept(Duration::from_secs(3))?;
    let (_, l) = ctx.wait_for(Duration::from_secs(5), |l| {
        matches!(
            l.state_of(saddr, caddr),
            Some(State::SynRecv | State::NewSynRecv)
        )
    })?;
    ctx.step(
        "SYN_RECV: the retransmitted SYN is answered",
        "The server accept()s the blocker, making room. The client's next SYN gets a SYN-ACK and\n\
         the client is ESTABLISHED; TCP_DEFER_ACCEPT makes the server ignore the bare ACK and keep\n\
         its side (a request socket) in SYN_RECV until the first data arrives.",
        &["server: accept() -> the blocker; close(it)".into()],
    )?;
    ctx.show(&l)?;
    walk.record(&l);
    drop(b_conn);
    drop(blocker);

    // ESTABLISHED.
    client.s().set_nonblocking(false)?;
    client.send_all(b"hello\n")?;
    let (conn, _) = ls.accept(Duration::from_secs(3))?;
    let got = conn.recv_some()?;
    let (_, l) = ctx.wait_for(Duration::from_secs(2), |l| {
        l.state_of(saddr, caddr) == Some(State::Established)
    })?;
    ctx.step(
        "ESTABLISHED",
        "The first data completes the server's side; accept() returns the connection.",
        &[
            "client: send(\"hello\\n\")".into(),
            format!(
                "server: accept(); recv() = {:?}",
                String::from_utf8_lossy(&got)
            ),
        ],
    )?;
    ctx.show(&l)?;
    walk.record(&l);

    // FIN_WAIT2 / CLOSE_WAIT.
    conn.s().shutdown(std::net::Shutdown::Write)?;
    let (_, l) = ctx.wait_for(Duration::from_secs(2), |l| {
        l.state_of(saddr, caddr) == Some(State::FinWait2)
            && l.state_of(caddr, saddr) == Some(State::CloseWait)
    })?;
    ctx.step(
        "FIN_WAIT2 and CLOSE_WAIT: the server closes first",
        "The server sends FIN (shutdown(SHUT_WR): it stops sending but can still receive). The\n\
         client ACKs: server FIN_WAIT2 (FIN_WAIT1 lasted only until that ACK), client CLOSE_WAIT.",
        &["server: shutdown(conn, SHUT_WR)  -> FIN".into()],
    )?;
    ctx.show(&l)?;
    walk.record(&l);

    // LAST_ACK: fill the server's small receive window, then close: the FIN waits behind data
    // the server will not take.
    let eof = client.recv_some()?;
    client.s().set_nonblocking(true)?;
    let chunk = [b'.'; 1024];
    let mut written = 0usize;
    let mut stalls = 0;
    while stalls < 5 {
        match io::Write::write(&mut client.s(), &chunk) {
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                stalls += 1;
                nap(Duration::from_millis(20))?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    client.close();
    let (_, l) = ctx.wait_for(Duration::from_secs(2), |l| {
        l.state_of(caddr, saddr) == Some(State::LastAck)
    })?;
    ctx.step(
        "LAST_ACK: the client closes with data still queued",
        &format!(
            "The client read end-of-stream, wrote {written} bytes the server does not read (its small\n\
             window falls to zero), then closed. Its FIN is queued behind unsent data, so the client\n\
             waits in LAST_ACK for an ACK of its FIN that cannot come yet."
        ),
        &[
            format!("client: recv() = {} bytes (end of stream)", eof.len()),
            format!("client: send() x N = {written} bytes, until EAGAIN"),
            "client: close(fd)".into(),
        ],
    )?;
    ctx.show(&l)?;
    walk.record(&l);

    // TIME_WAIT: the server drains; the client's FIN arrives and is ACKed.
    conn.s()
        .set_read_timeout(Some(Duration::from_millis(200)))?;
    let drained = super::drain(conn.s(), None)?;
    let (_, l) = ctx.wait_for(Duration::from_secs(2), |l| {
        l.state_of(saddr, caddr) == Some(State::TimeWait)
    })?;
    let remaining = l.time_wait_ms(saddr, caddr);
    ctx.step(
        "TIME_WAIT on the server, which closed first",
        &format!(
            "The server reads the {drained} bytes; the window opens, the data and the client's FIN\n\
             arrive, the server ACKs the FIN: the client is done (CLOSED, gone from the listing)\n\
             and the server holds TIME_WAIT{}.",
            remaining.map(|ms| format!(" for {} more", secs(ms))).unwrap_or_default()
        ),
        &[format!("server: recv() until 0: {drained} bytes"), "server: close(conn)".into()],
    )?;
    ctx.show(&l)?;
    walk.record(&l);
    conn.close();
    drop(ls);
    walk.client.push("CLOSED".into());

    let observed = walk.seen.0.clone();
    let not_observed: Vec<String> = TARGETS
        .iter()
        .filter(|t| !observed.iter().any(|o| o == *t))
        .map(|t| t.to_string())
        .collect();
    if !ctx.json() {
        ctx.say(&format!(
            "\nThe path taken (* = seen in the listing):\n{}",
            diagram(&observed)
        ))?;
        ctx.say(&format!("client: {}", walk.client.join(" -> ")))?;
        ctx.say(&format!("server: LISTEN -> {}", walk.server.join(" -> ")))?;
        if !not_observed.is_empty() {
            ctx.say(&format!("not observed: {}", not_observed.join(", ")))?;
        }
    }
    let report = Report {
        scenario: "states",
        port,
        client_port: caddr.port(),
        observed,
        not_observed,
        client_path: walk.client,
        server_path: walk.server,
    };
    Ok(serde_json::to_value(report)?)
}

/// TCP's state diagram (RFC 793's, trimmed); `*` marks each state seen in the listing.
fn diagram(seen: &[String]) -> String {
    // "@NAME": the '@' becomes '*' when NAME was seen, ' ' when not.
    const ART: &str = "                  CLOSED
      connect() /        \\ listen()
               v          v
        @SYN_SENT        @LISTEN
            |               | SYN in: send SYN-ACK
            | SYN-ACK in    v
            |           @SYN_RECV
            v               | ACK in
      @ESTABLISHED <--------+
   close() /        \\ FIN in
          v          v
   FIN_WAIT1        @CLOSE_WAIT
  ACK in |             | close()
         v             v
   @FIN_WAIT2       @LAST_ACK
  FIN in |             | ACK in
         v             v
   @TIME_WAIT --2MSL--> CLOSED";
    let mut out = ART.to_string();
    for t in TARGETS {
        let mark = if seen.iter().any(|s| s == t) {
            '*'
        } else {
            ' '
        };
        out = out.replace(&format!("@{t}"), &format!("{mark}{t}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagram_marks_exactly_the_states_seen() {
        let d = diagram(&["LISTEN".to_string(), "TIME_WAIT".to_string()]);
        assert!(d.contains("*LISTEN"), "{d}");
        assert!(d.contains("*TIME_WAIT"), "{d}");
        assert!(d.contains(" SYN_SENT") && !d.contains("*SYN_SENT"), "{d}");
        assert!(!d.contains('@'), "every placeholder replaced: {d}");
    }
}
