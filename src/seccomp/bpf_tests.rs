//! A small classic-BPF interpreter runs compiled programs on
//! `seccomp_data` inputs; a direct evaluation of the rules is the
//! reference they must agree with.

use super::*;
use crate::seccomp::{Action, Arg, Op, profile};
use crate::spec::DEFAULT_CAPS;
use syscalls::Sysno;

pub const ALLOW: u32 = 0x7fff_0000;
pub const EPERM: u32 = 0x0005_0001;
pub const ENOSYS: u32 = 0x0005_0026;
pub const KILL: u32 = 0x8000_0000;
pub const I386: u32 = 0x4000_0003;

#[derive(Clone, Copy, Debug)]
pub struct Data {
    pub nr: u32,
    pub arch: u32,
    pub args: [u64; 6],
}

pub fn call(nr: u32, args: &[u64]) -> Data {
    let mut a = [0; 6];
    a[..args.len()].copy_from_slice(args);
    Data {
        nr,
        arch: AUDIT_ARCH_X86_64,
        args: a,
    }
}

/// The kernel's static checks that matter here: a length it takes,
/// every jump inside the program, a `ret` at the end.
pub fn check(prog: &[SockFilter]) {
    assert!(
        !prog.is_empty() && prog.len() <= MAX_INSNS,
        "{}",
        prog.len()
    );
    for (pc, i) in prog.iter().enumerate() {
        match i.code {
            JA => assert!(pc + 1 + (i.k as usize) < prog.len(), "ja at {pc}"),
            JEQ | JGT | JGE => {
                assert!(
                    pc + 1 + (i.jt.max(i.jf) as usize) < prog.len(),
                    "jump at {pc}"
                )
            }
            LD_ABS => assert!(i.k % 4 == 0 && i.k < 64, "load at {pc}"),
            AND_K | RET_K => {}
            c => panic!("opcode {c:#x} at {pc}"),
        }
    }
    assert_eq!(prog.last().unwrap().code, RET_K);
}

/// Run `prog` on `d`: (return value, instructions executed).
pub fn run(prog: &[SockFilter], d: &Data) -> (u32, usize) {
    let mut mem = [0u8; 64];
    mem[0..4].copy_from_slice(&d.nr.to_le_bytes());
    mem[4..8].copy_from_slice(&d.arch.to_le_bytes());
    for (i, a) in d.args.iter().enumerate() {
        mem[16 + 8 * i..24 + 8 * i].copy_from_slice(&a.to_le_bytes());
    }
    let (mut a, mut pc, mut steps) = (0u32, 0usize, 0usize);
    loop {
        let i = prog[pc];
        steps += 1;
        pc += 1;
        match i.code {
            LD_ABS => {
                let k = i.k as usize;
                a = u32::from_le_bytes(mem[k..k + 4].try_into().unwrap());
            }
            AND_K => a &= i.k,
            JA => pc += i.k as usize,
            JEQ | JGT | JGE => {
                let t = match i.code {
                    JEQ => a == i.k,
                    JGT => a > i.k,
                    _ => a >= i.k,
                };
                pc += if t { i.jt } else { i.jf } as usize;
            }
            RET_K => return (i.k, steps),
            c => panic!("opcode {c:#x}"),
        }
    }
}

fn holds(a: &Arg, d: &Data) -> bool {
    let x = d.args[a.index as usize];
    match a.op {
        Op::Eq => x == a.value,
        Op::Ne => x != a.value,
        Op::Lt => x < a.value,
        Op::Le => x <= a.value,
        Op::Gt => x > a.value,
        Op::Ge => x >= a.value,
        Op::MaskedEq => x & a.value == a.value_two,
    }
}

/// The rules' meaning, evaluated directly (see `compile`).
pub fn eval(default: u32, rules: &[Rule], d: &Data) -> u32 {
    if d.arch != AUDIT_ARCH_X86_64 {
        return KILL;
    }
    if d.nr >= X32_SYSCALL_BIT {
        return ENOSYS;
    }
    let max = rules.iter().map(|r| r.nr).max();
    if let Some(m) = max
        && !permissive(default)
        && default != ENOSYS
        && d.nr > m
    {
        return ENOSYS;
    }
    let live: Vec<&Rule> = rules
        .iter()
        .filter(|r| r.nr == d.nr && r.action != default)
        .collect();
    if let Some(r) = live.iter().find(|r| r.args.is_empty()) {
        return r.action;
    }
    live.iter()
        .find(|r| r.args.iter().all(|a| holds(a, d)))
        .map_or(default, |r| r.action)
}

/// Argument values at and around every boundary the rules test.
fn probes(rules: &[Rule]) -> Vec<u64> {
    let mut v = vec![0, 1, 2, u32::MAX as u64, 1 << 32, u64::MAX];
    for r in rules {
        for a in r.args {
            for x in [
                a.value,
                a.value_two,
                a.value ^ (1 << 32),
                a.value | a.value_two,
            ] {
                v.extend([x, x.wrapping_add(1), x.wrapping_sub(1)]);
            }
        }
    }
    v.sort();
    v.dedup();
    v
}

/// Compile, then compare with `eval` on every number up to past the
/// highest, each argument position at every probe value, plus x32 and
/// a foreign arch. Returns the program.
pub fn agree(default: u32, rules: &[Rule]) -> Vec<SockFilter> {
    let prog = compile(default, rules).unwrap();
    check(&prog);
    let top = rules.iter().map(|r| r.nr).max().unwrap_or(0) + 3;
    let p = probes(rules);
    for nr in 0..=top {
        let tested: Vec<u8> = {
            let mut t: Vec<u8> = rules
                .iter()
                .filter(|r| r.nr == nr)
                .flat_map(|r| r.args.iter().map(|a| a.index))
                .collect();
            t.sort();
            t.dedup();
            t
        };
        let mut inputs = vec![call(nr, &[])];
        for &i in &tested {
            for &x in &p {
                let mut d = call(nr, &[]);
                d.args[i as usize] = x;
                inputs.push(d);
                // And with the other tested arguments at the same value.
                let mut all = d;
                for &j in &tested {
                    all.args[j as usize] = x;
                }
                inputs.push(all);
            }
        }
        for d in inputs {
            assert_eq!(run(&prog, &d).0, eval(default, rules, &d), "{d:x?}");
        }
    }
    for d in [
        call(X32_SYSCALL_BIT, &[]),
        call(X32_SYSCALL_BIT | Sysno::read as u32, &[]),
        call(u32::MAX, &[]),
        Data {
            arch: I386,
            ..call(Sysno::read as u32, &[])
        },
    ] {
        assert_eq!(run(&prog, &d).0, eval(default, rules, &d), "{d:x?}");
    }
    prog
}

fn rule(nr: Sysno, action: Action, args: &'static [Arg]) -> Rule<'static> {
    Rule {
        nr: nr as u32,
        action: action.ret(),
        args,
    }
}

const fn arg(index: u8, op: Op, value: u64, value_two: u64) -> Arg {
    Arg {
        index,
        op,
        value,
        value_two,
    }
}

#[test]
fn builtin_profile_agrees_with_its_rules_for_several_cap_sets() {
    for caps in [
        0,
        DEFAULT_CAPS,
        DEFAULT_CAPS | profile::SYS_ADMIN,
        u64::MAX >> 23,
    ] {
        let rules = profile::rules(caps);
        let prog = agree(profile::DEFAULT_ACTION.ret(), &rules);
        eprintln!("caps {caps:#x}: {} instructions", prog.len());
    }
}

#[test]
fn every_comparison_on_both_halves() {
    static ARGS: [Arg; 7] = [
        arg(0, Op::Eq, 0x1_0000_0005, 0),
        arg(1, Op::Ne, 7, 0),
        arg(2, Op::Lt, 0x2_0000_0000, 0),
        arg(3, Op::Le, 0xffff_ffff, 0),
        arg(4, Op::Gt, 0x1_8000_0000, 0),
        arg(5, Op::Ge, 3, 0),
        arg(0, Op::MaskedEq, 0xff00_0000_00ff, 0x1200_0000_0034),
    ];
    let mut rules = Vec::new();
    for (i, a) in ARGS.iter().enumerate() {
        rules.push(Rule {
            nr: i as u32,
            action: Action::Errno(100 + i as u16).ret(),
            args: core::slice::from_ref(a),
        });
    }
    // Two conditions ANDed, and a rule with all six.
    rules.push(Rule {
        nr: 20,
        action: ALLOW,
        args: &ARGS[1..3],
    });
    rules.push(Rule {
        nr: 21,
        action: ALLOW,
        args: &ARGS[..6],
    });
    for default in [EPERM, ALLOW, KILL, ENOSYS] {
        agree(default, &rules);
    }
}

#[test]
fn or_groups_of_32_bit_tests() {
    static A: [Arg; 9] = [
        arg(0, Op::Eq, 1, 0),
        arg(0, Op::Lt, 10, 0),
        arg(0, Op::Eq, 1 << 33, 0), // a high word: not in a group
        arg(0, Op::Le, 20, 0),
        arg(0, Op::Eq, 30, 0),
        arg(1, Op::Eq, 31, 0), // another argument: a new group
        arg(1, Op::Lt, 3, 0),
        arg(0, Op::Eq, 40, 0),
        arg(0, Op::Le, u32::MAX as u64, 0),
    ];
    let actions = [
        ALLOW,
        ALLOW,
        ALLOW,
        ALLOW,
        ALLOW,
        ALLOW,
        ALLOW,
        0x0005_0007,
        0x0005_0007,
    ];
    let rules: Vec<Rule> = A
        .iter()
        .zip(actions)
        .map(|(a, action)| Rule {
            nr: 5,
            action,
            args: core::slice::from_ref(a),
        })
        .collect();
    let prog = agree(EPERM, &rules);
    // 9 rules of 4 or 5 instructions each, and the header, would be ~50.
    assert!(prog.len() < 40, "{}", prog.len());
}

#[test]
fn rule_precedence_like_libseccomp() {
    static ONE: [Arg; 1] = [arg(0, Op::Eq, 1, 0)];
    static SMALL: [Arg; 1] = [arg(0, Op::Lt, 5, 0)];
    let rules = [
        // A rule with the default's action is dropped: a0 == 1 then
        // reaches the next rule.
        rule(Sysno::mkdir, Action::Errno(1), &ONE),
        rule(Sysno::mkdir, Action::Allow, &SMALL),
        // An unconditional rule decides, wherever it is.
        rule(Sysno::rmdir, Action::Errno(13), &ONE),
        rule(Sysno::rmdir, Action::Allow, &[]),
    ];
    let prog = agree(EPERM, &rules);
    let r = |nr: Sysno, a: u64| run(&prog, &call(nr as u32, &[a])).0;
    // The highest-numbered rule dropped: the run before it must not
    // stretch over it.
    let p2 = agree(
        EPERM,
        &[rules[3], rule(Sysno::getrandom, Action::Errno(1), &[])],
    );
    assert_eq!(run(&p2, &call(Sysno::getrandom as u32, &[])).0, EPERM);
    assert_eq!(r(Sysno::mkdir, 1), ALLOW);
    assert_eq!(r(Sysno::mkdir, 7), EPERM);
    assert_eq!(r(Sysno::rmdir, 1), ALLOW);
}

#[test]
fn long_jumps_get_trampolines() {
    // 300 conditional rules on one syscall (1200+ instructions) between
    // the tree and the leaves after it, and 150 syscalls with one each.
    static VALUES: std::sync::OnceLock<Vec<Arg>> = std::sync::OnceLock::new();
    let values = VALUES.get_or_init(|| (0..300).map(|v| arg(1, Op::Eq, v * 3, 0)).collect());
    let mut rules: Vec<Rule> = values
        .iter()
        .map(|a| Rule {
            nr: 100,
            action: ALLOW,
            args: core::slice::from_ref(a),
        })
        .collect();
    for nr in 150..300 {
        rules.push(Rule {
            nr,
            action: Action::Errno(nr as u16).ret(),
            args: &values[(nr % 7) as usize..(nr % 7) as usize + 1],
        });
    }
    let prog = agree(EPERM, &rules);
    assert!(prog.iter().any(|i| i.code == JA), "no trampoline needed?");
    assert_eq!(run(&prog, &call(100, &[0, 897])).0, ALLOW);
    assert_eq!(run(&prog, &call(100, &[0, 898])).0, EPERM);
}

#[test]
fn too_long_is_refused() {
    static VALUES: std::sync::OnceLock<Vec<Arg>> = std::sync::OnceLock::new();
    // 64-bit values: four instructions each, no grouping.
    let values = VALUES.get_or_init(|| (0..1100).map(|v| arg(0, Op::Eq, v | 1 << 32, 0)).collect());
    let rules: Vec<Rule> = values
        .iter()
        .map(|a| Rule {
            nr: 1,
            action: ALLOW,
            args: core::slice::from_ref(a),
        })
        .collect();
    assert!(compile(EPERM, &rules).is_err());
    assert!(compile(EPERM, &rules[..900]).is_ok());
}

#[test]
fn empty_and_allow_all() {
    let p = agree(ALLOW, &[]);
    assert_eq!(run(&p, &call(Sysno::mount as u32, &[])).0, ALLOW);
    // x32 and foreign arches are refused even by an allow-all filter.
    assert_eq!(run(&p, &call(X32_SYSCALL_BIT | 165, &[])).0, ENOSYS);
    let mut d = call(0, &[]);
    d.arch = I386;
    assert_eq!(run(&p, &d).0, KILL);
    let p = agree(EPERM, &[]);
    assert_eq!(run(&p, &call(0, &[])).0, EPERM);
}

/// `plain_action`'s answer is what the compiled program does for every
/// argument value the rules could test; None only where they test one.
#[test]
fn plain_action_is_what_the_program_does() {
    static ONE: [Arg; 1] = [arg(0, Op::Eq, 1, 0)];
    let mixed = vec![
        rule(Sysno::mkdir, Action::Errno(1), &ONE),
        rule(Sysno::mkdir, Action::Allow, &ONE),
        rule(Sysno::rmdir, Action::Errno(13), &ONE),
        rule(Sysno::rmdir, Action::Allow, &[]),
        rule(Sysno::execve, Action::Log, &[]),
        rule(Sysno::write, Action::Errno(1), &[]),
    ];
    let sets = [
        (profile::DEFAULT_ACTION.ret(), profile::rules(DEFAULT_CAPS)),
        (profile::DEFAULT_ACTION.ret(), profile::rules(0)),
        (EPERM, mixed.clone()),
        (ALLOW, mixed.clone()),
        (KILL, mixed),
    ];
    for (default, rules) in &sets {
        let prog = compile(*default, rules).unwrap();
        let p = probes(rules);
        let top = rules.iter().map(|r| r.nr).max().unwrap() + 3;
        for nr in 0..=top {
            match plain_action(*default, rules, nr) {
                Some(a) => {
                    for i in 0..6 {
                        for &x in &p {
                            let mut d = call(nr, &[]);
                            d.args[i] = x;
                            assert_eq!(run(&prog, &d).0, a, "nr {nr} {d:x?}");
                        }
                    }
                }
                None => assert!(
                    rules
                        .iter()
                        .any(|r| r.nr == nr && r.action != *default && !r.args.is_empty()),
                    "nr {nr}"
                ),
            }
        }
    }
    // The builtin profile lets what exec's dmz does through, plainly.
    let b = profile::rules(DEFAULT_CAPS);
    for nr in [
        Sysno::execveat,
        Sysno::execve,
        Sysno::fcntl,
        Sysno::write,
        Sysno::exit_group,
    ] {
        assert_eq!(
            plain_action(profile::DEFAULT_ACTION.ret(), &b, nr as u32),
            Some(ALLOW)
        );
    }
}
