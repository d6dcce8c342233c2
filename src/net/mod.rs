//! Networking over netlink only: no `ip`, `iptables` or `nft` on the host.

pub mod counters;
pub mod etc;
pub mod host;
pub mod link;
pub mod networks;
pub mod nft;
pub mod nl;
pub mod ports;
pub mod slirp;
pub mod sysctl;

use alloc::string::String;

/// The container's place on a bridge network: a veth pair, one end on
/// `bridge`, the other its eth0 with `ip`/`prefix`, routed via `gateway`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NetAttach {
    pub network: String,
    pub bridge: String,
    pub ip: [u8; 4],
    pub prefix: u8,
    pub gateway: [u8; 4],
}
