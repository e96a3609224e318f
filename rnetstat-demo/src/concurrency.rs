//! `concurrency`: the two classic concurrent servers side by side. A forking server (one process
//! per connection) and a threaded server (one thread per connection, one process) each take K
//! clients; the listing shows one LISTEN socket and K ESTABLISHED sockets, and who owns them.

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::{anyhow, Result};
use serde::Serialize;

use super::{check_interrupt, listener, lo, Ctx, Grandkid, Kid, Listing, Sock};
use rnetstat::State;

#[derive(Serialize)]
struct Model {
    port: u16,
    listen_sockets: usize,
    listen_pids: Vec<u32>,
    established: usize,
    /// Owner pid of each server-side ESTABLISHED socket, as the listing shows it.
    conn_pids: Vec<u32>,
    distinct_pids: usize,
    /// What each connection's handler said about itself (pid for fork, thread id for threads).
    handlers: Vec<u32>,
}

#[derive(Serialize)]
struct Report {
    scenario: &'static str,
    clients: usize,
    observed: Vec<String>,
    fork: Model,
    threads: Model,
    server_pid: u32,
    child_pids: Vec<u32>,
    demo_pid: u32,
}

fn model(l: &Listing, port: u16, handlers: Vec<u32>) -> Model {
    let listens = l.on_port(port, State::Listen);
    let listen_pids: BTreeSet<u32> = listens.iter().flat_map(|s| l.pids(s)).collect();
    let est = l.on_port(port, State::Established);
    let conn_pids: Vec<u32> = est.iter().flat_map(|s| l.pids(s)).collect();
    let distinct: BTreeSet<u32> = conn_pids.iter().copied().collect();
    Model {
        port,
        listen_sockets: listens.len(),
        listen_pids: listen_pids.into_iter().collect(),
        established: est.len(),
        conn_pids,
        distinct_pids: distinct.len(),
        handlers,
    }
}

/// Reads `word N` from a connection's greeting.
fn greeting(c: &Sock, word: &str) -> Result<u32> {
    let text = String::from_utf8_lossy(&c.recv_some()?).to_string();
    text.trim()
        .strip_prefix(word)
        .and_then(|r| r.trim().parse().ok())
        .ok_or_else(|| anyhow!("unexpected greeting {text:?}"))
}

pub fn run(ctx: &mut Ctx) -> Result<serde_json::Value> {
    let k = ctx.settings.workers.max(1);
    let mut observed = Vec::new();

    // The forking server, in its own (single-threaded) process.
    let mut server = Kid::spawn(&["__fork-server".into()])?;
    let fport: u16 = server
        .wait_word("ready", Duration::from_secs(5))?
        .parse()
        .map_err(|_| anyhow!("fork server reported a bad port"))?;
    ctx.watch(fport);
    let mut fclients = Vec::with_capacity(k);
    let mut grandkids: Vec<Grandkid> = Vec::with_capacity(k);
    let mut fork_handlers = Vec::with_capacity(k);
    for _ in 0..k {
        let c = Sock::tcp()?;
        c.connect(lo(fport))?;
        let forked = server.wait_word("forked", Duration::from_secs(5))?;
        let pid: u32 = forked
            .split_whitespace()
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| anyhow!("fork server reported {forked:?}"))?;
        grandkids.push(Grandkid::new(pid));
        fork_handlers.push(greeting(&c, "pid")?);
        fclients.push(c);
    }
    ctx.step(
        &format!("A forking server with {k} clients"),
        &format!(
            "Server pid {}: after each accept() it calls fork(); the child closes the listener and\n\
             serves the connection, the parent closes the connection and goes back to accept().\n\
             One LISTEN socket (the parent), and each ESTABLISHED server socket owned by its own child.",
            server.pid
        ),
        &[
            format!("server: socket(); bind(127.0.0.1:0) -> {fport}; listen()"),
            format!("server: {k} x (accept(); fork(); parent: close(conn); child: close(listener), send(pid))"),
            format!("demo: {k} x (socket(); connect(127.0.0.1:{fport}); recv())"),
        ],
    )?;
    let l = ctx.look_show()?;
    let fork = model(&l, fport, fork_handlers);
    observed.push(format!(
        "fork: {} LISTEN (pid {:?}), {} ESTABLISHED owned by {} distinct pids",
        fork.listen_sockets, fork.listen_pids, fork.established, fork.distinct_pids
    ));

    // The threaded server, in the demo's own process.
    let (ls, tport) = listener(false, 128)?;
    ctx.ports.clear();
    ctx.watch(tport);
    let mut tclients = Vec::with_capacity(k);
    let mut workers = Vec::with_capacity(k);
    let mut thread_ids = Vec::with_capacity(k);
    for _ in 0..k {
        let c = Sock::tcp()?;
        c.connect(lo(tport))?;
        let (conn, _) = ls.accept(Duration::from_secs(3))?;
        workers.push(std::thread::spawn(move || serve_thread(conn)));
        thread_ids.push(greeting(&c, "tid")?);
        tclients.push(c);
    }
    ctx.step(
        &format!("A threaded server with {k} clients"),
        &format!(
            "The demo itself (pid {}) accept()s and starts one thread per connection. Threads share\n\
             the process's descriptor table, so every socket is owned by the one pid.",
            std::process::id()
        ),
        &[
            format!("server: socket(); bind(127.0.0.1:0) -> {tport}; listen()"),
            format!("server: {k} x (accept(); pthread_create(); thread: send(tid))"),
            format!("demo: {k} x (socket(); connect(127.0.0.1:{tport}); recv())"),
        ],
    )?;
    let l = ctx.look_show()?;
    let threads = model(&l, tport, thread_ids);
    observed.push(format!(
        "threads: {} LISTEN (pid {:?}), {} ESTABLISHED owned by {} distinct pids",
        threads.listen_sockets, threads.listen_pids, threads.established, threads.distinct_pids
    ));
    ctx.say(&format!(
        "\nfork: {} connections in {} processes; threads: {} connections in {} process(es).",
        fork.established, fork.distinct_pids, threads.established, threads.distinct_pids
    ))?;

    drop(tclients);
    for w in workers {
        let _ = w.join();
    }
    drop(ls);
    drop(fclients);
    let child_pids: Vec<u32> = std::iter::once(server.pid)
        .chain(grandkids.iter().map(|g| g.pid))
        .collect();
    let server_pid = server.pid;
    // Grandchildren first (the server reaps them), then the server.
    drop(grandkids);
    drop(server);
    let report = Report {
        scenario: "concurrency",
        clients: k,
        observed,
        fork,
        threads,
        server_pid,
        child_pids,
        demo_pid: std::process::id(),
    };
    Ok(serde_json::to_value(report)?)
}

/// One connection's thread: say which thread it is, then wait for the client to go.
fn serve_thread(conn: Sock) {
    // SAFETY: gettid has no preconditions.
    let tid = unsafe { libc::gettid() };
    if conn.send_all(format!("tid {tid}\n").as_bytes()).is_err() {
        return;
    }
    if conn
        .s()
        .set_read_timeout(Some(Duration::from_millis(50)))
        .is_err()
    {
        return;
    }
    let mut buf = [0u8; 64];
    loop {
        match std::io::Read::read(&mut conn.s(), &mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if check_interrupt().is_err() {
                    return;
                }
            }
            Err(_) => return,
        }
    }
}
