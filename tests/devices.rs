//! The devices cgroup, as attacks from inside a container: root there has
//! CAP_MKNOD (docker's set) and makes nodes of the host's devices; making
//! is allowed, opening is not, unless `--device` or
//! `--device-cgroup-rule` says so. On this host (cgroup v1 hybrid) the
//! rules are in the v1 devices hierarchy; the v2 BPF program is checked
//! here on the host's cgroup2 mount too, and for containers in the
//! initramfs VM (scripts/initramfs-init.sh).

mod common;
use common::*;
use std::path::{Path, PathBuf};

/// `run --rm --rootfs R ARGS... sh -c SCRIPT` in state root `r`: (exit
/// code, stdout and stderr interleaved). The script's own failures are
/// in its output; the code is pocket's (0 once the shell ran).
fn sh(r: &Root, args: &[&str], script: &str) -> (i32, String) {
    let rootfs = rootfs_str();
    let script = format!("{{ {script}; }} 2>&1; true");
    let mut v = vec!["run", "--rm", "--rootfs", &rootfs];
    v.extend(args);
    v.extend(["sh", "-c", &script]);
    let o = r.out(&v);
    (o.status.code().unwrap_or(-1), stdout(&o) + &stderr(&o))
}

/// A block device the host itself can open (so a refusal inside is the
/// container's): the disk / is on if it can, else the first one of
/// /sys/block that opens. (name in /dev, major, minor)
fn host_disk() -> (String, u32, u32) {
    let devname = |majmin: &str| -> Option<String> {
        let u = std::fs::read_to_string(format!("/sys/dev/block/{majmin}/uevent")).ok()?;
        u.lines()
            .find_map(|l| l.strip_prefix("DEVNAME="))
            .map(String::from)
    };
    let split = |majmin: &str| -> (u32, u32) {
        let (a, b) = majmin.trim().split_once(':').unwrap();
        (a.parse().unwrap(), b.parse().unwrap())
    };
    let mi = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let root = mi
        .lines()
        .find(|l| l.split(' ').nth(4) == Some("/"))
        .and_then(|l| l.split(' ').nth(2))
        .unwrap()
        .to_string();
    if let Some(name) = devname(&root) {
        match std::fs::File::open(format!("/dev/{name}")) {
            Ok(_) => {
                let (a, b) = split(&root);
                return (name, a, b);
            }
            Err(e) => features::skip(
                "the host's root disk as the attack's target",
                &format!(
                    "/dev/{name} ({root}) cannot be opened even by root on this host ({e}); \
                     using a block device the host can open instead"
                ),
            ),
        }
    }
    let mut names: Vec<String> = std::fs::read_dir("/sys/block")
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        let Ok(majmin) = std::fs::read_to_string(format!("/sys/block/{name}/dev")) else {
            continue;
        };
        if Path::new(&format!("/dev/{name}")).exists()
            && std::fs::File::open(format!("/dev/{name}")).is_ok()
        {
            let (a, b) = split(&majmin);
            return (name, a, b);
        }
    }
    panic!("no block device the host can open");
}

#[test]
fn a_node_of_the_hosts_disk_can_be_made_but_not_opened() {
    if !root() {
        return;
    }
    let r = Root::new("devdisk");
    let (name, maj, min) = host_disk();
    // In /dev (pocket's tmpfs, not nodev): only the devices cgroup stands
    // in the way. In /tmp (the root, mounted nodev): nodev refuses first.
    let script = format!(
        "mknod /dev/disk b {maj} {min} && echo made; head -c 512 /dev/disk | wc -c; \
         (exec 3<>/dev/disk) && echo opened-rw; \
         mknod /tmp/disk-$$ b {maj} {min} && echo made-tmp; head -c 1 /tmp/disk-$$; rm -f /tmp/disk-$$"
    );
    let (code, out) = sh(&r, &[], &script);
    eprintln!("attack: mknod of /dev/{name} ({maj}:{min}) inside, then open:\n{out}");
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("made\n") && out.contains("made-tmp\n"),
        "CAP_MKNOD (docker's) lets it make nodes: {out}"
    );
    // devices cgroup: EPERM, for reading and for writing.
    assert!(
        out.contains("head: /dev/disk: Operation not permitted"),
        "{out}"
    );
    assert!(
        out.contains("can't create /dev/disk: Operation not permitted"),
        "{out}"
    );
    assert!(!out.contains("opened-rw"), "{out}");
    // nodev on the root: EACCES, before the cgroup is even asked.
    assert!(out.contains("Permission denied"), "{out}");
    // Control: the very same node opens once a rule allows it, so the
    // refusal above was the devices cgroup's, not the host's.
    let rule = format!("b {maj}:{min} r");
    let (code, out) = sh(
        &r,
        &["--device-cgroup-rule", &rule],
        &format!(
            "mknod /dev/disk b {maj} {min}; head -c 512 /dev/disk | wc -c; (exec 3<>/dev/disk) && echo opened-rw"
        ),
    );
    eprintln!("control with --device-cgroup-rule '{rule}':\n{out}");
    assert_eq!(code, 0, "{out}");
    assert!(
        !out.contains("head:"),
        "read refused with a rule allowing it: {out}"
    );
    assert!(
        out.contains("can't create /dev/disk: Operation not permitted"),
        "write allowed by an 'r' rule: {out}"
    );
}

#[test]
fn the_standard_nodes_still_work() {
    if !root() {
        return;
    }
    let r = Root::new("devstd");
    let (code, out) = sh(
        &r,
        &[],
        "echo x > /dev/null && echo null; head -c 3 /dev/zero | wc -c; head -c 3 /dev/urandom | wc -c; \
         head -c 3 /dev/random | wc -c; echo x > /dev/full; (exec 3<>/dev/tty); (exec 3<>/dev/pts/ptmx) && echo ptmx",
    );
    assert_eq!(code, 0, "{out}");
    // /dev/full: ENOSPC (opened, then full); /dev/tty: no terminal (ENXIO),
    // not the cgroup's EPERM.
    assert_eq!(
        out,
        "null\n3\n3\n3\nsh: write error: No space left on device\n\
         sh: can't create /dev/tty: No such device or address\nptmx\n",
    );
}

/// A character device the host has and the defaults do not allow:
/// /dev/fuse, else /dev/loop-control, else /dev/kmsg. (path, major, minor)
fn harmless_char() -> (&'static str, u32, u32) {
    use std::os::unix::fs::FileTypeExt;
    use std::os::unix::fs::MetadataExt;
    for p in ["/dev/fuse", "/dev/loop-control", "/dev/kmsg"] {
        if let Ok(m) = std::fs::metadata(p)
            && m.file_type().is_char_device()
        {
            let rdev = m.rdev();
            return (p, libc::major(rdev), libc::minor(rdev));
        }
    }
    panic!("none of /dev/fuse, /dev/loop-control, /dev/kmsg on this host");
}

#[test]
fn device_flag_makes_the_node_and_allows_only_it() {
    if !root() {
        return;
    }
    let r = Root::new("devflag");
    let (path, maj, min) = harmless_char();
    // Without --device: not there, and made by hand it does not open.
    let (code, out) = sh(
        &r,
        &[],
        &format!("ls {path} 2>&1; mknod /dev/x c {maj} {min}; (exec 3</dev/x)"),
    );
    eprintln!("without --device:\n{out}");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("No such file or directory"), "{out}");
    assert!(
        out.contains("can't open /dev/x: Operation not permitted"),
        "{out}"
    );
    // --device: the node with the host's type, numbers and mode, and it
    // opens; as /dev/sub/other:r, reading only (rules go by device
    // number, so one run each).
    let host_mode = {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).unwrap().mode() & 0o777
    };
    let want = format!("character special file {maj:x}:{min:x} {host_mode:o}\n");
    let (code, out) = sh(
        &r,
        &["--device", path],
        &format!(
            "stat -c '%F %t:%T %a' {path}; (exec 3<{path}) && echo r; (exec 3<>{path}) && echo rw"
        ),
    );
    eprintln!("with --device {path}:\n{out}");
    assert_eq!((code, out), (0, format!("{want}r\nrw\n")));
    let spec = format!("{path}:/dev/sub/other:r");
    let (code, out) = sh(
        &r,
        &["--device", &spec],
        "stat -c '%F %t:%T %a' /dev/sub/other; (exec 3</dev/sub/other) && echo r; (exec 3<>/dev/sub/other) && echo rw",
    );
    eprintln!("with --device {spec}:\n{out}");
    assert_eq!(
        (code, out),
        (
            0,
            format!("{want}r\nsh: can't create /dev/sub/other: Operation not permitted\n")
        )
    );
    // inspect shows them as docker does.
    let id = r.run_d(&[
        "--device",
        &spec,
        "--device-cgroup-rule",
        "c 1:11 r",
        "sleep",
        "30",
    ]);
    let ins = stdout(&r.out(&["inspect", &id]));
    let want = format!(
        "\"Devices\": [\n        {{\n          \"PathOnHost\": \"{path}\",\n          \"PathInContainer\": \"/dev/sub/other\",\n          \"CgroupPermissions\": \"r\"\n        }}\n      ],\n      \"DeviceCgroupRules\": [\n        \"c 1:11 r\"\n      ]"
    );
    assert!(ins.contains(&want), "{ins}");
    assert_eq!(r.out(&["rm", "-f", &id]).status.code(), Some(0));
    let id = r.run_d(&["true"]);
    let ins = stdout(&r.out(&["inspect", &id]));
    assert!(
        ins.contains("\"Devices\": [],\n      \"DeviceCgroupRules\": null"),
        "{ins}"
    );
}

#[test]
fn device_cgroup_rule_allows_a_node_made_with_mknod() {
    if !root() {
        return;
    }
    let r = Root::new("devrule");
    let (_, maj, min) = harmless_char();
    let script = format!(
        "mknod /dev/x c {maj} {min}; (exec 3</dev/x) && echo read; (exec 3<>/dev/x) && echo rw"
    );
    for (rule, read, rw) in [
        (format!("c {maj}:{min} rwm"), true, true),
        (format!("c {maj}:* r"), true, false),
        (format!("c *:{min} w"), false, false),
        (format!("b {maj}:{min} rwm"), false, false),
        ("a *:* rwm".to_string(), true, true),
    ] {
        let (code, out) = sh(&r, &["--device-cgroup-rule", &rule], &script);
        eprintln!("--device-cgroup-rule '{rule}':\n{out}");
        assert_eq!(code, 0, "{out}");
        assert_eq!(out.contains("read\n"), read, "{rule}: {out}");
        assert_eq!(out.contains("rw\n"), rw, "{rule}: {out}");
        assert_eq!(
            out.contains("Operation not permitted"),
            !(read && rw),
            "{rule}: {out}"
        );
    }
}

#[test]
fn a_bind_of_the_hosts_dev_is_refused_by_the_cgroup() {
    if !root() {
        return;
    }
    let r = Root::new("devbind");
    let (name, maj, min) = host_disk();
    // As in docker the bind is not nodev (a user may bind /dev to reach a
    // device a rule allows): the devices cgroup is what refuses.
    let script = format!(
        "grep ' /h ' /proc/self/mountinfo; head -c 512 /h/{name} | wc -c; echo x > /h/null && echo null"
    );
    let (code, out) = sh(&r, &["-v", "/dev:/h"], &script);
    eprintln!("attack: -v /dev:/h, then read /h/{name}:\n{out}");
    assert_eq!(code, 0, "{out}");
    let mount = out.lines().next().unwrap_or("");
    let opts = mount.split(' ').nth(5).unwrap_or("");
    assert!(
        mount.contains(" /h ") && !opts.split(',').any(|o| o == "nodev"),
        "{out}"
    );
    assert!(
        out.contains(&format!("head: /h/{name}: Operation not permitted")),
        "{out}"
    );
    assert!(out.ends_with("null\n"), "{out}");
    // Control: allowed by a rule, the same path reads.
    let rule = format!("b {maj}:{min} r");
    let (code, out) = sh(
        &r,
        &["-v", "/dev:/h", "--device-cgroup-rule", &rule],
        &script,
    );
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("head:"), "{out}");
}

#[test]
fn bad_values_leave_nothing() {
    if !root() {
        return;
    }
    let r = Root::new("devbad");
    for (flag, v, want) in [
        (
            "--device",
            "/nonexistent-pocket-dev",
            "pocket: --device /nonexistent-pocket-dev: No such file or directory",
        ),
        (
            "--device",
            "/etc/passwd",
            "pocket: --device /etc/passwd: not a device node (nor a directory holding any)",
        ),
        (
            "--device",
            "/dev/null:/dev/x:rwx",
            "pocket: --device '/dev/null:/dev/x:rwx': bad mode specified: rwx",
        ),
        (
            "--device",
            "/dev/null:x",
            "pocket: --device '/dev/null:x': x is not an absolute path",
        ),
        (
            "--device",
            "/dev/null:/x",
            "pocket: device path /x: must be below /dev (not /dev/pts, /dev/shm or /dev/mqueue)",
        ),
        (
            "--device",
            "/dev/null:/dev/pts/0",
            "pocket: device path /dev/pts/0: must be below /dev (not /dev/pts, /dev/shm or /dev/mqueue)",
        ),
        (
            "--device-cgroup-rule",
            "c 1:3 rwx",
            "pocket: --device-cgroup-rule 'c 1:3 rwx': invalid device cgroup format",
        ),
        (
            "--device-cgroup-rule",
            "a 1:3 r",
            "pocket: --device-cgroup-rule 'a 1:3 r': invalid device cgroup format",
        ),
        (
            "--device-cgroup-rule",
            "c 5000:0 r",
            "pocket: --device-cgroup-rule 'c 5000:0 r': invalid device cgroup format",
        ),
    ] {
        let rootfs = rootfs_str();
        let o = r.out(&["run", "--rootfs", &rootfs, flag, v, "true"]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(125), "{flag} {v}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with(want), "{flag} {v}: {err}");
    }
    // Refused before the record (and so before any cgroup) is made.
    assert_eq!(r.state_entries(), Vec::<String>::new());
}

/// The v1 group: docker's list in devices.list while the container runs,
/// gone with it (rm -f, --rm; the SIGKILL cases are tests/cgroups.rs').
#[test]
fn the_v1_group_holds_the_list_and_goes_with_the_container() {
    if !root() {
        return;
    }
    let dir = Path::new("/sys/fs/cgroup/devices/pocket");
    if !Path::new("/sys/fs/cgroup/devices").exists() {
        features::skip(
            "v1 devices group",
            "no v1 devices hierarchy (the VM checks v2)",
        );
        return;
    }
    let r = Root::new("devv1");
    let id = r.run_d(&["--device-cgroup-rule", "b 7:* r", "sleep", "30"]);
    let list = std::fs::read_to_string(dir.join(&id).join("devices.list")).unwrap();
    assert_eq!(
        list,
        "c *:* m\nb *:* m\nc 1:3 rwm\nc 1:5 rwm\nc 1:7 rwm\nc 1:8 rwm\nc 1:9 rwm\nc 5:0 rwm\n\
         c 5:1 rwm\nc 5:2 rwm\nc 136:* rwm\nc 10:200 rwm\nb 7:* r\n"
    );
    let pid = r.pid(&id);
    let procs = std::fs::read_to_string(dir.join(&id).join("cgroup.procs")).unwrap();
    assert!(procs.lines().any(|l| l == pid.to_string()), "{procs}");
    // exec joins the group: the same refusal for what it runs.
    let (_, maj, min) = harmless_char();
    let script = format!("mknod /dev/x c {maj} {min}; (exec 3</dev/x) 2>&1; true");
    let o = r.out(&["exec", &id, "sh", "-c", &script]);
    assert_eq!(
        stdout(&o),
        "sh: can't open /dev/x: Operation not permitted\n",
        "{}",
        stderr(&o)
    );
    assert_eq!(r.out(&["rm", "-f", &id]).status.code(), Some(0));
    assert!(!dir.join(&id).exists());
    let before: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    let (code, _) = sh(&r, &[], "true");
    assert_eq!(code, 0);
    let after: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(before, after);
}

/// The cgroup2 mount, if any.
fn cgroup2() -> Option<PathBuf> {
    let mi = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    mi.lines().find_map(|l| {
        let (pre, post) = l.split_once(" - ")?;
        let mp = pre.split(' ').nth(4)?;
        (post.starts_with("cgroup2 ")).then(|| PathBuf::from(mp))
    })
}

/// Run a host shell (the rootfs's static busybox) inside v2 group `dir`.
fn in_group(dir: &Path, script: &str) -> String {
    use std::os::unix::process::CommandExt;
    let procs = std::ffi::CString::new(dir.join("cgroup.procs").to_str().unwrap()).unwrap();
    let mut c = std::process::Command::new(rootfs().join("bin/busybox"));
    let script = format!("{{ {script}; }} 2>&1");
    c.args(["sh", "-c", &script]);
    // SAFETY: open and write are async-signal-safe.
    unsafe {
        c.pre_exec(move || {
            let fd = libc::open(procs.as_ptr(), libc::O_WRONLY);
            if fd < 0 || libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
                return Err(std::io::Error::last_os_error());
            }
            libc::close(fd);
            Ok(())
        });
    }
    let o = c.output().expect("busybox in the group");
    stdout(&o) + &stderr(&o)
}

#[test]
fn the_v2_program_is_accepted_and_enforced_by_this_kernel() {
    if !root() {
        return;
    }
    let Some(mnt) = cgroup2() else {
        features::skip("v2 device program on this host", "no cgroup2 mounted");
        return;
    };
    use pocket::cgroup::devices::{DEFAULT, parse_rule, reduce};
    let (name, maj, min) = host_disk();
    let parent = mnt.join("pocket");
    let made_parent = std::fs::create_dir(&parent).is_ok();
    let script = format!(
        "(exec 3<>/dev/null) && echo null; (exec 3</dev/zero) && echo zero; \
         (exec 3</dev/{name}) && echo disk-r; (exec 3<>/dev/{name}) && echo disk-rw; true"
    );
    let mut with_rule = DEFAULT.to_vec();
    with_rule.push(parse_rule(&format!("b {maj}:{min} r")).unwrap());
    let mut outs = vec![];
    for (i, rules) in [DEFAULT.to_vec(), with_rule].iter().enumerate() {
        let dir = parent.join(format!("devtest-{}-{i}", std::process::id()));
        std::fs::create_dir(&dir).unwrap();
        let r = pocket::cgroup::devfilter::attach(dir.to_str().unwrap(), &reduce(rules));
        let out = r.as_ref().map(|()| in_group(&dir, &script));
        // The group goes once its process has; its program with it.
        for _ in 0..100 {
            if std::fs::remove_dir(&dir).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(!dir.exists());
        outs.push(out.unwrap_or_else(|e| panic!("the kernel refused the program: {e}")));
    }
    if made_parent {
        let _ = std::fs::remove_dir(&parent);
    }
    eprintln!(
        "v2 program, docker's defaults:\n{}\nplus 'b {maj}:{min} r':\n{}",
        outs[0], outs[1]
    );
    let no = |how: &str| format!("sh: can't {how} /dev/{name}: Operation not permitted\n");
    assert_eq!(
        outs[0],
        format!("null\nzero\n{}{}", no("open"), no("create"))
    );
    assert_eq!(outs[1], format!("null\nzero\ndisk-r\n{}", no("create")));
}
