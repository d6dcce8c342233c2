//! Reading config.json (and exec's process.json) strictly: every field
//! pocket uses is type-checked, and a bad one is refused in one line that
//! names it (`config.json: process.user.uid: must be a 32-bit number`),
//! before anything is made. Fields pocket does not know are ignored, as
//! the runtime spec asks.

use super::caps::{self, Sets};
use super::{Hook, Hooks, Process, Rlimit, User, rlimit};
use crate::error::{Error, Result};
use crate::json::Value;
use alloc::borrow::Cow;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// A place in the document: the step that reached it from its parent
/// (its dotted path is spelled out only for an error) and its value
/// (None: absent or null, which the spec treats alike). A copy is a few
/// words: looking up a key allocates nothing.
#[derive(Clone, Copy)]
pub(super) struct At<'a, 'p> {
    doc: &'static str,
    up: Option<&'p At<'a, 'p>>,
    step: Step<'p>,
    pub v: Option<&'a Value>,
}

#[derive(Clone, Copy)]
enum Step<'p> {
    Root,
    Key(&'p str),
    Idx(usize),
}

impl<'a> At<'a, 'a> {
    pub fn root(doc: &'static str, v: &'a Value) -> At<'a, 'a> {
        At {
            doc,
            up: None,
            step: Step::Root,
            v: Some(v),
        }
    }
}

impl<'a, 'p> At<'a, 'p> {
    pub fn key<'s>(&'s self, k: &'s str) -> At<'a, 's> {
        At {
            doc: self.doc,
            up: Some(self),
            step: Step::Key(k),
            v: self.v.and_then(|o| o.get(k)).filter(|x| !x.is_null()),
        }
    }

    fn idx(&self, i: usize, v: &'a Value) -> At<'a, '_> {
        At {
            doc: self.doc,
            up: Some(self),
            step: Step::Idx(i),
            v: Some(v),
        }
    }

    /// The dotted path from the root: `process.rlimits[2].type`.
    fn path(&self) -> String {
        let mut steps = Vec::new();
        let mut at = Some(self);
        while let Some(a) = at {
            steps.push(a.step);
            at = a.up;
        }
        let mut out = String::new();
        for s in steps.iter().rev() {
            match s {
                Step::Root => {}
                Step::Key(k) if out.is_empty() => out.push_str(k),
                Step::Key(k) => {
                    out.push('.');
                    out.push_str(k);
                }
                Step::Idx(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }

    /// `<doc>: <path>: <why>`.
    #[cold]
    pub fn err(&self, why: impl Into<Cow<'static, str>>) -> Error {
        match self.path() {
            p if p.is_empty() => Error::bad(self.doc, "", why),
            p => Error::bad(format!("{}:", self.doc), p, why),
        }
    }

    pub fn present(&self) -> bool {
        self.v.is_some()
    }

    pub fn str(&self) -> Result<Option<&'a str>> {
        match self.v {
            None => Ok(None),
            Some(Value::Str(s)) if s.contains('\0') => Err(self.err("contains a NUL byte")),
            Some(Value::Str(s)) => Ok(Some(s)),
            Some(_) => Err(self.err("must be a string")),
        }
    }

    /// A string; absent is empty.
    pub fn string(&self) -> Result<String> {
        Ok(String::from(self.str()?.unwrap_or("")))
    }

    pub fn bool(&self) -> Result<Option<bool>> {
        match self.v {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(self.err("must be true or false")),
        }
    }

    /// An integer in `lo..=hi`; `range` says which in the error.
    pub fn int(&self, lo: i128, hi: i128, range: &'static str) -> Result<Option<i128>> {
        match self.v {
            None => Ok(None),
            Some(Value::Num(n)) => match n.parse::<i128>() {
                Ok(x) if (lo..=hi).contains(&x) => Ok(Some(x)),
                Ok(_) => Err(self.err(range)),
                Err(_) => Err(self.err("must be an integer")),
            },
            Some(_) => Err(self.err("must be a number")),
        }
    }

    pub fn u32(&self) -> Result<Option<u32>> {
        let n = self.int(0, u32::MAX as i128, "must be a 32-bit number")?;
        Ok(n.map(|n| n as u32))
    }

    pub fn u64(&self) -> Result<Option<u64>> {
        let n = self.int(0, u64::MAX as i128, "must be a 64-bit unsigned number")?;
        Ok(n.map(|n| n as u64))
    }

    pub fn i64(&self) -> Result<Option<i64>> {
        let n = self.int(
            i64::MIN as i128,
            i64::MAX as i128,
            "must be a 64-bit number",
        )?;
        Ok(n.map(|n| n as i64))
    }

    /// The elements of an array (absent: none), each with its place.
    pub fn items(&self) -> Result<Vec<At<'a, '_>>> {
        match self.v {
            None => Ok(Vec::new()),
            Some(Value::Arr(a)) => Ok(a.iter().enumerate().map(|(i, v)| self.idx(i, v)).collect()),
            Some(_) => Err(self.err("must be an array")),
        }
    }

    /// An array of strings (absent: empty).
    pub fn strings(&self) -> Result<Vec<String>> {
        match self.v {
            None => Ok(Vec::new()),
            Some(Value::Arr(a)) => {
                let mut out = Vec::with_capacity(a.len());
                for v in a {
                    match v {
                        Value::Str(s) if s.contains('\0') => {
                            return Err(self.err("contains a NUL byte"));
                        }
                        Value::Str(s) => out.push(s.clone()),
                        _ => return Err(self.err("must be an array of strings")),
                    }
                }
                Ok(out)
            }
            Some(_) => Err(self.err("must be an array of strings")),
        }
    }

    /// The members of an object (absent: none).
    pub fn members(&self) -> Result<&'a [(String, Value)]> {
        match self.v {
            None => Ok(&[]),
            Some(Value::Obj(m)) => Ok(m),
            Some(_) => Err(self.err("must be an object")),
        }
    }

    /// An object, or absent; anything else is refused.
    pub fn object(&self) -> Result<bool> {
        self.members().map(|_| self.present())
    }

    /// An object of strings (OCI annotations, sysctl), in order.
    pub fn string_map(&self) -> Result<Vec<(String, String)>> {
        let mut out: Vec<(String, String)> = Vec::new();
        for (k, _) in self.members()? {
            let s = self.key(k).str()?;
            let s = s.ok_or_else(|| self.key(k).err("must be a string"))?;
            // A key given twice: the last one, as json::Value::get reads.
            out.retain(|(x, _)| x != k);
            out.push((k.clone(), String::from(s)));
        }
        Ok(out)
    }
}

/// A capability set: names as the spec writes them ("CAP_KILL").
fn cap_set(at: &At) -> Result<u64> {
    let names = at.strings()?;
    caps::mask(&names).map_err(|n| at.err(format!("unknown capability {n:?}")))
}

/// OCI `process` (config.json's, or exec's process.json).
pub(super) fn process(p: &At) -> Result<Process> {
    if !p.object()? {
        return Err(p.err("missing"));
    }
    let args = p.key("args").strings()?;
    if args.is_empty() {
        return Err(p.key("args").err("must not be empty"));
    }
    let cwd = p.key("cwd").str()?.unwrap_or("/");
    if !cwd.starts_with('/') {
        return Err(p.key("cwd").err("must be an absolute path"));
    }
    let u = p.key("user");
    u.object()?;
    let mut additional_gids = Vec::new();
    for g in u.key("additionalGids").items()? {
        additional_gids.push(g.u32()?.unwrap_or(0));
    }
    let umask = u
        .key("umask")
        .int(0, 0o777, "must be from 0 to 0777 (511)")?;
    let umask = umask.map(|m| m as u32);
    let c = p.key("capabilities");
    c.object()?;
    let bounding = cap_set(&c.key("bounding"))?;
    let sets = Sets {
        effective: cap_set(&c.key("effective"))?,
        permitted: cap_set(&c.key("permitted"))?,
        inheritable: cap_set(&c.key("inheritable"))?,
        ambient: cap_set(&c.key("ambient"))?,
    };
    let mut rlimits: Vec<Rlimit> = Vec::new();
    for r in p.key("rlimits").items()? {
        let t = r.key("type");
        let name = t.str()?.ok_or_else(|| t.err("missing"))?;
        let resource =
            rlimit::resource(name).ok_or_else(|| t.err(format!("unknown rlimit {name:?}")))?;
        if rlimits.iter().any(|x| x.resource == resource) {
            return Err(t.err(format!("{name} given twice")));
        }
        let soft = r
            .key("soft")
            .u64()?
            .ok_or_else(|| r.key("soft").err("missing"))?;
        let hard = r
            .key("hard")
            .u64()?
            .ok_or_else(|| r.key("hard").err("missing"))?;
        if soft > hard {
            return Err(r.err(format!(
                "{name}: soft limit {soft} is above hard limit {hard}"
            )));
        }
        rlimits.push(Rlimit {
            resource,
            soft,
            hard,
        });
    }
    let cs = p.key("consoleSize");
    cs.object()?;
    let dim = |k: &str| -> Result<u16> {
        let a = cs.key(k);
        let n = a.int(0, u16::MAX as i128, "must be from 0 to 65535")?;
        Ok(n.ok_or_else(|| a.err("missing"))? as u16)
    };
    let console_size = match cs.present() {
        true => Some((dim("height")?, dim("width")?)),
        false => None,
    };
    let oom = p
        .key("oomScoreAdj")
        .int(-1000, 1000, "must be from -1000 to 1000")?;
    // Accepted, checked, and ignored: pocket loads no LSM profile (no
    // AppArmor parser, no SELinux policy tools on the hosts it targets).
    p.key("apparmorProfile").str()?;
    p.key("selinuxLabel").str()?;
    Ok(Process {
        args: args.into_iter().map(String::into_bytes).collect(),
        env: p
            .key("env")
            .strings()?
            .into_iter()
            .map(String::into_bytes)
            .collect(),
        cwd: cwd.as_bytes().to_vec(),
        terminal: p.key("terminal").bool()?.unwrap_or(false),
        capabilities: bounding,
        cap_sets: Sets::of(bounding, sets),
        user: User {
            uid: u.key("uid").u32()?.unwrap_or(0),
            gid: u.key("gid").u32()?.unwrap_or(0),
            additional_gids,
        },
        no_new_privileges: p.key("noNewPrivileges").bool()?.unwrap_or(false),
        umask,
        rlimits,
        oom_score_adj: oom.map(|n| n as i32),
        console_size,
    })
}

/// OCI `hooks`: each list in order; paths absolute, timeouts > 0.
pub(super) fn hooks(h: &At) -> Result<Hooks> {
    h.object()?;
    let list = |k: &str| -> Result<Vec<Hook>> {
        let mut out = Vec::new();
        for e in h.key(k).items()? {
            let path = e.key("path").string()?;
            if !path.starts_with('/') {
                return Err(e.key("path").err("must be an absolute path"));
            }
            let timeout =
                e.key("timeout")
                    .int(1, u32::MAX as i128, "must be a number of seconds above 0")?;
            out.push(Hook {
                path,
                args: e.key("args").strings()?,
                env: e.key("env").strings()?,
                timeout: timeout.map(|t| t as u32),
            });
        }
        Ok(out)
    };
    Ok(Hooks {
        prestart: list("prestart")?,
        create_runtime: list("createRuntime")?,
        create_container: list("createContainer")?,
        start_container: list("startContainer")?,
        poststart: list("poststart")?,
        poststop: list("poststop")?,
    })
}

/// `linux.resources`: the types of the fields pocket applies (the values
/// are read by `Resources::from_json`); the ones it does not apply
/// (hugepageLimits, network, rdma, unified, blockIO's per-device lists)
/// are ignored.
pub(super) fn check_resources(r: &At) -> Result<()> {
    r.object()?;
    let m = r.key("memory");
    m.object()?;
    for k in ["limit", "reservation", "swap", "kernel", "kernelTCP"] {
        m.key(k).i64()?;
    }
    m.key("swappiness").u64()?;
    m.key("disableOOMKiller").bool()?;
    let c = r.key("cpu");
    c.object()?;
    for k in ["shares", "period", "realtimePeriod"] {
        c.key(k).u64()?;
    }
    for k in ["quota", "realtimeRuntime"] {
        c.key(k).i64()?;
    }
    for k in ["cpus", "mems"] {
        c.key(k).str()?;
    }
    let p = r.key("pids");
    p.object()?;
    p.key("limit").i64()?;
    let b = r.key("blockIO");
    b.object()?;
    b.key("weight")
        .int(0, 1000, "must be from 10 to 1000 (0: none)")?;
    for d in r.key("devices").items()? {
        if d.key("allow").bool()?.is_none() {
            return Err(d.key("allow").err("missing"));
        }
        match d.key("type").str()? {
            None | Some("a" | "b" | "c") => {}
            Some(_) => return Err(d.key("type").err("must be a, b or c")),
        }
        for k in ["major", "minor"] {
            d.key(k).i64()?;
        }
        let acc = d.key("access").str()?.unwrap_or("");
        if !acc.bytes().all(|c| matches!(c, b'r' | b'w' | b'm')) {
            return Err(d.key("access").err("must be letters of rwm"));
        }
    }
    Ok(())
}
