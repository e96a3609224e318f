//! `--json`: one JSON array of socket objects, streamed object by object.
//!
//! The serde wire types here (`JsonSocket` and the rest) define the documented schema (man
//! page, JSON SCHEMA) and are kept apart from the model so the model can change without breaking
//! scripts. Strings carry the exact values (JSON-escaped by serde_json), not the table's escaped
//! forms; bytes that are not UTF-8 become U+FFFD.
//!
//! The socket object itself is written key by key by [`JsonWriter::write_object`] rather than
//! through the derived `Serialize`: at 100k sockets serde's per-key escaping and dispatch cost
//! a quarter of the listing's time. The derived types stay as the reference, and a test renders
//! sockets of every kind, with every key-adding option and hostile strings, both ways and
//! requires the same bytes. Every string still goes through serde_json's escaping unless it is
//! plain printable ASCII without `"` or `\`, which serde_json writes unchanged anyway; nested
//! values (`info`, `memory`, `shutdown`) are serialized by serde.

use std::io;

use serde::Serialize;

use super::{Context, RenderOptions};
use crate::model::TcpInfo;
#[cfg(test)]
use crate::model::{tcpinfo::Shutdown, SkMemInfo};
use crate::model::{Detail, InetProto, Socket, Table};
use crate::names::Names;

#[cfg(test)]
#[derive(Serialize)]
struct JsonSocket<'a> {
    proto: &'static str,
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    local: Option<JsonEndpoint<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remote: Option<JsonEndpoint<'a>>,
    recv_q: Option<u32>,
    send_q: Option<u32>,
    uid: Option<u32>,
    inode: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    netns: Option<Option<JsonNetns>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    processes: Option<JsonProcesses<'a>>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    peer_inode: Option<Option<u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timer: Option<Option<JsonTimer>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    info: Option<Option<JsonInfo<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    memory: Option<Option<&'a SkMemInfo>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    v6only: Option<Option<bool>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mark: Option<Option<u32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cgroup: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shutdown: Option<Option<Shutdown>>,
}

/// `--info`: the tcp_info fields the kernel sent, plus the congestion algorithm.
#[derive(Serialize)]
struct JsonInfo<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    congestion: Option<&'a str>,
    #[serde(flatten)]
    tcp: Option<&'a TcpInfo>,
}

#[cfg(test)]
#[derive(Serialize)]
struct JsonEndpoint<'a> {
    addr: &'a str,
    port: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    service: Option<String>,
}

/// `-N`: the namespace a socket is in.
#[derive(Serialize, Clone)]
struct JsonNetns {
    inode: u64,
    name: Option<String>,
}

#[cfg(test)]
#[derive(Serialize)]
struct JsonProcess<'a> {
    pid: u32,
    name: std::borrow::Cow<'a, str>,
    fd: u32,
    container: Option<JsonContainer>,
}

/// A process's container (the id never cut).
#[derive(Serialize)]
struct JsonContainer {
    runtime: &'static str,
    id: String,
    pod_uid: Option<String>,
    name: Option<String>,
}

impl JsonContainer {
    fn of(c: &crate::container::Container) -> JsonContainer {
        JsonContainer {
            runtime: c.runtime.name(),
            id: String::from_utf8_lossy(&c.id).into_owned(),
            pod_uid: c.pod_uid.as_deref().map(str::to_string),
            name: c
                .name
                .as_deref()
                .map(|n| String::from_utf8_lossy(n).into_owned()),
        }
    }
}

#[cfg(test)]
/// The `processes` array, serialized straight from the owner map: no per-row allocation.
struct JsonProcesses<'a> {
    owners: Option<&'a crate::procmap::OwnerMap>,
    inode: u64,
}

#[cfg(test)]
impl Serialize for JsonProcesses<'_> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let owners = self.owners.into_iter().flat_map(|m| m.owners(self.inode));
        ser.collect_seq(owners.map(|o| JsonProcess {
            pid: o.pid,
            name: String::from_utf8_lossy(o.name),
            fd: o.fd,
            container: o.container.map(JsonContainer::of),
        }))
    }
}

#[cfg(test)]
#[derive(Serialize)]
struct JsonTimer {
    kind: &'static str,
    remaining_ms: u64,
    retransmits: u32,
    probes: u32,
}

/// `"name":` for one of this module's own key names, which need no escaping.
macro_rules! key {
    ($name:literal) => {
        concat!("\"", $name, "\":").as_bytes()
    };
}

/// One JSON object being appended to a buffer: keys in the order they are given, commas
/// between members.
struct Object<'b> {
    buf: &'b mut Vec<u8>,
    first: bool,
}

impl<'b> Object<'b> {
    fn open(buf: &'b mut Vec<u8>) -> Object<'b> {
        buf.push(b'{');
        Object { buf, first: true }
    }

    /// A member's key, as [`key!`] spells it (`"name":`). Inlined, so each call site copies a
    /// constant number of bytes.
    #[inline(always)]
    fn key(&mut self, quoted: &'static [u8]) {
        if !self.first {
            self.buf.push(b',');
        }
        self.first = false;
        self.buf.extend_from_slice(quoted);
    }

    /// A string value, escaped exactly as serde_json escapes it.
    fn str(&mut self, s: &str) -> io::Result<()> {
        if s.bytes()
            .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
        {
            self.buf.push(b'"');
            self.buf.extend_from_slice(s.as_bytes());
            self.buf.push(b'"');
            Ok(())
        } else {
            serde_json::to_writer(&mut *self.buf, s).map_err(io::Error::from)
        }
    }

    #[inline]
    fn u64(&mut self, n: u64) {
        crate::decimal::push_u64_bytes(self.buf, n);
    }

    fn opt_u64(&mut self, n: Option<u64>) {
        match n {
            Some(n) => self.u64(n),
            None => self.null(),
        }
    }

    #[inline]
    fn null(&mut self) {
        self.buf.extend_from_slice(b"null");
    }

    /// A nested value through its `Serialize`.
    fn serde<T: Serialize>(&mut self, v: &T) -> io::Result<()> {
        serde_json::to_writer(&mut *self.buf, v).map_err(io::Error::from)
    }

    fn close(self) {
        self.buf.push(b'}');
    }
}

/// How much serialized text [`JsonWriter`] gathers before writing it.
const PENDING_FLUSH: usize = 64 * 1024;

pub struct JsonWriter<'a, W: io::Write> {
    out: W,
    opts: RenderOptions,
    names: &'a mut Names,
    ctx: Context<'a>,
    /// `--json-lines`: each object on its own line, no enclosing array.
    lines: bool,
    first: bool,
    /// Reused for the two addresses of each row (by the serde reference).
    #[cfg(test)]
    addrs: [String; 2],
    /// Serialized objects not yet handed to `out`.
    pending: Vec<u8>,
    /// With -N: the current namespace.
    netns: Option<JsonNetns>,
}

impl<'a, W: io::Write> JsonWriter<'a, W> {
    pub fn new(out: W, opts: RenderOptions, names: &'a mut Names, ctx: Context<'a>) -> Self {
        JsonWriter {
            out,
            opts,
            names,
            ctx,
            lines: false,
            first: true,
            #[cfg(test)]
            addrs: [String::new(), String::new()],
            pending: Vec::with_capacity(PENDING_FLUSH + 4096),
            netns: None,
        }
    }

    /// With -N: the namespace of the sockets that follow.
    pub fn set_netns(&mut self, netns: &crate::netns::Netns) {
        self.netns = Some(JsonNetns {
            inode: netns.inode,
            name: netns
                .name
                .as_deref()
                .map(|n| String::from_utf8_lossy(n).into_owned()),
        });
    }

    /// `--json-lines`: the same objects, one per line, with no array around them.
    pub fn lines(out: W, opts: RenderOptions, names: &'a mut Names, ctx: Context<'a>) -> Self {
        JsonWriter {
            lines: true,
            ..JsonWriter::new(out, opts, names, ctx)
        }
    }

    pub fn begin(&mut self) -> io::Result<()> {
        self.first = true;
        if self.lines {
            return Ok(());
        }
        self.out.write_all(b"[")
    }

    pub fn socket(&mut self, s: &Socket) -> io::Result<()> {
        if !self.first && !self.lines {
            self.pending.push(b',');
        }
        self.first = false;
        self.write_object(s)?;
        if self.lines {
            self.pending.push(b'\n');
        }
        if self.pending.len() >= PENDING_FLUSH {
            self.flush_pending()?;
        }
        Ok(())
    }

    /// Hands the objects serialized so far to the writer.
    fn flush_pending(&mut self) -> io::Result<()> {
        let r = self.out.write_all(&self.pending);
        self.pending.clear();
        r
    }

    /// One line of `--watch --json`: `{"time":…,"event":…,["from":…,"to":…,]"socket":{…}}`.
    pub fn event(&mut self, ev: &crate::model::Event<'_>) -> io::Result<()> {
        #[derive(Serialize)]
        struct Head<'e> {
            time: &'e str,
            event: &'e str,
            #[serde(skip_serializing_if = "Option::is_none")]
            from: Option<&'e str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            to: Option<&'e str>,
        }
        if let Some(ns) = ev.netns {
            self.set_netns(ns);
        }
        let table = ev.socket.table();
        let head = Head {
            time: ev.time,
            event: ev.kind.json_name(),
            from: ev.from.map(|st| table.state_name(st)),
            to: ev.from.map(|_| table.state_name(ev.socket.state)),
        };
        let mut text = serde_json::to_vec(&head).map_err(io::Error::from)?;
        text.pop(); // the closing brace: the socket goes inside
        self.flush_pending()?;
        self.out.write_all(&text)?;
        self.out.write_all(b",\"socket\":")?;
        self.write_object(ev.socket)?;
        self.flush_pending()?;
        self.out.write_all(b"}\n")?;
        self.out.flush()
    }

    /// Appends socket `s` as one JSON object: the same keys, order and bytes as the derived
    /// `JsonSocket` (see the module docs).
    fn write_object(&mut self, s: &Socket) -> io::Result<()> {
        let table = s.table();
        // Name lookups need `&mut self.names`: done before the buffer is borrowed.
        let endpoints = match &s.detail {
            Detail::Inet(i) => Some((
                self.endpoint_names(i.local, i.proto),
                self.endpoint_names(i.remote, i.proto),
            )),
            Detail::Unix(_) => None,
        };
        let user = self.user_key(s);
        let (opts, ctx, netns) = (&self.opts, self.ctx, &self.netns);
        let mut o = Object::open(&mut self.pending);
        o.key(key!("proto"));
        o.str(match table {
            Table::Inet(p, f) => p.name(f),
            Table::Unix => "unix",
        })?;
        o.key(key!("state"));
        o.str(table.state_name(s.state))?;
        if let (Detail::Inet(i), Some((local, remote))) = (&s.detail, endpoints) {
            for (key, addr, (host, service)) in [
                (key!("local"), i.local, local),
                (key!("remote"), i.remote, remote),
            ] {
                o.key(key);
                let mut e = Object::open(o.buf);
                e.key(key!("addr"));
                e.buf.push(b'"');
                super::text::push_ip_bytes(e.buf, addr.ip());
                e.buf.push(b'"');
                e.key(key!("port"));
                e.u64(addr.port().into());
                if let Some(h) = &host {
                    e.key(key!("host"));
                    e.str(h)?;
                }
                if let Some(svc) = &service {
                    e.key(key!("service"));
                    e.str(svc)?;
                }
                e.close();
            }
        }
        o.key(key!("recv_q"));
        o.opt_u64(s.recv_q.map(u64::from));
        o.key(key!("send_q"));
        o.opt_u64(s.send_q.map(u64::from));
        o.key(key!("uid"));
        o.opt_u64(s.uid.map(u64::from));
        o.key(key!("inode"));
        o.u64(s.inode);
        if opts.netns {
            o.key(key!("netns"));
            o.serde(netns)?;
        }
        if opts.programs {
            o.key(key!("processes"));
            o.buf.push(b'[');
            let owners = ctx.owners.into_iter().flat_map(|m| m.owners(s.inode));
            for (n, owner) in owners.enumerate() {
                if n > 0 {
                    o.buf.push(b',');
                }
                let mut p = Object::open(o.buf);
                p.key(key!("pid"));
                p.u64(owner.pid.into());
                p.key(key!("name"));
                p.str(&String::from_utf8_lossy(owner.name))?;
                p.key(key!("fd"));
                p.u64(owner.fd.into());
                p.key(key!("container"));
                match owner.container {
                    Some(c) => p.serde(&JsonContainer::of(c))?,
                    None => p.null(),
                }
                p.close();
            }
            o.buf.push(b']');
        }
        if let Detail::Unix(u) = &s.detail {
            o.key(key!("type"));
            o.str(u.kind.json_name())?;
            o.key(key!("path"));
            match &u.name {
                Some(n) => o.str(&String::from_utf8_lossy(&n.display_bytes()))?,
                None => o.null(),
            }
            o.key(key!("peer_inode"));
            o.opt_u64(u.peer_inode);
        }
        if let Some(user) = user {
            o.key(key!("user"));
            match user {
                Some(name) => o.str(&name)?,
                None => o.null(),
            }
        }
        if opts.timers {
            o.key(key!("timer"));
            match s.inet().and_then(|i| i.timer) {
                Some(t) => {
                    let mut e = Object::open(o.buf);
                    e.key(key!("kind"));
                    e.str(t.kind.name())?;
                    e.key(key!("remaining_ms"));
                    e.u64(t.remaining_ms);
                    e.key(key!("retransmits"));
                    e.u64(t.retransmits.into());
                    e.key(key!("probes"));
                    e.u64(t.probes.into());
                    e.close();
                }
                None => o.null(),
            }
        }
        let x = s.inet().and_then(|i| i.internals.as_deref());
        let int = opts.internals;
        if int.info {
            o.key(key!("info"));
            o.serde(&x.and_then(|x| {
                (x.info.is_some() || x.cong.is_some()).then_some(JsonInfo {
                    congestion: x.cong.as_deref(),
                    tcp: x.info.as_ref(),
                })
            }))?;
        }
        if int.memory {
            o.key(key!("memory"));
            o.serde(&x.and_then(|x| x.skmeminfo.as_ref()))?;
        }
        if int.extended {
            o.key(key!("v6only"));
            o.serde(&x.and_then(|x| x.v6only))?;
            o.key(key!("mark"));
            o.opt_u64(x.and_then(|x| x.mark).map(u64::from));
            o.key(key!("cgroup"));
            match x
                .and_then(|x| x.cgroup_id)
                .and_then(|id| ctx.cgroups.and_then(|c| c.path(id)))
            {
                // JSON strings are Unicode: like every other name, lossy there.
                Some(path) => o.str(&String::from_utf8_lossy(path))?,
                None => o.null(),
            }
            o.key(key!("shutdown"));
            o.serde(&x.and_then(|x| x.shutdown))?;
        }
        o.close();
        Ok(())
    }

    /// The object through the derived `Serialize`: the reference [`Self::write_object`] must match.
    #[cfg(test)]
    fn write_object_serde(&mut self, s: &Socket) -> io::Result<()> {
        let table = s.table();
        // Everything that needs `&mut self` first; `j` then borrows the writer's fields.
        let mut endpoints = None;
        if let Detail::Inet(i) = &s.detail {
            let local = self.endpoint_names(i.local, i.proto);
            let remote = self.endpoint_names(i.remote, i.proto);
            for (buf, a) in self.addrs.iter_mut().zip([i.local, i.remote]) {
                buf.clear();
                super::text::push_ip(buf, a.ip());
            }
            endpoints = Some((local, remote));
        }
        let user = self.user_key(s);
        let mut j = JsonSocket {
            proto: match table {
                Table::Inet(p, f) => p.name(f),
                Table::Unix => "unix",
            },
            state: table.state_name(s.state),
            local: None,
            remote: None,
            recv_q: s.recv_q,
            send_q: s.send_q,
            uid: s.uid,
            inode: s.inode,
            netns: self.opts.netns.then(|| self.netns.clone()),
            processes: None,
            kind: None,
            path: None,
            peer_inode: None,
            user: None,
            timer: None,
            info: None,
            memory: None,
            v6only: None,
            mark: None,
            cgroup: None,
            shutdown: None,
        };
        let x = s.inet().and_then(|i| i.internals.as_deref());
        let int = self.opts.internals;
        if int.info {
            j.info = Some(x.and_then(|x| {
                (x.info.is_some() || x.cong.is_some()).then_some(JsonInfo {
                    congestion: x.cong.as_deref(),
                    tcp: x.info.as_ref(),
                })
            }));
        }
        if int.memory {
            j.memory = Some(x.and_then(|x| x.skmeminfo.as_ref()));
        }
        if int.extended {
            j.v6only = Some(x.and_then(|x| x.v6only));
            j.mark = Some(x.and_then(|x| x.mark));
            j.cgroup = Some(x.and_then(|x| x.cgroup_id).and_then(|id| {
                self.ctx
                    .cgroups
                    .and_then(|c| c.path(id))
                    .map(|p| String::from_utf8_lossy(p).into_owned())
            }));
            j.shutdown = Some(x.and_then(|x| x.shutdown));
        }
        match &s.detail {
            Detail::Inet(i) => {
                if let Some(((lh, ls), (rh, rs))) = endpoints {
                    j.local = Some(JsonEndpoint {
                        addr: &self.addrs[0],
                        port: i.local.port(),
                        host: lh,
                        service: ls,
                    });
                    j.remote = Some(JsonEndpoint {
                        addr: &self.addrs[1],
                        port: i.remote.port(),
                        host: rh,
                        service: rs,
                    });
                }
                if self.opts.timers {
                    j.timer = Some(i.timer.map(|t| JsonTimer {
                        kind: t.kind.name(),
                        remaining_ms: t.remaining_ms,
                        retransmits: t.retransmits,
                        probes: t.probes,
                    }));
                }
            }
            Detail::Unix(u) => {
                j.kind = Some(u.kind.json_name());
                j.path = Some(
                    u.name
                        .as_ref()
                        .map(|n| String::from_utf8_lossy(&n.display_bytes()).into_owned()),
                );
                j.peer_inode = Some(u.peer_inode);
                if self.opts.timers {
                    j.timer = Some(None);
                }
            }
        }
        if self.opts.programs {
            j.processes = Some(JsonProcesses {
                owners: self.ctx.owners,
                inode: s.inode,
            });
        }
        j.user = user;
        // Appended to a buffer written in 64 KiB pieces: serde writes many small pieces, and
        // appending them to a Vec is cheaper than passing each through the buffered writer,
        // which then passes the big pieces on without copying them again.
        serde_json::to_writer(&mut self.pending, &j).map_err(io::Error::from)
    }

    pub fn into_inner(mut self) -> io::Result<W> {
        self.flush_pending()?;
        self.out.flush()?;
        Ok(self.out)
    }

    pub fn finish(mut self) -> io::Result<W> {
        self.flush_pending()?;
        if !self.lines {
            self.out.write_all(b"]\n")?;
        }
        self.out.flush()?;
        Ok(self.out)
    }

    /// The `user` key's value, when `-e` adds the key.
    fn user_key(&mut self, s: &Socket) -> Option<Option<String>> {
        self.opts.extend.then(|| {
            s.uid
                .and_then(|uid| self.names.user(uid).map(str::to_string))
        })
    }

    /// Host and service names of an endpoint (owned: both come from the one `Names`).
    fn endpoint_names(
        &mut self,
        addr: std::net::SocketAddr,
        proto: InetProto,
    ) -> (Option<String>, Option<String>) {
        let host = self.names.host(addr.ip()).map(str::to_string);
        let service = if proto == InetProto::Raw {
            None
        } else {
            self.names
                .service(addr.port(), proto.service_proto())
                .map(str::to_string)
        };
        (host, service)
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::time::Duration;

    use super::*;
    use crate::config::{Internals, ShowMode};
    use crate::model::Extensions;
    use crate::model::{Family, InetInfo, State, Timer, TimerKind, UnixInfo, UnixName, UnixType};
    use crate::names::NumericMode;
    use crate::procmap::OwnerMap;

    fn inet(inode: u64, local: &str, remote: &str, internals: Option<Extensions>) -> Socket {
        let local: SocketAddr = local.parse().expect("local");
        Socket {
            state: State::Established,
            recv_q: Some(5),
            send_q: None,
            uid: Some(1000),
            inode,
            detail: Detail::Inet(InetInfo {
                backlog: None,
                internals: internals.map(Box::new),
                bound_if: 0,
                mark: None,
                cgroup_id: None,
                kernel_filtered: false,
                proto: InetProto::Tcp,
                family: if local.is_ipv4() {
                    Family::V4
                } else {
                    Family::V6
                },
                local,
                remote: remote.parse().expect("remote"),
                timer: Some(Timer {
                    kind: TimerKind::Keepalive,
                    remaining_ms: 7200,
                    retransmits: 1,
                    probes: 2,
                }),
            }),
        }
    }

    fn unix(inode: u64, name: Option<UnixName>) -> Socket {
        Socket {
            state: State::Listen,
            recv_q: None,
            send_q: None,
            uid: None,
            inode,
            detail: Detail::Unix(UnixInfo {
                kind: UnixType::SeqPacket,
                name,
                peer_inode: Some(9),
                refcnt: None,
            }),
        }
    }

    #[test]
    fn the_hand_written_object_is_the_derived_one_byte_for_byte() {
        let internals = Extensions {
            cong: Some("cubic".into()),
            v6only: Some(true),
            mark: Some(0x2a),
            cgroup_id: Some(77),
            ..Extensions::default()
        };
        let sockets = [
            inet(11, "127.0.0.1:80", "10.200.3.4:51000", None),
            inet(12, "[::1]:443", "[2001:db8::1:443]:1", Some(internals)),
            inet(0, "0.0.0.0:0", "0.0.0.0:0", Some(Extensions::default())),
            unix(
                13,
                Some(UnixName::Path(
                    b"/run/a \"quoted\" \\ \n\x1b[31m\xff.sock".to_vec(),
                )),
            ),
            unix(14, Some(UnixName::Abstract(b"ab\0cd".to_vec()))),
            unix(15, None),
        ];
        // Owners with names serde must escape: quotes, backslash, control bytes, bad UTF-8.
        let owners = OwnerMap::from_triples(
            &[(11, 1, 3), (11, 2, 4), (12, 2, 5), (13, 3, 6), (14, 4, 7)],
            &[
                (1, b"plain"),
                (2, b"q\"b\\s"),
                (3, b"nl\ncr\r\x7f"),
                (4, b"\xff\xfe\x1b]0;x\x07"),
            ],
        )
        .with_containers(vec![
            (
                2,
                crate::container::from_path(
                    b"/kubepods.slice/kubepods-pod0b1c2d3e_4f50_6172_8394_a5b6c7d8e9f0.slice/cri-containerd-3f2a9c1b7d0e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c.scope",
                )
                .expect("k8s"),
            ),
            (
                4,
                crate::container::from_path(b"/lxc.payload.\"\xff\n").expect("lxc"),
            ),
        ]);
        let namespace = crate::netns::Netns {
            inode: 4026532281,
            name: Some(b"bl\"ue\xff\x1b".to_vec().into()),
            is_own: false,
        };
        let numeric = NumericMode {
            hosts: true,
            ports: false,
            users: false,
        };
        for bits in 0..128u32 {
            let on = |bit: u32| bits & (1 << bit) != 0;
            let opts = RenderOptions {
                show: ShowMode::All,
                programs: on(0),
                extend: on(1),
                timers: on(2),
                internals: Internals {
                    info: on(3),
                    memory: on(4),
                    extended: on(5),
                },
                netns: on(6),
                headers: true,
            };
            let mut names = Names::new(numeric, Duration::ZERO);
            let ctx = Context {
                owners: Some(&owners),
                cgroups: None,
            };
            let mut w = JsonWriter::new(Vec::new(), opts, &mut names, ctx);
            if bits & 1 == 1 {
                w.set_netns(&namespace);
            }
            for s in &sockets {
                w.pending.clear();
                w.write_object(s).expect("hand-written");
                let fast = std::mem::take(&mut w.pending);
                w.write_object_serde(s).expect("serde");
                let reference = std::mem::take(&mut w.pending);
                assert_eq!(
                    String::from_utf8_lossy(&fast),
                    String::from_utf8_lossy(&reference),
                    "options {bits:#08b}, socket {}",
                    s.inode
                );
                serde_json::from_slice::<serde_json::Value>(&fast).expect("valid JSON");
            }
        }
    }
}
