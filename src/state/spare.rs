//! Spare overlay directories: a removed container's `upper` and `work`,
//! emptied, wait in `<root>/spare/N` for the next --rm run of an image,
//! which renames one in as its directory instead of making three.
//!
//! Why: an ext4 without a journal (a VM's root disk, often) checks every
//! inode it allocates against those freed in the last 30 s, one by one
//! (`recently_deleted`), so a loop of runs that each make and remove a
//! handful of directories pays more per run the faster it goes; each
//! freed directory block is also a synchronous discard on a disk mounted
//! `discard`. Overlayfs makes and removes seven of its own at each mount
//! (work/work, the volatile marker, its tmpfile and whiteout probes);
//! these are pocket's three. A rename is neither an allocation nor a free.
//!
//! Only what a fresh `mkdir` by root would give is kept: root's own
//! directories of the modes create makes, with no xattrs on `upper` (its
//! owner, mode and xattrs are the container's `/`). Anything else is
//! removed as before.

use crate::sys::fd::{self, Fd};
use crate::sys::fs::{self, remove_tree};
use crate::sys::{Errno, cstr::cstring, file, proc};
use alloc::format;

/// Spares kept at most: runs in parallel each take one.
const SLOTS: u32 = 4;

/// The mode of a container's directory (volatile or durable) and of its
/// `upper` and `work`, as create makes them.
const DIR_MODE: u32 = 0o700;
const SUB_MODE: u32 = 0o755;

const DIR: i32 = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;

/// Rename a spare in as `disk` (a container's directory, not made yet),
/// with its empty `upper` and `work`. False: none is left (or `disk`
/// exists), make them.
pub fn take(root: &str, disk: &str) -> bool {
    let Some(to) = cstring(disk.as_bytes()) else {
        return false;
    };
    if proc::geteuid() != 0 {
        return false;
    }
    (0..SLOTS).any(|n| {
        let from = cstring(format!("{root}/spare/{n}").as_bytes()).unwrap_or_default();
        fs::renameat2(
            libc::AT_FDCWD,
            &from,
            libc::AT_FDCWD,
            &to,
            libc::RENAME_NOREPLACE,
        )
        .is_ok()
    })
}

/// Empty the removed container's directory `disk` to its `upper` and
/// `work`, themselves emptied, and keep it as a spare. False: it is not
/// one to keep (or every slot is taken): remove it all.
pub fn give(root: &str, disk: &str) -> bool {
    if proc::geteuid() != 0 {
        return false;
    }
    let Some(d) = cstring(disk.as_bytes()) else {
        return false;
    };
    let Ok(top) = fd::open(&d, DIR, 0) else {
        return false;
    };
    if !fresh(&top, c"", DIR_MODE) || !fresh(&top, c"upper", SUB_MODE) {
        return false;
    }
    if !fresh(&top, c"work", SUB_MODE) || !no_xattrs(&top, c"upper") {
        return false;
    }
    let emptied = empty(&top, |n| n == c"upper" || n == c"work").and_then(|()| {
        [c"upper", c"work"]
            .iter()
            .try_for_each(|s| empty_dir(&top, s))
    });
    if emptied.is_err() {
        return false;
    }
    let dir = format!("{root}/spare");
    let Some(spare) = cstring(dir.as_bytes()) else {
        return false;
    };
    let keep = |n: u32| {
        let to = cstring(format!("{dir}/{n}").as_bytes()).unwrap_or_default();
        fs::renameat2(
            libc::AT_FDCWD,
            &d,
            libc::AT_FDCWD,
            &to,
            libc::RENAME_NOREPLACE,
        )
    };
    // The spare directory is made at the first removal that keeps one.
    let first = match keep(0) {
        Err(Errno::ENOENT) => fs::mkdir(&spare, 0o700).and_then(|()| keep(0)),
        r => r,
    };
    first.is_ok() || (1..SLOTS).any(|n| keep(n).is_ok())
}

/// `name` in `dir` ("" for `dir` itself) is a directory of root's with
/// exactly `mode`: what create's mkdir made, not chowned for a user
/// namespace's root nor chmodded by the container (a `/` it changed).
fn fresh(dir: &Fd, name: &core::ffi::CStr, mode: u32) -> bool {
    let flags = match name.is_empty() {
        true => libc::AT_EMPTY_PATH,
        false => libc::AT_SYMLINK_NOFOLLOW,
    };
    fd::fstatat(dir.raw(), name, flags)
        .is_ok_and(|st| st.st_mode == libc::S_IFDIR | mode && st.st_uid == 0 && st.st_gid == 0)
}

/// No xattr on `name` (ACLs, file capabilities, user.* are all xattrs),
/// as on a fresh directory, once overlayfs' own (`trusted.overlay.*`: the
/// id of the mount it was the upper of, "impure" for entries copied up
/// into it) are removed: the next mount writes its own.
fn no_xattrs(dir: &Fd, name: &core::ffi::CStr) -> bool {
    let Ok(f) = fd::openat(dir.raw(), name, DIR, 0) else {
        return false;
    };
    let mut buf = [0u8; 256];
    // More than fits (ERANGE) is not overlayfs' few.
    let Ok(n) = file::flistxattr(f.raw(), &mut buf) else {
        return false;
    };
    let names = || buf[..n].split(|b| *b == 0).filter(|s| !s.is_empty());
    if !names().all(|x| x.starts_with(b"trusted.overlay.")) {
        return false;
    }
    names()
        .all(|x| alloc::ffi::CString::new(x).is_ok_and(|c| file::fremovexattr(f.raw(), &c).is_ok()))
}

/// Remove everything in `dir` but the entries `keep` names.
fn empty(dir: &Fd, keep: impl Fn(&core::ffi::CStr) -> bool) -> Result<(), Errno> {
    let mut gone = alloc::vec::Vec::new();
    fs::each_entry(dir, |name, _| {
        if !keep(name) {
            gone.push(alloc::ffi::CString::from(name));
        }
        Ok(())
    })?;
    gone.iter().try_for_each(|n| remove_tree(dir.raw(), n))
}

fn empty_dir(dir: &Fd, name: &core::ffi::CStr) -> Result<(), Errno> {
    let sub = fd::openat(dir.raw(), name, DIR, 0)?;
    empty(&sub, |_| false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{PermissionsExt, chown};
    use std::path::{Path, PathBuf};

    /// A store root with container `c`'s directory as create makes it
    /// (the tests run as root, as pocket does).
    fn made(tag: &str) -> (PathBuf, String) {
        let root = std::env::temp_dir().join(format!("pocket-spare-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let disk = made_in(&root, "c");
        (root, disk)
    }

    fn made_in(root: &Path, id: &str) -> String {
        let disk = root.join("containers").join(id);
        let mode = |d: &Path, m| std::fs::set_permissions(d, std::fs::Permissions::from_mode(m));
        std::fs::create_dir_all(&disk).unwrap();
        mode(&disk, DIR_MODE).unwrap();
        for sub in ["upper", "work"] {
            std::fs::create_dir(disk.join(sub)).unwrap();
            mode(&disk.join(sub), SUB_MODE).unwrap();
        }
        disk.to_str().unwrap().to_string()
    }

    fn root() -> bool {
        let me = proc::geteuid() == 0;
        if !me {
            std::eprintln!("SKIP spare dirs: pocket keeps them as root only");
        }
        me
    }

    fn setxattr(p: &Path, name: &core::ffi::CStr) {
        let f = fd::open(&cstring(p.to_str().unwrap().as_bytes()).unwrap(), DIR, 0).unwrap();
        file::fsetxattr(f.raw(), name, b"1").unwrap();
    }

    fn entries(p: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(p)
            .map(|r| {
                r.flatten()
                    .map(|e| e.file_name().to_string_lossy().into())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    #[test]
    fn a_removed_containers_dirs_are_kept_empty_and_taken_by_the_next() {
        if !root() {
            return;
        }
        let (root, disk) = made("keep");
        let d = Path::new(&disk);
        // What a container and its overlay leave: files of the container,
        // the volatile marker, overlayfs' id of the mount, a log.
        std::fs::create_dir_all(d.join("upper/etc/deep")).unwrap();
        std::fs::write(d.join("upper/etc/deep/secret"), "x").unwrap();
        std::fs::create_dir_all(d.join("work/work/incompat/volatile")).unwrap();
        std::fs::write(d.join("work/work/incompat/volatile/dirty"), "").unwrap();
        std::fs::write(d.join("container.log"), "log").unwrap();
        setxattr(&d.join("upper"), c"trusted.overlay.uuid");
        setxattr(&d.join("upper"), c"trusted.overlay.impure");
        let r = root.to_str().unwrap();
        assert!(give(r, &disk), "kept");
        assert!(!d.exists(), "renamed away");
        let spare = root.join("spare/0");
        assert_eq!(entries(&spare), ["upper", "work"]);
        assert!(
            entries(&spare.join("upper")).is_empty() && entries(&spare.join("work")).is_empty()
        );
        let f = fd::open(
            &cstring(spare.join("upper").to_str().unwrap().as_bytes()).unwrap(),
            DIR,
            0,
        )
        .unwrap();
        assert_eq!(
            file::flistxattr(f.raw(), &mut []),
            Ok(0),
            "overlayfs' own removed"
        );
        // The next container's directory is the spare.
        let next = format!("{r}/containers/n");
        assert!(take(r, &next));
        assert_eq!(entries(Path::new(&next)), ["upper", "work"]);
        assert!(entries(&root.join("spare")).is_empty());
        assert!(!take(r, &format!("{r}/containers/m")), "none left");
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn what_a_fresh_mkdir_would_not_give_is_removed_instead() {
        if !root() {
            return;
        }
        type Change = fn(&Path);
        let changes: [(&str, Change); 5] = [
            // The container's `/` chmodded, or given an xattr (user.*, an
            // ACL, a capability): the next container's `/` would show it.
            ("chmod", |d| {
                std::fs::set_permissions(d.join("upper"), std::fs::Permissions::from_mode(0o700))
                    .unwrap()
            }),
            ("xattr", |d| setxattr(&d.join("upper"), c"user.pocket-test")),
            ("two-xattrs", |d| {
                setxattr(&d.join("upper"), c"trusted.overlay.uuid");
                setxattr(&d.join("upper"), c"user.pocket-test")
            }),
            // A user namespace's root owns them (give_to_ns_root).
            ("chown", |d| {
                chown(d.join("work"), Some(100000), Some(100000)).unwrap()
            }),
            // Not a directory of create's making.
            ("symlink", |d| {
                std::fs::remove_dir(d.join("upper")).unwrap();
                std::os::unix::fs::symlink("/", d.join("upper")).unwrap()
            }),
        ];
        for (tag, change) in changes {
            let (root, disk) = made(tag);
            change(Path::new(&disk));
            assert!(!give(root.to_str().unwrap(), &disk), "{tag}: not kept");
            assert!(entries(&root.join("spare")).is_empty(), "{tag}");
            let _ = std::fs::remove_dir_all(&root);
        }
    }

    #[test]
    fn spares_are_bounded() {
        if !root() {
            return;
        }
        let (root, _) = made("bound");
        let r = root.to_str().unwrap();
        for n in 0..SLOTS + 1 {
            let disk = made_in(&root, &format!("c{n}"));
            assert_eq!(give(r, &disk), n < SLOTS, "slot {n}");
        }
        assert_eq!(entries(&root.join("spare")).len(), SLOTS as usize);
        let _ = std::fs::remove_dir_all(&root);
    }
}
