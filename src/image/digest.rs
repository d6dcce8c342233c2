//! sha256 digests, as image layers and configs are named ("sha256:<hex>").

use alloc::string::String;
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

#[cfg(test)]
mod tests {
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
