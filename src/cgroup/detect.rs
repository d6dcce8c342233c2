//! Reading /proc/PID/cgroup and /proc/self/mountinfo: which hierarchy is
//! mounted where, and which cgroup.procs file puts a process next to
//! another. Pure functions over text, tested with fake inputs.

use alloc::string::String;
use alloc::vec::Vec;

/// One line of /proc/PID/cgroup: `id:controllers:path`.
#[derive(Debug, PartialEq, Eq)]
pub struct Membership<'a> {
    pub id: &'a str,
    /// Comma-separated v1 controllers (`cpu,cpuacct`, `name=systemd`);
    /// empty for the v2 tree.
    pub controllers: &'a str,
    pub path: &'a str,
}

pub fn memberships(text: &[u8]) -> Vec<Membership<'_>> {
    let Ok(text) = core::str::from_utf8(text) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| {
            let mut p = l.splitn(3, ':');
            Some(Membership {
                id: p.next()?,
                controllers: p.next()?,
                path: p.next()?,
            })
        })
        .collect()
}

/// A cgroup filesystem mount from mountinfo.
#[derive(Debug, PartialEq, Eq)]
pub struct CgroupMount<'a> {
    pub mountpoint: &'a str,
    /// The cgroup this mount shows as its root ("/" unless bind-mounted).
    pub root: &'a str,
    pub v2: bool,
    /// v1: the super options (`rw,cpu,cpuacct`, `rw,name=systemd`).
    pub options: &'a str,
}

pub fn mounts(mountinfo: &[u8]) -> Vec<CgroupMount<'_>> {
    let Ok(text) = core::str::from_utf8(mountinfo) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for l in text.lines() {
        // id parent maj:min root mountpoint options [optional...] - fstype source superopts
        let Some((pre, post)) = l.split_once(" - ") else {
            continue;
        };
        let pre: Vec<&str> = pre.split(' ').collect();
        let post: Vec<&str> = post.split(' ').collect();
        if pre.len() < 5 || post.len() < 3 {
            continue;
        }
        let v2 = match post[0] {
            "cgroup2" => true,
            "cgroup" => false,
            _ => continue,
        };
        out.push(CgroupMount {
            mountpoint: pre[4],
            root: pre[3],
            v2,
            options: post[2],
        });
    }
    out
}

/// The mount that shows hierarchy `m`: the v2 mount for the v2 line, the
/// v1 mount whose options name exactly the line's controllers otherwise.
pub fn mount_for<'a>(m: &Membership, ms: &'a [CgroupMount<'a>]) -> Option<&'a CgroupMount<'a>> {
    if m.controllers.is_empty() {
        return ms.iter().find(|c| c.v2);
    }
    ms.iter().find(|c| {
        !c.v2
            && m.controllers
                .split(',')
                .all(|ctl| c.options.split(',').any(|o| o == ctl))
    })
}

/// The directory in the host's view of cgroup path `path` under mount `c`.
pub fn dir(c: &CgroupMount, path: &str) -> Option<String> {
    let rel = if c.root == "/" {
        path
    } else {
        path.strip_prefix(c.root)?
    };
    let rel = rel.trim_start_matches('/');
    // A path with ".." could climb out of the mount.
    if rel.split('/').any(|p| p == "..") {
        return None;
    }
    Some(if rel.is_empty() {
        String::from(c.mountpoint)
    } else {
        alloc::format!("{}/{}", c.mountpoint, rel)
    })
}

/// The files of `entries` (`procs_entries`) to write "0" to, to move "us"
/// (`ours`: our /proc/self/cgroup, single-threaded) next to that process,
/// skipping hierarchies where we already are in its cgroup: v1's
/// per-thread `tasks` (a task moving itself skips the kernel's global
/// threadgroup lock and its RCU wait), v2's `cgroup.procs`.
pub fn unshared<'a>(entries: &'a [(String, String)], ours: &[u8]) -> Vec<&'a str> {
    let ours = core::str::from_utf8(ours).unwrap_or("");
    entries
        .iter()
        .filter(|(line, _)| !ours.lines().any(|l| l == line))
        .map(|(_, file)| file.as_str())
        .collect()
}

/// Each line of `theirs` (/proc/PID/cgroup) whose hierarchy is mounted,
/// with the file that moves a process there; None if a line is faked.
pub fn procs_entries(theirs: &[u8], mountinfo: &[u8]) -> Option<Vec<(String, String)>> {
    let ms = mounts(mountinfo);
    let all = memberships(theirs);
    // A cgroup name with a newline in it (a container may name its own
    // groups, where an old kernel lets it rename one) fakes a line: a
    // hierarchy listed twice, a v2 line with an id but 0, a v1 line with
    // none, or two lines on one mount. Nothing is trusted then.
    let faked = |m: &Membership| (m.id == "0") != m.controllers.is_empty();
    if all.iter().any(faked)
        || all
            .iter()
            .enumerate()
            .any(|(i, m)| all[..i].iter().any(|o| o.id == m.id))
    {
        return None;
    }
    let mut used: Vec<&CgroupMount> = Vec::new();
    let mut entries = Vec::new();
    for t in &all {
        let Some(c) = mount_for(t, &ms) else { continue };
        if used.iter().any(|u| core::ptr::eq(*u, c)) {
            return None;
        }
        used.push(c);
        let file = if c.v2 { "cgroup.procs" } else { "tasks" };
        let line = alloc::format!("{}:{}:{}", t.id, t.controllers, t.path);
        if let Some(d) = dir(c, t.path) {
            entries.push((line, alloc::format!("{d}/{file}")));
        }
    }
    Some(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &[u8] = b"\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
50 23 0:40 /sub /mnt/cg rw - cgroup2 cgroup2 rw
";

    #[test]
    fn hybrid_layout_maps_each_line_to_its_mount() {
        let ms = mounts(MOUNTINFO);
        assert_eq!(ms.len(), 5);
        let theirs =
            b"9:name=systemd:/x\n4:memory:/pocket/abc\n2:cpu,cpuacct:/pocket/abc\n0::/pocket/abc\n";
        let ours = b"9:name=systemd:/x\n4:memory:/\n2:cpu,cpuacct:/\n0::/\n";
        let all = procs_entries(theirs, MOUNTINFO).unwrap();
        assert_eq!(
            unshared(&all, ours),
            vec![
                "/sys/fs/cgroup/memory/pocket/abc/tasks",
                "/sys/fs/cgroup/cpu,cpuacct/pocket/abc/tasks",
                "/sys/fs/cgroup/unified/pocket/abc/cgroup.procs",
            ]
        );
        // All lines with their files, the shared one too.
        assert_eq!(all.len(), 4);
        assert_eq!(
            all[0],
            (
                "9:name=systemd:/x".into(),
                "/sys/fs/cgroup/systemd/x/tasks".into()
            )
        );
    }

    /// A group named `a\n0::/` (a container may name its own) makes its
    /// line look like two: refused, not followed to the host's root.
    #[test]
    fn a_hierarchy_listed_twice_is_refused() {
        let theirs = b"4:memory:/pocket/abc/a\n0::/\n0::/pocket/abc\n";
        assert_eq!(procs_entries(theirs, MOUNTINFO), None);
        // A fresh id instead: a v2 line's id is always 0, a v1 line names
        // its controllers; and no two lines on one mount.
        for faked in [
            &b"0::/x\n7::/\n"[..],
            b"4:memory:/a\n0:memory:/\n",
            b"4:memory:/pocket/a\n9:memory:/\n",
        ] {
            assert_eq!(procs_entries(faked, MOUNTINFO), None, "{faked:?}");
        }
    }

    #[test]
    fn bind_mounted_roots_and_hostile_paths() {
        let ms = mounts(MOUNTINFO);
        let c = &ms[4];
        assert_eq!(dir(c, "/sub/a"), Some("/mnt/cg/a".into()));
        assert_eq!(dir(c, "/other"), None);
        assert_eq!(dir(&ms[1], "/../../etc"), None);
        assert!(memberships(b"garbage").is_empty());
        assert!(mounts(b"not mountinfo\n").is_empty());
    }
}
