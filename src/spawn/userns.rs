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

/// Write `/proc/PID/{uid,gid}_map`, each in one write(2) as the kernel
/// wants. pocket is root in the namespace the child's was made from, so
/// any map goes and setgroups(2) stays allowed inside.
pub fn write_maps(pid: i32, uid: &[IdMap], gid: &[IdMap]) -> Result<()> {
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
/// container's own exists: a forked helper unshares one and waits while
/// the maps are written and the namespace opened; the fd keeps the
/// namespace once the helper is gone.
pub fn scratch(uid: &[IdMap], gid: &[IdMap]) -> Result<Fd> {
    let (made_r, made_w) = fd::pipe().ctx("pipe", "user namespace")?;
    let (done_r, done_w) = fd::pipe().ctx("pipe", "user namespace")?;
    let pid = proc::fork().ctx("fork", "user namespace")?;
    if pid == 0 {
        drop((made_r, done_w));
        let ok = proc::unshare(libc::CLONE_NEWUSER).is_ok();
        let _ = fd::write(made_w.raw(), if ok { b"1" } else { b"0" });
        // Until the parent is done with us (EOF).
        let _ = fd::read(done_r.raw(), &mut [0u8; 1]);
        proc::exit(0);
    }
    drop((made_w, done_r));
    let mut b = [0u8; 1];
    let made = matches!(fd::read(made_r.raw(), &mut b), Ok(1)) && b[0] == b'1';
    let ns = match made {
        false => Err(Error::sys(
            "unshare",
            "user namespace",
            crate::sys::Errno::EPERM,
        )),
        true => write_maps(pid, uid, gid).and_then(|()| {
            let p = format!("/proc/{pid}/ns/user");
            fd::open(
                &crate::error::cpath(&p)?,
                libc::O_RDONLY | libc::O_CLOEXEC,
                0,
            )
            .ctx("open", &p)
        }),
    };
    drop(done_w);
    let _ = proc::wait(pid, 0);
    ns
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
}
