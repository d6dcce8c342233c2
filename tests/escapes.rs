//! Escapes docker would have stopped, each tried for real from inside a
//! container (issue 11): the caller's terminal (TIOCSTI), the working
//! directory (runc CVE-2024-21626), the caller's session keyring, and the
//! host's pocket binary through /proc/PID/exe (runc CVE-2019-5736).
//!
//! The attacking code is this very test binary (static), bind-mounted into
//! the container and started with one of the `#[ignore]`d helpers below,
//! chosen by POCKET_ATTACK. Each attack also runs once on the host, outside
//! any container, as a control: it must succeed there, or the test proves
//! nothing (and says so with a SKIP where the kernel itself forbids it).

mod common;
use common::attacks::{self, *};
use common::*;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A copy of the test rootfs of `r`'s own: these tests write into their
/// containers' root (traps, reports), which --rootfs shares with the host.
fn private_rootfs(r: &Root) -> String {
    let dir = r.0.join("rootfs");
    if !dir.exists() {
        let st = Command::new("cp")
            .args(["-a", &rootfs_str()])
            .arg(&dir)
            .status()
            .unwrap();
        assert!(st.success());
    }
    dir.to_str().unwrap().to_string()
}

// ---------------------------------------------------------------------
// 1. The controlling terminal (TIOCSTI).

/// Inside: the TIOCSTI attack (common::attacks::tty_attack).
#[test]
#[ignore]
fn tty_attack() {
    attacks::tty_attack();
}

/// docker: a container has no controlling terminal (open("/dev/tty") is
/// ENXIO) and cannot type into the caller's. Tried from `run` (with -i, so
/// stdin is the admin's terminal too), `run -d`, `exec` and `exec -d`.
#[test]
fn no_controlling_terminal_and_no_keys_typed_into_the_callers() {
    if !root() {
        return;
    }
    let r = Root::new("sectty");
    let rootfs = private_rootfs(&r);
    // Control: the same attack on the host, as a session leader of its
    // terminal, does type the line (the kernel allows TIOCSTI here).
    let (_, out, queued) = under_a_terminal(helper_cmd(&me(), "tty_attack"));
    tty_control(&out, &queued);

    // Foreground run, stdin/stdout/stderr the admin's terminal.
    let mut c = r.cmd::<&str>(&[]);
    c.args(["run", "--rm", "-i", "--rootfs", &rootfs])
        .args(attack(&me(), "tty_attack"));
    let (code, out, queued) = under_a_terminal(c);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("devtty: No such device or address"),
        "the container opened the caller's terminal: {out}"
    );
    for fd in 0..3 {
        assert!(
            out.contains(&format!("tiocsti fd {fd}: Operation not permitted")),
            "TIOCSTI through fd {fd}: {out}"
        );
    }
    assert!(
        queued.is_empty(),
        "keys typed into the terminal: {queued:?}"
    );
    eprintln!("run: /dev/tty ENXIO, TIOCSTI EPERM (not the container's session)");

    // exec (foreground) into a detached container, from the terminal; the
    // attack is copied into the container.
    let o = r.out(&["run", "-d", "--rootfs", &rootfs, "sleep", "60"]);
    let id = stdout(&o).trim().to_string();
    let pid = r.pid(&id);
    copy_exe(me(), format!("/proc/{pid}/root/tmp/attack"));
    let mut c2 = r.cmd::<&str>(&[]);
    c2.args(["exec", "-i", "-e", "POCKET_ATTACK=tty_attack", &id]);
    c2.args([
        "/tmp/attack",
        "--exact",
        "tty_attack",
        "--ignored",
        "--nocapture",
    ]);
    let (code, out, queued) = under_a_terminal(c2);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("devtty: No such device or address"), "{out}");
    // Not even a terminal to try it on: exec relays pipes (see
    // exec_never_hands_the_callers_terminal_to_the_container).
    for fd in 0..3 {
        assert!(
            out.contains(&format!("tiocsti fd {fd}: Not a tty")),
            "{out}"
        );
    }
    assert!(queued.is_empty(), "keys typed by exec: {queued:?}");

    // exec -d and run -d: their output goes to the log; the attack's
    // report is read from there (exec -d's from a file inside).
    let mut c = r.cmd::<&str>(&[]);
    c.args([
        "exec",
        "-d",
        "-e",
        "POCKET_ATTACK=tty_attack",
        &id,
        "sh",
        "-c",
        "/tmp/attack --exact tty_attack --ignored --nocapture >/tmp/report 2>&1",
    ]);
    let (code, out, queued) = under_a_terminal(c);
    assert_eq!(code, 0, "{out}");
    let report = PathBuf::from(format!("/proc/{pid}/root/tmp/report"));
    let rep = wait_for(10, "exec -d's report", || {
        let s = std::fs::read_to_string(&report).ok()?;
        s.contains("tiocsti fd 2").then_some(s)
    });
    assert!(rep.contains("devtty: No such device or address"), "{rep}");
    assert!(queued.is_empty(), "keys typed by exec -d: {queued:?}");

    let mut c = r.cmd::<&str>(&[]);
    c.args(["run", "-d", "--name", "ttyd", "--rootfs", &rootfs])
        .args(attack(&me(), "tty_attack"));
    let (code, out, queued) = under_a_terminal(c);
    assert_eq!(code, 0, "{out}");
    assert_eq!(stdout(&r.out(&["wait", "ttyd"])), "0\n");
    let log = stdout(&r.out(&["logs", "ttyd"]));
    assert!(log.contains("devtty: No such device or address"), "{log}");
    assert!(queued.is_empty(), "keys typed by run -d: {queued:?}");
}

// ---------------------------------------------------------------------
// 2. The working directory (runc CVE-2024-21626).

#[test]
fn workdir_cannot_lead_out_of_the_root() {
    if !root() {
        return;
    }
    let r = Root::new("seccwd");
    let host = r.0.join("hostdir");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("HOST-CANARY"), "host").unwrap();
    let rootfs = private_rootfs(&r);

    // Control: the same path on the host lists the canary.
    let mut c = Command::new("sh");
    c.args(["-c", "cd /proc/self/fd/7 && ls"]);
    with_host_dir_on_fd7(&mut c, &host);
    let o = c.output().unwrap();
    assert!(stdout(&o).contains("HOST-CANARY"), "control: {o:?}");

    // run -w /proc/self/fd/7 with fd 7 a host directory.
    let mut c = r.cmd(&[
        "run",
        "--rm",
        "-w",
        "/proc/self/fd/7",
        "--rootfs",
        &rootfs,
        "ls",
    ]);
    with_host_dir_on_fd7(&mut c, &host);
    let o = c.output().unwrap();
    assert!(!stdout(&o).contains("HOST-CANARY"), "run -w escaped: {o:?}");
    assert_ne!(o.status.code(), Some(0), "{o:?}");
    eprintln!("run -w /proc/self/fd/7: {}", stderr(&o).trim());

    // exec -w /proc/self/fd/7.
    let o = r.out(&[
        "run", "-d", "-w", "/work", "--rootfs", &rootfs, "sleep", "60",
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let id = stdout(&o).trim().to_string();
    let mut c = r.cmd(&["exec", "-w", "/proc/self/fd/7", &id, "ls"]);
    with_host_dir_on_fd7(&mut c, &host);
    let o = c.output().unwrap();
    assert!(
        !stdout(&o).contains("HOST-CANARY"),
        "exec -w escaped: {o:?}"
    );
    assert_ne!(o.status.code(), Some(0), "{o:?}");
    eprintln!("exec -w /proc/self/fd/7: {}", stderr(&o).trim());

    // The container sets the trap for later execs: its workdir replaced by
    // a symlink to a magic link (a leaked fd, its own cwd, its root).
    for target in ["/proc/self/fd/7", "/proc/self/cwd", "/proc/1/root/.."] {
        let o = r.out(&[
            "exec",
            "-w",
            "/",
            &id,
            "sh",
            "-c",
            &format!("rm -rf /work && ln -s {target} /work"),
        ]);
        assert_eq!(o.status.code(), Some(0), "{o:?}");
        let mut c = r.cmd(&["exec", &id, "sh", "-c", "pwd; ls"]);
        with_host_dir_on_fd7(&mut c, &host);
        let o = c.output().unwrap();
        assert!(
            !stdout(&o).contains("HOST-CANARY") && !stdout(&o).contains("hostdir"),
            "exec through a planted {target}: {o:?}"
        );
        eprintln!("workdir -> {target}: {}", stderr(&o).trim());
    }
    // A symlink that stays inside is followed, inside: /work -> /etc (an
    // absolute target is the container's /etc, not the host's).
    r.out(&[
        "exec",
        "-w",
        "/",
        &id,
        "sh",
        "-c",
        "rm -f /work && ln -s /etc /work",
    ]);
    let o = r.out(&["exec", &id, "sh", "-c", "pwd -P; ls hostname"]);
    assert_eq!(stdout(&o), "/etc\nhostname\n", "{o:?}");
    let o = r.out(&["exec", "-w", "/tmp", &id, "pwd"]);
    assert_eq!(stdout(&o), "/tmp\n");
}

// ---------------------------------------------------------------------
// 3. The session keyring.

/// Inside: the keyring attack (common::attacks::keyring_attack).
#[test]
#[ignore]
fn keyring_attack() {
    attacks::keyring_attack();
}

#[test]
fn the_callers_session_keyring_stays_behind() {
    if !root() {
        return;
    }
    let r = Root::new("seckey");
    let rootfs = private_rootfs(&r);
    // Control: on the host the attack reads the key.
    let mut c = helper_cmd(&me(), "keyring_attack");
    with_a_secret_key(&mut c);
    let o = c.output().unwrap();
    assert!(stdout(&o).contains("found: s3cr3t"), "control: {o:?}");

    let mut c = r.cmd(&["run", "--rm", "--rootfs", &rootfs]);
    c.args(attack(&me(), "keyring_attack"));
    with_a_secret_key(&mut c);
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(!stdout(&o).contains("s3cr3t"), "run read the key: {o:?}");
    assert!(stdout(&o).contains("search: "), "{o:?}");
    eprintln!(
        "run: {}",
        stdout(&o)
            .lines()
            .find(|l| l.starts_with("search"))
            .unwrap_or("")
    );

    // A container started from that session, and an exec from it.
    let mut c = r.cmd(&["run", "-d", "--rootfs", &rootfs]);
    c.args(attack(&me(), "keyring_attack")[..4].iter())
        .args(["sleep", "60"]);
    with_a_secret_key(&mut c);
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let id = stdout(&o).trim().to_string();
    let mut c = r.cmd(&["exec", &id]);
    c.args(attack(&me(), "keyring_attack")[4..].iter());
    with_a_secret_key(&mut c);
    let o = c.output().unwrap();
    assert!(!stdout(&o).contains("s3cr3t"), "exec read the key: {o:?}");
    assert!(stdout(&o).contains("search: "), "{o:?}");
}

// ---------------------------------------------------------------------
// 4. The host's pocket binary through /proc/PID/exe (CVE-2019-5736).

/// Inside: the /proc/PID/exe attack (common::attacks::exe_attack).
#[test]
#[ignore]
fn exe_attack() {
    attacks::exe_attack();
}

/// The attack, with pocket at `path` (which `old` also names) and its
/// state under `state`, on a container with CAP_SYS_PTRACE, where `exec`
/// enters sealed (the dmz is not for it, spawn/dmz.rs; for the others see
/// `exec_through_the_dmz_never_runs_pocket_inside`); returns what the
/// attacker reported and the device of the file the container's monitor
/// runs from. With `upgrade`, another
/// inode is put at `path` after the container started (the monitor runs
/// the old one). With `unlinked`, the admin's trapped exec runs pocket
/// through a name that is gone by then (another link to `path`'s inode,
/// opened and removed): no directory holds it to make a view of.
fn exe_attack_on(
    r: &Root,
    path: &Path,
    old: &Path,
    state: &Path,
    upgrade: bool,
    unlinked: bool,
) -> (String, u64) {
    // Whatever fails below, the container goes with its state root.
    struct Cleanup<'a>(&'a Path);
    impl Drop for Cleanup<'_> {
        fn drop(&mut self) {
            remove_all(self.0);
        }
    }
    let _cleanup = Cleanup(state);
    // A private rootfs: the container plants its trap in it.
    let rootfs = PathBuf::from(private_rootfs(r));
    plant_trap(&rootfs);
    // pocket at a path of its own; the container starts from one inode...
    copy_exe(bin(), path);
    std::fs::hard_link(path, old).unwrap();
    let run = |args: &[&str]| {
        output_fresh(
            Command::new(path)
                // The suite's settings (no default bridge), also when the
                // test runs outside scripts/test.sh.
                .env("POCKET_CONFIG", settings())
                .arg("--root")
                .arg(state)
                .args(args)
                .stdin(Stdio::null()),
        )
        .unwrap()
    };
    let o = run(&[
        "run",
        "-d",
        "--cap-add",
        "SYS_PTRACE",
        "--rootfs",
        rootfs.to_str().unwrap(),
        "sleep",
        "60",
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let id = stdout(&o).trim().to_string();
    let init = stdout(&run(&["inspect", "-f", "{{.State.Pid}}", &id]));
    let monitor_dev = exe_dev(mem::ppid(init.trim().parse().unwrap()));
    // ...then an upgrade puts another inode at the path, and `exec` (the
    // new binary) enters the container, which no running process keeps busy.
    if upgrade {
        let new = path.with_extension("new");
        copy_exe(bin(), &new);
        std::fs::rename(&new, path).unwrap();
    }
    let before = (std::fs::read(path).unwrap(), std::fs::read(old).unwrap());

    let o = exe_attack_exec(&id, false, |a| run(a));
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    // The admin's exec of what the container made `trap`: pocket itself,
    // inside the container, kept waiting on stdin (`load`).
    let link = path.with_extension("link");
    let _held = unlinked.then(|| {
        std::fs::hard_link(path, &link).unwrap();
        let f = std::fs::File::open(&link).unwrap();
        std::fs::remove_file(&link).unwrap();
        f
    });
    let by = match &_held {
        Some(f) => PathBuf::from(format!("/proc/self/fd/{}", f.as_raw_fd())),
        None => path.to_path_buf(),
    };
    let trapped = Command::new(&by)
        .env("POCKET_CONFIG", settings())
        .arg("--root")
        .arg(state)
        .args(["exec", "-i", &id, "trap", "load"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rep = exe_attack_report(trapped, &rootfs);
    assert!(
        !rep.contains("write: ok"),
        "wrote through /proc/PID/exe: {rep}"
    );
    let after = (std::fs::read(path).unwrap(), std::fs::read(old).unwrap());
    assert!(after == before, "the host's pocket binary changed");
    let _ = run(&["rm", "-f", &id]);
    (rep, monitor_dev)
}

/// pocket in a directory of its own, as installed: `exec` re-executes
/// from a read-only overlayfs view of that directory, and the write
/// through /proc/PID/exe meets EROFS.
#[test]
fn the_host_binary_cannot_be_written_through_exec() {
    if !root() {
        return;
    }
    let r = Root::new("secexe");
    let bindir = r.0.join("bin");
    std::fs::create_dir(&bindir).unwrap();
    // The state root inside the binary's directory, as with pocket in /
    // (an initramfs): the view's second layer must not be a directory
    // there (overlayfs refuses layers that overlap).
    let state = bindir.join("state");
    let (rep, monitor) = exe_attack_on(
        &r,
        &bindir.join("pocket"),
        &r.0.join("pocket-old"),
        &state,
        true,
        false,
    );
    assert!(
        rep.contains("grabbed: /pocket\n"),
        "the process inside did not run from the overlay view: {rep}"
    );
    assert!(
        rep.contains("open for writing: Read-only file system (os error 30)"),
        "not refused by the read-only view: {rep}"
    );
    // Not the monitor's view: that is of the binary before the upgrade.
    assert!(rep.contains("dev: "), "{rep}");
    assert!(
        !rep.contains(&format!("dev: {monitor}\n")),
        "exec ran the old binary: {rep}"
    );
}

/// `exec` with the binary the container's monitor runs: it re-executes
/// from the monitor's read-only view (makes none of its own), and the
/// write through /proc/PID/exe meets EROFS there too.
#[test]
fn the_host_binary_cannot_be_written_through_exec_from_the_monitors_view() {
    if !root() {
        return;
    }
    let r = Root::new("secexe3");
    let bindir = r.0.join("bin");
    std::fs::create_dir(&bindir).unwrap();
    let (rep, monitor) = exe_attack_on(
        &r,
        &bindir.join("pocket"),
        &r.0.join("pocket-old"),
        &r.0,
        false,
        false,
    );
    assert!(
        rep.contains(&format!("grabbed: /pocket\ndev: {monitor}\n")),
        "the process inside did not run from the monitor's view: {rep}"
    );
    assert!(
        rep.contains("open for writing: Read-only file system (os error 30)"),
        "not refused by the read-only view: {rep}"
    );
}

/// Container `.1` of state root `.0`, removed when the test ends, passed
/// or not.
struct Gone<'a>(&'a Root, String);

impl Drop for Gone<'_> {
    fn drop(&mut self) {
        let _ = self.0.out(&["rm", "-f", &self.1]);
    }
}

/// A container without CAP_SYS_PTRACE of a private rootfs with the trap
/// and the attacker (`plant_trap`), running `sleep 60`.
fn trapped_container(r: &Root) -> (PathBuf, Gone<'_>) {
    let rootfs = PathBuf::from(private_rootfs(r));
    plant_trap(&rootfs);
    let o = r.out(&[
        "run",
        "-d",
        "--rootfs",
        rootfs.to_str().unwrap(),
        "sleep",
        "60",
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    (rootfs, Gone(r, stdout(&o).trim().to_string()))
}

/// The admin's `exec -i ID trap load`, its stdin held open (pocket run
/// inside would wait on it): must end, 127, printing nothing.
fn trapped_exec(r: &Root, id: &str) {
    let mut c = r
        .cmd(&["exec", "-i", id, "trap", "load"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = c.stdin.take();
    let st = wait_for(10, "the trapped exec to end", || c.try_wait().unwrap());
    drop(stdin);
    let o = c.wait_with_output().unwrap();
    assert_eq!(st.code(), Some(127), "{o:?}");
    assert_eq!(stdout(&o), "", "{o:?}");
}

/// A container without CAP_SYS_PTRACE (docker's default): `exec` stays
/// the host's binary and starts the command through the dmz, a program
/// in a sealed memfd (spawn/dmz.rs). The container's trap (its command a
/// link to /proc/self/exe) then names the dmz, run again as the command:
/// it exits 127 at once, and pocket never runs inside (where pocket runs
/// sealed, the trap runs it there: `pocket load`, waiting on its stdin).
/// The exec'ing process stays the host's binary meanwhile (it did not
/// re-execute).
#[test]
fn exec_through_the_dmz_never_runs_pocket_inside() {
    if !root() {
        return;
    }
    let r = Root::new("secdmz");
    let before = std::fs::read(bin()).unwrap();
    let (_, gone) = trapped_container(&r);
    let id = gone.1.clone();
    trapped_exec(&r, &id);
    // While a command runs, the exec'ing pocket is the host's binary.
    let host = std::fs::metadata(bin()).unwrap();
    assert_eq!(
        exec_exe(&r, &id),
        (host.dev(), host.ino()),
        "pocket re-executed"
    );
    assert!(
        std::fs::read(bin()).unwrap() == before,
        "the host binary changed"
    );
}

/// The attacker on the dmz route: while the admin's trapped execs come
/// and go (20 of them), a process inside tries to open /proc/PID/exe of
/// every process that shows `load` in its command line (pocket's child,
/// not dumpable; the dmz, which makes itself not dumpable at once; the
/// dmz run again by the trap) and to write through what it holds: what
/// it can hold is the sealed dmz at most, and no write goes through.
#[test]
fn the_host_binary_cannot_be_written_through_the_dmz() {
    if !root() {
        return;
    }
    let r = Root::new("secdmz2");
    let before = std::fs::read(bin()).unwrap();
    let (rootfs, gone) = trapped_container(&r);
    let o = exe_attack_exec_for(&gone.1, true, 3, |a| r.out(a));
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    for _ in 0..20 {
        trapped_exec(&r, &gone.1);
    }
    let (report, _) = exe_report_paths(&rootfs);
    let done = PathBuf::from(format!("{}.done", report.display()));
    wait_for(20, "the attack to end", || done.exists().then_some(()));
    let rep = std::fs::read_to_string(&report).unwrap();
    eprintln!("attack from inside:\n{rep}");
    assert!(
        !rep.contains("write: ok"),
        "wrote through /proc/PID/exe: {rep}"
    );
    for l in rep.lines().filter(|l| l.starts_with("grabbed: ")) {
        assert!(
            l == "grabbed: nothing" || l.starts_with("grabbed: /memfd:pocket-dmz"),
            "held {l}: {rep}"
        );
    }
    assert!(
        std::fs::read(bin()).unwrap() == before,
        "the host binary changed"
    );
}

/// A container whose pid namespace another joined (`--pid container:X`):
/// the other's processes see pocket's child in exec into either, and might
/// hold CAP_SYS_PTRACE; so exec into both enters sealed, not through the
/// dmz (spawn/dmz.rs), while exec into a third, alone, does not.
#[test]
fn exec_enters_sealed_where_the_pid_namespace_is_shared() {
    if !root() {
        return;
    }
    let r = Root::new("secdmz3");
    let host = std::fs::metadata(bin()).unwrap().dev();
    let x = r.run_d(&["sleep", "60"]);
    let _gx = Gone(&r, x.clone());
    let y = r.run_d(&["--pid", &format!("container:{x}"), "sleep", "60"]);
    let _gy = Gone(&r, y.clone());
    let alone = r.run_d(&["sleep", "60"]);
    let _ga = Gone(&r, alone.clone());
    assert_ne!(exec_device(&r, &x), host, "exec into the owner");
    assert_ne!(exec_device(&r, &y), host, "exec into the joiner");
    // Control: alone, exec stays the host's binary (through the dmz).
    assert_eq!(exec_device(&r, &alone), host, "exec into a container alone");
}

/// The device of the file process `pid` runs from.
fn exe_dev(pid: i32) -> u64 {
    std::fs::metadata(format!("/proc/{pid}/exe")).unwrap().dev()
}

/// The device of the file `pocket exec ID sleep 5` runs from while its
/// command runs (the host binary's through the dmz; else a sealed view's
/// or copy's).
fn exec_device(r: &Root, id: &str) -> u64 {
    exec_exe(r, id).0
}

/// The device and inode of that file.
fn exec_exe(r: &Root, id: &str) -> (u64, u64) {
    exec_exe_of(r.cmd(&["exec", id, "sleep", "5"]).spawn().unwrap())
}

/// `exec` borrows a monitor's view only from the process the record
/// names, by pid and start time: a process that merely holds the number
/// (here: the record's start time made wrong, as after the monitor died
/// and its pid went to another) is not trusted, and exec makes its own.
#[test]
fn exec_borrows_only_the_live_monitor_the_record_names() {
    if !root() {
        return;
    }
    let r = Root::new("secexe4");
    // CAP_SYS_PTRACE: exec enters sealed (not through the dmz).
    let id = r.run_d(&["--cap-add", "SYS_PTRACE", "sleep", "60"]);
    let monitor_dev = exe_dev(mem::ppid(r.pid(&id)));
    assert_eq!(exec_device(&r, &id), monitor_dev, "not the monitor's view");
    let rec = ["run/containers", "containers"]
        .iter()
        .map(|d| r.0.join(d).join(&id).join("state.json"))
        .find(|p| p.exists())
        .unwrap();
    let json = std::fs::read_to_string(&rec).unwrap();
    let k = "\"monitor_start\": ";
    let at = json.find(k).unwrap() + k.len();
    let end = at + json[at..].find(|c: char| !c.is_ascii_digit()).unwrap();
    let start: u64 = json[at..end].parse().unwrap();
    std::fs::write(
        &rec,
        format!("{}{}{}", &json[..at], start + 1, &json[end..]),
    )
    .unwrap();
    assert_ne!(
        exec_device(&r, &id),
        monitor_dev,
        "borrowed from a pid alone"
    );
    let _ = r.out(&["rm", "-f", &id]);
}

/// pocket run through a name removed since (no directory to make a view
/// of; as with a kernel without overlayfs): `exec` re-executes from a
/// sealed memfd copy, and the write meets the seal (EPERM). pocket also
/// sits inside its own state root, whose layers would overlap.
#[test]
fn the_host_binary_cannot_be_written_through_exec_from_a_copy() {
    if !root() {
        return;
    }
    let r = Root::new("secexe2");
    let (rep, _) = exe_attack_on(
        &r,
        &r.0.join("pocket"),
        &r.0.join("pocket-old"),
        &r.0,
        true,
        true,
    );
    assert!(
        rep.contains("grabbed: /memfd:pocket"),
        "the process inside was not the sealed copy: {rep}"
    );
    assert!(
        rep.contains("(os error 1)"),
        "not refused by the seal: {rep}"
    );
}

// ---------------------------------------------------------------------
// 5. setuid files a container makes, and the host's other users.

/// Inside (or on the host): print the effective uid this program got
/// (common::attacks::euid_helper).
#[test]
#[ignore]
fn euid_helper() {
    attacks::euid_helper();
}

/// docker's answer to setuid files planted by a container is its store's
/// permissions: only root can enter it. pocket's store is 0700 too
/// (narrowed if it was wider), so a setuid-root file a container made in
/// its upper dir or in a named volume cannot be run by other host users.
#[test]
fn setuid_files_from_a_container_are_out_of_other_users_reach() {
    if !root() {
        return;
    }
    let r = Root::new("secsuid");
    // A store whose directories someone made world-enterable.
    for d in ["containers", "volumes", "images"] {
        std::fs::create_dir_all(r.0.join(d)).unwrap();
        std::fs::set_permissions(
            r.0.join(d),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
    }
    std::fs::set_permissions(&r.0, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut c = r.cmd(&["import", "-", "bb:suid"]);
    let tar = Command::new("tar")
        .args(["-C", &rootfs_str(), "-c", "."])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let o = c.stdin(tar.stdout.unwrap()).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let o = r.out(&[
        "run",
        "-d",
        "-v",
        "vol:/vol",
        "-v",
        &format!("{}:/payload:ro", me().display()),
        "bb:suid",
        "sleep",
        "60",
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let id = stdout(&o).trim().to_string();
    // The container, as root, makes setuid-root copies of a program.
    let o = r.out(&[
        "exec",
        &id,
        "sh",
        "-c",
        "cp /payload /suid && chmod 4755 /suid && cp /payload /vol/suid && chmod 4755 /vol/suid",
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let upper = r.0.join(format!("containers/{id}/upper/suid"));
    let vol = r.0.join("volumes/vol/_data/suid");
    for p in [&upper, &vol] {
        let m = std::fs::metadata(p).unwrap();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o4000,
            0o4000
        );
    }
    // Control: that file, where nobody can reach it, does run as root.
    let open = r.0.join("reachable");
    std::fs::create_dir_all(&open).unwrap();
    std::fs::set_permissions(&open, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let copy = open.join("suid");
    copy_exe(&upper, &copy);
    std::fs::set_permissions(&copy, std::os::unix::fs::PermissionsExt::from_mode(0o4755)).unwrap();
    let o = as_nobody(&copy);
    assert!(stdout(&o).contains("euid 0"), "control: {o:?}");
    // In the store: out of reach.
    for d in ["containers", "volumes", "images"] {
        let m = std::fs::metadata(r.0.join(d)).unwrap();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o777,
            0o700,
            "{d} not narrowed"
        );
    }
    for p in [&upper, &vol] {
        let o = as_nobody(p);
        assert!(
            !stdout(&o).contains("euid 0"),
            "{} ran as root: {o:?}",
            p.display()
        );
        assert!(stderr(&o).contains("Permission denied"), "{o:?}");
        eprintln!("nobody running {}: {}", p.display(), stderr(&o).trim());
    }
}

/// What a container can reach of pocket through /proc/PID/exe, when its
/// init (a clone of pocket) execs a link to /proc/self/exe: the sealed
/// view or copy `run` and `start` re-execute from, never the binary's own
/// inode. (With that inode a write waits only for ETXTBSY to end: a monitor
/// or foreground pocket killed first leaves a window.) The monitor runs
/// sealed too.
#[test]
fn the_init_and_monitor_never_run_the_binary_file_itself() {
    if !root() {
        return;
    }
    let r = Root::new("secinit");
    let rootfs = PathBuf::from(private_rootfs(&r));
    std::os::unix::fs::symlink("/proc/self/exe", rootfs.join("bin/trap")).unwrap();
    let dev_ino = |p: &str| {
        let m = std::fs::metadata(p).unwrap();
        use std::os::unix::fs::MetadataExt;
        (m.dev(), m.ino())
    };
    let binary = dev_ino(bin().to_str().unwrap());
    // `pocket events` inside: pocket itself, waiting for events.
    let o = r.out(&[
        "run",
        "-d",
        "--rootfs",
        rootfs.to_str().unwrap(),
        "trap",
        "events",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let id = stdout(&o).trim().to_string();
    let check = |what: &str| {
        let pid = r.pid(&id);
        let trapped = dev_ino(&format!("/proc/{pid}/exe"));
        assert_ne!(
            trapped, binary,
            "{what}: the container runs the binary's inode"
        );
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let ppid: i32 = status
            .lines()
            .find_map(|l| l.strip_prefix("PPid:"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let monitor = dev_ino(&format!("/proc/{ppid}/exe"));
        assert_ne!(
            monitor, binary,
            "{what}: the monitor runs the binary's inode"
        );
        // And the view is no way in: as root, on the host, no write.
        let w = std::fs::OpenOptions::new()
            .write(true)
            .open(format!("/proc/{pid}/exe"));
        assert!(w.is_err(), "{what}: /proc/PID/exe opened for writing");
    };
    check("run -d");
    let o = r.out(&["stop", "-t", "0", &id]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = r.out(&["start", &id]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    check("start");
    let o = r.out(&["rm", "-f", &id]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// A foreground `run` whose command is a link to /proc/self/exe: its init
/// (a clone of the host's pocket, not re-executed sealed: spawn/dmz.rs
/// `fits_run`) starts the command through the dmz, so the link names the
/// dmz's sealed memfd, which exits 127 when run so; pocket never runs in
/// the container. Where the dmz is not for the container (one that may
/// hold CAP_SYS_PTRACE), pocket runs sealed, and the link names that
/// view or copy, never the binary's inode.
#[test]
fn a_foreground_init_never_runs_the_binary_file_itself() {
    if !root() {
        return;
    }
    let r = Root::new("secfg");
    let rootfs = PathBuf::from(private_rootfs(&r));
    let _ = std::fs::remove_file(rootfs.join("bin/trap"));
    std::os::unix::fs::symlink("/proc/self/exe", rootfs.join("bin/trap")).unwrap();
    let rootfs = rootfs.to_str().unwrap();
    // Through the dmz: `pocket version` would print and exit 0. (Where
    // the host does not let the dmz's route be safe, the run is sealed:
    // the half below.)
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let host_fits = cfg!(target_arch = "x86_64")
        && read("/proc/sys/kernel/yama/ptrace_scope").trim() != "3"
        && matches!(read("/proc/sys/fs/suid_dumpable").trim(), "0" | "2")
        && read("/proc/sys/vm/memfd_noexec").trim() != "2";
    if host_fits {
        let o = r.out(&["run", "--rm", "--rootfs", rootfs, "trap", "version"]);
        assert_eq!(o.status.code(), Some(127), "{o:?}");
        assert_eq!(stdout(&o), "", "pocket ran in the container: {o:?}");
        // (pocket's own "not found" would be 127 too, said on stderr.)
        assert_eq!(stderr(&o), "", "{o:?}");
    } else {
        eprintln!(
            "SKIP the dmz's half: Yama ptrace_scope 3, suid_dumpable 1, memfd_noexec 2 or not x86_64"
        );
    }
    // Sealed: pocket runs inside, from the view or copy.
    let dev_ino = |p: &str| {
        let m = std::fs::metadata(p).unwrap();
        (m.dev(), m.ino())
    };
    let binary = dev_ino(bin().to_str().unwrap());
    let args = [
        "run",
        "--rm",
        "--cap-add",
        "SYS_PTRACE",
        "--rootfs",
        rootfs,
        "trap",
        "events",
    ];
    let child = r.cmd(&args).stdout(Stdio::null()).spawn().unwrap();
    let init = container_pid(&child);
    let comm = || std::fs::read_to_string(format!("/proc/{init}/comm")).unwrap_or_default();
    wait_for(10, "the trapped command", || {
        (comm().trim() == "trap").then_some(())
    });
    let trapped = dev_ino(&format!("/proc/{init}/exe"));
    unsafe { libc::kill(init, libc::SIGKILL) };
    let o = child.wait_with_output().unwrap();
    assert_ne!(
        trapped, binary,
        "the container runs the binary's inode: {o:?}"
    );
}

// ---------------------------------------------------------------------
// 6. What exec hands the command as stdio.

/// `exec` opens the command's /dev/null and pty master itself; were it by
/// the container's paths, a container could point them at a file of its
/// choosing (or /proc/kallsyms, a device node) and have host root open it
/// for its next exec, a health check's too.
#[test]
fn exec_stdio_is_never_opened_through_the_containers_dev() {
    if !root() {
        return;
    }
    let r = Root::new("secnull");
    let rootfs = private_rootfs(&r);
    let o = r.out(&[
        "run", "-d", "--net", "none", "--rootfs", &rootfs, "sleep", "60",
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let id = stdout(&o).trim().to_string();
    let sh = |cmd: &str| r.out(&["exec", &id, "sh", "-c", cmd]);
    // The trap: its /dev/null and /dev/ptmx lead to a file it wrote.
    let o = sh("echo LEAK > /leak && rm -f /dev/null /dev/ptmx && \
                ln -s /leak /dev/null && ln -s /leak /dev/ptmx");
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    // Control: inside, the planted names do lead to the file.
    let o = sh("cat < /dev/null");
    assert_eq!(stdout(&o), "LEAK\n", "control: {o:?}");

    // exec without -i: stdin is the host's /dev/null.
    let o = r.out(&["exec", &id, "cat"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(stdout(&o), "", "exec's stdin was the container's /dev/null");
    let o = r.out(&[
        "exec",
        &id,
        "stat",
        "-L",
        "-c",
        "%F %t:%T",
        "/proc/self/fd/0",
    ]);
    assert_eq!(stdout(&o), "character special file 1:3\n", "{o:?}");
    // exec -d: all three.
    let o = r.out(&[
        "exec",
        "-d",
        &id,
        "sh",
        "-c",
        "cat > /got; echo done >> /got",
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let mut got = String::new();
    for _ in 0..200 {
        got = stdout(&sh("cat /got 2>/dev/null || true"));
        if got.contains("done") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(
        got, "done\n",
        "exec -d's stdin was the container's /dev/null"
    );
    // exec -t: a pty of the container's devpts, not the planted /dev/ptmx.
    let o = r.out(&[
        "exec",
        "-t",
        &id,
        "sh",
        "-c",
        "tty; stat -L -c %t /proc/self/fd/0",
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let out = stdout(&o).replace('\r', "");
    assert!(
        out.starts_with("/dev/pts/") && out.ends_with("\n88\n"),
        "{out:?}"
    );
    // A container that may unmount its devpts (--privileged) and put a
    // symlink, then a file, in its place: refused, nothing opened.
    let o = r.out(&[
        "run",
        "-d",
        "--privileged",
        "--net",
        "none",
        "--rootfs",
        &rootfs,
        "sleep",
        "60",
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let p = stdout(&o).trim().to_string();
    for plant in ["ln -s /leak /dev/pts/ptmx", "cp /leak /dev/pts/ptmx"] {
        let o = r.out(&[
            "exec",
            &p,
            "sh",
            "-c",
            &format!(
                "echo LEAK > /leak; umount -l /dev/pts 2>/dev/null; rm -f /dev/pts/ptmx; {plant}"
            ),
        ]);
        assert_eq!(o.status.code(), Some(0), "{plant}: {o:?}");
        let o = r.out(&["exec", "-t", &p, "cat"]);
        assert_ne!(o.status.code(), Some(0), "{plant}: {o:?}");
        assert!(!stdout(&o).contains("LEAK"), "{plant}: {o:?}");
        eprintln!("exec -t over {plant}: {}", stderr(&o).trim());
    }
    let o = r.out(&["rm", "-f", &p]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = r.out(&["rm", "-f", &id]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// `exec` without -t from a terminal: the command gets pipes, relayed,
/// never the caller's terminal, which a process it left running in the
/// container could read typed keys from long after (docker's exec gives
/// it the daemon's pipes).
#[test]
fn exec_never_hands_the_callers_terminal_to_the_container() {
    use std::io::{Read, Write};
    use std::os::fd::FromRawFd;
    if !root() {
        return;
    }
    let r = Root::new("sectty");
    let rootfs = private_rootfs(&r);
    let o = r.out(&[
        "run", "-d", "--net", "none", "--rootfs", &rootfs, "sleep", "60",
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let id = stdout(&o).trim().to_string();
    let (mut m, mut s) = (0, 0);
    // SAFETY: out-pointers to two ints; no name, termios or size.
    let rc = unsafe {
        libc::openpty(
            &mut m,
            &mut s,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0);
    // SAFETY: fresh fds of our own.
    let (mut master, slave) =
        unsafe { (std::fs::File::from_raw_fd(m), std::fs::File::from_raw_fd(s)) };
    let script = "for i in 0 1 2; do readlink /proc/self/fd/$i; done; read x; echo got=$x";
    let mut c = r.cmd(&["exec", "-i", &id, "sh", "-c", script]);
    c.stdin(slave.try_clone().unwrap())
        .stdout(slave.try_clone().unwrap())
        .stderr(slave);
    let mut child = c.spawn().unwrap();
    drop(c);
    master.write_all(b"hello\n").unwrap();
    let st = child.wait().unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    // Until EIO: every slave fd is closed once pocket has exited.
    while let Ok(n) = master.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    let out = String::from_utf8_lossy(&out).replace('\r', "");
    assert_eq!(st.code(), Some(0), "{out}");
    assert_eq!(out.matches("pipe:[").count(), 3, "{out}");
    assert!(
        !out.contains("/dev/pts"),
        "the container got the terminal: {out}"
    );
    assert!(out.contains("got=hello"), "{out}");
    let o = r.out(&["rm", "-f", &id]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

// ---------------------------------------------------------------------
// 7. chroot(2) again from inside (pivot_root, and --no-pivot's MS_MOVE +
// chroot, pocket's way in an initramfs where pivot_root is refused).

/// Inside: the classic chroot escape. A new chroot below, the working
/// directory left above it, `..` as far as it goes, chroot there: then
/// is POCKET_MARKER (a host path) in sight?
#[test]
#[ignore]
fn chroot_attack() {
    if !helper_is("chroot_attack") {
        return;
    }
    let marker = std::env::var("POCKET_MARKER").unwrap();
    let below = std::env::var("POCKET_CHROOT_DIR").unwrap_or_else(|_| "/chroot-x".into());
    let _ = std::fs::create_dir_all(&below);
    std::os::unix::fs::chroot(&below).expect("chroot below");
    for _ in 0..64 {
        std::env::set_current_dir("..").expect("cd ..");
    }
    std::os::unix::fs::chroot(".").expect("chroot .");
    let seen = std::path::Path::new(&marker).exists();
    println!(
        "chroot escape: the host's marker {}",
        if seen { "VISIBLE" } else { "hidden" }
    );
}

/// The container's root keeps it in, whichever way it was entered: the
/// mounts it sits on lead back to it (`..` at a mount's root that is
/// mounted on its parent's root goes up no further), pivot_root or not.
#[test]
fn chroot_again_leads_nowhere() {
    if !root() {
        return;
    }
    let r = Root::new("secchroot");
    let rootfs = private_rootfs(&r);
    // On the host, outside the container's root; gone with `r`.
    let marker = r.0.join("marker").to_str().unwrap().to_string();
    std::fs::write(&marker, "host").unwrap();
    // Control: where the marker can be reached, the helper says so.
    let mut c = helper_cmd(&me(), "chroot_attack");
    c.env("POCKET_MARKER", &marker)
        .env("POCKET_CHROOT_DIR", r.0.join("x"));
    let o = c.output().unwrap();
    assert!(stdout(&o).contains("marker VISIBLE"), "control: {o:?}");
    for pivot in [&[][..], &["--no-pivot"][..]] {
        let mut args: Vec<String> = ["run", "--rm", "--net", "none"].map(String::from).to_vec();
        args.extend(pivot.iter().map(|s| s.to_string()));
        args.extend(["-e".into(), format!("POCKET_MARKER={marker}")]);
        args.extend(["--rootfs".into(), rootfs.clone()]);
        args.extend(attack(&me(), "chroot_attack"));
        let o = r.out(&args);
        assert_eq!(o.status.code(), Some(0), "{pivot:?}: {o:?}");
        assert!(stdout(&o).contains("marker hidden"), "{pivot:?}: {o:?}");
        eprintln!(
            "{pivot:?}: {}",
            stdout(&o).lines().find(|l| l.contains("marker")).unwrap()
        );
    }
}
