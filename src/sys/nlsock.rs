//! Netlink sockets: socket, bind, send, receive — netlink(7).
//!
//! Only the raw calls; message building and parsing are in `crate::net::nl`.

use super::fd::Fd;
use super::{Errno, Result, Sysno};
use syscalls::syscall;

/// `socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, protocol)` then
/// `bind(fd, {AF_NETLINK, pid 0, groups 0})` — netlink(7): the kernel picks
/// the port id, so two sockets of one process never clash.
pub fn open(protocol: i32) -> Result<Fd> {
    let ty = libc::SOCK_RAW | libc::SOCK_CLOEXEC;
    // SAFETY: no pointers.
    let fd = unsafe { syscall!(Sysno::socket, libc::AF_NETLINK, ty, protocol) }?;
    let fd = Fd::from_raw(fd as i32);
    let sa = addr();
    // SAFETY: sa is a valid sockaddr_nl and its size is passed.
    unsafe {
        syscall!(
            Sysno::bind,
            fd.raw(),
            &sa as *const libc::sockaddr_nl,
            core::mem::size_of::<libc::sockaddr_nl>()
        )
    }?;
    Ok(fd)
}

fn addr() -> libc::sockaddr_nl {
    // SAFETY: sockaddr_nl is a plain C struct; zero is a valid start.
    let mut sa: libc::sockaddr_nl = unsafe { core::mem::zeroed() };
    sa.nl_family = libc::AF_NETLINK as u16;
    sa
}

/// `setsockopt(fd, level, opt, &val, 4)` — setsockopt(2).
fn setsockopt(fd: i32, level: i32, opt: i32, val: i32) -> Result<()> {
    // SAFETY: &val is valid for 4 bytes.
    unsafe { syscall!(Sysno::setsockopt, fd, level, opt, &val as *const i32, 4) }.map(drop)
}

/// `setsockopt(fd, SOL_NETLINK, opt, &1, 4)` — netlink(7), for the
/// NETLINK_EXT_ACK / NETLINK_CAP_ACK switches.
pub fn set_flag(fd: i32, opt: i32) -> Result<()> {
    setsockopt(fd, libc::SOL_NETLINK, opt, 1)
}

/// Receive buffer of at least `bytes`: SO_RCVBUFFORCE (CAP_NET_ADMIN),
/// else SO_RCVBUF, which the kernel caps at net.core.rmem_max — socket(7).
pub fn set_rcvbuf(fd: i32, bytes: i32) -> Result<()> {
    setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, bytes)
        .or_else(|_| setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, bytes))
}

/// Send buffer of at least `bytes`: SO_SNDBUFFORCE, else SO_SNDBUF.
pub fn set_sndbuf(fd: i32, bytes: i32) -> Result<()> {
    setsockopt(fd, libc::SOL_SOCKET, libc::SO_SNDBUFFORCE, bytes)
        .or_else(|_| setsockopt(fd, libc::SOL_SOCKET, libc::SO_SNDBUF, bytes))
}

/// `getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE)` — socket(7), Linux
/// 5.14: the socket's network namespace as a 64-bit number that, unlike
/// the namespace's inode, is never given to another namespace.
pub fn netns_cookie(fd: i32) -> Result<u64> {
    const SO_NETNS_COOKIE: i32 = 71;
    let mut v: u64 = 0;
    let mut len = core::mem::size_of::<u64>() as u32;
    // SAFETY: v and len are valid for the call and len says v's size.
    unsafe {
        syscall!(
            Sysno::getsockopt,
            fd,
            libc::SOL_SOCKET,
            SO_NETNS_COOKIE,
            &mut v as *mut u64,
            &mut len as *mut u32
        )
    }?;
    Ok(v)
}

/// `sendto(fd, buf, len, 0, {AF_NETLINK, pid 0}, sizeof)` — to the kernel;
/// retried on EINTR. A netlink datagram goes whole or not at all.
pub fn send(fd: i32, buf: &[u8]) -> Result<()> {
    let sa = addr();
    loop {
        // SAFETY: buf and sa are valid for the call.
        match unsafe {
            syscall!(
                Sysno::sendto,
                fd,
                buf.as_ptr(),
                buf.len(),
                0,
                &sa as *const libc::sockaddr_nl,
                core::mem::size_of::<libc::sockaddr_nl>()
            )
        } {
            Err(Errno::EINTR) => continue,
            r => return r.map(drop),
        }
    }
}

/// The size of the next datagram, without taking it:
/// `recvfrom(fd, NULL, 0, flags|MSG_PEEK|MSG_TRUNC, NULL, NULL)` — with
/// MSG_TRUNC a netlink socket returns the real length — netlink(7).
pub fn peek_len(fd: i32, flags: i32) -> Result<usize> {
    loop {
        let flags = flags | libc::MSG_PEEK | libc::MSG_TRUNC;
        // SAFETY: a zero-length buffer is never written.
        match unsafe { syscall!(Sysno::recvfrom, fd, 0usize, 0usize, flags, 0usize, 0usize) } {
            Err(Errno::EINTR) => continue,
            r => return r,
        }
    }
}

/// `recvfrom(fd, buf, len, flags, &from, &fromlen)` — recv(2), retried on
/// EINTR. Returns the length and the sender's port id (0: the kernel).
pub fn recv(fd: i32, buf: &mut [u8], flags: i32) -> Result<(usize, u32)> {
    let mut sa = addr();
    loop {
        let mut len = core::mem::size_of::<libc::sockaddr_nl>() as u32;
        // SAFETY: buf, sa and len are valid for writes for the call.
        match unsafe {
            syscall!(
                Sysno::recvfrom,
                fd,
                buf.as_mut_ptr(),
                buf.len(),
                flags,
                &mut sa as *mut libc::sockaddr_nl,
                &mut len as *mut u32
            )
        } {
            Err(Errno::EINTR) => continue,
            r => return r.map(|n| (n, sa.nl_pid)),
        }
    }
}
