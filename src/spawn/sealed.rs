//! Entering a container from a sealed copy of pocket (CVE-2019-5736).
//!
//! A process of `pocket exec` that joins a container is the host's pocket
//! binary until its final execve. If the container planted a script whose
//! interpreter is `#!/proc/self/exe`, that execve runs the host's pocket
//! *inside* the container, as an ordinary (dumpable) process: another
//! container process can then open its /proc/PID/exe and, once no process
//! executes that file any more (ETXTBSY ends), write the host's binary.
//! So `exec` first re-executes itself from a memfd copy sealed against
//! writes: /proc/self/exe is then that copy, and the on-disk binary is out
//! of reach whatever runs in the container, even after an upgrade put a
//! new inode at pocket's path. (`run` and `start` need no copy: the
//! container's parent, foreground pocket or its monitor, runs the very
//! same file for the container's whole life, so the kernel refuses writes
//! to it with ETXTBSY until every process of the container is gone.)

use crate::error::{Error, Result};
use crate::rt::Args;
use crate::sys::exe;

/// Return if this process already runs from a sealed copy; else re-execute
/// from one with the same arguments and environment (never returns then).
pub fn ensure(args: &Args) -> Result<()> {
    if exe::running_sealed() {
        return Ok(());
    }
    let copy = exe::sealed_copy().map_err(|e| Error::sys("seal a copy of", "pocket", e))?;
    let e = exe::execveat_fd(&copy, args.raw_argv, args.raw_envp);
    Err(Error::sys("execveat", "sealed copy of pocket", e))
}
