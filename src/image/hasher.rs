//! sha256 of a long stream (a layer, a blob) on the other CPU.
//!
//! Loading a plain layer is extraction (syscalls, on this CPU) and sha256
//! of every byte, which alone is about a third of it on tmpfs: GNU tar
//! does the first only. Past the first 512 KiB (before that a helper
//! costs more than it saves), and where this process may use two CPUs,
//! the bytes are copied into a ring of 8 slots of 256 KiB that a helper
//! hashes while extraction goes on. The helper is a `sys::task::Task`
//! sharing our memory and fd table (as spawn/prefetch.rs's). It touches
//! only the ring and the hash state (raw syscalls, no allocation, no
//! errno), and dies with us (PDEATHSIG).

use super::digest::Sha256;
use crate::sys::{futex, proc, task::Task};
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::ffi::c_int;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering::*};

const SLOT: usize = 256 * 1024;
const SLOTS: u32 = 8;
/// Hashed here up to this many bytes: a small layer or a config is done
/// before a helper would have started (~0.1 ms).
const HERE: u64 = 512 * 1024;
/// In `head` once no slot follows.
const STOP: u32 = 1 << 31;
/// The helper's stack: sha256 needs little.
const STACK: usize = 64 * 1024;

/// A sha256 that moves to a helper once the stream is long.
#[derive(Default)]
pub struct Hasher {
    here: Sha256,
    bytes: u64,
    away: Option<Box<Away>>,
}

impl Hasher {
    pub fn update(&mut self, b: &[u8]) {
        if let Some(a) = &mut self.away {
            return a.put(b);
        }
        self.here.update(b);
        let was = self.bytes;
        self.bytes += b.len() as u64;
        if was < HERE && self.bytes >= HERE {
            self.away = Away::start(&mut self.here);
        }
    }

    /// The lowercase hex digest (waits for the helper's last slot).
    pub fn hex(mut self) -> String {
        match self.away.take() {
            Some(mut a) => a.finish().hex(),
            None => self.here.hex(),
        }
    }
}

/// What we and the helper share.
struct Shared {
    /// Slots published (ours to advance), | STOP after the last.
    head: AtomicU32,
    /// Slots hashed (the helper's to advance).
    tail: AtomicU32,
    len: [AtomicUsize; SLOTS as usize],
    /// SLOTS * SLOT bytes (`Away::ring`'s buffer).
    ring: *mut u8,
    /// The helper's while it runs; ours after it was waited for.
    hash: UnsafeCell<Sha256>,
    parent: i32,
}

// SAFETY: head, tail and len are atomics; the ring's slots and the hash
// are handed over by them: we write a slot only once `tail` says it was
// hashed, the helper reads it only once `head` says it was published,
// and the hash is the helper's alone until it was waited for.
unsafe impl Sync for Shared {}

struct Away {
    /// (Before `_ring`: dropped first, it waits for the helper.)
    task: Task<Shared>,
    /// Only its allocation is used, through `Shared::ring`.
    _ring: Vec<u8>,
    /// Bytes in the slot being filled (`head % SLOTS`).
    fill: usize,
}

impl Away {
    /// The helper, given the hash so far; None (the hash left in `here`)
    /// where only one CPU is ours or it cannot start.
    fn start(here: &mut Sha256) -> Option<Box<Away>> {
        if !proc::cpus_allowed().is_ok_and(|n| n >= 2) {
            return None;
        }
        let mut ring = Vec::with_capacity(SLOTS as usize * SLOT);
        let shared = Shared {
            head: AtomicU32::new(0),
            tail: AtomicU32::new(0),
            len: [const { AtomicUsize::new(0) }; SLOTS as usize],
            ring: ring.as_mut_ptr(),
            hash: UnsafeCell::new(core::mem::take(here)),
            parent: proc::getpid(),
        };
        // The ring lives in `Away` as long as the task.
        // SAFETY: `helper` hashes our ring and waits on futexes: raw
        // syscalls and no allocation (sha2 makes none).
        match unsafe { Task::spawn(helper, shared, STACK) } {
            Ok(task) => Some(Box::new(Away {
                task,
                _ring: ring,
                fill: 0,
            })),
            Err((_, shared)) => {
                *here = shared.hash.into_inner();
                None
            }
        }
    }

    fn put(&mut self, mut b: &[u8]) {
        while !b.is_empty() {
            let sh = self.task.data();
            let h = sh.head.load(Relaxed);
            if self.fill == 0 {
                // A slot is ours again once hashed.
                loop {
                    let t = sh.tail.load(Acquire);
                    if h.wrapping_sub(t) < SLOTS {
                        break;
                    }
                    futex::wait(&sh.tail, t);
                }
            }
            let n = (SLOT - self.fill).min(b.len());
            let at = (h % SLOTS) as usize * SLOT + self.fill;
            // SAFETY: within the ring; the helper reads this slot only
            // after it is published below.
            unsafe { core::ptr::copy_nonoverlapping(b.as_ptr(), sh.ring.add(at), n) };
            self.fill += n;
            b = &b[n..];
            if self.fill == SLOT {
                self.publish();
            }
        }
    }

    fn publish(&mut self) {
        let sh = self.task.data();
        let h = sh.head.load(Relaxed);
        sh.len[(h % SLOTS) as usize].store(self.fill, Relaxed);
        sh.head.store(h + 1, Release);
        futex::wake(&sh.head, 1);
        self.fill = 0;
    }

    /// No more slots: the helper ends once it hashed those published.
    fn stop(&mut self) {
        if self.task.pid().is_none() {
            return;
        }
        let sh = self.task.data();
        sh.head.fetch_or(STOP, Release);
        futex::wake(&sh.head, 1);
        let _ = self.task.wait();
    }

    fn finish(&mut self) -> Sha256 {
        if self.fill > 0 {
            self.publish();
        }
        self.stop();
        // (Waited for by `stop`; if not, the hash is not ours to take:
        // an empty one, which no digest matches.)
        self.task
            .data_mut()
            .map(|sh| core::mem::take(sh.hash.get_mut()))
            .unwrap_or_default()
    }
}

impl Drop for Away {
    /// (A load that failed halfway: the helper ends before the ring and
    /// its stack go.)
    fn drop(&mut self) {
        self.stop();
    }
}

/// The helper: hash each slot as it is published, until STOP.
fn helper(sh: &Shared) -> c_int {
    // Killed with pocket: never left asleep on a ring nobody fills.
    let _ = proc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as u64);
    if proc::getppid() != sh.parent {
        return 0;
    }
    let mut t = 0u32;
    loop {
        let h = sh.head.load(Acquire);
        if h & !STOP == t {
            if h & STOP != 0 {
                return 0;
            }
            futex::wait(&sh.head, h);
            continue;
        }
        let i = (t % SLOTS) as usize;
        let n = sh.len[i].load(Relaxed);
        // SAFETY: slot i is published (head > t) and not refilled until
        // `tail` passes t; the hash is ours until we exit.
        unsafe {
            let b = core::slice::from_raw_parts(sh.ring.add(i * SLOT), n);
            (*sh.hash.get()).update(b);
        }
        t += 1;
        sh.tail.store(t, Release);
        futex::wake(&sh.tail, 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize) -> Vec<u8> {
        let mut x = 0x9e37_79b9u32;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect()
    }

    fn expect(d: &[u8]) -> String {
        String::from(&super::super::digest::of(d)[7..])
    }

    #[test]
    fn same_digest_in_any_chunks_here_or_away() {
        // Around the switch, a slot, the ring's wrap.
        let sizes = [
            0,
            1,
            HERE as usize - 1,
            HERE as usize,
            HERE as usize + 1,
            HERE as usize + SLOT,
            HERE as usize + SLOTS as usize * SLOT * 3 + 12345,
        ];
        for n in sizes {
            let d = data(n);
            for chunk in [1usize << 20, 65536, 4099, 512] {
                let mut h = Hasher::default();
                for c in d.chunks(chunk) {
                    h.update(c);
                }
                let away = h.away.as_ref().and_then(|a| a.task.pid());
                assert_eq!(h.hex(), expect(&d), "{n} bytes in chunks of {chunk}");
                // On two CPUs a long stream went to a helper, now gone.
                if n as u64 >= HERE && proc::cpus_allowed().unwrap() >= 2 {
                    let pid = away.expect("no helper for a long stream");
                    assert!(crate::sys::task::reaped(pid));
                }
            }
        }
    }

    #[test]
    fn dropped_halfway_the_helper_ends() {
        let d = data(HERE as usize + 5 * SLOT + 7);
        let mut h = Hasher::default();
        h.update(&d);
        let pid = h.away.as_ref().and_then(|a| a.task.pid());
        drop(h);
        if let Some(pid) = pid {
            assert!(crate::sys::task::reaped(pid));
        }
    }
}
