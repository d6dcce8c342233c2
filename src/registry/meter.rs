//! docker's progress line for one layer on a terminal,
//! `abc123def456: Downloading  12.3MB/45.6MB`, redrawn in place at most
//! five times a second.

use alloc::format;
use alloc::string::String;

pub struct Meter {
    fd: i32,
    name: String,
    verb: &'static str,
    pub total: u64,
    last: i64,
}

impl Meter {
    pub fn new(fd: i32, name: &str, verb: &'static str, total: u64) -> Meter {
        Meter {
            fd,
            name: String::from(name),
            verb,
            total,
            last: 0,
        }
    }

    pub fn show(&mut self, done: u64) {
        let t = crate::rt::time::now();
        let ms = t.secs * 1000 + t.nanos as i64 / 1_000_000;
        if ms - self.last < 200 && done < self.total {
            return;
        }
        self.last = ms;
        // (a total that was an estimate is not shown passed)
        let done = done.min(self.total);
        // docker's units: decimal kB below a megabyte, MB above.
        let mb = |b: u64| {
            if self.total < 1_000_000 {
                format!("{}.{}kB", b / 1000, b % 1000 / 100)
            } else {
                format!("{}.{}MB", b / 1_000_000, b % 1_000_000 / 100_000)
            }
        };
        let line = format!(
            "\r\x1b[K{}: {}  {}/{}",
            self.name,
            self.verb,
            mb(done),
            mb(self.total)
        );
        let _ = crate::sys::fd::write_all(self.fd, line.as_bytes());
    }

    /// The line wiped, for the final word on the layer.
    pub fn clear(&self) {
        let _ = crate::sys::fd::write_all(self.fd, b"\r\x1b[K");
    }
}
