//! `exec`: all the container's namespaces, its env and workdir, exit codes,
//! -i, -d, -t, fds, dumpable; errors for stopped or missing containers.

mod common;
use common::checks::*;
use common::*;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

#[test]
fn exec_sees_the_containers_init_hostname_env_and_workdir() {
    if !root() {
        return;
    }
    let r = Root::new("exec-env");
    let id = r.run_d(&[
        "--name",
        "box1",
        "--hostname",
        "boxhost",
        "-e",
        "A=1",
        "-w",
        "/tmp",
        "sleep",
        "300",
    ]);
    // PID 1 is the container's command.
    let o = exec(&r, &id, &["cat", "/proc/1/cmdline"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(o.stdout, b"sleep\x00300\x00");
    assert_eq!(
        inspect(&r, &id).get("Config").get("Cmd").strs(),
        ["sleep", "300"]
    );
    // By name too; the container's hostname, not the host's.
    let o = exec(&r, "box1", &["hostname"]);
    assert_eq!(stdout(&o), "boxhost\n", "{}", stderr(&o));

    // The container's env, not pocket's.
    let mut c = r.cmd(&["exec", &id, "env"]);
    c.env("SECRET", "x");
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let env: Vec<String> = stdout(&o).lines().map(String::from).collect();
    assert!(env.contains(&"A=1".to_string()), "{env:?}");
    assert!(env.contains(&"HOSTNAME=boxhost".to_string()), "{env:?}");
    assert!(env.iter().any(|e| e.starts_with("PATH=")), "{env:?}");
    assert!(!env.iter().any(|e| e.starts_with("SECRET")), "{env:?}");
    // -e adds or overrides; -e KEY takes pocket's value.
    let mut c = r.cmd(&["exec", "-e", "A=2", "-e", "B=3", "-e", "SECRET", &id, "env"]);
    c.env("SECRET", "x");
    let o = c.output().unwrap();
    let env: Vec<String> = stdout(&o).lines().map(String::from).collect();
    assert_eq!(
        env.iter()
            .filter(|e| e.starts_with("A="))
            .collect::<Vec<_>>(),
        ["A=2"]
    );
    assert!(env.contains(&"B=3".to_string()), "{env:?}");
    assert!(env.contains(&"SECRET=x".to_string()), "{env:?}");
    // -e at exec does not stick: the next exec has the container's env.
    let env = sh(&r, &id, "env");
    assert!(env.contains("A=1\n") && !env.contains("B=3"), "{env}");

    // The container's workdir; -w for one exec.
    assert_eq!(sh(&r, &id, "pwd"), "/tmp\n");
    let o = r.out(&["exec", "-w", "/etc", &id, "pwd"]);
    assert_eq!(stdout(&o), "/etc\n", "{}", stderr(&o));
    let o = r.out(&["exec", "-w", "etc", &id, "pwd"]);
    assert_eq!(o.status.code(), Some(125));
    one_error_line(&o, "exec -w relative");
}

#[test]
fn exec_workdir_that_does_not_exist_is_a_clear_error() {
    if !root() {
        return;
    }
    let r = Root::new("exec-nowd");
    let id = r.run_d(&["sleep", "300"]);
    let o = r.out(&["exec", "-w", "/no/such/dir", &id, "pwd"]);
    assert_ne!(o.status.code(), Some(0));
    one_error_line(&o, "exec -w /no/such/dir");
    // `pocket: <step> <what>: <why>`: the error names the directory.
    assert!(stderr(&o).contains("/no/such/dir"), "{}", stderr(&o));
    // exec does not create it (run -w does; exec is not run).
    let o = exec(&r, &id, &["test", "-e", "/no/such/dir"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn exec_joins_the_containers_namespaces_and_mounts() {
    if !root() {
        return;
    }
    let r = Root::new("exec-ns");
    let id = r.run_d(&["sleep", "300"]);
    let pid = init_pid(&r, &id);
    wait_for(5, "sleep to start", || {
        (comm(pid)? == "sleep").then_some(())
    });

    // Every namespace the init has, exec has; none of them is the host's.
    let names = ["cgroup", "ipc", "mnt", "net", "pid", "uts"];
    let inside = sh(
        &r,
        &id,
        "for n in cgroup ipc mnt net pid uts; do readlink /proc/$$/ns/$n; done",
    );
    let init: String = names
        .iter()
        .map(|n| read_link(format!("/proc/{pid}/ns/{n}")) + "\n")
        .collect();
    assert_eq!(inside, init);
    for n in names {
        assert_ne!(
            read_link(format!("/proc/{pid}/ns/{n}")),
            read_link(format!("/proc/self/ns/{n}")),
            "{n} namespace is the host's"
        );
    }

    // The same mounts, seen from the same root: the container's /proc and
    // /dev/pts, not the host's.
    let o = exec(&r, &id, &["cat", "/proc/self/mountinfo"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mi = stdout(&o);
    // A cgroup mount's root shows relative to the reader's cgroup
    // namespace: "/" inside, the group's path from here.
    let groups_at_root = |t: &str| -> String {
        t.lines()
            .map(|l| {
                let mut f: Vec<&str> = l.split(' ').collect();
                let dash = f.iter().position(|x| *x == "-").unwrap();
                if f[dash + 1].starts_with("cgroup") {
                    f[3] = "/";
                }
                f.join(" ") + "\n"
            })
            .collect()
    };
    assert_eq!(
        mi,
        groups_at_root(&std::fs::read_to_string(format!("/proc/{pid}/mountinfo")).unwrap())
    );
    assert_ne!(mi, std::fs::read_to_string("/proc/self/mountinfo").unwrap());
    let has = |point: &str, fstype: &str| {
        mi.lines().any(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            let dash = f.iter().position(|x| *x == "-").unwrap();
            f[4] == point && f[dash + 1] == fstype
        })
    };
    assert!(has("/proc", "proc"), "{mi}");
    assert!(has("/dev/pts", "devpts"), "{mi}");

    // Its pid namespace: not PID 1, a small pid, and ps sees only the
    // container: its init and the ps itself.
    let n: i32 = sh(&r, &id, "echo $$").trim().parse().unwrap();
    assert!(n > 1 && n < 1000, "exec'd pid {n}");
    let o = exec(&r, &id, &["ps", "-o", "pid,args"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let rows: Vec<Vec<String>> = stdout(&o)
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect();
    assert_eq!(rows.len(), 2, "{}", stdout(&o));
    assert_eq!(rows[0], ["1", "sleep", "300"]);
    assert_eq!(&rows[1][1..], ["ps", "-o", "pid,args"]);
}

#[test]
fn exec_exit_codes() {
    if !root() {
        return;
    }
    let r = Root::new("exec-codes");
    let id = r.run_d(&["sleep", "300"]);
    assert_eq!(exec(&r, &id, &["true"]).status.code(), Some(0));
    assert_eq!(
        exec(&r, &id, &["sh", "-c", "exit 5"]).status.code(),
        Some(5)
    );
    assert_eq!(
        exec(&r, &id, &["sh", "-c", "exit 255"]).status.code(),
        Some(255)
    );
    // Killed by a signal (from inside, but it is not PID 1): 128+9.
    assert_eq!(
        exec(&r, &id, &["sh", "-c", "kill -9 $$"]).status.code(),
        Some(137)
    );

    let o = exec(&r, &id, &["no-such-command"]);
    assert_eq!(o.status.code(), Some(127));
    assert_eq!(
        stderr(&o),
        "pocket: exec no-such-command: executable file not found in $PATH\n"
    );
    let o = exec(&r, &id, &["/etc/passwd"]);
    assert_eq!(o.status.code(), Some(126));
    one_error_line(&o, "exec /etc/passwd");
    // The process could not be set up in the container (docker: "OCI
    // runtime exec failed"): 126.
    let o = r.out(&["exec", "-w", "/no/such/dir", &id, "pwd"]);
    assert_eq!(o.status.code(), Some(126), "{}", stderr(&o));
    one_error_line(&o, "chdir /no/such/dir");
    let o = r.out(&["exec", &id]);
    assert_eq!(o.status.code(), Some(125));
    one_error_line(&o, "exec without a command");
    // None of it touched the container.
    let st = inspect(&r, &id).get("State").clone();
    assert!(st.get("Running").bool());
    assert_eq!(sh(&r, &id, "echo alive"), "alive\n");
}

#[test]
fn exec_interactive_passes_stdin_and_without_i_stdin_is_empty() {
    if !root() {
        return;
    }
    let r = Root::new("exec-stdin");
    let id = r.run_d(&["sleep", "300"]);
    let data: Vec<u8> = (0..300_000u32)
        .map(|i| {
            if i % 61 == 60 {
                b'\n'
            } else {
                b'a' + (i % 26) as u8
            }
        })
        .collect();
    for (flag, want) in [("-i", data.clone()), ("--interactive", data.clone())] {
        let mut c = r.cmd(&["exec", flag, &id, "sh", "-c", "cat; echo end"]);
        c.stdin(Stdio::piped()).stdout(Stdio::piped());
        let mut g = Guard(c.spawn().unwrap());
        let mut sin = g.0.stdin.take().unwrap();
        let d = data.clone();
        let w = std::thread::spawn(move || {
            sin.write_all(&d).unwrap();
            // dropped here: EOF
        });
        let mut out = vec![];
        g.0.stdout.take().unwrap().read_to_end(&mut out).unwrap();
        w.join().unwrap();
        let st = wait_for(10, "exec -i to return", || g.0.try_wait().unwrap());
        assert_eq!(st.code(), Some(0));
        let mut want = want;
        want.extend_from_slice(b"end\n");
        assert!(
            out == want,
            "{flag}: {} bytes back of {}",
            out.len(),
            want.len()
        );
    }
    // Without -i the command reads /dev/null, even if pocket's stdin has data.
    let mut c = r.cmd(&["exec", &id, "sh", "-c", "cat; echo end"]);
    c.stdin(Stdio::piped());
    let mut c = c.stdout(Stdio::piped()).spawn().unwrap();
    c.stdin
        .take()
        .unwrap()
        .write_all(b"should not arrive\n")
        .unwrap();
    let o = c.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "end\n");
}

#[test]
fn exec_detach_returns_at_once_and_the_process_lives_in_the_container() {
    if !root() {
        return;
    }
    let r = Root::new("exec-detach");
    let id = r.run_d(&["sleep", "300"]);
    let init = init_pid(&r, &id);
    // The command waits for a signal file: exec -d must not wait for it.
    let o = output_within(
        r.cmd(&[
            "exec",
            "-d",
            &id,
            "sh",
            "-c",
            "while [ ! -e /dev/shm/go ]; do sleep 0.02; done; \
             echo $$ > /dev/shm/done; echo lost; echo lost >&2; sleep 300",
        ]),
        10,
        "exec -d",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
    assert_eq!(stderr(&o), "");
    // It runs in the container's pid namespace.
    let p = wait_for(5, "the detached process", || {
        same_pidns(init)
            .into_iter()
            .find(|&p| p != init && comm(p).as_deref() == Some("sh"))
    });
    // (Its parent is pocket exec; once that exits the kernel gives it to
    // the reaper of pocket's pid namespace, not to the container's init.)
    assert_ne!(ns_pid(p), p, "not in a pid namespace of its own");
    // Detached: stdio is /dev/null, no stray fds (seen from the host
    // while it waits).
    let fds = wait_for(5, "the detached sh's fds", || {
        let mut v: Vec<(String, String)> = std::fs::read_dir(format!("/proc/{p}/fd"))
            .ok()?
            .flatten()
            .map(|e| {
                let l = std::fs::read_link(e.path()).unwrap_or_default();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    l.to_string_lossy().into_owned(),
                )
            })
            .collect();
        v.sort();
        Some(v)
    });
    let null = "/dev/null".to_string();
    assert_eq!(
        fds,
        [
            ("0".to_string(), null.clone()),
            ("1".into(), null.clone()),
            ("2".into(), null)
        ]
    );
    sh(&r, &id, "touch /dev/shm/go");
    let inner = wait_for(10, "the detached process to run on", || {
        let o = exec(&r, &id, &["cat", "/dev/shm/done"]);
        (o.status.code() == Some(0)).then(|| stdout(&o))
    });
    assert_eq!(inner.trim(), ns_pid(p).to_string());
    let o = r.out(&["logs", &id]);
    assert!(!stdout(&o).contains("lost") && !stderr(&o).contains("lost"));
    // Removing the container takes the detached process with it.
    let o = r.out(&["rm", "-f", &id]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    wait_for(10, "detached exec to be gone", || gone(p).then_some(()));
    assert!(gone(init));
}

#[test]
fn exec_passes_only_stdio_fds() {
    if !root() {
        return;
    }
    let r = Root::new("exec-fds");
    let id = r.run_d(&["sleep", "300"]);
    // `; true` keeps sh from exec'ing ls, so ls lists sh's fds.
    let script = "ls /proc/$$/fd; true";
    let mut c = r.cmd(&["exec", &id, "sh", "-c", script]);
    with_stray_fd(&mut c);
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "0\n1\n2\n");
    // The same with -i and with -t.
    for flag in ["-i", "-t"] {
        let mut c = r.cmd(&["exec", flag, &id, "sh", "-c", script]);
        with_stray_fd(&mut c);
        let o = c.output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{flag}: {}", stderr(&o));
        let fds: Vec<&str> = std::str::from_utf8(&o.stdout)
            .unwrap()
            .split_whitespace()
            .collect();
        assert_eq!(fds, ["0", "1", "2"], "{flag}");
    }
}

#[test]
fn exec_tty_gets_a_pty_of_the_container() {
    if !root() {
        return;
    }
    let r = Root::new("exec-tty");
    let id = r.run_d(&["sleep", "300"]);
    let o = r.out(&["exec", "-t", &id, "sh", "-c", "tty; echo $TERM"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s = stdout(&o);
    let mut l = s.split("\r\n");
    let tty = l.next().unwrap();
    assert!(tty.starts_with("/dev/pts/"), "{s:?}");
    assert_eq!(l.next(), Some("xterm"));
    // Without -t: no terminal.
    let o = exec(&r, &id, &["tty"]);
    assert_ne!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "not a tty\n");
}

/// capability(7) number of CAP_SYS_PTRACE (not in the libc crate).
const CAP_SYS_PTRACE: libc::c_ulong = 19;

/// `prctl(PR_CAPBSET_DROP, CAP_SYS_PTRACE)` before exec: the process (and
/// what it runs) lacks CAP_SYS_PTRACE, so /proc/PID/exe of another process
/// with the same caps is readable only if that process is dumpable.
fn without_sys_ptrace(c: &mut Command) {
    // SAFETY: only prctl between fork and exec.
    unsafe {
        c.pre_exec(|| {
            if libc::prctl(libc::PR_CAPBSET_DROP, CAP_SYS_PTRACE, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[test]
fn exec_is_not_dumpable_but_the_command_it_runs_is() {
    if !root() {
        return;
    }
    let r = Root::new("exec-dump");
    let id = r.run_d(&["sleep", "300"]);
    let busybox = rootfs().join("bin/busybox");
    // Readable by a process without CAP_SYS_PTRACE?
    let readable = |pid: i32| {
        let mut c = Command::new(&busybox);
        c.args(["readlink", &format!("/proc/{pid}/exe")]);
        without_sys_ptrace(&mut c);
        let o = c.output().unwrap();
        o.status.success() && !o.stdout.is_empty()
    };
    // Control: an ordinary process with the same capabilities is.
    let mut c = Command::new(&busybox);
    c.args(["sleep", "300"]);
    without_sys_ptrace(&mut c);
    let ctl = Guard(c.spawn().unwrap());
    assert!(
        readable(ctl.0.id() as i32),
        "the observer cannot read a plain process"
    );

    // pocket exec, with the same capabilities, running `sleep 301`.
    let mut c = r.cmd(&["exec", &id, "sleep", "301"]);
    without_sys_ptrace(&mut c);
    let ex = Guard(c.spawn().unwrap());
    let pocket_pid = ex.0.id() as i32;
    let child = wait_for(10, "the exec'd sleep", || {
        children(pocket_pid)
            .into_iter()
            .find(|&p| comm(p).as_deref() == Some("sleep"))
    });
    // pocket itself stays non-dumpable (it holds the container's
    // namespaces and root); the command it ran is an ordinary process.
    assert!(!readable(pocket_pid), "pocket exec is dumpable");
    assert!(readable(child), "the exec'd command is not dumpable");
    // Inside the container (no CAP_SYS_PTRACE there either) it is a
    // normal process too.
    let n = ns_pid(child);
    assert_eq!(
        sh(&r, &id, &format!("readlink /proc/{n}/exe")),
        "/bin/busybox\n"
    );
    drop(ex);
    drop(ctl);
}

#[test]
fn exec_into_a_stopped_or_missing_container_fails_and_changes_nothing() {
    if !root() {
        return;
    }
    let r = Root::new("exec-stopped");
    // Missing: no container is made.
    let o = r.out(&["exec", "nosuch", "true"]);
    // A missing container is docker's "No such container": exit 1.
    assert_eq!(o.status.code(), Some(1));
    one_error_line(&o, "exec nosuch");
    assert!(stderr(&o).contains("nosuch"));
    let o = r.out(&["ps", "-aq"]);
    assert_eq!(stdout(&o), "");

    let id = r.run_d(&["--name", "done3", "sh", "-c", "echo hi; exit 3"]);
    assert_eq!(wait_exited(&r, &id), 3);
    let before = stdout(&r.out(&["inspect", &id]));
    let log = std::fs::read(r.0.join("containers").join(&id).join("container.log")).unwrap();
    for args in [
        vec!["exec", &id, "true"],
        vec!["exec", "done3", "sh", "-c", "echo never"],
        vec!["exec", "-d", &id, "true"],
        vec!["exec", "-i", &id, "cat"],
        vec!["exec", "-t", &id, "true"],
    ] {
        let o = r.out(&args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        one_error_line(&o, &format!("{args:?}"));
        assert!(
            stderr(&o).contains("not running"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
    assert_eq!(stdout(&r.out(&["inspect", &id])), before, "inspect changed");
    assert_eq!(
        std::fs::read(r.0.join("containers").join(&id).join("container.log")).unwrap(),
        log,
        "log changed"
    );
    let o = r.out(&["ps", "-aq", "--no-trunc"]);
    assert_eq!(stdout(&o), format!("{id}\n"));

    // The management commands fail with 1, as docker's.
    for args in [
        vec!["logs", "nosuch"],
        vec!["top", "nosuch"],
        vec!["top", &id],
    ] {
        let o = r.out(&args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        one_error_line(&o, &format!("{args:?}"));
    }
    let o = r.out(&["inspect", "nosuch"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o).lines().count(), 1);
    assert!(stderr(&o).starts_with("pocket: "));
    assert_eq!(json(&stdout(&o)).unwrap(), J::Arr(vec![]));
}

// ---------------------------------------------------------------------------
// inspect and top

/// docker's client refuses `-it` where its stdin is no terminal (`echo x
/// | docker run -it ...`): exit 1, one line, nothing made; -d or -t alone
/// is fine.
#[test]
fn it_without_a_terminal_is_refused() {
    if !root() {
        return;
    }
    let r = Root::new("it-no-tty");
    let rootfs = rootfs_str();
    let o = r.out(&["run", "-it", "--name", "nt", "--rootfs", &rootfs, "true"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(stderr(&o), "pocket: the input device is not a TTY\n");
    assert_eq!(stdout(&r.out(&["ps", "-aq"])), "", "nothing made");
    let id = r.run_d(&["-it", "--name", "bg", "sleep", "300"]);
    let o = r.out(&["exec", "-it", &id, "true"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(stderr(&o), "pocket: the input device is not a TTY\n");
    assert_eq!(r.out(&["exec", "-t", &id, "true"]).status.code(), Some(0));
    assert_eq!(
        r.out(&["run", "-t", "--rm", "--rootfs", &rootfs, "true"])
            .status
            .code(),
        Some(0)
    );
    let _ = r.out(&["rm", "-f", &id]);
}
