//! Acting on existing containers: stop, kill, start, restart, wait, rm,
//! rename (prune is prune.rs). Signals go through pidfds checked against the
//! record's start time, so a reused pid is never signalled.

use super::Ctx;
use super::args::text;
use super::args::{Flag, flag};
use crate::container;
use crate::error::{Error, Result};
use crate::state::Status;
use crate::state::record::wait_pidfd;
use alloc::string::String;

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

pub use crate::sys::signal::{NAMES, by_name as parse_signal};

const STOP_FLAGS: &[Flag] = &[
    flag(b't', "time", true),
    flag(0, "timeout", true),
    flag(0, "help", false),
];
/// -t/--time: None when not given (the container's --stop-timeout, or 10).
fn timeout(p: &super::args::Parsed, table: &[Flag]) -> Result<Option<i64>> {
    let mut t = None;
    for &(k, v) in &p.flags {
        if table[k].long == "time" || table[k].long == "timeout" {
            t = Some(
                core::str::from_utf8(v)
                    .ok()
                    .and_then(|s| s.parse::<i64>().ok())
                    .filter(|t| *t >= 0)
                    .ok_or_else(|| {
                        Error::bad("invalid timeout", text(v), "must be a number of seconds")
                    })?,
            );
        }
    }
    Ok(t)
}

fn stop_one(ctx: &Ctx, q: &str, secs: Option<i64>) -> Result<()> {
    container::stop(&ctx.store, &container::state(&ctx.store, q)?, secs)
}

pub fn stop(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("stop", STOP_FLAGS, argv)? else {
        return Ok(0);
    };
    let secs = timeout(&p, STOP_FLAGS)?;
    each(&p.rest, "stop", |q| {
        stop_one(ctx, q, secs)?;
        crate::outln!("{q}");
        Ok(())
    })
}

const KILL_FLAGS: &[Flag] = &[flag(b's', "signal", true), flag(0, "help", false)];
pub fn kill(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("kill", KILL_FLAGS, argv)? else {
        return Ok(0);
    };
    let mut sig = libc::SIGKILL;
    for &(_, v) in &p.flags {
        sig = parse_signal(&text(v))
            .ok_or_else(|| Error::bad("invalid signal", text(v), "use a name or number"))?;
    }
    each(&p.rest, "kill", |q| {
        container::kill(&ctx.store, &container::state(&ctx.store, q)?, sig)?;
        crate::outln!("{q}");
        Ok(())
    })
}

const START_FLAGS: &[Flag] = &[
    flag(b'a', "attach", false),
    flag(b'i', "interactive", false),
    flag(0, "detach-keys", true),
    flag(0, "help", false),
];
fn start_one(ctx: &Ctx, q: &str) -> Result<()> {
    container::restart_detached(&ctx.store, q)
}

pub fn start(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("start", START_FLAGS, argv)? else {
        return Ok(0);
    };
    // The container's init is cloned from this process: see run.rs.
    crate::spawn::sealed::ensure(ctx.args, &ctx.store.run, || None)?;
    if p.on(START_FLAGS, "attach") || p.on(START_FLAGS, "interactive") {
        let [q] = p.rest[..] else {
            return Err(Error::bad(
                "start",
                "",
                "you cannot start and attach multiple containers at once",
            ));
        };
        let keys = super::attach::detach_keys(p.value(START_FLAGS, "detach-keys"))?;
        // Running detached already: attach to it, as docker's start -a.
        if container::state(&ctx.store, &text(q)).is_ok_and(|r| r.running() && r.logged) {
            return super::attach::main(&[q], ctx);
        }
        // Made with -it, started from a terminal: through a monitor, so
        // the detach keys can leave it running (as run -it).
        let id = ctx.store.resolve(&text(q))?;
        if p.on(START_FLAGS, "interactive")
            && crate::sys::tty::isatty(0)
            && ctx
                .store
                .spec(&id)
                .is_ok_and(|s| s.process.terminal && s.io.stdin)
        {
            let how = super::attach::Session {
                keys,
                stdin: true,
                tty: true,
                proxy: false,
            };
            return match container::restart_session(&ctx.store, &id)? {
                Some((id, s)) => super::attach::session(ctx, &id, s, &how),
                None => super::attach::main(&[q], ctx),
            };
        }
        return container::start_attached(&ctx.store, &text(q));
    }
    each(&p.rest, "start", |q| {
        start_one(ctx, q)?;
        crate::outln!("{q}");
        Ok(())
    })
}

pub fn restart(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("restart", STOP_FLAGS, argv)? else {
        return Ok(0);
    };
    crate::spawn::sealed::ensure(ctx.args, &ctx.store.run, || None)?;
    let secs = timeout(&p, STOP_FLAGS)?;
    each(&p.rest, "restart", |q| {
        stop_one(ctx, q, secs)?;
        start_one(ctx, q)?;
        crate::outln!("{q}");
        Ok(())
    })
}

pub fn boot(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("boot", HELP_ONLY, argv)? else {
        return Ok(0);
    };
    if let Some(extra) = p.rest.first() {
        return Err(Error::bad("boot", text(extra), "takes no arguments"));
    }
    crate::spawn::sealed::ensure(ctx.args, &ctx.store.run, || None)?;
    let mut code = 0;
    for (name, started) in container::boot(&ctx.store)? {
        match started {
            Ok(()) => crate::outln!("{name}"),
            Err(e) => {
                crate::errln!("pocket: {name}: {e}");
                code = 1;
            }
        }
    }
    Ok(code)
}

const HELP_ONLY: &[Flag] = &[flag(0, "help", false)];
pub fn wait(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("wait", HELP_ONLY, argv)? else {
        return Ok(0);
    };
    each(&p.rest, "wait", |q| {
        let id = ctx.store.resolve(q)?;
        let mut rec = ctx.store.load(&id)?;
        // Created, never started: docker waits for it to run and end. (A
        // start that failed leaves its code: that is the answer.)
        while rec.status == Status::Created && rec.exit_code.is_none() {
            crate::sys::time::sleep_ms(50);
            rec = ctx.store.load(&id)?;
        }
        if rec.status == Status::Running {
            if let Some(fd) = rec.pidfd() {
                wait_pidfd(&fd, -1);
            }
            // The exit code is the monitor's to write down.
            rec = container::settle(&ctx.store, &id).unwrap_or(rec);
        }
        crate::outln!("{}", rec.live().exit_code.unwrap_or(0));
        Ok(())
    })
}

pub fn pause(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("pause", HELP_ONLY, argv)? else {
        return Ok(0);
    };
    each(&p.rest, "pause", |q| {
        container::pause(&ctx.store, &container::state(&ctx.store, q)?)?;
        crate::outln!("{q}");
        Ok(())
    })
}

pub fn unpause(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("unpause", HELP_ONLY, argv)? else {
        return Ok(0);
    };
    each(&p.rest, "unpause", |q| {
        container::resume(&ctx.store, &container::state(&ctx.store, q)?)?;
        crate::outln!("{q}");
        Ok(())
    })
}

const RM_FLAGS: &[Flag] = &[
    flag(b'f', "force", false),
    flag(b'v', "volumes", false),
    flag(0, "help", false),
];
pub fn rm(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("rm", RM_FLAGS, argv)? else {
        return Ok(0);
    };
    let (force, volumes) = (p.on(RM_FLAGS, "force"), p.on(RM_FLAGS, "volumes"));
    let given: alloc::vec::Vec<String> = p.rest.iter().map(|q| text(q)).collect();
    let given: alloc::vec::Vec<&str> = given.iter().map(String::as_str).collect();
    let auto = match force && given.len() > 1 {
        true => container::kill_all(&ctx.store, &given),
        false => alloc::vec::Vec::new(),
    };
    each(&p.rest, "rm", |q| {
        match container::delete(&ctx.store, q, force, volumes) {
            // Killed above, and removed by its monitor (--rm) since.
            Err(e) if auto.contains(&q) && e.op == "no such container" => {}
            r => r?,
        }
        crate::outln!("{q}");
        Ok(())
    })
}

const RENAME_FLAGS: &[Flag] = &[flag(0, "help", false)];
pub fn rename(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("rename", RENAME_FLAGS, argv)? else {
        return Ok(0);
    };
    let [q, new] = p.rest[..] else {
        return Err(Error::bad(
            "rename",
            "",
            "requires exactly 2 arguments: CONTAINER NEW_NAME",
        ));
    };
    let id = ctx.store.resolve(&text(q))?;
    let old = ctx.store.load(&id).map(|r| r.name).unwrap_or_default();
    ctx.store.rename(&id, &text(new))?;
    // Its new name on its networks, and docker's event.
    container::hosts::resync(&ctx.store);
    crate::state::events::emit_for(
        &ctx.store,
        &id,
        "rename",
        &[("oldName", alloc::format!("/{old}"))],
    );
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
