//! The events journal (docker's `docker events`): without a daemon to ask,
//! whoever makes something happen to a container (create, start, die,
//! kill, stop, pause, oom, destroy, health_status, ...) appends one line of
//! docker's event JSON to `<root>/events.log`. One write(2) of one line
//! with O_APPEND: lines of concurrent pockets never interleave. Past
//! `MAX_BYTES` the journal moves to `events.log.1` (the one kept before),
//! so events cost at most twice that on disk.

use super::{Record, Store};
use crate::json::{self, Value};
use crate::rt::time::{self, Timestamp};
use crate::sys::fd;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

pub const MAX_BYTES: i64 = 1 << 20;

/// Record `action` on container `rec`, with `extra` attributes (exitCode,
/// signal, ...) beside docker's image, name and the container's labels.
/// Best effort: an event that cannot be written never fails what it
/// reports.
pub fn emit(store: &Store, rec: &Record, action: &str, extra: &[(&str, String)]) {
    // Containers an engine made through the OCI runtime CLI (a bundle)
    // have their engine's events; nothing reads a journal for them.
    if !rec.bundle.is_empty() {
        return;
    }
    let line = event(rec, action, extra, time::now());
    let _ = append(store, &line);
}

/// `emit` for a container known by id (its record read now).
pub fn emit_for(store: &Store, id: &str, action: &str, extra: &[(&str, String)]) {
    if let Ok(rec) = store.load(id) {
        emit(store, &rec, action, extra);
    }
}

/// secs * 10^9 + nanos in decimal (nanos below 10^9, as clock_gettime
/// gives them), without i128 arithmetic and its formatting (1 KB).
fn time_nano(at: Timestamp) -> String {
    let (s, n) = (at.secs, at.nanos);
    match s {
        0 => format!("{n}"),
        1.. => format!("{s}{n:09}"),
        _ if n == 0 => format!("{s}000000000"),
        // Below 0: -((|s| - 1) * 10^9 + (10^9 - n)).
        _ => match (-(s + 1) as u64, 1_000_000_000 - n) {
            (0, b) => format!("-{b}"),
            (a, b) => format!("-{a}{b:09}"),
        },
    }
}

/// One event, as docker's API gives it (`events --format '{{json .}}'`).
fn event(rec: &Record, action: &str, extra: &[(&str, String)], at: Timestamp) -> String {
    let mut attrs: Vec<(String, String)> = rec.labels.clone();
    attrs.push((String::from("image"), rec.image.clone()));
    attrs.push((String::from("name"), rec.name.clone()));
    for (k, v) in extra {
        attrs.push((String::from(*k), v.clone()));
    }
    // A map in docker: one value per key (ours last), sorted.
    crate::rt::sort_by(&mut attrs, |a, b| a.0 < b.0);
    attrs.dedup_by(|later, earlier| {
        if later.0 == earlier.0 {
            earlier.1 = core::mem::take(&mut later.1);
            true
        } else {
            false
        }
    });
    let v = json::obj!(
        ("status", Some(json::str(action))),
        ("id", Some(json::str(&rec.id))),
        ("from", Some(json::str(&rec.image))),
        ("Type", Some(json::str("container"))),
        ("Action", Some(json::str(action))),
        (
            "Actor",
            Some(json::obj!(
                ("ID", Some(json::str(&rec.id))),
                ("Attributes", Some(json::pairs(&attrs))),
            ))
        ),
        ("scope", Some(json::str("local"))),
        ("time", Some(json::num(at.secs))),
        ("timeNano", Some(Value::Num(time_nano(at)))),
    );
    let mut s = json::compact(&v);
    s.push('\n');
    s
}

fn path(store: &Store) -> String {
    format!("{}/events.log", store.root)
}

fn append(store: &Store, line: &str) -> crate::error::Result<()> {
    let p = crate::error::cpath(&path(store))?;
    let flags =
        libc::O_WRONLY | libc::O_CREAT | libc::O_APPEND | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    let f = fd::open(&p, flags, 0o600).map_err(|e| crate::Error::sys("open", path(store), e))?;
    let size = fd::lseek(f.raw(), 0, libc::SEEK_END).unwrap_or(0);
    if size as i64 >= MAX_BYTES {
        // Whoever first sees it full moves it aside; the others' lines
        // land in the old or the new file, never lost mid-line.
        if let Ok(_l) = store.lock_file("events") {
            let old = crate::error::cpath(&format!("{}.1", path(store)))?;
            if fd::fstatat(libc::AT_FDCWD, &p, 0).is_ok_and(|st| st.st_size >= MAX_BYTES) {
                let _ = crate::sys::fs::renameat(libc::AT_FDCWD, &p, libc::AT_FDCWD, &old);
            }
        }
        let f =
            fd::open(&p, flags, 0o600).map_err(|e| crate::Error::sys("open", path(store), e))?;
        return fd::write_all(f.raw(), line.as_bytes())
            .map_err(|e| crate::Error::sys("write", path(store), e));
    }
    fd::write_all(f.raw(), line.as_bytes()).map_err(|e| crate::Error::sys("write", path(store), e))
}

/// Every event in the journal, oldest first (the kept older file, then
/// the current one), from byte `from` of the current one on when given
/// (`events` following it). Returns them with the current file's size.
pub fn read(store: &Store, from: Option<u64>) -> (Vec<Value>, u64) {
    let mut out = Vec::new();
    let cur = path(store);
    if from.is_none() {
        let old = format!("{cur}.1");
        if let Ok(data) = crate::error::cpath(&old).and_then(|p| {
            crate::sys::fs::read(&p).map_err(|e| crate::Error::sys("read", old.clone(), e))
        }) {
            parse_lines(&data, &mut out);
        }
    }
    let data = crate::error::cpath(&cur)
        .ok()
        .and_then(|p| crate::sys::fs::read(&p).ok())
        .unwrap_or_default();
    let start = (from.unwrap_or(0) as usize).min(data.len());
    // Only whole lines: a line being written is read next time.
    let end = data[start..]
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(start, |i| start + i + 1);
    parse_lines(&data[start..end], &mut out);
    // A rotation since `from`: start over on the new file.
    (out, end as u64)
}

/// After a rotation: what the moved-aside file got past byte `from` (the
/// last events written before the move), for a reader that followed it.
pub fn read_moved(store: &Store, from: u64) -> Vec<Value> {
    let mut out = Vec::new();
    let old = format!("{}.1", path(store));
    if let Some(data) = crate::error::cpath(&old)
        .ok()
        .and_then(|p| crate::sys::fs::read(&p).ok())
    {
        let start = (from as usize).min(data.len());
        parse_lines(&data[start..], &mut out);
    }
    out
}

fn parse_lines(data: &[u8], out: &mut Vec<Value>) {
    for l in data.split(|&c| c == b'\n') {
        if let Ok(v) = json::parse(l) {
            out.push(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_nano_is_the_i128_sum() {
        for secs in [
            0,
            1,
            59,
            1_700_000_000,
            i64::MAX,
            -1,
            -2,
            -1_700_000_000,
            i64::MIN,
        ] {
            for nanos in [0, 1, 5, 999_999_999, 500_000_000, 123_456_789] {
                let want = (secs as i128) * 1_000_000_000 + nanos as i128;
                assert_eq!(time_nano(Timestamp { secs, nanos }), want.to_string());
            }
        }
    }

    #[test]
    fn docker_shape() {
        let mut r = Record::new("a".repeat(64), "web".into(), "busybox".into(), vec![]);
        r.labels = vec![("tier".into(), "front".into())];
        let at = Timestamp {
            secs: 1_700_000_000,
            nanos: 5,
        };
        let l = event(&r, "die", &[("exitCode", "3".into())], at);
        assert!(l.ends_with('\n') && l.matches('\n').count() == 1);
        let v = json::parse(l.trim_end().as_bytes()).unwrap();
        assert_eq!(v.get("Action").and_then(Value::str), Some("die"));
        assert_eq!(v.get("Type").and_then(Value::str), Some("container"));
        assert_eq!(
            v.get("timeNano").and_then(Value::i64),
            Some(1_700_000_000_000_000_005)
        );
        let a = v.get("Actor").and_then(|a| a.get("Attributes")).unwrap();
        let keys: Vec<&str> = match a {
            Value::Obj(m) => m.iter().map(|(k, _)| k.as_str()).collect(),
            _ => panic!(),
        };
        assert_eq!(keys, ["exitCode", "image", "name", "tier"]);
    }
}
