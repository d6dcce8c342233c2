//! Progress of load/import/save on a terminal: bytes and layers, redrawn
//! in place on stderr at most a few times a second. Silent on a pipe.

use crate::rt;
use crate::rt::time;

pub struct Progress {
    on: bool,
    pub what: &'static str,
    pub layer: usize,
    pub layers: usize,
    pub bytes: u64,
    last: i64,
}

fn mb(b: u64) -> (u64, u64) {
    (b / 1_000_000, b % 1_000_000 / 100_000)
}

impl Progress {
    pub fn new(what: &'static str) -> Progress {
        Progress {
            on: crate::sys::tty::isatty(2),
            what,
            layer: 0,
            layers: 0,
            bytes: 0,
            last: 0,
        }
    }
    pub fn quiet(what: &'static str) -> Progress {
        let mut p = Progress::new(what);
        p.on = false;
        p
    }
    pub fn add(&mut self, n: u64) {
        self.bytes += n;
        if self.on {
            let now = time::now();
            let ms = now.secs * 1000 + now.nanos as i64 / 1_000_000;
            if ms - self.last >= 200 {
                self.last = ms;
                self.draw();
            }
        }
    }
    fn draw(&self) {
        let (m, t) = mb(self.bytes);
        if self.layers > 0 {
            rt::err().bytes(
                alloc::format!(
                    "\r{} layer {}/{}: {m}.{t} MB   ",
                    self.what,
                    self.layer,
                    self.layers
                )
                .as_bytes(),
            );
        } else {
            rt::err().bytes(alloc::format!("\r{}: {m}.{t} MB   ", self.what).as_bytes());
        }
    }
    /// The last figures, then a newline (only if anything was drawn).
    pub fn done(&mut self) {
        if self.on {
            self.draw();
            rt::err().bytes(b"\n");
        }
    }
}
