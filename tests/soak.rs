//! Endurance: a bounded soak of mixed container work, after which the
//! host holds exactly what it held before (mounts, cgroups, veths,
//! nf_tables rules, this process's fds, zombies, state files); a
//! long-lived monitor whose memory does not grow with its log and execs;
//! and parallel commands that never corrupt state or hand out one name,
//! address or port twice.
//!
//! Everything runs in a network namespace of its own (the bridge runs
//! make bridges, veths and rules there). POCKET_SOAK_RUNS sets the
//! soak's size (default 1,000, CI's). The tests of this file run one at
//! a time: each compares the host before and after.

mod common;
use common::mem::{ppid, vm_kib};
use common::netns::Ns;
use common::snapshot::{assert_as_before, entries, quiet};
use common::*;
use std::collections::BTreeSet;
use std::sync::Mutex;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn runs() -> usize {
    std::env::var("POCKET_SOAK_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

fn ok(o: &std::process::Output, what: &str) -> String {
    assert_eq!(o.status.code(), Some(0), "{what}: {}", stderr(o));
    stdout(o)
}

/// The soak: foreground and detached, image and --rootfs, limits, none
/// and bridge networks, exec, stop, rm -f, --rm. Afterwards the host is
/// as it was.
#[test]
fn soak_leaves_the_host_as_it_was() {
    if !root() {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let ns = Ns::new();
    let r = Root::new("soak");
    let tar = test_images().join("busybox-docker.tar");
    ok(
        &ns.pocket(&r, &["load", "-q", "-i", tar.to_str().unwrap()]),
        "load",
    );
    let rootfs = rootfs_str();
    // Warm-up: the first bridge run makes the bridge and the table, which
    // stay (as docker's docker0 does); the snapshot is taken after it.
    ok(
        &ns.pocket(&r, &["run", "--rm", "--net", "bridge", "busybox", "true"]),
        "warm-up",
    );
    let before = quiet(&ns, &r);
    let n = runs();
    for i in 0..n {
        let from: Vec<&str> = match i % 2 {
            0 => vec!["busybox"],
            _ => vec!["--rootfs", &rootfs],
        };
        let net: &[&str] = if i % 7 == 0 {
            &["--net", "bridge"]
        } else {
            &[]
        };
        let limits: &[&str] = if i % 3 == 0 {
            &["-m", "32m", "--pids-limit", "64"]
        } else {
            &[]
        };
        let mut args: Vec<&str> = vec!["run"];
        args.extend(net);
        args.extend(limits);
        match i % 10 {
            // Detached: exec in it, stop, rm.
            0 => {
                args.extend(["-d"]);
                args.extend(&from);
                args.extend(["sleep", "60"]);
                let id = ok(&ns.pocket(&r, &args), "run -d").trim().to_string();
                let o = ns.pocket(&r, &["exec", &id, "sh", "-c", "echo in-$((1+1))"]);
                assert_eq!(ok(&o, "exec"), "in-2\n");
                ok(&ns.pocket(&r, &["stop", "-t", "0", &id]), "stop");
                ok(&ns.pocket(&r, &["rm", &id]), "rm");
            }
            // Detached, removed running.
            1 => {
                args.extend(["-d"]);
                args.extend(&from);
                args.extend(["sleep", "60"]);
                let id = ok(&ns.pocket(&r, &args), "run -d").trim().to_string();
                ok(&ns.pocket(&r, &["rm", "-f", &id]), "rm -f");
            }
            // Detached with --rm: gone by itself.
            2 => {
                args.extend(["-d", "--rm"]);
                args.extend(&from);
                args.extend(["true"]);
                let id = ok(&ns.pocket(&r, &args), "run -d --rm").trim().to_string();
                wait_for(10, "a --rm container to go", || {
                    (ns.pocket(&r, &["inspect", &id]).status.code() == Some(1)).then_some(())
                });
            }
            // Foreground, kept, then removed.
            3 => {
                args.extend(["--name", "kept"]);
                args.extend(&from);
                args.extend(["sh", "-c", "exit 3"]);
                assert_eq!(ns.pocket(&r, &args).status.code(), Some(3));
                ok(&ns.pocket(&r, &["rm", "kept"]), "rm kept");
            }
            // Foreground --rm, the common case.
            _ => {
                args.extend(["--rm"]);
                args.extend(&from);
                args.extend(["true"]);
                ok(&ns.pocket(&r, &args), "run --rm");
            }
        }
    }
    assert_eq!(ok(&ns.pocket(&r, &["ps", "-aq"]), "ps"), "");
    assert_as_before(&ns, &r, &before, &format!("after {n} runs"));
}

/// A long-lived monitor's memory does not grow with its log and execs:
/// read after 1,000 log lines and 100 execs (its buffers touched), after
/// 5,500 and 550, and after 10,000 and 1,000. A one-time first touch
/// (a burst needing a bigger buffer) may show between the first two;
/// the second half must add nothing (a page of slack). VmRSS and Pss are
/// printed for the README.
#[test]
fn a_monitor_does_not_grow_with_its_log_and_execs() {
    if !root() {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let r = Root::new("soak-monitor");
    // Three bursts of lines, each let go by a file the test makes.
    let script = "i=0; for stop in 1000 5500 10000; do \
         while [ $i -lt $stop ]; do echo line $i; i=$((i+1)); done; echo done-$stop; \
         while [ ! -e /dev/shm/go-$stop ]; do sleep 0.05; done; done; sleep 600";
    let id = r.run_d(&["sh", "-c", script]);
    let monitor = ppid(r.pid(&id));
    let mut seen = Vec::new();
    for (stop, execs) in [(1000, 100), (5500, 450), (10000, 450)] {
        wait_for(20, "a burst of lines", || {
            stdout(&r.out(&["logs", "--tail", "1", &id]))
                .contains(&format!("done-{stop}"))
                .then_some(())
        });
        for _ in 0..execs {
            assert_eq!(r.out(&["exec", &id, "true"]).status.code(), Some(0));
        }
        // At rest: the monitor gives its text pages back after a quiet
        // second (what it holds while busy depends on which pages the
        // kernel's fault-around happened to map: +-16 KiB run to run).
        std::thread::sleep(std::time::Duration::from_millis(1500));
        seen.push((vm_kib(monitor, "VmRSS:"), vm_kib(monitor, "Pss:")));
        let go = format!("/dev/shm/go-{stop}");
        assert_eq!(r.out(&["exec", &id, "touch", &go]).status.code(), Some(0));
    }
    eprintln!("monitor: VmRSS, Pss (KiB) at 1,000 / 5,500 / 10,000 lines: {seen:?}");
    assert_eq!(stdout(&r.out(&["logs", &id])).lines().count(), 10003);
    let (first, mid, last) = (seen[0].0, seen[1].0, seen[2].0);
    assert!(first > 0, "no monitor memory read");
    assert!(
        last <= mid + 4,
        "the monitor grew: VmRSS {first} -> {mid} -> {last} KiB"
    );
    ok(&r.out(&["rm", "-f", &id]), "rm");
}

/// 50 parallel `run -d` (ten names asked twice), network create/rm and
/// loads of one image, then 50 parallel `rm -f`: each name once, every
/// id, address and published port distinct, state that reads back, and
/// no lock left held.
#[test]
fn parallel_commands_keep_state_whole() {
    if !root() {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let ns = Ns::new();
    let r = Root::new("soak-parallel");
    let rootfs = rootfs_str();
    ok(
        &ns.pocket(
            &r,
            &["network", "create", "--subnet", "10.141.0.0/24", "par"],
        ),
        "network create",
    );
    // Ten pulls of the image the loads load, from a registry on this
    // process's loopback (pull needs no network namespace of its own).
    let reg = common::registry::Registry::start("soak", None);
    let pulled = reg.as_ref().map(|reg| {
        reg.push(
            &common::registry::busybox_archive(),
            "soak/busybox:latest",
            &[],
        );
        format!("{}/soak/busybox:latest", reg.addr())
    });
    let before = quiet(&ns, &r);
    let tar = test_images().join("busybox-docker.tar");
    let tar = tar.to_str().unwrap();
    let results: Vec<(usize, std::process::Output)> = std::thread::scope(|s| {
        let mut hs = Vec::new();
        for i in 0..50 {
            let (ns, r, rootfs) = (&ns, &r, &rootfs);
            hs.push(s.spawn(move || {
                let name = format!("c{}", i % 40);
                let o = ns.pocket(
                    r,
                    &[
                        "run", "-d", "--name", &name, "--net", "par", "-p", "80", "--rootfs",
                        rootfs, "sleep", "60",
                    ],
                );
                (i, o)
            }));
        }
        for i in 0..6 {
            let (ns, r) = (&ns, &r);
            hs.push(s.spawn(move || {
                let name = format!("n{i}");
                let o = ns.pocket(r, &["network", "create", &name]);
                let o = match o.status.code() {
                    Some(0) => ns.pocket(r, &["network", "rm", &name]),
                    _ => o,
                };
                (100 + i, o)
            }));
        }
        for i in 0..4 {
            let (ns, r) = (&ns, &r);
            hs.push(s.spawn(move || (200 + i, ns.pocket(r, &["load", "-q", "-i", tar]))));
        }
        for i in 0..10 {
            let (r, pulled) = (&r, &pulled);
            if let Some(image) = pulled {
                hs.push(
                    s.spawn(move || (300 + i, r.cmd(&["pull", "-q", image]).output().unwrap())),
                );
            }
        }
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut made = 0;
    for (i, o) in &results {
        match *i {
            0..50 => match o.status.code() {
                Some(0) => made += 1,
                _ => assert!(
                    stderr(o).contains("is already in use"),
                    "run {i}: {}",
                    stderr(o)
                ),
            },
            _ => assert_eq!(o.status.code(), Some(0), "{i}: {}", stderr(o)),
        }
    }
    assert_eq!(made, 40, "each of the 40 names once");
    let ps = ok(
        &ns.pocket(
            &r,
            &["ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Names}}"],
        ),
        "ps",
    );
    let (ids, names): (BTreeSet<&str>, BTreeSet<&str>) =
        ps.lines().map(|l| l.split_once(' ').unwrap()).unzip();
    assert_eq!((ids.len(), names.len()), (40, 40), "{ps}");
    let f =
        "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}} {{json .NetworkSettings.Ports}}";
    let mut ips = BTreeSet::new();
    let mut ports = BTreeSet::new();
    for n in &names {
        let got = ok(&ns.pocket(&r, &["inspect", "-f", f, n]), "inspect");
        let (ip, p) = got.trim().split_once(' ').unwrap();
        assert!(ip.starts_with("10.141.0."), "{got}");
        assert!(ips.insert(ip.to_string()), "address {ip} twice");
        let port = p
            .split("\"HostPort\":\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert!(ports.insert(port.to_string()), "host port {port} twice");
    }
    assert_eq!(
        ok(&ns.pocket(&r, &["images", "-q"]), "images")
            .lines()
            .count(),
        1,
        "one image however many loads and pulls"
    );
    if let Some(image) = &pulled {
        ok(
            &ns.pocket(&r, &["run", "--rm", image, "true"]),
            "run the pulled image",
        );
        // Every layer stored is one an image lists; nothing half-made left.
        let images = r.0.join("images");
        let listed = ok(
            &ns.pocket(&r, &["image", "inspect", "-f", "{{.RootFS.Layers}}", image]),
            "image inspect",
        );
        for l in entries(&images.join("layers")) {
            let hex = l.split('.').next().unwrap();
            assert!(listed.contains(hex), "layer {l} no image lists: {listed}");
        }
        assert_eq!(
            entries(&images.join("tmp")),
            Vec::<String>::new(),
            "images/tmp"
        );
    }
    // rm -f of all at once.
    std::thread::scope(|s| {
        for n in &names {
            let (ns, r) = (&ns, &r);
            s.spawn(move || ok(&ns.pocket(r, &["rm", "-f", n]), "rm -f"));
        }
    });
    assert_eq!(ok(&ns.pocket(&r, &["ps", "-aq"]), "ps"), "");
    // No lock held: each lock file can be taken at once.
    let locks = entries(&r.0.join("run"))
        .into_iter()
        .filter(|f| f.ends_with(".lock"))
        .map(|f| r.0.join("run").join(f))
        .chain(["images/.lock", "images/.busy"].map(|f| r.0.join(f)))
        .filter(|p| p.exists());
    for f in locks {
        let file = std::fs::File::open(&f).unwrap();
        use std::os::fd::AsRawFd;
        // SAFETY: a valid fd; LOCK_NB never blocks.
        let got = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        assert_eq!(got, 0, "{} is still held", f.display());
    }
    assert_as_before(&ns, &r, &before, "after the parallel commands");
}
