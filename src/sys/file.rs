//! File attributes and links for extracting image layers: linkat,
//! fchownat, fchmod, utimensat, fsetxattr.

use super::{Result, Sysno};
use core::ffi::CStr;
use syscalls::syscall;

/// `linkat(olddirfd, old, newdirfd, new, flags)` — link(2). With flags 0 a
/// symlink at `old` is linked itself, never followed.
pub fn linkat(olddir: i32, old: &CStr, newdir: i32, new: &CStr, flags: i32) -> Result<()> {
    // SAFETY: both paths are NUL-terminated and outlive the call.
    unsafe {
        syscall!(
            Sysno::linkat,
            olddir,
            old.as_ptr(),
            newdir,
            new.as_ptr(),
            flags
        )
    }
    .map(drop)
}

/// `fchownat(dirfd, path, uid, gid, flags)` — chown(2); pass
/// AT_SYMLINK_NOFOLLOW to change a symlink itself.
pub fn fchownat(dirfd: i32, path: &CStr, uid: u32, gid: u32, flags: i32) -> Result<()> {
    // SAFETY: path is NUL-terminated.
    unsafe { syscall!(Sysno::fchownat, dirfd, path.as_ptr(), uid, gid, flags) }.map(drop)
}

/// `fchmod(fd, mode)` — chmod(2) on an open file.
pub fn fchmod(fd: i32, mode: u32) -> Result<()> {
    // SAFETY: no pointers.
    unsafe { syscall!(Sysno::fchmod, fd, mode) }.map(drop)
}

/// `utimensat(dirfd, path, times, flags)` — utimensat(2): `times` is
/// (atime, mtime) as (seconds, nanoseconds); AT_SYMLINK_NOFOLLOW sets a
/// symlink's own times.
pub fn utimensat(dirfd: i32, path: &CStr, times: [(i64, u32); 2], flags: i32) -> Result<()> {
    let ts = [
        libc::timespec {
            tv_sec: times[0].0 as _,
            tv_nsec: times[0].1 as _,
        },
        libc::timespec {
            tv_sec: times[1].0 as _,
            tv_nsec: times[1].1 as _,
        },
    ];
    // SAFETY: path is NUL-terminated; ts is an array of two timespecs.
    unsafe { syscall!(Sysno::utimensat, dirfd, path.as_ptr(), ts.as_ptr(), flags) }.map(drop)
}

/// `fsetxattr(fd, name, value, size, 0)` — setxattr(2) on an open file
/// (not an O_PATH one: the kernel refuses those with EBADF).
pub fn fsetxattr(fd: i32, name: &CStr, value: &[u8]) -> Result<()> {
    // SAFETY: name is NUL-terminated; value is valid for its length.
    unsafe {
        syscall!(
            Sysno::fsetxattr,
            fd,
            name.as_ptr(),
            value.as_ptr(),
            value.len(),
            0
        )
    }
    .map(drop)
}

/// `fgetxattr(fd, name, buf, len)` — getxattr(2): the value's length.
pub fn fgetxattr(fd: i32, name: &CStr, buf: &mut [u8]) -> Result<usize> {
    // SAFETY: name is NUL-terminated; buf is valid for its length.
    unsafe {
        syscall!(
            Sysno::fgetxattr,
            fd,
            name.as_ptr(),
            buf.as_mut_ptr(),
            buf.len()
        )
    }
}

/// `flistxattr(fd, buf, len)` — listxattr(2): NUL-separated names; with an
/// empty `buf`, the size they need.
pub fn flistxattr(fd: i32, buf: &mut [u8]) -> Result<usize> {
    // SAFETY: buf is valid for writes of its length (NULL-safe when 0).
    unsafe { syscall!(Sysno::flistxattr, fd, buf.as_mut_ptr(), buf.len()) }
}

/// `statx(dirfd, path, flags, mask, &stx)` — statx(2): what stat(2) gives
/// plus the mount id (STATX_MNT_ID), to tell a mount point from a
/// directory of the same filesystem.
pub fn statx(
    dirfd: i32,
    path: &CStr,
    flags: i32,
    mask: u32,
) -> Result<linux_raw_sys::general::statx> {
    // SAFETY: a zeroed statx is a valid value for a plain C struct.
    let mut st: linux_raw_sys::general::statx = unsafe { core::mem::zeroed() };
    // SAFETY: path is NUL-terminated; st is valid for writes for the call.
    unsafe {
        syscall!(
            Sysno::statx,
            dirfd,
            path.as_ptr(),
            flags,
            mask,
            &mut st as *mut linux_raw_sys::general::statx
        )
    }?;
    Ok(st)
}
