//! Files and directories for the state store: atomic writes, directory
//! listing, flock (removal of whole trees is in tree.rs).

use super::fd::{self, Fd};
use super::{Errno, Result, Sysno};
use alloc::ffi::CString;
use alloc::string::String;
use alloc::vec::Vec;
use core::ffi::CStr;
use syscalls::syscall;

/// `unlinkat(dirfd, path, flags)` — unlink(2); AT_REMOVEDIR for directories.
pub fn unlinkat(dirfd: i32, path: &CStr, flags: i32) -> Result<()> {
    // SAFETY: path is NUL-terminated.
    unsafe { syscall!(Sysno::unlinkat, dirfd, path.as_ptr(), flags) }.map(drop)
}

/// `renameat(olddirfd, old, newdirfd, new)` — rename(2): atomic replace.
pub fn renameat(olddir: i32, old: &CStr, newdir: i32, new: &CStr) -> Result<()> {
    // SAFETY: both paths are NUL-terminated.
    unsafe { syscall!(Sysno::renameat, olddir, old.as_ptr(), newdir, new.as_ptr()) }.map(drop)
}

/// `renameat2(olddirfd, old, newdirfd, new, flags)` — rename(2) with
/// RENAME_NOREPLACE (EEXIST rather than replacing) or RENAME_EXCHANGE.
pub fn renameat2(olddir: i32, old: &CStr, newdir: i32, new: &CStr, flags: u32) -> Result<()> {
    // SAFETY: both paths are NUL-terminated.
    unsafe {
        syscall!(
            Sysno::renameat2,
            olddir,
            old.as_ptr(),
            newdir,
            new.as_ptr(),
            flags
        )
    }
    .map(drop)
}

/// `fsync(fd)` — fsync(2).
pub fn fsync(fd: i32) -> Result<()> {
    // SAFETY: no pointers.
    unsafe { syscall!(Sysno::fsync, fd) }.map(drop)
}

/// `flock(fd, op)` — flock(2), retried on EINTR.
pub fn flock(fd: i32, op: i32) -> Result<()> {
    loop {
        // SAFETY: no pointers.
        match unsafe { syscall!(Sysno::flock, fd, op) } {
            Err(Errno::EINTR) => continue,
            r => return r.map(drop),
        }
    }
}

/// `readlinkat(dirfd, path, buf, len)` — readlink(2).
pub fn readlinkat(dirfd: i32, path: &CStr) -> Result<Vec<u8>> {
    let mut buf = alloc::vec![0u8; 4096];
    // SAFETY: buf is valid for its length.
    let n = unsafe {
        syscall!(
            Sysno::readlinkat,
            dirfd,
            path.as_ptr(),
            buf.as_mut_ptr(),
            buf.len()
        )
    }?;
    buf.truncate(n);
    Ok(buf)
}

/// Read all of an open file.
pub fn read_fd(f: &Fd) -> Result<Vec<u8>> {
    read_fd_max(f, usize::MAX)
}

/// Read all of an open file, refused (EFBIG) past `max` bytes: for a
/// file someone else can grow while it is read (a container's own).
pub fn read_fd_max(f: &Fd, max: usize) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match fd::read(f.raw(), &mut buf)? {
            0 => return Ok(out),
            n if out.len() + n > max => return Err(super::Errno::EFBIG),
            n => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// Read a whole file by path.
pub fn read(path: &CStr) -> Result<Vec<u8>> {
    read_fd(&fd::open(path, libc::O_RDONLY, 0)?)
}

/// Write `data` to `dir/name` atomically: a temp file in the same
/// directory, renamed over the old one. Readers see the old or the new
/// content, never a torn one, even if pocket is killed midway. `durable`
/// adds an fsync before the rename, for what must also survive a power
/// loss.
pub fn write_atomic(dir: &CStr, name: &str, data: &[u8], durable: bool) -> Result<()> {
    let tmp = cs(&alloc::format!(".{name}.tmp{}", super::proc::getpid()))?;
    let name = cs(name)?;
    let d = fd::open(dir, libc::O_PATH | libc::O_DIRECTORY, 0)?;
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_CLOEXEC | libc::O_NOFOLLOW;
    let f = fd::openat(d.raw(), &tmp, flags, 0o600)?;
    let r =
        fd::write_all(f.raw(), data).and_then(|_| if durable { fsync(f.raw()) } else { Ok(()) });
    drop(f);
    if let Err(e) = r.and_then(|_| renameat(d.raw(), &tmp, d.raw(), &name)) {
        let _ = unlinkat(d.raw(), &tmp, 0);
        return Err(e);
    }
    Ok(())
}

/// Create `dir/name` (which must not exist) with `mode` holding `data`;
/// fsync it if `durable`.
pub fn write_new(dir: &CStr, name: &str, data: &[u8], mode: u32, durable: bool) -> Result<()> {
    write_new_as(dir, name, data, mode, durable, false)
}

/// `write_new` with `mode` exactly, whatever the caller's umask (root's
/// 077 would make a container's /etc/hosts unreadable to its users).
pub fn write_new_exact(dir: &CStr, name: &str, data: &[u8], mode: u32) -> Result<()> {
    write_new_as(dir, name, data, mode, false, true)
}

fn write_new_as(
    dir: &CStr,
    name: &str,
    data: &[u8],
    mode: u32,
    durable: bool,
    exact: bool,
) -> Result<()> {
    let d = fd::open(dir, libc::O_PATH | libc::O_DIRECTORY, 0)?;
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_CLOEXEC | libc::O_NOFOLLOW;
    let f = fd::openat(d.raw(), &cs(name)?, flags, mode)?;
    if exact {
        super::file::fchmod(f.raw(), mode)?;
    }
    fd::write_all(f.raw(), data)?;
    if durable {
        fsync(f.raw())?;
    }
    Ok(())
}

/// `mkdir(path, mode)`; an existing directory is fine.
pub fn mkdir(path: &CStr, mode: u32) -> Result<()> {
    match super::mount::mkdirat(libc::AT_FDCWD, path, mode) {
        Err(Errno::EEXIST) => Ok(()),
        r => r,
    }
}

/// Create `path` and its parents.
pub fn mkdir_all(path: &str, mode: u32) -> Result<()> {
    let mut at = 0;
    while let Some(i) = path[at + 1..].find('/').map(|i| i + at + 1) {
        mkdir(&cs(&path[..i])?, mode)?;
        at = i;
    }
    mkdir(&cs(path)?, mode)
}

/// `realpath(path)` — realpath(3) (musl's): the absolute path with every
/// symlink, `.` and `..` resolved.
pub fn realpath(path: &CStr) -> Result<Vec<u8>> {
    let mut buf = [0u8; libc::PATH_MAX as usize];
    // SAFETY: buf has PATH_MAX bytes as realpath(3) requires.
    let p = unsafe { libc::realpath(path.as_ptr(), buf.as_mut_ptr() as *mut _) };
    if p.is_null() {
        // SAFETY: musl's errno location is valid in this (only) thread.
        return Err(Errno::new(unsafe { *libc::__errno_location() }));
    }
    let n = buf.iter().position(|&c| c == 0).unwrap_or(0);
    Ok(buf[..n].to_vec())
}

/// A directory only its owner may enter: made 0700 if missing (parents
/// too), narrowed to 0700 if it exists with more. Under such a directory
/// nothing a container made (a setuid-root file in its upper dir, a
/// layer, a volume) can be reached, let alone run, by other host users.
pub fn mkdir_private(path: &str) -> Result<()> {
    let c = cs(path)?;
    if mkdir(&c, 0o700).is_err() {
        mkdir_all(path, 0o700)?;
    }
    let st = fd::fstatat(libc::AT_FDCWD, &c, 0)?;
    if st.st_mode & 0o077 != 0 {
        super::mount::fchmodat(libc::AT_FDCWD, &c, st.st_mode & 0o7700)?;
    }
    Ok(())
}

fn cs(s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Errno::EINVAL)
}

/// One directory entry: name and d_type (DT_DIR, DT_LNK, ...).
pub struct Entry {
    pub name: String,
    pub kind: u8,
}

/// `getdents64(fd, buf, len)` — getdents64(2): raw `linux_dirent64`
/// records, 0 at the end (`each_entry` parses them).
pub fn getdents64(fd: i32, buf: &mut [u8]) -> Result<usize> {
    // SAFETY: buf is valid for writes of its length.
    unsafe { syscall!(Sysno::getdents64, fd, buf.as_mut_ptr(), buf.len()) }
}

/// Call `f` with the name and d_type (DT_DIR, DT_LNK, DT_UNKNOWN...) of
/// each entry of the directory open on `dir`, without "." and "..", as
/// the raw bytes the kernel gives (any name but NUL and '/' is possible
/// in a container's files). Entries may be unlinked from inside `f`:
/// getdents64 goes on from where it was.
pub fn each_entry(dir: &Fd, mut f: impl FnMut(&CStr, u8) -> Result<()>) -> Result<()> {
    let mut buf = alloc::vec![0u8; 16384];
    loop {
        let n = getdents64(dir.raw(), &mut buf)?;
        if n == 0 {
            return Ok(());
        }
        let mut off = 0;
        // struct linux_dirent64: ino u64, off i64, reclen u16, type u8, name.
        while off + 19 <= n {
            let reclen = u16::from_ne_bytes([buf[off + 16], buf[off + 17]]) as usize;
            if reclen < 19 || off + reclen > n {
                break;
            }
            let kind = buf[off + 18];
            if let Ok(name) = CStr::from_bytes_until_nul(&buf[off + 19..off + reclen]) {
                let b = name.to_bytes();
                if !b.is_empty() && b != b"." && b != b".." {
                    f(name, kind)?;
                }
            }
            off += reclen;
        }
    }
}

/// List a directory (without . and ..). Names that are not UTF-8 are
/// skipped: pocket never creates such names itself in the directories
/// it lists this way (its own state).
pub fn list_dir(dir: &Fd) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    each_entry(dir, |name, kind| {
        if let Ok(s) = name.to_str() {
            out.push(Entry {
                name: String::from(s),
                kind,
            });
        }
        Ok(())
    })?;
    Ok(out)
}

pub use super::tree::remove_tree;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_fd_max_refuses_what_grew_past_the_bound() {
        let p = std::env::temp_dir().join(format!("pocket-readmax-{}", std::process::id()));
        std::fs::write(&p, vec![b'x'; 20_000]).unwrap();
        let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
        let f = || fd::open(&c, libc::O_RDONLY, 0).unwrap();
        assert_eq!(read_fd_max(&f(), 20_000).unwrap().len(), 20_000);
        assert_eq!(read_fd_max(&f(), 19_999), Err(crate::sys::Errno::EFBIG));
        assert_eq!(read_fd(&f()).unwrap().len(), 20_000);
        std::fs::remove_file(&p).unwrap();
    }
}
