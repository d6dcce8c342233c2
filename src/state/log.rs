//! Container logs in docker's json-file format: one JSON object per line,
//! `{"log":"text\n","stream":"stdout","time":"2026-11-23T13:37:33.123456789Z"}`,
//! so stdout and stderr stay apart and every line has its time.

use crate::json;
use crate::rt::time::{self, Timestamp};
use crate::sys::fd::{self, Fd};
use alloc::string::String;
use alloc::vec::Vec;

#[derive(Debug, PartialEq, Eq)]
pub struct Line {
    pub log: String,
    pub stream: String,
    pub time: String,
}

/// docker splits long lines at 16 KiB.
const MAX_LINE: usize = 16 * 1024;

/// Encode one entry (text is taken as UTF-8, invalid bytes replaced, as
/// docker does). Written by hand: this runs for every line a container
/// prints, and it is three strings.
pub fn encode(stream: &str, text: &[u8], t: Timestamp) -> Vec<u8> {
    let mut v = String::with_capacity(text.len() + 80);
    v.push_str("{\"log\":");
    json::write_str(&mut v, &String::from_utf8_lossy(text));
    v.push_str(",\"stream\":");
    json::write_str(&mut v, stream);
    v.push_str(",\"time\":");
    json::write_str(&mut v, &time::rfc3339(t));
    v.push_str("}\n");
    v.into_bytes()
}

pub fn parse(line: &[u8]) -> Option<Line> {
    let v = json::parse(line).ok()?;
    let s = |k: &str| v.get(k).and_then(crate::json::Value::str).map(String::from);
    Some(Line {
        log: s("log")?,
        stream: s("stream")?,
        time: s("time")?,
    })
}

/// Appends output of a container to its log, a line per entry. Partial
/// lines wait for their newline (or the 16 KiB cut, or the end).
pub struct Writer {
    fd: Fd,
    partial: [Vec<u8>; 2],
}

pub const STDOUT: usize = 0;
pub const STDERR: usize = 1;
const NAMES: [&str; 2] = ["stdout", "stderr"];

impl Writer {
    pub fn open(path: &core::ffi::CStr) -> crate::sys::Result<Writer> {
        let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_APPEND | libc::O_NOFOLLOW;
        Ok(Writer {
            fd: fd::open(path, flags, 0o600)?,
            partial: [Vec::new(), Vec::new()],
        })
    }

    pub fn write(&mut self, stream: usize, mut data: &[u8]) {
        let now = time::now();
        let mut out = Vec::new();
        while let Some(i) = data.iter().position(|&c| c == b'\n') {
            let p = &mut self.partial[stream];
            p.extend_from_slice(&data[..=i]);
            out.extend(encode(NAMES[stream], p, now));
            p.clear();
            data = &data[i + 1..];
        }
        let p = &mut self.partial[stream];
        p.extend_from_slice(data);
        while p.len() >= MAX_LINE {
            let rest = p.split_off(MAX_LINE);
            out.extend(encode(NAMES[stream], p, now));
            *p = rest;
        }
        // One append per read keeps entries whole for concurrent readers.
        let _ = fd::write_all(self.fd.raw(), &out);
    }

    /// Write out what is left without a newline (at the end).
    pub fn flush(&mut self) {
        let now = time::now();
        for s in [STDOUT, STDERR] {
            if !self.partial[s].is_empty() {
                let e = encode(NAMES[s], &self.partial[s], now);
                let _ = fd::write_all(self.fd.raw(), &e);
                self.partial[s].clear();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_parse_round_trip_with_escapes() {
        let t = Timestamp {
            secs: 1_700_000_000,
            nanos: 5,
        };
        let e = encode("stderr", b"a \"q\" \\ \t\x01 \xff\n", t);
        assert!(e.ends_with(b"}\n"));
        let l = parse(&e[..e.len() - 1]).unwrap();
        assert_eq!(l.stream, "stderr");
        assert_eq!(l.log, "a \"q\" \\ \t\u{1} \u{fffd}\n");
        assert_eq!(l.time, "2023-11-14T22:13:20.000000005Z");
        assert!(parse(b"{not json").is_none());
    }
}
