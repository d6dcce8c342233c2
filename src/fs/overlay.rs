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

/// As `create`, the layers given as open (detached, idmapped) mounts:
/// `lowerdir+` by fd, which only 6.13+ kernels take (EINVAL before).
pub fn create_from_fds(
    lower: &[Fd],
    upper: (&CStr, &CStr),
    opts: &[(&CStr, Option<&CStr>)],
) -> Result<Fd, Fail> {
    let fs = m::fsopen(c"overlay").map_err(|e| ("fsopen overlay", e))?;
    for (k, v) in opts {
        let _ = match v {
            Some(v) => m::fsconfig_string(&fs, k, v),
            None => m::fsconfig_flag(&fs, k),
        };
    }
    for l in lower {
        m::fsconfig_fd(&fs, c"lowerdir+", l)
            .map_err(|e| ("overlay layer by fd (kernel 6.13+)", e))?;
    }
    m::fsconfig_string(&fs, c"upperdir", upper.0).map_err(|e| ("overlay upperdir", e))?;
    m::fsconfig_string(&fs, c"workdir", upper.1).map_err(|e| ("overlay workdir", e))?;
    m::fsconfig_create(&fs).map_err(|e| ("mount overlay", e))?;
    Ok(fs)
}

/// The options every container overlay gets. The upper dir must stay a
/// plain diff that `commit` can tar: no redirect xattrs for renamed dirs,
/// no metadata-only copy-ups, whatever the kernel's defaults. No inodes
/// index either: a spare work dir (state/spare.rs) may still be marked
/// in use by a mount that outlived its container, which with `index=on`
/// fails the mount (EBUSY) and off is a warning (containers/storage sets
/// it off too). `volatile` (5.10+): no syncs.
/// `userxattr` (5.11+): overlayfs' own xattrs in user.*, the namespace
/// a plain user's user namespace may write; redirects are then not even
/// followed (the kernel refuses "off", which follows them, with it).
pub fn options(
    volatile: bool,
    user_xattr: bool,
) -> &'static [(&'static CStr, Option<&'static CStr>)] {
    const OFF: Option<&CStr> = Some(c"off");
    const NOFOLLOW: Option<&CStr> = Some(c"nofollow");
    match (volatile, user_xattr) {
        (true, true) => &[
            (c"redirect_dir", NOFOLLOW),
            (c"metacopy", OFF),
            (c"index", OFF),
            (c"volatile", None),
            (c"userxattr", None),
        ],
        (false, true) => &[
            (c"redirect_dir", NOFOLLOW),
            (c"metacopy", OFF),
            (c"index", OFF),
            (c"userxattr", None),
        ],
        (true, false) => &[
            (c"redirect_dir", OFF),
            (c"metacopy", OFF),
            (c"index", OFF),
            (c"volatile", None),
        ],
        (false, false) => &[(c"redirect_dir", OFF), (c"metacopy", OFF), (c"index", OFF)],
    }
}
