//! Network interfaces, the little that is needed without netlink.

use super::fd::Fd;
use super::{Result, Sysno};
use syscalls::syscall;

/// Bring `lo` up in the current network namespace:
/// `ioctl(sock, SIOCGIFFLAGS/SIOCSIFFLAGS, &ifreq)` — netdevice(7).
pub fn loopback_up() -> Result<()> {
    // SAFETY: no pointers.
    let s = unsafe {
        syscall!(
            Sysno::socket,
            libc::AF_INET,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            0
        )
    }?;
    let s = Fd::from_raw(s as i32);
    // struct ifreq: 16 bytes of name, then a union whose first short is
    // ifr_flags; 40 bytes in all.
    let mut ifr = [0u8; 40];
    ifr[..2].copy_from_slice(b"lo");
    let get = linux_raw_sys::ioctl::SIOCGIFFLAGS;
    let set = linux_raw_sys::ioctl::SIOCSIFFLAGS;
    // SAFETY: ifr is a valid 40-byte ifreq.
    unsafe { syscall!(Sysno::ioctl, s.raw(), get, ifr.as_mut_ptr()) }?;
    let flags = u16::from_ne_bytes([ifr[16], ifr[17]]) | libc::IFF_UP as u16;
    ifr[16..18].copy_from_slice(&flags.to_ne_bytes());
    // SAFETY: as above.
    unsafe { syscall!(Sysno::ioctl, s.raw(), set, ifr.as_mut_ptr()) }?;
    Ok(())
}
