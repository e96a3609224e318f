//! `reuseaddr`: the server-restart matrix, measured. An old server (SO_REUSEADDR off/on) leaves
//! a connection in TIME_WAIT on its port; a new server (off/on) tries to bind that port. Then the
//! one thing SO_REUSEADDR never allows: binding a port a LISTEN socket holds.

use std::time::Duration;

use anyhow::Result;
use serde::Serialize;
use tabled::{Table, Tabled};

use super::{listener, lo, outcome, secs, Ctx, Sock};
use rnetstat::State;

#[derive(Serialize, Clone)]
struct Cell {
    old_reuseaddr: bool,
    new_reuseaddr: bool,
    bind: String,
    port: u16,
    /// The old server's connection was seen in TIME_WAIT when the new server tried to bind.
    time_wait_seen: bool,
    time_wait_remaining_ms: Option<u64>,
}

#[derive(Serialize)]
struct ListenConflict {
    reuseaddr: bool,
    bind: String,
}

#[derive(Serialize)]
struct Report {
    scenario: &'static str,
    matrix: Vec<Cell>,
    listen_conflict: ListenConflict,
    /// The combinations (old, new) that bound, as measured.
    binds_with: Vec<String>,
    rule: String,
}

#[derive(Tabled)]
struct Row {
    #[tabled(rename = "old server SO_REUSEADDR")]
    old: &'static str,
    #[tabled(rename = "new server SO_REUSEADDR")]
    new: &'static str,
    #[tabled(rename = "bind() while TIME_WAIT")]
    bind: String,
}

fn on(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

pub fn run(ctx: &mut Ctx) -> Result<serde_json::Value> {
    ctx.say(
        "A server restarts while a connection it closed is still in TIME_WAIT on its port.\n\
         Can the new server bind() the port again? Measured for each SO_REUSEADDR setting.",
    )?;
    let mut matrix = Vec::new();
    for (old, new) in [(false, false), (false, true), (true, false), (true, true)] {
        matrix.push(case(ctx, old, new)?);
    }

    // SO_REUSEADDR against a live listener.
    let (ls, port) = listener(true, 128)?;
    ctx.ports.clear();
    ctx.watch(port);
    let second = Sock::tcp()?;
    second.s().set_reuse_address(true)?;
    let r = second.s().bind(&lo(port).into());
    let conflict = outcome(&r);
    ctx.step(
        "SO_REUSEADDR does not share a port with a listener",
        &format!(
            "A server with SO_REUSEADDR is LISTENING on {port}; a second socket, also with\n\
             SO_REUSEADDR, tries to bind the same port: {conflict}. SO_REUSEADDR only lets a bind\n\
             pass over TIME_WAIT leftovers; sharing a live port takes SO_REUSEPORT (see `reuseport`)."
        ),
        &[
            format!("server: setsockopt(SO_REUSEADDR, 1); bind(127.0.0.1:0) -> {port}; listen()"),
            format!("second: setsockopt(SO_REUSEADDR, 1); bind(127.0.0.1:{port}) = {conflict}"),
        ],
    )?;
    ctx.look_show()?;
    drop(second);
    drop(ls);

    let binds_with: Vec<String> = matrix
        .iter()
        .filter(|c| c.bind == "ok")
        .map(|c| format!("{}+{}", on(c.old_reuseaddr), on(c.new_reuseaddr)))
        .collect();
    let rule = if binds_with == ["on+on"] {
        "only on+on binds: the accepted connection inherits SO_REUSEADDR from the old listener and \
         its TIME_WAIT socket keeps it, so both the old and the new server must set it"
            .to_string()
    } else if binds_with.is_empty() {
        "no combination binds while the port has a TIME_WAIT socket".to_string()
    } else {
        format!("binds with (old+new): {}", binds_with.join(", "))
    };

    if !ctx.json() {
        let rows: Vec<Row> = matrix
            .iter()
            .map(|c| Row {
                old: on(c.old_reuseaddr),
                new: on(c.new_reuseaddr),
                bind: c.bind.clone(),
            })
            .collect();
        ctx.say(&format!(
            "\nThe restart matrix, as measured:\n{}",
            Table::new(rows)
        ))?;
        ctx.say(&format!("Rule: {rule}."))?;
        ctx.say(&format!(
            "And while a LISTEN socket holds the port, SO_REUSEADDR on both gives: {conflict}."
        ))?;
    }

    let report = Report {
        scenario: "reuseaddr",
        matrix,
        listen_conflict: ListenConflict {
            reuseaddr: true,
            bind: conflict,
        },
        binds_with,
        rule,
    };
    Ok(serde_json::to_value(report)?)
}

/// One cell of the matrix: an old server leaves TIME_WAIT, a new one tries to bind.
fn case(ctx: &mut Ctx, old: bool, new: bool) -> Result<Cell> {
    let (ls, port) = listener(old, 128)?;
    ctx.ports.clear();
    ctx.watch(port);
    let client = Sock::client()?;
    client.connect(lo(port))?;
    let (conn, _) = ls.accept(Duration::from_secs(3))?;
    let caddr = client.local()?;
    conn.send_all(b"bye\n")?;
    // The old server closes the connection first, then exits (its listener goes too).
    conn.close();
    drop(ls);
    let _ = client.recv_some()?;
    let _ = client.recv_some()?;
    client.close();
    let (seen, _) = ctx.wait_for(Duration::from_secs(2), |l| {
        l.state_of(lo(port), caddr) == Some(State::TimeWait)
    })?;
    let l = ctx.look()?;
    let remaining = l.time_wait_ms(lo(port), caddr);

    let fresh = Sock::tcp()?;
    fresh.s().set_reuse_address(new)?;
    let r = fresh.s().bind(&lo(port).into());
    let bind = outcome(&r);
    ctx.step(
        &format!("old server SO_REUSEADDR {}, new server SO_REUSEADDR {}", on(old), on(new)),
        &format!(
            "The old server closed a connection first and exited; the connection is in TIME_WAIT{}.\n\
             The new server's bind() on the same port: {bind}.",
            match remaining {
                Some(ms) => format!(" ({} left)", secs(ms)),
                None => " (not seen!)".to_string(),
            }
        ),
        &[
            format!("old: setsockopt(SO_REUSEADDR, {}); bind(127.0.0.1:0) -> {port}; listen(); accept()", u8::from(old)),
            "old: send(); close(conn); close(listener)   ; client: recv() = 0; close()".into(),
            format!("new: setsockopt(SO_REUSEADDR, {}); bind(127.0.0.1:{port}) = {bind}", u8::from(new)),
        ],
    )?;
    ctx.show(&l)?;
    drop(fresh);
    ctx.reap_time_wait()?;
    Ok(Cell {
        old_reuseaddr: old,
        new_reuseaddr: new,
        bind,
        port,
        time_wait_seen: seen,
        time_wait_remaining_ms: remaining,
    })
}
