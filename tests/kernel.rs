//! docker's `--ulimit`, `--sysctl` and `--oom-score-adj`: the same Spec
//! fields as config.json's process.rlimits, linux.sysctl and
//! process.oomScoreAdj, so the one spawn path is tested through them.
//! Checked from inside (/proc/self/limits, /proc/sys, oom_score_adj),
//! from the host (the init's /proc entries, the host's own sysctls left
//! alone) and in `inspect`; refusals are one line, exit 125.

mod common;
use common::checks::*;
use common::*;

fn limit_line(out: &str, what: &str) -> (String, String) {
    let l = out
        .lines()
        .find(|l| l.starts_with(what))
        .unwrap_or_else(|| panic!("no {what} in {out}"));
    let v: Vec<&str> = l[what.len()..].split_whitespace().collect();
    (v[0].to_string(), v[1].to_string())
}

#[test]
fn ulimits_reach_the_command_and_exec() {
    if !root() {
        return;
    }
    let r = Root::new("ulimit");
    let id = r.run_d(&[
        "--ulimit",
        "nofile=1024:2048",
        "--ulimit",
        "nproc=5000",
        "--ulimit",
        "core=-1",
        "sleep",
        "100",
    ]);
    let inside = sh(&r, &id, "cat /proc/1/limits; echo; cat /proc/self/limits");
    let (init, exec_d) = inside.split_once("\n\n").unwrap();
    for out in [init, exec_d] {
        assert_eq!(
            limit_line(out, "Max open files"),
            ("1024".into(), "2048".into())
        );
        assert_eq!(
            limit_line(out, "Max processes"),
            ("5000".into(), "5000".into())
        );
        assert_eq!(
            limit_line(out, "Max core file size"),
            ("unlimited".into(), "unlimited".into())
        );
    }
    // From the host: the init itself, not just what it reports.
    let host = std::fs::read_to_string(format!("/proc/{}/limits", r.pid(&id))).unwrap();
    assert_eq!(
        limit_line(&host, "Max open files"),
        ("1024".into(), "2048".into())
    );
    // The hard limit holds: the container cannot raise it (no
    // CAP_SYS_RESOURCE in docker's set).
    let o = exec(&r, &id, &["sh", "-c", "ulimit -Hn 4096"]);
    assert_ne!(o.status.code(), Some(0), "raised its hard limit");
    let j = json(&stdout(&r.out(&["inspect", &id]))).unwrap();
    let u = j.arr()[0].get("HostConfig").get("Ulimits");
    let names: Vec<String> = u
        .arr()
        .iter()
        .map(|x| x.get("Name").str().to_string())
        .collect();
    assert_eq!(names, ["nofile", "nproc", "core"]);
    assert_eq!(u.arr()[2].get("Hard").int(), -1);
    assert_eq!(r.out(&["rm", "-f", &id]).status.code(), Some(0));
}

#[test]
fn ulimit_errors_are_dockers() {
    if !root() {
        return;
    }
    let r = Root::new("ulimiterr");
    let rootfs = rootfs_str();
    let run = |u: &str| r.out(&["run", "--rm", "--ulimit", u, "--rootfs", &rootfs, "true"]);
    for (u, want) in [
        (
            "nofile=2048:1024",
            "invalid argument \"nofile=2048:1024\" for \"--ulimit\" flag: ulimit soft limit must be less than or equal to hard limit: 2048 > 1024",
        ),
        (
            "files=1",
            "invalid argument \"files=1\" for \"--ulimit\" flag: invalid ulimit type: files",
        ),
    ] {
        let o = run(u);
        assert_eq!(o.status.code(), Some(125));
        assert_eq!(stderr(&o), format!("pocket: {want}\n"));
    }
    // Above pocket's own hard limit, without CAP_SYS_RESOURCE (this
    // host's case): refused by name before anything runs. Where pocket
    // may raise it, the container gets it.
    let (_, hard) = {
        let mut l = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit into a local struct.
        unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) };
        (l.rlim_cur, l.rlim_max)
    };
    let st = std::fs::read_to_string("/proc/self/status").unwrap();
    let eff = st.lines().find(|l| l.starts_with("CapEff:")).unwrap();
    let can =
        u64::from_str_radix(eff.split_whitespace().nth(1).unwrap(), 16).unwrap() & (1 << 24) != 0;
    let o = run(&format!("nofile={}", hard + 1));
    if can {
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    } else {
        assert_eq!(o.status.code(), Some(125));
        assert_eq!(
            stderr(&o),
            format!(
                "pocket: setrlimit RLIMIT_NOFILE {}: Operation not permitted (the host's hard limit is {hard}; pocket lacks CAP_SYS_RESOURCE)\n",
                hard + 1
            )
        );
    }
    assert_eq!(stdout(&r.out(&["ps", "-aq"])), "", "nothing left");
}

#[test]
fn sysctls_in_the_containers_namespaces_only() {
    if !root() {
        return;
    }
    let r = Root::new("sysctl");
    let rootfs = rootfs_str();
    let host_fwd = std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap();
    let host_shm = std::fs::read_to_string("/proc/sys/kernel/shmmni").unwrap();
    let want_fwd = if host_fwd.trim() == "1" { "0" } else { "1" };
    let o = r.out(&[
        "run",
        "--rm",
        "--sysctl",
        &format!("net.ipv4.ip_forward={want_fwd}"),
        "--sysctl",
        "kernel.shmmni=1234",
        "--sysctl",
        "net.ipv4.conf.lo.forwarding=1",
        "--rootfs",
        &rootfs,
        "sh",
        "-c",
        "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni /proc/sys/net/ipv4/conf/lo/forwarding; \
         echo 5 > /proc/sys/kernel/shmmni || echo readonly",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), format!("{want_fwd}\n1234\n1\nreadonly\n"));
    // The host's own values never moved.
    assert_eq!(
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap(),
        host_fwd
    );
    assert_eq!(
        std::fs::read_to_string("/proc/sys/kernel/shmmni").unwrap(),
        host_shm
    );
    // Not namespaced, or not the container's namespace: refused, 125.
    for (flags, want) in [
        (
            vec!["--sysctl", "kernel.panic=1"],
            "pocket: invalid argument \"kernel.panic=1\" for \"--sysctl\" flag: sysctl \"kernel.panic\" is not in a separate kernel namespace\n",
        ),
        (
            vec!["--sysctl", "vm.swappiness=1"],
            "pocket: invalid argument \"vm.swappiness=1\" for \"--sysctl\" flag: sysctl \"vm.swappiness\" is not in a separate kernel namespace\n",
        ),
        (
            vec!["--net", "host", "--sysctl", "net.ipv4.ip_forward=1"],
            "pocket: invalid argument \"net.ipv4.ip_forward=1\" for \"--sysctl\" flag: sysctl \"net.ipv4.ip_forward\" not allowed in host network namespace\n",
        ),
        (
            vec!["--sysctl", "kernel.hostname=x"],
            "pocket: invalid argument \"kernel.hostname=x\" for \"--sysctl\" flag: sysctl \"kernel.hostname\" is not allowed as it conflicts with the OCI \"hostname\" field\n",
        ),
        (
            vec!["--sysctl", "net/../../x=1"],
            "pocket: invalid argument \"net/../../x=1\" for \"--sysctl\" flag: sysctl \"net/../../x\" is not a valid key\n",
        ),
    ] {
        let mut a = vec!["run", "--rm"];
        a.extend(flags);
        a.extend(["--rootfs", &rootfs, "true"]);
        let o = r.out(&a);
        assert_eq!((o.status.code(), stderr(&o).as_str()), (Some(125), want));
    }
    assert_eq!(
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap(),
        host_fwd
    );
    // In inspect.
    let id = r.run_d(&["--sysctl", "kernel.msgmax=4096", "sleep", "100"]);
    let j = json(&stdout(&r.out(&["inspect", &id]))).unwrap();
    assert_eq!(
        j.arr()[0]
            .get("HostConfig")
            .get("Sysctls")
            .get("kernel.msgmax")
            .str(),
        "4096"
    );
    assert_eq!(sh(&r, &id, "cat /proc/sys/kernel/msgmax"), "4096\n");
}

#[test]
fn oom_score_adj_from_the_start() {
    if !root() {
        return;
    }
    let r = Root::new("oom");
    let rootfs = rootfs_str();
    // The command's very first read sees it: set while the init waited.
    let o = r.out(&[
        "run",
        "--rm",
        "--oom-score-adj",
        "734",
        "--rootfs",
        &rootfs,
        "cat",
        "/proc/self/oom_score_adj",
    ]);
    assert_eq!(
        (o.status.code(), stdout(&o).as_str()),
        (Some(0), "734\n"),
        "{}",
        stderr(&o)
    );
    let id = r.run_d(&["--oom-score-adj", "250", "sleep", "100"]);
    let pid = r.pid(&id);
    assert_eq!(
        std::fs::read_to_string(format!("/proc/{pid}/oom_score_adj")).unwrap(),
        "250\n"
    );
    let j = json(&stdout(&r.out(&["inspect", &id]))).unwrap();
    assert_eq!(j.arr()[0].get("HostConfig").get("OomScoreAdj").int(), 250);
    let mine: i32 = std::fs::read_to_string("/proc/self/oom_score_adj")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // Only the container has it, not its monitor (its parent), as the
    // kernel would give it to a process that shared the init's memory
    // when it was written.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let monitor = after.split(' ').nth(1).unwrap();
    assert_eq!(
        std::fs::read_to_string(format!("/proc/{monitor}/oom_score_adj")).unwrap(),
        format!("{mine}\n"),
        "the monitor's"
    );
    // Lower than pocket's own needs CAP_SYS_RESOURCE; out of range is
    // docker's error.
    let st = std::fs::read_to_string("/proc/self/status").unwrap();
    let eff = st.lines().find(|l| l.starts_with("CapEff:")).unwrap();
    let can =
        u64::from_str_radix(eff.split_whitespace().nth(1).unwrap(), 16).unwrap() & (1 << 24) != 0;
    let low = (mine - 100).max(-1000).to_string();
    let o = r.out(&[
        "run",
        "--rm",
        "--oom-score-adj",
        &low,
        "--rootfs",
        &rootfs,
        "true",
    ]);
    if can {
        assert_eq!(o.status.code(), Some(0));
    } else {
        assert_eq!(o.status.code(), Some(125));
        assert!(
            stderr(&o).ends_with(&format!(
                "/oom_score_adj {low}: Permission denied (lowering the OOM score needs CAP_SYS_RESOURCE, which pocket lacks)\n"
            )),
            "{}",
            stderr(&o)
        );
    }
    let o = r.out(&[
        "run",
        "--rm",
        "--oom-score-adj",
        "1001",
        "--rootfs",
        &rootfs,
        "true",
    ]);
    assert_eq!(
        (o.status.code(), stderr(&o).as_str()),
        (
            Some(125),
            "pocket: invalid value 1001: range for oom score adj is [-1000, 1000]\n"
        )
    );
}
