//! Which hierarchy holds each controller pocket uses, on v1, v2 and hybrid
//! hosts: per controller, a v1 hierarchy that has it mounted wins (the
//! kernel binds a controller to one hierarchy only); else cgroup2, if its
//! root lists it in cgroup.controllers. Pure: it is given mountinfo and the
//! v2 root's controller list, so tests feed it fake ones.

use super::detect::mounts;
use alloc::string::String;
use alloc::vec::Vec;

/// The controllers pocket limits or reads, by their v1 names. `devices`
/// is v1 only: on v2 a BPF program on the group does its work.
pub const CONTROLLERS: &[&str] = &[
    "memory", "cpu", "cpuacct", "cpuset", "pids", "blkio", "devices", "freezer",
];

/// The v2 name of a v1 controller (cpuacct is part of v2's cpu).
pub fn v2_name(c: &str) -> &str {
    match c {
        "blkio" => "io",
        "cpuacct" => "cpu",
        c => c,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// A v1 hierarchy, by mountpoint; its other controllers ride along.
    V1(String),
    V2(String),
    Missing,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Layout {
    /// v1 mounts: mountpoint and the controllers it carries.
    pub v1: Vec<(String, Vec<String>)>,
    /// The cgroup2 mount and the controllers its root offers.
    pub v2: Option<(String, Vec<String>)>,
}

impl Layout {
    /// Read the layout from mountinfo text, asking `v2_controllers` for the
    /// content of `<v2 mount>/cgroup.controllers`.
    pub fn parse(mountinfo: &[u8], v2_controllers: impl Fn(&str) -> Vec<u8>) -> Layout {
        let mut l = Layout::default();
        for m in mounts(mountinfo) {
            // Only mounts of a hierarchy's root: a bind of a subtree would
            // put pocket/<id> somewhere unexpected.
            if m.root != "/" {
                continue;
            }
            if m.v2 {
                if l.v2.is_none() {
                    let c = v2_controllers(m.mountpoint);
                    let list = String::from_utf8_lossy(&c)
                        .split_whitespace()
                        .map(String::from)
                        .collect();
                    l.v2 = Some((String::from(m.mountpoint), list));
                }
            } else {
                let ctl: Vec<String> = m
                    .options
                    .split(',')
                    .filter(|o| CONTROLLERS.contains(o))
                    .map(String::from)
                    .collect();
                if !ctl.is_empty() && !l.v1.iter().any(|(_, c)| c == &ctl) {
                    l.v1.push((String::from(m.mountpoint), ctl));
                }
            }
        }
        l
    }

    pub fn place(&self, controller: &str) -> Place {
        if let Some((m, _)) = self
            .v1
            .iter()
            .find(|(_, c)| c.iter().any(|x| x == controller))
        {
            return Place::V1(m.clone());
        }
        match &self.v2 {
            Some((m, c)) if c.iter().any(|x| x == v2_name(controller)) => Place::V2(m.clone()),
            _ => Place::Missing,
        }
    }

    /// The hierarchies a container gets a cgroup in: every v1 mount that
    /// carries one of pocket's controllers, and the v2 tree if any of them
    /// lives there, or if no v1 hierarchy has `devices` (a pure v2 host,
    /// or a hybrid one without it): even with no controller enabled, the
    /// v2 group holds and counts the container, and carries its device
    /// program.
    pub fn hierarchies(&self) -> Vec<Place> {
        let mut out: Vec<Place> = Vec::new();
        for c in CONTROLLERS {
            let p = self.place(c);
            if p != Place::Missing && !out.contains(&p) {
                out.push(p);
            }
        }
        // v2 has no devices nor freezer controller: its group carries the
        // device program and cgroup.freeze where v1 does not do both.
        let v1 = |c| matches!(self.place(c), Place::V1(_));
        if let Some((m, _)) = &self.v2
            && !(v1("devices") && v1("freezer"))
            && !out.contains(&Place::V2(m.clone()))
        {
            out.push(Place::V2(m.clone()));
        }
        out
    }

    /// The v2 controllers pocket needs enabled on the way down.
    pub fn v2_controllers(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        for c in CONTROLLERS {
            if matches!(self.place(c), Place::V2(_)) {
                let n = match v2_name(c) {
                    "io" => "io",
                    "cpu" => "cpu",
                    "memory" => "memory",
                    "cpuset" => "cpuset",
                    "pids" => "pids",
                    _ => continue,
                };
                if !out.contains(&n) {
                    out.push(n);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &[u8] = b"\
31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
";

    const PURE_V2: &[u8] =
        b"25 1 0:22 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";

    #[test]
    fn hybrid_host_like_this_one() {
        let l = Layout::parse(HYBRID, |_| b"hugetlb\n".to_vec());
        assert_eq!(l.place("memory"), Place::V1("/sys/fs/cgroup/memory".into()));
        assert_eq!(
            l.place("cpuacct"),
            Place::V1("/sys/fs/cgroup/cpuacct".into())
        );
        assert_eq!(l.hierarchies().len(), 8);
        assert_eq!(
            l.place("devices"),
            Place::V1("/sys/fs/cgroup/devices".into())
        );
        assert!(
            !l.hierarchies()
                .contains(&Place::V2("/sys/fs/cgroup/unified".into()))
        );
        assert!(l.v2_controllers().is_empty());
    }

    #[test]
    fn hybrid_with_some_controllers_on_v2() {
        let mi: Vec<u8> = HYBRID
            .split(|&c| c == b'\n')
            .filter(|l| !l.windows(6).any(|w| w == b"memory" || w == b"rw,pid"))
            .flat_map(|l| [l, b"\n"].concat())
            .collect();
        let l = Layout::parse(&mi, |_| b"memory pids hugetlb".to_vec());
        assert_eq!(
            l.place("memory"),
            Place::V2("/sys/fs/cgroup/unified".into())
        );
        assert_eq!(l.place("pids"), Place::V2("/sys/fs/cgroup/unified".into()));
        assert_eq!(l.place("cpu"), Place::V1("/sys/fs/cgroup/cpu".into()));
        assert_eq!(l.v2_controllers(), vec!["memory", "pids"]);
        assert!(
            l.hierarchies()
                .contains(&Place::V2("/sys/fs/cgroup/unified".into()))
        );
    }

    #[test]
    fn hybrid_without_v1_devices_gets_a_v2_group_for_its_device_program() {
        let mi: Vec<u8> = HYBRID
            .split(|&c| c == b'\n')
            .filter(|l| !l.ends_with(b"rw,devices"))
            .flat_map(|l| [l, b"\n"].concat())
            .collect();
        let l = Layout::parse(&mi, |_| b"hugetlb".to_vec());
        assert_eq!(l.place("devices"), Place::Missing);
        assert_eq!(l.hierarchies().len(), 8);
        assert!(
            l.hierarchies()
                .contains(&Place::V2("/sys/fs/cgroup/unified".into()))
        );
        assert!(l.v2_controllers().is_empty());
    }

    #[test]
    fn pure_v2_and_co_mounted_v1() {
        let l = Layout::parse(PURE_V2, |m| {
            assert_eq!(m, "/sys/fs/cgroup");
            b"cpuset cpu io memory pids".to_vec()
        });
        assert_eq!(l.place("blkio"), Place::V2("/sys/fs/cgroup".into()));
        assert_eq!(l.place("cpuacct"), Place::V2("/sys/fs/cgroup".into()));
        assert_eq!(l.hierarchies(), vec![Place::V2("/sys/fs/cgroup".into())]);
        assert_eq!(
            l.v2_controllers(),
            vec!["memory", "cpu", "cpuset", "pids", "io"]
        );
        let co = b"32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n";
        let l = Layout::parse(co, |_| Vec::new());
        assert_eq!(l.place("cpu"), l.place("cpuacct"));
        assert_eq!(l.hierarchies().len(), 1);
        // Nothing mounted at all: every controller is missing.
        assert!(Layout::parse(b"", |_| Vec::new()).hierarchies().is_empty());
    }
}
