//! The one spawn path: the parent prepares everything, clone(2)s the
//! container init on a stack it mapped, and talks to it over three
//! channels: the config pipe (parent -> child), the sync socket (parent ->
//! child: "go on" with its host pid; child -> parent: "joined" when it
//! joins namespaces by path), and the error pipe (child -> parent,
//! O_CLOEXEC: EOF means execve succeeded).

mod child;
pub mod dmz;
pub mod exec;
pub mod hooks;
mod init;
mod joins;
mod limits;
pub mod parent;
pub mod prefetch;
pub mod program;
pub mod relay;
pub mod sealed;
pub mod userns;
pub mod wire;

pub use parent::run;
