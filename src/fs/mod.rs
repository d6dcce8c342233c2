//! The container's filesystem: `plan` turns a Spec into an ordered list of
//! setup operations (pure, tested without root); `apply` runs that list in
//! the child, in the new mount namespace. Command-line order is execution
//! order, as in bubblewrap, so the list is easy to audit.

pub mod apply;
pub mod overlay;
pub mod plan;
pub mod prepare;

pub use plan::{Op, plan};
