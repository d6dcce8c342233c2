//! Exit codes and signals, as docker gives them: the command's status,
//! 125/126/127 for pocket/exec failures, 128+N when killed by signal N.

mod common;
use common::*;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

#[test]
fn status_codes() {
    if !root() {
        return;
    }
    assert_eq!(run(&["true"]).status.code(), Some(0));
    assert_eq!(run(&["sh", "-c", "exit 7"]).status.code(), Some(7));
    assert_eq!(run(&["sh", "-c", "exit 255"]).status.code(), Some(255));

    let o = run(&["no-such-command"]);
    assert_eq!(o.status.code(), Some(127));
    assert_eq!(
        stderr(&o),
        "pocket: exec no-such-command: executable file not found in $PATH\n"
    );
    let o = run(&["/bin/nope"]);
    assert_eq!(o.status.code(), Some(127));
    assert_eq!(stderr(&o).lines().count(), 1);

    // A file that exists but is not executable: 126.
    let f = rootfs().join("tmp/pocket-noexec.sh");
    std::fs::write(&f, "#!/bin/sh\necho never\n").unwrap();
    let o = run(&["/tmp/pocket-noexec.sh"]);
    assert_eq!(o.status.code(), Some(126), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        "pocket: exec /tmp/pocket-noexec.sh: Permission denied\n"
    );
    let o = run(&["/tmp"]);
    assert_eq!(o.status.code(), Some(126), "{}", stderr(&o));
    let _ = std::fs::remove_file(f);
}

#[test]
fn sigkill_from_the_host_gives_137() {
    if !root() {
        return;
    }
    let mut child = pocket(&run_args(&["sleep", "30"])).spawn().unwrap();
    let cpid = container_pid(&child);
    // Wait for the execve (comm becomes "sleep"), then kill from outside.
    wait_for(5, "sleep to start", || {
        let c = std::fs::read_to_string(format!("/proc/{cpid}/comm")).ok()?;
        (c.trim() == "sleep").then_some(())
    });
    unsafe { libc::kill(cpid, libc::SIGKILL) };
    assert_eq!(child.wait().unwrap().code(), Some(137));
}

#[test]
fn sigterm_to_pocket_reaches_a_trap_in_the_container() {
    if !root() {
        return;
    }
    let mut child = pocket(&run_args(&[
        "sh",
        "-c",
        "trap 'echo got TERM; exit 3' TERM; echo ready; while :; do sleep 0.05; done",
    ]))
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    line.clear();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "got TERM\n");
    assert_eq!(child.wait().unwrap().code(), Some(3));
}

#[test]
fn other_signals_are_forwarded_too() {
    if !root() {
        return;
    }
    for (sig, name) in [
        (libc::SIGINT, "INT"),
        (libc::SIGHUP, "HUP"),
        (libc::SIGUSR1, "USR1"),
        (libc::SIGQUIT, "QUIT"),
    ] {
        let script = format!(
            "trap 'echo got {name}; exit 4' {name}; echo ready; while :; do sleep 0.05; done"
        );
        let mut child = pocket(&run_args(&["sh", "-c", &script]))
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        unsafe { libc::kill(child.id() as i32, sig) };
        line.clear();
        out.read_line(&mut line).unwrap();
        assert_eq!(line, format!("got {name}\n"));
        assert_eq!(child.wait().unwrap().code(), Some(4));
    }
}

#[test]
fn sigterm_with_init_gives_143() {
    if !root() {
        return;
    }
    // With --init the command is not PID 1, so SIGTERM's default action
    // applies to it: it dies, and the init reports 128+15.
    let mut child = pocket(&run_args(&["--init", "sleep", "30"]))
        .spawn()
        .unwrap();
    let init = container_pid(&child);
    wait_for(5, "command to start", || {
        let kids = children(init);
        let c = std::fs::read_to_string(format!("/proc/{}/comm", kids.first()?)).ok()?;
        (c.trim() == "sleep").then_some(())
    });
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert_eq!(child.wait().unwrap().code(), Some(143));
}

#[test]
fn init_is_pid_1_and_reaps_orphaned_zombies() {
    if !root() {
        return;
    }
    // The subshell exits at once, orphaning `sleep 0.1`, which is
    // reparented to PID 1 and dies; the command then becomes `sleep 3`,
    // which reaps nothing. Only a real init leaves no zombie behind.
    let script = "(sleep 0.1 &); exec sleep 3";
    let zombies = |init: bool| {
        let mut args = vec![];
        if init {
            args.push("--init");
        }
        args.extend(["sh", "-c", script]);
        let mut child = pocket(&run_args(&args)).spawn().unwrap();
        let cpid = container_pid(&child);
        std::thread::sleep(Duration::from_millis(1200));
        let z = same_pidns(cpid)
            .into_iter()
            .filter(|&p| state(p) == Some('Z'))
            .count();
        let all = same_pidns(cpid).len();
        unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
        let _ = child.wait();
        unsafe { libc::kill(cpid, libc::SIGKILL) };
        (z, all)
    };
    let (z, _) = zombies(false);
    assert_eq!(
        z, 1,
        "control: without --init the orphan should stay a zombie"
    );
    let (z, all) = zombies(true);
    assert_eq!(z, 0, "--init left a zombie");
    assert_eq!(all, 2, "init + command expected");

    // PID 1 shows as docker's init does (`docker-init -- CMD`), not with
    // pocket's host command line: its rootfs path, its flags.
    let o = run(&[
        "--init",
        "-e",
        "HOST_ONLY_FLAG=x",
        "sh",
        "-c",
        "echo $$; cat /proc/1/comm; tr '\\0' ' ' </proc/1/cmdline; echo",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let mut l = out.lines();
    assert_ne!(l.next(), Some("1"));
    assert_eq!(l.next(), Some("pocket-init"));
    let cmdline = l.next().unwrap_or("");
    assert_eq!(
        cmdline,
        "pocket-init -- sh -c echo $$; cat /proc/1/comm; tr '\\0' ' ' </proc/1/cmdline; echo ",
    );
    // Whole, with NULs between the words only, however short pocket's own
    // command line was (`start NAME`).
    let r = Root::new("init-cmdline");
    let script = "tr '\\0' '#' </proc/1/cmdline";
    let made = r.out(&[
        "create",
        "--name",
        "ic",
        "--init",
        "--rootfs",
        &rootfs_str(),
        "sh",
        "-c",
        script,
    ]);
    assert_eq!(made.status.code(), Some(0), "{}", stderr(&made));
    let o = r.out(&["start", "-a", "ic"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), format!("pocket-init#--#sh#-c#{script}#"));
    let _ = r.out(&["rm", "ic"]);
    let o = run(&["--init", "sh", "-c", "exit 5"]);
    assert_eq!(o.status.code(), Some(5));
}

#[test]
fn killing_pocket_takes_the_container_with_it() {
    if !root() {
        return;
    }
    for init in [false, true] {
        let mut args = vec![];
        if init {
            args.push("--init");
        }
        args.extend(["sleep", "30"]);
        let mut child = pocket(&run_args(&args)).spawn().unwrap();
        let cpid = container_pid(&child);
        std::thread::sleep(Duration::from_millis(100));
        let ns = same_pidns(cpid);
        assert!(!ns.is_empty());
        unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
        let _ = child.wait();
        // PR_SET_PDEATHSIG: the container init dies with pocket, and the
        // kernel then kills the rest of its pid namespace.
        wait_for(5, "container to die with pocket", || {
            ns.iter()
                .all(|p| state(*p).is_none_or(|s| s == 'Z'))
                .then_some(())
        });
    }
}

/// --sig-proxy=false: a signal to pocket is not passed on. It ends pocket
/// (128+N) and the container runs on under a monitor, as docker's client
/// and daemon: ps shows it, its trap did not fire, its output is in its
/// log. Without a terminal, -i's stdin still reaches it, its end ends the
/// container's stdin, and stdout and stderr stay apart.
#[test]
fn sig_proxy_false_leaves_the_container_running() {
    if !root() {
        return;
    }
    let r = Root::new("sigproxy");
    let script = "trap 'echo got TERM; exit 3' TERM; echo ready; while :; do sleep 0.05; done";
    let mut child = r
        .cmd(&run_args(&[
            "--sig-proxy=false",
            "--name",
            "sp",
            "sh",
            "-c",
            script,
        ]))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert_eq!(wait_code(&mut child, 10), Some(143));
    let ps = stdout(&r.out(&["ps", "--format", "{{.Names}} {{.Status}}"]));
    assert!(ps.starts_with("sp Up"), "{ps}");
    assert_eq!(stdout(&r.out(&["logs", "sp"])), "ready\n");
    assert_eq!(r.out(&["stop", "-t", "5", "sp"]).status.code(), Some(0));
    assert_eq!(stdout(&r.out(&["logs", "sp"])), "ready\ngot TERM\n");
    assert_eq!(
        stdout(&r.out(&["inspect", "-f", "{{.State.ExitCode}}", "sp"])),
        "3\n"
    );

    let mut c = r
        .cmd(&run_args(&[
            "-i",
            "--sig-proxy=false",
            "--rm",
            "sh",
            "-c",
            "cat; echo err >&2; exit 6",
        ]))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    let mut stdin = c.stdin.take().unwrap();
    stdin.write_all(b"hello\n").unwrap();
    drop(stdin);
    let o = c.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(6));
    assert_eq!(stdout(&o), "hello\n");
    assert_eq!(stderr(&o), "err\n");
    let left = stdout(&r.out(&["ps", "-a", "--format", "{{.Names}}"]));
    assert_eq!(left, "sp\n", "--rm left it");

    // pocket ended by a signal while its stdin is still open: the
    // container's stdin ends with it (docker's StdinOnce), so a `cat`
    // there finishes instead of waiting forever.
    let mut c = r
        .cmd(&run_args(&[
            "-i",
            "--sig-proxy=false",
            "--name",
            "once",
            "sh",
            "-c",
            "echo ready; cat; echo after-cat",
        ]))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let _keep_open = c.stdin.take().unwrap();
    let mut out = BufReader::new(c.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    unsafe { libc::kill(c.id() as i32, libc::SIGINT) };
    assert_eq!(wait_code(&mut c, 10), Some(130));
    wait_for(
        10,
        "the container's cat to see the end of its stdin",
        || {
            stdout(&r.out(&["logs", "once"]))
                .contains("after-cat")
                .then_some(())
        },
    );
}
