//! What the runtime says about itself: `--version` in runc's three-line
//! form (go-runc parses it), `features` (runc's JSON), `spec` (a default
//! config.json), and the help.

use crate::error::{Context, Error, Result};
use crate::json::{self, Value};
use alloc::string::String;
use alloc::vec::Vec;

pub fn version() -> Result<i32> {
    crate::outln!(
        "runc version {} (pocket)\ncommit: {}\nspec: 1.0.2",
        crate::cli::VERSION,
        crate::cli::COMMIT
    );
    Ok(0)
}

fn strs(v: &[&str]) -> Value {
    Value::Arr(v.iter().map(|s| json::str(s)).collect())
}

/// The seccomp filter flags config.json may name.
fn flags() -> Value {
    let names = crate::seccomp::FLAGS.iter().map(|f| json::str(f.0));
    Value::Arr(names.collect())
}

/// runc's `features` document, for what pocket does.
pub fn features() -> Result<i32> {
    let caps: Vec<&str> = crate::spec::caps::NAMES.to_vec();
    let v = json::obj!(
        ("ociVersionMin", Some(json::str("1.0.0"))),
        ("ociVersionMax", Some(json::str("1.2.0"))),
        (
            "hooks",
            Some(strs(&[
                "prestart",
                "createRuntime",
                "createContainer",
                "startContainer",
                "poststart",
                "poststop"
            ]))
        ),
        (
            "mountOptions",
            Some(strs(&[
                "bind",
                "rbind",
                "ro",
                "rw",
                "nosuid",
                "suid",
                "nodev",
                "dev",
                "noexec",
                "exec",
                "noatime",
                "atime",
                "nodiratime",
                "relatime",
                "strictatime",
                "private",
                "rprivate",
                "shared",
                "rshared",
                "slave",
                "rslave",
                "unbindable",
                "runbindable",
                "rro",
                "tmpcopyup"
            ]))
        ),
        (
            "linux",
            Some(json::obj!(
                (
                    "namespaces",
                    Some(strs(&["cgroup", "ipc", "mount", "network", "pid", "uts"]))
                ),
                ("capabilities", Some(strs(&caps))),
                (
                    "cgroup",
                    Some(json::obj!(
                        ("v1", Some(Value::Bool(true))),
                        ("v2", Some(Value::Bool(true))),
                        ("systemd", Some(Value::Bool(false))),
                        ("systemdUser", Some(Value::Bool(false))),
                    ))
                ),
                (
                    "seccomp",
                    Some(json::obj!(
                        ("enabled", Some(Value::Bool(true))),
                        (
                            "actions",
                            Some(strs(&[
                                "SCMP_ACT_ALLOW",
                                "SCMP_ACT_ERRNO",
                                "SCMP_ACT_KILL",
                                "SCMP_ACT_KILL_PROCESS",
                                "SCMP_ACT_KILL_THREAD",
                                "SCMP_ACT_LOG",
                                "SCMP_ACT_TRACE",
                                "SCMP_ACT_TRAP"
                            ]))
                        ),
                        (
                            "operators",
                            Some(strs(&[
                                "SCMP_CMP_EQ",
                                "SCMP_CMP_GE",
                                "SCMP_CMP_GT",
                                "SCMP_CMP_LE",
                                "SCMP_CMP_LT",
                                "SCMP_CMP_MASKED_EQ",
                                "SCMP_CMP_NE"
                            ]))
                        ),
                        ("archs", Some(strs(&["SCMP_ARCH_X86_64"]))),
                        // Every kernel pocket runs on (5.9+) has all three.
                        ("knownFlags", Some(flags())),
                        ("supportedFlags", Some(flags())),
                    ))
                ),
                (
                    "apparmor",
                    Some(json::obj!(("enabled", Some(Value::Bool(false)))))
                ),
                (
                    "selinux",
                    Some(json::obj!(("enabled", Some(Value::Bool(false)))))
                ),
            ))
        ),
        (
            "annotations",
            Some(json::obj!(
                (
                    "io.github.pocket.version",
                    Some(json::str(crate::cli::VERSION))
                ),
                (
                    "io.github.pocket.commit",
                    Some(json::str(crate::cli::COMMIT))
                ),
            ))
        ),
    );
    crate::outln!("{}", json::pretty(&v));
    Ok(0)
}

/// `spec --rootless`, as runc's: a user namespace mapping root to the
/// caller's own ids, no network namespace (the caller's: a plain user can
/// make no interface), /sys bound rather than mounted (only the network
/// namespace's owner may mount sysfs), no uid=/gid= mount options (ids
/// the namespace does not map), no cgroup mount and no cgroup resources.
fn to_rootless(s: &mut crate::spec::Spec) {
    use crate::spec::{IdMap, Namespace};
    s.namespaces
        .retain(|n| *n != Namespace::Network && *n != Namespace::User);
    s.namespaces.push(Namespace::User);
    let own = |id| {
        alloc::vec![IdMap {
            container: 0,
            host: id,
            size: 1
        }]
    };
    s.uid_map = own(crate::sys::proc::geteuid());
    s.gid_map = own(crate::sys::proc::getegid());
    for m in s.mounts.iter_mut() {
        if m.destination == "/sys" {
            m.kind = String::from("none");
            m.source = String::from("/sys");
            m.options = ["rbind", "nosuid", "noexec", "nodev", "ro"]
                .map(String::from)
                .to_vec();
            continue;
        }
        m.options
            .retain(|o| !o.starts_with("uid=") && !o.starts_with("gid="));
    }
    // The /sys bound above holds the host's groups, read-only; a plain
    // user's pocket cannot make the tmpfs its own would be shown on.
    s.mounts.retain(|m| m.kind != "cgroup");
    s.resources = Default::default();
}

/// `spec [--bundle DIR]`: runc's default config.json (busybox `sh` on a
/// terminal, docker's masked and read-only paths, the usual mounts).
pub fn spec(argv: &[&[u8]]) -> Result<i32> {
    let mut dir = String::from(".");
    let mut rootless = false;
    let mut it = argv.iter();
    while let Some(a) = it.next() {
        match *a {
            b"--bundle" | b"-b" => {
                dir = crate::cli::args::text(it.next().ok_or_else(|| {
                    Error::bad("flag needs an argument", "--bundle", "see --help")
                })?);
            }
            b"--rootless" => rootless = true,
            x if x.starts_with(b"--bundle=") => dir = crate::cli::args::text(&x[9..]),
            x => {
                return Err(Error::bad(
                    "flag provided but not defined",
                    crate::cli::args::text(x),
                    "see --help",
                ));
            }
        }
    }
    let mut s = crate::spec::Spec {
        process: crate::spec::Process {
            args: alloc::vec![b"sh".to_vec()],
            env: alloc::vec![
                b"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_vec(),
                b"TERM=xterm".to_vec()
            ],
            cwd: b"/".to_vec(),
            terminal: true,
            capabilities: crate::spec::DEFAULT_CAPS,
            ..Default::default()
        },
        hostname: b"runc".to_vec(),
        mounts: crate::spec::default_mounts(),
        masked_paths: crate::spec::MASKED_PATHS
            .iter()
            .map(|p| String::from(*p))
            .collect(),
        readonly_paths: crate::spec::READONLY_PATHS
            .iter()
            .map(|p| String::from(*p))
            .collect(),
        namespaces: alloc::vec![
            crate::spec::Namespace::Pid,
            crate::spec::Namespace::Network,
            crate::spec::Namespace::Ipc,
            crate::spec::Namespace::Uts,
            crate::spec::Namespace::Mount,
        ],
        ..Default::default()
    };
    s.root.path = b"rootfs".to_vec();
    s.root.readonly = true;
    s.resources.devices = crate::cgroup::devices::defaults();
    if rootless {
        to_rootless(&mut s);
    }
    let path = alloc::format!("{dir}/config.json");
    let c = crate::error::cpath(&path)?;
    if crate::sys::fd::access(&c, libc::F_OK).is_ok() {
        return Err(Error::text(String::from(
            "File config.json exists. Remove it first",
        )));
    }
    crate::sys::fs::write_new(
        &crate::error::cpath(&dir)?,
        "config.json",
        &crate::spec::oci::to_json(&s),
        // runc's: 0666 less the umask.
        0o666,
        false,
    )
    .ctx("write", &path)?;
    Ok(0)
}
