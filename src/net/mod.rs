//! Networking over netlink only: no `ip`, `iptables` or `nft` on the host.

pub mod etc;
pub mod host;
pub mod link;
pub mod nft;
pub mod nl;
pub mod sysctl;
