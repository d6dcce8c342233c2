//! The emitted program, run by a tiny eBPF interpreter (just the opcodes
//! program() emits, with the verifier's rules that matter here: forward
//! jumps only, no dead code, r0 set before exit) over every kind of
//! bpf_cgroup_dev_ctx, against State::allows, the v1 kernel's own test.

use super::*;
use crate::cgroup::devices::{DEFAULT, allow_all, parse_rule, reduce};
use crate::cgroup::resources::{ACC_MKNOD, ACC_READ, ACC_WRITE, DeviceRule};

/// Run `prog` on ctx {access_type, major, minor}; the verdict, or why the
/// kernel's verifier (or the machine) would refuse it.
fn run(prog: &[u64], ctx: [u32; 3]) -> core::result::Result<u64, String> {
    let mut r = [0u64; 11];
    let mut init = [false; 11];
    init[1] = true; // r1: the context (offsets into ctx below)
    let mut pc = 0usize;
    let mut steps = 0;
    loop {
        steps += 1;
        if steps > 10_000 {
            return Err("no exit".into());
        }
        let i = *prog.get(pc).ok_or(format!("fell off at {pc}"))?;
        let code = i as u8;
        let dst = ((i >> 8) & 0xf) as usize;
        let src = ((i >> 12) & 0xf) as usize;
        let off = (i >> 16) as u16 as i16;
        let imm = (i >> 32) as u32 as i32;
        let need = |reg: usize, init: &[bool; 11]| {
            if init[reg] {
                Ok(())
            } else {
                Err(format!("r{reg} read before set at {pc}"))
            }
        };
        let jump = |off: i16| -> core::result::Result<usize, String> {
            if off < 0 {
                return Err(format!("backward jump at {pc}"));
            }
            Ok(pc + 1 + off as usize)
        };
        pc = match code {
            LDX_W => {
                if src != 1 || off < 0 || off % 4 != 0 || off > 8 {
                    return Err(format!("bad ctx load at {pc}"));
                }
                r[dst] = ctx[off as usize / 4] as u64;
                init[dst] = true;
                pc + 1
            }
            MOV32_X => {
                need(src, &init)?;
                r[dst] = r[src] & 0xffff_ffff;
                init[dst] = true;
                pc + 1
            }
            AND32_K => {
                need(dst, &init)?;
                r[dst] = (r[dst] & imm as u32 as u64) & 0xffff_ffff;
                pc + 1
            }
            RSH32_K => {
                need(dst, &init)?;
                r[dst] = ((r[dst] as u32) >> imm) as u64;
                pc + 1
            }
            MOV64_K => {
                r[dst] = imm as i64 as u64;
                init[dst] = true;
                pc + 1
            }
            JNE_K => {
                need(dst, &init)?;
                if r[dst] != imm as i64 as u64 {
                    jump(off)?
                } else {
                    pc + 1
                }
            }
            JSET_K => {
                need(dst, &init)?;
                if r[dst] & imm as i64 as u64 != 0 {
                    jump(off)?
                } else {
                    pc + 1
                }
            }
            JA => jump(off)?,
            EXIT => {
                need(0, &init)?;
                if r[0] > 1 {
                    return Err(format!(
                        "returns {} (cgroup device programs return 0 or 1)",
                        r[0]
                    ));
                }
                return Ok(r[0]);
            }
            c => return Err(format!("unknown opcode {c:#x} at {pc}")),
        };
    }
}

/// The verifier refuses unreachable instructions: every one must be the
/// target of a jump or follow one that can fall through.
fn all_reachable(prog: &[u64]) -> bool {
    let mut seen = vec![false; prog.len()];
    let mut todo = vec![0usize];
    while let Some(pc) = todo.pop() {
        if pc >= prog.len() || seen[pc] {
            continue;
        }
        seen[pc] = true;
        let code = prog[pc] as u8;
        let off = (prog[pc] >> 16) as u16 as i16;
        match code {
            EXIT => {}
            JA => todo.push(pc + 1 + off as usize),
            JNE_K | JSET_K => {
                todo.push(pc + 1);
                todo.push(pc + 1 + off as usize);
            }
            _ => todo.push(pc + 1),
        }
    }
    seen.iter().all(|s| *s)
}

fn ctx(kind: u8, major: u32, minor: u32, access: u8) -> [u32; 3] {
    let t = if kind == b'b' { DEV_BLOCK } else { DEV_CHAR } as u32;
    [(access as u32) << 16 | t, major, minor]
}

/// Every type, a spread of numbers (the rules' own, their neighbours,
/// big ones) and every access combination: the program must say what
/// the v1 kernel would.
fn agrees(rules: &[DeviceRule]) {
    let s = reduce(rules);
    let p = program(&s);
    assert!(all_reachable(&p), "dead code for {rules:?}");
    let mut nums = vec![
        0u32, 1, 2, 3, 5, 7, 8, 9, 11, 136, 200, 229, 254, 4095, 1_048_575,
    ];
    for e in &s.exceptions {
        for n in [e.major, e.minor].into_iter().flatten() {
            nums.extend([n.saturating_sub(1), n, n + 1]);
        }
    }
    for kind in [b'c', b'b'] {
        for &major in &nums {
            for &minor in &nums {
                for access in 1..=7u8 {
                    let want = s.allows(kind, major, minor, access);
                    let got = run(&p, ctx(kind, major, minor, access));
                    assert_eq!(
                        got,
                        Ok(want as u64),
                        "{} {major}:{minor} access {access} under {rules:?}",
                        kind as char
                    );
                }
            }
        }
    }
}

fn r(s: &str) -> DeviceRule {
    parse_rule(s).unwrap()
}

fn deny(s: &str) -> DeviceRule {
    DeviceRule {
        allow: false,
        ..r(s)
    }
}

#[test]
fn docker_defaults() {
    agrees(DEFAULT);
    let p = program(&reduce(DEFAULT));
    // The host's disk cannot be opened, only made; /dev/null can.
    let rw = ACC_READ | ACC_WRITE;
    assert_eq!(run(&p, ctx(b'b', 8, 0, ACC_READ)), Ok(0));
    assert_eq!(run(&p, ctx(b'b', 8, 0, ACC_MKNOD)), Ok(1));
    assert_eq!(run(&p, ctx(b'c', 1, 3, rw)), Ok(1));
    assert_eq!(run(&p, ctx(b'c', 136, 9, rw)), Ok(1));
    assert_eq!(run(&p, ctx(b'c', 1, 1, ACC_READ)), Ok(0));
}

#[test]
fn user_rules_and_odd_sets() {
    let mut with_fuse = DEFAULT.to_vec();
    with_fuse.push(r("c 10:229 rw"));
    with_fuse.push(r("b 7:* r"));
    agrees(&with_fuse);
    agrees(&allow_all());
    agrees(&[]);
    agrees(&[
        r("a *:* rwm"),
        deny("b *:* rw"),
        deny("c 1:1 r"),
        deny("c 5:* w"),
    ]);
    agrees(&[
        r("c 1:3 r"),
        r("c 1:* w"),
        r("b *:5 m"),
        r("c *:* rwm"),
        deny("c *:* w"),
    ]);
    // Privileged: nothing to test but the default, one instruction pair.
    let p = program(&reduce(&allow_all()));
    assert_eq!(p.len(), 8);
    assert_eq!(run(&p, ctx(b'b', 8, 0, 7)), Ok(1));
}

#[test]
fn encoding_is_struct_bpf_insn() {
    // r0 = 1; exit -- as `bpftool prog dump xlated` shows the bytes.
    assert_eq!(
        insn(MOV64_K, 0, 0, 0, 1).to_le_bytes(),
        [0xb7, 0x00, 0, 0, 1, 0, 0, 0]
    );
    // r4 = *(u32 *)(r1 + 4): dst in the low nibble, src in the high one.
    assert_eq!(
        insn(LDX_W, 4, 1, 4, 0).to_le_bytes(),
        [0x61, 0x14, 4, 0, 0, 0, 0, 0]
    );
    // if r3 != 2 goto +5; negative immediates sign-extend.
    assert_eq!(
        insn(JNE_K, 3, 0, 5, -1).to_le_bytes(),
        [0x55, 0x03, 5, 0, 0xff, 0xff, 0xff, 0xff]
    );
}
