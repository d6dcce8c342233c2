//! Services that stay up: restart policies (--restart, the monitor's
//! backoff, stop and rm -f during it, `pocket boot` after a reboot).

mod common;
use common::*;
use std::path::Path;

/// A number field of `inspect`'s document, e.g. "RestartCount".
fn num(r: &Root, q: &str, key: &str) -> i64 {
    let doc = stdout(&r.out(&["inspect", q]));
    let k = format!("\"{key}\": ");
    let i = doc.find(&k).unwrap_or_else(|| panic!("{key} in {doc}"));
    doc[i + k.len()..]
        .split(|c: char| !c.is_ascii_digit() && c != '-')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// State.Status of `q`.
fn status(r: &Root, q: &str) -> String {
    let doc = stdout(&r.out(&["inspect", q]));
    let i = doc.find("\"Status\": \"").expect("Status");
    doc[i + 11..].split('"').next().unwrap().to_string()
}

fn lines(p: &Path) -> usize {
    std::fs::read_to_string(p).map_or(0, |s| s.lines().count())
}

/// The cgroups pocket made for container `id`, on the host.
fn cgroups_of(id: &str) -> Vec<String> {
    let mut out = Vec::new();
    for h in std::fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
        let d = h.path().join("pocket").join(id);
        if d.exists() {
            out.push(d.display().to_string());
        }
    }
    out
}

#[test]
fn on_failure_restarts_up_to_its_count_then_rests() {
    if !root() {
        return;
    }
    let r = Root::new("restart-count");
    let data = r.0.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let v = format!("{}:/data", data.display());
    // Each run leaves a line on the host, then fails.
    let id = r.run_d(&[
        "--restart",
        "on-failure:2",
        "-v",
        &v,
        "sh",
        "-c",
        "echo run >> /data/runs; exit 3",
    ]);
    wait_for(20, "two restarts", || {
        (status(&r, &id) == "exited" && num(&r, &id, "RestartCount") == 2).then_some(())
    });
    // The first run and two restarts; then no more.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(lines(&data.join("runs")), 3);
    assert_eq!(num(&r, &id, "RestartCount"), 2);
    assert_eq!(num(&r, &id, "ExitCode"), 3);
    let doc = stdout(&r.out(&["inspect", &id]));
    assert!(
        doc.contains("\"Name\": \"on-failure\"") && doc.contains("\"MaximumRetryCount\": 2"),
        "{doc}"
    );
    let ps = stdout(&r.out(&["ps", "-a"]));
    assert!(ps.contains("Exited (3)"), "{ps}");
    assert!(cgroups_of(&id).is_empty(), "{:?}", cgroups_of(&id));
    // A clean exit is no failure: on-failure leaves it be.
    let ok = r.run_d(&[
        "--restart",
        "on-failure",
        "-v",
        &v,
        "sh",
        "-c",
        "echo ok >> /data/ok",
    ]);
    wait_for(10, "exit", || (status(&r, &ok) == "exited").then_some(()));
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(lines(&data.join("ok")), 1);
    assert_eq!(num(&r, &ok, "RestartCount"), 0);
}

#[test]
fn always_restarts_until_stopped_and_ps_says_restarting() {
    if !root() {
        return;
    }
    let r = Root::new("restart-always");
    let id = r.run_d(&[
        "--name",
        "flappy",
        "--restart",
        "always",
        "sh",
        "-c",
        "sleep 0.2",
    ]);
    // It comes back after each clean exit; between runs ps (without -a,
    // as docker's) says Restarting with the last exit code.
    let seen = wait_for(20, "a restarting ps row", || {
        let o = stdout(&r.out(&["ps"]));
        o.lines()
            .find(|l| l.contains("Restarting (0)"))
            .map(String::from)
    });
    assert!(seen.contains("flappy"), "{seen}");
    wait_for(20, "three restarts", || {
        (num(&r, &id, "RestartCount") >= 3).then_some(())
    });
    // The backoff doubles: 100, 200, 400, 800 ms... so a container that
    // lasts 0.2 s cannot have been restarted more than ~8 times in 5 s.
    let o = r.out(&["stop", "-t", "1", "flappy"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let n = num(&r, &id, "RestartCount");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(status(&r, &id), "exited", "stop ends the policy");
    assert_eq!(num(&r, &id, "RestartCount"), n, "restarted after stop");
    assert!(cgroups_of(&id).is_empty(), "{:?}", cgroups_of(&id));
    // start by hand: the policy applies again, its count afresh.
    assert_eq!(r.out(&["start", "flappy"]).status.code(), Some(0));
    wait_for(20, "a restart after start", || {
        (num(&r, &id, "RestartCount") >= 1).then_some(())
    });
    assert_eq!(r.out(&["stop", "-t", "1", "flappy"]).status.code(), Some(0));
}

#[test]
fn rm_during_backoff_needs_force_and_leaves_nothing() {
    if !root() {
        return;
    }
    let r = Root::new("restart-rm");
    let id = r.run_d(&["--name", "crashy", "--restart", "always", "false"]);
    wait_for(20, "restarting", || {
        (status(&r, &id) == "restarting").then_some(())
    });
    let o = r.out(&["rm", "crashy"]);
    assert_ne!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("restarting"), "{}", stderr(&o));
    let o = r.out(&["rm", "-f", "crashy"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!r.0.join("containers").join(&id).exists());
    // Its monitor gave up: nothing starts it again, no cgroup comes back.
    std::thread::sleep(std::time::Duration::from_millis(1000));
    assert!(!r.0.join("containers").join(&id).exists());
    assert!(cgroups_of(&id).is_empty(), "{:?}", cgroups_of(&id));
    assert!(stdout(&r.out(&["ps", "-aq"])).is_empty());
}

#[test]
fn a_foreground_run_returns_its_status_and_the_policy_goes_on() {
    if !root() {
        return;
    }
    let r = Root::new("restart-fg");
    let data = r.0.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let v = format!("{}:/data", data.display());
    let o = r.out(&[
        "run",
        "--name",
        "fg",
        "--restart",
        "on-failure:1",
        "-v",
        &v,
        "--rootfs",
        rootfs().to_str().unwrap(),
        "sh",
        "-c",
        "echo run >> /data/runs; exit 4",
    ]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    wait_for(20, "the restart", || {
        (lines(&data.join("runs")) == 2).then_some(())
    });
    wait_for(20, "its end", || {
        (status(&r, "fg") == "exited").then_some(())
    });
    assert_eq!(num(&r, "fg", "RestartCount"), 1);
}

#[test]
fn boot_brings_back_always_and_unless_stopped_as_docker() {
    if !root() {
        return;
    }
    let r = Root::new("restart-boot");
    let always = r.run_d(&["--name", "always", "--restart", "always", "sleep", "60"]);
    let unless = r.run_d(&[
        "--name",
        "unless",
        "--restart",
        "unless-stopped",
        "sleep",
        "60",
    ]);
    r.run_d(&[
        "--name",
        "stopped",
        "--restart",
        "unless-stopped",
        "sleep",
        "60",
    ]);
    let never = r.run_d(&["--name", "never", "--restart", "on-failure", "sleep", "60"]);
    assert_eq!(
        r.out(&["stop", "-t", "0", "stopped"]).status.code(),
        Some(0)
    );
    // A reboot, as the records see it: monitors and containers gone
    // without a word.
    for id in [&always, &unless, &never] {
        let pid = r.pid(id);
        let mon = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let mon: i32 = mon[mon.rfind(')').unwrap() + 2..]
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        unsafe {
            libc_kill(mon, 9);
            libc_kill(pid, 9);
        }
        wait_for(10, "the kill", || {
            (state(pid).is_none_or(|s| s == 'Z') && state(mon).is_none_or(|s| s == 'Z'))
                .then_some(())
        });
    }
    let o = r.out(&["boot"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let mut started: Vec<&str> = out.lines().collect();
    started.sort();
    assert_eq!(started, ["always", "unless"]);
    for q in ["always", "unless"] {
        assert_eq!(status(&r, q), "running", "{q}");
        let pid = r.pid(q);
        assert_eq!(
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .unwrap()
                .trim(),
            "sleep"
        );
    }
    for q in ["stopped", "never"] {
        assert_eq!(status(&r, q), "exited", "{q}");
    }
    // Twice is harmless: what runs is left alone.
    assert_eq!(stdout(&r.out(&["boot"])), "");
}

unsafe extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

#[test]
fn bad_policies_are_refused_and_leave_nothing() {
    if !root() {
        return;
    }
    let r = Root::new("restart-bad");
    let rootfs = rootfs().to_str().unwrap();
    for args in [
        &["--restart", "sometimes"][..],
        &["--restart", "always:3"][..],
        &["--restart", "on-failure:-1"][..],
        &["--restart", "always", "--rm"][..],
    ] {
        let mut v = vec!["run", "-d"];
        v.extend(args);
        v.extend(["--rootfs", rootfs, "true"]);
        let o = r.out(&v);
        assert_eq!(o.status.code(), Some(125), "{args:?}");
        let e = stderr(&o);
        assert_eq!(e.lines().count(), 1, "{e}");
        assert!(e.contains("restart"), "{e}");
    }
    assert!(stdout(&r.out(&["ps", "-aq"])).is_empty());
}

/// The check runs inside the container (its files, its hostname), every
/// interval; failures in a row make it unhealthy, a success healthy; ps
/// and inspect show it, and the journal has docker's health_status events.
#[test]
fn health_checks_run_inside_and_flip_the_status() {
    if !root() {
        return;
    }
    let r = Root::new("health");
    let id = r.run_d(&[
        "--name",
        "doc",
        "-h",
        "insidehost",
        "--tmpfs",
        "/tmp",
        "--health-cmd",
        "hostname; test -e /tmp/ok",
        "--health-interval",
        "200ms",
        "--health-retries",
        "2",
        "sleep",
        "60",
    ]);
    let row = |want: &str| {
        let want = want.to_string();
        wait_for(20, &want.clone(), || {
            stdout(&r.out(&["ps"]))
                .lines()
                .find(|l| l.contains(&want))
                .map(String::from)
        })
    };
    assert!(row("(unhealthy)").contains("doc"));
    // A file only the container has: the check sees its root, not ours.
    assert_eq!(
        common::checks::exec(&r, &id, &["touch", "/tmp/ok"])
            .status
            .code(),
        Some(0)
    );
    row("(healthy)");
    let h = common::checks::inspect(&r, &id);
    let health = h.get("State").get("Health");
    assert_eq!(health.get("Status").str(), "healthy");
    assert_eq!(health.get("FailingStreak").int(), 0);
    let log = health.get("Log").arr();
    assert!(!log.is_empty() && log.len() <= 5, "{}", log.len());
    let last = &log[log.len() - 1];
    assert_eq!(last.get("ExitCode").int(), 0);
    assert_eq!(last.get("Output").str(), "insidehost\n");
    let cfg = h.get("Config").get("Healthcheck");
    assert_eq!(
        cfg.get("Test").strs(),
        ["CMD-SHELL", "hostname; test -e /tmp/ok"]
    );
    assert_eq!(cfg.get("Interval").int(), 200_000_000);
    // The journal: unhealthy, then healthy.
    let j = std::fs::read_to_string(r.0.join("events.log")).unwrap();
    let u = j
        .find("\"health_status: unhealthy\"")
        .expect("unhealthy event");
    let hl = j
        .rfind("\"health_status: healthy\"")
        .expect("healthy event");
    assert!(u < hl);
    // The check ends with the container: no checker is left.
    assert_eq!(r.out(&["rm", "-f", "doc"]).status.code(), Some(0));
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(!r.0.join("containers").join(&id).exists());
}

/// A check that outlives --health-timeout is killed and fails with -1
/// and docker's words; --no-healthcheck and bad durations.
#[test]
fn health_check_timeouts_and_bad_values() {
    if !root() {
        return;
    }
    let r = Root::new("health-timeout");
    let id = r.run_d(&[
        "--health-cmd",
        "exec sleep 7",
        "--health-interval",
        "100ms",
        "--health-timeout",
        "300ms",
        "--health-retries",
        "1",
        "sleep",
        "60",
    ]);
    wait_for(20, "unhealthy", || {
        let h = common::checks::inspect(&r, &id);
        (h.get("State").get("Health").get("Status").str() == "unhealthy").then_some(())
    });
    let h = common::checks::inspect(&r, &id);
    let log = h.get("State").get("Health").get("Log").arr();
    assert_eq!(log[0].get("ExitCode").int(), -1);
    assert_eq!(
        log[0].get("Output").str(),
        "Health check exceeded timeout (300ms)"
    );
    // The killed check is gone from the container (only init and at most
    // the check running now).
    let ps = common::checks::sh(&r, &id, "ps -o comm= | grep -c sleep");
    assert!(ps.trim().parse::<i32>().unwrap() <= 2, "{ps}");
    let rootfs = rootfs().to_str().unwrap();
    for args in [
        &["--health-interval", "fast", "--health-cmd", "true"][..],
        &["--health-cmd", "true", "--no-healthcheck"][..],
        &["--health-retries", "x", "--health-cmd", "true"][..],
    ] {
        let mut v = vec!["run", "-d"];
        v.extend(args);
        v.extend(["--rootfs", rootfs, "true"]);
        let o = r.out(&v);
        assert_eq!(o.status.code(), Some(125), "{args:?}");
        assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    }
    assert_eq!(stdout(&r.out(&["ps", "-aq"])).lines().count(), 1);
}
