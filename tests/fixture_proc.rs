//! Fault tests over a /proc tree the test builds (via `--proc-root`): the rest of the world the
//! tool reads, made hostile on purpose — truncated files, lines missing fields, values too big
//! for their type, a last line without its newline, processes that vanish between readdir and
//! open, a descriptor directory that is not one. The listing must go on, list what is sound,
//! and say on stderr what it skipped; nothing may panic.

mod common;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::BIN;

/// A temporary directory removed on drop.
struct Tree(PathBuf);

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn write(path: &Path, text: &[u8]) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write fixture");
}

const TCP_HEADER: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when \
retrnsmt   uid  timeout inode\n";

/// One /proc/net/tcp line: local port, remote (addr hex, port), state, queues, uid, inode.
fn tcp_line(
    slot: u32,
    lport: u16,
    remote: (&str, u16),
    st: &str,
    queues: &str,
    inode: &str,
) -> String {
    format!(
        "{slot:4}: 0100007F:{lport:04X} {}:{:04X} {st} {queues} 00:00000000 00000000     0        0 \
         {inode} 1 0000000000000000 100 0 0 10 0",
        remote.0, remote.1
    )
}

/// Builds the tree; returns it, the unix socket whose file stands in for process 100's socket,
/// and that socket file's inode (written into net/tcp, so the owner scan finds it).
fn build(test: &str) -> (Tree, std::os::unix::net::UnixListener, u64) {
    let root = std::env::temp_dir().join(format!(
        "rnetstat-fixture-proc-{}-{test}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("fixture root");
    let tree = Tree(root.clone());
    // statx follows /proc/PID/fd/N to the file: a unix socket file is S_IFSOCK, so a link to
    // one makes a descriptor the scan counts, with that file's inode number.
    let sock_path = root.join("stand-in.sock");
    let sock = std::os::unix::net::UnixListener::bind(&sock_path).expect("bind stand-in");
    let inode = std::fs::metadata(&sock_path).expect("stat").ino();

    let mut tcp = String::from(TCP_HEADER);
    // Sound: a listener on 8080, owned by process 100 through the stand-in.
    tcp += &tcp_line(
        0,
        8080,
        ("00000000", 0),
        "0A",
        "00000000:00000000",
        &inode.to_string(),
    );
    tcp.push('\n');
    // Missing fields: cut after the state.
    tcp += "   1: 0100007F:1F91 00000000:0000 0A\n";
    // Huge value: an inode beyond u64.
    tcp += &tcp_line(
        2,
        8082,
        ("0100007F", 54321),
        "01",
        "00000000:00000000",
        "99999999999999999999999",
    );
    tcp.push('\n');
    // The kernel's −1 in tx_queue (a socket being torn down): shown as '-', never 4294967295.
    tcp += &tcp_line(
        3,
        8083,
        ("0100007F", 54322),
        "01",
        "FFFFFFFF:00000000",
        "4242",
    );
    tcp.push('\n');
    // The last line, complete but without its newline.
    tcp += &tcp_line(4, 8084, ("00000000", 0), "0A", "00000000:00000000", "4243");
    write(&root.join("net/tcp"), tcp.as_bytes());
    // Truncated mid-line, as a file cut by a crash or a short read would be.
    write(
        &root.join("net/tcp6"),
        format!("{TCP_HEADER}   0: 00000000000000000000000001000000:1F9").as_bytes(),
    );

    // Process 100: a descriptor on the stand-in, a name.
    std::fs::create_dir_all(root.join("100/fd")).expect("mkdir");
    std::os::unix::fs::symlink(&sock_path, root.join("100/fd/3")).expect("symlink");
    write(&root.join("100/comm"), b"fixture-srv\n");
    // Process 200 vanished between readdir and open: its directory has no fd/ any more.
    std::fs::create_dir_all(root.join("200")).expect("mkdir");
    // Process 300's fd is not a directory: a failure that is not "gone", to be reported.
    write(&root.join("300/fd"), b"");
    // Process 400 closed its descriptor between readdir and statx: a dangling link.
    std::fs::create_dir_all(root.join("400/fd")).expect("mkdir");
    std::os::unix::fs::symlink(root.join("gone"), root.join("400/fd/5")).expect("symlink");
    (tree, sock, inode)
}

fn run(root: &Path, extra: &[&str]) -> (std::process::Output, String) {
    let mut args = vec![
        "-tanp",
        "--source",
        "proc",
        "--owner-scan",
        "proc",
        "--proc-root",
    ];
    let root_s = root.to_str().expect("utf-8 temp path");
    args.push(root_s);
    args.extend_from_slice(extra);
    let out = Command::new(BIN).args(&args).output().expect("runs");
    let explain = format!(
        "command: rnetstat {}\nstatus: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out, explain)
}

#[test]
fn a_hostile_proc_tree_is_listed_as_far_as_it_is_sound() {
    let (tree, _sock, _inode) = build("hostile");
    let (out, why) = run(&tree.0, &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // What is sound is listed, with its owner found through the fixture's fd link.
    let row = |port: &str| {
        stdout
            .lines()
            .find(|l| l.contains(&format!("127.0.0.1:{port} ")))
    };
    let listener = row("8080").unwrap_or_else(|| panic!("the sound line is listed\n{why}"));
    assert!(listener.contains("100/fixture-srv"), "{why}");
    assert!(
        row("8084").is_some(),
        "the last line without a newline\n{why}"
    );
    let torn = row("8083").unwrap_or_else(|| panic!("the −1 queue line\n{why}"));
    assert!(!torn.contains("4294967295"), "{why}");
    assert!(
        torn.split_whitespace().nth(2) == Some("-"),
        "Send-Q is '-'\n{why}"
    );
    assert!(row("8081").is_none() && row("8082").is_none(), "{why}");
    // What is not is said, once each: two bad lines in tcp, the truncated one in tcp6, and the
    // process whose descriptors could not be read (not the vanished ones).
    assert_eq!(stderr.matches("skipped a record").count(), 3, "{why}");
    assert!(
        stderr.contains("the descriptors of 1 process under ")
            && stderr.contains("Not a directory"),
        "{why}"
    );
    assert_eq!(out.status.code(), Some(0), "without an owner filter\n{why}");
    // With an owner filter, an incomplete scan makes the answer unreliable: exit 1.
    let (out, why) = run(&tree.0, &["--pid", "100"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("127.0.0.1:8080 "),
        "{why}"
    );
    assert_eq!(out.status.code(), Some(1), "{why}");
}

/// Errors name the --proc-root given, not "/proc".
#[test]
fn errors_name_the_proc_root_given() {
    let (tree, _sock, _inode) = build("name");
    let missing = tree.0.join("no-such-root");
    let (out, why) = run(&missing, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{why}");
    assert!(stderr.contains(missing.to_str().expect("utf-8")), "{why}");
    assert!(!stderr.contains("under /proc:"), "{why}");
}

/// A tree with no process at all is not a proc file system with no owners: it says so.
#[test]
fn a_tree_without_processes_is_not_trusted_for_owners() {
    let (tree, _sock, _inode) = build("tree");
    for pid in ["100", "200", "300", "400"] {
        let p = tree.0.join(pid);
        let _ = std::fs::remove_dir_all(&p).or_else(|_| std::fs::remove_file(&p));
    }
    let (out, why) = run(&tree.0, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("lists no processes (not a proc file system"),
        "{why}"
    );
}

/// Statistics over truncated and inconsistent counter files: an error naming the file, or the
/// counters that are sound — never a panic.
#[test]
fn statistics_over_broken_counter_files_do_not_panic() {
    let (tree, _sock, _inode) = build("over");
    for (name, text) in [
        ("snmp", &b"Tcp: RtoAlgorithm RtoMin\nTcp: 1"[..]),
        ("snmp", b"Ip: Forwarding\nIp: 99999999999999999999999\n"),
        ("snmp", b"Udp: InDatagrams\n"),
        ("netstat", b"TcpExt: SyncookiesSent"),
    ] {
        write(&tree.0.join("net").join(name), text);
        let out = Command::new(BIN)
            .args(["-s", "--proc-root"])
            .arg(&tree.0)
            .output()
            .expect("runs");
        let code = out.status.code();
        assert!(
            matches!(code, Some(0) | Some(1)),
            "{name} {text:?}: {:?}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        if code == Some(1) {
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(stderr.contains(tree.0.to_str().expect("utf-8")), "{stderr}");
        }
    }
}
