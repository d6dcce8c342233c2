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
/// a read-only /sys and the container's own cgroups on /sys/fs/cgroup
/// (what a runtime such as the JVM reads its memory and CPU limits
/// from). Order matters: /dev and /sys before their submounts.
pub fn default_mounts() -> Vec<Mount> {
    alloc::vec![
        m("/proc", "proc", &["nosuid", "noexec", "nodev"]),
        m(
            "/dev",
            "tmpfs",
            &["nosuid", "strictatime", "mode=755", "size=65536k"]
        ),
        m(
            "/dev/pts",
            "devpts",
            &[
                "nosuid",
                "noexec",
                "newinstance",
                "ptmxmode=0666",
                "mode=0620",
                "gid=5"
            ]
        ),
        m(
            "/dev/shm",
            "tmpfs",
            &["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]
        ),
        m("/dev/mqueue", "mqueue", &["nosuid", "noexec", "nodev"]),
        m("/sys", "sysfs", &["nosuid", "noexec", "nodev", "ro"]),
        m(
            "/sys/fs/cgroup",
            "cgroup",
            &["nosuid", "noexec", "nodev", "relatime", "ro"]
        ),
    ]
}

/// docker's default capability set (moby's caps.DefaultCapabilities).
/// CAP_MKNOD included: a node the container makes (say, of the host's
/// disk) can be made but not opened, the devices cgroup refuses that.
pub const DEFAULT_CAPS: u64 = {
    let caps = [
        0,  // CAP_CHOWN
        1,  // CAP_DAC_OVERRIDE
        3,  // CAP_FOWNER
        4,  // CAP_FSETID
        5,  // CAP_KILL
        6,  // CAP_SETGID
        7,  // CAP_SETUID
        8,  // CAP_SETPCAP
        10, // CAP_NET_BIND_SERVICE
        13, // CAP_NET_RAW
        18, // CAP_SYS_CHROOT
        27, // CAP_MKNOD
        29, // CAP_AUDIT_WRITE
        31, // CAP_SETFCAP
    ];
    let mut m = 0u64;
    let mut i = 0;
    while i < caps.len() {
        m |= 1 << caps[i];
        i += 1;
    }
    m
};

/// Paths hidden from the container (OCI linux.maskedPaths, docker's list):
/// kernel memory, keys and timers of the host.
pub const MASKED_PATHS: &[&str] = &[
    "/proc/asound",
    "/proc/acpi",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Paths made read-only (OCI linux.readonlyPaths): root in the container
/// must not reboot the host through sysrq or change host-wide sysctls.
pub const READONLY_PATHS: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];
