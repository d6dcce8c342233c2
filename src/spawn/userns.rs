//! A container's user namespace, from the parent's side: the child is
//! cloned with CLONE_NEWUSER (its other new namespaces then belong to
//! it), and waits on the sync socket while the parent writes its maps;
//! only then does it become root in it and mount anything.

use crate::error::Context;
use crate::error::{Error, Result};
use crate::spec::IdMap;
use crate::sys::fd::{self, Fd};
use crate::sys::proc;
use alloc::format;
use alloc::string::String;

/// The text of a uid_map or gid_map: one "inside outside count" line each.
pub fn map_text(maps: &[IdMap]) -> String {
    let mut s = String::new();
    for m in maps {
        s.push_str(&format!("{} {} {}\n", m.container, m.host, m.size));
    }
    s
}

/// The setuid helpers that write maps for a user who is not root (the
/// one exception to "no host programs": the kernel lets a plain user map
/// nothing but its own id). Debian's package `uidmap`.
pub const NEWUIDMAP: &str = "/usr/bin/newuidmap";
pub const NEWGIDMAP: &str = "/usr/bin/newgidmap";

/// How the maps get written: by pocket itself (root, or a plain user's
/// own single id, after `setgroups deny`), or by newuidmap/newgidmap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer {
    Root,
    /// Its own id only: setgroups(2) is denied in the namespace, so
    /// the container cannot drop a group the user is in.
    OwnId,
    Helpers,
}

/// Who writes these maps, for this process.
pub fn writer(uid: &[IdMap], gid: &[IdMap]) -> Writer {
    let (me, my_gid) = (proc::geteuid(), proc::getegid());
    let own = |m: &[IdMap], id: u32| m.len() == 1 && m[0].host == id && m[0].size == 1;
    match me {
        0 => Writer::Root,
        _ if own(uid, me) && own(gid, my_gid) => Writer::OwnId,
        _ => Writer::Helpers,
    }
}

/// A plain user's default maps (podman's): root inside is the user, and
/// ids 1.. are its subordinate range from /etc/subuid and /etc/subgid
/// (65535 at most) when it has both and the helpers are installed; else
/// root alone is mapped.
pub fn rootless_maps() -> (alloc::vec::Vec<IdMap>, alloc::vec::Vec<IdMap>) {
    let (uid, gid) = (proc::geteuid(), proc::getegid());
    let one = |id| IdMap {
        container: 0,
        host: id,
        size: 1,
    };
    let mut u = alloc::vec![one(uid)];
    let mut g = alloc::vec![one(gid)];
    let name = user_name(uid);
    let helpers = [NEWUIDMAP, NEWGIDMAP]
        .iter()
        .all(|p| crate::error::cpath(p).is_ok_and(|c| fd::access(&c, libc::X_OK).is_ok()));
    if let (true, Some(su), Some(sg)) = (
        helpers,
        sub_range(c"/etc/subuid", name.as_deref(), uid),
        sub_range(c"/etc/subgid", name.as_deref(), uid),
    ) {
        let more = |(start, count): (u32, u32)| IdMap {
            container: 1,
            host: start,
            size: count.min(65535),
        };
        u.push(more(su));
        g.push(more(sg));
    }
    (u, g)
}

/// The user's name in /etc/passwd, if it has one.
fn user_name(uid: u32) -> Option<String> {
    let data = crate::sys::fs::read(c"/etc/passwd").ok()?;
    let text = String::from_utf8_lossy(&data);
    text.lines().find_map(|l| {
        let mut f = l.split(':');
        let (name, id) = (f.next()?, f.nth(1)?);
        (id.parse::<u32>().ok()? == uid).then(|| String::from(name))
    })
}

/// The first `name:start:count` (or `uid:start:count`) line of a subid
/// file for this user.
fn sub_range(file: &core::ffi::CStr, name: Option<&str>, uid: u32) -> Option<(u32, u32)> {
    let data = crate::sys::fs::read(file).ok()?;
    parse_sub_range(&String::from_utf8_lossy(&data), name, uid)
}

fn parse_sub_range(text: &str, name: Option<&str>, uid: u32) -> Option<(u32, u32)> {
    let uid_s = format!("{uid}");
    text.lines().find_map(|l| {
        let mut f = l.trim().split(':');
        let who = f.next()?;
        if Some(who) != name && who != uid_s {
            return None;
        }
        let start = f.next()?.parse::<u32>().ok()?;
        let count = f.next()?.parse::<u32>().ok()?;
        (count > 0 && start as u64 + count as u64 <= 1 << 32).then_some((start, count))
    })
}

/// Write the child's maps as `writer` says.
pub fn write_maps(pid: i32, uid: &[IdMap], gid: &[IdMap]) -> Result<()> {
    match writer(uid, gid) {
        Writer::Root => write_files(pid, uid, gid),
        Writer::OwnId => {
            // Before gid_map, or the kernel refuses it to a plain user.
            let p = format!("/proc/{pid}/setgroups");
            let f = fd::open(
                &crate::error::cpath(&p)?,
                libc::O_WRONLY | libc::O_CLOEXEC,
                0,
            )
            .ctx("open", &p)?;
            fd::write_all(f.raw(), b"deny").ctx("write", &p)?;
            write_files(pid, uid, gid)
        }
        Writer::Helpers => {
            helper(NEWUIDMAP, pid, uid)?;
            helper(NEWGIDMAP, pid, gid)
        }
    }
}

/// `newuidmap PID inside outside count...`: it checks the ranges against
/// /etc/subuid itself, and says why on its stderr (ours) when it refuses.
fn helper(path: &str, pid: i32, maps: &[IdMap]) -> Result<()> {
    let mut args = alloc::vec![String::from(path), format!("{pid}")];
    for m in maps {
        args.extend([
            format!("{}", m.container),
            format!("{}", m.host),
            format!("{}", m.size),
        ]);
    }
    let hook = crate::spec::Hook {
        path: String::from(path),
        args,
        env: alloc::vec::Vec::new(),
        timeout: Some(10),
    };
    let p = super::hooks::prepare(&hook)?;
    super::hooks::run(&p, &[]).map_err(|f| match f {
        super::hooks::Fail::Exit(127) => Error::bad(
            "user namespace",
            path,
            "not installed: mapping more than your own id needs newuidmap and newgidmap (package uidmap)",
        ),
        f => f.error("user namespace", path),
    })
}

/// Write `/proc/PID/{uid,gid}_map`, each in one write(2) as the kernel
/// wants: pocket is root in the namespace the child's was made from (any
/// map goes, setgroups(2) stays allowed inside), or maps its own id.
fn write_files(pid: i32, uid: &[IdMap], gid: &[IdMap]) -> Result<()> {
    for (file, maps) in [("uid_map", uid), ("gid_map", gid)] {
        let path = format!("/proc/{pid}/{file}");
        let text = map_text(maps);
        let c = crate::error::cpath(&path)?;
        let r = fd::open(&c, libc::O_WRONLY | libc::O_CLOEXEC, 0)
            .and_then(|f| fd::write(f.raw(), text.as_bytes()));
        match r {
            Ok(n) if n == text.len() => {}
            Ok(_) => return Err(Error::sys("write", path, crate::sys::Errno::EIO)),
            // EINVAL: ranges that overlap, or more lines than it takes.
            Err(e) => {
                return Err(Error::bad(
                    format!("write {file}"),
                    text.trim_end().replace('\n', ", "),
                    format!("{e} (ranges must not overlap)"),
                ));
            }
        }
    }
    Ok(())
}

/// A user namespace with these maps, to idmap mounts with before the
/// container's own exists: the helper's namespace, opened while it waits;
/// the fd keeps the namespace once the helper is gone.
pub fn scratch(uid: &[IdMap], gid: &[IdMap]) -> Result<Fd> {
    let (ns, _) = in_new_userns(
        uid,
        gid,
        |pid| {
            let p = format!("/proc/{pid}/ns/user");
            fd::open(
                &crate::error::cpath(&p)?,
                libc::O_RDONLY | libc::O_CLOEXEC,
                0,
            )
            .ctx("open", &p)
        },
        || 0,
    )?;
    Ok(ns)
}

/// `sys::fs::remove_tree`, and for a plain user with a subordinate range,
/// again as root of a user namespace with its maps when that fails with
/// EACCES: what its containers' processes made as ids 1.. inside (in an
/// upper dir, a volume) belongs to those subordinate ids, whose
/// directories the user itself may not empty (podman's `unshare rm`).
pub fn remove_tree(
    dirfd: i32,
    name: &core::ffi::CStr,
) -> core::result::Result<(), crate::sys::Errno> {
    use crate::sys::Errno;
    match crate::sys::fs::remove_tree(dirfd, name) {
        Err(Errno::EACCES | Errno::EPERM) if proc::geteuid() != 0 => {}
        r => return r,
    }
    let (u, g) = rootless_maps();
    if u.len() < 2 {
        return crate::sys::fs::remove_tree(dirfd, name);
    }
    as_ns_root(&u, &g, || {
        crate::sys::fs::remove_tree(dirfd, name).map_or_else(|e| e.into_raw(), |()| 0)
    })
    .map_err(|_| Errno::EACCES)
    .and_then(|code| match code {
        0 => Ok(()),
        e => Err(Errno::new(e)),
    })
}

/// Set in the child `as_users_root` runs a command in.
static USERS_NS: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Whether this process is a plain user's pocket made root of a user
/// namespace with the user's maps (`as_users_root`): it may give files
/// any owner the maps cover, but trusted.* xattrs are still not its.
pub fn in_users_ns() -> bool {
    USERS_NS.load(core::sync::atomic::Ordering::Relaxed)
}

/// Run a plain user's image command (load, pull, save, commit...) as
/// root of a user namespace with the user's own maps, as podman runs its
/// storage in `podman unshare`: what it extracts gets the image's owners
/// (on the host: the user for root, its subordinate range for 1..), and
/// it can read back what those owners made. `f`'s result comes back as
/// if it ran here (an error's text through a pipe). None where it would
/// change nothing: root, or a user whose only mapped id is its own.
pub fn as_users_root(f: impl FnOnce() -> Result<i32>) -> Option<Result<i32>> {
    if proc::geteuid() == 0 || in_users_ns() {
        return None;
    }
    let (u, g) = rootless_maps();
    if u.len() < 2 {
        return None;
    }
    let run = || {
        let (said_r, said_w) = fd::pipe().ctx("pipe", "user namespace")?;
        let w = said_w.raw();
        let mut keep = Some(said_w);
        let ((), code) = in_new_userns(
            &u,
            &g,
            // Ours closed once the child has its copy: EOF when it ends.
            |_| Ok(drop(keep.take())),
            || {
                USERS_NS.store(true, core::sync::atomic::Ordering::Relaxed);
                match f() {
                    Ok(code) => code,
                    Err(e) => {
                        let _ = fd::write_all(w, format!("{e}").as_bytes());
                        e.code
                    }
                }
            },
        )?;
        drop(keep);
        let said = crate::sys::fs::read_fd(&said_r).unwrap_or_default();
        match said.is_empty() {
            true => Ok(code),
            false => Err(Error::text(String::from_utf8_lossy(&said).into_owned()).with_code(code)),
        }
    };
    Some(run())
}

/// Run `f` in a forked child that is root of a new user namespace with
/// these maps (written as `write_maps` does): its exit code (an errno, 0
/// for success) comes back; an error if the namespace or its maps could
/// not be made (then `f` never runs).
fn as_ns_root(uid: &[IdMap], gid: &[IdMap], f: impl FnOnce() -> i32) -> Result<i32> {
    in_new_userns(uid, gid, |_| Ok(()), f).map(|((), code)| code)
}

/// The one handshake with a forked helper in a new user namespace: it
/// unshares one and says so; the parent writes the maps, runs `parent`
/// on its pid while it waits, then lets it become root there and run
/// `child`, whose exit code comes back with `parent`'s result. Where the
/// namespace, its maps or `parent` fail, the helper is told nothing (EOF)
/// and exits without running `child`.
fn in_new_userns<T>(
    uid: &[IdMap],
    gid: &[IdMap],
    parent: impl FnOnce(i32) -> Result<T>,
    child: impl FnOnce() -> i32,
) -> Result<(T, i32)> {
    let (made_r, made_w) = fd::pipe().ctx("pipe", "user namespace")?;
    let (go_r, go_w) = fd::pipe().ctx("pipe", "user namespace")?;
    let pid = proc::fork().ctx("fork", "user namespace")?;
    if pid == 0 {
        drop((made_r, go_w));
        // Not past a pocket killed while it works (a pull, a removal).
        let _ = proc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as u64);
        let ok = proc::unshare(libc::CLONE_NEWUSER).is_ok();
        let _ = fd::write(made_w.raw(), if ok { b"1" } else { b"0" });
        drop(made_w);
        // The maps are written once the parent says so (a byte), or not
        // at all (EOF): then nothing is done.
        let mut b = [0u8; 1];
        if !ok || fd::read(go_r.raw(), &mut b) != Ok(1) || proc::become_ns_root().is_err() {
            proc::exit(libc::EPERM);
        }
        proc::exit(child());
    }
    drop((made_w, go_r));
    let mut b = [0u8; 1];
    let made = matches!(fd::read(made_r.raw(), &mut b), Ok(1)) && b[0] == b'1';
    let mapped = match made {
        false => Err(Error::sys(
            "unshare",
            "user namespace",
            crate::sys::Errno::EPERM,
        )),
        true => write_maps(pid, uid, gid).and_then(|()| parent(pid)),
    };
    if mapped.is_ok() {
        let _ = fd::write(go_w.raw(), b"g");
    }
    drop(go_w);
    let (_, st) = proc::wait(pid, 0).ctx("wait", "user namespace")?;
    mapped.map(|t| (t, proc::exit_code(st)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_are_one_line_each() {
        let m = [
            IdMap {
                container: 0,
                host: 100000,
                size: 65536,
            },
            IdMap {
                container: 65536,
                host: 1000,
                size: 1,
            },
        ];
        assert_eq!(map_text(&m), "0 100000 65536\n65536 1000 1\n");
        assert_eq!(IdMap::host_of(&m, 0), Some(100000));
        assert_eq!(IdMap::host_of(&m, 65535), Some(165535));
        assert_eq!(IdMap::host_of(&m, 65536), Some(1000));
        assert_eq!(IdMap::host_of(&m, 65537), None);
    }

    #[test]
    fn subordinate_ranges_by_name_or_uid() {
        let t = "# c\nalice:100000:65536\n1001:200000:10\nbad:x:1\nzero:5:0\n";
        assert_eq!(
            parse_sub_range(t, Some("alice"), 1000),
            Some((100000, 65536))
        );
        assert_eq!(parse_sub_range(t, Some("bob"), 1001), Some((200000, 10)));
        assert_eq!(parse_sub_range(t, Some("bad"), 7), None);
        assert_eq!(parse_sub_range(t, Some("zero"), 7), None);
        assert_eq!(parse_sub_range(t, None, 9), None);
        assert_eq!(parse_sub_range("x:4294967295:2\n", Some("x"), 1), None);
    }
}
