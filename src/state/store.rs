//! The state store: one directory per container under `<root>/containers`,
//! names as symlinks under `<root>/names`, locks under the run directory.
//!
//! ```text
//! <root>/containers/<id>/config.json   the Spec, as OCI config.json
//! <root>/containers/<id>/state.json    the Record
//! <root>/containers/<id>/container.log docker json-file log
//! <root>/names/<name> -> <id>          one symlink per name: symlink(2) is atomic
//! <run>/names.lock                     flock(2) while a name is claimed
//! ```

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
        ] {
            fs::mkdir_private(&d).ctx("mkdir", &d)?;
        }
        Ok(())
    }

    pub fn dir(&self, id: &str) -> String {
        format!("{}/containers/{}", self.root, id)
    }

    pub fn log_path(&self, id: &str) -> String {
        format!("{}/container.log", self.dir(id))
    }

    pub fn lock_file(&self, name: &str) -> Result<Lock> {
        lock_file(&self.run, name)
    }

    /// Serialize changes to one container (monitor vs rm vs start): a
    /// flock on its directory, so a removed container leaves no lock file
    /// and whoever comes late finds it gone (ENOENT).
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
    /// killed halfway) is free again.
    pub fn create(&self, spec: &Spec, name: Option<&str>, mut rec: Record) -> Result<Record> {
        self.init()?;
        // The caller's id (docker's 64 hex, or an OCI container id the
        // front end checked), else a fresh one.
        let id = if rec.id.is_empty() {
            crate::rt::names::new_id()
        } else {
            rec.id.clone()
        };
        let names = format!("{}/names", self.root);
        let names_c = cs(&names)?;
        let nd = fd::open(&names_c, libc::O_PATH | libc::O_DIRECTORY, 0).ctx("open", &names)?;
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
                if let Some(owner) = self.name_owner(&nd, n)? {
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
                    if self.name_owner(&nd, &n)?.is_none() {
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
        // Build the directory under a temporary name and rename it into
        // place: a container dir is either complete or absent.
        rec.id = id.clone();
        rec.name = name.clone();
        // The pid in the name tells `gc` whether its maker still lives.
        let tmp = format!("{}/containers/.{}.tmp{}", self.root, id, proc::getpid());
        let dir = self.dir(&id);
        let made = (|| -> Result<()> {
            fs::mkdir(&cs(&tmp)?, 0o700).ctx("mkdir", &tmp)?;
            let t = cs(&tmp)?;
            // Plain writes: nobody sees this directory until the rename.
            // The Spec outlives a reboot (start runs it again): durable,
            // unless the container is gone when it exits anyway (--rm).
            // Metadata operations cost a third of a millisecond each on a
            // journaled disk, so there are as few as can be.
            // An OCI runtime's state (`rec.bundle` set) is as volatile as
            // runc's: the engine keeps the bundle, and nothing of it means
            // anything after a reboot.
            let durable = !rec.auto_remove && rec.bundle.is_empty();
            fs::write_new(&t, "config.json", &oci::to_json(spec), durable)
                .ctx("write", "config.json")?;
            fs::write_new(&t, "state.json", &to_json(&rec), false).ctx("write", "state.json")?;
            fs::renameat(libc::AT_FDCWD, &t, libc::AT_FDCWD, &cs(&dir)?).ctx("rename", &dir)
        })();
        if let Err(e) = made {
            let _ = fs::remove_tree(libc::AT_FDCWD, &cs(&tmp)?);
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
        let names = format!("{}/names", self.root);
        let nd = fd::open(&cs(&names)?, libc::O_PATH | libc::O_DIRECTORY, 0).ctx("open", &names)?;
        let _n = self.lock_file("names")?;
        let _c = self.lock(id)?;
        let mut rec = self.load(id)?;
        if rec.name == new {
            return Err(Error::text(String::from(
                "Renaming a container with the same name as its current name",
            ))
            .with_code(1));
        }
        if let Some(owner) = self.name_owner(&nd, new)?.filter(|o| o != id) {
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
        if let Err(e) = self.save(&rec) {
            let _ = fs::unlinkat(nd.raw(), &n_c, 0);
            return Err(e);
        }
        let o = cs(&old)?;
        if fs::readlinkat(nd.raw(), &o).ok().as_deref() == Some(id.as_bytes()) {
            let _ = fs::unlinkat(nd.raw(), &o, 0);
        }
        Ok(())
    }

    /// The id that holds `name`, if its container still exists.
    fn name_owner(&self, names: &Fd, name: &str) -> Result<Option<String>> {
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

    pub fn load(&self, id: &str) -> Result<Record> {
        let p = format!("{}/state.json", self.dir(id));
        let data = match fs::read(&cs(&p)?) {
            Ok(d) => d,
            // Removed since it was resolved (rm, --rm): docker's word.
            Err(crate::sys::Errno::ENOENT) => {
                return Err(Error::bad("no such container", id, "removed").with_code(1));
            }
            Err(e) => return Err(Error::sys("read", p, e)),
        };
        let mut rec = crate::json::parse(&data)
            .ok()
            .and_then(|v| Record::from_json(&v))
            .ok_or_else(|| Error::bad("state", p, "not a container record"))?;
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
            && cs(&format!("{}/exec.fifo", self.dir(&rec.id)))
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

    pub fn save(&self, rec: &Record) -> Result<()> {
        let d = self.dir(&rec.id);
        // Atomic but not fsynced: pids, start times and "running" mean
        // nothing after a reboot, and a record that says running is always
        // checked against the live process (Record::live).
        fs::write_atomic(&cs(&d)?, "state.json", &to_json(rec), false).ctx("write state", &d)
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

    /// Every container id (complete directories only).
    pub fn ids(&self) -> Result<Vec<String>> {
        let p = format!("{}/containers", self.root);
        let d = match fd::open(&cs(&p)?, libc::O_RDONLY | libc::O_DIRECTORY, 0) {
            Err(Errno::ENOENT) => return Ok(Vec::new()),
            r => r.ctx("open", &p)?,
        };
        let mut ids: Vec<String> = fs::list_dir(&d)
            .ctx("list", &p)?
            .into_iter()
            .map(|e| e.name)
            .filter(|n| !n.starts_with('.'))
            .collect();
        crate::rt::sort_by(&mut ids, |a, b| a < b);
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
        if q.is_empty() || q.contains('/') || q.starts_with('.') {
            return Err(nf());
        }
        let ids = self.ids()?;
        if ids.iter().any(|i| i == q) {
            return Ok(String::from(q));
        }
        let names = format!("{}/names", self.root);
        if let Ok(nd) = fd::open(&cs(&names)?, libc::O_PATH | libc::O_DIRECTORY, 0)
            && let Some(id) = self.name_owner(&nd, q)?
        {
            return Ok(id);
        }
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

    /// Remove every trace of a container: its name (if still its own) and
    /// its directory (log, config, state).
    pub fn remove(&self, rec: &Record) -> Result<()> {
        let names = format!("{}/names", self.root);
        if let Ok(nd) = fd::open(&cs(&names)?, libc::O_PATH | libc::O_DIRECTORY, 0) {
            let n = cs(&rec.name)?;
            if fs::readlinkat(nd.raw(), &n).ok().as_deref() == Some(rec.id.as_bytes()) {
                let _ = fs::unlinkat(nd.raw(), &n, 0);
            }
        }
        let d = self.dir(&rec.id);
        fs::remove_tree(libc::AT_FDCWD, &cs(&d)?).ctx("remove", &d)
    }
}

impl Store {
    /// Record that the container runs as `pid`, waited for by this process
    /// (the monitor, or the foreground pocket).
    pub fn started(&self, id: &str, pid: i32) -> Result<Record> {
        let _l = self.lock(id)?;
        let mut rec = self.load(id)?;
        let me = proc::getpid();
        rec.status = super::Status::Running;
        rec.pid = pid;
        rec.pid_start = super::record::start_time(pid).unwrap_or(0);
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
    /// whose container never appeared, and half-built directories whose
    /// maker is gone.
    pub fn gc(&self) -> Result<()> {
        let _l = self.lock_file("names")?;
        let names = format!("{}/names", self.root);
        if let Ok(nd) = fd::open(&cs(&names)?, libc::O_RDONLY | libc::O_DIRECTORY, 0) {
            for e in fs::list_dir(&nd).ctx("list", &names)? {
                if self.name_owner(&nd, &e.name)?.is_none() {
                    let _ = fs::unlinkat(nd.raw(), &cs(&e.name)?, 0);
                }
            }
        }
        let cdir = format!("{}/containers", self.root);
        if let Ok(cd) = fd::open(&cs(&cdir)?, libc::O_RDONLY | libc::O_DIRECTORY, 0) {
            for e in fs::list_dir(&cd).ctx("list", &cdir)? {
                let Some(pid) = e
                    .name
                    .rsplit_once(".tmp")
                    .and_then(|(_, p)| p.parse::<i32>().ok())
                else {
                    continue;
                };
                if e.name.starts_with('.') && super::record::start_time(pid).is_none() {
                    let _ = fs::remove_tree(cd.raw(), &cs(&e.name)?);
                }
            }
        }
        Ok(())
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
        let mut rec = Record::new(id.clone(), "n".into(), "/b".into(), Vec::new());
        rec.bundle = "/b".into();
        st.save(&rec).unwrap();
        assert_eq!(st.load(&id).unwrap().status, Status::Created, "no init yet");
        let fifo = format!("{}/exec.fifo", st.dir(&id));
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
}
