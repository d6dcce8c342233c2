//! The events journal (`pocket events`) and the inspect fields that tell
//! what happened to a container: State.OOMKilled, State.Paused,
//! State.Restarting and Mounts. Each is checked against the real effect:
//! the host's cgroup files, /proc (process state, mountinfo, the kernel's
//! OOM counter), the journal, and the container seen from inside (exec).

mod common;
use common::checks::*;
use common::features::skip;
use common::*;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn ok(r: &Root, args: &[&str]) -> String {
    let o = output_within(r.cmd(args), 10, &format!("{args:?}"));
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    stdout(&o)
}

/// `events --since 1h --until 0s ARGS...`: the past events, then it returns.
fn events(r: &Root, args: &[&str]) -> String {
    let mut a = vec!["events", "--since", "1h", "--until", "0s"];
    a.extend(args);
    ok(r, &a)
}

/// The actions of the events `filters` select, in order.
fn actions(r: &Root, filters: &[&str]) -> Vec<String> {
    let mut a: Vec<&str> = filters.to_vec();
    a.extend(["--format", "{{.Action}} {{.Actor.Attributes.name}}"]);
    events(r, &a).lines().map(String::from).collect()
}

/// The directory of `id`'s group in the v1 hierarchy holding `controller`.
fn cg(controller: &str, id: &str) -> Option<PathBuf> {
    let mi = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    for l in mi.lines() {
        let (pre, post) = l.split_once(" - ")?;
        let mp = pre.split(' ').nth(4)?;
        let mut post = post.split(' ');
        let fstype = post.next()?;
        let opts = post.nth(1).unwrap_or("");
        if fstype == "cgroup" && opts.split(',').any(|o| o == controller) {
            return Some(PathBuf::from(mp).join("pocket").join(id));
        }
    }
    None
}

/// The kernel's count of OOM kills since boot (all of the host).
fn host_oom_kills() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/vmstat").ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("oom_kill "))
        .and_then(|v| v.trim().parse().ok())
}

/// utime + stime of `pid` (clock ticks), from /proc/PID/stat.
fn cpu_ticks(pid: i32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let f: Vec<&str> = s[s.rfind(')').unwrap() + 2..].split(' ').collect();
    // After the comm: state is field 3, utime 14, stime 15.
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

/// Docker's attributes of a container event: the container's labels,
/// image, name and the action's own, sorted by key (a Go map).
fn attrs_of(
    labels: &[(String, String)],
    image: &str,
    name: &str,
    extra: &[(&str, &str)],
) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = labels.to_vec();
    v.push(("image".into(), image.into()));
    v.push(("name".into(), name.into()));
    v.extend(extra.iter().map(|(k, x)| (k.to_string(), x.to_string())));
    v.sort();
    v
}

/// Docker's attributes string of a plain `events` line: `(k=v, ...)`.
fn attr_string(pairs: &[(String, String)]) -> String {
    let v: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("({})", v.join(", "))
}

/// The action's own attributes in docker's events (kill: signal, die:
/// exitCode), for the run of `want` below.
fn extra_of(action: &str, nth_kill: usize) -> Vec<(&'static str, &'static str)> {
    match (action, nth_kill) {
        ("kill", 0) => vec![("signal", "10")],
        ("kill", _) => vec![("signal", "9")],
        ("die", _) => vec![("exitCode", "137")],
        _ => vec![],
    }
}

/// kill (with its signal), pause, unpause, die and destroy land in the
/// journal in order, in docker's JSON (`{{json .}}`: its keys, status =
/// Action, from = the image, Actor.Attributes = image, name, labels and
/// the action's own) and docker's plain line; `image=`, `label=` and
/// `type=` select exactly the events they name, and a filter nothing
/// matches shows nothing. The kill with USR1 really reached the process
/// (it runs on, as docker's init ignoring it) and the destroy really
/// removed the container.
#[test]
fn kill_pause_unpause_destroy_in_docker_shape_and_filters() {
    if !root() {
        return;
    }
    let r = Root::new("ev-journal");
    let t0 = now().0;
    ok(
        &r,
        &[
            "load",
            "-i",
            test_images().join("busybox-docker.tar").to_str().unwrap(),
        ],
    );
    let id = stdout(&r.out(&[
        "run",
        "-d",
        "--name",
        "evweb",
        "-l",
        "tier=db",
        "-l",
        "team=x",
        "busybox:latest",
        "sleep",
        "60",
    ]))
    .trim()
    .to_string();
    assert_eq!(id.len(), 64, "run busybox:latest: {id:?}");
    let other = r.run_d(&["--name", "evother", "-l", "tier=web", "sleep", "60"]);
    let pid = init_pid(&r, &id);
    // Config.Labels: the image's labels and ours, as the events carry them.
    let labels = labels(&ok(&r, &["inspect", &id]));
    assert!(
        labels.iter().any(|(k, v)| k == "tier" && v == "db"),
        "{labels:?}"
    );

    // A signal the init has no handler for: it is ignored, it runs on.
    ok(&r, &["kill", "-s", "USR1", "evweb"]);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(init_pid(&r, &id), pid, "USR1 ended the container");
    assert_eq!(inspect(&r, &id).get("State").get("Status").str(), "running");
    ok(&r, &["pause", "evweb"]);
    ok(&r, &["unpause", "evweb"]);
    ok(&r, &["kill", "evweb"]);
    assert_eq!(wait_exited(&r, &id), 137);
    assert!(gone(pid), "the init {pid} still runs after kill");
    ok(&r, &["rm", "evweb"]);
    assert!(!r.0.join("containers").join(&id).exists());
    let o = r.out(&["inspect", &id]);
    assert_eq!(o.status.code(), Some(1), "inspect after rm");
    let t1 = now().0;

    // The order of what happened to it.
    let want = [
        "create", "start", "kill", "pause", "unpause", "kill", "die", "destroy",
    ];
    let got = actions(&r, &["-f", "container=evweb"]);
    let want_lines: Vec<String> = want.iter().map(|a| format!("{a} evweb")).collect();
    assert_eq!(got, want_lines);

    // docker's JSON, one object a line.
    let js = events(&r, &["-f", "container=evweb", "--format", "{{json .}}"]);
    let evs: Vec<J> = js
        .lines()
        .map(|l| json(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(evs.len(), want.len(), "{js}");
    let mut last = 0i128;
    let mut kills = 0;
    for (v, action) in evs.iter().zip(want) {
        assert_eq!(
            v.keys(),
            [
                "status", "id", "from", "Type", "Action", "Actor", "scope", "time", "timeNano"
            ],
            "{v:?}"
        );
        assert_eq!(v.get("status").str(), action);
        assert_eq!(v.get("Action").str(), action);
        assert_eq!(v.get("Type").str(), "container");
        assert_eq!(v.get("id").str(), id);
        assert_eq!(v.get("from").str(), "busybox:latest");
        assert_eq!(v.get("scope").str(), "local");
        assert_eq!(v.get("Actor").get("ID").str(), id);
        let a: Vec<(String, String)> = match v.get("Actor").get("Attributes") {
            J::Obj(m) => m.iter().map(|(k, x)| (k.clone(), x.str().into())).collect(),
            x => panic!("Attributes {x:?}"),
        };
        let extra = extra_of(action, kills);
        kills += (action == "kill") as usize;
        assert_eq!(
            a,
            attrs_of(&labels, "busybox:latest", "evweb", &extra),
            "{action}"
        );
        let t = v.get("time").int();
        assert!(t0 - 1 <= t && t <= t1 + 1, "time {t} not in [{t0}, {t1}]");
        let nano: i128 = match v.get("timeNano") {
            J::Num(n) => n.parse().unwrap(),
            x => panic!("timeNano {x:?}"),
        };
        assert_eq!(nano / 1_000_000_000, t as i128, "{v:?}");
        assert!(nano >= last, "events out of order: {js}");
        last = nano;
    }
    let signals: Vec<&str> = evs
        .iter()
        .filter(|v| v.get("Action").str() == "kill")
        .map(|v| v.get("Actor").get("Attributes").get("signal").str())
        .collect();
    assert_eq!(signals, ["10", "9"], "kill -s USR1, then kill (KILL)");
    let die = &evs[6];
    assert_eq!(
        die.get("Actor").get("Attributes").get("exitCode").str(),
        "137"
    );

    // docker's plain lines: time, type, action, id, (sorted attributes).
    let plain = events(&r, &["-f", "container=evweb"]);
    let lines: Vec<&str> = plain.lines().collect();
    assert_eq!(lines.len(), want.len(), "{plain}");
    let mut kills = 0;
    for (l, action) in lines.iter().zip(want) {
        let p: Vec<&str> = l.splitn(5, ' ').collect();
        assert_eq!(p.len(), 5, "{l}");
        let (secs, _) = rfc3339(p[0], true).unwrap_or_else(|| panic!("time in {l}"));
        assert!(p[0].ends_with('Z') && p[0].len() == 30, "{l}");
        assert!(t0 - 1 <= secs && secs <= t1 + 1, "{l}");
        assert_eq!(&p[1..4], ["container", action, id.as_str()], "{l}");
        let extra = extra_of(action, kills);
        kills += (action == "kill") as usize;
        let attrs = attrs_of(&labels, "busybox:latest", "evweb", &extra);
        assert_eq!(p[4], attr_string(&attrs), "{l}");
    }

    // Filters: image (as given, and docker's match without the tag),
    // label (key, key=value), type; nothing for what matches nothing.
    let only_web = want_lines.clone();
    assert_eq!(actions(&r, &["-f", "image=busybox:latest"]), only_web);
    assert_eq!(actions(&r, &["-f", "label=tier=db"]), only_web);
    assert_eq!(actions(&r, &["-f", "label=team"]), only_web);
    assert_eq!(
        actions(&r, &["-f", "label=tier=web"]),
        ["create evother", "start evother"]
    );
    let both = actions(&r, &["-f", "label=tier"]);
    assert_eq!(both.len(), want.len() + 2, "{both:?}");
    let all = actions(&r, &["-f", "type=container"]);
    assert_eq!(all, both);
    assert_eq!(
        actions(&r, &["-f", "type=container", "-f", "event=kill"]),
        ["kill evweb", "kill evweb"]
    );
    for f in [
        "image=nosuch",
        "label=tier=nope",
        "label=nokey",
        "type=network",
    ] {
        assert_eq!(events(&r, &["-f", f]), "", "-f {f}");
    }
    // The other container was left alone: still running.
    assert_eq!(
        inspect(&r, &other).get("State").get("Status").str(),
        "running"
    );
    // docker matches image= against the image without its tag too
    // (stripTag in moby's daemon/events/filter.go).
    assert_eq!(
        actions(&r, &["-f", "image=busybox"]),
        only_web,
        "docker's image= filter also matches the image without its tag"
    );
}

/// A container whose command the OOM killer kills under `-m` exits 137
/// with State.OOMKilled true and an `oom` event before its `die`, and the
/// host's kernel counted the kill (/proc/vmstat oom_kill). A container
/// that exits normally under the same limit, or that `kill` ends with the
/// same 137, has OOMKilled false and no oom event.
#[test]
fn oom_event_and_oomkilled() {
    if !root() {
        return;
    }
    if cg("memory", "x").is_none() {
        skip(
            "oom event",
            "no cgroup v1 memory hierarchy on this host to OOM-kill in",
        );
        return;
    }
    let r = Root::new("ev-oom");
    let before = host_oom_kills();
    // dd's buffer is one block: bs=64M touches 64 MiB, twice the limit.
    let id = r.run_d(&[
        "--name",
        "oomy",
        "-m",
        "32m",
        "dd",
        "if=/dev/zero",
        "of=/dev/null",
        "bs=64M",
        "count=1",
    ]);
    let code = wait_exited(&r, &id);
    if code == 0 {
        skip(
            "oom event",
            "dd touched 64 MiB under -m 32m and was not OOM-killed (no enforcement here)",
        );
        return;
    }
    assert_eq!(code, 137);
    let after = host_oom_kills();
    match (before, after) {
        (Some(b), Some(a)) => assert!(a > b, "the kernel counted no OOM kill ({b} -> {a})"),
        _ => skip("host oom_kill counter", "no oom_kill in /proc/vmstat"),
    }
    let st = inspect(&r, &id).get("State").clone();
    assert!(st.get("OOMKilled").bool(), "OOMKilled: {st:?}");
    assert_eq!(st.get("ExitCode").int(), 137);
    let a = actions(&r, &["-f", "container=oomy"]);
    assert_eq!(a, ["create oomy", "start oomy", "oom oomy", "die oomy"]);
    let oom = events(&r, &["-f", "event=oom", "--format", "{{json .}}"]);
    let v = json(oom.trim()).unwrap();
    assert_eq!(v.get("Type").str(), "container");
    assert_eq!(v.get("id").str(), id);
    assert_eq!(v.get("Actor").get("Attributes").get("name").str(), "oomy");

    // Under the limit: a normal exit, no OOM.
    let fine = r.run_d(&[
        "--name",
        "fine",
        "-m",
        "32m",
        "dd",
        "if=/dev/zero",
        "of=/dev/null",
        "bs=8M",
        "count=4",
    ]);
    assert_eq!(wait_exited(&r, &fine), 0);
    assert!(!inspect(&r, &fine).get("State").get("OOMKilled").bool());
    // Killed by hand: 137 too, but not by the OOM killer.
    let killed = r.run_d(&["--name", "killed", "-m", "32m", "sleep", "60"]);
    ok(&r, &["kill", "killed"]);
    assert_eq!(wait_exited(&r, &killed), 137);
    assert!(!inspect(&r, &killed).get("State").get("OOMKilled").bool());
    assert_eq!(
        events(
            &r,
            &["-f", "event=oom", "--format", "{{.Actor.Attributes.name}}"]
        ),
        "oomy\n",
        "only the OOM-killed container has an oom event"
    );
}

/// State.Paused is true exactly while the host's freezer holds the
/// container: freezer.state FROZEN, its processes neither running (state
/// D or T in /proc/PID/stat, no CPU time) nor making progress (a counter
/// the container writes stops); after unpause it is false, the freezer
/// THAWED and the counter goes on (read from inside with exec too).
#[test]
fn paused_matches_the_host_freezer() {
    if !root() {
        return;
    }
    let r = Root::new("ev-pause");
    let id = r.run_d(&[
        "--tmpfs",
        "/tmp",
        "sh",
        "-c",
        // mv: the file is always whole, never seen half-written.
        "i=0; while :; do i=$((i+1)); echo $i > /tmp/n; mv /tmp/n /tmp/c; done",
    ]);
    let pid = init_pid(&r, &id);
    let counter = || -> u64 {
        std::fs::read_to_string(format!("/proc/{pid}/root/tmp/c"))
            .unwrap_or_default()
            .trim()
            .parse()
            .unwrap_or(0)
    };
    wait_for(10, "the counter", || (counter() > 10).then_some(()));
    let st = inspect(&r, &id).get("State").clone();
    assert!(!st.get("Paused").bool(), "{st:?}");
    assert_eq!(st.get("Status").str(), "running");

    ok(&r, &["pause", &id]);
    let st = inspect(&r, &id).get("State").clone();
    assert!(st.get("Paused").bool(), "Paused while paused: {st:?}");
    assert!(st.get("Running").bool(), "docker: a paused one is running");
    assert_eq!(st.get("Status").str(), "paused");
    let freezer = cg("freezer", &id).map(|d| d.join("freezer.state"));
    match &freezer {
        Some(f) => assert_eq!(
            std::fs::read_to_string(f).unwrap().trim(),
            "FROZEN",
            "{}",
            f.display()
        ),
        None => skip(
            "freezer.state",
            "no cgroup v1 freezer hierarchy on this host",
        ),
    }
    // Every process of the container, from its freezer group.
    let procs: Vec<i32> = match &freezer {
        Some(f) => std::fs::read_to_string(f.with_file_name("cgroup.procs"))
            .unwrap()
            .split_whitespace()
            .map(|p| p.parse().unwrap())
            .collect(),
        None => vec![pid],
    };
    assert!(procs.contains(&pid), "{procs:?}");
    for p in &procs {
        let s = state(*p);
        assert!(
            matches!(s, Some('D') | Some('T')),
            "process {p} of a paused container is in state {s:?}"
        );
    }
    let (c, ticks) = (counter(), cpu_ticks(pid));
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(counter(), c, "the counter went on while paused");
    assert_eq!(cpu_ticks(pid), ticks, "the init used CPU while paused");

    ok(&r, &["unpause", &id]);
    let st = inspect(&r, &id).get("State").clone();
    assert!(!st.get("Paused").bool(), "Paused after unpause: {st:?}");
    assert_eq!(st.get("Status").str(), "running");
    if let Some(f) = &freezer {
        assert_eq!(std::fs::read_to_string(f).unwrap().trim(), "THAWED");
    }
    wait_for(10, "the counter to go on", || {
        (counter() > c + 10).then_some(())
    });
    let inside: u64 = sh(&r, &id, "cat /tmp/c").trim().parse().unwrap();
    assert!(inside > c, "inside: {inside}, paused at {c}");
    ok(&r, &["rm", "-f", &id]);
}

/// A `--restart always` container whose command exits 1 is, during its
/// restart backoff, State.Restarting true (Status restarting, Running
/// true as docker's, Pid 0: no process, ExitCode 1), and `ps` says
/// `Restarting (1)`; a running container is Restarting false.
#[test]
fn restarting_during_the_backoff() {
    if !root() {
        return;
    }
    let r = Root::new("ev-restart");
    let id = r.run_d(&[
        "--name",
        "flap",
        "--restart",
        "always",
        "sh",
        "-c",
        "exit 1",
    ]);
    let end = Instant::now() + Duration::from_secs(10);
    let st = loop {
        let st = inspect(&r, &id).get("State").clone();
        if st.get("Restarting").bool() {
            break st;
        }
        assert!(Instant::now() < end, "never Restarting within 10 s: {st:?}");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(st.get("Status").str(), "restarting", "{st:?}");
    assert!(st.get("Running").bool(), "{st:?}");
    assert!(!st.get("Paused").bool(), "{st:?}");
    assert_eq!(st.get("Pid").int(), 0, "{st:?}");
    assert_eq!(st.get("ExitCode").int(), 1, "{st:?}");
    let ps = wait_for(10, "ps saying Restarting (1)", || {
        let o = stdout(&r.out(&["ps"]));
        o.lines()
            .find(|l| l.contains("Restarting (1)"))
            .map(String::from)
    });
    assert!(ps.contains("flap"), "{ps}");
    // The restarts are real: it is started again, counted.
    wait_for(10, "a restart", || {
        (inspect(&r, &id).get("RestartCount").int() >= 1).then_some(())
    });
    ok(&r, &["rm", "-f", "flap"]);

    let run = r.run_d(&["sleep", "30"]);
    let st = inspect(&r, &run).get("State").clone();
    assert!(!st.get("Restarting").bool(), "{st:?}");
    ok(&r, &["rm", "-f", &run]);
}

/// The mount of `dest` in the container of `pid`, from its mountinfo:
/// (mount options, filesystem type).
fn mount_of(pid: i32, dest: &str) -> Option<(String, String)> {
    let mi = std::fs::read_to_string(format!("/proc/{pid}/mountinfo")).unwrap();
    // The last mount on a point is the one seen.
    mi.lines().rev().find_map(|l| {
        let (pre, post) = l.split_once(" - ")?;
        let f: Vec<&str> = pre.split(' ').collect();
        (f[4] == dest).then(|| {
            (
                f[5].to_string(),
                post.split(' ').next().unwrap_or("").to_string(),
            )
        })
    })
}

/// inspect's Mounts for a read-only bind, a named volume and a tmpfs, in
/// docker's shape (Type, Source, Destination, Mode, RW, Propagation; Name
/// and Driver for the volume), each checked from the host against the
/// container's /proc/PID/mountinfo (a mount there, ro or rw as RW says,
/// tmpfs for the tmpfs) and the Source against what the container sees
/// (same inode; a file written on one side read on the other).
#[test]
fn mounts_match_the_container_mount_table() {
    if !root() {
        return;
    }
    let r = Root::new("ev-mounts");
    let host = r.0.join("hostdir");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("f"), "from the host\n").unwrap();
    let bind = format!("{}:/x:ro", host.display());
    let id = r.run_d(&[
        "-v",
        &bind,
        "-v",
        "evvol:/data",
        "--mount",
        "type=tmpfs,destination=/t",
        "sleep",
        "30",
    ]);
    let pid = init_pid(&r, &id);
    let c = inspect(&r, &id);
    let ms = c.get("Mounts").arr();
    let find = |dst: &str| -> &J {
        ms.iter()
            .find(|m| m.get("Destination").str() == dst)
            .unwrap_or_else(|| panic!("no mount on {dst} in {ms:?}"))
    };
    let has = |m: &J, k: &str| m.keys().contains(&k);

    // The bind: docker's Mode "ro", RW false, Propagation rprivate.
    let b = find("/x");
    assert_eq!(b.get("Type").str(), "bind", "{b:?}");
    assert_eq!(b.get("Source").str(), host.to_str().unwrap());
    assert!(!b.get("RW").bool(), "{b:?}");
    let (opts, _) = mount_of(pid, "/x").expect("/x in the container's mountinfo");
    assert!(opts.split(',').any(|o| o == "ro"), "/x mounted {opts}");
    let inode = |p: PathBuf| {
        let m = std::fs::metadata(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        (m.dev(), m.ino())
    };
    let croot = PathBuf::from(format!("/proc/{pid}/root"));
    assert_eq!(inode(croot.join("x")), inode(host.clone()));
    assert_eq!(sh(&r, &id, "cat /x/f"), "from the host\n");
    let o = exec(&r, &id, &["touch", "/x/new"]);
    assert_ne!(o.status.code(), Some(0), "wrote into a read-only bind");
    assert!(!host.join("new").exists());

    // The named volume: Type volume, Name, Driver local, Mode "z", RW.
    let v = find("/data");
    assert_eq!(v.get("Type").str(), "volume", "{v:?}");
    let src = r.0.join("volumes/evvol/_data");
    assert_eq!(v.get("Source").str(), src.to_str().unwrap());
    assert!(v.get("RW").bool(), "{v:?}");
    let (opts, _) = mount_of(pid, "/data").expect("/data in the container's mountinfo");
    assert!(opts.split(',').any(|o| o == "rw"), "/data mounted {opts}");
    assert_eq!(inode(croot.join("data")), inode(src.clone()));
    sh(&r, &id, "echo inside > /data/g");
    assert_eq!(std::fs::read_to_string(src.join("g")).unwrap(), "inside\n");

    // The tmpfs (--mount): Source "", RW.
    let t = find("/t");
    assert_eq!(t.get("Type").str(), "tmpfs", "{t:?}");
    assert!(t.get("RW").bool(), "{t:?}");
    let (opts, fstype) = mount_of(pid, "/t").expect("/t in the container's mountinfo");
    assert_eq!(fstype, "tmpfs");
    assert!(opts.split(',').any(|o| o == "rw"), "/t mounted {opts}");
    sh(&r, &id, "echo x > /t/y");

    ok(&r, &["rm", "-f", &id]);

    // docker's fields, all of them, with docker's values; every way this
    // differs, in one message.
    let mut diffs: Vec<String> = Vec::new();
    for (m, k, want) in [
        (b, "Mode", "ro"),
        (b, "Propagation", "rprivate"),
        (v, "Name", "evvol"),
        (v, "Driver", "local"),
        (v, "Mode", "z"),
        (t, "Source", ""),
        (t, "Mode", ""),
    ] {
        let dst = m.get("Destination").str();
        match has(m, k) {
            false => diffs.push(format!("{dst}: no {k} (docker: {want:?})")),
            true if m.get(k).str() != want => diffs.push(format!(
                "{dst}: {k} {:?} (docker: {want:?})",
                m.get(k).str()
            )),
            true => {}
        }
    }
    // docker lists the user's mounts only, not the /etc files it binds.
    let mut dsts: Vec<&str> = ms.iter().map(|m| m.get("Destination").str()).collect();
    dsts.sort();
    if dsts != ["/data", "/t", "/x"] {
        diffs.push(format!("Mounts on {dsts:?} (docker: /data, /t, /x only)"));
    }
    assert!(diffs.is_empty(), "Mounts differ from docker's: {diffs:#?}");
}
