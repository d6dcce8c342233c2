//! Waiting on a word of memory shared with a task that shares ours
//! (clone with CLONE_VM): futex(2), private to this memory.

use super::Sysno;
use core::sync::atomic::AtomicU32;
use syscalls::syscall;

/// `futex(word, FUTEX_WAIT_PRIVATE, expected, NULL)` — sleep while `word`
/// holds `expected`. Returns on a wake, a signal, or at once if the word
/// already differs: callers look at the word again either way.
pub fn wait(word: &AtomicU32, expected: u32) {
    // SAFETY: `word` is a live, aligned u32; no timeout pointer.
    let _ = unsafe {
        syscall!(
            Sysno::futex,
            word.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            expected,
            0
        )
    };
}

/// `futex(word, FUTEX_WAKE_PRIVATE, n)` — wake up to `n` waiters on `word`.
pub fn wake(word: &AtomicU32, n: u32) {
    // SAFETY: `word` is a live, aligned u32.
    let _ = unsafe {
        syscall!(
            Sysno::futex,
            word.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            n
        )
    };
}
