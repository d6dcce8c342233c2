//! Containers that outlive the command that made them: records, names,
//! locks and logs, in a directory tree written atomically.

pub mod events;
pub mod log;
pub mod record;
pub mod spare;
pub mod store;
pub mod volumes;

pub use record::{Record, Status};
pub use store::Store;
