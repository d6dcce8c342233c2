//! Defaults every container gets, as docker and runc's `spec` give them.

use super::Mount;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

pub const DEFAULT_PATH: &[u8] = b"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

fn m(dst: &str, kind: &str, opts: &[&str]) -> Mount {
    Mount {
        destination: dst.to_string(),
        kind: kind.to_string(),
        source: kind.to_string(),
        options: opts.iter().map(|s| s.to_string()).collect::<Vec<String>>(),
    }
}

/// The standard mounts: /proc, a tmpfs /dev with devpts, shm and mqueue,
/// and a read-only /sys. Order matters: /dev before its submounts.
pub fn default_mounts() -> Vec<Mount> {
    alloc::vec![
        m("/proc", "proc", &["nosuid", "noexec", "nodev"]),
        m("/dev", "tmpfs", &["nosuid", "strictatime", "mode=755", "size=65536k"]),
        m("/dev/pts", "devpts", &["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
        m("/dev/shm", "tmpfs", &["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
        m("/dev/mqueue", "mqueue", &["nosuid", "noexec", "nodev"]),
        m("/sys", "sysfs", &["nosuid", "noexec", "nodev", "ro"]),
    ]
}
