//! Differential test: for hundreds of random filter expressions drawn from ss's whole grammar,
//! `ss -Htan EXPR` and `rnetstat -tan EXPR` must list the same sockets of one live population.
//!
//! The population lives on loopback: listeners on 127.0.0.1, 127.0.0.2, 0.0.0.0, [::1] and a
//! dual-stack [::] (so v4-mapped addresses appear), clients from 127.3.4.5, 127.0.0.9 and ::1,
//! and connections in ESTABLISHED, CLOSE-WAIT, FIN-WAIT-2 and TIME-WAIT. As root it is built
//! in a network namespace of its own (no other socket can interfere), with a listener bound to
//! an explicit port and to `lo` and a client with a mark; otherwise in the host namespace, each
//! expression then ANDed with a guard naming the population's ports.
//!
//! The seed is printed; `FILTER_VS_SS_SEED=N` replays a run, `FILTER_VS_SS_COUNT=N` sets how
//! many expressions are tried. Skips with a message where ss is absent.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{have_tool, is_root, BIN};
use socket2::{Domain, Socket, Type};

/// splitmix64: small, seedable, good enough to pick grammar productions.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// Sockets held open for the comparison, and the ports worth naming in filters.
struct Population {
    _held: Vec<Box<dyn std::any::Any>>,
    ports: Vec<u16>,
    /// The cgroup2 mount's root, named by its file system path (every test socket is there or
    /// below), when there is a cgroup2 mount.
    cgroup: Option<String>,
    /// `fwmark`, `dev lo` and an explicitly bound port are in the population.
    privileged: bool,
}

fn listener(addr: &str, v6only: Option<bool>) -> TcpListener {
    let a: SocketAddr = addr.parse().expect("address");
    let s = Socket::new(Domain::for_address(a), Type::STREAM, None).expect("socket");
    if let Some(only) = v6only {
        s.set_only_v6(only).expect("IPV6_V6ONLY");
    }
    s.bind(&a.into()).expect("bind");
    s.listen(16).expect("listen");
    s.into()
}

fn connect_from(from: &str, to: SocketAddr, mark: Option<u32>) -> TcpStream {
    let f: SocketAddr = from.parse().expect("address");
    let s = Socket::new(Domain::for_address(f), Type::STREAM, None).expect("socket");
    if let Some(m) = mark {
        s.set_mark(m).expect("SO_MARK");
    }
    s.bind(&f.into()).expect("bind client");
    s.connect(&to.into()).expect("connect");
    s.into()
}

fn port(l: &TcpListener) -> u16 {
    l.local_addr().expect("local address").port()
}

fn build(privileged: bool) -> Population {
    let mut held: Vec<Box<dyn std::any::Any>> = Vec::new();
    let mut ports = Vec::new();
    let l1 = listener("127.0.0.1:0", None);
    let l2 = listener("127.0.0.2:0", None);
    let l3 = listener("[::1]:0", Some(true));
    let l4 = listener("[::]:0", Some(false));
    let l5 = listener("0.0.0.0:0", None);
    let a1: SocketAddr = format!("127.0.0.1:{}", port(&l1)).parse().expect("a");
    let a2: SocketAddr = format!("127.0.0.2:{}", port(&l2)).parse().expect("a");
    let a3: SocketAddr = format!("[::1]:{}", port(&l3)).parse().expect("a");
    let a4v4: SocketAddr = format!("127.0.0.1:{}", port(&l4)).parse().expect("a");
    let a4v6: SocketAddr = format!("[::1]:{}", port(&l4)).parse().expect("a");
    let a5: SocketAddr = format!("127.0.0.1:{}", port(&l5)).parse().expect("a");
    for l in [&l1, &l2, &l3, &l4, &l5] {
        ports.push(port(l));
    }
    let mut pairs: Vec<(TcpStream, TcpStream)> = Vec::new();
    let conn = |from: &str, to: SocketAddr, l: &TcpListener, mark: Option<u32>| {
        let c = connect_from(from, to, mark);
        let (s, _) = l.accept().expect("accept");
        (c, s)
    };
    pairs.push(conn("127.0.0.1:0", a1, &l1, None));
    pairs.push(conn("127.3.4.5:0", a2, &l2, None));
    pairs.push(conn("[::1]:0", a3, &l3, None));
    pairs.push(conn("127.0.0.1:0", a4v4, &l4, None));
    pairs.push(conn("[::1]:0", a4v6, &l4, None));
    pairs.push(conn("127.0.0.9:0", a5, &l5, privileged.then_some(0x5)));
    // CLOSE-WAIT on the server side, FIN-WAIT-2 on the client side.
    let (cw_c, cw_s) = conn("127.0.0.1:0", a1, &l1, None);
    cw_c.shutdown(Shutdown::Write).expect("shutdown");
    // TIME-WAIT on the client, which closes first.
    let (tw_c, mut tw_s) = conn("[::1]:0", a3, &l3, None);
    ports.push(tw_c.local_addr().expect("local").port());
    drop(tw_c);
    let mut buf = [0u8; 1];
    tw_s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let _ = tw_s.read(&mut buf); // the FIN
    drop(tw_s);
    // An IPv4 TIME-WAIT too.
    let (tw4_c, mut tw4_s) = conn("127.3.4.5:0", a2, &l2, None);
    ports.push(tw4_c.local_addr().expect("local").port());
    drop(tw4_c);
    tw4_s
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let _ = tw4_s.read(&mut buf);
    drop(tw4_s);
    // A connection left in the accept queue (established, never accepted).
    let queued = connect_from("127.0.0.2:0", a1, None);
    for (c, _) in &pairs {
        ports.push(c.local_addr().expect("local").port());
    }
    ports.push(cw_c.local_addr().expect("local").port());
    if privileged {
        // A listener on an explicitly chosen port (not autobound) and bound to lo.
        let probe = listener("127.0.0.1:0", None);
        let p = port(&probe);
        drop(probe);
        let s = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
        s.bind_device(Some(b"lo")).expect("SO_BINDTODEVICE");
        let a: SocketAddr = format!("127.0.0.1:{p}").parse().expect("a");
        s.bind(&a.into()).expect("bind explicit port");
        s.listen(4).expect("listen");
        ports.push(p);
        held.push(Box::new(s));
    }
    let mut out = cw_s;
    let _ = out.write(b"x");
    held.push(Box::new(out));
    held.push(Box::new(cw_c));
    held.push(Box::new(queued));
    for l in [l1, l2, l3, l4, l5] {
        held.push(Box::new(l));
    }
    for p in pairs {
        held.push(Box::new(p));
    }
    ports.sort_unstable();
    ports.dedup();
    let cgroup = std::fs::read_to_string("/proc/self/mountinfo")
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                let (left, right) = l.split_once(" - ")?;
                (right.split_whitespace().next()? == "cgroup2")
                    .then(|| left.split_whitespace().nth(4).map(str::to_string))?
            })
        });
    Population {
        _held: held,
        ports,
        cgroup,
        privileged,
    }
}

/// One random expression from ss's grammar, over the population's addresses and ports.
fn expression(r: &mut Rng, pop: &Population) -> String {
    let mut words: Vec<String> = Vec::new();
    if r.chance(20) {
        let kw = if r.chance(60) { "state" } else { "exclude" };
        let st = r.pick(&[
            "established",
            "listening",
            "time-wait",
            "close-wait",
            "fin-wait-2",
            "connected",
            "synchronized",
            "bucket",
            "big",
        ]);
        words.push(format!("{kw} {st}"));
    }
    if !r.chance(8) || words.is_empty() {
        words.push(list(r, pop, 0));
    }
    words.join(" ")
}

fn list(r: &mut Rng, pop: &Population, depth: usize) -> String {
    let n = 1 + r.below(if depth == 0 { 4 } else { 3 });
    let mut s = term(r, pop, depth);
    for _ in 1..n {
        let op = *r.pick(&["and", "or", "&&", "||", "&", "|", "", "or", "and"]);
        if !op.is_empty() {
            s.push(' ');
            s.push_str(op);
        }
        s.push(' ');
        s.push_str(&term(r, pop, depth));
    }
    s
}

fn term(r: &mut Rng, pop: &Population, depth: usize) -> String {
    let mut s = String::new();
    if r.chance(20) {
        let not = if r.chance(50) { "not " } else { "! " };
        s.push_str(not);
    }
    if depth < 2 && r.chance(15) {
        s.push_str(&format!("( {} )", list(r, pop, depth + 1)));
    } else {
        s.push_str(&cond(r, pop));
    }
    s
}

fn a_port(r: &mut Rng, pop: &Population) -> u16 {
    let p = *r.pick(&pop.ports);
    match r.below(8) {
        0 => p.wrapping_add(1),
        1 => p.wrapping_sub(1),
        2 => r.pick(&[0u16, 1, 1024, 32768, 65535]).to_owned(),
        _ => p,
    }
}

fn cond(r: &mut Rng, pop: &Population) -> String {
    match r.below(if pop.privileged { 12 } else { 10 }) {
        0..=3 => {
            let kw = r.pick(&["sport", "dport"]);
            let op = r.pick(&[
                "=", "==", "eq", "!=", "ne", ">", "<", ">=", "<=", "gt", "lt", "ge", "le", "",
            ]);
            let p = a_port(r, pop);
            let operand = match r.below(10) {
                0 => format!("{p}"),
                1 => ":*".to_string(),
                2 => format!("0x{p:x}"),
                _ => format!(":{p}"),
            };
            format!("{kw} {op} {operand}").replace("  ", " ")
        }
        4..=7 => {
            let kw = r.pick(&["src", "dst"]);
            let eq = r.pick(&["", "=", "==", "eq", ""]);
            let p = a_port(r, pop);
            let host = match r.below(30) {
                0 => "127.0.0.1".into(),
                1 => "127.0.0.2".into(),
                2 => "127.3.4.5".into(),
                3 => "127.0.0.0/8".into(),
                4 => "127.0.0.0/24".into(),
                5 => "127.3.0.0/255.255.0.0".into(),
                6 => "[::1]".into(),
                7 => "[::1/128]".into(),
                8 => "::1/128".into(),
                9 => "::/0".into(),
                10 => "0.0.0.0/0".into(),
                11 => "0.0.0.0".into(),
                12 => "[::]".into(),
                13 => "[::ffff:127.0.0.1]".into(),
                14 => "::ffff:127.0.0.0/104".into(),
                15 => "::ffff:0.0.0.0/96".into(),
                16 => "*".into(),
                17 => format!("*:{p}"),
                18 => format!(":{p}"),
                19 => format!("127.0.0.1:{p}"),
                20 => format!("[::1]:{p}"),
                21 => format!("127.0.0.0/8:{p}"),
                22 => format!("[::ffff:127.0.0.1]:{p}"),
                23 => "10.0.0.0/8".into(),
                24 => "any".into(),
                25 => "default".into(),
                26 => "0.0.0.0/8".into(),
                27 => "::/8".into(),
                28 => "127.1".into(),
                _ => format!("[::]:{p}"),
            };
            format!("{kw} {eq} {host}").replace("  ", " ")
        }
        8 => {
            if r.chance(50) {
                "autobound".into()
            } else {
                match &pop.cgroup {
                    Some(c) => {
                        format!("cgroup {} {c}", r.pick(&["", "=", "!="])).replace("  ", " ")
                    }
                    None => "autobound".into(),
                }
            }
        }
        9 => format!(
            "dev {} {}",
            r.pick(&["", "=", "!="]),
            r.pick(&["lo", "1", "2"])
        )
        .replace("  ", " "),
        _ => format!(
            "fwmark {} {}",
            r.pick(&["", "=", "!="]),
            r.pick(&["0x5", "5", "0x4/0x4", "0x1/0xf0", "0", "0/0"])
        )
        .replace("  ", " "),
    }
}

/// The (local, peer) endpoints of each listed socket, counted.
type Listed = BTreeMap<(SocketAddr, SocketAddr), usize>;

fn endpoint(text: &str) -> Option<SocketAddr> {
    let (addr, port) = text.rsplit_once(':')?;
    let addr = addr.split('%').next()?;
    let addr = addr.trim_start_matches('[').trim_end_matches(']');
    let ip: IpAddr = if addr == "*" {
        "::".parse().ok()?
    } else {
        addr.parse().ok()?
    };
    let port = if port == "*" { 0 } else { port.parse().ok()? };
    Some(SocketAddr::new(ip, port))
}

/// Lines whose last two fields are endpoints (ss -H drops the State column with `state X`, so
/// both outputs are read from the end of the line).
fn listed(out: &str) -> Result<Listed, String> {
    let mut m = Listed::new();
    for line in out.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 4 || f[0] == "Proto" || f[0] == "Active" {
            continue;
        }
        // rnetstat: proto recv send local foreign [state]; ss: [state] recv send local peer.
        let (l, p) = if f[0].starts_with("tcp") {
            (f[3], f[4])
        } else {
            (f[f.len() - 2], f[f.len() - 1])
        };
        match (endpoint(l), endpoint(p)) {
            (Some(l), Some(p)) => *m.entry((l, p)).or_default() += 1,
            _ => return Err(format!("cannot read endpoints from {line:?}")),
        }
    }
    Ok(m)
}

fn run_one(filter: &str) -> (bool, String, bool, String, String) {
    let words: Vec<&str> = filter.split(' ').filter(|w| !w.is_empty()).collect();
    let ss = Command::new("ss")
        .arg("-Htan")
        .args(&words)
        .output()
        .expect("ss runs");
    let ours = Command::new(BIN)
        .arg("-tan")
        .args(&words)
        .output()
        .expect("rnetstat runs");
    (
        ss.status.success() && ss.stderr.is_empty(),
        String::from_utf8_lossy(&ss.stdout).into_owned() + &String::from_utf8_lossy(&ss.stderr),
        ours.status.success(),
        String::from_utf8_lossy(&ours.stdout).into_owned(),
        String::from_utf8_lossy(&ours.stderr).into_owned(),
    )
}

fn compare(seed: u64) {
    // As root, a network namespace of this thread's own (children inherit it).
    // SAFETY: unshare has no memory-safety preconditions; it changes only this thread.
    let isolated = is_root()
        && unsafe { libc::unshare(libc::CLONE_NEWNET) } == 0
        && Command::new("ip")
            .args(["link", "set", "lo", "up"])
            .status()
            .is_ok_and(|s| s.success());
    if !isolated {
        eprintln!(
            "note: not root (or no ip/unshare): comparing in the host namespace, each \
             expression restricted to the population's ports"
        );
    }
    let pop = build(isolated);
    std::thread::sleep(Duration::from_millis(100));
    let guard = (!isolated).then(|| {
        let ports: Vec<String> = pop
            .ports
            .iter()
            .flat_map(|p| [format!("sport = :{p}"), format!("dport = :{p}")])
            .collect();
        format!("( {} )", ports.join(" or "))
    });
    let count: usize = std::env::var("FILTER_VS_SS_COUNT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let mut r = Rng(seed);
    let started = Instant::now();
    let mut agreed_nonempty = 0usize;
    let mut rejected = 0usize;
    for i in 0..count {
        let mut e = expression(&mut r, &pop);
        if let Some(g) = &guard {
            // Keep `state` words first, as the grammar wants.
            e = match e.split_once(" ") {
                Some((kw, rest)) if kw == "state" || kw == "exclude" => {
                    let (st, expr) = rest.split_once(' ').unwrap_or((rest, ""));
                    if expr.is_empty() {
                        format!("{kw} {st} {g}")
                    } else {
                        format!("{kw} {st} ( {expr} ) and {g}")
                    }
                }
                _ => format!("( {e} ) and {g}"),
            };
        }
        let (ss_ok, ss_out, our_ok, our_out, our_err) = run_one(&e);
        let context = || {
            format!(
                "seed {seed} (FILTER_VS_SS_SEED={seed}), expression #{i}: {e}\n--- ss -Htan ---\n\
                 {ss_out}\n--- rnetstat -tan ---\n{our_out}\n--- rnetstat stderr ---\n{our_err}"
            )
        };
        if !ss_ok {
            rejected += 1;
            assert!(!our_ok, "ss rejects it, rnetstat accepts it\n{}", context());
            continue;
        }
        assert!(our_ok, "ss accepts it, rnetstat rejects it\n{}", context());
        let (want, got) = match (listed(&ss_out), listed(&our_out)) {
            (Ok(w), Ok(g)) => (w, g),
            (Err(e), _) | (_, Err(e)) => panic!("{e}\n{}", context()),
        };
        if !want.is_empty() {
            agreed_nonempty += 1;
        }
        assert_eq!(
            got,
            want,
            "different sockets (left: rnetstat, right: ss)\n{}",
            context()
        );
    }
    // What ss refuses, rnetstat refuses too.
    for bad in [
        "sport = :1 or",
        "( sport = :1",
        "sport = :1 )",
        "src",
        "dport > 127.0.0.1",
        "sport = :no-such-service-here",
        "src 127.0.0.1/33",
        "dst [::1]x",
        "state bogus",
        "fwmark = x",
        "dev",
        "bogus",
        "src 10.0.0.1 and",
        "not",
    ] {
        let (ss_ok, ss_out, our_ok, our_out, our_err) = run_one(bad);
        if ss_ok {
            eprintln!("note: this ss accepts {bad:?}; not compared");
            continue;
        }
        rejected += 1;
        assert!(
            !our_ok,
            "ss rejects {bad:?} ({ss_out}), rnetstat accepts it:\n{our_out}{our_err}"
        );
    }
    eprintln!(
        "filter_vs_ss: seed {seed}: {count} expressions agree ({agreed_nonempty} selected \
         something, {rejected} rejected by both) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn random_expressions_select_what_ss_selects() {
    if !have_tool("ss") {
        eprintln!("skipping: ss (iproute2) is not installed");
        return;
    }
    let seed = std::env::var("FILTER_VS_SS_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    eprintln!("filter_vs_ss: seed {seed}");
    // A thread of its own, so the namespace it enters ends with it.
    let t = std::thread::spawn(move || compare(seed));
    if let Err(p) = t.join() {
        std::panic::resume_unwind(p);
    }
}

/// The grouping notice reaches stderr from the binary, once, and only when and/or are mixed
/// without parentheses.
#[test]
fn mixing_and_with_or_prints_one_notice() {
    let run = |args: &[&str]| {
        Command::new(BIN)
            .arg("-tan")
            .args(args)
            .output()
            .expect("rnetstat runs")
    };
    let out = run(&["sport = :1 or dport = :2 and src 127.0.0.1"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("reads as (sport = :1 or dport = :2) and src 127.0.0.1"),
        "{err}"
    );
    for quiet in [
        "sport = :1 or ( dport = :2 and src 127.0.0.1 )",
        "sport = :1 or dport = :2 or src 127.0.0.1",
    ] {
        let out = run(&[quiet]);
        assert!(
            out.stderr.is_empty(),
            "{quiet}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
