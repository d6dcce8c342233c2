//! The dmz: a 125-byte program through which `exec` starts the command,
//! so that pocket need not re-execute itself sealed (spawn/sealed.rs,
//! ~0.25 ms of an exec's ~2 ms here) to enter a container safely.
//!
//! What CVE-2019-5736 needs is an execve, inside the container, by a
//! process whose binary is the host's pocket: a command that is a script
//! with `#!/proc/self/exe` (or a link to it) then runs the host's pocket
//! in the container, as a process the container may open /proc/PID/exe
//! of. Here the last execve pocket's child makes is of this program, from
//! a sealed memfd; the command's execve is the program's, so
//! /proc/self/exe is the memfd then, which nothing can write. Until that
//! execve the child is not dumpable, so a container without
//! CAP_SYS_PTRACE cannot open its /proc/PID/exe either (runc 1.2's
//! runc-dmz, with the same limits: `fits`).
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
//! 2:  fcntl(ebx, F_SETFD, FD_CLOEXEC)      the error pipe closes at the
//!     test eax, eax ; jnz 3f               command's execve
//!     execve(argv[1], &argv[2], envp)      envp = rsp + 16 + 8 * argc
//! 3:  neg eax ; push rax                   failed: its errno, 4 bytes,
//!     write(ebx, rsp, 4)                   to the error pipe
//! out: exit_group(127)
//! ```
//!
//! Run any other way (a container's `#!/proc/self/exe` names this very
//! program while it runs), it exits 127 at once.

use super::exec::Exec;
use crate::sys::fd::Fd;
use syscalls::Sysno;

/// Where the program is loaded (ET_EXEC).
const BASE: u64 = 0x40_0000;
/// ELF header (64) and two program headers (56 each): the code follows.
const CODE_AT: usize = 64 + 2 * 56;
/// The machine code listed above (`as`, intel syntax).
const CODE: [u8; 125] = [
    0x48, 0x83, 0x3c, 0x24, 0x02, 0x72, 0x6a, 0x48, 0x8b, 0x74, 0x24, 0x08, 0x31, 0xdb, 0x80, 0x3e,
    0x00, 0x74, 0x5e, 0x0f, 0xb6, 0x06, 0x85, 0xc0, 0x74, 0x12, 0x83, 0xe8, 0x30, 0x83, 0xf8, 0x09,
    0x77, 0x4f, 0x6b, 0xdb, 0x0a, 0x01, 0xc3, 0x48, 0xff, 0xc6, 0xeb, 0xe7, 0x89, 0xdf, 0xbe, 0x02,
    0x00, 0x00, 0x00, 0xba, 0x01, 0x00, 0x00, 0x00, 0xb8, 0x48, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x85,
    0xc0, 0x75, 0x1a, 0x48, 0x8b, 0x04, 0x24, 0x48, 0x8d, 0x54, 0xc4, 0x10, 0x48, 0x8b, 0x7c, 0x24,
    0x10, 0x48, 0x8d, 0x74, 0x24, 0x18, 0xb8, 0x3b, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xf7, 0xd8, 0x50,
    0x89, 0xdf, 0x48, 0x89, 0xe6, 0xba, 0x04, 0x00, 0x00, 0x00, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f,
    0x05, 0xbf, 0x7f, 0x00, 0x00, 0x00, 0xb8, 0xe7, 0x00, 0x00, 0x00, 0x0f, 0x05,
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

/// The program in a sealed memfd (close-on-exec; ~10 us).
pub fn load() -> crate::sys::Result<Fd> {
    crate::sys::exe::sealed_program(c"pocket-dmz", &ELF)
}

/// Whether `e`'s command may start through the dmz, in a container whose
/// processes have the bounding set `container_caps`: else pocket enters
/// it sealed, as before.
/// - Nothing in the container holds CAP_SYS_PTRACE: with it, a process
///   there could open /proc/PID/exe of pocket's non-dumpable child.
/// - The extra execve changes no capability the command ends up with.
///   Across it the inheritable, bounding and ambient sets stay, so root
///   ends where it would; but under no_new_privs a non-root command's
///   file capabilities are cut to what it held before its execve, which
///   after the dmz's is its ambient set: so a non-root user's permitted
///   set must be that (runc's rule for runc-dmz).
/// - The seccomp filter, in by then, lets through whatever their
///   arguments the calls made after it: execveat (the dmz), and the
///   dmz's fcntl, execve, write and exit_group.
pub fn fits(e: &Exec, container_caps: u64) -> bool {
    const SYS_PTRACE: u64 = 1 << 19;
    let caps_kept = match &e.cap_sets {
        // docker's shape: root keeps its bounding set, others get none.
        None => true,
        Some(s) => e.user.uid == 0 || s.permitted == s.ambient & s.permitted & s.inheritable,
    };
    let calls = [
        Sysno::execveat,
        Sysno::execve,
        Sysno::fcntl,
        Sysno::write,
        Sysno::exit_group,
    ]
    .map(|n| n as u32);
    (e.caps | container_caps) & SYS_PTRACE == 0
        && caps_kept
        && crate::seccomp::lets_through(&e.seccomp, e.caps, &calls)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_headers_describe_the_code() {
        assert_eq!(&ELF[..4], b"\x7fELF");
        assert_eq!(&ELF[4..8], [2, 1, 1, 0]);
        let u64_at = |at: usize| u64::from_le_bytes(ELF[at..at + 8].try_into().unwrap());
        // The entry is the code's first byte, inside the loaded segment.
        assert_eq!(u64_at(24), BASE + CODE_AT as u64);
        assert_eq!(u64_at(96) as usize, ELF.len());
        assert_eq!(&ELF[CODE_AT..CODE_AT + 5], [0x48, 0x83, 0x3c, 0x24, 0x02]);
        // Ends in syscall (exit_group).
        assert_eq!(&ELF[SIZE - 2..], [0x0f, 0x05]);
    }

    #[test]
    fn only_simple_capability_shapes_and_filters_fit() {
        let spec = crate::spec::Spec::default();
        let mut e = Exec::of(&spec, alloc::vec![b"true".to_vec()]);
        e.caps = crate::spec::DEFAULT_CAPS;
        assert!(fits(&e, e.caps));
        assert!(!fits(&e, e.caps | 1 << 19), "a container with SYS_PTRACE");
        let mut p = e.cap_sets.unwrap_or_default();
        p.permitted = 1 << 10;
        p.effective = 1 << 10;
        e.cap_sets = Some(p);
        e.user.uid = 0;
        assert!(fits(&e, e.caps), "root ends with its bounding set");
        e.user.uid = 1000;
        assert!(!fits(&e, e.caps), "a user's permitted set beyond ambient");
        p.inheritable = 1 << 10;
        p.ambient = 1 << 10;
        e.cap_sets = Some(p);
        assert!(fits(&e, e.caps), "all ambient");
        e.seccomp = crate::seccomp::Seccomp::Profile(crate::seccomp::Profile {
            default: crate::seccomp::Action::Allow,
            architectures: alloc::vec![],
            syscalls: alloc::vec![crate::seccomp::Syscall {
                names: alloc::vec![alloc::string::String::from("execveat")],
                action: crate::seccomp::Action::Errno(1),
                args: alloc::vec![],
            }],
            flags: None,
        });
        assert!(!fits(&e, e.caps), "a profile refusing execveat");
    }
}
