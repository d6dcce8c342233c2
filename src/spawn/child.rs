//! The container init, from clone(2) to execve(2). Only syscalls here: the
//! parent prepared the plan, the receive buffer and the pointer tables.

use super::wire::{
    self, Config, F_CGROUPNS, F_INIT, F_NETNS, F_NOGROUPS, F_NOKEYRING, F_STDIN, F_TTY, F_USERNS,
    F_UTSNS,
};
use crate::fs::{Op, apply::apply};
use crate::rt::args::lookup;
use crate::spec::DEFAULT_PATH;
use crate::sys::{Errno, caps, cstr, fd, file, net, proc, signal, sock, tty};
use alloc::vec::Vec;
use core::ffi::{CStr, c_char, c_int, c_void};

/// Everything the child needs, prepared by the parent before clone(2).
/// The child gets its own copy of this memory, or (`launch`'s CLONE_VM)
/// shares it, the parent leaving it alone until the child's execve: the
/// child allocates and frees nothing, and writes only its own parts
/// (`buf`, `argv`, `envp`, `dmz_argv`, within their capacity).
pub struct Child<'a> {
    pub ops: &'a [Op],
    pub cfg_rd: i32,
    /// The parent's ends of the config pipe and the sync socket, which the
    /// clone copied: closed first, so the parent's death is EOF here.
    pub parent_ends: [i32; 2],
    /// The sync socket: "go on" (with our host pid) from the parent; a
    /// byte to it once we joined namespaces by path.
    pub sync_rd: i32,
    pub err_wr: i32,
    /// Receives the config; exactly as long as the encoded config.
    pub buf: Vec<u8>,
    pub argv: Vec<*const c_char>,
    pub envp: Vec<*const c_char>,
    /// For -t: the socket the pty master goes back to the parent on, else -1.
    pub tty_sock: i32,
    pub caps: u64,
    /// Fds to become the container's stdout/stderr, or -1 to inherit.
    pub stdout: i32,
    pub stderr: i32,
    /// Files the child writes "0" to, to move itself into its cgroups.
    pub cgroups: &'a [alloc::ffi::CString],
    /// The child mounts while the parent makes the cgroups (and brings
    /// up lo): it joins them after the go-ahead, right before its root
    /// switches (nothing it mounts before then needs them: no cgroup
    /// mount, no hooks, no user namespace, no namespace joined by path).
    pub mounts_first: bool,
    /// Who the command runs as.
    pub user: &'a crate::spec::User,
    /// Namespaces to join instead of making them (fd, CLONE_NEW*), in
    /// join order (mount last: the host's paths are gone after it);
    /// `--net container:ID`, OCI linux.namespaces[].path.
    pub joins: &'a [(i32, i32)],
    /// Namespaces made ahead for it (prefetch.rs), joined first (fd,
    /// CLONE_NEW*): no handshake, unlike `joins`.
    pub ahead: &'a [(i32, i32)],
    /// OCI's other capability sets, when not docker's shape.
    pub cap_sets: Option<crate::spec::caps::Sets>,
    /// The command's umask.
    pub umask: u32,
    /// Resource limits, set before the capabilities go (raising a hard
    /// limit needs CAP_SYS_RESOURCE).
    pub rlimits: &'a [crate::spec::Rlimit],
    /// The hooks the init runs itself (createContainer, startContainer).
    pub hooks: Option<&'a super::hooks::InChild>,
    /// Where in `ops` the root switches: createContainer hooks run
    /// before that, with the host's paths still in view.
    pub switch_at: usize,
    /// Where in `ops` the root is mounted (the op after it): the ops
    /// before run with pocket's ids, the rest as the user namespace's root.
    pub root_at: usize,
    /// The seccomp filter (built by the parent) and no_new_privs.
    pub confine: crate::seccomp::Confine<'a>,
    /// OCI `create`: an O_PATH fd of the exec fifo, else -1. The child
    /// then says "ready" on the error pipe once set up, stops caring
    /// whether its parent lives, and waits for `start` to open the fifo
    /// before it execs (runc's exec.fifo).
    pub exec_fifo: i32,
    /// OCI `--preserve-fds N`: fds 3..3+N stay open into the container.
    pub preserve_fds: u32,
    /// The dmz's sealed memfd (spawn/dmz.rs) the command starts through,
    /// or -1: a `run` whose pocket does not run sealed (`dmz::fits_run`).
    pub dmz: i32,
    /// The dmz's argv so far, [error socket, NULL], with room for the
    /// path and the command's argv (the parent made it: no allocation
    /// here).
    pub dmz_argv: Vec<*const c_char>,
}

pub(super) struct Fail<'a> {
    pub op: &'static str,
    pub arg: &'a [u8],
    pub errno: Errno,
}

fn f<'a>(op: &'static str, arg: &'a [u8]) -> impl FnOnce(Errno) -> Fail<'a> {
    move |errno| Fail { op, arg, errno }
}

/// clone(2) entry point.
pub extern "C" fn main(arg: *mut c_void) -> c_int {
    // SAFETY: arg is the parent's &mut Child, in our copy of its memory or
    // in the memory we share with it, alive until our execve.
    let c = unsafe { &mut *(arg as *mut Child) };
    let err_wr = c.err_wr;
    let e = match run(c) {
        Ok(never) => match never {},
        Err(e) => e,
    };
    report(err_wr, &e)
}

/// Send a failure on the error pipe; the exit status docker would give.
pub(super) fn report(err_wr: i32, e: &Fail) -> c_int {
    let mut b = [0u8; 512];
    let n = wire::put_fail(&mut b, e.op, e.arg, e.errno.into_raw());
    let _ = fd::write_all(err_wr, &b[..n]);
    match e.errno {
        Errno::ENOENT if e.op == "exec" => 127,
        Errno::EACCES | Errno::ENOEXEC if e.op == "exec" => 126,
        _ => 125,
    }
}

fn run(c: &mut Child) -> Result<core::convert::Infallible, Fail<'static>> {
    // If pocket dies during setup, so does the half-made container. It
    // may have died before this took effect (the pid namespace hides who
    // the parent is): then its ends of the pipes, closed here, make the
    // reads below end rather than wait forever.
    proc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as u64).map_err(f("prctl", b"PDEATHSIG"))?;
    for fd in c.parent_ends {
        fd::close(fd);
    }
    let n = fd::read_full(c.cfg_rd, &mut c.buf).map_err(f("read config", b""))?;
    if n != c.buf.len() {
        return Err(Fail {
            op: "read config",
            arg: b"",
            errno: Errno::EPIPE,
        });
    }
    fd::close(c.cfg_rd);
    join(c.ahead)?;
    // SAFETY: the buffer lives until execve (it is never freed in the child).
    let buf: &'static [u8] = unsafe { core::slice::from_raw_parts(c.buf.as_ptr(), c.buf.len()) };
    let cfg = wire::decode(buf, &mut c.argv, &mut c.envp).ok_or(Fail {
        op: "decode config",
        arg: b"",
        errno: Errno::EINVAL,
    })?;
    // Into its cgroups, before anything else runs (unless they are made
    // meanwhile: `mounts_first`).
    if !c.mounts_first {
        join_cgroups(c.cgroups)?;
    }
    join(c.joins)?;
    // The parent waits for this before its prestart hooks look at us.
    if !c.joins.is_empty() {
        fd::write_all(c.sync_rd, b"j").map_err(f("tell parent", b"joined"))?;
    }
    // SAFETY: ops live in the parent's memory (our copy, or shared) until
    // execve.
    let ops: &'static [Op] = unsafe { core::slice::from_raw_parts(c.ops.as_ptr(), c.ops.len()) };
    let (before, after) = ops.split_at(c.switch_at.min(ops.len()));
    let (first, before) = before.split_at(c.root_at.min(before.len()));
    let of = |e: crate::fs::apply::Fail<'static>| Fail {
        op: e.op,
        arg: e.arg,
        errno: e.errno,
    };
    if c.mounts_first {
        // The mounts while the parent makes the cgroups; then the same
        // order as below: go-ahead, cgroups, cgroup namespace.
        let root = apply(before, apply(first, None).map_err(of)?).map_err(of)?;
        wait_go(c.sync_rd)?;
        join_cgroups(c.cgroups)?;
        if cfg.flags & F_CGROUPNS != 0 {
            proc::unshare(libc::CLONE_NEWCGROUP).map_err(f("unshare", b"cgroup namespace"))?;
        }
        // The cgroup mount, now that there are groups to show.
        let root = crate::fs::apply::apply_late(before, root).map_err(of)?;
        apply(after, root).map_err(of)?;
        return finish(c, &cfg, b"");
    }
    // Hold here until the parent has finished its side (cgroups, network,
    // prestart hooks); it sends our pid as the host sees it (the hooks'
    // state names it).
    let go = wait_go(c.sync_rd)?;
    let mut pid_buf = [0u8; 12];
    let pid: &[u8] = cstr::decimal(go, &mut pid_buf);
    // Now in its cgroup: a cgroup namespace made here is rooted there, so
    // the container sees itself at "/".
    if cfg.flags & F_CGROUPNS != 0 {
        proc::unshare(libc::CLONE_NEWCGROUP).map_err(f("unshare", b"cgroup namespace"))?;
    }
    // The root is looked up and mounted with the ids pocket had: with a
    // user namespace they are the host's root still (unmapped inside, but
    // the owner of the container's 0700 directory, which its root is not).
    let root = apply(first, None).map_err(of)?;
    // The parent wrote our user namespace's maps before the go-ahead:
    // become its root, so that what we mount and make from here on is
    // owned by ids the namespace knows (else EOVERFLOW).
    if cfg.flags & F_USERNS != 0 {
        proc::become_ns_root().map_err(|(op, errno)| Fail {
            op,
            arg: b"user namespace root",
            errno,
        })?;
    }
    let root = apply(before, root).map_err(of)?;
    if let Some(h) = c.hooks {
        run_hooks(
            &h.create_container,
            "createContainer hook",
            h,
            "creating",
            pid,
        )?;
    }
    apply(after, root).map_err(of)?;
    finish(c, &cfg, pid)
}

/// From the root switched to the command's execve: the container's own
/// setup, stdio, fds, keyring, cwd, limits, then who it runs as and what
/// confines it. `pid` (our host pid, in decimal) for the startContainer
/// hooks.
fn finish(
    c: &mut Child,
    cfg: &Config,
    pid: &[u8],
) -> Result<core::convert::Infallible, Fail<'static>> {
    // Not dumpable until the execve (which makes it dumpable again, as
    // any program), as runc's init: once it drops to the container's user
    // and capabilities, a process sharing its pid namespace (`--pid
    // container:X`, a pod) could otherwise ptrace it or open its /proc
    // files before seccomp goes in, and for as long as a created
    // container waits for `start`. Not earlier: the parent writes a user
    // namespace's maps, which a non-dumpable child's /proc would refuse.
    proc::prctl(libc::PR_SET_DUMPABLE, 0).map_err(f("prctl", b"PR_SET_DUMPABLE"))?;
    setup(cfg, c.tty_sock)?;
    for (from, to) in [(c.stdout, 1), (c.stderr, 2)] {
        if from >= 0 && cfg.flags & F_TTY == 0 {
            fd::dup2(from, to).map_err(f("dup2", b"output"))?;
        }
    }
    // Every fd pocket inherited or opened is closed now, for real, but the
    // error pipe (and, for OCI, the exec fifo and the fds asked to be
    // preserved): none can serve as /proc/self/fd/N below, nor reach the
    // container.
    close_all_but(&[c.err_wr, c.exec_fifo, c.dmz], c.preserve_fds);
    give_stdio(c.user.uid, cfg.flags & F_TTY != 0);
    // The caller's session keyring (root's keys, on the host) stays
    // behind: the container gets a fresh, empty one, as with runc. Before
    // seccomp, which answers keyctl with EPERM.
    if cfg.flags & F_NOKEYRING == 0 {
        new_keyring()?;
    }
    // SAFETY: cfg borrows the receive buffer, alive until execve.
    let cwd: &'static CStr = unsafe { CStr::from_ptr(cfg.cwd.as_ptr()) };
    enter_cwd(cwd)?;
    // Before the capabilities go: raising a hard limit needs
    // CAP_SYS_RESOURCE (the parent checked it is there if needed).
    for r in c.rlimits {
        proc::prlimit(0, r.resource, Some((r.soft, r.hard))).map_err(f(
            "setrlimit",
            crate::spec::rlimit::name(r.resource).as_bytes(),
        ))?;
    }
    // Seccomp without no_new_privs must go in while we hold CAP_SYS_ADMIN.
    c.confine.before_caps().map_err(|(op, errno)| Fail {
        op,
        arg: b"",
        errno,
    })?;
    // Root in the container keeps only the Spec's capabilities, for the
    // init (--init) as much as for the command.
    become_user(
        c.caps,
        c.cap_sets.as_ref(),
        c.user,
        cfg.flags & F_NOGROUPS == 0,
    )?;
    // For the command (and --init): runc's default 0022 unless told.
    proc::umask(c.umask);
    // no_new_privs and seccomp last (before --init's fork: pocket's init
    // runs filtered too, as docker's tini does).
    c.confine.last().map_err(|(op, errno)| Fail {
        op,
        arg: b"",
        errno,
    })?;
    if cfg.flags & F_INIT != 0 {
        // Still not dumpable (see above): the init (the pocket binary, PID
        // 1 for the container's whole life) is never open to /proc/1/exe
        // or ptrace, not even while the command it forks starts up.
        //
        // The container sees its PID 1 as docker's `docker-init --
        // CMD`, not pocket's host command line (its paths, flags,
        // names). Before the fork, so that the command can never read
        // pocket's own command line as its PID 1's: the command's execve
        // replaces its copy anyway.
        let mut shown: Vec<&[u8]> = alloc::vec![b"pocket-init", b"--"];
        shown.extend(
            c.argv
                .iter()
                .take_while(|a| !a.is_null())
                .map(|&a| bytes(a)),
        );
        if proc::set_cmdline(&shown).is_err() {
            // SAFETY: from here this process is the init (run never
            // returns) or, after the fork, the command (which execs or
            // fails): neither reads pocket's own arguments again.
            unsafe { proc::overwrite_cmdline(&shown) };
        }
        let _ = proc::set_name(c"pocket-init");
        let pid = proc::fork().map_err(f("fork", b"init"))?;
        if pid > 0 {
            // Only the command's execve may hold the error pipe: its EOF
            // tells the parent the command started.
            fd::close(c.err_wr);
            super::init::run(pid);
        }
        if cfg.flags & F_TTY != 0 {
            // The command gets its own process group, in the foreground of
            // the tty: ^C then signals it, not the init as well. A
            // background group calling tcsetpgrp gets SIGTTOU unless it is
            // blocked (reset_all below unblocks it again).
            let ttou = signal::SigSet::of(&[libc::SIGTTOU]);
            signal::sigprocmask(libc::SIG_BLOCK, &ttou).map_err(f("sigprocmask", b""))?;
            proc::setpgid(0, 0).map_err(f("setpgid", b""))?;
            tty::set_foreground(0, proc::getpid()).map_err(f("tcsetpgrp", b""))?;
        }
    }
    if c.exec_fifo >= 0 {
        // As runc: a command that is not there fails `create` itself (the
        // engine shows "executable file not found" and no container stays),
        // not the later `start`.
        look_up(&c.argv, &c.envp)?;
        wait_for_start(c.err_wr, c.exec_fifo)?;
    }
    if let Some(h) = c.hooks {
        run_hooks(&h.start_container, "startContainer hook", h, "created", pid)?;
    }
    signal::reset_all();
    if c.dmz >= 0 && cfg.flags & F_INIT == 0 {
        return Err(through_dmz(
            c.dmz,
            c.err_wr,
            &mut c.dmz_argv,
            &c.argv,
            &c.envp,
        ));
    }
    Err(exec(&c.argv, &c.envp))
}

/// The command through the dmz (spawn/dmz.rs): looked up here (as its
/// user, from its working directory), then exec'd by the dmz, so that
/// /proc/self/exe at the command's execve is the dmz's sealed memfd,
/// never the host's pocket (CVE-2019-5736), though this init is that
/// pocket: no sealed re-execution needed. The error socket stays open
/// across the dmz's execve (the dmz closes it at the command's); a
/// failed execve comes back as the dmz's 4-byte errno.
pub(super) fn through_dmz(
    dmz: i32,
    err_wr: i32,
    dmz_argv: &mut Vec<*const c_char>,
    argv: &[*const c_char],
    envp: &[*const c_char],
) -> Fail<'static> {
    let file = bytes(argv[0]);
    let exec_fail = |errno| Fail {
        op: "exec",
        arg: file,
        errno,
    };
    // Within the room the parent made, or not at all.
    if dmz_argv.len() != 2 || dmz_argv.capacity() < argv.len() + 2 {
        return exec_fail(Errno::E2BIG);
    }
    let mut path = [0u8; 4096];
    let p = match find(argv[0], envp, &mut path) {
        Ok(p) => p,
        Err(errno) => return exec_fail(errno),
    };
    if let Err(errno) = fd::set_cloexec(err_wr, false) {
        return Fail {
            op: "fcntl",
            arg: b"error socket",
            errno,
        };
    }
    dmz_argv[1] = p.as_ptr();
    dmz_argv.extend_from_slice(argv);
    match crate::sys::exe::execveat_raw(dmz, dmz_argv.as_ptr(), envp.as_ptr()) {
        // What the command's own execve would have said of its argv and
        // environment, or of this process (its limits, memory): its name.
        e @ (Errno::E2BIG | Errno::EAGAIN | Errno::ENOMEM) => exec_fail(e),
        errno => Fail {
            op: "execveat",
            arg: b"pocket-dmz",
            errno,
        },
    }
}

/// Move into the cgroups (`Child::cgroups`). The child moves itself: a
/// task writing "0" (itself) to a v1 `tasks` file skips the kernel's
/// global threadgroup lock, whose RCU grace period cost up to 12 ms when
/// the parent moved it through cgroup.procs.
fn join_cgroups(files: &[alloc::ffi::CString]) -> Result<(), Fail<'static>> {
    for path in files {
        // SAFETY: the parent's strings, in its memory (our copy or shared)
        // until execve.
        let path: &'static CStr = unsafe { CStr::from_ptr(path.as_ptr()) };
        let file = fd::open(path, libc::O_WRONLY, 0).map_err(f("join cgroup", path.to_bytes()))?;
        fd::write_all(file.raw(), b"0").map_err(f("join cgroup", path.to_bytes()))?;
    }
    Ok(())
}

/// Join each namespace of `table` (fd, CLONE_NEW*), closing its fd.
fn join(table: &[(i32, i32)]) -> Result<(), Fail<'static>> {
    for &(ns, kind) in table {
        proc::setns(ns, kind).map_err(f("join namespace", ns_name(kind)))?;
        fd::close(ns);
    }
    Ok(())
}

/// The parent's go-ahead: our pid as the host sees it.
fn wait_go(sync: i32) -> Result<i32, Fail<'static>> {
    let mut go = [0u8; 4];
    if fd::read_full(sync, &mut go) != Ok(4) {
        return Err(Fail {
            op: "wait for parent",
            arg: b"",
            errno: Errno::EPIPE,
        });
    }
    fd::close(sync);
    Ok(i32::from_le_bytes(go))
}

/// OCI `create` is done: say so, outlive the `pocket create` that made
/// us (its caller, conmon or a shim, is our reaper), and block until
/// `start` opens the exec fifo for reading.
fn wait_for_start(err_wr: i32, fifo: i32) -> Result<(), Fail<'static>> {
    // No longer tied to the parent before it hears "ready" (it exits
    // right after): else the kernel could kill us as it goes.
    proc::prctl(libc::PR_SET_PDEATHSIG, 0).map_err(f("prctl", b"PDEATHSIG"))?;
    // An engine that stops a created container sends SIGTERM first: it
    // ends the wait, as it ends runc's init (else only the KILL after the
    // grace period would). Best effort: a profile may refuse the calls.
    let forwarded = signal::SigSet::of(super::parent::FORWARDED);
    if signal::exit_on(super::parent::FORWARDED).is_ok() {
        let _ = signal::sigprocmask(libc::SIG_UNBLOCK, &forwarded);
    }
    fd::write_all(err_wr, wire::READY).map_err(f("report ready", b""))?;
    let mut b = [0u8; 32];
    let path = cstr::join(
        &mut b,
        b"/proc/self/fd",
        cstr::decimal(fifo, &mut [0u8; 12]),
    )
    .ok_or(Fail {
        op: "open",
        arg: b"exec fifo",
        errno: Errno::ENAMETOOLONG,
    })?;
    let w = fd::open(path, libc::O_WRONLY | libc::O_CLOEXEC, 0).map_err(f("open", b"exec fifo"))?;
    fd::write_all(w.raw(), b"0").map_err(f("write", b"exec fifo"))?;
    drop(w);
    fd::close(fifo);
    Ok(())
}

/// Run hooks of the init; the first failure is reported by `op` with the
/// hook's path, its failure encoded as the errno (`hooks::Fail::code`).
fn run_hooks(
    list: &[super::hooks::Prepared],
    op: &'static str,
    h: &super::hooks::InChild,
    status: &str,
    pid: &[u8],
) -> Result<(), Fail<'static>> {
    for p in list {
        if let Err(e) = super::hooks::run(p, &h.state.parts(status, pid)) {
            // SAFETY: the parent's string, in our copy of its memory,
            // alive until execve.
            let path: &'static CStr = unsafe { CStr::from_ptr(p.path.as_ptr()) };
            return Err(Fail {
                op,
                arg: path.to_bytes(),
                errno: Errno::new(e.code()),
            });
        }
    }
    Ok(())
}

/// A namespace kind's name, for errors.
fn ns_name(kind: i32) -> &'static [u8] {
    match kind {
        libc::CLONE_NEWNET => b"net",
        libc::CLONE_NEWIPC => b"ipc",
        libc::CLONE_NEWUTS => b"uts",
        libc::CLONE_NEWCGROUP => b"cgroup",
        libc::CLONE_NEWNS => b"mnt",
        libc::CLONE_NEWPID => b"pid",
        _ => b"",
    }
}

/// The hostname, the loopback, and the terminal (-t).
fn setup(cfg: &Config, tty_sock: i32) -> Result<(), Fail<'static>> {
    if cfg.flags & F_UTSNS != 0 {
        proc::sethostname(cfg.hostname).map_err(f("sethostname", b""))?;
    }
    if cfg.flags & F_NETNS != 0 {
        net::loopback_up().map_err(f("bring up", b"lo"))?;
    }
    if cfg.flags & F_TTY != 0 {
        // The pty comes from the container's own devpts instance, so the
        // command sees its tty as /dev/pts/N; the parent gets the master.
        let (master, slave) = tty::openpty().map_err(f("open pty", b"/dev/ptmx"))?;
        if cfg.winsize != (0, 0) {
            let ws = linux_raw_sys::general::winsize {
                ws_row: cfg.winsize.0,
                ws_col: cfg.winsize.1,
                ws_xpixel: 0,
                ws_ypixel: 0,
            };
            tty::set_winsize(slave.raw(), &ws).map_err(f("set window size", b""))?;
        }
        sock::send_fd(tty_sock, master.raw()).map_err(f("send pty", b""))?;
        drop(master);
        fd::close(tty_sock);
        proc::setsid().map_err(f("setsid", b""))?;
        tty::set_ctty(slave.raw()).map_err(f("set controlling tty", b""))?;
        for i in 0..3 {
            fd::dup2(slave.raw(), i).map_err(f("dup2", b"tty"))?;
        }
    } else {
        // A session of its own and so no controlling terminal, as docker's
        // containers: open("/dev/tty") gives ENXIO, and a terminal fd the
        // caller passed on (stdin/stdout) is not this session's, so
        // TIOCSTI on it needs CAP_SYS_ADMIN: nothing can type into the
        // admin's shell.
        proc::setsid().map_err(f("setsid", b""))?;
        if cfg.flags & F_STDIN == 0 {
            let null =
                fd::open(c"/dev/null", libc::O_RDONLY, 0).map_err(f("open", b"/dev/null"))?;
            fd::dup2(null.raw(), 0).map_err(f("dup2", b"/dev/null"))?;
        }
    }
    Ok(())
}

/// Drop to the container's user and capabilities: the bounding set first
/// (needs CAP_SETPCAP), then the ids (need CAP_SETUID/SETGID, which the
/// container's own set may lack: `--cap-drop ALL`), then the capabilities.
/// Docker's shape (`sets` None): a non-root user keeps none (as with
/// docker's -u): setresuid cleared its permitted set, and nothing is
/// raised again. OCI's sets: each as given, for any user, as runc does
/// (PR_SET_KEEPCAPS keeps the permitted set across the uid change; a
/// non-root user's execve then keeps only the ambient ones).
pub(super) fn become_user(
    caps: u64,
    sets: Option<&crate::spec::caps::Sets>,
    u: &crate::spec::User,
    groups: bool,
) -> Result<(), Fail<'static>> {
    caps::drop_bounding(caps).map_err(f("drop capabilities", b"bounding set"))?;
    let keep = sets.is_some() && u.uid != 0;
    if keep {
        proc::prctl(libc::PR_SET_KEEPCAPS, 1).map_err(f("prctl", b"PR_SET_KEEPCAPS"))?;
    }
    // Always, root too: pocket's own supplementary groups must not leak in
    // (unless the user namespace denies setgroups: a plain user's, whose
    // groups the container keeps as the kernel has it, unmapped).
    let gids = if groups {
        Some(&u.additional_gids[..])
    } else {
        None
    };
    proc::set_user(u.uid, u.gid, gids).map_err(|(op, errno)| Fail {
        op,
        arg: b"",
        errno,
    })?;
    match sets {
        None => caps::set(if u.uid == 0 { caps } else { 0 }),
        Some(s) => {
            if keep {
                proc::prctl(libc::PR_SET_KEEPCAPS, 0).map_err(f("prctl", b"PR_SET_KEEPCAPS"))?;
            }
            caps::set_all(s.effective, s.permitted, s.inheritable, s.ambient)
        }
    }
    .map_err(f("capset", b""))
}

/// The command's stdio given to its user, as runc does: a pipe pocket
/// or an engine made (containerd's shim, conmon) is root's, mode 0600,
/// and a user's `echo hi > /dev/stdout` (which reopens it) would fail.
/// Only the owner changes, and only of anonymous pipes and of the pty
/// pocket made (`own_tty`): a named fifo, socket (journald's stream
/// under systemd), file, terminal or /dev/null of the caller's is never
/// given away. A refusal (EINVAL, EPERM: an owner outside the user
/// namespace) leaves it as it was.
pub(super) fn give_stdio(uid: u32, own_tty: bool) {
    /// PIPEFS_MAGIC (<linux/magic.h>).
    const PIPEFS: i64 = 0x5049_5045;
    for i in 0..3 {
        let Ok(st) = fd::fstatat(i, c"", libc::AT_EMPTY_PATH) else {
            continue;
        };
        let kind = st.st_mode & libc::S_IFMT;
        let pipe = kind == libc::S_IFIFO
            && crate::sys::mount::fstatfs_raw(i).is_ok_and(|f| f.f_type as i64 == PIPEFS);
        if (pipe || (own_tty && kind == libc::S_IFCHR)) && st.st_uid != uid {
            let _ = file::fchownat(i, c"", uid, u32::MAX, libc::AT_EMPTY_PATH);
        }
    }
}

/// A fresh session keyring; none where the kernel has no keyrings
/// (ENOSYS: nothing to leave behind either), as runc.
pub(super) fn new_keyring() -> Result<(), Fail<'static>> {
    match proc::join_session_keyring() {
        Ok(_) | Err(Errno::ENOSYS) => Ok(()),
        Err(errno) => Err(Fail {
            op: "join session keyring",
            arg: b"",
            errno,
        }),
    }
}

/// Close every fd but 0, 1, 2, the `preserve` ones after them (3..3+N,
/// OCI's --preserve-fds) and those in `keep` (-1: none).
pub(super) fn close_all_but(keep: &[i32], preserve: u32) {
    let mut from = 3u32.saturating_add(preserve);
    let mut k = [u32::MAX; 4];
    for (i, &x) in keep.iter().take(4).enumerate() {
        if x >= 0 {
            k[i] = x as u32;
        }
    }
    crate::rt::sort_by(&mut k, |a, b| a < b);
    for &x in k.iter().filter(|&&x| x != u32::MAX) {
        if x > from {
            let _ = fd::close_range(from, x - 1, 0);
        }
        from = from.max(x.saturating_add(1));
    }
    let _ = fd::close_range(from, u32::MAX, 0);
}

/// chdir(2) into `cwd` resolved inside the container's root (this
/// process's "/"): symlinks stay inside it and magic links
/// (/proc/self/fd/N, /proc/self/cwd...) are refused, so neither `-w`, an
/// image's WorkingDir nor a symlink the container planted there can put
/// the command in a directory of the host (runc CVE-2024-21626). Then the
/// result is checked: getcwd(2) must see it under the root.
pub(super) fn enter_cwd(cwd: &CStr) -> Result<(), Fail<'_>> {
    const IN_ROOT: u64 = (linux_raw_sys::general::RESOLVE_IN_ROOT
        | linux_raw_sys::general::RESOLVE_NO_MAGICLINKS) as u64;
    let fail = f("chdir", cwd.to_bytes());
    let root = fd::open(c"/", libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC, 0)
        .map_err(f("chdir", cwd.to_bytes()))?;
    let dir = fd::openat2(root.raw(), cwd, libc::O_PATH | libc::O_DIRECTORY, IN_ROOT)
        .map_err(f("chdir", cwd.to_bytes()))?;
    proc::fchdir(dir.raw()).map_err(f("chdir", cwd.to_bytes()))?;
    let mut buf = [0u8; 4096];
    match proc::getcwd(&mut buf) {
        Ok(p) if p.first() == Some(&b'/') => Ok(()),
        _ => Err(fail(Errno::EPERM)),
    }
}

/// A string of a table the parent built (the receive buffer,
/// NUL-terminated by decode, or a CTable).
fn c_at(p: *const c_char) -> &'static CStr {
    // SAFETY: p points at a NUL-terminated string that outlives the child.
    unsafe { CStr::from_ptr(p) }
}

pub(super) fn bytes(p: *const c_char) -> &'static [u8] {
    c_at(p).to_bytes()
}

/// The container's PATH from the command's environment (pocket's default
/// where it has none).
fn path_of(envp: &[*const c_char]) -> &'static [u8] {
    envp.iter()
        .take_while(|p| !p.is_null())
        .find_map(|&p| lookup(&[bytes(p)], b"PATH"))
        .unwrap_or(DEFAULT_PATH)
}

/// Where `argv0` runs from, without the execve: itself if it holds a '/',
/// else the first directory of the container's PATH with a regular file
/// of that name its user may execute (put in `buf`), as Go's LookPath
/// finds it for runc (execvpe(3) would go on to the next one where that
/// file's execve fails); ENOENT, or EACCES if only files it may not run
/// were found.
pub(super) fn find<'b>(
    argv0: *const c_char,
    envp: &[*const c_char],
    buf: &'b mut [u8; 4096],
) -> Result<&'b CStr, Errno> {
    let file = bytes(argv0);
    if file.is_empty() {
        return Err(Errno::ENOENT);
    }
    if file.contains(&b'/') {
        return Ok(c_at(argv0));
    }
    let mut seen_eacces = false;
    let mut found = None;
    for dir in path_of(envp).split(|&c| c == b':') {
        let Some(full) = cstr::join(buf, dir, file) else {
            continue;
        };
        let regular = || {
            fd::fstatat(libc::AT_FDCWD, full, 0)
                .is_ok_and(|st| st.st_mode & libc::S_IFMT == libc::S_IFREG)
        };
        match fd::access_effective(full, libc::X_OK) {
            Ok(()) if regular() => {
                found = Some(full.to_bytes().len());
                break;
            }
            Ok(()) | Err(Errno::EACCES) => seen_eacces = true,
            Err(_) => {}
        }
    }
    match found {
        Some(n) => CStr::from_bytes_with_nul(&buf[..=n]).map_err(|_| Errno::EINVAL),
        None if seen_eacces => Err(Errno::EACCES),
        None => Err(Errno::ENOENT),
    }
}

/// The search `exec` makes, without the execve: Ok if argv[0] names an
/// executable regular file (directly, or in the container's PATH).
fn look_up(argv: &[*const c_char], envp: &[*const c_char]) -> Result<(), Fail<'static>> {
    let file = bytes(argv[0]);
    let fail = |errno| Fail {
        op: "exec",
        arg: file,
        errno,
    };
    let mut buf = [0u8; 4096];
    // Not found in PATH is 127 whatever was there (Go's LookPath, runc's).
    let p = find(argv[0], envp, &mut buf).map_err(|_| fail(Errno::ENOENT))?;
    if !file.contains(&b'/') {
        return Ok(());
    }
    match fd::fstatat(libc::AT_FDCWD, p, 0) {
        Err(_) => Err(fail(Errno::ENOENT)),
        Ok(st)
            if st.st_mode & libc::S_IFMT == libc::S_IFREG
                && fd::access_effective(p, libc::X_OK).is_ok() =>
        {
            Ok(())
        }
        // There but not a program: "permission denied", 126.
        Ok(_) => Err(fail(Errno::EACCES)),
    }
}

/// execvpe(3) without allocating: the container's PATH, not the host's.
pub(super) fn exec(argv: &[*const c_char], envp: &[*const c_char]) -> Fail<'static> {
    let file = bytes(argv[0]);
    let file_c = c_at(argv[0]);
    if file.is_empty() {
        return Fail {
            op: "exec",
            arg: file,
            errno: Errno::ENOENT,
        };
    }
    if file.contains(&b'/') {
        let e = proc::execve(file_c, argv.as_ptr(), envp.as_ptr());
        return Fail {
            op: "exec",
            arg: file,
            errno: e,
        };
    }
    let mut buf = [0u8; 4096];
    let mut seen_eacces = false;
    for dir in path_of(envp).split(|&c| c == b':') {
        let Some(full) = cstr::join(&mut buf, dir, file) else {
            continue;
        };
        match proc::execve(full, argv.as_ptr(), envp.as_ptr()) {
            Errno::EACCES => seen_eacces = true,
            Errno::ENOENT | Errno::ENOTDIR | Errno::ENAMETOOLONG | Errno::ELOOP => {}
            e => {
                return Fail {
                    op: "exec",
                    arg: file,
                    errno: e,
                };
            }
        }
    }
    Fail {
        op: "exec",
        arg: file,
        errno: if seen_eacces {
            Errno::EACCES
        } else {
            Errno::ENOENT
        },
    }
}
