//! zstd layers (`application/vnd.oci.image.layer.v1.tar+zstd`): ruzstd's
//! frame decoder over our byte sources, every frame of the stream in turn
//! (zstd:chunked layers are many frames, with skippable ones between).

use super::tar::Source;
use crate::sys::Errno;
use alloc::boxed::Box;
use alloc::string::{String, ToString};
use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};
use ruzstd::io::{Error as IoError, ErrorKind, Read};

/// Largest window a layer may ask for (zstd's default maximum for
/// decoders, `--long=27`): more is refused rather than allocated.
const MAX_WINDOW: u64 = 128 << 20;

/// Our source as ruzstd's reader, with one byte of look-ahead (to tell
/// the end of the stream from the start of another frame).
struct Src<'a> {
    inner: Box<dyn Source + 'a>,
    peeked: Option<u8>,
    err: Option<Errno>,
}

impl Read for Src<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, IoError> {
        if buf.is_empty() {
            return Ok(0);
        }
        if let Some(b) = self.peeked.take() {
            buf[0] = b;
            return Ok(1);
        }
        loop {
            match self.inner.read(buf) {
                Ok(n) => return Ok(n),
                Err(Errno::EINTR) => {}
                Err(e) => {
                    self.err = Some(e);
                    return Err(IoError::new(ErrorKind::Other, Box::new("read error")));
                }
            }
        }
    }
}

impl Src<'_> {
    fn at_end(&mut self) -> Result<bool, Errno> {
        if self.peeked.is_some() {
            return Ok(false);
        }
        let mut b = [0u8; 1];
        loop {
            match self.inner.read(&mut b) {
                Ok(0) => return Ok(true),
                Ok(_) => {
                    self.peeked = Some(b[0]);
                    return Ok(false);
                }
                Err(Errno::EINTR) => {}
                Err(e) => return Err(e),
            }
        }
    }
}

pub struct Unzstd<'a> {
    src: Src<'a>,
    dec: FrameDecoder,
    in_frame: bool,
    /// Why decoding failed, for the error message.
    pub why: Option<String>,
}

impl<'a> Unzstd<'a> {
    pub fn new(inner: impl Source + 'a) -> Unzstd<'a> {
        Unzstd {
            src: Src {
                inner: Box::new(inner),
                peeked: None,
                err: None,
            },
            dec: {
                let mut d = FrameDecoder::new();
                d.set_max_window_size(MAX_WINDOW);
                d
            },
            in_frame: false,
            why: None,
        }
    }

    fn fail(&mut self, e: impl ToString) -> Errno {
        if let Some(e) = self.src.err.take() {
            return e;
        }
        self.why = Some(e.to_string());
        Errno::EINVAL
    }
}

impl Source for Unzstd<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Errno> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.dec.can_collect() > 0 {
                return match self.dec.read(buf) {
                    Ok(n) => Ok(n),
                    Err(e) => Err(self.fail(e)),
                };
            }
            if self.in_frame {
                if self.dec.is_finished() {
                    // The frame's content checksum (xxhash64's low 32 bits),
                    // when it carries one, against what was decoded.
                    if let (Some(want), Some(got)) = (
                        self.dec.get_checksum_from_data(),
                        self.dec.get_calculated_checksum(),
                    ) && want != got
                    {
                        return Err(self.fail("frame checksum mismatch"));
                    }
                    self.in_frame = false;
                    continue;
                }
                if let Err(e) = self
                    .dec
                    .decode_blocks(&mut self.src, BlockDecodingStrategy::UptoBytes(1 << 20))
                {
                    return Err(self.fail(e));
                }
                continue;
            }
            if self.src.at_end()? {
                return Ok(0);
            }
            match self.dec.reset(&mut self.src) {
                Ok(()) => self.in_frame = true,
                Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame {
                    length,
                    ..
                })) => {
                    let mut left = length as u64;
                    let mut b = [0u8; 4096];
                    while left > 0 {
                        let k = left.min(b.len() as u64) as usize;
                        match self.src.read(&mut b[..k]) {
                            Ok(0) => return Err(Errno::EPIPE),
                            Ok(n) => left -= n as u64,
                            Err(e) => return Err(self.fail(e)),
                        }
                    }
                }
                Err(e) => return Err(self.fail(e)),
            }
        }
    }
}
