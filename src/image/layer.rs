//! Adding a layer to the store: a tar stream extracted into a private
//! temporary directory, its sha256 (the diff_id) computed on the way, then
//! renamed into `layers/<diff_id>` in one step. A reader never sees half a
//! layer; two loads of the same layer race harmlessly (the second rename
//! finds the first one's layer and throws its own copy away).

use super::extract::{self, Opts, Whiteouts};
use super::hasher::Hasher;
use super::store::Images;
use super::tar::Source;
use crate::error::cpath as cs;
use crate::error::{Context, Error, Result};
use crate::sys::fd::{self, Fd};
use crate::sys::{Errno, cstr, fs, proc};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// Counts what passes through, hashes it unless told not to (sha256 is a
/// third of a plain layer's load time on tmpfs: never twice over the same
/// bytes, and on the other CPU once long: hasher.rs), and reports
/// progress if asked.
pub struct Tee<'a> {
    pub inner: &'a mut dyn Source,
    pub hash: Option<Hasher>,
    pub count: u64,
    pub progress: Option<&'a mut super::progress::Progress>,
}

impl Source for Tee<'_> {
    fn read(&mut self, buf: &mut [u8]) -> core::result::Result<usize, Errno> {
        let n = self.inner.read(buf)?;
        if let Some(h) = &mut self.hash {
            h.update(&buf[..n]);
        }
        self.count += n as u64;
        if let Some(p) = self.progress.as_deref_mut() {
            p.add(n as u64);
        }
        Ok(n)
    }
}

impl<'a> Tee<'a> {
    pub fn new(inner: &'a mut dyn Source) -> Tee<'a> {
        Tee {
            inner,
            hash: Some(Hasher::default()),
            count: 0,
            progress: None,
        }
    }
    /// Read to EOF: a digest covers the bytes after a tar's end blocks too.
    pub fn drain(&mut self) -> Result<()> {
        let mut buf = [0u8; 8192];
        loop {
            match self.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(_) | Err(Errno::EINTR) => {}
                Err(e) => return Err(Error::sys("read", "layer", e)),
            }
        }
    }
    /// (sha256 hex, or "" if not hashing; bytes).
    pub fn finish(self) -> (String, u64) {
        (self.hash.map(Hasher::hex).unwrap_or_default(), self.count)
    }
}

/// A layer extracted but not yet in place.
pub struct Pending {
    pub diff_id: String,
    pub size: u64,
    tmp: String,
    images: String,
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.tmp.is_empty() {
            let _ = remove(&self.tmp);
            // Its split, unless commit moved it.
            if let Some(c) = cstr::cstring(format!("{}.split", self.tmp).as_bytes()) {
                let _ = fs::unlinkat(libc::AT_FDCWD, &c, 0);
            }
        }
    }
}

fn remove(path: &str) -> Result<()> {
    let c = cstr::cstring(path.as_bytes()).unwrap_or_default();
    crate::spawn::userns::remove_tree(libc::AT_FDCWD, &c).ctx("remove", path)
}

impl Pending {
    /// Move the layer into the store (or keep the copy already there).
    pub fn commit(mut self) -> Result<String> {
        let dst = format!("{}/layers/{}", self.images, self.diff_id);
        let (a, b) = (
            cstr::cstring(self.tmp.as_bytes()),
            cstr::cstring(dst.as_bytes()),
        );
        let (Some(a), Some(b)) = (a, b) else {
            return Err(Error::bad("layer", dst, "bad path"));
        };
        // The size beside the layer (not in it: the layer is a rootfs).
        let _ = fs::write_atomic(
            &cstr::cstring(format!("{}/layers", self.images).as_bytes()).unwrap_or_default(),
            &format!("{}.size", self.diff_id),
            format!("{}", self.size).as_bytes(),
            false,
        );
        let split = format!("{}.split", self.tmp);
        match fs::renameat(libc::AT_FDCWD, &a, libc::AT_FDCWD, &b) {
            Ok(()) => self.tmp.clear(),
            // Someone stored the same layer first: theirs is as good.
            Err(Errno::EEXIST | Errno::ENOTEMPTY) => {}
            Err(e) => return Err(Error::sys("rename", dst, e)),
        }
        // The tar as it came (image::split), beside the layer as its size
        // is, once the layer is; over one already there, which tells the
        // same bytes.
        if let (Some(s), Some(d)) = (
            cstr::cstring(split.as_bytes()),
            cstr::cstring(format!("{dst}.split").as_bytes()),
        ) && fs::renameat(libc::AT_FDCWD, &s, libc::AT_FDCWD, &d).is_err()
        {
            let _ = fs::unlinkat(libc::AT_FDCWD, &s, 0);
        }
        Ok(core::mem::take(&mut self.diff_id))
    }
}

impl Images {
    /// A fresh private directory under `tmp/`, named after this process so
    /// a later run can clear what a killed one left.
    pub fn tmp_dir(&self, what: &str) -> Result<String> {
        let mut r = [0u8; 6];
        let _ = proc::getrandom(&mut r);
        let p = format!(
            "{}/tmp/{}-{what}-{}",
            self.dir,
            proc::getpid(),
            crate::rt::hex(&r)
        );
        let c = cstr::cstring(p.as_bytes()).unwrap_or_default();
        fs::mkdir(&c, 0o700).ctx("mkdir", &p)?;
        Ok(p)
    }

    /// Extract a tar stream (already decompressed) as a layer; the caller
    /// checks the diff_id if it expects one, then commits.
    pub fn extract_layer(
        &self,
        src: &mut dyn Source,
        progress: Option<&mut super::progress::Progress>,
    ) -> Result<Pending> {
        let tmp = self.tmp_dir("layer")?;
        let mut p = Pending {
            diff_id: String::new(),
            size: 0,
            tmp,
            images: self.dir.clone(),
        };
        let c = cstr::cstring(p.tmp.as_bytes()).unwrap_or_default();
        let dir: Fd = fd::open(&c, libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC, 0)
            .ctx("open", &p.tmp)?;
        let mut tee = Tee::new(src);
        tee.progress = progress;
        // The archive recorded as it is read, for save and push to write
        // it again byte for byte (image::split); a layer is stored without
        // one where its file cannot be made or written.
        let fl = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_CLOEXEC;
        let split_path = format!("{}.split", p.tmp);
        let mut split = cstr::cstring(split_path.as_bytes())
            .and_then(|c| fd::open(&c, fl, 0o600).ok())
            .map(super::split::Split::new);
        // A plain user can give files no owner but itself (they are root
        // in its containers, whose root is the user), unless it runs as
        // root of its own user namespace (userns::as_users_root).
        let opts = Opts {
            devices: true,
            chown: crate::sys::proc::geteuid() == 0,
            xattrs: true,
            whiteouts: Whiteouts::Overlay,
            limits: self.limits,
        };
        let st = extract::extract_recorded(&mut tee, &dir, &opts, split.as_mut())?;
        tee.drain()?;
        (p.diff_id, p.size) = tee.finish();
        if let Some(s) = split
            && !s.finish(p.size.saturating_sub(st.end))
            && let Some(c) = cstr::cstring(split_path.as_bytes())
        {
            let _ = fs::unlinkat(libc::AT_FDCWD, &c, 0);
        }
        Ok(p)
    }

    /// Extract and store a layer; returns its diff_id (hex).
    pub fn add_layer(&self, src: &mut dyn Source) -> Result<(String, u64)> {
        let p = self.extract_layer(src, None)?;
        let size = p.size;
        Ok((p.commit()?, size))
    }

    /// A layer's uncompressed tar size, as recorded when it was stored.
    pub fn layer_size(&self, hex: &str) -> u64 {
        let p = format!("{}/layers/{hex}.size", self.dir);
        cstr::cstring(p.as_bytes())
            .and_then(|c| fs::read(&c).ok())
            .and_then(|b| core::str::from_utf8(&b).ok()?.trim().parse().ok())
            .unwrap_or(0)
    }

    /// Held (shared) by a pull from its first layer to its image: the
    /// layers it stored meanwhile are listed by no image yet.
    pub fn busy(&self) -> Result<crate::sys::lock::Lock> {
        let p = format!("{}/.busy", self.dir);
        crate::sys::lock::Lock::shared(&cs(&p)?).ctx("flock", &p)
    }

    /// Remove the layers no image lists (left by a pull that was killed
    /// or failed: kept so that the next pull resumes), unless a pull
    /// runs. The caller holds `lock` (load, import and commit store
    /// their layers and image under it). Returns their bytes.
    pub fn drop_orphans(&self) -> Result<u64> {
        let p = format!("{}/.busy", self.dir);
        let Some(_pulls) = crate::sys::lock::Lock::try_file(&cs(&p)?).ctx("flock", &p)? else {
            return Ok(0);
        };
        let listed: Vec<String> = self
            .ids()
            .iter()
            .filter_map(|i| self.get(i).ok())
            .flat_map(|i| i.layers)
            .collect();
        let d = format!("{}/layers", self.dir);
        let f = fd::open(&cs(&d)?, libc::O_RDONLY | libc::O_DIRECTORY, 0).ctx("open", &d)?;
        let mut bytes = 0;
        for e in fs::list_dir(&f).ctx("list", &d)? {
            let hex = e.name.split('.').next().unwrap_or("");
            if hex.len() != 64 || listed.iter().any(|l| l == hex) {
                continue;
            }
            if e.name.len() == 64 {
                bytes += self.layer_size(hex);
                self.drop_layer(hex)?;
            } else if !self.has_layer(hex) {
                // A size or push note whose layer is gone.
                let _ = fs::unlinkat(libc::AT_FDCWD, &cs(&format!("{d}/{}", e.name))?, 0);
            }
        }
        Ok(bytes)
    }

    /// A layer out of the store: out of layers/ in one rename first, so
    /// that a removal that fails or is killed halfway leaves a tmp/ entry
    /// (cleared later), never a partial layer a later load would trust.
    pub fn drop_layer(&self, l: &str) -> Result<()> {
        let gone = format!("{}/tmp/{}-rm-{l}", self.dir, crate::sys::proc::getpid());
        if fs::renameat(
            libc::AT_FDCWD,
            &cs(&self.layer_dir(l))?,
            libc::AT_FDCWD,
            &cs(&gone)?,
        )
        .is_ok()
        {
            let _ = crate::spawn::userns::remove_tree(libc::AT_FDCWD, &cs(&gone)?);
        }
        for what in ["size", "pushed", "split"] {
            let _ = fs::unlinkat(
                libc::AT_FDCWD,
                &cs(&format!("{}.{what}", self.layer_dir(l)))?,
                0,
            );
        }
        Ok(())
    }

    /// Remove what killed pockets left in tmp/ (their pid is gone).
    pub fn clear_tmp(&self) {
        let d = format!("{}/tmp", self.dir);
        let Some(c) = cstr::cstring(d.as_bytes()) else {
            return;
        };
        let Ok(f) = fd::open(&c, libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC, 0) else {
            return;
        };
        for e in fs::list_dir(&f).unwrap_or_default() {
            let pid: i32 = e
                .name
                .split('-')
                .next()
                .and_then(|p| p.parse().ok())
                .unwrap_or(0);
            if pid > 0 && pid != proc::getpid() && proc::kill(pid, 0) == Err(Errno::ESRCH) {
                let _ = remove(&format!("{d}/{}", e.name));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tee_counts_hashes_and_drains() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut src: &[u8] = &data;
        let mut t = Tee::new(&mut src);
        let mut buf = [0u8; 1000];
        assert_eq!(t.read(&mut buf), Ok(1000));
        assert_eq!(t.count, 1000);
        t.drain().unwrap();
        let (hex, n) = t.finish();
        assert_eq!(n, 200_000);
        assert_eq!(format!("sha256:{hex}"), super::super::digest::of(&data));
        let mut src: &[u8] = &data;
        let mut t = Tee::new(&mut src);
        t.hash = None;
        t.drain().unwrap();
        assert_eq!(t.finish(), (String::new(), 200_000));
    }

    /// A layer blob as `load` reads it: hashed and counted (Tee), then
    /// gunzipped or unzstd'ed or not (`plain`), then read as a tar, then
    /// drained. Whatever the blob, its digest covers every byte once.
    #[test]
    fn hostile_layer_stream() {
        use crate::image::tar::{Entry, Kind, Reader};
        use crate::image::tar_write::{Sink, Writer};
        let mut t = Vec::new();
        let mut w = Writer::new(&mut t);
        for (path, kind, data, link) in [
            ("d", Kind::Dir, &b""[..], ""),
            ("d/f", Kind::File, b"hello\n", ""),
            ("d/s", Kind::Symlink, b"", "f"),
        ] {
            w.append(&Entry {
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
            })
            .unwrap();
            w.data(data).unwrap();
        }
        w.finish().unwrap();
        let mut gz = Vec::new();
        let mut g = crate::image::gzip_write::Gzip::new(&mut gz, 1).unwrap();
        g.put(&t).unwrap();
        g.finish().unwrap();
        // `tar -b1 --format=ustar` of d/f and d/s -> f, by `zstd -19`.
        let zs = "28b52ffd0468550300f2c30c10b0ebe40949f961416965bb5b24d8690a68a0c7ea6e0bc6602975d2d1f92499040563b716fbcd8a6bcf8a7e0e216ed5bd8309132000312c2c2c36fd55e0ab6a0a138f014b873daa01ab16e45e38c480a5433214807b86a1010c3f08e95d1f78804101cc27e10670f57f59";
        let zs: Vec<u8> = (0..zs.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&zs[i..i + 2], 16).unwrap())
            .collect();
        let corpus: &[&[u8]] = &[&t, &gz, &zs];
        crate::rt::fuzz::run(
            "layer stream",
            corpus,
            &[b"\x1f\x8b\x08\x00", b"\x28\xb5\x2f\xfd", b"ustar\0"],
            std::time::Duration::from_secs(60),
            |b| {
                let mut src: &[u8] = b;
                let mut tee = Tee::new(&mut src);
                let read = match super::super::gzip::plain(&mut tee) {
                    Ok(mut plain) => {
                        let mut r = Reader::new(&mut *plain);
                        let mut n = 0;
                        let res = loop {
                            match r.next() {
                                Ok(Some(_)) => n += 1,
                                Ok(None) => break Ok(n),
                                Err(e) => break Err(e),
                            }
                        };
                        res.map_err(|e| plain.explain(e))
                    }
                    Err(e) => Err(e),
                };
                tee.drain().unwrap();
                let (hex, n) = tee.finish();
                assert_eq!(n, b.len() as u64);
                assert_eq!(super::super::digest::of(b), format!("sha256:{hex}"));
                read.map(|_| ()).map_err(|e| format!("{e}"))
            },
        );
    }
}
