//! Capability names as the OCI spec writes them ("CAP_CHOWN"), and masks.

use alloc::string::String;
use alloc::vec::Vec;

/// capabilities(7), in bit order.
pub const NAMES: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

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
        let full = if n.starts_with("CAP_") {
            String::from(n)
        } else {
            alloc::format!("CAP_{n}")
        };
        match NAMES.iter().position(|x| x.eq_ignore_ascii_case(&full)) {
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
        assert_eq!(NAMES[21], "CAP_SYS_ADMIN");
        assert_eq!(NAMES[40], "CAP_CHECKPOINT_RESTORE");
    }
}
