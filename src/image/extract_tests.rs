//! Unit tests of extract.rs's shortcuts: the cached parent directories,
//! and the chown / fchmod calls left out once a directory's new files are
//! known to come out right. Each checks the tree against the archive.

use super::*;
use crate::sys::cstr;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// ustar entries with a given owner and mode.
#[derive(Default)]
struct T(Vec<u8>);

impl T {
    fn add(&mut self, name: &str, typ: u8, data: &[u8], mode: u32, ids: (u32, u32), link: &str) {
        assert!(name.len() <= 100 && link.len() <= 100, "ustar fields");
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        let oct = |f: &mut [u8], v: u64| {
            let s = format!("{:0w$o}\0", v, w = f.len() - 1);
            f.copy_from_slice(s.as_bytes());
        };
        oct(&mut h[100..108], mode as u64);
        oct(&mut h[108..116], ids.0 as u64);
        oct(&mut h[116..124], ids.1 as u64);
        oct(&mut h[124..136], data.len() as u64);
        oct(&mut h[136..148], 1_500_000_000);
        h[156] = typ;
        h[157..157 + link.len()].copy_from_slice(link.as_bytes());
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u64 = h.iter().map(|&c| c as u64).sum();
        h[148..156].copy_from_slice(format!("{:06o}\0 ", sum).as_bytes());
        self.0.extend_from_slice(&h);
        self.0.extend_from_slice(data);
        self.0.resize(self.0.len().div_ceil(512) * 512, 0);
    }
    fn file(&mut self, name: &str, mode: u32, ids: (u32, u32)) -> &mut T {
        self.add(name, b'0', name.as_bytes(), mode, ids, "");
        self
    }
    fn node(&mut self, name: &str, typ: u8, link: &str) -> &mut T {
        self.add(name, typ, b"", 0o755, (0, 0), link);
        self
    }
    fn end(&self) -> Vec<u8> {
        let mut v = self.0.clone();
        v.resize(v.len() + 1024, 0);
        v
    }
}

struct Tmp(PathBuf);

impl Tmp {
    fn new(tag: &str) -> Tmp {
        let p = std::env::temp_dir().join(format!("pocket-x-{}-{}", tag, std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(p.join("dest")).unwrap();
        std::fs::create_dir_all(p.join("outside")).unwrap();
        Tmp(p)
    }
    fn dest(&self) -> PathBuf {
        self.0.join("dest")
    }
    fn run(&self, tar: &[u8], opts: &Opts) -> Result<Stats> {
        let p = cstr::cstring(self.dest().as_os_str().as_encoded_bytes()).unwrap();
        let dest = fd::open(&p, libc::O_PATH | libc::O_DIRECTORY, 0).unwrap();
        let mut src: &[u8] = tar;
        extract(&mut src, &dest, opts)
    }
    fn meta(&self, rel: &str) -> std::fs::Metadata {
        std::fs::symlink_metadata(self.dest().join(rel)).unwrap()
    }
    fn outside_empty(&self) -> bool {
        std::fs::read_dir(self.0.join("outside"))
            .unwrap()
            .next()
            .is_none()
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn root() {
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "image::extract tests chown: run them as root"
    );
}

const CHOWN: Opts = Opts {
    devices: false,
    chown: true,
    xattrs: true,
    whiteouts: Whiteouts::Overlay,
    limits: Limits::NONE,
};

/// (name, mode, (uid, gid)) of each file.
type Want = Vec<(String, u32, (u32, u32))>;

/// Modes and owners in the order an archive gives them, several per
/// directory so that later files take the shortcuts the first one taught.
fn mixed() -> (Vec<u8>, Want) {
    let mut t = T::default();
    let mut want = Vec::new();
    let kinds = [
        (0o644, (0, 0)),
        (0o755, (0, 0)),
        (0o600, (1000, 1000)),
        (0o4755, (0, 0)),
        (0o640, (0, 42)),
        (0o777, (7, 0)),
        (0o644, (0, 0)),
        (0o2711, (0, 5)),
        (0o1777, (0, 0)),
        (0o444, (0, 0)),
    ];
    for d in ["a", "a/b", "c"] {
        for (i, (mode, ids)) in kinds.iter().enumerate() {
            let name = format!("{}/f{}", d, i);
            t.file(&name, *mode, *ids);
            want.push((name, *mode, *ids));
        }
    }
    (t.end(), want)
}

fn check(x: &Tmp, want: &[(String, u32, (u32, u32))]) {
    for (name, mode, ids) in want {
        let m = x.meta(name);
        assert_eq!(m.mode() & 0o7777, *mode, "{} mode", name);
        assert_eq!((m.uid(), m.gid()), *ids, "{} owner", name);
        assert_eq!(std::fs::read(x.dest().join(name)).unwrap(), name.as_bytes());
    }
}

#[test]
fn modes_and_owners_exact() {
    root();
    let x = Tmp::new("modes");
    let (tar, want) = mixed();
    x.run(&tar, &CHOWN).unwrap();
    check(&x, &want);
}

/// A default ACL masks new files' modes as a umask would: every file must
/// still end with the archive's mode.
#[test]
fn modes_exact_under_a_default_acl() {
    root();
    let x = Tmp::new("acl");
    // system.posix_acl_default: version 2, then (tag, perm, id) entries:
    // user::rwx group::r-x other::---
    let mut acl = 2u32.to_le_bytes().to_vec();
    for (tag, perm) in [(1u16, 7u16), (4, 5), (0x20, 0)] {
        acl.extend_from_slice(&tag.to_le_bytes());
        acl.extend_from_slice(&perm.to_le_bytes());
        acl.extend_from_slice(&u32::MAX.to_le_bytes());
    }
    let p = cstr::cstring(x.dest().as_os_str().as_encoded_bytes()).unwrap();
    let d = fd::open(&p, libc::O_RDONLY | libc::O_DIRECTORY, 0).unwrap();
    crate::sys::file::fsetxattr(d.raw(), c"system.posix_acl_default", &acl)
        .expect("a filesystem with POSIX ACLs for the temp dir");
    // The ACL bites: a file made the plain way loses group write and
    // every bit for others.
    std::fs::write(x.dest().join("probe"), b"").unwrap();
    assert_eq!(x.meta("probe").mode() & 0o777, 0o640);
    std::fs::remove_file(x.dest().join("probe")).unwrap();
    let (tar, want) = mixed();
    x.run(&tar, &CHOWN).unwrap();
    check(&x, &want);
    // Without chown: the same modes, set-id bits dropped.
    let y = Tmp::new("acl2");
    let d2 = cstr::cstring(y.dest().as_os_str().as_encoded_bytes()).unwrap();
    let d2 = fd::open(&d2, libc::O_RDONLY | libc::O_DIRECTORY, 0).unwrap();
    crate::sys::file::fsetxattr(d2.raw(), c"system.posix_acl_default", &acl).unwrap();
    y.run(&tar, &Opts::default()).unwrap();
    for (name, mode, _) in &want {
        let m = y.meta(name);
        assert_eq!(m.mode() & 0o7777, mode & 0o1777, "{}", name);
        assert_eq!((m.uid(), m.gid()), (0, 0), "{}", name);
    }
}

/// In a setgid directory new files take its group: an archive asking for
/// our own group must still get it.
#[test]
fn owners_exact_in_a_setgid_dir() {
    root();
    let x = Tmp::new("sgid");
    let d = x.dest();
    std::os::unix::fs::chown(&d, Some(0), Some(4321)).unwrap();
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o2755)).unwrap();
    let mut t = T::default();
    t.file("f0", 0o644, (0, 0))
        .file("f1", 0o644, (0, 0))
        .file("f2", 0o644, (0, 4321))
        .node("l", b'2', "f0")
        .node("sub/", b'5', "")
        .file("sub/g", 0o644, (0, 0));
    x.run(&t.end(), &CHOWN).unwrap();
    for (name, gid) in [
        ("f0", 0),
        ("f1", 0),
        ("f2", 4321),
        ("l", 0),
        ("sub", 0),
        ("sub/g", 0),
    ] {
        assert_eq!(x.meta(name).gid(), gid, "{}", name);
    }
}

/// A directory the cache held, emptied and replaced by a symlink out of
/// the tree: entries below that name must fail, not follow the link.
#[test]
fn cached_dir_replaced_by_a_symlink() {
    root();
    let x = Tmp::new("swap");
    let out = x.0.join("outside");
    let mut t = T::default();
    t.node("d/", b'5', "")
        .node("d/sub/", b'5', "")
        .node("d/sub/inner/", b'5', "")
        // caches d, d/sub and d/sub/inner, and leaves inner empty
        .file("d/sub/inner/.wh..wh..opq", 0o644, (0, 0))
        .node("d/sub/inner", b'2', out.to_str().unwrap())
        .file("d/sub/inner/pwned", 0o644, (0, 0));
    let e = x.run(&t.end(), &CHOWN).unwrap_err();
    assert!(e.to_string().contains("d/sub/inner"), "{}", e);
    assert!(x.outside_empty());
    assert!(x.meta("d/sub/inner").file_type().is_symlink());
    // The same through a relative link, and with the parent swapped.
    let y = Tmp::new("swap2");
    let mut t = T::default();
    t.node("d/", b'5', "")
        .file("d/.wh..wh..opq", 0o644, (0, 0))
        .node("d", b'2', "../outside")
        .file("d/pwned", 0o644, (0, 0));
    assert!(y.run(&t.end(), &CHOWN).is_err());
    assert!(y.outside_empty());
}

/// Paths deeper than the cache holds, entries going up and down again.
#[test]
fn deep_and_wandering_paths() {
    root();
    let x = Tmp::new("deep");
    // One-letter names: ustar's 100-byte name field holds it all.
    let level = |i: usize| format!("{}/", (b'a' + (i % 26) as u8) as char);
    let deep: String = (0..MAX_OPEN + 8).map(level).collect();
    let mut t = T::default();
    let mut names = Vec::new();
    for (i, base) in [
        deep.as_str(),
        "x/",
        deep.as_str(),
        "x/y/",
        "",
        deep.as_str(),
        // a cached name that is a prefix of the next one's
        "p/ab/",
        "p/abc/",
        "p/ab/",
        "p/a/",
        "pq/",
    ]
    .iter()
    .enumerate()
    {
        for j in 0..3 {
            let n = format!("{}f{}-{}", base, i, j);
            t.file(&n, 0o640, (0, 0));
            names.push(n);
        }
    }
    let half: String = (0..MAX_OPEN + 3).map(level).collect();
    t.file(&format!("{}mid", half), 0o600, (0, 0));
    names.push(format!("{}mid", half));
    let s = x.run(&t.end(), &CHOWN).unwrap();
    assert_eq!(s.files, names.len() as u64);
    for n in &names {
        assert_eq!(
            std::fs::read(x.dest().join(n)).unwrap(),
            n.as_bytes(),
            "{}",
            n
        );
    }
    assert_eq!(x.meta(&format!("{}mid", half)).mode() & 0o777, 0o600);
}

/// Existing names are replaced as before: a file by a file, an empty
/// directory by a file, a file by a directory.
#[test]
fn replaces_what_is_there() {
    root();
    let x = Tmp::new("replace");
    let mut t = T::default();
    t.file("a", 0o644, (0, 0))
        .node("e/", b'5', "")
        .file("b", 0o644, (0, 0))
        .node("a", b'2', "b")
        .file("e", 0o600, (0, 0))
        .node("b/", b'5', "")
        .file("b/c", 0o644, (0, 0))
        .node("b/", b'5', "");
    x.run(&t.end(), &CHOWN).unwrap();
    assert!(x.meta("a").file_type().is_symlink());
    assert!(x.meta("e").is_file());
    assert_eq!(x.meta("e").mode() & 0o777, 0o600);
    assert!(x.meta("b").is_dir());
    assert_eq!(std::fs::read(x.dest().join("b/c")).unwrap(), b"b/c");
    assert!(Path::new(&x.dest().join("b/c")).exists());
}

/// The read-ahead hands the tar reader the same bytes however the source
/// splits them.
#[test]
fn buffered_reads_and_skips() {
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    let mut src: &[u8] = &data;
    let mut b = Buffered {
        src: &mut src,
        buf: vec![0u8; 1000],
        lo: 0,
        hi: 0,
    };
    let mut got = Vec::new();
    let mut buf = vec![0u8; 5000];
    let mut i = 0usize;
    loop {
        i += 1;
        if i.is_multiple_of(4) {
            let before = got.len();
            if b.skip(777).is_err() {
                break;
            }
            got.extend_from_slice(&data[before..before + 777]);
            continue;
        }
        let want = [1, 511, 1000, 5000][i % 4];
        match b.read(&mut buf[..want]).unwrap() {
            0 => break,
            n => got.extend_from_slice(&buf[..n]),
        }
    }
    assert!(got == data[..got.len()]);
    assert!(data.len() - got.len() < 777);
}

/// Every entry counts against the entry limit (directories, links and
/// whiteouts too), and declared file sizes against the size limit, each
/// checked before the entry is made.
#[test]
fn limits_refuse_before_writing() {
    root();
    let lim = |size, entries| Opts {
        limits: Limits { size, entries },
        ..CHOWN
    };
    let mut t = T::default();
    t.node("d/", b'5', "")
        .node("d/.wh.gone", b'0', "")
        .node("d/l", b'2', "x")
        .file("d/f", 0o644, (0, 0));
    let tar = t.end();
    let x = Tmp::new("limits");
    let e = x.run(&tar, &lim(u64::MAX, 3)).unwrap_err().to_string();
    assert!(
        e.starts_with("extract d/f: layer over its limit of 3 entries"),
        "{e}"
    );
    assert!(!x.dest().join("d/f").exists());
    assert!(x.dest().join("d/l").symlink_metadata().is_ok());
    let x = Tmp::new("limits2");
    assert_eq!(x.run(&tar, &lim(u64::MAX, 4)).unwrap().files, 3);
    // "d/f" holds its own name, 3 bytes.
    let x = Tmp::new("limits3");
    let e = x.run(&tar, &lim(2, 4)).unwrap_err().to_string();
    assert!(
        e.starts_with("extract d/f: layer over its size limit of 2 bytes"),
        "{e}"
    );
    assert!(!x.dest().join("d/f").exists());
    let x = Tmp::new("limits4");
    assert!(x.run(&tar, &lim(3, 4)).is_ok());
}

/// Right checksums for the headers a reader reaches (octal sizes only),
/// so that mutations get past them to what extraction does.
fn reseal(v: &mut [u8]) {
    let mut pos = 0usize;
    while pos + 512 <= v.len() {
        let h = &mut v[pos..pos + 512];
        if h.iter().all(|&c| c == 0) {
            pos += 512;
            continue;
        }
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&c| c as u32).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        let size = h[124..136]
            .iter()
            .filter(|c| (b'0'..=b'7').contains(c))
            .fold(0usize, |n, &c| {
                n.saturating_mul(8).saturating_add((c - b'0') as usize)
            });
        pos = pos.saturating_add(512 + size.div_ceil(512) * 512);
    }
}

/// Hostile archives extracted for real (as root, below /dev/shm when it
/// is there): whatever they hold, nothing outside `dest` changes.
#[test]
fn hostile_extract() {
    root();
    let shm = Path::new("/dev/shm");
    let base = match shm.is_dir() {
        true => shm.to_path_buf(),
        false => std::env::temp_dir(),
    };
    let base = base.join(format!("pocket-x-hostile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let (dest, out) = (base.join("dest"), base.join("outside"));
    std::fs::create_dir_all(&out).unwrap();
    let canary = out.join("canary");
    std::fs::write(&canary, b"canary").unwrap();
    let abs = out.to_str().unwrap();
    let xattr = b"25 SCHILY.xattr.user.a=b\n";
    let corpus = [
        {
            let mut t = T::default();
            t.node("d/", b'5', "")
                .file("d/f", 0o4755, (1, 2))
                .node("d/s", b'2', "f")
                .node("d/h", b'1', "d/f")
                .node("up", b'2', "../outside")
                .file("up/x", 0o644, (0, 0))
                .node("abs", b'2', abs)
                .file("abs/y", 0o644, (0, 0))
                .node("hard", b'1', "../outside/canary");
            t.end()
        },
        {
            let mut t = T::default();
            t.node("w/", b'5', "")
                .file("w/.wh.gone", 0o644, (0, 0))
                .file("w/.wh..wh..opq", 0o644, (0, 0))
                .node("p", b'6', "")
                .node("dev", b'3', "");
            t.add("././@PaxHeader", b'x', xattr, 0o644, (0, 0), "");
            t.file("x", 0o600, (5, 5))
                .file("d/./e//f", 0o640, (0, 0))
                .node("d/e", b'2', "/");
            t.end()
        },
    ];
    let corpus: Vec<&[u8]> = corpus.iter().map(|v| &v[..]).collect();
    let dict: &[&[u8]] = &[
        b"../",
        b"/",
        b".wh.",
        b".wh..wh..opq",
        abs.as_bytes(),
        b"../outside/canary",
    ];
    let before = std::fs::metadata(&canary).unwrap();
    let dest_c = cstr::cstring(dest.as_os_str().as_encoded_bytes()).unwrap();
    crate::rt::fuzz::run(
        "extract",
        &corpus,
        dict,
        std::time::Duration::from_secs(60),
        |b| {
            let mut t = b.to_vec();
            reseal(&mut t);
            let _ = std::fs::remove_dir_all(&dest);
            std::fs::create_dir(&dest).unwrap();
            let d = fd::open(&dest_c, libc::O_PATH | libc::O_DIRECTORY, 0).unwrap();
            let opts = Opts {
                devices: false,
                chown: true,
                xattrs: true,
                whiteouts: match b.len() % 2 {
                    0 => Whiteouts::Keep,
                    _ => Whiteouts::Overlay,
                },
                limits: match b.len() % 3 {
                    0 => Limits {
                        size: 10,
                        entries: 4,
                    },
                    _ => Limits::NONE,
                },
            };
            let mut src: &[u8] = &t;
            let got = extract(&mut src, &d, &opts);
            // Outside is as it was: one file, same bytes, same inode
            // state (no link to it, no chmod or chown through a link).
            let names: Vec<_> = std::fs::read_dir(&out).unwrap().collect();
            assert_eq!(names.len(), 1, "wrote outside");
            assert_eq!(std::fs::read(&canary).unwrap(), b"canary");
            let now = std::fs::metadata(&canary).unwrap();
            assert_eq!(
                (now.nlink(), now.mode(), now.uid(), now.gid(), now.ino()),
                (
                    before.nlink(),
                    before.mode(),
                    before.uid(),
                    before.gid(),
                    before.ino()
                )
            );
            assert_eq!(
                std::fs::read_dir(&base).unwrap().count(),
                2,
                "wrote beside dest"
            );
            let s = got.map_err(|e| format!("{e}"))?;
            assert!((s.files + s.dirs) * 512 <= t.len() as u64, "{s:?}");
            assert!(s.bytes <= t.len() as u64, "{s:?}");
            Ok(())
        },
    );
    std::fs::remove_dir_all(&base).unwrap();
}
