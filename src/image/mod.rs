//! Images: layer archives (tar reader, safe extraction), digests, and the
//! local image store.

pub mod archive;
pub mod change;
pub mod digest;
pub mod extract;
pub mod gzip;
pub mod gzip_write;
pub mod hasher;
pub mod layer;
pub mod limits;
pub mod load;
pub mod progress;
pub mod reference;
pub mod split;
pub mod store;
pub mod tar;
pub mod tar_write;
pub mod user;
pub mod zstd;
