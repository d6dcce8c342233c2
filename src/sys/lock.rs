//! flock(2) locks on files and directories, held while the value lives.

use super::fd::{self, Fd};
use super::{Result, fs};
use core::ffi::CStr;

/// A held flock(2); released when dropped (the fd closes).
pub struct Lock(#[allow(dead_code)] Fd);

impl Lock {
    /// Take `flock(fd, LOCK_EX)` on an open file and keep it.
    pub fn on(f: Fd) -> Result<Lock> {
        fs::flock(f.raw(), libc::LOCK_EX)?;
        Ok(Lock(f))
    }

    /// Open (creating it, 0600) the lock file `path` and take it.
    pub fn file(path: &CStr) -> Result<Lock> {
        let f = fd::open(path, libc::O_RDWR | libc::O_CREAT | libc::O_CLOEXEC, 0o600)?;
        Lock::on(f)
    }

    /// `file`, shared (`LOCK_SH`): any number of holders at once.
    pub fn shared(path: &CStr) -> Result<Lock> {
        let f = fd::open(path, libc::O_RDWR | libc::O_CREAT | libc::O_CLOEXEC, 0o600)?;
        fs::flock(f.raw(), libc::LOCK_SH)?;
        Ok(Lock(f))
    }

    /// `file` if no one holds it (`LOCK_EX | LOCK_NB`), else None.
    pub fn try_file(path: &CStr) -> Result<Option<Lock>> {
        let f = fd::open(path, libc::O_RDWR | libc::O_CREAT | libc::O_CLOEXEC, 0o600)?;
        match fs::flock(f.raw(), libc::LOCK_EX | libc::LOCK_NB) {
            Ok(()) => Ok(Some(Lock(f))),
            Err(super::Errno::EAGAIN) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
