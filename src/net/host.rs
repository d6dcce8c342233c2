//! The host side of bridge networks: the bridge device with the gateway
//! address, IP forwarding, pocket's nf_tables table, and a container's
//! veth pair. Everything here acts on the network namespace pocket runs
//! in (the veth's peer excepted); the state it follows is read under the
//! networks lock (state/networks.rs).

use super::NetAttach;
use super::{link, nft, nl, sysctl};
use crate::error::{Context, Result};
use crate::net::networks::{self, Ip, Nets, Network};
use crate::net::ports;
use crate::sys::fd::{self, Fd};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// The host's IPv4 routes (default routes left out): what a new subnet
/// must not clash with. Falls back to /proc/net/route without netlink.
pub fn host_routes() -> Vec<(Ip, u8)> {
    nl::Sock::open(nl::NETLINK_ROUTE)
        .and_then(|mut s| link::routes_v4(&mut s))
        .unwrap_or_else(|_| networks::host_routes())
}

/// Make `net`'s bridge if it is missing: the device, IPv6 off, the
/// gateway address on it, up; forwarding on, so containers reach past
/// the bridge.
pub fn ensure_bridge(net: &Network) -> Result<()> {
    let mut s = nl::Sock::open(nl::NETLINK_ROUTE)?;
    link::create_bridge(&mut s, &net.bridge)?;
    // Before it is up; a bridge made by an older pocket loses its
    // link-local address here.
    sysctl::ipv6_off(&net.bridge)?;
    link::add_addr(&mut s, &net.bridge, net.gateway, net.prefix)?;
    link::set_up(&mut s, &net.bridge)?;
    forwarding(&net.bridge)
}

/// Delete `net`'s bridge (the veths on it go with their containers);
/// already gone is fine.
pub fn delete_bridge(net: &Network) -> Result<()> {
    let mut s = nl::Sock::open(nl::NETLINK_ROUTE)?;
    link::delete_if(&mut s, &net.bridge, "bridge")
}

/// Make pocket's nf_tables table match the state: masquerade for every
/// network, DNAT for every published port; no network left, no table.
pub fn sync(nets: &Nets) -> Result<()> {
    let (all, maps) = nets.ruleset()?;
    firewall(&all, &maps, &format!("{}/networks.nft", nets.run))
}

fn forwarding(bridge: &str) -> Result<()> {
    sysctl::ip_forward()?;
    sysctl::route_localnet(bridge)
}

fn firewall(all: &[Network], maps: &[ports::Mapping], memo: &str) -> Result<()> {
    let nets: Vec<nft::Net> = all
        .iter()
        .map(|n| nft::Net {
            bridge: n.bridge.clone(),
            subnet: n.subnet,
            prefix: n.prefix,
        })
        .collect();
    let ports: Vec<nft::Port> = maps
        .iter()
        .map(|m| nft::Port {
            proto: match m.proto {
                ports::Proto::Tcp => nft::Proto::Tcp,
                ports::Proto::Udp => nft::Proto::Udp,
            },
            host_ip: (m.host_ip != [0; 4]).then_some(m.host_ip),
            host_port: m.host_port,
            ctr_ip: m.ctr_ip,
            ctr_port: m.ctr_port,
        })
        .collect();
    unchanged_or_write(nft::batch(&nets, &ports)?, memo)
}

/// Send the transaction unless the table already holds exactly it. A
/// commit costs the process a wait for an RCU grace period when it closes
/// its socket (nf_tables flushes its destroy work then: ~10 ms here, the
/// most of a bridged `run`), and most containers change no rule (the
/// rules are per network and per published port). `memo` keeps what
/// pocket last wrote: (boot, network namespace, ruleset generation just
/// after, fingerprint). Any commit since, anyone's (a rule added by hand,
/// a flush, another pocket root), has moved the generation on, and the
/// table is written again.
pub(crate) fn unchanged_or_write(msgs: Vec<nl::Msg>, memo: &str) -> Result<()> {
    let fp = nft::fingerprint(&msgs);
    let mut s = nl::Sock::open(nl::NETLINK_NETFILTER)?;
    // Without a namespace cookie (before 5.14) nothing is remembered.
    let place = s.netns_cookie().ok().map(place);
    let key = |g: u32, fp: u64| match &place {
        Some(p) => format!("{p} {g} {fp:016x}\n"),
        None => String::new(),
    };
    let before = nft::generation(&mut s)?;
    let c = crate::sys::cstr::cstring(memo.as_bytes()).unwrap_or_default();
    if place.is_some() && crate::sys::fs::read(&c).is_ok_and(|b| b == key(before, fp).as_bytes()) {
        return Ok(());
    }
    s.batch(msgs)?;
    // Ours is the commit just made only if the generation moved by one.
    let (dir, name) = memo.rsplit_once('/').unwrap_or((".", memo));
    match nft::generation(&mut s) {
        Ok(g) if g == before.wrapping_add(1) && place.is_some() => {
            let d = crate::sys::cstr::cstring(dir.as_bytes()).unwrap_or_default();
            let _ = crate::sys::fs::write_atomic(&d, name, key(g, fp).as_bytes(), true);
        }
        _ => {
            let _ = crate::sys::fs::unlinkat(libc::AT_FDCWD, &c, 0);
        }
    }
    Ok(())
}

/// This boot and this network namespace (its cookie, never reused):
/// a generation means nothing in another.
fn place(netns: u64) -> String {
    let boot = crate::sys::fs::read(c"/proc/sys/kernel/random/boot_id").unwrap_or_default();
    format!("{}:{netns}", String::from_utf8_lossy(&boot).trim())
}

/// The host end of a container's veth: named after its address (unique
/// while it is allocated), at most 15 bytes.
/// docker's MAC for an address: 02:42 and the four bytes of the IP
/// (locally administered, unicast; unique on the bridge as the IP is).
pub fn mac(ip: Ip) -> [u8; 6] {
    [0x02, 0x42, ip[0], ip[1], ip[2], ip[3]]
}

pub fn fmt_mac(m: [u8; 6]) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    )
}

pub fn veth_name(ip: Ip) -> String {
    format!("pk{:02x}{:02x}{:02x}{:02x}", ip[0], ip[1], ip[2], ip[3])
}

/// `attach_in` the network namespace of container `pid` (a network
/// joined while it runs: `network connect`).
pub fn attach_as(pid: i32, a: &NetAttach, ifname: &str, route: bool) -> Result<()> {
    attach_in(&netns(pid)?, a, ifname, route)
}

/// Put a container on its bridge: a veth pair whose peer is made
/// directly inside its network namespace `ns` as `ifname`, the host end
/// on the bridge; then, in there, its address, up, and (`route`: eth0 at
/// its start, not a network joined later) the default route. `ns` may be
/// one made ahead that the container's init has not joined yet. IPv6 is
/// off on both ends before they go up (sysctl::ipv6_off says why); it
/// stays off until pocket has IPv6 networks to ask for it. At a start,
/// called between clone and the child's go: the command never runs
/// without its network. On failure the caller kills the child, and the
/// pair goes with its namespace.
pub fn attach_in(ns: &Fd, a: &NetAttach, ifname: &str, route: bool) -> Result<()> {
    let mut s = nl::Sock::open(nl::NETLINK_ROUTE)?;
    let host = veth_name(a.ip);
    // The veth of this address's last container: its namespace not yet
    // torn down (`start` right after `stop` keeps the address), or held
    // somewhere after a SIGKILL. The address is ours now; the old pair
    // is unplugged and renamed, not deleted (which waits for the
    // teardown), and goes with its namespace.
    link::retire_if(&mut s, &host, "veth")?;
    link::create_veth(&mut s, &host, ifname, ns.raw())?;
    sysctl::ipv6_off(&host)?;
    link::set_master(&mut s, &host, &a.bridge)?;
    link::set_hairpin(&mut s, &host)?;
    link::set_up(&mut s, &host)?;
    link::in_netns(ns, || {
        let mut c = nl::Sock::open(nl::NETLINK_ROUTE)?;
        // /proc/sys/net opened from here is the container's.
        sysctl::ipv6_off(ifname)?;
        link::set_mac(&mut c, ifname, mac(a.ip))?;
        link::add_addr(&mut c, ifname, a.ip, a.prefix)?;
        link::set_up(&mut c, ifname)?;
        if route {
            link::add_default_route(&mut c, a.gateway)?;
        }
        Ok(())
    })
}

/// Bring up the loopback interface of container `pid`'s network
/// namespace (one no network is attached to: `--net none`), from here.
pub fn loopback_up(pid: i32) -> Result<()> {
    loopback_up_in(&netns(pid)?)
}

/// The loopback of network namespace `ns` up.
pub fn loopback_up_in(ns: &Fd) -> Result<()> {
    link::in_netns(ns, || crate::sys::net::loopback_up().ctx("bring up", "lo"))
}

/// Whether the host end of a veth for `ip` is still there: the address's
/// last container is gone, but its network namespace is not yet (the
/// kernel tears one down in the background, ~20 ms on this kind of host,
/// or something still holds it). Handing the address out again would
/// have its next container delete that veth first, and RTM_DELLINK waits
/// for the teardown (20 ms on the command's path for every `run --rm`
/// right after another), or give the bridge two ports with one address.
pub fn veth_lingers(s: &mut nl::Sock, ip: Ip) -> bool {
    matches!(link::index(s, &veth_name(ip)), Ok(Some(_)))
}

/// Container `pid`'s network namespace, opened.
pub fn netns(pid: i32) -> Result<Fd> {
    let path = format!("/proc/{pid}/ns/net");
    let c = crate::sys::cstr::cstring(path.as_bytes()).unwrap_or_default();
    fd::open(&c, libc::O_RDONLY | libc::O_CLOEXEC, 0)
        .map_err(|e| crate::error::Error::sys("open", path, e))
}

/// Delete the pairs set aside for a new container's address whose
/// namespace is still held (`link::retire_if`): what `network prune` and
/// `system prune` clean up besides networks. Their names.
pub fn delete_retired() -> Result<Vec<String>> {
    let mut s = nl::Sock::open(nl::NETLINK_ROUTE)?;
    let names = link::retired(&mut s)?;
    for n in &names {
        link::delete(&mut s, n)?;
    }
    Ok(names)
}

/// Take container `pid` off network `a` while it runs: its veth pair
/// goes (deleting the host end deletes both).
pub fn detach(a: &NetAttach) -> Result<()> {
    let mut s = nl::Sock::open(nl::NETLINK_ROUTE)?;
    link::delete_if(&mut s, &veth_name(a.ip), "veth")
}

/// A container is gone: its addresses and ports go back, and the rules
/// follow. `exists`: whether a container still has a record, for the
/// addresses pockets killed between claim and record left (no record can
/// appear for them any more).
pub fn release(root: &str, run: &str, id: &str, exists: impl Fn(&str) -> bool) -> Result<()> {
    let nets = Nets::lock(root, run)?;
    nets.release(id)?;
    nets.gc(exists)?;
    sync(&nets)
}
