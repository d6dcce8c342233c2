//! `start`: run a created container, in the foreground (this process
//! waits, relays signals and the terminal, and records the end) or
//! detached (a monitor does that); and start a stopped one again.

use super::monitor;
use crate::error::{Error, Result};
use crate::spawn::{parent, relay};
use crate::spec::Spec;
use crate::state::{Record, Status, Store};
use crate::sys::proc;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attach {
    /// This process is the container's parent until it exits; the
    /// container's status is returned.
    Foreground,
    /// A monitor is; returns once the container runs (status 0).
    Detached,
}

/// Start the container `rec` (just created) with its Spec.
pub fn start(store: &Store, rec: &Record, spec: &Spec, how: Attach) -> Result<i32> {
    match how {
        Attach::Detached => monitor::detach(store, &rec.id, spec).map(|()| 0),
        Attach::Foreground => foreground(store, &rec.id, spec),
    }
}

/// Run attached: pocket itself is the container's parent and records its
/// start and exit, like the monitor does for -d.
fn foreground(store: &Store, id: &str, spec: &Spec) -> Result<i32> {
    // Recording is best effort here: a state dir that went away must not
    // stop or orphan a running foreground container.
    let mut r = match parent::start(spec, parent::INHERIT) {
        Ok(r) => r,
        Err(e) => {
            let _ = super::finish(store, id, Status::Created, e.code);
            return Err(e);
        }
    };
    let _ = store.started(id, r.pid);
    let code = relay::run(r.pid, &r.sfd, r.master.as_ref(), spec.io.stdin);
    r.cleanup();
    drop(r);
    let _ = super::finish(store, id, Status::Exited, *code.as_ref().unwrap_or(&137));
    code
}

/// Start a stopped (or never started) container again, detached, with
/// the Spec it was made with (docker's `start`). One that runs, or that
/// another pocket is starting right now, is left alone.
pub fn restart_detached(store: &Store, q: &str) -> Result<()> {
    let id = store.resolve(q)?;
    {
        let _l = store.lock(&id)?;
        let mut rec = store.load_live(&id)?;
        // Two starts must not make two containers.
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
        rec.paused = false;
        rec.logged = true;
        store.save(&rec)?;
    }
    let mut spec = store.spec(&id)?;
    if let Some(other) = spec.net_container.clone() {
        // Its namespace as it is now: the other container must run.
        let rec = store.load_live(&other)?;
        if rec.status != Status::Running {
            return Err(Error::bad(
                "cannot join network of a non running container",
                other,
                "start it first",
            ));
        }
        spec.netns_owner = Some((rec.pid, rec.pid_start));
    }
    monitor::detach(store, &id, &spec)
}
