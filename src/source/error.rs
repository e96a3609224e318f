//! Typed errors of the socket sources, so the fallback logic can tell "this source cannot serve
//! this table" (take the other one) from "something broke" (report it).

use std::io;
use std::path::PathBuf;

use crate::model::Table;

#[derive(Debug)]
pub enum SourceError {
    /// The kernel cannot answer this table over sock_diag (no diag module, unknown family or
    /// protocol, or a kernel too old). Carries the errno the kernel gave.
    Unsupported { table: Table, errno: i32 },
    /// sock_diag is refused (EPERM/EACCES: a seccomp filter, an LSM, a locked-down container).
    Denied { table: Table, errno: i32 },
    /// The netlink conversation broke (bad sequence number, truncated datagram, socket error).
    Netlink { table: Table, what: String },
    /// A /proc file could not be opened or read.
    Io { path: PathBuf, source: io::Error },
    /// Writing a record failed (usually a closed pipe); not the source's fault.
    Output(io::Error),
}

impl SourceError {
    /// Whether the other source should be tried for this table.
    pub fn wants_fallback(&self) -> bool {
        matches!(
            self,
            SourceError::Unsupported { .. } | SourceError::Denied { .. }
        )
    }
}

/// `ENOENT`, or `errno N` for a number without a name.
pub fn errno_name(errno: i32) -> String {
    match crate::errno::errno_name(errno) {
        Some(name) => name.to_string(),
        None => format!("errno {errno}"),
    }
}

impl std::fmt::Display for SourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceError::Unsupported { table, errno } => write!(
                f,
                "netlink sock_diag cannot list {table} sockets on this kernel ({}: {})",
                errno_name(*errno),
                io::Error::from_raw_os_error(*errno)
            ),
            SourceError::Denied { table, errno } => write!(
                f,
                "netlink sock_diag is denied for {table} sockets ({}: {})",
                errno_name(*errno),
                io::Error::from_raw_os_error(*errno)
            ),
            SourceError::Netlink { table, what } => {
                write!(
                    f,
                    "netlink sock_diag dump of {table} sockets failed: {what}"
                )
            }
            SourceError::Io { path, .. } => write!(f, "cannot read {}", path.display()),
            SourceError::Output(_) => f.write_str("cannot write output"),
        }
    }
}

impl std::error::Error for SourceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SourceError::Io { source, .. } => Some(source),
            SourceError::Output(e) => Some(e),
            _ => None,
        }
    }
}
