//! Runtime support the binary brings itself in `no_std`: allocator,
//! output writers, argv/env access and the panic path.

pub mod args;
mod io;

pub use args::Args;
pub use io::{Out, err, out};

use core::alloc::{GlobalAlloc, Layout};

/// The global allocator: musl's malloc, which is already linked in.
pub struct Malloc;

// musl's malloc aligns to 16 bytes; larger alignments go through
// posix_memalign/aligned_alloc.
const MALLOC_ALIGN: usize = 16;

// SAFETY: malloc/free/realloc satisfy the GlobalAlloc contract for
// alignments up to MALLOC_ALIGN; larger ones use aligned_alloc.
unsafe impl GlobalAlloc for Malloc {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        // SAFETY: plain C allocation calls.
        unsafe {
            if l.align() <= MALLOC_ALIGN {
                libc::malloc(l.size()) as *mut u8
            } else {
                libc::aligned_alloc(l.align(), l.size()) as *mut u8
            }
        }
    }
    unsafe fn dealloc(&self, p: *mut u8, _l: Layout) {
        // SAFETY: p came from malloc/aligned_alloc above.
        unsafe { libc::free(p as *mut _) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        if l.align() <= MALLOC_ALIGN {
            // SAFETY: p came from malloc above.
            unsafe { libc::realloc(p as *mut _, new) as *mut u8 }
        } else {
            // SAFETY: default path: alloc, copy, free.
            unsafe {
                let n = self.alloc(Layout::from_size_align_unchecked(new, l.align()));
                if !n.is_null() {
                    core::ptr::copy_nonoverlapping(p, n, l.size().min(new));
                    self.dealloc(p, l);
                }
                n
            }
        }
    }
}

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
