//! `--metrics`: rnetstat as a Prometheus target. A scrape is a fresh listing folded into a
//! bounded aggregate ([`collect`]), written as Prometheus text or OpenMetrics ([`encode`]),
//! printed once ([`print`]) or served over HTTP ([`server`]).

pub mod collect;
pub mod encode;
pub mod server;

use std::io::Write;

use crate::config::Config;
use crate::listing::{ListError, Outcome};

pub use server::{serve, ServeError};

/// Prints one scrape in the Prometheus text format (for node_exporter's textfile collector).
pub fn print<W: Write>(cfg: &Config, out: &mut W) -> Result<Outcome, ListError> {
    let s = collect::scrape(cfg)?;
    let text = encode::encode(&s, encode::Format::Text, &mut encode::Dropped::default());
    out.write_all(text.as_bytes()).map_err(ListError::Output)?;
    Ok(s.outcome)
}
