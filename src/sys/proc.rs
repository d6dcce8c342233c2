//! Processes: clone, wait, signals to pids, execve, identity.

use super::{Errno, Result, Sysno};
use core::ffi::{CStr, c_char, c_int, c_void};
use syscalls::syscall;

/// `exit_group(code)` — _exit(2): no atexit handlers, no stdio flush
/// (pocket's writers flush themselves).
pub fn exit(code: i32) -> ! {
    // SAFETY: never returns.
    unsafe {
        let _ = syscall!(Sysno::exit_group, code);
    }
    // exit_group does not return; spin in case of a seccomp policy that
    // denies it, without burning a CPU.
    loop {
        core::hint::spin_loop();
    }
}

/// `clone(cb, stack_top, flags, arg)` — clone(2) through musl, which
/// switches to the new stack in assembly before calling `cb`. Without
/// CLONE_VM the child has its own copy of memory (fork semantics).
///
/// # Safety
/// `stack_top` must be the top of a mapping big enough for `cb`, and the
/// process must be single-threaded.
pub unsafe fn clone(
    cb: extern "C" fn(*mut c_void) -> c_int,
    stack_top: *mut u8,
    flags: i32,
    arg: *mut c_void,
) -> Result<i32> {
    // SAFETY: forwarded contract.
    let pid = unsafe { libc::clone(cb, stack_top as *mut c_void, flags, arg) };
    if pid < 0 {
        // SAFETY: musl's errno location is valid in this thread.
        Err(Errno::new(unsafe { *libc::__errno_location() }))
    } else {
        Ok(pid)
    }
}

/// `clone(CLONE_VM | CLONE_VFORK | SIGCHLD)` on `stack`, posix_spawn's
/// way: `f` runs in a child that shares this process's memory while this
/// one waits, until the child execs or exits; its pid is returned then.
/// No page tables are copied and neither side takes copy-on-write
/// faults afterwards (`pocket exec`: -0.13 ms of ~2 ms, 30 faults fewer).
/// `f`'s return value is the child's exit status if it returns.
///
/// # Safety
/// The process must be single-threaded. `f` must leave this process's
/// memory as it would be had `f` not run, at every instant, since the
/// child may be killed at any point (a container can SIGKILL a process
/// that entered its pid namespace): no allocating or freeing, no writes
/// to shared state, only syscalls and its own stack. A signal handler
/// this process installed would run on the child's stack in shared
/// memory: reset them in `f` before anything that can receive one.
pub unsafe fn vfork_on(stack: &super::stack::Stack, f: &mut dyn FnMut() -> c_int) -> Result<i32> {
    extern "C" fn start(arg: *mut c_void) -> c_int {
        // SAFETY: `arg` is `vfork_on`'s `&mut f`, alive while the caller
        // waits (CLONE_VFORK), in memory the child shares (CLONE_VM).
        let f = unsafe { &mut *(arg as *mut &mut dyn FnMut() -> c_int) };
        f()
    }
    let mut f = f;
    let flags = libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD;
    // SAFETY: forwarded contract; the stack is a mapping of its own.
    unsafe { clone(start, stack.top(), flags, &mut f as *mut _ as *mut c_void) }
}

/// `fork()` — fork(2) through musl (which keeps its own locks consistent).
pub fn fork() -> Result<i32> {
    // SAFETY: pocket is single-threaded.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        // SAFETY: musl's errno location is valid in this thread.
        Err(Errno::new(unsafe { *libc::__errno_location() }))
    } else {
        Ok(pid)
    }
}

/// `wait4(pid, &status, options, NULL)` — wait(2): (pid, raw status);
/// pid 0 with WNOHANG means nothing changed.
pub fn wait(pid: i32, options: i32) -> Result<(i32, i32)> {
    let mut status = 0i32;
    loop {
        // SAFETY: status is a valid int.
        match unsafe { syscall!(Sysno::wait4, pid, &mut status as *mut i32, options, 0) } {
            Err(Errno::EINTR) => continue,
            r => return r.map(|p| (p as i32, status)),
        }
    }
}

/// Map a wait status to a shell-style exit code: the code, or 128+N when
/// killed by signal N.
pub fn exit_code(status: i32) -> i32 {
    if status & 0x7f == 0 {
        (status >> 8) & 0xff
    } else {
        128 + (status & 0x7f)
    }
}

/// `kill(pid, sig)` — kill(2).
pub fn kill(pid: i32, sig: i32) -> Result<()> {
    // SAFETY: no pointers.
    unsafe { syscall!(Sysno::kill, pid, sig) }.map(drop)
}

/// `execve(path, argv, envp)` — execve(2); returns only on failure.
pub fn execve(path: &CStr, argv: *const *const c_char, envp: *const *const c_char) -> Errno {
    // SAFETY: argv/envp are NULL-terminated arrays of C strings built by
    // the caller.
    match unsafe { syscall!(Sysno::execve, path.as_ptr(), argv, envp) } {
        Err(e) => e,
        Ok(_) => Errno::EINVAL,
    }
}

/// `geteuid()` — geteuid(2).
pub fn geteuid() -> u32 {
    // SAFETY: no pointers; geteuid cannot fail.
    unsafe { syscall!(Sysno::geteuid) }.unwrap_or(0) as u32
}

/// `getegid()` — getegid(2).
pub fn getegid() -> u32 {
    // SAFETY: no pointers; getegid cannot fail.
    unsafe { syscall!(Sysno::getegid) }.unwrap_or(0) as u32
}

/// `getpid()` — getpid(2), uncached (musl's cache is wrong after a raw clone).
pub fn getpid() -> i32 {
    // SAFETY: no arguments.
    unsafe { syscall!(Sysno::getpid) }.unwrap_or(0) as i32
}

/// `getppid()` — getppid(2).
pub fn getppid() -> i32 {
    // SAFETY: no arguments.
    unsafe { syscall!(Sysno::getppid) }.unwrap_or(0) as i32
}

/// `setsid()` — setsid(2).
pub fn setsid() -> Result<()> {
    // SAFETY: no arguments.
    unsafe { syscall!(Sysno::setsid) }.map(drop)
}

/// `sethostname(name, len)` — sethostname(2).
pub fn sethostname(name: &[u8]) -> Result<()> {
    // SAFETY: name is valid for len bytes.
    unsafe { syscall!(Sysno::sethostname, name.as_ptr(), name.len()) }.map(drop)
}

/// `chdir(path)` — chdir(2).
pub fn chdir(path: &CStr) -> Result<()> {
    // SAFETY: path is NUL-terminated.
    unsafe { syscall!(Sysno::chdir, path.as_ptr()) }.map(drop)
}

/// `getcwd(buf, len)` — getcwd(2): the working directory as the caller's
/// root sees it; a directory outside that root reads "(unreachable)/...".
pub fn getcwd(buf: &mut [u8]) -> Result<&[u8]> {
    // SAFETY: buf is valid for writes of its length.
    let n = unsafe { syscall!(Sysno::getcwd, buf.as_mut_ptr(), buf.len()) }?;
    // The length includes the NUL.
    Ok(&buf[..n.saturating_sub(1)])
}

/// `keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL)` — keyctl(2): a new anonymous
/// session keyring for this process, so the caller's keys stay behind.
pub fn join_session_keyring() -> Result<i32> {
    const KEYCTL_JOIN_SESSION_KEYRING: usize = 1;
    // SAFETY: a NULL name asks for an anonymous keyring.
    unsafe { syscall!(Sysno::keyctl, KEYCTL_JOIN_SESSION_KEYRING, 0usize) }.map(|k| k as i32)
}

/// The host's RAM in bytes — sysinfo(2); 0 if it cannot tell.
pub fn total_ram() -> u64 {
    // SAFETY: a zeroed sysinfo is valid for the kernel to fill.
    let mut si: libc::sysinfo = unsafe { core::mem::zeroed() };
    // SAFETY: si is a valid sysinfo.
    if unsafe { libc::sysinfo(&mut si) } == 0 {
        si.totalram as u64 * si.mem_unit as u64
    } else {
        0
    }
}

/// `fchdir(fd)` — fchdir(2).
pub fn fchdir(fd: i32) -> Result<()> {
    // SAFETY: no pointers.
    unsafe { syscall!(Sysno::fchdir, fd) }.map(drop)
}

/// setgroups(2), setresgid(2), setresuid(2), in that order (groups and
/// gid need the privilege the uid change gives up). The raw syscalls act
/// on the calling thread only: pocket has one.
pub fn set_user(
    uid: u32,
    gid: u32,
    groups: Option<&[u32]>,
) -> core::result::Result<(), (&'static str, Errno)> {
    if let Some(groups) = groups {
        // SAFETY: groups is valid for its length.
        unsafe { syscall!(Sysno::setgroups, groups.len(), groups.as_ptr()) }
            .map_err(|e| ("setgroups", e))?;
    }
    // SAFETY: no pointers.
    unsafe { syscall!(Sysno::setresgid, gid, gid, gid) }.map_err(|e| ("setgid", e))?;
    // SAFETY: no pointers.
    unsafe { syscall!(Sysno::setresuid, uid, uid, uid) }.map_err(|e| ("setuid", e))?;
    Ok(())
}

/// setresgid(0, 0, 0) then setresuid(0, 0, 0): a process that made a
/// user namespace becomes its root once the maps are written (its ids
/// are the host's until then, unmapped inside: files it made would fail
/// with EOVERFLOW). Root in the namespace keeps every capability there.
pub fn become_ns_root() -> core::result::Result<(), (&'static str, Errno)> {
    // SAFETY: no pointers.
    unsafe { syscall!(Sysno::setresgid, 0, 0, 0) }.map_err(|e| ("setgid", e))?;
    // SAFETY: no pointers.
    unsafe { syscall!(Sysno::setresuid, 0, 0, 0) }.map_err(|e| ("setuid", e))?;
    Ok(())
}

/// `prctl(option, arg2, 0, 0, 0)` — prctl(2).
pub fn prctl(option: i32, arg2: u64) -> Result<()> {
    // SAFETY: options used here take no pointers.
    unsafe { syscall!(Sysno::prctl, option, arg2, 0, 0, 0) }.map(drop)
}

/// `prctl(PR_GET_DUMPABLE)` — prctl(2): this process's memory's
/// dumpable setting (0, 1, or 2 for fs.suid_dumpable's "suidsafe").
pub fn dumpable() -> Result<u64> {
    // SAFETY: PR_GET_DUMPABLE takes no pointers.
    unsafe { syscall!(Sysno::prctl, libc::PR_GET_DUMPABLE, 0, 0, 0, 0) }.map(|v| v as u64)
}

/// `getrandom(buf, len, 0)` — getrandom(2).
pub fn getrandom(buf: &mut [u8]) -> Result<()> {
    let mut n = 0;
    while n < buf.len() {
        // SAFETY: buf is valid for the remaining length.
        match unsafe { syscall!(Sysno::getrandom, buf[n..].as_mut_ptr(), buf.len() - n, 0) } {
            Err(Errno::EINTR) => continue,
            r => n += r?,
        }
    }
    Ok(())
}

/// `pidfd_open(pid, 0)` — pidfd_open(2): a handle on the process that
/// stays valid (and refers to it alone) even after the pid is reused.
pub fn pidfd_open(pid: i32) -> Result<super::fd::Fd> {
    // SAFETY: no pointers.
    let fd = unsafe { syscall!(Sysno::pidfd_open, pid, 0) }?;
    Ok(super::fd::Fd::from_raw(fd as i32))
}

/// `pidfd_send_signal(pidfd, sig, NULL, 0)` — pidfd_send_signal(2).
pub fn pidfd_send_signal(pidfd: &super::fd::Fd, sig: i32) -> Result<()> {
    // SAFETY: the siginfo pointer may be NULL.
    unsafe { syscall!(Sysno::pidfd_send_signal, pidfd.raw(), sig, 0, 0) }.map(drop)
}

/// `setns(fd, nstype)` — setns(2).
pub fn setns(fd: i32, nstype: i32) -> Result<()> {
    // SAFETY: no pointers.
    unsafe { syscall!(Sysno::setns, fd, nstype) }.map(drop)
}

/// `ioctl(fd, NS_GET_NSTYPE)` — ioctl_nsfs(2): the CLONE_NEW* kind of the
/// namespace `fd` refers to.
pub fn ns_type(fd: i32) -> Result<i32> {
    const NS_GET_NSTYPE: u32 = 0xb703;
    // SAFETY: no pointers.
    unsafe { syscall!(Sysno::ioctl, fd, NS_GET_NSTYPE) }.map(|t| t as i32)
}

/// A set of CPUs, as sched_getaffinity(2) gives it (up to 1,024).
pub type CpuSet = [u64; 16];

/// `sched_getaffinity(0, ...)` — sched_getaffinity(2): the CPUs this
/// process may run on.
pub fn affinity() -> Result<CpuSet> {
    let mut mask: CpuSet = [0; 16];
    // SAFETY: the kernel writes at most size_of_val(&mask) bytes to mask
    // (and zeroes nothing past what it returns: the rest stays 0).
    unsafe {
        syscall!(
            Sysno::sched_getaffinity,
            0,
            core::mem::size_of_val(&mask),
            mask.as_mut_ptr()
        )
    }?;
    Ok(mask)
}

/// `sched_getaffinity(0, ...)`: how many CPUs this process may run on.
pub fn cpus_allowed() -> Result<u32> {
    Ok(affinity()?.iter().map(|w| w.count_ones()).sum())
}

/// `sched_setaffinity(pid, ...)` — sched_setaffinity(2).
pub fn set_affinity(pid: i32, mask: &CpuSet) -> Result<()> {
    // SAFETY: the kernel reads size_of_val(mask) bytes from mask.
    unsafe {
        syscall!(
            Sysno::sched_setaffinity,
            pid,
            core::mem::size_of_val(mask),
            mask.as_ptr()
        )
    }
    .map(drop)
}

/// `getcpu(&cpu, NULL)` — getcpu(2): the CPU this process runs on now.
pub fn current_cpu() -> Result<u32> {
    let mut cpu = 0u32;
    // SAFETY: cpu is a valid u32; the node pointer may be NULL.
    unsafe { syscall!(Sysno::getcpu, &mut cpu as *mut u32, 0, 0) }?;
    Ok(cpu)
}

/// This process off the CPU of a child it forked, until dropped (then
/// on the CPUs it had): `Away::from`.
pub struct Away {
    home: CpuSet,
    /// `home` was every online CPU: given back as "any CPU" (all bits),
    /// not as those, which the kernel would keep as this process's own
    /// choice (and its later children's) past a CPU coming online.
    any: bool,
}

impl Away {
    /// Where `child` was put on the CPU this process runs on (a scheduler
    /// that packs tasks onto few CPUs, as a VM's may, queues it behind
    /// us until we block), move to our other CPUs, so that both run at
    /// once, if `room` says one has nothing to run (asked only then). None
    /// (nothing changed) where the kernel put it elsewhere already, no
    /// other CPU is free, or none is ours.
    pub fn from(child: i32, room: impl FnOnce() -> bool) -> Option<Away> {
        let cpu = current_cpu().ok()?;
        if super::procfs::cpu_of(child) != Some(cpu) || !room() {
            return None;
        }
        let home = affinity().ok()?;
        set_affinity(0, &others(home, cpu)?).ok()?;
        let any = super::fs::read(c"/sys/devices/system/cpu/online")
            .ok()
            .and_then(|l| cpu_list(&l))
            .is_some_and(|online| online == home);
        Some(Away { home, any })
    }
}

impl Drop for Away {
    fn drop(&mut self) {
        // (It fails only if our CPUs went offline or out of our cpuset
        // meanwhile: the kernel then keeps us on the ones left.)
        let _ = match self.any {
            true => set_affinity(0, &[u64::MAX; 16]),
            false => set_affinity(0, &self.home),
        };
    }
}

/// A CPU list as sysfs writes it ("0-3,8,10-11\n"); None if malformed
/// or past 1,024 CPUs.
pub fn cpu_list(l: &[u8]) -> Option<CpuSet> {
    let mut set: CpuSet = [0; 16];
    let text = core::str::from_utf8(l).ok()?.trim();
    for part in text.split(',').filter(|p| !p.is_empty()) {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let (a, b): (usize, usize) = (a.parse().ok()?, b.parse().ok()?);
        if a > b || b >= 1024 {
            return None;
        }
        for c in a..=b {
            set[c / 64] |= 1 << (c % 64);
        }
    }
    Some(set)
}

/// Have task `pid` (a helper just made, that is to work while this
/// process does) run on one of our CPUs other than the one this runs
/// on. A scheduler that packs tasks onto few CPUs (a VM's, to let
/// its host idle the others) otherwise queues it behind us until we
/// block, and work meant to overlap runs one part after the other. The
/// CPUs left to it are all of ours but this one's; false (and nothing
/// changed) if there are none.
pub fn run_elsewhere(pid: i32) -> bool {
    let (Ok(ours), Ok(cpu)) = (affinity(), current_cpu()) else {
        return false;
    };
    others(ours, cpu).is_some_and(|m| set_affinity(pid, &m).is_ok())
}

/// `set` without `cpu`; None if nothing is left.
fn others(mut set: CpuSet, cpu: u32) -> Option<CpuSet> {
    if let Some(w) = set.get_mut((cpu / 64) as usize) {
        *w &= !(1u64 << (cpu % 64));
    }
    set.iter().any(|&w| w != 0).then_some(set)
}

/// `sched_yield()` — sched_yield(2).
pub fn sched_yield() {
    // SAFETY: no arguments.
    let _ = unsafe { syscall!(Sysno::sched_yield) };
}

/// `unshare(flags)` — unshare(2).
pub fn unshare(flags: i32) -> Result<()> {
    // SAFETY: no pointers.
    unsafe { syscall!(Sysno::unshare, flags) }.map(drop)
}

/// `setpgid(pid, pgid)` — setpgid(2).
pub fn setpgid(pid: i32, pgid: i32) -> Result<()> {
    // SAFETY: no pointers.
    unsafe { syscall!(Sysno::setpgid, pid, pgid) }.map(drop)
}

/// `prlimit64(pid, resource, new, old)` — prlimit(2): set `resource`'s
/// limits of `pid` (0: this process) to `new` if given; returns the old
/// ones (soft, hard).
pub fn prlimit(pid: i32, resource: u32, new: Option<(u64, u64)>) -> Result<(u64, u64)> {
    let n = new.map(|(soft, hard)| libc::rlimit64 {
        rlim_cur: soft,
        rlim_max: hard,
    });
    let mut old = libc::rlimit64 {
        rlim_cur: 0,
        rlim_max: 0,
    };
    let np = n
        .as_ref()
        .map_or(core::ptr::null(), |n| n as *const libc::rlimit64);
    // SAFETY: np is NULL or a valid rlimit64; old is writable.
    unsafe {
        syscall!(
            Sysno::prlimit64,
            pid,
            resource,
            np,
            &mut old as *mut libc::rlimit64
        )
    }?;
    Ok((old.rlim_cur, old.rlim_max))
}

/// `umask(mask)` — umask(2); the old mask.
pub fn umask(mask: u32) -> u32 {
    // SAFETY: no pointers; umask cannot fail.
    unsafe { syscall!(Sysno::umask, mask) }.unwrap_or(0) as u32
}

/// Where this process's argv strings lie, start and length: what
/// /proc/PID/cmdline shows (rt::Args notes it at start).
static CMDLINE_AT: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);
static CMDLINE_LEN: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);

/// Note the argv strings' area: from the first one's start to the last
/// one's NUL (the kernel lays them out end to end).
pub fn note_cmdline(start: *const u8, len: usize) {
    use core::sync::atomic::Ordering::Relaxed;
    CMDLINE_AT.store(start as usize, Relaxed);
    CMDLINE_LEN.store(len, Relaxed);
}

/// `prctl(PR_SET_NAME, name)` — prctl(2): the task's name (/proc/PID/comm,
/// `ps -o comm`), cut to 15 bytes by the kernel.
pub fn set_name(name: &CStr) -> Result<()> {
    // SAFETY: name is NUL-terminated; the kernel reads at most 16 bytes.
    unsafe { syscall!(Sysno::prctl, libc::PR_SET_NAME, name.as_ptr(), 0, 0, 0) }.map(drop)
}

/// prctl(2)'s `struct prctl_mm_map` (PR_SET_MM_MAP).
#[repr(C)]
struct MmMap {
    start_code: u64,
    end_code: u64,
    start_data: u64,
    end_data: u64,
    start_brk: u64,
    brk: u64,
    start_stack: u64,
    arg_start: u64,
    arg_end: u64,
    env_start: u64,
    env_end: u64,
    auxv: u64,
    auxv_size: u32,
    exe_fd: u32,
}

/// Show `args` as this process's /proc/PID/cmdline (NUL-separated, whole):
/// the kernel's argument area moved to a copy of them made here (kept
/// for the process's life) with `prctl(PR_SET_MM, PR_SET_MM_MAP)`, the
/// one PR_SET_MM call that needs no CAP_SYS_RESOURCE (CRIU's); every
/// other field as /proc/self/stat and brk(2) give it, the executable
/// unchanged. Fails where the kernel has no CONFIG_CHECKPOINT_RESTORE,
/// or /proc is not there.
pub fn set_cmdline(args: &[&[u8]]) -> Result<()> {
    // Fields 26-28: startcode endcode startstack; 45-51: start_data
    // end_data start_brk arg_start arg_end env_start env_end.
    let code = super::procfs::self_stat(26, 28).ok_or(Errno::ENOENT)?;
    let data = super::procfs::self_stat(45, 51).ok_or(Errno::ENOENT)?;
    let mut area: alloc::vec::Vec<u8> = alloc::vec::Vec::new();
    for a in args {
        area.extend_from_slice(a);
        area.push(0);
    }
    let area = alloc::boxed::Box::leak(area.into_boxed_slice());
    let at = area.as_ptr() as u64;
    // SAFETY: brk(0) only reports the current break.
    let brk = unsafe { syscall!(Sysno::brk, 0) }? as u64;
    let map = MmMap {
        start_code: code[0],
        end_code: code[1],
        start_stack: code[2],
        start_data: data[0],
        end_data: data[1],
        start_brk: data[2],
        brk,
        arg_start: at,
        arg_end: at + area.len() as u64,
        env_start: data[5],
        env_end: data[6],
        auxv: 0,
        auxv_size: 0,
        exe_fd: u32::MAX,
    };
    // SAFETY: map is a valid prctl_mm_map of the size given; the area it
    // names is leaked, so it stays for the process's life.
    unsafe {
        syscall!(
            Sysno::prctl,
            libc::PR_SET_MM,
            libc::PR_SET_MM_MAP,
            &map as *const MmMap,
            core::mem::size_of::<MmMap>(),
            0
        )
    }
    .map(drop)
}

/// `set_cmdline` where the kernel will not move the area: `args` written
/// over the argv strings themselves, NUL-separated, cut to fit, the rest
/// zeroed. The last byte stays NUL: a non-NUL one would make the kernel
/// read the area as one setproctitle(3) string.
///
/// # Safety
/// Nothing reads the program's arguments after this (rt::Args' slices
/// and its raw table point into the memory overwritten).
pub unsafe fn overwrite_cmdline(args: &[&[u8]]) {
    use core::sync::atomic::Ordering::Relaxed;
    let (at, len) = (CMDLINE_AT.load(Relaxed), CMDLINE_LEN.load(Relaxed));
    if at == 0 || len == 0 {
        return;
    }
    // SAFETY: [at, at+len) is the argv area noted at start, writable
    // process memory for the process's life; the caller's contract keeps
    // every reader of it away.
    let area = unsafe { core::slice::from_raw_parts_mut(at as *mut u8, len) };
    area.fill(0);
    let mut n = 0;
    for a in args {
        let room = (len - 1).saturating_sub(n);
        let take = a.len().min(room);
        area[n..n + take].copy_from_slice(&a[..take]);
        n += take + 1;
        if n >= len - 1 {
            break;
        }
    }
}

#[cfg(test)]
mod cpu_tests {
    use super::*;

    #[test]
    fn cpu_lists_as_sysfs_writes_them() {
        let set = |cpus: &[usize]| {
            let mut s: CpuSet = [0; 16];
            for &c in cpus {
                s[c / 64] |= 1 << (c % 64);
            }
            s
        };
        assert_eq!(cpu_list(b"0-1\n"), Some(set(&[0, 1])));
        assert_eq!(cpu_list(b"0"), Some(set(&[0])));
        assert_eq!(cpu_list(b"0-2,5,64-65\n"), Some(set(&[0, 1, 2, 5, 64, 65])));
        assert_eq!(cpu_list(b"1023"), Some(set(&[1023])));
        assert_eq!(others(set(&[0, 1, 70]), 70), Some(set(&[0, 1])));
        assert_eq!(others(set(&[3]), 3), None);
        assert_eq!(others(set(&[3]), 2000), Some(set(&[3])));
        for bad in [&b"1024"[..], b"3-1", b"x", b"0-", b"-1", b"1,,a"] {
            assert_eq!(cpu_list(bad), None, "{:?}", core::str::from_utf8(bad));
        }
        // What the kernel says of us parses, and holds where we run.
        let online = std::fs::read("/sys/devices/system/cpu/online").unwrap();
        let on = cpu_list(&online).unwrap();
        let cpu = current_cpu().unwrap();
        assert!(on[(cpu / 64) as usize] & (1 << (cpu % 64)) != 0);
    }
}
