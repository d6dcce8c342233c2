//! Profiles as JSON: docker's `--security-opt seccomp=FILE` format (and
//! OCI `linux.seccomp`, the same fields without includes/excludes) in,
//! OCI `linux.seccomp` out.
//!
//! docker resolves a profile for the container before runc sees it; so
//! does `from_value`: a `syscalls[]` entry is kept if the container has
//! every cap of `includes.caps` and none of `excludes.caps`, and if
//! `includes.arches` (when given) names amd64 and `excludes.arches` does
//! not. `includes.minKernel` is not checked: pocket needs a 5.9+ kernel
//! anyway and docker's own profile asks for 4.8 at most. Names unknown on
//! x86_64 are skipped, as runc skips what libseccomp cannot resolve.
//! `flags` (SECCOMP_FILTER_FLAG_TSYNC, _LOG, _SPEC_ALLOW) go to seccomp(2);
//! none given is SPEC_ALLOW (`Seccomp::flags`). `listenerPath` is
//! ignored; SCMP_ACT_NOTIFY is refused.

use super::bpf::{Rule, push_rules};
use super::{Action, Arg, Op, Profile, Syscall, names};
use crate::json::{self, Value};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

const EPERM: u16 = 1;

const ACTIONS: &[(&str, Action)] = &[
    ("SCMP_ACT_ALLOW", Action::Allow),
    ("SCMP_ACT_ERRNO", Action::Errno(EPERM)),
    ("SCMP_ACT_KILL", Action::KillThread),
    ("SCMP_ACT_KILL_THREAD", Action::KillThread),
    ("SCMP_ACT_KILL_PROCESS", Action::KillProcess),
    ("SCMP_ACT_TRAP", Action::Trap),
    ("SCMP_ACT_TRACE", Action::Trace(EPERM)),
    ("SCMP_ACT_LOG", Action::Log),
];

const OPS: &[(&str, Op)] = &[
    ("SCMP_CMP_EQ", Op::Eq),
    ("SCMP_CMP_NE", Op::Ne),
    ("SCMP_CMP_LT", Op::Lt),
    ("SCMP_CMP_LE", Op::Le),
    ("SCMP_CMP_GT", Op::Gt),
    ("SCMP_CMP_GE", Op::Ge),
    ("SCMP_CMP_MASKED_EQ", Op::MaskedEq),
];

/// How docker's `includes.arches` names this machine (Go's GOARCH).
const GOARCH: &str = "amd64";
const NATIVE: &str = "SCMP_ARCH_X86_64";

type R<T> = Result<T, String>;

/// "field: why": messages are built only on the way out of an error.
fn bad<T>(field: &str, why: &str) -> R<T> {
    Err([field, ": ", why].concat())
}

fn strings(v: Option<&Value>, field: &str) -> R<Vec<String>> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(x) => x
            .strings()
            .map_or_else(|| bad(field, "must be an array of strings"), Ok),
    }
}

fn number(v: Option<&Value>, field: &str) -> R<u64> {
    match v {
        None | Some(Value::Null) => Ok(0),
        Some(x) => x
            .u64()
            .map_or_else(|| bad(field, "must be a non-negative integer"), Ok),
    }
}

/// An action and its errno (or trace data).
fn action(name: Option<&Value>, ret: Option<&Value>, field: &str) -> R<Action> {
    let Some(name) = name.and_then(Value::str) else {
        return bad(field, "missing");
    };
    if name == "SCMP_ACT_NOTIFY" {
        return bad(field, "SCMP_ACT_NOTIFY is not supported");
    }
    let Some(a) = ACTIONS.iter().find(|x| x.0 == name).map(|x| x.1) else {
        return bad(field, &["unknown action \"", name, "\""].concat());
    };
    if ret.is_none_or(Value::is_null) {
        return Ok(a);
    }
    let Ok(data) = u16::try_from(number(ret, "errnoRet")?) else {
        return bad("errnoRet", "out of range");
    };
    match a {
        Action::Errno(_) => Ok(Action::Errno(data)),
        Action::Trace(_) => Ok(Action::Trace(data)),
        _ => bad("errnoRet", "only for SCMP_ACT_ERRNO and SCMP_ACT_TRACE"),
    }
}

fn arg(v: &Value) -> R<Arg> {
    let index = number(v.get("index"), "index")?;
    if index > 5 {
        return bad("index", "must be 0 to 5");
    }
    let Some(op) = v.get("op").and_then(Value::str) else {
        return bad("op", "missing");
    };
    let Some(op) = OPS.iter().find(|x| x.0 == op).map(|x| x.1) else {
        return bad("op", &["unknown operator \"", op, "\""].concat());
    };
    Ok(Arg {
        index: index as u8,
        op,
        value: number(v.get("value"), "value")?,
        value_two: number(v.get("valueTwo"), "valueTwo")?,
    })
}

/// Does the `includes`/`excludes` filter `f` match this container?
/// `all`: every cap must be held (includes); else any (excludes).
fn matches(f: Option<&Value>, caps: u64, all: bool) -> R<Option<bool>> {
    let Some(f) = f.filter(|f| !f.is_null()) else {
        return Ok(None);
    };
    let arches = strings(f.get("arches"), "arches")?;
    let names = strings(f.get("caps"), "caps")?;
    if arches.is_empty() && names.is_empty() {
        return Ok(None);
    }
    // A cap this pocket does not know is one the container does not hold.
    let held = |n: &String| {
        crate::sys::caps::NAMES
            .iter()
            .position(|c| c == n)
            .is_some_and(|i| caps & (1 << i) != 0)
    };
    let arch = arches.iter().any(|a| a == GOARCH);
    Ok(Some(if all {
        (arches.is_empty() || arch) && names.iter().all(held)
    } else {
        arch || names.iter().any(held)
    }))
}

/// One `syscalls[]` entry; None if it is not for this container.
fn entry(s: &Value, caps: u64) -> R<Option<Syscall>> {
    let mut names = strings(s.get("names"), "names")?;
    if let Some(n) = s.get("name").filter(|n| !n.is_null()) {
        if !names.is_empty() {
            return bad("name", "use either 'name' or 'names'");
        }
        match n.str() {
            Some(n) => names.push(n.to_string()),
            None => return bad("name", "must be a string"),
        }
    }
    let action = action(s.get("action"), s.get("errnoRet"), "action")?;
    let list = match s.get("args") {
        None | Some(Value::Null) => &[][..],
        Some(a) => a
            .arr()
            .map_or_else(|| bad("args", "must be an array"), Ok)?,
    };
    let mut args = Vec::new();
    for (j, a) in list.iter().enumerate() {
        args.push(arg(a).map_err(|e| format!("args[{j}].{e}"))?);
    }
    let inc = matches(s.get("includes"), caps, true).map_err(|e| ["includes.", &e].concat())?;
    let exc = matches(s.get("excludes"), caps, false).map_err(|e| ["excludes.", &e].concat())?;
    if inc == Some(false) || exc == Some(true) || names.is_empty() {
        return Ok(None);
    }
    Ok(Some(Syscall {
        names,
        action,
        args,
    }))
}

/// A profile (docker JSON or OCI `linux.seccomp`) for a container with
/// `caps`.
pub fn from_value(v: &Value, caps: u64) -> R<Profile> {
    if !matches!(v, Value::Obj(_)) {
        return Err("must be a JSON object".to_string());
    }
    let default = action(
        v.get("defaultAction"),
        v.get("defaultErrnoRet"),
        "defaultAction",
    )?;
    let mut architectures = strings(v.get("architectures"), "architectures")?;
    if let Some(map) = v.get("archMap").filter(|m| !m.is_null()) {
        if !architectures.is_empty() {
            return bad("archMap", "use either 'architectures' or 'archMap'");
        }
        for a in map.arr().unwrap_or(&[]) {
            if a.get("architecture").and_then(Value::str) == Some(NATIVE) {
                architectures.push(NATIVE.to_string());
                architectures.extend(strings(a.get("subArchitectures"), "archMap")?);
            }
        }
    }
    let list = match v.get("syscalls") {
        None | Some(Value::Null) => &[][..],
        Some(s) => s
            .arr()
            .map_or_else(|| bad("syscalls", "must be an array"), Ok)?,
    };
    let mut syscalls = Vec::new();
    for (i, s) in list.iter().enumerate() {
        if let Some(s) = entry(s, caps).map_err(|e| format!("syscalls[{i}].{e}"))? {
            syscalls.push(s);
        }
    }
    let flags = match v.get("flags") {
        None | Some(Value::Null) => None,
        f => Some(flag_bits(&strings(f, "flags")?)?),
    };
    Ok(Profile {
        default,
        architectures,
        syscalls,
        flags,
    })
}

/// OCI `flags`: SECCOMP_FILTER_FLAG_* names to seccomp(2)'s bits.
fn flag_bits(names: &[String]) -> R<u32> {
    let mut bits = 0;
    for n in names {
        match super::FLAGS.iter().find(|f| f.0 == n) {
            Some(f) => bits |= f.1,
            None => return Err(format!("flags: {n} is not supported")),
        }
    }
    Ok(bits)
}

/// Parse a profile file's bytes.
pub fn parse(b: &[u8], caps: u64) -> R<Profile> {
    let v = json::parse(b).map_err(|e| format!("{e}"))?;
    from_value(&v, caps)
}

fn action_value(a: Action, name: &str, ret: &str) -> Vec<(String, Value)> {
    let (n, data) = match a {
        Action::Allow => ("SCMP_ACT_ALLOW", None),
        Action::Errno(e) => ("SCMP_ACT_ERRNO", Some(e)),
        Action::KillThread => ("SCMP_ACT_KILL_THREAD", None),
        Action::KillProcess => ("SCMP_ACT_KILL_PROCESS", None),
        Action::Trap => ("SCMP_ACT_TRAP", None),
        Action::Trace(d) => ("SCMP_ACT_TRACE", Some(d)),
        Action::Log => ("SCMP_ACT_LOG", None),
    };
    let mut v = alloc::vec![(name.to_string(), json::str(n))];
    if let Some(d) = data {
        v.push((ret.to_string(), json::num(d)));
    }
    v
}

/// As OCI `linux.seccomp`.
pub fn to_value(p: &Profile) -> Value {
    let mut o = action_value(p.default, "defaultAction", "defaultErrnoRet");
    if !p.architectures.is_empty() {
        o.push(("architectures".to_string(), json::strs(&p.architectures)));
    }
    let calls = p
        .syscalls
        .iter()
        .map(|s| {
            let mut e = alloc::vec![("names".to_string(), json::strs(&s.names))];
            e.extend(action_value(s.action, "action", "errnoRet"));
            if !s.args.is_empty() {
                let args = s.args.iter().map(|a| {
                    let op = OPS.iter().find(|x| x.1 == a.op).map_or("", |x| x.0);
                    json::obj!(
                        ("index", Some(json::num(a.index))),
                        ("value", Some(json::num(a.value))),
                        ("valueTwo", Some(json::num(a.value_two))),
                        ("op", Some(json::str(op))),
                    )
                });
                e.push(("args".to_string(), Value::Arr(args.collect())));
            }
            Value::Obj(e)
        })
        .collect();
    o.push(("syscalls".to_string(), Value::Arr(calls)));
    if let Some(bits) = p.flags {
        let names = super::FLAGS.iter().filter(|f| bits & f.1 != 0);
        let names = names.map(|f| json::str(f.0)).collect();
        o.push(("flags".to_string(), Value::Arr(names)));
    }
    Value::Obj(o)
}

/// The profile's rules by x86_64 number (runc's way: see `push_rules`).
pub fn rules(p: &Profile) -> Vec<Rule<'_>> {
    let mut out = Vec::new();
    for s in &p.syscalls {
        for nr in s.names.iter().filter_map(|n| names::nr(n)) {
            push_rules(&mut out, nr, s.action.ret(), &s.args);
        }
    }
    out
}

#[cfg(test)]
#[path = "json_tests.rs"]
mod tests;
