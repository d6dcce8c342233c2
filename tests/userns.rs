//! User namespaces (--uidmap/--gidmap, OCI linux.uidMappings): root in
//! the container is an unprivileged id on the host. Checked from inside
//! (id, /proc/self/uid_map, what root may write) and from the host (the
//! process's uid, the owner of what the container wrote), and the
//! attacks that root in a container would try, failing.

mod common;
use common::checks::{ns_pid, one_error_line};
use common::netns::Ns;
use common::snapshot::{assert_as_before, quiet};
use common::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::sync::{Mutex, MutexGuard};

/// One test at a time: each compares the host's cgroups and mounts
/// before and after, which another test's containers would change.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// The host range container ids 0..65536 map to: far above any real user.
const BASE: u32 = 231072;
const MAP: &str = "0:231072:65536";

#[test]
fn root_inside_is_an_unprivileged_id_outside() {
    if !root() {
        return;
    }
    let _one = one();
    let r = Root::new("userns-ids");
    let ns = Ns::new();
    let before = quiet(&ns, &r);
    let rf = rootfs_str();
    // Inside: root, with the map the kernel shows.
    let o = r.out(&[
        "run",
        "--rm",
        "--uidmap",
        MAP,
        "--rootfs",
        &rf,
        "sh",
        "-c",
        "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let l: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(l[0], ["0"], "{out}");
    assert_eq!(l[1], ["0"], "{out}");
    assert_eq!(l[2], ["0", "231072", "65536"], "{out}");
    assert_eq!(l[3], ["0", "231072", "65536"], "{out}");
    // A --gidmap of its own.
    let o = r.out(&[
        "run",
        "--rm",
        "--uidmap",
        MAP,
        "--gidmap",
        "0:300000:1000",
        "--rootfs",
        &rf,
        "cat",
        "/proc/self/gid_map",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o).split_whitespace().collect::<Vec<_>>(),
        ["0", "300000", "1000"]
    );
    // Outside: the init and an exec'd process run as BASE, and exec
    // enters the container's user namespace (never as the host's root).
    let id = r.run_d(&["--uidmap", MAP, "sleep", "100"]);
    let pid = r.pid(&id);
    assert_eq!(common::user::uid_of(pid), BASE);
    let o = r.out(&[
        "exec",
        &id,
        "sh",
        "-c",
        "id -u; cat /proc/self/uid_map; sleep 100 >/dev/null 2>&1 & echo $!",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let l: Vec<&str> = out.lines().collect();
    assert_eq!(l[0], "0", "{out}");
    assert_eq!(
        l[1].split_whitespace().collect::<Vec<_>>(),
        ["0", "231072", "65536"]
    );
    let inner: i32 = l[2].trim().parse().unwrap();
    let sleeper = same_pidns(pid)
        .into_iter()
        .find(|&p| ns_pid(p) == inner)
        .expect("the exec'd sleep on the host");
    assert_eq!(
        common::user::uid_of(sleeper),
        BASE,
        "exec'd process on the host"
    );
    // -u 1000 inside is BASE+1000 outside.
    let o = r.out(&[
        "exec",
        "-u",
        "1000",
        &id,
        "sh",
        "-c",
        "sleep 100 >/dev/null 2>&1 & echo $!",
    ]);
    let inner: i32 = stdout(&o).trim().parse().unwrap();
    let p = same_pidns(pid)
        .into_iter()
        .find(|&p| ns_pid(p) == inner)
        .unwrap();
    assert_eq!(common::user::uid_of(p), BASE + 1000);
    assert_eq!(r.out(&["rm", "-f", &id]).status.code(), Some(0));
    assert_as_before(&ns, &r, &before, "left behind");
}

#[test]
fn root_inside_cannot_write_what_the_host_root_owns() {
    if !root() {
        return;
    }
    let _one = one();
    let r = Root::new("userns-files");
    let dir = r.0.join("vol");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(dir.join("hosts.txt"), "host\n").unwrap();
    std::fs::set_permissions(
        dir.join("hosts.txt"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    std::fs::write(dir.join("mine.txt"), "mine\n").unwrap();
    std::os::unix::fs::chown(dir.join("mine.txt"), Some(BASE), Some(BASE)).unwrap();
    // On /home, which the shared test rootfs has: its root (the host's)
    // would not let the container's root make a mount point there (a
    // /v left by another test had hidden that).
    let v = format!("{}:/home", dir.display());
    let o = r.out(&[
        "run",
        "--rm",
        "--uidmap",
        MAP,
        "-v",
        &v,
        "--rootfs",
        &rootfs_str(),
        "sh",
        "-c",
        "stat -c '%u %n' /home/hosts.txt /home/mine.txt; \
         echo x >> /home/hosts.txt && echo WROTE-HOST; \
         echo x >> /home/mine.txt && echo wrote-mine; \
         touch /home/new 2>/dev/null && echo MADE; \
         touch /rootfs-file 2>/dev/null && echo ROOTFS; true",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    // The host's root is nobody inside; the container's root owns BASE's.
    assert!(out.contains("65534 /home/hosts.txt"), "{out}");
    assert!(out.contains("0 /home/mine.txt"), "{out}");
    assert!(out.contains("wrote-mine"), "{out}");
    for bad in ["WROTE-HOST", "MADE", "ROOTFS"] {
        assert!(!out.contains(bad), "{bad}: {out}");
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("hosts.txt")).unwrap(),
        "host\n"
    );
    assert!(!dir.join("new").exists());
    assert!(!rootfs().join("rootfs-file").exists());
}

#[test]
fn an_image_root_owns_its_files_and_writes_as_the_mapped_id() {
    if !root() {
        return;
    }
    let _one = one();
    if let Err(why) = common::features::overlay_fd_layers() {
        common::features::skip("userns image layers", &why);
        return;
    }
    let r = Root::new("userns-image");
    let o = r.out(&[
        "load",
        "-i",
        &format!("{}/busybox-docker.tar", test_images().display()),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let ns = Ns::new();
    let before = quiet(&ns, &r);
    let o = r.out(&[
        "run",
        "--name",
        "img",
        "--uidmap",
        MAP,
        "busybox",
        "sh",
        "-c",
        "stat -c '%u:%g %n' / /bin /etc/passwd; echo hi > /etc/new && \
         echo x >> /etc/passwd && echo wrote",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    for f in ["0:0 /", "0:0 /bin", "0:0 /etc/passwd", "wrote"] {
        assert!(out.lines().any(|l| l == f), "{f}: {out}");
    }
    // On the host, in the upper dir: the mapped id's.
    let id = stdout(&r.out(&["inspect", "-f", "{{.Id}}", "img"]))
        .trim()
        .to_string();
    let upper = r.0.join("containers").join(&id).join("upper/etc");
    for f in ["new", "passwd"] {
        let m = std::fs::metadata(upper.join(f)).unwrap();
        assert_eq!((m.uid(), m.gid()), (BASE, BASE), "{f}");
    }
    // The image's own layer is untouched.
    let o = r.out(&["run", "--rm", "busybox", "grep", "-c", "^x$", "/etc/passwd"]);
    assert_eq!(stdout(&o).trim(), "0", "{}", stderr(&o));
    assert_eq!(r.out(&["rm", "img"]).status.code(), Some(0));
    assert_as_before(&ns, &r, &before, "left behind");
}

#[test]
fn privileged_root_in_a_user_namespace_has_no_say_over_the_host() {
    if !root() {
        return;
    }
    let _one = one();
    let r = Root::new("userns-attacks");
    let host = hostname_now();
    let o = r.out(&[
        "run",
        "--rm",
        "--privileged",
        "--uidmap",
        MAP,
        "--rootfs",
        &rootfs_str(),
        "sh",
        "-c",
        // Each line prints its tag only if the attack worked.
        "cat /proc/sys/vm/overcommit_ratio > /proc/sys/vm/overcommit_ratio 2>/dev/null \
           && echo SYSCTL; \
         mknod /dev/sdz b 8 0 2>/dev/null && echo MKNOD; \
         mkdir -p /tmp/h && mount -t ext4 /dev/vda /tmp/h 2>/dev/null && echo MOUNT; \
         hostname evil 2>/dev/null; \
         echo 3 > /proc/sys/vm/drop_caches 2>/dev/null && echo DROP; \
         grep CapEff /proc/self/status",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    for bad in ["SYSCTL", "MKNOD", "MOUNT", "DROP"] {
        assert!(!out.contains(bad), "{bad} worked: {out}");
    }
    // Every capability, but in its own namespace only.
    assert!(out.contains("CapEff:"), "{out}");
    assert_eq!(hostname_now(), host, "the host's name changed");
}

fn hostname_now() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap()
}

#[test]
fn bad_maps_are_refused_and_leave_nothing() {
    if !root() {
        return;
    }
    let _one = one();
    let r = Root::new("userns-bad");
    let ns = Ns::new();
    let before = quiet(&ns, &r);
    let rf = rootfs_str();
    for (args, what) in [
        (vec!["--uidmap", "0:1"], "invalid --uidmap"),
        (vec!["--uidmap", "0:1:0"], "invalid --uidmap"),
        (vec!["--uidmap", "x:1:2"], "invalid --uidmap"),
        (vec!["--uidmap", "0:4294967295:2"], "invalid --uidmap"),
        (vec!["--gidmap", "0:1:2"], "needs --uidmap"),
        (vec!["--uidmap", "1:231072:10"], "must map root"),
        (vec!["--uidmap", MAP, "--net", "host"], "--net host"),
        (vec!["--uidmap", MAP, "--pid", "host"], "--pid host"),
        (vec!["--uidmap", MAP, "--userns", "host"], "--userns host"),
        (vec!["--userns", "auto:bogus"], "invalid --userns"),
        (
            vec!["--userns", "auto", "--uidmap", MAP],
            "not with --uidmap",
        ),
        // Overlapping ranges: the kernel's EINVAL, at start.
        (
            vec!["--uidmap", "0:231072:100", "--uidmap", "50:400000:100"],
            "write uid_map",
        ),
    ] {
        let mut a = vec!["run", "--rm"];
        a.extend(&args);
        a.extend(["--rootfs", &rf, "true"]);
        let o = r.out(&a);
        assert_eq!(o.status.code(), Some(125), "{args:?}: {}", stderr(&o));
        one_error_line(&o, &format!("{args:?}"));
        assert!(stderr(&o).contains(what), "{args:?}: {}", stderr(&o));
    }
    assert_as_before(&ns, &r, &before, "left behind");
}

/// An OCI config that makes a user namespace while joining another
/// namespace by path is refused (the join would have to come before the
/// user namespace, then a fork for the pid namespace): one line, when the
/// config is read (the spawn path refuses such a Spec again before it
/// makes anything), so no cgroup, state or process is left.
#[test]
fn a_new_user_namespace_with_a_join_by_path_is_refused() {
    if !root() {
        return;
    }
    let _one = one();
    let r = Root::new("userns-join");
    let ns = Ns::new();
    let before = quiet(&ns, &r);
    let bundle = r.0.join("bundle");
    std::fs::create_dir(&bundle).unwrap();
    std::os::unix::fs::symlink(rootfs(), bundle.join("rootfs")).unwrap();
    let b = bundle.to_str().unwrap();
    let state = r.0.join("oci");
    let oci = |args: &[&str]| {
        std::process::Command::new(bin())
            .arg("oci")
            .arg("--root")
            .arg(&state)
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    let o = oci(&["spec", "--bundle", b]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let cfg = std::fs::read_to_string(bundle.join("config.json")).unwrap();
    let map = r#"[{"containerID": 0, "hostID": 231072, "size": 65536}]"#;
    let cfg = cfg
        .replacen("\"terminal\": true", "\"terminal\": false", 1)
        .replacen(
            "\"type\": \"network\"",
            &format!("\"type\": \"network\", \"path\": \"/proc/{}/ns/net\"", ns.0.id()),
            1,
        )
        .replacen(
            "\"namespaces\": [",
            &format!(
                "\"uidMappings\": {map}, \"gidMappings\": {map}, \"namespaces\": [{{\"type\": \"user\"}},"
            ),
            1,
        );
    std::fs::write(bundle.join("config.json"), cfg).unwrap();
    let o = oci(&["run", "--bundle", b, "uj1"]);
    assert_ne!(o.status.code(), Some(0));
    // runc's shape: one line on stderr, naming the config's field.
    let e = stderr(&o);
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(
        e.contains("linux.namespaces") && e.contains("with a new user namespace"),
        "{e}"
    );
    let o = oci(&["list", "-q"]);
    assert_eq!(stdout(&o), "");
    assert_as_before(&ns, &r, &before, "a refused user namespace");
}
