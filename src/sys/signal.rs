//! Signals: masks, signalfd, dispositions, sigtimedwait.

use super::fd::Fd;
use super::{Errno, Result, Sysno};
use syscalls::syscall;

/// The kernel's sigset_t (64 signals in one word on x86_64).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SigSet(pub u64);

impl SigSet {
    pub const fn of(sigs: &[i32]) -> SigSet {
        let mut m = 0u64;
        let mut i = 0;
        while i < sigs.len() {
            m |= 1 << (sigs[i] - 1);
            i += 1;
        }
        SigSet(m)
    }
    pub fn has(&self, sig: i32) -> bool {
        (1..=64).contains(&sig) && self.0 & (1 << (sig - 1)) != 0
    }
}

const SIGSET_SIZE: usize = 8;

/// `rt_sigprocmask(how, &set, &old, 8)` — sigprocmask(2): returns the old mask.
pub fn sigprocmask(how: i32, set: &SigSet) -> Result<SigSet> {
    let mut old = SigSet(0);
    // SAFETY: set and old are valid kernel sigsets.
    unsafe {
        syscall!(
            Sysno::rt_sigprocmask,
            how,
            set as *const _,
            &mut old as *mut _,
            SIGSET_SIZE
        )
    }?;
    Ok(old)
}

/// `signalfd4(-1, &set, 8, SFD_CLOEXEC|SFD_NONBLOCK)` — signalfd(2).
pub fn signalfd(set: &SigSet) -> Result<Fd> {
    let flags = libc::SFD_CLOEXEC | libc::SFD_NONBLOCK;
    // SAFETY: set is a valid kernel sigset.
    let fd = unsafe { syscall!(Sysno::signalfd4, -1i32, set as *const _, SIGSET_SIZE, flags) }?;
    Ok(Fd::from_raw(fd as i32))
}

/// Read one pending signal number from a signalfd, if any.
pub fn signalfd_next(fd: &Fd) -> Option<i32> {
    // struct signalfd_siginfo is 128 bytes; ssi_signo is the first u32.
    let mut buf = [0u8; 128];
    match super::fd::read(fd.raw(), &mut buf) {
        Ok(128) => Some(u32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]) as i32),
        _ => None,
    }
}

/// The kernel's struct sigaction on x86_64.
#[repr(C)]
struct KSigaction {
    handler: usize,
    flags: u64,
    restorer: usize,
    mask: u64,
}

fn set_disposition(sig: i32, handler: usize) -> Result<()> {
    let act = KSigaction {
        handler,
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    // SAFETY: act is a valid kernel sigaction; SIG_DFL/SIG_IGN need no restorer.
    unsafe { syscall!(Sysno::rt_sigaction, sig, &act as *const _, 0, SIGSET_SIZE) }.map(drop)
}

/// Exit with 128 + N on any of `sigs`: a handler, so that the kernel
/// delivers them to a pid namespace's init at all (a default action is
/// dropped there), for the container's init while it waits for `start`
/// (runc's Go init dies of SIGTERM then). Only in a process that execs
/// or exits next, which resets it: pocket's own processes keep no
/// handlers (proc::vfork_on relies on that).
pub fn exit_on(sigs: &[i32]) -> Result<()> {
    extern "C" fn die(sig: core::ffi::c_int) {
        super::proc::exit(128 + sig);
    }
    for &s in sigs {
        // SAFETY: a zeroed sigaction is a valid value (empty mask, no flags).
        let mut act: libc::sigaction = unsafe { core::mem::zeroed() };
        act.sa_sigaction = die as extern "C" fn(core::ffi::c_int) as usize;
        // SAFETY: act is a valid sigaction; musl's sigaction supplies the
        // restorer x86_64 needs.
        if unsafe { libc::sigaction(s, &act, core::ptr::null_mut()) } != 0 {
            // SAFETY: musl's errno location is valid in this thread.
            return Err(Errno::new(unsafe { *libc::__errno_location() }));
        }
    }
    Ok(())
}

/// Ignore `sig` (SIG_IGN survives execve; reset it in children).
pub fn ignore(sig: i32) -> Result<()> {
    set_disposition(sig, 1)
}

/// Reset every signal to its default action and unblock all of them:
/// what a freshly exec'd container process must start with, whatever
/// pocket itself inherited or changed.
pub fn reset_all() {
    for sig in 1..=64 {
        if sig != libc::SIGKILL && sig != libc::SIGSTOP {
            let _ = set_disposition(sig, 0);
        }
    }
    let _ = sigprocmask(libc::SIG_SETMASK, &SigSet(0));
}

/// `rt_sigtimedwait(&set, NULL, &ts, 8)` — sigtimedwait(2): the next
/// signal of `set`, or None on timeout. `set` must be blocked.
pub fn sigtimedwait(set: &SigSet, timeout_ms: i64) -> Result<Option<i32>> {
    let ts = libc::timespec {
        tv_sec: timeout_ms / 1000,
        tv_nsec: (timeout_ms % 1000) * 1_000_000,
    };
    // SAFETY: set and ts are valid; the siginfo pointer may be NULL.
    match unsafe {
        syscall!(
            Sysno::rt_sigtimedwait,
            set as *const _,
            0,
            &ts as *const _,
            SIGSET_SIZE
        )
    } {
        Ok(s) => Ok(Some(s as i32)),
        Err(Errno::EAGAIN) | Err(Errno::EINTR) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Linux's signal names, SIGHUP (1) first.
pub const NAMES: &[&str] = &[
    "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
    "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
    "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
];

/// glibc's (and Go's) first and last real-time signals: the kernel's 32
/// and 33 are libc's own.
const RTMIN: i32 = 34;
const RTMAX: i32 = 64;

/// "SIGQUIT" for 3, as docker shows a stop signal; the real-time ones as
/// moby's table names them (SIGRTMIN, SIGRTMIN+1..15, SIGRTMAX-14..1,
/// SIGRTMAX); a number without a name (32, 33) as itself.
pub fn name(n: i32) -> alloc::string::String {
    match (
        n,
        usize::try_from(n)
            .ok()
            .and_then(|i| NAMES.get(i.checked_sub(1)?)),
    ) {
        (_, Some(s)) => alloc::format!("SIG{s}"),
        (RTMIN, _) => alloc::string::String::from("SIGRTMIN"),
        (RTMAX, _) => alloc::string::String::from("SIGRTMAX"),
        (35..=49, _) => alloc::format!("SIGRTMIN+{}", n - RTMIN),
        (50..=63, _) => alloc::format!("SIGRTMAX-{}", RTMAX - n),
        _ => alloc::format!("{n}"),
    }
}

/// Signal names and numbers as `kill -s` takes them: KILL, SIGKILL, 9,
/// and the real-time ones, RTMIN+3 or SIGRTMAX-1 (systemd images stop on
/// SIGRTMIN+3).
pub fn by_name(s: &str) -> Option<i32> {
    if let Ok(n) = s.parse::<i32>() {
        return (1..=64).contains(&n).then_some(n);
    }
    let up = s.to_ascii_uppercase();
    let name = up.strip_prefix("SIG").unwrap_or(&up);
    let offset = |rest: &str, sign: char| match rest {
        "" => Some(0),
        r => r
            .strip_prefix(sign)?
            .parse::<i32>()
            .ok()
            .filter(|k| (0..=30).contains(k)),
    };
    if let Some(rest) = name.strip_prefix("RTMIN") {
        return offset(rest, '+').map(|k| RTMIN + k);
    }
    if let Some(rest) = name.strip_prefix("RTMAX") {
        return offset(rest, '-').map(|k| RTMAX - k);
    }
    NAMES.iter().position(|n| *n == name).map(|i| i as i32 + 1)
}

#[cfg(test)]
mod tests {
    use super::SigSet;

    #[test]
    fn real_time_names_as_moby() {
        use super::{by_name, name};
        for (s, n) in [
            ("SIGRTMIN+3", 37),
            ("rtmin", 34),
            ("RTMAX", 64),
            ("SIGRTMAX-1", 63),
            ("RTMIN+30", 64),
        ] {
            assert_eq!(by_name(s), Some(n), "{s}");
        }
        for s in ["RTMIN+31", "RTMIN-1", "RTMAX+1", "RTMINX", "RTMIN+"] {
            assert_eq!(by_name(s), None, "{s}");
        }
        for (n, s) in [
            (34, "SIGRTMIN"),
            (37, "SIGRTMIN+3"),
            (49, "SIGRTMIN+15"),
            (50, "SIGRTMAX-14"),
            (64, "SIGRTMAX"),
            (33, "33"),
            (15, "SIGTERM"),
        ] {
            assert_eq!(name(n), s, "{n}");
            assert_eq!(by_name(s), Some(n), "{s}");
        }
    }

    #[test]
    fn sigset_bits() {
        let s = SigSet::of(&[1, 15, 64]);
        assert!(s.has(1) && s.has(15) && s.has(64));
        assert!(!s.has(2) && !s.has(0) && !s.has(65));
    }
}
