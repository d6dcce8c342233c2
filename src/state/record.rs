//! A container's record (state.json): identity, status, processes, times.

use crate::container::restart::Policy;
use crate::json::{self, Value};
use crate::rt::time::{self, Timestamp};
use alloc::string::String;
use alloc::vec::Vec;

pub use crate::sys::procfs::{alive, exists, parse_start_time, start_time, wait_pidfd};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Created,
    Running,
    Exited,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Exited => "exited",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub id: String,
    pub name: String,
    /// What the container was made from (a rootfs directory for now).
    pub image: String,
    pub command: Vec<String>,
    pub created: Timestamp,
    pub status: Status,
    /// Host pid of the container init, and its start time (clock ticks
    /// since boot, /proc/PID/stat field 22): together they name the
    /// process even if the pid number is reused later.
    pub pid: i32,
    pub pid_start: u64,
    /// The process that waits for the container: the monitor (-d) or the
    /// foreground pocket.
    pub monitor_pid: i32,
    pub monitor_start: u64,
    pub exit_code: Option<i32>,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    pub auto_remove: bool,
    /// The container's stdout/stderr go to its log (detached runs).
    pub logged: bool,
    /// Frozen (`pause`): its cgroup's freezer holds every process.
    pub paused: bool,
    /// The OCI bundle it was created from (empty for the docker CLI's).
    pub bundle: String,
    /// docker's container labels (the image's, then --label), in order.
    pub labels: Vec<(String, String)>,
    /// What `stop` sends first (--stop-signal, the image's STOPSIGNAL);
    /// 0: SIGTERM.
    pub stop_signal: i32,
    /// `stop`'s grace without -t (--stop-timeout); None: 10 s.
    pub stop_timeout: Option<i64>,
    /// --restart, and how often the monitor started it again.
    pub restart: Policy,
    pub restart_count: u32,
    /// Ended, and its monitor waits to start it again (docker's
    /// "restarting"); only true while that monitor lives.
    pub restarting: bool,
    /// Stopped (or killed) by hand: no restart policy applies until the
    /// next start.
    pub manual_stop: bool,
    /// Its health check (--health-*, the image's HEALTHCHECK).
    pub healthcheck: Option<crate::container::health::Check>,
    /// Its last run ended with the OOM killer killing in it.
    pub oom_killed: bool,
    /// --log-driver and --log-opt.
    pub log: crate::state::log::Config,
    /// (network, alias): other names it answers to on a user network
    /// (--network-alias, network connect --alias).
    pub aliases: Vec<(String, String)>,
    /// --dns and --add-host as given (docker's HostConfig.Dns and
    /// ExtraHosts; the files in the container are made from them).
    pub dns: Vec<String>,
    pub extra_hosts: Vec<String>,
    /// Its init's cgroups in every hierarchy, as recorded at start
    /// (`cgroup::files_of`: its /proc/PID/cgroup line, the file that moves
    /// a process there), which `exec` joins as runc joins the paths in its
    /// state: no mountinfo to read per exec. None: not known (a record
    /// from before they were kept).
    pub cgroups: Option<Vec<(String, String)>>,
}

fn ts(t: Timestamp) -> Option<Value> {
    Some(json::obj!(
        ("secs", Some(json::num(t.secs))),
        ("nanos", Some(json::num(t.nanos)))
    ))
}

fn get_ts(v: &Value, k: &str) -> Timestamp {
    let t = v.get(k);
    Timestamp {
        secs: t
            .and_then(|t| t.get("secs"))
            .and_then(Value::i64)
            .unwrap_or(0),
        nanos: t
            .and_then(|t| t.get("nanos"))
            .and_then(Value::u64)
            .map_or(0, |n| n.min(999_999_999) as u32),
    }
}

impl Record {
    /// state.json.
    pub fn to_json(&self) -> Value {
        json::obj!(
            ("id", Some(json::str(&self.id))),
            ("name", Some(json::str(&self.name))),
            ("image", Some(json::str(&self.image))),
            ("command", Some(json::strs(&self.command))),
            ("created", ts(self.created)),
            ("status", Some(json::str(self.status.as_str()))),
            ("pid", Some(json::num(self.pid))),
            ("pid_start", Some(json::num(self.pid_start))),
            ("monitor_pid", Some(json::num(self.monitor_pid))),
            ("monitor_start", Some(json::num(self.monitor_start))),
            (
                "exit_code",
                Some(self.exit_code.map_or(Value::Null, json::num))
            ),
            ("started_at", ts(self.started_at)),
            ("finished_at", ts(self.finished_at)),
            ("auto_remove", Some(Value::Bool(self.auto_remove))),
            ("logged", Some(Value::Bool(self.logged))),
            ("paused", Some(Value::Bool(self.paused))),
            (
                "bundle",
                (!self.bundle.is_empty()).then(|| json::str(&self.bundle))
            ),
            (
                "stop_signal",
                (self.stop_signal != 0).then(|| json::num(self.stop_signal))
            ),
            ("stop_timeout", self.stop_timeout.map(json::num)),
            (
                "restart",
                (self.restart != Policy::No).then(|| json::str(&self.restart.value()))
            ),
            (
                "restart_count",
                (self.restart_count != 0).then(|| json::num(self.restart_count))
            ),
            ("restarting", self.restarting.then_some(Value::Bool(true))),
            ("manual_stop", self.manual_stop.then_some(Value::Bool(true))),
            ("oom_killed", self.oom_killed.then_some(Value::Bool(true))),
            (
                "log_driver",
                (!self.log.driver.is_empty()).then(|| json::str(&self.log.driver))
            ),
            (
                "aliases",
                (!self.aliases.is_empty()).then(|| {
                    Value::Arr(
                        self.aliases
                            .iter()
                            .map(|(n, a)| json::strs(&[n, a]))
                            .collect(),
                    )
                })
            ),
            ("dns", (!self.dns.is_empty()).then(|| json::strs(&self.dns))),
            ("cgroups", self.cgroups.as_deref().map(json::pairs)),
            (
                "extra_hosts",
                (!self.extra_hosts.is_empty()).then(|| json::strs(&self.extra_hosts))
            ),
            (
                "log_opts",
                (!self.log.opts.is_empty()).then(|| json::pairs(&self.log.opts))
            ),
            (
                "healthcheck",
                self.healthcheck.as_ref().map(|h| h.to_json())
            ),
            (
                "labels",
                (!self.labels.is_empty()).then(|| { json::pairs(&self.labels) })
            ),
        )
    }

    /// Read state.json; None if it is not a record.
    pub fn from_json(v: &Value) -> Option<Record> {
        let s = |k: &str| v.get(k).and_then(Value::str).map(String::from);
        let status = match v.get("status")?.str()? {
            "created" => Status::Created,
            "running" => Status::Running,
            "exited" => Status::Exited,
            _ => return None,
        };
        Some(Record {
            id: s("id")?,
            name: s("name")?,
            image: s("image").unwrap_or_default(),
            command: v
                .get("command")
                .and_then(Value::strings)
                .unwrap_or_default(),
            created: get_ts(v, "created"),
            status,
            pid: v.get("pid").and_then(Value::i64).unwrap_or(0) as i32,
            pid_start: v.get("pid_start").and_then(Value::u64).unwrap_or(0),
            monitor_pid: v.get("monitor_pid").and_then(Value::i64).unwrap_or(0) as i32,
            monitor_start: v.get("monitor_start").and_then(Value::u64).unwrap_or(0),
            exit_code: v.get("exit_code").and_then(Value::i64).map(|c| c as i32),
            started_at: get_ts(v, "started_at"),
            finished_at: get_ts(v, "finished_at"),
            auto_remove: v.get("auto_remove").and_then(Value::bool).unwrap_or(false),
            logged: v.get("logged").and_then(Value::bool).unwrap_or(false),
            paused: v.get("paused").and_then(Value::bool).unwrap_or(false),
            bundle: s("bundle").unwrap_or_default(),
            stop_signal: v.get("stop_signal").and_then(Value::i64).unwrap_or(0) as i32,
            stop_timeout: v.get("stop_timeout").and_then(Value::i64),
            labels: json::str_pairs(v.get("labels")),
            restart: v
                .get("restart")
                .and_then(Value::str)
                .and_then(|p| Policy::parse(p).ok())
                .unwrap_or(Policy::No),
            restart_count: v.get("restart_count").and_then(Value::u64).unwrap_or(0) as u32,
            restarting: v.get("restarting").and_then(Value::bool).unwrap_or(false),
            manual_stop: v.get("manual_stop").and_then(Value::bool).unwrap_or(false),
            oom_killed: v.get("oom_killed").and_then(Value::bool).unwrap_or(false),
            aliases: v
                .get("aliases")
                .and_then(Value::arr)
                .map(|a| {
                    a.iter()
                        .filter_map(|p| match p.strings()?.as_slice() {
                            [n, a] => Some((n.clone(), a.clone())),
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default(),
            dns: v.get("dns").and_then(Value::strings).unwrap_or_default(),
            cgroups: v
                .get("cgroups")
                .filter(|c| matches!(c, Value::Obj(_)))
                .map(|c| json::str_pairs(Some(c))),
            extra_hosts: v
                .get("extra_hosts")
                .and_then(Value::strings)
                .unwrap_or_default(),
            log: crate::state::log::Config {
                driver: s("log_driver").unwrap_or_default(),
                opts: json::str_pairs(v.get("log_opts")),
            },
            healthcheck: v
                .get("healthcheck")
                .and_then(crate::container::health::Check::from_json),
        })
    }

    pub fn new(id: String, name: String, image: String, command: Vec<String>) -> Record {
        Record {
            id,
            name,
            image,
            command,
            created: time::now(),
            status: Status::Created,
            pid: 0,
            pid_start: 0,
            // The creator is in charge until a monitor (or the foreground
            // pocket) takes over: while it lives, the record is busy.
            monitor_pid: crate::sys::proc::getpid(),
            monitor_start: start_time(crate::sys::proc::getpid()).unwrap_or(0),
            exit_code: None,
            started_at: Timestamp::default(),
            finished_at: Timestamp::default(),
            auto_remove: false,
            logged: false,
            paused: false,
            bundle: String::new(),
            labels: Vec::new(),
            stop_signal: 0,
            stop_timeout: None,
            restart: Policy::No,
            restart_count: 0,
            restarting: false,
            manual_stop: false,
            healthcheck: None,
            oom_killed: false,
            log: Default::default(),
            aliases: Vec::new(),
            dns: Vec::new(),
            extra_hosts: Vec::new(),
            cgroups: None,
        }
    }

    pub fn short_id(&self) -> &str {
        &self.id[..self.id.len().min(12)]
    }

    /// The status as it really is: a record that says running whose
    /// process is gone (pocket, the monitor or the container was killed)
    /// is exited. Killed without a word means SIGKILL: 137.
    pub fn live(&self) -> Record {
        let mut r = self.clone();
        // While the process that waits for it (monitor or foreground
        // pocket) lives, it has the last word: it may have reaped the init
        // already and be about to write down how it ended.
        // (Only a record that says running or restarting needs a look:
        // `ps -a` of a thousand created or exited ones reads no /proc.)
        if r.restarting && !alive(r.monitor_pid, r.monitor_start) {
            r.restarting = false;
        }
        if r.status == Status::Running
            && !alive(r.pid, r.pid_start)
            && !alive(r.monitor_pid, r.monitor_start)
        {
            r.status = Status::Exited;
            r.exit_code = Some(r.exit_code.unwrap_or(137));
            if r.finished_at == Timestamp::default() {
                r.finished_at = r.started_at;
            }
        }
        r
    }

    /// Is the process in charge of this record (its creator, monitor or
    /// foreground pocket) alive? A busy record that is not running yet is
    /// being started: prune, start and rm leave it alone.
    pub fn busy(&self) -> bool {
        // Only a created record: after an exit its monitor lingers a few
        // ms, and that must not block a restart.
        self.status == Status::Created && alive(self.monitor_pid, self.monitor_start)
    }

    /// docker's State.Status word: paused and restarting are their own.
    ///
    /// Of this record as it is: callers hand it the live one. Looking at
    /// the processes again here could see the container end between two
    /// looks, and show "exited" beside the exit code of "running" (none).
    pub fn state_word(&self) -> &'static str {
        match self.status {
            Status::Running if self.paused => "paused",
            Status::Exited if self.restarting => "restarting",
            s => s.as_str(),
        }
    }

    pub fn running(&self) -> bool {
        self.live().status == Status::Running
    }

    /// docker's STATUS column: "Up 3 seconds", "Exited (7) 2 minutes ago", "Created".
    pub fn status_text(&self, now: Timestamp) -> String {
        let r = self.live();
        match r.status {
            Status::Created => String::from("Created"),
            Status::Running => alloc::format!(
                "Up {}{}",
                time::human_duration(now.secs - r.started_at.secs),
                if r.paused { " (Paused)" } else { "" }
            ),
            Status::Exited if r.restarting => alloc::format!(
                "Restarting ({}) {}",
                r.exit_code.unwrap_or(0),
                time::human_ago(r.finished_at, now)
            ),
            Status::Exited => alloc::format!(
                "Exited ({}) {}",
                r.exit_code.unwrap_or(0),
                time::human_ago(r.finished_at, now)
            ),
        }
    }
}

impl Record {
    /// A pidfd on the container init, if it still is the process this
    /// record names: opened first, then checked, so a pid reused in
    /// between fails the start-time check instead of being signalled.
    pub fn pidfd(&self) -> Option<crate::sys::fd::Fd> {
        if self.status != Status::Running || self.pid <= 0 {
            return None;
        }
        let fd = crate::sys::proc::pidfd_open(self.pid).ok()?;
        exists(self.pid, self.pid_start).then_some(fd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_record_is_busy_while_its_creator_lives() {
        let mut r = Record::new("a".repeat(64), "n".into(), "/r".into(), vec![]);
        assert!(r.busy(), "the creating process (this one) is alive");
        r.status = Status::Exited;
        assert!(!r.busy(), "a lingering monitor must not block a restart");
        r.status = Status::Created;
        r.monitor_pid = i32::MAX - 2;
        assert!(!r.busy());
    }

    #[test]
    fn json_round_trip() {
        let mut r = Record::new(
            "a".repeat(64),
            "n".into(),
            "/r".into(),
            vec!["sh".into(), "-c".into(), "x \"y\"".into()],
        );
        r.status = Status::Exited;
        r.exit_code = Some(7);
        r.pid = 42;
        r.pid_start = 1 << 40;
        let back = Record::from_json(&json::parse(json::pretty(&r.to_json()).as_bytes()).unwrap())
            .unwrap();
        assert_eq!(back, r);
        r.exit_code = None;
        assert_eq!(Record::from_json(&r.to_json()).unwrap(), r);
        // Recorded empty (no cgroups) is not unrecorded (an older record).
        r.cgroups = Some(vec![]);
        assert_eq!(Record::from_json(&r.to_json()).unwrap(), r);
        let mut v = r.to_json();
        if let Value::Obj(m) = &mut v {
            m.iter_mut().find(|(k, _)| k == "cgroups").unwrap().1 = Value::Null;
        }
        assert_eq!(Record::from_json(&v).unwrap().cgroups, None);
        r.cgroups = Some(vec![(
            "8:pids:/pocket/a".into(),
            "/sys/fs/cgroup/pids/pocket/a/tasks".into(),
        )]);
        assert_eq!(Record::from_json(&r.to_json()).unwrap(), r);
        assert!(Record::from_json(&json::parse(b"{\"id\":\"x\"}").unwrap()).is_none());
    }

    #[test]
    fn start_time_survives_odd_comm() {
        let stat = b"42 (a) b (c) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 123456 1000 10";
        assert_eq!(parse_start_time(stat), Some(123456));
        assert_eq!(parse_start_time(b"42 (x"), None);
        assert_eq!(parse_start_time(b""), None);
    }

    #[test]
    fn dead_running_record_reads_exited() {
        let mut r = Record::new("a".repeat(64), "n".into(), "/r".into(), vec![]);
        r.status = Status::Running;
        r.pid = i32::MAX - 1; // no such process
        r.monitor_pid = i32::MAX - 2; // nor its monitor
        let l = r.live();
        assert_eq!(l.status, Status::Exited);
        assert_eq!(l.exit_code, Some(137));
        r.exit_code = Some(3);
        assert_eq!(r.live().exit_code, Some(3));
    }

    #[test]
    fn our_own_process_is_alive() {
        let me = crate::sys::proc::getpid();
        let st = start_time(me).unwrap();
        assert!(alive(me, st));
        assert!(!alive(me, st + 1));
    }
}
