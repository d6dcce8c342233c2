//! The dmz: a program (143 bytes of code in a 319-byte ELF file) through
//! which `exec` starts the command,
//! so that pocket need not re-execute itself sealed (spawn/sealed.rs,
//! ~0.2 ms of an exec's ~2 ms here) to enter a container safely.
//!
//! What CVE-2019-5736 needs is an execve, inside the container, by a
//! process whose binary is the host's pocket: a command that is a script
//! with `#!/proc/self/exe` (or a link to it) then runs the host's pocket
//! in the container, as a process the container may open /proc/PID/exe
//! of. Here the last execve pocket's child makes is of this program, from
//! a sealed memfd; the command's execve is the program's, so
//! /proc/self/exe is the memfd then, which nothing can write (runc 1.2's
//! runc-dmz, with more limits: `fits`). Until that execve the child is
//! not dumpable, so only a process with CAP_SYS_PTRACE could open its
//! /proc/PID/exe: `fits` keeps the dmz to containers where no process
//! that sees the child may hold it.
//!
//! The program (x86_64, no libc, one PT_LOAD), with its argv as
//! `[FD, PATH, ARGV0, ARGV1...]` and the command's environment:
//!
//! ```text
//!     cmp qword [rsp], 2 ; jb out          argc < 2: not pocket's call
//!     mov rsi, [rsp+8] ; xor ebx, ebx      FD, in decimal, to ebx
//!     cmp byte [rsi], 0 ; je out           (empty, or a non-digit: out)
//! 1:  movzx eax, byte [rsi] ; test eax, eax ; jz 2f
//!     sub eax, '0' ; cmp eax, 9 ; ja out
//!     imul ebx, ebx, 10 ; add ebx, eax ; inc rsi ; jmp 1b
//! 2:  prctl(PR_SET_DUMPABLE, 0)            its execve made it dumpable:
//!     test eax, eax ; jnz 3f               else the container could take
//!                                          the error socket (pidfd_getfd)
//!     fcntl(ebx, F_SETFD, FD_CLOEXEC)      the error socket closes at the
//!     test eax, eax ; jnz 3f               command's execve
//!     execve(argv[1], &argv[2], envp)      envp = rsp + 16 + 8 * argc
//! 3:  neg eax ; push rax                   failed: its errno, 4 bytes,
//!     write(ebx, rsp, 4)                   to the error socket
//! out: exit_group(127)
//! ```
//!
//! Run any other way (a container's `#!/proc/self/exe` names this very
//! program while it runs), it exits 127 at once.

use super::exec::Exec;
use crate::sys::fd::Fd;
use alloc::vec::Vec;
use core::ffi::c_char;
use syscalls::Sysno;

/// Where the program is loaded (ET_EXEC).
const BASE: u64 = 0x40_0000;
/// ELF header (64) and two program headers (56 each): the code follows.
const CODE_AT: usize = 64 + 2 * 56;
/// The machine code listed above (`as`, intel syntax).
const CODE: [u8; 143] = [
    0x48, 0x83, 0x3c, 0x24, 0x02, 0x72, 0x7c, 0x48, 0x8b, 0x74, 0x24, 0x08, 0x31, 0xdb, 0x80, 0x3e,
    0x00, 0x74, 0x70, 0x0f, 0xb6, 0x06, 0x85, 0xc0, 0x74, 0x12, 0x83, 0xe8, 0x30, 0x83, 0xf8, 0x09,
    0x77, 0x61, 0x6b, 0xdb, 0x0a, 0x01, 0xc3, 0x48, 0xff, 0xc6, 0xeb, 0xe7, 0xbf, 0x04, 0x00, 0x00,
    0x00, 0x31, 0xf6, 0xb8, 0x9d, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x85, 0xc0, 0x75, 0x31, 0x89, 0xdf,
    0xbe, 0x02, 0x00, 0x00, 0x00, 0xba, 0x01, 0x00, 0x00, 0x00, 0xb8, 0x48, 0x00, 0x00, 0x00, 0x0f,
    0x05, 0x85, 0xc0, 0x75, 0x1a, 0x48, 0x8b, 0x04, 0x24, 0x48, 0x8d, 0x54, 0xc4, 0x10, 0x48, 0x8b,
    0x7c, 0x24, 0x10, 0x48, 0x8d, 0x74, 0x24, 0x18, 0xb8, 0x3b, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xf7,
    0xd8, 0x50, 0x89, 0xdf, 0x48, 0x89, 0xe6, 0xba, 0x04, 0x00, 0x00, 0x00, 0xb8, 0x01, 0x00, 0x00,
    0x00, 0x0f, 0x05, 0xbf, 0x7f, 0x00, 0x00, 0x00, 0xb8, 0xe7, 0x00, 0x00, 0x00, 0x0f, 0x05,
];
const SIZE: usize = CODE_AT + CODE.len();

const fn put(mut b: [u8; SIZE], at: usize, v: u64, n: usize) -> [u8; SIZE] {
    let mut i = 0;
    while i < n {
        b[at + i] = (v >> (8 * i)) as u8;
        i += 1;
    }
    b
}

/// The whole file: ELF header, PT_LOAD (read, execute) of the file at
/// BASE, PT_GNU_STACK (no executable stack), code.
const ELF: [u8; SIZE] = {
    let mut b = [0u8; SIZE];
    // e_ident: ELF, 64-bit, little-endian, version 1, System V.
    b = put(b, 0, 0x0001_0102_464c_457f, 8);
    b = put(b, 16, 2, 2); // e_type: ET_EXEC
    b = put(b, 18, 62, 2); // e_machine: x86-64
    b = put(b, 20, 1, 4); // e_version
    b = put(b, 24, BASE + CODE_AT as u64, 8); // e_entry
    b = put(b, 32, 64, 8); // e_phoff
    b = put(b, 52, 64, 2); // e_ehsize
    b = put(b, 54, 56, 2); // e_phentsize
    b = put(b, 56, 2, 2); // e_phnum
    // PT_LOAD, R+X, offset 0 at BASE, the whole file.
    b = put(b, 64, 1, 4);
    b = put(b, 68, 5, 4);
    b = put(b, 80, BASE, 8);
    b = put(b, 88, BASE, 8);
    b = put(b, 96, SIZE as u64, 8);
    b = put(b, 104, SIZE as u64, 8);
    b = put(b, 112, 0x1000, 8);
    // PT_GNU_STACK, R+W.
    b = put(b, 120, 0x6474_e551, 4);
    b = put(b, 124, 6, 4);
    b = put(b, 168, 16, 8);
    let mut i = 0;
    while i < CODE.len() {
        b[CODE_AT + i] = CODE[i];
        i += 1;
    }
    b
};

/// The program in a sealed memfd (close-on-exec, above fd 2: the child
/// puts its stdio there; ~10 us).
pub fn load() -> crate::sys::Result<Fd> {
    let f = crate::sys::exe::sealed_program(c"pocket-dmz", &ELF)?;
    // Execute-only: a process that may not read the file it executes is
    // not dumpable (the kernel's would_dump), so a user without DAC
    // capabilities runs the dmz not dumpable from its first instruction.
    crate::sys::file::fchmod(f.raw(), 0o111)?;
    if f.raw() > 2 {
        return Ok(f);
    }
    crate::sys::fd::dup_from(f.raw(), 3).map(Fd::from_raw)
}

/// The file in a container's run directory `dir` that makes every exec
/// into it enter sealed: left by a container that joined its pid
/// namespace, or by an exec given CAP_SYS_PTRACE (a process that may
/// open /proc/PID/exe of pocket's child; it stays until the container
/// goes).
pub const MARK: &str = "exec-sealed";

/// Leave `MARK` in `dir`.
pub fn mark(dir: &str) -> crate::error::Result<()> {
    let p = alloc::format!("{dir}/{MARK}");
    let c = crate::error::cpath(&p)?;
    crate::sys::fd::open(&c, libc::O_WRONLY | libc::O_CREAT, 0o600)
        .map(drop)
        .map_err(|e| crate::error::Error::sys("create", p, e))
}

/// Whether `dir` holds `MARK`.
pub fn marked(dir: &str) -> bool {
    crate::error::cpath(&alloc::format!("{dir}/{MARK}"))
        .is_ok_and(|c| crate::sys::fd::access(&c, libc::F_OK).is_ok())
}

/// CAP_SYS_PTRACE (sys::caps::NAMES).
pub const SYS_PTRACE: u64 = 1 << 19;

/// What the dmz's route asks of the host, for `exec` and `run` alike:
/// x86_64 (the program is its machine code), Yama's ptrace_scope not 3
/// (where reading is all a tracer may do, see `fits`), and
/// fs.suid_dumpable 0 or 2 (an id change leaves the process not dumpable
/// by the container).
pub fn host_fits() -> bool {
    cfg!(target_arch = "x86_64")
        && !crate::sys::fs::read(c"/proc/sys/kernel/yama/ptrace_scope")
            .is_ok_and(|v| v.first() == Some(&b'3'))
        && crate::sys::procfs::ids_change_keeps_undumpable()
}

/// What the child calls once its filter is in, on the dmz's route: the
/// lookup's, the dmz's execveat, and the dmz's own.
const CALLS: [Sysno; 9] = [
    Sysno::faccessat,
    Sysno::faccessat2,
    Sysno::newfstatat,
    Sysno::execveat,
    Sysno::prctl,
    Sysno::fcntl,
    Sysno::execve,
    Sysno::write,
    Sysno::exit_group,
];

/// Whether the command of `spec`, a foreground `run`'s container, may
/// start through the dmz, its init then being the host's pocket until
/// that execve, not a sealed one (no re-execution: ~0.45 ms of a ~5 ms
/// run here). As `fits` for an exec, the init in the exec's child's
/// place: until its execve of the dmz it is not dumpable, and in a pid
/// namespace of its own no process but the host's sees it; docker's
/// capability shape (the bounding set, none for another user) without
/// CAP_SYS_PTRACE; a filter that lets the lookup and the dmz's calls
/// through. (`host_fits` the caller asked first; an `--init`, pocket as
/// PID 1 for the container's life, or a monitor, pocket beside it, is
/// the caller's to leave sealed.)
pub fn fits_run(spec: &crate::spec::Spec) -> bool {
    let caps = spec.process.capabilities;
    spec.namespaces.contains(&crate::spec::Namespace::Pid)
        && spec.process.cap_sets.is_none()
        && caps & SYS_PTRACE == 0
        && crate::seccomp::lets_through(&spec.seccomp, caps, &CALLS.map(|n| n as u32))
}

/// The dmz's argv up to the command's: [the error socket's number, NULL
/// (the path `child::through_dmz` finds)], with room for the command's
/// `args` and their NULL, so that the child (which allocates nothing)
/// only fills it in. `digits` holds the number's text: it must outlive
/// the argv.
pub fn argv_head(err: i32, digits: &mut [u8; 13], args: usize) -> Vec<*const c_char> {
    let mut d = [0u8; 12];
    let d = crate::sys::cstr::decimal(err, &mut d);
    *digits = [0; 13];
    digits[..d.len()].copy_from_slice(d);
    let mut v = Vec::with_capacity(args + 3);
    v.extend([digits.as_ptr().cast(), core::ptr::null()]);
    v
}

/// The `n` bytes read from the error channel of a child that went
/// through the dmz: the dmz's own report (4 bytes: the errno of the
/// command's execve; a `wire::put_fail` one is 8 at least) made the
/// usual one, of `file`. Returns the report's length.
pub fn widen_report(report: &mut [u8; 512], n: usize, file: &[u8]) -> usize {
    if n != 4 {
        return n;
    }
    let errno = i32::from_le_bytes([report[0], report[1], report[2], report[3]]);
    super::wire::put_fail(report, "exec", file, errno)
}

/// `fits` for an exec into the container of `spec`, whose run directory
/// is `dir`; an exec given CAP_SYS_PTRACE leaves `MARK` there first (and
/// where it cannot, enters sealed).
pub fn fits_container(e: &Exec, spec: &crate::spec::Spec, dir: &str) -> bool {
    let sets = e
        .cap_sets
        .map_or(0, |s| s.permitted | s.inheritable | s.ambient);
    if (e.caps | sets) & SYS_PTRACE != 0 && mark(dir).is_err() {
        return false;
    }
    let own = spec.namespaces.contains(&crate::spec::Namespace::Pid);
    fits(e, spec.process.capabilities, own, dir)
}

/// Whether `e`'s command may start through the dmz, in a container whose
/// processes have the bounding set `container_caps`, whose pid namespace
/// is `own` (made for it, not joined), and whose run directory is `dir`:
/// else pocket enters it sealed, as before.
/// - No process that may see pocket's child holds CAP_SYS_PTRACE: with
///   it, it could open /proc/PID/exe of the child, non-dumpable as it
///   is. So none in the container's bounding set or this exec's, none
///   given to an earlier exec nor to a container sharing its pid
///   namespace (`MARK`), and the namespace its own. (Such a process
///   could as well ptrace that child while it still holds pocket's
///   capabilities, sealed or not, with runc too; but not under Yama's
///   ptrace_scope 3, where reading is all it may do: so not there.)
/// - The child shares pocket's memory (fs.suid_dumpable 0 or 2, see
///   spawn/exec.rs): else its change of ids makes it dumpable for a
///   moment, still pocket.
/// - The command's credentials at its execve are the ones it would have
///   without the dmz: across the dmz's own execve the inheritable,
///   bounding and ambient sets stay, and the permitted and effective sets
///   become the bounding set (and the inheritable) for root, the ambient
///   set for another user. So those must be what they are already:
///   docker's shape (root: the bounding set; a user: none), or OCI sets
///   that are so. (Else the command's execve would check its permission
///   with other capabilities, and under no_new_privs cut a file's
///   capabilities to another set: runc's rule for runc-dmz.)
/// - The seccomp filter, in by then (or before the lookup, without
///   no_new_privs), lets through whatever their arguments the calls made
///   after it: the lookup's, the dmz's execveat, and the dmz's own.
pub fn fits(e: &Exec, container_caps: u64, own: bool, dir: &str) -> bool {
    let caps_kept = match &e.cap_sets {
        None => true,
        Some(s) => {
            let ambient = s.ambient & s.permitted & s.inheritable;
            let after = match e.user.uid {
                0 => e.caps | s.inheritable | ambient,
                _ => ambient,
            };
            s.effective == s.permitted && s.permitted == after
        }
    };
    let sets = e
        .cap_sets
        .map_or(0, |s| s.permitted | s.inheritable | s.ambient);
    (e.caps | sets | container_caps) & SYS_PTRACE == 0
        && own
        && !marked(dir)
        && caps_kept
        && host_fits()
        && crate::seccomp::lets_through(&e.seccomp, e.caps, &CALLS.map(|n| n as u32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::fd::FromRawFd;
    use std::os::unix::process::CommandExt;

    #[test]
    fn a_run_fits_only_with_its_own_pid_namespace_docker_caps_and_a_filter_that_lets_it() {
        use crate::spec::{Namespace, Spec};
        let mut spec = Spec::default();
        spec.namespaces = vec![Namespace::Pid, Namespace::Mount];
        spec.process.capabilities = crate::spec::DEFAULT_CAPS;
        assert!(fits_run(&spec), "docker's defaults");
        let mut s = spec.clone();
        s.namespaces.retain(|n| *n != Namespace::Pid);
        assert!(!fits_run(&s), "the host's (or a joined) pid namespace");
        let mut s = spec.clone();
        s.process.capabilities |= SYS_PTRACE;
        assert!(!fits_run(&s), "CAP_SYS_PTRACE");
        let mut s = spec.clone();
        s.process.cap_sets = Some(crate::spec::caps::Sets::default());
        assert!(!fits_run(&s), "OCI capability sets");
        let mut s = spec.clone();
        s.seccomp = crate::seccomp::Seccomp::Unconfined;
        assert!(fits_run(&s), "no filter");
        let deny = br#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["faccessat2"], "action": "SCMP_ACT_ERRNO"}]}"#;
        let p = crate::seccomp::json::parse(deny, spec.process.capabilities).unwrap();
        s.seccomp = crate::seccomp::Seccomp::Profile(p);
        assert!(!fits_run(&s), "a filter refusing the lookup's faccessat2");
    }

    #[test]
    fn the_headers_describe_the_code() {
        assert_eq!(&ELF[..4], b"\x7fELF");
        assert_eq!(&ELF[4..8], [2, 1, 1, 0]);
        let u64_at = |at: usize| u64::from_le_bytes(ELF[at..at + 8].try_into().unwrap());
        // The entry is the code's first byte, inside the loaded segment.
        assert_eq!(u64_at(24), BASE + CODE_AT as u64);
        assert_eq!(u64_at(96) as usize, ELF.len());
        assert_eq!(&ELF[CODE_AT..CODE_AT + 5], [0x48, 0x83, 0x3c, 0x24, 0x02]);
    }

    /// The program from its memfd, argv `args` ("FD": the write end of a
    /// pipe it inherits): its exit status and what came down the pipe.
    fn run(args: &[&str]) -> (Option<i32>, Vec<u8>) {
        let f = load().unwrap();
        let mut p = [0i32; 2];
        assert_eq!(unsafe { libc::pipe2(p.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        let (r, w) = (p[0], p[1]);
        let mut argv = args.iter().map(|a| a.replace("FD", &w.to_string()));
        let mut c = std::process::Command::new(format!("/proc/self/fd/{}", f.raw()));
        c.arg0(argv.next().unwrap()).args(argv);
        // Only that child gets the pipe (tests run in parallel).
        unsafe {
            c.pre_exec(move || match libc::fcntl(w, libc::F_SETFD, 0) {
                0 => Ok(()),
                _ => Err(std::io::Error::last_os_error()),
            })
        };
        let st = c.status().unwrap();
        unsafe { libc::close(w) };
        let mut got = Vec::new();
        unsafe { std::fs::File::from_raw_fd(r) }
            .read_to_end(&mut got)
            .unwrap();
        (st.code(), got)
    }

    #[test]
    fn the_program_runs_the_command_or_reports_why_not() {
        // Run: the pipe closed at the command's execve, unseen by it.
        let fd_seen = "[ -e /proc/self/fd/$0 ] && exit 9; exit 4";
        let (code, got) = run(&["FD", "/bin/sh", "sh", "-c", fd_seen, "FD"]);
        assert_eq!((code, got), (Some(4), vec![]));
        // Not run: the errno down the pipe, 127.
        let (code, got) = run(&["FD", "/nonexistent", "x"]);
        assert_eq!((code, got), (Some(127), 2i32.to_le_bytes().to_vec()));
        let (code, got) = run(&["FD", "/proc", "x"]);
        assert_eq!((code, got), (Some(127), 13i32.to_le_bytes().to_vec()));
        // Run any other way (as a container's trap runs it): 127 at once.
        for args in [
            &["FD"][..],
            &["trap", "/bin/true", "true"],
            &["", "/bin/true"],
        ] {
            assert_eq!(run(args), (Some(127), vec![]), "{args:?}");
        }
    }

    #[test]
    fn the_program_makes_itself_non_dumpable_first() {
        // The first syscall is prctl (157), the next fcntl (72).
        let calls: Vec<u32> = CODE
            .windows(7)
            .filter(|w| w[0] == 0xb8 && w[5..] == [0x0f, 0x05])
            .map(|w| u32::from_le_bytes([w[1], w[2], w[3], w[4]]))
            .collect();
        assert_eq!(calls[..2], [157, 72], "{calls:?}");
    }

    #[test]
    fn only_simple_capability_shapes_and_filters_fit() {
        if !host_fits() {
            eprintln!("SKIP dmz fits: this host's fs.suid_dumpable or ptrace_scope rules it out");
            return;
        }
        let dir = std::env::temp_dir().join(format!("pocket-dmz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let dir = dir.to_str().unwrap().to_string();
        let spec = crate::spec::Spec::default();
        let mut e = Exec::of(&spec, alloc::vec![b"true".to_vec()]);
        e.caps = crate::spec::DEFAULT_CAPS;
        let fits = |e: &Exec, extra: u64| fits(e, e.caps | extra, true, &dir);
        assert!(fits(&e, 0));
        assert!(!fits(&e, SYS_PTRACE), "a container with SYS_PTRACE");
        assert!(
            !super::fits(&e, e.caps, false, &dir),
            "a pid namespace not its own"
        );
        let all = crate::spec::caps::Sets {
            effective: e.caps,
            permitted: e.caps,
            inheritable: 0,
            ambient: 0,
        };
        e.cap_sets = Some(all);
        assert!(fits(&e, 0), "root with its bounding set");
        let few = crate::spec::caps::Sets {
            effective: 1 << 10,
            permitted: 1 << 10,
            ..all
        };
        e.cap_sets = Some(few);
        assert!(!fits(&e, 0), "root with less than its bounding set");
        e.user.uid = 1000;
        assert!(!fits(&e, 0), "a user's permitted set beyond ambient");
        let ambient = crate::spec::caps::Sets {
            inheritable: 1 << 10,
            ambient: 1 << 10,
            ..few
        };
        e.cap_sets = Some(ambient);
        assert!(fits(&e, 0), "all ambient");
        e.cap_sets = Some(crate::spec::caps::Sets {
            effective: 0,
            ..ambient
        });
        assert!(!fits(&e, 0), "an effective set short of the permitted");
        e.cap_sets = None;
        // An exec given SYS_PTRACE marks the container for good.
        let mut p = Exec::of(&spec, alloc::vec![b"true".to_vec()]);
        p.caps = e.caps | SYS_PTRACE;
        let mut own = spec.clone();
        own.namespaces.push(crate::spec::Namespace::Pid);
        assert!(fits_container(&e, &own, &dir));
        assert!(!fits_container(&p, &own, &dir));
        assert!(!fits_container(&e, &own, &dir), "marked");
        std::fs::remove_file(format!("{dir}/{MARK}")).unwrap();
        e.seccomp = crate::seccomp::Seccomp::Profile(crate::seccomp::Profile {
            default: crate::seccomp::Action::Allow,
            architectures: alloc::vec![],
            syscalls: alloc::vec![crate::seccomp::Syscall {
                names: alloc::vec![alloc::string::String::from("faccessat2")],
                action: crate::seccomp::Action::Errno(1),
                args: alloc::vec![],
            }],
            flags: None,
        });
        assert!(!fits(&e, 0), "a profile refusing the lookup's call");
        let _ = std::fs::remove_dir(&dir);
    }
}
