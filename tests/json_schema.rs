//! The JSON schema is a contract: these test-local types mirror the man page's JSON SCHEMA, with
//! `deny_unknown_fields`, and every object of a real listing (every socket kind, every option
//! that adds keys) must deserialize into them. A renamed, retyped or new key fails here first.

mod common;

use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};

use common::*;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Socket {
    proto: String,
    state: String,
    local: Option<Endpoint>,
    remote: Option<Endpoint>,
    recv_q: Option<u32>,
    send_q: Option<u32>,
    uid: Option<u32>,
    inode: u64,
    netns: Option<Netns>,
    processes: Option<Vec<Process>>,
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "present")]
    path: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    peer_inode: Option<Option<u64>>,
    #[serde(default, deserialize_with = "present")]
    user: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    timer: Option<Option<Timer>>,
    #[serde(default, deserialize_with = "present")]
    info: Option<Option<serde_json::Map<String, serde_json::Value>>>,
    #[serde(default, deserialize_with = "present")]
    memory: Option<Option<Memory>>,
    #[serde(default, deserialize_with = "present")]
    v6only: Option<Option<bool>>,
    #[serde(default, deserialize_with = "present")]
    mark: Option<Option<u32>>,
    #[serde(default, deserialize_with = "present")]
    cgroup: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    shutdown: Option<Option<Shutdown>>,
}

/// Tells a key that is present and null (`Some(None)`) from one that is absent (`None`).
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Endpoint {
    addr: String,
    port: u16,
    host: Option<String>,
    service: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Process {
    pid: u32,
    name: String,
    fd: u32,
    #[serde(deserialize_with = "present")]
    container: Option<Option<Container>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Container {
    runtime: String,
    id: String,
    #[serde(deserialize_with = "present")]
    pod_uid: Option<Option<String>>,
    #[serde(deserialize_with = "present")]
    name: Option<Option<String>>,
}

const RUNTIMES: [&str; 6] = [
    "docker",
    "containerd",
    "cri-o",
    "podman",
    "lxc",
    "systemd-nspawn",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Netns {
    inode: u64,
    #[serde(deserialize_with = "present")]
    name: Option<Option<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Timer {
    kind: String,
    remaining_ms: u64,
    retransmits: u32,
    probes: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Memory {
    rmem_alloc: Option<u32>,
    rcvbuf: Option<u32>,
    wmem_alloc: Option<u32>,
    sndbuf: Option<u32>,
    fwd_alloc: Option<u32>,
    wmem_queued: Option<u32>,
    optmem: Option<u32>,
    backlog: Option<u32>,
    drops: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Shutdown {
    receive: bool,
    send: bool,
}

const PROTOS: [&str; 9] = [
    "tcp", "tcp6", "udp", "udp6", "udplite", "udplite6", "raw", "raw6", "unix",
];
const STATES: [&str; 13] = [
    "ESTABLISHED",
    "SYN_SENT",
    "SYN_RECV",
    "FIN_WAIT1",
    "FIN_WAIT2",
    "TIME_WAIT",
    "CLOSE",
    "CLOSE_WAIT",
    "LAST_ACK",
    "LISTEN",
    "CLOSING",
    "NEW_SYN_RECV",
    "UNCONN",
];

fn parse(args: &[&str]) -> Vec<Socket> {
    let run = rnetstat(args);
    assert_eq!(run.code(), Some(0), "{}", run.explain());
    serde_json::from_slice(&run.out.stdout)
        .unwrap_or_else(|e| panic!("output does not match the schema: {e}\n{}", run.explain()))
}

#[test]
fn every_object_matches_the_documented_schema() {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let _c = TcpStream::connect(l.local_addr().expect("addr")).expect("connect");
    let _a = l.accept().expect("accept");
    let _u = UdpSocket::bind("127.0.0.1:0").expect("bind udp");
    let (_p1, _p2) = UnixStream::pair().expect("pair");
    let _d = UnixDatagram::unbound().expect("dgram");
    let dir = std::env::temp_dir().join(format!("rnetstat-schema-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let _ul = UnixListener::bind(dir.join("s.sock")).expect("bind unix");

    for source in ["netlink", "proc"] {
        // Every option that adds keys, at once.
        let all = parse(&[
            "-tux",
            "-apeo",
            "-n",
            "--json",
            "--info",
            "--memory",
            "--extended",
            "--source",
            source,
        ]);
        assert!(all.len() >= 6, "{source}: {all:?}");
        for s in &all {
            assert!(PROTOS.contains(&s.proto.as_str()), "{s:?}");
            assert!(STATES.contains(&s.state.as_str()), "{s:?}");
            assert!(s.processes.is_some(), "-p always gives processes: {s:?}");
            for p in s.processes.iter().flatten() {
                assert!(p.container.is_some(), "-p always gives container: {p:?}");
                if let Some(Some(c)) = &p.container {
                    assert!(RUNTIMES.contains(&c.runtime.as_str()), "{c:?}");
                    assert!(c.pod_uid.is_some() && c.name.is_some(), "{c:?}");
                }
            }
            assert!(s.netns.is_none(), "no netns key without -N: {s:?}");
            assert!(
                s.user.is_some() && s.timer.is_some(),
                "-e and -o keys: {s:?}"
            );
            assert!(s.info.is_some() && s.memory.is_some() && s.shutdown.is_some());
            if s.proto == "unix" {
                assert!(s.local.is_none() && s.remote.is_none(), "{s:?}");
                assert!(s.kind.is_some() && s.path.is_some() && s.peer_inode.is_some());
            } else {
                assert!(s.local.is_some() && s.remote.is_some(), "{s:?}");
                assert!(s.kind.is_none() && s.path.is_none() && s.peer_inode.is_none());
            }
        }
        // And without options, the optional keys are absent rather than null.
        for s in parse(&["-tux", "-an", "--json", "--source", source]) {
            assert!(
                s.processes.is_none() && s.user.is_none() && s.timer.is_none(),
                "{s:?}"
            );
            assert!(
                s.info.is_none() && s.memory.is_none() && s.cgroup.is_none(),
                "{s:?}"
            );
        }
    }
    // -N adds the netns object to every socket, in our own namespace too.
    let own = std::fs::metadata("/proc/self/ns/net")
        .map(|m| std::os::unix::fs::MetadataExt::ino(&m))
        .expect("own namespace");
    let with_netns = parse(&["-N", "/proc/self/ns/net", "-tuxapn", "--json"]);
    assert!(!with_netns.is_empty());
    for s in &with_netns {
        let ns = s
            .netns
            .as_ref()
            .unwrap_or_else(|| panic!("netns key with -N: {s:?}"));
        assert!(
            ns.name.is_some(),
            "name is present, null or a string: {s:?}"
        );
        assert_eq!(ns.inode, own, "{s:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A route of `-r --json` (man page: JSON SCHEMA, Routes, interfaces and groups).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Route {
    family: String,
    destination: String,
    prefix_len: u8,
    genmask: Option<String>,
    gateway: String,
    flags: String,
    kernel_flags: u32,
    metric: u32,
    #[serde(rename = "ref")]
    refcnt: Option<u32>,
    #[serde(rename = "use")]
    use_count: u32,
    interface: Option<String>,
    mss: Option<u32>,
    window: Option<u32>,
    irtt: Option<u32>,
    /// Only with -N.
    netns: Option<Netns>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Interface {
    name: String,
    index: u32,
    mtu: u32,
    flags: String,
    kernel_flags: u32,
    rx_ok: Option<u64>,
    rx_err: Option<u64>,
    rx_drop: Option<u64>,
    rx_overrun: Option<u64>,
    tx_ok: Option<u64>,
    tx_err: Option<u64>,
    tx_drop: Option<u64>,
    tx_overrun: Option<u64>,
    extended: Option<InterfaceExtended>,
    /// Only with -N.
    netns: Option<Netns>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct InterfaceExtended {
    rx_bytes: Option<u64>,
    tx_bytes: Option<u64>,
    rx_frame: Option<u64>,
    tx_carrier: Option<u64>,
    collisions: Option<u64>,
    link_type: u16,
    hwaddr: String,
    txqueuelen: Option<u32>,
    inet: Option<Inet>,
    inet6: Vec<Inet6>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Inet {
    address: String,
    netmask: String,
    broadcast: String,
    destination: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Inet6 {
    address: String,
    prefix_len: u8,
    scope: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Group {
    family: String,
    interface: String,
    refcnt: u32,
    group: String,
    /// Only with -N.
    netns: Option<Netns>,
}

fn parse_as<T: serde::de::DeserializeOwned>(args: &[&str]) -> Vec<T> {
    let run = rnetstat(args);
    assert_eq!(run.code(), Some(0), "{}", run.explain());
    serde_json::from_slice(&run.out.stdout)
        .unwrap_or_else(|e| panic!("output does not match the schema: {e}\n{}", run.explain()))
}

#[test]
fn route_interface_and_group_objects_match_the_documented_schema() {
    for source in ["netlink", "proc"] {
        let routes: Vec<Route> =
            parse_as(&["-r", "-A", "inet,inet6", "--json", "--source", source]);
        assert!(routes
            .iter()
            .all(|r| r.family == "inet" || r.family == "inet6"));
        assert!(routes
            .iter()
            .all(|r| (r.family == "inet") == r.genmask.is_some()));
        let ifs: Vec<Interface> = parse_as(&["-ia", "--json", "--source", source]);
        assert!(ifs.iter().any(|i| i.name == "lo"), "lo is listed");
        assert!(ifs.iter().all(|i| i.extended.is_none()));
        let ifs: Vec<Interface> = parse_as(&["-iae", "--json", "--source", source]);
        let lo = ifs.iter().find(|i| i.name == "lo").expect("lo");
        let ext = lo.extended.as_ref().expect("-e adds extended");
        assert_eq!(ext.link_type, 772, "lo is ARPHRD_LOOPBACK");
    }
    let groups: Vec<Group> = parse_as(&["-g", "-n", "--json"]);
    assert!(groups
        .iter()
        .all(|g| g.family == "inet" || g.family == "inet6"));
    assert!(
        groups.iter().all(|g| g.netns.is_none()),
        "no netns without -N"
    );
}

/// With -N every route, interface and group object gains the netns object of socket objects.
#[test]
fn tables_with_netns_carry_the_netns_object() {
    use std::os::unix::fs::MetadataExt;
    let own = std::fs::metadata("/proc/self/ns/net")
        .expect("own namespace")
        .ino();
    let n = ["-N", "/proc/self/ns/net"];
    let routes: Vec<Route> = parse_as(&[n[0], n[1], "-r", "-A", "inet,inet6", "--json"]);
    let ifs: Vec<Interface> = parse_as(&[n[0], n[1], "-iae", "--json"]);
    let groups: Vec<Group> = parse_as(&[n[0], n[1], "-gn", "--json"]);
    assert!(ifs.iter().any(|i| i.name == "lo"), "lo is listed");
    let all = routes
        .iter()
        .map(|r| &r.netns)
        .chain(ifs.iter().map(|i| &i.netns))
        .chain(groups.iter().map(|g| &g.netns));
    for netns in all {
        let ns = netns.as_ref().expect("netns key with -N");
        assert_eq!(ns.inode, own);
        assert!(ns.name.is_some(), "name is present, null or a string");
    }
}
