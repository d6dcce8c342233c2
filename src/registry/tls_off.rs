//! The build without TLS (`--no-default-features`): the same names as
//! tls.rs, and every https connection refused in one line that says why.
//! Plain http (`--insecure-registry`) works as in the full build.

use crate::error::{Error, Result};
use crate::sys::Errno;
use crate::sys::fd::Fd;
use alloc::string::String;
use alloc::sync::Arc;

pub const CERTS_D: &str = "/etc/docker/certs.d";

const WHY: &str = "this pocket was built without TLS (cargo feature `tls`); use the default build for https registries, or --insecure-registry for plain http";

/// What to trust for `authority` (`host[:port]`); unused here.
pub struct Trust {
    pub bundle: Option<String>,
    pub certs_d: String,
}

/// No client configuration exists without TLS.
pub enum Config {}

pub const AVAILABLE: bool = false;

/// The one-line refusal of an https connection to `authority`.
pub fn unavailable(authority: &str) -> Error {
    Error::bad("TLS", String::from(authority), WHY).with_code(1)
}

pub fn config(authority: &str, _t: &Trust) -> Result<Arc<Config>> {
    Err(unavailable(authority))
}

/// No TLS connection exists either.
pub enum Tls {}

impl Tls {
    pub fn connect(
        _fd: Fd,
        _host: &str,
        cfg: Arc<Config>,
    ) -> core::result::Result<Tls, (Errno, Option<String>)> {
        match *cfg {}
    }

    pub fn write_all(&mut self, _data: &[u8]) -> core::result::Result<(), Errno> {
        match *self {}
    }

    pub fn read(&mut self, _buf: &mut [u8]) -> core::result::Result<usize, Errno> {
        match *self {}
    }
}
