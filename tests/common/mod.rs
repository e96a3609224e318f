//! Shared helpers for integration tests: run the real binary, parse its JSON, spawn and reap
//! helper processes. On failure every assertion message carries the command and its output.

#![allow(dead_code)]

use std::process::{Child, Command, Output};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_rnetstat");

/// The result of one run of the binary, with everything needed to explain a failure.
pub struct Run {
    pub args: Vec<String>,
    pub out: Output,
}

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }

    pub fn code(&self) -> Option<i32> {
        self.out.status.code()
    }

    /// Context for assertion messages.
    pub fn explain(&self) -> String {
        format!(
            "command: rnetstat {}\nstatus: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.args.join(" "),
            self.out.status,
            self.stdout(),
            self.stderr()
        )
    }

    /// Asserts exit 0 and parses stdout as the JSON array of sockets.
    pub fn json(&self) -> Vec<Value> {
        assert_eq!(self.code(), Some(0), "{}", self.explain());
        let v: Value = serde_json::from_slice(&self.out.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{}", self.explain()));
        match v {
            Value::Array(a) => a,
            _ => panic!("JSON is not an array\n{}", self.explain()),
        }
    }
}

/// Runs the binary with `args`.
pub fn rnetstat(args: &[&str]) -> Run {
    let out = Command::new(BIN)
        .args(args)
        .output()
        .expect("the rnetstat binary runs");
    Run {
        args: args.iter().map(|s| s.to_string()).collect(),
        out,
    }
}

pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// A child process killed and reaped when dropped, so no test leaves one behind.
pub struct Reaped(pub Child);

impl Reaped {
    pub fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The sockets in a JSON listing whose local port is `port`.
pub fn by_local_port(list: &[Value], port: u16) -> Vec<&Value> {
    list.iter()
        .filter(|s| s["local"]["port"].as_u64() == Some(u64::from(port)))
        .collect()
}

/// The socket with this inode, if listed.
pub fn by_inode(list: &[Value], inode: u64) -> Option<&Value> {
    list.iter().find(|s| s["inode"].as_u64() == Some(inode))
}

/// The inode of a socket descriptor this process holds.
pub fn inode_of(fd: &impl std::os::fd::AsRawFd) -> u64 {
    let link = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).expect("fd link");
    let s = link.to_string_lossy().into_owned();
    s.strip_prefix("socket:[")
        .and_then(|r| r.strip_suffix(']'))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{s} is not a socket link"))
}

/// The pids listed as owners of a JSON socket.
pub fn owner_pids(sock: &Value) -> Vec<u64> {
    sock["processes"]
        .as_array()
        .map(|a| a.iter().filter_map(|p| p["pid"].as_u64()).collect())
        .unwrap_or_default()
}

/// Whether the kernel serves UDP-Lite over this machine's sock_diag / proc.
pub fn have_ipv6() -> bool {
    std::net::UdpSocket::bind("[::1]:0").is_ok()
}
