//! Crash at every step: POCKET_CRASH_AT=N (the test hook of
//! src/rt/crash.rs) SIGKILLs pocket at the Nth setup step of create,
//! start (in pocket and in the monitor it forks), the bridge network's
//! claim, exec, rm, load, pull (from Debian's docker-registry on
//! loopback) and `network connect`/`disconnect` of a running container.
//! For every N: `ps -a` and `images` tell the truth (a container it
//! calls running has its process, one it does not has none left; an
//! image listed runs), `rm -f` and prune remove everything, the host is
//! as it was, and the next command with the same name works.

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

/// `args` (a run) killed at each setup step in turn, on a bridge whose
/// table is made first (it stays, as docker0 does): after each, `ps -a`
/// tells the truth, rm -f and prune leave the host as it was, and the
/// same command (its name, its port) works again. `min`: the steps the
/// command has today (a monitor's have no name to check, as its stderr
/// is /dev/null: their count does). Returns the steps' names.
fn run_at_every_step(root: &str, label: &str, args: &[&str], min: usize) -> Vec<String> {
    run_at_every_step_in(root, |_| {}, label, args, min)
}

/// `run_at_every_step` in a state root that `setup` makes ready (an image
/// loaded): under the one-at-a-time lock, as all the rest (the host is
/// compared, and this process's fds), the root dropped before it.
fn run_at_every_step_in(
    root: &str,
    setup: impl FnOnce(&Root),
    label: &str,
    args: &[&str],
    min: usize,
) -> Vec<String> {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let r = Root::new(root);
    setup(&r);
    let ns = Ns::new();
    let rootfs = rootfs_str();
    let o = ns.pocket(
        &r,
        &[
            "run", "--rm", "--net", "bridge", "--rootfs", &rootfs, "true",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let before = quiet(&ns, &r);
    let mut steps = Vec::new();
    for n in 1..=MAX_STEPS {
        let what = format!("{label}, POCKET_CRASH_AT={n}");
        let o = crash_cmd(&ns, &r, n, args);
        if !crashed(&o) {
            assert_eq!(o.status.code(), Some(0), "{what}: {}", stderr(&o));
            clean(&ns, &r, &what, &before);
            assert!(
                n - 1 >= min,
                "{label}: only {} steps, not {min}: the hook is not in the run path, or a step is gone",
                n - 1
            );
            eprintln!("{label}: {} steps, each interrupted: {steps:?}", n - 1);
            return steps;
        }
        let err = stderr(&o);
        steps.extend(
            err.split("killed after ")
                .nth(1)
                .map(|s| s.trim().to_string()),
        );
        truthful_ps(&ns, &r, &what);
        clean(&ns, &r, &what, &before);
        let o = ns.pocket(&r, args);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{what}: run again: {}",
            stderr(&o)
        );
        clean(&ns, &r, &what, &before);
    }
    panic!("{label}: still crashing after {MAX_STEPS} steps");
}

/// run -d (create, the network claim on a bridge, the monitor's start),
/// killed at each step in turn.
#[test]
fn run_killed_at_every_step() {
    if !root() {
        return;
    }
    let rootfs = rootfs_str();
    run_at_every_step(
        "crash-run",
        "run -d",
        &[
            "run", "-d", "--name", "victim", "--net", "bridge", "-p", "8080:80", "-m", "32m",
            "--rootfs", &rootfs, "sleep", "60",
        ],
        11,
    );
}

/// A foreground `run --rm` (a volatile container: its record, Spec, /etc
/// files and name in the run directory) killed at each step of create,
/// start and its own removal: what is left is listed truthfully and goes
/// with rm -f and prune, and the name and port are free again.
#[test]
fn rm_run_killed_at_every_step() {
    if !root() {
        return;
    }
    let rootfs = rootfs_str();
    run_at_every_step(
        "crash-rm-run",
        "run --rm",
        &[
            "run", "--rm", "--name", "brief", "--net", "bridge", "-p", "8081:80", "--rootfs",
            &rootfs, "true",
        ],
        10,
    );
}

/// `run --rm` of an image killed at each step, the spare directory's
/// (state/spare.rs) among them: its take at create, and its staging and
/// emptying at removal. A kill there leaves a half-emptied directory
/// under a half-made name, which prune clears; the next run works.
#[test]
fn rm_run_of_an_image_killed_at_every_step() {
    if !root() {
        return;
    }
    let args = [
        "run", "--rm", "--name", "brief", "--net", "none", "busybox", "true",
    ];
    let setup = |r: &Root| {
        let tar = test_images().join("busybox-docker.tar");
        let o = r.out(&["load", "-i", tar.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        // Twice first: the second takes the spare the first left.
        for _ in 0..2 {
            assert_eq!(r.out(&args).status.code(), Some(0));
        }
    };
    let steps = run_at_every_step_in("crash-rm-img", setup, "run --rm IMAGE", &args, 11);
    for s in [
        "create: spare taken",
        "rm: directory staged as a spare",
        "rm: spare emptied but its work dir",
    ] {
        assert!(steps.iter().any(|x| x == s), "{s}: {steps:?}");
    }
}

/// A foreground run with no network has its namespaces made ahead, by a
/// helper while the record is written (spawn/prefetch.rs): that step is
/// on its path, and a kill at any step (the helper's work taken or not)
/// leaves nothing behind either.
#[test]
fn rm_run_with_namespaces_made_ahead_killed_at_every_step() {
    if !root() {
        return;
    }
    let rootfs = rootfs_str();
    // (Under the hook the helper is started and waited for whatever the
    // load: the same steps in every run.)
    let steps = run_at_every_step(
        "crash-rm-run-none",
        "run --rm --net none",
        &[
            "run", "--rm", "--name", "brief", "--net", "none", "--rootfs", &rootfs, "true",
        ],
        8,
    );
    assert!(
        steps
            .iter()
            .any(|s| s == "start: namespaces made ahead taken"),
        "the namespaces made ahead were not taken: {steps:?}"
    );
}

/// A detached run with no network: its namespaces are made ahead and
/// settled before the monitor's fork, which inherits them (the monitor's
/// steps are not named: its stderr is /dev/null). A kill at any step, in
/// pocket or in the monitor, leaves nothing behind either.
#[test]
fn run_d_with_namespaces_made_ahead_killed_at_every_step() {
    if !root() {
        return;
    }
    let rootfs = rootfs_str();
    run_at_every_step(
        "crash-run-d-none",
        "run -d --net none",
        &[
            "run", "-d", "--name", "quiet", "--net", "none", "--rootfs", &rootfs, "sleep", "60",
        ],
        9,
    );
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

/// Files of the image store (below `images/`, its lock files aside):
/// documents, layers, tags, digests, temporary directories.
fn store_files(r: &Root) -> Vec<String> {
    let d = r.0.join("images");
    let mut out = Vec::new();
    for sub in ["", "layers", "tags", "digests", "tmp"] {
        for e in common::snapshot::entries(&d.join(sub)) {
            let p = d.join(sub).join(&e);
            if sub.is_empty() && (p.is_dir() || e == ".lock" || e == ".busy") {
                continue;
            }
            out.push(format!("{sub}/{e}"));
        }
    }
    out
}

/// `images` tells the truth: every tag and digest names a stored image,
/// and every image listed runs (whole or none).
fn truthful_images(ns: &Ns, r: &Root, what: &str) -> usize {
    let o = ns.pocket(r, &["images", "-q", "--no-trunc"]);
    assert_eq!(o.status.code(), Some(0), "{what}: images: {}", stderr(&o));
    let ids: Vec<String> = stdout(&o)
        .lines()
        .map(|l| l.trim_start_matches("sha256:").to_string())
        .collect();
    let d = r.0.join("images");
    for sub in ["tags", "digests"] {
        for e in common::snapshot::entries(&d.join(sub)) {
            let id = std::fs::read_to_string(d.join(sub).join(&e)).unwrap();
            assert!(
                ids.contains(&id.trim().to_string()),
                "{what}: {sub}/{e} names {id}, not an image: {ids:?}"
            );
        }
    }
    for id in &ids {
        let o = ns.pocket(r, &["run", "--rm", id, "true"]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{what}: a half image: {}",
            stderr(&o)
        );
    }
    ids.len()
}

/// pull killed at each step (manifest, config, each layer verified and
/// committed, image stored, tagged, digest recorded): `images` tells the
/// truth; `image prune -a` clears the store, the layers a killed pull
/// kept included; killed again at the same step, the next pull resumes
/// and works.
#[test]
fn pull_killed_at_every_step() {
    if !root() {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some(reg) = common::registry::Registry::start("crash-pull", None) else {
        return;
    };
    let layered = format!(
        "oci:{}:layered:latest",
        test_images().join("layered-oci").display()
    );
    reg.push(&layered, "crash/layered:v1", &[]);
    let image = format!("{}/crash/layered:v1", reg.addr());
    let ns = Ns::new();
    let r = Root::new("crash-pull");
    let before = quiet(&ns, &r);
    // In this process's network namespace: the registry's.
    let pull = |n: usize| {
        r.cmd(&["pull", "-q", &image])
            .env("POCKET_CRASH_AT", n.to_string())
            .output()
            .unwrap()
    };
    let empty = |what: &str| {
        let o = ns.pocket(&r, &["image", "prune", "-a", "-f"]);
        assert_eq!(o.status.code(), Some(0), "{what}: prune: {}", stderr(&o));
        assert_eq!(truthful_images(&ns, &r, what), 0, "{what}: images left");
        assert_eq!(store_files(&r), Vec::<String>::new(), "{what}: left");
    };
    let mut steps = 0;
    for n in 1..=MAX_STEPS {
        let what = format!("pull, POCKET_CRASH_AT={n}");
        let o = pull(n);
        if !crashed(&o) {
            assert_eq!(o.status.code(), Some(0), "{what}: {}", stderr(&o));
            assert_eq!(truthful_images(&ns, &r, &what), 1, "{what}");
            steps = n - 1;
            empty(&what);
            break;
        }
        assert!(
            stderr(&o).contains(&format!("POCKET_CRASH_AT={n}: killed after pull: ")),
            "{what}: {}",
            stderr(&o)
        );
        assert!(truthful_images(&ns, &r, &what) <= 1, "{what}");
        empty(&what);
        // Killed at the same step again; the next pull finishes the job.
        assert!(crashed(&pull(n)), "{what}: a second time");
        let o = pull(0);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{what}: pull again: {}",
            stderr(&o)
        );
        assert_eq!(truthful_images(&ns, &r, &what), 1, "{what}");
        let o = ns.pocket(&r, &["run", "--rm", &image, "true"]);
        assert_eq!(o.status.code(), Some(0), "{what}: run: {}", stderr(&o));
        empty(&what);
        assert_as_before(&ns, &r, &before, &what);
    }
    assert!(steps >= 8, "pull: only {steps} steps");
    eprintln!("pull: {steps} steps, each interrupted");
}

/// The container's IPv4 addresses as (interface, address), from its
/// network namespace.
fn addrs_of(r: &Root, id: &str) -> Vec<(String, String)> {
    let pid = r.pid(id).to_string();
    let o = std::process::Command::new("nsenter")
        .args(["-t", &pid, "-n", "ip", "-4", "-o", "addr"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let i = f.iter().position(|w| *w == "inet")?;
            let ip = f.get(i + 1)?.split('/').next()?;
            Some((f[1].to_string(), ip.to_string()))
        })
        .collect()
}

/// `network connect` and `disconnect` of a running container killed at
/// each step. What inspect says it is on, it is on (eth1, that address);
/// a network it is not on in inspect can be removed even if a killed
/// connect left an address on it; `disconnect` takes back whatever a kill
/// left; the same names then work; rm -f and network rm leave the host as
/// it was.
#[test]
fn connect_and_disconnect_killed_at_every_step() {
    if !root() {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let ns = Ns::new();
    let r = Root::new("crash-connect");
    let rootfs = rootfs_str();
    let ok = |args: &[&str], what: &str| {
        let o = ns.pocket(&r, args);
        assert_eq!(o.status.code(), Some(0), "{what}: {args:?}: {}", stderr(&o));
        stdout(&o)
    };
    // pocket's nf_tables table first: it stays, as docker's chains do.
    ok(
        &["network", "create", "--subnet", "10.142.0.0/24", "front"],
        "setup",
    );
    ok(
        &["run", "--rm", "--net", "front", "--rootfs", &rootfs, "true"],
        "setup",
    );
    ok(&["network", "rm", "front"], "setup");
    let before = quiet(&ns, &r);
    let back = |id: &str| -> Option<String> {
        let f = "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}";
        let o = ns.pocket(&r, &["inspect", "-f", f, id]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        stdout(&o)
            .split_whitespace()
            .find(|ip| ip.starts_with("10.143.0."))
            .map(String::from)
    };
    // What inspect says is so; and nothing of `back` besides.
    let truthful = |id: &str, what: &str| -> Option<String> {
        let ip = back(id);
        let have: Vec<(String, String)> = addrs_of(&r, id)
            .into_iter()
            .filter(|(_, a)| a.starts_with("10.143.0."))
            .collect();
        if let Some(ip) = &ip {
            assert_eq!(have, vec![("eth1".to_string(), ip.clone())], "{what}");
        }
        ip
    };
    for cmd in ["connect", "disconnect"] {
        let mut steps = 0;
        for n in 1..=MAX_STEPS {
            let what = format!("network {cmd}, POCKET_CRASH_AT={n}");
            ok(
                &["network", "create", "--subnet", "10.142.0.0/24", "front"],
                &what,
            );
            ok(
                &["network", "create", "--subnet", "10.143.0.0/24", "back"],
                &what,
            );
            let id = ok(
                &[
                    "run", "-d", "--name", "ctr", "--net", "front", "--rootfs", &rootfs, "sleep",
                    "60",
                ],
                &what,
            );
            let id = id.trim();
            if cmd == "disconnect" {
                ok(&["network", "connect", "back", "ctr"], &what);
                assert!(truthful(id, &what).is_some(), "{what}: not connected");
            }
            let o = crash_cmd(&ns, &r, n, &["network", cmd, "back", "ctr"]);
            if !crashed(&o) {
                assert_eq!(o.status.code(), Some(0), "{what}: {}", stderr(&o));
                assert_eq!(truthful(id, &what).is_some(), cmd == "connect", "{what}");
                steps = n - 1;
            } else {
                assert!(
                    stderr(&o).contains(&format!("POCKET_CRASH_AT={n}: killed after {cmd}: ")),
                    "{what}: {}",
                    stderr(&o)
                );
                truthful_ps(&ns, &r, &what);
                let on = truthful(id, &what);
                // A network it is not on (as inspect says) goes; one it is
                // on is refused.
                let o = ns.pocket(&r, &["network", "rm", "back"]);
                match &on {
                    Some(_) => assert!(
                        stderr(&o).contains("active endpoints"),
                        "{what}: network rm: {}",
                        stderr(&o)
                    ),
                    None => {
                        assert_eq!(o.status.code(), Some(0), "{what}: rm: {}", stderr(&o));
                        ok(
                            &["network", "create", "--subnet", "10.143.0.0/24", "back"],
                            &what,
                        );
                    }
                }
                // Connected again (or already), then off: whatever the kill
                // left goes.
                let o = ns.pocket(&r, &["network", "connect", "back", "ctr"]);
                match &on {
                    Some(_) => assert!(
                        stderr(&o).contains("already exists"),
                        "{what}: connect: {}",
                        stderr(&o)
                    ),
                    None => assert_eq!(o.status.code(), Some(0), "{what}: {}", stderr(&o)),
                }
                assert!(truthful(id, &what).is_some(), "{what}: connect again");
                ok(&["network", "disconnect", "back", "ctr"], &what);
            }
            if truthful(id, &what).is_some() {
                ok(&["network", "disconnect", "back", "ctr"], &what);
            }
            assert!(truthful(id, &what).is_none(), "{what}: still on back");
            assert_eq!(
                addrs_of(&r, id).iter().filter(|(i, _)| i != "lo").count(),
                1,
                "{what}: {:?}",
                addrs_of(&r, id)
            );
            ok(&["network", "rm", "back"], &what);
            ok(&["rm", "-f", "ctr"], &what);
            ok(&["network", "rm", "front"], &what);
            clean(&ns, &r, &what, &before);
            if steps > 0 {
                break;
            }
        }
        assert!(steps >= 4, "{cmd}: only {steps} steps");
        eprintln!("network {cmd}: {steps} steps, each interrupted");
    }
}
