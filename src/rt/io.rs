//! Buffered writers on fds 1 and 2 implementing `core::fmt::Write`.
//!
//! Each writer buffers on the stack and flushes on drop, so one message is
//! one write(2) and lines from concurrent processes do not interleave.

use core::fmt;

pub struct Out {
    fd: i32,
    len: usize,
    buf: [u8; 1024],
}

pub fn out() -> Out {
    Out {
        fd: 1,
        len: 0,
        buf: [0; 1024],
    }
}

pub fn err() -> Out {
    Out {
        fd: 2,
        len: 0,
        buf: [0; 1024],
    }
}

impl Out {
    pub fn flush(&mut self) {
        // Output errors (closed stdout, EPIPE) are not worth dying over.
        let _ = crate::sys::fd::write_all(self.fd, &self.buf[..self.len]);
        self.len = 0;
    }

    pub fn bytes(&mut self, b: &[u8]) {
        if self.len + b.len() > self.buf.len() {
            self.flush();
        }
        if b.len() > self.buf.len() {
            let _ = crate::sys::fd::write_all(self.fd, b);
        } else {
            self.buf[self.len..self.len + b.len()].copy_from_slice(b);
            self.len += b.len();
        }
    }
}

impl fmt::Write for Out {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.bytes(s.as_bytes());
        Ok(())
    }
}

impl Drop for Out {
    fn drop(&mut self) {
        self.flush();
    }
}

/// One line to fd 1 or 2 in one write(2): the body of `outln!`/`errln!`,
/// out of line so each use costs a call, not a 1 KB buffer's set-up.
#[inline(never)]
pub fn line(fd: i32, a: fmt::Arguments) {
    use fmt::Write as _;
    let mut o = Out {
        fd,
        len: 0,
        buf: [0; 1024],
    };
    let _ = o.write_fmt(a);
    o.bytes(b"\n");
}

/// `println!` for the no_std binary.
#[macro_export]
macro_rules! outln {
    () => {
        $crate::rt::line(1, format_args!(""))
    };
    ($($t:tt)*) => {
        $crate::rt::line(1, format_args!($($t)*))
    };
}

/// `eprintln!` for the no_std binary.
#[macro_export]
macro_rules! errln {
    () => {
        $crate::rt::line(2, format_args!(""))
    };
    ($($t:tt)*) => {
        $crate::rt::line(2, format_args!($($t)*))
    };
}
