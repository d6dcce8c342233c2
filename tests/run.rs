//! `pocket run`: isolation, argv/env/workdir, stdio and fds, checked from
//! inside the container and from the host.

mod common;
use common::*;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::process::{Output, Stdio};

#[test]
fn command_is_pid_1_and_ps_sees_only_the_container() {
    if !root() {
        return;
    }
    // `; true` keeps sh from exec'ing the last command: sh stays PID 1.
    let o = run(&["sh", "-c", "echo $$; ps -o pid,comm; true"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("1"));
    let procs: Vec<&str> = lines.skip(1).collect();
    // sh (pid 1) and ps itself: nothing from the host.
    assert_eq!(procs.len(), 2, "{out}");
    assert!(procs[0].trim().starts_with("1 "), "{out}");
}

/// Its own mount, UTS, IPC, network and pid namespaces, new for each run
/// (a plain run's are made ahead by a helper and joined: spawn/prefetch.rs),
/// and the host's where asked for (`--uts host`, `--ipc host`).
#[test]
fn each_run_has_new_namespaces_of_its_own() {
    if !root() {
        return;
    }
    let kinds = ["mnt", "uts", "ipc", "net", "pid"];
    let script = "for n in mnt uts ipc net pid; do readlink /proc/self/ns/$n; done";
    let host: Vec<String> = kinds
        .iter()
        .map(|k| {
            std::fs::read_link(format!("/proc/self/ns/{k}"))
                .unwrap()
                .display()
                .to_string()
        })
        .collect();
    let lines = |o: Output| -> Vec<String> {
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        stdout(&o).lines().map(String::from).collect()
    };
    let ns = |extra: &[&str]| {
        let mut a = extra.to_vec();
        a.extend(["sh", "-c", script]);
        lines(run(&a))
    };
    // Two at once (a namespace's number is reused once it is gone).
    let slow = format!("{script}; sleep 1");
    let first = pocket(&run_args(&["sh", "-c", &slow]))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let b = ns(&[]);
    let a = lines(first.wait_with_output().unwrap());
    assert_eq!(a.len(), 5, "{a:?}");
    for i in 0..5 {
        assert_ne!(a[i], host[i], "{}: the host's", kinds[i]);
        assert_ne!(a[i], b[i], "{}: two runs share one", kinds[i]);
    }
    let c = ns(&["--uts", "host", "--ipc", "host"]);
    assert_eq!((&c[1], &c[2]), (&host[1], &host[2]), "{c:?}");
    assert!(
        c[0] != host[0] && c[3] != host[3] && c[4] != host[4],
        "{c:?}"
    );
}

#[test]
fn hostname_changes_inside_only() {
    if !root() {
        return;
    }
    let before = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let o = run(&["-h", "pocketbox", "hostname"]);
    assert_eq!(stdout(&o).trim(), "pocketbox");
    // Without -h, a random 12-hex id, and $HOSTNAME agrees with it.
    let o = run(&["sh", "-c", "echo $(hostname) $HOSTNAME"]);
    let out = stdout(&o);
    let parts: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0], parts[1]);
    assert_eq!(parts[0].len(), 12);
    assert!(parts[0].chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(
        std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap(),
        before
    );
}

#[test]
fn container_mounts_stay_out_of_the_host_table() {
    if !root() {
        return;
    }
    let before = host_mounts();
    let mut child = pocket(&run_args(&["sh", "-c", "sleep 2"])).spawn().unwrap();
    let cpid = container_pid(&child);
    // The container's own table has its /proc, /dev/pts ...
    let inside = wait_for(5, "container mounts", || {
        let m = std::fs::read_to_string(format!("/proc/{cpid}/mountinfo")).ok()?;
        m.contains(" /dev/pts ").then_some(m)
    });
    assert!(inside.contains(" /proc "), "{inside}");
    // ... and the host's table has none of it.
    let during = host_mounts();
    assert_eq!(before, during);
    assert!(!during.iter().any(|l| l.contains(&rootfs_str())));
    assert!(child.wait().unwrap().success());
    assert_eq!(host_mounts(), before);
}

#[test]
fn namespaces_differ_from_the_host() {
    if !root() {
        return;
    }
    let mut child = pocket(&run_args(&["sleep", "2"])).spawn().unwrap();
    let cpid = container_pid(&child);
    for ns in ["pid", "mnt", "uts", "ipc", "net", "cgroup"] {
        let host = std::fs::read_link(format!("/proc/self/ns/{ns}")).unwrap();
        // Until execve the child may still be setting up: most links are
        // set from clone on (pid: pid_for_children is the one), the cgroup
        // one once the child is in its groups (it unshares then, so they
        // are its "/"). Each must differ from the host's within the wait.
        let what = format!("a {ns} namespace other than the host's");
        wait_for(5, &what, || {
            std::fs::read_link(format!("/proc/{cpid}/ns/{ns}"))
                .ok()
                .filter(|l| *l != host)
        });
    }
    assert!(child.wait().unwrap().success());
}

#[test]
fn argv_survives_byte_for_byte() {
    if !root() {
        return;
    }
    let tricky: Vec<&[u8]> = vec![
        b"two words",
        b"",
        b"quote's \"double\"",
        b"line\nbreak",
        b"  lead and trail  ",
        b"$HOME `x` $(y) \\",
        b"\xff\xfe not utf8",
        b"-e",
        b"--rootfs",
        "uni\u{e9}code \u{1f600}".as_bytes(),
    ];
    let mut cmd = pocket(&[
        "run",
        "--rootfs",
        &rootfs_str(),
        "sh",
        "-c",
        "for a; do printf '[%s]' \"$a\"; done",
        "sh",
    ]);
    for a in &tricky {
        cmd.arg(std::ffi::OsStr::from_bytes(a));
    }
    let o = cmd.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let want: Vec<u8> = tricky
        .iter()
        .flat_map(|a| [&b"["[..], a, b"]"].concat())
        .collect();
    assert_eq!(o.stdout, want);
}

#[test]
fn long_argument_that_fits_is_passed() {
    if !root() {
        return;
    }
    let big = "x".repeat(100_000);
    let o = run(&["sh", "-c", "echo ${#1}", "sh", &big]);
    assert_eq!(stdout(&o).trim(), "100000", "{}", stderr(&o));
}

#[test]
fn env_defaults_flags_and_env_file() {
    if !root() {
        return;
    }
    let dir = tempdir("envfile");
    let f = dir.join("env");
    std::fs::write(
        &f,
        "# comment\nFROM_FILE=file value\nOVERRIDE=from file\n\nPASSED_THROUGH\n",
    )
    .unwrap();
    let o = pocket(&run_args(&[
        "-e",
        "A=with space",
        "--env=B=x=y",
        "--env-file",
        f.to_str().unwrap(),
        "-e",
        "OVERRIDE=from flag",
        "-e",
        "PASSED_THROUGH",
        "env",
    ]))
    .env("PASSED_THROUGH", "host value")
    .env("NOT_PASSED", "secret")
    .output()
    .unwrap();
    let out = stdout(&o);
    let env: Vec<&str> = out.lines().collect();
    for want in [
        "A=with space",
        "B=x=y",
        "FROM_FILE=file value",
        "OVERRIDE=from flag",
        "PASSED_THROUGH=host value",
        "HOME=/root",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    ] {
        assert!(env.contains(&want), "missing {want:?} in {env:?}");
    }
    assert!(env.iter().any(|e| e.starts_with("HOSTNAME=")));
    assert!(
        !out.contains("NOT_PASSED") && !out.contains("TERM="),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn workdir_is_used_and_created() {
    if !root() {
        return;
    }
    let o = run(&["-w", "/tmp/pocket-wd/a b", "pwd"]);
    assert_eq!(stdout(&o), "/tmp/pocket-wd/a b\n", "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(rootfs().join("tmp/pocket-wd"));
    let o = run(&["pwd"]);
    assert_eq!(stdout(&o), "/\n");
}

#[test]
fn only_fds_0_1_2_reach_the_container() {
    if !root() {
        return;
    }
    let mut c = pocket(&run_args(&["sh", "-c", "ls /proc/$$/fd; true"]));
    with_stray_fd(&mut c);
    let o = c.output().unwrap();
    assert_eq!(stdout(&o), "0\n1\n2\n", "{}", stderr(&o));
    // ... with --init too: neither the init nor the command holds more.
    let mut c = pocket(&run_args(&["--init", "sh", "-c", "ls /proc/$$/fd; true"]));
    with_stray_fd(&mut c);
    let o = c.output().unwrap();
    let out = stdout(&o);
    assert!(out.starts_with("0\n1\n2\n"), "{out}");
}

#[test]
fn stdin_with_and_without_i() {
    if !root() {
        return;
    }
    let mut c = pocket(&run_args(&["-i", "cat"]))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(b"hi\nthere\n").unwrap();
    let o = c.wait_with_output().unwrap();
    assert_eq!(stdout(&o), "hi\nthere\n");
    assert_eq!(o.status.code(), Some(0));
    // Without -i the container's stdin is /dev/null even if ours has data.
    let mut c = pocket(&run_args(&["sh", "-c", "cat; readlink /proc/self/fd/0"]))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(b"not for you\n").unwrap();
    let o = c.wait_with_output().unwrap();
    assert_eq!(stdout(&o), "/dev/null\n");
}

#[test]
fn dev_proc_sys_are_set_up() {
    if !root() {
        return;
    }
    let o = run(&[
        "sh",
        "-c",
        "ls /dev | tr '\\n' ' '; echo; grep -E ' /(proc|sys|dev|dev/pts|dev/shm|dev/mqueue) ' /proc/self/mountinfo | cut -d' ' -f5,6,8 ; head -c 4 /dev/zero | wc -c; echo x > /dev/null && echo null-ok",
    ]);
    let out = stdout(&o);
    for d in [
        "null", "zero", "full", "random", "urandom", "tty", "ptmx", "pts", "shm", "mqueue", "fd",
        "stdin",
    ] {
        assert!(
            out.lines().next().unwrap().split(' ').any(|x| x == d),
            "no /dev/{d}: {out}"
        );
    }
    assert!(out.contains("/proc rw,nosuid,nodev,noexec"), "{out}");
    assert!(out.contains("/sys ro,"), "{out}");
    assert!(
        out.contains("/dev/pts ") && out.contains(" devpts"),
        "{out}"
    );
    assert!(
        out.contains("/dev/mqueue ") && out.contains(" mqueue"),
        "{out}"
    );
    assert!(out.contains("\n4\nnull-ok"), "{out}");
}

#[test]
fn net_none_has_only_lo_up_and_host_sees_host_links() {
    if !root() {
        return;
    }
    let o = run(&[
        "sh",
        "-c",
        "ls /sys/class/net; cat /sys/class/net/lo/operstate /sys/class/net/lo/flags",
    ]);
    let out = stdout(&o);
    let mut l = out.lines();
    assert_eq!(l.next(), Some("lo"), "{out}");
    let _operstate = l.next();
    let flags = u32::from_str_radix(l.next().unwrap().trim_start_matches("0x"), 16).unwrap();
    assert_eq!(flags & 1, 1, "lo is not up: {out}");
    let host: Vec<String> = std::fs::read_dir("/sys/class/net")
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let o = run(&["--net", "host", "ls", "/sys/class/net"]);
    let mut inside: Vec<String> = stdout(&o).lines().map(String::from).collect();
    let mut host = host;
    inside.sort();
    host.sort();
    assert_eq!(inside, host);
}

#[test]
fn read_only_root() {
    if !root() {
        return;
    }
    let o = run(&[
        "--read-only",
        "sh",
        "-c",
        "touch /ro-test 2>&1; echo rc=$?; touch /dev/shm/ok && echo shm-ok",
    ]);
    let out = stdout(&o);
    assert!(
        out.contains("Read-only file system") && out.contains("rc=1"),
        "{out}"
    );
    assert!(out.contains("shm-ok"), "{out}");
    assert!(!rootfs().join("ro-test").exists());
    // Without --read-only the same write works (and lands in the rootfs dir).
    let o = run(&["sh", "-c", "touch /rw-test && echo ok"]);
    assert_eq!(stdout(&o), "ok\n");
    assert!(rootfs().join("rw-test").exists());
    let _ = std::fs::remove_file(rootfs().join("rw-test"));
}

#[test]
fn no_pivot_runs_isolated_too() {
    if !root() {
        return;
    }
    let o = run(&[
        "--no-pivot",
        "-h",
        "np",
        "sh",
        "-c",
        "echo $$ $(hostname); ls /; cat /proc/self/mountinfo | head -1",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("1 np\n"), "{out}");
    // The container's / is the rootfs, not the host's /.
    assert!(out.contains("bin\n") && !out.contains("work\n"), "{out}");
}

#[test]
fn container_root_is_limited() {
    if !root() {
        return;
    }
    let o = run(&[
        "sh",
        "-c",
        "{ grep CapBnd /proc/self/status; grep CapInh /proc/self/status; echo 1 > /proc/sys/kernel/ns_last_pid; mount -t tmpfs x /tmp; } 2>&1",
    ]);
    let out = stdout(&o);
    let bnd = u64::from_str_radix(
        out.lines()
            .next()
            .unwrap()
            .split_whitespace()
            .nth(1)
            .unwrap(),
        16,
    )
    .unwrap();
    assert_eq!(bnd & (1 << 21), 0, "CAP_SYS_ADMIN kept: {out}");
    assert_ne!(bnd & 1, 0, "CAP_CHOWN dropped: {out}");
    // docker's set: CAP_MKNOD is in it; the devices cgroup refuses to
    // open what it makes (tests/devices.rs).
    assert_eq!(bnd, 0xa80425fb, "not docker's default set: {out}");
    // Inheritable is empty (CVE-2022-24769).
    assert!(out.contains("CapInh:\t0000000000000000"), "{out}");
    assert!(
        out.contains("Read-only file system"),
        "/proc/sys writable: {out}"
    );
    assert!(
        out.contains("mount: permission denied")
            || out.contains("mounting x on /tmp failed: Operation not permitted"),
        "{out}"
    );
}

fn tempdir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("pocket-test-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn the_init_is_not_open_to_the_container() {
    if !root() {
        return;
    }
    // With --init, PID 1 is the pocket binary: the container must not be
    // able to open it (CVE-2019-5736-style overwrite) through /proc/1/exe,
    // while its own processes stay ordinary.
    let o = run(&[
        "--init",
        "sh",
        "-c",
        "readlink /proc/1/exe || echo hidden; readlink /proc/self/exe",
    ]);
    assert_eq!(stdout(&o), "hidden\n/bin/busybox\n", "{}", stderr(&o));
}

#[test]
fn workdir_may_go_through_a_symlink_inside_the_root() {
    if !root() {
        return;
    }
    // As docker: -w through a link in the image works, and an absolute
    // target is taken inside the root, never the host's.
    let link = rootfs().join(format!("tmp/pocket-wdlink-{}", std::process::id()));
    std::os::unix::fs::symlink("/etc", &link).unwrap();
    let wd = format!("/tmp/{}", link.file_name().unwrap().to_str().unwrap());
    let o = run(&[
        "-w",
        &wd,
        "sh",
        "-c",
        "ls passwd group; cat passwd | head -1",
    ]);
    let _ = std::fs::remove_file(&link);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // The rootfs's /etc/passwd (busybox's), not the host's.
    assert_eq!(stdout(&o), "group\npasswd\nroot:x:0:0:root:/root:/bin/sh\n");
}

/// CPUs: the container's are pocket's own, and pocket has its own back
/// once the command runs, though it moves off its child's CPU while the
/// child mounts (where the kernel queued both on one: spawn/parent.rs;
/// without the move back, the foreground pocket would stay on the CPUs
/// left). Under a narrower affinity (taskset's), the container keeps it.
/// The crash hook, set to a step never reached, has the namespaces made
/// ahead whatever the load, as the move needs.
#[test]
fn cpus_are_pockets_own_in_and_out_of_the_container() {
    if !root() {
        return;
    }
    let cpus = |pid: &str| {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let comm = |pid: i32| std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    let ours = cpus("self");
    // The first of ours ("0-1" -> 0, "2,5" -> 2).
    let first: usize = ours
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap();
    let script = "grep Cpus_allowed_list /proc/self/status; exec sleep 1000";
    for only_first in [false, false, false, false, false, false, true] {
        let mut c = pocket(&run_args(&["sh", "-c", script]));
        c.stdout(Stdio::piped()).env("POCKET_CRASH_AT", "1000000");
        if only_first {
            use std::os::unix::process::CommandExt;
            // SAFETY: sched_setaffinity on this child only, before exec.
            unsafe {
                c.pre_exec(move || {
                    let mut set: libc::cpu_set_t = std::mem::zeroed();
                    libc::CPU_SET(first, &mut set);
                    match libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set) {
                        0 => Ok(()),
                        _ => Err(std::io::Error::last_os_error()),
                    }
                })
            };
        }
        let child = c.spawn().unwrap();
        let init = container_pid(&child);
        wait_for(10, "the command", || {
            (comm(init).trim() == "sleep").then_some(())
        });
        let want = if only_first {
            first.to_string()
        } else {
            ours.clone()
        };
        let (inside, outside) = (cpus(&init.to_string()), cpus(&child.id().to_string()));
        unsafe { libc::kill(init, libc::SIGKILL) };
        let o = child.wait_with_output().unwrap();
        assert_eq!(inside, want, "the container's CPUs");
        assert_eq!(outside, want, "pocket's own CPUs while its container runs");
        assert_eq!(
            stdout(&o).trim(),
            format!("Cpus_allowed_list:\t{want}"),
            "as the command saw them"
        );
    }
}

/// `--env-file` from a pipe is read once, whichever way the run starts:
/// through the dmz (a plain run, not re-executed) or sealed (here with
/// CAP_SYS_PTRACE, decided from the flags before anything is read: a
/// re-executed run would read the pipe again, and find it empty).
#[test]
fn env_file_from_a_pipe_is_read_once_dmz_or_sealed() {
    if !root() {
        return;
    }
    for extra in [&[][..], &["--cap-add", "SYS_PTRACE"][..]] {
        let mut args = vec!["--rm", "--env-file", "/dev/stdin"];
        args.extend_from_slice(extra);
        args.extend(["sh", "-c", "echo \"[$FROM_PIPE]\""]);
        let mut c = pocket(&run_args(&args))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        c.stdin
            .take()
            .unwrap()
            .write_all(b"FROM_PIPE=yes\n")
            .unwrap();
        let o = c.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{extra:?}: {}", stderr(&o));
        assert_eq!(stdout(&o), "[yes]\n", "{extra:?}");
    }
}
