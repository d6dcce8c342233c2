//! TCP client sockets for registries: a name resolved by musl's own
//! resolver (getaddrinfo(3): /etc/hosts, then DNS from /etc/resolv.conf;
//! no NSS modules in a static binary), each address tried in turn, with a
//! connect timeout and read/write timeouts so a dead server cannot hang
//! a pull.

use super::fd::{self, Fd};
use super::{Errno, Result, Sysno};
use alloc::vec::Vec;
use syscalls::syscall;

/// Seconds to wait for a connection, and for each read or write.
pub const CONNECT_TIMEOUT_MS: i32 = 15_000;
pub const IO_TIMEOUT_S: i64 = 60;

/// The addresses of `host` (a name, an IPv4 address, or an IPv6 address
/// without brackets) for TCP `port`, as raw sockaddr bytes with their family.
pub fn resolve(host: &str, port: u16) -> Result<Vec<(i32, Vec<u8>)>> {
    let mut name = Vec::with_capacity(host.len() + 1);
    name.extend_from_slice(host.as_bytes());
    name.push(0);
    if host.as_bytes().contains(&0) {
        return Err(Errno::EINVAL);
    }
    // SAFETY: addrinfo is a plain C struct; zero is a valid start.
    let mut hints: libc::addrinfo = unsafe { core::mem::zeroed() };
    hints.ai_family = libc::AF_UNSPEC;
    hints.ai_socktype = libc::SOCK_STREAM;
    let mut res: *mut libc::addrinfo = core::ptr::null_mut();
    // SAFETY: name is NUL-terminated; res receives a list we free below.
    let rc =
        unsafe { libc::getaddrinfo(name.as_ptr().cast(), core::ptr::null(), &hints, &mut res) };
    if rc != 0 {
        // EAI_* codes are not errnos: a name that does not resolve.
        return Err(Errno::ENOENT);
    }
    let mut out = Vec::new();
    let mut p = res;
    while !p.is_null() {
        // SAFETY: p walks the list getaddrinfo returned.
        let ai = unsafe { &*p };
        if (ai.ai_family == libc::AF_INET || ai.ai_family == libc::AF_INET6)
            && !ai.ai_addr.is_null()
        {
            // SAFETY: ai_addr points to ai_addrlen bytes.
            let mut sa = unsafe {
                core::slice::from_raw_parts(ai.ai_addr as *const u8, ai.ai_addrlen as usize)
            }
            .to_vec();
            // sin_port and sin6_port sit at the same offset, big-endian.
            if sa.len() >= 4 {
                sa[2..4].copy_from_slice(&port.to_be_bytes());
            }
            out.push((ai.ai_family, sa));
        }
        p = ai.ai_next;
    }
    // SAFETY: res came from getaddrinfo.
    unsafe { libc::freeaddrinfo(res) };
    if out.is_empty() {
        return Err(Errno::ENOENT);
    }
    Ok(out)
}

/// `socket` + non-blocking `connect` + `poll` — socket(2), connect(2):
/// the first address of `host` that answers within the timeout.
pub fn connect(host: &str, port: u16) -> Result<Fd> {
    let mut last = Errno::ECONNREFUSED;
    for (family, sa) in resolve(host, port)? {
        match connect_one(family, &sa) {
            Ok(f) => return Ok(f),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn connect_one(family: i32, sa: &[u8]) -> Result<Fd> {
    let ty = libc::SOCK_STREAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK;
    // SAFETY: no pointers.
    let s = Fd::from_raw(unsafe { syscall!(Sysno::socket, family, ty, 0) }? as i32);
    // SAFETY: sa holds a sockaddr of its length.
    match unsafe { syscall!(Sysno::connect, s.raw(), sa.as_ptr(), sa.len()) } {
        Ok(_) => {}
        Err(Errno::EINPROGRESS) => {
            let mut pf = [libc::pollfd {
                fd: s.raw(),
                events: libc::POLLOUT,
                revents: 0,
            }];
            if fd::poll(&mut pf, CONNECT_TIMEOUT_MS)? == 0 {
                return Err(Errno::ETIMEDOUT);
            }
            let mut err: i32 = 0;
            let mut len = core::mem::size_of::<i32>() as u32;
            // SAFETY: err and len are valid for getsockopt.
            unsafe {
                syscall!(
                    Sysno::getsockopt,
                    s.raw(),
                    libc::SOL_SOCKET,
                    libc::SO_ERROR,
                    &mut err as *mut i32,
                    &mut len as *mut u32
                )
            }?;
            if err != 0 {
                return Err(Errno::new(err));
            }
        }
        Err(e) => return Err(e),
    }
    // Blocking from here, each read and write bounded.
    fd::set_nonblock(s.raw(), false)?;
    let tv = libc::timeval {
        tv_sec: IO_TIMEOUT_S,
        tv_usec: 0,
    };
    for opt in [libc::SO_RCVTIMEO, libc::SO_SNDTIMEO] {
        // SAFETY: tv is a valid timeval.
        unsafe {
            syscall!(
                Sysno::setsockopt,
                s.raw(),
                libc::SOL_SOCKET,
                opt,
                &tv as *const libc::timeval,
                core::mem::size_of::<libc::timeval>()
            )
        }?;
    }
    let one: i32 = 1;
    // Requests are small and answered at once: no Nagle delay.
    // SAFETY: one is a valid int.
    let _ = unsafe {
        syscall!(
            Sysno::setsockopt,
            s.raw(),
            libc::IPPROTO_TCP,
            libc::TCP_NODELAY,
            &one as *const i32,
            core::mem::size_of::<i32>()
        )
    };
    Ok(s)
}
