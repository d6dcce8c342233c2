//! Capabilities as docker gives them, and the flags that change them:
//! --cap-add / --cap-drop (names with or without CAP_, any case, ALL) and
//! --privileged. Checked from inside (/proc/self/status, what the kernel
//! lets the container do) and in `inspect`.

mod common;
use common::*;

fn cap_eff(out: &str) -> u64 {
    let l = out
        .lines()
        .find(|l| l.starts_with("CapEff:"))
        .unwrap_or_else(|| panic!("no CapEff in {out:?}"));
    u64::from_str_radix(l.split_whitespace().nth(1).unwrap(), 16).unwrap()
}

/// This process's bounding set: what pocket (run from here) can hand on.
fn host_bounding() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    let l = s.lines().find(|l| l.starts_with("CapBnd:")).unwrap();
    u64::from_str_radix(l.split_whitespace().nth(1).unwrap(), 16).unwrap()
}

const CAP_KILL: u64 = 1 << 5;
const CAP_NET_RAW: u64 = 1 << 13;
const CAP_SYS_ADMIN: u64 = 1 << 21;
const CAP_SYS_RESOURCE: u64 = 1 << 24;

#[test]
fn cap_add_and_cap_drop_as_docker() {
    if !root() {
        return;
    }
    let r = Root::new("capsflags");
    let rootfs = rootfs_str();
    let status = |extra: &[&str]| {
        let mut a = vec!["run", "--rm", "--rootfs", &rootfs];
        a.extend(extra);
        a.extend(["cat", "/proc/self/status"]);
        let o = r.out(&a);
        assert_eq!(o.status.code(), Some(0), "{extra:?}: {}", stderr(&o));
        cap_eff(&stdout(&o))
    };
    let default = status(&[]);
    assert_eq!(default & (CAP_SYS_ADMIN | CAP_SYS_RESOURCE), 0);
    assert_ne!(default & CAP_NET_RAW, 0);
    // Only KILL: drop ALL, add one (either spelling, any case).
    assert_eq!(
        status(&["--cap-drop", "ALL", "--cap-add", "kill"]),
        CAP_KILL
    );
    assert_eq!(
        status(&["--cap-drop", "all", "--cap-add", "CAP_KILL"]),
        CAP_KILL
    );
    assert_eq!(status(&["--cap-drop", "NET_RAW"]), default & !CAP_NET_RAW);
    assert_eq!(status(&["--cap-add", "sys_admin"]), default | CAP_SYS_ADMIN);
    // docker upper-cases before it adds CAP_: "cap_sys_admin" is a name.
    assert_eq!(
        status(&["--cap-add", "cap_sys_admin", "--cap-drop", "Cap_Net_Raw"]),
        (default | CAP_SYS_ADMIN) & !CAP_NET_RAW
    );
    // ALL: everything this host lets pocket hand on (not SYS_RESOURCE
    // on this machine's kind: its bounding set lacks it).
    assert_eq!(
        status(&["--cap-add", "ALL", "--cap-drop", "kill"]),
        host_bounding() & !CAP_KILL & ((1 << 41) - 1)
    );

    // The effect, not just the bits: ping needs NET_RAW, mount SYS_ADMIN.
    let run = |extra: &[&str], cmd: &str| {
        let mut a = vec!["run", "--rm", "--rootfs", &rootfs];
        a.extend(extra);
        a.extend(["sh", "-c", cmd]);
        r.out(&a)
    };
    let ping = "ping -c 1 -W 1 127.0.0.1 >/dev/null 2>&1; echo $?";
    assert_eq!(stdout(&run(&[], ping)), "0\n");
    assert_eq!(stdout(&run(&["--cap-drop", "net_raw"], ping)), "1\n");
    let mount = "mount -t tmpfs t /tmp 2>/dev/null; echo $?";
    assert_ne!(stdout(&run(&[], mount)), "0\n");
    // docker's profile opens mount to CAP_SYS_ADMIN.
    assert_eq!(stdout(&run(&["--cap-add", "SYS_ADMIN"], mount)), "0\n");

    // exec keeps the container's set.
    let o = r.out(&[
        "run",
        "-d",
        "--cap-drop",
        "ALL",
        "--cap-add",
        "KILL",
        "--rootfs",
        &rootfs,
        "sleep",
        "30",
    ]);
    let id = stdout(&o).trim().to_string();
    let o = r.out(&["exec", &id, "cat", "/proc/self/status"]);
    assert_eq!(cap_eff(&stdout(&o)), CAP_KILL);
    let ins = stdout(&r.out(&["inspect", &id]));
    assert!(ins.contains("\"Privileged\": false"), "{ins}");
    assert!(
        ins.contains("\"CapDrop\": [\n        \"CAP_CHOWN\""),
        "{ins}"
    );
    r.out(&["rm", "-f", &id]);

    // Bad names: docker's words, 125, nothing made.
    for (flags, want) in [
        (
            ["--cap-add", "FOO"],
            "pocket: invalid CapAdd: unknown capability: \"CAP_FOO\"\n",
        ),
        (
            ["--cap-drop", "cap_bar"],
            "pocket: invalid CapDrop: unknown capability: \"CAP_BAR\"\n",
        ),
    ] {
        let mut a = vec!["run", "--rootfs", &rootfs];
        a.extend(flags);
        a.push("true");
        let o = r.out(&a);
        assert_eq!(o.status.code(), Some(125));
        assert_eq!(stderr(&o), want);
    }
    if host_bounding() & CAP_SYS_RESOURCE == 0 {
        // What the host withholds from pocket cannot be given by name.
        let o = r.out(&[
            "run",
            "--rootfs",
            &rootfs,
            "--cap-add",
            "SYS_RESOURCE",
            "true",
        ]);
        assert_eq!(o.status.code(), Some(125));
        assert!(
            stderr(&o).contains("CAP_SYS_RESOURCE: not in pocket's own capability bounding set")
        );
    } else {
        features::skip(
            "--cap-add of a withheld capability",
            "this host's bounding set has every capability",
        );
    }
    assert_eq!(r.state_entries(), Vec::<String>::new());
}

/// docker --privileged: every capability, no masked or read-only /proc
/// paths, /sys writable.
#[test]
fn privileged_lifts_the_defaults() {
    if !root() {
        return;
    }
    let r = Root::new("capspriv");
    let rootfs = rootfs_str();
    let check = "grep -E 'CapEff|Seccomp:' /proc/self/status; \
        grep -E ' /sys | /proc/sys | /proc/keys ' /proc/self/mountinfo | awk '{print $5, $6}'";
    let o = r.out(&["run", "--rm", "--rootfs", &rootfs, "sh", "-c", check]);
    let plain = stdout(&o);
    assert!(plain.contains("/sys ro,"), "{plain}");
    assert!(plain.contains("/proc/sys ro,"), "{plain}");
    assert!(plain.contains("/proc/keys"), "{plain}");
    let o = r.out(&[
        "run",
        "--rm",
        "--privileged",
        "--rootfs",
        &rootfs,
        "sh",
        "-c",
        check,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(cap_eff(&out), host_bounding() & ((1 << 41) - 1), "{out}");
    assert!(out.contains("/sys rw,"), "{out}");
    // No seccomp filter (docker: privileged containers are unconfined).
    assert!(out.contains("Seccomp:\t0"), "{out}");
    assert!(plain.contains("Seccomp:\t2"), "{plain}");
    assert!(!out.contains("/proc/sys "), "{out}");
    assert!(!out.contains("/proc/keys"), "{out}");
    // The host's device nodes, all allowed: /dev/kmsg (c 1:11), which
    // docker's default list leaves out.
    let kmsg = "ls /dev/kmsg >/dev/null 2>&1 && echo present; \
        dd if=/dev/kmsg of=/dev/null bs=8k count=1 2>/dev/null && echo read";
    let o = r.out(&["run", "--rm", "--rootfs", &rootfs, "sh", "-c", kmsg]);
    assert_eq!(stdout(&o), "", "{}", stderr(&o));
    let o = r.out(&[
        "run",
        "--rm",
        "--privileged",
        "--rootfs",
        &rootfs,
        "sh",
        "-c",
        kmsg,
    ]);
    assert_eq!(stdout(&o), "present\nread\n", "{}", stderr(&o));
    let o = r.out(&[
        "run",
        "-d",
        "--privileged",
        "--rootfs",
        &rootfs,
        "sleep",
        "30",
    ]);
    let id = stdout(&o).trim().to_string();
    let ins = stdout(&r.out(&["inspect", &id]));
    assert!(ins.contains("\"Privileged\": true"), "{ins}");
    // Privileged root can mount (SYS_ADMIN), in its own mount namespace.
    let o = r.out(&[
        "exec",
        &id,
        "sh",
        "-c",
        "mount -t tmpfs t /tmp && echo mounted",
    ]);
    assert_eq!(stdout(&o), "mounted\n", "{}", stderr(&o));
    r.out(&["rm", "-f", &id]);
}
