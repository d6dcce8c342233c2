//! `pocket exec`: a new process in a running container. pocket opens the
//! container's namespaces while /proc is still the host's, makes itself
//! non-dumpable, joins them (mount last), chroots into the container's
//! root, and starts a child (sharing its memory until the execve, as
//! posix_spawn does): the child is in the container's pid namespace and
//! execs the command; pocket waits, relays and returns its status.

use super::child::{self, Fail};
use super::parent::{FORWARDED, child_error};
use super::relay;
use crate::error::{Context, Error, Result, Why};
use crate::sys::cstr::cstring;
use crate::sys::fd::{self, Fd};
use crate::sys::signal::{self, SigSet};
use crate::sys::stack::Stack;
use crate::sys::{Errno, mount, proc, tty};
use alloc::ffi::CString;
use alloc::vec::Vec;
use core::ffi::c_char;

pub struct Exec {
    pub args: Vec<Vec<u8>>,
    pub env: Vec<Vec<u8>>,
    pub cwd: Vec<u8>,
    pub tty: bool,
    pub stdin: bool,
    pub detach: bool,
    /// The bounding set, and OCI's other sets when not docker's shape.
    pub caps: u64,
    pub cap_sets: Option<crate::spec::caps::Sets>,
    pub user: crate::spec::User,
    /// Set before the capabilities go; None: 0022.
    pub rlimits: Vec<crate::spec::Rlimit>,
    pub umask: Option<u32>,
    /// The container's seccomp profile and no_new_privs setting.
    pub seccomp: crate::seccomp::Seccomp,
    pub no_new_privs: bool,
    /// OCI: detached, stdio stays the caller's (an engine's pipes), not
    /// /dev/null as docker's `exec -d`.
    pub keep_stdio: bool,
    /// OCI `--console-socket`: a connected socket the pty master is sent
    /// to (the engine relays it), or -1.
    pub console: i32,
    /// Called with the new process's host pid once it runs, before it is
    /// waited for (OCI `--pid-file`); its failure kills the process.
    pub on_start: Option<alloc::boxed::Box<dyn Fn(i32) -> Result<()>>>,
    /// OCI `process.consoleSize` (rows, columns): the pty's size from
    /// the start, before the engine can resize it (else this process's
    /// own terminal's, if it has one).
    pub console_size: Option<(u16, u16)>,
    /// A fresh session keyring (not with OCI `--no-new-keyring`).
    pub new_keyring: bool,
    /// OCI `--preserve-fds N`: the caller's fds 3..3+N stay open.
    pub preserve_fds: u32,
    /// Killed (SIGKILL) if still running after this long: the call
    /// returns TIMED_OUT then (health checks' --health-timeout).
    pub timeout_ms: Option<u64>,
    /// The dmz's sealed memfd (spawn/dmz.rs), or -1: the command starts
    /// through it, as pocket does not run sealed (`sealed::for_exec`).
    pub dmz: i32,
}

/// What `exec` returns for a command killed at its timeout.
pub const TIMED_OUT: i32 = -1;

impl Exec {
    /// `args` run as the container's own process runs: its environment,
    /// working directory, user, capabilities, limits and seccomp; stdin
    /// /dev/null, no terminal, waited for.
    pub fn of(spec: &crate::spec::Spec, args: Vec<Vec<u8>>) -> Exec {
        Exec {
            args,
            env: spec.process.env.clone(),
            cwd: spec.process.cwd.clone(),
            tty: false,
            stdin: false,
            detach: false,
            caps: spec.process.capabilities,
            cap_sets: spec.process.cap_sets,
            user: spec.process.user.clone(),
            // The container's own, as runc gives an exec'd process.
            rlimits: spec.process.rlimits.clone(),
            umask: spec.process.umask,
            seccomp: spec.seccomp.clone(),
            no_new_privs: spec.process.no_new_privileges,
            keep_stdio: false,
            console: -1,
            on_start: None,
            console_size: None,
            new_keyring: !spec.no_new_keyring,
            preserve_fds: 0,
            timeout_ms: None,
            dmz: -1,
        }
    }
}

/// Namespaces in the order nsenter(1) joins them: mount last, because
/// after it the host's /proc is out of reach.
const NAMESPACES: &[(&str, i32)] = &[
    ("cgroup", libc::CLONE_NEWCGROUP),
    ("ipc", libc::CLONE_NEWIPC),
    ("uts", libc::CLONE_NEWUTS),
    ("net", libc::CLONE_NEWNET),
    ("pid", libc::CLONE_NEWPID),
    ("mnt", libc::CLONE_NEWNS),
];

fn table(v: &[Vec<u8>], what: &'static str) -> Result<super::program::CTable> {
    super::program::CTable::new(v).ok_or_else(|| Error::bad(what, "", "contains a NUL byte"))
}

/// Run `e` in the container whose init is `pid` (held by `pidfd`), and
/// was in `cgroups` at start (`cgroup::files_of`; None: not recorded).
pub fn exec(
    pid: i32,
    pidfd: &Fd,
    cgroups: Option<&[(alloc::string::String, alloc::string::String)]>,
    e: &Exec,
) -> Result<i32> {
    super::limits::check_rlimits(&e.rlimits)?;
    // Everything the child needs is prepared before fork.
    let argv = table(&e.args, "argument")?;
    let envp = table(&e.env, "environment variable")?;
    let cwd = cstring(&e.cwd).ok_or_else(|| Error::bad("workdir", "", "contains a NUL byte"))?;
    let filter = crate::seccomp::build(&e.seccomp, e.caps)?;
    let confine = crate::seccomp::Confine {
        filter: filter.as_deref(),
        flags: e.seccomp.flags(),
        no_new_privs: e.no_new_privs,
    };

    // A container with a user namespace of its own: that one first (it
    // owns the others, and makes us its root: none of the host's
    // privilege goes in with the command).
    let p = alloc::format!("/proc/{pid}/ns/user");
    let user = fd::open(
        &cstring(p.as_bytes()).unwrap_or_default(),
        libc::O_RDONLY,
        0,
    )
    .ctx("open", &p)?;
    let ours =
        fd::open(c"/proc/self/ns/user", libc::O_RDONLY, 0).ctx("open", "/proc/self/ns/user")?;
    let id = |f: &Fd| fd::fstatat(f.raw(), c"", libc::AT_EMPTY_PATH).map(|s| (s.st_dev, s.st_ino));
    let user = match id(&user).ctx("stat", &p)? != id(&ours).ctx("stat", "/proc/self/ns/user")? {
        true => Some(user),
        false => None,
    };
    drop(ours);
    // A plain user's own-id namespace denies setgroups(2) to all in it
    // (ours too, if the container shares it: rootless pocket's).
    let sg = alloc::format!("/proc/{pid}/setgroups");
    let groups = crate::sys::fs::read(&cstring(sg.as_bytes()).unwrap_or_default())
        .map_or(true, |s| !s.starts_with(b"deny"));
    let rp = alloc::format!("/proc/{pid}/root");
    let root = fd::open(
        &cstring(rp.as_bytes()).unwrap_or_default(),
        libc::O_PATH | libc::O_DIRECTORY,
        0,
    )
    .ctx("open", &rp)?;
    // The fds above belong to the process the pidfd names only if it is
    // still running now (else the pid may have been reused).
    if relay_exited(pidfd) {
        return Err(not_running());
    }
    // The child shares our memory (vfork_on) only where a change of its
    // ids cannot make it (and so us) traceable: the kernel sets a process
    // whose ids change to fs.suid_dumpable, and 1 there would let a
    // container process of the same uid ptrace it until its execve.
    // (The dmz is given only where `dmz::fits` found it so already.)
    let shared = e.dmz >= 0 || crate::sys::procfs::ids_change_keeps_undumpable();
    // Into the container's cgroups (host paths: before joining its mount
    // and cgroup namespaces); the child inherits them. By the files its
    // record keeps, the init's groups in every hierarchy as they were at
    // start, as runc joins the paths of its state (no mountinfo nor the
    // init's /proc to read: a twelfth of an exec's time); else (an older
    // record, a group that refuses, a v2 one whose controllers went to
    // groups below it: EBUSY, or one gone) where its init is now, as
    // runc falls back.
    let now = match cgroups.map(crate::cgroup::join_entries) {
        Some(Ok(())) => false,
        None => true,
        Some(Err(e))
            if matches!(
                e.why,
                Why::Errno(Errno::EBUSY | Errno::ENOENT | Errno::ENODEV | Errno::EOPNOTSUPP)
            ) =>
        {
            true
        }
        Some(Err(e)) => return Err(e),
    };
    if now {
        crate::cgroup::join(pid)?;
    }
    crate::rt::crash::step("exec: in the cgroup");
    // What the command gets as stdio is opened here, from the host's view
    // (and once in the cgroup: its device rules hold), never by a path
    // in the container, which it could point at /proc/kallsyms or a
    // device node and have opened with pocket's privilege. -t: a pty of
    // the container's own devpts, sized like our terminal.
    let null = match !e.tty && (!e.stdin || (e.detach && !e.keep_stdio)) {
        true => Some(fd::open(c"/dev/null", libc::O_RDWR, 0).ctx("open", "/dev/null")?),
        false => None,
    };
    let pty = match e.tty {
        true => Some(tty::openpty_in(&root).ctx("open pty", "/dev/pts/ptmx")?),
        false => None,
    };
    // From here the process is not dumpable: nothing in the container can
    // open /proc/PID/exe of it or of the child (the pocket binary), or
    // ptrace them, until the child's execve.
    proc::prctl(libc::PR_SET_DUMPABLE, 0).ctx("prctl", "PR_SET_DUMPABLE")?;
    enter(pid, pidfd, user)?;
    proc::fchdir(root.raw()).ctx("chdir", "container root")?;
    mount::chroot(c".").ctx("chroot", "container root")?;
    drop(root);

    let size = match e.console_size {
        Some((r, c)) if r > 0 && c > 0 => Ok(linux_raw_sys::general::winsize {
            ws_row: r,
            ws_col: c,
            ws_xpixel: 0,
            ws_ypixel: 0,
        }),
        _ => tty::get_winsize(0).or_else(|_| tty::get_winsize(1)),
    };
    if let (Some((m, _)), Ok(ws)) = (&pty, size) {
        let _ = tty::set_winsize(m.raw(), &ws);
    }
    // The error channel, a socket and not a pipe: while the dmz holds it,
    // a container process that stopped it (SIGSTOP) before it made itself
    // non-dumpable could open a pipe through /proc/PID/fd and hold it, or
    // write a report; a socket cannot be opened so (ENXIO).
    let (err_r, err_w) = crate::sys::sock::stream_pair().ctx("socketpair", "error")?;
    // Through the dmz: its argv, made here (the child fills it in).
    let mut err_no = [0u8; 13];
    let mut dmz_argv = match e.dmz >= 0 {
        true => super::dmz::argv_head(err_w.raw(), &mut err_no, e.args.len()),
        false => Vec::new(),
    };
    let mut set = SigSet::of(FORWARDED);
    set.0 |= SigSet::of(&[libc::SIGCHLD, libc::SIGWINCH]).0;
    let old = signal::sigprocmask(libc::SIG_BLOCK, &set).ctx("sigprocmask", "")?;
    let sfd = signal::signalfd(&set).ctx("signalfd", "")?;

    // The caller's terminal stays the caller's: where our stdio is one
    // and no -t was asked, the command gets pipes that we relay, as
    // docker's exec gives it the daemon's pipes. Else a process it left
    // running in the container would hold the terminal, and could read
    // what is typed into it long after (TIOCSTI is refused, reading not).
    let shield = !e.tty && !e.detach && e.timeout_ms.is_none();
    let pipe_if = |fd: i32, want: bool| match shield && want && tty::isatty(fd) {
        true => fd::pipe().ctx("pipe", "stdio").map(Some),
        false => Ok(None),
    };
    let input = pipe_if(0, e.stdin)?;
    let (out, err) = (pipe_if(1, true)?, pipe_if(2, true)?);
    let raw = |p: &Option<(Fd, Fd)>, end: usize| {
        p.as_ref()
            .map_or(-1, |p| if end == 0 { p.0.raw() } else { p.1.raw() })
    };
    // The command's ends: what it reads, what it writes.
    let redirect = [raw(&input, 0), raw(&out, 1), raw(&err, 1)];

    let stack = Stack::new(CHILD_STACK).ctx("mmap", "child stack")?;
    let slave = pty.as_ref().map(|p| p.1.raw());
    let mut start = || {
        let f = run_child(
            e,
            confine,
            &cwd,
            argv.ptrs(),
            &mut dmz_argv,
            envp.ptrs(),
            slave,
            null.as_ref().map_or(-1, |n| n.raw()),
            redirect,
            err_w.raw(),
            groups,
        );
        child::report(err_w.raw(), &f)
    };
    let child = match shared {
        // SAFETY: single-threaded; the child only makes syscalls on its
        // own stack (run_child allocates nothing: its tables, filter and
        // strings are made above; it only fills in the dmz's argv, within
        // the room made for it, which we read no more), and pocket
        // installs no signal handlers (SIG_IGN at most, sys::signal), so
        // none can run in the child.
        true => unsafe { proc::vfork_on(&stack, &mut start) },
        false => match proc::fork() {
            Ok(0) => proc::exit(start()),
            r => r,
        },
    }
    .ctx("clone", "exec")?;
    // (The child's id change set our shared dumpable flag too.)
    proc::prctl(libc::PR_SET_DUMPABLE, 0).ctx("prctl", "PR_SET_DUMPABLE")?;
    drop(stack);
    drop(err_w);
    let input = input.map(|(_, w)| w);
    let (out, err) = (out.map(|(r, _)| r), err.map(|(r, _)| r));
    crate::rt::crash::step("exec: forked");
    let master = pty.map(|(m, _slave)| m);
    let mut report = [0u8; 512];
    let mut n = fd::read_full(err_r.raw(), &mut report).unwrap_or(0);
    if e.dmz >= 0 {
        let file = e.args.first().map_or(&b""[..], |a| &a[..]);
        n = super::dmz::widen_report(&mut report, n, file);
    }
    if n == 0 {
        let handed = match (e.console >= 0, &master) {
            (true, Some(m)) => {
                crate::sys::sock::send_fd(e.console, m.raw()).ctx("send pty", "console socket")
            }
            _ => Ok(()),
        };
        if let Err(err) = handed.and_then(|()| e.on_start.as_ref().map_or(Ok(()), |f| f(child))) {
            // runc's: no process of an exec whose pty or pid file did not
            // reach the engine.
            let _ = proc::kill(child, libc::SIGKILL);
            let _ = proc::wait(child, 0);
            let _ = signal::sigprocmask(libc::SIG_SETMASK, &old);
            return Err(err);
        }
    }
    let r = if n > 0 {
        let _ = proc::wait(child, 0);
        Err(child_error(&report[..n]))
    } else if e.detach {
        // The command lives on in the container's namespaces; when pocket
        // exits, it is reparented to the reaper of pocket's own pid
        // namespace (a process cannot be handed to a child namespace's init).
        Ok(0)
    } else if let Some(ms) = e.timeout_ms {
        Ok(wait_until(child, &sfd, ms))
    } else if out.is_some() || err.is_some() || input.is_some() {
        let mut tee = relay::Tee {
            out,
            err,
            log: None,
            show: [true, true],
            input,
        };
        relay::run_tee(child, &sfd, None, false, Some(&mut tee))
    } else {
        relay::run(child, &sfd, master.as_ref(), e.stdin)
    };
    let _ = signal::sigprocmask(libc::SIG_SETMASK, &old);
    r
}

/// Wait for `child` at most `ms`; then SIGKILL it: its status, or
/// TIMED_OUT. (No terminal, no stdin: nothing to relay.)
fn wait_until(child: i32, sfd: &Fd, ms: u64) -> i32 {
    let end = crate::rt::time::monotonic_ms().saturating_add(ms);
    loop {
        if let Ok((p, st)) = proc::wait(child, libc::WNOHANG)
            && p == child
        {
            return proc::exit_code(st);
        }
        let now = crate::rt::time::monotonic_ms();
        if now >= end {
            // The command and what it started: it leads its own session.
            let _ = proc::kill(-child, libc::SIGKILL);
            let _ = proc::kill(child, libc::SIGKILL);
            let _ = proc::wait(child, 0);
            return TIMED_OUT;
        }
        let mut fds = [libc::pollfd {
            fd: sfd.raw(),
            events: libc::POLLIN,
            revents: 0,
        }];
        let _ = fd::poll(&mut fds, (end - now).min(i32::MAX as u64) as i32);
        while signal::signalfd_next(sfd).is_some() {}
    }
}

/// The exec'd child's stack: run_child's frames and its 4 KB PATH buffers
/// (a fresh mapping costs only the pages touched).
const CHILD_STACK: usize = 128 * 1024;

fn relay_exited(pidfd: &Fd) -> bool {
    crate::sys::procfs::wait_pidfd(pidfd, 0)
}

fn not_running() -> Error {
    Error::bad("container", "", "is not running").with_code(1)
}

/// Join the namespaces of the process `pidfd` names (`user`: its user
/// namespace, where it is not ours): all at once by the pidfd (Linux
/// 5.8+), which fails with ESRCH once it has exited, so no pid can have
/// been reused; before 5.8 (EINVAL: not a namespace fd) one by one, as
/// nsenter(1) does.
fn enter(pid: i32, pidfd: &Fd, user: Option<Fd>) -> Result<()> {
    let all = NAMESPACES.iter().fold(0, |a, (_, k)| a | k);
    let flags = all | user.as_ref().map_or(0, |_| libc::CLONE_NEWUSER);
    match proc::setns(pidfd.raw(), flags) {
        Err(Errno::EINVAL) => {}
        Err(Errno::ESRCH) => return Err(not_running()),
        r => return r.ctx("setns", "container namespaces"),
    }
    let mut ns = Vec::new();
    if let Some(u) = user {
        ns.push((u, libc::CLONE_NEWUSER, "user"));
    }
    for (name, kind) in NAMESPACES {
        let p = alloc::format!("/proc/{pid}/ns/{name}");
        let c = cstring(p.as_bytes()).unwrap_or_default();
        ns.push((
            fd::open(&c, libc::O_RDONLY, 0).ctx("open", &p)?,
            *kind,
            *name,
        ));
    }
    if relay_exited(pidfd) {
        return Err(not_running());
    }
    for (f, kind, name) in &ns {
        proc::setns(f.raw(), *kind).ctx("setns", name)?;
    }
    Ok(())
}

/// In the forked child: stdio, working directory, capabilities, fds,
/// signals, then execve. Returns only on failure.
fn run_child<'a>(
    e: &Exec,
    confine: crate::seccomp::Confine,
    cwd: &'a CString,
    argv: &[*const c_char],
    dmz_argv: &mut Vec<*const c_char>,
    envp: &[*const c_char],
    slave: Option<i32>,
    null: i32,
    redirect: [i32; 3],
    err_w: i32,
    groups: bool,
) -> Fail<'a> {
    let f = |op: &'static str| {
        move |errno: Errno| Fail {
            op,
            arg: b"",
            errno,
        }
    };
    let r = (|| -> core::result::Result<(), Fail<'static>> {
        if let Some(s) = slave {
            proc::setsid().map_err(f("setsid"))?;
            tty::set_ctty(s).map_err(f("set controlling tty"))?;
            for i in 0..3 {
                fd::dup2(s, i).map_err(f("dup2"))?;
            }
        } else {
            // No controlling terminal (see child::setup): not the caller's.
            proc::setsid().map_err(f("setsid"))?;
            if e.detach && !e.keep_stdio {
                for i in 0..3 {
                    fd::dup2(null, i).map_err(f("dup2"))?;
                }
            } else if !e.stdin {
                fd::dup2(null, 0).map_err(f("dup2"))?;
            }
            // Pipes in front of the caller's terminal (see exec).
            for (i, &p) in redirect.iter().enumerate() {
                if p >= 0 {
                    fd::dup2(p, i as i32).map_err(f("dup2"))?;
                }
            }
        }
        // Only 0, 1, 2 and the error socket (and the dmz's memfd, closed at
        // its execve) from here: nothing of pocket's (or its caller's) can
        // be reached as /proc/self/fd/N.
        child::close_all_but(&[err_w, e.dmz], e.preserve_fds);
        child::give_stdio(e.user.uid, slave.is_some());
        if e.new_keyring {
            child::new_keyring()?;
        }
        for r in &e.rlimits {
            proc::prlimit(0, r.resource, Some((r.soft, r.hard))).map_err(|errno| Fail {
                op: "setrlimit",
                arg: crate::spec::rlimit::name(r.resource).as_bytes(),
                errno,
            })?;
        }
        confine.before_caps().map_err(|(op, e)| f(op)(e))?;
        child::become_user(e.caps, e.cap_sets.as_ref(), &e.user, groups)?;
        // Its new ids made it dumpable where fs.suid_dumpable is 1 (this
        // child is then forked): not until its execve, while it is still
        // pocket (child.rs does the same for a container's init).
        proc::prctl(libc::PR_SET_DUMPABLE, 0).map_err(f("prctl"))?;
        proc::umask(e.umask.unwrap_or(0o022));
        Ok(())
    })();
    if let Err(fail) = r {
        return fail;
    }
    // Resolved in the container's root (we are chrooted there), magic
    // links refused: `-w /proc/self/fd/N` or a workdir the container
    // replaced by such a symlink cannot lead out (CVE-2024-21626).
    if let Err(fail) = child::enter_cwd(cwd) {
        return fail;
    }
    if let Err((op, errno)) = confine.last() {
        return Fail {
            op,
            arg: b"",
            errno,
        };
    }
    signal::reset_all();
    if e.dmz >= 0 {
        // (The lookup's calls and the dmz's pass the filter: `dmz::fits`.)
        return child::through_dmz(e.dmz, err_w, dmz_argv, argv, envp);
    }
    child::exec(argv, envp)
}
