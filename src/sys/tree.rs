//! Directory trees of any depth, walked and removed with a bounded number
//! of open fds and no recursion.
//!
//! A container makes a tree as deep as it likes (`mkdir a; cd a` in a
//! loop). A walk holding one fd per level fails with EMFILE past 1024
//! levels (the usual soft RLIMIT_NOFILE), and recursion grows the stack
//! per level. So a walk keeps its levels on a heap `Stack`, holds fds for
//! the deepest `KEEP_OPEN` of them only, and when it climbs back to a level
//! whose fd it closed, opens that again as ".." of the child it leaves,
//! checking (st_dev, st_ino) that it is the same directory: one moved
//! meanwhile stops the walk (ESTALE) instead of sending it elsewhere.

use super::fd::{self, Fd};
use super::fs::{each_entry, unlinkat};
use super::{Errno, Result, file};
use alloc::ffi::CString;
use alloc::vec::Vec;
use core::ffi::CStr;
use linux_raw_sys::general as k;

/// Levels of a walk that keep their fd: enough that ordinary trees (a
/// rootfs is rarely 16 deep) never close and reopen one.
pub const KEEP_OPEN: usize = 16;

const DIR: i32 = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;

/// One directory of a walk: its fd, or while that is closed, which
/// directory it was.
struct Level {
    fd: Option<Fd>,
    id: (u64, u64),
}

fn id(f: &Fd) -> Result<(u64, u64)> {
    let st = fd::fstatat(f.raw(), c"", libc::AT_EMPTY_PATH)?;
    Ok((st.st_dev, st.st_ino))
}

impl Level {
    fn park(&mut self) -> Result<()> {
        if let Some(f) = &self.fd {
            self.id = id(f)?;
            self.fd = None;
        }
        Ok(())
    }

    /// Open again as ".." of `child`, a directory right below it.
    fn unpark(&mut self, child: &Level) -> Result<()> {
        if self.fd.is_some() {
            return Ok(());
        }
        let c = child.fd.as_ref().ok_or(Errno::EBADF)?;
        let up = fd::openat(c.raw(), c"..", DIR, 0)?;
        if id(&up)? != self.id {
            return Err(Errno::ESTALE);
        }
        self.fd = Some(up);
        Ok(())
    }
}

/// The directories from a walk's root down to where it is, each with the
/// walker's own state `T`. The deepest one is always open.
pub struct Stack<T> {
    levels: Vec<(Level, T)>,
}

impl<T> Default for Stack<T> {
    fn default() -> Stack<T> {
        Stack { levels: Vec::new() }
    }
}

impl<T> Stack<T> {
    /// Go down into `dir`; the level KEEP_OPEN above it gives up its fd.
    pub fn push(&mut self, dir: Fd, t: T) -> Result<()> {
        let l = Level {
            fd: Some(dir),
            id: (0, 0),
        };
        self.levels.push((l, t));
        match self.levels.len().checked_sub(KEEP_OPEN + 1) {
            Some(i) => self.levels[i].0.park(),
            None => Ok(()),
        }
    }

    /// The deepest directory (its fd) and its state.
    pub fn top(&mut self) -> Option<(i32, &mut T)> {
        let (l, t) = self.levels.last_mut()?;
        Some((l.fd.as_ref().map_or(-1, Fd::raw), t))
    }

    /// Leave the deepest directory; the one above, now the deepest, is
    /// opened again if it had to give up its fd.
    pub fn pop(&mut self) -> Result<Option<T>> {
        let Some((done, t)) = self.levels.pop() else {
            return Ok(None);
        };
        if let Some((up, _)) = self.levels.last_mut() {
            up.unpark(&done)?;
        }
        Ok(Some(t))
    }

    /// Every level's state, the root first.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.levels.iter_mut().map(|(_, t)| t)
    }

    pub fn len(&self) -> usize {
        self.levels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.levels.is_empty()
    }
}

/// The mount a directory is on: (device, mount id).
pub fn mount_of(d: &Fd) -> Result<(u32, u32, u64)> {
    let st = file::statx(d.raw(), c"", libc::AT_EMPTY_PATH, k::STATX_MNT_ID)?;
    Ok((st.stx_dev_major, st.stx_dev_minor, st.stx_mnt_id))
}

/// Unlink everything in `d` but directories and what `keep` names; the
/// directories' names are returned. Names are bytes: a container's files
/// may have any name.
fn clear(d: &Fd, keep: &dyn Fn(&CStr) -> bool) -> Result<Vec<CString>> {
    let mut dirs = Vec::new();
    each_entry(d, |name, kind| {
        if keep(name) {
            return Ok(());
        }
        if kind != libc::DT_DIR {
            match unlinkat(d.raw(), name, 0) {
                Ok(()) | Err(Errno::ENOENT) => return Ok(()),
                // A directory after all (DT_UNKNOWN on some filesystems).
                Err(Errno::EISDIR | Errno::EPERM) => {}
                Err(e) => return Err(e),
            }
        }
        dirs.push(CString::from(name));
        Ok(())
    })?;
    Ok(dirs)
}

/// Remove `name` in `dirfd` and everything below it, at any depth.
/// Symlinks are removed, never followed; subdirectories are opened with
/// O_NOFOLLOW relative to their parent, so nothing outside the tree is
/// reached. Never crosses into another mount: a mount below the tree (a
/// volume, say) makes the removal fail with EBUSY instead of emptying it.
pub fn remove_tree(dirfd: i32, name: &CStr) -> Result<()> {
    match unlinkat(dirfd, name, 0) {
        Ok(()) | Err(Errno::ENOENT) => return Ok(()),
        Err(Errno::EISDIR) | Err(Errno::EPERM) => {}
        Err(e) => return Err(e),
    }
    empty(fd::openat(dirfd, name, DIR, 0)?, &|_| false)?;
    match unlinkat(dirfd, name, libc::AT_REMOVEDIR) {
        Ok(()) | Err(Errno::ENOENT) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Remove everything below the directory open on `top`, at any depth,
/// but `top` itself and those of its own entries that `keep` names; as
/// `remove_tree`, never following a symlink nor crossing into another
/// mount (EBUSY).
pub fn empty(top: Fd, keep: &dyn Fn(&CStr) -> bool) -> Result<()> {
    let here = mount_of(&top)?;
    let mut stack = Stack::default();
    let subdirs = clear(&top, keep)?;
    stack.push(top, (CString::default(), subdirs))?;
    while let Some((at, (_, subdirs))) = stack.top() {
        let Some(sub) = subdirs.pop() else {
            // Empty now: remove it from its parent (the top stays).
            let (gone, _) = stack.pop()?.ok_or(Errno::EINVAL)?;
            let Some((parent, _)) = stack.top() else {
                return Ok(());
            };
            match unlinkat(parent, &gone, libc::AT_REMOVEDIR) {
                Ok(()) | Err(Errno::ENOENT) => continue,
                Err(e) => return Err(e),
            }
        };
        let d = match open_own(at, &sub) {
            Err(Errno::ENOENT) => continue,
            // Replaced by a file or symlink since listed: unlinked as one.
            Err(Errno::ENOTDIR | Errno::ELOOP) => match unlinkat(at, &sub, 0) {
                Ok(()) | Err(Errno::ENOENT) => continue,
                Err(e) => return Err(e),
            },
            r => r?,
        };
        if mount_of(&d)? != here {
            return Err(Errno::EBUSY);
        }
        let subdirs = clear(&d, &|_| false)?;
        stack.push(d, (sub, subdirs))?;
    }
    Ok(())
}

/// A subdirectory to empty; one of ours that we may not read (overlayfs
/// makes its work/work mode 000: as root that is no matter, as a plain
/// user it is) is opened to us first: only its owner can chmod it.
fn open_own(at: i32, sub: &CStr) -> Result<fd::Fd> {
    match fd::openat(at, sub, DIR, 0) {
        Err(Errno::EACCES) => {
            super::mount::fchmodat(at, sub, 0o700)?;
            fd::openat(at, sub, DIR, 0)
        }
        r => r,
    }
}

/// The bytes the regular files below `name` in `dirfd` hold (st_size,
/// each inode once per directory it is listed in), at any depth, without
/// following symlinks or crossing into another mount: what removing the
/// tree gives back, as docker counts reclaimed space. Missing: 0.
pub fn tree_bytes(dirfd: i32, name: &CStr) -> Result<u64> {
    let top = match fd::openat(dirfd, name, DIR, 0) {
        Err(Errno::ENOENT | Errno::ENOTDIR) => return Ok(0),
        r => r?,
    };
    let here = mount_of(&top)?;
    let mut total = 0u64;
    // Each level: the subdirectories still to visit.
    let mut stack: Stack<Vec<CString>> = Stack::default();
    let subdirs = sizes(&top, &mut total)?;
    stack.push(top, subdirs)?;
    while let Some((at, subdirs)) = stack.top() {
        let Some(sub) = subdirs.pop() else {
            stack.pop()?;
            continue;
        };
        let d = match fd::openat(at, &sub, DIR, 0) {
            Err(Errno::ENOENT | Errno::ENOTDIR | Errno::ELOOP) => continue,
            r => r?,
        };
        if mount_of(&d)? != here {
            continue;
        }
        let subdirs = sizes(&d, &mut total)?;
        stack.push(d, subdirs)?;
    }
    Ok(total)
}

/// Add up the sizes of `d`'s non-directories; its subdirectories' names.
fn sizes(d: &Fd, total: &mut u64) -> Result<Vec<CString>> {
    let mut dirs = Vec::new();
    each_entry(d, |name, kind| {
        if kind == libc::DT_DIR {
            dirs.push(CString::from(name));
            return Ok(());
        }
        match fd::fstatat(d.raw(), name, libc::AT_SYMLINK_NOFOLLOW) {
            Ok(st) if st.st_mode & libc::S_IFMT == libc::S_IFREG => {
                *total = total.saturating_add(st.st_size as u64)
            }
            Ok(st) if st.st_mode & libc::S_IFMT == libc::S_IFDIR => dirs.push(CString::from(name)),
            _ => {}
        }
        Ok(())
    })?;
    Ok(dirs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;
    use std::path::PathBuf;

    fn tmp(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("pocket-tree-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn rm(p: &std::path::Path) -> Result<()> {
        let c = CString::new(p.as_os_str().as_bytes()).unwrap();
        remove_tree(libc::AT_FDCWD, &c)
    }

    #[test]
    fn counts_file_bytes_at_any_depth() {
        let d = tmp("bytes");
        std::fs::create_dir_all(d.join("a/b/c")).unwrap();
        std::fs::write(d.join("x"), vec![0u8; 1000]).unwrap();
        std::fs::write(d.join("a/b/c/y"), vec![0u8; 234]).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", d.join("a/l")).unwrap();
        let c = CString::new(d.as_os_str().as_bytes()).unwrap();
        assert_eq!(tree_bytes(libc::AT_FDCWD, &c), Ok(1234));
        assert_eq!(tree_bytes(libc::AT_FDCWD, c"/nonexistent-pocket"), Ok(0));
        rm(&d).unwrap();
    }

    /// Far deeper than the fd limit and any PATH_MAX: built and checked
    /// with *at calls from a cursor fd, as nothing else can reach it.
    #[test]
    fn removes_any_depth_with_few_fds() {
        let d = tmp("deep");
        let mut cur = fd::open(&CString::new(d.as_os_str().as_bytes()).unwrap(), DIR, 0).unwrap();
        for i in 0..3000 {
            crate::sys::mount::mkdirat(cur.raw(), c"a", 0o755).unwrap();
            if i % 7 == 0 {
                let f = fd::openat(cur.raw(), c"f\xff", libc::O_CREAT | libc::O_WRONLY, 0o600);
                drop(f.unwrap());
                crate::sys::mount::symlinkat(c"/etc", cur.raw(), c"l").unwrap();
            }
            cur = fd::openat(cur.raw(), c"a", DIR, 0).unwrap();
        }
        drop(cur);
        // Fewer fds than levels: the old one-fd-per-level walk fails here.
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: plain getrlimit/setrlimit on this test process.
        unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
        let low = libc::rlimit {
            rlim_cur: 256,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: as above.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &low) };
        let r = rm(&d);
        // SAFETY: as above.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) };
        assert_eq!(r, Ok(()));
        assert!(!d.exists());
        assert!(std::path::Path::new("/etc/passwd").exists());
    }

    #[test]
    fn a_moved_level_stops_the_walk() {
        let d = tmp("moved");
        let mut s: Stack<u32> = Stack::default();
        let mut p = d.clone();
        for i in 0..KEEP_OPEN + 3 {
            std::fs::create_dir(p.join("a")).unwrap();
            let c = CString::new(p.as_os_str().as_bytes()).unwrap();
            s.push(fd::open(&c, DIR, 0).unwrap(), i as u32).unwrap();
            p = p.join("a");
        }
        assert_eq!(s.len(), KEEP_OPEN + 3);
        // The root level is parked; move the level below it away.
        std::fs::rename(
            d.join("a"),
            std::env::temp_dir().join(format!("pocket-tree-x-{}", std::process::id())),
        )
        .unwrap();
        let mut err = None;
        while !s.is_empty() {
            if let Err(e) = s.pop() {
                err = Some(e);
                break;
            }
        }
        assert_eq!(err, Some(Errno::ESTALE));
        let x = std::env::temp_dir().join(format!("pocket-tree-x-{}", std::process::id()));
        rm(&x).unwrap();
        rm(&d).unwrap();
    }
}
