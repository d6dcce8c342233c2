//! cgroups: where a process is (detect), which hierarchy holds each
//! controller (layout), a container's own groups (`pocket/<id>` in each
//! hierarchy) with their limits (v1, v2), and joining another process's
//! cgroups (exec). Every function that touches cgroupfs takes its paths as
//! arguments, so tests point it at a fake tree.

pub mod delegate;
pub mod detect;
pub mod devfilter;
pub mod devices;
pub mod files;
pub mod flags;
pub mod layout;
pub mod resources;
pub mod support;
pub mod v1;
pub mod v2;

pub use layout::{Layout, Place};
pub use resources::Resources;
pub use support::Support;

use crate::error::{Context, Error, Result};
use crate::sys::{fd, fs};
use alloc::ffi::CString;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

fn read(path: &str) -> Result<Vec<u8>> {
    let c = CString::new(path).map_err(|_| Error::bad("path", path, "contains a NUL byte"))?;
    fs::read(&c).ctx("read", path)
}

/// This host's layout, from /proc/self/mountinfo.
pub fn host_layout() -> Layout {
    layout_of(&read("/proc/self/mountinfo").unwrap_or_default())
}

fn layout_of(mountinfo: &[u8]) -> Layout {
    Layout::parse(mountinfo, |m| {
        read(&format!("{m}/cgroup.controllers")).unwrap_or_default()
    })
}

/// The cgroup mounts of /proc/self/mountinfo as this process first read
/// it (`layout`'s; a monitor keeps no more than these lines). First read
/// in the host's mount namespace: no caller runs after a setns or unshare
/// of CLONE_NEWNS (exec's `join` reads mountinfo itself).
fn mountinfo() -> &'static [u8] {
    static MOUNTINFO: crate::rt::Once<Vec<u8>> = crate::rt::Once::new();
    MOUNTINFO.get_or_init(|| {
        let all = read("/proc/self/mountinfo").unwrap_or_default();
        let mut out = Vec::new();
        for l in all.split(|&c| c == b'\n') {
            let cgroup = |t: &[u8]| l.windows(t.len()).any(|w| w == t);
            if cgroup(b" - cgroup ") || cgroup(b" - cgroup2 ") {
                out.extend_from_slice(l);
                out.push(b'\n');
            }
        }
        out
    })
}

/// `host_layout`, read once per process: a pocket command that opens a
/// container's group more than once (delete: kill, then remove) reads
/// mountinfo once.
pub fn layout() -> &'static Layout {
    static LAYOUT: crate::rt::Once<Layout> = crate::rt::Once::new();
    LAYOUT.get_or_init(|| layout_of(mountinfo()))
}

/// Every cgroup `pid` is in, in each hierarchy mounted here (pocket's own
/// and the others: `name=systemd`, the v2 tree beside v1, `net_cls`...):
/// its /proc/PID/cgroup line, and the file that moves a process there,
/// as `join` finds them. Recorded once a container's init runs, for
/// `exec` (`join_entries`) to do without reading mountinfo and the
/// init's /proc each time. None if its /proc file cannot be read.
pub fn files_of(pid: i32) -> Option<Vec<(String, String)>> {
    let theirs = read(&format!("/proc/{pid}/cgroup")).ok()?;
    // None mapped (mountinfo unread, a line not UTF-8): not known.
    detect::procs_entries(&theirs, mountinfo()).filter(|e| !e.is_empty())
}

/// Put the calling process into the cgroups of `entries` (`files_of`'s,
/// recorded or read now), but for the lines we share: a plain user's
/// pocket, in the groups it started its container in, may not write to
/// them. Each file, from state.json or from /proc, must be a cgroup's
/// own `tasks` or `cgroup.procs` on a cgroup filesystem.
pub fn join_entries(entries: &[(String, String)]) -> Result<()> {
    let ours = read("/proc/self/cgroup")?;
    for path in detect::unshared(entries, &ours) {
        if !path.ends_with("/tasks") && !path.ends_with("/cgroup.procs") {
            return Err(Error::bad("join cgroup", path, "not a cgroup's tasks file"));
        }
        let c = CString::new(path).map_err(|_| Error::bad("cgroup", path, "bad path"))?;
        // (A FIFO or a terminal named there is neither waited on nor taken.)
        let flags = libc::O_WRONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY;
        let f = fd::open(&c, flags, 0).ctx("join cgroup", path)?;
        const CGROUP_SUPER_MAGIC: i64 = 0x27e0eb;
        const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;
        let t = crate::sys::mount::fstatfs_type(&f).ctx("join cgroup", path)?;
        if t != CGROUP_SUPER_MAGIC && t != CGROUP2_SUPER_MAGIC {
            return Err(Error::bad(
                "join cgroup",
                path,
                "not on a cgroup filesystem",
            ));
        }
        // "0": the writer itself.
        fd::write_all(f.raw(), b"0").ctx("join cgroup", path)?;
    }
    Ok(())
}

/// The parent of every container's group, in each hierarchy.
pub const PARENT: &str = "pocket";

/// The host's layout and what it can enforce, detected once per process
/// (the first time a limit is about to be checked or written).
pub struct Host {
    pub layout: Layout,
    pub support: Support,
    /// Where containers' groups go below each hierarchy's root: `pocket`
    /// for root, `<delegated group>/pocket` for a plain user who has one
    /// (delegate.rs), None for one who has not.
    pub parent: Option<String>,
}

/// The most groups looked at below a container's: it makes them itself,
/// so it picks how many.
const MAX_SUBGROUPS: usize = 4096;

/// `dir` and every group below it, each after its parent (bounded by
/// MAX_SUBGROUPS).
fn subtree(dir: &str) -> Vec<String> {
    let mut all = alloc::vec![String::from(dir)];
    let mut i = 0;
    while i < all.len() && all.len() < MAX_SUBGROUPS {
        let below = CString::new(all[i].as_str())
            .ok()
            .and_then(|c| fd::open(&c, libc::O_RDONLY | libc::O_DIRECTORY, 0).ok())
            .and_then(|f| fs::list_dir(&f).ok())
            .unwrap_or_default();
        for e in below.iter().filter(|e| e.kind == libc::DT_DIR) {
            all.push(format!("{}/{}", all[i], e.name));
        }
        i += 1;
    }
    all
}

/// This host, probed on first use: the parent group is made in every
/// hierarchy (controllers enabled on v2) so that the files a container's
/// group will have can be seen in it.
pub fn host() -> &'static Host {
    static HOST: crate::rt::Once<Host> = crate::rt::Once::new();
    HOST.get_or_init(|| {
        // Root of a user namespace is a plain user on cgroups it may not
        // write (the host's, seen from rootless podman's namespace); on a
        // tree of its own (LXD's, nspawn -U's) it is root.
        let (layout, parent) = match crate::sys::proc::geteuid() {
            0 if !crate::sys::procfs::in_user_namespace() || tree_writable(layout()) => {
                (layout().clone(), Some(String::from(PARENT)))
            }
            uid => users_place(uid),
        };
        // Best effort: where the parent cannot be made, its files are
        // missing and the limits are discarded or refused by name.
        if let Some(p) = &parent
            && let Ok(cg) = open(&layout, p)
        {
            let _ = cg.create_dirs();
        }
        let probe = parent.as_deref().unwrap_or(PARENT);
        let support = Support::detect(&layout, probe, files::exists);
        Host {
            layout,
            support,
            parent,
        }
    })
}

/// Can this process make groups at the top of every hierarchy?
fn tree_writable(l: &Layout) -> bool {
    let mounts = l.v1.iter().map(|m| &m.0).chain(l.v2.iter().map(|m| &m.0));
    let mut any = false;
    for m in mounts {
        any = true;
        let ok = CString::new(m.as_str()).is_ok_and(|c| fd::access(&c, libc::W_OK).is_ok());
        if !ok {
            return false;
        }
    }
    any
}

/// A plain user's layout and parent group: the v2 tree with the
/// controllers of the group delegated to it, or nothing at all.
fn users_place(uid: u32) -> (Layout, Option<String>) {
    let l = layout();
    let me = read("/proc/self/cgroup").unwrap_or_default();
    let owner = |dir: &str| {
        let c = CString::new(format!("{dir}/cgroup.procs")).ok()?;
        Some(fd::fstatat(libc::AT_FDCWD, &c, 0).ok()?.st_uid)
    };
    match (delegate::find(l, &me, uid, owner), &l.v2) {
        (Some(d), Some((mount, _))) => {
            let c = read(&format!("{mount}/{d}/cgroup.controllers")).unwrap_or_default();
            (delegate::layout(mount, &c), Some(format!("{d}/{PARENT}")))
        }
        _ => (Layout::default(), None),
    }
}

/// The names of the child groups of a cgroup directory.
pub fn list_groups(dir: &str) -> Vec<String> {
    let Ok(c) = CString::new(dir) else {
        return Vec::new();
    };
    let Ok(f) = fd::open(&c, libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC, 0) else {
        return Vec::new();
    };
    fs::list_dir(&f)
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e.kind == libc::DT_DIR)
        .map(|e| e.name)
        .collect()
}

/// One directory of a container's cgroup: in a v1 hierarchy (with its
/// controllers) or in the v2 tree (with the controllers enabled there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dir {
    pub mount: String,
    pub dir: String,
    pub v2: bool,
    pub controllers: Vec<String>,
}

/// A container's cgroup: `path` (e.g. `pocket/<id>`) in each hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cgroup {
    pub path: String,
    pub dirs: Vec<Dir>,
}

/// A cgroup path as OCI `linux.cgroupsPath` gives it, as the path below
/// each hierarchy's root pocket uses: relative (`pocket/<id>`, pocket's
/// own) or absolute (`/libpod_parent/libpod-<id>`, podman's) are both
/// taken below the root (runc takes a relative one below its own cgroup;
/// pocket's records have always meant the root); systemd's
/// `slice:prefix:name` (`system.slice:cri-containerd:<id>`) is where
/// systemd would put that scope, `system.slice/cri-containerd-<id>.scope`
/// (pocket has no systemd driver: the groups are made there directly).
/// Plain components only: no `..`, `.` or empty ones.
pub fn normalize(path: &str) -> Result<String> {
    let bad = |why: &'static str| Error::bad("cgroup path", path, why);
    let plain = |p: &str| {
        !p.is_empty()
            && p.split('/')
                .all(|c| !c.is_empty() && c != "." && c != ".." && !c.contains('\0'))
    };
    let parts: Vec<&str> = path.split(':').collect();
    if !path.starts_with('/') && parts.len() == 3 {
        let (slice, prefix, name) = (parts[0], parts[1], parts[2]);
        let slice = match slice {
            "" => "system.slice",
            s => s,
        };
        let unit = match (name.ends_with(".slice"), prefix) {
            (true, _) => String::from(name),
            (false, "") => format!("{name}.scope"),
            (false, p) => format!("{p}-{name}.scope"),
        };
        let parent = expand_slice(slice).ok_or_else(|| bad("bad systemd slice"))?;
        let full = match parent.is_empty() {
            true => unit,
            false => format!("{parent}/{unit}"),
        };
        let one = !name.is_empty() && !name.contains('/') && !prefix.contains('/');
        return match plain(&full) && one {
            true => Ok(full),
            false => Err(bad("bad systemd unit name")),
        };
    }
    let rel = path.strip_prefix('/').unwrap_or(path);
    match plain(rel) {
        true => Ok(String::from(rel)),
        false => Err(bad("must be a path of plain names, without '..'")),
    }
}

/// systemd's slice nesting: `a-b-c.slice` is `a.slice/a-b.slice/a-b-c.slice`
/// below the root, `-.slice` the root itself.
fn expand_slice(slice: &str) -> Option<String> {
    let base = slice.strip_suffix(".slice")?;
    if slice == "-.slice" {
        return Some(String::new());
    }
    if base.is_empty() || base.contains('/') || base.starts_with('-') || base.ends_with('-') {
        return None;
    }
    let mut out = String::new();
    let mut prefix = String::new();
    for part in base.split('-') {
        if part.is_empty() {
            return None;
        }
        if !prefix.is_empty() {
            prefix.push('-');
            out.push('/');
        }
        prefix.push_str(part);
        out.push_str(&prefix);
        out.push_str(".slice");
    }
    Some(out)
}

/// Where `path` lives in each hierarchy of `l` (whether it exists or not).
pub fn open(l: &Layout, path: &str) -> Result<Cgroup> {
    let path = &normalize(path)?;
    let mut dirs = Vec::new();
    for p in l.hierarchies() {
        let (mount, v2) = match p {
            Place::V1(m) => (m, false),
            Place::V2(m) => (m, true),
            Place::Missing => continue,
        };
        let controllers = if v2 {
            l.v2_controllers()
                .iter()
                .map(|c| String::from(*c))
                .collect()
        } else {
            l.v1.iter()
                .find(|(m, _)| *m == mount)
                .map(|(_, c)| c.clone())
                .unwrap_or_default()
        };
        dirs.push(Dir {
            dir: format!("{mount}/{path}"),
            mount,
            v2,
            controllers,
        });
    }
    Ok(Cgroup {
        path: String::from(path),
        dirs,
    })
}

/// A v1 cpuset group starts with no CPUs and memory nodes, and cannot
/// hold a process so: `group` gets its parent's. Once pocket's own parent
/// has `cgroup.clone_children` set, the kernel copies them into each new
/// group (a read per run instead of two reads and two writes).
fn cpuset_from_parent(d: &Dir, group: &str, parent: &str) -> Result<()> {
    let cpuset_v1 = !d.v2 && d.controllers.iter().any(|c| c == "cpuset");
    if !cpuset_v1
        || !files::read(group, "cpuset.cpus")
            .unwrap_or_default()
            .trim()
            .is_empty()
    {
        return Ok(());
    }
    for f in ["cpuset.cpus", "cpuset.mems"] {
        let v = files::read(parent, f).unwrap_or_default();
        files::write(group, f, &v)?;
    }
    for g in [group, parent] {
        if g.ends_with("/pocket") {
            let _ = files::write(g, "cgroup.clone_children", "1");
        }
    }
    Ok(())
}

impl Cgroup {
    /// Create the groups, parents included, and apply the limits. On a
    /// fresh v1 cpuset the CPUs and memory nodes are copied down from the
    /// parent (an empty cpuset cannot hold a process); on v2 the needed
    /// controllers are enabled in cgroup.subtree_control on the way down.
    /// Anything made is removed again if a step fails. `r` was fitted to
    /// the host (`Support::fit`).
    pub fn create(&self, r: &Resources, s: &Support) -> Result<()> {
        let r2 = self.create_dirs();
        let r2 = r2.and_then(|()| self.apply(r, s, false));
        let r2 = r2.and_then(|()| self.devices(&r.devices, s));
        if r2.is_err() {
            let _ = self.remove();
        }
        r2
    }

    fn create_dirs(&self) -> Result<()> {
        for d in &self.dirs {
            let v2_down = d.v2 && !d.controllers.is_empty();
            // Most runs find the parents made: the group alone, one
            // mkdir per hierarchy (v2 that passes controllers down walks).
            if !v2_down && let Some((parent, _)) = d.dir.rsplit_once('/') {
                match files::mkdir_at(&d.dir) {
                    Ok(_) => {
                        cpuset_from_parent(d, &d.dir, parent)?;
                        continue;
                    }
                    Err(crate::sys::Errno::ENOENT) => {}
                    Err(e) => return Err(Error::sys("mkdir", d.dir.as_str(), e)),
                }
            }
            let rel = d
                .dir
                .strip_prefix(&d.mount)
                .unwrap_or("")
                .trim_start_matches('/');
            let mut cur = d.mount.clone();
            for part in rel.split('/') {
                if v2_down {
                    let want: Vec<String> = d.controllers.iter().map(|c| format!("+{c}")).collect();
                    let have = files::read(&cur, "cgroup.subtree_control").unwrap_or_default();
                    if d.controllers
                        .iter()
                        .any(|c| !have.split_whitespace().any(|h| h == c))
                    {
                        files::write(&cur, "cgroup.subtree_control", &want.join(" ")).map_err(
                            |e| match e.why {
                                // v2's no-internal-process rule: a group
                                // that holds processes (a plain user's
                                // shell in its delegated group) passes
                                // no controller down.
                                crate::error::Why::Errno(crate::sys::Errno::EBUSY) => Error::bad(
                                    "cgroup",
                                    cur.clone(),
                                    "holds processes, so it cannot enable controllers for groups below it (move them into a child group)",
                                ),
                                _ => e,
                            },
                        )?;
                    }
                }
                let parent = cur.clone();
                cur = format!("{cur}/{part}");
                files::mkdir(&cur)?;
                cpuset_from_parent(d, &cur, &parent)?;
            }
        }
        Ok(())
    }

    /// The device rules, in the devices hierarchy (v1) or as a BPF program
    /// on the v2 group: at creation only, before any process is in the
    /// group (rewriting them under a running container would refuse its
    /// /dev/null for a moment, and `update` has no device flags).
    fn devices(&self, rules: &[resources::DeviceRule], s: &Support) -> Result<()> {
        if rules.is_empty() {
            return Ok(());
        }
        let state = devices::reduce(rules);
        if !state.restricts() {
            return Ok(());
        }
        let mut done = false;
        for d in &self.dirs {
            match s.devices {
                Some(support::DeviceCgroup::V1)
                    if !d.v2 && d.controllers.iter().any(|c| c == "devices") =>
                {
                    devices::write_v1(&d.dir, &state)?
                }
                Some(support::DeviceCgroup::Bpf) if d.v2 => devfilter::attach(&d.dir, &state)?,
                _ => continue,
            }
            done = true;
        }
        // Never a container without them: docker refuses to run one too.
        if done {
            Ok(())
        } else {
            Err(support::no_devices_cgroup())
        }
    }

    /// Write the limits (create, or `update` of a running container).
    pub fn apply(&self, r: &Resources, s: &Support, update: bool) -> Result<()> {
        for d in &self.dirs {
            if d.v2 {
                let enabled: Vec<&str> = d.controllers.iter().map(|c| c.as_str()).collect();
                v2::apply(&d.dir, &enabled, r, s)?;
            } else {
                v1::apply(&d.dir, &d.controllers, r, s, update)?;
            }
        }
        Ok(())
    }

    /// The file in each group a task writes "0" to, to move itself in: v1's
    /// per-thread `tasks` (single-threaded pocket: the whole process), v2's
    /// `cgroup.procs`.
    pub fn join_files(&self) -> Result<Vec<CString>> {
        self.dirs
            .iter()
            .map(|d| {
                let f = if d.v2 { "cgroup.procs" } else { "tasks" };
                CString::new(format!("{}/{f}", d.dir))
                    .map_err(|_| Error::bad("cgroup", d.dir.clone(), "bad path"))
            })
            .collect()
    }

    /// Remove the groups (their processes must be gone), with the groups
    /// the container made below them (systemd or docker in it does):
    /// deepest first. The `pocket` parents stay: they are shared.
    pub fn remove(&self) -> Result<()> {
        self.remove_dirs(false).map(drop)
    }

    /// Remove the groups if they are empty (no process in them, no group
    /// below): one rmdir each, none of `remove`'s walks and waits; true if
    /// every one is gone. A container in a pid namespace of its own is
    /// empty once its init was reaped: its other processes died first.
    pub fn remove_if_empty(&self) -> bool {
        self.remove_dirs(true).is_ok_and(|all| all)
    }

    fn remove_dirs(&self, only_empty: bool) -> Result<bool> {
        let mut first = None;
        let mut all = true;
        for d in &self.dirs {
            // Only a group that held real-time budget gives any back, and
            // only to pocket's own parent (which it raised).
            let rt = !d.v2
                && d.controllers.iter().any(|c| c == "cpu")
                && files::read_u64(&d.dir, "cpu.rt_runtime_us").is_some_and(|r| r > 0);
            // Most have no group below them: tried at once, walked only
            // where that fails (~0.1 ms of opens and reads per container).
            let gone = match files::rmdir_once(&d.dir) {
                Ok(()) => Ok(()),
                Err(_) if only_empty => {
                    all = false;
                    continue;
                }
                Err(_) => {
                    for sub in subtree(&d.dir).iter().skip(1).rev() {
                        if let Err(e) = files::rmdir(sub) {
                            first.get_or_insert(e);
                        }
                    }
                    files::rmdir(&d.dir)
                }
            };
            if let Err(e) = gone {
                first.get_or_insert(e);
            } else if rt
                && let Some((parent, _)) = d.dir.rsplit_once('/')
                && parent.ends_with("/pocket")
            {
                v1::rt_release(parent);
            }
        }
        first.map_or(Ok(all), Err)
    }

    /// Freeze (`true`) or thaw every process of the group: v1's freezer
    /// (`freezer.state`), else v2's `cgroup.freeze`; returns once the
    /// kernel says the group is frozen (or thawed). ENODEV-like "no
    /// freezer" when the host has neither.
    pub fn freeze(&self, frozen: bool) -> Result<()> {
        let (file, want, done) = match self.dir_with("freezer") {
            Some(d) if !d.v2 => (
                (d.dir.as_str(), "freezer.state"),
                if frozen { "FROZEN" } else { "THAWED" },
                (
                    d.dir.as_str(),
                    "freezer.state",
                    if frozen { "FROZEN" } else { "THAWED" },
                ),
            ),
            _ => match self.dirs.iter().find(|d| d.v2) {
                Some(d) => (
                    (d.dir.as_str(), "cgroup.freeze"),
                    if frozen { "1" } else { "0" },
                    (
                        d.dir.as_str(),
                        "cgroup.events",
                        if frozen { "frozen 1" } else { "frozen 0" },
                    ),
                ),
                None => {
                    return Err(Error::bad(
                        "freeze",
                        self.path.clone(),
                        "this host has no cgroup freezer (neither v1 freezer nor cgroup v2)",
                    ));
                }
            },
        };
        files::write(file.0, file.1, want)?;
        // v1 goes through FREEZING while tasks stop; v2 sets "frozen 1" in
        // cgroup.events. A few ms usually; bounded at 5 s.
        for i in 0..500 {
            let now = files::read(done.0, done.1).unwrap_or_default();
            if now.lines().any(|l| l.trim() == done.2) {
                return Ok(());
            }
            crate::sys::time::sleep_ms(if i < 50 { 1 } else { 10 });
        }
        Err(Error::bad(
            "freeze",
            self.path.clone(),
            "the kernel did not finish freezing in 5 s",
        ))
    }

    /// Every process in the group and the groups below it (host pids,
    /// from the first hierarchy's cgroup.procs files, as runc's
    /// GetAllPids): `kill --all`, `ps`, `delete --force`.
    pub fn pids(&self) -> Vec<i32> {
        let Some(d) = self
            .dirs
            .iter()
            .find(|d| files::read(&d.dir, "cgroup.procs").is_some())
        else {
            return Vec::new();
        };
        subtree(&d.dir)
            .iter()
            .filter_map(|g| files::read(g, "cgroup.procs"))
            .flat_map(|t| {
                t.lines()
                    .filter_map(|l| l.trim().parse().ok())
                    .collect::<Vec<i32>>()
            })
            .collect()
    }

    fn dir_with(&self, c: &str) -> Option<&Dir> {
        let v2c = layout::v2_name(c);
        self.dirs
            .iter()
            .find(|d| d.controllers.iter().any(|x| x == c || (d.v2 && x == v2c)))
    }

    /// How often the kernel's OOM killer killed in the group (v2
    /// memory.events, v1 memory.oom_control; 0 where neither says).
    pub fn oom_kills(&self) -> u64 {
        self.dir_with("memory")
            .and_then(|d| {
                let file = if d.v2 {
                    "memory.events"
                } else {
                    "memory.oom_control"
                };
                files::read_keyed(&d.dir, file, "oom_kill")
            })
            .unwrap_or(0)
    }

    /// Usage counters, from whichever version holds each controller.
    pub fn stats(&self) -> Stats {
        let mut s = Stats::default();
        if let Some(d) = self.dir_with("cpuacct") {
            s.cpu_ns = if d.v2 {
                files::read_keyed(&d.dir, "cpu.stat", "usage_usec").map(|u| u * 1000)
            } else {
                files::read_u64(&d.dir, "cpuacct.usage")
            };
        }
        if let Some(d) = self.dir_with("memory") {
            if d.v2 {
                s.mem = files::read_u64(&d.dir, "memory.current");
                s.mem_limit = files::read_u64(&d.dir, "memory.max");
            } else {
                s.mem = files::read_u64(&d.dir, "memory.usage_in_bytes");
                // v1 reports "unlimited" as a huge page-aligned number.
                s.mem_limit =
                    files::read_u64(&d.dir, "memory.limit_in_bytes").filter(|l| *l < (1 << 62));
            }
        }
        if let Some(d) = self.dir_with("memory") {
            let key = if d.v2 {
                "inactive_file"
            } else {
                "total_inactive_file"
            };
            s.mem_inactive_file = files::read_keyed(&d.dir, "memory.stat", key);
        }
        if let Some(d) = self.dir_with("pids") {
            s.pids = files::read_u64(&d.dir, "pids.current");
        }
        if let Some(d) = self.dir_with("blkio") {
            s.io = match d.v2 {
                true => files::read(&d.dir, "io.stat").map(|t| io_stat_bytes(&t)),
                // runc's order: the first of these the kernel keeps
                // (the BFQ or CFQ scheduler's counters, else the throttle
                // layer's, which sees every request).
                false => {
                    let read: Vec<String> = [
                        "blkio.bfq.io_service_bytes_recursive",
                        "blkio.io_service_bytes_recursive",
                        "blkio.throttle.io_service_bytes_recursive",
                        "blkio.throttle.io_service_bytes",
                    ]
                    .iter()
                    .filter_map(|f| files::read(&d.dir, f))
                    .collect();
                    // None names a device (no I/O yet): docker's 0B / 0B.
                    let first = read.iter().find_map(|t| service_bytes(t));
                    first.or((!read.is_empty()).then_some((0, 0)))
                }
            };
        }
        s
    }
}

/// v1 `blkio.*io_service_bytes*`: `MAJ:MIN Read N` lines (and Write,
/// Sync, Async, Discard, Total per device, then a `Total N` line): the
/// bytes read and written, over every device. None when it names no
/// device (only `Total 0`: a scheduler no disk uses), as runc moves on.
fn service_bytes(t: &str) -> Option<(u64, u64)> {
    let (mut r, mut w) = (0u64, 0u64);
    let mut devices = false;
    for l in t.lines() {
        let mut f = l.split_whitespace();
        let (Some(_dev), Some(op), Some(n)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        let n = n.parse::<u64>().unwrap_or(0);
        devices = true;
        match op {
            "Read" => r = r.saturating_add(n),
            "Write" => w = w.saturating_add(n),
            _ => {}
        }
    }
    devices.then_some((r, w))
}

/// v2 `io.stat`: `MAJ:MIN rbytes=N wbytes=N rios=N ...` per device.
fn io_stat_bytes(t: &str) -> (u64, u64) {
    let (mut r, mut w) = (0u64, 0u64);
    for kv in t.split_whitespace() {
        let n = |v: &str| v.parse::<u64>().unwrap_or(0);
        if let Some(v) = kv.strip_prefix("rbytes=") {
            r = r.saturating_add(n(v));
        } else if let Some(v) = kv.strip_prefix("wbytes=") {
            w = w.saturating_add(n(v));
        }
    }
    (r, w)
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub cpu_ns: Option<u64>,
    /// The kernel's usage, page cache included (runc's `usage`).
    pub mem: Option<u64>,
    pub mem_limit: Option<u64>,
    /// Page cache not recently used (memory.stat's `inactive_file`, v1's
    /// `total_inactive_file`): what docker's stats leaves out of the usage.
    pub mem_inactive_file: Option<u64>,
    pub pids: Option<u64>,
    /// Bytes read and written on block devices.
    pub io: Option<(u64, u64)>,
}

/// Put the calling process into every cgroup `pid` is in (v1 hierarchies
/// and the v2 tree), as `exec` must: the new process is then counted and
/// limited with the container. Hierarchies where both already agree are
/// left alone.
pub fn join(pid: i32) -> Result<()> {
    let theirs = read(&format!("/proc/{pid}/cgroup"))?;
    let entries = detect::procs_entries(&theirs, mountinfo()).ok_or_else(|| {
        Error::bad(
            "join cgroup",
            format!("/proc/{pid}/cgroup"),
            "has a faked line",
        )
    })?;
    join_entries(&entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake pure-v2 tree: root with cgroup.controllers and
    /// subtree_control, created groups get their files from the test.
    #[test]
    fn create_enables_controllers_on_the_way_down_and_cleans_up() {
        let root = std::env::temp_dir().join(format!("pocket-cgv2-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("cgroup.controllers"), "cpuset cpu io memory pids").unwrap();
        std::fs::write(root.join("cgroup.subtree_control"), "").unwrap();
        let mi = format!("25 1 0:22 / {} rw - cgroup2 cgroup2 rw\n", root.display());
        let l = Layout::parse(mi.as_bytes(), |m| {
            std::fs::read(format!("{m}/cgroup.controllers")).unwrap()
        });
        let cg = open(&l, "pocket/abc").unwrap();
        assert_eq!(cg.dirs.len(), 1);
        // Plain directories do not grow control files by themselves: make
        // the pocket parent's ahead, as the kernel would.
        std::fs::create_dir_all(root.join("pocket/abc")).unwrap();
        for f in [
            "cgroup.subtree_control",
            "abc/memory.max",
            "abc/pids.max",
            "abc/cgroup.procs",
        ] {
            std::fs::write(root.join("pocket").join(f), "").unwrap();
        }
        let r = Resources {
            pids: Some(resources::Pids { limit: 7 }),
            ..Default::default()
        };
        cg.create(&r, &Support::default()).unwrap();
        let rd = |f: &str| std::fs::read_to_string(root.join(f)).unwrap();
        assert_eq!(
            rd("cgroup.subtree_control"),
            "+memory +cpu +cpuset +pids +io"
        );
        assert_eq!(
            rd("pocket/cgroup.subtree_control"),
            "+memory +cpu +cpuset +pids +io"
        );
        assert_eq!(rd("pocket/abc/pids.max"), "7");
        assert!(open(&l, "../x").is_err() && open(&l, "/").is_err() && open(&l, "a//b").is_err());
        assert_eq!(open(&l, "/pocket/abc").unwrap(), cg);
        std::fs::remove_dir_all(root).unwrap();
    }

    /// stats() reads both versions' files: usage, limit, the inactive page
    /// cache docker leaves out, CPU time, pids and block I/O.
    #[test]
    fn stats_from_fake_v1_and_v2_groups() {
        let root = std::env::temp_dir().join(format!("pocket-cgstats-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let put = |f: &str, v: &str| {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, v).unwrap();
        };
        put("v2/cgroup.controllers", "cpu io memory pids");
        for (f, v) in [
            ("memory.current", "1000000\n"),
            ("memory.max", "max\n"),
            (
                "memory.stat",
                "anon 5\ninactive_file 400000\nactive_file 9\n",
            ),
            ("cpu.stat", "usage_usec 1500\nuser_usec 1000\n"),
            ("pids.current", "3\n"),
            (
                "io.stat",
                "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n254:0 rbytes=1 wbytes=2 rios=1 wios=1 dbytes=0 dios=0\n",
            ),
        ] {
            put(&format!("v2/pocket/s/{f}"), v);
        }
        let mi = format!(
            "25 1 0:22 / {}/v2 rw - cgroup2 cgroup2 rw\n",
            root.display()
        );
        let l = Layout::parse(mi.as_bytes(), |m| {
            std::fs::read(format!("{m}/cgroup.controllers")).unwrap()
        });
        let st = open(&l, "pocket/s").unwrap().stats();
        assert_eq!(
            st,
            Stats {
                cpu_ns: Some(1_500_000),
                mem: Some(1_000_000),
                mem_limit: None,
                mem_inactive_file: Some(400_000),
                pids: Some(3),
                io: Some((4097, 8194)),
            }
        );

        let mut mi = String::new();
        for (i, c) in ["memory", "blkio"].iter().enumerate() {
            let m = root.join("v1").join(c);
            std::fs::create_dir_all(&m).unwrap();
            mi += &format!(
                "{} 1 0:{} / {} rw - cgroup cgroup rw,{c}\n",
                30 + i,
                40 + i,
                m.display()
            );
        }
        put("v1/memory/pocket/s/memory.usage_in_bytes", "5000\n");
        put(
            "v1/memory/pocket/s/memory.limit_in_bytes",
            "9223372036854771712\n",
        );
        put(
            "v1/memory/pocket/s/memory.stat",
            "cache 1\ninactive_file 7\ntotal_inactive_file 300\n",
        );
        // No scheduler's counters (the CFQ file there, naming no device):
        // the throttle layer's.
        put(
            "v1/blkio/pocket/s/blkio.io_service_bytes_recursive",
            "Total 0\n",
        );
        put(
            "v1/blkio/pocket/s/blkio.throttle.io_service_bytes_recursive",
            "8:0 Read 100\n8:0 Write 200\n8:0 Sync 300\n8:0 Async 0\n8:0 Discard 0\n8:0 Total 300\n254:0 Read 1\n254:0 Write 2\nTotal 303\n",
        );
        let l = Layout::parse(mi.as_bytes(), |_| Vec::new());
        let st = open(&l, "pocket/s").unwrap().stats();
        assert_eq!(
            (st.mem, st.mem_limit, st.mem_inactive_file, st.io),
            (Some(5000), None, Some(300), Some((101, 202)))
        );
        // No I/O yet: every file says only `Total 0`; zero, not unknown.
        put(
            "v1/blkio/pocket/s/blkio.throttle.io_service_bytes_recursive",
            "Total 0\n",
        );
        assert_eq!(open(&l, "pocket/s").unwrap().stats().io, Some((0, 0)));
        std::fs::remove_dir_all(root).unwrap();
    }

    /// v1: a group whose parent is missing makes it (the group's own
    /// mkdir meets ENOENT: pids here); where it is there, the group alone
    /// is made, and a cpuset group gets its parent's CPUs and nodes.
    #[test]
    fn v1_groups_make_a_missing_parent_and_copy_cpusets_down() {
        let root = std::env::temp_dir().join(format!("pocket-cgv1-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let mut mi = String::new();
        for (i, c) in ["pids", "cpuset"].iter().enumerate() {
            std::fs::create_dir_all(root.join(c)).unwrap();
            let m = root.join(c);
            mi += &format!(
                "{} 1 0:{} / {} rw - cgroup cgroup rw,{c}\n",
                30 + i,
                40 + i,
                m.display()
            );
        }
        let l = Layout::parse(mi.as_bytes(), |_| Vec::new());
        // Control files do not grow in plain directories: the cpuset
        // ones are made ahead, as the kernel would (empty in a new group).
        let put = |f: &str, v: &str| {
            let p = root.join("cpuset").join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, v).unwrap();
        };
        put("pocket/cpuset.cpus", "0-1\n");
        put("pocket/cpuset.mems", "0\n");
        put("pocket/cgroup.clone_children", "0");
        let rd = |f: &str| std::fs::read_to_string(root.join(f)).unwrap();
        for id in ["a", "b"] {
            put(&format!("pocket/{id}/cpuset.cpus"), "");
            put(&format!("pocket/{id}/cpuset.mems"), "");
            let cg = open(&l, &format!("pocket/{id}")).unwrap();
            assert_eq!(cg.dirs.len(), 2, "{cg:?}");
            cg.create(&Resources::default(), &Support::default())
                .unwrap();
            assert!(root.join(format!("pids/pocket/{id}")).is_dir());
            assert_eq!(rd(&format!("cpuset/pocket/{id}/cpuset.cpus")).trim(), "0-1");
            assert_eq!(rd(&format!("cpuset/pocket/{id}/cpuset.mems")).trim(), "0");
        }
        assert_eq!(rd("cpuset/pocket/cgroup.clone_children"), "1");
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn cgroups_paths_as_engines_give_them() {
        let ok = |p: &str| normalize(p).unwrap();
        assert_eq!(ok("pocket/abc"), "pocket/abc");
        assert_eq!(ok("/libpod_parent/libpod-abc"), "libpod_parent/libpod-abc");
        assert_eq!(
            ok("system.slice:cri-containerd:abc"),
            "system.slice/cri-containerd-abc.scope"
        );
        assert_eq!(
            ok("kubepods-besteffort-pod1.slice:cri-containerd:abc"),
            "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/cri-containerd-abc.scope"
        );
        assert_eq!(ok(":docker:abc"), "system.slice/docker-abc.scope");
        assert_eq!(ok("machine.slice::abc"), "machine.slice/abc.scope");
        assert_eq!(ok("-.slice:p:x"), "p-x.scope");
        assert_eq!(ok("system.slice::my.slice"), "system.slice/my.slice");
        for bad in [
            "",
            "/",
            "//",
            "/a/../b",
            "a/./b",
            "../x",
            "a:b:c",
            "x.slice:p:",
            "a-.slice:p:x",
            "system.slice:p:../x",
            "a\0b",
        ] {
            assert!(normalize(bad).is_err(), "{bad:?}");
        }
    }
}
