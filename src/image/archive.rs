//! What `pocket load` reads from: a tar archive on disk (indexed once,
//! then each member read in place with pread), stdin (spooled into the
//! store's tmp/ first when it is a pipe), or a directory (an OCI layout
//! that `skopeo copy ... oci:DIR` wrote).
//!
//! Member names are normalized as the extractor does; symlinks and hard
//! links between members (docker-archive's `<id>/layer.tar -> ../<x>.tar`)
//! are followed inside the archive only. A directory's files are opened
//! with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS).

use super::extract::normalize;
use super::store::Images;
use super::tar::{Kind, Reader, Source};
use crate::error::{Context, Error, Result};
use crate::sys::fd::{self, Fd};
use crate::sys::{Errno, cstr};
use alloc::string::String;
use alloc::vec::Vec;
use linux_raw_sys::general as k;

/// Largest JSON document (manifest, index, config) read into memory.
const MAX_DOC: u64 = 16 << 20;

/// A byte range of a file, read with pread: seeking is free.
pub struct Section {
    fd: i32,
    pos: u64,
    end: u64,
}

impl Source for Section {
    fn read(&mut self, buf: &mut [u8]) -> core::result::Result<usize, Errno> {
        let k = (buf.len() as u64).min(self.end - self.pos) as usize;
        if k == 0 {
            return Ok(0);
        }
        let n = fd::pread(self.fd, &mut buf[..k], self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
    fn skip(&mut self, n: u64) -> core::result::Result<(), Errno> {
        if n > self.end - self.pos {
            return Err(Errno::EPIPE);
        }
        self.pos += n;
        Ok(())
    }
}

struct Member {
    name: Vec<u8>,
    /// For links: the member they name (normalized, inside the archive).
    link: Option<Vec<u8>>,
    off: u64,
    size: u64,
}

enum Kind2 {
    Tar { file: Fd, members: Vec<Member> },
    Dir(Fd),
}

pub struct Archive {
    kind: Kind2,
    /// What to call it in errors.
    pub name: String,
}

/// A member's data as a stream.
pub enum Blob {
    Part(Section),
    File(Fd),
}

impl Source for Blob {
    fn read(&mut self, buf: &mut [u8]) -> core::result::Result<usize, Errno> {
        match self {
            Blob::Part(s) => s.read(buf),
            Blob::File(f) => f.read(buf),
        }
    }
}

fn size_of(f: &Fd) -> Result<(u64, u32)> {
    let st = fd::fstatat(f.raw(), c"", libc::AT_EMPTY_PATH).ctx("stat", "archive")?;
    Ok((st.st_size as u64, st.st_mode & libc::S_IFMT))
}

/// `dir/target` for a symlink in `name`'s directory, normalized; None if
/// it climbs out of the archive or is absolute.
fn join_link(name: &[u8], target: &[u8]) -> Option<Vec<u8>> {
    if target.first() == Some(&b'/') {
        return None;
    }
    let mut parts: Vec<&[u8]> = name.split(|&c| c == b'/').collect();
    parts.pop();
    for c in target.split(|&c| c == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(parts.join(&b'/'))
}

impl Archive {
    /// Open a path (file or OCI layout directory), or "-" for stdin.
    pub fn open(path: &str, images: &Images, p: &mut super::progress::Progress) -> Result<Archive> {
        if path == "-" {
            return Self::stdin(images, p);
        }
        let c = cstr::cstring(path.as_bytes())
            .ok_or_else(|| Error::bad("open", path, "contains a NUL byte"))?;
        let f = fd::open(&c, libc::O_RDONLY | libc::O_CLOEXEC, 0).ctx("open", path)?;
        let (_, mode) = size_of(&f)?;
        let kind = if mode == libc::S_IFDIR {
            Kind2::Dir(f)
        } else {
            Self::seekable(f, images, p)?
        };
        Ok(Archive {
            kind,
            name: String::from(path),
        })
    }

    fn stdin(images: &Images, p: &mut super::progress::Progress) -> Result<Archive> {
        let f = Fd::from_raw(fd::dup(0).ctx("dup", "stdin")?);
        Ok(Archive {
            kind: Self::seekable(f, images, p)?,
            name: String::from("stdin"),
        })
    }

    /// A regular file is indexed in place; a pipe, a fifo or a character
    /// device cannot be read twice, so it is copied first (into a file
    /// unlinked at once: nothing is left behind whatever happens).
    fn seekable(f: Fd, images: &Images, p: &mut super::progress::Progress) -> Result<Kind2> {
        if size_of(&f)?.1 == libc::S_IFREG {
            return Self::index(f);
        }
        let tmp = images.tmp_dir("stdin")?;
        let c = cstr::cstring(tmp.as_bytes()).unwrap_or_default();
        let copy = fd::open(&c, libc::O_TMPFILE | libc::O_RDWR | libc::O_CLOEXEC, 0o600)
            .ctx("create", &tmp);
        let _ = crate::sys::fs::remove_tree(libc::AT_FDCWD, &c);
        let copy = copy?;
        let mut buf = alloc::vec![0u8; 256 * 1024];
        loop {
            let n = fd::read(f.raw(), &mut buf).ctx("read", "archive")?;
            if n == 0 {
                break;
            }
            fd::write_all(copy.raw(), &buf[..n]).ctx("write", &tmp)?;
            p.add(n as u64);
        }
        Self::index(copy)
    }

    fn index(file: Fd) -> Result<Kind2> {
        let (size, _) = size_of(&file)?;
        let mut sec = Section {
            fd: file.raw(),
            pos: 0,
            end: size,
        };
        let mut r = Reader::new(&mut sec);
        let mut members = Vec::new();
        while let Some(e) = r.next()? {
            let Ok(name) = normalize(&e.path) else {
                continue; // never looked up by such a name anyway
            };
            let link = match e.kind {
                Kind::File => None,
                Kind::Symlink => join_link(&name, &e.link),
                Kind::Link => normalize(&e.link).ok(),
                _ => continue,
            };
            if e.kind != Kind::File && link.is_none() {
                continue;
            }
            members.push(Member {
                name,
                link,
                off: r.offset(),
                size: e.size,
            });
        }
        Ok(Kind2::Tar { file, members })
    }

    fn member(&self, name: &str) -> Option<(u64, u64)> {
        let Kind2::Tar { members, .. } = &self.kind else {
            return None;
        };
        let mut want = normalize(name.as_bytes()).ok()?;
        for _ in 0..8 {
            // The last member of a name wins, as when extracting.
            let m = members.iter().rev().find(|m| m.name == want)?;
            match &m.link {
                None => return Some((m.off, m.size)),
                Some(l) => want = l.clone(),
            }
        }
        None
    }

    pub fn has(&self, name: &str) -> bool {
        match &self.kind {
            Kind2::Tar { .. } => self.member(name).is_some(),
            Kind2::Dir(_) => self.blob(name).is_ok(),
        }
    }

    /// A member's data as a stream.
    pub fn blob(&self, name: &str) -> Result<Blob> {
        let missing = || {
            Error::bad(
                "load",
                alloc::format!("{}: {name}", self.name),
                "missing from the archive",
            )
        };
        match &self.kind {
            Kind2::Tar { file, .. } => {
                let (off, size) = self.member(name).ok_or_else(missing)?;
                Ok(Blob::Part(Section {
                    fd: file.raw(),
                    pos: off,
                    end: off + size,
                }))
            }
            Kind2::Dir(d) => {
                let c = cstr::cstring(name.as_bytes()).ok_or_else(missing)?;
                let how = (k::RESOLVE_BENEATH | k::RESOLVE_NO_SYMLINKS) as u64;
                // Non-blocking and regular files only: a fifo or a device
                // in a layout directory must not hang or feed the load.
                let fl = libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC;
                match fd::openat2(d.raw(), &c, fl, how) {
                    Ok(f) if size_of(&f)?.1 == libc::S_IFREG => Ok(Blob::File(f)),
                    Ok(_) => Err(Error::bad("load", name, "not a regular file")),
                    Err(Errno::ENOENT) => Err(missing()),
                    Err(e) => Err(Error::sys("open", name, e)),
                }
            }
        }
    }

    /// A small member (a JSON document) whole.
    pub fn read(&self, name: &str) -> Result<Vec<u8>> {
        let mut b = self.blob(name)?;
        let mut out = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            let n = b.read(&mut buf).ctx("read", name)?;
            if n == 0 {
                return Ok(out);
            }
            out.extend_from_slice(&buf[..n]);
            if out.len() as u64 > MAX_DOC {
                return Err(Error::bad("load", name, "document too large"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::tar::Entry;
    use crate::image::tar_write::Writer;

    #[test]
    fn links_stay_inside() {
        assert_eq!(join_link(b"a/layer.tar", b"../x.tar").unwrap(), b"x.tar");
        assert_eq!(join_link(b"a/b", b"c/./d").unwrap(), b"a/c/d");
        assert!(join_link(b"a/b", b"../../x").is_none());
        assert!(join_link(b"a", b"/etc/passwd").is_none());
    }

    fn tar(entries: &[(&str, Kind, &[u8], &str)]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut w = Writer::new(&mut out);
        for &(path, kind, data, link) in entries {
            let e = Entry {
                path: path.as_bytes().to_vec(),
                kind,
                mode: 0o644,
                uid: 0,
                gid: 0,
                mtime: (0, 0),
                size: data.len() as u64,
                link: link.as_bytes().to_vec(),
                major: 0,
                minor: 0,
                xattrs: Vec::new(),
            };
            w.append(&e).unwrap();
            if kind == Kind::File {
                w.data(data).unwrap();
            }
        }
        w.finish().unwrap();
        out
    }

    /// Right checksums for the headers a reader reaches (octal sizes
    /// only), so that mutations get past them.
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
            h[148..156].copy_from_slice(alloc::format!("{sum:06o}\0 ").as_bytes());
            let size = h[124..136]
                .iter()
                .filter(|c| (b'0'..=b'7').contains(c))
                .fold(0usize, |n, &c| {
                    n.saturating_mul(8).saturating_add((c - b'0') as usize)
                });
            pos = pos.saturating_add(512 + size.div_ceil(512) * 512);
        }
    }

    /// Every (normalized name, data) of the archive's files, in order, as
    /// the tar reader sees them.
    fn files(t: &[u8]) -> Result<Vec<(Vec<u8>, Kind, Vec<u8>)>> {
        let mut src: &[u8] = t;
        let mut r = Reader::new(&mut src);
        let mut out = Vec::new();
        while let Some(e) = r.next()? {
            let mut d = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                let n = r.read_data(&mut buf)?;
                if n == 0 {
                    break;
                }
                d.extend_from_slice(&buf[..n]);
            }
            if let Ok(name) = normalize(&e.path) {
                out.push((name, e.kind, d));
            }
        }
        Ok(out)
    }

    #[test]
    fn hostile_archive() {
        use Kind::*;
        let corpus = [
            tar(&[
                (
                    "manifest.json",
                    File,
                    br#"[{"Config":"c.json","RepoTags":["x:1"],"Layers":["abc/layer.tar"]}]"#,
                    "",
                ),
                ("c.json", File, b"{}", ""),
                ("abc", Dir, b"", ""),
                ("l0.tar", File, b"layer", ""),
                ("abc/layer.tar", Symlink, b"", "../l0.tar"),
                ("hard.tar", Link, b"", "./l0.tar"),
                ("loop/a", Symlink, b"", "b"),
                ("loop/b", Symlink, b"", "a"),
            ]),
            tar(&[
                ("oci-layout", File, br#"{"imageLayoutVersion":"1.0.0"}"#, ""),
                ("./index.json", File, br#"{"manifests":[]}"#, ""),
                ("blobs//sha256/./ab", File, b"x", ""),
                ("index.json", File, b"{}", ""),
                ("up", Symlink, b"", "../../etc/passwd"),
                ("abs", Link, b"", "/etc/passwd"),
            ]),
        ];
        let corpus: Vec<&[u8]> = corpus.iter().map(|v| &v[..]).collect();
        let names = [
            "manifest.json",
            "c.json",
            "abc/layer.tar",
            "./hard.tar",
            "loop/a",
            "index.json",
            "blobs/sha256/ab",
            "up",
            "abs",
            "abc/../l0.tar",
            "/etc/passwd",
        ];
        let mem = crate::sys::exe::memfd_create(c"hostile-archive", 0).unwrap();
        let dict: &[&[u8]] = &[b"../", b"manifest.json", b"l0.tar", b"1", b"2", b"5"];
        crate::rt::fuzz::run(
            "archive",
            &corpus,
            dict,
            std::time::Duration::from_secs(60),
            |b| {
                let mut t = b.to_vec();
                reseal(&mut t);
                fd::ftruncate(mem.raw(), 0).unwrap();
                fd::pwrite(mem.raw(), &t, 0).unwrap();
                let copy = Fd::from_raw(fd::dup(mem.raw()).unwrap());
                let want = files(&t);
                let kind = match Archive::index(copy) {
                    Ok(k) => k,
                    Err(e) => {
                        assert!(want.is_err(), "the reader reads what the index refuses");
                        return Err(alloc::format!("{e}"));
                    }
                };
                let want = want.expect("the index reads what the reader refuses");
                let ar = Archive {
                    kind,
                    name: String::from("hostile.tar"),
                };
                for n in names {
                    let got = ar.read(n);
                    assert_eq!(ar.has(n), got.is_ok(), "{n}");
                    let Ok(d) = got else { continue };
                    // A member's data, the last one's if the name is a file's.
                    let norm = normalize(n.as_bytes()).unwrap();
                    match want.iter().rev().find(|(p, _, _)| *p == norm) {
                        Some((_, File, last)) => assert_eq!(d, *last, "{n}"),
                        _ => assert!(want.iter().any(|(_, k, x)| *k == File && *x == d), "{n}"),
                    }
                }
                Ok(())
            },
        );
    }
}
