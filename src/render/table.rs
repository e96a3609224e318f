//! netstat's table: the same sections, headers and column order, with netstat's minimum column
//! widths that grow instead of cutting (so no second pass over the rows is needed), every owner
//! listed, and every name from the system escaped.

use std::fmt::Write as _;
use std::io;
use std::net::{IpAddr, SocketAddr};

use super::{RenderOptions, Section};
use crate::escape::escape_into;
use crate::model::{Detail, InetInfo, InetProto, Socket, State, UnixInfo};
use crate::names::Names;
use crate::procmap::OwnerMap;

pub struct TableWriter<'a, W: io::Write> {
    out: W,
    opts: RenderOptions,
    names: &'a mut Names,
    owners: Option<&'a OwnerMap>,
    /// Reused per row so rendering allocates nothing in the steady state.
    line: String,
    cell: String,
}

impl<'a, W: io::Write> TableWriter<'a, W> {
    pub fn new(
        out: W,
        opts: RenderOptions,
        names: &'a mut Names,
        owners: Option<&'a OwnerMap>,
    ) -> Self {
        TableWriter {
            out,
            opts,
            names,
            owners,
            line: String::with_capacity(256),
            cell: String::with_capacity(64),
        }
    }

    pub fn section(&mut self, section: Section) -> io::Result<()> {
        let suffix = self.opts.show.header_suffix();
        self.line.clear();
        match section {
            Section::Inet => {
                let _ = writeln!(self.line, "Active Internet connections {suffix}");
                self.line.push_str(
                    "Proto Recv-Q Send-Q Local Address           Foreign Address         State      ",
                );
                if self.opts.extend {
                    self.line.push_str(" User       Inode     ");
                }
                if self.opts.programs {
                    self.line.push_str(" PID/Program name    ");
                }
                if self.opts.timers {
                    self.line.push_str(" Timer");
                }
            }
            Section::Unix => {
                let _ = writeln!(self.line, "Active UNIX domain sockets {suffix}");
                self.line
                    .push_str("Proto RefCnt Flags       Type       State         I-Node   ");
                if self.opts.programs {
                    self.line.push_str("PID/Program name     ");
                }
                self.line.push_str("Path");
            }
        }
        self.line.push('\n');
        self.out.write_all(self.line.as_bytes())
    }

    pub fn socket(&mut self, s: &Socket) -> io::Result<()> {
        self.line.clear();
        match &s.detail {
            Detail::Inet(i) => self.inet_row(s, i),
            Detail::Unix(u) => self.unix_row(s, u),
        }
        self.line.push('\n');
        self.out.write_all(self.line.as_bytes())
    }

    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }

    fn inet_row(&mut self, s: &Socket, i: &InetInfo) {
        let proto = i.proto.name(i.family);
        let (rq, sq) = (s.recv_q.unwrap_or(0), s.send_q.unwrap_or(0));
        let _ = write!(self.line, "{proto:<4}  {rq:>6} {sq:>6} ");
        self.cell.clear();
        endpoint(&mut self.cell, self.names, i.local, i.proto);
        let _ = write!(self.line, "{:<23} ", self.cell);
        self.cell.clear();
        endpoint(&mut self.cell, self.names, i.remote, i.proto);
        let _ = write!(self.line, "{:<23} ", self.cell);
        self.cell.clear();
        match (i.proto, s.state) {
            (InetProto::Tcp, st) => self.cell.push_str(st.tcp_name()),
            // netstat: an unconnected UDP socket has an empty State; raw shows the number.
            (InetProto::Raw, st) => {
                let _ = write!(self.cell, "{}", st.as_u8());
            }
            (_, State::Close) => {}
            (_, st) => self.cell.push_str(st.tcp_name()),
        }
        let _ = write!(self.line, "{:<11}", self.cell);
        if self.opts.extend {
            self.cell.clear();
            match s.uid {
                Some(uid) => match self.names.user(uid) {
                    Some(name) => escape_into(&mut self.cell, name.as_bytes()),
                    None => {
                        let _ = write!(self.cell, "{uid}");
                    }
                },
                None => self.cell.push('-'),
            }
            let _ = write!(self.line, " {:<10} {:<10}", self.cell, s.inode);
        }
        if self.opts.programs {
            self.cell.clear();
            owners_cell(&mut self.cell, self.owners, s.inode);
            let _ = write!(self.line, " {:<20}", self.cell);
        }
        if self.opts.timers {
            self.line.push(' ');
            match i.timer {
                Some(t) => {
                    let _ = write!(
                        self.line,
                        "{} ({}.{:02}/{}/{})",
                        t.kind.name(),
                        t.remaining_ms / 1000,
                        t.remaining_ms % 1000 / 10,
                        t.retransmits,
                        t.probes
                    );
                }
                None => self.line.push('-'),
            }
        }
    }

    fn unix_row(&mut self, s: &Socket, u: &UnixInfo) {
        self.line.push_str("unix  ");
        match u.refcnt {
            Some(r) => {
                let _ = write!(self.line, "{r:<6} ");
            }
            None => self.line.push_str("-      "),
        }
        let flags = if s.state == State::Listen {
            "[ ACC ]"
        } else {
            "[ ]"
        };
        let state = match s.state {
            State::Listen => "LISTENING",
            State::Established => "CONNECTED",
            State::SynSent => "CONNECTING",
            State::Close => "",
            _ => "UNKNOWN",
        };
        let _ = write!(
            self.line,
            "{flags:<11} {:<10} {state:<13} {:<8} ",
            u.kind.netstat_name(),
            s.inode
        );
        if self.opts.programs {
            self.cell.clear();
            owners_cell(&mut self.cell, self.owners, s.inode);
            let _ = write!(self.line, "{:<20} ", self.cell);
        }
        if let Some(name) = &u.name {
            escape_into(&mut self.line, &name.display_bytes());
        }
    }
}

/// `pid/name,pid/name` for every process holding the socket; `-` when none is visible.
/// One process holding the socket on several fds is listed once.
fn owners_cell(cell: &mut String, owners: Option<&OwnerMap>, inode: u64) {
    let mut last_pid = None;
    if let Some(map) = owners {
        for o in map.owners(inode) {
            if last_pid == Some(o.pid) {
                continue;
            }
            if last_pid.is_some() {
                cell.push(',');
            }
            last_pid = Some(o.pid);
            let _ = write!(cell, "{}/", o.pid);
            escape_into(cell, o.name);
        }
    }
    if last_pid.is_none() {
        cell.push('-');
    }
}

/// netstat's `host:port`: IPv6 without brackets, `*` for port 0, names unless numeric.
fn endpoint(cell: &mut String, names: &mut Names, addr: SocketAddr, proto: InetProto) {
    let ip = addr.ip();
    match names.host(ip) {
        Some(host) => escape_into(cell, host.as_bytes()),
        None => match ip {
            IpAddr::V6(v6) if v6.is_unspecified() && !names.mode().hosts => cell.push_str("[::]"),
            ip => {
                let _ = write!(cell, "{ip}");
            }
        },
    }
    cell.push(':');
    if addr.port() == 0 {
        cell.push('*');
    } else if proto == InetProto::Raw {
        // A raw socket's "port" is its IP protocol number.
        let _ = write!(cell, "{}", addr.port());
    } else {
        match names.service(addr.port(), proto.service_proto()) {
            Some(svc) => escape_into(cell, svc.as_bytes()),
            None => {
                let _ = write!(cell, "{}", addr.port());
            }
        }
    }
}
