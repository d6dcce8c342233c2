//! Where a container's state lives: the live record under `<root>/run`
//! (a tmpfs in production: /run/pocket), a durable copy under
//! `<root>/containers` written only when something that outlives a reboot
//! changes; none at all for --rm. And a simulated reboot (the run
//! directory gone, every process dead): `ps -a` still lists every
//! container that was not --rm, exited; start, rm and boot work; what
//! --rm containers left is cleared.

mod common;
use common::checks::{J, json};
use common::*;
use std::path::{Path, PathBuf};

fn run_copy(r: &Root, id: &str) -> PathBuf {
    r.0.join("run/containers").join(id).join("state.json")
}

fn durable_copy(r: &Root, id: &str) -> PathBuf {
    r.0.join("containers").join(id).join("state.json")
}

fn read(p: &Path) -> Option<J> {
    let s = std::fs::read_to_string(p).ok()?;
    Some(json(&s).unwrap_or_else(|e| panic!("{}: {e}: {s}", p.display())))
}

fn status(j: &J) -> String {
    j.get("status").str().to_string()
}

fn code(j: &J) -> Option<i64> {
    match j.get("exit_code") {
        J::Null => None,
        n => Some(n.int()),
    }
}

fn ok(o: &std::process::Output, what: &str) -> String {
    assert_eq!(o.status.code(), Some(0), "{what}: {}", stderr(o));
    stdout(o)
}

/// `ps -a` as (name, image, status) lines.
fn ps(r: &Root) -> Vec<String> {
    let o = r.out(&["ps", "-a", "--format", "{{.Names}}|{{.Image}}|{{.Status}}"]);
    ok(&o, "ps -a").lines().map(String::from).collect()
}

fn line<'a>(ps: &'a [String], name: &str) -> &'a str {
    ps.iter()
        .find(|l| l.starts_with(&format!("{name}|")))
        .unwrap_or_else(|| panic!("{name} not in ps -a: {ps:?}"))
}

fn wait_exited(r: &Root, id: &str) {
    wait_for(20, "exit recorded", || {
        let s = stdout(&r.out(&["inspect", "--format", "{{.State.Status}}", id]));
        (s.trim() == "exited").then_some(())
    });
}

/// SIGKILL a container's monitor and init, as a crash of the host would
/// end them: nothing gets to write down how it ended.
fn kill_hard(r: &Root, id: &str) {
    let j = read(&run_copy(r, id)).expect("run copy");
    let (pid, mon) = (j.get("pid").int() as i32, j.get("monitor_pid").int() as i32);
    assert!(pid > 0 && mon > 0, "{j:?}");
    for p in [mon, pid] {
        // SAFETY: plain kill(2).
        unsafe { libc::kill(p, libc::SIGKILL) };
    }
    wait_for(10, "processes gone", || {
        let gone = |p: i32| {
            std::fs::read_to_string(format!("/proc/{p}/stat")).map_or(true, |s| {
                s.split(") ").nth(1).is_some_and(|x| x.starts_with('Z'))
            })
        };
        (gone(pid) && gone(mon)).then_some(())
    });
}

/// The durable copy once the monitor has written the end (5 s at most).
fn durable_exited(r: &Root, id: &str) -> common::checks::J {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let d = read(&durable_copy(r, id)).unwrap();
        if status(&d) == "exited" || std::time::Instant::now() > end {
            return d;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[test]
fn the_live_record_is_on_run_and_a_durable_copy_only_when_it_matters() {
    if !root() {
        return;
    }
    let r = Root::new("state-copies");
    let rootfs = rootfs_str();

    // create: both copies, "created".
    let made = ok(
        &r.out(&["create", "--name", "made", "--rootfs", &rootfs, "true"]),
        "create",
    );
    let made = made.trim();
    let live = read(&run_copy(&r, made)).expect("run copy after create");
    let durable = read(&durable_copy(&r, made)).expect("durable copy after create");
    assert_eq!(status(&live), "created");
    assert_eq!(status(&durable), "created");

    // run -d: the start is on the run copy only; the durable one says how
    // a reboot would leave it (it was running: "running", no pid).
    let up = r.run_d(&["--name", "up", "sleep", "1000"]);
    let live = read(&run_copy(&r, &up)).expect("run copy");
    assert_eq!(status(&live), "running");
    assert!(live.get("pid").int() > 0);
    let durable = read(&durable_copy(&r, &up)).expect("durable copy");
    assert_eq!(status(&durable), "running", "{durable:?}");
    assert_eq!(durable.get("pid").int(), 0, "the start is not on disk");

    // Its exit: on both.
    ok(&r.out(&["kill", "up"]), "kill");
    wait_exited(&r, &up);
    // `ps` says exited once the pid is gone; the monitor writes the end
    // right after: both copies are waited for.
    let durable = durable_exited(&r, &up);
    let live = read(&run_copy(&r, &up)).unwrap();
    assert_eq!(status(&live), "exited");
    assert_eq!(status(&durable), "exited");
    assert_eq!(code(&durable), Some(137));
    assert_eq!(code(&live), code(&durable));

    // Started by hand: an exit on both again.
    ok(&r.out(&["start", "made"]), "start");
    wait_exited(&r, made);
    let durable = durable_exited(&r, made);
    assert_eq!(status(&durable), "exited");
    assert_eq!(code(&durable), Some(0));

    // rename: durable.
    ok(&r.out(&["rename", "made", "renamed"]), "rename");
    let durable = read(&durable_copy(&r, made)).unwrap();
    assert_eq!(durable.get("name").str(), "renamed");

    // --rm: never a durable record, running or after.
    let o = r.out(&[
        "run", "--rm", "-d", "--name", "gone", "--rootfs", &rootfs, "sleep", "1000",
    ]);
    let gone = ok(&o, "run --rm -d");
    let gone = gone.trim();
    assert!(run_copy(&r, gone).exists());
    // All of it in the run directory, its name too; on the disk only its
    // log (what may grow).
    assert!(
        r.0.join("run/containers")
            .join(gone)
            .join("config.json")
            .exists()
    );
    assert!(r.0.join("run/names/gone").is_symlink());
    assert!(!r.0.join("names/gone").exists());
    let on_disk: Vec<_> = std::fs::read_dir(r.0.join("containers").join(gone))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(on_disk, ["container.log"], "--rm keeps no durable record");
    ok(&r.out(&["kill", gone]), "kill --rm");
    wait_for(20, "--rm removed", || {
        (!r.0.join("run/containers").join(gone).exists()).then_some(())
    });
    assert!(!r.0.join("containers").join(gone).exists());
    assert!(!r.0.join("run/names/gone").is_symlink());
    let o = r.out(&["run", "--rm", "--rootfs", &rootfs, "true"]);
    ok(&o, "run --rm");
    // A foreground --rm run with --rootfs touches nothing on the disk:
    // while it runs, only the run directory has it.
    let disk_before = common::snapshot::entries(&r.0.join("containers"));
    let mut fg = r
        .cmd(&[
            "run", "--rm", "--name", "fg", "--rootfs", &rootfs, "sleep", "1000",
        ])
        .spawn()
        .unwrap();
    let id = wait_for(20, "the foreground --rm run", || {
        std::fs::read_link(r.0.join("run/names/fg")).ok()
    });
    let id = id.to_string_lossy().into_owned();
    assert!(
        r.0.join("run/containers")
            .join(&id)
            .join("config.json")
            .exists()
    );
    assert!(r.0.join("run/containers").join(&id).join("hosts").exists());
    assert_eq!(
        common::snapshot::entries(&r.0.join("containers")),
        disk_before
    );
    assert!(!r.0.join("names/fg").exists());
    ok(
        &r.out(&["rm", "-f", "fg"]),
        "rm -f of a foreground --rm run",
    );
    let _ = fg.wait();
    assert!(!r.0.join("run/containers").join(&id).exists());

    // rm: both go.
    ok(&r.out(&["rm", "renamed", "up"]), "rm");
    for d in ["containers", "run/containers"] {
        let left: Vec<_> = std::fs::read_dir(r.0.join(d))
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert!(left.is_empty(), "{d}: {left:?}");
    }
}

#[test]
fn after_a_reboot_every_container_is_listed_exited_and_works() {
    if !root() {
        return;
    }
    let r = Root::new("state-reboot");
    let rootfs = rootfs_str();
    let made = ok(
        &r.out(&["create", "--name", "made", "--rootfs", &rootfs, "true"]),
        "create",
    );
    let made = made.trim().to_string();
    let ran = r.run_d(&["--name", "ran", "sh", "-c", "exit 3"]);
    wait_exited(&r, &ran);
    r.run_d(&["--name", "stopped", "sleep", "1000"]);
    ok(&r.out(&["stop", "-t", "0", "stopped"]), "stop");
    let up = r.run_d(&["--name", "up", "sleep", "1000"]);
    let always = r.run_d(&["--name", "always", "--restart", "always", "sleep", "1000"]);
    let o = r.out(&[
        "run", "--rm", "-d", "--name", "gone", "--rootfs", &rootfs, "sleep", "1000",
    ]);
    let gone = ok(&o, "run --rm -d").trim().to_string();
    // The reboot: everything that ran dies where it stands, and the run
    // directory (a tmpfs) is empty again.
    for id in [&up, &always, &gone] {
        kill_hard(&r, id);
    }
    std::fs::remove_dir_all(r.0.join("run")).unwrap();
    // (a reboot would have taken their cgroups too)
    for id in [&up, &always, &gone] {
        for d in common::snapshot::cgroups()
            .iter()
            .filter(|d| d.ends_with(id.as_str()))
        {
            let _ = std::fs::remove_dir(d);
        }
    }

    let list = ps(&r);
    assert_eq!(list.len(), 5, "every container but the --rm one: {list:?}");
    assert!(line(&list, "made").ends_with("|Created"), "{list:?}");
    assert!(line(&list, "ran").contains("|Exited (3) "), "{list:?}");
    assert!(
        line(&list, "stopped").contains("|Exited (137) "),
        "{list:?}"
    );
    assert!(line(&list, "up").contains("|Exited (255) "), "{list:?}");
    assert!(line(&list, "always").contains("|Exited (255) "), "{list:?}");
    assert!(
        line(&list, "up").contains(&format!("|{rootfs}|")),
        "{list:?}"
    );
    let pid = stdout(&r.out(&["inspect", "--format", "{{.State.Pid}}", "up"]));
    assert_eq!(pid.trim(), "0");

    // boot: --restart always runs again; the --rm leftover goes.
    let booted = ok(&r.out(&["boot"]), "boot");
    assert_eq!(booted.trim(), "always");
    assert!(
        !r.0.join("containers").join(&gone).exists(),
        "--rm leftover cleared"
    );
    wait_for(10, "always runs", || {
        line(&ps(&r), "always").contains("|Up ").then_some(())
    });

    // start and rm as ever.
    ok(&r.out(&["start", "up"]), "start after reboot");
    assert!(line(&ps(&r), "up").contains("|Up "));
    assert!(read(&run_copy(&r, &up)).is_some());
    ok(&r.out(&["rm", "-f", "up", "always"]), "rm -f");
    ok(&r.out(&["rm", "ran", "stopped", &made]), "rm");
    assert_eq!(ps(&r), Vec::<String>::new());
    for d in ["containers", "run/containers"] {
        let left: Vec<_> = std::fs::read_dir(r.0.join(d))
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert!(left.is_empty(), "{d}: {left:?}");
    }
}

/// A --rm container's leftovers after a reboot (no record anywhere) are
/// cleared by prune as well, and one removed halfway (its run directory
/// gone first) can still be removed.
#[test]
fn prune_clears_what_a_reboot_left_of_rm_containers() {
    if !root() {
        return;
    }
    let r = Root::new("state-prune");
    let rootfs = rootfs_str();
    let o = r.out(&[
        "run", "--rm", "-d", "--name", "gone", "--rootfs", &rootfs, "sleep", "1000",
    ]);
    let gone = ok(&o, "run --rm -d").trim().to_string();
    kill_hard(&r, &gone);
    std::fs::remove_dir_all(r.0.join("run")).unwrap();
    for d in common::snapshot::cgroups()
        .iter()
        .filter(|d| d.ends_with(gone.as_str()))
    {
        let _ = std::fs::remove_dir(d);
    }
    assert!(r.0.join("containers").join(&gone).exists());
    assert_eq!(ps(&r), Vec::<String>::new());
    ok(&r.out(&["container", "prune", "-f"]), "prune");
    assert!(!r.0.join("containers").join(&gone).exists());
}
