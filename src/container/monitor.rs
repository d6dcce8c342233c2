//! Detached containers: a monitor process (a fork of pocket, in its own
//! session, no re-exec) is the container's parent. It records the start,
//! writes the container's output to its log, reaps it, records the exit
//! code and time, and removes it if asked (--rm).

use super::attach::{self, Server};
use crate::error::{Context, Error, Result};
use crate::spawn::parent::{self, Output};
use crate::spec::Spec;
use crate::state::log::{self, Writer};
use crate::state::{Status, Store};
use crate::sys::fd::{self, Fd};
use crate::sys::{Errno, mem, proc, signal};
use alloc::ffi::CString;
use alloc::string::String;
use alloc::vec::Vec;

/// Start the container detached. Returns once it runs, or with the error
/// that stopped it, exactly as a foreground start would report it.
pub fn detach(store: &Store, id: &str, spec: &Spec) -> Result<()> {
    detach_after(store, id, spec, 0)
}

/// `detach`, the first start after `delay_ms` (a restart policy's
/// backoff; the record says "restarting" meanwhile). Returns at once
/// when there is a delay.
pub fn detach_after(store: &Store, id: &str, spec: &Spec, delay_ms: u64) -> Result<()> {
    fork_monitor(store, id, spec, delay_ms, None)
}

/// `detach`, with this process attached from the start (a foreground
/// `run -it`): the monitor's first run serves `primary`, the other end
/// of a socket pair the caller keeps (see attach.rs).
pub fn detach_attached(store: &Store, id: &str, spec: &Spec, primary: Fd) -> Result<()> {
    fork_monitor(store, id, spec, 0, Some(primary))
}

fn fork_monitor(
    store: &Store,
    id: &str,
    spec: &Spec,
    delay_ms: u64,
    primary: Option<Fd>,
) -> Result<()> {
    let (ready_r, ready_w) = fd::pipe().ctx("pipe", "monitor")?;
    let owner = proc::getpid();
    // Namespaces made ahead (a `run -d`): done before the fork, so the
    // monitor's launch takes them.
    let ahead = crate::spawn::prefetch::settle();
    let pid = proc::fork().ctx("fork", "monitor")?;
    if pid == 0 {
        crate::spawn::prefetch::after_fork();
        drop(ready_r);
        let m = Monitor {
            ready: ready_w,
            delay_ms,
            owner,
            primary,
            ahead,
        };
        proc::exit(monitor(store, id, spec, m));
    }
    crate::spawn::prefetch::settled_away();
    drop(primary);
    drop(ready_w);
    // One message, in one write(2) of less than PIPE_BUF: one read.
    let mut msg = [0u8; 1024];
    let n = fd::read(ready_r.raw(), &mut msg).unwrap_or(0);
    match n {
        0 => Err(Error::bad(
            "monitor",
            "",
            "exited before the container started",
        )),
        _ if msg[0] == 0 => Ok(()),
        _ => {
            let text = String::from_utf8_lossy(&msg[1..n]).into_owned();
            Err(Error::text(text).with_code(msg[0] as i32))
        }
    }
}

fn report(ready: &Fd, e: &Error) {
    let mut m = Vec::from([e.code as u8]);
    m.extend_from_slice(alloc::format!("{e}").as_bytes());
    let _ = fd::write_all(ready.raw(), &m);
}

/// What a monitor is given: the pipe to say the container runs (or why
/// not), the restart delay it starts with, the pid whose restart it takes
/// over, the foreground client attached from the start, and the fds of
/// the namespaces made ahead for its first launch.
struct Monitor {
    ready: Fd,
    delay_ms: u64,
    owner: i32,
    primary: Option<Fd>,
    ahead: Vec<i32>,
}

/// `f` itself if it is above 2, else a close-on-exec duplicate that is.
fn above_stdio(f: Fd) -> Fd {
    if f.raw() > 2 {
        return f;
    }
    match fd::dup_from(f.raw(), 3) {
        Ok(n) => Fd::from_raw(n),
        Err(_) => f,
    }
}

fn monitor(store: &Store, id: &str, spec: &Spec, m: Monitor) -> i32 {
    // Nothing of the caller's but the ready pipe and the primary client:
    // a pipe or file the caller passed on fd 3 and up must not stay open
    // for the container's life. Both above 2 first: stdio is /dev/null'd
    // below, and a caller started with fd 0-2 closed may have them there.
    let m = Monitor {
        ready: above_stdio(m.ready),
        primary: m.primary.map(above_stdio),
        ..m
    };
    // (The namespaces made ahead, unless one is on 0-2, which /dev/null
    // takes below: then the launch makes its own.)
    let mut keep: Vec<i32> = [m.ready.raw(), m.primary.as_ref().map_or(-1, Fd::raw)].into();
    match m.ahead.iter().any(|&f| f <= 2) {
        true => crate::spawn::prefetch::discard(),
        false => keep.extend(&m.ahead),
    }
    crate::rt::sort_unstable(&mut keep);
    let mut from = 3u32;
    for k in keep.into_iter().filter(|&k| k >= 3) {
        if k as u32 > from {
            let _ = fd::close_range(from, k as u32 - 1, 0);
        }
        from = k as u32 + 1;
    }
    let _ = fd::close_range(from, u32::MAX, 0);
    let (delay_ms, owner) = (m.delay_ms, m.owner);
    let mut primary = m.primary;
    let mut ready = Some(m.ready);
    // Own session, no terminal: the monitor outlives the command that
    // started it, and must not hold its stdout open (`$(pocket run -d)`).
    let _ = proc::setsid();
    // Hold no directory of the caller's busy (it might be unmounted later).
    let _ = proc::chdir(c"/");
    if let Ok(null) = fd::open(c"/dev/null", libc::O_RDWR, 0) {
        for i in 0..3 {
            let _ = fd::dup2(null.raw(), i);
        }
    }
    match supervise(store, id, spec, &mut ready, &mut primary, delay_ms, owner) {
        Ok(()) => 0,
        Err(e) => {
            if let Some(r) = &ready {
                report(r, &e);
            }
            e.code
        }
    }
}

fn supervise(
    store: &Store,
    id: &str,
    spec: &Spec,
    ready: &mut Option<Fd>,
    primary: &mut Option<Fd>,
    mut delay: u64,
    owner: i32,
) -> Result<()> {
    let path = CString::new(store.log_path(id)).map_err(|_| Error::bad("log", id, "bad path"))?;
    let conf = store.load(id)?.log;
    let mut log = Writer::open(&path, &conf).ctx("open log", &store.log_path(id))?;
    if delay > 0 {
        // Taking over a restart: the record names this process, so stop
        // and rm talk to it; the caller need not wait for the backoff.
        take_over(store, id, owner)?;
        if let Some(r) = ready.take() {
            let _ = fd::write_all(r.raw(), &[0]);
        }
    }
    crate::rt::crash::step("monitor: log opened");
    loop {
        if delay > 0 && !backoff(store, id, delay)? {
            return Ok(());
        }
        let first = ready.is_some();
        let t0 = crate::rt::time::monotonic_ms();
        // A restart joins the namespaces of --net/--pid/--ipc container:X
        // as they are now (their owners may have restarted too).
        let mut fresh;
        let spec = if first {
            spec
        } else {
            fresh = spec.clone();
            if let Err(e) = super::start::refresh_joins(store, &mut fresh) {
                super::finish(store, id, Status::Exited, e.code)?;
                return Err(e);
            }
            &fresh
        };
        let (code, srv) = match run_once(store, id, spec, ready, primary.take(), &mut log) {
            Ok(Some(ran)) => ran,
            Ok(None) => return Ok(()),
            // A restart that cannot start ends the policy, as docker's.
            Err(e) if !first => {
                super::finish(store, id, Status::Exited, e.code)?;
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        let ran = crate::rt::time::monotonic_ms().saturating_sub(t0);
        let again = super::finish_or_restart(store, id, code, spec);
        // Recorded (or removed, --rm): now attached clients may go on,
        // and see what they expect.
        if let Some(s) = srv {
            s.finish(code);
        }
        if !again? {
            return Ok(());
        }
        delay = super::restart::next_delay(delay, ran);
    }
}

/// One run of the container: Some(exit status, the attach server still
/// open) once it ended; None if its record went while it started (it was
/// killed then).
fn run_once(
    store: &Store,
    id: &str,
    spec: &Spec,
    ready: &mut Option<Fd>,
    primary: Option<Fd>,
    log: &mut Writer,
) -> Result<Option<(i32, Option<Server>)>> {
    let (out_r, out_w) = fd::pipe().ctx("pipe", "stdout")?;
    let (err_r, err_w) = fd::pipe().ctx("pipe", "stderr")?;
    // -i without a terminal, a client attached from the start: its input
    // reaches the container through a pipe on the monitor's stdin, which
    // the container inherits (else /dev/null).
    let stdin = match spec.io.stdin && !spec.process.terminal && primary.is_some() {
        true => {
            let (in_r, in_w) = fd::pipe().ctx("pipe", "stdin")?;
            fd::dup2(in_r.raw(), 0).ctx("dup2", "stdin")?;
            Some(in_w)
        }
        false => None,
    };
    let started = parent::start(
        spec,
        Output {
            stdout: out_w.raw(),
            stderr: err_w.raw(),
        },
    );
    drop((out_w, err_w));
    if stdin.is_some()
        && let Ok(null) = fd::open(c"/dev/null", libc::O_RDONLY, 0)
    {
        let _ = fd::dup2(null.raw(), 0);
    }
    let mut r = match started {
        Ok(r) => r,
        Err(e) => {
            if ready.is_some() {
                super::finish(store, id, Status::Created, e.code)?;
            }
            return Err(e);
        }
    };
    let rec = match store.started(id, r.pid, crate::cgroup::files_of(r.pid)) {
        Ok(rec) => rec,
        Err(e) => {
            // Removed meanwhile (rm -f, prune): the container must not
            // outlive its record, nor its cgroup.
            let _ = proc::kill(r.pid, libc::SIGKILL);
            let _ = proc::wait(r.pid, 0);
            r.cleanup();
            return if ready.is_some() { Err(e) } else { Ok(None) };
        }
    };
    crate::rt::crash::step("monitor: start recorded");
    crate::state::events::emit(store, &rec, "start", &[]);
    // Stopped by hand while this restart was being made: it ends at once
    // (and, manually stopped, is not restarted).
    if ready.is_none() && rec.manual_stop {
        let _ = proc::kill(r.pid, libc::SIGKILL);
    }

    // Attach clients are served while it runs; the socket goes after.
    // Bound before `run -d` returns: an `attach` right after finds it.
    let mut srv = attach::Server::open(store, id, primary);
    if let (Some(s), Some(w)) = (srv.as_mut(), stdin) {
        s.set_stdin(w);
    }
    if rec.healthcheck.is_some() {
        super::health::starting(store, id);
    }
    // Started: tell the waiting pocket, and let go of the pipe.
    if let Some(r) = ready.take() {
        let _ = fd::write_all(r.raw(), &[0]);
    }
    let health = rec
        .healthcheck
        .and_then(|c| super::health::watch(store, id, spec, &c, r.pid).ok());
    let code = pump(&r, &out_r, &err_r, log, &mut srv);
    super::health::unwatch(health);
    oom_check(store, id, &r);
    r.cleanup();
    log.flush();
    Ok(Some((code, srv)))
}

/// After a run, before its cgroup goes: did the OOM killer kill in it?
/// Then docker's "oom" event, and State.OOMKilled.
pub fn oom_check(store: &Store, id: &str, r: &parent::Running) {
    if r.cgroup.as_ref().is_none_or(|c| c.oom_kills() == 0) {
        return;
    }
    let Ok(_l) = store.lock(id) else { return };
    if let Ok(mut rec) = store.load(id) {
        rec.oom_killed = true;
        let _ = store.save(&rec);
        crate::state::events::emit(store, &rec, "oom", &[]);
    }
}

/// Put this process in charge of a restarting container's record.
fn take_over(store: &Store, id: &str, owner: i32) -> Result<()> {
    let _l = store.lock(id)?;
    let mut rec = store.load(id)?;
    // Still the hand-off it was forked for: a start (or stop) that came in
    // between has the record now.
    if !rec.restarting || rec.monitor_pid != owner {
        return Err(Error::bad(
            "monitor",
            id,
            "the container was taken over meanwhile",
        ));
    }
    let me = proc::getpid();
    rec.monitor_pid = me;
    rec.monitor_start = crate::state::record::start_time(me).unwrap_or(0);
    store.save(&rec)
}

/// Wait out a restart's delay, watching the record: false if it is no
/// longer this process's to restart (stopped or removed meanwhile).
/// Otherwise claims it, under its lock, as a start does.
fn backoff(store: &Store, id: &str, delay: u64) -> Result<bool> {
    let me = proc::getpid();
    let mine = |r: &crate::state::Record| r.restarting && !r.manual_stop && r.monitor_pid == me;
    let end = crate::rt::time::monotonic_ms().saturating_add(delay);
    loop {
        let now = crate::rt::time::monotonic_ms();
        if now >= end {
            break;
        }
        // Naps short enough that stop and rm -f wait for nothing.
        crate::sys::time::sleep_ms((end - now).min(50));
        match store.load(id) {
            Ok(r) if mine(&r) => {}
            _ => return Ok(false),
        }
    }
    let Ok(_l) = store.lock(id) else {
        return Ok(false);
    };
    let mut rec = match store.load(id) {
        Ok(r) if mine(&r) => r,
        _ => return Ok(false),
    };
    // Being started: busy, as a claimed record is.
    rec.status = Status::Created;
    rec.restarting = false;
    store.save(&rec)?;
    Ok(true)
}

/// Copy output to the log (and to attached clients) until the container
/// exits and its pipes close; forward signals sent to the monitor; take
/// attach clients' input for its terminal. Returns the exit status.
fn pump(
    r: &parent::Running,
    out: &Fd,
    err: &Fd,
    log: &mut Writer,
    srv: &mut Option<Server>,
) -> i32 {
    let mut status = None;
    let srcs: [(i32, usize); 3] = [
        (out.raw(), log::STDOUT),
        (err.raw(), log::STDERR),
        (r.master.as_ref().map_or(-1, |m| m.raw()), log::STDOUT),
    ];
    let mut open = [true, true, r.master.is_some()];
    let mut drain_end = u64::MAX;
    // Give back what setup left resident before the first wait, and what
    // a busy spell left after a quiet second (see `wait`).
    let mut shed_now = true;
    let mut quiet = true;
    loop {
        let pfd = |fd: i32| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let mut fds: Vec<libc::pollfd> = alloc::vec![pfd(r.sfd.raw())];
        for (i, (fd, _)) in srcs.iter().enumerate() {
            fds.push(pfd(if open[i] { *fd } else { -1 }));
        }
        let attach = srv.as_ref().map(|s| s.fds()).unwrap_or_default();
        fds.extend(attach.iter().map(|&f| pfd(f)));
        // Input held for the terminal (or stdin pipe): told when it
        // takes more.
        let held = srv.as_ref().map_or(-1, |s| s.held_fd(r.master.as_ref()));
        fds.push(libc::pollfd {
            fd: held,
            events: libc::POLLOUT,
            revents: 0,
        });
        // Once the container is gone, only drain what is left, for a
        // second at most (an orphan of --pid host could write forever).
        let shed = shed_now && status.is_none();
        let timeout = match status {
            Some(_) => 100,
            None if shed || quiet => -1,
            None => 1000,
        };
        let woke = wait(&mut fds, timeout, shed);
        if woke == 0 && status.is_some() {
            break;
        }
        // Quiet: nothing came since the last shed. A second without
        // anything after a busy spell: shed at the next wait.
        quiet = (quiet || shed) && woke == 0;
        shed_now = woke == 0 && !quiet;
        if status.is_some() && crate::rt::time::monotonic_ms() > drain_end {
            break;
        }
        if fds[0].revents != 0 {
            while let Some(sig) = signal::signalfd_next(&r.sfd) {
                if sig != libc::SIGCHLD && sig != libc::SIGWINCH {
                    let _ = proc::kill(r.pid, sig);
                }
            }
        }
        // Reap here, whatever woke us: the pipes may close before SIGCHLD
        // is read, and a status reaped and dropped is lost for good.
        if status.is_none() {
            match proc::wait(r.pid, libc::WNOHANG) {
                Ok((p, st)) if p == r.pid => status = Some(proc::exit_code(st)),
                Err(Errno::ECHILD) => status = Some(137),
                _ => {}
            }
            if status.is_some() {
                drain_end = crate::rt::time::monotonic_ms() + 1000;
            }
        }
        if fds[fds.len() - 1].revents != 0
            && let Some(s) = srv.as_mut()
        {
            s.flush_input(r.master.as_ref());
        }
        for (i, &(fd, stream)) in srcs.iter().enumerate() {
            if fds[i + 1].revents != 0 && !forward(fd, stream, log, srv, &mut drain_end) {
                open[i] = false;
            }
        }
        if let Some(s) = srv.as_mut() {
            // Clients from the last one down: a dropped one shifts none
            // still to be read.
            for k in (1..attach.len()).rev() {
                if fds[4 + k].revents != 0 {
                    s.read(k - 1, r.master.as_ref());
                }
            }
            if fds[4].revents != 0 {
                s.accept();
            }
        }
        if status.is_some() && !open.iter().any(|&o| o) {
            break;
        }
    }
    status.unwrap_or(137)
}

/// One read of the container's output, to the log and attached clients;
/// false at its end. Its buffer lives in this frame, below `pump`'s, so
/// that `wait` gives its pages back with the rest of the stack.
#[inline(never)]
fn forward(
    fd: i32,
    stream: usize,
    log: &mut Writer,
    srv: &mut Option<Server>,
    drain_end: &mut u64,
) -> bool {
    let mut buf = [0u8; 16384];
    let n = match fd::read(fd, &mut buf) {
        Ok(0) | Err(_) => return false,
        Ok(n) => n,
    };
    log.write(stream, &buf[..n]);
    if let Some(s) = srv.as_mut() {
        let kind = if stream == log::STDERR {
            attach::STDERR
        } else {
            attach::STDOUT
        };
        // Time spent waiting for a slow foreground client (a pager,
        // ctrl-z) is not drain time.
        let t = crate::rt::time::monotonic_ms();
        s.send(kind, &buf[..n]);
        let waited = crate::rt::time::monotonic_ms().saturating_sub(t);
        *drain_end = drain_end.saturating_add(waited);
    }
    true
}

/// poll(2) for `pump`; with `shed`, first give back what the monitor
/// holds and will not use while it waits: the heap's free pages, the
/// stack below this frame, and the pages of the binary's text and
/// read-only data.
///
/// A fork inherits every page its parent touched (arguments, image,
/// network), starting the container touches more, and a fault in a file
/// mapping maps up to 128 KiB around the page (fault-around, large
/// folios): 1.5 MiB resident where the loop needs a few pages. What the
/// loop then uses comes back from the page cache (minor faults), and is
/// given back again after a quiet second.
#[inline(never)]
fn wait(fds: &mut [libc::pollfd], timeout: i32, shed: bool) -> usize {
    if !shed {
        return fd::poll(fds, timeout).unwrap_or(0);
    }
    mem::shed_stack();
    crate::rt::Malloc::trim();
    mem::shed_text_then_poll(fds, timeout).unwrap_or(0)
}
