//! Names for numbers: hosts by reverse lookup, ports by /etc/services, users by /etc/passwd.
//!
//! Every answer is cached. Host lookups go through the system resolver (getnameinfo, so
//! /etc/hosts and nsswitch order apply) on a worker thread with a bounded *total* time: a dead DNS
//! server costs at most that budget, after which the rest of the listing is numeric.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// What to leave numeric.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NumericMode {
    pub hosts: bool,
    pub ports: bool,
    pub users: bool,
}

/// The default total time allowed for reverse host lookups in one run.
pub const DEFAULT_LOOKUP_BUDGET: Duration = Duration::from_secs(3);

pub struct Names {
    mode: NumericMode,
    hosts: HashMap<IpAddr, Option<String>>,
    services: Option<HashMap<(u16, &'static str), String>>,
    users: Option<HashMap<u32, String>>,
    resolver: Option<Resolver>,
    budget_left: Duration,
    /// Set once the lookup budget ran out (the caller may say so on stderr).
    pub lookups_timed_out: bool,
}

struct Resolver {
    ask: mpsc::Sender<IpAddr>,
    answer: mpsc::Receiver<(IpAddr, Option<String>)>,
}

impl Names {
    pub fn new(mode: NumericMode, budget: Duration) -> Names {
        Names {
            mode,
            hosts: HashMap::new(),
            services: None,
            users: None,
            resolver: None,
            budget_left: budget,
            lookups_timed_out: false,
        }
    }

    pub fn mode(&self) -> NumericMode {
        self.mode
    }

    /// The host name of `ip`, or `None` when numeric, unspecified or unresolvable.
    pub fn host(&mut self, ip: IpAddr) -> Option<&str> {
        if self.mode.hosts || ip.is_unspecified() {
            return None;
        }
        if !self.hosts.contains_key(&ip) {
            let name = self.lookup(ip);
            self.hosts.insert(ip, name);
        }
        self.hosts.get(&ip).and_then(|n| n.as_deref())
    }

    fn lookup(&mut self, ip: IpAddr) -> Option<String> {
        if self.lookups_timed_out || self.budget_left.is_zero() {
            self.lookups_timed_out = true;
            return None;
        }
        let resolver = self.resolver.get_or_insert_with(Resolver::spawn);
        resolver.ask.send(ip).ok()?;
        let start = Instant::now();
        loop {
            let left = self.budget_left.saturating_sub(start.elapsed());
            match resolver.answer.recv_timeout(left) {
                Ok((answered, name)) if answered == ip => {
                    self.budget_left = self.budget_left.saturating_sub(start.elapsed());
                    return name;
                }
                Ok(_) => continue, // a late answer to an earlier, abandoned question
                Err(_) => {
                    self.budget_left = Duration::ZERO;
                    self.lookups_timed_out = true;
                    return None;
                }
            }
        }
    }

    /// The service name of `port` for `proto` ("tcp" or "udp"), from /etc/services.
    pub fn service(&mut self, port: u16, proto: &'static str) -> Option<&str> {
        if self.mode.ports || port == 0 {
            return None;
        }
        self.services
            .get_or_insert_with(|| {
                std::fs::read("/etc/services")
                    .map(|t| parse_services(&t))
                    .unwrap_or_default()
            })
            .get(&(port, proto))
            .map(String::as_str)
    }

    /// The user name of `uid`, from /etc/passwd.
    pub fn user(&mut self, uid: u32) -> Option<&str> {
        if self.mode.users {
            return None;
        }
        self.users
            .get_or_insert_with(|| {
                std::fs::read("/etc/passwd")
                    .map(|t| parse_passwd(&t))
                    .unwrap_or_default()
            })
            .get(&uid)
            .map(String::as_str)
    }
}

impl Resolver {
    fn spawn() -> Resolver {
        let (ask, questions) = mpsc::channel::<IpAddr>();
        let (answers, answer) = mpsc::channel();
        std::thread::spawn(move || {
            for ip in questions {
                if answers.send((ip, reverse_lookup(ip))).is_err() {
                    break;
                }
            }
        });
        Resolver { ask, answer }
    }
}

/// getnameinfo(NI_NAMEREQD): the name, or `None`.
fn reverse_lookup(ip: IpAddr) -> Option<String> {
    let mut host = [0 as libc::c_char; 1025];
    // SAFETY: the sockaddr is fully initialised for its family and its length is passed; `host`
    // is a writable buffer of the length given, which getnameinfo NUL-terminates on success.
    let rc = unsafe {
        match ip {
            IpAddr::V4(v4) => {
                let mut sa: libc::sockaddr_in = std::mem::zeroed();
                sa.sin_family = libc::AF_INET as libc::sa_family_t;
                sa.sin_addr.s_addr = u32::from_ne_bytes(v4.octets());
                libc::getnameinfo(
                    (&sa as *const libc::sockaddr_in).cast(),
                    std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
                    host.as_mut_ptr(),
                    host.len() as libc::socklen_t,
                    std::ptr::null_mut(),
                    0,
                    libc::NI_NAMEREQD,
                )
            }
            IpAddr::V6(v6) => {
                let mut sa: libc::sockaddr_in6 = std::mem::zeroed();
                sa.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                sa.sin6_addr.s6_addr = v6.octets();
                libc::getnameinfo(
                    (&sa as *const libc::sockaddr_in6).cast(),
                    std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
                    host.as_mut_ptr(),
                    host.len() as libc::socklen_t,
                    std::ptr::null_mut(),
                    0,
                    libc::NI_NAMEREQD,
                )
            }
        }
    };
    if rc != 0 {
        return None;
    }
    // SAFETY: on success getnameinfo wrote a NUL-terminated string into `host`.
    let name = unsafe { std::ffi::CStr::from_ptr(host.as_ptr()) };
    Some(name.to_string_lossy().into_owned())
}

/// port/proto → the first name /etc/services gives it.
fn parse_services(text: &[u8]) -> HashMap<(u16, &'static str), String> {
    let mut map = HashMap::new();
    for e in crate::sysdb::services(&String::from_utf8_lossy(text)) {
        if let Some(name) = e.names.first() {
            map.entry((e.port, e.proto))
                .or_insert_with(|| name.to_string());
        }
    }
    map
}

/// uid → the first name /etc/passwd gives it.
fn parse_passwd(text: &[u8]) -> HashMap<u32, String> {
    let mut map = HashMap::new();
    for (name, uid) in crate::sysdb::passwd(&String::from_utf8_lossy(text)) {
        map.entry(uid).or_insert_with(|| name.to_string());
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_file_maps_port_and_proto() {
        let m = parse_services(
            b"# c\nssh\t\t22/tcp\t\t\t# SSH\nhttp 80/tcp www\ndomain 53/udp\nbad x/tcp\n",
        );
        assert_eq!(m.get(&(22, "tcp")).map(String::as_str), Some("ssh"));
        assert_eq!(m.get(&(80, "tcp")).map(String::as_str), Some("http"));
        assert_eq!(m.get(&(53, "udp")).map(String::as_str), Some("domain"));
        assert_eq!(m.get(&(53, "tcp")), None);
    }

    #[test]
    fn passwd_maps_uid_to_first_name() {
        let m = parse_passwd(b"root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\ntoor:x:0:0::/:/bin/sh\n");
        assert_eq!(m.get(&0).map(String::as_str), Some("root"));
        assert_eq!(m.get(&65534).map(String::as_str), Some("nobody"));
    }

    #[test]
    fn loopback_resolves_through_etc_hosts() {
        // Only where /etc/hosts answers: otherwise the lookup would leave the machine.
        let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
        let named = hosts.lines().any(|l| {
            let mut f = l.split('#').next().unwrap_or("").split_whitespace();
            f.next() == Some("127.0.0.1") && f.next().is_some()
        });
        if !named {
            eprintln!("skipping: /etc/hosts does not name 127.0.0.1");
            return;
        }
        let mut n = Names::new(NumericMode::default(), DEFAULT_LOOKUP_BUDGET);
        assert!(n.host("127.0.0.1".parse().expect("ip")).is_some());
        assert_eq!(n.host("0.0.0.0".parse().expect("ip")), None);
    }

    #[test]
    fn a_zero_budget_gives_numbers_and_says_so() {
        // With no budget left nothing is even asked, so no query leaves the machine.
        let mut n = Names::new(NumericMode::default(), Duration::ZERO);
        assert_eq!(n.host("127.0.0.1".parse().expect("ip")), None);
        assert!(n.lookups_timed_out);
    }
}
