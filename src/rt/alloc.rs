//! The global allocator: size-classed free lists over a bump arena.
//!
//! pocket is single-threaded, short-lived, and allocates little; musl's
//! general-purpose malloc (mallocng) costs ~9 KB of the static binary for
//! thread safety and trimming pocket has no use for. Blocks up to 64 KiB
//! come from power-of-two classes carved, one at a time, out of an arena
//! of reserved address space (a block of size S sits at a multiple of S,
//! so it is aligned to S); freed blocks go back on their class's list.
//! Larger blocks are their own mappings.
//!
//! Carving lazily is what keeps start-up cheap: threading a whole 64 KiB
//! chunk per class onto its free list touched 16 fresh pages each, and
//! `pocket --version` took 133 page faults, ~100 of them there. Now a
//! page is faulted in only when a block on it is first handed out.

use crate::sys::Sysno;
use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr::null_mut;
use syscalls::syscall;

const CLASSES: usize = 13; // 16, 32, ... 65536
const MIN_SHIFT: u32 = 4;
const MAX_BLOCK: usize = 1 << (MIN_SHIFT as usize + CLASSES - 1);
/// Address space reserved at a time; untouched pages cost nothing.
const ARENA: usize = 1 << 20;
const PAGE: usize = 4096;

pub struct Malloc {
    free: UnsafeCell<[*mut u8; CLASSES]>,
    /// The uncarved rest of the current arena: [next, end).
    next: UnsafeCell<usize>,
    end: UnsafeCell<usize>,
}

impl Malloc {
    pub const fn new() -> Malloc {
        Malloc {
            free: UnsafeCell::new([null_mut(); CLASSES]),
            next: UnsafeCell::new(0),
            end: UnsafeCell::new(0),
        }
    }

    /// A fresh block of `size` (a class size) from the arena, aligned to
    /// its size; a new arena when the current one cannot hold it (the
    /// rest of the old one is abandoned: address space, never touched).
    fn carve(&self, size: usize) -> *mut u8 {
        // SAFETY: single-threaded (see below); no other reference is live.
        let (next, end) = unsafe { (&mut *self.next.get(), &mut *self.end.get()) };
        let mut at = next.next_multiple_of(size);
        if *next == 0 || at + size > *end {
            let a = map(ARENA);
            if a.is_null() {
                return null_mut();
            }
            *end = a as usize + ARENA;
            at = (a as usize).next_multiple_of(size);
        }
        *next = at + size;
        at as *mut u8
    }
}

impl Default for Malloc {
    fn default() -> Self {
        Malloc::new()
    }
}

// SAFETY: pocket never starts a thread (DESIGN: single-threaded; clone
// without CLONE_VM and fork give each process its own copy of the lists).
unsafe impl Sync for Malloc {}

/// The class for a request, or None for a large block.
fn class(l: &Layout) -> Option<usize> {
    let need = l.size().max(l.align()).max(1 << MIN_SHIFT);
    if need > MAX_BLOCK {
        return None;
    }
    Some((need.next_power_of_two().trailing_zeros() - MIN_SHIFT) as usize)
}

fn map(len: usize) -> *mut u8 {
    let prot = libc::PROT_READ | libc::PROT_WRITE;
    let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS;
    // SAFETY: a fresh anonymous mapping touches no existing memory.
    match unsafe { syscall!(Sysno::mmap, 0, len, prot, flags, -1i32, 0) } {
        Ok(p) => p as *mut u8,
        Err(_) => null_mut(),
    }
}

fn large(size: usize) -> usize {
    size.div_ceil(PAGE) * PAGE
}

unsafe impl GlobalAlloc for Malloc {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let Some(c) = class(&l) else {
            // Page-aligned; nothing in pocket asks for more.
            return if l.align() <= PAGE {
                map(large(l.size()))
            } else {
                null_mut()
            };
        };
        // SAFETY: single-threaded (see above); no other reference is live.
        let free = unsafe { &mut *self.free.get() };
        let b = free[c];
        if b.is_null() {
            return self.carve(1usize << (c as u32 + MIN_SHIFT));
        }
        // SAFETY: b is a free block of class c; its first word links on.
        free[c] = unsafe { *(b as *mut *mut u8) };
        b
    }

    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        match class(&l) {
            None => {
                // SAFETY: p was mapped by alloc with this rounded length.
                let _ = unsafe { syscall!(Sysno::munmap, p, large(l.size())) };
            }
            Some(c) => {
                // SAFETY: single-threaded; p is a block of class c we own.
                unsafe {
                    let free = &mut *self.free.get();
                    *(p as *mut *mut u8) = free[c];
                    free[c] = p;
                }
            }
        }
    }

    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        // SAFETY: the layout stays valid: same alignment, checked size.
        let nl = unsafe { Layout::from_size_align_unchecked(new, l.align()) };
        let same = match (class(&l), class(&nl)) {
            (Some(a), Some(b)) => a == b,
            (None, None) => large(l.size()) == large(new),
            _ => false,
        };
        if same {
            return p;
        }
        // SAFETY: plain alloc + copy + free of blocks we own.
        unsafe {
            let n = self.alloc(nl);
            if !n.is_null() {
                core::ptr::copy_nonoverlapping(p, n, l.size().min(new));
                self.dealloc(p, l);
            }
            n
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_align_and_reuse() {
        let m = Malloc::new();
        unsafe {
            for (size, align) in [
                (1, 1),
                (16, 8),
                (17, 8),
                (100, 64),
                (4096, 8),
                (4097, 8),
                (70000, 16),
            ] {
                let l = Layout::from_size_align(size, align).unwrap();
                let p = m.alloc(l);
                assert!(!p.is_null());
                assert_eq!(p as usize % align, 0);
                core::ptr::write_bytes(p, 0xab, size);
                m.dealloc(p, l);
                // The same class hands the block straight back.
                let q = m.alloc(l);
                if size <= MAX_BLOCK {
                    assert_eq!(p, q);
                }
                m.dealloc(q, l);
            }
            let l = Layout::from_size_align(24, 8).unwrap();
            let mut v: Vec<*mut u8> = (0..5000).map(|_| m.alloc(l)).collect();
            v.sort();
            v.dedup();
            assert_eq!(v.len(), 5000, "a block was handed out twice");
            let p = m.alloc(l);
            *p = 7;
            let q = m.realloc(p, l, 30);
            assert_eq!((q, *q), (p, 7));
            let r = m.realloc(q, Layout::from_size_align(30, 8).unwrap(), 10000);
            assert_eq!(*r, 7);
            // Past the end of one arena: blocks of every size stay
            // distinct and aligned to their size.
            let mut all = Vec::new();
            for i in 0..200usize {
                let size = 16usize << (i % CLASSES);
                let l = Layout::from_size_align(size, 8).unwrap();
                let p = m.alloc(l);
                assert!(!p.is_null());
                assert_eq!(p as usize % size, 0);
                core::ptr::write_bytes(p, i as u8, size);
                all.push((p as usize, size, i as u8));
            }
            all.sort();
            for w in all.windows(2) {
                assert!(w[0].0 + w[0].1 <= w[1].0, "blocks overlap");
            }
            for &(p, size, v) in &all {
                assert_eq!(*(p as *const u8), v);
                assert_eq!(*((p + size - 1) as *const u8), v);
            }
        }
    }
}
