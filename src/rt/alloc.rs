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
//!
//! `Malloc::trim` gives back the pages that hold only free blocks: a
//! detached container's monitor, a fork of a pocket that did all the
//! setup, keeps ~48 KiB of heap instead of all its parent touched.

use crate::sys::mem::{self, PAGE};
use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr::null_mut;

const CLASSES: usize = 13; // 16, 32, ... 65536
const MIN_SHIFT: u32 = 4;
const MIN_BLOCK: usize = 1 << MIN_SHIFT;
const MAX_BLOCK: usize = 1 << (MIN_SHIFT as usize + CLASSES - 1);
/// Address space reserved at a time; untouched pages cost nothing.
const ARENA: usize = 1 << 20;

/// The global allocator: a handle on the one heap below, so that
/// `Malloc::trim` reaches the heap the binary allocates from.
pub struct Malloc(());

static HEAP: Heap = Heap::new();

impl Malloc {
    pub const fn new() -> Malloc {
        Malloc(())
    }

    /// Give back to the kernel every page of the heap that holds no live
    /// block (see `Heap::trim`); returns the bytes given back. For a
    /// long-lived process after its setup: a detached container's
    /// monitor inherits, through fork, every page its parent touched.
    pub fn trim() -> usize {
        HEAP.trim()
    }
}

impl Default for Malloc {
    fn default() -> Self {
        Malloc::new()
    }
}

unsafe impl GlobalAlloc for Malloc {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        unsafe { HEAP.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: forwarded as is.
        unsafe { HEAP.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        // SAFETY: forwarded as is.
        unsafe { HEAP.realloc(p, l, new) }
    }
}

struct Heap {
    free: UnsafeCell<[*mut u8; CLASSES]>,
    /// The uncarved rest of the current arena: [next, end).
    next: UnsafeCell<usize>,
    end: UnsafeCell<usize>,
}

// SAFETY: pocket never starts a thread (DESIGN: single-threaded; clone
// without CLONE_VM and fork give each process its own copy of the lists;
// the tasks that share this memory, `run`'s child, `exec`'s, and the
// namespaces helper, allocate and free nothing).
unsafe impl Sync for Heap {}

impl Heap {
    const fn new() -> Heap {
        Heap {
            free: UnsafeCell::new([null_mut(); CLASSES]),
            next: UnsafeCell::new(0),
            end: UnsafeCell::new(0),
        }
    }

    /// A fresh block of `size` (a class size) from the arena, aligned to
    /// its size; a new arena when the current one cannot hold it (the
    /// rest of the old one is abandoned: address space, never touched).
    fn carve(&self, size: usize) -> *mut u8 {
        // SAFETY: single-threaded (see above); no other reference is live.
        let (next, end) = unsafe { (&mut *self.next.get(), &mut *self.end.get()) };
        let mut at = next.next_multiple_of(size);
        if *next == 0 || at + size > *end {
            let Ok(a) = mem::map_anon(ARENA) else {
                return null_mut();
            };
            if *next != 0 {
                self.spill(*next, next.next_multiple_of(PAGE));
            }
            *end = a as usize + ARENA;
            at = (a as usize).next_multiple_of(size);
        } else {
            // What alignment skips on the page in use goes on the free
            // lists: a page is then wholly free blocks once its live ones
            // go, and `trim` can tell. Whole pages skipped stay untouched.
            self.spill(*next, at.min(next.next_multiple_of(PAGE)));
        }
        *next = at + size;
        at as *mut u8
    }

    /// Put `[from, to)` (16-aligned) on the free lists as the fewest
    /// blocks aligned to their size.
    fn spill(&self, mut from: usize, to: usize) {
        while from < to {
            let mut size = MAX_BLOCK;
            while from % size != 0 || from + size > to {
                size >>= 1;
            }
            self.push(from as *mut u8, size);
            from += size;
        }
    }

    fn push(&self, p: *mut u8, size: usize) {
        let c = (size.trailing_zeros() - MIN_SHIFT) as usize;
        // SAFETY: single-threaded; p is a block of class c we own.
        unsafe {
            let free = &mut *self.free.get();
            *(p as *mut *mut u8) = free[c];
            free[c] = p;
        }
    }

    /// Hand back the pages of the free lists that no live block shares:
    /// every block of a page or more, and each page whose blocks are all
    /// free (blocks sit at multiples of their size, so a small block never
    /// straddles pages). Those blocks leave the lists (their pages read
    /// as zeros now); the others stay, lowest address first. Returns the
    /// bytes given back.
    #[inline(never)]
    fn trim(&self) -> usize {
        // SAFETY: single-threaded; no other reference is live.
        let free = unsafe { &mut *self.free.get() };
        // SAFETY: b is a free block; its first word links on.
        let link = |b: *mut u8| unsafe { *(b as *mut *mut u8) };
        let mut n = 0;
        for &head in free.iter() {
            let mut b = head;
            while !b.is_null() {
                n += 1;
                b = link(b);
            }
        }
        if n == 0 {
            return 0;
        }
        // Scratch outside the heap, so the lists stay still meanwhile.
        let len = (n * size_of::<(usize, usize)>()).next_multiple_of(PAGE);
        let Ok(p) = mem::map_anon(len) else {
            return 0;
        };
        // SAFETY: a fresh mapping of room for n pairs, ours alone.
        let v = unsafe { core::slice::from_raw_parts_mut(p as *mut (usize, usize), n) };
        let mut i = 0;
        for (c, &head) in free.iter().enumerate() {
            let mut b = head;
            while !b.is_null() {
                v[i] = (b as usize, MIN_BLOCK << c);
                i += 1;
                b = link(b);
            }
        }
        super::sort_unstable(v);
        // Mark the blocks to give back: size | 1 (sizes are even).
        let mut i = 0;
        while i < n {
            let (a, size) = v[i];
            if size >= PAGE {
                v[i].1 |= 1;
                i += 1;
                continue;
            }
            let page = a & !(PAGE - 1);
            let mut j = i;
            let mut sum = 0;
            while j < n && v[j].0 & !(PAGE - 1) == page {
                sum += v[j].1;
                j += 1;
            }
            if sum == PAGE {
                v[i..j].iter_mut().for_each(|e| e.1 |= 1);
            }
            i = j;
        }
        // The lists again, without them, lowest address first; then the
        // pages go, runs of them in one call each.
        *free = [null_mut(); CLASSES];
        for &(a, size) in v.iter().rev() {
            if size & 1 == 0 {
                self.push(a as *mut u8, size);
            }
        }
        let (mut given, mut run) = (0, (0, 0));
        for &(a, size) in v.iter().filter(|e| e.1 & 1 == 1) {
            let size = size & !1;
            if a != run.0 + run.1 {
                // SAFETY: whole pages of free blocks, off every list.
                let _ = unsafe { mem::dontneed(run.0, run.1) };
                given += run.1;
                run = (a, 0);
            }
            run.1 += size;
        }
        // SAFETY: as above.
        let _ = unsafe { mem::dontneed(run.0, run.1) };
        given += run.1;
        // SAFETY: the scratch mapping, no longer used.
        let _ = unsafe { mem::unmap(p, len) };
        given
    }
}

/// The class for a request, or None for a large block.
fn class(l: &Layout) -> Option<usize> {
    let need = l.size().max(l.align()).max(MIN_BLOCK);
    if need > MAX_BLOCK {
        return None;
    }
    Some((need.next_power_of_two().trailing_zeros() - MIN_SHIFT) as usize)
}

fn large(size: usize) -> usize {
    size.div_ceil(PAGE) * PAGE
}

impl Heap {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let Some(c) = class(&l) else {
            // Page-aligned; nothing in pocket asks for more.
            return match l.align() <= PAGE {
                true => mem::map_anon(large(l.size())).unwrap_or(null_mut()),
                false => null_mut(),
            };
        };
        // SAFETY: single-threaded (see above); no other reference is live.
        let free = unsafe { &mut *self.free.get() };
        let b = free[c];
        if b.is_null() {
            return self.carve(MIN_BLOCK << c);
        }
        // SAFETY: b is a free block of class c; its first word links on.
        free[c] = unsafe { *(b as *mut *mut u8) };
        b
    }

    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        match class(&l) {
            // SAFETY: p was mapped by alloc with this rounded length.
            None => drop(unsafe { mem::unmap(p, large(l.size())) }),
            Some(c) => self.push(p, MIN_BLOCK << c),
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
        let m = Heap::new();
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

    #[test]
    fn trim_gives_back_free_pages_only() {
        let h = Heap::new();
        let small = Layout::from_size_align(48, 8).unwrap();
        let page = Layout::from_size_align(PAGE, 8).unwrap();
        let big = Layout::from_size_align(20000, 8).unwrap();
        unsafe {
            // Three pages of 64-byte blocks; one block kept on the middle
            // page; two whole-page blocks and a 32 KiB one freed.
            let v: Vec<*mut u8> = (0..3 * PAGE / 64).map(|_| h.alloc(small)).collect();
            let keep = v[PAGE / 64 + 5];
            for &p in &v {
                *p = 1;
                if p != keep {
                    h.dealloc(p, small);
                }
            }
            *keep = 42;
            let (a, b) = (h.alloc(page), h.alloc(big));
            core::ptr::write_bytes(a, 1, PAGE);
            core::ptr::write_bytes(b, 1, 20000);
            h.dealloc(a, page);
            h.dealloc(b, big);
            let lo = v.iter().min().copied().unwrap() as usize & !(PAGE - 1);
            let given = h.trim();
            // The first and last page of small blocks, the page block,
            // the 32 KiB one; never the page with the kept block.
            assert!(given >= 2 * PAGE + PAGE + 32768, "{given}");
            assert_eq!(*keep, 42);
            assert_eq!(*(lo as *const u8), 0, "a freed page reads as zeros");
            assert_eq!(h.trim(), 0, "nothing left to give");
            // The lists are whole: blocks come back distinct, and none
            // on a page given back is handed out twice.
            let w: Vec<*mut u8> = (0..200).map(|_| h.alloc(small)).collect();
            for &p in &w {
                core::ptr::write_bytes(p, 7, 48);
            }
            let mut s = w.clone();
            s.sort();
            s.dedup();
            assert_eq!(s.len(), 200);
            assert!(!w.contains(&keep));
            assert_eq!(*keep, 42);
        }
    }
}
