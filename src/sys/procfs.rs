//! Processes as /proc shows them: their start time (what makes a pid a
//! name for one process, even after the number is reused), liveness, and
//! waiting on a pidfd.

/// Start time of `pid` (field 22 of /proc/PID/stat), None if it is gone.
pub fn start_time(pid: i32) -> Option<u64> {
    if gone(pid) {
        return None;
    }
    let path = alloc::format!("/proc/{pid}/stat\0");
    let c = core::ffi::CStr::from_bytes_with_nul(path.as_bytes()).ok()?;
    let data = super::fs::read(c).ok()?;
    parse_start_time(&data)
}

/// No process has the number `pid`: `kill(pid, 0)` says ESRCH, with no
/// path to walk as a failed open of /proc/PID/stat has (asked of
/// creators and monitors long gone).
fn gone(pid: i32) -> bool {
    pid <= 0 || super::proc::kill(pid, 0) == Err(super::Errno::ESRCH)
}

/// Parse field 22 of a /proc/PID/stat line; the comm field (2) may hold
/// spaces and parentheses, so count from the last ')'.
pub fn parse_start_time(stat: &[u8]) -> Option<u64> {
    let close = stat.iter().rposition(|&c| c == b')')?;
    let rest = core::str::from_utf8(&stat[close + 1..]).ok()?;
    // After ')': field 3 (state) is the first; field 22 is the 20th.
    let f = rest.split_ascii_whitespace().nth(19)?;
    f.parse().ok()
}

/// Does the process `pid` with start time `start` still exist (a zombie
/// included)?
pub fn exists(pid: i32, start: u64) -> bool {
    pid > 0 && start_time(pid) == Some(start)
}

/// Is the process `pid` with start time `start` still there (and not a
/// zombie)?
pub fn alive(pid: i32, start: u64) -> bool {
    if gone(pid) {
        return false;
    }
    let path = alloc::format!("/proc/{pid}/stat\0");
    let Ok(c) = core::ffi::CStr::from_bytes_with_nul(path.as_bytes()) else {
        return false;
    };
    let Ok(data) = super::fs::read(c) else {
        return false;
    };
    let state = data
        .iter()
        .rposition(|&c| c == b')')
        .and_then(|i| data.get(i + 2))
        .copied();
    state != Some(b'Z') && state != Some(b'X') && parse_start_time(&data) == Some(start)
}

/// Wait up to `ms` milliseconds (-1: forever) for the process behind a
/// pidfd to exit; true if it did.
pub fn wait_pidfd(fd: &super::fd::Fd, ms: i32) -> bool {
    let mut p = [libc::pollfd {
        fd: fd.raw(),
        events: libc::POLLIN,
        revents: 0,
    }];
    super::fd::poll(&mut p, ms).map(|n| n > 0).unwrap_or(true)
}
