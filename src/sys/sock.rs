//! Unix sockets: to pass a file descriptor (the pty master made inside
//! the container) back to the parent with SCM_RIGHTS, and the streams of
//! attach (container/attach.rs).

use super::fd::Fd;
use super::{Errno, Result, Sysno};
use syscalls::syscall;

/// `socketpair(AF_UNIX, SOCK_SEQPACKET|SOCK_CLOEXEC, 0, fds)` — socketpair(2).
pub fn socketpair() -> Result<(Fd, Fd)> {
    pair(libc::SOCK_SEQPACKET)
}

/// `socketpair(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0, fds)`: bytes, not
/// messages (attach's frames can be longer than one read).
pub fn stream_pair() -> Result<(Fd, Fd)> {
    pair(libc::SOCK_STREAM)
}

fn pair(ty: i32) -> Result<(Fd, Fd)> {
    let mut fds = [0i32; 2];
    let ty = ty | libc::SOCK_CLOEXEC;
    // SAFETY: fds has room for two ints.
    unsafe { syscall!(Sysno::socketpair, libc::AF_UNIX, ty, 0, fds.as_mut_ptr()) }?;
    Ok((Fd::from_raw(fds[0]), Fd::from_raw(fds[1])))
}

/// A unix(7) address for `path`, and its length.
fn unix_addr(path: &[u8]) -> Result<(libc::sockaddr_un, usize)> {
    // SAFETY: sockaddr_un is a plain C struct; zero is a valid start.
    let mut sa: libc::sockaddr_un = unsafe { core::mem::zeroed() };
    if path.is_empty() || path.len() >= sa.sun_path.len() || path.contains(&0) {
        return Err(Errno::ENAMETOOLONG);
    }
    sa.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (d, &s) in sa.sun_path.iter_mut().zip(path) {
        *d = s as libc::c_char;
    }
    Ok((
        sa,
        core::mem::size_of::<libc::sa_family_t>() + path.len() + 1,
    ))
}

/// `socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK)` +
/// `bind(path)` + `listen` — a listening socket at `path` (made 0600 by
/// the umask the caller set).
pub fn listen_unix(path: &[u8]) -> Result<Fd> {
    let (sa, len) = unix_addr(path)?;
    let ty = libc::SOCK_STREAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK;
    // SAFETY: no pointers.
    let s = Fd::from_raw(unsafe { syscall!(Sysno::socket, libc::AF_UNIX, ty, 0) }? as i32);
    // SAFETY: sa is a valid sockaddr_un of at least `len` bytes.
    unsafe { syscall!(Sysno::bind, s.raw(), &sa as *const libc::sockaddr_un, len) }?;
    // SAFETY: no pointers.
    unsafe { syscall!(Sysno::listen, s.raw(), 8) }?;
    Ok(s)
}

/// `accept4(sock, NULL, NULL, SOCK_CLOEXEC|SOCK_NONBLOCK)` — accept(2).
pub fn accept(sock: &Fd) -> Result<Fd> {
    let fl = libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK;
    // SAFETY: null address pointers are allowed.
    let r = unsafe { syscall!(Sysno::accept4, sock.raw(), 0usize, 0usize, fl) }?;
    Ok(Fd::from_raw(r as i32))
}

/// `socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC)` + `connect(path)` —
/// socket(2), connect(2), unix(7): a stream socket to a listening path
/// (an OCI engine's `--console-socket`).
pub fn connect_unix(path: &[u8]) -> Result<Fd> {
    let (sa, len) = unix_addr(path)?;
    let ty = libc::SOCK_STREAM | libc::SOCK_CLOEXEC;
    // SAFETY: no pointers.
    let s = Fd::from_raw(unsafe { syscall!(Sysno::socket, libc::AF_UNIX, ty, 0) }? as i32);
    loop {
        // SAFETY: sa is a valid sockaddr_un of at least `len` bytes.
        match unsafe {
            syscall!(
                Sysno::connect,
                s.raw(),
                &sa as *const libc::sockaddr_un,
                len
            )
        } {
            Err(Errno::EINTR) => continue,
            r => return r.map(|_| s),
        }
    }
}

// One int in a control message, 8-byte aligned: cmsghdr (16) + 4, padded.
const CMSG_SPACE: usize = 24;

#[repr(C, align(8))]
struct Cmsg([u8; CMSG_SPACE]);

/// `sendmsg(sock, {1 byte, SCM_RIGHTS fd}, 0)` — sendmsg(2), unix(7).
pub fn send_fd(sock: i32, fd: i32) -> Result<()> {
    let mut byte = [0u8; 1];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr() as *mut _,
        iov_len: 1,
    };
    let mut c = Cmsg([0; CMSG_SPACE]);
    // cmsghdr: len (usize), level (i32), type (i32), then the data.
    c.0[..8].copy_from_slice(&(16usize + 4).to_ne_bytes());
    c.0[8..12].copy_from_slice(&libc::SOL_SOCKET.to_ne_bytes());
    c.0[12..16].copy_from_slice(&libc::SCM_RIGHTS.to_ne_bytes());
    c.0[16..20].copy_from_slice(&fd.to_ne_bytes());
    // SAFETY: msghdr is a plain C struct; zero is a valid start.
    let mut msg: libc::msghdr = unsafe { core::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = c.0.as_mut_ptr() as *mut _;
    msg.msg_controllen = CMSG_SPACE as _;
    loop {
        // SAFETY: msg points at valid buffers for the call.
        match unsafe {
            syscall!(
                Sysno::sendmsg,
                sock,
                &msg as *const libc::msghdr,
                libc::MSG_NOSIGNAL
            )
        } {
            Err(Errno::EINTR) => continue,
            r => return r.map(drop),
        }
    }
}

/// Receive one fd sent by `send_fd`; None if the peer closed without
/// sending (the child failed before it got there).
pub fn recv_fd(sock: i32) -> Result<Option<Fd>> {
    let mut byte = [0u8; 1];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr() as *mut _,
        iov_len: 1,
    };
    let mut c = Cmsg([0; CMSG_SPACE]);
    // SAFETY: msghdr is a plain C struct; zero is a valid start.
    let mut msg: libc::msghdr = unsafe { core::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = c.0.as_mut_ptr() as *mut _;
    msg.msg_controllen = CMSG_SPACE as _;
    let n = loop {
        // SAFETY: msg points at valid buffers for the call.
        match unsafe {
            syscall!(
                Sysno::recvmsg,
                sock,
                &mut msg as *mut libc::msghdr,
                libc::MSG_CMSG_CLOEXEC
            )
        } {
            Err(Errno::EINTR) => continue,
            r => break r?,
        }
    };
    if n == 0 || (msg.msg_controllen as usize) < 20 {
        return Ok(None);
    }
    let level = i32::from_ne_bytes([c.0[8], c.0[9], c.0[10], c.0[11]]);
    let ty = i32::from_ne_bytes([c.0[12], c.0[13], c.0[14], c.0[15]]);
    if level != libc::SOL_SOCKET || ty != libc::SCM_RIGHTS {
        return Ok(None);
    }
    Ok(Some(Fd::from_raw(i32::from_ne_bytes([
        c.0[16], c.0[17], c.0[18], c.0[19],
    ]))))
}
