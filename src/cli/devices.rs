//! `--device HOST[:CONTAINER][:PERMS]` and `--device-cgroup-rule RULE`,
//! as docker reads them, into the Spec: the nodes to make in the
//! container's /dev (OCI linux.devices) and the devices cgroup rules
//! (docker's defaults, then one allow rule per node, then the user's own
//! rules). Everything is checked before anything is made.

use crate::cgroup::devices::{self, parse_access};
use crate::cgroup::resources::{DeviceRule, access_str};
use crate::error::{Context, Error, Result};
use crate::spec::{Device, Spec};
use crate::sys::{cstr, fd, fs};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// One `--device`: a host node (or a directory of them), where it goes,
/// and what the container may do with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub host: String,
    pub container: String,
    pub access: u8,
}

impl Mapping {
    /// docker's HostConfig.Devices triple, as inspect shows it.
    pub fn to_line(&self) -> String {
        format!(
            "{}:{}:{}",
            self.host,
            self.container,
            access_str(self.access)
        )
    }
}

fn bad(flag: &'static str, v: &str, why: impl Into<alloc::borrow::Cow<'static, str>>) -> Error {
    Error::bad(flag, format!("'{v}'"), why)
}

/// `/a//b/./c/` -> `/a/b/c` (docker's path.Clean, less `..`, which the
/// plan refuses anyway).
fn clean(p: &str) -> String {
    let mut out = String::new();
    for c in p.split('/').filter(|c| !c.is_empty() && *c != ".") {
        out.push('/');
        out.push_str(c);
    }
    if out.is_empty() { "/".to_string() } else { out }
}

/// docker's parseDevice/validatePath: `HOST`, `HOST:CONTAINER`,
/// `HOST:PERMS` or `HOST:CONTAINER:PERMS`; PERMS a mix of r, w, m
/// (default rwm); the container path absolute.
pub fn parse_mapping(v: &[u8]) -> Result<Mapping> {
    let s = core::str::from_utf8(v)
        .map_err(|_| bad("--device", &String::from_utf8_lossy(v), "not UTF-8"))?;
    if s.contains(['\0', '\n']) {
        return Err(bad("--device", s, "contains a NUL byte or a newline"));
    }
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() > 3 || parts[0].is_empty() {
        return Err(bad("--device", s, format!("bad format for path: {s}")));
    }
    let (container, access) = match parts[..] {
        [h] => (h, None),
        [_, p] if parse_access(p).is_some() => (parts[0], Some(p)),
        [_, c] => (c, None),
        [_, c, p] => match parse_access(p) {
            Some(_) => (c, Some(p)),
            None => return Err(bad("--device", s, format!("bad mode specified: {p}"))),
        },
        _ => unreachable!(),
    };
    if !container.starts_with('/') {
        return Err(bad(
            "--device",
            s,
            format!("{container} is not an absolute path"),
        ));
    }
    Ok(Mapping {
        host: parts[0].to_string(),
        container: clean(container),
        access: access.and_then(parse_access).unwrap_or(7),
    })
}

/// docker's `--device-cgroup-rule` ("c 1:3 rwm", `*` for any number).
pub fn parse_cgroup_rule(v: &[u8]) -> Result<DeviceRule> {
    let s = String::from_utf8_lossy(v);
    devices::parse_rule(&s).ok_or_else(|| {
        bad(
            "--device-cgroup-rule",
            &s,
            "invalid device cgroup format: want TYPE MAJOR:MINOR ACCESS (type a, b or c; \
             a number or *; some of rwm), e.g. 'c 1:3 rwm' ('a' only as 'a *:* rwm')",
        )
    })
}

fn node(st: &libc::stat, path: String) -> Option<Device> {
    let kind = match st.st_mode & libc::S_IFMT {
        libc::S_IFCHR => b'c',
        libc::S_IFBLK => b'b',
        _ => return None,
    };
    Some(Device {
        path,
        kind,
        major: libc::major(st.st_rdev),
        minor: libc::minor(st.st_rdev),
        file_mode: st.st_mode & 0o777,
        uid: st.st_uid,
        gid: st.st_gid,
    })
}

/// The device nodes below the directory `dir` (as `ctr` in the
/// container), as docker walks a `--device /dev/snd`: symlinks are not
/// followed, other files skipped.
fn walk(dir: &fd::Fd, ctr: &str, depth: u32, out: &mut Vec<Device>) -> Result<()> {
    let mut entries = fs::list_dir(dir).ctx("--device", ctr)?;
    crate::rt::sort_by(&mut entries, |a, b| a.name < b.name);
    for e in entries {
        let Some(name) = cstr::cstring(e.name.as_bytes()) else {
            continue;
        };
        let path = format!("{ctr}/{}", e.name);
        if e.kind == libc::DT_DIR {
            if depth < 8 {
                let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
                let sub = fd::openat(dir.raw(), &name, flags, 0).ctx("--device", &path)?;
                walk(&sub, &path, depth + 1, out)?;
            }
            continue;
        }
        let st = fd::fstatat(dir.raw(), &name, libc::AT_SYMLINK_NOFOLLOW).ctx("--device", &path)?;
        out.extend(node(&st, path));
    }
    Ok(())
}

/// The host nodes a mapping names: the node itself (through a symlink,
/// as docker resolves /dev/disk/by-id links), or every node below a
/// directory.
pub fn nodes(m: &Mapping) -> Result<Vec<Device>> {
    let c = cstr::cstring(m.host.as_bytes())
        .ok_or_else(|| bad("--device", &m.host, "contains a NUL byte"))?;
    let st = fd::fstatat(libc::AT_FDCWD, &c, 0).ctx("--device", &m.host)?;
    if let Some(d) = node(&st, m.container.clone()) {
        return Ok(alloc::vec![d]);
    }
    let mut out = Vec::new();
    if st.st_mode & libc::S_IFMT == libc::S_IFDIR {
        let f = fd::open(&c, libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC, 0)
            .ctx("--device", &m.host)?;
        walk(&f, m.container.trim_end_matches('/'), 0, &mut out)?;
    }
    if out.is_empty() {
        return Err(Error::bad(
            "--device",
            m.host.clone(),
            "not a device node (nor a directory holding any)",
        ));
    }
    Ok(out)
}

/// The container's devices: docker's default rules, the `--device`
/// nodes (each with its allow rule), then the `--device-cgroup-rule`s.
/// `--privileged`, as docker: every node of the host's /dev (but what
/// pocket mounts itself there: pts, shm, mqueue) and every device allowed.
pub fn apply(spec: &mut Spec, mappings: &[&[u8]], rules: &[&[u8]], privileged: bool) -> Result<()> {
    let mut parsed = Vec::with_capacity(mappings.len());
    for m in mappings {
        parsed.push(parse_mapping(m)?);
    }
    let mut extra = Vec::with_capacity(rules.len());
    for r in rules {
        extra.push(parse_cgroup_rule(r)?);
    }
    let mut rules = devices::defaults();
    for m in &parsed {
        for d in nodes(m)? {
            // Refused here (not at start, after the record exists) if the
            // plan would refuse it: outside /dev and the like.
            crate::fs::plan::device(&d)?;
            rules.push(DeviceRule {
                allow: true,
                kind: d.kind,
                major: Some(d.major),
                minor: Some(d.minor),
                access: m.access,
            });
            spec.devices.push(d);
        }
        spec.device_mappings.push(m.to_line());
    }
    spec.device_cgroup_rules = extra.iter().map(|r| format!("{r}")).collect();
    rules.extend(extra);
    if privileged {
        let all = Mapping {
            host: "/dev".to_string(),
            container: "/dev".to_string(),
            access: 7,
        };
        for d in nodes(&all)? {
            if crate::fs::plan::device(&d).is_ok() && !spec.devices.iter().any(|x| x.path == d.path)
            {
                spec.devices.push(d);
            }
        }
        rules = devices::allow_all();
    }
    spec.resources.devices = rules;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Result<Mapping> {
        parse_mapping(s.as_bytes())
    }

    fn map(h: &str, c: &str, a: u8) -> Mapping {
        Mapping {
            host: h.into(),
            container: c.into(),
            access: a,
        }
    }

    #[test]
    fn device_flag_as_docker_parses_it() {
        assert_eq!(m("/dev/fuse").unwrap(), map("/dev/fuse", "/dev/fuse", 7));
        assert_eq!(
            m("/dev/sda:/dev/xvdc").unwrap(),
            map("/dev/sda", "/dev/xvdc", 7)
        );
        assert_eq!(m("/dev/sda:r").unwrap(), map("/dev/sda", "/dev/sda", 2));
        assert_eq!(
            m("/dev/sda:/dev//x/:mw").unwrap(),
            map("/dev/sda", "/dev/x", 5)
        );
        assert_eq!(
            m("/dev/sda:/dev/x:mw").unwrap().to_line(),
            "/dev/sda:/dev/x:wm"
        );
        for (v, why) in [
            ("", "bad format for path: "),
            (":/dev/x", "bad format for path: :/dev/x"),
            ("/a:/b:rw:x", "bad format for path: /a:/b:rw:x"),
            ("/dev/sda:/dev/x:rwx", "bad mode specified: rwx"),
            ("/dev/sda:/dev/x:rr", "bad mode specified: rr"),
            ("/dev/sda:rel", "rel is not an absolute path"),
            ("sda", "sda is not an absolute path"),
            (r"/dev/a\x0ab", "contains a NUL byte or a newline"),
        ] {
            let e = m(&v.replace(r"\x0a", "\n")).unwrap_err();
            // Control characters are escaped when printed.
            assert_eq!(e.to_string(), format!("--device '{v}': {why}"), "{v:?}");
            assert_eq!(e.code, 125);
        }
    }

    #[test]
    fn cgroup_rule_flag() {
        assert_eq!(
            format!("{}", parse_cgroup_rule(b"b 7:* rw").unwrap()),
            "b 7:* rw"
        );
        let e = parse_cgroup_rule(b"c 1:3 rwx").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("--device-cgroup-rule 'c 1:3 rwx': invalid device cgroup format"),
            "{e}"
        );
    }

    #[test]
    fn apply_builds_nodes_and_rules_in_docker_order() {
        let mut s = Spec::default();
        apply(
            &mut s,
            &[b"/dev/null:/dev/mynull:r"],
            &[b"c 10:229 rw", b"b 7:* r"],
            false,
        )
        .unwrap();
        assert_eq!(s.devices.len(), 1);
        let d = &s.devices[0];
        assert_eq!(
            (d.path.as_str(), d.kind, d.major, d.minor),
            ("/dev/mynull", b'c', 1, 3)
        );
        assert_eq!(d.file_mode, 0o666);
        let lines: Vec<String> = s.resources.devices.iter().map(|r| format!("{r}")).collect();
        let n = devices::DEFAULT.len();
        assert_eq!(&lines[n..], ["c 1:3 r", "c 10:229 rw", "b 7:* r"]);
        assert_eq!(s.device_mappings, ["/dev/null:/dev/mynull:r"]);
        assert_eq!(s.device_cgroup_rules, ["c 10:229 rw", "b 7:* r"]);
        // No flags: docker's defaults, nothing else.
        let mut s = Spec::default();
        apply(&mut s, &[], &[], false).unwrap();
        assert_eq!(s.resources.devices, devices::defaults());
        assert!(s.devices.is_empty() && s.device_mappings.is_empty());
    }

    #[test]
    fn host_paths_that_are_not_devices() {
        let mut s = Spec::default();
        let e = apply(&mut s, &[b"/nonexistent-pocket-dev"], &[], false).unwrap_err();
        assert_eq!(
            e.to_string(),
            "--device /nonexistent-pocket-dev: No such file or directory"
        );
        let e = apply(&mut s, &[b"/proc/self/status"], &[], false).unwrap_err();
        assert!(e.to_string().contains("not a device node"), "{e}");
        // A node, but not below /dev in the container.
        let e = apply(&mut s, &[b"/dev/null:/null"], &[], false).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("device path /null: must be below /dev"),
            "{e}"
        );
    }
}
