//! `pocket exec`: run a command in a running container, with its env and
//! working directory (from its Spec, not from pocket's environment).

use super::Ctx;
use super::args::text;
use super::args::{Flag, flag, parse};
use super::run::{env_entry, env_file_entry, env_file_lines, read_file};
use crate::error::{Error, Result};
use crate::rt::args::lookup;
use crate::spawn::exec::Exec;
use crate::spec::{getenv, override_env};
use alloc::string::String;
use alloc::vec::Vec;

const FLAGS: &[Flag] = &[
    flag(b'i', "interactive", false),
    flag(b't', "tty", false),
    flag(b'd', "detach", false),
    flag(b'e', "env", true),
    flag(0, "env-file", true),
    flag(b'w', "workdir", true),
    flag(b'u', "user", true),
    flag(0, "help", false),
];

pub fn main(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let p = parse("exec", FLAGS, argv)?;
    let on = |name: &str| p.on(FLAGS, name);
    if on("help") {
        crate::help::print("exec");
        return Ok(0);
    }
    if !on("detach") {
        super::run::no_tty_input(on("tty") && on("interactive"))?;
    }
    let Some((q, cmd)) = p.rest.split_first() else {
        return Err(Error::bad("exec", "", "needs a container and a command"));
    };
    if cmd.is_empty() {
        return Err(Error::bad("exec", "", "no command specified"));
    }
    let q = text(q);
    let id = ctx.store.resolve(&q)?;
    let spec = ctx.store.spec(&id)?;
    let tty = on("tty");
    // Names as the container sees them now: its upper dir (where
    // /etc/passwd may have been changed) over the layers.
    let roots: Vec<String> = match &spec.root.overlay {
        Some(o) => core::iter::once(o.upper.clone())
            .chain(o.lower.iter().cloned())
            .collect(),
        None => alloc::vec![text(&spec.root.path)],
    };
    let mut cwd = spec.process.cwd.clone();
    let mut user = spec.process.user.clone();
    let mut user_arg = None;
    for &(k, v) in &p.flags {
        match FLAGS[k].long {
            "workdir" => {
                if !v.starts_with(b"/") {
                    return Err(Error::bad(
                        "invalid working directory",
                        text(v),
                        "must be an absolute path",
                    ));
                }
                cwd = v.to_vec();
            }
            "user" => {
                user = crate::image::user::resolve(&text(v), &roots)?;
                user_arg = Some(text(v));
            }
            _ => {}
        }
    }
    let mut e = Exec {
        cwd,
        tty,
        stdin: on("interactive"),
        detach: on("detach"),
        user,
        // A health check's probe: killed at its timeout.
        timeout_ms: lookup(
            &ctx.args.env,
            crate::container::health::EXEC_TIMEOUT.as_bytes(),
        )
        .and_then(|v| core::str::from_utf8(v).ok()?.parse().ok()),
        ..Exec::of(&spec, cmd.iter().map(|a| a.to_vec()).collect())
    };
    // This process enters the container from a sealed copy of pocket (its
    // monitor's if it has one), or its command starts through the dmz
    // (spawn/sealed.rs, spawn/dmz.rs). Before the env files are read: a
    // re-exec would read them again, and a pipe's come back empty.
    let fits = crate::spawn::dmz::fits_container(&e, &spec, &ctx.store.run_dir(&id));
    let dmz = crate::spawn::sealed::for_exec(
        ctx.args,
        &ctx.store.run,
        || crate::container::monitor_of(&ctx.store, &q),
        fits,
    )?;
    e.dmz = dmz.as_ref().map_or(-1, |f| f.raw());
    // docker's: --env-file entries, then -e; a name alone takes pocket's
    // own value, or stays bare, which unsets it.
    let mut given: Vec<Vec<u8>> = Vec::new();
    for pass in ["env-file", "env"] {
        for &(_, v) in p.flags.iter().filter(|f| FLAGS[f.0].long == pass) {
            if pass == "env" {
                given.push(env_entry(v, &ctx.args.env)?);
                continue;
            }
            for e in env_file_lines(v, &read_file(v, "env file")?)? {
                given.extend(env_file_entry(&e, &ctx.args.env)?);
            }
        }
    }
    e.env = match &spec.config {
        // docker builds an exec's environment as the container's, from its
        // Config.Env with the exec's own terminal, then its -e over it,
        // then HOME (runc's: the exec user's, unless set).
        Some(c) => {
            // The HOSTNAME its run gave (--uts host leaves the Spec none).
            let host = getenv(&spec.process.env, b"HOSTNAME").unwrap_or(&spec.hostname);
            let mut env = crate::spec::docker_env(host, tty, &c.env);
            override_env(&mut env, &given);
            if getenv(&env, b"HOME").is_none_or(|h| h.is_empty()) {
                let home = match &user_arg {
                    Some(u) => crate::image::user::home(u, &roots).into_bytes(),
                    None => getenv(&spec.process.env, b"HOME")
                        .unwrap_or(b"/root")
                        .to_vec(),
                };
                crate::spec::setenv(&mut env, [b"HOME=", &home[..]].concat());
            }
            env
        }
        // A container pocket's CLI did not make (the OCI front end's): its
        // process's environment.
        None => {
            let mut env = spec.process.env.clone();
            if tty && getenv(&env, b"TERM").is_none() {
                env.push(b"TERM=xterm".to_vec());
            }
            override_env(&mut env, &given);
            env
        }
    };
    // What failed in setting the process up in the container is docker's
    // "OCI runtime exec failed": 126 (a command not found stays 127, a
    // container not running 1).
    crate::container::exec(&ctx.store, &id, &e).map_err(|e| match e.code {
        125 => e.with_code(126),
        _ => e,
    })
}
