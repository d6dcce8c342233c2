//! The devices cgroup: which device nodes a container may open (read,
//! write) or make (mknod). Without it, root in a container with CAP_MKNOD
//! could make a node of the host's disk and read it, and a bind of the
//! host's /dev (`-v /dev:/h`) would hand it every disk as is.
//!
//! The rules are OCI `linux.resources.devices`, in order. They are read
//! the way the v1 kernel reads devices.allow/deny lines (security/
//! device_cgroup.c), so both cgroup versions enforce one meaning: a
//! [`State`] of a default (deny all, or allow all) and exceptions to it.
//! v1 gets the state written back as lines ([`write_v1`]); v2, which has
//! no such files, a BPF program built from it (`devfilter.rs`).

use super::resources::{ACC_ALL, ACC_MKNOD, ACC_READ, ACC_WRITE, DeviceRule};
use crate::error::{Error, Result};
use alloc::format;
use alloc::vec::Vec;

const fn rule(
    allow: bool,
    kind: u8,
    major: Option<u32>,
    minor: Option<u32>,
    access: u8,
) -> DeviceRule {
    DeviceRule {
        allow,
        kind,
        major,
        minor,
        access,
    }
}

const fn chr(major: u32, minor: Option<u32>) -> DeviceRule {
    rule(true, b'c', Some(major), minor, ACC_ALL)
}

/// What every container may use, as docker gives it: moby's
/// DefaultLinuxSpec (deny all, then null, zero, urandom, random, tty,
/// console) with what runc appends to every container (specconv's
/// AllowedDevices: mknod of any node, full, ptmx, the pts/* terminals and
/// /dev/net/tun, which runc keeps for compatibility). Making a node is
/// harmless: opening it is what the rules decide.
pub const DEFAULT: &[DeviceRule] = &[
    rule(false, b'a', None, None, ACC_ALL),
    rule(true, b'c', None, None, ACC_MKNOD),
    rule(true, b'b', None, None, ACC_MKNOD),
    chr(1, Some(3)),    // null
    chr(1, Some(5)),    // zero
    chr(1, Some(7)),    // full
    chr(1, Some(8)),    // random
    chr(1, Some(9)),    // urandom
    chr(5, Some(0)),    // tty
    chr(5, Some(1)),    // console
    chr(5, Some(2)),    // ptmx
    chr(136, None),     // pts/*
    chr(10, Some(200)), // net/tun
];

pub fn defaults() -> Vec<DeviceRule> {
    DEFAULT.to_vec()
}

/// Every device, every access: what `--privileged` asks for.
pub fn allow_all() -> Vec<DeviceRule> {
    alloc::vec![rule(true, b'a', None, None, ACC_ALL)]
}

/// "rwm" in any order, each at most once, at least one.
pub fn parse_access(s: &str) -> Option<u8> {
    let mut a = 0;
    for c in s.bytes() {
        let bit = match c {
            b'r' => ACC_READ,
            b'w' => ACC_WRITE,
            b'm' => ACC_MKNOD,
            _ => return None,
        };
        if a & bit != 0 {
            return None;
        }
        a |= bit;
    }
    (a != 0).then_some(a)
}

/// Device numbers as the kernel has them: 12 bits of major, 20 of minor.
const MAJOR_MAX: u32 = (1 << 12) - 1;
const MINOR_MAX: u32 = (1 << 20) - 1;

/// docker's `--device-cgroup-rule` syntax, `TYPE MAJOR:MINOR ACCESS`
/// ("c 1:3 rwm", "b 7:* r", "a *:* rwm"), as an allow rule. Type 'a'
/// resets the whole cgroup (the kernel reads nothing after it), so it is
/// taken only as "a *:* rwm": "a 1:3 r" would silently allow everything.
pub fn parse_rule(s: &str) -> Option<DeviceRule> {
    let mut p = s.split(' ');
    let (kind, nums, access) = (p.next()?, p.next()?, p.next()?);
    if p.next().is_some() {
        return None;
    }
    let kind = match kind {
        "a" => b'a',
        "b" => b'b',
        "c" => b'c',
        _ => return None,
    };
    let (major, minor) = nums.split_once(':')?;
    let num = |v: &str, max: u32| -> Option<Option<u32>> {
        if v == "*" {
            return Some(None);
        }
        if v.is_empty() || !v.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        v.parse::<u32>().ok().filter(|n| *n <= max).map(Some)
    };
    let r = rule(
        true,
        kind,
        num(major, MAJOR_MAX)?,
        num(minor, MINOR_MAX)?,
        parse_access(access)?,
    );
    if kind == b'a' && (r.major.is_some() || r.minor.is_some() || r.access != ACC_ALL) {
        return None;
    }
    Some(r)
}

/// The cgroup's state after its rules: the default for every device, and
/// the exceptions to it (rules of the other verdict, type 'c' or 'b').
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    pub default_allow: bool,
    pub exceptions: Vec<DeviceRule>,
}

impl State {
    /// Whether anything is refused at all (else nothing need be written).
    pub fn restricts(&self) -> bool {
        !self.default_allow || !self.exceptions.is_empty()
    }

    /// May a process do `access` (ACC_* bits) to device `kind` (b'c' or
    /// b'b') `major:minor`? The kernel's own test (v1's
    /// devcgroup_legacy_check_permission): under deny-all, one exception
    /// must grant the whole access; under allow-all, no exception may
    /// touch any of it.
    pub fn allows(&self, kind: u8, major: u32, minor: u32, access: u8) -> bool {
        let hit = self.exceptions.iter().any(|e| {
            e.kind == kind
                && e.major.is_none_or(|m| m == major)
                && e.minor.is_none_or(|m| m == minor)
                && if self.default_allow {
                    access & e.access != 0
                } else {
                    access & !e.access == 0
                }
        });
        hit != self.default_allow
    }
}

/// Read `rules` as the v1 kernel reads the same lines written in order to
/// a fresh group, starting (as runc's emulator does) from deny-all:
/// type 'a' resets everything; a rule of the default's own verdict takes
/// its access away from the exception with exactly its type and numbers;
/// one of the other verdict adds an exception (or its access to that
/// exact one). As in the kernel, a deny does not punch a hole in a
/// wider allow ("c *:* m" stays whole after a "deny c 1:3 m").
pub fn reduce(rules: &[DeviceRule]) -> State {
    let mut s = State {
        default_allow: false,
        exceptions: Vec::new(),
    };
    for r in rules {
        if r.kind == b'a' {
            s.default_allow = r.allow;
            s.exceptions.clear();
            continue;
        }
        if r.kind != b'c' && r.kind != b'b' || r.access == 0 {
            continue;
        }
        let same = |e: &DeviceRule| e.kind == r.kind && e.major == r.major && e.minor == r.minor;
        if r.allow == s.default_allow {
            for e in s.exceptions.iter_mut().filter(|e| same(e)) {
                e.access &= !r.access;
            }
            s.exceptions.retain(|e| e.access != 0);
        } else {
            match s.exceptions.iter_mut().find(|e| same(e)) {
                Some(e) => e.access |= r.access,
                None => s.exceptions.push(*r),
            }
        }
    }
    s
}

/// The state as v1 lines, in writing order: `(file, line)`. "a" resets
/// the group to its default first, then each exception goes to the
/// other file.
pub fn v1_lines(s: &State) -> Vec<(&'static str, alloc::string::String)> {
    let (reset, other) = if s.default_allow {
        ("devices.allow", "devices.deny")
    } else {
        ("devices.deny", "devices.allow")
    };
    let mut out = alloc::vec![(reset, alloc::string::String::from("a"))];
    out.extend(s.exceptions.iter().map(|e| (other, format!("{e}"))));
    out
}

/// Write the state into a v1 devices group `dir`, before any process is
/// in it. One rule per write(2): the kernel parses one line per call.
pub fn write_v1(dir: &str, s: &State) -> Result<()> {
    // One open of devices.deny or devices.allow for each run of rules
    // that go to it: the kernel takes each write(2) as one rule, and
    // opening a cgroup file costs about what the write does.
    let mut open: Option<(&str, crate::sys::fd::Fd)> = None;
    for (file, line) in v1_lines(s) {
        if open.as_ref().is_none_or(|(f, _)| *f != file) {
            let p = super::files::path(dir, file)?;
            let f = crate::sys::fd::open(&p, libc::O_WRONLY, 0)
                .map_err(|e| Error::sys("write", format!("{dir}/{file}"), e))?;
            open = Some((file, f));
        }
        if let Some((_, f)) = &open {
            crate::sys::fd::write_all(f.raw(), line.as_bytes())
                .map_err(|e| Error::sys("write", format!("{dir}/{file} ({line})"), e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> DeviceRule {
        parse_rule(s).unwrap_or_else(|| panic!("{s}"))
    }

    fn deny(s: &str) -> DeviceRule {
        DeviceRule {
            allow: false,
            ..r(s)
        }
    }

    #[test]
    fn docker_rule_syntax() {
        assert_eq!(r("c 1:3 rwm"), rule(true, b'c', Some(1), Some(3), ACC_ALL));
        assert_eq!(r("b *:7 mr"), rule(true, b'b', None, Some(7), 3));
        assert_eq!(format!("{}", r("b 8:* wr")), "b 8:* rw");
        assert_eq!(format!("{}", r("a *:* mwr")), "a *:* rwm");
        for bad in [
            "",
            "c",
            "c 1:3",
            "c 1:3 rwx",
            "c 1:3 rr",
            "c 1:3 ",
            "c  1:3 rwm",
            "c 1:3 rwm x",
            "x 1:3 rwm",
            "c 1 rwm",
            "c -1:3 rwm",
            "c +1:3 rwm",
            "c 4096:0 rwm",
            "c 1:1048576 rwm",
            "c 99999999999:0 r",
            "a 1:3 rwm",
            "a *:* r",
            "C 1:3 rwm",
        ] {
            assert_eq!(parse_rule(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn defaults_open_the_usual_nodes_only() {
        let s = reduce(DEFAULT);
        assert!(!s.default_allow);
        let rw = ACC_READ | ACC_WRITE;
        for (maj, min) in [
            (1, 3),
            (1, 5),
            (1, 7),
            (1, 8),
            (1, 9),
            (5, 0),
            (5, 1),
            (5, 2),
            (136, 4),
            (10, 200),
        ] {
            assert!(s.allows(b'c', maj, min, rw), "{maj}:{min}");
            assert!(!s.allows(b'b', maj, min, ACC_READ), "b {maj}:{min}");
        }
        // Any node may be made, none of the others opened: the host's
        // disk (8:0, 254:0 here), /dev/mem, kmsg, fuse, loop-control.
        for (k, maj, min) in [
            (b'b', 8, 0),
            (b'b', 254, 0),
            (b'c', 1, 1),
            (b'c', 1, 11),
            (b'c', 10, 229),
            (b'c', 10, 237),
        ] {
            assert!(s.allows(k, maj, min, ACC_MKNOD));
            assert!(!s.allows(k, maj, min, ACC_READ));
            assert!(!s.allows(k, maj, min, ACC_WRITE));
            assert!(!s.allows(k, maj, min, ACC_MKNOD | ACC_READ));
        }
        assert!(!reduce(&[]).allows(b'c', 1, 3, ACC_READ));
    }

    #[test]
    fn reduced_as_the_v1_kernel_does() {
        // 'a' resets, whatever came before.
        let s = reduce(&[r("c 1:3 rwm"), r("a *:* rwm")]);
        assert_eq!((s.default_allow, s.exceptions.len()), (true, 0));
        assert!(!s.restricts());
        let s = reduce(&[r("c 1:3 rwm"), deny("a *:* rwm"), r("c 1:5 r")]);
        assert_eq!(
            v1_lines(&s),
            [
                ("devices.deny", "a".into()),
                ("devices.allow", "c 1:5 r".into())
            ]
        );
        // Same device again: access added to the one exception.
        let s = reduce(&[r("c 1:3 r"), r("c 1:3 w")]);
        assert_eq!(s.exceptions, [r("c 1:3 rw")]);
        // A deny under deny-all takes access away from the exact match,
        // and the exception goes when nothing is left.
        let s = reduce(&[r("c 1:3 rw"), deny("c 1:3 w")]);
        assert_eq!(s.exceptions, [r("c 1:3 r")]);
        let s = reduce(&[r("c 1:3 rw"), deny("c 1:3 rwm")]);
        assert!(s.exceptions.is_empty());
        // ...but not from a wider one (no hole punched, as the kernel).
        let s = reduce(&[r("c *:* m"), deny("c 1:3 m")]);
        assert!(s.allows(b'c', 1, 3, ACC_MKNOD));
        // Under allow-all, denies are the exceptions, and partial overlap
        // is enough to refuse.
        let s = reduce(&[
            r("a *:* rwm"),
            deny("b 8:* w"),
            r("b 8:* w"),
            deny("c 1:1 r"),
        ]);
        assert_eq!(
            v1_lines(&s),
            [
                ("devices.allow", "a".into()),
                ("devices.deny", "c 1:1 r".into())
            ]
        );
        assert!(s.allows(b'b', 8, 0, ACC_READ | ACC_WRITE));
        assert!(!s.allows(b'c', 1, 1, ACC_READ | ACC_WRITE));
        assert!(s.allows(b'c', 1, 1, ACC_WRITE));
        // Type and numbers must match; a partial grant does not add up.
        let s = reduce(&[r("c 1:3 r"), r("c 1:* w")]);
        assert!(!s.allows(b'c', 1, 3, ACC_READ | ACC_WRITE));
        assert!(s.allows(b'c', 1, 3, ACC_READ) && s.allows(b'c', 1, 4, ACC_WRITE));
        assert!(!s.allows(b'b', 1, 3, ACC_READ));
    }

    #[test]
    fn writes_v1_lines_into_a_fake_group() {
        let d = std::env::temp_dir().join(format!("pocket-devices-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        // A plain file keeps only the last write: a FIFO-like log would be
        // nicer, but the order is checked on v1_lines; here the files.
        for f in ["devices.allow", "devices.deny"] {
            std::fs::write(d.join(f), "").unwrap();
        }
        let s = reduce(&[deny("a *:* rwm"), r("c 1:3 rwm")]);
        write_v1(d.to_str().unwrap(), &s).unwrap();
        let rd = |f: &str| std::fs::read_to_string(d.join(f)).unwrap();
        assert_eq!(
            (rd("devices.deny"), rd("devices.allow")),
            ("a".into(), "c 1:3 rwm".into())
        );
        std::fs::remove_dir_all(d).unwrap();
    }
}
