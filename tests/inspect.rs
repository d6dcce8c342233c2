//! `inspect` and `top` of detached containers.

mod common;
use common::checks::*;
use common::*;

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

/// docker's Mounts holds the user's mounts only: with --privileged too,
/// whose /sys and /sys/fs/cgroup are writable (they showed as two
/// mounts of the user's, types "sysfs" and "cgroup").
#[test]
fn mounts_of_a_privileged_container_are_the_users_only() {
    if !root() {
        return;
    }
    let r = Root::new("inspect-priv");
    let host = r.0.join("hostdir");
    std::fs::create_dir_all(&host).unwrap();
    let bind = format!("{}:/x", host.display());
    let o = r.out(&[
        "create",
        "--privileged",
        "-v",
        &bind,
        "--rootfs",
        &rootfs_str(),
        "true",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let id = stdout(&o).trim().to_string();
    let c = inspect(&r, &id);
    let ms = c.get("Mounts").arr();
    let dst: Vec<&str> = ms.iter().map(|m| m.get("Destination").str()).collect();
    assert_eq!(dst, ["/x"], "{ms:?}");
    r.out(&["rm", "-f", &id]);
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
