//! Acting on existing containers: stop, kill, start, restart, wait, rm,
//! container prune. Signals go through pidfds checked against the
//! record's start time, so a reused pid is never signalled.

use super::Ctx;
use super::args::text;
use super::args::{Flag, flag};
use crate::error::{Error, Result};
use crate::spawn::monitor;
use crate::state::record::{alive, wait_pidfd};
use crate::state::{Record, Status};
use crate::sys::{proc, time::sleep_ms};
use alloc::string::String;
use alloc::vec::Vec;

/// Run `f` on each named container; report each failure on its own line
/// and fail (exit 1) if any did, as docker does.
fn each(names: &[&[u8]], cmd: &str, mut f: impl FnMut(&str) -> Result<()>) -> Result<i32> {
    if names.is_empty() {
        return Err(Error::bad(
            String::from(cmd),
            "",
            "needs at least one container",
        ));
    }
    let mut failed = false;
    for n in names {
        if let Err(e) = f(&text(n)) {
            crate::errln!("pocket: {}", e);
            failed = true;
        }
    }
    Ok(if failed { 1 } else { 0 })
}

fn load(ctx: &Ctx, q: &str) -> Result<Record> {
    let id = ctx.store.resolve(q)?;
    ctx.store.load_live(&id)
}

/// Wait (a while) for the process that waits for the container to record
/// its end, so a command that returns after stop/kill shows the truth.
fn settle(ctx: &Ctx, id: &str) -> Option<Record> {
    // The monitor records within milliseconds of the exit; the bound is
    // for a machine under heavy load.
    for _ in 0..1000 {
        match ctx.store.load(id) {
            Ok(r) if r.status != Status::Running => return Some(r),
            Ok(r) if !alive(r.monitor_pid, r.monitor_start) => return Some(ctx.store.live(r)),
            Err(_) => return None,
            _ => sleep_ms(10),
        }
    }
    ctx.store.load_live(id).ok()
}

/// Signal names and numbers as `kill -s` takes them: KILL, SIGKILL, 9.
pub fn parse_signal(s: &str) -> Option<i32> {
    const NAMES: &[&str] = &[
        "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
        "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
        "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
    ];
    if let Ok(n) = s.parse::<i32>() {
        return (1..=64).contains(&n).then_some(n);
    }
    let up = s.to_ascii_uppercase();
    let name = up.strip_prefix("SIG").unwrap_or(&up);
    NAMES.iter().position(|n| *n == name).map(|i| i as i32 + 1)
}

fn signal(rec: &Record, sig: i32) -> Result<()> {
    let fd = rec
        .pidfd()
        .ok_or_else(|| Error::bad("container", rec.name.clone(), "is not running").with_code(1))?;
    proc::pidfd_send_signal(&fd, sig).map_err(|e| Error::sys("signal", rec.name.clone(), e))
}

const STOP_FLAGS: &[Flag] = &[
    flag(b't', "time", true),
    flag(0, "timeout", true),
    flag(0, "help", false),
];
const STOP_HELP: &str = "\
Usage: pocket stop [-t SECONDS] CONTAINER...

Stop running containers: SIGTERM, then SIGKILL after the timeout (default 10).
";

fn timeout(p: &super::args::Parsed, table: &[Flag]) -> Result<i64> {
    let mut t = 10;
    for &(k, v) in &p.flags {
        if table[k].long == "time" || table[k].long == "timeout" {
            t = core::str::from_utf8(v)
                .ok()
                .and_then(|s| s.parse::<i64>().ok())
                .filter(|t| *t >= 0)
                .ok_or_else(|| {
                    Error::bad("invalid timeout", text(v), "must be a number of seconds")
                })?;
        }
    }
    Ok(t)
}

fn stop_one(ctx: &Ctx, q: &str, secs: i64) -> Result<()> {
    let rec = load(ctx, q)?;
    if let Some(fd) = rec.pidfd() {
        let _ = proc::pidfd_send_signal(&fd, libc::SIGTERM);
        if !wait_pidfd(&fd, secs.saturating_mul(1000).min(i32::MAX as i64) as i32) {
            let _ = proc::pidfd_send_signal(&fd, libc::SIGKILL);
            wait_pidfd(&fd, -1);
        }
        settle(ctx, &rec.id);
    }
    Ok(())
}

pub fn stop(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("stop", STOP_FLAGS, STOP_HELP, argv)? else {
        return Ok(0);
    };
    let secs = timeout(&p, STOP_FLAGS)?;
    each(p.rest, "stop", |q| {
        stop_one(ctx, q, secs)?;
        crate::outln!("{q}");
        Ok(())
    })
}

const KILL_FLAGS: &[Flag] = &[flag(b's', "signal", true), flag(0, "help", false)];
const KILL_HELP: &str = "\
Usage: pocket kill [-s SIGNAL] CONTAINER...

Send a signal (default KILL) to running containers.
";

pub fn kill(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("kill", KILL_FLAGS, KILL_HELP, argv)? else {
        return Ok(0);
    };
    let mut sig = libc::SIGKILL;
    for &(_, v) in &p.flags {
        sig = parse_signal(&text(v))
            .ok_or_else(|| Error::bad("invalid signal", text(v), "use a name or number"))?;
    }
    each(p.rest, "kill", |q| {
        let rec = load(ctx, q)?;
        signal(&rec, sig)?;
        crate::outln!("{q}");
        Ok(())
    })
}

const START_FLAGS: &[Flag] = &[flag(0, "help", false)];
const START_HELP: &str = "\
Usage: pocket start CONTAINER...

Start stopped containers again with the same configuration, in the
background (their output goes to the log).
";

fn start_one(ctx: &Ctx, q: &str) -> Result<()> {
    let id = ctx.store.resolve(q)?;
    {
        let _l = ctx.store.lock(&id)?;
        let mut rec = ctx.store.load_live(&id)?;
        // Running, or being started by another pocket right now: nothing
        // to do (two starts must not make two containers).
        if rec.status == Status::Running || rec.busy() {
            return Ok(());
        }
        // Claim it: this process is in charge until the monitor takes
        // over, so a concurrent start (or prune) sees it busy.
        let me = proc::getpid();
        rec.monitor_pid = me;
        rec.monitor_start = crate::state::record::start_time(me).unwrap_or(0);
        rec.status = Status::Created;
        rec.exit_code = None;
        rec.logged = true;
        ctx.store.save(&rec)?;
    }
    let mut spec = ctx.store.spec(&id)?;
    if let Some(other) = spec.net_container.clone() {
        // Its namespace as it is now: the other container must run.
        let rec = ctx.store.load_live(&other)?;
        if rec.status != Status::Running {
            return Err(Error::bad(
                "cannot join network of a non running container",
                other,
                "start it first",
            ));
        }
        spec.netns_owner = Some((rec.pid, rec.pid_start));
    }
    monitor::detach(&ctx.store, &id, &spec)
}

pub fn start(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("start", START_FLAGS, START_HELP, argv)? else {
        return Ok(0);
    };
    each(p.rest, "start", |q| {
        start_one(ctx, q)?;
        crate::outln!("{q}");
        Ok(())
    })
}

const RESTART_HELP: &str = "\
Usage: pocket restart [-t SECONDS] CONTAINER...

Stop (as pocket stop) and start containers again.
";

pub fn restart(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("restart", STOP_FLAGS, RESTART_HELP, argv)? else {
        return Ok(0);
    };
    let secs = timeout(&p, STOP_FLAGS)?;
    each(p.rest, "restart", |q| {
        stop_one(ctx, q, secs)?;
        start_one(ctx, q)?;
        crate::outln!("{q}");
        Ok(())
    })
}

const WAIT_HELP: &str = "\
Usage: pocket wait CONTAINER...

Wait for containers to exit, then print their exit codes.
";

pub fn wait(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("wait", START_FLAGS, WAIT_HELP, argv)? else {
        return Ok(0);
    };
    each(p.rest, "wait", |q| {
        let id = ctx.store.resolve(q)?;
        let mut rec = ctx.store.load(&id)?;
        if rec.status == Status::Running {
            if let Some(fd) = rec.pidfd() {
                wait_pidfd(&fd, -1);
            }
            // The exit code is the monitor's to write down.
            rec = settle(ctx, &id).unwrap_or(rec);
        }
        crate::outln!("{}", rec.live().exit_code.unwrap_or(0));
        Ok(())
    })
}

const RM_FLAGS: &[Flag] = &[
    flag(b'f', "force", false),
    flag(b'v', "volumes", false),
    flag(0, "help", false),
];
const RM_HELP: &str = "\
Usage: pocket rm [-f] [-v] CONTAINER...

Remove containers and everything pocket kept for them. A running
container is refused unless -f (which kills it first). -v also removes
the anonymous volumes (-v /path) no other container uses.
";

fn remove(ctx: &Ctx, q: &str, force: bool, volumes: bool) -> Result<()> {
    let mut rec = load(ctx, q)?;
    // Being started by another pocket: let it finish (a few ms), so the
    // start cannot run a container whose record is gone.
    for _ in 0..300 {
        if rec.status == Status::Running || !rec.busy() {
            break;
        }
        sleep_ms(10);
        rec = load(ctx, q)?;
    }
    if let Some(fd) = rec.pidfd() {
        if !force {
            return Err(Error::bad(
                "cannot remove container",
                rec.name.clone(),
                "container is running: stop it first or use rm -f",
            ));
        }
        let _ = proc::pidfd_send_signal(&fd, libc::SIGKILL);
        wait_pidfd(&fd, -1);
    }
    // The monitor goes once its container has: wait for it, so nothing of
    // the container is left running when rm returns.
    for _ in 0..300 {
        if !alive(rec.monitor_pid, rec.monitor_start) {
            break;
        }
        sleep_ms(10);
    }
    let _l = ctx.store.lock(&rec.id)?;
    let rec = ctx.store.load(&rec.id)?;
    remove_cgroup(ctx, &rec.id);
    let anon = match (volumes, ctx.store.spec(&rec.id)) {
        (true, Ok(s)) => crate::state::volumes::anonymous(&ctx.store.root, &s),
        _ => Vec::new(),
    };
    ctx.store.remove(&rec)?;
    crate::state::volumes::remove_unused(&ctx.store, &anon);
    Ok(())
}

/// A cgroup left by a container whose monitor was killed: its waiter
/// never got to remove it.
fn remove_cgroup(ctx: &Ctx, id: &str) {
    if let Some(path) = ctx.store.spec(id).ok().and_then(|s| s.cgroups_path)
        && let Ok(cg) = crate::cgroup::open(&crate::cgroup::host_layout(), &path)
    {
        let _ = cg.remove();
    }
}

pub fn rm(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("rm", RM_FLAGS, RM_HELP, argv)? else {
        return Ok(0);
    };
    let (force, volumes) = (p.on(RM_FLAGS, "force"), p.on(RM_FLAGS, "volumes"));
    each(p.rest, "rm", |q| {
        remove(ctx, q, force, volumes)?;
        crate::outln!("{q}");
        Ok(())
    })
}

const PRUNE_FLAGS: &[Flag] = &[flag(b'f', "force", false), flag(0, "help", false)];
const PRUNE_HELP: &str = "\
Usage: pocket container prune [-f]

Remove all stopped containers.
";

pub fn prune(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(_) = super::flags("container prune", PRUNE_FLAGS, PRUNE_HELP, argv)? else {
        return Ok(0);
    };
    ctx.store.gc()?;
    // Addresses and ports of containers that never got a record (a pocket
    // killed between claiming them and creating it).
    let any = crate::state::networks::list(&ctx.store.root).is_ok_and(|l| !l.is_empty());
    if any && let Ok(nets) = crate::state::networks::Nets::lock(&ctx.store) {
        let exists = |id: &str| ctx.store.load(id).is_ok();
        if nets.gc(exists).is_ok() {
            let _ = crate::net::host::sync(&nets);
        }
    }
    let mut out = Vec::new();
    for rec in ctx.store.list()? {
        if rec.live().status == Status::Running || rec.busy() {
            continue;
        }
        let Ok(_l) = ctx.store.lock(&rec.id) else {
            continue;
        };
        // Re-check under the lock: it may have been started meanwhile.
        match ctx.store.load(&rec.id) {
            Ok(r) if r.live().status != Status::Running && !r.busy() => {
                remove_cgroup(ctx, &r.id);
                ctx.store.remove(&r)?;
                out.push(r.id);
            }
            _ => {}
        }
    }
    crate::outln!("Deleted Containers:");
    for id in &out {
        crate::outln!("{id}");
    }
    crate::outln!("\nTotal: {} container(s)", out.len());
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::parse_signal;

    #[test]
    fn signals_by_name_and_number() {
        assert_eq!(parse_signal("KILL"), Some(9));
        assert_eq!(parse_signal("sigterm"), Some(15));
        assert_eq!(parse_signal("SIGUSR1"), Some(10));
        assert_eq!(parse_signal("1"), Some(1));
        assert_eq!(parse_signal("0"), None);
        assert_eq!(parse_signal("65"), None);
        assert_eq!(parse_signal("NOPE"), None);
    }
}
