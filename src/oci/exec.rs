//! `exec`: a new process in a running container, as runc takes it: an OCI
//! process document (`--process FILE`) or the command line
//! (`exec [--tty] [--cwd D] [--env K=V] [--user U[:G]] [--cap C] ID CMD...`);
//! `--detach` leaves it to the caller (the engine reaps it), `--pid-file`
//! names it, `--console-socket` gets its pty.

use super::Ctx;
use super::args::command;
use crate::cli::args::{Flag, flag, text};
use crate::error::{Context, Error, Result};
use crate::json;
use crate::spawn::exec::Exec;
use crate::spec::caps;
use alloc::string::String;

const FLAGS: &[Flag] = &[
    flag(b'p', "process", true),
    flag(b'd', "detach", false),
    flag(0, "pid-file", true),
    flag(0, "console-socket", true),
    flag(b't', "tty", false),
    flag(0, "cwd", true),
    flag(b'e', "env", true),
    flag(b'u', "user", true),
    flag(b'g', "additional-gids", true),
    flag(b'c', "cap", true),
    flag(0, "no-new-privs", false),
    flag(0, "preserve-fds", true),
    flag(0, "process-label", true),
    flag(0, "apparmor", true),
    flag(0, "ignore-paused", false),
    flag(0, "cgroup", true),
    flag(0, "help", false),
];

pub fn exec(ctx: &Ctx, argv: &[&[u8]]) -> Result<i32> {
    let p = command("exec", FLAGS, argv)?;
    // runc's exit status for an exec that failed (its own, not the
    // command's): 255, so that an engine tells it from the command's 1.
    run(ctx, &p).map_err(|e| e.with_code(255))
}

fn run(ctx: &Ctx, p: &crate::cli::args::Parsed<'_>) -> Result<i32> {
    let Some((id, cmd)) = p.rest.split_first() else {
        return Err(Error::bad("exec", "", "needs a container id"));
    };
    let id = text(id);
    let rec = ctx
        .store
        .load(&id)
        .map_err(|_| Error::text(String::from("container does not exist")))?;
    // runc's: running, or created (its init waiting for `start`). Not
    // paused, --ignore-paused or not: pocket's own process joins the
    // container's cgroups, and the freezer would stop it there.
    match super::cmd::status(&rec) {
        "running" | "created" => {}
        "paused" => {
            return Err(Error::text(String::from(
                "cannot exec in a paused container",
            )));
        }
        _ => {
            return Err(Error::text(String::from(
                "cannot exec in a stopped container",
            )));
        }
    }
    let spec = ctx.store.spec(&rec.id)?;
    // A process document that is no file (a pipe, /dev/stdin) can be read
    // only once: so this process is sealed before (see below).
    let once = p.value(FLAGS, "process").is_some_and(|f| {
        crate::error::cpath(&text(f)).is_ok_and(|c| {
            !crate::sys::fd::fstatat(libc::AT_FDCWD, &c, 0)
                .is_ok_and(|st| st.st_mode & libc::S_IFMT == libc::S_IFREG)
        })
    });
    if once {
        crate::spawn::sealed::ensure(ctx.args, &ctx.store.run, || None)?;
    }
    let mut e = Exec {
        stdin: true,
        detach: p.on(FLAGS, "detach"),
        keep_stdio: true,
        ..Exec::of(&spec, cmd.iter().map(|a| a.to_vec()).collect())
    };
    if let Some(f) = p.value(FLAGS, "process") {
        let data = crate::sys::fs::read(&crate::error::cpath(&text(f))?).ctx("read", &text(f))?;
        let v = json::parse(&data)
            .map_err(|err| Error::bad("process.json", text(f), alloc::format!("{err}")))?;
        let pr = crate::spec::oci::process_from_value(&v)?;
        e.args = pr.args;
        e.env = pr.env;
        if !pr.cwd.is_empty() {
            e.cwd = pr.cwd;
        }
        e.tty = pr.terminal;
        e.console_size = pr.console_size;
        e.user = pr.user;
        if v.get("capabilities").is_some() {
            e.caps = pr.capabilities;
            e.cap_sets = pr.cap_sets;
        }
        e.no_new_privs = pr.no_new_privileges;
        // runc's rule: the process's own rlimits, else the container's.
        if !pr.rlimits.is_empty() {
            e.rlimits = pr.rlimits;
        }
        if pr.umask.is_some() {
            e.umask = pr.umask;
        }
    }
    if p.on(FLAGS, "tty") {
        e.tty = true;
    }
    if let Some(c) = p.value(FLAGS, "cwd") {
        e.cwd = c.to_vec();
    }
    for &(k, v) in &p.flags {
        match FLAGS[k].long {
            "env" => {
                let key = v.split(|&c| c == b'=').next().unwrap_or(b"").to_vec();
                e.env
                    .retain(|x| !(x.starts_with(&key) && x.get(key.len()) == Some(&b'=')));
                e.env.push(v.to_vec());
            }
            "cap" => {
                e.caps |= caps::mask(&[text(v)])
                    .map_err(|n| Error::bad("--cap", n, "unknown capability"))?;
            }
            "user" => {
                let t = text(v);
                let (u, g) = t.split_once(':').unwrap_or((&t, "0"));
                e.user.uid = u
                    .parse()
                    .map_err(|_| Error::bad("--user", t.clone(), "UID[:GID]"))?;
                e.user.gid = g
                    .parse()
                    .map_err(|_| Error::bad("--user", t.clone(), "UID[:GID]"))?;
            }
            "additional-gids" => {
                let g = text(v);
                e.user.additional_gids.push(
                    g.parse()
                        .map_err(|_| Error::bad("--additional-gids", g, "a number"))?,
                );
            }
            "no-new-privs" => e.no_new_privs = true,
            "preserve-fds" => {
                e.preserve_fds = text(v)
                    .parse()
                    .map_err(|_| Error::bad("--preserve-fds", text(v), "not a number"))?;
            }
            _ => {}
        }
    }
    if e.args.is_empty() {
        return Err(Error::bad(
            "exec",
            "",
            "no command specified (args in --process, or after the id)",
        ));
    }
    crate::spec::default_home(&mut e.env, e.user.uid, &spec.root.path);
    // This process enters the container from a sealed copy of pocket, or
    // its command starts through the dmz (CVE-2019-5736: spawn/sealed.rs,
    // spawn/dmz.rs). Before the console socket is connected: a re-exec
    // would connect it twice.
    let fits = crate::spawn::dmz::fits_container(&e, &spec, &ctx.store.run_dir(&rec.id));
    let dmz = crate::spawn::sealed::for_exec(ctx.args, &ctx.store.run, || None, fits)?;
    e.dmz = dmz.as_ref().map_or(-1, |f| f.raw());
    let console = match (e.tty, p.value(FLAGS, "console-socket")) {
        (true, Some(s)) => Some(
            crate::sys::sock::connect_unix(s)
                .map_err(|err| Error::sys("connect console socket", text(s), err))?,
        ),
        (true, None) if e.detach => {
            return Err(Error::text(String::from(
                "cannot allocate tty if runc will detach without setting console socket",
            )));
        }
        _ => None,
    };
    e.console = console.as_ref().map_or(-1, |c| c.raw());
    // Written as soon as the process runs, detached (as engines always
    // exec) or not.
    if let Some(pf) = p.value(FLAGS, "pid-file") {
        let pf = super::cmd::PidFile::prepare(&text(pf))?;
        e.on_start = Some(alloc::boxed::Box::new(move |pid| pf.write(pid)));
    }
    crate::container::exec(&ctx.store, &rec.id, &e)
}
