//! The running binary where nothing can write through it, so pocket can
//! re-execute itself from there (runc's answer to CVE-2019-5736): a view
//! of it through a private read-only overlayfs, or else a sealed memfd
//! copy (`memfd_create`, `sendfile`, `F_ADD_SEALS`), and `execveat`.

use super::fd::{self, Fd};
use super::{Errno, Result, Sysno};
use alloc::ffi::CString;
use alloc::vec::Vec;
use core::ffi::{CStr, c_char};
use syscalls::syscall;

/// `MFD_EXEC` (Linux 6.3): executable memfd even where
/// vm.memfd_noexec asks for MFD_NOEXEC_SEAL by default.
const MFD_EXEC: u32 = 0x10;
const SEALS: i32 = libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;

/// `memfd_create(name, flags)` — memfd_create(2).
pub fn memfd_create(name: &CStr, flags: u32) -> Result<Fd> {
    // SAFETY: name is NUL-terminated.
    unsafe { syscall!(Sysno::memfd_create, name.as_ptr(), flags) }.map(|f| Fd::from_raw(f as i32))
}

/// `sendfile(out, in, NULL, count)` — sendfile(2): bytes copied.
pub fn sendfile(out: i32, input: i32, count: usize) -> Result<usize> {
    // SAFETY: no pointers (the offset is NULL: the file position is used).
    unsafe { syscall!(Sysno::sendfile, out, input, 0usize, count) }
}

/// `fcntl(fd, F_GET_SEALS)` — the seals of a memfd (EINVAL for other files).
pub fn get_seals(fd: i32) -> Result<i32> {
    // SAFETY: no pointers.
    unsafe { syscall!(Sysno::fcntl, fd, libc::F_GET_SEALS) }.map(|s| s as i32)
}

/// `fcntl(fd, F_ADD_SEALS, seals)`.
pub fn add_seals(fd: i32, seals: i32) -> Result<()> {
    // SAFETY: no pointers.
    unsafe { syscall!(Sysno::fcntl, fd, libc::F_ADD_SEALS, seals) }.map(drop)
}

/// `execveat(fd, "", argv, envp, AT_EMPTY_PATH)` — execveat(2) of an open
/// file; returns only on failure.
pub fn execveat_fd(f: &Fd, argv: *const *const c_char, envp: *const *const c_char) -> Errno {
    execveat_raw(f.raw(), argv, envp)
}

/// `execveat_fd` by number (a child that holds no `Fd`s).
pub fn execveat_raw(fd: i32, argv: *const *const c_char, envp: *const *const c_char) -> Errno {
    // SAFETY: argv/envp are NULL-terminated arrays of C strings (the
    // process's own from crt1, or tables the caller built).
    match unsafe {
        syscall!(
            Sysno::execveat,
            fd,
            c"".as_ptr(),
            argv,
            envp,
            libc::AT_EMPTY_PATH
        )
    } {
        Err(e) => e,
        Ok(_) => Errno::EINVAL,
    }
}

const OVERLAYFS_SUPER_MAGIC: i64 = 0x794c_7630;

/// True if this process runs from a memfd sealed against writes, or from
/// a read-only overlayfs: an open of /proc/PID/exe for writing goes
/// through that mount and meets EROFS, and an overlay inode has no way
/// back to the file beneath it (unlike a read-only bind mount).
pub fn running_sealed() -> bool {
    sealed_self().is_ok()
}

/// This process's binary, opened, if it is sealed (ESTALE if not): to
/// execute again as is (a health check's `pocket exec` from a monitor).
pub fn sealed_self() -> Result<Fd> {
    let f = fd::open(c"/proc/self/exe", libc::O_RDONLY | libc::O_CLOEXEC, 0)?;
    if !sealed(&f) {
        return Err(Errno::ESTALE);
    }
    Ok(f)
}

/// An open file nothing can write through: a memfd sealed against
/// writes, or a file of a read-only overlayfs.
fn sealed(f: &Fd) -> bool {
    if get_seals(f.raw()).is_ok_and(|s| s & libc::F_SEAL_WRITE != 0) {
        return true;
    }
    super::mount::fstatfs(f).is_ok_and(|s| {
        s.f_type as i64 == OVERLAYFS_SUPER_MAGIC && s.f_flags as u64 & libc::ST_RDONLY != 0
    })
}

/// The binary that process `pid` (started at `start`, field 22 of
/// /proc/PID/stat) runs, if it is a sealed view of the very file this
/// process runs: a detached container's monitor runs from one as long as
/// it lives, and `exec` executes it instead of making a view of its own
/// (~0.15-0.2 ms: the mount, and its teardown when the last process
/// using it exits). ESTALE for anything else.
///
/// That process itself, not whatever holds its number by now (another
/// user's program there would be run by root): its pidfd, its start
/// time, then its exe opened, then all its uids ours (a record kept on a
/// disk across a reboot names a pid and start time some other process
/// may have by then), then the pidfd still not ended, so the exe was
/// opened while the number was still that process's. And the same file:
/// sealed, with our inode number, size and times, which a view passes
/// through from the file beneath (only the device is the overlay's);
/// the old binary after an upgrade is another inode.
pub fn sealed_twin(pid: i32, start: u64) -> Result<Fd> {
    let pidfd = super::proc::pidfd_open(pid)?;
    if !super::procfs::alive(pid, start) {
        return Err(Errno::ESTALE);
    }
    let path = alloc::format!("/proc/{pid}/exe");
    let twin = fd::open(
        &cstring(path.as_bytes())?,
        libc::O_RDONLY | libc::O_CLOEXEC,
        0,
    )?;
    let me = super::proc::geteuid();
    if super::procfs::uids(pid) != Some([me; 4]) || super::procfs::wait_pidfd(&pidfd, 0) {
        return Err(Errno::ESTALE);
    }
    let ours = fd::fstatat(libc::AT_FDCWD, c"/proc/self/exe", 0)?;
    let it = fd::fstatat(twin.raw(), c"", libc::AT_EMPTY_PATH)?;
    if !sealed(&twin) || identity(&ours) != identity(&it) {
        return Err(Errno::ESTALE);
    }
    Ok(twin)
}

/// The running binary, opened (O_PATH) through a private, detached,
/// read-only overlayfs whose top layer is the binary's own directory:
/// no copy, the page cache is shared, and nothing can write through it.
/// Overlayfs needs two lower layers to run without an upper one; `empty`
/// is the second (an empty directory of pocket's own). Fails when the
/// binary was replaced or removed since it started (the name now means
/// another file), or the kernel or filesystem cannot do it: the caller
/// then copies into a memfd instead.
pub fn overlay_view(spare: &dyn Fn() -> Option<CString>) -> Result<Fd> {
    let exe = fd::open(c"/proc/self/exe", libc::O_PATH | libc::O_CLOEXEC, 0)?;
    let me = fd::fstatat(exe.raw(), c"", libc::AT_EMPTY_PATH)?;
    let path = super::fs::readlinkat(libc::AT_FDCWD, c"/proc/self/exe")?;
    let slash = path.iter().rposition(|&b| b == b'/').ok_or(Errno::ENOENT)?;
    let (dir, name) = (&path[..slash.max(1)], &path[slash + 1..]);
    let there = fd::fstatat(libc::AT_FDCWD, &cstring(&path)?, libc::AT_SYMLINK_NOFOLLOW)?;
    if (there.st_dev, there.st_ino) != (me.st_dev, me.st_ino) {
        return Err(Errno::ESTALE);
    }
    // The second layer (overlayfs wants two without an upper one): an
    // empty tmpfs of its own, detached, named through its fd (kernels
    // 6.15+ take a detached layer). Else `spare`, an empty directory on
    // the host, where neither layer holds the other (overlayfs refuses
    // that with ELOOP, after ~3 ms of checking): never with pocket in /,
    // as in an initramfs.
    let empty = super::mount::fsopen(c"tmpfs")?;
    super::mount::fsconfig_create(&empty)?;
    let empty = super::mount::fsmount(&empty, linux_raw_sys::general::MOUNT_ATTR_RDONLY)?;
    let detached = alloc::format!("/proc/self/fd/{}", empty.raw());
    let ctx = match view_of(dir, detached.as_bytes()) {
        Err(Errno::EINVAL) => {
            let spare = spare().ok_or(Errno::EINVAL)?;
            if nested(dir, spare.to_bytes()) {
                return Err(Errno::ELOOP);
            }
            view_of(dir, spare.to_bytes())?
        }
        r => r?,
    };
    let attrs = linux_raw_sys::general::MOUNT_ATTR_RDONLY
        | linux_raw_sys::general::MOUNT_ATTR_NODEV
        | linux_raw_sys::general::MOUNT_ATTR_NOSUID;
    let mnt = super::mount::fsmount(&ctx, attrs)?;
    let view = fd::openat(
        mnt.raw(),
        &cstring(name)?,
        libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        0,
    )?;
    // The binary checked above, not a file that took its name since (or,
    // the name gone, one of the same name in the second layer).
    if identity(&fd::fstatat(view.raw(), c"", libc::AT_EMPTY_PATH)?) != identity(&me) {
        return Err(Errno::ESTALE);
    }
    Ok(view)
}

/// What a view passes through of the file beneath (all but the device):
/// the same values, the same file.
fn identity(s: &libc::stat) -> (u64, i64, (i64, i64), (i64, i64)) {
    (
        s.st_ino,
        s.st_size,
        (s.st_mtime, s.st_mtime_nsec),
        (s.st_ctime, s.st_ctime_nsec),
    )
}

/// A read-only overlayfs of `dir` over the empty `empty`, not mounted.
fn view_of(dir: &[u8], empty: &[u8]) -> Result<Fd> {
    let mut lower = escape_lower(dir);
    lower.push(b':');
    lower.extend_from_slice(&escape_lower(empty));
    let ctx = super::mount::fsopen(c"overlay")?;
    super::mount::fsconfig_string(&ctx, c"lowerdir", &cstring(&lower)?)?;
    // Inode-number remapping is of no use here and logs to dmesg when
    // the layers sit on different filesystems.
    let _ = super::mount::fsconfig_string(&ctx, c"xino", c"off");
    super::mount::fsconfig_create(&ctx)?;
    Ok(ctx)
}

/// Whether one of two absolute paths is the other or below it.
fn nested(a: &[u8], b: &[u8]) -> bool {
    let under = |x: &[u8], y: &[u8]| {
        x == b"/" || y == x || (y.starts_with(x) && y.get(x.len()) == Some(&b'/'))
    };
    under(a, b) || under(b, a)
}

/// A path as one overlayfs `lowerdir` entry: `:` separates layers and
/// `\` escapes, so both are escaped.
fn escape_lower(p: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(p.len() + 2);
    for &b in p {
        if b == b':' || b == b'\\' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out
}

fn cstring(b: &[u8]) -> Result<CString> {
    CString::new(b).map_err(|_| Errno::EINVAL)
}

/// An empty memfd `name` that can be executed once filled, and sealed
/// (close-on-exec: execveat runs it all the same).
fn exec_memfd(name: &CStr) -> Result<Fd> {
    let flags = libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING;
    match memfd_create(name, flags | MFD_EXEC) {
        // Kernels before 6.3 do not know MFD_EXEC (and exec any memfd).
        Err(Errno::EINVAL) => memfd_create(name, flags),
        r => r,
    }
}

/// A program of `bytes` in a memfd `name`, sealed against writes: what
/// runs from it has a /proc/PID/exe nothing can write through.
pub fn sealed_program(name: &CStr, bytes: &[u8]) -> Result<Fd> {
    let m = exec_memfd(name)?;
    fd::write_all(m.raw(), bytes)?;
    add_seals(m.raw(), SEALS)?;
    Ok(m)
}

/// A sealed memfd copy of the running binary.
pub fn sealed_copy() -> Result<Fd> {
    let exe = fd::open(c"/proc/self/exe", libc::O_RDONLY | libc::O_CLOEXEC, 0)?;
    let m = exec_memfd(c"pocket")?;
    loop {
        match sendfile(m.raw(), exe.raw(), 1 << 30) {
            Ok(0) => break,
            Ok(_) | Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
    add_seals(m.raw(), SEALS)?;
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_paths_escape_colons_and_backslashes() {
        assert_eq!(escape_lower(b"/usr/bin"), b"/usr/bin");
        assert_eq!(escape_lower(b"/a:b\\c"), b"/a\\:b\\\\c");
    }

    #[test]
    fn layers_that_hold_each_other_are_nested() {
        assert!(nested(b"/", b"/run/pocket/seal"));
        assert!(nested(b"/usr/local/bin", b"/usr/local/bin/state/run/seal"));
        assert!(nested(b"/tmp/x/run/seal", b"/tmp/x"));
        assert!(nested(b"/a", b"/a"));
        assert!(!nested(b"/usr/local/bin", b"/run/pocket/seal"));
        assert!(!nested(b"/usr/local/bin", b"/usr/local/bin2/seal"));
    }
}
