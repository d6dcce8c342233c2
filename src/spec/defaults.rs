//! Defaults every container gets, as docker and runc's `spec` give them.

use super::Mount;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

pub const DEFAULT_PATH: &[u8] = b"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Set `kv` (KEY=VALUE) in an environment, replacing the entry with the
/// same key where it stands, else at the end (a process's, an image
/// config's).
pub fn setenv<T: AsRef<[u8]>>(env: &mut Vec<T>, kv: T) {
    let key = env_key(kv.as_ref());
    let same = |e: &T| {
        e.as_ref()
            .strip_prefix(key)
            .is_some_and(|r| r.first() == Some(&b'='))
    };
    match env.iter().position(same) {
        Some(i) => env[i] = kv,
        None => env.push(kv),
    }
}

/// The name part of an environment entry (all of a bare `KEY`).
fn env_key(e: &[u8]) -> &[u8] {
    &e[..e.iter().position(|&c| c == b'=').unwrap_or(e.len())]
}

/// docker's process environment: `PATH` (pocket's default), `HOSTNAME`
/// and, with a terminal, `TERM=xterm` (moby's CreateDaemonEnvironment),
/// then the container's `Config.Env` over them (`override_env`). `HOME`
/// is left to the caller: runc adds it last, from the user's passwd.
pub fn docker_env<T: AsRef<[u8]>>(hostname: &[u8], tty: bool, config: &[T]) -> Vec<Vec<u8>> {
    let mut env = alloc::vec![
        [b"PATH=", DEFAULT_PATH].concat(),
        [b"HOSTNAME=", hostname].concat()
    ];
    if tty {
        env.push(b"TERM=xterm".to_vec());
    }
    override_env(&mut env, config);
    env
}

/// Entries over an environment as docker and runc apply them (moby's
/// ReplaceOrAppendEnvValues, then runc's prepareEnv): `KEY=V` replaces
/// KEY where it stands (its last place, if the environment had it twice),
/// or goes at the end; a bare `KEY` (docker's `-e KEY` where the client
/// has no KEY) unsets a KEY the environment had before these entries;
/// one entry per name in the end, the last, where it stands (runc 1.2's
/// order; 1.1 kept the first one's place).
pub fn override_env<T: AsRef<[u8]>>(env: &mut Vec<Vec<u8>>, over: &[T]) {
    let keys: Vec<Vec<u8>> = env.iter().map(|e| env_key(e).to_vec()).collect();
    for o in over.iter().map(|o| o.as_ref()) {
        let set = o.contains(&b'=');
        match keys.iter().rposition(|k| k[..] == *env_key(o)) {
            // Emptied, not removed: the keys' places stay (moby's cache).
            Some(i) => env[i] = if set { o.to_vec() } else { Vec::new() },
            None if set => env.push(o.to_vec()),
            None => {}
        }
    }
    let mut seen: Vec<Vec<u8>> = Vec::new();
    let mut kept = Vec::with_capacity(env.len());
    for e in core::mem::take(env)
        .into_iter()
        .rev()
        .filter(|e| !e.is_empty())
    {
        if !seen.iter().any(|k| k[..] == *env_key(&e)) {
            seen.push(env_key(&e).to_vec());
            kept.push(e);
        }
    }
    kept.reverse();
    *env = kept;
}

/// The value of `name` in an environment (the last entry for it).
/// runc's HOME: unless `env` has one (not empty; containerd's configs
/// never do), the home of user `uid` in the rootfs's /etc/passwd, "/"
/// when not listed there. For an OCI init (Spec::default_home) and for
/// each OCI exec.
pub fn default_home(env: &mut Vec<Vec<u8>>, uid: u32, rootfs: &[u8]) {
    if getenv(env, b"HOME").is_some_and(|h| !h.is_empty()) {
        return;
    }
    let root = String::from_utf8_lossy(rootfs).into_owned();
    let home = crate::image::user::home(&alloc::format!("{uid}"), &[root]);
    setenv(env, [b"HOME=", home.as_bytes()].concat());
}

pub fn getenv<'e, T: AsRef<[u8]>>(env: &'e [T], name: &[u8]) -> Option<&'e [u8]> {
    env.iter()
        .rev()
        .find_map(|e| e.as_ref().strip_prefix(name)?.strip_prefix(b"="))
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_environment_set_in_place_and_read() {
        let mut env: Vec<String> = ["PATH=/bin", "AB=1", "A=2"].map(String::from).to_vec();
        setenv(&mut env, String::from("A=3"));
        setenv(&mut env, String::from("B=4"));
        assert_eq!(env, ["PATH=/bin", "AB=1", "A=3", "B=4"]);
        assert_eq!(getenv(&env, b"A"), Some(&b"3"[..]));
        assert_eq!(getenv(&env, b"PAT"), None);
        let mut raw: Vec<Vec<u8>> = alloc::vec![b"K=v".to_vec()];
        setenv(&mut raw, b"K=".to_vec());
        assert_eq!(raw, [b"K=".to_vec()]);
        assert_eq!(getenv(&raw, b"K"), Some(&b""[..]));
    }

    #[test]
    fn override_env_as_moby_then_runc() {
        let t = |v: &[Vec<u8>]| -> Vec<String> {
            v.iter()
                .map(|e| String::from_utf8_lossy(e).into())
                .collect()
        };
        let env = docker_env(
            b"h",
            true,
            &["A=1", "PATH=/p", "TERM", "GONE", "A=2", "B=1"],
        );
        // PATH replaced where it stands, TERM (a default) unset by its bare
        // name, a bare name nothing had set ignored, A once: its last.
        assert_eq!(t(&env), ["PATH=/p", "HOSTNAME=h", "A=2", "B=1"]);
        let env = docker_env(b"h", false, &["A=1", "B=2", "A=3"]);
        assert_eq!(t(&env)[2..], ["B=2", "A=3"]);
        // A name the environment had twice: replaced at its last place.
        let mut env = alloc::vec![b"A=1".to_vec(), b"B=1".to_vec(), b"A=2".to_vec()];
        override_env(&mut env, &["A=3"]);
        assert_eq!(t(&env), ["B=1", "A=3"]);
        // A bare name unsets only what was there before (moby): the A this
        // call added stays; the base's B goes, and comes back with a value.
        let mut env = alloc::vec![b"B=0".to_vec(), b"C=0".to_vec()];
        override_env(&mut env, &[&b"A=1"[..], b"A", b"B", b"C", b"C=3"]);
        assert_eq!(t(&env), ["C=3", "A=1"]);
    }
}
