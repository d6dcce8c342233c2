//! While the container runs: forward signals, copy pty traffic, keep the
//! window size in step, and collect the exit status.

use crate::error::{Context, Result};
use crate::sys::fd::{self, Fd};
use crate::sys::{Errno, proc, signal, tty};
use linux_raw_sys::general::termios;

/// Puts the user's terminal back as it was, on every way out.
struct RawMode {
    fd: i32,
    saved: termios,
}

impl RawMode {
    fn enter(fd: i32) -> Option<RawMode> {
        let saved = tty::tcgetattr(fd).ok()?;
        let mut raw = saved;
        tty::make_raw(&mut raw);
        tty::tcsetattr(fd, &raw).ok()?;
        Some(RawMode { fd, saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = tty::tcsetattr(self.fd, &self.saved);
    }
}

/// Write all of `buf` to a non-blocking fd, waiting for room as needed.
fn write_nb(fd: i32, mut buf: &[u8]) -> core::result::Result<(), Errno> {
    while !buf.is_empty() {
        match fd::write(fd, buf) {
            Ok(n) => buf = &buf[n..],
            Err(Errno::EAGAIN) => {
                let mut p = [libc::pollfd {
                    fd,
                    events: libc::POLLOUT,
                    revents: 0,
                }];
                fd::poll(&mut p, 1000)?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Copy what the container wrote on its tty to our stdout; false at EOF
/// (EIO: every slave fd is closed).
fn pump_out(master: &Fd) -> bool {
    let mut buf = [0u8; 8192];
    match fd::read(master.raw(), &mut buf) {
        Ok(0) => false,
        Ok(n) => {
            let _ = fd::write_all(1, &buf[..n]);
            true
        }
        Err(Errno::EAGAIN) => true,
        Err(_) => false,
    }
}

pub fn run(pid: i32, sfd: &Fd, master: Option<&Fd>, stdin: bool) -> Result<i32> {
    let _raw = match master {
        Some(m) => {
            fd::set_nonblock(m.raw(), true).ctx("fcntl", "pty")?;
            if stdin { RawMode::enter(0) } else { None }
        }
        None => None,
    };
    let mut stdin_open = stdin && master.is_some();
    let mut out_open = master.is_some();
    let mut status: Option<i32> = None;
    loop {
        let mut fds = [
            libc::pollfd {
                fd: sfd.raw(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: master.map_or(-1, |m| m.raw()),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: if stdin_open { 0 } else { -1 },
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        if !out_open {
            fds[1].fd = -1;
        }
        fd::poll(&mut fds, -1).ctx("poll", "")?;
        if fds[0].revents != 0 {
            while let Some(sig) = signal::signalfd_next(sfd) {
                match sig {
                    libc::SIGCHLD => {
                        if let Ok((p, st)) = proc::wait(pid, libc::WNOHANG)
                            && p == pid
                        {
                            status = Some(proc::exit_code(st));
                        }
                    }
                    libc::SIGWINCH => {
                        if let (Some(m), Ok(ws)) = (master, tty::get_winsize(0)) {
                            let _ = tty::set_winsize(m.raw(), &ws);
                        }
                    }
                    s => {
                        let _ = proc::kill(pid, s);
                    }
                }
            }
        }
        if let Some(m) = master {
            if fds[1].revents != 0 {
                out_open = pump_out(m);
            }
            if fds[2].revents != 0 {
                let mut buf = [0u8; 4096];
                match fd::read(0, &mut buf) {
                    Ok(0) | Err(_) => stdin_open = false,
                    Ok(n) => {
                        if write_nb(m.raw(), &buf[..n]).is_err() {
                            stdin_open = false;
                        }
                    }
                }
            }
        }
        if let Some(code) = status {
            // Drain what the container wrote before it exited.
            if let Some(m) = master {
                while out_open {
                    let mut p = [libc::pollfd {
                        fd: m.raw(),
                        events: libc::POLLIN,
                        revents: 0,
                    }];
                    if fd::poll(&mut p, 100).unwrap_or(0) == 0 {
                        break;
                    }
                    out_open = pump_out(m);
                }
            }
            return Ok(code);
        }
    }
}
