//! Resource limits on the real kernel (this host: cgroup v1 hierarchies
//! for memory, cpu, cpuset, pids, blkio; cgroup2 with few controllers).
//! The v2 logic is tested against fake trees in the unit tests.

mod common;
use common::*;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The directory of `id`'s group in the hierarchy holding `controller`.
fn cg(controller: &str, id: &str) -> PathBuf {
    let mi = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    for l in mi.lines() {
        let (pre, post) = l.split_once(" - ").unwrap();
        let mp = pre.split(' ').nth(4).unwrap();
        let mut post = post.split(' ');
        let fstype = post.next().unwrap();
        let opts = post.nth(1).unwrap_or("");
        if fstype == "cgroup" && opts.split(',').any(|o| o == controller) {
            return PathBuf::from(mp).join("pocket").join(id);
        }
    }
    PathBuf::from("/sys/fs/cgroup/pocket").join(id)
}

fn read(p: PathBuf) -> String {
    std::fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .trim()
        .to_string()
}

/// docker's words, byte for byte.
const BLKIO_WARNING: &str = "WARNING: Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.";

fn no_groups_left(id: &str) {
    for c in [
        "memory", "cpu", "cpuacct", "cpuset", "pids", "blkio", "devices",
    ] {
        assert!(!cg(c, id).exists(), "{} left behind", cg(c, id).display());
    }
}

#[test]
fn limits_are_on_the_host_before_the_command_and_the_container_sees_root() {
    if !root() {
        return;
    }
    let r = Root::new("cglimits");
    let rootfs = rootfs_str();
    let o = r.out(&[
        "run",
        "-d",
        "--rootfs",
        &rootfs,
        "-m",
        "64m",
        "--memory-reservation",
        "32m",
        "--cpus",
        "0.5",
        "-c",
        "512",
        "--cpuset-cpus",
        "0",
        "--pids-limit",
        "20",
        "--blkio-weight",
        "300",
        // Prints what it saw before anything else ran: limits already there.
        "sh",
        "-c",
        "cat /proc/self/cgroup; grep Cpus_allowed_list /proc/self/status; sleep 30",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let id = stdout(&o).trim().to_string();
    let warnings = stderr(&o);
    assert_eq!(
        read(cg("memory", &id).join("memory.limit_in_bytes")),
        "67108864"
    );
    assert_eq!(
        read(cg("memory", &id).join("memory.soft_limit_in_bytes")),
        "33554432"
    );
    assert_eq!(read(cg("cpu", &id).join("cpu.cfs_quota_us")), "50000");
    assert_eq!(read(cg("cpu", &id).join("cpu.cfs_period_us")), "100000");
    assert_eq!(read(cg("cpu", &id).join("cpu.shares")), "512");
    assert_eq!(read(cg("cpuset", &id).join("cpuset.cpus")), "0");
    assert_eq!(read(cg("pids", &id).join("pids.max")), "20");
    let ins = stdout(&r.out(&["inspect", &id]));
    // docker's default swap: twice the memory.
    match features::swap_accounting() {
        Ok(()) => assert_eq!(
            read(cg("memory", &id).join("memory.memsw.limit_in_bytes")),
            "134217728"
        ),
        Err(why) => {
            features::skip("memory+swap limit", &why);
            assert!(
                warnings.contains("Memory limited without swap."),
                "{warnings}"
            );
        }
    }
    // The weight where the kernel can take it; elsewhere docker's warning,
    // the container runs, and inspect shows what was applied: nothing.
    match features::blkio_weight() {
        Ok(f) => {
            assert!(
                read(cg("blkio", &id).join(f))
                    .split_whitespace()
                    .any(|w| w == "300"),
                "blkio weight in {f}"
            );
            assert!(ins.contains("\"BlkioWeight\": 300"), "{ins}");
            assert!(!warnings.contains("Block I/O"), "{warnings}");
        }
        Err(why) => {
            features::skip("blkio weight", &why);
            assert!(warnings.lines().any(|l| l == BLKIO_WARNING), "{warnings}");
            assert!(ins.contains("\"BlkioWeight\": 0"), "{ins}");
        }
    }
    assert!(
        warnings.lines().all(|l| l.starts_with("WARNING: ")),
        "{warnings}"
    );
    let pid = r.pid(&id);
    for c in ["memory", "cpu", "cpuset", "pids"] {
        assert!(
            read(cg(c, &id).join("cgroup.procs"))
                .lines()
                .any(|l| l == pid.to_string()),
            "{c}"
        );
    }
    wait_for(5, "output", || {
        stdout(&r.out(&["logs", &id]))
            .contains("Cpus_allowed_list")
            .then_some(())
    });
    let out = stdout(&r.out(&["logs", &id]));
    for l in out
        .lines()
        .filter(|l| l.contains(':') && !l.starts_with("Cpus"))
    {
        assert!(
            l.ends_with(":/"),
            "container does not see itself at /: {out}"
        );
    }
    assert!(out.contains("Cpus_allowed_list:\t0\n"), "{out}");
    for want in [
        "\"Memory\": 67108864",
        "\"NanoCpus\": 500000000",
        "\"CpuShares\": 512",
        "\"CpusetCpus\": \"0\"",
        "\"PidsLimit\": 20",
    ] {
        assert!(ins.contains(want), "inspect lacks {want}: {ins}");
    }
    assert_eq!(r.out(&["rm", "-f", &id]).status.code(), Some(0));
    no_groups_left(&id);
}

/// The options of the mount on `point` in a mountinfo text (field 6,
/// the mount's own, not the superblock's after " - "), and whether it
/// is in a peer group ("shared:N").
fn mount_opts(mountinfo: &str, point: &str) -> Option<(String, bool)> {
    mountinfo.lines().find_map(|l| {
        let f: Vec<&str> = l.split(' ').collect();
        let dash = f.iter().position(|x| *x == "-")?;
        (f[4] == point).then(|| {
            (
                f[5].to_string(),
                f[6..dash].iter().any(|o| o.starts_with("shared:")),
            )
        })
    })
}

/// docker's /sys/fs/cgroup: the container's own groups, where a runtime
/// (the JVM, Go's automaxprocs) reads its limits: `-m 64m` shows as 64m
/// inside, read-only, nothing of the host's other groups. The attack:
/// raise its own memory limit, or reach the parent group, from inside.
#[test]
fn the_container_reads_its_limits_at_sys_fs_cgroup_and_cannot_raise_them() {
    if !root() {
        return;
    }
    let r = Root::new("cgmount");
    let rootfs = rootfs_str();
    let v1 = cg("memory", "x").starts_with("/sys/fs/cgroup/memory");
    // v2's memory.max takes "max"; v1's limit -1: both valid values, so
    // only a read-only mount refuses them.
    let (limit, raise, at) = match v1 {
        true => (
            "memory/memory.limit_in_bytes",
            "-1",
            "/sys/fs/cgroup/memory",
        ),
        false => ("memory.max", "max", "/sys/fs/cgroup"),
    };
    let max = "67108864";
    let script = format!(
        "cat /sys/fs/cgroup/{limit}; \
         echo {raise} > /sys/fs/cgroup/{limit} 2>/dev/null && echo RAISED; \
         mkdir {at}/x 2>/dev/null && echo MADE; \
         ls {at}/pocket 2>/dev/null && echo PARENT; \
         cat /sys/fs/cgroup/{limit}"
    );
    let o = r.out(&[
        "run",
        "-d",
        "--rootfs",
        &rootfs,
        "-m",
        "64m",
        "sh",
        "-c",
        &format!("{script}; sleep 60"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let id = stdout(&o).trim().to_string();
    let host = match v1 {
        true => cg("memory", &id).join("memory.limit_in_bytes"),
        false => cg("memory", &id).join("memory.max"),
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let logs = loop {
        let l = stdout(&r.out(&["logs", &id]));
        if l.lines().count() >= 2 || Instant::now() > deadline {
            break l;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(logs, format!("{max}\n{max}\n"), "inside");
    assert_eq!(read(host), max, "on the host");
    let pid = r.pid(&id);
    let mi = std::fs::read_to_string(format!("/proc/{pid}/mountinfo")).unwrap();
    let (opts, _) = mount_opts(&mi, at).unwrap_or_else(|| panic!("no {at} in {mi}"));
    assert!(opts.split(',').any(|o| o == "ro"), "{at}: {opts}");
    r.out(&["rm", "-f", &id]);
    no_groups_left(&id);
    // --privileged: writable, as docker's.
    let o = r.out(&[
        "run",
        "--rm",
        "--privileged",
        "--rootfs",
        &rootfs,
        "cat",
        "/proc/self/mountinfo",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let (opts, _) = mount_opts(&stdout(&o), "/sys/fs/cgroup").expect("a cgroup mount");
    assert!(opts.split(',').any(|o| o == "rw"), "{opts}");
}

/// --cgroupns, as docker's: private (the default) shows its groups at
/// "/", host the host's paths, in /proc/self/cgroup and under
/// /sys/fs/cgroup alike (what the JVM matches one against the other);
/// anything else is refused before anything is made.
#[test]
fn cgroupns_private_or_host() {
    if !root() {
        return;
    }
    let r = Root::new("cgns");
    let rootfs = rootfs_str();
    let memory_line = "grep -E '^[0-9]+:memory:|^0::' /proc/self/cgroup | head -1 | cut -d: -f3";
    for (mode, want_root) in [(None, true), (Some("private"), true), (Some("host"), false)] {
        let mut a = vec!["run", "--rm", "--name", "cgns1"];
        if let Some(m) = mode {
            a.extend(["--cgroupns", m]);
        }
        a.extend(["--rootfs", &rootfs, "sh", "-c", memory_line]);
        let o = r.out(&a);
        assert_eq!(o.status.code(), Some(0), "{mode:?}: {}", stderr(&o));
        let path = stdout(&o).trim().to_string();
        match want_root {
            true => assert_eq!(path, "/", "{mode:?}"),
            false => assert!(
                path.starts_with("/pocket/") && path.len() > 20,
                "{mode:?}: {path}"
            ),
        }
    }
    let o = r.out(&[
        "run",
        "--rm",
        "--cgroupns",
        "shared",
        "--rootfs",
        &rootfs,
        "true",
    ]);
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        "pocket: invalid --cgroupns shared: host or private\n"
    );
    assert_eq!(stdout(&r.out(&["ps", "-aq"])), "");
}

/// The groups bound at /sys/fs/cgroup are private to the container, made
/// by the child (the usual run) or cloned by the parent (a user
/// namespace): a clone of a host mount that is shared (systemd's are)
/// joins its peer group, and what the container mounts below it would
/// show on the host. Checked in a mount namespace of the test's own where
/// the memory hierarchy is made shared; read-only either way.
#[test]
fn the_groups_shown_are_private_mounts_whoever_made_them() {
    if !root() {
        return;
    }
    let at = match cg("memory", "x").starts_with("/sys/fs/cgroup/memory") {
        true => "/sys/fs/cgroup/memory",
        false => {
            println!(
                "SKIP private cgroup binds: no v1 memory hierarchy (a pure v2 host mounts cgroup2 afresh)"
            );
            return;
        }
    };
    let r = Root::new("cgprivate");
    let rootfs = rootfs_str();
    for extra in [
        &[][..],
        &["--uidmap", "0:100000:65536", "--gidmap", "0:100000:65536"][..],
    ] {
        let mut c = std::process::Command::new("unshare");
        c.args(["-m", "--propagation", "private", "sh", "-c"])
            .arg(format!("mount --make-shared {at} && exec \"$@\"",))
            .arg("sh")
            .arg(bin())
            .arg("--root")
            .arg(&r.0)
            .args(["run", "--rm", "-m", "64m"])
            .args(extra)
            .args(["--rootfs", &rootfs, "cat", "/proc/self/mountinfo"])
            .env("POCKET_CONFIG", settings());
        let o = c.output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{extra:?}: {}", stderr(&o));
        let (opts, shared) =
            mount_opts(&stdout(&o), at).unwrap_or_else(|| panic!("{extra:?}: no {at}"));
        assert!(!shared, "{extra:?}: {at} is in the host's peer group");
        assert!(opts.split(',').any(|o| o == "ro"), "{extra:?}: {opts}");
    }
}

#[test]
fn oom_kill_disable_and_explicit_swap() {
    if !root() {
        return;
    }
    let r = Root::new("cgoomctl");
    let rootfs = rootfs_str();
    let o = r.out(&[
        "run",
        "-d",
        "--rootfs",
        &rootfs,
        "-m",
        "64m",
        "--memory-swap",
        "-1",
        "--oom-kill-disable",
        "sleep",
        "30",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let id = stdout(&o).trim().to_string();
    match features::oom_control() {
        Ok(()) => {
            let oc = read(cg("memory", &id).join("memory.oom_control"));
            assert!(oc.contains("oom_kill_disable 1"), "{oc}");
            assert_eq!(stderr(&o), "");
        }
        Err(why) => {
            // docker on cgroup v2: warned about and discarded.
            features::skip("--oom-kill-disable", &why);
            assert_eq!(
                stderr(&o),
                "WARNING: Your kernel does not support OomKillDisable. OomKillDisable discarded.\n"
            );
        }
    }
    // -1: swap unlimited.
    match features::swap_accounting() {
        Ok(()) => {
            let sw: u64 = read(cg("memory", &id).join("memory.memsw.limit_in_bytes"))
                .parse()
                .unwrap();
            assert!(sw > 1 << 50, "{sw}");
        }
        Err(why) => features::skip("--memory-swap -1", &why),
    }
    assert_eq!(r.out(&["rm", "-f", &id]).status.code(), Some(0));
    no_groups_left(&id);
}

#[test]
fn over_the_memory_limit_is_oom_killed_under_it_finishes() {
    if !root() {
        return;
    }
    let r = Root::new("cgoom");
    let rootfs = rootfs_str();
    // dd's buffer is one block: bs=64M touches 64 MiB.
    let o = r.out(&[
        "run",
        "--rm",
        "-m",
        "32m",
        "--rootfs",
        &rootfs,
        "dd",
        "if=/dev/zero",
        "of=/dev/null",
        "bs=64M",
        "count=1",
    ]);
    assert_eq!(o.status.code(), Some(137), "{}", stderr(&o));
    let o = r.out(&[
        "run",
        "--rm",
        "-m",
        "32m",
        "--rootfs",
        &rootfs,
        "dd",
        "if=/dev/zero",
        "of=/dev/null",
        "bs=8M",
        "count=4",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn fork_bomb_is_contained_by_pids_limit() {
    if !root() {
        return;
    }
    let r = Root::new("cgpids");
    let id = r.run_d(&["--pids-limit", "20", "sleep", "30"]);
    // A real fork bomb, exec'd into the container (so it joins its cgroup):
    // shells whose fork fails die, the others keep forking.
    let o = r.out(&["exec", "-d", &id, "sh", "-c", "f(){ f | f & }; f"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let dir = cg("pids", &id);
    let start = Instant::now();
    let mut max = 0;
    while start.elapsed() < Duration::from_secs(2) {
        let cur: u64 = read(dir.join("pids.current")).parse().unwrap();
        max = max.max(cur);
        assert!(cur <= 20, "pids.current {cur} over the limit");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(max >= 15, "the bomb never got near the limit ({max})");
    let events = read(dir.join("pids.events"));
    assert!(
        events
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0,
        "{events}"
    );
    // The host is fine: pocket itself still runs commands.
    let o = r.out(&["ps"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(r.out(&["rm", "-f", &id]).status.code(), Some(0));
    no_groups_left(&id);
}

#[test]
fn half_a_cpu_is_about_half_a_cpu() {
    if !root() {
        return;
    }
    let r = Root::new("cgcpu");
    let id = r.run_d(&["--cpus", "0.5", "sh", "-c", "while :; do :; done"]);
    let usage = || {
        read(cg("cpuacct", &id).join("cpuacct.usage"))
            .parse::<u64>()
            .unwrap()
    };
    std::thread::sleep(Duration::from_millis(300));
    let (u0, t0) = (usage(), Instant::now());
    std::thread::sleep(Duration::from_secs(2));
    let (u1, t1) = (usage(), Instant::now());
    let cpus = (u1 - u0) as f64 / (t1 - t0).as_nanos() as f64;
    assert!(
        (0.3..0.7).contains(&cpus),
        "used {cpus:.2} CPUs with --cpus 0.5"
    );
    // stats reads the same counters: a plausible CPU % and one process.
    let o = r.out(&["stats", "--no-stream"]);
    let line = stdout(&o).lines().nth(1).unwrap_or("").to_string();
    assert!(line.starts_with(&id[..12]), "{}", stdout(&o));
    let pct: f64 = line
        .split_whitespace()
        .nth(2)
        .unwrap()
        .trim_end_matches('%')
        .parse()
        .unwrap();
    assert!((25.0..75.0).contains(&pct), "stats CPU {pct}%: {line}");
    assert!(line.trim_end().ends_with(" 1"), "PIDS: {line}");
    assert_eq!(r.out(&["rm", "-f", &id]).status.code(), Some(0));
    no_groups_left(&id);
}

/// docker's MEM USAGE leaves out the page cache nothing touched lately
/// (memory.stat's inactive_file): 16 MiB written to a volume count in the
/// cgroup's usage, not in stats'.
#[test]
fn stats_memory_leaves_out_the_inactive_page_cache() {
    if !root() {
        return;
    }
    let r = Root::new("cgcache");
    let vol = r.0.join("vol");
    std::fs::create_dir_all(&vol).unwrap();
    let v = format!("{}:/data", vol.display());
    let id = r.run_d(&["-m", "64m", "-v", &v, "sleep", "30"]);
    let o = r.out(&[
        "exec",
        &id,
        "dd",
        "if=/dev/zero",
        "of=/data/f",
        "bs=1M",
        "count=16",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let d = cg("memory", &id);
    let usage: u64 = ["memory.usage_in_bytes", "memory.current"]
        .iter()
        .find_map(|f| std::fs::read_to_string(d.join(f)).ok())
        .and_then(|u| u.trim().parse().ok())
        .unwrap_or_else(|| panic!("no usage in {}", d.display()));
    assert!(usage >= 16 << 20, "the cache is not charged here: {usage}");
    let o = r.out(&["stats", "--no-stream", "--format", "{{.MemUsage}}", &id]);
    let m = stdout(&o);
    let (used, limit) = m
        .trim()
        .split_once(" / ")
        .unwrap_or_else(|| panic!("{m:?}"));
    assert_eq!(limit, "64MiB");
    let (num, unit) = used.split_at(used.find(|c: char| c.is_ascii_alphabetic()).unwrap());
    let k = match unit {
        "B" => 1.0,
        "KiB" => 1024.0,
        "MiB" => 1048576.0,
        u => panic!("unit {u} in {m:?}"),
    };
    let used = num.parse::<f64>().unwrap() * k;
    assert!(
        used < (8 << 20) as f64,
        "MEM USAGE {m:?} counts the page cache (cgroup usage {usage})"
    );
    assert_eq!(r.out(&["rm", "-f", &id]).status.code(), Some(0));
    no_groups_left(&id);
}

#[test]
fn update_changes_limits_live() {
    if !root() {
        return;
    }
    let r = Root::new("cgupdate");
    let id = r.run_d(&["-m", "64m", "--pids-limit", "20", "sleep", "30"]);
    let o = r.out(&[
        "update",
        "-m",
        "128m",
        "--pids-limit",
        "50",
        "--cpus",
        "1",
        &id[..10],
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        read(cg("memory", &id).join("memory.limit_in_bytes")),
        "134217728"
    );
    assert_eq!(read(cg("pids", &id).join("pids.max")), "50");
    assert_eq!(read(cg("cpu", &id).join("cpu.cfs_quota_us")), "100000");
    let ins = stdout(&r.out(&["inspect", &id]));
    assert!(
        ins.contains("\"Memory\": 134217728") && ins.contains("\"PidsLimit\": 50"),
        "{ins}"
    );
    // stats: usage over the new limit.
    let o = r.out(&["stats", "--no-stream", &id]);
    assert!(stdout(&o).contains("/ 128MiB"), "{}", stdout(&o));
    let head: Vec<String> = stdout(&o)
        .lines()
        .next()
        .unwrap_or("")
        .split("  ")
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .collect();
    assert_eq!(
        head,
        [
            "CONTAINER ID",
            "NAME",
            "CPU %",
            "MEM USAGE / LIMIT",
            "MEM %",
            "NET I/O",
            "BLOCK I/O",
            "PIDS"
        ],
        "the default table's columns"
    );
    // A container without a network but loopback: no NET I/O (docker
    // counts lo in no container's).
    let o = r.out(&["stats", "--no-stream", "--format", "{{.NetIO}}", &id]);
    assert_eq!(stdout(&o), "0B / 0B\n", "{}", stderr(&o));
    // --format, as docker's: a template per container, a table of its
    // columns, JSON lines with docker's field names.
    let short = &id[..12];
    let o = r.out(&[
        "stats",
        "--no-stream",
        "--format",
        "{{.Container}} {{.ID}} {{.PIDs}}",
        &id,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), format!("{id} {short} 1\n"));
    let o = r.out(&[
        "stats",
        "--no-stream",
        "--format",
        "table {{.ID}}\t{{.MemUsage}}",
        short,
    ]);
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("CONTAINER ID") && lines[0].contains("MEM USAGE / LIMIT"),
        "{out}"
    );
    assert!(
        lines[1].starts_with(short) && lines[1].ends_with("/ 128MiB"),
        "{out}"
    );
    let o = r.out(&["stats", "--no-stream", "--format", "json", &id]);
    let j =
        common::checks::json(stdout(&o).trim()).unwrap_or_else(|e| panic!("{e}: {}", stdout(&o)));
    assert_eq!(j.get("PIDs").str(), "1");
    assert!(j.get("CPUPerc").str().ends_with('%'), "{j:?}");
    let o = r.out(&["update", "-m", "1m", &id]);
    assert_eq!(o.status.code(), Some(125));
    assert_eq!(
        read(cg("memory", &id).join("memory.limit_in_bytes")),
        "134217728"
    );
    assert_eq!(r.out(&["rm", "-f", &id]).status.code(), Some(0));
    no_groups_left(&id);
}

#[test]
fn refused_values_create_nothing() {
    if !root() {
        return;
    }
    let r = Root::new("cgbad");
    let rootfs = rootfs_str();
    let ncpu = std::fs::read_to_string("/sys/devices/system/cpu/online").unwrap();
    let too_many = (ncpu
        .trim()
        .rsplit(['-', ','])
        .next()
        .unwrap()
        .parse::<u32>()
        .unwrap()
        + 2)
    .to_string();
    for bad in [
        vec!["-m", "5m"],
        vec!["-m", "12x"],
        vec!["-m", "-1"],
        vec!["--memory-swap", "64m"],
        vec!["-m", "64m", "--memory-swap", "32m"],
        vec!["--cpus", "0"],
        vec!["--cpus", &too_many],
        vec!["--cpus", "1", "--cpu-quota", "50000"],
        vec!["--cpuset-cpus", &too_many],
        vec!["--cpuset-cpus", "1-0"],
        vec!["--pids-limit", "-2"],
        vec!["--blkio-weight", "5"],
        vec!["-c", "-5"],
    ] {
        let mut args = vec!["run", "--rootfs", &rootfs];
        args.extend(bad.iter());
        args.push("true");
        let o = r.out(&args);
        assert_eq!(o.status.code(), Some(125), "{bad:?}: {}", stderr(&o));
        assert_eq!(stderr(&o).lines().count(), 1, "{bad:?}: {}", stderr(&o));
        assert!(stderr(&o).starts_with("pocket: "), "{}", stderr(&o));
    }
    assert_eq!(r.state_entries(), Vec::<String>::new());
}

#[test]
fn groups_go_with_the_container_even_after_sigkill() {
    if !root() {
        return;
    }
    let r = Root::new("cgclean");
    let rootfs = rootfs_str();
    // Foreground, --rm: gone at exit.
    let o = r.out(&[
        "run", "--rm", "--name", "fg", "-m", "64m", "--rootfs", &rootfs, "true",
    ]);
    assert_eq!(o.status.code(), Some(0));
    // Detached, exits by itself: the monitor removes the group.
    let id = r.run_d(&["true"]);
    assert_eq!(stdout(&r.out(&["wait", &id])), "0\n");
    wait_for(5, "group removal", || {
        (!cg("pids", &id).exists()).then_some(())
    });
    no_groups_left(&id);
    // Monitor SIGKILLed: the group stays until rm.
    let id = r.run_d(&["-m", "64m", "sleep", "30"]);
    let pid = r.pid(&id);
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let mon: i32 = s[s.rfind(')').unwrap() + 2..]
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    unsafe { libc::kill(mon, libc::SIGKILL) };
    wait_for(5, "container to die", || {
        state(pid).is_none_or(|s| s == 'Z').then_some(())
    });
    assert_eq!(r.out(&["rm", &id]).status.code(), Some(0));
    no_groups_left(&id);
}

/// docker: "WARNING: Your kernel does not support Block I/O weight or the
/// cgroup is not mounted. Weight discarded." and the container runs. Where
/// the kernel has a weight file, the weight is there instead, and no
/// warning. Both for `run` (foreground, --rm: nothing left) and `update`.
#[test]
fn blkio_weight_is_applied_or_warned_about_as_docker_does() {
    if !root() {
        return;
    }
    let r = Root::new("cgblkio");
    let rootfs = rootfs_str();
    let support = features::blkio_weight();
    let o = r.out(&[
        "run",
        "--rm",
        "--blkio-weight",
        "300",
        "--rootfs",
        &rootfs,
        "echo",
        "ran",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "ran\n");
    match &support {
        Ok(_) => assert_eq!(stderr(&o), ""),
        Err(why) => {
            features::skip("blkio weight (run)", why);
            assert_eq!(stderr(&o), format!("{BLKIO_WARNING}\n"));
        }
    }
    assert_eq!(r.state_entries(), Vec::<String>::new());
    let id = r.run_d(&["sleep", "30"]);
    let o = r.out(&["update", "--blkio-weight", "300", &id]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let ins = stdout(&r.out(&["inspect", &id]));
    match support {
        Ok(f) => {
            assert_eq!(stderr(&o), "");
            assert!(read(cg("blkio", &id).join(f)).contains("300"));
            assert!(ins.contains("\"BlkioWeight\": 300"), "{ins}");
        }
        Err(why) => {
            features::skip("blkio weight (update)", &why);
            assert_eq!(stderr(&o), format!("{BLKIO_WARNING}\n"));
            assert!(ins.contains("\"BlkioWeight\": 0"), "{ins}");
        }
    }
    assert_eq!(r.out(&["rm", "-f", &id]).status.code(), Some(0));
    no_groups_left(&id);
}

/// --cpu-rt-runtime / --cpu-rt-period: written where the kernel has RT
/// group scheduling (v1 with CONFIG_RT_GROUP_SCHED), the parent group's
/// budget raised to fit; refused with docker's message and 125 elsewhere
/// (cgroup v2), leaving nothing.
#[test]
fn realtime_limits_are_set_or_refused_as_docker_does() {
    if !root() {
        return;
    }
    let r = Root::new("cgrt");
    let rootfs = rootfs_str();
    let args = [
        "run",
        "-d",
        "--cpu-rt-period",
        "1000000",
        "--cpu-rt-runtime",
        "10000",
        "--rootfs",
        &rootfs,
        "sleep",
        "30",
    ];
    match features::rt_groups() {
        Ok(()) => {
            let o = r.out(&args);
            assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
            let id = stdout(&o).trim().to_string();
            let g = cg("cpu", &id);
            assert_eq!(read(g.join("cpu.rt_period_us")), "1000000");
            assert_eq!(read(g.join("cpu.rt_runtime_us")), "10000");
            let parent: u64 = read(g.parent().unwrap().join("cpu.rt_runtime_us"))
                .parse()
                .unwrap();
            assert!(parent >= 10000, "parent budget {parent}");
            let ins = stdout(&r.out(&["inspect", &id]));
            assert!(ins.contains("\"CpuRealtimeRuntime\": 10000"), "{ins}");
            // More than the root can give: refused by the kernel, named.
            let o = r.out(&["update", "--cpu-rt-runtime", "990000", &id]);
            assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
            assert!(stderr(&o).contains("cpu.rt_runtime_us"), "{}", stderr(&o));
            assert_eq!(read(g.join("cpu.rt_runtime_us")), "10000");
            assert_eq!(r.out(&["rm", "-f", &id]).status.code(), Some(0));
            no_groups_left(&id);
            // The budget goes back with the container (other tests' groups
            // hold none).
            let parent = read(g.parent().unwrap().join("cpu.rt_runtime_us"));
            assert_eq!(parent, "0", "budget left in pocket/");
        }
        Err(why) => {
            features::skip("real-time cgroup limits", &why);
            let o = r.out(&args);
            assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
            assert_eq!(
                stderr(&o),
                "pocket: --cpu-rt-period: Your kernel does not support cgroup cpu real-time period\n"
            );
            assert_eq!(r.state_entries(), Vec::<String>::new());
        }
    }
}

/// A container that makes groups of its own below its group (systemd or
/// docker inside a --privileged one do): `top` (and OCI `ps`, `kill
/// --all`) sees the processes in them, and `rm -f` removes them with its
/// group, deepest first, instead of leaving every hierarchy's behind.
#[test]
fn groups_made_inside_go_with_the_container() {
    if !root() {
        return;
    }
    let r = Root::new("subgroups");
    let script = "for c in /sys/fs/cgroup/*/; do mkdir -p ${c}sub/deeper; \
                  echo $$ > ${c}sub/deeper/cgroup.procs; done; sleep 1000 & wait";
    let id = r.run_d(&["--privileged", "--net", "none", "sh", "-c", script]);
    let sub = cg("memory", &id).join("sub/deeper");
    let pids = wait_for(10, "the group made inside", || {
        let s = std::fs::read_to_string(sub.join("cgroup.procs")).ok()?;
        (s.lines().count() >= 2).then_some(s)
    });
    // Control: its own group holds nobody now, the one below both.
    assert_eq!(read(cg("memory", &id).join("cgroup.procs")), "", "{pids}");
    let top = stdout(&r.out(&["top", &id]));
    assert!(top.contains("sleep 1000"), "{top}");
    let o = r.out(&["rm", "-f", &id]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    no_groups_left(&id);
}

/// A foreground `run --rm`'s groups go when it ends: at one rmdir each
/// when nothing is below them, and walked, deepest first, where the
/// container made groups of its own (that first rmdir fails then).
#[test]
fn a_foreground_runs_groups_go_with_the_groups_made_inside() {
    if !root() {
        return;
    }
    if !cg("memory", "x").starts_with("/sys/fs/cgroup/memory") {
        features::skip(
            "a foreground run's groups made inside",
            "no v1 memory hierarchy here",
        );
        return;
    }
    let r = Root::new("fgsubgroups");
    let rootfs = rootfs_str();
    for inside in [
        "",
        "for c in /sys/fs/cgroup/*/; do mkdir -p ${c}sub/deeper; done; ",
    ] {
        let script =
            format!("{inside}ls -d /sys/fs/cgroup/memory/sub 2>/dev/null; cat /etc/hostname");
        let o = r.out(&[
            "run",
            "--rm",
            "--privileged",
            "--net",
            "none",
            "--rootfs",
            &rootfs,
            "sh",
            "-c",
            &script,
        ]);
        assert_eq!(o.status.code(), Some(0), "{inside:?}: {}", stderr(&o));
        let out = stdout(&o);
        // Control: the groups inside were made where asked.
        assert_eq!(
            out.contains("/sys/fs/cgroup/memory/sub"),
            !inside.is_empty(),
            "{out}"
        );
        // The hostname is the id's first 12 characters.
        let short = out.lines().last().unwrap().trim().to_string();
        assert_eq!(short.len(), 12, "{out}");
        for c in [
            "memory", "cpu", "cpuacct", "cpuset", "pids", "blkio", "devices", "freezer",
        ] {
            let parent = cg(c, "");
            let left: Vec<String> = std::fs::read_dir(&parent)
                .unwrap()
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(&short))
                .collect();
            assert!(
                left.is_empty(),
                "{inside:?}: {left:?} left in {}",
                parent.display()
            );
        }
    }
}
