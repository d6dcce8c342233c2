//! Namespaces a container joins instead of making them (OCI
//! linux.namespaces[].path, `--net container:ID`): opened by the parent
//! before clone, while their owners surely run, so a stale path fails
//! here with its name, not inside the child.
//!
//! The child joins them with setns(2) before it waits on the sync socket,
//! mount last (after it the host's paths are gone). A pid namespace is
//! different: setns(CLONE_NEWPID) only moves the caller's future
//! children, so the parent enters it for the clone and goes back to its
//! own right after (`PidNs`), and the child is born there.

use crate::error::{Context, Error, Result};
use crate::spec::{Namespace, Spec};
use crate::sys::{cstr, fd, proc};
use alloc::format;
use alloc::vec::Vec;

/// The order the child joins them in (nsenter(1)'s, mount last).
const ORDER: &[Namespace] = &[
    Namespace::Cgroup,
    Namespace::Ipc,
    Namespace::Uts,
    Namespace::Network,
    Namespace::Mount,
];

/// Whether `spec` joins a namespace of ORDER (by path or another
/// container's), as `open_all` would: known before anything is made.
pub fn any(spec: &Spec) -> bool {
    spec.netns_owner.is_some()
        || ORDER
            .iter()
            .any(|ns| spec.ns_path(*ns).is_some() || spec.ns_owners.iter().any(|o| o.0 == *ns))
}

pub struct Joins {
    /// Kept open until after clone; the child inherits them.
    _fds: Vec<fd::Fd>,
    /// (fd, CLONE_NEW*) for the child, in join order.
    pub table: Vec<(i32, i32)>,
    pid: Option<fd::Fd>,
}

fn open(path: &str, what: &'static str) -> Result<fd::Fd> {
    let c = cstr::cstring(path.as_bytes())
        .ok_or_else(|| Error::bad(what, path, "contains a NUL byte"))?;
    fd::open(&c, libc::O_RDONLY | libc::O_CLOEXEC, 0).ctx(what, path)
}

/// Open every namespace `spec` joins.
pub fn open_all(spec: &Spec) -> Result<Joins> {
    let mut j = Joins {
        _fds: Vec::new(),
        table: Vec::new(),
        pid: None,
    };
    // `--net container:ID`: that container's init's, checked after the
    // open: had the pid been reused, the start time would differ, and the
    // namespace is not joined.
    let mut owner = match spec.netns_owner {
        Some((pid, start)) => {
            let f = open(&format!("/proc/{pid}/ns/net"), "open network namespace")?;
            if crate::sys::procfs::start_time(pid) != Some(start) {
                return Err(Error::bad(
                    "cannot join network of a non running container",
                    format!("pid {pid}"),
                    "it stopped",
                ));
            }
            Some(f)
        }
        None => None,
    };
    // `--pid/--ipc container:ID`: checked the same way.
    let by_owner = |ns: Namespace| -> Result<Option<fd::Fd>> {
        let Some(&(_, pid, start)) = spec.ns_owners.iter().find(|(n, _, _)| *n == ns) else {
            return Ok(None);
        };
        let f = open(
            &format!("/proc/{pid}/ns/{}", ns.proc_name()),
            "open namespace",
        )?;
        if crate::sys::procfs::start_time(pid) != Some(start) {
            return Err(Error::bad(
                "cannot join namespace of a non running container",
                format!("pid {pid}"),
                "it stopped",
            ));
        }
        Ok(Some(f))
    };
    for ns in ORDER {
        let f = match *ns == Namespace::Network && owner.is_some() {
            true => owner.take(),
            false => match by_owner(*ns)? {
                Some(f) => Some(f),
                None => spec
                    .ns_path(*ns)
                    .map(|p| open(p, "open namespace"))
                    .transpose()?,
            },
        };
        if let Some(f) = f {
            j.table.push((f.raw(), ns.clone_flag()));
            j._fds.push(f);
        }
    }
    if let Some(f) = by_owner(Namespace::Pid)? {
        j.pid = Some(f);
    } else if let Some(p) = spec.ns_path(Namespace::Pid) {
        j.pid = Some(open(p, "open namespace")?);
    }
    Ok(j)
}

/// While alive, this process's children are born in the joined pid
/// namespace; dropped, they are born in its own again.
pub struct PidNs(Option<fd::Fd>);

impl Joins {
    /// Enter the pid namespace to join, if any, for the clone.
    pub fn enter_pid(&self) -> Result<PidNs> {
        let Some(target) = &self.pid else {
            return Ok(PidNs(None));
        };
        // Our own active namespace, to come back to: setns into it is
        // always allowed (it is an ancestor of the one joined).
        let own = open("/proc/self/ns/pid", "open namespace")?;
        proc::setns(target.raw(), libc::CLONE_NEWPID).ctx("setns", "pid namespace")?;
        Ok(PidNs(Some(own)))
    }
}

impl Drop for PidNs {
    fn drop(&mut self) {
        if let Some(own) = self.0.take() {
            let _ = proc::setns(own.raw(), libc::CLONE_NEWPID);
        }
    }
}
