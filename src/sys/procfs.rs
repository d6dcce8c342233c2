//! Processes as /proc shows them: their start time (what makes a pid a
//! name for one process, even after the number is reused), liveness,
//! uids, and waiting on a pidfd.

/// Start time of `pid` (field 22 of /proc/PID/stat), None if it is gone.
pub fn start_time(pid: i32) -> Option<u64> {
    if gone(pid) {
        return None;
    }
    parse_start_time(&read(pid, "stat")?)
}

/// /proc/PID/FILE, whole.
fn read(pid: i32, file: &str) -> Option<alloc::vec::Vec<u8>> {
    let path = alloc::format!("/proc/{pid}/{file}\0");
    let c = core::ffi::CStr::from_bytes_with_nul(path.as_bytes()).ok()?;
    super::fs::read(c).ok()
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
    stat_field(stat, 22)?.parse().ok()
}

/// Field `n` (1-based, as proc_pid_stat(5) numbers them, 3 or more) of a
/// /proc/PID/stat line, counted after the last ')'.
fn stat_field(stat: &[u8], n: usize) -> Option<&str> {
    fields_from_state(stat)?.nth(n.checked_sub(3)?)
}

/// The fields of a /proc/PID/stat line from field 3 (the state) on:
/// after the last ')', as the comm field may hold spaces and ')'.
fn fields_from_state(stat: &[u8]) -> Option<core::str::SplitAsciiWhitespace<'_>> {
    let close = stat.iter().rposition(|&c| c == b')')?;
    Some(
        core::str::from_utf8(&stat[close + 1..])
            .ok()?
            .split_ascii_whitespace(),
    )
}

/// The CPU `pid` last ran or is queued on (field 39 of /proc/PID/stat).
pub fn cpu_of(pid: i32) -> Option<u32> {
    parse_cpu(&read(pid, "stat")?)
}

/// Parse field 39 of a /proc/PID/stat line (see `parse_start_time`).
pub fn parse_cpu(stat: &[u8]) -> Option<u32> {
    stat_field(stat, 39)?.parse().ok()
}

/// Fields `first..=last` (1-based, as proc_pid_stat(5) numbers them) of
/// this process's /proc/self/stat, parsed as numbers.
pub fn self_stat(first: usize, last: usize) -> Option<alloc::vec::Vec<u64>> {
    let stat = super::fs::read(c"/proc/self/stat").ok()?;
    let f: alloc::vec::Vec<u64> = fields_from_state(&stat)?
        .skip(first.checked_sub(3)?)
        .take(last + 1 - first)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    (f.len() == last + 1 - first).then_some(f)
}

/// fs.suid_dumpable is 0 or 2: a process whose ids change is then not
/// dumpable by its new ids (the kernel sets it to that value), so no
/// process of those ids may ptrace it or open its /proc files.
pub fn ids_change_keeps_undumpable() -> bool {
    super::fs::read(c"/proc/sys/fs/suid_dumpable")
        .is_ok_and(|v| matches!(v.first(), Some(b'0' | b'2')))
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
    let Some(data) = read(pid, "stat") else {
        return false;
    };
    let state = stat_field(&data, 3);
    state != Some("Z") && state != Some("X") && parse_start_time(&data) == Some(start)
}

/// The real, effective, saved and filesystem uids of `pid`, as the
/// `Uid:` line of /proc/PID/status has them (mapped into our user
/// namespace).
pub fn uids(pid: i32) -> Option<[u32; 4]> {
    parse_uids(&read(pid, "status")?)
}

/// The `Uid:` line of a /proc/PID/status.
pub fn parse_uids(status: &[u8]) -> Option<[u32; 4]> {
    let line = status
        .split(|&c| c == b'\n')
        .find(|l| l.starts_with(b"Uid:"))?;
    let mut ids = core::str::from_utf8(&line[4..])
        .ok()?
        .split_ascii_whitespace();
    let mut out = [0u32; 4];
    for o in &mut out {
        *o = ids.next()?.parse().ok()?;
    }
    Some(out)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_of_a_status_and_of_ourselves() {
        let status = b"Name:\tsleep\nUmask:\t0022\nUid:\t1000\t0\t1000\t0\nGid:\t5\t5\t5\t5\n";
        assert_eq!(parse_uids(status), Some([1000, 0, 1000, 0]));
        assert_eq!(parse_uids(b"Name:\tx\nUid:\t1\t2\n"), None);
        assert_eq!(parse_uids(b"Name:\tx\n"), None);
        let me = crate::sys::proc::geteuid();
        assert_eq!(uids(std::process::id() as i32).map(|u| u[1]), Some(me));
    }

    #[test]
    fn the_cpu_of_a_stat_line_and_of_ourselves() {
        // A comm with spaces and parentheses; field 39 is 7.
        let mut line = std::string::String::from("42 (a) b (c) S");
        for f in 4..=52 {
            line.push_str(&std::format!(" {}", if f == 39 { 7 } else { f }));
        }
        assert_eq!(parse_cpu(line.as_bytes()), Some(7));
        // The state (`alive`'s zombie test) after the last ')', not "b".
        assert_eq!(stat_field(line.as_bytes(), 3), Some("S"));
        assert_eq!(stat_field(b"42 (a) Z) Z 1", 3), Some("Z"));
        assert_eq!(parse_cpu(b"42 (x) S 1 2 3"), None);
        let now = crate::sys::proc::current_cpu().unwrap();
        let seen = cpu_of(std::process::id() as i32).unwrap();
        // (It may have moved between the two looks, but only to a CPU
        // it may use.)
        let mask = crate::sys::proc::affinity().unwrap();
        for c in [now, seen] {
            assert!(mask[(c / 64) as usize] & (1 << (c % 64)) != 0, "{c}");
        }
    }
}

/// In a user namespace below the host's (rootless podman runs its
/// runtime as root of one): /proc/self/uid_map maps less than every id
/// to itself, the initial namespace's "0 0 4294967295".
pub fn in_user_namespace() -> bool {
    super::fs::read(c"/proc/self/uid_map").is_ok_and(|m| {
        let words: alloc::vec::Vec<&[u8]> = m
            .split(|c| c.is_ascii_whitespace())
            .filter(|w| !w.is_empty())
            .collect();
        words != [&b"0"[..], b"0", b"4294967295"]
    })
}
