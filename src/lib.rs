//! rnetstat as a library: list a machine's sockets and the processes that own them, with typed
//! results a test suite can assert on.
//!
//! A [`Query`] says what to list; [`Query::run`] lists it through the same pipeline as the
//! `rnetstat` binary (netlink sock_diag first, /proc/net per table where netlink cannot serve,
//! every owner from one scan) and returns a [`Listing`] of [`Socket`]s, each with its addresses,
//! [`State`], queues, uid, inode, [`Owner`]s and, when asked, [`TcpInfo`] and [`SkMemInfo`].
//! [`Query::kill`] closes the sockets a filtered query selects, as `rnetstat -K` does.
//!
//! ```
//! use std::net::UdpSocket;
//!
//! let udp = UdpSocket::bind("127.0.0.1:0")?;
//! let addr = udp.local_addr()?;
//! let listing = rnetstat::Query::new().udp().ipv4().owners(true).run()?;
//! let ours = listing.sockets().iter().find(|s| s.local() == Some(addr)).expect("listed");
//! assert_eq!(ours.state_name(), "UNCONN");
//! assert_eq!(ours.proto_name(), "udp");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! netstat's other tables are there too: [`routes`], [`interfaces`] and [`groups`] read our own
//! network namespace's routing tables, interfaces and multicast memberships as `rnetstat -r`,
//! `-i` and `-g` do; a [`NetTable`] chooses the namespaces (as `-N` does) and the source.
//!
//! Internally the pipeline runs one way: `cli` → `config` → `source` (netlink sock_diag,
//! /proc/net fallback) → `procmap` owners → `filter` → `render`, over the types in `model`;
//! `listing` ties one run together.

// Every public item is documented. A `fuzzing` build re-exports internals that are not (see
// `fuzzing` below), so the rule holds for the real API build only.
#![cfg_attr(not(feature = "fuzzing"), deny(missing_docs))]

mod cgroup;
mod decimal;
mod errno;
mod escape;
mod filter;
mod model;
mod query;
mod render;
pub mod signal;
mod sysdb;
mod tables;

pub use errno::errno_name;
pub use escape::escape;
pub use model::{
    CaState, Family, SkMemInfo, State, TcpInfo, TcpInfoField, TcpOptions, Timer, TimerKind,
    UnixName,
};
pub use query::{
    Container, Error, ErrorKind, Listing, Namespace, Owner, Protocol, Query, Socket, Source,
};
pub use tables::{groups, interfaces, routes, Group, Interface, NetTable, Route, TableRows};

mod config;
mod container;
mod events;
mod kill;
mod listing;
mod metrics;
mod names;
mod netns;
mod nettab;
mod procmap;
mod source;
mod stats;
mod summary;
mod watch;

pub use command::{Command, Parsed, RunError, Status, UsageError};
pub use signal::StopOnSignal;

// ---------------------------------------------------------------------------------------------
// Not part of the API, kept reachable (hidden, undocumented) for their one outside user each:
// `command` is what the binary runs (its types are re-exported above), `report` its messages
// (src/bin/rnetstat), `cli` the clap definition tests/man_page.rs renders the man page from,
// `completions` the scripts tests/completions.rs checks the committed ones against.
#[doc(hidden)]
#[allow(missing_docs)]
pub mod cli;
#[doc(hidden)]
#[allow(missing_docs)]
pub mod command;
#[doc(hidden)]
#[allow(missing_docs)]
pub mod completions;
#[doc(hidden)]
#[allow(missing_docs)]
pub mod report;

/// Not part of the API: the pure parsers, for the fuzz targets (fuzz/) and
/// examples/capture_seeds.rs, behind the non-default `fuzzing` feature.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
#[allow(missing_docs)]
pub mod fuzzing {
    /// The socket model the parsers produce.
    pub mod model {
        pub use crate::model::*;
    }
    pub use crate::escape::escape;
    pub use crate::filter::{Filter, SystemTables};
    pub use crate::procmap::{bpf, btf};
    pub use crate::source::netlink::{parse as netlink_parse, tcpinfo as netlink_extensions};
    pub use crate::source::procnet::parse as procnet_parse;
    pub use crate::stats::fuzz as stats;
}

#[cfg(test)]
mod tests_stats_live;
