//! Sysctls a container may set (OCI `linux.sysctl`, docker's `--sysctl`):
//! only those the kernel keeps per namespace, and only when the container
//! has that namespace, so nothing it writes reaches the host. The rules
//! and messages are runc's (libcontainer/configs/validate).

use super::{Namespace, Spec};
use alloc::format;
use alloc::string::String;

/// IPC-namespaced keys besides `fs.mqueue.*`.
const IPC: &[&str] = &[
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
];

/// The key in dotted form ("net/ipv4/ip_forward" as "net.ipv4.ip_forward").
fn dotted(key: &str) -> String {
    key.replace('/', ".")
}

/// Whether `spec` may set `key`; else why not. A namespace joined by path
/// counts as the container's own, as runc counts it.
pub fn check(spec: &Spec, key: &str) -> Result<(), String> {
    let has = |n| spec.has(n) || spec.ns_path(n).is_some();
    let k = dotted(key);
    let sane = !key.is_empty()
        && !key.starts_with(['/', '.'])
        && key
            .split(['/', '.'])
            .all(|c| !c.is_empty() && c != ".." && !c.contains('\0'));
    if !sane {
        return Err(format!("sysctl {key:?} is not a valid key"));
    }
    if IPC.contains(&k.as_str()) || k.starts_with("fs.mqueue.") {
        return match has(Namespace::Ipc) {
            true => Ok(()),
            false => Err(format!(
                "sysctl {key:?} is not allowed in the hosts ipc namespace"
            )),
        };
    }
    if k.starts_with("net.") {
        return match has(Namespace::Network) {
            true => Ok(()),
            false => Err(format!(
                "sysctl {key:?} not allowed in host network namespace"
            )),
        };
    }
    if has(Namespace::Uts) {
        match k.as_str() {
            "kernel.domainname" => return Ok(()),
            "kernel.hostname" => {
                return Err(format!(
                    "sysctl {key:?} is not allowed as it conflicts with the OCI \"hostname\" field"
                ));
            }
            _ => {}
        }
    }
    Err(format!(
        "sysctl {key:?} is not in a separate kernel namespace"
    ))
}

/// The file of `key` below /proc/sys, relative to the container's root:
/// dots are separators unless the key uses slashes (then a dot may be
/// part of a name, as in an interface "eth0.100").
pub fn path(key: &str) -> String {
    match key.contains('/') {
        true => format!("proc/sys/{key}"),
        false => format!("proc/sys/{}", key.replace('.', "/")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(ns: &[Namespace]) -> Spec {
        Spec {
            namespaces: ns.to_vec(),
            ..Default::default()
        }
    }

    #[test]
    fn only_namespaced_keys_with_their_namespace() {
        let all = spec(&[Namespace::Ipc, Namespace::Network, Namespace::Uts]);
        for k in [
            "kernel.msgmax",
            "kernel.shm_rmid_forced",
            "fs.mqueue.msg_max",
            "net.ipv4.ip_forward",
            "net/ipv4/conf/eth0.100/forwarding",
            "kernel.domainname",
        ] {
            assert_eq!(check(&all, k), Ok(()), "{k}");
        }
        let none = spec(&[]);
        assert_eq!(
            check(&none, "net.ipv4.ip_forward").unwrap_err(),
            "sysctl \"net.ipv4.ip_forward\" not allowed in host network namespace"
        );
        assert!(
            check(&none, "kernel.sem")
                .unwrap_err()
                .contains("hosts ipc")
        );
        assert!(
            check(&none, "kernel.domainname")
                .unwrap_err()
                .contains("separate")
        );
        for k in [
            "kernel.panic",
            "vm.swappiness",
            "kernel.hostname",
            "fs.file-max",
        ] {
            assert!(check(&all, k).is_err(), "{k}");
        }
        for k in ["", "net..x", "net/../../x", "/net/x", ".net", "net.x\0"] {
            assert!(check(&all, k).unwrap_err().contains("valid key"), "{k:?}");
        }
        // A namespace joined by path is the container's own.
        let mut j = spec(&[]);
        j.ns_paths = vec![(Namespace::Network, "/run/netns/x".into())];
        assert_eq!(check(&j, "net.core.somaxconn"), Ok(()));
    }

    #[test]
    fn paths_below_proc_sys() {
        assert_eq!(path("net.ipv4.ip_forward"), "proc/sys/net/ipv4/ip_forward");
        assert_eq!(
            path("net/ipv4/conf/eth0.100/forwarding"),
            "proc/sys/net/ipv4/conf/eth0.100/forwarding"
        );
    }
}
