//! `-u` / the image's User: "name", "uid", "name:group", "uid:gid" made
//! numeric against the image's own /etc/passwd and /etc/group, read
//! through its layers (top first; a whiteout hides the files below), never
//! following a symlink, so an image cannot make pocket read a host file.

use crate::error::{Error, Result};
use crate::fs::apply::resolve_dir;
use crate::spec::User;
use crate::sys::fd::{self, Fd};
use crate::sys::{Errno, cstr};
use alloc::string::String;
use alloc::vec::Vec;
use linux_raw_sys::general as k;

/// Largest passwd/group file read: the files come from an image or a
/// running container, and must not make pocket allocate without bound.
const MAX: usize = 4 << 20;

/// `etc/<name>` from the topmost layer that has it (or hides it). Only a
/// regular file is read, opened non-blocking: layers hold device nodes
/// and fifos an image planted, and this runs on the host.
pub fn etc_file(roots: &[String], name: &core::ffi::CStr) -> Option<Vec<u8>> {
    for r in roots {
        let c = cstr::cstring(r.as_bytes())?;
        let Ok(root) = fd::open(&c, libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC, 0) else {
            continue;
        };
        let etc: Fd = match resolve_dir(&root, b"etc", false) {
            Ok(d) => d,
            Err(Errno::ENOENT) => continue,
            // A whiteout or anything that is not a plain directory.
            Err(_) => return None,
        };
        let how = (k::RESOLVE_BENEATH | k::RESOLVE_NO_SYMLINKS) as u64;
        let fl = libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC;
        match fd::openat2(etc.raw(), name, fl, how) {
            Ok(f) => {
                let st = fd::fstatat(f.raw(), c"", libc::AT_EMPTY_PATH).ok()?;
                if st.st_mode & libc::S_IFMT != libc::S_IFREG || st.st_size as usize > MAX {
                    return None;
                }
                let mut out = alloc::vec![0u8; st.st_size as usize];
                let n = fd::read_full(f.raw(), &mut out).ok()?;
                out.truncate(n);
                return Some(out);
            }
            Err(Errno::ENOENT) => {}
            Err(_) => return None,
        }
        // An opaque etc hides every etc below it.
        let d = fd::openat(
            etc.raw(),
            c".",
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
            0,
        )
        .ok()?;
        let mut v = [0u8; 1];
        if crate::sys::file::fgetxattr(d.raw(), crate::image::extract::opaque(), &mut v) == Ok(1)
            && v[0] == b'y'
        {
            return None;
        }
    }
    None
}

/// Is the image's /etc a plain directory (in the topmost layer that has
/// an `etc` at all)? Not if that is a symlink, a whiteout or a file.
pub fn etc_is_dir(roots: &[String]) -> bool {
    for r in roots {
        let Some(c) = cstr::cstring(alloc::format!("{r}/etc").as_bytes()) else {
            return false;
        };
        match fd::fstatat(libc::AT_FDCWD, &c, libc::AT_SYMLINK_NOFOLLOW) {
            Ok(st) => return st.st_mode & libc::S_IFMT == libc::S_IFDIR,
            Err(Errno::ENOENT) => continue,
            Err(_) => return false,
        }
    }
    false
}

/// Lines of a colon-separated database, as fields.
fn records(b: &[u8]) -> impl Iterator<Item = Vec<&str>> {
    b.split(|&c| c == b'\n')
        .filter_map(|l| core::str::from_utf8(l).ok())
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split(':').collect())
}

fn num(s: &str) -> Option<u32> {
    (!s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// The home directory of `spec`'s user in the image's /etc/passwd, as
/// docker sets $HOME: "/root" for root by default, "/" when not listed.
pub fn home(spec: &str, roots: &[String]) -> String {
    let u = spec.split(':').next().unwrap_or("");
    if u.is_empty() {
        return String::from("/root");
    }
    let passwd = etc_file(roots, c"passwd").unwrap_or_default();
    records(&passwd)
        .find(|f| f.len() >= 6 && (f[0] == u || num(u).is_some_and(|n| num(f[2]) == Some(n))))
        .map(|f| String::from(f[5]))
        .filter(|h| h.starts_with('/'))
        .unwrap_or_else(|| String::from("/"))
}

/// Resolve `spec` ("" is root) against the layers `roots` (top first).
/// A group by name (the image's /etc/group) or number (--group-add).
pub fn group(g: &str, roots: &[String]) -> Result<u32> {
    if let Some(n) = num(g) {
        return Ok(n);
    }
    let group = etc_file(roots, c"group").unwrap_or_default();
    records(&group)
        .find(|f| f.len() >= 3 && f[0] == g)
        .and_then(|f| num(f[2]))
        .ok_or_else(|| {
            Error::bad(
                "unable to find group",
                g,
                "no matching entries in group file",
            )
        })
}

pub fn resolve(spec: &str, roots: &[String]) -> Result<User> {
    if spec.is_empty() {
        return Ok(User::default());
    }
    let (u, g) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let passwd = etc_file(roots, c"passwd").unwrap_or_default();
    let entry = records(&passwd)
        .find(|f| f.len() >= 4 && (f[0] == u || num(u).is_some_and(|n| num(f[2]) == Some(n))));
    let (uid, mut gid, name) = match (num(u), &entry) {
        (Some(n), Some(f)) => (n, num(f[3]).unwrap_or(0), Some(f[0])),
        (Some(n), None) => (n, 0, None),
        (None, Some(f)) => (
            num(f[2]).ok_or_else(|| Error::bad("user", u, "bad uid in /etc/passwd"))?,
            num(f[3]).unwrap_or(0),
            Some(f[0]),
        ),
        (None, None) => {
            return Err(Error::bad(
                "unable to find user",
                u,
                "no matching entries in passwd file",
            ));
        }
    };
    if let Some(g) = g {
        gid = self::group(g, roots)?;
    }
    let group = etc_file(roots, c"group").unwrap_or_default();
    // Supplementary groups: those listing the user by name, as runc does.
    let mut additional_gids: Vec<u32> = match (name, g) {
        (Some(n), None) => records(&group)
            .filter(|f| f.len() >= 4 && f[3].split(',').any(|m| m == n))
            .filter_map(|f| num(f[2]))
            .filter(|&x| x != gid)
            .collect(),
        _ => Vec::new(),
    };
    additional_gids.dedup();
    Ok(User {
        uid,
        gid,
        additional_gids,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_passwd_group() {
        // "passwd \x1e group \x1e spec"
        let corpus: &[&[u8]] = &[
            b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/nonexistent:/bin/false\nweb:x:1000:1001:,,,:/home/web:/bin/sh\n\x1eroot:x:0:\nweb:x:1001:\nwheel:x:10:web,root\nextra:x:20:a,web\n\x1eweb",
            b"# comment\n\nu:*:4294967295:4294967296:u:relative:\n\x1eg:x:7:u\n\x1eu:g",
            b"a:x:1:2:a:/a\n\x1e\x1e1:2",
            b"a:x:1:2:a:/a\n\x1eg::5:a\n\x1e1",
        ];
        let dict: &[&[u8]] = &[b":x:", b"::", b":0:", b"\n", b"/home/", b",", b"\x1e"];
        // tmpfs if there is one: two files are written a case.
        let shm = std::path::Path::new("/dev/shm");
        let base = match shm.is_dir() {
            true => shm.to_path_buf(),
            false => std::env::temp_dir(),
        };
        let dir = base.join(format!("pocket-user-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("etc")).unwrap();
        let roots = [String::from(dir.to_str().unwrap())];
        crate::rt::fuzz::run(
            "passwd/group",
            corpus,
            dict,
            std::time::Duration::from_secs(60),
            |b| {
                let mut parts = b.splitn(3, |&c| c == 0x1e);
                let passwd = parts.next().unwrap_or(b"");
                let group = parts.next().unwrap_or(b"");
                let spec = String::from_utf8_lossy(parts.next().unwrap_or(b""));
                std::fs::write(dir.join("etc/passwd"), passwd).unwrap();
                std::fs::write(dir.join("etc/group"), group).unwrap();
                assert!(home(&spec, &roots).starts_with('/'));
                let (u, g) = match spec.split_once(':') {
                    Some((u, g)) => (u, Some(g)),
                    None => (&spec[..], None),
                };
                let user = match resolve(&spec, &roots) {
                    Ok(u) => u,
                    Err(e) => {
                        let e = format!("{e}");
                        // Numbers need no entry: only names are refused.
                        assert!(
                            num(u).is_none() || g.is_some_and(|g| num(g).is_none()),
                            "{e}"
                        );
                        return Err(e);
                    }
                };
                if let Some(n) = num(u) {
                    assert_eq!(user.uid, n);
                }
                if let Some(n) = g.and_then(num) {
                    assert_eq!(user.gid, n);
                }
                assert!(!user.additional_gids.contains(&user.gid));
                Ok(())
            },
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
