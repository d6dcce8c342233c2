//! `pocket exec`: run a command in a running container, with its env and
//! working directory (from its Spec, not from pocket's environment).

use super::Ctx;
use super::args::text;
use super::args::{Flag, flag, parse};
use super::run::{env_file_lines, read_file};
use crate::error::{Error, Result};
use crate::rt::args::lookup;
use crate::spawn::exec::Exec;
use crate::spec::setenv;
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
    let Some((q, cmd)) = p.rest.split_first() else {
        return Err(Error::bad("exec", "", "needs a container and a command"));
    };
    if cmd.is_empty() {
        return Err(Error::bad("exec", "", "no command specified"));
    }
    // From here on this process will enter the container: from a sealed
    // copy of pocket only (spawn/sealed.rs), its monitor's if it has one.
    let q = text(q);
    crate::spawn::sealed::ensure(ctx.args, &ctx.store.run, || {
        crate::container::monitor_of(&ctx.store, &q)
    })?;
    let id = ctx.store.resolve(&q)?;
    let spec = ctx.store.spec(&id)?;
    let mut env = spec.process.env.clone();
    let tty = on("tty");
    if tty && !env.iter().any(|e| e.starts_with(b"TERM=")) {
        env.push(b"TERM=xterm".to_vec());
    }
    let mut cwd = spec.process.cwd.clone();
    let mut user = spec.process.user.clone();
    for &(k, v) in &p.flags {
        match FLAGS[k].long {
            "env" | "env-file" => {
                let entries = if FLAGS[k].long == "env" {
                    alloc::vec![v.to_vec()]
                } else {
                    env_file_lines(v, &read_file(v, "env file")?)?
                };
                for e in entries {
                    if e.contains(&b'=') {
                        setenv(&mut env, e);
                    } else if let Some(val) = lookup(&ctx.args.env, &e) {
                        setenv(&mut env, [&e[..], b"=", val].concat());
                    }
                }
            }
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
                // Names as the container sees them now: its upper dir
                // (where /etc/passwd may have been changed) over the layers.
                let roots: Vec<String> = match &spec.root.overlay {
                    Some(o) => core::iter::once(o.upper.clone())
                        .chain(o.lower.iter().cloned())
                        .collect(),
                    None => alloc::vec![text(&spec.root.path)],
                };
                user = crate::image::user::resolve(&text(v), &roots)?;
            }
            _ => {}
        }
    }
    let e = Exec {
        env,
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
    crate::container::exec(&ctx.store, &id, &e)
}
