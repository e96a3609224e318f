//! Output for scripts, through the real binary: `-H` (rows only), `--json-lines` (one object per
//! socket per line, also with `-c` and `--watch`), and `--version` naming the commit it was built
//! from.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixListener;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{rnetstat, Reaped, TempDir, BIN};
use serde_json::Value;

fn port_filter(port: u16) -> Vec<String> {
    format!("( sport = :{port} or dport = :{port} )")
        .split(' ')
        .map(String::from)
        .collect()
}

fn args<'a>(head: &[&'a str], tail: &'a [String]) -> Vec<&'a str> {
    head.iter()
        .copied()
        .chain(tail.iter().map(String::as_str))
        .collect()
}

/// -H works on netstat's other tables too: -r, -i and -g print their rows without titles and
/// column headers, and the rows are those printed under the headers.
#[test]
fn no_header_drops_the_titles_of_routes_interfaces_and_groups() {
    for (table, header_lines) in [("-rn", 2), ("-i", 2), ("-g", 3)] {
        let with = rnetstat(&[table]);
        let without = rnetstat(&[table, "-H"]);
        assert_eq!(with.code(), Some(0), "{}", with.explain());
        assert_eq!(without.code(), Some(0), "{}", without.explain());
        let with_out = with.stdout();
        // The first column only: interface counters move between the two runs.
        let first = |l: &str| l.split_whitespace().next().unwrap_or("").to_string();
        let rows: Vec<String> = with_out
            .split("\n\n")
            .flat_map(|block| block.lines().skip(header_lines))
            .map(first)
            .collect();
        let without_out = without.stdout();
        let got: Vec<String> = without_out
            .lines()
            .filter(|l| !l.is_empty())
            .map(first)
            .collect();
        assert!(!got.is_empty(), "{table}: rows: {}", without.explain());
        assert_eq!(got, rows, "{table}: {}", without.explain());
        for title in [
            "Kernel",
            "Destination",
            "Iface",
            "Interface",
            "IPv6/IPv4",
            "---",
        ] {
            assert!(
                !without_out.contains(title),
                "{table}: {title}: {without_out}"
            );
        }
    }
}

#[test]
fn no_header_prints_the_same_rows_without_headers_or_titles() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let client = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let (_server, _) = listener.accept().expect("accept");
    let filter = port_filter(port);

    let with = rnetstat(&args(&["-tan"], &filter));
    let without = rnetstat(&args(&["-tan", "-H"], &filter));
    let long = rnetstat(&args(&["-tan", "--no-header"], &filter));
    for r in [&with, &without, &long] {
        assert_eq!(r.code(), Some(0), "{}", r.explain());
    }
    let stdout = with.stdout();
    let mut lines = stdout.lines();
    assert!(
        lines
            .next()
            .is_some_and(|l| l.starts_with("Active Internet")),
        "{}",
        with.explain()
    );
    assert!(
        lines.next().is_some_and(|l| l.starts_with("Proto")),
        "{}",
        with.explain()
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(
        rows.len(),
        3,
        "listener, client, server: {}",
        with.explain()
    );
    assert_eq!(without.stdout().lines().collect::<Vec<_>>(), rows);
    assert_eq!(long.stdout(), without.stdout());
    drop(client);

    // Both sections, and with -p the owner column: still rows only.
    let dir = TempDir::new("no-header");
    let path = dir.0.join("sock");
    let _unix = UnixListener::bind(&path).expect("bind unix");
    let both = rnetstat(&["-alpH", "-t", "-x"]);
    assert_eq!(both.code(), Some(0), "{}", both.explain());
    let out = both.stdout();
    assert!(
        out.lines()
            .all(|l| l.starts_with("tcp") || l.starts_with("unix")),
        "{}",
        both.explain()
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("unix") && l.ends_with(&*path.to_string_lossy())),
        "{}",
        both.explain()
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("tcp") && l.contains(&format!(":{port} "))),
        "{}",
        both.explain()
    );
}

fn json_lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("not a JSON object per line ({e}): {l:?}"));
            assert!(v.is_object(), "{l}");
            v
        })
        .collect()
}

#[test]
fn json_lines_gives_the_json_objects_one_per_line() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let _client = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let (_server, _) = listener.accept().expect("accept");
    let filter = port_filter(port);

    let array = rnetstat(&args(&["-tanpe", "--json"], &filter)).json();
    let lines = rnetstat(&args(&["-tanpe", "--json-lines"], &filter));
    assert_eq!(lines.code(), Some(0), "{}", lines.explain());
    assert!(lines.out.stdout.ends_with(b"}\n"), "{}", lines.explain());
    let objects = json_lines(&lines.out.stdout);
    assert_eq!(objects.len(), 3, "{}", lines.explain());
    // The same objects (sockets sort the same way in both runs: by inode here). Owners other
    // than this process are left out of the comparison: a test running alongside that forks
    // holds our descriptors between its fork and its exec, in one run and not the other.
    let me = u64::from(std::process::id());
    let by_inode = |v: &[Value]| {
        let mut v = v.to_vec();
        for s in &mut v {
            if let Some(ps) = s["processes"].as_array_mut() {
                ps.retain(|p| p["pid"].as_u64() == Some(me));
            }
        }
        v.sort_by_key(|s| s["inode"].as_u64());
        v
    };
    assert_eq!(by_inode(&objects), by_inode(&array));

    // Nothing to list: no output at all (not `[]`), still success.
    let empty = rnetstat(&[
        "-t",
        "--json-lines",
        "sport",
        "=",
        ":1",
        "and",
        "dport",
        "=",
        ":1",
    ]);
    assert_eq!(empty.code(), Some(0), "{}", empty.explain());
    assert!(empty.out.stdout.is_empty(), "{}", empty.explain());

    // --json and --json-lines are one choice.
    let both = rnetstat(&["--json", "--json-lines"]);
    assert_eq!(both.code(), Some(2), "{}", both.explain());
}

/// Lines of a running child's stdout, as they arrive.
fn line_reader(child: &mut std::process::Child) -> mpsc::Receiver<String> {
    let out = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn next_line(rx: &mpsc::Receiver<String>, deadline: Instant) -> String {
    let left = deadline.saturating_duration_since(Instant::now());
    rx.recv_timeout(left)
        .unwrap_or_else(|e| panic!("no line in time: {e}"))
}

#[test]
fn json_lines_streams_every_continuous_listing_and_every_watch_event() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let filter = port_filter(port);
    let deadline = Instant::now() + Duration::from_secs(20);

    // -c: the listener in each listing, one line each time.
    let mut child = Reaped(
        Command::new(BIN)
            .args(args(&["-tan", "-c", "0.1", "--json-lines"], &filter))
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn"),
    );
    let rx = line_reader(&mut child.0);
    let mut inodes = BTreeSet::new();
    for _ in 0..3 {
        let line = next_line(&rx, deadline);
        let v: Value = serde_json::from_str(&line).expect("an object per line");
        assert_eq!(v["state"], "LISTEN", "{line}");
        assert_eq!(v["local"]["port"], port, "{line}");
        inodes.insert(v["inode"].as_u64());
    }
    assert_eq!(inodes.len(), 1, "the same listener each time");
    drop(child);

    // --watch: one object per event, the socket inside.
    let mut child = Reaped(
        Command::new(BIN)
            .args(args(&["-tan", "--watch", "0.1", "--json-lines"], &filter))
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn"),
    );
    let rx = line_reader(&mut child.0);
    let line = next_line(&rx, deadline);
    let v: Value = serde_json::from_str(&line).expect("an object per line");
    assert_eq!(v["event"], "exists", "{line}");
    assert_eq!(v["socket"]["local"]["port"], port, "{line}");
    let client = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let client_port = client.local_addr().expect("addr").port();
    loop {
        let line = next_line(&rx, deadline);
        let v: Value = serde_json::from_str(&line).expect("an object per line");
        if v["event"] == "new" && v["socket"]["local"]["port"] == client_port {
            break;
        }
    }
}

#[test]
fn version_names_the_commit_of_a_checkout() {
    let run = rnetstat(&["--version"]);
    assert_eq!(run.code(), Some(0), "{}", run.explain());
    let line = run.stdout();
    let want_plain = format!("rnetstat {}\n", env!("CARGO_PKG_VERSION"));
    let root = env!("CARGO_MANIFEST_DIR");
    let commit = std::path::Path::new(root)
        .join(".git")
        .exists()
        .then(|| {
            Command::new("git")
                .args(["-C", root, "rev-parse", "--short", "HEAD"])
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        })
        .flatten();
    match commit {
        Some(c) => assert_eq!(
            line,
            format!("rnetstat {} (git {c})\n", env!("CARGO_PKG_VERSION")),
            "{}",
            run.explain()
        ),
        None => {
            // No checkout, no git, or git refusing this user the repository ("dubious
            // ownership"): the build may still have named a commit, when it ran as someone else.
            eprintln!("git cannot say the commit here: expecting the plain version or any commit");
            let commit_form = line
                .strip_prefix(want_plain.trim_end())
                .and_then(|rest| rest.strip_prefix(" (git "))
                .and_then(|rest| rest.strip_suffix(")\n"))
                .is_some_and(|c| c.len() >= 7 && c.bytes().all(|b| b.is_ascii_hexdigit()));
            assert!(line == want_plain || commit_form, "{}", run.explain());
        }
    }
    // -V says the same.
    assert_eq!(rnetstat(&["-V"]).stdout(), line);
}

/// The README's `jq -r` one-liners, run as written against a listener whose process name is a
/// terminal escape sequence: no control byte may reach the output.
#[test]
fn readme_jq_examples_print_no_control_bytes_for_hostile_names() {
    let have_jq = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("jq").is_file()));
    if !have_jq {
        eprintln!("skipping: jq is not installed");
        return;
    }
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let examples: Vec<&str> = readme
        .lines()
        .filter(|l| l.starts_with("rnetstat ") && l.contains("| jq -r"))
        .collect();
    assert!(!examples.is_empty(), "no jq -r example in the README");

    let hostile = b"\x1b]0;pwn\x07\x1b[2J";
    let child = common::fork_listener(&common::ChildSpec {
        comm: Some(hostile.to_vec()),
        ..common::ChildSpec::default()
    });
    let bin_dir = std::path::Path::new(BIN).parent().expect("bin dir");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for example in examples {
        let out = Command::new("sh")
            .args(["-c", example])
            .env("PATH", &path)
            .output()
            .expect("run sh");
        assert!(out.status.success(), "{example}: {out:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains(&format!("{} ", child.port)),
            "{example}: the hostile listener is not in {text:?}"
        );
        let bad: Vec<u8> = out
            .stdout
            .iter()
            .copied()
            .filter(|b| (*b < 0x20 && *b != b'\n') || *b == 0x7f)
            .collect();
        assert!(
            bad.is_empty(),
            "{example} printed control bytes {bad:?}: {text:?}"
        );
    }
}
