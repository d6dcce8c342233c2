//! Rules -> a classic BPF program for seccomp(2).
//!
//! The program:
//!
//! 1. `seccomp_data.arch` must be AUDIT_ARCH_X86_64, else KILL_PROCESS.
//!    pocket compiles the x86_64 ABI only: a 32-bit `int 0x80` call
//!    arrives as AUDIT_ARCH_I386 with other numbers, the classic way
//!    around a filter written for one table. docker (libseccomp) filters
//!    i386 with its own table instead; libseccomp's answer for an arch
//!    the filter does not know is also to kill.
//! 2. A number with the x32 bit (0x40000000) set, or above it, gets
//!    ENOSYS, as from a kernel with x32 off (Debian boots with it off):
//!    never the x86_64 rule of the same low number.
//! 3. Above the highest number any rule names: ENOSYS, as runc's patch
//!    does for docker, so a libc trying a syscall newer than the profile
//!    falls back instead of failing with EPERM (skipped when the default
//!    already allows, or is ENOSYS).
//! 4. A balanced tree of `jge` over the boundaries of runs of numbers
//!    that end the same way: about 7 compares for docker's profile, not a
//!    chain of 350.
//! 5. Leaves: a `ret`, or the syscall's argument rules in order.
//!
//! The shape also keeps the kernel's part cheap: taking a filter, it
//! runs it for every syscall number to find the ones allowed whatever
//! their arguments (and skips the filter for those from then on), so its
//! cost grows with the path length times the number of syscalls: a
//! chain of 400 compares cost 1 ms to install here, this tree 60 us
//! (seccomp_cache_prepare, kernel 5.11+).
//!
//! The program is emitted back to front, so every jump target is known
//! when its jump is written; a target beyond jt/jf's 8 bits gets a `ja`
//! (32-bit offset) beside the jump.

use super::{Arg, Op};
use crate::sys::seccomp::SockFilter;
use alloc::vec::Vec;

// <linux/bpf_common.h>
pub const LD_ABS: u16 = 0x00 | 0x00 | 0x20; // BPF_LD | BPF_W | BPF_ABS
pub const AND_K: u16 = 0x04 | 0x50; // BPF_ALU | BPF_AND | BPF_K
pub const JA: u16 = 0x05; // BPF_JMP | BPF_JA
pub const JEQ: u16 = 0x05 | 0x10;
pub const JGT: u16 = 0x05 | 0x20;
pub const JGE: u16 = 0x05 | 0x30;
pub const RET_K: u16 = 0x06;

// struct seccomp_data: int nr; __u32 arch; __u64 ip; __u64 args[6].
pub const OFF_NR: u32 = 0;
pub const OFF_ARCH: u32 = 4;
pub const OFF_ARGS: u32 = 16;

pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
pub const X32_SYSCALL_BIT: u32 = 0x4000_0000;
/// The highest syscall number a rule may name (x86_64's are below 470).
const MAX_NR: u32 = 4095;
/// BPF_MAXINSNS: the kernel refuses longer programs.
pub const MAX_INSNS: usize = 4096;

const RET_KILL_PROCESS: u32 = 0x8000_0000;
const RET_ENOSYS: u32 = 0x0005_0000 | 38;

/// One rule: syscall `nr` gets `action` (a SECCOMP_RET_* value) when all
/// `args` hold.
#[derive(Debug, Clone, Copy)]
pub struct Rule<'a> {
    pub nr: u32,
    pub action: u32,
    pub args: &'a [Arg],
}

/// Add the rule for `nr` as runc adds an OCI `syscalls[]` entry: one rule
/// with every condition (an AND), but one rule per condition (an OR) if
/// an argument is tested twice, since libseccomp cannot AND two tests of
/// one argument (runc issue 2735; moby's personality and socket rules
/// rely on it).
pub fn push_rules<'a>(out: &mut Vec<Rule<'a>>, nr: u32, action: u32, args: &'a [Arg]) {
    let repeated = args
        .iter()
        .enumerate()
        .any(|(i, a)| args[..i].iter().any(|b| b.index == a.index));
    if repeated {
        for a in args {
            out.push(Rule {
                nr,
                action,
                args: core::slice::from_ref(a),
            });
        }
    } else {
        out.push(Rule { nr, action, args });
    }
}

/// How a run of syscall numbers ends.
#[derive(Debug, Clone, PartialEq)]
enum Body<'a> {
    Ret(u32),
    /// (action, conditions), first match wins, else the default.
    Rules(Vec<(u32, &'a [Arg])>),
}

/// Append a run; one ending like the one before it extends that one.
fn push<'a>(runs: &mut Vec<(u32, Body<'a>)>, start: u32, b: Body<'a>) {
    if let (Some((_, Body::Ret(a))), Body::Ret(k)) = (runs.last(), &b)
        && a == k
    {
        return;
    }
    runs.push((start, b));
}

/// The argument a rule's single ==, < or <= test on a 32-bit value
/// looks at (see `Builder::any_of`).
fn low_only(args: &[Arg]) -> Option<u8> {
    match args {
        [a] if matches!(a.op, Op::Eq | Op::Lt | Op::Le) && a.value >> 32 == 0 => Some(a.index),
        _ => None,
    }
}

/// Allowing defaults need no ENOSYS stub (runc's isAllowAction).
fn permissive(ret: u32) -> bool {
    matches!(ret & 0xffff_0000, 0x7fff_0000 | 0x7ffc_0000 | 0x7ff0_0000)
}

/// What the program `compile` makes of `rules` does with syscall `nr`
/// (x86_64, below the x32 bit) when its arguments play no part: its first
/// rule without conditions (those with the default's action dropped, as
/// there), or the default where it has no rule (ENOSYS past the highest
/// one, as the stub gives); None when rules test its arguments.
pub fn plain_action(default: u32, rules: &[Rule], nr: u32) -> Option<u32> {
    if stub_above(default, rules).is_some_and(|m| nr > m) {
        return Some(RET_ENOSYS);
    }
    match decide(default, rules.iter().filter(|r| r.nr == nr)) {
        (Some(a), _) => Some(a),
        (None, true) => None,
        (None, false) => Some(default),
    }
}

/// The highest syscall number with a rule, past which the program gives
/// ENOSYS (runc's stub, so that newer syscalls fail as unknown), when the
/// default is neither permissive nor ENOSYS already.
fn stub_above(default: u32, rules: &[Rule]) -> Option<u32> {
    let max = rules.iter().map(|r| r.nr).max();
    max.filter(|_| !permissive(default) && default != RET_ENOSYS)
}

/// One syscall's rules (in the profile's order): the action of the first
/// without conditions, if any (rules with the default's action dropped);
/// and whether any with conditions came before it.
fn decide<'r, 'a: 'r>(
    default: u32,
    rules: impl Iterator<Item = &'r Rule<'a>>,
) -> (Option<u32>, bool) {
    let mut conds = false;
    for r in rules.filter(|r| r.action != default) {
        if r.args.is_empty() {
            return (Some(r.action), conds);
        }
        conds = true;
    }
    (None, conds)
}

/// Compile. Per syscall, as libseccomp and runc treat a profile: a rule
/// with the default's action is dropped (runc ignores it); a rule without
/// conditions decides the syscall (the first one if several); otherwise
/// the rules are tried in order, the first whose conditions all hold
/// decides, and none holding gives the default.
pub fn compile(default: u32, rules: &[Rule]) -> Result<Vec<SockFilter>, &'static str> {
    let max = rules.iter().map(|r| r.nr).max();
    if max.is_some_and(|m| m > MAX_NR) {
        return Err("syscall number out of range");
    }
    let stub = stub_above(default, rules);
    // A counting sort by number (the profile's order kept within one):
    // rules of `nr` are order[at[nr]..at[nr + 1]]. No generic sort code.
    let top = max.unwrap_or(0) as usize;
    let mut at = alloc::vec![0usize; top + 2];
    for r in rules {
        at[r.nr as usize + 1] += 1;
    }
    let mut sum = 0;
    for n in at.iter_mut() {
        sum += *n;
        *n = sum;
    }
    let mut order = alloc::vec![0usize; rules.len()];
    let mut fill = at.clone();
    for (i, r) in rules.iter().enumerate() {
        order[fill[r.nr as usize]] = i;
        fill[r.nr as usize] += 1;
    }

    // Runs: (first number, body), contiguous, from 0 up to the stub's
    // limit (or to the x32 bit).
    let mut runs: Vec<(u32, Body)> = Vec::with_capacity(top + 2);
    let mut next = 0u32;
    for (nr, w) in at.windows(2).enumerate() {
        // Plain loops, no allocation but for argument rules: this runs
        // for every number at every container start.
        let ids = &order[w[0]..w[1]];
        let (ret, conds) = decide(default, ids.iter().map(|&i| &rules[i]));
        let body = match ret {
            Some(a) => Body::Ret(a),
            None if !conds => continue,
            None => Body::Rules(
                ids.iter()
                    .map(|&i| &rules[i])
                    .filter(|r| r.action != default)
                    .map(|r| (r.action, r.args))
                    .collect(),
            ),
        };
        let nr = nr as u32;
        if nr > next {
            push(&mut runs, next, Body::Ret(default));
        }
        push(&mut runs, nr, body);
        next = nr + 1;
    }
    // The last run reaches up to the stub (or the x32 bit): close it
    // unless it ends at the stub's limit.
    if (stub.is_none() || next <= top as u32) && next < X32_SYSCALL_BIT {
        push(&mut runs, next, Body::Ret(default));
    }

    let mut b = Builder {
        code: Vec::with_capacity(2 * runs.len() + 64),
    };
    let tree = b.tree(&runs, default);
    let enosys = b.ret(RET_ENOSYS);
    let mut after_x32 = tree;
    if let Some(max) = stub {
        after_x32 = b.jump(JGT, max, enosys, tree);
    }
    b.jump(JGE, X32_SYSCALL_BIT, enosys, after_x32);
    let load_nr = b.stmt(LD_ABS, OFF_NR);
    let kill = b.ret(RET_KILL_PROCESS);
    b.jump(JEQ, AUDIT_ARCH_X86_64, load_nr, kill);
    b.stmt(LD_ABS, OFF_ARCH);
    if b.code.len() > MAX_INSNS {
        return Err("the profile compiles to more than 4096 BPF instructions");
    }
    b.code.reverse();
    Ok(b.code)
}

/// A label: the instruction that was the `n`-th pushed (counting from
/// the end of the program, 1-based).
type Label = usize;

/// Emits back to front: `code` holds the program's tail, reversed.
struct Builder {
    code: Vec<SockFilter>,
}

impl Builder {
    fn push(&mut self, code: u16, jt: u8, jf: u8, k: u32) -> Label {
        self.code.push(SockFilter { code, jt, jf, k });
        self.code.len()
    }

    fn stmt(&mut self, code: u16, k: u32) -> Label {
        self.push(code, 0, 0, k)
    }

    fn ret(&mut self, k: u32) -> Label {
        self.stmt(RET_K, k)
    }

    /// A conditional jump to two labels. A target more than 255
    /// instructions away goes through a `ja` pushed first.
    fn jump(&mut self, code: u16, k: u32, mut jt: Label, mut jf: Label) -> Label {
        loop {
            let n = self.code.len();
            let (ot, of) = (n - jt, n - jf);
            if ot <= 255 && of <= 255 {
                return self.push(code, ot as u8, of as u8, k);
            }
            let far = if ot > 255 { jt } else { jf };
            let via = self.push(JA, 0, 0, (n - far) as u32);
            if jt == far {
                jt = via;
            }
            if jf == far {
                jf = via;
            }
        }
    }

    /// The search tree over `runs` (sorted, contiguous); nr is in A.
    fn tree(&mut self, runs: &[(u32, Body)], default: u32) -> Label {
        if let [(_, body)] = runs {
            return self.body(body, default);
        }
        let mid = runs.len() / 2;
        let right = self.tree(&runs[mid..], default);
        let left = self.tree(&runs[..mid], default);
        self.jump(JGE, runs[mid].0, right, left)
    }

    fn body(&mut self, body: &Body, default: u32) -> Label {
        let rules = match body {
            Body::Ret(k) => return self.ret(*k),
            Body::Rules(r) => r,
        };
        let mut next = self.ret(default);
        // Consecutive rules with one action share its `ret`, while it is
        // near enough for jt/jf (else a fresh `ret` costs what a `ja` would).
        let mut shared: Option<(u32, Label)> = None;
        let mut end = rules.len();
        while end > 0 {
            let (action, args) = rules[end - 1];
            let pass = match shared {
                Some((a, l)) if a == action && self.code.len() - l < 200 => l,
                _ => {
                    let l = self.ret(action);
                    shared = Some((action, l));
                    l
                }
            };
            // The longest run ending here of rules with this action that
            // each test one argument against a 32-bit value (docker's
            // socket families and personality values) is one test of the
            // high word and a compare per rule: 30 instructions instead
            // of 100 for socket, and the kernel's cost of taking a filter
            // grows faster than its length.
            let mut start = end - 1;
            if let Some(i) = low_only(args) {
                while start > 0
                    && rules[start - 1].0 == action
                    && low_only(rules[start - 1].1) == Some(i)
                {
                    start -= 1;
                }
            }
            if end - start > 1 {
                next = self.any_of(&rules[start..end], pass, next);
            } else {
                let mut p = pass;
                for a in args.iter().rev() {
                    p = self.cond(a, p, next);
                }
                next = p;
            }
            end = start;
        }
        next
    }

    /// Rules that each test argument `index` (the same for all) with
    /// ==, < or <= against a value below 2^32: pass if the high word is 0
    /// and any of the tests holds on the low word.
    fn any_of(&mut self, group: &[(u32, &[Arg])], pass: Label, fail: Label) -> Label {
        let lo = OFF_ARGS + 8 * group[0].1[0].index as u32;
        let mut miss = fail;
        for (_, args) in group.iter().rev() {
            let a = &args[0];
            let v = a.value as u32;
            miss = match a.op {
                Op::Eq => self.jump(JEQ, v, pass, miss),
                Op::Lt => self.jump(JGE, v, miss, pass),
                _ => self.jump(JGT, v, miss, pass),
            };
        }
        let low = self.stmt(LD_ABS, lo);
        self.jump(JEQ, 0, low, fail);
        self.stmt(LD_ABS, lo + 4)
    }

    /// Test one 64-bit argument, as libseccomp does on a 64-bit ABI: the
    /// high word first, then the low one. Returns the label of its first
    /// instruction.
    fn cond(&mut self, a: &Arg, pass: Label, fail: Label) -> Label {
        let lo = OFF_ARGS + 8 * a.index as u32;
        let hi = lo + 4;
        let (vlo, vhi) = (a.value as u32, (a.value >> 32) as u32);
        // Ops that are the negation of another swap pass and fail.
        let (op, t, f) = match a.op {
            Op::Ne => (Op::Eq, fail, pass),
            Op::Lt => (Op::Ge, fail, pass),
            Op::Le => (Op::Gt, fail, pass),
            op => (op, pass, fail),
        };
        match op {
            Op::Eq => {
                self.jump(JEQ, vlo, t, f);
                let low = self.stmt(LD_ABS, lo);
                self.jump(JEQ, vhi, low, f);
            }
            Op::Gt | Op::Ge => {
                self.jump(if op == Op::Gt { JGT } else { JGE }, vlo, t, f);
                let low = self.stmt(LD_ABS, lo);
                let equal = self.jump(JEQ, vhi, low, f);
                self.jump(JGT, vhi, t, equal);
            }
            _ => {
                let (dlo, dhi) = (a.value_two as u32, (a.value_two >> 32) as u32);
                self.jump(JEQ, dlo, t, f);
                self.stmt(AND_K, vlo);
                let low = self.stmt(LD_ABS, lo);
                // (hi & 0) == 0 always holds: docker's clone rule.
                if vhi == 0 && dhi == 0 {
                    return low;
                }
                self.jump(JEQ, dhi, low, f);
                self.stmt(AND_K, vhi);
            }
        }
        self.stmt(LD_ABS, hi)
    }
}

#[cfg(test)]
#[path = "bpf_tests.rs"]
pub(crate) mod tests;
