//! The state store: one directory per container under `<root>/containers`
//! for what outlives a reboot, one under `<run>/containers` for what does
//! not, names as symlinks under `<root>/names`, locks under the run
//! directory. A *volatile* container (`--rm`, or an OCI runtime's: nothing
//! of it outlives a reboot) keeps all of it in its run directory, name
//! included, but what may be large: its overlay's upper and work dirs and
//! its log stay on the disk.
//!
//! ```text
//! <root>/containers/<id>/config.json   the Spec, as OCI config.json
//! <root>/containers/<id>/state.json    the durable Record: what a reboot
//!                                      leaves
//! <root>/containers/<id>/container.log docker json-file log
//! <root>/containers/<id>/...           hosts, resolv.conf, hostname,
//!                                      rootfs/ upper/ work/
//! <run>/containers/<id>/state.json     the live Record: pids, status
//! <run>/containers/<id>/health.json    the health check's last results
//! <run>/containers/<id>/exec.fifo      an OCI init waits on it
//! <run>/containers/<id>/config.json    a volatile container's Spec (and
//!                                      hosts... rootfs/ beside it): the
//!                                      mark of one
//! <root>/names/<name> -> <id>          one symlink per name: symlink(2) is atomic
//! <run>/names/<name> -> <id>           a volatile container's name
//! <run>/names.lock                     flock(2) while a name is claimed
//! ```
//!
//! `<run>` is /run/pocket (a tmpfs, as runc's /run/runc), or `<root>/run`
//! with `--root`, where a tmpfs may be mounted. The live Record changes on
//! every start, stop and pause; on a journaled disk each file created or
//! renamed costs a third of a millisecond, on tmpfs next to nothing. The
//! durable copy is written at create and when something that must outlive
//! a reboot changes (an exit, a rename, a manual stop, a network joined or
//! left, a start by hand), never when a run begins: it is written as a
//! reboot would leave it, so a container that a reboot stops reads
//! "exited" from it. After a reboot `<run>` is empty and `load` reads the
//! durable copy: no pid in it means anything any more.
//!
//! A container's directory (`dir`: under `<root>/containers`, or for a
//! volatile one its run directory) exists as long as it does (`ids`,
//! names and the container's flock go by it); a durable container's run
//! directory appears first at create and goes first at removal. A disk
//! directory with neither copy of the record is what a reboot left of a
//! volatile container (its upper dir, its log) or a removal killed
//! halfway: `gc` clears it (`pocket boot` runs it first, `container
//! prune` too). A rootless
//! pocket's `<run>` is $XDG_RUNTIME_DIR/pocket where it is set (a tmpfs).
//!
//! What still goes to the disk for a `run --rm`: nothing with `--rootfs`;
//! from an image, a directory with the overlay's upper and work dirs (each
//! file or directory created on ext4 costs ~0.1-0.2 ms here).

use super::record::Record;
use crate::error::{Context, Error, Result};
use crate::spec::{Spec, oci};
use crate::sys::fd::{self, Fd};
use crate::sys::{Errno, fs, mount, proc};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

pub const DEFAULT_ROOT: &str = "/var/lib/pocket";
pub const DEFAULT_RUN: &str = "/run/pocket";

pub struct Store {
    pub root: String,
    pub run: String,
}

pub use crate::error::cpath as cs;
pub use crate::sys::lock::Lock;

/// The lock file `<run>/<name>.lock`, taken.
pub fn lock_file(run: &str, name: &str) -> Result<Lock> {
    let path = format!("{run}/{name}.lock");
    Lock::file(&cs(&path)?).ctx("flock", &path)
}

impl Store {
    /// `--root DIR` (or POCKET_ROOT) keeps everything, locks included,
    /// below DIR, so tests and users can run side by side.
    pub fn new(root: Option<&str>) -> Store {
        match root {
            Some(r) => Store {
                root: String::from(r.trim_end_matches('/')),
                run: format!("{}/run", r.trim_end_matches('/')),
            },
            None => Store {
                root: String::from(DEFAULT_ROOT),
                run: String::from(DEFAULT_RUN),
            },
        }
    }

    /// Create the directories (mode 0700, narrowed if wider: records name
    /// host paths, and container dirs hold what containers wrote).
    pub fn init(&self) -> Result<()> {
        for d in [
            format!("{}/containers", self.root),
            format!("{}/names", self.root),
            self.run.clone(),
            format!("{}/containers", self.run),
            format!("{}/names", self.run),
        ] {
            fs::mkdir_private(&d).ctx("mkdir", &d)?;
        }
        Ok(())
    }

    /// Container `id`'s directory: its Spec, /etc files and root mount
    /// point, and what of it outlives a reboot. Its run directory for a
    /// volatile one (the only kind with a config.json there).
    pub fn dir(&self, id: &str) -> String {
        let run = self.run_dir(id);
        let volatile =
            cs(&format!("{run}/config.json")).is_ok_and(|c| fd::access(&c, libc::F_OK).is_ok());
        match volatile {
            true => run,
            false => self.disk_dir(id),
        }
    }

    /// `dir` of a container being made: `volatile` as `volatile` says.
    pub fn dir_for(&self, id: &str, volatile: bool) -> String {
        match volatile {
            true => self.run_dir(id),
            false => self.disk_dir(id),
        }
    }

    /// Where container `id` keeps what may be large: its log and overlay
    /// dirs (`dir` too, unless it is volatile).
    pub fn disk_dir(&self, id: &str) -> String {
        format!("{}/containers/{}", self.root, id)
    }

    /// Where the name links of volatile (or durable) containers are.
    fn names(&self, volatile: bool) -> String {
        match volatile {
            true => format!("{}/names", self.run),
            false => format!("{}/names", self.root),
        }
    }

    /// What of container `id` a reboot ends: its live record, health
    /// results, an OCI init's exec fifo.
    pub fn run_dir(&self, id: &str) -> String {
        format!("{}/containers/{}", self.run, id)
    }

    pub fn log_path(&self, id: &str) -> String {
        format!("{}/container.log", self.disk_dir(id))
    }

    /// `lock_file` in the run directory, made first if a reboot emptied
    /// it (a tmpfs mounted afresh).
    pub fn lock_file(&self, name: &str) -> Result<Lock> {
        match lock_file(&self.run, name) {
            Err(_) if fd::access(&cs(&self.run)?, libc::F_OK) == Err(Errno::ENOENT) => {
                fs::mkdir_private(&self.run).ctx("mkdir", &self.run)?;
                lock_file(&self.run, name)
            }
            r => r,
        }
    }

    /// Serialize changes to one container (monitor vs rm vs start): a
    /// flock on its directory, so a removed container leaves no lock file
    /// and whoever comes late finds it gone (ENOENT). The durable one: it
    /// is there for every container, after a reboot too, and opening it
    /// writes nothing to the disk.
    pub fn lock(&self, id: &str) -> Result<Lock> {
        let d = self.dir(id);
        let f = fd::open(&cs(&d)?, libc::O_RDONLY | libc::O_DIRECTORY, 0).map_err(|e| {
            if e == Errno::ENOENT {
                Error::bad("no such container", id, "removed").with_code(1)
            } else {
                Error::sys("open", d.clone(), e)
            }
        })?;
        Lock::on(f).ctx("flock", &d)
    }

    /// Make a new container: a fresh id, a unique name, its Spec and record.
    /// The name is claimed first (under the names lock), so two pockets can
    /// never hand out the same one; a name whose container is gone (pocket
    /// killed halfway) is free again. `starts`: it is started right away
    /// (`run`), so a reboot before its end is recorded leaves it exited,
    /// not created.
    pub fn create(
        &self,
        spec: &Spec,
        name: Option<&str>,
        mut rec: Record,
        starts: bool,
    ) -> Result<Record> {
        self.init()?;
        // The caller's id (docker's 64 hex, or an OCI container id the
        // front end checked), else a fresh one.
        let id = if rec.id.is_empty() {
            crate::rt::names::new_id()
        } else {
            rec.id.clone()
        };
        let volatile = !keeps(&rec);
        let names = self.names(volatile);
        let nd = fd::open(&cs(&names)?, libc::O_PATH | libc::O_DIRECTORY, 0).ctx("open", &names)?;
        let _l = self.lock_file("names")?;
        let name = match name {
            Some(n) => {
                if !crate::rt::names::valid(n) {
                    return Err(Error::bad(
                        "invalid container name",
                        n,
                        "only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                    ));
                }
                if let Some(owner) = self.name_owner(n)? {
                    return Err(Error::bad(
                        "conflict",
                        format!(
                            "the container name \"/{n}\" is already in use by container \"{owner}\""
                        ),
                        "remove or rename that container",
                    ));
                }
                String::from(n)
            }
            None => {
                let mut pick = None;
                for i in 0..64u64 {
                    let mut r = [0u8; 8];
                    let _ = proc::getrandom(&mut r);
                    let mut n = crate::rt::names::generate(u64::from_ne_bytes(r));
                    if i >= 32 {
                        n = format!("{n}{}", i);
                    }
                    if self.name_owner(&n)?.is_none() {
                        pick = Some(n);
                        break;
                    }
                }
                pick.ok_or_else(|| Error::bad("name", "", "could not generate a free name"))?
            }
        };
        let n_c = cs(&name)?;
        let _ = fs::unlinkat(nd.raw(), &n_c, 0);
        mount::symlinkat(&cs(&id)?, nd.raw(), &n_c).ctx("claim name", &name)?;
        rec.id = id.clone();
        rec.name = name.clone();
        // The live record first, then the container's directory: one that
        // shows in `ids` always has a record to read. Each is built under
        // a temporary name and renamed into place, complete or absent.
        // The pid in the name tells `gc` whether its maker still lives.
        // A volatile container's is one directory on tmpfs, record and
        // Spec together: an OCI runtime's state (`rec.bundle` set) is as
        // volatile as runc's (the engine keeps the bundle), and nothing of
        // a --rm container is left to show after a reboot.
        let run = self.run_dir(&id);
        let run_tmp = format!("{}/containers/.{}.tmp{}", self.run, id, proc::getpid());
        let tmp = format!("{}/containers/.{}.tmp{}", self.root, id, proc::getpid());
        let dir = self.disk_dir(&id);
        let made = (|| -> Result<()> {
            fs::mkdir(&cs(&run_tmp)?, 0o700).ctx("mkdir", &run_tmp)?;
            let t = cs(&run_tmp)?;
            fs::write_new(&t, "state.json", &to_json(&rec), 0o600, false)
                .ctx("write", "state.json")?;
            if volatile {
                fs::write_new(&t, "config.json", &oci::to_json(spec), 0o600, false)
                    .ctx("write", "config.json")?;
            }
            fs::renameat(libc::AT_FDCWD, &t, libc::AT_FDCWD, &cs(&run)?).ctx("rename", &run)?;
            if volatile {
                return Ok(());
            }
            fs::mkdir(&cs(&tmp)?, 0o700).ctx("mkdir", &tmp)?;
            let t = cs(&tmp)?;
            // Plain writes: nobody sees this directory until the rename.
            // The Spec outlives a reboot (start runs it again): durable.
            // Metadata operations cost a third of a millisecond each on a
            // journaled disk, so there are as few as can be.
            fs::write_new(&t, "config.json", &oci::to_json(spec), 0o600, true)
                .ctx("write", "config.json")?;
            let after = as_after_reboot(&rec, starts);
            fs::write_new(&t, "state.json", &to_json(&after), 0o600, false)
                .ctx("write", "state.json")?;
            fs::renameat(libc::AT_FDCWD, &t, libc::AT_FDCWD, &cs(&dir)?).ctx("rename", &dir)
        })();
        if let Err(e) = made {
            let _ = fs::remove_tree(libc::AT_FDCWD, &cs(&tmp)?);
            let _ = fs::remove_tree(libc::AT_FDCWD, &cs(&run_tmp)?);
            let _ = fs::remove_tree(libc::AT_FDCWD, &cs(&run)?);
            let _ = fs::unlinkat(nd.raw(), &n_c, 0);
            return Err(e);
        }
        Ok(rec)
    }

    /// Give container `id` the name `new` (docker `rename`). Under the
    /// names lock the new name is claimed first (a symlink, atomic), then
    /// the record says it (under the container's lock), then the old name
    /// goes: killed halfway, the container answers to both names until
    /// `gc`, never to none.
    pub fn rename(&self, id: &str, new: &str) -> Result<()> {
        if !crate::rt::names::valid(new) {
            return Err(Error::bad(
                "invalid container name",
                new,
                "only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
            ));
        }
        let _n = self.lock_file("names")?;
        let _c = self.lock(id)?;
        let mut rec = self.load(id)?;
        let names = self.names(!keeps(&rec));
        let nd = fd::open(&cs(&names)?, libc::O_PATH | libc::O_DIRECTORY, 0).ctx("open", &names)?;
        if rec.name == new {
            return Err(Error::text(String::from(
                "Renaming a container with the same name as its current name",
            ))
            .with_code(1));
        }
        if let Some(owner) = self.name_owner(new)?.filter(|o| o != id) {
            return Err(Error::bad(
                "conflict",
                format!("the container name \"/{new}\" is already in use by container \"{owner}\""),
                "remove or rename that container",
            )
            .with_code(1));
        }
        let n_c = cs(new)?;
        let _ = fs::unlinkat(nd.raw(), &n_c, 0);
        mount::symlinkat(&cs(id)?, nd.raw(), &n_c).ctx("claim name", new)?;
        let old = core::mem::replace(&mut rec.name, String::from(new));
        if let Err(e) = self.save_durable(&rec) {
            let _ = fs::unlinkat(nd.raw(), &n_c, 0);
            return Err(e);
        }
        let o = cs(&old)?;
        if fs::readlinkat(nd.raw(), &o).ok().as_deref() == Some(id.as_bytes()) {
            let _ = fs::unlinkat(nd.raw(), &o, 0);
        }
        Ok(())
    }

    /// The id that holds `name`, if its container still exists: a
    /// volatile one's name, else a durable one's.
    fn name_owner(&self, name: &str) -> Result<Option<String>> {
        for volatile in [true, false] {
            let names = self.names(volatile);
            let Ok(nd) = fd::open(&cs(&names)?, libc::O_PATH | libc::O_DIRECTORY, 0) else {
                continue;
            };
            if let Some(id) = self.owner_in(&nd, name)? {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }

    /// The id the link `name` in the names directory `names` points to,
    /// if that container still exists.
    fn owner_in(&self, names: &Fd, name: &str) -> Result<Option<String>> {
        match fs::readlinkat(names.raw(), &cs(name)?) {
            Ok(t) => {
                let id = String::from_utf8_lossy(&t).into_owned();
                let exists = fd::open(&cs(&self.dir(&id))?, libc::O_PATH, 0).is_ok();
                Ok(exists.then_some(id))
            }
            Err(Errno::ENOENT) => Ok(None),
            Err(e) => Err(Error::sys("readlink", name, e)),
        }
    }

    /// The live record, else (after a reboot emptied the run directory)
    /// the durable one, as a reboot leaves it (`after_reboot`).
    pub fn load(&self, id: &str) -> Result<Record> {
        let p = format!("{}/state.json", self.run_dir(id));
        let (p, data, rebooted) = match fs::read(&cs(&p)?) {
            Ok(d) => (p, d, false),
            Err(Errno::ENOENT) => {
                let p = format!("{}/state.json", self.disk_dir(id));
                match fs::read(&cs(&p)?) {
                    Ok(d) => (p, d, true),
                    // Removed since it was resolved (rm, --rm), or a --rm
                    // container a reboot ended: docker's word.
                    Err(Errno::ENOENT) => {
                        return Err(Error::bad("no such container", id, "removed").with_code(1));
                    }
                    Err(e) => return Err(Error::sys("read", p, e)),
                }
            }
            Err(e) => return Err(Error::sys("read", p, e)),
        };
        let mut rec = crate::json::parse(&data)
            .ok()
            .and_then(|v| Record::from_json(&v))
            .ok_or_else(|| Error::bad("state", p, "not a container record"))?;
        // A durable one without its container directory (create makes it
        // second; a pocket killed in between) is no container yet, as
        // `ids`, `ps` and the names see it: else the network claim it
        // holds would count as taken by an id no command can name or
        // remove. (A volatile one's is the run directory read from.)
        if !rebooted
            && keeps(&rec)
            && fd::access(&cs(&self.disk_dir(id))?, libc::F_OK) == Err(Errno::ENOENT)
        {
            return Err(Error::bad("no such container", id, "removed").with_code(1));
        }
        if rebooted {
            after_reboot(&mut rec);
        }
        if self.oci_started(&rec) {
            rec.status = super::Status::Running;
        }
        Ok(rec)
    }

    /// OCI `start` does not rewrite the record (a new file and a rename on
    /// an engine's hot path): as runc, it only removes the exec fifo once
    /// the init got past it. So an OCI record (it has a bundle) that is
    /// created, has an init (its pid is written after the fifo was made)
    /// and no fifo any more, has started.
    fn oci_started(&self, rec: &Record) -> bool {
        !rec.bundle.is_empty()
            && rec.status == super::Status::Created
            && rec.pid > 0
            && cs(&format!("{}/exec.fifo", self.run_dir(&rec.id)))
                .is_ok_and(|f| fd::access(&f, libc::F_OK) == Err(Errno::ENOENT))
    }

    /// The record as it really is (`Record::live`). A record that says
    /// running whose processes are gone is read once more: the waiter
    /// writes the end down before it exits, so having seen it gone, a
    /// fresh read is the truth (not a guessed 137).
    pub fn live(&self, rec: Record) -> Record {
        let l = rec.live();
        if rec.status == super::Status::Running
            && l.status != super::Status::Running
            && let Ok(fresh) = self.load(&rec.id)
        {
            return fresh.live();
        }
        l
    }

    /// `load` + `live`.
    pub fn load_live(&self, id: &str) -> Result<Record> {
        Ok(self.live(self.load(id)?))
    }

    /// Write the live record (what changes with every start, stop,
    /// pause...). Atomic but not fsynced, on tmpfs: pids, start times and
    /// "running" mean nothing after a reboot, and a record that says
    /// running is always checked against the live process (Record::live).
    pub fn save(&self, rec: &Record) -> Result<()> {
        let d = self.run_dir(&rec.id);
        let dc = cs(&d)?;
        match fs::write_atomic(&dc, "state.json", &to_json(rec), false) {
            // The first change after a reboot: its run directory is made
            // again (under the container's lock, held by the caller), if
            // the container was not removed meanwhile. (A volatile one's
            // is all it had: it is gone.)
            Err(Errno::ENOENT) if keeps(rec) => {
                let dir = self.disk_dir(&rec.id);
                fd::open(&cs(&dir)?, libc::O_PATH | libc::O_DIRECTORY, 0).ctx("open", &dir)?;
                fs::mkdir_all(&d, 0o700).ctx("mkdir", &d)?;
                fs::write_atomic(&dc, "state.json", &to_json(rec), false)
            }
            r => r,
        }
        .ctx("write state", &d)
    }

    /// `save`, and the durable copy too: for what must outlive a reboot
    /// (an exit and its code, a name, a manual stop, a network). Not
    /// fsynced either (a host crash may lose the last exit code; the
    /// container itself is in its fsynced config.json).
    pub fn save_durable(&self, rec: &Record) -> Result<()> {
        self.save(rec)?;
        self.save_after_reboot(rec, false)
    }

    /// `save_durable` of a record that is being started by hand (`start`,
    /// `boot`: its restart count and manual stop cleared): a reboot
    /// before its end is recorded leaves it exited.
    pub fn save_starting(&self, rec: &Record) -> Result<()> {
        self.save(rec)?;
        self.save_after_reboot(rec, true)
    }

    fn save_after_reboot(&self, rec: &Record, starts: bool) -> Result<()> {
        if !keeps(rec) {
            return Ok(());
        }
        let d = self.disk_dir(&rec.id);
        let data = to_json(&as_after_reboot(rec, starts));
        fs::write_atomic(&cs(&d)?, "state.json", &data, false).ctx("write state", &d)
    }

    /// Replace a container's Spec (update): atomic and durable, as at create.
    pub fn save_spec(&self, id: &str, spec: &Spec) -> Result<()> {
        let d = self.dir(id);
        fs::write_atomic(&cs(&d)?, "config.json", &oci::to_json(spec), true)
            .ctx("write", "config.json")
    }

    pub fn spec(&self, id: &str) -> Result<Spec> {
        let p = format!("{}/config.json", self.dir(id));
        oci::from_json(&fs::read(&cs(&p)?).ctx("read", &p)?)
    }

    /// Whether the container's config.json has the key `key` anywhere: a
    /// cheap "certainly not" before parsing it (hooks, mostly absent).
    pub fn config_mentions(&self, id: &str, key: &str) -> bool {
        let p = format!("{}/config.json", self.dir(id));
        let Ok(data) = cs(&p).and_then(|c| fs::read(&c).ctx("read", &p)) else {
            return true;
        };
        let k = format!("\"{key}\"");
        data.windows(k.len()).any(|w| w == k.as_bytes())
    }

    /// Every container id: the directories under `<root>/containers` and
    /// `<run>/containers` (complete ones only). A durable container's run
    /// directory whose own directory is not made yet is listed too, but
    /// has no record to `load`.
    pub fn ids(&self) -> Result<Vec<String>> {
        let mut ids = complete(&format!("{}/containers", self.root))?;
        ids.extend(complete(&format!("{}/containers", self.run))?);
        crate::rt::sort_by(&mut ids, |a, b| a < b);
        ids.dedup();
        Ok(ids)
    }

    /// All records, newest first (as `docker ps`).
    pub fn list(&self) -> Result<Vec<Record>> {
        let mut out: Vec<Record> = self
            .ids()?
            .iter()
            .filter_map(|id| self.load(id).ok())
            .collect();
        // Newest first.
        crate::rt::sort_by(&mut out, |a, b| a.created > b.created);
        Ok(out)
    }

    /// Find a container by full id, name, or unique id prefix.
    pub fn resolve(&self, q: &str) -> Result<String> {
        // Lookup failures exit 1, as docker's "No such container".
        let nf = || Error::bad("no such container", q, "not found").with_code(1);
        if q.is_empty() || q.contains(['/', '\0']) || q.starts_with('.') {
            return Err(nf());
        }
        // A full id (the usual case from scripts, engines and one command
        // handing on to the next) is an entry to look at, not a listing
        // of every container: as `ids` has it, in either directory.
        for base in [&self.run, &self.root] {
            let entry = cs(&format!("{base}/containers/{q}"))?;
            if fd::access(&entry, libc::F_OK).is_ok() {
                return Ok(String::from(q));
            }
        }
        if let Some(id) = self.name_owner(q)? {
            return Ok(id);
        }
        let ids = self.ids()?;
        let mut m = ids.iter().filter(|i| i.starts_with(q));
        match (m.next(), m.next()) {
            (Some(id), None) => Ok(id.clone()),
            (Some(_), Some(_)) => Err(Error::bad(
                "ambiguous container id",
                q,
                "more than one container matches",
            )
            .with_code(1)),
            _ => Err(nf()),
        }
    }

    /// Remove every trace of a container: its name (if still its own),
    /// its run directory (live record, health, fifo), then its directory
    /// (log, config, durable record, overlay dirs; a volatile one's is
    /// kept as a spare, state/spare.rs). Killed in between, it is left as
    /// a reboot would leave it: listed, exited, removable.
    pub fn remove(&self, rec: &Record) -> Result<()> {
        for volatile in [true, false] {
            let names = self.names(volatile);
            if let Ok(nd) = fd::open(&cs(&names)?, libc::O_PATH | libc::O_DIRECTORY, 0) {
                let n = cs(&rec.name)?;
                if fs::readlinkat(nd.raw(), &n).ok().as_deref() == Some(rec.id.as_bytes()) {
                    let _ = fs::unlinkat(nd.raw(), &n, 0);
                }
            }
        }
        // (A plain user's container may hold files of its subordinate ids.)
        let r = self.run_dir(&rec.id);
        crate::spawn::userns::remove_tree(libc::AT_FDCWD, &cs(&r)?).ctx("remove", &r)?;
        let d = self.disk_dir(&rec.id);
        let staged = || format!("{}/containers/.{}.tmp{}", self.root, rec.id, proc::getpid());
        if super::spare::give(&self.root, &rec.id).ctx("remove", &staged())? {
            return Ok(());
        }
        crate::spawn::userns::remove_tree(libc::AT_FDCWD, &cs(&d)?).ctx("remove", &d)
    }
}

impl Store {
    /// Record that the container runs as `pid`, in `cgroups`
    /// (`cgroup::files_of`), waited for by this process (the monitor, or
    /// the foreground pocket).
    pub fn started(
        &self,
        id: &str,
        pid: i32,
        cgroups: Option<Vec<(String, String)>>,
    ) -> Result<Record> {
        let _l = self.lock(id)?;
        let mut rec = self.load(id)?;
        let me = proc::getpid();
        rec.status = super::Status::Running;
        rec.pid = pid;
        rec.pid_start = super::record::start_time(pid).unwrap_or(0);
        rec.cgroups = cgroups;
        rec.monitor_pid = me;
        rec.monitor_start = super::record::start_time(me).unwrap_or(0);
        rec.started_at = crate::rt::time::now();
        rec.finished_at = crate::rt::time::Timestamp::default();
        rec.exit_code = None;
        rec.oom_killed = false;
        self.save(&rec)?;
        Ok(rec)
    }

    /// Clear what a pocket killed halfway through `create` left: name links
    /// whose container never appeared, half-built (or half-emptied: state/
    /// spare.rs) directories whose maker is gone, run directories whose container never got its directory;
    /// and what a reboot (or a removal killed halfway) left: container
    /// directories with no record (--rm and OCI containers keep none
    /// that outlives a reboot).
    pub fn gc(&self) -> Result<()> {
        let _l = self.lock_file("names")?;
        for volatile in [true, false] {
            let names = self.names(volatile);
            if let Ok(nd) = fd::open(&cs(&names)?, libc::O_RDONLY | libc::O_DIRECTORY, 0) {
                for e in fs::list_dir(&nd).ctx("list", &names)? {
                    if self.owner_in(&nd, &e.name)?.is_none() {
                        let _ = fs::unlinkat(nd.raw(), &cs(&e.name)?, 0);
                    }
                }
            }
        }
        let maker_gone = |name: &str| {
            name.starts_with('.')
                && name
                    .rsplit_once(".tmp")
                    .and_then(|(_, p)| p.parse::<i32>().ok())
                    .is_some_and(|pid| super::record::start_time(pid).is_none())
        };
        let cdir = format!("{}/containers", self.root);
        let ids = complete(&cdir)?;
        if let Ok(cd) = fd::open(&cs(&cdir)?, libc::O_RDONLY | libc::O_DIRECTORY, 0) {
            for e in fs::list_dir(&cd).ctx("list", &cdir)? {
                if maker_gone(&e.name) {
                    let _ = crate::spawn::userns::remove_tree(cd.raw(), &cs(&e.name)?);
                }
            }
            for id in &ids {
                // (A volatile one's upper dir or log, its run directory
                // gone: a reboot, or a removal killed halfway.)
                let run = format!("{}/state.json", self.run_dir(id));
                let durable = format!("{}/state.json", self.disk_dir(id));
                let none =
                    |p: &str| cs(p).is_ok_and(|c| fd::access(&c, libc::F_OK) == Err(Errno::ENOENT));
                if !(none(&run) && none(&durable)) {
                    continue;
                }
                // Under its lock, as rm: looked at again there.
                let Ok(_c) = self.lock(id) else { continue };
                if none(&run) && none(&durable) {
                    let _ =
                        crate::spawn::userns::remove_tree(libc::AT_FDCWD, &cs(&self.run_dir(id))?);
                    let _ = crate::spawn::userns::remove_tree(cd.raw(), &cs(id)?);
                }
            }
        }
        let rdir = format!("{}/containers", self.run);
        if let Ok(rd) = fd::open(&cs(&rdir)?, libc::O_RDONLY | libc::O_DIRECTORY, 0) {
            for e in fs::list_dir(&rd).ctx("list", &rdir)? {
                if maker_gone(&e.name) {
                    let _ = crate::spawn::userns::remove_tree(rd.raw(), &cs(&e.name)?);
                    continue;
                }
                let volatile = cs(&format!("{}/{}/config.json", rdir, e.name))
                    .is_ok_and(|c| fd::access(&c, libc::F_OK).is_ok());
                if e.name.starts_with('.') || ids.contains(&e.name) || volatile {
                    continue;
                }
                // A live record and no container directory: its maker was
                // killed between the two renames (it is in charge while it
                // lives), or it was removed meanwhile.
                let p = format!("{}/{}/state.json", rdir, e.name);
                let maker_lives = fs::read(&cs(&p)?)
                    .ok()
                    .and_then(|d| crate::json::parse(&d).ok())
                    .and_then(|v| Record::from_json(&v))
                    .is_some_and(|r| super::record::alive(r.monitor_pid, r.monitor_start));
                let dir_now =
                    cs(&self.disk_dir(&e.name)).is_ok_and(|c| fd::access(&c, libc::F_OK).is_ok());
                if !maker_lives && !dir_now {
                    let _ = crate::spawn::userns::remove_tree(rd.raw(), &cs(&e.name)?);
                }
            }
        }
        Ok(())
    }
}

/// The complete directories in `p` (those being made start with a dot).
fn complete(p: &str) -> Result<Vec<String>> {
    let d = match fd::open(&cs(p)?, libc::O_RDONLY | libc::O_DIRECTORY, 0) {
        Err(Errno::ENOENT) => return Ok(Vec::new()),
        r => r.ctx("open", p)?,
    };
    Ok(fs::list_dir(&d)
        .ctx("list", p)?
        .into_iter()
        .map(|e| e.name)
        .filter(|n| !n.starts_with('.'))
        .collect())
}

/// Does the record keep a durable copy? Not a volatile container's.
fn keeps(rec: &Record) -> bool {
    !volatile(rec.auto_remove, &rec.bundle)
}

/// A container nothing of which outlives a reboot: a --rm one (a reboot
/// ends it, and nothing of it is left to show), or an OCI runtime's
/// (`bundle`: runc's state is all on tmpfs too).
pub fn volatile(auto_remove: bool, bundle: &str) -> bool {
    auto_remove || !bundle.is_empty()
}

/// The durable copy of `rec`: as it reads after a reboot if nothing is
/// written in between. A record being started (`starts`) reads running:
/// the reboot will have ended that run (`after_reboot`).
fn as_after_reboot(rec: &Record, starts: bool) -> Record {
    let mut r = rec.clone();
    if starts {
        r.status = super::Status::Running;
        r.exit_code = None;
    }
    r
}

/// A durable record read back after a reboot: no process it names is
/// the one it meant (a pid and start time may even match another one),
/// nothing is paused or waiting to restart, and what ran was ended by the
/// reboot: exited, with docker's 255 for "the host went away under it".
fn after_reboot(r: &mut Record) {
    r.pid = 0;
    r.pid_start = 0;
    r.monitor_pid = 0;
    r.monitor_start = 0;
    r.paused = false;
    r.restarting = false;
    if r.status == super::Status::Running {
        r.status = super::Status::Exited;
        r.exit_code = Some(r.exit_code.unwrap_or(255));
        r.finished_at = r.started_at.max(r.created);
    }
}

fn to_json(r: &Record) -> Vec<u8> {
    let mut v = crate::json::pretty(&r.to_json()).into_bytes();
    v.push(b'\n');
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Status;

    /// OCI `start` only unlinks the exec fifo: the record reads running
    /// from then on; a docker record (no bundle) that is created again
    /// with an old pid (docker `start` after an exit) is not touched.
    #[test]
    fn an_oci_record_without_its_exec_fifo_has_started() {
        let d = std::env::temp_dir().join(format!("pocket-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        let st = Store::new(Some(d.to_str().unwrap()));
        st.init().unwrap();
        let id = "c".repeat(64);
        std::fs::create_dir(st.dir(&id)).unwrap();
        std::fs::create_dir(st.run_dir(&id)).unwrap();
        let mut rec = Record::new(id.clone(), "n".into(), "/b".into(), Vec::new());
        rec.bundle = "/b".into();
        st.save(&rec).unwrap();
        assert_eq!(st.load(&id).unwrap().status, Status::Created, "no init yet");
        let fifo = format!("{}/exec.fifo", st.run_dir(&id));
        crate::sys::mount::mknodat(
            libc::AT_FDCWD,
            &cs(&fifo).unwrap(),
            libc::S_IFIFO | 0o600,
            0,
            0,
        )
        .unwrap();
        rec.pid = std::process::id() as i32;
        st.save(&rec).unwrap();
        assert_eq!(st.load(&id).unwrap().status, Status::Created, "waiting");
        std::fs::remove_file(&fifo).unwrap();
        assert_eq!(st.load(&id).unwrap().status, Status::Running, "started");
        rec.bundle = String::new();
        st.save(&rec).unwrap();
        assert_eq!(st.load(&id).unwrap().status, Status::Created, "docker's");
        rec.bundle = "/b".into();
        rec.pid = 0;
        st.save(&rec).unwrap();
        assert_eq!(st.load(&id).unwrap().status, Status::Created, "no pid");
        std::fs::remove_dir_all(&d).unwrap();
    }

    /// docker's order: a full id, then a name, then a unique id prefix;
    /// a full id is found in either directory without listing them.
    #[test]
    fn resolve_takes_a_full_id_then_a_name_then_a_prefix() {
        let d = std::env::temp_dir().join(format!("pocket-store-q-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        let st = Store::new(Some(d.to_str().unwrap()));
        st.init().unwrap();
        let a = format!("ab{}", "1".repeat(62));
        let b = format!("ab{}", "2".repeat(62));
        let c = format!("cd{}", "3".repeat(62));
        std::fs::create_dir(st.disk_dir(&a)).unwrap();
        std::fs::create_dir(st.disk_dir(&b)).unwrap();
        std::fs::create_dir(st.run_dir(&c)).unwrap();
        let names = st.names(false);
        std::os::unix::fs::symlink(&b, format!("{names}/web")).unwrap();
        // A name that is another container's full id: the id wins.
        std::os::unix::fs::symlink(&a, format!("{names}/{c}")).unwrap();
        // A name that is a prefix of two ids: the name wins.
        std::os::unix::fs::symlink(&a, format!("{names}/ab")).unwrap();
        assert_eq!(st.resolve(&a).unwrap(), a);
        assert_eq!(st.resolve(&c).unwrap(), c, "a volatile one's full id");
        assert_eq!(st.resolve("web").unwrap(), b);
        assert_eq!(st.resolve("ab").unwrap(), a);
        assert_eq!(st.resolve("ab2").unwrap(), b);
        assert_eq!(st.resolve("cd").unwrap(), c);
        std::fs::remove_file(format!("{names}/ab")).unwrap();
        let e = st.resolve("ab").unwrap_err();
        assert_eq!((e.op.as_ref(), e.code), ("ambiguous container id", 1));
        for q in ["zz", "", ".", "..", "../x", "web/x", "we\0b"] {
            let e = st.resolve(q).unwrap_err();
            assert_eq!((e.op.as_ref(), e.code), ("no such container", 1), "{q:?}");
        }
        std::fs::remove_dir_all(&d).unwrap();
    }

    /// After a reboot (the run directory empty) the durable copy is read:
    /// what ran is exited (255), no pid means anything, and the first
    /// change makes the run copy again; a --rm record has none to read.
    #[test]
    fn the_durable_copy_is_read_after_a_reboot() {
        let d = std::env::temp_dir().join(format!("pocket-store-r-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        let st = Store::new(Some(d.to_str().unwrap()));
        st.init().unwrap();
        let id = "d".repeat(64);
        std::fs::create_dir(st.dir(&id)).unwrap();
        let mut rec = Record::new(id.clone(), "n".into(), "/r".into(), Vec::new());
        st.save_starting(&rec).unwrap();
        rec.status = Status::Running;
        rec.pid = std::process::id() as i32;
        rec.pid_start = crate::state::record::start_time(rec.pid).unwrap();
        st.save(&rec).unwrap();
        assert_eq!(st.load(&id).unwrap().status, Status::Running);
        std::fs::remove_dir_all(&st.run).unwrap();
        let after = st.load(&id).unwrap();
        assert_eq!(after.status, Status::Exited);
        assert_eq!(after.exit_code, Some(255));
        assert_eq!((after.pid, after.monitor_pid), (0, 0));
        assert!(!after.busy());
        st.save(&after).unwrap();
        assert!(
            std::path::Path::new(&st.run_dir(&id))
                .join("state.json")
                .exists()
        );
        // A volatile one: all in its run directory, its upper dir (say)
        // on the disk.
        rec.auto_remove = true;
        rec.id = "e".repeat(64);
        std::fs::create_dir(st.run_dir(&rec.id)).unwrap();
        std::fs::write(format!("{}/config.json", st.run_dir(&rec.id)), "{}").unwrap();
        std::fs::create_dir(st.disk_dir(&rec.id)).unwrap();
        assert_eq!(st.dir(&rec.id), st.run_dir(&rec.id));
        st.save_durable(&rec).unwrap();
        assert!(st.load(&rec.id).is_ok());
        assert!(
            !std::path::Path::new(&st.disk_dir(&rec.id))
                .join("state.json")
                .exists()
        );
        std::fs::remove_dir_all(st.run_dir(&rec.id)).unwrap();
        assert!(st.load(&rec.id).is_err(), "--rm: nothing outlives a reboot");
        assert!(st.save(&rec).is_err(), "nor comes back");
        st.gc().unwrap();
        assert!(!std::path::Path::new(&st.disk_dir(&rec.id)).exists(), "gc");
        assert!(std::path::Path::new(&st.dir(&id)).exists());
        std::fs::remove_dir_all(&d).unwrap();
    }
}
