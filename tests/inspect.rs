//! Inspection beyond netstat, through the real binary on real loopback sockets: filters, state
//! groups, owner matchers, tcp_info/memory/extended internals, --watch transitions, --events,
//! -s and --summary.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

fn json(args: &[&str]) -> Vec<Value> {
    rnetstat(args).json()
}

fn ports(list: &[Value], key: &str) -> Vec<u64> {
    let mut v: Vec<u64> = list
        .iter()
        .filter_map(|s| s[key]["port"].as_u64())
        .collect();
    v.sort_unstable();
    v
}

struct Pair {
    listener: TcpListener,
    client: TcpStream,
    accepted: TcpStream,
}

fn pair() -> Pair {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let client = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
    let (accepted, _) = listener.accept().expect("accept");
    Pair {
        listener,
        client,
        accepted,
    }
}

fn port(l: &TcpListener) -> u16 {
    l.local_addr().expect("addr").port()
}

#[test]
fn a_port_filter_lists_exactly_that_listener_and_its_connection() {
    let p = pair();
    let lp = port(&p.listener);
    for source in ["netlink", "proc"] {
        let l = json(&[
            "-tan",
            "--json",
            "--source",
            source,
            "sport",
            "=",
            &format!(":{lp}"),
        ]);
        assert_eq!(ports(&l, "local"), [u64::from(lp); 2], "{source}: {l:?}");
        let states: Vec<&str> = l.iter().filter_map(|s| s["state"].as_str()).collect();
        assert!(
            states.contains(&"LISTEN") && states.contains(&"ESTABLISHED"),
            "{states:?}"
        );
        let only = json(&[
            "-tln",
            "--json",
            "--source",
            source,
            &format!("sport = :{lp}"),
        ]);
        assert_eq!(only.len(), 1, "{source}: {only:?}");
        assert_eq!(only[0]["inode"], inode_of(&p.listener));
    }
}

#[test]
fn expressions_combine_with_and_or_not_and_parentheses() {
    let a = pair();
    let b = pair();
    let (pa, pb) = (port(&a.listener), port(&b.listener));
    let cport = a.client.local_addr().expect("addr").port();
    let cases: Vec<(String, Vec<u64>)> = vec![
        (
            format!("state listening ( sport = :{pa} or sport = :{pb} )"),
            {
                let mut v = vec![u64::from(pa), u64::from(pb)];
                v.sort_unstable();
                v
            },
        ),
        (
            format!("dport = :{pa} and dst 127.0.0.0/8"),
            vec![u64::from(cport)],
        ),
        (
            format!("state established sport = :{pa} and not dport = :{cport}"),
            vec![],
        ),
        (
            format!("sport = :{pa} and dport != :{cport}"),
            vec![u64::from(pa)],
        ),
        (
            format!("dport = :{pa} and sport > :1023"),
            vec![u64::from(cport)],
        ),
        (format!("dport = :{pa} and sport < :1"), vec![]),
    ];
    for (filter, want) in cases {
        let mut args = vec!["-tan", "--json"];
        args.extend(filter.split(' '));
        let got = json(&args);
        assert_eq!(ports(&got, "local"), want, "filter: {filter}\n{got:?}");
    }
}

#[test]
fn state_words_and_groups_select_like_ss() {
    let p = pair();
    let lp = port(&p.listener);
    let guard = format!("( sport = :{lp} or dport = :{lp} )");
    let run = |words: &str| -> Vec<String> {
        let mut args = vec!["-tn", "--json"];
        let text = format!("{words} {guard}");
        args.extend(text.split(' '));
        let mut v: Vec<String> = json(&args)
            .iter()
            .filter_map(|s| s["state"].as_str().map(str::to_string))
            .collect();
        v.sort();
        v
    };
    assert_eq!(run("state established"), ["ESTABLISHED", "ESTABLISHED"]);
    assert_eq!(run("state listening"), ["LISTEN"]);
    assert_eq!(run("state all"), ["ESTABLISHED", "ESTABLISHED", "LISTEN"]);
    assert_eq!(run("exclude listening"), ["ESTABLISHED", "ESTABLISHED"]);
    assert_eq!(run("state connected"), ["ESTABLISHED", "ESTABLISHED"]);
    assert_eq!(run("state synchronized"), ["ESTABLISHED", "ESTABLISHED"]);
    assert_eq!(run("state bucket"), Vec::<String>::new());
    assert_eq!(run("state big"), ["ESTABLISHED", "ESTABLISHED", "LISTEN"]);

    // A TIME_WAIT appears under time-wait and bucket.
    let mut accepted = p.accepted;
    drop(p.client);
    let mut b = [0u8; 1];
    assert_eq!(accepted.read(&mut b).expect("eof"), 0);
    drop(accepted);
    let deadline = Instant::now() + Duration::from_secs(10);
    while run("state time-wait").is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(run("state time-wait"), ["TIME_WAIT"]);
    assert_eq!(run("state bucket"), ["TIME_WAIT"]);
}

#[test]
fn owner_and_uid_matchers() {
    let p = pair();
    let lp = port(&p.listener);
    let me = std::process::id().to_string();
    let uid = rustix::process::geteuid().as_raw().to_string();
    let f = format!("sport = :{lp}");
    let by_pid = json(&["-tan", "--json", "--pid", &me, &f]);
    assert_eq!(by_pid.len(), 2, "{by_pid:?}");
    let other = json(&["-tan", "--json", "--pid", "1", &f]);
    assert!(other.is_empty(), "{other:?}");
    let comm = std::fs::read_to_string("/proc/self/comm").expect("comm");
    let by_name = json(&["-tan", "--json", "--process", comm.trim_end(), &f]);
    assert_eq!(by_name.len(), 2);
    let by_uid = json(&["-tan", "--json", "--uid", &uid, &f]);
    assert_eq!(by_uid.len(), 2);
    let bad = rnetstat(&["-tan", "--uid", "no-such-user-rnetstat"]);
    assert_eq!(bad.code(), Some(2), "{}", bad.explain());
}

#[test]
fn a_malformed_filter_points_at_the_token_and_exits_2() {
    let run = rnetstat(&["-tan", "sport", "=", ":notaport"]);
    assert_eq!(run.code(), Some(2), "{}", run.explain());
    let err = run.stderr();
    assert!(err.contains("filter error"), "{err}");
    assert!(err.contains("sport = :notaport"), "{err}");
    assert!(err.contains("^^^^"), "{err}");
    let unbalanced = rnetstat(&["-tan", "(", "sport", "=", ":22"]);
    assert_eq!(unbalanced.code(), Some(2), "{}", unbalanced.explain());
}

#[test]
fn info_reports_tcp_internals_of_a_connection_that_moved_data() {
    let mut p = pair();
    let payload = vec![7u8; 256 * 1024];
    let mut reader = p.accepted.try_clone().expect("clone");
    let t = std::thread::spawn(move || {
        let mut buf = vec![0u8; 256 * 1024];
        reader.read_exact(&mut buf).expect("read all");
    });
    p.client.write_all(&payload).expect("write");
    t.join().expect("reader");
    let cport = p.client.local_addr().expect("addr").port();
    let l = json(&[
        "-tn",
        "--json",
        "--info",
        "--memory",
        "--extended",
        &format!("sport = :{cport}"),
    ]);
    assert_eq!(l.len(), 1, "{l:?}");
    let s = &l[0];
    let acked = s["info"]["bytes_acked"].as_u64().expect("bytes_acked");
    assert!(acked >= payload.len() as u64, "{s}");
    let mss = s["info"]["snd_mss"].as_u64().expect("snd_mss");
    assert!((500..=65535).contains(&mss), "mss {mss}");
    assert!(s["info"]["congestion"].is_string(), "{s}");
    assert!(s["memory"]["rcvbuf"].as_u64().unwrap_or(0) > 0, "{s}");
    assert_eq!(
        s["shutdown"],
        serde_json::json!({"receive": false, "send": false})
    );
    assert!(s.get("cgroup").is_some() && s.get("mark").is_some() && s.get("v6only").is_some());

    let table = rnetstat(&["-tn", "--info", "--memory", &format!("sport = :{cport}")]);
    let out = table.stdout();
    let second = out
        .lines()
        .find(|l| l.starts_with('\t'))
        .unwrap_or_else(|| panic!("no internals line\n{}", table.explain()));
    assert!(
        second.contains("bytes_acked:") && second.contains("skmem:(r"),
        "{second}"
    );

    // The /proc source has no internals: the keys are present and null, not zero.
    let proc = json(&[
        "-tn",
        "--json",
        "--info",
        "--source",
        "proc",
        &format!("sport = :{cport}"),
    ]);
    assert_eq!(proc[0]["info"], Value::Null);
}

/// Reads JSON lines from a child's stdout on a thread, so the test can wait with a deadline.
fn line_reader(child: &mut std::process::Child) -> mpsc::Receiver<Value> {
    let out = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                if tx.send(v).is_err() {
                    break;
                }
            }
        }
    });
    rx
}

fn wait_for(rx: &mpsc::Receiver<Value>, what: &str, pred: impl Fn(&Value) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        if let Ok(v) = rx.recv_timeout(Duration::from_millis(100)) {
            let done = pred(&v);
            seen.push(v);
            if done {
                return seen;
            }
        }
    }
    panic!("never saw {what}; saw {seen:#?}");
}

fn interrupt(child: &Reaped) {
    // SAFETY: kill(2) on a child this test started and has not reaped.
    unsafe {
        libc::kill(child.pid() as libc::pid_t, libc::SIGINT);
    }
}

fn exit_status(mut child: Reaped) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(s) = child.0.try_wait().expect("wait") {
            return s;
        }
        assert!(Instant::now() < deadline, "did not stop on SIGINT");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn watch_reports_transitions_in_order_and_stops_on_sigint() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let lp = port(&listener);
    let mut child = Reaped(
        Command::new(BIN)
            .args(["--watch", "0.05", "-tanp", "--json"])
            .args(format!("( sport = :{lp} or dport = :{lp} )").split(' '))
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn"),
    );
    let rx = line_reader(&mut child.0);
    wait_for(&rx, "the listener", |v| v["socket"]["state"] == "LISTEN");

    let client = TcpStream::connect(("127.0.0.1", lp)).expect("connect");
    let cport = client.local_addr().expect("addr").port();
    let (mut accepted, _) = listener.accept().expect("accept");
    let mine = |v: &Value| v["socket"]["local"]["port"] == cport;
    let seen = wait_for(&rx, "client ESTABLISHED", |v| {
        mine(v) && v["event"] == "new"
    });
    assert_eq!(
        seen.last().map(|v| v["socket"]["state"].clone()),
        Some("ESTABLISHED".into())
    );

    drop(client); // active close: FIN_WAIT2, then TIME_WAIT once the server closes
    std::thread::sleep(Duration::from_millis(300));
    let mut b = [0u8; 1];
    assert_eq!(accepted.read(&mut b).expect("eof"), 0);
    drop(accepted);
    let seen = wait_for(&rx, "client TIME_WAIT", |v| {
        mine(v) && v["event"] == "state" && v["to"] == "TIME_WAIT"
    });
    let client_states: Vec<String> = seen
        .iter()
        .filter(|v| mine(v) && v["event"] == "state")
        .map(|v| {
            format!(
                "{}->{}",
                v["from"].as_str().unwrap_or("?"),
                v["to"].as_str().unwrap_or("?")
            )
        })
        .collect();
    // Every transition seen is a step forward in the active closer's path, ending in TIME_WAIT.
    let order = ["ESTABLISHED", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT"];
    for t in &client_states {
        let (a, b) = t.split_once("->").expect("arrow");
        let (ia, ib) = (
            order.iter().position(|s| *s == a),
            order.iter().position(|s| *s == b),
        );
        assert!(
            ia.is_some() && ib.is_some() && ia < ib,
            "out of order: {client_states:?}"
        );
    }
    assert!(client_states
        .last()
        .is_some_and(|t| t.ends_with("TIME_WAIT")));
    // The server side, once closed, is GONE.
    let server_gone = |v: &Value| v["event"] == "gone" && v["socket"]["remote"]["port"] == cport;
    let gone = match seen.iter().find(|v| server_gone(v)) {
        Some(v) => v.clone(),
        None => wait_for(&rx, "the server side GONE", server_gone)
            .pop()
            .expect("event"),
    };
    // A GONE socket names the owner it had when last seen.
    assert!(
        owner_pids(&gone["socket"]).contains(&u64::from(std::process::id())),
        "{gone}"
    );
    interrupt(&child);
    assert!(exit_status(child).success());
}

#[test]
fn events_report_a_socket_the_test_closes() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let lp = port(&listener);
    let mut child = Reaped(
        Command::new(BIN)
            .args(["--events", "-n", "-p", "--json", "-t", "-v"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn"),
    );
    let rx = line_reader(&mut child.0);
    // -v says when it is subscribed (and has its first owner listing); wait for that.
    let err = child.0.stderr.take().expect("stderr");
    let (tx, ready) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut said = Vec::new();
    loop {
        match ready.recv_timeout(Duration::from_millis(100)) {
            Ok(l) if l.contains("following socket destruction events") => break,
            Ok(l) => said.push(l),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                if !is_root() && said.iter().any(|l| l.contains("subscribe")) {
                    eprintln!("skipping: destroy events need privileges here: {said:?}");
                    return;
                }
                panic!("--events exited early: {said:?}");
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                assert!(
                    Instant::now() < deadline,
                    "--events never got ready: {said:?}"
                )
            }
        }
    }
    let inode = inode_of(&listener);
    drop(listener);
    let seen = wait_for(&rx, "the listener's destruction", |v| {
        v["event"] == "destroy" && v["socket"]["local"]["port"] == lp
    });
    let ev = seen.last().expect("event");
    assert_eq!(ev["socket"]["proto"], "tcp");
    assert_eq!(ev["socket"]["inode"], inode, "last-seen inode: {ev}");
    assert!(
        owner_pids(&ev["socket"]).contains(&u64::from(std::process::id())),
        "{ev}"
    );
    interrupt(&child);
    assert!(exit_status(child).success());
}

#[test]
fn statistics_print_netstat_groups_and_json_numbers() {
    let run = rnetstat(&["-s"]);
    assert_eq!(run.code(), Some(0), "{}", run.explain());
    for group in ["Ip:", "Tcp:", "Udp:"] {
        assert!(
            run.stdout().lines().any(|l| l == group),
            "{group}\n{}",
            run.explain()
        );
    }
    let j = rnetstat(&["-s", "--json"]);
    assert_eq!(j.code(), Some(0), "{}", j.explain());
    let v: Value = serde_json::from_slice(&j.out.stdout).expect("json");
    assert!(v["Tcp"]["ActiveOpens"].is_number(), "{v}");
    assert!(v["Ip"]["InReceives"].is_number());
}

#[test]
fn summary_counts_the_sockets_it_sees() {
    let _p = pair();
    let _u = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let j = rnetstat(&["--summary", "--json"]);
    assert_eq!(j.code(), Some(0), "{}", j.explain());
    let v: Value = serde_json::from_slice(&j.out.stdout).expect("json");
    assert!(v["tcp"]["estab"].as_u64().unwrap_or(0) >= 2, "{v}");
    assert!(v["udp"]["total"].as_u64().unwrap_or(0) >= 1, "{v}");
    let t = rnetstat(&["--summary"]);
    assert!(t.stdout().starts_with("Total: "), "{}", t.explain());
}

#[test]
fn modes_do_not_combine() {
    for args in [
        &["-s", "--summary"][..],
        &["--watch", "-c"],
        &["--events", "-s"],
    ] {
        let run = rnetstat(args);
        assert_eq!(run.code(), Some(2), "{}", run.explain());
    }
}
