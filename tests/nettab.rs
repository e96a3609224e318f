//! netstat's other tables (-r, -i, -g) compared with net-tools netstat itself, inside a network
//! namespace each test makes: veth pairs and a bridge, IPv4 and IPv6 documentation addresses,
//! routes of every kind, joined multicast groups, an interface that is down and one with a
//! 15-character name, an IPv4 alias label. Both sources (rtnetlink and /proc) must give the same rows.
//!
//! Needs root and `ip`; the netstat comparisons need net-tools' netstat. Each skips with a
//! message when something is missing. netstat runs numeric (-n) and under `timeout`: its name
//! lookups hang without a resolver.

mod common;

use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_rnetstat");

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A named network namespace, deleted on drop.
struct Netns(String);

impl Netns {
    fn new(tag: &str) -> Netns {
        let name = format!("rnst-{tag}-{}", std::process::id());
        let st = Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .expect("run ip");
        assert!(st.success(), "ip netns add {name}");
        Netns(name)
    }

    fn ip(&self, args: &str) {
        let out = Command::new("ip")
            .args(["-n", &self.0])
            .args(args.split_whitespace())
            .output()
            .expect("run ip");
        assert!(
            out.status.success(),
            "ip -n {} {args}: {}",
            self.0,
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn exec(&self, prog: &str, args: &[&str]) -> Output {
        Command::new("timeout")
            .args(["10", "ip", "netns", "exec", &self.0, prog])
            .args(args)
            .output()
            .expect("run ip netns exec")
    }

    fn ours(&self, args: &[&str]) -> String {
        let out = self.exec(BIN, args);
        assert!(
            out.status.success(),
            "rnetstat {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn netstat(&self, args: &[&str]) -> String {
        let out = self.exec("netstat", args);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// The namespace every comparison runs in.
fn populated(tag: &str) -> Netns {
    let ns = Netns::new(tag);
    for cmd in [
        "link set lo up",
        "link add veth-a type veth peer name veth-b-fifteen1",
        "link add br-down type bridge",
        "link add br-fifteen-chr1 type bridge",
        "link set veth-a addrgenmode none",
        "link set veth-b-fifteen1 addrgenmode none",
        "link set br-down addrgenmode none",
        "link set br-fifteen-chr1 addrgenmode none",
        "link set br-down mtu 1400",
        "addr add 192.0.2.1/24 dev veth-a",
        "addr add 192.0.2.7/24 dev veth-a label veth-a:1",
        "addr add 192.0.2.9/24 brd 192.0.2.255 dev br-fifteen-chr1",
        "addr add 2001:db8:1::1/64 dev veth-a nodad",
        "addr add 239.1.2.3/32 dev veth-a autojoin",
        "addr add ff0e::1:2:3/128 dev veth-a autojoin",
        "link set veth-a up",
        "link set veth-b-fifteen1 up",
        "link set br-fifteen-chr1 up",
        "route add 198.51.100.0/24 via 192.0.2.254",
        "route add 203.0.113.0/25 dev veth-a metric 50",
        "route add 198.51.100.128/25 via 192.0.2.253 mtu 1400",
        "route add 198.51.100.64/26 via 192.0.2.252 advmss 1360 window 65535 rtt 40ms",
        "route add 192.0.2.99 dev veth-a",
        "route add blackhole 10.1.0.0/16",
        "route add unreachable 10.2.0.0/16",
        "route add prohibit 10.3.0.0/16",
        "route add default via 192.0.2.254",
        "-6 route add default via 2001:db8:1::fe",
        "-6 route add 2001:db8:2::/48 dev veth-a metric 10",
        "-6 route add unreachable 2001:db8:3::/48",
        "-6 route add 2001:db8:4::/64 via 2001:db8:1::fd mtu 1400",
    ] {
        ns.ip(cmd);
    }
    ns
}

fn ready(what: &str) -> bool {
    if !common::is_root() {
        eprintln!("skipping {what}: needs root (ip netns add)");
        return false;
    }
    for tool in ["ip", "timeout"] {
        if !have(tool) {
            eprintln!("skipping {what}: needs {tool}");
            return false;
        }
    }
    true
}

fn have_netstat(what: &str) -> bool {
    if have("netstat") {
        return true;
    }
    eprintln!("skipping {what}: needs net-tools' netstat");
    false
}

#[test]
fn routing_tables_match_netstat_byte_for_byte() {
    if !ready("routing tables") || !have_netstat("routing tables") {
        return;
    }
    let ns = populated("route");
    for flags in [
        &["-rn"][..],
        &["-rne"],
        &["-rnee"],
        &["-rn", "-6"],
        &["-rn", "-A", "inet6"],
        &["-rn", "-A", "inet,inet6"],
        &["-rnee", "-6"],
        &["-rnC"],
    ] {
        let theirs = ns.netstat(flags);
        assert!(
            theirs.starts_with("Kernel IP"),
            "netstat {flags:?}: {theirs}"
        );
        // netstat -ree cuts the interface to 6 characters; rnetstat never cuts.
        let ours = ns.ours(flags).replace("br-fifteen-chr1   ", "br-fif   ");
        assert_eq!(ours, theirs, "rnetstat {flags:?} vs netstat");
    }
    let v4 = ns.ours(&["-rn"]);
    for row in [
        "0.0.0.0         192.0.2.254     0.0.0.0         UG ",
        "10.1.0.0        0.0.0.0         255.255.0.0     U  ",
        "10.2.0.0        -               255.255.0.0     !  ",
        "192.0.2.99      0.0.0.0         255.255.255.255 UH ",
        "198.51.100.64   192.0.2.252     255.255.255.192 UG     1400 65535     40 veth-a",
    ] {
        assert!(v4.contains(row), "{row:?} in\n{v4}");
    }
}

#[test]
fn rtnetlink_and_proc_give_the_same_rows() {
    if !ready("route sources") {
        return;
    }
    let ns = populated("src");
    for flags in [&["-rnee"][..], &["-ia"], &["-iea"], &["-gn"]] {
        let (nl, proc) = quiesced(&ns, flags);
        assert_eq!(nl, proc, "{flags:?}: --source netlink vs --source proc");
    }
    // IPv6: netlink has no reference counts ("-"); every other column agrees.
    let nl = ns.ours(&["-rn6", "--source", "netlink"]);
    let proc = ns.ours(&["-rn6", "--source", "proc"]);
    let cut = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| !l.starts_with("::/0                           ::"))
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                if f.len() == 7 && l.len() > 62 {
                    format!("{} {} {} {} {} {}", f[0], f[1], f[2], f[3], f[5], f[6])
                } else {
                    l.to_string()
                }
            })
            .collect()
    };
    assert_eq!(cut(&nl), cut(&proc), "-rn6 netlink vs proc");
    assert!(nl.contains(" - "), "netlink IPv6 Ref column is '-':\n{nl}");
    // -v names the source that served.
    let out = ns.exec(BIN, &["-rnv", "-A", "inet,inet6"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("IPv4 routes: rtnetlink"), "{err}");
    assert!(err.contains("IPv6 routes: /proc/net/ipv6_route"), "{err}");
    let out = ns.exec(BIN, &["-iv", "--source", "proc"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("interfaces: /proc/net/dev"), "{err}");
}

/// Runs `flags` over both sources until two rounds agree with themselves (MLD and other
/// background packets can tick counters between reads).
fn quiesced(ns: &Netns, flags: &[&str]) -> (String, String) {
    let with = |src: &str| {
        let mut a: Vec<&str> = flags.to_vec();
        a.extend(["--source", src]);
        ns.ours(&a)
    };
    let mut last = (String::new(), String::new());
    for _ in 0..5 {
        let first = with("netlink");
        let proc = with("proc");
        let again = with("netlink");
        if first == again {
            return (first, proc);
        }
        last = (first, proc);
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    last
}

#[test]
fn interface_tables_match_netstat() {
    if !ready("interface tables") || !have_netstat("interface tables") {
        return;
    }
    let ns = populated("iface");
    for flags in [&["-i"][..], &["-ia"], &["-ie"], &["-iea"]] {
        let mut agreed = None;
        for _ in 0..5 {
            let ours = ns.ours(flags);
            let theirs = ns.netstat(flags);
            if ours == ns.ours(flags) {
                agreed = Some((ours, theirs));
                if agreed.as_ref().is_some_and(|(o, t)| o == t) {
                    break;
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(300));
        }
        let (ours, theirs) = agreed.expect("a quiet round");
        assert_eq!(
            without_long_name_counters(&ours),
            without_long_name_counters(&theirs),
            "rnetstat {flags:?} vs netstat"
        );
    }
    let short = ns.ours(&["-i"]);
    assert!(short.contains("\nbr-fifteen-chr1"), "{short}");
    assert!(
        !short.contains("br-down"),
        "down interface without -a:\n{short}"
    );
    let all = ns.ours(&["-ia"]);
    assert!(all.contains("\nbr-down          1400 "), "{all}");
    assert!(
        all.contains("\nveth-a:1         1500      - no statistics available -"),
        "an alias label: {all}"
    );
}

/// netstat 2.10 prints zero counters for interfaces with 15-character names (seen here:
/// /proc/net/dev and rtnetlink both count packets it shows as 0); rnetstat prints the kernel's.
/// Drops those counters so the rest can be compared byte for byte.
fn without_long_name_counters(table: &str) -> String {
    let mut out = String::new();
    let mut long_block = false;
    for line in table.lines() {
        let name = line.split([' ', ':']).next().unwrap_or("");
        if !line.starts_with(' ') && !line.is_empty() {
            long_block = name.len() == 15;
        }
        if line.is_empty() {
            long_block = false;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        if name.len() == 15 && f.len() == 11 {
            out.push_str(&format!("{} {} {}\n", f[0], f[1], f[10]));
        } else if long_block
            && (line.starts_with("        RX packets") || line.starts_with("        TX packets"))
        {
            out.push_str("(counters)\n");
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[test]
fn group_memberships_match_netstat() {
    if !ready("group memberships") || !have_netstat("group memberships") {
        return;
    }
    let ns = populated("groups");
    for flags in [&["-gn"][..], &["-gn", "-6"]] {
        let theirs = ns.netstat(flags);
        let ours = ns.ours(flags);
        if flags.len() == 1 {
            assert_eq!(ours, theirs, "rnetstat {flags:?} vs netstat");
        } else {
            // netstat -g -6 also prints its (empty) socket table: compare the groups part.
            let groups = theirs
                .find("IPv6/IPv4 Group Memberships")
                .map_or("", |at| &theirs[at..]);
            assert_eq!(ours, groups, "rnetstat {flags:?} vs netstat");
        }
    }
    let g = ns.ours(&["-gn"]);
    assert!(g.contains("veth-a          1      239.1.2.3\n"), "{g}");
    assert!(g.contains("veth-a          1      ff0e::1:2:3\n"), "{g}");
}

#[test]
fn json_tables_carry_the_rows() {
    if !ready("JSON tables") {
        return;
    }
    let ns = populated("json");
    let parse = |args: &[&str]| -> Vec<serde_json::Value> {
        serde_json::from_str(&ns.ours(args)).expect("one JSON array")
    };
    let routes = parse(&["-r", "--json"]);
    let text_rows = ns.ours(&["-rn"]).lines().count() - 2;
    assert_eq!(routes.len(), text_rows);
    assert!(routes.iter().any(|r| r["destination"] == "10.2.0.0"
        && r["flags"] == "!"
        && r["prefix_len"] == 16
        && r["interface"].is_null()));
    let r6 = parse(&["-r6", "--json"]);
    assert!(r6
        .iter()
        .any(|r| r["destination"] == "::" && r["gateway"] == "2001:db8:1::fe"));
    let ifs = parse(&["-iea", "--json"]);
    let br = ifs
        .iter()
        .find(|i| i["name"] == "br-fifteen-chr1")
        .expect("the bridge");
    assert_eq!(br["extended"]["inet"]["broadcast"], "192.0.2.255");
    assert!(ifs.iter().any(|i| i["name"] == "br-down"));
    assert!(!parse(&["-i", "--json"])
        .iter()
        .any(|i| i["name"] == "br-down"));
    let groups = parse(&["-g", "--json"]);
    assert!(groups
        .iter()
        .any(|g| g["group"] == "239.1.2.3" && g["interface"] == "veth-a" && g["family"] == "inet"));
}

#[test]
fn masquerade_and_context_say_what_netstat_says() {
    let out = Command::new(BIN).arg("-M").output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "rnetstat: no support for `ip_masquerade' on this system.\n"
    );
    if !std::path::Path::new("/sys/fs/selinux/enforce").exists() {
        let out = Command::new(BIN).arg("-Z").output().expect("run");
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "SELinux is not enabled on this machine.\n"
        );
    }
    let out = Command::new(BIN)
        .args(["-r", "-A", "unix"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "-r -A unix is a usage error");
    let out = Command::new(BIN).args(["-A", "ipx"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2), "-A ipx is a usage error");
    // --symbolic is accepted and does nothing to a listing.
    let out = Command::new(BIN)
        .args(["--symbolic", "-x", "--json"])
        .output()
        .expect("run");
    assert!(out.status.success());
}

#[test]
fn long_option_prefixes_and_protocol_work_like_netstat() {
    let run = |args: &[&str]| {
        let out = Command::new(BIN).args(args).output().expect("run");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(run(&["--rou", "--numeric", "--ext"]), run(&["-rne"]));
    assert_eq!(
        run(&["--protocol=unix", "--numeric", "-a"]).lines().next(),
        Some("Active UNIX domain sockets (servers and established)")
    );
    assert!(run(&["-A", "inet", "-ln"]).starts_with("Active Internet connections (only servers)"));
    // --program is an abbreviation of --programs, as in netstat.
    assert_eq!(
        run(&["-tln", "--program"]).lines().nth(1),
        run(&["-tlnp"]).lines().nth(1)
    );
}

#[test]
fn c_inside_a_cluster_repeats_the_table() {
    let mut child = Command::new(BIN)
        .args(["-crn"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let pid = child.id();
    let out = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut headers = 0;
        for line in std::io::BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if line == "Kernel IP routing table" {
                headers += 1;
                if headers == 2 {
                    break;
                }
            }
        }
        headers
    });
    let headers = reader.join().expect("reader");
    // SAFETY: signalling the child we spawned, by its pid.
    unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    let _ = child.wait();
    assert_eq!(headers, 2, "-crn printed the table twice");
}

/// A hostile interface name (not UTF-8, or holding an escape sequence) is listed, escaped or
/// replaced, never dropped and never raw on the terminal.
#[test]
fn hostile_interface_names_are_listed_safely() {
    use std::os::unix::ffi::OsStrExt;
    if !ready("hostile interface names") {
        return;
    }
    let ns = Netns::new("hostile");
    for name in [&b"n\xffx"[..], b"e\x1b[31mx"] {
        let st = Command::new("ip")
            .args(["-n", &ns.0, "link", "add"])
            .arg(std::ffi::OsStr::from_bytes(name))
            .args(["type", "bridge"])
            .status()
            .expect("run ip");
        assert!(st.success(), "ip link add {name:?}");
    }
    let out = ns.exec(BIN, &["-iav"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(!out.stdout.contains(&0x1b), "no raw ESC: {text}");
    assert!(text.contains("e\\x1b[31mx "), "{text}");
    assert!(text.contains("n\u{fffd}x "), "{text}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("interfaces: /proc/net/dev"), "{err}");
    assert!(err.contains("could not be decoded"), "{err}");
}

/// Routes through nexthop objects: the kernel's route dump leaves their gateway and device out
/// when `nexthop_compat_mode` is 0, so auto mode reads /proc/net/route, which resolves them.
#[test]
fn nexthop_object_routes_match_netstat() {
    if !ready("nexthop objects") || !have_netstat("nexthop objects") {
        return;
    }
    let ns = Netns::new("nhid");
    for cmd in [
        "link add veth-a type veth peer name veth-b",
        "link set veth-a addrgenmode none",
        "link set veth-b addrgenmode none",
        "link set veth-a up",
        "link set veth-b up",
        "addr add 192.0.2.1/24 dev veth-a",
        "nexthop add id 1 via 192.0.2.254 dev veth-a",
        "route add 198.51.100.0/24 nhid 1",
    ] {
        ns.ip(cmd);
    }
    let theirs = ns.netstat(&["-rn"]);
    assert!(theirs.contains("198.51.100.0    192.0.2.254 "), "{theirs}");
    assert_eq!(ns.ours(&["-rn"]), theirs, "compat mode on");
    let sysctl = ns.exec("sysctl", &["-qw", "net.ipv4.nexthop_compat_mode=0"]);
    if !sysctl.status.success() {
        eprintln!("skipping the rest: cannot turn nexthop_compat_mode off");
        return;
    }
    assert_eq!(ns.ours(&["-rn"]), theirs, "compat mode off");
    let out = ns.exec(BIN, &["-rnv"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nexthop objects"), "{err}");
}

/// `-N NAME` prefixes every row with the namespace's Netns cell and the column headers with
/// `Netns`: takes both off, checking each row's cell, so what is left compares with netstat.
fn without_netns_column(table: &str, name: &str) -> String {
    let cell = format!("{name:<12} ");
    let mut out = String::new();
    for line in table.lines() {
        let rest = if let Some(rest) = line.strip_prefix("Netns        ") {
            rest
        } else if let Some(rest) = line.strip_prefix("------------ ") {
            rest
        } else if line.starts_with("Kernel ")
            || line.starts_with("IPv6/IPv4 Group")
            || line.is_empty()
        {
            line
        } else {
            line.strip_prefix(&cell)
                .unwrap_or_else(|| panic!("row without the Netns cell {cell:?}: {line:?}"))
        };
        out.push_str(rest);
        out.push('\n');
    }
    out
}

fn inode_of(ns: &Netns) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(format!("/run/netns/{}", ns.0))
        .expect("the namespace's file")
        .ino()
}

/// rnetstat from the host with `-N NAME` shows what netstat shows inside the namespace, with
/// the Netns column; each namespace is read from inside it.
#[test]
fn netns_tables_match_netstat_inside_the_namespace() {
    if !ready("-N tables") || !have_netstat("-N tables") {
        return;
    }
    let ns = populated("nstab");
    let host = |args: &[&str]| {
        let out = Command::new("timeout")
            .args(["10", BIN, "-N", &ns.0])
            .args(args)
            .output()
            .expect("run rnetstat");
        assert!(
            out.status.success(),
            "rnetstat -N {} {args:?}: {}",
            ns.0,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    for flags in [
        &["-rn"][..],
        &["-rne"],
        &["-rn", "-A", "inet,inet6"],
        &["-gn"],
    ] {
        let ours = host(flags);
        assert!(ours.contains("\nNetns        "), "{flags:?}: {ours}");
        let theirs = ns.netstat(flags);
        assert_eq!(
            without_netns_column(&ours, &ns.0),
            theirs,
            "rnetstat -N {} {flags:?} vs ip netns exec netstat",
            ns.0
        );
    }
    // The proc fallback reads the entered thread's /proc/thread-self/net.
    let out = Command::new(BIN)
        .args(["-N", &ns.0, "-rnv", "--source", "proc"])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/proc/thread-self/net/route"), "{err}");
    assert_eq!(
        without_netns_column(&String::from_utf8_lossy(&out.stdout), &ns.0),
        ns.netstat(&["-rn"]),
        "--source proc"
    );
    for flags in [&["-i"][..], &["-ia"], &["-iea"]] {
        let mut agreed = None;
        for _ in 0..5 {
            let ours = without_netns_column(&host(flags), &ns.0);
            let theirs = ns.netstat(flags);
            if ours == theirs {
                agreed = Some((ours, theirs));
                break;
            }
            agreed = Some((ours, theirs));
            std::thread::sleep(std::time::Duration::from_millis(300));
        }
        let (ours, theirs) = agreed.expect("a round");
        assert_eq!(
            without_long_name_counters(&ours),
            without_long_name_counters(&theirs),
            "rnetstat -N {} {flags:?} vs ip netns exec netstat",
            ns.0
        );
    }
    // -c repeats the table with -N too.
    let mut child = Command::new(BIN)
        .args(["-N", &ns.0, "-crn"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let pid = child.id();
    let out = child.stdout.take().expect("stdout");
    let name = ns.0.clone();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        let (mut headers, mut rows) = (0, 0);
        for line in std::io::BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if line == "Kernel IP routing table" {
                headers += 1;
                if headers == 2 {
                    break;
                }
            }
            rows += usize::from(line.starts_with(&name));
        }
        (headers, rows)
    });
    let (headers, rows) = reader.join().expect("reader");
    // SAFETY: signalling the child we spawned, by its pid.
    unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    let _ = child.wait();
    assert_eq!(headers, 2, "-N -crn printed the table twice");
    assert!(rows > 0, "with the namespace's rows");
}

/// `-N all -r --json`: every route carries the netns object, the test namespace's routes are
/// there with its inode and name, and the library returns the same routes for it.
#[test]
fn netns_all_json_and_the_library_carry_the_namespace() {
    if !ready("-N all --json") {
        return;
    }
    let ns = populated("nsjs");
    let inode = inode_of(&ns);
    let out = Command::new(BIN)
        .args(["-N", "all", "-r", "-A", "inet,inet6", "--json"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{out:?}");
    let all: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(
        all.iter()
            .all(|r| r["netns"]["inode"].is_u64() && r["netns"].get("name").is_some()),
        "every route has the netns object"
    );
    let key = |r: &serde_json::Value| {
        format!(
            "{} {}/{} via {} dev {} metric {}",
            r["family"],
            r["destination"],
            r["prefix_len"],
            r["gateway"],
            r["interface"],
            r["metric"]
        )
    };
    let mut theirs: Vec<String> = all
        .iter()
        .filter(|r| r["netns"]["inode"].as_u64() == Some(inode))
        .inspect(|r| assert_eq!(r["netns"]["name"], ns.0.as_str(), "{r}"))
        .map(key)
        .collect();
    let inside: Vec<serde_json::Value> =
        serde_json::from_str(&ns.ours(&["-r", "-A", "inet,inet6", "--json"])).expect("JSON");
    let mut want: Vec<String> = inside.iter().map(key).collect();
    assert!(want.len() > 10, "{want:?}");
    theirs.sort();
    want.sort();
    assert_eq!(theirs, want, "-N all has the namespace's routes");
    assert!(
        all.iter()
            .any(|r| r["netns"]["inode"].as_u64() != Some(inode)),
        "our own namespace is in -N all too"
    );

    // The library: the same routes for that namespace, each naming it.
    let rows = rnetstat::NetTable::new()
        .namespace(&ns.0)
        .expect("spec")
        .routes()
        .expect("routes");
    assert_eq!(rows.namespaces_skipped(), 0);
    let mut lib: Vec<String> = rows
        .rows()
        .iter()
        .map(|r| {
            let n = r.netns().expect("netns");
            assert_eq!(n.inode(), inode);
            assert_eq!(n.name(), Some(ns.0.as_bytes()));
            assert!(!n.is_own());
            let fam = match r.family() {
                rnetstat::Family::V4 => "inet",
                _ => "inet6",
            };
            format!(
                "\"{fam}\" \"{}\"/{} via \"{}\" dev {} metric {}",
                r.destination(),
                r.prefix_len(),
                r.gateway(),
                r.interface()
                    .map_or_else(|| "null".to_string(), |i| format!("\"{i}\"")),
                r.metric()
            )
        })
        .collect();
    lib.sort();
    assert_eq!(lib, want, "the library's routes for the namespace");
    let blackhole = rows
        .rows()
        .iter()
        .find(|r| r.destination().to_string() == "10.2.0.0")
        .expect("the unreachable route");
    assert!(blackhole.is_reject() && blackhole.interface().is_none());
    let ifs = rnetstat::NetTable::new()
        .namespace(&ns.0)
        .expect("spec")
        .interfaces()
        .expect("interfaces");
    assert!(ifs
        .rows()
        .iter()
        .any(|i| i.name() == "br-down" && !i.is_up()));
    assert!(ifs.rows().iter().any(|i| i.name() == "br-fifteen-chr1"
        && i.ipv4().map(|a| a.0.to_string()) == Some("192.0.2.9".into())));
    let groups = rnetstat::NetTable::new()
        .namespace(&ns.0)
        .expect("spec")
        .groups()
        .expect("groups");
    assert!(groups
        .rows()
        .iter()
        .any(|g| g.interface() == "veth-a" && g.group().to_string() == "239.1.2.3"));
}

/// As an ordinary user, `-N all -r` lists our own namespace's routes and says in one hint what
/// it skipped; `-N NAME` lists nothing but the hint.
#[test]
fn an_ordinary_user_gets_their_own_namespace_and_one_hint() {
    if !ready("-N tables as an ordinary user") {
        return;
    }
    if !have("setpriv") {
        eprintln!("skipping -N tables as an ordinary user: needs setpriv");
        return;
    }
    let ns = populated("nsusr");
    // The build tree may be closed to other users: run a copy.
    let bin = common::SharedBin::new("nettab-user");
    let run = |args: &[&str]| bin.as_nobody("", args).output().expect("setpriv");
    let own = Command::new(BIN).args(["-rn"]).output().expect("run");
    let own_rows: Vec<String> = String::from_utf8_lossy(&own.stdout)
        .lines()
        .skip(2)
        .map(|l| format!("[host]       {l}"))
        .collect();
    for args in [
        &["-N", "all", "-rn"][..],
        &["-N", &ns.0, "-rn"],
        &["-N", "all", "-i"],
        &["-N", "all", "-gn"],
    ] {
        let out = run(args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{args:?}: {out:?}");
        assert!(!stdout.contains(&ns.0), "{args:?}: not entered: {stdout}");
        let hints: Vec<_> = stderr.lines().filter(|l| l.contains("skipped")).collect();
        assert_eq!(hints.len(), 1, "{args:?}: one hint: {stderr}");
        assert!(hints[0].contains("CAP_SYS_ADMIN"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        if args[1] == "all" {
            assert!(stdout.lines().any(|l| l.starts_with("[host] ")), "{stdout}");
            if args[2] == "-rn" {
                let rows: Vec<&str> = stdout.lines().skip(2).collect();
                assert_eq!(rows, own_rows, "our own routes, as -rn lists them");
            }
        } else {
            assert_eq!(stdout.lines().count(), 2, "headers only: {stdout}");
        }
    }
}
