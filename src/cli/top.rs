//! `pocket top CONTAINER [ps OPTIONS]`: the container's processes (those
//! in its cgroup), seen from the host, in ps(1)'s columns. docker runs
//! the host's ps and keeps the container's rows; pocket has no helper
//! programs, so it reads /proc itself and knows ps's common forms: the
//! default `-ef`, `aux`, and `-o FIELD,...` (with or without -e).

use super::Ctx;
use crate::error::{Error, Result};
use crate::rt::time;
use crate::sys::fs;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// One process, read from /proc/PID.
struct Proc {
    pid: i32,
    stat: Vec<String>,
    status: String,
    args: String,
}

fn proc_file(pid: i32, name: &str) -> Vec<u8> {
    alloc::ffi::CString::new(format!("/proc/{pid}/{name}"))
        .ok()
        .and_then(|p| fs::read(&p).ok())
        .unwrap_or_default()
}

impl Proc {
    fn read(pid: i32) -> Option<Proc> {
        let raw = proc_file(pid, "stat");
        let open = raw.iter().position(|&c| c == b'(')?;
        let close = raw.iter().rposition(|&c| c == b')')?;
        // stat[0] = comm, then fields 3.. of proc(5) from stat[1] on.
        let mut stat = alloc::vec![String::from_utf8_lossy(raw.get(open + 1..close)?).into_owned()];
        stat.extend(
            String::from_utf8_lossy(raw.get(close + 2..).unwrap_or(&[]))
                .split_ascii_whitespace()
                .map(String::from),
        );
        let mut cmd = proc_file(pid, "cmdline");
        while cmd.last() == Some(&0) {
            cmd.pop();
        }
        let args: Vec<u8> = cmd
            .into_iter()
            .map(|c| if c == 0 { b' ' } else { c })
            .collect();
        // The container writes both (prctl, its argv): no terminal
        // escapes from them reach ours.
        let args = super::table::printable(&String::from_utf8_lossy(&args));
        stat[0] = super::table::printable(&stat[0]);
        Some(Proc {
            pid,
            args: if args.is_empty() {
                format!("[{}]", stat[0])
            } else {
                args
            },
            status: String::from_utf8_lossy(&proc_file(pid, "status")).into_owned(),
            stat,
        })
    }

    /// Field N of proc(5)'s stat (1-based: 3 = state).
    fn f(&self, n: usize) -> &str {
        self.stat
            .get(n.saturating_sub(2))
            .map_or("?", |s| s.as_str())
    }

    fn num(&self, n: usize) -> u64 {
        self.f(n).parse().unwrap_or(0)
    }

    fn status(&self, key: &str) -> &str {
        self.status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|l| l.split_whitespace().next())
            .unwrap_or("?")
    }
}

/// Host facts the columns need.
struct Host {
    ticks: u64,
    uptime_secs: u64,
    boot: i64,
    mem_kb: u64,
    page_kb: u64,
    users: String,
}

impl Host {
    fn read() -> Host {
        let text = |p: &core::ffi::CStr| {
            String::from_utf8_lossy(&fs::read(p).unwrap_or_default()).into_owned()
        };
        let uptime = text(c"/proc/uptime");
        let uptime_secs = uptime
            .split('.')
            .next()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        let mem_kb = text(c"/proc/meminfo")
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(1);
        Host {
            ticks: 100,
            uptime_secs,
            boot: time::now().secs - uptime_secs as i64,
            mem_kb,
            page_kb: 4,
            users: text(c"/etc/passwd"),
        }
    }

    fn user(&self, uid: &str) -> String {
        self.users
            .lines()
            .find(|l| l.split(':').nth(2) == Some(uid))
            .and_then(|l| l.split(':').next())
            .map_or_else(|| String::from(uid), String::from)
    }
}

/// `[DD-]HH:MM:SS`, as ps writes TIME and ETIME.
fn clock(secs: u64, etime: bool) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    match (d, etime, h) {
        (0, true, 0) => format!("{m:02}:{s:02}"),
        (0, _, _) => format!("{h:02}:{m:02}:{s:02}"),
        _ => format!("{d}-{h:02}:{m:02}:{s:02}"),
    }
}

/// 123 -> "12.3" (no float formatting linked in).
fn tenths(n: u64) -> String {
    format!("{}.{}", n / 10, n % 10)
}

fn tty(nr: u64) -> String {
    let (major, minor) = ((nr >> 8) & 0xfff, (nr & 0xff) | ((nr >> 12) & 0xfff00));
    match major {
        0 => String::from("?"),
        136..=143 => format!("pts/{}", (major - 136) * 256 + minor),
        4 => format!("tty{minor}"),
        _ => String::from("?"),
    }
}

/// (header, cell) for one field of `p`.
fn field(name: &str, p: &Proc, h: &Host) -> Option<(&'static str, String)> {
    let started = p.num(22) / h.ticks;
    let age = h.uptime_secs.saturating_sub(started).max(1);
    let cpu = (p.num(14) + p.num(15)) / h.ticks;
    Some(match name {
        "pid" => ("PID", format!("{}", p.pid)),
        "ppid" => ("PPID", String::from(p.f(4))),
        "uid" => ("UID", String::from(p.status("Uid:"))),
        "user" | "uname" => ("USER", h.user(p.status("Uid:"))),
        "gid" => ("GID", String::from(p.status("Gid:"))),
        "stat" | "s" | "state" => ("STAT", String::from(p.f(3))),
        "comm" | "ucomm" => ("COMMAND", p.stat[0].clone()),
        "args" | "command" => ("COMMAND", p.args.clone()),
        "cmd" => ("CMD", p.args.clone()),
        "rss" | "rssize" => ("RSS", format!("{}", p.num(24) * h.page_kb)),
        "vsz" | "vsize" => ("VSZ", format!("{}", p.num(23) / 1024)),
        "nlwp" | "thcount" => ("NLWP", String::from(p.f(20))),
        "tty" | "tt" => ("TTY", tty(p.num(7))),
        "time" | "cputime" => ("TIME", clock(cpu, false)),
        "etime" => ("ELAPSED", clock(age, true)),
        "stime" | "start" => {
            let t = time::rfc3339(time::Timestamp {
                secs: h.boot + started as i64,
                nanos: 0,
            });
            let head = if name == "start" { "START" } else { "STIME" };
            (head, String::from(t.get(11..16).unwrap_or("?")))
        }
        "c" => ("C", format!("{}", cpu * 100 / age)),
        "pcpu" | "%cpu" => ("%CPU", tenths(cpu * 1000 / age)),
        "pmem" | "%mem" => (
            "%MEM",
            tenths(p.num(24) * h.page_kb * 1000 / h.mem_kb.max(1)),
        ),
        _ => return None,
    })
}

/// The fields ps's OPTIONS ask for (docker's default: -ef).
fn fields(opts: &[String]) -> Result<Vec<String>> {
    let v = |s: &[&str]| s.iter().map(|x| String::from(*x)).collect::<Vec<_>>();
    let ef = v(&["uid", "pid", "ppid", "c", "stime", "tty", "time", "cmd"]);
    let mut out = Vec::new();
    let mut i = 0;
    while i < opts.len() {
        let o = opts[i].as_str();
        match o {
            "-e" | "-A" | "ax" | "-ax" => {}
            "-f" | "-ef" | "-fe" => out = ef.clone(),
            "aux" | "-aux" | "u" | "au" => {
                out = v(&[
                    "user", "pid", "pcpu", "pmem", "vsz", "rss", "tty", "stat", "start", "time",
                    "args",
                ])
            }
            "-o" | "-eo" | "o" => {
                i += 1;
                let list = opts
                    .get(i)
                    .ok_or_else(|| Error::bad("top", String::from(o), "needs a field list"))?;
                out.extend(
                    list.split(',')
                        .map(|f| String::from(f.split('=').next().unwrap_or(f))),
                );
            }
            o if o.starts_with("-o") => out.extend(o[2..].split(',').map(String::from)),
            o => {
                return Err(Error::bad(
                    "top",
                    String::from(o),
                    "unsupported ps option (-ef, -f, aux, -o FIELDS)",
                ));
            }
        }
        i += 1;
    }
    Ok(if out.is_empty() { ef } else { out })
}

pub fn main(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    // Everything after the container is ps's, dashes and all.
    let Some((q, opts)) = argv.split_first() else {
        return Err(Error::bad("top", "", "needs a container"));
    };
    if *q == b"--help" || *q == b"-h" {
        crate::help::print("top");
        return Ok(0);
    }
    let opts: Vec<String> = opts.iter().map(|o| super::args::text(o)).collect();
    let want = fields(&opts)?;
    let rec = crate::container::running(&ctx.store, &super::args::text(q))?;
    // Its cgroup's processes (with --pid host its pid namespace is the
    // host's); the pid namespace's where it has no cgroup.
    let spec = ctx.store.spec(&rec.id).ok();
    let mut pids = spec
        .and_then(|s| s.cgroups_path)
        .and_then(|p| crate::cgroup::open(crate::cgroup::layout(), &p).ok())
        .map(|cg| cg.pids())
        .unwrap_or_default();
    if pids.is_empty() {
        pids = super::inspect::processes(rec.pid);
    }
    crate::rt::sort_by(&mut pids, |a, b| a < b);
    let host = Host::read();
    let probe = Proc::read(rec.pid)
        .ok_or_else(|| Error::bad("container", rec.name.clone(), "is not running").with_code(1))?;
    let mut header = Vec::new();
    for f in &want {
        let (h, _) = field(f, &probe, &host)
            .ok_or_else(|| Error::bad("top", f.clone(), "unknown ps field"))?;
        header.push(String::from(h));
    }
    let mut rows = alloc::vec![header];
    for p in pids.into_iter().filter_map(Proc::read) {
        rows.push(
            want.iter()
                .map(|f| field(f, &p, &host).map(|x| x.1).unwrap_or_default())
                .collect(),
        );
    }
    crate::rt::out().bytes(super::table::render_min(&rows, 20).as_bytes());
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ps_option_forms() {
        let s = |v: &[&str]| fields(&v.iter().map(|x| String::from(*x)).collect::<Vec<_>>());
        assert_eq!(s(&[]).unwrap()[0], "uid");
        assert_eq!(s(&["-ef"]).unwrap().len(), 8);
        assert_eq!(s(&["aux"]).unwrap()[0], "user");
        assert_eq!(s(&["-o", "pid,comm"]).unwrap(), ["pid", "comm"]);
        assert_eq!(s(&["-eo", "pid,args=CMD"]).unwrap(), ["pid", "args"]);
        assert!(s(&["--sort"]).is_err());
        assert!(s(&["-o"]).is_err());
        assert_eq!(clock(59, true), "00:59");
        assert_eq!(clock(3_661, false), "01:01:01");
        assert_eq!(clock(90_061, true), "1-01:01:01");
        assert_eq!(tty(0), "?");
        assert_eq!(tty((136 << 8) | 3), "pts/3");
    }
}
