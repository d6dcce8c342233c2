//! The two IPv4 sysctls bridge networking needs, through /proc/sys. Both
//! are per network namespace: they act on the caller's.

use crate::error::{Error, Result};
use crate::sys::fd;
use alloc::ffi::CString;
use alloc::format;

const IPV4: &str = "/proc/sys/net/ipv4";

/// net.ipv4.ip_forward = 1: containers reach other hosts through it.
pub fn ip_forward() -> Result<()> {
    set(IPV4, "ip_forward")
}

/// net.ipv4.conf.BRIDGE.route_localnet = 1: without it a connection to
/// 127.0.0.1 that DNAT sends out of the bridge is dropped as martian.
pub fn route_localnet(bridge: &str) -> Result<()> {
    // The name becomes a path component: check_name keeps it one.
    super::link::check_name(bridge)?;
    set(IPV4, &format!("conf/{bridge}/route_localnet"))
}

/// Write 1 to `dir/rel` unless it holds 1 already: then a read-only
/// /proc/sys (pocket inside a container) is no error.
fn set(dir: &str, rel: &str) -> Result<()> {
    let path = format!("{dir}/{rel}");
    let c = CString::new(path.as_str()).map_err(|_| Error::bad("sysctl", rel, "bad path"))?;
    let f = fd::open(&c, libc::O_RDONLY, 0).map_err(|e| Error::sys("open", path.as_str(), e))?;
    let mut b = [0u8; 4];
    let n = fd::read(f.raw(), &mut b).map_err(|e| Error::sys("read", path.as_str(), e))?;
    if matches!(&b[..n], b"1" | b"1\n") {
        return Ok(());
    }
    let f = fd::open(&c, libc::O_WRONLY, 0).map_err(|e| Error::sys("open", path.as_str(), e))?;
    fd::write_all(f.raw(), b"1").map_err(|e| Error::sys("write", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_1_once_and_names_the_file() {
        let dir = std::env::temp_dir().join(format!("pocket-sysctl-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("conf/br0")).unwrap();
        let d = dir.to_str().unwrap();
        std::fs::write(dir.join("ip_forward"), "0\n").unwrap();
        set(d, "ip_forward").unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("ip_forward")).unwrap(),
            "1\n"
        );

        let f = dir.join("conf/br0/route_localnet");
        std::fs::write(&f, "1\n").unwrap();
        set(d, "conf/br0/route_localnet").unwrap();
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "1\n");

        let e = set(d, "conf/nope/route_localnet").unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("open {d}/conf/nope/route_localnet: No such file or directory")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bridge_name_stays_one_path_component() {
        for bad in ["", ".", "..", "../../ip_forward", "a/b"] {
            let e = route_localnet(bad).unwrap_err();
            assert!(
                e.to_string().contains("not an interface name"),
                "{bad}: {e}"
            );
        }
    }
}
