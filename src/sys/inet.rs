//! IPv4 sockets, only to ask whether a host port is free.

use super::fd::Fd;
use super::{Errno, Result, Sysno};
use syscalls::syscall;

/// Bind a socket of `udp`/tcp to `ip:port` and let it go: Ok(true) if
/// that works, Ok(false) if something on the host holds the port.
pub fn port_free(udp: bool, ip: [u8; 4], port: u16) -> Result<bool> {
    let ty = if udp {
        libc::SOCK_DGRAM
    } else {
        libc::SOCK_STREAM
    };
    // SAFETY: no pointers.
    let fd = unsafe { syscall!(Sysno::socket, libc::AF_INET, ty | libc::SOCK_CLOEXEC, 0) }?;
    let s = Fd::from_raw(fd as i32);
    let addr = libc::sockaddr_in {
        sin_family: libc::AF_INET as u16,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from_ne_bytes(ip),
        },
        sin_zero: [0; 8],
    };
    let len = core::mem::size_of::<libc::sockaddr_in>();
    // SAFETY: addr is a valid sockaddr_in of `len` bytes.
    match unsafe { syscall!(Sysno::bind, s.raw(), &addr as *const libc::sockaddr_in, len) } {
        Ok(_) => Ok(true),
        Err(Errno::EADDRINUSE) => Ok(false),
        // An address this host does not have: not ours to judge here.
        Err(Errno::EADDRNOTAVAIL) => Ok(true),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_held_port_is_not_free() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        assert_eq!(super::port_free(false, [127, 0, 0, 1], port), Ok(false));
        assert_eq!(super::port_free(false, [0, 0, 0, 0], port), Ok(false));
        let u = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let uport = u.local_addr().unwrap().port();
        assert_eq!(super::port_free(true, [127, 0, 0, 1], uport), Ok(false));
        drop((l, u));
        assert_eq!(super::port_free(false, [127, 0, 0, 1], port), Ok(true));
        assert_eq!(super::port_free(true, [127, 0, 0, 1], uport), Ok(true));
    }
}
