//! The per-interface and forwarding sysctls bridge networking needs,
//! through /proc/sys. All are per network namespace: they act on the
//! caller's (/proc/sys/net shows the namespace of whoever opens it).

use crate::error::{Error, Result};
use crate::sys::{Errno, fd};
use alloc::ffi::CString;
use alloc::format;

const IPV4: &str = "/proc/sys/net/ipv4";
const IPV6: &str = "/proc/sys/net/ipv6";

/// net.ipv4.ip_forward = 1: containers reach other hosts through it. It
/// makes the host a router for anyone on its links too: nft.rs drops
/// what is forwarded into a bridge unless it is an answer or published.
pub fn ip_forward() -> Result<()> {
    set(IPV4, "ip_forward", b'1')
}

/// net.ipv4.conf.BRIDGE.route_localnet = 1: without it a connection to
/// 127.0.0.1 that DNAT sends out of the bridge is dropped as martian.
pub fn route_localnet(bridge: &str) -> Result<()> {
    // The name becomes a path component: check_name keeps it one.
    super::link::check_name(bridge)?;
    set(IPV4, &format!("conf/{bridge}/route_localnet"), b'1')
}

/// IPv6 off on interface `name` (a bridge, either end of a container's
/// veth), set before it goes up so it never gets an address: pocket's
/// networks are IPv4 only. Otherwise every interface has a link-local
/// address, and a bridge accepts router advertisements (accept_ra
/// defaults to 1 while IPv6 forwarding is off): any container, which has
/// CAP_NET_RAW by default, could make itself the host's IPv6 default
/// router, and the neighbours' (CVE-2020-13401). A kernel without IPv6
/// has nothing to turn off.
pub fn ipv6_off(name: &str) -> Result<()> {
    ipv6_off_in(IPV6, name)
}

fn ipv6_off_in(dir: &str, name: &str) -> Result<()> {
    super::link::check_name(name)?;
    let c = CString::new(dir).map_err(|_| Error::bad("sysctl", dir, "bad path"))?;
    match fd::open(&c, libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC, 0) {
        Err(Errno::ENOENT) => return Ok(()),
        Err(e) => return Err(Error::sys("open", dir, e)),
        Ok(_) => {}
    }
    set(dir, &format!("conf/{name}/accept_ra"), b'0')?;
    set(dir, &format!("conf/{name}/disable_ipv6"), b'1')
}

/// Write `v` to `dir/rel` unless it holds `v` already: then a read-only
/// /proc/sys (pocket inside a container) is no error.
fn set(dir: &str, rel: &str, v: u8) -> Result<()> {
    let path = format!("{dir}/{rel}");
    let c = CString::new(path.as_str()).map_err(|_| Error::bad("sysctl", rel, "bad path"))?;
    let flags = libc::O_CLOEXEC;
    let f = fd::open(&c, libc::O_RDONLY | flags, 0).map_err(|e| Error::sys("open", &path, e))?;
    let mut b = [0u8; 4];
    let n = fd::read(f.raw(), &mut b).map_err(|e| Error::sys("read", &path, e))?;
    if b[..n] == [v] || b[..n] == [v, b'\n'] {
        return Ok(());
    }
    let f = fd::open(&c, libc::O_WRONLY | flags, 0).map_err(|e| Error::sys("open", &path, e))?;
    fd::write_all(f.raw(), &[v]).map_err(|e| Error::sys("write", path, e))
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
        set(d, "ip_forward", b'1').unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("ip_forward")).unwrap(),
            "1\n"
        );

        let f = dir.join("conf/br0/route_localnet");
        std::fs::write(&f, "1\n").unwrap();
        set(d, "conf/br0/route_localnet", b'1').unwrap();
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "1\n");

        let e = set(d, "conf/nope/route_localnet", b'1').unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("open {d}/conf/nope/route_localnet: No such file or directory")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn ipv6_off_turns_off_ra_then_ipv6_and_skips_a_kernel_without_it() {
        let dir = std::env::temp_dir().join(format!("pocket-sysctl6-{}", std::process::id()));
        let d = dir.to_str().unwrap();
        // No net/ipv6 at all: nothing to do, nothing made.
        ipv6_off_in(d, "br0").unwrap();
        assert!(!dir.exists());

        std::fs::create_dir_all(dir.join("conf/br0")).unwrap();
        let ra = dir.join("conf/br0/accept_ra");
        let off = dir.join("conf/br0/disable_ipv6");
        std::fs::write(&ra, "1\n").unwrap();
        std::fs::write(&off, "0\n").unwrap();
        ipv6_off_in(d, "br0").unwrap();
        assert_eq!(std::fs::read_to_string(&ra).unwrap(), "0\n");
        assert_eq!(std::fs::read_to_string(&off).unwrap(), "1\n");

        // IPv6 there but not the interface: an error naming the file.
        let e = ipv6_off_in(d, "nope").unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("open {d}/conf/nope/accept_ra: No such file or directory")
        );
        for bad in ["..", "a/b", ""] {
            let e = ipv6_off_in(d, bad).unwrap_err();
            assert!(e.to_string().contains("not an interface name"), "{e}");
        }
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
