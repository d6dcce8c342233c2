//! Hostile archives fed to `pocket import` and `pocket load`: every trick
//! that could make extraction write outside the layer directory is refused
//! with one clear error line, leaves no image, layer or temporary file in
//! the store, and leaves a canary directory outside the store untouched.
//! And the other way round: what a well-formed tar says about its files
//! (owners, modes, times, xattrs, links, long names) is what a container of
//! the imported image sees.
//!
//! The archives are written here byte by byte (ustar headers, pax 'x'
//! records, GNU 'L'/'K' long names): GNU tar would refuse or clean them.

mod common;
use common::*;
use sha2::Digest as _;
use std::io::Write as _;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

// ---------------------------------------------------------------- tar writer

const MTIME: u64 = 1_600_000_000;

/// Header fields besides name, type, size and link target.
#[derive(Clone)]
struct Meta {
    mode: u32,
    uid: u64,
    gid: u64,
    mtime: u64,
    major: u32,
    minor: u32,
    /// ustar prefix field (names up to 255 bytes without pax).
    prefix: Vec<u8>,
    /// GNU magic ("ustar  \0") instead of POSIX ("ustar\0" "00").
    gnu: bool,
}

fn meta(mode: u32) -> Meta {
    Meta {
        mode,
        uid: 0,
        gid: 0,
        mtime: MTIME,
        major: 0,
        minor: 0,
        prefix: vec![],
        gnu: false,
    }
}

/// A numeric field: octal with a NUL, or GNU base-256 if it does not fit.
fn num(f: &mut [u8], v: u64) {
    let w = f.len() - 1;
    let s = format!("{v:0w$o}");
    if s.len() <= w {
        f[..w].copy_from_slice(s.as_bytes());
        f[w] = 0;
    } else {
        let n = f.len();
        f.fill(0);
        f[n - 8..].copy_from_slice(&v.to_be_bytes());
        f[0] |= 0x80; // values here stay far below 2^63
    }
}

/// A 512-byte header with its checksum. Panics if `name` does not fit:
/// long names go through pax or GNU records, explicitly.
fn header(name: &[u8], typ: u8, size: u64, link: &[u8], m: &Meta) -> [u8; 512] {
    assert!(name.len() <= 100, "name too long for a header: {name:?}");
    assert!(link.len() <= 100 && m.prefix.len() <= 155);
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name);
    num(&mut h[100..108], m.mode as u64);
    num(&mut h[108..116], m.uid);
    num(&mut h[116..124], m.gid);
    num(&mut h[124..136], size);
    num(&mut h[136..148], m.mtime);
    h[156] = typ;
    h[157..157 + link.len()].copy_from_slice(link);
    if m.gnu {
        h[257..265].copy_from_slice(b"ustar  \0");
    } else {
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
    }
    num(&mut h[329..337], m.major as u64);
    num(&mut h[337..345], m.minor as u64);
    h[345..345 + m.prefix.len()].copy_from_slice(&m.prefix);
    seal(&mut h);
    h
}

/// Write the checksum field (sum of the bytes, the field read as spaces).
fn seal(h: &mut [u8; 512]) {
    h[148..156].fill(b' ');
    let sum: u32 = h.iter().map(|&c| c as u32).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
}

/// One pax record "LEN key=value\n", LEN counting itself.
fn pax_rec(k: &[u8], v: &[u8]) -> Vec<u8> {
    let body = 3 + k.len() + v.len(); // ' ', '=', '\n'
    let mut n = body + 1;
    loop {
        let t = body + n.to_string().len();
        if t == n {
            break;
        }
        n = t;
    }
    let mut r = format!("{n} ").into_bytes();
    r.extend_from_slice(k);
    r.push(b'=');
    r.extend_from_slice(v);
    r.push(b'\n');
    r
}

#[derive(Default)]
struct Tar(Vec<u8>);

impl Tar {
    fn new() -> Tar {
        Tar::default()
    }
    /// A header and its data, padded to a block.
    fn raw(&mut self, h: [u8; 512], data: &[u8]) -> &mut Tar {
        self.0.extend_from_slice(&h);
        self.0.extend_from_slice(data);
        let pad = (512 - data.len() % 512) % 512;
        self.0.extend(std::iter::repeat_n(0u8, pad));
        self
    }
    fn entry(
        &mut self,
        name: impl AsRef<[u8]>,
        typ: u8,
        data: &[u8],
        link: impl AsRef<[u8]>,
        m: &Meta,
    ) -> &mut Tar {
        let h = header(name.as_ref(), typ, data.len() as u64, link.as_ref(), m);
        self.raw(h, data)
    }
    fn file(&mut self, name: impl AsRef<[u8]>, data: &[u8]) -> &mut Tar {
        self.entry(name, b'0', data, "", &meta(0o644))
    }
    fn dir(&mut self, name: impl AsRef<[u8]>) -> &mut Tar {
        self.entry(name, b'5', b"", "", &meta(0o755))
    }
    fn symlink(&mut self, name: impl AsRef<[u8]>, target: impl AsRef<[u8]>) -> &mut Tar {
        self.entry(name, b'2', b"", target, &meta(0o777))
    }
    fn hardlink(&mut self, name: impl AsRef<[u8]>, target: impl AsRef<[u8]>) -> &mut Tar {
        self.entry(name, b'1', b"", target, &meta(0o644))
    }
    fn node(&mut self, name: impl AsRef<[u8]>, typ: u8, major: u32, minor: u32) -> &mut Tar {
        let m = Meta {
            major,
            minor,
            ..meta(0o666)
        };
        self.entry(name, typ, b"", "", &m)
    }
    /// A pax extended header for the next entry.
    fn pax(&mut self, recs: &[(&str, &[u8])]) -> &mut Tar {
        let mut d = vec![];
        for (k, v) in recs {
            d.extend(pax_rec(k.as_bytes(), v));
        }
        self.entry("./PaxHeaders/x", b'x', &d, "", &meta(0o644))
    }
    /// A GNU long name ('L') or long link target ('K') for the next entry.
    fn gnu_long(&mut self, typ: u8, v: &[u8]) -> &mut Tar {
        let mut d = v.to_vec();
        d.push(0);
        let m = Meta {
            gnu: true,
            ..meta(0o644)
        };
        self.entry("././@LongLink", typ, &d, "", &m)
    }
    /// The two zero blocks that end an archive.
    fn end(&mut self) -> Vec<u8> {
        let mut v = std::mem::take(&mut self.0);
        v.extend([0u8; 1024]);
        v
    }
}

/// A few ordinary entries an attack hides behind, so that a refused layer
/// has already written something that must be cleaned up.
fn prelude() -> Tar {
    let mut t = Tar::new();
    t.dir("ok/")
        .file("ok/fine", b"fine\n")
        .symlink("ok/link", "fine");
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
        .args(["-n", "-c"])
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

// ----------------------------------------------------- image archive writers

fn config_json(diff_ids: &[String]) -> String {
    let ids: Vec<String> = diff_ids.iter().map(|d| format!("\"sha256:{d}\"")).collect();
    format!(
        "{{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2024-01-02T03:04:05Z\",\
         \"config\":{{\"Cmd\":[\"sh\"]}},\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[{}]}}}}",
        ids.join(",")
    )
}

/// A docker-archive (`docker save`) of one image with these layers.
fn docker_archive(layers: &[&[u8]], tag: &str) -> Vec<u8> {
    let diffs: Vec<String> = layers.iter().map(|l| sha256(l)).collect();
    let config = config_json(&diffs);
    let cname = format!("{}.json", sha256(config.as_bytes()));
    let mut t = Tar::new();
    t.file(&cname, config.as_bytes());
    let mut names = vec![];
    for (i, l) in layers.iter().enumerate() {
        let d = format!("l{i}");
        t.dir(format!("{d}/")).file(format!("{d}/layer.tar"), l);
        names.push(format!("\"{d}/layer.tar\""));
    }
    let manifest = format!(
        "[{{\"Config\":\"{cname}\",\"RepoTags\":[\"{tag}\"],\"Layers\":[{}]}}]",
        names.join(",")
    );
    t.file("manifest.json", manifest.as_bytes());
    t.end()
}

/// The files of an OCI image layout holding one image whose layers are
/// these (already compressed or not) blobs, with these diff_ids.
fn oci_files(blobs: &[(&[u8], String)], tag: &str) -> Vec<(String, Vec<u8>)> {
    let diffs: Vec<String> = blobs.iter().map(|(_, d)| d.clone()).collect();
    let config = config_json(&diffs).into_bytes();
    let mut files = vec![];
    let mut layers = vec![];
    for (b, _) in blobs {
        let h = sha256(b);
        layers.push(format!(
            "{{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\
             \"digest\":\"sha256:{h}\",\"size\":{}}}",
            b.len()
        ));
        files.push((format!("blobs/sha256/{h}"), b.to_vec()));
    }
    let ch = sha256(&config);
    let manifest = format!(
        "{{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\
         \"config\":{{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\
         \"digest\":\"sha256:{ch}\",\"size\":{}}},\"layers\":[{}]}}",
        config.len(),
        layers.join(",")
    )
    .into_bytes();
    let mh = sha256(&manifest);
    let index = format!(
        "{{\"schemaVersion\":2,\"manifests\":[{{\"mediaType\":\
         \"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:{mh}\",\
         \"size\":{},\"annotations\":{{\"org.opencontainers.image.ref.name\":\"{tag}\"}}}}]}}",
        manifest.len()
    );
    files.push((format!("blobs/sha256/{ch}"), config));
    files.push((format!("blobs/sha256/{mh}"), manifest));
    files.push((
        "oci-layout".into(),
        b"{\"imageLayoutVersion\":\"1.0.0\"}".to_vec(),
    ));
    files.push(("index.json".into(), index.into_bytes()));
    files
}

fn oci_archive(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut t = Tar::new();
    t.dir("blobs/").dir("blobs/sha256/");
    for (n, d) in files {
        t.file(n, d);
    }
    t.end()
}

// ------------------------------------------------------------ the harness

/// A directory outside the store that no archive may touch, and a place
/// for the test's input files.
struct Canary {
    dir: PathBuf,
    input: PathBuf,
    seen: Vec<(PathBuf, Stamp)>,
}

/// ino, mode, uid, gid, nlink, mtime (s, ns), size.
type Stamp = (u64, u32, u32, u32, u64, i64, i64, u64);

fn stamp(p: &Path) -> Stamp {
    let m = std::fs::symlink_metadata(p).unwrap_or_else(|e| panic!("canary {p:?}: {e}"));
    (
        m.ino(),
        m.mode(),
        m.uid(),
        m.gid(),
        m.nlink(),
        m.mtime(),
        m.mtime_nsec(),
        m.size(),
    )
}

impl Canary {
    fn new(tag: &str) -> Canary {
        let dir = PathBuf::from(format!("/tmp/pocket-attack-{}-{tag}", std::process::id()));
        let input = PathBuf::from(format!(
            "/tmp/pocket-attack-{}-{tag}.in",
            std::process::id()
        ));
        for d in [&dir, &input] {
            let _ = std::fs::remove_dir_all(d);
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::create_dir(dir.join("sub")).unwrap();
        std::fs::write(dir.join("canary"), "canary\n").unwrap();
        std::fs::set_permissions(dir.join("canary"), std::fs::Permissions::from_mode(0o644))
            .unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        // Times in the past: a later change of any of them shows.
        for p in [dir.join("sub"), dir.join("canary"), dir.clone()] {
            let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
            let t = [libc::timespec {
                tv_sec: 1_000_000_000,
                tv_nsec: 0,
            }; 2];
            // SAFETY: a valid path and two timespecs.
            assert_eq!(
                unsafe { libc::utimensat(libc::AT_FDCWD, c.as_ptr(), t.as_ptr(), 0) },
                0
            );
        }
        let seen = [dir.clone(), dir.join("sub"), dir.join("canary")]
            .into_iter()
            .map(|p| {
                let s = stamp(&p);
                (p, s)
            })
            .collect();
        Canary { dir, input, seen }
    }
    /// The canary directory, absolute ("/tmp/pocket-attack-...").
    fn abs(&self) -> String {
        self.dir.to_str().unwrap().to_string()
    }
    /// The same, as a relative path that climbs out of any layer directory.
    fn up(&self) -> String {
        format!("{}{}", "../".repeat(12), &self.abs()[1..])
    }
    fn intact(&self, what: &str) {
        let mut names: Vec<String> = std::fs::read_dir(&self.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["canary", "sub"],
            "{what}: something appeared outside the store"
        );
        assert_eq!(
            std::fs::read_dir(self.dir.join("sub")).unwrap().count(),
            0,
            "{what}: something appeared outside the store"
        );
        assert_eq!(
            std::fs::read(self.dir.join("canary")).unwrap(),
            b"canary\n",
            "{what}: canary rewritten"
        );
        for (p, s) in &self.seen {
            assert_eq!(
                stamp(p),
                *s,
                "{what}: {p:?} changed (ino mode uid gid nlink mtime size)"
            );
        }
        for p in ["/pwned", "/tmp/pwned"] {
            assert!(std::fs::symlink_metadata(p).is_err(), "{what}: {p} exists");
        }
    }
}

impl Drop for Canary {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        let _ = std::fs::remove_dir_all(&self.input);
    }
}

/// Run `c` with `input` on a pipe as stdin, killed if it takes over 60 s.
fn run_input(mut c: Command, input: Option<Vec<u8>>, what: &str) -> Output {
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    if input.is_some() {
        c.stdin(Stdio::piped());
    }
    let mut child = c.spawn().expect("spawn pocket");
    let pid = child.id() as i32;
    if let Some(d) = input {
        let mut i = child.stdin.take().unwrap();
        // pocket may stop reading at the first bad entry: EPIPE is fine.
        std::thread::spawn(move || {
            let _ = i.write_all(&d);
        });
    }
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(o) => o.unwrap(),
        Err(_) => {
            // SAFETY: kill(2) on our own child, not reaped yet.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("{what}: still running after 60s");
        }
    }
}

/// The ways a layer reaches the extractor.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Via {
    /// `import FILE`
    ImportFile,
    /// `import -` from a pipe, gzip-compressed
    ImportPipeGz,
    /// `load -i FILE`: docker-archive, a good layer first, then this one
    LoadDocker,
    /// `load` from a pipe: oci-archive, the layer gzip-compressed
    LoadOciPipe,
}
const VIAS: [Via; 4] = [
    Via::ImportFile,
    Via::ImportPipeGz,
    Via::LoadDocker,
    Via::LoadOciPipe,
];

/// The name each way gives the image, if it gets in.
fn tag_of(via: Via) -> &'static str {
    match via {
        Via::ImportFile => "evil:1",
        Via::ImportPipeGz => "evil:2",
        Via::LoadDocker => "evil:3",
        Via::LoadOciPipe => "evil:4",
    }
}

fn good_layer() -> Vec<u8> {
    Tar::new().dir("base/").file("base/hello", b"hello\n").end()
}

/// Give `layer` to pocket by way of `via`.
fn feed(r: &Root, c: &Canary, via: Via, layer: &[u8]) -> Output {
    let what = format!("{via:?}");
    match via {
        Via::ImportFile => {
            let f = c.input.join("layer.tar");
            std::fs::write(&f, layer).unwrap();
            run_input(
                r.cmd(&["import".as_ref(), f.as_os_str(), tag_of(via).as_ref()]),
                None,
                &what,
            )
        }
        Via::ImportPipeGz => run_input(
            r.cmd(&["import", "-", tag_of(via)]),
            Some(gzip(layer)),
            &what,
        ),
        Via::LoadDocker => {
            let f = c.input.join("docker.tar");
            std::fs::write(&f, docker_archive(&[&good_layer(), layer], tag_of(via))).unwrap();
            run_input(
                r.cmd(&["load".as_ref(), "-q".as_ref(), "-i".as_ref(), f.as_os_str()]),
                None,
                &what,
            )
        }
        Via::LoadOciPipe => {
            let files = oci_files(&[(&gzip(layer), sha256(layer))], tag_of(via));
            run_input(r.cmd(&["load", "-q"]), Some(oci_archive(&files)), &what)
        }
    }
}

/// Nothing of a refused load in the store: no image, tag, layer (or its
/// .size) and nothing left in tmp/.
fn store_empty(r: &Root, what: &str) {
    let im = r.0.join("images");
    if im.exists() {
        for e in std::fs::read_dir(&im).unwrap() {
            let n = e.unwrap().file_name().to_string_lossy().into_owned();
            assert!(
                ["layers", "tags", "tmp", ".lock"].contains(&n.as_str()),
                "{what}: images/{n} left in the store"
            );
        }
        for sub in ["layers", "tags", "tmp"] {
            if let Ok(d) = std::fs::read_dir(im.join(sub)) {
                let left: Vec<_> = d.map(|e| e.unwrap().file_name()).collect();
                assert!(left.is_empty(), "{what}: images/{sub}/ holds {left:?}");
            }
        }
    }
    let o = r.out(&["images", "-q"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{what}: images -q: {}",
        stderr(&o)
    );
    assert_eq!(stdout(&o), "", "{what}: images -q lists an image");
}

/// No file named like an attack's payload anywhere under `dir` (symlinks
/// not followed).
fn no_payload(dir: &Path, what: &str) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd {
        let e = e.unwrap();
        let n = e.file_name().to_string_lossy().into_owned();
        assert!(!n.contains("pwned"), "{what}: {:?} written", e.path());
        if e.file_type().unwrap().is_dir() {
            no_payload(&e.path(), what);
        }
    }
}

/// One line `pocket: ...` holding `why`, exit 125, no panic.
fn clear_error(o: &Output, why: &str, what: &str) {
    let e = stderr(o);
    eprintln!("{what}: {}", e.trim_end());
    assert_eq!(
        o.status.code(),
        Some(125),
        "{what}: accepted or crashed: {e}{}",
        stdout(o)
    );
    assert!(
        e.starts_with("pocket: ") && e.ends_with('\n') && e.lines().count() == 1,
        "{what}: not one error line: {e:?}"
    );
    assert!(
        !e.contains("internal error") && !e.contains("panic"),
        "{what}: {e}"
    );
    assert!(e.contains(why), "{what}: {e:?} does not say {why:?}");
}

/// `layer` (built against the canary) is refused every way it can come
/// in, saying `why`; nothing is left in the store or outside it.
fn refused(tag: &str, why: &str, build: impl Fn(&Canary) -> Vec<u8>) {
    if !root() {
        return;
    }
    let c = Canary::new(tag);
    let r = Root::new(&format!("tar-{tag}"));
    let layer = build(&c);
    for via in VIAS {
        let what = format!("{tag} via {via:?}");
        let o = feed(&r, &c, via, &layer);
        clear_error(&o, why, &what);
        c.intact(&what);
        store_empty(&r, &what);
        no_payload(&r.0, &what);
    }
}

/// `run --rm IMAGE sh -c SCRIPT`: its output, which must be a success.
fn sh_in(r: &Root, image: &str, script: &str) -> String {
    let o = run_input(
        r.cmd(&["run", "--rm", image, "sh", "-c", script]),
        None,
        "run",
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "run {script:?}: {}{}",
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

// ------------------------------------------------------------------ attacks

#[test]
fn dotdot_escape() {
    refused("dotdot", "\"..\" in path", |c| {
        prelude()
            .file(format!("{}/pwned", c.up()), b"pwned\n")
            .end()
    });
    refused("dotdot-mid", "\"..\" in path", |c| {
        let p = format!("ok/{}/pwned", c.up());
        prelude().file(p, b"pwned\n").end()
    });
    refused("dotdot-dir", "\"..\" in path", |c| {
        prelude().dir(format!("{}/sub/", c.up())).end()
    });
    // The ustar prefix field is part of the name too.
    refused("dotdot-prefix", "\"..\" in path", |c| {
        let m = Meta {
            prefix: c.up().into_bytes(),
            ..meta(0o644)
        };
        prelude().entry("pwned", b'0', b"pwned\n", "", &m).end()
    });
}

#[test]
fn absolute_path() {
    refused("abs-file", "absolute path", |c| {
        prelude()
            .file(format!("{}/pwned", c.abs()), b"pwned\n")
            .end()
    });
    // A directory entry would chmod/chown an existing directory.
    refused("abs-dir", "absolute path", |c| {
        let m = Meta {
            uid: 4242,
            ..meta(0o777)
        };
        prelude()
            .entry(format!("{}/sub/", c.abs()), b'5', b"", "", &m)
            .end()
    });
    refused("abs-symlink", "absolute path", |c| {
        prelude().symlink(format!("{}/pwned", c.abs()), "x").end()
    });
}

#[test]
fn file_through_planted_symlink() {
    refused("sym-abs", "open directory a", |c| {
        prelude()
            .symlink("a", c.abs())
            .file("a/pwned", b"pwned\n")
            .end()
    });
    // Into a directory that exists there, and creating one on the way.
    refused("sym-abs-sub", "open directory a", |c| {
        prelude()
            .symlink("a", c.abs())
            .file("a/sub/pwned", b"pwned\n")
            .end()
    });
    refused("sym-abs-mkdir", "open directory a", |c| {
        prelude().symlink("a", c.abs()).dir("a/pwned/").end()
    });
    // "../../.." from images/tmp/<layer>/ is the pocket root itself.
    refused("sym-rel", "open directory a", |_| {
        prelude()
            .symlink("a", "../../..")
            .file("a/pwned", b"pwned\n")
            .end()
    });
    refused("sym-rel-deep", "open directory ok/b", |c| {
        prelude()
            .symlink("ok/b", c.up())
            .file("ok/b/pwned", b"pwned\n")
            .end()
    });
    // A chain: the second link is harmless alone.
    refused("sym-chain", "open directory y", |c| {
        prelude()
            .symlink("x", c.abs())
            .symlink("y", "x")
            .file("y/pwned", b"pwned\n")
            .end()
    });
}

#[test]
fn hardlink_through_planted_symlink() {
    // The target goes through the link: a second name for the canary.
    refused("hl-sym-target", "hard link a/canary", |c| {
        prelude()
            .symlink("a", c.abs())
            .hardlink("h", "a/canary")
            .end()
    });
    // The new name goes through the link: a file made outside.
    refused("hl-sym-name", "open directory a", |c| {
        prelude()
            .symlink("a", c.abs())
            .hardlink("a/pwned", "ok/fine")
            .end()
    });
}

#[test]
fn hardlink_to_outside() {
    refused("hl-dotdot", "\"..\" in path", |c| {
        prelude().hardlink("h", format!("{}/canary", c.up())).end()
    });
    refused("hl-dotdot-mid", "\"..\" in path", |_| {
        prelude().hardlink("h", "ok/../../x").end()
    });
    refused("hl-abs", "absolute path", |c| {
        prelude().hardlink("h", format!("{}/canary", c.abs())).end()
    });
    // Directories have no hard links.
    refused("hl-dir", "hard link h", |_| {
        prelude().hardlink("h", "ok").end()
    });
    // A link to a file that does not exist (yet) in the layer.
    refused("hl-missing", "hard link", |_| {
        prelude().hardlink("h", "nope").end()
    });
}

#[test]
fn device_node_outside() {
    refused("dev-dotdot", "\"..\" in path", |c| {
        prelude()
            .node(format!("{}/pwned", c.up()), b'3', 1, 3)
            .end()
    });
    refused("dev-abs", "absolute path", |c| {
        prelude()
            .node(format!("{}/pwned", c.abs()), b'4', 7, 0)
            .end()
    });
    refused("dev-sym", "open directory a", |c| {
        prelude()
            .symlink("a", c.abs())
            .node("a/pwned", b'3', 1, 3)
            .end()
    });
}

#[test]
fn directory_replaced_by_symlink() {
    // An empty directory gives way to a link; what comes under it must not
    // follow the link.
    refused("dir-sym", "open directory d", |c| {
        prelude()
            .dir("d/")
            .symlink("d", c.abs())
            .file("d/pwned", b"pwned\n")
            .end()
    });
    refused("dir-sym-nested", "open directory d/e", |c| {
        prelude()
            .dir("d/")
            .dir("d/e/")
            .symlink("d/e", c.abs())
            .file("d/e/pwned", b"pwned\n")
            .end()
    });
    // A directory with files in it cannot be replaced at all.
    refused("dir-sym-full", "d", |c| {
        prelude()
            .dir("d/")
            .file("d/x", b"x")
            .symlink("d", c.abs())
            .file("d/pwned", b"pwned\n")
            .end()
    });
}

#[test]
fn pax_path_override() {
    refused("pax-path", "\"..\" in path", |c| {
        let p = format!("{}/pwned", c.up());
        prelude()
            .pax(&[("path", p.as_bytes())])
            .file("innocent", b"pwned\n")
            .end()
    });
    refused("pax-path-abs", "absolute path", |c| {
        let p = format!("{}/pwned", c.abs());
        prelude()
            .pax(&[("path", p.as_bytes())])
            .file("innocent", b"pwned\n")
            .end()
    });
    refused("pax-linkpath", "\"..\" in path", |c| {
        let p = format!("{}/canary", c.up());
        prelude()
            .pax(&[("linkpath", p.as_bytes())])
            .hardlink("h", "ok/fine")
            .end()
    });
    // A pax record after a harmless one still counts: the last wins.
    refused("pax-path-twice", "\"..\" in path", |c| {
        let p = format!("{}/pwned", c.up());
        prelude()
            .pax(&[("path", b"safe"), ("path", p.as_bytes())])
            .file("innocent", b"pwned\n")
            .end()
    });
}

#[test]
fn gnu_long_name_override() {
    refused("gnu-name", "\"..\" in path", |c| {
        // Long enough to need the record.
        let p = format!("{}/{}/../pwned", c.up(), "x".repeat(120));
        prelude()
            .gnu_long(b'L', p.as_bytes())
            .file("innocent", b"pwned\n")
            .end()
    });
    refused("gnu-link", "\"..\" in path", |c| {
        let p = format!("ok/{}/../{}/canary", "x".repeat(120), c.up());
        prelude()
            .gnu_long(b'K', p.as_bytes())
            .hardlink("h", "ok/fine")
            .end()
    });
}

#[test]
fn nul_in_name() {
    // A name field stops at its first NUL, as in any tar; in a pax record
    // a NUL is part of the value, and such a path cannot be created.
    refused("nul-pax", "NUL byte", |c| {
        let mut p = b"safe\0".to_vec();
        p.extend_from_slice(format!("/{}/pwned", c.up()).as_bytes());
        prelude()
            .pax(&[("path", &p)])
            .file("innocent", b"pwned\n")
            .end()
    });
    refused("nul-link", "NUL byte", |c| {
        let mut p = b"ok/fine\0".to_vec();
        p.extend_from_slice(format!("{}/canary", c.abs()).as_bytes());
        prelude().pax(&[("linkpath", &p)]).symlink("s", "x").end()
    });
    refused("nul-hardlink", "NUL byte", |c| {
        let mut p = b"ok/fine\0".to_vec();
        p.extend_from_slice(format!("{}/canary", c.abs()).as_bytes());
        prelude().pax(&[("linkpath", &p)]).hardlink("h", "x").end()
    });
}

#[test]
fn control_characters_in_a_refused_name() {
    // The error names the entry; a name with a newline or an escape
    // sequence must not forge more lines on the user's terminal.
    refused("ctl-name", "\"..\" in path", |_| {
        let p = b"../\n\x1b[2Jpocket: all fine\n../pwned";
        prelude()
            .pax(&[("path", p)])
            .file("innocent", b"pwned\n")
            .end()
    });
}

#[test]
fn truncated_archive() {
    refused("trunc-data", "truncated archive", |_| {
        let mut t = prelude();
        let h = header(b"ok/big", b'0', 100_000, b"", &meta(0o644));
        t.raw(h, &[b'x'; 3000]);
        // raw() padded to a block; the archive simply stops there.
        t.0
    });
    refused("trunc-header", "truncated archive", |_| {
        let mut v = prelude().end();
        v.truncate(512 + 512 + 200); // inside the second header
        v
    });
    refused("trunc-no-end", "truncated archive", |_| {
        let mut t = prelude();
        t.file("ok/last", b"last\n");
        t.0 // no end-of-archive blocks
    });
    refused("trunc-pax", "truncated archive", |_| {
        let mut t = prelude();
        t.pax(&[("path", b"ok/long")]);
        let mut v = t.0;
        v.truncate(v.len() - 512); // the record's data cut off
        v
    });
}

#[test]
fn garbage_is_not_an_archive() {
    refused("garbage", "checksum", |_| {
        let mut v = prelude().end();
        v[3 * 512 + 7] ^= 0x55; // a flipped byte in the third header
        v
    });
    refused("bad-type", "unsupported entry type", |_| {
        prelude()
            .entry("ok/weird", b'V', b"", "", &meta(0o644))
            .end()
    });
}

#[test]
fn huge_metadata_records() {
    // A size that would make a naive reader allocate 8 GiB, with no data.
    refused("pax-huge-size", "metadata record", |_| {
        let mut t = prelude();
        let h = header(b"./PaxHeaders/x", b'x', 0o77777777777, b"", &meta(0o644));
        t.raw(h, b"");
        t.end()
    });
    refused("gnu-huge-size", "metadata record", |_| {
        let m = Meta {
            gnu: true,
            ..meta(0o644)
        };
        let mut t = prelude();
        t.raw(header(b"././@LongLink", b'L', 0o77777777777, b"", &m), b"");
        t.end()
    });
    // A real record just over the limit.
    refused("pax-big", "metadata record", |_| {
        let v = vec![b'a'; (1 << 20) + 10];
        prelude().pax(&[("comment", &v)]).file("ok/x", b"").end()
    });
    // Many records under the limit that add up to too much.
    refused("pax-many", "too many metadata records", |_| {
        let v = vec![b'a'; 1000 * 1000];
        let mut t = prelude();
        for _ in 0..5 {
            t.pax(&[("comment", &v)]);
        }
        t.file("ok/x", b"").end()
    });
    // A record whose length claims more than the header gives.
    refused("pax-bad-len", "bad pax record", |_| {
        let mut t = prelude();
        t.entry(
            "./PaxHeaders/x",
            b'x',
            b"99999999999999 path=x\n",
            "",
            &meta(0o644),
        );
        t.file("ok/x", b"").end()
    });
}

#[test]
fn whiteout_tricks() {
    refused("wh-dotdot", "bad whiteout name", |_| {
        prelude().file(".wh...", b"").end()
    });
    refused("wh-dot", "bad whiteout name", |_| {
        prelude().file("ok/.wh..", b"").end()
    });
    refused("wh-empty", "bad whiteout name", |_| {
        prelude().file("ok/.wh.", b"").end()
    });
    // Through a planted link, a whiteout would delete the canary or mark
    // its directory opaque.
    refused("wh-sym", "open directory a", |c| {
        prelude()
            .symlink("a", c.abs())
            .file("a/.wh.canary", b"")
            .end()
    });
    refused("wh-sym-opq", "open directory a", |c| {
        prelude()
            .symlink("a", c.abs())
            .file("a/.wh..wh..opq", b"")
            .end()
    });
    refused("wh-dotdot-path", "\"..\" in path", |c| {
        prelude().file(format!("{}/.wh.canary", c.up()), b"").end()
    });
}

// ------------------------------------------------- attacks on image archives

/// `load -i PATH` of what `build` wrote (an archive or an OCI layout
/// directory) is refused, saying `why`; nothing is left anywhere.
fn refused_load(tag: &str, why: &str, build: impl Fn(&Canary) -> PathBuf) {
    if !root() {
        return;
    }
    let c = Canary::new(tag);
    let r = Root::new(&format!("tar-{tag}"));
    let p = build(&c);
    let o = run_input(
        r.cmd(&["load".as_ref(), "-q".as_ref(), "-i".as_ref(), p.as_os_str()]),
        None,
        tag,
    );
    clear_error(&o, why, tag);
    c.intact(tag);
    store_empty(&r, tag);
    no_payload(&r.0, tag);
    // The same through a pipe, when it is an archive.
    if p.is_file() {
        let o = run_input(
            r.cmd(&["load", "-q"]),
            Some(std::fs::read(&p).unwrap()),
            tag,
        );
        clear_error(&o, why, &format!("{tag} from a pipe"));
        c.intact(tag);
        store_empty(&r, tag);
        no_payload(&r.0, tag);
    }
}

/// A layer that, if it got in, leaves a file named "pwned" in the store.
fn payload() -> Vec<u8> {
    Tar::new().file("pwned", b"pwned\n").end()
}

/// A docker-archive with one layer whose member `entry` adds to `t`;
/// the config lists `diff`.
fn docker_with(c: &Canary, name: &str, diff: &str, layer_member: impl Fn(&mut Tar)) -> PathBuf {
    let config = config_json(&[diff.to_string()]);
    let cname = format!("{}.json", sha256(config.as_bytes()));
    let mut t = Tar::new();
    t.file(&cname, config.as_bytes()).dir("l0/");
    layer_member(&mut t);
    let m = format!(
        "[{{\"Config\":\"{cname}\",\"RepoTags\":[\"evil:1\"],\"Layers\":[\"l0/layer.tar\"]}}]"
    );
    t.file("manifest.json", m.as_bytes());
    let p = c.input.join(name);
    std::fs::write(&p, t.end()).unwrap();
    p
}

#[test]
fn docker_archive_layer_is_a_symlink_out() {
    // The target outside is a valid layer with the right diff_id: only
    // following the link would make the load work.
    let outside = |c: &Canary| {
        let p = c.input.join("outside.tar");
        std::fs::write(&p, payload()).unwrap();
        p.to_str().unwrap().to_string()
    };
    refused_load("da-sym-abs", "missing from the archive", |c| {
        let o = outside(c);
        docker_with(c, "a.tar", &sha256(&payload()), |t| {
            t.symlink("l0/layer.tar", &o);
        })
    });
    refused_load("da-sym-rel", "missing from the archive", |c| {
        let o = format!("{}{}", "../".repeat(12), &outside(c)[1..]);
        docker_with(c, "a.tar", &sha256(&payload()), |t| {
            t.symlink("l0/layer.tar", &o);
        })
    });
    refused_load("da-sym-etc", "missing from the archive", |c| {
        docker_with(
            c,
            "a.tar",
            &sha256(&std::fs::read("/etc/passwd").unwrap()),
            |t| {
                t.symlink("l0/layer.tar", "/etc/passwd");
            },
        )
    });
    refused_load("da-hardlink", "missing from the archive", |c| {
        let o = outside(c);
        docker_with(c, "a.tar", &sha256(&payload()), |t| {
            t.hardlink("l0/layer.tar", &o);
        })
    });
}

#[test]
fn docker_archive_manifest_names_a_path_out() {
    for (tag, how) in [("da-man-abs", 0), ("da-man-dotdot", 1)] {
        refused_load(tag, "missing from the archive", |c| {
            let o = c.input.join("outside.tar");
            std::fs::write(&o, payload()).unwrap();
            let o = o.to_str().unwrap().to_string();
            let name = if how == 0 {
                o
            } else {
                format!("{}{}", "../".repeat(12), &o[1..])
            };
            let config = config_json(&[sha256(&payload())]);
            let cname = format!("{}.json", sha256(config.as_bytes()));
            let m = format!(
                "[{{\"Config\":\"{cname}\",\"RepoTags\":[\"evil:1\"],\"Layers\":[\"{name}\"]}}]"
            );
            let v = Tar::new()
                .file(&cname, config.as_bytes())
                .file("manifest.json", m.as_bytes())
                .end();
            let p = c.input.join("a.tar");
            std::fs::write(&p, v).unwrap();
            p
        });
    }
    // manifest.json itself a link to a good manifest outside.
    refused_load("da-man-sym", "neither a docker-archive", |c| {
        let config = config_json(&[sha256(&payload())]);
        let cname = format!("{}.json", sha256(config.as_bytes()));
        let m = format!(
            "[{{\"Config\":\"{cname}\",\"RepoTags\":[\"evil:1\"],\"Layers\":[\"l0/layer.tar\"]}}]"
        );
        let o = c.input.join("manifest.json");
        std::fs::write(&o, m).unwrap();
        let v = Tar::new()
            .file(&cname, config.as_bytes())
            .dir("l0/")
            .file("l0/layer.tar", &payload())
            .symlink("manifest.json", o.to_str().unwrap())
            .end();
        let p = c.input.join("a.tar");
        std::fs::write(&p, v).unwrap();
        p
    });
}

/// An OCI layout directory of one image with `layer` (gzip), under
/// c.input/oci; returns it and the layer blob's path.
fn oci_dir(c: &Canary, layer: &[u8]) -> (PathBuf, PathBuf) {
    let gz = gzip(layer);
    let files = oci_files(&[(&gz, sha256(layer))], "evil:1");
    let d = c.input.join("oci");
    std::fs::create_dir_all(d.join("blobs/sha256")).unwrap();
    for (n, b) in &files {
        std::fs::write(d.join(n), b).unwrap();
    }
    let blob = d.join(format!("blobs/sha256/{}", sha256(&gz)));
    (d, blob)
}

#[test]
fn oci_layout_blob_is_a_symlink_out() {
    refused_load("oci-blob-sym", "blobs/sha256/", |c| {
        let (d, blob) = oci_dir(c, &payload());
        let o = c.input.join("outside.gz");
        std::fs::rename(&blob, &o).unwrap();
        std::os::unix::fs::symlink(&o, &blob).unwrap();
        d
    });
    refused_load("oci-blobs-dir-sym", "blobs/sha256/", |c| {
        let (d, _) = oci_dir(c, &payload());
        let o = c.input.join("outside-blobs");
        std::fs::rename(d.join("blobs"), &o).unwrap();
        std::os::unix::fs::symlink(&o, d.join("blobs")).unwrap();
        d
    });
    refused_load("oci-index-sym", "index.json", |c| {
        let (d, _) = oci_dir(c, &payload());
        let o = c.input.join("outside-index.json");
        std::fs::rename(d.join("index.json"), &o).unwrap();
        std::os::unix::fs::symlink(&o, d.join("index.json")).unwrap();
        d
    });
    // The same trick inside an oci-archive.
    refused_load("oci-ar-sym", "missing from the archive", |c| {
        let gz = gzip(&payload());
        let o = c.input.join("outside.gz");
        std::fs::write(&o, &gz).unwrap();
        let files = oci_files(&[(&gz, sha256(&payload()))], "evil:1");
        let mut t = Tar::new();
        t.dir("blobs/").dir("blobs/sha256/");
        let bad = format!("blobs/sha256/{}", sha256(&gz));
        for (n, b) in &files {
            if *n == bad {
                t.symlink(n, o.to_str().unwrap());
            } else {
                t.file(n, b);
            }
        }
        let p = c.input.join("a.tar");
        std::fs::write(&p, t.end()).unwrap();
        p
    });
}

#[test]
fn wrong_diff_id() {
    refused_load("diff-docker", "diff_id mismatch", |c| {
        docker_with(c, "a.tar", &sha256(b"something else"), |t| {
            t.file("l0/layer.tar", &payload());
        })
    });
    refused_load("diff-oci", "diff_id mismatch", |c| {
        let gz = gzip(&payload());
        let files = oci_files(&[(&gz, sha256(b"something else"))], "evil:1");
        let p = c.input.join("a.tar");
        std::fs::write(&p, oci_archive(&files)).unwrap();
        p
    });
    // Right for the first image layer, wrong for the second: the first,
    // already extracted, must go too.
    refused_load("diff-second", "diff_id mismatch", |c| {
        let (a, b) = (good_layer(), payload());
        let config = config_json(&[sha256(&a), sha256(b"other")]);
        let cname = format!("{}.json", sha256(config.as_bytes()));
        let m = format!(
            "[{{\"Config\":\"{cname}\",\"RepoTags\":[\"evil:1\"],\"Layers\":[\"a.tar\",\"b.tar\"]}}]"
        );
        let v = Tar::new()
            .file(&cname, config.as_bytes())
            .file("a.tar", &a)
            .file("b.tar", &b)
            .file("manifest.json", m.as_bytes())
            .end();
        let p = c.input.join("a.tar");
        std::fs::write(&p, v).unwrap();
        p
    });
}

#[test]
fn digest_does_not_match_name() {
    // docker-archive: the config's name is its digest.
    refused_load("cfg-docker", "digest mismatch", |c| {
        let config = config_json(&[sha256(&payload())]);
        let cname = format!("{}.json", sha256(b"another config"));
        let m = format!(
            "[{{\"Config\":\"{cname}\",\"RepoTags\":[\"evil:1\"],\"Layers\":[\"l0/layer.tar\"]}}]"
        );
        let v = Tar::new()
            .file(&cname, config.as_bytes())
            .dir("l0/")
            .file("l0/layer.tar", &payload())
            .file("manifest.json", m.as_bytes())
            .end();
        let p = c.input.join("a.tar");
        std::fs::write(&p, v).unwrap();
        p
    });
    // OCI: every blob (manifest, config, layer) against its name.
    for (tag, which) in [
        ("cfg-oci", "config"),
        ("man-oci", "manifest"),
        ("layer-oci", "layer"),
    ] {
        refused_load(tag, "digest mismatch", |c| {
            let gz = gzip(&payload());
            let mut files = oci_files(&[(&gz, sha256(&payload()))], "evil:1");
            let lh = format!("blobs/sha256/{}", sha256(&gz));
            for (n, b) in files.iter_mut() {
                let hit = match which {
                    "config" => b.starts_with(b"{\"architecture\""),
                    "manifest" => b.starts_with(b"{\"schemaVersion\":2,\"mediaType\""),
                    _ => *n == lh,
                };
                if hit && which == "layer" {
                    // Same content, so the diff_id holds; other bytes.
                    *b = regzip(&payload());
                    assert_ne!(sha256(b), sha256(&gz));
                } else if hit {
                    b.insert(1, b' ');
                }
            }
            let p = c.input.join("a.tar");
            std::fs::write(&p, oci_archive(&files)).unwrap();
            p
        });
    }
}

/// The same data gzip-compressed into other bytes: only the header's
/// mtime differs, which no decoder checks.
fn regzip(b: &[u8]) -> Vec<u8> {
    let mut v = gzip(b);
    v[4] ^= 1;
    v
}

// ------------------------------------- archives that are fine, and harmless

/// The busybox test rootfs as tar entries, so an imported image runs.
fn busybox(t: &mut Tar) {
    fn walk(t: &mut Tar, base: &Path, rel: &str) {
        let mut es: Vec<_> = std::fs::read_dir(base.join(rel))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        es.sort();
        for n in es {
            let p = if rel.is_empty() {
                n
            } else {
                format!("{rel}/{n}")
            };
            let m = std::fs::symlink_metadata(base.join(&p)).unwrap();
            let ft = m.file_type();
            if ft.is_dir() {
                t.entry(format!("{p}/"), b'5', b"", "", &meta(m.mode() & 0o7777));
                walk(t, base, &p);
            } else if ft.is_symlink() {
                t.symlink(
                    &p,
                    std::fs::read_link(base.join(&p)).unwrap().to_str().unwrap(),
                );
            } else if ft.is_file() {
                let d = std::fs::read(base.join(&p)).unwrap();
                t.entry(&p, b'0', &d, "", &meta(m.mode() & 0o7777));
            }
        }
    }
    walk(t, rootfs(), "");
}

/// `layer` goes in every way (each into a store of its own) and `check`
/// finds in the layer directory what it expects; the canary is intact.
fn accepted(tag: &str, build: impl Fn(&Canary) -> Vec<u8>, check: impl Fn(&Root, &Path, Via)) {
    if !root() {
        return;
    }
    let c = Canary::new(tag);
    let layer = build(&c);
    for (i, via) in VIAS.into_iter().enumerate() {
        let what = format!("{tag} via {via:?}");
        let r = Root::new(&format!("tar-{tag}-{i}"));
        let o = feed(&r, &c, via, &layer);
        assert_eq!(o.status.code(), Some(0), "{what}: {}", stderr(&o));
        c.intact(&what);
        let tmp: Vec<_> = std::fs::read_dir(r.0.join("images/tmp")).unwrap().collect();
        assert!(tmp.is_empty(), "{what}: tmp/ holds {tmp:?}");
        let dir = r.0.join("images/layers").join(sha256(&layer));
        assert!(dir.is_dir(), "{what}: no layer {dir:?}");
        check(&r, &dir, via);
        c.intact(&what);
    }
}

fn lstat(p: &Path) -> std::fs::Metadata {
    std::fs::symlink_metadata(p).unwrap_or_else(|e| panic!("{p:?}: {e}"))
}

#[test]
fn hardlink_to_a_symlink_pointing_out() {
    // Legal (docker takes it): a second name for the symlink itself, never
    // for what it points to; writing to either name inside a container
    // resolves in the container.
    accepted(
        "hl-to-sym",
        |c| {
            let mut t = Tar::new();
            busybox(&mut t);
            t.symlink("s", format!("{}/canary", c.abs()))
                .hardlink("h", "s")
                .end()
        },
        |r, dir, via| {
            let (s, h) = (lstat(&dir.join("s")), lstat(&dir.join("h")));
            assert!(h.file_type().is_symlink(), "{via:?}: h is not the symlink");
            assert_eq!((s.ino(), s.nlink()), (h.ino(), 2), "{via:?}");
            let out = sh_in(
                r,
                tag_of(via),
                "echo pwned > /h; echo pwned > /s; echo pwned >> /h; readlink /h; true",
            );
            assert!(out.ends_with("/canary\n"), "{out:?}");
            assert!(
                lstat(&dir.join("h")).file_type().is_symlink(),
                "layer changed"
            );
        },
    );
    // An entry over the link's name replaces the name, not its target.
    accepted(
        "hl-to-sym-over",
        |c| {
            prelude()
                .symlink("s", format!("{}/canary", c.abs()))
                .hardlink("h", "s")
                .file("h", b"over h\n")
                .file("s", b"over s\n")
                .end()
        },
        |_, dir, via| {
            for (n, want) in [("h", "over h\n"), ("s", "over s\n")] {
                let m = lstat(&dir.join(n));
                assert!(m.file_type().is_file() && m.nlink() == 1, "{via:?}: {n}");
                assert_eq!(std::fs::read_to_string(dir.join(n)).unwrap(), want);
            }
        },
    );
}

#[test]
fn entries_over_a_planted_symlink_replace_it() {
    // Each entry's own name is a link to the canary: the entry replaces
    // the link (as GNU tar does) and never writes, chmods, chowns or
    // touches through it.
    accepted(
        "over-sym",
        |c| {
            let a = c.abs();
            let m = Meta {
                uid: 4242,
                gid: 4343,
                mtime: 5,
                ..meta(0o777)
            };
            let mut t = prelude();
            t.symlink("f", format!("{a}/canary"))
                .entry("f", b'0', b"over\n", "", &m)
                .symlink("d", format!("{a}/sub"))
                .entry("d/", b'5', b"", "", &m)
                .symlink("k", format!("{a}/canary"))
                .hardlink("k", "ok/fine")
                .symlink("p", format!("{a}/canary"))
                .entry("p", b'6', b"", "", &m)
                // A link's own owner and times, not its target's.
                .entry("t", b'2', b"", format!("{a}/canary"), &m)
                .entry("u", b'2', b"", a.clone(), &m);
            // A directory whose mode is set at the end, replaced by a link
            // before that.
            t.entry("e/", b'5', b"", "", &m).symlink("e", a);
            t.end()
        },
        |_, dir, via| {
            let f = lstat(&dir.join("f"));
            assert!(
                f.is_file() && f.mode() & 0o7777 == 0o777 && f.uid() == 4242,
                "{via:?}"
            );
            assert_eq!(std::fs::read(dir.join("f")).unwrap(), b"over\n");
            let d = lstat(&dir.join("d"));
            assert!(
                d.is_dir() && d.mode() & 0o7777 == 0o777 && d.uid() == 4242,
                "{via:?}"
            );
            let k = lstat(&dir.join("k"));
            assert!(
                k.is_file() && k.ino() == lstat(&dir.join("ok/fine")).ino(),
                "{via:?}"
            );
            assert!(lstat(&dir.join("p")).file_type().is_fifo(), "{via:?}");
            for n in ["t", "u"] {
                let t = lstat(&dir.join(n));
                assert!(t.file_type().is_symlink(), "{via:?}");
                assert_eq!(
                    (t.uid(), t.gid(), t.mtime()),
                    (4242, 4343, 5),
                    "{via:?}: {n}"
                );
            }
            assert!(lstat(&dir.join("e")).file_type().is_symlink(), "{via:?}");
        },
    );
}

#[test]
fn device_nodes_stay_in_the_layer() {
    // Layers are extracted as docker does, devices included; the nodes
    // land in the layer directory and nowhere else.
    accepted(
        "devices",
        |_| {
            let mut t = Tar::new();
            busybox(&mut t);
            t.dir("devs/")
                .node("devs/null2", b'3', 1, 3)
                .node("devs/zero2", b'3', 1, 5)
                .node("devs/loop", b'4', 7, 0)
                .node("devs/fifo", b'6', 0, 0);
            t.end()
        },
        |r, dir, via| {
            let want = [
                ("null2", true, 1, 3),
                ("zero2", true, 1, 5),
                ("loop", false, 7, 0),
            ];
            for (n, chr, ma, mi) in want {
                let m = lstat(&dir.join("devs").join(n));
                let ft = m.file_type();
                assert!(
                    if chr {
                        ft.is_char_device()
                    } else {
                        ft.is_block_device()
                    },
                    "{n}"
                );
                assert_eq!(
                    (libc::major(m.rdev()), libc::minor(m.rdev())),
                    (ma, mi),
                    "{n}"
                );
                assert_eq!(m.mode() & 0o7777, 0o666, "{n}");
            }
            assert!(lstat(&dir.join("devs/fifo")).file_type().is_fifo());
            // No other device node anywhere in the pocket root.
            let mut found = vec![];
            devices(&r.0, &mut found);
            found.sort();
            let mut want: Vec<PathBuf> = ["loop", "null2", "zero2"]
                .iter()
                .map(|n| dir.join("devs").join(n))
                .collect();
            want.sort();
            assert_eq!(found, want, "{via:?}");
            if via != Via::ImportFile {
                return;
            }
            let out = sh_in(r, tag_of(via), "stat -c '%n %F %t:%T %a' /devs/*");
            assert_eq!(
                out,
                "/devs/fifo fifo 0:0 666\n\
                 /devs/loop block special file 7:0 666\n\
                 /devs/null2 character special file 1:3 666\n\
                 /devs/zero2 character special file 1:5 666\n"
            );
            // As with docker's device cgroup, a node an image brings must
            // not open the host's device: a block device node of the
            // host's disk in an image would be the whole disk.
            let out = sh_in(
                r,
                tag_of(via),
                "for d in /devs/null2 /devs/zero2 /devs/loop; do \
                   if head -c 1 $d >/dev/null 2>&1; then echo $d opened; else echo $d denied; fi; \
                 done",
            );
            assert_eq!(
                out,
                "/devs/null2 denied\n/devs/zero2 denied\n/devs/loop denied\n"
            );
        },
    );
}

fn devices(d: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(d).unwrap() {
        let e = e.unwrap();
        let ft = e.file_type().unwrap();
        if ft.is_dir() {
            devices(&e.path(), out);
        } else if ft.is_char_device() || ft.is_block_device() {
            out.push(e.path());
        }
    }
}

fn xattr(p: &Path, name: &str) -> Option<Vec<u8>> {
    let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    let n = std::ffi::CString::new(name).unwrap();
    let mut buf = [0u8; 256];
    // SAFETY: valid C strings and a buffer of the length given.
    let r = unsafe { libc::lgetxattr(c.as_ptr(), n.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    (r >= 0).then(|| buf[..r as usize].to_vec())
}

#[test]
fn metadata_and_long_names_are_kept() {
    let p1 = "p".repeat(120);
    let q1 = "q".repeat(200);
    let g1 = "g".repeat(150);
    let h1 = "h".repeat(180);
    let u1 = "u".repeat(90);
    let v1 = "v".repeat(90);
    let n1 = "n".repeat(95);
    let m = |mode: u32, uid: u64, gid: u64, mtime: u64| Meta {
        uid,
        gid,
        mtime,
        ..meta(mode)
    };
    accepted(
        "keep",
        |_| {
            let mut t = Tar::new();
            busybox(&mut t);
            t.entry("data/", b'5', b"", "", &m(0o751, 1000, 1001, 1_234_567_890))
                .pax(&[
                    ("mtime", b"1000000000.123456789"),
                    ("SCHILY.xattr.user.pocket", b"kept"),
                ])
                .entry(
                    "data/plain",
                    b'0',
                    b"hello\n",
                    "",
                    &m(0o640, 1234, 5678, MTIME),
                )
                .hardlink("data/hard", "data/plain")
                .entry(
                    "data/suid",
                    b'0',
                    b"#!/bin/sh\n",
                    "",
                    &m(0o4755, 0, 0, MTIME),
                )
                .entry("data/sgid", b'0', b"", "", &m(0o2750, 0, 50, MTIME))
                .entry("data/sticky/", b'5', b"", "", &m(0o1777, 0, 0, MTIME))
                .entry(
                    "data/rel",
                    b'2',
                    b"",
                    "plain",
                    &m(0o777, 42, 43, 1_111_111_111),
                )
                .symlink("data/abs", "/etc/passwd")
                // PAX long name (parent directory implied) and link target.
                .pax(&[("path", format!("data/{p1}/{q1}").as_bytes())])
                .file("ignored-pax-name", b"pax long\n")
                .pax(&[("linkpath", format!("{p1}/{q1}").as_bytes())])
                .symlink("data/longsym", "ignored")
                // GNU long name and long hard link target.
                .gnu_long(b'L', format!("data/{g1}/{h1}").as_bytes())
                .entry(
                    "ignored-gnu",
                    b'0',
                    b"gnu long\n",
                    "",
                    &Meta {
                        gnu: true,
                        ..meta(0o644)
                    },
                )
                .gnu_long(b'K', format!("data/{g1}/{h1}").as_bytes())
                .entry(
                    "data/gnu-hard",
                    b'1',
                    b"",
                    "ignored",
                    &Meta {
                        gnu: true,
                        ..meta(0o644)
                    },
                )
                // Ids beyond octal fields: pax, and GNU base-256.
                .pax(&[("uid", b"3000000"), ("gid", b"3000001")])
                .file("data/bigid", b"")
                .entry(
                    "data/b256",
                    b'0',
                    b"",
                    "",
                    &m(0o644, 2_097_157, 2_097_158, MTIME),
                )
                .entry("data/fifo", b'6', b"", "", &m(0o620, 7, 8, MTIME))
                .pax(&[("SCHILY.xattr.user.dir", b"yes")])
                .dir("data/xdir/")
                // A layer must not steer overlayfs.
                .pax(&[("SCHILY.xattr.trusted.overlay.redirect", b"/etc")])
                .dir("data/redir/");
            // ustar prefix field, and a name filling all 100 bytes.
            let pm = Meta {
                prefix: format!("data/{u1}").into_bytes(),
                ..meta(0o600)
            };
            t.entry(&v1, b'0', b"ustar prefix\n", "", &pm);
            t.file(format!("data/{n1}"), b"hundred\n");
            t.end()
        },
        |r, dir, via| {
            let d = dir.join("data");
            let plain = lstat(&d.join("plain"));
            assert_eq!(
                (plain.mtime(), plain.mtime_nsec()),
                (1_000_000_000, 123_456_789)
            );
            assert_eq!(
                xattr(&d.join("plain"), "user.pocket").as_deref(),
                Some(&b"kept"[..])
            );
            assert_eq!(
                xattr(&d.join("xdir"), "user.dir").as_deref(),
                Some(&b"yes"[..])
            );
            assert_eq!(
                xattr(&d.join("redir"), "trusted.overlay.redirect"),
                None,
                "{via:?}"
            );
            let rel = lstat(&d.join("rel"));
            assert_eq!((rel.uid(), rel.gid(), rel.mtime()), (42, 43, 1_111_111_111));
            let script = format!(
                "cd /data && stat -c '%n %a %u %g %Y %h %F' . plain hard suid sgid sticky \
                 bigid b256 fifo xdir && stat -c '%n %u %g %Y %F' rel && \
                 readlink rel && readlink abs && readlink longsym && \
                 cat plain hard longsym {p1}/{q1} {g1}/{h1} gnu-hard {u1}/{v1} {n1} && \
                 stat -c '%a %s' {u1}/{v1} && \
                 [ $(stat -c %i plain) = $(stat -c %i hard) ] && echo one inode && \
                 [ $(stat -c %i {g1}/{h1}) = $(stat -c %i gnu-hard) ] && echo one inode && \
                 ls -ln rel | sed 's/  */ /g' | cut -d' ' -f1,3,4,9-"
            );
            let out = sh_in(r, tag_of(via), &script);
            let want = "\
. 751 1000 1001 1234567890 8 directory
plain 640 1234 5678 1000000000 2 regular file
hard 640 1234 5678 1000000000 2 regular file
suid 4755 0 0 1600000000 1 regular file
sgid 2750 0 50 1600000000 1 regular empty file
sticky 1777 0 0 1600000000 2 directory
bigid 644 3000000 3000001 1600000000 1 regular empty file
b256 644 2097157 2097158 1600000000 1 regular empty file
fifo 620 7 8 1600000000 1 fifo
xdir 755 0 0 1600000000 2 directory
rel 42 43 1111111111 symbolic link
plain
/etc/passwd
";
            let want = format!(
                "{want}{p1}/{q1}\nhello\nhello\npax long\npax long\ngnu long\ngnu long\n\
                 ustar prefix\nhundred\n600 13\none inode\none inode\n\
                 lrwxrwxrwx 42 43 rel -> plain\n"
            );
            assert_eq!(out, want, "{via:?}");
        },
    );
}

#[test]
fn pax_global_header_is_not_applied() {
    // A 'g' record's path would rename every entry that follows; it is
    // ignored, as GNU tar ignores it on extraction.
    accepted(
        "pax-global",
        |c| {
            let mut d = pax_rec(b"path", format!("{}/pwned", c.up()).as_bytes());
            d.extend(pax_rec(
                b"linkpath",
                format!("{}/canary", c.abs()).as_bytes(),
            ));
            let mut t = prelude();
            t.entry("./GlobalHead.0", b'g', &d, "", &meta(0o644));
            t.file("ok/x", b"x\n").hardlink("ok/y", "ok/x").end()
        },
        |_, dir, via| {
            let (x, y) = (lstat(&dir.join("ok/x")), lstat(&dir.join("ok/y")));
            assert_eq!((x.ino(), x.nlink()), (y.ino(), 2), "{via:?}");
        },
    );
}

#[test]
fn names_and_digests_that_are_paths() {
    let manifest = |c: &Canary, config: &str, tag: &str| {
        let cj = config_json(&[sha256(&payload())]);
        let m = format!(
            "[{{\"Config\":\"{config}\",\"RepoTags\":[\"{tag}\"],\"Layers\":[\"l0/layer.tar\"]}}]"
        );
        let v = Tar::new()
            .file(format!("{}.json", sha256(cj.as_bytes())), cj.as_bytes())
            .dir("l0/")
            .file("l0/layer.tar", &payload())
            .file("manifest.json", m.as_bytes())
            .end();
        let p = c.input.join("a.tar");
        std::fs::write(&p, v).unwrap();
        p
    };
    let good = sha256(config_json(&[sha256(&payload())]).as_bytes());
    // A tag is a file name under tags/.
    refused_load("tag-dotdot", "invalid reference format", |c| {
        manifest(c, &format!("{good}.json"), &format!("{}/pwned:1", c.up()))
    });
    refused_load("tag-abs", "invalid reference format", |c| {
        manifest(c, &format!("{good}.json"), &format!("{}/pwned:1", c.abs()))
    });
    // The config named by a path out of the archive.
    refused_load("cfg-path", "missing from the archive", |c| {
        let o = c.input.join(format!("{good}.json"));
        std::fs::write(&o, config_json(&[sha256(&payload())])).unwrap();
        manifest(c, o.to_str().unwrap(), "evil:1")
    });
    // An OCI digest is "sha256:" and 64 hex digits, never a path.
    refused_load("oci-digest-path", "only sha256 digests", |c| {
        let (d, _) = oci_dir(c, &payload());
        let o = c.input.join("outside.json");
        std::fs::copy(d.join("index.json"), &o).unwrap();
        let idx = std::fs::read_to_string(d.join("index.json")).unwrap();
        let i = idx.find("sha256:").unwrap();
        let evil = format!("sha256:../../../../{}", &o.to_str().unwrap()[1..]);
        let idx = format!("{}{evil}{}", &idx[..i], &idx[i + 71..]);
        std::fs::write(d.join("index.json"), idx).unwrap();
        d
    });
    // import's NAME too.
    if !root() {
        return;
    }
    let c = Canary::new("import-name");
    let r = Root::new("tar-import-name");
    let f = c.input.join("l.tar");
    std::fs::write(&f, payload()).unwrap();
    for name in [format!("{}/pwned", c.up()), format!("{}/pwned", c.abs())] {
        let o = run_input(
            r.cmd(&["import".as_ref(), f.as_os_str(), name.as_ref()]),
            None,
            "import",
        );
        clear_error(&o, "invalid reference format", &name);
        c.intact(&name);
        store_empty(&r, &name);
        no_payload(&r.0, &name);
    }
}
