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
        volatile: bool,
    },
    /// Mount a fresh filesystem of `fstype` on `target` (relative to the
    /// root, created if missing), through fsopen/fsmount/move_mount.
    Mount {
        fstype: CString,
        target: CString,
        attrs: u32,
        params: Vec<Param>,
        resolve: Resolve,
    },
    /// Bind the host path `source` onto `target` (a volume): open_tree(2)
    /// of the source while the host is still visible, MOUNT_ATTR_* bits
    /// set on the detached copy, then move_mount(2) onto the target's fd.
    /// The target is made (a directory, or an empty file for a file
    /// source) if missing.
    Bind {
        source: CString,
        target: CString,
        recursive: bool,
        attrs: u32,
        resolve: Resolve,
    },
    /// A device node `dir/name` (`dir` made if missing): `mode` is
    /// S_IFCHR or S_IFBLK with the permission bits, owned by `uid:gid`.
    Mknod {
        dir: CString,
        name: CString,
        mode: u32,
        major: u32,
        minor: u32,
        uid: u32,
        gid: u32,
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

/// How a mount's target is looked up below the root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolve {
    /// Following no symlink at all: the standard mounts (/proc, /dev,
    /// /sys ...). A rootfs whose /proc is a symlink is refused, not obeyed.
    Beneath,
    /// Symlinks are followed as the container would see them, with the
    /// root as "/" (RESOLVE_IN_ROOT): an image's `/data -> /etc` puts a
    /// volume on the rootfs's /etc, never the host's. The target may not
    /// end up on procfs or sysfs: a symlink must not aim a volume over
    /// kernel files (the runc CVE-2019-16884 / 19921 family).
    InRoot,
    /// InRoot for a destination named inside /proc or /sys (lxcfs-style
    /// binds over /proc/meminfo): asked for, so allowed there.
    InRootKernel,
}

/// Destinations of the standard mounts: never through a symlink.
const SYSTEM: &[&str] = &[
    "/proc",
    "/dev",
    "/dev/pts",
    "/dev/shm",
    "/dev/mqueue",
    "/sys",
];

fn resolve_of(dst: &str) -> Resolve {
    let d = dst.trim_end_matches('/');
    if SYSTEM.contains(&d) {
        Resolve::Beneath
    } else if d.starts_with("/proc/") || d.starts_with("/sys/") {
        Resolve::InRootKernel
    } else {
        Resolve::InRoot
    }
}

/// Propagation modes: every mount of the container is private (Op::Private
/// comes first), so these are accepted and have nothing to do.
const PROPAGATION: &[&str] = &[
    "private",
    "rprivate",
    "shared",
    "rshared",
    "slave",
    "rslave",
    "unbindable",
    "runbindable",
];

/// A bind mount entry (OCI: type "bind", or any type with a "bind" or
/// "rbind" option, as runc reads it) as an Op::Bind.
fn bind(m: &crate::spec::Mount) -> Result<Op> {
    if !m.source.starts_with('/') {
        return Err(Error::bad(
            "bind mount source",
            m.source.as_str(),
            "must be an absolute path",
        ));
    }
    let mut recursive = false;
    let mut rest = Vec::new();
    for o in &m.options {
        match o.as_str() {
            "rbind" => recursive = true,
            "bind" => {}
            // runc's recursive read-only: mount_setattr is recursive anyway.
            "rro" => rest.push("ro".into()),
            p if PROPAGATION.contains(&p) => {}
            _ => rest.push(o.clone()),
        }
    }
    let (attrs, params) = options(&rest)?;
    if let Some(p) = params.first() {
        let name = match p {
            Param::Flag(k) | Param::Str(k, _) => k.to_string_lossy().into_owned(),
        };
        return Err(Error::bad(
            "bind mount option",
            name,
            "not supported (ro, rw, nosuid, nodev, noexec, atime flags)",
        ));
    }
    Ok(Op::Bind {
        source: cstring(m.source.as_bytes()).ok_or_else(|| {
            Error::bad(
                "bind mount source",
                m.source.as_str(),
                "contains a NUL byte",
            )
        })?,
        target: mount_target(&m.destination)?,
        recursive,
        attrs,
        resolve: resolve_of(&m.destination),
    })
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

/// A node of the Spec's `devices` (OCI linux.devices): its path relative
/// to the root (cleaned) and the op that makes it. Only below /dev, on
/// pocket's own tmpfs: the root is mounted nodev (a node there could
/// never be opened), and /dev/pts, /dev/shm, /dev/mqueue are mounted over
/// /dev after it is filled (a node there would be hidden).
pub fn device(d: &crate::spec::Device) -> Result<(alloc::string::String, Op)> {
    let bad = |why: &'static str| Error::bad("device path", d.path.as_str(), why);
    let rel = relative(&d.path).map_err(|_| bad("must be an absolute path without '..'"))?;
    let rel = rel.to_str().map_err(|_| bad("not UTF-8"))?;
    let parts: Vec<&str> = rel
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    match parts[..] {
        ["dev", first, ..] if parts.len() > 1 && !["pts", "shm", "mqueue"].contains(&first) => {}
        _ => {
            return Err(bad(
                "must be below /dev (not /dev/pts, /dev/shm or /dev/mqueue)",
            ));
        }
    }
    let (dir, name) = (parts[..parts.len() - 1].join("/"), parts[parts.len() - 1]);
    let kind = match d.kind {
        b'c' => libc::S_IFCHR,
        b'b' => libc::S_IFBLK,
        _ => return Err(bad("not a character or block device")),
    };
    let op = Op::Mknod {
        dir: cs(&dir),
        name: cs(name),
        mode: kind | (d.file_mode & 0o777),
        major: d.major,
        minor: d.minor,
        uid: d.uid,
        gid: d.gid,
    };
    Ok((parts.join("/"), op))
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

/// A mount's destination, relative to the root; the root itself is not
/// one (a mount over it would hide the whole container tree).
fn mount_target(dst: &str) -> Result<CString> {
    let rel = relative(dst)?;
    if rel
        .as_bytes()
        .split(|&c| c == b'/')
        .all(|c| c.is_empty() || c == b".")
    {
        return Err(Error::bad("mount destination", dst, "cannot be '/'"));
    }
    Ok(rel)
}

pub fn plan(spec: &Spec) -> Result<Vec<Op>> {
    let root =
        cstring(&spec.root.path).ok_or_else(|| Error::bad("rootfs", "", "contains a NUL byte"))?;
    // Checked whether or not /dev is pocket's tmpfs: a bad path is an
    // error, not skipped. Last one wins for a path given twice.
    let mut user: Vec<(alloc::string::String, Op)> = Vec::new();
    for d in &spec.devices {
        let (rel, op) = device(d)?;
        user.retain(|(p, _)| *p != rel);
        user.push((rel, op));
    }
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
                volatile: o.volatile,
            });
        }
    }
    for m in &spec.mounts {
        if m.kind == "bind" || m.options.iter().any(|o| o == "bind" || o == "rbind") {
            ops.push(bind(m)?);
            continue;
        }
        let (attrs, mut params) = options(&m.options)?;
        // The source shows in the container's mount table, as with mount(8).
        if let Some(src) = cstring(m.source.as_bytes()).filter(|s| !s.is_empty()) {
            params.insert(0, Param::Str(cs("source"), src));
        }
        ops.push(Op::Mount {
            fstype: cs(&m.kind),
            target: mount_target(&m.destination)?,
            attrs,
            params,
            resolve: resolve_of(&m.destination),
        });
        if m.destination == "/dev" && m.kind == "tmpfs" {
            // A fresh /dev: fill it right after it is mounted, before any
            // submount hides part of it. The Spec's own devices replace a
            // standard one of the same name. (A /dev the user bound from
            // elsewhere is left as it is, as runc does: nothing is made
            // in it, the devices cgroup alone decides.)
            let taken = |name: &str| {
                user.iter()
                    .any(|(p, _)| p.strip_prefix("dev/") == Some(name))
            };
            for (name, major, minor) in DEVICES.iter().filter(|d| !taken(d.0)) {
                ops.push(Op::Mknod {
                    dir: cs("dev"),
                    name: cs(name),
                    mode: libc::S_IFCHR | 0o666,
                    major: *major,
                    minor: *minor,
                    uid: 0,
                    gid: 0,
                });
            }
            ops.extend(user.iter().map(|(_, op)| op.clone()));
            for (name, target) in DEV_LINKS.iter().filter(|d| !taken(d.0)) {
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
            matches!(&ops[4], Op::Mknod { name, major: 1, minor: 3, mode, .. } if name.as_bytes() == b"null" && *mode == libc::S_IFCHR | 0o666)
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

    fn user(dst: &str, kind: &str, src: &str, opts: &[&str]) -> crate::spec::Mount {
        crate::spec::Mount {
            destination: dst.into(),
            kind: kind.into(),
            source: src.into(),
            options: opts.iter().map(|o| o.to_string()).collect(),
        }
    }

    #[test]
    fn volumes_are_binds_resolved_in_root_after_the_standard_mounts() {
        let mut s = spec();
        s.root.readonly = true;
        s.mounts
            .push(user("/data", "bind", "/h", &["rbind", "rprivate", "ro"]));
        s.mounts.push(user(
            "/t",
            "tmpfs",
            "tmpfs",
            &["noexec", "nosuid", "nodev", "size=1m"],
        ));
        s.mounts
            .push(user("/proc/meminfo", "none", "/m", &["bind", "rw"]));
        let ops = plan(&s).unwrap();
        let at = |f: &dyn Fn(&Op) -> bool| ops.iter().position(f).unwrap();
        let data = at(&|o| matches!(o, Op::Bind { target, .. } if target.as_bytes() == b"data"));
        assert_eq!(
            ops[data],
            Op::Bind {
                source: cs("/h"),
                target: cs("data"),
                recursive: true,
                attrs: k::MOUNT_ATTR_RDONLY,
                resolve: Resolve::InRoot,
            }
        );
        let t = at(&|o| matches!(o, Op::Mount { target, .. } if target.as_bytes() == b"t"));
        match &ops[t] {
            Op::Mount {
                attrs,
                params,
                resolve,
                ..
            } => {
                assert_eq!(*resolve, Resolve::InRoot);
                let want = k::MOUNT_ATTR_NOEXEC | k::MOUNT_ATTR_NOSUID | k::MOUNT_ATTR_NODEV;
                assert_eq!(*attrs, want);
                assert!(params.contains(&Param::Str(cs("size"), cs("1m"))));
            }
            _ => unreachable!(),
        }
        let mi =
            at(&|o| matches!(o, Op::Bind { target, .. } if target.as_bytes() == b"proc/meminfo"));
        assert!(matches!(
            &ops[mi],
            Op::Bind {
                recursive: false,
                attrs: 0,
                resolve: Resolve::InRootKernel,
                ..
            }
        ));
        // The standard mounts never follow a symlink, and come first.
        for o in &ops[..data] {
            if let Op::Mount { resolve, .. } = o {
                assert_eq!(*resolve, Resolve::Beneath);
            }
        }
        let sys = at(&|o| matches!(o, Op::Mount { target, .. } if target.as_bytes() == b"sys"));
        assert!(sys < data && data < t && t < mi);
        // Masks and read-only paths still cover what volumes might hide.
        assert!(mi < at(&|o| matches!(o, Op::Readonly(_))));
        assert!(mi < at(&|o| matches!(o, Op::Mask(_))));
        let n = ops.len();
        assert_eq!(ops[n - 1], Op::ReadonlyRoot);
        assert_eq!(ops[n - 2], Op::SwitchRoot { no_pivot: false });
    }

    #[test]
    fn bad_mounts_are_refused_before_anything_runs() {
        for m in [
            user("/d", "bind", "rel", &["rbind"]),
            user("/d", "bind", "/h", &["rbind", "size=1"]),
            user("/", "bind", "/h", &["rbind"]),
            user("//./", "tmpfs", "tmpfs", &[]),
            user("/a/../..", "bind", "/h", &["rbind"]),
            user("d", "tmpfs", "tmpfs", &[]),
            user("/d", "bind", "/h\0", &["rbind"]),
        ] {
            let mut s = spec();
            s.mounts.push(m.clone());
            assert!(plan(&s).is_err(), "{m:?}");
        }
    }

    fn dev(path: &str, kind: u8) -> crate::spec::Device {
        crate::spec::Device {
            path: path.into(),
            kind,
            major: 10,
            minor: 229,
            file_mode: 0o600,
            uid: 5,
            gid: 6,
        }
    }

    #[test]
    fn spec_devices_are_made_with_the_standard_ones() {
        let mut s = spec();
        s.devices = vec![
            dev("/dev/fuse", b'c'),
            dev("/dev//net/./tun", b'c'),
            dev("/dev/null", b'c'),
            dev("/dev/xvda", b'b'),
            dev("/dev/fuse", b'b'),
        ];
        let ops = plan(&s).unwrap();
        let nodes: Vec<(String, String, u32)> = ops
            .iter()
            .filter_map(|o| match o {
                Op::Mknod {
                    dir, name, mode, ..
                } => Some((
                    dir.to_str().unwrap().into(),
                    name.to_str().unwrap().into(),
                    *mode,
                )),
                _ => None,
            })
            .collect();
        let n = |d: &str, f: &str, m: u32| (d.to_string(), f.to_string(), m);
        let chr = libc::S_IFCHR;
        assert_eq!(
            nodes,
            [
                n("dev", "zero", chr | 0o666),
                n("dev", "full", chr | 0o666),
                n("dev", "random", chr | 0o666),
                n("dev", "urandom", chr | 0o666),
                n("dev", "tty", chr | 0o666),
                // the user's, in order, the last /dev/fuse winning; the
                // standard /dev/null replaced by the user's.
                n("dev/net", "tun", chr | 0o600),
                n("dev", "null", chr | 0o600),
                n("dev", "xvda", libc::S_IFBLK | 0o600),
                n("dev", "fuse", libc::S_IFBLK | 0o600),
            ]
        );
        assert!(ops.contains(&Op::Mknod {
            dir: cs("dev"),
            name: cs("xvda"),
            mode: libc::S_IFBLK | 0o600,
            major: 10,
            minor: 229,
            uid: 5,
            gid: 6
        }));
        // Before /dev/pts is mounted over /dev.
        let pts = ops
            .iter()
            .position(|o| matches!(o, Op::Mount { target, .. } if target.as_bytes() == b"dev/pts"));
        assert!(ops.iter().rposition(|o| matches!(o, Op::Mknod { .. })) < pts);
        // A /dev that is not pocket's tmpfs gets none of them.
        s.mounts.retain(|m| m.destination != "/dev");
        assert!(
            !plan(&s)
                .unwrap()
                .iter()
                .any(|o| matches!(o, Op::Mknod { .. }))
        );
    }

    #[test]
    fn spec_devices_outside_dev_are_refused() {
        for p in [
            "/dev",
            "/dev/",
            "/xvda",
            "dev/x",
            "/dev/../etc/x",
            "/dev/pts/9",
            "/dev/shm/x",
            "/dev/mqueue/q",
            "/devx/y",
        ] {
            let mut s = spec();
            s.devices = vec![dev(p, b'c')];
            let e = plan(&s).unwrap_err();
            assert!(e.to_string().starts_with("device path"), "{p}: {e}");
        }
        let mut s = spec();
        s.devices = vec![dev("/dev/p", b'p')];
        assert!(plan(&s).is_err());
    }

    #[test]
    fn destinations_must_stay_inside() {
        assert!(relative("proc").is_err());
        assert!(relative("/a/../../etc").is_err());
        assert_eq!(relative("//dev/pts").unwrap().as_bytes(), b"dev/pts");
    }
}
