//! `--userns auto[:size=N]` (podman's): a user namespace whose host ids
//! are a range of the subordinate ids of the user "containers"
//! (/etc/subuid, /etc/subgid) that no other container of this store
//! maps, so root in one container is nobody in every other.
//!
//! * Size: `size=N`, else one more than the highest id the image (or
//!   --rootfs) names in /etc/passwd and /etc/group and the process's own
//!   ids, at least 1024 (podman's auto_userns_min_size); above 65536
//!   (its auto_userns_max_size) it is refused, as podman does, rather
//!   than cut: a cut map would leave the image's own users unmapped.
//! * Used: the host ranges of every container's uid_map and gid_map,
//!   explicit --uidmap ones included. One contiguous range each (container
//!   id 0 at its start), the first that fits.
//! * Root only: a plain user's container has a user namespace already
//!   (0 -> the user), and newuidmap would let it map a subordinate range,
//!   but the container's dirs could not be chowned to it.
//! * Unique per store: containers of another `--root` are not seen (as
//!   podman's storage sees its own only).

use crate::error::{Error, Result};
use crate::spec::{IdMap, Namespace, Spec};
use crate::state::Store;
use crate::sys::Errno;
use crate::sys::lock::Lock;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::ffi::CStr;

/// The user whose subordinate ranges root's auto namespaces come from.
pub const USER: &str = "containers";
/// podman's auto_userns_min_size and auto_userns_max_size.
pub const MIN_SIZE: u64 = 1024;
pub const MAX_SIZE: u64 = 65536;
/// nobody's id: not counted, or nearly every image would need 65535 ids.
const NOBODY: u64 = 65534;

/// What `--userns auto[:OPTIONS]` asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Auto {
    pub size: Option<u32>,
}

/// Host ids `start..end` (u64: a range may end at 2^32 - 1).
pub type Range = (u64, u64);

/// --userns's value: None for no namespace (absent, `host`), the request
/// for `auto`, an error for anything else.
pub fn request(v: Option<&[u8]>) -> Result<Option<Auto>> {
    let v = match v {
        None | Some(b"host") => return Ok(None),
        Some(v) => v,
    };
    let bad = |why: &'static str| {
        Error::bad(
            "invalid --userns",
            String::from_utf8_lossy(v).into_owned(),
            why,
        )
    };
    let opts = match v.strip_prefix(b"auto") {
        Some(b"") => return Ok(Some(Auto::default())),
        Some([b':', rest @ ..]) => rest,
        _ => return Err(bad("host or auto[:size=N] (or --uidmap/--gidmap)")),
    };
    let mut a = Auto::default();
    for o in opts.split(|&c| c == b',') {
        let n = o
            .strip_prefix(b"size=")
            .filter(|n| !n.is_empty() && n.iter().all(u8::is_ascii_digit))
            .and_then(|n| core::str::from_utf8(n).ok()?.parse::<u32>().ok())
            .filter(|&n| n > 0);
        a.size = Some(n.ok_or_else(|| bad("auto's one option is size=N (N from 1)"))?);
    }
    Ok(Some(a))
}

/// A number made of digits only (passwd's "-1" or "" is no id).
fn num(s: &str) -> Option<u64> {
    (!s.is_empty() && s.len() <= 19 && s.bytes().all(|c| c.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// Lines of a colon-separated file, as fields (comments and blanks skipped).
fn records(b: &[u8]) -> impl Iterator<Item = Vec<&str>> {
    b.split(|&c| c == b'\n')
        .filter_map(|l| core::str::from_utf8(l).ok())
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.split(':').collect())
}

/// `user`'s ranges in a subid file's text (`name:start:count` lines, every
/// one that names it), sorted and merged: two adjacent lines give room
/// for a namespace wider than either.
pub fn sub_ranges(text: &[u8], user: &str) -> Vec<Range> {
    let mut out: Vec<Range> = records(text)
        .filter(|f| f.len() == 3 && f[0] == user)
        .filter_map(|f| Some((num(f[1])?, num(f[2])?)))
        // (u32)-1 is no id: the kernel refuses it in a map.
        .filter(|&(start, count)| count > 0 && start.saturating_add(count) <= u32::MAX as u64)
        .map(|(start, count)| (start, start + count))
        .collect();
    crate::rt::sort_by(&mut out, |a, b| a.0 < b.0);
    let mut merged: Vec<Range> = Vec::new();
    for r in out {
        match merged.last_mut() {
            Some(last) if r.0 <= last.1 => last.1 = last.1.max(r.1),
            _ => merged.push(r),
        }
    }
    merged
}

/// How many ids the container needs mapped: one more than the highest of
/// the uids and gids in /etc/passwd, the gids in /etc/group (nobody's and
/// nogroup's left out, as podman does) and the process's own `ids`.
pub fn needed(passwd: &[u8], group: &[u8], ids: &[u32]) -> u64 {
    let named = |f: &Vec<&str>| f[0] != "nobody" && f[0] != "nogroup";
    let listed = records(passwd)
        .filter(|f| f.len() >= 4 && named(f))
        .flat_map(|f| [num(f[2]), num(f[3])])
        .chain(
            records(group)
                .filter(|f| f.len() >= 3 && named(f))
                .map(|f| num(f[2])),
        )
        .flatten()
        .filter(|&id| id != NOBODY);
    listed
        .chain(ids.iter().map(|&id| id as u64))
        .map(|id| id + 1)
        .max()
        .unwrap_or(0)
}

/// The namespace's size: asked for, else what the image needs within
/// podman's bounds.
pub fn size(a: Auto, needed: u64) -> Result<u32> {
    if let Some(n) = a.size {
        return Ok(n);
    }
    if needed > MAX_SIZE {
        return Err(Error::bad(
            "--userns auto",
            "",
            format!(
                "the container needs {needed} ids (its /etc/passwd, /etc/group, -u), more than auto's {MAX_SIZE}: give auto:size=N"
            ),
        ));
    }
    Ok(needed.max(MIN_SIZE) as u32)
}

/// The first `size` ids of `pool` that no range of `used` touches.
pub fn allocate(pool: &[Range], used: &[Range], size: u32) -> Option<u64> {
    let size = size as u64;
    let mut used = used.to_vec();
    crate::rt::sort_by(&mut used, |a, b| a.0 < b.0);
    for &(start, end) in pool {
        let mut at = start;
        for &(u0, u1) in used.iter().filter(|u| u.1 > start && u.0 < end) {
            if u0 >= at + size {
                break;
            }
            at = at.max(u1);
        }
        if at + size <= end {
            return Some(at);
        }
    }
    None
}

/// Give `spec` its auto user namespace. The lock returned keeps the range
/// from every other `--userns auto` of this store: hold it until the
/// container's Spec is saved (then the range shows as used).
pub fn apply(store: &Store, spec: &mut Spec, a: Auto) -> Result<Lock> {
    if crate::sys::proc::geteuid() != 0 {
        return Err(Error::bad(
            "--userns auto",
            "",
            "needs root (a plain user's container has a user namespace already: 0 is you, 1.. your /etc/subuid range)",
        ));
    }
    let pool_u = pool(c"/etc/subuid", "subuid")?;
    let pool_g = pool(c"/etc/subgid", "subgid")?;
    let size = size(a, needed_by(spec))?;
    store.init()?;
    let lock = store.lock_file("userns")?;
    let (used_u, used_g) = used(store)?;
    let exhausted = |what: &str| {
        Error::bad(
            "--userns auto",
            "",
            format!(
                "no free range of {size} ids left in the {what} ranges of \"{USER}\" in /etc/{what} (remove containers, or add ranges)"
            ),
        )
    };
    let hu = allocate(&pool_u, &used_u, size).ok_or_else(|| exhausted("subuid"))?;
    let hg = allocate(&pool_g, &used_g, size).ok_or_else(|| exhausted("subgid"))?;
    let map = |host: u64| {
        alloc::vec![IdMap {
            container: 0,
            host: host as u32,
            size,
        }]
    };
    spec.uid_map = map(hu);
    spec.gid_map = map(hg);
    if !spec.has(Namespace::User) {
        spec.namespaces.push(Namespace::User);
    }
    Ok(lock)
}

/// `needed` for `spec`: its image's layers (top first) or its rootfs, and
/// its process's ids.
fn needed_by(spec: &Spec) -> u64 {
    let u = &spec.process.user;
    let mut ids = alloc::vec![u.uid, u.gid];
    ids.extend(&u.additional_gids);
    let roots = match &spec.root.overlay {
        Some(o) => o.lower.clone(),
        None => alloc::vec![String::from_utf8_lossy(&spec.root.path).into_owned()],
    };
    needed(
        &crate::image::user::etc_file(&roots, c"passwd").unwrap_or_default(),
        &crate::image::user::etc_file(&roots, c"group").unwrap_or_default(),
        &ids,
    )
}

/// USER's ranges in `file`; none is podman's error.
fn pool(file: &CStr, what: &str) -> Result<Vec<Range>> {
    let text = match crate::sys::fs::read(file) {
        Ok(t) => t,
        Err(Errno::ENOENT) => Vec::new(),
        Err(e) => return Err(Error::sys("read", format!("/etc/{what}"), e)),
    };
    let r = sub_ranges(&text, USER);
    if r.is_empty() {
        return Err(Error::bad(
            "--userns auto",
            "",
            format!("no {what} ranges found for user \"{USER}\" in /etc/{what}"),
        ));
    }
    Ok(r)
}

/// The host ranges every container of `store` maps (uids, gids).
fn used(store: &Store) -> Result<(Vec<Range>, Vec<Range>)> {
    let (mut u, mut g) = (Vec::new(), Vec::new());
    let host = |m: &IdMap| (m.host as u64, m.host as u64 + m.size as u64);
    for id in store.ids()? {
        // Most containers have no user namespace: their config is not parsed.
        if !store.config_mentions(&id, "uidMappings") {
            continue;
        }
        // A record that cannot be read maps nothing pocket could know of.
        if let Ok(s) = store.spec(&id) {
            u.extend(s.uid_map.iter().map(host));
            g.extend(s.gid_map.iter().map(host));
        }
    }
    Ok((u, g))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_parses_auto_and_its_size() {
        assert_eq!(request(None).unwrap(), None);
        assert_eq!(request(Some(b"host")).unwrap(), None);
        assert_eq!(request(Some(b"auto")).unwrap(), Some(Auto::default()));
        assert_eq!(
            request(Some(b"auto:size=2048")).unwrap(),
            Some(Auto { size: Some(2048) })
        );
        assert_eq!(
            request(Some(b"auto:size=1,size=7")).unwrap(),
            Some(Auto { size: Some(7) })
        );
        for bad in [
            &b"auto:"[..],
            b"auto:size=",
            b"auto:size=0",
            b"auto:size=-1",
            b"auto:size=+5",
            b"auto:size=4294967296",
            b"auto:size=10,",
            b"auto:uidmapping=0:1:2",
            b"autox",
            b"auto;size=1",
            b"keep-id",
            b"",
            b"\xff",
        ] {
            let e = request(Some(bad)).unwrap_err();
            assert_eq!(e.code, 125, "{bad:?}");
            assert!(format!("{e}").starts_with("invalid --userns"), "{e}");
        }
    }

    #[test]
    fn sub_ranges_takes_every_line_of_the_user_merged() {
        let t = b"# comment\n\
            alice:100000:65536\n\
            containers:300000:1000\n\
            containers:200000:1000\n\
            containers:201000:500\n\
            containers2:900000:10\n\
            containers:5:0\n\
            containers:x:10\n\
            containers:10:20:30\n\
            containers:4294967290:10\n\
            \n  containers:400000:10  \n";
        assert_eq!(
            sub_ranges(t, "containers"),
            [(200000, 201500), (300000, 301000), (400000, 400010)]
        );
        assert_eq!(sub_ranges(t, "alice"), [(100000, 165536)]);
        assert!(sub_ranges(t, "bob").is_empty());
        assert!(sub_ranges(b"\xff\xfe:::\n", "containers").is_empty());
        // Overlapping lines give one range.
        assert_eq!(
            sub_ranges(b"c:10:100\nc:50:10\nc:100:20\n", "c"),
            [(10, 120)]
        );
        // The top of the id space, (u32)-1 left out.
        assert_eq!(
            sub_ranges(b"containers:2147483647:2147483648\n", "containers"),
            [(2147483647, 4294967295)]
        );
    }

    #[test]
    fn needed_is_one_past_the_highest_named_id() {
        let passwd = b"root:x:0:0:root:/root:/bin/sh\n\
            app:x:1500:1400::/home/app:/bin/sh\n\
            nobody:x:65534:65534:nobody:/:/bin/false\n\
            odd:x:-1:abc::/:/bin/sh\n\
            short:x\n";
        let group = b"root:x:0:\nstaff:x:1600:app\nnogroup:x:65534:\n";
        assert_eq!(needed(passwd, b"", &[]), 1501);
        assert_eq!(needed(passwd, group, &[0, 0]), 1601);
        assert_eq!(needed(passwd, group, &[3000]), 3001);
        // nobody run as itself must be mapped.
        assert_eq!(needed(passwd, group, &[65534]), 65535);
        // A 65534 under another name is nobody's too (podman skips the id).
        assert_eq!(needed(b"nfs:x:65534:65534::/:/x\n", b"", &[]), 0);
        assert_eq!(needed(b"", b"", &[]), 0);
        assert_eq!(needed(b"\xff\x00", b"::::", &[]), 0);
        assert_eq!(needed(b"big:x:99999999999999999999:0::/:/x\n", b"", &[]), 1);
        assert_eq!(needed(b"big:x:4294967295:0::/:/x\n", b"", &[]), 4294967296);
    }

    #[test]
    fn size_is_asked_or_bounded() {
        assert_eq!(size(Auto::default(), 0).unwrap(), 1024);
        assert_eq!(size(Auto::default(), 1501).unwrap(), 1501);
        assert_eq!(size(Auto::default(), 65536).unwrap(), 65536);
        assert_eq!(size(Auto { size: Some(5) }, 70000).unwrap(), 5);
        assert_eq!(size(Auto { size: Some(100000) }, 0).unwrap(), 100000);
        let e = size(Auto::default(), 70000).unwrap_err();
        assert_eq!(e.code, 125);
        assert!(format!("{e}").contains("needs 70000 ids"), "{e}");
        assert!(size(Auto::default(), u64::MAX).is_err());
    }

    #[test]
    fn allocate_takes_the_first_free_fit() {
        let pool = [(100000, 110000), (200000, 300000)];
        assert_eq!(allocate(&pool, &[], 1024), Some(100000));
        assert_eq!(allocate(&pool, &[(100000, 101024)], 1024), Some(101024));
        // Used ranges in any order, overlapping, partly outside the pool.
        let used = [(105000, 106000), (90000, 100500), (100400, 101000)];
        assert_eq!(allocate(&pool, &used, 1024), Some(101000));
        assert_eq!(allocate(&pool, &used, 4000), Some(101000));
        assert_eq!(allocate(&pool, &used, 4001), Some(200000));
        assert_eq!(allocate(&pool, &[(99000, 105000)], 5000), Some(105000));
        // An exact fit, then none.
        assert_eq!(allocate(&[(10, 20)], &[(0, 12), (15, 30)], 3), Some(12));
        assert_eq!(allocate(&[(10, 20)], &[(0, 12), (15, 30)], 4), None);
        assert_eq!(allocate(&pool, &[(0, u32::MAX as u64)], 1), None);
        assert_eq!(allocate(&[], &[], 1), None);
        assert_eq!(allocate(&pool, &[], 100001), None);
        // The top of the id space.
        let top = [(4294967295 - 2048, 4294967295)];
        assert_eq!(allocate(&top, &[], 2048), Some(4294967295 - 2048));
        assert_eq!(allocate(&top, &[], 2049), None);
        // Each allocation, once used, is never handed out again.
        let mut used = Vec::new();
        while let Some(s) = allocate(&pool, &used, 3000) {
            assert!(used.iter().all(|u: &Range| s + 3000 <= u.0 || s >= u.1));
            used.push((s, s + 3000));
        }
        assert_eq!(used.len(), 3 + 33);
    }
}
