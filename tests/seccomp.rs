//! Seccomp and no_new_privs, tested as attacks from inside a container:
//! each must fail under pocket's defaults (docker's profile compiled by
//! pocket, no_new_privs on), and the test says why. `seccomp=unconfined`
//! is tried too, only to show that the failure came from the filter.

mod common;
use common::checks::*;
use common::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// tests/seccomp_probe.c, built static once per test process into a
/// directory the containers get as a read-only volume at /p.
fn probe_dir() -> &'static Path {
    static D: OnceLock<PathBuf> = OnceLock::new();
    D.get_or_init(|| {
        let d = state_root().join("probe");
        std::fs::create_dir_all(&d).unwrap();
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/seccomp_probe.c");
        let o = Command::new("cc")
            .args(["-static", "-O2", "-o"])
            .arg(d.join("probe"))
            .arg(&src)
            .output()
            .expect("cc (gcc and the static libc are needed for this test)");
        assert!(o.status.success(), "cc: {}", stderr(&o));
        d
    })
}

fn vol(d: &Path) -> String {
    format!("{}:/p:ro", d.display())
}

/// `run [flags] --rootfs R -v probe:/p:ro /p/probe ARGS...`.
fn probe(flags: &[&str], args: &[&str]) -> std::process::Output {
    let v = vol(probe_dir());
    let mut a: Vec<&str> = vec!["run", "--rm", "-v", &v];
    a.extend(flags);
    let r = rootfs_str();
    a.extend(["--rootfs", &r, "/p/probe"]);
    a.extend(args);
    pocket(&a).output().unwrap()
}

/// `NAME: ...` lines of the probe, by name.
fn lines(o: &std::process::Output) -> Vec<(String, String)> {
    stdout(o)
        .lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn status_field(text: &str, key: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .unwrap_or_else(|| panic!("no {key} in {text:?}"))
        .trim()
        .to_string()
}

#[test]
fn run_and_exec_are_filtered_with_no_new_privs() {
    if !root() {
        return;
    }
    let status = "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status";
    let o = run(&["sh", "-c", status]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s = stdout(&o);
    eprintln!("run: {s}");
    // 2 = SECCOMP_MODE_FILTER.
    assert_eq!(status_field(&s, "Seccomp"), "2", "run is not filtered");
    assert_eq!(
        status_field(&s, "NoNewPrivs"),
        "1",
        "run has no no_new_privs"
    );

    // --init: pocket's init (PID 1) and the command it forks.
    let o = run(&[
        "--init",
        "sh",
        "-c",
        "grep -E '^(Seccomp|NoNewPrivs):' /proc/1/status /proc/self/status",
    ]);
    let s = stdout(&o);
    assert_eq!(s.matches("Seccomp:\t2").count(), 2, "--init: {s}");
    assert_eq!(s.matches("NoNewPrivs:\t1").count(), 2, "--init: {s}");

    let r = Root::new("sec-exec");
    let id = r.run_d(&["sleep", "300"]);
    let s = sh(&r, &id, status);
    eprintln!("exec: {s}");
    assert_eq!(status_field(&s, "Seccomp"), "2", "exec is not filtered");
    assert_eq!(
        status_field(&s, "NoNewPrivs"),
        "1",
        "exec has no no_new_privs"
    );
    assert_eq!(
        inspect(&r, &id).get("HostConfig").get("SecurityOpt").strs(),
        ["no-new-privileges"]
    );
}

#[test]
fn user_namespaces_stay_closed() {
    if !root() {
        return;
    }
    // unshare(CLONE_NEWUSER) would give root in a new user namespace:
    // nf_tables, and the rest of what the kernel lets a namespace's root
    // reach. docker's profile allows unshare only with CAP_SYS_ADMIN.
    for cmd in ["unshare -U true", "unshare -Ur id"] {
        let o = run(&["sh", "-c", cmd]);
        eprintln!("{cmd}: exit {:?}, {}", o.status.code(), stderr(&o).trim());
        assert_ne!(o.status.code(), Some(0), "{cmd} worked: {}", stdout(&o));
        assert!(
            stderr(&o).contains("Operation not permitted"),
            "{cmd}: {}",
            stderr(&o)
        );
    }
    // The flag has effect: unconfined, the same call works (so the EPERM
    // above was the filter's).
    let o = run(&[
        "--security-opt",
        "seccomp=unconfined",
        "unshare",
        "-U",
        "true",
    ]);
    assert_eq!(o.status.code(), Some(0), "unconfined: {}", stderr(&o));
    let o = run(&[
        "--security-opt",
        "seccomp=unconfined",
        "grep",
        "^Seccomp:",
        "/proc/self/status",
    ]);
    assert_eq!(status_field(&stdout(&o), "Seccomp"), "0");
}

const ATTACKS: &[&str] = &[
    "clone3",
    "fork",
    "clone-newuser",
    "keyctl",
    "add_key",
    "mount",
    "personality-query",
    "personality-norandom",
    "socket-vsock",
    "socket-alg",
    "socket-inet",
    "past-the-table",
];

#[test]
fn attacks_from_a_static_program_fail() {
    if !root() {
        return;
    }
    let o = probe(&[], ATTACKS);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let got = lines(&o);
    for (name, result) in &got {
        eprintln!("default profile: {name}: {result}");
    }
    let want = [
        // ENOSYS: glibc falls back to clone, whose flags the filter reads.
        ("clone3", "errno 38"),
        ("fork", "ok"),
        ("clone-newuser", "errno 1"),
        // The kernel keyrings are not namespaced.
        ("keyctl", "errno 1"),
        ("add_key", "errno 1"),
        // EPERM before the kernel even reads the arguments (EFAULT).
        ("mount", "errno 1"),
        ("personality-query", "ok"),
        // Turning off ASLR is not among docker's personality values.
        ("personality-norandom", "errno 1"),
        // Host/guest sockets, and the kernel crypto API (CVE-2026-31431).
        ("socket-vsock", "errno 1"),
        ("socket-alg", "errno 1"),
        ("socket-inet", "ok"),
        // Above every number the profile knows: ENOSYS, as runc answers.
        ("past-the-table", "errno 38"),
    ];
    for (name, w) in want {
        let r = got
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no result for {name}: {}", stdout(&o)));
        assert!(r.1.starts_with(w), "{name}: {} (want {w})", r.1);
    }

    // The 32-bit ABI (int 0x80) is the classic way around a filter
    // written for the 64-bit table: the filter kills the process.
    let o = probe(&[], &["int80"]);
    eprintln!("int80: exit {:?} {}", o.status.code(), stdout(&o));
    assert_eq!(o.status.code(), Some(128 + libc::SIGSYS), "{}", stdout(&o));
    assert!(!stdout(&o).contains("returned"));

    // Unconfined, the same calls get through (or fail for other reasons):
    // each EPERM above was the filter's.
    let o = probe(&["--security-opt", "seccomp=unconfined"], ATTACKS);
    let got = lines(&o);
    for name in [
        "clone3",
        "clone-newuser",
        "keyctl",
        "add_key",
        "personality-norandom",
    ] {
        let r = got.iter().find(|(n, _)| n == name).unwrap();
        assert_eq!(r.1, "ok", "unconfined {name}");
    }
    let mount = got.iter().find(|(n, _)| n == "mount").unwrap();
    assert!(
        mount.1.starts_with("errno 14"),
        "unconfined mount: {}",
        mount.1
    );
    let o = probe(&["--security-opt", "seccomp=unconfined"], &["int80"]);
    assert_eq!(o.status.code(), Some(0), "unconfined int80: {}", stdout(&o));
}

#[test]
fn exec_gets_the_same_filter() {
    if !root() {
        return;
    }
    let r = Root::new("sec-exec-probe");
    let v = vol(probe_dir());
    let id = r.run_d(&["-v", &v, "sleep", "300"]);
    let o = exec(
        &r,
        &id,
        &["/p/probe", "clone-newuser", "keyctl", "clone3", "fork"],
    );
    eprintln!("exec: {}", stdout(&o));
    assert_eq!(
        lines(&o),
        [
            (
                "clone-newuser".into(),
                "errno 1 (Operation not permitted)".into()
            ),
            ("keyctl".into(), "errno 1 (Operation not permitted)".into()),
            (
                "clone3".into(),
                "errno 38 (Function not implemented)".into()
            ),
            ("fork".into(), "ok".into()),
        ]
    );
}

/// docker's JSON format: everything allowed but mkdir, which fails with
/// EACCES (13); the "includes" entry does not apply without CAP_SYS_BOOT.
const NO_MKDIR: &str = r#"{
  "defaultAction": "SCMP_ACT_ALLOW",
  "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]}],
  "syscalls": [
    {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
    {"names": ["uname"], "action": "SCMP_ACT_ERRNO", "includes": {"caps": ["CAP_SYS_BOOT"]}}
  ]
}"#;

#[test]
fn a_custom_profile_from_a_file() {
    if !root() {
        return;
    }
    let r = Root::new("sec-custom");
    let file = r.0.join("no-mkdir.json");
    std::fs::write(&file, NO_MKDIR).unwrap();
    let opt = format!("seccomp={}", file.display());
    let script = "mkdir /x; echo mkdir=$?; touch /y && echo touch ok; uname -s; ls / >/dev/null && echo ls ok";
    let o = r.out(&[
        "run",
        "--rm",
        "--security-opt",
        &opt,
        "--rootfs",
        &rootfs_str(),
        "sh",
        "-c",
        script,
    ]);
    eprintln!("{}{}", stdout(&o), stderr(&o));
    assert_eq!(
        stdout(&o),
        "mkdir=1\ntouch ok\nLinux\nls ok\n",
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("Permission denied"), "{}", stderr(&o));

    // Detached: exec, and a restart, use the container's profile (kept in
    // its config.json as OCI linux.seccomp).
    let id = r.run_d(&["--security-opt", &opt, "sleep", "300"]);
    let o = exec(&r, &id, &["mkdir", "/z"]);
    assert_ne!(o.status.code(), Some(0));
    assert!(
        stderr(&o).contains("Permission denied"),
        "exec: {}",
        stderr(&o)
    );
    let cfg = std::fs::read_to_string(r.0.join("containers").join(&id).join("config.json"))
        .unwrap_or_default();
    assert!(
        cfg.contains("\"seccomp\"") && cfg.contains("\"errnoRet\": 13"),
        "{cfg}"
    );
    let so = inspect(&r, &id).get("HostConfig").get("SecurityOpt").strs();
    assert!(
        so[0].starts_with("seccomp={") && so[1] == "no-new-privileges",
        "{so:?}"
    );
    assert_eq!(r.out(&["stop", "-t", "0", &id]).status.code(), Some(0));
    let o = r.out(&["start", &id]);
    assert_eq!(o.status.code(), Some(0), "start: {}", stderr(&o));
    let o = exec(
        &r,
        &id,
        &["sh", "-c", "mkdir /w; grep ^Seccomp: /proc/1/status"],
    );
    assert!(stderr(&o).contains("Permission denied"), "{}", stderr(&o));
    assert_eq!(stdout(&o), "Seccomp:\t2\n");
}

/// A profile that refuses execveat(2): `exec` cannot start the command
/// through the dmz then (its child execveat's it after the filter is in,
/// spawn/dmz.rs), and enters sealed instead: the command still runs.
#[test]
fn exec_where_the_profile_refuses_execveat() {
    if !root() {
        return;
    }
    let r = Root::new("sec-noexecat");
    let file = r.0.join("no-execveat.json");
    std::fs::write(
        &file,
        r#"{"defaultAction": "SCMP_ACT_ALLOW",
  "syscalls": [{"names": ["execveat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}"#,
    )
    .unwrap();
    let opt = format!("seccomp={}", file.display());
    let id = r.run_d(&["--security-opt", &opt, "sleep", "300"]);
    let o = exec(
        &r,
        &id,
        &["sh", "-c", "echo ran; grep ^Seccomp: /proc/self/status"],
    );
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(stdout(&o), "ran\nSeccomp:\t2\n", "{o:?}");
    let _ = r.out(&["rm", "-f", &id]);
}

/// `Speculation_Store_Bypass:` of /proc/self/status in a container.
fn ssb(r: &Root, opts: &[&str]) -> String {
    let mut a = vec!["run", "--rm"];
    a.extend(opts);
    let rs = rootfs_str();
    a.extend([
        "--rootfs",
        &rs,
        "grep",
        "^Speculation_Store_Bypass:",
        "/proc/self/status",
    ]);
    let o = r.out(&a);
    assert_eq!(o.status.code(), Some(0), "{opts:?}: {}", stderr(&o));
    status_field(&stdout(&o), "Speculation_Store_Bypass")
}

#[test]
fn seccomp_flags_reach_the_kernel() {
    if !root() {
        return;
    }
    let r = Root::new("sec-flags");
    // Every flag pocket knows, on a profile that still filters: the kernel
    // takes them (a wrong bit is EINVAL, and the run fails) and mkdir is
    // still refused.
    let all = NO_MKDIR.replacen(
        "{",
        r#"{"flags": ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],"#,
        1,
    );
    let file = r.0.join("flags.json");
    std::fs::write(&file, &all).unwrap();
    let opt = format!("seccomp={}", file.display());
    let o = r.out(&[
        "run",
        "--rm",
        "--security-opt",
        &opt,
        "--rootfs",
        &rootfs_str(),
        "sh",
        "-c",
        "mkdir /x; echo mkdir=$?",
    ]);
    assert_eq!(stdout(&o), "mkdir=1\n", "{}", stderr(&o));
    // SECCOMP_FILTER_FLAG_LOG shows: the kernel logs the refused mkdir
    // (an audit record, type 1326), by a process named for this test; the
    // same profile without the flag logs nothing.
    let logged = |flags: &str, tag: &str| -> bool {
        let doc = NO_MKDIR.replacen("{", &format!("{{\"flags\": [{flags}],"), 1);
        std::fs::write(&file, &doc).unwrap();
        let script = format!("cp /bin/busybox /t/{tag} && /t/{tag} mkdir /x");
        let o = r.out(&[
            "run",
            "--rm",
            "--security-opt",
            &opt,
            "--tmpfs",
            "/t:exec",
            "--rootfs",
            &rootfs_str(),
            "sh",
            "-c",
            &script,
        ]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        // The copy worked and mkdir itself was refused.
        assert!(stderr(&o).contains("Permission denied"), "{}", stderr(&o));
        let comm = format!("comm=\"{tag}\"");
        let end = std::time::Instant::now() + std::time::Duration::from_secs(2);
        loop {
            let k = Command::new("dmesg")
                .output()
                .map(|o| stdout(&o))
                .unwrap_or_default();
            if k.lines()
                .any(|l| l.contains("type=1326") && l.contains(&comm))
            {
                return true;
            }
            if std::time::Instant::now() > end {
                return false;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    };
    // Names no earlier run's record can hold: "busybox" first (its
    // multi-call binary runs the applet named next), 15 bytes at most.
    let tag = |n: u32| {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        format!(
            "busybox-{:06x}{n}",
            (t.as_nanos() as u32 ^ std::process::id()) & 0xff_ffff
        )
    };
    let dmesg = Command::new("dmesg").output();
    let cmdline = std::fs::read_to_string("/proc/cmdline").unwrap_or_default();
    let audit =
        std::fs::read_to_string("/proc/sys/kernel/seccomp/actions_logged").unwrap_or_default();
    // auditd, where it runs, takes the records into its own log.
    let auditd = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| {
            std::fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.trim() == "auditd")
        });
    if !dmesg.is_ok_and(|o| o.status.success()) {
        println!("SKIP seccomp LOG flag: the kernel log cannot be read here (dmesg)");
    } else if cmdline.split_whitespace().any(|a| a == "audit=0") {
        println!("SKIP seccomp LOG flag: audit is off (audit=0 on the kernel's command line)");
    } else if !audit.contains("errno") {
        println!(
            "SKIP seccomp LOG flag: the kernel logs no errno action (actions_logged: {})",
            audit.trim()
        );
    } else if auditd {
        println!("SKIP seccomp LOG flag: auditd takes the audit records, not the kernel log");
    } else {
        // The kernel prints audit records at most 10 in 5 s (printk's
        // rate limit): other tests' may have used them up; once more later.
        // (So the check without the flag could pass for that reason too:
        // it guards against a flag set where none was named.)
        let log = "\"SECCOMP_FILTER_FLAG_LOG\"";
        let seen = logged(log, &tag(1)) || {
            std::thread::sleep(std::time::Duration::from_secs(5));
            logged(log, &tag(3))
        };
        assert!(seen, "no audit record of the refused mkdir");
        assert!(
            !logged("", &tag(2)),
            "logged without SECCOMP_FILTER_FLAG_LOG"
        );
    }
    std::fs::write(&file, &all).unwrap();
    // Kept in the container's config.json (OCI linux.seccomp.flags), and
    // its exec runs under them too.
    let id = r.run_d(&["--security-opt", &opt, "sleep", "300"]);
    let cfg = std::fs::read_to_string(r.0.join("containers").join(&id).join("config.json"))
        .unwrap_or_default();
    let v = json(&cfg).unwrap_or_else(|e| panic!("config.json: {e}"));
    assert_eq!(
        v.get("linux").get("seccomp").get("flags").strs(),
        [
            "SECCOMP_FILTER_FLAG_TSYNC",
            "SECCOMP_FILTER_FLAG_LOG",
            "SECCOMP_FILTER_FLAG_SPEC_ALLOW"
        ],
        "{cfg}"
    );
    let o = exec(&r, &id, &["sh", "-c", "mkdir /z; echo mkdir=$?"]);
    assert_eq!(stdout(&o), "mkdir=1\n", "{}", stderr(&o));
    r.out(&["rm", "-f", &id]);

    // SPEC_ALLOW by default (crun's, runc's): where the kernel forces the
    // Speculative Store Bypass mitigation on seccomp-confined processes,
    // pocket's containers run without it unless a profile says
    // `"flags": []`.
    let mode = std::fs::read_to_string("/sys/devices/system/cpu/vulnerabilities/spec_store_bypass")
        .unwrap_or_default();
    if !mode.contains("seccomp") {
        println!(
            "SKIP seccomp SPEC_ALLOW effect: the kernel does not mitigate Speculative Store Bypass through seccomp here (spec_store_bypass: {})",
            mode.trim()
        );
        return;
    }
    let host = status_field(
        &std::fs::read_to_string("/proc/self/status").unwrap(),
        "Speculation_Store_Bypass",
    );
    assert_eq!(
        ssb(&r, &[]),
        host,
        "the built-in profile forced the SSB mitigation"
    );
    let none = NO_MKDIR.replacen("{", r#"{"flags": [],"#, 1);
    std::fs::write(&file, &none).unwrap();
    assert_eq!(ssb(&r, &["--security-opt", &opt]), "thread force mitigated");
}

#[test]
fn no_new_privileges_false_lets_setuid_work() {
    if !root() {
        return;
    }
    // A setuid-root copy of the probe, run as nobody, from a named volume
    // (in the store): a host directory is mounted nosuid (README), which
    // is checked at the end.
    let name = format!("probe-suid-{}", std::process::id());
    let o = pocket(&["volume", "create", &name]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let data = state_root().join("volumes").join(&name).join("_data");
    let bin = data.join("probe");
    copy_exe(probe_dir().join("probe"), &bin);
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o4755)).unwrap();
    let named = format!("{name}:/p:ro");
    let host = vol(&data);
    let args = |v: &str, extra: &[&'static str]| {
        let mut a: Vec<String> = ["run", "--rm", "-u", "nobody", "-v", v]
            .iter()
            .map(|s| s.to_string())
            .collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        a.extend(["--rootfs".into(), rootfs_str(), "sh".into(), "-c".into()]);
        a.push("/p/probe euid; grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status".into());
        a
    };
    // Default: the setuid bit gives nothing (no_new_privs).
    let o = pocket(&args(&named, &[])).output().unwrap();
    let s = stdout(&o);
    eprintln!("default: {s}");
    assert!(
        s.contains("euid: 65534\n"),
        "setuid worked under no_new_privs: {s}"
    );
    assert_eq!(status_field(&s, "NoNewPrivs"), "1");
    // Off (docker's default): the setuid bit works, and the filter is
    // still there (installed before the capabilities were dropped).
    for flag in ["no-new-privileges=false", "no-new-privileges:false"] {
        let o = pocket(&args(&named, &["--security-opt", flag]))
            .output()
            .unwrap();
        let s = stdout(&o);
        eprintln!("{flag}: {s}");
        assert!(s.contains("euid: 0\n"), "{flag}: {s} {}", stderr(&o));
        assert_eq!(status_field(&s, "NoNewPrivs"), "0");
        assert_eq!(status_field(&s, "Seccomp"), "2");
    }
    // The same file through a bind of its host directory: nosuid there,
    // so nothing even without no_new_privs.
    let o = pocket(&args(&host, &["--security-opt", "no-new-privileges=false"]))
        .output()
        .unwrap();
    let s = stdout(&o);
    assert!(
        s.contains("euid: 65534\n"),
        "setuid through a host bind: {s}"
    );
    let _ = pocket(&["volume", "rm", &name]).output();
}

/// Pocket's cgroup directories on this host, in every hierarchy.
fn pocket_cgroups() -> Vec<PathBuf> {
    let mut out = vec![];
    for h in std::fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
        let p = h.path().join("pocket");
        for e in std::fs::read_dir(&p).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                out.push(e.path());
            }
        }
    }
    let own = Path::new("/sys/fs/cgroup/pocket");
    for e in std::fs::read_dir(own).into_iter().flatten().flatten() {
        if e.path().is_dir() {
            out.push(e.path());
        }
    }
    out
}

#[test]
fn a_bad_profile_is_one_line_125_and_leaves_nothing() {
    if !root() {
        return;
    }
    let r = Root::new("sec-bad");
    let bad = r.0.join("bad.json");
    let cases: &[(&str, &str, &str)] = &[
        ("{\"defaultAction\": ", "", "seccomp profile"),
        (
            r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_FROB"}]}"#,
            "",
            "syscalls[0].action: unknown action",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":9,"op":"SCMP_CMP_EQ"}]}]}"#,
            "",
            "index: must be 0 to 5",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_FROB"]}"#,
            "",
            "flags: SECCOMP_FILTER_FLAG_FROB is not supported",
        ),
        ("", "seccomp=/nonexistent/profile.json", "No such file"),
        ("", "seccomp", "invalid --security-opt"),
        ("", "no-new-privileges=maybe", "invalid --security-opt"),
    ];
    let mounts = host_mounts();
    let before = pocket_cgroups();
    for (doc, opt, msg) in cases {
        std::fs::write(&bad, doc).unwrap();
        let opt = if opt.is_empty() {
            format!("seccomp={}", bad.display())
        } else {
            opt.to_string()
        };
        let o = r.out(&[
            "run",
            "--name",
            "bad",
            "--security-opt",
            &opt,
            "--rootfs",
            &rootfs_str(),
            "true",
        ]);
        eprintln!("{opt}: {}", stderr(&o).trim());
        assert_eq!(o.status.code(), Some(125), "{opt}");
        one_error_line(&o, &opt);
        assert!(stderr(&o).contains(msg), "{opt}: {}", stderr(&o));
        // No record, no name taken, no container directory.
        assert_eq!(stdout(&r.out(&["ps", "-aq"])), "", "{opt}: a record");
        assert_eq!(
            r.state_entries(),
            Vec::<String>::new(),
            "{opt}: a container directory"
        );
    }
    assert_eq!(host_mounts(), mounts, "a mount leaked");
    // No cgroup: anything new in pocket's groups is another container's
    // (this file's other tests run alongside, and so may other pocket
    // test runs): one with a record in some state root, or a process.
    let known = || -> Vec<String> {
        let mut ids = vec![];
        // (Volatile containers, --rm and OCI, live in the run directory.)
        let mut roots = vec![
            PathBuf::from("/var/lib/pocket"),
            PathBuf::from("/run/pocket"),
        ];
        for e in std::fs::read_dir(std::env::temp_dir()).unwrap().flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n.starts_with("pocket-root-") || n.starts_with("pocket-state-") {
                roots.push(e.path().join("run"));
                roots.push(e.path());
            }
        }
        for root in roots {
            for c in std::fs::read_dir(root.join("containers"))
                .into_iter()
                .flatten()
                .flatten()
            {
                ids.push(c.file_name().to_string_lossy().into_owned());
            }
        }
        ids
    };
    let leaked = || -> Vec<PathBuf> {
        let ids = known();
        pocket_cgroups()
            .into_iter()
            .filter(|p| !before.contains(p))
            .filter(|p| !ids.iter().any(|id| p.ends_with(id)))
            .filter(|p| {
                std::fs::read_to_string(p.join("cgroup.procs")).is_ok_and(|s| s.trim().is_empty())
            })
            .collect()
    };
    if !leaked().is_empty() {
        std::thread::sleep(std::time::Duration::from_secs(1));
        assert_eq!(leaked(), Vec::<PathBuf>::new(), "a cgroup leaked");
    }
    // The same name works once the flags are right: nothing was held.
    let o = r.out(&[
        "run",
        "--rm",
        "--name",
        "bad",
        "--rootfs",
        &rootfs_str(),
        "true",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}
