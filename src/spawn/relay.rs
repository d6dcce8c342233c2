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

/// A foreground container's output kept in its log too (docker keeps
/// the log of a foreground run): it writes into these pipes (or its
/// tty), and the relay copies to our stdout/stderr and to the log (if
/// any: `exec`'s pipes in front of the caller's terminal have none).
pub struct Tee<'a> {
    pub out: Option<Fd>,
    pub err: Option<Fd>,
    pub log: Option<&'a mut crate::state::log::Writer>,
    /// Which of stdout, stderr are shown here (`run -a`); the others go
    /// to the log only.
    pub show: [bool; 2],
    /// Where our stdin is copied to (a pipe the command reads), closed
    /// at our stdin's end; None: no stdin to relay (or a pty's).
    pub input: Option<Fd>,
}

impl Tee<'_> {
    /// Copy one read of pipe `i` (0 out, 1 err); false at EOF.
    fn pump(&mut self, i: usize) -> bool {
        let Some(f) = (if i == 0 { &self.out } else { &self.err }) else {
            return false;
        };
        let mut buf = [0u8; 16384];
        match fd::read(f.raw(), &mut buf) {
            Ok(0) | Err(_) => {
                if i == 0 {
                    self.out = None
                } else {
                    self.err = None
                }
                false
            }
            Ok(n) => {
                let stream = if i == 0 {
                    crate::state::log::STDOUT
                } else {
                    crate::state::log::STDERR
                };
                if let Some(l) = self.log.as_mut() {
                    l.write(stream, &buf[..n]);
                }
                // Our reader went away (`pocket run ... | head -1`): close
                // the pipe so the container meets EPIPE/SIGPIPE as it
                // would writing there itself, instead of running on.
                if self.show[i] && fd::write_all(1 + i as i32, &buf[..n]) == Err(Errno::EPIPE) {
                    if i == 0 {
                        self.out = None
                    } else {
                        self.err = None
                    }
                    return false;
                }
                true
            }
        }
    }

    fn raw(&self, i: usize) -> i32 {
        let f = if i == 0 { &self.out } else { &self.err };
        f.as_ref().map_or(-1, |f| f.raw())
    }
}

/// Copy what the container wrote on its tty to our stdout (and its log);
/// false at EOF (EIO: every slave fd is closed).
fn pump_out(master: &Fd, tee: &mut Option<&mut Tee>) -> bool {
    let mut buf = [0u8; 8192];
    match fd::read(master.raw(), &mut buf) {
        Ok(0) => false,
        Ok(n) => {
            let _ = fd::write_all(1, &buf[..n]);
            if let Some(l) = tee.as_mut().and_then(|t| t.log.as_mut()) {
                l.write(crate::state::log::STDOUT, &buf[..n]);
            }
            true
        }
        Err(Errno::EAGAIN) => true,
        Err(_) => false,
    }
}

pub fn run(pid: i32, sfd: &Fd, master: Option<&Fd>, stdin: bool) -> Result<i32> {
    run_tee(pid, sfd, master, stdin, None)
}

/// `run`, the output kept in a log as well (`tee`).
pub fn run_tee(
    pid: i32,
    sfd: &Fd,
    master: Option<&Fd>,
    stdin: bool,
    mut tee: Option<&mut Tee>,
) -> Result<i32> {
    let _raw = match master {
        Some(m) => {
            fd::set_nonblock(m.raw(), true).ctx("fcntl", "pty")?;
            if stdin { RawMode::enter(0) } else { None }
        }
        None => None,
    };
    let piped_in = tee.as_ref().is_some_and(|t| t.input.is_some());
    let mut stdin_open = (stdin && master.is_some()) || piped_in;
    // Our stdin's bytes not yet taken by the command's pipe: while there
    // are any, we wait for room there, not for more input (never blocked
    // writing, so output and signals keep flowing).
    let mut pending: alloc::vec::Vec<u8> = alloc::vec::Vec::new();
    if let Some(to) = tee.as_ref().and_then(|t| t.input.as_ref()) {
        fd::set_nonblock(to.raw(), true).ctx("fcntl", "stdin pipe")?;
    }
    let mut out_open = master.is_some();
    let mut status: Option<i32> = None;
    loop {
        let pfd = |fd: i32| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let room = match pending.is_empty() {
            true => -1,
            false => tee
                .as_ref()
                .and_then(|t| t.input.as_ref())
                .map_or(-1, |f| f.raw()),
        };
        let mut fds = [
            pfd(sfd.raw()),
            pfd(master.map_or(-1, |m| m.raw())),
            pfd(if stdin_open && pending.is_empty() {
                0
            } else {
                -1
            }),
            pfd(tee.as_ref().map_or(-1, |t| t.raw(0))),
            pfd(tee.as_ref().map_or(-1, |t| t.raw(1))),
            libc::pollfd {
                fd: room,
                events: libc::POLLOUT,
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
        if let Some(t) = tee.as_mut() {
            for i in 0..2 {
                if fds[3 + i].revents != 0 {
                    t.pump(i);
                }
            }
        }
        if let Some(t) = tee.as_mut()
            && let Some(to) = &t.input
            && (fds[2].revents != 0 || fds[5].revents != 0)
        {
            let mut buf = [0u8; 4096];
            let mut fine = true;
            if fds[2].revents != 0 {
                match fd::read(0, &mut buf) {
                    Ok(0) | Err(_) => {
                        // The command sees its stdin end once it has
                        // what was read before.
                        stdin_open = false;
                        fine = !pending.is_empty();
                    }
                    Ok(n) => pending.extend_from_slice(&buf[..n]),
                }
            }
            while fine && !pending.is_empty() {
                match fd::write(to.raw(), &pending) {
                    Ok(n) => {
                        pending.drain(..n);
                    }
                    Err(Errno::EAGAIN) => break,
                    Err(_) => fine = false,
                }
            }
            if !fine || (!stdin_open && pending.is_empty()) {
                t.input = None;
                stdin_open = false;
                pending.clear();
            }
        }
        if let Some(m) = master {
            if fds[1].revents != 0 {
                out_open = pump_out(m, &mut tee);
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
                    out_open = pump_out(m, &mut tee);
                }
            }
            // And what is left in the pipes: every writer is gone with
            // the pid namespace, so they end (or go quiet) at once.
            if let Some(t) = tee.as_mut() {
                // A second at most: an orphan of --pid host could write on.
                let end = crate::rt::time::monotonic_ms() + 1000;
                while (t.out.is_some() || t.err.is_some()) && crate::rt::time::monotonic_ms() < end
                {
                    let mut p = [pfd(t.raw(0)), pfd(t.raw(1))];
                    if fd::poll(&mut p, 100).unwrap_or(0) == 0 {
                        break;
                    }
                    for (i, x) in p.iter().enumerate() {
                        if x.revents != 0 {
                            t.pump(i);
                        }
                    }
                }
                if let Some(l) = t.log.as_mut() {
                    l.flush();
                }
            }
            return Ok(code);
        }
    }
}
