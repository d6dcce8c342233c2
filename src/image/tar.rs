//! Tar archives: a streaming reader (ustar, POSIX pax, GNU long names,
//! base-256 numbers) and an extractor that is safe on hostile input.
//!
//! The reader never holds more than one header and, for pax / GNU long-name
//! records, at most `MAX_META` bytes: a layer of any size streams through.
//!
//! The extractor keeps every write inside `dest`: paths are normalized and
//! refused if absolute or holding "..", directories are opened one
//! component at a time with openat2(RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH)
//! (`fs::apply::resolve_dir`), and the last component is created with *at()
//! calls relative to its parent's fd, after removing what was there, with
//! O_EXCL | O_NOFOLLOW. So "a -> /etc" followed by "a/passwd" fails with
//! ELOOP instead of writing /etc/passwd, and a hard link can only name a
//! file already inside `dest`.

use crate::error::{Error, Result};
use crate::sys::Errno;
use crate::sys::fd::{self, Fd};
use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

/// A byte stream the reader pulls from: `read` returns 0 at EOF.
pub trait Source {
    fn read(&mut self, buf: &mut [u8]) -> core::result::Result<usize, Errno>;
    /// Pass over `n` bytes. A seekable source overrides this, so that
    /// indexing an archive on disk does not read its data.
    fn skip(&mut self, mut n: u64) -> core::result::Result<(), Errno> {
        let mut buf = [0u8; 4096];
        while n > 0 {
            let k = n.min(buf.len() as u64) as usize;
            match self.read(&mut buf[..k]) {
                Ok(0) => return Err(Errno::EPIPE),
                Ok(r) => n -= r as u64,
                Err(Errno::EINTR) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// An in-memory archive; reading advances the slice.
impl Source for &[u8] {
    fn read(&mut self, buf: &mut [u8]) -> core::result::Result<usize, Errno> {
        let n = buf.len().min(self.len());
        buf[..n].copy_from_slice(&self[..n]);
        *self = &self[n..];
        Ok(n)
    }
}

impl Source for Fd {
    fn read(&mut self, buf: &mut [u8]) -> core::result::Result<usize, Errno> {
        fd::read(self.raw(), buf)
    }
}

/// Largest pax or GNU long-name record accepted, so that a hostile archive
/// cannot make the reader allocate without bound.
pub const MAX_META: u64 = 1 << 20;

const BLOCK: usize = 512;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Link,
    Symlink,
    Char,
    Block,
    Dir,
    Fifo,
}

/// One archive member. `size` is the number of data bytes that follow
/// (0 for every kind but `File`); `mode` holds the permission bits only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: Vec<u8>,
    pub kind: Kind,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: (i64, u32),
    pub size: u64,
    pub link: Vec<u8>,
    pub major: u32,
    pub minor: u32,
    pub xattrs: Vec<(Vec<u8>, Vec<u8>)>,
}

/// Pax overrides for the next entry.
#[derive(Default)]
struct Pax {
    path: Option<Vec<u8>>,
    link: Option<Vec<u8>>,
    size: Option<u64>,
    uid: Option<u32>,
    gid: Option<u32>,
    mtime: Option<(i64, u32)>,
    xattrs: Vec<(Vec<u8>, Vec<u8>)>,
}

/// Streaming reader: call `next` for each entry, `read_data` for its bytes
/// (unread data is skipped by the following `next`).
pub struct Reader<'a> {
    src: &'a mut dyn Source,
    left: u64,
    pad: u64,
    pos: u64,
    end: bool,
    /// Every byte read but files' data, recorded (image::split), and the
    /// path of the entry whose data comes next.
    split: Option<&'a mut super::split::Split>,
    path: Vec<u8>,
    /// No data of the current entry read yet.
    first: bool,
}

fn bad(pos: u64, why: &'static str) -> Error {
    Error::bad("read tar", format!("at byte {}", pos), why)
}

fn padding(size: u64) -> u64 {
    (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64
}

impl<'a> Reader<'a> {
    pub fn new(src: &'a mut dyn Source) -> Reader<'a> {
        Reader {
            src,
            left: 0,
            pad: 0,
            pos: 0,
            end: false,
            split: None,
            path: Vec::new(),
            first: false,
        }
    }

    /// Record the archive as it is read (image::split).
    pub fn record(&mut self, split: &'a mut super::split::Split) {
        self.split = Some(split);
    }

    /// Fill `buf` unless EOF comes first; returns the bytes read.
    fn fill(&mut self, buf: &mut [u8]) -> Result<usize> {
        let n = self.fill_data(buf)?;
        if let Some(s) = self.split.as_deref_mut() {
            s.raw(&buf[..n]);
        }
        Ok(n)
    }

    /// `fill`, unrecorded: the bytes are a file's data.
    fn fill_data(&mut self, buf: &mut [u8]) -> Result<usize> {
        let mut n = 0;
        while n < buf.len() {
            match self.src.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(Errno::EINTR) => {}
                Err(e) => return Err(Error::sys("read tar", "", e)),
            }
        }
        self.pos += n as u64;
        Ok(n)
    }

    fn exact(&mut self, buf: &mut [u8]) -> Result<()> {
        if self.fill(buf)? < buf.len() {
            return Err(bad(self.pos, "truncated archive"));
        }
        Ok(())
    }

    fn skip(&mut self, n: u64) -> Result<()> {
        // Recorded: read, not passed over.
        if self.split.is_some() {
            let mut buf = [0u8; 4096];
            let mut left = n;
            while left > 0 {
                let k = left.min(buf.len() as u64) as usize;
                self.exact(&mut buf[..k])?;
                left -= k as u64;
            }
            return Ok(());
        }
        match self.src.skip(n) {
            Ok(()) => {
                self.pos += n;
                Ok(())
            }
            Err(Errno::EPIPE) => Err(bad(self.pos, "truncated archive")),
            Err(e) => Err(Error::sys("read tar", "", e)),
        }
    }

    /// Where the current entry's data starts in the stream.
    pub fn offset(&self) -> u64 {
        self.pos
    }

    /// The data of a pax / GNU long-name record (at most MAX_META bytes).
    fn meta(&mut self, size: u64) -> Result<Vec<u8>> {
        if size > MAX_META {
            return Err(bad(self.pos, "metadata record too large"));
        }
        let mut v = vec![0u8; size as usize];
        self.exact(&mut v)?;
        self.skip(padding(size))?;
        Ok(v)
    }

    /// Read the next entry's data into `buf`; 0 at the end of the entry.
    pub fn read_data(&mut self, buf: &mut [u8]) -> Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let k = (buf.len() as u64).min(self.left) as usize;
        let n = self.fill_data(&mut buf[..k])?;
        if n == 0 {
            return Err(bad(self.pos, "truncated archive"));
        }
        if let Some(s) = self.split.as_deref_mut() {
            s.content(&self.path, n, self.first);
            self.first = false;
        }
        self.left -= n as u64;
        Ok(n)
    }

    /// The next entry, or None after the end-of-archive blocks.
    #[allow(clippy::should_implement_trait)] // fallible: not an Iterator
    pub fn next(&mut self) -> Result<Option<Entry>> {
        if self.end {
            return Ok(None);
        }
        self.skip(self.left + self.pad)?;
        self.left = 0;
        self.pad = 0;
        let mut pax = Pax::default();
        let mut long_name: Option<Vec<u8>> = None;
        let mut long_link: Option<Vec<u8>> = None;
        let mut meta = 0u64;
        let mut h = [0u8; BLOCK];
        loop {
            let at = self.pos;
            let n = self.fill(&mut h)?;
            if n < BLOCK {
                return Err(bad(self.pos, "truncated archive"));
            }
            if h.iter().all(|&c| c == 0) {
                let n = self.fill(&mut h)?;
                if n != 0 && (n < BLOCK || h.iter().any(|&c| c != 0)) {
                    return Err(bad(at, "data after an end-of-archive block"));
                }
                if meta > 0 {
                    return Err(bad(at, "archive ends after a metadata record"));
                }
                self.end = true;
                return Ok(None);
            }
            check_sum(&h).ok_or_else(|| bad(at, "bad header checksum (not a tar archive?)"))?;
            let typ = h[156];
            let size = num(&h[124..136]).ok_or_else(|| bad(at, "bad size field"))?;
            let size = u64::try_from(size).map_err(|_| bad(at, "bad size field"))?;
            if matches!(typ, b'x' | b'g' | b'L' | b'K') {
                meta += size;
                if meta > 4 * MAX_META {
                    return Err(bad(at, "too many metadata records"));
                }
                match typ {
                    b'g' => self.skip(size + padding(size))?,
                    b'x' => {
                        let d = self.meta(size)?;
                        parse_pax(&d, &mut pax).ok_or_else(|| bad(at, "bad pax record"))?;
                    }
                    b'L' => long_name = Some(trim_nul(self.meta(size)?)),
                    _ => long_link = Some(trim_nul(self.meta(size)?)),
                }
                continue;
            }
            return self
                .entry(&h, at, size, pax, long_name, long_link)
                .map(Some);
        }
    }

    fn entry(
        &mut self,
        h: &[u8; BLOCK],
        at: u64,
        size: u64,
        pax: Pax,
        long_name: Option<Vec<u8>>,
        long_link: Option<Vec<u8>>,
    ) -> Result<Entry> {
        let field = |r: core::ops::Range<usize>| -> Result<u64> {
            num(&h[r])
                .and_then(|v| u64::try_from(v).ok())
                .ok_or_else(|| bad(at, "bad numeric field"))
        };
        let id = |v: u64| u32::try_from(v).map_err(|_| bad(at, "uid/gid/device out of range"));
        let name = cfield(&h[0..100]);
        let posix = &h[257..263] == b"ustar\0";
        let path = match (pax.path, long_name) {
            (Some(p), _) | (None, Some(p)) => p,
            _ if posix && h[345] != 0 => {
                let mut p = cfield(&h[345..500]).to_vec();
                p.push(b'/');
                p.extend_from_slice(name);
                p
            }
            _ => name.to_vec(),
        };
        let typ = h[156];
        let kind = match typ {
            b'0' | b'7' => Kind::File,
            0 if path.ends_with(b"/") => Kind::Dir,
            0 => Kind::File,
            b'1' => Kind::Link,
            b'2' => Kind::Symlink,
            b'3' => Kind::Char,
            b'4' => Kind::Block,
            b'5' => Kind::Dir,
            b'6' => Kind::Fifo,
            _ => return Err(bad(at, "unsupported entry type")),
        };
        let size = if kind == Kind::File {
            pax.size.unwrap_or(size)
        } else {
            0
        };
        let mtime = match pax.mtime {
            Some(t) => t,
            None => (
                num(&h[136..148])
                    .and_then(|v| i64::try_from(v).ok())
                    .ok_or_else(|| bad(at, "bad mtime field"))?,
                0,
            ),
        };
        let (major, minor) = if matches!(kind, Kind::Char | Kind::Block) {
            (id(field(329..337)?)?, id(field(337..345)?)?)
        } else {
            (0, 0)
        };
        let e = Entry {
            path,
            kind,
            mode: (field(100..108)? & 0o7777) as u32,
            uid: match pax.uid {
                Some(u) => u,
                None => id(field(108..116)?)?,
            },
            gid: match pax.gid {
                Some(g) => g,
                None => id(field(116..124)?)?,
            },
            mtime,
            size,
            link: pax
                .link
                .or(long_link)
                .unwrap_or_else(|| cfield(&h[157..257]).to_vec()),
            major,
            minor,
            xattrs: pax.xattrs,
        };
        self.left = size;
        self.pad = padding(size);
        if self.split.is_some() {
            self.path.clone_from(&e.path);
            self.first = true;
        }
        Ok(e)
    }
}

/// A header's checksum: the sum of its bytes with the checksum field read
/// as spaces; old archivers summed signed bytes, so accept that too.
fn check_sum(h: &[u8; BLOCK]) -> Option<()> {
    let want = num(&h[148..156])?;
    // 512 bytes of at most 255 each: i32 never overflows. The checksum
    // field itself counts as spaces.
    let (mut u, mut s) = (8 * b' ' as i32, 8 * b' ' as i32);
    for &c in h[..148].iter().chain(&h[156..]) {
        u += c as i32;
        s += c as i8 as i32;
    }
    (want == u as i128 || want == s as i128).then_some(())
}

/// A numeric field: octal digits (padded with spaces or NULs) or, with the
/// top bit of the first byte set, a big-endian two's-complement base-256
/// number (GNU, for values octal cannot hold).
fn num(f: &[u8]) -> Option<i128> {
    if f.is_empty() {
        return Some(0);
    }
    if f[0] & 0x80 != 0 {
        if f.len() > 12 {
            return None;
        }
        let mut v: i128 = (f[0] & 0x7f) as i128;
        for &c in &f[1..] {
            v = (v << 8) | c as i128;
        }
        if f[0] & 0x40 != 0 {
            v -= 1i128 << (8 * f.len() - 1);
        }
        return Some(v);
    }
    let f = match f.iter().position(|&c| c != b' ' && c != 0) {
        Some(p) => &f[p..],
        None => return Some(0),
    };
    let end = f
        .iter()
        .position(|&c| c == b' ' || c == 0)
        .unwrap_or(f.len());
    if f[end..].iter().any(|&c| c != b' ' && c != 0) {
        return None;
    }
    let mut v: i128 = 0;
    for &c in &f[..end] {
        if !(b'0'..=b'7').contains(&c) || v > (1i128 << 100) {
            return None;
        }
        v = v * 8 + (c - b'0') as i128;
    }
    Some(v)
}

/// A NUL-terminated (or full-width) string field.
fn cfield(f: &[u8]) -> &[u8] {
    &f[..f.iter().position(|&c| c == 0).unwrap_or(f.len())]
}

fn trim_nul(mut v: Vec<u8>) -> Vec<u8> {
    let n = cfield(&v).len();
    v.truncate(n);
    v
}

fn dec(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 19 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0u64, |v, &c| v * 10 + (c - b'0') as u64))
}

/// A pax time "SECONDS[.FRACTION]", possibly negative.
fn pax_time(s: &[u8]) -> Option<(i64, u32)> {
    let (neg, s) = match s.strip_prefix(b"-") {
        Some(r) => (true, r),
        None => (false, s),
    };
    let (int, frac) = match s.iter().position(|&c| c == b'.') {
        Some(p) => (&s[..p], &s[p + 1..]),
        None => (s, &b""[..]),
    };
    if !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let secs = i64::try_from(dec(int)?).ok()?;
    let mut ns = 0u32;
    for i in 0..9 {
        ns = ns * 10 + frac.get(i).map_or(0, |c| (c - b'0') as u32);
    }
    Some(match (neg, ns) {
        (false, _) => (secs, ns),
        (true, 0) => (-secs, 0),
        (true, _) => (-secs - 1, 1_000_000_000 - ns),
    })
}

/// Records "LEN KEY=VALUE\n"; LEN counts the whole record.
fn parse_pax(mut d: &[u8], p: &mut Pax) -> Option<()> {
    while !d.is_empty() {
        if d.iter().all(|&c| c == 0) {
            break;
        }
        let sp = d.iter().position(|&c| c == b' ')?;
        let len = usize::try_from(dec(&d[..sp])?).ok()?;
        if len <= sp + 1 || len > d.len() || d[len - 1] != b'\n' {
            return None;
        }
        let rec = &d[sp + 1..len - 1];
        d = &d[len..];
        let eq = rec.iter().position(|&c| c == b'=')?;
        let (key, val) = (&rec[..eq], &rec[eq + 1..]);
        let opt = |v: &[u8]| (!v.is_empty()).then(|| v.to_vec());
        let id = |v: &[u8]| dec(v).and_then(|n| u32::try_from(n).ok());
        match key {
            b"path" => p.path = opt(val),
            b"linkpath" => p.link = opt(val),
            b"size" => p.size = Some(dec(val)?),
            b"uid" => p.uid = Some(id(val)?),
            b"gid" => p.gid = Some(id(val)?),
            b"mtime" => p.mtime = Some(pax_time(val)?),
            _ => {
                if let Some(name) = key.strip_prefix(b"SCHILY.xattr.") {
                    p.xattrs.push((name.to_vec(), val.to_vec()));
                }
            }
        }
    }
    Some(())
}

#[cfg(test)]
#[path = "tar_tests.rs"]
mod tests;
