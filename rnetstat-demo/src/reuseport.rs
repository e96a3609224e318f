//! `reuseport`: N listener processes share one port with SO_REUSEPORT and the kernel spreads M
//! connections over them; a listener without SO_REUSEPORT is refused.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use serde::Serialize;
use tabled::{Table, Tabled};

use super::{lo, outcome, Ctx, Kid, Sock};
use rnetstat::State;

#[derive(Serialize)]
struct Listener {
    pid: u32,
    /// Connections this process accepted, as it reported them.
    accepted: usize,
    /// Server-side ESTABLISHED sockets the listing shows owned by this pid.
    established_seen: usize,
}

#[derive(Serialize)]
struct Report {
    scenario: &'static str,
    port: u16,
    clients: usize,
    listeners: Vec<Listener>,
    /// LISTEN sockets the listing showed on the port, and their distinct owner pids.
    listen_sockets: usize,
    listen_pids: Vec<u32>,
    without_reuseport: String,
    child_pids: Vec<u32>,
}

#[derive(Tabled)]
struct Row {
    #[tabled(rename = "listener pid")]
    pid: u32,
    accepted: usize,
    #[tabled(rename = "ESTABLISHED seen")]
    seen: usize,
    share: String,
}

pub fn run(ctx: &mut Ctx) -> Result<serde_json::Value> {
    let n = ctx.settings.listeners.max(1);
    let m = ctx.settings.clients;
    let mut kids: Vec<Kid> = Vec::with_capacity(n);
    let mut first = Kid::spawn(&[
        "__listener".into(),
        "--port".into(),
        "0".into(),
        "--reuseport".into(),
    ])?;
    let port: u16 = first
        .wait_word("ready", Duration::from_secs(5))?
        .parse()
        .map_err(|_| anyhow!("listener reported a bad port"))?;
    kids.push(first);
    for _ in 1..n {
        let mut k = Kid::spawn(&[
            "__listener".into(),
            "--port".into(),
            port.to_string(),
            "--reuseport".into(),
        ])?;
        k.wait_word("ready", Duration::from_secs(5))?;
        kids.push(k);
    }
    ctx.watch(port);
    let pids: Vec<u32> = kids.iter().map(|k| k.pid).collect();
    ctx.step(
        &format!("{n} processes listen on one port with SO_REUSEPORT"),
        "Each process sets SO_REUSEPORT before bind(): the kernel lets sockets of the same user\n\
         that all set it share the port, and keeps one LISTEN socket per process.",
        &pids
            .iter()
            .map(|p| format!("pid {p}: socket(); setsockopt(SO_REUSEPORT, 1); bind(127.0.0.1:{port}); listen()"))
            .collect::<Vec<_>>(),
    )?;
    let l = ctx.look_show()?;
    let listens = l.on_port(port, State::Listen);
    let listen_sockets = listens.len();
    let listen_pids: BTreeSet<u32> = listens.iter().flat_map(|s| l.pids(s)).collect();

    let plain = Sock::tcp()?;
    let without = outcome(&plain.s().bind(&lo(port).into()));
    drop(plain);
    ctx.step(
        "A listener without SO_REUSEPORT is refused",
        &format!("The demo itself tries the same port without the option: bind() = {without}."),
        &[format!(
            "demo: socket(); bind(127.0.0.1:{port}) = {without}"
        )],
    )?;
    ctx.look_show()?;

    let mut clients = Vec::with_capacity(m);
    for _ in 0..m {
        let c = Sock::tcp()?;
        c.connect(lo(port))?;
        clients.push(c);
    }
    let mut accepted = vec![0usize; kids.len()];
    let end = Instant::now() + Duration::from_secs(5);
    while accepted.iter().sum::<usize>() < m && Instant::now() < end {
        let mut got = false;
        for (i, k) in kids.iter_mut().enumerate() {
            while let Some(line) = k.try_line() {
                if line.starts_with("accepted ") {
                    accepted[i] += 1;
                    got = true;
                }
            }
        }
        if !got {
            super::nap(Duration::from_millis(10))?;
        }
    }
    let l = ctx.look()?;
    let established: Vec<usize> = pids
        .iter()
        .map(|p| {
            l.on_port(port, State::Established)
                .iter()
                .filter(|s| l.pids(s).contains(p))
                .count()
        })
        .collect();
    ctx.step(
        &format!("{m} clients connect; the kernel spreads them"),
        "Each incoming connection goes to one listener of the group, chosen by a hash of its\n\
         address pair: no single accept queue, no thundering herd.",
        &[
            format!("demo: {m} x (socket(); connect(127.0.0.1:{port}))"),
            "listeners: accept() each".into(),
        ],
    )?;
    ctx.show(&l)?;

    let listeners: Vec<Listener> = pids
        .iter()
        .zip(&accepted)
        .zip(&established)
        .map(|((&pid, &accepted), &established_seen)| Listener {
            pid,
            accepted,
            established_seen,
        })
        .collect();
    if !ctx.json() {
        let rows: Vec<Row> = listeners
            .iter()
            .map(|x| Row {
                pid: x.pid,
                accepted: x.accepted,
                seen: x.established_seen,
                share: if m > 0 {
                    format!("{:.0}%", 100.0 * x.accepted as f64 / m as f64)
                } else {
                    "-".into()
                },
            })
            .collect();
        ctx.say(&format!(
            "\nHow the kernel spread {m} connections over {n} listeners:\n{}",
            Table::new(rows)
        ))?;
    }
    drop(clients);
    drop(kids);
    let report = Report {
        scenario: "reuseport",
        port,
        clients: m,
        listeners,
        listen_sockets,
        listen_pids: listen_pids.into_iter().collect(),
        without_reuseport: without,
        child_pids: pids,
    };
    Ok(serde_json::to_value(report)?)
}
