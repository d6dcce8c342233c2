use super::*;
use crate::seccomp::bpf::compile;
use crate::seccomp::bpf::tests::{ALLOW, EPERM, agree, call, run};
use crate::seccomp::profile::SYS_ADMIN;
use syscalls::Sysno;

const DENY_MKDIR: &str = r#"{
  "defaultAction": "SCMP_ACT_ALLOW",
  "architectures": ["SCMP_ARCH_X86_64"],
  "syscalls": [
    {"names": ["mkdir", "mkdirat", "chown32"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
    {"name": "mount", "action": "SCMP_ACT_KILL_PROCESS", "comment": "ignored"},
    {"names": ["reboot"], "action": "SCMP_ACT_ERRNO", "includes": {"caps": ["CAP_SYS_BOOT"]}},
    {"names": ["unshare"], "action": "SCMP_ACT_ERRNO", "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
    {"names": ["ioperm"], "action": "SCMP_ACT_ERRNO", "includes": {"arches": ["s390x"]}},
    {"names": ["iopl"], "action": "SCMP_ACT_ERRNO", "excludes": {"arches": ["amd64"]}},
    {"names": ["uname"], "action": "SCMP_ACT_ERRNO", "includes": {"arches": ["amd64"], "minKernel": "4.8"}},
    {"names": ["kill"], "action": "SCMP_ACT_ERRNO",
     "args": [{"index": 1, "value": 9, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 15, "op": "SCMP_CMP_EQ"}]},
    {"names": ["socket"], "action": "SCMP_ACT_TRACE", "errnoRet": 7,
     "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 255, "valueTwo": 3, "op": "SCMP_CMP_MASKED_EQ"}]}
  ]
}"#;

fn names(p: &Profile) -> Vec<&str> {
    p.syscalls.iter().map(|s| s.names[0].as_str()).collect()
}

#[test]
fn includes_and_excludes_resolve_like_docker() {
    let p = parse(DENY_MKDIR.as_bytes(), 0).unwrap();
    assert_eq!(p.default, Action::Allow);
    assert_eq!(
        names(&p),
        ["mkdir", "mount", "unshare", "uname", "kill", "socket"]
    );
    assert_eq!(p.syscalls[0].action, Action::Errno(13));
    assert_eq!(p.syscalls[5].action, Action::Trace(7));
    let boot = 1 << 22;
    let p = parse(DENY_MKDIR.as_bytes(), boot | SYS_ADMIN).unwrap();
    assert_eq!(
        names(&p),
        ["mkdir", "mount", "reboot", "uname", "kill", "socket"]
    );
}

#[test]
fn compiles_with_runc_semantics() {
    let p = parse(DENY_MKDIR.as_bytes(), 0).unwrap();
    let rules = rules(&p);
    // chown32 is not an x86_64 call: skipped. The kill rule tests
    // argument 1 twice: two rules, an OR.
    assert_eq!(
        rules.iter().filter(|r| r.nr == Sysno::kill as u32).count(),
        2
    );
    let prog = agree(p.default.ret(), &rules);
    let r = |nr: Sysno, a: &[u64]| run(&prog, &call(nr as u32, a)).0;
    assert_eq!(r(Sysno::mkdir, &[]), 0x0005_000d);
    assert_eq!(r(Sysno::rmdir, &[]), ALLOW);
    assert_eq!(r(Sysno::mount, &[]), 0x8000_0000);
    assert_eq!(r(Sysno::kill, &[1, 9]), EPERM);
    assert_eq!(r(Sysno::kill, &[1, 15]), EPERM);
    assert_eq!(r(Sysno::kill, &[1, 2]), ALLOW);
    assert_eq!(r(Sysno::socket, &[2, 0x803]), 0x7ff0_0007);
    assert_eq!(r(Sysno::socket, &[2, 1]), ALLOW);
    // Default allow: no ENOSYS stub past the highest rule.
    assert_eq!(run(&prog, &call(460, &[])).0, ALLOW);
}

#[test]
fn oci_form_round_trips() {
    for caps in [0, u64::MAX >> 23] {
        let p = parse(DENY_MKDIR.as_bytes(), caps).unwrap();
        let v = to_value(&p);
        let text = crate::json::compact(&v);
        assert!(
            !text.contains("includes") && text.contains("\"errnoRet\":13"),
            "{text}"
        );
        assert_eq!(parse(text.as_bytes(), 0).unwrap(), p);
    }
    let p = parse(br#"{"defaultAction":"SCMP_ACT_ERRNO"}"#, 0).unwrap();
    assert_eq!(p.default, Action::Errno(1));
    assert!(compile(p.default.ret(), &rules(&p)).is_ok());
}

#[test]
fn flags_round_trip_and_default_to_spec_allow() {
    use crate::seccomp::Seccomp;
    let doc = |f: &str| format!(r#"{{"defaultAction":"SCMP_ACT_ALLOW"{f}}}"#);
    let p = parse(doc("").as_bytes(), 0).unwrap();
    assert_eq!(p.flags, None);
    assert!(!crate::json::compact(&to_value(&p)).contains("flags"));
    // None named: SPEC_ALLOW (4), as crun and runc; the built-in profile too.
    assert_eq!(Seccomp::Profile(p).flags(), 4);
    assert_eq!(Seccomp::Builtin.flags(), 4);
    // An empty list is no flag at all: the kernel's mitigation stays.
    let p = parse(doc(r#","flags":[]"#).as_bytes(), 0).unwrap();
    assert_eq!(p.flags, Some(0));
    assert_eq!(Seccomp::Profile(p.clone()).flags(), 0);
    assert_eq!(
        parse(crate::json::compact(&to_value(&p)).as_bytes(), 0).unwrap(),
        p
    );
    let p = parse(
        doc(r#","flags":["SECCOMP_FILTER_FLAG_LOG","SECCOMP_FILTER_FLAG_TSYNC"]"#).as_bytes(),
        0,
    )
    .unwrap();
    assert_eq!(Seccomp::Profile(p.clone()).flags(), 1 | 2);
    let text = crate::json::compact(&to_value(&p));
    assert!(
        text.contains(r#""flags":["SECCOMP_FILTER_FLAG_TSYNC","SECCOMP_FILTER_FLAG_LOG"]"#),
        "{text}"
    );
    assert_eq!(parse(text.as_bytes(), 0).unwrap(), p);
    for (f, why) in [
        (
            r#","flags":["SECCOMP_FILTER_FLAG_NEW_LISTENER"]"#,
            "flags: SECCOMP_FILTER_FLAG_NEW_LISTENER is not supported",
        ),
        (
            r#","flags":"SECCOMP_FILTER_FLAG_LOG""#,
            "flags: must be an array of strings",
        ),
    ] {
        assert_eq!(parse(doc(f).as_bytes(), 0).unwrap_err(), why);
    }
}

#[test]
fn bad_profiles_say_why() {
    for (doc, why) in [
        ("{", "at byte 1"),
        ("[]", "JSON object"),
        ("{}", "defaultAction: missing"),
        (r#"{"defaultAction":"SCMP_ACT_NOPE"}"#, "unknown action"),
        (r#"{"defaultAction":"SCMP_ACT_NOTIFY"}"#, "not supported"),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","defaultErrnoRet":1}"#,
            "errnoRet",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":-1}"#,
            "non-negative",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":65536}"#,
            "range",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":{}}"#,
            "array",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"]}]}"#,
            "syscalls[0].action: missing",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":"read","action":"SCMP_ACT_ERRNO"}]}"#,
            "names: must be an array",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"name":"a","names":["b"],"action":"SCMP_ACT_ERRNO"}]}"#,
            "either 'name' or 'names'",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":6,"value":1,"op":"SCMP_CMP_EQ"}]}]}"#,
            "index: must be 0 to 5",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":1,"op":"SCMP_CMP_XX"}]}]}"#,
            "unknown operator",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],"archMap":[]}"#,
            "either 'architectures' or 'archMap'",
        ),
    ] {
        let e = parse(doc.as_bytes(), 0).unwrap_err();
        assert!(e.contains(why), "{doc}: {e}");
    }
}

/// Hostile profiles, for a container with no caps, docker's default set
/// or all of them: a refusal is one line as `--security-opt` prints it
/// (the raw text may hold a name's newline: Error's Display escapes it);
/// what is read compiles or is refused, and its OCI form reads back the
/// same.
#[test]
fn hostile_seccomp_profile() {
    const DOCKER_LIKE: &str = r#"{
  "defaultAction": "SCMP_ACT_ERRNO",
  "defaultErrnoRet": 1,
  "archMap": [
    {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
    {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}
  ],
  "syscalls": [
    {"names": ["accept", "accept4", "access", "brk", "clock_gettime", "close", "dup3", "execve", "exit_group", "futex", "read", "write"],
     "action": "SCMP_ACT_ALLOW"},
    {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 0, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]},
    {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
     "args": [{"index": 0, "value": 2114060288, "op": "SCMP_CMP_MASKED_EQ"}],
     "excludes": {"caps": ["CAP_SYS_ADMIN"], "arches": ["s390", "s390x"]}},
    {"names": ["bpf", "mount", "umount2", "setns"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
    {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64", "x32"]}},
    {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
    {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22, "args": [{"index": 0, "value": 40, "op": "SCMP_CMP_NE"}]}
  ]
}"#;
    let corpus: &[&[u8]] = &[
        DENY_MKDIR.as_bytes(),
        DOCKER_LIKE.as_bytes(),
        br#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"name":"kill","action":"SCMP_ACT_LOG","args":[{"index":5,"value":18446744073709551615,"op":"SCMP_CMP_GE"}]}]}"#,
    ];
    let dict: &[&[u8]] = &[
        b"\"SCMP_ACT_",
        b"\"SCMP_CMP_",
        b"\"SCMP_ARCH_X86_64\"",
        b"\"errnoRet\":",
        b"\"includes\":{\"caps\":[\"CAP_SYS_ADMIN\"]}",
        b"\"excludes\":{\"arches\":[\"amd64\"]}",
        b"\"args\":[{\"index\":",
        b"\"names\":[",
        b"65535",
        b"65536",
    ];
    for c in corpus {
        parse(c, 0).unwrap();
    }
    let all = u64::MAX >> 23;
    crate::rt::fuzz::run(
        "seccomp profile",
        corpus,
        dict,
        std::time::Duration::from_secs(60),
        |b| {
            let caps = [0, crate::spec::DEFAULT_CAPS, all][b.len() % 3];
            let refused = |why: String| {
                format!(
                    "{}",
                    crate::error::Error::bad("seccomp profile", "profile.json", why)
                )
            };
            let p = parse(b, caps).map_err(refused)?;
            let s = crate::seccomp::Seccomp::Profile(p.clone());
            crate::seccomp::build(&s, caps).map_err(|e| format!("{e}"))?;
            let text = crate::json::compact(&to_value(&p));
            let back = parse(text.as_bytes(), caps).map_err(refused)?;
            assert_eq!(back, p, "a profile's OCI form does not read back the same");
            Ok(())
        },
    );
}
