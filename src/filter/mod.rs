//! What to show: ss-compatible state filters and address/port expressions, plus owner matchers.
//!
//! A [`Filter`] is parsed once from the words after the options (`state established`,
//! `exclude listening`, `sport = :22 or dport != :443`, ...) and then asked two things: the state
//! bit mask for the sock_diag request ([`Filter::state_mask`]), and whether a given socket passes
//! ([`Filter::matches`]). Parsing and evaluation do no I/O: port and user names are resolved
//! through a [`Lookup`] the caller provides (see [`SystemTables`] for one built from the text of
//! /etc/services and /etc/passwd), so the same filter gives the same answers on both sources.
//!
//! Semantics are ss's (iproute2 misc/ssfilter.y and misc/ss.c), measured against the real ss by
//! tests/filter_vs_ss.rs:
//! - `and` and `or` have equal precedence and group left to right, adjacent terms joined by an
//!   implicit `and`: `a or b and c` is `(a or b) and c`. `not` binds to the next term. When an
//!   expression mixes the two without parentheses, [`Filter::notices`] says how it was read.
//! - ss applies every condition twice: once as INET_DIAG bytecode in the kernel, once in user
//!   space (`run_ssfilter`), and keeps a socket only when both say yes. The two differ on the
//!   address family: the kernel's host test requires the socket's family to be the prefix's
//!   (so `::/0` is every IPv6 socket and no IPv4 one, `0.0.0.0/0` every IPv4 socket and the
//!   v4-mapped IPv6 ones), user space compares raw address bytes. [`Filter::matches`] computes
//!   both, the same way, so the /proc fallback selects what the netlink path selects.
//!   An expression with `dev` is not compiled by ss 6.1 and is judged in user space alone;
//!   here too.
//! - Address and port tests are inet-only: on a unix socket every condition is false,
//!   including `!=`, `>`, `<` forms. Only an explicit `not` turns that into true. ss instead
//!   compares ports against the unix socket's inode numbers, which matches nothing meaningful.
//! - A named port resolves per protocol: `sport = :domain` means 53 for TCP and 53 for UDP, and a
//!   name that /etc/services lists for only one protocol applies to every protocol (as ss does).
//! - Host names are not resolved (no DNS lookups in a filter); addresses are numeric.
//!
//! [`Filter::inet_bytecode`] compiles the expression to INET_DIAG bytecode with ss's meaning, for
//! the kernel to apply on netlink dumps; [`Filter::matches`] stays the reference (and the only
//! filter on the /proc fallback).

pub mod bytecode;
mod eval;
mod lookup;
mod parse;

#[cfg(test)]
pub use lookup::NoLookup;
pub use lookup::{Lookup, ServicePorts, SystemTables};
pub use parse::{FilterError, FILTER_KEYWORDS, STATE_WORDS};

use std::net::IpAddr;

use crate::model::{InetProto, Owner, Socket, State};

/// A parsed filter: states, an address/port expression, and owner matchers, all ANDed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// The sock_diag state mask from `state`/`exclude` words; `None` when there were none.
    states: Option<u32>,
    /// The address/port expression; `None` when there was none.
    expr: Option<Expr>,
    /// `--pid`: some owner has one of these pids.
    pids: Vec<u32>,
    /// `--process`: some owner's comm is one of these.
    programs: Vec<Vec<u8>>,
    /// `--uid`: the socket's uid is one of these.
    uids: Vec<u32>,
    /// What the parser wants the user told (how `and`/`or` were grouped).
    notices: Vec<String>,
    /// `--container`: some owner's container has an id starting with, or a name equal to, one
    /// of these.
    containers: Vec<Vec<u8>>,
}

/// An address/port expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Cond(Cond),
}

/// Which end of the socket a condition looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The local end (`src`, `sport`).
    Local,
    /// The remote end (`dst`, `dport`).
    Remote,
}

/// One test on one end of an inet socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cond {
    /// `src HOST` / `dst HOST`: an address prefix and/or a port.
    Host(Side, HostCond),
    /// `sport OP PORT` / `dport OP PORT`.
    Port(Side, CmpOp, PortSpec),
    /// `sport >= *` (`Ge`) or `sport <= *` (`Le`): ss accepts these and means by them port -1,
    /// which user space compares as -1 and the kernel as 65535 (`>` and `<` are their
    /// negations). Kept so such filters select what ss selects.
    PortStar(Side, CmpOp),
    /// `dev NAME|INDEX`: the socket is bound to this interface (`SO_BINDTODEVICE`).
    Dev(u32),
    /// `fwmark = VALUE[/MASK]`: `mark & mask == value`.
    Mark { value: u32, mask: u32 },
    /// `cgroup PATH`: the socket's cgroup v2 id.
    Cgroup(u64),
    /// `autobound`: the local port was picked by the kernel. The kernel tests that no port was
    /// bound explicitly; user space (as ss) that the port lies in `ip_local_port_range`, read
    /// when the filter was parsed.
    Autobound { low: u16, high: u16 },
}

/// `10.0.0.0/8`, `127.0.0.1:8080`, `[::1]`, `*:22`, `:22`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostCond {
    /// `None` for `*` or a bare port.
    pub prefix: Option<Prefix>,
    /// `None` when no port was given (or `*`).
    pub port: Option<PortSpec>,
}

/// An address prefix: the first `len` bits of `addr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefix {
    pub addr: IpAddr,
    pub len: u8,
}

/// A port as written: a number, or a service name resolved per protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortSpec {
    Number(u16),
    Named { name: String, ports: ServicePorts },
}

/// A port comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// Every state bit, including states this tool does not know (as the -a mask does).
pub const ALL_STATES: u32 = u32::MAX;

impl Filter {
    /// Parses the words after the options: `state`/`exclude` clauses first, then an expression.
    /// Each word may hold several tokens separated by blanks (`'sport = :22'` works as one
    /// argument). An empty slice gives the empty filter, which matches everything.
    pub fn parse<S: AsRef<str>>(words: &[S], lookup: &dyn Lookup) -> Result<Filter, FilterError> {
        let parsed = parse::parse(words, lookup)?;
        Ok(Filter {
            states: parsed.states,
            expr: parsed.expr,
            notices: parsed.notices,
            ..Filter::default()
        })
    }

    /// Lines the user should see on stderr about how the filter was read (at most one today:
    /// how an expression mixing `and` and `or` without parentheses was grouped).
    pub fn notices(&self) -> &[String] {
        &self.notices
    }

    /// Whether the expression tests a socket's mark or cgroup id, which the source must then
    /// read from the netlink attributes.
    pub fn needs_labels(&self) -> bool {
        self.expr.as_ref().is_some_and(|e| {
            eval::any_cond(e, &|c| matches!(c, Cond::Mark { .. } | Cond::Cgroup(_)))
        })
    }

    /// Adds a `--pid` matcher (several pids OR together).
    pub fn with_pid(mut self, pid: u32) -> Filter {
        self.pids.push(pid);
        self
    }

    /// Adds a `--process` matcher (several names OR together). Matched against each owner's
    /// `comm`; since the kernel cuts `comm` to 15 bytes, a longer name matches on its first 15.
    pub fn with_program(mut self, name: &[u8]) -> Filter {
        self.programs.push(name.to_vec());
        self
    }

    /// Adds a `--container` matcher (several OR together): an id prefix or a whole name.
    pub fn with_container(mut self, id_or_name: &[u8]) -> Filter {
        self.containers.push(id_or_name.to_vec());
        self
    }

    /// Whether owners' containers must be known ([`crate::procmap::OwnerMap::find_containers`]).
    pub fn needs_containers(&self) -> bool {
        !self.containers.is_empty()
    }

    /// Adds a `--uid` matcher (several uids OR together).
    pub fn with_uid(mut self, uid: u32) -> Filter {
        self.uids.push(uid);
        self
    }

    /// Whether the filter selects everything (no states, no conditions).
    pub fn is_empty(&self) -> bool {
        self.states.is_none() && !self.has_conditions()
    }

    /// The state mask from `state`/`exclude` words, or `None` when there were none.
    #[cfg(any(test, feature = "fuzzing"))]
    pub fn state_mask(&self) -> Option<u32> {
        self.states
    }

    /// The state mask for a sock_diag request, given the mask the -a/-l/default selection would
    /// use. Explicit `state`/`exclude` words replace that selection, as in ss (so
    /// `rnetstat state listening` shows listeners without -l); without them `base` is used.
    pub fn request_mask(&self, base: u32) -> u32 {
        self.states.unwrap_or(base)
    }

    /// Whether anything besides states is tested (expression, pid, program or uid): if not,
    /// the kernel's state mask already did all the filtering.
    pub fn has_conditions(&self) -> bool {
        self.expr.is_some() || self.needs_owners() || !self.uids.is_empty()
    }

    /// The address/port expression, for callers that want to compile it (e.g. to bytecode).
    #[cfg(test)]
    pub fn expression(&self) -> Option<&Expr> {
        self.expr.as_ref()
    }

    /// The expression as INET_DIAG bytecode for a request on an inet table of `proto`, to send
    /// as the `INET_DIAG_REQ_BYTECODE` attribute ([`bytecode::INET_DIAG_REQ_BYTECODE`]).
    /// `None` when there is no expression or it is too long to encode. The kernel then returns
    /// only matching sockets; calling [`Filter::matches`] on them as well is harmless.
    pub fn inet_bytecode(&self, proto: InetProto) -> Option<Vec<u8>> {
        bytecode::compile(self.expr.as_ref()?, proto)
    }

    /// Whether [`Filter::matches`] needs the owners (`--pid` or `--process` given): the caller
    /// must then scan /proc even without -p.
    pub fn needs_owners(&self) -> bool {
        !self.pids.is_empty() || !self.programs.is_empty() || !self.containers.is_empty()
    }

    /// Whether the expression can hold for any unix socket at all. Address and port tests are
    /// false on unix sockets, so the expression's value there is fixed; when it is false the
    /// caller can skip the unix table entirely.
    pub fn may_match_unix(&self) -> bool {
        self.expr.as_ref().is_none_or(eval::on_portless)
    }

    /// Whether `state` passes the state part.
    pub fn matches_state(&self, state: State) -> bool {
        match self.states {
            None => true,
            Some(mask) => eval::state_in(mask, state),
        }
    }

    /// Whether `sock` passes every part of the filter. `owners` are the processes holding it
    /// (only looked at with `--pid`/`--process`; a socket with no known owner fails those).
    pub fn matches<'a, I>(&self, sock: &Socket, owners: I) -> bool
    where
        I: IntoIterator<Item = Owner<'a>>,
    {
        if !self.matches_state(sock.state) {
            return false;
        }
        if !self.uids.is_empty() && !sock.uid.is_some_and(|u| self.uids.contains(&u)) {
            return false;
        }
        if let Some(e) = &self.expr {
            if !eval::expr(e, sock) {
                return false;
            }
        }
        if self.needs_owners() {
            return owners.into_iter().any(|o| self.owner_ok(&o));
        }
        true
    }

    fn owner_ok(&self, o: &Owner<'_>) -> bool {
        (self.pids.is_empty() || self.pids.contains(&o.pid))
            && (self.programs.is_empty() || self.programs.iter().any(|p| comm_matches(p, o.name)))
            && (self.containers.is_empty()
                || o.container
                    .is_some_and(|c| self.containers.iter().any(|w| c.matches(w))))
    }
}

/// `comm` is at most 15 bytes (TASK_COMM_LEN - 1): a longer name matches on its first 15.
fn comm_matches(wanted: &[u8], comm: &[u8]) -> bool {
    const COMM_MAX: usize = 15;
    if wanted.len() > COMM_MAX && comm.len() == COMM_MAX {
        &wanted[..COMM_MAX] == comm
    } else {
        wanted == comm
    }
}

/// Parses a `--uid` value: a number, or a user name resolved through `lookup`.
pub fn parse_uid(text: &str, lookup: &dyn Lookup) -> Result<u32, String> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse()
            .map_err(|_| format!("--uid: {text} is out of range for a uid"));
    }
    lookup
        .user(text)
        .ok_or_else(|| format!("--uid: no such user: {text}"))
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod ss_tests;
#[cfg(test)]
mod tests_bytecode;
#[cfg(test)]
mod tests_eval;
