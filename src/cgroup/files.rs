//! Reading and writing cgroup control files under a directory.

use crate::error::{Error, Result};
use crate::sys::{Errno, fd, fs};
use alloc::ffi::CString;
use alloc::format;
use alloc::string::String;

pub(super) fn path(dir: &str, name: &str) -> Result<CString> {
    CString::new(format!("{dir}/{name}")).map_err(|_| Error::bad("cgroup", dir, "bad path"))
}

/// Write `value` to `dir/name`; the error names the file.
pub fn write(dir: &str, name: &str, value: &str) -> Result<()> {
    let p = path(dir, name)?;
    let f = fd::open(&p, libc::O_WRONLY | libc::O_TRUNC, 0)
        .map_err(|e| Error::sys("write", format!("{dir}/{name}"), e))?;
    fd::write_all(f.raw(), value.as_bytes())
        .map_err(|e| Error::sys("write", format!("{dir}/{name} ({value})"), e))
}

/// The files v1 and v2 share by name and value: cpuset.cpus/mems and
/// pids.max ("max" for unlimited).
pub fn cpuset_and_pids(dir: &str, r: &super::Resources, cpuset: bool, pids: bool) -> Result<()> {
    if let (true, Some(c)) = (cpuset, &r.cpu) {
        if let Some(cpus) = &c.cpus {
            write(dir, "cpuset.cpus", cpus)?;
        }
        if let Some(mems) = &c.mems {
            write(dir, "cpuset.mems", mems)?;
        }
    }
    if let (true, Some(p)) = (pids, &r.pids) {
        let v = if p.limit > 0 {
            format!("{}", p.limit)
        } else {
            String::from("max")
        };
        write(dir, "pids.max", &v)?;
    }
    Ok(())
}

pub fn exists(dir: &str, name: &str) -> bool {
    path(dir, name)
        .map(|p| fd::access(&p, libc::F_OK).is_ok())
        .unwrap_or(false)
}

pub fn read(dir: &str, name: &str) -> Option<String> {
    let p = path(dir, name).ok()?;
    let b = fs::read(&p).ok()?;
    Some(String::from(String::from_utf8_lossy(&b).trim()))
}

/// A number from a file ("max" reads as None).
pub fn read_u64(dir: &str, name: &str) -> Option<u64> {
    read(dir, name)?.parse().ok()
}

/// `key value` lines (cpu.stat, memory.stat).
pub fn read_keyed(dir: &str, name: &str, key: &str) -> Option<u64> {
    let s = read(dir, name)?;
    s.lines().find_map(|l| {
        let mut p = l.split_whitespace();
        (p.next()? == key).then(|| p.next()?.parse().ok())?
    })
}

/// mkdir, the bare errno; an existing directory is fine (false).
pub fn mkdir_at(dir: &str) -> core::result::Result<bool, Errno> {
    let c = CString::new(dir).map_err(|_| Errno::EINVAL)?;
    match crate::sys::mount::mkdirat(libc::AT_FDCWD, &c, 0o755) {
        Ok(()) => Ok(true),
        Err(Errno::EEXIST) => Ok(false),
        Err(e) => Err(e),
    }
}

/// mkdir; an existing directory is fine.
pub fn mkdir(dir: &str) -> Result<bool> {
    mkdir_at(dir).map_err(|e| Error::sys("mkdir", dir, e))
}

/// One rmdir of `dir`, no retry: Ok if it is gone (or was).
pub fn rmdir_once(dir: &str) -> Result<()> {
    let c = CString::new(dir).map_err(|_| Error::bad("cgroup", dir, "bad path"))?;
    match fs::unlinkat(libc::AT_FDCWD, &c, libc::AT_REMOVEDIR) {
        Ok(()) | Err(Errno::ENOENT) => Ok(()),
        Err(e) => Err(Error::sys("rmdir", dir, e)),
    }
}

/// rmdir, retried while the last processes are still leaving (EBUSY).
pub fn rmdir(dir: &str) -> Result<()> {
    let c = CString::new(dir).map_err(|_| Error::bad("cgroup", dir, "bad path"))?;
    // Just after the last task exits the group may still read as busy for
    // a moment: retry quickly first, then more slowly (2 s in all).
    for i in 0..300 {
        match fs::unlinkat(libc::AT_FDCWD, &c, libc::AT_REMOVEDIR) {
            Ok(()) | Err(Errno::ENOENT) => return Ok(()),
            Err(Errno::EBUSY) => crate::sys::time::sleep_ms(if i < 100 { 1 } else { 10 }),
            Err(e) => return Err(Error::sys("rmdir", dir, e)),
        }
    }
    Err(Error::sys("rmdir", dir, Errno::EBUSY))
}
