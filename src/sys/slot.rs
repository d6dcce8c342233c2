//! A static that may hold one owned value: an atomic pointer to a box,
//! for state a process keeps across calls without a lock (it is
//! single-threaded; the helper tasks that share its memory never touch
//! a slot). The value is taken out whole or not at all.

use alloc::boxed::Box;
use core::sync::atomic::{AtomicPtr, Ordering::Relaxed};

pub struct Slot<T>(AtomicPtr<T>);

impl<T> Slot<T> {
    pub const fn new() -> Slot<T> {
        Slot(AtomicPtr::new(core::ptr::null_mut()))
    }

    /// Put `v` in; what was there comes back.
    pub fn put(&self, v: T) -> Option<T> {
        Self::own(self.0.swap(Box::into_raw(Box::new(v)), Relaxed))
    }

    /// Take what is there, leaving the slot empty.
    pub fn take(&self) -> Option<T> {
        Self::own(self.0.swap(core::ptr::null_mut(), Relaxed))
    }

    pub fn is_empty(&self) -> bool {
        self.0.load(Relaxed).is_null()
    }

    /// Empty the slot without dropping what was there (a fork's copy of
    /// a value that is its parent's to drop).
    pub fn forget(&self) {
        self.0.store(core::ptr::null_mut(), Relaxed);
    }

    fn own(p: *mut T) -> Option<T> {
        // SAFETY: every non-null pointer in a slot came from
        // Box::into_raw in `put` and was swapped out exactly once.
        (!p.is_null()).then(|| *unsafe { Box::from_raw(p) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_one_value_taken_once() {
        static S: Slot<alloc::string::String> = Slot::new();
        assert!(S.is_empty() && S.take().is_none());
        assert_eq!(S.put("a".into()), None);
        assert_eq!(S.put("b".into()).as_deref(), Some("a"));
        assert_eq!(S.take().as_deref(), Some("b"));
        assert!(S.is_empty());
        S.put("c".into());
        S.forget();
        assert!(S.take().is_none());
    }
}
