//! Hostile input without a fuzzing toolchain (unit tests only): a seeded
//! generator, mutations of a small corpus of valid inputs, and a driver
//! that feeds a parser `cases()` of them. A target passes if it never
//! panics (the test harness catches that), never hangs (each case is
//! timed; the whole run is bounded), and refuses with one line.
//!
//! `POCKET_FUZZ_CASES` sets the count (default 100,000, CI's), and
//! `POCKET_FUZZ_SEED` the seed, so a failure can be replayed: the driver
//! prints the seed and the case's bytes.

use std::string::String;
use std::time::{Duration, Instant};
use std::vec::Vec;

/// xorshift64: reproducible noise without a crate.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// 0..n (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }
    pub fn pick<'a, T>(&mut self, from: &'a [T]) -> &'a T {
        &from[self.below(from.len())]
    }
    /// Up to `max` random bytes.
    pub fn bytes(&mut self, max: usize) -> Vec<u8> {
        let n = self.below(max + 1);
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Bytes that make parsers take their odd paths: boundaries of numbers,
/// quoting, nesting, separators, NULs, non-UTF-8.
const SPICE: &[&[u8]] = &[
    b"0",
    b"-1",
    b"4294967295",
    b"4294967296",
    b"18446744073709551615",
    b"99999999999999999999999",
    b"-9223372036854775808",
    b"1e999",
    b"NaN",
    b"\"",
    b"\\",
    b"\\u0000",
    b"\\ud800",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"=",
    b"/",
    b"../",
    b"//",
    b"\0",
    b"\n",
    b"\r\n",
    b"\t",
    b" ",
    b"\xff",
    b"\xc3",
    b"\xe2\x82",
    b"{{",
    b"}}",
    b"{{end}}",
    b"%",
    b"*",
    b"?",
    b"-",
    b"--",
    b"null",
    b"true",
    b"[[[[[[[[[[[[[[[[",
    b"{\"a\":{\"a\":{\"a\":",
];

/// One mutation of `seed`: bit flips, byte changes, deletions, insertions
/// (random, from SPICE or from `dict`), duplications of a piece, splices
/// with another corpus entry, truncation.
pub fn mutate(r: &mut Rng, corpus: &[&[u8]], dict: &[&[u8]]) -> Vec<u8> {
    let mut v: Vec<u8> = r.pick(corpus).to_vec();
    for _ in 0..1 + r.below(8) {
        let at = r.below(v.len() + 1);
        match r.below(9) {
            0 if !v.is_empty() => {
                let i = r.below(v.len());
                v[i] ^= 1 << r.below(8);
            }
            1 if !v.is_empty() => {
                let i = r.below(v.len());
                v[i] = r.next() as u8;
            }
            2 if !v.is_empty() => {
                let n = r.below(v.len() - at.min(v.len()) + 1).min(64);
                v.drain(at.min(v.len())..(at + n).min(v.len()));
            }
            3 => {
                let b = r.bytes(16);
                v.splice(at..at, b);
            }
            4 => {
                let s = r.pick(SPICE).to_vec();
                v.splice(at..at, s);
            }
            5 if !dict.is_empty() => {
                let s = r.pick(dict).to_vec();
                v.splice(at..at, s);
            }
            6 if !v.is_empty() => {
                let a = r.below(v.len());
                let n = r.below(v.len() - a).min(256) + 1;
                let piece = v[a..a + n].to_vec();
                for _ in 0..1 + r.below(4) {
                    v.splice(at..at, piece.iter().copied());
                }
            }
            7 => {
                let other = r.pick(corpus);
                let from = r.below(other.len() + 1);
                v.truncate(at);
                v.extend_from_slice(&other[from..]);
            }
            _ => v.truncate(at),
        }
    }
    v
}

/// How many cases a target runs.
pub fn cases() -> usize {
    std::env::var("POCKET_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

fn seed() -> u64 {
    std::env::var("POCKET_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x706f_636b_6574)
}

/// Feed `target` `cases()` inputs: mutations of `corpus` (and now and
/// then pure noise). `target` returns Err(text) for a refusal; a refusal
/// of more than one line, a case slower than a second, or a whole run
/// past `budget` fails the test, naming the seed and the input.
pub fn run(
    name: &str,
    corpus: &[&[u8]],
    dict: &[&[u8]],
    budget: Duration,
    mut target: impl FnMut(&[u8]) -> Result<(), String>,
) {
    let seed = seed();
    let mut r = Rng::new(seed);
    let start = Instant::now();
    let n = cases();
    for i in 0..n {
        let input = match r.one_in(20) {
            true => r.bytes(512),
            false => mutate(&mut r, corpus, dict),
        };
        let t = Instant::now();
        let got = target(&input);
        let took = t.elapsed();
        let shown = || String::from_utf8_lossy(&input[..input.len().min(400)]).into_owned();
        assert!(
            took < Duration::from_secs(1),
            "{name}: case {i} (seed {seed}) took {took:?}: {:?}",
            shown()
        );
        if let Err(e) = got {
            assert!(
                !e.trim_end().contains('\n') && !e.is_empty(),
                "{name}: case {i} (seed {seed}): refusal not one line: {e:?} for {:?}",
                shown()
            );
        }
        assert!(
            start.elapsed() < budget,
            "{name}: {i} of {n} cases in {budget:?} (seed {seed}): too slow"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_are_reproducible_and_varied() {
        let corpus: &[&[u8]] = &[b"{\"a\": [1, 2]}", b"abc"];
        let a: Vec<Vec<u8>> = {
            let mut r = Rng::new(7);
            (0..50).map(|_| mutate(&mut r, corpus, &[b"xyz"])).collect()
        };
        let b: Vec<Vec<u8>> = {
            let mut r = Rng::new(7);
            (0..50).map(|_| mutate(&mut r, corpus, &[b"xyz"])).collect()
        };
        assert_eq!(a, b);
        let distinct: std::collections::BTreeSet<_> = a.iter().collect();
        assert!(distinct.len() > 40, "{}", distinct.len());
    }

    #[test]
    #[should_panic(expected = "refusal not one line")]
    fn a_two_line_refusal_fails() {
        run("demo", &[b"x"], &[], Duration::from_secs(10), |_| {
            Err(String::from("first\nsecond"))
        });
    }
}
