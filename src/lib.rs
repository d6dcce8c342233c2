//! pocket: a container runtime in one static binary.
//!
//! The library holds everything; `main.rs` only wires the C entry point,
//! the allocator and the panic handler. Without `cfg(test)` it is `no_std`
//! so the release binary carries no std runtime; unit tests use std.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

/// pocket's version, and the git commit it was built from (build.rs).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const COMMIT: &str = env!("POCKET_COMMIT");

pub mod cgroup;
pub mod cli;
pub mod config;
pub mod container;
pub mod error;
pub mod fs;
pub mod help;
pub mod image;
pub mod json;
pub mod net;
pub mod oci;
pub mod registry;
pub mod rt;
pub mod seccomp;
pub mod spawn;
pub mod spec;
pub mod state;
pub mod sys;

pub use error::Error;
