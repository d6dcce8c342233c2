//! docker's default seccomp profile (moby/profiles `seccomp/default.json`,
//! 2026: the io_uring calls out, AF_ALG and AF_VSOCK sockets out), as a
//! table of x86_64 syscall numbers. Names that exist only on other ABIs
//! (`chown32`, `socketcall`, `_llseek` ...) are left out; groups gated on
//! other architectures (ppc64le, arm, s390, riscv) too. `minKernel` 4.8
//! (ptrace) holds on every kernel pocket supports.

use super::bpf::{Rule, push_rules};
use super::{Action, Arg, Op};
use alloc::vec::Vec;
use syscalls::Sysno;

/// Everything not listed: EPERM (`defaultErrnoRet: 1`).
pub const DEFAULT_ACTION: Action = Action::Errno(1);

macro_rules! nrs {
    ($($n:ident)*) => { &[$(Sysno::$n as u16),*] };
}

/// Capability bits (capabilities(7) numbers).
const fn cap(n: u32) -> u64 {
    1 << n
}
const DAC_READ_SEARCH: u64 = cap(2);
const SYS_MODULE: u64 = cap(16);
const SYS_RAWIO: u64 = cap(17);
const SYS_CHROOT: u64 = cap(18);
const SYS_PTRACE: u64 = cap(19);
const SYS_PACCT: u64 = cap(20);
pub const SYS_ADMIN: u64 = cap(21);
const SYS_BOOT: u64 = cap(22);
const SYS_NICE: u64 = cap(23);
const SYS_TIME: u64 = cap(25);
const SYS_TTY_CONFIG: u64 = cap(26);
const SYSLOG: u64 = cap(34);
const PERFMON: u64 = cap(38);
const BPF: u64 = cap(39);

/// One `syscalls[]` entry: `names` get `action` when `args` hold, if the
/// container has every cap of `needs` (`includes.caps`) and none of
/// `unless` (`excludes.caps`).
struct Group {
    names: &'static [u16],
    action: Action,
    args: &'static [Arg],
    needs: u64,
    unless: u64,
}

const fn allow(names: &'static [u16], needs: u64) -> Group {
    Group {
        names,
        action: Action::Allow,
        args: &[],
        needs,
        unless: 0,
    }
}

const fn eq(index: u8, value: u64) -> Arg {
    Arg {
        index,
        op: Op::Eq,
        value,
        value_two: 0,
    }
}

/// clone(2) without a CLONE_NEW* flag (NEWNS, NEWUTS, NEWIPC, NEWUSER,
/// NEWPID, NEWNET, NEWCGROUP): fork and threads, no namespaces.
const CLONE_NS_MASK: u64 = 0x7e02_0000;

/// personality(2) values docker allows: PER_LINUX, PER_LINUX32,
/// UNAME26, PER_LINUX32|UNAME26, and 0xffffffff (query). One test of
/// argument 0 each: an OR (`push_rules`).
static PERSONALITY: [Arg; 5] = [
    eq(0, 0),
    eq(0, 0x8),
    eq(0, 0x20000),
    eq(0, 0x20008),
    eq(0, 0xffff_ffff),
];

/// socket(2) address families docker allows: all the kernel implements
/// except AF_ALG (38: the kernel crypto API, CVE-2026-31431 "Copy Fail")
/// and AF_VSOCK (40: host/guest sockets, not namespaced). Families the
/// kernel dropped (DECnet 12, ECONET 19, ATMSVC 20, IRDA 23, WANPIPE 25,
/// ISDN 34, CAIF 37) are out too.
const SOCKET_DOMAINS: u64 = mask(&[
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    11, // UNIX INET AX25 IPX APPLETALK NETROM BRIDGE ATMPVC X25 INET6 ROSE
    13, 14, 15, 16, 17, 18, // NETBEUI SECURITY KEY NETLINK PACKET ASH
    21, 22, 24, // RDS SNA PPPOX
    26, 27, 28, 29, 30, 31, 32, 33, // LLC IB MPLS CAN TIPC BLUETOOTH IUCV RXRPC
    35, 36, 39, // PHONET IEEE802154 NFC
    41, 42, 43, 44, 45, // KCM QIPCRTR SMC XDP MCTP
]);

const fn mask(bits: &[u32]) -> u64 {
    let mut m = 0;
    let mut i = 0;
    while i < bits.len() {
        m |= 1 << bits[i];
        i += 1;
    }
    m
}

/// moby's shape for the socket rules: the families from AF_UNIX up to
/// the first gap as one `<` rule, every later one as an `==` rule (one
/// rule may not test an argument twice: runc would split it into an OR).
const FIRST_GAP: u32 = (!SOCKET_DOMAINS >> 1).trailing_zeros() + 1;
const ABOVE_GAP: u64 = SOCKET_DOMAINS & !((1 << FIRST_GAP) - 1);

/// `< FIRST_GAP`, then `== d` for each family above it: one group whose
/// conditions all test argument 0, so they are an OR (`push_rules`).
static SOCKET: [Arg; 1 + ABOVE_GAP.count_ones() as usize] = {
    let mut a = [eq(0, 0); 1 + ABOVE_GAP.count_ones() as usize];
    a[0].op = Op::Lt;
    a[0].value = FIRST_GAP as u64;
    let (mut i, mut d) = (1, 0);
    while d < 64 {
        if ABOVE_GAP & (1 << d) != 0 {
            a[i].value = d;
            i += 1;
        }
        d += 1;
    }
    a
};

static GROUPS: &[Group] = &[
    allow(
        nrs![accept accept4 access adjtimex alarm bind brk cachestat capget capset chdir chmod
        chown clock_adjtime clock_getres clock_gettime clock_nanosleep close close_range connect
        copy_file_range creat dup dup2 dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old
        epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd eventfd2 execve execveat exit
        exit_group faccessat faccessat2 fadvise64 fallocate fanotify_mark fchdir fchmod fchmodat
        fchmodat2 fchown fchownat fcntl fdatasync fgetxattr flistxattr flock fork fremovexattr
        fsetxattr fstat fstatfs fsync ftruncate futex futex_requeue futex_wait futex_waitv
        futex_wake futimesat getcpu getcwd getdents getdents64 getegid geteuid getgid getgroups
        getitimer getpeername getpgid getpgrp getpid getppid getpriority getrandom getresgid
        getresuid getrlimit get_robust_list getrusage getsid getsockname getsockopt
        get_thread_area gettid gettimeofday getuid getxattr getxattrat inotify_add_watch
        inotify_init inotify_init1 inotify_rm_watch io_cancel ioctl io_destroy io_getevents
        io_pgetevents ioprio_get ioprio_set io_setup io_submit kill landlock_add_rule
        landlock_create_ruleset landlock_restrict_self lchown lgetxattr link linkat listen
        listmount listxattr listxattrat llistxattr lremovexattr lseek lsetxattr lstat madvise
        map_shadow_stack membarrier memfd_create memfd_secret mincore mkdir mkdirat mknod mknodat
        mlock mlock2 mlockall mmap mprotect mq_getsetattr mq_notify mq_open mq_timedreceive
        mq_timedsend mq_unlink mremap mseal msgctl msgget msgrcv msgsnd msync munlock munlockall
        munmap name_to_handle_at nanosleep newfstatat open openat openat2 pause pidfd_open
        pidfd_send_signal pipe pipe2 pkey_alloc pkey_free pkey_mprotect poll ppoll prctl pread64
        preadv preadv2 prlimit64 process_mrelease pselect6 pwrite64 pwritev pwritev2 read
        readahead readlink readlinkat readv recvfrom recvmmsg recvmsg remap_file_pages
        removexattr removexattrat rename renameat renameat2 restart_syscall rmdir rseq
        rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend
        rt_sigtimedwait rt_tgsigqueueinfo sched_getaffinity sched_getattr sched_getparam
        sched_get_priority_max sched_get_priority_min sched_getscheduler sched_rr_get_interval
        sched_setaffinity sched_setattr sched_setparam sched_setscheduler sched_yield seccomp
        select semctl semget semop semtimedop sendfile sendmmsg sendmsg sendto setfsgid setfsuid
        setgid setgroups setitimer setpgid setpriority setregid setresgid setresuid setreuid
        setrlimit set_robust_list setsid setsockopt set_thread_area set_tid_address setuid
        setxattr setxattrat shmat shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4
        socketpair splice stat statfs statmount statx symlink symlinkat sync sync_file_range
        syncfs sysinfo tee tgkill time timer_create timer_delete timer_getoverrun timer_gettime
        timer_settime timerfd_create timerfd_gettime timerfd_settime times tkill truncate umask
        uname unlink unlinkat uretprobe utime utimensat utimes vfork vmsplice wait4 waitid write
        writev],
        0,
    ),
    // minKernel 4.8: ptrace can no longer bypass seccomp.
    allow(nrs![process_vm_readv process_vm_writev ptrace], 0),
    Group {
        names: nrs![socket],
        action: Action::Allow,
        args: &SOCKET,
        needs: 0,
        unless: 0,
    },
    Group {
        names: nrs![personality],
        action: Action::Allow,
        args: &PERSONALITY,
        needs: 0,
        unless: 0,
    },
    // includes.arches amd64 (and x32, x86).
    allow(nrs![arch_prctl modify_ldt], 0),
    // The "shocker" escape (2014) reads host files by handle.
    allow(nrs![open_by_handle_at], DAC_READ_SEARCH),
    allow(
        nrs![bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie
        lsm_get_self_attr lsm_list_modules lsm_set_self_attr mount mount_setattr move_mount
        open_tree perf_event_open quotactl quotactl_fd setdomainname sethostname setns syslog
        umount2 unshare],
        SYS_ADMIN,
    ),
    // Without CAP_SYS_ADMIN: clone, but no new namespace (no CLONE_NEWUSER:
    // a user namespace would hand the container nf_tables, io_uring and
    // the rest of the kernel's namespaced-root attack surface).
    Group {
        names: nrs![clone],
        action: Action::Allow,
        args: &[Arg {
            index: 0,
            op: Op::MaskedEq,
            value: CLONE_NS_MASK,
            value_two: 0,
        }],
        needs: 0,
        unless: SYS_ADMIN,
    },
    // clone3's flags sit in memory the filter cannot read: ENOSYS makes
    // glibc fall back to clone, which the rule above can check.
    Group {
        names: nrs![clone3],
        action: Action::Errno(38),
        args: &[],
        needs: 0,
        unless: SYS_ADMIN,
    },
    allow(nrs![reboot], SYS_BOOT),
    allow(nrs![chroot], SYS_CHROOT),
    allow(nrs![delete_module init_module finit_module], SYS_MODULE),
    allow(nrs![acct], SYS_PACCT),
    allow(
        nrs![kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace],
        SYS_PTRACE,
    ),
    allow(nrs![iopl ioperm], SYS_RAWIO),
    allow(nrs![settimeofday clock_settime], SYS_TIME),
    allow(nrs![vhangup], SYS_TTY_CONFIG),
    allow(
        nrs![get_mempolicy mbind set_mempolicy set_mempolicy_home_node],
        SYS_NICE,
    ),
    allow(nrs![syslog], SYSLOG),
    allow(nrs![bpf], BPF),
    allow(nrs![perf_event_open], PERFMON),
];

/// The rules for a container whose bounding set is `caps`.
pub fn rules(caps: u64) -> Vec<Rule<'static>> {
    let mut out = Vec::with_capacity(400);
    for g in GROUPS {
        if caps & g.needs != g.needs || caps & g.unless != 0 {
            continue;
        }
        for &nr in g.names {
            push_rules(&mut out, nr as u32, g.action.ret(), g.args);
        }
    }
    out
}

#[cfg(test)]
#[path = "profile_tests.rs"]
mod tests;
