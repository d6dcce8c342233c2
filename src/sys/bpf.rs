//! bpf(2), for the one thing pocket needs it for: a cgroup v2 device
//! program (see cgroup/devfilter.rs). linux-raw-sys has no bpf module, so
//! the attr layouts and numbers are spelled out here from
//! include/uapi/linux/bpf.h.

use super::fd::Fd;
use super::{Result, Sysno};
use core::ffi::CStr;
use syscalls::syscall;

const BPF_PROG_LOAD: usize = 5;
const BPF_PROG_ATTACH: usize = 8;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
const BPF_F_ALLOW_MULTI: u32 = 1 << 1;

/// union bpf_attr, as BPF_PROG_LOAD reads it (up to expected_attach_type).
#[repr(C)]
#[derive(Default)]
struct ProgLoad {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

/// union bpf_attr, as BPF_PROG_ATTACH reads it.
#[repr(C)]
struct ProgAttach {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
}

/// `bpf(BPF_PROG_LOAD, {BPF_PROG_TYPE_CGROUP_DEVICE, insns, license})` —
/// bpf(2). `insns` are struct bpf_insn, 8 bytes each, as u64s in the
/// machine's byte order. The fd is close-on-exec (the kernel always
/// makes bpf fds so).
pub fn prog_load_cgroup_device(insns: &[u64], license: &CStr) -> Result<Fd> {
    let mut name = [0u8; 16];
    name[..10].copy_from_slice(b"pocket_dev");
    let attr = ProgLoad {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: insns.len() as u32,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        prog_name: name,
        expected_attach_type: BPF_CGROUP_DEVICE,
        ..Default::default()
    };
    let size = core::mem::size_of::<ProgLoad>();
    // SAFETY: attr is a valid bpf_attr prefix of `size` bytes; the
    // instructions and license it points to outlive the call.
    let fd = unsafe { syscall!(Sysno::bpf, BPF_PROG_LOAD, &attr as *const ProgLoad, size) }?;
    Ok(Fd::from_raw(fd as i32))
}

/// `bpf(BPF_PROG_ATTACH, {cgroup, prog, BPF_CGROUP_DEVICE,
/// BPF_F_ALLOW_MULTI})` — bpf(2).
pub fn prog_attach_cgroup_device(cgroup: &Fd, prog: &Fd) -> Result<()> {
    let attr = ProgAttach {
        target_fd: cgroup.raw() as u32,
        attach_bpf_fd: prog.raw() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI,
        replace_bpf_fd: 0,
    };
    let size = core::mem::size_of::<ProgAttach>();
    // SAFETY: attr is a valid bpf_attr prefix of `size` bytes.
    unsafe {
        syscall!(
            Sysno::bpf,
            BPF_PROG_ATTACH,
            &attr as *const ProgAttach,
            size
        )
    }
    .map(drop)
}
