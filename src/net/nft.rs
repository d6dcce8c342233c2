//! pocket's own nf_tables table, `ip pocket`: masquerade for the bridge
//! networks and DNAT for published ports, as docker's default bridge does
//! with userland-proxy=false, sent over NETLINK_NETFILTER with no `nft`.
//! It also keeps the networks apart, lets nothing into a bridge from
//! elsewhere but answers and DNATed (published) connections, masquerades
//! hairpin connections and drops 127.0.0.0/8 from anywhere but lo
//! (route_localnet is on for the bridges so that 127.0.0.1 ports work,
//! which would otherwise let containers and the LAN reach the host's
//! loopback services).
//!
//! The rules are encoded by hand exactly as nft(8) 1.0 encodes the same
//! rule text, so `nft list table ip pocket` prints them back as written
//! (nft_tests.rs checks this byte for byte). Other tables (docker's,
//! firewalld's) are never read or touched.

use super::nl::{
    Msg, NETLINK_NETFILTER, NFNL_MSG_BATCH_BEGIN, NFNL_MSG_BATCH_END, NLM_F_APPEND, NLM_F_CREATE,
    NLM_F_REQUEST, Sock,
};
use crate::error::Result;
use alloc::string::String;
use alloc::vec::Vec;

/// A bridge network: its interface and its subnet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Net {
    pub bridge: String,
    pub subnet: [u8; 4],
    pub prefix: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Tcp,
    Udp,
}

/// A published port: host side (any local address when `host_ip` is None)
/// to a container's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    pub proto: Proto,
    pub host_ip: Option<[u8; 4]>,
    pub host_port: u16,
    pub ctr_ip: [u8; 4],
    pub ctr_port: u16,
}

const TABLE: &str = "pocket";
const NFPROTO_IPV4: u8 = 2;
const NFNL_SUBSYS_NFTABLES: u8 = 10;

// Message types (enum nf_tables_msg_types) with the subsystem's high byte.
const SUBSYS: u16 = (NFNL_SUBSYS_NFTABLES as u16) << 8;
const NEWTABLE: u16 = SUBSYS;
const DELTABLE: u16 = SUBSYS | 2;
const NEWCHAIN: u16 = SUBSYS | 3;
const NEWRULE: u16 = SUBSYS | 6;
const GETGEN: u16 = SUBSYS | 16;
const GEN_ID: u16 = 1;

// Attributes, linux/netfilter/nf_tables.h. Every u32 is big-endian.
const TABLE_NAME: u16 = 1;
const TABLE_FLAGS: u16 = 2;
const CHAIN_TABLE: u16 = 1;
const CHAIN_NAME: u16 = 3;
const CHAIN_HOOK: u16 = 4;
const CHAIN_POLICY: u16 = 5;
const CHAIN_TYPE: u16 = 7;
const HOOK_HOOKNUM: u16 = 1;
const HOOK_PRIORITY: u16 = 2;
const RULE_TABLE: u16 = 1;
const RULE_CHAIN: u16 = 2;
const RULE_EXPRESSIONS: u16 = 4;
const LIST_ELEM: u16 = 1;
const EXPR_NAME: u16 = 1;
const EXPR_DATA: u16 = 2;
const DATA_VALUE: u16 = 1;
const DATA_VERDICT: u16 = 2;
const VERDICT_CODE: u16 = 1;
const NF_DROP: u32 = 0;
const NF_ACCEPT: u32 = 1;

/// NFT_REG_1 (a 16-byte register, as nft uses); NFT_REG_VERDICT is 0.
const REG1: u32 = 1;
const REG2: u32 = 2;

const CMP_EQ: u32 = 0;
const CMP_NEQ: u32 = 1;
const BASE_NETWORK: u32 = 1;
const BASE_TRANSPORT: u32 = 2;
const META_IIFNAME: u32 = 6;
const META_OIFNAME: u32 = 7;
const META_L4PROTO: u32 = 16;
const CT_STATE: u32 = 0;
const CT_STATUS: u32 = 2;
/// NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED).
const CT_ESTABLISHED_RELATED: u32 = 0x6;
/// IPS_DST_NAT.
const CT_DNAT: u32 = 0x20;
const RTN_LOCAL: u32 = 2;
const IFNAMSIZ: usize = 16;

/// (name, type, hook (NF_INET_*), priority): nat chains at srcnat/dstnat
/// as docker's, forward at the filter priority, and raw, before conntrack
/// and NAT, so nothing can be rewritten to or from 127.0.0.0/8 first.
/// Rules go in this order.
const CHAINS: [(&str, &str, u32, i32); 5] = [
    ("postrouting", "nat", 4, 100),
    ("prerouting", "nat", 0, -100),
    ("output", "nat", 3, -100),
    ("forward", "filter", 2, 0),
    ("raw", "filter", 0, -300),
];

/// Make table `ip pocket` hold exactly the rules for `nets` and `ports`,
/// in one transaction: add the table (a no-op if present), delete it, add
/// it again with its chains and rules. Readers never see a half state,
/// and the rules of a pocket killed midway vanish at the next sync. With
/// nothing to hold, the table goes.
pub fn sync(nets: &[Net], ports: &[Port]) -> Result<()> {
    let msgs = batch(nets, ports)?;
    Sock::open(NETLINK_NETFILTER)?.batch(msgs)
}

/// The ruleset's generation in this namespace: every commit, anyone's
/// (pocket, nft, docker, firewalld), moves it on by one.
pub fn generation(s: &mut Sock) -> Result<u32> {
    // nfgenmsg for AF_UNSPEC: the generation is the namespace's.
    let mut m = Msg::new(GETGEN, NLM_F_REQUEST);
    m.put_bytes(&[0, 0, 0, 0]);
    s.get(m)?
        .iter()
        .find_map(|p| p.get(4..).and_then(|a| super::nl::find(a, GEN_ID)))
        .and_then(super::nl::u32_be)
        .ok_or_else(|| crate::error::Error::bad("NFT_MSG_GETGEN", "", "no generation in the reply"))
}

/// A fingerprint of a transaction (FNV-1a over its messages, sent or
/// not: they differ only in sequence numbers once sent, which are set
/// later).
pub fn fingerprint(msgs: &[Msg]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in msgs.iter().flat_map(|m| m.bytes()) {
        h = (h ^ *b as u64).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Delete table `ip pocket`; fine if it is not there.
pub fn remove() -> Result<()> {
    sync(&[], &[])
}

/// The transaction `sync` sends, delimiters included.
pub fn batch(nets: &[Net], ports: &[Port]) -> Result<Vec<Msg>> {
    let mut v = Vec::new();
    v.push(delimiter(NFNL_MSG_BATCH_BEGIN));
    // Adding first makes the delete succeed when the table is absent, so
    // the transaction works on any kernel (DESTROYTABLE came in 6.3).
    v.push(table(NEWTABLE));
    v.push(table(DELTABLE));
    if !nets.is_empty() || !ports.is_empty() {
        v.push(table(NEWTABLE));
        for c in CHAINS {
            v.push(chain(c));
        }
        rules(&mut v, nets, ports)?;
    }
    v.push(delimiter(NFNL_MSG_BATCH_END));
    Ok(v)
}

fn rules(v: &mut Vec<Msg>, nets: &[Net], ports: &[Port]) -> Result<()> {
    let [post, pre, out, fwd, raw] = CHAINS.map(|c| c.0);
    let lo = ifname("lo")?;
    for n in nets {
        let br = ifname(&n.bridge)?;
        v.push(rule(post, &|m| {
            saddr(m, n.subnet, n.prefix);
            ifname_cmp(m, META_OIFNAME, CMP_NEQ, &br);
            expr(m, "masq", &[], &[]);
        }));
        // A connection from 127.0.0.1 that DNAT sends out of the bridge
        // (route_localnet lets it) needs a source the container can answer.
        v.push(rule(post, &|m| {
            saddr(m, [127, 0, 0, 0], 8);
            ifname_cmp(m, META_OIFNAME, CMP_EQ, &br);
            expr(m, "masq", &[], &[]);
        }));
        // Hairpin: a container reaching a neighbour through a published
        // port must see the answer come back through the host, not
        // straight from the neighbour's address it never spoke to.
        v.push(rule(post, &|m| {
            saddr(m, n.subnet, n.prefix);
            ifname_cmp(m, META_OIFNAME, CMP_EQ, &br);
            ct_bits(m, CT_STATUS, CT_DNAT);
            expr(m, "masq", &[], &[]);
        }));
    }
    // prerouting for other hosts and containers, output for the host
    // itself; a loopback port is the host's alone, as its name says.
    for (chain, remote) in [(pre, true), (out, false)] {
        for p in ports.iter().filter(|p| !(remote && loopback(p))) {
            v.push(rule(chain, &|m| dnat(m, p)));
        }
    }
    // First, so a port published on one network stays reachable through
    // the host's address from another, as from any other machine.
    v.push(rule(fwd, &|m| {
        ct_bits(m, CT_STATUS, CT_DNAT);
        accept(m);
    }));
    // Networks are isolated from each other, as docker's are.
    for a in nets {
        let ia = ifname(&a.bridge)?;
        for b in nets.iter().filter(|b| b.bridge != a.bridge) {
            let ib = ifname(&b.bridge)?;
            v.push(rule(fwd, &|m| {
                ifname_cmp(m, META_IIFNAME, CMP_EQ, &ia);
                ifname_cmp(m, META_OIFNAME, CMP_EQ, &ib);
                verdict(m, NF_DROP);
            }));
        }
    }
    for n in nets {
        let br = ifname(&n.bridge)?;
        v.push(rule(fwd, &|m| {
            ifname_cmp(m, META_IIFNAME, CMP_EQ, &br);
            accept(m);
        }));
        v.push(rule(fwd, &|m| {
            ifname_cmp(m, META_OIFNAME, CMP_EQ, &br);
            ct_bits(m, CT_STATE, CT_ESTABLISHED_RELATED);
            accept(m);
        }));
        // Anything else into the bridge: ip_forward=1 makes the host a
        // router, and the chain's policy is accept (pocket leaves other
        // tables' policies alone), so without this another host on the
        // LAN routing the subnet through us reaches every unpublished
        // port of every container. Docker's FORWARD policy drop and its
        // `-o docker0 -j DROP` do the same.
        v.push(rule(fwd, &|m| {
            ifname_cmp(m, META_OIFNAME, CMP_EQ, &br);
            verdict(m, NF_DROP);
        }));
    }
    // `iifname != "lo" ip daddr 127.0.0.0/8 drop`, as docker and
    // kube-proxy guard route_localnet (CVE-2020-8558).
    v.push(rule(raw, &|m| {
        ifname_cmp(m, META_IIFNAME, CMP_NEQ, &lo);
        payload(m, BASE_NETWORK, 16, 1);
        cmp(m, CMP_EQ, &[127]);
        verdict(m, NF_DROP);
    }));
    Ok(())
}

/// Published on 127.0.0.0/8 only.
fn loopback(p: &Port) -> bool {
    p.host_ip.is_some_and(|ip| ip[0] == 127)
}

/// `fib daddr type local [ip daddr IP] tcp|udp dport P dnat to IP:PORT`
fn dnat(m: &mut Msg, p: &Port) {
    expr(m, "fib", &[(3, 2), (2, 3), (1, REG1)], &[]); // flags DADDR, result ADDRTYPE
    cmp(m, CMP_EQ, &RTN_LOCAL.to_ne_bytes());
    if let Some(ip) = p.host_ip.filter(|ip| *ip != [0; 4]) {
        payload(m, BASE_NETWORK, 16, 4);
        cmp(m, CMP_EQ, &ip);
    }
    expr(m, "meta", &[(2, META_L4PROTO), (1, REG1)], &[]);
    let proto: u8 = match p.proto {
        Proto::Tcp => 6,
        Proto::Udp => 17,
    };
    cmp(m, CMP_EQ, &[proto]);
    payload(m, BASE_TRANSPORT, 2, 2);
    cmp(m, CMP_EQ, &p.host_port.to_be_bytes());
    expr(m, "immediate", &[(1, REG1)], &[(2, &p.ctr_ip)]);
    expr(
        m,
        "immediate",
        &[(1, REG2)],
        &[(2, &p.ctr_port.to_be_bytes())],
    );
    // type DNAT, family ipv4, addr_min reg 1, proto_min reg 2,
    // NF_NAT_RANGE_PROTO_SPECIFIED (the kernel adds MAP_IPS itself).
    let nat = [(1, 1), (2, 2), (3, REG1), (5, REG2), (7, 2)];
    expr(m, "nat", &nat, &[]);
}

/// `ip saddr NET/PREFIX`: a whole-byte prefix loads just those bytes; any
/// other goes through a mask, as nft does.
fn saddr(m: &mut Msg, net: [u8; 4], prefix: u8) {
    let p = prefix.min(32) as usize;
    if p == 0 {
        return;
    }
    if p.is_multiple_of(8) {
        payload(m, BASE_NETWORK, 12, p as u32 / 8);
        cmp(m, CMP_EQ, &net[..p / 8]);
    } else {
        let mask = (u32::MAX << (32 - p)).to_be_bytes();
        payload(m, BASE_NETWORK, 12, 4);
        bitwise(m, &mask);
        cmp(
            m,
            CMP_EQ,
            &(u32::from_ne_bytes(net) & u32::from_ne_bytes(mask)).to_ne_bytes(),
        );
    }
}

/// An interface name as the kernel compares it: NUL-padded to IFNAMSIZ.
fn ifname(name: &str) -> Result<[u8; IFNAMSIZ]> {
    let mut b = [0; IFNAMSIZ];
    super::link::check_name(name)?;
    b[..name.len()].copy_from_slice(name.as_bytes());
    Ok(b)
}

fn ifname_cmp(m: &mut Msg, key: u32, op: u32, name: &[u8; IFNAMSIZ]) {
    expr(m, "meta", &[(2, key), (1, REG1)], &[]);
    cmp(m, op, name);
}

/// `ct state|status BITS`: (value & bits) != 0.
fn ct_bits(m: &mut Msg, key: u32, bits: u32) {
    expr(m, "ct", &[(2, key), (1, REG1)], &[]);
    bitwise(m, &bits.to_ne_bytes());
    cmp(m, CMP_NEQ, &[0; 4]);
}

fn payload(m: &mut Msg, base: u32, offset: u32, len: u32) {
    expr(
        m,
        "payload",
        &[(1, REG1), (2, base), (3, offset), (4, len)],
        &[],
    );
}

fn cmp(m: &mut Msg, op: u32, data: &[u8]) {
    expr(m, "cmp", &[(1, REG1), (2, op)], &[(3, data)]);
}

/// reg 1 = (reg 1 & mask) ^ 0
fn bitwise(m: &mut Msg, mask: &[u8]) {
    let n = mask.len();
    let zero = &[0u8; 4][..n.min(4)];
    let regs = [(1, REG1), (2, REG1), (3, n as u32)];
    expr(m, "bitwise", &regs, &[(4, mask), (5, zero)]);
}

fn accept(m: &mut Msg) {
    verdict(m, NF_ACCEPT)
}

fn verdict(m: &mut Msg, code: u32) {
    let elem = m.nest(LIST_ELEM);
    m.attr_str(EXPR_NAME, "immediate");
    let d = m.nest(EXPR_DATA);
    m.attr_be32(1, 0); // NFT_REG_VERDICT
    let data = m.nest(2);
    let verdict = m.nest(DATA_VERDICT);
    m.attr_be32(VERDICT_CODE, code);
    m.end(verdict);
    m.end(data);
    m.end(d);
    m.end(elem);
}

/// One expression: big-endian u32 attributes, then data attributes (each
/// an NFTA_DATA_VALUE in a nest), in the order given.
fn expr(m: &mut Msg, name: &str, u32s: &[(u16, u32)], data: &[(u16, &[u8])]) {
    let elem = m.nest(LIST_ELEM);
    m.attr_str(EXPR_NAME, name);
    let d = m.nest(EXPR_DATA);
    for &(t, v) in u32s {
        m.attr_be32(t, v);
    }
    for &(t, v) in data {
        let n = m.nest(t);
        m.attr(DATA_VALUE, v);
        m.end(n);
    }
    m.end(d);
    m.end(elem);
}

fn rule(chain: &str, f: &dyn Fn(&mut Msg)) -> Msg {
    let mut m = msg(NEWRULE, NLM_F_CREATE | NLM_F_APPEND);
    m.attr_str(RULE_TABLE, TABLE);
    m.attr_str(RULE_CHAIN, chain);
    let list = m.nest(RULE_EXPRESSIONS);
    f(&mut m);
    m.end(list);
    m
}

fn chain((name, ty, hook, prio): (&str, &str, u32, i32)) -> Msg {
    let mut m = msg(NEWCHAIN, NLM_F_CREATE);
    m.attr_str(CHAIN_TABLE, TABLE);
    m.attr_str(CHAIN_NAME, name);
    m.attr_str(CHAIN_TYPE, ty);
    m.attr_be32(CHAIN_POLICY, NF_ACCEPT);
    let h = m.nest(CHAIN_HOOK);
    m.attr_be32(HOOK_HOOKNUM, hook);
    m.attr_be32(HOOK_PRIORITY, prio as u32);
    m.end(h);
    m
}

fn table(ty: u16) -> Msg {
    let mut m = msg(ty, 0);
    m.attr_str(TABLE_NAME, TABLE);
    if ty == NEWTABLE {
        m.attr_be32(TABLE_FLAGS, 0);
    }
    m
}

/// nlmsghdr + nfgenmsg {family ipv4, version 0, res_id 0}.
fn msg(ty: u16, flags: u16) -> Msg {
    let mut m = Msg::new(ty, NLM_F_REQUEST | flags);
    m.put_bytes(&[NFPROTO_IPV4, 0, 0, 0]);
    m
}

/// Batch begin/end: res_id names the subsystem the batch is for.
fn delimiter(ty: u16) -> Msg {
    let mut m = Msg::new(ty, NLM_F_REQUEST);
    m.put_bytes(&[0, 0, 0, NFNL_SUBSYS_NFTABLES]);
    m
}

#[cfg(test)]
#[path = "nft_tests.rs"]
mod tests;
