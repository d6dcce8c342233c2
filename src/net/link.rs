//! rtnetlink: links (bridge, veth), IPv4 addresses and routes —
//! rtnetlink(7). Each function works in the network namespace the socket
//! was opened in, whichever namespace the calling thread is in now.
//!
//! The message builders (`*_msg`) are pure, so tests check them byte for
//! byte; the functions around them only send and interpret errors.

use super::nl::{self, Msg, NLM_F_CREATE, NLM_F_EXCL, Sock};
use crate::error::{Context, Error, Result, Why};
use crate::sys::fd::{self, Fd};
use crate::sys::{Errno, proc};
use alloc::string::String;
use alloc::vec::Vec;
use linux_raw_sys::netlink as k;

const RTM_NEWLINK: u16 = k::RTM_NEWLINK as u16;
const RTM_DELLINK: u16 = k::RTM_DELLINK as u16;
const RTM_SETLINK: u16 = k::RTM_SETLINK as u16;
const IFLA_PROTINFO: u16 = k::IFLA_PROTINFO as u16;
const IFLA_BRPORT_MODE: u16 = k::IFLA_BRPORT_MODE as u16;
const RTM_GETLINK: u16 = k::RTM_GETLINK as u16;
const RTM_NEWADDR: u16 = k::RTM_NEWADDR as u16;
const RTM_NEWROUTE: u16 = k::RTM_NEWROUTE as u16;
const RTM_GETROUTE: u16 = k::RTM_GETROUTE as u16;

const IFLA_IFNAME: u16 = k::IFLA_IFNAME as u16;
const IFLA_MASTER: u16 = k::IFLA_MASTER as u16;
const IFLA_LINKINFO: u16 = k::IFLA_LINKINFO as u16;
const IFLA_NET_NS_FD: u16 = k::IFLA_NET_NS_FD as u16;
const IFLA_INFO_KIND: u16 = k::IFLA_INFO_KIND as u16;
const IFLA_INFO_DATA: u16 = k::IFLA_INFO_DATA as u16;
/// linux/veth.h; not in linux-raw-sys.
const VETH_INFO_PEER: u16 = 1;
const IFA_ADDRESS: u16 = k::IFA_ADDRESS as u16;
const IFA_LOCAL: u16 = k::IFA_LOCAL as u16;
const RTA_DST: u16 = k::rtattr_type_t::RTA_DST as u16;
const RTA_GATEWAY: u16 = k::rtattr_type_t::RTA_GATEWAY as u16;
const RTA_TABLE: u16 = k::rtattr_type_t::RTA_TABLE as u16;
const RT_TABLE_MAIN: u8 = k::rt_class_t::RT_TABLE_MAIN as u8;
const RT_SCOPE_UNIVERSE: u8 = k::rt_scope_t::RT_SCOPE_UNIVERSE as u8;
const RTPROT_BOOT: u8 = k::RTPROT_BOOT as u8;
const RTN_UNICAST: u8 = k::RTN_UNICAST as u8;
const AF_INET: u8 = libc::AF_INET as u8;
const IFF_UP: u32 = libc::IFF_UP as u32;

/// IFNAMSIZ less the NUL.
pub const IFNAME_MAX: usize = 15;

/// An interface name the kernel accepts (dev_valid_name): 1 to 15 bytes,
/// not "." or "..", no '/', ':', NUL or whitespace.
pub fn check_name(name: &str) -> Result<()> {
    let b = name.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= IFNAME_MAX
        && name != "."
        && name != ".."
        && !b
            .iter()
            .any(|&c| c == b'/' || c == b':' || c == 0 || c.is_ascii_whitespace());
    if ok {
        Ok(())
    } else {
        Err(Error::bad(
            "interface name",
            name,
            "not an interface name (1 to 15 bytes without '/', ':' or whitespace)",
        ))
    }
}

/// struct ifinfomsg: family, pad, type, index, flags, change.
fn ifinfomsg(index: u32, flags: u32, change: u32) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[4..8].copy_from_slice(&index.to_ne_bytes());
    b[8..12].copy_from_slice(&flags.to_ne_bytes());
    b[12..16].copy_from_slice(&change.to_ne_bytes());
    b
}

/// RTM_NEWLINK (create, fail if it exists) for a bridge.
pub fn bridge_msg(name: &str) -> Msg {
    let mut m = Msg::new(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    m.put_bytes(&ifinfomsg(0, 0, 0));
    m.attr_str(IFLA_IFNAME, name);
    let info = m.nest(IFLA_LINKINFO);
    m.attr_str(IFLA_INFO_KIND, "bridge");
    m.end(info);
    m
}

/// RTM_NEWLINK for a veth pair whose peer is born in the netns `peer_netns_fd`.
pub fn veth_msg(host: &str, peer: &str, peer_netns_fd: i32) -> Msg {
    let mut m = Msg::new(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    m.put_bytes(&ifinfomsg(0, 0, 0));
    m.attr_str(IFLA_IFNAME, host);
    let info = m.nest(IFLA_LINKINFO);
    m.attr_str(IFLA_INFO_KIND, "veth");
    let data = m.nest(IFLA_INFO_DATA);
    // The peer is an ifinfomsg and its own attributes.
    let p = m.nest(VETH_INFO_PEER);
    m.put_bytes(&ifinfomsg(0, 0, 0));
    m.attr_str(IFLA_IFNAME, peer);
    m.attr_u32(IFLA_NET_NS_FD, peer_netns_fd as u32);
    m.end(p);
    m.end(data);
    m.end(info);
    m
}

/// RTM_NEWLINK on an existing link `name`: enslave it to `master`.
pub fn master_msg(name: &str, master: u32) -> Msg {
    let mut m = Msg::new(RTM_NEWLINK, 0);
    m.put_bytes(&ifinfomsg(0, 0, 0));
    m.attr_str(IFLA_IFNAME, name);
    m.attr_u32(IFLA_MASTER, master);
    m
}

/// RTM_NEWLINK on an existing link `name`: its hardware address.
pub fn mac_msg(name: &str, mac: [u8; 6]) -> Msg {
    let mut m = Msg::new(RTM_NEWLINK, 0);
    m.put_bytes(&ifinfomsg(0, 0, 0));
    m.attr_str(IFLA_IFNAME, name);
    m.attr(k::IFLA_ADDRESS as u16, &mac);
    m
}

/// RTM_NEWLINK on an existing link `name`: IFF_UP on.
pub fn up_msg(name: &str) -> Msg {
    let mut m = Msg::new(RTM_NEWLINK, 0);
    m.put_bytes(&ifinfomsg(0, IFF_UP, IFF_UP));
    m.attr_str(IFLA_IFNAME, name);
    m
}

/// RTM_NEWLINK on link `index`: down (IFF_UP off) and off its bridge
/// (IFLA_MASTER 0).
pub fn unplug_msg(index: u32) -> Msg {
    let mut m = Msg::new(RTM_NEWLINK, 0);
    m.put_bytes(&ifinfomsg(index, 0, IFF_UP));
    m.attr_u32(IFLA_MASTER, 0);
    m
}

/// RTM_NEWLINK on link `index`: renamed `name` (it must be down).
pub fn rename_msg(index: u32, name: &str) -> Msg {
    let mut m = Msg::new(RTM_NEWLINK, 0);
    m.put_bytes(&ifinfomsg(index, 0, 0));
    m.attr_str(IFLA_IFNAME, name);
    m
}

pub fn delete_msg(name: &str) -> Msg {
    let mut m = Msg::new(RTM_DELLINK, 0);
    m.put_bytes(&ifinfomsg(0, 0, 0));
    m.attr_str(IFLA_IFNAME, name);
    m
}

pub fn getlink_msg(name: &str) -> Msg {
    let mut m = Msg::new(RTM_GETLINK, 0);
    m.put_bytes(&ifinfomsg(0, 0, 0));
    m.attr_str(IFLA_IFNAME, name);
    m
}

/// RTM_NEWADDR: `ip`/`prefix` on link `index` (ifaddrmsg, IFA_LOCAL,
/// IFA_ADDRESS: what `ip addr add` sends for a non-point-to-point link).
pub fn addr_msg(index: u32, ip: [u8; 4], prefix: u8) -> Msg {
    let mut m = Msg::new(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
    let mut ifa = [0u8; 8];
    ifa[0] = AF_INET;
    ifa[1] = prefix;
    ifa[3] = RT_SCOPE_UNIVERSE;
    ifa[4..8].copy_from_slice(&index.to_ne_bytes());
    m.put_bytes(&ifa);
    m.attr(IFA_LOCAL, &ip);
    m.attr(IFA_ADDRESS, &ip);
    m
}

/// struct rtmsg for the main IPv4 table.
fn rtmsg(dst_len: u8, protocol: u8, ty: u8) -> [u8; 12] {
    [
        AF_INET,
        dst_len,
        0,
        0,
        RT_TABLE_MAIN,
        protocol,
        RT_SCOPE_UNIVERSE,
        ty,
        0,
        0,
        0,
        0,
    ]
}

/// RTM_NEWROUTE: 0.0.0.0/0 via `gw` in the main table.
pub fn default_route_msg(gw: [u8; 4]) -> Msg {
    let mut m = Msg::new(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
    m.put_bytes(&rtmsg(0, RTPROT_BOOT, RTN_UNICAST));
    m.attr(RTA_GATEWAY, &gw);
    m
}

pub fn getroute_msg() -> Msg {
    let mut m = Msg::new(RTM_GETROUTE, 0);
    m.put_bytes(&rtmsg(0, 0, 0));
    m
}

fn errno(e: &Error) -> Option<Errno> {
    match e.why {
        Why::Errno(n) => Some(n),
        _ => None,
    }
}

/// Name the step for the user: `create bridge pocket0 (kernel text): errno`.
fn step(op: &'static str, arg: &str) -> impl FnOnce(Error) -> Error {
    move |mut e| {
        e.op = op.into();
        e.arg = if e.arg.is_empty() {
            String::from(arg)
        } else {
            alloc::format!("{arg} {}", e.arg)
        };
        e
    }
}

/// The RTM_NEWLINK payload (ifinfomsg + attributes) of link `name`, or
/// None if there is no such link.
fn get_link(s: &mut Sock, name: &str) -> Result<Option<Vec<u8>>> {
    check_name(name)?;
    match s.get(getlink_msg(name)) {
        Ok(mut r) => Ok(r.pop()),
        Err(e) if errno(&e) == Some(Errno::ENODEV) => Ok(None),
        Err(e) => Err(step("find interface", name)(e)),
    }
}

/// ifi_index of an RTM_NEWLINK payload.
pub fn parse_index(payload: &[u8]) -> Option<u32> {
    payload.get(4..8).and_then(nl::u32_ne).filter(|&i| i > 0)
}

/// IFLA_INFO_KIND ("bridge", "veth") of an RTM_NEWLINK payload.
pub fn parse_kind(payload: &[u8]) -> Option<&str> {
    let info = nl::find(payload.get(16..)?, IFLA_LINKINFO)?;
    nl::str_of(nl::find(info, IFLA_INFO_KIND)?)
}

/// IFLA_MASTER of an RTM_NEWLINK payload.
pub fn parse_master(payload: &[u8]) -> Option<u32> {
    nl::u32_ne(nl::find(payload.get(16..)?, IFLA_MASTER)?)
}

pub fn index(s: &mut Sock, name: &str) -> Result<Option<u32>> {
    Ok(get_link(s, name)?.as_deref().and_then(parse_index))
}

fn must_index(s: &mut Sock, name: &str) -> Result<u32> {
    index(s, name)?.ok_or_else(|| Error::sys("find interface", name, Errno::ENODEV))
}

/// Create bridge `name`; a bridge of that name already there is fine,
/// another kind of link is an error.
pub fn create_bridge(s: &mut Sock, name: &str) -> Result<()> {
    check_name(name)?;
    match s.request(bridge_msg(name)) {
        Err(e) if errno(&e) == Some(Errno::EEXIST) => {
            let link = get_link(s, name)?;
            match link.as_deref().and_then(parse_kind) {
                Some("bridge") => Ok(()),
                _ => Err(Error::bad(
                    "create bridge",
                    name,
                    "exists and is not a bridge",
                )),
            }
        }
        r => r.map_err(step("create bridge", name)),
    }
}

/// Create veth `host` here and its peer `peer` directly in the netns of
/// `peer_netns_fd`: the container end never shows up on the host, so a
/// crash cannot leave it there under a name like eth0.
pub fn create_veth(s: &mut Sock, host: &str, peer: &str, peer_netns_fd: i32) -> Result<()> {
    check_name(host)?;
    check_name(peer)?;
    s.request(veth_msg(host, peer, peer_netns_fd))
        .map_err(step("create veth", host))
}

/// RTM_SETLINK (AF_BRIDGE) on bridge port `index`: hairpin mode on, so a
/// frame may leave by the port it came in on.
pub fn hairpin_msg(index: u32) -> Msg {
    let mut m = Msg::new(RTM_SETLINK, 0);
    let mut h = ifinfomsg(index, 0, 0);
    h[0] = libc::AF_BRIDGE as u8;
    m.put_bytes(&h);
    let n = m.nest(IFLA_PROTINFO);
    m.attr_u8(IFLA_BRPORT_MODE, 1);
    m.end(n);
    m
}

/// Hairpin mode on bridge port `name`: a container reaches its own
/// published port through the host's address (the DNAT'd packet goes
/// back out the port it came in by), as docker sets it without its proxy.
pub fn set_hairpin(s: &mut Sock, name: &str) -> Result<()> {
    check_name(name)?;
    let i = must_index(s, name)?;
    s.request(hairpin_msg(i)).map_err(step("set hairpin", name))
}

pub fn set_master(s: &mut Sock, name: &str, bridge: &str) -> Result<()> {
    check_name(name)?;
    let br = must_index(s, bridge)?;
    s.request(master_msg(name, br))
        .map_err(step("attach to bridge", name))
}

pub fn set_mac(s: &mut Sock, name: &str, mac: [u8; 6]) -> Result<()> {
    check_name(name)?;
    s.request(mac_msg(name, mac))
        .map_err(step("set address", name))
}

pub fn set_up(s: &mut Sock, name: &str) -> Result<()> {
    check_name(name)?;
    s.request(up_msg(name)).map_err(step("set link up", name))
}

/// Get the `kind` link `name` out of the way without deleting it: down,
/// off its bridge, renamed `pkx<ifindex>` (unique while it exists). For
/// the veth of an address's last container whose network namespace the
/// kernel is still tearing down in the background: deleting it waits
/// for that teardown (20-60 ms here, on the command's path), while this
/// is two quick changes and the pair goes with the namespace. No such
/// link is fine, also when the teardown takes it between the lookup and
/// either change (ENODEV: as good as set aside).
pub fn retire_if(s: &mut Sock, name: &str, kind: &str) -> Result<()> {
    match index_of_kind(s, name, kind)? {
        Some(i) => retire(s, name, i),
        None => Ok(()),
    }
}

/// `retire_if`'s two changes to link `i` (looked up as `name`).
fn retire(s: &mut Sock, name: &str, i: u32) -> Result<()> {
    let changes = [
        (unplug_msg(i), "set link down"),
        (
            rename_msg(i, &alloc::format!("{RETIRED}{i}")),
            "rename link",
        ),
    ];
    for (m, what) in changes {
        match s.request(m) {
            Ok(()) => {}
            Err(e) if errno(&e) == Some(Errno::ENODEV) => return Ok(()),
            Err(e) => return Err(step(what, name)(e)),
        }
    }
    Ok(())
}

/// The prefix of a pair `retire_if` set aside.
pub const RETIRED: &str = "pkx";

/// RTM_GETLINK of every link (a dump).
pub fn getlinks_msg() -> Msg {
    let mut m = Msg::new(RTM_GETLINK, 0);
    m.put_bytes(&ifinfomsg(0, 0, 0));
    m
}

/// IFLA_IFNAME of an RTM_NEWLINK payload.
pub fn parse_name(payload: &[u8]) -> Option<&str> {
    nl::str_of(nl::find(payload.get(16..)?, IFLA_IFNAME)?)
}

/// The veths `retire_if` set aside that are still here: their namespace
/// is held by something (a torn-down one takes its pair with it).
pub fn retired(s: &mut Sock) -> Result<Vec<String>> {
    let r = s.dump(getlinks_msg()).map_err(step("list links", ""))?;
    Ok(r.iter()
        .filter(|p| parse_kind(p) == Some("veth"))
        .filter_map(|p| parse_name(p))
        .filter(|n| {
            n.strip_prefix(RETIRED)
                .is_some_and(|i| !i.is_empty() && i.bytes().all(|c| c.is_ascii_digit()))
        })
        .map(String::from)
        .collect())
}

/// Delete link `name` (a veth takes its peer with it); no such link is fine.
pub fn delete(s: &mut Sock, name: &str) -> Result<()> {
    check_name(name)?;
    match s.request(delete_msg(name)) {
        Err(e) if errno(&e) == Some(Errno::ENODEV) => Ok(()),
        r => r.map_err(step("delete link", name)),
    }
}

/// Delete link `name` only if it is of `kind` ("bridge", "veth"): a
/// host's own interface that happens to bear the name is never touched.
pub fn delete_if(s: &mut Sock, name: &str, kind: &str) -> Result<()> {
    match index_of_kind(s, name, kind)? {
        Some(_) => delete(s, name),
        None => Ok(()),
    }
}

/// The index of link `name` if it is there and of `kind`.
fn index_of_kind(s: &mut Sock, name: &str, kind: &str) -> Result<Option<u32>> {
    check_name(name)?;
    let link = get_link(s, name)?;
    Ok(link
        .as_deref()
        .filter(|l| parse_kind(l) == Some(kind))
        .and_then(parse_index))
}

/// Add `ip/prefix` to link `name`; the same address already there is fine.
pub fn add_addr(s: &mut Sock, name: &str, ip: [u8; 4], prefix: u8) -> Result<()> {
    let arg = alloc::format!("{}.{}.{}.{}/{prefix} {name}", ip[0], ip[1], ip[2], ip[3]);
    if prefix > 32 {
        return Err(Error::bad("add address", arg, "prefix length over 32"));
    }
    let i = must_index(s, name)?;
    match s.request(addr_msg(i, ip, prefix)) {
        Err(e) if errno(&e) == Some(Errno::EEXIST) => Ok(()),
        r => r.map_err(step("add address", &arg)),
    }
}

pub fn add_default_route(s: &mut Sock, gw: [u8; 4]) -> Result<()> {
    let arg = alloc::format!("via {}.{}.{}.{}", gw[0], gw[1], gw[2], gw[3]);
    s.request(default_route_msg(gw))
        .map_err(step("add default route", &arg))
}

/// Destination and prefix length of an RTM_NEWROUTE payload of the main
/// IPv4 table; None for other tables and families and for default routes
/// (0.0.0.0/0 overlaps everything and clashes with nothing).
pub fn parse_route_v4(payload: &[u8]) -> Option<([u8; 4], u8)> {
    let rt = payload.get(..12)?;
    let (family, dst_len, table) = (rt[0], rt[1], rt[4]);
    let attrs = &payload[12..];
    // Tables above 255 are only in RTA_TABLE (then rtm_table says 252).
    let table = nl::find(attrs, RTA_TABLE)
        .and_then(nl::u32_ne)
        .unwrap_or(table as u32);
    if family != AF_INET || table != RT_TABLE_MAIN as u32 || dst_len == 0 || dst_len > 32 {
        return None;
    }
    let dst = nl::find(attrs, RTA_DST)?;
    Some((dst.try_into().ok()?, dst_len))
}

/// The main table's IPv4 destinations (default routes left out), to keep
/// a new subnet from clashing with the host's.
pub fn routes_v4(s: &mut Sock) -> Result<Vec<([u8; 4], u8)>> {
    let r = s
        .dump(getroute_msg())
        .map_err(step("list routes", "ipv4"))?;
    Ok(r.iter().filter_map(|p| parse_route_v4(p)).collect())
}

/// Run `f` with the calling thread in the network namespace `netns`, then
/// come back. Sockets opened by `f` stay in `netns` after the return.
pub fn in_netns<T>(netns: &Fd, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let here = fd::open(c"/proc/thread-self/ns/net", libc::O_RDONLY, 0)
        .ctx("open", "/proc/thread-self/ns/net")?;
    proc::setns(netns.raw(), libc::CLONE_NEWNET).ctx("setns", "network namespace")?;
    let r = f();
    // Failing to come back would leave pocket working in the container's
    // namespace: that error wins over f's.
    proc::setns(here.raw(), libc::CLONE_NEWNET).ctx("setns", "back to own network namespace")?;
    r
}

#[cfg(test)]
#[path = "link_tests.rs"]
mod tests;
