//! rnetstat: list sockets and the processes that own them.
//!
//! The pipeline runs one way: [`cli`] → [`config`] → [`source`] (netlink sock_diag, /proc/net
//! fallback) → [`procmap`] owners → [`render`]. [`listing`] ties one run together; the binary
//! adds only error and exit-status policy.

pub mod cgroup;
pub mod cli;
pub mod command;
pub mod completions;
pub mod config;
pub mod decimal;
pub mod demo;
pub mod escape;
pub mod events;
pub mod filter;
pub mod kill;
pub mod listing;
pub mod model;
pub mod names;
pub mod nettab;
pub mod procmap;
pub mod render;
pub mod report;
pub mod signal;
pub mod source;
pub mod stats;
pub mod summary;
pub mod sysdb;
pub mod watch;

pub use command::{Command, Parsed, RunError, Status, UsageError};
pub use signal::StopOnSignal;
