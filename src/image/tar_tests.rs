//! Unit tests of tar.rs (kept apart: the module stays readable).

use super::*;
use crate::image::extract::*;
use crate::sys::{cstr, file};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// A tiny tar writer: ustar headers with correct checksums.
#[derive(Default)]
struct T(Vec<u8>);

fn octal(f: &mut [u8], v: u64) {
    let s = format!("{:0w$o}\0", v, w = f.len() - 1);
    f.copy_from_slice(s.as_bytes());
}

impl T {
    fn header(&mut self, name: &[u8], typ: u8, size: u64, mode: u32, link: &[u8]) -> &mut [u8] {
        let mut h = [0u8; BLOCK];
        h[..name.len()].copy_from_slice(name);
        octal(&mut h[100..108], mode as u64);
        octal(&mut h[108..116], 0);
        octal(&mut h[116..124], 0);
        octal(&mut h[124..136], size);
        octal(&mut h[136..148], 1_600_000_000);
        h[156] = typ;
        h[157..157 + link.len()].copy_from_slice(link);
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        let at = self.0.len();
        self.0.extend_from_slice(&h);
        self.seal(at);
        &mut self.0[at..at + BLOCK]
    }
    /// Recompute the checksum of the header at `at`.
    fn seal(&mut self, at: usize) {
        let h = &mut self.0[at..at + BLOCK];
        h[148..156].copy_from_slice(b"        ");
        let sum: u64 = h.iter().map(|&c| c as u64).sum();
        let s = format!("{:06o}\0 ", sum);
        h[148..156].copy_from_slice(s.as_bytes());
    }
    fn data(&mut self, d: &[u8]) {
        self.0.extend_from_slice(d);
        self.0
            .resize(self.0.len() + padding(d.len() as u64) as usize, 0);
    }
    fn file(&mut self, name: &str, d: &[u8], mode: u32) -> &mut T {
        self.header(name.as_bytes(), b'0', d.len() as u64, mode, b"");
        self.data(d);
        self
    }
    fn node(&mut self, name: &str, typ: u8, link: &str) -> &mut T {
        self.header(name.as_bytes(), typ, 0, 0o755, link.as_bytes());
        self
    }
    fn meta(&mut self, typ: u8, d: &[u8]) -> &mut T {
        self.header(b"././@meta", typ, d.len() as u64, 0, b"");
        self.data(d);
        self
    }
    fn pax(&mut self, recs: &[(&str, &[u8])]) -> &mut T {
        let mut d = Vec::new();
        for (k, v) in recs {
            let body = k.len() + v.len() + 3; // ' ', '=', '\n'
            let mut len = body + 1;
            while len != body + len.to_string().len() {
                len = body + len.to_string().len();
            }
            d.extend_from_slice(format!("{} {}=", len, k).as_bytes());
            d.extend_from_slice(v);
            d.push(b'\n');
        }
        self.meta(b'x', &d)
    }
    fn end(&mut self) -> Vec<u8> {
        let mut v = self.0.clone();
        v.resize(v.len() + 2 * BLOCK, 0);
        v
    }
}

struct Dirs {
    dest: PathBuf,
    out: PathBuf,
}

impl Dirs {
    fn new(tag: &str) -> Dirs {
        let base = std::env::temp_dir().join(format!("pocket-tar-{}-{}", tag, std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let d = Dirs {
            dest: base.join("dest"),
            out: base.join("outside"),
        };
        std::fs::create_dir_all(&d.dest).unwrap();
        std::fs::create_dir_all(&d.out).unwrap();
        d
    }
    fn run(&self, tar: &[u8], opts: &Opts) -> Result<Stats> {
        let p = cstr::cstring(self.dest.as_os_str().as_encoded_bytes()).unwrap();
        let dest = fd::open(&p, libc::O_PATH | libc::O_DIRECTORY, 0).unwrap();
        let mut src: &[u8] = tar;
        extract(&mut src, &dest, opts)
    }
    fn p(&self, rel: &str) -> PathBuf {
        self.dest.join(rel)
    }
    fn outside_empty(&self) -> bool {
        std::fs::read_dir(&self.out).unwrap().next().is_none()
    }
}

impl Drop for Dirs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.dest.parent().unwrap());
    }
}

fn root() {
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "image::tar tests create device nodes and chown: run them as root"
    );
}

fn lmeta(p: &Path) -> std::fs::Metadata {
    std::fs::symlink_metadata(p).unwrap()
}

#[test]
fn normal_tree() {
    root();
    let d = Dirs::new("tree");
    let long = format!("d/{}", "n".repeat(150));
    let gnu = format!("d/{}", "g".repeat(200));
    let tar = T::default()
        .node("./", b'5', "")
        .node("./d/", b'5', "")
        .file("./d/hello", b"hello world\n", 0o640)
        .file("d//x/./script", &[7u8; 70_000], 0o4755)
        .node("d/link", b'2', "../d/hello")
        .node("d/hard", b'1', "d/hello")
        .node("d/fifo", b'6', "")
        .pax(&[
            ("path", long.as_bytes()),
            ("mtime", b"1234567890.5"),
            ("uid", b"1234"),
            ("SCHILY.xattr.user.pocket", b"yes"),
        ])
        .file("ignored-name", b"pax", 0o600)
        .meta(b'L', format!("{}\0", gnu).as_bytes())
        .file("ignored-too", b"gnu", 0o600)
        .end();
    let s = d
        .run(
            &tar,
            &Opts {
                chown: true,
                xattrs: true,
                ..Opts::default()
            },
        )
        .unwrap();
    assert_eq!(
        s,
        Stats {
            files: 7,
            dirs: 1,
            bytes: 12 + 70_000 + 6,
            // Read to its two end-of-archive blocks: the whole archive.
            end: tar.len() as u64,
        }
    );
    assert_eq!(std::fs::read(d.p("d/hello")).unwrap(), b"hello world\n");
    let m = lmeta(&d.p("d/hello"));
    assert_eq!(m.mode() & 0o7777, 0o640);
    assert_eq!(m.mtime(), 1_600_000_000);
    assert_eq!(m.nlink(), 2);
    assert_eq!(lmeta(&d.p("d/hard")).ino(), m.ino());
    assert_eq!(std::fs::read(d.p("d/x/script")).unwrap(), vec![7u8; 70_000]);
    assert_eq!(lmeta(&d.p("d/x/script")).mode() & 0o7777, 0o4755);
    assert_eq!(
        std::fs::read_link(d.p("d/link")).unwrap(),
        Path::new("../d/hello")
    );
    assert!(lmeta(&d.p("d/fifo")).file_type().is_fifo());
    let m = lmeta(&d.p(&long));
    assert_eq!(std::fs::read(d.p(&long)).unwrap(), b"pax");
    assert_eq!(
        (m.mtime(), m.mtime_nsec(), m.uid()),
        (1234567890, 500_000_000, 1234)
    );
    assert_eq!(std::fs::read(d.p(&gnu)).unwrap(), b"gnu");
    let dm = lmeta(&d.p("d"));
    assert_eq!((dm.mode() & 0o7777, dm.mtime()), (0o755, 1_600_000_000));
}

#[test]
fn setuid_dropped_without_chown() {
    root();
    let d = Dirs::new("suid");
    let tar = T::default().file("su", b"x", 0o6755).end();
    d.run(&tar, &Opts::default()).unwrap();
    assert_eq!(lmeta(&d.p("su")).mode() & 0o7777, 0o755);
}

#[test]
fn reader_fields() {
    let mut t = T::default();
    let h = t.header(b"big", b'0', 0, 0o644, b"");
    // base-256 uid and mtime
    h[108..116].copy_from_slice(&[0x80, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff]);
    h[136..148].copy_from_slice(&[0xff; 12]); // -1
    t.seal(0);
    t.pax(&[("mtime", b"-1.25"), ("gid", b"42")])
        .node("lnk", b'2', "t");
    let tar = t.end();
    let mut src: &[u8] = &tar;
    let mut r = Reader::new(&mut src);
    let e = r.next().unwrap().unwrap();
    assert_eq!((e.uid, e.mtime, e.kind), (0x7fff_ffff, (-1, 0), Kind::File));
    let e = r.next().unwrap().unwrap();
    assert_eq!(
        (e.gid, e.mtime, e.kind),
        (42, (-2, 750_000_000), Kind::Symlink)
    );
    assert_eq!(e.link, b"t");
    assert!(r.next().unwrap().is_none());
    assert!(r.next().unwrap().is_none());
}

#[test]
fn oversized_meta_refused() {
    let mut t = T::default();
    t.header(b"././@LongLink", b'L', MAX_META + 1, 0, b"");
    let tar = t.end();
    let mut src: &[u8] = &tar;
    let e = Reader::new(&mut src).next().unwrap_err();
    assert!(e.to_string().contains("too large"), "{}", e);
}

/// Run a hostile archive: it must fail and leave `outside` empty.
fn refused(tag: &str, tar: &[u8], opts: &Opts, why: &str) -> Dirs {
    root();
    let d = Dirs::new(tag);
    let e = d.run(tar, opts).expect_err(tag);
    assert!(e.to_string().contains(why), "{}: {}", tag, e);
    assert!(d.outside_empty(), "{}: wrote outside", tag);
    d
}

#[test]
fn refuses_escapes() {
    let o = Opts::default();
    let d = refused(
        "abs",
        &T::default().file("/tmp/x", b"x", 0o644).end(),
        &o,
        "absolute",
    );
    drop(d);
    refused(
        "dotdot",
        &T::default().file("../x", b"x", 0o644).end(),
        &o,
        "\"..\"",
    );
    refused(
        "dotdot2",
        &T::default().file("a/../../x", b"x", 0o644).end(),
        &o,
        "\"..\"",
    );
}

#[test]
fn refuses_write_through_symlink() {
    root();
    let d = Dirs::new("symw");
    let out = d.out.to_str().unwrap().to_string();
    let tar = T::default()
        .node("evil", b'2', &out)
        .file("evil/pwned", b"x", 0o644)
        .end();
    let e = d.run(&tar, &Opts::default()).unwrap_err();
    assert!(e.to_string().contains("evil"), "{}", e);
    assert!(d.outside_empty());
    // The same with a directory symlink and a nested file, and a
    // relative link that climbs out.
    let tar = T::default()
        .node("dir", b'2', "../outside")
        .file("dir/sub/f", b"x", 0o644)
        .end();
    assert!(d.run(&tar, &Opts::default()).is_err());
    assert!(d.outside_empty());
    // A symlink replaced by a file entry of the same name: the file
    // lands in dest, the symlink's target is untouched.
    let tar = T::default()
        .node("victim", b'2', &format!("{}/v", out))
        .file("victim", b"safe", 0o644)
        .end();
    d.run(&tar, &Opts::default()).unwrap();
    assert_eq!(std::fs::read(d.p("victim")).unwrap(), b"safe");
    assert!(d.outside_empty());
}

#[test]
fn refuses_hardlink_escapes() {
    root();
    let d = Dirs::new("hard");
    std::fs::write(d.out.join("secret"), b"s").unwrap();
    let o = Opts::default();
    for (tag, target) in [
        ("rel", "../outside/secret".to_string()),
        ("abs", d.out.join("secret").to_str().unwrap().to_string()),
    ] {
        let tar = T::default().node("h", b'1', &target).end();
        let e = d.run(&tar, &o).expect_err(tag);
        assert!(e.to_string().contains("hard link"), "{}", e);
        assert!(!d.p("h").exists());
    }
    // through a symlinked directory
    let tar = T::default()
        .node("s", b'2', d.out.to_str().unwrap())
        .node("h", b'1', "s/secret")
        .end();
    assert!(d.run(&tar, &o).is_err());
    assert!(!d.p("h").exists());
    assert_eq!(lmeta(&d.out.join("secret")).nlink(), 1);
}

#[test]
fn refuses_devices_unless_allowed() {
    let tar = T::default().node("null", b'3', "").end();
    let d = refused("dev", &tar, &Opts::default(), "device node refused");
    assert!(!d.p("null").exists());
    let mut t = T::default();
    let h = t.header(b"null", b'3', 0, 0o666, b"");
    octal(&mut h[329..337], 1);
    octal(&mut h[337..345], 3);
    t.seal(0);
    let o = Opts {
        devices: true,
        ..Opts::default()
    };
    d.run(&t.end(), &o).unwrap();
    let m = lmeta(&d.p("null"));
    assert!(m.file_type().is_char_device());
    assert_eq!((m.rdev(), m.mode() & 0o7777), (libc::makedev(1, 3), 0o666));
}

#[test]
fn refuses_bad_checksum_and_truncation() {
    let mut t = T::default();
    t.file("a", b"x", 0o644);
    t.0[0] = b'b';
    refused("sum", &t.end(), &Opts::default(), "bad header checksum");
    let full = T::default().file("a", &[1u8; 2000], 0o644).end();
    for cut in [100, 512 + 1000, 512 + 2047] {
        refused("trunc", &full[..cut], &Opts::default(), "truncated");
    }
    // EOF right after one zero block is a complete archive.
    let d = Dirs::new("oneblock");
    d.run(&full[..full.len() - 512], &Opts::default()).unwrap();
    // no end-of-archive blocks at all
    let t = T::default().file("a", b"x", 0o644).0.clone();
    refused("noend", &t, &Opts::default(), "truncated");
}

#[test]
fn overlay_whiteouts() {
    root();
    let d = Dirs::new("wh");
    let tar = T::default()
        .node("d/", b'5', "")
        .file("d/.wh..wh..opq", b"", 0o644)
        .file("d/.wh.gone", b"", 0o644)
        .file(".wh.top", b"", 0o644)
        .pax(&[("SCHILY.xattr.trusted.overlay.redirect", b"/etc")])
        .file("d/f", b"", 0o644)
        .end();
    let o = Opts {
        whiteouts: Whiteouts::Overlay,
        ..Opts::default()
    };
    d.run(&tar, &o).unwrap();
    for w in ["d/gone", "top"] {
        let m = lmeta(&d.p(w));
        assert!(m.file_type().is_char_device(), "{}", w);
        assert_eq!(m.rdev(), 0);
    }
    let p = cstr::cstring(d.p("d").as_os_str().as_encoded_bytes()).unwrap();
    let f = fd::open(&p, libc::O_RDONLY | libc::O_DIRECTORY, 0).unwrap();
    let mut v = [0u8; 8];
    assert_eq!(file::fgetxattr(f.raw(), OPAQUE, &mut v), Ok(1));
    assert_eq!(v[0], b'y');
    let p = cstr::cstring(d.p("d/f").as_os_str().as_encoded_bytes()).unwrap();
    let f = fd::open(&p, libc::O_RDONLY, 0).unwrap();
    let r = file::fgetxattr(f.raw(), c"trusted.overlay.redirect", &mut v);
    assert_eq!(r, Err(Errno::ENODATA));
    // Keep mode: plain files.
    let d = Dirs::new("whkeep");
    d.run(&tar, &Opts::default()).unwrap();
    assert!(lmeta(&d.p("d/.wh.gone")).is_file());
}

#[test]
fn normalize_paths() {
    assert_eq!(normalize(b"./a//b/./c/").unwrap(), b"a/b/c");
    assert_eq!(normalize(b"./").unwrap(), b"");
    assert!(normalize(b"/etc").is_err());
    assert!(normalize(b"a/..").is_err());
    assert!(normalize(b"..").is_err());
    assert!(normalize("a/".repeat(3000).as_bytes()).is_err());
}

/// Small archives of every kind the reader knows: ustar, v7, prefix
/// names, pax (local and global), GNU long names and links, base-256
/// numbers, links, devices, fifos.
fn hostile_corpus() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    out.push(
        T::default()
            .node("d/", b'5', "")
            .file("d/f", b"hello\n", 0o644)
            .node("d/s", b'2', "../d/f")
            .node("d/h", b'1', "d/f")
            .node("d/p", b'6', "")
            .end(),
    );
    let mut t = T::default();
    let h = t.header(b"dev/null", b'3', 0, 0o666, b"");
    h[329..337].copy_from_slice(b"0000001\0");
    h[337..345].copy_from_slice(b"0000003\0");
    t.seal(0);
    let at = t.0.len();
    let h = t.header(b"dev/sda", b'4', 0, 0o660, b"");
    h[329..337].copy_from_slice(&[0x80, 0, 0, 0, 0, 0, 0, 8]);
    t.seal(at);
    out.push(t.end());
    out.push(
        T::default()
            .pax(&[
                ("path", b"a/long/pax/name"),
                ("linkpath", b"target"),
                ("size", b"3"),
                ("uid", b"1000"),
                ("gid", b"4294967295"),
                ("mtime", b"-1.000000001"),
                ("SCHILY.xattr.user.k", b"v\0w"),
            ])
            .file("short", b"abc", 0o600)
            .meta(b'g', b"9 a=b\n\0\0")
            .file("g", b"", 0o644)
            .end(),
    );
    out.push(
        T::default()
            .meta(b'L', b"gnu/long/name/of/some/length\0")
            .meta(b'K', b"gnu/long/link\0")
            .node("ignored", b'2', "ignored")
            .meta(b'L', b"x\0")
            .file("y", b"z", 0o755)
            .end(),
    );
    // Base-256 size and uid, a ustar prefix, a v7 header (no magic) for a
    // directory named by its trailing slash.
    let mut t = T::default();
    let h = t.header(b"name", b'0', 0, 0o644, b"");
    h[124..136].copy_from_slice(&[0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    h[108..116].copy_from_slice(&[0xff; 8]);
    h[345..351].copy_from_slice(b"prefix");
    t.seal(0);
    t.data(b"hi");
    let at = t.0.len();
    let h = t.header(b"v7dir/", 0, 0, 0o755, b"");
    h[257..265].fill(0);
    t.seal(at);
    out.push(t.end());
    out
}

/// Give every header the stream reaches a right checksum, so that
/// mutations get past it to the fields behind.
fn reseal(v: &mut [u8]) {
    let mut pos = 0usize;
    while pos + BLOCK <= v.len() {
        let h = &mut v[pos..pos + BLOCK];
        if h.iter().all(|&c| c == 0) {
            pos += BLOCK;
            continue;
        }
        h[148..156].copy_from_slice(b"        ");
        let sum: u64 = h.iter().map(|&c| c as u64).sum();
        h[148..156].copy_from_slice(format!("{:06o}\0 ", sum).as_bytes());
        let size = num(&h[124..136])
            .and_then(|s| u64::try_from(s).ok())
            .unwrap_or(0)
            .min(v.len() as u64);
        pos = pos
            .saturating_add(BLOCK + size as usize + padding(size) as usize)
            .min(v.len());
    }
}

/// Every entry of `tar`, data read: what it yields must fit the input.
fn read_all_entries(tar: &[u8], chunk: usize) -> core::result::Result<(), String> {
    let mut src: &[u8] = tar;
    let mut r = Reader::new(&mut src);
    let mut entries = 0usize;
    let mut buf = vec![0u8; chunk];
    loop {
        let e = match r.next() {
            Ok(Some(e)) => e,
            Ok(None) => {
                // The end stays the end.
                assert!(matches!(r.next(), Ok(None)));
                return Ok(());
            }
            Err(e) => return Err(format!("{e}")),
        };
        entries += 1;
        // Each entry takes a header block at least.
        assert!(entries * BLOCK <= tar.len(), "{entries} entries");
        assert!(e.path.len() as u64 <= MAX_META && e.link.len() as u64 <= MAX_META);
        assert!(e.mode <= 0o7777);
        assert!(e.mtime.1 < 1_000_000_000, "{:?}", e.mtime);
        assert!(e.kind == Kind::File || e.size == 0);
        assert!(r.offset() <= tar.len() as u64);
        // Read half the files' data: the rest is skipped by `next`.
        if entries % 2 == 1 {
            let mut got = 0u64;
            loop {
                match r.read_data(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => got += n as u64,
                    Err(e) => return Err(format!("{e}")),
                }
            }
            assert_eq!(got, e.size);
        }
    }
}

#[test]
fn hostile_tar() {
    let corpus = hostile_corpus();
    let corpus: Vec<&[u8]> = corpus.iter().map(|v| &v[..]).collect();
    let dict: &[&[u8]] = &[
        b"ustar\0",
        b"ustar  \0",
        b"00",
        b"0000777\0",
        b"77777777777\0",
        b"\x80\0\0\0\0\0\0\0\0\0\x10\0",
        b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
        b"\xbf\xff\xff\xff\xff\xff\xff\xff",
        b"13 path=abc\n",
        b" size=",
        b" mtime=-0.5\n",
        b"SCHILY.xattr.",
        b"././@LongLink",
        b"x",
        b"g",
        b"L",
        b"K",
        b"7",
        &[0u8; 512],
    ];
    crate::rt::fuzz::run(
        "tar",
        &corpus,
        dict,
        std::time::Duration::from_secs(60),
        |b| {
            // As mutated (checksums mostly wrong), then with every header
            // resealed, read in odd-sized pieces.
            let raw = read_all_entries(b, 4096);
            let mut v = b.to_vec();
            reseal(&mut v);
            let sealed = read_all_entries(&v, 7);
            one_line(raw, sealed)
        },
    );
}

/// Both outcomes of a case as one: a refusal of more than one line first.
fn one_line(
    a: core::result::Result<(), String>,
    b: core::result::Result<(), String>,
) -> core::result::Result<(), String> {
    match (a, b) {
        (Err(e), _) | (_, Err(e)) if e.trim_end().contains('\n') => Err(e),
        (a, b) => a.and(b),
    }
}
