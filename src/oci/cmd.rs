//! runc's commands over the container core: create, start, run, state,
//! list, kill, delete, pause, resume, ps, update, events.

use super::Ctx;
use super::args::{check_id, command, id};
use crate::cli::args::{Flag, flag, text};
use crate::container::{self, network};
use crate::error::{Context, Error, Result};
use crate::json::{self, Value};
use crate::spawn::parent;
use crate::spec::Spec;
use crate::state::record::{alive, start_time};
use crate::state::{Record, Status};
use crate::sys::{fd, fs, proc};
use alloc::string::String;
use alloc::vec::Vec;

pub fn dispatch(ctx: &Ctx, argv: &[&[u8]]) -> Result<i32> {
    let Some((&cmd, rest)) = argv.split_first() else {
        crate::help::print("pocket-runc");
        return Ok(0);
    };
    match cmd {
        b"create" => create(ctx, rest, false),
        b"run" => create(ctx, rest, true),
        b"start" => start(ctx, rest),
        b"state" => state(ctx, rest),
        b"list" | b"ls" => list(ctx, rest),
        b"kill" => kill(ctx, rest),
        b"delete" | b"rm" => delete(ctx, rest),
        b"pause" => pause(ctx, rest, true),
        b"resume" => pause(ctx, rest, false),
        b"ps" => ps(ctx, rest),
        b"update" => update(ctx, rest),
        b"events" => events(ctx, rest),
        b"exec" => super::exec::exec(ctx, rest),
        b"features" => super::info::features(),
        b"spec" => super::info::spec(rest),
        b"--version" | b"version" => super::info::version(),
        b"--help" | b"help" => {
            crate::help::print("pocket-runc");
            Ok(0)
        }
        _ => Err(Error::bad(
            "No help topic for",
            alloc::format!("'{}'", text(cmd)),
            "see --help",
        )),
    }
}

/// The OCI status of a record: created (waiting for start), running,
/// paused, stopped (its init is gone).
pub fn status(rec: &Record) -> &'static str {
    let up = alive(rec.pid, rec.pid_start);
    match rec.status {
        _ if !up => "stopped",
        Status::Created => "created",
        Status::Running if rec.paused => "paused",
        Status::Running => "running",
        Status::Exited => "stopped",
    }
}

fn load(ctx: &Ctx, id: &str) -> Result<Record> {
    if check_id(id).is_err() {
        return Err(Error::bad(
            "container does not exist",
            String::from(id),
            "no such id",
        ));
    }
    ctx.store
        .load(id)
        .map_err(|_| Error::text(String::from("container does not exist")))
}

/// The bundle's config.json as a Spec: root.path relative to the bundle,
/// the cgroups path made pocket's (relative to each hierarchy; systemd's
/// `slice:prefix:name` as cgroupfs would name it).
fn load_spec(ctx: &Ctx, bundle: &str, id: &str) -> Result<Spec> {
    let path = alloc::format!("{bundle}/config.json");
    let data = fs::read(&crate::error::cpath(&path)?).ctx("open", &path)?;
    let mut v =
        json::parse(&data).map_err(|e| Error::bad("config.json", "", alloc::format!("{e}")))?;
    // pocket's own io.pocket.* annotations (overlay dirs, a bridge and an
    // address...) mean something only in pocket's records: from a bundle
    // (podman --annotation, a pod's annotations) they could point an
    // overlay's upper dir at any host directory. Only the built-in seccomp
    // profile, which makes things stricter, may come that way.
    if let Value::Obj(top) = &mut v {
        for (k, a) in top.iter_mut() {
            if let (true, Value::Obj(a)) = (k == "annotations", a) {
                a.retain(|(k, val)| {
                    !k.starts_with("io.pocket.")
                        || (k == "io.pocket.seccomp" && val.str() == Some("builtin"))
                });
            }
        }
    }
    let mut spec = crate::spec::oci::from_bundle(bundle, &v)?;
    spec.cgroups_path = Some(cgroups_path(
        spec.cgroups_path.as_deref(),
        id,
        ctx.systemd_cgroup,
    )?);
    // runc's own device rules come after the config's (podman's config
    // only denies all): /dev/null, zero, ptmx, pts... and mknod of any.
    spec.resources.devices.extend(
        crate::cgroup::devices::defaults()
            .into_iter()
            .filter(|r| r.allow),
    );
    // An engine made the namespaces' contents; pocket only what the
    // config says. The container's stdin is pocket's own (a pipe from the
    // engine, or /dev/null).
    spec.io.stdin = true;
    // runc's HOME where the config has none, for the init alone (an exec
    // as another user gets its own: oci::exec).
    spec.default_home = true;
    Ok(spec)
}

/// linux.cgroupsPath as a path below each hierarchy's root: absolute
/// (`/libpod_parent/libpod-ID`) or relative, never with `..`; systemd's
/// `slice:prefix:name` (with --systemd-cgroup) as `slice/prefix-name.scope`,
/// the path systemd would give it, since pocket talks to no systemd;
/// none: `pocket/ID`, next to the docker CLI's containers.
pub fn cgroups_path(p: Option<&str>, id: &str, systemd: bool) -> Result<String> {
    let p = match p.filter(|p| !p.is_empty()) {
        None => return Ok(alloc::format!("pocket/{id}")),
        Some(p) => p,
    };
    let bad = || {
        Error::bad(
            "config.json",
            "linux.cgroupsPath",
            alloc::format!("bad path '{p}'"),
        )
    };
    let path = if systemd {
        // slice:prefix:name, nested as systemd nests slices.
        crate::cgroup::normalize(p).map_err(|_| bad())?
    } else {
        // Without --systemd-cgroup a ':' is part of a name, as with runc.
        let rel = p.trim_start_matches('/');
        if rel.is_empty()
            || rel
                .split('/')
                .any(|c| c.is_empty() || c == "." || c == "..")
        {
            return Err(bad());
        }
        String::from(rel)
    };
    // pocket's own parent holds every docker-side container.
    if path == "pocket" {
        return Err(bad());
    }
    Ok(path)
}

/// runc 1.2's rule: a container's cgroup must not be somebody else's. One
/// that exists and holds processes (an admin's slice, another container's
/// group) is refused; limits, freezing and `kill --all` would reach them.
fn check_cgroup_free(path: &str) -> Result<()> {
    let cg = crate::cgroup::open(crate::cgroup::layout(), path)?;
    if cg.dirs.iter().any(|d| populated(&d.dir)) {
        return Err(Error::text(alloc::format!(
            "container's cgroup is not empty: {path}"
        )));
    }
    Ok(())
}

/// Any process in `dir` or below (v1 has no cgroup.events: walked).
fn populated(dir: &str) -> bool {
    let procs =
        fs::read(&crate::error::cpath(&alloc::format!("{dir}/cgroup.procs")).unwrap_or_default())
            .unwrap_or_default();
    if procs.iter().any(|c| c.is_ascii_digit()) {
        return true;
    }
    crate::cgroup::list_groups(dir)
        .iter()
        .any(|g| populated(&alloc::format!("{dir}/{g}")))
}

/// Kill every process of a container: its cgroup frozen first so none
/// forks or exits (pid reuse) between the list and the signal, as runc's
/// signalAllProcesses does; then thawed, so the SIGKILL lands. And its
/// init through a pidfd checked against its start time.
fn kill_everything(rec: &Record, spec: Option<&Spec>) {
    let cg = spec
        .and_then(|s| s.cgroups_path.as_deref())
        .and_then(|p| crate::cgroup::open(crate::cgroup::layout(), p).ok());
    // An empty group (the init gone, as after most runs) has nothing to
    // freeze: no process is left in it to fork.
    if let Some(cg) = cg.filter(|g| !g.pids().is_empty()) {
        let frozen = cg.freeze(true).is_ok();
        for pid in cg.pids() {
            let _ = proc::kill(pid, libc::SIGKILL);
        }
        if frozen || rec.paused {
            let _ = cg.freeze(false);
        }
    }
    if let Ok(f) = proc::pidfd_open(rec.pid)
        && start_time(rec.pid) == Some(rec.pid_start)
    {
        let _ = proc::pidfd_send_signal(&f, libc::SIGKILL);
        crate::sys::procfs::wait_pidfd(&f, 5000);
    }
}

const CREATE_FLAGS: &[Flag] = &[
    flag(b'b', "bundle", true),
    flag(0, "pid-file", true),
    flag(0, "console-socket", true),
    flag(0, "no-pivot", false),
    flag(0, "no-new-keyring", false),
    flag(0, "preserve-fds", true),
    flag(b'd', "detach", false),
    flag(0, "keep", false),
    flag(0, "no-subreaper", false),
    flag(0, "help", false),
];

/// `create [--bundle DIR] [--pid-file F] [--console-socket S] ID`, and
/// `run` (create + start, waiting for the end unless --detach).
fn create(ctx: &Ctx, argv: &[&[u8]], run: bool) -> Result<i32> {
    let name = if run { "run" } else { "create" };
    let p = command(name, CREATE_FLAGS, argv)?;
    let id = id(name, &p)?;
    check_id(id)?;
    if ctx.store.load(id).is_ok() {
        return Err(Error::text(alloc::format!(
            "container with id exists: {id}"
        )));
    }
    // The init runs pocket's code until its execve, and nobody of pocket's
    // stays to keep the file busy: only from a sealed copy (CVE-2019-5736).
    crate::spawn::sealed::ensure(ctx.args, &ctx.store.run, || None)?;
    let listen = listen_fds(&ctx.args.env)?;
    let bundle = absolute(&text(p.value(CREATE_FLAGS, "bundle").unwrap_or(b".")))?;
    let mut spec = load_spec(ctx, &bundle, id)?;
    // runc --rootless: a plain user's container has its group below the
    // cgroup v2 subtree delegated to it (cgroup::delegate); where there is
    // none (v1, or no delegation) it has none, and the config's limits go
    // unenforced, as with runc. No device program either way: that needs
    // the host's CAP_SYS_ADMIN.
    // (Real root asking --rootless=true keeps its device rules and the
    // config's cgroup: only a process that cannot make them goes without.)
    if ctx.rootless && (crate::sys::proc::geteuid() != 0 || crate::sys::procfs::in_user_namespace())
    {
        spec.resources.devices.clear();
        match &crate::cgroup::host().parent {
            Some(p) => spec.cgroups_path = Some(alloc::format!("{p}/{id}")),
            None => {
                spec.cgroups_path = None;
                spec.resources = Default::default();
            }
        }
    }
    if let Some(p) = &spec.cgroups_path {
        check_cgroup_free(p)?;
    }
    spec.no_pivot = p.on(CREATE_FLAGS, "no-pivot");
    spec.no_new_keyring = p.on(CREATE_FLAGS, "no-new-keyring");
    let preserve = match p.value(CREATE_FLAGS, "preserve-fds") {
        Some(v) => text(v)
            .parse::<u32>()
            .map_err(|_| Error::bad("--preserve-fds", text(v), "not a number"))?,
        None => 0,
    };
    let console = match (
        spec.process.terminal,
        p.value(CREATE_FLAGS, "console-socket"),
    ) {
        (true, Some(s)) => Some(
            crate::sys::sock::connect_unix(s)
                .map_err(|e| Error::sys("connect console socket", text(s), e))?,
        ),
        (true, None) if !run => {
            return Err(Error::text(String::from(
                "cannot allocate tty if runc will detach without setting console socket",
            )));
        }
        _ => None,
    };
    let rec = container::create(
        &ctx.store,
        &mut spec,
        container::Options {
            id: String::from(id),
            name: crate::rt::names::valid(id).then_some(id),
            image: bundle.clone(),
            network: network::Request {
                mode: network::Mode::Spec,
                ..Default::default()
            },
            auto_remove: false,
            starts: run,
            logged: false,
            bundle,
            labels: alloc::vec::Vec::new(),
            stop_signal: 0,
            stop_timeout: None,
            restart: crate::container::restart::Policy::No,
            healthcheck: None,
            log: Default::default(),
            aliases: alloc::vec::Vec::new(),
            image_lock: None,
        },
    )?;
    // systemd's socket activation, as runc passes it on: the sockets the
    // caller got (fds 3..3+LISTEN_FDS, when LISTEN_PID is this process)
    // go in first, before the --preserve-fds ones, and the command is
    // told of them as the init of its namespace (not kept in the config).
    let activated = (listen > 0).then(|| {
        let mut s = spec.clone();
        crate::spec::setenv(
            &mut s.process.env,
            alloc::format!("LISTEN_FDS={listen}").into_bytes(),
        );
        crate::spec::setenv(&mut s.process.env, b"LISTEN_PID=1".to_vec());
        s
    });
    let made = init(
        ctx,
        &rec,
        activated.as_ref().unwrap_or(&spec),
        listen.saturating_add(preserve),
        console.as_ref(),
        p.value(CREATE_FLAGS, "pid-file"),
    );
    let gone = |ctx: &Ctx| {
        // A created init waits on its fifo: killed, not just forgotten.
        if let Ok(r) = ctx.store.load(id) {
            kill_everything(&r, Some(&spec));
        }
        let _ = container::delete(&ctx.store, id, true, false);
    };
    let mut init = match made {
        Ok(r) => r,
        Err(e) => {
            gone(ctx);
            return Err(e);
        }
    };
    if !run {
        return Ok(0);
    }
    if let Err(e) = open_fifo(ctx, id) {
        gone(ctx);
        return Err(e);
    }
    if p.on(CREATE_FLAGS, "detach") {
        return Ok(0);
    }
    // Foreground: this process is the init's parent; signals are passed
    // on and its terminal relayed (without a console socket), its status
    // is ours.
    let code = crate::spawn::relay::run(init.pid, &init.sfd, init.master.as_ref(), true);
    init.master = None;
    let _ = container::delete(&ctx.store, id, true, false);
    code
}

/// LISTEN_FDS of `env`, if LISTEN_PID is this process (sd_listen_fds(3)),
/// else 0; each of those fds must be open, and the caller's (kept across
/// execve: pocket's own are close-on-exec), as runc fails on one that is
/// not.
fn listen_fds(env: &[&[u8]]) -> Result<u32> {
    let num = |k: &[u8]| {
        crate::rt::args::lookup(env, k)
            .and_then(|v| core::str::from_utf8(v).ok()?.parse::<u32>().ok())
    };
    let n = match num(b"LISTEN_PID") {
        Some(pid) if pid as i32 == crate::sys::proc::getpid() => num(b"LISTEN_FDS").unwrap_or(0),
        _ => return Ok(0),
    };
    for f in 3..3u32.saturating_add(n) {
        if !fd::inherited(f as i32) {
            return Err(Error::bad(
                "LISTEN_FDS",
                alloc::format!("{n}"),
                alloc::format!("fd {f} is not open"),
            ));
        }
    }
    Ok(n)
}

/// Clone the container's init, set up and waiting on the exec fifo;
/// record it; write the pid file; hand the pty to the console socket.
fn init(
    ctx: &Ctx,
    rec: &Record,
    spec: &Spec,
    preserve: u32,
    console: Option<&fd::Fd>,
    pid_file: Option<&[u8]>,
) -> Result<parent::Running> {
    let dir = ctx.store.run_dir(&rec.id);
    let fifo = alloc::format!("{dir}/exec.fifo");
    let fc = crate::error::cpath(&fifo)?;
    // 0622 as runc's: a container process that dropped to another user
    // still opens it for writing (through /proc/self/fd); the state dir
    // is 0700, so no one else reaches it by its path.
    crate::sys::mount::mknodat(libc::AT_FDCWD, &fc, libc::S_IFIFO | 0o622, 0, 0)
        .ctx("mkfifo", &fifo)?;
    // (the umask took the write bits off)
    crate::sys::mount::fchmodat(libc::AT_FDCWD, &fc, 0o622).ctx("chmod", &fifo)?;
    let f = fd::open(&fc, libc::O_PATH | libc::O_CLOEXEC, 0).ctx("open", &fifo)?;
    let mut r = parent::create(
        spec,
        parent::INHERIT,
        &parent::Waiting {
            fifo: &f,
            preserve_fds: preserve,
            id: &rec.id,
            bundle: &rec.bundle,
        },
    )?;
    // The cgroup stays with the container until `delete`: nobody here
    // waits for it (the engine reaps it).
    let _ = r.cgroup.take();
    let pid = r.pid;
    let joins = crate::cgroup::files_of(pid);
    {
        let _l = ctx.store.lock(&rec.id)?;
        let mut rec = ctx.store.load(&rec.id)?;
        rec.pid = pid;
        rec.pid_start = start_time(pid).unwrap_or(0);
        rec.cgroups = joins;
        rec.monitor_pid = 0;
        rec.monitor_start = 0;
        ctx.store.save(&rec)?;
    }
    if let (Some(sock), Some(m)) = (console, r.master.take()) {
        crate::sys::sock::send_fd(sock.raw(), m.raw()).ctx("send pty", "console socket")?;
    }
    if let Some(pf) = pid_file {
        write_pid_file(&text(pf), pid)?;
    }
    Ok(r)
}

/// The pid file, written whole or not at all (engines read it at once):
/// a temporary file renamed over it. Its directory is opened first, so it
/// can be written after this process entered a container (`exec`).
pub struct PidFile {
    dir: fd::Fd,
    name: String,
    path: String,
}

impl PidFile {
    pub fn prepare(path: &str) -> Result<PidFile> {
        let path = absolute(path)?;
        let (d, name) = path.rsplit_once('/').unwrap_or(("/", &path));
        let d = if d.is_empty() { "/" } else { d };
        let dir = fd::open(
            &crate::error::cpath(d)?,
            libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
            0,
        )
        .ctx("open pid file directory", d)?;
        Ok(PidFile {
            dir,
            name: String::from(name),
            path: path.clone(),
        })
    }

    pub fn write(&self, pid: i32) -> Result<()> {
        let tmp = alloc::format!(".{}.tmp{}", self.name, proc::getpid());
        let (t, n) = (crate::error::cpath(&tmp)?, crate::error::cpath(&self.name)?);
        let flags =
            libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_CLOEXEC | libc::O_NOFOLLOW;
        let f = fd::openat(self.dir.raw(), &t, flags, 0o644).ctx("write pid file", &self.path)?;
        fd::write_all(f.raw(), alloc::format!("{pid}").as_bytes())
            .ctx("write pid file", &self.path)?;
        drop(f);
        fs::renameat(self.dir.raw(), &t, self.dir.raw(), &n).ctx("write pid file", &self.path)
    }
}

pub fn write_pid_file(path: &str, pid: i32) -> Result<()> {
    PidFile::prepare(path)?.write(pid)
}

/// `path` made absolute against the working directory.
fn absolute(path: &str) -> Result<String> {
    if path.starts_with('/') {
        let p = path.trim_end_matches('/');
        return Ok(String::from(if p.is_empty() { "/" } else { p }));
    }
    let mut buf = [0u8; 4096];
    let cwd = proc::getcwd(&mut buf).ctx("getcwd", "")?;
    let cwd = String::from_utf8_lossy(cwd).into_owned();
    let p = path.trim_start_matches("./").trim_end_matches('/');
    Ok(if p == "." || p.is_empty() {
        cwd
    } else {
        alloc::format!("{}/{p}", cwd.trim_end_matches('/'))
    })
}

const NO_FLAGS: &[Flag] = &[flag(0, "help", false)];

/// `start ID`: let the waiting init go (open its exec fifo and read the
/// byte it writes right before its execve).
fn start(ctx: &Ctx, argv: &[&[u8]]) -> Result<i32> {
    let p = command("start", NO_FLAGS, argv)?;
    let id = id("start", &p)?;
    let rec = load(ctx, id)?;
    match status(&rec) {
        "created" => {}
        "stopped" => {
            return Err(Error::text(String::from(
                "cannot start a container that has stopped",
            )));
        }
        _ => {
            return Err(Error::text(String::from(
                "cannot start an already running container",
            )));
        }
    }
    open_fifo(ctx, id)?;
    Ok(0)
}

fn open_fifo(ctx: &Ctx, id: &str) -> Result<()> {
    let fifo = alloc::format!("{}/exec.fifo", ctx.store.run_dir(id));
    let fc = crate::error::cpath(&fifo)?;
    // Non-blocking: an init that died meanwhile must not hang `start`.
    let f = fd::open(&fc, libc::O_RDONLY | libc::O_NONBLOCK | libc::O_CLOEXEC, 0)
        .map_err(|_| Error::text(String::from("cannot start a container that has stopped")))?;
    let rec = load(ctx, id)?;
    let mut b = [0u8; 1];
    let mut got = false;
    for _ in 0..10_000 {
        match fd::read(f.raw(), &mut b) {
            Ok(1) => {
                got = true;
                break;
            }
            // EOF before any writer, or EAGAIN: the init has not opened
            // its end yet (it does, right after create); gone: give up.
            _ if !alive(rec.pid, rec.pid_start) => break,
            _ => {
                let mut pf = [libc::pollfd {
                    fd: f.raw(),
                    events: libc::POLLIN,
                    revents: 0,
                }];
                let _ = fd::poll(&mut pf, 10);
            }
        }
    }
    if !got {
        return Err(Error::text(String::from(
            "cannot start a container that has stopped",
        )));
    }
    // From here on the record reads as running (`Store::load`).
    let _ = fs::unlinkat(libc::AT_FDCWD, &fc, 0);
    // After the user's process started; a failure is only a warning.
    hooks(ctx, &rec, "poststart", "running");
    Ok(())
}

/// Run the front end's hooks (`poststart`, `poststop`) with the state
/// document on stdin; their failures are warnings, as the spec says.
fn hooks(ctx: &Ctx, rec: &Record, point: &str, status: &str) {
    // Most bundles have none: not worth parsing the whole config for.
    if !ctx.store.config_mentions(&rec.id, point) {
        return;
    }
    let Ok(spec) = ctx.store.spec(&rec.id) else {
        return;
    };
    let list = match point {
        "poststart" => &spec.hooks.poststart,
        _ => &spec.hooks.poststop,
    };
    if list.is_empty() {
        return;
    }
    let doc = crate::spawn::hooks::StateDoc::new(&rec.id, &rec.bundle, &spec.annotations);
    crate::spawn::hooks::warn_all(point, list, &doc.render(status, rec.pid));
}

/// runc's state document.
fn state_json(ctx: &Ctx, rec: &Record) -> Value {
    let spec = ctx.store.spec(&rec.id).ok();
    let st = status(rec);
    let pid = if st == "stopped" { 0 } else { rec.pid };
    let rootfs = spec
        .as_ref()
        .map(|s| String::from_utf8_lossy(&s.root.path).into_owned())
        .unwrap_or_default();
    json::obj!(
        ("ociVersion", Some(json::str("1.0.2"))),
        ("id", Some(json::str(&rec.id))),
        ("pid", Some(json::num(pid))),
        ("status", Some(json::str(st))),
        ("bundle", Some(json::str(&rec.bundle))),
        ("rootfs", Some(json::str(&rootfs))),
        (
            "created",
            Some(json::str(&crate::rt::time::rfc3339_nano_trimmed(
                rec.created
            )))
        ),
        ("owner", Some(json::str(""))),
    )
}

fn state(ctx: &Ctx, argv: &[&[u8]]) -> Result<i32> {
    let p = command("state", NO_FLAGS, argv)?;
    let rec = load(ctx, id("state", &p)?)?;
    crate::outln!("{}", json::pretty(&state_json(ctx, &rec)));
    Ok(0)
}

const LIST_FLAGS: &[Flag] = &[
    flag(b'f', "format", true),
    flag(b'q', "quiet", false),
    flag(0, "help", false),
];

fn list(ctx: &Ctx, argv: &[&[u8]]) -> Result<i32> {
    let p = command("list", LIST_FLAGS, argv)?;
    let recs = ctx.store.list().unwrap_or_default();
    if p.on(LIST_FLAGS, "quiet") {
        for r in &recs {
            crate::outln!("{}", r.id);
        }
        return Ok(0);
    }
    if p.value(LIST_FLAGS, "format") == Some(b"json") {
        let all: Vec<Value> = recs.iter().map(|r| state_json(ctx, r)).collect();
        crate::outln!("{}", json::compact(&Value::Arr(all)));
        return Ok(0);
    }
    let mut rows = alloc::vec![alloc::vec![
        String::from("ID"),
        "PID".into(),
        "STATUS".into(),
        "BUNDLE".into(),
        "CREATED".into(),
        "OWNER".into(),
    ]];
    for r in &recs {
        let st = status(r);
        rows.push(alloc::vec![
            r.id.clone(),
            alloc::format!("{}", if st == "stopped" { 0 } else { r.pid }),
            String::from(st),
            r.bundle.clone(),
            crate::rt::time::rfc3339_nano_trimmed(r.created),
            String::from("root"),
        ]);
    }
    crate::rt::out().bytes(crate::cli::table::render_min(&rows, 12).as_bytes());
    Ok(0)
}

/// runc's signal argument: a number, or a name with or without SIG.
fn signal(s: &str) -> Result<i32> {
    crate::cli::manage::parse_signal(s)
        .ok_or_else(|| Error::bad("invalid signal", String::from(s), "use a name or a number"))
}

const KILL_FLAGS: &[Flag] = &[flag(b'a', "all", false), flag(0, "help", false)];

/// `kill [--all] ID [SIGNAL]` (default SIGTERM).
fn kill(ctx: &Ctx, argv: &[&[u8]]) -> Result<i32> {
    let p = command("kill", KILL_FLAGS, argv)?;
    let id = id("kill", &p)?;
    let sig = match p.rest.get(1) {
        Some(s) => signal(&text(s))?,
        None => libc::SIGTERM,
    };
    let rec = load(ctx, id)?;
    if status(&rec) == "stopped" && !p.on(KILL_FLAGS, "all") {
        return Err(Error::text(String::from("container not running")));
    }
    if p.on(KILL_FLAGS, "all") {
        // Frozen while signalled: no fork escapes the list, no pid is
        // reused between reading it and the kill (runc's way).
        let cg = group(ctx, &rec)?;
        let frozen = !rec.paused && cg.freeze(true).is_ok();
        for pid in cg.pids() {
            let _ = proc::kill(pid, sig);
        }
        if frozen || (sig == libc::SIGKILL && rec.paused) {
            let _ = cg.freeze(false);
            if rec.paused {
                let _ = container::resume(&ctx.store, &rec);
            }
        }
        return Ok(0);
    }
    signal_init(ctx, &rec, sig)
}

/// Signal the init through a pidfd checked against its start time.
fn signal_init(ctx: &Ctx, rec: &Record, sig: i32) -> Result<i32> {
    let f = proc::pidfd_open(rec.pid)
        .map_err(|_| Error::text(String::from("container not running")))?;
    if start_time(rec.pid) != Some(rec.pid_start) {
        return Err(Error::text(String::from("container not running")));
    }
    proc::pidfd_send_signal(&f, sig).ctx("kill", &rec.id)?;
    if sig == libc::SIGKILL && rec.paused {
        let _ = container::resume(&ctx.store, rec);
    }
    Ok(0)
}

fn group(ctx: &Ctx, rec: &Record) -> Result<crate::cgroup::Cgroup> {
    let spec = ctx.store.spec(&rec.id)?;
    let path = spec
        .cgroups_path
        .ok_or_else(|| Error::text(String::from("container has no cgroup")))?;
    crate::cgroup::open(crate::cgroup::layout(), &path)
}

const DELETE_FLAGS: &[Flag] = &[flag(b'f', "force", false), flag(0, "help", false)];

/// `delete [--force] ID`: a stopped container goes; a running one only
/// with --force (killed first). An unknown id with --force is no error
/// (containerd deletes twice).
fn delete(ctx: &Ctx, argv: &[&[u8]]) -> Result<i32> {
    let p = command("delete", DELETE_FLAGS, argv)?;
    let id = id("delete", &p)?;
    let force = p.on(DELETE_FLAGS, "force");
    let rec = match load(ctx, id) {
        Ok(r) => r,
        Err(_) if force => return Ok(0),
        Err(e) => return Err(e),
    };
    let st = status(&rec);
    if st != "stopped" && st != "created" && !force {
        return Err(Error::text(alloc::format!(
            "cannot delete container {id} that is not stopped: {st}"
        )));
    }
    // Every process of it, the waiting init included; after a stopped
    // init too: without a pid namespace of its own, its orphans live on.
    // Read once, before the record goes: its cgroup, its hooks.
    let spec = ctx.store.spec(&rec.id).ok();
    kill_everything(&rec, spec.as_ref());
    let poststop = spec
        .as_ref()
        .filter(|s| !s.hooks.poststop.is_empty())
        .map(|s| (s.hooks.poststop.clone(), s.annotations.clone()));
    container::delete_with(&ctx.store, id, true, false, spec)?;
    if let Some((hooks, annotations)) = poststop {
        let doc = crate::spawn::hooks::StateDoc::new(&rec.id, &rec.bundle, &annotations);
        crate::spawn::hooks::warn_all("poststop", &hooks, &doc.render("stopped", 0));
    }
    Ok(0)
}

fn pause(ctx: &Ctx, argv: &[&[u8]], freeze: bool) -> Result<i32> {
    let cmd = if freeze { "pause" } else { "resume" };
    let p = command(cmd, NO_FLAGS, argv)?;
    let rec = load(ctx, id(cmd, &p)?)?;
    match (freeze, status(&rec)) {
        (true, "running") => container::pause(&ctx.store, &rec)?,
        (false, "paused") => container::resume(&ctx.store, &rec)?,
        (true, "paused") => {}
        (false, "running") => return Err(Error::text(String::from("container not paused"))),
        _ => return Err(Error::text(String::from("container not running"))),
    }
    Ok(0)
}

const PS_FLAGS: &[Flag] = &[flag(b'f', "format", true), flag(0, "help", false)];

/// `ps [--format table|json] ID`: the container's processes (host pids).
fn ps(ctx: &Ctx, argv: &[&[u8]]) -> Result<i32> {
    let p = command("ps", PS_FLAGS, argv)?;
    let rec = load(ctx, id("ps", &p)?)?;
    let pids = group(ctx, &rec)?.pids();
    if p.value(PS_FLAGS, "format") == Some(b"json") {
        let v: Vec<Value> = pids.iter().map(|p| json::num(*p)).collect();
        crate::outln!("{}", json::compact(&Value::Arr(v)));
        return Ok(0);
    }
    let mut rows = alloc::vec![alloc::vec![String::from("PID"), String::from("CMD")]];
    for pid in pids {
        let cmd = fs::read(&crate::error::cpath(&alloc::format!(
            "/proc/{pid}/cmdline"
        ))?)
        .unwrap_or_default();
        let cmd: Vec<String> = cmd
            .split(|&c| c == 0)
            .filter(|a| !a.is_empty())
            .map(text)
            .collect();
        rows.push(alloc::vec![alloc::format!("{pid}"), cmd.join(" ")]);
    }
    crate::rt::out().bytes(crate::cli::table::render_min(&rows, 20).as_bytes());
    Ok(0)
}

const UPDATE_FLAGS: &[Flag] = &[
    flag(0, "resources", true),
    flag(b'r', "r", true),
    flag(0, "help", false),
];

/// `update --resources FILE|- ID`: OCI LinuxResources JSON.
fn update(ctx: &Ctx, argv: &[&[u8]]) -> Result<i32> {
    let p = command("update", UPDATE_FLAGS, argv)?;
    let id = id("update", &p)?;
    let _ = load(ctx, id)?;
    let src = p
        .value(UPDATE_FLAGS, "resources")
        .or_else(|| p.value(UPDATE_FLAGS, "r"))
        .ok_or_else(|| Error::bad("update", "", "needs --resources FILE (or - for stdin)"))?;
    let data = if src == b"-" {
        let mut out = Vec::new();
        let mut b = [0u8; 4096];
        loop {
            match fd::read(0, &mut b).ctx("read", "stdin")? {
                0 => break,
                n => out.extend_from_slice(&b[..n]),
            }
        }
        out
    } else {
        fs::read(&crate::error::cpath(&text(src))?).ctx("read", &text(src))?
    };
    let v = json::parse(&data)
        .map_err(|e| Error::bad("resources", text(src), alloc::format!("{e}")))?;
    let mut new = crate::cgroup::Resources::from_json(&v);
    // What the host cannot enforce goes, as the docker CLI's update.
    let _ = crate::cgroup::host().support.fit(&mut new, false)?;
    container::update(&ctx.store, id, &new)?;
    Ok(0)
}

const EVENTS_FLAGS: &[Flag] = &[
    flag(0, "stats", false),
    flag(0, "interval", true),
    flag(0, "help", false),
];

/// `events [--stats] [--interval S] ID`: runc's stats records, once with
/// --stats, else every interval (default 5 s) while the container lives.
fn events(ctx: &Ctx, argv: &[&[u8]]) -> Result<i32> {
    let p = command("events", EVENTS_FLAGS, argv)?;
    let id = id("events", &p)?;
    let secs = match p.value(EVENTS_FLAGS, "interval") {
        Some(v) => text(v)
            .trim_end_matches('s')
            .parse::<u64>()
            .ok()
            .filter(|s| *s > 0)
            .ok_or_else(|| Error::bad("--interval", text(v), "a number of seconds"))?,
        None => 5,
    };
    loop {
        let rec = load(ctx, id)?;
        if status(&rec) == "stopped" {
            return Ok(0);
        }
        let s = group(ctx, &rec)?.stats();
        let n = |v: Option<u64>| json::num(v.unwrap_or(0));
        let data = json::obj!(
            (
                "cpu",
                Some(json::obj!((
                    "usage",
                    Some(json::obj!(("total", Some(n(s.cpu_ns)))))
                )))
            ),
            (
                "memory",
                Some(json::obj!((
                    "usage",
                    Some(json::obj!(
                        ("usage", Some(n(s.mem))),
                        ("limit", Some(n(s.mem_limit)))
                    ))
                )))
            ),
            ("pids", Some(json::obj!(("current", Some(n(s.pids)))))),
        );
        let ev = json::obj!(
            ("type", Some(json::str("stats"))),
            ("id", Some(json::str(id))),
            ("data", Some(data)),
        );
        crate::outln!("{}", json::compact(&ev));
        if p.on(EVENTS_FLAGS, "stats") {
            return Ok(0);
        }
        crate::sys::time::sleep_ms(secs.saturating_mul(1000).min(3_600_000));
    }
}

#[cfg(test)]
mod tests {
    use super::cgroups_path;

    #[test]
    fn cgroups_paths_as_engines_give_them() {
        assert_eq!(cgroups_path(None, "x", false).unwrap(), "pocket/x");
        assert_eq!(
            cgroups_path(Some("/libpod_parent/libpod-x"), "x", false).unwrap(),
            "libpod_parent/libpod-x"
        );
        assert_eq!(
            cgroups_path(Some("default/x"), "x", false).unwrap(),
            "default/x"
        );
        assert_eq!(
            cgroups_path(Some("machine.slice:libpod:abc"), "abc", true).unwrap(),
            "machine.slice/libpod-abc.scope"
        );
        assert_eq!(
            cgroups_path(Some(":cri:abc"), "abc", true).unwrap(),
            "system.slice/cri-abc.scope"
        );
        assert!(cgroups_path(Some("/a/../b"), "x", false).is_err());
        assert!(cgroups_path(Some("/"), "x", false).is_err());
        // pocket's own parent is nobody's container group.
        assert!(cgroups_path(Some("/pocket"), "x", false).is_err());
        // Without --systemd-cgroup a ':' is part of a name, as runc reads it.
        assert_eq!(cgroups_path(Some("a:b:c"), "x", false).unwrap(), "a:b:c");
        assert_eq!(
            cgroups_path(Some("kubepods-burstable.slice:cri:abc"), "abc", true).unwrap(),
            "kubepods.slice/kubepods-burstable.slice/cri-abc.scope"
        );
    }
}
