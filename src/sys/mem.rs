//! Memory mappings: map, unmap, and hand pages back to the kernel; where
//! the main stack and the binary's read-only segments lie, so a
//! long-lived process (a detached container's monitor) can drop what it
//! touched once and no longer uses.

use super::{Errno, Result, Sysno};
use syscalls::syscall;

pub const PAGE: usize = 4096;

/// `mmap(NULL, len, RW, PRIVATE|ANON, -1, 0)` — mmap(2): fresh zero pages,
/// none resident until touched.
pub fn map_anon(len: usize) -> Result<*mut u8> {
    let prot = libc::PROT_READ | libc::PROT_WRITE;
    let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS;
    // SAFETY: a fresh anonymous mapping touches no existing memory.
    let p = unsafe { syscall!(Sysno::mmap, 0, len, prot, flags, -1i32, 0) }?;
    Ok(p as *mut u8)
}

/// `munmap(addr, len)` — munmap(2).
///
/// # Safety
/// Nothing may use `[addr, addr + len)` afterwards.
pub unsafe fn unmap(addr: *mut u8, len: usize) -> Result<()> {
    // SAFETY: the caller owns the range and drops every use of it.
    unsafe { syscall!(Sysno::munmap, addr, len) }?;
    Ok(())
}

/// `madvise(addr, len, MADV_DONTNEED)` — madvise(2): the pages of
/// `[addr, addr + len)` leave the process's memory. Anonymous ones read
/// back as zeros; those of a private file mapping read the file again.
///
/// # Safety
/// Nothing in the range may hold data still needed (for a file mapping:
/// no page of it was written, or its writes are not needed).
#[inline]
pub unsafe fn dontneed(addr: usize, len: usize) -> Result<()> {
    if len == 0 {
        return Ok(());
    }
    // SAFETY: the caller vouches that the contents are not needed.
    unsafe { syscall!(Sysno::madvise, addr, len, libc::MADV_DONTNEED) }?;
    Ok(())
}

/// `madvise(addr & ~(PAGE-1), len, MADV_RANDOM)` — madvise(2). Besides
/// the advice (no readahead), a range whose flags differ from its
/// neighbours' becomes a mapping (VMA) of its own, and a fault never maps
/// beyond its VMA: a fault in the range maps its pages only, not the
/// 64-128 KiB around the page that fault-around and large folios map in
/// a file mapping otherwise (and RSS then counts).
fn fault_alone(addr: usize, len: usize) -> Result<()> {
    // SAFETY: advice about access patterns changes no contents.
    unsafe { syscall!(Sysno::madvise, addr & !(PAGE - 1), len, libc::MADV_RANDOM) }?;
    Ok(())
}

/// Give back the main stack's pages below the caller's frame (two pages
/// of margin for the calls made from there): no live data is below a
/// live frame, and the pages read back as zeros when a call needs them.
/// Main thread only (`stack_below`).
#[inline(never)]
pub fn shed_stack() {
    let here = 0u8;
    let sp = core::hint::black_box(&here) as *const u8 as usize;
    if let Ok((lo, len)) = stack_below(sp - 2 * PAGE) {
        // SAFETY: below every live frame (see above).
        let _ = unsafe { dontneed(lo, len) };
    }
}

/// Give back this binary's text and read-only data, then `poll(fds,
/// timeout)`: the pages are never written and read the file again when
/// used (minor faults from the page cache), exactly as after the kernel
/// reclaims them. What runs between their release and the wait is
/// `dontneed_then_poll` alone, in a mapping of its own (`fault_alone`):
/// it keeps a page or two resident, not the 128 KiB around it.
pub fn shed_text_then_poll(fds: &mut [libc::pollfd], timeout: i32) -> Result<usize> {
    let mut segs = [(0, 0); 8];
    let n = readonly_segments(&mut segs);
    let last = dontneed_then_poll as *const () as usize;
    let page = last & !(PAGE - 1);
    let _ = fault_alone(page, (last + 512).next_multiple_of(PAGE) - page);
    // SAFETY: read-only file pages of this binary (readonly_segments).
    unsafe { dontneed_then_poll(&segs[..n], fds, timeout) }
}

/// `madvise(addr, len, MADV_DONTNEED)` of each range, then `poll(fds, n,
/// timeout)` — madvise(2), poll(2), retried on EINTR: one small function,
/// so that when the ranges are this binary's text, what runs between
/// their release and the wait is a page or two (see `fault_alone`).
///
/// # Safety
/// As `dontneed`, for each range.
#[inline(never)]
unsafe fn dontneed_then_poll(
    ranges: &[(usize, usize)],
    fds: &mut [libc::pollfd],
    timeout: i32,
) -> Result<usize> {
    for &(a, len) in ranges {
        // SAFETY: the caller vouches for the ranges.
        let _ = unsafe { syscall!(Sysno::madvise, a, len, libc::MADV_DONTNEED) };
    }
    loop {
        // SAFETY: fds is a valid array of pollfd.
        match unsafe { syscall!(Sysno::poll, fds.as_mut_ptr(), fds.len(), timeout) } {
            Err(Errno::EINTR) => continue,
            r => return r,
        }
    }
}

/// `mincore(addr, PAGE, &v)` — mincore(2): is the page at `addr` mapped
/// (ENOMEM: it is not)?
fn mapped(addr: usize) -> Result<bool> {
    let mut v = 0u8;
    // SAFETY: one page asked, one byte of output.
    match unsafe { syscall!(Sysno::mincore, addr, PAGE, &mut v as *mut u8) } {
        Ok(_) => Ok(true),
        Err(Errno::ENOMEM) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The main stack's pages below `sp` (rounded down to a page): from the
/// lowest page of the stack mapping up to it. The mapping is one piece
/// and grows down; a gap (stack_guard_gap, 1 MiB by default) lies under
/// it, so the first unmapped page found going down is its end. For the
/// main thread only: a thread's stack may sit right on other mappings.
fn stack_below(sp: usize) -> Result<(usize, usize)> {
    let top = sp & !(PAGE - 1);
    let mut lo = top;
    while lo >= PAGE && mapped(lo - PAGE)? {
        lo -= PAGE;
    }
    Ok((lo, top - lo))
}

unsafe extern "C" {
    /// The ELF header of this binary, where it is loaded: the linker's
    /// (GNU ld and lld alike) name for the start of the image.
    static __ehdr_start: libc::Elf64_Ehdr;
}

/// The page-aligned ranges of this binary that are mapped without write
/// permission (text, rodata: PT_LOAD segments without PF_W), from its
/// program headers. Pages of them read the file again after `dontneed`,
/// exactly as after the kernel reclaims them. A writable segment
/// (relocated data, RELRO included) is never named, nor a page it
/// shares. Fills `out`, returns how many.
#[inline(never)]
fn readonly_segments(out: &mut [(usize, usize)]) -> usize {
    // SAFETY: the linker defines __ehdr_start at the loaded ELF header,
    // mapped (with the program headers after it) for the process's life.
    let (base, hs) = unsafe {
        let e = &raw const __ehdr_start;
        let at = (e as *const u8).add((*e).e_phoff as usize) as *const libc::Elf64_Phdr;
        (
            e as usize,
            core::slice::from_raw_parts(at, (*e).e_phnum as usize),
        )
    };
    // The load bias: the header's address against the vaddr of the
    // segment that maps file offset 0 (0 for a PIE).
    let Some(bias) = hs
        .iter()
        .find(|h| h.p_type == libc::PT_LOAD && h.p_offset == 0)
        .map(|h| base.wrapping_sub(h.p_vaddr as usize))
    else {
        return 0;
    };
    let pages = |h: &libc::Elf64_Phdr| {
        let at = bias + h.p_vaddr as usize;
        (
            at & !(PAGE - 1),
            (at + h.p_memsz as usize).next_multiple_of(PAGE),
        )
    };
    let load = |h: &&libc::Elf64_Phdr| h.p_type == libc::PT_LOAD;
    let mut n = 0;
    for h in hs
        .iter()
        .filter(load)
        .filter(|h| h.p_flags & libc::PF_W == 0)
    {
        let (mut start, mut end) = pages(h);
        // Never a page a writable segment maps too.
        for w in hs
            .iter()
            .filter(load)
            .filter(|h| h.p_flags & libc::PF_W != 0)
        {
            let (ws, we) = pages(w);
            if ws < end && start < we {
                match ws > start {
                    true => end = ws,
                    false => start = we.min(end),
                }
            }
        }
        if end > start && n < out.len() {
            out[n] = (start, end - start);
            n += 1;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readonly_segments_hold_this_code_and_no_data() {
        let mut segs = [(0, 0); 8];
        let n = readonly_segments(&mut segs);
        let inside = |a: usize| segs[..n].iter().any(|&(s, l)| a >= s && a < s + l);
        let f = readonly_segments as *const () as usize;
        static WRITABLE: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(1);
        assert!(n >= 2, "{segs:?}");
        assert!(inside(f), "text not found: {f:#x} {segs:?}");
        assert!(!inside(&WRITABLE as *const _ as usize));
        for &(s, l) in &segs[..n] {
            assert_eq!((s % PAGE, l % PAGE), (0, 0));
        }
    }
}
