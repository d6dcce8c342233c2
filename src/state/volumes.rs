//! Named volumes: directories under the pocket root that outlive the
//! containers using them, laid out as docker's local driver does.
//!
//! ```text
//! <root>/volumes/<name>/_data         what containers see (bind-mounted)
//! <root>/volumes/<name>/volume.json   {"CreatedAt": "..."}
//! ```
//!
//! A volume appears whole or not at all (built under a dot-name and
//! renamed into place), and disappears the same way (renamed away, then
//! removed). Containers only ever mount it inside their own private mount
//! namespace, so the host never sees it mounted anywhere and removing a
//! container's directory can never reach a volume's data.

use super::Store;
use crate::error::{Context, Error, Result};
use crate::json::{self, Value};
use crate::state::store::cs;
use crate::sys::{Errno, fd, fs, proc};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// A volume as `volume ls` / `volume inspect` show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    pub name: String,
    /// RFC 3339, as written when it was created.
    pub created: String,
    /// `volume create --label`, in order.
    pub labels: Vec<(String, String)>,
}

pub fn dir(root: &str) -> String {
    format!("{root}/volumes")
}

/// Where a volume's data lives: the bind source containers get.
pub fn mountpoint(root: &str, name: &str) -> String {
    format!("{root}/volumes/{name}/_data")
}

/// Docker's rule for volume names, `[a-zA-Z0-9][a-zA-Z0-9_.-]+`: the name
/// is a directory under the root, so no '/', no leading '.'.
pub fn valid(name: &str) -> bool {
    crate::rt::names::valid(name)
}

fn check(name: &str) -> Result<()> {
    if valid(name) {
        return Ok(());
    }
    Err(Error::bad(
        "invalid volume name",
        name,
        "only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed (at least two characters); \
         for a host directory, give an absolute path",
    ))
}

fn no_such(name: &str) -> Error {
    Error::bad("no such volume", name, "not found").with_code(1)
}

/// Create volume `name` (a random 64-hex one if None). An existing
/// volume of that name is fine and left as it is (docker's `volume
/// create` is idempotent). Returns the name.
pub fn create(root: &str, name: Option<&str>, labels: &[(String, String)]) -> Result<String> {
    made(root, name, labels).map(|(n, _)| n)
}

/// `create`, and whether this call made it (false: it was there).
pub fn made(root: &str, name: Option<&str>, labels: &[(String, String)]) -> Result<(String, bool)> {
    let name = match name {
        Some(n) => {
            check(n)?;
            String::from(n)
        }
        None => crate::rt::names::new_id(),
    };
    let d = dir(root);
    fs::mkdir_private(&d).ctx("mkdir", &d)?;
    let path = format!("{d}/{name}");
    if exists(&path)? {
        return Ok((name, false));
    }
    let tmp = format!("{d}/.{name}.tmp{}", proc::getpid());
    let made = (|| -> Result<bool> {
        fs::mkdir(&cs(&tmp)?, 0o700).ctx("mkdir", &tmp)?;
        let data = format!("{tmp}/_data");
        crate::sys::mount::mkdirat(libc::AT_FDCWD, &cs(&data)?, 0o755).ctx("mkdir", &data)?;
        // Whole seconds, as docker shows it; the text needs no escaping.
        let now = crate::rt::time::Timestamp {
            secs: crate::rt::time::now().secs,
            nanos: 0,
        };
        let meta = json::compact(&json::obj!(
            (
                "CreatedAt",
                Some(json::str(&crate::rt::time::rfc3339_nano_trimmed(now)))
            ),
            ("Labels", (!labels.is_empty()).then(|| json::pairs(labels))),
        )) + "\n";
        fs::write_new(&cs(&tmp)?, "volume.json", meta.as_bytes(), 0o600, true)
            .ctx("write", "volume.json")?;
        match fs::renameat(libc::AT_FDCWD, &cs(&tmp)?, libc::AT_FDCWD, &cs(&path)?) {
            Ok(()) => Ok(true),
            // Someone made it meanwhile: theirs is as good as ours.
            Err(Errno::EEXIST) | Err(Errno::ENOTEMPTY) => Ok(false),
            Err(e) => Err(Error::sys("rename", path.clone(), e)),
        }
    })();
    let _ = fs::remove_tree(libc::AT_FDCWD, &cs(&tmp)?);
    made.map(|m| (name, m))
}

/// Empty volume `name` again (a copy-up that failed, or whose container
/// was never made), unless a container uses it meanwhile.
pub fn empty(store: &Store, name: &str) -> Result<()> {
    if !users(store, name)?.is_empty() {
        return Ok(());
    }
    let d = format!("{}/{name}", dir(&store.root));
    let df = fd::open(&cs(&d)?, libc::O_PATH | libc::O_DIRECTORY, 0).ctx("open", &d)?;
    crate::spawn::userns::remove_tree(df.raw(), c"_data").ctx("remove", &format!("{d}/_data"))?;
    crate::sys::mount::mkdirat(df.raw(), c"_data", 0o755).ctx("mkdir", &format!("{d}/_data"))
}

fn exists(path: &str) -> Result<bool> {
    match fd::fstatat(libc::AT_FDCWD, &cs(path)?, libc::AT_SYMLINK_NOFOLLOW) {
        Ok(st) if st.st_mode & libc::S_IFMT == libc::S_IFDIR => Ok(true),
        Ok(_) => Err(Error::bad("volume", path, "is not a directory")),
        Err(Errno::ENOENT) => Ok(false),
        Err(e) => Err(Error::sys("stat", path, e)),
    }
}

/// Volume `name`, or a "no such volume" error (exit 1).
pub fn get(root: &str, name: &str) -> Result<Volume> {
    if !valid(name) {
        return Err(no_such(name));
    }
    let path = format!("{}/{name}", dir(root));
    if !exists(&path)? {
        return Err(no_such(name));
    }
    // A volume whose metadata went missing is still a volume.
    let meta = fs::read(&cs(&format!("{path}/volume.json"))?)
        .ok()
        .and_then(|b| json::parse(&b).ok());
    let created = meta
        .as_ref()
        .and_then(|v| v.get("CreatedAt").and_then(Value::str).map(String::from))
        .unwrap_or_default();
    Ok(Volume {
        name: String::from(name),
        created,
        labels: json::str_pairs(meta.as_ref().and_then(|v| v.get("Labels"))),
    })
}

/// Every volume, by name.
pub fn list(root: &str) -> Result<Vec<Volume>> {
    let d = dir(root);
    let f = match fd::open(&cs(&d)?, libc::O_RDONLY | libc::O_DIRECTORY, 0) {
        Err(Errno::ENOENT) => return Ok(Vec::new()),
        r => r.ctx("open", &d)?,
    };
    let mut out: Vec<Volume> = fs::list_dir(&f)
        .ctx("list", &d)?
        .iter()
        .filter(|e| valid(&e.name))
        .filter_map(|e| get(root, &e.name).ok())
        .collect();
    crate::rt::sort_by(&mut out, |a, b| a.name < b.name);
    Ok(out)
}

/// The anonymous volumes (64-hex names, made for `-v /path`) `spec` mounts.
pub fn anonymous(root: &str, spec: &crate::spec::Spec) -> Vec<String> {
    let base = format!("{root}/volumes/");
    spec.mounts
        .iter()
        .filter_map(|m| m.source.strip_prefix(&base)?.strip_suffix("/_data"))
        .filter(|n| n.len() == 64 && n.bytes().all(|c| c.is_ascii_hexdigit()))
        .map(String::from)
        .collect()
}

/// Once their container is gone (`--rm`, `rm -v`): remove those anonymous
/// volumes no other container uses, as docker does. Best effort.
pub fn remove_unused(store: &Store, names: &[String]) {
    for n in names {
        let _ = remove(store, n);
    }
}

/// Ids of the containers (any state) whose mounts use volume `name`.
pub fn users(store: &Store, name: &str) -> Result<Vec<String>> {
    let mp = mountpoint(&store.root, name);
    let inside = format!("{mp}/");
    let mut out = Vec::new();
    for id in store.ids()? {
        let Ok(spec) = store.spec(&id) else { continue };
        if spec
            .mounts
            .iter()
            .any(|m| m.source == mp || m.source.starts_with(&inside))
        {
            out.push(id);
        }
    }
    Ok(out)
}

/// Remove volume `name` and its data. Unless `force`, a volume that a
/// container uses (running or not) is refused, as docker refuses it.
pub fn remove(store: &Store, name: &str) -> Result<()> {
    // One in use is refused even with `rm -f`, as docker does (its data
    // would vanish under a running container); -f only quiets a missing one.
    get(&store.root, name)?;
    let ids = users(store, name)?;
    if !ids.is_empty() {
        let short: Vec<&str> = ids.iter().map(|i| &i[..i.len().min(12)]).collect();
        return Err(Error::bad(
            "remove",
            String::from(name),
            format!("volume is in use - [{}]", short.join(", ")),
        )
        .with_code(1));
    }
    // Renamed away first: the volume is gone at once for everyone, and a
    // removal cut short leaves a dot-name `ls` does not show.
    let d = dir(&store.root);
    let gone = format!(".{name}.rm{}", proc::getpid());
    let dc = cs(&d)?;
    let df = fd::open(&dc, libc::O_PATH | libc::O_DIRECTORY, 0).ctx("open", &d)?;
    match fs::renameat(df.raw(), &cs(name)?, df.raw(), &cs(&gone)?) {
        Ok(()) => {}
        Err(Errno::ENOENT) => return Err(no_such(name)),
        Err(e) => return Err(Error::sys("rename", format!("{d}/{name}"), e)),
    }
    crate::spawn::userns::remove_tree(df.raw(), &cs(&gone)?).ctx("remove", &format!("{d}/{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_docker() {
        assert!(valid("data") && valid("a.b-c_d") && valid("0x"));
        assert!(!valid("a") && !valid(".x") && !valid("-x") && !valid("a/b"));
        assert!(!valid("") && !valid("a b") && !valid(".."));
    }

    #[test]
    fn paths() {
        assert_eq!(mountpoint("/r", "v1"), "/r/volumes/v1/_data");
        assert_eq!(dir("/r"), "/r/volumes");
    }
}
