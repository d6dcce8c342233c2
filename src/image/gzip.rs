//! gzip layers (RFC 1952): a streaming gunzip `Source` over another
//! `Source`, and `plain`, which looks at a layer's first bytes and gives
//! back its tar stream whether it was compressed or not.
//!
//! Inflate is miniz_oxide's core decompressor writing into a 64 KiB ring
//! (deflate looks back at most 32 KiB), so memory stays bounded whatever
//! the layer's size. Every member's CRC32 and length are checked, and
//! concatenated members (pigz, `cat a.gz b.gz`) read as one stream, as
//! `gzip -d` and Go's reader do. Hostile input fails with an error, never
//! a panic and never a loop that reads nothing.
//!
//! `Source::read` can only return an errno: a format error surfaces as
//! EBADMSG and its reason stays here, for `explain` to put back into the
//! error the reader of the stream (the tar reader) made of it.

use super::tar::Source;
use crate::error::{Error, Result, Why};
use crate::sys::Errno;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec;
use core::ops::{Deref, DerefMut};
use miniz_oxide::inflate::TINFLStatus;
use miniz_oxide::inflate::core::inflate_flags::TINFL_FLAG_HAS_MORE_INPUT;
use miniz_oxide::inflate::core::{DecompressorOxide, decompress};

/// Output ring: a power of two of at least deflate's 32 KiB window.
const RING: usize = 1 << 16;
/// Compressed bytes read from the inner source at a time.
const INPUT: usize = 1 << 17;

const FHCRC: u8 = 2;
const FEXTRA: u8 = 4;
const FNAME: u8 = 8;
const FCOMMENT: u8 = 16;

/// CRC-32 (IEEE, as gzip), eight bytes per step. The 8 KiB of tables are
/// built when a stream opens rather than stored in the binary.
pub(crate) struct Crc(Box<[[u32; 256]; 8]>);

impl Crc {
    pub(crate) fn new() -> Crc {
        let mut t = Box::new([[0u32; 256]; 8]);
        for i in 0..256 {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            t[0][i] = c;
        }
        for i in 0..256 {
            for k in 1..8 {
                let p = t[k - 1][i];
                t[k][i] = (p >> 8) ^ t[0][p as u8 as usize];
            }
        }
        Crc(t)
    }

    pub(crate) fn update(&self, crc: u32, data: &[u8]) -> u32 {
        let t = &*self.0;
        let mut c = !crc;
        let mut it = data.chunks_exact(8);
        for b in &mut it {
            let lo = c ^ u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            let hi = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
            c = t[7][lo as u8 as usize]
                ^ t[6][(lo >> 8) as u8 as usize]
                ^ t[5][(lo >> 16) as u8 as usize]
                ^ t[4][(lo >> 24) as usize]
                ^ t[3][hi as u8 as usize]
                ^ t[2][(hi >> 8) as u8 as usize]
                ^ t[1][(hi >> 16) as u8 as usize]
                ^ t[0][(hi >> 24) as usize];
        }
        for &b in it.remainder() {
            c = t[0][(c as u8 ^ b) as usize] ^ (c >> 8);
        }
        !c
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Header,
    Body,
    Trailer,
    End,
}

/// A gzip stream read as the data it holds.
pub struct Gunzip<'a> {
    src: &'a mut dyn Source,
    /// Compressed bytes read but not yet used: `inp[lo..hi]`.
    inp: Box<[u8]>,
    lo: usize,
    hi: usize,
    eof: bool,
    /// Inflated bytes: the caller has yet to read `ring[olo..ohi]`; the
    /// next inflate writes at `wpos`.
    ring: Box<[u8]>,
    wpos: usize,
    olo: usize,
    ohi: usize,
    inf: Box<DecompressorOxide>,
    state: State,
    crc: Crc,
    sum: u32,
    size: u32,
    members: u64,
    /// The first error, returned again by every later read.
    err: Option<Errno>,
    why: Option<&'static str>,
}

impl<'a> Gunzip<'a> {
    pub fn new(src: &'a mut dyn Source) -> Gunzip<'a> {
        Gunzip::with_prefix(src, &[])
    }

    /// A stream whose first bytes were already read from `src`.
    fn with_prefix(src: &'a mut dyn Source, head: &[u8]) -> Gunzip<'a> {
        let mut inp = vec![0u8; INPUT].into_boxed_slice();
        let n = head.len().min(INPUT);
        inp[..n].copy_from_slice(&head[..n]);
        Gunzip {
            src,
            inp,
            lo: 0,
            hi: n,
            eof: false,
            ring: vec![0u8; RING].into_boxed_slice(),
            wpos: 0,
            olo: 0,
            ohi: 0,
            inf: Box::default(),
            state: State::Header,
            crc: Crc::new(),
            sum: 0,
            size: 0,
            members: 0,
            err: None,
            why: None,
        }
    }

    /// Why the stream was refused ("bad header", "crc mismatch", ...), once
    /// a read has failed with EBADMSG.
    pub fn why(&self) -> Option<&'static str> {
        self.why
    }

    /// Complete gzip members read so far.
    pub fn members(&self) -> u64 {
        self.members
    }

    /// `e` as made by whoever read this stream, with the gzip reason in
    /// place of a bare "Bad message" when this stream was the cause.
    pub fn explain(&self, e: Error) -> Error {
        match (self.why, &e.why) {
            (Some(w), Why::Errno(Errno::EBADMSG)) => {
                Error::bad("gzip", e.arg.clone(), w).with_code(e.code)
            }
            _ => e,
        }
    }

    fn fail(&mut self, why: &'static str) -> Errno {
        self.why = Some(why);
        self.err = Some(Errno::EBADMSG);
        Errno::EBADMSG
    }

    /// Read more input after `inp[hi]`; 0 at EOF.
    fn fill(&mut self) -> core::result::Result<usize, Errno> {
        if self.eof {
            return Ok(0);
        }
        if self.lo == self.hi {
            (self.lo, self.hi) = (0, 0);
        } else if self.hi == self.inp.len() {
            self.inp.copy_within(self.lo..self.hi, 0);
            (self.lo, self.hi) = (0, self.hi - self.lo);
        }
        let room = self.inp.len() - self.hi;
        if room == 0 {
            return Ok(0);
        }
        loop {
            match self.src.read(&mut self.inp[self.hi..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(0);
                }
                Ok(k) => {
                    let k = k.min(room);
                    self.hi += k;
                    return Ok(k);
                }
                Err(Errno::EINTR) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// At least `n` (small) input bytes at `inp[lo..]`.
    fn need(&mut self, n: usize) -> core::result::Result<(), Errno> {
        if self.hi - self.lo < n {
            self.inp.copy_within(self.lo..self.hi, 0);
            (self.lo, self.hi) = (0, self.hi - self.lo);
            while self.hi < n {
                if self.fill()? == 0 {
                    return Err(self.fail("truncated"));
                }
            }
        }
        Ok(())
    }

    /// Consume `n` header bytes into the header checksum `h`.
    fn eat(&mut self, n: usize, h: &mut u32) {
        *h = self.crc.update(*h, &self.inp[self.lo..self.lo + n]);
        self.lo += n;
    }

    /// Pass over `n` header bytes, or up to a NUL (included) with `cstr`.
    fn pass(&mut self, mut n: usize, cstr: bool, h: &mut u32) -> core::result::Result<(), Errno> {
        while cstr || n > 0 {
            if self.lo == self.hi && self.fill()? == 0 {
                return Err(self.fail("truncated"));
            }
            let avail = &self.inp[self.lo..self.hi];
            if cstr {
                if let Some(p) = avail.iter().position(|&c| c == 0) {
                    self.eat(p + 1, h);
                    return Ok(());
                }
                self.eat(avail.len(), h);
            } else {
                let k = n.min(avail.len());
                self.eat(k, h);
                n -= k;
            }
        }
        Ok(())
    }

    fn header(&mut self) -> core::result::Result<(), Errno> {
        let r = self.need(10);
        // Not gzip at all says more than "truncated", even when short.
        let h = &self.inp[self.lo..self.hi];
        if !h.iter().zip([0x1f, 0x8b, 8]).all(|(a, b)| *a == b) {
            return Err(self.fail("bad header"));
        }
        r?;
        let flg = self.inp[self.lo + 3];
        if flg & 0xe0 != 0 {
            return Err(self.fail("bad header"));
        }
        let mut sum = 0;
        self.eat(10, &mut sum);
        if flg & FEXTRA != 0 {
            self.need(2)?;
            let xlen = u16::from_le_bytes([self.inp[self.lo], self.inp[self.lo + 1]]);
            self.eat(2, &mut sum);
            self.pass(xlen as usize, false, &mut sum)?;
        }
        if flg & FNAME != 0 {
            self.pass(0, true, &mut sum)?;
        }
        if flg & FCOMMENT != 0 {
            self.pass(0, true, &mut sum)?;
        }
        if flg & FHCRC != 0 {
            self.need(2)?;
            let want = u16::from_le_bytes([self.inp[self.lo], self.inp[self.lo + 1]]);
            if want != sum as u16 {
                return Err(self.fail("bad header"));
            }
            self.lo += 2;
        }
        self.inf.init();
        (self.sum, self.size) = (0, 0);
        self.state = State::Body;
        Ok(())
    }

    fn inflate(&mut self) -> core::result::Result<(), Errno> {
        let flags = if self.eof {
            0
        } else {
            TINFL_FLAG_HAS_MORE_INPUT
        };
        let (st, used, n) = decompress(
            &mut self.inf,
            &self.inp[self.lo..self.hi],
            &mut self.ring,
            self.wpos,
            flags,
        );
        self.lo = (self.lo + used).min(self.hi);
        let n = n.min(RING - self.wpos);
        if n > 0 {
            let out = &self.ring[self.wpos..self.wpos + n];
            self.sum = self.crc.update(self.sum, out);
            self.size = self.size.wrapping_add(n as u32);
            (self.olo, self.ohi) = (self.wpos, self.wpos + n);
            self.wpos = (self.wpos + n) & (RING - 1);
        }
        match st {
            TINFLStatus::Done => self.state = State::Trailer,
            TINFLStatus::HasMoreOutput if n > 0 || used > 0 => {}
            TINFLStatus::NeedsMoreInput if !self.eof => {
                // All input is taken into the bit buffer before this, so
                // a full buffer here would mean no progress at all.
                if self.fill()? == 0 && !self.eof && n == 0 {
                    return Err(self.fail("bad deflate data"));
                }
            }
            TINFLStatus::NeedsMoreInput | TINFLStatus::FailedCannotMakeProgress => {
                return Err(self.fail("truncated"));
            }
            _ => return Err(self.fail("bad deflate data")),
        }
        Ok(())
    }

    fn trailer(&mut self) -> core::result::Result<(), Errno> {
        self.need(8)?;
        let t = &self.inp[self.lo..self.lo + 8];
        let crc = u32::from_le_bytes([t[0], t[1], t[2], t[3]]);
        let size = u32::from_le_bytes([t[4], t[5], t[6], t[7]]);
        if crc != self.sum {
            return Err(self.fail("crc mismatch"));
        }
        if size != self.size {
            return Err(self.fail("length mismatch"));
        }
        self.lo += 8;
        self.members += 1;
        // Another member may follow; anything else after the last one is
        // refused (Go's reader does the same), trailing zeros included.
        self.state = if self.lo < self.hi || self.fill()? > 0 {
            State::Header
        } else {
            State::End
        };
        Ok(())
    }
}

impl Source for Gunzip<'_> {
    fn read(&mut self, buf: &mut [u8]) -> core::result::Result<usize, Errno> {
        if let Some(e) = self.err {
            return Err(e);
        }
        loop {
            if self.olo < self.ohi {
                let n = buf.len().min(self.ohi - self.olo);
                buf[..n].copy_from_slice(&self.ring[self.olo..self.olo + n]);
                self.olo += n;
                return Ok(n);
            }
            if buf.is_empty() {
                return Ok(0);
            }
            let r = match self.state {
                State::Header => self.header(),
                State::Body => self.inflate(),
                State::Trailer => self.trailer(),
                State::End => return Ok(0),
            };
            if let Err(e) = r {
                // Sticky: a half-parsed header cannot be resumed.
                self.err = Some(e);
                return Err(e);
            }
        }
    }
}

/// Bytes peeked at the start of a source, given back before the rest.
pub struct Peeked<'a> {
    src: &'a mut dyn Source,
    head: [u8; 6],
    at: usize,
    len: usize,
}

impl Source for Peeked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> core::result::Result<usize, Errno> {
        if self.at < self.len {
            let n = buf.len().min(self.len - self.at);
            buf[..n].copy_from_slice(&self.head[self.at..self.at + n]);
            self.at += n;
            return Ok(n);
        }
        self.src.read(buf)
    }
    fn skip(&mut self, n: u64) -> core::result::Result<(), Errno> {
        let k = n.min((self.len - self.at) as u64);
        self.at += k as usize;
        self.src.skip(n - k)
    }
}

/// A layer's tar stream: gunzipped, or as it was.
pub enum Plain<'a> {
    Gzip(Gunzip<'a>),
    Zstd(super::zstd::Unzstd<'a>),
    Raw(Peeked<'a>),
}

impl Plain<'_> {
    pub fn is_gzip(&self) -> bool {
        matches!(self, Plain::Gzip(_))
    }
    /// See `Gunzip::explain`; errors of a plain stream pass unchanged.
    pub fn explain(&self, e: Error) -> Error {
        match self {
            Plain::Gzip(g) => g.explain(e),
            Plain::Zstd(z) => match &z.why {
                Some(w) => Error::bad("zstd", String::new(), w.clone()),
                None => e,
            },
            Plain::Raw(_) => e,
        }
    }
}

impl Source for Plain<'_> {
    fn read(&mut self, buf: &mut [u8]) -> core::result::Result<usize, Errno> {
        match self {
            Plain::Gzip(g) => g.read(buf),
            Plain::Zstd(z) => z.read(buf),
            Plain::Raw(p) => p.read(buf),
        }
    }
    fn skip(&mut self, n: u64) -> core::result::Result<(), Errno> {
        match self {
            Plain::Gzip(g) => g.skip(n),
            Plain::Zstd(z) => z.skip(n),
            Plain::Raw(p) => p.skip(n),
        }
    }
}

/// So that `&mut *plain` passes where a `&mut dyn Source` is wanted.
impl<'a> Deref for Plain<'a> {
    type Target = dyn Source + 'a;
    fn deref(&self) -> &(dyn Source + 'a) {
        self
    }
}

impl<'a> DerefMut for Plain<'a> {
    fn deref_mut(&mut self) -> &mut (dyn Source + 'a) {
        self
    }
}

/// What a stream starting with `h` is compressed with, if we know it but
/// cannot read it.
fn unsupported(h: &[u8]) -> Option<&'static str> {
    if h.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        return Some("xz layers are not supported");
    }
    // "BZh", block size, then a block or end-of-stream magic: stricter
    // than the 3 bytes alone, which a tar member's name could start with.
    if h.len() == 6
        && h.starts_with(b"BZh")
        && (b'1'..=b'9').contains(&h[3])
        && matches!(&h[4..], [0x31, 0x41] | [0x17, 0x72])
    {
        return Some("bzip2 layers are not supported");
    }
    None
}

/// The uncompressed stream of a layer: gunzip if it starts with gzip's
/// magic, else the bytes as they are (the peeked ones first).
pub fn plain<'a>(src: &'a mut dyn Source) -> Result<Plain<'a>> {
    let mut head = [0u8; 6];
    let mut len = 0;
    while len < head.len() {
        match src.read(&mut head[len..]) {
            Ok(0) => break,
            Ok(k) => len = (len + k).min(head.len()),
            Err(Errno::EINTR) => {}
            Err(e) => return Err(Error::sys("read layer", "", e)),
        }
    }
    if let Some(why) = unsupported(&head[..len]) {
        return Err(Error::bad("read layer", "", why));
    }
    if head[..len].starts_with(&[0x1f, 0x8b]) {
        return Ok(Plain::Gzip(Gunzip::with_prefix(src, &head[..len])));
    }
    let peeked = Peeked {
        src,
        head,
        at: 0,
        len,
    };
    if head[..len].starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Ok(Plain::Zstd(super::zstd::Unzstd::new(peeked)));
    }
    Ok(Plain::Raw(peeked))
}

#[cfg(test)]
#[path = "gzip_tests.rs"]
mod tests;
