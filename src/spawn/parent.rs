//! The parent side of the spawn: prepare, clone, send the config, release
//! the child, learn whether execve worked, then relay until it exits.

use super::child::{self, Child};
use super::relay;
use super::wire::{
    self, F_CGROUPNS, F_INIT, F_NETNS, F_NOGROUPS, F_NOKEYRING, F_STDIN, F_TTY, F_USERNS, F_UTSNS,
};
use crate::cgroup::{self, Cgroup};
use crate::error::{Context, Error, Result};
use crate::fs;
use crate::spec::{Namespace, Spec};
use crate::sys::signal::{self, SigSet};
use crate::sys::stack::Stack;
use crate::sys::{Errno, fd, proc, sock, tty};
use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::ffi::c_void;

/// Signals pocket passes on to the container, plus the two it handles.
pub const FORWARDED: &[i32] = &[
    libc::SIGINT,
    libc::SIGTERM,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
];

const STACK_SIZE: usize = 256 * 1024;

/// Turn what the child reported on the error pipe into pocket's error,
/// with docker's exit codes: 127 not found, 126 cannot execute.
pub fn child_error(report: &[u8]) -> Error {
    let Some((errno, op, arg)) = wire::get_fail(report) else {
        return Error::bad("container init", "", "sent a malformed error report");
    };
    let e = Errno::new(errno);
    let op = String::from_utf8_lossy(op).into_owned();
    let arg = String::from_utf8_lossy(arg).into_owned();
    if op == "exec" {
        return match e {
            Errno::ENOENT if !arg.contains('/') => {
                Error::bad("exec", arg, "executable file not found in $PATH").with_code(127)
            }
            Errno::ENOENT => Error::sys("exec", arg, e).with_code(127),
            Errno::EACCES | Errno::ENOEXEC | Errno::EISDIR => {
                Error::sys("exec", arg, e).with_code(126)
            }
            _ => Error::sys("exec", arg, e),
        };
    }
    // A hook of the init: its failure travels as a code (hooks::Fail).
    if let Some(point) = op.strip_suffix(" hook") {
        return super::hooks::Fail::decode(errno).error(point, &arg);
    }
    let mut err = Error::sys("", arg, e);
    err.op = Cow::Owned(op);
    err
}

/// Where the container's stdout and stderr go (without -t): inherited
/// from pocket (-1), or these fds (the monitor's log pipes).
#[derive(Clone, Copy)]
pub struct Output {
    pub stdout: i32,
    pub stderr: i32,
}

pub const INHERIT: Output = Output {
    stdout: -1,
    stderr: -1,
};

/// A started container: its init's pid, the pty master for -t, and the
/// signalfd that reports SIGCHLD and the signals to forward. The signal
/// mask is restored when this is dropped.
pub struct Running {
    pub pid: i32,
    pub master: Option<fd::Fd>,
    pub sfd: fd::Fd,
    /// The container's own cgroup, removed by `cleanup` once it is reaped.
    pub cgroup: Option<Cgroup>,
    /// `--net slirp4netns`: its network, ended with the container.
    pub slirp: Option<crate::net::slirp::Slirp>,
    _restore: Restore,
}

impl Running {
    /// After the container was reaped: end what is left in its cgroup
    /// (with --pid host or container:X its processes outlive its init;
    /// in a pid namespace of its own they died with it), then remove it.
    pub fn cleanup(&mut self) {
        drop(self.slirp.take());
        if let Some(cg) = self.cgroup.take() {
            if cg.remove_if_empty() {
                return;
            }
            for _ in 0..100 {
                let left = cg.pids();
                if left.is_empty() {
                    break;
                }
                for p in left {
                    let _ = proc::kill(p, libc::SIGKILL);
                }
                crate::sys::time::sleep_ms(10);
            }
            let _ = cg.remove();
        }
    }
}

/// This process made dumpable (again) when dropped.
struct Dumpable;

impl Drop for Dumpable {
    fn drop(&mut self) {
        let _ = proc::prctl(libc::PR_SET_DUMPABLE, 1);
    }
}

/// Removes a cgroup made for a container that then failed to start.
struct CgroupGuard(Option<Cgroup>);

impl Drop for CgroupGuard {
    fn drop(&mut self) {
        if let Some(cg) = self.0.take() {
            let _ = cg.remove();
        }
    }
}

/// The container's cgroup, made (with its limits) before anything runs.
/// The container's cgroup and the limits it gets; nothing made yet. The
/// limits were fitted to the host when the container was made; fitted
/// again here (quietly) in case the host changed since, e.g. BFQ unloaded
/// before a `start`: a limit the host lost is dropped, not an error.
fn plan_cgroup(spec: &Spec) -> Result<Option<(Cgroup, cgroup::Resources)>> {
    let Some(path) = &spec.cgroups_path else {
        return Ok(None);
    };
    let host = cgroup::host();
    let mut r = spec.resources.clone();
    // A record from before device rules existed: docker's defaults (not
    // a plain user's: its device program needs the host's CAP_SYS_ADMIN).
    if r.devices.is_empty() && crate::sys::proc::geteuid() == 0 {
        r.devices = cgroup::devices::defaults();
    }
    host.support.fit(&mut r, false)?;
    Ok(Some((cgroup::open(&host.layout, path)?, r)))
}

/// Whether a mount, masked or read-only path after the cgroup mount lies
/// below it: the cgroup mount made late (fs::Op::Late) would come after
/// them, not before as the Spec says.
fn below_cgroup_mount(spec: &Spec) -> bool {
    let Some(at) = spec
        .mounts
        .iter()
        .position(|m| m.kind.starts_with("cgroup"))
    else {
        return false;
    };
    let dst = spec.mounts[at].destination.trim_end_matches('/');
    let below = |p: &str| {
        p.strip_prefix(dst)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    spec.mounts[at + 1..].iter().any(|m| below(&m.destination))
        || spec.masked_paths.iter().any(|p| below(p))
        || spec.readonly_paths.iter().any(|p| below(p))
}

fn make_cgroup(planned: Option<(Cgroup, cgroup::Resources)>) -> Result<Option<Cgroup>> {
    let Some((cg, r)) = planned else {
        return Ok(None);
    };
    cg.create(&r, &cgroup::host().support)?;
    crate::rt::crash::step("start: cgroup made");
    Ok(Some(cg))
}

/// Run the container in the foreground; returns its exit status.
pub fn run(spec: &Spec) -> Result<i32> {
    let mut r = start(spec, INHERIT)?;
    let code = relay::run(r.pid, &r.sfd, r.master.as_ref(), spec.io.stdin);
    r.cleanup();
    code
}

/// Create and start the container; returns once its command was exec'd.
pub fn start(spec: &Spec, out: Output) -> Result<Running> {
    launch(spec, out, None, None)
}

/// `start`, the command through `dmz` (spawn/dmz.rs: the dmz's sealed
/// memfd), for a `run` whose pocket does not run sealed
/// (`dmz::fits_run`). Not with --init (the init is pocket for the
/// container's life: the caller runs sealed then).
pub fn start_through(spec: &Spec, out: Output, dmz: &fd::Fd) -> Result<Running> {
    if spec.init {
        // Refused, not ignored: the caller did not run sealed.
        return Err(Error::bad("--init", "", "cannot start through the dmz"));
    }
    launch(spec, out, None, Some(dmz))
}

/// OCI `create`: what makes a container wait for `start`.
pub struct Waiting<'a> {
    /// An O_PATH fd of the exec fifo the child opens, once set up, and
    /// blocks on until `start` opens it for reading.
    pub fifo: &'a fd::Fd,
    /// `--preserve-fds N`: fds 3..3+N go into the container.
    pub preserve_fds: u32,
    /// The container's id and bundle directory, for the hooks' state.
    pub id: &'a str,
    pub bundle: &'a str,
}

/// OCI `create`: set the container up and return while its init waits
/// for `start`, no longer tied to this process (the caller exits; its own
/// caller reaps the init).
pub fn create(spec: &Spec, out: Output, w: &Waiting) -> Result<Running> {
    launch(spec, out, Some(w), None)
}

fn launch(
    spec: &Spec,
    out: Output,
    waiting: Option<&Waiting>,
    dmz: Option<&fd::Fd>,
) -> Result<Running> {
    let dmz = dmz.map_or(-1, |f| f.raw());
    // Refused before anything is made (it would need setns before the
    // user namespace is unshared, then a fork for the pid namespace).
    if spec.has(Namespace::User) && super::joins::any(spec) {
        return Err(Error::bad(
            "user namespace",
            "",
            "cannot be made while joining other namespaces by path",
        ));
    }
    let mut ops = fs::plan(spec)?;
    // The hostname is set when there is one (runc's rule): a new UTS
    // namespace without one keeps the copy of the host's it starts with.
    let uts = (spec.has(Namespace::Uts) || spec.ns_path(Namespace::Uts).is_some())
        && !spec.hostname.is_empty();
    // The child mounts first and this process meanwhile makes the cgroup
    // (and brings up the loopback of a network namespace no network is
    // attached to), unless something the child does before its root
    // switches needs them: a user namespace (its root's writes),
    // namespaces joined by path, hooks. A cgroup mount waits (fs::Op::Late)
    // for the go-ahead. (~0.3 ms off the path of a `run`: on another CPU,
    // and for the child's to wake on; 0.55 ms with the namespaces made
    // ahead, measured when docker's /sys/fs/cgroup came in.)
    let mounts_first = !spec.has(Namespace::User)
        && !super::joins::any(spec)
        && spec.hooks.is_empty()
        && !below_cgroup_mount(spec);
    // No network to attach: lo is brought up from here.
    let no_net = spec.net.is_none() && spec.extra_nets.is_empty() && spec.slirp.is_none();
    let lo_here = mounts_first && spec.has(Namespace::Network) && no_net;
    let mut flags = 0;
    for (on, f) in [
        (spec.process.terminal, F_TTY),
        (spec.io.stdin, F_STDIN),
        (spec.init, F_INIT),
        (spec.has(Namespace::Network) && !lo_here, F_NETNS),
        (uts, F_UTSNS),
        (spec.has(Namespace::Cgroup), F_CGROUPNS),
        (spec.has(Namespace::User), F_USERNS),
        (spec.no_new_keyring, F_NOKEYRING),
        (
            (spec.has(Namespace::User)
                && super::userns::writer(&spec.uid_map, &spec.gid_map)
                    == super::userns::Writer::OwnId)
                // pocket itself in a user namespace that denies it
                // (rootless podman's, made with `unshare -r`'s rules).
                || crate::sys::fs::read(c"/proc/self/setgroups")
                    .is_ok_and(|s| s.starts_with(b"deny")),
            F_NOGROUPS,
        ),
    ] {
        if on {
            flags |= f;
        }
    }
    let p = &spec.process;
    let winsize = match tty::get_winsize(0).or_else(|_| tty::get_winsize(1)) {
        _ if !p.terminal => (0, 0),
        _ if p.console_size.is_some() => p.console_size.unwrap_or_default(),
        Ok(ws) => (ws.ws_row, ws.ws_col),
        _ => (0, 0),
    };
    super::limits::check_rlimits(&p.rlimits)?;
    let with_home;
    let env = match spec.default_home {
        true => {
            let mut e = p.env.clone();
            crate::spec::default_home(&mut e, p.user.uid, &spec.root.path);
            with_home = e;
            &with_home
        }
        false => &p.env,
    };
    let config = wire::encode(flags, winsize, &p.args, env, &p.cwd, &spec.hostname);
    let tty_sock = match p.terminal {
        true => Some(sock::socketpair().ctx("socketpair", "pty")?),
        false => None,
    };
    let (cfg_r, cfg_w) = fd::pipe().ctx("pipe", "config")?;
    // A socket pair, as the child answers once when it joins namespaces.
    let (sync_w, sync_r) = sock::socketpair().ctx("socketpair", "sync")?;
    // Through the dmz, a socket: while the dmz still holds it, dumpable
    // for an instant after its execve, a process of a container that
    // sees it (`--pid host`'s) could open a pipe through /proc/PID/fd,
    // and hold it or write a report; a socket cannot be opened so (ENXIO).
    let (err_r, err_w) = match dmz >= 0 {
        true => sock::stream_pair().ctx("socketpair", "error")?,
        false => fd::pipe().ctx("pipe", "error")?,
    };
    let planned = plan_cgroup(spec)?;
    let joins = planned
        .as_ref()
        .map(|(c, _)| c.join_files())
        .transpose()?
        .unwrap_or_default();
    let (mut cg, mut pending) = match mounts_first {
        true => (CgroupGuard(None), planned),
        false => (CgroupGuard(make_cgroup(planned)?), None),
    };
    // Mounts that need the host (tmpcopyup, the cgroup mount): made now,
    // attached by the child. Then the step the createContainer hooks
    // run before.
    let layout = match ops.iter().any(|o| matches!(o, fs::Op::Cgroup { .. })) {
        // The host's hierarchies as they are (a plain user's Host has
        // only its delegated part, or none).
        true => cgroup::layout().clone(),
        false => cgroup::Layout::default(),
    };
    let cgroupns = spec.has(Namespace::Cgroup);
    // The host's root makes the binds and the overlay of a user namespace
    // (see prepare); a plain user cannot, its container's init does.
    let userns = (spec.has(Namespace::User) && crate::sys::proc::geteuid() == 0)
        .then_some((&spec.uid_map[..], &spec.gid_map[..]));
    // The groups to show: made already, or (`mounts_first`) planned.
    let shown = cg.0.as_ref().or(pending.as_ref().map(|(c, _)| c));
    let _mounts = fs::prepare::prepare(
        &mut ops,
        &spec.root.path,
        &layout,
        shown,
        cgroupns,
        userns,
        mounts_first,
    )?;
    let switch_at = ops
        .iter()
        .position(|o| matches!(o, fs::Op::SwitchRoot { .. }))
        .unwrap_or(ops.len());
    let root_at = ops
        .iter()
        .position(|o| {
            matches!(
                o,
                fs::Op::BindRoot(_) | fs::Op::OverlayRoot { .. } | fs::Op::AttachRoot { .. }
            )
        })
        .map_or(0, |i| i + 1);
    let ns = super::joins::open_all(spec)?;
    let joined = !ns.table.is_empty();
    // Namespaces a front end had made ahead (prefetch.rs), where nothing
    // reaches the child's through its pid before it joined them (nor
    // joins any by path: `mounts_first`): bridge networks are attached
    // through the namespace's fd; slirp4netns is given the pid.
    let ahead = match mounts_first && spec.slirp.is_none() {
        true => super::prefetch::take(spec.clone_flags() & super::prefetch::ALL),
        false => {
            super::prefetch::discard();
            None
        }
    };
    let ahead_joins = ahead.as_ref().map(|m| m.joins()).unwrap_or_default();
    if ahead.is_some() {
        crate::rt::crash::step("start: namespaces made ahead taken");
    }
    // The hooks' state document, and the hooks the init runs itself.
    let (id, bundle) = waiting.map_or(("", ""), |w| (w.id, w.bundle));
    let state = super::hooks::StateDoc::new(id, bundle, &spec.annotations);
    let h = &spec.hooks;
    let in_child = match h.create_container.is_empty() && h.start_container.is_empty() {
        true => None,
        false => Some(super::hooks::InChild {
            create_container: super::hooks::prepare_all(&h.create_container)?,
            start_container: super::hooks::prepare_all(&h.start_container)?,
            state: super::hooks::StateDoc::new(id, bundle, &spec.annotations),
        }),
    };
    // Compiled here, once: the child only installs it.
    let filter = crate::seccomp::build(&spec.seccomp, p.capabilities)?;
    // The dmz's argv, made here (the child allocates nothing).
    let mut err_digits = [0u8; 13];
    let dmz_argv = match dmz >= 0 {
        true => super::dmz::argv_head(err_w.raw(), &mut err_digits, p.args.len()),
        false => Vec::new(),
    };
    let mut child = Child {
        ops: &ops,
        cfg_rd: cfg_r.raw(),
        parent_ends: [cfg_w.raw(), sync_w.raw()],
        sync_rd: sync_r.raw(),
        err_wr: err_w.raw(),
        buf: alloc::vec![0; config.len()],
        argv: Vec::with_capacity(p.args.len() + 1),
        envp: Vec::with_capacity(env.len() + 1),
        tty_sock: tty_sock.as_ref().map_or(-1, |(_, theirs)| theirs.raw()),
        caps: p.capabilities,
        stdout: out.stdout,
        stderr: out.stderr,
        cgroups: &joins,
        mounts_first,
        user: &p.user,
        joins: &ns.table,
        ahead: &ahead_joins,
        cap_sets: p.cap_sets,
        umask: p.umask.unwrap_or(0o022),
        rlimits: &p.rlimits,
        hooks: in_child.as_ref(),
        switch_at,
        root_at,
        exec_fifo: waiting.map_or(-1, |w| w.fifo.raw()),
        preserve_fds: waiting.map_or(0, |w| w.preserve_fds),
        dmz,
        dmz_argv,
        confine: crate::seccomp::Confine {
            filter: filter.as_deref(),
            flags: spec.seccomp.flags(),
            no_new_privs: p.no_new_privileges,
        },
    };
    let stack = Stack::new(STACK_SIZE).ctx("mmap", "child stack")?;

    // Block the signals we forward before the child exists, so none is
    // lost between clone and the relay loop; signalfd takes them.
    let mut set = SigSet::of(FORWARDED);
    set.0 |= SigSet::of(&[libc::SIGCHLD, libc::SIGWINCH]).0;
    let old = signal::sigprocmask(libc::SIG_BLOCK, &set).ctx("sigprocmask", "")?;
    let _restore = Restore(old);
    let sfd = signal::signalfd(&set).ctx("signalfd", "")?;

    // The cgroup namespace is the child's to unshare, once it is in its
    // cgroup: made at clone, it would be rooted at pocket's own cgroup and
    // the container would see itself as /../../pocket/<id>.
    let ahead_flags = ahead.as_ref().map_or(0, |m| m.flags);
    // The child shares our memory (CLONE_VM) until its execve, where it
    // allocates nothing and runs no code of anyone else's first: no copy
    // of our page tables for it, no copy-on-write fault on either side
    // after the clone, no copy to tear down at its execve (-0.2 to -0.4
    // ms of CPU per `run --rm`, four 300-round A/Bs). Not where it
    // outlives this function (OCI create: it waits for `start`, and our
    // memory is ours again once we return), nor with --init (it forks
    // and allocates), hooks (the child runs some; the others are given
    // its pid, and its memory would be ours) or a user namespace; and
    // only as PID 1 of a pid namespace of its own, where no process of
    // the container's is there to see it before its execve, and where a
    // change of its ids cannot make it (and so us) traceable by a host
    // process of the same ids (the kernel sets a process whose ids
    // change to fs.suid_dumpable: 1 would; the dmz's route was given
    // only where it is 0 or 2). Not with an OOM score either: the kernel
    // gives one written for the child to every process of its memory;
    // nor with a memory limit: the child is in the container's group
    // before its execve, and the OOM killer kills every process of a
    // victim's memory; nor where moving the child into its cpuset could
    // move the memory's pages (--cpuset-mems, or more than one memory
    // node). We only read, and free nothing it reads (ours, the Spec's,
    // this frame's) until it has exec'd or was waited for. Only from a
    // dumpable pocket, which gets that back afterwards (below).
    let res = &spec.resources;
    let share = match waiting.is_none()
        && !spec.init
        && spec.hooks.is_empty()
        && !spec.has(Namespace::User)
        && spec.has(Namespace::Pid)
        && spec.ns_path(Namespace::Pid).is_none()
        && p.oom_score_adj.is_none()
        && res
            .memory
            .as_ref()
            .is_none_or(|m| m.limit.is_none() && m.swap.is_none())
        && res.cpu.as_ref().is_none_or(|c| c.mems.is_none())
        && (dmz >= 0 || crate::sys::procfs::ids_change_keeps_undumpable())
        && crate::sys::fs::read(c"/sys/devices/system/node/online")
            .map_or(true, |v| v.trim_ascii() == b"0")
        && proc::dumpable() == Ok(1)
    {
        true => libc::CLONE_VM,
        false => 0,
    };
    let clone_flags =
        (spec.clone_flags() & !libc::CLONE_NEWCGROUP & !ahead_flags) | libc::SIGCHLD | share;
    // A pid namespace to join: entered for the clone only.
    let pidns = ns.enter_pid()?;
    // SAFETY: single-threaded; the stack is a fresh mapping of STACK_SIZE.
    // With CLONE_VM, the child reads `child` and what it points to, all
    // alive (and left alone) until its report or EOF is read below, or it
    // was killed and waited for (`abort`): every return after this point.
    let pid = unsafe {
        proc::clone(
            child::main,
            stack.top(),
            clone_flags,
            &mut child as *mut Child as *mut c_void,
        )
    }
    .ctx("clone", "");
    drop(pidns);
    let pid = pid?;
    // The child's PR_SET_DUMPABLE 0 is of the memory it shares: ours is
    // dumpable again once the child has memory of its own (or is gone),
    // at every return below (a monitor's next launch opens its child's
    // /proc files, which a pocket without CAP_SYS_PTRACE may not open in
    // a process that is not dumpable).
    let _dumpable = (share != 0).then_some(Dumpable);
    // The child mounts while we make its cgroups: where the kernel
    // queued the child on our CPU (a scheduler that packs tasks onto few
    // CPUs, as a VM's may, runs it only once we block) and another CPU
    // has nothing to run (runnable now: we, the child and no more than
    // the other CPUs' count less one, `crowding` 0 or below), we go there
    // until the go-ahead. Onto a CPU a busy loop holds, it cost 2 ms. The
    // child's own CPUs are never touched: the container's are what they
    // were.
    let away = match mounts_first && ahead.is_some() {
        true => proc::Away::from(pid, || super::prefetch::crowding().is_some_and(|c| c <= 0)),
        false => None,
    };
    crate::rt::crash::step("start: cloned");
    // (`ns.table` is the child's to read: ns goes at the end.)
    drop((cfg_r, sync_r, err_w));
    let tty_sock = tty_sock.map(|(ours, _theirs)| ours);

    // A step of ours that fails ends the child. If it had died first
    // (a bad mount, say, while the loopback was brought up in its
    // namespace: gone with it, ENOENT), its report is the reason.
    let abort = |e: Error| -> Error {
        let _ = proc::kill(pid, libc::SIGKILL);
        let _ = proc::wait(pid, 0);
        let mut report = [0u8; 512];
        match fd::read_full(err_r.raw(), &mut report) {
            Ok(n) if n > 0 => child_error(&report[..n]),
            _ => e,
        }
    };
    // A child that died early gives EPIPE here; its report says why.
    let sent = fd::write_all(cfg_w.raw(), &config);
    drop(cfg_w);
    // (A child that died early has its report read below.)
    if mounts_first && sent.is_ok() {
        let made = make_cgroup(pending.take()).and_then(|c| {
            cg.0 = c;
            match (
                lo_here,
                ahead.as_ref().and_then(|m| m.get(libc::CLONE_NEWNET)),
            ) {
                // (made ahead: the child may not have joined it yet)
                (true, Some(net)) => crate::net::host::loopback_up_in(net),
                (true, None) => crate::net::host::loopback_up(pid),
                (false, _) => Ok(()),
            }
        });
        if let Err(e) = made {
            return Err(abort(e));
        }
    }
    // Namespaces it joins by path are its own once it says so: only then
    // do the hooks below see them (EOF: it died; its report says why).
    if joined {
        let _ = fd::read(sync_w.raw(), &mut [0u8; 1]);
    }
    // While the child waits: its network, OOM score and the runtime's
    // hooks. Its command never runs without them.
    let mut slirp = None;
    if sent.is_ok() {
        let net = ahead.as_ref().and_then(|m| m.get(libc::CLONE_NEWNET));
        match while_waiting(spec, pid, net, &state) {
            Ok(s) => slirp = s,
            Err(e) => return Err(abort(e)),
        }
    }
    // The child waits on the sync socket: it is in its cgroup (with its
    // limits) before it does anything, let alone run the command. Its
    // pid goes with the go-ahead, for its hooks' state.
    crate::rt::crash::step("start: network and hooks done");
    drop(away);
    let _ = fd::write_all(sync_w.raw(), &pid.to_le_bytes());
    drop(sync_w);

    // For -t the child sends the pty master it made; none if it failed first.
    let master = match &tty_sock {
        Some(s) => sock::recv_fd(s.raw()).unwrap_or(None),
        None => None,
    };
    drop(tty_sock);

    let mut report = [0u8; 512];
    let mut n = match waiting {
        // One message: READY, or a failure report (one write each). The
        // pipe stays open in the child until its execve, after `start`.
        Some(_) => fd::read(err_r.raw(), &mut report).unwrap_or(0),
        None => fd::read_full(err_r.raw(), &mut report).unwrap_or(0),
    };
    drop(err_r);
    if dmz >= 0 {
        let file = p.args.first().map_or(&b""[..], |a| &a[..]);
        n = super::dmz::widen_report(&mut report, n, file);
    }
    if waiting.is_some() && &report[..n] == super::wire::READY && sent.is_ok() {
        return Ok(Running {
            pid,
            master,
            sfd,
            cgroup: cg.0.take(),
            slirp,
            _restore,
        });
    }
    if waiting.is_some() && n == 0 {
        let _ = proc::wait(pid, 0);
        return Err(Error::sys("container init", "", Errno::EPIPE));
    }
    if n > 0 || sent.is_err() {
        let _ = proc::wait(pid, 0);
        return Err(if n > 0 {
            child_error(&report[..n])
        } else {
            Error::sys("send config", "", Errno::EPIPE)
        });
    }
    if p.terminal && master.is_none() {
        let _ = proc::kill(pid, libc::SIGKILL);
        let _ = proc::wait(pid, 0);
        return Err(Error::sys("receive pty", "", Errno::EPIPE));
    }
    Ok(Running {
        pid,
        master,
        sfd,
        cgroup: cg.0.take(),
        slirp,
        _restore,
    })
}

/// The parent's steps between clone and the child's go-ahead, with the
/// child's namespaces made: its user namespace's maps written; on a bridge network its eth0 is made,
/// addressed and routed (with slirp4netns, it is started for it); its
/// OOM score is set; then the prestart and createRuntime hooks run (in
/// this order, as runc), state "creating".
fn while_waiting(
    spec: &Spec,
    pid: i32,
    net: Option<&crate::sys::fd::Fd>,
    state: &super::hooks::StateDoc,
) -> Result<Option<crate::net::slirp::Slirp>> {
    if spec.has(Namespace::User) {
        super::userns::write_maps(pid, &spec.uid_map, &spec.gid_map)?;
    }
    let slirp = match &spec.slirp {
        Some(c) if spec.has(Namespace::Network) => Some(crate::net::slirp::start(c, pid)?),
        _ => None,
    };
    if spec.net.is_some() || !spec.extra_nets.is_empty() {
        // Its network namespace: made ahead (the child may not have
        // joined it yet), else its own by now.
        let owned;
        let ns = match net {
            Some(ns) => ns,
            None => {
                owned = crate::net::host::netns(pid)?;
                &owned
            }
        };
        if let Some(a) = &spec.net {
            crate::net::host::attach_in(ns, a, "eth0", true)?;
        }
        for (i, a) in spec.extra_nets.iter().enumerate() {
            crate::net::host::attach_in(ns, a, &alloc::format!("eth{}", i + 1), false)?;
        }
    }
    if let Some(v) = spec.process.oom_score_adj {
        super::limits::set_oom_score_adj(pid, v)?;
    }
    let h = &spec.hooks;
    if !h.prestart.is_empty() || !h.create_runtime.is_empty() {
        let st = state.render("creating", pid);
        super::hooks::run_all("prestart", &h.prestart, &st)?;
        super::hooks::run_all("createRuntime", &h.create_runtime, &st)?;
    }
    Ok(slirp)
}

/// Restores the signal mask on every way out of `run`.
struct Restore(SigSet);

impl Drop for Restore {
    fn drop(&mut self) {
        let _ = signal::sigprocmask(libc::SIG_SETMASK, &self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(op: &str, arg: &[u8], e: Errno) -> Error {
        let mut b = [0u8; 512];
        let n = wire::put_fail(&mut b, op, arg, e.into_raw());
        child_error(&b[..n])
    }

    #[test]
    fn exec_failures_map_to_docker_codes() {
        let e = report("exec", b"nope", Errno::ENOENT);
        assert_eq!(
            (e.code, e.to_string().as_str()),
            (127, "exec nope: executable file not found in $PATH")
        );
        assert_eq!(report("exec", b"/bin/nope", Errno::ENOENT).code, 127);
        assert_eq!(report("exec", b"/etc/passwd", Errno::EACCES).code, 126);
        assert_eq!(report("exec", b"/x.sh", Errno::ENOEXEC).code, 126);
        assert_eq!(report("exec", b"true", Errno::E2BIG).code, 125);
    }

    #[test]
    fn setup_failures_are_125_and_name_the_step() {
        let e = report("mount", b"proc", Errno::EPERM);
        assert_eq!(
            (e.code, e.to_string().as_str()),
            (125, "mount proc: Operation not permitted")
        );
        assert_eq!(child_error(b"\x01").code, 125);
    }

    #[test]
    fn a_mount_below_the_cgroup_mount_keeps_it_in_place() {
        let mut spec = Spec {
            mounts: crate::spec::default_mounts(),
            ..Default::default()
        };
        assert!(!below_cgroup_mount(&spec));
        spec.masked_paths.push(String::from("/sys/firmware"));
        assert!(!below_cgroup_mount(&spec));
        spec.readonly_paths
            .push(String::from("/sys/fs/cgroup/memory"));
        assert!(below_cgroup_mount(&spec));
        spec.readonly_paths.clear();
        let mut m = spec.mounts[0].clone();
        m.destination = String::from("/sys/fs/cgroupx");
        spec.mounts.push(m.clone());
        assert!(!below_cgroup_mount(&spec));
        m.destination = String::from("/sys/fs/cgroup/x");
        spec.mounts.push(m);
        assert!(below_cgroup_mount(&spec));
        spec.mounts.retain(|m| !m.kind.starts_with("cgroup"));
        assert!(!below_cgroup_mount(&spec));
    }
}
