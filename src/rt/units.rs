//! docker's human sizes (go-units), one implementation for every command
//! that prints them: `HumanSizeWithPrecision` (decimal units: `images`,
//! `history`, prune totals, `system df`, `cp`, stats' NET I/O and BLOCK I/O)
//! and `BytesSize` (binary units: stats' MEM USAGE). Both are Go's `%.Ng`
//! of the scaled value: N significant digits, trailing zeros dropped.

use super::fixed;
use alloc::format;
use alloc::string::String;

const DECIMAL: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
const BINARY: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

/// go-units' `HumanSizeWithPrecision(n, digits)`: "2.048kB" (4), "1.2MB" (3).
/// `HumanSize` is 4 digits.
pub fn human_size(n: u64, digits: usize) -> String {
    scaled(n, 1000, &DECIMAL, digits)
}

/// go-units' `BytesSize`: binary units, 4 digits ("1.586MiB", "64MiB").
pub fn bytes_size(n: u64) -> String {
    scaled(n, 1024, &BINARY, 4)
}

fn scaled(n: u64, base: u64, units: &[&str], digits: usize) -> String {
    let mut v = n as f64;
    let mut i = 0;
    while v >= base as f64 && i + 1 < units.len() {
        v /= base as f64;
        i += 1;
    }
    format!("{}{}", go_g(v, digits.max(1)), units[i])
}

/// Go's `%.{digits}g` of 0 or a finite `v` from 1 to 2^60 (below 1e-4 Go
/// would write an exponent, which no size here needs): correctly rounded to
/// `digits` significant digits (ties to even, as `fixed`), trailing zeros
/// and a bare point dropped, and the exponent form where the rounded value
/// needs more integer digits than that (`%.3g` of 999.7 is `1e+03`).
fn go_g(v: f64, digits: usize) -> String {
    if v == 0.0 {
        return String::from("0");
    }
    // The decimal exponent: 10^e <= v < 10^(e+1).
    let mut e: i32 = 0;
    while v >= pow10(e + 1) {
        e += 1;
    }
    while v < pow10(e) {
        e -= 1;
    }
    let d = digits as i32;
    let mut s = String::new();
    if e < d {
        s = fixed(v, (d - 1 - e) as usize);
        // Rounding may carry into one more digit (9.9996 -> 10.000).
        let int_digits = s.split('.').next().map_or(0, str::len) as i32;
        if e >= 0 && int_digits > e + 1 {
            e += 1;
            s = match e < d {
                true => fixed(v, (d - 1 - e) as usize),
                false => String::new(),
            };
        }
    }
    if s.is_empty() {
        // Exponent form: one digit, the rest as decimals.
        let mut m = fixed(v / pow10(e), (d - 1) as usize);
        if m.starts_with("10") {
            e += 1;
            m = fixed(v / pow10(e), (d - 1) as usize);
        }
        return format!("{}e+{:02}", trim(&m), e);
    }
    String::from(trim(&s))
}

fn trim(s: &str) -> &str {
    match s.contains('.') {
        true => s.trim_end_matches('0').trim_end_matches('.'),
        false => s,
    }
}

fn pow10(e: i32) -> f64 {
    let mut p = 1.0;
    for _ in 0..e.unsigned_abs() {
        p *= 10.0;
    }
    if e < 0 { 1.0 / p } else { p }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_go_units() {
        // HumanSize (4 digits): docker cp, system df.
        for (n, s) in [
            (0, "0B"),
            (212, "212B"),
            (2048, "2.048kB"),
            (1_000_000, "1MB"),
            (1_500_000, "1.5MB"),
            (2_130_000, "2.13MB"),
            (16_430_000, "16.43MB"),
            (123_456_789, "123.5MB"),
            (999_950, "1000kB"),
            (999_999_999, "1000MB"),
        ] {
            assert_eq!(human_size(n, 4), s, "{n}");
        }
        // HumanSizeWithPrecision(3): images, NET I/O, BLOCK I/O.
        for (n, s) in [
            (0, "0B"),
            (648, "648B"),
            (1_200_000, "1.2MB"),
            (4_261_234, "4.26MB"),
            (72_849_000, "72.8MB"),
            (187_400_000, "187MB"),
            (999_700, "1e+03kB"),
            (999_400, "999kB"),
            (9_996_000, "10MB"),
        ] {
            assert_eq!(human_size(n, 3), s, "{n}");
        }
        // BytesSize: MEM USAGE / LIMIT.
        for (n, s) in [
            (512, "512B"),
            (1536 * 1024, "1.5MiB"),
            (64 << 20, "64MiB"),
            (200 << 20, "200MiB"),
            (1_663_000, "1.586MiB"),
            (8_348_000_000, "7.775GiB"),
            (1023, "1023B"),
            (1024, "1KiB"),
        ] {
            assert_eq!(bytes_size(n), s, "{n}");
        }
    }

    #[test]
    fn agrees_with_a_reference_g() {
        // Rust's `{:.p$e}` gives the same correctly rounded digits as Go's
        // %g does; rebuild %g from it and compare across many sizes.
        let reference = |v: f64, d: usize| -> String {
            let sci = format!("{:.*e}", d - 1, v);
            let (m, x) = sci.split_once('e').unwrap();
            let x: i32 = x.parse().unwrap();
            if x < -4 || x >= d as i32 {
                let m = trim(m);
                return format!("{m}e{}{:02}", if x < 0 { '-' } else { '+' }, x.abs());
            }
            let s = format!("{:.*}", (d as i32 - 1 - x).max(0) as usize, v);
            String::from(trim(&s))
        };
        let mut x: u64 = 0x2545f4914f6cdd1d;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let n = x >> (x % 64);
            for d in [3, 4] {
                let mut v = n as f64;
                while v >= 1000.0 {
                    v /= 1000.0;
                }
                assert_eq!(go_g(v, d), reference(v, d), "{v} {d}");
            }
        }
    }
}
