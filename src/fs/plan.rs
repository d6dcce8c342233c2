//! Spec -> ordered setup ops. Everything the child needs is prepared here,
//! in the parent: C strings, split paths, mount attribute bits; the child
//! only makes syscalls.

use crate::error::{Error, Result};
use crate::spec::Spec;
use crate::sys::cstr::cstring;
use alloc::ffi::CString;
use alloc::vec::Vec;
use linux_raw_sys::general as k;

/// A filesystem parameter for fsconfig(2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Param {
    Flag(CString),
    Str(CString, CString),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Make every mount in the new namespace private, so nothing the
    /// container mounts or unmounts propagates to the host (and back).
    Private,
    /// Bind the rootfs onto itself (recursively) so it is a mount point
    /// pivot_root can use; all later paths are resolved inside it.
    BindRoot(CString),
    /// Mount an overlay of image layers on the rootfs directory, as the
    /// mount pivot_root will use (instead of `BindRoot`). `lower` is top
    /// first, one `lowerdir+` each (kernel 6.8+); `joined` is the same as
    /// one `lowerdir=` string for older kernels.
    OverlayRoot {
        target: CString,
        lower: Vec<CString>,
        joined: CString,
        upper: CString,
        work: CString,
    },
    /// Mount a fresh filesystem of `fstype` on `target` (relative to the
    /// root, created if missing), through fsopen/fsmount/move_mount.
    Mount {
        fstype: CString,
        target: CString,
        attrs: u32,
        params: Vec<Param>,
    },
    /// A character device node `dir/name` (mode 0666).
    Mknod {
        dir: CString,
        name: CString,
        major: u32,
        minor: u32,
    },
    /// A symlink `dir/name` -> `target`.
    Symlink {
        dir: CString,
        name: CString,
        target: CString,
    },
    /// Bind a path onto itself read-only (linux.readonlyPaths).
    Readonly(CString),
    /// Hide a path: /dev/null over a file, an empty read-only tmpfs over
    /// a directory (linux.maskedPaths).
    Mask(CString),
    /// Create the working directory inside the root if it is missing, as
    /// docker does (the child chdirs into it after the switch).
    Workdir(CString),
    /// Switch root: pivot_root, or MS_MOVE + chroot when `no_pivot` is set
    /// or pivot_root is impossible (an initramfs).
    SwitchRoot { no_pivot: bool },
    /// Remount / read-only (--read-only); after the switch, so the mounts
    /// above could still create their mount points.
    ReadonlyRoot,
}

/// Devices every container gets (major, minor), as the OCI spec lists them.
pub const DEVICES: &[(&str, u32, u32)] = &[
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
];

const DEV_LINKS: &[(&str, &str)] = &[
    ("ptmx", "pts/ptmx"),
    ("fd", "/proc/self/fd"),
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
];

fn cs(s: &str) -> CString {
    // Static names and validated paths: no NUL inside.
    cstring(s.as_bytes()).unwrap_or_default()
}

/// Mount options: attribute bits for fsmount(2) and fs parameters for
/// fsconfig(2). `rw`, `private` and friends need nothing.
pub fn options(opts: &[alloc::string::String]) -> Result<(u32, Vec<Param>)> {
    let mut attrs = 0;
    let mut params = Vec::new();
    for o in opts {
        match o.as_str() {
            "ro" => attrs |= k::MOUNT_ATTR_RDONLY,
            "nosuid" => attrs |= k::MOUNT_ATTR_NOSUID,
            "nodev" => attrs |= k::MOUNT_ATTR_NODEV,
            "noexec" => attrs |= k::MOUNT_ATTR_NOEXEC,
            "strictatime" => attrs |= k::MOUNT_ATTR_STRICTATIME,
            "noatime" => attrs |= k::MOUNT_ATTR_NOATIME,
            "relatime" => attrs |= k::MOUNT_ATTR_RELATIME,
            "rw" | "suid" | "dev" | "exec" | "private" | "rprivate" => {}
            _ => match o.split_once('=') {
                Some((key, val)) => {
                    let (key, val) = (cstring(key.as_bytes()), cstring(val.as_bytes()));
                    match (key, val) {
                        (Some(k), Some(v)) => params.push(Param::Str(k, v)),
                        _ => {
                            return Err(Error::bad(
                                "mount option",
                                o.as_str(),
                                "contains a NUL byte",
                            ));
                        }
                    }
                }
                None => params.push(Param::Flag(cs(o))),
            },
        }
    }
    Ok((attrs, params))
}

/// Check a container path and make it relative to the root. Only absolute
/// paths without `..` are accepted: the child resolves them inside the root
/// anyway, but a path that tries to climb out is a mistake worth reporting.
pub fn relative(dst: &str) -> Result<CString> {
    if !dst.starts_with('/') {
        return Err(Error::bad(
            "mount destination",
            dst,
            "must be an absolute path",
        ));
    }
    if dst.split('/').any(|c| c == "..") {
        return Err(Error::bad(
            "mount destination",
            dst,
            "must not contain '..'",
        ));
    }
    let rel = dst.trim_start_matches('/');
    cstring(rel.as_bytes())
        .ok_or_else(|| Error::bad("mount destination", dst, "contains a NUL byte"))
}

pub fn plan(spec: &Spec) -> Result<Vec<Op>> {
    let root =
        cstring(&spec.root.path).ok_or_else(|| Error::bad("rootfs", "", "contains a NUL byte"))?;
    let mut ops = alloc::vec![Op::Private];
    match &spec.root.overlay {
        None => ops.push(Op::BindRoot(root)),
        Some(o) => {
            let c = |s: &str| {
                cstring(s.as_bytes()).ok_or_else(|| Error::bad("overlay", s, "contains a NUL byte"))
            };
            if o.lower.is_empty() || o.lower.iter().any(|l| l.contains([':', ','])) {
                return Err(Error::bad(
                    "overlay",
                    o.lower.join(":"),
                    "needs layer paths without ':' or ','",
                ));
            }
            ops.push(Op::OverlayRoot {
                target: root,
                lower: o.lower.iter().map(|l| c(l)).collect::<Result<_>>()?,
                joined: c(&o.lower.join(":"))?,
                upper: c(&o.upper)?,
                work: c(&o.work)?,
            });
        }
    }
    for m in &spec.mounts {
        let (attrs, mut params) = options(&m.options)?;
        // The source shows in the container's mount table, as with mount(8).
        if let Some(src) = cstring(m.source.as_bytes()).filter(|s| !s.is_empty()) {
            params.insert(0, Param::Str(cs("source"), src));
        }
        ops.push(Op::Mount {
            fstype: cs(&m.kind),
            target: relative(&m.destination)?,
            attrs,
            params,
        });
        if m.destination == "/dev" && m.kind == "tmpfs" {
            // A fresh /dev: fill it right after it is mounted, before any
            // submount hides part of it.
            for (name, major, minor) in DEVICES {
                ops.push(Op::Mknod {
                    dir: cs("dev"),
                    name: cs(name),
                    major: *major,
                    minor: *minor,
                });
            }
            for (name, target) in DEV_LINKS {
                ops.push(Op::Symlink {
                    dir: cs("dev"),
                    name: cs(name),
                    target: cs(target),
                });
            }
        }
    }
    for p in &spec.readonly_paths {
        ops.push(Op::Readonly(relative(p)?));
    }
    for p in &spec.masked_paths {
        ops.push(Op::Mask(relative(p)?));
    }
    let cwd = core::str::from_utf8(&spec.process.cwd)
        .map_err(|_| Error::bad("workdir", "", "not UTF-8"))?;
    let cwd = relative(cwd)
        .map_err(|_| Error::bad("workdir", cwd, "must be an absolute path without '..'"))?;
    if !cwd.as_bytes().is_empty() {
        ops.push(Op::Workdir(cwd));
    }
    ops.push(Op::SwitchRoot {
        no_pivot: spec.no_pivot,
    });
    if spec.root.readonly {
        ops.push(Op::ReadonlyRoot);
    }
    Ok(ops)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Root, default_mounts};

    fn spec() -> Spec {
        let mut s = Spec {
            root: Root {
                path: b"/r".to_vec(),
                readonly: false,
                overlay: None,
            },
            mounts: default_mounts(),
            ..Default::default()
        };
        s.masked_paths = vec!["/proc/kcore".into()];
        s.readonly_paths = vec!["/proc/sys".into()];
        s.process.cwd = b"/".to_vec();
        s
    }

    #[test]
    fn order_is_private_bind_mounts_devices_switch() {
        let ops = plan(&spec()).unwrap();
        assert_eq!(ops[0], Op::Private);
        assert_eq!(ops[1], Op::BindRoot(cs("/r")));
        assert!(matches!(&ops[2], Op::Mount { target, .. } if target.as_bytes() == b"proc"));
        assert!(matches!(&ops[3], Op::Mount { target, .. } if target.as_bytes() == b"dev"));
        // devices come right after /dev and before /dev/pts
        assert!(
            matches!(&ops[4], Op::Mknod { name, major: 1, minor: 3, .. } if name.as_bytes() == b"null")
        );
        let pts = ops
            .iter()
            .position(|o| matches!(o, Op::Mount { target, .. } if target.as_bytes() == b"dev/pts"));
        let last_dev = ops
            .iter()
            .rposition(|o| matches!(o, Op::Mknod { .. } | Op::Symlink { .. }));
        assert!(last_dev < pts);
        assert_eq!(ops.last(), Some(&Op::SwitchRoot { no_pivot: false }));
    }

    #[test]
    fn workdir_is_created_before_the_switch() {
        let mut s = spec();
        s.process.cwd = b"/work/dir".to_vec();
        let ops = plan(&s).unwrap();
        let n = ops.len();
        assert_eq!(ops[n - 2], Op::Workdir(cs("work/dir")));
        assert!(ops.iter().position(|o| matches!(o, Op::Mask(_))) < Some(n - 2));
        s.process.cwd = b"rel".to_vec();
        assert!(plan(&s).is_err());
    }

    #[test]
    fn readonly_and_no_pivot() {
        let mut s = spec();
        s.root.readonly = true;
        s.no_pivot = true;
        let ops = plan(&s).unwrap();
        let n = ops.len();
        assert_eq!(ops[n - 2], Op::SwitchRoot { no_pivot: true });
        assert_eq!(ops[n - 1], Op::ReadonlyRoot);
    }

    #[test]
    fn sys_is_read_only_and_devpts_is_a_new_instance() {
        let ops = plan(&spec()).unwrap();
        let sys = ops
            .iter()
            .find(|o| matches!(o, Op::Mount { target, .. } if target.as_bytes() == b"sys"));
        assert!(matches!(sys, Some(Op::Mount { attrs, .. }) if attrs & k::MOUNT_ATTR_RDONLY != 0));
        let pts = ops
            .iter()
            .find(|o| matches!(o, Op::Mount { target, .. } if target.as_bytes() == b"dev/pts"));
        match pts {
            Some(Op::Mount { params, .. }) => {
                assert!(params.contains(&Param::Flag(cs("newinstance"))));
                assert!(params.contains(&Param::Str(cs("ptmxmode"), cs("0666"))));
            }
            _ => panic!("no devpts"),
        }
    }

    #[test]
    fn destinations_must_stay_inside() {
        assert!(relative("proc").is_err());
        assert!(relative("/a/../../etc").is_err());
        assert_eq!(relative("//dev/pts").unwrap().as_bytes(), b"dev/pts");
    }
}
