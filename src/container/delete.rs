//! The one removal sequence, for `rm`, `--rm`, `container prune` and OCI
//! `delete`: stop what still runs (when forced), wait for the process that
//! waits for it, then remove the cgroup, the anonymous volumes (if asked),
//! the record and name, and give back the network's address and ports.

use crate::error::{Error, Result};
use crate::net::networks;
use crate::rt::time::now;
use crate::spec::Spec;
use crate::state::record::{alive, wait_pidfd};
use crate::state::{Record, Status, Store, events, volumes};
use crate::sys::{proc, time::sleep_ms};
use alloc::string::String;
use alloc::vec::Vec;

/// Remove container `q`. A running one only when `force` (killed first),
/// as docker's `rm -f`; `volumes`: its anonymous volumes too (`rm -v`).
pub fn delete(store: &Store, q: &str, force: bool, volumes: bool) -> Result<()> {
    delete_with(store, q, force, volumes, None)
}

/// `delete`, given the container's Spec when the caller has already read
/// it (parsing it is most of what removal costs).
pub fn delete_with(
    store: &Store,
    q: &str,
    force: bool,
    volumes: bool,
    spec: Option<Spec>,
) -> Result<()> {
    let id = store.resolve(q)?;
    let mut rec = store.load_live(&id)?;
    // Being started by another pocket: let it finish (a few ms), so the
    // start cannot run a container whose record is gone.
    for _ in 0..300 {
        if rec.status == Status::Running || !rec.busy() {
            break;
        }
        sleep_ms(10);
        rec = store.load_live(&id)?;
    }
    if rec.restarting {
        if !force {
            return Err(Error::bad(
                "cannot remove container",
                rec.name.clone(),
                "container is restarting: stop the container before removing or force remove",
            ));
        }
        // Its monitor gives up the restart within one of its naps.
        mark_stopped(store, &rec)?;
    }
    if let Some(fd) = rec.pidfd() {
        if !force {
            return Err(Error::bad(
                "cannot remove container",
                rec.name.clone(),
                "container is running: stop it first or use rm -f",
            ));
        }
        // Its restart policy must not bring it back meanwhile.
        mark_stopped(store, &rec)?;
        let _ = proc::pidfd_send_signal(&fd, libc::SIGKILL);
        // Frozen, it would never die: thaw it.
        if rec.paused {
            let _ = super::resume(store, &rec);
        }
        wait_pidfd(&fd, -1);
        crate::rt::crash::step("rm: killed");
    }
    // The monitor goes once its container has: wait for it, so nothing of
    // the container is left running when this returns. On its pidfd (a
    // nap of 10 ms was most of an `rm -f`), checked to be that process.
    let monitor = proc::pidfd_open(rec.monitor_pid)
        .ok()
        .filter(|_| alive(rec.monitor_pid, rec.monitor_start));
    match monitor {
        Some(fd) => {
            wait_pidfd(&fd, 3000);
        }
        None => {
            for _ in 0..300 {
                if !alive(rec.monitor_pid, rec.monitor_start) {
                    break;
                }
                sleep_ms(10);
            }
        }
    }
    // A --rm container is removed by its monitor once it ends: gone
    // meanwhile is what was asked (docker's rm -f of one succeeds).
    let _l = match store.lock(&rec.id) {
        Err(_) if rec.auto_remove && store.load(&rec.id).is_err() => return Ok(()),
        l => l?,
    };
    let rec = match store.load(&rec.id) {
        Err(_) if rec.auto_remove => return Ok(()),
        r => r?,
    };
    let spec = spec.or_else(|| store.spec(&rec.id).ok());
    remove_with(store, &rec, volumes, spec.as_ref(), true)
}

/// `rm -f` of many: SIGKILL every running one first, so their exits (the
/// kernel's teardown of their namespaces) overlap instead of adding up;
/// each is then removed as `delete` does. Best effort: `delete` reports.
/// Returns those of `qs` made with --rm: their monitors remove them, so
/// "no such container" for one of them afterwards is what was asked.
pub fn kill_all<'a>(store: &Store, qs: &[&'a str]) -> Vec<&'a str> {
    let mut auto = Vec::new();
    for q in qs {
        let Ok(id) = store.resolve(q) else { continue };
        let Ok(rec) = store.load_live(&id) else {
            continue;
        };
        if let Some(fd) = rec.pidfd() {
            let _ = mark_stopped(store, &rec);
            let _ = proc::pidfd_send_signal(&fd, libc::SIGKILL);
            if rec.paused {
                let _ = super::resume(store, &rec);
            }
            if rec.auto_remove {
                auto.push(*q);
            }
        }
    }
    auto
}

/// Everything of a container that is not running (the caller holds its
/// lock, or it never ran): its cgroup (left by a SIGKILLed monitor), the
/// anonymous volumes if `volumes`, the record, and its network's address
/// and ports. Also what pockets killed between claiming an address and
/// writing their record left: no record can appear for those any more.
pub(super) fn remove(store: &Store, rec: &Record, volumes: bool) -> Result<()> {
    remove_with(store, rec, volumes, store.spec(&rec.id).ok().as_ref(), true)
}

/// `remove`, given the container's Spec; `cgroup`: its cgroup may be
/// left (not if whoever waited for it removed it).
fn remove_with(
    store: &Store,
    rec: &Record,
    volumes: bool,
    spec: Option<&Spec>,
    cgroup: bool,
) -> Result<()> {
    if let Some(path) = spec
        .and_then(|s| s.cgroups_path.as_deref())
        .filter(|_| cgroup)
        && let Ok(cg) = crate::cgroup::open(crate::cgroup::layout(), path)
    {
        let _ = cg.remove();
        crate::rt::crash::step("rm: cgroup removed");
    }
    let anon = match (volumes, spec) {
        (true, Some(s)) => volumes::anonymous(&store.root, s),
        _ => Vec::new(),
    };
    let had_net = spec.is_some_and(|s| s.net.is_some() || !s.extra_nets.is_empty());
    store.remove(rec)?;
    crate::rt::crash::step("rm: record removed");
    events::emit(store, rec, "destroy", &[]);
    volumes::remove_unused(store, &anon);
    if had_net {
        crate::net::host::release(&store.root, &store.run, &rec.id, |c| store.load(c).is_ok())?;
        super::hosts::resync(store);
    }
    Ok(())
}

/// The container ended (`Exited`), or never started (`Created`, with
/// pocket's exit code): record it, or remove it if it was made with --rm.
/// Called by whoever waited for it: the monitor or the foreground pocket.
pub fn finish(store: &Store, id: &str, status: Status, code: i32) -> Result<()> {
    end(store, id, status, code, None).map(|_| ())
}

/// `finish` for a run that ended with `code`, by the process that will
/// start it again if its restart policy says so: true when it must (the
/// record says "restarting", this process in charge). `ran`: the Spec it
/// ran, its cgroup removed (`spawn::Running::cleanup`): a --rm container
/// is removed without reading its config.json again (what removal takes
/// of it, cgroup, volumes and networks, no `update` changes, and `network
/// connect` refuses a container that started on no bridge).
pub fn finish_or_restart(store: &Store, id: &str, code: i32, ran: &Spec) -> Result<bool> {
    end(store, id, Status::Exited, code, Some(ran))
}

fn end(store: &Store, id: &str, status: Status, code: i32, ran: Option<&Spec>) -> Result<bool> {
    let policy = ran.is_some();
    let _l = store.lock(id)?;
    let mut rec = store.load(id)?;
    if status == Status::Exited {
        events::emit(
            store,
            &rec,
            "die",
            &[("exitCode", alloc::format!("{code}"))],
        );
    }
    if rec.auto_remove {
        return match ran {
            Some(s) => remove_with(store, &rec, true, Some(s), false),
            None => remove(store, &rec, true),
        }
        .map(|()| false);
    }
    rec.status = status;
    rec.exit_code = Some(code);
    rec.paused = false;
    if status == Status::Exited {
        rec.finished_at = now();
    }
    let again = policy
        && rec
            .restart
            .restarts(code, rec.restart_count, rec.manual_stop);
    if again {
        let me = proc::getpid();
        rec.restarting = true;
        rec.restart_count = rec.restart_count.saturating_add(1);
        rec.monitor_pid = me;
        rec.monitor_start = crate::state::record::start_time(me).unwrap_or(0);
    }
    // How it ended outlives a reboot (and so does a restart's count).
    store.save_durable(&rec)?;
    Ok(again)
}

/// Stopped or killed by hand: the restart policy lets it be (until it is
/// started again), and a monitor waiting to restart it gives up.
pub fn mark_stopped(store: &Store, rec: &Record) -> Result<()> {
    if rec.restart == super::restart::Policy::No {
        return Ok(());
    }
    let _l = store.lock(&rec.id)?;
    let mut rec = store.load(&rec.id)?;
    rec.manual_stop = true;
    rec.restarting = false;
    // `boot` must not start it again (unless-stopped).
    store.save_durable(&rec)
}

/// `container prune`: every container that is not running (nor being
/// started), and what killed pockets left (name links, half-made
/// directories, addresses without a record). Returns the removed ids.
pub fn prune(store: &Store) -> Result<Vec<String>> {
    store.gc()?;
    let any = networks::list(&store.root).is_ok_and(|l| !l.is_empty());
    if any && let Ok(nets) = networks::Nets::lock(&store.root, &store.run) {
        let exists = |id: &str| store.load(id).is_ok();
        if nets.gc(exists).is_ok() {
            let _ = crate::net::host::sync(&nets);
        }
    }
    let mut out = Vec::new();
    for rec in store.list()? {
        if rec.live().status == Status::Running || rec.busy() {
            continue;
        }
        let Ok(_l) = store.lock(&rec.id) else {
            continue;
        };
        // Re-checked under the lock: it may have been started meanwhile.
        match store.load(&rec.id) {
            Ok(r) if r.live().status != Status::Running && !r.busy() => {
                remove(store, &r, false)?;
                out.push(r.id);
            }
            _ => {}
        }
    }
    Ok(out)
}
