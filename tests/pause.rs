//! pause / unpause: every process of the container stopped by its
//! cgroup's freezer, seen from inside (a counter stops) and from the host
//! (the processes' state, the freezer file); and what docker does with a
//! paused container on exec, kill, stop and rm -f.

mod common;
use common::*;
use std::time::Duration;

fn counter(r: &Root, id: &str) -> u64 {
    let pid = r.pid(id);
    std::fs::read_to_string(format!("/proc/{pid}/root/tmp/c"))
        .unwrap_or_default()
        .trim()
        .parse()
        .unwrap_or(0)
}

/// The freezer state the host's kernel reports for the container.
fn frozen(id: &str) -> Option<bool> {
    let v1 = format!("/sys/fs/cgroup/freezer/pocket/{id}/freezer.state");
    if let Ok(s) = std::fs::read_to_string(&v1) {
        return Some(s.trim() == "FROZEN");
    }
    None
}

#[test]
fn pause_freezes_every_process_and_unpause_thaws_them() {
    if !root() {
        return;
    }
    let r = Root::new("pause");
    let rootfs = private_copy(&r);
    let o = r.out(&[
        "run",
        "-d",
        "--rootfs",
        &rootfs,
        "sh",
        "-c",
        "i=0; while :; do i=$((i+1)); echo $i > /tmp/c; sleep 0.05; done",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let id = stdout(&o).trim().to_string();
    wait_for(5, "the counter", || (counter(&r, &id) > 2).then_some(()));
    assert_eq!(stdout(&r.out(&["pause", &id])), format!("{id}\n"));
    // The host sees the processes stopped by the freezer.
    match frozen(&id) {
        Some(f) => assert!(f, "freezer.state is not FROZEN"),
        None => features::skip("v1 freezer.state", "no v1 freezer hierarchy on this host"),
    }
    let a = counter(&r, &id);
    std::thread::sleep(Duration::from_millis(400));
    let b = counter(&r, &id);
    assert_eq!(a, b, "the counter went on while paused");
    let ps = stdout(&r.out(&["ps"]));
    assert!(ps.contains("(Paused)"), "{ps}");
    // docker: a second pause and an exec are refused.
    let o = r.out(&["pause", &id]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("is already paused"), "{}", stderr(&o));
    let o = r.out(&["exec", &id, "true"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("is paused"), "{}", stderr(&o));
    assert_eq!(stdout(&r.out(&["unpause", &id])), format!("{id}\n"));
    assert_eq!(frozen(&id), frozen(&id).map(|_| false));
    wait_for(5, "the counter to go on", || {
        (counter(&r, &id) > b + 2).then_some(())
    });
    let o = r.out(&["unpause", &id]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(!stdout(&r.out(&["ps"])).contains("(Paused)"));

    // A paused container still goes: rm -f, kill and stop thaw it so the
    // signal lands (a frozen task acts on none, SIGKILL included).
    r.out(&["pause", &id]);
    let o = r.out(&["rm", "-f", &id]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!std::path::Path::new(&format!("/sys/fs/cgroup/freezer/pocket/{id}")).exists());
    for (cmd, want) in [(vec!["kill"], "137\n"), (vec!["stop", "-t", "1"], "137\n")] {
        let o = r.out(&["run", "-d", "--rootfs", &rootfs, "sleep", "60"]);
        let id = stdout(&o).trim().to_string();
        r.out(&["pause", &id]);
        let mut a: Vec<&str> = cmd.clone();
        a.push(&id);
        let o = r.out(&a);
        assert_eq!(o.status.code(), Some(0), "{cmd:?}: {}", stderr(&o));
        assert_eq!(stdout(&r.out(&["wait", &id])), want, "{cmd:?}");
        r.out(&["rm", &id]);
    }
    // Not running: nothing to pause (docker's 1).
    let o = r.out(&["run", "-d", "--rootfs", &rootfs, "true"]);
    let id = stdout(&o).trim().to_string();
    r.out(&["wait", &id]);
    let o = r.out(&["pause", &id]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("is not running"), "{}", stderr(&o));
}

/// A rootfs of the test's own (the counter writes into it).
fn private_copy(r: &Root) -> String {
    let dir = r.0.join("rootfs");
    let st = std::process::Command::new("cp")
        .args(["-a", &rootfs_str()])
        .arg(&dir)
        .status()
        .unwrap();
    assert!(st.success());
    dir.to_str().unwrap().to_string()
}
