//! `pause` / `resume`: every process of the container stopped by its
//! cgroup's freezer (v1 `freezer.state`, v2 `cgroup.freeze`), as docker
//! and runc do; signals wait until it is thawed.

use crate::error::{Error, Result};
use crate::state::{Record, Store};

fn group(store: &Store, rec: &Record) -> Result<crate::cgroup::Cgroup> {
    let spec = store.spec(&rec.id)?;
    let path = spec
        .cgroups_path
        .ok_or_else(|| Error::bad("container", rec.name.clone(), "has no cgroup"))?;
    crate::cgroup::open(crate::cgroup::layout(), &path)
}

/// Freeze a running container (docker `pause`): refused, with docker's
/// words, if it does not run or is paused already.
pub fn pause(store: &Store, rec: &Record) -> Result<()> {
    let _l = store.lock(&rec.id)?;
    let mut rec = store.load_live(&rec.id)?;
    if !rec.running() {
        return Err(Error::bad("container", rec.id.clone(), "is not running").with_code(1));
    }
    if rec.paused {
        return Err(Error::bad("container", rec.id.clone(), "is already paused").with_code(1));
    }
    group(store, &rec)?.freeze(true)?;
    rec.paused = true;
    store.save(&rec)?;
    crate::state::events::emit(store, &rec, "pause", &[]);
    Ok(())
}

/// Thaw a paused container (docker `unpause`).
pub fn resume(store: &Store, rec: &Record) -> Result<()> {
    let _l = store.lock(&rec.id)?;
    let mut rec = store.load_live(&rec.id)?;
    if !rec.paused || !rec.running() {
        return Err(Error::bad("container", rec.id.clone(), "is not paused").with_code(1));
    }
    group(store, &rec)?.freeze(false)?;
    rec.paused = false;
    store.save(&rec)?;
    crate::state::events::emit(store, &rec, "unpause", &[]);
    Ok(())
}
