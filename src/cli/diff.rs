//! `pocket diff`: what a container changed in its image, as docker prints
//! it: `A /path` added, `C /path` changed, `D /path` deleted, sorted as a
//! tree (a directory, then what is in it, names in byte order; docker
//! lists a directory changed only through its contents after them).
//!
//! docker's rules (moby pkg/archive changes.go, overlay flavour): a
//! whiteout is a deletion; an opaque directory that hides one below is a
//! deletion too (its new contents then show as additions); anything else
//! is a change if the layers below have that path, else an addition; a
//! directory equal to the one below (size, mode, mtime) is only listed
//! when something directly in it was added or deleted.

use super::Ctx;
use super::args::text;
use super::args::{Flag, flag};
use super::image_out::{container, exists, view_dir, view_overlay};
use crate::error::{Context, Error, Result};
use crate::image::tar_write::{is_opaque, is_whiteout, mode_type, names};
use crate::sys::fd::{self, Fd};
use crate::sys::tree::Stack;
use crate::sys::{Errno, file};
use alloc::ffi::CString;
use alloc::vec::Vec;
use linux_raw_sys::general as k;

const FLAGS: &[Flag] = &[flag(0, "help", false)];

const DIR: i32 = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;

/// `rel` in the merged lower layers, never through a symlink: a link in
/// the image cannot make the lookup leave it. None if it is not there.
fn below(lower: &Fd, rel: &[u8]) -> Option<k::statx> {
    let c = CString::new(rel).ok()?;
    let how = (k::RESOLVE_NO_SYMLINKS | k::RESOLVE_BENEATH | k::RESOLVE_NO_MAGICLINKS) as u64;
    let f = fd::openat2(lower.raw(), &c, libc::O_PATH | libc::O_NOFOLLOW, how).ok()?;
    let st = file::statx(f.raw(), c"", libc::AT_EMPTY_PATH, k::STATX_BASIC_STATS).ok()?;
    // A whiteout is only seen here when a single layer is viewed raw.
    (!is_whiteout(&st)).then_some(st)
}

/// docker's "same directory": size, mode and mtime (a zero fraction on
/// either side compares seconds only).
fn same(a: &k::statx, b: &k::statx) -> bool {
    let (ta, tb) = (&a.stx_mtime, &b.stx_mtime);
    a.stx_size == b.stx_size
        && a.stx_mode == b.stx_mode
        && ta.tv_sec == tb.tv_sec
        && (ta.tv_nsec == tb.tv_nsec || ta.tv_nsec == 0 || tb.tv_nsec == 0)
}

/// A directory being walked (its fd is in the `Stack`).
struct Frame {
    names: Vec<Vec<u8>>,
    next: usize,
    /// Length of this directory's path ("/a/b") in the walk's path.
    plen: usize,
    /// Listed already (or the root, which never is).
    listed: bool,
    /// Where its line goes in the output if it is listed late (through a
    /// change inside it): before everything found below it.
    at: usize,
}

/// The changes, as (kind letter, "/path").
pub fn changes(upper: &Fd, lower: &Fd) -> Result<Vec<(u8, Vec<u8>)>> {
    let top = fd::openat(upper.raw(), c".", DIR, 0).ctx("open", "upper dir")?;
    let first = names(&top).ctx("list", "/")?;
    let mut out = Vec::new();
    let mut path: Vec<u8> = Vec::new();
    // Any depth with a bounded number of fds (see sys::tree).
    let mut stack = Stack::default();
    let frame = Frame {
        names: first,
        next: 0,
        plen: 0,
        listed: true,
        at: 0,
    };
    stack.push(top, frame).ctx("open", "/")?;
    while let Some((parent, f)) = stack.top() {
        let Some(name) = f.names.get_mut(f.next).map(core::mem::take) else {
            let plen = f.plen;
            let up = |e| Error::sys("reopen the parent of", text(&path[..plen]), e);
            stack.pop().map_err(up)?;
            continue;
        };
        f.next += 1;
        path.truncate(f.plen);
        path.push(b'/');
        path.extend_from_slice(&name);
        let Ok(c) = CString::new(name) else { continue };
        let mask = k::STATX_BASIC_STATS;
        let st = match file::statx(parent, &c, libc::AT_SYMLINK_NOFOLLOW, mask) {
            Err(Errno::ENOENT) => continue, // gone since listed: it runs
            r => r.ctx("stat", &text(&path))?,
        };
        let d = match mode_type(&st) == libc::S_IFDIR {
            true => match fd::openat(parent, &c, DIR, 0) {
                Err(Errno::ENOENT | Errno::ENOTDIR | Errno::ELOOP) => continue,
                r => Some(r.ctx("open", &text(&path))?),
            },
            false => None,
        };
        let was = below(lower, &path[1..]);
        let kind = if is_whiteout(&st) || (d.as_ref().is_some_and(is_opaque) && was.is_some()) {
            b'D'
        } else {
            match was {
                Some(b) if d.is_some() && mode_type(&b) == libc::S_IFDIR && same(&st, &b) => 0,
                Some(_) => b'C',
                None => b'A',
            }
        };
        if kind == b'A' || kind == b'D' {
            // Its directories show as changed, each before its contents.
            let mut shift = 0;
            for fr in stack.iter_mut() {
                fr.at += shift;
                if !fr.listed {
                    out.insert(fr.at, (b'C', path[..fr.plen].to_vec()));
                    fr.listed = true;
                    shift += 1;
                }
            }
        }
        if kind != 0 {
            out.push((kind, path.clone()));
        }
        if let Some(d) = d {
            let list = names(&d).ctx("list", &text(&path))?;
            let frame = Frame {
                names: list,
                next: 0,
                plen: path.len(),
                listed: kind != 0,
                at: out.len(),
            };
            stack.push(d, frame).ctx("open", &text(&path))?;
        }
    }
    Ok(out)
}

pub fn main(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("diff", FLAGS, argv)? else {
        return Ok(0);
    };
    let [q] = p.rest[..] else {
        return Err(Error::bad("diff", "", "needs exactly one container"));
    };
    let (_, spec) = container(ctx, q)?;
    let Some(o) = &spec.root.overlay else {
        return Err(Error::bad(
            "diff",
            text(q),
            "the container has no image (made with --rootfs DIR): nothing to compare with",
        ));
    };
    if !exists(o.upper.as_bytes()) {
        return Ok(0); // never started: no changes
    }
    let upper = view_dir(o.upper.as_bytes())?;
    let lower = view_overlay(&o.lower)?;
    let mut w = crate::rt::out();
    // To a terminal, names the container made show control characters
    // as `?` (as ls(1) does there): no escape sequence of its reaches
    // ours. To a pipe, the bytes as they are, as docker's.
    let tty = crate::sys::tty::isatty(1);
    for (kind, path) in changes(&upper, &lower)? {
        w.bytes(&[kind, b' ']);
        match tty {
            true => w.bytes(
                super::table::printable(&alloc::string::String::from_utf8_lossy(&path)).as_bytes(),
            ),
            false => w.bytes(&path),
        }
        w.bytes(b"\n");
    }
    Ok(0)
}
