//! Runtime support the binary brings itself in `no_std`: allocator,
//! output writers, argv/env access and the panic path.

mod alloc;
pub mod args;
pub mod crash;
#[cfg(test)]
pub mod fuzz;
mod io;
pub mod names;
mod once;
pub mod time;

pub use alloc::Malloc;

pub use args::Args;
pub use io::{Out, err, line, out};
pub use once::Once;

/// Report a bug (a panic) and exit 125 like any pocket failure.
pub fn panicked(info: &core::panic::PanicInfo) -> ! {
    use core::fmt::Write;
    let mut e = err();
    let _ = write!(e, "pocket: internal error: {}", info.message());
    if let Some(l) = info.location() {
        let _ = write!(e, " at {}:{}", l.file(), l.line());
    }
    let _ = e.write_str("\n");
    drop(e);
    crate::sys::proc::exit(125)
}

/// Lowercase hex of `bytes` (ids, digests).
pub fn hex(bytes: &[u8]) -> ::alloc::string::String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|x| {
            [
                HEX[(x >> 4) as usize] as char,
                HEX[(x & 15) as usize] as char,
            ]
        })
        .collect()
}

/// Insertion sort for the short lists pocket sorts (container ids,
/// records, pids): core's sort algorithms cost ~2 KB of code per element
/// type, this costs a hundred bytes.
pub fn sort_by<T>(v: &mut [T], less: impl Fn(&T, &T) -> bool) {
    for i in 1..v.len() {
        let mut j = i;
        while j > 0 && less(&v[j], &v[j - 1]) {
            v.swap(j - 1, j);
            j -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sorts() {
        let mut v = vec![5, 1, 4, 1, 3];
        super::sort_by(&mut v, |a, b| a < b);
        assert_eq!(v, [1, 1, 3, 4, 5]);
        let mut s = vec!["b".to_string(), "c".into(), "a".into()];
        super::sort_by(&mut s, |a, b| a > b);
        assert_eq!(s, ["c", "b", "a"]);
        let mut e: Vec<u8> = vec![];
        super::sort_by(&mut e, |a, b| a < b);
    }
}
