//! `attach` without a daemon: the monitor of a detached container listens
//! on a unix socket in pocket's run directory (0600, root's) and copies
//! the container's output to every attached client besides its log; a
//! client's keystrokes go to the container's terminal (made with -t), and
//! its window size with them. The client detaches on its own (the detach
//! keys): the container never notices.
//!
//! Frames both ways: one byte of kind, four of length (big-endian), the
//! bytes. To clients: STDOUT or STDERR. From clients: INPUT or a RESIZE
//! (rows, columns: two big-endian u16).

use crate::state::Store;
use crate::sys::fd::{self, Fd};
use crate::sys::{Errno, sock};
use alloc::string::String;
use alloc::vec::Vec;

pub const STDOUT: u8 = 1;
pub const STDERR: u8 = 2;
pub const INPUT: u8 = 3;
pub const RESIZE: u8 = 4;

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
        if len > MAX_FRAME || !(STDOUT..=RESIZE).contains(&buf[0]) {
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
}

/// The monitor's end: the listening socket and who is attached.
pub struct Server {
    listener: Fd,
    path: String,
    clients: Vec<Client>,
}

impl Server {
    pub fn open(store: &Store, id: &str) -> Option<Server> {
        let path = path(store, id);
        let c = crate::error::cpath(&path).ok()?;
        // A socket left by a monitor that was killed: ours now.
        let _ = crate::sys::fs::unlinkat(libc::AT_FDCWD, &c, 0);
        let old = crate::sys::proc::umask(0o177);
        let l = sock::listen_unix(path.as_bytes());
        crate::sys::proc::umask(old);
        Some(Server {
            listener: l.ok()?,
            path,
            clients: Vec::new(),
        })
    }

    /// The fds to poll: the listener, then each client.
    pub fn fds(&self) -> Vec<i32> {
        core::iter::once(self.listener.raw())
            .chain(self.clients.iter().map(|c| c.fd.raw()))
            .collect()
    }

    pub fn accept(&mut self) {
        while let Ok(c) = sock::accept(&self.listener) {
            if self.clients.len() < MAX_CLIENTS {
                self.clients.push(Client {
                    fd: c,
                    inbuf: Vec::new(),
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
        // client reading data as headers: it is dropped then.
        self.clients.retain(|c| match fd::write(c.fd.raw(), &f) {
            Ok(n) => n == f.len(),
            Err(Errno::EAGAIN) => true,
            Err(_) => false,
        });
    }

    /// Read what client `i` (of `fds()[1..]`) sent: input for the
    /// terminal `master`, resizes. A client that hung up or misbehaved
    /// is dropped.
    pub fn read(&mut self, i: usize, master: Option<&Fd>) {
        let Some(c) = self.clients.get_mut(i) else {
            return;
        };
        let mut buf = [0u8; 8192];
        let keep = match fd::read(c.fd.raw(), &mut buf) {
            Ok(0) => false,
            Ok(n) => {
                c.inbuf.extend_from_slice(&buf[..n]);
                match frames(&mut c.inbuf) {
                    None => false,
                    Some(fs) => {
                        for (kind, data) in fs {
                            match (kind, master) {
                                (INPUT, Some(m)) => {
                                    // Never blocking the monitor: input
                                    // a container does not read is lost.
                                    let _ = fd::set_nonblock(m.raw(), true);
                                    let _ = fd::write(m.raw(), &data);
                                    let _ = fd::set_nonblock(m.raw(), false);
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
                        true
                    }
                }
            }
            Err(Errno::EAGAIN | Errno::EINTR) => true,
            Err(_) => false,
        };
        if !keep {
            self.clients.remove(i);
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
