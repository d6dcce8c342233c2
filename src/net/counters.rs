//! A container's network traffic, as `stats` shows it (docker's NET I/O):
//! the bytes its interfaces received and sent, read from
//! /proc/PID/net/dev, which lists the interfaces of PID's network
//! namespace. Loopback is not counted (docker counts the container's
//! networks only), nor a container on the host's network (docker shows
//! 0B there: it has no network of its own).

use alloc::format;

/// (received, sent) bytes of `pid`'s network namespace; (0, 0) when it
/// is the caller's own (`--net host`), None when it cannot be read (the
/// process is gone).
pub fn of_process(pid: i32) -> Option<(u64, u64)> {
    let link = |p: &str| {
        let c = crate::error::cpath(p).ok()?;
        crate::sys::fs::readlinkat(libc::AT_FDCWD, &c).ok()
    };
    let theirs = link(&format!("/proc/{pid}/ns/net"))?;
    if link("/proc/self/ns/net").is_some_and(|ours| ours == theirs) {
        return Some((0, 0));
    }
    let c = crate::error::cpath(&format!("/proc/{pid}/net/dev")).ok()?;
    let text = crate::sys::fs::read(&c).ok()?;
    Some(sum(&alloc::string::String::from_utf8_lossy(&text)))
}

/// /proc/net/dev: two header lines, then `NAME: rx_bytes rx_packets ...
/// (8 receive columns) tx_bytes ...` per interface.
fn sum(text: &str) -> (u64, u64) {
    let (mut rx, mut tx) = (0u64, 0u64);
    for line in text.lines().skip(2) {
        let Some((name, cols)) = line.split_once(':') else {
            continue;
        };
        if name.trim() == "lo" {
            continue;
        }
        let mut c = cols
            .split_whitespace()
            .map(|v| v.parse::<u64>().unwrap_or(0));
        rx = rx.saturating_add(c.next().unwrap_or(0));
        tx = tx.saturating_add(c.nth(7).unwrap_or(0));
    }
    (rx, tx)
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_every_interface_but_loopback() {
        let dev = "Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    5000      50    0    0    0     0          0         0     5000      50    0    0    0     0       0          0
  eth0:    1296      16    0    0    0     0          0         0      648       8    0    0    0     0       0          0
  eth1:1000000000  900    0    0    0     0          0         0        2       1    0    0    0     0       0          0
";
        assert_eq!(super::sum(dev), (1_000_001_296, 650));
        assert_eq!(super::sum(""), (0, 0));
    }

    #[test]
    fn own_namespace_counts_nothing() {
        // This process's own namespace is the caller's: docker's 0B.
        assert_eq!(super::of_process(crate::sys::proc::getpid()), Some((0, 0)));
        assert_eq!(super::of_process(i32::MAX), None);
    }
}
