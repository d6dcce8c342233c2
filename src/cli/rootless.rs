//! pocket run by a plain user (rootless): what changes from root's runs.
//!
//! * State: `$XDG_DATA_HOME/pocket` (else `~/.local/share/pocket`), and
//!   the runtime part (locks) in `$XDG_RUNTIME_DIR/pocket` (else below
//!   the data directory), unless `--root` or `POCKET_ROOT` says.
//! * Every container gets a user namespace: root inside is the user (and
//!   ids 1.. its /etc/subuid range, written by newuidmap, when it has one);
//!   `--uidmap` still says otherwise.
//! * No cgroup: a plain user may make none on cgroup v1, nor without a
//!   delegated v2 subtree. Limits are refused with the reason; a run
//!   without them works, counted by its pid namespace alone.
//! * Networks: slirp4netns (the default where it is installed and
//!   /dev/net/tun is the user's to open, else none), none and host. A
//!   bridge needs root (the veth is made in the host's namespace);
//!   slirp4netns, a user-mode stack in a process of the user's, gives
//!   outbound traffic and `-p` without it (net/slirp.rs).

use super::run::RunArgs;
use crate::error::{Error, Result};
use crate::rt::Args;
use crate::spec::{Namespace, Spec};
use crate::state::Store;
use alloc::format;
use alloc::string::String;

/// Whether this pocket runs as a plain user.
pub fn active() -> bool {
    crate::sys::proc::geteuid() != 0
}

/// A plain user's store (see the top); None for root.
pub fn store(args: &Args) -> Option<Store> {
    if !active() {
        return None;
    }
    let env = |k: &[u8]| {
        args.getenv(k)
            .filter(|v| v.starts_with(b"/"))
            .and_then(|v| core::str::from_utf8(v).ok())
    };
    let data = match (env(b"XDG_DATA_HOME"), env(b"HOME")) {
        (Some(d), _) => format!("{d}/pocket"),
        (None, Some(h)) => format!("{h}/.local/share/pocket"),
        // No home: a directory of its own in /tmp, as podman falls back.
        (None, None) => format!("/tmp/pocket-{}", crate::sys::proc::geteuid()),
    };
    let run = match env(b"XDG_RUNTIME_DIR") {
        Some(r) => format!("{r}/pocket"),
        None => format!("{data}/run"),
    };
    Some(Store {
        root: String::from(data.trim_end_matches('/')),
        run,
    })
}

/// `run`'s flags as a plain user has them: slirp4netns unless another
/// network is asked for (none where it is not installed, as podman); a
/// bridge (the settings' default or asked for) refused.
pub fn adjust_args(r: &mut RunArgs, args: &Args) -> Result<()> {
    if let Some(n) = r.net
        && let Some(opts) = crate::net::slirp::parse_mode(n)
    {
        opts?;
        slirp_bin(args)?;
        return Ok(());
    }
    if !active() {
        return Ok(());
    }
    match r.net {
        // Where it can run: installed, and /dev/net/tun the user's to
        // open (some hosts keep it root's).
        None if slirp_bin(args).is_ok() && crate::net::slirp::tun_usable() => {
            r.net = Some(crate::net::slirp::NAME.as_bytes())
        }
        None => r.net = Some(b"none"),
        Some(b"none" | b"host") => {}
        Some(n) if n.starts_with(b"container:") => {}
        Some(n) => {
            return Err(Error::bad(
                "network",
                String::from_utf8_lossy(n).into_owned(),
                "a bridge network needs root (rootless: --net slirp4netns, none or host)",
            ));
        }
    }
    Ok(())
}

/// The slirp4netns program on the caller's $PATH.
pub fn slirp_bin(args: &Args) -> Result<String> {
    crate::net::slirp::find(args.getenv(b"PATH")).ok_or_else(|| {
        Error::bad(
            "network",
            crate::net::slirp::NAME,
            "not installed (package slirp4netns): no user-mode network without it",
        )
    })
}

/// A plain user's limits: kept where a cgroup v2 subtree is delegated to
/// it, else refused with the reason (before they are fitted to the host,
/// which for such a user has no controller at all). Device rules go
/// either way: a device program needs CAP_SYS_ADMIN on the host, and the
/// user namespace already keeps the container from making device nodes.
pub fn check_limits(spec: &mut Spec) -> Result<()> {
    if !active() {
        return Ok(());
    }
    spec.resources.devices.clear();
    if spec.resources.is_empty() || crate::cgroup::host().parent.is_some() {
        return Ok(());
    }
    let why = match crate::cgroup::layout().v1.is_empty() {
        true => {
            "no cgroup v2 subtree is delegated to you (your own group is root's; under systemd run pocket in `systemd-run --user --scope`)"
        }
        false => "this host's controllers are on cgroup v1, which a plain user cannot use",
    };
    Err(Error::bad(
        "resource limits",
        "",
        format!("need root or a delegated cgroup: {why} (run without -m, --cpus, --pids-limit...)"),
    ))
}

/// Where a container's group goes: `pocket/<id>` for root, below the
/// delegated group for a plain user, nowhere for a user without one.
pub fn cgroups_path(id: &str) -> Option<String> {
    match active() {
        false => Some(format!("{}/{id}", crate::cgroup::PARENT)),
        true => crate::cgroup::host()
            .parent
            .as_ref()
            .map(|p| format!("{p}/{id}")),
    }
}

/// The Spec of a plain user's container: its user namespace, its cgroup
/// (cgroups_path), and /sys bound rather than mounted where the network is the host's
/// (sysfs may be mounted only by the network namespace's owner).
pub fn adjust_spec(spec: &mut Spec) -> Result<()> {
    if !active() {
        return Ok(());
    }
    if !spec.has(Namespace::User) {
        let (u, g) = crate::spawn::userns::rootless_maps();
        spec.namespaces.push(Namespace::User);
        spec.uid_map = u;
        spec.gid_map = g;
    }
    if !spec.has(Namespace::Network) {
        for m in spec.mounts.iter_mut().filter(|m| m.kind == "sysfs") {
            m.kind = String::from("bind");
            m.source = String::from("/sys");
            m.options = ["rbind", "nosuid", "noexec", "nodev", "ro"]
                .map(String::from)
                .to_vec();
        }
    }
    Ok(())
}
