//! `-N`: sockets in network namespaces the tests make (`ip netns add`, `unshare -n`), held by
//! processes inside them, listed by the real binary with their namespace, owner and container.
//! Container cgroups are real directories under a writable cgroup v2 mount, named as Docker and
//! Kubernetes name them, with the holder moved in through cgroup.procs. Every namespace, cgroup
//! and process made here is removed. Needs root, `ip`, `unshare` and python3; skips otherwise.

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use serde_json::Value;

fn skip(why: &str) -> bool {
    eprintln!("skipping: {why}");
    true
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn cannot_run() -> bool {
    !is_root() && skip("needs root (ip netns add, setns)")
        || !have("ip") && skip("needs ip (iproute2)")
        || !have("python3") && skip("needs python3")
}

/// Binds a listener on 127.0.0.1:0, connects to it, accepts, prints `pid listener-port
/// client-port`, and holds all three until its stdin closes.
const HOLD: &str = "import socket, sys, os\n\
l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(8)\n\
c = socket.create_connection(l.getsockname()); a, _ = l.accept()\n\
print(os.getpid(), l.getsockname()[1], c.getsockname()[1], flush=True)\n\
sys.stdin.read()\n";

/// HOLD for both families: a listener on 127.0.0.1 and one on ::1, each with a connection;
/// prints `pid v4-listener-port v6-listener-port`.
const HOLD_BOTH: &str = "import socket, sys, os\n\
held = []\n\
for fam, host in ((socket.AF_INET, '127.0.0.1'), (socket.AF_INET6, '::1')): \
l = socket.socket(fam); l.bind((host, 0)); l.listen(8); \
c = socket.create_connection(l.getsockname()[:2]); a, _ = l.accept(); held += [l, c, a]\n\
print(os.getpid(), held[0].getsockname()[1], held[3].getsockname()[1], flush=True)\n\
sys.stdin.read()\n";

/// A process holding sockets somewhere, killed and reaped on drop.
struct Holder {
    child: Child,
    pid: u32,
    listen_port: u16,
    /// The third number the script printed (HOLD: the client's port; HOLD_BOTH: the IPv6
    /// listener's).
    other_port: u16,
}

impl Holder {
    /// Runs `prefix… python3 -c HOLD` and reads what it prints.
    fn spawn(prefix: &[&str]) -> Holder {
        Holder::spawn_script(prefix, HOLD)
    }

    /// Runs `prefix… python3 -c script` and reads the three numbers it prints.
    fn spawn_script(prefix: &[&str], script: &str) -> Holder {
        let mut cmd = Command::new(prefix[0]);
        cmd.args(&prefix[1..])
            .args(["python3", "-c", script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn holder");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        BufReader::new(stdout).read_line(&mut line).expect("read");
        let f: Vec<u32> = line
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        assert_eq!(f.len(), 3, "holder said {line:?}");
        Holder {
            child,
            pid: f[0],
            listen_port: f[1] as u16,
            other_port: f[2] as u16,
        }
    }

    fn in_named(ns: &NamedNs) -> Holder {
        Holder::spawn(&["ip", "netns", "exec", &ns.name])
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        end_exec_child(self.pid, &mut self.child);
    }
}

fn listed(args: &[&str]) -> (Run, Vec<Value>) {
    let r = rnetstat(args);
    let v = r.json();
    (r, v)
}

fn netns_of(s: &Value) -> (u64, Option<String>) {
    (
        s["netns"]["inode"].as_u64().expect("netns.inode"),
        s["netns"]["name"].as_str().map(str::to_string),
    )
}

fn listener(list: &[Value], port: u16) -> &Value {
    list.iter()
        .find(|s| s["state"] == "LISTEN" && s["local"]["port"].as_u64() == Some(port.into()))
        .unwrap_or_else(|| panic!("no listener on {port} in {list:#?}"))
}

#[test]
fn a_named_namespace_lists_its_sockets_with_namespace_and_owner() {
    if cannot_run() {
        return;
    }
    let ns = NamedNs::new("named");
    let h = Holder::in_named(&ns);
    for selector in [ns.name.as_str(), "all"] {
        let args = ["-N", selector, "-tanp", "--json"];
        let (r, list) = listed(&args);
        let l = listener(&list, h.listen_port);
        assert_eq!(
            netns_of(l),
            (ns.inode(), Some(ns.name.clone())),
            "{}",
            r.explain()
        );
        assert_eq!(owner_pids(l), [u64::from(h.pid)], "{}", r.explain());
        assert_eq!(l["processes"][0]["container"], Value::Null);
        // The connection's both ends, in the same namespace.
        let ends: Vec<_> = list
            .iter()
            .filter(|s| s["state"] == "ESTABLISHED" && netns_of(s).0 == ns.inode())
            .collect();
        assert_eq!(ends.len(), 2, "{}", r.explain());
    }
    // The library sees the same: the namespace on the socket, the holder as its owner.
    let listing = rnetstat::Query::new()
        .tcp()
        .ipv4()
        .listening()
        .owners(true)
        .namespace(&ns.name)
        .expect("a namespace name")
        .run()
        .expect("the query runs");
    assert_eq!(listing.namespaces_skipped(), 0);
    let ours = listing
        .sockets()
        .iter()
        .find(|s| s.local().map(|a| a.port()) == Some(h.listen_port))
        .unwrap_or_else(|| panic!("the library lists the listener: {:#?}", listing.sockets()));
    let netns = ours.netns().expect("a namespace on every socket");
    assert_eq!(netns.inode(), ns.inode());
    assert_eq!(netns.name(), Some(ns.name.as_bytes()));
    assert!(!netns.is_own());
    assert_eq!(
        ours.owners().iter().map(|o| o.pid()).collect::<Vec<_>>(),
        [h.pid]
    );
    assert!(ours.owners()[0].container().is_none());
    // Not in our own namespace, so not listed without -N.
    let own = rnetstat(&["-tan", "--json"]).json();
    assert!(
        !own.iter().any(|s| s["state"] == "LISTEN"
            && s["local"]["port"].as_u64() == Some(h.listen_port.into())
            && s["local"]["addr"] == "127.0.0.1"
            && s.get("netns").is_some()),
        "no netns key without -N"
    );
    // The table: a first Netns column with the name, the owner after the state.
    let t = rnetstat(&["-N", &ns.name, "-tlnp"]);
    assert_eq!(t.code(), Some(0), "{}", t.explain());
    let out = t.stdout();
    let header = out.lines().nth(1).unwrap_or("");
    assert!(header.starts_with("Netns "), "{}", t.explain());
    let row = out
        .lines()
        .find(|l| l.contains(&format!("127.0.0.1:{}", h.listen_port)))
        .unwrap_or_else(|| panic!("{}", t.explain()));
    assert!(row.starts_with(&ns.name), "{}", t.explain());
    assert!(
        row.contains(&format!("{}/python3", h.pid)),
        "{}",
        t.explain()
    );
}

#[test]
fn filters_are_applied_in_every_namespace() {
    if cannot_run() {
        return;
    }
    let ns = NamedNs::new("filt");
    let h = Holder::in_named(&ns);
    let sport = format!("sport = :{}", h.listen_port);
    let (r, list) = listed(&["-N", "all", "-tan", "--json", &sport]);
    assert!(
        list.iter()
            .all(|s| s["local"]["port"].as_u64() == Some(h.listen_port.into())),
        "{}",
        r.explain()
    );
    let mine: Vec<_> = list
        .iter()
        .filter(|s| netns_of(s).0 == ns.inode())
        .collect();
    assert_eq!(mine.len(), 2, "listener and accepted end: {}", r.explain());
    let (r, list) = listed(&["-N", &ns.name, "-tn", "--json", "--pid", &h.pid.to_string()]);
    assert_eq!(list.len(), 2, "two established ends: {}", r.explain());
    let (r, list) = listed(&["-N", &ns.name, "-tln", "--json"]);
    assert_eq!(list.len(), 1, "-l: only the listener: {}", r.explain());
}

/// `--json` output of `args` with each socket's `"netns"` key taken out (and checked to be
/// `ns`'s), sorted: what `-N` lists, to compare with a run inside the namespace.
fn without_netns(r: &Run, ns: &NamedNs) -> Vec<String> {
    let mut v: Vec<String> = r
        .json()
        .into_iter()
        .map(|mut s| {
            assert_eq!(netns_of(&s).0, ns.inode(), "{}", r.explain());
            s.as_object_mut().expect("an object").remove("netns");
            s.to_string()
        })
        .collect();
    v.sort();
    v
}

/// Checks that `rnetstat -N ns -v --json args…` lists what rnetstat lists inside `ns`
/// (something), and that -v says each TCP table was served by `served`.
fn lists_as_inside(ns: &NamedNs, args: &[&str], served: &str) {
    let mut with_n = vec!["-N", &ns.name, "-v", "--json"];
    with_n.extend_from_slice(args);
    let r = rnetstat(&with_n);
    let got = without_netns(&r, ns);
    assert!(!got.is_empty(), "{args:?}: {}", r.explain());
    assert_eq!(got, inside(ns, args), "{args:?}: {}", r.explain());
    for table in ["tcp", "tcp6"] {
        let said = format!("{table}: {served}");
        assert!(r.stderr().contains(&said), "{said}: {}", r.explain());
    }
}

/// Whether owners come from the /proc walk here (no BPF iterator), saying so: then TCP
/// sockets are never read from their descriptors.
fn no_bpf_scan(ns: &NamedNs) -> bool {
    let r = rnetstat(&["-N", &ns.name, "-tanp", "-v"]);
    r.stderr().contains("owners: /proc/*/fd") && skip("the BPF owner scan cannot run here")
}

/// `rnetstat args --json` run inside `ns` (`ip netns exec`), sorted.
fn inside(ns: &NamedNs, args: &[&str]) -> Vec<String> {
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", &ns.name, BIN])
        .args(args)
        .arg("--json");
    let mut v: Vec<String> = json_records(&run_ok(cmd))
        .iter()
        .map(Value::to_string)
        .collect();
    v.sort();
    v
}

/// With both TCP tables selected, -N asks the kernel for both in one legacy TCPDIAG_GETSOCK
/// dump (one walk of the shared hash tables instead of two): what it lists, for IPv4 and IPv6,
/// with states, a filter the kernel applies, and tcp_info, is what rnetstat lists inside the
/// namespace, and -v says how the tables were asked for.
#[test]
fn both_tcp_tables_under_n_are_what_the_namespace_itself_lists() {
    if cannot_run() {
        return;
    }
    if !have_ipv6() {
        skip("needs IPv6 on loopback");
        return;
    }
    let ns = NamedNs::new("both");
    let h = Holder::spawn_script(&["ip", "netns", "exec", &ns.name], HOLD_BOTH);
    let (p4, p6) = (h.listen_port, h.other_port);
    let sport = format!("sport = :{p4} or sport = :{p6}");
    let cases: [&[&str]; 5] = [
        &["-tan"],
        &["-tln"],
        &["-tn"],
        &["-tan", &sport],
        &[
            "-tn",
            "state",
            "established",
            "dport",
            "=",
            &format!(":{p6}"),
        ],
    ];
    for args in cases {
        lists_as_inside(
            &ns,
            args,
            "netlink sock_diag (one TCPDIAG_GETSOCK request for tcp and tcp6)",
        );
    }
    // Both families are there, listeners and connections.
    let r = rnetstat(&["-N", &ns.name, "-tan", "--json"]);
    let list = r.json();
    for (proto, port) in [("tcp", p4), ("tcp6", p6)] {
        let mine: Vec<_> = list
            .iter()
            .filter(|s| s["proto"] == proto && s["local"]["port"].as_u64() == Some(port.into()))
            .collect();
        assert_eq!(
            mine.len(),
            2,
            "{proto}: listener and accepted end: {}",
            r.explain()
        );
    }
    // The kernel's filter: nothing but the two listeners and their accepted ends.
    let (r, list) = listed(&["-N", &ns.name, "-tan", "--json", &sport]);
    assert_eq!(list.len(), 4, "{}", r.explain());
    // --info: tcp_info on every socket of both families.
    let (r, list) = listed(&["-N", &ns.name, "-tn", "--info", "--json"]);
    assert_eq!(list.len(), 4, "{}", r.explain());
    assert!(
        list.iter().all(|s| s["info"].is_object()),
        "{}",
        r.explain()
    );
    assert_eq!(
        list.iter().filter(|s| s["proto"] == "tcp6").count(),
        2,
        "{}",
        r.explain()
    );
}

/// HOLD_BOTH with five bytes sent to each accepted end and left unread (a Recv-Q to show).
const HOLD_QUEUED: &str = "import socket, sys, os\n\
held = []\n\
for fam, host in ((socket.AF_INET, '127.0.0.1'), (socket.AF_INET6, '::1')): \
l = socket.socket(fam); l.bind((host, 0)); l.listen(8); \
c = socket.create_connection(l.getsockname()[:2]); a, _ = l.accept(); c.send(b'hello'); \
held += [l, c, a]\n\
print(os.getpid(), held[0].getsockname()[1], held[3].getsockname()[1], flush=True)\n\
sys.stdin.read()\n";

/// A namespace whose TCP sockets are all held by processes is listed from their descriptors
/// (the BPF owner scan reads each socket's fields; no dump walks the host's whole TCP hash),
/// and what it lists — states, addresses, queues, uid, inode, owners, filters — is what
/// rnetstat lists inside the namespace from a dump. -v says which way each table came.
#[test]
fn a_namespace_whose_sockets_all_have_owners_is_listed_from_their_descriptors() {
    if cannot_run() {
        return;
    }
    if !have_ipv6() {
        skip("needs IPv6 on loopback");
        return;
    }
    let ns = NamedNs::new("held");
    let h = Holder::spawn_script(&["ip", "netns", "exec", &ns.name], HOLD_QUEUED);
    let (p4, p6) = (h.listen_port, h.other_port);
    let sport = format!("sport = :{p4} or dport = :{p6}");
    let cases: [&[&str]; 5] = [
        &["-tanp"],
        &["-tlnp"],
        &["-tnpe"],
        &["-tanp", &sport],
        &["-tnp", "state", "established"],
    ];
    if no_bpf_scan(&ns) {
        return;
    }
    for args in cases {
        lists_as_inside(
            &ns,
            args,
            "the sockets' descriptors (BPF task_file iterator)",
        );
    }
    let (r, list) = listed(&["-N", &ns.name, "-tnp", "--json"]);
    for proto in ["tcp", "tcp6"] {
        let queued: Vec<_> = list
            .iter()
            .filter(|s| s["proto"] == proto && s["recv_q"] == 5)
            .collect();
        assert_eq!(
            queued.len(),
            1,
            "{proto}: the accepted end: {}",
            r.explain()
        );
        assert_eq!(owner_pids(queued[0]), vec![u64::from(h.pid)]);
    }
    // Timers come from a dump only: with -o the namespace is dumped.
    let r = rnetstat(&["-N", &ns.name, "-tanpo", "-v"]);
    assert!(
        r.stderr().contains("tcp: netlink sock_diag"),
        "{}",
        r.explain()
    );
    // Without root there is no BPF owner scan: its own namespace is dumped.
    if have("setpriv") {
        let bin = SharedBin::new("netns-held");
        let out = bin
            .as_nobody("", &["-N", "all", "-tanp", "-v"])
            .output()
            .expect("setpriv");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{out:?}");
        assert!(stderr.contains("tcp: netlink sock_diag"), "{stderr}");
        assert!(
            !stderr.contains("the sockets' descriptors (BPF"),
            "{stderr}"
        );
    }
}

/// A TCP socket that no process holds (here a connection not yet accept()ed) makes the
/// namespace's counters disagree with the held sockets: it is dumped, the socket is listed,
/// and -v says why.
#[test]
fn a_socket_without_an_owner_sends_its_namespace_to_a_dump() {
    if cannot_run() {
        return;
    }
    let ns = NamedNs::new("unowned");
    let script = "import socket, sys, os\n\
l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(8)\n\
c = socket.create_connection(l.getsockname())\n\
print(os.getpid(), l.getsockname()[1], c.getsockname()[1], flush=True)\n\
sys.stdin.read()\n";
    let h = Holder::spawn_script(&["ip", "netns", "exec", &ns.name], script);
    if no_bpf_scan(&ns) {
        return;
    }
    let r = rnetstat(&["-N", &ns.name, "-tanp", "-v", "--json"]);
    let said = "tcp: netlink sock_diag (one TCPDIAG_GETSOCK request for tcp and tcp6; not from \
the sockets' descriptors: 3 TCP sockets in the kernel's hash, 2 held by processes)";
    assert!(r.stderr().contains(said), "{said}: {}", r.explain());
    let list = r.json();
    let child = list
        .iter()
        .find(|s| {
            s["local"]["port"].as_u64() == Some(h.listen_port.into())
                && s["remote"]["port"].as_u64() == Some(h.other_port.into())
        })
        .unwrap_or_else(|| panic!("no accept queue entry: {}", r.explain()));
    assert_eq!(child["state"], "ESTABLISHED");
    assert_eq!(
        child["processes"],
        serde_json::json!([]),
        "nobody holds it yet"
    );
}

/// Where the kernel refuses the one request for both TCP tables, -N asks per table, as without
/// it, and says so with -v: an ordinary user's filter program with a mark test is refused
/// (EPERM: it needs CAP_NET_ADMIN), and the per-table dumps then go without the program.
#[test]
fn a_refused_request_for_both_tcp_tables_falls_back_to_one_per_table() {
    if cannot_run() || !have("setpriv") && skip("needs setpriv") {
        return;
    }
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let filter = format!("fwmark = 0 and sport = :{port}");
    let mut args = vec!["-N", "all", "-tln", "-v", "--json"];
    args.extend(filter.split(' '));
    let bin = SharedBin::new("netns-fallback");
    let out = bin.as_nobody("", &args).output().expect("setpriv");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{}", describe("nobody", &out));
    let list = json_records(&out);
    assert_eq!(
        list.iter()
            .filter(|s| s["local"]["port"].as_u64() == Some(port.into()))
            .count(),
        1,
        "the listener, found by the user-space filter: {}",
        describe("nobody", &out)
    );
    for table in ["tcp", "tcp6"] {
        let said = format!(
            "{table}: netlink sock_diag (one TCPDIAG_GETSOCK request for tcp and tcp6 failed, so \
asked per table: netlink sock_diag is denied"
        );
        assert!(stderr.contains(&said), "{said}: {stderr}");
    }
    // Root may run the program: one request for both.
    let r = rnetstat(&args);
    assert_eq!(r.json().len(), 1, "{}", r.explain());
    assert!(
        r.stderr()
            .contains("tcp: netlink sock_diag (one TCPDIAG_GETSOCK request for tcp and tcp6)\n"),
        "{}",
        r.explain()
    );
}

#[test]
fn a_time_wait_stays_listed_after_its_processes_exited() {
    if cannot_run() {
        return;
    }
    let ns = NamedNs::new("tw");
    // The client closes first, so its end waits in TIME_WAIT for 60 s after both exit.
    let script = "import socket, time\n\
l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(1)\n\
c = socket.create_connection(l.getsockname()); a, _ = l.accept()\n\
print(c.getsockname()[1], flush=True)\n\
c.close(); time.sleep(0.1); a.close(); time.sleep(0.1)\n";
    let out = Command::new("ip")
        .args(["netns", "exec", &ns.name, "python3", "-c", script])
        .output()
        .expect("run");
    assert!(out.status.success(), "{out:?}");
    let port: u16 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("port");
    let (r, list) = listed(&["-N", &ns.name, "-tanp", "--json", "-v"]);
    // A TIME_WAIT has no owner: the namespace is dumped (see the next tests).
    assert!(
        r.stderr()
            .contains("not from the sockets' descriptors: TIME_WAIT sockets have no owner"),
        "{}",
        r.explain()
    );
    let tw = list
        .iter()
        .find(|s| s["state"] == "TIME_WAIT" && s["local"]["port"].as_u64() == Some(port.into()))
        .unwrap_or_else(|| panic!("no TIME_WAIT from {port}: {}", r.explain()));
    assert_eq!(netns_of(tw), (ns.inode(), Some(ns.name.clone())));
    assert_eq!(tw["inode"], 0);
    assert_eq!(tw["processes"], serde_json::json!([]), "nobody holds it");
}

#[test]
fn a_nameless_namespace_held_only_by_a_process_is_found() {
    if cannot_run() || !have("unshare") && skip("needs unshare") {
        return;
    }
    let h = Holder::spawn(&[
        "unshare",
        "-n",
        "sh",
        "-c",
        "ip link set lo up && exec \"$@\"",
        "sh",
    ]);
    let inode = std::fs::metadata(format!("/proc/{}/ns/net", h.pid))
        .expect("ns")
        .ino();
    for selector in [
        "all".to_string(),
        format!("pid:{}", h.pid),
        format!("/proc/{}/ns/net", h.pid),
    ] {
        let (r, list) = listed(&["-N", &selector, "-tanp", "--json"]);
        let l = listener(&list, h.listen_port);
        assert_eq!(netns_of(l), (inode, None), "{}", r.explain());
        assert_eq!(owner_pids(l), [u64::from(h.pid)], "{}", r.explain());
    }
    let t = rnetstat(&["-N", "all", "-tlnp"]);
    let label = format!("[{inode}]");
    assert!(
        t.stdout()
            .lines()
            .any(|l| l.starts_with(&label) && l.contains(&format!("127.0.0.1:{}", h.listen_port))),
        "{}",
        t.explain()
    );
    // Our own namespace is there too, first, shown as [host].
    let first_row = t.stdout().lines().nth(2).unwrap_or("").to_string();
    assert!(first_row.starts_with("[host]"), "{}", t.explain());
}

/// A writable cgroup v2 mount, if there is one.
fn writable_cgroup2() -> Option<PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let mounts: Vec<PathBuf> = info
        .lines()
        .filter_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            let mount = left.split_whitespace().nth(4)?;
            (right.split_whitespace().next()? == "cgroup2").then(|| PathBuf::from(mount))
        })
        .collect();
    mounts.into_iter().find(|m| {
        let probe = m.join(format!("rnetstat-probe-{}", std::process::id()));
        let ok = std::fs::create_dir(&probe).is_ok();
        let _ = std::fs::remove_dir(&probe);
        ok
    })
}

/// Cgroup directories made for a test, removed (deepest first) on drop.
struct Cgroups(Vec<PathBuf>);

impl Cgroups {
    fn make(root: &Path, rel: &str) -> (Cgroups, PathBuf) {
        let mut made = Vec::new();
        let mut at = root.to_path_buf();
        for part in rel.split('/') {
            at = at.join(part);
            std::fs::create_dir(&at).unwrap_or_else(|e| panic!("mkdir {}: {e}", at.display()));
            made.push(at.clone());
        }
        (Cgroups(made), at)
    }
}

impl Drop for Cgroups {
    fn drop(&mut self) {
        for dir in self.0.iter().rev() {
            // The holder was reaped before this runs; the kernel may take a moment to empty it.
            for _ in 0..50 {
                if std::fs::remove_dir(dir).is_ok() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
    }
}

fn unique_hex_id() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed) as u64;
    let id = format!(
        "{t:016x}{:016x}{n:016x}{:016x}",
        std::process::id(),
        t.wrapping_mul(0x9e37_79b9_7f4a_7c15)
    );
    assert_eq!(id.len(), 64);
    id
}

fn container_case(rel: String, id: &str, runtime: &str, pod_uid: Option<&str>) {
    let Some(root) = writable_cgroup2() else {
        skip("no writable cgroup v2 hierarchy");
        return;
    };
    let ns = NamedNs::new("ctr");
    let (cgroups, leaf) = Cgroups::make(&root, &rel);
    {
        let h = Holder::in_named(&ns);
        std::fs::write(leaf.join("cgroup.procs"), h.pid.to_string()).expect("move into cgroup");
        let (r, list) = listed(&["-N", &ns.name, "-tanp", "--json"]);
        let l = listener(&list, h.listen_port);
        assert_eq!(netns_of(l), (ns.inode(), Some(ns.name.clone())));
        assert_eq!(owner_pids(l), [u64::from(h.pid)], "{}", r.explain());
        assert_eq!(
            l["processes"][0]["container"],
            serde_json::json!({"runtime": runtime, "id": id, "pod_uid": pod_uid, "name": null}),
            "{}",
            r.explain()
        );
        // The library: the owner's container, and the container filter.
        let sockets = rnetstat::Query::new()
            .tcp()
            .namespace("all")
            .expect("all")
            .container(&id[..10])
            .sockets()
            .expect("the query runs");
        assert_eq!(sockets.len(), 3, "listener and both ends: {sockets:#?}");
        let c = sockets[0].owners()[0].container().expect("a container");
        assert_eq!(
            (c.runtime(), c.id(), c.pod_uid(), c.name()),
            (runtime, id.as_bytes(), pod_uid, None)
        );
        assert!(sockets
            .iter()
            .all(|s| s.netns().map(|n| n.inode()) == Some(ns.inode())));
        // Metrics: the program's series carries the container and the namespace.
        let m = rnetstat(&["--metrics", "-N", &ns.name, "-tp"]);
        assert_eq!(m.code(), Some(0), "{}", m.explain());
        let want = format!(
            "rnetstat_program_sockets{{program=\"python3\",proto=\"tcp\",state=\"LISTEN\",container=\"{runtime}:{}\",netns=\"{}\"}} 1",
            &id[..12],
            ns.name
        );
        assert!(
            m.stdout().lines().any(|l| l == want),
            "{want}\n{}",
            m.explain()
        );
        // The table's owner cell names the container with a 12-digit id.
        let t = rnetstat(&["-N", &ns.name, "-tlnp"]);
        let want = format!("{}/python3@{runtime}:{}", h.pid, &id[..12]);
        assert!(t.stdout().contains(&want), "{want}\n{}", t.explain());
        // --container: by id prefix, in every namespace.
        let (r, hits) = listed(&["-N", "all", "-tan", "--json", "--container", &id[..10]]);
        assert_eq!(hits.len(), 3, "listener and both ends: {}", r.explain());
        assert!(hits.iter().all(|s| netns_of(s).0 == ns.inode()));
        let (r, none) = listed(&[
            "-N",
            "all",
            "-tan",
            "--json",
            "--container",
            "ffffffffffff0",
        ]);
        assert!(none.is_empty(), "{}", r.explain());
    }
    drop(cgroups);
    assert!(!leaf.exists(), "cgroup removed");
}

#[test]
fn a_process_in_a_docker_named_cgroup_is_in_that_container() {
    if cannot_run() {
        return;
    }
    let id = unique_hex_id();
    container_case(format!("docker-{id}.scope"), &id, "docker", None);
}

#[test]
fn a_process_in_a_kubernetes_pod_cgroup_is_in_that_pod_and_container() {
    if cannot_run() {
        return;
    }
    let id = unique_hex_id();
    let pod = format!("0b1c2d3e-4f50-6172-8394-{:012x}", std::process::id());
    let tag = std::process::id();
    let rel = format!(
        "kubepods-rnt{tag}.slice/kubepods-rnt{tag}-pod{}.slice/cri-containerd-{id}.scope",
        pod.replace('-', "_")
    );
    container_case(rel, &id, "containerd", Some(&pod));
}

#[test]
fn bad_namespace_arguments_are_usage_errors_naming_them() {
    for (arg, says) in [
        ("rnetstat-no-such-namespace", "rnetstat-no-such-namespace"),
        ("/etc/passwd", "/etc/passwd"),
        ("pid:abc", "pid:abc"),
        ("/proc/self/ns/mnt", "/proc/self/ns/mnt"),
    ] {
        let r = rnetstat(&["-N", arg, "-tan"]);
        assert_eq!(r.code(), Some(2), "{}", r.explain());
        assert!(r.stderr().contains(says), "{}", r.explain());
        assert!(!r.stderr().contains("panicked"), "{}", r.explain());
    }
    let r = rnetstat(&["-N", "all", "-s"]);
    assert_eq!(r.code(), Some(2), "{}", r.explain());
    // The other tables work per namespace.
    for table in ["-rn", "-i", "-gn"] {
        let r = rnetstat(&["-N", "/proc/self/ns/net", table]);
        assert_eq!(r.code(), Some(0), "{}", r.explain());
        assert!(r.stdout().contains("\nNetns "), "{}", r.explain());
    }
    // -K works with -N (tests/kill.rs), but keeps its refusal without a filter.
    let r = rnetstat(&["-N", "all", "-K", "-t"]);
    assert_eq!(r.code(), Some(2), "{}", r.explain());
    assert!(
        r.stderr().contains("-K closes every socket"),
        "{}",
        r.explain()
    );
}

#[test]
fn an_ordinary_user_lists_what_it_can_and_says_what_it_skipped() {
    if cannot_run() || !have("setpriv") && skip("needs setpriv") {
        return;
    }
    let ns = NamedNs::new("user");
    let _h = Holder::in_named(&ns);
    // The build tree may be closed to other users: run a copy.
    let bin = SharedBin::new("netns-user");
    let run = |args: &[&str]| bin.as_nobody("", args).output().expect("setpriv");
    for args in [
        &["-N", "all", "-tan", "--json"][..],
        &["-N", &ns.name, "-tan", "--json"],
    ] {
        let out = run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{args:?}: {out:?}");
        let list: Vec<Value> = serde_json::from_slice(&out.stdout).expect("JSON");
        assert!(
            !list
                .iter()
                .any(|s| s["netns"]["inode"].as_u64() == Some(ns.inode())),
            "{args:?}: a namespace nobody cannot enter is not listed"
        );
        let hints: Vec<_> = stderr.lines().filter(|l| l.contains("skipped")).collect();
        assert_eq!(hints.len(), 1, "{args:?}: one hint: {stderr}");
        assert!(hints[0].contains("CAP_SYS_ADMIN"), "{stderr}");
        let n: usize = hints[0]
            .split_whitespace()
            .nth(2)
            .and_then(|w| w.parse().ok())
            .unwrap_or(0);
        assert!(n >= 1, "says how many: {stderr}");
        if args[1] == "all" {
            // Our own namespace needs nothing entered: its sockets are there.
            assert!(
                list.iter().any(|s| s["netns"]["name"].is_null()
                    && s["netns"]["inode"].as_u64()
                        == std::fs::metadata("/proc/self/ns/net").ok().map(|m| m.ino())),
                "{args:?}: own namespace listed"
            );
            // Root's processes (the holder, this test) keep their namespace links from nobody,
            // and the hint counts them.
            let unreadable = stderr
                .lines()
                .find(|l| l.contains("the namespaces of") && l.contains("could not be read"))
                .unwrap_or_else(|| panic!("{args:?}: no unreadable-processes hint: {stderr}"));
            let n: usize = unreadable
                .split("the namespaces of ")
                .nth(1)
                .and_then(|r| r.split_whitespace().next())
                .and_then(|w| w.parse().ok())
                .unwrap_or(0);
            assert!(n >= 1, "says how many: {stderr}");
        }
    }
}

/// Reads `child`'s stdout lines on a thread, so a test can wait for one with a deadline.
fn lines_of(child: &mut Child) -> std::sync::mpsc::Receiver<String> {
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// The first line `rx` gives within 10 s that `want` accepts, with every line seen on failure.
fn wait_for(
    rx: &std::sync::mpsc::Receiver<String>,
    what: &str,
    want: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) => {
                let v: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
                if want(&v) {
                    return v;
                }
                seen.push(line);
            }
            Err(_) => break,
        }
    }
    panic!("no {what} within 10 s; saw:\n{}", seen.join("\n"));
}

#[test]
fn watch_follows_sockets_in_each_namespace() {
    if cannot_run() {
        return;
    }
    let ns = NamedNs::new("watch");
    let h = Holder::in_named(&ns);
    let mut child = Command::new(BIN)
        .args(["--watch", "0.2", "-N", "all", "-tanp", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn watch");
    let rx = lines_of(&mut child);
    let watch = Reaped(child);
    let port = u64::from(h.listen_port);
    let in_ns = |v: &Value| v["socket"]["netns"]["inode"].as_u64() == Some(ns.inode());
    let exists = wait_for(&rx, "EXISTS of the listener", |v| {
        v["event"] == "exists" && in_ns(v) && v["socket"]["local"]["port"].as_u64() == Some(port)
    });
    assert_eq!(exists["socket"]["netns"]["name"], ns.name.as_str());
    assert_eq!(owner_pids(&exists["socket"]), [u64::from(h.pid)]);
    let pid = h.pid;
    drop(h);
    let gone = wait_for(&rx, "GONE of the listener", |v| {
        v["event"] == "gone" && in_ns(v) && v["socket"]["local"]["port"].as_u64() == Some(port)
    });
    assert_eq!(
        owner_pids(&gone["socket"]),
        [u64::from(pid)],
        "owners as last seen"
    );
    drop(watch);
}

#[test]
fn summary_counts_the_sockets_of_the_namespaces_listed() {
    if cannot_run() {
        return;
    }
    let (a, b) = (NamedNs::new("sum"), NamedNs::new("sum"));
    let (_ha, _hb) = (Holder::in_named(&a), Holder::in_named(&b));
    let summary = |args: &[&str]| {
        let r = rnetstat(args);
        assert_eq!(r.code(), Some(0), "{}", r.explain());
        let v: Value = serde_json::from_slice(&r.out.stdout).expect("JSON");
        (r, v)
    };
    // ss -s's figures, read inside the namespace: the listener and both ends are in use,
    // two are established.
    let (r, one) = summary(&["--summary", "-N", &a.name, "--json"]);
    assert_eq!(one["tcp_inuse"]["total"], 3, "{}", r.explain());
    assert_eq!(one["tcp"]["estab"], 2, "{}", r.explain());
    // Two namespaces add up.
    let (r, two) = summary(&["--summary", "-N", &a.name, "-N", &b.name, "--json"]);
    assert_eq!(two["tcp_inuse"]["total"], 6, "{}", r.explain());
    assert_eq!(two["tcp"]["estab"], 4, "{}", r.explain());
}

#[test]
fn events_are_followed_inside_each_namespace() {
    if cannot_run() {
        return;
    }
    let ns = NamedNs::new("ev");
    let mut child = Command::new(BIN)
        .args(["--events", "-v", "-N", &ns.name, "-tn", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn events");
    // -v says when the subscription is made; wait for that before making the event.
    let stderr = child.stderr.take().expect("stderr");
    let mut line = String::new();
    let mut err = BufReader::new(stderr);
    while !line.contains("following") {
        line.clear();
        if err.read_line(&mut line).unwrap_or(0) == 0 {
            panic!("--events ended before subscribing");
        }
    }
    let rx = lines_of(&mut child);
    let events = Reaped(child);
    let script = "import socket\n\
l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(1)\n\
c = socket.create_connection(l.getsockname()); a, _ = l.accept()\n\
print(l.getsockname()[1], flush=True)\n\
a.close(); c.close(); l.close()\n";
    let out = Command::new("ip")
        .args(["netns", "exec", &ns.name, "python3", "-c", script])
        .output()
        .expect("run");
    assert!(out.status.success(), "{out:?}");
    let port: u64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("port");
    let ev = wait_for(&rx, "a destroy event from the namespace", |v| {
        v["event"] == "destroy"
            && (v["socket"]["local"]["port"].as_u64() == Some(port)
                || v["socket"]["remote"]["port"].as_u64() == Some(port))
    });
    assert_eq!(ev["socket"]["netns"]["inode"].as_u64(), Some(ns.inode()));
    assert_eq!(ev["socket"]["netns"]["name"], ns.name.as_str());
    drop(events);
}

#[test]
fn the_proc_source_reads_each_namespace_s_own_tables() {
    if cannot_run() {
        return;
    }
    let ns = NamedNs::new("proc");
    let h = Holder::in_named(&ns);
    // /proc/net follows the main thread's namespace; the entered thread reads its own.
    let (r, list) = listed(&["-N", &ns.name, "--source", "proc", "-tanpeo", "--json"]);
    let l = listener(&list, h.listen_port);
    assert_eq!(
        netns_of(l),
        (ns.inode(), Some(ns.name.clone())),
        "{}",
        r.explain()
    );
    assert_eq!(owner_pids(l), [u64::from(h.pid)], "{}", r.explain());
    assert!(
        l.get("user").is_some() && l.get("timer").is_some(),
        "-e -o: {l}"
    );
    assert_eq!(
        list.len(),
        3,
        "only the namespace's own sockets: {}",
        r.explain()
    );
    let (r, list) = listed(&["-N", &ns.name, "-tn", "--info", "--memory", "--json"]);
    assert_eq!(list.len(), 2, "{}", r.explain());
    assert!(
        list.iter()
            .all(|s| s["info"].is_object() && s["memory"].is_object()),
        "{}",
        r.explain()
    );
}

#[test]
fn a_namespace_gone_mid_run_is_skipped_with_a_hint() {
    if cannot_run() || !have("unshare") && skip("needs unshare") {
        return;
    }
    let h = Holder::spawn(&[
        "unshare",
        "-n",
        "sh",
        "-c",
        "ip link set lo up && exec \"$@\"",
        "sh",
    ]);
    let spec = format!("pid:{}", h.pid);
    let mut child = Command::new(BIN)
        .args(["-c", "0.2", "-N", &spec, "-tln"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn -c");
    let rx = lines_of(&mut child);
    let stderr = child.stderr.take().expect("stderr");
    let run = Reaped(child);
    let row = format!("127.0.0.1:{}", h.listen_port);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !rx
        .recv_timeout(std::time::Duration::from_secs(1))
        .is_ok_and(|l| l.contains(&row))
    {
        assert!(std::time::Instant::now() < deadline, "never listed {row}");
    }
    drop(h);
    let mut line = String::new();
    let mut err = BufReader::new(stderr);
    err.read_line(&mut line).expect("stderr line");
    assert!(
        line.contains("gone") && line.contains(&spec),
        "one hint naming the namespace that went: {line}"
    );
    drop(run);
}

/// `--metrics -N`: every series of a namespace carries its `netns` label, the kernel counters
/// are each namespace's own, and namespaces are never summed into one series.
#[test]
fn metrics_label_every_series_with_its_namespace() {
    if cannot_run() {
        return;
    }
    let a = NamedNs::new("ma");
    let b = NamedNs::new("mb");
    let _ha = Holder::in_named(&a);
    let _hb = Holder::in_named(&b);
    let _hb2 = Holder::in_named(&b);
    let m = rnetstat(&["--metrics", "-N", &a.name, "-N", &b.name, "-tp"]);
    assert_eq!(m.code(), Some(0), "{}", m.explain());
    let text = m.stdout();
    let value = |series: String| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{series} ")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {series}\n{text}"))
    };
    for (ns, listeners) in [(&a, 1.0), (&b, 2.0)] {
        let n = &ns.name;
        assert_eq!(
            value(format!(
                "rnetstat_sockets{{proto=\"tcp\",state=\"LISTEN\",netns=\"{n}\"}}"
            )),
            listeners
        );
        // Each holder's connection: both ends established.
        assert_eq!(
            value(format!(
                "rnetstat_sockets{{proto=\"tcp\",state=\"ESTABLISHED\",netns=\"{n}\"}}"
            )),
            2.0 * listeners
        );
        assert_eq!(
            value(format!(
                "rnetstat_program_sockets{{program=\"python3\",proto=\"tcp\",state=\"LISTEN\",netns=\"{n}\"}}"
            )),
            listeners
        );
        // A fresh namespace's own counters: exactly the connections made in it.
        assert_eq!(
            value(format!("rnetstat_tcp_active_opens_total{{netns=\"{n}\"}}")),
            listeners
        );
        assert_eq!(
            value(format!("rnetstat_kernel_counters_up{{netns=\"{n}\"}}")),
            1.0
        );
    }
    // No series without a namespace label.
    for l in text.lines().filter(|l| {
        l.starts_with("rnetstat_sockets{")
            || l.starts_with("rnetstat_listen_queue{")
            || l.starts_with("rnetstat_program_sockets{")
    }) {
        assert!(l.contains(",netns=\""), "{l}");
    }
    if have("promtool") {
        promtool_check(&text);
    }
}
