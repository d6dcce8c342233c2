//! `-t`: pocket inside a pty harness (as a terminal emulator would run it)
//! gives the container a /dev/pts tty of its own, with the outer window
//! size at start and after SIGWINCH, and restores the outer terminal.

mod common;
use common::term::*;
use common::*;
use std::time::Duration;

/// Spawn pocket with the pty's slave as its controlling terminal and stdio.
fn spawn_on(pty: &Pty, args: &[&str]) -> std::process::Child {
    spawn_cmd_on(pty, pocket(&run_args(args)))
}

#[test]
fn tty_is_a_pts_with_the_outer_size_and_follows_sigwinch() {
    if !root() {
        return;
    }
    let pty = openpty(33, 77);
    let before = termios(pty.slave.as_raw_fd_i32());
    let mut child = spawn_on(
        &pty,
        &[
            "-it",
            "sh",
            "-c",
            "tty; stty size; echo TERM=$TERM; read line; echo got:$line; stty size",
        ],
    );
    let m = pty.master.as_raw_fd_i32();
    let mut acc = vec![];
    assert!(
        read_until(m, &mut acc, "TERM=xterm", 10),
        "{}",
        String::from_utf8_lossy(&acc)
    );
    let out = String::from_utf8_lossy(&acc).to_string();
    assert!(out.contains("/dev/pts/0"), "{out}");
    assert!(out.contains("33 77"), "{out}");
    // Resize the outer terminal: the kernel sends pocket SIGWINCH, pocket
    // copies the new size to the container's tty.
    set_size(m, 50, 132);
    std::thread::sleep(Duration::from_millis(200));
    // SAFETY: writing a few bytes to our master.
    unsafe { libc::write(m, b"hello\r".as_ptr() as *const _, 6) };
    assert!(
        read_until(m, &mut acc, "50 132", 10),
        "{}",
        String::from_utf8_lossy(&acc)
    );
    assert!(String::from_utf8_lossy(&acc).contains("got:hello"));
    assert_eq!(child.wait().unwrap().code(), Some(0));
    // The outer terminal is back in cooked mode as it was.
    let after = termios(pty.slave.as_raw_fd_i32());
    assert_eq!(before.c_lflag, after.c_lflag);
    assert_eq!(before.c_iflag, after.c_iflag);
    assert_eq!(before.c_oflag, after.c_oflag);
}

#[test]
fn tty_exit_code_and_terminal_restored_after_kill() {
    if !root() {
        return;
    }
    let r = Root::new("tty-kill");
    let pty = openpty(24, 80);
    let before = termios(pty.slave.as_raw_fd_i32());
    let mut child = spawn_cmd_on(
        &pty,
        r.cmd(&run_args(&[
            "-it",
            "--name",
            "killed",
            "sh",
            "-c",
            "echo up; sleep 30",
        ])),
    );
    let m = pty.master.as_raw_fd_i32();
    let mut acc = vec![];
    assert!(read_until(m, &mut acc, "up", 10));
    // While running, the outer tty is raw (no echo, no canonical mode).
    let during = termios(pty.slave.as_raw_fd_i32());
    assert_eq!(during.c_lflag & libc::ECHO, 0);
    // The container's init (a monitor's child, as -it on a terminal is
    // run attached to one), killed from outside.
    let cpid = r.pid("killed");
    unsafe { libc::kill(cpid, libc::SIGKILL) };
    assert_eq!(child.wait().unwrap().code(), Some(137));
    let after = termios(pty.slave.as_raw_fd_i32());
    assert_eq!(before.c_lflag, after.c_lflag);
}

#[test]
fn tty_without_a_terminal_still_works() {
    if !root() {
        return;
    }
    // `-t` from a pipe (CI): no raw mode to set, output still relayed.
    let o = run(&["-t", "sh", "-c", "tty; exit 3"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stdout(&o).contains("/dev/pts/0"), "{}", stdout(&o));
}

#[test]
fn init_puts_the_command_in_the_foreground_of_its_tty() {
    if !root() {
        return;
    }
    let pty = openpty(24, 80);
    // Fields 5 and 8 of /proc/self/stat: process group and the tty's
    // foreground group. With --init the command must lead the foreground
    // group (so ^C reaches it once, not the init too).
    let mut child = spawn_on(
        &pty,
        &[
            "-it",
            "--init",
            "sh",
            "-c",
            "echo stat: $(cut -d' ' -f5,8 /proc/self/stat)",
        ],
    );
    let m = pty.master.as_raw_fd_i32();
    let mut acc = vec![];
    assert!(
        read_until(m, &mut acc, "stat: ", 10),
        "{}",
        String::from_utf8_lossy(&acc)
    );
    read_until(m, &mut acc, "\n", 2);
    let out = String::from_utf8_lossy(&acc).to_string();
    let line = out
        .lines()
        .find(|l| l.contains("stat: "))
        .unwrap()
        .to_string();
    let f: Vec<&str> = line
        .split("stat: ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(f.len(), 2, "{out}");
    assert_eq!(
        f[0], f[1],
        "the command's group is not the tty's foreground group: {out}"
    );
    assert_ne!(f[0], "1", "the command shares the init's group: {out}");
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

/// `attach` on a detached -it container: keystrokes reach its shell, the
/// window size follows, ctrl-p,ctrl-q detaches and leaves it running
/// (twice, with --detach-keys), and attach ends with its exit status.
#[test]
fn attach_to_a_detached_tty_and_detach_keys() {
    if !root() {
        return;
    }
    let r = Root::new("attach");
    let id = r.run_d(&["-it", "--name", "shell", "sh"]);
    let attach = |pty: &Pty, extra: &[&str]| {
        let mut v = vec!["attach"];
        v.extend(extra);
        v.push("shell");
        spawn_cmd_on(pty, r.cmd(&v))
    };
    let write = |fd: i32, b: &[u8]| {
        // SAFETY: b is valid for its length.
        assert_eq!(
            unsafe { libc::write(fd, b.as_ptr() as *const _, b.len()) },
            b.len() as isize
        );
    };
    let pty = openpty(33, 101);
    let m = pty.master.as_raw_fd_i32();
    let mut a = attach(&pty, &[]);
    std::thread::sleep(Duration::from_millis(300));
    let mut acc = Vec::new();
    write(m, b"echo got-$((6*7)) $(stty size)\n");
    assert!(
        read_until(m, &mut acc, "got-42 33 101", 10),
        "{}",
        String::from_utf8_lossy(&acc)
    );
    // ctrl-p, ctrl-q: attach ends with 0, the shell lives on.
    write(m, b"\x10\x11");
    let st = a.wait().unwrap();
    assert_eq!(st.code(), Some(0));
    assert!(
        stdout(&r.out(&["ps", "-q", "--no-trunc"])).contains(&id),
        "detaching stopped it"
    );
    // Again with other keys; a lone ctrl-p now is just a keystroke.
    let pty = openpty(24, 80);
    let m = pty.master.as_raw_fd_i32();
    let mut a = attach(&pty, &["--detach-keys", "ctrl-x,y"]);
    std::thread::sleep(Duration::from_millis(300));
    let mut acc = Vec::new();
    write(m, b"echo second-$((1+1))\n");
    assert!(
        read_until(m, &mut acc, "second-2", 10),
        "{}",
        String::from_utf8_lossy(&acc)
    );
    write(m, b"exit 5\n");
    let st = a.wait().unwrap();
    assert_eq!(
        st.code(),
        Some(5),
        "attach ends with the container's status"
    );
    assert_eq!(
        stdout(&r.out(&["inspect", "-f", "{{.State.ExitCode}}", "shell"])),
        "5\n"
    );
    // Not running, bad keys: docker's codes.
    assert_eq!(r.out(&["attach", "shell"]).status.code(), Some(1));
    let o = r.out(&["attach", "--detach-keys", "ctrl-1", "shell"]);
    assert_eq!(o.status.code(), Some(125));
}

/// `run -it` from a terminal: ctrl-p,ctrl-q detaches and leaves the
/// container running (seen by ps, and by a process inside it); `attach`
/// takes it up again; what it printed meanwhile is in its log; --rm runs
/// give their status and are gone; --detach-keys changes the sequence,
/// and a bad one is refused before anything is made.
#[test]
fn run_it_detach_keys_leave_it_running() {
    if !root() {
        return;
    }
    let r = Root::new("run-detach");
    let pty = openpty(30, 90);
    let m = pty.master.as_raw_fd_i32();
    let mut run = spawn_cmd_on(
        &pty,
        r.cmd(&run_args(&["-it", "--tmpfs", "/tmp", "--name", "dk", "sh"])),
    );
    let mut acc = Vec::new();
    // The size it started with is this terminal's (the monitor has none).
    write_all(m, b"echo first-$((2*3)) $(stty size)\n");
    assert!(
        read_until(m, &mut acc, "first-6 30 90", 10),
        "{}",
        String::from_utf8_lossy(&acc)
    );
    write_all(
        m,
        b"while :; do echo tick >> /tmp/ticks; sleep 0.1; done &\n",
    );
    std::thread::sleep(Duration::from_millis(300));
    write_all(m, b"\x10\x11");
    assert_eq!(wait_code(&mut run, 10), Some(0), "detaching exits 0");
    let ps = stdout(&r.out(&["ps", "--format", "{{.Names}} {{.Status}}"]));
    assert!(ps.starts_with("dk Up"), "{ps}");
    // It goes on without us: the loop inside still writes.
    let count = |r: &Root| {
        let o = r.out(&["exec", "dk", "wc", "-l", "/tmp/ticks"]);
        stdout(&o)
            .split_whitespace()
            .next()
            .unwrap_or("0")
            .parse::<u32>()
            .unwrap_or(0)
    };
    let n1 = count(&r);
    std::thread::sleep(Duration::from_millis(500));
    assert!(count(&r) > n1, "the container stopped when pocket detached");
    // attach again, and end it: attach returns its status.
    let pty = openpty(24, 80);
    let m = pty.master.as_raw_fd_i32();
    let mut a = spawn_cmd_on(&pty, r.cmd(&["attach", "dk"]));
    std::thread::sleep(Duration::from_millis(300));
    write_all(m, b"kill %1; echo back-$((3+4)); exit 3\n");
    let mut acc = Vec::new();
    assert!(
        read_until(m, &mut acc, "back-7", 10),
        "{}",
        String::from_utf8_lossy(&acc)
    );
    assert_eq!(wait_code(&mut a, 10), Some(3));
    let logs = stdout(&r.out(&["logs", "dk"]));
    assert!(
        logs.contains("first-6") && logs.contains("back-7"),
        "{logs}"
    );

    // --rm, other keys: a lone ctrl-p is a keystroke now; the status
    // comes back and the container is gone when pocket returns.
    let pty = openpty(24, 80);
    let m = pty.master.as_raw_fd_i32();
    let mut run = spawn_cmd_on(
        &pty,
        r.cmd(&run_args(&[
            "-it",
            "--rm",
            "--detach-keys",
            "ctrl-x,y",
            "--name",
            "gone",
            "sh",
        ])),
    );
    write_all(m, b"echo \x10x-$((5*5)); exit 4\n");
    let mut acc = Vec::new();
    assert!(
        read_until(m, &mut acc, "x-25", 10),
        "{}",
        String::from_utf8_lossy(&acc)
    );
    assert_eq!(wait_code(&mut run, 10), Some(4));
    assert_eq!(
        r.out(&["inspect", "gone"]).status.code(),
        Some(1),
        "--rm left it"
    );
    // Bad keys: refused (on a terminal: without one, -it is refused first,
    // as docker's client does).
    let mut bad = spawn_cmd_on(
        &pty,
        r.cmd(&run_args(&[
            "-it",
            "--detach-keys",
            "ctrl-1",
            "--name",
            "bad",
            "true",
        ])),
    );
    assert_eq!(wait_code(&mut bad, 10), Some(125));
    assert_eq!(r.out(&["inspect", "bad"]).status.code(), Some(1));
}

/// `start -ai` of a container made with -it: keystrokes reach it, and
/// the detach keys leave it running, as `run -it`.
#[test]
fn start_ai_detaches_too() {
    if !root() {
        return;
    }
    let r = Root::new("start-ai");
    let mut v = vec!["create", "-it", "--name", "sai", "--rootfs"];
    let rootfs = rootfs_str();
    v.push(&rootfs);
    v.push("sh");
    assert_eq!(r.out(&v).status.code(), Some(0));
    let pty = openpty(24, 80);
    let m = pty.master.as_raw_fd_i32();
    let mut st = spawn_cmd_on(&pty, r.cmd(&["start", "-ai", "sai"]));
    write_all(m, b"echo started-$((8*8))\n");
    let mut acc = Vec::new();
    assert!(
        read_until(m, &mut acc, "started-64", 10),
        "{}",
        String::from_utf8_lossy(&acc)
    );
    write_all(m, b"\x10\x11");
    assert_eq!(wait_code(&mut st, 10), Some(0));
    let ps = stdout(&r.out(&["ps", "--format", "{{.Names}} {{.Status}}"]));
    assert!(ps.starts_with("sai Up"), "{ps}");
}
