//! errno names (`EADDRINUSE`) for messages: people search for the name, not for the text the C
//! library gives it. One list for the tool's messages and the demo's reports.

/// The symbolic name of an errno value (`EADDRINUSE` for 98 on Linux), or `None` for a number
/// this list does not name.
///
/// ```
/// assert_eq!(rnetstat::errno_name(libc::EADDRINUSE), Some("EADDRINUSE"));
/// assert_eq!(rnetstat::errno_name(9999), None);
/// ```
pub fn errno_name(errno: i32) -> Option<&'static str> {
    Some(match errno {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::EAGAIN => "EAGAIN",
        libc::EACCES => "EACCES",
        libc::EINVAL => "EINVAL",
        libc::EPIPE => "EPIPE",
        libc::ENOBUFS => "ENOBUFS",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::EPROTONOSUPPORT => "EPROTONOSUPPORT",
        libc::EAFNOSUPPORT => "EAFNOSUPPORT",
        libc::EADDRINUSE => "EADDRINUSE",
        libc::EADDRNOTAVAIL => "EADDRNOTAVAIL",
        libc::ECONNRESET => "ECONNRESET",
        libc::EISCONN => "EISCONN",
        libc::ENOTCONN => "ENOTCONN",
        libc::ETIMEDOUT => "ETIMEDOUT",
        libc::ECONNREFUSED => "ECONNREFUSED",
        libc::EINPROGRESS => "EINPROGRESS",
        _ => return None,
    })
}
