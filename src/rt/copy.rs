//! memcpy and memmove for the binary (its `main.rs` exports them under
//! the C names, ahead of musl's).
//!
//! musl's x86_64 memcpy is `rep movsq` with byte loops around it: a `rep`
//! string instruction costs ~35 cycles to start whatever it copies, and
//! pocket's copies are mostly tiny (JSON pieces, paths, names: a `run`
//! makes ~4,800 of them, 24 bytes on average). Profiled, that was 8% of
//! a `run --rm`'s CPU time. Up to 32 bytes a copy here is two possibly
//! overlapping loads and two stores of a power-of-two width; above, the
//! `rep movsb` the CPU optimizes for large copies (ERMS).
//!
//! No loops over elements: the compiler would recognize one as a copy
//! and call memcpy from inside memcpy.

/// Copy `n` bytes from `s` to `d`, which may overlap.
///
/// # Safety
/// `s` must be valid for reads and `d` for writes of `n` bytes.
#[inline]
pub unsafe fn copy(d: *mut u8, s: *const u8, n: usize) {
    // SAFETY: forwarded (small: every load comes before its store).
    unsafe {
        if n <= 32 {
            small(d, s, n)
        } else if (d as usize).wrapping_sub(s as usize) >= n {
            // d is below s, or past its end: a forward copy never reads
            // what it already wrote.
            forward(d, s, n)
        } else {
            backward(d, s, n)
        }
    }
}

/// Up to 32 bytes: each width covers [0, w) and [n - w, n), both loaded
/// before either is stored, so any overlap of d and s is fine.
#[inline(always)]
unsafe fn small(d: *mut u8, s: *const u8, n: usize) {
    // SAFETY: the caller's ranges; each width is at most n.
    unsafe {
        match n {
            16.. => ends::<u128>(d, s, n),
            8.. => ends::<u64>(d, s, n),
            4.. => ends::<u32>(d, s, n),
            2.. => ends::<u16>(d, s, n),
            1 => *d = *s,
            0 => {}
        }
    }
}

/// The first and the last `size_of::<T>()` bytes of n, both loaded
/// before either is stored.
#[inline(always)]
unsafe fn ends<T>(d: *mut u8, s: *const u8, n: usize) {
    use core::ptr::{read_unaligned as rd, write_unaligned as wr};
    let w = size_of::<T>();
    // SAFETY: the caller's ranges, w <= n: both accesses lie in [0, n).
    unsafe {
        let (a, b) = (rd(s as *const T), rd(s.add(n - w) as *const T));
        wr(d as *mut T, a);
        wr(d.add(n - w) as *mut T, b);
    }
}

#[inline(always)]
unsafe fn forward(d: *mut u8, s: *const u8, n: usize) {
    // SAFETY: the caller's ranges; the direction flag is clear (the ABI
    // guarantees it on entry to any function).
    unsafe {
        core::arch::asm!(
            "rep movsb",
            inout("rcx") n => _,
            inout("rdi") d => _,
            inout("rsi") s => _,
            options(nostack, preserves_flags)
        );
    }
}

#[inline(always)]
unsafe fn backward(d: *mut u8, s: *const u8, n: usize) {
    // SAFETY: the caller's ranges; from the last byte down with the
    // direction flag set, and cleared again as the ABI wants it.
    unsafe {
        core::arch::asm!(
            "std",
            "rep movsb",
            "cld",
            inout("rcx") n => _,
            inout("rdi") d.add(n - 1) => _,
            inout("rsi") s.add(n - 1) => _,
            options(nostack)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::copy;

    /// Every length up to 200 at every offset pair that overlaps or not,
    /// against a byte-by-byte reference (what memmove means).
    #[test]
    fn copies_every_length_and_overlap_like_memmove() {
        for n in 0..200usize {
            for (from, to) in [
                (0, 300),
                (300, 0),
                (10, 13),
                (13, 10),
                (5, 5),
                (0, 1),
                (1, 0),
            ] {
                let mut buf: Vec<u8> = (0..600u32).map(|i| (i * 7 + 3) as u8).collect();
                let mut want = buf.clone();
                let tmp: Vec<u8> = want[from..from + n].to_vec();
                want[to..to + n].copy_from_slice(&tmp);
                // SAFETY: both ranges lie in buf.
                unsafe { copy(buf.as_mut_ptr().add(to), buf.as_ptr().add(from), n) };
                assert_eq!(buf, want, "n {n} from {from} to {to}");
            }
        }
    }
}
