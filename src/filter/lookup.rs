//! Name lookups a filter needs (service names for ports, user names for `--uid`), behind a trait
//! so the parser stays free of I/O: the caller reads /etc/services and /etc/passwd and hands the
//! text to [`SystemTables`], and tests hand in their own text.

use std::collections::HashMap;

/// The port a service name stands for, per protocol (from /etc/services).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServicePorts {
    pub tcp: Option<u16>,
    pub udp: Option<u16>,
}

impl ServicePorts {
    pub fn is_empty(&self) -> bool {
        self.tcp.is_none() && self.udp.is_none()
    }

    /// The port for a protocol ("tcp" or anything else meaning udp, as
    /// [`crate::model::InetProto::service_proto`] says); a name listed for only one protocol
    /// applies to both, the way ss resolves it once for the whole filter.
    pub fn for_proto(&self, proto: &str) -> Option<u16> {
        let (own, other) = if proto == "tcp" {
            (self.tcp, self.udp)
        } else {
            (self.udp, self.tcp)
        };
        own.or(other)
    }
}

/// Resolves names a filter may contain.
pub trait Lookup {
    /// The ports of service `name` (an /etc/services name or alias).
    fn service(&self, name: &str) -> ServicePorts;
    /// The uid of user `name`.
    fn user(&self, name: &str) -> Option<u32>;
    /// The index of network interface `name` (`dev NAME`). None by default.
    fn interface(&self, _name: &str) -> Option<u32> {
        None
    }
    /// The cgroup v2 id of `path` (`cgroup PATH`), or why there is none.
    fn cgroup_id(&self, path: &str) -> Result<u64, String> {
        Err(format!("cgroup '{path}' cannot be looked up here"))
    }
    /// The kernel's ephemeral port range (`autobound`), as ss reads it from
    /// /proc/sys/net/ipv4/ip_local_port_range; ss's own default, 1024-4999, when unknown.
    fn ephemeral_ports(&self) -> (u16, u16) {
        (1024, 4999)
    }
}

/// Resolves nothing: every name is unknown (tests, where /etc must not matter).
#[cfg(test)]
#[derive(Debug, Clone, Copy, Default)]
pub struct NoLookup;

#[cfg(test)]
impl Lookup for NoLookup {
    fn service(&self, _name: &str) -> ServicePorts {
        ServicePorts::default()
    }
    fn user(&self, _name: &str) -> Option<u32> {
        None
    }
}

/// Service and user tables parsed from the text of /etc/services and /etc/passwd.
#[derive(Debug, Clone, Default)]
pub struct SystemTables {
    services: HashMap<String, ServicePorts>,
    users: HashMap<String, u32>,
}

impl SystemTables {
    /// Parses `services` (`name port/proto [aliases...] [# comment]`) and `passwd`
    /// (`name:x:uid:...`). Malformed lines are skipped; the first entry for a name wins.
    pub fn from_text(services: &[u8], passwd: &[u8]) -> SystemTables {
        let mut t = SystemTables::default();
        for entry in crate::sysdb::services(&String::from_utf8_lossy(services)) {
            for n in entry.names {
                let e = t.services.entry(n.to_string()).or_default();
                let slot = if entry.proto == "tcp" {
                    &mut e.tcp
                } else {
                    &mut e.udp
                };
                slot.get_or_insert(entry.port);
            }
        }
        for (name, uid) in crate::sysdb::passwd(&String::from_utf8_lossy(passwd)) {
            t.users.entry(name.to_string()).or_insert(uid);
        }
        t
    }
}

impl Lookup for SystemTables {
    fn service(&self, name: &str) -> ServicePorts {
        self.services.get(name).copied().unwrap_or_default()
    }
    fn user(&self, name: &str) -> Option<u32> {
        self.users.get(name).copied()
    }
    /// Asks the kernel (`if_nametoindex`), in the calling thread's network namespace.
    fn interface(&self, name: &str) -> Option<u32> {
        let c = std::ffi::CString::new(name).ok()?;
        // SAFETY: `c` is a valid NUL-terminated string for the duration of the call.
        let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
        (i != 0).then_some(i)
    }
    fn cgroup_id(&self, path: &str) -> Result<u64, String> {
        crate::cgroup::id_of(std::path::Path::new("/proc"), path)
    }
    fn ephemeral_ports(&self) -> (u16, u16) {
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
            .ok()
            .and_then(|t| {
                let mut it = t.split_whitespace().map(|w| w.parse::<u16>().ok());
                Some((it.next()??, it.next()??))
            })
            .unwrap_or((1024, 4999))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_and_aliases_resolve_per_protocol() {
        let t = SystemTables::from_text(
            b"# c\nssh\t22/tcp # SSH\nhttp 80/tcp www\ndomain 53/tcp\ndomain 53/udp\n\
              syslog 514/udp\nshell 514/tcp cmd\nbad x/tcp\nsctpthing 9/sctp\n",
            b"root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\nroot:x:7:0::/:/bin/sh\n",
        );
        assert_eq!(
            t.service("ssh"),
            ServicePorts {
                tcp: Some(22),
                udp: None
            }
        );
        assert_eq!(t.service("www").tcp, Some(80));
        assert_eq!(
            t.service("domain"),
            ServicePorts {
                tcp: Some(53),
                udp: Some(53)
            }
        );
        assert!(t.service("bad").is_empty());
        assert!(t.service("sctpthing").is_empty());
        // A name for one protocol applies to both; a port per protocol stays apart.
        assert_eq!(t.service("ssh").for_proto("udp"), Some(22));
        let mixed = ServicePorts {
            tcp: Some(514),
            udp: Some(515),
        };
        assert_eq!(mixed.for_proto("tcp"), Some(514));
        assert_eq!(mixed.for_proto("udp"), Some(515));
        assert_eq!(t.user("root"), Some(0));
        assert_eq!(t.user("nobody"), Some(65534));
        assert_eq!(t.user("ghost"), None);
    }
}
