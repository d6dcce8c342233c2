//! `pocket network create|ls|inspect|rm`: bridge networks (the state in
//! state/networks.rs), and the host side they need: the bridge device with
//! the gateway address, IP forwarding, and pocket's nf_tables table, all
//! over netlink (net/host.rs, which `run` uses for its containers too).

use super::Ctx;
use super::args::text;
use super::args::{Flag, flag};
use crate::error::{Error, Result};
use crate::json::{self, Value};
use crate::net::host::{delete_bridge, ensure_bridge, host_routes, sync};
use crate::net::networks::{self, Nets, Network, fmt_ip, parse_cidr, parse_ip};
use alloc::string::String;
use alloc::vec::Vec;

const CREATE: &[Flag] = &[
    flag(0, "subnet", true),
    flag(0, "gateway", true),
    flag(b'd', "driver", true),
    flag(b'l', "label", true),
    flag(0, "label-file", true),
    flag(0, "help", false),
];
const LS: &[Flag] = &[
    flag(b'q', "quiet", false),
    flag(0, "no-trunc", false),
    flag(b'f', "filter", true),
    flag(0, "format", true),
    flag(0, "help", false),
];
const ONLY_HELP: &[Flag] = &[flag(0, "help", false)];

pub fn main(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    super::subcommand(
        "network",
        &[
            (&["create"], create),
            (&["ls", "list"], ls),
            (&["rm", "remove"], rm),
            (&["inspect"], inspect),
            (&["prune"], super::prune::network),
            (&["connect"], connect),
            (&["disconnect"], disconnect),
        ],
        argv,
        ctx,
    )
}

const CONNECT: &[Flag] = &[
    flag(0, "ip", true),
    flag(0, "alias", true),
    flag(0, "help", false),
];

fn connect(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("network connect", CONNECT, argv)? else {
        return Ok(0);
    };
    let [net, c] = p.rest[..] else {
        return Err(Error::bad(
            "network connect",
            "",
            "needs NETWORK and CONTAINER",
        ));
    };
    let ip = match p.value(CONNECT, "ip") {
        Some(v) => Some(
            parse_ip(&text(v))
                .ok_or_else(|| Error::bad("invalid --ip", text(v), "not an IPv4 address"))?,
        ),
        None => None,
    };
    let mut aliases = Vec::new();
    for &(k, v) in &p.flags {
        if CONNECT[k].long == "alias" {
            let a = text(v);
            if !crate::rt::names::valid(&a) {
                return Err(Error::bad("invalid --alias", a, "a host name"));
            }
            aliases.push(a);
        }
    }
    let net = text(net);
    if net == networks::DEFAULT && !aliases.is_empty() {
        return Err(Error::bad(
            "--alias",
            "",
            "network-scoped alias is supported only for containers in user defined networks",
        ));
    }
    crate::container::network::connect(&ctx.store, &text(c), &net, ip, &aliases)?;
    Ok(0)
}

const DISCONNECT: &[Flag] = &[flag(b'f', "force", false), flag(0, "help", false)];

fn disconnect(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("network disconnect", DISCONNECT, argv)? else {
        return Ok(0);
    };
    let [net, c] = p.rest[..] else {
        return Err(Error::bad(
            "network disconnect",
            "",
            "needs NETWORK and CONTAINER",
        ));
    };
    crate::container::network::disconnect(&ctx.store, &text(c), &text(net))?;
    Ok(0)
}

fn utf8<'a>(what: &'static str, v: &'a [u8]) -> Result<&'a str> {
    core::str::from_utf8(v).map_err(|_| Error::bad(what, text(v), "not UTF-8"))
}

fn create(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("network create", CREATE, argv)? else {
        return Ok(0);
    };
    if let Some(d) = p.value(CREATE, "driver")
        && d != b"bridge"
    {
        return Err(Error::bad(
            "network driver",
            text(d),
            "only bridge is supported",
        ));
    }
    let subnet = match p.value(CREATE, "subnet") {
        Some(s) => {
            let s = utf8("invalid --subnet", s)?;
            Some(parse_cidr(s).ok_or_else(|| {
                Error::bad(
                    "invalid --subnet",
                    s,
                    "expected an IPv4 CIDR such as 10.90.0.0/24",
                )
            })?)
        }
        None => None,
    };
    let gateway = match p.value(CREATE, "gateway") {
        Some(g) => {
            let g = utf8("invalid --gateway", g)?;
            Some(parse_ip(g).ok_or_else(|| {
                Error::bad(
                    "invalid --gateway",
                    g,
                    "expected an IPv4 address such as 10.90.0.1",
                )
            })?)
        }
        None => None,
    };
    let name = match p.rest[..] {
        [n] => utf8("invalid network name", n)?,
        [] => return Err(Error::bad("network create", "", "needs a network name")),
        [_, x, ..] => {
            return Err(Error::bad(
                "network create",
                text(x),
                "takes exactly one network name",
            ));
        }
    };
    let given: Vec<(bool, &[u8])> = p
        .flags
        .iter()
        .filter_map(|&(k, v)| match CREATE[k].long {
            "label" => Some((false, v)),
            "label-file" => Some((true, v)),
            _ => None,
        })
        .collect();
    let labels = super::labels::collect(Vec::new(), &given)?;
    let nets = Nets::lock(&ctx.store.root, &ctx.store.run)?;
    let net = nets.create(name, subnet, gateway, &host_routes(), &labels)?;
    // The host side follows the record; if it cannot be made, neither
    // stays (a half-made network would hold its subnet for nothing).
    if let Err(e) = ensure_bridge(&net).and_then(|_| sync(&nets)) {
        let _ = nets.remove(&net.name, |_| false, delete_bridge);
        let _ = sync(&nets);
        return Err(e);
    }
    crate::outln!("{}", net.id);
    Ok(0)
}

fn ls(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("network ls", LS, argv)? else {
        return Ok(0);
    };
    if let Some(x) = p.rest.first() {
        return Err(Error::bad("network ls", text(x), "takes no arguments"));
    }
    const KEYS: &[&str] = &["driver", "id", "label", "name", "scope", "type", "dangling"];
    let fs = super::filter::Filters::parse("network ls", LS, &p, |k, v| match k {
        "type" => v == "builtin" || v == "custom",
        "dangling" => v == "true" || v == "false",
        k => KEYS.contains(&k),
    })?;
    let fmt = super::format::flag(LS, &p)?;
    let mut all = networks::list(&ctx.store.root)?;
    all.retain(|n| {
        fs.pass(KEYS, |k, v| match k {
            "driver" => v == "bridge",
            "id" => n.id.starts_with(v),
            "label" => super::filter::label(&n.labels, v),
            "name" => n.name.contains(v),
            "scope" => v == "local",
            "type" => (v == "builtin") == (n.name == networks::DEFAULT),
            // No container of any state on it (docker: the default
            // network is never dangling).
            "dangling" => {
                let unused = n.name != networks::DEFAULT
                    && !n.containers.iter().any(|(c, _)| ctx.store.load(c).is_ok());
                (v == "true") == unused
            }
            _ => false,
        })
    });
    let w = if p.on(LS, "no-trunc") { 64 } else { 12 };
    if p.on(LS, "quiet") {
        let mut o = crate::rt::out();
        for n in &all {
            o.bytes(n.id.get(..w).unwrap_or(&n.id).as_bytes());
            o.bytes(b"\n");
        }
        return Ok(0);
    }
    let rows: Vec<Vec<String>> = all
        .into_iter()
        .map(|n| {
            let labels: Vec<String> = n
                .labels
                .iter()
                .map(|(k, v)| alloc::format!("{k}={v}"))
                .collect();
            alloc::vec![
                String::from(n.id.get(..w).unwrap_or(&n.id)),
                n.name,
                String::from("bridge"),
                String::from("local"),
                String::from("false"),
                String::from("false"),
                labels.join(","),
                n.created,
            ]
        })
        .collect();
    super::format::Columns {
        fields: &[
            ("ID", "NETWORK ID"),
            ("Name", "NAME"),
            ("Driver", "DRIVER"),
            ("Scope", "SCOPE"),
            ("IPv6", "IPV6"),
            ("Internal", "INTERNAL"),
            ("Labels", "LABELS"),
            ("CreatedAt", "CREATED AT"),
        ],
        default: &["ID", "Name", "Driver", "Scope"],
    }
    .print(fmt.as_ref(), &rows)?;
    Ok(0)
}

/// One network as `docker network inspect` shows it.
fn inspect_json(n: &Network, ctx: &Ctx) -> Value {
    let containers = n
        .containers
        .iter()
        // An address still held by a container that is gone (pocket was
        // killed before releasing it) is no endpoint: gc frees it later.
        .filter_map(|(id, ip)| {
            let name = ctx.store.load(id).ok()?.name;
            let ep = json::obj!(
                ("Name", Some(json::str(&name))),
                (
                    "IPv4Address",
                    Some(json::str(&networks::fmt_cidr(*ip, n.prefix)))
                ),
                ("IPv6Address", Some(json::str(""))),
            );
            Some((id.clone(), ep))
        })
        .collect();
    let config = json::obj!(
        ("Subnet", Some(json::str(&n.cidr()))),
        ("Gateway", Some(json::str(&fmt_ip(n.gateway)))),
    );
    json::obj!(
        ("Name", Some(json::str(&n.name))),
        ("Id", Some(json::str(&n.id))),
        ("Created", Some(json::str(&n.created))),
        ("Scope", Some(json::str("local"))),
        ("Driver", Some(json::str("bridge"))),
        ("EnableIPv6", Some(Value::Bool(false))),
        (
            "IPAM",
            Some(json::obj!(
                ("Driver", Some(json::str("default"))),
                ("Options", Some(Value::Obj(Vec::new()))),
                ("Config", Some(Value::Arr(alloc::vec![config]))),
            ))
        ),
        ("Internal", Some(Value::Bool(false))),
        ("Containers", Some(Value::Obj(containers))),
        (
            "Options",
            Some(Value::Obj(alloc::vec![(
                String::from("com.docker.network.bridge.name"),
                json::str(&n.bridge)
            )]))
        ),
        ("Labels", Some(json::pairs(&n.labels))),
    )
}

/// A network's document, as `network inspect` shows it.
pub fn network_doc(ctx: &Ctx, name: &str) -> Result<Value> {
    Ok(inspect_json(
        &networks::resolve(&ctx.store.root, name)?,
        ctx,
    ))
}

const INSPECT_FLAGS: &[Flag] = &[flag(b'f', "format", true), flag(0, "help", false)];

fn inspect(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("network inspect", INSPECT_FLAGS, argv)? else {
        return Ok(0);
    };
    if p.rest.is_empty() {
        return Err(Error::bad(
            "network inspect",
            "",
            "needs at least one network",
        ));
    }
    let fmt = super::format::flag(INSPECT_FLAGS, &p)?;
    super::inspect::inspect_each(&p.rest, fmt.as_ref(), |q| network_doc(ctx, q))
}

fn rm(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("network rm", ONLY_HELP, argv)? else {
        return Ok(0);
    };
    if p.rest.is_empty() {
        return Err(Error::bad("network rm", "", "needs at least one network"));
    }
    // Any container that still exists, running or not, holds its address:
    // docker refuses to remove a network with endpoints.
    // Decided under the networks lock (in `remove`): a run holds it until
    // its record exists, so none can appear unseen.
    let mut failed = false;
    for n in &p.rest {
        let n = text(n);
        let r = Nets::lock(&ctx.store.root, &ctx.store.run).and_then(|nets| {
            let name = networks::resolve(&ctx.store.root, &n)?.name;
            let exists = |c: &str| crate::container::network::on_network(&ctx.store, c, &name);
            nets.remove(&n, exists, delete_bridge)?;
            sync(&nets)
        });
        match r {
            Ok(()) => crate::outln!("{}", n),
            Err(e) => {
                crate::errln!("pocket: {}", e);
                failed = true;
            }
        }
    }
    Ok(if failed { 1 } else { 0 })
}
