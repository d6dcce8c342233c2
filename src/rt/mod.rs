//! Runtime support the binary brings itself in `no_std`: allocator,
//! output writers, argv/env access and the panic path.

mod alloc;
pub mod args;
pub mod copy;
pub mod crash;
#[cfg(test)]
pub mod fuzz;
mod io;
pub mod names;
mod once;
mod sort;
pub mod time;
pub mod units;

pub use alloc::Malloc;

pub use args::Args;
pub use io::{Out, err, line, out};
pub use once::Once;
pub use sort::sort_by;

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

/// `format!("{v:.prec$}")` for a finite `v` from 0 to 2^60 and `prec` up
/// to 4 (the human sizes of cp, system df and stats), in integer
/// arithmetic: core's float formatting costs 14 KB. As core's exact mode,
/// the double's exact binary value rounded to `prec` decimals, ties to
/// even.
pub fn fixed(v: f64, prec: usize) -> ::alloc::string::String {
    let bits = v.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1 << 52) - 1);
    let (m, e) = match exp {
        0 => (frac, -1074),
        _ => (frac | 1 << 52, exp - 1075),
    };
    let pow = 10u128.pow(prec as u32);
    // v * 10^prec = m * 10^prec * 2^e, below 2^67 * 2^e.
    let scaled = m as u128 * pow;
    let q = match e {
        0.. => scaled << e,
        -100..0 => {
            let s = -e as u32;
            let (q, rem, half) = (scaled >> s, scaled & ((1 << s) - 1), 1 << (s - 1));
            q + u128::from(rem > half || (rem == half && q & 1 == 1))
        }
        _ => 0,
    };
    let (int, dec) = ((q / pow) as u64, (q % pow) as u64);
    match prec {
        0 => ::alloc::format!("{int}"),
        _ => ::alloc::format!("{int}.{dec:0prec$}"),
    }
}

/// Heapsort for the lists that can be long (a directory's names, the
/// allocator's free blocks): n log n in place, not stable, a couple of
/// hundred bytes a type against core's ~2 KB.
pub fn sort_unstable<T: Ord>(v: &mut [T]) {
    // Moves v[i] down the heap v[..end] to where its children are smaller.
    fn sift<T: Ord>(v: &mut [T], mut i: usize, end: usize) {
        loop {
            let mut c = 2 * i + 1;
            if c >= end {
                return;
            }
            if c + 1 < end && v[c] < v[c + 1] {
                c += 1;
            }
            if v[i] >= v[c] {
                return;
            }
            v.swap(i, c);
            i = c;
        }
    }
    let n = v.len();
    for i in (0..n / 2).rev() {
        sift(v, i, n);
    }
    for end in (1..n).rev() {
        v.swap(0, end);
        sift(v, 0, end);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixed_is_cores_exact_format() {
        let mut vals = vec![
            0.0,
            0.5,
            1.5,
            2.5,
            0.125,
            0.375,
            10.125,
            0.0625,
            999.95,
            1023.5,
            9.9995,
            99.995,
            1e-300,
            5e-324,
            18446.744073709553,
            16777216.0,
        ];
        let mut x: u64 = 0x9e3779b97f4a7c15;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let n = x >> (x % 64);
            let mut v = n as f64;
            while v >= 1000.0 {
                v /= 1000.0;
            }
            vals.push(v);
            vals.push((x % 100_000) as f64 / 1000.0);
            vals.push(n as f64);
        }
        for v in vals {
            for p in 0..=4 {
                assert_eq!(super::fixed(v, p), format!("{v:.p$}"), "{v:e} {p}");
            }
        }
    }

    #[test]
    fn heapsort_sorts() {
        let mut x: u64 = 88172645463325252;
        for n in 0..300 {
            let mut v: Vec<u64> = (0..n)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x % (n as u64 / 2 + 1)
                })
                .collect();
            let mut want = v.clone();
            want.sort();
            super::sort_unstable(&mut v);
            assert_eq!(v, want);
        }
    }

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
