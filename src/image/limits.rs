//! What one layer may take from the host: its size once extracted, its
//! number of entries, and no more than the free space and inodes of the
//! store's filesystem.
//!
//! A hostile image fills a disk cheaply: a tar header declaring a 20 GiB
//! file of zeros compresses with gzip to about 20 MB (and the extractor
//! writes every byte), a million empty files to a few hundred KB. docker
//! itself bounds neither; the defaults here are above what real images
//! carry (the largest layers of CUDA and ML images are tens of GiB and a
//! few hundred thousand files) and below what hurts a host, and can be
//! raised or lifted (0) per command or through the environment.
//!
//! Checks run on the declared sizes, before anything of an entry is
//! written: a 20 GiB file on a disk with 10 GiB free is refused at its
//! header, not after filling the disk. Exceeding any bound fails the
//! extraction, and the caller removes the layer's temporary directory.

use crate::error::{Error, Result};
use crate::sys::fd::Fd;
use crate::sys::mount;
use alloc::format;
use alloc::string::String;

/// Bounds for one layer; `u64::MAX` is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of regular file data (as declared: a sparse file counts at
    /// its full size, as its zeros would be written).
    pub size: u64,
    /// Entries of every kind: files, directories, links, nodes, whiteouts.
    pub entries: u64,
}

impl Limits {
    pub const NONE: Limits = Limits {
        size: u64::MAX,
        entries: u64::MAX,
    };
    /// 100 GiB: real layers reach tens of GiB (ECR takes layers up to
    /// 52,000 MiB, compressed); 1,000,000 entries: large real layers
    /// (node_modules trees, TeX Live) hold a few hundred thousand.
    pub const DEFAULT: Limits = Limits {
        size: 100 << 30,
        entries: 1_000_000,
    };
}

/// How often the filesystem's free space is looked at again: other
/// writers and metadata (inodes, directory blocks) use space too.
const RECHECK_ENTRIES: u64 = 1024;
const RECHECK_BYTES: u64 = 64 << 20;

/// What one extraction has used, against its limits and the free space
/// of the filesystem holding `dest`.
pub struct Budget<'a> {
    lim: Limits,
    dest: &'a Fd,
    entries: u64,
    bytes: u64,
    /// Free bytes and inodes as last seen, less what was used since
    /// (`u64::MAX`: the filesystem does not say, as ramfs).
    free: u64,
    inodes: u64,
    /// Entries and bytes since the last look (None: never looked).
    since: Option<(u64, u64)>,
}

/// `n` bytes for a message: whole KiB/MiB/GiB/TiB where exact.
pub fn iec(n: u64) -> String {
    for (shift, u) in [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")] {
        if n != 0 && n.trailing_zeros() >= shift {
            return format!("{}{u}", n >> shift);
        }
    }
    format!("{n} bytes")
}

fn shown(p: &[u8]) -> String {
    String::from_utf8_lossy(p).into_owned()
}

impl<'a> Budget<'a> {
    pub fn new(lim: Limits, dest: &'a Fd) -> Budget<'a> {
        Budget {
            lim,
            dest,
            entries: 0,
            bytes: 0,
            free: u64::MAX,
            inodes: u64::MAX,
            since: None,
        }
    }

    fn look(&mut self) -> Result<()> {
        let st = mount::fstatfs(self.dest).map_err(|e| Error::sys("statfs", "layer", e))?;
        let unit = if st.f_frsize > 0 {
            st.f_frsize
        } else {
            st.f_bsize
        } as u64;
        // f_bavail, not f_bfree: the blocks ext4 keeps for root (5% by
        // default) stay free for the host's own services.
        self.free = match st.f_blocks {
            0 => u64::MAX,
            _ => (st.f_bavail as u64).saturating_mul(unit),
        };
        self.inodes = match st.f_files {
            0 => u64::MAX,
            _ => st.f_ffree as u64,
        };
        self.since = Some((0, 0));
        Ok(())
    }

    /// One more entry (any kind), before it is made.
    pub fn entry(&mut self, path: &[u8]) -> Result<()> {
        self.entries += 1;
        if self.entries > self.lim.entries {
            return Err(Error::bad(
                "extract",
                shown(path),
                format!(
                    "layer over its limit of {} entries: raise it with --max-layer-entries \
                     or POCKET_MAX_LAYER_ENTRIES",
                    self.lim.entries
                ),
            ));
        }
        match self.since {
            Some((n, _)) if n < RECHECK_ENTRIES => {}
            _ => self.look()?,
        }
        if self.inodes == 0 {
            self.look()?;
            if self.inodes == 0 {
                return Err(Error::bad(
                    "extract",
                    shown(path),
                    "no space left on device: the store's filesystem has no free inodes",
                ));
            }
        }
        if self.inodes != u64::MAX {
            self.inodes -= 1;
        }
        if let Some((n, _)) = &mut self.since {
            *n += 1;
        }
        Ok(())
    }

    /// A regular file of `size` bytes, before it is created.
    pub fn file(&mut self, size: u64, path: &[u8]) -> Result<()> {
        self.bytes = self.bytes.saturating_add(size);
        if self.bytes > self.lim.size {
            return Err(Error::bad(
                "extract",
                shown(path),
                format!(
                    "layer over its size limit of {}: raise it with --max-layer-size \
                     or POCKET_MAX_LAYER_SIZE",
                    iec(self.lim.size)
                ),
            ));
        }
        let stale = self.since.is_none_or(|(_, b)| b >= RECHECK_BYTES);
        if stale || size > self.free {
            self.look()?;
        }
        if size > self.free {
            return Err(Error::bad(
                "extract",
                shown(path),
                format!(
                    "no space left on device: the file needs {size} bytes, the store's \
                     filesystem has {} free",
                    self.free
                ),
            ));
        }
        if self.free != u64::MAX {
            self.free -= size;
        }
        if let Some((_, b)) = &mut self.since {
            *b += size;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::fd;

    fn dir() -> Fd {
        fd::open(c"/tmp", libc::O_PATH | libc::O_DIRECTORY, 0).unwrap()
    }

    #[test]
    fn sizes_for_messages() {
        assert_eq!(iec(100 << 30), "100GiB");
        assert_eq!(iec(64 << 20), "64MiB");
        assert_eq!(iec(1536), "1536 bytes");
        assert_eq!(iec(3 << 10), "3KiB");
        assert_eq!(iec(1000), "1000 bytes");
        assert_eq!(iec(0), "0 bytes");
    }

    #[test]
    fn entries_are_counted_to_the_limit() {
        let d = dir();
        let mut b = Budget::new(
            Limits {
                entries: 3,
                ..Limits::NONE
            },
            &d,
        );
        for p in ["a", "b", "c"] {
            b.entry(p.as_bytes()).unwrap();
        }
        let e = b.entry(b"d").unwrap_err().to_string();
        assert!(
            e.starts_with("extract d: layer over its limit of 3 entries"),
            "{e}"
        );
    }

    #[test]
    fn declared_sizes_add_up_to_the_limit() {
        let d = dir();
        let mut b = Budget::new(
            Limits {
                size: 1 << 20,
                ..Limits::NONE
            },
            &d,
        );
        b.file(512 << 10, b"a").unwrap();
        b.file(512 << 10, b"b").unwrap();
        let e = b.file(1, b"c").unwrap_err().to_string();
        assert!(e.contains("layer over its size limit of 1MiB"), "{e}");
    }

    #[test]
    fn a_file_larger_than_the_free_space_is_refused() {
        let d = dir();
        let mut b = Budget::new(Limits::NONE, &d);
        let e = b.file(u64::MAX / 2, b"huge").unwrap_err().to_string();
        assert!(
            e.starts_with("extract huge: no space left on device"),
            "{e}"
        );
    }
}
