//! A layer's tar as it came, kept without its files' contents (docker's
//! tar-split): every header, pax and long-name record, padding and the
//! end-of-archive blocks, byte for byte, with a reference to the
//! extracted file where each file's data stood. `save` and `push` write
//! the layer again from it and the extracted files, the very bytes that
//! were loaded or pulled: its sha256 is the diff_id it is stored under,
//! so the image's config, and its id, stay as they were. (Without it a
//! layer is written anew from its directory: another tar, another
//! digest, another image id.)
//!
//! The file `layers/<diff_id>.split` is a run of records:
//!
//! ```text
//! b'R' len:u32 bytes      bytes of the archive as they were
//! b'F' len:u64 n:u32 path the first `len` bytes of file `path` (below the
//!                         layer's directory, as the archive names it)
//! b'C' len:u64            the next `len` bytes of that file
//! b'Z' len:u64            zero bytes (the archive's tail past its end)
//! ```
//!
//! Nothing in it is trusted on the way out: a file is opened below the
//! layer's directory only (RESOLVE_BENEATH, no symlinks), and `save`
//! writes a layer from its split only where the bytes it makes hash to
//! the layer's diff_id.

use super::tar_write::Sink;
use crate::error::{Error, Result};
use crate::sys::Errno;
use crate::sys::fd::{self, Fd};
use alloc::vec::Vec;

/// Bytes held before they go to the file.
const CHUNK: usize = 64 * 1024;
/// The longest raw record a split holds: a run ends once past CHUNK, and
/// one read adds at most a pax or long-name record (MAX_META). A longer
/// one is a corrupt file, not a reason to allocate.
const MAX_RUN: usize = CHUNK + super::tar::MAX_META as usize + 4096;

/// What the tar reader records while a layer is extracted.
pub struct Split {
    fd: Fd,
    run: Vec<u8>,
    out: Vec<u8>,
    /// A write failed: the split is left out (the layer is not).
    failed: bool,
}

impl Split {
    /// Record into `fd` (a new file).
    pub fn new(fd: Fd) -> Split {
        Split {
            fd,
            run: Vec::new(),
            out: Vec::with_capacity(CHUNK + 64),
            failed: false,
        }
    }

    /// Archive bytes, as they came.
    pub fn raw(&mut self, b: &[u8]) {
        self.run.extend_from_slice(b);
        if self.run.len() >= CHUNK {
            self.end_run();
        }
    }

    /// `n` bytes of the data of the file `path` (as the archive names it);
    /// `first`: the entry's first bytes (a file of the same name later in
    /// the archive is another entry, read from its start).
    pub fn content(&mut self, path: &[u8], n: usize, first: bool) {
        self.end_run();
        if first {
            self.out.push(b'F');
            self.out.extend_from_slice(&(n as u64).to_le_bytes());
            self.out
                .extend_from_slice(&(path.len() as u32).to_le_bytes());
            self.out.extend_from_slice(path);
        } else {
            self.out.push(b'C');
            self.out.extend_from_slice(&(n as u64).to_le_bytes());
        }
        self.spill();
    }

    /// The archive's end: `tail` bytes came after what the reader read
    /// (taken as zeros: `save` checks). Whether it all reached the file.
    pub fn finish(mut self, tail: u64) -> bool {
        self.end_run();
        if tail > 0 {
            self.out.push(b'Z');
            self.out.extend_from_slice(&tail.to_le_bytes());
        }
        self.write_out();
        !self.failed
    }

    fn end_run(&mut self) {
        if self.run.is_empty() {
            return;
        }
        self.out.push(b'R');
        self.out
            .extend_from_slice(&(self.run.len() as u32).to_le_bytes());
        self.out.extend_from_slice(&self.run);
        self.run.clear();
        self.spill();
    }

    fn spill(&mut self) {
        if self.out.len() >= CHUNK {
            self.write_out();
        }
    }

    fn write_out(&mut self) {
        if !self.failed && fd::write_all(self.fd.raw(), &self.out).is_err() {
            self.failed = true;
        }
        self.out.clear();
    }
}

/// Reads a split file in order.
struct Records {
    fd: Fd,
    buf: Vec<u8>,
    at: usize,
}

impl Records {
    /// Exactly `n` bytes more, or an error at a short file.
    fn take(&mut self, n: usize) -> Result<&[u8]> {
        if self.buf.len() - self.at < n {
            self.buf.drain(..self.at);
            self.at = 0;
            let mut chunk = [0u8; 16384];
            while self.buf.len() < n {
                match fd::read(self.fd.raw(), &mut chunk) {
                    Ok(0) => return Err(Error::bad("layer split", "", "truncated")),
                    Ok(k) => self.buf.extend_from_slice(&chunk[..k]),
                    Err(Errno::EINTR) => {}
                    Err(e) => return Err(Error::sys("read", "layer split", e)),
                }
            }
        }
        let b = &self.buf[self.at..self.at + n];
        self.at += n;
        Ok(b)
    }

    fn at_end(&mut self) -> Result<bool> {
        if self.at < self.buf.len() {
            return Ok(false);
        }
        self.buf.clear();
        self.at = 0;
        let mut chunk = [0u8; 16384];
        loop {
            match fd::read(self.fd.raw(), &mut chunk) {
                Ok(0) => return Ok(true),
                Ok(k) => {
                    self.buf.extend_from_slice(&chunk[..k]);
                    return Ok(false);
                }
                Err(Errno::EINTR) => {}
                Err(e) => return Err(Error::sys("read", "layer split", e)),
            }
        }
    }
}

fn u32_at(b: &[u8]) -> usize {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize
}

fn u64_at(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_le_bytes(a)
}

/// `left` bytes of the open file `f` into `sink`.
fn copy(f: &Fd, mut left: u64, data: &mut [u8], sink: &mut dyn Sink) -> Result<()> {
    while left > 0 {
        let k = (data.len() as u64).min(left) as usize;
        let got =
            fd::read(f.raw(), &mut data[..k]).map_err(|e| Error::sys("read", "layer file", e))?;
        if got == 0 {
            return Err(Error::bad(
                "layer split",
                "",
                "a file is shorter than it was",
            ));
        }
        sink.put(&data[..got])?;
        left -= got as u64;
    }
    Ok(())
}

/// A sink that takes at most `left` bytes more.
struct Bounded<'a> {
    sink: &'a mut dyn Sink,
    left: u64,
}

impl Sink for Bounded<'_> {
    fn put(&mut self, b: &[u8]) -> Result<()> {
        if b.len() as u64 > self.left {
            return Err(Error::bad("layer split", "", "longer than the layer"));
        }
        self.left -= b.len() as u64;
        self.sink.put(b)
    }
}

/// The regular file `path` below `dir`, open for reading. Looked at
/// before it is opened: a later entry of the layer may have put a fifo
/// or a device where the file was (a fifo would block, a device is never
/// opened); no symlink is followed, nothing above `dir` is reached.
fn open_below(dir: &Fd, path: &[u8]) -> Result<Fd> {
    let shown = || alloc::string::String::from_utf8_lossy(path).into_owned();
    let h =
        crate::fs::apply::resolve_path(dir, path).map_err(|e| Error::sys("open", shown(), e))?;
    let st = fd::fstatat(h.raw(), c"", libc::AT_EMPTY_PATH)
        .map_err(|e| Error::sys("stat", shown(), e))?;
    if st.st_mode & libc::S_IFMT != libc::S_IFREG {
        return Err(Error::bad(
            "layer split",
            shown(),
            "no longer a regular file",
        ));
    }
    fd::reopen(&h, libc::O_RDONLY | libc::O_CLOEXEC).map_err(|e| Error::sys("open", shown(), e))
}

/// Write the archive `split` (an open split file) describes into `sink`,
/// file data from below `dir` (the layer's directory); refused past
/// `size` bytes (the layer's tar size: a corrupt record cannot make it
/// write on and on).
pub fn replay(split: Fd, dir: &Fd, sink: &mut dyn Sink, size: u64) -> Result<()> {
    let mut r = Records {
        fd: split,
        buf: Vec::new(),
        at: 0,
    };
    let bad = |why: &'static str| Error::bad("layer split", "", why);
    let mut sink = Bounded { sink, left: size };
    // The entry whose data is being read: it comes in pieces.
    let mut open: Option<Fd> = None;
    let mut data = alloc::vec![0u8; 128 * 1024];
    while !r.at_end()? {
        let tag = r.take(1)?[0];
        match tag {
            b'R' => {
                let n = u32_at(r.take(4)?);
                if n > MAX_RUN {
                    return Err(bad("corrupt record"));
                }
                sink.put(r.take(n)?)?;
            }
            b'F' => {
                let left = u64_at(r.take(8)?);
                let n = u32_at(r.take(4)?);
                if n > libc::PATH_MAX as usize {
                    return Err(bad("corrupt record"));
                }
                let path = super::extract::normalize(r.take(n)?).map_err(|_| bad("bad path"))?;
                let f = open.insert(open_below(dir, &path)?);
                copy(f, left, &mut data, &mut sink)?;
            }
            b'C' => {
                let left = u64_at(r.take(8)?);
                let f = open.as_ref().ok_or_else(|| bad("corrupt record"))?;
                copy(f, left, &mut data, &mut sink)?;
            }
            b'Z' => {
                let mut left = u64_at(r.take(8)?);
                if left > sink.left {
                    return Err(bad("longer than the layer"));
                }
                data.fill(0);
                while left > 0 {
                    let k = (data.len() as u64).min(left) as usize;
                    sink.put(&data[..k])?;
                    left -= k as u64;
                }
            }
            _ => return Err(bad("unknown record")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a split made of records replays to, with files from `dir`.
    #[test]
    fn records_round_trip() {
        let dir = std::env::temp_dir().join(format!("pocket-split-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("d")).unwrap();
        std::fs::write(dir.join("d/f"), b"hello world").unwrap();
        let file = dir.join("s");
        let c = crate::sys::cstr::cstring(file.to_str().unwrap().as_bytes()).unwrap();
        let w = fd::open(&c, libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL, 0o600).unwrap();
        let mut s = Split::new(w);
        s.raw(b"head");
        s.content(b"./d/f", 5, true);
        s.content(b"./d/f", 6, false);
        // The same name again: another entry, from the file's start.
        s.content(b"d/f", 5, true);
        s.raw(b"pad");
        assert!(s.finish(3));
        let r = fd::open(&c, libc::O_RDONLY, 0).unwrap();
        let dc = crate::sys::cstr::cstring(dir.to_str().unwrap().as_bytes()).unwrap();
        let d = fd::open(&dc, libc::O_PATH | libc::O_DIRECTORY, 0).unwrap();
        let mut out: Vec<u8> = Vec::new();
        replay(r, &d, &mut out, 100).unwrap();
        assert_eq!(out, b"headhello worldhellopad\0\0\0");
        // Not past the layer's size.
        let r = fd::open(&c, libc::O_RDONLY, 0).unwrap();
        assert!(replay(r, &d, &mut Vec::new(), 10).is_err());
        // A file that is shorter than the split says: refused.
        std::fs::write(dir.join("d/f"), b"hi").unwrap();
        let r = fd::open(&c, libc::O_RDONLY, 0).unwrap();
        assert!(replay(r, &d, &mut Vec::new(), 100).is_err());
        // A fifo where the file was: refused, not opened (it would block).
        std::fs::remove_file(dir.join("d/f")).unwrap();
        let fifo = crate::sys::cstr::cstring(dir.join("d/f").to_str().unwrap().as_bytes()).unwrap();
        crate::sys::mount::mknodat(libc::AT_FDCWD, &fifo, libc::S_IFIFO | 0o600, 0, 0).unwrap();
        let r = fd::open(&c, libc::O_RDONLY, 0).unwrap();
        assert!(replay(r, &d, &mut Vec::new(), 100).is_err());
        // A path out of the directory: refused.
        std::fs::remove_file(&file).unwrap();
        let w = fd::open(&c, libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL, 0o600).unwrap();
        let mut s = Split::new(w);
        s.content(b"../s", 1, true);
        assert!(s.finish(0));
        let r = fd::open(&c, libc::O_RDONLY, 0).unwrap();
        assert!(replay(r, &d, &mut Vec::new(), 100).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
