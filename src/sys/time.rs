//! Clocks.

use super::{Result, Sysno};
use syscalls::syscall;

/// `clock_gettime(clock, &ts)` — clock_gettime(2).
pub fn clock_gettime(clock: libc::clockid_t) -> Result<libc::timespec> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid, writable timespec that outlives the call.
    unsafe { syscall!(Sysno::clock_gettime, clock, &mut ts as *mut libc::timespec) }?;
    Ok(ts)
}

/// `nanosleep(&ts, NULL)` — nanosleep(2); an interrupted sleep just ends early.
pub fn sleep_ms(ms: u64) {
    let ts = libc::timespec {
        tv_sec: (ms / 1000) as i64,
        tv_nsec: ((ms % 1000) * 1_000_000) as i64,
    };
    // SAFETY: ts is valid; the remainder pointer may be NULL.
    let _ = unsafe { syscall!(Sysno::nanosleep, &ts as *const libc::timespec, 0) };
}
