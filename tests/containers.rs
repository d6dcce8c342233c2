//! Containers that live on: -d, ps, stop, kill, start, restart, wait, rm,
//! prune; names and ids; what is left after pocket, the monitor or the
//! container is killed.

mod common;
use common::checks::comm;
use common::*;
use std::time::{Duration, Instant};

fn ps(r: &Root, all: bool) -> Vec<String> {
    let o = r.out(&if all {
        vec!["ps", "-a", "--no-trunc"]
    } else {
        vec!["ps", "--no-trunc"]
    });
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    stdout(&o).lines().skip(1).map(String::from).collect()
}

fn ppid(pid: i32) -> i32 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    s[s.rfind(')').unwrap() + 2..]
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap()
}

fn gone(pid: i32) -> bool {
    state(pid).is_none_or(|s| s == 'Z')
}

#[test]
fn detached_sleep_shows_in_ps_and_on_the_host() {
    if !root() {
        return;
    }
    let r = Root::new("ps");
    let id = r.run_d(&["--name", "sleeper", "sleep", "30"]);
    let rows = ps(&r, false);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(
        rows[0].starts_with(&id) && rows[0].contains("\"sleep 30\"") && rows[0].contains("Up "),
        "{rows:?}"
    );
    assert!(rows[0].trim_end().ends_with("sleeper"));
    let pid = r.pid(&id);
    assert_eq!(
        std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .unwrap()
            .trim(),
        "sleep"
    );
    // Its parent is the monitor: a pocket process in its own session.
    let mon = ppid(pid);
    assert_eq!(
        std::fs::read_to_string(format!("/proc/{mon}/comm"))
            .unwrap()
            .trim(),
        "pocket"
    );
    // -q prints 12-char ids; the header row has docker's columns.
    let o = r.out(&["ps", "-q"]);
    assert_eq!(stdout(&o), format!("{}\n", &id[..12]));
    let o = r.out(&["ps"]);
    let head = stdout(&o).lines().next().unwrap().to_string();
    for col in [
        "CONTAINER ID",
        "IMAGE",
        "COMMAND",
        "CREATED",
        "STATUS",
        "PORTS",
        "NAMES",
    ] {
        assert!(head.contains(col), "{head}");
    }
}

#[test]
fn stop_trapping_process_exits_gracefully() {
    if !root() {
        return;
    }
    let r = Root::new("stopgrace");
    let id = r.run_d(&[
        "sh",
        "-c",
        "trap 'echo graceful; exit 0' TERM; echo ready; while :; do sleep 0.05; done",
    ]);
    let pid = r.pid(&id);
    // The trap must be set before the TERM comes (as PID 1 the shell
    // ignores a signal it has no handler for): a loaded machine may take
    // a while to get there.
    wait_for(10, "the trap", || {
        stdout(&r.out(&["logs", &id]))
            .contains("ready")
            .then_some(())
    });
    let o = r.out(&["stop", &id[..8]]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), format!("{}\n", &id[..8]));
    assert!(gone(pid));
    let o = r.out(&["logs", &id]);
    assert_eq!(stdout(&o), "ready\ngraceful\n");
    let rows = ps(&r, true);
    assert!(rows[0].contains("Exited (0)"), "{rows:?}");
    assert!(ps(&r, false).is_empty());
}

#[test]
fn stop_ignoring_process_takes_the_timeout_and_ends_137() {
    if !root() {
        return;
    }
    let r = Root::new("stopkill");
    // PID 1 without a TERM handler ignores SIGTERM: only SIGKILL ends it.
    let id = r.run_d(&["sleep", "60"]);
    let t = Instant::now();
    let o = r.out(&["stop", "-t", "1", &id]);
    let took = t.elapsed();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        took >= Duration::from_millis(950),
        "stop returned before the timeout: {took:?}"
    );
    assert_eq!(stdout(&r.out(&["wait", &id])), "137\n");
    assert!(ps(&r, true)[0].contains("Exited (137)"));
}

#[test]
fn kill_sends_the_named_signal() {
    if !root() {
        return;
    }
    let r = Root::new("kill");
    let id = r.run_d(&[
        "sh",
        "-c",
        "trap 'echo got USR1' USR1; trap 'exit 4' HUP; echo ready; while :; do sleep 0.05; done",
    ]);
    wait_for(5, "ready", || {
        stdout(&r.out(&["logs", &id]))
            .contains("ready")
            .then_some(())
    });
    let o = r.out(&["kill", "-s", "USR1", &id]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    wait_for(5, "USR1 handled", || {
        stdout(&r.out(&["logs", &id]))
            .contains("got USR1")
            .then_some(())
    });
    assert_eq!(r.out(&["kill", "-s", "SIGHUP", &id]).status.code(), Some(0));
    assert_eq!(stdout(&r.out(&["wait", &id])), "4\n");
    // Not running any more: a clear error, exit 1.
    let o = r.out(&["kill", &id]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o).lines().count(), 1);
    assert!(stderr(&o).contains("is not running"), "{}", stderr(&o));
    // A bad flag value is bad usage: 125.
    let o = r.out(&["kill", "-s", "NOPE", &id]);
    assert_eq!(o.status.code(), Some(125));
    assert!(stderr(&o).contains("invalid signal"));
}

#[test]
fn wait_prints_the_exit_code() {
    if !root() {
        return;
    }
    let r = Root::new("wait");
    let id = r.run_d(&["sh", "-c", "sleep 0.3; exit 7"]);
    let o = r.out(&["wait", &id]);
    assert_eq!(stdout(&o), "7\n");
    // Again, on the exited container: the same answer at once.
    assert_eq!(stdout(&r.out(&["wait", &id])), "7\n");
    let o = r.out(&["inspect", &id]);
    assert!(stdout(&o).contains("\"ExitCode\": 7"), "{}", stdout(&o));
    // A created container: wait blocks until it has been started and
    // has ended, as docker's.
    let root = rootfs().to_str().unwrap().to_string();
    let made = stdout(&r.out(&["create", "--rootfs", &root, "sh", "-c", "exit 5"]));
    let made = made.trim().to_string();
    let waiter = r
        .cmd(&["wait", &made])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        std::fs::read_to_string(format!("/proc/{}/stat", waiter.id()))
            .map(|s| s.contains(") Z "))
            .ok(),
        Some(false),
        "wait returned before the start"
    );
    assert_eq!(r.out(&["start", &made]).status.code(), Some(0));
    let o = waiter.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "5\n");
}

#[test]
fn rm_refuses_running_and_force_leaves_nothing() {
    if !root() {
        return;
    }
    let r = Root::new("rm");
    let mounts = host_mounts();
    let id = r.run_d(&["--name", "victim", "sleep", "30"]);
    let pid = r.pid(&id);
    let mon = ppid(pid);
    let o = r.out(&["rm", "victim"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("is running"), "{}", stderr(&o));
    assert!(!gone(pid), "rm without -f touched the container");
    assert!(r.0.join("containers").join(&id).is_dir());

    let o = r.out(&["rm", "-f", "victim"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(gone(pid) && gone(mon), "container or monitor still there");
    assert!(!r.0.join("containers").join(&id).exists());
    assert!(std::fs::symlink_metadata(r.0.join("names/victim")).is_err());
    assert_eq!(host_mounts(), mounts);
    assert!(ps(&r, true).is_empty());
    // The name is free again.
    r.run_d(&["--name", "victim", "true"]);
}

#[test]
fn foreground_runs_are_recorded_unless_rm() {
    if !root() {
        return;
    }
    let r = Root::new("fg");
    let rootfs = rootfs_str();
    let o = r.out(&[
        "run", "--name", "fg1", "--rootfs", &rootfs, "sh", "-c", "exit 3",
    ]);
    assert_eq!(o.status.code(), Some(3));
    let rows = ps(&r, true);
    assert_eq!(rows.len(), 1);
    assert!(
        rows[0].contains("Exited (3)") && rows[0].contains("fg1"),
        "{rows:?}"
    );
    // The hostname is the short id, as docker does.
    let o = r.out(&["run", "--rm", "--rootfs", &rootfs, "hostname"]);
    assert_eq!(stdout(&o).trim().len(), 12);
    assert_eq!(ps(&r, true).len(), 1, "--rm left a record");
    // --rm with -d: gone once it exits.
    let id = r.run_d(&["--rm", "sh", "-c", "sleep 0.2"]);
    wait_for(10, "--rm -d to clean up", || {
        (!r.has_dir(&id)).then_some(())
    });
    assert_eq!(ps(&r, true).len(), 1);
    // A failed start is recorded with its code, and rm cleans it.
    let o = r.out(&["run", "--name", "bad", "--rootfs", &rootfs, "no-such-cmd"]);
    assert_eq!(o.status.code(), Some(127));
    let rows = ps(&r, true);
    assert!(
        rows.iter()
            .any(|l| l.contains("Created") && l.contains("bad")),
        "{rows:?}"
    );
    assert_eq!(r.out(&["rm", "bad"]).status.code(), Some(0));
}

#[test]
fn start_and_restart_run_the_same_spec_again() {
    if !root() {
        return;
    }
    let r = Root::new("start");
    let id = r.run_d(&["-e", "WHO=again", "sh", "-c", "echo hello $WHO"]);
    assert_eq!(stdout(&r.out(&["wait", &id])), "0\n");
    let o = r.out(&["start", &id]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&r.out(&["wait", &id])), "0\n");
    assert_eq!(stdout(&r.out(&["logs", &id])), "hello again\nhello again\n");

    let id = r.run_d(&["sleep", "30"]);
    let pid = r.pid(&id);
    let o = r.out(&["restart", "-t", "0", &id]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let pid2 = r.pid(&id);
    assert_ne!(pid, pid2);
    assert!(gone(pid) && !gone(pid2));
    assert!(ps(&r, false).iter().any(|l| l.starts_with(&id)));
}

#[test]
fn parallel_runs_get_distinct_ids_and_names() {
    if !root() {
        return;
    }
    let r = std::sync::Arc::new(Root::new("parallel"));
    let handles: Vec<_> = (0..20)
        .map(|_| {
            let r = r.clone();
            std::thread::spawn(move || r.run_d(&["sleep", "30"]))
        })
        .collect();
    let mut ids: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 20);
    let rows = ps(&r, false);
    assert_eq!(rows.len(), 20, "{rows:?}");
    let mut names: Vec<String> = rows
        .iter()
        .map(|l| l.split_whitespace().last().unwrap().to_string())
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 20, "{names:?}");
    for id in &ids {
        assert!(rows.iter().any(|l| l.starts_with(id)));
    }
    // 20 containers, 20 name links, nothing else.
    assert_eq!(
        std::fs::read_dir(r.0.join("containers")).unwrap().count(),
        20
    );
    assert_eq!(std::fs::read_dir(r.0.join("names")).unwrap().count(), 20);
    let o = r.out(
        &[
            &["rm", "-f"][..],
            &ids.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        ]
        .concat(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(ps(&r, true).is_empty());
}

#[test]
fn duplicate_names_fail_cleanly_even_in_a_race() {
    if !root() {
        return;
    }
    let r = std::sync::Arc::new(Root::new("dupname"));
    r.run_d(&["--name", "taken", "sleep", "30"]);
    let rootfs = rootfs_str();
    let o = r.out(&["run", "-d", "--name", "taken", "--rootfs", &rootfs, "true"]);
    assert_eq!(o.status.code(), Some(125));
    assert_eq!(stderr(&o).lines().count(), 1);
    assert!(stderr(&o).contains("already in use"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_dir(r.0.join("containers")).unwrap().count(),
        1
    );
    // Eight pockets racing for one new name: exactly one wins.
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let r = r.clone();
            let rootfs = rootfs.clone();
            std::thread::spawn(move || {
                r.out(&[
                    "run", "-d", "--name", "race", "--rootfs", &rootfs, "sleep", "30",
                ])
                .status
                .code()
            })
        })
        .collect();
    let codes: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(
        codes.iter().filter(|c| **c == Some(0)).count(),
        1,
        "{codes:?}"
    );
    assert_eq!(
        codes.iter().filter(|c| **c == Some(125)).count(),
        7,
        "{codes:?}"
    );
    assert_eq!(
        std::fs::read_dir(r.0.join("containers")).unwrap().count(),
        2
    );
    let o = r.out(&[
        "run", "-d", "--name", "bad/name", "--rootfs", &rootfs, "true",
    ]);
    assert_eq!(o.status.code(), Some(125));
}

#[test]
fn sigkilled_monitor_is_detected_and_cleaned_up() {
    if !root() {
        return;
    }
    let r = Root::new("monkill");
    let id = r.run_d(&["sleep", "60"]);
    let pid = r.pid(&id);
    let mon = ppid(pid);
    unsafe { libc::kill(mon, libc::SIGKILL) };
    // The container goes with its monitor (PR_SET_PDEATHSIG)...
    wait_for(5, "container to die", || gone(pid).then_some(()));
    // ... and ps -a tells the truth without anyone having written it down.
    let rows = ps(&r, true);
    assert!(rows[0].contains("Exited (137)"), "{rows:?}");
    assert!(ps(&r, false).is_empty());
    assert!(stdout(&r.out(&["inspect", &id])).contains("\"Running\": false"));
    let o = r.out(&["rm", &id]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!r.0.join("containers").join(&id).exists());
}

#[test]
fn sigkilled_foreground_pocket_leaves_state_rm_can_clean() {
    if !root() {
        return;
    }
    let r = Root::new("fgkill");
    let mut child = r
        .cmd(&[
            "run",
            "--name",
            "fgk",
            "--rootfs",
            &rootfs_str(),
            "sleep",
            "60",
        ])
        .spawn()
        .unwrap();
    let cpid = container_pid(&child);
    wait_for(5, "record to say running", || {
        ps(&r, false)
            .iter()
            .any(|l| l.contains("fgk"))
            .then_some(())
    });
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let _ = child.wait();
    wait_for(5, "container to die", || gone(cpid).then_some(()));
    let rows = ps(&r, true);
    assert!(
        rows[0].contains("Exited (137)") && rows[0].contains("fgk"),
        "{rows:?}"
    );
    assert_eq!(r.out(&["rm", "fgk"]).status.code(), Some(0));
    assert!(ps(&r, true).is_empty());
    assert!(procs_rooted_in(rootfs()).iter().all(|p| *p != cpid));
}

#[test]
fn prune_removes_stopped_keeps_running() {
    if !root() {
        return;
    }
    let r = Root::new("prune");
    let live = r.run_d(&["sleep", "30"]);
    let dead = r.run_d(&["true"]);
    assert_eq!(stdout(&r.out(&["wait", &dead])), "0\n");
    let o = r.out(&["container", "prune", "-f"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains(&dead));
    let rows = ps(&r, true);
    assert_eq!(rows.len(), 1);
    assert!(rows[0].starts_with(&live));
}

#[test]
fn bad_ids_are_refused_cleanly() {
    if !root() {
        return;
    }
    let r = Root::new("badid");
    let id = r.run_d(&["sleep", "30"]);
    for cmd in [
        "stop", "kill", "rm", "wait", "logs", "inspect", "top", "start",
    ] {
        for bad in ["nonexistent", "../etc", "", "zzzz"] {
            let o = r.out(&[cmd, bad]);
            assert_eq!(o.status.code(), Some(1), "{cmd} {bad:?}: {}", stderr(&o));
            assert_eq!(
                stderr(&o).lines().count(),
                1,
                "{cmd} {bad:?}: {}",
                stderr(&o)
            );
            assert!(stderr(&o).starts_with("pocket: "), "{}", stderr(&o));
        }
    }
    let o = r.out(&["exec", "nonexistent", "true"]);
    assert_ne!(o.status.code(), Some(0));
    // Still there, untouched.
    assert!(ps(&r, false)[0].starts_with(&id));
}

#[test]
fn prune_clears_what_a_killed_create_left() {
    if !root() {
        return;
    }
    let r = Root::new("gc");
    let keep = r.run_d(&["--name", "keep", "sleep", "30"]);
    // As if a pocket died between claiming a name and renaming its
    // directory into place: a dangling name and a half-built directory
    // whose maker (pid 999999999: none) is gone.
    std::os::unix::fs::symlink("f".repeat(64), r.0.join("names/orphan")).unwrap();
    let half =
        r.0.join(format!("containers/.{}.tmp999999999", "e".repeat(64)));
    std::fs::create_dir_all(&half).unwrap();
    std::fs::write(half.join("config.json"), "{").unwrap();
    // The dangling name is free for a new container...
    r.run_d(&["--name", "orphan", "true"]);
    std::fs::remove_file(r.0.join("names/orphan")).unwrap();
    std::os::unix::fs::symlink("f".repeat(64), r.0.join("names/orphan")).unwrap();
    // ... ps ignores the half-built dir, and prune clears both.
    assert!(ps(&r, true).iter().all(|l| !l.contains("eeeeeeee")));
    let o = r.out(&["container", "prune", "-f"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!half.exists());
    // (symlink_metadata: name links point at ids, not at paths.)
    assert!(std::fs::symlink_metadata(r.0.join("names/orphan")).is_err());
    assert!(std::fs::symlink_metadata(r.0.join("names/keep")).is_ok());
    // (`orphan`, whose `true` may not have ended yet on a busy host, can
    // be listed first.)
    assert!(ps(&r, false).iter().any(|l| l.starts_with(&keep)));
}

/// A test's cgroup directory, removed however the test ends (once the
/// containers in it are gone: declare it before their Root), with its
/// `pocket` parent if the test made that too (not pocket's own: another
/// test's container may be making its group there).
struct TestGroup(Option<(std::path::PathBuf, bool)>);

impl TestGroup {
    fn make(&mut self, cg: &std::path::Path) {
        let parent = !cg.parent().unwrap().exists();
        std::fs::create_dir_all(cg).unwrap();
        self.0 = Some((cg.to_path_buf(), parent));
    }
}

impl Drop for TestGroup {
    fn drop(&mut self) {
        let Some((cg, parent)) = self.0.take() else {
            return;
        };
        for _ in 0..100 {
            if std::fs::remove_dir(&cg).is_ok() || !cg.exists() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if parent {
            let _ = std::fs::remove_dir(cg.parent().unwrap());
        }
    }
}

/// Container `id`'s record: in the run directory, or with its durable
/// directory.
fn state_json(r: &Root, id: &str) -> std::path::PathBuf {
    ["run/containers", "containers"]
        .iter()
        .map(|d| r.0.join(d).join(id).join("state.json"))
        .find(|p| p.exists())
        .expect("state.json")
}

/// The sleep `exec -d` started in container `id` (init `pid`) with `arg`.
fn execd_sleep(r: &Root, id: &str, pid: i32, arg: &str) -> i32 {
    let o = r.out(&["exec", "-d", id, "sleep", arg]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    wait_for(5, "exec'd sleep", || {
        same_pidns(pid).into_iter().find(|&p| {
            p != pid
                && std::fs::read(format!("/proc/{p}/cmdline"))
                    .is_ok_and(|c| c == format!("sleep\0{arg}\0").as_bytes())
        })
    })
}

/// As runc's: an exec'd process goes into the container's cgroups, the
/// ones its init was put in at start (recorded then: no /proc or
/// mountinfo read per exec), even where the init was moved since by
/// hand; a record from before they were kept: the init's cgroups now.
#[test]
fn exec_joins_the_containers_cgroup() {
    if !root() {
        return;
    }
    let mut group = TestGroup(None);
    let r = Root::new("execcg");
    let id = r.run_d(&["sleep", "30"]);
    let pid = r.pid(&id);
    let at_start = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    assert!(at_start.contains(&format!("/pocket/{id}")), "{at_start}");
    let execd = execd_sleep(&r, &id, pid, "5.1");
    let cgroups = std::fs::read_to_string(format!("/proc/{execd}/cgroup")).unwrap();
    assert_eq!(
        cgroups, at_start,
        "exec'd process is not in the container's cgroups"
    );
    // Move the init into a test cgroup of its own (pids hierarchy; v1 on
    // this host, else v2), so "the same cgroup" means something.
    let base = [
        "/sys/fs/cgroup/pids",
        "/sys/fs/cgroup/unified",
        "/sys/fs/cgroup",
    ]
    .into_iter()
    .map(std::path::PathBuf::from)
    .find(|p| p.join("cgroup.procs").exists())
    .expect("a cgroup hierarchy");
    let cg = base.join(format!("pocket/test-exec-{}", std::process::id()));
    group.make(&cg);
    std::fs::write(cg.join("cgroup.procs"), pid.to_string()).unwrap();
    let rel = format!("/pocket/test-exec-{}", std::process::id());
    let theirs = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    assert!(theirs.contains(&rel), "{theirs}");
    let execd = execd_sleep(&r, &id, pid, "5.2");
    let cgroups = std::fs::read_to_string(format!("/proc/{execd}/cgroup")).unwrap();
    assert_eq!(cgroups, at_start, "not the container's own cgroups");
    // The record without them (as pocket before kept them): where the
    // init is now.
    let state = state_json(&r, &id);
    let text = std::fs::read_to_string(&state).unwrap();
    let at = text.find("\"cgroups\": {").expect("cgroups recorded");
    let end = at + text[at..].find('}').unwrap() + 1;
    let old = format!("{}\"cgroups\": null{}", &text[..at], &text[end..]);
    std::fs::write(&state, old).unwrap();
    let execd = execd_sleep(&r, &id, pid, "5.3");
    let cgroups = std::fs::read_to_string(format!("/proc/{execd}/cgroup")).unwrap();
    assert_eq!(cgroups, theirs, "not where the init is now");
    // A recorded group that is gone (the host's mounts changed): the same.
    let gone = format!(
        "{}\"cgroups\": {{\"99:gone:/gone\": \"/sys/fs/cgroup/pocket-gone-{}/tasks\"}}{}",
        &text[..at],
        std::process::id(),
        &text[end..]
    );
    std::fs::write(&state, gone).unwrap();
    let execd = execd_sleep(&r, &id, pid, "5.35");
    let cgroups = std::fs::read_to_string(format!("/proc/{execd}/cgroup")).unwrap();
    assert_eq!(cgroups, theirs, "not where the init is now");
    // A record pointing elsewhere (state.json is root's; were it changed):
    // only a cgroup's own file is written, else the exec fails.
    let decoy = r.0.join("tasks");
    std::fs::write(&decoy, "").unwrap();
    let elsewhere = format!(
        "{}\"cgroups\": {{\"98:x:/y\": \"{}\"}}{}",
        &text[..at],
        decoy.display(),
        &text[end..]
    );
    std::fs::write(&state, elsewhere).unwrap();
    let o = r.out(&["exec", &id, "true"]);
    assert_eq!(o.status.code(), Some(126), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("not on a cgroup filesystem"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read_to_string(&decoy).unwrap(), "", "written");
    r.out(&["rm", "-f", &id]);
    drop(group);
    assert!(!cg.exists(), "{} left", cg.display());
}

/// In the hierarchies pocket makes no group in (`name=systemd`, the v2
/// tree beside v1 ones), an exec'd process goes where the init is (there
/// it inherited the groups of the `run` that started it), as the exec of
/// a container started from a systemd unit must be in that unit's.
#[test]
fn exec_joins_the_inits_groups_outside_pockets_hierarchies() {
    if !root() {
        return;
    }
    let mut group = TestGroup(None);
    let r = Root::new("execcgx");
    let tag = format!("test-outside-{}", std::process::id());
    let mut tried = vec![];
    for base in ["/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"] {
        let base = std::path::Path::new(base);
        if !base.join("cgroup.procs").exists() {
            continue;
        }
        let cg = base.join("pocket").join(&tag);
        group.make(&cg);
        let procs = std::ffi::CString::new(cg.join("cgroup.procs").to_str().unwrap()).unwrap();
        let mut c = r.cmd(&["run", "-d", "--rootfs", &rootfs_str(), "sleep", "30"]);
        // `run -d` (and so its init and monitor) started from that group.
        // SAFETY: open/write/close only, between fork and exec.
        unsafe {
            use std::os::unix::process::CommandExt;
            c.pre_exec(move || {
                let fd = libc::open(procs.as_ptr(), libc::O_WRONLY);
                let ok = fd >= 0 && libc::write(fd, b"0".as_ptr().cast(), 1) == 1;
                libc::close(fd);
                match ok {
                    true => Ok(()),
                    false => Err(std::io::Error::last_os_error()),
                }
            });
        }
        let o = c.output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let id = stdout(&o).trim().to_string();
        let pid = r.pid(&id);
        let theirs = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
        // Still there: pocket makes no group of its own in that hierarchy
        // (else the init would be in pocket/<id> there).
        let used = theirs.contains(&tag);
        if used {
            // Recorded at start: the fallback (the init's groups read now)
            // would join them too.
            let state = state_json(&r, &id);
            let text = std::fs::read_to_string(&state).unwrap();
            let line = theirs.lines().find(|l| l.contains(&tag)).unwrap();
            assert!(text.contains(&format!("\"{line}\": ")), "{text}");
            let execd = execd_sleep(&r, &id, pid, "5.4");
            let cgroups = std::fs::read_to_string(format!("/proc/{execd}/cgroup")).unwrap();
            assert_eq!(cgroups, theirs, "not in the init's groups");
        }
        r.out(&["rm", "-f", &id]);
        drop(std::mem::replace(&mut group, TestGroup(None)));
        assert!(!cg.exists(), "{} left", cg.display());
        if used {
            return;
        }
        tried.push(base.display().to_string());
    }
    println!(
        "SKIP exec into groups outside pocket's: no such hierarchy here (looked at {tried:?})"
    );
}

#[test]
fn two_starts_at_once_make_one_container() {
    if !root() {
        return;
    }
    let r = std::sync::Arc::new(Root::new("twostarts"));
    // An argument no other test uses, to count this container's copies.
    let id = r.run_d(&["sleep", "31.25"]);
    assert_eq!(r.out(&["kill", &id]).status.code(), Some(0));
    assert_eq!(stdout(&r.out(&["wait", &id])), "137\n");
    let hs: Vec<_> = (0..4)
        .map(|_| {
            let (r, id) = (r.clone(), id.clone());
            std::thread::spawn(move || r.out(&["start", &id]).status.code())
        })
        .collect();
    for h in hs {
        assert_eq!(h.join().unwrap(), Some(0));
    }
    let copies = || {
        std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter(|e| {
                std::fs::read(e.path().join("cmdline")).is_ok_and(|c| c == b"sleep\x0031.25\x00")
            })
            .count()
    };
    assert_eq!(
        copies(),
        1,
        "concurrent starts ran the container more than once"
    );
    assert_eq!(r.out(&["rm", "-f", &id]).status.code(), Some(0));
    assert_eq!(copies(), 0);
}

#[test]
fn prune_racing_runs_breaks_none_of_them() {
    if !root() {
        return;
    }
    let r = std::sync::Arc::new(Root::new("prunerace"));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let pruner = {
        let (r, stop) = (r.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                r.out(&["container", "prune", "-f"]);
            }
        })
    };
    let ids: Vec<String> = (0..10).map(|_| r.run_d(&["sleep", "30"])).collect();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    pruner.join().unwrap();
    let running = ps(&r, false);
    for id in &ids {
        assert!(
            running.iter().any(|l| l.starts_with(id)),
            "{id} was pruned while starting: {running:?}"
        );
    }
}

#[test]
fn the_monitor_keeps_nothing_of_its_caller() {
    if !root() {
        return;
    }
    let r = Root::new("monfds");
    let marker = r.0.join("caller-file");
    std::fs::write(&marker, "x").unwrap();
    let mut c = r.cmd(&["run", "-d", "--rootfs", &rootfs_str(), "sleep", "30"]);
    let m = std::ffi::CString::new(marker.to_str().unwrap()).unwrap();
    // SAFETY: open and dup2 are async-signal-safe.
    unsafe {
        use std::os::unix::process::CommandExt;
        c.pre_exec(move || {
            let fd = libc::open(m.as_ptr(), libc::O_RDONLY);
            libc::dup2(fd, 9);
            Ok(())
        });
    }
    let o = c.output().unwrap();
    let id = stdout(&o).trim().to_string();
    let mon = ppid(r.pid(&id));
    for e in std::fs::read_dir(format!("/proc/{mon}/fd"))
        .unwrap()
        .flatten()
    {
        let target = std::fs::read_link(e.path()).unwrap_or_default();
        assert_ne!(
            target,
            marker,
            "the monitor still holds its caller's fd {:?}",
            e.file_name()
        );
    }
}

/// docker's CLI takes options after the positional arguments (`logs web
/// -f`, `stop web -t 1`, `rm web -f`), except after `run`'s image and
/// `exec`'s container, where they belong to the command.
#[test]
fn options_after_the_container_name_as_docker() {
    if !root() {
        return;
    }
    let r = Root::new("optorder");
    let id = r.run_d(&[
        "--name",
        "late",
        "sh",
        "-c",
        "echo one; echo two; exec sleep 60",
    ]);
    let pid = r.pid(&id);
    // logs NAME --tail 1: the last line only.
    wait_for(10, "both lines logged", || {
        stdout(&r.out(&["logs", "late"]))
            .contains("two")
            .then_some(())
    });
    assert_eq!(stdout(&r.out(&["logs", "late", "--tail", "1"])), "two\n");
    // exec CONTAINER CMD -x: `-x`... is the command's.
    let o = r.out(&["exec", "late", "ls", "-d", "/"]);
    assert_eq!(
        (o.status.code(), stdout(&o)),
        (Some(0), "/\n".to_string()),
        "{o:?}"
    );
    // stop NAME -t 1: SIGTERM is ignored by PID 1, so SIGKILL after 1 s,
    // not docker's default 10.
    let t = Instant::now();
    let o = r.out(&["stop", "late", "-t", "1"]);
    assert_eq!(
        (o.status.code(), stdout(&o)),
        (Some(0), "late\n".to_string()),
        "{o:?}"
    );
    assert!(
        t.elapsed() < Duration::from_secs(8),
        "-t 1 ignored: {:?}",
        t.elapsed()
    );
    assert!(gone(pid));
    assert_eq!(stdout(&r.out(&["wait", "late"])), "137\n");
    // rm NAME -f on a running one.
    let id2 = r.run_d(&["--name", "late2", "sleep", "60"]);
    let pid2 = r.pid(&id2);
    let o = r.out(&["rm", "late2", "-f", "late"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(gone(pid2));
    assert!(ps(&r, true).is_empty(), "{:?}", ps(&r, true));
    // An unknown option after a name is still refused, and nothing done.
    let id3 = r.run_d(&["--name", "late3", "sleep", "60"]);
    let o = r.out(&["rm", "late3", "--frob"]);
    assert_eq!(o.status.code(), Some(125), "{o:?}");
    assert!(!gone(r.pid(&id3)));
    let o = r.out(&["rm", "-f", "late3"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
}

/// `rename`, as docker: the container answers to the new name only, ps
/// shows it, the old name is free; a taken name, the same name, a bad
/// name and an unknown container are refused with nothing changed.
#[test]
fn rename_moves_the_name_and_frees_the_old_one() {
    if !root() {
        return;
    }
    let r = Root::new("rename");
    let id = r.run_d(&["--name", "before", "sleep", "60"]);
    let o = r.out(&["rename", "before", "after"]);
    assert_eq!(
        (o.status.code(), stdout(&o)),
        (Some(0), String::new()),
        "{o:?}"
    );
    assert!(ps(&r, false)[0].ends_with("after"), "{:?}", ps(&r, false));
    let o = r.out(&["exec", "after", "true"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(r.out(&["exec", "before", "true"]).status.code(), Some(1));
    assert!(std::fs::symlink_metadata(r.0.join("names/before")).is_err());
    assert_eq!(
        std::fs::read_link(r.0.join("names/after"))
            .unwrap()
            .to_str(),
        Some(id.as_str())
    );
    // The old name is free for another container.
    let other = r.run_d(&["--name", "before", "sleep", "60"]);
    // Refusals: taken, same, invalid, unknown.
    let o = r.out(&["rename", "after", "before"]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(
        stderr(&o).contains("already in use by container") && stderr(&o).contains(&other),
        "{o:?}"
    );
    let o = r.out(&["rename", "after", "after"]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert_eq!(
        stderr(&o),
        "pocket: Renaming a container with the same name as its current name\n"
    );
    let o = r.out(&["rename", "after", "-bad"]);
    assert_eq!(o.status.code(), Some(125), "{o:?}");
    let o = r.out(&["rename", "nope", "x"]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let o = r.out(&["rename", "after"]);
    assert_eq!(o.status.code(), Some(125), "{o:?}");
    assert_eq!(
        std::fs::read_link(r.0.join("names/after"))
            .unwrap()
            .to_str(),
        Some(id.as_str())
    );
    // inspect shows the new name, docker's "/name".
    assert!(stdout(&r.out(&["inspect", &id])).contains("\"Name\": \"/after\""));
    for c in [&id, &other] {
        assert_eq!(r.out(&["rm", "-f", c]).status.code(), Some(0));
    }
}

/// `create` makes a container that does not run ("Created" in ps, no
/// process); `start -a` runs it in the foreground with its exit status;
/// `start` runs one in the background; a running one cannot be attached.
#[test]
fn create_then_start_or_start_attached() {
    if !root() {
        return;
    }
    let r = Root::new("create");
    let rootfs = rootfs().to_str().unwrap().to_string();
    let o = r.out(&[
        "create",
        "--name",
        "made",
        "--rootfs",
        &rootfs,
        "sh",
        "-c",
        "echo hi; exit 3",
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let id = stdout(&o).trim().to_string();
    assert_eq!(id.len(), 64, "{id}");
    let rows = ps(&r, true);
    assert!(
        rows[0].contains("Created") && rows[0].ends_with("made"),
        "{rows:?}"
    );
    assert!(ps(&r, false).is_empty(), "created is not running");
    let doc = stdout(&r.out(&["inspect", "made"]));
    assert!(doc.contains("\"Status\": \"created\""), "{doc}");
    // start -a: its output here, its status ours.
    let o = r.out(&["start", "-a", "made"]);
    assert_eq!(
        (o.status.code(), stdout(&o)),
        (Some(3), "hi\n".to_string()),
        "{o:?}"
    );
    assert!(ps(&r, true)[0].contains("Exited (3)"), "{:?}", ps(&r, true));
    // Again: the same command once more.
    let o = r.out(&["start", "--attach", "made"]);
    assert_eq!(
        (o.status.code(), stdout(&o)),
        (Some(3), "hi\n".to_string()),
        "{o:?}"
    );

    // create + start: in the background.
    let o = r.out(&["create", "--name", "bg", "--rootfs", &rootfs, "sleep", "60"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let o = r.out(&["start", "bg"]);
    assert_eq!(
        (o.status.code(), stdout(&o)),
        (Some(0), "bg\n".to_string()),
        "{o:?}"
    );
    let pid = r.pid("bg");
    assert!(!gone(pid));
    assert_eq!(comm(pid).as_deref(), Some("sleep"));
    // Running detached: start -a attaches (docker's), and ends with it.
    let attached = r.cmd(&["start", "-a", "bg"]).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(r.out(&["kill", "bg"]).status.code(), Some(0));
    let o = attached.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(137), "{o:?}");
    assert_eq!(r.out(&["start", "bg"]).status.code(), Some(0));
    let pid = r.pid("bg");
    let o = r.out(&["start", "-a", "made", "bg"]);
    assert_eq!(o.status.code(), Some(125), "{o:?}");
    for c in ["made", "bg"] {
        assert_eq!(r.out(&["rm", "-f", c]).status.code(), Some(0));
    }
    assert!(gone(pid));
    assert!(ps(&r, true).is_empty());
}

/// Labels (`-l`, `--label-file`, the image's) on the container, in
/// inspect, and `ps --filter` by id, name, label, status, exited and
/// ancestor, as docker: a key twice is either, keys together are all.
#[test]
fn labels_and_ps_filters() {
    if !root() {
        return;
    }
    let r = Root::new("filters");
    let lf = r.0.join("labels.txt");
    std::fs::write(&lf, "# ops owns it\ntier=db\n\nowner=ops\n").unwrap();
    let lf = lf.to_str().unwrap();
    let a = r.run_d(&[
        "--name",
        "alpha",
        "-l",
        "app=web",
        "--label",
        "tier=front",
        "sleep",
        "60",
    ]);
    let b = r.run_d(&[
        "--name",
        "beta",
        "--label-file",
        lf,
        "-l",
        "tier=back",
        "sleep",
        "60",
    ]);
    let c = r.run_d(&["--name", "gamma", "sh", "-c", "exit 3"]);
    assert_eq!(stdout(&r.out(&["wait", &c])), "3\n");
    let ids = |f: &[&str]| -> Vec<String> {
        let mut v = vec!["ps", "-q", "--no-trunc"];
        v.extend_from_slice(f);
        let o = r.out(&v);
        assert_eq!(o.status.code(), Some(0), "{f:?}: {o:?}");
        let mut l: Vec<String> = stdout(&o).lines().map(String::from).collect();
        l.sort();
        l
    };
    let sorted = |mut v: Vec<&String>| {
        v.sort();
        v.into_iter().cloned().collect::<Vec<String>>()
    };
    assert_eq!(ids(&["-f", "label=app"]), [a.clone()]);
    assert_eq!(ids(&["-f", "label=tier=back"]), [b.clone()]);
    assert_eq!(ids(&["--filter", "label=owner=ops"]), [b.clone()]);
    assert_eq!(
        ids(&["-f", "label=tier=db"]),
        Vec::<String>::new(),
        "overridden"
    );
    assert_eq!(
        ids(&["-f", "name=alp", "-f", "name=bet"]),
        sorted(vec![&a, &b])
    );
    assert!(ids(&["-f", "name=alp", "-f", "label=tier=back"]).is_empty());
    assert_eq!(ids(&["-f", "status=exited"]), [c.clone()], "without -a");
    assert_eq!(ids(&["-f", "exited=3"]), [c.clone()]);
    assert!(ids(&["-f", "exited=0"]).is_empty());
    assert_eq!(ids(&["-f", "status=running"]), sorted(vec![&a, &b]));
    assert_eq!(ids(&["-f", &format!("id={}", &a[..6])]), [a.clone()]);
    assert_eq!(r.out(&["pause", "alpha"]).status.code(), Some(0));
    assert_eq!(ids(&["-f", "status=paused"]), [a.clone()]);
    assert_eq!(r.out(&["unpause", "alpha"]).status.code(), Some(0));
    let root = rootfs().to_str().unwrap().to_string();
    assert_eq!(ids(&["-a", "-f", &format!("ancestor={root}")]).len(), 3);
    for bad in ["foo=bar", "status=zzz", "exited=x", "label"] {
        let o = r.out(&["ps", "-f", bad]);
        assert_eq!(o.status.code(), Some(125), "{bad}: {o:?}");
    }
    let doc = stdout(&r.out(&["inspect", "beta"]));
    assert_eq!(
        labels(&doc),
        vec![
            ("owner".to_string(), "ops".to_string()),
            ("tier".to_string(), "back".to_string())
        ],
        "{doc}"
    );
    for id in [&a, &b, &c] {
        assert_eq!(r.out(&["rm", "-f", id]).status.code(), Some(0));
    }
    let o = r.out(&["run", "--rm", "--rootfs", &root, "-l", "=x", "true"]);
    assert_eq!(o.status.code(), Some(125), "{o:?}");
}

/// `--stop-signal` is what stop sends first (a QUIT trap ends the
/// container gracefully; TERM would not be caught), `--stop-timeout` the
/// grace when stop has no -t; inspect shows both; bad values are 125.
#[test]
fn stop_signal_and_stop_timeout() {
    if !root() {
        return;
    }
    let r = Root::new("stopsig");
    let id = r.run_d(&[
        "--stop-signal",
        "SIGQUIT",
        "sh",
        "-c",
        "trap 'echo quit; exit 0' QUIT; echo ready; while :; do sleep 0.05; done",
    ]);
    wait_for(10, "the trap", || {
        stdout(&r.out(&["logs", &id]))
            .contains("ready")
            .then_some(())
    });
    let doc = stdout(&r.out(&["inspect", &id]));
    assert!(doc.contains("\"StopSignal\": \"SIGQUIT\""), "{doc}");
    let t = Instant::now();
    assert_eq!(r.out(&["stop", &id]).status.code(), Some(0));
    assert!(
        t.elapsed() < Duration::from_secs(8),
        "QUIT not sent: {:?}",
        t.elapsed()
    );
    assert_eq!(stdout(&r.out(&["wait", &id])), "0\n");
    assert_eq!(stdout(&r.out(&["logs", &id])), "ready\nquit\n");

    // PID 1 without handlers ignores TERM: killed after 1 s, not 10.
    let id2 = r.run_d(&["--stop-timeout", "1", "sleep", "60"]);
    assert!(stdout(&r.out(&["inspect", &id2])).contains("\"StopTimeout\": 1"));
    let t = Instant::now();
    assert_eq!(r.out(&["stop", &id2]).status.code(), Some(0));
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(8),
        "{took:?}"
    );
    assert_eq!(stdout(&r.out(&["wait", &id2])), "137\n");
    // Real-time signals by moby's names (systemd images stop on
    // SIGRTMIN+3); kill takes them too.
    let id3 = r.run_d(&["--stop-signal", "SIGRTMIN+3", "sleep", "60"]);
    let doc = stdout(&r.out(&["inspect", &id3]));
    assert!(doc.contains("\"StopSignal\": \"SIGRTMIN+3\""), "{doc}");
    assert_eq!(
        r.out(&["kill", "-s", "RTMAX-2", &id3]).status.code(),
        Some(0)
    );
    for bad in [
        &["--stop-signal", "NOPE"][..],
        &["--stop-signal", "SIGRTMIN+31"],
        &["--stop-timeout", "x"],
    ] {
        let mut v = vec!["run", "--rm", "--rootfs", rootfs().to_str().unwrap()];
        v.extend_from_slice(bad);
        v.push("true");
        assert_eq!(r.out(&v).status.code(), Some(125), "{bad:?}");
    }
    for i in [&id, &id2, &id3] {
        assert_eq!(r.out(&["rm", "-f", i]).status.code(), Some(0));
    }
}

/// `top` lists the container's processes (its cgroup's, host pids) in
/// ps's columns: docker's default -ef, aux, and -o FIELDS; bad options
/// are refused.
#[test]
fn top_with_ps_options() {
    if !root() {
        return;
    }
    let r = Root::new("top");
    let id = r.run_d(&["--name", "tops", "sh", "-c", "sleep 100 & exec sleep 200"]);
    let pid = r.pid(&id);
    // (Once it runs sleep: forked, it is `sh -c ...` for a moment.)
    let child = wait_for(10, "the second sleep", || {
        children(pid).first().copied().filter(|c| {
            std::fs::read_to_string(format!("/proc/{c}/comm")).is_ok_and(|s| s.trim() == "sleep")
        })
    });
    let o = stdout(&r.out(&["top", "tops"]));
    let lines: Vec<&str> = o.lines().collect();
    let head: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        head,
        ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"],
        "{o}"
    );
    assert_eq!(lines.len(), 3, "{o}");
    assert!(
        lines[1].split_whitespace().nth(1) == Some(&pid.to_string()[..])
            && lines[1].ends_with("sleep 200"),
        "{o}"
    );
    assert!(
        lines[2].contains(&child.to_string()) && lines[2].ends_with("sleep 100"),
        "{o}"
    );
    let o = stdout(&r.out(&["top", "tops", "-o", "pid,comm,stat"]));
    assert_eq!(
        o.lines()
            .next()
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["PID", "COMMAND", "STAT"]
    );
    assert!(o.lines().nth(1).unwrap().starts_with(&pid.to_string()));
    let o = stdout(&r.out(&["top", "tops", "aux"]));
    assert!(
        o.starts_with("USER") && o.lines().nth(1).unwrap().starts_with("root"),
        "{o}"
    );
    let o = r.out(&["top", "tops", "--sort", "x"]);
    assert_eq!(o.status.code(), Some(125));
    assert_eq!(stderr(&o).lines().count(), 1);
    r.out(&["stop", "-t", "0", "tops"]);
    // A command line with a terminal escape in it (the container's to
    // choose) shows it as `?`, as procps's ps: none reaches our terminal.
    let esc = r.run_d(&["sh", "-c", "sleep 100; :", "\u{1b}]0;pwned\u{7}"]);
    let o = stdout(&r.out(&["top", &esc]));
    assert!(!o.contains('\u{1b}') && !o.contains('\u{7}'), "{o:?}");
    assert!(o.contains("?]0;pwned?"), "{o:?}");
    r.out(&["rm", "-f", &esc]);
    assert_eq!(
        r.out(&["top", "tops"]).status.code(),
        Some(1),
        "not running"
    );
}

/// `rm -f A B C` of running containers kills them all first (their
/// teardowns overlap); those made with --rm, removed by their monitors
/// meanwhile, are removed as asked all the same: exit 0, each name
/// printed, nothing left, no process of theirs on the host.
#[test]
fn rm_f_of_many_including_rm_ones() {
    if !root() {
        return;
    }
    let r = Root::new("rm-many");
    let mut ids = Vec::new();
    for (i, rm) in [(0, true), (1, false), (2, true), (3, true), (4, false)] {
        let name = format!("many{i}");
        let mut args = vec!["--name", &name];
        if rm {
            args.push("--rm");
        }
        args.extend(["sleep", "60"]);
        ids.push(r.run_d(&args));
    }
    let pids: Vec<i32> = ids.iter().map(|id| r.pid(id)).collect();
    let names: Vec<String> = (0..5).map(|i| format!("many{i}")).collect();
    let mut args = vec!["rm", "-f"];
    args.extend(names.iter().map(String::as_str));
    let o = r.out(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), names.join("\n") + "\n");
    assert_eq!(stdout(&r.out(&["ps", "-aq"])), "");
    for p in pids {
        assert!(
            state(p).is_none_or(|s| s == 'Z'),
            "process {p} of a removed container lives"
        );
    }
}
