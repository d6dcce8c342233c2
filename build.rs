//! Link musl's libc.a into the no_std binary and embed version + commit.
use std::process::Command;

/// Linker flags for the binary only (unit and integration tests link
/// with std and keep the defaults).
///
/// * `.eh_frame` goes: with panic=abort in a no_std binary nothing
///   unwinds, and there is no backtrace printer, so the unwind tables
///   are never read. The prebuilt core/alloc are compiled with
///   panic=unwind, so LLVM keeps tables for every function that calls
///   into them whatever `-C force-unwind-tables=no` says: 177 KB of
///   tables and 18 KB of `.eh_frame_hdr` index (255 KB + 29 KB with TLS).
///   crtbeginS.o/crtendS.o keep theirs: their frame-registry code
///   refers to the section's start.
/// * DT_RELR (`-z pack-relative-relocs`, musl >= 1.2.4 applies it in
///   rcrt1's self-relocation): the static-PIE's 1,700 relative
///   relocations take 600 bytes instead of 41 KB (71 KB with TLS), and
///   the binary stays position-independent (ASLR).
fn link_small() {
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let script = out.join("no-eh-frame.ld");
    std::fs::write(
        &script,
        "SECTIONS { /DISCARD/ : { EXCLUDE_FILE(*crtbegin*.o *crtend*.o) *(.eh_frame) } }\n\
         INSERT AFTER .text;\n",
    )
    .unwrap();
    println!("cargo:rustc-link-arg-bins=-Wl,-T,{}", script.display());
    println!("cargo:rustc-link-arg-bins=-Wl,--no-eh-frame-hdr");
    println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
}

/// The --help texts, deflated at the highest level into OUT_DIR for
/// `include_bytes!` (src/help.rs inflates them when asked): 29 KB of
/// text in the binary as ~10 KB.
fn pack_help() {
    let text = std::fs::read("src/help.txt").expect("src/help.txt");
    let packed = miniz_oxide::deflate::compress_to_vec(&text, 10);
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap());
    std::fs::write(out.join("help.deflate"), packed).unwrap();
    println!("cargo:rerun-if-changed=src/help.txt");
}

fn main() {
    pack_help();
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.contains("musl") {
        // no_std does not pull libc.a in by itself; `static=c` bundles it
        // into the rlib and clashes with std in tests, `-bundle` does not.
        println!("cargo:rustc-link-lib=static:-bundle=c");
        link_small();
    }
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let dirty = Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .output()
        .ok()
        .map(|o| !o.stdout.is_empty())
        .unwrap_or(false);
    println!(
        "cargo:rustc-env=POCKET_COMMIT={}{}",
        commit,
        if dirty { "-dirty" } else { "" }
    );
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/index");
}
