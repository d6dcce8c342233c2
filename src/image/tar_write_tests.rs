//! Unit tests of tar_write.rs: headers read back by tar.rs and by GNU tar,
//! trees written deterministically, whiteouts in both forms.

use super::*;
use crate::image::extract::{self, Whiteouts};
use crate::image::tar::Reader;
use crate::sys::cstr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() {
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "image::tar_write tests create device nodes and chown: run them as root"
    );
}

fn ent(path: &[u8], kind: Kind) -> Entry {
    Entry {
        path: path.to_vec(),
        kind,
        mode: 0o644,
        uid: 0,
        gid: 0,
        mtime: (1_700_000_000, 0),
        size: 0,
        link: Vec::new(),
        major: 0,
        minor: 0,
        xattrs: Vec::new(),
    }
}

/// Every entry of an archive with its data.
fn read_all(tar: &[u8]) -> Vec<(Entry, Vec<u8>)> {
    let mut src: &[u8] = tar;
    let mut r = Reader::new(&mut src);
    let mut out = Vec::new();
    while let Some(e) = r.next().unwrap() {
        let mut d = Vec::new();
        let mut b = [0u8; 4096];
        loop {
            let n = r.read_data(&mut b).unwrap();
            if n == 0 {
                break;
            }
            d.extend_from_slice(&b[..n]);
        }
        out.push((e, d));
    }
    out
}

fn write(entries: &[(Entry, Vec<u8>)]) -> Vec<u8> {
    let mut v = Vec::new();
    let mut w = Writer::new(&mut v);
    for (e, d) in entries {
        w.append(e).unwrap();
        for c in d.chunks(1000) {
            w.data(c).unwrap();
        }
    }
    let n = w.finish().unwrap();
    assert_eq!(n as usize, v.len());
    assert_eq!(v.len() % 512, 0);
    v
}

#[test]
fn headers_read_back() {
    let long = |n: usize| {
        let mut p = Vec::new();
        while p.len() < n {
            p.extend_from_slice(b"abcdefghi/");
        }
        p.truncate(n);
        p.push(b'f');
        p
    };
    let mut cases: Vec<(Entry, Vec<u8>)> = Vec::new();
    let mut f = ent(b"plain", Kind::File);
    f.size = 513;
    cases.push((f, vec![7u8; 513]));
    cases.push((ent(b"empty", Kind::File), vec![]));
    cases.push((ent(&[b'x'; 100], Kind::File), vec![]));
    cases.push((ent(&long(199), Kind::File), vec![]));
    cases.push((ent(&long(300), Kind::File), vec![]));
    cases.push((ent(&long(5000), Kind::File), vec![]));
    cases.push((ent("dir/ünïcödé".as_bytes(), Kind::File), vec![]));
    cases.push((ent(b"raw\xff\xfe", Kind::File), vec![]));
    let mut d = ent(b"d", Kind::Dir);
    d.mode = 0o1777;
    cases.push((d, vec![]));
    let mut d = ent(&long(150), Kind::Dir);
    d.mode = 0o755;
    cases.push((d, vec![]));
    let mut s = ent(b"sym", Kind::Symlink);
    s.link = long(150);
    cases.push((s, vec![]));
    let mut s = ent(b"sym2", Kind::Symlink);
    s.link = "../ü".as_bytes().to_vec();
    cases.push((s, vec![]));
    let mut l = ent(b"hard", Kind::Link);
    l.link = b"plain".to_vec();
    cases.push((l, vec![]));
    let mut o = ent(b"owned", Kind::File);
    (o.uid, o.gid, o.mode) = (3_000_000, 2_097_151, 0o4755);
    cases.push((o, vec![]));
    let mut t = ent(b"old", Kind::File);
    t.mtime = (-5, 0);
    cases.push((t, vec![]));
    let mut t = ent(b"far", Kind::File);
    t.mtime = (1 << 40, 0);
    cases.push((t, vec![]));
    let mut c = ent(b"chr", Kind::Char);
    (c.major, c.minor) = (4095, 3_000_000);
    cases.push((c, vec![]));
    let mut b = ent(b"blk", Kind::Block);
    (b.major, b.minor) = (8, 1);
    cases.push((b, vec![]));
    cases.push((ent(b"fifo", Kind::Fifo), vec![]));
    let mut x = ent(b"xattrs", Kind::File);
    x.size = 3;
    x.xattrs = vec![
        (
            b"security.capability".to_vec(),
            vec![1, 0, 0, 2, 0, 0x20, 0, 0],
        ),
        (b"user.odd".to_vec(), b"a\0b\n=c".to_vec()),
    ];
    cases.push((x, b"abc".to_vec()));

    let tar = write(&cases);
    let back = read_all(&tar);
    assert_eq!(back.len(), cases.len());
    for ((want, wd), (got, gd)) in cases.iter().zip(&back) {
        let mut want = want.clone();
        if want.kind == Kind::Dir {
            want.path.push(b'/');
        }
        assert_eq!(&want, got);
        assert_eq!(wd, gd);
    }
    // Short ASCII names stay in ustar fields: no pax record for them.
    let plain = write(&cases[..1]);
    assert_eq!(plain.len(), 512 + 1024 + 1024);
    assert_eq!(&plain[..6], b"plain\0");
}

#[test]
fn big_sizes_use_pax() {
    let mut e = ent(b"huge", Kind::File);
    e.size = 9 << 30;
    let mut v = Vec::new();
    let mut w = Writer::new(&mut v);
    w.append(&e).unwrap();
    w.flush().unwrap();
    drop(w);
    let mut src: &[u8] = &v;
    let got = Reader::new(&mut src).next().unwrap().unwrap();
    assert_eq!(got.size, 9 << 30);
    let rec = b"19 size=9663676416\n";
    assert!(v.windows(rec.len()).any(|w| w == rec), "pax size record");
}

#[test]
fn pax_record_lengths() {
    for n in 0..2000 {
        let mut out = Vec::new();
        record(&mut out, b"k", &vec![b'v'; n]);
        let sp = out.iter().position(|&c| c == b' ').unwrap();
        let len: usize = std::str::from_utf8(&out[..sp]).unwrap().parse().unwrap();
        assert_eq!(len, out.len(), "value of {n} bytes");
    }
}

#[test]
fn writer_checks_data_sizes() {
    let mut v = Vec::new();
    let mut w = Writer::new(&mut v);
    let mut e = ent(b"f", Kind::File);
    e.size = 2;
    w.append(&e).unwrap();
    assert!(w.data(b"abc").is_err());
    w.data(b"a").unwrap();
    assert!(w.append(&e).is_err(), "entry before the last one's data");
    assert!(w.finish().is_err(), "finish with data missing");
}

/// A temp dir of one test, removed on drop.
struct Tmp(PathBuf);

impl Tmp {
    fn new(tag: &str) -> Tmp {
        let d = std::env::temp_dir().join(format!("pocket-tw-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Tmp(d)
    }
    fn p(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn c(p: &Path) -> std::ffi::CString {
    cstr::cstring(p.as_os_str().as_bytes()).unwrap()
}

fn open_dir(p: &Path) -> Fd {
    fd::open(&c(p), libc::O_PATH | libc::O_DIRECTORY, 0).unwrap()
}

fn setxattr(p: &Path, k: &str, v: &[u8]) {
    let k = std::ffi::CString::new(k).unwrap();
    let r = unsafe { libc::lsetxattr(c(p).as_ptr(), k.as_ptr(), v.as_ptr().cast(), v.len(), 0) };
    assert_eq!(r, 0, "setxattr {}", p.display());
}

fn getxattr(p: &Path, k: &str) -> Option<Vec<u8>> {
    let k = std::ffi::CString::new(k).unwrap();
    let mut b = [0u8; 256];
    let r = unsafe { libc::lgetxattr(c(p).as_ptr(), k.as_ptr(), b.as_mut_ptr().cast(), b.len()) };
    (r >= 0).then(|| b[..r as usize].to_vec())
}

fn mknod(p: &Path, kind: u32, major: u32, minor: u32) {
    let r = unsafe { libc::mknod(c(p).as_ptr(), kind | 0o640, libc::makedev(major, minor)) };
    assert_eq!(r, 0, "mknod {}", p.display());
}

fn set_mtime(p: &Path, t: i64) {
    let ts = [libc::timespec {
        tv_sec: t,
        tv_nsec: 0,
    }; 2];
    let r = unsafe {
        libc::utimensat(
            libc::AT_FDCWD,
            c(p).as_ptr(),
            ts.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    assert_eq!(r, 0);
}

const NON_UTF8: &[u8] = b"caf\xe9";

/// A tree with one of everything, in overlay form (a whiteout, an opaque
/// directory), owners, modes, xattrs, a hard link, long and raw names.
fn sample(t: &Tmp) -> PathBuf {
    let r = t.p("tree");
    let long = "n".repeat(120);
    std::fs::create_dir_all(r.join("etc/sub")).unwrap();
    std::fs::create_dir_all(r.join(format!("deep/{long}/{long}"))).unwrap();
    std::fs::create_dir_all(r.join("opq")).unwrap();
    std::fs::write(r.join("etc/passwd"), b"root:x:0:0::/root:/bin/sh\n").unwrap();
    std::fs::write(r.join(format!("deep/{long}/{long}/f")), vec![b'z'; 70_000]).unwrap();
    std::fs::write(r.join("opq/new"), b"new").unwrap();
    std::fs::write(r.join("setuid"), b"#!/bin/sh\n").unwrap();
    std::os::unix::fs::chown(r.join("setuid"), Some(1234), Some(5678)).unwrap();
    std::fs::set_permissions(r.join("setuid"), std::fs::Permissions::from_mode(0o4755)).unwrap();
    std::fs::hard_link(r.join("etc/passwd"), r.join("etc/sub/passwd2")).unwrap();
    std::os::unix::fs::symlink("../etc/passwd", r.join("opq/link")).unwrap();
    std::os::unix::fs::symlink("/".to_string() + &"t".repeat(200), r.join("longlink")).unwrap();
    std::fs::write(r.join(std::ffi::OsStr::from_bytes(NON_UTF8)), b"raw").unwrap();
    mknod(&r.join("null"), libc::S_IFCHR, 1, 3);
    mknod(&r.join("gone"), libc::S_IFCHR, 0, 0);
    mknod(&r.join("fifo"), libc::S_IFIFO, 0, 0);
    setxattr(&r.join("etc/passwd"), "user.pocket", b"v\0\n=1");
    setxattr(&r.join("opq"), "trusted.overlay.opaque", b"y");
    std::os::unix::net::UnixListener::bind(r.join("sock")).unwrap();
    for p in [
        "etc/passwd",
        "opq/new",
        "setuid",
        "null",
        "gone",
        "fifo",
        "opq/link",
    ] {
        set_mtime(&r.join(p), 1_600_000_000);
    }
    for p in ["etc/sub", "etc", "opq", "deep"] {
        set_mtime(&r.join(p), 1_500_000_000);
    }
    r
}

fn tree_tar(dir: &Path, oci: bool) -> Vec<u8> {
    let mut v = Vec::new();
    let n = write_tree(&open_dir(dir), &mut v, &Opts { oci_whiteouts: oci }).unwrap();
    assert_eq!(n as usize, v.len());
    v
}

#[test]
fn tree_in_overlay_form() {
    root();
    let t = Tmp::new("keep");
    let r = sample(&t);
    let tar = tree_tar(&r, false);
    assert_eq!(tar, tree_tar(&r, false), "same tree, same bytes");
    let all = read_all(&tar);
    let paths: Vec<&[u8]> = all.iter().map(|(e, _)| &e.path[..]).collect();
    let mut sorted = paths.clone();
    sorted.sort();
    // Depth first, names in byte order within each directory.
    assert_eq!(paths[0], b"caf\xe9");
    assert!(paths.contains(&&b"etc/"[..]) && paths.contains(&&b"opq/link"[..]));
    assert!(
        !paths.iter().any(|p| p.starts_with(b"sock")),
        "sockets are skipped"
    );
    let get = |p: &[u8]| all.iter().find(|(e, _)| e.path == p).unwrap();
    let (e, d) = get(b"etc/passwd");
    assert_eq!(d, b"root:x:0:0::/root:/bin/sh\n");
    assert_eq!(e.mtime.0, 1_600_000_000);
    assert_eq!(
        e.xattrs,
        vec![(b"user.pocket".to_vec(), b"v\0\n=1".to_vec())]
    );
    let (e, _) = get(b"etc/sub/passwd2");
    assert_eq!((e.kind, &e.link[..]), (Kind::Link, &b"etc/passwd"[..]));
    let (e, _) = get(b"setuid");
    assert_eq!((e.mode, e.uid, e.gid), (0o4755, 1234, 5678));
    let (e, _) = get(b"gone");
    assert_eq!((e.kind, e.major, e.minor), (Kind::Char, 0, 0));
    let (e, _) = get(b"null");
    assert_eq!(
        (e.kind, e.major, e.minor, e.mode),
        (Kind::Char, 1, 3, 0o640)
    );
    assert_eq!(get(b"fifo").0.kind, Kind::Fifo);
    let (e, _) = get(b"opq/");
    assert!(e.xattrs.is_empty(), "trusted.overlay.* never written");
    assert_eq!(e.mtime.0, 1_500_000_000);
    assert!(
        !paths
            .iter()
            .any(|p| p.starts_with(b".wh.") || p.ends_with(b".wh..wh..opq"))
    );
    let long = format!("deep/{0}/{0}/f", "n".repeat(120));
    assert_eq!(get(long.as_bytes()).1.len(), 70_000);
    assert_eq!(get(b"longlink").0.link.len(), 201);
}

#[test]
fn tree_in_oci_form_round_trips() {
    root();
    let t = Tmp::new("oci");
    let r = sample(&t);
    let tar = tree_tar(&r, true);
    let all = read_all(&tar);
    let paths: Vec<&[u8]> = all.iter().map(|(e, _)| &e.path[..]).collect();
    let at = |p: &[u8]| paths.iter().position(|x| *x == p).unwrap();
    assert!(!paths.contains(&&b"gone"[..]));
    let (wh, _) = &all[at(b".wh.gone")];
    assert_eq!((wh.kind, wh.size, wh.mtime.0), (Kind::File, 0, 0));
    assert_eq!(
        at(b"opq/.wh..wh..opq"),
        at(b"opq/") + 1,
        "marker right after its dir"
    );
    assert_eq!(all[at(b"null")].0.kind, Kind::Char, "other devices stay");

    // Extract it as a layer, write that again: the same bytes.
    let out = t.p("out");
    std::fs::create_dir(&out).unwrap();
    let o = extract::Opts {
        devices: true,
        chown: true,
        xattrs: true,
        whiteouts: Whiteouts::Overlay,
        limits: crate::image::limits::Limits::NONE,
    };
    let mut src: &[u8] = &tar;
    extract::extract(&mut src, &open_dir(&out), &o).unwrap();
    assert_eq!(
        getxattr(&out.join("opq"), "trusted.overlay.opaque").unwrap(),
        b"y"
    );
    assert_eq!(
        std::fs::symlink_metadata(out.join("gone")).unwrap().rdev(),
        0
    );
    assert_eq!(
        std::fs::metadata(out.join("etc/passwd")).unwrap().ino(),
        std::fs::metadata(out.join("etc/sub/passwd2"))
            .unwrap()
            .ino()
    );
    assert!(
        tar == tree_tar(&out, true),
        "extract + write gives the same archive"
    );
}

fn gnu_tar(args: &[&str]) -> String {
    let o = Command::new("tar")
        .env("TZ", "UTC")
        .args(args)
        .output()
        .expect("GNU tar installed");
    assert!(
        o.status.success(),
        "tar {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn gnu_tar_reads_it() {
    root();
    let t = Tmp::new("gnu");
    let r = sample(&t);
    let file = t.p("a.tar");
    std::fs::write(&file, tree_tar(&r, false)).unwrap();
    let list = gnu_tar(&["-tvf", file.to_str().unwrap()]);
    for (start, end) in [
        ("-rwsr-xr-x 1234/5678", " setuid"),
        ("hrw-r--r--", " etc/sub/passwd2 link to etc/passwd"),
        ("crw-r----- 0/0", " 1,3 2020-09-13 12:26 null"),
        ("lrwxrwxrwx", " opq/link -> ../etc/passwd"),
        ("prw-r-----", " fifo"),
    ] {
        let ok = list
            .lines()
            .any(|l| l.starts_with(start) && l.ends_with(end));
        assert!(ok, "{start:?}..{end:?} not in:\n{list}");
    }
    let x = t.p("x");
    std::fs::create_dir(&x).unwrap();
    gnu_tar(&[
        "--xattrs",
        "--xattrs-include=*",
        "-xpf",
        file.to_str().unwrap(),
        "-C",
        x.to_str().unwrap(),
    ]);
    let m = |p: &str| std::fs::symlink_metadata(x.join(p)).unwrap();
    assert_eq!(
        std::fs::read(x.join("etc/passwd")).unwrap(),
        b"root:x:0:0::/root:/bin/sh\n"
    );
    assert_eq!(m("etc/passwd").ino(), m("etc/sub/passwd2").ino());
    assert_eq!(m("etc/passwd").mtime(), 1_600_000_000);
    assert_eq!(m("etc").mtime(), 1_500_000_000);
    assert_eq!(
        (m("setuid").mode() & 0o7777, m("setuid").uid()),
        (0o4755, 1234)
    );
    assert!(m("fifo").file_type().is_fifo());
    assert_eq!(m("null").rdev(), libc::makedev(1, 3));
    assert_eq!(
        std::fs::read_link(x.join("opq/link")).unwrap(),
        Path::new("../etc/passwd")
    );
    assert_eq!(
        std::fs::read_link(x.join("longlink"))
            .unwrap()
            .as_os_str()
            .len(),
        201
    );
    let long = format!("deep/{0}/{0}/f", "n".repeat(120));
    assert_eq!(std::fs::read(x.join(long)).unwrap().len(), 70_000);
    assert_eq!(
        std::fs::read(x.join(std::ffi::OsStr::from_bytes(NON_UTF8))).unwrap(),
        b"raw"
    );
    assert_eq!(
        getxattr(&x.join("etc/passwd"), "user.pocket").unwrap(),
        b"v\0\n=1"
    );
}

#[test]
fn names_are_bytes_sorted() {
    let t = Tmp::new("names");
    for n in [&b"b"[..], b"a", b"\xff", b"B", b".x"] {
        std::fs::write(t.0.join(std::ffi::OsStr::from_bytes(n)), b"").unwrap();
    }
    let d = fd::open(&c(&t.0), libc::O_RDONLY | libc::O_DIRECTORY, 0).unwrap();
    let got = names(&d).unwrap();
    assert_eq!(
        got,
        vec![
            b".x".to_vec(),
            b"B".to_vec(),
            b"a".to_vec(),
            b"b".to_vec(),
            b"\xff".to_vec()
        ]
    );
}

/// A mount below the tree is written as an empty directory. Run twice:
/// outside, it makes a private mount namespace (unshare -m) with a tmpfs
/// in the tree and runs itself again in there, where it checks the walk.
#[test]
fn stops_at_mount_points() {
    root();
    if let Ok(dir) = std::env::var("POCKET_TW_MNT") {
        let dir = Path::new(&dir);
        let all = read_all(&tree_tar(&dir.join("tree"), false));
        let paths: Vec<&[u8]> = all.iter().map(|(e, _)| &e.path[..]).collect();
        assert_eq!(paths, [&b"mnt/"[..], b"plain"]);
        std::fs::write(dir.join("checked"), b"").unwrap();
        return;
    }
    let t = Tmp::new("mnt");
    let m = t.p("tree/mnt");
    std::fs::create_dir_all(&m).unwrap();
    std::fs::write(t.p("tree/plain"), b"x").unwrap();
    let script = format!(
        "mount -t tmpfs none {0} && touch {0}/inside && \
         exec \"$0\" --exact image::tar_write::tests::stops_at_mount_points --test-threads 1",
        m.display()
    );
    let st = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", &script])
        .arg(std::env::current_exe().unwrap())
        .env("POCKET_TW_MNT", &t.0)
        .status()
        .unwrap();
    assert!(st.success());
    assert!(
        t.p("checked").exists(),
        "the walk ran in the mount namespace"
    );
    assert!(
        !Path::new(&m).join("inside").exists(),
        "the tmpfs stayed in there"
    );
}
