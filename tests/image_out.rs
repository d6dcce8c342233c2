//! Files out of containers and images: `export` (compared with what the
//! container itself sees), `diff`, `commit` (run the result), and `save`
//! (read back by skopeo, GNU tar and `pocket load`).

mod common;
use common::*;
use std::collections::BTreeSet;
use std::io::Read;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn ok(r: &Root, args: &[&str]) -> String {
    let o = r.out(args);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    stdout(&o)
}

fn failed(o: &Output, code: i32, msg: &str) {
    assert_eq!(o.status.code(), Some(code), "{}", stderr(o));
    assert!(stderr(o).contains(msg), "{msg:?} not in {:?}", stderr(o));
}

/// A temp dir of one test, removed on drop.
struct Tmp(PathBuf);

impl Tmp {
    fn new(tag: &str) -> Tmp {
        let d = std::env::temp_dir().join(format!("pocket-out-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Tmp(d)
    }
    fn p(&self, rel: &str) -> String {
        self.0.join(rel).to_str().unwrap().to_string()
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn sh(cmd: &str) -> Vec<u8> {
    let o = Command::new("sh").args(["-c", cmd]).output().unwrap();
    assert!(o.status.success(), "{cmd}: {}", stderr(&o));
    o.stdout
}

/// The busybox rootfs as an image NAME, imported from a GNU tar tarball.
fn import(r: &Root, t: &Tmp, name: &str) {
    let tar = t.p("rootfs.tar");
    sh(&format!("tar -C {} -cf {tar} .", rootfs_str()));
    ok(r, &["import", &tar, name]);
}

/// Paths in a tar archive, as "/a/b".
fn tar_paths(tar: &str) -> BTreeSet<String> {
    let o = String::from_utf8(sh(&format!("tar -tf {tar}"))).unwrap();
    o.lines()
        .map(|l| format!("/{}", l.trim_start_matches("./").trim_end_matches('/')))
        .filter(|p| p != "/")
        .collect()
}

/// `find / -xdev` output inside a container, without "/" and what is
/// below its own mounts (/dev, /proc, /sys are other filesystems there).
fn find_paths(out: &str) -> BTreeSet<String> {
    out.lines()
        .filter(|p| *p != "/")
        .filter(|p| {
            !["/dev/", "/proc/", "/sys/"]
                .iter()
                .any(|m| p.starts_with(m))
        })
        .map(String::from)
        .collect()
}

fn show_diff(a: &BTreeSet<String>, b: &BTreeSet<String>) -> String {
    format!(
        "only in export: {:?}\nonly in container: {:?}",
        a.difference(b).collect::<Vec<_>>(),
        b.difference(a).collect::<Vec<_>>()
    )
}

/// Mount table lines that mention the state root: what pocket could have
/// left attached on the host.
fn mounts_under(dir: &Path) -> usize {
    let d = dir.to_str().unwrap();
    host_mounts().iter().filter(|l| l.contains(d)).count()
}

#[test]
fn export_of_a_rootfs_container_is_what_it_sees() {
    if !root() {
        return;
    }
    let t = Tmp::new("exp-rootfs");
    let tree = t.p("tree");
    sh(&format!("cp -a {} {tree}", rootfs_str()));
    let r = Root::new("exp-rootfs");
    let script = "echo hi > /made && mkdir -p /deep/er && ln /made /deep/er/hard && find / -xdev";
    let o = r.out(&[
        "run", "--name", "ctr", "--rootfs", &tree, "sh", "-c", script,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let seen = find_paths(&stdout(&o));
    let tar = t.p("c.tar");
    let before = host_mounts().len();
    ok(&r, &["export", "-o", &tar, "ctr"]);
    assert_eq!(host_mounts().len(), before, "export leaves no mount");
    let got = tar_paths(&tar);
    assert_eq!(got, seen, "{}", show_diff(&got, &seen));
    let v = String::from_utf8(sh(&format!("TZ=UTC tar -tvf {tar}"))).unwrap();
    assert!(v.contains("made link to deep/er/hard"), "{v}");
    assert_eq!(sh(&format!("tar -xOf {tar} deep/er/hard")), b"hi\n");
    // To stdout: the same bytes (the walk is deterministic).
    let o = r.out(&["export", "ctr"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        o.stdout == std::fs::read(&tar).unwrap(),
        "stdout and -o differ"
    );
    // A mount below the rootfs dir (in a mount namespace of its own): the
    // export stays on the rootfs' filesystem.
    std::fs::create_dir(format!("{tree}/mnt")).unwrap();
    let m = t.p("m.tar");
    let script = format!(
        "mount -t tmpfs none {tree}/mnt && touch {tree}/mnt/inside && \
         \"$0\" --root {} export -o {m} ctr",
        r.0.display()
    );
    let st = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", &script])
        .arg(bin())
        .status()
        .unwrap();
    assert!(st.success());
    let got = tar_paths(&m);
    assert!(
        got.contains("/mnt") && !got.contains("/mnt/inside"),
        "{got:?}"
    );
    // Errors: no such container, no container, a terminal on stdout.
    failed(&r.out(&["export", "nope"]), 1, "no such container");
    failed(&r.out(&["export"]), 125, "needs exactly one container");
    let (_m, s) = pty();
    let o = r
        .cmd(&["export", "ctr"])
        .stdout(Stdio::from(s))
        .output()
        .unwrap();
    failed(&o, 125, "cowardly refusing");
    // -o into a directory that does not exist: an error, nothing made.
    let o = r.out(&["export", "-o", &t.p("no/such/x.tar"), "ctr"]);
    assert_eq!(o.status.code(), Some(125));
}

#[test]
fn export_of_an_image_container_running_and_stopped() {
    if !root() {
        return;
    }
    let t = Tmp::new("exp-img");
    let r = Root::new("exp-img");
    import(&r, &t, "bb");
    let script = "rm /bin/vi; rm -rf /home; mkdir /home; echo z > /home/z; echo hi > /root/x; \
                  find / -xdev > /tmp/list; touch /tmp/done; sleep 1000";
    let id = ok(
        &r,
        &["run", "-d", "--name", "ctr", "bb", "sh", "-c", script],
    );
    let id = id.trim();
    let list = wait_for(10, "the container's file list", || {
        let o = r.out(&[
            "exec",
            "ctr",
            "sh",
            "-c",
            "test -e /tmp/done && cat /tmp/list",
        ]);
        (o.status.code() == Some(0)).then(|| stdout(&o))
    });
    let mut seen = find_paths(&list);
    seen.insert("/tmp/done".into());
    assert!(!seen.contains("/bin/vi") && seen.contains("/home/z"));
    let mounts = mounts_under(&r.0);
    for state in ["running", "stopped"] {
        let tar = t.p(&format!("{state}.tar"));
        ok(&r, &["export", "-o", &tar, id]);
        let got = tar_paths(&tar);
        assert_eq!(got, seen, "{state}: {}", show_diff(&got, &seen));
        assert_eq!(sh(&format!("tar -xOf {tar} root/x")), b"hi\n");
        assert_eq!(mounts_under(&r.0), mounts, "no mount left on the host");
        ok(&r, &["stop", "-t", "0", "ctr"]);
    }
    // The image itself is untouched.
    let o = ok(&r, &["run", "--rm", "bb", "sh", "-c", "ls /bin/vi /root"]);
    assert_eq!(o.trim(), "/bin/vi\n\n/root:");
}

const CHANGES: &str = "rm /bin/vi; rm -rf /home; mkdir /home; echo z > /home/z; \
                       echo hi > /root/x; mkdir -p /new/d; touch /new/d/f; \
                       echo more >> /etc/passwd";

/// diff's lines; "C /etc" is left out: whether copying /etc/passwd up
/// keeps its directory's mtime is the kernel's business.
fn diff_lines(r: &Root, c: &str) -> Vec<String> {
    ok(r, &["diff", c])
        .lines()
        .filter(|l| *l != "C /etc")
        .map(String::from)
        .collect()
}

#[test]
fn diff_lists_added_changed_and_deleted_files() {
    if !root() {
        return;
    }
    let t = Tmp::new("diff");
    let r = Root::new("diff");
    import(&r, &t, "bb");
    ok(&r, &["run", "--name", "quiet", "bb", "true"]);
    assert_eq!(
        ok(&r, &["diff", "quiet"]),
        "",
        "a container that changed nothing"
    );
    // Its /etc mount points come from the store's one init layer, shared
    // and left empty: no container makes its own, and each sees its own
    // files bound over them.
    for f in ["hosts", "resolv.conf", "hostname"] {
        let m = std::fs::metadata(r.0.join("init/etc").join(f)).unwrap();
        assert_eq!(m.len(), 0, "{f}");
    }
    let quiet = r.0.join("containers").join(cid(&r, "quiet"));
    assert!(quiet.join("upper").exists() && !quiet.join("init").exists());
    let o = ok(
        &r,
        &["run", "--rm", "-h", "box1", "bb", "cat", "/etc/hostname"],
    );
    assert_eq!(o, "box1\n");
    assert_eq!(
        std::fs::metadata(r.0.join("init/etc/hostname"))
            .unwrap()
            .len(),
        0
    );
    ok(&r, &["run", "--name", "ctr", "bb", "sh", "-c", CHANGES]);
    let want = [
        "C /bin",
        "D /bin/vi",
        "C /etc/passwd",
        "D /home",
        "A /home/z",
        "A /new",
        "A /new/d",
        "A /new/d/f",
        "C /root",
        "A /root/x",
    ];
    assert_eq!(diff_lines(&r, "ctr"), want);
    // The same through `container diff`, by id prefix.
    let id = cid(&r, "ctr");
    assert_eq!(
        ok(&r, &["container", "diff", &id[..12]]),
        ok(&r, &["diff", "ctr"])
    );
    let tree = t.p("tree");
    sh(&format!("cp -a {} {tree}", rootfs_str()));
    ok(&r, &["run", "--name", "plain", "--rootfs", &tree, "true"]);
    failed(&r.out(&["diff", "plain"]), 125, "no image");
    failed(&r.out(&["diff", "nope"]), 1, "no such container");
}

/// A container's full id, from inspect.
fn cid(r: &Root, name: &str) -> String {
    let s = ok(r, &["inspect", name]);
    let at = s.find("\"Id\": \"").expect("Id") + 7;
    s[at..at + 64].to_string()
}

fn layer_count(r: &Root) -> usize {
    std::fs::read_dir(r.0.join("images/layers"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_dir())
        .count()
}

#[test]
fn commit_makes_an_image_that_keeps_deletions() {
    if !root() {
        return;
    }
    let t = Tmp::new("commit");
    let r = Root::new("commit");
    import(&r, &t, "bb");
    ok(&r, &["run", "--name", "ctr", "bb", "sh", "-c", CHANGES]);
    let layers = layer_count(&r);
    let o = ok(&r, &["commit", "ctr", "bb:2"]);
    let id = o.trim().strip_prefix("sha256:").expect("sha256:<id>");
    assert_eq!(id.len(), 64, "{o}");
    assert_eq!(layer_count(&r), layers + 1);
    assert!(
        ok(&r, &["images"])
            .lines()
            .any(|l| l.starts_with("bb ") && l.contains(" 2 "))
    );
    let o = ok(
        &r,
        &[
            "run",
            "--rm",
            "bb:2",
            "sh",
            "-c",
            "ls /bin/vi 2>&1; ls /home; cat /root/x /new/d/f; tail -1 /etc/passwd",
        ],
    );
    assert_eq!(o, "ls: /bin/vi: No such file or directory\nz\nhi\nmore\n");
    // A third layer deleting what the second one added.
    ok(
        &r,
        &[
            "run", "--name", "ctr2", "bb:2", "rm", "-r", "/root/x", "/new",
        ],
    );
    ok(&r, &["commit", "ctr2", "bb:3"]);
    let o = ok(
        &r,
        &[
            "run",
            "--rm",
            "bb:3",
            "sh",
            "-c",
            "ls /root /new 2>&1; ls /home",
        ],
    );
    assert!(
        o.contains("/new: No such file") && o.ends_with("z\n") && !o.contains('x'),
        "{o}"
    );
    // By id prefix, untagged.
    let o = ok(&r, &["container", "commit", &cid(&r, "ctr2")[..12]]);
    assert_eq!(o.trim().len(), 71, "{o}");
    let tree = t.p("tree");
    sh(&format!("cp -a {} {tree}", rootfs_str()));
    ok(&r, &["run", "--name", "plain", "--rootfs", &tree, "true"]);
    failed(&r.out(&["commit", "plain", "x"]), 125, "no image");
    failed(&r.out(&["commit", "nope", "x"]), 1, "no such container");
    failed(
        &r.out(&["commit", "ctr", "Bad Name"]),
        125,
        "invalid reference",
    );
}

/// `commit -c/-m/-a` and `import -c/-m`, as docker's: Dockerfile
/// instructions change the new image's config (what a `run` of it does),
/// the message and author are its Comment and Author; a change that is
/// no instruction of theirs makes nothing.
#[test]
fn commit_and_import_apply_changes() {
    if !root() {
        return;
    }
    let t = Tmp::new("change");
    let r = Root::new("change");
    import(&r, &t, "bb");
    ok(
        &r,
        &[
            "run",
            "--name",
            "ctr",
            "bb",
            "sh",
            "-c",
            "mkdir -p /srv/app && echo hi >/srv/app/f",
        ],
    );
    let o = ok(
        &r,
        &[
            "commit",
            "-c",
            r#"CMD ["cat", "f"]"#,
            "--change",
            "WORKDIR /srv/app",
            "-c",
            "ENV GREETING=\"hello there\"",
            "-c",
            "EXPOSE 8080",
            "-c",
            "LABEL team=pocket",
            "-m",
            "the first",
            "-a",
            "Ann <ann@example.org>",
            "ctr",
            "bb:changed",
        ],
    );
    assert!(o.starts_with("sha256:"), "{o}");
    assert_eq!(ok(&r, &["run", "--rm", "bb:changed"]), "hi\n");
    assert_eq!(
        ok(
            &r,
            &[
                "run",
                "--rm",
                "bb:changed",
                "sh",
                "-c",
                "echo $GREETING; pwd"
            ]
        ),
        "hello there\n/srv/app\n"
    );
    let f = "{{.Author}}|{{.Comment}}|{{json .Config.ExposedPorts}}|{{.Config.Labels.team}}";
    assert_eq!(
        ok(&r, &["image", "inspect", "-f", f, "bb:changed"]),
        "Ann <ann@example.org>|the first|{\"8080/tcp\":{}}|pocket\n"
    );
    // Shell form; import takes them too.
    let tar = t.p("rootfs.tar");
    ok(
        &r,
        &[
            "import",
            "-c",
            "CMD echo from $0",
            "-m",
            "imported",
            &tar,
            "bb:imp",
        ],
    );
    assert_eq!(ok(&r, &["run", "--rm", "bb:imp"]), "from /bin/sh\n");
    assert_eq!(
        ok(&r, &["image", "inspect", "-f", "{{.Comment}}", "bb:imp"]),
        "imported\n"
    );
    // Not an instruction of theirs: one line, nothing made.
    let before = ok(&r, &["images", "-q"]);
    let o = r.out(&["commit", "-c", "RUN rm -rf /", "ctr", "bb:bad"]);
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        "pocket: --change: run is not a valid change command\n"
    );
    let o = r.out(&["import", "-c", "EXPOSE 99999", &tar, "bb:bad"]);
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    assert!(stderr(&o).contains("invalid port 99999"), "{}", stderr(&o));
    assert_eq!(ok(&r, &["images", "-q"]), before);
    // ENTRYPOINT alone clears the image's CMD, as docker's; $PATH expands
    // from the environment as the changes before left it.
    ok(
        &r,
        &[
            "commit",
            "-c",
            "ENTRYPOINT [\"echo\", \"e\"]",
            "-c",
            "ENV PATH=/bin\nENV PATH=/opt:$PATH",
            "ctr",
            "bb:ep",
        ],
    );
    assert_eq!(ok(&r, &["run", "--rm", "bb:ep"]), "e\n");
    assert_eq!(
        ok(
            &r,
            &[
                "run",
                "--rm",
                "--entrypoint",
                "sh",
                "bb:ep",
                "-c",
                "echo $PATH"
            ]
        ),
        "/opt:/bin\n"
    );
}

/// `skopeo inspect` of a docker-archive: (layers, architecture).
fn skopeo_layers(file: &str, tag: &str) -> Vec<String> {
    let o = Command::new("skopeo")
        .args(["inspect", &format!("docker-archive:{file}:{tag}")])
        .output()
        .expect("skopeo installed");
    assert!(o.status.success(), "skopeo: {}", stderr(&o));
    let s = stdout(&o);
    assert!(
        s.contains("\"Architecture\": \"amd64\"") || !cfg!(target_arch = "x86_64"),
        "{s}"
    );
    let at = s.find("\"Layers\": [").expect("Layers") + 11;
    let end = at + s[at..].find(']').unwrap();
    s[at..end]
        .split(',')
        .map(|l| l.trim().trim_matches('"').to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

fn sha256_of_member(tar: &str, member: &str) -> String {
    let o = sh(&format!("tar -xOf {tar} {member} | sha256sum"));
    format!(
        "sha256:{}",
        String::from_utf8(o).unwrap().split(' ').next().unwrap()
    )
}

#[test]
fn save_is_read_by_skopeo_gnu_tar_and_load() {
    if !root() {
        return;
    }
    let t = Tmp::new("save");
    let r = Root::new("save");
    import(&r, &t, "bb");
    ok(&r, &["run", "--name", "ctr", "bb", "sh", "-c", CHANGES]);
    ok(&r, &["commit", "ctr", "bb:2"]);
    let file = t.p("bb.tar");
    let o = r.out(&["save", "-o", &file, "bb:2"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stderr.is_empty(), "no progress on a pipe: {}", stderr(&o));

    let members = String::from_utf8(sh(&format!("tar -tf {file}"))).unwrap();
    assert_eq!(members.lines().next(), Some("manifest.json"));
    let layers = skopeo_layers(&file, "bb:2");
    assert_eq!(layers.len(), 2);
    for l in &layers {
        let hex = l.strip_prefix("sha256:").unwrap();
        let m = format!("{hex}/layer.tar");
        assert!(members.lines().any(|x| x == m), "{m} in {members}");
        assert_eq!(
            &sha256_of_member(&file, &m),
            l,
            "layer digest is its diff_id"
        );
    }
    // The committed layer holds OCI whiteouts, as GNU tar lists them.
    let top = format!("{}/layer.tar", layers[1].strip_prefix("sha256:").unwrap());
    let list = String::from_utf8(sh(&format!("tar -xOf {file} {top} | tar -tf -"))).unwrap();
    for want in ["bin/.wh.vi", "home/.wh..wh..opq", "home/z", "root/x"] {
        assert!(list.lines().any(|l| l == want), "{want} not in {list}");
    }
    // GNU tar extracts the base layer into a usable tree.
    let x = t.p("x");
    std::fs::create_dir(&x).unwrap();
    let base = format!("{}/layer.tar", layers[0].strip_prefix("sha256:").unwrap());
    sh(&format!("tar -xOf {file} {base} | tar -C {x} -xpf -"));
    assert!(sh(&format!("{x}/bin/busybox echo ok")).starts_with(b"ok"));
    // skopeo copies it (checking every digest).
    let oci = t.p("oci");
    let o = Command::new("skopeo")
        .args([
            "copy",
            "-q",
            &format!("docker-archive:{file}:bb:2"),
            &format!("oci:{oci}:bb"),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "skopeo copy: {}", stderr(&o));

    // Back into a fresh pocket: it runs with its deletions.
    let r2 = Root::new("save-load");
    ok(&r2, &["load", "-i", &file]);
    let o = ok(
        &r2,
        &[
            "run",
            "--rm",
            "bb:2",
            "sh",
            "-c",
            "ls /bin/vi 2>&1; ls /home; cat /root/x",
        ],
    );
    assert_eq!(o, "ls: /bin/vi: No such file or directory\nz\nhi\n");
    // Saved again from there: the same archive, byte for byte.
    let again = r2.out(&["save", "bb:2"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(
        again.stdout == std::fs::read(&file).unwrap(),
        "save of a loaded save differs"
    );

    // Several images, one archive: shared layers once.
    let both = t.p("both.tar");
    ok(&r, &["save", "-o", &both, "bb:2", "bb"]);
    let members = String::from_utf8(sh(&format!("tar -tf {both}"))).unwrap();
    assert_eq!(
        members
            .lines()
            .filter(|l| l.ends_with("/layer.tar"))
            .count(),
        2
    );
    assert_eq!(skopeo_layers(&both, "bb:latest").len(), 1);

    // Progress on a terminal (stderr), none of it in the archive.
    let (mut m, s) = pty();
    let out = t.p("tty.tar");
    let o = r
        .cmd(&["save", "-o", &out, "bb:2"])
        .stderr(Stdio::from(s))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let mut shown = vec![0u8; 8192];
    let n = m.read(&mut shown).unwrap_or(0);
    let shown = String::from_utf8_lossy(&shown[..n]);
    assert!(shown.contains("layer 2/2"), "progress: {shown:?}");
    assert!(std::fs::read(&out).unwrap() == std::fs::read(&file).unwrap());

    // Errors: an unknown image writes nothing; a terminal stdout refused.
    let none = t.p("none.tar");
    failed(
        &r.out(&["save", "-o", &none, "bb:2", "nope"]),
        1,
        "no such image",
    );
    assert!(!Path::new(&none).exists());
    let (_m, s) = pty();
    let o = r
        .cmd(&["save", "bb:2"])
        .stdout(Stdio::from(s))
        .output()
        .unwrap();
    failed(&o, 125, "cowardly refusing");
}

/// The test images of scripts/mkimages.sh (buildah, skopeo, umoci).
fn test_image(name: &str) -> String {
    rootfs();
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = manifest.join("target/images");
    let st = Command::new(manifest.join("scripts/mkimages.sh"))
        .arg(&dir)
        .status()
        .expect("mkimages.sh");
    assert!(st.success(), "scripts/mkimages.sh failed");
    dir.join(name).to_str().unwrap().to_string()
}

#[test]
fn umoci_layers_diff_export_and_save() {
    if !root() {
        return;
    }
    let t = Tmp::new("layered");
    let r = Root::new("layered");
    ok(&r, &["load", "-i", &test_image("layered-oci")]);
    // Below the container: two layers, the top one with umoci's whiteouts.
    let script = "echo x > /srv/app/more; rm /etc/motd; touch /bin/vi; \
                  find / -xdev > /tmp/list";
    ok(&r, &["run", "--name", "ctr", "layered", "sh", "-c", script]);
    let d = ok(&r, &["diff", "ctr"]);
    let want = "C /bin\nA /bin/vi\nC /etc\nD /etc/motd\nC /srv\nC /srv/app\nA /srv/app/more\nA /tmp/list\n";
    assert_eq!(d.replace("C /tmp\n", ""), want);
    let tar = t.p("e.tar");
    ok(&r, &["export", "-o", &tar, "ctr"]);
    let got = tar_paths(&tar);
    let list = String::from_utf8(sh(&format!("tar -xOf {tar} tmp/list"))).unwrap();
    let seen = find_paths(&list);
    assert_eq!(got, seen, "{}", show_diff(&got, &seen));
    assert!(got.contains("/srv/app/only.txt") && !got.contains("/srv/app/hello.txt"));
    // Saved: umoci's deletions are whiteouts again in the layer written.
    let file = t.p("l.tar");
    ok(&r, &["save", "-o", &file, "layered"]);
    let layers = skopeo_layers(&file, "layered:latest");
    assert_eq!(layers.len(), 2);
    let top = format!("{}/layer.tar", layers[1].strip_prefix("sha256:").unwrap());
    assert_eq!(sha256_of_member(&file, &top), layers[1]);
    let list = String::from_utf8(sh(&format!("tar -xOf {file} {top} | tar -tf -"))).unwrap();
    assert!(list.lines().any(|l| l == "bin/.wh.vi"), "{list}");
    let r2 = Root::new("layered-2");
    ok(&r2, &["load", "-i", &file]);
    let o = ok(
        &r2,
        &[
            "run",
            "--rm",
            "layered",
            "sh",
            "-c",
            "ls /bin/vi 2>&1; ls /srv/app; cat /etc/motd",
        ],
    );
    assert_eq!(
        o,
        "ls: /bin/vi: No such file or directory\nonly.txt\nlayered\n"
    );
}

/// docker's commit starts from the container's Config, not the image's:
/// the run's -e, command, -w and -u are the new image's; its history is
/// the image's and one entry more, created by that command.
#[test]
fn commit_starts_from_the_containers_config() {
    if !root() {
        return;
    }
    let t = Tmp::new("ccfg");
    let r = Root::new("ccfg");
    import(&r, &t, "bb");
    ok(&r, &["run", "--name", "base", "bb", "true"]);
    ok(
        &r,
        &[
            "commit",
            "-c",
            r#"ENTRYPOINT ["/bin/echo", "ep"]"#,
            "-c",
            "ENV A=image",
            "base",
            "bb:ep",
        ],
    );
    let o = ok(
        &r,
        &[
            "run", "--name", "c2", "-e", "B=run", "-w", "/tmp", "-u", "65534", "-t", "bb:ep",
            "one", "two",
        ],
    );
    assert_eq!(o.trim_end(), "ep one two");
    // inspect shows docker's Config: Entrypoint and Cmd apart, the Env
    // without what pocket adds (HOSTNAME, HOME, TERM).
    let f = "{{json .Config.Entrypoint}}|{{json .Config.Cmd}}|{{json .Config.Env}}|{{.Config.WorkingDir}}|{{.Config.User}}";
    let want = r#"["/bin/echo","ep"]|["one","two"]|["B=run","A=image"]|/tmp|65534"#;
    assert_eq!(ok(&r, &["inspect", "-f", f, "c2"]).trim_end(), want);
    ok(&r, &["commit", "-m", "second", "c2", "bb:c2"]);
    assert_eq!(
        ok(&r, &["image", "inspect", "-f", f, "bb:c2"]).trim_end(),
        want
    );
    assert_eq!(ok(&r, &["run", "--rm", "-u", "0", "bb:c2"]), "ep one two\n");
    // history: the image's steps and one more, newest first, the top one
    // named by the image's id, the commit's created by the container's
    // command (docker's), with its comment.
    let id = ok(&r, &["image", "inspect", "-f", "{{.Id}}", "bb:c2"]);
    let id = id.trim().trim_start_matches("sha256:");
    let steps = "{{.ID}}|{{.CreatedBy}}|{{.Comment}}";
    assert_eq!(
        ok(&r, &["history", "--format", steps, "bb:c2"]),
        format!(
            "{}|one two|second\n<missing>|true|\n<missing>||Imported from -\n",
            &id[..12]
        )
    );
    assert_eq!(
        ok(&r, &["image", "history", "-q", "--no-trunc", "bb:c2"]),
        format!("sha256:{id}\n<missing>\n<missing>\n")
    );
    let table = ok(&r, &["history", "-H=false", "bb:c2"]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("IMAGE") && lines[0].contains("CREATED BY") && lines.len() == 4,
        "{table}"
    );
    // Not human: the date as RFC 3339 to the second, sizes in bytes.
    let f = "{{.CreatedSince}}|{{.Size}}";
    // Neither container changed a file: as docker's, each commit is a
    // step that made no layer (empty_layer, size 0), on the one imported.
    let cells = ok(&r, &["history", "-H=false", "--format", f, "bb:c2"]);
    let sizes: Vec<u64> = cells
        .lines()
        .map(|l| {
            let (at, size) = l.split_once('|').unwrap_or_else(|| panic!("{cells}"));
            assert!(at.ends_with('Z') && !at.contains('.'), "{cells}");
            size.parse::<u64>().unwrap_or_else(|_| panic!("{cells}"))
        })
        .collect();
    assert!(sizes[..2] == [0, 0] && sizes[2] > 0, "{cells}");
    let layers = "{{len .RootFS.Layers}} {{.Size}}";
    assert_eq!(
        ok(&r, &["image", "inspect", "-f", layers, "bb:c2"]),
        ok(&r, &["image", "inspect", "-f", layers, "bb"])
    );
    let doc = std::fs::read_to_string(r.0.join(format!("images/{id}.config"))).unwrap();
    assert_eq!(doc.matches("empty_layer").count(), 2, "{doc}");
    let o = r.out(&["history", "nosuch"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    // The container's STOPSIGNAL, labels and volumes are the new image's too.
    ok(
        &r,
        &[
            "run",
            "--name",
            "c3",
            "--stop-signal",
            "SIGQUIT",
            "-l",
            "k=v",
            "-v",
            "/anon",
            "bb:ep",
            "x",
        ],
    );
    // An anonymous volume is a VOLUME of its Config (docker's CLI).
    let vols = "{{json .Config.Volumes}}";
    assert_eq!(ok(&r, &["inspect", "-f", vols, "c3"]), "{\"/anon\":{}}\n");
    ok(&r, &["commit", "c3", "bb:c3"]);
    assert_eq!(
        ok(&r, &["image", "inspect", "-f", vols, "bb:c3"]),
        "{\"/anon\":{}}\n"
    );
    assert_eq!(
        ok(
            &r,
            &[
                "image",
                "inspect",
                "-f",
                "{{.Config.StopSignal}} {{.Config.Labels.k}}",
                "bb:c3"
            ]
        ),
        "SIGQUIT v\n"
    );
    // A container of an older pocket (no Config recorded) keeps the
    // image's, with its command split at the image's Entrypoint.
    let id = ok(&r, &["inspect", "-f", "{{.Id}}", "c2"]);
    let cfg = r.0.join("containers").join(id.trim()).join("config.json");
    let text = std::fs::read_to_string(&cfg).unwrap();
    let stripped = strip_annotation(&text, "io.pocket.config");
    assert_ne!(stripped, text, "no io.pocket.config in {text}");
    std::fs::write(&cfg, stripped).unwrap();
    ok(&r, &["commit", "c2", "bb:old"]);
    let f2 = "{{json .Config.Entrypoint}}|{{json .Config.Cmd}}|{{json .Config.Env}}";
    assert_eq!(
        ok(&r, &["image", "inspect", "-f", f2, "bb:old"]).trim_end(),
        r#"["/bin/echo","ep"]|["one","two"]|["A=image"]"#
    );
}

/// config.json without the annotation `key` (its line, as pocket writes
/// one per key).
fn strip_annotation(text: &str, key: &str) -> String {
    let needle = format!("\"{key}\":");
    text.lines()
        .filter(|l| !l.trim_start().starts_with(&needle))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// An image another tool made (buildah's docker-archive, umoci's OCI
/// layout) saved again: each layer the very tar it came as (its split),
/// so the config is the image's own and the id stays through save and
/// load, as docker's; a layer whose files changed in the store since is
/// written anew (another digest, another id) rather than wrongly.
#[test]
fn save_keeps_the_id_of_images_others_made() {
    if !root() {
        return;
    }
    let t = Tmp::new("save-id");
    let r = Root::new("save-id");
    // Loaded from a directory holding a `.split` of the user's own: it
    // stays (a stored layer's record once took `./.split` with it).
    let cwd = t.p("cwd");
    std::fs::create_dir(&cwd).unwrap();
    std::fs::write(format!("{cwd}/.split"), "mine").unwrap();
    for name in ["busybox-docker.tar", "layered-oci"] {
        let src = test_image(name);
        let o = r
            .cmd(&["load", "-q", "-i", &src])
            .current_dir(&cwd)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    assert_eq!(
        std::fs::read_to_string(format!("{cwd}/.split")).unwrap(),
        "mine"
    );
    let ids = ok(&r, &["images", "-q", "--no-trunc"]);
    assert_eq!(ids.lines().count(), 2, "{ids}");
    for id in ids.lines() {
        let file = t.p(&format!("{}.tar", &id[7..19]));
        ok(&r, &["save", "-o", &file, id]);
        // Each layer.tar hashes to the diff_id it is named by.
        for (m, hex) in layer_members(&file) {
            assert_eq!(sha256_of_member(&file, &m), format!("sha256:{hex}"));
        }
        let r2 = Root::new(&format!("save-id-{}", &id[7..15]));
        let o = r2.out(&["load", "-q", "-i", &file]);
        assert_eq!(
            stdout(&o).trim(),
            format!("Loaded image ID: {id}"),
            "{}",
            stderr(&o)
        );
    }
    // A file of a layer changed behind the store's back: written anew.
    let id = ids.lines().find(|_| true).unwrap();
    let layers = ok(
        &r,
        &[
            "image",
            "inspect",
            "-f",
            "{{range .RootFS.Layers}}{{.}} {{end}}",
            id,
        ],
    );
    let top = layers
        .split_whitespace()
        .last()
        .unwrap()
        .trim_start_matches("sha256:");
    let dir = r.0.join("images/layers").join(top);
    let victim = sh(&format!(
        "find {} -type f -size +0 | head -1",
        dir.display()
    ));
    let victim = String::from_utf8(victim).unwrap();
    std::fs::write(victim.trim(), b"changed").unwrap();
    let file = t.p("changed.tar");
    ok(&r, &["save", "-o", &file, id]);
    let saved: Vec<String> = layer_members(&file).into_iter().map(|m| m.1).collect();
    assert!(!saved.iter().any(|h| h == top), "{saved:?}");
    let r3 = Root::new("save-id-changed");
    let o = r3.out(&["load", "-q", "-i", &file]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_ne!(stdout(&o).trim(), format!("Loaded image ID: {id}"));
}

/// The `<hex>/layer.tar` members of a docker-archive, with their hex.
fn layer_members(file: &str) -> Vec<(String, String)> {
    String::from_utf8(sh(&format!("tar -tf {file}")))
        .unwrap()
        .lines()
        .filter_map(|m| Some((m.to_string(), m.strip_suffix("/layer.tar")?.to_string())))
        .collect()
}
