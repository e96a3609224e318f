//! netstat's table: the same sections, headers and column order, with netstat's minimum column
//! widths that grow instead of cutting (so no second pass over the rows is needed), every owner
//! listed, and every name from the system escaped.

use std::fmt::Write as _;
use std::io;
use std::net::{IpAddr, SocketAddr};

use super::text::{push_ip, push_left, push_u64_left, push_u64_right};
use super::{Context, RenderOptions, Section};
use crate::decimal::push_u64;
use crate::escape::escape_into;
use crate::model::Extensions;
use crate::model::{Detail, InetInfo, InetProto, Socket, State, UnixInfo};
use crate::names::Names;
use crate::procmap::OwnerMap;

pub struct TableWriter<'a, W: io::Write> {
    out: W,
    opts: RenderOptions,
    names: &'a mut Names,
    ctx: Context<'a>,
    /// Reused per row so rendering allocates nothing in the steady state.
    line: String,
    cell: String,
    /// With -N: the current namespace's cell, escaped and padded.
    netns_cell: String,
}

/// The Netns column's minimum width: `[4026532281]` fits.
pub(crate) const NETNS_WIDTH: usize = 12;

impl<'a, W: io::Write> TableWriter<'a, W> {
    pub fn new(out: W, opts: RenderOptions, names: &'a mut Names, ctx: Context<'a>) -> Self {
        TableWriter {
            out,
            opts,
            names,
            ctx,
            line: String::with_capacity(256),
            cell: String::with_capacity(64),
            netns_cell: String::new(),
        }
    }

    /// With -N: the namespace of the rows that follow.
    pub fn set_netns(&mut self, netns: &crate::netns::Netns) {
        self.cell.clear();
        escape_into(&mut self.cell, &netns.label());
        self.netns_cell.clear();
        push_left(&mut self.netns_cell, &self.cell, NETNS_WIDTH);
        self.netns_cell.push(' ');
    }

    fn push_netns(&mut self) {
        if self.opts.netns {
            self.line.push_str(&self.netns_cell);
        }
    }

    pub fn section(&mut self, section: Section) -> io::Result<()> {
        if !self.opts.headers {
            return Ok(()); // -H: rows only
        }
        let suffix = self.opts.show.header_suffix();
        self.line.clear();
        match section {
            Section::Inet => {
                let _ = writeln!(self.line, "Active Internet connections {suffix}");
                if self.opts.netns {
                    push_left(&mut self.line, "Netns", NETNS_WIDTH + 1);
                }
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
                if self.opts.netns {
                    push_left(&mut self.line, "Netns", NETNS_WIDTH + 1);
                }
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

    /// One line of `--watch`: time, event, then the socket's row (and `FROM -> TO` for a state
    /// change), flushed at once so a pipe sees it as it happens.
    pub fn event(&mut self, ev: &crate::model::Event<'_>) -> io::Result<()> {
        self.line.clear();
        let _ = write!(self.line, "{} {:<6} ", ev.time, ev.kind.table_name());
        if let Some(ns) = ev.netns {
            self.set_netns(ns);
        }
        match &ev.socket.detail {
            Detail::Inet(i) => self.inet_row(ev.socket, i),
            Detail::Unix(u) => self.unix_row(ev.socket, u),
        }
        if let Some(from) = ev.from {
            let table = ev.socket.table();
            let _ = write!(
                self.line,
                " ({} -> {})",
                table.state_name(from),
                table.state_name(ev.socket.state)
            );
        }
        self.line.push('\n');
        self.out.write_all(self.line.as_bytes())?;
        self.out.flush()
    }

    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }

    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }

    fn inet_row(&mut self, s: &Socket, i: &InetInfo) {
        // netstat's names: UDP-Lite is `udpl`/`udpl6` in the table (JSON says `udplite`).
        let proto = match (i.proto, i.family) {
            (InetProto::UdpLite, crate::model::Family::V4) => "udpl",
            (InetProto::UdpLite, crate::model::Family::V6) => "udpl6",
            (p, f) => p.name(f),
        };
        self.push_netns();
        push_left(&mut self.line, proto, 5);
        self.line.push(' ');
        // A queue the kernel gave no value for (its −1 sentinel) is `-`, never 4294967295.
        for q in [s.recv_q, s.send_q] {
            match q {
                Some(n) => push_u64_right(&mut self.line, n.into(), 6),
                None => self.line.push_str("     -"),
            }
            self.line.push(' ');
        }
        self.line.pop();
        self.line.push(' ');
        self.cell.clear();
        endpoint(&mut self.cell, self.names, i.local, i.proto);
        push_left(&mut self.line, &self.cell, 23);
        self.line.push(' ');
        self.cell.clear();
        endpoint(&mut self.cell, self.names, i.remote, i.proto);
        push_left(&mut self.line, &self.cell, 23);
        self.line.push(' ');
        self.cell.clear();
        match (i.proto, s.state) {
            (InetProto::Tcp, st) => self.cell.push_str(st.tcp_name()),
            // netstat: an unconnected UDP socket has an empty State; raw shows the number.
            (InetProto::Raw, st) => {
                let _ = write!(self.cell, "{}", st.as_u8());
            }
            (_, State::Close) => {}
            (_, State::Established) => self.cell.push_str("ESTABLISHED"),
            (_, _) => self.cell.push_str("UNKNOWN"),
        }
        push_left(&mut self.line, &self.cell, 11);
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
            self.line.push(' ');
            push_left(&mut self.line, &self.cell, 10);
            self.line.push(' ');
            push_u64_left(&mut self.line, s.inode, 10);
        }
        if self.opts.programs {
            self.cell.clear();
            owners_cell(&mut self.cell, self.ctx.owners, s.inode);
            self.line.push(' ');
            push_left(&mut self.line, &self.cell, 20);
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
        if let Some(x) = &i.internals {
            let start = self.line.len();
            self.line.push_str("\n\t");
            let before = self.line.len();
            internals_line(&mut self.line, x, &self.opts, self.ctx);
            if self.line.len() == before {
                self.line.truncate(start); // nothing to say for this socket
            }
        }
    }

    fn unix_row(&mut self, s: &Socket, u: &UnixInfo) {
        self.push_netns();
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
            // A connection queued on a listener, not yet accepted: no inode yet (netstat's
            // word, from the kernel's SS_CONNECTING).
            State::Established if s.inode == 0 => "CONNECTING",
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
            owners_cell(&mut self.cell, self.ctx.owners, s.inode);
            push_left(&mut self.line, &self.cell, 20);
            self.line.push(' ');
        }
        if let Some(name) = &u.name {
            escape_into(&mut self.line, &name.display_bytes());
        }
    }
}

/// ss's second line: tcp_info (`--info`), skmem (`--memory`), v6only, mark, cgroup and shutdown
/// (`--extended`), each figure only when the kernel sent it.
fn internals_line(line: &mut String, x: &Extensions, opts: &RenderOptions, ctx: Context<'_>) {
    let mut sep = "";
    let mut put = |line: &mut String, args: std::fmt::Arguments<'_>| {
        line.push_str(sep);
        let _ = line.write_fmt(args);
        sep = " ";
    };
    if opts.internals.info {
        if let Some(c) = &x.cong {
            put(line, format_args!("{c}"));
        }
        if let Some(t) = &x.info {
            let ms = |us: u32| f64::from(us) / 1000.0;
            if let (Some(s), Some(r)) = (t.snd_wscale, t.rcv_wscale) {
                put(line, format_args!("wscale:{s},{r}"));
            }
            if let Some(v) = t.rto {
                put(line, format_args!("rto:{}", ms(v)));
            }
            if let (Some(r), Some(v)) = (t.rtt, t.rttvar) {
                put(line, format_args!("rtt:{}/{}", ms(r), ms(v)));
            }
            if let Some(v) = t.ato {
                put(line, format_args!("ato:{}", ms(v)));
            }
            let counters: [(&str, Option<u64>); 18] = [
                ("mss", t.snd_mss.map(u64::from)),
                ("pmtu", t.pmtu.map(u64::from)),
                ("rcvmss", t.rcv_mss.map(u64::from)),
                ("advmss", t.advmss.map(u64::from)),
                ("cwnd", t.snd_cwnd.map(u64::from)),
                ("ssthresh", t.snd_ssthresh.map(u64::from)),
                ("bytes_sent", t.bytes_sent),
                ("bytes_acked", t.bytes_acked),
                ("bytes_received", t.bytes_received),
                ("segs_out", t.segs_out.map(u64::from)),
                ("segs_in", t.segs_in.map(u64::from)),
                ("unacked", t.unacked.map(u64::from)),
                ("retrans", t.total_retrans.map(u64::from)),
                ("lost", t.lost.map(u64::from)),
                ("rcv_space", t.rcv_space.map(u64::from)),
                ("rcv_ssthresh", t.rcv_ssthresh.map(u64::from)),
                ("snd_wnd", t.snd_wnd.map(u64::from)),
                ("rcv_wnd", t.rcv_wnd.map(u64::from)),
            ];
            for (name, v) in counters {
                if let Some(v) = v {
                    put(line, format_args!("{name}:{v}"));
                }
            }
            if let Some(v) = t.pacing_rate.filter(|r| *r != u64::MAX) {
                put(line, format_args!("pacing_rate:{}bps", v.saturating_mul(8)));
            }
            if let Some(v) = t.delivery_rate {
                put(
                    line,
                    format_args!("delivery_rate:{}bps", v.saturating_mul(8)),
                );
            }
            for (name, us) in [
                ("busy", t.busy_time),
                ("rwnd_limited", t.rwnd_limited),
                ("sndbuf_limited", t.sndbuf_limited),
            ] {
                if let Some(us) = us {
                    put(line, format_args!("{name}:{}ms", us / 1000));
                }
            }
            if let Some(v) = t.min_rtt {
                put(line, format_args!("minrtt:{}", ms(v)));
            }
        }
    }
    if opts.internals.memory {
        if let Some(m) = &x.skmeminfo {
            let f = |v: Option<u32>| v.map_or_else(|| "-".to_string(), |v| v.to_string());
            put(
                line,
                format_args!(
                    "skmem:(r{},rb{},t{},tb{},f{},w{},o{},bl{},d{})",
                    f(m.rmem_alloc),
                    f(m.rcvbuf),
                    f(m.wmem_alloc),
                    f(m.sndbuf),
                    f(m.fwd_alloc),
                    f(m.wmem_queued),
                    f(m.optmem),
                    f(m.backlog),
                    f(m.drops)
                ),
            );
        }
    }
    if opts.internals.extended {
        if let Some(v) = x.v6only {
            put(line, format_args!("v6only:{}", u8::from(v)));
        }
        if let Some(m) = x.mark {
            put(line, format_args!("mark:{m:#x}"));
        }
        if let Some(id) = x.cgroup_id {
            match ctx.cgroups.and_then(|c| c.path(id)) {
                Some(p) => put(line, format_args!("cgroup:{}", crate::escape::escape(p))),
                None => put(line, format_args!("cgroup_id:{id}")),
            }
        }
        if let Some(s) = x.shutdown {
            put(line, format_args!("shutdown:{}", s.arrow()));
        }
    }
}

/// `pid/name,pid/name` for every process holding the socket; `-` when none is visible.
/// One process holding the socket on several fds is listed once. A process in a container
/// gets `@runtime:id` (the id cut to 12 hex digits; LXC and nspawn show the container's name).
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
            push_u64(cell, o.pid.into());
            cell.push('/');
            escape_into(cell, o.name);
            if let Some(c) = o.container {
                cell.push('@');
                cell.push_str(c.runtime.name());
                cell.push(':');
                escape_into(cell, c.short_id());
            }
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
            ip => push_ip(cell, ip),
        },
    }
    cell.push(':');
    if addr.port() == 0 {
        cell.push('*');
    } else if proto == InetProto::Raw {
        // A raw socket's "port" is its IP protocol number.
        push_u64(cell, addr.port().into());
    } else {
        match names.service(addr.port(), proto.service_proto()) {
            Some(svc) => escape_into(cell, svc.as_bytes()),
            None => push_u64(cell, addr.port().into()),
        }
    }
}
