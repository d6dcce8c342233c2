//! Spare container directories: a removed container's directory, emptied
//! down to its overlayfs `work` dir (emptied too), waits in
//! `<root>/spare/N` for the next --rm run of an image, which renames one
//! in as its own instead of making both.
//!
//! Why: an ext4 without a journal (a VM's root disk, often) checks every
//! inode it allocates against those freed in the last 30 s, one by one
//! (`recently_deleted`), so a loop of runs that each make and remove a
//! handful of directories pays more per run the faster it goes; each
//! freed directory block is also a synchronous discard on a disk mounted
//! `discard`. Overlayfs makes and removes six of its own at each mount
//! (work/work, the volatile marker, its tmpfile and whiteout probes);
//! these are two of pocket's three. A rename is neither.
//!
//! The `upper` dir is always made afresh: an overlay mount of the removed
//! container may outlive it (a descriptor of its `/` held by any process)
//! and would still read and write its upper dir, and what the container
//! did to its `/` (modes, xattrs, inode flags) is the upper dir's. The
//! `work` dir is not the container's to see; the old mount's own work
//! dir is `work/work`, removed here and made anew by the next mount
//! (which, `work` still marked in use by the old one, warns in the
//! kernel's log: mounts are `index=off`, fs/overlay.rs).
//!
//! Only volatile containers' directories are kept (a durable one's is
//! locked by its remover, see `give`), and only a volatile one takes one.

use crate::sys::fd::{self, Fd};
use crate::sys::fs::{self, remove_tree};
use crate::sys::{Errno, cstr::cstring, proc, tree};
use alloc::format;

/// Spares kept at most: runs in parallel each take one.
const SLOTS: u32 = 4;

/// The modes create gives a container's directory and its `work` dir.
const DIR_MODE: u32 = 0o700;
const WORK_MODE: u32 = 0o755;

const DIR: i32 = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;

/// Rename a spare in as `disk` (a container's directory, not made yet),
/// with an empty `work` in it and no `upper` (one an older pocket kept
/// is removed: never a container's upper dir twice). False: not root
/// (plain users keep none), none is left, or the rename failed: make it.
pub fn take(root: &str, disk: &str) -> bool {
    let (Some(to), Some(upper)) = (
        cstring(disk.as_bytes()),
        cstring(format!("{disk}/upper").as_bytes()),
    ) else {
        return false;
    };
    if proc::geteuid() != 0 {
        return false;
    }
    let taken = (0..SLOTS).any(|n| {
        let from = cstring(format!("{root}/spare/{n}").as_bytes()).unwrap_or_default();
        fs::renameat2(
            libc::AT_FDCWD,
            &from,
            libc::AT_FDCWD,
            &to,
            libc::RENAME_NOREPLACE,
        )
        .is_ok()
    });
    if !taken {
        return false;
    }
    crate::rt::crash::step("create: spare taken");
    // (One failed unlink, the usual case.) Not removable: neither is the
    // spare kept (create's upper mkdir refuses one that is still there).
    match remove_tree(libc::AT_FDCWD, &upper) {
        Ok(()) => true,
        Err(_) => {
            let _ = remove_tree(libc::AT_FDCWD, &to);
            false
        }
    }
}

/// Keep removed container `id`'s directory (`<root>/containers/<id>`,
/// its record gone) as a spare: everything in it but `work` removed, and
/// everything in `work`. Ok(false): not one to keep, left as it was:
/// remove it. Ok(true): gone from there, kept or else removed. Err: it
/// could not be removed, and is left as `.<id>.tmp<pid>` (which gc
/// clears once this pocket is gone).
pub fn give(root: &str, id: &str) -> Result<bool, Errno> {
    if proc::geteuid() != 0 {
        return Ok(false);
    }
    let (Some(cdir), Some(name)) = (
        cstring(format!("{root}/containers").as_bytes()),
        cstring(id.as_bytes()),
    ) else {
        return Ok(false);
    };
    let Ok(cd) = fd::open(&cdir, libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC, 0) else {
        return Ok(false);
    };
    let Ok(top) = fd::openat(cd.raw(), &name, DIR, 0) else {
        return Ok(false);
    };
    // gc removes a container directory whose record is gone under this
    // lock (Store::lock's, on it): not this one while it is emptied. (A
    // durable container's remover holds it: that one is never kept.)
    if fs::flock(top.raw(), libc::LOCK_EX | libc::LOCK_NB).is_err() {
        return Ok(false);
    }
    if !fresh(&top, c"", DIR_MODE) || !fresh(&top, c"work", WORK_MODE) {
        return Ok(false);
    }
    // Out of the way of whatever still writes there by path (a monitor
    // that outlived its wait rotating the log), under the name of a
    // directory being made, which gc clears should this pocket die.
    let staged = cstring(format!(".{id}.tmp{}", proc::getpid()).as_bytes()).unwrap_or_default();
    if fs::renameat2(cd.raw(), &name, cd.raw(), &staged, libc::RENAME_NOREPLACE).is_err() {
        return Ok(false);
    }
    crate::rt::crash::step("rm: directory staged as a spare");
    match keep(root, &cd, &top, &staged) {
        true => Ok(true),
        false => remove_tree(cd.raw(), &staged).map(|()| true),
    }
}

/// Empty the staged directory open on `top` down to an empty `work`, and
/// move it into a free slot.
fn keep(root: &str, cd: &Fd, top: &Fd, staged: &core::ffi::CStr) -> bool {
    let emptied = fd::openat(top.raw(), c".", DIR, 0)
        .and_then(|all| tree::empty(all, &|n| n == c"work"))
        .inspect(|()| crate::rt::crash::step("rm: spare emptied but its work dir"))
        .and_then(|()| fd::openat(top.raw(), c"work", DIR, 0))
        .and_then(|w| match tree::mount_of(&w)? == tree::mount_of(top)? {
            true => tree::empty(w, &|_| false),
            // A mount on it: not ours to empty.
            false => Err(Errno::EBUSY),
        });
    // Nothing came back meanwhile, of any name: `work` alone, empty.
    let count = |d: &Fd| {
        let mut n = 0;
        fs::each_entry(d, |_, _| {
            n += 1;
            Ok(())
        })
        .map(|()| n)
    };
    let work = fd::openat(top.raw(), c"work", DIR, 0);
    let only_work = count(top) == Ok(1) && work.is_ok_and(|w| count(&w) == Ok(0));
    if emptied.is_err() || !only_work {
        return false;
    }
    let Some(spare) = cstring(format!("{root}/spare").as_bytes()) else {
        return false;
    };
    let slot = |n: u32| {
        let to = cstring(format!("{root}/spare/{n}").as_bytes()).unwrap_or_default();
        fs::renameat2(
            cd.raw(),
            staged,
            libc::AT_FDCWD,
            &to,
            libc::RENAME_NOREPLACE,
        )
    };
    // The spare directory is made at the first removal that keeps one.
    let first = match slot(0) {
        Err(Errno::ENOENT) => fs::mkdir(&spare, 0o700).and_then(|()| slot(0)),
        r => r,
    };
    first.is_ok() || (1..SLOTS).any(|n| slot(n).is_ok())
}

/// `name` in `dir` ("" for `dir` itself) is a directory of root's with
/// exactly `mode`, as create made it (not chowned for a user namespace's
/// root, say).
fn fresh(dir: &Fd, name: &core::ffi::CStr, mode: u32) -> bool {
    let flags = match name.is_empty() {
        true => libc::AT_EMPTY_PATH,
        false => libc::AT_SYMLINK_NOFOLLOW,
    };
    fd::fstatat(dir.raw(), name, flags)
        .is_ok_and(|st| st.st_mode == libc::S_IFDIR | mode && st.st_uid == 0 && st.st_gid == 0)
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
        made_in(&root, "c");
        (root.clone(), root.to_str().unwrap().to_string())
    }

    fn made_in(root: &Path, id: &str) -> PathBuf {
        let disk = root.join("containers").join(id);
        let mode = |d: &Path, m| std::fs::set_permissions(d, std::fs::Permissions::from_mode(m));
        std::fs::create_dir_all(&disk).unwrap();
        mode(&disk, DIR_MODE).unwrap();
        for sub in ["upper", "work"] {
            std::fs::create_dir(disk.join(sub)).unwrap();
            mode(&disk.join(sub), WORK_MODE).unwrap();
        }
        disk
    }

    fn root() -> bool {
        let me = proc::geteuid() == 0;
        if !me {
            std::eprintln!("SKIP spare dirs: pocket keeps them as root only");
        }
        me
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
    fn a_removed_containers_work_dir_is_kept_empty_and_taken_by_the_next() {
        if !root() {
            return;
        }
        let (root, r) = made("keep");
        let d = root.join("containers/c");
        // What a container and its overlay leave: its files, the
        // volatile marker, a log.
        std::fs::create_dir_all(d.join("upper/etc/deep")).unwrap();
        std::fs::write(d.join("upper/etc/deep/secret"), "x").unwrap();
        std::fs::create_dir_all(d.join("work/work/incompat/volatile")).unwrap();
        std::fs::write(d.join("work/work/incompat/volatile/dirty"), "").unwrap();
        std::fs::write(d.join("container.log"), "log").unwrap();
        assert_eq!(give(&r, "c"), Ok(true));
        assert!(
            entries(&root.join("containers")).is_empty(),
            "moved away, none staged"
        );
        let spare = root.join("spare/0");
        assert_eq!(entries(&spare), ["work"], "upper is always made afresh");
        assert!(entries(&spare.join("work")).is_empty());
        // The next container's directory is the spare.
        let next = format!("{r}/containers/n");
        assert!(take(&r, &next));
        assert_eq!(entries(Path::new(&next)), ["work"]);
        assert!(entries(&root.join("spare")).is_empty());
        assert!(!take(&r, &format!("{r}/containers/m")), "none left");
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn what_create_did_not_make_is_left_to_remove() {
        if !root() {
            return;
        }
        type Change = fn(&Path);
        let changes: [(&str, Change); 3] = [
            ("chmod", |d| {
                std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap()
            }),
            // A user namespace's root owns it (give_to_ns_root).
            ("chown", |d| {
                chown(d.join("work"), Some(100000), Some(100000)).unwrap()
            }),
            // A symlink to a directory of root's, 0755, with a file in it.
            ("symlink", |d| {
                let canary = d.join("../../canary");
                std::fs::create_dir(&canary).unwrap();
                std::fs::set_permissions(&canary, std::fs::Permissions::from_mode(WORK_MODE))
                    .unwrap();
                std::fs::write(canary.join("kept"), "").unwrap();
                std::fs::remove_dir(d.join("work")).unwrap();
                std::os::unix::fs::symlink(&canary, d.join("work")).unwrap()
            }),
        ];
        for (tag, change) in changes {
            let (root, r) = made(tag);
            let d = root.join("containers/c");
            change(&d);
            assert_eq!(give(&r, "c"), Ok(false), "{tag}");
            assert_eq!(entries(&d).len(), 2, "{tag}: untouched");
            if tag == "symlink" {
                assert_eq!(entries(&root.join("canary")), ["kept"]);
            }
            assert!(entries(&root.join("spare")).is_empty(), "{tag}");
            let _ = std::fs::remove_dir_all(&root);
        }
    }

    /// gc removes a directory with no record under its lock: one it
    /// holds is not kept (nor touched).
    #[test]
    fn a_locked_directory_is_left_to_remove() {
        if !root() {
            return;
        }
        let (root, r) = made("locked");
        let d = root.join("containers/c");
        let c = cstring(d.to_str().unwrap().as_bytes()).unwrap();
        let _held = crate::sys::lock::Lock::on(fd::open(&c, DIR, 0).unwrap()).unwrap();
        assert_eq!(give(&r, "c"), Ok(false));
        assert_eq!(entries(&d), ["upper", "work"]);
        let _ = std::fs::remove_dir_all(&root);
    }

    /// A spare an older pocket kept with its upper dir: never handed on
    /// as a container's upper dir again.
    #[test]
    fn a_spare_with_an_upper_dir_loses_it_when_taken() {
        if !root() {
            return;
        }
        let (root, r) = made("old");
        let old = root.join("spare/0");
        std::fs::create_dir(root.join("spare")).unwrap();
        std::fs::rename(root.join("containers/c"), &old).unwrap();
        std::fs::write(old.join("upper/left"), "").unwrap();
        let next = format!("{r}/containers/n");
        assert!(take(&r, &next));
        assert_eq!(entries(Path::new(&next)), ["work"]);
        let _ = std::fs::remove_dir_all(&root);
    }

    /// One whose upper dir cannot be removed (a file in it immutable) is
    /// not taken (what is left of it stays, and create's upper mkdir
    /// refuses the one still there: the run fails, never reuses it).
    #[test]
    fn a_spare_whose_upper_dir_stays_is_not_taken() {
        if !root() {
            return;
        }
        let (root, r) = made("stuck");
        let old = root.join("spare/0");
        std::fs::create_dir(root.join("spare")).unwrap();
        std::fs::rename(root.join("containers/c"), &old).unwrap();
        let stuck = old.join("upper/stuck");
        std::fs::write(&stuck, "").unwrap();
        let chattr = |flag: &str, p: &Path| {
            std::process::Command::new("chattr")
                .arg(flag)
                .arg(p)
                .status()
                .is_ok_and(|s| s.success())
        };
        if !chattr("+i", &stuck) {
            std::eprintln!("SKIP an immutable file: chattr +i failed here");
            let _ = std::fs::remove_dir_all(&root);
            return;
        }
        let next = format!("{r}/containers/n");
        assert!(!take(&r, &next));
        let _ = chattr("-i", &Path::new(&next).join("upper/stuck"));
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn spares_are_bounded_and_the_rest_removed() {
        if !root() {
            return;
        }
        let (root, r) = made("bound");
        for n in 0..SLOTS + 1 {
            made_in(&root, &format!("c{n}"));
            assert_eq!(give(&r, &format!("c{n}")), Ok(true), "slot {n}");
        }
        assert_eq!(entries(&root.join("spare")).len(), SLOTS as usize);
        assert_eq!(
            entries(&root.join("containers")),
            ["c"],
            "the fifth removed"
        );
        let _ = std::fs::remove_dir_all(&root);
    }
}
