//! `pocket inspect` (the record and config as JSON, in docker's shape)
//! and `pocket top` (the container's processes, seen from the host).

use super::Ctx;
use super::args::{Flag, flag};
use crate::error::{Error, Result};
use crate::state::{Record, Status, time};
use crate::sys::fs;
use alloc::string::String;
use alloc::vec::Vec;
use serde_json::{Value, json};

const FLAGS: &[Flag] = &[flag(0, "help", false)];

const HELP: &str = "\
Usage: pocket inspect CONTAINER...

Show containers' state and configuration as a JSON array, like docker inspect.
";

fn rfc(t: time::Timestamp) -> String {
    time::rfc3339_nano_trimmed(t)
}

pub fn describe(rec: &Record, spec: Option<&crate::spec::Spec>, log_path: &str) -> Value {
    let r = rec.live();
    let lossy = |v: &[Vec<u8>]| {
        v.iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect::<Vec<_>>()
    };
    let config = spec.map(|s| {
        json!({
            "Hostname": String::from_utf8_lossy(&s.hostname),
            "Env": lossy(&s.process.env),
            "Cmd": lossy(&s.process.args),
            "WorkingDir": String::from_utf8_lossy(&s.process.cwd),
            "Tty": s.process.terminal,
            "OpenStdin": s.io.stdin,
        })
    });
    let host = spec.map(|s| {
        json!({
            "AutoRemove": r.auto_remove,
            "ReadonlyRootfs": s.root.readonly,
            "Init": s.init,
            "NetworkMode": if s.has(crate::spec::Namespace::Network) { "none" } else { "host" },
            "CapAdd": Value::Null,
            "Capabilities": crate::spec::caps::names(s.process.capabilities),
        })
    });
    json!({
        "Id": r.id,
        "Created": rfc(r.created),
        "Path": r.command.first().cloned().unwrap_or_default(),
        "Args": r.command.get(1..).unwrap_or(&[]),
        "State": {
            "Status": r.status.as_str(),
            "Running": r.status == Status::Running,
            "Pid": if r.status == Status::Running { r.pid } else { 0 },
            "ExitCode": r.exit_code.unwrap_or(0),
            "StartedAt": rfc(r.started_at),
            "FinishedAt": rfc(r.finished_at),
        },
        "Name": alloc::format!("/{}", r.name),
        "Image": r.image,
        "LogPath": if r.logged { log_path } else { "" },
        "Config": config.unwrap_or(Value::Null),
        "HostConfig": host.unwrap_or(Value::Null),
    })
}

pub fn inspect(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("inspect", FLAGS, HELP, argv)? else {
        return Ok(0);
    };
    if p.rest.is_empty() {
        return Err(Error::bad("inspect", "", "needs at least one container"));
    }
    let mut all = Vec::new();
    let mut failed = false;
    for q in p.rest {
        let q = String::from_utf8_lossy(q);
        match ctx.store.resolve(&q).and_then(|id| ctx.store.load(&id)) {
            Ok(rec) => {
                let spec = ctx.store.spec(&rec.id).ok();
                all.push(describe(&rec, spec.as_ref(), &ctx.store.log_path(&rec.id)));
            }
            Err(e) => {
                crate::errln!("pocket: {}", e);
                failed = true;
            }
        }
    }
    let mut s = serde_json::to_string_pretty(&Value::Array(all)).unwrap_or_default();
    s.push('\n');
    crate::rt::out().bytes(s.as_bytes());
    Ok(if failed { 1 } else { 0 })
}

const TOP_HELP: &str = "\
Usage: pocket top CONTAINER

List the processes of a running container (host pids).
";

/// Host pids of the processes in the pid namespace of `pid`.
pub fn processes(pid: i32) -> Vec<i32> {
    let Some(ns) = ns_link(pid) else {
        return Vec::new();
    };
    let Ok(d) = crate::sys::fd::open(c"/proc", libc::O_RDONLY | libc::O_DIRECTORY, 0) else {
        return Vec::new();
    };
    let mut out: Vec<i32> = fs::list_dir(&d)
        .unwrap_or_default()
        .iter()
        .filter_map(|e| e.name.parse::<i32>().ok())
        .filter(|&p| ns_link(p).as_ref() == Some(&ns))
        .collect();
    out.sort();
    out
}

fn ns_link(pid: i32) -> Option<Vec<u8>> {
    let p = alloc::ffi::CString::new(alloc::format!("/proc/{pid}/ns/pid")).ok()?;
    fs::readlinkat(libc::AT_FDCWD, &p).ok()
}

fn proc_file(pid: i32, name: &str) -> Vec<u8> {
    alloc::ffi::CString::new(alloc::format!("/proc/{pid}/{name}"))
        .ok()
        .and_then(|p| fs::read(&p).ok())
        .unwrap_or_default()
}

pub fn top(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("top", FLAGS, TOP_HELP, argv)? else {
        return Ok(0);
    };
    let [q] = p.rest else {
        return Err(Error::bad("top", "", "needs exactly one container"));
    };
    let q = String::from_utf8_lossy(q);
    let rec = ctx.store.load(&ctx.store.resolve(&q)?)?.live();
    if rec.status != Status::Running {
        return Err(Error::bad("container", rec.name, "is not running").with_code(1));
    }
    let mut rows = alloc::vec![
        ["UID", "PID", "PPID", "STAT", "CMD"]
            .iter()
            .map(|s| String::from(*s))
            .collect::<Vec<_>>()
    ];
    for pid in processes(rec.pid) {
        let stat = proc_file(pid, "stat");
        let close = stat.iter().rposition(|&c| c == b')').unwrap_or(0);
        let rest = String::from_utf8_lossy(stat.get(close + 2..).unwrap_or(&[])).into_owned();
        let mut f = rest.split_ascii_whitespace();
        let (state, ppid) = (
            f.next().unwrap_or("?").into(),
            f.next().unwrap_or("?").into(),
        );
        let status = String::from_utf8_lossy(&proc_file(pid, "status")).into_owned();
        let uid = status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|l| l.split_whitespace().next())
            .unwrap_or("?");
        let mut cmd: Vec<u8> = proc_file(pid, "cmdline");
        while cmd.last() == Some(&0) {
            cmd.pop();
        }
        let cmd: Vec<u8> = cmd
            .into_iter()
            .map(|c| if c == 0 { b' ' } else { c })
            .collect();
        rows.push(alloc::vec![
            uid.into(),
            alloc::format!("{pid}"),
            ppid,
            state,
            String::from_utf8_lossy(&cmd).into_owned()
        ]);
    }
    crate::rt::out().bytes(super::table::render(&rows).as_bytes());
    Ok(0)
}
