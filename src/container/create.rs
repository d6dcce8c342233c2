//! `create`: from a Spec to a container that exists, in state "created".
//! The network is claimed (and given back if anything after fails), the
//! record written under a unique name, the overlay's directories made.

use super::network::{self, Mode, Request};
use crate::error::{Error, Result};
use crate::spec::Spec;
use crate::state::{Record, Status, Store};
use crate::sys::{cstr, lock::Lock};
use alloc::string::String;

/// How to create: what the Spec does not say.
pub struct Options<'a> {
    /// The id (64 hex), chosen by the caller: the Spec's paths (overlay
    /// dirs, /etc files) already name the container's directory.
    pub id: String,
    pub name: Option<&'a str>,
    /// What `ps` shows as its image (the reference, or the rootfs dir).
    pub image: String,
    pub network: Request,
    /// Removed when it stops (`--rm`).
    pub auto_remove: bool,
    /// Started right after (`run`, not `create`): a reboot before its
    /// end is recorded leaves it exited, not created.
    pub starts: bool,
    /// Its output goes to its log (detached).
    pub logged: bool,
    /// The OCI bundle it comes from (`state` shows it).
    pub bundle: String,
    /// Container labels (docker's Config.Labels).
    pub labels: alloc::vec::Vec<(String, String)>,
    /// `stop`'s first signal (0: SIGTERM) and grace (None: 10 s).
    pub stop_signal: i32,
    pub stop_timeout: Option<i64>,
    /// --restart.
    pub restart: super::restart::Policy,
    /// --health-* over the image's HEALTHCHECK.
    pub healthcheck: Option<super::health::Check>,
    /// --log-driver, --log-opt.
    pub log: crate::state::log::Config,
    /// (network, alias) pairs: --network-alias.
    pub aliases: alloc::vec::Vec<(String, String)>,
    /// The image store's lock, held by the caller since the image was
    /// resolved: released once the record exists (from then on `rmi`
    /// sees the container as a user of the image).
    pub image_lock: Option<Lock>,
}

/// Create the container: on success it is recorded as "created", with its
/// network claimed and its directories made; on failure nothing is left.
pub fn create(store: &Store, spec: &mut Spec, o: Options) -> Result<Record> {
    let volatile = crate::state::store::volatile(o.auto_remove, &o.bundle);
    let dir = store.dir_for(&o.id, volatile);
    if o.network.mode == Mode::Container {
        join_network(store, spec, &o.network)?;
    }
    join_namespaces(store, spec)?;
    // Under the networks lock until the record exists.
    let claim = network::claim(store, &o.network, &o.id, &dir, spec)?;
    crate::rt::crash::step("create: network claimed");
    let mut rec = Record::new(
        o.id,
        String::new(),
        o.image,
        spec.process
            .args
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect(),
    );
    rec.auto_remove = o.auto_remove;
    rec.labels = o.labels.clone();
    rec.stop_signal = o.stop_signal;
    rec.stop_timeout = o.stop_timeout;
    rec.restart = o.restart;
    rec.healthcheck = o.healthcheck.clone();
    rec.log = o.log.clone();
    rec.aliases = o.aliases.clone();
    rec.dns = o.network.dns.clone();
    rec.extra_hosts = o
        .network
        .add_hosts
        .iter()
        .map(|(n, a)| alloc::format!("{n}:{a}"))
        .collect();
    rec.logged = o.logged;
    rec.bundle = o.bundle;
    let rec = store.create(spec, o.name, rec, o.starts)?;
    crate::rt::crash::step("create: record written");
    drop(o.image_lock);
    let made = match claim {
        Some(c) => c.keep(&dir, store),
        None => Ok(()),
    };
    // A volatile container's directory is on tmpfs: what may be large
    // (its log, its overlay's upper and work dirs) goes to the disk.
    let disk = store.disk_dir(&rec.id);
    // Or rename in a spare (state::spare), its work dir made: only for an
    // overlay of create's own dirs, with no user namespace.
    let own = spec.root.overlay.as_ref().is_some_and(|o| {
        o.upper == alloc::format!("{disk}/upper") && o.work == alloc::format!("{disk}/work")
    });
    let spare = made.is_ok()
        && volatile
        && own
        && spec.uid_map.is_empty()
        && crate::state::spare::take(&store.root, &disk);
    let made =
        made.and_then(
            |()| match volatile && !spare && (o.logged || spec.root.overlay.is_some()) {
                true => mkdir(disk.as_bytes(), 0o700),
                false => Ok(()),
            },
        );
    // (A spare's work dir is there: its mkdir is a lookup.) Create's own
    // upper dir is new, or nothing runs: never a container's twice.
    let made = made.and_then(|()| match &spec.root.overlay {
        Some(o) => mkdir(&spec.root.path, 0o755)
            .and_then(|()| match own {
                true => mkdir_new(o.upper.as_bytes(), 0o755),
                false => mkdir(o.upper.as_bytes(), 0o755),
            })
            .and_then(|()| mkdir(o.work.as_bytes(), 0o755)),
        None => Ok(()),
    });
    let made = made.and_then(|()| give_to_ns_root(&dir, spec));
    if let Err(e) = made {
        let _ = super::delete::remove(store, &rec, false);
        return Err(e);
    }
    crate::rt::crash::step("create: network and dirs made");
    crate::state::events::emit(store, &rec, "create", &[]);
    Ok(rec)
}

/// `--net container:ID`: that container's namespace, while it runs; none
/// of docker's --add-host/--dns with it.
fn join_network(store: &Store, spec: &mut Spec, r: &Request) -> Result<()> {
    for (given, what) in [
        (!r.add_hosts.is_empty(), "--add-host"),
        (!r.dns.is_empty(), "--dns"),
    ] {
        if given {
            return Err(Error::bad(
                "conflicting options",
                what,
                "not with --net container:ID",
            ));
        }
    }
    let Some(q) = spec.net_container.clone() else {
        return Err(Error::bad("network", "container:", "no container named"));
    };
    // 125, as docker: a bad --net value, not a command on a container.
    let other = store.resolve(&q).map_err(|e| e.with_code(125))?;
    let rec = store.load_live(&other).map_err(|e| e.with_code(125))?;
    if rec.status != Status::Running {
        return Err(Error::bad(
            "cannot join network of a non running container",
            q,
            "start it first",
        ));
    }
    spec.net_container = Some(other);
    spec.netns_owner = Some((rec.pid, rec.pid_start));
    Ok(())
}

/// `--pid/--ipc container:ID`: each container's id (names resolved once)
/// and its init as it is now; it must run, as docker's message says.
pub(super) fn join_namespaces(store: &Store, spec: &mut Spec) -> Result<()> {
    // A pid namespace joined by path (an engine's pod): the container
    // whose init is in it is marked, as with `--pid container:X` below.
    if let Some((_, path)) = spec
        .ns_paths
        .iter()
        .find(|(ns, _)| *ns == crate::spec::Namespace::Pid)
    {
        mark_pid_owner(store, path);
    }
    spec.ns_owners.clear();
    for (ns, q) in spec.ns_containers.iter_mut() {
        let what = match ns {
            crate::spec::Namespace::Pid => "PID",
            _ => "IPC",
        };
        let other = store.resolve(q).map_err(|e| e.with_code(125))?;
        let rec = store.load_live(&other).map_err(|e| e.with_code(125))?;
        if rec.status != Status::Running {
            return Err(Error::bad(
                alloc::format!("cannot join {what} of a non running container"),
                q.clone(),
                "start it first",
            ));
        }
        if *ns == crate::spec::Namespace::Pid {
            // Its processes may see this one's now: its execs enter
            // sealed (spawn/dmz.rs).
            crate::spawn::dmz::mark(&store.run_dir(&other))?;
        }
        *q = other;
        spec.ns_owners.push((*ns, rec.pid, rec.pid_start));
    }
    Ok(())
}

/// The containers of the store whose init is in the pid namespace `path`
/// names get the dmz's mark (spawn/dmz.rs): another container's processes
/// will see pocket's exec child there.
fn mark_pid_owner(store: &Store, path: &str) {
    let id_of = |p: &str| {
        let c = cstr::cstring(p.as_bytes())?;
        let st = crate::sys::fd::fstatat(libc::AT_FDCWD, &c, 0).ok()?;
        Some((st.st_dev, st.st_ino))
    };
    let Some(ns) = id_of(path) else {
        return;
    };
    for rec in store.list().unwrap_or_default() {
        if rec.pid > 0 && id_of(&alloc::format!("/proc/{}/ns/pid", rec.pid)) == Some(ns) {
            let _ = crate::spawn::dmz::mark(&store.run_dir(&rec.id));
        }
    }
}

/// With a user namespace, what the container writes in its directory
/// (its /etc files, its overlay's upper and work dirs) belongs to its
/// root as the host sees it: root inside is nobody to the host, and
/// would find them unwritable (the /etc files, 0644, not its to
/// rewrite).
fn give_to_ns_root(dir: &str, spec: &Spec) -> Result<()> {
    let (Some(uid), Some(gid)) = (
        crate::spec::IdMap::host_of(&spec.uid_map, 0),
        crate::spec::IdMap::host_of(&spec.gid_map, 0),
    ) else {
        return Ok(());
    };
    let d = cstr::cstring(dir.as_bytes()).unwrap_or_default();
    let dfd = crate::sys::fd::open(&d, libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC, 0)
        .map_err(|e| Error::sys("open", dir, e))?;
    let files = super::network::FILES.iter().map(|f| f.0);
    let overlay = spec.root.overlay.iter().flat_map(|o| [&o.upper, &o.work]);
    for path in files
        .map(|f| alloc::format!("{dir}/{f}"))
        .chain(overlay.cloned())
    {
        let c = cstr::cstring(path.as_bytes()).unwrap_or_default();
        match crate::sys::file::fchownat(dfd.raw(), &c, uid, gid, libc::AT_SYMLINK_NOFOLLOW) {
            Ok(()) | Err(crate::sys::Errno::ENOENT) => {}
            Err(e) => return Err(Error::sys("chown", path, e)),
        }
    }
    Ok(())
}

/// `mkdir` where an existing one is an error (EEXIST).
fn mkdir_new(p: &[u8], mode: u32) -> Result<()> {
    let path = || String::from_utf8_lossy(p).into_owned();
    let c = cstr::cstring(p).ok_or_else(|| Error::bad("mkdir", path(), "contains a NUL byte"))?;
    crate::sys::mount::mkdirat(libc::AT_FDCWD, &c, mode).map_err(|e| Error::sys("mkdir", path(), e))
}

fn mkdir(p: &[u8], mode: u32) -> Result<()> {
    let path = || String::from_utf8_lossy(p).into_owned();
    let c = cstr::cstring(p).ok_or_else(|| Error::bad("mkdir", path(), "contains a NUL byte"))?;
    crate::sys::fs::mkdir(&c, mode).map_err(|e| Error::sys("mkdir", path(), e))
}

/// docker's "init layer": the mount points of /etc/hosts, resolv.conf and
/// hostname in a layer above the image's, so they never show in a
/// container's upper dir (diff, commit). Its files are empty mount points,
/// the same for every container: one read-only lower layer of the store's
/// (`<root>/init`), made once, shared (a container used to make its own:
/// five creates and five removals per run on the disk). Older containers
/// keep naming their own `<dir>/init`.
pub fn init_layer(store: &Store) -> Result<String> {
    let path = alloc::format!("{}/init", store.root);
    let c = cstr::cstring(path.as_bytes()).unwrap_or_default();
    if crate::sys::fd::access(&c, libc::F_OK).is_ok() {
        return Ok(path);
    }
    // Made aside and renamed in: a run never sees half of it, and of two
    // first runs one rename wins (the other's ENOTEMPTY/EEXIST is fine).
    // Aside among the containers' half-built directories, which `gc`
    // clears once their maker is gone.
    let tmp = alloc::format!(
        "{}/containers/.init.tmp{}",
        store.root,
        crate::sys::proc::getpid()
    );
    store.init()?;
    let made = (|| {
        let mk = |p: &str| {
            crate::sys::fs::mkdir(&cstr::cstring(p.as_bytes()).unwrap_or_default(), 0o755)
                .map_err(|e| Error::sys("mkdir", p, e))
        };
        mk(&tmp)?;
        mk(&alloc::format!("{tmp}/etc"))?;
        let etc = cstr::cstring(alloc::format!("{tmp}/etc").as_bytes()).unwrap_or_default();
        for f in ["hosts", "resolv.conf", "hostname"] {
            crate::sys::fs::write_new(&etc, f, b"", 0o644, false)
                .map_err(|e| Error::sys("create", alloc::format!("{path}/etc/{f}"), e))?;
        }
        let t = cstr::cstring(tmp.as_bytes()).unwrap_or_default();
        match crate::sys::fs::renameat(libc::AT_FDCWD, &t, libc::AT_FDCWD, &c) {
            Ok(()) | Err(crate::sys::Errno::ENOTEMPTY | crate::sys::Errno::EEXIST) => Ok(()),
            Err(e) => Err(Error::sys("rename", path.clone(), e)),
        }
    })();
    let _ = crate::sys::fs::remove_tree(
        libc::AT_FDCWD,
        &cstr::cstring(tmp.as_bytes()).unwrap_or_default(),
    );
    made.map(|()| path)
}
