//! The OCI runtime front end as an engine drives it (scripts/engines-calls.txt
//! lists what podman and containerd call): runc's commands, flags in both
//! forms, state documents, pid files, the console socket, the log, and
//! what is left after delete. The real engines are in scripts/engines-test.sh.

mod common;
use common::checks::json;
use common::*;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// `pocket-runc`: a link to the binary, as engines find it, in the test
/// process's state root (removed at exit, so no link outlives the run).
fn runc_bin() -> PathBuf {
    let link = state_root().join("oci-bin/pocket-runc");
    // A link left by a killed run whose pid this one reuses (its state
    // root not removed) may name another binary (POCKET_BIN): made again.
    if std::fs::read_link(&link).ok() != Some(bin()) {
        let _ = std::fs::remove_file(&link);
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        // Tests run in parallel: another may have made it just now.
        match std::os::unix::fs::symlink(bin(), &link) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => panic!("{e}"),
            _ => {}
        }
    }
    link
}

struct Oci {
    root: Root,
    bundle: PathBuf,
}

impl Oci {
    /// A bundle (rootfs: the test rootfs, read-only) whose config.json
    /// runs `args` without a terminal, and a state root of its own.
    fn new(tag: &str, args: &[&str]) -> Oci {
        let root = Root::new(&format!("oci{tag}"));
        let bundle = root.0.join("bundle");
        std::fs::create_dir_all(&bundle).unwrap();
        let oci = Oci { root, bundle };
        oci.write_config(args, false);
        oci
    }

    /// A config.json as runc's `spec` writes one (the test's own text,
    /// independent of pocket's JSON code).
    fn write_config(&self, args: &[&str], terminal: bool) {
        let q = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
        let args: Vec<String> = args.iter().map(|a| q(a)).collect();
        let caps = r#"["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FOWNER","CAP_FSETID","CAP_KILL","CAP_SETGID","CAP_SETUID","CAP_SETPCAP","CAP_NET_BIND_SERVICE","CAP_NET_RAW","CAP_SYS_CHROOT","CAP_MKNOD","CAP_AUDIT_WRITE","CAP_SETFCAP"]"#;
        let c = format!(
            r#"{{"ociVersion":"1.0.2","process":{{"terminal":{terminal},"user":{{"uid":0,"gid":0}},"args":[{}],
"env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","TERM=xterm"],"cwd":"/",
"capabilities":{{"bounding":{caps},"effective":{caps},"permitted":{caps},"inheritable":[],"ambient":[]}},
"rlimits":[{{"type":"RLIMIT_NOFILE","hard":1024,"soft":1024}}],"noNewPrivileges":true}},
"root":{{"path":{},"readonly":true}},"hostname":"runc",
"mounts":[{{"destination":"/proc","type":"proc","source":"proc"}},
{{"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","strictatime","mode=755","size=65536k"]}},
{{"destination":"/dev/pts","type":"devpts","source":"devpts","options":["nosuid","noexec","newinstance","ptmxmode=0666","mode=0620","gid=5"]}},
{{"destination":"/dev/shm","type":"tmpfs","source":"shm","options":["nosuid","noexec","nodev","mode=1777","size=65536k"]}},
{{"destination":"/dev/mqueue","type":"mqueue","source":"mqueue","options":["nosuid","noexec","nodev"]}},
{{"destination":"/sys","type":"sysfs","source":"sysfs","options":["nosuid","noexec","nodev","ro"]}},
{{"destination":"/sys/fs/cgroup","type":"cgroup","source":"cgroup","options":["nosuid","noexec","nodev","relatime","ro"]}}],
"linux":{{"resources":{{"devices":[{{"allow":false,"access":"rwm"}}]}},
"namespaces":[{{"type":"pid"}},{{"type":"network"}},{{"type":"ipc"}},{{"type":"uts"}},{{"type":"mount"}}],
"maskedPaths":["/proc/acpi","/proc/kcore","/proc/keys","/sys/firmware"],
"readonlyPaths":["/proc/bus","/proc/fs","/proc/irq","/proc/sys","/proc/sysrq-trigger"]}}}}"#,
            args.join(","),
            q(&rootfs_str())
        );
        std::fs::write(self.bundle.join("config.json"), c).unwrap();
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(runc_bin());
        c.arg("--root")
            .arg(self.root.0.join("state"))
            .args(args)
            .stdin(Stdio::null());
        c
    }

    /// Run and collect: stdout and stderr through files, not pipes, since
    /// a container's init (create, run -d, exec -d) keeps pocket's own
    /// stdio as its own and a pipe would not end before it does.
    fn out(&self, args: &[&str]) -> Output {
        files_output(self.cmd(args))
    }

    fn state(&self, id: &str) -> String {
        stdout(&self.out(&["state", id]))
    }

    fn bundle(&self) -> &str {
        self.bundle.to_str().unwrap()
    }
}

/// A test that failed midway leaves no container (nor its cgroups).
impl Drop for Oci {
    fn drop(&mut self) {
        for id in stdout(&self.out(&["list", "-q"])).lines() {
            let _ = self.out(&["delete", "--force", id]);
        }
    }
}

static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

fn files_output(mut c: Command) -> Output {
    let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let base = std::env::temp_dir().join(format!("pocket-oci-out-{}-{n}", std::process::id()));
    let (o, e) = (base.with_extension("out"), base.with_extension("err"));
    let status = c
        .stdout(std::fs::File::create(&o).unwrap())
        .stderr(std::fs::File::create(&e).unwrap())
        .status()
        .unwrap();
    let out = Output {
        status,
        stdout: std::fs::read(&o).unwrap_or_default(),
        stderr: std::fs::read(&e).unwrap_or_default(),
    };
    let _ = std::fs::remove_file(o);
    let _ = std::fs::remove_file(e);
    out
}

fn field<'a>(state: &'a str, key: &str) -> &'a str {
    let k = format!("\"{key}\": ");
    let i = state.find(&k).unwrap_or_else(|| panic!("{key} in {state}")) + k.len();
    state[i..]
        .split([',', '\n'])
        .next()
        .unwrap()
        .trim_matches('"')
}

/// A created container's init waits for `start` with the container's
/// capabilities as its root: not dumpable, or a process with the same
/// (a container sharing its pid namespace, a pod's) could ptrace it or
/// read its /proc files before its seccomp filter goes in. (A uid change
/// makes the kernel clear it by itself; root keeps it.)
#[test]
fn a_created_init_is_not_dumpable() {
    if !root() {
        return;
    }
    let o = Oci::new("dump", &["true"]);
    // The attacker: a container with docker's capabilities (those of the
    // config), running as root.
    let a = o.root.out(&[
        "run",
        "-d",
        "--net",
        "none",
        "--rootfs",
        &rootfs_str(),
        "sleep",
        "60",
    ]);
    assert_eq!(a.status.code(), Some(0), "{a:?}");
    let a = stdout(&a).trim().to_string();
    let apid = o.root.pid(&a);
    let path = o.bundle.join("config.json");
    let c = std::fs::read_to_string(&path).unwrap();
    let c = c
        .replace(
            r#"{"type":"pid"}"#,
            &format!(r#"{{"type":"pid","path":"/proc/{apid}/ns/pid"}}"#),
        )
        .replace(r#""env":["#, r#""env":["SECRET=hunter2","#);
    std::fs::write(&path, c).unwrap();
    // Until its execve the init's environ is pocket's own: the engine's
    // (here with the same secret in it).
    let mut create = o.cmd(&["create", "--bundle", o.bundle(), "d1"]);
    create.env("SECRET", "hunter2");
    let out = files_output(create);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let pid = field(&o.state("d1"), "pid").to_string();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let inner = status
        .lines()
        .find_map(|l| l.strip_prefix("NSpid:"))
        .and_then(|l| l.split_whitespace().last())
        .unwrap()
        .to_string();
    // The attack, from the container that shares its pid namespace.
    let environ = format!("/proc/{inner}/environ");
    let got = o.root.out(&["exec", &a, "cat", &environ]);
    assert!(!stdout(&got).contains("hunter2"), "{got:?}");
    assert_ne!(got.status.code(), Some(0), "{got:?}");
    eprintln!(
        "the neighbour reading the init's environ: {}",
        stderr(&got).trim()
    );
    // Control: its own init's, readable.
    let own = o
        .root
        .out(&["exec", &a, "sh", "-c", "tr '\\0' '\\n' < /proc/1/environ"]);
    assert!(stdout(&own).contains("PATH="), "control: {own:?}");
    assert_eq!(o.out(&["delete", "-f", "d1"]).status.code(), Some(0));
    assert_eq!(o.root.out(&["rm", "-f", &a]).status.code(), Some(0));
}

/// Inside: the serial of this process's session keyring.
#[test]
#[ignore]
fn keyring_id() {
    if std::env::var("POCKET_ATTACK").as_deref() != Ok("keyring_id") {
        return;
    }
    // KEYCTL_GET_KEYRING_ID (0) of KEY_SPEC_SESSION_KEYRING (-3), no create.
    // SAFETY: keyctl with integer arguments only.
    let id = unsafe { libc::syscall(libc::SYS_keyctl, 0, -3, 0) };
    println!("session keyring {id}");
}

/// `--no-new-keyring` (podman passes it where keyctl is refused): the
/// container keeps the session keyring it was started with; without it,
/// a fresh one.
#[test]
fn no_new_keyring_keeps_the_session_keyring() {
    if !root() {
        return;
    }
    let o = Oci::new("keys", &["true"]);
    // This test binary, from its directory mounted on the rootfs's /tmp
    // (a mount point there already: the shared test rootfs stays as it is).
    let me = std::env::current_exe().unwrap();
    let name = me.file_name().unwrap().to_str().unwrap();
    let path = o.bundle.join("config.json");
    let c = std::fs::read_to_string(&path).unwrap();
    let args =
        format!(r#""args":["/tmp/{name}","--exact","keyring_id","--ignored","--nocapture"]"#);
    let c = c
        .replacen(r#""args":["true"]"#, &args, 1)
        .replace(r#""env":["#, r#""env":["POCKET_ATTACK=keyring_id","#)
        .replace(
            r#""mounts":["#,
            &format!(
                r#""mounts":[{{"destination":"/tmp","type":"bind","source":"{}","options":["rbind","ro"]}},"#,
                me.parent().unwrap().display()
            ),
        );
    std::fs::write(&path, c).unwrap();
    // SAFETY: as keyring_id's.
    let ours = unsafe { libc::syscall(libc::SYS_keyctl, 0, -3, 0) };
    assert!(ours > 0);
    let id_of = |flags: &[&str], name: &str| {
        let mut args = vec!["run"];
        args.extend_from_slice(flags);
        args.extend(["--bundle", o.bundle(), name]);
        let out = o.out(&args);
        assert_eq!(out.status.code(), Some(0), "{flags:?}: {out:?}");
        let text = stdout(&out);
        text.lines()
            .find_map(|l| l.strip_prefix("session keyring "))
            .unwrap_or_else(|| panic!("{text}"))
            .parse::<i64>()
            .unwrap()
    };
    assert_ne!(id_of(&[], "k1"), ours, "a fresh keyring");
    assert_eq!(
        id_of(&["--no-new-keyring"], "k2"),
        ours,
        "the caller's kept"
    );
}

/// HOME as runc sets it when the process's environment has none (no
/// engine's config has one): the user's home in the rootfs's passwd,
/// "/" for a user not listed; a HOME given is kept.
#[test]
fn home_from_the_rootfs_passwd_when_the_config_has_none() {
    if !root() {
        return;
    }
    let o = Oci::new("home", &["sh", "-c", "echo home=$HOME"]);
    let out = o.out(&["run", "--bundle", o.bundle(), "h1"]);
    assert_eq!(stdout(&out), "home=/root\n", "{out:?}");
    let o2 = Oci::new("home2", &["sleep", "60"]);
    assert_eq!(
        o2.out(&["run", "-d", "--bundle", o2.bundle(), "h2"])
            .status
            .code(),
        Some(0)
    );
    let process = o2.root.0.join("process.json");
    for (user, env, want) in [
        (65534, r#"["PATH=/bin"]"#, "home=/nonexistent"),
        (1000, r#"["PATH=/bin"]"#, "home=/"),
        (1000, r#"["PATH=/bin","HOME=/mine"]"#, "home=/mine"),
    ] {
        std::fs::write(
            &process,
            format!(
                r#"{{"terminal":false,"args":["sh","-c","echo home=$HOME"],"env":{env},"cwd":"/","user":{{"uid":{user},"gid":0}}}}"#
            ),
        )
        .unwrap();
        let out = o2.out(&["exec", "--process", process.to_str().unwrap(), "h2"]);
        assert_eq!(stdout(&out), format!("{want}\n"), "{user} {env}: {out:?}");
    }
    // The command-line form as another user: its own home, not the
    // init's (the init's default is not kept in the container's config).
    let out = o2.out(&[
        "exec",
        "--user",
        "65534",
        "h2",
        "sh",
        "-c",
        "echo home=$HOME",
    ]);
    assert_eq!(stdout(&out), "home=/nonexistent\n", "{out:?}");
    assert_eq!(o2.out(&["delete", "-f", "h2"]).status.code(), Some(0));
}

/// Rootless podman runs its runtime as root of a user namespace of a
/// plain user's (setgroups denied in it): as runc, pocket keeps its state
/// in $XDG_RUNTIME_DIR, makes no host cgroups (none delegated here: none
/// at all), calls no setgroups, and the container runs.
#[test]
fn root_of_a_plain_users_user_namespace_runs_rootless() {
    if !root() {
        return;
    }
    let o = Oci::new("userns", &["sh", "-c", "echo uid=$(id -u) home=$HOME"]);
    let dir = o.root.0.join("plain");
    let xdg = dir.join("xdg");
    std::fs::create_dir_all(&xdg).unwrap();
    let status = Command::new("cp")
        .args(["-a", &rootfs_str()])
        .arg(dir.join("rootfs"))
        .status()
        .unwrap();
    assert!(status.success());
    let c = std::fs::read_to_string(o.bundle.join("config.json")).unwrap();
    // Not done yet as root of a user namespace: the cgroup mount (made in
    // pocket's own mount namespace, which it may not mount in) and a new
    // network namespace (pocket steps into it and back, and may not step
    // back into the host's); podman gives one made by slirp4netns/pasta.
    let cgroup_mount = r#",
{"destination":"/sys/fs/cgroup","type":"cgroup","source":"cgroup","options":["nosuid","noexec","nodev","relatime","ro"]}"#;
    assert!(c.contains(cgroup_mount));
    let c = c
        .replace(&format!("\"{}\"", rootfs_str()), "\"rootfs\"")
        .replace(r#""readonly":true"#, r#""readonly":false"#)
        .replace(cgroup_mount, "")
        .replace(r#"{"type":"network"},"#, "")
        // gid 5 is not in a one-id namespace (podman leaves it out then).
        .replace(r#","gid=5""#, "")
        // sysfs is the host's, bound (no network namespace of its own to
        // mount one for), as podman's rootless config has it.
        .replace(
            r#"{"destination":"/sys","type":"sysfs","source":"sysfs","options":["nosuid","noexec","nodev","ro"]}"#,
            r#"{"destination":"/sys","type":"none","source":"/sys","options":["rbind","nosuid","noexec","nodev","ro"]}"#,
        );
    std::fs::write(dir.join("config.json"), c).unwrap();
    copy_exe(bin(), dir.join("runc"));
    let st = Command::new("chown")
        .args(["-R", "1000:1000"])
        .arg(&o.root.0)
        .status()
        .unwrap();
    assert!(st.success());
    let runc = |args: &[&str]| {
        let mut c = Command::new("setpriv");
        c.args(["--reuid", "1000", "--regid", "1000", "--clear-groups"])
            .args(["unshare", "-U", "-r"])
            .arg(dir.join("runc"))
            .args(args)
            .env("XDG_RUNTIME_DIR", &xdg)
            .env("USER", "someone")
            .env_remove("POCKET_CONFIG");
        files_output(c)
    };
    let out = runc(&["run", "--bundle", dir.to_str().unwrap(), "u1"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(stdout(&out), "uid=0 home=/root\n");
    // Its state was in $XDG_RUNTIME_DIR/pocket-runc, and is gone with it.
    assert!(xdg.join("pocket-runc").is_dir());
    let list = runc(&["list", "-q"]);
    assert_eq!(
        (list.status.code(), stdout(&list)),
        (Some(0), String::new()),
        "{list:?}"
    );
}

/// An engine stopping a created container sends SIGTERM first (CRI-O's
/// stop): the waiting init ends at once, as runc's does, instead of
/// only at the KILL after the grace period.
#[test]
fn sigterm_ends_a_created_container() {
    if !root() {
        return;
    }
    let o = Oci::new("term", &["sleep", "30"]);
    let out = o.out(&["create", "--bundle", o.bundle(), "t1"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let pid: i32 = field(&o.state("t1"), "pid").parse().unwrap();
    assert_eq!(o.out(&["kill", "t1", "TERM"]).status.code(), Some(0));
    let t = std::time::Instant::now();
    wait_for(5, "the created init to end", || {
        (field(&o.state("t1"), "status") == "stopped").then_some(())
    });
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    // Never ran its command.
    assert!(
        std::fs::read(format!("/proc/{pid}/cmdline")).map_or(true, |c| !c.starts_with(b"sleep"))
    );
    assert_eq!(o.out(&["delete", "t1"]).status.code(), Some(0));
}

#[test]
fn create_waits_for_start_then_runs_and_delete_leaves_nothing() {
    if !root() {
        return;
    }
    let o = Oci::new("life", &["sh", "-c", "echo started; exec sleep 30"]);
    let pidf = o.root.0.join("init.pid");
    // The container's output is pocket's own stdout: a pipe here.
    let mut c = o.cmd(&[
        "create",
        "--bundle",
        o.bundle(),
        "--pid-file",
        pidf.to_str().unwrap(),
        "c1",
    ]);
    let (mut rd, wr) = std::io::pipe().unwrap();
    let st = c.stdout(wr).stderr(Stdio::null()).status().unwrap();
    assert_eq!(st.code(), Some(0));
    let pid: i32 = std::fs::read_to_string(&pidf).unwrap().parse().unwrap();
    let st = o.state("c1");
    assert_eq!(field(&st, "status"), "created", "{st}");
    assert_eq!(field(&st, "pid"), pid.to_string());
    assert_eq!(field(&st, "bundle"), o.bundle());
    // The init is there, waiting (in the exec fifo's open), not running
    // the command yet; its parent is not a pocket process (the caller reaps).
    assert!(state(pid).is_some());
    std::thread::sleep(Duration::from_millis(200));
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    assert!(!cmdline.starts_with(b"sleep"), "ran before start");
    let t = std::time::Instant::now();
    assert_eq!(o.out(&["start", "c1"]).status.code(), Some(0));
    assert!(t.elapsed() < Duration::from_secs(2), "start waited");
    let st = wait_for(5, "running", || {
        let s = o.state("c1");
        (field(&s, "status") == "running").then_some(s)
    });
    assert_eq!(field(&st, "pid"), pid.to_string());
    drop(c);
    let mut line = [0u8; 8];
    rd.read_exact(&mut line).unwrap();
    assert_eq!(&line, b"started\n");
    // A second start, and a delete without --force, are refused (1).
    let o2 = o.out(&["start", "c1"]);
    assert_eq!(o2.status.code(), Some(1));
    assert!(stderr(&o2).contains("already running"), "{o2:?}");
    let o2 = o.out(&["delete", "c1"]);
    assert_eq!(o2.status.code(), Some(1));
    assert!(stderr(&o2).contains("not stopped"), "{o2:?}");
    // runc's kill: a signal number, as engines send it.
    assert_eq!(o.out(&["kill", "c1", "9"]).status.code(), Some(0));
    wait_for(5, "stopped", || {
        (field(&o.state("c1"), "status") == "stopped").then_some(())
    });
    let cg = PathBuf::from("/sys/fs/cgroup/pids/pocket/c1");
    assert!(cg.exists() || !Path::new("/sys/fs/cgroup/pids").exists());
    assert_eq!(o.out(&["delete", "c1"]).status.code(), Some(0));
    assert!(!cg.exists(), "cgroup left");
    let gone = o.out(&["state", "c1"]);
    assert_eq!(gone.status.code(), Some(1));
    assert!(stderr(&gone).contains("does not exist"));
    // containerd deletes twice: an unknown id with --force is fine.
    assert_eq!(o.out(&["delete", "--force", "c1"]).status.code(), Some(0));
    assert_eq!(o.out(&["delete", "c1"]).status.code(), Some(1));
}

#[test]
fn flags_in_both_forms_and_errors_in_the_log() {
    if !root() {
        return;
    }
    let o = Oci::new("forms", &["true"]);
    let log = o.root.0.join("log.json");
    let state = format!("--root={}", o.root.0.join("state").display());
    let run = |args: &[&str]| {
        let mut c = Command::new(runc_bin());
        c.arg(&state).args(args).stdin(Stdio::null());
        files_output(c)
    };
    let o1 = run(&[
        &format!("--log={}", log.display()),
        "--log-format=json",
        "create",
        &format!("--bundle={}", o.bundle()),
        "f1",
    ]);
    assert_eq!(o1.status.code(), Some(0), "{o1:?}");
    assert_eq!(run(&["delete", "--force", "f1"]).status.code(), Some(0));
    // An error: one line on stderr and a record in the log, exit 1.
    let o2 = run(&[
        "--log",
        log.to_str().unwrap(),
        "--log-format",
        "json",
        "create",
        "--bundle",
        "/nonexistent",
        "f2",
    ]);
    assert_eq!(o2.status.code(), Some(1));
    assert_eq!(stderr(&o2).lines().count(), 1, "{o2:?}");
    let l = std::fs::read_to_string(&log).unwrap();
    assert!(l.starts_with("{\"level\":\"error\",\"msg\":\""), "{l}");
    assert!(l.contains("\"time\":\""), "{l}");
    assert_eq!(run(&["state", "f2"]).status.code(), Some(1));
    // A missing command fails create, as runc's, with the words engines
    // look for; nothing stays.
    o.write_config(&["nosuchcmd"], false);
    let o3 = run(&["create", "--bundle", o.bundle(), "f3"]);
    assert_eq!(o3.status.code(), Some(1));
    assert!(stderr(&o3).contains("executable file not found"), "{o3:?}");
    assert_eq!(run(&["state", "f3"]).status.code(), Some(1));
    let o4 = run(&["frobnicate"]);
    assert_eq!(o4.status.code(), Some(1));
    let o5 = run(&["create", "--frob", "x"]);
    assert!(
        stderr(&o5).contains("flag provided but not defined"),
        "{o5:?}"
    );
}

/// A non-root process whose permitted set is more than its ambient one
/// (CAP_NET_RAW, none ambient), under no_new_privs, gets from a program
/// with that file capability what a plain execve gives it: the kernel
/// cuts such a program's capabilities to what the process held before
/// its execve, which after the dmz's would be its ambient set, so `exec`
/// does not start it through the dmz (spawn/dmz.rs).
#[test]
fn exec_keeps_file_capabilities_as_a_plain_execve_would() {
    if !root() {
        return;
    }
    let o = Oci::new("fcap", &["sleep", "30"]);
    // A rootfs of its own, with a busybox that has cap_net_raw+ep.
    let rootfs = o.root.0.join("rootfs");
    let st = Command::new("cp")
        .args(["-a", &rootfs_str()])
        .arg(&rootfs)
        .status()
        .unwrap();
    assert!(st.success());
    std::fs::create_dir(rootfs.join("capbin")).unwrap();
    std::fs::copy(rootfs.join("bin/busybox"), rootfs.join("capbin/busybox")).unwrap();
    let st = Command::new("setcap")
        .args(["cap_net_raw+ep"])
        .arg(rootfs.join("capbin/busybox"))
        .status()
        .unwrap();
    assert!(st.success());
    let cfg = o.bundle.join("config.json");
    let c = std::fs::read_to_string(&cfg).unwrap().replace(
        &format!("\"path\":\"{}\"", rootfs_str()),
        &format!("\"path\":\"{}\"", rootfs.display()),
    );
    std::fs::write(&cfg, c).unwrap();
    assert_eq!(
        o.out(&["run", "-d", "--bundle", o.bundle(), "fc"])
            .status
            .code(),
        Some(0)
    );
    let process = o.root.0.join("process.json");
    let caps = |prog: &str| {
        std::fs::write(
            &process,
            format!(
                r#"{{"terminal":false,"args":["{prog}","grep","^CapPrm","/proc/self/status"],"env":["PATH=/bin"],"cwd":"/",
"user":{{"uid":1000,"gid":1000}},"noNewPrivileges":true,
"capabilities":{{"bounding":["CAP_NET_RAW","CAP_CHOWN"],"effective":["CAP_NET_RAW"],"permitted":["CAP_NET_RAW"],"inheritable":[],"ambient":[]}}}}"#
            ),
        )
        .unwrap();
        let x = o.out(&["exec", "--process", process.to_str().unwrap(), "fc"]);
        assert_eq!(x.status.code(), Some(0), "{x:?}");
        stdout(&x)
    };
    // The file's capability, as runc gives it.
    assert_eq!(caps("/capbin/busybox"), "CapPrm:\t0000000000002000\n");
    // Control: none from a program without it.
    assert_eq!(caps("/bin/busybox"), "CapPrm:\t0000000000000000\n");
}

/// runc execs into a created container (its init waiting for `start`),
/// not into a stopped one; and a foreground exec's --pid-file is there
/// while the process runs (it was written only after it had ended).
#[test]
fn exec_into_a_created_container_and_the_pid_file_at_once() {
    if !root() {
        return;
    }
    let o = Oci::new("excr", &["sleep", "30"]);
    assert_eq!(
        o.out(&["create", "--bundle", o.bundle(), "c1"])
            .status
            .code(),
        Some(0)
    );
    let x = o.out(&[
        "exec",
        "c1",
        "sh",
        "-c",
        "echo in; cat /proc/1/status | grep -c ^Name",
    ]);
    assert_eq!(x.status.code(), Some(0), "{x:?}");
    assert_eq!(stdout(&x), "in\n1\n");
    assert_eq!(field(&o.state("c1"), "status"), "created");
    // A foreground exec: its pid file names the running process.
    let pidf = o.root.0.join("fg.pid");
    let mut c = o
        .cmd(&[
            "exec",
            "--pid-file",
            pidf.to_str().unwrap(),
            "c1",
            "sleep",
            "5",
        ])
        .spawn()
        .unwrap();
    let pid: i32 = wait_for(10, "the pid file", || {
        std::fs::read_to_string(&pidf).ok()?.trim().parse().ok()
    });
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    assert_eq!(comm, "sleep\n", "pid {pid}");
    assert!(c.try_wait().unwrap().is_none(), "exec ended already");
    let _ = c.kill();
    let _ = c.wait();
    assert_eq!(o.out(&["start", "c1"]).status.code(), Some(0));
    assert_eq!(field(&o.state("c1"), "status"), "running");
    assert_eq!(o.out(&["kill", "c1", "KILL"]).status.code(), Some(0));
    wait_for(10, "the container to stop", || {
        (field(&o.state("c1"), "status") == "stopped").then_some(())
    });
    let x = o.out(&["exec", "c1", "true"]);
    assert_eq!(x.status.code(), Some(255), "{x:?}");
    assert!(
        stderr(&x).contains("cannot exec in a stopped container"),
        "{x:?}"
    );
}

/// systemd's socket activation, as runc passes it on: fds 3..3+LISTEN_FDS
/// of a caller whose LISTEN_PID it is reach the container's command as
/// fds 3.., which is told LISTEN_FDS=N and LISTEN_PID=1; with another
/// process's LISTEN_PID, nothing goes in.
#[test]
fn socket_activated_fds_go_in() {
    if !root() {
        return;
    }
    let o = Oci::new(
        "listen",
        &["sh", "-c", "echo \"[$LISTEN_FDS $LISTEN_PID]\"; cat <&3"],
    );
    let sock = o.root.0.join("socket-stand-in");
    std::fs::write(&sock, "activated\n").unwrap();
    let run = |id: &str, pid: &str| {
        let mut c = Command::new("sh");
        c.arg("-c")
            .arg(format!(
                "export LISTEN_PID={pid} LISTEN_FDS=1; exec \"$0\" --root \"$1\" run --bundle \"$2\" \"$3\" 3<\"$4\""
            ))
            .arg(runc_bin())
            .arg(o.root.0.join("state"))
            .arg(o.bundle())
            .arg(id)
            .arg(&sock)
            .stdin(Stdio::null());
        files_output(c)
    };
    let x = run("l1", "$$");
    assert_eq!(x.status.code(), Some(0), "{x:?}");
    assert_eq!(stdout(&x), "[1 1]\nactivated\n");
    let x = run("l2", "1");
    assert_ne!(x.status.code(), Some(0), "{x:?}");
    assert_eq!(stdout(&x), "[ ]\n");
    // Told of 2 with only fd 3 open: refused, as runc's, nothing made.
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg("export LISTEN_PID=$$ LISTEN_FDS=2; exec \"$0\" --root \"$1\" run --bundle \"$2\" l3 3<\"$3\"")
        .arg(runc_bin())
        .arg(o.root.0.join("state"))
        .arg(o.bundle())
        .arg(&sock)
        .stdin(Stdio::null());
    let x = files_output(c);
    assert_ne!(x.status.code(), Some(0), "{x:?}");
    assert!(
        stderr(&x).contains("LISTEN_FDS 2: fd 4 is not open"),
        "{x:?}"
    );
    assert_eq!(o.out(&["state", "l3"]).status.code(), Some(1));
}

/// The init's lookup of its command at `create` runs under its seccomp
/// filter: a profile that refuses faccessat2 (older ones do not know it)
/// must not make a present command "not found" (faccessat then, as runc's
/// Go does).
#[test]
fn create_finds_the_command_under_a_filter_without_faccessat2() {
    if !root() {
        return;
    }
    let o = Oci::new("fa2", &["sh", "-c", "echo found"]);
    let cfg = o.bundle.join("config.json");
    let c = std::fs::read_to_string(&cfg).unwrap().replace(
        "\"linux\":{",
        r#""linux":{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":["faccessat2"],"action":"SCMP_ACT_ERRNO"}]},"#,
    );
    std::fs::write(&cfg, c).unwrap();
    let x = o.out(&["run", "--bundle", o.bundle(), "f1"]);
    assert_eq!(x.status.code(), Some(0), "{x:?}");
    assert_eq!(stdout(&x), "found\n");
}

/// A pod's containers join its first one's pid namespace by path: exec
/// into that first one then enters sealed (its processes are not the
/// only ones that see pocket's child: spawn/dmz.rs), where before the
/// join it went through the dmz (pocket stays the host's binary).
#[test]
fn exec_into_a_pods_pid_namespace_owner_enters_sealed() {
    if !root() {
        return;
    }
    let o = Oci::new("podns", &["sleep", "30"]);
    assert_eq!(
        o.out(&["run", "-d", "--bundle", o.bundle(), "p1"])
            .status
            .code(),
        Some(0)
    );
    let host = std::fs::metadata(bin()).unwrap();
    let exe_of_exec = || exec_exe_of(o.cmd(&["exec", "p1", "sleep", "5"]).spawn().unwrap());
    assert_eq!(
        exe_of_exec(),
        (host.dev(), host.ino()),
        "alone: through the dmz"
    );
    let p1: i32 = field(&o.state("p1"), "pid").parse().unwrap();
    let b2 = o.root.0.join("bundle2");
    std::fs::create_dir_all(&b2).unwrap();
    let c = std::fs::read_to_string(o.bundle.join("config.json"))
        .unwrap()
        .replace(
            "{\"type\":\"pid\"}",
            &format!("{{\"type\":\"pid\",\"path\":\"/proc/{p1}/ns/pid\"}}"),
        );
    std::fs::write(b2.join("config.json"), c).unwrap();
    let x = o.out(&["run", "-d", "--bundle", b2.to_str().unwrap(), "p2"]);
    assert_eq!(x.status.code(), Some(0), "{x:?}");
    assert_ne!(exe_of_exec(), (host.dev(), host.ino()), "shared: sealed");
}

#[test]
fn exec_as_engines_do_it_and_no_fd_leaks_in() {
    if !root() {
        return;
    }
    let o = Oci::new("exec", &["sleep", "30"]);
    // fd 3 open and inherited, as containerd's shim passes its socket.
    let mut c = o.cmd(&["create", "--bundle", o.bundle(), "e1"]);
    with_stray_fd(&mut c);
    assert_eq!(files_output(c).status.code(), Some(0));
    assert_eq!(o.out(&["start", "e1"]).status.code(), Some(0));
    let process = o.root.0.join("process.json");
    std::fs::write(
        &process,
        r#"{"terminal":false,"args":["sh","-c","echo in; ls /proc/self/fd; exit 4"],"env":["PATH=/bin"],"cwd":"/tmp","user":{"uid":1000,"gid":0}}"#,
    )
    .unwrap();
    let pidf = o.root.0.join("exec.pid");
    let (mut rd, wr) = std::io::pipe().unwrap();
    let mut c = o.cmd(&[
        "exec",
        "--process",
        process.to_str().unwrap(),
        "--detach",
        "--pid-file",
        pidf.to_str().unwrap(),
        "e1",
    ]);
    with_stray_fd(&mut c);
    let st = c.stdout(wr).stderr(Stdio::null()).status().unwrap();
    assert_eq!(st.code(), Some(0));
    let pid: i32 = std::fs::read_to_string(&pidf)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(pid > 0);
    drop(c);
    let mut s = String::new();
    rd.read_to_string(&mut s).unwrap();
    // Only 0, 1, 2 (and ls's own directory fd) inside.
    assert_eq!(s, "in\n0\n1\n2\n3\n", "{s:?}");
    // The argv form, in the foreground: the status passes through.
    let o2 = o.out(&[
        "exec",
        "--cwd",
        "/tmp",
        "--env",
        "A=b",
        "e1",
        "sh",
        "-c",
        "echo $A $(pwd); exit 5",
    ]);
    assert_eq!(o2.status.code(), Some(5), "{o2:?}");
    assert_eq!(stdout(&o2), "b /tmp\n");
    // --preserve-fds N (podman exec --preserve-fds): the caller's fds
    // 3..3+N stay open in the process.
    let mut c = o.cmd(&[
        "exec",
        "--preserve-fds",
        "3",
        "e1",
        "readlink",
        "/proc/self/fd/5",
    ]);
    with_stray_fd(&mut c);
    let o3 = files_output(c);
    assert_eq!(stdout(&o3), "/dev/null\n", "{o3:?}");
    // An exec that fails is runc's 255, not a status the command could
    // have given.
    let o4 = o.out(&["exec", "e1", "nosuchcmd"]);
    assert_eq!(o4.status.code(), Some(255), "{o4:?}");
    assert!(stderr(&o4).contains("executable file not found"), "{o4:?}");
    // The container's own fds too: 0, 1, 2 only in its init.
    let init: i32 = field(&o.state("e1"), "pid").parse().unwrap();
    let fds: Vec<_> = std::fs::read_dir(format!("/proc/{init}/fd"))
        .unwrap()
        .collect();
    assert_eq!(fds.len(), 3, "stray fd in the container's init");
    let ps = stdout(&o.out(&["ps", "--format", "json", "e1"]));
    assert!(
        ps.starts_with('[') && ps.contains(&init.to_string()),
        "{ps}"
    );
    assert_eq!(o.out(&["delete", "-f", "e1"]).status.code(), Some(0));
}

/// Receive the fd sent with SCM_RIGHTS on `s` (an engine's console socket).
fn recv_fd(s: &std::os::unix::net::UnixStream) -> std::fs::File {
    unsafe {
        let mut byte = [0u8; 64];
        let mut iov = libc::iovec {
            iov_base: byte.as_mut_ptr().cast(),
            iov_len: byte.len(),
        };
        let mut cbuf = [0u64; 8];
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&cbuf) as _;
        assert!(libc::recvmsg(s.as_raw_fd(), &mut msg, 0) >= 0);
        let c = libc::CMSG_FIRSTHDR(&msg);
        assert!(!c.is_null(), "no fd received");
        let fd = *(libc::CMSG_DATA(c) as *const i32);
        std::fs::File::from_raw_fd(fd)
    }
}

#[test]
fn the_console_socket_gets_the_pty() {
    if !root() {
        return;
    }
    let o = Oci::new("tty", &["sh", "-c", "tty; read x; echo got $x"]);
    o.write_config(&["sh", "-c", "tty; read x; echo got $x"], true);
    let sock = o.root.0.join("console.sock");
    let l = UnixListener::bind(&sock).unwrap();
    // Without the socket: refused, as runc.
    let o0 = o.out(&["create", "--bundle", o.bundle(), "t0"]);
    assert_eq!(o0.status.code(), Some(1));
    let t = std::thread::spawn({
        let l = l.try_clone().unwrap();
        move || recv_fd(&l.accept().unwrap().0)
    });
    let out = o.out(&[
        "create",
        "--bundle",
        o.bundle(),
        "--console-socket",
        sock.to_str().unwrap(),
        "t1",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let mut master = t.join().unwrap();
    assert_eq!(o.out(&["start", "t1"]).status.code(), Some(0));
    master.write_all(b"hello\n").unwrap();
    let mut got = Vec::new();
    let mut b = [0u8; 256];
    let end = std::time::Instant::now() + Duration::from_secs(5);
    while !String::from_utf8_lossy(&got).contains("got hello") && std::time::Instant::now() < end {
        match master.read(&mut b) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&b[..n]),
        }
    }
    let s = String::from_utf8_lossy(&got);
    assert!(s.contains("/dev/pts/0") && s.contains("got hello"), "{s:?}");
    let _ = o.out(&["delete", "-f", "t1"]);
}

#[test]
fn pause_resume_update_events_and_a_created_container_deleted() {
    if !root() {
        return;
    }
    let o = Oci::new("more", &["sleep", "30"]);
    assert_eq!(
        o.out(&["create", "--bundle", o.bundle(), "m1"])
            .status
            .code(),
        Some(0)
    );
    let init: i32 = field(&o.state("m1"), "pid").parse().unwrap();
    // Deleting a created container kills its waiting init.
    assert_eq!(o.out(&["delete", "m1"]).status.code(), Some(0));
    wait_for(5, "the init to go", || {
        state(init).is_none_or(|s| s == 'Z').then_some(())
    });
    assert_eq!(
        o.out(&["run", "-d", "--bundle", o.bundle(), "m2"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(o.out(&["pause", "m2"]).status.code(), Some(0));
    assert_eq!(field(&o.state("m2"), "status"), "paused");
    assert_eq!(o.out(&["resume", "m2"]).status.code(), Some(0));
    assert_eq!(field(&o.state("m2"), "status"), "running");
    let res = o.root.0.join("res.json");
    std::fs::write(
        &res,
        r#"{"memory":{"limit":134217728},"pids":{"limit":50}}"#,
    )
    .unwrap();
    let u = o.out(
        &[&format!("--resources={}", res.display()), "m2"]
            .iter()
            .fold(vec!["update"], |mut v, a| {
                v.push(a);
                v
            }),
    );
    assert_eq!(u.status.code(), Some(0), "{u:?}");
    if Path::new("/sys/fs/cgroup/pids/pocket/m2").exists() {
        let m = std::fs::read_to_string("/sys/fs/cgroup/pids/pocket/m2/pids.max").unwrap();
        assert_eq!(m.trim(), "50");
    }
    let ev = stdout(&o.out(&["events", "--stats", "m2"]));
    assert!(ev.starts_with("{\"type\":\"stats\",\"id\":\"m2\""), "{ev}");
    let l = stdout(&o.out(&["list", "--format", "json"]));
    assert!(l.contains("\"id\":\"m2\""), "{l}");
    assert_eq!(
        o.out(&["kill", "--all", "m2", "KILL"]).status.code(),
        Some(0)
    );
    wait_for(5, "stopped", || {
        (field(&o.state("m2"), "status") == "stopped").then_some(())
    });
    assert_eq!(o.out(&["delete", "m2"]).status.code(), Some(0));
}

#[test]
fn version_features_and_spec() {
    let v = files_output({
        let mut c = Command::new(runc_bin());
        c.arg("--version");
        c
    });
    let s = stdout(&v);
    let lines: Vec<&str> = s.lines().collect();
    // go-runc reads these three lines.
    assert!(lines[0].starts_with("runc version "), "{s}");
    assert!(
        lines[1].starts_with("commit: ") && lines[2].starts_with("spec: 1."),
        "{s}"
    );
    let f = stdout(&Command::new(runc_bin()).arg("features").output().unwrap());
    assert!(
        f.contains("\"ociVersionMax\"") && f.contains("SCMP_ACT_ERRNO"),
        "{f}"
    );
    // The seccomp filter flags config.json may name (runc's keys).
    let j = json(&f).unwrap_or_else(|e| panic!("features: {e}\n{f}"));
    let sc = j.get("linux").get("seccomp");
    for k in ["knownFlags", "supportedFlags"] {
        assert_eq!(
            sc.get(k).strs(),
            [
                "SECCOMP_FILTER_FLAG_TSYNC",
                "SECCOMP_FILTER_FLAG_LOG",
                "SECCOMP_FILTER_FLAG_SPEC_ALLOW"
            ],
            "{k}"
        );
    }
    // `pocket oci` is the same front end.
    let v2 = Command::new(bin())
        .args(["oci", "--version"])
        .output()
        .unwrap();
    assert_eq!(stdout(&v2), s);
    let d = std::env::temp_dir().join(format!("pocket-ocispec-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let o = Command::new(runc_bin())
        .args(["spec", "-b"])
        .arg(&d)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let c = std::fs::read_to_string(d.join("config.json")).unwrap();
    assert!(
        c.contains("\"ociVersion\"") && c.contains("\"rootfs\""),
        "{c}"
    );
    let again = Command::new(runc_bin())
        .args(["spec", "-b"])
        .arg(&d)
        .output()
        .unwrap();
    assert_eq!(
        again.status.code(),
        Some(1),
        "an existing config.json is kept"
    );
    let _ = std::fs::remove_dir_all(d);
}
