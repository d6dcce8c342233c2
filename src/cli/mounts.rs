//! `-v` and `--tmpfs` as docker reads them, turned into OCI mounts.
//!
//! Everything is parsed and checked first (`parse`, pure); only then are
//! missing host directories and named volumes made, so a bad flag leaves
//! nothing behind.

use crate::error::{Context, Error, Result};
use crate::spec::Mount;
use crate::state::volumes;
use crate::sys::{Errno, cstr, fd, fs};
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// Where a `-v` takes its data from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `-v /host/path:/ctr`: a host path, made (0755) if missing.
    Host(String),
    /// `-v NAME:/ctr`: a named volume, made if missing.
    Named(String),
    /// `-v /ctr`: a new volume with a random name.
    Anonymous,
    /// `--mount type=bind,src=/host/path`: a host path that must exist
    /// (docker makes none for --mount).
    Bind(String),
}

/// One parsed `-v` or `--tmpfs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Volume {
        source: Source,
        destination: String,
        ro: bool,
        /// A new volume is not filled from the image (volume-nocopy).
        nocopy: bool,
    },
    Tmpfs {
        destination: String,
        options: Vec<String>,
    },
}

impl Parsed {
    pub fn destination(&self) -> &str {
        match self {
            Parsed::Volume { destination, .. } | Parsed::Tmpfs { destination, .. } => destination,
        }
    }
}

fn bad(spec: &str, why: impl Into<alloc::borrow::Cow<'static, str>>) -> Error {
    Error::bad(
        "invalid volume specification",
        alloc::format!("'{spec}'"),
        why,
    )
}

/// A container path, cleaned: absolute, no `..`, not `/` itself;
/// `//x/./y/` becomes `/x/y`.
fn destination(spec: &str, dst: &str) -> Result<String> {
    if !dst.starts_with('/') {
        return Err(bad(
            spec,
            alloc::format!("mount path '{dst}' must be absolute"),
        ));
    }
    let mut out = String::new();
    for c in dst.split('/').filter(|c| !c.is_empty() && *c != ".") {
        if c == ".." {
            return Err(bad(spec, "mount path must not contain '..'"));
        }
        out.push('/');
        out.push_str(c);
    }
    if out.is_empty() {
        return Err(bad(spec, "destination can't be '/'"));
    }
    Ok(out)
}

fn utf8(v: &[u8]) -> Result<&str> {
    let s = core::str::from_utf8(v).map_err(|_| {
        Error::bad(
            "invalid volume specification",
            String::from_utf8_lossy(v).into_owned(),
            "not UTF-8",
        )
    })?;
    if s.contains('\0') {
        return Err(bad(s, "contains a NUL byte"));
    }
    Ok(s)
}

/// `-v [SRC:]DST[:MODE]`: MODE is a comma list of ro|rw, z|Z (accepted,
/// no SELinux labels here), nocopy (volumes do not copy image content
/// anyway), private|rprivate (every mount is private already).
pub fn parse_volume(v: &[u8]) -> Result<Parsed> {
    let spec = utf8(v)?;
    let parts: Vec<&str> = spec.split(':').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(bad(spec, "empty section between colons"));
    }
    let (src, dst, mode) = match parts[..] {
        [d] => (None, d, None),
        [s, d] => (Some(s), d, None),
        [s, d, m] => (Some(s), d, Some(m)),
        _ => return Err(bad(spec, "too many colons")),
    };
    let destination = destination(spec, dst)?;
    let source = match src {
        None => Source::Anonymous,
        Some(s) if s.starts_with('/') => Source::Host(s.to_string()),
        // docker 23+: `./dir`, `../dir` and `.` are the caller's.
        Some(s) if s == "." || s.starts_with("./") || s.starts_with("../") => {
            Source::Host(relative(s)?)
        }
        Some(s) if volumes::valid(s) => Source::Named(s.to_string()),
        Some(s) => {
            return Err(bad(
                spec,
                alloc::format!(
                    "\"{s}\" is not a valid volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+); \
                     for a host directory, give an absolute path"
                ),
            ));
        }
    };
    let mut ro = None;
    let mut label = false;
    let mut nocopy = false;
    let mut propagation = false;
    for m in mode.map(|m| m.split(',')).into_iter().flatten() {
        let dup = match m {
            "ro" | "rw" => ro.replace(m == "ro").is_some(),
            "z" | "Z" => core::mem::replace(&mut label, true),
            "nocopy" if !matches!(source, Source::Host(_)) => core::mem::replace(&mut nocopy, true),
            "private" | "rprivate" => core::mem::replace(&mut propagation, true),
            "shared" | "rshared" | "slave" | "rslave" => {
                return Err(bad(
                    spec,
                    alloc::format!("propagation {m} is not supported: every mount is private"),
                ));
            }
            _ => return Err(bad(spec, alloc::format!("invalid mode: {m}"))),
        };
        if dup {
            return Err(bad(
                spec,
                alloc::format!("invalid mode: {}", mode.unwrap_or("")),
            ));
        }
    }
    Ok(Parsed::Volume {
        source,
        destination,
        ro: ro.unwrap_or(false),
        nocopy,
    })
}

/// A relative host path made absolute against the working directory.
fn relative(s: &str) -> Result<String> {
    let mut buf = [0u8; 4096];
    let cwd = crate::sys::proc::getcwd(&mut buf).ctx("getcwd", s)?;
    let cwd =
        core::str::from_utf8(cwd).map_err(|_| bad(s, "the working directory is not UTF-8"))?;
    let mut parts: Vec<&str> = cwd.split('/').filter(|c| !c.is_empty()).collect();
    for c in s.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    Ok(alloc::format!("/{}", parts.join("/")))
}

/// `--mount type=bind|volume|tmpfs,src=,dst=,readonly,...`: docker's
/// long form of -v and --tmpfs.
pub fn parse_mount<'a>(v: &'a [u8]) -> Result<Parsed> {
    let spec = utf8(v)?;
    let bad = |why: alloc::string::String| {
        Error::bad(
            alloc::format!("invalid argument \"{spec}\" for \"--mount\" flag"),
            "",
            why,
        )
    };
    let (mut kind, mut src, mut dst) = (None, None, None);
    let (mut ro, mut nocopy) = (false, false);
    let mut tmpfs: Vec<String> = Vec::new();
    for field in spec.split(',') {
        let (k, val) = match field.split_once('=') {
            Some((k, v)) => (k.trim(), Some(v)),
            None => (field.trim(), None),
        };
        let flag = |v: Option<&str>| match v {
            None | Some("true" | "1") => Ok(true),
            Some("false" | "0") => Ok(false),
            Some(x) => Err(bad(alloc::format!("invalid value for {k}: {x}"))),
        };
        let need = |v: Option<&'a str>| {
            v.ok_or_else(|| {
                bad(alloc::format!(
                    "invalid field '{k}' must be a key=value pair"
                ))
            })
        };
        match k {
            "type" => kind = Some(need(val)?),
            "source" | "src" => src = Some(need(val)?),
            "destination" | "dst" | "target" => dst = Some(need(val)?),
            "readonly" | "ro" => ro = flag(val)?,
            "volume-nocopy" => nocopy = flag(val)?,
            "bind-propagation" => match need(val)? {
                "private" | "rprivate" => {}
                p => {
                    return Err(bad(alloc::format!(
                        "propagation {p} is not supported: every mount is private"
                    )));
                }
            },
            "tmpfs-size" => {
                let n = crate::cgroup::flags::parse_bytes(need(val)?)
                    .filter(|n| *n > 0)
                    .ok_or_else(|| bad(String::from("tmpfs-size: a size (64m)")))?;
                // Given twice: the last one (as --tmpfs, and the kernel).
                tmpfs.retain(|o: &String| !o.starts_with("size="));
                tmpfs.push(alloc::format!(
                    "size={}k",
                    (n as u64).saturating_add(1023) / 1024
                ));
            }
            "tmpfs-mode" => {
                let m = need(val)?;
                u32::from_str_radix(m, 8)
                    .ok()
                    .filter(|m| *m <= 0o7777)
                    .ok_or_else(|| bad(alloc::format!("tmpfs-mode: an octal mode, not {m}")))?;
                tmpfs.retain(|o: &String| !o.starts_with("mode="));
                tmpfs.push(alloc::format!("mode={m}"));
            }
            "consistency" | "bind-nonrecursive" => {}
            "volume-driver" if val == Some("local") => {}
            _ => return Err(bad(alloc::format!("unexpected key '{k}' in '{field}'"))),
        }
    }
    let dst = dst.ok_or_else(|| bad(String::from("target is required")))?;
    let destination = destination(spec, dst)?;
    match kind.unwrap_or("volume") {
        "bind" => {
            let s = src.ok_or_else(|| bad(String::from("source is required when type is bind")))?;
            let s = if s.starts_with('/') {
                String::from(s)
            } else {
                relative(s)?
            };
            Ok(Parsed::Volume {
                source: Source::Bind(s),
                destination,
                ro,
                nocopy: false,
            })
        }
        "volume" => {
            let source = match src {
                None => Source::Anonymous,
                Some(n) if volumes::valid(n) => Source::Named(String::from(n)),
                Some(n) => return Err(bad(alloc::format!("\"{n}\" is not a valid volume name"))),
            };
            Ok(Parsed::Volume {
                source,
                destination,
                ro,
                nocopy,
            })
        }
        "tmpfs" => {
            if src.is_some() {
                return Err(bad(String::from("source is not allowed for tmpfs")));
            }
            let mut options: Vec<String> = ["noexec", "nosuid", "nodev"]
                .iter()
                .map(|s| String::from(*s))
                .collect();
            if ro {
                options.push(String::from("ro"));
            }
            options.extend(tmpfs);
            Ok(Parsed::Tmpfs {
                destination,
                options,
            })
        }
        t => Err(bad(alloc::format!(
            "unknown mount type '{t}': bind, volume or tmpfs"
        ))),
    }
}

/// A size as tmpfs takes it: digits with an optional k/m/g (either case)
/// or % suffix.
fn tmpfs_size(v: &str) -> bool {
    let d = v.trim_end_matches(['k', 'K', 'm', 'M', 'g', 'G', '%']);
    !d.is_empty() && v.len() - d.len() <= 1 && d.bytes().all(|c| c.is_ascii_digit())
}

/// `--tmpfs /path[:OPTIONS]`, OPTIONS as mount(8) takes them for tmpfs.
/// docker's defaults noexec,nosuid,nodev come first; exec, suid and dev
/// take them back.
pub fn parse_tmpfs(v: &[u8]) -> Result<Parsed> {
    let spec = utf8(v)?;
    let (dst, opts) = match spec.split_once(':') {
        Some((d, o)) => (d, o),
        None => (spec, ""),
    };
    let destination = destination(spec, dst)?;
    let mut options: Vec<String> = ["noexec", "nosuid", "nodev"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let bad_opt = |o: &str| {
        Error::bad(
            "invalid tmpfs option",
            alloc::format!("'{o}'"),
            alloc::format!("in --tmpfs {spec}"),
        )
    };
    for o in opts.split(',').filter(|o| !o.is_empty()) {
        let (key, val) = match o.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (o, None),
        };
        // A flag replaces its opposite; a key=value an earlier one.
        let drop: &[&str] = match (key, val) {
            ("ro" | "rw", None) => &["ro", "rw"],
            ("exec" | "noexec", None) => &["exec", "noexec"],
            ("suid" | "nosuid", None) => &["suid", "nosuid"],
            ("dev" | "nodev", None) => &["dev", "nodev"],
            ("atime" | "noatime" | "relatime" | "strictatime", None) => {
                &["atime", "noatime", "relatime", "strictatime"]
            }
            ("size" | "nr_blocks" | "nr_inodes", Some(v)) if tmpfs_size(v) => &[],
            ("mode", Some(v))
                if !v.is_empty() && u32::from_str_radix(v, 8).is_ok_and(|m| m <= 0o7777) =>
            {
                &[]
            }
            ("uid" | "gid", Some(v)) if v.parse::<u32>().is_ok() => &[],
            _ => return Err(bad_opt(o)),
        };
        options.retain(|x| {
            let k = x.split('=').next().unwrap_or("");
            !drop.contains(&x.as_str()) && (val.is_none() || k != key)
        });
        // "exec", "suid", "dev", "rw" and "atime" are what is left when
        // their opposite is gone: nothing to pass on.
        if !matches!(o, "exec" | "suid" | "dev" | "rw" | "atime") {
            options.push(o.to_string());
        }
    }
    Ok(Parsed::Tmpfs {
        destination,
        options,
    })
}

/// Parse all of `-v` and `--tmpfs`; refuse two mounts on one path.
/// Sorted by depth (stable), as docker mounts them: `/a` before `/a/b`.
pub fn parse(volumes: &[&[u8]], tmpfs: &[&[u8]], mounts: &[&[u8]]) -> Result<Vec<Parsed>> {
    let mut out = Vec::with_capacity(volumes.len() + tmpfs.len() + mounts.len());
    for v in volumes {
        out.push(parse_volume(v)?);
    }
    for t in tmpfs {
        out.push(parse_tmpfs(t)?);
    }
    for m in mounts {
        out.push(parse_mount(m)?);
    }
    for (i, p) in out.iter().enumerate() {
        if out[..i].iter().any(|q| q.destination() == p.destination()) {
            return Err(Error::bad(
                "duplicate mount point",
                p.destination().to_string(),
                "given twice",
            ));
        }
    }
    let depth = |p: &Parsed| p.destination().matches('/').count();
    crate::rt::sort_by(&mut out, |a, b| depth(a) < depth(b));
    Ok(out)
}

/// The host side of a bind: made (0755, with its parents) if missing, as
/// docker does for `-v /abs:/x`.
fn host_source(path: &str) -> Result<()> {
    let c = cstr::cstring(path.as_bytes())
        .ok_or_else(|| Error::bad("bind source", path, "contains a NUL byte"))?;
    match fd::fstatat(libc::AT_FDCWD, &c, 0) {
        Ok(_) => Ok(()),
        Err(Errno::ENOENT) => {
            fs::mkdir_all(path.trim_end_matches('/'), 0o755).ctx("create bind source", path)
        }
        Err(e) => Err(Error::sys("bind source", path, e)),
    }
}

/// The volumes `user_mounts` made, and the empty ones it filled from the
/// image: undone if the container is not made after all, so a run that
/// fails leaves no volume (nor a half copied one) behind.
#[derive(Default)]
pub struct Made {
    made: Vec<String>,
    filled: Vec<String>,
}

impl Made {
    pub fn undo(&self, store: &crate::state::Store) {
        for n in &self.made {
            let _ = volumes::remove(store, n);
        }
        for n in &self.filled {
            let _ = volumes::empty(store, n);
        }
    }
}

/// The volume `name` (None: anonymous), made if need be (noted in `made`).
fn volume(pocket_root: &str, name: Option<&str>, made: &mut Made) -> Result<String> {
    let (n, new) = volumes::made(pocket_root, name, &[])?;
    if new {
        made.made.push(n.clone());
    }
    Ok(n)
}

/// `-v`, `--tmpfs` and `--mount` as OCI mounts, after checking all of
/// them: missing host directories and named volumes are made (volumes
/// filled from the image, as docker's copy-up), and what was made is
/// returned for `Made::undo`. On an error it is undone already.
pub fn user_mounts(
    store: &crate::state::Store,
    volumes: &[&[u8]],
    tmpfs: &[&[u8]],
    mounts: &[&[u8]],
    image: Option<&[String]>,
) -> Result<(Vec<Mount>, Made)> {
    let mut made = Made::default();
    match make_mounts(&store.root, volumes, tmpfs, mounts, image, &mut made) {
        Ok(m) => Ok((m, made)),
        Err(e) => {
            made.undo(store);
            Err(e)
        }
    }
}

fn make_mounts(
    pocket_root: &str,
    volumes: &[&[u8]],
    tmpfs: &[&[u8]],
    mounts: &[&[u8]],
    image: Option<&[String]>,
    made: &mut Made,
) -> Result<Vec<Mount>> {
    let parsed = parse(volumes, tmpfs, mounts)?;
    // --mount's bind sources must be there (docker's words); checked
    // before anything is made.
    for p in &parsed {
        if let Parsed::Volume {
            source: Source::Bind(s),
            ..
        } = p
            && !super::image_out::exists(s.as_bytes())
        {
            return Err(Error::bad(
                "invalid mount config for type \"bind\"",
                String::new(),
                alloc::format!("bind source path does not exist: {s}"),
            ));
        }
    }
    let mut out = Vec::with_capacity(parsed.len());
    for p in parsed {
        out.push(match p {
            Parsed::Tmpfs {
                destination,
                options,
            } => Mount {
                destination,
                kind: "tmpfs".to_string(),
                source: "tmpfs".to_string(),
                options,
            },
            Parsed::Volume {
                source,
                destination,
                ro,
                nocopy,
            } => {
                let host = matches!(source, Source::Host(_) | Source::Bind(_));
                let (source, name) = match source {
                    Source::Host(h) => {
                        host_source(&h)?;
                        (h, None)
                    }
                    Source::Bind(h) => (h, None),
                    Source::Named(n) => {
                        volume(pocket_root, Some(&n), made)?;
                        (volumes::mountpoint(pocket_root, &n), Some(n))
                    }
                    Source::Anonymous => {
                        let n = volume(pocket_root, None, made)?;
                        (volumes::mountpoint(pocket_root, &n), Some(n))
                    }
                };
                // docker's copy-up: a volume still empty gets what the
                // image has at that path.
                // One that was there and empty, filled now (or partly, if
                // the copy failed), is emptied again by an undo; one with
                // data is never touched.
                if let (false, false, Some(lower), Some(n)) = (host, nocopy, image, name)
                    && empty_dir(&source)?
                {
                    if !made.made.contains(&n) {
                        made.filled.push(n);
                    }
                    copy_up(lower, &destination, &source)?;
                }
                let mut options = alloc::vec!["rbind".to_string(), "rprivate".to_string()];
                options.push(if ro { "ro" } else { "rw" }.to_string());
                // A host directory is the user's, not the store's: nothing
                // in it gains privileges by setuid inside the container.
                if host {
                    options.push("nosuid".to_string());
                }
                Mount {
                    destination,
                    kind: "bind".to_string(),
                    source,
                    options,
                }
            }
        });
    }
    Ok(out)
}

fn open_dir(vol: &str) -> Result<fd::Fd> {
    let v = cstr::cstring(vol.as_bytes()).ok_or_else(|| Error::bad("volume", vol, "bad path"))?;
    fd::open(&v, libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC, 0).ctx("open", vol)
}

/// The volume directory `vol` has nothing in it (copy-up's condition).
fn empty_dir(vol: &str) -> Result<bool> {
    Ok(crate::image::tar_write::names(&open_dir(vol)?)
        .map_err(|e| Error::sys("list", vol, e))?
        .is_empty())
}

/// Fill the empty volume directory `vol` with the image's content at
/// `dst` (its layers `lower`, top first), owners and modes kept. The
/// path is resolved inside the image's root only; nothing there (or not
/// a directory) leaves the volume empty.
fn copy_up(lower: &[String], dst: &str, vol: &str) -> Result<()> {
    let vdir = open_dir(vol)?;
    let view = super::image_out::view_overlay(lower)?;
    let rel = cstr::cstring(dst.trim_start_matches('/').as_bytes())
        .ok_or_else(|| Error::bad("volume", dst, "bad path"))?;
    let resolve = linux_raw_sys::general::RESOLVE_IN_ROOT as u64;
    let Ok(src) = fd::openat2(
        view.raw(),
        &rel,
        libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        resolve,
    ) else {
        return Ok(());
    };
    super::image_out::copy_tree(&src, &vdir)
}

/// Add the user's mounts after the standard ones. One on a standard
/// mount's path (say `--tmpfs /dev/shm:size=1g`) takes its place, as in
/// docker, and its turn: a user's /dev still gets /dev/pts on top.
pub fn merge(mounts: &mut Vec<Mount>, user: Vec<Mount>) {
    for u in user {
        match mounts.iter_mut().find(|m| m.destination == u.destination) {
            Some(m) => *m = u,
            None => mounts.push(u),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vol(s: &str) -> Result<Parsed> {
        parse_volume(s.as_bytes())
    }

    fn tmp(s: &str) -> Vec<String> {
        match parse_tmpfs(s.as_bytes()).unwrap() {
            Parsed::Tmpfs { options, .. } => options,
            _ => unreachable!(),
        }
    }

    #[test]
    fn volume_forms() {
        assert_eq!(
            vol("/h:/c").unwrap(),
            Parsed::Volume {
                source: Source::Host("/h".into()),
                destination: "/c".into(),
                ro: false,
                nocopy: false
            }
        );
        assert_eq!(
            vol("data:/var//lib/./x/:ro").unwrap(),
            Parsed::Volume {
                source: Source::Named("data".into()),
                destination: "/var/lib/x".into(),
                ro: true,
                nocopy: false
            }
        );
        assert_eq!(
            vol("/c").unwrap(),
            Parsed::Volume {
                source: Source::Anonymous,
                destination: "/c".into(),
                ro: false,
                nocopy: false
            }
        );
        assert!(matches!(
            vol("/h:/c:rw,Z").unwrap(),
            Parsed::Volume { ro: false, .. }
        ));
        assert!(matches!(
            vol("v1:/c:nocopy,ro").unwrap(),
            Parsed::Volume { ro: true, .. }
        ));
        assert!(vol("/:/host:ro,rprivate").is_ok());
    }

    #[test]
    fn relative_host_paths_are_the_callers() {
        let mut buf = [0u8; 4096];
        let cwd = String::from_utf8(crate::sys::proc::getcwd(&mut buf).unwrap().to_vec()).unwrap();
        match vol("./d/../e:/c").unwrap() {
            Parsed::Volume {
                source: Source::Host(h),
                ..
            } => {
                assert_eq!(h, format!("{}/e", cwd.trim_end_matches('/')))
            }
            p => panic!("{p:?}"),
        }
    }

    #[test]
    fn bad_volumes() {
        for s in [
            "",
            ":/c",
            "/h:",
            "/h::ro",
            "/h:/c:",
            "/h:/c:ro:x",
            "/h:c",
            "/h:/",
            "/h://",
            "/h:/.",
            "/h:/a/../b",
            "rel/dir:/c",
            "a:/c",
            "-x:/c",
            "/h:/c:rx",
            "/h:/c:ro,rw",
            "/h:/c:ro,ro",
            "/h:/c:nocopy",
            "/h:/c:rshared",
            "/h:/c\0",
        ] {
            let e = vol(s).expect_err(s);
            assert_eq!(e.code, 125, "{s}");
            assert!(!e.to_string().contains('\n'), "{s}");
        }
        assert!(
            vol("a:/c")
                .unwrap_err()
                .to_string()
                .contains("absolute path")
        );
        assert!(parse_volume(b"/h:/\xff").is_err());
    }

    #[test]
    fn tmpfs_defaults_and_overrides() {
        assert_eq!(tmp("/t"), ["noexec", "nosuid", "nodev"]);
        assert_eq!(
            tmp("/t:size=64m,mode=1777"),
            ["noexec", "nosuid", "nodev", "size=64m", "mode=1777"]
        );
        assert_eq!(
            tmp("/t:exec,size=1k,size=2k"),
            ["nosuid", "nodev", "size=2k"]
        );
        assert_eq!(tmp("/t:ro,rw"), ["noexec", "nosuid", "nodev"]);
        assert_eq!(
            tmp("/t:rw,ro,noatime"),
            ["noexec", "nosuid", "nodev", "ro", "noatime"]
        );
        assert_eq!(tmp("/t:suid,dev,uid=1,gid=2"), ["noexec", "uid=1", "gid=2"]);
        for s in [
            "t",
            "/",
            "/t:size=",
            "/t:size=1x",
            "/t:size=1kk",
            "/t:mode=9",
            "/t:mode=17777",
            "/t:uid=-1",
            "/t:bogus",
            "/t:size",
            "/t:nr_inodes=k",
            "/a/../t",
        ] {
            assert!(parse_tmpfs(s.as_bytes()).is_err(), "{s}");
        }
        assert!(tmpfs_size("50%") && tmpfs_size("1G") && tmpfs_size("4096"));
    }

    #[test]
    fn duplicates_and_depth_order() {
        assert!(parse(&[b"/a:/x"], &[b"/x"], &[]).is_err());
        assert!(parse(&[b"/a:/x", b"v1:/x/"], &[], &[]).is_err());
        let p = parse(&[b"/a:/x/y/z", b"/b:/x"], &[b"/x/y"], &[]).unwrap();
        let d: Vec<&str> = p.iter().map(|p| p.destination()).collect();
        assert_eq!(d, ["/x", "/x/y", "/x/y/z"]);
    }

    #[test]
    fn a_repeated_tmpfs_option_keeps_the_last() {
        let p = parse_mount(b"type=tmpfs,dst=/t,tmpfs-mode=177,tmpfs-size=1m,tmpfs-mode=1770");
        let Ok(Parsed::Tmpfs { options, .. }) = p else {
            panic!("{p:?}")
        };
        assert_eq!(options.iter().filter(|o| o.starts_with("mode=")).count(), 1);
        assert!(options.contains(&"mode=1770".to_string()), "{options:?}");
    }

    #[test]
    fn merge_replaces_a_standard_mount() {
        let mut m = crate::spec::default_mounts();
        let n = m.len();
        let user = match parse_tmpfs(b"/dev/shm:size=1g").unwrap() {
            Parsed::Tmpfs {
                destination,
                options,
            } => Mount {
                destination,
                kind: "tmpfs".into(),
                source: "tmpfs".into(),
                options,
            },
            _ => unreachable!(),
        };
        let at = m.iter().position(|x| x.destination == "/dev/shm");
        let extra = Mount {
            destination: "/x".into(),
            ..user.clone()
        };
        merge(&mut m, vec![user.clone(), extra.clone()]);
        assert_eq!(m.len(), n + 1);
        assert_eq!(m.iter().position(|x| *x == user), at);
        assert_eq!(m.last(), Some(&extra));
        assert_eq!(m.iter().filter(|x| x.destination == "/dev/shm").count(), 1);
    }

    #[test]
    fn user_mounts_make_nothing_on_a_bad_spec() {
        let root = std::env::temp_dir().join(format!("pocket-mounts-unit-{}", std::process::id()));
        let r = root.to_str().unwrap();
        let store = crate::state::Store::new(Some(r));
        let host = root.join("host/sub");
        let good = format!("{}:/a", host.display());
        let e = user_mounts(
            &store,
            &[good.as_bytes(), b"vol1:/b", b"/x:rel"],
            &[],
            &[],
            None,
        );
        assert!(e.is_err());
        assert!(!root.exists());
        let (m, _) = user_mounts(
            &store,
            &[good.as_bytes(), b"vol1:/b:ro"],
            &[b"/t:size=1m"],
            &[],
            None,
        )
        .unwrap();
        assert!(host.is_dir());
        assert!(root.join("volumes/vol1/_data").is_dir());
        assert_eq!(m[1].source, format!("{r}/volumes/vol1/_data"));
        assert_eq!(m[1].options, ["rbind", "rprivate", "ro"]);
        assert_eq!(m[1].kind, "bind");
        assert_eq!(m[2].kind, "tmpfs");
        std::fs::remove_dir_all(&root).unwrap();
    }

    /// Hostile `-v`, `--tmpfs` and `--mount` values (each parser gets
    /// every input): refusals are one line, and what parses prints back
    /// in docker's syntax to the same mount (`--mount type=tmpfs` as the
    /// `--tmpfs` it amounts to).
    #[test]
    fn hostile_mount_flags() {
        let corpus: &[&[u8]] = &[
            b"/host/data:/var//lib/./x/:ro,z",
            b"data:/data:rw,nocopy",
            b"./rel:/r:rprivate",
            b"/anon",
            b"/run:rw,size=64m,mode=1777,uid=1000,gid=1000,noexec,dev,relatime",
            b"/t:ro,nr_inodes=1k,size=10%",
            b"type=bind,src=/a,dst=/b,readonly,bind-propagation=rprivate,consistency=cached",
            b"type=volume,source=vol1,target=/v,volume-nocopy=true,volume-driver=local",
            b"type=tmpfs,destination=/tmp,tmpfs-size=1g,tmpfs-mode=1770,ro=false",
        ];
        let dict: &[&[u8]] = &[
            b":",
            b",",
            b"=",
            b"/..",
            b"/./",
            b":ro",
            b",nocopy",
            b"type=",
            b"src=",
            b"dst=",
            b"size=",
            b"mode=",
            b"tmpfs-size=",
            b"tmpfs-mode=",
            b"readonly",
            b"shared",
        ];
        let mode = |ro: bool, nocopy: bool| match (ro, nocopy) {
            (true, true) => "ro,nocopy",
            (true, false) => "ro",
            (false, true) => "rw,nocopy",
            (false, false) => "rw",
        };
        // `--tmpfs DST:OPTS` for a parsed tmpfs: its options, and the
        // flags that took a default back (exec, suid, dev: not kept).
        let tmpfs_flag = |p: &Parsed| match p {
            Parsed::Tmpfs {
                destination,
                options,
            } => {
                let mut o = options.clone();
                for (default, back) in [("noexec", "exec"), ("nosuid", "suid"), ("nodev", "dev")] {
                    if !options.iter().any(|x| x == default) {
                        o.push(String::from(back));
                    }
                }
                format!("{destination}:{}", o.join(","))
            }
            _ => unreachable!(),
        };
        let sorted = |p: &Parsed| match p {
            Parsed::Tmpfs { options, .. } => {
                let mut o = options.clone();
                o.sort();
                o
            }
            _ => Vec::new(),
        };
        crate::rt::fuzz::run(
            "mount flags",
            corpus,
            dict,
            std::time::Duration::from_secs(60),
            |b| {
                let mut errs: Vec<String> = Vec::new();
                match parse_volume(b) {
                    Err(e) => errs.push(format!("{e}")),
                    Ok(p) => {
                        let Parsed::Volume {
                            source,
                            destination,
                            ro,
                            nocopy,
                        } = &p
                        else {
                            panic!("-v gave {p:?}");
                        };
                        let again = match source {
                            Source::Host(s) | Source::Named(s) => {
                                format!("{s}:{destination}:{}", mode(*ro, *nocopy))
                            }
                            Source::Anonymous => destination.clone(),
                            Source::Bind(_) => panic!("-v gave {p:?}"),
                        };
                        let back = parse_volume(again.as_bytes()).map_err(|e| format!("{e}"))?;
                        assert_eq!(back, p, "-v {again} is not what it printed back from");
                    }
                }
                match parse_tmpfs(b) {
                    Err(e) => errs.push(format!("{e}")),
                    Ok(p) => {
                        let again = tmpfs_flag(&p);
                        let back = parse_tmpfs(again.as_bytes()).map_err(|e| format!("{e}"))?;
                        assert_eq!(back.destination(), p.destination());
                        assert_eq!(sorted(&back), sorted(&p), "--tmpfs {again}");
                    }
                }
                match parse_mount(b) {
                    Err(e) => errs.push(format!("{e}")),
                    Ok(p @ Parsed::Tmpfs { .. }) => {
                        let again = tmpfs_flag(&p);
                        let back = parse_tmpfs(again.as_bytes()).map_err(|e| format!("{e}"))?;
                        // Compared as the kernel reads them: the last
                        // value of a key.
                        let last = |o: Vec<String>| {
                            let key = |x: &String| String::from(x.split('=').next().unwrap_or(""));
                            let mut k: Vec<String> = o
                                .iter()
                                .enumerate()
                                .filter(|(i, x)| !o[i + 1..].iter().any(|y| key(y) == key(x)))
                                .map(|(_, x)| x.clone())
                                .collect();
                            k.sort();
                            k
                        };
                        let Parsed::Tmpfs { options, .. } = &p else {
                            unreachable!()
                        };
                        assert_eq!(sorted(&back), last(options.clone()), "--tmpfs {again}");
                    }
                    Ok(
                        ref p @ Parsed::Volume {
                            ref source,
                            ref destination,
                            ro,
                            nocopy,
                        },
                    ) => {
                        let src = match source {
                            Source::Bind(s) => format!("type=bind,src={s}"),
                            Source::Named(n) => format!("type=volume,src={n}"),
                            Source::Anonymous => String::from("type=volume"),
                            Source::Host(_) => panic!("--mount gave {p:?}"),
                        };
                        let again =
                            format!("{src},dst={destination},ro={ro},volume-nocopy={nocopy}");
                        let back = parse_mount(again.as_bytes()).map_err(|e| format!("{e}"))?;
                        assert_eq!(&back, p, "--mount {again}");
                    }
                }
                match errs.iter().find(|e| e.trim_end().contains('\n')) {
                    Some(e) => Err(e.clone()),
                    None => errs.into_iter().next().map_or(Ok(()), Err),
                }
            },
        );
    }
}
