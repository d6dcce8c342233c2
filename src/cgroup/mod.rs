//! cgroups: where a process is (detect), and joining another process's
//! cgroups (exec). Limits come in their own files per version (v1, v2).
//! Every function that touches cgroupfs takes its inputs as text or paths,
//! so tests can point it at a fake tree.

pub mod detect;
pub mod resources;

pub use resources::Resources;

use crate::error::{Context, Error, Result};
use crate::sys::{fd, fs, proc};
use alloc::ffi::CString;
use alloc::format;

fn read(path: &str) -> Result<alloc::vec::Vec<u8>> {
    let c = CString::new(path).map_err(|_| Error::bad("path", path, "contains a NUL byte"))?;
    fs::read(&c).ctx("read", path)
}

/// Put the calling process into every cgroup `pid` is in (v1 hierarchies
/// and the v2 tree), as `exec` must: the new process is then counted and
/// limited with the container. Hierarchies where both already agree are
/// left alone.
pub fn join(pid: i32) -> Result<()> {
    let theirs = read(&format!("/proc/{pid}/cgroup"))?;
    let ours = read("/proc/self/cgroup")?;
    let mounts = read("/proc/self/mountinfo")?;
    let me = format!("{}", proc::getpid());
    for path in detect::procs_files(&theirs, &ours, &mounts) {
        let c = CString::new(path.as_str())
            .map_err(|_| Error::bad("cgroup", path.clone(), "bad path"))?;
        let f = fd::open(&c, libc::O_WRONLY, 0).ctx("join cgroup", &path)?;
        fd::write_all(f.raw(), me.as_bytes()).ctx("join cgroup", &path)?;
    }
    Ok(())
}
