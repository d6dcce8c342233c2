//! runc's command line: global flags before the command, each command's
//! flags in `--flag value` or `--flag=value` form (engines use both), then
//! its arguments.

use crate::cli::args::{Flag, Parsed, parse, text};
use crate::error::{Error, Result};
use alloc::string::String;

/// The global flags (`runc --root DIR --log FILE --log-format json ...`).
pub struct Global<'a> {
    pub root: Option<&'a str>,
    pub log: Option<String>,
    /// `--log-format json` (else text).
    pub json: bool,
    pub debug: bool,
    pub systemd_cgroup: bool,
    /// `--rootless true|false|auto` (runc's: ignore cgroup permission
    /// errors); None: auto, which is "as a plain user".
    pub rootless: Option<bool>,
    /// The command and its arguments.
    pub rest: &'a [&'a [u8]],
}

fn utf8<'a>(flag: &str, v: &'a [u8]) -> Result<&'a str> {
    core::str::from_utf8(v).map_err(|_| Error::bad(String::from(flag), text(v), "not UTF-8"))
}

/// Read the global flags, up to the command.
pub fn global<'a>(mut argv: &'a [&'a [u8]]) -> Result<Global<'a>> {
    let mut g = Global {
        root: None,
        log: None,
        json: false,
        debug: false,
        systemd_cgroup: false,
        rootless: None,
        rest: &[],
    };
    while let Some((&a, rest)) = argv.split_first() {
        if !a.starts_with(b"-") || a == b"-" {
            break;
        }
        let (name, inline) = match a.iter().position(|&c| c == b'=') {
            Some(i) => (&a[..i], Some(&a[i + 1..])),
            None => (a, None),
        };
        let name = name
            .strip_prefix(b"--")
            .or_else(|| name.strip_prefix(b"-"))
            .unwrap_or(name);
        let takes = matches!(
            name,
            b"root" | b"log" | b"log-format" | b"criu" | b"rootless"
        );
        let (value, next) = match (takes, inline) {
            (true, Some(v)) => (v, rest),
            (true, None) => match rest.split_first() {
                Some((&v, r)) => (v, r),
                None => {
                    return Err(Error::bad(
                        "flag needs an argument",
                        alloc::format!("--{}", text(name)),
                        "see --help",
                    ));
                }
            },
            (false, _) => (inline.unwrap_or(b"true"), rest),
        };
        match name {
            b"root" => g.root = Some(utf8("--root", value)?),
            b"log" => g.log = Some(text(value)),
            b"log-format" => g.json = value == b"json",
            b"debug" => g.debug = value != b"false",
            b"systemd-cgroup" => g.systemd_cgroup = value != b"false",
            b"rootless" => {
                g.rootless = match value {
                    b"true" => Some(true),
                    b"false" => Some(false),
                    b"auto" => None,
                    v => {
                        return Err(Error::bad(
                            "--rootless",
                            text(v),
                            "must be true, false or auto",
                        ));
                    }
                }
            }
            // Accepted: pocket needs no CRIU path.
            b"criu" => {}
            b"version" | b"v" => {
                g.rest = &[b"--version"];
                return Ok(g);
            }
            b"help" | b"h" => {
                g.rest = &[b"--help"];
                return Ok(g);
            }
            _ => {
                return Err(Error::bad(
                    "flag provided but not defined",
                    alloc::format!("-{}", text(name)),
                    "see --help",
                ));
            }
        }
        argv = next;
    }
    g.rest = argv;
    Ok(g)
}

/// A command's flags and arguments; errors in runc's words.
pub fn command<'a>(cmd: &str, table: &[Flag], argv: &'a [&'a [u8]]) -> Result<Parsed<'a>> {
    parse(cmd, table, argv).map_err(|mut e| {
        if e.op == "unknown flag" {
            e.op = "flag provided but not defined".into();
        }
        e
    })
}

/// The one container id a command takes (`runc delete ID`).
pub fn id<'a>(cmd: &str, p: &Parsed<'a>) -> Result<&'a str> {
    match p.rest.first() {
        Some(id) => utf8("container id", id),
        None => Err(Error::bad(
            String::from(cmd),
            "",
            "requires exactly 1 argument: the container id",
        )),
    }
}

/// runc's check of a new container's id: letters, digits, `_+-.`.
pub fn check_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 1024
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"_+-.".contains(&c));
    if ok {
        Ok(())
    } else {
        Err(Error::bad(
            "invalid id format",
            String::from(id),
            "only [A-Za-z0-9_+.-]",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_flags_in_both_forms() {
        let a: Vec<&[u8]> = vec![
            b"--root",
            b"/r",
            b"--log=/l.json",
            b"--log-format",
            b"json",
            b"--systemd-cgroup",
            b"create",
            b"--bundle",
            b"/b",
            b"x",
        ];
        let g = global(&a).unwrap();
        assert_eq!(g.root, Some("/r"));
        assert_eq!(g.log.as_deref(), Some("/l.json"));
        assert!(g.json && g.systemd_cgroup);
        assert_eq!(g.rest[0], b"create");
        assert!(global(&[b"--frob"]).is_err());
        assert!(global(&[b"--root"]).is_err());
        assert_eq!(global(&[b"--version"]).unwrap().rest, &[b"--version"]);
    }

    #[test]
    fn ids() {
        for ok in ["a", "ctr-1", "A_b.c+d", &"f".repeat(64)] {
            assert!(check_id(ok).is_ok(), "{ok}");
        }
        for bad in ["", "..", ".hidden", "a/b", "a b", "é"] {
            assert!(check_id(bad).is_err(), "{bad}");
        }
    }
}
