//! Signals to a running container: through a pidfd opened and checked
//! against the record's start time, so a reused pid is never signalled.

use crate::error::{Error, Result};
use crate::state::record::{alive, wait_pidfd};
use crate::state::{Record, Status, Store, events};
use crate::sys::{proc, time::sleep_ms};

/// Send `sig` to the container's init; docker's "is not running" (1) if
/// it does not run. A frozen process acts on no signal, SIGKILL included,
/// until it is thawed: a paused container is resumed after a SIGKILL, as
/// docker's daemon does, so that it dies.
pub fn kill(store: &Store, rec: &Record, sig: i32) -> Result<()> {
    if rec.running() {
        super::mark_stopped(store, rec)?;
    }
    let fd = rec
        .pidfd()
        .ok_or_else(|| Error::bad("container", rec.name.clone(), "is not running").with_code(1))?;
    proc::pidfd_send_signal(&fd, sig).map_err(|e| Error::sys("signal", rec.name.clone(), e))?;
    events::emit(store, rec, "kill", &[("signal", alloc::format!("{sig}"))]);
    if sig == libc::SIGKILL && rec.paused {
        let _ = super::resume(store, rec);
    }
    Ok(())
}

/// SIGTERM, then SIGKILL after `secs`; returns once the end is recorded.
/// A container that does not run is left as it is.
pub fn stop(store: &Store, rec: &Record, secs: Option<i64>) -> Result<()> {
    // The container's own stop signal and grace (--stop-signal, the
    // image's STOPSIGNAL, --stop-timeout) unless the caller gives one.
    let secs = secs.or(rec.stop_timeout).unwrap_or(10);
    let first = match rec.stop_signal {
        0 => libc::SIGTERM,
        s => s,
    };
    // Before the signal: its monitor must not start it again (nor, if it
    // is waiting to, start it at all).
    super::mark_stopped(store, rec)?;
    if let Some(fd) = rec.pidfd() {
        // A frozen container cannot act on SIGTERM: thaw it first.
        if rec.paused {
            let _ = super::resume(store, rec);
        }
        let _ = proc::pidfd_send_signal(&fd, first);
        events::emit(store, rec, "kill", &[("signal", alloc::format!("{first}"))]);
        if !wait_pidfd(&fd, secs.saturating_mul(1000).min(i32::MAX as i64) as i32) {
            let _ = proc::pidfd_send_signal(&fd, libc::SIGKILL);
            events::emit(
                store,
                rec,
                "kill",
                &[("signal", alloc::format!("{}", libc::SIGKILL))],
            );
            wait_pidfd(&fd, -1);
        }
        settle(store, &rec.id);
        events::emit(store, rec, "stop", &[]);
    }
    Ok(())
}

/// Wait (a while) for the process that waits for the container to record
/// its end, so a command that returns after stop/kill shows the truth.
pub fn settle(store: &Store, id: &str) -> Option<Record> {
    // The monitor records within milliseconds of the exit; the bound is
    // for a machine under heavy load.
    for _ in 0..1000 {
        match store.load(id) {
            Ok(r) if r.status != Status::Running => return Some(r),
            Ok(r) if !alive(r.monitor_pid, r.monitor_start) => return Some(store.live(r)),
            Err(_) => return None,
            _ => sleep_ms(10),
        }
    }
    store.load_live(id).ok()
}
