//! The only place with `unsafe` system calls.
//!
//! Each wrapper is a thin call of the raw syscall instruction (via the
//! `syscalls` crate) that returns `Result<T, Errno>`; its doc names the C
//! call and the man page. Callers add the step name (see `crate::Error`).

pub mod bpf;
pub mod caps;
pub mod cstr;
pub mod exe;
pub mod fd;
pub mod file;
pub mod fs;
pub mod futex;
pub mod inet;
pub mod lock;
pub mod mem;
pub mod mount;
pub mod net;
pub mod nlsock;
pub mod proc;
pub mod procfs;
pub mod seccomp;
pub mod signal;
pub mod slot;
pub mod sock;
pub mod stack;
pub mod task;
pub mod tcp;
pub mod time;
pub mod tree;
pub mod tty;

pub use syscalls::{Errno, Sysno};

pub type Result<T> = core::result::Result<T, Errno>;

/// Human text for an errno ("No such file or directory").
pub fn strerror(e: Errno) -> &'static str {
    e.description().unwrap_or("unknown error")
}
