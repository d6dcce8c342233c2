//! C strings for paths: on the heap in the parent, on the stack in the
//! child (which must not allocate between clone and execve).

use alloc::ffi::CString;
use alloc::vec::Vec;
use core::ffi::CStr;

/// `bytes` as a C string; None if it holds a NUL byte (which no path,
/// argument or environment entry can carry through execve).
pub fn cstring(bytes: &[u8]) -> Option<CString> {
    CString::new(Vec::from(bytes)).ok()
}

/// `n` in decimal, in `buf`, without allocating (fd numbers in
/// /proc/self/fd/N paths, pids for the hooks' state).
pub fn decimal(n: i32, buf: &mut [u8; 12]) -> &[u8] {
    let mut i = buf.len();
    let mut v = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if n < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

/// Join `dir` + "/" + `name` into `buf` as a C string, without allocating.
/// Returns None if it does not fit.
pub fn join<'b>(buf: &'b mut [u8], dir: &[u8], name: &[u8]) -> Option<&'b CStr> {
    let sep = !dir.is_empty() && !dir.ends_with(b"/");
    let n = dir.len() + sep as usize + name.len();
    if n + 1 > buf.len() {
        return None;
    }
    buf[..dir.len()].copy_from_slice(dir);
    let mut i = dir.len();
    if sep {
        buf[i] = b'/';
        i += 1;
    }
    buf[i..i + name.len()].copy_from_slice(name);
    buf[n] = 0;
    CStr::from_bytes_with_nul(&buf[..=n]).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals() {
        let mut b = [0u8; 12];
        assert_eq!(decimal(0, &mut b), b"0");
        assert_eq!(decimal(2147483647, &mut b), b"2147483647");
        assert_eq!(decimal(-17, &mut b), b"-17");
        assert_eq!(decimal(i32::MIN, &mut b), b"-2147483648");
    }

    #[test]
    fn join_paths() {
        let mut b = [0u8; 16];
        assert_eq!(join(&mut b, b"/bin", b"sh").unwrap().to_bytes(), b"/bin/sh");
        assert_eq!(
            join(&mut b, b"/bin/", b"sh").unwrap().to_bytes(),
            b"/bin/sh"
        );
        assert_eq!(join(&mut b, b"", b"sh").unwrap().to_bytes(), b"sh");
        assert!(join(&mut b, b"/a/very/long/dir", b"sh").is_none());
        assert!(join(&mut b, b"/bin", b"s\0h").is_none());
    }

    #[test]
    fn cstring_refuses_nul() {
        assert!(cstring(b"a\0b").is_none());
        assert_eq!(cstring(b"ab").unwrap().as_bytes(), b"ab");
    }
}
