//! Detached containers seen from outside: `logs` (docker's json-file log,
//! stdout/stderr kept apart, --tail, -t, -f), `exec` (all the container's
//! namespaces, its env and workdir, exit codes, -i, -d, -t, fds, dumpable),
//! `inspect` and `top`, and errors for stopped or missing containers.

mod common;
use common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

// ---------------------------------------------------------------------------
// A small strict JSON parser (serde_json is not a dev-dependency): enough
// to check that inspect prints valid JSON and each log line is an object.

#[derive(Debug, Clone, PartialEq)]
enum J {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl J {
    fn get(&self, k: &str) -> &J {
        match self {
            J::Obj(v) => v
                .iter()
                .find(|(a, _)| a == k)
                .map(|(_, b)| b)
                .unwrap_or_else(|| panic!("no key {k:?} in {self:?}")),
            _ => panic!("not an object: {self:?}"),
        }
    }
    fn keys(&self) -> Vec<&str> {
        match self {
            J::Obj(v) => v.iter().map(|(k, _)| k.as_str()).collect(),
            _ => panic!("not an object: {self:?}"),
        }
    }
    fn str(&self) -> &str {
        match self {
            J::Str(s) => s,
            _ => panic!("not a string: {self:?}"),
        }
    }
    fn int(&self) -> i64 {
        match self {
            J::Num(n) => n.parse().unwrap_or_else(|_| panic!("not an integer: {n}")),
            _ => panic!("not a number: {self:?}"),
        }
    }
    fn bool(&self) -> bool {
        match self {
            J::Bool(b) => *b,
            _ => panic!("not a bool: {self:?}"),
        }
    }
    fn arr(&self) -> &[J] {
        match self {
            J::Arr(v) => v,
            _ => panic!("not an array: {self:?}"),
        }
    }
    fn strs(&self) -> Vec<String> {
        self.arr().iter().map(|s| s.str().to_string()).collect()
    }
}

fn json(s: &str) -> Result<J, String> {
    let b = s.as_bytes();
    let mut i = 0;
    let v = value(b, &mut i)?;
    ws(b, &mut i);
    if i != b.len() {
        return Err(format!("trailing data at {i}"));
    }
    Ok(v)
}

fn ws(b: &[u8], i: &mut usize) {
    while *i < b.len() && matches!(b[*i], b' ' | b'\t' | b'\n' | b'\r') {
        *i += 1;
    }
}

fn lit(b: &[u8], i: &mut usize, w: &str, v: J) -> Result<J, String> {
    if b[*i..].starts_with(w.as_bytes()) {
        *i += w.len();
        Ok(v)
    } else {
        Err(format!("bad literal at {i}"))
    }
}

fn value(b: &[u8], i: &mut usize) -> Result<J, String> {
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

fn hex4(b: &[u8], i: &mut usize) -> Result<u32, String> {
    let h = b.get(*i..*i + 4).ok_or("short \\u")?;
    *i += 4;
    u32::from_str_radix(std::str::from_utf8(h).map_err(|e| e.to_string())?, 16)
        .map_err(|e| e.to_string())
}

fn string(b: &[u8], i: &mut usize) -> Result<String, String> {
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

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// Parse `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z` into (seconds, nanoseconds) since
/// the epoch; the fraction is required when `frac` is set.
fn rfc3339(s: &str, frac: bool) -> Option<(i64, u32)> {
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

fn now() -> (i64, u32) {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    (d.as_secs() as i64, d.subsec_nanos())
}

#[test]
fn rfc3339_and_json_helpers_can_fail() {
    // The checkers used below must reject what is wrong, or the tests
    // that rely on them would pass on anything.
    assert_eq!(rfc3339("1970-01-01T00:00:00Z", false), Some((0, 0)));
    assert_eq!(
        rfc3339("2023-11-14T22:13:20.000000005Z", true),
        Some((1_700_000_000, 5))
    );
    assert_eq!(
        rfc3339("2023-11-14T22:13:20.5Z", true),
        Some((1_700_000_000, 500_000_000))
    );
    assert_eq!(rfc3339("2023-11-14T22:13:20Z", true), None);
    assert_eq!(rfc3339("2023-11-14T22:13:20.123+01:00", true), None);
    assert_eq!(rfc3339("2023-11-14 22:13:20.1Z", true), None);
    assert_eq!(rfc3339("2023-11-14T22:13:20.1234567890Z", true), None);
    let v = json(r#"[{"a":"x\"\\\t\u00e9\ud83d\ude00","b":[1,-2.5e3,true,null]}]"#).unwrap();
    assert_eq!(v.arr()[0].get("a").str(), "x\"\\\té😀");
    assert_eq!(v.arr()[0].get("b").arr()[0].int(), 1);
    for bad in [
        "[1,]",
        "{\"a\":1,\"a\":2}",
        "{\"a\" 1}",
        "[\"x\ny\"]",
        "[1] x",
        "[\"\\q\"]",
        "{",
        "",
    ] {
        assert!(json(bad).is_err(), "accepted {bad:?}");
    }
}

// ---------------------------------------------------------------------------
// Helpers.

/// Kill a child we spawned (logs -f, a background exec) if a test fails.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Run a command, killing it and failing if it takes more than `secs`.
fn output_within(mut c: Command, secs: u64, what: &str) -> Output {
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

fn exec(r: &Root, id: &str, args: &[&str]) -> Output {
    let mut v = vec!["exec", id];
    v.extend(args);
    r.out(&v)
}

/// `exec ID sh -c SCRIPT`, which must succeed; its stdout.
fn sh(r: &Root, id: &str, script: &str) -> String {
    let o = exec(r, id, &["sh", "-c", script]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "exec sh -c {script:?}: {}",
        stderr(&o)
    );
    stdout(&o)
}

fn inspect(r: &Root, id: &str) -> J {
    let o = r.out(&["inspect", id]);
    assert_eq!(o.status.code(), Some(0), "inspect: {}", stderr(&o));
    let v = json(&stdout(&o)).unwrap_or_else(|e| panic!("inspect JSON: {e}\n{}", stdout(&o)));
    assert_eq!(v.arr().len(), 1, "{v:?}");
    v.arr()[0].clone()
}

/// The container init's host pid, from `inspect`.
fn init_pid(r: &Root, id: &str) -> i32 {
    let pid = inspect(r, id).get("State").get("Pid").int() as i32;
    assert!(pid > 1, "Pid {pid}");
    pid
}

/// Wait until the container has exited (`pocket wait`, which lets the
/// monitor write the exit down); its exit code, as wait and inspect say.
fn wait_exited(r: &Root, id: &str) -> i64 {
    let o = output_within(r.cmd(&["wait", id]), 15, "pocket wait");
    assert_eq!(o.status.code(), Some(0), "wait: {}", stderr(&o));
    let code: i64 = stdout(&o).trim().parse().unwrap();
    let st = inspect(r, id).get("State").clone();
    assert_eq!(st.get("Status").str(), "exited");
    assert_eq!(st.get("ExitCode").int(), code, "wait and inspect disagree");
    code
}

fn read_link(p: String) -> String {
    std::fs::read_link(&p)
        .unwrap_or_else(|e| panic!("readlink {p}: {e}"))
        .to_string_lossy()
        .into_owned()
}

fn comm(pid: i32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|s| s.trim().to_string())
}

/// The pid of a host process in its own (innermost) pid namespace.
fn ns_pid(pid: i32) -> i32 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let l = s.lines().find(|l| l.starts_with("NSpid:")).unwrap();
    l.split_whitespace().last().unwrap().parse().unwrap()
}

fn gone(pid: i32) -> bool {
    state(pid).is_none_or(|s| s == 'Z')
}

/// One error line `pocket: ...` and nothing on stdout.
fn one_error_line(o: &Output, what: &str) {
    let e = stderr(o);
    assert!(
        e.starts_with("pocket: ") && e.ends_with('\n') && e.lines().count() == 1,
        "{what}: stderr {e:?}"
    );
    assert_eq!(stdout(o), "", "{what}: stdout");
}

struct Entry {
    log: String,
    stream: String,
    time: (i64, u32),
    time_text: String,
}

/// The container's log file, every line checked to be a json-file entry:
/// a JSON object with exactly log, stream (stdout|stderr) and time
/// (RFC 3339 with nanoseconds, UTC, near now), in time order.
fn log_file(r: &Root, id: &str) -> Vec<Entry> {
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

fn stream_text(es: &[Entry], stream: &str) -> String {
    es.iter()
        .filter(|e| e.stream == stream)
        .map(|e| e.log.as_str())
        .collect()
}

// ---------------------------------------------------------------------------
// logs

#[test]
fn logs_keeps_stdout_and_stderr_apart_in_a_json_file_log() {
    if !root() {
        return;
    }
    let r = Root::new("logs-streams");
    let script = r#"echo out1; echo err1 >&2; printf '%s\n' 'q"b\s'; printf 't\tx\n' >&2; printf 'no newline'"#;
    let id = r.run_d(&["sh", "-c", script]);
    assert_eq!(wait_exited(&r, &id), 0);

    let want_out = "out1\nq\"b\\s\nno newline";
    let want_err = "err1\nt\tx\n";
    let o = r.out(&["logs", &id]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), want_out, "stdout of logs");
    assert_eq!(stderr(&o), want_err, "stderr of logs");

    // On disk: docker's json-file format, streams tagged, escapes intact.
    let es = log_file(&r, &id);
    assert_eq!(es.len(), 5, "one entry per line");
    assert_eq!(stream_text(&es, "stdout"), want_out);
    assert_eq!(stream_text(&es, "stderr"), want_err);
    assert!(
        es.iter()
            .any(|e| e.log == "q\"b\\s\n" && e.stream == "stdout")
    );
    assert!(es.iter().any(|e| e.log == "t\tx\n" && e.stream == "stderr"));
    // The log may hold secrets: not readable by other users.
    let path = r.0.join("containers").join(&id).join("container.log");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o007, 0, "log mode {mode:o}");
    // inspect names the same file.
    assert_eq!(
        inspect(&r, &id).get("LogPath").str(),
        path.to_str().unwrap()
    );
}

#[test]
fn logs_tail_and_timestamps() {
    if !root() {
        return;
    }
    let r = Root::new("logs-tail");
    let id = r.run_d(&[
        "--name",
        "counter",
        "sh",
        "-c",
        "for i in 1 2 3 4 5 6 7 8 9 10; do echo $i; done",
    ]);
    assert_eq!(wait_exited(&r, &id), 0);
    let all: String = (1..=10).map(|i| format!("{i}\n")).collect();
    let logs = |args: &[&str]| {
        let mut v = vec!["logs"];
        v.extend(args);
        let o = r.out(&v);
        assert_eq!(o.status.code(), Some(0), "logs {args:?}: {}", stderr(&o));
        assert_eq!(stderr(&o), "");
        stdout(&o)
    };
    assert_eq!(logs(&["counter"]), all, "by name");
    assert_eq!(logs(&["--tail", "3", &id]), "8\n9\n10\n");
    assert_eq!(logs(&["--tail=1", &id]), "10\n");
    assert_eq!(logs(&["--tail", "0", &id]), "");
    assert_eq!(logs(&["--tail", "100", &id]), all);
    assert_eq!(logs(&["--tail", "all", &id]), all);
    // A bad flag value is bad usage: 125, as docker's CLI.
    let o = r.out(&["logs", "--tail", "x", &id]);
    assert_eq!(o.status.code(), Some(125));
    one_error_line(&o, "--tail x");

    // -t: each line is "<its time from the log> <text>".
    let es = log_file(&r, &id);
    assert_eq!(es.len(), 10);
    let t = logs(&["-t", &id]);
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(lines.len(), 10, "{t}");
    for (i, (l, e)) in lines.iter().zip(&es).enumerate() {
        let (ts, text) = l.split_once(' ').unwrap_or_else(|| panic!("{l:?}"));
        assert!(rfc3339(ts, true).is_some(), "timestamp {ts:?}");
        assert_eq!(ts, e.time_text);
        assert_eq!(text, format!("{}", i + 1));
    }
    let t2 = logs(&["--timestamps", "--tail", "2", &id]);
    assert_eq!(t2.lines().count(), 2);
    assert!(t2.lines().nth(1).unwrap().ends_with(" 10"), "{t2}");
}

#[test]
fn logs_follow_sees_later_lines_and_ends_with_the_container() {
    if !root() {
        return;
    }
    let r = Root::new("logs-follow");
    // The container writes only when the test says so (a file in its own
    // /dev/shm), so the lines come after `logs -f` has started.
    let id = r.run_d(&[
        "sh",
        "-c",
        "echo ready; \
         while [ ! -e /dev/shm/go ]; do sleep 0.02; done; echo first; echo efirst >&2; \
         while [ ! -e /dev/shm/go2 ]; do sleep 0.02; done; echo second; exit 4",
    ]);
    let mut c = r.cmd(&["logs", "-f", &id]);
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut g = Guard(c.spawn().unwrap());
    let (tx, rx) = mpsc::channel::<(&'static str, String)>();
    let out = g.0.stdout.take().unwrap();
    let err = g.0.stderr.take().unwrap();
    for (name, pipe) in [
        ("stdout", Box::new(out) as Box<dyn Read + Send>),
        ("stderr", Box::new(err) as Box<dyn Read + Send>),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for l in BufReader::new(pipe).lines() {
                let Ok(l) = l else { break };
                if tx.send((name, l)).is_err() {
                    break;
                }
            }
        });
    }
    // Only the readers hold senders now: the channel closes with them.
    drop(tx);
    let next = |what: &str| {
        rx.recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("logs -f: no {what} line within 10s"))
    };
    assert_eq!(next("ready"), ("stdout", "ready".into()));
    // logs -f has printed "ready": whatever comes now it reads by following.
    sh(&r, &id, "touch /dev/shm/go");
    let mut got = vec![next("first"), next("efirst")];
    got.sort();
    assert_eq!(
        got,
        [("stderr", "efirst".into()), ("stdout", "first".into())]
    );
    sh(&r, &id, "touch /dev/shm/go2");
    assert_eq!(next("second"), ("stdout", "second".into()));
    // The container exits: logs -f returns by itself, with status 0.
    let st = wait_for(15, "logs -f to return", || g.0.try_wait().unwrap());
    assert_eq!(st.code(), Some(0));
    assert_eq!(wait_exited(&r, &id), 4);
    // Nothing printed twice, nothing after the end.
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(10)),
        Err(mpsc::RecvTimeoutError::Disconnected)
    );

    // -f on a container that has already exited prints all and returns.
    let o = output_within(
        r.cmd(&["logs", "-f", &id]),
        10,
        "logs -f of an exited container",
    );
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "ready\nfirst\nsecond\n");
    assert_eq!(stderr(&o), "efirst\n");
}

#[test]
fn run_d_with_tty_logs_the_pty() {
    if !root() {
        return;
    }
    let r = Root::new("logs-tty");
    let id = r.run_d(&["-t", "sh", "-c", "tty; echo done"]);
    assert_eq!(wait_exited(&r, &id), 0);
    let es = log_file(&r, &id);
    // A terminal turns \n into \r\n; docker keeps it so in the log.
    assert!(
        es.iter()
            .any(|e| e.log == "/dev/pts/0\r\n" && e.stream == "stdout"),
        "{:?}",
        es.iter().map(|e| &e.log).collect::<Vec<_>>()
    );
    let o = r.out(&["logs", &id]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("/dev/pts/0"), "{}", stdout(&o));
    assert!(inspect(&r, &id).get("Config").get("Tty").bool());
}

// ---------------------------------------------------------------------------
// exec

#[test]
fn exec_sees_the_containers_init_hostname_env_and_workdir() {
    if !root() {
        return;
    }
    let r = Root::new("exec-env");
    let id = r.run_d(&[
        "--name",
        "box1",
        "--hostname",
        "boxhost",
        "-e",
        "A=1",
        "-w",
        "/tmp",
        "sleep",
        "300",
    ]);
    // PID 1 is the container's command.
    let o = exec(&r, &id, &["cat", "/proc/1/cmdline"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(o.stdout, b"sleep\x00300\x00");
    assert_eq!(
        inspect(&r, &id).get("Config").get("Cmd").strs(),
        ["sleep", "300"]
    );
    // By name too; the container's hostname, not the host's.
    let o = exec(&r, "box1", &["hostname"]);
    assert_eq!(stdout(&o), "boxhost\n", "{}", stderr(&o));

    // The container's env, not pocket's.
    let mut c = r.cmd(&["exec", &id, "env"]);
    c.env("SECRET", "x");
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let env: Vec<String> = stdout(&o).lines().map(String::from).collect();
    assert!(env.contains(&"A=1".to_string()), "{env:?}");
    assert!(env.contains(&"HOSTNAME=boxhost".to_string()), "{env:?}");
    assert!(env.iter().any(|e| e.starts_with("PATH=")), "{env:?}");
    assert!(!env.iter().any(|e| e.starts_with("SECRET")), "{env:?}");
    // -e adds or overrides; -e KEY takes pocket's value.
    let mut c = r.cmd(&["exec", "-e", "A=2", "-e", "B=3", "-e", "SECRET", &id, "env"]);
    c.env("SECRET", "x");
    let o = c.output().unwrap();
    let env: Vec<String> = stdout(&o).lines().map(String::from).collect();
    assert_eq!(
        env.iter()
            .filter(|e| e.starts_with("A="))
            .collect::<Vec<_>>(),
        ["A=2"]
    );
    assert!(env.contains(&"B=3".to_string()), "{env:?}");
    assert!(env.contains(&"SECRET=x".to_string()), "{env:?}");
    // -e at exec does not stick: the next exec has the container's env.
    let env = sh(&r, &id, "env");
    assert!(env.contains("A=1\n") && !env.contains("B=3"), "{env}");

    // The container's workdir; -w for one exec.
    assert_eq!(sh(&r, &id, "pwd"), "/tmp\n");
    let o = r.out(&["exec", "-w", "/etc", &id, "pwd"]);
    assert_eq!(stdout(&o), "/etc\n", "{}", stderr(&o));
    let o = r.out(&["exec", "-w", "etc", &id, "pwd"]);
    assert_eq!(o.status.code(), Some(125));
    one_error_line(&o, "exec -w relative");
}

#[test]
fn exec_workdir_that_does_not_exist_is_a_clear_error() {
    if !root() {
        return;
    }
    let r = Root::new("exec-nowd");
    let id = r.run_d(&["sleep", "300"]);
    let o = r.out(&["exec", "-w", "/no/such/dir", &id, "pwd"]);
    assert_ne!(o.status.code(), Some(0));
    one_error_line(&o, "exec -w /no/such/dir");
    // `pocket: <step> <what>: <why>`: the error names the directory.
    assert!(stderr(&o).contains("/no/such/dir"), "{}", stderr(&o));
    // exec does not create it (run -w does; exec is not run).
    let o = exec(&r, &id, &["test", "-e", "/no/such/dir"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn exec_joins_the_containers_namespaces_and_mounts() {
    if !root() {
        return;
    }
    let r = Root::new("exec-ns");
    let id = r.run_d(&["sleep", "300"]);
    let pid = init_pid(&r, &id);
    wait_for(5, "sleep to start", || {
        (comm(pid)? == "sleep").then_some(())
    });

    // Every namespace the init has, exec has; none of them is the host's.
    let names = ["cgroup", "ipc", "mnt", "net", "pid", "uts"];
    let inside = sh(
        &r,
        &id,
        "for n in cgroup ipc mnt net pid uts; do readlink /proc/$$/ns/$n; done",
    );
    let init: String = names
        .iter()
        .map(|n| read_link(format!("/proc/{pid}/ns/{n}")) + "\n")
        .collect();
    assert_eq!(inside, init);
    for n in names {
        assert_ne!(
            read_link(format!("/proc/{pid}/ns/{n}")),
            read_link(format!("/proc/self/ns/{n}")),
            "{n} namespace is the host's"
        );
    }

    // The same mounts, seen from the same root: the container's /proc and
    // /dev/pts, not the host's.
    let o = exec(&r, &id, &["cat", "/proc/self/mountinfo"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mi = stdout(&o);
    assert_eq!(
        mi,
        std::fs::read_to_string(format!("/proc/{pid}/mountinfo")).unwrap()
    );
    assert_ne!(mi, std::fs::read_to_string("/proc/self/mountinfo").unwrap());
    let has = |point: &str, fstype: &str| {
        mi.lines().any(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            let dash = f.iter().position(|x| *x == "-").unwrap();
            f[4] == point && f[dash + 1] == fstype
        })
    };
    assert!(has("/proc", "proc"), "{mi}");
    assert!(has("/dev/pts", "devpts"), "{mi}");

    // Its pid namespace: not PID 1, a small pid, and ps sees only the
    // container: its init and the ps itself.
    let n: i32 = sh(&r, &id, "echo $$").trim().parse().unwrap();
    assert!(n > 1 && n < 1000, "exec'd pid {n}");
    let o = exec(&r, &id, &["ps", "-o", "pid,args"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let rows: Vec<Vec<String>> = stdout(&o)
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect();
    assert_eq!(rows.len(), 2, "{}", stdout(&o));
    assert_eq!(rows[0], ["1", "sleep", "300"]);
    assert_eq!(&rows[1][1..], ["ps", "-o", "pid,args"]);
}

#[test]
fn exec_exit_codes() {
    if !root() {
        return;
    }
    let r = Root::new("exec-codes");
    let id = r.run_d(&["sleep", "300"]);
    assert_eq!(exec(&r, &id, &["true"]).status.code(), Some(0));
    assert_eq!(
        exec(&r, &id, &["sh", "-c", "exit 5"]).status.code(),
        Some(5)
    );
    assert_eq!(
        exec(&r, &id, &["sh", "-c", "exit 255"]).status.code(),
        Some(255)
    );
    // Killed by a signal (from inside, but it is not PID 1): 128+9.
    assert_eq!(
        exec(&r, &id, &["sh", "-c", "kill -9 $$"]).status.code(),
        Some(137)
    );

    let o = exec(&r, &id, &["no-such-command"]);
    assert_eq!(o.status.code(), Some(127));
    assert_eq!(
        stderr(&o),
        "pocket: exec no-such-command: executable file not found in $PATH\n"
    );
    let o = exec(&r, &id, &["/etc/passwd"]);
    assert_eq!(o.status.code(), Some(126));
    one_error_line(&o, "exec /etc/passwd");
    let o = r.out(&["exec", &id]);
    assert_eq!(o.status.code(), Some(125));
    one_error_line(&o, "exec without a command");
    // None of it touched the container.
    let st = inspect(&r, &id).get("State").clone();
    assert!(st.get("Running").bool());
    assert_eq!(sh(&r, &id, "echo alive"), "alive\n");
}

#[test]
fn exec_interactive_passes_stdin_and_without_i_stdin_is_empty() {
    if !root() {
        return;
    }
    let r = Root::new("exec-stdin");
    let id = r.run_d(&["sleep", "300"]);
    let data: Vec<u8> = (0..300_000u32)
        .map(|i| {
            if i % 61 == 60 {
                b'\n'
            } else {
                b'a' + (i % 26) as u8
            }
        })
        .collect();
    for (flag, want) in [("-i", data.clone()), ("--interactive", data.clone())] {
        let mut c = r.cmd(&["exec", flag, &id, "sh", "-c", "cat; echo end"]);
        c.stdin(Stdio::piped()).stdout(Stdio::piped());
        let mut g = Guard(c.spawn().unwrap());
        let mut sin = g.0.stdin.take().unwrap();
        let d = data.clone();
        let w = std::thread::spawn(move || {
            sin.write_all(&d).unwrap();
            // dropped here: EOF
        });
        let mut out = vec![];
        g.0.stdout.take().unwrap().read_to_end(&mut out).unwrap();
        w.join().unwrap();
        let st = wait_for(10, "exec -i to return", || g.0.try_wait().unwrap());
        assert_eq!(st.code(), Some(0));
        let mut want = want;
        want.extend_from_slice(b"end\n");
        assert!(
            out == want,
            "{flag}: {} bytes back of {}",
            out.len(),
            want.len()
        );
    }
    // Without -i the command reads /dev/null, even if pocket's stdin has data.
    let mut c = r.cmd(&["exec", &id, "sh", "-c", "cat; echo end"]);
    c.stdin(Stdio::piped());
    let mut c = c.stdout(Stdio::piped()).spawn().unwrap();
    c.stdin
        .take()
        .unwrap()
        .write_all(b"should not arrive\n")
        .unwrap();
    let o = c.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "end\n");
}

#[test]
fn exec_detach_returns_at_once_and_the_process_lives_in_the_container() {
    if !root() {
        return;
    }
    let r = Root::new("exec-detach");
    let id = r.run_d(&["sleep", "300"]);
    let init = init_pid(&r, &id);
    // The command waits for a signal file: exec -d must not wait for it.
    let o = output_within(
        r.cmd(&[
            "exec",
            "-d",
            &id,
            "sh",
            "-c",
            "while [ ! -e /dev/shm/go ]; do sleep 0.02; done; \
             echo $$ > /dev/shm/done; echo lost; echo lost >&2; sleep 300",
        ]),
        10,
        "exec -d",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
    assert_eq!(stderr(&o), "");
    // It runs in the container's pid namespace.
    let p = wait_for(5, "the detached process", || {
        same_pidns(init)
            .into_iter()
            .find(|&p| p != init && comm(p).as_deref() == Some("sh"))
    });
    // (Its parent is pocket exec; once that exits the kernel gives it to
    // the reaper of pocket's pid namespace, not to the container's init.)
    assert_ne!(ns_pid(p), p, "not in a pid namespace of its own");
    // Detached: stdio is /dev/null, no stray fds (seen from the host
    // while it waits).
    let fds = wait_for(5, "the detached sh's fds", || {
        let mut v: Vec<(String, String)> = std::fs::read_dir(format!("/proc/{p}/fd"))
            .ok()?
            .flatten()
            .map(|e| {
                let l = std::fs::read_link(e.path()).unwrap_or_default();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    l.to_string_lossy().into_owned(),
                )
            })
            .collect();
        v.sort();
        Some(v)
    });
    let null = "/dev/null".to_string();
    assert_eq!(
        fds,
        [
            ("0".to_string(), null.clone()),
            ("1".into(), null.clone()),
            ("2".into(), null)
        ]
    );
    sh(&r, &id, "touch /dev/shm/go");
    let inner = wait_for(10, "the detached process to run on", || {
        let o = exec(&r, &id, &["cat", "/dev/shm/done"]);
        (o.status.code() == Some(0)).then(|| stdout(&o))
    });
    assert_eq!(inner.trim(), ns_pid(p).to_string());
    let o = r.out(&["logs", &id]);
    assert!(!stdout(&o).contains("lost") && !stderr(&o).contains("lost"));
    // Removing the container takes the detached process with it.
    let o = r.out(&["rm", "-f", &id]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    wait_for(10, "detached exec to be gone", || gone(p).then_some(()));
    assert!(gone(init));
}

#[test]
fn exec_passes_only_stdio_fds() {
    if !root() {
        return;
    }
    let r = Root::new("exec-fds");
    let id = r.run_d(&["sleep", "300"]);
    // `; true` keeps sh from exec'ing ls, so ls lists sh's fds.
    let script = "ls /proc/$$/fd; true";
    let mut c = r.cmd(&["exec", &id, "sh", "-c", script]);
    with_stray_fd(&mut c);
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "0\n1\n2\n");
    // The same with -i and with -t.
    for flag in ["-i", "-t"] {
        let mut c = r.cmd(&["exec", flag, &id, "sh", "-c", script]);
        with_stray_fd(&mut c);
        let o = c.output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{flag}: {}", stderr(&o));
        let fds: Vec<&str> = std::str::from_utf8(&o.stdout)
            .unwrap()
            .split_whitespace()
            .collect();
        assert_eq!(fds, ["0", "1", "2"], "{flag}");
    }
}

#[test]
fn exec_tty_gets_a_pty_of_the_container() {
    if !root() {
        return;
    }
    let r = Root::new("exec-tty");
    let id = r.run_d(&["sleep", "300"]);
    let o = r.out(&["exec", "-t", &id, "sh", "-c", "tty; echo $TERM"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s = stdout(&o);
    let mut l = s.split("\r\n");
    let tty = l.next().unwrap();
    assert!(tty.starts_with("/dev/pts/"), "{s:?}");
    assert_eq!(l.next(), Some("xterm"));
    // Without -t: no terminal.
    let o = exec(&r, &id, &["tty"]);
    assert_ne!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "not a tty\n");
}

/// capability(7) number of CAP_SYS_PTRACE (not in the libc crate).
const CAP_SYS_PTRACE: libc::c_ulong = 19;

/// `prctl(PR_CAPBSET_DROP, CAP_SYS_PTRACE)` before exec: the process (and
/// what it runs) lacks CAP_SYS_PTRACE, so /proc/PID/exe of another process
/// with the same caps is readable only if that process is dumpable.
fn without_sys_ptrace(c: &mut Command) {
    // SAFETY: only prctl between fork and exec.
    unsafe {
        c.pre_exec(|| {
            if libc::prctl(libc::PR_CAPBSET_DROP, CAP_SYS_PTRACE, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[test]
fn exec_is_not_dumpable_but_the_command_it_runs_is() {
    if !root() {
        return;
    }
    let r = Root::new("exec-dump");
    let id = r.run_d(&["sleep", "300"]);
    let busybox = rootfs().join("bin/busybox");
    // Readable by a process without CAP_SYS_PTRACE?
    let readable = |pid: i32| {
        let mut c = Command::new(&busybox);
        c.args(["readlink", &format!("/proc/{pid}/exe")]);
        without_sys_ptrace(&mut c);
        let o = c.output().unwrap();
        o.status.success() && !o.stdout.is_empty()
    };
    // Control: an ordinary process with the same capabilities is.
    let mut c = Command::new(&busybox);
    c.args(["sleep", "300"]);
    without_sys_ptrace(&mut c);
    let ctl = Guard(c.spawn().unwrap());
    assert!(
        readable(ctl.0.id() as i32),
        "the observer cannot read a plain process"
    );

    // pocket exec, with the same capabilities, running `sleep 301`.
    let mut c = r.cmd(&["exec", &id, "sleep", "301"]);
    without_sys_ptrace(&mut c);
    let ex = Guard(c.spawn().unwrap());
    let pocket_pid = ex.0.id() as i32;
    let child = wait_for(10, "the exec'd sleep", || {
        children(pocket_pid)
            .into_iter()
            .find(|&p| comm(p).as_deref() == Some("sleep"))
    });
    // pocket itself stays non-dumpable (it holds the container's
    // namespaces and root); the command it ran is an ordinary process.
    assert!(!readable(pocket_pid), "pocket exec is dumpable");
    assert!(readable(child), "the exec'd command is not dumpable");
    // Inside the container (no CAP_SYS_PTRACE there either) it is a
    // normal process too.
    let n = ns_pid(child);
    assert_eq!(
        sh(&r, &id, &format!("readlink /proc/{n}/exe")),
        "/bin/busybox\n"
    );
    drop(ex);
    drop(ctl);
}

#[test]
fn exec_into_a_stopped_or_missing_container_fails_and_changes_nothing() {
    if !root() {
        return;
    }
    let r = Root::new("exec-stopped");
    // Missing: no container is made.
    let o = r.out(&["exec", "nosuch", "true"]);
    // A missing container is docker's "No such container": exit 1.
    assert_eq!(o.status.code(), Some(1));
    one_error_line(&o, "exec nosuch");
    assert!(stderr(&o).contains("nosuch"));
    let o = r.out(&["ps", "-aq"]);
    assert_eq!(stdout(&o), "");

    let id = r.run_d(&["--name", "done3", "sh", "-c", "echo hi; exit 3"]);
    assert_eq!(wait_exited(&r, &id), 3);
    let before = stdout(&r.out(&["inspect", &id]));
    let log = std::fs::read(r.0.join("containers").join(&id).join("container.log")).unwrap();
    for args in [
        vec!["exec", &id, "true"],
        vec!["exec", "done3", "sh", "-c", "echo never"],
        vec!["exec", "-d", &id, "true"],
        vec!["exec", "-i", &id, "cat"],
        vec!["exec", "-t", &id, "true"],
    ] {
        let o = r.out(&args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        one_error_line(&o, &format!("{args:?}"));
        assert!(
            stderr(&o).contains("not running"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
    assert_eq!(stdout(&r.out(&["inspect", &id])), before, "inspect changed");
    assert_eq!(
        std::fs::read(r.0.join("containers").join(&id).join("container.log")).unwrap(),
        log,
        "log changed"
    );
    let o = r.out(&["ps", "-aq", "--no-trunc"]);
    assert_eq!(stdout(&o), format!("{id}\n"));

    // The management commands fail with 1, as docker's.
    for args in [
        vec!["logs", "nosuch"],
        vec!["top", "nosuch"],
        vec!["top", &id],
    ] {
        let o = r.out(&args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        one_error_line(&o, &format!("{args:?}"));
    }
    let o = r.out(&["inspect", "nosuch"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o).lines().count(), 1);
    assert!(stderr(&o).starts_with("pocket: "));
    assert_eq!(json(&stdout(&o)).unwrap(), J::Arr(vec![]));
}

// ---------------------------------------------------------------------------
// inspect and top

#[test]
fn inspect_shows_state_and_config_and_the_real_pid() {
    if !root() {
        return;
    }
    let r = Root::new("inspect");
    let script = "while [ ! -e /dev/shm/go ]; do sleep 0.02; done; exit 3";
    let t0 = now();
    let id = r.run_d(&[
        "--name",
        "insp",
        "--hostname",
        "ihost",
        "-e",
        "A=1",
        "-w",
        "/tmp",
        "sh",
        "-c",
        script,
    ]);
    let o = r.out(&["inspect", "insp"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.trim_start().starts_with('[') && text.trim_end().ends_with(']'));
    for k in [
        "Id",
        "State",
        "Status",
        "Running",
        "Pid",
        "ExitCode",
        "StartedAt",
        "FinishedAt",
        "Config",
        "Cmd",
        "Env",
        "WorkingDir",
        "Hostname",
    ] {
        assert!(text.contains(&format!("\"{k}\"")), "no {k} in {text}");
    }
    let v = json(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let c = &v.arr()[0];
    assert_eq!(c.get("Id").str(), id);
    assert_eq!(c.get("Name").str(), "/insp");
    let st = c.get("State");
    assert_eq!(st.get("Status").str(), "running");
    assert!(st.get("Running").bool());
    assert_eq!(st.get("ExitCode").int(), 0);
    let started = rfc3339(st.get("StartedAt").str(), true).expect("StartedAt");
    assert!(
        started >= (t0.0 - 1, 0) && started <= now(),
        "StartedAt {started:?}"
    );
    assert!(rfc3339(st.get("FinishedAt").str(), false).is_some());
    let cfg = c.get("Config");
    assert_eq!(cfg.get("Cmd").strs(), ["sh", "-c", script]);
    assert!(cfg.get("Env").strs().contains(&"A=1".to_string()));
    assert_eq!(cfg.get("WorkingDir").str(), "/tmp");
    assert_eq!(cfg.get("Hostname").str(), "ihost");

    // Pid is the host pid of the container's init: PID 1 of a pid
    // namespace that is not the host's, running the command.
    let pid = st.get("Pid").int() as i32;
    assert!(pid > 1);
    assert_ne!(
        read_link(format!("/proc/{pid}/ns/pid")),
        read_link("/proc/self/ns/pid".into())
    );
    assert_eq!(ns_pid(pid), 1);
    assert!(same_pidns(pid).contains(&pid));
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    assert_eq!(cmdline, format!("sh\0-c\0{script}\0").into_bytes());

    // Two at once: an array of two.
    let o = r.out(&["inspect", &id, "insp"]);
    assert_eq!(json(&stdout(&o)).unwrap().arr().len(), 2);

    // It exits with 3.
    sh(&r, &id, "touch /dev/shm/go");
    assert_eq!(wait_exited(&r, &id), 3);
    let c = inspect(&r, &id);
    let st = c.get("State");
    assert_eq!(st.get("Status").str(), "exited");
    assert!(!st.get("Running").bool());
    assert_eq!(st.get("ExitCode").int(), 3);
    assert_eq!(st.get("Pid").int(), 0);
    let fin = rfc3339(st.get("FinishedAt").str(), true).expect("FinishedAt");
    let started2 = rfc3339(st.get("StartedAt").str(), true).unwrap();
    assert_eq!(started2, started, "StartedAt changed");
    assert!(fin >= started && fin <= now(), "FinishedAt {fin:?}");
    assert!(gone(pid));
    // The config is still there after the exit.
    assert_eq!(c.get("Config").get("Cmd").strs(), ["sh", "-c", script]);
}

#[test]
fn top_lists_the_containers_processes_by_host_pid() {
    if !root() {
        return;
    }
    let r = Root::new("top");
    let id = r.run_d(&["sleep", "300"]);
    let init = init_pid(&r, &id);
    let o = output_within(r.cmd(&["exec", "-d", &id, "sleep", "301"]), 10, "exec -d");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let extra = wait_for(5, "the exec'd sleep", || {
        same_pidns(init)
            .into_iter()
            .find(|&p| p != init && comm(p).as_deref() == Some("sleep"))
    });
    let o = r.out(&["top", &id]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    let pcol = head.iter().position(|h| *h == "PID").expect("PID column");
    let ccol = head.iter().position(|h| *h == "CMD").expect("CMD column");
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split_whitespace().collect()).collect();
    let mut pids: Vec<i32> = rows.iter().map(|r| r[pcol].parse().unwrap()).collect();
    pids.sort();
    let mut want = vec![init, extra];
    want.sort();
    assert_eq!(pids, want, "{text}");
    for row in &rows {
        assert_eq!(
            row[ccol..].join(" "),
            if row[pcol] == init.to_string() {
                "sleep 300"
            } else {
                "sleep 301"
            }
        );
    }
    // And it is the host's view: the same pids /proc shows in that pid ns.
    let mut ns = same_pidns(init);
    ns.sort();
    assert_eq!(pids, ns);
}

// ---------------------------------------------------------------------------
// The exit as others see it while the monitor writes it down.

#[test]
fn an_exit_is_never_seen_as_137_while_the_monitor_writes_it() {
    if !root() {
        return;
    }
    let r = Root::new("exit-race");
    for round in 0..15 {
        let id = r.run_d(&["sh", "-c", "echo a; exit 3"]);
        // The first state other than running that inspect shows is the
        // real one: exited with 3 (not 137 while the monitor is busy).
        let first = wait_for(15, "the container to leave running", || {
            let st = inspect(&r, &id).get("State").clone();
            (st.get("Status").str() != "running")
                .then(|| (st.get("Status").str().to_string(), st.get("ExitCode").int()))
        });
        assert_eq!(first, ("exited".to_string(), 3), "round {round}");
        assert_eq!(wait_exited(&r, &id), 3);
        let o = r.out(&["rm", &id]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
}

#[test]
fn logs_f_started_with_the_container_gets_all_its_output() {
    if !root() {
        return;
    }
    let r = Root::new("follow-race");
    let want: String = (1..=2000).map(|i| format!("line {i}\n")).collect();
    for round in 0..15 {
        let id = r.run_d(&[
            "sh",
            "-c",
            "i=1; while [ $i -le 2000 ]; do echo line $i; i=$((i+1)); done; exit 3",
        ]);
        let o = output_within(r.cmd(&["logs", "-f", &id]), 15, "logs -f");
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(stdout(&o), want, "logs -f, round {round}");
        assert_eq!(wait_exited(&r, &id), 3);
        let o = r.out(&["rm", &id]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
}
