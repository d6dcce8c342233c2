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
    // The journal: unhealthy, then healthy (the monitor writes the
    // status `ps` shows first, the event right after).
    let j = wait_for(5, "healthy event", || {
        let j = std::fs::read_to_string(r.0.join("events.log")).unwrap();
        j.contains("\"health_status: healthy\"").then_some(j)
    });
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

/// A health check's `pocket exec` runs from its monitor's own sealed view
/// of pocket (the monitor runs sealed), not from a view of its own made
/// and torn down at every check, and never from the host's binary.
#[test]
fn a_health_check_runs_from_the_monitors_sealed_view() {
    if !root() {
        return;
    }
    use std::os::unix::fs::MetadataExt;
    let r = Root::new("health-view");
    let id = r.run_d(&[
        "--health-cmd",
        "exec sleep 30",
        "--health-interval",
        "100ms",
        "sleep",
        "60",
    ]);
    let monitor = common::mem::ppid(r.pid(&id)).to_string();
    let dev = |pid: &str| std::fs::metadata(format!("/proc/{pid}/exe")).map(|m| m.dev());
    // The check: `pocket ... exec ID ...` (a child of the monitor's
    // checker).
    let probe = wait_for(20, "the health check's exec", || {
        std::fs::read_dir("/proc").unwrap().flatten().find_map(|e| {
            let cmd = std::fs::read(e.path().join("cmdline")).ok()?;
            let mut args = cmd.split(|&c| c == 0);
            args.any(|a| a == b"exec")
                .then(|| args.next() == Some(id.as_bytes()))?
                .then(|| e.file_name().to_string_lossy().into_owned())
        })
    });
    let host = std::fs::metadata(bin()).unwrap().dev();
    let (m, p) = (dev(&monitor).unwrap(), dev(&probe).unwrap());
    assert_ne!(m, host, "the monitor runs the host's binary");
    assert_eq!(p, m, "the check runs from a view of its own");
    let _ = r.out(&["rm", "-f", &id]);
}

/// The default store, /var/lib/pocket with its run directory /run/pocket
/// (not /var/lib/pocket/run, which `--root /var/lib/pocket` alone would
/// mean): a health check's `pocket exec` finds its container running.
/// In a mount namespace of its own with both on tmpfs: the host's are
/// not touched.
#[test]
fn health_checks_find_their_container_in_the_default_store() {
    if !root() {
        return;
    }
    let (bin, rootfs) = (bin(), rootfs());
    let (bin, rootfs) = (bin.display(), rootfs.display());
    let script = format!(
        r#"set -e
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /var/lib
id=$({bin} run -d --net none --health-cmd true --health-interval 100ms --rootfs {rootfs} sleep 30)
trap '{bin} rm -f $id >/dev/null' EXIT
for _ in $(seq 100); do
  [ "$({bin} inspect -f '{{{{.State.Health.Status}}}}' $id)" = starting ] || break
  sleep 0.1
done
{bin} inspect -f '{{{{.State.Health.Status}}}} {{{{.State.Health.FailingStreak}}}}' $id
{bin} inspect -f '{{{{range .State.Health.Log}}}}{{{{.Output}}}}{{{{end}}}}' $id >&2
"#
    );
    let o = std::process::Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", &script])
        .env_remove("POCKET_ROOT")
        .env("POCKET_CONFIG", settings())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(stdout(&o).trim(), "healthy 0", "{}", stderr(&o));
}

/// The State.Health of `id`, from inspect.
fn health_of(r: &Root, id: &str) -> common::checks::J {
    common::checks::inspect(r, id)
        .get("State")
        .get("Health")
        .clone()
}

/// --health-start-period: checks that fail inside the start period do
/// not count (they run and are logged with their exit code 1, yet the
/// status stays `starting` and FailingStreak 0, even with --health-retries
/// 1); once the period is over a failure counts and the container turns
/// `unhealthy` (docker's handleProbeResult).
#[test]
fn health_start_period_forgives_failures_only_inside_it() {
    if !root() {
        return;
    }
    let r = Root::new("health-start-period");
    let t0 = std::time::Instant::now();
    let id = r.run_d(&[
        "--tmpfs",
        "/tmp",
        "--health-cmd",
        "echo run >> /tmp/checks; exit 1",
        "--health-interval",
        "200ms",
        "--health-start-interval",
        "200ms",
        "--health-start-period",
        "3s",
        "--health-retries",
        "1",
        "sleep",
        "60",
    ]);
    // Inside the period (t0 is before the run: its time is an overestimate).
    let mut failed_in_period = 0;
    while t0.elapsed() < std::time::Duration::from_millis(2500) {
        let h = health_of(&r, &id);
        assert_eq!(h.get("Status").str(), "starting", "{h:?}");
        assert_eq!(h.get("FailingStreak").int(), 0, "{h:?}");
        let log = h.get("Log").arr();
        assert!(log.iter().all(|e| e.get("ExitCode").int() == 1), "{h:?}");
        failed_in_period = log.len();
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(
        failed_in_period >= 2,
        "only {failed_in_period} checks ran in the start period"
    );
    // After it: the next failure counts, and one is all --health-retries 1 allows.
    let h = wait_for(10, "unhealthy after the start period", || {
        let h = health_of(&r, &id);
        (h.get("Status").str() == "unhealthy").then_some(h)
    });
    assert!(t0.elapsed() >= std::time::Duration::from_secs(3));
    assert!(h.get("FailingStreak").int() >= 1, "{h:?}");
    let ps = stdout(&r.out(&["ps"]));
    assert!(ps.contains("(unhealthy)"), "{ps}");
}

/// --health-start-interval: during the start period the checks run at
/// that interval, not --health-interval's (30s here, which would allow
/// none); once the period is over they go back to --health-interval. The
/// check appends a line to a file in the container's /tmp, counted from
/// the host through /proc/PID/root.
#[test]
fn health_start_interval_paces_the_checks_of_the_start_period() {
    if !root() {
        return;
    }
    let r = Root::new("health-start-interval");
    let t0 = std::time::Instant::now();
    let id = r.run_d(&[
        "--tmpfs",
        "/tmp",
        "--health-cmd",
        "echo run >> /tmp/checks; exit 1",
        "--health-interval",
        "30s",
        "--health-start-interval",
        "300ms",
        "--health-start-period",
        "4s",
        "sleep",
        "60",
    ]);
    let file = std::path::PathBuf::from(format!("/proc/{}/root/tmp/checks", r.pid(&id)));
    let sleep_until = |ms: u64| {
        let at = std::time::Duration::from_millis(ms);
        if let Some(d) = at.checked_sub(t0.elapsed()) {
            std::thread::sleep(d);
        }
    };
    sleep_until(2500);
    let early = lines(&file);
    // ~8 at 300 ms in 2.5 s; none at 30 s (nor at the default 5 s).
    assert!(
        (4..=9).contains(&early),
        "{early} checks in the first 2.5 s at --health-start-interval 300ms"
    );
    assert_eq!(health_of(&r, &id).get("Status").str(), "starting");
    // Past the period: the 30 s interval again, so the count stands still.
    sleep_until(5500);
    let after = lines(&file);
    assert!(after >= early, "{after} < {early}");
    sleep_until(8000);
    assert_eq!(
        lines(&file),
        after,
        "checks still every 300 ms after the start period"
    );
}

/// A docker-archive of the test busybox image with `StopSignal` set in
/// its config (as a Dockerfile's STOPSIGNAL leaves it), tagged `tag`,
/// loaded into `r`.
fn load_with_stop_signal(r: &Root, sig: &str, tag: &str) {
    let dir = r.0.join("stopsig-img");
    std::fs::create_dir_all(&dir).unwrap();
    let src = test_images().join("busybox-docker.tar");
    let o = std::process::Command::new("tar")
        .arg("-xf")
        .arg(&src)
        .arg("-C")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "tar -x: {}", stderr(&o));
    let manifest = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    let i = manifest.find("\"Config\":\"").unwrap() + 10;
    let old = manifest[i..].split('"').next().unwrap().to_string();
    let config = std::fs::read_to_string(dir.join(&old)).unwrap();
    assert!(config.contains("\"config\":{") && !config.contains("StopSignal"));
    let config = config.replacen(
        "\"config\":{",
        &format!("\"config\":{{\"StopSignal\":\"{sig}\","),
        1,
    );
    let new_cfg = dir.join("new-config.json");
    std::fs::write(&new_cfg, &config).unwrap();
    let o = std::process::Command::new("sha256sum")
        .arg(&new_cfg)
        .output()
        .unwrap();
    let sum = stdout(&o).split_whitespace().next().unwrap().to_string();
    assert_eq!(sum.len(), 64);
    let name = format!("{sum}.json");
    std::fs::rename(&new_cfg, dir.join(&name)).unwrap();
    std::fs::remove_file(dir.join(&old)).unwrap();
    let _ = std::fs::remove_file(dir.join("repositories"));
    let manifest = manifest
        .replace(&old, &name)
        .replace("docker.io/library/busybox:latest", tag);
    std::fs::remove_file(dir.join("manifest.json")).unwrap();
    std::fs::write(dir.join("manifest.json"), manifest).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let tar = r.0.join("stopsig.tar");
    let o = std::process::Command::new("tar")
        .arg("-C")
        .arg(&dir)
        .arg("-cf")
        .arg(&tar)
        .args(&names)
        .output()
        .unwrap();
    assert!(o.status.success(), "tar -c: {}", stderr(&o));
    let o = r.out(&["load", "-i", tar.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "load: {}", stderr(&o));
}

/// The image's STOPSIGNAL is what `stop` sends first, without
/// --stop-signal: a container trapping SIGUSR1 (the image's) prints that
/// it got it and exits with its own 9, well before stop's SIGKILL; inspect
/// shows Config.StopSignal SIGUSR1.
#[test]
fn stop_sends_the_images_stopsignal_first() {
    if !root() {
        return;
    }
    let r = Root::new("stopsignal");
    load_with_stop_signal(&r, "SIGUSR1", "stopsig:1");
    let o = r.out(&[
        "run",
        "-d",
        "--name",
        "trapper",
        "stopsig:1",
        "sh",
        "-c",
        "trap 'echo got USR1; exit 9' USR1; echo ready; while :; do sleep 0.1; done",
    ]);
    assert_eq!(o.status.code(), Some(0), "run: {}", stderr(&o));
    let id = stdout(&o).trim().to_string();
    wait_for(10, "ready", || {
        (stdout(&r.out(&["logs", &id])) == "ready\n").then_some(())
    });
    let o = r.out(&["inspect", "-f", "{{.Config.StopSignal}}", "trapper"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), "SIGUSR1");
    let t = std::time::Instant::now();
    let o = common::checks::output_within(r.cmd(&["stop", "-t", "8", "trapper"]), 15, "stop");
    assert_eq!(o.status.code(), Some(0), "stop: {}", stderr(&o));
    assert!(
        t.elapsed() < std::time::Duration::from_secs(5),
        "stop took {:?}: the first signal was not the image's",
        t.elapsed()
    );
    assert_eq!(common::checks::wait_exited(&r, &id), 9);
    assert_eq!(stdout(&r.out(&["logs", &id])), "ready\ngot USR1\n");
}

/// A monitor whose pocket lacks CAP_SYS_PTRACE (pocket in a container,
/// a unit with fewer capabilities) restarts its container: its launches
/// open the new init's /proc files (the loopback of its network
/// namespace), which the kernel refuses in a process that is not
/// dumpable. The init that shared the monitor's memory until its execve
/// made that memory not dumpable; the monitor takes its setting back.
#[test]
fn restarts_by_a_monitor_without_cap_sys_ptrace() {
    if !root() {
        return;
    }
    if !std::path::Path::new("/usr/bin/setpriv").exists() {
        features::skip(
            "restarts without CAP_SYS_PTRACE",
            "no /usr/bin/setpriv here",
        );
        return;
    }
    let r = Root::new("restart-noptrace");
    let data = r.0.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let v = format!("{}:/data", data.display());
    let rootfs = rootfs_str();
    let o = std::process::Command::new("/usr/bin/setpriv")
        .args(["--bounding-set", "-sys_ptrace", "--inh-caps", "-sys_ptrace"])
        .arg(bin())
        .env("POCKET_CONFIG", settings())
        .arg("--root")
        .arg(&r.0)
        .args([
            "run",
            "-d",
            "--net",
            "none",
            "--restart",
            "on-failure:2",
            "-v",
            &v,
        ])
        .args([
            "--rootfs",
            &rootfs,
            "sh",
            "-c",
            "echo run >> /data/runs; exit 3",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let id = stdout(&o).trim().to_string();
    wait_for(20, "two restarts", || {
        (status(&r, &id) == "exited" && num(&r, &id, "RestartCount") == 2).then_some(())
    });
    assert_eq!(lines(&data.join("runs")), 3);
    assert_eq!(num(&r, &id, "ExitCode"), 3);
}
