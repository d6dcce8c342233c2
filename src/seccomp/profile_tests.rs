use super::*;
use crate::seccomp::bpf::tests::{ALLOW, ENOSYS, EPERM, I386, KILL, call, run};
use crate::seccomp::bpf::{X32_SYSCALL_BIT, compile};
use crate::spec::DEFAULT_CAPS;
use syscalls::Sysno;

fn prog(caps: u64) -> Vec<crate::sys::seccomp::SockFilter> {
    compile(DEFAULT_ACTION.ret(), &rules(caps)).unwrap()
}

fn r(p: &[crate::sys::seccomp::SockFilter], nr: Sysno, args: &[u64]) -> u32 {
    run(p, &call(nr as u32, args)).0
}

const CLONE_NEWUSER: u64 = 0x1000_0000;
const CLONE_NEWNET: u64 = 0x4000_0000;
/// What glibc's pthread_create passes.
const THREAD: u64 = 0x3d0f00;

#[test]
fn docker_defaults_for_a_default_container() {
    let p = prog(DEFAULT_CAPS);
    for nr in [
        Sysno::read,
        Sysno::execve,
        Sysno::close_range,
        Sysno::capset,
        Sysno::ptrace,
        Sysno::arch_prctl,
        Sysno::futex_wake,
        Sysno::removexattrat,
        Sysno::chroot, // CAP_SYS_CHROOT is in docker's set
    ] {
        assert_eq!(r(&p, nr, &[]), ALLOW, "{nr}");
    }
    for nr in [
        Sysno::keyctl,
        Sysno::add_key,
        Sysno::request_key,
        Sysno::mount,
        Sysno::umount2,
        Sysno::unshare,
        Sysno::setns,
        Sysno::reboot,
        Sysno::bpf,
        Sysno::perf_event_open,
        Sysno::io_uring_setup,
        Sysno::kexec_load,
        Sysno::init_module,
        Sysno::open_by_handle_at,
        Sysno::userfaultfd,
        Sysno::uprobe,
        Sysno::lsm_get_self_attr,
    ] {
        assert_eq!(r(&p, nr, &[]), EPERM, "{nr}");
    }
    // Numbers past docker's highest (removexattrat, 466): ENOSYS, as
    // runc answers, so a libc tries the older call instead.
    assert_eq!(r(&p, Sysno::open_tree_attr, &[]), ENOSYS);
    assert_eq!(run(&p, &call(1000, &[])).0, ENOSYS);
    // clone3's flags are out of reach: ENOSYS sends glibc to clone.
    assert_eq!(r(&p, Sysno::clone3, &[]), ENOSYS);
    // clone: fork and threads, no namespaces.
    assert_eq!(r(&p, Sysno::clone, &[17]), ALLOW);
    assert_eq!(r(&p, Sysno::clone, &[THREAD]), ALLOW);
    assert_eq!(r(&p, Sysno::clone, &[CLONE_NEWUSER | 17]), EPERM);
    assert_eq!(r(&p, Sysno::clone, &[CLONE_NEWNET]), EPERM);
    assert_eq!(r(&p, Sysno::clone, &[0x0002_0000]), EPERM); // CLONE_NEWNS
    // personality: docker's five values only.
    for v in [0, 8, 0x20000, 0x20008, 0xffff_ffff] {
        assert_eq!(r(&p, Sysno::personality, &[v]), ALLOW, "{v:#x}");
    }
    for v in [0x40000, 0x1_0000_0000, 0xffff_ffff_ffff_ffff] {
        assert_eq!(r(&p, Sysno::personality, &[v]), EPERM, "{v:#x}");
    }
    // socket: every family but the dropped ones, AF_ALG and AF_VSOCK.
    for d in [1, 2, 10, 11, 16, 17, 29, 39, 45] {
        assert_eq!(r(&p, Sysno::socket, &[d, 1]), ALLOW, "{d}");
    }
    // (0, AF_UNSPEC, passes the `< 12` rule: no socket has that family.)
    for d in [12, 19, 20, 37, 38, 40, 46, 1 << 32 | 2] {
        assert_eq!(r(&p, Sysno::socket, &[d, 1]), EPERM, "{d}");
    }
    // Other ABIs.
    assert_eq!(run(&p, &call(X32_SYSCALL_BIT, &[])).0, ENOSYS);
    let mut d = call(Sysno::read as u32, &[]);
    d.arch = I386;
    assert_eq!(run(&p, &d).0, KILL);
}

#[test]
fn capabilities_open_their_syscalls() {
    let p = prog(DEFAULT_CAPS | SYS_ADMIN);
    for nr in [Sysno::mount, Sysno::unshare, Sysno::setns, Sysno::clone3] {
        assert_eq!(r(&p, nr, &[]), ALLOW, "{nr}");
    }
    assert_eq!(r(&p, Sysno::clone, &[CLONE_NEWUSER]), ALLOW);
    assert_eq!(r(&prog(DEFAULT_CAPS), Sysno::reboot, &[]), EPERM);
    assert_eq!(r(&prog(DEFAULT_CAPS | SYS_BOOT), Sysno::reboot, &[]), ALLOW);
    assert_eq!(r(&prog(DEFAULT_CAPS | BPF), Sysno::bpf, &[]), ALLOW);
    assert_eq!(r(&prog(DEFAULT_CAPS | SYS_PTRACE), Sysno::kcmp, &[]), ALLOW);
    assert_eq!(r(&prog(0), Sysno::chroot, &[]), EPERM);
    assert_eq!(r(&prog(0), Sysno::read, &[]), ALLOW);
}

#[test]
fn fast_path_is_short() {
    // Every allowed call costs a handful of instructions: arch, x32 and
    // ENOSYS checks, then the search tree.
    let p = prog(DEFAULT_CAPS);
    let worst = (0..=466)
        .filter(|&nr| nr != Sysno::socket as u32 && nr != Sysno::personality as u32)
        .map(|nr| run(&p, &call(nr, &[17])).1)
        .max()
        .unwrap();
    eprintln!("{} instructions, at most {worst} run per syscall", p.len());
    assert!(worst <= 20, "{worst}");
    assert!(p.len() < 250, "{}", p.len());
}

#[test]
fn socket_rules_have_mobys_shape() {
    assert_eq!(FIRST_GAP, 12);
    assert_eq!(SOCKET.len(), 26);
    assert_eq!((SOCKET[0].op, SOCKET[0].value), (Op::Lt, 12));
    assert!(SOCKET[1..].iter().all(|a| a.op == Op::Eq && a.value > 12));
    assert!(SOCKET_DOMAINS & (1 << 38 | 1 << 40) == 0);
}

/// The table as the JSON docker ships (names, includes/excludes caps),
/// read back by `json::parse`, compiles to the very same program.
#[test]
fn same_program_from_the_table_and_from_docker_json() {
    let cap_name = |m: u64| crate::spec::caps::NAMES[m.trailing_zeros() as usize];
    let arg = |a: &Arg| {
        let op = match a.op {
            Op::Eq => "SCMP_CMP_EQ",
            Op::Lt => "SCMP_CMP_LT",
            Op::MaskedEq => "SCMP_CMP_MASKED_EQ",
            _ => unreachable!(),
        };
        format!(
            r#"{{"index":{},"value":{},"valueTwo":{},"op":"{op}"}}"#,
            a.index, a.value, a.value_two
        )
    };
    let mut entries = Vec::new();
    let mut entry = |names: &[u16], action: Action, args: &[Arg], needs: u64, unless: u64| {
        let names: Vec<String> = names
            .iter()
            .map(|&n| format!("{:?}", Sysno::new(n as usize).unwrap().name()))
            .collect();
        let (act, ret) = match action {
            Action::Allow => ("SCMP_ACT_ALLOW", String::new()),
            Action::Errno(e) => ("SCMP_ACT_ERRNO", format!(r#","errnoRet":{e}"#)),
            _ => unreachable!(),
        };
        let args: Vec<String> = args.iter().map(arg).collect();
        let caps = |m: u64, key: &str| match m {
            0 => String::new(),
            m => format!(r#","{key}":{{"caps":["{}"]}}"#, cap_name(m)),
        };
        entries.push(format!(
            r#"{{"names":[{}],"action":"{act}"{ret},"args":[{}]{}{}}}"#,
            names.join(","),
            args.join(","),
            caps(needs, "includes"),
            caps(unless, "excludes"),
        ));
    };
    for g in GROUPS {
        entry(g.names, g.action, g.args, g.needs, g.unless);
    }
    let doc = format!(
        r#"{{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,
        "archMap":[{{"architecture":"SCMP_ARCH_X86_64","subArchitectures":["SCMP_ARCH_X86","SCMP_ARCH_X32"]}},
        {{"architecture":"SCMP_ARCH_AARCH64","subArchitectures":["SCMP_ARCH_ARM"]}}],
        "syscalls":[{}]}}"#,
        entries.join(",\n")
    );
    for caps in [
        0,
        DEFAULT_CAPS,
        DEFAULT_CAPS | SYS_ADMIN | SYS_BOOT,
        u64::MAX >> 23,
    ] {
        let p = crate::seccomp::json::parse(doc.as_bytes(), caps).unwrap();
        assert_eq!(p.architectures.len(), 3);
        let from_json = compile(p.default.ret(), &crate::seccomp::json::rules(&p)).unwrap();
        assert_eq!(from_json, prog(caps), "caps {caps:#x}");
    }
}
