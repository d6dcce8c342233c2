//! `pocket inspect` (the record and config as JSON, in docker's shape)
//! and `pocket top` (the container's processes, seen from the host).

use super::Ctx;
use super::args::{Flag, flag};
use crate::error::{Error, Result};
use crate::state::{Record, Status, time};
use crate::sys::fs;
use alloc::string::String;
use alloc::vec::Vec;
use serde::Serialize;

const FLAGS: &[Flag] = &[flag(0, "help", false)];

const HELP: &str = "\
Usage: pocket inspect CONTAINER...

Show containers' state and configuration as a JSON array, like docker inspect.
";

fn rfc(t: time::Timestamp) -> String {
    time::rfc3339_nano_trimmed(t)
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Inspect<'a> {
    id: &'a str,
    created: String,
    path: &'a str,
    args: &'a [String],
    state: State<'a>,
    name: String,
    image: &'a str,
    log_path: &'a str,
    config: Option<Config>,
    host_config: Option<HostConfig>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct State<'a> {
    status: &'a str,
    running: bool,
    pid: i32,
    exit_code: i32,
    started_at: String,
    finished_at: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Config {
    hostname: String,
    env: Vec<String>,
    cmd: Vec<String>,
    working_dir: String,
    tty: bool,
    open_stdin: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct HostConfig {
    auto_remove: bool,
    readonly_rootfs: bool,
    init: bool,
    network_mode: &'static str,
    capabilities: Vec<String>,
    cgroup: String,
    memory: i64,
    memory_swap: i64,
    memory_reservation: i64,
    nano_cpus: i64,
    cpu_shares: u64,
    cpu_quota: i64,
    cpu_period: u64,
    cpuset_cpus: String,
    cpuset_mems: String,
    pids_limit: i64,
    blkio_weight: u16,
    oom_kill_disable: bool,
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn describe(r: &Record, spec: Option<&crate::spec::Spec>, log_path: &str) -> Vec<u8> {
    let all = |v: &[Vec<u8>]| v.iter().map(|a| lossy(a)).collect::<Vec<_>>();
    let running = r.status == Status::Running;
    let i = Inspect {
        id: &r.id,
        created: rfc(r.created),
        path: r.command.first().map_or("", |s| s.as_str()),
        args: r.command.get(1..).unwrap_or(&[]),
        state: State {
            status: r.status.as_str(),
            running,
            pid: if running { r.pid } else { 0 },
            exit_code: r.exit_code.unwrap_or(0),
            started_at: rfc(r.started_at),
            finished_at: rfc(r.finished_at),
        },
        name: alloc::format!("/{}", r.name),
        image: &r.image,
        log_path: if r.logged { log_path } else { "" },
        config: spec.map(|s| Config {
            hostname: lossy(&s.hostname),
            env: all(&s.process.env),
            cmd: all(&s.process.args),
            working_dir: lossy(&s.process.cwd),
            tty: s.process.terminal,
            open_stdin: s.io.stdin,
        }),
        host_config: spec.map(|s| HostConfig {
            auto_remove: r.auto_remove,
            readonly_rootfs: s.root.readonly,
            init: s.init,
            network_mode: if s.has(crate::spec::Namespace::Network) {
                "none"
            } else {
                "host"
            },
            capabilities: crate::spec::caps::names(s.process.capabilities),
            cgroup: s.cgroups_path.clone().unwrap_or_default(),
            memory: s
                .resources
                .memory
                .as_ref()
                .and_then(|m| m.limit)
                .unwrap_or(0),
            memory_swap: s
                .resources
                .memory
                .as_ref()
                .and_then(|m| m.swap)
                .unwrap_or(0),
            memory_reservation: s
                .resources
                .memory
                .as_ref()
                .and_then(|m| m.reservation)
                .unwrap_or(0),
            nano_cpus: s
                .resources
                .cpu
                .as_ref()
                .map_or(0, |c| match (c.quota, c.period) {
                    (Some(q), Some(p)) if q > 0 && p > 0 => q * 1_000_000_000 / p as i64,
                    _ => 0,
                }),
            cpu_shares: s.resources.cpu.as_ref().and_then(|c| c.shares).unwrap_or(0),
            cpu_quota: s.resources.cpu.as_ref().and_then(|c| c.quota).unwrap_or(0),
            cpu_period: s.resources.cpu.as_ref().and_then(|c| c.period).unwrap_or(0),
            cpuset_cpus: s
                .resources
                .cpu
                .as_ref()
                .and_then(|c| c.cpus.clone())
                .unwrap_or_default(),
            cpuset_mems: s
                .resources
                .cpu
                .as_ref()
                .and_then(|c| c.mems.clone())
                .unwrap_or_default(),
            pids_limit: s.resources.pids.as_ref().map_or(0, |p| p.limit),
            blkio_weight: s
                .resources
                .block_io
                .as_ref()
                .and_then(|b| b.weight)
                .unwrap_or(0),
            oom_kill_disable: s
                .resources
                .memory
                .as_ref()
                .and_then(|m| m.disable_oom_killer)
                .unwrap_or(false),
        }),
    };
    serde_json::to_vec_pretty(&i).unwrap_or_default()
}

pub fn inspect(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("inspect", FLAGS, HELP, argv)? else {
        return Ok(0);
    };
    if p.rest.is_empty() {
        return Err(Error::bad("inspect", "", "needs at least one container"));
    }
    let mut all: Vec<Vec<u8>> = Vec::new();
    let mut failed = false;
    for q in p.rest {
        let q = String::from_utf8_lossy(q);
        match ctx.store.resolve(&q).and_then(|id| ctx.store.load(&id)) {
            Ok(rec) => {
                let spec = ctx.store.spec(&rec.id).ok();
                all.push(describe(
                    &rec.live(),
                    spec.as_ref(),
                    &ctx.store.log_path(&rec.id),
                ));
            }
            Err(e) => {
                crate::errln!("pocket: {}", e);
                failed = true;
            }
        }
    }
    // A JSON array of the pretty-printed objects, as docker prints it.
    let mut o = crate::rt::out();
    o.bytes(b"[");
    for (n, obj) in all.iter().enumerate() {
        o.bytes(if n == 0 { b"\n" } else { b",\n" });
        o.bytes(obj);
    }
    o.bytes(if all.is_empty() { b"]\n" } else { b"\n]\n" });
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
