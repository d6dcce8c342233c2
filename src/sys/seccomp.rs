//! seccomp(2) and no_new_privs: the last two steps before execve.

use super::{Result, Sysno};
use syscalls::syscall;

/// One classic BPF instruction: `struct sock_filter` of <linux/filter.h>.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SockFilter {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

/// `struct sock_fprog`.
#[repr(C)]
struct SockFprog {
    len: u16,
    filter: *const SockFilter,
}

const SECCOMP_SET_MODE_FILTER: u32 = 1;

/// `prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)` — prctl(2): execve never
/// grants privileges again (setuid bits, file capabilities), for this
/// process and everything it starts. It cannot be unset.
pub fn set_no_new_privs() -> Result<()> {
    // SAFETY: no pointers.
    unsafe { syscall!(Sysno::prctl, libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) }.map(drop)
}

/// `seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog)` — seccomp(2). Needs
/// no_new_privs, or CAP_SYS_ADMIN in the caller's user namespace. The
/// kernel copies the program; `prog` may go away after the call.
/// (SECCOMP_FILTER_FLAG_TSYNC changes nothing: pocket is single-threaded.)
pub fn set_filter(prog: &[SockFilter], flags: u32) -> Result<()> {
    let fprog = SockFprog {
        len: prog.len() as u16,
        filter: prog.as_ptr(),
    };
    // SAFETY: fprog points at `len` instructions that outlive the call.
    unsafe {
        syscall!(
            Sysno::seccomp,
            SECCOMP_SET_MODE_FILTER,
            flags,
            &fprog as *const SockFprog
        )
    }
    .map(drop)
}
