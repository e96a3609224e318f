//! Every statement `--help` and the man page make about privileges is checked here, by running
//! the real binary as an ordinary user (nobody, through setpriv) — with and without the one
//! capability a statement names — and comparing with what root sees.
//!
//! [`CLAIMS`] lists each statement by a phrase it contains and the test (in this file or
//! another under tests/) that checks it; `every_privilege_claim_names_its_test` fails when a
//! sentence of the help or the page speaks of root, capabilities or privileges without an entry,
//! when an entry matches no sentence any more, or when its test does not exist.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{
    describe, fork_listener, have_tool, inode_of, is_root, json_records, owner_pids, ChildSpec,
    SharedBin,
};
use serde_json::Value;

const NOBODY: u32 = 65534;

/// A privilege statement (a phrase of its sentence, as rendered text) and the test checking it.
const CLAIMS: &[(&str, &str)] = &[
    // The man page's OWNERS: the hint's reason as root, and other scan failures reported once.
    (
        "the hint then says that instead of asking for root",
        "the_hidden_owners_hint_gives_the_real_reason",
    ),
    (
        "Any other failure to read a process's descriptors",
        "a_descriptor_limit_never_loses_owners_silently",
    ),
    // NETWORK NAMESPACES: entering needs CAP_SYS_ADMIN; an ordinary user gets its own namespace
    // and one hint.
    (
        "entered it with setns(2), which needs CAP_SYS_ADMIN",
        "an_ordinary_user_lists_what_it_can_and_says_what_it_skipped",
    ),
    (
        "own namespace is read without entering anything, so an ordinary user",
        "an_ordinary_user_lists_what_it_can_and_says_what_it_skipped",
    ),
    (
        "Namespaces that cannot be entered (no privilege, or gone meanwhile)",
        "a_namespace_gone_mid_run_is_skipped_with_a_hint",
    ),
    (
        "how many processes' namespaces could not be read",
        "an_ordinary_user_lists_what_it_can_and_says_what_it_skipped",
    ),
    // NETWORK NAMESPACES: TCP tables from held sockets only with the BPF owner scan (root).
    (
        "when the BPF owner scan runs (root, see --owner-scan)",
        "a_namespace_whose_sockets_all_have_owners_is_listed_from_their_descriptors",
    ),
    // -N with netstat's other tables (tests/nettab.rs): an ordinary user gets its own
    // namespace's routes and one hint.
    (
        "Run by an ordinary user, -N all -r lists the routes of its own namespace",
        "an_ordinary_user_gets_their_own_namespace_and_one_hint",
    ),
    // METRICS: rnetstat_program_sockets counts only sockets with a visible owner.
    (
        "sockets without a visible owner (TIME_WAIT, request sockets, other users' processes",
        "program_sockets_count_only_sockets_with_a_visible_owner",
    ),
    // --help, --events; the man page's WATCHING and SECURITY.
    (
        "destruction events from the kernel as they happen (any user",
        "events_need_no_privilege_and_show_every_users_sockets",
    ),
    (
        "--events needs no privilege",
        "events_need_no_privilege_and_show_every_users_sockets",
    ),
    (
        "owners are named as -p names them, so an ordinary user sees only those among its own",
        "events_need_no_privilege_and_show_every_users_sockets",
    ),
    // --extended: marks.
    (
        "mark (needs CAP_NET_ADMIN)",
        "extended_shows_marks_only_with_cap_net_admin",
    ),
    (
        "shows socket marks only with CAP_NET_ADMIN",
        "extended_shows_marks_only_with_cap_net_admin",
    ),
    (
        "The kernel reports marks only to CAP_NET_ADMIN, and refuses a mark test",
        "fwmark_filters_see_marks_only_with_cap_net_admin",
    ),
    // -K.
    (
        "needs CAP_NET_ADMIN and a filter or state selection",
        "kill_closes_what_the_filter_selects_and_nothing_else",
    ),
    (
        "Without CAP_NET_ADMIN, or on a kernel built without CONFIG_INET_DIAG_DESTROY, -K says so",
        "kill_closes_what_the_filter_selects_and_nothing_else",
    ),
    // -K with -N: CAP_NET_ADMIN first; namespaces that cannot be entered skipped with the hint.
    (
        "CAP_NET_ADMIN is checked before any namespace is read, so without it nothing is closed",
        "kill_with_netns_closes_in_that_namespace_only_and_so_does_the_library",
    ),
    (
        "a namespace that cannot be entered (entering another namespace needs CAP_SYS_ADMIN) is \
         skipped",
        "kill_with_netns_closes_in_that_namespace_only_and_so_does_the_library",
    ),
    // The owner scan.
    (
        "the BPF task_file iterator where it can run (root",
        "verbose_says_which_owner_scan_ran",
    ),
    (
        "with a BPF iterator when run as root",
        "verbose_says_which_owner_scan_ran",
    ),
    (
        "It needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN), that is root",
        "the_iterator_runs_with_cap_bpf_and_cap_perfmon_or_cap_sys_admin",
    ),
    (
        "As root, rnetstat loads a BPF iterator program",
        "verbose_says_which_owner_scan_ran",
    ),
    (
        "It is not subject to the per-process access checks",
        "the_iterator_runs_with_cap_bpf_and_cap_perfmon_or_cap_sys_admin",
    ),
    // Listing and owners as an ordinary user.
    (
        "needs no privileges beyond reading /proc",
        "unprivileged_user_sees_every_socket_and_its_own_processes",
    ),
    (
        "must never be installed setuid or setgid",
        "unprivileged_user_sees_every_socket_and_its_own_processes",
    ),
    (
        "an ordinary user sees its own processes, root sees every process",
        "unprivileged_user_sees_every_socket_and_its_own_processes",
    ),
    (
        "spread over the cores: works for any user",
        "unprivileged_user_sees_every_socket_and_its_own_processes",
    ),
    (
        "you would have to be root to see it all",
        "unprivileged_user_sees_every_socket_and_its_own_processes",
    ),
    (
        "Root adds the owners of every process",
        "both_scans_name_the_same_owners",
    ),
];

fn skip(why: &str) -> bool {
    eprintln!("skipping: {why}");
    true
}

fn needs_root_and_setpriv() -> bool {
    !is_root() && skip("needs root (to become nobody)")
        || !have_tool("setpriv") && skip("needs setpriv (util-linux)")
}

fn port_filter(port: u16) -> Vec<String> {
    format!("sport = :{port}")
        .split(' ')
        .map(String::from)
        .collect()
}

/// Lines of a child's stdout and stderr as they arrive.
fn lines_of(child: &mut std::process::Child) -> (mpsc::Receiver<String>, mpsc::Receiver<String>) {
    let spawn_reader = |r: Box<dyn std::io::Read + Send>| {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(r).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        rx
    };
    let out = child.stdout.take().expect("stdout");
    let err = child.stderr.take().expect("stderr");
    (spawn_reader(Box::new(out)), spawn_reader(Box::new(err)))
}

/// A child killed and reaped on drop.
struct Reaped(std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `--events` as nobody: it subscribes, and sees the destruction of a socket root held (with its
/// uid, and inode as last listed, but no owner: nobody cannot see root's processes) and of one a
/// process of nobody's own held (with that owner).
#[test]
fn events_need_no_privilege_and_show_every_users_sockets() {
    if needs_root_and_setpriv() {
        return;
    }
    let bin = SharedBin::new("events");
    let own = fork_listener(&ChildSpec {
        comm: Some(b"rn-own".to_vec()),
        user: Some(NOBODY),
        ..ChildSpec::default()
    });
    let roots = TcpListener::bind("127.0.0.1:0").expect("bind");
    let root_port = roots.local_addr().expect("addr").port();
    let root_inode = inode_of(&roots);

    let mut child = Reaped(
        bin.as_nobody("", &["--events", "-n", "-p", "-t", "-v", "--json-lines"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn setpriv"),
    );
    let (out, err) = lines_of(&mut child.0);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut said = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match err.recv_timeout(left) {
            Ok(l) if l.contains("following socket destruction events") => break,
            Ok(l) => said.push(l),
            Err(e) => panic!("--events as nobody never got ready ({e}); stderr: {said:?}"),
        }
    }
    // Let the owner listing (refreshed every second) see both sockets at least once more.
    std::thread::sleep(Duration::from_millis(1200));
    drop(roots);
    let own_pid = own.pid;
    let own_port = own.port;
    drop(own); // killed: its listener is destroyed

    let mut seen: Vec<Value> = Vec::new();
    let want = |seen: &[Value], port: u16| {
        seen.iter()
            .find(|v| v["event"] == "destroy" && v["socket"]["local"]["port"] == port)
            .cloned()
    };
    while want(&seen, root_port).is_none() || want(&seen, own_port).is_none() {
        let left = deadline.saturating_duration_since(Instant::now());
        match out.recv_timeout(left) {
            Ok(line) => seen.push(serde_json::from_str(&line).expect("a JSON object per line")),
            Err(e) => panic!("missing destroy events ({e}); saw {seen:#?}; stderr {said:?}"),
        }
    }
    let root_ev = want(&seen, root_port).expect("root's");
    // The kernel's record says uid 0 for every destroyed socket; the uid shown is the one the
    // last listing saw (the same as root's own view).
    assert_eq!(root_ev["socket"]["uid"], 0, "{root_ev}");
    assert_eq!(root_ev["socket"]["inode"], root_inode, "{root_ev}");
    assert!(owner_pids(&root_ev["socket"]).is_empty(), "{root_ev}");
    let own_ev = want(&seen, own_port).expect("own");
    assert_eq!(own_ev["socket"]["uid"], NOBODY, "{own_ev}");
    assert_eq!(
        owner_pids(&own_ev["socket"]),
        [u64::try_from(own_pid).expect("pid")],
        "{own_ev}"
    );
}

fn mark_of(out: &Output, port: u16) -> Value {
    let recs = json_records(out);
    let rec = recs
        .iter()
        .find(|r| r["local"]["port"] == port)
        .unwrap_or_else(|| panic!("no listener on {port}: {}", describe("listing", out)));
    rec["mark"].clone()
}

/// A listener on 127.0.0.1:0 with SO_MARK `mark` (setting it needs root), and its port.
fn marked_listener(mark: u32) -> (socket2::Socket, u16) {
    let s =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    s.set_mark(mark).expect("SO_MARK (root)");
    s.bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .expect("bind");
    s.listen(1).expect("listen");
    let port = s
        .local_addr()
        .expect("addr")
        .as_socket()
        .expect("inet")
        .port();
    (s, port)
}

/// The kernel sends a socket's mark only to CAP_NET_ADMIN: nobody sees null where root and
/// nobody-with-CAP_NET_ADMIN see the mark.
#[test]
fn extended_shows_marks_only_with_cap_net_admin() {
    if needs_root_and_setpriv() {
        return;
    }
    let (_s, port) = marked_listener(0x1234);
    let filter = port_filter(port);
    let mut args = vec!["-tln", "--extended", "--json"];
    args.extend(filter.iter().map(String::as_str));

    let root = Command::new(common::BIN).args(&args).output().expect("run");
    assert_eq!(mark_of(&root, port), 0x1234);
    let bin = SharedBin::new("mark");
    let nobody = bin.as_nobody("", &args).output().expect("setpriv");
    assert!(nobody.status.success(), "{}", describe("nobody", &nobody));
    assert_eq!(mark_of(&nobody, port), Value::Null);
    let admin = bin
        .as_nobody("+net_admin", &args)
        .output()
        .expect("setpriv");
    assert!(admin.status.success(), "{}", describe("net_admin", &admin));
    assert_eq!(mark_of(&admin, port), 0x1234);
}

/// A `fwmark` test: root's dump runs it in the kernel and matches the mark; nobody's dump cannot
/// carry it (the kernel refuses the bytecode), sees no mark, and counts it as 0, as ss does.
#[test]
fn fwmark_filters_see_marks_only_with_cap_net_admin() {
    if needs_root_and_setpriv() {
        return;
    }
    let (_s, port) = marked_listener(0x1234);
    let bin = SharedBin::new("fwmark");
    let listed = |out: &Output| -> usize {
        assert!(out.status.success(), "{}", describe("fwmark", out));
        json_records(out)
            .iter()
            .filter(|r| r["local"]["port"] == port)
            .count()
    };
    let args = |mark: &str| -> Vec<String> {
        format!("-tln --json fwmark = {mark} and sport = :{port}")
            .split(' ')
            .map(String::from)
            .collect()
    };
    let run_root = |mark: &str| {
        Command::new(common::BIN)
            .args(args(mark))
            .output()
            .expect("run")
    };
    let run_nobody = |mark: &str| {
        let a = args(mark);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        bin.as_nobody("", &a).output().expect("setpriv")
    };
    assert_eq!(listed(&run_root("0x1234")), 1);
    assert_eq!(listed(&run_root("0")), 0);
    assert_eq!(listed(&run_nobody("0x1234")), 0);
    assert_eq!(listed(&run_nobody("0")), 1);
}

/// What the iterator needs: CAP_BPF with CAP_PERFMON, or CAP_SYS_ADMIN — not the root uid, and
/// neither capability alone. With them, nobody names the owner of a socket root holds.
#[test]
fn the_iterator_runs_with_cap_bpf_and_cap_perfmon_or_cap_sys_admin() {
    if needs_root_and_setpriv() {
        return;
    }
    let root_run = Command::new(common::BIN)
        .args(["-tlnp", "--owner-scan", "bpf"])
        .output()
        .expect("run");
    if !root_run.status.success() {
        eprintln!(
            "skipping: the BPF iterator does not run here even as root: {}",
            String::from_utf8_lossy(&root_run.stderr)
        );
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let filter = port_filter(port);
    let mut args = vec!["-tlnp", "--json", "--owner-scan", "bpf"];
    args.extend(filter.iter().map(String::as_str));
    let bin = SharedBin::new("bpf-caps");
    let me = u64::from(std::process::id());
    for caps in ["+bpf,+perfmon", "+sys_admin"] {
        let out = bin.as_nobody(caps, &args).output().expect("setpriv");
        assert!(out.status.success(), "{}", describe(caps, &out));
        let recs = json_records(&out);
        assert_eq!(recs.len(), 1, "{}", describe(caps, &out));
        assert!(
            owner_pids(&recs[0]).contains(&me),
            "{}",
            describe(caps, &out)
        );
    }
    // /proc refuses nobody root's descriptors: no owner that way.
    let mut proc_args = vec!["-tlnp", "--json", "--owner-scan", "proc"];
    proc_args.extend(filter.iter().map(String::as_str));
    let out = bin.as_nobody("", &proc_args).output().expect("setpriv");
    let recs = json_records(&out);
    assert_eq!(recs.len(), 1, "{}", describe("proc scan", &out));
    assert!(
        owner_pids(&recs[0]).is_empty(),
        "{}",
        describe("proc scan", &out)
    );
    for caps in ["+bpf", "+perfmon", ""] {
        let out = bin.as_nobody(caps, &args).output().expect("setpriv");
        assert_eq!(out.status.code(), Some(1), "{}", describe(caps, &out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("needs CAP_BPF and CAP_PERFMON"),
            "{}",
            describe(caps, &out)
        );
    }
}

/// The sentences of `text` (whitespace collapsed).
fn sentences(text: &str) -> Vec<String> {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = flat.chars().peekable();
    while let Some(c) = chars.next() {
        cur.push(c);
        let ends = matches!(c, '.' | ';') && chars.peek().is_none_or(|n| *n == ' ');
        if ends {
            out.push(std::mem::take(&mut cur).trim().to_string());
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// Whether a sentence speaks of privileges: root (the user, not `--proc-root`), a capability,
/// privileges, setuid, what any or an ordinary user may do.
fn speaks_of_privilege(s: &str) -> bool {
    let lower = s.to_lowercase();
    let words = ["privilege", "setuid", "any user", "ordinary user"];
    if s.contains("CAP_") || words.iter().any(|w| lower.contains(w)) {
        return true;
    }
    // Not the user: the root of a cgroup or file system tree.
    let lower = ["root cgroup", "system's root", "cgroup root"]
        .iter()
        .fold(lower, |l, phrase| l.replace(phrase, ""));
    let b = lower.as_bytes();
    lower.match_indices("root").any(|(i, _)| {
        let before = i.checked_sub(1).map(|j| b[j]);
        let after = b.get(i + 4).copied();
        let word = |c: Option<u8>| {
            c.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'/')
        };
        !word(before) && !word(after)
    })
}

/// The help text of every option, value and paragraph, one string each (so a sentence never
/// runs from one option into the next).
fn help_paragraphs() -> Vec<String> {
    let cmd = rnetstat::cli::command();
    let mut texts: Vec<String> = [
        cmd.get_about(),
        cmd.get_long_about(),
        cmd.get_after_help(),
        cmd.get_after_long_help(),
    ]
    .into_iter()
    .flatten()
    .map(|s| s.to_string())
    .collect();
    for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        texts.extend(arg.get_help().map(|s| s.to_string()));
        texts.extend(arg.get_long_help().map(|s| s.to_string()));
        if !arg.is_hide_possible_values_set() {
            for v in arg.get_possible_values() {
                texts.extend(v.get_help().map(|h| format!("{}: {h}", v.get_name())));
            }
        }
    }
    texts
}

/// The man page as plain text, without hyphenation and on very long lines.
fn man_text() -> Option<String> {
    if !have_tool("groff") {
        return None;
    }
    let page = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("man/rnetstat.1");
    let out = Command::new("groff")
        .args(["-man", "-Tutf8", "-P", "-cbou", "-rHY=0", "-rLL=2000n"])
        .arg(&page)
        .output()
        .expect("run groff");
    assert!(out.status.success(), "{}", describe("groff", &out));
    // groff's typographic hyphens and quotes, as plain ASCII.
    Some(
        String::from_utf8_lossy(&out.stdout)
            .replace(['\u{2010}', '\u{2212}'], "-")
            .replace(['\u{2018}', '\u{2019}'], "'"),
    )
}

/// Names of the `#[test]` functions under tests/.
fn test_names() -> BTreeSet<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut names = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("tests/") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read a test file");
        let mut after_test = false;
        for line in text.lines().map(str::trim) {
            if line == "#[test]" {
                after_test = true;
            } else if after_test {
                if let Some(rest) = line.strip_prefix("fn ") {
                    names.extend(rest.split('(').next().map(str::to_string));
                    after_test = false;
                }
            }
        }
    }
    names
}

#[test]
fn every_privilege_claim_names_its_test() {
    let mut claims: Vec<(String, String)> = Vec::new(); // (where, sentence)
    for p in help_paragraphs() {
        for s in sentences(&p) {
            if speaks_of_privilege(&s) {
                claims.push(("--help".into(), s));
            }
        }
    }
    match man_text() {
        Some(text) => {
            for s in sentences(&text) {
                if speaks_of_privilege(&s) {
                    claims.push(("man/rnetstat.1".into(), s));
                }
            }
        }
        None => eprintln!("skipping the man page's claims: groff is not installed (groff-base)"),
    }
    assert!(
        claims.iter().any(|(w, _)| w == "--help"),
        "found no privilege statement in --help at all"
    );
    let unregistered: Vec<String> = claims
        .iter()
        .filter(|(_, s)| !CLAIMS.iter().any(|(phrase, _)| s.contains(phrase)))
        .map(|(w, s)| format!("{w}: {s}"))
        .collect();
    assert!(
        unregistered.is_empty(),
        "privilege statements without a test (add a test and an entry to CLAIMS in {}):\n{}",
        file!(),
        unregistered.join("\n")
    );
    let checking_man = have_tool("groff");
    for (phrase, _) in CLAIMS {
        let found = claims.iter().any(|(_, s)| s.contains(phrase));
        assert!(
            found || !checking_man,
            "CLAIMS lists {phrase:?}, which no sentence of --help or the man page says any more"
        );
    }
    let tests = test_names();
    let missing: Vec<_> = CLAIMS
        .iter()
        .map(|(_, t)| *t)
        .filter(|t| !tests.contains(*t))
        .collect();
    assert!(
        missing.is_empty(),
        "CLAIMS names tests that do not exist under tests/: {missing:?}"
    );
}

#[test]
fn sentences_and_the_privilege_test_read_text_as_meant() {
    assert_eq!(
        sentences("One (root). Two; three\n  four."),
        ["One (root).", "Two;", "three four."]
    );
    assert!(speaks_of_privilege("that is root; a kernel"));
    assert!(speaks_of_privilege("needs CAP_NET_ADMIN"));
    assert!(!speaks_of_privilege("--proc-root left at /proc"));
    assert!(speaks_of_privilege("Root adds"));
    assert!(speaks_of_privilege("(any user: every socket)"));
    assert!(!speaks_of_privilege(
        "and / for the root cgroup, which matches nothing"
    ));
}
