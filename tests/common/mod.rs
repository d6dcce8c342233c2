//! Shared helpers for the integration tests: the binary, a busybox rootfs,
//! the root check, and leak counters (mounts, container processes).
#![allow(dead_code)]

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub fn bin() -> PathBuf {
    match std::env::var_os("POCKET_BIN") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_BIN_EXE_pocket")),
    }
}

/// True if the test may run; false (printed as SKIPPED) only when the
/// user opted out with POCKET_SKIP_ROOT_TESTS=1. A non-root run without
/// that opt-out fails: a skipped test must never look like a passed one.
pub fn root() -> bool {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    if std::env::var_os("POCKET_SKIP_ROOT_TESTS").is_some() {
        eprintln!("SKIPPED: needs root (POCKET_SKIP_ROOT_TESTS is set)");
        return false;
    }
    panic!(
        "integration tests need root (real namespaces); set POCKET_SKIP_ROOT_TESTS=1 to skip them"
    );
}

/// The busybox test rootfs, built once by scripts/mkrootfs.sh.
pub fn rootfs() -> &'static Path {
    static R: OnceLock<PathBuf> = OnceLock::new();
    R.get_or_init(|| {
        let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let dir = std::env::var_os("POCKET_TEST_ROOTFS")
            .map(PathBuf::from)
            .unwrap_or_else(|| manifest.join("target/rootfs"));
        if !dir.join("bin/busybox").exists() {
            // Build next to it and rename, so a half-built tree is never used.
            let tmp = dir.with_extension(format!("tmp{}", std::process::id()));
            let st = Command::new(manifest.join("scripts/mkrootfs.sh"))
                .arg(&tmp)
                .status()
                .expect("mkrootfs.sh");
            assert!(st.success(), "scripts/mkrootfs.sh failed");
            if std::fs::rename(&tmp, &dir).is_err() {
                let _ = std::fs::remove_dir_all(&tmp);
            }
        }
        dir
    })
}

/// The test images (docker-archive, OCI layouts, a rootfs tarball),
/// built once by scripts/mkimages.sh into target/images.
pub fn test_images() -> &'static Path {
    static I: OnceLock<PathBuf> = OnceLock::new();
    I.get_or_init(|| {
        rootfs();
        let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let dir = manifest.join("target/images");
        let st = Command::new(manifest.join("scripts/mkimages.sh"))
            .arg(&dir)
            .stdout(Stdio::null())
            .status()
            .expect("mkimages.sh");
        assert!(st.success(), "scripts/mkimages.sh failed");
        dir
    })
}

pub fn rootfs_str() -> String {
    rootfs().to_str().unwrap().to_string()
}

/// `pocket run --rootfs R ARGS...`, stdin from /dev/null, output captured.
pub fn run(args: &[&str]) -> Output {
    pocket(&run_args(args)).output().expect("spawn pocket")
}

pub fn run_args(args: &[&str]) -> Vec<String> {
    // Flags may follow --rootfs: options end at the first positional.
    let mut v = vec!["run".to_string(), "--rootfs".into(), rootfs_str()];
    v.extend(args.iter().map(|s| s.to_string()));
    v
}

/// A state root of this test process's own, removed at exit, so tests
/// never touch /var/lib/pocket and leave nothing behind.
pub fn state_root() -> &'static Path {
    static R: OnceLock<PathBuf> = OnceLock::new();
    R.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("pocket-state-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        extern "C" fn cleanup() {
            if let Some(d) = R.get() {
                // Tests that SIGKILL pocket leave records (and cgroups) for
                // rm to clean, as a user would.
                remove_all(d);
                let _ = std::fs::remove_dir_all(d);
            }
        }
        // SAFETY: registering a plain extern "C" fn.
        unsafe { libc::atexit(cleanup) };
        d
    })
}

/// Settings for every pocket the tests start, unless the caller (test.sh)
/// gave its own: `"bridge": "none"`, so that a container without --net
/// makes no bridge on the host (tests of bridges use namespaces of their
/// own and settings of their own).
pub fn settings() -> PathBuf {
    static S: OnceLock<PathBuf> = OnceLock::new();
    S.get_or_init(|| {
        if let Some(p) = std::env::var_os("POCKET_CONFIG") {
            return PathBuf::from(p);
        }
        // (in the state root: removed with it at exit)
        let p = state_root().join("settings.json");
        std::fs::write(&p, "{\"bridge\": \"none\"}\n").unwrap();
        p
    })
    .clone()
}

/// The labels of the first document of an `inspect` output (container:
/// Config.Labels; volume: Labels), in order; empty for null.
pub fn labels(doc: &str) -> Vec<(String, String)> {
    let v = checks::json(doc).expect("inspect output is JSON");
    let first = &v.arr()[0];
    let l = match first.keys().contains(&"Config") {
        true => first.get("Config").get("Labels"),
        false => first.get("Labels"),
    };
    match l {
        checks::J::Obj(m) => m
            .iter()
            .map(|(k, v)| (k.clone(), v.str().to_string()))
            .collect(),
        _ => Vec::new(),
    }
}

/// `pocket --root <this process's state root> ARGS...`, stdin /dev/null.

pub fn pocket<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Command {
    let mut c = Command::new(bin());
    c.env("POCKET_CONFIG", settings());
    c.arg("--root")
        .arg(state_root())
        .args(args)
        .stdin(Stdio::null());
    c
}

/// A state root for one test: its own containers, names and locks.
pub struct Root(pub PathBuf);

impl Root {
    pub fn new(tag: &str) -> Root {
        let d = std::env::temp_dir().join(format!("pocket-root-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Root(d)
    }
    pub fn cmd<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Command {
        let mut c = Command::new(bin());
        c.env("POCKET_CONFIG", settings());
        c.arg("--root").arg(&self.0).args(args).stdin(Stdio::null());
        c
    }
    pub fn out<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Output {
        self.cmd(args).output().expect("spawn pocket")
    }
    /// The container init's host pid, from `inspect`.
    pub fn pid(&self, id: &str) -> i32 {
        let s = stdout(&self.out(&["inspect", id]));
        let i = s.find("\"Pid\": ").expect("Pid in inspect");
        s[i + 7..]
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap()
    }

    /// What the state root holds of containers: their directories on the
    /// disk and in the run directory (volatile ones: --rm, OCI), and their
    /// names in both.
    pub fn state_entries(&self) -> Vec<String> {
        ["containers", "names", "run/containers", "run/names"]
            .iter()
            .flat_map(|d| {
                std::fs::read_dir(self.0.join(d))
                    .into_iter()
                    .flatten()
                    .flatten()
                    .map(move |e| format!("{d}/{}", e.file_name().to_string_lossy()))
            })
            .collect()
    }

    /// Whether container `id` has a directory: on the disk, or in the run
    /// directory (a volatile one's).
    pub fn has_dir(&self, id: &str) -> bool {
        self.0.join("containers").join(id).exists()
            || self.0.join("run/containers").join(id).exists()
    }

    /// `run -d --rootfs R ARGS...`; returns the full id.
    pub fn run_d(&self, args: &[&str]) -> String {
        let mut v = vec!["run", "-d", "--rootfs", rootfs().to_str().unwrap()];
        v.extend(args);
        let o = self.out(&v);
        assert_eq!(o.status.code(), Some(0), "run -d {args:?}: {}", stderr(&o));
        let id = stdout(&o).trim().to_string();
        assert_eq!(id.len(), 64, "{id:?}");
        id
    }
}

/// `rm -f` every container of the state root `dir`: processes, records
/// and cgroups. As root, in a network namespace of its own: after a
/// failed test whose containers sat on a bridge of a namespace the test
/// made, their network teardown must not land in the host's (it left an
/// nf_tables table there once).
pub fn remove_all(dir: &Path) {
    let pocket = |args: &[&str]| {
        let mut c = if root() {
            let mut c = Command::new("unshare");
            c.arg("-n").arg(bin());
            c
        } else {
            Command::new(bin())
        };
        c.arg("--root")
            .arg(dir)
            .args(args)
            .stdin(Stdio::null())
            .output()
    };
    if let Ok(o) = pocket(&["ps", "-aq", "--no-trunc"]) {
        for id in String::from_utf8_lossy(&o.stdout).lines() {
            let _ = pocket(&["rm", "-f", id]);
        }
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        // Kill what is left (a failed test), then remove the tree.
        remove_all(&self.0);
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Lines of the host's mount table (the test process's namespace).
pub fn host_mounts() -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

/// Host pids of processes whose root directory is inside `dir`: anything
/// left running in a container made from it.
pub fn procs_rooted_in(dir: &Path) -> Vec<i32> {
    let mut out = vec![];
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if let Ok(r) = std::fs::read_link(e.path().join("root"))
            && r.starts_with(dir)
        {
            out.push(pid);
        }
    }
    out
}

/// Direct children of `pid` (from /proc/PID/task/*/children).
pub fn children(pid: i32) -> Vec<i32> {
    let mut out = vec![];
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for t in tasks.flatten() {
            if let Ok(s) = std::fs::read_to_string(t.path().join("children")) {
                out.extend(s.split_whitespace().filter_map(|x| x.parse::<i32>().ok()));
            }
        }
    }
    out
}

/// The process state letter (R, S, Z...) of `pid`.
pub fn state(pid: i32) -> Option<char> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &s[s.rfind(')')? + 2..];
    after.chars().next()
}

/// All host pids in the same pid namespace as `pid`.
pub fn same_pidns(pid: i32) -> Vec<i32> {
    let Ok(ns) = std::fs::read_link(format!("/proc/{pid}/ns/pid")) else {
        return vec![];
    };
    let mut out = vec![];
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(p) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if std::fs::read_link(e.path().join("ns/pid")).ok().as_ref() == Some(&ns) {
            out.push(p);
        }
    }
    out
}

/// Wait until `f` returns Some, polling; panics after `secs`.
pub fn wait_for<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `child`'s exit code, waiting `secs` at most: a pocket that does not
/// end (a missing feature) is killed and fails the test, never hangs it.
pub fn wait_code(child: &mut Child, secs: u64) -> Option<i32> {
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st.code();
        }
        if Instant::now() > end {
            let _ = child.kill();
            let _ = child.wait();
            panic!("pocket did not end within {secs} s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The container init's host pid, once pocket has cloned it: the child
/// in a pid namespace of its own. (Not any child: a foreground run's
/// first may be the helper that makes its other namespaces ahead,
/// spawn/prefetch.rs, in pocket's pid namespace, left unreaped till
/// pocket ends when it was late.)
pub fn container_pid(pocket: &Child) -> i32 {
    let pid = pocket.id() as i32;
    let ns = |p: i32| std::fs::read_link(format!("/proc/{p}/ns/pid")).ok();
    let own = ns(pid);
    wait_for(10, "container process", || {
        children(pid)
            .into_iter()
            .find(|&c| ns(c).is_some_and(|n| Some(&n) != own.as_ref()))
    })
}

/// Spawn with an extra inherited fd (not close-on-exec) at number 5, to
/// check pocket does not pass stray fds into the container.
pub fn with_stray_fd(c: &mut Command) {
    // SAFETY: only async-signal-safe calls (open, dup2) between fork and exec.
    unsafe {
        c.pre_exec(|| {
            let fd = libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY);
            if fd >= 0 && fd != 5 {
                libc::dup2(fd, 5);
            }
            Ok(())
        });
    }
}
/// `exec` (its command `sleep 5`) started as `c`: the device and inode
/// of the file that pocket process runs from once its command runs (the
/// host binary's through the dmz; a sealed view's or copy's else).
pub fn exec_exe_of(mut c: Child) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let pid = c.id();
    let found = wait_for(10, "the command to run", || {
        let kids = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?;
        let k: u32 = kids.split_whitespace().next()?.parse().ok()?;
        let exe = std::fs::read_link(format!("/proc/{k}/exe")).ok()?;
        let me = std::fs::metadata(format!("/proc/{pid}/exe")).ok()?;
        exe.ends_with("busybox").then_some((me.dev(), me.ino()))
    });
    let _ = c.kill();
    let _ = c.wait();
    found
}

pub mod attacks;
pub mod checks;
pub mod features;
pub mod mem;
pub mod netns;
pub mod registry;
pub mod snapshot;
pub mod term;
pub mod user;

/// A pty pair (master, slave), to stand in for a terminal.
pub fn pty() -> (std::fs::File, std::fs::File) {
    use std::os::fd::FromRawFd;
    unsafe {
        let m = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
        assert!(m >= 0);
        assert_eq!(libc::grantpt(m), 0);
        assert_eq!(libc::unlockpt(m), 0);
        let name = std::ffi::CStr::from_ptr(libc::ptsname(m)).to_owned();
        let s = libc::open(name.as_ptr(), libc::O_RDWR | libc::O_NOCTTY);
        assert!(s >= 0);
        (
            std::fs::File::from(std::os::fd::OwnedFd::from_raw_fd(m)),
            std::fs::File::from(std::os::fd::OwnedFd::from_raw_fd(s)),
        )
    }
}

/// `c.output()`, again while the program is ETXTBSY: a file this process
/// just wrote can be busy for a moment, because another test thread's fork
/// holds a copy of the write fd until its exec (rust-lang/rust#114554).
pub fn output_fresh(c: &mut Command) -> std::io::Result<Output> {
    for _ in 0..200 {
        match c.output() {
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) => {
                std::thread::sleep(std::time::Duration::from_millis(10))
            }
            r => return r,
        }
    }
    c.output()
}

/// Copy a program that is about to run, with cp(1): the write fd is then
/// never this process's, so no other test thread's fork can keep it open
/// and make the program ETXTBSY.
pub fn copy_exe(from: impl AsRef<Path>, to: impl AsRef<Path>) {
    let o = Command::new("cp")
        .arg(from.as_ref())
        .arg(to.as_ref())
        .output()
        .unwrap();
    assert!(o.status.success(), "cp: {o:?}");
}
