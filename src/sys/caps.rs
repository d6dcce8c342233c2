//! Capabilities: what root inside the container may still do.

use super::{Errno, Result, Sysno};
use syscalls::syscall;

/// capabilities(7), in bit order.
pub const NAMES: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

const VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct Header {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct Data {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// This process's capability bounding set: what it can hand on at all
/// (`prctl(PR_CAPBSET_READ, cap)` — prctl(2), until the kernel says
/// EINVAL for a capability it does not know).
pub fn bounding() -> u64 {
    let mut set = 0u64;
    for cap in 0..64u64 {
        // SAFETY: no pointers.
        match unsafe { syscall!(Sysno::prctl, libc::PR_CAPBSET_READ, cap, 0, 0, 0) } {
            Ok(1) => set |= 1 << cap,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    set
}

/// Drop every capability not in `keep` from the bounding set:
/// `prctl(PR_CAPBSET_DROP, cap)` — prctl(2). Needs CAP_SETPCAP, so it
/// comes before capset. Caps the kernel does not know give EINVAL: the end.
pub fn drop_bounding(keep: u64) -> Result<()> {
    for cap in 0..64u64 {
        if keep & (1 << cap) != 0 {
            continue;
        }
        // SAFETY: no pointers.
        match unsafe { syscall!(Sysno::prctl, libc::PR_CAPBSET_DROP, cap, 0, 0, 0) } {
            Ok(_) => {}
            Err(Errno::EINVAL) => break,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// `capset(&hdr, data)` — capset(2): effective = permitted = `caps`,
/// inheritable empty; and clear the ambient set (prctl PR_CAP_AMBIENT_CLEAR_ALL).
/// Inheritable stays empty (as docker since CVE-2022-24769): a process
/// that drops to another user and runs a file with inheritable file
/// capabilities must not gain them.
pub fn set(caps: u64) -> Result<()> {
    set_all(caps, caps, 0, 0)
}

/// `capset(&hdr, data)` — capset(2) with each set as given, then the
/// ambient set: cleared, and raised cap by cap
/// (`prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap)` — prctl(2)). The
/// kernel raises only a cap that is permitted and inheritable; the others
/// are skipped, as runc skips them.
pub fn set_all(effective: u64, permitted: u64, inheritable: u64, ambient: u64) -> Result<()> {
    let h = Header {
        version: VERSION_3,
        pid: 0,
    };
    let half = |m: u64, hi: bool| if hi { (m >> 32) as u32 } else { m as u32 };
    let d = [false, true].map(|hi| Data {
        effective: half(effective, hi),
        permitted: half(permitted, hi),
        inheritable: half(inheritable, hi),
    });
    // SAFETY: header and a two-element data array, as version 3 expects.
    unsafe { syscall!(Sysno::capset, &h as *const Header, d.as_ptr()) }?;
    // SAFETY: no pointers.
    unsafe {
        syscall!(
            Sysno::prctl,
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0
        )
    }?;
    for cap in 0..64u64 {
        if ambient & permitted & inheritable & (1 << cap) != 0 {
            // SAFETY: no pointers.
            let _ = unsafe {
                syscall!(
                    Sysno::prctl,
                    libc::PR_CAP_AMBIENT,
                    libc::PR_CAP_AMBIENT_RAISE,
                    cap,
                    0,
                    0
                )
            };
        }
    }
    Ok(())
}

/// This process's effective set (`capget(&hdr, data)` — capget(2)).
pub fn effective() -> Result<u64> {
    let h = Header {
        version: VERSION_3,
        pid: 0,
    };
    let mut d = [Data {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    // SAFETY: header and a writable two-element data array (version 3).
    unsafe { syscall!(Sysno::capget, &h as *const Header, d.as_mut_ptr()) }?;
    Ok(d[0].effective as u64 | (d[1].effective as u64) << 32)
}
