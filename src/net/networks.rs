//! Networks as state: bridge networks, their address allocations (IPAM)
//! and the ports containers publish, kept as JSON under the root.
//!
//! ```text
//! <root>/networks/<name>.json   one network: subnet, gateway, bridge,
//!                               and "Containers": {id: address}
//! <root>/networks/_ports.json   every published port (ports.rs)
//! <run>/networks.lock           flock(2) around every change
//! ```
//!
//! Every change happens inside a `Nets` (the lock held), so two pockets
//! never hand out one address or one host port, and whoever syncs the
//! host (bridge, nf_tables) from this state sees it whole. Readers (ls,
//! inspect, ps) need no lock: files are replaced atomically.

use crate::error::cpath as cs;
use crate::error::{Context, Error, Result};
use crate::json::{self, Value};
use crate::sys::lock::Lock;
use crate::sys::{Errno, fd, fs};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// An IPv4 address, network byte order.
pub type Ip = [u8; 4];

/// The network `run` uses when no --net is given, as docker's "bridge".
pub const DEFAULT: &str = "bridge";
pub const DEFAULT_BRIDGE: &str = "pocket0";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    pub name: String,
    /// 64 hex digits, as docker's network ids.
    pub id: String,
    /// The host's bridge device: at most 15 bytes (IFNAMSIZ - 1).
    pub bridge: String,
    pub subnet: Ip,
    pub prefix: u8,
    pub gateway: Ip,
    /// RFC 3339.
    pub created: String,
    /// Container id and its address, in allocation order.
    pub containers: Vec<(String, Ip)>,
    /// `network create --label`.
    pub labels: Vec<(String, String)>,
}

// Addresses.

pub fn ip_u32(ip: Ip) -> u32 {
    u32::from_be_bytes(ip)
}

pub fn mask(prefix: u8) -> u32 {
    match prefix {
        0 => 0,
        p => u32::MAX << (32 - p.min(32) as u32),
    }
}

/// Two prefixes share an address.
pub fn overlaps(a: (Ip, u8), b: (Ip, u8)) -> bool {
    let m = mask(a.1.min(b.1));
    ip_u32(a.0) & m == ip_u32(b.0) & m
}

pub fn contains(net: (Ip, u8), ip: Ip) -> bool {
    overlaps(net, (ip, 32)) && net.1 <= 32
}

/// A dotted quad, strictly: four decimal numbers 0-255 with no leading
/// zeros (inet_aton would read "010" as octal 8: refused, not guessed).
pub fn parse_ip(s: &str) -> Option<Ip> {
    let mut ip = [0u8; 4];
    let mut parts = s.split('.');
    for b in ip.iter_mut() {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        if p.len() > 1 && p.starts_with('0') {
            return None;
        }
        *b = p.parse().ok()?;
    }
    parts.next().is_none().then_some(ip)
}

/// `A.B.C.D/N`.
pub fn parse_cidr(s: &str) -> Option<(Ip, u8)> {
    let (ip, p) = s.split_once('/')?;
    if p.is_empty() || p.len() > 2 || !p.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let p: u8 = p.parse().ok()?;
    (p <= 32).then_some((parse_ip(ip)?, p))
}

pub fn fmt_ip(ip: Ip) -> String {
    format!("{}.{}.{}.{}", ip[0], ip[1], ip[2], ip[3])
}

pub fn fmt_cidr(ip: Ip, prefix: u8) -> String {
    format!("{}/{}", fmt_ip(ip), prefix)
}

impl Network {
    pub fn cidr(&self) -> String {
        fmt_cidr(self.subnet, self.prefix)
    }

    pub fn broadcast(&self) -> Ip {
        (ip_u32(self.subnet) | !mask(self.prefix)).to_be_bytes()
    }

    /// The address `container` holds here, if any.
    pub fn ip_of(&self, container: &str) -> Option<Ip> {
        self.containers
            .iter()
            .find(|(c, _)| c == container)
            .map(|&(_, ip)| ip)
    }

    pub fn to_json(&self) -> Value {
        let cs = self
            .containers
            .iter()
            .map(|(c, ip)| (c.clone(), json::str(&fmt_ip(*ip))))
            .collect();
        json::obj!(
            ("Name", Some(json::str(&self.name))),
            ("Id", Some(json::str(&self.id))),
            ("Bridge", Some(json::str(&self.bridge))),
            ("Subnet", Some(json::str(&self.cidr()))),
            ("Gateway", Some(json::str(&fmt_ip(self.gateway)))),
            ("Created", Some(json::str(&self.created))),
            ("Containers", Some(Value::Obj(cs))),
            (
                "Labels",
                (!self.labels.is_empty()).then(|| json::pairs(&self.labels))
            ),
        )
    }

    /// None unless it is a whole, consistent network record.
    pub fn from_json(v: &Value) -> Option<Network> {
        let s = |k: &str| v.get(k).and_then(Value::str).map(String::from);
        let (subnet, prefix) = parse_cidr(v.get("Subnet")?.str()?)?;
        let gateway = parse_ip(v.get("Gateway")?.str()?)?;
        let mut containers = Vec::new();
        if let Some(Value::Obj(m)) = v.get("Containers") {
            for (c, ip) in m {
                containers.push((c.clone(), parse_ip(ip.str()?)?));
            }
        }
        let bridge = s("Bridge")?;
        if bridge.is_empty() || bridge.len() > 15 || !contains((subnet, prefix), gateway) {
            return None;
        }
        Some(Network {
            name: s("Name")?,
            id: s("Id")?,
            bridge,
            subnet,
            prefix,
            gateway,
            created: s("Created").unwrap_or_default(),
            containers,
            labels: json::str_pairs(v.get("Labels")),
        })
    }
}

/// The bridge device of a network: pocket0 for the default one, else
/// "pk-" and 8 hex digits of its id (11 bytes: under IFNAMSIZ, and never
/// one of docker's docker0/br-*, podman's podman*/cni* or libvirt's virbr*).
pub fn bridge_name(name: &str, id: &str) -> String {
    if name == DEFAULT {
        return String::from(DEFAULT_BRIDGE);
    }
    format!("pk-{}", &id[..id.len().min(8)])
}

// Reading (no lock needed).

pub fn dir(root: &str) -> String {
    format!("{root}/networks")
}

fn no_such(name: &str) -> Error {
    Error::bad("no such network", name, "not found").with_code(1)
}

fn read_at(root: &str, name: &str) -> Result<Option<Network>> {
    let p = format!("{}/{name}.json", dir(root));
    let data = match fs::read(&cs(&p)?) {
        Ok(d) => d,
        Err(Errno::ENOENT) => return Ok(None),
        Err(e) => return Err(Error::sys("read", p, e)),
    };
    json::parse(&data)
        .ok()
        .and_then(|v| Network::from_json(&v))
        .filter(|n| n.name == name)
        .map(Some)
        .ok_or_else(|| Error::bad("network", p, "not a network record"))
}

/// Network `name`, or "no such network" (exit 1).
pub fn get(root: &str, name: &str) -> Result<Network> {
    if !crate::rt::names::valid(name) {
        return Err(no_such(name));
    }
    read_at(root, name)?.ok_or_else(|| no_such(name))
}

/// Every network, by name. A damaged file is skipped, not fatal: one bad
/// record must not hide the others.
pub fn list(root: &str) -> Result<Vec<Network>> {
    let d = dir(root);
    let f = match fd::open(&cs(&d)?, libc::O_RDONLY | libc::O_DIRECTORY, 0) {
        Err(Errno::ENOENT) => return Ok(Vec::new()),
        r => r.ctx("open", &d)?,
    };
    let mut out: Vec<Network> = fs::list_dir(&f)
        .ctx("list", &d)?
        .iter()
        .filter_map(|e| e.name.strip_suffix(".json"))
        .filter(|n| crate::rt::names::valid(n))
        .filter_map(|n| read_at(root, n).ok().flatten())
        .collect();
    crate::rt::sort_by(&mut out, |a, b| a.name < b.name);
    Ok(out)
}

/// A network by name, full id or unique id prefix (as docker).
pub fn resolve(root: &str, q: &str) -> Result<Network> {
    if let Ok(n) = get(root, q) {
        return Ok(n);
    }
    let all = list(root)?;
    let mut m = all
        .into_iter()
        .filter(|n| !q.is_empty() && n.id.starts_with(q));
    match (m.next(), m.next()) {
        (Some(n), None) => Ok(n),
        (Some(_), Some(_)) => {
            Err(Error::bad("ambiguous network id", q, "more than one network matches").with_code(1))
        }
        _ => Err(no_such(q)),
    }
}

/// The networks `container` has an address on, with that address.
pub fn endpoints(root: &str, container: &str) -> Result<Vec<(Network, Ip)>> {
    Ok(list(root)?
        .into_iter()
        .filter_map(|n| n.ip_of(container).map(|ip| (n, ip)))
        .collect())
}

// Changing (under the lock).

/// How many free addresses `allocate` looks at for one no veth lingers
/// on (a burst of `run --rm` leaves one per run for ~20 ms each).
const LINGERING_LOOKS: usize = 64;

/// The networks lock, held: every change goes through this.
pub struct Nets {
    /// The pocket root the networks live under (`<root>/networks/`).
    pub root: alloc::string::String,
    /// The run directory (its lock, the nf_tables memo).
    pub run: alloc::string::String,
    _lock: Lock,
}

/// Docker's default bridge; left out of automatic picks so pocket and
/// docker can share a host.
const DOCKER: (Ip, u8) = ([172, 17, 0, 0], 16);

/// Where automatic subnets come from: the default network tries
/// 10.88.0.0/16 first, every network then the /24s of 10.89.0.0 to
/// 10.99.255.0. The host's routes decide which are free.
fn candidates(default: bool) -> impl Iterator<Item = (Ip, u8)> {
    let first = default.then_some(([10, 88, 0, 0], 16));
    let rest = (ip_u32([10, 89, 0, 0])..ip_u32([10, 100, 0, 0]))
        .step_by(256)
        .map(|n| (n.to_be_bytes(), 24));
    first.into_iter().chain(rest)
}

/// Addresses no container network may use: "this" network, loopback,
/// link-local, multicast and reserved.
const RESERVED: [(Ip, u8); 4] = [
    ([0, 0, 0, 0], 8),
    ([127, 0, 0, 0], 8),
    ([169, 254, 0, 0], 16),
    ([224, 0, 0, 0], 3),
];

impl Nets {
    /// Take `<run>/networks.lock` for changes to the networks of `root`.
    pub fn lock(root: &str, run: &str) -> Result<Nets> {
        for d in [dir(root), alloc::string::String::from(run)] {
            if fs::mkdir(&cs(&d)?, 0o700).is_err() {
                fs::mkdir_all(&d, 0o700).ctx("mkdir", &d)?;
            }
        }
        let path = format!("{run}/networks.lock");
        let _lock = Lock::file(&cs(&path)?).ctx("flock", &path)?;
        Ok(Nets {
            root: alloc::string::String::from(root),
            run: alloc::string::String::from(run),
            _lock,
        })
    }

    fn root(&self) -> &str {
        &self.root
    }

    fn save(&self, n: &Network, durable: bool) -> Result<()> {
        let d = dir(self.root());
        let mut v = json::pretty(&n.to_json()).into_bytes();
        v.push(b'\n');
        fs::write_atomic(&cs(&d)?, &format!("{}.json", n.name), &v, durable)
            .ctx("write", &format!("{d}/{}.json", n.name))
    }

    /// Why `sub` cannot be used, if it cannot: another pocket network or a
    /// route of the host (the default route aside) already covers part of
    /// it.
    fn clash(&self, sub: (Ip, u8), nets: &[Network], routes: &[(Ip, u8)]) -> Option<String> {
        if let Some(n) = nets.iter().find(|n| overlaps(sub, (n.subnet, n.prefix))) {
            return Some(format!(
                "subnet {} overlaps network {} ({})",
                fmt_cidr(sub.0, sub.1),
                n.name,
                n.cidr()
            ));
        }
        if let Some(r) = routes.iter().find(|r| r.1 > 0 && overlaps(sub, **r)) {
            return Some(format!(
                "subnet {} overlaps the host's route to {}",
                fmt_cidr(sub.0, sub.1),
                fmt_cidr(r.0, r.1)
            ));
        }
        None
    }

    /// Create network `name`. Without `subnet` the first free candidate
    /// is taken; with one, it must clash with no pocket network and no
    /// host route (`routes`: the host's IPv4 routes, e.g. `host_routes()`).
    /// The gateway defaults to the subnet's first address. Nothing is
    /// written unless every check passes.
    pub fn create(
        &self,
        name: &str,
        subnet: Option<(Ip, u8)>,
        gateway: Option<Ip>,
        routes: &[(Ip, u8)],
        labels: &[(String, String)],
    ) -> Result<Network> {
        if !crate::rt::names::valid(name) {
            return Err(Error::bad(
                "invalid network name",
                name,
                "only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed (at least two characters)",
            ));
        }
        if name == "host" || name == "none" {
            return Err(Error::bad(
                "network create",
                name,
                "is a predefined network (--net host, --net none)",
            ));
        }
        if read_at(self.root(), name)?.is_some() {
            return Err(Error::bad(
                "network create",
                name,
                "a network with this name already exists",
            ));
        }
        let nets = list(self.root())?;
        let (sub, prefix) = match subnet {
            Some((ip, p)) => {
                check_subnet(ip, p)?;
                if let Some(why) = self.clash((ip, p), &nets, routes) {
                    return Err(Error::bad("network create", name, why));
                }
                (ip, p)
            }
            None => {
                if gateway.is_some() {
                    return Err(Error::bad(
                        "invalid --gateway",
                        fmt_ip(gateway.unwrap_or_default()),
                        "needs --subnet",
                    ));
                }
                candidates(name == DEFAULT)
                    .find(|&c| !overlaps(c, DOCKER) && self.clash(c, &nets, routes).is_none())
                    .ok_or_else(|| {
                        Error::bad(
                            "network create",
                            name,
                            "no free subnet in 10.88.0.0/16-10.99.255.0/24; give --subnet",
                        )
                    })?
            }
        };
        let net_ip = ip_u32(sub);
        let gw = gateway.unwrap_or((net_ip + 1).to_be_bytes());
        let bcast = net_ip | !mask(prefix);
        if !contains((sub, prefix), gw) || ip_u32(gw) == net_ip || ip_u32(gw) == bcast {
            return Err(Error::bad(
                "invalid --gateway",
                fmt_ip(gw),
                format!("not a host address of subnet {}", fmt_cidr(sub, prefix)),
            ));
        }
        let id = crate::rt::names::new_id();
        let now = crate::rt::time::now();
        let n = Network {
            name: String::from(name),
            bridge: bridge_name(name, &id),
            id,
            subnet: sub,
            prefix,
            gateway: gw,
            created: crate::rt::time::rfc3339_nano_trimmed(now),
            containers: Vec::new(),
            labels: labels.to_vec(),
        };
        self.save(&n, true)?;
        Ok(n)
    }

    /// The default network ("bridge", device pocket0), made on first use.
    pub fn default_network(&self, routes: &[(Ip, u8)]) -> Result<Network> {
        match read_at(self.root(), DEFAULT)? {
            Some(n) => Ok(n),
            None => self.create(DEFAULT, None, None, routes, &[]),
        }
    }

    /// Remove network `name` (or id): refused (exit 1) while a container
    /// for which `exists` holds has an address on it; allocations of
    /// containers that are gone go with it. `teardown` runs first, still
    /// under the lock, with the network as it was (delete its bridge); if
    /// it fails the record stays, so a later `rm` can try again.
    pub fn remove(
        &self,
        name: &str,
        exists: impl Fn(&str) -> bool,
        teardown: impl FnOnce(&Network) -> Result<()>,
    ) -> Result<Network> {
        let n = resolve(self.root(), name)?;
        let users: Vec<&str> = n
            .containers
            .iter()
            .map(|(c, _)| c.as_str())
            .filter(|c| exists(c))
            .collect();
        if !users.is_empty() {
            let short: Vec<&str> = users.iter().map(|c| c.get(..12).unwrap_or(c)).collect();
            return Err(Error::bad(
                "network rm",
                n.name.clone(),
                format!("network has active endpoints: [{}]", short.join(", ")),
            )
            .with_code(1));
        }
        teardown(&n)?;
        let p = format!("{}/{}.json", dir(self.root()), n.name);
        match fs::unlinkat(libc::AT_FDCWD, &cs(&p)?, 0) {
            Ok(()) | Err(Errno::ENOENT) => {}
            Err(e) => return Err(Error::sys("remove", p, e)),
        }
        // Ports pointed at addresses of this network; they mean nothing now.
        self.drop_ports(|m| n.ip_of(&m.container).is_some())?;
        Ok(n)
    }

    /// An address on network `net` for `container`: `want` if given (and
    /// free), else the lowest free one that is not `lingering` (its last
    /// holder's veth still there; of the first `LINGERING_LOOKS` free
    /// ones), or failing that the lowest free one.
    /// The network address, the gateway and the broadcast address are
    /// never handed out. A container that already has one here keeps it.
    pub fn allocate(
        &self,
        net: &str,
        container: &str,
        want: Option<Ip>,
        mut lingering: impl FnMut(Ip) -> bool,
    ) -> Result<Ip> {
        let mut n = get(self.root(), net)?;
        if let Some(have) = n.ip_of(container)
            && want.is_none_or(|w| w == have)
        {
            return Ok(have);
        }
        n.containers.retain(|(c, _)| c != container);
        let lo = ip_u32(n.subnet);
        let hi = ip_u32(n.broadcast());
        let usable = |a: u32| a > lo && a < hi && a != ip_u32(n.gateway);
        let taken = |a: u32| n.containers.iter().any(|(_, ip)| ip_u32(*ip) == a);
        let ip = match want {
            Some(w) => {
                let a = ip_u32(w);
                if !usable(a) {
                    return Err(Error::bad(
                        "invalid --ip",
                        fmt_ip(w),
                        format!(
                            "not a free host address of network {} ({}, gateway {})",
                            n.name,
                            n.cidr(),
                            fmt_ip(n.gateway)
                        ),
                    ));
                }
                if let Some((c, _)) = n.containers.iter().find(|(_, ip)| *ip == w) {
                    return Err(Error::bad(
                        "invalid --ip",
                        fmt_ip(w),
                        format!(
                            "address already in use by container {}",
                            c.get(..12).unwrap_or(c)
                        ),
                    ));
                }
                w
            }
            None => (lo.saturating_add(1)..hi)
                .filter(|&a| usable(a) && !taken(a))
                .take(LINGERING_LOOKS)
                .find(|&a| !lingering(a.to_be_bytes()))
                .or_else(|| (lo.saturating_add(1)..hi).find(|&a| usable(a) && !taken(a)))
                .map(u32::to_be_bytes)
                .ok_or_else(|| {
                    Error::bad(
                        "network",
                        n.name.clone(),
                        "no free address left in the subnet",
                    )
                })?,
        };
        n.containers.push((String::from(container), ip));
        self.save(&n, false)?;
        Ok(ip)
    }

    /// Give back `container`'s address on network `net` only.
    pub fn release_on(&self, net: &str, container: &str) -> Result<()> {
        let mut n = get(self.root(), net)?;
        n.containers.retain(|(c, _)| c != container);
        self.save(&n, false)
    }

    /// Give back everything `container` holds: its addresses on every
    /// network and its published ports.
    pub fn release(&self, container: &str) -> Result<()> {
        self.retain(|c| c != container)
    }

    /// Drop the addresses and ports of containers for which `live` is
    /// false (gone without a clean teardown: SIGKILL, power loss).
    pub fn gc(&self, live: impl Fn(&str) -> bool) -> Result<()> {
        self.retain(live)
    }

    fn retain(&self, keep: impl Fn(&str) -> bool) -> Result<()> {
        for mut n in list(self.root())? {
            let before = n.containers.len();
            n.containers.retain(|(c, _)| keep(c));
            if n.containers.len() != before {
                self.save(&n, false)?;
            }
        }
        self.drop_ports(|m| !keep(&m.container))
    }
}

/// What `create` refuses in a --subnet: host bits set, no room for a
/// gateway and a container, or addresses that are not unicast.
fn check_subnet(ip: Ip, prefix: u8) -> Result<()> {
    let c = fmt_cidr(ip, prefix);
    if prefix > 30 {
        return Err(Error::bad(
            "invalid --subnet",
            c,
            "leaves no room for a gateway and containers (/30 at most)",
        ));
    }
    let net = (ip_u32(ip) & mask(prefix)).to_be_bytes();
    if net != ip {
        return Err(Error::bad(
            "invalid --subnet",
            c,
            format!(
                "host bits are set; the network is {}",
                fmt_cidr(net, prefix)
            ),
        ));
    }
    if let Some(r) = RESERVED.iter().find(|r| overlaps((ip, prefix), **r)) {
        return Err(Error::bad(
            "invalid --subnet",
            c,
            format!("overlaps reserved addresses {}", fmt_cidr(r.0, r.1)),
        ));
    }
    Ok(())
}

/// IPv4 routes of this network namespace from /proc/net/route: the
/// destinations pocket's subnets must stay clear of.
pub fn host_routes() -> Vec<(Ip, u8)> {
    fs::read(c"/proc/net/route")
        .map(|b| parse_routes(&b))
        .unwrap_or_default()
}

/// /proc/net/route: a header line, then "Iface Destination Gateway Flags
/// RefCnt Use Metric Mask ...", addresses as host-order hex (so
/// little-endian on x86: "0011A8C0" is 192.168.17.0).
pub fn parse_routes(b: &[u8]) -> Vec<(Ip, u8)> {
    let hex = |s: &str| u32::from_str_radix(s, 16).ok().filter(|_| s.len() == 8);
    let mut out = Vec::new();
    for line in String::from_utf8_lossy(b).lines().skip(1) {
        let f: Vec<&str> = line.split_ascii_whitespace().collect();
        let (Some(d), Some(m)) = (f.get(1).and_then(|s| hex(s)), f.get(7).and_then(|s| hex(s)))
        else {
            continue;
        };
        // The kernel prints the in-memory (network order) u32 as a native
        // integer; to_ne_bytes gives the address bytes back in order.
        let dst = d.to_ne_bytes();
        let m = u32::from_be_bytes(m.to_ne_bytes());
        // A contiguous mask only; anything else is not a prefix.
        let prefix = m.leading_ones() as u8;
        if mask(prefix) == m {
            out.push(((ip_u32(dst) & m).to_be_bytes(), prefix));
        }
    }
    out
}

#[cfg(test)]
#[path = "networks_tests.rs"]
mod tests;
