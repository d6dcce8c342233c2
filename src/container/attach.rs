//! `attach` without a daemon: the monitor of a detached container listens
//! on a unix socket in pocket's run directory (0600, root's) and copies
//! the container's output to every attached client besides its log; a
//! client's keystrokes go to the container's terminal (made with -t), and
//! its window size with them. The client detaches on its own (the detach
//! keys): the container never notices.
//!
//! Frames both ways: one byte of kind, four of length (big-endian), the
//! bytes. To clients: STDOUT or STDERR, and EXIT (the exit status, a
//! big-endian i32) once the container has ended and its end is recorded
//! (or it is removed, --rm). From clients: INPUT or a RESIZE (rows,
//! columns: two big-endian u16), or CLOSE: the end of the input, for a
//! container without a terminal whose stdin is a pipe from the monitor
//! (a foreground `run -i --sig-proxy=false`).
//!
//! A foreground `run -it` is such a client too, connected before the
//! container starts (a socket pair, `primary`): it misses no output, and
//! the container's output waits for it rather than being dropped, as a
//! terminal's would. Its keystrokes wait for the terminal likewise.

use crate::state::Store;
use crate::sys::fd::{self, Fd};
use crate::sys::{Errno, sock};
use alloc::string::String;
use alloc::vec::Vec;

pub const STDOUT: u8 = 1;
pub const STDERR: u8 = 2;
pub const INPUT: u8 = 3;
pub const RESIZE: u8 = 4;
pub const EXIT: u8 = 5;
pub const CLOSE: u8 = 6;

/// At most this many clients at once; more are turned away.
const MAX_CLIENTS: usize = 8;
/// A frame's payload bound: nothing a client sends makes us allocate more.
pub const MAX_FRAME: usize = 64 * 1024;

/// The socket of container `id` (short: sun_path holds 107 bytes).
pub fn path(store: &Store, id: &str) -> String {
    alloc::format!("{}/a-{}.sock", store.run, &id[..id.len().min(12)])
}

pub fn frame(kind: u8, data: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(5 + data.len());
    f.push(kind);
    f.extend_from_slice(&(data.len() as u32).to_be_bytes());
    f.extend_from_slice(data);
    f
}

/// Whole frames at the front of `buf`, taken out of it; None if a frame
/// is malformed (too big, unknown kind): the peer is dropped then.
pub fn frames(buf: &mut Vec<u8>) -> Option<Vec<(u8, Vec<u8>)>> {
    let mut out = Vec::new();
    loop {
        if buf.len() < 5 {
            return Some(out);
        }
        let len = u32::from_be_bytes([buf[1], buf[2], buf[3], buf[4]]) as usize;
        if len > MAX_FRAME || !(STDOUT..=CLOSE).contains(&buf[0]) {
            return None;
        }
        if buf.len() < 5 + len {
            return Some(out);
        }
        out.push((buf[0], buf[5..5 + len].to_vec()));
        buf.drain(..5 + len);
    }
}

struct Client {
    fd: Fd,
    inbuf: Vec<u8>,
    /// The foreground run's own: written blocking, never dropped for
    /// being slow.
    primary: bool,
}

/// Terminal input taken from clients and not yet written: while there is
/// some, no client is read (they wait, their sockets fill), so input is
/// never lost, and never more than this is held.
const MAX_PENDING: usize = 2 * MAX_FRAME;

/// The monitor's end: the listening socket and who is attached.
pub struct Server {
    /// None if the socket could not be made: the primary is still served.
    listener: Option<Fd>,
    path: String,
    clients: Vec<Client>,
    pending: Vec<u8>,
    /// The container's stdin, a pipe, when it has no terminal; closed
    /// once CLOSE came and what was pending is written.
    stdin: Option<Fd>,
    close_stdin: bool,
}

impl Server {
    /// Listen for clients of container `id`; `primary`: one connected
    /// already (the foreground run's socket pair end).
    pub fn open(store: &Store, id: &str, primary: Option<Fd>) -> Option<Server> {
        let path = path(store, id);
        let listener = crate::error::cpath(&path).ok().and_then(|c| {
            // A socket left by a monitor that was killed: ours now.
            let _ = crate::sys::fs::unlinkat(libc::AT_FDCWD, &c, 0);
            let old = crate::sys::proc::umask(0o177);
            let l = sock::listen_unix(path.as_bytes());
            crate::sys::proc::umask(old);
            l.ok()
        });
        if listener.is_none() && primary.is_none() {
            return None;
        }
        Some(Server {
            listener,
            path,
            clients: primary
                .into_iter()
                .map(|fd| Client {
                    fd,
                    inbuf: Vec::new(),
                    primary: true,
                })
                .collect(),
            pending: Vec::new(),
            stdin: None,
            close_stdin: false,
        })
    }

    /// Input goes to this pipe to the container's stdin (no terminal).
    pub fn set_stdin(&mut self, w: Fd) {
        self.stdin = Some(w);
    }

    /// The fds to poll for reading: the listener, then each client (-1
    /// while earlier input waits for the terminal).
    pub fn fds(&self) -> Vec<i32> {
        let held = !self.pending.is_empty();
        core::iter::once(self.listener.as_ref().map_or(-1, Fd::raw))
            .chain(
                self.clients
                    .iter()
                    .map(|c| if held { -1 } else { c.fd.raw() }),
            )
            .collect()
    }

    /// The fd input waits for (poll it for writing), or -1: the
    /// terminal `master` or the stdin pipe.
    pub fn held_fd(&self, master: Option<&Fd>) -> i32 {
        match (self.pending.is_empty(), master.or(self.stdin.as_ref())) {
            (false, Some(t)) => t.raw(),
            _ => -1,
        }
    }

    /// Write what input the terminal `master` (or the stdin pipe) takes
    /// now.
    pub fn flush_input(&mut self, master: Option<&Fd>) {
        let Some(to) = master.or(self.stdin.as_ref()) else {
            self.pending.clear();
            return;
        };
        let _ = fd::set_nonblock(to.raw(), true);
        while !self.pending.is_empty() {
            match fd::write(to.raw(), &self.pending) {
                Ok(n) if n > 0 => {
                    self.pending.drain(..n);
                }
                Err(Errno::EINTR) => {}
                // Full (EAGAIN) until the container reads; gone (EIO,
                // EPIPE): what is left will never be read.
                Err(Errno::EAGAIN) => break,
                _ => {
                    self.pending.clear();
                    break;
                }
            }
        }
        let _ = fd::set_nonblock(to.raw(), false);
        if self.pending.is_empty() && self.close_stdin {
            self.stdin = None;
        }
    }

    /// The container ended with `code`, its end recorded: every client
    /// is told, and the socket goes.
    pub fn finish(mut self, code: i32) {
        self.send(EXIT, &code.to_be_bytes());
    }

    pub fn accept(&mut self) {
        let Some(l) = &self.listener else { return };
        while let Ok(c) = sock::accept(l) {
            if self.clients.len() < MAX_CLIENTS {
                self.clients.push(Client {
                    fd: c,
                    inbuf: Vec::new(),
                    primary: false,
                });
            }
        }
    }

    /// Output of the container to every client; one that cannot take it
    /// now (full) misses it, one that is gone is dropped.
    pub fn send(&mut self, kind: u8, data: &[u8]) {
        if self.clients.is_empty() {
            return;
        }
        let f = frame(kind, data);
        // A frame goes whole or not at all; part of one would leave the
        // client reading data as headers: it is dropped then. The
        // primary client's socket blocks instead: its output waits.
        let mut primary_gone = false;
        self.clients.retain(|c| match c.primary {
            true => {
                let ok = fd::write_all(c.fd.raw(), &f).is_ok();
                primary_gone |= !ok;
                ok
            }
            false => match fd::write(c.fd.raw(), &f) {
                Ok(n) => n == f.len(),
                Err(Errno::EAGAIN) => true,
                Err(_) => false,
            },
        });
        if primary_gone {
            self.primary_left();
        }
    }

    /// The foreground client went (ctrl-c of a `run -i --sig-proxy=false`,
    /// say): the container's stdin pipe ends with it (docker's
    /// StdinOnce), after what it sent.
    fn primary_left(&mut self) {
        if self.stdin.is_some() {
            self.close_stdin = true;
            self.flush_input(None);
        }
    }

    /// Read what client `i` (of `fds()[1..]`) sent: input for the
    /// terminal `master`, resizes. A client that hung up or misbehaved
    /// is dropped.
    pub fn read(&mut self, i: usize, master: Option<&Fd>) {
        // Input held already: this client waits its turn (its socket
        // fills), so nothing it sends is cut off.
        if !self.pending.is_empty() {
            return;
        }
        let Some(c) = self.clients.get_mut(i) else {
            return;
        };
        let mut buf = [0u8; 8192];
        let got = match fd::read(c.fd.raw(), &mut buf) {
            Ok(0) => None,
            Ok(n) => {
                c.inbuf.extend_from_slice(&buf[..n]);
                frames(&mut c.inbuf)
            }
            Err(Errno::EAGAIN | Errno::EINTR) => Some(Vec::new()),
            Err(_) => None,
        };
        let Some(fs) = got else {
            if self.clients.remove(i).primary {
                self.primary_left();
            }
            return;
        };
        for (kind, data) in fs {
            match (kind, master) {
                // Never blocking the monitor: what the terminal does not
                // take now waits (and the clients with it).
                (INPUT, _) => {
                    self.pending.extend_from_slice(&data);
                    self.flush_input(master);
                    self.pending.truncate(MAX_PENDING);
                }
                (CLOSE, None) => {
                    self.close_stdin = true;
                    self.flush_input(master);
                }
                (RESIZE, Some(m)) if data.len() == 4 => {
                    let ws = linux_raw_sys::general::winsize {
                        ws_row: u16::from_be_bytes([data[0], data[1]]),
                        ws_col: u16::from_be_bytes([data[2], data[3]]),
                        ws_xpixel: 0,
                        ws_ypixel: 0,
                    };
                    let _ = crate::sys::tty::set_winsize(m.raw(), &ws);
                }
                _ => {}
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(c) = crate::error::cpath(&self.path) {
            let _ = crate::sys::fs::unlinkat(libc::AT_FDCWD, &c, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_refuse_garbage() {
        let mut b = frame(INPUT, b"ls\n");
        b.extend(frame(RESIZE, &[0, 24, 0, 80]));
        b.extend_from_slice(&[STDOUT, 0, 0]);
        let f = frames(&mut b).unwrap();
        assert_eq!(
            f,
            vec![(INPUT, b"ls\n".to_vec()), (RESIZE, vec![0, 24, 0, 80])]
        );
        assert_eq!(b, vec![STDOUT, 0, 0], "a partial frame waits");
        let mut big = vec![INPUT, 0xff, 0xff, 0xff, 0xff];
        assert!(frames(&mut big).is_none());
        let mut odd = vec![9, 0, 0, 0, 0];
        assert!(frames(&mut odd).is_none());
    }
}
