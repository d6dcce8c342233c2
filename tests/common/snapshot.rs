//! What containers may leave behind on the host, as the host shows it:
//! taken before and after a test that must leave nothing.

use super::netns::Ns;
use super::*;
use std::path::Path;

/// What a container may leave behind on the host, as the host shows it.
#[derive(Debug, PartialEq)]
pub struct Snapshot {
    pub mounts: Vec<String>,
    pub cgroups: Vec<String>,
    pub links: Vec<String>,
    pub rules: Option<String>,
    pub fds: usize,
    pub zombies: Vec<i32>,
    pub containers: Vec<String>,
}

pub fn cgroups() -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![std::path::PathBuf::from("/sys/fs/cgroup")];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if !e.file_type().is_ok_and(|t| t.is_dir()) || p.components().count() > 8 {
                continue;
            }
            let s = p.to_string_lossy().to_string();
            if s.contains("/pocket/") {
                out.push(s);
            }
            stack.push(p);
        }
    }
    out.sort();
    out
}

pub fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().to_string())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

pub fn snapshot(ns: &Ns, r: &Root) -> Snapshot {
    let me = std::process::id() as i32;
    let mut rules = ns.table();
    // The table's counters and handles aside, its rules must be the same.
    if let Some(t) = rules.as_mut() {
        *t = t
            .lines()
            .filter(|l| !l.contains("counter"))
            .collect::<Vec<_>>()
            .join("\n");
    }
    Snapshot {
        mounts: host_mounts(),
        cgroups: cgroups(),
        links: ns.links(),
        rules,
        fds: entries(Path::new("/proc/self/fd")).len(),
        zombies: children(me)
            .into_iter()
            .filter(|p| state(*p) == Some('Z'))
            .collect(),
        // Durable containers and names, and volatile ones (--rm, OCI),
        // which live in the run directory.
        containers: ["containers", "names", "run/containers", "run/names"]
            .iter()
            .flat_map(|d| {
                entries(&r.0.join(d))
                    .into_iter()
                    .map(move |e| format!("{d}/{e}"))
            })
            .collect(),
    }
}

/// A snapshot once the kernel's asynchronous teardown is done: the host
/// side of a veth goes only when its container's network namespace is
/// freed, after the container is gone. Waits (5 s at most) for no veth
/// of pocket's (`pk...`) to be left.
pub fn quiet(ns: &Ns, r: &Root) -> Snapshot {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let s = snapshot(ns, r);
        if !s.links.iter().any(|l| l.starts_with("pk")) || std::time::Instant::now() > end {
            return s;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// The host as it was (`before`), allowing the same teardown time.
pub fn assert_as_before(ns: &Ns, r: &Root, before: &Snapshot, what: &str) {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let s = snapshot(ns, r);
        if &s == before {
            return;
        }
        if std::time::Instant::now() > end {
            assert_eq!(&s, before, "{what}: the host changed");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
