//! Pure parsing for namespace discovery: `-N` arguments, `net:[N]` link texts and the nsfs
//! mounts in a mountinfo text. Bytes in, values out; no file is touched here.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// One `-N` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    /// Every network namespace on the host.
    All,
    /// A name under /run/netns.
    Name(String),
    /// A namespace file: `/proc/PID/ns/net`, `/run/docker/netns/ID`, any nsfs bind mount.
    Path(PathBuf),
    /// `pid:PID`: the namespace of that process.
    Pid(u32),
}

impl Spec {
    /// Reads one `-N` argument: `all`, `pid:PID`, anything with a `/` is a path, the rest a
    /// name under /run/netns (as `ip netns` takes them: no `/`, not `.` or `..`).
    pub fn parse(arg: &str) -> Result<Spec, String> {
        if arg == "all" {
            return Ok(Spec::All);
        }
        if let Some(pid) = arg.strip_prefix("pid:") {
            return match pid.parse::<u32>() {
                Ok(p) if p > 0 && pid.bytes().all(|b| b.is_ascii_digit()) => Ok(Spec::Pid(p)),
                _ => Err(format!(
                    "--netns {arg}: pid:PID takes a process id, not {pid:?}"
                )),
            };
        }
        if arg.contains('/') {
            return Ok(Spec::Path(PathBuf::from(arg)));
        }
        if arg.is_empty() || arg == "." || arg == ".." || arg.contains('\0') {
            return Err(format!(
                "--netns {arg:?}: not a namespace name, path, pid:PID or all"
            ));
        }
        Ok(Spec::Name(arg.to_string()))
    }
}

/// The inode in a namespace link's text, `net:[4026531840]`; `None` for any other namespace
/// type or a malformed text.
pub fn net_link_inode(link: &[u8]) -> Option<u64> {
    let digits = link.strip_prefix(b"net:[")?.strip_suffix(b"]")?;
    parse_u64(digits)
}

fn parse_u64(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 20 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// Every nsfs mount of a network namespace in a mountinfo text: its inode and mount point.
/// (`ip netns add` and Docker bind-mount namespace files; mountinfo shows such a mount's root as
/// `net:[N]` and its type as `nsfs`.) Malformed lines are skipped.
pub fn nsfs_net_mounts(mountinfo: &[u8]) -> Vec<(u64, PathBuf)> {
    let mut out = Vec::new();
    for line in mountinfo.split(|&b| b == b'\n') {
        let Some(sep) = line.windows(3).position(|w| w == b" - ") else {
            continue;
        };
        let (left, right) = (&line[..sep], &line[sep + 3..]);
        if right.split(|&b| b == b' ').next() != Some(b"nsfs") {
            continue;
        }
        let mut fields = left.split(|&b| b == b' ');
        // 0 id, 1 parent, 2 major:minor, 3 root, 4 mount point
        let (Some(root), Some(mount)) = (fields.nth(3), fields.next()) else {
            continue;
        };
        let Some(inode) = net_link_inode(root) else {
            continue;
        };
        out.push((inode, PathBuf::from(OsStr::from_bytes(&unescape(mount)))));
    }
    out
}

/// mountinfo's octal escapes (`\040` for a space, `\011`, `\012`, `\134`) undone.
fn unescape(field: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        if field[i] == b'\\' && i + 4 <= field.len() {
            let oct = &field[i + 1..i + 4];
            if oct.iter().all(|b| (b'0'..=b'7').contains(b)) {
                let v = oct
                    .iter()
                    .fold(0u32, |acc, b| acc * 8 + u32::from(b - b'0'));
                if let Ok(v) = u8::try_from(v) {
                    out.push(v);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(field[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_are_all_pid_path_or_name() {
        assert_eq!(Spec::parse("all"), Ok(Spec::All));
        assert_eq!(Spec::parse("pid:42"), Ok(Spec::Pid(42)));
        assert_eq!(
            Spec::parse("/run/docker/netns/abc"),
            Ok(Spec::Path("/run/docker/netns/abc".into()))
        );
        assert_eq!(Spec::parse("./x"), Ok(Spec::Path("./x".into())));
        assert_eq!(Spec::parse("blue"), Ok(Spec::Name("blue".into())));
        for bad in [
            "", ".", "..", "pid:", "pid:x", "pid:-1", "pid:0", "pid:+3", "a\0b",
        ] {
            assert!(Spec::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn link_texts_give_net_inodes_only() {
        assert_eq!(net_link_inode(b"net:[4026531840]"), Some(4026531840));
        for bad in [
            &b"mnt:[4026531840]"[..],
            b"net:[]",
            b"net:[12",
            b"net:[1x]",
            b"net:[99999999999999999999999]",
            b"",
        ] {
            assert_eq!(net_link_inode(bad), None, "{:?}", bad);
        }
    }

    #[test]
    fn nsfs_mounts_of_network_namespaces_with_escaped_paths() {
        let info = b"22 1 0:21 / /proc rw,nosuid - proc proc rw\n\
            611 25 0:4 net:[4026532281] /run/netns/blue rw - nsfs nsfs rw\n\
            612 25 0:4 net:[4026532281] /run/netns/blue rw - nsfs nsfs rw\n\
            613 25 0:4 mnt:[4026532290] /run/mntns/x rw - nsfs nsfs rw\n\
            614 25 0:4 net:[4026532400] /run/docker/netns/with\\040space rw shared:5 - nsfs nsfs rw\n\
            broken line\n\
            615 25 0:4 net:[bad] /x rw - nsfs nsfs rw\n";
        assert_eq!(
            nsfs_net_mounts(info),
            [
                (4026532281, PathBuf::from("/run/netns/blue")),
                (4026532281, PathBuf::from("/run/netns/blue")),
                (4026532400, PathBuf::from("/run/docker/netns/with space")),
            ]
        );
        assert_eq!(unescape(b"a\\134b\\012"), b"a\\b\n");
        assert_eq!(unescape(b"trail\\04"), b"trail\\04");
        assert_eq!(unescape(b"\\777"), b"\\777"); // not a byte: kept as written
        assert_eq!(unescape(b"\\"), b"\\");
    }
}
