//! Images: layer archives (tar reader, safe extraction), digests, and the
//! local image store.

pub mod digest;
pub mod extract;
pub mod store;
pub mod tar;
