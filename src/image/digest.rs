//! sha256 digests, as image layers and configs are named ("sha256:<hex>").

use super::tar::Source;
use crate::sys::Errno;
use alloc::string::String;
use alloc::vec;
use sha2::Digest as _;

pub struct Sha256(sha2::Sha256);

impl Default for Sha256 {
    fn default() -> Self {
        Sha256(sha2::Sha256::new())
    }
}

impl Sha256 {
    pub fn update(&mut self, b: &[u8]) {
        self.0.update(b);
    }
    /// The lowercase hex digest.
    pub fn hex(self) -> String {
        crate::rt::hex(&self.0.finalize())
    }
}

/// `sha256:<hex>` of `b`.
pub fn of(b: &[u8]) -> String {
    let mut h = Sha256::default();
    h.update(b);
    alloc::format!("sha256:{}", h.hex())
}

/// A `Source` that hashes and counts every byte read through it. One
/// pass gives a layer's blob digest and its diff_id:
/// `Hashing(gunzip(Hashing(file)))`, each drained at the end.
pub struct Hashing<'a> {
    src: &'a mut dyn Source,
    hash: Sha256,
    count: u64,
}

impl<'a> Hashing<'a> {
    pub fn new(src: &'a mut dyn Source) -> Hashing<'a> {
        Hashing {
            src,
            hash: Sha256::default(),
            count: 0,
        }
    }

    /// Bytes read through so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Read the rest of the stream: a blob's digest covers what follows
    /// a tar's end blocks too. Returns how many bytes that was.
    pub fn drain(&mut self) -> core::result::Result<u64, Errno> {
        let mut buf = vec![0u8; 64 * 1024];
        let mut n = 0u64;
        loop {
            match self.read(&mut buf) {
                Ok(0) => return Ok(n),
                Ok(k) => n += k as u64,
                Err(Errno::EINTR) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The lowercase hex sha256 and the byte count of what was read.
    pub fn finish(self) -> (String, u64) {
        (self.hash.hex(), self.count)
    }
}

impl Source for Hashing<'_> {
    fn read(&mut self, buf: &mut [u8]) -> core::result::Result<usize, Errno> {
        let n = self.src.read(buf)?.min(buf.len());
        self.hash.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashing_counts_and_drains() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut src: &[u8] = &data;
        let mut h = Hashing::new(&mut src);
        let mut buf = [0u8; 1000];
        assert_eq!(h.read(&mut buf), Ok(1000));
        assert_eq!(h.count(), 1000);
        assert_eq!(h.drain(), Ok(199_000));
        assert_eq!(h.drain(), Ok(0));
        let (hex, n) = h.finish();
        assert_eq!(n, 200_000);
        assert_eq!(format!("sha256:{}", hex), of(&data));
    }

    #[test]
    fn known_vectors() {
        assert_eq!(
            super::of(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            super::of(b"abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
