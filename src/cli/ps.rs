//! `pocket ps`: containers in docker's columns.

use super::Ctx;
use super::args::{Flag, flag};
use super::filter::Filters;
use crate::container::health::Health;
use crate::error::Result;
use crate::net::ports::Mapping;
use crate::rt::time;
use crate::state::Status;
use alloc::string::String;
use alloc::vec::Vec;

const FLAGS: &[Flag] = &[
    flag(b'a', "all", false),
    flag(b'q', "quiet", false),
    flag(0, "no-trunc", false),
    flag(b'f', "filter", true),
    flag(0, "format", true),
    flag(b'n', "last", true),
    flag(b'l', "latest", false),
    flag(b's', "size", false),
    flag(0, "help", false),
];

/// docker's ps fields and titles (its formatter's names).
const FIELDS: &[(&str, &str)] = &[
    ("ID", "CONTAINER ID"),
    ("Image", "IMAGE"),
    ("Command", "COMMAND"),
    ("CreatedAt", "CREATED AT"),
    ("RunningFor", "CREATED"),
    ("Ports", "PORTS"),
    ("State", "STATE"),
    ("Status", "STATUS"),
    ("Names", "NAMES"),
    ("Labels", "LABELS"),
    ("Size", "SIZE"),
];
const DEFAULT: &[&str] = &[
    "ID",
    "Image",
    "Command",
    "RunningFor",
    "Status",
    "Ports",
    "Names",
];
const COLUMNS: super::format::Columns = super::format::Columns {
    fields: FIELDS,
    default: DEFAULT,
};
const KEYS: &[&str] = &[
    "id", "name", "label", "status", "ancestor", "exited", "before", "since", "volume", "network",
    "health", "publish", "expose",
];
const HEALTH: &[&str] = &["starting", "healthy", "unhealthy", "none"];
const STATUSES: &[&str] = &[
    "created",
    "restarting",
    "running",
    "removing",
    "paused",
    "exited",
    "dead",
];

/// Does `r` pass the filters? `made` has the creation time of each
/// container `before=` and `since=` name.
fn matches(
    ctx: &Ctx,
    r: &crate::state::Record,
    fs: &Filters,
    made: &[(String, time::Timestamp)],
    maps: &[Mapping],
) -> bool {
    let when = |v: &str| made.iter().find(|m| m.0 == v).map(|m| m.1);
    // publish= and expose= are one test, as docker's: any port matching
    // either kind of value.
    let port_keys = fs.has("publish") || fs.has("expose");
    if port_keys {
        let ports = ports_of(ctx, r, maps);
        let hit = |key| fs.values(key).any(|v| port_match(&ports, key, v));
        if !hit("publish") && !hit("expose") {
            return false;
        }
    }
    fs.pass(KEYS, |key, v| match key {
        "publish" | "expose" => true,
        "id" => r.id.starts_with(v),
        "name" => r.name.contains(v),
        "label" => super::filter::label(&r.labels, v),
        "status" => r.state_word() == v,
        "exited" => r.status == Status::Exited && r.exit_code == v.parse::<i32>().ok(),
        "ancestor" => ancestor(ctx, r, v),
        "before" => when(v).is_some_and(|t| r.created < t),
        "since" => when(v).is_some_and(|t| r.created > t),
        "volume" => uses_volume(ctx, r, v),
        "network" => on_network(ctx, r, v),
        "health" => health_word(ctx, r) == v,
        _ => false,
    })
}

/// docker's `volume=`: a named volume it mounts, or where it mounts one.
fn uses_volume(ctx: &Ctx, r: &crate::state::Record, v: &str) -> bool {
    let Ok(spec) = ctx.store.spec(&r.id) else {
        return false;
    };
    let mp = crate::state::volumes::mountpoint(&ctx.store.root, v);
    spec.mounts
        .iter()
        .any(|m| m.is_bind() && (m.source == mp || m.destination == v.trim_end_matches('/')))
}

/// docker's `network=`: a network (name or id prefix) it is on.
fn on_network(ctx: &Ctx, r: &crate::state::Record, v: &str) -> bool {
    let nets = crate::net::networks::list(&ctx.store.root).unwrap_or_default();
    let named =
        |n: &crate::net::networks::Network| n.name == v || (v.len() >= 3 && n.id.starts_with(v));
    let first = ctx
        .store
        .spec(&r.id)
        .ok()
        .and_then(|s| s.net)
        .map(|a| a.network);
    nets.iter()
        .filter(|n| named(n))
        .any(|n| first.as_deref() == Some(&*n.name) || n.containers.iter().any(|c| c.0 == r.id))
}

/// docker's `health=`: starting, healthy or unhealthy for a container
/// with a check, none for one without.
fn health_word(ctx: &Ctx, r: &crate::state::Record) -> String {
    match r.healthcheck {
        None => String::from("none"),
        // No result yet: starting while it runs, none before it ran.
        Some(_) => Health::status_of(&ctx.store, &r.id)
            .map(|h| String::from(h.trim_start_matches("health: ")))
            .unwrap_or_else(|| String::from(if r.running() { "starting" } else { "none" })),
    }
}

/// Made from image `q`: by the name it was run with (normalised, so
/// `busybox` is `busybox:latest`) or by the image's id (a prefix).
fn ancestor(ctx: &Ctx, r: &crate::state::Record, q: &str) -> bool {
    let norm = |s: &str| crate::image::store::normalize(s).ok();
    if r.image == q || (norm(q).is_some() && norm(q) == norm(&r.image)) {
        return true;
    }
    let q = q.strip_prefix("sha256:").unwrap_or(q);
    q.len() >= 4
        && ctx
            .store
            .spec(&r.id)
            .ok()
            .and_then(|s| s.image)
            .is_some_and(|id| id.starts_with(q))
}

/// docker's COMMAND cell: quoted, cut to 20 characters with an ellipsis.
pub fn command_cell(cmd: &[String], trunc: bool) -> String {
    let s = cmd.join(" ");
    match trunc {
        true => alloc::format!("\"{}\"", super::table::ellipsis(&s, 20)),
        false => alloc::format!("\"{s}\""),
    }
}

/// One port as docker's container list has it: (private port, host
/// address or "" if not published, public port or 0, protocol).
type Listed = (u16, String, u16, &'static str);

/// What `rec` lists: its published ports, and the exposed ones it does
/// not publish (port::exposed_only).
fn listed(published: &[Mapping], exposed: &[(u16, &'static str)]) -> Vec<Listed> {
    let mut v: Vec<Listed> = published
        .iter()
        .map(|m| {
            let ip = crate::net::networks::fmt_ip(m.host_ip);
            (m.ctr_port, ip, m.host_port, m.proto.as_str())
        })
        .collect();
    v.extend(
        exposed
            .iter()
            .map(|&(n, proto)| (n, String::new(), 0, proto)),
    );
    v
}

/// What `r` lists, from `maps` (ports::all): nothing once stopped (its
/// host ports stay reserved, but docker lists a container's ports only
/// while it runs).
fn ports_of(ctx: &Ctx, r: &crate::state::Record, maps: &[Mapping]) -> Vec<Listed> {
    if r.status != Status::Running {
        return Vec::new();
    }
    let published = super::port::published(&ctx.store, r, maps);
    let exposed = super::port::exposed_only(&ctx.store, r, &published);
    listed(&published, &exposed)
}

/// docker's PORTS cell (its CLI's DisplayablePorts): sorted by private
/// port, address, public port, protocol; runs of consecutive ports
/// published on the same numbers (or not published) as one range,
/// `0.0.0.0:8000-8002->8000-8002/tcp`, `80/tcp`; a port published on
/// another number last, `0.0.0.0:8080->80/tcp`.
pub fn ports_cell(mut ports: Vec<Listed>) -> String {
    crate::rt::sort_by(&mut ports, |a, b| {
        (a.0, &a.1, a.2, a.3) < (b.0, &b.1, b.2, b.3)
    });
    let form = |(ip, proto, first, last): &(&str, &str, u16, u16)| {
        let mut g = alloc::format!("{first}");
        if first != last {
            g = alloc::format!("{g}-{last}");
        }
        match ip.is_empty() {
            true => alloc::format!("{g}/{proto}"),
            false => alloc::format!("{ip}:{g}->{g}/{proto}"),
        }
    };
    // (address, protocol, first, last), in the order first seen.
    let mut groups: Vec<(&str, &str, u16, u16)> = Vec::new();
    let (mut out, mut moved) = (Vec::new(), Vec::new());
    for (private, ip, public, proto) in &ports {
        if !ip.is_empty() && public != private {
            moved.push(alloc::format!("{ip}:{public}->{private}/{proto}"));
            continue;
        }
        match groups.iter_mut().find(|g| g.0 == ip && g.1 == *proto) {
            Some(g) if g.3.checked_add(1) == Some(*private) => g.3 = *private,
            Some(g) => {
                out.push(form(g));
                (g.2, g.3) = (*private, *private);
            }
            None => groups.push((ip, proto, *private, *private)),
        }
    }
    out.extend(groups.iter().map(form));
    out.extend(moved);
    out.join(", ")
}

/// ps's `publish=` and `expose=` values: a port or a range, `/PROTO`
/// (tcp when none), as "N/proto" each; None if it is not one.
fn port_filter(v: &str) -> Option<Vec<String>> {
    let (lo, hi, proto) = crate::image::change::port_range(v).filter(|_| !v.contains(':'))?;
    Some((lo..=hi).map(|n| alloc::format!("{n}/{proto}")).collect())
}

/// docker's `publish=` (a host port it publishes) and `expose=` (a
/// container port it lists, published or not).
fn port_match(ports: &[Listed], key: &str, v: &str) -> bool {
    let want = port_filter(v).unwrap_or_default();
    ports.iter().any(|(private, _, public, proto)| {
        let n = if key == "publish" { *public } else { *private };
        n != 0 && want.contains(&alloc::format!("{n}/{proto}"))
    })
}

pub fn main(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("ps", FLAGS, argv)? else {
        return Ok(0);
    };
    let on = |name: &str| p.on(FLAGS, name);
    let (all, quiet, trunc) = (on("all"), on("quiet"), !on("no-trunc"));
    if let Some(extra) = p.rest.first() {
        return Err(crate::Error::bad(
            "ps",
            String::from_utf8_lossy(extra).into_owned(),
            "takes no arguments",
        ));
    }
    let fs = Filters::parse("ps", FLAGS, &p, |key, val| {
        KEYS.contains(&key)
            && (key != "status" || STATUSES.contains(&val))
            && (key != "exited" || val.parse::<i32>().is_ok())
            && (key != "health" || HEALTH.contains(&val))
            && (!matches!(key, "publish" | "expose") || port_filter(val).is_some())
    })?;
    // before= and since= name containers that must exist (docker's).
    let mut made: Vec<(String, time::Timestamp)> = Vec::new();
    for key in ["before", "since"] {
        for v in fs.values(key) {
            let id = ctx.store.resolve(v)?;
            made.push((String::from(v), ctx.store.load(&id)?.created));
        }
    }
    // -n N: the N made last, in any state (docker's; 0 or less: all of
    // them); -l: the last one.
    let last = match p.value(FLAGS, "last") {
        Some(v) => Some(super::args::text(v).trim().parse::<i64>().map_err(|_| {
            crate::Error::bad(
                "invalid argument",
                super::args::text(v),
                "for -n, --last: not a number",
            )
        })?),
        None => None,
    }
    // docker's default, -1: not given; then -l is one.
    .filter(|&n| n != -1)
    .or_else(|| on("latest").then_some(1));
    let limit = last.filter(|&n| n > 0).map_or(usize::MAX, |n| n as usize);
    let all = all || last.is_some() || fs.has("status") || fs.has("exited");
    let now = time::now();
    // Read once: published ports of every container (for the filters
    // above, the PORTS column).
    let port_filters = fs.has("publish") || fs.has("expose");
    let maps = match port_filters || !quiet {
        true => crate::net::ports::all(&ctx.store.root).unwrap_or_default(),
        false => Vec::new(),
    };
    let recs: Vec<_> = ctx
        .store
        .list()?
        .into_iter()
        .map(|r| ctx.store.live(r))
        // Restarting ones are listed too, as docker's ps does.
        .filter(|r| all || r.status == Status::Running || r.restarting)
        .filter(|r| matches(ctx, r, &fs, &made, &maps))
        .take(limit)
        .collect();
    let fmt = super::format::flag(FLAGS, &p)?;
    // Sizes are walked for -s, or a --format that shows them.
    let sizes = on("size")
        || p.value(FLAGS, "format")
            .is_some_and(|f| f.windows(4).any(|w| w == b"Size"));
    let mut out = crate::rt::out();
    if quiet {
        for r in &recs {
            out.bytes(if trunc { r.short_id() } else { &r.id }.as_bytes());
            out.bytes(b"\n");
        }
        return Ok(0);
    }
    let mut items = Vec::with_capacity(recs.len());
    for r in &recs {
        let ports = ports_cell(ports_of(ctx, r, &maps));
        let mut labels: Vec<String> = r
            .labels
            .iter()
            .map(|(k, v)| alloc::format!("{k}={v}"))
            .collect();
        crate::rt::sort_by(&mut labels, |a, b| a < b);
        // In COLUMNS' order.
        items.push(alloc::vec![
            String::from(if trunc { r.short_id() } else { &r.id }),
            r.image.clone(),
            command_cell(&r.command, trunc),
            time::docker_date(r.created),
            time::human_ago(r.created, now),
            ports,
            String::from(r.state_word()),
            status_cell(ctx, r, now),
            r.name.clone(),
            labels.join(","),
            if sizes {
                size_cell(ctx, r)
            } else {
                String::from("0B")
            },
        ]);
    }
    // With -s: SIZE at the end, as docker's.
    let with_size: Vec<&str> = DEFAULT.iter().copied().chain(["Size"]).collect();
    let columns = match on("size") {
        true => super::format::Columns {
            fields: FIELDS,
            default: &with_size,
        },
        false => COLUMNS,
    };
    columns.print(fmt.as_ref(), &items)?;
    drop(out);
    Ok(0)
}

/// docker's SIZE: the bytes the container wrote (its upper dir), and
/// with its image's, "(virtual ...)": `1.2kB (virtual 2.13MB)`; a
/// --rootfs container's writes are its directory's, not counted apart.
fn size_cell(ctx: &Ctx, r: &crate::state::Record) -> String {
    let spec = ctx.store.spec(&r.id).ok();
    let rw = match spec.as_ref().and_then(|s| s.root.overlay.as_ref()) {
        Some(o) => super::prune::bytes_of(&o.upper),
        None => 0,
    };
    let image = spec
        .and_then(|s| s.image)
        .and_then(|id| {
            crate::image::store::Images::new(&ctx.store.root)
                .get(&id)
                .ok()
        })
        .map_or(0, |i| i.size);
    let h = |n: u64| crate::rt::units::human_size(n, 3);
    match image {
        0 => h(rw),
        _ => alloc::format!("{} (virtual {})", h(rw), h(rw + image)),
    }
}

/// docker's STATUS, with the health of a running container that has a
/// check: "Up 3 minutes (healthy)".
fn status_cell(ctx: &Ctx, r: &crate::state::Record, now: time::Timestamp) -> String {
    let s = r.status_text(now);
    match r.healthcheck {
        Some(_) if r.status == Status::Running => match Health::status_of(&ctx.store, &r.id) {
            Some(h) => alloc::format!("{s} ({h})"),
            None => s,
        },
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::{command_cell, port_filter, ports_cell};
    use alloc::string::String;

    fn p(private: u16, ip: &str, public: u16, proto: &'static str) -> super::Listed {
        (private, String::from(ip), public, proto)
    }

    /// The cells docker's CLI (DisplayablePorts) prints for these ports.
    #[test]
    fn ports_are_grouped_as_docker_groups_them() {
        assert_eq!(ports_cell(vec![]), "");
        assert_eq!(
            ports_cell(vec![p(80, "0.0.0.0", 8080, "tcp")]),
            "0.0.0.0:8080->80/tcp"
        );
        // Consecutive, published on the same numbers: one range.
        let same = (5000..=5002).map(|n| p(n, "0.0.0.0", n, "tcp")).collect();
        assert_eq!(ports_cell(same), "0.0.0.0:5000-5002->5000-5002/tcp");
        // Exposed only, consecutive or not, by protocol; the moved last.
        let v = vec![
            p(8080, "", 0, "tcp"),
            p(90, "0.0.0.0", 9090, "tcp"),
            p(8001, "127.0.0.1", 8001, "tcp"),
            p(80, "", 0, "tcp"),
            p(8000, "", 0, "tcp"),
            p(53, "", 0, "udp"),
            p(8002, "", 0, "tcp"),
        ];
        assert_eq!(
            ports_cell(v),
            "80/tcp, 8000/tcp, 8002/tcp, 53/udp, 8080/tcp, 127.0.0.1:8001->8001/tcp, \
             0.0.0.0:9090->90/tcp"
        );
        let run = vec![
            p(81, "", 0, "tcp"),
            p(80, "", 0, "tcp"),
            p(82, "", 0, "tcp"),
        ];
        assert_eq!(ports_cell(run), "80-82/tcp");
    }

    #[test]
    fn port_filters_are_ports_or_ranges() {
        assert_eq!(port_filter("80").unwrap(), ["80/tcp"]);
        assert_eq!(port_filter("53/udp").unwrap(), ["53/udp"]);
        assert_eq!(port_filter("8000-8002/tcp").unwrap().len(), 3);
        for bad in ["", "0", "80:80", "a", "9-8", "80/icmp", "70000"] {
            assert!(port_filter(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn command_is_quoted_and_cut() {
        assert_eq!(
            command_cell(&["sleep".into(), "10".into()], true),
            "\"sleep 10\""
        );
        let long = vec![
            "sh".into(),
            "-c".into(),
            "while true; do echo hi; done".into(),
        ];
        assert_eq!(command_cell(&long, true), "\"sh -c while true; d…\"");
        assert!(command_cell(&long, false).ends_with("done\""));
    }
}
