//! A host program pocket starts (an OCI hook, newuidmap, slirp4netns):
//! the child's side after fork, the same for each. Its fds 0..n are the
//! ones given and nothing else of pocket's reaches it, its signals are
//! back to their defaults, and it runs with its own argv and environment.

use crate::sys::{Errno, fd, proc, signal};
use alloc::ffi::CString;
use alloc::vec::Vec;
use core::ffi::{CStr, c_char};

/// The most fds a program is given.
const MAX: usize = 8;

/// In the forked child: make `fds[i]` its fd i, close every other one,
/// reset the signals, run `setup` (a process group, a directory; false
/// ends it), then execve `path`. Exits 127 if any step fails (as a shell
/// does for a program it cannot run). Allocation-free: it runs between
/// fork and execve.
pub fn exec_child(
    fds: &[i32],
    setup: impl FnOnce() -> bool,
    path: &CStr,
    argv: *const *const c_char,
    envp: *const *const c_char,
) -> ! {
    if fds.len() > MAX {
        proc::exit(127);
    }
    // Each source moved above the targets first, so that no dup2
    // overwrites a source still to come. A source that is closed (pocket
    // run with its stdout closed) leaves that fd closed.
    let mut up = [None; MAX];
    for (i, &f) in fds.iter().enumerate() {
        up[i] = match fd::dup_from(f, MAX as i32 + 2) {
            Ok(n) => Some(n),
            Err(Errno::EBADF) => None,
            Err(_) => proc::exit(127),
        };
    }
    for (to, f) in up[..fds.len()].iter().enumerate() {
        match f {
            Some(f) if fd::dup2(*f, to as i32).is_err() => proc::exit(127),
            Some(_) => {}
            None => fd::close(to as i32),
        }
    }
    let _ = fd::close_range(fds.len() as u32, u32::MAX, 0);
    signal::reset_all();
    if !setup() {
        proc::exit(127);
    }
    let _ = proc::execve(path, argv, envp);
    proc::exit(127)
}

/// C strings and their NULL-terminated table (an argv, an envp), made
/// before the fork: between fork and execve the child only reads them.
pub struct CTable {
    _strings: Vec<CString>,
    ptrs: Vec<*const c_char>,
}

impl CTable {
    /// The table of `items`; None if one holds a NUL byte.
    pub fn new<S: AsRef<[u8]>>(items: &[S]) -> Option<CTable> {
        let strings = items
            .iter()
            .map(|s| crate::sys::cstr::cstring(s.as_ref()))
            .collect::<Option<Vec<_>>>()?;
        let mut ptrs: Vec<*const c_char> = strings.iter().map(|s| s.as_ptr()).collect();
        ptrs.push(core::ptr::null());
        Some(CTable {
            _strings: strings,
            ptrs,
        })
    }

    pub fn as_ptr(&self) -> *const *const c_char {
        self.ptrs.as_ptr()
    }

    /// The pointers, the final NULL included.
    pub fn ptrs(&self) -> &[*const c_char] {
        &self.ptrs
    }
}
