//! zstd layers (`application/vnd.oci.image.layer.v1.tar+zstd`): ruzstd's
//! frame decoder over our byte sources, every frame of the stream in turn
//! (zstd:chunked layers are many frames, with skippable ones between).

use super::tar::Source;
use crate::sys::Errno;
use alloc::boxed::Box;
use alloc::string::String;
use ruzstd::decoding::errors::{
    BlockHeaderReadError, DecodeBlockContentError, DecompressBlockError, FrameDecoderError,
    ReadFrameHeaderError,
};
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

    /// A failed step: our source's errno if that was the cause, else
    /// EINVAL with `why` set to what was wrong with the stream.
    fn fail(&mut self, why: String) -> Errno {
        if let Some(e) = self.src.err.take() {
            return e;
        }
        self.why = Some(why);
        Errno::EINVAL
    }
}

/// What was wrong with a frame, in a few words, by the kind of ruzstd's
/// error rather than its Display: that text is built from every nested
/// error's Display and Debug, 13 KB of formatting code in the binary
/// for detail (bit positions, table states) no user acts on.
fn why(e: &FrameDecoderError) -> String {
    use FrameDecoderError as F;
    if cut_short(e) {
        // As gzip says of a stream that ends early (a download cut off).
        return String::from("truncated");
    }
    String::from(match e {
        F::ReadFrameHeaderError(ReadFrameHeaderError::BadMagicNumber(_)) => {
            "not a zstd frame (bad magic number)"
        }
        F::ReadFrameHeaderError(_) | F::FrameHeaderError(_) | F::FailedToInitialize(_) => {
            "bad frame header"
        }
        F::WindowSizeTooBig { requested, .. } => {
            return alloc::format!(
                "frame window of {requested} bytes over the limit of {MAX_WINDOW}"
            );
        }
        F::DictNotProvided { .. } | F::DictionaryDecodeError(_) => {
            "frame needs a dictionary (not supported)"
        }
        F::FailedToReadBlockHeader(_) => "corrupt block header",
        _ => "corrupt block",
    })
}

/// Whether decoding failed because the stream ended (a read that found
/// no more bytes), by the error's kind: no formatting.
fn cut_short(e: &FrameDecoderError) -> bool {
    use FrameDecoderError as F;
    use ReadFrameHeaderError as H;
    let eof = |e: &IoError| e.kind() == ErrorKind::UnexpectedEof;
    match e {
        F::ReadFrameHeaderError(
            H::MagicNumberReadError(e)
            | H::FrameDescriptorReadError(e)
            | H::WindowDescriptorReadError(e)
            | H::DictionaryIdReadError(e)
            | H::FrameContentSizeReadError(e),
        )
        | F::FailedToReadBlockHeader(BlockHeaderReadError::ReadError(e))
        | F::FailedToReadBlockBody(
            DecodeBlockContentError::ReadError { source: e, .. }
            | DecodeBlockContentError::DecompressBlockError(
                DecompressBlockError::BlockContentReadError(e),
            ),
        )
        | F::FailedToReadChecksum(e) => eof(e),
        _ => false,
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
                    Err(_) => Err(self.fail(String::from("corrupt block"))),
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
                        return Err(self.fail(String::from("frame checksum mismatch")));
                    }
                    self.in_frame = false;
                    continue;
                }
                if let Err(e) = self
                    .dec
                    .decode_blocks(&mut self.src, BlockDecodingStrategy::UptoBytes(1 << 20))
                {
                    return Err(self.fail(why(&e)));
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
                            Err(_) => return Err(self.fail(String::from("truncated"))),
                        }
                    }
                }
                Err(e) => return Err(self.fail(why(&e))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use std::io::Write;
    use std::process::{Command, Stdio};

    fn unhex(h: &str) -> Vec<u8> {
        (0..h.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
            .collect()
    }

    /// Output past which a stream is not read further: zstd's RLE blocks
    /// make 128 KiB of 4 bytes, so mutations can ask for a lot.
    const CAP: usize = 8 << 20;

    /// The stream `z` decoded, `chunk` bytes a read; Ok(None) if it makes
    /// more than CAP.
    fn unzstd(z: &[u8], chunk: usize) -> Result<Option<Vec<u8>>, String> {
        let mut u = Unzstd::new(z);
        let mut out = Vec::new();
        let mut buf = alloc::vec![0u8; chunk];
        loop {
            match u.read(&mut buf) {
                Ok(0) => return Ok(Some(out)),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) => {
                    let e = match u.why.take() {
                        Some(w) => crate::error::Error::bad("zstd", String::new(), w),
                        None => crate::error::Error::sys("read tar", "", e),
                    };
                    return Err(alloc::format!("{e}"));
                }
            }
            if out.len() > CAP {
                return Ok(None);
            }
        }
    }

    /// `zstd -dc` of `z`, if the program is there: (success, output).
    fn zstd_d(z: &[u8]) -> Option<(bool, Vec<u8>)> {
        let mut c = Command::new("zstd")
            .args(["-d", "-c", "-q"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let mut stdin = c.stdin.take().unwrap();
        let d = z.to_vec();
        let w = std::thread::spawn(move || {
            let _ = stdin.write_all(&d);
        });
        let out = c.wait_with_output().unwrap();
        w.join().unwrap();
        Some((out.status.success(), out.stdout))
    }

    /// The frames of a stream that `unzstd` read: (their bytes, their
    /// header's descriptor byte, the content size it declares, if any).
    /// Skippable frames are left out.
    fn frames(z: &[u8]) -> Vec<(&[u8], u8, Option<u64>)> {
        let le = |b: &[u8]| b.iter().rev().fold(0u64, |v, &c| v << 8 | c as u64);
        let mut out = Vec::new();
        let mut at = 0;
        while at + 8 <= z.len() {
            let f = &z[at..];
            if f[..4] != [0x28, 0xb5, 0x2f, 0xfd] {
                at += 8 + le(&f[4..8]) as usize; // skippable
                continue;
            }
            let d = f[4];
            let single = d & 0x20 != 0;
            let mut p = 5 + usize::from(!single) + [0, 1, 2, 4][(d & 3) as usize];
            let n = [usize::from(single), 2, 4, 8][(d >> 6) as usize];
            let size = (n > 0).then(|| le(&f[p..p + n]) + if n == 2 { 256 } else { 0 });
            p += n;
            loop {
                let h = le(&f[p..p + 3]);
                p += 3 + if (h >> 1) & 3 == 1 {
                    1
                } else {
                    (h >> 3) as usize
                };
                if h & 1 == 1 {
                    break;
                }
            }
            p += 4 * usize::from(d & 4 != 0);
            out.push((&f[..p], d, size));
            at += p;
        }
        out
    }

    /// Known leniencies of ruzstd, where zstd refuses: a frame whose
    /// header's reserved bit is set, or whose content is not the size its
    /// header declares. Is `z` free of them?
    fn strict(z: &[u8]) -> bool {
        frames(z).iter().all(|&(f, d, size)| {
            d & 0x08 == 0
                && size.is_none_or(
                    |n| matches!(unzstd(f, 1 << 16), Ok(Some(v)) if v.len() as u64 == n),
                )
        })
    }

    #[test]
    fn refusals_say_what_was_wrong_in_a_few_words() {
        // A window of 2^30 (descriptor exponent 20): over the limit.
        assert_eq!(
            unzstd(&unhex("28b52ffd00a0"), 4096),
            Err(String::from(
                "zstd: frame window of 1073741824 bytes over the limit of 134217728"
            ))
        );
        // A reserved block type (3) in a well-formed header.
        assert_eq!(
            unzstd(&unhex("28b52ffd0058070000"), 4096),
            Err(String::from("zstd: corrupt block header"))
        );
        // A frame cut off in its header, in a block, before its checksum.
        let whole = unhex("28b52ffd04686d00003868656c6c6f200a0100994b11a87c2ea8");
        for cut in [5, 12, whole.len() - 2] {
            assert_eq!(
                unzstd(&whole[..cut], 4096),
                Err(String::from("zstd: truncated")),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn hostile_zstd() {
        // Made by zstd 1.5.4: -19 with a checksum; a raw block without
        // one; an RLE block without a content size; -3 of a file list
        // (Huffman literals, sequences); a frame, a skippable frame and
        // another frame; a skippable frame alone.
        let corpus: Vec<(Vec<u8>, Vec<u8>)> = [
            (
                "28b52ffd04686d00003868656c6c6f200a0100994b11a87c2ea8",
                b"hello hello hello hello\n".to_vec(),
            ),
            ("28b52ffd00581100006162", b"ab".to_vec()),
            (
                "28b52ffd04584d00001061610100272ac002c7cfcfb9",
                alloc::vec![b'a'; 300],
            ),
            (
                "28b52ffd045825040052440e15b03707d0ce953d160418ec464c5a9932914e2a170365a539f7ffffffdbb66ddb6ddbb63d155080c0dd65a569a192618703a2c488a4ec4824272080a3d203a0801764a0000f6441010fc840011ec880021ec882021e908132787d41c61794bde0e905595e50f0827717647641a90b5eae1a6ba696fad4ac16f5d58cd5824de21801f0a70a",
                (1..=40)
                    .flat_map(|i| alloc::format!("usr/lib/x86_64/file{i}.so\n").into_bytes())
                    .collect(),
            ),
            (
                "28b52ffd2418c1000068656c6c6f2066726f6d2061207a737464206672616d650ae6934344502a4d1804000000736b697028b52ffd2416b10000616e642066726f6d2061207365636f6e64206f6e650a5d916963",
                b"hello from a zstd frame\nand from a second one\n".to_vec(),
            ),
            ("502a4d1804000000736b6970", Vec::new()),
        ]
        .iter()
        .map(|(h, d)| (unhex(h), d.clone()))
        .collect();
        for (z, d) in &corpus {
            assert_eq!(unzstd(z, 4096), Ok(Some(d.clone())));
        }
        let refs: Vec<&[u8]> = corpus.iter().map(|(z, _)| &z[..]).collect();
        let dict: &[&[u8]] = &[
            b"\x28\xb5\x2f\xfd",
            b"\x50\x2a\x4d\x18",
            b"\x28\xb5\x2f\xfd\x00\x00",
            b"\x28\xb5\x2f\xfd\xe4",
            b"\x01\x00\x00",
            b"\x03\x00\x00",
            b"\xff\xff\xff\x0f",
        ];
        let mut r = crate::rt::fuzz::Rng::new(1);
        let mut read: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        crate::rt::fuzz::run(
            "zstd",
            &refs,
            dict,
            std::time::Duration::from_secs(60),
            |b| {
                let got = unzstd(b, 1 << 16);
                // However it is read, the same outcome.
                if r.one_in(4) {
                    let chunk = 1 + r.below(5000);
                    assert_eq!(got, unzstd(b, chunk), "chunk {chunk}");
                }
                match got {
                    // (zstd refuses an empty stream; we read it as empty.)
                    // (Known leniencies are left out of the comparison.)
                    Ok(Some(d)) if !b.is_empty() && strict(b) => read.push((b.to_vec(), d)),
                    Ok(_) => {}
                    Err(e) => return Err(e),
                }
                Ok(())
            },
        );
        // What we read, the zstd program reads the same (all at once, as
        // frames in a row, then one by one to name a culprit).
        let all: Vec<u8> = read.iter().flat_map(|(z, _)| z.clone()).collect();
        let want: Vec<u8> = read.iter().flat_map(|(_, d)| d.clone()).collect();
        if let Some(got) = zstd_d(&all)
            && got != (true, want)
        {
            for (z, d) in &read {
                assert_eq!(
                    zstd_d(z),
                    Some((true, d.clone())),
                    "zstd -d reads {z:?} otherwise"
                );
            }
            panic!("zstd -d reads the {} cases read otherwise", read.len());
        }
    }
}
