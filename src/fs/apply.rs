//! Run a plan in the child. Allocation-free: every string was prepared by
//! the parent; paths are split and NUL-terminated on the stack.
//!
//! Every path is resolved below the root's fd with openat2(2), one
//! component at a time with RESOLVE_NO_SYMLINKS for the standard mounts, or
//! with RESOLVE_IN_ROOT for volumes (symlinks followed as the container
//! sees them), and mounts go onto that fd with move_mount(2): a symlink in
//! the rootfs (say /proc or /data -> /etc) can never redirect a mount or a
//! created mount point outside the container.

use super::plan::{Op, Param, Resolve};
use crate::sys::fd::{self, Fd};
use crate::sys::{Errno, mount as m, proc};
use core::ffi::CStr;
use linux_raw_sys::general as k;

/// A failed step: what, on which path, and the errno.
#[derive(Debug, Clone, Copy)]
pub struct Fail<'a> {
    pub op: &'static str,
    pub arg: &'a [u8],
    pub errno: Errno,
}

type Res<'a, T> = core::result::Result<T, Fail<'a>>;

fn fail<'a>(op: &'static str, arg: &'a CStr) -> impl FnOnce(Errno) -> Fail<'a> {
    move |errno| Fail {
        op,
        arg: arg.to_bytes(),
        errno,
    }
}

const RESOLVE: u64 =
    (k::RESOLVE_NO_SYMLINKS | k::RESOLVE_NO_MAGICLINKS | k::RESOLVE_BENEATH) as u64;

/// Open directory `rel` below `root` without following any symlink,
/// creating missing components (mode 0755) when `create` is set.
pub fn resolve_dir(root: &Fd, rel: &[u8], create: bool) -> Result<Fd, Errno> {
    let flags = libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW;
    // Whole, in one openat2 when it is there (the usual case: /proc,
    // /dev...); component by component to make what is missing. A ".."
    // is refused below, even one that stays beneath the root.
    let mut whole = [0u8; 512];
    let dotdot = rel.split(|&c| c == b'/').any(|c| c == b"..");
    let trimmed = rel.strip_prefix(b"/").unwrap_or(rel);
    if !dotdot
        && !trimmed.is_empty()
        && let Some(c) = crate::sys::cstr::join(&mut whole, b".", trimmed)
    {
        match fd::openat2(root.raw(), c, flags, RESOLVE) {
            Err(Errno::ENOENT) if create => {}
            r => return r,
        }
    }
    let mut cur = fd::openat(
        root.raw(),
        c".",
        libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
        0,
    )?;
    let mut name = [0u8; 256];
    for comp in rel
        .split(|&c| c == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
    {
        if comp.len() >= name.len() {
            return Err(Errno::ENAMETOOLONG);
        }
        if comp == b".." {
            return Err(Errno::EXDEV);
        }
        name[..comp.len()].copy_from_slice(comp);
        name[comp.len()] = 0;
        let c = CStr::from_bytes_with_nul(&name[..=comp.len()]).map_err(|_| Errno::EINVAL)?;
        let next = match fd::openat2(cur.raw(), c, flags, RESOLVE) {
            Err(Errno::ENOENT) if create => {
                match m::mkdirat(cur.raw(), c, 0o755) {
                    Ok(()) | Err(Errno::EEXIST) => {}
                    Err(e) => return Err(e),
                }
                fd::openat2(cur.raw(), c, flags, RESOLVE)?
            }
            r => r?,
        };
        cur = next;
    }
    Ok(cur)
}

/// Open `rel` (a file or a directory) below `root` as O_PATH, following no
/// symlink.
pub fn resolve_path(root: &Fd, rel: &[u8]) -> Result<Fd, Errno> {
    let (dir, name) = match rel.iter().rposition(|&c| c == b'/') {
        Some(p) => (&rel[..p], &rel[p + 1..]),
        None => (&b""[..], rel),
    };
    let d = resolve_dir(root, dir, false)?;
    let mut buf = [0u8; 256];
    let name = crate::sys::cstr::join(&mut buf, b"", name).ok_or(Errno::ENAMETOOLONG)?;
    fd::openat2(d.raw(), name, libc::O_PATH | libc::O_NOFOLLOW, RESOLVE)
}

const IN_ROOT: u64 = (k::RESOLVE_IN_ROOT | k::RESOLVE_NO_MAGICLINKS) as u64;

/// openat2(RESOLVE_IN_ROOT). The kernel answers EAGAIN when a rename
/// raced a `..` in the path (it cannot vouch for the result): try again.
fn open_in_root(root: &Fd, p: &CStr, flags: i32) -> Result<Fd, Errno> {
    let mut tries = 0;
    loop {
        match fd::openat2(root.raw(), p, flags, IN_ROOT) {
            Err(Errno::EAGAIN) if tries < 16 => tries += 1,
            r => return r,
        }
    }
}

/// Open `rel` below `root` as the container would see it: symlinks are
/// followed, but absolute ones and `..` stop at the root (RESOLVE_IN_ROOT).
/// Missing components are created as directories (the last one as an
/// empty file when `file` is set), each inside the directory its parent
/// resolved to and by a single name (mkdirat/openat with O_NOFOLLOW), so
/// nothing is ever created through a symlink; a dangling symlink on the
/// way is an error (ENOENT), not followed.
pub fn resolve_in_root(root: &Fd, rel: &[u8], file: bool) -> Result<Fd, Errno> {
    let mut cur = fd::openat(
        root.raw(),
        c".",
        libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
        0,
    )?;
    let mut path = [0u8; 4096];
    let mut len = 0;
    let mut name = [0u8; 256];
    let mut comps = rel
        .split(|&c| c == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .peekable();
    while let Some(comp) = comps.next() {
        let last = comps.peek().is_none();
        let sep = (len > 0) as usize;
        if comp.len() >= name.len() || len + sep + comp.len() >= path.len() {
            return Err(Errno::ENAMETOOLONG);
        }
        if sep == 1 {
            path[len] = b'/';
        }
        path[len + sep..len + sep + comp.len()].copy_from_slice(comp);
        len += sep + comp.len();
        path[len] = 0;
        let p = CStr::from_bytes_with_nul(&path[..=len]).map_err(|_| Errno::EINVAL)?;
        let flags = match last && file {
            true => libc::O_PATH,
            false => libc::O_PATH | libc::O_DIRECTORY,
        };
        cur = match open_in_root(root, p, flags) {
            Err(Errno::ENOENT) => {
                name[..comp.len()].copy_from_slice(comp);
                name[comp.len()] = 0;
                let n =
                    CStr::from_bytes_with_nul(&name[..=comp.len()]).map_err(|_| Errno::EINVAL)?;
                let made = if last && file {
                    let f = libc::O_WRONLY
                        | libc::O_CREAT
                        | libc::O_EXCL
                        | libc::O_NOFOLLOW
                        | libc::O_CLOEXEC;
                    fd::openat(cur.raw(), n, f, 0o644).map(drop)
                } else {
                    m::mkdirat(cur.raw(), n, 0o755)
                };
                match made {
                    Ok(()) | Err(Errno::EEXIST) => {}
                    Err(e) => return Err(e),
                }
                open_in_root(root, p, flags)?
            }
            r => r?,
        };
    }
    Ok(cur)
}

/// The fd a mount goes onto: resolved as `how` says, never the root
/// itself, and (unless asked for by name) never on procfs or sysfs.
fn target_fd(root: &Fd, rel: &[u8], how: Resolve, file: bool) -> Result<Fd, Errno> {
    if how == Resolve::Beneath {
        return resolve_dir(root, rel, true);
    }
    let t = resolve_in_root(root, rel, file)?;
    if how == Resolve::InRoot {
        let magic = m::fstatfs_type(&t)?;
        if magic == k::PROC_SUPER_MAGIC as i64 || magic == k::SYSFS_MAGIC as i64 {
            return Err(Errno::EPERM);
        }
    }
    // `..` or a symlink to "/" may resolve to the root: a mount there
    // would hide the whole container tree.
    let a = fd::fstatat(t.raw(), c"", libc::AT_EMPTY_PATH)?;
    let b = fd::fstatat(root.raw(), c"", libc::AT_EMPTY_PATH)?;
    if a.st_dev == b.st_dev && a.st_ino == b.st_ino {
        return Err(Errno::EBUSY);
    }
    Ok(t)
}

/// A volume: a detached copy of the host path `source`, made read-only
/// (or whatever `attrs` say) before it is attached, so it is never
/// writable in the container, not even for a moment.
fn bind<'a>(
    root: &Fd,
    source: &'a CStr,
    target: &'a CStr,
    recursive: bool,
    attrs: u32,
    how: Resolve,
) -> Res<'a, ()> {
    let tree = m::bind_tree(source, recursive).map_err(fail("bind", source))?;
    let st = fd::fstatat(tree.raw(), c"", libc::AT_EMPTY_PATH).map_err(fail("stat", source))?;
    let file = st.st_mode & libc::S_IFMT != libc::S_IFDIR;
    let t = target_fd(root, target.to_bytes(), how, file).map_err(fail("mount point", target))?;
    if attrs != 0 {
        m::mount_setattr(&tree, attrs).map_err(fail("bind options", target))?;
    }
    m::move_mount(&tree, &t).map_err(fail("bind", target))
}

/// Write a /proc/sys file below the root: reached without following any
/// symlink, and only on procfs (a rootfs without a /proc mount of its
/// own must not turn this into a write to one of its files).
fn sysctl<'a>(root: &Fd, rel: &'a CStr, value: &'a CStr) -> Res<'a, ()> {
    let b = rel.to_bytes();
    let (dir, name) = b.split_at(b.iter().rposition(|&c| c == b'/').unwrap_or(0));
    let d = resolve_dir(root, dir, false).map_err(fail("sysctl", rel))?;
    let mut buf = [0u8; 256];
    let name = crate::sys::cstr::join(&mut buf, b"", name.strip_prefix(b"/").unwrap_or(name))
        .ok_or(Fail {
            op: "sysctl",
            arg: b,
            errno: Errno::ENAMETOOLONG,
        })?;
    let flags = libc::O_WRONLY | libc::O_CLOEXEC | libc::O_NOFOLLOW;
    let f = fd::openat2(d.raw(), name, flags, RESOLVE).map_err(fail("sysctl", rel))?;
    if m::fstatfs_type(&f).map_err(fail("sysctl", rel))? != k::PROC_SUPER_MAGIC as i64 {
        return Err(Fail {
            op: "sysctl (not on procfs)",
            arg: b,
            errno: Errno::EXDEV,
        });
    }
    fd::write_all(f.raw(), value.to_bytes()).map_err(fail("sysctl", rel))
}

fn readonly<'a>(root: &Fd, rel: &'a CStr) -> Res<'a, ()> {
    let target = match resolve_path(root, rel.to_bytes()) {
        Err(Errno::ENOENT) => return Ok(()),
        r => r.map_err(fail("open", rel))?,
    };
    let tree = m::open_tree_clone(&target).map_err(fail("bind", rel))?;
    let ro =
        k::MOUNT_ATTR_RDONLY | k::MOUNT_ATTR_NOSUID | k::MOUNT_ATTR_NODEV | k::MOUNT_ATTR_NOEXEC;
    m::mount_setattr(&tree, ro).map_err(fail("make read-only", rel))?;
    m::move_mount(&tree, &target).map_err(fail("mount", rel))
}

fn mask<'a>(root: &Fd, rel: &'a CStr) -> Res<'a, ()> {
    let target = match resolve_path(root, rel.to_bytes()) {
        Err(Errno::ENOENT) => return Ok(()),
        r => r.map_err(fail("open", rel))?,
    };
    let st = fd::fstatat(target.raw(), c"", libc::AT_EMPTY_PATH).map_err(fail("stat", rel))?;
    let cover = if st.st_mode & libc::S_IFMT == libc::S_IFDIR {
        let fs = m::fsopen(c"tmpfs").map_err(fail("fsopen", c"tmpfs"))?;
        m::fsconfig_create(&fs).map_err(fail("mask", rel))?;
        m::fsmount(&fs, k::MOUNT_ATTR_RDONLY).map_err(fail("mask", rel))?
    } else {
        let null = resolve_path(root, b"dev/null").map_err(fail("open", c"/dev/null"))?;
        m::open_tree_clone(&null).map_err(fail("mask", rel))?
    };
    m::move_mount(&cover, &target).map_err(fail("mask", rel))
}

fn mount_fs<'a>(
    root: &Fd,
    fstype: &'a CStr,
    target: &'a CStr,
    attrs: u32,
    params: &'a [Param],
    how: Resolve,
) -> Res<'a, ()> {
    let dir =
        target_fd(root, target.to_bytes(), how, false).map_err(fail("mount point", target))?;
    let fs = m::fsopen(fstype).map_err(fail("fsopen", fstype))?;
    for p in params {
        match p {
            Param::Flag(k) => m::fsconfig_flag(&fs, k).map_err(fail("mount option", k))?,
            Param::Str(k, v) => m::fsconfig_string(&fs, k, v).map_err(fail("mount option", k))?,
        }
    }
    m::fsconfig_create(&fs).map_err(fail("mount", target))?;
    let mnt = m::fsmount(&fs, attrs).map_err(fail("mount", target))?;
    m::move_mount(&mnt, &dir).map_err(fail("mount", target))
}

/// The image rootfs: overlayfs with the layers below the container's
/// upper dir, mounted on `target` (in the container's mount namespace
/// only: it goes away with it, nothing to unmount on the host).
fn overlay<'a>(
    target: &'a CStr,
    lower: &'a [alloc::ffi::CString],
    joined: &'a CStr,
    upper: &'a CStr,
    work: &'a CStr,
    volatile: bool,
    user_xattr: bool,
) -> Res<'a, ()> {
    let opts = super::overlay::options(volatile, user_xattr);
    let fs = super::overlay::create(lower, joined, Some((upper, work)), opts).map_err(
        |(op, errno)| Fail {
            op,
            arg: target.to_bytes(),
            errno,
        },
    )?;
    // nodev: a device node shipped in an image (say 8:0, the host's disk,
    // mode 0666) must not open; pocket has no devices cgroup to stop it.
    // /dev is its own tmpfs, and overlay whiteouts are never opened.
    let mnt = m::fsmount(&fs, k::MOUNT_ATTR_NODEV).map_err(fail("mount overlay", target))?;
    let dir =
        fd::open(target, libc::O_PATH | libc::O_DIRECTORY, 0).map_err(fail("open", target))?;
    m::move_mount(&mnt, &dir).map_err(fail("mount overlay", target))
}

fn switch_root<'a>(root: &Fd, path: &'a CStr, no_pivot: bool) -> Res<'a, ()> {
    proc::fchdir(root.raw()).map_err(fail("chdir", path))?;
    if !no_pivot {
        // pivot_root(".", ".") stacks the old root on top of the new one;
        // detaching it leaves only the container's tree. No put_old
        // directory needed inside the image.
        match m::pivot_root(c".", c".") {
            Ok(()) => {
                m::umount2(c".", libc::MNT_DETACH).map_err(fail("umount old root", path))?;
                return proc::chdir(c"/").map_err(fail("chdir", c"/"));
            }
            // EINVAL: / is the initramfs's rootfs, which cannot be pivoted
            // away from; moving the new root onto / works there.
            Err(Errno::EINVAL) => {}
            Err(e) => {
                return Err(Fail {
                    op: "pivot_root",
                    arg: path.to_bytes(),
                    errno: e,
                });
            }
        }
    }
    m::mount(Some(c"."), c"/", None, libc::MS_MOVE, None).map_err(fail("move root", path))?;
    m::chroot(c".").map_err(fail("chroot", path))?;
    proc::chdir(c"/").map_err(fail("chdir", c"/"))
}

/// Bind `/<dir>/<name>` of the host (the root is not pivoted yet) onto a
/// new empty file `name` in `d`, if it is the device asked for (type and
/// numbers checked: never some other file of the host).
fn bind_host_node(
    d: &Fd,
    dir: &CStr,
    name: &CStr,
    mode: u32,
    major: u32,
    minor: u32,
) -> Result<(), Errno> {
    let mut b = [0u8; 512];
    let mut host = [0u8; 512];
    let rel = crate::sys::cstr::join(&mut b, b"/", dir.to_bytes()).ok_or(Errno::ENAMETOOLONG)?;
    let path = crate::sys::cstr::join(&mut host, rel.to_bytes(), name.to_bytes())
        .ok_or(Errno::ENAMETOOLONG)?;
    let st = fd::fstatat(libc::AT_FDCWD, path, 0)?;
    let want = libc::makedev(major, minor);
    if st.st_mode & libc::S_IFMT != mode & libc::S_IFMT || st.st_rdev != want {
        return Err(Errno::EPERM);
    }
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    drop(fd::openat(d.raw(), name, flags, 0)?);
    let target = fd::openat(
        d.raw(),
        name,
        libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        0,
    )?;
    let t = m::bind_tree(path, false)?;
    m::move_mount(&t, &target)
}

/// The `Late` ops among `ops`, in order (see Op::Late).
pub fn apply_late<'a>(ops: &'a [Op], mut root: Option<Fd>) -> Res<'a, Option<Fd>> {
    for op in ops {
        if let Op::Late(inner) = op {
            root = apply(inner, root)?;
        }
    }
    Ok(root)
}

/// Apply `ops` in order. Returns the root's fd (for resolving more paths
/// in it, e.g. the working directory) once the root has been bound.
pub fn apply<'a>(ops: &'a [Op], mut root: Option<Fd>) -> Res<'a, Option<Fd>> {
    let mut root_path: &CStr = c"/";
    for op in ops {
        match op {
            Op::Private => {
                let f = libc::MS_REC | libc::MS_PRIVATE;
                m::mount(None, c"/", None, f, None).map_err(fail("make / private", c"/"))?;
            }
            Op::BindRoot(path) => {
                let f = libc::MS_BIND | libc::MS_REC;
                m::mount(Some(path), path, None, f, None).map_err(fail("bind rootfs", path))?;
                let flags = libc::O_PATH | libc::O_DIRECTORY;
                let r = fd::open(path, flags, 0).map_err(fail("open rootfs", path))?;
                // nodev, as for an image rootfs (see overlay()); nosuid: a
                // directory of the user's, not the store's (README,
                // "setuid and the user's directories").
                let attrs = k::MOUNT_ATTR_NODEV | k::MOUNT_ATTR_NOSUID;
                m::mount_setattr(&r, attrs).map_err(fail("bind rootfs", path))?;
                root = Some(r);
                root_path = path;
            }
            Op::AttachRoot { fd: mnt, target } => {
                // The overlay the parent mounted (a user namespace's):
                // attached here, the root from then on.
                let dir = fd::open(target, libc::O_PATH | libc::O_DIRECTORY, 0)
                    .map_err(fail("open rootfs", target))?;
                let mnt = core::mem::ManuallyDrop::new(Fd::from_raw(*mnt));
                m::move_mount(&mnt, &dir).map_err(fail("mount overlay", target))?;
                root = Some(
                    fd::open(target, libc::O_PATH | libc::O_DIRECTORY, 0)
                        .map_err(fail("open rootfs", target))?,
                );
                root_path = target;
            }
            Op::OverlayRoot {
                target,
                lower,
                joined,
                upper,
                work,
                volatile,
                user_xattr,
            } => {
                overlay(target, lower, joined, upper, work, *volatile, *user_xattr)?;
                let flags = libc::O_PATH | libc::O_DIRECTORY;
                root = Some(fd::open(target, flags, 0).map_err(fail("open rootfs", target))?);
                root_path = target;
            }
            Op::Mount {
                fstype,
                target,
                attrs,
                params,
                resolve,
                ..
            } => {
                let r = root.as_ref().ok_or(Fail {
                    op: "mount",
                    arg: target.to_bytes(),
                    errno: Errno::EBADF,
                })?;
                mount_fs(r, fstype, target, *attrs, params, *resolve)?;
            }
            Op::Attach {
                fd: mnt,
                target,
                resolve,
                file,
            } => {
                let r = root.as_ref().ok_or(Fail {
                    op: "mount",
                    arg: target.to_bytes(),
                    errno: Errno::EBADF,
                })?;
                let dir = target_fd(r, target.to_bytes(), *resolve, *file)
                    .map_err(fail("mount point", target))?;
                // The parent's detached mount, inherited: attached in this
                // namespace (it stays the parent's fd to close).
                let mnt = core::mem::ManuallyDrop::new(Fd::from_raw(*mnt));
                m::move_mount(&mnt, &dir).map_err(fail("mount", target))?;
            }
            Op::AttachUnder {
                under,
                binds,
                attrs,
            } => {
                let under = core::mem::ManuallyDrop::new(Fd::from_raw(*under));
                for (mnt, dir, name) in binds {
                    // The parent's clone (its fd to close), or ours
                    // (closed once attached).
                    let own = match mnt {
                        None => Some(m::bind_tree(dir, false).map_err(fail("bind", dir))?),
                        Some(_) => None,
                    };
                    let parents = mnt.map(|fd| core::mem::ManuallyDrop::new(Fd::from_raw(fd)));
                    if let Some(tree) = own.as_ref().or(parents.as_deref()) {
                        m::move_mount_at(tree, &under, name).map_err(fail("mount", name))?;
                    }
                }
                // Recursive: the tmpfs and every group on it, private (the
                // parent's clones of shared host mounts are their peers).
                m::mount_setattr_private(&under, *attrs)
                    .map_err(fail("mount options", c"cgroup"))?;
            }
            // Run by `apply_late`, after the cgroups are made.
            Op::Late(_) => {}
            // `prepare` replaces it in the parent; never left for here.
            Op::Cgroup { target, .. } => {
                return Err(Fail {
                    op: "mount cgroup",
                    arg: target.to_bytes(),
                    errno: Errno::EINVAL,
                });
            }
            Op::Sysctl { path, value } => {
                let r = root.as_ref().ok_or(Fail {
                    op: "sysctl",
                    arg: path.to_bytes(),
                    errno: Errno::EBADF,
                })?;
                sysctl(r, path, value)?;
            }
            Op::Bind {
                source,
                target,
                recursive,
                attrs,
                resolve,
            } => {
                let r = root.as_ref().ok_or(Fail {
                    op: "bind",
                    arg: target.to_bytes(),
                    errno: Errno::EBADF,
                })?;
                bind(r, source, target, *recursive, *attrs, *resolve)?;
            }
            Op::Mknod {
                dir,
                name,
                mode,
                major,
                minor,
                uid,
                gid,
            } => {
                let r = root.as_ref().ok_or(Fail {
                    op: "mknod",
                    arg: name.to_bytes(),
                    errno: Errno::EBADF,
                })?;
                // Below /dev, on its fresh tmpfs: made without following
                // any symlink (there are none yet, but the rule holds).
                let d = resolve_dir(r, dir.to_bytes(), true).map_err(fail("open", dir))?;
                match m::mknodat(d.raw(), name, *mode, *major, *minor) {
                    // Not allowed (a devices cgroup without "m" for it, as
                    // podman's; no CAP_MKNOD): the host's own node at the
                    // same path bound in instead, as runc does.
                    Err(Errno::EPERM) => {
                        bind_host_node(&d, dir, name, *mode, *major, *minor)
                            .map_err(fail("mknod", name))?;
                        continue;
                    }
                    r => r.map_err(fail("mknod", name))?,
                }
                m::fchmodat(d.raw(), name, *mode & 0o7777).map_err(fail("chmod", name))?;
                if (*uid, *gid) != (0, 0) {
                    crate::sys::file::fchownat(
                        d.raw(),
                        name,
                        *uid,
                        *gid,
                        libc::AT_SYMLINK_NOFOLLOW,
                    )
                    .map_err(fail("chown", name))?;
                }
            }
            Op::Symlink { dir, name, target } => {
                let r = root.as_ref().ok_or(Fail {
                    op: "symlink",
                    arg: name.to_bytes(),
                    errno: Errno::EBADF,
                })?;
                let d = resolve_dir(r, dir.to_bytes(), false).map_err(fail("open", dir))?;
                m::symlinkat(target, d.raw(), name).map_err(fail("symlink", name))?;
            }
            Op::Readonly(rel) => {
                let r = root.as_ref().ok_or(Fail {
                    op: "readonly",
                    arg: rel.to_bytes(),
                    errno: Errno::EBADF,
                })?;
                readonly(r, rel)?;
            }
            Op::Mask(rel) => {
                let r = root.as_ref().ok_or(Fail {
                    op: "mask",
                    arg: rel.to_bytes(),
                    errno: Errno::EBADF,
                })?;
                mask(r, rel)?;
            }
            Op::Workdir(rel) => {
                let r = root.as_ref().ok_or(Fail {
                    op: "workdir",
                    arg: rel.to_bytes(),
                    errno: Errno::EBADF,
                })?;
                // An existing workdir may go through symlinks, as docker
                // allows (-w /var/run -> /run): RESOLVE_IN_ROOT keeps even
                // absolute link targets inside the root. A missing one is
                // created without following any symlink.
                let in_root = (k::RESOLVE_IN_ROOT | k::RESOLVE_NO_MAGICLINKS) as u64;
                let flags = libc::O_PATH | libc::O_DIRECTORY;
                if fd::openat2(r.raw(), rel, flags, in_root).is_err() {
                    resolve_dir(r, rel.to_bytes(), true).map_err(fail("workdir", rel))?;
                }
            }
            Op::SwitchRoot { no_pivot } => {
                let r = root.as_ref().ok_or(Fail {
                    op: "switch root",
                    arg: b"",
                    errno: Errno::EBADF,
                })?;
                switch_root(r, root_path, *no_pivot)?;
            }
            Op::ReadonlyRoot => {
                let f = libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY;
                m::mount(None, c"/", None, f, None).map_err(fail("remount / read-only", c"/"))?;
            }
        }
    }
    Ok(root)
}
