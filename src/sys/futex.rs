//! Waiting on a word of memory shared with a task that shares ours
//! (clone with CLONE_VM): futex(2), private to this memory.

use super::{Result, Sysno};
use core::sync::atomic::AtomicU32;
use syscalls::syscall;

/// `futex(word, FUTEX_WAIT_PRIVATE, expected, NULL)` — sleep while `word`
/// holds `expected`. Returns on a wake, a signal, or at once if the word
/// already differs (EAGAIN): callers look at the word again either way.
pub fn wait(word: &AtomicU32, expected: u32) {
    let _ = futex(word, libc::FUTEX_WAIT, expected);
}

/// `futex(word, FUTEX_WAKE_PRIVATE, n)` — wake up to `n` waiters on `word`.
pub fn wake(word: &AtomicU32, n: u32) {
    let _ = futex(word, libc::FUTEX_WAKE, n);
}

/// `futex(word, op | FUTEX_PRIVATE_FLAG, val, NULL)` — futex(2), for the
/// ops that take no timeout, second word or val3 (WAIT, WAKE). Raw: a
/// helper task with no errno of its own calls it.
fn futex(word: &AtomicU32, op: i32, val: u32) -> Result<usize> {
    // SAFETY: `word` is a live, aligned u32; the timeout pointer is NULL
    // and the ops here read nothing further.
    unsafe {
        syscall!(
            Sysno::futex,
            word.as_ptr(),
            op | libc::FUTEX_PRIVATE_FLAG,
            val,
            0
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_on_a_changed_word_returns_at_once_and_wake_counts_waiters() {
        let w = AtomicU32::new(0);
        assert_eq!(
            futex(&w, libc::FUTEX_WAIT, 1),
            Err(super::super::Errno::EAGAIN)
        );
        wait(&w, 1);
        assert_eq!(futex(&w, libc::FUTEX_WAKE, 1), Ok(0));
        wake(&w, 1);
    }
}
