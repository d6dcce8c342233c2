//! Images made by buildah, skopeo and umoci (scripts/mkimages.sh): loaded
//! from every format they write, run on overlayfs, with docker's
//! Entrypoint/Cmd/Env/WorkingDir/User semantics, and removed again.

mod common;
use common::*;

use std::process::{Command, Stdio};

fn img(name: &str) -> String {
    test_images().join(name).to_str().unwrap().to_string()
}

fn ok(r: &Root, args: &[&str]) -> String {
    let o = r.out(args);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    stdout(&o)
}

fn layer_dirs(r: &Root) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(r.0.join("images/layers"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn tmp_empty(r: &Root) -> bool {
    std::fs::read_dir(r.0.join("images/tmp")).map_or(true, |mut d| d.next().is_none())
}

#[test]
fn docker_archive_from_buildah_runs_with_its_config() {
    if !root() {
        return;
    }
    let r = Root::new("img-docker");
    let out = ok(&r, &["load", "-i", &img("busybox-docker.tar")]);
    assert_eq!(out.trim(), "Loaded image: busybox:latest");
    let list = ok(&r, &["images"]);
    assert!(list.starts_with("REPOSITORY"), "{list}");
    let line = list
        .lines()
        .find(|l| l.starts_with("busybox "))
        .expect(&list);
    assert!(line.split_whitespace().nth(1) == Some("latest"), "{line}");
    assert!(line.contains("MB"), "{line}");
    // Cmd, Env and WorkingDir from the image.
    assert_eq!(
        ok(&r, &["run", "--rm", "busybox"]).trim(),
        "hello from /srv/app"
    );
    // -e over the image's Env; -w over its WorkingDir.
    let o = ok(
        &r,
        &[
            "run",
            "--rm",
            "-e",
            "GREETING=hi",
            "-w",
            "/tmp",
            "busybox",
            "sh",
            "-c",
            "echo $GREETING $(pwd) $PATH",
        ],
    );
    assert_eq!(o.trim(), "hi /tmp /usr/sbin:/usr/bin:/sbin:/bin");
    let ins = ok(&r, &["image", "inspect", "busybox"]);
    for want in [
        "\"8080/tcp\"",
        "\"org.example.test\": \"yes\"",
        "\"WorkingDir\": \"/srv/app\"",
        "\"RepoTags\"",
    ] {
        assert!(ins.contains(want), "{want} in {ins}");
    }
}

/// Names with a '/' are images (docker's reference grammar), run by
/// name; only a path (/..., ./..., ../...) is a rootfs directory, even
/// where a directory of the same relative name exists.
#[test]
fn references_with_a_slash_run_and_paths_are_directories() {
    if !root() {
        return;
    }
    let r = Root::new("img-refs");
    ok(&r, &["load", "-i", &img("busybox-docker.tar")]);
    for name in [
        "localhost/peer/busybox:latest",
        "ghcr.io/org/app:1",
        "org/app",
    ] {
        ok(&r, &["tag", "busybox", name]);
    }
    for (q, tagged) in [
        ("localhost/peer/busybox:latest", "localhost/peer/busybox"),
        ("localhost/peer/busybox", "localhost/peer/busybox"),
        ("ghcr.io/org/app:1", "ghcr.io/org/app"),
        ("docker.io/org/app:latest", "org/app"),
        ("docker.io/library/busybox", "busybox"),
        ("index.docker.io/library/busybox:latest", "busybox"),
    ] {
        assert_eq!(
            ok(&r, &["run", "--rm", q, "echo", "in", q]).trim(),
            format!("in {q}")
        );
        let list = ok(&r, &["images"]);
        assert!(
            list.lines()
                .any(|l| l.split_whitespace().next() == Some(tagged)),
            "{tagged} in {list}"
        );
    }
    // A directory named like a reference, in the working directory.
    let cwd = r.0.join("cwd");
    std::fs::create_dir_all(cwd.join("some")).unwrap();
    std::os::unix::fs::symlink(rootfs(), cwd.join("some/dir")).unwrap();
    let o = r
        .cmd(&["run", "--rm", "--pull", "never", "some/dir", "true"])
        .current_dir(&cwd)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(125), "{o:?}");
    assert_eq!(
        stderr(&o),
        "pocket: no such image some/dir: not found (pocket import or pocket load it first)\n"
    );
    // (and by default it is pulled, as docker would: docker.io/some/dir)
    let o = r
        .cmd(&["run", "--rm", "some/dir", "true"])
        .current_dir(&cwd)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(125), "{o:?}");
    assert!(
        stderr(&o).starts_with("Unable to find image 'some/dir:latest' locally\n"),
        "{o:?}"
    );
    let o = r
        .cmd(&["run", "--rm", "./some/dir", "echo", "dir"])
        .current_dir(&cwd)
        .output()
        .unwrap();
    assert_eq!(
        (o.status.code(), stdout(&o).as_str()),
        (Some(0), "dir\n"),
        "{o:?}"
    );
    // Invalid references: docker's words, one line, 125.
    for (q, why) in [
        (
            "Busybox",
            "invalid reference format: repository name (library/Busybox) must be lowercase",
        ),
        ("a//b", "invalid reference format"),
        ("busybox:a:b", "invalid reference format"),
    ] {
        let o = r.out(&["run", "--rm", q, "true"]);
        assert_eq!(o.status.code(), Some(125), "{q}: {o:?}");
        assert_eq!(stderr(&o), format!("pocket: {why}\n"), "{q}");
    }
    let o = r.out(&["tag", "busybox", "Up"]);
    assert_eq!(o.status.code(), Some(125), "{o:?}");
}

#[test]
fn oci_archive_and_gzip_layout_share_one_layer() {
    if !root() {
        return;
    }
    let r = Root::new("img-oci");
    let out = ok(&r, &["load", "-i", &img("busybox-oci.tar")]);
    let id = out
        .trim()
        .strip_prefix("Loaded image ID: sha256:")
        .expect(&out)
        .to_string();
    assert_eq!(id.len(), 64);
    // The same image through skopeo's gzip layout (from stdin as a dir
    // cannot be: -i DIR).
    let out = ok(&r, &["load", "-i", &img("busybox-oci")]);
    assert_eq!(out.trim(), "Loaded image: busybox:gz");
    assert_eq!(layer_dirs(&r).len(), 1, "one layer, stored once");
    assert_eq!(
        ok(&r, &["run", "--rm", &id[..12]]).trim(),
        "hello from /srv/app"
    );
    assert_eq!(
        ok(
            &r,
            &["run", "--rm", "busybox:gz", "cat", "/srv/app/hello.txt"]
        )
        .trim(),
        "from the image"
    );
    // stdin, through a pipe.
    let r2 = Root::new("img-oci-stdin");
    let f = std::fs::File::open(img("busybox-oci.tar")).unwrap();
    let mut c = r2.cmd(&["load"]);
    c.stdin(Stdio::from(f));
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let cat = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "cat {} | {} --root {} load -q",
            img("busybox-oci.tar"),
            bin().display(),
            r2.0.display()
        ))
        .output()
        .unwrap();
    assert_eq!(cat.status.code(), Some(0), "{}", stderr(&cat));
    assert!(stdout(&cat).contains(&id), "{}", stdout(&cat));
    assert!(tmp_empty(&r2));
}

#[test]
fn umoci_whiteouts_hide_lower_files_and_layers_stay_untouched() {
    if !root() {
        return;
    }
    let r = Root::new("img-layers");
    ok(&r, &["load", "-i", &img("layered-oci")]);
    let o = ok(
        &r,
        &[
            "run",
            "--rm",
            "layered:latest",
            "sh",
            "-c",
            "ls /bin/vi 2>&1; ls /srv/app; cat /etc/motd",
        ],
    );
    assert!(o.contains("No such file"), "{o}");
    assert!(o.contains("only.txt") && !o.contains("hello.txt"), "{o}");
    assert!(o.contains("layered"), "{o}");
    let before = layer_dirs(&r);
    assert_eq!(before.len(), 2);
    // The container writes and deletes; the image must not change.
    let o = r.out(&[
        "run",
        "--name",
        "wr",
        "layered",
        "sh",
        "-c",
        "echo changed > /etc/motd; rm /bin/ls; echo new > /root/n",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = ok(
        &r,
        &[
            "run",
            "--rm",
            "layered",
            "sh",
            "-c",
            "cat /etc/motd; ls /bin/ls; ls /root",
        ],
    );
    assert_eq!(o.trim(), "layered\n/bin/ls");
    let lower_ls = |l: &String| r.0.join("images/layers").join(l).join("bin/ls");
    assert!(
        before
            .iter()
            .any(|l| std::fs::symlink_metadata(lower_ls(l)).is_ok())
    );
    assert_eq!(layer_dirs(&r), before);
    // The container's changes are in its own upper dir only.
    let id = ok(&r, &["ps", "-aq", "--no-trunc"]).trim().to_string();
    let upper = r.0.join("containers").join(&id).join("upper");
    assert_eq!(
        std::fs::read_to_string(upper.join("etc/motd")).unwrap(),
        "changed\n"
    );
    let ins = ok(&r, &["inspect", &id]);
    assert!(
        ins.contains(&format!("\"UpperDir\": \"{}\"", upper.display())),
        "{ins}"
    );
    // The overlay lived in the container's mount namespace only.
    assert!(
        !host_mounts()
            .iter()
            .any(|m| m.contains(r.0.to_str().unwrap()))
    );
    assert!(
        std::fs::read_dir(r.0.join("containers").join(&id).join("rootfs"))
            .unwrap()
            .next()
            .is_none()
    );
    ok(&r, &["rm", "wr"]);
    assert!(
        !r.0.join("containers").join(&id).exists(),
        "rm removes upper/work"
    );
}

#[test]
fn entrypoint_cmd_and_user_from_the_image() {
    if !root() {
        return;
    }
    let r = Root::new("img-user");
    ok(&r, &["load", "-i", &img("user-docker.tar")]);
    assert_eq!(
        ok(&r, &["run", "--rm", "withuser:1"]).trim(),
        "ep: default args"
    );
    assert_eq!(
        ok(&r, &["run", "--rm", "withuser:1", "a", "b"]).trim(),
        "ep: a b"
    );
    let o = ok(&r, &["run", "--rm", "--entrypoint", "id", "withuser:1"]);
    assert_eq!(o.trim(), "uid=65534(nobody) gid=65534(nogroup)");
    let o = ok(
        &r,
        &["run", "--rm", "-u", "0", "--entrypoint", "id", "withuser:1"],
    );
    assert!(o.starts_with("uid=0(root) gid=0(root)"), "{o}");
    let o = ok(
        &r,
        &[
            "run",
            "--rm",
            "-u",
            "1234:5",
            "--entrypoint",
            "id",
            "withuser:1",
        ],
    );
    assert!(o.starts_with("uid=1234 gid=5(tty)"), "{o}");
    // $HOME from the user's passwd entry, as docker sets it.
    let o = ok(
        &r,
        &[
            "run",
            "--rm",
            "--entrypoint",
            "sh",
            "withuser:1",
            "-c",
            "echo $HOME",
        ],
    );
    assert_eq!(o.trim(), "/nonexistent");
    let o = ok(
        &r,
        &[
            "run",
            "--rm",
            "-u",
            "4242",
            "--entrypoint",
            "sh",
            "withuser:1",
            "-c",
            "echo $HOME",
        ],
    );
    assert_eq!(o.trim(), "/");
    // A non-root user has no effective capabilities.
    let o = ok(
        &r,
        &[
            "run",
            "--rm",
            "--entrypoint",
            "grep",
            "withuser:1",
            "CapEff",
            "/proc/self/status",
        ],
    );
    assert_eq!(o.split_whitespace().nth(1), Some("0000000000000000"), "{o}");
    // exec runs as the container's user unless -u says otherwise.
    let o = r.out(&[
        "run",
        "-d",
        "--name",
        "sleeper",
        "--entrypoint",
        "sleep",
        "withuser:1",
        "60",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(ok(&r, &["exec", "sleeper", "id", "-u"]).trim(), "65534");
    assert_eq!(
        ok(&r, &["exec", "-u", "root", "sleeper", "id", "-u"]).trim(),
        "0"
    );
    ok(&r, &["rm", "-f", "sleeper"]);
    let o = r.out(&["run", "--rm", "-u", "nosuch", "withuser:1"]);
    assert_eq!(o.status.code(), Some(125));
    assert!(
        stderr(&o).contains("unable to find user nosuch"),
        "{}",
        stderr(&o)
    );
    assert!(
        ok(&r, &["ps", "-aq"]).trim().is_empty(),
        "nothing left by a refused run"
    );
}

#[test]
fn import_rootfs_tarball_file_and_stdin() {
    if !root() {
        return;
    }
    let r = Root::new("img-import");
    let out = ok(&r, &["import", &img("rootfs.tar.gz"), "bb:imported"]);
    assert!(
        out.trim().starts_with("sha256:") && out.trim().len() == 71,
        "{out}"
    );
    let o = ok(
        &r,
        &[
            "run",
            "--rm",
            "bb:imported",
            "sh",
            "-c",
            "cat /etc/passwd | head -1; stat -c %a /tmp",
        ],
    );
    assert_eq!(o.trim(), "root:x:0:0:root:/root:/bin/sh\n1777");
    let o = r.out(&["run", "--rm", "bb:imported"]);
    assert_eq!(o.status.code(), Some(125), "no Cmd: no command");
    let f = std::fs::File::open(img("rootfs.tar.gz")).unwrap();
    let mut c = r.cmd(&["import", "-", "bb2"]);
    c.stdin(Stdio::from(f));
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(ok(&r, &["images"]).contains("bb2 "));
    assert_eq!(
        layer_dirs(&r).len(),
        1,
        "the same tarball is the same layer"
    );
}

#[test]
fn rmi_refuses_an_image_in_use() {
    if !root() {
        return;
    }
    let r = Root::new("img-rmi");
    ok(&r, &["load", "-i", &img("busybox-docker.tar")]);
    ok(&r, &["tag", "busybox", "other:1"]);
    // Two tags: by id refused (docker), by name only untags.
    let id = ok(&r, &["images", "-q"]).trim().to_string();
    let o = r.out(&["rmi", &id]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("multiple repositories"),
        "{}",
        stderr(&o)
    );
    assert_eq!(ok(&r, &["rmi", "other:1"]).trim(), "Untagged: other:1");
    let o = r.out(&["run", "--name", "user", "busybox", "true"]);
    assert_eq!(o.status.code(), Some(0));
    let o = r.out(&["rmi", "busybox"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("in use by container"), "{}", stderr(&o));
    assert_eq!(layer_dirs(&r).len(), 1);
    ok(&r, &["rm", "user"]);
    let o = ok(&r, &["rmi", "busybox"]);
    assert!(
        o.contains("Untagged: busybox:latest") && o.contains("Deleted: sha256:"),
        "{o}"
    );
    assert!(layer_dirs(&r).is_empty(), "its layer went with it");
    assert_eq!(ok(&r, &["images", "-q"]).trim(), "");
    let o = r.out(&["rmi", "busybox"]);
    assert_eq!(o.status.code(), Some(1));
}

/// A --rm run's directory and work dir wait, emptied, for the next run
/// (state/spare.rs); its upper dir is made afresh. The attacks: a
/// container leaves files, a whiteout and a changed `/` for the next; a
/// process that kept a descriptor of a removed container's `/` writes
/// through it while the next container runs.
#[test]
fn the_next_rm_run_gets_a_fresh_root_from_the_spare_dirs() {
    if !root() {
        return;
    }
    let r = Root::new("img-spare");
    ok(&r, &["load", "-i", &img("busybox-docker.tar")]);
    let run = |cmd: &str| {
        ok(
            &r,
            &["run", "--rm", "--net", "none", "busybox", "sh", "-c", cmd],
        )
    };
    let spares = || {
        let mut v: Vec<String> = std::fs::read_dir(r.0.join("spare"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    run(
        "mkdir -p /a/b && echo s > /a/b/secret && echo h > /.hidden && rm /etc/group && chmod 700 /",
    );
    assert_eq!(spares(), ["0"], "kept");
    let work = r.0.join("spare/0/work");
    assert_eq!(std::fs::read_dir(&work).unwrap().count(), 0, "emptied");
    let fresh = "test ! -e /a && test ! -e /.hidden && test -f /etc/group && stat -c %a /";
    assert_eq!(run(fresh).trim(), "755");
    // Taken and given back: had it made its own, there would be two.
    assert_eq!(spares(), ["0"], "reused");

    let d = ok(
        &r,
        &[
            "run", "-d", "--rm", "--net", "none", "busybox", "sleep", "30",
        ],
    );
    let held = std::fs::File::open(format!("/proc/{}/root", r.pid(d.trim()))).unwrap();
    ok(&r, &["rm", "-f", d.trim()]);
    assert_eq!(spares(), ["0"], "kept with a mount of it still alive");
    let ino =
        |p: std::path::PathBuf| std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(p).unwrap());
    let kept = ino(r.0.join("spare/0/work"));
    let b = ok(
        &r,
        &[
            "run", "-d", "--rm", "--net", "none", "busybox", "sleep", "30",
        ],
    );
    assert!(spares().is_empty(), "the next took it: {:?}", spares());
    assert_eq!(
        ino(r.0.join("containers").join(b.trim()).join("work")),
        kept
    );
    let planted = format!(
        "/proc/self/fd/{}/planted",
        std::os::fd::AsRawFd::as_raw_fd(&held)
    );
    let _ = std::fs::write(&planted, "from a removed container's /");
    let seen = ok(&r, &["exec", b.trim(), "ls", "-a", "/"]);
    assert!(!seen.contains("planted"), "{seen}");
    drop(held);
    r.out(&["rm", "-f", b.trim()]);
    assert!(r.state_entries().is_empty(), "{:?}", r.state_entries());
}

#[test]
fn a_corrupt_blob_fails_the_load_and_leaves_nothing() {
    if !root() {
        return;
    }
    let r = Root::new("img-corrupt");
    let t = r.0.join("layout");
    let st = Command::new("cp")
        .arg("-a")
        .arg(img("busybox-oci"))
        .arg(&t)
        .status()
        .unwrap();
    assert!(st.success());
    // Flip one byte in the biggest blob (the gzip layer).
    let blobs = t.join("blobs/sha256");
    let big = std::fs::read_dir(&blobs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .max_by_key(|p| std::fs::metadata(p).unwrap().len())
        .unwrap();
    let mut b = std::fs::read(&big).unwrap();
    let n = b.len();
    b[n - 100] ^= 0x55;
    std::fs::write(&big, b).unwrap();
    let o = r.out(&["load", "-i", t.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(125), "{}", stdout(&o));
    let e = stderr(&o);
    assert!(e.starts_with("pocket: ") && e.lines().count() == 1, "{e}");
    assert!(layer_dirs(&r).is_empty() && tmp_empty(&r));
    assert_eq!(ok(&r, &["images", "-q"]).trim(), "");
}

#[test]
fn concurrent_loads_of_one_image() {
    if !root() {
        return;
    }
    let r = Root::new("img-race");
    let kids: Vec<_> = (0..4)
        .map(|_| {
            r.cmd(&["load", "-q", "-i", &img("busybox-docker.tar")])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for k in kids {
        let o = k.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    assert_eq!(layer_dirs(&r).len(), 1);
    assert!(tmp_empty(&r));
    assert_eq!(ok(&r, &["images", "-q"]).lines().count(), 1);
    assert_eq!(
        ok(&r, &["run", "--rm", "busybox"]).trim(),
        "hello from /srv/app"
    );
}

#[test]
fn load_and_import_show_progress_on_a_terminal_only() {
    if !root() {
        return;
    }
    use std::io::Read;
    let r = Root::new("img-progress");
    let (mut m, s) = pty();
    let o = r
        .cmd(&["load", "-i", &img("busybox-oci")])
        .stderr(Stdio::from(s))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let mut shown = vec![0u8; 8192];
    let n = m.read(&mut shown).unwrap_or(0);
    let shown = String::from_utf8_lossy(&shown[..n]);
    assert!(
        shown.contains("Loading layer 1/1: ") && shown.contains(" MB"),
        "{shown:?}"
    );
    let (mut m, s) = pty();
    let o = r
        .cmd(&["import", &img("rootfs.tar.gz"), "p:1"])
        .stderr(Stdio::from(s))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let mut buf = vec![0u8; 8192];
    let n = m.read(&mut buf).unwrap_or(0);
    let shown = String::from_utf8_lossy(&buf[..n]);
    assert!(shown.contains("Importing: "), "{shown:?}");
    // On a pipe: nothing at all.
    let o = r.out(&["load", "-i", &img("busybox-docker.tar")]);
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
}

/// A container of an image carries the image's labels, then its own;
/// `ps --filter ancestor=` finds it by the image's name (normalised) or id.
#[test]
fn image_labels_and_ancestor_filter() {
    if !root() {
        return;
    }
    let r = Root::new("img-labels");
    ok(&r, &["load", "-i", &img("busybox-docker.tar")]);
    let id = ok(
        &r,
        &[
            "run",
            "-d",
            "-l",
            "x=y",
            "-l",
            "org.example.test=no",
            "busybox",
            "sleep",
            "30",
        ],
    );
    let id = id.trim();
    let doc = ok(&r, &["inspect", id]);
    assert_eq!(
        labels(&doc),
        vec![
            ("io.buildah.version".to_string(), "1.28.2".to_string()),
            ("org.example.test".to_string(), "no".to_string()),
            ("x".to_string(), "y".to_string())
        ],
        "the image's label, overridden; keys sorted as docker's map: {doc}"
    );
    let image_id = ok(&r, &["images", "-q", "busybox"]);
    for q in [
        "busybox",
        "busybox:latest",
        "docker.io/library/busybox",
        image_id.trim(),
    ] {
        let f = format!("ancestor={q}");
        assert_eq!(
            ok(&r, &["ps", "-q", "--no-trunc", "-f", &f]).trim(),
            id,
            "{q}"
        );
    }
    assert_eq!(ok(&r, &["ps", "-q", "-f", "ancestor=alpine"]), "");
    ok(&r, &["rm", "-f", id]);
}

/// `images --filter` dangling, reference (docker's glob) and label.
#[test]
fn images_filters() {
    if !root() {
        return;
    }
    let r = Root::new("img-filter");
    ok(&r, &["load", "-i", &img("busybox-docker.tar")]);
    let dangling = ok(&r, &["import", &img("rootfs.tar.gz")]);
    let dangling = dangling.trim().trim_start_matches("sha256:");
    ok(&r, &["tag", "busybox", "team/app:1"]);
    let bb = ok(&r, &["images", "-q", "--no-trunc", "busybox"]);
    let bb = bb.trim().trim_start_matches("sha256:");
    let q = |f: &[&str]| -> String {
        let mut v = vec!["images", "-q", "--no-trunc"];
        for x in f {
            v.extend(["-f", x]);
        }
        ok(&r, &v).trim().trim_start_matches("sha256:").to_string()
    };
    assert_eq!(q(&["dangling=true"]), dangling);
    assert_eq!(q(&["dangling=false"]), bb);
    assert_eq!(q(&["reference=busybox"]), bb);
    assert_eq!(q(&["reference=team/*"]), bb);
    assert_eq!(q(&["reference=nothing*", "reference=team/app:1"]), bb);
    assert_eq!(q(&["label=org.example.test=yes"]), bb);
    assert_eq!(q(&["label=org.example.test"]), bb);
    assert_eq!(q(&["label=org.example.test=no"]), "");
    assert_eq!(q(&["dangling=true", "label=org.example.test"]), "");
    // The table: the rows of matching tags only.
    let t = ok(&r, &["images", "-f", "reference=team/*"]);
    assert_eq!(t.lines().count(), 2, "{t}");
    assert!(t.lines().nth(1).unwrap().starts_with("team/app "), "{t}");
    for bad in ["foo=bar", "dangling=maybe", "reference="] {
        let o = r.out(&["images", "-f", bad]);
        assert_eq!(o.status.code(), Some(125), "{bad}: {o:?}");
    }
}

/// The process's environment as docker builds it: PATH, HOSTNAME, then
/// the container's Config.Env (the user's entries, then the image's
/// others), HOME last; `-e NAME` with no NAME on the client stays bare in
/// Config.Env and unsets the image's NAME. exec's the same, from the
/// container's Config.Env, its own -e over it, the exec user's HOME.
#[test]
fn environment_in_dockers_order_and_a_bare_name_unsets() {
    if !root() {
        return;
    }
    let r = Root::new("img-env");
    ok(&r, &["load", "-i", &img("busybox-docker.tar")]);
    let lines = |s: String| -> Vec<String> {
        s.lines()
            .filter(|l| !l.starts_with("HOSTNAME="))
            .map(String::from)
            .collect()
    };
    let path = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
    let env = ok(&r, &["run", "--rm", "-e", "A=1", "busybox", "env"]);
    assert_eq!(
        env.lines().nth(1).map(|l| l.starts_with("HOSTNAME=")),
        Some(true),
        "{env}"
    );
    assert_eq!(lines(env), [path, "A=1", "GREETING=hello", "HOME=/root"],);
    let mut c = r.cmd(&[
        "run", "-d", "--name", "envbox", "-e", "GREETING", "-e", "A=1", "busybox", "sleep", "300",
    ]);
    c.env_remove("GREETING");
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        lines(ok(&r, &["exec", "envbox", "env"])),
        [path, "A=1", "HOME=/root"],
    );
    let cfg = ok(&r, &["inspect", "-f", "{{json .Config.Env}}", "envbox"]);
    assert_eq!(cfg.trim(), format!(r#"["GREETING","A=1","{path}"]"#));
    // exec's -e over the container's, a bare name unsetting; the exec
    // user's HOME.
    let mut c = r.cmd(&[
        "exec", "-e", "A", "-e", "Z=2", "-u", "nobody", "envbox", "env",
    ]);
    c.env_remove("A");
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(lines(stdout(&o)), [path, "Z=2", "HOME=/nonexistent"]);
    // Without -u, the container's; a variable the host has is passed.
    let mut c = r.cmd(&["exec", "-e", "GREETING", "envbox", "env"]);
    c.env("GREETING", "from host");
    let o = c.output().unwrap();
    assert_eq!(
        lines(stdout(&o)),
        [path, "A=1", "GREETING=from host", "HOME=/root"]
    );
    // An env file's name alone the host lacks is left out (docker's
    // kvfile), so the image's stays; -e's stays bare and unsets it.
    let file = r.0.join("env.list");
    std::fs::write(&file, "GREETING\nFROMFILE=1\n").unwrap();
    let f = file.to_str().unwrap();
    let mut c = r.cmd(&["exec", "--env-file", f, "envbox", "env"]);
    c.env_remove("GREETING");
    let o = c.output().unwrap();
    assert_eq!(lines(stdout(&o)), [path, "A=1", "FROMFILE=1", "HOME=/root"]);
    let mut c = r.cmd(&["run", "--rm", "--env-file", f, "busybox", "env"]);
    c.env_remove("GREETING");
    let o = c.output().unwrap();
    assert_eq!(
        lines(stdout(&o)),
        [path, "FROMFILE=1", "GREETING=hello", "HOME=/root"]
    );
    // exec refuses what run refuses.
    let o = r.out(&["exec", "-e", "=x", "envbox", "env"]);
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    ok(&r, &["rm", "-f", "envbox"]);
    // --uts host: exec's HOSTNAME is the one its run had.
    ok(
        &r,
        &[
            "run", "-d", "--name", "utsbox", "--uts", "host", "busybox", "sleep", "300",
        ],
    );
    let host_of = |s: String| {
        s.lines()
            .find(|l| l.starts_with("HOSTNAME="))
            .map(String::from)
    };
    let first = host_of(ok(&r, &["exec", "utsbox", "cat", "/proc/1/environ"]).replace('\0', "\n"));
    let then = host_of(ok(&r, &["exec", "utsbox", "env"]));
    assert!(
        first.as_ref().is_some_and(|h| h.len() > "HOSTNAME=".len()),
        "{first:?}"
    );
    assert_eq!(first, then);
    ok(&r, &["rm", "-f", "utsbox"]);
}

/// `ps -n N` / `-l`: the containers made last, in any state; `-s`: docker's
/// SIZE column, the bytes the container wrote and with its image's
/// "(virtual ...)", also through `--format '{{.Size}}'`.
#[test]
fn ps_last_latest_and_size() {
    if !root() {
        return;
    }
    let r = Root::new("ps-size");
    ok(&r, &["load", "-i", &img("busybox-docker.tar")]);
    ok(
        &r,
        &[
            "run",
            "--name",
            "p1",
            "busybox",
            "sh",
            "-c",
            "head -c 1200 /dev/zero >/f",
        ],
    );
    ok(&r, &["create", "--name", "p2", "busybox", "true"]);
    ok(&r, &["create", "--name", "p3", "busybox", "true"]);
    let names = |args: &[&str]| -> Vec<String> {
        let mut a = vec!["ps", "--format", "{{.Names}}"];
        a.extend(args);
        ok(&r, &a).lines().map(String::from).collect()
    };
    assert_eq!(names(&["-n", "2"]), ["p3", "p2"]);
    assert_eq!(names(&["-l"]), ["p3"]);
    assert_eq!(names(&["-n", "0"]), ["p3", "p2", "p1"]);
    assert!(names(&[]).is_empty(), "none runs");
    let o = r.out(&["ps", "-n", "x"]);
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    // docker's before=, since=, volume=, health= and network= filters.
    assert_eq!(names(&["-a", "-f", "before=p3"]), ["p2", "p1"]);
    assert_eq!(names(&["-a", "-f", "since=p1"]), ["p3", "p2"]);
    assert_eq!(names(&["-a", "-f", "since=p1", "-f", "before=p3"]), ["p2"]);
    let o = r.out(&["ps", "-a", "-f", "before=nosuch"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    ok(
        &r,
        &[
            "create",
            "--name",
            "p4",
            "-v",
            "psvol:/data",
            "--health-cmd",
            "true",
            "busybox",
            "true",
        ],
    );
    assert_eq!(names(&["-a", "-f", "volume=psvol"]), ["p4"]);
    assert_eq!(names(&["-a", "-f", "volume=/data"]), ["p4"]);
    assert!(names(&["-a", "-f", "volume=other"]).is_empty());
    assert_eq!(
        names(&["-a", "-f", "health=none"]),
        ["p4", "p3", "p2", "p1"]
    );
    assert!(names(&["-a", "-f", "network=nosuch"]).is_empty());
    let o = r.out(&["ps", "-f", "health=sick"]);
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    ok(&r, &["rm", "-v", "p4"]);
    let image = ok(&r, &["image", "inspect", "-f", "{{.Size}}", "busybox"]);
    let image: u64 = image.trim().parse().unwrap();
    let table = ok(&r, &["ps", "-a", "-s"]);
    let head = table.lines().next().unwrap();
    assert!(head.ends_with("NAMES     SIZE"), "{table}");
    let p1 = table
        .lines()
        .find(|l| l.contains(" p1 "))
        .unwrap_or_else(|| panic!("{table}"));
    // 1,200 bytes written: 1.2kB; the image's bytes on top, 3 digits.
    let v = (1200 + image) as f64 / 1e6;
    assert!((1.0..10.0).contains(&v), "{image}");
    assert!(p1.ends_with(&format!(" 1.2kB (virtual {v:.2}MB)")), "{p1}");
    let f = ok(&r, &["ps", "-a", "--format", "{{.Names}} {{.Size}}"]);
    assert!(f.contains("p2 0B (virtual "), "{f}");
    ok(&r, &["rm", "-f", "p1", "p2", "p3"]);
}
