//! `pocket logs`: a container's output from its json-file log, stdout to
//! stdout and stderr to stderr; `-f` follows until the container exits.

use super::Ctx;
use super::args::{Flag, flag};
use crate::error::{Context, Error, Result};
use crate::state::Status;
use crate::state::log;
use crate::sys::fd::{self, Fd};
use crate::sys::{Errno, time::sleep_ms};
use alloc::ffi::CString;
use alloc::string::String;
use alloc::vec::Vec;

const FLAGS: &[Flag] = &[
    flag(b'f', "follow", false),
    flag(0, "tail", true),
    flag(b't', "timestamps", false),
    flag(0, "help", false),
];

const HELP: &str = "\
Usage: pocket logs [OPTIONS] CONTAINER

Show what a container wrote to stdout and stderr.

Options:
  -f, --follow       Keep printing new output until the container exits
      --tail N       Only the last N lines (default: all)
  -t, --timestamps   Prefix each line with its RFC 3339 time
";

struct Printer {
    timestamps: bool,
}

impl Printer {
    /// Print the complete lines of `data`; returns how many bytes it used.
    fn print(&self, data: &[u8], skip: usize) -> usize {
        let mut used = 0;
        let (mut out, mut err) = (crate::rt::out(), crate::rt::err());
        for (i, line) in data.split_inclusive(|&c| c == b'\n').enumerate() {
            if !line.ends_with(b"\n") {
                break;
            }
            used += line.len();
            if i < skip {
                continue;
            }
            let Some(l) = log::parse(&line[..line.len() - 1]) else {
                continue;
            };
            let w = if l.stream == "stderr" {
                &mut err
            } else {
                &mut out
            };
            if self.timestamps {
                w.bytes(l.time.as_bytes());
                w.bytes(b" ");
            }
            w.bytes(l.log.as_bytes());
        }
        used
    }
}

fn read_from(f: &Fd, buf: &mut Vec<u8>) -> Result<()> {
    let mut chunk = [0u8; 16384];
    loop {
        match fd::read(f.raw(), &mut chunk).ctx("read", "log")? {
            0 => return Ok(()),
            n => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

pub fn main(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("logs", FLAGS, HELP, argv)? else {
        return Ok(0);
    };
    let on = |name: &str| {
        p.flags
            .iter()
            .any(|&(k, v)| FLAGS[k].long == name && v == b"true")
    };
    let mut tail: Option<usize> = None;
    for &(k, v) in &p.flags {
        if FLAGS[k].long == "tail" && v != b"all" {
            let s = String::from_utf8_lossy(v);
            // docker: a negative count means all of it.
            let n: i64 = s.parse().map_err(|_| {
                Error::bad("invalid --tail", s.into_owned(), "must be a number or all")
            })?;
            tail = usize::try_from(n).ok();
        }
    }
    let [q] = p.rest[..] else {
        return Err(Error::bad("logs", "", "needs exactly one container"));
    };
    let id = ctx.store.resolve(&String::from_utf8_lossy(q))?;
    let path = ctx.store.log_path(&id);
    let c = CString::new(path.clone()).map_err(|_| Error::bad("log", path.clone(), "bad path"))?;
    let printer = Printer {
        timestamps: on("timestamps"),
    };
    let f = match fd::open(&c, libc::O_RDONLY, 0) {
        Ok(f) => Some(f),
        // Foreground runs print to the terminal, not to a log.
        Err(Errno::ENOENT) => None,
        Err(e) => return Err(Error::sys("open", path, e)),
    };
    let mut buf = Vec::new();
    if let Some(f) = &f {
        read_from(f, &mut buf)?;
    }
    let lines = buf
        .split_inclusive(|&c| c == b'\n')
        .filter(|l| l.ends_with(b"\n"))
        .count();
    let skip = tail.map_or(0, |n| lines.saturating_sub(n));
    let used = printer.print(&buf, skip);
    buf.drain(..used);
    if !on("follow") {
        return Ok(0);
    }
    let Some(f) = f else { return Ok(0) };
    loop {
        let running = ctx
            .store
            .load(&id)
            .map(|r| r.live().status == Status::Running)
            .unwrap_or(false);
        let before = buf.len();
        read_from(&f, &mut buf)?;
        let used = printer.print(&buf, 0);
        buf.drain(..used);
        // The monitor writes the last output before it records the exit,
        // so once the container reads as exited, one more read is all.
        if !running && buf.len() == before {
            read_from(&f, &mut buf)?;
            let used = printer.print(&buf, 0);
            buf.drain(..used);
            return Ok(0);
        }
        sleep_ms(100);
    }
}
