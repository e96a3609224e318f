//! The listing core against real sockets: every socket kind the issue names, created here on
//! loopback with port 0, listed by the real binary through both sources, and checked for state,
//! addresses, owners and escaping.

mod common;

use std::io::Read;
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr as UnixAddr, UnixDatagram, UnixListener, UnixStream};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

const SOURCES: [&str; 2] = ["netlink", "proc"];

fn my_comm() -> String {
    std::fs::read_to_string("/proc/self/comm")
        .expect("comm")
        .trim_end_matches('\n')
        .to_string()
}

/// A listener, one connection to it, and both ends of that connection.
struct TcpTrio {
    listener: TcpListener,
    client: TcpStream,
    accepted: TcpStream,
}

impl TcpTrio {
    fn on(addr: &str) -> TcpTrio {
        let listener = TcpListener::bind(addr).expect("bind");
        let client = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        let (accepted, _) = listener.accept().expect("accept");
        TcpTrio {
            listener,
            client,
            accepted,
        }
    }
    fn port(&self) -> u16 {
        self.listener.local_addr().expect("addr").port()
    }
    fn client_port(&self) -> u16 {
        self.client.local_addr().expect("addr").port()
    }
}

fn list(source: &str, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["-a", "-n", "-p", "--json", "--source", source];
    args.extend_from_slice(extra);
    rnetstat(&args).json()
}

fn find<'a>(list: &'a [Value], inode: u64, source: &str) -> &'a Value {
    by_inode(list, inode).unwrap_or_else(|| panic!("inode {inode} not listed by --source {source}"))
}

#[test]
fn tcp_v4_listener_and_connected_pair_with_owner() {
    let t = TcpTrio::on("127.0.0.1:0");
    let me = u64::from(std::process::id());
    for source in SOURCES {
        let l = list(source, &["-t"]);
        let s = find(&l, inode_of(&t.listener), source);
        assert_eq!(s["proto"], "tcp");
        assert_eq!(s["state"], "LISTEN", "{source}: {s}");
        assert_eq!(s["local"]["addr"], "127.0.0.1");
        assert_eq!(s["local"]["port"], t.port());
        assert_eq!(s["remote"]["addr"], "0.0.0.0");
        assert_eq!(s["remote"]["port"], 0);
        assert_eq!(s["send_q"], 0, "a listener's Send-Q is 0 like netstat: {s}");
        let owner = &s["processes"][0];
        assert_eq!(owner["pid"], me, "{source}: {s}");
        assert_eq!(owner["name"], my_comm().as_str());
        assert_eq!(owner["fd"], t.listener.as_raw_fd());

        let c = find(&l, inode_of(&t.client), source);
        assert_eq!(c["state"], "ESTABLISHED");
        assert_eq!(c["local"]["port"], t.client_port());
        assert_eq!(c["remote"]["port"], t.port());
        assert!(owner_pids(c).contains(&me), "{c}");
        let a = find(&l, inode_of(&t.accepted), source);
        assert_eq!(a["state"], "ESTABLISHED");
        assert_eq!(a["local"]["port"], t.port());
        assert_eq!(a["remote"]["port"], t.client_port());
        assert_eq!(a["uid"], u64::from(rustix::process::geteuid().as_raw()));
    }
}

#[test]
fn tcp_v6_listener_and_connected_pair() {
    if !have_ipv6() {
        eprintln!("skipping: no IPv6 loopback on this machine");
        return;
    }
    let t = TcpTrio::on("[::1]:0");
    for source in SOURCES {
        let l = list(source, &["-t", "-6"]);
        let s = find(&l, inode_of(&t.listener), source);
        assert_eq!(s["proto"], "tcp6");
        assert_eq!(s["state"], "LISTEN");
        assert_eq!(s["local"]["addr"], "::1");
        assert_eq!(s["remote"]["addr"], "::");
        let c = find(&l, inode_of(&t.client), source);
        assert_eq!(c["state"], "ESTABLISHED");
        assert_eq!(c["remote"]["addr"], "::1");
        assert_eq!(c["remote"]["port"], t.port());
    }
}

#[test]
fn udp_unconnected_and_connected() {
    let server = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let client = UdpSocket::bind("127.0.0.1:0").expect("bind");
    client
        .connect(server.local_addr().expect("addr"))
        .expect("connect");
    client.send(b"ping").expect("send");
    // peek() returns once the datagram sits in the server's receive queue.
    let mut peeked = [0u8; 4];
    server.peek(&mut peeked).expect("datagram arrived");
    for source in SOURCES {
        let l = list(source, &["-u"]);
        let s = find(&l, inode_of(&server), source);
        assert_eq!(s["proto"], "udp");
        assert_eq!(s["state"], "UNCONN");
        assert_eq!(s["remote"]["port"], 0);
        assert!(
            s["recv_q"].as_u64().unwrap_or(0) > 0,
            "queued datagram shows in recv_q: {s}"
        );
        let c = find(&l, inode_of(&client), source);
        assert_eq!(c["state"], "ESTABLISHED");
        assert_eq!(c["remote"]["addr"], "127.0.0.1");
        assert_eq!(
            c["remote"]["port"],
            server.local_addr().expect("addr").port()
        );
    }
}

/// A SOCK_SEQPACKET unix socket bound to `path` (std has no type for it).
fn seqpacket_bound(path: &Path) -> OwnedFd {
    // SAFETY: plain socket/bind calls on a zeroed sockaddr_un whose path fits (checked).
    unsafe {
        let fd = libc::socket(libc::AF_UNIX, libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0, "socket(SOCK_SEQPACKET)");
        let fd = OwnedFd::from_raw_fd(fd);
        let mut sa: libc::sockaddr_un = std::mem::zeroed();
        sa.sun_family = libc::AF_UNIX as libc::sa_family_t;
        let bytes = path.as_os_str().as_encoded_bytes();
        assert!(bytes.len() < sa.sun_path.len());
        for (d, s) in sa.sun_path.iter_mut().zip(bytes) {
            *d = *s as libc::c_char;
        }
        let rc = libc::bind(
            fd.as_raw_fd(),
            (&sa as *const libc::sockaddr_un).cast(),
            std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t,
        );
        assert_eq!(rc, 0, "bind seqpacket");
        fd
    }
}

#[test]
fn unix_sockets_of_every_kind() {
    let dir = TempDir::new("unix");
    let spaced = dir.0.join("a b.sock");
    let newline = dir.0.join("nl\nx.sock");
    let listener = UnixListener::bind(&spaced).expect("bind spaced");
    let dgram = UnixDatagram::bind(&newline).expect("bind newline");
    let seq = seqpacket_bound(&dir.0.join("seq.sock"));
    let abstract_name = format!("rnetstat-test-{}", std::process::id());
    let abs = UnixListener::bind_addr(
        &UnixAddr::from_abstract_name(abstract_name.as_bytes()).expect("abstract addr"),
    )
    .expect("bind abstract");
    let (pa, pb) = UnixStream::pair().expect("socketpair");
    let (ia, ib) = (inode_of(&pa), inode_of(&pb));

    for source in SOURCES {
        let l = list(source, &["-x"]);
        let s = find(&l, inode_of(&listener), source);
        assert_eq!(s["proto"], "unix");
        assert_eq!(s["type"], "stream");
        assert_eq!(s["state"], "LISTEN");
        assert_eq!(
            s["path"],
            spaced.to_str().expect("utf8"),
            "{source}: a space stays in the path"
        );

        let d = find(&l, inode_of(&dgram), source);
        assert_eq!(d["type"], "dgram");
        assert_eq!(d["state"], "UNCONN");
        assert_eq!(
            d["path"],
            newline.to_str().expect("utf8"),
            "{source}: a newline stays in the path"
        );

        let q = find(&l, inode_of(&seq), source);
        assert_eq!(q["type"], "seqpacket");

        let a = find(&l, inode_of(&abs), source);
        assert_eq!(a["path"], format!("@{abstract_name}"));
        assert_eq!(a["state"], "LISTEN");

        let (sa, sb) = (find(&l, ia, source), find(&l, ib, source));
        for s in [sa, sb] {
            assert_eq!(s["state"], "ESTABLISHED");
            assert_eq!(s["path"], Value::Null);
            assert!(
                owner_pids(s).contains(&u64::from(std::process::id())),
                "{s}"
            );
        }
        if source == "netlink" {
            assert_eq!(sa["peer_inode"], ib, "socketpair ends name each other");
            assert_eq!(sb["peer_inode"], ia);
            assert_eq!(sa["uid"], u64::from(rustix::process::geteuid().as_raw()));
        } else {
            assert_eq!(sa["peer_inode"], Value::Null, "/proc/net/unix has no peer");
        }
    }
}

#[test]
fn time_wait_is_held_by_the_side_that_closed_first() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let client = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
    let (mut accepted, _) = listener.accept().expect("accept");
    let client_port = client.local_addr().expect("addr").port();
    let server_port = listener.local_addr().expect("addr").port();
    drop(client); // the client closes first...
    let mut buf = [0u8; 1];
    assert_eq!(accepted.read(&mut buf).expect("eof"), 0);
    drop(accepted); // ...so once the server closes too, the client side sits in TIME_WAIT.
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline
        && !by_local_port(&list("netlink", &["-t"]), client_port)
            .iter()
            .any(|s| s["state"] == "TIME_WAIT")
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    for source in SOURCES {
        let l = list(source, &["-t", "-o"]);
        // Towards our listener: the same local port may be in TIME_WAIT towards another
        // address, left by a test running alongside.
        let tw: Vec<_> = by_local_port(&l, client_port)
            .into_iter()
            .filter(|s| {
                s["state"] == "TIME_WAIT"
                    && s["remote"]["port"].as_u64() == Some(u64::from(server_port))
            })
            .collect();
        assert_eq!(
            tw.len(),
            1,
            "{source}: one TIME_WAIT on the client's port: {l:?}"
        );
        let s = tw[0];
        assert_eq!(s["inode"], 0);
        assert_eq!(s["processes"], Value::Array(vec![]));
        assert_eq!(s["timer"]["kind"], "timewait");
        let ms = s["timer"]["remaining_ms"].as_u64().expect("remaining_ms");
        assert!(
            ms > 0 && ms <= 60_000,
            "{source}: TIME_WAIT lasts at most 60 s: {ms}"
        );
    }
}

fn sleep_binary() -> &'static str {
    ["/usr/bin/sleep", "/bin/sleep"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("a sleep binary")
}

/// Starts `program` (sleep, perhaps under another name) holding `fd` as its descriptor 3.
fn spawn_holding(program: &Path, fd: &impl AsRawFd) -> Reaped {
    let raw = fd.as_raw_fd();
    let mut cmd = Command::new(program);
    cmd.arg("60").stdin(Stdio::null());
    // SAFETY: dup2 is async-signal-safe; it gives only this child the socket, without CLOEXEC.
    unsafe {
        cmd.pre_exec(move || {
            // dup2 onto itself keeps FD_CLOEXEC, so clear it explicitly in that case.
            let rc = if raw == 3 {
                libc::fcntl(3, libc::F_SETFD, 0)
            } else {
                libc::dup2(raw, 3)
            };
            if rc < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    Reaped(cmd.spawn().expect("spawn holder"))
}

/// Waits until `pid`'s comm differs from what it was at fork (exec done).
fn wait_for_exec(pid: u32, name: &[u8]) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(c) = std::fs::read(format!("/proc/{pid}/comm")) {
            if c.strip_suffix(b"\n").unwrap_or(&c) == name {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("process {pid} never became {name:?}");
}

#[test]
fn a_socket_shared_with_a_child_lists_both_owners() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let child = spawn_holding(Path::new(sleep_binary()), &listener);
    wait_for_exec(child.pid(), b"sleep");
    for source in SOURCES {
        let l = list(source, &["-t", "-l"]);
        let s = find(&l, inode_of(&listener), source);
        // Both holders (another test forking at that moment may briefly hold a copy too).
        let pids = owner_pids(s);
        for want in [u64::from(std::process::id()), u64::from(child.pid())] {
            assert!(pids.contains(&want), "{source}: {want} missing: {s}");
        }
        let child_entry = s["processes"]
            .as_array()
            .and_then(|a| a.iter().find(|p| p["pid"] == child.pid()))
            .expect("child listed");
        assert_eq!(child_entry["name"], "sleep");
        assert_eq!(child_entry["fd"], 3);
    }
    // The table names both, netstat-style, in one cell.
    let run = rnetstat(&["-tlnp"]);
    let line = run
        .stdout()
        .lines()
        .find(|l| {
            l.contains(&format!(
                "127.0.0.1:{} ",
                listener.local_addr().expect("a").port()
            ))
        })
        .map(str::to_string)
        .unwrap_or_else(|| panic!("listener row missing\n{}", run.explain()));
    assert!(line.contains(&format!("{}/sleep", child.pid())), "{line}");
    assert!(line.contains(&format!("{}/", std::process::id())), "{line}");
}

#[test]
fn hostile_process_names_are_escaped_in_the_table_and_exact_in_json() {
    let dir = TempDir::new("evil");
    // comm keeps the first 15 bytes of the executable's name.
    let name: &[u8] = b"ev\x1b[31m\nil\xff\x07";
    let link = dir
        .0
        .join(std::ffi::OsStr::from_encoded_bytes_unchecked_safe(name));
    std::os::unix::fs::symlink(sleep_binary(), &link).expect("symlink");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let child = spawn_holding(&link, &listener);
    wait_for_exec(child.pid(), name);

    let run = rnetstat(&["-tlnp"]);
    assert_eq!(run.code(), Some(0), "{}", run.explain());
    for b in &run.out.stdout {
        assert!(
            *b == b'\n' || !b.is_ascii_control(),
            "raw control byte {b:#x}\n{}",
            run.explain()
        );
    }
    let rows: Vec<_> = run
        .stdout()
        .lines()
        .filter(|l| l.contains(&format!("127.0.0.1:{port} ")))
        .map(str::to_string)
        .collect();
    assert_eq!(rows.len(), 1, "one line for the socket\n{}", run.explain());
    assert!(
        rows[0].contains(&format!("{}/ev\\x1b[31m\\nil\\xff\\x07", child.pid())),
        "{}",
        rows[0]
    );

    let l = list("netlink", &["-t"]);
    let s = find(&l, inode_of(&listener), "netlink");
    let entry = s["processes"]
        .as_array()
        .and_then(|a| a.iter().find(|p| p["pid"] == child.pid()))
        .expect("child listed");
    assert_eq!(
        entry["name"], "ev\u{1b}[31m\nil\u{fffd}\u{7}",
        "exact name, U+FFFD for the bad byte"
    );
}

/// `OsStr::from_encoded_bytes_unchecked` is only sound for bytes from an OsStr; on Unix any
/// bytes are a valid OsStr, which this says without unsafe.
trait FromBytes {
    fn from_encoded_bytes_unchecked_safe(b: &[u8]) -> &std::ffi::OsStr;
}

impl FromBytes for std::ffi::OsStr {
    fn from_encoded_bytes_unchecked_safe(b: &[u8]) -> &std::ffi::OsStr {
        std::os::unix::ffi::OsStrExt::from_bytes(b)
    }
}

#[test]
fn both_sources_give_the_same_records() {
    let t = TcpTrio::on("127.0.0.1:0");
    let udp = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let dir = TempDir::new("same");
    let ul = UnixListener::bind(dir.0.join("s.sock")).expect("bind");
    let inodes = [
        inode_of(&t.listener),
        inode_of(&t.client),
        inode_of(&t.accepted),
        inode_of(&udp),
        inode_of(&ul),
    ];
    let (nl, pr) = (
        list("netlink", &["-tux", "-e"]),
        list("proc", &["-tux", "-e"]),
    );
    for inode in inodes {
        let (a, b) = (find(&nl, inode, "netlink"), find(&pr, inode, "proc"));
        // Owners are compared for this process only: a child another test is forking holds a
        // copy of every descriptor between fork and exec, in one listing but not the other.
        let me = u64::from(std::process::id());
        let mine = |s: &Value| -> Vec<Value> {
            s["processes"]
                .as_array()
                .map(|ps| ps.iter().filter(|p| p["pid"] == me).cloned().collect())
                .unwrap_or_default()
        };
        assert_eq!(
            mine(a),
            mine(b),
            "owners differ for inode {inode}:\nnetlink {a}\nproc    {b}"
        );
        assert_eq!(mine(a).len(), 1, "{a}");
        let keys: &[&str] = if a["proto"] == "unix" {
            &["proto", "state", "type", "path", "inode"]
        } else {
            &[
                "proto", "state", "local", "remote", "recv_q", "send_q", "uid", "inode", "user",
            ]
        };
        for k in keys {
            assert_eq!(
                a[k], b[k],
                "{k} differs for inode {inode}:\nnetlink {a}\nproc    {b}"
            );
        }
    }
}

#[test]
fn table_matches_netstat_layout_and_keeps_one_line_per_socket() {
    let t = TcpTrio::on("127.0.0.1:0");
    let run = rnetstat(&["-tanpe"]);
    assert_eq!(run.code(), Some(0), "{}", run.explain());
    let out = run.stdout();
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some("Active Internet connections (servers and established)")
    );
    assert_eq!(
        lines.next(),
        Some("Proto Recv-Q Send-Q Local Address           Foreign Address         State       User       Inode      PID/Program name    ")
    );
    let me = std::process::id();
    for (sock, state) in [(&t.client, "ESTABLISHED"), (&t.accepted, "ESTABLISHED")] {
        let inode = inode_of(sock);
        let rows: Vec<&str> = out
            .lines()
            .filter(|l| l.split_whitespace().any(|w| w == inode.to_string()))
            .collect();
        assert_eq!(
            rows.len(),
            1,
            "inode {inode} on exactly one line\n{}",
            run.explain()
        );
        let f: Vec<&str> = rows[0].split_whitespace().collect();
        assert_eq!(f[0], "tcp");
        assert_eq!(f[5], state);
        assert!(f[8].starts_with(&format!("{me}/")), "{}", rows[0]);
    }
    let listener_row = format!("127.0.0.1:{}", t.port());
    let row = out
        .lines()
        .find(|l| l.contains(&listener_row) && l.contains("LISTEN"))
        .unwrap_or_else(|| panic!("no LISTEN row\n{}", run.explain()));
    // netstat's fixed columns: Proto at 0, Recv-Q right-aligned to 12, Local Address at 20.
    assert_eq!(&row[..4], "tcp ");
    assert_eq!(row.find(&listener_row), Some(20), "{row}");
}

#[test]
fn default_shows_non_listening_and_l_shows_only_servers() {
    let t = TcpTrio::on("127.0.0.1:0");
    let port = format!("127.0.0.1:{} ", t.port());
    let default = rnetstat(&["-tn"]);
    assert!(default
        .stdout()
        .starts_with("Active Internet connections (w/o servers)\n"));
    assert!(!default
        .stdout()
        .lines()
        .any(|l| l.contains(&port) && l.contains("LISTEN")));
    assert!(default
        .stdout()
        .lines()
        .any(|l| l.contains(&port) && l.contains("ESTABLISHED")));
    let servers = rnetstat(&["-tln"]);
    assert!(servers
        .stdout()
        .starts_with("Active Internet connections (only servers)\n"));
    assert!(servers
        .stdout()
        .lines()
        .any(|l| l.contains(&port) && l.contains("LISTEN")));
    assert!(
        !servers.stdout().lines().any(|l| l.contains("ESTABLISHED")),
        "{}",
        servers.explain()
    );
}

#[test]
fn unix_table_row_has_netstat_columns_and_escaped_path() {
    let dir = TempDir::new("unixrow");
    let path = dir.0.join("x\x1b]0;pwned\x07\ny.sock");
    let l = UnixListener::bind(&path).expect("bind");
    let inode = inode_of(&l).to_string();
    for source in SOURCES {
        let run = rnetstat(&["-xlp", "--source", source]);
        assert_eq!(run.code(), Some(0), "{}", run.explain());
        assert!(run.stdout().starts_with(
            "Active UNIX domain sockets (only servers)\nProto RefCnt Flags       Type       State         I-Node   PID/Program name     Path\n"
        ));
        let row = run
            .stdout()
            .lines()
            .find(|r| r.split_whitespace().any(|w| w == inode))
            .map(str::to_string)
            .unwrap_or_else(|| panic!("row missing\n{}", run.explain()));
        assert!(row.starts_with("unix  "), "{row}");
        assert!(
            row.contains("[ ACC ]     STREAM     LISTENING     "),
            "{row}"
        );
        assert!(
            row.ends_with("x\\x1b]0;pwned\\x07\\ny.sock"),
            "{source}: {row}"
        );
        assert!(!run.out.stdout.contains(&0x1b), "{}", run.explain());
    }
}

#[test]
fn broken_pipe_ends_quietly() {
    let mut child = Command::new(BIN)
        .args(["-an", "-c", "0.01"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    {
        let mut out = child.stdout.take().expect("stdout");
        let mut first = [0u8; 16];
        out.read_exact(&mut first).expect("some output");
    } // the reading end closes here
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("rnetstat kept running after its pipe closed");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("stderr");
    assert!(status.success(), "status {status}, stderr {err}");
    assert_eq!(err, "", "no message, no panic on a closed pipe");
}

#[test]
fn continuous_json_prints_one_array_per_line() {
    // The filter keeps each listing to this test's connection, however busy the machine is.
    let t = TcpTrio::on("127.0.0.1:0");
    let mut child = Reaped(
        Command::new(BIN)
            .args([
                "-tn",
                "--json",
                "-c",
                "0.1",
                "sport",
                "=",
                &format!(":{}", t.port()),
            ])
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn"),
    );
    let mut out = child.0.stdout.take().expect("stdout");
    let mut text = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut buf = [0u8; 4096];
    while text.iter().filter(|b| **b == b'\n').count() < 3 && Instant::now() < deadline {
        let n = out.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        text.extend_from_slice(&buf[..n]);
    }
    drop(child);
    let text = String::from_utf8(text).expect("utf8");
    let lines: Vec<&str> = text.lines().take(3).collect();
    assert_eq!(lines.len(), 3, "{text}");
    for l in lines {
        let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        let a = v.as_array().expect("an array per line");
        assert_eq!(a.len(), 1, "the one established socket on the port: {l}");
    }
}

#[test]
fn usage_errors_exit_2_with_a_message() {
    for args in [
        &["--bogus"][..],
        &["-c", "0"],
        &["--source", "carrier-pigeon"],
        &["-c", "abc"],
    ] {
        let run = rnetstat(args);
        assert_eq!(run.code(), Some(2), "{}", run.explain());
        assert!(!run.stderr().is_empty(), "{}", run.explain());
        assert!(!run.stderr().contains("panicked"), "{}", run.explain());
    }
    let help = rnetstat(&["--help"]);
    assert_eq!(help.code(), Some(0));
    assert!(help.stdout().contains("--json"));
}

#[test]
fn forced_netlink_reports_a_table_it_cannot_serve() {
    let auto = rnetstat(&["-wan", "-v"]);
    assert_eq!(auto.code(), Some(0), "{}", auto.explain());
    if !auto.stderr().contains("fallback") {
        eprintln!("skipping: this kernel serves raw sockets over sock_diag");
        return;
    }
    assert!(
        auto.stderr().contains("raw: ") && auto.stderr().contains("/net/raw"),
        "{}",
        auto.explain()
    );
    let forced = rnetstat(&["-wan", "--source", "netlink"]);
    assert_eq!(forced.code(), Some(1), "{}", forced.explain());
    assert!(
        forced
            .stderr()
            .contains("netlink sock_diag cannot list raw sockets"),
        "{}",
        forced.explain()
    );
}

#[test]
fn verbose_names_the_source_of_every_table() {
    let run = rnetstat(&["-an", "-v"]);
    assert_eq!(run.code(), Some(0), "{}", run.explain());
    for t in [
        "tcp", "tcp6", "udp", "udp6", "udplite", "udplite6", "raw", "raw6", "unix",
    ] {
        assert!(
            run.stderr()
                .lines()
                .any(|l| l.starts_with(&format!("rnetstat: {t}: "))),
            "{t} missing\n{}",
            run.explain()
        );
    }
    let quiet = rnetstat(&["-an"]);
    assert_eq!(quiet.stderr(), "", "without -v the fallback is silent");
}

/// The service name /etc/services gives `port`/tcp, if any (what the tool must show).
fn service_name(port: u16) -> Option<String> {
    let text = std::fs::read_to_string("/etc/services").unwrap_or_default();
    text.lines().find_map(|l| {
        let l = l.split('#').next().unwrap_or("");
        let mut f = l.split_whitespace();
        let (name, pp) = (f.next()?, f.next()?);
        (pp == format!("{port}/tcp")).then(|| name.to_string())
    })
}

/// The user name /etc/passwd gives `uid`, if any.
fn user_name(uid: u32) -> Option<String> {
    let text = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    text.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() > 2 && f[2] == uid.to_string()).then(|| f[0].to_string())
    })
}

#[test]
fn names_resolve_unless_numeric() {
    // Only 127.0.0.1 is looked up (the filter keeps every other address out of the listing),
    // and /etc/hosts answers it: no query leaves the machine.
    let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    let Some(localhost) = hosts.lines().find_map(|l| {
        let mut f = l.split('#').next().unwrap_or("").split_whitespace();
        (f.next() == Some("127.0.0.1"))
            .then(|| f.next().map(str::to_string))
            .flatten()
    }) else {
        eprintln!("skipping: /etc/hosts does not name 127.0.0.1");
        return;
    };
    let t = TcpTrio::on("127.0.0.1:0");
    let port = t.port();
    let filter = format!("sport = :{port} and dst 127.0.0.1");
    let shown_port = service_name(port).unwrap_or_else(|| port.to_string());
    let uid = rustix::process::geteuid().as_raw();
    let user = user_name(uid).unwrap_or_else(|| uid.to_string());

    let mut args = vec!["-te", "--"];
    args.extend(filter.split(' '));
    let run = rnetstat(&args);
    assert_eq!(run.code(), Some(0), "{}", run.explain());
    let row = run
        .stdout()
        .lines()
        .find(|l| l.contains("ESTABLISHED"))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no row\n{}", run.explain()));
    let f: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(f[3], format!("{localhost}:{shown_port}"), "{row}");
    assert!(f[4].starts_with(&format!("{localhost}:")), "{row}");
    assert_eq!(f[6], user, "{row}");

    let mut args = vec!["-ten", "--"];
    args.extend(filter.split(' '));
    let numeric = rnetstat(&args);
    let row = numeric
        .stdout()
        .lines()
        .find(|l| l.contains("ESTABLISHED"))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no row\n{}", numeric.explain()));
    let f: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(f[3], format!("127.0.0.1:{port}"), "{row}");
    assert_eq!(f[6], uid.to_string(), "{row}");

    let mut args = vec!["-t", "--json", "--"];
    args.extend(filter.split(' '));
    let l = rnetstat(&args).json();
    assert_eq!(l.len(), 1, "{l:?}");
    assert_eq!(l[0]["local"]["host"], localhost.as_str());
    assert_eq!(l[0]["local"]["addr"], "127.0.0.1");
    assert_eq!(
        l[0]["local"].get("service").is_some(),
        service_name(port).is_some()
    );
}

#[test]
fn timers_column_matches_netstat_format() {
    let t = TcpTrio::on("127.0.0.1:0");
    let run = rnetstat(&["-tlno", "--", "sport", "=", &format!(":{}", t.port())]);
    assert_eq!(run.code(), Some(0), "{}", run.explain());
    let row = run
        .stdout()
        .lines()
        .find(|l| l.contains("LISTEN"))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no row\n{}", run.explain()));
    assert!(row.ends_with(" off (0.00/0/0)"), "{row}");
    assert!(run
        .stdout()
        .lines()
        .nth(1)
        .is_some_and(|h| h.ends_with(" Timer")));
}

#[test]
fn repeated_flags_are_accepted_like_netstat() {
    let run = rnetstat(&["-anp", "-n", "-t", "-t"]);
    assert_eq!(run.code(), Some(0), "{}", run.explain());
}
