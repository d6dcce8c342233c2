//! A container's network, claimed as it is created: on a bridge network
//! (`--net bridge` or `--net NAME`) the network (the default one made on
//! first use), the bridge, an address, published ports and pocket's
//! nf_tables rules, all decided under the networks lock, which is kept
//! until the container's record exists (so no other pocket's gc can take
//! the address back meanwhile); for every mode but another container's
//! namespace, /etc/hosts, /etc/resolv.conf and /etc/hostname. The veth
//! itself is made by the spawn, between clone and the go.

use crate::error::{Error, Result};
use crate::net::networks::{self, Ip, Nets};
use crate::net::ports::PortSpec;
use crate::net::{etc, host};
use crate::spec::{Mount, NetAttach, Spec};
use crate::state::Store;
use crate::sys::{cstr, fs};
use alloc::string::String;
use alloc::vec::Vec;

/// What a front end asks of the network, parsed and checked.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub mode: Mode,
    /// No --net given: the default bridge network, or `none` (with a
    /// warning) where this kernel or these privileges cannot make one.
    pub implicit: bool,
    /// A fixed address on the bridge network (docker's --ip).
    pub ip: Option<Ip>,
    /// Ports to publish (docker's -p, and -P's exposed ports).
    pub ports: Vec<PortSpec>,
    /// /etc/hosts lines (name, address) and nameservers.
    pub add_hosts: Vec<(String, String)>,
    pub dns: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Mode {
    /// A namespace of its own with `lo` only.
    #[default]
    None,
    /// The host's network namespace.
    Host,
    /// A pocket bridge network, by name.
    Bridge(String),
    /// A namespace of its own, its network made by slirp4netns (this
    /// program) at each start: rootless (net/slirp.rs). Loopback: the
    /// host's 127.0.0.1 reachable at 10.0.2.2.
    Slirp { bin: String, host_loopback: bool },
    /// Another container's namespace: nothing to claim, no files.
    Container,
    /// As the Spec says (an OCI bundle's config.json): nothing claimed,
    /// no files written; the engine made the network.
    Spec,
}

/// The files written into the container's directory and bound over the
/// image's: (file name, path in the container).
pub const FILES: [(&str, &str); 3] = [
    ("hosts", "/etc/hosts"),
    ("resolv.conf", "/etc/resolv.conf"),
    ("hostname", "/etc/hostname"),
];

/// A network claimed for a container that does not exist yet: dropped
/// without `keep`, it gives the address and ports back. With `--net none`
/// or `host` there is nothing to claim (`nets` is None), only the files.
pub struct Claim {
    nets: Option<Nets>,
    /// On a network other than the default: names are shared.
    user_net: bool,
    id: String,
    kept: bool,
    hosts: String,
    resolv: String,
    hostname: String,
}

impl Drop for Claim {
    fn drop(&mut self) {
        if let (false, Some(n)) = (self.kept, &self.nets) {
            let _ = n.release(&self.id);
            let _ = host::sync(n);
        }
    }
}

impl Claim {
    /// The record exists: write the /etc files into its directory, 0644
    /// as docker's (a process running as any user resolves names); the
    /// lock goes with `self`.
    pub fn keep(mut self, dir: &str, store: &Store) -> Result<()> {
        self.kept = true;
        let d = cstr::cstring(dir.as_bytes()).unwrap_or_default();
        for ((file, _), data) in FILES
            .iter()
            .zip([&self.hosts, &self.resolv, &self.hostname])
        {
            fs::write_new_exact(&d, file, data.as_bytes(), 0o644)
                .map_err(|e| Error::sys("write", alloc::format!("{dir}/{file}"), e))?;
        }
        // On a user network: its members' names, in everyone's hosts file.
        if let (true, Some(n)) = (self.user_net, &self.nets) {
            super::hosts::sync_all(store, n);
        }
        Ok(())
    }
}

/// The host's resolv.conf; with systemd-resolved's stub (127.0.0.53, out
/// of a container's reach) the file with the real upstream servers, as
/// docker reads it.
fn host_resolv() -> Vec<u8> {
    let r = fs::read(c"/etc/resolv.conf").unwrap_or_default();
    let stub = String::from_utf8_lossy(&r)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .all(|ns| ns.trim().starts_with("127."));
    if stub && let Ok(up) = fs::read(c"/run/systemd/resolve/resolv.conf") {
        return up;
    }
    r
}

/// Bind the files over the image's: they are written once the record
/// exists (`Claim::keep`). Before the user's mounts, which win: a volume
/// on /etc (or through a link to it) hides them rather than getting their
/// mount points created in it.
fn mount_files(spec: &mut Spec, dir: &str) {
    // After the standard mounts this spec kept (a plain user's has no
    // cgroup mount, `--ipc none` no /dev/shm): before the first of the
    // user's.
    let standard = crate::spec::default_mounts();
    let at = spec
        .mounts
        .iter()
        .take_while(|m| standard.iter().any(|d| d.destination == m.destination))
        .count();
    for (i, (file, dst)) in FILES.iter().enumerate() {
        spec.mounts.insert(
            at + i,
            Mount {
                destination: String::from(*dst),
                kind: String::from("bind"),
                source: alloc::format!("{dir}/{file}"),
                options: alloc::vec![String::from("rbind"), String::from("rprivate")],
            },
        );
    }
}

/// The container's host name; the host's own for `--uts host` (the Spec
/// names none then).
fn hostname_of(spec: &Spec) -> String {
    if spec.hostname.is_empty() {
        let h = fs::read(c"/proc/sys/kernel/hostname").unwrap_or_default();
        return String::from_utf8_lossy(&h).trim().into();
    }
    String::from_utf8_lossy(&spec.hostname).into_owned()
}

/// `--net none` or `host`: no network to claim, but docker's files all
/// the same: /etc/hosts with localhost (with `host`, the host's own) and
/// --add-host lines, the host's resolv.conf (or --dns), /etc/hostname.
fn files_only(r: &Request, dir: &str, spec: &mut Spec, host_mode: bool) -> Result<Claim> {
    let (extra, dns) = (&r.add_hosts, &r.dns);
    let hostname = hostname_of(spec);
    let resolv = host_resolv();
    let resolv = String::from_utf8_lossy(&resolv);
    let (hosts, resolv) = if host_mode {
        let mut h =
            String::from_utf8_lossy(&fs::read(c"/etc/hosts").unwrap_or_default()).into_owned();
        for (name, addr) in extra {
            h.push_str(&alloc::format!("{addr}\t{name}\n"));
        }
        let r = if dns.is_empty() {
            resolv.into_owned()
        } else {
            etc::resolv_conf(&resolv, dns)
        };
        (h, r)
    } else {
        (
            etc::hosts(&hostname, None, extra),
            etc::resolv_conf(&resolv, dns),
        )
    };
    mount_files(spec, dir);
    Ok(Claim {
        user_net: false,
        nets: None,
        id: String::new(),
        kept: false,
        hosts,
        resolv,
        hostname: alloc::format!("{hostname}\n"),
    })
}

/// `--net slirp4netns`: nothing claimed (slirp4netns binds the -p host
/// ports at each start, as the user, and each start records the ports it
/// got in the container's run directory), /etc files as `none`'s with
/// slirp's DNS forwarder unless --dns says.
fn slirp(
    store: &Store,
    r: &Request,
    id: &str,
    bin: &str,
    host_loopback: bool,
    dir: &str,
    spec: &mut Spec,
) -> Result<Option<Claim>> {
    let mut r = r.clone();
    if r.dns.is_empty() {
        r.dns.push(String::from(crate::net::slirp::DNS));
    }
    spec.slirp = Some(crate::net::slirp::Config {
        bin: String::from(bin),
        host_loopback,
        ports: r.ports.clone(),
        sock_dir: store.run.clone(),
        run_dir: store.run_dir(id),
    });
    let mut claim = files_only(&r, dir, spec, false)?;
    claim.hosts = etc::hosts(
        &hostname_of(spec),
        Some(crate::net::slirp::GUEST),
        &r.add_hosts,
    );
    Ok(Some(claim))
}

/// Claim the network `r` asks for container `id` (whose directory is
/// `dir`), and fill `spec.net` and its mounts. None for another
/// container's namespace: nothing of its own to claim.
pub fn claim(
    store: &Store,
    r: &Request,
    id: &str,
    dir: &str,
    spec: &mut Spec,
) -> Result<Option<Claim>> {
    let name = match &r.mode {
        Mode::None => return files_only(r, dir, spec, false).map(Some),
        Mode::Host => return files_only(r, dir, spec, true).map(Some),
        Mode::Container | Mode::Spec => return Ok(None),
        Mode::Slirp { bin, host_loopback } => {
            return slirp(store, r, id, bin, *host_loopback, dir, spec);
        }
        Mode::Bridge(n) => n.clone(),
    };
    match bridge(store, r, &name, id, dir, spec) {
        Err(e) if r.implicit && r.ports.is_empty() && r.ip.is_none() && cannot(&e) => {
            crate::errln!("pocket: WARNING: no bridge network here ({e}); running with --net none");
            files_only(r, dir, spec, false).map(Some)
        }
        res => res.map(Some),
    }
}

/// A failure that says this kernel (no bridge, veth or nf_tables) or
/// these privileges (no CAP_NET_ADMIN) cannot give a bridge network,
/// rather than that something is wrong with this one.
fn cannot(e: &Error) -> bool {
    use crate::sys::Errno;
    matches!(
        e.why,
        crate::error::Why::Errno(
            Errno::EOPNOTSUPP
                | Errno::EPROTONOSUPPORT
                | Errno::EAFNOSUPPORT
                | Errno::EPERM
                | Errno::EACCES
        )
    )
}

fn bridge(
    store: &Store,
    r: &Request,
    name: &str,
    id: &str,
    dir: &str,
    spec: &mut Spec,
) -> Result<Claim> {
    let (want, specs, extra, dns) = (r.ip, &r.ports, &r.add_hosts, &r.dns);
    let nets = Nets::lock(&store.root, &store.run)?;
    // Every claim keeps the lock until its record exists, so under the
    // lock an address or port whose container has no record was left by a
    // pocket killed in between: take it back before claiming.
    nets.gc(|c| store.load(c).is_ok())?;
    let net = if name == networks::DEFAULT {
        // The host's routes only matter (and are only read: a full BGP
        // table is large) when the default network is still to be made.
        let routes = match networks::get(&store.root, networks::DEFAULT) {
            Ok(_) => Vec::new(),
            Err(_) => host::host_routes(),
        };
        nets.default_network(&routes)?
    } else {
        networks::resolve(&store.root, name).map_err(|e| e.with_code(125))?
    };
    host::ensure_bridge(&net)?;
    let mut claim = Claim {
        user_net: net.name != networks::DEFAULT,
        nets: Some(nets),
        id: String::from(id),
        kept: false,
        hosts: String::new(),
        resolv: String::new(),
        hostname: String::new(),
    };
    // Through the claim: a failure from here on gives everything back.
    let Some(nets) = claim.nets.as_ref() else {
        return Err(Error::bad("network", net.name.clone(), "not locked"));
    };
    // (A netlink socket only if an address is looked at.)
    let mut s: Option<Option<crate::net::nl::Sock>> = None;
    let ip = nets.allocate(&net.name, id, want, |ip| {
        s.get_or_insert_with(|| crate::net::nl::Sock::open(crate::net::nl::NETLINK_ROUTE).ok())
            .as_mut()
            .is_some_and(|s| host::veth_lingers(s, ip))
    })?;
    drop(s);
    crate::rt::crash::step("network: address allocated");
    nets.publish(id, ip, specs)?;
    host::sync(nets)?;
    crate::rt::crash::step("network: host synced");
    spec.net = Some(NetAttach {
        network: net.name.clone(),
        bridge: net.bridge.clone(),
        ip,
        prefix: net.prefix,
        gateway: net.gateway,
    });
    let hostname = hostname_of(spec);
    let resolv = host_resolv();
    claim.hosts = etc::hosts(&hostname, Some(ip), extra);
    claim.resolv = etc::resolv_conf(&String::from_utf8_lossy(&resolv), dns);
    claim.hostname = alloc::format!("{hostname}\n");
    mount_files(spec, dir);
    Ok(claim)
}

/// `network connect NET CTR`: an address on `net` for container `q`
/// (its eth1, eth2... from the next start on, and now if it runs), names
/// shared with the network's other members.
pub fn connect(
    store: &Store,
    q: &str,
    net: &str,
    want: Option<Ip>,
    aliases: &[String],
) -> Result<()> {
    let id = store.resolve(q)?;
    let (_l, rec) = settled(store, &id)?;
    let mut spec = store.spec(&id)?;
    if spec.net.is_none() && spec.extra_nets.is_empty() {
        return Err(Error::bad(
            "network connect",
            rec.name.clone(),
            "container is not on a bridge network (--net none, host or container:)",
        ));
    }
    let nets = Nets::lock(&store.root, &store.run)?;
    let n = networks::resolve(&store.root, net)?;
    let on = |a: &NetAttach| a.network == n.name;
    if spec.net.as_ref().is_some_and(on) || spec.extra_nets.iter().any(on) {
        return Err(Error::bad(
            "endpoint with name",
            rec.name.clone(),
            alloc::format!("already exists in network {}", n.name),
        )
        .with_code(1));
    }
    host::ensure_bridge(&n)?;
    // (No address is passed over for a lingering veth: a killed connect
    // can leave its veth in this very container after the address went
    // back (the network removed and made again, as inspect did not show
    // it), and that veth, found by the address's name, is taken back
    // below.)
    let ip = nets.allocate(&n.name, &id, want, |_| false)?;
    crate::rt::crash::step("connect: address allocated");
    let a = attachment(&n, ip);
    let undo = |e: Error| {
        if rec.running() {
            let _ = host::detach(&a);
        }
        let _ = nets.release_on(&n.name, &id);
        let _ = host::sync(&nets);
        e
    };
    host::sync(&nets).map_err(undo)?;
    crate::rt::crash::step("connect: host synced");
    if rec.running() {
        // The pair a killed connect left for this address goes first, so
        // that its ethN is free again.
        host::detach(&a).map_err(undo)?;
        host::attach_as(rec.pid, &a, &free_ifname(rec.pid), false).map_err(undo)?;
        crate::rt::crash::step("connect: interface made");
    }
    spec.extra_nets.push(a.clone());
    store.save_spec(&id, &spec).map_err(undo)?;
    crate::rt::crash::step("connect: spec saved");
    let mut rec = store.load(&id)?;
    for al in aliases {
        rec.aliases.push((n.name.clone(), al.clone()));
    }
    store.save_durable(&rec)?;
    crate::rt::crash::step("connect: record saved");
    super::hosts::sync_all(store, &nets);
    crate::state::events::emit(store, &rec, "connect", &[("network", n.name.clone())]);
    Ok(())
}

/// Container `id` on network `net` as its spec says (a record without a
/// readable spec counts as on it). Under the networks lock an address a
/// container holds on a network its spec does not list was left by a
/// `network connect` or `disconnect` killed halfway (`network rm` and
/// prune see no endpoint in it; `disconnect` takes it back).
pub fn on_network(store: &Store, id: &str, net: &str) -> bool {
    if store.load(id).is_err() {
        return false;
    }
    store.spec(id).map_or(true, |s| {
        s.net.iter().chain(&s.extra_nets).any(|a| a.network == net)
    })
}

fn attachment(n: &networks::Network, ip: Ip) -> NetAttach {
    NetAttach {
        network: n.name.clone(),
        bridge: n.bridge.clone(),
        ip,
        prefix: n.prefix,
        gateway: n.gateway,
    }
}

/// The container's lock and record once no other pocket is starting it
/// (its networks are set up during a start, which takes milliseconds):
/// waited for, up to 10 s, then refused.
fn settled(store: &Store, id: &str) -> Result<(crate::sys::lock::Lock, crate::state::Record)> {
    let mut tries = 0;
    loop {
        let l = store.lock(id)?;
        let rec = store.load_live(id)?;
        if !rec.busy() {
            return Ok((l, rec));
        }
        drop(l);
        tries += 1;
        if tries > 500 {
            return Err(
                Error::bad("container", rec.name.clone(), "is being started; try again")
                    .with_code(1),
            );
        }
        crate::sys::time::sleep_ms(20);
    }
}

/// The first ethN (N >= 1) the container's network namespace lacks.
fn free_ifname(pid: i32) -> String {
    let dev = fs::read(
        &cstr::cstring(alloc::format!("/proc/{pid}/net/dev").as_bytes()).unwrap_or_default(),
    )
    .unwrap_or_default();
    let text = String::from_utf8_lossy(&dev);
    let taken: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split(':').next().map(str::trim))
        .collect();
    (1..)
        .map(|n| alloc::format!("eth{n}"))
        .find(|n| !taken.contains(&n.as_str()))
        .unwrap_or_default()
}

/// `network disconnect NET CTR`: off `net`, now if it runs and at its
/// next starts; its address goes back and its names leave the others'
/// hosts files.
pub fn disconnect(store: &Store, q: &str, net: &str) -> Result<()> {
    let id = store.resolve(q)?;
    let (_l, rec) = settled(store, &id)?;
    let mut spec = store.spec(&id)?;
    let nets = Nets::lock(&store.root, &store.run)?;
    let name = networks::resolve(&store.root, net)
        .map(|n| n.name)
        .unwrap_or_else(|_| String::from(net));
    // The network it was made on holds its published ports and default
    // route: pocket keeps it (docker would let it go).
    if spec.net.as_ref().is_some_and(|a| a.network == name) {
        return Err(Error::bad(
            "network disconnect",
            rec.name.clone(),
            alloc::format!(
                "{name} is the network it was created on (its ports and route): pocket cannot take it off that one"
            ),
        ));
    }
    // Off in the spec first: from then on inspect no longer says it is on
    // the network, and what a kill leaves (the interface, the address)
    // the next disconnect takes back.
    let listed = spec.extra_nets.iter().position(|a| a.network == name);
    // Half on: the address (and maybe the interface) of a `network
    // connect` or `disconnect` killed halfway, the spec not listing it.
    let held = || {
        let n = networks::get(&store.root, &name).ok()?;
        n.ip_of(&id).map(|ip| attachment(&n, ip))
    };
    let a = match (listed, held()) {
        (Some(i), _) => {
            let a = spec.extra_nets.remove(i);
            store.save_spec(&id, &spec)?;
            crate::rt::crash::step("disconnect: spec saved");
            a
        }
        (None, Some(a)) => a,
        (None, None) => {
            return Err(Error::bad(
                "container",
                rec.name.clone(),
                alloc::format!("is not connected to network {name}"),
            )
            .with_code(1));
        }
    };
    if rec.running() {
        host::detach(&a)?;
        crate::rt::crash::step("disconnect: interface gone");
    }
    nets.release_on(&name, &id)?;
    crate::rt::crash::step("disconnect: address released");
    host::sync(&nets)?;
    let mut rec = store.load(&id)?;
    rec.aliases.retain(|(n, _)| *n != name);
    store.save_durable(&rec)?;
    crate::rt::crash::step("disconnect: record saved");
    super::hosts::sync_all(store, &nets);
    // Its own file keeps no section for the network it left.
    super::hosts::drop_section(store, &id, &name);
    crate::state::events::emit(store, &rec, "disconnect", &[("network", name)]);
    Ok(())
}
