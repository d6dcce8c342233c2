//! A container's namespaces made ahead, on the other CPU.
//!
//! clone(2) with new mount, UTS, IPC, network and pid namespaces spends
//! ~0.3 ms in the kernel, in the caller (the network namespace above
//! all), after the Spec and the record are made. A front end that knows
//! which namespaces its container gets can have them made meanwhile: a
//! helper task that shares this process's memory and fd table (no copy
//! of either: a `sys::task::Task`) unshares them and opens an fd of
//! each, then exits. `launch` takes them if they are what its Spec asks
//! for: the container's init joins them with setns(2) (a few µs each)
//! and clone makes none of them.
//! The pid namespace stays clone's: an unshared one cannot be opened
//! (/proc/PID/ns/pid_for_children is ENOENT) before it has an init.
//!
//! Only where nothing looks at the container's namespaces through its
//! pid before the init has joined them: no slirp4netns (given the pid; a
//! bridge network's veth is made in the namespace's fd), no user
//! namespace, no hooks, no namespace joined by path. A detached run's
//! helper is waited for before the monitor's fork (`settle`): the
//! monitor's copy of the fd table holds what it made. Anything else, or
//! a helper that failed, is the usual clone; so
//! is a helper not done within `PATIENCE` (on a busy host a new task may
//! wait a whole scheduler slice for a CPU): it is left to finish on its
//! own and waited for when pocket ends.

use crate::sys::fd::{self, Fd};
use crate::sys::proc;
use crate::sys::slot::Slot;
use crate::sys::task::Task;
use alloc::vec::Vec;
use core::ffi::{CStr, c_int};
use core::sync::atomic::{AtomicI32, Ordering::Relaxed};

/// The namespaces this makes, in the order the init joins them (mount
/// last, as joins.rs does), and where the helper finds each of its own.
const KINDS: [(i32, &CStr); 4] = [
    (libc::CLONE_NEWUTS, c"/proc/self/ns/uts"),
    (libc::CLONE_NEWIPC, c"/proc/self/ns/ipc"),
    (libc::CLONE_NEWNET, c"/proc/self/ns/net"),
    (libc::CLONE_NEWNS, c"/proc/self/ns/mnt"),
];

/// Every kind this can make.
pub const ALL: i32 =
    libc::CLONE_NEWNS | libc::CLONE_NEWUTS | libc::CLONE_NEWIPC | libc::CLONE_NEWNET;

/// Written by the helper, read after it was waited for.
struct Shared {
    flags: i32,
    fds: [AtomicI32; 4],
}

/// A helper at work.
type Pending = Task<Shared>;

/// The namespaces, made: an fd of each kind asked for.
pub struct Made {
    pub flags: i32,
    fds: Vec<(Fd, i32)>,
}

impl Made {
    /// (fd, CLONE_NEW*) for the init to join, in order.
    pub fn joins(&self) -> Vec<(i32, i32)> {
        self.fds.iter().map(|(f, k)| (f.raw(), *k)).collect()
    }

    /// The namespace of the given kind.
    pub fn get(&self, kind: i32) -> Option<&Fd> {
        self.fds.iter().find(|(_, k)| *k == kind).map(|(f, _)| f)
    }
}

/// This process's helper, if one was started and not yet taken.
static PENDING: Slot<Pending> = Slot::new();
/// A helper given up on: still ours to wait for (it uses our memory).
static LATE: Slot<Pending> = Slot::new();
/// Namespaces made and waited for before a fork (`settle`), for the
/// child's launch: it inherits them, fds and all.
static READY: Slot<Made> = Slot::new();

/// How long `take` waits for the helper: longer, and clone making the
/// namespaces itself (~0.3 ms) is the faster way.
const PATIENCE_NS: i64 = 250_000;

/// Start making the namespaces in `flags` (a subset of `ALL`; others
/// are ignored). Best effort: if the helper cannot start, `take` finds
/// nothing and the container's clone makes them as ever. Not where every
/// CPU is taken by another task already (`crowding` above 0): the helper
/// would share one with two or more, and be late.
pub fn start(flags: i32) {
    if crowding().is_some_and(|c| c <= 0) || crate::rt::crash::active() {
        spawn(flags);
    }
}

fn spawn(flags: i32) {
    let flags = flags & ALL;
    if flags == 0 || !PENDING.is_empty() {
        return;
    }
    let shared = Shared {
        flags,
        fds: [const { AtomicI32::new(-1) }; 4],
    };
    // Our memory and fd table: the fds it opens are ours.
    // SAFETY: `helper` makes raw syscalls and atomic stores only.
    if let Ok(task) = unsafe { Task::spawn(helper, shared, STACK) } {
        // Off our CPU (`crowding`: another has one task at most): it
        // exits when done, so its affinity need not be given back.
        if let Some(pid) = task.pid() {
            proc::run_elsewhere(pid);
        }
        PENDING.put(task);
    }
}

/// The tasks runnable now (/proc/loadavg's fourth field: this one
/// among them) less the CPUs this process may use: below 0, a CPU has
/// nothing to run; 0, one task per CPU. A new task put on another CPU
/// at 0 shares it with one task at most; there, as the runs after other
/// runtimes' leave the kernel's workers tearing their namespaces and
/// cgroups down, the helper was measured still to finish in time
/// (`bench.sh 30`, twice: 5.69 and 6.94 ms against 6.65 and 7.53 with
/// it started only below 0, which that cleanup kept it from in 70% of
/// the runs); above 0 (a busy loop on each of two CPUs) it was late
/// most times, and cost 2.6 ms. None where only one CPU is ours:
/// nothing runs beside us there.
pub fn crowding() -> Option<i64> {
    let n = proc::cpus_allowed().ok().filter(|&n| n > 1)?;
    let l = crate::sys::fs::read(c"/proc/loadavg").ok()?;
    Some(i64::from(runnable(&l)?) - i64::from(n))
}

/// The runnable tasks in /proc/loadavg (`0.78 0.84 0.87 1/89 4213`: 1).
fn runnable(loadavg: &[u8]) -> Option<u32> {
    let f = loadavg.split(|&c| c == b' ').nth(3)?;
    let n = f.split(|&c| c == b'/').next()?;
    core::str::from_utf8(n).ok()?.parse().ok()
}

/// The helper's stack: it makes a handful of syscalls.
const STACK: usize = 64 * 1024;

/// The helper: unshare, an fd of each namespace, exit. It shares our
/// memory with no thread structure of its own, so it calls only raw
/// syscalls (no allocation, no errno) and writes only `Shared`.
fn helper(sh: &Shared) -> c_int {
    if proc::unshare(sh.flags).is_err() {
        return 1;
    }
    for (i, (kind, path)) in KINDS.iter().enumerate() {
        if sh.flags & kind != 0 {
            match fd::open(path, libc::O_RDONLY | libc::O_CLOEXEC, 0) {
                Ok(f) => sh.fds[i].store(f.into_raw(), Relaxed),
                Err(_) => return 1,
            }
        }
    }
    0
}

/// The namespaces started for this process (or settled before the fork
/// that made it), if they are exactly `flags` (& `ALL`) and all were
/// made; waits for the helper up to `PATIENCE`. A helper's work that
/// does not fit is closed and dropped: the clone makes its own.
pub fn take(flags: i32) -> Option<Made> {
    if let Some(made) = READY.take() {
        // (Checked again: the fds were inherited through a fork.)
        let fit = made.flags == flags & ALL && namespaces(&made.fds);
        return fit.then_some(made);
    }
    take_within(flags, patience())
}

/// (Under the crash hook: as long as it takes, one step list per run.)
fn patience() -> i64 {
    match crate::rt::crash::active() {
        true => i64::MAX,
        false => PATIENCE_NS,
    }
}

fn take_within(flags: i32, patience_ns: i64) -> Option<Made> {
    let (p, done) = wait_within(patience_ns)?;
    finish(p, done, flags)
}

/// The pending helper once it has exited, if within `patience_ns`; a
/// late one is left in LATE.
fn wait_within(patience_ns: i64) -> Option<(Pending, crate::sys::Result<i32>)> {
    let mut p = PENDING.take()?;
    let since = now_ns();
    loop {
        match p.try_wait() {
            Ok(None) if now_ns() - since >= patience_ns => {
                // Late: it keeps its memory until `discard` waits for it
                // (as for one given up on before, if any).
                if let Some(old) = LATE.put(p) {
                    reap(old);
                }
                return None;
            }
            Ok(None) => proc::sched_yield(),
            Ok(Some(status)) => return Some((p, Ok(status))),
            Err(e) => return Some((p, Err(e))),
        }
    }
}

/// Before a fork whose child launches the container (a detached run's
/// monitor): the helper works on this process's memory and fd table,
/// not the child's, so it is waited for first (as `take` waits) and what
/// it made is kept for the child's `take`. Returns the fds the child
/// must keep open.
pub fn settle() -> Vec<i32> {
    let Some((p, done)) = wait_within(patience()) else {
        return Vec::new();
    };
    let flags = p.data().flags;
    match finish(p, done, flags) {
        Some(made) => {
            let fds = made.fds.iter().map(|(f, _)| f.raw()).collect();
            READY.put(made);
            fds
        }
        None => Vec::new(),
    }
}

/// In the child of a fork after `settle`: a helper given up on is the
/// parent's to wait for, never the child's (its pid, once the parent
/// reaped it, may be the child's own child's). Its copy is forgotten.
pub fn after_fork() {
    LATE.forget();
    PENDING.forget();
}

/// In the parent of that fork: what `settle` kept is the child's now;
/// this process's copies of the fds are closed, and no later launch here
/// could take another container's namespaces.
pub fn settled_away() {
    drop(READY.take());
}

/// Monotonic nanoseconds.
fn now_ns() -> i64 {
    crate::sys::time::clock_gettime(libc::CLOCK_MONOTONIC)
        .map_or(0, |t| t.tv_sec as i64 * 1_000_000_000 + t.tv_nsec as i64)
}

/// A waited-for helper's fds, if they are what was asked for.
fn finish(p: Pending, done: crate::sys::Result<i32>, flags: i32) -> Option<Made> {
    // Whatever it opened is ours to close (the fd table is shared).
    let fds: Vec<(Fd, i32)> = KINDS
        .iter()
        .enumerate()
        .filter_map(|(i, (kind, _))| {
            let f = p.data().fds[i].load(Relaxed);
            (f >= 0).then(|| (Fd::from_raw(f), *kind))
        })
        .collect();
    // Each is the namespace it should be: nothing in this process closes
    // fds it did not open, but a number that now means something else
    // would be joined (or closed) blindly.
    if !namespaces(&fds) {
        fds.into_iter().for_each(|(f, _)| {
            let _ = f.into_raw();
        });
        return None;
    }
    let ok = matches!(done, Ok(0));
    let made = Made {
        flags: p.data().flags,
        fds,
    };
    (ok && made.flags == flags & ALL && made.fds.len() == made.flags.count_ones() as usize)
        .then_some(made)
}

/// Drop a helper's work that no launch will take (closing its fds), and
/// wait for one given up on.
pub fn discard() {
    drop(READY.take());
    for slot in [&PENDING, &LATE] {
        if let Some(p) = slot.take() {
            reap(p);
        }
    }
}

/// Wait for a helper and close what it opened.
fn reap(mut p: Pending) {
    let done = p.wait();
    drop(finish(p, done, -1));
}

/// Is each fd the namespace of its kind?
fn namespaces(fds: &[(Fd, i32)]) -> bool {
    fds.iter()
        .all(|(f, kind)| proc::ns_type(f.raw()) == Ok(*kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ino(f: &Fd) -> u64 {
        fd::fstatat(f.raw(), c"", libc::AT_EMPTY_PATH)
            .unwrap()
            .st_ino
    }

    fn own(kind: &str) -> u64 {
        std::fs::metadata(format!("/proc/self/ns/{kind}"))
            .map(|m| std::os::unix::fs::MetadataExt::ino(&m))
            .unwrap()
    }

    #[test]
    fn runnable_tasks_from_loadavg() {
        assert_eq!(runnable(b"0.78 0.84 0.87 1/89 4213\n"), Some(1));
        assert_eq!(runnable(b"2.00 1.00 0.50 3/120 99"), Some(3));
        assert_eq!(runnable(b"0.78 0.84 0.87"), None);
        assert_eq!(runnable(b"a b c x/1 2"), None);
        assert!(proc::cpus_allowed().unwrap() >= 1);
    }

    #[test]
    fn root_makes_new_namespaces_and_only_takes_what_fits() {
        if proc::geteuid() != 0 {
            eprintln!("SKIP prefetch: needs root");
            return;
        }
        // (the pid namespace is not one of them: clone makes it)
        let flags = libc::CLONE_NEWNET | libc::CLONE_NEWUTS | libc::CLONE_NEWPID;
        // (patient: a busy test host may keep the helper off a CPU)
        let wait = 5_000_000_000;
        spawn(flags);
        let m = take_within(flags, wait).expect("made");
        assert_eq!(m.flags, libc::CLONE_NEWNET | libc::CLONE_NEWUTS);
        // New ones, not ours.
        assert_ne!(ino(m.get(libc::CLONE_NEWNET).unwrap()), own("net"));
        assert_ne!(ino(m.get(libc::CLONE_NEWUTS).unwrap()), own("uts"));
        assert_eq!(m.joins().len(), 2);
        assert!(m.get(libc::CLONE_NEWNS).is_none());
        // Asked for other namespaces than were made: nothing.
        spawn(libc::CLONE_NEWNET);
        assert!(take_within(libc::CLONE_NEWNET | libc::CLONE_NEWNS, wait).is_none());
        // Nothing started: nothing.
        assert!(take(libc::CLONE_NEWNET).is_none());
        discard();
        // A helper not done in time is left to finish, then waited for
        // and its fds closed: none stays open.
        let open = || std::fs::read_dir("/proc/self/fd").unwrap().count();
        let before = open();
        for _ in 0..20 {
            spawn(libc::CLONE_NEWNET | libc::CLONE_NEWNS);
            if take_within(libc::CLONE_NEWNET | libc::CLONE_NEWNS, 0).is_none() {
                assert!(!LATE.is_empty());
            }
            discard();
            assert!(LATE.is_empty() && PENDING.is_empty());
        }
        assert_eq!(open(), before);
    }
}
