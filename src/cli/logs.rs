//! `pocket logs`: a container's output from its json-file log, stdout to
//! stdout and stderr to stderr; `-f` follows until the container exits.

use super::Ctx;
use super::args::{Flag, flag};
use crate::error::{Context, Error, Result};
use crate::rt::time::{self, Timestamp};
use crate::state::Status;
use crate::state::log;
use crate::sys::fd::{self, Fd};
use crate::sys::{Errno, time::sleep_ms};
use alloc::ffi::CString;
use alloc::string::String;
use alloc::vec::Vec;

const FLAGS: &[Flag] = &[
    flag(b'f', "follow", false),
    flag(b'n', "tail", true),
    flag(b't', "timestamps", false),
    flag(0, "since", true),
    flag(0, "until", true),
    flag(0, "details", false),
    flag(0, "help", false),
];

struct Printer {
    timestamps: bool,
    /// --details: the attributes (maybe none) that go before each line.
    details: Option<String>,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
}

impl Printer {
    /// Print the complete lines of `data` (from the `skip`th on); returns
    /// how many bytes it used.
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
            if self.since.is_some() || self.until.is_some() {
                let t = time::parse_rfc3339(&l.time).unwrap_or_default();
                if self.since.is_some_and(|s| t < s) || self.until.is_some_and(|u| t >= u) {
                    continue;
                }
            }
            let (w, other) = if l.stream == "stderr" {
                (&mut err, &mut out)
            } else {
                (&mut out, &mut err)
            };
            // The other stream's lines first: where both go to one place
            // (a terminal, `2>&1`), in the order they were logged.
            other.flush();
            if self.timestamps {
                w.bytes(l.time.as_bytes());
                w.bytes(b" ");
            }
            // docker: the attributes (none unless log opts add them),
            // then a space.
            if let Some(a) = &self.details {
                w.bytes(a.as_bytes());
                w.bytes(b" ");
            }
            w.bytes(l.log.as_bytes());
        }
        used
    }
}

/// Read `f` to its end into `buf`; how many bytes came.
fn read_from(f: &Fd, buf: &mut Vec<u8>) -> Result<usize> {
    let mut chunk = [0u8; 16384];
    let mut got = 0;
    loop {
        match fd::read(f.raw(), &mut chunk).ctx("read", "log")? {
            0 => return Ok(got),
            n => {
                buf.extend_from_slice(&chunk[..n]);
                got += n;
            }
        }
    }
}

fn open(path: &str) -> Result<Option<Fd>> {
    let c = CString::new(path).map_err(|_| Error::bad("log", String::from(path), "bad path"))?;
    match fd::open(&c, libc::O_RDONLY | libc::O_CLOEXEC, 0) {
        Ok(f) => Ok(Some(f)),
        Err(Errno::ENOENT) => Ok(None),
        Err(e) => Err(Error::sys("open", String::from(path), e)),
    }
}

/// Is `path` another file than `f` now (the log was rotated)?
fn moved(f: &Fd, path: &str) -> bool {
    let Ok(c) = CString::new(path) else {
        return false;
    };
    match (
        fd::fstatat(f.raw(), c"", libc::AT_EMPTY_PATH),
        fd::fstatat(libc::AT_FDCWD, &c, 0),
    ) {
        (Ok(a), Ok(b)) => a.st_ino != b.st_ino,
        _ => false,
    }
}

pub fn main(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("logs", FLAGS, argv)? else {
        return Ok(0);
    };
    let mut tail: Option<usize> = None;
    if let Some(v) = p.value(FLAGS, "tail").filter(|v| *v != b"all") {
        let s = String::from_utf8_lossy(v);
        // docker: a negative count means all of it.
        let n: i64 = s
            .parse()
            .map_err(|_| Error::bad("invalid --tail", s.into_owned(), "must be a number or all"))?;
        tail = usize::try_from(n).ok();
    }
    let now = time::now();
    let when = |name: &str| super::filter::time_flag(&p, FLAGS, name, now);
    let [q] = p.rest[..] else {
        return Err(Error::bad("logs", "", "needs exactly one container"));
    };
    let id = ctx.store.resolve(&String::from_utf8_lossy(q))?;
    let rec = ctx.store.load(&id)?;
    if !rec.log.enabled() {
        return Err(Error::text(String::from(
            "configured logging driver does not support reading",
        ))
        .with_code(1));
    }
    let path = ctx.store.log_path(&id);
    let printer = Printer {
        timestamps: p.on(FLAGS, "timestamps"),
        details: p.on(FLAGS, "details").then(|| {
            let env = ctx
                .store
                .spec(&id)
                .map(|s| s.process.env)
                .unwrap_or_default();
            rec.log.attributes(&rec.labels, &env)
        }),
        since: when("since")?,
        until: when("until")?,
    };
    // The rotated files first, oldest first; the current one stays open
    // for -f.
    let rot = rec.log.rotation().unwrap_or(log::Rotation {
        max_size: 0,
        max_file: 1,
    });
    let mut buf = Vec::new();
    let mut f = None;
    for name in log::files(&path, rot) {
        f = open(&name)?;
        if let Some(file) = &f {
            read_from(file, &mut buf)?;
        }
    }
    let lines = buf
        .split_inclusive(|&c| c == b'\n')
        .filter(|l| l.ends_with(b"\n"))
        .count();
    let skip = tail.map_or(0, |n| lines.saturating_sub(n));
    let used = printer.print(&buf, skip);
    buf.drain(..used);
    if !p.on(FLAGS, "follow") {
        return Ok(0);
    }
    let Some(mut f) = f else { return Ok(0) };
    loop {
        let running = ctx
            .store
            .load(&id)
            .map(|r| r.live().status == Status::Running)
            .unwrap_or(false);
        let got = read_from(&f, &mut buf)?;
        let used = printer.print(&buf, 0);
        buf.drain(..used);
        // Rotated, and the old file read to its end (a write that landed
        // just before the move included: read once more): go on with the
        // new file.
        if got == 0 && moved(&f, &path) {
            read_from(&f, &mut buf)?;
            let used = printer.print(&buf, 0);
            buf.drain(..used);
            if let Some(n) = open(&path)? {
                f = n;
                continue;
            }
        }
        // The monitor writes the last output before it records the exit,
        // so once the container reads as exited, one more read is all.
        if !running && got == 0 {
            read_from(&f, &mut buf)?;
            let used = printer.print(&buf, 0);
            buf.drain(..used);
            return Ok(0);
        }
        if printer.until.is_some_and(|u| time::now() >= u) {
            return Ok(0);
        }
        sleep_ms(100);
    }
}
