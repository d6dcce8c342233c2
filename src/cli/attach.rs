//! `run` on a bridge network (`--net bridge` or `--net NAME`): the
//! network (the default one made on first use), the bridge, an address,
//! published ports and pocket's nf_tables rules, all decided under the
//! networks lock, which the caller keeps until the container's record
//! exists (so no other pocket's gc can take the address back meanwhile);
//! then /etc/hosts, /etc/resolv.conf and /etc/hostname for the container.
//! The veth itself is made by the spawn, between clone and the go.

use super::args::text;
use super::run::RunArgs;
use crate::error::{Error, Result};
use crate::net::{etc, host};
use crate::spec::{Mount, NetAttach, Spec};
use crate::state::Store;
use crate::state::networks::{self, Nets};
use crate::state::ports::{self, PortSpec};
use crate::sys::{cstr, fs};
use alloc::string::String;
use alloc::vec::Vec;

/// The files written into the container's directory and bound over the
/// image's: (file name, path in the container).
const FILES: [(&str, &str); 3] = [
    ("hosts", "/etc/hosts"),
    ("resolv.conf", "/etc/resolv.conf"),
    ("hostname", "/etc/hostname"),
];

/// A network claimed for a container that does not exist yet: dropped
/// without `keep`, it gives the address and ports back.
pub struct Claim<'a> {
    nets: Nets<'a>,
    id: String,
    kept: bool,
    hosts: String,
    resolv: String,
    hostname: String,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if !self.kept {
            let _ = self.nets.release(&self.id);
            let _ = host::sync(&self.nets);
        }
    }
}

impl Claim<'_> {
    /// The record exists: write the /etc files into its directory; the
    /// lock goes with `self`.
    pub fn keep(mut self, dir: &str) -> Result<()> {
        self.kept = true;
        let d = cstr::cstring(dir.as_bytes()).unwrap_or_default();
        for ((file, _), data) in FILES
            .iter()
            .zip([&self.hosts, &self.resolv, &self.hostname])
        {
            fs::write_new(&d, file, data.as_bytes(), false)
                .map_err(|e| Error::sys("write", alloc::format!("{dir}/{file}"), e))?;
        }
        Ok(())
    }
}

fn bad(what: &str, v: &[u8], why: &'static str) -> Error {
    Error::bad(String::from(what), text(v), why)
}

/// Claim the network `r` asks for and fill `spec.net` and its mounts.
/// `exposed`: the image's ExposedPorts, for -P.
pub fn claim<'a>(
    store: &'a Store,
    r: &RunArgs,
    id: &str,
    dir: &str,
    spec: &mut Spec,
    exposed: &[String],
) -> Result<Claim<'a>> {
    let name = text(r.net.unwrap_or(b"bridge"));
    let want = match r.ip {
        Some(v) => Some(
            networks::parse_ip(&text(v))
                .ok_or_else(|| bad("invalid --ip", v, "not an IPv4 address"))?,
        ),
        None => None,
    };
    let mut specs: Vec<PortSpec> = Vec::new();
    for p in &r.publish {
        specs.extend(ports::parse_port(&text(p))?);
    }
    if r.publish_all {
        // -P: each exposed port on a random host port, as docker.
        for e in exposed {
            specs.extend(ports::parse_port(e)?);
        }
    }
    let mut extra = Vec::new();
    for h in &r.add_hosts {
        extra.push(
            etc::parse_add_host(&text(h))
                .ok_or_else(|| bad("invalid --add-host", h, "use NAME:IP"))?,
        );
    }
    let mut dns = Vec::new();
    for d in &r.dns {
        let t = text(d);
        networks::parse_ip(&t).ok_or_else(|| bad("invalid --dns", d, "not an IPv4 address"))?;
        dns.push(t);
    }
    let nets = Nets::lock(store)?;
    // Every claim keeps the lock until its record exists, so under the
    // lock an address or port whose container has no record was left by a
    // pocket killed in between: take it back before claiming.
    nets.gc(|c| store.load(c).is_ok())?;
    let net = if name == networks::DEFAULT {
        nets.default_network(&host::host_routes())?
    } else {
        networks::resolve(&store.root, &name).map_err(|e| e.with_code(125))?
    };
    host::ensure_bridge(&net)?;
    let mut claim = Claim {
        nets,
        id: String::from(id),
        kept: false,
        hosts: String::new(),
        resolv: String::new(),
        hostname: String::new(),
    };
    let ip = claim.nets.allocate(&net.name, id, want)?;
    claim.nets.publish(id, ip, &specs)?;
    host::sync(&claim.nets)?;
    spec.net = Some(NetAttach {
        network: net.name.clone(),
        bridge: net.bridge.clone(),
        ip,
        prefix: net.prefix,
        gateway: net.gateway,
    });
    let hostname = String::from_utf8_lossy(&spec.hostname).into_owned();
    let resolv = fs::read(c"/etc/resolv.conf").unwrap_or_default();
    claim.hosts = etc::hosts(&hostname, Some(ip), &extra);
    claim.resolv = etc::resolv_conf(&String::from_utf8_lossy(&resolv), &dns);
    claim.hostname = alloc::format!("{hostname}\n");
    for (file, dst) in FILES {
        spec.mounts.push(Mount {
            destination: String::from(dst),
            kind: String::from("bind"),
            source: alloc::format!("{dir}/{file}"),
            options: alloc::vec![String::from("rbind"), String::from("rprivate")],
        });
    }
    Ok(claim)
}
