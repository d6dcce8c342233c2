//! Seccomp: docker's default profile, or a profile in docker's JSON form
//! (OCI `linux.seccomp`), compiled to classic BPF by pocket itself: no
//! libseccomp, no profile file on the host.
//!
//! `profile` holds the built-in table, `json` reads and writes profiles,
//! `bpf` compiles rules for one container's capabilities into a program
//! the parent builds once per run; the child only installs it (`Confine`).

pub mod bpf;
pub mod json;
mod names;
pub mod profile;

use crate::error::{Error, Result};
use crate::sys::Errno;
use crate::sys::seccomp::{self as sys, SockFilter};
use alloc::string::String;
use alloc::vec::Vec;

/// What a rule (or the default) does: SECCOMP_RET_* and its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Allow,
    /// Fail the call with this errno.
    Errno(u16),
    KillThread,
    KillProcess,
    /// SIGSYS to the caller.
    Trap,
    /// Notify a ptrace tracer, with this data (ENOSYS if none is attached).
    Trace(u16),
    /// Allow, and log it (kernel 4.14+).
    Log,
}

impl Action {
    /// The filter's return value, <linux/seccomp.h>.
    pub fn ret(self) -> u32 {
        match self {
            Action::Allow => 0x7fff_0000,
            Action::Errno(e) => 0x0005_0000 | e as u32,
            Action::KillThread => 0,
            Action::KillProcess => 0x8000_0000,
            Action::Trap => 0x0003_0000,
            Action::Trace(d) => 0x7ff0_0000 | d as u32,
            Action::Log => 0x7ffc_0000,
        }
    }
}

/// libseccomp's comparison operators (OCI `args[].op`), on the full
/// 64-bit argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `(arg & value) == value_two`.
    MaskedEq,
}

/// One argument comparison (OCI `args[]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arg {
    /// 0..=5.
    pub index: u8,
    pub op: Op,
    pub value: u64,
    pub value_two: u64,
}

/// OCI `linux.syscalls[]`: docker's includes/excludes already applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Syscall {
    pub names: Vec<String>,
    pub action: Action,
    pub args: Vec<Arg>,
}

/// OCI `linux.seccomp`, resolved for one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub default: Action,
    /// As given (SCMP_ARCH_*); kept for config.json. Only the x86_64 ABI
    /// is compiled, whatever the list says (see `bpf`).
    pub architectures: Vec<String>,
    pub syscalls: Vec<Syscall>,
    /// OCI `flags` (SECCOMP_FILTER_FLAG_* bits) as given; None when the
    /// profile names none, which is not the same as an empty list (see
    /// `Seccomp::flags`).
    pub flags: Option<u32>,
}

/// The filter flags of seccomp(2) a profile may name (OCI `flags`, the
/// ones runc and crun know). Not WAIT_KILLABLE_RECV: it needs a notify
/// listener, which pocket refuses.
pub const FLAGS: &[(&str, u32)] = &[
    ("SECCOMP_FILTER_FLAG_TSYNC", 1),
    ("SECCOMP_FILTER_FLAG_LOG", 2),
    ("SECCOMP_FILTER_FLAG_SPEC_ALLOW", 4),
];
const SPEC_ALLOW: u32 = 4;

/// The container's seccomp choice (Spec, config.json).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Seccomp {
    /// `--security-opt seccomp=unconfined`: no filter.
    Unconfined,
    /// docker's default profile, compiled from pocket's own table.
    #[default]
    Builtin,
    /// A profile from a JSON file (or an OCI config.json).
    Profile(Profile),
}

impl Seccomp {
    /// The flags seccomp(2) gets: the profile's, or SECCOMP_FILTER_FLAG_SPEC_ALLOW
    /// when it names none (crun's default, and runc's since 1.1.5). Else
    /// the kernel, where it mitigates Speculative Store Bypass through
    /// seccomp (`spec_store_bypass_disable=seccomp`, the default before
    /// Linux 5.16), forces the mitigation on every confined process:
    /// CPU-bound code (Python, Ruby, gzip) runs up to half as fast, to
    /// guard against code in its own address space, which no container
    /// runtime's sandbox is about. An explicit `"flags": []` keeps it.
    pub fn flags(&self) -> u32 {
        match self {
            Seccomp::Profile(Profile { flags: Some(f), .. }) => *f,
            _ => SPEC_ALLOW,
        }
    }
}

/// The filter for a container with capabilities `caps` (bit N = cap N);
/// None when unconfined. Built by the parent, once per container start.
pub fn build(s: &Seccomp, caps: u64) -> Result<Option<Vec<SockFilter>>> {
    let Some((default, rules)) = table(s, caps) else {
        return Ok(None);
    };
    bpf::compile(default.ret(), &rules)
        .map(Some)
        .map_err(|why| Error::bad("seccomp", "", why))
}

/// The default action and the rules of `s` for capabilities `caps`; None
/// when unconfined.
fn table(s: &Seccomp, caps: u64) -> Option<(Action, Vec<bpf::Rule<'_>>)> {
    match s {
        Seccomp::Unconfined => None,
        Seccomp::Builtin => Some((profile::DEFAULT_ACTION, profile::rules(caps))),
        Seccomp::Profile(p) => Some((p.default, json::rules(p))),
    }
}

/// Whether the filter `build` makes of `s` for capabilities `caps` lets
/// each of the syscalls `nrs` through (allowed or logged) whatever its
/// arguments: what runs after the filter is in must be sure of it.
pub fn lets_through(s: &Seccomp, caps: u64, nrs: &[u32]) -> bool {
    let Some((default, rules)) = table(s, caps) else {
        return true;
    };
    nrs.iter().all(|&nr| {
        bpf::plain_action(default.ret(), &rules, nr)
            .is_some_and(|r| r == Action::Allow.ret() || r == Action::Log.ret())
    })
}

/// What the child installs: built by the parent before clone/fork, so
/// the child only makes syscalls.
#[derive(Clone, Copy)]
pub struct Confine<'a> {
    pub filter: Option<&'a [SockFilter]>,
    /// SECCOMP_FILTER_FLAG_* for seccomp(2) (`Seccomp::flags`).
    pub flags: u32,
    pub no_new_privs: bool,
}

pub const NONE: Confine<'static> = Confine {
    filter: None,
    flags: 0,
    no_new_privs: false,
};

impl Confine<'_> {
    /// Before capabilities are dropped. Without no_new_privs the kernel
    /// takes a filter only from a task with CAP_SYS_ADMIN, so it goes in
    /// now (runc's order), and must allow what pocket does after it:
    /// prctl, capset, setgroups/setres[ug]id, close_range, execve.
    pub fn before_caps(&self) -> core::result::Result<(), (&'static str, Errno)> {
        match self.filter {
            Some(f) if !self.no_new_privs => {
                sys::set_filter(f, self.flags).map_err(|e| ("seccomp", e))
            }
            _ => Ok(()),
        }
    }

    /// Last, right before execve (or the `--init` fork): no_new_privs,
    /// then the filter. From here pocket only calls execve, write (the
    /// error pipe) and exit_group, all in every profile docker ships.
    pub fn last(&self) -> core::result::Result<(), (&'static str, Errno)> {
        if !self.no_new_privs {
            return Ok(());
        }
        sys::set_no_new_privs().map_err(|e| ("prctl", e))?;
        match self.filter {
            Some(f) => sys::set_filter(f, self.flags).map_err(|e| ("seccomp", e)),
            None => Ok(()),
        }
    }
}
