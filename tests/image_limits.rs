//! Images that try to exhaust the host, and trees that try to exhaust
//! pocket: a gzip layer declaring a huge file, a layer of too many
//! entries, a layer larger than the free space of the store's filesystem
//! (a small tmpfs in a private mount namespace), each refused with one
//! line and nothing left in the store; container files with names that
//! are not UTF-8, and trees 1100 directories deep, which `rm`, `diff`,
//! `export`, `commit` and `import` handle with the usual limit of 1024
//! open files.

mod common;
use common::*;
use sha2::Digest as _;
use std::io::Write as _;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

// ------------------------------------------------------------- archives

/// A ustar header; names over 100 bytes get a pax 'x' record first.
fn header(out: &mut Vec<u8>, name: &[u8], typ: u8, size: u64) {
    if name.len() > 100 {
        // "LEN path=NAME\n", LEN counting the whole record.
        let body = 7 + name.len();
        let mut n = body + 1;
        while body + n.to_string().len() != n {
            n = body + n.to_string().len();
        }
        let mut r = format!("{n} path=").into_bytes();
        r.extend_from_slice(name);
        r.push(b'\n');
        header(out, b"PaxHeaders/x", b'x', r.len() as u64);
        out.extend_from_slice(&r);
        pad(out);
    }
    let mut h = [0u8; 512];
    let n = name.len().min(100);
    h[..n].copy_from_slice(&name[..n]);
    // Octal, or GNU base-256 where octal does not fit (sizes of 8 GiB on).
    let oct = |f: &mut [u8], v: u64| {
        let s = format!("{:0w$o}\0", v, w = f.len() - 1);
        if s.len() == f.len() {
            f.copy_from_slice(s.as_bytes());
        } else {
            let n = f.len();
            f.fill(0);
            f[n - 8..].copy_from_slice(&v.to_be_bytes());
            f[0] = 0x80;
        }
    };
    oct(&mut h[100..108], if typ == b'5' { 0o755 } else { 0o644 });
    oct(&mut h[108..116], 0);
    oct(&mut h[116..124], 0);
    oct(&mut h[124..136], size);
    oct(&mut h[136..148], 1_600_000_000);
    h[156] = typ;
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&c| c as u32).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    out.extend_from_slice(&h);
}

fn pad(out: &mut Vec<u8>) {
    out.resize(out.len().div_ceil(512) * 512, 0);
}

fn file(out: &mut Vec<u8>, name: &str, data: &[u8]) {
    header(out, name.as_bytes(), b'0', data.len() as u64);
    out.extend_from_slice(data);
    pad(out);
}

/// A file of `size` zero bytes, written as such (gzip makes it small).
fn zeros(out: &mut Vec<u8>, name: &str, size: u64) {
    header(out, name.as_bytes(), b'0', size);
    out.resize(out.len() + size as usize, 0);
    pad(out);
}

fn dir(out: &mut Vec<u8>, name: &str) {
    header(out, name.as_bytes(), b'5', 0);
}

fn end(mut t: Vec<u8>) -> Vec<u8> {
    t.extend([0u8; 1024]);
    t
}

fn sha256(b: &[u8]) -> String {
    sha2::Sha256::digest(b)
        .iter()
        .map(|c| format!("{c:02x}"))
        .collect()
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut c = Command::new("gzip")
        .args(["-1", "-n", "-c"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("gzip");
    let mut i = c.stdin.take().unwrap();
    let data = b.to_vec();
    let w = std::thread::spawn(move || i.write_all(&data).unwrap());
    let o = c.wait_with_output().unwrap();
    w.join().unwrap();
    assert!(o.status.success());
    o.stdout
}

/// A docker-archive of one image whose one layer is `blob` (gzip or
/// plain) with uncompressed digest `diff`.
fn docker_archive(blob: &[u8], diff: &str, tag: &str) -> Vec<u8> {
    let config = format!(
        "{{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{{\"Cmd\":[\"sh\"]}},\
         \"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[\"sha256:{diff}\"]}}}}"
    );
    let cname = format!("{}.json", sha256(config.as_bytes()));
    let manifest = format!(
        "[{{\"Config\":\"{cname}\",\"RepoTags\":[\"{tag}\"],\"Layers\":[\"l/layer.tar\"]}}]"
    );
    let mut t = vec![];
    file(&mut t, &cname, config.as_bytes());
    dir(&mut t, "l/");
    file(&mut t, "l/layer.tar", blob);
    file(&mut t, "manifest.json", manifest.as_bytes());
    end(t)
}

/// The store holds no image, tag or layer, and nothing in tmp/.
fn store_empty(root: &Path, what: &str) {
    let im = root.join("images");
    for e in std::fs::read_dir(&im).unwrap() {
        let n = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            ["layers", "tags", "tmp", ".lock"].contains(&n.as_str()),
            "{what}: images/{n} left in the store"
        );
    }
    for sub in ["layers", "tags", "tmp"] {
        let left: Vec<_> = std::fs::read_dir(im.join(sub))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(left.is_empty(), "{what}: images/{sub}/ holds {left:?}");
    }
}

/// One line `pocket: ...` saying `why` (any case), exit 125.
fn refused(o: &Output, why: &str, what: &str) {
    let e = stderr(o);
    eprintln!("{what}: {}", e.trim_end());
    assert_eq!(o.status.code(), Some(125), "{what}: {e}{}", stdout(o));
    assert!(
        e.starts_with("pocket: ") && e.lines().count() == 1,
        "{what}: not one error line: {e:?}"
    );
    assert!(
        e.to_lowercase().contains(&why.to_lowercase()),
        "{what}: {e:?} does not say {why:?}"
    );
}

/// A temp dir of one test, removed on drop.
struct Tmp(PathBuf);

impl Tmp {
    fn new(tag: &str) -> Tmp {
        let d = std::env::temp_dir().join(format!("pocket-lim-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Tmp(d)
    }
    fn put(&self, name: &str, data: &[u8]) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, data).unwrap();
        p.to_str().unwrap().to_string()
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `c` with stdin from `input`, output captured.
fn with_input(mut c: Command, input: &[u8]) -> Output {
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut ch = c.spawn().unwrap();
    let mut i = ch.stdin.take().unwrap();
    let data = input.to_vec();
    // pocket stops reading at the refused entry: EPIPE is fine.
    let w = std::thread::spawn(move || {
        let _ = i.write_all(&data);
    });
    let o = ch.wait_with_output().unwrap();
    w.join().unwrap();
    o
}

/// The layer `tar` given to pocket every way: `import -` (gzip),
/// `import FILE`, `load -i` of a docker-archive with a gzip layer, each
/// with `extra` arguments and environment `env`.
fn every_way(r: &Root, t: &Tmp, tar: &[u8], extra: &[&str], env: &[(&str, &str)]) -> Vec<Output> {
    let gz = gzip(tar);
    let cmd = |args: &[&str]| {
        let mut c = r.cmd(args);
        c.args(extra).envs(env.iter().copied());
        c
    };
    let plain = t.put("layer.tar", tar);
    let archive = t.put("image.tar", &docker_archive(&gz, &sha256(tar), "big:3"));
    let mut out = vec![];
    // Flags come before the positional arguments.
    let mut c = r.cmd(&["import"]);
    c.args(extra).args(["-", "big:1"]).envs(env.iter().copied());
    out.push(with_input(c, &gz));
    let mut c = r.cmd(&["import"]);
    c.args(extra)
        .args([plain.as_str(), "big:2"])
        .envs(env.iter().copied());
    out.push(c.output().unwrap());
    out.push(cmd(&["load", "-q", "-i", &archive]).output().unwrap());
    out
}

// ---------------------------------------------------------------- limits

/// A gzip layer of a few KB whose header declares a 200 GiB file: over the
/// default size limit, refused at the header, before any byte is written.
/// A 20 GiB one is refused the same way under a lowered limit (flag or
/// environment).
#[test]
fn huge_declared_file_refused_at_its_header() {
    if !root() {
        return;
    }
    let r = Root::new("lim-huge");
    let t = Tmp::new("huge");
    for (size, extra, env, why) in [
        (
            200u64 << 30,
            &[][..],
            &[][..],
            "layer over its size limit of 100GiB",
        ),
        (
            20 << 30,
            &["--max-layer-size", "1g"][..],
            &[][..],
            "limit of 1GiB",
        ),
        (
            20 << 30,
            &[][..],
            &[("POCKET_MAX_LAYER_SIZE", "10g")][..],
            "limit of 10GiB",
        ),
    ] {
        let mut tar = vec![];
        dir(&mut tar, "big/");
        file(&mut tar, "big/before", b"written first\n");
        header(&mut tar, b"big/zeros", b'0', size);
        // Only a little of its data: refused before any is needed.
        tar.resize(tar.len() + 64 * 1024, 0);
        let gz = gzip(&tar);
        assert!(gz.len() < 8192, "{} bytes of gzip", gz.len());
        for (i, o) in every_way(&r, &t, &tar, extra, env).iter().enumerate() {
            let what = format!("{size} bytes, {extra:?} {env:?}, way {i}");
            refused(o, why, &what);
            assert!(stderr(o).contains("big/zeros"), "{what}: names the entry");
            store_empty(&r.0, &what);
        }
    }
}

/// 64 MiB of real zeros (64 KB of gzip): refused under a 32 MiB limit,
/// loaded and run under a 128 MiB one and with the limit lifted (0).
#[test]
fn zeros_over_a_lowered_size_limit() {
    if !root() {
        return;
    }
    let r = Root::new("lim-zeros");
    let t = Tmp::new("zeros");
    let mut tar = vec![];
    dir(&mut tar, "z/");
    zeros(&mut tar, "z/a", 32 << 20);
    zeros(&mut tar, "z/b", 32 << 20);
    let tar = end(tar);
    for o in every_way(&r, &t, &tar, &["--max-layer-size", "32m"], &[]) {
        refused(&o, "layer over its size limit of 32MiB", "32m");
        assert!(stderr(&o).contains("z/b"), "the second file trips it");
        store_empty(&r.0, "32m");
    }
    for lim in ["128m", "0"] {
        let o = with_input(
            r.cmd(&["import", "--max-layer-size", lim, "-", "zeros:1"]),
            &gzip(&tar),
        );
        assert_eq!(o.status.code(), Some(0), "{lim}: {}", stderr(&o));
        let id = stdout(&o).trim().to_string();
        let l = std::fs::read_dir(r.0.join("images/layers"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.is_dir())
            .unwrap();
        assert_eq!(std::fs::metadata(l.join("z/b")).unwrap().len(), 32 << 20);
        assert_eq!(r.out(&["rmi", &id]).status.code(), Some(0));
    }
}

/// A layer of 2000 empty files (and a directory) against an entry limit
/// of 1000 (flag or environment): refused at the 1001st entry, nothing
/// kept; accepted when the limit is exactly its count.
#[test]
fn too_many_entries() {
    if !root() {
        return;
    }
    let r = Root::new("lim-entries");
    let t = Tmp::new("entries");
    let mut tar = vec![];
    dir(&mut tar, "many/");
    for i in 0..2000 {
        file(&mut tar, &format!("many/{i}"), b"");
    }
    let tar = end(tar);
    for (extra, env) in [
        (&["--max-layer-entries", "1000"][..], &[][..]),
        (&[][..], &[("POCKET_MAX_LAYER_ENTRIES", "1000")][..]),
    ] {
        for o in every_way(&r, &t, &tar, extra, env) {
            let what = format!("{extra:?} {env:?}");
            refused(&o, "layer over its limit of 1000 entries", &what);
            assert!(stderr(&o).contains("many/999"), "{what}: the 1001st entry");
            store_empty(&r.0, &what);
        }
    }
    let o = with_input(
        r.cmd(&["import", "--max-layer-entries", "2001", "-", "many:1"]),
        &gzip(&tar),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn bad_limit_values_are_refused() {
    if !root() {
        return;
    }
    let r = Root::new("lim-bad");
    for (args, env, why) in [
        (
            &["import", "--max-layer-size", "lots", "-"][..],
            None,
            "--max-layer-size lots: not a size",
        ),
        (
            &["import", "--max-layer-entries", "-1", "-"][..],
            None,
            "--max-layer-entries -1: not a number",
        ),
        (
            &["load", "--max-layer-entries", "1e6"][..],
            None,
            "not a number",
        ),
        (
            &["import", "-"][..],
            Some(("POCKET_MAX_LAYER_SIZE", "5x")),
            "POCKET_MAX_LAYER_SIZE 5x: not a size",
        ),
    ] {
        let mut c = r.cmd(args);
        if let Some((k, v)) = env {
            c.env(k, v);
        }
        refused(&c.output().unwrap(), why, &format!("{args:?}"));
    }
}

/// The defaults take every test image (made by buildah, skopeo, umoci).
#[test]
fn default_limits_take_the_test_images() {
    if !root() {
        return;
    }
    let r = Root::new("lim-default");
    let images = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/images");
    for name in [
        "busybox-docker.tar",
        "busybox-oci.tar",
        "busybox-oci",
        "layered-oci",
        "user-docker.tar",
    ] {
        let p = images.join(name);
        let o = r.out(&["load".as_ref(), "-q".as_ref(), "-i".as_ref(), p.as_os_str()]);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", stderr(&o));
    }
    let p = images.join("rootfs.tar.gz");
    let o = r.out(&["import".as_ref(), p.as_os_str(), "bb".as_ref()]);
    assert_eq!(o.status.code(), Some(0), "rootfs.tar.gz: {}", stderr(&o));
}

// ------------------------------------------------------------ free space

/// Run `script` (sh) in a private mount namespace where `$ROOT` is a fresh
/// tmpfs mounted with `opts`: the host never sees the mount, and it goes
/// with the namespace.
fn in_small_tmpfs(root: &Path, opts: &str, script: &str) -> Output {
    let full = format!(
        "mount -t tmpfs -o {opts} pocket-test \"$ROOT\" || exit 99\n{script}\n\
         echo '--- left'; find \"$ROOT\" -mindepth 1 | sort; echo '--- used'; \
         df -k \"$ROOT\" | tail -n 1"
    );
    Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &full])
        .env("ROOT", root)
        .env("POCKET", bin())
        .stdin(Stdio::null())
        .output()
        .expect("unshare")
}

/// Loading a 32 MiB layer (one file, then eight of 4 MiB) into a store
/// on a 16 MiB tmpfs fails with "no space" and leaves nothing: no layer,
/// no temporary directory, no image, and the space is free again. A layer
/// of more files than the tmpfs has inodes fails the same way.
#[test]
fn no_space_on_a_small_filesystem() {
    if !root() {
        return;
    }
    let t = Tmp::new("space");
    let root = t.0.join("root");
    std::fs::create_dir(&root).unwrap();
    let mut one = vec![];
    dir(&mut one, "big/");
    zeros(&mut one, "big/one", 32 << 20);
    let one = end(one);
    let mut eight = vec![];
    dir(&mut eight, "big/");
    for i in 0..8 {
        zeros(&mut eight, &format!("big/{i}"), 4 << 20);
    }
    let eight = end(eight);
    let mut many = vec![];
    dir(&mut many, "many/");
    for i in 0..500 {
        file(&mut many, &format!("many/{i}"), b"");
    }
    let many = end(many);
    let mounts = host_mounts();
    // Refused before writing: the whole file, or the last inode, does
    // not fit (not an ENOSPC from write(2) once the disk is full).
    for (tag, layer, opts, why) in [
        ("one", &one, "size=16m", "the file needs 33554432 bytes"),
        ("eight", &eight, "size=16m", "the file needs 4194304 bytes"),
        ("inodes", &many, "size=16m,nr_inodes=200", "no free inodes"),
    ] {
        let gz = gzip(layer);
        let archive = t.put(
            &format!("{tag}.tar"),
            &docker_archive(&gz, &sha256(layer), "big:1"),
        );
        let o = in_small_tmpfs(
            &root,
            opts,
            &format!(
                "\"$POCKET\" --root \"$ROOT\" load -q -i {archive} 2>&1; echo \"rc=$?\"; \
                 \"$POCKET\" --root \"$ROOT\" images -q"
            ),
        );
        let out = stdout(&o);
        eprintln!("{tag}: {out}{}", stderr(&o));
        assert_eq!(o.status.code(), Some(0), "{tag}: {out}{}", stderr(&o));
        let (log, rest) = out.split_once("--- left\n").unwrap();
        let (left, used) = rest.split_once("--- used\n").unwrap();
        let mut lines = log.lines();
        let err = lines.next().unwrap();
        assert!(
            err.starts_with("pocket: ") && err.contains("no space left on device"),
            "{tag}: {err:?}"
        );
        assert!(err.contains(why), "{tag}: {err:?} does not say {why:?}");
        assert_eq!(lines.next(), Some("rc=125"), "{tag}: {log}");
        assert_eq!(
            lines.next(),
            None,
            "{tag}: images -q lists something: {log}"
        );
        let r = root.to_str().unwrap();
        let want: Vec<String> = ["images", "images/layers", "images/tags", "images/tmp"]
            .iter()
            .map(|p| format!("{r}/{p}"))
            .collect();
        let left: Vec<&str> = left
            .lines()
            .filter(|l| !l.starts_with(&format!("{r}/containers")) && !l.ends_with("/.lock"))
            .collect();
        assert_eq!(left, want, "{tag}: left in the store");
        let kib: u64 = used.split_whitespace().nth(2).unwrap().parse().unwrap();
        assert!(kib < 256, "{tag}: {kib} KiB still used: {used}");
    }
    assert_eq!(host_mounts(), mounts, "the tmpfs leaked into the host");
    assert_eq!(std::fs::read_dir(&root).unwrap().count(), 0);
}

// --------------------------------------------------- names and deep trees

/// pocket itself under the usual soft limit of 1024 open files (this
/// machine's may be higher, which would hide an fd per level).
fn low_fds(c: &mut Command) -> &mut Command {
    // SAFETY: setrlimit is async-signal-safe.
    unsafe {
        c.pre_exec(|| {
            let l = libc::rlimit {
                rlim_cur: 1024,
                rlim_max: 1024,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &l) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}

fn ok(r: &Root, args: &[&str]) -> String {
    let o = low_fds(&mut r.cmd(args)).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    stdout(&o)
}

/// The busybox rootfs as image `bb`.
fn bb(r: &Root) {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/images/rootfs.tar.gz");
    let o = r.out(&["import".as_ref(), p.as_os_str(), "bb".as_ref()]);
    assert_eq!(o.status.code(), Some(0), "import: {}", stderr(&o));
}

/// Wait until the container has written /ready (its upper dir shows it).
fn ready(r: &Root, id: &str) {
    let upper = r.0.join("containers").join(id).join("upper/ready");
    wait_for(60, "the container's files", || upper.exists().then_some(()));
}

/// `rmi` renames a layer into tmp/ and removes it there: nothing stays.
fn tmp_empty(r: &Root) {
    let left: Vec<_> = std::fs::read_dir(r.0.join("images/tmp"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "images/tmp/ holds {left:?}");
}

fn gone(r: &Root, id: &str) {
    assert!(!r.has_dir(id), "container dir left");
    assert_eq!(stdout(&r.out(&["ps", "-aq"])), "", "container record left");
}

/// Files whose names are not UTF-8 (a byte 0xff, a directory 0xfe holding
/// a 0xfd) in a container's upper dir: `rm -f` removes them all.
#[test]
fn rm_removes_names_that_are_not_utf8() {
    if !root() {
        return;
    }
    let r = Root::new("lim-names");
    bb(&r);
    let id = ok(
        &r,
        &[
            "run",
            "-d",
            "bb",
            "sh",
            "-c",
            "cd /tmp && printf x > \"$(printf 'bad\\377')\" && mkdir \"$(printf 'd\\376')\" && \
             printf y > \"$(printf 'd\\376/f\\375')\" && touch /ready && sleep 1000",
        ],
    );
    let id = id.trim();
    ready(&r, id);
    let tmp = r.0.join("containers").join(id).join("upper/tmp");
    let names: Vec<Vec<u8>> = std::fs::read_dir(&tmp)
        .unwrap()
        .map(|e| {
            use std::os::unix::ffi::OsStrExt;
            e.unwrap().file_name().as_bytes().to_vec()
        })
        .collect();
    assert!(names.contains(&b"bad\xff".to_vec()), "{names:?}");
    assert!(names.contains(&b"d\xfe".to_vec()), "{names:?}");
    ok(&r, &["rm", "-f", id]);
    gone(&r, id);
}

/// 1100 nested directories, a file in each: paths of 2200+ bytes, under
/// PATH_MAX, and more levels than the process may open files.
const DEPTH: usize = 1100;

#[test]
fn deep_tree_in_a_container() {
    if !root() {
        return;
    }
    let r = Root::new("lim-deep");
    let t = Tmp::new("deep");
    bb(&r);
    let script = format!(
        "cd /tmp && i=0; while [ $i -lt {DEPTH} ]; do mkdir a && cd a && echo $i > f; \
         i=$((i+1)); done; touch /ready; sleep 1000"
    );
    let id = ok(&r, &["run", "-d", "bb", "sh", "-c", &script]);
    let id = id.trim().to_string();
    ready(&r, &id);
    let deepest = format!("/tmp/{}f", "a/".repeat(DEPTH));
    // diff: every level and its file, the deepest included.
    let d = ok(&r, &["diff", &id]);
    assert!(
        d.lines().any(|l| l == format!("A {deepest}")),
        "diff misses the deepest file"
    );
    assert!(
        d.lines().count() >= 2 * DEPTH,
        "{} lines",
        d.lines().count()
    );
    // export: a tar GNU tar reads, holding the deepest file.
    let tar = t.0.join("fs.tar");
    ok(&r, &["export", "-o", tar.to_str().unwrap(), &id]);
    let o = Command::new("tar")
        .args(["-xOf", tar.to_str().unwrap(), &deepest[1..]])
        .output()
        .unwrap();
    assert_eq!(
        stdout(&o),
        format!("{}\n", DEPTH - 1),
        "export: {}",
        stderr(&o)
    );
    // commit: a layer as deep, read back by a container of the new image.
    ok(&r, &["commit", &id, "deep:1"]);
    let o = low_fds(&mut r.cmd(&["run", "--rm", "deep:1", "cat", &deepest]))
        .output()
        .unwrap();
    assert_eq!(
        stdout(&o),
        format!("{}\n", DEPTH - 1),
        "run: {}",
        stderr(&o)
    );
    ok(&r, &["rm", "-f", &id]);
    gone(&r, &id);
    // rmi removes the deep layer too.
    ok(&r, &["rmi", "deep:1"]);
    let mut layers: Vec<String> = std::fs::read_dir(r.0.join("images/layers"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    layers.sort();
    // bb's layer, its .size and its .split (the tar it came as).
    assert_eq!(layers.len(), 3, "{layers:?}");
    assert!(
        layers[1].ends_with(".size") && layers[2].ends_with(".split"),
        "{layers:?}"
    );
    tmp_empty(&r);
}

/// A tar of 1100 nested directories (pax names of 2200 bytes) imported
/// and removed again with `rmi`.
#[test]
fn deep_tar_imported() {
    if !root() {
        return;
    }
    let r = Root::new("lim-deeptar");
    let mut tar = vec![];
    let mut p = String::new();
    for i in 0..DEPTH {
        p.push_str("a/");
        dir(&mut tar, &p);
        file(&mut tar, &format!("{p}f"), format!("{i}\n").as_bytes());
    }
    let tar = end(tar);
    let mut c = r.cmd(&["import", "-", "deeptar:1"]);
    low_fds(&mut c);
    let o = with_input(c, &tar);
    assert_eq!(o.status.code(), Some(0), "import: {}", stderr(&o));
    let layer = std::fs::read_dir(r.0.join("images/layers"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .unwrap();
    let f = layer.join(format!("{p}f"));
    assert_eq!(
        std::fs::read_to_string(f).unwrap(),
        format!("{}\n", DEPTH - 1)
    );
    ok(&r, &["rmi", "deeptar:1"]);
    assert!(!layer.exists(), "the deep layer is left");
    tmp_empty(&r);
}

/// `commit` extracts the container's changes as a layer: the same bounds,
/// from its flags or the environment; a refused commit adds no image and
/// leaves nothing in tmp/.
#[test]
fn commit_over_a_lowered_limit() {
    if !root() {
        return;
    }
    let r = Root::new("lim-commit");
    bb(&r);
    let id = ok(
        &r,
        &[
            "run",
            "-d",
            "bb",
            "sh",
            "-c",
            "head -c 3000000 /dev/zero > /big && touch /ready && sleep 1000",
        ],
    );
    let id = id.trim();
    ready(&r, id);
    let images = || stdout(&r.out(&["images", "-q"])).lines().count();
    let o = r.out(&["commit", "--max-layer-size", "1m", id, "c:1"]);
    refused(
        &o,
        "extract big: layer over its size limit of 1MiB",
        "commit",
    );
    let mut c = r.cmd(&["commit", id, "c:1"]);
    c.env("POCKET_MAX_LAYER_ENTRIES", "1");
    refused(
        &c.output().unwrap(),
        "layer over its limit of 1 entries",
        "commit env",
    );
    assert_eq!(images(), 1, "a refused commit made an image");
    tmp_empty(&r);
    ok(&r, &["commit", "--max-layer-entries", "2", id, "c:1"]);
    assert_eq!(images(), 2);
    ok(&r, &["rm", "-f", id]);
}
