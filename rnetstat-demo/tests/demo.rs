//! Runs the real `rnetstat-demo` binary for every scenario with `--json` and asserts what it
//! observed, checks the restart matrix against the kernel measured here independently, and
//! checks that nothing the demo made (processes, TIME_WAIT sockets) survives it, also on Ctrl-C.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const DEMO: &str = env!("CARGO_BIN_EXE_rnetstat-demo");

/// Kills and waits for a child on drop, so a failing test leaves nothing behind.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The demo running in the background with piped output, ended (and reaped) by the guard.
fn spawn_demo(args: &[&str]) -> Guard {
    Guard(
        Command::new(DEMO)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn"),
    )
}

fn run(args: &[&str]) -> Output {
    let out = Command::new(DEMO)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run rnetstat-demo");
    if !out.status.success() {
        panic!(
            "rnetstat-demo {args:?} failed: {}\nstdout:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

/// Runs one scenario with --json and returns its object.
fn scenario(args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.push("--json");
    let out = run(&a);
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "one JSON object per scenario: {text}");
    let v: Value = serde_json::from_str(lines[0]).expect("valid JSON");
    assert_eq!(v["scenario"], args[0], "{v}");
    v
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|s| s.as_str().expect("string").to_string())
        .collect()
}

fn pids(v: &Value) -> Vec<u32> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|p| u32::try_from(p.as_u64().expect("pid")).expect("pid fits"))
        .collect()
}

/// Whether a process exists and is not a zombie.
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !matches!(
            stat.rsplit_once(')')
                .and_then(|(_, r)| r.trim_start().chars().next()),
            Some('Z') | Some('X')
        ),
        Err(_) => false,
    }
}

fn assert_all_gone(pids: &[u32]) {
    let end = Instant::now() + Duration::from_secs(3);
    loop {
        let left: Vec<u32> = pids.iter().copied().filter(|&p| alive(p)).collect();
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < end,
            "demo processes survived the demo: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// TCP sockets on 127.0.0.1 from /proc/net/tcp: (local port, remote port, state number).
fn proc_tcp() -> Vec<(u16, u16, u8)> {
    let text = std::fs::read_to_string("/proc/net/tcp").expect("read /proc/net/tcp");
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let (lip, lport) = f.get(1)?.split_once(':')?;
            let (_, rport) = f.get(2)?.split_once(':')?;
            // 0100007F = 127.0.0.1 in the kernel's little-endian hex.
            if lip != "0100007F" {
                return None;
            }
            Some((
                u16::from_str_radix(lport, 16).ok()?,
                u16::from_str_radix(rport, 16).ok()?,
                u8::from_str_radix(f.get(3)?, 16).ok()?,
            ))
        })
        .collect()
}

const TCP_TIME_WAIT: u8 = 6;

fn time_waits_on(port: u16) -> usize {
    proc_tcp()
        .iter()
        .filter(|&&(l, r, st)| st == TCP_TIME_WAIT && (l == port || r == port))
        .count()
}

/// The demo removes its TIME_WAIT sockets with an RFC 1337 reset, which the kernel honours only
/// while net.ipv4.tcp_rfc1337 is 0 (the default).
fn rfc1337_off() -> bool {
    std::fs::read_to_string("/proc/sys/net/ipv4/tcp_rfc1337")
        .map(|s| s.trim() == "0")
        .unwrap_or(false)
}

fn assert_no_time_wait_left(v: &Value, ports: &[u16]) {
    if !rfc1337_off() {
        eprintln!("note: net.ipv4.tcp_rfc1337 is set; TIME_WAIT cleanup not asserted");
        return;
    }
    assert_eq!(v["cleanup"]["time_wait_left"], 0, "{v}");
    for &p in ports {
        assert_eq!(
            time_waits_on(p),
            0,
            "TIME_WAIT left on port {p} after the demo: {v}"
        );
    }
}

fn port(v: &Value) -> u16 {
    u16::try_from(v.as_u64().expect("port")).expect("port fits")
}

#[test]
fn time_wait_is_held_by_the_side_that_closed_first() {
    let v = scenario(&["time-wait"]);
    let observed = strs(&v["observed"]);
    assert_eq!(
        observed,
        [
            "LISTEN",
            "ESTABLISHED",
            "FIN_WAIT2",
            "CLOSE_WAIT",
            "TIME_WAIT"
        ],
        "{v}"
    );
    assert_eq!(
        v["time_wait"]["owner"], "server",
        "the server closed first: {v}"
    );
    let ms = v["time_wait"]["remaining_ms"]
        .as_u64()
        .expect("remaining_ms");
    assert!(
        ms > 0 && ms <= 60_000,
        "TIME_WAIT timer from the kernel: {ms}"
    );
    assert_eq!(
        v["time_wait"]["local"],
        format!("127.0.0.1:{}", v["port"]),
        "{v}"
    );
    let reaped = v["cleanup"]["time_wait_reaped"].as_u64().expect("reaped");
    let left = v["cleanup"]["time_wait_left"].as_u64().expect("left");
    assert_eq!(
        reaped + left,
        1,
        "one TIME_WAIT made, one accounted for: {v}"
    );
    assert_no_time_wait_left(&v, &[port(&v["port"])]);
}

/// The kernel's restart rule, measured here without the demo: an old server (SO_REUSEADDR
/// `old`) closes a connection first and exits, then a new socket (SO_REUSEADDR `new`) binds.
fn kernel_rule(old: bool, new: bool) -> String {
    let l =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    l.set_reuse_address(old).expect("SO_REUSEADDR");
    l.bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0)).into())
        .expect("bind");
    l.listen(8).expect("listen");
    let l: TcpListener = l.into();
    let p = l.local_addr().expect("addr").port();
    let c =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    c.bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0)).into())
        .expect("bind client");
    c.connect(&SocketAddr::from((Ipv4Addr::LOCALHOST, p)).into())
        .expect("connect");
    let c: TcpStream = c.into();
    let caddr = c.local_addr().expect("client addr");
    let (s, _) = l.accept().expect("accept");
    drop(s);
    drop(l);
    let mut buf = [0u8; 8];
    c.set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    assert_eq!(std::io::Read::read(&mut &c, &mut buf).expect("eof"), 0);
    drop(c);
    let end = Instant::now() + Duration::from_secs(2);
    while time_waits_on(p) == 0 {
        assert!(Instant::now() < end, "no TIME_WAIT appeared on {p}");
        std::thread::sleep(Duration::from_millis(5));
    }
    let n =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    n.set_reuse_address(new).expect("SO_REUSEADDR");
    let r = n.bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, p)).into());
    drop(n);
    reap(
        SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, p)),
        caddr,
    );
    match r {
        Ok(()) => "ok".into(),
        Err(e) if e.raw_os_error() == Some(libc::EADDRINUSE) => "EADDRINUSE".into(),
        Err(e) => format!("{e}"),
    }
}

/// Removes this test's own TIME_WAIT socket (local → remote) the way the demo does.
fn reap(local: SocketAddr, remote: SocketAddr) {
    for _ in 0..3 {
        let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            .expect("socket");
        s.set_reuse_address(true).expect("reuse");
        if s.bind(&remote.into()).is_err() {
            return;
        }
        s.set_nonblocking(true).expect("nonblocking");
        let _ = s.connect(&local.into());
        let end = Instant::now() + Duration::from_millis(300);
        while Instant::now() < end && time_waits_on(local.port()) > 0 {
            std::thread::sleep(Duration::from_millis(5));
        }
        s.set_linger(Some(Duration::ZERO)).expect("linger");
        if time_waits_on(local.port()) == 0 {
            return;
        }
    }
}

#[test]
fn reuseaddr_matrix_matches_the_kernel_measured_here() {
    let v = scenario(&["reuseaddr"]);
    let matrix = v["matrix"].as_array().expect("matrix");
    assert_eq!(matrix.len(), 4, "{v}");
    let mut seen = BTreeSet::new();
    for cell in matrix {
        let old = cell["old_reuseaddr"].as_bool().expect("old");
        let new = cell["new_reuseaddr"].as_bool().expect("new");
        seen.insert((old, new));
        assert_eq!(
            cell["time_wait_seen"], true,
            "the old server left TIME_WAIT: {cell}"
        );
        let expected = kernel_rule(old, new);
        assert_eq!(cell["bind"], expected.as_str(), "old {old} new {new}: {v}");
    }
    assert_eq!(seen.len(), 4, "all four combinations: {v}");
    // Internally consistent with the rule it states, whatever the kernel said.
    let oks: Vec<String> = matrix
        .iter()
        .filter(|c| c["bind"] == "ok")
        .map(|c| format!("{}+{}", on(&c["old_reuseaddr"]), on(&c["new_reuseaddr"])))
        .collect();
    assert_eq!(strs(&v["binds_with"]), oks, "{v}");
    assert_eq!(v["listen_conflict"]["reuseaddr"], true, "{v}");
    assert_eq!(v["listen_conflict"]["bind"], "EADDRINUSE", "{v}");
    let ports: Vec<u16> = matrix.iter().map(|c| port(&c["port"])).collect();
    assert_no_time_wait_left(&v, &ports);
}

fn on(b: &Value) -> &'static str {
    if b.as_bool().expect("bool") {
        "on"
    } else {
        "off"
    }
}

#[test]
fn reuseport_spreads_clients_over_listener_processes() {
    let v = scenario(&["reuseport", "--listeners", "3", "--clients", "30"]);
    let listeners = v["listeners"].as_array().expect("listeners");
    assert_eq!(listeners.len(), 3, "{v}");
    let total: u64 = listeners
        .iter()
        .map(|l| l["accepted"].as_u64().expect("accepted"))
        .sum();
    assert_eq!(total, 30, "every client accepted by some listener: {v}");
    for l in listeners {
        assert_eq!(
            l["accepted"], l["established_seen"],
            "the listing agrees with the process: {l}"
        );
    }
    let listener_pids: BTreeSet<u64> = listeners
        .iter()
        .map(|l| l["pid"].as_u64().expect("pid"))
        .collect();
    assert_eq!(listener_pids.len(), 3, "distinct pids: {v}");
    assert_eq!(v["listen_sockets"], 3, "one LISTEN socket per process: {v}");
    let listen_pids: BTreeSet<u64> = pids(&v["listen_pids"]).into_iter().map(u64::from).collect();
    assert_eq!(
        listen_pids, listener_pids,
        "the listing shows each listener's pid: {v}"
    );
    assert_eq!(v["without_reuseport"], "EADDRINUSE", "{v}");
    assert_all_gone(&pids(&v["child_pids"]));
    assert_no_time_wait_left(&v, &[port(&v["port"])]);
}

#[test]
fn states_walk_the_state_machine() {
    let v = scenario(&["states"]);
    let observed = strs(&v["observed"]);
    let not_observed = strs(&v["not_observed"]);
    for must in [
        "LISTEN",
        "SYN_SENT",
        "ESTABLISHED",
        "FIN_WAIT2",
        "CLOSE_WAIT",
        "TIME_WAIT",
    ] {
        assert!(
            observed.iter().any(|o| o == must),
            "{must} not observed: {v}"
        );
    }
    // SYN_RECV and LAST_ACK are reported one way or the other, never silently dropped.
    for maybe in ["SYN_RECV", "LAST_ACK"] {
        assert!(
            observed.iter().any(|o| o == maybe) ^ not_observed.iter().any(|o| o == maybe),
            "{maybe} must be either observed or not_observed: {v}"
        );
    }
    let client = strs(&v["client_path"]);
    assert_eq!(client.first().map(String::as_str), Some("SYN_SENT"), "{v}");
    assert!(
        client.iter().any(|s| s == "CLOSE_WAIT"),
        "the client is the passive closer: {v}"
    );
    let server = strs(&v["server_path"]);
    assert_eq!(
        server.last().map(String::as_str),
        Some("TIME_WAIT"),
        "the server closed first: {v}"
    );
    assert_no_time_wait_left(&v, &[port(&v["port"])]);
}

#[test]
fn window_closes_and_reopens() {
    let v = scenario(&["window"]);
    assert_eq!(v["zero_window_seen"], true, "{v}");
    assert_eq!(v["writes_blocked"], true, "{v}");
    assert_eq!(v["reopened"], true, "{v}");
    let phases = v["observed"].as_array().expect("observed");
    assert_eq!(phases.len(), 3, "{v}");
    let stalled = &phases[1];
    assert!(
        stalled["receiver_recv_q"].as_u64().expect("recv_q") > 0,
        "{stalled}"
    );
    assert!(
        stalled["sender_send_q"].as_u64().expect("send_q") > 0,
        "{stalled}"
    );
    assert_eq!(stalled["last_write"], "EAGAIN", "{stalled}");
    assert!(
        stalled["sender"]["snd_mss"].as_u64().expect("mss") > 0,
        "{stalled}"
    );
    let drained = &phases[2];
    assert_eq!(drained["receiver_recv_q"], 0, "{drained}");
    assert_eq!(drained["sender_send_q"], 0, "{drained}");
    assert_eq!(drained["bytes_read"], drained["bytes_written"], "{drained}");
}

#[test]
fn concurrency_fork_uses_k_processes_threads_one() {
    let v = scenario(&["concurrency", "--workers", "4"]);
    let demo_pid = u32::try_from(v["demo_pid"].as_u64().expect("demo pid")).expect("pid");
    let server_pid = u32::try_from(v["server_pid"].as_u64().expect("server pid")).expect("pid");
    let fork = &v["fork"];
    assert_eq!(fork["listen_sockets"], 1, "{v}");
    assert_eq!(pids(&fork["listen_pids"]), [server_pid], "{v}");
    assert_eq!(fork["established"], 4, "{v}");
    assert_eq!(fork["distinct_pids"], 4, "one process per connection: {v}");
    let conn: BTreeSet<u32> = pids(&fork["conn_pids"]).into_iter().collect();
    let handlers: BTreeSet<u32> = pids(&fork["handlers"]).into_iter().collect();
    assert_eq!(
        conn, handlers,
        "each connection is owned by the child that served it: {v}"
    );
    assert!(
        !conn.contains(&server_pid) && !conn.contains(&demo_pid),
        "{v}"
    );
    let threads = &v["threads"];
    assert_eq!(threads["listen_sockets"], 1, "{v}");
    assert_eq!(threads["established"], 4, "{v}");
    assert_eq!(threads["distinct_pids"], 1, "{v}");
    assert!(
        pids(&threads["conn_pids"]).iter().all(|&p| p == demo_pid),
        "{v}"
    );
    let tids: BTreeSet<u32> = pids(&threads["handlers"]).into_iter().collect();
    assert_eq!(tids.len(), 4, "one thread per connection: {v}");
    let children = pids(&v["child_pids"]);
    assert_eq!(children.len(), 5, "the server and its 4 forks: {v}");
    assert_all_gone(&children);
}

#[test]
fn udp_is_unconn_without_handshake_or_time_wait() {
    let v = scenario(&["udp"]);
    let observed = strs(&v["observed"]);
    assert_eq!(observed.first().map(String::as_str), Some("UNCONN"), "{v}");
    assert!(
        observed.iter().any(|s| s == "ESTABLISHED"),
        "connected UDP: {v}"
    );
    assert_eq!(v["listen"], "EOPNOTSUPP", "{v}");
    assert_eq!(v["accept"], "EOPNOTSUPP", "{v}");
    let nobody = &v["connect_to_nobody"];
    assert_eq!(nobody["udp_connect"], "ok", "{v}");
    assert_eq!(nobody["udp_send"], "ok", "{v}");
    assert_eq!(nobody["tcp_connect"], "ECONNREFUSED", "{v}");
    assert_eq!(v["time_wait_after_close"]["udp"], false, "{v}");
    assert_eq!(v["time_wait_after_close"]["udp_gone"], true, "{v}");
    assert_eq!(v["time_wait_after_close"]["tcp"], true, "{v}");
    // TIME_WAIT is TCP's: look on the TCP connection's ports, not the UDP sockets' (a TCP
    // socket of a test running alongside may have the same number as a UDP port).
    let tcp_ports: Vec<u16> = v["tcp_ports"]
        .as_array()
        .expect("tcp_ports")
        .iter()
        .map(port)
        .collect();
    assert_eq!(tcp_ports.len(), 2, "{v}");
    assert_no_time_wait_left(&v, &tcp_ports);
}

#[test]
fn all_runs_every_scenario_in_order() {
    let out = run(&["all", "--json", "--clients", "6", "--workers", "2"]);
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let names: Vec<String> = text
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("JSON line");
            v["scenario"].as_str().expect("scenario").to_string()
        })
        .collect();
    assert_eq!(
        names,
        [
            "time-wait",
            "reuseaddr",
            "reuseport",
            "states",
            "window",
            "concurrency",
            "udp"
        ]
    );
}

#[test]
fn narrated_output_shows_calls_and_the_librarys_table() {
    let out = run(&["time-wait"]);
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(text.contains("calls:"), "{text}");
    assert!(text.contains("Proto Recv-Q Send-Q Local Address"), "{text}");
    assert!(text.contains("TIME_WAIT"), "{text}");
    assert!(
        text.contains("timewait ("),
        "the kernel's timer is shown: {text}"
    );
}

/// Runs `time-wait --wait` until it follows its TIME_WAIT socket, sends it `sig`, and checks it
/// stops with status 130 and (where the kernel allows the RFC 1337 reset) removes the socket.
fn a_signal_stops_the_waiting_demo_and_removes_its_time_wait(sig: i32) {
    let mut g = spawn_demo(&["time-wait", "--wait"]);
    let stdout = g.0.stdout.take().expect("stdout");
    let mut port = None;
    let mut following = false;
    // Keep reading the demo's stdout open until it exits: a closed pipe would end it instead.
    let mut reader = BufReader::new(stdout);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).expect("line") == 0 {
            break;
        }
        if let Some(rest) = line.split("the kernel picked port ").nth(1) {
            port = rest.trim().parse::<u16>().ok();
        }
        if line.contains("--wait: following") {
            following = true;
            break;
        }
    }
    assert!(following, "signal {sig}: the demo reached its --wait phase");
    let port = port.expect("the demo printed its port");
    assert!(
        time_waits_on(port) > 0,
        "signal {sig}: TIME_WAIT exists while the demo waits"
    );
    let pid = i32::try_from(g.0.id()).expect("pid");
    // SAFETY: signalling our own child.
    unsafe { libc::kill(pid, sig) };
    let end = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(s) = g.0.try_wait().expect("wait") {
            break s;
        }
        assert!(
            Instant::now() < end,
            "the demo did not stop on signal {sig}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut rest = String::new();
    let _ = reader.read_to_string(&mut rest);
    assert_eq!(status.code(), Some(130), "signal {sig}; output:\n{rest}");
    if rfc1337_off() {
        assert_eq!(time_waits_on(port), 0, "signal {sig}: TIME_WAIT removed");
    }
}

#[test]
fn ctrl_c_stops_the_demo_and_removes_its_time_wait() {
    a_signal_stops_the_waiting_demo_and_removes_its_time_wait(libc::SIGINT);
}

#[test]
fn bad_arguments_are_usage_errors() {
    for args in [
        &["reuseport", "--listeners", "0"][..],
        &["nope"],
        &["window", "--bogus"],
    ] {
        let out = Command::new(DEMO).args(args).output().expect("run");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains("panicked"),
            "{args:?}"
        );
    }
}

/// Starts a scenario that pauses after each step, reads up to the end of its first table, and
/// returns the guard, the stdout reader (kept open), and every pid the table shows except the
/// demo's own.
fn start_paused(args: &[&str]) -> (Guard, BufReader<std::process::ChildStdout>, Vec<u32>, u16) {
    let mut args = args.to_vec();
    args.extend(["--step-delay", "30"]);
    let mut g = spawn_demo(&args);
    let demo_pid = g.0.id();
    let mut reader = BufReader::new(g.0.stdout.take().expect("stdout"));
    let mut in_table = false;
    let mut pids = BTreeSet::new();
    let mut port = 0;
    loop {
        let mut line = String::new();
        assert!(
            reader.read_line(&mut line).expect("read") > 0,
            "the demo ended early"
        );
        if line.contains("rnetstat -4tuanpo") {
            in_table = true;
            port = line
                .split("tcp ports ")
                .nth(1)
                .and_then(|r| {
                    r.trim()
                        .trim_end_matches(':')
                        .split(',')
                        .next()
                        .map(str::to_string)
                })
                .and_then(|p| p.parse().ok())
                .expect("port in the table heading");
            continue;
        }
        if in_table {
            if line.contains("(pausing ") {
                break;
            }
            for cell in line.split_whitespace() {
                if let Some((pid, name)) = cell.split_once('/') {
                    if name == "rnetstat-demo" {
                        pids.insert(pid.parse::<u32>().expect("pid"));
                    }
                }
            }
        }
    }
    pids.remove(&demo_pid);
    (g, reader, pids.into_iter().collect(), port)
}

fn terminate(g: &mut Guard, sig: i32) -> std::process::ExitStatus {
    let pid = i32::try_from(g.0.id()).expect("pid");
    // SAFETY: signalling our own child.
    unsafe { libc::kill(pid, sig) };
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(s) = g.0.try_wait().expect("wait") {
            return s;
        }
        assert!(
            Instant::now() < end,
            "the demo did not stop on signal {sig}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn sockets_on(port: u16) -> usize {
    proc_tcp()
        .iter()
        .filter(|&&(l, r, _)| l == port || r == port)
        .count()
}

#[test]
fn sigterm_kills_the_reuseport_listeners() {
    let (mut g, _reader, pids, port) = start_paused(&["reuseport", "--clients", "4"]);
    assert_eq!(
        pids.len(),
        2,
        "two listener processes in the first table: {pids:?}"
    );
    assert!(pids.iter().all(|&p| alive(p)));
    let status = terminate(&mut g, libc::SIGTERM);
    assert_eq!(status.code(), Some(130));
    assert_all_gone(&pids);
    assert_eq!(sockets_on(port), 0, "no socket left on the shared port");
}

#[test]
fn ctrl_c_kills_the_forking_server_and_its_children() {
    let (mut g, _reader, pids, port) = start_paused(&["concurrency", "--workers", "3"]);
    assert_eq!(
        pids.len(),
        4,
        "the server and 3 forked children in the first table: {pids:?}"
    );
    let status = terminate(&mut g, libc::SIGINT);
    assert_eq!(status.code(), Some(130));
    assert_all_gone(&pids);
    assert_eq!(sockets_on(port), 0, "no socket left on the server's port");
}

/// Regression: SIGHUP (a closed terminal) and SIGQUIT (Ctrl-\) ended the demo by their default
/// action and left its TIME_WAIT socket behind; they now clean up like SIGINT.
#[test]
fn hangup_and_quit_clean_up_like_ctrl_c() {
    for sig in [libc::SIGHUP, libc::SIGQUIT] {
        a_signal_stops_the_waiting_demo_and_removes_its_time_wait(sig);
    }
}
