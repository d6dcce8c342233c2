//! `pocket stats` (usage read from the containers' cgroups, either
//! version) and `pocket update` (limits of a running container, live).

use super::Ctx;
use super::args::{Flag, flag};
use crate::cgroup::{self, Stats};
use crate::error::{Error, Result};
use crate::sys::time::sleep_ms;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

const STATS_FLAGS: &[Flag] = &[
    flag(0, "no-stream", false),
    flag(b'a', "all", false),
    flag(0, "format", true),
    flag(0, "help", false),
];

/// docker's stats fields and titles (its formatter's names).
const COLUMNS: super::format::Columns = super::format::Columns {
    fields: &[
        ("ID", "CONTAINER ID"),
        ("Name", "NAME"),
        ("CPUPerc", "CPU %"),
        ("MemUsage", "MEM USAGE / LIMIT"),
        ("MemPerc", "MEM %"),
        ("NetIO", "NET I/O"),
        ("BlockIO", "BLOCK I/O"),
        ("PIDs", "PIDS"),
        ("Container", "CONTAINER"),
    ],
    default: &[
        "ID", "Name", "CPUPerc", "MemUsage", "MemPerc", "NetIO", "BlockIO", "PIDs",
    ],
};

/// A percentage with two decimals (docker's `%.2f%%`).
fn percent(part: u64, whole: u64) -> String {
    match whole {
        0 => String::from("--"),
        w => format!("{}%", crate::rt::fixed(part as f64 * 100.0 / w as f64, 2)),
    }
}

struct Row {
    id: String,
    name: String,
    /// As the user named it (docker's .Container), else the short id.
    asked: String,
    /// The container's init (its network namespace's counters).
    pid: i32,
    cg: cgroup::Cgroup,
}

fn rows(ctx: &Ctx, names: &[&[u8]]) -> Result<Vec<Row>> {
    let l = cgroup::host_layout();
    let recs = if names.is_empty() {
        ctx.store
            .list()?
            .into_iter()
            .filter(|r| r.running())
            .map(|r| (String::from(r.short_id()), r))
            .collect::<Vec<_>>()
    } else {
        let mut v = Vec::new();
        for n in names {
            let asked = String::from_utf8_lossy(n).into_owned();
            let id = ctx.store.resolve(&asked)?;
            v.push((asked, ctx.store.load(&id)?));
        }
        v
    };
    let mut out = Vec::new();
    for (asked, r) in recs {
        let path = ctx
            .store
            .spec(&r.id)
            .ok()
            .and_then(|s| s.cgroups_path)
            .unwrap_or_else(|| format!("pocket/{}", r.id));
        out.push(Row {
            id: String::from(r.short_id()),
            name: r.name.clone(),
            asked,
            pid: r.pid,
            cg: cgroup::open(&l, &path)?,
        });
    }
    Ok(out)
}

fn host_memory() -> u64 {
    crate::sys::proc::total_ram()
}

/// docker's "RX / TX" of NET I/O and "read / written" of BLOCK I/O:
/// decimal units, three digits.
fn pair(p: Option<(u64, u64)>) -> String {
    use crate::rt::units::human_size;
    match p {
        Some((a, b)) => format!("{} / {}", human_size(a, 3), human_size(b, 3)),
        None => String::from("--"),
    }
}

/// A row of cells per container, in COLUMNS' order.
fn cells(rows: &[Row], before: &[Stats], after: &[Stats], wall_ns: u64) -> Vec<Vec<String>> {
    use crate::rt::units::bytes_size;
    let mut t = Vec::with_capacity(rows.len());
    let host = host_memory();
    for (i, r) in rows.iter().enumerate() {
        let (a, b) = (before[i], after[i]);
        let cpu = match (a.cpu_ns, b.cpu_ns) {
            (Some(x), Some(y)) => percent(y.saturating_sub(x), wall_ns),
            _ => String::from("--"),
        };
        let limit = b.mem_limit.unwrap_or(host);
        // docker's usage: without the page cache nothing used lately.
        let used = b.mem.map(|m| match b.mem_inactive_file {
            Some(i) if i < m => m - i,
            _ => m,
        });
        let (mem, pct) = match used {
            Some(m) => (
                format!("{} / {}", bytes_size(m), bytes_size(limit)),
                percent(m, limit),
            ),
            None => (String::from("-- / --"), String::from("--")),
        };
        let pids = b.pids.map_or(String::from("--"), |p| format!("{p}"));
        t.push(alloc::vec![
            r.id.clone(),
            r.name.clone(),
            cpu,
            mem,
            pct,
            pair(crate::net::counters::of_process(r.pid)),
            pair(b.io),
            pids,
            r.asked.clone()
        ]);
    }
    t
}

pub fn stats(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("stats", STATS_FLAGS, argv)? else {
        return Ok(0);
    };
    let once = p.on(STATS_FLAGS, "no-stream");
    let fmt = super::format::flag(STATS_FLAGS, &p)?;
    let rows = rows(ctx, &p.rest)?;
    let mut before: Vec<Stats> = rows.iter().map(|r| r.cg.stats()).collect();
    let mut t0 = crate::rt::time::monotonic_ms();
    loop {
        // CPU % needs two samples; docker waits about this long too.
        sleep_ms(if once { 500 } else { 1000 });
        let after: Vec<Stats> = rows.iter().map(|r| r.cg.stats()).collect();
        let t1 = crate::rt::time::monotonic_ms();
        let items = cells(&rows, &before, &after, (t1 - t0) * 1_000_000);
        if !once {
            crate::rt::out().bytes(b"\x1b[2J\x1b[H");
        }
        COLUMNS.print(fmt.as_ref(), &items)?;
        if once {
            return Ok(0);
        }
        before = after;
        t0 = t1;
    }
}

use super::run::LIMIT_FLAGS as UPDATE_FLAGS;

pub fn update(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("update", UPDATE_FLAGS, argv)? else {
        return Ok(0);
    };
    let limits: Vec<(&str, &[u8])> = p
        .flags
        .iter()
        .filter(|&&(k, _)| UPDATE_FLAGS[k].long != "help")
        .map(|&(k, v)| (UPDATE_FLAGS[k].long, v))
        .collect();
    if limits.is_empty() {
        return Err(Error::bad(
            "update",
            "",
            "you must provide one or more flags",
        ));
    }
    let new = super::run::resources(&limits)?;
    if p.rest.is_empty() {
        return Err(Error::bad("update", "", "needs at least one container"));
    }
    let mut new = new;
    let host = cgroup::host();
    let nano = limits.iter().any(|(k, _)| *k == "cpus");
    for w in host.support.fit(&mut new, nano)? {
        crate::errln!("WARNING: {w}");
    }
    let mut failed = false;
    for q in &p.rest {
        let r = crate::container::update(&ctx.store, &String::from_utf8_lossy(q), &new);
        match r {
            Ok(()) => crate::outln!("{}", String::from_utf8_lossy(q)),
            Err(e) => {
                crate::errln!("pocket: {}", e);
                failed = true;
            }
        }
    }
    Ok(if failed { 1 } else { 0 })
}
