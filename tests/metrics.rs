//! `--metrics` and `--metrics --listen` checked by the real Prometheus parts: promtool on the
//! text output, Python's prometheus_client strict OpenMetrics parser on the negotiated answer,
//! node_exporter's textfile collector on what `--metrics` wrote, and a Prometheus server that
//! scrapes `--listen` every second and answers a PromQL query. Counts are asserted inside a
//! network namespace the test makes, so nothing else on the host moves them.
//!
//! Tools missing (promtool, prometheus, prometheus-node-exporter, python3 with
//! prometheus_client, ip) or no root for a namespace: the test says so and returns.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, ChildStderr, Command, Stdio};
use std::time::{Duration, Instant};

use common::{is_root, promtool_check, rnetstat, SharedBin, TempDir, BIN};

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn skip(why: &str) {
    eprintln!("skipped: {why}");
}

/// A child killed (SIGKILL, by its PID) and reaped when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port free right now on 127.0.0.1, for tools that cannot be given port 0.
fn free_port() -> u16 {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// `rnetstat --metrics --listen 127.0.0.1:0 ARGS`, with the port it says it bound.
struct Server {
    child: Killed,
    port: u16,
    _stderr: BufReader<ChildStderr>,
}

fn serve(args: &[&str]) -> Server {
    let mut child = Command::new(BIN)
        .args(["--metrics", "--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rnetstat --listen");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let child = Killed(child);
    let mut line = String::new();
    stderr.read_line(&mut line).expect("read stderr");
    let port = line
        .trim()
        .rsplit_once("127.0.0.1:")
        .and_then(|(_, rest)| rest.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no address in the server's first line: {line:?}"));
    Server {
        child,
        port,
        _stderr: stderr,
    }
}

/// One HTTP/1.1 request on a fresh connection: (status, head, body).
fn request(port: u16, raw: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connect");
    // Generous: concurrent scrapes queue behind two listings at a time, on a loaded machine.
    s.set_read_timeout(Some(Duration::from_secs(120)))
        .expect("timeout");
    s.write_all(raw.as_bytes()).expect("send request");
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP answer to {raw:?}: {answer:?}"));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {head:?}"));
    let chunked = head
        .lines()
        .any(|l| l.to_ascii_lowercase().replace(' ', "") == "transfer-encoding:chunked");
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_string()
    };
    (status, head.to_string(), body)
}

/// The body of a chunked answer (node_exporter sends large ones so): chunk sizes and their line
/// ends taken out, so a chunk boundary cannot split a sample line.
fn dechunk(mut raw: &str) -> String {
    let mut body = String::new();
    while let Some((size, rest)) = raw.split_once("\r\n") {
        let n = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
            .unwrap_or_else(|_| panic!("a chunk size, not {size:?}"));
        if n == 0 {
            break;
        }
        body.push_str(rest.get(..n).expect("a whole chunk"));
        raw = rest.get(n..).unwrap_or("").trim_start_matches("\r\n");
    }
    body
}

fn get(port: u16, path: &str, accept: Option<&str>) -> (u16, String, String) {
    let accept = accept
        .map(|a| format!("Accept: {a}\r\n"))
        .unwrap_or_default();
    request(
        port,
        &format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{accept}Connection: close\r\n\r\n"),
    )
}

/// The value of the sample written exactly `series` (name and labels as printed).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// Whether python3 can import prometheus_client (its strict OpenMetrics parser).
fn have_prometheus_client() -> bool {
    Command::new("python3")
        .args(["-c", "import prometheus_client.openmetrics.parser"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn once_output_passes_promtool() {
    if !have("promtool") {
        return skip("needs promtool (Debian package prometheus)");
    }
    for args in [
        &["--metrics"][..],
        &["--metrics", "-p"],
        &["--metrics", "-tl"],
    ] {
        let run = rnetstat(args);
        assert_eq!(run.code(), Some(0), "{}", run.explain());
        let text = run.stdout();
        assert!(text.contains("# TYPE rnetstat_sockets gauge"), "{text}");
        assert!(!text.contains("# EOF"), "{text}");
        promtool_check(&text);
    }
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["--listen", "127.0.0.1:0"][..],
        &["--metrics", "--json"],
        &["--metrics", "--listen", "localhost:9"],
        &["--metrics", "--listen", "127.0.0.1"],
        &["--metrics", "-s"],
        &["--metrics", "-N", "pid:x"],
        &["--metrics", "-N", "no-such-namespace-here"],
    ] {
        let run = rnetstat(args);
        assert_eq!(run.code(), Some(2), "{}", run.explain());
        assert!(run.stderr().starts_with("error") || run.stderr().starts_with("rnetstat: "));
    }
}

#[test]
fn a_port_in_use_is_a_clear_runtime_error() {
    let held = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let addr = held.local_addr().expect("addr").to_string();
    let run = rnetstat(&["--metrics", "--listen", &addr]);
    assert_eq!(run.code(), Some(1), "{}", run.explain());
    assert!(
        run.stderr()
            .starts_with(&format!("rnetstat: cannot listen on {addr}: ")),
        "{}",
        run.explain()
    );
}

#[test]
fn openmetrics_when_asked_text_otherwise() {
    let srv = serve(&[]);
    let (status, head, body) = get(srv.port, "/metrics", None);
    assert_eq!(status, 200, "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/plain; version=0.0.4; charset=utf-8"),
        "{head}"
    );
    assert!(!body.contains("# EOF"));
    if have("promtool") {
        promtool_check(&body);
    } else {
        skip("promtool check of the HTTP answer: needs promtool");
    }

    let prometheus_accept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    let (status, head, body) = get(srv.port, "/metrics", Some(prometheus_accept));
    assert_eq!(status, 200, "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/openmetrics-text; version=1.0.0; charset=utf-8"),
        "{head}"
    );
    assert!(body.ends_with("# EOF\n"), "{body}");
    assert!(body.contains("# TYPE rnetstat_tcp_listen_overflows counter\n"));
    assert!(body.contains("\nrnetstat_tcp_listen_overflows_total "));
    if !have_prometheus_client() {
        return skip(
            "strict OpenMetrics parse: needs python3 with prometheus_client (pip install prometheus_client)",
        );
    }
    let mut py = Command::new("python3")
        .args([
            "-c",
            "import sys\n\
             from prometheus_client.openmetrics.parser import text_string_to_metric_families as p\n\
             fams = list(p(sys.stdin.read()))\n\
             print(len(fams), sum(len(f.samples) for f in fams))",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn python3");
    py.stdin
        .take()
        .expect("stdin")
        .write_all(body.as_bytes())
        .expect("feed the parser");
    let out = py.wait_with_output().expect("python3 runs");
    assert!(
        out.status.success(),
        "the strict OpenMetrics parser refused the answer: {}\n--- answer ---\n{body}",
        String::from_utf8_lossy(&out.stderr)
    );
    let families: usize = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(families >= 10, "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn bad_requests_are_answered_and_the_server_goes_on() {
    let srv = serve(&["-t"]);
    let (status, ..) = get(srv.port, "/", None);
    assert_eq!(status, 404);
    let (status, ..) = get(srv.port, "/metrics/extra", None);
    assert_eq!(status, 404);
    let (status, head, _) = request(
        srv.port,
        "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 405, "{head}");
    assert!(
        head.to_ascii_lowercase().contains("allow: get, head"),
        "{head}"
    );
    let (status, head, _) = request(srv.port, "NOT HTTP AT ALL\r\n\r\n");
    assert_eq!(status, 400, "{head}");
    let (status, head, _) = request(srv.port, "GET /metrics HTTP/1.1\r\nHost\r\n\r\n");
    assert_eq!(status, 400, "{head}");
    // A request head past the bound: refused, not read forever.
    let huge = format!(
        "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: {}\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    let mut s = TcpStream::connect((Ipv4Addr::LOCALHOST, srv.port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let _ = s.write_all(huge.as_bytes());
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 431") || answer.starts_with("HTTP/1.1 400"),
        "{answer:?}"
    );
    let (status, _, body) = get(srv.port, "/metrics", None);
    assert_eq!(status, 200);
    assert!(body.contains("rnetstat_sockets{proto=\"tcp\""), "{body}");
}

#[test]
fn an_idle_client_blocks_nobody_and_is_timed_out() {
    let srv = serve(&["-t"]);
    let mut idle = TcpStream::connect((Ipv4Addr::LOCALHOST, srv.port)).expect("connect");
    // Half a request head, then silence.
    idle.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        .expect("send");
    let mut silent = TcpStream::connect((Ipv4Addr::LOCALHOST, srv.port)).expect("connect");
    let started = Instant::now();
    for _ in 0..3 {
        let (status, ..) = get(srv.port, "/metrics", None);
        assert_eq!(status, 200);
    }
    assert!(started.elapsed() < Duration::from_secs(4));
    // The server closes both once the head timeout (5 s) passes.
    for s in [&mut idle, &mut silent] {
        s.set_read_timeout(Some(Duration::from_secs(15)))
            .expect("timeout");
        let mut buf = [0u8; 512];
        let t = Instant::now();
        match s.read(&mut buf) {
            Ok(_) | Err(_) => {}
        }
        assert!(
            t.elapsed() < Duration::from_secs(14),
            "the idle connection stayed open"
        );
    }
}

#[test]
fn forty_concurrent_scrapes_are_all_served() {
    let srv = serve(&["-t"]);
    let port = srv.port;
    let workers: Vec<_> = (0..40)
        .map(|_| std::thread::spawn(move || get(port, "/metrics", None)))
        .collect();
    for w in workers {
        let (status, _, body) = w.join().expect("scrape thread");
        assert_eq!(status, 200);
        assert!(body.contains("# TYPE rnetstat_scrape_duration_seconds gauge"));
    }
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    for sig in [libc::SIGTERM, libc::SIGINT] {
        let mut srv = serve(&["-t"]);
        let (status, ..) = get(srv.port, "/metrics", None);
        assert_eq!(status, 200);
        let pid = srv.child.0.id() as libc::pid_t;
        // SAFETY: kill(2) on the PID of the child this test spawned and has not reaped.
        unsafe {
            libc::kill(pid, sig);
        }
        let t = Instant::now();
        let status = loop {
            if let Some(s) = srv.child.0.try_wait().expect("wait") {
                break s;
            }
            assert!(t.elapsed() < Duration::from_secs(5), "still running");
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "{status}");
        assert!(TcpStream::connect((Ipv4Addr::LOCALHOST, srv.port)).is_err());
    }
}

/// Runs `f` on a thread moved into a new network namespace with loopback up; processes it
/// spawns inherit the namespace. None (and a message) without root, unshare(2) or `ip`.
fn in_new_netns<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    if !is_root() {
        skip("needs root for a network namespace");
        return None;
    }
    if !have("ip") {
        skip("needs ip (iproute2)");
        return None;
    }
    let t = std::thread::spawn(move || {
        // SAFETY: unshare(2) with CLONE_NEWNET changes only this thread's namespace.
        if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
            return None;
        }
        let up = Command::new("ip")
            .args(["link", "set", "lo", "up"])
            .status()
            .is_ok_and(|s| s.success());
        if !up {
            return None;
        }
        Some(f())
    });
    let r = t.join().expect("namespace thread");
    if r.is_none() {
        skip("could not make a network namespace");
    }
    r
}

/// Listeners with backlog 7 on 127.0.0.1:0, and `queued` connections waiting on the first.
fn listeners(n: usize, queued: usize) -> (Vec<socket2::Socket>, Vec<TcpStream>, Vec<u16>) {
    let mut ls = Vec::new();
    let mut ports = Vec::new();
    for _ in 0..n {
        let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            .expect("socket");
        s.bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0)).into())
            .expect("bind");
        s.listen(7).expect("listen");
        let port = s
            .local_addr()
            .expect("addr")
            .as_socket()
            .expect("inet")
            .port();
        ports.push(port);
        ls.push(s);
    }
    let clients = (0..queued)
        .map(|_| TcpStream::connect((Ipv4Addr::LOCALHOST, ports[0])).expect("connect"))
        .collect();
    (ls, clients, ports)
}

#[test]
fn counts_rise_by_exactly_the_listeners_added() {
    let r = in_new_netns(|| {
        let before = rnetstat(&["--metrics", "-t", "-p"]);
        let (ls, clients, ports) = listeners(3, 2);
        let after = rnetstat(&["--metrics", "-t", "-p"]);
        drop((ls, clients));
        (before, after, ports)
    });
    let Some((before, after, ports)) = r else {
        return;
    };
    assert_eq!(before.code(), Some(0), "{}", before.explain());
    assert_eq!(after.code(), Some(0), "{}", after.explain());
    let (b, a) = (before.stdout(), after.stdout());
    let listen = "rnetstat_sockets{proto=\"tcp\",state=\"LISTEN\"}";
    let estab = "rnetstat_sockets{proto=\"tcp\",state=\"ESTABLISHED\"}";
    assert_eq!(sample(&b, listen), Some(0.0), "{b}");
    assert_eq!(sample(&a, listen), Some(3.0), "{a}");
    // Two clients and the two accepted ends waiting in the queue.
    assert_eq!(sample(&a, estab), Some(4.0), "{a}");
    assert_eq!(b.matches("rnetstat_listen_queue{").count(), 0, "{b}");
    assert_eq!(a.matches("rnetstat_listen_queue{").count(), 3, "{a}");
    for (i, port) in ports.iter().enumerate() {
        let labels = format!("proto=\"tcp\",address=\"127.0.0.1\",port=\"{port}\",program=\"");
        let line = a
            .lines()
            .find(|l| l.starts_with(&format!("rnetstat_listen_queue{{{labels}")))
            .unwrap_or_else(|| panic!("no queue series for port {port}\n{a}"));
        let queued = if i == 0 { 2.0 } else { 0.0 };
        assert!(line.ends_with(&format!(" {queued}")), "{line}");
        let program = line
            .split("program=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or("");
        // The test process holds it: -p names it.
        assert!(!program.is_empty(), "{line}");
        let backlog = a
            .lines()
            .find(|l| l.starts_with(&format!("rnetstat_listen_backlog{{{labels}")))
            .unwrap_or_else(|| panic!("no backlog series for port {port}\n{a}"));
        assert!(backlog.ends_with(" 7"), "{backlog}");
    }
    assert!(a.contains("rnetstat_program_sockets{program=\""), "{a}");
}

#[test]
fn a_filter_selects_what_is_exported() {
    let r = in_new_netns(|| {
        let (ls, clients, ports) = listeners(2, 0);
        let keep = format!("sport = :{}", ports[0]);
        let run = rnetstat(&["--metrics", "-t", &keep]);
        drop((ls, clients));
        (run, ports)
    });
    let Some((run, ports)) = r else { return };
    let text = run.stdout();
    assert_eq!(
        sample(&text, "rnetstat_sockets{proto=\"tcp\",state=\"LISTEN\"}"),
        Some(1.0),
        "{}",
        run.explain()
    );
    assert!(text.contains(&format!("port=\"{}\"", ports[0])));
    assert!(!text.contains(&format!("port=\"{}\"", ports[1])));
    assert!(!text.contains("proto=\"unix\""));
}

#[test]
fn prometheus_scrapes_listen_and_promql_returns_the_count() {
    if !have("prometheus") {
        return skip("needs prometheus (Debian package prometheus)");
    }
    let r = in_new_netns(|| {
        let dir = TempDir::new("prom");
        let (ls, clients, ports) = listeners(3, 0);
        let srv = serve(&["-t"]);
        let prom_port = free_port();
        let config = dir.0.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: rnetstat\n    static_configs:\n      - targets: ['127.0.0.1:{}']\n",
                srv.port
            ),
        )
        .expect("write config");
        let prom = Killed(
            Command::new("prometheus")
                .arg(format!("--config.file={}", config.display()))
                .arg(format!(
                    "--storage.tsdb.path={}",
                    dir.0.join("data").display()
                ))
                .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn prometheus"),
        );
        let query = format!(
            "count(rnetstat_listen_queue{{job=\"rnetstat\",port=~\"{}|{}|{}\"}})",
            ports[0], ports[1], ports[2]
        );
        let encoded: String = query
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b == b'_' {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut last = String::new();
        let mut format_seen = String::new();
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(500));
            if TcpStream::connect((Ipv4Addr::LOCALHOST, prom_port)).is_err() {
                continue;
            }
            let (status, _, body) = get(prom_port, &format!("/api/v1/query?query={encoded}"), None);
            last = body.clone();
            if status == 200 && body.contains("\"value\":[") {
                let (_, _, targets) = get(prom_port, "/api/v1/targets", None);
                format_seen = targets;
                break;
            }
        }
        drop(prom);
        drop(srv);
        drop((ls, clients));
        (last, format_seen)
    });
    let Some((answer, targets)) = r else { return };
    let v: serde_json::Value = serde_json::from_str(&answer)
        .unwrap_or_else(|e| panic!("Prometheus never answered the query ({e}): {answer}"));
    let value = v["data"]["result"][0]["value"][1].as_str();
    assert_eq!(value, Some("3"), "{answer}\n{targets}");
    assert!(targets.contains("\"health\":\"up\""), "{targets}");
}

#[test]
fn node_exporter_textfile_collector_serves_what_metrics_wrote() {
    let exporter = if have("prometheus-node-exporter") {
        "prometheus-node-exporter"
    } else if have("node_exporter") {
        "node_exporter"
    } else {
        return skip("needs node_exporter (Debian package prometheus-node-exporter)");
    };
    let dir = TempDir::new("textfile");
    let run = rnetstat(&["--metrics", "-t", "-p"]);
    assert_eq!(run.code(), Some(0), "{}", run.explain());
    // Written aside and renamed, as the README's cron line does, so no scrape sees half a file.
    let tmp = dir.0.join("rnetstat.prom.tmp");
    std::fs::write(&tmp, run.stdout()).expect("write");
    std::fs::rename(&tmp, dir.0.join("rnetstat.prom")).expect("rename");
    let port = free_port();
    let _ne = Killed(
        Command::new(exporter)
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--collector.disable-defaults")
            .arg("--collector.textfile")
            .arg(format!(
                "--collector.textfile.directory={}",
                Path::new(&dir.0).display()
            ))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn node_exporter"),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let body = loop {
        assert!(Instant::now() < deadline, "node_exporter never answered");
        std::thread::sleep(Duration::from_millis(200));
        if TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
            continue;
        }
        let (status, _, body) = get(port, "/metrics", None);
        if status == 200 {
            break body;
        }
    };
    assert_eq!(
        sample(&body, "node_textfile_scrape_error"),
        Some(0.0),
        "{body}"
    );
    assert!(
        body.contains("rnetstat_sockets{proto=\"tcp\",state=\"LISTEN\"}"),
        "node_exporter served:\n{body}\n--- the file ---\n{}",
        run.stdout()
    );
    assert!(
        body.contains("rnetstat_tcp_listen_overflows_total"),
        "{body}"
    );
}

/// A program name chosen to break an exposition format: quote, backslash, newline, an escape
/// byte and invalid UTF-8.
#[test]
fn hostile_program_names_stay_inside_their_label() {
    if !have("python3") || !have("promtool") {
        return skip("needs python3 and promtool");
    }
    let script = "import ctypes, socket, sys\n\
                  ctypes.CDLL(None).prctl(15, b'a\"b\\\\c\\nd\\x1b\\xff', 0, 0, 0)\n\
                  s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(3)\n\
                  print(s.getsockname()[1], flush=True)\n\
                  sys.stdin.read()\n";
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn python3");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read port");
    let child = Killed(child);
    let port: u16 = line.trim().parse().expect("a port");
    let run = rnetstat(&["--metrics", "-tp", &format!("sport = :{port}")]);
    drop(child);
    assert_eq!(run.code(), Some(0), "{}", run.explain());
    let text = run.stdout();
    promtool_check(&text);
    let line = text
        .lines()
        .find(|l| {
            l.starts_with("rnetstat_listen_queue{") && l.contains(&format!("port=\"{port}\""))
        })
        .unwrap_or_else(|| panic!("no series for the listener\n{text}"));
    // The table's escaping (\" stays a quote, \n and \x1b become visible), then the format's.
    assert!(
        line.contains(r#"program="a\"b\\\\c\\nd\\x1b\\xff""#),
        "{line}"
    );
}

/// `rnetstat_program_sockets` counts only sockets whose owner rnetstat can see: a TIME_WAIT
/// socket (no process holds it) is in `rnetstat_sockets` but in no program's count, and as an
/// ordinary user a root process's listener is counted in `rnetstat_sockets` but not as a
/// program's.
#[test]
fn program_sockets_count_only_sockets_with_a_visible_owner() {
    if !have("setpriv") {
        return skip("needs setpriv (util-linux)");
    }
    // The build tree may be closed to other users: nobody runs a copy.
    let bin = SharedBin::new("metrics-nobody");
    let bin_for_nobody = bin.path.clone();
    let r = in_new_netns(move || {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let client = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connect");
        let (mut server_end, _) = listener.accept().expect("accept");
        // The client closes first, so its end goes to TIME_WAIT; the server end then reads EOF
        // and closes too.
        drop(client);
        let _ = server_end.read(&mut [0u8; 1]);
        drop(server_end);
        let as_root = rnetstat(&["--metrics", "-tp"]);
        let as_nobody = common::as_nobody(&bin_for_nobody, "", &["--metrics", "-tp"])
            .output()
            .expect("run setpriv");
        drop(listener);
        (as_root, as_nobody)
    });
    let Some((as_root, as_nobody)) = r else {
        return;
    };
    assert_eq!(as_root.code(), Some(0), "{}", as_root.explain());
    let text = as_root.stdout();
    let sockets = |text: &str, state: &str| {
        sample(
            text,
            &format!("rnetstat_sockets{{proto=\"tcp\",state=\"{state}\"}}"),
        )
    };
    let program_total = |text: &str, state: &str| -> f64 {
        text.lines()
            .filter(|l| {
                l.starts_with("rnetstat_program_sockets{")
                    && l.contains(&format!("proto=\"tcp\",state=\"{state}\""))
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    assert_eq!(sockets(&text, "TIME_WAIT"), Some(1.0), "{text}");
    assert_eq!(program_total(&text, "TIME_WAIT"), 0.0, "no owner: {text}");
    assert_eq!(sockets(&text, "LISTEN"), Some(1.0), "{text}");
    assert_eq!(
        program_total(&text, "LISTEN"),
        1.0,
        "root sees the test: {text}"
    );

    assert!(as_nobody.status.success(), "{as_nobody:?}");
    let text = String::from_utf8_lossy(&as_nobody.stdout).into_owned();
    assert_eq!(sockets(&text, "LISTEN"), Some(1.0), "{text}");
    assert_eq!(
        program_total(&text, "LISTEN"),
        0.0,
        "nobody cannot see root's descriptors: {text}"
    );
}
