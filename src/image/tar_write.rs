//! Tar archives, writing: POSIX ustar headers, with a pax record in front
//! where ustar falls short (names and link targets that are long or not
//! ASCII, sizes of 8 GiB and more, ids past 2097151, mtimes before 1970,
//! xattrs as SCHILY.xattr.*), and a walker that writes a directory tree.
//!
//! The walker visits names in byte order and writes nothing that depends
//! on when or where it runs (no atime, no user names, no pids in pax
//! names), so one tree always gives the same bytes and the same sha256:
//! what a layer's diff_id needs. It never follows a symlink, never opens
//! anything but directories and regular files, and stops at mount points.

use super::digest::Sha256;
use super::tar::{Entry, Kind};
use crate::error::{Context, Error, Result};
use crate::sys::fd::{self, Fd};
use crate::sys::tree::Stack;
use crate::sys::{Errno, file, fs as sfs};
use alloc::ffi::CString;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use linux_raw_sys::general as k;

const BLOCK: usize = 512;
const ZEROS: [u8; BLOCK] = [0; BLOCK];
/// Output is handed to the sink in pieces of this size or more: one
/// write(2) per 64 KiB, not one per header.
const FLUSH: usize = 64 * 1024;

/// Where archive bytes go.
pub trait Sink {
    fn put(&mut self, b: &[u8]) -> Result<()>;
}

impl Sink for Vec<u8> {
    fn put(&mut self, b: &[u8]) -> Result<()> {
        self.extend_from_slice(b);
        Ok(())
    }
}

impl Sink for Fd {
    fn put(&mut self, b: &[u8]) -> Result<()> {
        fd::write_all(self.raw(), b).ctx("write", "archive")
    }
}

/// Hashes and counts what passes through to `inner` (or nowhere): a
/// layer's diff_id and size without keeping the layer.
pub struct Digest<'a> {
    pub inner: Option<&'a mut dyn Sink>,
    pub hash: Sha256,
    pub count: u64,
}

impl<'a> Digest<'a> {
    pub fn new(inner: Option<&'a mut dyn Sink>) -> Digest<'a> {
        Digest {
            inner,
            hash: Sha256::default(),
            count: 0,
        }
    }
    /// (sha256 hex, bytes).
    pub fn finish(self) -> (String, u64) {
        (self.hash.hex(), self.count)
    }
}

impl Sink for Digest<'_> {
    fn put(&mut self, b: &[u8]) -> Result<()> {
        self.hash.update(b);
        self.count += b.len() as u64;
        match self.inner.as_deref_mut() {
            Some(s) => s.put(b),
            None => Ok(()),
        }
    }
}

fn padding(n: u64) -> usize {
    ((BLOCK as u64 - n % BLOCK as u64) % BLOCK as u64) as usize
}

fn lossy(p: &[u8]) -> String {
    String::from_utf8_lossy(p).into_owned()
}

/// Streaming writer: `append` an entry, then exactly `size` bytes of
/// `data` for a file; `finish` writes the end-of-archive blocks.
pub struct Writer<'a> {
    sink: &'a mut dyn Sink,
    buf: Vec<u8>,
    left: u64,
    pad: usize,
    total: u64,
}

impl<'a> Writer<'a> {
    pub fn new(sink: &'a mut dyn Sink) -> Writer<'a> {
        Writer {
            sink,
            buf: Vec::with_capacity(FLUSH + BLOCK),
            left: 0,
            pad: 0,
            total: 0,
        }
    }

    fn out(&mut self, b: &[u8]) -> Result<()> {
        self.total += b.len() as u64;
        if self.buf.is_empty() && b.len() >= FLUSH {
            return self.sink.put(b);
        }
        self.buf.extend_from_slice(b);
        if self.buf.len() >= FLUSH {
            self.sink.put(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Write `e`'s header (a pax record first if needed). A directory's
    /// name gets its trailing '/'; only a `File` has data.
    pub fn append(&mut self, e: &Entry) -> Result<()> {
        if self.left > 0 {
            return Err(Error::bad(
                "write tar",
                lossy(&e.path),
                "the previous entry is short of data",
            ));
        }
        let (h, pax) = header(e);
        if !pax.is_empty() {
            let mut x = marker(b"././@PaxHeader".to_vec());
            x.size = pax.len() as u64;
            let (mut ph, _) = header(&x);
            ph[156] = b'x';
            seal(&mut ph);
            self.out(&ph)?;
            self.out(&pax)?;
            self.out(&ZEROS[..padding(pax.len() as u64)])?;
        }
        self.out(&h)?;
        if e.kind == Kind::File {
            self.left = e.size;
            self.pad = padding(e.size);
        }
        Ok(())
    }

    /// The current file's data, in pieces; never more than its size.
    pub fn data(&mut self, b: &[u8]) -> Result<()> {
        if b.len() as u64 > self.left {
            return Err(Error::bad(
                "write tar",
                "",
                "more data than the entry's size",
            ));
        }
        self.out(b)?;
        self.left -= b.len() as u64;
        if self.left == 0 && self.pad > 0 {
            let p = self.pad;
            self.pad = 0;
            self.out(&ZEROS[..p])?;
        }
        Ok(())
    }

    /// Hand what is buffered to the sink.
    pub fn flush(&mut self) -> Result<()> {
        if !self.buf.is_empty() {
            self.sink.put(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// The two zero blocks that end an archive; returns its size.
    pub fn finish(mut self) -> Result<u64> {
        if self.left > 0 {
            return Err(Error::bad(
                "write tar",
                "",
                "the last entry is short of data",
            ));
        }
        self.out(&ZEROS)?;
        self.out(&ZEROS)?;
        self.flush()?;
        Ok(self.total)
    }
}

/// `v` as zero-padded octal filling all but the last (NUL) byte of `f`;
/// false if it does not fit.
fn octal(f: &mut [u8], mut v: u64) -> bool {
    let n = f.len() - 1;
    if v >> (3 * n) != 0 {
        return false;
    }
    for i in (0..n).rev() {
        f[i] = b'0' + (v & 7) as u8;
        v >>= 3;
    }
    f[n] = 0;
    true
}

/// GNU base-256 (top bit set, big-endian), for device numbers octal
/// cannot hold: pax has no standard key for them.
fn base256(f: &mut [u8], mut v: u64) {
    for i in (1..f.len()).rev() {
        f[i] = v as u8;
        v >>= 8;
    }
    f[0] = 0x80;
}

/// One pax record, "LEN KEY=VALUE\n", LEN counting the whole record.
fn record(out: &mut Vec<u8>, key: &[u8], val: &[u8]) {
    let body = key.len() + val.len() + 3;
    let digits = |n: usize| alloc::format!("{n}").len();
    let mut len = body + digits(body);
    while len != body + digits(len) {
        len = body + digits(len);
    }
    out.extend_from_slice(alloc::format!("{len} ").as_bytes());
    out.extend_from_slice(key);
    out.push(b'=');
    out.extend_from_slice(val);
    out.push(b'\n');
}

/// Where to split `p` into ustar's prefix (155) and name (100) fields.
fn split_at(p: &[u8]) -> Option<usize> {
    if p.len() > 256 {
        return None;
    }
    (1..p.len().min(156)).find(|&i| p[i] == b'/' && p.len() - i - 1 <= 100 && p.len() - i - 1 > 0)
}

/// Checksum: the header's bytes summed with the field itself as spaces.
fn seal(h: &mut [u8; BLOCK]) {
    h[148..156].copy_from_slice(b"        ");
    let sum: u64 = h.iter().map(|&c| c as u64).sum();
    octal(&mut h[148..155], sum);
    h[155] = b' ';
}

/// The ustar header of `e` and the pax records it needs (empty if none).
fn header(e: &Entry) -> ([u8; BLOCK], Vec<u8>) {
    let mut h = [0u8; BLOCK];
    let mut pax = Vec::new();
    let mut path = e.path.clone();
    if e.kind == Kind::Dir && !path.ends_with(b"/") {
        path.push(b'/');
    }
    // Raw bytes (not UTF-8) are kept as they are; say so, as GNU tar does.
    if core::str::from_utf8(&path).is_err() || core::str::from_utf8(&e.link).is_err() {
        record(&mut pax, b"hdrcharset", b"BINARY");
    }
    if path.len() <= 100 && path.is_ascii() {
        h[..path.len()].copy_from_slice(&path);
    } else if let Some(i) = split_at(&path).filter(|_| path.is_ascii()) {
        h[345..345 + i].copy_from_slice(&path[..i]);
        h[..path.len() - i - 1].copy_from_slice(&path[i + 1..]);
    } else {
        record(&mut pax, b"path", &path);
        let n = path.len().min(100);
        h[..n].copy_from_slice(&path[..n]);
    }
    if e.link.len() <= 100 && e.link.is_ascii() {
        h[157..157 + e.link.len()].copy_from_slice(&e.link);
    } else {
        record(&mut pax, b"linkpath", &e.link);
        let n = e.link.len().min(100);
        h[157..157 + n].copy_from_slice(&e.link[..n]);
    }
    octal(&mut h[100..108], (e.mode & 0o7777) as u64);
    for (key, v, r) in [(&b"uid"[..], e.uid, 108..116), (b"gid", e.gid, 116..124)] {
        if !octal(&mut h[r.clone()], v as u64) {
            record(&mut pax, key, alloc::format!("{v}").as_bytes());
            octal(&mut h[r], 0);
        }
    }
    let size = if e.kind == Kind::File { e.size } else { 0 };
    if !octal(&mut h[124..136], size) {
        record(&mut pax, b"size", alloc::format!("{size}").as_bytes());
        octal(&mut h[124..136], 0);
    }
    let t = e.mtime.0;
    if t < 0 || !octal(&mut h[136..148], t as u64) {
        record(&mut pax, b"mtime", alloc::format!("{t}").as_bytes());
        octal(&mut h[136..148], 0);
    }
    h[156] = match e.kind {
        Kind::File => b'0',
        Kind::Link => b'1',
        Kind::Symlink => b'2',
        Kind::Char => b'3',
        Kind::Block => b'4',
        Kind::Dir => b'5',
        Kind::Fifo => b'6',
    };
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    for (v, r) in [(e.major, 329..337), (e.minor, 337..345)] {
        if !octal(&mut h[r.clone()], v as u64) {
            base256(&mut h[r], v as u64);
        }
    }
    for (name, val) in &e.xattrs {
        // A name holding '=' or NUL could not be read back as one record.
        if !name.is_empty() && !name.contains(&b'=') && !name.contains(&0) {
            let mut key = b"SCHILY.xattr.".to_vec();
            key.extend_from_slice(name);
            record(&mut pax, &key, val);
        }
    }
    seal(&mut h);
    (h, pax)
}

/// How `write_tree` writes what it finds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Opts {
    /// Write overlayfs whiteouts in OCI form: a 0:0 character device NAME
    /// becomes an empty file `.wh.NAME`, a directory marked opaque gets a
    /// `.wh..wh..opq` entry. Without it they are written as they are.
    pub oci_whiteouts: bool,
}

/// An entry with `st`'s mode, owner and time (no data, link or xattrs
/// yet).
pub fn entry_of(st: &k::statx, path: Vec<u8>, kind: Kind) -> Entry {
    Entry {
        path,
        kind,
        mode: st.stx_mode as u32 & 0o7777,
        uid: st.stx_uid,
        gid: st.stx_gid,
        mtime: (st.stx_mtime.tv_sec, 0),
        size: 0,
        link: Vec::new(),
        major: 0,
        minor: 0,
        xattrs: Vec::new(),
    }
}

/// The names in a directory (not "." and ".."), as bytes, sorted.
pub fn names(dir: &Fd) -> core::result::Result<Vec<Vec<u8>>, Errno> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    sfs::each_entry(dir, |name, _| {
        out.push(name.to_bytes().to_vec());
        Ok(())
    })?;
    crate::rt::sort_unstable(&mut out);
    Ok(out)
}

const DIR: i32 = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
const NOFOLLOW: i32 = libc::AT_SYMLINK_NOFOLLOW;
const MASK: u32 = k::STATX_BASIC_STATS | k::STATX_MNT_ID;

/// The kind of a statx, from its mode.
pub fn mode_type(st: &k::statx) -> u32 {
    st.stx_mode as u32 & libc::S_IFMT
}

/// A 0:0 character device: overlayfs' whiteout.
pub fn is_whiteout(st: &k::statx) -> bool {
    mode_type(st) == libc::S_IFCHR && st.stx_rdev_major == 0 && st.stx_rdev_minor == 0
}

/// Whether the directory open on `d` is an opaque overlay directory.
pub fn is_opaque(d: &Fd) -> bool {
    let mut v = [0u8; 2];
    matches!(file::fgetxattr(d.raw(), super::extract::opaque(), &mut v), Ok(1) if v[0] == b'y')
}

/// An OCI whiteout or opaque marker. It says nothing but its name, so
/// its attributes are fixed: a layer's digest then does not depend on
/// when its whiteouts were made (extraction time, for a stored layer).
fn marker(path: Vec<u8>) -> Entry {
    Entry {
        path,
        kind: Kind::File,
        mode: 0o600,
        uid: 0,
        gid: 0,
        mtime: (0, 0),
        size: 0,
        link: Vec::new(),
        major: 0,
        minor: 0,
        xattrs: Vec::new(),
    }
}

/// `/path` for messages.
fn shown(p: &[u8]) -> String {
    let mut s = String::from("/");
    s.push_str(&String::from_utf8_lossy(p));
    s
}

/// A directory being walked (its fd is in the `Stack`): its sorted
/// names, where it is in them, and the length of its path prefix ("a/b/").
struct Frame {
    names: Vec<Vec<u8>>,
    next: usize,
    plen: usize,
}

struct Walk<'w, 'a> {
    w: &'w mut Writer<'a>,
    opts: Opts,
    /// Regular files with more than one name: (dev major, minor, inode)
    /// -> the first name written, kept sorted for binary search.
    links: Vec<((u32, u32, u64), Vec<u8>)>,
    /// Scratch for file data and xattr lists/values (each at most 64 KiB).
    buf: Vec<u8>,
}

impl Walk<'_, '_> {
    /// Extended attributes of an open file or directory, sorted by name.
    /// trusted.overlay.* is overlayfs' own bookkeeping (and the extractor
    /// refuses it); security.selinux is the host's labelling, not content.
    fn xattrs(&mut self, f: &Fd, path: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let n = match file::flistxattr(f.raw(), &mut self.buf) {
            Err(Errno::EOPNOTSUPP) => return Ok(Vec::new()),
            r => r.ctx("listxattr", &shown(path))?,
        };
        let list = self.buf[..n].to_vec();
        let mut out = Vec::new();
        for name in list.split(|&c| c == 0).filter(|n| !n.is_empty()) {
            if name.starts_with(b"trusted.overlay.") || name == b"security.selinux" {
                continue;
            }
            let Ok(c) = CString::new(name) else { continue };
            match file::fgetxattr(f.raw(), &c, &mut self.buf) {
                Ok(v) => out.push((name.to_vec(), self.buf[..v].to_vec())),
                Err(Errno::ENODATA) => {} // removed since listed
                Err(e) => return Err(Error::sys("getxattr", shown(path), e)),
            }
        }
        crate::rt::sort_by(&mut out, |a, b| a.0 < b.0);
        Ok(out)
    }

    /// Copy exactly `size` bytes of `f`. A file that shrank while being
    /// read (a running container) is made up with zeros, one that grew is
    /// cut: the header already promised `size`.
    fn copy(&mut self, f: &Fd, size: u64, path: &[u8]) -> Result<()> {
        let mut left = size;
        let mut eof = false;
        while left > 0 {
            let k = (self.buf.len() as u64).min(left) as usize;
            let n = if eof {
                0
            } else {
                fd::read(f.raw(), &mut self.buf[..k]).ctx("read", &shown(path))?
            };
            if n == 0 {
                eof = true;
                self.buf[..k].fill(0);
                self.w.data(&self.buf[..k])?;
                left -= k as u64;
            } else {
                self.w.data(&self.buf[..n])?;
                left -= n as u64;
            }
        }
        Ok(())
    }

    fn run(&mut self, root: &Fd) -> Result<()> {
        let top = fd::openat(root.raw(), c".", DIR, 0).ctx("open", "/")?;
        let mnt = file::statx(top.raw(), c"", libc::AT_EMPTY_PATH, MASK)
            .ctx("stat", "/")?
            .stx_mnt_id;
        let first = names(&top).ctx("list", "/")?;
        let mut path: Vec<u8> = Vec::new();
        // Any depth with a bounded number of fds (see sys::tree).
        let mut stack = Stack::default();
        let frame = Frame {
            names: first,
            next: 0,
            plen: 0,
        };
        stack.push(top, frame).ctx("open", "/")?;
        while let Some((dir, f)) = stack.top() {
            let Some(name) = f.names.get_mut(f.next).map(core::mem::take) else {
                let plen = f.plen;
                let up = |e| Error::sys("reopen the parent of", shown(&path[..plen]), e);
                stack.pop().map_err(up)?;
                continue;
            };
            f.next += 1;
            path.truncate(f.plen);
            path.extend_from_slice(&name);
            let Ok(c) = CString::new(name.clone()) else {
                continue;
            };
            // Gone since it was listed: a running container changes its
            // files while they are read. Skipped, as GNU tar does.
            let st = match file::statx(dir, &c, NOFOLLOW, MASK) {
                Err(Errno::ENOENT) => continue,
                r => r.ctx("stat", &shown(&path))?,
            };
            let mut e = entry_of(&st, path.clone(), Kind::File);
            match mode_type(&st) {
                libc::S_IFDIR => {
                    let d = match fd::openat(dir, &c, DIR, 0) {
                        Err(Errno::ENOENT | Errno::ELOOP | Errno::ENOTDIR) => continue,
                        r => r.ctx("open", &shown(&path))?,
                    };
                    e.kind = Kind::Dir;
                    e.xattrs = self.xattrs(&d, &path)?;
                    self.w.append(&e)?;
                    if self.opts.oci_whiteouts && is_opaque(&d) {
                        let mut p = path.clone();
                        p.extend_from_slice(b"/.wh..wh..opq");
                        self.w.append(&marker(p))?;
                    }
                    // A mount point: another filesystem, written as an
                    // empty directory, as `tar --one-file-system` does.
                    if st.stx_mnt_id != mnt {
                        continue;
                    }
                    let list = names(&d).ctx("list", &shown(&path))?;
                    path.push(b'/');
                    let frame = Frame {
                        names: list,
                        next: 0,
                        plen: path.len(),
                    };
                    stack.push(d, frame).ctx("open", &shown(&path))?;
                }
                libc::S_IFREG => self.regular(dir, &c, &st, e)?,
                libc::S_IFLNK => {
                    e.kind = Kind::Symlink;
                    e.link = match sfs::readlinkat(dir, &c) {
                        Err(Errno::ENOENT | Errno::EINVAL) => continue,
                        r => r.ctx("readlink", &shown(&path))?,
                    };
                    self.w.append(&e)?;
                }
                libc::S_IFCHR if self.opts.oci_whiteouts && is_whiteout(&st) => {
                    let mut p = path[..path.len() - name.len()].to_vec();
                    p.extend_from_slice(b".wh.");
                    p.extend_from_slice(&name);
                    self.w.append(&marker(p))?;
                }
                libc::S_IFCHR | libc::S_IFBLK | libc::S_IFIFO => {
                    e.kind = match mode_type(&st) {
                        libc::S_IFCHR => Kind::Char,
                        libc::S_IFBLK => Kind::Block,
                        _ => Kind::Fifo,
                    };
                    if e.kind != Kind::Fifo {
                        (e.major, e.minor) = (st.stx_rdev_major, st.stx_rdev_minor);
                    }
                    self.w.append(&e)?;
                }
                // Sockets cannot be archived (GNU tar skips them too).
                _ => {}
            }
        }
        Ok(())
    }

    /// A regular file, or a hard link to one written before.
    fn regular(&mut self, dir: i32, c: &CString, st: &k::statx, mut e: Entry) -> Result<()> {
        let key = (st.stx_dev_major, st.stx_dev_minor, st.stx_ino);
        let slot = if st.stx_nlink > 1 {
            match self.links.binary_search_by(|l| l.0.cmp(&key)) {
                Ok(i) => {
                    e.kind = Kind::Link;
                    e.link = self.links[i].1.clone();
                    return self.w.append(&e);
                }
                Err(i) => Some(i),
            }
        } else {
            None
        };
        // Opened by name with O_PATH (which opens no device), checked to be
        // still the regular file that was stat'ed, then opened for reading
        // as that inode: a name a running container swaps for a device or
        // a fifo in between (`cp` from its live root) is skipped, never
        // opened.
        let fl = libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC;
        let h = match fd::openat(dir, c, fl, 0) {
            Err(Errno::ENOENT | Errno::ELOOP) => return Ok(()),
            r => r.ctx("open", &shown(&e.path))?,
        };
        let now = file::statx(h.raw(), c"", libc::AT_EMPTY_PATH, k::STATX_BASIC_STATS)
            .ctx("stat", &shown(&e.path))?;
        if mode_type(&now) != libc::S_IFREG || now.stx_ino != st.stx_ino {
            return Ok(());
        }
        let fl = libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOCTTY;
        let f = fd::reopen(&h, fl).ctx("open", &shown(&e.path))?;
        drop(h);
        e.size = st.stx_size;
        e.xattrs = self.xattrs(&f, &e.path)?;
        self.w.append(&e)?;
        self.copy(&f, e.size, &e.path)?;
        if let Some(i) = slot {
            self.links.insert(i, (key, e.path));
        }
        Ok(())
    }
}

/// Write the tree below `root` (an fd on a directory; O_PATH is enough)
/// into `w`: every entry but the root itself, paths relative to it ("bin/",
/// "bin/sh"), in byte order, with mode, owner, mtime and xattrs.
pub fn append_tree(root: &Fd, w: &mut Writer, opts: &Opts) -> Result<()> {
    let mut walk = Walk {
        w,
        opts: *opts,
        links: Vec::new(),
        buf: vec![0u8; 64 * 1024],
    };
    walk.run(root)
}

/// The whole archive of the tree below `root` into `sink`; returns its
/// size in bytes.
pub fn write_tree(root: &Fd, sink: &mut dyn Sink, opts: &Opts) -> Result<u64> {
    let mut w = Writer::new(sink);
    append_tree(root, &mut w, opts)?;
    w.finish()
}

#[cfg(test)]
#[path = "tar_write_tests.rs"]
mod tests;
