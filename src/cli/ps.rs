//! `pocket ps`: containers in docker's columns.

use super::Ctx;
use super::args::{Flag, flag};
use super::filter::Filters;
use crate::container::health::Health;
use crate::error::Result;
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
    "health",
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
) -> bool {
    let when = |v: &str| made.iter().find(|m| m.0 == v).map(|m| m.1);
    fs.pass(KEYS, |key, v| match key {
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

/// docker's "0.0.0.0:8080->80/tcp".
pub fn port_cell(m: &crate::net::ports::Mapping) -> String {
    let h = crate::net::networks::fmt_ip(m.host_ip);
    alloc::format!("{h}:{}->{}/{}", m.host_port, m.ctr_port, m.proto.as_str())
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
    let recs: Vec<_> = ctx
        .store
        .list()?
        .into_iter()
        .map(|r| ctx.store.live(r))
        // Restarting ones are listed too, as docker's ps does.
        .filter(|r| all || r.status == Status::Running || r.restarting)
        .filter(|r| matches(ctx, r, &fs, &made))
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
    // Read once: published ports of every container.
    let maps = crate::net::ports::all(&ctx.store.root).unwrap_or_default();
    let mut items = Vec::with_capacity(recs.len());
    for r in &recs {
        let ports: Vec<String> = super::port::published(&ctx.store, r, &maps)
            .iter()
            .map(port_cell)
            .collect();
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
            ports.join(", "),
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
    use super::command_cell;

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
