//! `--security-opt`, as docker reads it: `seccomp=unconfined|builtin|FILE`,
//! `no-new-privileges[=BOOL]` (`:` works in place of `=`, docker's old
//! form), and `apparmor=unconfined` / `label=disable`, which hold anyway
//! (pocket loads no LSM profile).

use super::args::text;
use crate::error::{Error, Result};
use crate::json::{self, Value};
use crate::seccomp::Seccomp;
use crate::spec::Spec;
use alloc::string::String;
use alloc::vec::Vec;

/// The options, parsed.
#[derive(Debug, PartialEq, Eq, Default)]
pub struct Opts<'a> {
    /// `seccomp=`'s value, the last one given.
    pub seccomp: Option<&'a [u8]>,
    pub no_new_privileges: Option<bool>,
}

fn bad(opt: &[u8]) -> Error {
    Error::bad("invalid --security-opt", text(opt), "see --help")
}

pub fn parse<'a>(opts: &[&'a [u8]]) -> Result<Opts<'a>> {
    let mut o = Opts::default();
    for &opt in opts {
        if opt == b"no-new-privileges" {
            o.no_new_privileges = Some(true);
            continue;
        }
        let sep = opt
            .iter()
            .position(|&c| c == b'=')
            .or_else(|| opt.iter().position(|&c| c == b':'));
        let Some(i) = sep else {
            return Err(bad(opt));
        };
        let (k, v) = (&opt[..i], &opt[i + 1..]);
        match k {
            b"seccomp" if !v.is_empty() => o.seccomp = Some(v),
            b"no-new-privileges" => {
                o.no_new_privileges = Some(match v {
                    b"true" | b"1" | b"t" | b"T" | b"TRUE" | b"True" => true,
                    b"false" | b"0" | b"f" | b"F" | b"FALSE" | b"False" => false,
                    _ => return Err(bad(opt)),
                })
            }
            b"apparmor" if v == b"unconfined" => {}
            b"label" if v == b"disable" => {}
            _ => return Err(bad(opt)),
        }
    }
    Ok(o)
}

/// Apply `--security-opt` values to a Spec whose capabilities are
/// final: a profile file is read and resolved for them here, before
/// anything of the container exists, so a bad one leaves nothing behind.
pub fn apply(spec: &mut Spec, opts: &[&[u8]]) -> Result<()> {
    let o = parse(opts)?;
    if let Some(nnp) = o.no_new_privileges {
        spec.process.no_new_privileges = nnp;
    }
    spec.seccomp = match o.seccomp {
        None | Some(b"builtin") => Seccomp::Builtin,
        Some(b"unconfined") => Seccomp::Unconfined,
        Some(path) => {
            let b = super::run::read_file(path, "seccomp profile")?;
            let p = crate::seccomp::json::parse(&b, spec.process.capabilities)
                .map_err(|why| Error::bad("seccomp profile", text(path), why))?;
            let s = Seccomp::Profile(p);
            // Compiled once now so that a profile the kernel could not
            // take (too long) fails here, not in the container's start.
            crate::seccomp::build(&s, spec.process.capabilities).map_err(|mut e| {
                e.op = "seccomp profile".into();
                e.arg = text(path);
                e
            })?;
            s
        }
    };
    Ok(())
}

/// docker inspect's HostConfig.SecurityOpt: what differs from docker's
/// defaults (so pocket's no_new_privs shows), null when nothing does.
pub fn inspect(spec: &Spec) -> Value {
    let mut v: Vec<String> = Vec::new();
    match &spec.seccomp {
        Seccomp::Builtin => {}
        Seccomp::Unconfined => v.push(String::from("seccomp=unconfined")),
        // docker keeps the profile's text here.
        Seccomp::Profile(p) => v.push(alloc::format!(
            "seccomp={}",
            json::compact(&crate::seccomp::json::to_value(p))
        )),
    }
    if spec.process.no_new_privileges {
        v.push(String::from("no-new-privileges"));
    }
    if v.is_empty() {
        Value::Null
    } else {
        json::strs(&v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_forms() {
        fn p<'a>(v: &[&'a [u8]]) -> Result<Opts<'a>> {
            parse(v)
        }
        assert_eq!(p(&[]).unwrap(), Opts::default());
        let o = p(&[b"seccomp=unconfined", b"no-new-privileges"]).unwrap();
        assert_eq!(o.seccomp, Some(&b"unconfined"[..]));
        assert_eq!(o.no_new_privileges, Some(true));
        for f in [&b"no-new-privileges=false"[..], b"no-new-privileges:false"] {
            assert_eq!(p(&[f]).unwrap().no_new_privileges, Some(false));
        }
        assert_eq!(
            p(&[b"no-new-privileges:true"]).unwrap().no_new_privileges,
            Some(true)
        );
        // A path may hold ':' and '='; the first '=' splits.
        assert_eq!(
            p(&[b"seccomp=/a:b=c.json"]).unwrap().seccomp,
            Some(&b"/a:b=c.json"[..])
        );
        assert_eq!(
            p(&[b"seccomp:/p.json"]).unwrap().seccomp,
            Some(&b"/p.json"[..])
        );
        assert!(p(&[b"apparmor=unconfined", b"label=disable"]).is_ok());
        for bad in [
            &b"seccomp"[..],
            b"seccomp=",
            b"no-new-privileges=maybe",
            b"apparmor=docker-default",
            b"systempaths=unconfined",
            b"foo=bar",
        ] {
            let e = p(&[bad]).unwrap_err();
            assert_eq!(e.code, 125);
            assert!(e.to_string().starts_with("invalid --security-opt"), "{e}");
        }
    }

    #[test]
    fn apply_and_inspect() {
        let mut s = Spec::default();
        s.process.no_new_privileges = true;
        assert_eq!(inspect(&s), json::strs(&["no-new-privileges"]));
        apply(&mut s, &[b"seccomp=unconfined", b"no-new-privileges=false"]).unwrap();
        assert_eq!(s.seccomp, Seccomp::Unconfined);
        assert!(!s.process.no_new_privileges);
        assert_eq!(inspect(&s), json::strs(&["seccomp=unconfined"]));
        apply(&mut s, &[]).unwrap();
        assert_eq!(
            (s.seccomp.clone(), inspect(&s)),
            (Seccomp::Builtin, Value::Null)
        );
        let e = apply(&mut s, &[b"seccomp=/nonexistent/p.json"]).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/p.json"), "{e}");
    }
}
