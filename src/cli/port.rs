//! `pocket port CONTAINER [PRIVATE_PORT[/PROTO]]`: its published ports,
//! as docker prints them ("80/tcp -> 0.0.0.0:8080").

use super::Ctx;
use super::args::{flag, text};
use crate::error::{Error, Result};
use crate::net::networks::fmt_ip;
use crate::net::ports::{self, Mapping};
use crate::state::{Record, Status, Store};
use alloc::vec::Vec;

pub fn main(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("port", &[flag(0, "help", false)], argv)? else {
        return Ok(0);
    };
    let (q, want) = match p.rest[..] {
        [q] => (q, None),
        [q, w] => (q, Some(text(w))),
        _ => {
            return Err(Error::bad(
                "port",
                "",
                "needs CONTAINER [PRIVATE_PORT[/PROTO]]",
            ));
        }
    };
    let id = ctx.store.resolve(&text(q))?;
    let rec = ctx.store.load_live(&id)?;
    let mut found = false;
    for m in published(&ctx.store, &rec, &ports::of(&ctx.store.root, &id)?) {
        let private = alloc::format!("{}/{}", m.ctr_port, m.proto.as_str());
        let shown = match &want {
            None => alloc::format!("{private} -> {}:{}", fmt_ip(m.host_ip), m.host_port),
            Some(w) if *w == private || *w == alloc::format!("{}", m.ctr_port) => {
                alloc::format!("{}:{}", fmt_ip(m.host_ip), m.host_port)
            }
            Some(_) => continue,
        };
        found = true;
        crate::outln!("{shown}");
    }
    match want {
        Some(w) if !found => {
            Err(Error::bad("no public port", w, "published for this container").with_code(1))
        }
        _ => Ok(0),
    }
}

/// What `rec` (a live record) publishes, for `port`, `ps` and `inspect`:
/// the ports of `maps` (ports::all or ::of: a bridge network holds them
/// from create to rm) that are its own, and, while it runs, the forwards
/// slirp4netns made for this run (a stopped container has none).
pub fn published(store: &Store, rec: &Record, maps: &[Mapping]) -> Vec<Mapping> {
    let mut v: Vec<Mapping> = maps
        .iter()
        .filter(|m| m.container == rec.id)
        .cloned()
        .collect();
    if rec.status == Status::Running {
        v.extend(ports::of_run(&store.run_dir(&rec.id), &rec.id, rec.pid));
    }
    v
}

/// The exposed ports `rec` lists without publishing them (port and
/// protocol), as docker's NetworkSettings.Ports holds them (a null
/// binding): while it runs with a network of its own (a bridge network or
/// slirp4netns), none on the host's, none, or another container's.
pub fn exposed_only(
    store: &Store,
    rec: &Record,
    published: &[Mapping],
) -> Vec<(u16, &'static str)> {
    if rec.status != Status::Running {
        return Vec::new();
    }
    let Ok(spec) = store.spec(&rec.id) else {
        return Vec::new();
    };
    if spec.net.is_none() && spec.slirp.is_none() {
        return Vec::new();
    }
    let exposed = spec.config.map(|c| c.exposed_ports).unwrap_or_default();
    exposed
        .iter()
        .filter_map(|e| crate::image::change::port_range(e))
        .map(|(port, _, proto)| (port, proto))
        .filter(|&(port, proto)| {
            !published
                .iter()
                .any(|m| m.ctr_port == port && m.proto.as_str() == proto)
        })
        .collect()
}
