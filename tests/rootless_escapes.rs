//! The escapes of tests/escapes.rs (issue 11), repeated as rootless
//! (issue 16): a real unprivileged user (common::user) runs pocket, the
//! container gets a user namespace mapping root to that user, no cgroup,
//! no network. Each attack runs from inside and fails, and the host is
//! checked for what it would have changed.
//!
//! The stake differs from root's: here root in the container IS the user
//! on the host. Whatever the user may write, the container's root may
//! write too once it reaches it: the user's own pocket binary (owned by
//! the user, so only pocket's sealing and ETXTBSY stand between it and a
//! rewrite), the user's files, the user's terminal and session keyring,
//! the user's other processes.
//!
//! Not repeated, because they do not apply to a plain user's container:
//! * host devices (the devices cgroup, `mknod`): there is no cgroup, and
//!   the user namespace refuses `mknod` of a device outright (tried in
//!   tests/rootless.rs);
//! * a bridge's 127/8 (CVE-2020-8558): a plain user gets no bridge;
//! * the read-only overlayfs view of pocket's directory (escapes.rs'
//!   `the_host_binary_cannot_be_written_through_exec`): a plain user may
//!   not mount overlayfs on the host, so `exec` always takes the sealed
//!   memfd copy; the test below checks that is what runs inside;
//! * setuid files in a `--rootfs` or `-v HOST:` directory: they are the
//!   user's own directories, as with root (README, Security).
//!
//! The attacking code is this test binary (static), copied where the user
//! can read it and started with one of the `#[ignore]`d helpers, chosen by
//! POCKET_ATTACK. Each attack also runs once on the host as the user, as a
//! control that succeeds.

mod common;
use common::attacks::{self, *};
use common::user::User;
use common::*;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// One test at a time: each makes a user (useradd locks /etc/passwd) and
/// copies programs it then runs (a fork of another test thread would make
/// them ETXTBSY).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// This test binary in the user's home (the build tree may be out of its
/// reach), as the user's: `<home>/attack`.
fn attacker(u: &User) -> PathBuf {
    let p = u.home.join("attack");
    if !p.exists() {
        copy_exe(me(), &p);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::os::unix::fs::chown(&p, Some(u.uid), Some(u.gid)).unwrap();
    }
    p
}

/// The attacker run on the host as the user: the control.
fn on_host(u: &User, helper: &str) -> Command {
    let mut c = helper_cmd(&attacker(u), helper);
    // Nothing of root's environment: only the helper's name.
    c.env_clear()
        .env("POCKET_ATTACK", helper)
        .current_dir(&u.home)
        .uid(u.uid)
        .gid(u.gid);
    c
}

// ---------------------------------------------------------------------
// 1. The user's terminal (TIOCSTI).

/// Inside: the TIOCSTI attack (common::attacks::tty_attack).
#[test]
#[ignore]
fn tty_attack() {
    attacks::tty_attack();
}

/// True if the attack's report shows a key typed.
fn tiocsti_worked(report: &str) -> bool {
    report
        .lines()
        .any(|l| l.starts_with("tiocsti") && l.ends_with(": ok"))
}

/// The user's shell is the terminal's reader: a key typed into it runs as
/// the user, outside the container. `run -i`, `exec -i`, `exec -d` and
/// `run -d` from the user's terminal: no /dev/tty, TIOCSTI refused,
/// nothing queued.
#[test]
fn rootless_no_keys_typed_into_the_users_terminal() {
    if !root() {
        return;
    }
    let _one = one();
    let u = User::new("xt", false);
    let rf = u.rootfs().to_string();
    // Control: on the host, as the user, the line is typed.
    let (_, out, queued) = under_a_terminal(on_host(&u, "tty_attack"));
    tty_control(&out, &queued);

    let mut c = u.cmd(&["run", "--rm", "-i", "--rootfs", &rf]);
    c.args(attack(&attacker(&u), "tty_attack"));
    let (code, out, queued) = under_a_terminal(c);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("devtty: No such device or address"),
        "the container opened the user's terminal: {out}"
    );
    for fd in 0..3 {
        assert!(
            out.contains(&format!("tiocsti fd {fd}: Operation not permitted")),
            "TIOCSTI through fd {fd}: {out}"
        );
    }
    assert!(queued.is_empty(), "run typed: {queued:?}");

    let mut c = u.cmd(&["run", "-d", "--name", "tt", "--rootfs", &rf]);
    c.args(&attack(&attacker(&u), "tty_attack")[..2])
        .args(["sleep", "60"]);
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let mut c = u.cmd(&["exec", "-i", "-e", "POCKET_ATTACK=tty_attack", "tt"]);
    c.args(&attack(&attacker(&u), "tty_attack")[4..]);
    let (code, out, queued) = under_a_terminal(c);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("devtty: No such device or address"), "{out}");
    // No terminal at all to try it on: exec relays pipes.
    for fd in 0..3 {
        assert!(
            out.contains(&format!("tiocsti fd {fd}: Not a tty")),
            "{out}"
        );
    }
    assert!(queued.is_empty(), "exec typed: {queued:?}");

    // exec -d: the report goes to a file of the rootfs (the user's).
    let report = u.rootfs.join("tmp/report");
    let mut c = u.cmd(&["exec", "-d", "-e", "POCKET_ATTACK=tty_attack", "tt"]);
    c.args([
        "sh",
        "-c",
        "/attack --exact tty_attack --ignored --nocapture >/tmp/report 2>&1",
    ]);
    let (code, out, queued) = under_a_terminal(c);
    assert_eq!(code, 0, "{out}");
    let rep = wait_for(10, "exec -d's report", || {
        let s = std::fs::read_to_string(&report).ok()?;
        s.contains("tiocsti fd 2").then_some(s)
    });
    assert!(rep.contains("devtty: No such device or address"), "{rep}");
    assert!(!tiocsti_worked(&rep), "{rep}");
    assert!(queued.is_empty(), "exec -d typed: {queued:?}");
    u.ok(&["rm", "-f", "tt"]);

    let mut c = u.cmd(&["run", "-d", "--name", "td", "--rootfs", &rf]);
    c.args(attack(&attacker(&u), "tty_attack"));
    let (code, out, queued) = under_a_terminal(c);
    assert_eq!(code, 0, "{out}");
    assert_eq!(u.ok(&["wait", "td"]), "0\n");
    let log = u.ok(&["logs", "td"]);
    assert!(log.contains("devtty: No such device or address"), "{log}");
    assert!(!tiocsti_worked(&log), "{log}");
    assert!(queued.is_empty(), "run -d typed: {queued:?}");
    assert!(!Path::new("/tmp/PWNED").exists());
}

// ---------------------------------------------------------------------
// 2. The working directory (runc CVE-2024-21626) and leaked fds.

/// The user's own directory with a canary, out of the container's root.
fn users_dir(u: &User) -> PathBuf {
    let host = u.home.join("hostdir");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("HOST-CANARY"), "host").unwrap();
    std::os::unix::fs::chown(&host, Some(u.uid), Some(u.gid)).unwrap();
    host
}

#[test]
fn rootless_workdir_cannot_lead_out_of_the_root() {
    if !root() {
        return;
    }
    let _one = one();
    let u = User::new("xw", false);
    let rf = u.rootfs().to_string();
    let host = users_dir(&u);

    // Control: as the user on the host, the path lists the canary.
    let mut c = Command::new("sh");
    c.args(["-c", "cd /proc/self/fd/7 && ls"])
        .uid(u.uid)
        .gid(u.gid);
    with_host_dir_on_fd7(&mut c, &host);
    let o = c.output().unwrap();
    assert!(stdout(&o).contains("HOST-CANARY"), "control: {o:?}");

    let mut c = u.cmd(&[
        "run",
        "--rm",
        "-w",
        "/proc/self/fd/7",
        "--rootfs",
        &rf,
        "ls",
    ]);
    with_host_dir_on_fd7(&mut c, &host);
    let o = c.output().unwrap();
    assert!(!stdout(&o).contains("HOST-CANARY"), "run -w escaped: {o:?}");
    assert_ne!(o.status.code(), Some(0), "{o:?}");
    eprintln!("run -w /proc/self/fd/7: {}", stderr(&o).trim());

    let id = u.ok(&["run", "-d", "-w", "/work", "--rootfs", &rf, "sleep", "60"]);
    let id = id.trim();
    let mut c = u.cmd(&["exec", "-w", "/proc/self/fd/7", id, "ls"]);
    with_host_dir_on_fd7(&mut c, &host);
    let o = c.output().unwrap();
    assert!(
        !stdout(&o).contains("HOST-CANARY"),
        "exec -w escaped: {o:?}"
    );
    assert_ne!(o.status.code(), Some(0), "{o:?}");
    eprintln!("exec -w /proc/self/fd/7: {}", stderr(&o).trim());

    // The container's traps for the user's next exec.
    for target in ["/proc/self/fd/7", "/proc/self/cwd", "/proc/1/root/.."] {
        u.ok(&[
            "exec",
            "-w",
            "/",
            id,
            "sh",
            "-c",
            &format!("rm -rf /work && ln -s {target} /work"),
        ]);
        let mut c = u.cmd(&["exec", id, "sh", "-c", "pwd; ls"]);
        with_host_dir_on_fd7(&mut c, &host);
        let o = c.output().unwrap();
        assert!(
            !stdout(&o).contains("HOST-CANARY") && !stdout(&o).contains("hostdir"),
            "exec through a planted {target}: {o:?}"
        );
        eprintln!("workdir -> {target}: {}", stderr(&o).trim());
    }
    // A link that stays inside is followed, inside.
    u.ok(&[
        "exec",
        "-w",
        "/",
        id,
        "sh",
        "-c",
        "rm -f /work && ln -s /etc /work",
    ]);
    assert_eq!(
        u.ok(&["exec", id, "sh", "-c", "pwd -P; ls hostname"]),
        "/etc\nhostname\n"
    );
    u.ok(&["rm", "-f", id]);
    assert_eq!(
        std::fs::read_dir(&host).unwrap().count(),
        1,
        "the user's directory changed"
    );
}

/// The fds open in a process inside, but for the one `ls` reads with.
fn fds_inside(listing: &str) -> Vec<String> {
    listing
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.trim().to_string())
        .collect()
}

/// CVE-2016-9962's class: the user's fds (a directory of its home on 7,
/// /dev/null on 5) reach neither the init, nor an exec'd process, nor
/// what they start.
#[test]
fn rootless_no_fd_of_the_user_reaches_the_container() {
    if !root() {
        return;
    }
    let _one = one();
    let u = User::new("xf", false);
    let rf = u.rootfs().to_string();
    let host = users_dir(&u);
    // The shell's own fds (ls a child of it): its 0-2 only.
    let list = "ls /proc/$$/fd; true";
    let mut c = u.cmd(&["run", "--rm", "--rootfs", &rf, "sh", "-c", list]);
    with_stray_fd(&mut c);
    with_host_dir_on_fd7(&mut c, &host);
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(fds_inside(&stdout(&o)), ["0", "1", "2"], "run: {o:?}");

    let mut c = u.cmd(&["run", "-d", "--rootfs", &rf, "sleep", "60"]);
    with_stray_fd(&mut c);
    with_host_dir_on_fd7(&mut c, &host);
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let id = stdout(&o).trim().to_string();
    let mut c = u.cmd(&[
        "exec",
        &id,
        "sh",
        "-c",
        &format!("{list}; echo; ls /proc/1/fd"),
    ]);
    with_stray_fd(&mut c);
    with_host_dir_on_fd7(&mut c, &host);
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let out = stdout(&o);
    let (exec, init) = out.split_once("\n\n").unwrap();
    assert_eq!(fds_inside(exec), ["0", "1", "2"], "exec: {out}");
    assert_eq!(fds_inside(init), ["0", "1", "2"], "init of run -d: {out}");
    u.ok(&["rm", "-f", &id]);
}

// ---------------------------------------------------------------------
// 3. The user's session keyring.

/// Inside: the keyring attack (common::attacks::keyring_attack).
#[test]
#[ignore]
fn keyring_attack() {
    attacks::keyring_attack();
}

#[test]
fn rootless_the_users_session_keyring_stays_behind() {
    if !root() {
        return;
    }
    let _one = one();
    let u = User::new("xk", false);
    let rf = u.rootfs().to_string();
    let mut c = on_host(&u, "keyring_attack");
    with_a_secret_key(&mut c);
    let o = c.output().unwrap();
    assert!(stdout(&o).contains("found: s3cr3t"), "control: {o:?}");

    let mut c = u.cmd(&["run", "--rm", "--rootfs", &rf]);
    c.args(attack(&attacker(&u), "keyring_attack"));
    with_a_secret_key(&mut c);
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(!stdout(&o).contains("s3cr3t"), "run read the key: {o:?}");
    assert!(stdout(&o).contains("search: "), "{o:?}");
    eprintln!("run: {}", stdout(&o).trim());

    let mut c = u.cmd(&["run", "-d", "--rootfs", &rf]);
    c.args(&attack(&attacker(&u), "keyring_attack")[..4])
        .args(["sleep", "60"]);
    with_a_secret_key(&mut c);
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let id = stdout(&o).trim().to_string();
    let mut c = u.cmd(&["exec", &id]);
    c.args(&attack(&attacker(&u), "keyring_attack")[4..]);
    with_a_secret_key(&mut c);
    let o = c.output().unwrap();
    assert!(!stdout(&o).contains("s3cr3t"), "exec read the key: {o:?}");
    assert!(stdout(&o).contains("search: "), "{o:?}");
    u.ok(&["rm", "-f", &id]);
}

// ---------------------------------------------------------------------
// 4. The user's pocket binary through /proc/PID/exe (CVE-2019-5736).

/// Inside: the /proc/PID/exe attack (common::attacks::exe_attack; the
/// init test below uses its POCKET_MODE `during`).
#[test]
#[ignore]
fn exe_attack() {
    attacks::exe_attack();
}

/// The user's pocket where an installer puts it for a user: its own
/// `~/bin/pocket`, the user's file (mode 0755), so that the container's
/// root, which is the user, passes the permission check on it; plus the
/// trap and the attacker in the user's rootfs. Returns (bin, old link).
fn users_pocket(u: &mut User) -> (PathBuf, PathBuf) {
    let bindir = u.home.join("bin");
    std::fs::create_dir(&bindir).unwrap();
    let path = bindir.join("pocket");
    copy_exe(bin(), &path);
    let old = u.home.join("pocket-old");
    std::fs::hard_link(&path, &old).unwrap();
    for p in [&bindir, &path] {
        std::os::unix::fs::chown(p, Some(u.uid), Some(u.gid)).unwrap();
    }
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    plant_trap(&u.rootfs);
    std::fs::set_permissions(
        u.rootfs.join("attack"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    u.bin = path.clone();
    // Control: the container's root is the user, and the user may write
    // that file (tried on a copy, with the user's credentials).
    let copy = u.home.join("pocket-control");
    copy_exe(&path, &copy);
    std::os::unix::fs::chown(&copy, Some(u.uid), Some(u.gid)).unwrap();
    let o = Command::new("sh")
        .args([
            "-c",
            "printf PWNED | dd of=\"$0\" conv=notrunc 2>/dev/null && echo wrote",
        ])
        .arg(&copy)
        .uid(u.uid)
        .gid(u.gid)
        .output()
        .unwrap();
    assert_eq!(stdout(&o), "wrote\n", "control: {o:?}");
    std::fs::remove_file(&copy).unwrap();
    (path, old)
}

fn both(path: &Path, old: &Path) -> (Vec<u8>, Vec<u8>) {
    (std::fs::read(path).unwrap(), std::fs::read(old).unwrap())
}

/// escapes.rs' attack on `exec`, by the user: the container runs from one
/// inode of ~/bin/pocket, an upgrade puts another at the path, the
/// container's `trap` makes the exec'd process pocket inside the
/// container; the attacker holds its /proc/PID/exe and writes once it is
/// gone. A plain user cannot mount the overlayfs view, so `exec` runs
/// from the sealed memfd copy, and the write meets the seal (EPERM).
#[test]
fn rootless_the_users_pocket_cannot_be_written_through_exec() {
    if !root() {
        return;
    }
    let _one = one();
    let mut u = User::new("xe", false);
    let (path, old) = users_pocket(&mut u);
    // CAP_SYS_PTRACE: exec enters sealed, not through the dmz (for that
    // route see escapes.rs' exec_through_the_dmz_never_runs_pocket_inside).
    let id = u.ok(&[
        "run",
        "-d",
        "--cap-add",
        "SYS_PTRACE",
        "--rootfs",
        u.rootfs(),
        "sleep",
        "60",
    ]);
    let id = id.trim().to_string();
    // The upgrade: a new inode at the path, the user's too.
    let new = path.with_extension("new");
    copy_exe(bin(), &new);
    std::os::unix::fs::chown(&new, Some(u.uid), Some(u.gid)).unwrap();
    std::fs::rename(&new, &path).unwrap();
    let before = both(&path, &old);

    exe_attack_exec(&id, false, |a| u.ok(a));
    let trapped = u
        .cmd(&["exec", "-i", &id, "trap", "load"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rep = exe_attack_report(trapped, &u.rootfs);
    assert!(!rep.contains("write: ok"), "wrote the user's pocket: {rep}");
    assert!(
        rep.contains("grabbed: /memfd:pocket"),
        "the process inside was not the sealed copy: {rep}"
    );
    assert!(
        rep.contains("write: Operation not permitted (os error 1)"),
        "not refused by the seal: {rep}"
    );
    assert!(both(&path, &old) == before, "the user's pocket changed");
    u.ok(&["rm", "-f", &id]);
    assert!(both(&path, &old) == before, "the user's pocket changed");
}

/// The same trap as the container's own command: the init's execve of
/// `trap` runs pocket as the container's pid 1, dumpable, in reach of the
/// container's root, which spins on writing it. `run` re-executes from a
/// sealed copy first (a plain user may mount no overlayfs view), so what
/// it holds is that copy, and the foreground pocket is SIGKILLed while it
/// tries: with the init cloned from the on-disk binary (before), the
/// window between the init's exit and the pid namespace's SIGKILL to the
/// rest let it rewrite the user's pocket in 2 runs of 10.
#[test]
fn rootless_the_users_pocket_cannot_be_written_through_the_init() {
    if !root() {
        return;
    }
    let _one = one();
    let mut u = User::new("xi", false);
    let (path, old) = users_pocket(&mut u);
    let before = both(&path, &old);
    let mut trapped = u
        .cmd(&[
            "run",
            "-i",
            "--name",
            "trapped",
            "--rootfs",
            u.rootfs(),
            "trap",
            "load",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(10, "the trapped init to run", || {
        let o = exe_attack_exec("trapped", true, |a| u.out(a));
        (o.status.code() == Some(0)).then_some(())
    });
    let (host_report, ready) = exe_report_paths(&u.rootfs);
    let grabbed = wait_for(20, "the attack to hold the trapped exe", || {
        std::fs::read_to_string(&ready).ok()
    });
    // Let it try for a while, then kill the container's parent first.
    std::thread::sleep(Duration::from_millis(300));
    trapped.kill().unwrap();
    let o = trapped.wait_with_output().unwrap();
    let rep = std::fs::read_to_string(&host_report).unwrap();
    eprintln!("attack from inside:\n{rep}");
    eprintln!("trapped: {}", stderr(&o).trim());
    assert!(!rep.contains("write: ok"), "wrote the user's pocket: {rep}");
    assert!(
        grabbed.contains("grabbed: /memfd:pocket"),
        "the init did not run the sealed copy: {grabbed}"
    );
    // Busy while the copy runs, sealed after: either way, and whatever it
    // is, not the user's file.
    assert!(
        rep.contains("Text file busy (os error 26)")
            || rep.contains("Operation not permitted (os error 1)"),
        "not refused: {rep}"
    );
    assert!(both(&path, &old) == before, "the user's pocket changed");
    let _ = u.out(&["rm", "-f", "trapped"]);
}

// ---------------------------------------------------------------------
// 5. Symlink traps in the user's rootfs.

/// The container's root owns its --rootfs (the user's directory) and
/// plants links to the user's own files and directories, out of the root,
/// where the next run mounts: /etc/hosts, /etc/hostname and
/// /etc/resolv.conf (bind-mounted while it runs, so it builds a new /etc
/// and renames it over), a volume's target, then /etc itself. The next
/// runs resolve each in the root or refuse: nothing of the user's is
/// written, nothing made there. (/proc and /dev cannot be replaced from
/// inside: they are mount points while the container runs.)
#[test]
fn rootless_links_planted_in_the_rootfs_stay_inside() {
    if !root() {
        return;
    }
    let _one = one();
    let u = User::new("xs", false);
    let rf = u.rootfs().to_string();
    let out_dir = u.home.join("outside");
    std::fs::create_dir(&out_dir).unwrap();
    let canary = u.home.join("canary");
    std::fs::write(&canary, "canary\n").unwrap();
    for p in [&out_dir, &canary] {
        std::os::unix::fs::chown(p, Some(u.uid), Some(u.gid)).unwrap();
    }
    let vol = u.home.join("vol");
    std::fs::create_dir(&vol).unwrap();
    std::os::unix::fs::chown(&vol, Some(u.uid), Some(u.gid)).unwrap();
    let (o, c) = (out_dir.display(), canary.display());
    // What the next runs try: each tag printed only if its write worked.
    let script = "for f in /etc/hosts /etc/hostname /etc/resolv.conf; do \
                    echo PWNED >> $f 2>/dev/null && echo WROTE $f; done; \
                  echo PWNED > /mnt/made 2>/dev/null && echo WROTE /mnt/made; \
                  echo PWNED > /data/sub/made 2>/dev/null && echo WROTE /data/sub/made; true";
    let v = format!("{}:/data/sub", vol.display());
    let names = |d: &Path| -> Vec<std::ffi::OsString> {
        std::fs::read_dir(d)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect()
    };
    let next = |plant: &str| {
        // The absolute targets are the host's paths: what a runtime
        // following links from the host would reach.
        u.ok(&["run", "--rm", "--rootfs", &rf, "sh", "-c", plant]);
        for args in [
            vec!["-v", v.as_str()],
            vec!["-v", "nv:/mnt/x"],
            vec!["--hostname", "h"],
        ] {
            let mut a = vec!["run", "--rm"];
            a.extend(&args);
            a.extend(["--rootfs", &rf, "sh", "-c", script]);
            let o = u.out(&a);
            let (out, err) = (stdout(&o), stderr(&o));
            eprintln!(
                "{args:?}: {:?} {} {}",
                o.status.code(),
                out.trim(),
                err.trim()
            );
            // pocket's own /etc files may be written; the user's canary not.
            assert!(!out.contains("WROTE /mnt/made"), "{out}");
            assert_eq!(std::fs::read_to_string(&canary).unwrap(), "canary\n");
            assert!(
                names(&out_dir).is_empty(),
                "{args:?}: {:?}",
                names(&out_dir)
            );
        }
    };
    // A volume's target and its parent: links out.
    next(&format!(
        "set -e; rm -rf /data /mnt; ln -s {o} /data; ln -s {o} /mnt"
    ));
    // The files pocket binds in /etc.
    next(&format!(
        "set -e; mkdir /e2; cp -a /etc/passwd /etc/group /e2/; \
         for f in hosts hostname resolv.conf; do ln -s {c} /e2/$f; done; \
         mv /etc /etc.old; mv /e2 /etc"
    ));
    // The user repairs the rootfs (every run now fails on the trap), and
    // the container makes /etc itself a link out.
    let etc = u.rootfs.join("etc");
    std::fs::remove_dir_all(&etc).unwrap();
    std::fs::rename(u.rootfs.join("etc.old"), &etc).unwrap();
    next(&format!("mv /etc /etc.old && ln -s {o} /etc"));
    assert_eq!(std::fs::read_to_string(&canary).unwrap(), "canary\n");
    assert!(
        names(&out_dir).is_empty(),
        "made in the user's directory: {:?}",
        names(&out_dir)
    );
    // The volume got what was written to it, at its target, inside.
    assert!(names(&vol).iter().all(|n| n == "made"), "{:?}", names(&vol));
}

// ---------------------------------------------------------------------
// 6. setuid files a container makes, and the host's other users.

/// Print the effective uid this program got (common::attacks::euid_helper).
#[test]
#[ignore]
fn euid_helper() {
    attacks::euid_helper();
}

/// Root in a rootless container is the user: a setuid-root file it makes
/// is setuid-*user* on the host, so another host user running it becomes
/// this user. In the user's store (0700, narrowed if wider: an upper dir,
/// a named volume) it is out of their reach.
#[test]
fn rootless_setuid_files_are_out_of_other_users_reach() {
    if !root() {
        return;
    }
    let _one = one();
    let u = User::new("xu", false);
    // A store whose directories someone made world-enterable.
    let state = u.state();
    for d in ["containers", "volumes", "images"] {
        std::fs::create_dir_all(state.join(d)).unwrap();
        std::fs::set_permissions(state.join(d), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o755)).unwrap();
    Command::new("chown")
        .args(["-R", &format!("{}:{}", u.uid, u.gid)])
        .arg(u.home.join(".local"))
        .status()
        .unwrap();
    u.load_busybox();
    let payload = format!("{}:/payload:ro", attacker(&u).display());
    let id = u.ok(&[
        "run", "-d", "-v", "vol:/vol", "-v", &payload, "busybox", "sleep", "60",
    ]);
    let id = id.trim().to_string();
    u.ok(&[
        "exec",
        &id,
        "sh",
        "-c",
        "cp /payload /suid && chmod 4755 /suid && cp /payload /vol/suid && chmod 4755 /vol/suid",
    ]);
    let upper = state.join(format!("containers/{id}/upper/suid"));
    let vol = state.join("volumes/vol/_data/suid");
    for p in [&upper, &vol] {
        let m = std::fs::metadata(p).unwrap();
        assert_eq!(m.permissions().mode() & 0o4000, 0o4000, "{}", p.display());
        assert_eq!(std::os::unix::fs::MetadataExt::uid(&m), u.uid);
    }
    // Control: that file, where nobody can reach it, runs as the user.
    let open = u.home.join("reachable");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).unwrap();
    let copy = open.join("suid");
    copy_exe(&upper, &copy);
    std::os::unix::fs::chown(&copy, Some(u.uid), Some(u.gid)).unwrap();
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o4755)).unwrap();
    let o = as_nobody(&copy);
    assert!(
        stdout(&o).contains(&format!("euid {}", u.uid)),
        "control: {o:?}"
    );
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    for d in ["containers", "volumes", "images"] {
        assert_eq!(mode(&state.join(d)), 0o700, "{d} not narrowed");
    }
    for p in [&upper, &vol] {
        let o = as_nobody(p);
        assert!(
            !stdout(&o).contains("euid"),
            "{} ran as the user: {o:?}",
            p.display()
        );
        assert!(stderr(&o).contains("Permission denied"), "{o:?}");
    }
    u.ok(&["rm", "-f", &id]);
}

// ---------------------------------------------------------------------
// 7. The user's other processes (the same uid on the host).

/// Root in the container and the user's own processes are the same host
/// uid: only the pid namespace keeps the container from them. `kill -9
/// -1` and a kill of the host pid from inside leave the user's process
/// alive.
#[test]
fn rootless_the_users_other_processes_are_out_of_reach() {
    if !root() {
        return;
    }
    let _one = one();
    let u = User::new("xp", false);
    let mut sleeper = Command::new("sleep")
        .arg("60")
        .uid(u.uid)
        .gid(u.gid)
        .spawn()
        .unwrap();
    let pid = sleeper.id();
    let out = u.ok(&[
        "run",
        "--rm",
        "--rootfs",
        u.rootfs(),
        "sh",
        "-c",
        &format!(
            "kill -9 -1 2>/dev/null; kill -9 {pid} 2>/dev/null && echo KILLED; \
             ls /proc/{pid} >/dev/null 2>&1 && echo SEEN; echo done"
        ),
    ]);
    assert!(out.ends_with("done\n"), "{out}");
    assert!(
        !out.contains("SEEN") && !out.contains("KILLED"),
        "the user's process: {out}"
    );
    assert!(
        sleeper.try_wait().unwrap().is_none(),
        "the user's process was killed from inside"
    );
    let _ = sleeper.kill();
    let _ = sleeper.wait();
}
