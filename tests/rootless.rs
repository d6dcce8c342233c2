//! pocket run by a plain user: real unprivileged users made for the test
//! (one without subordinate ids, one with a range in /etc/subuid and
//! /etc/subgid), running pocket with their own uid and gid. Checked from
//! inside (id, the maps, what may be written) and from the host (the
//! processes' owner, the state under the user's home), and root's
//! powers tried from inside, failing.

mod common;
use common::user::{SUB_START, User, uid_of, words};
use common::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn a_plain_user_runs_containers_as_root_inside_and_itself_outside() {
    if !root() {
        return;
    }
    let _one = one();
    let u = User::new("a", false);
    let out = u.ok(&[
        "run",
        "--rm",
        "--rootfs",
        u.rootfs(),
        "sh",
        "-c",
        "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; hostname",
    ]);
    let w = words(&out);
    assert_eq!(w[0], ["0"], "{out}");
    assert_eq!(w[1], ["0"], "{out}");
    assert_eq!(w[2], ["0", &u.uid.to_string(), "1"], "{out}");
    assert_eq!(w[3], ["0", &u.gid.to_string(), "1"], "{out}");
    // State in the user's home, owned by the user.
    assert!(u.state().join("containers").is_dir());
    assert_eq!(std::fs::metadata(u.state()).unwrap().uid(), u.uid);
    // -d, ps, exec, logs, stop, rm.
    let id = u.ok(&[
        "run",
        "-d",
        "--name",
        "svc",
        "--rootfs",
        u.rootfs(),
        "sh",
        "-c",
        "echo started; exec sleep 100",
    ]);
    let id = id.trim();
    let ps = u.ok(&["ps"]);
    assert!(ps.contains("svc"), "{ps}");
    let pid: i32 = u
        .ok(&["inspect", "-f", "{{.State.Pid}}", "svc"])
        .trim()
        .parse()
        .unwrap();
    assert_eq!(uid_of(pid), u.uid, "the container's init on the host");
    let out = u.ok(&["exec", "svc", "sh", "-c", "id -u; cat /proc/self/uid_map"]);
    assert_eq!(words(&out)[0], ["0"]);
    assert_eq!(words(&out)[1], ["0", &u.uid.to_string(), "1"]);
    let logs = u.ok(&["logs", "svc"]);
    assert_eq!(logs, "started\n");
    u.ok(&["stop", "-t", "1", "svc"]);
    u.ok(&["rm", id]);
    assert_eq!(u.ok(&["ps", "-aq"]), "");
    assert!(common::snapshot::entries(&u.state().join("containers")).is_empty());
}

#[test]
fn limits_and_bridges_are_refused_with_the_reason_and_leave_nothing() {
    if !root() {
        return;
    }
    let _one = one();
    let u = User::new("b", false);
    for (args, why) in [
        (vec!["-m", "64m"], "need root"),
        (vec!["--pids-limit", "10"], "need root"),
        (vec!["--net", "bridge"], "a bridge network needs root"),
    ] {
        let mut a = vec!["run", "--rm"];
        a.extend(&args);
        a.extend(["--rootfs", u.rootfs(), "true"]);
        let o = u.out(&a);
        assert_eq!(o.status.code(), Some(125), "{args:?}: {}", stderr(&o));
        common::checks::one_error_line(&o, &format!("{args:?}"));
        assert!(stderr(&o).contains(why), "{args:?}: {}", stderr(&o));
    }
    if std::fs::read_to_string("/proc/self/cgroup")
        .unwrap_or_default()
        .lines()
        .any(|l| !l.starts_with("0::"))
    {
        let o = u.out(&["run", "--rm", "-m", "64m", "--rootfs", u.rootfs(), "true"]);
        assert!(stderr(&o).contains("cgroup v1"), "{}", stderr(&o));
    }
    assert_eq!(u.ok(&["ps", "-aq"]), "");
    // --net host: the host's interfaces, /sys bound read-only.
    let out = u.ok(&[
        "run",
        "--rm",
        "--net",
        "host",
        "--rootfs",
        u.rootfs(),
        "ls",
        "/sys/class/net",
    ]);
    assert!(out.lines().any(|l| l == "lo"), "{out}");
}

#[test]
fn root_inside_cannot_write_what_the_user_cannot() {
    if !root() {
        return;
    }
    let _one = one();
    let u = User::new("c", false);
    let dir = u.home.join("vol");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("roots.txt"), "root's\n").unwrap();
    std::fs::write(dir.join("mine.txt"), "mine\n").unwrap();
    std::os::unix::fs::chown(dir.join("mine.txt"), Some(u.uid), Some(u.gid)).unwrap();
    std::fs::write("/tmp/pocket-rl-host-file", "host\n").unwrap();
    let v = format!("{}:/v", dir.display());
    let out = u.ok(&[
        "run",
        "--rm",
        "--privileged",
        "-v",
        &v,
        "-v",
        "/tmp/pocket-rl-host-file:/hostfile",
        "--rootfs",
        u.rootfs(),
        "sh",
        "-c",
        "echo x >> /v/roots.txt 2>/dev/null && echo WROTE-ROOTS; \
         echo x >> /hostfile 2>/dev/null && echo WROTE-HOST; \
         echo x >> /v/mine.txt && echo wrote-mine; \
         cat /proc/sys/vm/overcommit_ratio > /proc/sys/vm/overcommit_ratio 2>/dev/null \
           && echo SYSCTL; \
         mknod /dev/sdz b 8 0 2>/dev/null && echo MKNOD; \
         mkdir -p /tmp/m && mount -t ext4 /dev/vda /tmp/m 2>/dev/null && echo MOUNT; true",
    ]);
    assert!(out.contains("wrote-mine"), "{out}");
    for bad in ["WROTE-ROOTS", "WROTE-HOST", "SYSCTL", "MKNOD", "MOUNT"] {
        assert!(!out.contains(bad), "{bad}: {out}");
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("roots.txt")).unwrap(),
        "root's\n"
    );
    assert_eq!(
        std::fs::read_to_string("/tmp/pocket-rl-host-file").unwrap(),
        "host\n"
    );
    let _ = std::fs::remove_file("/tmp/pocket-rl-host-file");
}

#[test]
fn a_user_with_subordinate_ids_maps_them_through_newuidmap() {
    if !root() {
        return;
    }
    let _one = one();
    if !Path::new("/usr/bin/newuidmap").exists() {
        common::features::skip("rootless subuid ranges", "newuidmap is not installed");
        return;
    }
    let u = User::new("d", true);
    let out = u.ok(&[
        "run",
        "--rm",
        "--rootfs",
        u.rootfs(),
        "sh",
        "-c",
        "cat /proc/self/uid_map /proc/self/gid_map; touch /dev/shm/f; \
         chown 1000:1000 /dev/shm/f && stat -c '%u:%g' /dev/shm/f",
    ]);
    let w = words(&out);
    let sub = SUB_START.to_string();
    assert_eq!(w[0], ["0", &u.uid.to_string(), "1"], "{out}");
    assert_eq!(w[1], ["1", sub.as_str(), "65535"], "{out}");
    assert_eq!(w[2], ["0", &u.gid.to_string(), "1"], "{out}");
    assert_eq!(w[3], ["1", sub.as_str(), "65535"], "{out}");
    assert_eq!(w[4], ["1000:1000"], "{out}");
    // exec -u 1000: the host sees SUB_START + 999.
    let id = u.ok(&["run", "-d", "--rootfs", u.rootfs(), "sleep", "100"]);
    let id = id.trim();
    let o = u.out(&["exec", "-d", "-u", "1000", id, "sleep", "99"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let init: i32 = u
        .ok(&["inspect", "-f", "{{.State.Pid}}", id])
        .trim()
        .parse()
        .unwrap();
    let mut found = false;
    for _ in 0..100 {
        found = same_pidns(init).into_iter().any(|p| {
            std::fs::read_to_string(format!("/proc/{p}/cmdline")).is_ok_and(|c| c.contains("99"))
                && uid_of(p) == SUB_START + 999
        });
        if found {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(found, "exec -u 1000 as SUB_START+999 on the host");
    u.ok(&["rm", "-f", id]);
}

#[test]
fn images_and_volumes_as_a_plain_user() {
    if !root() {
        return;
    }
    let _one = one();
    let u = User::new("e", false);
    let out = u.load_busybox();
    assert!(out.contains("Loaded image: busybox:latest"), "{out}");
    // The image's root-owned files are root's inside; what it writes is
    // the user's on the host.
    let out = u.ok(&[
        "run",
        "--name",
        "writer",
        "-v",
        "data:/data",
        "busybox",
        "sh",
        "-c",
        "stat -c '%u:%g %n' /etc/passwd /bin; echo x > /etc/new; echo kept > /data/f",
    ]);
    assert!(out.lines().any(|l| l == "0:0 /etc/passwd"), "{out}");
    assert!(out.lines().any(|l| l == "0:0 /bin"), "{out}");
    let id = u
        .ok(&["inspect", "-f", "{{.Id}}", "writer"])
        .trim()
        .to_string();
    let new = u.state().join("containers").join(&id).join("upper/etc/new");
    assert_eq!(std::fs::metadata(&new).unwrap().uid(), u.uid);
    // The volume outlives the container.
    u.ok(&["rm", "writer"]);
    let out = u.ok(&[
        "run",
        "--rm",
        "-v",
        "data:/data",
        "busybox",
        "cat",
        "/data/f",
    ]);
    assert_eq!(out, "kept\n");
    // -d and exec from the image.
    let id = u.ok(&["run", "-d", "busybox", "sleep", "100"]);
    let out = u.ok(&["exec", id.trim(), "sh", "-c", "id -u; ls /bin/busybox"]);
    assert_eq!(out, "0\n/bin/busybox\n");
    u.ok(&["rm", "-f", id.trim()]);
    u.ok(&["volume", "rm", "data"]);
    u.ok(&["rmi", "busybox"]);
    assert_eq!(u.ok(&["images", "-q"]), "");
}

/// `spec --rootless` and the OCI front end run by a plain user, as runc:
/// its own id mapped to root, no network namespace, no cgroup.
#[test]
fn the_oci_runtime_runs_a_rootless_spec() {
    if !root() {
        return;
    }
    let _one = one();
    let u = User::new("f", false);
    let bundle = u.home.join("bundle");
    std::fs::create_dir(&bundle).unwrap();
    std::os::unix::fs::chown(&bundle, Some(u.uid), Some(u.gid)).unwrap();
    std::fs::rename(&u.rootfs, bundle.join("rootfs")).unwrap();
    let b = bundle.to_str().unwrap();
    u.ok(&["oci", "spec", "--rootless", "--bundle", b]);
    let cfg = std::fs::read_to_string(bundle.join("config.json")).unwrap();
    let v = common::checks::json(&cfg).unwrap();
    let ns: Vec<String> = v
        .get("linux")
        .get("namespaces")
        .arr()
        .iter()
        .map(|n| n.get("type").str().to_string())
        .collect();
    assert!(
        ns.contains(&"user".to_string()) && !ns.contains(&"network".to_string()),
        "{ns:?}"
    );
    let m = &v.get("linux").get("uidMappings").arr()[0];
    assert_eq!(m.get("hostID").int(), u.uid as i64);
    assert_eq!(m.get("containerID").int(), 0);
    let cfg = cfg
        .replacen("\"terminal\": true", "\"terminal\": false", 1)
        .replacen(
            "\"sh\"",
            "\"sh\", \"-c\", \"id -u; cat /proc/self/uid_map\"",
            1,
        );
    std::fs::write(bundle.join("config.json"), cfg).unwrap();
    let out = u.ok(&["oci", "run", "--bundle", b, "rl1"]);
    let w = words(&out);
    assert_eq!(w[0], ["0"], "{out}");
    assert_eq!(w[1], ["0", &u.uid.to_string(), "1"], "{out}");
    // Its state went to the user's runtime dir, and is gone with it.
    assert_eq!(u.ok(&["oci", "list", "-q"]), "");
    assert!(Path::new(&format!("/tmp/pocket-runc-{}", u.uid)).is_dir());
    let _ = std::fs::remove_dir_all(format!("/tmp/pocket-runc-{}", u.uid));
}

/// `pull` as a plain user, from a registry on the host's loopback: the
/// layers are the user's, root's inside.
#[test]
fn a_plain_user_pulls_from_a_registry() {
    if !root() {
        return;
    }
    let _one = one();
    let Some(reg) = common::registry::Registry::start("rootless-pull", None) else {
        return;
    };
    reg.push(&common::registry::busybox_archive(), "rl/busybox:1", &[]);
    let image = format!("{}/rl/busybox:1", reg.addr());
    let u = User::new("g", false);
    u.ok(&["pull", "-q", &image]);
    let out = u.ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert_eq!(out.trim(), format!("{}/rl/busybox:1", reg.addr()));
    let out = u.ok(&[
        "run",
        "--rm",
        &image,
        "sh",
        "-c",
        "id -u; stat -c '%u:%g' /bin/busybox /etc",
    ]);
    assert_eq!(out, "0\n0:0\n0:0\n");
    // On the host, the store's files are the user's.
    let layers = u.state().join("images/layers");
    for e in std::fs::read_dir(&layers).unwrap().flatten() {
        let m = std::fs::symlink_metadata(e.path()).unwrap();
        assert_eq!(m.uid(), u.uid, "{}", e.path().display());
    }
    // A user with subordinate ids pulls as root of its user namespace
    // (and so does `run` of an image it lacks): the same result.
    if Path::new("/usr/bin/newuidmap").exists() {
        let v = User::new("j", true);
        let out = v.ok(&[
            "run",
            "--rm",
            &image,
            "sh",
            "-c",
            "stat -c '%u:%g' /bin/busybox",
        ]);
        assert!(out.ends_with("0:0\n"), "{out}");
        v.ok(&["rmi", &image]);
        v.ok(&["pull", "-q", &image]);
        let bin = std::fs::read_dir(v.state().join("images/layers"))
            .unwrap()
            .flatten()
            .find_map(|e| std::fs::metadata(e.path().join("bin/busybox")).ok())
            .expect("bin/busybox in a layer");
        assert_eq!(bin.uid(), v.uid);
        v.ok(&["rmi", &image]);
        assert_eq!(v.ok(&["images", "-q"]), "");
    }
}

/// What a subuid-mapped container's non-root processes write in its upper
/// dir belongs to the user's subordinate ids: `rm` must still remove it
/// (as root of a user namespace with the user's maps, as podman's
/// `unshare rm`), and leave nothing.
#[test]
fn a_subuid_users_container_files_go_with_rm() {
    if !root() {
        return;
    }
    let _one = one();
    if !Path::new("/usr/bin/newuidmap").exists() {
        common::features::skip("rootless subuid ranges", "newuidmap is not installed");
        return;
    }
    let u = User::new("h", true);
    u.load_busybox();
    let id = u.ok(&["run", "-d", "busybox", "sleep", "100"]);
    let id = id.trim().to_string();
    u.ok(&[
        "exec",
        "-u",
        "1000",
        &id,
        "sh",
        "-c",
        "mkdir -p /tmp/x/y && touch /tmp/x/y/f",
    ]);
    let y = u.state().join("containers").join(&id).join("upper/tmp/x/y");
    let m = std::fs::metadata(&y).unwrap();
    assert_eq!(m.uid(), SUB_START + 999, "made as 1000 inside");
    u.ok(&["rm", "-f", &id]);
    assert_eq!(u.ok(&["ps", "-aq"]), "");
    assert!(
        common::snapshot::entries(&u.state().join("containers")).is_empty(),
        "the container's directory is left"
    );
}

/// A user with subordinate ids loads, runs, saves and removes an image
/// whose files have owners besides root and a setuid program: as podman,
/// its layers are extracted as root of its user namespace, so inside the
/// container every file has the image's owner and mode (the app's home
/// its own user's), on the host the user's range holds them, `save`
/// gives them back as they came, and `rmi` removes them all.
#[test]
fn a_subuid_users_image_keeps_its_owners() {
    if !root() {
        return;
    }
    let _one = one();
    if !Path::new("/usr/bin/newuidmap").exists() {
        common::features::skip("rootless image owners", "newuidmap is not installed");
        return;
    }
    // The image, made by root: /home/app and a 0600 file are 1000's, a
    // copy of busybox is setuid root.
    let r = Root::new("rl-owners");
    let ok = |o: std::process::Output| {
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        stdout(&o)
    };
    let images = test_images().join("busybox-docker.tar");
    ok(r.out(&["load", "-q", "-i", images.to_str().unwrap()]));
    ok(r.out(&[
        "run",
        "--name",
        "mk",
        "busybox",
        "sh",
        "-c",
        "mkdir -p /home/app && echo secret > /home/app/key && chmod 600 /home/app/key && \
         chown -R 1000:1001 /home/app && cp /bin/busybox /bin/suid && chmod 4755 /bin/suid",
    ]));
    ok(r.out(&["commit", "mk", "owners:1"]));
    let u = User::new("i", true);
    let tar = u.home.join("owners.tar");
    ok(r.out(&["save", "-o", tar.to_str().unwrap(), "owners:1"]));
    std::fs::set_permissions(&tar, std::fs::Permissions::from_mode(0o644)).unwrap();
    drop(r);

    // A refusal made in its namespace comes out as root's would: one
    // line, the same status.
    for (args, code, said) in [
        (vec!["load", "-i", "/nonexistent"], 125, "open /nonexistent"),
        (vec!["pull", "127.0.0.1:1/x:1"], 1, "127.0.0.1:1"),
        (
            vec!["run", "--rm", "127.0.0.1:1/x:1", "true"],
            125,
            "127.0.0.1:1",
        ),
    ] {
        let o = u.out(&args);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {}", stderr(&o));
        // run says first that it pulls (docker's line), then why not.
        let e = stderr(&o);
        let e = e
            .strip_prefix("Unable to find image '127.0.0.1:1/x:1' locally\n")
            .unwrap_or(&e);
        assert!(
            e.starts_with("pocket: ") && e.lines().count() == 1 && e.contains(said),
            "{args:?}: {e}"
        );
    }
    u.ok(&["load", "-q", "-i", tar.to_str().unwrap()]);
    let out = u.ok(&[
        "run",
        "--rm",
        "owners:1",
        "sh",
        "-c",
        "stat -c '%u:%g %a %n' /home/app /home/app/key /bin/suid /etc/passwd",
    ]);
    assert_eq!(
        out,
        "1000:1001 755 /home/app\n1000:1001 600 /home/app/key\n0:0 4755 /bin/suid\n0:0 644 /etc/passwd\n"
    );
    // The app's user reads its own file, and only it.
    let out = u.ok(&[
        "run",
        "--rm",
        "-u",
        "1000",
        "owners:1",
        "cat",
        "/home/app/key",
    ]);
    assert_eq!(out, "secret\n");
    let o = u.out(&[
        "run",
        "--rm",
        "-u",
        "1002",
        "owners:1",
        "cat",
        "/home/app/key",
    ]);
    assert_ne!(o.status.code(), Some(0), "another id read a 0600 file");
    // On the host: root's files are the user's, 1000's its subordinate
    // 1000th.
    let layers = u.state().join("images/layers");
    let found: Vec<(u32, u32)> = std::fs::read_dir(&layers)
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::metadata(e.path().join("home/app/key")).ok())
        .map(|m| (m.uid(), m.gid()))
        .collect();
    assert_eq!(found, vec![(SUB_START + 999, SUB_START + 1000)]);
    // save gives the owners back as the image had them.
    let again = u.home.join("again.tar");
    u.ok(&["save", "-o", again.to_str().unwrap(), "owners:1"]);
    let x = u.home.join("x");
    std::fs::create_dir(&x).unwrap();
    let listing = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "cd {} && tar -xf {} && for l in */layer.tar; do tar -tvf $l; done | grep -E 'home/app/key|bin/suid'",
            x.display(),
            again.display()
        ))
        .output()
        .unwrap();
    let listing = stdout(&listing);
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("-rw------- 1000/1001") && l.ends_with("home/app/key")),
        "{listing}"
    );
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("-rwsr-xr-x 0/0") && l.ends_with("bin/suid")),
        "{listing}"
    );
    // rmi removes the subordinate ids' files too.
    u.ok(&["rmi", "owners:1"]);
    u.ok(&["image", "prune", "-f"]);
    assert_eq!(u.ok(&["images", "-q"]), "");
    assert!(common::snapshot::entries(&layers).is_empty(), "layers left");
}
