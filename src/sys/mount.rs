//! Mounts: mount(2), the new mount API (fsopen/fsmount/move_mount),
//! pivot_root(2), chroot(2) and the *at(2) calls that build a /dev.

use super::fd::Fd;
use super::{Result, Sysno};
use core::ffi::CStr;
use core::ptr::null;
use linux_raw_sys::general as k;
use syscalls::syscall;

fn opt(s: Option<&CStr>) -> *const core::ffi::c_char {
    s.map_or(null(), |s| s.as_ptr())
}

/// `mount(src, target, fstype, flags, data)` — mount(2).
pub fn mount(
    src: Option<&CStr>,
    target: &CStr,
    fstype: Option<&CStr>,
    flags: u64,
    data: Option<&CStr>,
) -> Result<()> {
    // SAFETY: all pointers are NULL or NUL-terminated strings.
    unsafe {
        syscall!(
            Sysno::mount,
            opt(src),
            target.as_ptr(),
            opt(fstype),
            flags,
            opt(data)
        )
    }
    .map(drop)
}

/// `umount2(target, flags)` — umount(2).
pub fn umount2(target: &CStr, flags: i32) -> Result<()> {
    // SAFETY: target is NUL-terminated.
    unsafe { syscall!(Sysno::umount2, target.as_ptr(), flags) }.map(drop)
}

/// `pivot_root(new_root, put_old)` — pivot_root(2).
pub fn pivot_root(new: &CStr, old: &CStr) -> Result<()> {
    // SAFETY: both are NUL-terminated.
    unsafe { syscall!(Sysno::pivot_root, new.as_ptr(), old.as_ptr()) }.map(drop)
}

/// `chroot(path)` — chroot(2).
pub fn chroot(path: &CStr) -> Result<()> {
    // SAFETY: path is NUL-terminated.
    unsafe { syscall!(Sysno::chroot, path.as_ptr()) }.map(drop)
}

/// `fsopen(fstype, FSOPEN_CLOEXEC)` — fsopen(2): a filesystem context.
pub fn fsopen(fstype: &CStr) -> Result<Fd> {
    // SAFETY: fstype is NUL-terminated.
    let fd = unsafe { syscall!(Sysno::fsopen, fstype.as_ptr(), k::FSOPEN_CLOEXEC) }?;
    Ok(Fd::from_raw(fd as i32))
}

/// `fsconfig(fd, FSCONFIG_SET_STRING, key, value, 0)` — fsconfig(2).
pub fn fsconfig_string(fs: &Fd, key: &CStr, value: &CStr) -> Result<()> {
    let cmd = k::fsconfig_command::FSCONFIG_SET_STRING as u32;
    // SAFETY: key and value are NUL-terminated.
    unsafe {
        syscall!(
            Sysno::fsconfig,
            fs.raw(),
            cmd,
            key.as_ptr(),
            value.as_ptr(),
            0
        )
    }
    .map(drop)
}

/// `fsconfig(fd, FSCONFIG_SET_FD, key, NULL, value)` — fsconfig(2):
/// a parameter given as an open fd (overlayfs' `lowerdir+`, 6.13+).
pub fn fsconfig_fd(fs: &Fd, key: &CStr, value: &Fd) -> Result<()> {
    let cmd = k::fsconfig_command::FSCONFIG_SET_FD as u32;
    // SAFETY: key is NUL-terminated.
    unsafe { syscall!(Sysno::fsconfig, fs.raw(), cmd, key.as_ptr(), 0, value.raw()) }.map(drop)
}

/// `fsconfig(fd, FSCONFIG_SET_FLAG, key, NULL, 0)` — fsconfig(2).
pub fn fsconfig_flag(fs: &Fd, key: &CStr) -> Result<()> {
    let cmd = k::fsconfig_command::FSCONFIG_SET_FLAG as u32;
    // SAFETY: key is NUL-terminated.
    unsafe { syscall!(Sysno::fsconfig, fs.raw(), cmd, key.as_ptr(), 0, 0) }.map(drop)
}

/// `fsconfig(fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0)` — fsconfig(2).
pub fn fsconfig_create(fs: &Fd) -> Result<()> {
    let cmd = k::fsconfig_command::FSCONFIG_CMD_CREATE as u32;
    // SAFETY: no pointers.
    unsafe { syscall!(Sysno::fsconfig, fs.raw(), cmd, 0, 0, 0) }.map(drop)
}

/// `fsmount(fd, FSMOUNT_CLOEXEC, attrs)` — fsmount(2): a detached mount.
pub fn fsmount(fs: &Fd, attrs: u32) -> Result<Fd> {
    // SAFETY: no pointers.
    let fd = unsafe { syscall!(Sysno::fsmount, fs.raw(), k::FSMOUNT_CLOEXEC, attrs) }?;
    Ok(Fd::from_raw(fd as i32))
}

/// `move_mount(mnt, "", target, "", F_EMPTY_PATH|T_EMPTY_PATH)` —
/// move_mount(2): attach a detached mount onto the directory `target` is
/// open on. Mounting by fd means no path is looked up again, so nothing
/// can swap a symlink in between the check and the mount.
pub fn move_mount(mnt: &Fd, target: &Fd) -> Result<()> {
    let flags = k::MOVE_MOUNT_F_EMPTY_PATH | k::MOVE_MOUNT_T_EMPTY_PATH;
    let e = c"";
    // SAFETY: e is NUL-terminated.
    unsafe {
        syscall!(
            Sysno::move_mount,
            mnt.raw(),
            e.as_ptr(),
            target.raw(),
            e.as_ptr(),
            flags
        )
    }
    .map(drop)
}

/// move_mount(2) of the detached mount `mnt` onto `name` in directory
/// `dir` (the last component is not followed if a symlink).
pub fn move_mount_at(mnt: &Fd, dir: &Fd, name: &CStr) -> Result<()> {
    // SAFETY: both strings are NUL-terminated.
    unsafe {
        syscall!(
            Sysno::move_mount,
            mnt.raw(),
            c"".as_ptr(),
            dir.raw(),
            name.as_ptr(),
            k::MOVE_MOUNT_F_EMPTY_PATH
        )
    }
    .map(drop)
}

/// `mkdirat(dirfd, path, mode)` — mkdir(2).
pub fn mkdirat(dirfd: i32, path: &CStr, mode: u32) -> Result<()> {
    // SAFETY: path is NUL-terminated.
    unsafe { syscall!(Sysno::mkdirat, dirfd, path.as_ptr(), mode) }.map(drop)
}

/// `mknodat(dirfd, path, mode, dev)` — mknod(2).
pub fn mknodat(dirfd: i32, path: &CStr, mode: u32, major: u32, minor: u32) -> Result<()> {
    let dev = libc::makedev(major, minor);
    // SAFETY: path is NUL-terminated.
    unsafe { syscall!(Sysno::mknodat, dirfd, path.as_ptr(), mode, dev) }.map(drop)
}

/// `symlinkat(target, dirfd, path)` — symlink(2).
pub fn symlinkat(target: &CStr, dirfd: i32, path: &CStr) -> Result<()> {
    // SAFETY: both strings are NUL-terminated.
    unsafe { syscall!(Sysno::symlinkat, target.as_ptr(), dirfd, path.as_ptr()) }.map(drop)
}

/// `fchmodat(dirfd, path, mode, 0)` — chmod(2); mknod and mkdir are subject
/// to the umask, device nodes must end up with their exact mode.
pub fn fchmodat(dirfd: i32, path: &CStr, mode: u32) -> Result<()> {
    // SAFETY: path is NUL-terminated.
    unsafe { syscall!(Sysno::fchmodat, dirfd, path.as_ptr(), mode) }.map(drop)
}

/// `open_tree(fd, "", OPEN_TREE_CLONE|AT_RECURSIVE|AT_EMPTY_PATH)` —
/// open_tree(2): a detached copy of the mount tree at `fd` (a bind mount
/// waiting to be attached).
pub fn open_tree_clone(fd: &Fd) -> Result<Fd> {
    let flags = k::OPEN_TREE_CLONE
        | k::OPEN_TREE_CLOEXEC
        | libc::AT_RECURSIVE as u32
        | libc::AT_EMPTY_PATH as u32;
    // SAFETY: "" is NUL-terminated.
    let t = unsafe { syscall!(Sysno::open_tree, fd.raw(), c"".as_ptr(), flags) }?;
    Ok(Fd::from_raw(t as i32))
}

#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// `mount_setattr(fd, "", AT_EMPTY_PATH|AT_RECURSIVE, &attr, size)` —
/// mount_setattr(2): set MOUNT_ATTR_* bits on a whole (detached) tree.
pub fn mount_setattr(fd: &Fd, set: u32) -> Result<()> {
    setattr(fd, set, 0, 0)
}

/// `mount_setattr`, the tree also made private (MS_PRIVATE): a clone of
/// a shared mount (open_tree(2) of a host's systemd-shared cgroup or
/// volume) is in its peer group, and would carry what the container
/// mounts under it back to the host.
pub fn mount_setattr_private(fd: &Fd, set: u32) -> Result<()> {
    setattr(fd, set, 0, libc::MS_PRIVATE as u64)
}

/// mount_setattr(2) with MOUNT_ATTR_IDMAP: the (detached) mount shows
/// its files' owners through the maps of the user namespace `userns`
/// is open on (host root as that namespace's root...).
pub fn mount_setattr_idmap(fd: &Fd, userns: &Fd) -> Result<()> {
    setattr(fd, k::MOUNT_ATTR_IDMAP, userns.raw() as u64, 0)
}

fn setattr(fd: &Fd, set: u32, userns_fd: u64, propagation: u64) -> Result<()> {
    let a = MountAttr {
        attr_set: set as u64,
        attr_clr: 0,
        propagation,
        userns_fd,
    };
    let flags = libc::AT_EMPTY_PATH as u32 | libc::AT_RECURSIVE as u32;
    // SAFETY: "" is NUL-terminated; a is a valid mount_attr of the given size.
    unsafe {
        syscall!(
            Sysno::mount_setattr,
            fd.raw(),
            c"".as_ptr(),
            flags,
            &a as *const MountAttr,
            core::mem::size_of::<MountAttr>()
        )
    }
    .map(drop)
}

/// `open_tree(dirfd, path, flags)` — open_tree(2) with the caller's flags:
/// `OPEN_TREE_CLONE` (with `AT_RECURSIVE` or not) makes a detached bind
/// mount of `path`, ready for move_mount(2).
pub fn open_tree(dirfd: i32, path: &CStr, flags: u32) -> Result<Fd> {
    // SAFETY: path is NUL-terminated.
    let t = unsafe { syscall!(Sysno::open_tree, dirfd, path.as_ptr(), flags) }?;
    Ok(Fd::from_raw(t as i32))
}

/// A detached bind mount of `path` (the whole tree below it with
/// `recursive`), close-on-exec: open_tree(OPEN_TREE_CLONE).
pub fn bind_tree(path: &CStr, recursive: bool) -> Result<Fd> {
    let mut flags = k::OPEN_TREE_CLONE | k::OPEN_TREE_CLOEXEC;
    if recursive {
        flags |= libc::AT_RECURSIVE as u32;
    }
    open_tree(libc::AT_FDCWD, path, flags)
}

/// `fstatfs(fd, &buf)` — statfs(2): type, size and free blocks and
/// inodes of the filesystem holding `fd` (an O_PATH fd is enough).
pub fn fstatfs(fd: &Fd) -> Result<libc::statfs> {
    fstatfs_raw(fd.raw())
}

/// `fstatfs` of an fd not held as an `Fd` (stdio, in a child).
pub fn fstatfs_raw(fd: i32) -> Result<libc::statfs> {
    // SAFETY: a zeroed statfs is a valid value for a plain C struct.
    let mut st: libc::statfs = unsafe { core::mem::zeroed() };
    // SAFETY: st is valid for writing for the call.
    unsafe { syscall!(Sysno::fstatfs, fd, &mut st as *mut libc::statfs) }?;
    Ok(st)
}

/// The filesystem's magic number (`f_type`), to tell a procfs or sysfs
/// target from any other.
pub fn fstatfs_type(fd: &Fd) -> Result<i64> {
    Ok(fstatfs(fd)?.f_type as i64)
}
