//! The `pocket` binary: C entry point, allocator, panic handler, and the
//! memory copies the whole binary (musl's C code too) links to.
#![no_std]
#![no_main]

use core::ffi::{c_char, c_int};

#[global_allocator]
static ALLOC: pocket::rt::Malloc = pocket::rt::Malloc::new();

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    // Panics are bugs, never a reaction to input: say where and exit like
    // any other pocket failure.
    pocket::rt::panicked(info)
}

/// Debug and non-LTO builds reference this symbol even with panic=abort.
#[unsafe(no_mangle)]
extern "C" fn rust_eh_personality() {}

/// The prebuilt `alloc` is compiled with unwinding and names this symbol;
/// with panic=abort nothing ever unwinds, so it can never be reached.
#[unsafe(no_mangle)]
extern "C" fn _Unwind_Resume() -> ! {
    pocket::sys::proc::exit(125)
}

/// memcpy(3), over musl's (`rt::copy` says why). memmove too: musl's
/// jumps into its memcpy's file, which would then be linked twice.
#[unsafe(no_mangle)]
unsafe extern "C" fn memcpy(d: *mut u8, s: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the C contract: valid, non-overlapping ranges of n bytes.
    unsafe { pocket::rt::copy::copy(d, s, n) };
    d
}

#[unsafe(no_mangle)]
unsafe extern "C" fn memmove(d: *mut u8, s: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the C contract: valid ranges of n bytes.
    unsafe { pocket::rt::copy::copy(d, s, n) };
    d
}

/// musl's crt1 calls this after setting up the C runtime.
#[unsafe(no_mangle)]
unsafe extern "C" fn main(
    argc: c_int,
    argv: *const *const c_char,
    envp: *const *const c_char,
) -> c_int {
    // SAFETY: argv and envp come from the kernel via crt1 and stay valid
    // for the life of the process.
    let args = unsafe { pocket::rt::Args::from_raw(argc, argv, envp) };
    pocket::sys::proc::exit(pocket::cli::main(&args))
}
