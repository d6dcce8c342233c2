use super::*;
use crate::spec::caps::Sets;
use crate::spec::{Hooks, Rlimit};

/// What podman 4.3 wrote for `podman run --read-only --ulimit ...`
/// (trimmed: fewer masked paths and devices), plus a few fields of 1.1
/// and 1.2 pocket ignores.
const PODMAN: &str = r#"{
  "ociVersion": "1.0.2-dev",
  "process": {
    "user": {"uid": 0, "gid": 0, "umask": 18, "additionalGids": [0, 10]},
    "args": ["/bin/sh", "-c", "echo hi"],
    "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", "container=podman"],
    "cwd": "/",
    "capabilities": {
      "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "effective": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "permitted": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    },
    "rlimits": [
      {"type": "RLIMIT_NOFILE", "hard": 1048576, "soft": 1048576},
      {"type": "RLIMIT_NPROC", "hard": 4194304, "soft": 4194304}
    ],
    "oomScoreAdj": 0,
    "apparmorProfile": "containers-default-0.50.1",
    "selinuxLabel": "",
    "scheduler": {"policy": "SCHED_OTHER"},
    "ioPriority": {"class": "IOPRIO_CLASS_IDLE"}
  },
  "root": {"path": "/var/lib/containers/storage/overlay/abc/merged", "readonly": true},
  "hostname": "4f2a",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
    {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nodev", "noexec", "nosuid"]},
    {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["rprivate", "nosuid", "noexec", "nodev", "relatime", "ro"]},
    {"destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": ["rw", "rprivate", "nosuid", "nodev", "tmpcopyup"]},
    {"destination": "/etc/hosts", "type": "bind", "source": "/run/containers/x/hosts", "options": ["bind", "rprivate"]}
  ],
  "annotations": {"io.podman.annotations.autoremove": "FALSE", "org.opencontainers.image.stopSignal": "15"},
  "linux": {
    "sysctl": {"net.ipv4.ping_group_range": "0 0"},
    "resources": {
      "devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"}],
      "memory": {"limit": 134217728, "swap": 268435456},
      "pids": {"limit": 2048},
      "hugepageLimits": [{"pageSize": "2MB", "limit": 0}],
      "unified": {"memory.high": "1"}
    },
    "cgroupsPath": "/libpod_parent/libpod-4f2a",
    "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
    "seccomp": {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38, "architectures": ["SCMP_ARCH_X86_64"],
      "syscalls": [{"names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW"}]},
    "maskedPaths": ["/proc/acpi", "/proc/kcore"],
    "readonlyPaths": ["/proc/sys"],
    "rootfsPropagation": "rslave",
    "mountLabel": "",
    "intelRdt": {"closID": "x"}
  }
}"#;

fn doc() -> Value {
    json::parse(PODMAN.as_bytes()).unwrap()
}

/// `v` with the member at dotted `path` set to `val` (JSON text), or
/// removed when `val` is None; objects on the way are made.
fn set(v: &mut Value, path: &str, val: Option<&str>) {
    let (head, last) = match path.rsplit_once('.') {
        Some((h, l)) => (Some(h), l),
        None => (None, path),
    };
    let mut cur = v;
    for k in head.into_iter().flat_map(|h| h.split('.')) {
        let Value::Obj(m) = cur else { panic!("{k}") };
        if !m.iter().any(|(x, _)| x == k) {
            m.push((k.to_string(), Value::Obj(vec![])));
        }
        cur = &mut m.iter_mut().rev().find(|(x, _)| x == k).unwrap().1;
    }
    let Value::Obj(m) = cur else { panic!("{path}") };
    m.retain(|(x, _)| x != last);
    if let Some(t) = val {
        m.push((last.to_string(), json::parse(t.as_bytes()).unwrap()));
    }
}

fn with(path: &str, val: Option<&str>) -> Result<Spec> {
    let mut v = doc();
    set(&mut v, path, val);
    from_value(&v)
}

fn err(path: &str, val: Option<&str>) -> String {
    with(path, val).unwrap_err().to_string()
}

#[test]
fn reads_what_podman_writes() {
    let s = from_value(&doc()).unwrap();
    let p = &s.process;
    assert_eq!(p.args[0], b"/bin/sh");
    assert_eq!(p.user.additional_gids, vec![0, 10]);
    assert_eq!(p.umask, Some(0o022));
    assert_eq!(
        p.capabilities,
        caps::mask(&["CHOWN", "KILL", "NET_BIND_SERVICE"]).unwrap()
    );
    // bounding = effective = permitted, none other: docker's shape.
    assert_eq!(p.cap_sets, None);
    assert_eq!(
        p.rlimits,
        vec![
            Rlimit {
                resource: libc::RLIMIT_NOFILE as u32,
                soft: 1048576,
                hard: 1048576
            },
            Rlimit {
                resource: libc::RLIMIT_NPROC as u32,
                soft: 4194304,
                hard: 4194304
            },
        ]
    );
    assert_eq!(p.oom_score_adj, Some(0));
    assert!(s.root.readonly && s.root.path.starts_with(b"/var/lib/containers"));
    assert_eq!(s.hostname, b"4f2a");
    assert_eq!(s.mounts.len(), 8);
    assert_eq!(
        s.mounts[6].options.last().map(String::as_str),
        Some("tmpcopyup")
    );
    assert_eq!(
        s.sysctl,
        vec![("net.ipv4.ping_group_range".into(), "0 0".into())]
    );
    let r = &s.resources;
    assert_eq!(r.memory.as_ref().unwrap().limit, Some(134217728));
    assert_eq!(r.memory.as_ref().unwrap().swap, Some(268435456));
    assert_eq!(r.pids.as_ref().unwrap().limit, 2048);
    assert_eq!(r.devices.len(), 2);
    assert_eq!(
        s.cgroups_path.as_deref(),
        Some("/libpod_parent/libpod-4f2a")
    );
    assert_eq!(s.namespaces.len(), 5);
    assert!(s.ns_paths.is_empty());
    match &s.seccomp {
        Seccomp::Profile(pr) => assert_eq!(pr.default, crate::seccomp::Action::Errno(38)),
        o => panic!("{o:?}"),
    }
    assert_eq!(s.masked_paths, vec!["/proc/acpi", "/proc/kcore"]);
    assert_eq!(s.rootfs_propagation.as_deref(), Some("rslave"));
    assert_eq!(s.annotations.len(), 2);
    assert!(s.hooks.is_empty());
}

#[test]
fn a_read_config_round_trips() {
    let mut v = doc();
    set(
        &mut v,
        "hooks",
        Some(
            r#"{"prestart":[{"path":"/bin/true","args":["true","a"],"env":["A=1"],"timeout":5}],
                "createRuntime":[{"path":"/a"}],"createContainer":[{"path":"/b"}],
                "startContainer":[{"path":"/c"}],"poststart":[{"path":"/d"}],"poststop":[{"path":"/e"}]}"#,
        ),
    );
    set(
        &mut v,
        "process.capabilities.ambient",
        Some(r#"["CAP_KILL"]"#),
    );
    set(
        &mut v,
        "process.consoleSize",
        Some(r#"{"height":30,"width":100}"#),
    );
    set(&mut v, "process.terminal", Some("true"));
    set(
        &mut v,
        "linux.namespaces",
        Some(
            r#"[{"type":"pid"},{"type":"mount"},{"type":"uts"},{"type":"ipc","path":"/proc/1/ns/ipc"},{"type":"network","path":"/run/netns/n"}]"#,
        ),
    );
    let s = from_value(&v).unwrap();
    assert_eq!(s.hooks.prestart[0].timeout, Some(5));
    assert_eq!(s.hooks.poststop[0].path, "/e");
    assert_eq!(s.process.console_size, Some((30, 100)));
    assert_eq!(
        s.ns_paths,
        vec![
            (Namespace::Ipc, "/proc/1/ns/ipc".into()),
            (Namespace::Network, "/run/netns/n".into())
        ]
    );
    let sets = s.process.cap_sets.unwrap();
    assert_eq!(sets.ambient, 1 << 5);
    assert_eq!(sets.effective, s.process.capabilities);
    // As pocket keeps it (a record) and reads it back: all of it.
    let back = from_json(&to_json(&s)).unwrap();
    assert_eq!(back, s);
}

#[test]
fn versions_1_0_to_1_2_only() {
    for v in [
        "1.0.0",
        "1.0.2-dev",
        "1.1.0",
        "1.1.0-rc.1",
        "1.2.0",
        "1.2.1+build",
    ] {
        assert!(with("ociVersion", Some(&format!("{v:?}"))).is_ok(), "{v}");
    }
    for v in ["0.9.0", "1.3.0", "2.0.0", "1.0", "1", "", "1.x.0", "v1.0.0"] {
        let e = err("ociVersion", Some(&format!("{v:?}")));
        assert_eq!(
            e,
            format!(
                "config.json: ociVersion: {v:?} is not supported (pocket reads 1.0.x to 1.2.x)"
            )
        );
    }
    assert_eq!(err("ociVersion", None), "config.json: ociVersion: missing");
    assert_eq!(
        err("ociVersion", Some("1")),
        "config.json: ociVersion: must be a string"
    );
}

#[test]
fn every_bad_field_is_named() {
    let cases: &[(&str, &str, &str)] = &[
        ("process", "3", "config.json: process: must be an object"),
        (
            "process.args",
            "[]",
            "config.json: process.args: must not be empty",
        ),
        (
            "process.args",
            "[1]",
            "config.json: process.args: must be an array of strings",
        ),
        (
            "process.args",
            r#"["a\u0000b"]"#,
            "config.json: process.args: contains a NUL byte",
        ),
        (
            "process.env",
            r#""A=1""#,
            "config.json: process.env: must be an array of strings",
        ),
        (
            "process.cwd",
            r#""rel""#,
            "config.json: process.cwd: must be an absolute path",
        ),
        (
            "process.terminal",
            r#""yes""#,
            "config.json: process.terminal: must be true or false",
        ),
        (
            "process.user.uid",
            "-1",
            "config.json: process.user.uid: must be a 32-bit number",
        ),
        (
            "process.user.gid",
            "4294967296",
            "config.json: process.user.gid: must be a 32-bit number",
        ),
        (
            "process.user.gid",
            "1.5",
            "config.json: process.user.gid: must be an integer",
        ),
        (
            "process.user.additionalGids",
            r#"["5"]"#,
            "config.json: process.user.additionalGids[0]: must be a number",
        ),
        (
            "process.user.umask",
            "512",
            "config.json: process.user.umask: must be from 0 to 0777 (511)",
        ),
        (
            "process.capabilities.effective",
            r#"["CAP_NOPE"]"#,
            "config.json: process.capabilities.effective: unknown capability \"CAP_NOPE\"",
        ),
        (
            "process.capabilities.ambient",
            "{}",
            "config.json: process.capabilities.ambient: must be an array of strings",
        ),
        (
            "process.rlimits",
            r#"[{"type":"RLIMIT_NOPE","soft":1,"hard":1}]"#,
            "config.json: process.rlimits[0].type: unknown rlimit \"RLIMIT_NOPE\"",
        ),
        (
            "process.rlimits",
            r#"[{"type":"RLIMIT_CORE","soft":2,"hard":1}]"#,
            "config.json: process.rlimits[0]: RLIMIT_CORE: soft limit 2 is above hard limit 1",
        ),
        (
            "process.rlimits",
            r#"[{"type":"RLIMIT_CORE","soft":1}]"#,
            "config.json: process.rlimits[0].hard: missing",
        ),
        (
            "process.rlimits",
            r#"[{"type":"RLIMIT_CORE","soft":1,"hard":1},{"type":"RLIMIT_CORE","soft":1,"hard":1}]"#,
            "config.json: process.rlimits[1].type: RLIMIT_CORE given twice",
        ),
        (
            "process.rlimits",
            r#"[{"type":"RLIMIT_CORE","soft":-1,"hard":1}]"#,
            "config.json: process.rlimits[0].soft: must be a 64-bit unsigned number",
        ),
        (
            "process.oomScoreAdj",
            "1001",
            "config.json: process.oomScoreAdj: must be from -1000 to 1000",
        ),
        (
            "process.consoleSize",
            r#"{"height":1}"#,
            "config.json: process.consoleSize.width: missing",
        ),
        (
            "process.consoleSize",
            r#"{"height":70000,"width":1}"#,
            "config.json: process.consoleSize.height: must be from 0 to 65535",
        ),
        (
            "process.apparmorProfile",
            "1",
            "config.json: process.apparmorProfile: must be a string",
        ),
        (
            "process.noNewPrivileges",
            "1",
            "config.json: process.noNewPrivileges: must be true or false",
        ),
        ("root", "null", "config.json: root: missing"),
        ("root.path", r#""""#, "config.json: root.path: missing"),
        (
            "root.readonly",
            r#""true""#,
            "config.json: root.readonly: must be true or false",
        ),
        ("hostname", "7", "config.json: hostname: must be a string"),
        ("mounts", "{}", "config.json: mounts: must be an array"),
        (
            "mounts",
            r#"[{"destination":"proc","type":"proc"}]"#,
            "config.json: mounts[0].destination: must be an absolute path",
        ),
        (
            "mounts",
            r#"[{"destination":"/p","type":"proc","options":"ro"}]"#,
            "config.json: mounts[0].options: must be an array of strings",
        ),
        (
            "mounts",
            r#"[{"destination":"/p","type":"bind","uidMappings":[{"containerID":0,"hostID":1,"size":1}]}]"#,
            "config.json: mounts[0].uidMappings: idmapped mounts are not supported yet",
        ),
        ("linux", "[]", "config.json: linux: must be an object"),
        (
            "linux.namespaces",
            r#"[{"type":"mount"},{"type":"user"}]"#,
            "config.json: linux.uidMappings: must map id 0 with a user namespace",
        ),
        (
            "linux.namespaces",
            r#"[{"type":"mount"},{"type":"user","path":"/proc/1/ns/user"}]"#,
            "config.json: linux.namespaces[1].path: joining a user namespace is not supported yet",
        ),
        (
            "linux.namespaces",
            r#"[{"type":"mount"},{"type":"time"}]"#,
            "config.json: linux.namespaces[1].type: unsupported namespace \"time\"",
        ),
        (
            "linux.namespaces",
            r#"[{"type":"mount"},{"type":"ipc"},{"type":"ipc","path":"/x"}]"#,
            "config.json: linux.namespaces[2]: ipc given twice",
        ),
        (
            "linux.namespaces",
            r#"[{"type":"mount"},{"type":"network","path":"x"}]"#,
            "config.json: linux.namespaces[1].path: must be an absolute path",
        ),
        (
            "linux.namespaces",
            r#"[{"type":"pid"}]"#,
            "config.json: linux.namespaces: a mount namespace is required (pocket never mounts in the host's)",
        ),
        (
            "linux.uidMappings",
            r#"[{"containerID":0,"hostID":1000,"size":1}]"#,
            "config.json: linux.uidMappings: needs a user namespace (linux.namespaces)",
        ),
        (
            "linux.uidMappings",
            r#"[{"containerID":0,"hostID":1000,"size":0}]"#,
            "config.json: linux.uidMappings[0].size: must be 1 or more, the range within 32 bits",
        ),
        (
            "linux.uidMappings",
            r#"[{"containerID":0,"hostID":4294967295,"size":2}]"#,
            "config.json: linux.uidMappings[0].size: must be 1 or more, the range within 32 bits",
        ),
        (
            "linux.uidMappings",
            r#"[{"hostID":1,"size":2}]"#,
            "config.json: linux.uidMappings[0].containerID: missing",
        ),
        (
            "linux.resources.memory.limit",
            r#""1g""#,
            "config.json: linux.resources.memory.limit: must be a number",
        ),
        (
            "linux.resources.memory.swap",
            "true",
            "config.json: linux.resources.memory.swap: must be a number",
        ),
        (
            "linux.resources.pids.limit",
            r#""x""#,
            "config.json: linux.resources.pids.limit: must be a number",
        ),
        (
            "linux.resources.cpu.shares",
            "-2",
            "config.json: linux.resources.cpu.shares: must be a 64-bit unsigned number",
        ),
        (
            "linux.resources.cpu.quota",
            r#""x""#,
            "config.json: linux.resources.cpu.quota: must be a number",
        ),
        (
            "linux.resources.cpu.cpus",
            "1",
            "config.json: linux.resources.cpu.cpus: must be a string",
        ),
        (
            "linux.resources.blockIO.weight",
            "2000",
            "config.json: linux.resources.blockIO.weight: must be from 10 to 1000 (0: none)",
        ),
        (
            "linux.resources.devices",
            r#"[{"access":"rwm"}]"#,
            "config.json: linux.resources.devices[0].allow: missing",
        ),
        (
            "linux.resources.devices",
            r#"[{"allow":true,"type":"p"}]"#,
            "config.json: linux.resources.devices[0].type: must be a, b or c",
        ),
        (
            "linux.resources.devices",
            r#"[{"allow":true,"access":"rwx"}]"#,
            "config.json: linux.resources.devices[0].access: must be letters of rwm",
        ),
        (
            "linux.devices",
            r#"[{"path":"/dev/x","type":"p"}]"#,
            "config.json: linux.devices[0].type: must be c, u or b",
        ),
        (
            "linux.devices",
            r#"[{"path":"/dev/x","type":"c","major":-1}]"#,
            "config.json: linux.devices[0].major: must be a 32-bit number",
        ),
        (
            "linux.cgroupsPath",
            "1",
            "config.json: linux.cgroupsPath: must be a string",
        ),
        (
            "linux.sysctl",
            r#"{"kernel.panic":"1"}"#,
            "config.json: linux.sysctl: sysctl \"kernel.panic\" is not in a separate kernel namespace",
        ),
        (
            "linux.sysctl",
            r#"{"net.x":1}"#,
            "config.json: linux.sysctl.net.x: must be a string",
        ),
        (
            "linux.maskedPaths",
            r#""/x""#,
            "config.json: linux.maskedPaths: must be an array of strings",
        ),
        (
            "linux.rootfsPropagation",
            r#""up""#,
            "config.json: linux.rootfsPropagation: must be private, slave, shared or unbindable (r-prefixed or not)",
        ),
        (
            "linux.seccomp",
            r#"{"defaultAction":"SCMP_ACT_NOPE"}"#,
            "config.json: linux.seccomp: ",
        ),
        ("hooks", "[]", "config.json: hooks: must be an object"),
        (
            "hooks.prestart",
            r#"[{"path":"rel"}]"#,
            "config.json: hooks.prestart[0].path: must be an absolute path",
        ),
        (
            "hooks.poststop",
            r#"[{"path":"/x","timeout":0}]"#,
            "config.json: hooks.poststop[0].timeout: must be a number of seconds above 0",
        ),
        (
            "hooks.createRuntime",
            r#"[{"path":"/x","args":"a"}]"#,
            "config.json: hooks.createRuntime[0].args: must be an array of strings",
        ),
        (
            "annotations",
            r#"{"a":1}"#,
            "config.json: annotations.a: must be a string",
        ),
    ];
    for (path, val, want) in cases {
        let got = err(path, Some(val));
        assert!(
            got.starts_with(want),
            "{path} = {val}:\n got  {got}\n want {want}"
        );
        // One line, as pocket prints it.
        assert!(!got.contains('\n'), "{got}");
    }
}

#[test]
fn sysctls_need_their_namespace() {
    let mut v = doc();
    set(
        &mut v,
        "linux.namespaces",
        Some(r#"[{"type":"pid"},{"type":"mount"}]"#),
    );
    set(&mut v, "hostname", None);
    let e = from_value(&v).unwrap_err().to_string();
    assert_eq!(
        e,
        "config.json: linux.sysctl: sysctl \"net.ipv4.ping_group_range\" not allowed in host network namespace"
    );
    set(&mut v, "linux.sysctl", Some(r#"{"kernel.shmmax":"1"}"#));
    assert!(
        from_value(&v)
            .unwrap_err()
            .to_string()
            .contains("hosts ipc namespace")
    );
    // A hostname needs a UTS namespace.
    set(&mut v, "linux.sysctl", None);
    set(&mut v, "hostname", Some(r#""h""#));
    assert_eq!(
        from_value(&v).unwrap_err().to_string(),
        "config.json: hostname: needs a UTS namespace (linux.namespaces)"
    );
    // Not with a joined mount namespace: its /proc is not the container's.
    set(
        &mut v,
        "linux.namespaces",
        Some(r#"[{"type":"mount","path":"/proc/1/ns/mnt"},{"type":"network"}]"#),
    );
    set(&mut v, "hostname", None);
    set(
        &mut v,
        "linux.sysctl",
        Some(r#"{"net.core.somaxconn":"1"}"#),
    );
    assert!(
        from_value(&v)
            .unwrap_err()
            .to_string()
            .contains("joined mount namespace")
    );
}

#[test]
fn unknown_fields_are_ignored_and_absent_ones_default() {
    let s = with("linux.personality", Some(r#"{"domain":"LINUX"}"#)).unwrap();
    assert!(s.process.no_new_privileges == false && s.process.console_size.is_none());
    let mut v = doc();
    for k in [
        "process.rlimits",
        "process.user",
        "process.capabilities",
        "process.oomScoreAdj",
        "linux.resources",
        "linux.seccomp",
        "linux.sysctl",
        "mounts",
        "annotations",
        "hostname",
    ] {
        set(&mut v, k, None);
    }
    let s = from_value(&v).unwrap();
    assert_eq!(s.process.umask, None);
    assert_eq!(s.process.capabilities, 0);
    assert_eq!(s.process.cap_sets, None);
    assert!(s.process.rlimits.is_empty() && s.mounts.is_empty() && s.annotations.is_empty());
    assert_eq!(s.seccomp, Seccomp::Unconfined);
    assert!(s.resources.is_empty());
    // null is absent.
    assert!(
        with("process.oomScoreAdj", Some("null"))
            .unwrap()
            .process
            .oom_score_adj
            .is_none()
    );
}

#[test]
fn capability_sets_as_given() {
    let mut v = doc();
    set(
        &mut v,
        "process.capabilities",
        Some(
            r#"{"bounding":["CAP_KILL","CAP_CHOWN","CAP_NET_RAW"],"effective":["CAP_KILL"],
               "permitted":["CAP_KILL","CAP_CHOWN"],"inheritable":["CAP_CHOWN"],"ambient":["CAP_CHOWN"]}"#,
        ),
    );
    let p = from_value(&v).unwrap().process;
    let m = |n: &[&str]| caps::mask(n).unwrap();
    assert_eq!(p.capabilities, m(&["KILL", "CHOWN", "NET_RAW"]));
    assert_eq!(
        p.cap_sets,
        Some(Sets {
            effective: m(&["KILL"]),
            permitted: m(&["KILL", "CHOWN"]),
            inheritable: m(&["CHOWN"]),
            ambient: m(&["CHOWN"]),
        })
    );
    // Only a bounding set (as an old pocket record may have): the others
    // are empty, as the spec reads absent sets.
    set(
        &mut v,
        "process.capabilities",
        Some(r#"{"bounding":["CAP_KILL"]}"#),
    );
    let p = from_value(&v).unwrap().process;
    assert_eq!(p.cap_sets, Some(Sets::default()));
}

#[test]
fn bundle_relative_root() {
    let mut v = doc();
    set(&mut v, "root.path", Some(r#""rootfs""#));
    let s = from_bundle("/run/c/b/", &v).unwrap();
    assert_eq!(s.root.path, b"/run/c/b/rootfs");
    let s = from_bundle("/run/c/b", &doc()).unwrap();
    assert_eq!(
        s.root.path,
        b"/var/lib/containers/storage/overlay/abc/merged"
    );
}

#[test]
fn exec_process_documents() {
    // What containerd's shim writes for `ctr task exec`.
    let p = json::parse(
        br#"{"terminal":true,"user":{"uid":1000,"gid":1000,"additionalGids":[1000]},
        "args":["sh"],"env":["PATH=/bin"],"cwd":"/tmp",
        "capabilities":{"bounding":["CAP_KILL"],"effective":["CAP_KILL"],"permitted":["CAP_KILL"]},
        "rlimits":[{"type":"RLIMIT_NOFILE","hard":1024,"soft":1024}],"noNewPrivileges":true}"#,
    )
    .unwrap();
    let p = process_from_value(&p).unwrap();
    assert!(p.terminal && p.no_new_privileges && p.cap_sets.is_none());
    assert_eq!(p.user.uid, 1000);
    assert_eq!(p.cwd, b"/tmp");
    assert_eq!(p.rlimits[0].hard, 1024);
    let bad = json::parse(br#"{"args":["sh"],"user":{"uid":"0"}}"#).unwrap();
    assert_eq!(
        process_from_value(&bad).unwrap_err().to_string(),
        "process.json: user.uid: must be a number"
    );
    let none = json::parse(br#"{"cwd":"/"}"#).unwrap();
    assert_eq!(
        process_from_value(&none).unwrap_err().to_string(),
        "process.json: args: must not be empty"
    );
    assert_eq!(
        process_to_value(&p),
        process_to_value(&process_from_value(&process_to_value(&p)).unwrap())
    );
}

#[test]
fn pocket_records_read_back_and_keep_the_configs_annotations_apart() {
    let mut s = from_value(&doc()).unwrap();
    s.hooks = Hooks::default();
    s.init = true;
    let j = String::from_utf8(to_json(&s)).unwrap();
    assert!(j.contains("\"io.pocket.init\": \"true\""), "{j}");
    let back = from_json(j.as_bytes()).unwrap();
    assert!(back.init);
    assert_eq!(back.annotations, s.annotations);
    assert!(
        !back
            .annotations
            .iter()
            .any(|(k, _)| k.starts_with("io.pocket."))
    );
}

#[test]
fn not_an_object_or_not_json() {
    assert_eq!(
        from_json(b"[]").unwrap_err().to_string(),
        "config.json: must be a JSON object"
    );
    assert!(
        from_json(b"{")
            .unwrap_err()
            .to_string()
            .starts_with("config.json: ")
    );
    assert_eq!(
        process_from_value(&json::parse(b"3").unwrap())
            .unwrap_err()
            .to_string(),
        "process.json: must be an object"
    );
}

/// `runc spec`'s config.json (trimmed: fewer masked paths).
const RUNC: &str = r#"{"ociVersion":"1.0.2-dev","process":{"terminal":true,"user":{"uid":0,"gid":0},
"args":["sh"],"env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","TERM=xterm"],
"cwd":"/","capabilities":{"bounding":["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"],
"effective":["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"],"permitted":["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"],
"ambient":["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"]},"rlimits":[{"type":"RLIMIT_NOFILE","hard":1024,"soft":1024}],
"noNewPrivileges":true},"root":{"path":"rootfs","readonly":true},"hostname":"runc",
"mounts":[{"destination":"/proc","type":"proc","source":"proc"},
{"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","strictatime","mode=755","size=65536k"]},
{"destination":"/sys/fs/cgroup","type":"cgroup","source":"cgroup","options":["nosuid","noexec","nodev","relatime","ro"]}],
"linux":{"resources":{"devices":[{"allow":false,"access":"rwm"}]},
"namespaces":[{"type":"pid"},{"type":"network"},{"type":"ipc"},{"type":"uts"},{"type":"mount"},{"type":"cgroup"}],
"maskedPaths":["/proc/acpi","/proc/kcore","/sys/firmware"],"readonlyPaths":["/proc/bus","/proc/sys"]}}"#;

/// What pocket keeps for a container: its own annotations (overlay,
/// networks, joined namespaces, devices), hooks and a joined namespace.
const RECORD: &str = r#"{"ociVersion":"1.0.2","process":{"args":["/bin/sh","-c","x"],"env":["A=1"],"cwd":"/w",
"user":{"uid":7,"gid":8,"umask":18,"additionalGids":[9]},"consoleSize":{"height":30,"width":100},"oomScoreAdj":-500},
"root":{"path":"/var/lib/pocket/c/rootfs"},"hostname":"h","mounts":[{"destination":"/d","type":"bind","source":"/s","options":["rbind","ro"]}],
"linux":{"namespaces":[{"type":"mount"},{"type":"uts"},{"type":"pid","path":"/proc/9/ns/pid"},{"type":"network","path":"/run/netns/n"}],
"devices":[{"path":"/dev/fuse","type":"c","major":10,"minor":229,"fileMode":384,"uid":0,"gid":5}],
"sysctl":{"kernel.domainname":"example.org"},"cgroupsPath":"pocket/c","rootfsPropagation":"rprivate",
"resources":{"memory":{"limit":67108864,"reservation":1048576},"cpu":{"shares":512,"quota":50000,"period":100000,"cpus":"0-1","mems":"0"},
"pids":{"limit":100},"blockIO":{"weight":500}}},
"hooks":{"prestart":[{"path":"/bin/true","args":["true"],"env":["A=1"],"timeout":5}],"poststop":[{"path":"/e"}]},
"annotations":{"org.example":"x","io.pocket.stdin":"true","io.pocket.init":"true","io.pocket.image":"abcd",
"io.pocket.overlay.lower":"/l1:/l2","io.pocket.overlay.upper":"/u","io.pocket.overlay.work":"/w","io.pocket.overlay.volatile":"true",
"io.pocket.net":"n1","io.pocket.net.bridge":"pocket0","io.pocket.net.ip":"10.89.0.7/24","io.pocket.net.gateway":"10.89.0.1",
"io.pocket.net.extra":"n2 br2 10.90.0.2/16 10.90.0.1;bad","io.pocket.ns.containers":"pid=db,ipc=web",
"io.pocket.devices":"/dev/fuse:/dev/fuse:rwm\n/dev/sda:/dev/x:r","io.pocket.device-cgroup-rules":"b 7:* r","io.pocket.seccomp":"builtin"}}"#;

/// Hostile config.json documents: a refusal names its field on one line;
/// what is read writes back (to_json) as a document that reads the same.
#[test]
fn hostile_oci_config() {
    let corpus: &[&[u8]] = &[
        PODMAN.as_bytes(),
        RUNC.as_bytes(),
        RECORD.as_bytes(),
        br#"{"ociVersion":"1.2.0","process":{"args":["sh"],"cwd":"/"},"root":{"path":"/r"},"linux":{"namespaces":[{"type":"mount"}]}}"#,
    ];
    let dict: &[&[u8]] = &[
        b"\"type\":\"mount\"",
        b"\"path\":",
        b"\"RLIMIT_",
        b"\"CAP_",
        b"\"io.pocket.",
        b"\"SCMP_ACT_",
        b"\"uidMappings\":[{}]",
        b"\"hooks\":{",
        b"\"1.2.0\"",
        b"4294967296",
        b"-1",
        b"null",
    ];
    for c in corpus {
        let s = from_json(c).unwrap();
        assert_eq!(from_json(&to_json(&s)).unwrap(), s);
    }
    crate::rt::fuzz::run(
        "oci config",
        corpus,
        dict,
        std::time::Duration::from_secs(60),
        |b| {
            if let Ok(v) = json::parse(b)
                && let Some(p) = v.get("process")
                && let Err(e) = process_from_value(p)
            {
                let e = format!("{e}");
                if e.contains('\n') {
                    return Err(e);
                }
            }
            let s = from_json(b).map_err(|e| format!("{e}"))?;
            let back = from_json(&to_json(&s)).map_err(|e| format!("{e}"))?;
            assert_eq!(back, s, "a read config does not write back the same");
            Ok(())
        },
    );
}

/// A user namespace with its maps: read, and written back as read.
#[test]
fn user_namespace_maps_round_trip() {
    let mut v = doc();
    set(
        &mut v,
        "linux.namespaces",
        Some(
            r#"[{"type":"mount"},{"type":"uts"},{"type":"network"},{"type":"ipc"},{"type":"user"}]"#,
        ),
    );
    set(
        &mut v,
        "linux.uidMappings",
        Some(r#"[{"containerID":0,"hostID":100000,"size":65536}]"#),
    );
    set(
        &mut v,
        "linux.gidMappings",
        Some(
            r#"[{"containerID":0,"hostID":200000,"size":10},{"containerID":10,"hostID":5,"size":1}]"#,
        ),
    );
    let s = from_value(&v).unwrap();
    assert!(s.has(Namespace::User));
    assert_eq!(
        s.uid_map,
        [IdMap {
            container: 0,
            host: 100000,
            size: 65536
        }]
    );
    assert_eq!(s.gid_map.len(), 2);
    assert_eq!(IdMap::host_of(&s.gid_map, 10), Some(5));
    assert_eq!(from_json(&to_json(&s)).unwrap(), s);
}
