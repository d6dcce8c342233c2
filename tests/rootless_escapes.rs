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
use common::user::User;
use common::*;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// One test at a time: each makes a user (useradd locks /etc/passwd) and
/// copies programs it then runs (a fork of another test thread would make
/// them ETXTBSY).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

fn me() -> PathBuf {
    std::env::current_exe().unwrap()
}

fn errno_name() -> String {
    std::io::Error::last_os_error().to_string()
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

/// `-v <attacker>:/attack:ro -e POCKET_ATTACK=helper` (the first four) and
/// the command that runs `helper`.
fn attack(u: &User, helper: &str) -> Vec<String> {
    vec![
        "-v".into(),
        format!("{}:/attack:ro", attacker(u).display()),
        "-e".into(),
        format!("POCKET_ATTACK={helper}"),
        "/attack".into(),
        "--exact".into(),
        helper.into(),
        "--ignored".into(),
        "--nocapture".into(),
        "--test-threads".into(),
        "1".into(),
    ]
}

/// The attacker run on the host as the user: the control.
fn on_host(u: &User, helper: &str) -> Command {
    let mut c = Command::new(attacker(u));
    c.args(["--exact", helper, "--ignored", "--nocapture"])
        .env_clear()
        .env("POCKET_ATTACK", helper)
        .current_dir(&u.home)
        .uid(u.uid)
        .gid(u.gid);
    c
}

fn helper_is(name: &str) -> bool {
    std::env::var("POCKET_ATTACK").as_deref() == Ok(name)
}

// ---------------------------------------------------------------------
// 1. The user's terminal (TIOCSTI).

const INJECT: &[u8] = b"id >/tmp/PWNED\n";

/// Inside: open /dev/tty, then push a command line into the terminal's
/// input queue with TIOCSTI through it and through fds 0-2.
#[test]
#[ignore]
fn tty_attack() {
    if !helper_is("tty_attack") {
        return;
    }
    let tty = unsafe { libc::open(c"/dev/tty".as_ptr(), libc::O_RDWR) };
    let mut fds = vec![0, 1, 2];
    if tty >= 0 {
        println!("devtty: opened");
        fds.insert(0, tty);
    } else {
        println!("devtty: {}", errno_name());
    }
    for fd in fds {
        let mut res = String::from("ok");
        for c in INJECT {
            if unsafe { libc::ioctl(fd, libc::TIOCSTI, c as *const u8) } != 0 {
                res = errno_name();
                break;
            }
        }
        println!("tiocsti fd {fd}: {res}");
    }
}

/// Spawn `cmd` (already set to run as the user) as the session leader of
/// a new session whose controlling terminal is a fresh pty, with the pty
/// on 0, 1 and 2; returns its exit code, its output and whatever was left
/// in the terminal's input queue (injected keys).
fn under_a_terminal(mut cmd: Command) -> (i32, String, Vec<u8>) {
    let (master, slave) = pty();
    let s = slave.as_raw_fd();
    cmd.stdin(slave.try_clone().unwrap())
        .stdout(slave.try_clone().unwrap())
        .stderr(slave.try_clone().unwrap());
    // (pre_exec runs after the uid change: the user's own session.)
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().unwrap();
    drop(cmd);
    let mfd = master.try_clone().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let mut m = mfd;
        let mut b = [0u8; 4096];
        loop {
            match m.read(&mut b) {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&b[..n]),
            }
        }
        out
    });
    let code = child.wait().unwrap().code().unwrap_or(-1);
    unsafe {
        let fl = libc::fcntl(s, libc::F_GETFL);
        libc::fcntl(s, libc::F_SETFL, fl | libc::O_NONBLOCK);
    }
    let mut queued = Vec::new();
    let mut b = [0u8; 256];
    loop {
        let n = unsafe { libc::read(s, b.as_mut_ptr().cast(), b.len()) };
        if n <= 0 {
            break;
        }
        queued.extend_from_slice(&b[..n as usize]);
    }
    drop(slave);
    drop(master);
    let out = reader.join().unwrap();
    (code, String::from_utf8_lossy(&out).into_owned(), queued)
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
    if !queued.windows(INJECT.len()).any(|w| w == INJECT) {
        let legacy = std::fs::read_to_string("/proc/sys/dev/tty/legacy_tiocsti")
            .unwrap_or_else(|_| "absent".into());
        features::skip(
            "TIOCSTI control",
            &format!(
                "the kernel refuses TIOCSTI even on the host (legacy_tiocsti {}): {out}",
                legacy.trim()
            ),
        );
    }

    let mut c = u.cmd(&["run", "--rm", "-i", "--rootfs", &rf]);
    c.args(attack(&u, "tty_attack"));
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
    c.args(&attack(&u, "tty_attack")[..2]).args(["sleep", "60"]);
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let mut c = u.cmd(&["exec", "-i", "-e", "POCKET_ATTACK=tty_attack", "tt"]);
    c.args(&attack(&u, "tty_attack")[4..]);
    let (code, out, queued) = under_a_terminal(c);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("devtty: No such device or address"), "{out}");
    assert!(
        out.contains("tiocsti fd 0: Operation not permitted"),
        "{out}"
    );
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
    c.args(attack(&u, "tty_attack"));
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

/// `dir` opened as fd 7 of `c`: what a leaked fd of the caller's would
/// give /proc/self/fd/7.
fn with_host_dir_on_fd7(c: &mut Command, dir: &Path) {
    let d = std::fs::File::open(dir).unwrap();
    let raw = d.as_raw_fd();
    unsafe {
        c.pre_exec(move || {
            if libc::dup2(raw, 7) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    // Kept open until the command is spawned (the closure copies the
    // number only); one fd per call, as in escapes.rs.
    std::mem::forget(d);
}

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

/// Inside: look for the user's key in the session keyring and read it.
#[test]
#[ignore]
fn keyring_attack() {
    if !helper_is("keyring_attack") {
        return;
    }
    const KEYCTL_SEARCH: libc::c_long = 10;
    const KEYCTL_READ: libc::c_long = 11;
    const KEY_SPEC_SESSION_KEYRING: libc::c_long = -3;
    let id = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_SEARCH,
            KEY_SPEC_SESSION_KEYRING,
            c"user".as_ptr(),
            c"pkdemo".as_ptr(),
            0,
        )
    };
    if id < 0 {
        println!("search: {}", errno_name());
        return;
    }
    let mut b = [0u8; 64];
    let n = unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_READ, id, b.as_mut_ptr(), b.len()) };
    if n < 0 {
        println!("read: {}", errno_name());
    } else {
        println!("found: {}", String::from_utf8_lossy(&b[..n as usize]));
    }
}

/// Run `c` (as the user: pre_exec runs after the uid change) in a new
/// session keyring of the user's holding `pkdemo` = s3cr3t. The keyring
/// goes with the last process that holds it.
fn with_a_secret_key(c: &mut Command) {
    unsafe {
        c.pre_exec(|| {
            const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
            const KEY_SPEC_SESSION_KEYRING: libc::c_long = -3;
            if libc::syscall(libc::SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            let k = libc::syscall(
                libc::SYS_add_key,
                c"user".as_ptr(),
                c"pkdemo".as_ptr(),
                b"s3cr3t".as_ptr(),
                6,
                KEY_SPEC_SESSION_KEYRING,
            );
            if k < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
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
    c.args(attack(&u, "keyring_attack"));
    with_a_secret_key(&mut c);
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(!stdout(&o).contains("s3cr3t"), "run read the key: {o:?}");
    assert!(stdout(&o).contains("search: "), "{o:?}");
    eprintln!("run: {}", stdout(&o).trim());

    let mut c = u.cmd(&["run", "-d", "--rootfs", &rf]);
    c.args(&attack(&u, "keyring_attack")[..4])
        .args(["sleep", "60"]);
    with_a_secret_key(&mut c);
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let id = stdout(&o).trim().to_string();
    let mut c = u.cmd(&["exec", &id]);
    c.args(&attack(&u, "keyring_attack")[4..]);
    with_a_secret_key(&mut c);
    let o = c.output().unwrap();
    assert!(!stdout(&o).contains("s3cr3t"), "exec read the key: {o:?}");
    assert!(stdout(&o).contains("search: "), "{o:?}");
    u.ok(&["rm", "-f", &id]);
}

// ---------------------------------------------------------------------
// 4. The user's pocket binary through /proc/PID/exe (CVE-2019-5736).

/// Inside: wait for a process running `load` (pocket, made to run inside
/// the container by the trap) and hold its /proc/PID/exe. POCKET_MODE
/// `after`: wait until it is gone (no more ETXTBSY), then open that file
/// for writing and write. `during`: try to open it for writing all the
/// while it runs (and after, until killed), the report rewritten at each
/// new answer (the container's end kills this process).
#[test]
#[ignore]
fn exe_attack() {
    if !helper_is("exe_attack") {
        return;
    }
    let report = std::env::var("POCKET_REPORT").unwrap();
    let during = std::env::var("POCKET_MODE").as_deref() == Ok("during");
    let mut out = String::new();
    let me = std::process::id().to_string();
    let end = Instant::now() + Duration::from_secs(20);
    let (pid, fd) = 'found: loop {
        if Instant::now() > end {
            std::fs::write(&report, "grabbed: nothing\n").unwrap();
            return;
        }
        for e in std::fs::read_dir("/proc").unwrap().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name == me || !name.bytes().all(|c| c.is_ascii_digit()) {
                continue;
            }
            let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
            if !cmd.split(|&c| c == 0).any(|a| a == b"load") {
                continue;
            }
            let p = std::ffi::CString::new(format!("/proc/{name}/exe")).unwrap();
            let fd = unsafe { libc::open(p.as_ptr(), libc::O_PATH) };
            if fd >= 0 {
                let link = std::fs::read_link(format!("/proc/self/fd/{fd}"))
                    .map(|l| l.display().to_string())
                    .unwrap_or_default();
                out.push_str(&format!("grabbed: {link}\n"));
                break 'found (name, fd);
            }
            out.push_str(&format!("open exe of {name}: {}\n", errno_name()));
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let p = std::ffi::CString::new(format!("/proc/self/fd/{fd}")).unwrap();
    let try_write = |out: &mut String| -> bool {
        let w = unsafe { libc::open(p.as_ptr(), libc::O_WRONLY) };
        if w < 0 {
            let e = format!("open for writing: {}\n", errno_name());
            if !out.contains(&e) {
                out.push_str(&e);
            }
            return false;
        }
        let n = unsafe { libc::write(w, b"PWNED".as_ptr().cast(), 5) };
        if n < 0 {
            out.push_str(&format!("write: {}\n", errno_name()));
        } else {
            out.push_str("write: ok\n");
        }
        true
    };
    if during {
        std::fs::write(&report, &out).unwrap();
        std::fs::write(format!("{report}.ready"), &out).unwrap();
        while Instant::now() < end {
            let len = out.len();
            if try_write(&mut out) {
                std::fs::write(&report, &out).unwrap();
                return;
            }
            if out.len() != len {
                std::fs::write(&report, &out).unwrap();
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        return;
    }
    std::fs::write(format!("{report}.ready"), &out).unwrap();
    while Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(5));
    }
    try_write(&mut out);
    std::fs::write(&report, out).unwrap();
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
    // The trap: the container's `trap` is the exec'ing process's own binary.
    std::os::unix::fs::symlink("/proc/self/exe", u.rootfs.join("bin/trap")).unwrap();
    copy_exe(me(), u.rootfs.join("attack"));
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
    let id = u.ok(&["run", "-d", "--rootfs", u.rootfs(), "sleep", "60"]);
    let id = id.trim().to_string();
    // The upgrade: a new inode at the path, the user's too.
    let new = path.with_extension("new");
    copy_exe(bin(), &new);
    std::os::unix::fs::chown(&new, Some(u.uid), Some(u.gid)).unwrap();
    std::fs::rename(&new, &path).unwrap();
    let before = both(&path, &old);

    let report = "/tmp/exe-report";
    u.ok(&[
        "exec",
        "-d",
        "-e",
        "POCKET_ATTACK=exe_attack",
        "-e",
        &format!("POCKET_REPORT={report}"),
        &id,
        "/attack",
        "--exact",
        "exe_attack",
        "--ignored",
    ]);
    let mut trapped = u
        .cmd(&["exec", "-i", &id, "trap", "load"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let host_report = u.rootfs.join(report.trim_start_matches('/'));
    let ready = PathBuf::from(format!("{}.ready", host_report.display()));
    wait_for(20, "the attack to hold the trapped exe", || {
        std::fs::read_to_string(&ready)
            .ok()
            .or_else(|| std::fs::read_to_string(&host_report).ok())
    });
    drop(trapped.stdin.take());
    let _ = trapped.wait();
    let rep = wait_for(20, "the attack's report", || {
        std::fs::read_to_string(&host_report).ok()
    });
    eprintln!("attack from inside:\n{rep}");
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
    let report = "/tmp/exe-report";
    wait_for(10, "the trapped init to run", || {
        let o = u.out(&[
            "exec",
            "-d",
            "-e",
            "POCKET_ATTACK=exe_attack",
            "-e",
            "POCKET_MODE=during",
            "-e",
            &format!("POCKET_REPORT={report}"),
            "trapped",
            "/attack",
            "--exact",
            "exe_attack",
            "--ignored",
        ]);
        (o.status.code() == Some(0)).then_some(())
    });
    let host_report = u.rootfs.join(report.trim_start_matches('/'));
    let ready = PathBuf::from(format!("{}.ready", host_report.display()));
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

/// Print the effective uid this program got.
#[test]
#[ignore]
fn euid_helper() {
    if !helper_is("euid_helper") {
        return;
    }
    println!("euid {}", unsafe { libc::geteuid() });
}

/// Run `path` as the host user nobody.
fn as_nobody(path: &Path) -> std::process::Output {
    let mut c = Command::new(path);
    c.args(["--exact", "euid_helper", "--ignored", "--nocapture"])
        .env("POCKET_ATTACK", "euid_helper")
        .uid(65534)
        .gid(65534);
    output_fresh(&mut c).unwrap_or_else(|e| std::process::Output {
        status: std::os::unix::process::ExitStatusExt::from_raw(126 << 8),
        stdout: vec![],
        stderr: e.to_string().into_bytes(),
    })
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
    let tar = u.home.join("busybox.tar");
    std::fs::copy(test_images().join("busybox-docker.tar"), &tar).unwrap();
    std::fs::set_permissions(&tar, std::fs::Permissions::from_mode(0o644)).unwrap();
    u.ok(&["load", "-i", tar.to_str().unwrap()]);
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
