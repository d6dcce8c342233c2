//! A helper task sharing this process's memory and fd table: clone(2)
//! with CLONE_VM | CLONE_FILES onto a stack of its own, not a thread
//! (pocket stays single-threaded for its allocator and setns).
//!
//! The helper has no thread structure of its own (it runs on our TLS),
//! so its entry must make only raw syscalls (the `sys` wrappers): no
//! allocation, no libc call that sets errno or takes a lock. It sends no
//! signal at its exit; it is waited for with __WALL, which waits for
//! such a "clone" child too.
//!
//! The stack and the entry's argument are freed only once the helper was
//! waited for: dropping a `Task` waits for it first, and leaking one
//! (a helper given up on, still running) leaks both.

use super::stack::Stack;
use super::{Errno, Result, proc};
use alloc::boxed::Box;
use core::ffi::{c_int, c_void};
use core::ptr::NonNull;

/// What the helper is given: its entry and the data it shares with us.
struct Arg<T> {
    entry: fn(&T) -> c_int,
    data: T,
}

/// A running (or exited, not yet waited for) helper task.
pub struct Task<T> {
    /// 0 once waited for.
    pid: i32,
    /// A leaked `Box<Arg<T>>`: the helper reads it through a raw pointer
    /// while it runs, so no `Box` (which asserts sole ownership when
    /// moved) holds it until then.
    arg: NonNull<Arg<T>>,
    _stack: Stack,
}

impl<T: Sync + 'static> Task<T> {
    /// Start `entry(&data)` on a helper with a stack of `stack` bytes,
    /// `data` shared between it and us (hence `Sync`; `'static` as a
    /// leaked `Task` leaves the helper running). If no helper could be
    /// made (mmap of its stack, clone), `data` comes back.
    ///
    /// # Safety
    /// `entry` runs with no thread structure of its own, on this
    /// process's memory: it may make only raw syscalls (the `sys`
    /// wrappers built on `syscall!`; not those that go through libc, as
    /// `proc::fork`, `fs::realpath` or `tcp`'s resolver do) and atomic
    /// accesses to `data`; no allocation, no libc call that sets errno or
    /// takes a lock, no panic.
    pub unsafe fn spawn(
        entry: fn(&T) -> c_int,
        data: T,
        stack: usize,
    ) -> core::result::Result<Task<T>, (Errno, T)> {
        let stack = match Stack::new(stack) {
            Ok(s) => s,
            Err(e) => return Err((e, data)),
        };
        let arg = NonNull::from(Box::leak(Box::new(Arg { entry, data })));
        // No signal at its exit: it is waited for with __WALL.
        // SAFETY: the stack is a fresh mapping, and `arg` a live Arg<T>,
        // that this Task frees only after the helper was waited for (or
        // never); `enter::<T>` reads only that Arg. The entry keeps to
        // raw syscalls: the caller's promise (`# Safety`).
        let pid = unsafe {
            proc::clone(
                enter::<T>,
                stack.top(),
                libc::CLONE_VM | libc::CLONE_FILES,
                arg.as_ptr() as *mut c_void,
            )
        };
        match pid {
            Ok(pid) => Ok(Task {
                pid,
                arg,
                _stack: stack,
            }),
            Err(e) => {
                // SAFETY: from Box::leak above; no helper ever saw it.
                let a = unsafe { Box::from_raw(arg.as_ptr()) };
                Err((e, a.data))
            }
        }
    }
}

impl<T> Task<T> {
    /// The helper's pid, None once it was waited for.
    pub fn pid(&self) -> Option<i32> {
        (self.pid != 0).then_some(self.pid)
    }

    /// The data shared with the helper.
    pub fn data(&self) -> &T {
        // SAFETY: `arg` is live until drop; the helper only reads it
        // through a shared reference too.
        unsafe { &self.arg.as_ref().data }
    }

    /// The data, all ours once the helper was waited for (else None).
    pub fn data_mut(&mut self) -> Option<&mut T> {
        if self.pid != 0 {
            return None;
        }
        // SAFETY: `arg` is live until drop, and with the helper gone no
        // other reference to it remains.
        Some(unsafe { &mut self.arg.as_mut().data })
    }

    /// `wait4(pid, &status, __WALL | WNOHANG, NULL)`: the helper's raw
    /// wait status once it has exited (it is then waited for), None
    /// while it runs. An error (ECHILD: nothing to wait for) also counts
    /// as waited for, and lets the stack and data go with the Task: the
    /// helper was reaped elsewhere (so it has exited), or this is a
    /// fork's copy of the Task (the helper runs on the parent's memory,
    /// not this one). Nothing in pocket reaps with `wait(-1, __WALL)`,
    /// which could let the helper's pid be reused and waited for here.
    pub fn try_wait(&mut self) -> Result<Option<i32>> {
        self.wait_with(libc::WNOHANG)
    }

    /// `wait4(pid, &status, __WALL, NULL)`: wait for the helper to exit;
    /// its raw wait status.
    pub fn wait(&mut self) -> Result<i32> {
        // (without WNOHANG wait4 never answers "still running")
        self.wait_with(0).map(|s| s.unwrap_or(0))
    }

    fn wait_with(&mut self, options: i32) -> Result<Option<i32>> {
        if self.pid == 0 {
            return Err(Errno::ECHILD);
        }
        match proc::wait(self.pid, libc::__WALL | options) {
            Ok((0, _)) => Ok(None),
            r => {
                self.pid = 0;
                r.map(|(_, status)| Some(status))
            }
        }
    }
}

impl<T> Drop for Task<T> {
    /// The helper ends before its stack and data go: a caller whose
    /// helper may sleep (on a futex) wakes it for good first.
    fn drop(&mut self) {
        if self.pid != 0 {
            let _ = self.wait();
        }
        // SAFETY: from Box::leak in `spawn`; the helper was waited for.
        drop(unsafe { Box::from_raw(self.arg.as_ptr()) });
    }
}

/// The helper's first frame: the entry, on the data.
extern "C" fn enter<T>(arg: *mut c_void) -> c_int {
    // SAFETY: `spawn` passes a live Arg<T>, freed only after this task
    // was waited for.
    let a = unsafe { &*(arg as *const Arg<T>) };
    (a.entry)(&a.data)
}

/// A helper of ours that was waited for (tests of the callers: none
/// is left behind, not even a zombie).
#[cfg(test)]
pub fn reaped(pid: i32) -> bool {
    proc::wait(pid, libc::__WALL | libc::WNOHANG) == Err(Errno::ECHILD)
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::sync::atomic::{AtomicU32, Ordering::*};

    struct Shared {
        go: AtomicU32,
        seen: AtomicU32,
    }

    fn helper(sh: &Shared) -> c_int {
        while sh.go.load(Acquire) == 0 {
            super::super::futex::wait(&sh.go, 0);
        }
        sh.seen.store(7, Release);
        3
    }

    fn shared() -> Shared {
        Shared {
            go: AtomicU32::new(0),
            seen: AtomicU32::new(0),
        }
    }

    #[test]
    fn runs_on_shared_memory_and_is_waited_for() {
        let mut t = unsafe { Task::spawn(helper, shared(), 64 * 1024) }
            .ok()
            .unwrap();
        let pid = t.pid().unwrap();
        assert!(t.data_mut().is_none(), "ours only once waited for");
        assert_eq!(t.try_wait(), Ok(None));
        t.data().go.store(1, Release);
        super::super::futex::wake(&t.data().go, 1);
        let status = t.wait().unwrap();
        assert_eq!(proc::exit_code(status), 3);
        assert_eq!(t.pid(), None);
        assert_eq!(t.data_mut().unwrap().seen.load(Acquire), 7);
        assert_eq!(t.try_wait(), Err(Errno::ECHILD));
        assert!(reaped(pid));
    }

    #[test]
    fn dropped_it_is_waited_for() {
        let t = unsafe { Task::spawn(helper, shared(), 64 * 1024) }
            .ok()
            .unwrap();
        let pid = t.pid().unwrap();
        t.data().go.store(1, Release);
        super::super::futex::wake(&t.data().go, 1);
        drop(t);
        assert!(reaped(pid));
    }
}
