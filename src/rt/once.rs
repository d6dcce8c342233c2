//! A value computed on first use and kept for the life of the process.
//! pocket is single-threaded (DESIGN.md: no runtime threads, ever), so a
//! plain cell is enough; `core`'s `OnceLock` needs std.

use core::cell::UnsafeCell;

pub struct Once<T>(UnsafeCell<Option<T>>);

// SAFETY: pocket never starts a thread; forks get their own copy.
unsafe impl<T> Sync for Once<T> {}

impl<T> Once<T> {
    pub const fn new() -> Once<T> {
        Once(UnsafeCell::new(None))
    }

    pub fn get_or_init(&self, f: impl FnOnce() -> T) -> &T {
        // SAFETY: single-threaded, and `f` cannot reach this cell (it is
        // private to its one caller): no reference to the contents exists
        // while it is written, and it is written once.
        unsafe {
            let slot = &mut *self.0.get();
            if slot.is_none() {
                *slot = Some(f());
            }
            slot.as_ref().unwrap_unchecked()
        }
    }
}
