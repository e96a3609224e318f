//! The /proc/net text tables: the fallback when netlink sock_diag cannot serve a table, and the
//! only source for raw sockets on kernels built without raw_diag.
//!
//! Files are read line by line under a configurable procfs root (so fixture trees can stand in
//! for /proc); each record is handed to the sink as soon as it is parsed.

pub mod nettab;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Family, InetProto};

    /// A /proc tree with one file, removed on drop.
    struct Tree(std::path::PathBuf);

    impl Tree {
        fn with(tag: &str, file: &str, text: &str) -> Tree {
            let root =
                std::env::temp_dir().join(format!("rnetstat-procnet-{}-{tag}", std::process::id()));
            std::fs::create_dir_all(root.join("net")).expect("mkdir");
            std::fs::write(root.join("net").join(file), text).expect("write");
            Tree(root)
        }
    }

    impl Drop for Tree {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// What the /proc source, as `Sources` runs it, lists from the tree.
    fn inodes(tree: &Tree, table: Table) -> Vec<u64> {
        let mut got = Vec::new();
        let query = crate::source::Query {
            states: u32::MAX,
            ..Default::default()
        };
        crate::source::Sources::new(crate::source::SourceChoice::Proc, tree.0.clone())
            .list(table, &query, &mut |s: &Socket| {
                got.push(s.inode);
                Ok(())
            })
            .expect("dump");
        got
    }

    // /proc/net/tcp as read while sockets come and go: the kernel resumed a read() at a moved
    // position and repeated inode 7194454 (seen in a CI run, Linux 6.18), plus a TIME_WAIT twice.
    const TCP_WITH_REPEATS: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:A40D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7194452 1 0000000000000000 100 0 0 10 0
   1: 0100007F:A40D 0100007F:A5DC 01 00000000:00000000 00:00000000 00000000     0        0 7194454 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:A40D 0100007F:A5DC 01 00000000:00000000 00:00000000 00000000     0        0 7194454 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:C350 0100007F:A40D 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000
   4: 0100007F:C350 0100007F:A40D 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000
";

    #[test]
    fn a_record_repeated_by_a_resumed_read_is_listed_once() {
        let tree = Tree::with("repeats", "tcp", TCP_WITH_REPEATS);
        let got = inodes(&tree, Table::Inet(InetProto::Tcp, Family::V4));
        assert_eq!(got, [7194452, 7194454, 0]);
    }

    #[test]
    fn a_missing_file_is_an_io_error_naming_it() {
        let tree = Tree::with("missing", "tcp", "");
        let err = dump(&tree.0, Table::Unix, u32::MAX, &mut |_: &Socket| Ok(()))
            .expect_err("no net/unix in the tree");
        assert!(err.to_string().contains("net/unix"), "{err}");
    }
}
