//! The OCI runtime front end: runc's command line and output, so that
//! engines (containerd's shim, podman's conmon, CRI-O) drive pocket as
//! they drive runc. Chosen by the name the binary is called under
//! (`pocket-runc`, or any name ending in `runc`), as busybox does, or by
//! `pocket oci COMMAND ...`.
//!
//! Like the docker-like CLI it only parses, builds a Spec (from the
//! bundle's config.json) and calls the container core; the differences are
//! runc's: the caller reaps the container (no monitor), `create` leaves the
//! init waiting for `start`, errors go to `--log` as runc writes them.

mod args;
mod cmd;
mod exec;
mod info;
mod log;

use crate::error::{Error, Result};
use crate::rt::Args;
use crate::state::Store;
use alloc::string::String;

/// Where state lives without `--root` (runc's is /run/runc). podman never
/// passes --root: this must work as is.
pub const DEFAULT_ROOT: &str = "/run/pocket-runc";

/// What every command gets: the state store under `--root`, and the
/// global flags.
pub struct Ctx<'a> {
    pub args: &'a Args,
    pub store: Store,
    pub systemd_cgroup: bool,
    /// Cgroup permission errors mean "no cgroup" (runc's --rootless).
    pub rootless: bool,
}

/// Is this binary to act as an OCI runtime, by its name?
pub fn called_as_runtime(argv0: &[u8]) -> bool {
    let base = argv0.rsplit(|&c| c == b'/').next().unwrap_or(argv0);
    base.ends_with(b"runc")
}

/// Entry point (`argv`: from the command on; `argv[0]` is not in it).
pub fn main(args: &Args, argv: &[&[u8]]) -> i32 {
    let mut g = match args::global(argv) {
        Ok(g) => g,
        Err(e) => {
            crate::errln!("{}", e);
            return 1;
        }
    };
    let log = log::Log::new(g.log.take(), g.json);
    let r = (|| -> Result<i32> {
        // A plain user's: $XDG_RUNTIME_DIR/pocket-runc (runc's is
        // $XDG_RUNTIME_DIR/runc); so too root of a user namespace of a
        // plain user's (podman's rootless runs its runtime so), unless
        // $USER says root, as runc decides; there without the variable,
        // the default root (no /tmp name that every user's namespace
        // root would share).
        let euid = crate::sys::proc::geteuid();
        let userns = euid == 0 && crate::sys::procfs::in_user_namespace();
        let xdg = args
            .getenv(b"XDG_RUNTIME_DIR")
            .filter(|d| d.starts_with(b"/"));
        let user_root = match euid {
            0 if !userns || args.getenv(b"USER") == Some(b"root") || xdg.is_none() => None,
            uid => Some(match xdg {
                Some(d) => alloc::format!("{}/pocket-runc", crate::cli::args::text(d)),
                None => alloc::format!("/tmp/pocket-runc-{uid}"),
            }),
        };
        let root = g.root.or(user_root.as_deref()).unwrap_or(DEFAULT_ROOT);
        if !root.starts_with('/') {
            return Err(Error::bad(
                "--root",
                String::from(root),
                "must be an absolute path",
            ));
        }
        let ctx = Ctx {
            args,
            store: Store::new(Some(root)),
            systemd_cgroup: g.systemd_cgroup,
            // runc's "auto": a plain user, or root of a user namespace,
            // whose cgroups are not the host's to make.
            rootless: g.rootless.unwrap_or(euid != 0 || userns),
        };
        cmd::dispatch(&ctx, g.rest)
    })();
    match r {
        Ok(code) => code,
        Err(e) => {
            // runc: the message on stderr, and as a record in --log.
            log.error(&e);
            crate::errln!("{}", e);
            // runc's: 1, but a failed exec's 255 (oci::exec).
            if e.code == 255 { 255 } else { 1 }
        }
    }
}
