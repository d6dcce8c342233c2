//! Entering a container from a sealed copy of pocket (CVE-2019-5736).
//!
//! A process of `pocket exec` that joins a container is the host's pocket
//! binary until its final execve. If the container planted a script whose
//! interpreter is `#!/proc/self/exe`, that execve runs the host's pocket
//! *inside* the container, as an ordinary (dumpable) process: another
//! container process can then open its /proc/PID/exe and, once no process
//! executes that file any more (ETXTBSY ends), write the host's binary.
//! So `exec`, where its command cannot start through the dmz instead
//! (spawn/dmz.rs: then pocket's own execve in the container is of that
//! sealed program), first re-executes itself from where nothing can write: a
//! private read-only overlayfs view of its own directory (runc 1.2's way:
//! no copy, ~40 us), or, where that cannot be had, a memfd copy sealed
//! against writes (~180 us for pocket's 0.9 MB, and 0.9 MB of memory per
//! waiting container). /proc/self/exe is then that view or copy, and the
//! on-disk binary is out of reach whatever runs in the container, even
//! after an upgrade put a new inode at pocket's path.
//!
//! A container's monitor (a detached one's, or the foreground pocket of
//! a `run` not through the dmz) runs sealed for as long as the container
//! lives, so `exec` as root borrows the live monitor's view
//! (`sys::exe::sealed_twin`: that process by pid and start time, the
//! same file, checked) instead of making and, at its exit, tearing down
//! one of its own: ~0.15-0.2 ms of its ~2.8 ms here; the monitor's
//! health checks run from it too. (A
//! plain user's pocket runs from a sealed memfd copy, never the same
//! file: nothing to borrow.)
//!
//! `run`, `start`, `restart` and `boot` run sealed too: a container's init
//! is a clone of pocket, its /proc/PID/exe the binary until its execve,
//! and ETXTBSY guards the file only while the parent (foreground pocket or
//! monitor) lives; killed first, it leaves a window before the kernel
//! kills the container's other processes. But a plain foreground `run`
//! (spawn/dmz.rs `fits_run`: no --init, no monitor, its own pid
//! namespace...) starts its command through the dmz instead, as `exec`
//! does, and does not re-execute: its init's last execve is of the dmz.
//! Its pocket then has no sealed view to lend: an `exec` into it, and
//! its health checks, make their own (or take the dmz's route).

use crate::error::{Error, Result};
use crate::rt::Args;
use crate::sys::exe;
use core::ffi::c_char;

/// Return if this process already runs sealed; else re-execute with the
/// same arguments and environment from a sealed view or copy (never
/// returns then). `run_dir` is pocket's own run directory: where the
/// kernel takes no detached layer (before 6.15), the view's empty second
/// layer is made there. `twin`, asked only when this process is not
/// sealed yet: a process (pid, start time) that may run from a sealed
/// view of this same binary (the container's monitor), whose view is
/// then taken instead.
pub fn ensure(args: &Args, run_dir: &str, twin: impl FnOnce() -> Option<(i32, u64)>) -> Result<()> {
    if exe::running_sealed() {
        return Ok(());
    }
    Err(reexec(args, run_dir, twin))
}

/// `exec`'s way in (see `ensure` for the arguments): where the command
/// may start through the dmz (`dmz_fits`, spawn/dmz.rs) and its memfd can
/// be made, that memfd, and this process stays as it is; else None when
/// this process runs sealed, or once it has re-executed so.
pub fn for_exec(
    args: &Args,
    run_dir: &str,
    twin: impl FnOnce() -> Option<(i32, u64)>,
    dmz_fits: bool,
) -> Result<Option<crate::sys::fd::Fd>> {
    // The dmz first: it keeps the binary out of reach whether or not this
    // process runs sealed, and asking costs four syscalls.
    if dmz_fits && let Ok(f) = super::dmz::load() {
        return Ok(Some(f));
    }
    if exe::running_sealed() {
        return Ok(None);
    }
    Err(reexec(args, run_dir, twin))
}

/// Re-execute sealed (see `ensure`): returns only what failed.
fn reexec(args: &Args, run_dir: &str, twin: impl FnOnce() -> Option<(i32, u64)>) -> Error {
    let twin = twin().and_then(|(pid, start)| exe::sealed_twin(pid, start).ok());
    exec_sealed(twin, run_dir, args.raw_argv, args.raw_envp)
}

/// Execute pocket from a sealed view or copy with `argv` and `envp`
/// (a health check's `pocket exec`); returns only on failure.
pub fn exec(run_dir: &str, argv: &[alloc::vec::Vec<u8>], envp: &[alloc::vec::Vec<u8>]) -> Error {
    let table = super::program::CTable::new;
    let (Some(at), Some(et)) = (table(argv), table(envp)) else {
        return Error::bad("exec", "", "an argument contains a NUL byte");
    };
    // A monitor's probe runs from the monitor's own sealed view.
    exec_sealed(exe::sealed_self().ok(), run_dir, at.as_ptr(), et.as_ptr())
}

/// Execute pocket with `argv` and `envp` from `first` (a sealed view at
/// hand), else from a view of its own, else from a sealed copy; returns
/// only what failed (an exec that fails before the point of no return
/// comes back, and the next is tried).
fn exec_sealed(
    first: Option<crate::sys::fd::Fd>,
    run_dir: &str,
    argv: *const *const c_char,
    envp: *const *const c_char,
) -> Error {
    if let Some(f) = first {
        let _ = exe::execveat_fd(&f, argv, envp);
    }
    if let Ok(view) = exe::overlay_view(&|| spare(run_dir)) {
        let _ = exe::execveat_fd(&view, argv, envp);
    }
    match exe::sealed_copy() {
        Ok(copy) => Error::sys(
            "execveat",
            "sealed copy of pocket",
            exe::execveat_fd(&copy, argv, envp),
        ),
        Err(e) => Error::sys("seal a copy of", "pocket", e),
    }
}

/// The view's second layer on kernels that take no detached one: an empty
/// directory in the run directory, made once (0700, parents too); nothing
/// writes there.
fn spare(run_dir: &str) -> Option<alloc::ffi::CString> {
    let empty = alloc::format!("{run_dir}/seal");
    crate::sys::fs::mkdir_private(&empty).ok()?;
    crate::error::cpath(&empty).ok()
}
