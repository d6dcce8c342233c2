//! gzip out (RFC 1952): a `Sink` that deflates what it is given into
//! another `Sink`, for the layers `push` sends. miniz_oxide's core
//! compressor, fed in fixed 64 KiB pieces (its blocks depend on how its
//! input is cut, and the tar writer's pieces follow read(2)), one 64 KiB
//! output buffer; the header carries no name and no time. So the same
//! tar always makes the same bytes, and the same blob digest, as a
//! registry round trip needs.

use super::gzip::Crc;
use super::tar_write::Sink;
use crate::error::{Error, Result};
use alloc::boxed::Box;
use alloc::vec;
use miniz_oxide::deflate::core::{
    CompressorOxide, TDEFLFlush, TDEFLStatus, compress, create_comp_flags_from_zip_params,
};

/// miniz's level 1 (greedy, one probe): pushing bench-registry's 200 MB
/// image took 1.7 s at level 1 against 5.9 s at level 6 for the same
/// 102 MB in the registry; over a network it is the upload, not the last
/// percent of ratio, that a push waits on.
pub const LEVEL: i32 = 1;
const OUT: usize = 64 * 1024;
const IN: usize = 64 * 1024;

pub struct Gzip<'a> {
    inner: &'a mut dyn Sink,
    c: Box<CompressorOxide>,
    crc: Crc,
    sum: u32,
    /// Input length mod 2^32, as the trailer keeps it.
    len: u32,
    out: Box<[u8]>,
    /// Input waiting for a whole piece.
    pending: alloc::vec::Vec<u8>,
}

fn failed(st: TDEFLStatus) -> Error {
    Error::bad("gzip", "", alloc::format!("deflate failed ({st:?})"))
}

impl<'a> Gzip<'a> {
    /// Starts the stream: the 10-byte header (no mtime, OS unknown, as
    /// Go's writer makes it) goes out at once.
    pub fn new(inner: &'a mut dyn Sink, level: i32) -> Result<Gzip<'a>> {
        // Negative window bits: a raw deflate stream, the gzip frame is ours.
        let flags = create_comp_flags_from_zip_params(level, -15, 0);
        inner.put(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff])?;
        Ok(Gzip {
            inner,
            c: Box::new(CompressorOxide::new(flags)),
            crc: Crc::new(),
            sum: 0,
            len: 0,
            out: vec![0u8; OUT].into_boxed_slice(),
            pending: alloc::vec::Vec::with_capacity(IN),
        })
    }

    fn run(&mut self, flush: TDEFLFlush) -> Result<TDEFLStatus> {
        let pending = core::mem::take(&mut self.pending);
        let r = self.deflate(&pending, flush);
        self.pending = pending;
        self.pending.clear();
        r
    }

    fn deflate(&mut self, mut input: &[u8], flush: TDEFLFlush) -> Result<TDEFLStatus> {
        loop {
            let (st, used, made) = compress(&mut self.c, input, &mut self.out, flush);
            if made > 0 {
                self.inner.put(&self.out[..made])?;
            }
            input = &input[used..];
            match st {
                TDEFLStatus::Done => return Ok(st),
                TDEFLStatus::Okay if input.is_empty() && made < OUT => {
                    // Finish is only over once the compressor says Done.
                    if !matches!(flush, TDEFLFlush::Finish) {
                        return Ok(st);
                    }
                }
                TDEFLStatus::Okay => {}
                st => return Err(failed(st)),
            }
        }
    }

    /// The rest of the stream and the trailer (CRC32, length).
    pub fn finish(mut self) -> Result<()> {
        self.run(TDEFLFlush::Finish)?;
        let mut t = [0u8; 8];
        t[..4].copy_from_slice(&self.sum.to_le_bytes());
        t[4..].copy_from_slice(&self.len.to_le_bytes());
        self.inner.put(&t)
    }
}

impl Sink for Gzip<'_> {
    fn put(&mut self, b: &[u8]) -> Result<()> {
        self.sum = self.crc.update(self.sum, b);
        self.len = self.len.wrapping_add(b.len() as u32);
        let mut b = b;
        while !b.is_empty() {
            let k = (IN - self.pending.len()).min(b.len());
            self.pending.extend_from_slice(&b[..k]);
            b = &b[k..];
            if self.pending.len() == IN {
                self.run(TDEFLFlush::None)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::gzip::Gunzip;
    use crate::image::tar::Source;
    use alloc::vec::Vec;

    struct Slice<'a>(&'a [u8]);
    impl Source for Slice<'_> {
        fn read(&mut self, b: &mut [u8]) -> core::result::Result<usize, crate::sys::Errno> {
            let n = b.len().min(self.0.len());
            b[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn gz(data: &[u8], pieces: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut g = Gzip::new(&mut out, LEVEL).unwrap();
        for c in data.chunks(pieces.max(1)) {
            g.put(c).unwrap();
        }
        g.finish().unwrap();
        out
    }

    fn gunzip(b: &[u8]) -> Vec<u8> {
        let mut s = Slice(b);
        let mut g = Gunzip::new(&mut s);
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = g.read(&mut buf).unwrap();
            if n == 0 {
                return out;
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    #[test]
    fn round_trips_and_is_deterministic() {
        // Compressible text, then bytes that are not (an LCG), more than
        // one output buffer of each.
        let mut data: Vec<u8> = (0..300_000u32)
            .flat_map(|i| alloc::format!("line {}\n", i % 977).into_bytes())
            .collect();
        let mut x = 12345u32;
        data.extend((0..200_000).map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 16) as u8
        }));
        let a = gz(&data, 7919);
        assert_eq!(gunzip(&a), data);
        assert!(a.len() < data.len());
        // However the input is cut, the same bytes come out.
        assert_eq!(gz(&data, 1 << 20), a);
        assert_eq!(&a[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
        // Empty input: a valid, empty stream.
        assert_eq!(gunzip(&gz(&[], 1)), Vec::<u8>::new());
    }
}
