//! A process's memory and parent as /proc shows them, for the tests of a
//! monitor's footprint (tests/footprint.rs, tests/soak.rs).

/// `key`'s figure in KiB: `Pss:` from /proc/PID/smaps_rollup, any other
/// (`VmRSS:`...) from /proc/PID/status; 0 where it cannot be read.
pub fn vm_kib(pid: i32, key: &str) -> u64 {
    let file = if key == "Pss:" {
        "smaps_rollup"
    } else {
        "status"
    };
    std::fs::read_to_string(format!("/proc/{pid}/{file}"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

/// The parent pid of `pid` (/proc/PID/stat).
pub fn ppid(pid: i32) -> i32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    stat.rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap()
}
