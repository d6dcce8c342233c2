//! Capability names as the OCI spec writes them ("CAP_CHOWN"), and masks.

use alloc::string::String;
use alloc::vec::Vec;

/// capabilities(7), in bit order (the kernel's numbering: sys::caps).
pub use crate::sys::caps::NAMES;

/// Every capability pocket knows (`--cap-add ALL`, `--privileged`).
pub const ALL: u64 = (1 << NAMES.len()) - 1;

/// OCI's four sets beside the bounding one (bit N = capability N).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sets {
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
    /// Kept across execve by a non-root user (capabilities(7)); the
    /// kernel takes only those also permitted and inheritable, the others
    /// are skipped, as runc skips them (with a warning).
    pub ambient: u64,
}

impl Sets {
    /// `bounding` and the four sets as a Process keeps them: None when
    /// they have docker's shape (effective = permitted = bounding, no
    /// inheritable nor ambient), which pocket applies as it always has.
    pub fn of(bounding: u64, s: Sets) -> Option<Sets> {
        let docker = Sets {
            effective: bounding,
            permitted: bounding,
            inheritable: 0,
            ambient: 0,
        };
        (s != docker).then_some(s)
    }
}

/// docker's `--cap-add`/`--cap-drop` over `base` (moby
/// `TweakCapabilities`): `--cap-add ALL` gives everything but the drops;
/// `--cap-drop ALL` keeps only the adds; otherwise drops come off the base,
/// then adds go on. Names with or without `CAP_`, any case; an unknown one
/// is returned as the error.
pub fn tweak<S: AsRef<str>>(base: u64, add: &[S], drop: &[S]) -> Result<u64, String> {
    let all = |v: &[S]| v.iter().any(|n| n.as_ref().eq_ignore_ascii_case("ALL"));
    let named = |v: &[S]| -> Result<u64, String> {
        let v: Vec<&str> = v
            .iter()
            .map(|n| n.as_ref())
            .filter(|n| !n.eq_ignore_ascii_case("ALL"))
            .collect();
        mask(&v)
    };
    let (a, d) = (named(add)?, named(drop)?);
    Ok(if all(add) {
        ALL & !d
    } else if all(drop) {
        a
    } else {
        (base & !d) | a
    })
}

/// The names of the bits set in `mask`.
pub fn names(mask: u64) -> Vec<String> {
    NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, n)| String::from(*n))
        .collect()
}

/// The mask of `names`; the unknown name if there is one.
pub fn mask<S: AsRef<str>>(names: &[S]) -> Result<u64, String> {
    let mut m = 0;
    for n in names {
        let n = n.as_ref();
        // docker upper-cases the name first, then adds `CAP_` where it is
        // missing: "cap_chown" is CAP_CHOWN, not CAP_CAP_CHOWN.
        let bare = match n.get(..4) {
            Some(p) if p.eq_ignore_ascii_case("CAP_") => &n[4..],
            _ => n,
        };
        match NAMES.iter().position(|x| x[4..].eq_ignore_ascii_case(bare)) {
            Some(i) => m |= 1 << i,
            None => return Err(String::from(n)),
        }
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let m = crate::spec::DEFAULT_CAPS;
        assert_eq!(mask(&names(m)).unwrap(), m);
        assert_eq!(mask(&["chown", "CAP_KILL"]).unwrap(), 1 | 1 << 5);
        assert_eq!(mask(&["CAP_NOPE"]), Err("CAP_NOPE".into()));
        assert_eq!(
            mask(&["cap_sys_ptrace", "Cap_Kill"]).unwrap(),
            1 << 19 | 1 << 5
        );
        assert_eq!(mask(&["cap_"]), Err("cap_".into()));
        assert_eq!(mask(&["cap_cap_chown"]), Err("cap_cap_chown".into()));
        assert_eq!(NAMES[21], "CAP_SYS_ADMIN");
        assert_eq!(NAMES[40], "CAP_CHECKPOINT_RESTORE");
    }

    #[test]
    fn tweaks_as_docker() {
        let base = crate::spec::DEFAULT_CAPS;
        let none: [&str; 0] = [];
        let m = |n: &[&str]| mask(n).unwrap();
        assert_eq!(tweak(base, &none, &none).unwrap(), base);
        assert_eq!(
            tweak(base, &["sys_admin"], &["CAP_CHOWN"]).unwrap(),
            (base & !m(&["CHOWN"])) | m(&["SYS_ADMIN"])
        );
        assert_eq!(
            tweak(base, &["ALL"], &["net_raw"]).unwrap(),
            ALL & !m(&["NET_RAW"])
        );
        assert_eq!(
            tweak(base, &["kill", "chown"], &["all"]).unwrap(),
            m(&["KILL", "CHOWN"])
        );
        assert_eq!(tweak(base, &none, &["ALL"]).unwrap(), 0);
        assert_eq!(tweak(base, &["CAP_FOO"], &none), Err("CAP_FOO".into()));
        assert_eq!(tweak(base, &none, &["bar"]), Err("bar".into()));
        assert_eq!(ALL.count_ones() as usize, NAMES.len());
    }
}
