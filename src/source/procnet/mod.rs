//! The /proc/net text tables: the fallback when netlink sock_diag cannot serve a table, and the
//! only source for raw sockets on kernels built without raw_diag.
//!
//! Files are read line by line under a configurable procfs root (so fixture trees can stand in
//! for /proc); each record is handed to the sink as soon as it is parsed.

pub mod parse;

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use super::{Served, SourceError, SourceKind};
use crate::model::{Socket, Table};

/// Lists one table from `<proc_root>/net/<file>`, calling `sink` for every socket whose state
/// is in `states` (a sock_diag-style bit mask).
pub fn dump(
    proc_root: &Path,
    table: Table,
    states: u32,
    sink: &mut dyn FnMut(&Socket) -> std::io::Result<()>,
) -> Result<Served, SourceError> {
    let path = proc_root.join("net").join(table.proc_file());
    let f = File::open(&path).map_err(|source| SourceError::Io {
        path: path.clone(),
        source,
    })?;
    let ticks = ticks_per_second();
    let mut reader = BufReader::with_capacity(64 * 1024, f);
    let mut line = Vec::with_capacity(256);
    let mut served = Served::new(table, SourceKind::Proc);
    let mut lineno = 0usize;
    // A unix path holding a newline arrives split over two lines; the record is held back one
    // line so a continuation can be joined to it instead of cutting the path.
    let mut pending: Option<Socket> = None;
    let mut emit = |sock: Socket| -> Result<(), SourceError> {
        if states & sock.state.mask_bit() != 0 {
            sink(&sock).map_err(SourceError::Output)?;
        }
        Ok(())
    };
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|source| SourceError::Io {
                path: path.clone(),
                source,
            })?;
        if n == 0 {
            break;
        }
        lineno += 1;
        if lineno == 1 {
            continue; // the column header
        }
        let parsed = match table {
            Table::Inet(p, fam) => parse::inet_line(&line, p, fam, ticks),
            Table::Unix => parse::unix_line(&line),
        };
        match parsed {
            Ok(sock) => {
                if let Some(prev) = pending.take() {
                    emit(prev)?;
                }
                if table == Table::Unix {
                    pending = Some(sock);
                } else {
                    emit(sock)?;
                }
            }
            Err(e) => {
                if let Some(name) = pending.as_mut().and_then(parse::unix_path_mut) {
                    name.push(b'\n');
                    name.extend_from_slice(line.strip_suffix(b"\n").unwrap_or(&line));
                } else {
                    served
                        .skipped
                        .push(format!("{}:{lineno}: {e}", path.display()));
                }
            }
        }
    }
    if let Some(prev) = pending.take() {
        emit(prev)?;
    }
    Ok(served)
}

/// USER_HZ, the unit of the timer column. procfs asks sysconf; 100 on every Linux we know of.
fn ticks_per_second() -> u64 {
    procfs::ticks_per_second().max(1)
}
