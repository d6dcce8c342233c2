//! Terminals: pty pairs, termios, window size, controlling tty.

use super::fd::{self, Fd};
use super::{Result, Sysno};
use linux_raw_sys::general::{termios, winsize};
use linux_raw_sys::ioctl as io;
use syscalls::syscall;

fn ioctl(fd: i32, req: u32, arg: usize) -> Result<usize> {
    // SAFETY: callers pass a pointer of the type `req` expects, or an int.
    unsafe { syscall!(Sysno::ioctl, fd, req, arg) }
}

/// A new pty pair: open /dev/ptmx, unlock it, and get the peer with
/// TIOCGPTPEER (no path lookup of /dev/pts/N, so no race on the name).
pub fn openpty() -> Result<(Fd, Fd)> {
    pair(fd::open(c"/dev/ptmx", libc::O_RDWR | libc::O_NOCTTY, 0)?)
}

/// DEVPTS_SUPER_MAGIC (<linux/magic.h>).
const DEVPTS: i64 = 0x1cd1;

/// A new pty pair of the devpts mounted at `dev/pts` below `root` (a
/// running container's root, from the host's /proc, which must still be
/// this process's): reached with no symlink followed, and opened only
/// once it is known to be devpts's `ptmx`. A container can change its own
/// /dev/ptmx and /dev/pts; nothing it put there is ever opened.
pub fn openpty_in(root: &Fd) -> Result<(Fd, Fd)> {
    use linux_raw_sys::general::{RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS};
    let how = (RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS) as u64;
    let h = fd::openat2(root.raw(), c"dev/pts/ptmx", libc::O_PATH, how)?;
    if super::mount::fstatfs_type(&h)? != DEVPTS {
        return Err(super::Errno::EXDEV);
    }
    pair(fd::reopen(&h, libc::O_RDWR | libc::O_NOCTTY)?)
}

fn pair(master: Fd) -> Result<(Fd, Fd)> {
    let unlock: i32 = 0;
    ioctl(master.raw(), io::TIOCSPTLCK, &unlock as *const i32 as usize)?;
    let flags = (libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) as usize;
    let slave = ioctl(master.raw(), io::TIOCGPTPEER, flags)?;
    Ok((master, Fd::from_raw(slave as i32)))
}

/// `ioctl(fd, TCGETS, &t)` — tcgetattr(3); fails with ENOTTY on a non-tty.
pub fn tcgetattr(fd: i32) -> Result<termios> {
    // SAFETY: termios is a plain C struct.
    let mut t: termios = unsafe { core::mem::zeroed() };
    ioctl(fd, io::TCGETS, &mut t as *mut termios as usize)?;
    Ok(t)
}

/// `ioctl(fd, TCSETSW, &t)` — tcsetattr(fd, TCSADRAIN, &t).
pub fn tcsetattr(fd: i32, t: &termios) -> Result<()> {
    ioctl(fd, io::TCSETSW, t as *const termios as usize).map(drop)
}

pub fn isatty(fd: i32) -> bool {
    tcgetattr(fd).is_ok()
}

/// cfmakeraw(3): no echo, no line editing, no signals from keys; bytes
/// go to the container's own tty, which does all of that itself.
pub fn make_raw(t: &mut termios) {
    use linux_raw_sys::general as g;
    t.c_iflag &=
        !(g::IGNBRK | g::BRKINT | g::PARMRK | g::ISTRIP | g::INLCR | g::IGNCR | g::ICRNL | g::IXON);
    t.c_oflag &= !g::OPOST;
    t.c_lflag &= !(g::ECHO | g::ECHONL | g::ICANON | g::ISIG | g::IEXTEN);
    t.c_cflag &= !(g::CSIZE | g::PARENB);
    t.c_cflag |= g::CS8;
    t.c_cc[g::VMIN as usize] = 1;
    t.c_cc[g::VTIME as usize] = 0;
}

/// `ioctl(fd, TIOCGWINSZ, &ws)`.
pub fn get_winsize(fd: i32) -> Result<winsize> {
    let mut w = winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    ioctl(fd, io::TIOCGWINSZ, &mut w as *mut winsize as usize)?;
    Ok(w)
}

/// `ioctl(fd, TIOCSWINSZ, &ws)`.
pub fn set_winsize(fd: i32, w: &winsize) -> Result<()> {
    ioctl(fd, io::TIOCSWINSZ, w as *const winsize as usize).map(drop)
}

/// `ioctl(fd, TIOCSCTTY, 0)`: make the tty on `fd` the caller's
/// controlling terminal (the caller must be a session leader).
pub fn set_ctty(fd: i32) -> Result<()> {
    ioctl(fd, io::TIOCSCTTY, 0).map(drop)
}

/// `ioctl(fd, TIOCSPGRP, &pgrp)` — tcsetpgrp(3): make `pgrp` the
/// foreground process group of the tty on `fd`.
pub fn set_foreground(fd: i32, pgrp: i32) -> Result<()> {
    ioctl(fd, io::TIOCSPGRP, &pgrp as *const i32 as usize).map(drop)
}
