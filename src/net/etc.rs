//! The files docker writes for a container and mounts in: /etc/hosts,
//! /etc/resolv.conf, /etc/hostname. Pure text building here; run.rs writes
//! them into the container's directory and binds them over the image's.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// localhost, the container itself (if it has an address), then each
/// `--add-host NAME:IP` in order.
pub fn hosts(hostname: &str, ip: Option<[u8; 4]>, extra: &[(String, String)]) -> String {
    let mut s = String::from(
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n\
         fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n\
         ff02::2\tip6-allrouters\n",
    );
    for (name, addr) in extra {
        s.push_str(&format!("{addr}\t{name}\n"));
    }
    if let Some(a) = ip {
        s.push_str(&format!(
            "{}\t{hostname}\n",
            crate::net::networks::fmt_ip(a)
        ));
    }
    s
}

/// `--add-host NAME:IP` checked: a host name and an IPv4 or IPv6 address.
pub fn parse_add_host(v: &str) -> Option<(String, String)> {
    let (name, addr) = v.split_once(':')?;
    let name_ok = !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b".-_".contains(&c));
    let addr_ok = crate::net::networks::parse_ip(addr).is_some()
        || (addr.contains(':') && addr.bytes().all(|c| c.is_ascii_hexdigit() || c == b':'));
    (name_ok && addr_ok).then(|| (String::from(name), String::from(addr)))
}

/// The host's resolv.conf for a container on a bridge: its nameservers
/// unless they are loopback addresses (unreachable from the container's
/// namespace: systemd-resolved's 127.0.0.53, dnsmasq), in which case
/// docker's fallback, Google's public servers; `dns` (--dns) replaces them.
pub fn resolv_conf(host: &str, dns: &[String]) -> String {
    let mut out = String::new();
    let mut servers = 0;
    for line in host.lines() {
        let t = line.trim();
        if let Some(ns) = t.strip_prefix("nameserver") {
            let ns = ns.trim();
            if !dns.is_empty() || ns.starts_with("127.") || ns == "::1" {
                continue;
            }
            servers += 1;
        }
        out.push_str(line);
        out.push('\n');
    }
    let add: Vec<&str> = if !dns.is_empty() {
        dns.iter().map(|s| s.as_str()).collect()
    } else if servers == 0 {
        alloc::vec!["8.8.8.8", "8.8.4.4"]
    } else {
        Vec::new()
    };
    for ns in add {
        out.push_str(&format!("nameserver {ns}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mutated `--add-host` values and host resolv.conf text: an accepted
    /// extra host is one line of /etc/hosts; resolv.conf keeps no loopback
    /// server and grows by at most the fallback pair.
    #[test]
    fn hostile_etc_files() {
        let corpus: &[&[u8]] = &[
            b"db:10.0.0.9",
            b"v6:fe80::1",
            b"host.docker.internal:host-gateway",
            b"# comment\nnameserver 127.0.0.53\noptions edns0 trust-ad\nsearch lan\n",
            b"nameserver 192.168.1.1\r\nnameserver ::1\nnameserver\tfd00::1\n",
        ];
        let dict: &[&[u8]] = &[b"nameserver ", b"127.", b"::1", b":", b"\n"];
        crate::rt::fuzz::run(
            "etc files",
            corpus,
            dict,
            std::time::Duration::from_secs(60),
            |b| {
                let v = String::from_utf8_lossy(b);
                if let Some((name, addr)) = parse_add_host(&v) {
                    let extra = [(name, addr)];
                    let h = hosts("box", Some([10, 0, 0, 2]), &extra);
                    assert_eq!(h.lines().count(), 8, "{h:?}");
                }
                let r = resolv_conf(&v, &[]);
                assert!(r.lines().count() <= v.lines().count() + 2);
                for l in r.lines() {
                    if let Some(ns) = l.trim().strip_prefix("nameserver") {
                        let ns = ns.trim();
                        assert!(!ns.starts_with("127.") && ns != "::1", "{ns}");
                    }
                }
                let r = resolv_conf(&v, &[String::from("1.1.1.1")]);
                assert!(r.ends_with("nameserver 1.1.1.1\n"));
                let servers = r.lines().filter(|l| l.trim().starts_with("nameserver"));
                assert_eq!(servers.count(), 1, "--dns replaces the host's servers");
                Ok(())
            },
        );
    }

    #[test]
    fn hosts_lists_localhost_extras_and_self() {
        let h = hosts(
            "box",
            Some([10, 89, 0, 2]),
            &[("db".into(), "10.0.0.9".into())],
        );
        assert!(h.starts_with("127.0.0.1\tlocalhost\n"));
        assert!(h.contains("10.0.0.9\tdb\n"));
        assert!(h.ends_with("10.89.0.2\tbox\n"));
    }

    #[test]
    fn add_host_values() {
        assert_eq!(
            parse_add_host("db:10.0.0.9"),
            Some(("db".into(), "10.0.0.9".into()))
        );
        assert!(parse_add_host("v6:fe80::1").is_some());
        for bad in ["db", ":1.2.3.4", "db:", "d b:1.2.3.4", "db:1.2.3", "db:x.y"] {
            assert_eq!(parse_add_host(bad), None, "{bad}");
        }
    }

    #[test]
    fn resolv_conf_drops_loopback_servers() {
        let host = "# comment\nnameserver 127.0.0.53\noptions edns0\nsearch lan\n";
        let r = resolv_conf(host, &[]);
        assert!(!r.contains("127.0.0.53"));
        assert!(r.contains("options edns0\n") && r.contains("search lan\n"));
        assert!(r.ends_with("nameserver 8.8.8.8\nnameserver 8.8.4.4\n"));
        let r = resolv_conf("nameserver 192.168.1.1\n", &[]);
        assert_eq!(r, "nameserver 192.168.1.1\n");
        let r = resolv_conf("nameserver 192.168.1.1\n", &["1.1.1.1".into()]);
        assert_eq!(r, "nameserver 1.1.1.1\n");
    }
}
