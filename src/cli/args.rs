//! Docker-style flag parsing, pure: `-it`, `-e K=V`, `-eK=V`, `--env K=V`,
//! `--env=K=V`, `--rm=false`. As docker's CLI (cobra): options may follow
//! positional arguments (`logs web -f`, `rm web -f`), except for the
//! commands whose positionals end in a command of their own (`run IMAGE
//! CMD -x`, `exec CTR CMD -x`, `top CTR ps-options`), where the first
//! positional ends the options. `--` always does.

use crate::error::{Error, Result};
use alloc::string::String;
use alloc::vec::Vec;

/// One flag a command accepts.
#[derive(Debug, Clone, Copy)]
pub struct Flag {
    /// Single-letter form, 0 if none.
    pub short: u8,
    pub long: &'static str,
    /// Takes a value (`-e X`); otherwise a boolean (`-i`, `--rm=false`).
    pub value: bool,
}

pub const fn flag(short: u8, long: &'static str, value: bool) -> Flag {
    Flag { short, long, value }
}

/// Parsed flags in command-line order (index into the table, value), and
/// the positional arguments, in order.
#[derive(Debug, PartialEq, Eq)]
pub struct Parsed<'a> {
    pub flags: Vec<(usize, &'a [u8])>,
    pub rest: Vec<&'a [u8]>,
}

/// An argument as text, for messages and names (lossy: argv is bytes).
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl<'a> Parsed<'a> {
    /// A boolean flag given (and not `=false`).
    /// The last one counts, as cobra's: `--rm --rm=false` is off.
    pub fn on(&self, table: &[Flag], name: &str) -> bool {
        self.value(table, name) == Some(b"true")
    }
    /// A flag's last value.
    pub fn value(&self, table: &[Flag], name: &str) -> Option<&'a [u8]> {
        self.flags
            .iter()
            .rev()
            .find(|&&(k, _)| table[k].long == name)
            .map(|&(_, v)| v)
    }
}

fn unknown(cmd: &str, f: &[u8]) -> Error {
    Error::bad(
        "unknown flag",
        text(f),
        alloc::format!("see 'pocket {cmd} --help'"),
    )
}

fn needs_value(f: &str) -> Error {
    Error::bad("flag needs an argument", f, "see --help")
}

/// A boolean flag's value: absent or "true" is on; "false" is off.
fn boolean(name: &str, v: Option<&[u8]>) -> Result<&'static [u8]> {
    match v {
        None | Some(b"true") | Some(b"1") => Ok(b"true"),
        Some(b"false") | Some(b"0") => Ok(b"false"),
        Some(o) => Err(Error::bad(
            "invalid boolean value",
            text(o),
            alloc::format!("for --{name}"),
        )),
    }
}

/// Options up to the first positional argument; the rest is the
/// command's (`run`, `exec`, `top`).
pub fn parse<'a>(cmd: &str, table: &[Flag], argv: &'a [&'a [u8]]) -> Result<Parsed<'a>> {
    parse_mode(cmd, table, argv, false)
}

/// Options anywhere among the positional arguments, up to `--`.
pub fn parse_interspersed<'a>(
    cmd: &str,
    table: &[Flag],
    argv: &'a [&'a [u8]],
) -> Result<Parsed<'a>> {
    parse_mode(cmd, table, argv, true)
}

fn parse_mode<'a>(
    cmd: &str,
    table: &[Flag],
    argv: &'a [&'a [u8]],
    interspersed: bool,
) -> Result<Parsed<'a>> {
    let mut flags = Vec::new();
    let mut rest = Vec::new();
    let mut i = 0;
    while i < argv.len() {
        let a = argv[i];
        if a == b"--" {
            i += 1;
            break;
        }
        if a.len() < 2 || a[0] != b'-' {
            if !interspersed {
                break;
            }
            rest.push(a);
            i += 1;
            continue;
        }
        i += 1;
        if let Some(long) = a.strip_prefix(b"--") {
            let (name, inline) = match long.iter().position(|&c| c == b'=') {
                Some(p) => (&long[..p], Some(&long[p + 1..])),
                None => (long, None),
            };
            let k = table
                .iter()
                .position(|f| f.long.as_bytes() == name)
                .ok_or_else(|| unknown(cmd, a))?;
            let f = table[k];
            let v = if f.value {
                match inline {
                    Some(v) => v,
                    None if i < argv.len() => {
                        i += 1;
                        argv[i - 1]
                    }
                    None => return Err(needs_value(&alloc::format!("--{}", f.long))),
                }
            } else {
                boolean(f.long, inline)?
            };
            flags.push((k, v));
            continue;
        }
        // A cluster of short flags: -it, -e K=V, -eK=V, -it -e...
        let mut j = 1;
        while j < a.len() {
            let c = a[j];
            let k = table
                .iter()
                .position(|f| f.short == c && c != 0)
                .ok_or_else(|| unknown(cmd, &[b'-', c]))?;
            if table[k].value {
                let v = if j + 1 < a.len() {
                    let v = &a[j + 1..];
                    // -e=K=V is docker's too: the '=' is not part of the value.
                    v.strip_prefix(b"=").unwrap_or(v)
                } else if i < argv.len() {
                    i += 1;
                    argv[i - 1]
                } else {
                    return Err(needs_value(&alloc::format!("-{}", c as char)));
                };
                flags.push((k, v));
                break;
            }
            if a.get(j + 1) == Some(&b'=') {
                // `-H=false`: a boolean's value, as cobra takes it.
                flags.push((k, boolean(table[k].long, Some(&a[j + 2..]))?));
                break;
            }
            flags.push((k, &b"true"[..]));
            j += 1;
        }
    }
    rest.extend_from_slice(&argv[i..]);
    Ok(Parsed { flags, rest })
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &[Flag] = &[
        flag(b'i', "interactive", false),
        flag(b't', "tty", false),
        flag(b'e', "env", true),
        flag(0, "rm", false),
    ];

    fn p<'a>(v: &'a [&'a [u8]]) -> Result<Parsed<'a>> {
        parse("run", T, v)
    }

    #[test]
    fn clusters_values_and_positionals() {
        let v: Vec<&[u8]> = vec![
            b"-it",
            b"-eA=1",
            b"-e",
            b"B=2",
            b"--env=C=3",
            b"--env",
            b"D",
            b"--rm",
            b"sh",
            b"-c",
            b"x",
        ];
        let r = p(&v).unwrap();
        assert_eq!(
            r.flags,
            vec![
                (0, &b"true"[..]),
                (1, &b"true"[..]),
                (2, &b"A=1"[..]),
                (2, &b"B=2"[..]),
                (2, &b"C=3"[..]),
                (2, &b"D"[..]),
                (3, &b"true"[..])
            ]
        );
        assert_eq!(r.rest, &[&b"sh"[..], b"-c", b"x"]);
    }

    #[test]
    fn double_dash_and_short_value_in_cluster() {
        let v: Vec<&[u8]> = vec![b"-ite", b"X=1", b"--", b"-i"];
        let r = p(&v).unwrap();
        assert_eq!(r.flags.len(), 3);
        assert_eq!(r.flags[2], (2, &b"X=1"[..]));
        assert_eq!(r.rest, &[&b"-i"[..]]);
    }

    #[test]
    fn booleans_take_explicit_values() {
        let v: Vec<&[u8]> = vec![b"--rm=false", b"x"];
        assert_eq!(p(&v).unwrap().flags, vec![(3, &b"false"[..])]);
        let v: Vec<&[u8]> = vec![b"--rm=maybe", b"x"];
        assert!(p(&v).is_err());
        // A short one too: -i=false, -ti=0 (the last of a cluster).
        let v: Vec<&[u8]> = vec![b"-i=false", b"-ti=0", b"x"];
        assert_eq!(
            p(&v).unwrap().flags,
            vec![(0, &b"false"[..]), (1, &b"true"[..]), (0, &b"false"[..])]
        );
        let v: Vec<&[u8]> = vec![b"-i=maybe", b"x"];
        assert!(p(&v).is_err());
        // The last one counts.
        let v: Vec<&[u8]> = vec![b"--rm", b"--rm=false", b"-i=false", b"-i", b"x"];
        let r = p(&v).unwrap();
        assert!(!r.on(T, "rm") && r.on(T, "interactive"));
    }

    #[test]
    fn errors_are_clear() {
        let v: Vec<&[u8]> = vec![b"--frob"];
        assert_eq!(
            p(&v).unwrap_err().to_string(),
            "unknown flag --frob: see 'pocket run --help'"
        );
        let v: Vec<&[u8]> = vec![b"-x"];
        assert!(
            p(&v)
                .unwrap_err()
                .to_string()
                .starts_with("unknown flag -x")
        );
        let v: Vec<&[u8]> = vec![b"-e"];
        assert_eq!(
            p(&v).unwrap_err().to_string(),
            "flag needs an argument -e: see --help"
        );
        let v: Vec<&[u8]> = vec![b"--env"];
        assert!(p(&v).is_err());
    }

    #[test]
    fn options_after_positionals_where_docker_takes_them() {
        let v: Vec<&[u8]> = vec![b"web", b"-i", b"--env", b"A=1", b"db", b"--", b"-t"];
        let r = parse_interspersed("rm", T, &v).unwrap();
        assert_eq!(r.flags, vec![(0, &b"true"[..]), (2, &b"A=1"[..])]);
        assert_eq!(r.rest, vec![&b"web"[..], b"db", b"-t"]);
        // run's command keeps its own options.
        let r = p(&v).unwrap();
        assert!(r.flags.is_empty());
        assert_eq!(r.rest.len(), v.len());
        // An unknown option after a positional is still refused.
        let v: Vec<&[u8]> = vec![b"web", b"--frob"];
        assert!(parse_interspersed("rm", T, &v).is_err());
    }

    #[test]
    fn lone_dash_is_positional() {
        let v: Vec<&[u8]> = vec![b"-", b"-i"];
        assert_eq!(p(&v).unwrap().rest.len(), 2);
    }

    /// Hostile command lines (split at spaces) through both modes:
    /// refusals are one line; every flag is the table's, a boolean's value
    /// is true or false, `parse` leaves a suffix of argv, and what it
    /// reads is where `parse_interspersed` starts.
    #[test]
    fn hostile_args() {
        let corpus: &[&[u8]] = &[
            b"-it -eA=1 -e B=2 --env=C=3 --env D --rm sh -c x",
            b"-ite X=1 -- -i",
            b"web -i --env A=1 db -- -t",
            b"--rm=false -e=K=V --interactive=0 --tty=1 - x",
        ];
        let dict: &[&[u8]] = &[b" -", b" --", b" -e ", b" --env=", b"=", b"--rm=", b" -- "];
        crate::rt::fuzz::run(
            "args",
            corpus,
            dict,
            std::time::Duration::from_secs(60),
            |b| {
                let argv: Vec<&[u8]> = b.split(|&c| c == b' ').collect();
                let check = |r: &Parsed| {
                    for &(k, v) in &r.flags {
                        assert!(k < T.len());
                        assert!(T[k].value || v == b"true" || v == b"false", "{v:?}");
                    }
                };
                let mixed = parse_interspersed("rm", T, &argv);
                if let Ok(m) = &mixed {
                    check(m);
                }
                let r = p(&argv).map_err(|e| format!("{e}"))?;
                check(&r);
                assert!(argv.ends_with(&r.rest), "rest is not the end of argv");
                if let Ok(m) = &mixed {
                    assert!(m.flags.starts_with(&r.flags), "the modes disagree");
                }
                mixed.map(|_| ()).map_err(|e| format!("{e}"))
            },
        );
    }
}
