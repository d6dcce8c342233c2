//! `pocket volume create|ls|rm|inspect`: named volumes, as docker's local
//! driver keeps them (state/volumes.rs).

use super::Ctx;
use super::args::text;
use super::args::{Flag, flag};
use crate::error::{Error, Result};
use crate::json::{self, Value};
use crate::state::volumes;
use alloc::string::String;
use alloc::vec::Vec;

const CREATE: &[Flag] = &[
    flag(0, "name", true),
    flag(b'd', "driver", true),
    flag(b'l', "label", true),
    flag(0, "label-file", true),
    flag(0, "help", false),
];
const LS: &[Flag] = &[
    flag(b'q', "quiet", false),
    flag(b'f', "filter", true),
    flag(0, "format", true),
    flag(0, "help", false),
];
const RM: &[Flag] = &[flag(b'f', "force", false), flag(0, "help", false)];
const INSPECT: &[Flag] = &[flag(b'f', "format", true), flag(0, "help", false)];

pub fn main(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    super::subcommand(
        "volume",
        &[
            (&["create"], create),
            (&["ls", "list"], ls),
            (&["rm", "remove"], rm),
            (&["inspect"], inspect),
            (&["prune"], super::prune::volume),
        ],
        argv,
        ctx,
    )
}

fn create(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("volume create", CREATE, argv)? else {
        return Ok(0);
    };
    let mut name = None;
    let mut given: Vec<(bool, &[u8])> = Vec::new();
    for &(k, v) in &p.flags {
        match CREATE[k].long {
            "name" => name = Some(v),
            "label" => given.push((false, v)),
            "label-file" => given.push((true, v)),
            "driver" if v != b"local" => {
                return Err(Error::bad(
                    "volume driver",
                    text(v),
                    "only local is supported",
                ));
            }
            _ => {}
        }
    }
    match (name, &p.rest[..]) {
        (_, [_, _, ..]) | (Some(_), [_]) => {
            return Err(Error::bad("volume create", "", "takes at most one name"));
        }
        (None, [n]) => name = Some(n),
        _ => {}
    }
    let name = match name {
        Some(n) => Some(
            core::str::from_utf8(n)
                .map_err(|_| Error::bad("invalid volume name", text(n), "not UTF-8"))?,
        ),
        None => None,
    };
    let labels = super::labels::collect(Vec::new(), &given)?;
    let made = volumes::create(&ctx.store.root, name, &labels)?;
    crate::outln!("{}", made);
    Ok(0)
}

fn ls(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("volume ls", LS, argv)? else {
        return Ok(0);
    };
    if let Some(x) = p.rest.first() {
        return Err(Error::bad("volume ls", text(x), "takes no arguments"));
    }
    let fs = super::filter::Filters::parse("volume ls", LS, &p, |k, v| match k {
        "dangling" => v == "true" || v == "false",
        "name" | "label" => !v.is_empty(),
        _ => false,
    })?;
    let mut all = volumes::list(&ctx.store.root)?;
    // dangling: no container (any state) uses it.
    all.retain(|v| {
        fs.pass(&["dangling", "name", "label"], |k, x| match k {
            "dangling" => {
                let unused = volumes::users(&ctx.store, &v.name).is_ok_and(|u| u.is_empty());
                (x == "true") == unused
            }
            "name" => v.name.contains(x),
            "label" => super::filter::label(&v.labels, x),
            _ => false,
        })
    });
    if p.on(LS, "quiet") {
        let mut o = crate::rt::out();
        for v in &all {
            o.bytes(v.name.as_bytes());
            o.bytes(b"\n");
        }
        return Ok(0);
    }
    let fmt = super::format::flag(LS, &p)?;
    let rows: Vec<Vec<String>> = all
        .into_iter()
        .map(|v| {
            let labels: Vec<String> = v
                .labels
                .iter()
                .map(|(k, x)| alloc::format!("{k}={x}"))
                .collect();
            alloc::vec![
                String::from("local"),
                volumes::mountpoint(&ctx.store.root, &v.name),
                v.name,
                labels.join(","),
                String::from("local"),
            ]
        })
        .collect();
    super::format::Columns {
        fields: &[
            ("Driver", "DRIVER"),
            ("Mountpoint", "MOUNTPOINT"),
            ("Name", "VOLUME NAME"),
            ("Labels", "LABELS"),
            ("Scope", "SCOPE"),
        ],
        default: &["Driver", "Name"],
    }
    .print(fmt.as_ref(), &rows)?;
    Ok(0)
}

fn rm(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("volume rm", RM, argv)? else {
        return Ok(0);
    };
    let force = p.on(RM, "force");
    if p.rest.is_empty() {
        return Err(Error::bad("volume rm", "", "needs at least one volume"));
    }
    let mut failed = false;
    for n in &p.rest {
        let n = text(n);
        match volumes::remove(&ctx.store, &n) {
            Ok(()) => crate::outln!("{}", n),
            // As docker: -f does not complain about a volume already gone.
            Err(e) if force && e.code == 1 && e.op == "no such volume" => {}
            Err(e) => {
                crate::errln!("pocket: {}", e);
                failed = true;
            }
        }
    }
    Ok(if failed { 1 } else { 0 })
}

/// A volume's document, as `volume inspect` shows it.
pub fn volume_doc(ctx: &Ctx, name: &str) -> Result<Value> {
    let v = volumes::get(&ctx.store.root, name)?;
    Ok(json::obj!(
        ("CreatedAt", Some(json::str(&v.created))),
        ("Driver", Some(json::str("local"))),
        (
            "Labels",
            Some(match v.labels.is_empty() {
                true => Value::Null,
                false => json::pairs(&v.labels),
            }),
        ),
        (
            "Mountpoint",
            Some(json::str(&volumes::mountpoint(&ctx.store.root, &v.name)))
        ),
        ("Name", Some(json::str(&v.name))),
        ("Options", Some(Value::Null)),
        ("Scope", Some(json::str("local"))),
    ))
}

fn inspect(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("volume inspect", INSPECT, argv)? else {
        return Ok(0);
    };
    if p.rest.is_empty() {
        return Err(Error::bad(
            "volume inspect",
            "",
            "needs at least one volume",
        ));
    }
    let fmt = super::format::flag(INSPECT, &p)?;
    super::inspect::inspect_each(&p.rest, fmt.as_ref(), |q| volume_doc(ctx, q))
}
