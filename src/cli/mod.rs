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

const HELP: &str = "\
Usage: pocket [--root DIR] COMMAND [ARG...]

A container runtime in one static binary: no daemon, no shared libraries.

Commands:
  run        Run a command in a new container (-d: in the background)
  create     Make a container without starting it (start runs it)
  ps         List containers
  logs       Show a container's output
  exec       Run a command in a running container
  stop       Stop containers (SIGTERM, then SIGKILL)
  kill       Send a signal to containers
  start      Start stopped containers again
  restart    Stop and start containers
  boot       Start the containers --restart always/unless-stopped brings back (at boot)
  wait       Wait for containers to exit and print their exit codes
  pause      Suspend every process of containers (cgroup freezer)
  unpause    Resume paused containers
  rm         Remove containers
  rename     Rename a container
  attach     Attach this terminal to a detached container (ctrl-p,ctrl-q detaches)
  cp         Copy files between a container and the host (tar streams with -)
  events     Show container events (create, start, die, health_status, ...)
  inspect    Show containers, images, networks or volumes as JSON (-f TEMPLATE)
  top        Show a container's processes (ps options: -ef, aux, -o FIELDS)
  port       Show a container's published ports
  stats      Show containers' CPU, memory and process counts
  update     Change containers' resource limits
  container prune   Remove all stopped containers
  image prune       Remove unused images (dangling; -a: all unused)
  volume prune      Remove unused anonymous volumes (-a: all unused)
  network prune     Remove networks no container is on
  system prune      All of the above (volumes with --volumes)
  system df         Show the space images, containers and volumes take
  info              Show the runtime facts of this host (also system info)
  volume     Manage named volumes (create, ls, rm, inspect)
  network    Manage bridge networks (create, ls, inspect, connect, disconnect, rm)
  images     List images
  pull       Download an image from a registry
  push       Upload an image to a registry
  login      Log in to a registry (credentials in docker's config.json)
  logout     Remove a registry's stored credentials
  load       Load images from a docker-archive or OCI layout (tar or dir)
  import     Make an image from a root filesystem tarball
  rmi        Remove images
  tag        Give an image another name
  image inspect     Show an image's config as JSON
  save       Write images as a docker-archive (tar)
  export     Write a container's filesystem as a tar
  diff       List the files a container added, changed or deleted
  commit     Make an image from a container's changes
  version    Show the version and the git commit it was built from

Global options:
  --root DIR   Keep state in DIR (default /var/lib/pocket, or $POCKET_ROOT)

Run 'pocket COMMAND --help' for more on a command.
";

/// What every command gets: the process's args/env and the state store.
pub struct Ctx<'a> {
    pub args: &'a Args,
    pub store: Store,
}

/// Entry point: returns the process exit status.
pub fn main(args: &Args) -> i32 {
    // A closed pipe on stdout must not kill pocket with SIGPIPE halfway
    // through cleanup; EPIPE from write(2) is handled where it matters.
    let _ = crate::sys::signal::ignore(libc::SIGPIPE);
    crate::rt::crash::init(args.getenv(b"POCKET_CRASH_AT"));
    match dispatch(args) {
        Ok(code) => code,
        Err(e) => {
            crate::errln!("pocket: {}", e);
            e.code
        }
    }
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
        r => Store::new(r),
    };
    let ctx = Ctx { args, store };
    let Some((cmd, rest)) = argv.split_first() else {
        // As docker: no command prints the help and succeeds.
        crate::rt::out().bytes(HELP.as_bytes());
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
        b"image" => match rest.split_first() {
            Some((&b"ls", r)) | Some((&b"list", r)) => images::images_cmd(r, ctx),
            Some((&b"inspect", r)) => images::image_inspect(r, ctx),
            Some((&b"rm", r)) => images::rmi_cmd(r, ctx),
            Some((&b"load", r)) => images::load_cmd(r, ctx),
            Some((&b"pull", r)) => pull::main(r, ctx),
            Some((&b"push", r)) => push::main(r, ctx),
            Some((&b"import", r)) => images::import_cmd(r, ctx),
            Some((&b"tag", r)) => images::tag_cmd(r, ctx),
            Some((&b"save", r)) => save::main(r, ctx),
            Some((&b"prune", r)) => prune::image(r, ctx),
            Some((other, _)) => Err(Error::bad(
                "unknown command",
                alloc::format!("image {}", text(other)),
                "see 'pocket --help'",
            )),
            None => Err(Error::bad(
                "image",
                "",
                "needs a subcommand: ls, inspect, rm, load, pull, push, import, tag, save, prune",
            )),
        },
        b"volume" => volume::main(rest, ctx),
        b"info" => system::info(rest, ctx),
        b"system" => match rest.split_first() {
            Some((&b"prune", r)) => prune::system(r, ctx),
            Some((&b"df", r)) => system::df(r, ctx),
            Some((&b"info", r)) => system::info(r, ctx),
            Some((other, _)) => Err(Error::bad(
                "unknown command",
                alloc::format!("system {}", text(other)),
                "see 'pocket --help'",
            )),
            None => Err(Error::bad(
                "system",
                "",
                "needs a subcommand: df, info, prune",
            )),
        },
        b"network" => network::main(rest, ctx),
        b"container" => match rest.split_first() {
            Some((&b"prune", r)) => prune::container(r, ctx),
            Some((&b"ls", r)) | Some((&b"list", r)) => ps::main(r, ctx),
            Some((&b"rm", r)) => manage::rm(r, ctx),
            Some((&b"rename", r)) => manage::rename(r, ctx),
            Some((&b"create", r)) => run::create(r, ctx),
            Some((&b"start", r)) => manage::start(r, ctx),
            Some((&b"cp", r)) => cp::main(r, ctx),
            Some((&b"inspect", r)) => inspect::inspect(r, ctx),
            Some((&b"export", r)) => image_out::export(r, ctx),
            Some((&b"diff", r)) => diff::main(r, ctx),
            Some((&b"commit", r)) => image_out::commit(r, ctx),
            Some((other, _)) => Err(Error::bad(
                "unknown command",
                alloc::format!("container {}", text(other)),
                "see 'pocket --help'",
            )),
            None => Err(Error::bad(
                "container",
                "",
                "needs a subcommand: prune, ls, rm, inspect, export, diff, commit",
            )),
        },
        b"--version" | b"-v" => {
            crate::outln!("pocket version {} (commit {})", VERSION, COMMIT);
            Ok(0)
        }
        b"version" => system::version(rest, ctx),
        b"help" | b"--help" | b"-h" => {
            crate::rt::out().bytes(HELP.as_bytes());
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

/// `pocket GROUP SUB ...` (volume, network): the handler whose names hold
/// SUB; the group's help for none, `help`, `-h` or `--help`.
pub fn subcommand(
    group: &str,
    help: &str,
    table: &[(&[&str], Handler)],
    argv: &[&[u8]],
    ctx: &Ctx,
) -> Result<i32> {
    let Some((sub, rest)) = argv.split_first() else {
        crate::rt::out().bytes(help.as_bytes());
        return Ok(0);
    };
    if matches!(*sub, b"--help" | b"-h" | b"help") {
        crate::rt::out().bytes(help.as_bytes());
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
    help: &str,
    argv: &'a [&'a [u8]],
) -> Result<Option<args::Parsed<'a>>> {
    let p = args::parse_interspersed(cmd, table, argv)?;
    if p.flags
        .iter()
        .any(|&(k, v)| table[k].long == "help" && v == b"true")
    {
        crate::rt::out().bytes(help.as_bytes());
        return Ok(None);
    }
    Ok(Some(p))
}
