//! An overlayfs context, ready for fsmount(2): one `lowerdir+` per layer
//! (kernel 6.8+), or else one `lowerdir=` string (at most a page). Before
//! 6.8 the new mount API hands overlay's options to its legacy parser,
//! which only fails at FSCONFIG_CMD_CREATE, so the fallback is decided
//! there: a whole second attempt with the joined string.
//!
//! Allocation-free: the container's child calls it.

use crate::sys::fd::Fd;
use crate::sys::{Errno, mount as m};
use alloc::ffi::CString;
use core::ffi::CStr;

/// What failed (a short step name) and why.
pub type Fail = (&'static str, Errno);

/// `lower` top first, `joined` the same ':'-joined; `upper` is
/// (upperdir, workdir) for a writable overlay. `opts` are set best effort
/// (a kernel without one still mounts).
pub fn create(
    lower: &[CString],
    joined: &CStr,
    upper: Option<(&CStr, &CStr)>,
    opts: &[(&CStr, Option<&CStr>)],
) -> Result<Fd, Fail> {
    let mut last = Errno::EINVAL;
    for plus in [true, false] {
        let fs = m::fsopen(c"overlay").map_err(|e| ("fsopen overlay", e))?;
        for (k, v) in opts {
            let _ = match v {
                Some(v) => m::fsconfig_string(&fs, k, v),
                None => m::fsconfig_flag(&fs, k),
            };
        }
        let lowers = if plus {
            lower
                .iter()
                .try_for_each(|l| m::fsconfig_string(&fs, c"lowerdir+", l))
        } else {
            m::fsconfig_string(&fs, c"lowerdir", joined)
        };
        match lowers {
            Ok(()) => {}
            Err(e) if plus => {
                last = e;
                continue;
            }
            Err(e) => return Err(("overlay lowerdir", e)),
        }
        if let Some((u, w)) = upper {
            m::fsconfig_string(&fs, c"upperdir", u).map_err(|e| ("overlay upperdir", e))?;
            m::fsconfig_string(&fs, c"workdir", w).map_err(|e| ("overlay workdir", e))?;
        }
        match m::fsconfig_create(&fs) {
            Ok(()) => return Ok(fs),
            Err(Errno::EINVAL) if plus => last = Errno::EINVAL,
            Err(e) => return Err(("mount overlay", e)),
        }
    }
    Err(("mount overlay", last))
}
