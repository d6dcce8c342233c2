//! Health checks (docker's HEALTHCHECK, --health-*): a process the
//! monitor forks beside each run of the container runs the check through
//! the exec path every interval, and keeps the outcome in the container's
//! `health.json` in docker's shape (Status, FailingStreak, the last five
//! results), which `ps` and `inspect` read. No daemon: it lives and dies
//! with the run it watches.

use crate::error::{Error, Result};
use crate::json::{self, Value};
use crate::rt::time::{self, Timestamp};
use crate::spec::Spec;
use crate::state::Store;
use crate::sys::fd::{self, Fd};
use crate::sys::proc;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// docker's defaults: 30 s interval and timeout, 3 retries, no start
/// period, 5 s between checks during it.
const DEFAULT_INTERVAL: u64 = 30_000_000_000;
const DEFAULT_TIMEOUT: u64 = 30_000_000_000;
const DEFAULT_START_INTERVAL: u64 = 5_000_000_000;
const DEFAULT_RETRIES: u32 = 3;
/// Results kept in the log, and bytes of output kept of each (docker's).
const LOG_ENTRIES: usize = 5;
const MAX_OUTPUT: usize = 4096;

/// A container's check, as docker's Config.Healthcheck has it (times in
/// nanoseconds; 0: the default).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Check {
    /// ["CMD", arg...], ["CMD-SHELL", "command"] or ["NONE"].
    pub test: Vec<String>,
    pub interval: u64,
    pub timeout: u64,
    pub start_period: u64,
    pub start_interval: u64,
    pub retries: u32,
}

impl Check {
    pub fn to_json(&self) -> Value {
        let ns = |n: u64| (n != 0).then(|| json::num(n));
        json::obj!(
            ("Test", Some(json::strs(&self.test))),
            ("Interval", ns(self.interval)),
            ("Timeout", ns(self.timeout)),
            ("StartPeriod", ns(self.start_period)),
            ("StartInterval", ns(self.start_interval)),
            (
                "Retries",
                (self.retries != 0).then(|| json::num(self.retries))
            ),
        )
    }

    /// docker's Healthcheck object (an image config's, or ours).
    pub fn from_json(v: &Value) -> Option<Check> {
        let ns = |k: &str| v.get(k).and_then(Value::u64).unwrap_or(0);
        Some(Check {
            test: v.get("Test").and_then(Value::strings)?,
            interval: ns("Interval"),
            timeout: ns("Timeout"),
            start_period: ns("StartPeriod"),
            start_interval: ns("StartInterval"),
            retries: v.get("Retries").and_then(Value::u64).unwrap_or(0) as u32,
        })
    }

    /// Does it check anything? (["NONE"] or nothing: no.)
    pub fn active(&self) -> bool {
        matches!(
            self.test.first().map(String::as_str),
            Some("CMD" | "CMD-SHELL")
        ) && self.test.len() > 1
    }

    /// The command run in the container.
    fn argv(&self) -> Vec<Vec<u8>> {
        match self.test.first().map(String::as_str) {
            Some("CMD-SHELL") => alloc::vec![
                b"/bin/sh".to_vec(),
                b"-c".to_vec(),
                self.test[1..].join(" ").into_bytes()
            ],
            _ => self.test[1..]
                .iter()
                .map(|a| a.clone().into_bytes())
                .collect(),
        }
    }
}

/// The --health-* flags over the image's HEALTHCHECK, as docker merges
/// them: a flag replaces the image's value; --no-healthcheck drops both.
#[derive(Clone, Copy)]
pub struct Flags<'a> {
    pub cmd: Option<&'a str>,
    pub interval: Option<&'a str>,
    pub timeout: Option<&'a str>,
    pub start_period: Option<&'a str>,
    pub start_interval: Option<&'a str>,
    pub retries: Option<&'a str>,
    pub none: bool,
}

pub fn merge(f: &Flags, image: Option<&Check>) -> Result<Option<Check>> {
    let given = f.cmd.is_some()
        || f.interval.is_some()
        || f.timeout.is_some()
        || f.start_period.is_some()
        || f.start_interval.is_some()
        || f.retries.is_some();
    if f.none {
        if given {
            return Err(Error::bad(
                "conflicting options",
                "--no-healthcheck",
                "cannot be used with --health-*",
            ));
        }
        return Ok(None);
    }
    let mut c = image.cloned().unwrap_or_default();
    if let Some(cmd) = f.cmd {
        c.test = alloc::vec![String::from("CMD-SHELL"), String::from(cmd)];
    }
    let dur = |v: Option<&str>, flag: &str, old: u64| -> Result<u64> {
        let Some(v) = v else { return Ok(old) };
        let n = time::parse_duration(v).ok_or_else(|| {
            Error::bad(
                format!("invalid argument \"{v}\" for \"--{flag}\""),
                "",
                "a duration (30s, 1m30s, 500ms)",
            )
        })?;
        // docker: 0 is the default; else at least a millisecond.
        if n != 0 && n < 1_000_000 {
            return Err(Error::bad(
                format!("--{flag}"),
                String::from(v),
                "cannot be less than 1ms",
            ));
        }
        Ok(n)
    };
    c.interval = dur(f.interval, "health-interval", c.interval)?;
    c.timeout = dur(f.timeout, "health-timeout", c.timeout)?;
    c.start_period = dur(f.start_period, "health-start-period", c.start_period)?;
    c.start_interval = dur(f.start_interval, "health-start-interval", c.start_interval)?;
    if let Some(r) = f.retries {
        c.retries = r.parse::<u32>().map_err(|_| {
            Error::bad(
                format!("invalid argument \"{r}\" for \"--health-retries\""),
                "",
                "a number",
            )
        })?;
    }
    if !given && image.is_none() {
        return Ok(None);
    }
    if c.test.is_empty() && given {
        return Err(Error::bad(
            "--health-*",
            "",
            "needs a check: --health-cmd, or the image's HEALTHCHECK",
        ));
    }
    Ok(c.active().then_some(c))
}

/// A run's health so far: docker's State.Health.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Health {
    /// "starting", "healthy" or "unhealthy".
    pub status: &'static str,
    pub failing_streak: u32,
    /// (start, end, exit code, output), oldest first.
    pub log: Vec<(Timestamp, Timestamp, i32, String)>,
}

impl Health {
    fn new() -> Health {
        Health {
            status: "starting",
            failing_streak: 0,
            log: Vec::new(),
        }
    }

    pub fn to_json(&self) -> Value {
        let log = self
            .log
            .iter()
            .map(|(s, e, code, out)| {
                json::obj!(
                    ("Start", Some(Value::Str(time::rfc3339_nano_trimmed(*s)))),
                    ("End", Some(Value::Str(time::rfc3339_nano_trimmed(*e)))),
                    ("ExitCode", Some(json::num(code))),
                    ("Output", Some(json::str(out))),
                )
            })
            .collect();
        json::obj!(
            ("Status", Some(json::str(self.status))),
            ("FailingStreak", Some(json::num(self.failing_streak))),
            ("Log", Some(Value::Arr(log))),
        )
    }

    /// health.json as `inspect` shows it (None: no check ran yet, or none).
    pub fn read(store: &Store, id: &str) -> Option<Value> {
        let p = format!("{}/health.json", store.run_dir(id));
        let data = crate::sys::fs::read(&crate::error::cpath(&p).ok()?).ok()?;
        json::parse(&data).ok()
    }

    /// Its status word, for `ps` ("healthy", "health: starting", ...).
    pub fn status_of(store: &Store, id: &str) -> Option<String> {
        let v = Self::read(store, id)?;
        let s = v.get("Status")?.str()?;
        Some(match s {
            "starting" => String::from("health: starting"),
            s => String::from(s),
        })
    }

    /// One result: docker's state machine. A failure in the start period
    /// does not count; a success ends the start period.
    fn record(
        &mut self,
        c: &Check,
        started: u64,
        now_ms: u64,
        r: (Timestamp, Timestamp, i32, String),
    ) {
        let ok = r.2 == 0;
        if self.log.len() == LOG_ENTRIES {
            self.log.remove(0);
        }
        self.log.push(r);
        if ok {
            self.status = "healthy";
            self.failing_streak = 0;
            return;
        }
        let in_start = now_ms.saturating_sub(started) < c.start_period / 1_000_000;
        if in_start && self.status == "starting" {
            return;
        }
        self.failing_streak = self.failing_streak.saturating_add(1);
        let retries = if c.retries == 0 {
            DEFAULT_RETRIES
        } else {
            c.retries
        };
        if self.failing_streak >= retries {
            self.status = "unhealthy";
        }
    }
}

fn save(store: &Store, id: &str, h: &Health) {
    // Runtime only: a reboot ends the checks with the container.
    let d = store.run_dir(id);
    if let Ok(dir) = crate::error::cpath(&d) {
        let _ = crate::sys::fs::write_atomic(
            &dir,
            "health.json",
            json::compact(&h.to_json()).as_bytes(),
            false,
        );
    }
}

/// "starting" from the moment the run does, not once the checker runs:
/// an inspect right after `run -d` returns shows State.Health, as
/// docker's (the monitor says so before it tells `run -d` it started).
/// Each caller of `watch` writes it first, once.
pub fn starting(store: &Store, id: &str) {
    save(store, id, &Health::new());
}

/// Fork the checker for the run whose init is `pid` (its "starting"
/// written before, by `starting`): its pid, to be killed (and reaped)
/// when the run ends. It keeps nothing of the monitor's open (pipes,
/// the pty, the log): a pipe it held would keep a container from
/// meeting its reader's end.
pub fn watch(store: &Store, id: &str, _spec: &Spec, c: &Check, pid: i32) -> Result<i32> {
    let start = crate::sys::procfs::start_time(pid).unwrap_or(0);
    let child = proc::fork().map_err(|e| Error::sys("fork", "health check", e))?;
    if child == 0 {
        let _ = fd::close_range(3, u32::MAX, 0);
        // Its own process group: unwatch ends it with any probe running.
        let _ = proc::setpgid(0, 0);
        checker(store, id, c, pid, start);
        proc::exit(0);
    }
    Ok(child)
}

/// Stop the checker `watch` forked (if any), and its probe, and reap it.
pub fn unwatch(pid: Option<i32>) {
    if let Some(p) = pid {
        let _ = proc::kill(-p, libc::SIGKILL);
        let _ = proc::kill(p, libc::SIGKILL);
        let _ = proc::wait(p, 0);
    }
}

fn checker(store: &Store, id: &str, c: &Check, pid: i32, start: u64) {
    let started = time::monotonic_ms();
    let mut h = Health::new();
    let ms = |n: u64, d: u64| (if n == 0 { d } else { n }) / 1_000_000;
    loop {
        // docker: StartInterval between checks while starting within the
        // start period, else Interval.
        let in_start = time::monotonic_ms().saturating_sub(started) < c.start_period / 1_000_000;
        let wait = if in_start && h.status == "starting" {
            ms(c.start_interval, DEFAULT_START_INTERVAL)
        } else {
            ms(c.interval, DEFAULT_INTERVAL)
        };
        crate::sys::time::sleep_ms(wait);
        if !crate::sys::procfs::alive(pid, start) {
            return;
        }
        let (t0, m0) = (time::now(), time::monotonic_ms());
        let (code, out) = probe(store, id, c);
        let before = h.status;
        // The start period is judged by when the check began.
        h.record(c, started, m0, (t0, time::now(), code, out));
        save(store, id, &h);
        if h.status != before {
            crate::state::events::emit_for(store, id, &format!("health_status: {}", h.status), &[]);
        }
    }
}

/// Run the check once in the container, as `pocket exec` does it (a
/// sealed copy of pocket enters the container: CVE-2019-5736), with the
/// timeout: (exit code, output). One that outlives its timeout is
/// killed: -1, as docker reports it. Its output is read until the probe
/// ends (a process the check left behind cannot hold us), at most
/// MAX_OUTPUT bytes of it kept.
fn probe(store: &Store, id: &str, c: &Check) -> (i32, String) {
    let timeout = ms_or(c.timeout, DEFAULT_TIMEOUT);
    let Ok((out_r, out_w)) = fd::pipe() else {
        return (-1, String::from("pipe failed"));
    };
    let t0 = time::monotonic_ms();
    let Ok(child) = proc::fork() else {
        return (-1, String::from("fork failed"));
    };
    if child == 0 {
        drop(out_r);
        proc::exit(run_check(store, id, c, &out_w, timeout));
    }
    drop(out_w);
    let _ = fd::set_nonblock(out_r.raw(), true);
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let mut drain = |out: &mut Vec<u8>| {
        while let Ok(n) = fd::read(out_r.raw(), &mut buf) {
            if n == 0 {
                break;
            }
            let room = MAX_OUTPUT.saturating_sub(out.len());
            out.extend_from_slice(&buf[..n.min(room)]);
        }
    };
    // The probe kills the check at its timeout; a little grace for it,
    // then it is killed too.
    let deadline = t0.saturating_add(timeout).saturating_add(5_000);
    let code = loop {
        let mut p = [libc::pollfd {
            fd: out_r.raw(),
            events: libc::POLLIN,
            revents: 0,
        }];
        let _ = fd::poll(&mut p, 50);
        drain(&mut out);
        if let Ok((p, st)) = proc::wait(child, libc::WNOHANG)
            && p == child
        {
            break proc::exit_code(st);
        }
        if time::monotonic_ms() > deadline {
            let _ = proc::kill(child, libc::SIGKILL);
            let _ = proc::wait(child, 0);
            break -1;
        }
    };
    drain(&mut out);
    if time::monotonic_ms().saturating_sub(t0) >= timeout {
        let t = time::go_duration(timeout.saturating_mul(1_000_000));
        return (-1, format!("Health check exceeded timeout ({t})"));
    }
    (code, String::from_utf8_lossy(&out).into_owned())
}

fn ms_or(n: u64, d: u64) -> u64 {
    (if n == 0 { d } else { n }) / 1_000_000
}

/// In the probe: stdout and stderr into `out`, then `pocket exec` from a
/// sealed copy (the timeout through the environment). Returns only if
/// that cannot start.
fn run_check(store: &Store, id: &str, c: &Check, out: &Fd, timeout_ms: u64) -> i32 {
    for i in 1..3 {
        let _ = fd::dup2(out.raw(), i);
    }
    if let Ok(null) = fd::open(c"/dev/null", libc::O_RDONLY, 0) {
        let _ = fd::dup2(null.raw(), 0);
    }
    let mut argv: Vec<Vec<u8>> = alloc::vec![
        b"pocket".to_vec(),
        b"--root".to_vec(),
        store.root.as_bytes().to_vec(),
        b"exec".to_vec(),
        id.as_bytes().to_vec(),
    ];
    argv.extend(c.argv());
    let env = alloc::vec![
        format!("{EXEC_TIMEOUT}={timeout_ms}").into_bytes(),
        format!("{EXEC_RUN_DIR}={}", store.run).into_bytes(),
    ];
    let e = crate::spawn::sealed::exec(&store.run, &argv, &env);
    let _ = fd::write_all(2, format!("{e}\n").as_bytes());
    126
}

/// `pocket exec` kills its command after this many milliseconds (the
/// health checker's timeout; not a user setting).
pub const EXEC_TIMEOUT: &str = "POCKET_EXEC_TIMEOUT_MS";

/// With `--root ROOT`, the run directory of the health checker's `pocket
/// exec`: its monitor's store's, which is not ROOT/run for the default
/// store (/var/lib/pocket and /run/pocket) nor a plain user's with
/// XDG_RUNTIME_DIR (not a user setting).
pub const EXEC_RUN_DIR: &str = "POCKET_EXEC_RUN_DIR";

#[cfg(test)]
mod tests {
    use super::*;

    fn check(retries: u32, start_period_ms: u64) -> Check {
        Check {
            test: vec!["CMD".into(), "true".into()],
            retries,
            start_period: start_period_ms * 1_000_000,
            ..Default::default()
        }
    }

    fn res(code: i32) -> (Timestamp, Timestamp, i32, String) {
        (
            Timestamp::default(),
            Timestamp::default(),
            code,
            String::new(),
        )
    }

    #[test]
    fn unhealthy_after_retries_failures_healthy_at_once() {
        let c = check(2, 0);
        let mut h = Health::new();
        h.record(&c, 0, 10, res(1));
        assert_eq!((h.status, h.failing_streak), ("starting", 1));
        h.record(&c, 0, 20, res(1));
        assert_eq!((h.status, h.failing_streak), ("unhealthy", 2));
        h.record(&c, 0, 30, res(0));
        assert_eq!((h.status, h.failing_streak), ("healthy", 0));
        for i in 0..10 {
            h.record(&c, 0, 40 + i, res(0));
        }
        assert_eq!(h.log.len(), LOG_ENTRIES);
    }

    #[test]
    fn failures_in_the_start_period_do_not_count() {
        let c = check(1, 1000);
        let mut h = Health::new();
        h.record(&c, 0, 500, res(1));
        assert_eq!((h.status, h.failing_streak), ("starting", 0));
        h.record(&c, 0, 1500, res(1));
        assert_eq!(h.status, "unhealthy");
    }

    #[test]
    fn flags_over_the_image() {
        let img = Check {
            test: vec!["CMD".into(), "/ok".into()],
            interval: 5_000_000_000,
            ..Default::default()
        };
        let none = Flags {
            cmd: None,
            interval: None,
            timeout: None,
            start_period: None,
            start_interval: None,
            retries: None,
            none: false,
        };
        assert_eq!(merge(&none, Some(&img)).unwrap(), Some(img.clone()));
        assert_eq!(merge(&none, None).unwrap(), None);
        let f = Flags {
            cmd: Some("curl -f x"),
            interval: Some("1s"),
            ..none
        };
        let m = merge(&f, Some(&img)).unwrap().unwrap();
        assert_eq!(m.test, ["CMD-SHELL", "curl -f x"]);
        assert_eq!(m.interval, 1_000_000_000);
        let off = Flags { none: true, ..none };
        assert_eq!(merge(&off, Some(&img)).unwrap(), None);
        let both = Flags {
            none: true,
            cmd: Some("x"),
            ..none
        };
        assert!(merge(&both, None).is_err());
        let bad = Flags {
            interval: Some("fast"),
            cmd: Some("x"),
            ..none
        };
        assert!(merge(&bad, None).is_err());
        let tiny = Flags {
            interval: Some("10us"),
            cmd: Some("x"),
            ..none
        };
        assert!(merge(&tiny, None).is_err());
        let nocmd = Check {
            test: vec!["NONE".into()],
            ..Default::default()
        };
        assert_eq!(merge(&none, Some(&nocmd)).unwrap(), None);
    }
}
