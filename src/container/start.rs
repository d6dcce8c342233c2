//! `start`: run a created container, in the foreground (this process
//! waits, relays signals and the terminal, and records the end) or
//! detached (a monitor does that); and start a stopped one again.

use super::monitor;
use crate::error::{Context, Error, Result};
use crate::spawn::{parent, relay};
use crate::spec::Spec;
use crate::state::{Record, Status, Store};
use crate::sys::fd::Fd;
use crate::sys::proc;
use alloc::string::String;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attach {
    /// This process is the container's parent until it exits; the
    /// container's status is returned.
    Foreground,
    /// A monitor is; returns once the container runs (status 0).
    Detached,
    /// Foreground, with only some of stdout and stderr shown here
    /// (docker's `run -a`): the others go to the log only.
    Streams { stdout: bool, stderr: bool },
}

/// Start the container `rec` (just created) with its Spec; in the
/// foreground, its command through `dmz` if given (`run` not sealed:
/// spawn/dmz.rs `fits_run`).
pub fn start(
    store: &Store,
    rec: &Record,
    spec: &Spec,
    how: Attach,
    dmz: Option<&crate::sys::fd::Fd>,
) -> Result<i32> {
    match how {
        Attach::Detached => monitor::detach(store, &rec.id, spec).map(|()| 0),
        Attach::Foreground => foreground(store, rec, spec, [true, true], dmz),
        Attach::Streams { stdout, stderr } => foreground(store, rec, spec, [stdout, stderr], dmz),
    }
}

/// Run attached: pocket itself is the container's parent and records its
/// start and exit, like the monitor does for -d. `rec`: its record as
/// this process made or claimed it.
fn foreground(
    store: &Store,
    rec: &Record,
    spec: &Spec,
    show: [bool; 2],
    dmz: Option<&crate::sys::fd::Fd>,
) -> Result<i32> {
    let id = rec.id.as_str();
    // Its output goes to the log as well (docker keeps a foreground run's
    // log), unless nobody could read it: --rm, or --log-driver none.
    let keep = Some(rec)
        .filter(|r| !r.auto_remove && r.log.enabled())
        .and_then(|r| {
            let p = alloc::ffi::CString::new(store.log_path(id)).ok()?;
            crate::state::log::Writer::open(&p, &r.log).ok()
        });
    // A stream not shown (run -a) goes through pocket too, to be dropped:
    // a log that keeps nothing then.
    let hidden = !show[0] || !show[1];
    let keep = match (keep, hidden) {
        (None, true) => crate::state::log::Writer::open(
            c"/dev/null",
            &crate::state::log::Config {
                driver: String::from("none"),
                opts: alloc::vec::Vec::new(),
            },
        )
        .ok(),
        (k, _) => k,
    };
    let pipes = match (&keep, spec.process.terminal) {
        (Some(_), false) => crate::sys::fd::pipe().ok().zip(crate::sys::fd::pipe().ok()),
        _ => None,
    };
    let output = match &pipes {
        Some(((_, ow), (_, ew))) => parent::Output {
            stdout: ow.raw(),
            stderr: ew.raw(),
        },
        None => parent::INHERIT,
    };
    // Recording is best effort here: a state dir that went away must not
    // stop or orphan a running foreground container.
    let started = match dmz {
        Some(d) => parent::start_through(spec, output, d),
        None => parent::start(spec, output),
    };
    let (out_r, err_r) = match pipes {
        Some(((or, _ow), (er, _ew))) => (Some(or), Some(er)),
        None => (None, None),
    };
    let mut r = match started {
        Ok(r) => r,
        Err(e) => {
            let _ = super::finish(store, id, Status::Created, e.code);
            return Err(e);
        }
    };
    let health = match store.started(id, r.pid, crate::cgroup::files_of(r.pid)) {
        Ok(rec) => {
            crate::state::events::emit(store, &rec, "start", &[]);
            rec.healthcheck.and_then(|c| {
                super::health::starting(store, id);
                super::health::watch(store, id, spec, &c, r.pid).ok()
            })
        }
        Err(_) => None,
    };
    let mut log = keep;
    let mut tee = log.as_mut().map(|l| relay::Tee {
        out: out_r,
        err: err_r,
        log: Some(l),
        show,
        input: None,
    });
    let code = relay::run_tee(
        r.pid,
        &r.sfd,
        r.master.as_ref(),
        spec.io.stdin,
        tee.as_mut(),
    );
    drop(tee);
    super::health::unwatch(health);
    super::monitor::oom_check(store, id, &r);
    r.cleanup();
    drop(r);
    // Its restart policy goes on without us (docker's CLI returns too,
    // and the daemon restarts it): a monitor takes over.
    if let Ok(true) = super::finish_or_restart(store, id, *code.as_ref().unwrap_or(&137), spec) {
        let _ = monitor::detach_after(store, id, spec, super::restart::FIRST_MS);
    }
    code
}

/// Start `rec` (just created) detached, the caller attached from the
/// start (a foreground `run -it`): the caller's end of the socket to its
/// monitor (attach.rs) is returned. A terminal gets this one's size.
pub fn start_session(store: &Store, rec: &Record, spec: &Spec) -> Result<Fd> {
    let mut spec = spec.clone();
    sized(&mut spec);
    let (mine, theirs) = crate::sys::sock::stream_pair().ctx("socketpair", "attach")?;
    monitor::detach_attached(store, &rec.id, &spec, theirs)?;
    Ok(mine)
}

/// `start -a -i` of a container made with -it, from a terminal: as
/// `start_session`, for a created or stopped one. None if it runs.
pub fn restart_session(store: &Store, q: &str) -> Result<Option<(String, Fd)>> {
    let Some((rec, mut spec)) = claim(store, q, true)? else {
        return Ok(None);
    };
    sized(&mut spec);
    let (mine, theirs) = crate::sys::sock::stream_pair().ctx("socketpair", "attach")?;
    monitor::detach_attached(store, &rec.id, &spec, theirs)?;
    Ok(Some((rec.id, mine)))
}

/// The monitor has no terminal: the container's starts with this one's
/// size, unless its spec says one.
fn sized(spec: &mut Spec) {
    if spec.process.terminal
        && spec.process.console_size.is_none()
        && let Ok(w) = crate::sys::tty::get_winsize(0)
    {
        spec.process.console_size = Some((w.ws_row, w.ws_col));
    }
}

/// `pocket boot`: after the host (re)started, start the containers whose
/// restart policy says they come back (always; unless-stopped unless
/// stopped by hand), as docker's daemon does when it starts. Returns
/// each one tried, with how its start went.
pub fn boot(store: &Store) -> Result<alloc::vec::Vec<(String, Result<()>)>> {
    let mut out = alloc::vec::Vec::new();
    // After a reboot: what --rm and OCI containers left goes.
    let _ = store.gc();
    for rec in store.list()? {
        let r = store.live(rec);
        if r.status == Status::Running || r.busy() || r.restarting {
            continue;
        }
        if r.restart.at_boot(r.manual_stop) {
            let started = restart_detached(store, &r.id);
            out.push((r.name, started));
        }
    }
    Ok(out)
}

/// Start a stopped (or never started) container again, detached, with
/// the Spec it was made with (docker's `start`). One that runs, or that
/// another pocket is starting right now, is left alone.
pub fn restart_detached(store: &Store, q: &str) -> Result<()> {
    match claim(store, q, true)? {
        Some((rec, spec)) => monitor::detach(store, &rec.id, &spec),
        None => Ok(()),
    }
}

/// Start a created or stopped container in the foreground, this process
/// its parent (docker's `start -a`): its output here, its exit status
/// returned. One that runs already cannot be attached to: refused.
pub fn start_attached(store: &Store, q: &str) -> Result<i32> {
    match claim(store, q, false)? {
        Some((rec, spec)) => foreground(store, &rec, &spec, [true, true], None),
        None => Err(Error::bad(
            "start -a",
            String::from(q),
            "the container is running; pocket cannot attach to it (pocket logs -f follows it)",
        )
        .with_code(1)),
    }
}

/// The namespaces a start joins, as their owners are now: `--net
/// container:X`'s (it must run) and `--pid/--ipc container:X`'s.
pub(super) fn refresh_joins(store: &Store, spec: &mut Spec) -> Result<()> {
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
    super::create::join_namespaces(store, spec)
}

/// Take a container that does not run for this process to start: its
/// record as claimed and its Spec; None if it runs (or another pocket is
/// starting it). `logged`: its output goes to the log (a monitor's start).
fn claim(store: &Store, q: &str, logged: bool) -> Result<Option<(Record, Spec)>> {
    let id = store.resolve(q)?;
    let rec = {
        let _l = store.lock(&id)?;
        let mut rec = store.load_live(&id)?;
        // Two starts must not make two containers.
        if rec.status == Status::Running || rec.busy() || rec.restarting {
            return Ok(None);
        }
        // Claim it: this process is in charge until the monitor takes
        // over, so a concurrent start (or prune) sees it busy.
        let me = proc::getpid();
        rec.monitor_pid = me;
        rec.monitor_start = crate::state::record::start_time(me).unwrap_or(0);
        rec.status = Status::Created;
        rec.exit_code = None;
        rec.paused = false;
        rec.logged = logged;
        // Started by hand: its restart policy applies again, afresh.
        rec.manual_stop = false;
        rec.restart_count = 0;
        store.save_starting(&rec)?;
        rec
    };
    // Claimed: from here a failure must say so, or `wait` would wait for
    // a start that never comes.
    let spec = store.spec(&id).and_then(|mut spec| {
        refresh_joins(store, &mut spec)?;
        Ok(spec)
    });
    let spec = match spec {
        Ok(s) => s,
        Err(e) => {
            let _ = super::finish(store, &id, Status::Created, e.code);
            return Err(e);
        }
    };
    Ok(Some((rec, spec)))
}
