//! A pty harness for tests of `-t`, `attach` and the detach keys: pocket
//! runs with the slave as its controlling terminal and stdio, as under a
//! terminal emulator; the test types into and reads from the master.

use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::time::{Duration, Instant};

pub struct Pty {
    pub master: OwnedFd,
    pub slave: OwnedFd,
}

pub fn openpty(rows: u16, cols: u16) -> Pty {
    let (mut m, mut s) = (0, 0);
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: out-params are valid; ws is a valid winsize.
    let r = unsafe { libc::openpty(&mut m, &mut s, std::ptr::null_mut(), std::ptr::null(), &ws) };
    assert_eq!(r, 0);
    // SAFETY: fresh fds we own.
    unsafe {
        Pty {
            master: OwnedFd::from_raw_fd(m),
            slave: OwnedFd::from_raw_fd(s),
        }
    }
}

pub fn set_size(fd: i32, rows: u16, cols: u16) {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: valid winsize pointer.
    unsafe { libc::ioctl(fd, libc::TIOCSWINSZ, &ws) };
}

pub fn termios(fd: i32) -> libc::termios {
    // SAFETY: zeroed termios is valid; tcgetattr fills it.
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    unsafe { libc::tcgetattr(fd, &mut t) };
    t
}

/// Read from the master until `want` appears (or EOF / timeout).
pub fn read_until(master: i32, acc: &mut Vec<u8>, want: &str, secs: u64) -> bool {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if String::from_utf8_lossy(acc).contains(want) {
            return true;
        }
        let mut p = libc::pollfd {
            fd: master,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        if unsafe { libc::poll(&mut p, 1, 100) } <= 0 {
            continue;
        }
        let mut buf = [0u8; 4096];
        // SAFETY: buf is valid for its length.
        let n = unsafe { libc::read(master, buf.as_mut_ptr() as *mut _, buf.len()) };
        if n <= 0 {
            break;
        }
        acc.extend_from_slice(&buf[..n as usize]);
    }
    String::from_utf8_lossy(acc).contains(want)
}

/// Spawn `c` with the pty's slave as its controlling terminal and stdio.
pub fn spawn_cmd_on(pty: &Pty, mut c: std::process::Command) -> std::process::Child {
    let slave = pty.slave.try_clone().unwrap();
    c.stdin(slave.try_clone().unwrap())
        .stdout(slave.try_clone().unwrap())
        .stderr(slave);
    // SAFETY: setsid and ioctl are async-signal-safe.
    unsafe {
        c.pre_exec(|| {
            libc::setsid();
            libc::ioctl(0, libc::TIOCSCTTY, 0);
            Ok(())
        });
    }
    c.spawn().unwrap()
}

pub fn write_all(fd: i32, b: &[u8]) {
    // SAFETY: b is valid for its length.
    assert_eq!(
        unsafe { libc::write(fd, b.as_ptr() as *const _, b.len()) },
        b.len() as isize
    );
}

pub trait RawI32 {
    fn as_raw_fd_i32(&self) -> i32;
}

impl RawI32 for OwnedFd {
    fn as_raw_fd_i32(&self) -> i32 {
        use std::os::fd::AsRawFd;
        self.as_raw_fd()
    }
}
