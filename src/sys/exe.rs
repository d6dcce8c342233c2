//! The running binary as a sealed memfd: `memfd_create`, `sendfile`,
//! `F_ADD_SEALS` and `execveat`, so pocket can re-execute itself from a
//! copy nothing can write through (runc's answer to CVE-2019-5736).

use super::fd::{self, Fd};
use super::{Errno, Result, Sysno};
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
    // SAFETY: argv/envp are NULL-terminated arrays of C strings (the
    // process's own, from crt1).
    match unsafe {
        syscall!(
            Sysno::execveat,
            f.raw(),
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

/// True if this process runs from a memfd sealed against writes.
pub fn running_sealed() -> bool {
    fd::open(c"/proc/self/exe", libc::O_RDONLY | libc::O_CLOEXEC, 0)
        .and_then(|f| get_seals(f.raw()))
        .is_ok_and(|s| s & libc::F_SEAL_WRITE != 0)
}

/// A sealed memfd copy of the running binary.
pub fn sealed_copy() -> Result<Fd> {
    let exe = fd::open(c"/proc/self/exe", libc::O_RDONLY | libc::O_CLOEXEC, 0)?;
    let flags = libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING;
    let m = match memfd_create(c"pocket", flags | MFD_EXEC) {
        // Kernels before 6.3 do not know MFD_EXEC (and exec any memfd).
        Err(Errno::EINVAL) => memfd_create(c"pocket", flags)?,
        r => r?,
    };
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
