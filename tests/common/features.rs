//! What this host's kernel offers, read from its own files, for tests
//! whose checks need a feature some machines lack (BFQ, swap accounting,
//! RT groups, KVM, IPv6). A test checks for real where the feature is,
//! and where it is not says so with `skip`: a visible `SKIP what: why`
//! line, also collected for scripts/test.sh's summary. Never a silent pass.

use std::io::Write;
use std::path::PathBuf;

/// Report a skipped check: on stderr (seen with --nocapture or when the
/// test fails) and appended to the skip log that scripts/test.sh prints
/// and counts (`$POCKET_SKIP_LOG`, else target/test-skips.log).
pub fn skip(what: &str, why: &str) {
    let line = format!("SKIP {what}: {why}");
    eprintln!("{line}");
    let log = std::env::var_os("POCKET_SKIP_LOG")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-skips.log"));
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
    {
        // One write of the whole line: O_APPEND keeps concurrent tests'
        // lines whole (writeln! may split it into two writes).
        let _ = f.write_all(format!("{line}\n").as_bytes());
    }
}

/// The mount of the v1 hierarchy carrying `controller`, or of cgroup2.
fn hierarchy(controller: &str) -> Option<(PathBuf, bool)> {
    let mi = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let mut v2 = None;
    for l in mi.lines() {
        let (pre, post) = l.split_once(" - ")?;
        let mp = pre.split(' ').nth(4)?;
        let mut post = post.split(' ');
        let fstype = post.next()?;
        let opts = post.nth(1).unwrap_or("");
        if fstype == "cgroup" && opts.split(',').any(|o| o == controller) {
            return Some((PathBuf::from(mp), false));
        }
        if fstype == "cgroup2" && v2.is_none() {
            v2 = Some(PathBuf::from(mp));
        }
    }
    let v2 = v2?;
    let v2name = match controller {
        "blkio" => "io",
        "cpuacct" => "cpu",
        c => c,
    };
    let ctl = std::fs::read_to_string(v2.join("cgroup.controllers")).ok()?;
    ctl.split_whitespace()
        .any(|c| c == v2name)
        .then_some((v2, true))
}

/// The first of `files` present in a group below the root (`pocket/`,
/// made if missing, as pocket makes it): many control files are not on
/// the root group.
fn control_file(controller: &str, files: &[&'static str]) -> Option<&'static str> {
    let (mount, _) = hierarchy(controller)?;
    let dir = mount.join("pocket");
    let _ = std::fs::create_dir(&dir);
    files.iter().copied().find(|f| dir.join(f).exists())
}

/// The active I/O schedulers of the host's disks ("mq-deadline, none").
pub fn schedulers() -> String {
    let mut seen: Vec<String> = vec![];
    if let Ok(d) = std::fs::read_dir("/sys/block") {
        for e in d.flatten() {
            let s = std::fs::read_to_string(e.path().join("queue/scheduler")).unwrap_or_default();
            if let Some(active) = s
                .split_whitespace()
                .find(|w| w.starts_with('['))
                .map(|w| w.trim_matches(['[', ']']).to_string())
                && !seen.contains(&active)
            {
                seen.push(active);
            }
        }
    }
    if seen.is_empty() {
        "no block devices".into()
    } else {
        seen.join(", ")
    }
}

/// The file a block IO weight goes to, or why there is none.
pub fn blkio_weight() -> Result<&'static str, String> {
    if hierarchy("blkio").is_none() {
        return Err("no blkio/io cgroup controller".into());
    }
    control_file(
        "blkio",
        &[
            "blkio.weight",
            "blkio.bfq.weight",
            "io.bfq.weight",
            "io.weight",
        ],
    )
    .ok_or_else(|| format!("host has no BFQ (scheduler: {})", schedulers()))
}

/// Swap accounting (memory.memsw.* on v1, memory.swap.max on v2).
pub fn swap_accounting() -> Result<(), String> {
    control_file(
        "memory",
        &["memory.memsw.limit_in_bytes", "memory.swap.max"],
    )
    .map(|_| ())
    .ok_or_else(|| "kernel has no swap accounting (no memory.memsw.* / memory.swap.max)".into())
}

/// v1's memory.oom_control (cgroup v2 has no way to disable the OOM killer).
pub fn oom_control() -> Result<(), String> {
    control_file("memory", &["memory.oom_control"])
        .map(|_| ())
        .ok_or_else(|| "no memory.oom_control (cgroup v2 cannot disable the OOM killer)".into())
}

/// Real-time group scheduling (cpu.rt_runtime_us: v1 with RT_GROUP_SCHED).
pub fn rt_groups() -> Result<(), String> {
    control_file("cpu", &["cpu.rt_runtime_us"])
        .map(|_| ())
        .ok_or_else(|| "no cpu.rt_runtime_us (cgroup v2, or no CONFIG_RT_GROUP_SCHED)".into())
}

/// Idmapped image layers go to overlayfs by fd: 6.13 and later.
pub fn overlay_fd_layers() -> Result<(), String> {
    let r = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut v = r
        .trim()
        .split(['.', '-'])
        .map(|n| n.parse::<u32>().unwrap_or(0));
    let (a, b) = (v.next().unwrap_or(0), v.next().unwrap_or(0));
    if (a, b) >= (6, 13) {
        Ok(())
    } else {
        Err(format!(
            "kernel {} < 6.13: overlayfs takes no layers by fd",
            r.trim()
        ))
    }
}

/// IPv6 in the kernel.
pub fn ipv6() -> Result<(), String> {
    if std::path::Path::new("/proc/sys/net/ipv6").exists() {
        Ok(())
    } else {
        Err("kernel has no IPv6 (/proc/sys/net/ipv6 missing)".into())
    }
}
