//! Sorting without core's sort algorithms, which cost ~2 KB of code per
//! element type (pocket sorts two dozen types). Stable, as the insertion
//! sort it grew from: records with equal keys keep their order.

use alloc::vec::Vec;

/// Lists up to this long are insertion-sorted in place: no allocation.
const SHORT: usize = 16;

/// Sort `v` so that no element is `less` than the one before it.
/// Short lists by insertion; long ones (`ps -a` of a thousand records,
/// whose ids come in directory order) in O(n log n): insertion sort was
/// 250,000 moves of a record there, a third of the command's time.
pub fn sort_by<T>(v: &mut [T], less: impl Fn(&T, &T) -> bool) {
    if v.len() <= SHORT {
        for i in 1..v.len() {
            let mut j = i;
            while j > 0 && less(&v[j], &v[j - 1]) {
                v.swap(j - 1, j);
                j -= 1;
            }
        }
        return;
    }
    let mut order = order(v.len(), &mut |a, b| less(&v[a], &v[b]));
    place(v, &mut order);
}

/// The positions 0..n in sorted order: a bottom-up merge sort of
/// indices, comparing through `less(a, b)`; one copy of the code for
/// every element type.
fn order(n: usize, less: &mut dyn FnMut(usize, usize) -> bool) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    let mut tmp: Vec<usize> = alloc::vec![0; n];
    let mut width = 1;
    while width < n {
        let mut lo = 0;
        while lo < n {
            let mid = (lo + width).min(n);
            let hi = (lo + 2 * width).min(n);
            let (mut a, mut b) = (lo, mid);
            for slot in &mut tmp[lo..hi] {
                // The left one on ties: stable.
                let left = b == hi || (a < mid && !less(idx[b], idx[a]));
                *slot = if left { idx[a] } else { idx[b] };
                if left {
                    a += 1;
                } else {
                    b += 1;
                }
            }
            lo = hi;
        }
        core::mem::swap(&mut idx, &mut tmp);
        width *= 2;
    }
    idx
}

/// Move each element once into its place: position k gets what was at
/// `order[k]`, cycle by cycle (`order` is used up).
fn place<T>(v: &mut [T], order: &mut [usize]) {
    const DONE: usize = usize::MAX;
    for start in 0..v.len() {
        let mut k = start;
        while order[k] != DONE {
            let from = order[k];
            order[k] = DONE;
            if from == start {
                break;
            }
            v.swap(k, from);
            k = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sort_by;
    use alloc::vec::Vec;

    #[test]
    fn sorts_stably_at_every_length() {
        let mut x = 12345u32;
        for n in [0, 1, 2, 15, 16, 17, 31, 64, 100, 1000, 1025] {
            // (key, original position): few keys, so many ties.
            let v: Vec<(u32, usize)> = (0..n)
                .map(|i| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    (x % 7, i)
                })
                .collect();
            let mut got = v.clone();
            sort_by(&mut got, |a, b| a.0 < b.0);
            let mut want = v.clone();
            want.sort_by_key(|e| e.0);
            assert_eq!(got, want, "{n} elements");
            let mut desc = v.clone();
            sort_by(&mut desc, |a, b| a.0 > b.0);
            want.sort_by(|a, b| b.0.cmp(&a.0));
            assert_eq!(
                desc.iter().map(|e| e.0).collect::<Vec<_>>(),
                want.iter().map(|e| e.0).collect::<Vec<_>>()
            );
            // Stable: equal keys keep their first order.
            assert!(
                desc.windows(2).all(|w| w[0].0 != w[1].0 || w[0].1 < w[1].1),
                "{n}: not stable"
            );
        }
    }
}
