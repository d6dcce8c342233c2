//! Crash at every step: POCKET_CRASH_AT=N (the test hook of
//! src/rt/crash.rs) SIGKILLs pocket at the Nth setup step of create,
//! start (in pocket and in the monitor it forks), the bridge network's
//! claim, exec, rm and load. For every N: `ps -a` tells the truth (a
//! container it calls running has its process, one it does not has
//! none left), `rm -f` and prune remove everything, the host is as it
//! was, and the next command with the same name works.

mod common;
use common::netns::Ns;
use common::snapshot::{assert_as_before, quiet};
use std::sync::Mutex;

/// One test at a time: each compares the host (and this process's fds)
/// before and after.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
use common::*;

/// Steps run at most: a command that passes them all is done.
const MAX_STEPS: usize = 40;

fn crash_cmd(ns: &Ns, r: &Root, n: usize, args: &[&str]) -> std::process::Output {
    ns.cmd(&bin())
        .env("POCKET_CRASH_AT", n.to_string())
        .arg("--root")
        .arg(&r.0)
        .args(args)
        .output()
        .unwrap()
}

/// Did the hook fire? pocket says so; a monitor's stderr is /dev/null,
/// so its death shows as the start's failure (the run without the hook,
/// at the end of each loop, must succeed with the same arguments).
fn crashed(o: &std::process::Output) -> bool {
    let e = stderr(o);
    e.contains("POCKET_CRASH_AT=") || e.contains("monitor: exited before the container started")
}

/// Processes in the container's cgroup (any hierarchy pocket uses),
/// found from the host: its pids file under .../pocket/<id>.
fn cgroup_procs(id: &str) -> Vec<i32> {
    let mut out = Vec::new();
    for d in common::snapshot::cgroups() {
        if !d.ends_with(id) {
            continue;
        }
        if let Ok(s) = std::fs::read_to_string(format!("{d}/cgroup.procs")) {
            out.extend(s.lines().filter_map(|l| l.parse::<i32>().ok()));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// `ps -a` as (id, name, state), checked against the host: running means
/// its init lives; any other state means nothing of it runs.
fn truthful_ps(ns: &Ns, r: &Root, what: &str) -> Vec<(String, String, String)> {
    let o = ns.pocket(
        r,
        &[
            "ps",
            "-a",
            "--no-trunc",
            "--format",
            "{{.ID}} {{.Names}} {{.State}}",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{what}: ps: {}", stderr(&o));
    let rows: Vec<(String, String, String)> = stdout(&o)
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f[0].to_string(), f[1].to_string(), f[2].to_string())
        })
        .collect();
    for (id, name, st) in &rows {
        let procs = cgroup_procs(id);
        match st.as_str() {
            // Running: its init lives, or its monitor (which has the
            // last word while it lives) is about to record the exit.
            "running" => wait_for(5, &format!("{what}: {name} said running"), || {
                let pid = r.pid(id);
                let gone = pid == 0 || !std::path::Path::new(&format!("/proc/{pid}")).exists();
                let o = ns.pocket(r, &["inspect", "-f", "{{.State.Status}}", id]);
                (!gone || stdout(&o).trim() != "running").then_some(())
            }),
            _ => assert!(
                procs.is_empty(),
                "{what}: {name} said {st}, yet {procs:?} run in its cgroup"
            ),
        }
    }
    rows
}

/// Remove everything (rm -f of each, then prune) and check the host.
fn clean(ns: &Ns, r: &Root, what: &str, before: &common::snapshot::Snapshot) {
    for (id, _, _) in truthful_ps(ns, r, what) {
        let o = ns.pocket(r, &["rm", "-f", &id]);
        assert!(
            matches!(o.status.code(), Some(0) | Some(1)),
            "{what}: rm -f: {}",
            stderr(&o)
        );
    }
    let o = ns.pocket(r, &["container", "prune", "-f"]);
    assert_eq!(o.status.code(), Some(0), "{what}: prune: {}", stderr(&o));
    assert_eq!(ns.pocket(r, &["ps", "-aq"]).stdout, b"", "{what}: left");
    assert_as_before(ns, r, before, what);
}

/// run -d (create, the network claim on a bridge, the monitor's start),
/// killed at each step in turn.
#[test]
fn run_killed_at_every_step() {
    if !root() {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let ns = Ns::new();
    let r = Root::new("crash-run");
    let rootfs = rootfs_str();
    // The bridge and its table first: they stay, as docker0 does.
    let o = ns.pocket(
        &r,
        &[
            "run", "--rm", "--net", "bridge", "--rootfs", &rootfs, "true",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let before = quiet(&ns, &r);
    let mut steps = 0;
    for n in 1..=MAX_STEPS {
        let what = format!("run -d, POCKET_CRASH_AT={n}");
        let args = [
            "run", "-d", "--name", "victim", "--net", "bridge", "-p", "8080:80", "-m", "32m",
            "--rootfs", &rootfs, "sleep", "60",
        ];
        let o = crash_cmd(&ns, &r, n, &args);
        if !crashed(&o) {
            assert_eq!(o.status.code(), Some(0), "{what}: {}", stderr(&o));
            steps = n - 1;
            clean(&ns, &r, &what, &before);
            break;
        }
        truthful_ps(&ns, &r, &what);
        clean(&ns, &r, &what, &before);
        // The same name, the same port: free again.
        let o = ns.pocket(&r, &args);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{what}: run again: {}",
            stderr(&o)
        );
        clean(&ns, &r, &what, &before);
    }
    assert!(
        steps >= 8,
        "only {steps} steps: the hook is not in the run path"
    );
    eprintln!("run -d: {steps} steps, each interrupted");
}

/// exec and rm -f killed at each step: the container stays truthful and
/// can still be removed.
#[test]
fn exec_and_rm_killed_at_every_step() {
    if !root() {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let ns = Ns::new();
    let r = Root::new("crash-exec");
    let rootfs = rootfs_str();
    let before = quiet(&ns, &r);
    for cmd in ["exec", "rm"] {
        let mut steps = 0;
        for n in 1..=MAX_STEPS {
            let what = format!("{cmd}, POCKET_CRASH_AT={n}");
            let o = ns.pocket(
                &r,
                &[
                    "run", "-d", "--name", "target", "--rootfs", &rootfs, "sleep", "60",
                ],
            );
            assert_eq!(o.status.code(), Some(0), "{what}: run: {}", stderr(&o));
            let args: &[&str] = match cmd {
                "exec" => &["exec", "target", "sh", "-c", "echo in"],
                _ => &["rm", "-f", "target"],
            };
            let o = crash_cmd(&ns, &r, n, args);
            if !crashed(&o) {
                assert_eq!(o.status.code(), Some(0), "{what}: {}", stderr(&o));
                steps = n - 1;
                clean(&ns, &r, &what, &before);
                break;
            }
            let rows = truthful_ps(&ns, &r, &what);
            if cmd == "exec" {
                assert_eq!(rows.len(), 1, "{what}: {rows:?}");
                assert_eq!(
                    rows[0].2, "running",
                    "{what}: an exec stopped the container"
                );
            }
            clean(&ns, &r, &what, &before);
        }
        assert!(steps >= 2, "{cmd}: only {steps} steps");
        eprintln!("{cmd}: {steps} steps, each interrupted");
    }
}

/// load killed at each step: `images` shows a whole image or none, a
/// second load works, and rmi + prune leave the image store empty.
#[test]
fn load_killed_at_every_step() {
    if !root() {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let ns = Ns::new();
    let r = Root::new("crash-load");
    let tar = test_images().join("two-layer.tar");
    let tar = if tar.exists() {
        tar
    } else {
        test_images().join("busybox-docker.tar")
    };
    let tar = tar.to_str().unwrap();
    let layers = |r: &Root| common::snapshot::entries(&r.0.join("images/layers"));
    let mut steps = 0;
    for n in 1..=MAX_STEPS {
        let what = format!("load, POCKET_CRASH_AT={n}");
        let o = crash_cmd(&ns, &r, n, &["load", "-q", "-i", tar]);
        let imgs = stdout(&ns.pocket(&r, &["images", "-q"]));
        if !crashed(&o) {
            assert_eq!(o.status.code(), Some(0), "{what}: {}", stderr(&o));
            steps = n - 1;
            break;
        }
        // Whole or none: an image listed runs.
        for id in imgs.lines() {
            let o = ns.pocket(&r, &["run", "--rm", id, "true"]);
            assert_eq!(
                o.status.code(),
                Some(0),
                "{what}: a half image: {}",
                stderr(&o)
            );
        }
        let o = ns.pocket(&r, &["load", "-q", "-i", tar]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{what}: load again: {}",
            stderr(&o)
        );
        let o = ns.pocket(&r, &["image", "prune", "-a", "-f"]);
        assert_eq!(o.status.code(), Some(0), "{what}: prune: {}", stderr(&o));
        assert_eq!(stdout(&ns.pocket(&r, &["images", "-q"])), "", "{what}");
        assert_eq!(layers(&r), Vec::<String>::new(), "{what}: layers left");
    }
    assert!(steps >= 3, "load: only {steps} steps");
    eprintln!("load: {steps} steps, each interrupted");
}
