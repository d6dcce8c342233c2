//! Command-line front end: the docker-like commands. Parsing is pure
//! (args.rs); each command turns its flags into a Spec or an action on
//! the state store.

pub mod args;
pub mod attach;
mod cp;
mod devices;
mod diff;
mod events;
mod exec;
mod filter;
mod format;
mod history;
mod image_out;
mod images;
mod inspect;
mod kernel;
mod labels;
mod login;
mod logs;
pub mod manage;
mod mounts;
mod network;
mod port;
mod prune;
mod ps;
mod pull;
mod push;
mod rootless;
pub mod run;
mod save;
mod security;
mod stats;
mod system;
pub mod table;
pub mod template;
mod top;
mod userns_auto;
mod volume;

use crate::error::{Error, Result};
use crate::rt::Args;
use crate::state::Store;
use args::text;

pub use crate::{COMMIT, VERSION};

/// What every command gets: the process's args/env and the state store.
pub struct Ctx<'a> {
    pub args: &'a Args,
    pub store: Store,
}

/// Entry point: returns the process exit status.
pub fn main(args: &Args) -> i32 {
    crate::sys::fd::fill_stdio();
    // A closed pipe on stdout must not kill pocket with SIGPIPE halfway
    // through cleanup; EPIPE from write(2) is handled where it matters.
    let _ = crate::sys::signal::ignore(libc::SIGPIPE);
    crate::rt::crash::init(args.getenv(b"POCKET_CRASH_AT"));
    let code = match dispatch(args) {
        Ok(code) => code,
        Err(e) => {
            crate::errln!("pocket: {}", e);
            e.code
        }
    };
    // Namespaces made ahead for a run that failed before its spawn: the
    // helper waited for, its fds closed.
    crate::spawn::prefetch::discard();
    code
}

fn dispatch(args: &Args) -> Result<i32> {
    let mut argv = args.argv.get(1..).unwrap_or(&[]);
    // The OCI runtime front end: by the binary's name (`pocket-runc`), as
    // engines call it, or `pocket oci ...`.
    if args
        .argv
        .first()
        .is_some_and(|a| crate::oci::called_as_runtime(a))
    {
        return Ok(crate::oci::main(args, argv));
    }
    if argv.first() == Some(&&b"oci"[..]) {
        return Ok(crate::oci::main(args, &argv[1..]));
    }
    let mut root = args.getenv(b"POCKET_ROOT").filter(|r| !r.is_empty());
    // Global options come before the command.
    loop {
        match argv.first().copied() {
            Some(b"--root") => {
                root =
                    Some(argv.get(1).copied().ok_or_else(|| {
                        Error::bad("flag needs an argument", "--root", "see --help")
                    })?);
                argv = &argv[2..];
            }
            Some(a) if a.starts_with(b"--root=") => {
                root = Some(&a[7..]);
                argv = &argv[1..];
            }
            _ => break,
        }
    }
    let root = match root {
        Some(r) => {
            Some(core::str::from_utf8(r).map_err(|_| Error::bad("--root", text(r), "not UTF-8"))?)
        }
        None => None,
    };
    if root.is_some_and(|r| r.is_empty() || !r.starts_with('/')) {
        return Err(Error::bad(
            "--root",
            root.unwrap_or(""),
            "must be an absolute path",
        ));
    }
    let store = match root {
        None => rootless::store(args).unwrap_or_else(|| Store::new(None)),
        r => {
            let mut s = Store::new(r);
            let run_dir = crate::container::health::EXEC_RUN_DIR.as_bytes();
            if let Some(run) = args.getenv(run_dir).filter(|v| v.starts_with(b"/")) {
                s.run = text(run).trim_end_matches('/').into();
            }
            s
        }
    };
    let ctx = Ctx { args, store };
    let Some((cmd, rest)) = argv.split_first() else {
        // As docker: no command prints the help and succeeds.
        crate::help::print("pocket");
        return Ok(0);
    };
    // A plain user's image files belong to its whole range (the image's
    // owners): the commands that make or read them run as root of its
    // user namespace.
    if makes_image_files(cmd, rest)
        && let Some(r) = crate::spawn::userns::as_users_root(|| command(cmd, rest, &ctx))
    {
        return r;
    }
    command(cmd, rest, &ctx)
}

/// Whether `pocket CMD REST...` extracts layers or reads them (or a
/// container's files) back: see `userns::as_users_root`.
fn makes_image_files(cmd: &[u8], rest: &[&[u8]]) -> bool {
    const IMAGE: &[&[u8]] = &[b"load", b"pull", b"push", b"import", b"save"];
    const CONTAINER: &[&[u8]] = &[b"commit", b"export"];
    match cmd {
        b"image" => rest.first().is_some_and(|s| IMAGE.contains(s)),
        b"container" => rest.first().is_some_and(|s| CONTAINER.contains(s)),
        c => IMAGE.contains(&c) || CONTAINER.contains(&c),
    }
}

fn command(cmd: &[u8], rest: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    // Exit codes as docker's CLI: 125 for bad usage (flags, arguments),
    // 1 for a container that is missing or not running (set where that is
    // found), 126/127 from exec, else the command's own status.
    match cmd {
        b"run" => run::main(rest, ctx),
        b"exec" => exec::main(rest, ctx),
        b"ps" => ps::main(rest, ctx),
        b"port" => port::main(rest, ctx),
        b"logs" => logs::main(rest, ctx),
        b"stop" => manage::stop(rest, ctx),
        b"kill" => manage::kill(rest, ctx),
        b"start" => manage::start(rest, ctx),
        b"restart" => manage::restart(rest, ctx),
        b"boot" => manage::boot(rest, ctx),
        b"cp" => cp::main(rest, ctx),
        b"attach" => attach::main(rest, ctx),
        b"events" => events::main(rest, ctx),
        b"wait" => manage::wait(rest, ctx),
        b"rm" => manage::rm(rest, ctx),
        b"pause" => manage::pause(rest, ctx),
        b"unpause" => manage::unpause(rest, ctx),
        b"inspect" => inspect::inspect(rest, ctx),
        b"top" => top::main(rest, ctx),
        b"stats" => stats::stats(rest, ctx),
        b"update" => stats::update(rest, ctx),
        b"load" => images::load_cmd(rest, ctx),
        b"pull" => pull::main(rest, ctx),
        b"push" => push::main(rest, ctx),
        b"login" => login::login(rest, ctx),
        b"logout" => login::logout(rest, ctx),
        b"rename" => manage::rename(rest, ctx),
        b"create" => run::create(rest, ctx),
        b"import" => images::import_cmd(rest, ctx),
        b"images" => images::images_cmd(rest, ctx),
        b"rmi" => images::rmi_cmd(rest, ctx),
        b"tag" => images::tag_cmd(rest, ctx),
        b"save" => save::main(rest, ctx),
        b"export" => image_out::export(rest, ctx),
        b"diff" => diff::main(rest, ctx),
        b"commit" => image_out::commit(rest, ctx),
        b"history" => history::main(rest, ctx),
        b"image" => subcommand(
            "image",
            &[
                (&["ls", "list"], images::images_cmd),
                (&["inspect"], images::image_inspect),
                (&["history"], history::main),
                (&["rm"], images::rmi_cmd),
                (&["load"], images::load_cmd),
                (&["pull"], pull::main),
                (&["push"], push::main),
                (&["import"], images::import_cmd),
                (&["tag"], images::tag_cmd),
                (&["save"], save::main),
                (&["prune"], prune::image),
            ],
            rest,
            ctx,
        ),
        b"volume" => volume::main(rest, ctx),
        b"info" => system::info(rest, ctx),
        b"system" => subcommand(
            "system",
            &[
                (&["prune"], prune::system),
                (&["df"], system::df),
                (&["info"], system::info),
            ],
            rest,
            ctx,
        ),
        b"network" => network::main(rest, ctx),
        b"container" => subcommand(
            "container",
            &[
                (&["prune"], prune::container),
                (&["ls", "list"], ps::main),
                (&["rm"], manage::rm),
                (&["rename"], manage::rename),
                (&["create"], run::create),
                (&["start"], manage::start),
                (&["cp"], cp::main),
                (&["inspect"], inspect::inspect),
                (&["export"], image_out::export),
                (&["diff"], diff::main),
                (&["commit"], image_out::commit),
            ],
            rest,
            ctx,
        ),
        b"--version" | b"-v" => {
            crate::outln!("pocket version {} (commit {})", VERSION, COMMIT);
            Ok(0)
        }
        b"version" => system::version(rest, ctx),
        b"help" | b"--help" | b"-h" => {
            crate::help::print("pocket");
            Ok(0)
        }
        other if other.starts_with(b"-") => Err(Error::bad(
            "unknown flag",
            text(other),
            "see 'pocket --help'",
        )),
        other => Err(Error::bad(
            "unknown command",
            text(other),
            "see 'pocket --help'",
        )),
    }
}

/// A command's handler: its arguments after the command name.
pub type Handler = fn(&[&[u8]], &Ctx) -> Result<i32>;

/// `pocket GROUP SUB ...` (image, container, system, volume, network): the handler whose names hold
/// SUB; the group's help for none, `help`, `-h` or `--help`.
pub fn subcommand(
    group: &str,
    table: &[(&[&str], Handler)],
    argv: &[&[u8]],
    ctx: &Ctx,
) -> Result<i32> {
    let Some((sub, rest)) = argv.split_first() else {
        crate::help::print(group);
        return Ok(0);
    };
    if matches!(*sub, b"--help" | b"-h" | b"help") {
        crate::help::print(group);
        return Ok(0);
    }
    match table
        .iter()
        .find(|(names, _)| names.iter().any(|n| n.as_bytes() == *sub))
    {
        Some((_, h)) => h(rest, ctx),
        None => Err(Error::bad(
            "unknown command",
            alloc::format!("{group} {}", text(sub)),
            alloc::format!("see 'pocket {group} --help'"),
        )),
    }
}

/// Parse a command's flags; print its help and return None for --help.
pub fn flags<'a>(
    cmd: &str,
    table: &[args::Flag],
    argv: &'a [&'a [u8]],
) -> Result<Option<args::Parsed<'a>>> {
    let p = args::parse_interspersed(cmd, table, argv)?;
    if p.on(table, "help") {
        crate::help::print(cmd);
        return Ok(None);
    }
    Ok(Some(p))
}
