//! `time-wait`: why the side that closes first holds TIME_WAIT. A server and a client exchange a
//! message, the server closes first, and the listing shows each state on the way, ending with
//! the kernel's TIME_WAIT timer.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use serde::Serialize;

use super::{listener, lo, nap, secs, state_name, Ctx, Listing, Sock};
use rnetstat::State;

#[derive(Serialize)]
struct Report {
    scenario: &'static str,
    port: u16,
    client_port: u16,
    observed: Vec<String>,
    time_wait: Option<TimeWait>,
    /// With --wait: how long the TIME_WAIT socket was seen after it appeared.
    waited_ms: Option<u64>,
}

#[derive(Serialize)]
struct TimeWait {
    owner: &'static str,
    remaining_ms: u64,
    local: String,
    remote: String,
}

/// States seen, in order, without repeats.
#[derive(Default)]
pub(crate) struct Seen(pub Vec<String>);

impl Seen {
    pub fn add(&mut self, s: State) {
        let n = state_name(s).to_string();
        if !self.0.contains(&n) {
            self.0.push(n);
        }
    }

    /// Adds the state of each listed connection that the listing has.
    pub fn add_from(&mut self, l: &Listing, conns: &[(SocketAddr, SocketAddr)]) {
        for &(a, b) in conns {
            if let Some(s) = l.state_of(a, b) {
                self.add(s);
            }
        }
    }
}

pub fn run(ctx: &mut Ctx) -> Result<serde_json::Value> {
    let mut seen = Seen::default();

    let (ls, port) = listener(false, 128)?;
    ctx.watch(port);
    ctx.step(
        "The server is listening",
        "A TCP server needs socket(), bind() and listen() before anyone can connect.",
        &[
            "server: socket(AF_INET, SOCK_STREAM, 0)".into(),
            format!("server: bind(127.0.0.1:0) -> the kernel picked port {port}"),
            "server: listen(fd, 128)".into(),
        ],
    )?;
    let l = ctx.look_show()?;
    if !l.on_port(port, State::Listen).is_empty() {
        seen.add(State::Listen);
    }

    let client = Sock::client()?;
    client.connect(lo(port))?;
    let (server, peer) = ls.accept(Duration::from_secs(3))?;
    let caddr = client.local()?;
    let saddr = lo(port);
    client.send_all(b"hello\n")?;
    let got = server.recv_some()?;
    server.send_all(b"bye\n")?;
    let back = client.recv_some()?;
    let pair = [(saddr, caddr), (caddr, saddr)];
    ctx.step(
        "A client connects and they exchange a message",
        "connect() sends SYN, the server answers SYN-ACK, the client ACKs: the three-way\n\
         handshake. Both ends are now ESTABLISHED; accept() hands the server its own socket\n\
         for the connection (the listener stays in LISTEN).",
        &[
            "client: socket(AF_INET, SOCK_STREAM, 0); bind(127.0.0.1:0)".into(),
            format!("client: connect(127.0.0.1:{port}) -> from {caddr}"),
            format!("server: accept() -> new socket for {peer}"),
            format!(
                "client: send({:?}) ; server: recv() = {:?}",
                "hello\n",
                String::from_utf8_lossy(&got)
            ),
            format!(
                "server: send({:?}) ; client: recv() = {:?}",
                "bye\n",
                String::from_utf8_lossy(&back)
            ),
        ],
    )?;
    let l = ctx.look_show()?;
    seen.add_from(&l, &pair);

    server.close();
    let (_, l) = ctx.wait_for(Duration::from_secs(2), |l| {
        l.state_of(saddr, caddr) == Some(State::FinWait2)
            && l.state_of(caddr, saddr) == Some(State::CloseWait)
    })?;
    ctx.step(
        "The server closes first",
        "close() sends FIN. The client's kernel ACKs it at once: the server waits in FIN_WAIT2\n\
         for the client's FIN, the client sits in CLOSE_WAIT until its program closes too.\n\
         The server's socket no longer has a file descriptor (no PID): the kernel keeps the\n\
         orphan, with a timer (net.ipv4.tcp_fin_timeout) in case the FIN never comes.",
        &["server: close(conn)  -> FIN ->  client ACKs".into()],
    )?;
    ctx.show(&l)?;
    seen.add_from(&l, &pair);

    let eof = client.recv_some()?;
    client.close();
    let (_, l) = ctx.wait_for(Duration::from_secs(2), |l| {
        l.state_of(saddr, caddr) == Some(State::TimeWait)
            || l.state_of(caddr, saddr) == Some(State::TimeWait)
    })?;
    let (owner, local, remote) = if l.state_of(saddr, caddr) == Some(State::TimeWait) {
        ("server", saddr, caddr)
    } else if l.state_of(caddr, saddr) == Some(State::TimeWait) {
        ("client", caddr, saddr)
    } else {
        ("none", saddr, caddr)
    };
    let remaining = l.time_wait_ms(local, remote);
    ctx.step(
        "The client closes too: TIME_WAIT on the side that closed first",
        &format!(
            "The client read end-of-stream and closed: its FIN is ACKed and its socket is gone.\n\
             The {owner}, which closed first (the active closer), now holds TIME_WAIT{}.\n\
             It waits 2*MSL (Linux: a fixed 60 s, TCP_TIMEWAIT_LEN) so a late duplicate of this\n\
             connection cannot be taken for a new one on the same address pair, and so it can\n\
             re-send the last ACK if the peer's FIN is retransmitted.",
            match remaining {
                Some(ms) => format!(" with {} left on the kernel's timer", secs(ms)),
                None => String::new(),
            }
        ),
        &[
            format!("client: recv() = {} bytes (end of stream)", eof.len()),
            "client: close(fd)  -> FIN ->  server ACKs".into(),
        ],
    )?;
    ctx.show(&l)?;
    seen.add_from(&l, &pair);
    drop(ls);

    let mut waited_ms = None;
    if ctx.settings.wait && remaining.is_some() {
        ctx.say("\n--wait: following the TIME_WAIT socket until the kernel drops it")?;
        let start = Instant::now();
        let mut last_print = Instant::now() - Duration::from_secs(10);
        loop {
            let l = ctx.look()?;
            match l.time_wait_ms(local, remote) {
                Some(ms) => {
                    if last_print.elapsed() >= Duration::from_secs(5) {
                        last_print = Instant::now();
                        ctx.say(&format!(
                            "    {:>5.1} s: TIME_WAIT, {} left",
                            start.elapsed().as_secs_f64(),
                            secs(ms)
                        ))?;
                    }
                }
                None => {
                    let ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
                    ctx.say(&format!(
                        "    {:>5.1} s: gone: the kernel dropped the TIME_WAIT socket",
                        ms as f64 / 1000.0
                    ))?;
                    waited_ms = Some(ms);
                    break;
                }
            }
            if start.elapsed() > Duration::from_secs(120) {
                return Err(anyhow!("the TIME_WAIT socket outlived 120 s"));
            }
            nap(Duration::from_millis(100))?;
        }
    }

    let report = Report {
        scenario: "time-wait",
        port,
        client_port: caddr.port(),
        observed: seen.0,
        time_wait: remaining.map(|ms| TimeWait {
            owner,
            remaining_ms: ms,
            local: local.to_string(),
            remote: remote.to_string(),
        }),
        waited_ms,
    };
    Ok(serde_json::to_value(report)?)
}
