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
        /// A plain user's user namespace mounts it (the parent may not):
        /// overlayfs' own xattrs then go in the user.* namespace.
        user_xattr: bool,
    },
    /// `OverlayRoot` under a user namespace: the parent mounted the
    /// overlay (detached, its layers idmapped so that the image's root
    /// is the namespace's), the child attaches it on `target`.
    AttachRoot { fd: i32, target: CString },
    /// Mount a fresh filesystem of `fstype` on `target` (relative to the
    /// root, created if missing), through fsopen/fsmount/move_mount.
    Mount {
        fstype: CString,
        target: CString,
        attrs: u32,
        params: Vec<Param>,
        resolve: Resolve,
        /// podman's `tmpcopyup` (a tmpfs over an image directory keeps
        /// its content, as crun does): the parent makes this tmpfs and
        /// copies the directory in (`prepare`), then attaches it here.
        copy_up: bool,
    },
    /// Attach a detached mount the parent made (`prepare`: a copied-up
    /// tmpfs, the cgroup tmpfs, a bind under a user namespace) on
    /// `target` (a file for a file's bind): the fd is inherited.
    Attach {
        fd: i32,
        target: CString,
        resolve: Resolve,
        file: bool,
    },
    /// Mounts `binds` (fd, host directory, name), each attached on
    /// directory `name` of the mount `under` (itself attached by an
    /// `Attach` before): one move_mount(2) each, by a name in a tmpfs
    /// the parent made (no path to resolve), then `attrs` set on `under`
    /// and all of them at once. The fd is the parent's detached clone of
    /// the host directory, or None: cloned by the child (in `Late`, while
    /// the host's tree is still its view). The cgroup hierarchies of a
    /// v1 host.
    AttachUnder {
        under: i32,
        binds: Vec<(Option<i32>, CString, CString)>,
        attrs: u32,
    },
    /// Ops the child runs once the parent made its cgroups and it joined
    /// them (and made its cgroup namespace), before its root switches;
    /// skipped where they stand. The cgroup mount of a child that mounts
    /// while its parent makes the cgroups (spawn's `mounts_first`).
    Late(Vec<Op>),
    /// OCI type "cgroup" (the container's cgroups at /sys/fs/cgroup):
    /// `prepare` turns it into what the host allows (see there).
    Cgroup {
        target: CString,
        attrs: u32,
        resolve: Resolve,
    },
    /// Write `value` to a /proc/sys file, `path` relative to the root
    /// (OCI linux.sysctl): after /proc is mounted, before /proc/sys is
    /// made read-only, on procfs only.
    Sysctl { path: CString, value: CString },
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

/// Options that are the runtime's, not the kernel's, and need nothing
/// here: `bind`/`rbind` (a bind, see `bind`), `tmpcopyup` (plan reads it),
/// crun's and podman's extensions (their effect is theirs: `z`/`Z` are
/// SELinux relabels, `U` a chown podman did), and flags whose absence is
/// the default.
const IGNORED: &[&str] = &[
    "bind",
    "rbind",
    "tmpcopyup",
    "notmpcopyup",
    "copy-symlink",
    "src-nofollow",
    "dest-nofollow",
    "z",
    "Z",
    "U",
    "defaults",
    "rw",
    "suid",
    "dev",
    "exec",
    "atime",
    "diratime",
    "norelatime",
    "nostrictatime",
    "symfollow",
    "iversion",
    "noiversion",
    "silent",
    "loud",
];

/// Mount flags as MOUNT_ATTR_* bits (runc's recursive `r` forms too: a
/// bind's attributes are set on the whole tree anyway, a fresh mount has
/// no submounts).
const ATTRS: &[(&str, u32)] = &[
    ("ro", k::MOUNT_ATTR_RDONLY),
    ("nosuid", k::MOUNT_ATTR_NOSUID),
    ("nodev", k::MOUNT_ATTR_NODEV),
    ("noexec", k::MOUNT_ATTR_NOEXEC),
    ("strictatime", k::MOUNT_ATTR_STRICTATIME),
    ("noatime", k::MOUNT_ATTR_NOATIME),
    ("relatime", k::MOUNT_ATTR_RELATIME),
    ("nodiratime", k::MOUNT_ATTR_NODIRATIME),
    ("nosymfollow", k::MOUNT_ATTR_NOSYMFOLLOW),
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
/// fsconfig(2) (`size=1m`, `newinstance`, and the superblock flags the
/// kernel reads there: `sync`, `dirsync`, `lazytime`, `mand`...).
/// Propagation and the runtime's own options need nothing; an option
/// the filesystem does not know fails at fsconfig, naming it.
pub fn options(opts: &[alloc::string::String]) -> Result<(u32, Vec<Param>)> {
    let mut attrs = 0;
    let mut params = Vec::new();
    for o in opts {
        let o = o.as_str();
        let flag = o
            .strip_prefix('r')
            .filter(|f| ATTRS.iter().any(|a| a.0 == *f));
        if let Some((_, a)) = ATTRS.iter().find(|a| a.0 == o || Some(a.0) == flag) {
            attrs |= a;
            continue;
        }
        if PROPAGATION.contains(&o) || IGNORED.contains(&o) || flag.is_some() {
            continue;
        }
        // rrw, rsuid, ratime...: the absence of a flag, recursively.
        if let Some(f) = o.strip_prefix('r')
            && IGNORED.contains(&f)
        {
            continue;
        }
        if o == "idmap" || o == "ridmap" {
            return Err(Error::bad(
                "mount option",
                o,
                "not supported yet (idmapped mounts need user namespaces)",
            ));
        }
        match o.split_once('=') {
            Some((key, val)) => match (cstring(key.as_bytes()), cstring(val.as_bytes())) {
                (Some(k), Some(v)) => params.push(Param::Str(k, v)),
                _ => return Err(Error::bad("mount option", o, "contains a NUL byte")),
            },
            None => params
                .push(Param::Flag(cstring(o.as_bytes()).ok_or_else(|| {
                    Error::bad("mount option", o, "contains a NUL byte")
                })?)),
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
    // A mount namespace joined by path is the other's filesystem as it
    // is: nothing is mounted in it (the container's init starts at its
    // root, as nsenter(1) would), and its /proc is not ours to write.
    if spec.ns_path(crate::spec::Namespace::Mount).is_some() {
        return Ok(Vec::new());
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
                user_xattr: spec.has(crate::spec::Namespace::User)
                    && crate::sys::proc::geteuid() != 0,
            });
        }
    }
    for m in &spec.mounts {
        if m.is_bind() {
            ops.push(bind(m)?);
            continue;
        }
        let (attrs, mut params) = options(&m.options)?;
        let (target, resolve) = (mount_target(&m.destination)?, resolve_of(&m.destination));
        if m.kind == "cgroup" || m.kind == "cgroup2" {
            ops.push(Op::Cgroup {
                target,
                attrs,
                resolve,
            });
            continue;
        }
        if m.kind.is_empty() || m.kind.contains('\0') {
            return Err(Error::bad(
                "mount type",
                m.destination.as_str(),
                "missing (only a bind may omit it)",
            ));
        }
        // The source shows in the container's mount table, as with mount(8).
        if let Some(src) = cstring(m.source.as_bytes()).filter(|s| !s.is_empty()) {
            params.insert(0, Param::Str(cs("source"), src));
        }
        let copy_up = m.kind == "tmpfs" && m.options.iter().any(|o| o == "tmpcopyup");
        ops.push(Op::Mount {
            fstype: cs(&m.kind),
            target,
            attrs,
            params,
            resolve,
            copy_up,
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
    // Once every mount is there (a /proc of the config's own included)
    // and before /proc/sys is made read-only below.
    for (key, value) in &spec.sysctl {
        let bad = |why: alloc::borrow::Cow<'static, str>| Error::bad("sysctl", key.as_str(), why);
        crate::spec::sysctl::check(spec, key).map_err(|e| bad(e.into()))?;
        ops.push(Op::Sysctl {
            path: cstring(crate::spec::sysctl::path(key).as_bytes())
                .ok_or_else(|| bad("contains a NUL byte".into()))?,
            value: cstring(value.as_bytes()).ok_or_else(|| bad("contains a NUL byte".into()))?,
        });
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
    fn podman_mounts_cgroup_tmpcopyup_and_runtime_options() {
        let mut s = spec();
        s.mounts.push(user(
            "/sys/fs/cgroup",
            "cgroup",
            "cgroup",
            &["rprivate", "nosuid", "noexec", "nodev", "relatime", "ro"],
        ));
        s.mounts.push(user(
            "/run",
            "tmpfs",
            "tmpfs",
            &["rw", "rprivate", "nosuid", "nodev", "tmpcopyup", "size=1m"],
        ));
        s.mounts.push(user(
            "/data",
            "bind",
            "/h",
            &[
                "rbind",
                "rslave",
                "rro",
                "rnosuid",
                "z",
                "U",
                "nodiratime",
                "rrw",
            ],
        ));
        s.mounts
            .push(user("/t", "tmpfs", "tmpfs", &["notmpcopyup", "Z", "sync"]));
        let ops = plan(&s).unwrap();
        let find = |t: &[u8]| {
            ops.iter()
                .find(|o| match o {
                    Op::Mount { target, .. }
                    | Op::Bind { target, .. }
                    | Op::Cgroup { target, .. } => target.as_bytes() == t,
                    _ => false,
                })
                .cloned()
                .unwrap()
        };
        let ro = k::MOUNT_ATTR_RDONLY;
        let nsd = k::MOUNT_ATTR_NOSUID | k::MOUNT_ATTR_NODEV;
        assert_eq!(
            find(b"sys/fs/cgroup"),
            Op::Cgroup {
                target: cs("sys/fs/cgroup"),
                attrs: ro | nsd | k::MOUNT_ATTR_NOEXEC | k::MOUNT_ATTR_RELATIME,
                resolve: Resolve::InRootKernel,
            }
        );
        assert_eq!(
            find(b"run"),
            Op::Mount {
                fstype: cs("tmpfs"),
                target: cs("run"),
                attrs: nsd,
                params: vec![
                    Param::Str(cs("source"), cs("tmpfs")),
                    Param::Str(cs("size"), cs("1m"))
                ],
                resolve: Resolve::InRoot,
                copy_up: true,
            }
        );
        assert!(matches!(
            find(b"data"),
            Op::Bind { attrs, recursive: true, .. }
                if attrs == ro | k::MOUNT_ATTR_NOSUID | k::MOUNT_ATTR_NODIRATIME
        ));
        // The kernel reads superblock flags (sync) itself; runtime options
        // never reach it.
        assert!(matches!(
            find(b"t"),
            Op::Mount { params, copy_up: false, .. }
                if params == vec![Param::Str(cs("source"), cs("tmpfs")), Param::Flag(cs("sync"))]
        ));
        // idmapped mounts need user namespaces; an unknown option still
        // goes to the filesystem (which refuses it by name).
        for (m, want) in [
            (
                user("/d", "bind", "/h", &["rbind", "idmap"]),
                "mount option idmap",
            ),
            (user("/d", "", "", &[]), "mount type /d"),
            (
                user("/d", "bind", "/h", &["bind", "frob"]),
                "bind mount option frob",
            ),
        ] {
            let mut s = spec();
            s.mounts.push(m);
            let e = plan(&s).unwrap_err().to_string();
            assert!(e.starts_with(want), "{e}");
        }
    }

    #[test]
    fn sysctls_after_the_mounts_before_proc_sys_is_read_only() {
        let mut s = spec();
        s.namespaces = vec![crate::spec::Namespace::Network, crate::spec::Namespace::Ipc];
        s.mounts.push(user("/v", "bind", "/h", &["rbind"]));
        s.sysctl = vec![
            ("net.ipv4.ip_forward".into(), "1".into()),
            ("net/ipv4/conf/eth0.1/forwarding".into(), "0".into()),
            ("kernel.sem".into(), "1 2 3 4".into()),
        ];
        let ops = plan(&s).unwrap();
        let at = |f: &dyn Fn(&Op) -> bool| ops.iter().position(f).unwrap();
        let first = at(&|o| matches!(o, Op::Sysctl { .. }));
        assert_eq!(
            ops[first],
            Op::Sysctl {
                path: cs("proc/sys/net/ipv4/ip_forward"),
                value: cs("1")
            }
        );
        assert_eq!(
            ops[first + 1],
            Op::Sysctl {
                path: cs("proc/sys/net/ipv4/conf/eth0.1/forwarding"),
                value: cs("0")
            }
        );
        assert!(at(&|o| matches!(o, Op::Bind { .. })) < first);
        assert!(first + 2 < at(&|o| matches!(o, Op::Readonly(_))));
        // A Spec that was not checked (an old record, a front end's bug):
        // the plan checks again.
        s.namespaces.clear();
        assert!(
            plan(&s)
                .unwrap_err()
                .to_string()
                .starts_with("sysctl net.ipv4.ip_forward")
        );
    }

    #[test]
    fn a_joined_mount_namespace_is_left_as_it_is() {
        let mut s = spec();
        s.ns_paths = vec![(crate::spec::Namespace::Mount, "/proc/1/ns/mnt".into())];
        assert_eq!(plan(&s).unwrap(), vec![]);
    }

    #[test]
    fn destinations_must_stay_inside() {
        assert!(relative("proc").is_err());
        assert!(relative("/a/../../etc").is_err());
        assert_eq!(relative("//dev/pts").unwrap().as_bytes(), b"dev/pts");
    }
}
