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

/// docker's log drivers pocket has: json-file (the default), local
/// (json-file lines here too, rotated by default as docker's local
/// driver is: 20 MB x 5), none (no log: `logs` cannot read one).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// "json-file", "local" or "none"; empty: json-file.
    pub driver: String,
    /// --log-opt pairs as given (inspect's LogConfig.Config).
    pub opts: Vec<(String, String)>,
}

/// Rotation: past `max_size` bytes the log moves to `.1` (and `.1` to
/// `.2` ...), `max_file` files in all; 0: never.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rotation {
    pub max_size: u64,
    pub max_file: u32,
}

impl Config {
    /// --log-driver and --log-opt values, checked as docker checks them.
    pub fn parse(driver: Option<&str>, opts: &[String]) -> Result<Config, String> {
        let driver = String::from(driver.unwrap_or("json-file"));
        if !matches!(driver.as_str(), "json-file" | "local" | "none") {
            return Err(alloc::format!(
                "logging driver \"{driver}\" is not supported: json-file, local or none"
            ));
        }
        let mut c = Config {
            driver,
            opts: Vec::new(),
        };
        for o in opts {
            let Some((k, v)) = o.split_once('=') else {
                return Err(alloc::format!("invalid log opt \"{o}\": use KEY=VALUE"));
            };
            // labels/env: keys whose container labels and environment
            // `logs --details` shows with each line (docker's attributes).
            if c.driver == "none" || !matches!(k, "max-size" | "max-file" | "labels" | "env") {
                return Err(alloc::format!(
                    "unknown log opt '{k}' for {} log driver",
                    c.driver
                ));
            }
            c.opts.retain(|(x, _)| x != k);
            c.opts.push((String::from(k), String::from(v)));
        }
        c.rotation()?;
        Ok(c)
    }

    /// `logs --details`' attributes: the container labels and variables
    /// of `env` (KEY=VALUE) named by the labels= and env= options, as
    /// docker writes them: `k=v` sorted, comma separated.
    pub fn attributes(&self, labels: &[(String, String)], env: &[Vec<u8>]) -> String {
        let keys = |k: &str| -> Vec<String> {
            self.opt(k)
                .unwrap_or("")
                .split(',')
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        };
        let mut out: Vec<String> = Vec::new();
        for k in keys("labels") {
            if let Some((_, v)) = labels.iter().find(|(x, _)| *x == k) {
                out.push(alloc::format!("{k}={v}"));
            }
        }
        for k in keys("env") {
            let want = alloc::format!("{k}=");
            if let Some(e) = env.iter().rev().find(|e| e.starts_with(want.as_bytes())) {
                out.push(String::from_utf8_lossy(e).into_owned());
            }
        }
        crate::rt::sort_unstable(&mut out);
        out.dedup();
        out.join(",")
    }

    pub fn enabled(&self) -> bool {
        self.driver != "none"
    }

    fn opt(&self, k: &str) -> Option<&str> {
        self.opts
            .iter()
            .find(|(x, _)| x == k)
            .map(|(_, v)| v.as_str())
    }

    pub fn rotation(&self) -> Result<Rotation, String> {
        let local = self.driver == "local";
        let max_size = match self.opt("max-size") {
            Some("-1") => 0,
            Some(v) => crate::cgroup::flags::parse_bytes(v)
                .filter(|n| *n > 0)
                .ok_or_else(|| alloc::format!("invalid max-size \"{v}\": a size (10m, 1g)"))?
                as u64,
            None if local => 20 << 20,
            None => 0,
        };
        let max_file = match self.opt("max-file") {
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=100).contains(n))
                .ok_or_else(|| alloc::format!("invalid max-file \"{v}\": 1 to 100"))?,
            None if local => 5,
            None => 1,
        };
        if max_file > 1 && max_size == 0 {
            return Err(String::from("max-file cannot be set without max-size"));
        }
        Ok(Rotation { max_size, max_file })
    }
}

/// The files of a log, oldest first: `path.N` ... `path.1`, `path`.
pub fn files(path: &str, rot: Rotation) -> Vec<String> {
    let mut v: Vec<String> = (1..rot.max_file.max(1))
        .rev()
        .map(|i| alloc::format!("{path}.{i}"))
        .collect();
    v.push(String::from(path));
    v
}

/// Appends output of a container to its log, a line per entry. Partial
/// lines wait for their newline (or the 16 KiB cut, or the end).
pub struct Writer {
    fd: Option<Fd>,
    partial: [Vec<u8>; 2],
    path: alloc::ffi::CString,
    rot: Rotation,
    size: u64,
}

const FLAGS: i32 =
    libc::O_WRONLY | libc::O_CREAT | libc::O_APPEND | libc::O_NOFOLLOW | libc::O_CLOEXEC;

pub const STDOUT: usize = 0;
pub const STDERR: usize = 1;
const NAMES: [&str; 2] = ["stdout", "stderr"];
/// Encoded entries written at once, at most (plus one entry).
const BATCH: usize = 8 * 1024;

impl Writer {
    pub fn open(path: &core::ffi::CStr, c: &Config) -> crate::sys::Result<Writer> {
        let rot = c.rotation().unwrap_or(Rotation {
            max_size: 0,
            max_file: 1,
        });
        let f = if c.enabled() {
            Some(fd::open(path, FLAGS, 0o600)?)
        } else {
            None
        };
        let size = f
            .as_ref()
            .and_then(|f| fd::lseek(f.raw(), 0, libc::SEEK_END).ok())
            .unwrap_or(0);
        Ok(Writer {
            fd: f,
            partial: [Vec::new(), Vec::new()],
            path: path.into(),
            rot,
            size,
        })
    }

    /// Full: shift the older files up (the oldest goes), and start anew.
    fn rotate(&mut self) {
        let p = self.path.to_string_lossy().into_owned();
        let name = |i: u32| alloc::ffi::CString::new(alloc::format!("{p}.{i}")).ok();
        let mv = |a: &core::ffi::CStr, b: &core::ffi::CStr| {
            let _ = crate::sys::fs::renameat(libc::AT_FDCWD, a, libc::AT_FDCWD, b);
        };
        if self.rot.max_file > 1 {
            for i in (1..self.rot.max_file - 1).rev() {
                if let (Some(a), Some(b)) = (name(i), name(i + 1)) {
                    mv(&a, &b);
                }
            }
            if let Some(b) = name(1) {
                mv(&self.path, &b);
            }
        } else {
            let _ = crate::sys::fs::unlinkat(libc::AT_FDCWD, &self.path, 0);
        }
        self.fd = fd::open(&self.path, FLAGS, 0o600).ok();
        self.size = 0;
    }

    fn append(&mut self, mut out: &[u8]) {
        while !out.is_empty() {
            // As many whole entries as fit before the rotation size (at
            // least one); entries end with the only raw newline they have.
            let mut n = out.len();
            if self.rot.max_size > 0 {
                let room = self.rot.max_size.saturating_sub(self.size) as usize;
                if out.len() > room {
                    n = out[..room.min(out.len())]
                        .iter()
                        .rposition(|&c| c == b'\n')
                        .map_or(0, |i| i + 1);
                    if n == 0 {
                        if self.size > 0 {
                            self.rotate();
                            continue;
                        }
                        n = out
                            .iter()
                            .position(|&c| c == b'\n')
                            .map_or(out.len(), |i| i + 1);
                    }
                }
            }
            if let Some(f) = &self.fd {
                // One append per batch keeps entries whole for concurrent
                // readers.
                let _ = fd::write_all(f.raw(), &out[..n]);
                self.size += n as u64;
            }
            out = &out[n..];
        }
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
            // Written in batches of at most BATCH: a read of many short
            // lines grows JSON ~8 times, and a buffer sized by the
            // biggest burst would stay resident in a monitor for good.
            if out.len() >= BATCH {
                self.append(&out);
                out.clear();
            }
        }
        let p = &mut self.partial[stream];
        p.extend_from_slice(data);
        while p.len() >= MAX_LINE {
            let rest = p.split_off(MAX_LINE);
            out.extend(encode(NAMES[stream], p, now));
            *p = rest;
        }
        self.append(&out);
    }

    /// Write out what is left without a newline (at the end).
    pub fn flush(&mut self) {
        let now = time::now();
        for s in [STDOUT, STDERR] {
            if !self.partial[s].is_empty() {
                let e = encode(NAMES[s], &self.partial[s], now);
                self.append(&e);
                self.partial[s].clear();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drivers_and_options_as_docker_checks_them() {
        let c = Config::parse(None, &[]).unwrap();
        assert_eq!(
            c.rotation().unwrap(),
            Rotation {
                max_size: 0,
                max_file: 1
            }
        );
        let c = Config::parse(Some("local"), &[]).unwrap();
        assert_eq!(
            c.rotation().unwrap(),
            Rotation {
                max_size: 20 << 20,
                max_file: 5
            }
        );
        let c = Config::parse(None, &["max-size=10m".into(), "max-file=3".into()]).unwrap();
        assert_eq!(
            c.rotation().unwrap(),
            Rotation {
                max_size: 10 << 20,
                max_file: 3
            }
        );
        assert!(!Config::parse(Some("none"), &[]).unwrap().enabled());
        for (d, o) in [
            (Some("syslog"), ""),
            (None, "max-size=lots"),
            (None, "max-file=0"),
            (None, "max-file=3"),
            (None, "compress=true"),
            (Some("none"), "max-size=1m"),
            (None, "max-size"),
        ] {
            let opts: Vec<String> = if o.is_empty() { vec![] } else { vec![o.into()] };
            assert!(Config::parse(d, &opts).is_err(), "{d:?} {o}");
        }
        assert_eq!(
            files(
                "/l",
                Rotation {
                    max_size: 1,
                    max_file: 3
                }
            ),
            ["/l.2", "/l.1", "/l"]
        );
    }

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
