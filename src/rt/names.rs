//! Container names: docker-style generated ones ("brave_lovelace") and the
//! rule for names users pick.

use alloc::format;
use alloc::string::String;

const ADJECTIVES: &str = "\
    admiring agitated amazing awesome blissful bold boring brave charming clever \
    compassionate confident cool dazzling determined eager ecstatic elastic elegant \
    epic festive focused friendly funny gallant gifted goofy gracious happy hopeful \
    inspiring jolly keen kind laughing loving lucid magical modest nostalgic \
    peaceful practical quirky relaxed serene sharp stoic vibrant wizardly zealous";
const ADJECTIVES_LEN: usize = 50;

const SURNAMES: &str = "\
    agnesi babbage bardeen bell bohr boole curie darwin dijkstra einstein euclid \
    faraday fermat feynman galileo gauss goldberg hamilton hawking hertz hodgkin \
    hopper hypatia joliot kepler knuth lamarr lamport leakey liskov lovelace \
    maxwell meitner mendel newton noether pasteur pike ramanujan ritchie shannon \
    stallman tesla thompson torvalds turing wilson wozniak wright yonath";
const SURNAMES_LEN: usize = 50;

/// "adjective_surname" picked from `r` as two mixed-radix digits, so any
/// 2500 consecutive values of `r` give distinct names and random ones spread
/// evenly. The caller supplies the randomness and retries on a clash with
/// an existing container.
/// Word `i` of a space-separated list. The lists are single strings, not
/// arrays of `&str`: a hundred pointers would cost 4 KB of data and
/// relocations in the static-pie binary.
fn word(list: &'static str, i: usize) -> &'static str {
    list.split_ascii_whitespace().nth(i).unwrap_or("pocket")
}

pub fn generate(r: u64) -> String {
    let a = (r % ADJECTIVES_LEN as u64) as usize;
    let mut s = (r / ADJECTIVES_LEN as u64 % SURNAMES_LEN as u64) as usize;
    // Docker's generator never says Steve Wozniak is boring; neither do we.
    // Taking the next surname doubles the odds of one other name, which
    // is harmless.
    if word(ADJECTIVES, a) == "boring" && word(SURNAMES, s) == "wozniak" {
        s = (s + 1) % SURNAMES_LEN;
    }
    format!("{}_{}", word(ADJECTIVES, a), word(SURNAMES, s))
}

/// Docker's rule for container names, `^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`
/// (so at least two characters), capped at 128 bytes. The name becomes a
/// directory under the state root: the rule keeps out '/', a leading '.'
/// (so no "." or ".."), and anything a shell or terminal would interpret.
pub fn valid(name: &str) -> bool {
    let b = name.as_bytes();
    match b.split_first() {
        Some((first, rest)) => {
            first.is_ascii_alphanumeric()
                && !rest.is_empty()
                && b.len() <= 128
                && rest
                    .iter()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
        }
        None => false,
    }
}

/// 64 hex digits from getrandom(2), as docker ids.
pub fn new_id() -> String {
    let mut b = [0u8; 32];
    let _ = crate::sys::proc::getrandom(&mut b);
    crate::rt::hex(&b)
}

#[cfg(test)]
mod tests {
    use super::*;
    fn adj() -> Vec<&'static str> {
        ADJECTIVES.split_ascii_whitespace().collect()
    }
    fn sur() -> Vec<&'static str> {
        SURNAMES.split_ascii_whitespace().collect()
    }
    use std::collections::HashSet;

    #[test]
    fn word_lists_are_sane() {
        for w in adj().into_iter().chain(sur()) {
            assert!(
                !w.is_empty() && w.bytes().all(|c| c.is_ascii_lowercase()),
                "{}",
                w
            );
        }
        assert_eq!(adj().iter().collect::<HashSet<_>>().len(), adj().len());
        assert_eq!(sur().iter().collect::<HashSet<_>>().len(), sur().len());
        // The skip rule must have something to skip.
        assert!(
            adj().contains(&"boring")
                && sur().contains(&"wozniak")
                && adj().len() == ADJECTIVES_LEN
                && sur().len() == SURNAMES_LEN
        );
    }

    #[test]
    fn generated_names_are_valid_and_never_boring_wozniak() {
        let total = (adj().len() * sur().len()) as u64;
        for r in (0..3 * total).chain([u64::MAX, u64::MAX - 1, 1 << 63]) {
            let n = generate(r);
            assert!(valid(&n), "{}", n);
            assert_ne!(n, "boring_wozniak");
            assert_eq!(n.matches('_').count(), 1);
        }
    }

    #[test]
    fn generated_names_are_mostly_distinct() {
        let total = adj().len() * sur().len();
        // Consecutive values: every pair but boring_wozniak is reached once.
        let seq: HashSet<_> = (0..total as u64).map(generate).collect();
        assert_eq!(seq.len(), total - 1);
        // Random values (splitmix64): 200 draws from ~2500 names collide
        // only a handful of times.
        let mut x = 0u64;
        let rnd: HashSet<_> = (0..200)
            .map(|_| {
                x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut z = x;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                generate(z ^ (z >> 31))
            })
            .collect();
        assert!(rnd.len() >= 180, "{}", rnd.len());
    }

    #[test]
    fn valid_table() {
        let long_ok = "a".repeat(128);
        let too_long = "a".repeat(129);
        for good in [
            "ab",
            "a1",
            "1a",
            "web",
            "brave_lovelace",
            "my-app.v2",
            "A_B-C.D",
            "x.",
            "0--",
            long_ok.as_str(),
        ] {
            assert!(valid(good), "{:?}", good);
        }
        for bad in [
            "",
            "a",
            "_a",
            ".a",
            "-a",
            ".",
            "..",
            "a/b",
            "../x",
            "a b",
            "a:b",
            "a\nb",
            "a\0b",
            "ä1",
            "aé",
            "/web",
            too_long.as_str(),
        ] {
            assert!(!valid(bad), "{:?}", bad);
        }
    }
}
