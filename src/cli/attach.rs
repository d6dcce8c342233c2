//! `pocket attach`: this terminal on a detached container, through its
//! monitor's socket (container/attach.rs). Output is copied here; with a
//! terminal (-t) keystrokes and the window size go to it, and the detach
//! keys (ctrl-p,ctrl-q unless --detach-keys) leave it running. Without a
//! terminal, signals to this process go to the container (--sig-proxy).
//! When the container ends, attach ends with its status, as docker's.

use super::Ctx;
use super::args::{Flag, flag, text};
use crate::container::attach::{self, CLOSE, EXIT, INPUT, RESIZE, STDERR};
use crate::error::{Error, Result};
use crate::sys::fd;
use crate::sys::{signal, sock, tty};
use alloc::vec::Vec;

const FLAGS: &[Flag] = &[
    flag(0, "detach-keys", true),
    flag(0, "no-stdin", false),
    flag(0, "sig-proxy", false),
    flag(0, "help", false),
];

/// docker's detach-key syntax: "ctrl-p,ctrl-q", "ctrl-@,a".
pub fn parse_keys(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for k in s.split(',') {
        let b = k.as_bytes();
        match b {
            [c] => out.push(*c),
            [b'c', b't', b'r', b'l', b'-', c] => out.push(match c {
                b'a'..=b'z' => c - b'a' + 1,
                b'@' => 0,
                b'[' => 27,
                b'\\' => 28,
                b']' => 29,
                b'^' => 30,
                b'_' => 31,
                _ => return None,
            }),
            _ => return None,
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Puts the terminal back on every way out.
struct Raw(Option<linux_raw_sys::general::termios>);

impl Drop for Raw {
    fn drop(&mut self) {
        if let Some(t) = &self.0 {
            let _ = tty::tcsetattr(0, t);
        }
    }
}

/// This terminal's size, queued for the container's.
fn resize(out: &mut Vec<u8>) {
    if let Ok(w) = tty::get_winsize(0) {
        let mut d = w.ws_row.to_be_bytes().to_vec();
        d.extend_from_slice(&w.ws_col.to_be_bytes());
        out.extend_from_slice(&attach::frame(RESIZE, &d));
    }
}

/// How a session with a container's monitor goes (attach, run -it).
pub struct Session {
    /// The detach sequence.
    pub keys: Vec<u8>,
    /// This process's stdin goes to the container: keystrokes (and the
    /// window size) to its terminal, or the bytes to its stdin (-i
    /// without -t; its end closes the container's stdin).
    pub stdin: bool,
    /// The container has a terminal.
    pub tty: bool,
    /// Signals to this process go to the container (--sig-proxy); else
    /// one that would end a process ends the session, not the container.
    pub proxy: bool,
}

/// `--detach-keys`, or docker's default ctrl-p,ctrl-q.
pub fn detach_keys(v: Option<&[u8]>) -> Result<Vec<u8>> {
    match v {
        Some(k) => parse_keys(&text(k)).ok_or_else(|| {
            Error::bad(
                "invalid --detach-keys",
                text(k),
                "use ctrl-<x> or single characters, comma separated",
            )
        }),
        None => Ok(alloc::vec![16, 17]),
    }
}

pub fn main(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("attach", FLAGS, argv)? else {
        return Ok(0);
    };
    let [q] = p.rest[..] else {
        return Err(Error::bad("attach", "", "needs exactly one container"));
    };
    let keys = detach_keys(p.value(FLAGS, "detach-keys"))?;
    let rec = crate::container::running(&ctx.store, &text(q))?;
    if !rec.logged {
        return Err(Error::bad(
            "attach",
            rec.name.clone(),
            "runs in the foreground of another pocket; only detached containers can be attached to",
        )
        .with_code(1));
    }
    let spec = ctx.store.spec(&rec.id)?;
    let has_tty = spec.process.terminal;
    let path = attach::path(&ctx.store, &rec.id);
    let s = sock::connect_unix(path.as_bytes())
        .map_err(|e| Error::sys("connect", path.clone(), e).with_code(1))?;
    let how = Session {
        keys,
        stdin: has_tty && !p.on(FLAGS, "no-stdin"),
        tty: has_tty,
        proxy: !has_tty && p.value(FLAGS, "sig-proxy").is_none_or(|v| v != b"false"),
    };
    session(ctx, &rec.id, s, &how)
}

/// Be attached to container `id` through `s`, a socket to its monitor,
/// until it ends (its status, from the monitor or else its record) or the
/// detach keys are typed (0).
pub fn session(ctx: &Ctx, id: &str, s: fd::Fd, how: &Session) -> Result<i32> {
    let _raw = Raw(match how.tty && how.stdin && tty::isatty(0) {
        true => tty::tcgetattr(0).ok().inspect(|saved| {
            let mut r = *saved;
            tty::make_raw(&mut r);
            let _ = tty::tcsetattr(0, &r);
        }),
        false => None,
    });
    // Keystrokes never block this process on a monitor that is busy
    // writing to it: what the socket does not take waits here.
    let _ = fd::set_nonblock(s.raw(), true);
    let mut out: Vec<u8> = Vec::new();
    if how.tty && how.stdin {
        resize(&mut out);
    }
    let mut set = signal::SigSet::of(crate::spawn::parent::FORWARDED);
    set.0 |= signal::SigSet::of(&[libc::SIGWINCH]).0;
    let _ = signal::sigprocmask(libc::SIG_BLOCK, &set);
    let sfd = signal::signalfd(&set).map_err(|e| Error::sys("signalfd", "", e))?;
    let mut inbuf: Vec<u8> = Vec::new();
    let mut matched = 0usize;
    let mut stdin_open = how.stdin;
    let keys = &how.keys[..];
    loop {
        // The keyboard is read while earlier keystrokes wait (the detach
        // keys must get through), up to a bound.
        let mut fds = [
            pfd(
                s.raw(),
                libc::POLLIN | if out.is_empty() { 0 } else { libc::POLLOUT },
            ),
            pfd(
                if stdin_open && out.len() < HELD {
                    0
                } else {
                    -1
                },
                libc::POLLIN,
            ),
            pfd(sfd.raw(), libc::POLLIN),
        ];
        if fd::poll(&mut fds, -1).is_err() {
            continue;
        }
        if fds[2].revents != 0 {
            while let Some(sig) = signal::signalfd_next(&sfd) {
                match sig {
                    libc::SIGWINCH if how.tty && how.stdin => resize(&mut out),
                    libc::SIGWINCH => {}
                    _ if how.proxy => {
                        if let Ok(rec) = ctx.store.load(id) {
                            let _ = crate::container::kill(&ctx.store, &rec, sig);
                        }
                    }
                    // Not passed on: it ends this process (as it would
                    // have without us), the container runs on.
                    _ => return Ok(128 + sig),
                }
            }
        }
        if fds[1].revents != 0 {
            let mut buf = [0u8; 4096];
            match fd::read(0, &mut buf) {
                Ok(0) | Err(_) => {
                    stdin_open = false;
                    // The container's stdin ends with ours (docker's
                    // StdinOnce); a terminal's stays.
                    if !how.tty {
                        out.extend_from_slice(&attach::frame(CLOSE, &[]));
                    }
                }
                // Without a terminal, bytes are bytes: no detach keys.
                Ok(n) if !how.tty => out.extend_from_slice(&attach::frame(INPUT, &buf[..n])),
                Ok(n) => {
                    // The detach keys, possibly split over reads; bytes
                    // that only looked like their start are sent after all.
                    let mut send = Vec::new();
                    let mut detach = false;
                    for &b in &buf[..n] {
                        if b == keys[matched] {
                            matched += 1;
                            if matched == keys.len() {
                                detach = true;
                                break;
                            }
                            continue;
                        }
                        send.extend_from_slice(&keys[..matched]);
                        matched = 0;
                        if b == keys[0] {
                            matched = 1;
                        } else {
                            send.push(b);
                        }
                    }
                    if !send.is_empty() {
                        out.extend_from_slice(&attach::frame(INPUT, &send));
                    }
                    if detach {
                        // What was typed before the keys goes if the
                        // socket takes it now; waiting for a monitor that
                        // waits for the container could be forever.
                        let _ = fd::write(s.raw(), &out);
                        return Ok(0);
                    }
                }
            }
        }
        if !out.is_empty() {
            match fd::write(s.raw(), &out) {
                Ok(n) => {
                    out.drain(..n);
                }
                Err(crate::sys::Errno::EAGAIN | crate::sys::Errno::EINTR) => {}
                Err(_) => out.clear(),
            }
        }
        if fds[0].revents & !libc::POLLOUT != 0 {
            let mut buf = [0u8; 16384];
            match fd::read(s.raw(), &mut buf) {
                Ok(0) => break,
                Err(crate::sys::Errno::EAGAIN | crate::sys::Errno::EINTR) => {}
                Err(_) => break,
                Ok(n) => {
                    inbuf.extend_from_slice(&buf[..n]);
                    let Some(frames) = attach::frames(&mut inbuf) else {
                        break;
                    };
                    for (kind, data) in frames {
                        match kind {
                            EXIT if data.len() == 4 => {
                                return Ok(i32::from_be_bytes([
                                    data[0], data[1], data[2], data[3],
                                ]));
                            }
                            STDERR => {
                                let _ = fd::write_all(2, &data);
                            }
                            _ => {
                                let _ = fd::write_all(1, &data);
                            }
                        }
                    }
                }
            }
        }
    }
    // The monitor closed without a word (it was killed): the container's
    // status, as its record has it.
    let end = crate::container::settle(&ctx.store, id);
    Ok(end.map_or(137, |r| r.live().exit_code.unwrap_or(137)))
}

/// Keystrokes held for a monitor that does not take them yet, at most.
const HELD: usize = 256 * 1024;

fn pfd(fd: i32, events: i16) -> libc::pollfd {
    libc::pollfd {
        fd,
        events,
        revents: 0,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn detach_key_syntax() {
        use super::parse_keys as p;
        assert_eq!(p("ctrl-p,ctrl-q"), Some(vec![16, 17]));
        assert_eq!(p("ctrl-@,a"), Some(vec![0, b'a']));
        assert_eq!(p("ctrl-[,x"), Some(vec![27, b'x']));
        assert_eq!(p(""), None);
        assert_eq!(p("ctrl-1"), None);
        assert_eq!(p("ab"), None);
    }
}
