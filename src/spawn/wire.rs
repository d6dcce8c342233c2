//! What travels through the config pipe from parent to child: flags, argv,
//! env, working directory and hostname, each string length-prefixed (u32)
//! and followed by a NUL, so the child can use them in place as C strings.
//! Spaces, quotes, newlines and empty strings survive byte for byte.
//!
//! The child decodes without allocating: into a buffer and pointer tables
//! the parent sized before clone(2).

use alloc::vec::Vec;
use core::ffi::{CStr, c_char};

const MAGIC: u32 = 0x504b_5431; // "PKT1"

pub const F_TTY: u32 = 1;
pub const F_STDIN: u32 = 2;
pub const F_INIT: u32 = 4;
pub const F_NETNS: u32 = 8;
pub const F_UTSNS: u32 = 16;
pub const F_CGROUPNS: u32 = 32;
pub const F_USERNS: u32 = 64;
/// A plain user's own-id namespace: setgroups(2) is denied there.
pub const F_NOGROUPS: u32 = 128;
/// Keep the session keyring (Spec::no_new_keyring).
pub const F_NOKEYRING: u32 = 256;

/// What an OCI `create`'s child writes on the error pipe once it is set
/// up and waits for `start`: one byte (a failure report has 8 at least).
pub const READY: &[u8] = b"R";

/// The decoded config, borrowing the receive buffer.
#[derive(Debug)]
pub struct Config<'a> {
    pub flags: u32,
    /// The outer terminal's size for -t (rows, cols); 0 if unknown.
    pub winsize: (u16, u16),
    pub cwd: &'a CStr,
    pub hostname: &'a [u8],
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &[u8]) {
    put_u32(out, s.len() as u32);
    out.extend_from_slice(s);
    out.push(0);
}

/// Encode; the caller has checked that no string holds a NUL byte.
pub fn encode(
    flags: u32,
    winsize: (u16, u16),
    args: &[Vec<u8>],
    env: &[Vec<u8>],
    cwd: &[u8],
    hostname: &[u8],
) -> Vec<u8> {
    let strs = args.iter().chain(env).map(|s| s.len() + 5).sum::<usize>();
    let mut out = Vec::with_capacity(20 + strs + cwd.len() + hostname.len() + 10);
    put_u32(&mut out, MAGIC);
    put_u32(&mut out, flags);
    put_u32(&mut out, (winsize.0 as u32) << 16 | winsize.1 as u32);
    for list in [args, env] {
        put_u32(&mut out, list.len() as u32);
        for s in list {
            put_str(&mut out, s);
        }
    }
    put_str(&mut out, cwd);
    put_str(&mut out, hostname);
    out
}

struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn u32(&mut self) -> Option<u32> {
        let (h, t) = self.buf.split_first_chunk::<4>()?;
        self.buf = t;
        Some(u32::from_le_bytes(*h))
    }
    fn cstr(&mut self) -> Option<&'a CStr> {
        let n = self.u32()? as usize;
        if self.buf.len() < n + 1 {
            return None;
        }
        let (s, t) = self.buf.split_at(n + 1);
        self.buf = t;
        // Exactly one NUL, at the end: refuses strings with a NUL inside.
        CStr::from_bytes_with_nul(s).ok()
    }
    /// Fill `v` (NULL-terminated) without growing it.
    fn list(&mut self, v: &mut Vec<*const c_char>) -> Option<()> {
        let n = self.u32()? as usize;
        if n + 1 > v.capacity() - v.len() {
            return None;
        }
        for _ in 0..n {
            v.push(self.cstr()?.as_ptr());
        }
        v.push(core::ptr::null());
        Some(())
    }
}

/// Decode `buf` into `argv` and `envp` (whose capacity must suffice; they
/// are never grown) and return the rest. None on any malformed input.
pub fn decode<'a>(
    buf: &'a [u8],
    argv: &mut Vec<*const c_char>,
    envp: &mut Vec<*const c_char>,
) -> Option<Config<'a>> {
    let mut r = Reader { buf };
    if r.u32()? != MAGIC {
        return None;
    }
    let flags = r.u32()?;
    let ws = r.u32()?;
    let winsize = ((ws >> 16) as u16, ws as u16);
    r.list(argv)?;
    r.list(envp)?;
    let cwd = r.cstr()?;
    let hostname = r.cstr()?.to_bytes();
    if !r.buf.is_empty() || argv.len() < 2 {
        return None;
    }
    Some(Config {
        flags,
        winsize,
        cwd,
        hostname,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(p: &[*const c_char]) -> Vec<Vec<u8>> {
        p.iter()
            .take_while(|p| !p.is_null())
            .map(|&p| unsafe { CStr::from_ptr(p) }.to_bytes().to_vec())
            .collect()
    }

    #[test]
    fn round_trip_keeps_every_byte() {
        let args: Vec<Vec<u8>> = vec![
            b"sh".to_vec(),
            b"".to_vec(),
            b"a b".to_vec(),
            b"'\"q".to_vec(),
            b"line\nbreak".to_vec(),
            vec![0xff, 1],
        ];
        let env = vec![b"A=1".to_vec(), b"EMPTY=".to_vec()];
        let buf = encode(F_TTY | F_INIT, (33, 77), &args, &env, b"/w d", b"host");
        let (mut a, mut e) = (
            Vec::with_capacity(args.len() + 1),
            Vec::with_capacity(env.len() + 1),
        );
        let c = decode(&buf, &mut a, &mut e).unwrap();
        assert_eq!(strs(&a), args);
        assert_eq!(strs(&e), env);
        assert!(a.last().unwrap().is_null() && e.last().unwrap().is_null());
        assert_eq!(c.flags, F_TTY | F_INIT);
        assert_eq!(c.winsize, (33, 77));
        assert_eq!(c.cwd.to_bytes(), b"/w d");
        assert_eq!(c.hostname, b"host");
    }

    #[test]
    fn never_grows_the_tables() {
        let args = vec![b"a".to_vec(), b"b".to_vec()];
        let buf = encode(0, (0, 0), &args, &[], b"/", b"h");
        let (mut a, mut e) = (Vec::with_capacity(2), Vec::with_capacity(1));
        assert!(decode(&buf, &mut a, &mut e).is_none());
    }

    #[test]
    fn refuses_malformed_input() {
        let args = vec![b"a".to_vec()];
        let buf = encode(0, (0, 0), &args, &[], b"/", b"h");
        for n in 0..buf.len() {
            let (mut a, mut e) = (Vec::with_capacity(8), Vec::with_capacity(8));
            assert!(decode(&buf[..n], &mut a, &mut e).is_none(), "prefix {n}");
        }
        let mut bad = buf.clone();
        bad[20] = 0; // a NUL inside "a"
        let (mut a, mut e) = (Vec::with_capacity(8), Vec::with_capacity(8));
        assert!(decode(&bad, &mut a, &mut e).is_none());
        let mut long = buf.clone();
        long.push(0);
        let (mut a, mut e) = (Vec::with_capacity(8), Vec::with_capacity(8));
        assert!(decode(&long, &mut a, &mut e).is_none());
    }
}

/// A child-side failure as sent on the error pipe: errno (i32), then the
/// step and its argument, each u16-length-prefixed. Built in a stack
/// buffer; returns the used length. Over-long arguments are cut.
pub fn put_fail(buf: &mut [u8; 512], op: &str, arg: &[u8], errno: i32) -> usize {
    let op = &op.as_bytes()[..op.len().min(64)];
    let arg = &arg[..arg.len().min(buf.len() - 8 - op.len())];
    buf[..4].copy_from_slice(&errno.to_le_bytes());
    let mut i = 4;
    for s in [op, arg] {
        buf[i..i + 2].copy_from_slice(&(s.len() as u16).to_le_bytes());
        buf[i + 2..i + 2 + s.len()].copy_from_slice(s);
        i += 2 + s.len();
    }
    i
}

/// Parse what `put_fail` wrote: (errno, step, argument).
pub fn get_fail(buf: &[u8]) -> Option<(i32, &[u8], &[u8])> {
    let (e, mut t) = buf.split_first_chunk::<4>()?;
    let mut parts = [&[][..]; 2];
    for p in &mut parts {
        let (n, rest) = t.split_first_chunk::<2>()?;
        let n = u16::from_le_bytes(*n) as usize;
        if rest.len() < n {
            return None;
        }
        *p = &rest[..n];
        t = &rest[n..];
    }
    Some((i32::from_le_bytes(*e), parts[0], parts[1]))
}

#[cfg(test)]
mod fail_tests {
    use super::*;

    #[test]
    fn fail_round_trip_and_truncation() {
        let mut b = [0u8; 512];
        let n = put_fail(&mut b, "mount", b"proc", 1);
        assert_eq!(get_fail(&b[..n]), Some((1, &b"mount"[..], &b"proc"[..])));
        let long = vec![b'x'; 2000];
        let n = put_fail(&mut b, "exec", &long, 2);
        let (e, op, arg) = get_fail(&b[..n]).unwrap();
        assert_eq!((e, op), (2, &b"exec"[..]));
        assert!(arg.len() < 512 && arg.iter().all(|&c| c == b'x'));
        assert!(get_fail(&b[..3]).is_none());
    }
}
