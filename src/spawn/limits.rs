//! The process limits the parent handles: rlimits are checked here before
//! anything is made (the child sets them, but could only say EPERM), and
//! the OOM score is written to the waiting child's /proc entry.

use crate::error::{Error, Result};
use crate::spec::{Rlimit, rlimit};
use crate::sys::{Errno, caps, cstr, fd, proc};
use alloc::format;
use alloc::string::String;

const CAP_SYS_RESOURCE: u64 = 1 << 24;

fn shown(v: u64) -> String {
    match v {
        rlimit::UNLIMITED => String::from("unlimited"),
        v => format!("{v}"),
    }
}

/// A hard limit above pocket's own needs CAP_SYS_RESOURCE (setrlimit(2)
/// says EPERM): refused by name, with both numbers, as runc fails on it
/// too (this host, for one, withholds the capability: NOFILE's hard limit
/// is 20000, podman asks for 1048576).
pub fn check_rlimits(wanted: &[Rlimit]) -> Result<()> {
    if caps::effective().is_ok_and(|e| e & CAP_SYS_RESOURCE != 0) {
        return Ok(());
    }
    for r in wanted {
        let name = rlimit::name(r.resource);
        let (_, hard) =
            proc::prlimit(0, r.resource, None).map_err(|e| Error::sys("getrlimit", name, e))?;
        if r.hard > hard {
            return Err(Error::bad(
                "setrlimit",
                format!("{name} {}", shown(r.hard)),
                format!(
                    "Operation not permitted (the host's hard limit is {}; pocket lacks CAP_SYS_RESOURCE)",
                    shown(hard)
                ),
            ));
        }
    }
    Ok(())
}

/// OCI `process.oomScoreAdj` (docker's `--oom-score-adj`): written for the
/// child (by its host pid) while it waits, so its command starts with it.
/// Below the current value it needs CAP_SYS_RESOURCE.
pub fn set_oom_score_adj(pid: i32, v: i32) -> Result<()> {
    let path = format!("/proc/{pid}/oom_score_adj");
    let c = cstr::cstring(path.as_bytes()).unwrap_or_default();
    let r = fd::open(&c, libc::O_WRONLY | libc::O_CLOEXEC, 0)
        .and_then(|f| fd::write_all(f.raw(), format!("{v}").as_bytes()));
    match r {
        Ok(()) => Ok(()),
        Err(Errno::EACCES) => Err(Error::bad(
            "write",
            format!("{path} {v}"),
            "Permission denied (lowering the OOM score needs CAP_SYS_RESOURCE, which pocket lacks)",
        )),
        Err(e) => Err(Error::sys("write", format!("{path} {v}"), e)),
    }
}
