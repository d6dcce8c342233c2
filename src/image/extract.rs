//! Extracting a layer: every entry of a tar stream written below one
//! directory, never outside it, whatever the archive says.

use super::tar::{Kind, Reader, Source};
use crate::error::{Context, Error, Result};
use crate::fs::apply::resolve_dir;
use crate::sys::fd::{self, Fd};
use crate::sys::{Errno, cstr, file, fs as sfs, mount as m};
use alloc::ffi::CString;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

/// How to treat overlayfs whiteout names (".wh.NAME", ".wh..wh..opq").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whiteouts {
    /// Extract them as the plain files they are in the archive.
    Keep,
    /// ".wh.NAME" becomes a 0:0 character device NAME and ".wh..wh..opq"
    /// sets trusted.overlay.opaque=y on its directory: what overlayfs reads.
    Overlay,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opts {
    /// Create character and block devices (refused otherwise).
    pub devices: bool,
    /// Give entries the archive's uid/gid. Without it they belong to the
    /// caller and lose their setuid/setgid bits.
    pub chown: bool,
    pub whiteouts: Whiteouts,
}

impl Default for Opts {
    fn default() -> Opts {
        Opts {
            devices: false,
            chown: false,
            whiteouts: Whiteouts::Keep,
        }
    }
}

/// What an extraction created: `files` counts every non-directory entry
/// (links, nodes and whiteouts included), `bytes` the file data written.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub files: u64,
    pub dirs: u64,
    pub bytes: u64,
}

/// The xattr that marks an overlay directory opaque.
pub const OPAQUE: &core::ffi::CStr = c"trusted.overlay.opaque";

fn lossy(p: &[u8]) -> String {
    String::from_utf8_lossy(p).into_owned()
}

/// `p` relative and clean: no leading "/", no "..", no "." or empty
/// components. "" means the destination itself.
pub fn normalize(p: &[u8]) -> core::result::Result<Vec<u8>, &'static str> {
    if p.first() == Some(&b'/') {
        return Err("absolute path in archive");
    }
    if p.contains(&0) {
        return Err("NUL byte in path");
    }
    let mut out = Vec::with_capacity(p.len());
    for c in p.split(|&c| c == b'/') {
        if c.is_empty() || c == b"." {
            continue;
        }
        if c == b".." {
            return Err("\"..\" in path");
        }
        if !out.is_empty() {
            out.push(b'/');
        }
        out.extend_from_slice(c);
    }
    if out.len() >= libc::PATH_MAX as usize {
        return Err("path too long");
    }
    Ok(out)
}

/// Split a normalized path into (parent, last component).
fn split(p: &[u8]) -> (&[u8], &[u8]) {
    match p.iter().rposition(|&c| c == b'/') {
        Some(i) => (&p[..i], &p[i + 1..]),
        None => (&b""[..], p),
    }
}

fn cs(p: &[u8]) -> Result<CString> {
    cstr::cstring(p).ok_or_else(|| Error::bad("extract", lossy(p), "NUL byte in path"))
}

fn is_dir(st: &libc::stat) -> bool {
    st.st_mode & libc::S_IFMT == libc::S_IFDIR
}

/// Make room for a new entry `name` in `parent`: remove a non-directory,
/// or an empty directory. Returns true if a directory is there and stays
/// (only when `keep_dir`).
fn make_room(parent: &Fd, name: &CString, keep_dir: bool) -> core::result::Result<bool, Errno> {
    match fd::fstatat(parent.raw(), name, libc::AT_SYMLINK_NOFOLLOW) {
        Err(Errno::ENOENT) => Ok(false),
        Err(e) => Err(e),
        Ok(st) if is_dir(&st) && keep_dir => Ok(true),
        Ok(st) if is_dir(&st) => {
            sfs::unlinkat(parent.raw(), name, libc::AT_REMOVEDIR).map(|_| false)
        }
        Ok(_) => sfs::unlinkat(parent.raw(), name, 0).map(|_| false),
    }
}

/// Set extended attributes through an fd opened for them (fsetxattr does
/// not take O_PATH fds). trusted.overlay.* from the archive is dropped: it
/// would let a layer steer overlayfs (redirect, metacopy) at will.
fn set_xattrs(f: &Fd, xattrs: &[(Vec<u8>, Vec<u8>)], path: &str) -> Result<()> {
    for (k, v) in xattrs {
        if k.starts_with(b"trusted.overlay.") {
            continue;
        }
        match file::fsetxattr(f.raw(), &cs(k)?, v) {
            Ok(()) | Err(Errno::EOPNOTSUPP) => {}
            Err(e) => return Err(Error::sys("setxattr", path, e)),
        }
    }
    Ok(())
}

/// Extract the archive in `src` below the directory `dest` (an O_PATH fd
/// is enough). Stops at the first error, leaving a partial tree for the
/// caller to remove; nothing is ever written outside `dest`.
pub fn extract(src: &mut dyn Source, dest: &Fd, opts: &Opts) -> Result<Stats> {
    let mut r = Reader::new(src);
    let mut st = Stats::default();
    let mut dirs: Vec<(Vec<u8>, u32, (i64, u32))> = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    while let Some(e) = r.next()? {
        let path = normalize(&e.path).map_err(|w| Error::bad("extract", lossy(&e.path), w))?;
        let shown = lossy(&path);
        if path.is_empty() {
            if e.kind == Kind::Dir {
                continue; // "./": the destination itself, left as it is
            }
            return Err(Error::bad("extract", lossy(&e.path), "not a directory"));
        }
        let (dir, name) = split(&path);
        let parent = resolve_dir(dest, dir, true).ctx("open directory", &lossy(dir))?;
        if opts.whiteouts == Whiteouts::Overlay
            && let Some(gone) = name.strip_prefix(b".wh.")
        {
            whiteout(&parent, gone, &shown)?;
            st.files += 1;
            continue;
        }
        let c = cs(name)?;
        let mut mode = e.mode;
        if !opts.chown && e.kind != Kind::Dir {
            mode &= !(libc::S_ISUID | libc::S_ISGID);
        }
        let chown = |what: &str| -> Result<()> {
            if opts.chown {
                let nf = libc::AT_SYMLINK_NOFOLLOW;
                file::fchownat(parent.raw(), &c, e.uid, e.gid, nf).ctx("chown", what)?;
            }
            Ok(())
        };
        match e.kind {
            Kind::Dir => {
                if !make_room(&parent, &c, true).ctx("replace", &shown)? {
                    m::mkdirat(parent.raw(), &c, 0o700).ctx("mkdir", &shown)?;
                }
                chown(&shown)?;
                if !e.xattrs.is_empty() {
                    let fl =
                        libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
                    let d = fd::openat(parent.raw(), &c, fl, 0).ctx("open", &shown)?;
                    set_xattrs(&d, &e.xattrs, &shown)?;
                }
                // Mode and mtime at the end: later entries change the
                // mtime, and a read-only mode would stop them.
                dirs.push((path.clone(), e.mode, e.mtime));
                st.dirs += 1;
                continue;
            }
            Kind::File => {
                make_room(&parent, &c, false).ctx("replace", &shown)?;
                let fl = libc::O_WRONLY
                    | libc::O_CREAT
                    | libc::O_EXCL
                    | libc::O_NOFOLLOW
                    | libc::O_CLOEXEC;
                let f = fd::openat(parent.raw(), &c, fl, 0o600).ctx("create", &shown)?;
                loop {
                    let n = r.read_data(&mut buf)?;
                    if n == 0 {
                        break;
                    }
                    fd::write_all(f.raw(), &buf[..n]).ctx("write", &shown)?;
                    st.bytes += n as u64;
                }
                chown(&shown)?;
                file::fchmod(f.raw(), mode).ctx("chmod", &shown)?;
                set_xattrs(&f, &e.xattrs, &shown)?;
            }
            Kind::Symlink => {
                make_room(&parent, &c, false).ctx("replace", &shown)?;
                m::symlinkat(&cs(&e.link)?, parent.raw(), &c).ctx("symlink", &shown)?;
                chown(&shown)?;
            }
            Kind::Link => {
                let t =
                    normalize(&e.link).map_err(|w| Error::bad("hard link", lossy(&e.link), w))?;
                if t.is_empty() {
                    return Err(Error::bad("hard link", shown, "target is the root"));
                }
                if t == path {
                    st.files += 1;
                    continue; // a link to itself: already there
                }
                let (tdir, tname) = split(&t);
                let tparent = resolve_dir(dest, tdir, false).ctx("hard link", &lossy(&t))?;
                make_room(&parent, &c, false).ctx("replace", &shown)?;
                // flags 0: a symlink target is linked itself, not followed.
                file::linkat(tparent.raw(), &cs(tname)?, parent.raw(), &c, 0)
                    .ctx("hard link", &shown)?;
                st.files += 1;
                continue; // the inode's attributes come with its first name
            }
            Kind::Char | Kind::Block | Kind::Fifo => {
                let ty = match e.kind {
                    Kind::Char => libc::S_IFCHR,
                    Kind::Block => libc::S_IFBLK,
                    _ => libc::S_IFIFO,
                };
                if ty != libc::S_IFIFO && !opts.devices {
                    return Err(Error::bad("extract", shown, "device node refused"));
                }
                make_room(&parent, &c, false).ctx("replace", &shown)?;
                m::mknodat(parent.raw(), &c, ty | 0o600, e.major, e.minor).ctx("mknod", &shown)?;
                chown(&shown)?;
                // Just created by us, so not a symlink for fchmodat to follow.
                m::fchmodat(parent.raw(), &c, mode).ctx("chmod", &shown)?;
            }
        }
        let t = [e.mtime, e.mtime];
        file::utimensat(parent.raw(), &c, t, libc::AT_SYMLINK_NOFOLLOW).ctx("set times", &shown)?;
        st.files += 1;
    }
    for (path, mode, mtime) in &dirs {
        let (dir, name) = split(path);
        let shown = lossy(path);
        // A later entry may have replaced the directory: skip it then.
        let parent = match resolve_dir(dest, dir, false) {
            Ok(p) => p,
            Err(Errno::ENOENT | Errno::ELOOP | Errno::ENOTDIR) => continue,
            Err(e) => return Err(Error::sys("open directory", shown, e)),
        };
        let c = cs(name)?;
        match fd::fstatat(parent.raw(), &c, libc::AT_SYMLINK_NOFOLLOW) {
            Ok(s) if is_dir(&s) => {}
            Ok(_) | Err(Errno::ENOENT) => continue,
            Err(e) => return Err(Error::sys("stat", shown, e)),
        }
        m::fchmodat(parent.raw(), &c, *mode).ctx("chmod", &shown)?;
        let t = [*mtime, *mtime];
        file::utimensat(parent.raw(), &c, t, libc::AT_SYMLINK_NOFOLLOW).ctx("set times", &shown)?;
    }
    Ok(st)
}

/// Overlay whiteouts: ".wh..wh..opq" marks `parent` opaque, ".wh.NAME"
/// replaces NAME with a 0:0 character device.
fn whiteout(parent: &Fd, gone: &[u8], shown: &str) -> Result<()> {
    if gone == b".wh..opq" {
        let fl = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC;
        let d = fd::openat(parent.raw(), c".", fl, 0).ctx("open", shown)?;
        return file::fsetxattr(d.raw(), OPAQUE, b"y").ctx("set opaque", shown);
    }
    if gone.is_empty() || gone == b"." || gone == b".." {
        return Err(Error::bad("extract", shown, "bad whiteout name"));
    }
    let c = cs(gone)?;
    sfs::remove_tree(parent.raw(), &c).ctx("whiteout", shown)?;
    m::mknodat(parent.raw(), &c, libc::S_IFCHR, 0, 0).ctx("whiteout", shown)
}
