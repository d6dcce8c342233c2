//! File descriptors: open, pipes, read/write, dup, close_range, poll.

use super::{Errno, Result, Sysno};
use core::ffi::CStr;
use syscalls::syscall;

/// An owned file descriptor, closed on drop.
#[derive(Debug)]
pub struct Fd(i32);

impl Fd {
    /// # Safety contract (not unsafe: an fd is just a number)
    /// The caller hands over ownership of `fd`.
    pub fn from_raw(fd: i32) -> Fd {
        Fd(fd)
    }
    pub fn raw(&self) -> i32 {
        self.0
    }
    pub fn into_raw(self) -> i32 {
        let fd = self.0;
        core::mem::forget(self);
        fd
    }
}

impl Drop for Fd {
    fn drop(&mut self) {
        close(self.0);
    }
}

/// `close(fd)` — close(2). Errors are ignored: after close the fd is gone
/// either way, and retrying on EINTR could close someone else's fd.
pub fn close(fd: i32) {
    // SAFETY: closing a number has no memory effects.
    let _ = unsafe { syscall!(Sysno::close, fd) };
}

/// `openat(dirfd, path, flags, mode)` — openat(2).
pub fn openat(dirfd: i32, path: &CStr, flags: i32, mode: u32) -> Result<Fd> {
    // SAFETY: path is NUL-terminated and outlives the call.
    let fd = unsafe { syscall!(Sysno::openat, dirfd, path.as_ptr(), flags, mode) }?;
    Ok(Fd(fd as i32))
}

/// Open the file `f` (an O_PATH fd) again with `flags`, through
/// /proc/thread-self/fd/N: the very inode `f` names, whatever its name
/// points at by now. For reading what a running container may swap
/// between a stat and an open (a device node put where a file was: an
/// open by name would open it, as the host's root, outside its devices
/// cgroup; a watchdog's open alone arms it).
pub fn reopen(f: &Fd, flags: i32) -> Result<Fd> {
    let mut n = [0u8; 12];
    let n = super::cstr::decimal(f.0, &mut n);
    let mut buf = [0u8; 40];
    let p = super::cstr::join(&mut buf, b"/proc/thread-self/fd", n).ok_or(Errno::EINVAL)?;
    open(p, flags, 0)
}

/// `open(path, flags, mode)` — open(2), always O_CLOEXEC.
pub fn open(path: &CStr, flags: i32, mode: u32) -> Result<Fd> {
    openat(libc::AT_FDCWD, path, flags | libc::O_CLOEXEC, mode)
}

/// `openat2(dirfd, path, &how, sizeof how)` — openat2(2): `resolve` holds
/// RESOLVE_* flags, e.g. to keep a lookup inside a root. Retried on
/// EAGAIN: with RESOLVE_BENEATH or RESOLVE_IN_ROOT the kernel gives up on
/// a ".." when any rename or mount on the host ran during the walk (it
/// cannot prove the step stayed inside), and asks the caller to try again.
pub fn openat2(dirfd: i32, path: &CStr, flags: i32, resolve: u64) -> Result<Fd> {
    let how = linux_raw_sys::general::open_how {
        flags: (flags | libc::O_CLOEXEC) as u64,
        mode: 0,
        resolve,
    };
    let mut tries = 0;
    loop {
        // SAFETY: path and how are valid for the call; size matches the
        // struct.
        let r = unsafe {
            syscall!(
                Sysno::openat2,
                dirfd,
                path.as_ptr(),
                &how as *const _,
                core::mem::size_of_val(&how)
            )
        };
        match r {
            Err(Errno::EAGAIN) if tries < 256 => tries += 1,
            r => return Ok(Fd(r? as i32)),
        }
    }
}

/// `pipe2(fds, O_CLOEXEC)` — pipe2(2): (read end, write end).
pub fn pipe() -> Result<(Fd, Fd)> {
    let mut fds = [0i32; 2];
    // SAFETY: fds has room for two ints.
    unsafe { syscall!(Sysno::pipe2, fds.as_mut_ptr(), libc::O_CLOEXEC) }?;
    Ok((Fd(fds[0]), Fd(fds[1])))
}

/// `read(fd, buf, len)` — read(2), retried on EINTR.
pub fn read(fd: i32, buf: &mut [u8]) -> Result<usize> {
    loop {
        // SAFETY: buf is valid for len bytes.
        match unsafe { syscall!(Sysno::read, fd, buf.as_mut_ptr(), buf.len()) } {
            Err(Errno::EINTR) => continue,
            r => return r,
        }
    }
}

/// Read until `buf` is full or EOF; returns the bytes read.
pub fn read_full(fd: i32, buf: &mut [u8]) -> Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match read(fd, &mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// `write(fd, buf, len)` — write(2), retried on EINTR.
pub fn write(fd: i32, buf: &[u8]) -> Result<usize> {
    loop {
        // SAFETY: buf is valid for len bytes.
        match unsafe { syscall!(Sysno::write, fd, buf.as_ptr(), buf.len()) } {
            Err(Errno::EINTR) => continue,
            r => return r,
        }
    }
}

/// Write all of `buf`.
pub fn write_all(fd: i32, mut buf: &[u8]) -> Result<()> {
    while !buf.is_empty() {
        let n = write(fd, buf)?;
        buf = &buf[n..];
    }
    Ok(())
}

/// `dup3(old, new, 0)` — dup2(2); a no-op when old == new (but then the
/// close-on-exec flag is cleared, as the caller wants the fd inherited).
pub fn dup2(old: i32, new: i32) -> Result<()> {
    if old == new {
        return set_cloexec(old, false);
    }
    // SAFETY: plain fd numbers.
    unsafe { syscall!(Sysno::dup3, old, new, 0) }.map(drop)
}

/// `fcntl(fd, F_SETFD, cloexec ? FD_CLOEXEC : 0)` — fcntl(2).
pub fn set_cloexec(fd: i32, on: bool) -> Result<()> {
    let v = if on { libc::FD_CLOEXEC } else { 0 };
    // SAFETY: plain fd numbers.
    unsafe { syscall!(Sysno::fcntl, fd, libc::F_SETFD, v) }.map(drop)
}

/// `fcntl(fd, F_SETFL, flags | O_NONBLOCK)` — fcntl(2).
pub fn set_nonblock(fd: i32, on: bool) -> Result<()> {
    // SAFETY: plain fd numbers.
    let fl = unsafe { syscall!(Sysno::fcntl, fd, libc::F_GETFL) }? as i32;
    let fl = if on {
        fl | libc::O_NONBLOCK
    } else {
        fl & !libc::O_NONBLOCK
    };
    // SAFETY: plain fd numbers.
    unsafe { syscall!(Sysno::fcntl, fd, libc::F_SETFL, fl) }.map(drop)
}

pub const CLOSE_RANGE_CLOEXEC: u32 = 1 << 2;

/// `close_range(first, last, flags)` — close_range(2).
pub fn close_range(first: u32, last: u32, flags: u32) -> Result<()> {
    // SAFETY: plain numbers.
    unsafe { syscall!(Sysno::close_range, first, last, flags) }.map(drop)
}

/// `poll(fds, n, timeout_ms)` — poll(2), retried on EINTR.
pub fn poll(fds: &mut [libc::pollfd], timeout_ms: i32) -> Result<usize> {
    loop {
        // SAFETY: fds is a valid array of pollfd.
        match unsafe { syscall!(Sysno::poll, fds.as_mut_ptr(), fds.len(), timeout_ms) } {
            Err(Errno::EINTR) => continue,
            r => return r,
        }
    }
}

/// `fstatat(dirfd, path, &st, flags)` — stat(2).
pub fn fstatat(dirfd: i32, path: &CStr, flags: i32) -> Result<libc::stat> {
    // SAFETY: zeroed stat is a valid value for a plain C struct.
    let mut st: libc::stat = unsafe { core::mem::zeroed() };
    // SAFETY: path and st are valid for the call.
    unsafe {
        syscall!(
            Sysno::newfstatat,
            dirfd,
            path.as_ptr(),
            &mut st as *mut _,
            flags
        )
    }?;
    Ok(st)
}

/// `faccessat(dirfd, path, mode, 0)` — access(2).
pub fn access(path: &CStr, mode: i32) -> Result<()> {
    // SAFETY: path is NUL-terminated.
    unsafe { syscall!(Sysno::faccessat, libc::AT_FDCWD, path.as_ptr(), mode) }.map(drop)
}

/// Whether `fd` is open and kept across execve (no FD_CLOEXEC): one a
/// caller handed down, not one of pocket's own.
pub fn inherited(fd: i32) -> bool {
    // SAFETY: no pointers.
    unsafe { syscall!(Sysno::fcntl, fd, libc::F_GETFD) }
        .is_ok_and(|f| f as i32 & libc::FD_CLOEXEC == 0)
}

/// Open /dev/null on whichever of fds 0, 1 and 2 is closed (as Go's
/// runtime does at start): else the next fd opened takes that number, and
/// a pipe or memfd meant for a child would become its stdio there.
pub fn fill_stdio() {
    for n in 0..3 {
        // SAFETY: no pointers.
        if let Err(Errno::EBADF) = unsafe { syscall!(Sysno::fcntl, n, libc::F_GETFD) } {
            // Gets `n`: the lowest free number, 0..n-1 being open; kept
            // across execve, as stdio is.
            let _ = openat(libc::AT_FDCWD, c"/dev/null", libc::O_RDWR, 0).map(Fd::into_raw);
        }
    }
}

/// `faccessat2(AT_FDCWD, path, mode, AT_EACCESS)` — faccessat2(2): the
/// check execve makes, with the effective ids and capabilities (access(2)
/// takes the real ids, and a non-root caller's capabilities not at all);
/// faccessat where the kernel has no faccessat2 (before 5.8), or a
/// seccomp filter refuses it (EPERM: as Go's Faccessat, which runc uses).
pub fn access_effective(path: &CStr, mode: i32) -> Result<()> {
    // SAFETY: path is NUL-terminated.
    let r = unsafe {
        syscall!(
            Sysno::faccessat2,
            libc::AT_FDCWD,
            path.as_ptr(),
            mode,
            libc::AT_EACCESS
        )
    };
    match r {
        Err(Errno::ENOSYS | Errno::EPERM) => access(path, mode),
        r => r.map(drop),
    }
}

/// `pread(fd, buf, len, off)` — pread(2): no shared file offset to keep.
pub fn pread(fd: i32, buf: &mut [u8], off: u64) -> Result<usize> {
    loop {
        // SAFETY: buf is valid for writes of its length.
        match unsafe { syscall!(Sysno::pread64, fd, buf.as_mut_ptr(), buf.len(), off) } {
            Err(Errno::EINTR) => continue,
            r => return r,
        }
    }
}

/// `pwrite(fd, buf, len, off)` — pwrite(2), all of `buf` (a short write
/// is continued).
pub fn pwrite(fd: i32, mut buf: &[u8], mut off: u64) -> Result<()> {
    while !buf.is_empty() {
        // SAFETY: buf is valid for reads of its length.
        match unsafe { syscall!(Sysno::pwrite64, fd, buf.as_ptr(), buf.len(), off) } {
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e),
            Ok(0) => return Err(Errno::EIO),
            Ok(n) => {
                buf = &buf[n..];
                off += n as u64;
            }
        }
    }
    Ok(())
}

/// `ftruncate(fd, len)` — ftruncate(2).
pub fn ftruncate(fd: i32, len: u64) -> Result<()> {
    // SAFETY: no pointers.
    unsafe { syscall!(Sysno::ftruncate, fd, len) }.map(|_| ())
}

/// `lseek(fd, off, whence)` — lseek(2).
pub fn lseek(fd: i32, off: i64, whence: i32) -> Result<u64> {
    // SAFETY: no pointers.
    unsafe { syscall!(Sysno::lseek, fd, off, whence) }.map(|n| n as u64)
}

/// `fcntl(fd, F_DUPFD_CLOEXEC, min)` — a close-on-exec duplicate, the
/// lowest free number from `min` on.
pub fn dup_from(fd: i32, min: i32) -> Result<i32> {
    // SAFETY: no pointers.
    unsafe { syscall!(Sysno::fcntl, fd, libc::F_DUPFD_CLOEXEC, min) }.map(|n| n as i32)
}

/// `fcntl(fd, F_DUPFD_CLOEXEC, 0)` — a close-on-exec duplicate.
pub fn dup(fd: i32) -> Result<i32> {
    // SAFETY: no pointers.
    unsafe { syscall!(Sysno::fcntl, fd, libc::F_DUPFD_CLOEXEC, 0) }.map(|n| n as i32)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// The swap a running container makes under `cp`: the name looked at
    /// (a regular file) now a fifo with a writer waiting on it. Reopened
    /// through the O_PATH fd, the file read is the one looked at; the
    /// fifo is never opened (an open by name would, and release the
    /// writer: a device's open could do worse).
    #[test]
    fn reopen_reads_the_file_looked_at_not_what_the_name_became() {
        use std::os::unix::ffi::OsStrExt;
        let dir = std::env::temp_dir().join(format!("pocket-reopen-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let name = dir.join("f");
        std::fs::write(&name, "looked at\n").unwrap();
        let c = std::ffi::CString::new(name.as_os_str().as_bytes()).unwrap();
        let h = super::open(&c, libc::O_PATH | libc::O_NOFOLLOW, 0).unwrap();
        std::fs::remove_file(&name).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let f = super::reopen(&h, libc::O_RDONLY | libc::O_NONBLOCK).unwrap();
        let mut buf = [0u8; 32];
        let n = super::read(f.raw(), &mut buf).unwrap();
        assert_eq!(&buf[..n], b"looked at\n");
        // Nobody opened the fifo for reading: a writer's nonblocking open
        // finds no reader.
        let w = super::open(&c, libc::O_WRONLY | libc::O_NONBLOCK, 0);
        assert_eq!(w.err(), Some(super::Errno::ENXIO));
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A ".." under RESOLVE_BENEATH while renames run elsewhere on the
    /// host: the kernel says EAGAIN now and then (a race it cannot rule
    /// out); the wrapper tries again, so every open succeeds.
    #[test]
    fn openat2_retries_a_dotdot_raced_by_renames() {
        let dir = std::env::temp_dir().join(format!("pocket-openat2-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("a")).unwrap();
        std::fs::write(dir.join("x"), "").unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let renamer = {
            let (stop, dir) = (stop.clone(), dir.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let _ = std::fs::rename(dir.join("x"), dir.join("y"));
                    let _ = std::fs::rename(dir.join("y"), dir.join("x"));
                }
            })
        };
        let d = super::open(
            &std::ffi::CString::new(dir.to_str().unwrap()).unwrap(),
            libc::O_PATH | libc::O_DIRECTORY,
            0,
        )
        .unwrap();
        let mut failed = 0;
        for _ in 0..20_000 {
            let r = super::openat2(
                d.raw(),
                c"a/../a/../a",
                libc::O_PATH | libc::O_DIRECTORY,
                linux_raw_sys::general::RESOLVE_BENEATH as u64,
            );
            failed += r.is_err() as u32;
        }
        stop.store(true, Ordering::Relaxed);
        renamer.join().unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(failed, 0, "opens failed (EAGAIN not retried)");
    }
}
