//! A plain user's cgroup: the subtree of the v2 tree delegated to it
//! (systemd's `user@UID.service` with `Delegate=yes`, or any group an
//! admin chowned to the user), found from where the user's process is.
//!
//! The kernel lets a process move another between two groups only with
//! write access to their common ancestor's cgroup.procs, so a container's
//! group must be below the topmost group around the caller that the user
//! owns: that group, D, takes `pocket/<id>` below it. On cgroup v1 (or a
//! hybrid host, whose controllers are v1's) there is no delegation: root
//! owns every hierarchy.

use super::Layout;
use super::detect::memberships;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// The delegated group around the caller, as a path below the v2 mount
/// (`user.slice/user-1000.slice/user@1000.service`), or None. `cgroup` is
/// /proc/self/cgroup; `owner(dir)` the uid owning `dir/cgroup.procs`.
pub fn find(
    l: &Layout,
    cgroup: &[u8],
    uid: u32,
    owner: impl Fn(&str) -> Option<u32>,
) -> Option<String> {
    // Where a v1 hierarchy has one of pocket's controllers, limits live
    // there, root's alone.
    if !l.v1.is_empty() {
        return None;
    }
    let (mount, _) = l.v2.as_ref()?;
    let here = memberships(cgroup)
        .into_iter()
        .find(|m| m.id == "0" && m.controllers.is_empty())?
        .path
        .trim_matches('/');
    let parts: Vec<&str> = here.split('/').filter(|p| !p.is_empty()).collect();
    let mut top = None;
    // From the caller's own group up, while the user owns it (the root
    // is never a user's).
    for n in (1..=parts.len()).rev() {
        let rel = parts[..n].join("/");
        if owner(&format!("{mount}/{rel}")) != Some(uid) {
            break;
        }
        top = Some(rel);
    }
    top
}

/// The layout a plain user's containers use: the v2 tree at `mount`
/// alone, with the controllers its delegated group was given (that
/// group's cgroup.controllers): nothing above it is written to.
pub fn layout(mount: &str, controllers: &[u8]) -> Layout {
    let list = String::from_utf8_lossy(controllers)
        .split_whitespace()
        .map(String::from)
        .collect();
    Layout {
        v1: Vec::new(),
        v2: Some((String::from(mount), list)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn v2(mount: &str) -> Layout {
        layout(mount, b"cpu memory pids")
    }

    // systemd's tree: the user's manager owns user@1000.service and all
    // below it; the slice above is root's.
    fn systemd(dir: &str) -> Option<u32> {
        match dir.strip_prefix("/sys/fs/cgroup/")? {
            d if d.starts_with("user.slice/user-1000.slice/user@1000.service") => Some(1000),
            _ => Some(0),
        }
    }

    #[test]
    fn the_topmost_group_the_user_owns_around_it() {
        let l = v2("/sys/fs/cgroup");
        let me = b"0::/user.slice/user-1000.slice/user@1000.service/app.slice/term.scope\n";
        assert_eq!(
            find(&l, me, 1000, systemd).as_deref(),
            Some("user.slice/user-1000.slice/user@1000.service")
        );
        // Another user owns nothing there.
        assert_eq!(find(&l, me, 1001, systemd), None);
    }

    #[test]
    fn a_login_session_is_not_delegated() {
        let l = v2("/sys/fs/cgroup");
        let me = b"0::/user.slice/user-1000.slice/session-3.scope\n";
        assert_eq!(find(&l, me, 1000, systemd), None);
        // The root group, and a group the user owns only below root's.
        assert_eq!(find(&l, b"0::/\n", 1000, |_| Some(1000)), None);
        let own = |d: &str| Some(if d.ends_with("/a/b") { 1000 } else { 0 });
        assert_eq!(find(&l, b"0::/a/b/c\n", 1000, own), None);
    }

    #[test]
    fn an_admins_chowned_group_counts() {
        let l = v2("/sys/fs/cgroup");
        let own = |d: &str| Some(if d.contains("/deleg") { 1000 } else { 0 });
        assert_eq!(
            find(&l, b"0::/deleg/session\n", 1000, own).as_deref(),
            Some("deleg")
        );
        assert_eq!(
            find(&l, b"0::/deleg\n", 1000, own).as_deref(),
            Some("deleg")
        );
        // An unreadable group ends the walk.
        assert_eq!(find(&l, b"0::/deleg\n", 1000, |_| None), None);
    }

    #[test]
    fn v1_and_hybrid_hosts_delegate_nothing() {
        let mut l = v2("/sys/fs/cgroup/unified");
        l.v1 = vec![(
            String::from("/sys/fs/cgroup/memory"),
            vec![String::from("memory")],
        )];
        let me = b"12:memory:/user.slice\n0::/deleg/session\n";
        assert_eq!(find(&l, me, 1000, |_| Some(1000)), None);
        let none = Layout::default();
        assert_eq!(find(&none, me, 1000, |_| Some(1000)), None);
        // No v2 line in /proc/self/cgroup.
        assert_eq!(
            find(&v2("/x"), b"12:memory:/a\n", 1000, |_| Some(1000)),
            None
        );
    }
}
