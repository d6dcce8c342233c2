//! `pocket cp`, checked from both sides: what the container sees (exec,
//! start) and what lands on the host, for running and stopped containers,
//! --rootfs and image ones, files, directories and tar streams; and the
//! symlinks a container plants to make a copy read or write the host's
//! files instead of its own.

mod common;
use common::checks::{exec, one_error_line, sh};
use common::*;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn ok(r: &Root, args: &[&str]) -> String {
    let o = r.out(args);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    stdout(&o)
}

/// Failed with `code`, one error line holding `msg`, nothing on stdout.
fn failed(o: &Output, code: i32, msg: &str) {
    assert_eq!(o.status.code(), Some(code), "{}", stderr(o));
    one_error_line(o, msg);
    assert!(stderr(o).starts_with("pocket: cp: "), "{:?}", stderr(o));
    assert!(stderr(o).contains(msg), "{msg:?} not in {:?}", stderr(o));
}

/// A host temp dir of one test, removed on drop.
struct Tmp(PathBuf);

impl Tmp {
    fn new(tag: &str) -> Tmp {
        let d = std::env::temp_dir().join(format!("pocket-cp-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Tmp(d)
    }
    fn p(&self, rel: &str) -> String {
        self.0.join(rel).to_str().unwrap().to_string()
    }
    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.0.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn host_sh(cmd: &str) -> Vec<u8> {
    let o = Command::new("sh").args(["-c", cmd]).output().unwrap();
    assert!(o.status.success(), "{cmd}: {}", stderr(&o));
    o.stdout
}

/// A copy of the test rootfs of `r`'s own: these tests write into their
/// containers' root, which --rootfs shares with the host.
fn private_rootfs(r: &Root) -> String {
    let dir = r.0.join("rootfs");
    if !dir.exists() {
        let st = Command::new("cp")
            .args(["-a", &rootfs_str()])
            .arg(&dir)
            .status()
            .unwrap();
        assert!(st.success());
    }
    dir.to_str().unwrap().to_string()
}

/// A running container NAME on a private rootfs.
fn running(r: &Root, name: &str) {
    let rootfs = private_rootfs(r);
    ok(
        r,
        &[
            "run", "-d", "--name", name, "--rootfs", &rootfs, "sleep", "60",
        ],
    );
}

/// `pocket cp ARGS` with `input` on stdin.
fn cp_stdin(r: &Root, args: &[&str], input: &[u8]) -> Output {
    let mut v = vec!["cp"];
    v.extend(args);
    let mut c = r.cmd(&v);
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut i = child.stdin.take().unwrap();
    let _ = i.write_all(input);
    drop(i);
    child.wait_with_output().unwrap()
}

/// The names in a tar archive, in order.
fn tar_names(tar: &[u8]) -> Vec<String> {
    let mut c = Command::new("tar")
        .args(["-tf", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(tar).unwrap();
    let o = c.wait_with_output().unwrap();
    assert!(o.status.success(), "tar -tf");
    String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

/// A name nothing else on the host uses, for escape checks at "/".
fn unique(tag: &str) -> String {
    format!("pocket-cp-{tag}-{}", std::process::id())
}

/// No temporary name of cp's left in the container's directory `dir`.
fn no_temp(r: &Root, c: &str, dir: &str) {
    let ls = sh(r, c, &format!("ls -a {dir}"));
    assert!(!ls.contains(".pocket-cp-"), "{dir}: {ls}");
}

#[test]
fn files_and_directories_out_to_the_host() {
    if !root() {
        return;
    }
    let r = Root::new("cp-out");
    let t = Tmp::new("out");
    running(&r, "box");
    sh(
        &r,
        "box",
        "echo marker >/etc/marker && mkdir -p /d/sub && echo f >/d/sub/f && echo top >/d/top \
         && chmod 0710 /d/sub && echo own >/own && chown 1234:55 /own",
    );
    // A file into an existing directory, and to a new name.
    ok(&r, &["cp", "box:/etc/marker", &t.p("")]);
    assert_eq!(t.read("marker"), "marker\n");
    ok(&r, &["cp", "box:etc/marker", &t.p("renamed")]);
    assert_eq!(t.read("renamed"), "marker\n");
    // Onto an existing file: replaced.
    std::fs::write(t.0.join("old"), "old contents, longer\n").unwrap();
    ok(&r, &["cp", "box:/etc/marker", &t.p("old")]);
    assert_eq!(t.read("old"), "marker\n");
    // A directory into a directory, to a new name, and its contents.
    ok(&r, &["cp", "box:/d", &t.p("")]);
    assert_eq!(t.read("d/sub/f"), "f\n");
    assert_eq!(t.read("d/top"), "top\n");
    let mode = std::fs::metadata(t.0.join("d/sub")).unwrap().mode() & 0o7777;
    assert_eq!(mode, 0o710);
    ok(&r, &["cp", "box:/d", &t.p("newd")]);
    assert_eq!(t.read("newd/sub/f"), "f\n");
    std::fs::create_dir(t.0.join("into")).unwrap();
    ok(&r, &["cp", "box:/d/.", &t.p("into")]);
    assert_eq!(t.read("into/sub/f"), "f\n");
    assert!(!t.0.join("into/d").exists());
    // Owners: the caller's, unless -a.
    ok(&r, &["cp", "box:/own", &t.p("own0")]);
    let m = std::fs::metadata(t.0.join("own0")).unwrap();
    assert_eq!((m.uid(), m.gid()), (0, 0));
    ok(&r, &["cp", "-a", "box:/own", &t.p("own1")]);
    let m = std::fs::metadata(t.0.join("own1")).unwrap();
    assert_eq!((m.uid(), m.gid()), (1234, 55));
    // Nothing but what was asked for in the host directory.
    let mut names: Vec<_> = std::fs::read_dir(&t.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "d", "into", "marker", "newd", "old", "own0", "own1", "renamed"
        ]
    );
}

fn getxattr(path: &std::path::Path, name: &str) -> Option<Vec<u8>> {
    let p = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    let n = std::ffi::CString::new(name).unwrap();
    let mut buf = [0u8; 256];
    // SAFETY: valid strings and buffer.
    let r = unsafe { libc::getxattr(p.as_ptr(), n.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    (r >= 0).then(|| buf[..r as usize].to_vec())
}

fn setxattr(path: &std::path::Path, name: &str, value: &[u8]) {
    let p = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    let n = std::ffi::CString::new(name).unwrap();
    // SAFETY: valid strings and buffer.
    let r = unsafe {
        libc::setxattr(
            p.as_ptr(),
            n.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    assert_eq!(r, 0, "setxattr {name}: {}", std::io::Error::last_os_error());
}

/// A container's files carry no privilege out without -a: a file
/// capability (cap_setuid+ep, which the container's root may set) on a
/// root-owned host file would make it a way to root for any user, as a
/// setuid bit would.
#[test]
fn file_capabilities_stay_behind_without_archive() {
    if !root() {
        return;
    }
    let r = Root::new("cp-caps");
    let t = Tmp::new("caps");
    running(&r, "box");
    let dir = r.0.join("rootfs/xd");
    std::fs::create_dir_all(&dir).unwrap();
    let tool = dir.join("tool");
    std::fs::write(&tool, "#!/bin/sh\n").unwrap();
    // struct vfs_cap_data, revision 2, effective: permitted CAP_SETUID.
    let mut cap = vec![];
    for w in [0x0200_0001u32, 1 << 7, 0, 0, 0] {
        cap.extend_from_slice(&w.to_le_bytes());
    }
    setxattr(&tool, "security.capability", &cap);
    setxattr(&tool, "user.note", b"kept");
    ok(&r, &["cp", "box:/xd", &t.p("plain")]);
    let got = t.0.join("plain/tool");
    assert_eq!(
        getxattr(&got, "security.capability"),
        None,
        "a file capability came out"
    );
    assert_eq!(getxattr(&got, "user.note").as_deref(), Some(&b"kept"[..]));
    // -a: as the container has it.
    ok(&r, &["cp", "-a", "box:/xd", &t.p("archive")]);
    let got = t.0.join("archive/tool");
    assert_eq!(getxattr(&got, "security.capability"), Some(cap.clone()));
    assert_eq!(getxattr(&got, "user.note").as_deref(), Some(&b"kept"[..]));
    // Into the container, as docker: all of them (it could set them).
    ok(&r, &["cp", &t.p("archive"), "box:/back"]);
    let inside = r.0.join("rootfs/back/tool");
    assert_eq!(getxattr(&inside, "security.capability"), Some(cap));
}

#[test]
fn tar_streams_out_on_stdout() {
    if !root() {
        return;
    }
    let r = Root::new("cp-stream");
    running(&r, "box");
    sh(
        &r,
        "box",
        "echo h >/etc/hostname2 && mkdir -p /d/sub && echo f >/d/sub/f && ln /d/sub/f /d/hard",
    );
    let o = r.out(&["cp", "box:/etc/hostname2", "-"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(tar_names(&o.stdout), ["hostname2"]);
    let o = r.out(&["cp", "box:/d", "-"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(tar_names(&o.stdout), ["d/", "d/hard", "d/sub/", "d/sub/f"]);
    // GNU tar extracts it, the hard link included.
    let t = Tmp::new("stream");
    std::fs::write(t.0.join("d.tar"), &o.stdout).unwrap();
    host_sh(&format!("tar -C {} -xf {}", t.p(""), t.p("d.tar")));
    assert_eq!(t.read("d/sub/f"), "f\n");
    assert_eq!(t.read("d/hard"), "f\n");
    let o = r.out(&["cp", "box:/d/.", "-"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(tar_names(&o.stdout), ["hard", "sub/", "sub/f"]);
}

/// Out of a running container, what its processes see: a volume's
/// files, a tmpfs's, its /etc/hostname (all were "Could not find the
/// file" or an empty file: cp read the image's layers only). A copy of
/// "/" stops at the mounts below it: /proc's and the volume's files are
/// not in it. Stopped, its volumes and binds are mounted for the copy, as
/// docker's (its tmpfs is gone), in a namespace of pocket's own: the
/// host's mounts are as before.
#[test]
fn out_of_a_running_container_through_its_mounts() {
    if !root() {
        return;
    }
    let r = Root::new("cp-mounts");
    let t = Tmp::new("mounts");
    std::fs::create_dir(t.0.join("vol")).unwrap();
    std::fs::write(t.0.join("vol/f"), "in the volume\n").unwrap();
    let rootfs = private_rootfs(&r);
    let vol = format!("{}:/data", t.p("vol"));
    ok(
        &r,
        &[
            "run",
            "-d",
            "--name",
            "box",
            "-h",
            "boxhost",
            "-v",
            &vol,
            "-v",
            "cpnamed:/named",
            "--tmpfs",
            "/scratch",
            "--rootfs",
            &rootfs,
            "sleep",
            "60",
        ],
    );
    sh(&r, "box", "echo on tmpfs >/scratch/t; echo named >/named/n");
    ok(&r, &["cp", "box:/data/f", &t.p("f")]);
    assert_eq!(t.read("f"), "in the volume\n");
    ok(&r, &["cp", "box:/scratch", &t.p("scratch")]);
    assert_eq!(t.read("scratch/t"), "on tmpfs\n");
    ok(&r, &["cp", "box:/etc/hostname", &t.p("hostname")]);
    assert_eq!(t.read("hostname"), "boxhost\n");
    let o = r.out(&["cp", "box:/", "-"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let names = tar_names(&o.stdout);
    for want in ["proc/", "data/", "etc/hostname", "bin/busybox"] {
        assert!(names.iter().any(|n| n == want), "{want} not in {names:?}");
    }
    for n in &names {
        assert!(
            !n.starts_with("proc/1") && !n.starts_with("data/f") && !n.starts_with("sys/k"),
            "{n}: a copy of / went below a mount"
        );
    }
    ok(&r, &["stop", "-t", "0", "box"]);
    let before = host_mounts();
    ok(&r, &["cp", "box:/data/f", &t.p("f2")]);
    assert_eq!(t.read("f2"), "in the volume\n");
    ok(&r, &["cp", "box:/named", &t.p("named")]);
    assert_eq!(t.read("named/n"), "named\n");
    ok(&r, &["cp", "box:/etc/hostname", &t.p("hostname2")]);
    assert_eq!(t.read("hostname2"), "boxhost\n");
    let o = r.out(&["cp", "box:/scratch/t", &t.p("t2")]);
    failed(&o, 1, "Could not find the file /scratch/t in container box");
    let o = r.out(&["cp", "box:/", "-"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let names = tar_names(&o.stdout);
    assert!(names.iter().any(|n| n == "data/"), "{names:?}");
    assert!(!names.iter().any(|n| n.starts_with("data/f")), "{names:?}");
    assert_eq!(host_mounts(), before);
    ok(&r, &["rm", "-v", "box"]);
}

#[test]
fn files_and_directories_into_a_running_container() {
    if !root() {
        return;
    }
    let r = Root::new("cp-in");
    let t = Tmp::new("in");
    running(&r, "box");
    std::fs::write(t.0.join("hf"), "from the host\n").unwrap();
    std::fs::create_dir_all(t.0.join("hd/sub")).unwrap();
    std::fs::write(t.0.join("hd/sub/f"), "deep\n").unwrap();
    std::os::unix::fs::symlink("sub/f", t.0.join("hd/link")).unwrap();
    host_sh(&format!("chown -R 1234:55 {}", t.p("hd")));
    ok(&r, &["cp", &t.p("hf"), "box:/tmp/"]);
    assert_eq!(sh(&r, "box", "cat /tmp/hf"), "from the host\n");
    ok(&r, &["cp", &t.p("hf"), "box:/etc/renamed"]);
    assert_eq!(sh(&r, "box", "cat /etc/renamed"), "from the host\n");
    // A directory: to a new name, into a directory, owned by root
    // without -a, by the source's ids with it; symlinks stay links.
    ok(&r, &["cp", &t.p("hd"), "box:/newd"]);
    assert_eq!(sh(&r, "box", "cat /newd/sub/f"), "deep\n");
    assert_eq!(
        sh(&r, "box", "stat -c %u:%g /newd /newd/sub/f"),
        "0:0\n0:0\n"
    );
    assert_eq!(sh(&r, "box", "readlink /newd/link"), "sub/f\n");
    ok(&r, &["cp", "-a", &t.p("hd"), "box:/tmp"]);
    assert_eq!(sh(&r, "box", "cat /tmp/hd/sub/f"), "deep\n");
    let ids = sh(&r, "box", "stat -c %u:%g /tmp/hd /tmp/hd/sub/f");
    assert_eq!(ids, "1234:55\n1234:55\n");
    no_temp(&r, "box", "/");
    no_temp(&r, "box", "/tmp");
}

/// Into a stopped container's volume or bind, as docker's: the file
/// lands in the volume, where the container sees it when it starts (it
/// went to the upper dir under the mount point before, hidden); a mount
/// point the container never made is made; a read-only bind refuses;
/// the host's mounts are as before.
#[test]
fn into_a_stopped_containers_volumes() {
    if !root() {
        return;
    }
    let r = Root::new("cp-in-vol");
    let t = Tmp::new("in-vol");
    std::fs::write(t.0.join("hf"), "into the volume\n").unwrap();
    std::fs::create_dir(t.0.join("bind")).unwrap();
    std::fs::create_dir(t.0.join("ro")).unwrap();
    let rootfs = private_rootfs(&r);
    let bind = format!("{}:/new/bind", t.p("bind"));
    let ro = format!("{}:/ro:ro", t.p("ro"));
    ok(
        &r,
        &[
            "create",
            "--name",
            "cv",
            "-v",
            "cpvol:/vol",
            "-v",
            &bind,
            "-v",
            &ro,
            "--rootfs",
            &rootfs,
            "cat",
            "/vol/hf",
            "/new/bind/hf",
        ],
    );
    let before = host_mounts();
    ok(&r, &["cp", &t.p("hf"), "cv:/vol/"]);
    ok(&r, &["cp", &t.p("hf"), "cv:/new/bind/hf"]);
    assert_eq!(t.read("bind/hf"), "into the volume\n");
    let o = r.out(&["cp", &t.p("hf"), "cv:/ro/hf"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    one_error_line(&o, "Read-only file system");
    assert!(!t.0.join("ro/hf").exists());
    assert_eq!(host_mounts(), before);
    assert!(
        !Path::new(&rootfs).join("vol/hf").exists(),
        "under the mount point"
    );
    let o = r.out(&["start", "-a", "cv"]);
    assert_eq!(
        stdout(&o),
        "into the volume\ninto the volume\n",
        "{}",
        stderr(&o)
    );
    // A mount point turned into a file while stopped: that bind is left
    // out, the others still mounted.
    let point = Path::new(&rootfs).join("new/bind");
    std::fs::remove_dir(&point).unwrap();
    std::fs::write(&point, "a file now\n").unwrap();
    ok(&r, &["cp", "cv:/new/bind", &t.p("point")]);
    assert_eq!(t.read("point"), "a file now\n");
    ok(&r, &["cp", "cv:/vol/hf", &t.p("again")]);
    assert_eq!(t.read("again"), "into the volume\n");
    ok(&r, &["rm", "-v", "cv"]);
}

#[test]
fn into_stopped_containers_rootfs_and_image() {
    if !root() {
        return;
    }
    let r = Root::new("cp-stopped");
    let t = Tmp::new("stopped");
    std::fs::write(t.0.join("hf"), "copied while stopped\n").unwrap();
    std::fs::create_dir_all(t.0.join("etc")).unwrap();
    std::fs::write(t.0.join("etc/extra"), "merged\n").unwrap();
    // --rootfs: written into its directory.
    let rootfs = private_rootfs(&r);
    ok(
        &r,
        &[
            "create", "--name", "plain", "--rootfs", &rootfs, "cat", "/x",
        ],
    );
    ok(&r, &["cp", &t.p("hf"), "plain:/x"]);
    assert_eq!(ok(&r, &["start", "-a", "plain"]), "copied while stopped\n");
    assert!(Path::new(&rootfs).join("x").exists());
    // An image container, never started: its upper dir over the image.
    let tar = t.p("rootfs.tar");
    host_sh(&format!("tar -C {} -cf {tar} .", rootfs_str()));
    ok(&r, &["import", &tar, "bb"]);
    let script = "cat /x /etc/extra && ls /etc/passwd && cat /etc/group";
    ok(&r, &["create", "--name", "img", "bb", "sh", "-c", script]);
    ok(&r, &["cp", &t.p("hf"), "img:/x"]);
    // /etc is the image's: merged, not replaced; a file of the image
    // replaced by a copy.
    ok(&r, &["cp", &t.p("etc"), "img:/"]);
    ok(&r, &["cp", &t.p("hf"), "img:/etc/group"]);
    let out = ok(&r, &["start", "-a", "img"]);
    assert_eq!(
        out,
        "copied while stopped\nmerged\n/etc/passwd\ncopied while stopped\n"
    );
    // And back out of the stopped container.
    ok(&r, &["cp", "img:/etc/extra", &t.p("back")]);
    assert_eq!(t.read("back"), "merged\n");
    // A volume of an image container (its overlay, made for the copy,
    // with the volume on it): in, seen by the container, and back out.
    ok(
        &r,
        &[
            "create",
            "--name",
            "imgv",
            "-v",
            "cpimgvol:/vol",
            "bb",
            "cat",
            "/vol/x",
        ],
    );
    ok(&r, &["cp", &t.p("hf"), "imgv:/vol/x"]);
    assert_eq!(ok(&r, &["start", "-a", "imgv"]), "copied while stopped\n");
    ok(&r, &["cp", "imgv:/vol/x", &t.p("back2")]);
    assert_eq!(t.read("back2"), "copied while stopped\n");
    ok(&r, &["rm", "-v", "imgv"]);
}

#[test]
fn a_tar_stream_from_stdin() {
    if !root() {
        return;
    }
    let r = Root::new("cp-stdin");
    let t = Tmp::new("stdin");
    running(&r, "box");
    std::fs::create_dir_all(t.0.join("src/a")).unwrap();
    std::fs::write(t.0.join("src/a/f"), "in a tar\n").unwrap();
    let tar = host_sh(&format!("tar -C {} -cf - .", t.p("src")));
    let o = cp_stdin(&r, &["-", "box:/tmp"], &tar);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(sh(&r, "box", "cat /tmp/a/f"), "in a tar\n");
    // The destination must be a directory.
    let o = cp_stdin(&r, &["-", "box:/tmp/a/f"], &tar);
    failed(&o, 1, "must be a directory");
    let o = cp_stdin(&r, &["-", "box:/tmp"], b"not a tar archive at all");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    one_error_line(&o, "garbage");
}

#[test]
fn symlinks_in_the_container_stay_in_it() {
    if !root() {
        return;
    }
    let r = Root::new("cp-links");
    let t = Tmp::new("links");
    running(&r, "box");
    let escape = unique("escape");
    let motd = std::fs::read_to_string("/etc/motd").unwrap_or_default();
    sh(
        &r,
        "box",
        "echo container-shadow >/etc/shadow && echo container-motd >/etc/motd \
         && ln -s / /evil && ln -s ../../../../../etc /evil2 && ln -s /etc/dangling /evil3",
    );
    // Reading through them: the container's files, never the host's.
    ok(&r, &["cp", "box:/evil/etc/shadow", &t.p("shadow")]);
    assert_eq!(t.read("shadow"), "container-shadow\n");
    ok(&r, &["cp", "box:/evil2/motd", &t.p("motd")]);
    assert_eq!(t.read("motd"), "container-motd\n");
    assert_ne!(t.read("motd"), motd);
    ok(&r, &["cp", "-L", "box:/evil2", &t.p("etc")]);
    assert_eq!(t.read("etc/shadow"), "container-shadow\n");
    // Writing through them: below the container's root.
    std::fs::write(t.0.join("hf"), "planted\n").unwrap();
    for (c, seen) in [
        (format!("box:/evil/{escape}"), format!("/{escape}")),
        (format!("box:/evil2/{escape}"), format!("/etc/{escape}")),
        (
            format!("box:/evil/../../../{escape}-2"),
            format!("/{escape}-2"),
        ),
    ] {
        ok(&r, &["cp", &t.p("hf"), &c]);
        assert_eq!(sh(&r, "box", &format!("cat {seen}")), "planted\n", "{c}");
        assert!(!Path::new(&seen).exists(), "{c} reached the host's {seen}");
    }
    // A dangling link as the destination: its target, in the container.
    ok(&r, &["cp", &t.p("hf"), "box:/evil3"]);
    assert_eq!(sh(&r, "box", "cat /etc/dangling"), "planted\n");
    assert!(!Path::new("/etc/dangling").exists());
    // A directory copied in through a link: inside too.
    std::fs::create_dir_all(t.0.join(format!("hd/{escape}-dir"))).unwrap();
    ok(&r, &["cp", &t.p(&format!("hd/{escape}-dir")), "box:/evil/"]);
    sh(&r, "box", &format!("test -d /{escape}-dir"));
    assert!(!Path::new(&format!("/{escape}-dir")).exists());
    // A tar entry below the link (no entry for the link's name first):
    // refused, never followed.
    std::fs::create_dir_all(t.0.join("tarsrc/evil")).unwrap();
    std::fs::write(t.0.join(format!("tarsrc/evil/{escape}-tar")), "x").unwrap();
    let tar = host_sh(&format!("tar -C {} -cf - evil/{escape}-tar", t.p("tarsrc")));
    let o = cp_stdin(&r, &["-", "box:/"], &tar);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    one_error_line(&o, "tar through a symlink");
    assert!(!Path::new(&format!("/{escape}-tar")).exists());
    let o = exec(&r, "box", &["test", "-e", &format!("/{escape}-tar")]);
    assert_eq!(o.status.code(), Some(1));
    // The same into a stopped container (written without its processes).
    ok(&r, &["stop", "-t", "0", "box"]);
    ok(
        &r,
        &["cp", &t.p("hf"), &format!("box:/evil/{escape}-stopped")],
    );
    assert!(!Path::new(&format!("/{escape}-stopped")).exists());
    let rootfs = PathBuf::from(private_rootfs(&r));
    let landed = std::fs::read_to_string(rootfs.join(format!("{escape}-stopped"))).unwrap();
    assert_eq!(landed, "planted\n");
    // A tar with the link's name as a directory: the link is replaced
    // by that directory (as docker's extraction does), still inside.
    let tar = host_sh(&format!("tar -C {} -cf - evil", t.p("tarsrc")));
    let o = cp_stdin(&r, &["-", "box:/"], &tar);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!Path::new(&format!("/{escape}-tar")).exists());
    assert!(rootfs.join(format!("evil/{escape}-tar")).is_file());
}

#[test]
fn a_symlink_source_is_copied_as_a_link_unless_follow() {
    if !root() {
        return;
    }
    let r = Root::new("cp-follow");
    let t = Tmp::new("follow");
    running(&r, "box");
    sh(
        &r,
        "box",
        "echo target >/etc/target && ln -s target /etc/lnk",
    );
    ok(&r, &["cp", "box:/etc/lnk", &t.p("as-link")]);
    let l = std::fs::symlink_metadata(t.0.join("as-link")).unwrap();
    assert!(l.file_type().is_symlink());
    assert_eq!(
        std::fs::read_link(t.0.join("as-link")).unwrap(),
        Path::new("target")
    );
    ok(&r, &["cp", "-L", "box:/etc/lnk", &t.p("followed")]);
    let l = std::fs::symlink_metadata(t.0.join("followed")).unwrap();
    assert!(l.file_type().is_file());
    assert_eq!(t.read("followed"), "target\n");
    // And host to container.
    std::fs::write(t.0.join("real"), "real\n").unwrap();
    std::os::unix::fs::symlink("real", t.0.join("hl")).unwrap();
    ok(&r, &["cp", &t.p("hl"), "box:/tmp/"]);
    assert_eq!(sh(&r, "box", "readlink /tmp/hl"), "real\n");
    ok(&r, &["cp", "--follow-link", &t.p("hl"), "box:/tmp/hl2"]);
    assert_eq!(sh(&r, "box", "test -L /tmp/hl2 || cat /tmp/hl2"), "real\n");
}

#[test]
fn errors_are_one_line_with_docker_exit_codes() {
    if !root() {
        return;
    }
    let r = Root::new("cp-errors");
    let t = Tmp::new("errors");
    running(&r, "box");
    let o = r.out(&["cp", "box:/no/such/file", &t.p("x")]);
    failed(
        &o,
        1,
        "Could not find the file /no/such/file in container box",
    );
    let o = r.out(&["cp", "nosuch:/etc/passwd", &t.p("x")]);
    failed(&o, 1, "no such container");
    let o = r.out(&["cp", &t.p("missing"), "box:/tmp"]);
    failed(&o, 1, "No such file or directory");
    // Usage: no container, two containers, one argument.
    let o = r.out(&["cp", "a", "b"]);
    failed(&o, 125, "must specify at least one container source");
    let o = r.out(&["cp", "box:/a", "box:/b"]);
    failed(&o, 125, "copying between containers is not supported");
    let o = r.out(&["cp", "box:/a"]);
    failed(&o, 125, "exactly 2 arguments");
    // docker's table: a directory onto a file, a file into a missing dir.
    std::fs::write(t.0.join("file"), "x").unwrap();
    let o = r.out(&["cp", "box:/etc", &t.p("file")]);
    failed(&o, 1, "cannot copy a directory to a file");
    let o = r.out(&["cp", "box:/etc/passwd", &format!("{}/", t.p("nodir"))]);
    failed(&o, 1, "no such directory");
    assert!(!t.0.join("nodir").exists());
    // A copy that fails halfway (a device node is refused) leaves nothing:
    // no half directory, no temporary name.
    std::fs::create_dir_all(t.0.join("hd")).unwrap();
    std::fs::write(t.0.join("hd/a"), "a").unwrap();
    host_sh(&format!("mknod {} c 1 3", t.p("hd/zz")));
    let o = r.out(&["cp", &t.p("hd"), "box:/"]);
    failed(&o, 1, "device node refused");
    no_temp(&r, "box", "/");
    assert_eq!(
        exec(&r, "box", &["test", "-e", "/hd"]).status.code(),
        Some(1)
    );
    let before: Vec<_> = std::fs::read_dir(&t.0).unwrap().collect();
    let cd = PathBuf::from(private_rootfs(&r)).join("cd");
    std::fs::create_dir(&cd).unwrap();
    host_sh(&format!("mknod {}/zz c 1 3", cd.display()));
    let o = r.out(&["cp", "box:/cd", &t.p("")]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let after: Vec<_> = std::fs::read_dir(&t.0).unwrap().collect();
    assert_eq!(before.len(), after.len(), "{after:?}");
}
