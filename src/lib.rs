//! rnetstat: list sockets and the processes that own them.
//!
//! The pipeline runs one way: [`cli`] → [`config`] → [`source`] (netlink sock_diag, /proc/net
//! fallback) → [`procmap`] owners → [`render`]. [`listing`] ties one run together; the binary
//! adds only error and exit-status policy.

pub mod cli;
pub mod config;
pub mod demo;
pub mod escape;
pub mod listing;
pub mod model;
pub mod names;
pub mod procmap;
pub mod render;
pub mod source;
