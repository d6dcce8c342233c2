//! Checks shared by the detached-container tests: an independent strict
//! JSON parser and RFC 3339 reader (not pocket's own: they check it), and
//! helpers around `exec`, `inspect` and the log file.
#![allow(dead_code)]

use super::*;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

// ---------------------------------------------------------------------------
// A small strict JSON parser (serde_json is not a dev-dependency): enough
// to check that inspect prints valid JSON and each log line is an object.

#[derive(Debug, Clone, PartialEq)]
pub enum J {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl J {
    pub fn get(&self, k: &str) -> &J {
        match self {
            J::Obj(v) => v
                .iter()
                .find(|(a, _)| a == k)
                .map(|(_, b)| b)
                .unwrap_or_else(|| panic!("no key {k:?} in {self:?}")),
            _ => panic!("not an object: {self:?}"),
        }
    }
    pub fn keys(&self) -> Vec<&str> {
        match self {
            J::Obj(v) => v.iter().map(|(k, _)| k.as_str()).collect(),
            _ => panic!("not an object: {self:?}"),
        }
    }
    pub fn str(&self) -> &str {
        match self {
            J::Str(s) => s,
            _ => panic!("not a string: {self:?}"),
        }
    }
    pub fn int(&self) -> i64 {
        match self {
            J::Num(n) => n.parse().unwrap_or_else(|_| panic!("not an integer: {n}")),
            _ => panic!("not a number: {self:?}"),
        }
    }
    pub fn bool(&self) -> bool {
        match self {
            J::Bool(b) => *b,
            _ => panic!("not a bool: {self:?}"),
        }
    }
    pub fn arr(&self) -> &[J] {
        match self {
            J::Arr(v) => v,
            _ => panic!("not an array: {self:?}"),
        }
    }
    pub fn strs(&self) -> Vec<String> {
        self.arr().iter().map(|s| s.str().to_string()).collect()
    }
}

pub fn json(s: &str) -> Result<J, String> {
    let b = s.as_bytes();
    let mut i = 0;
    let v = value(b, &mut i)?;
    ws(b, &mut i);
    if i != b.len() {
        return Err(format!("trailing data at {i}"));
    }
    Ok(v)
}

pub fn ws(b: &[u8], i: &mut usize) {
    while *i < b.len() && matches!(b[*i], b' ' | b'\t' | b'\n' | b'\r') {
        *i += 1;
    }
}

pub fn lit(b: &[u8], i: &mut usize, w: &str, v: J) -> Result<J, String> {
    if b[*i..].starts_with(w.as_bytes()) {
        *i += w.len();
        Ok(v)
    } else {
        Err(format!("bad literal at {i}"))
    }
}

pub fn value(b: &[u8], i: &mut usize) -> Result<J, String> {
    ws(b, i);
    match b.get(*i).copied() {
        None => Err("unexpected end".into()),
        Some(b'n') => lit(b, i, "null", J::Null),
        Some(b't') => lit(b, i, "true", J::Bool(true)),
        Some(b'f') => lit(b, i, "false", J::Bool(false)),
        Some(b'"') => string(b, i).map(J::Str),
        Some(b'[') => {
            *i += 1;
            let mut v = vec![];
            ws(b, i);
            if b.get(*i) == Some(&b']') {
                *i += 1;
                return Ok(J::Arr(v));
            }
            loop {
                v.push(value(b, i)?);
                ws(b, i);
                match b.get(*i) {
                    Some(b',') => *i += 1,
                    Some(b']') => {
                        *i += 1;
                        return Ok(J::Arr(v));
                    }
                    _ => return Err(format!("expected , or ] at {i}")),
                }
            }
        }
        Some(b'{') => {
            *i += 1;
            let mut v: Vec<(String, J)> = vec![];
            ws(b, i);
            if b.get(*i) == Some(&b'}') {
                *i += 1;
                return Ok(J::Obj(v));
            }
            loop {
                ws(b, i);
                if b.get(*i) != Some(&b'"') {
                    return Err(format!("expected key at {i}"));
                }
                let k = string(b, i)?;
                if v.iter().any(|(a, _)| *a == k) {
                    return Err(format!("duplicate key {k}"));
                }
                ws(b, i);
                if b.get(*i) != Some(&b':') {
                    return Err(format!("expected : at {i}"));
                }
                *i += 1;
                let x = value(b, i)?;
                v.push((k, x));
                ws(b, i);
                match b.get(*i) {
                    Some(b',') => *i += 1,
                    Some(b'}') => {
                        *i += 1;
                        return Ok(J::Obj(v));
                    }
                    _ => return Err(format!("expected , or }} at {i}")),
                }
            }
        }
        Some(c) if c == b'-' || c.is_ascii_digit() => {
            let s = *i;
            *i += 1;
            while *i < b.len() && matches!(b[*i], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-') {
                *i += 1;
            }
            let n = std::str::from_utf8(&b[s..*i]).unwrap().to_string();
            n.parse::<f64>().map_err(|_| format!("bad number {n}"))?;
            Ok(J::Num(n))
        }
        Some(c) => Err(format!("unexpected {:?} at {i}", c as char)),
    }
}

pub fn hex4(b: &[u8], i: &mut usize) -> Result<u32, String> {
    let h = b.get(*i..*i + 4).ok_or("short \\u")?;
    *i += 4;
    u32::from_str_radix(std::str::from_utf8(h).map_err(|e| e.to_string())?, 16)
        .map_err(|e| e.to_string())
}

pub fn string(b: &[u8], i: &mut usize) -> Result<String, String> {
    *i += 1; // opening quote
    let mut out = String::new();
    let mut raw = vec![];
    loop {
        let c = *b.get(*i).ok_or("unterminated string")?;
        *i += 1;
        match c {
            b'"' => break,
            b'\\' => {
                out.push_str(std::str::from_utf8(&raw).map_err(|e| e.to_string())?);
                raw.clear();
                let e = *b.get(*i).ok_or("bad escape")?;
                *i += 1;
                match e {
                    b'"' => out.push('"'),
                    b'\\' => out.push('\\'),
                    b'/' => out.push('/'),
                    b'b' => out.push('\u{8}'),
                    b'f' => out.push('\u{c}'),
                    b'n' => out.push('\n'),
                    b'r' => out.push('\r'),
                    b't' => out.push('\t'),
                    b'u' => {
                        let mut u = hex4(b, i)?;
                        if (0xd800..0xdc00).contains(&u) {
                            if b.get(*i..*i + 2) != Some(b"\\u") {
                                return Err("lone surrogate".into());
                            }
                            *i += 2;
                            let lo = hex4(b, i)?;
                            u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
                        }
                        out.push(char::from_u32(u).ok_or("bad \\u")?);
                    }
                    _ => return Err(format!("bad escape \\{}", e as char)),
                }
            }
            c if c < 0x20 => return Err(format!("raw control byte {c:#x} in string")),
            c => raw.push(c),
        }
    }
    out.push_str(std::str::from_utf8(&raw).map_err(|e| e.to_string())?);
    Ok(out)
}

// ---------------------------------------------------------------------------
// RFC 3339 times, as docker writes them: 2026-11-23T13:37:33.123456789Z.

pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// Parse `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z` into (seconds, nanoseconds) since
/// the epoch; the fraction is required when `frac` is set.
pub fn rfc3339(s: &str, frac: bool) -> Option<(i64, u32)> {
    let b = s.as_bytes();
    if b.len() < 20 || *b.last()? != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let rest = &s[19..s.len() - 1];
    let nanos = if rest.is_empty() {
        if frac {
            return None;
        }
        0
    } else {
        let f = rest.strip_prefix('.')?;
        if f.is_empty() || f.len() > 9 || !f.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        format!("{f:0<9}").parse().ok()?
    };
    Some((
        days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se,
        nanos,
    ))
}

pub fn now() -> (i64, u32) {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    (d.as_secs() as i64, d.subsec_nanos())
}

pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Run a command, killing it and failing if it takes more than `secs`.
pub fn output_within(mut c: Command, secs: u64, what: &str) -> Output {
    let child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn pocket");
    let pid = child.id() as i32;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(o) => o.unwrap(),
        Err(_) => {
            // SAFETY: kill(2) on our own child; the thread has not sent
            // its status, so it is still waiting to reap it.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("{what}: still running after {secs}s");
        }
    }
}

pub fn exec(r: &Root, id: &str, args: &[&str]) -> Output {
    let mut v = vec!["exec", id];
    v.extend(args);
    r.out(&v)
}

/// `exec ID sh -c SCRIPT`, which must succeed; its stdout.
pub fn sh(r: &Root, id: &str, script: &str) -> String {
    let o = exec(r, id, &["sh", "-c", script]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "exec sh -c {script:?}: {}",
        stderr(&o)
    );
    stdout(&o)
}

pub fn inspect(r: &Root, id: &str) -> J {
    let o = r.out(&["inspect", id]);
    assert_eq!(o.status.code(), Some(0), "inspect: {}", stderr(&o));
    let v = json(&stdout(&o)).unwrap_or_else(|e| panic!("inspect JSON: {e}\n{}", stdout(&o)));
    assert_eq!(v.arr().len(), 1, "{v:?}");
    v.arr()[0].clone()
}

/// The container init's host pid, from `inspect`.
pub fn init_pid(r: &Root, id: &str) -> i32 {
    let pid = inspect(r, id).get("State").get("Pid").int() as i32;
    assert!(pid > 1, "Pid {pid}");
    pid
}

/// Wait until the container has exited (`pocket wait`, which lets the
/// monitor write the exit down); its exit code, as wait and inspect say.
pub fn wait_exited(r: &Root, id: &str) -> i64 {
    let o = output_within(r.cmd(&["wait", id]), 15, "pocket wait");
    assert_eq!(o.status.code(), Some(0), "wait: {}", stderr(&o));
    let code: i64 = stdout(&o).trim().parse().unwrap();
    let st = inspect(r, id).get("State").clone();
    assert_eq!(st.get("Status").str(), "exited");
    assert_eq!(st.get("ExitCode").int(), code, "wait and inspect disagree");
    code
}

pub fn read_link(p: String) -> String {
    std::fs::read_link(&p)
        .unwrap_or_else(|e| panic!("readlink {p}: {e}"))
        .to_string_lossy()
        .into_owned()
}

pub fn comm(pid: i32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|s| s.trim().to_string())
}

/// The pid of a host process in its own (innermost) pid namespace.
pub fn ns_pid(pid: i32) -> i32 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let l = s.lines().find(|l| l.starts_with("NSpid:")).unwrap();
    l.split_whitespace().last().unwrap().parse().unwrap()
}

pub fn gone(pid: i32) -> bool {
    state(pid).is_none_or(|s| s == 'Z')
}

/// One error line `pocket: ...` and nothing on stdout.
pub fn one_error_line(o: &Output, what: &str) {
    let e = stderr(o);
    assert!(
        e.starts_with("pocket: ") && e.ends_with('\n') && e.lines().count() == 1,
        "{what}: stderr {e:?}"
    );
    assert_eq!(stdout(o), "", "{what}: stdout");
}

pub struct Entry {
    pub log: String,
    pub stream: String,
    pub time: (i64, u32),
    pub time_text: String,
}

/// The container's log file, every line checked to be a json-file entry:
/// a JSON object with exactly log, stream (stdout|stderr) and time
/// (RFC 3339 with nanoseconds, UTC, near now), in time order.
pub fn log_file(r: &Root, id: &str) -> Vec<Entry> {
    let path = r.0.join("containers").join(id).join("container.log");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    assert!(text.is_empty() || text.ends_with('\n'), "{text:?}");
    let t0 = now().0;
    let mut out: Vec<Entry> = vec![];
    for line in text.lines() {
        let v = json(line).unwrap_or_else(|e| panic!("log line {line:?}: {e}"));
        let mut keys = v.keys();
        keys.sort();
        assert_eq!(keys, ["log", "stream", "time"], "{line}");
        let stream = v.get("stream").str().to_string();
        assert!(stream == "stdout" || stream == "stderr", "{line}");
        let tt = v.get("time").str().to_string();
        let t = rfc3339(&tt, true).unwrap_or_else(|| panic!("time {tt:?} in {line}"));
        assert!((t.0 - t0).abs() < 300, "time {tt} is not near now");
        if let Some(prev) = out.last() {
            assert!(prev.time <= t, "log out of time order: {line}");
        }
        out.push(Entry {
            log: v.get("log").str().to_string(),
            stream,
            time: t,
            time_text: tt,
        });
    }
    out
}

pub fn stream_text(es: &[Entry], stream: &str) -> String {
    es.iter()
        .filter(|e| e.stream == stream)
        .map(|e| e.log.as_str())
        .collect()
}

// ---------------------------------------------------------------------------
// logs
