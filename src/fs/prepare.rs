//! The parent's part of a plan: the ops that need the host before the
//! child exists. Each becomes detached mounts made here (fsmount(2) gives
//! a mount attached nowhere, held by an fd the child inherits and attaches
//! with move_mount(2) in its own namespace) or plain ops:
//!
//! * a tmpfs with `tmpcopyup` (podman's `--read-only` /run, /tmp,
//!   /var/tmp): made here and filled with the image's content of that
//!   directory, as crun does, so what the image ships there (/run/lock...)
//!   is still there on the writable tmpfs. The content is read from
//!   `root.path` as given, which an engine has mounted before `create`;
//!   an image rootfs pocket mounts itself (in the child) has none there
//!   yet, and its tmpfs starts empty.
//! * the "cgroup" mount at /sys/fs/cgroup: on a pure cgroup v2 host, a
//!   cgroup2 mount if the container has a cgroup namespace of its own (the
//!   kernel roots it at the container's group), else its group bound
//!   there. On v1 and hybrid hosts, what runc does in spirit: a tmpfs with
//!   one directory per hierarchy the container has a group in (cpu,
//!   memory, ..., unified), that group bound on it, so it sees its own
//!   groups (and limits) and nothing of the host's other groups; all of
//!   it read-only with "ro" (podman's default). Hierarchies pocket makes
//!   no group in (name=systemd) are not shown. The host's hierarchies
//!   themselves are never mounted or changed.
//! * with a user namespace, every bind (volumes, /etc/hosts...): its
//!   source is opened here, as the host's root, because the container's
//!   root is nobody to the host and may not even reach the path (the
//!   container directory is 0700); the child only attaches the copy.
//! * with a user namespace, an image's overlay: each layer an idmapped
//!   mount (the namespace's maps, through a scratch namespace with the
//!   same ones: the container's own does not exist yet), so that what the
//!   image's root owns is the container root's; the overlay made from
//!   them here, by the host's root, as with no user namespace.

use super::plan::{Op, Param, Resolve};
use crate::cgroup::{Cgroup, Layout};
use crate::error::{Context, Error, Result};
use crate::sys::fd::{self, Fd};
use crate::sys::{Errno, fs, mount as m};
use alloc::ffi::CString;
use alloc::vec::Vec;
use core::ffi::CStr;
use linux_raw_sys::general as k;

/// A fresh detached filesystem: `fstype` with `params`, mounted with
/// `attrs` (read-only is set by the caller once it is filled).
fn detached(fstype: &CStr, params: &[Param], attrs: u32) -> Result<Fd> {
    let name = fstype.to_string_lossy();
    let fs = m::fsopen(fstype).ctx("fsopen", &name)?;
    for p in params {
        match p {
            Param::Flag(key) => m::fsconfig_flag(&fs, key),
            Param::Str(key, v) => m::fsconfig_string(&fs, key, v),
        }
        .ctx("mount option", &key_of(p))?;
    }
    m::fsconfig_create(&fs).ctx("mount", &name)?;
    m::fsmount(&fs, attrs & !k::MOUNT_ATTR_RDONLY).ctx("mount", &name)
}

fn key_of(p: &Param) -> alloc::string::String {
    match p {
        Param::Flag(k) | Param::Str(k, _) => k.to_string_lossy().into_owned(),
    }
}

/// Make the ops of `ops` that need the host ready; returns the fds of the
/// detached mounts the ops now name (keep them open until after clone).
pub fn prepare(
    ops: &mut Vec<Op>,
    root: &[u8],
    layout: &Layout,
    cg: Option<&Cgroup>,
    cgroupns: bool,
    userns: Option<(&[crate::spec::IdMap], &[crate::spec::IdMap])>,
    late: bool,
) -> Result<Vec<Fd>> {
    let mut held = Vec::new();
    let mut out = Vec::with_capacity(ops.len());
    for op in ops.drain(..) {
        match op {
            Op::Mount {
                fstype,
                target,
                attrs,
                params,
                resolve,
                copy_up: true,
            } => {
                let mnt = detached(&fstype, &params, attrs)?;
                copy_up(root, &target, &mnt)?;
                if attrs & k::MOUNT_ATTR_RDONLY != 0 {
                    m::mount_setattr(&mnt, k::MOUNT_ATTR_RDONLY).ctx("mount", "tmpfs")?;
                }
                out.push(Op::Attach {
                    fd: mnt.raw(),
                    target,
                    resolve,
                    file: false,
                });
                held.push(mnt);
            }
            Op::Cgroup {
                target,
                attrs,
                resolve,
            } if late => {
                let mut ops = Vec::new();
                let c = (layout, cg, cgroupns, late);
                cgroup(&mut ops, &mut held, target, attrs, resolve, c)?;
                out.push(Op::Late(ops));
            }
            Op::Cgroup {
                target,
                attrs,
                resolve,
            } => {
                let c = (layout, cg, cgroupns, late);
                cgroup(&mut out, &mut held, target, attrs, resolve, c)?
            }
            Op::Bind {
                source,
                target,
                recursive,
                attrs,
                resolve,
            } if userns.is_some() => {
                let name = source.to_string_lossy();
                let tree = m::bind_tree(&source, recursive).ctx("bind", &name)?;
                let st = fd::fstatat(tree.raw(), c"", libc::AT_EMPTY_PATH).ctx("stat", &name)?;
                // Private as every mount of the container (the child made
                // its own so before this clone joins it).
                m::mount_setattr_private(&tree, attrs).ctx("bind options", &name)?;
                out.push(Op::Attach {
                    fd: tree.raw(),
                    target,
                    resolve,
                    file: st.st_mode & libc::S_IFMT != libc::S_IFDIR,
                });
                held.push(tree);
            }
            Op::OverlayRoot {
                target,
                lower,
                upper,
                work,
                volatile,
                ..
            } if let Some((uid, gid)) = userns => {
                let ns = crate::spawn::userns::scratch(uid, gid)?;
                let mut layers = Vec::with_capacity(lower.len());
                for l in &lower {
                    let name = l.to_string_lossy();
                    let t = m::bind_tree(l, false).ctx("open layer", &name)?;
                    m::mount_setattr_idmap(&t, &ns).ctx("idmap layer", &name)?;
                    layers.push(t);
                }
                let opts = super::overlay::options(volatile, false);
                let fs = super::overlay::create_from_fds(&layers, (&upper, &work), opts)
                    .map_err(|(op, e)| Error::sys(op, target.to_string_lossy(), e))?;
                // nodev: see apply's overlay().
                let mnt = m::fsmount(&fs, k::MOUNT_ATTR_NODEV).ctx("mount", "overlay")?;
                out.push(Op::AttachRoot {
                    fd: mnt.raw(),
                    target,
                });
                held.push(mnt);
            }
            op => out.push(op),
        }
    }
    *ops = out;
    Ok(held)
}

/// The cgroup mount (see the top of this file).
#[allow(clippy::too_many_arguments)]
fn cgroup(
    out: &mut Vec<Op>,
    held: &mut Vec<Fd>,
    target: CString,
    attrs: u32,
    resolve: Resolve,
    (layout, cg, cgroupns, late): (&Layout, Option<&Cgroup>, bool, bool),
) -> Result<()> {
    let attrs = attrs | k::MOUNT_ATTR_NOSUID | k::MOUNT_ATTR_NODEV | k::MOUNT_ATTR_NOEXEC;
    let dirs = cg.map_or(&[][..], |c| &c.dirs[..]);
    if layout.v1.is_empty() && layout.v2.is_some() {
        let v2 = dirs.iter().find(|d| d.v2);
        match (cgroupns, v2) {
            // Own namespace: the kernel roots a cgroup2 mount at the group.
            (true, _) => out.push(Op::Mount {
                fstype: CString::from(c"cgroup2"),
                target,
                attrs,
                params: Vec::new(),
                resolve,
                copy_up: false,
            }),
            // The host's namespace: its own group, bound.
            (false, Some(d)) => out.push(Op::Bind {
                source: crate::error::cpath(&d.dir)?,
                target,
                recursive: false,
                attrs,
                resolve,
            }),
            // No group of its own: nothing to show but an empty tmpfs.
            (false, None) => {
                let t = detached(c"tmpfs", &[], attrs)?;
                m::mount_setattr(&t, k::MOUNT_ATTR_RDONLY).ctx("mount", "cgroup tmpfs")?;
                out.push(Op::Attach {
                    fd: t.raw(),
                    target,
                    resolve,
                    file: false,
                });
                held.push(t);
            }
        }
        return Ok(());
    }
    let name = |d: &crate::cgroup::Dir| {
        alloc::string::String::from(d.mount.rsplit('/').next().unwrap_or(""))
    };
    let tmpfs = detached(
        c"tmpfs",
        &[Param::Str(CString::from(c"mode"), CString::from(c"755"))],
        attrs,
    )?;
    // Each group attached by name on the tmpfs in the child: 2 syscalls
    // a hierarchy there instead of ~12 (a path resolved component by
    // component, a mount_setattr each). Cloned here if the group exists
    // (else, `late`, by the child once it does).
    let mut binds = Vec::with_capacity(dirs.len());
    for d in dirs {
        let n = crate::error::cpath(&name(d))?;
        m::mkdirat(tmpfs.raw(), &n, 0o755).ctx("mkdir", &name(d))?;
        let dir = crate::error::cpath(&d.dir)?;
        let fd = match late {
            true => None,
            false => {
                let tree = m::bind_tree(&dir, false).ctx("bind", &d.dir)?;
                let fd = Some(tree.raw());
                held.push(tree);
                fd
            }
        };
        binds.push((fd, dir, n));
        // A comounted hierarchy (cpu,cpuacct) under each of its names
        // too, as the host and runc show it: tools read /sys/fs/cgroup/cpu.
        let both = name(d);
        for part in both.split(',').filter(|_| both.contains(',')) {
            let (t, l) = (crate::error::cpath(&both)?, crate::error::cpath(part)?);
            match m::symlinkat(&t, tmpfs.raw(), &l) {
                Ok(()) | Err(crate::sys::Errno::EEXIST) => {}
                Err(e) => return Err(Error::sys("symlink", part, e)),
            }
        }
    }
    if attrs & k::MOUNT_ATTR_RDONLY != 0 {
        m::mount_setattr(&tmpfs, k::MOUNT_ATTR_RDONLY).ctx("mount", "cgroup tmpfs")?;
    }
    out.push(Op::Attach {
        fd: tmpfs.raw(),
        target,
        resolve,
        file: false,
    });
    if !binds.is_empty() {
        out.push(Op::AttachUnder {
            under: tmpfs.raw(),
            binds,
            attrs,
        });
    }
    held.push(tmpfs);
    Ok(())
}

const NOFOLLOW: i32 = libc::O_NOFOLLOW | libc::O_CLOEXEC;

/// Copy the image's `root`/`rel` (resolved inside the root) into the
/// fresh tmpfs `mnt`. Nothing there: nothing to copy.
fn copy_up(root: &[u8], rel: &CStr, mnt: &Fd) -> Result<()> {
    let r = CString::new(root).map_err(|_| Error::bad("rootfs", "", "contains a NUL byte"))?;
    let rfd = fd::open(&r, libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC, 0)
        .ctx("open rootfs", &r.to_string_lossy())?;
    // The image's symlinks stay inside it, as the child will see them.
    let how = (k::RESOLVE_IN_ROOT | k::RESOLVE_NO_MAGICLINKS) as u64;
    let what = rel.to_string_lossy().into_owned();
    let src = match fd::openat2(rfd.raw(), rel, libc::O_RDONLY | libc::O_DIRECTORY, how) {
        Err(Errno::ENOENT) | Err(Errno::ENOTDIR) => return Ok(()),
        r => r.ctx("tmpcopyup", &what)?,
    };
    let dst = fd::openat(mnt.raw(), c".", libc::O_RDONLY | libc::O_DIRECTORY, 0)
        .ctx("tmpcopyup", &what)?;
    copy_dir(&src, &dst, 0).ctx("tmpcopyup", &what)?;
    // The tmpfs's root takes the directory's mode and owner.
    let st = fd::fstatat(src.raw(), c"", libc::AT_EMPTY_PATH).ctx("tmpcopyup", &what)?;
    owner(&dst, c"", &st, libc::AT_EMPTY_PATH).ctx("tmpcopyup", &what)
}

/// Owner and mode of `name` in `dir` as `st` says (not through symlinks).
fn owner(dir: &Fd, name: &CStr, st: &libc::stat, flags: i32) -> core::result::Result<(), Errno> {
    let f = flags | libc::AT_SYMLINK_NOFOLLOW;
    crate::sys::file::fchownat(dir.raw(), name, st.st_uid, st.st_gid, f)?;
    if st.st_mode & libc::S_IFMT == libc::S_IFLNK {
        return Ok(());
    }
    match name.is_empty() {
        true => crate::sys::file::fchmod(dir.raw(), st.st_mode & 0o7777),
        false => m::fchmodat(dir.raw(), name, st.st_mode & 0o7777),
    }
}

/// Deep enough for what images keep below /run or /tmp; a deeper tree (a
/// hostile image's) is refused rather than walked on without end.
const MAX_DEPTH: u32 = 32;

/// Directories, regular files and symlinks, with their owners and modes;
/// nothing is followed (every name is opened O_NOFOLLOW, and a file that
/// is not what stat said is skipped). Device nodes, fifos and sockets
/// are left out: a tmpfs for them would be nodev, or useless.
fn copy_dir(src: &Fd, dst: &Fd, depth: u32) -> core::result::Result<(), Errno> {
    if depth > MAX_DEPTH {
        return Err(Errno::ELOOP);
    }
    let mut names = Vec::new();
    fs::each_entry(src, |n, _| {
        names.push(CString::from(n));
        Ok(())
    })?;
    for n in &names {
        let st = fd::fstatat(src.raw(), n, libc::AT_SYMLINK_NOFOLLOW)?;
        match st.st_mode & libc::S_IFMT {
            libc::S_IFDIR => {
                m::mkdirat(dst.raw(), n, 0o700)?;
                let dir = libc::O_RDONLY | libc::O_DIRECTORY | NOFOLLOW;
                let s = fd::openat(src.raw(), n, dir, 0)?;
                let d = fd::openat(dst.raw(), n, dir, 0)?;
                copy_dir(&s, &d, depth + 1)?;
            }
            libc::S_IFREG => {
                let s = fd::openat(
                    src.raw(),
                    n,
                    libc::O_RDONLY | libc::O_NONBLOCK | NOFOLLOW,
                    0,
                )?;
                let now = fd::fstatat(s.raw(), c"", libc::AT_EMPTY_PATH)?;
                if now.st_mode & libc::S_IFMT != libc::S_IFREG {
                    continue;
                }
                let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | NOFOLLOW;
                let d = fd::openat(dst.raw(), n, flags, 0o600)?;
                let mut buf = [0u8; 16384];
                loop {
                    match fd::read(s.raw(), &mut buf)? {
                        0 => break,
                        got => fd::write_all(d.raw(), &buf[..got])?,
                    }
                }
            }
            libc::S_IFLNK => {
                let t = fs::readlinkat(src.raw(), n)?;
                let t = CString::new(t).map_err(|_| Errno::EINVAL)?;
                m::symlinkat(&t, dst.raw(), n)?;
            }
            _ => continue,
        }
        owner(dst, n, &st, 0)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroup::Dir;

    fn cs(s: &str) -> CString {
        CString::new(s).unwrap()
    }

    /// Pure cgroup v2 hosts need no mount made here: testable without root.
    #[test]
    fn pure_v2_cgroup_mount() {
        let layout = Layout {
            v1: vec![],
            v2: Some(("/sys/fs/cgroup".into(), vec!["memory".into()])),
        };
        let cg = Cgroup {
            path: "pocket/x".into(),
            dirs: vec![Dir {
                mount: "/sys/fs/cgroup".into(),
                dir: "/sys/fs/cgroup/pocket/x".into(),
                v2: true,
                controllers: vec![],
            }],
        };
        let op = || Op::Cgroup {
            target: cs("sys/fs/cgroup"),
            attrs: k::MOUNT_ATTR_RDONLY,
            resolve: Resolve::InRootKernel,
        };
        let all = k::MOUNT_ATTR_RDONLY
            | k::MOUNT_ATTR_NOSUID
            | k::MOUNT_ATTR_NODEV
            | k::MOUNT_ATTR_NOEXEC;
        let mut ops = vec![Op::Private, op()];
        let held = prepare(&mut ops, b"/r", &layout, Some(&cg), true, None, false).unwrap();
        assert!(held.is_empty());
        assert_eq!(
            ops[1],
            Op::Mount {
                fstype: cs("cgroup2"),
                target: cs("sys/fs/cgroup"),
                attrs: all,
                params: vec![],
                resolve: Resolve::InRootKernel,
                copy_up: false,
            }
        );
        let mut ops = vec![op()];
        prepare(&mut ops, b"/r", &layout, Some(&cg), false, None, false).unwrap();
        assert_eq!(
            ops,
            vec![Op::Bind {
                source: cs("/sys/fs/cgroup/pocket/x"),
                target: cs("sys/fs/cgroup"),
                recursive: false,
                attrs: all,
                resolve: Resolve::InRootKernel,
            }]
        );
        // Everything else passes through as it is.
        let mut ops = vec![Op::Private, Op::ReadonlyRoot];
        prepare(&mut ops, b"/r", &layout, None, false, None, false).unwrap();
        assert_eq!(ops, vec![Op::Private, Op::ReadonlyRoot]);
    }
}
