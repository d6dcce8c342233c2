//! `pocket events`: docker's event stream, read from the journal every
//! pocket appends to (state/events.rs). Past events with --since; new
//! ones as they come until --until (or forever, as docker).

use super::Ctx;
use super::args::{Flag, flag, text};
use super::filter::{self, Filters};
use crate::error::{Error, Result};
use crate::json::Value;
use crate::rt::time::{self, Timestamp};
use crate::state::events;
use alloc::string::String;
use alloc::vec::Vec;

const FLAGS: &[Flag] = &[
    flag(0, "since", true),
    flag(0, "until", true),
    flag(b'f', "filter", true),
    flag(0, "format", true),
    flag(0, "help", false),
];

const KEYS: &[&str] = &["container", "event", "image", "label", "type"];

pub fn main(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("events", FLAGS, argv)? else {
        return Ok(0);
    };
    if let Some(extra) = p.rest.first() {
        return Err(Error::bad("events", text(extra), "takes no arguments"));
    }
    let now = time::now();
    let when = |name: &str| super::filter::time_flag(&p, FLAGS, name, now);
    let (since, until) = (when("since")?, when("until")?);
    let fs = Filters::parse("events", FLAGS, &p, |k, _| KEYS.contains(&k))?;
    let format = match p.value(FLAGS, "format") {
        Some(f) => Some(super::format::Format::parse(&text(f))?),
        None => None,
    };
    let show = |v: &Value| -> Result<()> {
        let t = stamp(v);
        if since.is_some_and(|s| t < s) || until.is_some_and(|u| t > u) || !matches(v, &fs) {
            return Ok(());
        }
        let line = match &format {
            Some(f) => f.one(v)?,
            None => line(v),
        };
        let mut o = crate::rt::out();
        o.bytes(line.as_bytes());
        o.bytes(b"\n");
        Ok(())
    };
    let (past, mut offset) = events::read(&ctx.store, None);
    // Without --since, docker shows only what happens from now on.
    if since.is_some() {
        for v in &past {
            show(v)?;
        }
    }
    // Follow, until --until passes (a past one ends at once).
    loop {
        if until.is_some_and(|u| time::now() > u) {
            return Ok(0);
        }
        crate::sys::time::sleep_ms(100);
        let size = journal_size(ctx);
        // Moved aside (full): the rest of the old one, then the new file
        // from its start.
        let from = if size < offset {
            for v in &events::read_moved(&ctx.store, offset) {
                show(v)?;
            }
            0
        } else {
            offset
        };
        let (new, end) = events::read(&ctx.store, Some(from));
        offset = end;
        for v in &new {
            show(v)?;
        }
    }
}

fn journal_size(ctx: &Ctx) -> u64 {
    crate::error::cpath(&alloc::format!("{}/events.log", ctx.store.root))
        .ok()
        .and_then(|p| crate::sys::fd::fstatat(libc::AT_FDCWD, &p, 0).ok())
        .map_or(0, |st| st.st_size as u64)
}

fn stamp(v: &Value) -> Timestamp {
    let n = v.get("timeNano").and_then(|n| match n {
        Value::Num(t) => t.parse::<i128>().ok(),
        _ => None,
    });
    match n {
        Some(n) => Timestamp {
            secs: (n / 1_000_000_000) as i64,
            nanos: (n % 1_000_000_000) as u32,
        },
        None => Timestamp {
            secs: v.get("time").and_then(Value::i64).unwrap_or(0),
            nanos: 0,
        },
    }
}

fn attrs(v: &Value) -> Vec<(String, String)> {
    crate::json::str_pairs(v.get("Actor").and_then(|a| a.get("Attributes")))
}

fn matches(v: &Value, fs: &Filters) -> bool {
    let s = |k: &str| v.get(k).and_then(Value::str).unwrap_or("");
    let a = attrs(v);
    let attr = |k: &str| {
        a.iter()
            .find(|(x, _)| x == k)
            .map_or("", |(_, y)| y.as_str())
    };
    fs.pass(KEYS, |key, val| match key {
        "container" => s("id").starts_with(val) || attr("name") == val,
        // health_status: healthy is event=health_status too, as docker.
        "event" => s("Action") == val || s("Action").split(':').next() == Some(val),
        // As docker: the image as given, or its name without the tag.
        "image" => s("from") == val || untagged(s("from")) == val,
        "label" => filter::label(&a, val),
        "type" => s("Type") == val,
        _ => false,
    })
}

/// `name:tag` (or `name@digest`) without its tag or digest, as docker's
/// stripTag (a registry's `host:port/` stays).
fn untagged(image: &str) -> &str {
    let image = image.split_once('@').map_or(image, |(n, _)| n);
    match image.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => name,
        _ => image,
    }
}

/// docker's line: time, type, action, id, (attributes sorted).
fn line(v: &Value) -> String {
    let s = |k: &str| v.get(k).and_then(Value::str).unwrap_or("");
    let a: Vec<String> = attrs(v)
        .iter()
        .map(|(k, x)| alloc::format!("{k}={x}"))
        .collect();
    alloc::format!(
        "{} {} {} {} ({})",
        time::rfc3339(stamp(v)),
        s("Type"),
        s("Action"),
        s("id"),
        a.join(", ")
    )
}
