//! Which container a process runs in, read from its cgroup path.
//!
//! Container runtimes put each container's processes in a cgroup whose name carries the
//! container's id (`docker-<id>.scope`, `/docker/<id>`, `cri-containerd-<id>.scope`, ...), and
//! Kubernetes puts the pod's uid in an enclosing slice or directory. Nothing else names a
//! container as cheaply: the runtimes' own APIs are sockets rnetstat would have to talk to. This
//! module is pure: cgroup path bytes (or a whole `/proc/PID/cgroup` text) in, an optional
//! [`Container`] out. Paths are whatever the system holds — any bytes, not necessarily UTF-8 —
//! so nothing here assumes more, and nothing can panic on them.

/// The runtime a container belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Runtime {
    Docker,
    Containerd,
    CriO,
    Podman,
    Lxc,
    Nspawn,
}

impl Runtime {
    /// The JSON `runtime` value and the table's prefix.
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Docker => "docker",
            Runtime::Containerd => "containerd",
            Runtime::CriO => "cri-o",
            Runtime::Podman => "podman",
            Runtime::Lxc => "lxc",
            Runtime::Nspawn => "systemd-nspawn",
        }
    }
}

/// A container, as its cgroup path tells it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Container {
    pub runtime: Runtime,
    /// The full id: 64 hex digits for Docker, containerd, CRI-O and Podman; the container's
    /// name for LXC and systemd-nspawn, which have no other id. Raw bytes from the path.
    pub id: Box<[u8]>,
    /// The Kubernetes pod's uid (with dashes), when the container is in a pod.
    pub pod_uid: Option<Box<str>>,
    /// The container's name, when the path carries one (LXC, systemd-nspawn).
    pub name: Option<Box<[u8]>>,
}

impl Container {
    /// The id as the table shows it: hex ids cut to 12 digits (as `docker ps` does), names whole.
    pub fn short_id(&self) -> &[u8] {
        match self.runtime {
            Runtime::Lxc | Runtime::Nspawn => &self.id,
            _ => &self.id[..self.id.len().min(12)],
        }
    }

    /// Whether `wanted` names this container (`--container`): a non-empty prefix of its id, or
    /// its whole name.
    pub fn matches(&self, wanted: &[u8]) -> bool {
        !wanted.is_empty()
            && (self.id.starts_with(wanted) || self.name.as_deref().is_some_and(|n| n == wanted))
    }
}

/// The container of a process from its whole `/proc/PID/cgroup` text: the cgroup v2 line
/// (`0::/path`) first, then each v1 hierarchy's path in order; the first that names a container
/// wins. Lines that are not `ID:CONTROLLERS:PATH` are ignored.
pub fn from_proc_cgroup(text: &[u8]) -> Option<Container> {
    let paths = || {
        text.split(|&b| b == b'\n').filter_map(|line| {
            let mut parts = line.splitn(3, |&b| b == b':');
            let id = parts.next()?;
            let controllers = parts.next()?;
            let path = parts.next()?;
            Some((id == b"0" && controllers.is_empty(), path))
        })
    };
    paths()
        .filter(|(v2, _)| *v2)
        .chain(paths().filter(|(v2, _)| !*v2))
        .find_map(|(_, path)| from_path(path))
}

/// The container a cgroup path (`/system.slice/docker-<id>.scope`, `/docker/<id>`, ...) names.
///
/// The deepest component that names a container decides (a container's processes may sit in
/// sub-cgroups of its own, and nested runtimes name the innermost last); the pod's uid comes
/// from any enclosing `kubepods` component.
pub fn from_path(path: &[u8]) -> Option<Container> {
    let parts: Vec<&[u8]> = path
        .split(|&b| b == b'/')
        .filter(|p| !p.is_empty())
        .collect();
    let in_kubepods = parts.iter().any(|p| p.starts_with(b"kubepods"));
    for (i, part) in parts.iter().enumerate().rev() {
        let parent = i.checked_sub(1).map(|j| parts[j]);
        let Some((runtime, id, name)) = component(part, parent, in_kubepods) else {
            continue;
        };
        let pod_uid = parts[..i].iter().rev().find_map(|p| pod_uid(p));
        return Some(Container {
            runtime,
            id: id.into(),
            pod_uid,
            name: name.map(Into::into),
        });
    }
    None
}

type Named<'a> = (Runtime, &'a [u8], Option<&'a [u8]>);

/// What one path component says, given the component above it.
fn component<'a>(part: &'a [u8], parent: Option<&[u8]>, in_kubepods: bool) -> Option<Named<'a>> {
    // systemd scopes: `<prefix><id>.scope`.
    if let Some(stem) = part.strip_suffix(b".scope") {
        for (prefix, runtime) in [
            (&b"docker-"[..], Runtime::Docker),
            (b"cri-containerd-", Runtime::Containerd),
            (b"crio-", Runtime::CriO),
            (b"libpod-", Runtime::Podman),
        ] {
            if let Some(id) = stem.strip_prefix(prefix) {
                // `crio-conmon-<id>` and `libpod-conmon-<id>` hold the runtime's monitor, which
                // is not inside the container; anything not a full hex id is not a container.
                return is_hex_id(id).then_some((runtime, id, None));
            }
        }
        if let Some(name) = stem.strip_prefix(b"machine-") {
            // systemd-nspawn's machines; libvirt's qemu VMs and LXC domains live here too.
            let looks_like_vm = name.starts_with(b"qemu") || name.starts_with(b"lxc\\x2d");
            return (!name.is_empty() && !looks_like_vm).then_some((
                Runtime::Nspawn,
                name,
                Some(name),
            ));
        }
        return None;
    }
    // LXC 4+: `lxc.payload.<name>` (its monitor, `lxc.monitor.<name>`, is outside).
    if let Some(name) = part.strip_prefix(b"lxc.payload.") {
        return (!name.is_empty()).then_some((Runtime::Lxc, name, Some(name)));
    }
    // cgroupfs drivers: `/docker/<id>`, `/libpod_parent/libpod-<id>`, `/lxc/<name>`, and under
    // `/kubepods/…/pod<uid>/`: `<id>` (containerd; dockershim is gone) or `crio-<id>`.
    match parent {
        Some(b"docker") if is_hex_id(part) => Some((Runtime::Docker, part, None)),
        Some(b"lxc") if !part.is_empty() => Some((Runtime::Lxc, part, Some(part))),
        Some(p) if p.starts_with(b"pod") && in_kubepods => {
            if let Some(id) = part.strip_prefix(b"crio-") {
                is_hex_id(id).then_some((Runtime::CriO, id, None))
            } else if let Some(id) = part.strip_prefix(b"docker-") {
                is_hex_id(id).then_some((Runtime::Docker, id, None))
            } else {
                is_hex_id(part).then_some((Runtime::Containerd, part, None))
            }
        }
        Some(b"libpod_parent") => part
            .strip_prefix(b"libpod-")
            .filter(|id| is_hex_id(id))
            .map(|id| (Runtime::Podman, id, None)),
        _ => None,
    }
}

/// A 64-digit lowercase hex id, as every OCI runtime here makes them.
fn is_hex_id(id: &[u8]) -> bool {
    id.len() == 64 && id.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The pod uid in `kubepods-burstable-pod<uid>.slice` (systemd escapes its dashes as `_`) or a
/// cgroupfs `pod<uid>` directory.
fn pod_uid(part: &[u8]) -> Option<Box<str>> {
    let uid = if let Some(stem) = part.strip_suffix(b".slice") {
        if !stem.starts_with(b"kubepods") {
            return None;
        }
        let at = stem.windows(4).rposition(|w| w == b"-pod")?;
        &stem[at + 4..]
    } else {
        part.strip_prefix(b"pod")?
    };
    let ok = (8..=64).contains(&uid.len())
        && uid
            .iter()
            .all(|b| b.is_ascii_hexdigit() || *b == b'-' || *b == b'_');
    ok.then(|| {
        uid.iter()
            .map(|&b| if b == b'_' { '-' } else { char::from(b) })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "3f2a9c1b7d0e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c";
    const POD: &str = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";

    fn c(path: &str) -> Option<Container> {
        from_path(path.as_bytes())
    }

    fn hex(runtime: Runtime, pod: Option<&str>) -> Option<Container> {
        Some(Container {
            runtime,
            id: ID.as_bytes().into(),
            pod_uid: pod.map(Into::into),
            name: None,
        })
    }

    #[test]
    fn every_runtime_pattern_names_its_container() {
        let pod_ = POD.replace('-', "_");
        let cases = [
            // cgroup v2 / systemd driver
            (
                format!("/system.slice/docker-{ID}.scope"),
                hex(Runtime::Docker, None),
            ),
            (
                format!("/system.slice/containerd.service/cri-containerd-{ID}.scope"),
                hex(Runtime::Containerd, None),
            ),
            (
                format!("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{pod_}.slice/cri-containerd-{ID}.scope"),
                hex(Runtime::Containerd, Some(POD)),
            ),
            (
                format!("/kubepods.slice/kubepods-pod{pod_}.slice/crio-{ID}.scope"),
                hex(Runtime::CriO, Some(POD)),
            ),
            (
                format!("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{pod_}.slice/docker-{ID}.scope"),
                hex(Runtime::Docker, Some(POD)),
            ),
            (
                format!("/machine.slice/libpod-{ID}.scope"),
                hex(Runtime::Podman, None),
            ),
            (
                format!("/machine.slice/libpod-{ID}.scope/container"),
                hex(Runtime::Podman, None),
            ),
            (
                format!("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{ID}.scope"),
                hex(Runtime::Podman, None),
            ),
            // cgroup v1 / cgroupfs driver
            (format!("/docker/{ID}"), hex(Runtime::Docker, None)),
            (
                format!("/kubepods/burstable/pod{POD}/{ID}"),
                hex(Runtime::Containerd, Some(POD)),
            ),
            (
                format!("/kubepods/pod{POD}/crio-{ID}"),
                hex(Runtime::CriO, Some(POD)),
            ),
            (
                format!("/libpod_parent/libpod-{ID}"),
                hex(Runtime::Podman, None),
            ),
            // a container's own sub-cgroups
            (
                format!("/system.slice/docker-{ID}.scope/init.scope"),
                hex(Runtime::Docker, None),
            ),
        ];
        for (path, want) in cases {
            assert_eq!(c(&path), want, "{path}");
        }
        let named = |runtime, name: &str| {
            Some(Container {
                runtime,
                id: name.as_bytes().into(),
                pod_uid: None,
                name: Some(name.as_bytes().into()),
            })
        };
        assert_eq!(c("/lxc.payload.web1"), named(Runtime::Lxc, "web1"));
        assert_eq!(
            c("/lxc.payload.web1/system.slice/nginx.service"),
            named(Runtime::Lxc, "web1")
        );
        assert_eq!(c("/lxc/web2"), named(Runtime::Lxc, "web2"));
        assert_eq!(
            c("/machine.slice/machine-debian.scope"),
            named(Runtime::Nspawn, "debian")
        );
        assert_eq!(
            c("/machine.slice/machine-debian.scope/payload/system.slice/sshd.service"),
            named(Runtime::Nspawn, "debian")
        );
    }

    #[test]
    fn things_that_are_not_containers_are_none() {
        for path in [
            "/",
            "",
            "/user.slice/user-1000.slice/session-2.scope",
            "/system.slice/docker.service",
            "/system.slice/docker-compose@web.service",
            "/system.slice/docker-abc.scope",
            "/docker",
            "/docker/not-an-id",
            "/lxc.monitor.web1",
            "/lxc.payload.",
            "/machine.slice/machine-qemu\\x2d1\\x2dvm.scope",
            "/machine.slice/machine-.scope",
            "/kubepods.slice/kubepods-burstable.slice",
            &format!("/kubepods.slice/kubepods-pod{POD}.slice/crio-conmon-{ID}.scope"),
            &format!("/machine.slice/libpod-conmon-{ID}.scope"),
            &format!("/pod{POD}/{ID}"), // a pod directory outside kubepods is not Kubernetes
            &format!("/system.slice/docker-{}.scope", ID.to_uppercase()),
        ] {
            assert_eq!(c(path), None, "{path}");
        }
    }

    #[test]
    fn hostile_paths_never_panic_and_keep_their_bytes() {
        let mut path = b"/lxc.payload.".to_vec();
        path.extend_from_slice(b"\x1b[31m\xff\xfe\nx");
        let got = from_path(&path).expect("an LXC name");
        assert_eq!(&*got.id, b"\x1b[31m\xff\xfe\nx");
        assert_eq!(
            crate::escape::escape(got.short_id()),
            "\\x1b[31m\\xff\\xfe\\nx"
        );
        // Every byte string up to length 3 over an alphabet of the parser's special bytes.
        let alphabet = b"/.-_:\n\xffdp0";
        let mut s = Vec::new();
        for a in alphabet {
            for b in alphabet {
                for d in alphabet {
                    s.clear();
                    s.extend_from_slice(&[*a, *b, *d]);
                    let _ = from_path(&s);
                    let _ = from_proc_cgroup(&s);
                }
            }
        }
        let _ = from_path(&[b'/'; 10_000]);
        let _ = pod_uid(b"kubepods-pod.slice");
        let _ = pod_uid(b"-pod.slice");
    }

    #[test]
    fn proc_cgroup_prefers_the_v2_line_then_v1_lines() {
        let text = format!(
            "12:pids:/user.slice\n11:memory:/docker/{ID}\n1:name=systemd:/user.slice\n0::/system.slice/docker-{ID}.scope\n"
        );
        assert_eq!(
            from_proc_cgroup(text.as_bytes()),
            hex(Runtime::Docker, None)
        );
        let v1_only = format!("5:cpu,cpuacct:/docker/{ID}\n0::/user.slice\n");
        assert_eq!(
            from_proc_cgroup(v1_only.as_bytes()),
            hex(Runtime::Docker, None)
        );
        assert_eq!(from_proc_cgroup(b"0::/\n"), None);
        assert_eq!(from_proc_cgroup(b"garbage without colons"), None);
    }

    #[test]
    fn the_filter_matches_an_id_prefix_or_a_whole_name() {
        let d = hex(Runtime::Docker, None).expect("docker");
        assert!(d.matches(b"3f2a9c"));
        assert!(d.matches(ID.as_bytes()));
        assert!(!d.matches(b""));
        assert!(!d.matches(b"3f2a9d"));
        assert_eq!(d.short_id(), b"3f2a9c1b7d0e");
        let l = c("/lxc.payload.web1").expect("lxc");
        assert!(l.matches(b"web1"));
        assert!(
            l.matches(b"we"),
            "an LXC id is its name, so prefixes match too"
        );
        assert!(!l.matches(b"web10"));
    }
}
