//! cgroup v2 has no devices.allow: the kernel asks a BPF program of type
//! BPF_PROG_TYPE_CGROUP_DEVICE attached to the group instead, on every
//! open and mknod of a device node by a process in it (and below). This
//! builds that program from a [`State`] (the same one v1 gets as lines,
//! so both versions refuse alike) and attaches it, before the container
//! exists. The idea is runc's devicefilter.go; the code is pocket's own.
//!
//! The program reads `struct bpf_cgroup_dev_ctx { u32 access_type; u32
//! major; u32 minor; }` (access_type = access << 16 | type) and returns 1
//! to allow, 0 to refuse (EPERM). One block per exception, tried in
//! order; a block that does not match jumps to the next one; the end
//! returns the default.

use super::devices::State;
use super::resources::ACC_ALL;
use crate::error::{Context, Result};
use crate::sys::{bpf, cstr, fd};
use alloc::vec::Vec;

// struct bpf_insn opcodes (include/uapi/linux/bpf.h, bpf_common.h).
pub const LDX_W: u8 = 0x61; // BPF_LDX | BPF_MEM | BPF_W: dst = *(u32 *)(src + off)
pub const MOV32_X: u8 = 0xbc; // BPF_ALU | BPF_MOV | BPF_X: dst = (u32)src
pub const AND32_K: u8 = 0x54; // BPF_ALU | BPF_AND | BPF_K: dst = (u32)(dst & imm)
pub const RSH32_K: u8 = 0x74; // BPF_ALU | BPF_RSH | BPF_K: dst = (u32)dst >> imm
pub const MOV64_K: u8 = 0xb7; // BPF_ALU64 | BPF_MOV | BPF_K: dst = imm
pub const JNE_K: u8 = 0x55; // BPF_JMP | BPF_JNE | BPF_K: if dst != imm goto +off
pub const JSET_K: u8 = 0x45; // BPF_JMP | BPF_JSET | BPF_K: if dst & imm goto +off
pub const JA: u8 = 0x05; // BPF_JMP | BPF_JA: goto +off
pub const EXIT: u8 = 0x95; // BPF_JMP | BPF_EXIT: return r0

// bpf_cgroup_dev_ctx types (BPF_DEVCG_DEV_*); access bits are ACC_*.
pub const DEV_BLOCK: i32 = 1;
pub const DEV_CHAR: i32 = 2;

/// One instruction, laid out as struct bpf_insn in memory (code, dst:4
/// src:4, off, imm) on a little-endian machine.
pub const fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> u64 {
    code as u64
        | ((dst as u64 & 0xf) | (src as u64 & 0xf) << 4) << 8
        | (off as u16 as u64) << 16
        | (imm as u32 as u64) << 32
}

// Registers: r1 the context; r2 access, r3 type, r4 major, r5 minor.
const R0: u8 = 0;
const R1: u8 = 1;
const ACC: u8 = 2;
const TYPE: u8 = 3;
const MAJOR: u8 = 4;
const MINOR: u8 = 5;

/// A conditional jump to the next block, patched once its length is known.
const NEXT: i16 = i16::MIN;

/// The program for `s`. Every instruction is reachable (the verifier
/// refuses dead code): each block starts with a jump over itself.
pub fn program(s: &State) -> Vec<u64> {
    let mut p = alloc::vec![
        insn(LDX_W, ACC, R1, 0, 0),
        insn(MOV32_X, TYPE, ACC, 0, 0),
        insn(AND32_K, TYPE, 0, 0, 0xffff),
        insn(RSH32_K, ACC, 0, 0, 16),
        insn(LDX_W, MAJOR, R1, 4, 0),
        insn(LDX_W, MINOR, R1, 8, 0),
    ];
    for e in &s.exceptions {
        let start = p.len();
        let kind = if e.kind == b'b' { DEV_BLOCK } else { DEV_CHAR };
        p.push(insn(JNE_K, TYPE, 0, NEXT, kind));
        let access = e.access as i32;
        if e.access & ACC_ALL != ACC_ALL {
            if s.default_allow {
                // A deny: refuse if any asked bit is denied; skip the
                // block when none is.
                p.push(insn(JSET_K, ACC, 0, 1, access));
                p.push(insn(JA, 0, 0, NEXT, 0));
            } else {
                // An allow: only if every asked bit is granted.
                p.push(insn(JSET_K, ACC, 0, NEXT, !access & ACC_ALL as i32));
            }
        }
        if let Some(m) = e.major {
            p.push(insn(JNE_K, MAJOR, 0, NEXT, m as i32));
        }
        if let Some(m) = e.minor {
            p.push(insn(JNE_K, MINOR, 0, NEXT, m as i32));
        }
        p.push(insn(MOV64_K, R0, 0, 0, !s.default_allow as i32));
        p.push(insn(EXIT, 0, 0, 0, 0));
        // Point the block's jumps at the next block.
        let end = p.len();
        for (i, x) in p[start..].iter_mut().enumerate() {
            if (*x >> 16) as u16 == NEXT as u16 {
                let off = (end - start - i - 1) as u16 as u64;
                *x = *x & !(0xffff << 16) | off << 16;
            }
        }
    }
    p.push(insn(MOV64_K, R0, 0, 0, s.default_allow as i32));
    p.push(insn(EXIT, 0, 0, 0, 0));
    p
}

/// Load the program for `s` and attach it to the v2 group `dir` (with
/// BPF_F_ALLOW_MULTI, as runc and systemd do, so programs of the groups
/// above still run too). The attachment keeps the program; the group's
/// removal frees both.
pub fn attach(dir: &str, s: &State) -> Result<()> {
    let prog = bpf::prog_load_cgroup_device(&program(s), c"Apache")
        .ctx("load device filter (bpf)", dir)?;
    let c = cstr::cstring(dir.as_bytes()).unwrap_or_default();
    let cg = fd::open(&c, libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC, 0)
        .ctx("open cgroup", dir)?;
    bpf::prog_attach_cgroup_device(&cg, &prog).ctx("attach device filter (bpf)", dir)
}

#[cfg(test)]
#[path = "devfilter_tests.rs"]
mod tests;
