//! The container core: one container's life, for every front end (the
//! docker-like CLI now, the OCI runtime CLI next). A front end parses,
//! builds a Spec, calls these and prints; it never claims addresses,
//! mounts, locks or removes files itself.
//!
//! The life is OCI's: `create` makes the record (creating -> created),
//! `start` runs it (running), its end is recorded by whoever waits for
//! it (stopped; docker says "exited"), `pause`/`resume` freeze it, and
//! `delete` is the one removal sequence every way out goes through (`rm`,
//! `--rm`, `container prune`, OCI `delete`).

pub mod attach;
mod create;
mod delete;
mod freeze;
pub mod health;
pub mod hosts;
pub mod monitor;
pub mod network;
pub mod restart;
mod signal;
mod start;

pub use create::{Options, create, init_layer};
pub use delete::{delete, delete_with, finish, finish_or_restart, kill_all, mark_stopped, prune};
pub use freeze::{pause, resume};
pub use signal::{kill, settle, stop};
pub use start::{
    Attach, boot, restart_detached, restart_session, start, start_attached, start_session,
};

use crate::error::{Error, Result};
use crate::state::{Record, Store};

/// The container `q` names (id, id prefix or name), its record as it is
/// now (a dead monitor's "running" reads as exited).
pub fn state(store: &Store, q: &str) -> Result<Record> {
    let id = store.resolve(q)?;
    store.load_live(&id)
}

/// The record of a running container, or docker's "is not running" (1).
pub fn running(store: &Store, q: &str) -> Result<Record> {
    let rec = state(store, q)?;
    if !rec.running() {
        return Err(Error::bad("container", rec.name.clone(), "is not running").with_code(1));
    }
    Ok(rec)
}

/// Run `e` in the running container `q` (docker's and OCI's `exec`);
/// returns the command's status (0 at once for a detached one).
pub fn exec(store: &Store, q: &str, e: &crate::spawn::exec::Exec) -> Result<i32> {
    let id = store.resolve(q)?;
    let rec = store.load(&id)?;
    // Running, or (OCI) created with its init waiting: runc execs into
    // both. Whatever the record says, its init must be alive, and the
    // pidfd must be that process's: one look at /proc after the open.
    let pidfd = crate::sys::proc::pidfd_open(rec.pid)
        .ok()
        .filter(|_| crate::sys::procfs::alive(rec.pid, rec.pid_start))
        .ok_or_else(|| Error::bad("container", rec.name.clone(), "is not running").with_code(1))?;
    if rec.paused {
        return Err(
            Error::bad("container", rec.name.clone(), "is paused, unpause it first").with_code(1),
        );
    }
    crate::spawn::exec::exec(rec.pid, &pidfd, rec.cgroups.as_deref(), e)
}

/// Container `q`'s monitor (pid, start time) while it runs, as root: it
/// runs from a sealed view of pocket an `exec` may borrow
/// (`sys::exe::sealed_twin` checks it is still that process).
pub fn monitor_of(store: &Store, q: &str) -> Option<(i32, u64)> {
    if crate::sys::proc::geteuid() != 0 {
        return None;
    }
    let rec = store.load(&store.resolve(q).ok()?).ok()?;
    let running = rec.status == crate::state::record::Status::Running;
    (running && rec.monitor_pid > 0).then_some((rec.monitor_pid, rec.monitor_start))
}

/// New limits for container `q` (docker's `update`, OCI `update`): merged
/// over the ones it has, fitted to the host (docker's warnings returned),
/// written to its cgroup at once if it runs, and kept in its Spec.
pub fn update(store: &Store, q: &str, new: &crate::cgroup::Resources) -> Result<()> {
    let id = store.resolve(q)?;
    let _l = store.lock(&id)?;
    let mut spec = store.spec(&id)?;
    let merged = crate::cgroup::resources::merge(&spec.resources, new);
    let rec = store.load(&id)?;
    // Its cgroup is live while its init is (an OCI created one too).
    if (rec.running() || crate::sys::procfs::alive(rec.pid, rec.pid_start))
        && let Some(path) = &spec.cgroups_path
    {
        let host = crate::cgroup::host();
        crate::cgroup::open(&host.layout, path)?.apply(&merged, &host.support, true)?;
    }
    spec.resources = merged;
    store.save_spec(&id, &spec)
}
