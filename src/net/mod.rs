//! Networking over netlink only: no `ip`, `iptables` or `nft` on the host.

pub mod link;
pub mod nl;
