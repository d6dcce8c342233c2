//! Extracting a layer: every entry of a tar stream written below one
//! directory, never outside it, whatever the archive says.

use super::limits::{Budget, Limits};
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
    /// Set every extended attribute the archive has. Without it only
    /// `user.*` ones: no file capability or ACL (`cp` out to the host
    /// without -a, where setuid and setgid go too).
    pub xattrs: bool,
    pub whiteouts: Whiteouts,
    /// Size and entry bounds (the free space of `dest`'s filesystem is
    /// checked whatever they are).
    pub limits: Limits,
}

impl Default for Opts {
    fn default() -> Opts {
        Opts {
            devices: false,
            chown: false,
            xattrs: true,
            whiteouts: Whiteouts::Keep,
            limits: Limits::NONE,
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
    /// Where the archive ended (its end-of-archive blocks read).
    pub end: u64,
}

/// The xattr that marks an overlay directory opaque.
pub const OPAQUE: &core::ffi::CStr = c"trusted.overlay.opaque";
/// The same mark where a plain user extracts (trusted.* is root's): what
/// overlayfs reads when mounted with `userxattr`, as a rootless pocket
/// mounts it.
pub const USER_OPAQUE: &core::ffi::CStr = c"user.overlay.opaque";

/// The opaque mark this process writes and reads.
pub fn opaque() -> &'static core::ffi::CStr {
    match crate::sys::proc::geteuid() {
        0 if !crate::spawn::userns::in_users_ns() => OPAQUE,
        _ => USER_OPAQUE,
    }
}

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
fn make_room(parent: i32, name: &CString, keep_dir: bool) -> core::result::Result<bool, Errno> {
    match fd::fstatat(parent, name, libc::AT_SYMLINK_NOFOLLOW) {
        Err(Errno::ENOENT) => Ok(false),
        Err(e) => Err(e),
        Ok(st) if is_dir(&st) && keep_dir => Ok(true),
        Ok(st) if is_dir(&st) => sfs::unlinkat(parent, name, libc::AT_REMOVEDIR).map(|_| false),
        Ok(_) => sfs::unlinkat(parent, name, 0).map(|_| false),
    }
}

/// Set extended attributes through an fd opened for them (fsetxattr does
/// not take O_PATH fds). trusted.overlay.* from the archive is dropped: it
/// would let a layer steer overlayfs (redirect, metacopy) at will. Without
/// `privileged` (Opts::xattrs) only `user.*` ones are set: file
/// capabilities (security.capability) and ACLs a container chose make no
/// root-owned host file privileged or open.
fn set_xattrs(f: &Fd, xattrs: &[(Vec<u8>, Vec<u8>)], path: &str, privileged: bool) -> Result<()> {
    for (k, v) in xattrs {
        if k.starts_with(b"trusted.overlay.") || !(privileged || k.starts_with(b"user.")) {
            continue;
        }
        match file::fsetxattr(f.raw(), &cs(k)?, v) {
            Ok(()) | Err(Errno::EOPNOTSUPP) => {}
            Err(e) => return Err(Error::sys("setxattr", path, e)),
        }
    }
    Ok(())
}

/// Reads ahead in big blocks: the tar reader asks for one 512-byte header
/// at a time, which on a file or pipe would be a syscall each.
struct Buffered<'a> {
    src: &'a mut dyn Source,
    buf: Vec<u8>,
    lo: usize,
    hi: usize,
}

impl Source for Buffered<'_> {
    fn read(&mut self, out: &mut [u8]) -> core::result::Result<usize, Errno> {
        if self.lo == self.hi {
            if out.len() >= self.buf.len() {
                return self.src.read(out);
            }
            let n = self.src.read(&mut self.buf)?;
            (self.lo, self.hi) = (0, n.min(self.buf.len()));
        }
        let n = out.len().min(self.hi - self.lo);
        out[..n].copy_from_slice(&self.buf[self.lo..self.lo + n]);
        self.lo += n;
        Ok(n)
    }
    fn skip(&mut self, n: u64) -> core::result::Result<(), Errno> {
        let k = n.min((self.hi - self.lo) as u64);
        self.lo += k as usize;
        if n > k { self.src.skip(n - k) } else { Ok(()) }
    }
}

/// How many directory levels stay open at most; a parent deeper than
/// this is opened for its entry alone, so a hostile archive of deep paths
/// cannot run the process out of fds.
const MAX_OPEN: usize = 32;

/// The directories from `dest` down to the last entry's parent, kept
/// open: archives list a directory's entries together, so most entries
/// need no lookup at all.
///
/// Why the cached fds stay right: `get` first drops every cached level
/// that is not an ancestor of the new parent, and an entry only ever
/// creates or removes a child of its parent, never the parent or one of
/// its ancestors. So no directory held here is replaced, chowned or
/// chmodded behind its fd. New levels are opened as `resolve_dir` does,
/// one component at a time with openat2(RESOLVE_NO_SYMLINKS |
/// RESOLVE_BENEATH), so a symlink made by an earlier entry is refused,
/// never followed.
struct Dirs<'a> {
    dest: &'a Fd,
    /// The cached levels' path; each level knows where its name ends.
    path: Vec<u8>,
    open: Vec<Level>,
    /// The parent when it lies deeper than MAX_OPEN.
    deep: Option<Level>,
    root: Option<Made>,
}

struct Level {
    end: usize,
    fd: Fd,
    made: Option<Made>,
}

/// What a new file in a directory turns out like, learned by looking at
/// one (fstat) after creating it. The owner depends only on our
/// credentials and on the directory (setgid bit, gid, mount options), the
/// mode on our umask or the directory's default ACL: none of these change
/// while the level is cached. So later files skip a chown to that owner
/// and an fchmod to the mode they were created with.
#[derive(Clone, Copy)]
struct Made {
    owner: (u32, u32),
    /// Permission bits asked for so far, and those of them taken away.
    asked: u32,
    masked: u32,
    /// A bit came that was not asked for (a filesystem with fixed modes):
    /// look at every file.
    odd: bool,
}

impl<'a> Dirs<'a> {
    fn new(dest: &'a Fd) -> Dirs<'a> {
        Dirs {
            dest,
            path: Vec::new(),
            open: Vec::new(),
            deep: None,
            root: None,
        }
    }

    fn top(&self) -> i32 {
        match (&self.deep, self.open.last()) {
            (Some(d), _) | (None, Some(d)) => d.fd.raw(),
            (None, None) => self.dest.raw(),
        }
    }

    /// What new files are like in the directory of the last `get`.
    fn made(&mut self) -> &mut Option<Made> {
        match (&mut self.deep, self.open.last_mut()) {
            (Some(d), _) | (None, Some(d)) => &mut d.made,
            (None, None) => &mut self.root,
        }
    }

    /// The directory `dir` (normalized, "" for `dest`), made if missing
    /// when `create`.
    fn get(&mut self, dir: &[u8], create: bool) -> core::result::Result<i32, Errno> {
        self.deep = None;
        let keep = self
            .open
            .iter()
            .take_while(|l| {
                let p = &self.path[..l.end];
                dir.starts_with(p) && matches!(dir.get(p.len()), None | Some(b'/'))
            })
            .count();
        self.open.truncate(keep);
        self.path.truncate(self.open.last().map_or(0, |l| l.end));
        let rest = &dir[self.path.len()..];
        for comp in rest.split(|&c| c == b'/').filter(|c| !c.is_empty()) {
            let fd = step(self.top(), comp, create)?;
            if self.deep.is_none() && self.open.len() < MAX_OPEN {
                if !self.path.is_empty() {
                    self.path.push(b'/');
                }
                self.path.extend_from_slice(comp);
                let end = self.path.len();
                self.open.push(Level {
                    end,
                    fd,
                    made: None,
                });
            } else {
                self.deep = Some(Level {
                    end: 0,
                    fd,
                    made: None,
                });
            }
        }
        Ok(self.top())
    }
}

/// One level down from `cur`, refusing symlinks (see `resolve_dir`).
fn step(cur: i32, comp: &[u8], create: bool) -> core::result::Result<Fd, Errno> {
    if comp == b".." {
        return Err(Errno::EXDEV);
    }
    let c = cstr::cstring(comp).ok_or(Errno::EINVAL)?;
    let flags = libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW;
    match fd::openat2(cur, &c, flags, RESOLVE) {
        Err(Errno::ENOENT) if create => {
            match m::mkdirat(cur, &c, 0o755) {
                Ok(()) | Err(Errno::EEXIST) => {}
                Err(e) => return Err(e),
            }
            fd::openat2(cur, &c, flags, RESOLVE)
        }
        r => r,
    }
}

const RESOLVE: u64 = (linux_raw_sys::general::RESOLVE_NO_SYMLINKS
    | linux_raw_sys::general::RESOLVE_NO_MAGICLINKS
    | linux_raw_sys::general::RESOLVE_BENEATH) as u64;

/// Run `make` (a create with O_EXCL semantics); if the name is taken,
/// clear it with `make_room` and try once more. Fresh trees, the common
/// case, pay one syscall instead of a stat first.
fn create<T>(
    parent: i32,
    name: &CString,
    mut make: impl FnMut() -> core::result::Result<T, Errno>,
) -> core::result::Result<T, Errno> {
    match make() {
        Err(Errno::EEXIST) => {
            make_room(parent, name, false)?;
            make()
        }
        r => r,
    }
}

/// Extract the archive in `src` below the directory `dest` (an O_PATH fd
/// is enough). Stops at the first error, leaving a partial tree for the
/// caller to remove; nothing is ever written outside `dest`.
pub fn extract(src: &mut dyn Source, dest: &Fd, opts: &Opts) -> Result<Stats> {
    extract_recorded(src, dest, opts, None)
}

/// `extract`, the archive recorded into `split` as it is read
/// (image::split); `Stats::end` says where the archive ended.
pub fn extract_recorded(
    src: &mut dyn Source,
    dest: &Fd,
    opts: &Opts,
    record: Option<&mut super::split::Split>,
) -> Result<Stats> {
    let mut src = Buffered {
        src,
        buf: vec![0u8; 128 * 1024],
        lo: 0,
        hi: 0,
    };
    let mut r = Reader::new(&mut src);
    if let Some(s) = record {
        r.record(s);
    }
    let mut st = Stats::default();
    let mut dirs: Vec<(Vec<u8>, u32, (i64, u32))> = Vec::new();
    let mut buf = vec![0u8; 128 * 1024];
    let mut cache = Dirs::new(dest);
    let mut budget = Budget::new(opts.limits, dest);
    while let Some(e) = r.next()? {
        budget.entry(&e.path)?;
        let path = normalize(&e.path).map_err(|w| Error::bad("extract", lossy(&e.path), w))?;
        // Named in errors only: built when one happens.
        let p = &path;
        let at = |op: &'static str| move |e: Errno| Error::sys(op, lossy(p), e);
        if path.is_empty() {
            if e.kind == Kind::Dir {
                continue; // "./": the destination itself, left as it is
            }
            return Err(Error::bad("extract", lossy(&e.path), "not a directory"));
        }
        let (dir, name) = split(&path);
        let parent = cache
            .get(dir, true)
            .map_err(|e| Error::sys("open directory", lossy(dir), e))?;
        if opts.whiteouts == Whiteouts::Overlay
            && let Some(gone) = name.strip_prefix(b".wh.")
        {
            whiteout(parent, gone, &lossy(&path))?;
            st.files += 1;
            continue;
        }
        let c = cs(name)?;
        let mut mode = e.mode;
        if !opts.chown && e.kind != Kind::Dir {
            mode &= !(libc::S_ISUID | libc::S_ISGID);
        }
        let owner = cache.made().map(|m| m.owner);
        // `fresh`: made just now, so owned by `owner` if that is known.
        let chown = |fresh: bool| -> Result<()> {
            if opts.chown && !(fresh && owner == Some((e.uid, e.gid))) {
                let nf = libc::AT_SYMLINK_NOFOLLOW;
                file::fchownat(parent, &c, e.uid, e.gid, nf).map_err(at("chown"))?;
            }
            Ok(())
        };
        match e.kind {
            Kind::Dir => {
                let fresh = match m::mkdirat(parent, &c, 0o700) {
                    // A directory already there stays, with its entries.
                    Err(Errno::EEXIST) => {
                        let kept = make_room(parent, &c, true).map_err(at("replace"))?;
                        if !kept {
                            m::mkdirat(parent, &c, 0o700).map_err(at("mkdir"))?;
                        }
                        !kept
                    }
                    r => r.map(|_| true).map_err(at("mkdir"))?,
                };
                chown(fresh)?;
                if !e.xattrs.is_empty() {
                    let fl =
                        libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
                    let d = fd::openat(parent, &c, fl, 0).map_err(at("open"))?;
                    set_xattrs(&d, &e.xattrs, &lossy(&path), opts.xattrs)?;
                }
                // Mode and mtime at the end: later entries change the
                // mtime, and a read-only mode would stop them.
                dirs.push((path.clone(), e.mode, e.mtime));
                st.dirs += 1;
                continue;
            }
            Kind::File => {
                // Before the file exists: refused, it takes no space.
                budget.file(e.size, &path)?;
                let fl = libc::O_WRONLY
                    | libc::O_CREAT
                    | libc::O_EXCL
                    | libc::O_NOFOLLOW
                    | libc::O_CLOEXEC;
                // Its final permission bits from the start (the umask may
                // take some away): they grant nothing the finished file
                // will not. Set-id and sticky bits only after the chown,
                // which would clear them.
                let asked = mode & 0o777;
                let f = create(parent, &c, || fd::openat(parent, &c, fl, asked))
                    .map_err(at("create"))?;
                loop {
                    let n = r.read_data(&mut buf)?;
                    if n == 0 {
                        break;
                    }
                    fd::write_all(f.raw(), &buf[..n]).map_err(at("write"))?;
                    st.bytes += n as u64;
                }
                // Through the fd: no second lookup of the name.
                let me = (f.raw(), c"", libc::AT_EMPTY_PATH);
                let m = match *cache.made() {
                    Some(m) if !m.odd && asked & !m.asked == 0 => m,
                    known => {
                        let s = fd::fstatat(me.0, me.1, me.2).map_err(at("stat"))?;
                        let got = s.st_mode & 0o7777;
                        let mut m = known.unwrap_or(Made {
                            owner: (s.st_uid, s.st_gid),
                            asked: 0,
                            masked: 0,
                            odd: false,
                        });
                        m.asked |= asked;
                        m.masked |= asked & !got;
                        m.odd |= got & !asked != 0;
                        *cache.made() = Some(m);
                        m
                    }
                };
                if opts.chown && m.owner != (e.uid, e.gid) {
                    file::fchownat(me.0, me.1, e.uid, e.gid, me.2).map_err(at("chown"))?;
                }
                if m.odd || mode != asked || asked & m.masked != 0 {
                    file::fchmod(f.raw(), mode).map_err(at("chmod"))?;
                }
                set_xattrs(&f, &e.xattrs, &lossy(&path), opts.xattrs)?;
                let t = [e.mtime, e.mtime];
                match file::utimensat(me.0, me.1, t, me.2) {
                    // Kernels before 5.8 take no AT_EMPTY_PATH here.
                    Err(Errno::EINVAL) => {
                        let nf = libc::AT_SYMLINK_NOFOLLOW;
                        file::utimensat(parent, &c, t, nf).map_err(at("set times"))?
                    }
                    r => r.map_err(at("set times"))?,
                }
                st.files += 1;
                continue;
            }
            Kind::Symlink => {
                let t = cs(&e.link)?;
                create(parent, &c, || m::symlinkat(&t, parent, &c)).map_err(at("symlink"))?;
                chown(true)?;
            }
            Kind::Link => {
                let t =
                    normalize(&e.link).map_err(|w| Error::bad("hard link", lossy(&e.link), w))?;
                if t.is_empty() {
                    return Err(Error::bad("hard link", lossy(&path), "target is the root"));
                }
                if t == path {
                    st.files += 1;
                    continue; // a link to itself: already there
                }
                let (tdir, tname) = split(&t);
                let tparent = resolve_dir(dest, tdir, false).ctx("hard link", &lossy(&t))?;
                let tc = cs(tname)?;
                // flags 0: a symlink target is linked itself, not followed.
                create(parent, &c, || {
                    file::linkat(tparent.raw(), &tc, parent, &c, 0)
                })
                .map_err(at("hard link"))?;
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
                    return Err(Error::bad("extract", lossy(&path), "device node refused"));
                }
                // Made with its final mode (umask 0 for the call) rather
                // than chmod'ed after: fchmodat follows a symlink, and in a
                // running container's tree (`cp`) the node may have been
                // swapped for one since mknod. (Single-threaded: the
                // umask is ours alone for this moment.)
                let old = crate::sys::proc::umask(0);
                let made = create(parent, &c, || {
                    m::mknodat(parent, &c, ty | mode, e.major, e.minor)
                });
                crate::sys::proc::umask(old);
                made.map_err(at("mknod"))?;
                chown(true)?;
            }
        }
        let t = [e.mtime, e.mtime];
        file::utimensat(parent, &c, t, libc::AT_SYMLINK_NOFOLLOW).map_err(at("set times"))?;
        st.files += 1;
    }
    st.end = r.offset();
    drop(cache);
    let mut cache = Dirs::new(dest);
    for (path, mode, mtime) in &dirs {
        let (dir, name) = split(path);
        let shown = || lossy(path);
        // A later entry may have replaced the directory: skip it then.
        let parent = match cache.get(dir, false) {
            Ok(p) => p,
            Err(Errno::ENOENT | Errno::ELOOP | Errno::ENOTDIR) => continue,
            Err(e) => return Err(Error::sys("open directory", shown(), e)),
        };
        let c = cs(name)?;
        // Opened without following a link, then changed through the fd:
        // a directory swapped for a symlink since is skipped, never
        // followed out of `dest`.
        let fl = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
        let d = match fd::openat(parent, &c, fl, 0) {
            Ok(d) => d,
            Err(Errno::ENOENT | Errno::ELOOP | Errno::ENOTDIR) => continue,
            Err(e) => return Err(Error::sys("open directory", shown(), e)),
        };
        file::fchmod(d.raw(), *mode).ctx("chmod", &shown())?;
        let t = [*mtime, *mtime];
        file::utimensat(parent, &c, t, libc::AT_SYMLINK_NOFOLLOW).ctx("set times", &shown())?;
    }
    Ok(st)
}

/// Overlay whiteouts: ".wh..wh..opq" marks `parent` opaque, ".wh.NAME"
/// replaces NAME with a 0:0 character device.
fn whiteout(parent: i32, gone: &[u8], shown: &str) -> Result<()> {
    if gone == b".wh..opq" {
        let fl = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC;
        let d = fd::openat(parent, c".", fl, 0).ctx("open", shown)?;
        return file::fsetxattr(d.raw(), opaque(), b"y").ctx("set opaque", shown);
    }
    if gone.starts_with(b".wh.") {
        // aufs metadata (.wh..wh.plnk, .wh..wh.aufs): not a whiteout of
        // anything, skipped as docker skips it.
        return Ok(());
    }
    if gone.is_empty() || gone == b"." || gone == b".." {
        return Err(Error::bad("extract", shown, "bad whiteout name"));
    }
    let c = cs(gone)?;
    sfs::remove_tree(parent, &c).ctx("whiteout", shown)?;
    m::mknodat(parent, &c, libc::S_IFCHR, 0, 0).ctx("whiteout", shown)
}

#[cfg(test)]
#[path = "extract_tests.rs"]
mod tests;
