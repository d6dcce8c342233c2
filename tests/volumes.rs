//! Volumes: `-v` host binds and named volumes, `--tmpfs`, `--read-only`,
//! `pocket volume ...`, symlinks in the image that try to aim a mount
//! outside the container, and bad specs. Each test runs on its own copy
//! of the busybox rootfs (mount points get created in it) and its own
//! state root.

mod common;
use common::*;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A temp directory of this test's, removed when dropped.
struct Tmp(PathBuf);

impl Tmp {
    fn new(tag: &str) -> Tmp {
        let d = std::env::temp_dir().join(format!("pocket-vol-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        Tmp(d)
    }
    fn p(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }
    fn s(&self, rel: &str) -> String {
        self.p(rel).to_str().unwrap().to_string()
    }
    /// A private copy of the busybox rootfs at `rel`.
    fn rootfs(&self, rel: &str) -> String {
        let dst = self.p(rel);
        let st = Command::new("cp")
            .arg("-a")
            .arg(rootfs())
            .arg(&dst)
            .status()
            .unwrap();
        assert!(st.success(), "cp -a rootfs");
        dst.to_str().unwrap().to_string()
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// `pocket --root R run --rootfs ROOTFS ARGS...`
fn run_in(r: &Root, rootfs: &str, args: &[&str]) -> std::process::Output {
    let mut v = vec!["run", "--rootfs", rootfs];
    v.extend(args);
    r.out(&v)
}

/// `run -d` on `rootfs`; returns the id.
fn run_d_in(r: &Root, rootfs: &str, args: &[&str]) -> String {
    let mut v = vec!["-d"];
    v.extend(args);
    let id = ok(&run_in(r, rootfs, &v)).trim().to_string();
    assert_eq!(id.len(), 64, "{id:?}");
    id
}

fn ok(o: &std::process::Output) -> String {
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(o));
    stdout(o)
}

/// Entries of a directory, sorted (empty if it does not exist).
fn entries(d: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(d)
        .map(|r| {
            r.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn read_only_volume_cannot_be_written() {
    if !root() {
        return;
    }
    let t = Tmp::new("ro");
    let rf = t.rootfs("rootfs");
    fs::create_dir(t.p("h")).unwrap();
    fs::write(t.p("h/f"), "host\n").unwrap();
    let r = Root::new("vol-ro");
    let spec = format!("{}:/data:ro", t.s("h"));
    let o = run_in(
        &r,
        &rf,
        &[
            "-v",
            &spec,
            "sh",
            "-c",
            "cat /data/f; touch /data/new && echo TOUCHED; echo x >> /data/f && echo APPENDED; \
             rm /data/f && echo REMOVED; grep ' /data ' /proc/mounts",
        ],
    );
    let out = ok(&o);
    assert!(out.starts_with("host\n"), "{out}");
    assert!(!out.contains("TOUCHED") && !out.contains("APPENDED") && !out.contains("REMOVED"));
    assert!(
        stderr(&o).contains("Read-only file system"),
        "{}",
        stderr(&o)
    );
    let line = out.lines().find(|l| l.contains(" /data ")).unwrap();
    assert!(
        line.split_whitespace().nth(3).unwrap().starts_with("ro"),
        "{line}"
    );
    assert_eq!(fs::read_to_string(t.p("h/f")).unwrap(), "host\n");
    assert_eq!(entries(&t.p("h")), ["f"]);
}

#[test]
fn read_write_volume_writes_reach_the_host_and_missing_dirs_are_made() {
    if !root() {
        return;
    }
    let t = Tmp::new("rw");
    let rf = t.rootfs("rootfs");
    let r = Root::new("vol-rw");
    // Neither the host dir nor the mount point exists yet: docker makes both.
    let spec = format!("{}:/deep/mount/point:rw", t.s("made/here"));
    let o = run_in(
        &r,
        &rf,
        &[
            "-v",
            &spec,
            "sh",
            "-c",
            "echo from-container > /deep/mount/point/out; mkdir /deep/mount/point/d",
        ],
    );
    ok(&o);
    let made = t.p("made/here");
    assert!(made.is_dir());
    assert_eq!(
        fs::metadata(&made).unwrap().permissions().mode() & 0o777,
        0o755
    );
    assert_eq!(
        fs::read_to_string(made.join("out")).unwrap(),
        "from-container\n"
    );
    assert!(made.join("d").is_dir());
    // The mount point was made inside the rootfs, and is empty there.
    assert!(Path::new(&rf).join("deep/mount/point").is_dir());
    assert!(entries(&Path::new(&rf).join("deep/mount/point")).is_empty());
}

#[test]
fn a_file_bind_gets_a_file_mount_point() {
    if !root() {
        return;
    }
    let t = Tmp::new("file");
    let rf = t.rootfs("rootfs");
    fs::write(t.p("conf"), "setting=1\n").unwrap();
    let r = Root::new("vol-file");
    let ro = format!("{}:/etc/app/app.conf:ro", t.s("conf"));
    let o = run_in(
        &r,
        &rf,
        &[
            "-v",
            &ro,
            "sh",
            "-c",
            "cat /etc/app/app.conf; echo y > /etc/app/app.conf || echo REFUSED",
        ],
    );
    assert_eq!(ok(&o), "setting=1\nREFUSED\n");
    let target = Path::new(&rf).join("etc/app/app.conf");
    let md = fs::symlink_metadata(&target).unwrap();
    assert!(md.is_file() && md.len() == 0, "{md:?}");
    // Read-write: the write lands in the host file.
    let rw = format!("{}:/etc/app/app.conf", t.s("conf"));
    ok(&run_in(
        &r,
        &rf,
        &["-v", &rw, "sh", "-c", "echo setting=2 > /etc/app/app.conf"],
    ));
    assert_eq!(fs::read_to_string(t.p("conf")).unwrap(), "setting=2\n");
    assert_eq!(fs::metadata(&target).unwrap().len(), 0);
}

#[test]
fn named_volume_outlives_its_container_and_is_shared() {
    if !root() {
        return;
    }
    let t = Tmp::new("named");
    let rf = t.rootfs("rootfs");
    let r = Root::new("vol-named");
    ok(&run_in(
        &r,
        &rf,
        &[
            "--name",
            "writer",
            "-v",
            "shared:/v",
            "sh",
            "-c",
            "echo kept > /v/f",
        ],
    ));
    let data = r.0.join("volumes/shared/_data");
    assert_eq!(fs::read_to_string(data.join("f")).unwrap(), "kept\n");
    ok(&r.out(&["rm", "writer"]));
    assert_eq!(fs::read_to_string(data.join("f")).unwrap(), "kept\n");
    assert_eq!(ok(&r.out(&["volume", "ls", "-q"])), "shared\n");
    // A second container sees it, at another path.
    let o = run_in(&r, &rf, &["--rm", "-v", "shared:/w:ro", "cat", "/w/f"]);
    assert_eq!(ok(&o), "kept\n");
    // -v /path alone: a new volume with a random 64-hex name (kept while
    // its container is: --rm would take it along, as docker does).
    ok(&run_in(
        &r,
        &rf,
        &["--name", "anonuser", "-v", "/anon", "touch", "/anon/x"],
    ));
    let names = ok(&r.out(&["volume", "ls", "-q"]));
    let anon: Vec<&str> = names.lines().filter(|n| *n != "shared").collect();
    assert_eq!(anon.len(), 1, "{names}");
    assert!(anon[0].len() == 64 && anon[0].bytes().all(|c| c.is_ascii_hexdigit()));
    assert!(r.0.join(format!("volumes/{}/_data/x", anon[0])).is_file());
}

#[test]
fn volume_rm_is_refused_while_a_container_uses_it() {
    if !root() {
        return;
    }
    let t = Tmp::new("inuse");
    let rf = t.rootfs("rootfs");
    let r = Root::new("vol-inuse");
    ok(&run_in(
        &r,
        &rf,
        &["--name", "user1", "-v", "busy:/v", "true"],
    ));
    // The container has exited, but it still uses the volume.
    let o = r.out(&["volume", "rm", "busy"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("in use"), "{}", stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1);
    assert!(r.0.join("volumes/busy/_data").is_dir());
    ok(&r.out(&["rm", "user1"]));
    assert_eq!(ok(&r.out(&["volume", "rm", "busy"])), "busy\n");
    assert!(!r.0.join("volumes/busy").exists());
    assert_eq!(ok(&r.out(&["volume", "ls", "-q"])), "");
    // As docker: -f does not mind a volume that is not there, but never
    // takes one from under a running container.
    let id = run_d_in(&r, &rf, &["-v", "forced:/v", "sleep", "30"]);
    assert_eq!(r.out(&["volume", "rm", "forced"]).status.code(), Some(1));
    let o = r.out(&["volume", "rm", "-f", "forced", "nothere"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("in use"), "{}", stderr(&o));
    assert!(r.0.join("volumes/forced/_data").is_dir());
    let o = r.out(&["volume", "rm", "nothere"]);
    assert_eq!(o.status.code(), Some(1));
    ok(&r.out(&["rm", "-f", &id]));
    assert_eq!(
        ok(&r.out(&["volume", "rm", "-f", "forced", "nothere"])),
        "forced\n"
    );
    assert!(!r.0.join("volumes/forced").exists());
}

#[test]
fn volume_mounts_stay_in_the_container_and_rm_keeps_the_data() {
    if !root() {
        return;
    }
    let t = Tmp::new("private");
    let rf = t.rootfs("rootfs");
    fs::create_dir(t.p("h")).unwrap();
    fs::write(t.p("h/keep"), "host data\n").unwrap();
    let r = Root::new("vol-private");
    let bind = format!("{}:/h", t.s("h"));
    let id = run_d_in(
        &r,
        &rf,
        &[
            "-v",
            "data:/v",
            "-v",
            &bind,
            "--tmpfs",
            "/t",
            "sh",
            "-c",
            "echo inside > /v/keep; touch /v/ready; sleep 30",
        ],
    );
    let data = r.0.join("volumes/data/_data");
    wait_for(10, "container writes", || {
        data.join("ready").exists().then_some(())
    });
    let pid = r.pid(&id);
    // Mounted in the container's namespace ...
    let inside = fs::read_to_string(format!("/proc/{pid}/mountinfo")).unwrap();
    assert!(inside.contains(" /v ") && inside.contains(" /h ") && inside.contains(" /t "));
    // ... and nowhere in the host's: nothing a removal could descend into.
    let vol = r.0.join("volumes").to_str().unwrap().to_string();
    for l in host_mounts() {
        assert!(!l.contains(&vol) && !l.contains(&t.s("h")), "{l}");
    }
    for l in fs::read_to_string("/proc/self/mountinfo").unwrap().lines() {
        assert!(!l.contains(r.0.to_str().unwrap()), "{l}");
    }
    ok(&r.out(&["rm", "-f", &id]));
    assert!(!r.0.join(format!("containers/{id}")).exists());
    assert_eq!(fs::read_to_string(data.join("keep")).unwrap(), "inside\n");
    assert_eq!(fs::read_to_string(t.p("h/keep")).unwrap(), "host data\n");
}

#[test]
fn tmpfs_is_a_tmpfs_with_its_size_and_docker_defaults() {
    if !root() {
        return;
    }
    let t = Tmp::new("tmpfs");
    let rf = t.rootfs("rootfs");
    let r = Root::new("vol-tmpfs");
    let o = run_in(
        &r,
        &rf,
        &[
            "--tmpfs",
            "/scratch:size=4m,mode=1770",
            "sh",
            "-c",
            "grep ' /scratch ' /proc/mounts; stat -c %a /scratch; \
             dd if=/dev/zero of=/scratch/big bs=1k count=5000 2>/dev/null || echo FULL; \
             du -k /scratch/big | cut -f1; rm /scratch/big; \
             cp /bin/busybox /scratch/busybox && /scratch/busybox true || echo NOEXEC",
        ],
    );
    let out = ok(&o);
    let mut l = out.lines();
    let m: Vec<&str> = l.next().unwrap().split_whitespace().collect();
    assert_eq!(&m[..3], ["tmpfs", "/scratch", "tmpfs"], "{out}");
    for opt in ["rw", "nosuid", "nodev", "noexec", "size=4096k", "mode=1770"] {
        assert!(m[3].split(',').any(|o| o == opt), "{opt} in {}", m[3]);
    }
    assert_eq!(l.next(), Some("1770"));
    assert_eq!(l.next(), Some("FULL"));
    let kb: u64 = l.next().unwrap().parse().unwrap();
    assert!(kb <= 4096, "{kb}");
    assert_eq!(l.next(), Some("NOEXEC"));
    assert!(stderr(&o).contains("Permission denied"), "{}", stderr(&o));
    // exec takes noexec back; a tmpfs leaves nothing in the rootfs but its
    // mount point.
    let o = run_in(
        &r,
        &rf,
        &[
            "--tmpfs",
            "/x:exec",
            "sh",
            "-c",
            "cp /bin/busybox /x/busybox && /x/busybox echo RAN; touch /x/file",
        ],
    );
    assert_eq!(ok(&o), "RAN\n");
    assert!(entries(&Path::new(&rf).join("x")).is_empty());
    // --tmpfs on a standard mount's path replaces it.
    let o = run_in(
        &r,
        &rf,
        &[
            "--tmpfs",
            "/dev/shm:size=1m",
            "grep",
            "/dev/shm",
            "/proc/mounts",
        ],
    );
    let out = ok(&o);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains("size=1024k"), "{out}");
}

#[test]
fn read_only_root_keeps_volumes_writable() {
    if !root() {
        return;
    }
    let t = Tmp::new("rdonly");
    let rf = t.rootfs("rootfs");
    fs::create_dir(t.p("h")).unwrap();
    let r = Root::new("vol-rdonly");
    let bind = format!("{}:/data", t.s("h"));
    let o = run_in(
        &r,
        &rf,
        &[
            "--read-only",
            "-v",
            &bind,
            "-v",
            "nv:/nv",
            "--tmpfs",
            "/run/t",
            "sh",
            "-c",
            "touch /rootfile || echo ROOT-RO; touch /etc/x || echo ETC-RO; \
             echo a > /data/a && echo b > /nv/b && echo c > /run/t/c && echo VOLUMES-RW",
        ],
    );
    assert_eq!(ok(&o), "ROOT-RO\nETC-RO\nVOLUMES-RW\n");
    assert!(!Path::new(&rf).join("rootfile").exists());
    assert_eq!(fs::read_to_string(t.p("h/a")).unwrap(), "a\n");
    assert_eq!(
        fs::read_to_string(r.0.join("volumes/nv/_data/b")).unwrap(),
        "b\n"
    );
}

#[test]
fn symlinks_in_the_image_cannot_aim_a_mount_outside() {
    if !root() {
        return;
    }
    let t = Tmp::new("symlink");
    let rf = t.rootfs("rootfs");
    let rfp = Path::new(&rf);
    symlink("/etc", rfp.join("abs")).unwrap();
    symlink("../../../../etc", rfp.join("rel")).unwrap();
    let marker = format!("pocket-vol-test-{}", std::process::id());
    fs::write(t.p("file"), "payload\n").unwrap();
    fs::create_dir(t.p("dir")).unwrap();
    let r = Root::new("vol-symlink");
    let host_etc = entries(Path::new("/etc"));
    for link in ["abs", "rel"] {
        // A file mount point is made through the link: in the rootfs's etc.
        let f = format!("{}:/{link}/{marker}-f", t.s("file"));
        let d = format!("{}:/{link}/{marker}-d/sub", t.s("dir"));
        let o = run_in(
            &r,
            &rf,
            &[
                "-v",
                &f,
                "-v",
                &d,
                "sh",
                "-c",
                &format!("cat /etc/{marker}-f; echo w > /etc/{marker}-d/sub/w"),
            ],
        );
        assert_eq!(ok(&o), "payload\n", "{link}");
        assert!(rfp.join(format!("etc/{marker}-f")).is_file(), "{link}");
        assert!(rfp.join(format!("etc/{marker}-d/sub")).is_dir(), "{link}");
        assert!(!Path::new("/etc").join(format!("{marker}-f")).exists());
        assert!(!Path::new("/etc").join(format!("{marker}-d")).exists());
        assert_eq!(fs::read_to_string(t.p("dir/w")).unwrap(), "w\n");
        fs::remove_file(t.p("dir/w")).unwrap();
        // A directory volume on the link itself lands on the rootfs's /etc.
        let on = format!("{}:/{link}", t.s("dir"));
        let o = run_in(
            &r,
            &rf,
            &["-v", &on, "sh", "-c", "touch /etc/through && ls /etc"],
        );
        assert_eq!(ok(&o), "through\n", "{link}");
        fs::remove_file(t.p("dir/through")).unwrap();
    }
    assert_eq!(entries(Path::new("/etc")), host_etc);
    // A dangling link is not followed to make its target, on the host or
    // in the rootfs.
    let gone = format!("/nonexistent-{marker}");
    symlink(&gone, rfp.join("dangling")).unwrap();
    let o = run_in(
        &r,
        &rf,
        &["-v", &format!("{}:/dangling", t.s("dir")), "true"],
    );
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    assert!(!Path::new(&gone).exists());
    assert!(!rfp.join(&gone[1..]).exists());
    // Nor aimed at kernel files, nor over the whole root.
    symlink("/proc/sys/kernel", rfp.join("kern")).unwrap();
    symlink("/", rfp.join("top")).unwrap();
    for target in ["/kern", "/top"] {
        let spec = format!("{}:{target}", t.s("dir"));
        let o = run_in(&r, &rf, &["-v", &spec, "true"]);
        assert_eq!(o.status.code(), Some(125), "{target}: {}", stderr(&o));
        assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    }
    assert!(entries(&t.p("dir")).is_empty());
}

#[test]
fn bad_specs_exit_125_and_leave_nothing_behind() {
    if !root() {
        return;
    }
    let t = Tmp::new("bad");
    let rf = t.rootfs("rootfs");
    let before_rootfs = entries(Path::new(&rf));
    let r = Root::new("vol-bad");
    let host = t.s("new-host-dir");
    let good = format!("{host}:/a");
    let cases: Vec<Vec<String>> = [
        vec!["-v", "rel/dir:/x"],
        vec!["-v", "a:/x"],
        vec!["-v", ":/x"],
        vec!["-v", "/h:"],
        vec!["-v", "/h::ro"],
        vec!["-v", "/h:x"],
        vec!["-v", "/h:/"],
        vec!["-v", "/h:/a/../../etc"],
        vec!["-v", "/h:/x:rx"],
        vec!["-v", "/h:/x:ro:y"],
        vec!["-v", "vol:/x", "-v", "/h:/x"],
        vec!["--tmpfs", "rel"],
        vec!["--tmpfs", "/t:size=lots"],
        vec!["--tmpfs", "/t:bogus"],
    ]
    .iter()
    .map(|c| c.iter().map(|s| s.to_string()).collect())
    .collect();
    for c in &cases {
        // A good -v first: it must not be acted on either.
        let mut args = vec![
            "-v".to_string(),
            good.clone(),
            "-v".into(),
            "named1:/n".into(),
        ];
        args.extend(c.iter().cloned());
        args.push("true".into());
        let a: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
        let o = run_in(&r, &rf, &a);
        assert_eq!(o.status.code(), Some(125), "{c:?}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(
            e.starts_with("pocket: ") && e.lines().count() == 1,
            "{c:?}: {e}"
        );
        assert!(!Path::new(&host).exists(), "{c:?}");
        // Nothing but the run directory, empty but for the sealed view's
        // empty second layer on kernels before 6.15 (`run/seal`, made
        // once, before any flag is looked at).
        let left: Vec<String> = entries(&r.0).into_iter().filter(|e| e != "run").collect();
        assert!(left.is_empty(), "{c:?}: {left:?}");
        let run = r.0.join("run");
        let kept: Vec<String> = entries(&run).into_iter().filter(|e| e != "seal").collect();
        assert!(kept.is_empty(), "{c:?}: {kept:?}");
        if run.join("seal").exists() {
            assert!(entries(&run.join("seal")).is_empty(), "{c:?}");
        }
        assert_eq!(entries(Path::new(&rf)), before_rootfs, "{c:?}");
    }
    assert_eq!(ok(&r.out(&["volume", "ls", "-q"])), "");
}

#[test]
fn volume_commands() {
    if !root() {
        return;
    }
    let r = Root::new("vol-cmds");
    assert_eq!(ok(&r.out(&["volume", "create", "v1"])), "v1\n");
    // Creating it again is fine and keeps it.
    fs::write(r.0.join("volumes/v1/_data/f"), "x").unwrap();
    assert_eq!(ok(&r.out(&["volume", "create", "v1"])), "v1\n");
    assert!(r.0.join("volumes/v1/_data/f").exists());
    let anon = ok(&r.out(&["volume", "create"]));
    let anon = anon.trim();
    assert!(anon.len() == 64 && anon.bytes().all(|c| c.is_ascii_hexdigit()));
    let ls = ok(&r.out(&["volume", "ls"]));
    let lines: Vec<Vec<&str>> = ls.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(lines[0], ["DRIVER", "VOLUME", "NAME"]);
    assert!(lines[1..].contains(&vec!["local", "v1"]), "{ls}");
    assert!(lines[1..].contains(&vec!["local", anon]), "{ls}");
    let o = r.out(&["volume", "inspect", "v1"]);
    let j = ok(&o);
    assert!(
        j.trim_start().starts_with('[') && j.trim_end().ends_with(']'),
        "{j}"
    );
    assert!(j.contains("\"Name\": \"v1\""), "{j}");
    assert!(j.contains("\"Driver\": \"local\""), "{j}");
    let mp = format!("\"Mountpoint\": \"{}/volumes/v1/_data\"", r.0.display());
    assert!(j.contains(&mp), "{j}");
    let created = j.split("\"CreatedAt\": \"").nth(1).unwrap();
    assert!(
        created.starts_with("20") && created[..20].ends_with('Z'),
        "{j}"
    );
    let o = r.out(&["volume", "inspect", "v1", "missing"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("\"v1\"") && stderr(&o).contains("missing"));
    for bad in ["a", ".x", "a/b", "-x"] {
        let o = r.out(&["volume", "create", bad]);
        assert_ne!(o.status.code(), Some(0), "{bad}");
        assert!(!r.0.join("volumes").join(bad).exists());
    }
    assert_eq!(
        ok(&r.out(&["volume", "rm", "v1", anon])),
        format!("v1\n{anon}\n")
    );
    assert_eq!(entries(&r.0.join("volumes")), Vec::<String>::new());
    let md = fs::metadata(r.0.join("volumes")).unwrap();
    assert_eq!(md.uid(), 0);
}

#[test]
fn image_container_removal_leaves_volume_data() {
    if !root() {
        return;
    }
    let t = Tmp::new("image");
    let tar = t.s("rootfs.tar");
    let st = Command::new("tar")
        .args(["-C", rootfs().to_str().unwrap(), "-cf", &tar, "."])
        .status()
        .unwrap();
    assert!(st.success());
    let r = Root::new("vol-image");
    ok(&r.out(&["import", &tar, "volimg:1"]));
    fs::create_dir(t.p("h")).unwrap();
    let bind = format!("{}:/data", t.s("h"));
    let o = r.out(&[
        "run",
        "-d",
        "-v",
        "iv:/v",
        "-v",
        &bind,
        "volimg:1",
        "sh",
        "-c",
        "echo v > /v/f; echo h > /data/f; touch /v/ready; sleep 30",
    ]);
    let id = ok(&o).trim().to_string();
    let data = r.0.join("volumes/iv/_data");
    wait_for(10, "container writes", || {
        data.join("ready").exists().then_some(())
    });
    // The overlay and the volumes on it exist only in the container's
    // mount namespace: its directory holds mount points, never data.
    let dir = r.0.join(format!("containers/{id}"));
    for l in host_mounts() {
        assert!(!l.contains(dir.to_str().unwrap()), "{l}");
    }
    ok(&r.out(&["rm", "-f", &id]));
    assert!(!dir.exists());
    assert_eq!(fs::read_to_string(data.join("f")).unwrap(), "v\n");
    assert_eq!(fs::read_to_string(t.p("h/f")).unwrap(), "h\n");
}

#[test]
fn anonymous_volumes_go_with_rm_v_and_with_rm_flag() {
    if !root() {
        return;
    }
    let t = Tmp::new("anon");
    let rf = t.rootfs("rootfs");
    let r = Root::new("vol-anon");
    let anon = || -> Vec<String> {
        ok(&r.out(&["volume", "ls", "-q"]))
            .lines()
            .filter(|l| l.len() == 64)
            .map(String::from)
            .collect()
    };
    // --rm: the container's anonymous volume goes with it, a named one stays.
    ok(&run_in(
        &r,
        &rf,
        &[
            "--rm",
            "-v",
            "/scratch",
            "-v",
            "kept:/k",
            "sh",
            "-c",
            "echo x > /scratch/f",
        ],
    ));
    assert!(anon().is_empty(), "{:?}", anon());
    assert!(r.0.join("volumes/kept/_data").is_dir());
    // Plain rm keeps it; rm -v removes it.
    ok(&run_in(
        &r,
        &rf,
        &["--name", "c1", "-v", "/scratch", "true"],
    ));
    ok(&r.out(&["rm", "c1"]));
    assert_eq!(anon().len(), 1);
    ok(&r.out(&["volume", "rm", &anon()[0]]));
    ok(&run_in(
        &r,
        &rf,
        &["--name", "c2", "-v", "/scratch", "true"],
    ));
    assert_eq!(anon().len(), 1);
    ok(&r.out(&["rm", "-v", "c2"]));
    assert!(anon().is_empty());
}

/// `volume create --label`, inspect's Labels, and `volume ls -f`
/// dangling (no container uses it), name, label.
#[test]
fn volume_labels_and_ls_filters() {
    if !root() {
        return;
    }
    let r = Root::new("vol-filter");
    let out = |args: &[&str]| ok(&r.out(args));
    // -l and --label-file: the file first whatever the order, so the flag
    // wins (docker's rule); "c" alone is an empty value.
    let file = r.0.join("labels");
    std::fs::create_dir_all(&r.0).unwrap();
    std::fs::write(&file, "# volume labels\na=overridden\n\nc\n").unwrap();
    out(&[
        "volume",
        "create",
        "-l",
        "a=b",
        "--label-file",
        file.to_str().unwrap(),
        "vol-labelled",
    ]);
    let o = r.out(&["volume", "create", "-l", "=x", "vol-bad"]);
    assert_eq!(o.status.code(), Some(125));
    assert_eq!(
        out(&["volume", "ls", "-q"]),
        "vol-labelled\n",
        "a bad label made it"
    );
    out(&["volume", "create", "vol-used"]);
    let id = r.run_d(&["-v", "vol-used:/d", "sleep", "30"]);
    let q = |f: &str| out(&["volume", "ls", "-q", "-f", f]);
    assert_eq!(q("label=a=b"), "vol-labelled\n");
    assert_eq!(q("label=c"), "vol-labelled\n");
    assert_eq!(q("label=a=x"), "");
    assert_eq!(q("dangling=true"), "vol-labelled\n");
    assert_eq!(q("dangling=false"), "vol-used\n");
    assert_eq!(q("name=used"), "vol-used\n");
    let doc = out(&["volume", "inspect", "vol-labelled"]);
    assert_eq!(
        labels(&doc),
        vec![
            ("a".to_string(), "b".to_string()),
            ("c".to_string(), "".to_string())
        ],
        "{doc}"
    );
    assert!(labels(&out(&["volume", "inspect", "vol-used"])).is_empty());
    for bad in ["dangling=maybe", "foo=bar", "label="] {
        let o = r.out(&["volume", "ls", "-f", bad]);
        assert_eq!(o.status.code(), Some(125), "{bad}: {o:?}");
    }
    out(&["rm", "-f", &id]);
    out(&["volume", "rm", "vol-labelled", "vol-used"]);
}
