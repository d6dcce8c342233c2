//! The child's stack: an anonymous mapping with a guard page below it, so
//! an overflow faults instead of silently writing the parent's heap.

use super::{Result, Sysno};
use syscalls::syscall;

pub struct Stack {
    base: *mut u8,
    len: usize,
}

const PAGE: usize = 4096;

impl Stack {
    /// `mmap(NULL, size + PAGE, RW, PRIVATE|ANON|STACK)` then
    /// `mprotect(base, PAGE, PROT_NONE)` — mmap(2), mprotect(2).
    pub fn new(size: usize) -> Result<Stack> {
        let len = size + PAGE;
        let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK;
        let prot = libc::PROT_READ | libc::PROT_WRITE;
        // SAFETY: a fresh anonymous mapping touches no existing memory.
        let base = unsafe { syscall!(Sysno::mmap, 0, len, prot, flags, -1i32, 0) }? as *mut u8;
        let s = Stack { base, len };
        // SAFETY: the first page of our own mapping.
        unsafe { syscall!(Sysno::mprotect, base, PAGE, libc::PROT_NONE) }?;
        Ok(s)
    }

    /// The initial stack pointer (stacks grow down on x86_64), 16-aligned.
    pub fn top(&self) -> *mut u8 {
        // SAFETY: one past the end of the mapping, as clone(2) expects.
        unsafe { self.base.add(self.len) }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // SAFETY: unmapping our own mapping; nothing references it after
        // the child has its own copy (no CLONE_VM), or, a `task::Task`'s,
        // once the helper was waited for (the Task drops it only then).
        let _ = unsafe { syscall!(Sysno::munmap, self.base, self.len) };
    }
}
