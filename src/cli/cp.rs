//! `pocket cp`: files between a container and the host, as `docker cp`.
//!
//! Every path inside the container is looked up below the container's own
//! root only: openat2(RESOLVE_IN_ROOT), so "/", ".." and every symlink on
//! the way (`/evil -> /`, `-> ../../../etc`) stop at that root and never
//! reach the host's. The copy itself is a tar stream through a pipe: one
//! process writes the source (tar_write), the other extracts it
//! (image::extract, which never writes outside its destination and never
//! follows a symlink it meets there). When the destination is a container,
//! the extracting process is a child chrooted into the container's root
//! first: a running container that swaps a directory for a symlink
//! between two of its syscalls still only reaches its own files.
//!
//! A file or a new directory is written under a temporary name beside
//! its destination and renamed into place once complete: a failed copy
//! leaves nothing behind (merging into an existing directory can leave
//! part of what was copied, as docker's does).

use super::Ctx;
use super::args::text;
use super::args::{Flag, flag};
use super::image_out::{Output, container, rootfs_view};
use crate::error::{Context, Error, Result, Why};
use crate::image::extract::{self, Whiteouts};
use crate::image::limits::Limits;
use crate::image::tar::{Entry, Kind, Reader};
use crate::image::tar_write::{self, Sink, Writer, mode_type};
use crate::spec::{Overlay, Spec};
use crate::sys::fd::{self, Fd};
use crate::sys::lock::Lock;
use crate::sys::{Errno, cstr, file, fs, mount as m, proc, tty};
use alloc::borrow::Cow;
use alloc::ffi::CString;
use alloc::format;
use alloc::vec;
use alloc::vec::Vec;
use core::ffi::CStr;
use linux_raw_sys::general as k;

const FLAGS: &[Flag] = &[
    flag(b'a', "archive", false),
    flag(b'L', "follow-link", false),
    flag(b'q', "quiet", false),
    flag(0, "help", false),
];

struct Opts {
    archive: bool,
    follow: bool,
    quiet: bool,
}

pub fn main(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("cp", FLAGS, argv)? else {
        return Ok(0);
    };
    let [src, dst] = p.rest[..] else {
        return Err(Error::bad(
            "cp",
            "",
            "needs exactly 2 arguments: see 'pocket cp --help'",
        ));
    };
    let o = Opts {
        archive: p.on(FLAGS, "archive"),
        follow: p.on(FLAGS, "follow-link"),
        quiet: p.on(FLAGS, "quiet"),
    };
    let (copied, to) = match (split(src), split(dst)) {
        (Some(_), Some(_)) => {
            let why = "copying between containers is not supported";
            return Err(Error::bad("cp", "", why));
        }
        (None, None) => {
            let why = "must specify at least one container source";
            return Err(Error::bad("cp", "", why));
        }
        (Some((q, path)), None) => {
            if dst == b"-" && tty::isatty(1) {
                let why = "cowardly refusing to write an archive to a terminal: redirect stdout";
                return Err(Error::bad("cp", "", why));
            }
            (out_of(ctx, q, path, dst, &o).map_err(failed)?, text(dst))
        }
        (None, Some((q, path))) => {
            if src == b"-" && tty::isatty(0) {
                let why = "cowardly refusing to read an archive from a terminal: redirect stdin";
                return Err(Error::bad("cp", "", why));
            }
            (into(ctx, src, q, path, &o).map_err(failed)?, text(dst))
        }
    };
    // As docker: a progress line for people, never in scripts or pipes.
    if !o.quiet && src != b"-" && dst != b"-" && tty::isatty(2) {
        crate::errln!(
            "Successfully copied {} to {}",
            crate::rt::units::human_size(copied, 4),
            to
        );
    }
    Ok(0)
}

/// A failed copy: one line `pocket: cp: ...`, exit 1 as docker's (usage
/// errors, found before, keep 125).
fn failed(mut e: Error) -> Error {
    if e.op == "cp" {
        if !e.arg.is_empty() {
            e.op = Cow::Borrowed("cp:");
        }
    } else if !e.op.starts_with("cp: ") {
        e.op = Cow::Owned(format!("cp: {}", e.op));
    }
    e.with_code(1)
}

/// docker's rule: `NAME:PATH` is a path in a container, unless the
/// argument is an absolute path or starts with '.' (`./a:b` is a host
/// file). No ':' at all: a host path.
fn split(a: &[u8]) -> Option<(&[u8], &[u8])> {
    if a.first() == Some(&b'/') || a.first() == Some(&b'.') {
        return None;
    }
    let i = a.iter().position(|&c| c == b':')?;
    Some((&a[..i], &a[i + 1..]))
}

fn cs(p: &[u8]) -> Result<CString> {
    cstr::cstring(p).ok_or_else(|| Error::bad("path", text(p), "contains a NUL byte"))
}

const IN_ROOT: u64 = (k::RESOLVE_IN_ROOT | k::RESOLVE_NO_MAGICLINKS) as u64;

/// Where paths are looked up: below a container's root (RESOLVE_IN_ROOT,
/// relative paths too: docker's container paths start at its "/"), or on
/// the host, from the working directory, as the caller's own shell would.
struct Tree {
    root: Option<Fd>,
}

impl Tree {
    fn dirfd(&self) -> i32 {
        self.root.as_ref().map_or(libc::AT_FDCWD, |f| f.raw())
    }
    fn open(&self, p: &CStr, flags: i32) -> core::result::Result<Fd, Errno> {
        let how = if self.root.is_some() { IN_ROOT } else { 0 };
        fd::openat2(self.dirfd(), p, flags, how)
    }
    /// The directory `p`, as an O_PATH fd.
    fn dir(&self, p: &[u8]) -> Result<Fd> {
        self.open(&cs(p)?, libc::O_PATH | libc::O_DIRECTORY)
            .ctx("open", &text(p))
    }
}

fn stat(f: &Fd) -> core::result::Result<k::statx, Errno> {
    let fl = libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW;
    file::statx(f.raw(), c"", fl, k::STATX_BASIC_STATS)
}

/// A path as given, and what it says: its last component (the name a
/// copy gets), whether it asks for a directory's contents (`dir/.`, or
/// the root) and whether it must be a directory (a trailing '/').
struct Path<'a> {
    look: &'a [u8],
    name: &'a [u8],
    contents: bool,
    dir: bool,
}

impl Path<'_> {
    fn new(p: &[u8], in_container: bool) -> Path<'_> {
        let look: &[u8] = if p.is_empty() && in_container {
            b"/"
        } else {
            p
        };
        let trimmed = match look.iter().rposition(|&c| c != b'/') {
            Some(i) => &look[..=i],
            None => &look[..look.len().min(1)],
        };
        let name = match trimmed.iter().rposition(|&c| c == b'/') {
            Some(i) => &trimmed[i + 1..],
            None if trimmed == b"/" => &b""[..],
            None => trimmed,
        };
        let contents = matches!(name, b"" | b"." | b"..");
        Path {
            look,
            name,
            contents,
            dir: contents || look.ends_with(b"/"),
        }
    }
}

/// (parent, last component) of a path, trailing slashes ignored; the
/// parent of a bare name is ".".
fn parent_of(p: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let end = p.iter().rposition(|&c| c != b'/').map_or(0, |i| i + 1);
    let p = &p[..end];
    match p.iter().rposition(|&c| c == b'/') {
        Some(0) => (b"/".to_vec(), p[1..].to_vec()),
        Some(i) => (p[..i].to_vec(), p[i + 1..].to_vec()),
        None => (b".".to_vec(), p.to_vec()),
    }
}

/// What is copied: a directory (an O_PATH fd: tar_write reads below it),
/// or one entry: its stat and its data (a regular file open for reading)
/// or target (a symlink, copied as a link).
enum Src {
    Dir(Fd, k::statx),
    One(k::statx, Option<Fd>, Vec<u8>),
}

/// Open the source `p` in `tree`; `missing` words ENOENT.
fn source(tree: &Tree, p: &Path, follow: bool, missing: impl Fn() -> Error) -> Result<Src> {
    let shown = text(p.look);
    let c = cs(p.look)?;
    // A trailing '/' follows a symlink anyway, as everywhere in Linux.
    let nf = if follow { 0 } else { libc::O_NOFOLLOW };
    let h = match tree.open(&c, libc::O_PATH | nf) {
        Err(Errno::ENOENT) => return Err(missing()),
        r => r.ctx("open", &shown)?,
    };
    let st = stat(&h).ctx("stat", &shown)?;
    match mode_type(&st) {
        libc::S_IFDIR => return Ok(Src::Dir(h, st)),
        _ if p.dir => return Err(Error::sys("open", shown, Errno::ENOTDIR)),
        libc::S_IFREG => {}
        libc::S_IFLNK => {
            let t = fs::readlinkat(h.raw(), c"").ctx("readlink", &shown)?;
            return Ok(Src::One(st, None, t));
        }
        libc::S_IFIFO => return Ok(Src::One(st, None, Vec::new())),
        _ => {
            let why = "is a device or a socket: not copied";
            return Err(Error::bad("cp", shown, why));
        }
    }
    // Opened for reading is what was looked at, a regular file: not a
    // name, which a running container may meanwhile point at a device.
    let fl = libc::O_RDONLY | libc::O_NOCTTY | libc::O_NONBLOCK;
    let f = fd::reopen(&h, fl).ctx("open", &shown)?;
    Ok(Src::One(st, Some(f), Vec::new()))
}

fn entry(st: &k::statx, path: Vec<u8>, kind: Kind) -> Entry {
    crate::image::tar_write::entry_of(st, path, kind)
}

/// The source as a tar archive: a directory's tree (names relative to
/// it), or its one entry named `name`. Returns the archive's size.
fn send(src: &Src, name: &[u8], sink: &mut dyn Sink) -> Result<u64> {
    let (st, f, link) = match src {
        Src::Dir(d, _) => return tar_write::write_tree(d, sink, &Default::default()),
        Src::One(st, f, link) => (st, f, link),
    };
    let kind = match mode_type(st) {
        libc::S_IFREG => Kind::File,
        libc::S_IFLNK => Kind::Symlink,
        _ => Kind::Fifo,
    };
    let mut e = entry(st, name.to_vec(), kind);
    e.link = link.clone();
    if f.is_some() {
        e.size = st.stx_size;
    }
    let mut w = Writer::new(sink);
    w.append(&e)?;
    if let Some(f) = f {
        // Exactly the size the header promised: a file that shrank while
        // read is made up with zeros, one that grew is cut.
        let mut buf = vec![0u8; 64 * 1024];
        let mut left = e.size;
        let mut eof = false;
        while left > 0 {
            let k = (buf.len() as u64).min(left) as usize;
            let mut n = 0;
            if !eof {
                n = fd::read(f.raw(), &mut buf[..k]).ctx("read", &text(name))?;
            }
            if n == 0 {
                eof = true;
                buf[..k].fill(0);
                n = k;
            }
            w.data(&buf[..n])?;
            left -= n as u64;
        }
    }
    w.finish()
}

/// Where the copy goes, before looking at the source: an existing
/// directory, or a name in one (`exists`: a file is there).
enum Dest {
    Dir(Fd),
    Name {
        parent: Fd,
        name: Vec<u8>,
        exists: bool,
    },
}

/// Look `p` up in `tree`. A symlink at the end is followed as docker
/// does (a copy onto `/etc/localtime` replaces the zone file it names),
/// each step again inside the tree; a missing name needs its parent.
fn dest(tree: &Tree, p: &Path) -> Result<Dest> {
    let mut p = p.look.to_vec();
    for _ in 0..40 {
        let shown = text(&p);
        let (exists, link) = match tree.open(&cs(&p)?, libc::O_PATH | libc::O_NOFOLLOW) {
            Ok(h) => {
                let st = stat(&h).ctx("stat", &shown)?;
                match mode_type(&st) {
                    libc::S_IFDIR => return Ok(Dest::Dir(h)),
                    libc::S_IFLNK => (
                        true,
                        Some(fs::readlinkat(h.raw(), c"").ctx("readlink", &shown)?),
                    ),
                    _ => (true, None),
                }
            }
            Err(Errno::ENOENT) => (false, None),
            Err(e) => return Err(Error::sys("open", shown, e)),
        };
        let (dir, name) = parent_of(&p);
        match link {
            Some(t) if t.first() == Some(&b'/') => p = t,
            Some(t) => p = [&dir[..], b"/", &t[..]].concat(),
            None => {
                let parent = tree.dir(&dir)?;
                return Ok(Dest::Name {
                    parent,
                    name,
                    exists,
                });
            }
        }
    }
    Err(Error::sys("open", text(&p), Errno::ELOOP))
}

/// Where the copy lands: a new name in a directory (written under a
/// temporary name first), or an existing directory it is merged into
/// (`top`: the directory's parent and name, to give it the source's
/// mode and times; none for `dir/.`).
enum Land {
    New { parent: Fd, name: Vec<u8> },
    Merge { dir: Fd, top: Option<(Fd, CString)> },
}

/// docker's table: a file onto a file replaces it, into a directory goes
/// in it under its own name; a directory onto a missing name becomes that
/// name, into a directory goes in it (`dir/.`: its contents do).
fn plan(d: Dest, src: &Src, sp: &Path, dp: &Path) -> Result<Land> {
    let is_dir = matches!(src, Src::Dir(..));
    let shown = text(dp.look);
    match d {
        Dest::Dir(dir) if is_dir && sp.contents => Ok(Land::Merge { dir, top: None }),
        Dest::Dir(dir) => {
            let name = sp.name.to_vec();
            let c = cs(&name)?;
            let there = fd::fstatat(dir.raw(), &c, libc::AT_SYMLINK_NOFOLLOW);
            let there_dir = |st: &libc::stat| st.st_mode & libc::S_IFMT == libc::S_IFDIR;
            match there {
                Err(Errno::ENOENT) => Ok(Land::New { parent: dir, name }),
                Ok(st) if there_dir(&st) && is_dir => {
                    let fl = libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
                    let sub = fd::openat(dir.raw(), &c, fl, 0).ctx("open", &text(&name))?;
                    let top = Some((dir, c));
                    Ok(Land::Merge { dir: sub, top })
                }
                Ok(st) if there_dir(&st) => Err(Error::bad(
                    "cp",
                    format!("{shown}/{}", text(&name)),
                    "cannot overwrite a directory with a non-directory",
                )),
                Ok(_) if is_dir => Err(Error::bad(
                    "cp",
                    format!("{shown}/{}", text(&name)),
                    "cannot overwrite a non-directory with a directory",
                )),
                Ok(_) => Ok(Land::New { parent: dir, name }),
                Err(e) => Err(Error::sys("stat", text(&name), e)),
            }
        }
        Dest::Name { exists: true, .. } if is_dir => {
            Err(Error::bad("cp", shown, "cannot copy a directory to a file"))
        }
        Dest::Name { exists: false, .. } if dp.dir && !is_dir => Err(Error::bad(
            "cp",
            shown,
            "no such directory (the destination directory must exist)",
        )),
        Dest::Name { parent, name, .. } => Ok(Land::New { parent, name }),
    }
}

/// Copy `src` to where `land` says. `jail`: the destination is in the
/// container with this root (the extracting process is chrooted there).
/// Returns the bytes copied.
fn put(land: Land, src: &Src, jail: Option<&Fd>, o: &Opts) -> Result<u64> {
    let x = extract::Opts {
        devices: false,
        chown: o.archive,
        // Into a container all of them (it could set them itself, and
        // docker keeps them); out to the host only with -a.
        xattrs: o.archive || jail.is_some(),
        whiteouts: Whiteouts::Keep,
        limits: Limits::NONE,
    };
    let (parent, name) = match land {
        Land::Merge { dir, top } => {
            let n = transfer(
                |w| send(src, b"", w),
                |r| extract::extract(r, &dir, &x).map(|s| s.bytes),
                jail,
            )?;
            if let (Some((p, c)), Src::Dir(_, st)) = (top, src) {
                set_top(&p, &c, st, o.archive)?;
            }
            return Ok(n);
        }
        Land::New { parent, name } => (parent, name),
    };
    let mut rnd = [0u8; 6];
    let _ = proc::getrandom(&mut rnd);
    let tmp = format!(".pocket-cp-{}", crate::rt::hex(&rnd));
    let tc = cs(tmp.as_bytes())?;
    let copied = match src {
        Src::One(..) => transfer(
            |w| send(src, tmp.as_bytes(), w),
            |r| extract::extract(r, &parent, &x).map(|s| s.bytes),
            jail,
        ),
        Src::Dir(_, st) => m::mkdirat(parent.raw(), &tc, 0o700)
            .ctx("mkdir", &text(&name))
            .and_then(|_| {
                let fl = libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
                let d = fd::openat(parent.raw(), &tc, fl, 0).ctx("open", &text(&name))?;
                let n = transfer(
                    |w| send(src, b"", w),
                    |r| extract::extract(r, &d, &x).map(|s| s.bytes),
                    jail,
                )?;
                set_top(&parent, &tc, st, o.archive)?;
                Ok(n)
            }),
    };
    // rename(2) never follows a symlink at either name.
    let done = copied.and_then(|n| {
        let nc = cs(&name)?;
        let r = fs::renameat(parent.raw(), &tc, parent.raw(), &nc);
        r.ctx("rename into place", &text(&name)).map(|_| n)
    });
    if done.is_err() {
        let _ = fs::remove_tree(parent.raw(), &tc);
    }
    done
}

/// A copied directory's own owner (-a), mode and times, as extract gives
/// the directories below it: through an fd opened without following.
fn set_top(parent: &Fd, name: &CStr, st: &k::statx, archive: bool) -> Result<()> {
    let fl = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    let d = fd::openat(parent.raw(), name, fl, 0).ctx("open", "copied directory")?;
    if archive {
        let (uid, gid) = (st.stx_uid, st.stx_gid);
        file::fchownat(d.raw(), c"", uid, gid, libc::AT_EMPTY_PATH)
            .ctx("chown", "copied directory")?;
    }
    file::fchmod(d.raw(), st.stx_mode as u32 & 0o7777).ctx("chmod", "copied directory")?;
    let t = (st.stx_mtime.tv_sec, st.stx_mtime.tv_nsec);
    let nf = libc::AT_SYMLINK_NOFOLLOW;
    file::utimensat(parent.raw(), name, [t, t], nf).ctx("set times", "copied directory")
}

/// A forked process running one side of a copy.
struct Child {
    pid: i32,
    err: Fd,
}

/// Fork a child that runs `f` (chrooted into `jail` first, if given) and
/// exits. Its error comes back as text on a pipe; EPIPE (the other side
/// gave up, and its error is the one to show) as exit status 2.
fn spawn(jail: Option<&Fd>, f: impl FnOnce() -> Result<u64>) -> Result<Child> {
    let (er, ew) = fd::pipe().ctx("pipe", "cp")?;
    let pid = proc::fork().ctx("fork", "cp")?;
    if pid == 0 {
        drop(er);
        let res = match jail {
            Some(root) => enter(root).and_then(|_| f()),
            None => f(),
        };
        let code = match res {
            Ok(_) => 0,
            Err(e) if e.why == Why::Errno(Errno::EPIPE) => 2,
            Err(e) => {
                let _ = fd::write_all(ew.raw(), format!("{e}").as_bytes());
                1
            }
        };
        proc::exit(code);
    }
    Ok(Child { pid, err: er })
}

/// chroot(2) into a container's root: from here on, an absolute symlink
/// or a ".." resolves inside it, whatever the path.
fn enter(root: &Fd) -> Result<()> {
    proc::fchdir(root.raw()).ctx("chdir", "container root")?;
    m::chroot(c".").ctx("chroot", "container root")
}

impl Child {
    fn wait(self) -> Result<()> {
        let status = proc::wait(self.pid, 0).ctx("wait", "cp")?.1;
        let why = fs::read_fd(&self.err).unwrap_or_default();
        if !why.is_empty() {
            return Err(Error::text(text(&why)));
        }
        match proc::exit_code(status) {
            0 => Ok(()),
            2 => Err(Error::sys("write", "archive", Errno::EPIPE)),
            _ => Err(Error::bad("cp", "", "the copying process failed")),
        }
    }
}

/// `send` writes a tar stream that `recv` reads, through a pipe; one of
/// them runs in a child: the receiver if `jail` (it writes into that
/// container), else the sender. The root cause wins: a sender's own
/// failure, else the receiver's, else a broken pipe. Returns what the
/// parent's side counted.
fn transfer(
    send: impl FnOnce(&mut Fd) -> Result<u64>,
    recv: impl FnOnce(&mut Fd) -> Result<u64>,
    jail: Option<&Fd>,
) -> Result<u64> {
    let (r, w) = fd::pipe().ctx("pipe", "cp")?;
    // Each closure owns its end: the parent's copy goes with the closure
    // it does not run, so EOF and EPIPE arrive when they should.
    let (sent, got) = match jail {
        Some(_) => {
            let mut r = r;
            let child = spawn(jail, move || recv(&mut r))?;
            let mut w = w;
            let s = send(&mut w);
            drop(w);
            (s, child.wait().map(|_| 0))
        }
        None => {
            let mut w = w;
            let child = spawn(None, move || send(&mut w))?;
            let mut r = r;
            let g = recv(&mut r);
            drop(r);
            (child.wait().map(|_| 0), g)
        }
    };
    let epipe = |e: &Error| e.why == Why::Errno(Errno::EPIPE);
    match (sent, got) {
        (Err(e), _) if !epipe(&e) => Err(e),
        (_, Err(e)) | (Err(e), _) => Err(e),
        (Ok(a), Ok(b)) => Ok(a.max(b)),
    }
}

/// `-` as DEST_PATH: the source as a tar archive on stdout, named as
/// docker names it (`hostname`, `etc/`, `etc/hostname`; `dir/.`: what is
/// in it, relative).
fn stream(src: &Src, sp: &Path) -> Result<u64> {
    let mut out = Output::open("cp", None)?;
    let n = match src {
        Src::One(..) => send(src, sp.name, &mut out)?,
        Src::Dir(d, _) if sp.contents => tar_write::write_tree(d, &mut out, &Default::default())?,
        Src::Dir(_, st) => {
            // tar_write names entries relative to the tree: a child
            // writes it, and it is written again here below the name.
            let top = entry(st, sp.name.to_vec(), Kind::Dir);
            transfer(|w| send(src, b"", w), |r| rebase(r, top, &mut out), None)?
        }
    };
    out.done()?;
    Ok(n)
}

/// Copy the archive in `src` to `out` with every name (and hard link
/// target) moved below `top`, written first.
fn rebase(src: &mut Fd, top: Entry, out: &mut dyn Sink) -> Result<u64> {
    let below = |p: &[u8]| [&top.path[..], b"/", p].concat();
    let mut w = Writer::new(out);
    w.append(&top)?;
    let mut r = Reader::new(src);
    let mut buf = vec![0u8; 64 * 1024];
    while let Some(mut e) = r.next()? {
        e.path = below(&e.path);
        if e.kind == Kind::Link {
            e.link = below(&e.link);
        }
        w.append(&e)?;
        loop {
            let n = r.read_data(&mut buf)?;
            if n == 0 {
                break;
            }
            w.data(&buf[..n])?;
        }
    }
    w.finish()
}

/// Container to host (or stdout). The container's files as it sees them.
/// Running (or paused): its live root, /proc/PID/root, volumes, tmpfs
/// mounts and its /etc/hosts, resolv.conf and hostname included, as
/// docker's; a directory's copy stops at the mounts below it (/proc,
/// /sys, /dev, volumes: empty directories, as `tar --one-file-system`),
/// a copy of the mount itself (`web:/data`) has its files. Stopped: its
/// upper dir over its image's layers, or its --rootfs directory, with its
/// bind mounts (volumes, -v, /etc/hosts...) on it, as docker mounts them
/// for a copy (`with_binds`); its tmpfs mounts are gone with it.
fn out_of(ctx: &Ctx, q: &[u8], path: &[u8], dst: &[u8], o: &Opts) -> Result<u64> {
    let (id, spec) = container(ctx, q)?;
    let rec = crate::container::state(&ctx.store, &id)?;
    let root = match rec.running() {
        true => live_root(&rec, q)?,
        false => with_binds(rootfs_view(&spec)?, &spec, false)?,
    };
    let view = Tree { root: Some(root) };
    let sp = Path::new(path, true);
    let missing = || {
        let why = format!(
            "Could not find the file {} in container {}",
            text(path),
            text(q)
        );
        Error::bad("cp", "", why).with_code(1)
    };
    let src = source(&view, &sp, o.follow, missing)?;
    if dst == b"-" {
        return stream(&src, &sp);
    }
    let dp = Path::new(dst, false);
    let host = Tree { root: None };
    let land = plan(dest(&host, &dp)?, &src, &sp, &dp)?;
    put(land, &src, None, o)
}

/// A stopped container's root (`root`, not attached) with its bind
/// mounts (volumes, -v, /etc/hosts...) in place, as docker mounts them for
/// a copy: read-only for a copy out (`write` false), else as the
/// container has them (`ro` ones read-only). Mounting on the root needs
/// it attached: in a mount namespace of this process's own, made private
/// first, on the container's root directory, so nothing reaches the
/// host's mounts and nothing is left when pocket exits. Each mount point
/// is looked up in the root (RESOLVE_IN_ROOT: a symlink in it cannot point
/// outside); one whose source or mount point is gone is left out. Where a
/// mount namespace cannot be made (a plain user's pocket), the root alone.
fn with_binds(root: Fd, spec: &Spec, write: bool) -> Result<Fd> {
    if !spec.mounts.iter().any(|m| m.is_bind()) || proc::unshare(libc::CLONE_NEWNS).is_err() {
        return Ok(root);
    }
    // Nothing is mounted unless this namespace's mounts are all private
    // (a shared one would carry the binds to the host's peers).
    let rec = (libc::MS_REC | libc::MS_PRIVATE) as u64;
    if m::mount(None, c"/", None, rec, None).is_err() {
        return Ok(root);
    }
    let shown = text(&spec.root.path);
    let fl = libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW;
    let at = fd::open(&cs(&spec.root.path)?, fl, 0).ctx("open", &shown)?;
    m::move_mount(&root, &at).ctx("mount", &shown)?;
    for b in spec.mounts.iter().filter(|m| m.is_bind()) {
        let Ok(src) = cs(b.source.as_bytes()) else {
            continue;
        };
        let tree = match m::bind_tree(&src, true) {
            Ok(t) => t,
            Err(Errno::ENOENT | Errno::ENOTDIR) => continue,
            Err(e) => return Err(Error::sys("bind", b.source.clone(), e)),
        };
        // Looked up as the container's own mounts are, and made where
        // missing for a copy in (a container never started), as docker's
        // (a view to copy out of is read-only: nothing is made there).
        let dir = |f: &Fd| stat(f).is_ok_and(|st| mode_type(&st) == libc::S_IFDIR);
        let point = crate::fs::apply::resolve_in_root(&root, b.destination.as_bytes(), !dir(&tree));
        let Ok(target) = point else {
            continue;
        };
        let mut attrs = k::MOUNT_ATTR_NODEV | k::MOUNT_ATTR_NOSUID | k::MOUNT_ATTR_NOEXEC;
        if !write || b.options.iter().any(|o| o == "ro") {
            attrs |= k::MOUNT_ATTR_RDONLY;
        }
        m::mount_setattr_private(&tree, attrs).ctx("mount_setattr", &b.source)?;
        // A file where a directory was bound, or the reverse (the
        // container changed its mount point; its next start refuses it):
        // left out.
        if dir(&tree) != dir(&target) {
            continue;
        }
        m::move_mount(&tree, &target).ctx("mount", &b.destination)?;
    }
    Ok(root)
}

/// Host (or stdin) to container.
fn into(ctx: &Ctx, src: &[u8], q: &[u8], path: &[u8], o: &Opts) -> Result<u64> {
    let (root, _lock) = writable(ctx, q)?;
    let tree = Tree { root: Some(root) };
    let dp = Path::new(path, true);
    if src == b"-" {
        let Dest::Dir(dir) = dest(&tree, &dp)? else {
            let why = "must be a directory to extract an archive into";
            return Err(Error::bad("cp", format!("destination {}", text(path)), why));
        };
        let x = extract::Opts {
            devices: false,
            chown: o.archive,
            // A tar into a container: all of them, as docker.
            xattrs: true,
            whiteouts: Whiteouts::Keep,
            limits: Limits::NONE,
        };
        let child = spawn(tree.root.as_ref(), || {
            let mut stdin = Fd::from_raw(fd::dup(0).ctx("dup", "stdin")?);
            extract::extract(&mut stdin, &dir, &x).map(|s| s.bytes)
        })?;
        child.wait()?;
        return Ok(0);
    }
    let sp = Path::new(src, false);
    let host = Tree { root: None };
    let missing = || Error::sys("stat", text(src), Errno::ENOENT);
    let s = source(&host, &sp, o.follow, missing)?;
    let land = plan(dest(&tree, &dp)?, &s, &sp, &dp)?;
    put(land, &s, tree.root.as_ref(), o)
}

/// The container's root to write into, and its lock, held until the copy
/// is done: the container neither starts (its overlay on the upper dir
/// written here) nor is removed meanwhile. Running (or paused): its live
/// root, /proc/PID/root, so the files land where its processes see them
/// (volumes included). Stopped: a writable overlay of its own upper dir
/// over its image's layers, so that a file replacing one of the image
/// gets a proper copy-up or whiteout, or its --rootfs directory, with its
/// volumes and binds on it (`with_binds`), as docker's: a file copied to
/// a volume's path lands in the volume, where the container will see it.
fn writable(ctx: &Ctx, q: &[u8]) -> Result<(Fd, Lock)> {
    let (id, spec) = container(ctx, q)?;
    let lock = ctx.store.lock(&id)?;
    let rec = crate::container::state(&ctx.store, &id)?;
    if rec.running() {
        return Ok((live_root(&rec, q)?, lock));
    }
    if rec.busy() {
        return Err(Error::bad("cp", text(q), "is starting: try again").with_code(1));
    }
    if spec.root.readonly {
        return Err(Error::bad(
            "cp",
            text(q),
            "container rootfs is marked read-only",
        ));
    }
    let root = match &spec.root.overlay {
        Some(o) => overlay_rw(o)?,
        // A mount of it (its own submounts included), which can be
        // attached for its binds.
        None => {
            let p = &spec.root.path;
            match m::bind_tree(&cs(p)?, true) {
                Ok(t) => t,
                // A plain user may not clone mounts (EPERM): the directory
                // alone, without its binds.
                Err(Errno::EPERM | Errno::ENOSYS) => {
                    let fl = libc::O_PATH | libc::O_DIRECTORY;
                    return Ok((fd::open(&cs(p)?, fl, 0).ctx("open", &text(p))?, lock));
                }
                Err(e) => return Err(Error::sys("bind", text(p), e)),
            }
        }
    };
    Ok((with_binds(root, &spec, true)?, lock))
}

/// A running container's root as its processes see it, /proc/PID/root,
/// checked to be its init's still (not a reused pid) once open.
fn live_root(rec: &crate::state::Record, q: &[u8]) -> Result<Fd> {
    let gone = || Error::bad("cp", text(q), "stopped during the copy: try again").with_code(1);
    let p = format!("/proc/{}/root", rec.pid);
    let root = fd::open(&cs(p.as_bytes())?, libc::O_PATH | libc::O_DIRECTORY, 0);
    let root = root.map_err(|_| gone())?;
    if !crate::sys::procfs::alive(rec.pid, rec.pid_start) {
        return Err(gone());
    }
    Ok(root)
}

/// The stopped container's overlay, writable, with the options its own
/// mount uses (fs/overlay.rs: no redirect or metacopy xattrs, so `commit`
/// still reads a plain upper dir; the index off; never `volatile`, whose
/// marker would stop the next mount).
fn overlay_rw(o: &Overlay) -> Result<Fd> {
    let upper = cs(o.upper.as_bytes())?;
    let work = cs(o.work.as_bytes())?;
    fs::mkdir(&upper, 0o755).ctx("mkdir", &o.upper)?;
    fs::mkdir(&work, 0o700).ctx("mkdir", &o.work)?;
    let each = o
        .lower
        .iter()
        .map(|l| cs(l.as_bytes()))
        .collect::<Result<Vec<_>>>()?;
    let all = cs(o.lower.join(":").as_bytes())?;
    let opts = crate::fs::overlay::options(false, false);
    let fs = crate::fs::overlay::create(&each, &all, Some((&upper, &work)), opts)
        .map_err(|(op, e)| Error::sys(op, o.upper.clone(), e))?;
    let attrs = k::MOUNT_ATTR_NODEV | k::MOUNT_ATTR_NOSUID | k::MOUNT_ATTR_NOEXEC;
    m::fsmount(&fs, attrs).ctx("mount overlay", &o.upper)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_paths_as_docker_splits_them() {
        assert_eq!(split(b"c1:/etc/x"), Some((&b"c1"[..], &b"/etc/x"[..])));
        assert_eq!(split(b"c1:"), Some((&b"c1"[..], &b""[..])));
        assert_eq!(split(b"/tmp/a:b"), None);
        assert_eq!(split(b"./a:b"), None);
        assert_eq!(split(b"file"), None);
        assert_eq!(split(b"-"), None);
    }

    #[test]
    fn path_names_and_contents() {
        let p = Path::new(b"/etc/hostname", true);
        assert_eq!(
            (p.name, p.contents, p.dir),
            (&b"hostname"[..], false, false)
        );
        let p = Path::new(b"/etc/", true);
        assert_eq!((p.name, p.contents, p.dir), (&b"etc"[..], false, true));
        let p = Path::new(b"/etc/.", true);
        assert!(p.contents && p.dir);
        let p = Path::new(b"", true);
        assert_eq!((p.look, p.contents), (&b"/"[..], true));
        let p = Path::new(b"///", true);
        assert!(p.contents);
        assert_eq!(parent_of(b"a/b/"), (b"a".to_vec(), b"b".to_vec()));
        assert_eq!(parent_of(b"/b"), (b"/".to_vec(), b"b".to_vec()));
        assert_eq!(parent_of(b"b"), (b".".to_vec(), b"b".to_vec()));
    }
}
