//! A test hook, documented in the README: with `POCKET_CRASH_AT=N` pocket
//! SIGKILLs itself at the Nth setup step it passes (counted in this
//! process; a monitor it forks counts on from there), after saying which
//! on stderr. The crash tests use it to interrupt create, start, the
//! network claim, exec, rm, load, pull and `network connect`/`disconnect`
//! at every step, and check that `ps -a` and `images` tell the truth
//! afterwards and `rm -f` and prune clear what is left.
//! Set, a run makes its namespaces ahead whatever the load and waits for
//! them (a list of steps that does not change from run to run).
//! Unset (always, outside those tests), a step is one relaxed load.

use core::sync::atomic::{AtomicU32, Ordering::Relaxed};

static AT: AtomicU32 = AtomicU32::new(0);
static PASSED: AtomicU32 = AtomicU32::new(0);

/// Read the hook's variable (its value, if set).
pub fn init(v: Option<&[u8]>) {
    let n = v
        .and_then(|v| core::str::from_utf8(v).ok())
        .and_then(|v| v.parse::<u32>().ok())
        .unwrap_or(0);
    AT.store(n, Relaxed);
}

/// Is the hook set? Then what depends on the host's load is done the
/// same way every time (spawn/prefetch.rs), so that the Nth step of one
/// run is the Nth of the next.
pub fn active() -> bool {
    AT.load(Relaxed) != 0
}

/// A setup step named `what` is done.
#[inline]
pub fn step(what: &str) {
    let at = AT.load(Relaxed);
    if at == 0 {
        return;
    }
    let n = PASSED.fetch_add(1, Relaxed) + 1;
    if n == at {
        crate::errln!("pocket: POCKET_CRASH_AT={n}: killed after {what}");
        let _ = crate::sys::proc::kill(crate::sys::proc::getpid(), libc::SIGKILL);
    }
}
