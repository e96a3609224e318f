//! `--json`: one JSON array of socket objects, streamed object by object through serde.
//!
//! The wire types here are the documented schema (man page, JSON SCHEMA) and are kept apart from
//! the model so the model can change without breaking scripts. Strings carry the exact values
//! (JSON-escaped by serde), not the table's escaped forms; bytes that are not UTF-8 become U+FFFD.

use std::io;

use serde::Serialize;

use super::{Context, RenderOptions};
use crate::model::{Detail, InetProto, Socket, Table};
use crate::names::Names;
use crate::source::netlink::tcpinfo::{Shutdown, SkMemInfo, TcpInfo};

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

#[derive(Serialize)]
struct JsonEndpoint<'a> {
    addr: &'a str,
    port: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    service: Option<String>,
}

#[derive(Serialize)]
struct JsonProcess<'a> {
    pid: u32,
    name: std::borrow::Cow<'a, str>,
    fd: u32,
}

/// The `processes` array, serialized straight from the owner map: no per-row allocation.
struct JsonProcesses<'a> {
    owners: Option<&'a crate::procmap::OwnerMap>,
    inode: u64,
}

impl Serialize for JsonProcesses<'_> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let owners = self.owners.into_iter().flat_map(|m| m.owners(self.inode));
        ser.collect_seq(owners.map(|o| JsonProcess {
            pid: o.pid,
            name: String::from_utf8_lossy(o.name),
            fd: o.fd,
        }))
    }
}

#[derive(Serialize)]
struct JsonTimer {
    kind: &'static str,
    remaining_ms: u64,
    retransmits: u32,
    probes: u32,
}

pub struct JsonWriter<'a, W: io::Write> {
    out: W,
    opts: RenderOptions,
    names: &'a mut Names,
    ctx: Context<'a>,
    first: bool,
    /// Reused for the two addresses of each row.
    addrs: [String; 2],
    /// Reused for each object's text.
    object: Vec<u8>,
}

impl<'a, W: io::Write> JsonWriter<'a, W> {
    pub fn new(out: W, opts: RenderOptions, names: &'a mut Names, ctx: Context<'a>) -> Self {
        JsonWriter {
            out,
            opts,
            names,
            ctx,
            first: true,
            addrs: [String::new(), String::new()],
            object: Vec::with_capacity(1024),
        }
    }

    pub fn begin(&mut self) -> io::Result<()> {
        self.first = true;
        self.out.write_all(b"[")
    }

    pub fn socket(&mut self, s: &Socket) -> io::Result<()> {
        if !self.first {
            self.out.write_all(b",")?;
        }
        self.first = false;
        self.write_object(s)
    }

    /// One line of `--watch --json`: `{"time":…,"event":…,["from":…,"to":…,]"socket":{…}}`.
    pub fn event(&mut self, ev: &crate::watch::Event<'_>) -> io::Result<()> {
        #[derive(Serialize)]
        struct Head<'e> {
            time: &'e str,
            event: &'e str,
            #[serde(skip_serializing_if = "Option::is_none")]
            from: Option<&'e str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            to: Option<&'e str>,
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
        self.out.write_all(&text)?;
        self.out.write_all(b",\"socket\":")?;
        self.write_object(ev.socket)?;
        self.out.write_all(b"}\n")?;
        self.out.flush()
    }

    fn write_object(&mut self, s: &Socket) -> io::Result<()> {
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
        let user = if self.opts.extend {
            Some(
                s.uid
                    .and_then(|uid| self.names.user(uid).map(str::to_string)),
            )
        } else {
            None
        };
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
                    .map(str::to_string)
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
        // Serialized into a reused buffer and written whole: serde writes many small pieces, and
        // appending them to a Vec is cheaper than passing each through the buffered writer.
        self.object.clear();
        serde_json::to_writer(&mut self.object, &j).map_err(io::Error::from)?;
        self.out.write_all(&self.object)
    }

    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }

    pub fn finish(mut self) -> io::Result<W> {
        self.out.write_all(b"]\n")?;
        self.out.flush()?;
        Ok(self.out)
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
