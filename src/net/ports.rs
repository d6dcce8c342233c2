//! Published ports (`-p`): docker's syntax, and the host ports containers
//! hold, in `<root>/networks/_ports.json` under the networks lock (so two
//! pockets never publish one host port twice).

use super::networks::{self, Ip, Nets, fmt_ip, parse_ip};
use crate::error::cpath as cs;
use crate::error::{Context, Error, Result};
use crate::json::{self, Value};
use crate::sys::{Errno, fs, proc};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// One `-p` mapping as asked for. The host port is a range to pick from:
/// `(p, p)` for a fixed one, `(0, 0)` for any free ephemeral port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortSpec {
    /// 0.0.0.0: every address of the host.
    pub host_ip: Ip,
    pub host_lo: u16,
    pub host_hi: u16,
    pub ctr_port: u16,
    pub proto: Proto,
}

/// A published port as held: the DNAT rule nf_tables gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub container: String,
    pub proto: Proto,
    pub host_ip: Ip,
    pub host_port: u16,
    pub ctr_ip: Ip,
    pub ctr_port: u16,
}

/// Where `-p CTRPORT` takes host ports from: Linux's default
/// ip_local_port_range, as docker does.
pub const EPHEMERAL: (u16, u16) = (32768, 60999);

fn bad(s: &str, why: &'static str) -> Error {
    Error::bad("invalid port mapping", s, why)
}

/// `N` or `N-M`, 1-65535 (0 allowed where `zero`).
fn range(s: &str, whole: &str, zero: bool) -> Result<(u16, u16)> {
    let num = |p: &str| -> Result<u16> {
        if p.is_empty() || p.len() > 5 || !p.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad(whole, "ports are numbers 1-65535"));
        }
        match p.parse::<u16>() {
            Ok(0) if !zero => Err(bad(whole, "ports are numbers 1-65535")),
            Ok(n) => Ok(n),
            Err(_) => Err(bad(whole, "ports are numbers 1-65535")),
        }
    };
    let (lo, hi) = match s.split_once('-') {
        Some((a, b)) => (num(a)?, num(b)?),
        None => {
            let n = num(s)?;
            (n, n)
        }
    };
    if hi < lo || (lo == 0 && hi != 0) {
        return Err(bad(whole, "a range goes from low to high"));
    }
    Ok((lo, hi))
}

/// Docker's `-p`: `[[IP:]HOSTPORT:]CTRPORT[/tcp|/udp]`, where HOSTPORT may
/// be empty (`IP::80`) or 0 for a free ephemeral port, and either side a
/// range `A-B`. Equal-length ranges map port by port; a host range with
/// one container port picks one free host port from it; a container range
/// alone gets a free host port each.
pub fn parse_port(s: &str) -> Result<Vec<PortSpec>> {
    let (addr, proto) = match s.split_once('/') {
        Some((a, "tcp")) => (a, Proto::Tcp),
        Some((a, "udp")) => (a, Proto::Udp),
        Some((_, "sctp")) => return Err(bad(s, "sctp is not supported")),
        Some(_) => return Err(bad(s, "the protocol is tcp or udp")),
        None => (s, Proto::Tcp),
    };
    if addr.starts_with('[') {
        return Err(bad(s, "IPv6 is not supported"));
    }
    let mut parts = addr.rsplitn(3, ':');
    let ctr = parts.next().unwrap_or("");
    let host = parts.next();
    let ip = parts.next();
    let host_ip = match ip {
        None => [0; 4],
        Some(i) if i.contains(':') => return Err(bad(s, "IPv6 is not supported")),
        Some(i) => parse_ip(i).ok_or_else(|| bad(s, "the host address is not an IPv4 address"))?,
    };
    let (c_lo, c_hi) = range(ctr, s, false)?;
    let (h_lo, h_hi) = match host {
        None | Some("") => (0, 0),
        Some(h) => range(h, s, true)?,
    };
    let spec = |host_lo, host_hi, ctr_port| PortSpec {
        host_ip,
        host_lo,
        host_hi,
        ctr_port,
        proto,
    };
    let n = c_hi - c_lo;
    let out = if h_lo == 0 {
        (c_lo..=c_hi).map(|c| spec(0, 0, c)).collect()
    } else if h_hi - h_lo == n {
        (0..=n)
            .map(|i| spec(h_lo + i, h_lo + i, c_lo + i))
            .collect()
    } else if n == 0 {
        alloc::vec![spec(h_lo, h_hi, c_lo)]
    } else {
        return Err(bad(s, "host and container port ranges differ in length"));
    };
    Ok(out)
}

// The ports file.

fn path(root: &str) -> String {
    format!("{}/_ports.json", networks::dir(root))
}

/// One mapping as the files keep it; its container only in the shared
/// file (a run's record is the container's own).
fn entry(m: &Mapping, with_container: bool) -> Value {
    json::obj!(
        ("Container", with_container.then(|| json::str(&m.container))),
        ("Proto", Some(json::str(m.proto.as_str()))),
        ("HostIp", Some(json::str(&fmt_ip(m.host_ip)))),
        ("HostPort", Some(json::num(m.host_port))),
        ("ContainerIp", Some(json::str(&fmt_ip(m.ctr_ip)))),
        ("ContainerPort", Some(json::num(m.ctr_port))),
    )
}

/// `fields` (and the "Ports" array of `entry`s) as a file's bytes.
fn document(mut fields: Vec<(&str, Option<Value>)>, ms: &[Mapping], with: bool) -> Vec<u8> {
    let arr = ms.iter().map(|m| entry(m, with)).collect();
    fields.push(("Ports", Some(Value::Arr(arr))));
    let mut v = json::pretty(&json::obj(fields)).into_bytes();
    v.push(b'\n');
    v
}

fn to_json(ms: &[Mapping]) -> Vec<u8> {
    document(Vec::new(), ms, true)
}

/// An `entry`; its container named in it, or else `container`.
fn from_entry(v: &Value, container: Option<&str>) -> Option<Mapping> {
    let port = |k| {
        v.get(k)
            .and_then(Value::u64)
            .and_then(|p| u16::try_from(p).ok())
    };
    let ip = |k| v.get(k).and_then(Value::str).and_then(parse_ip);
    Some(Mapping {
        container: String::from(match container {
            Some(c) => c,
            None => v.get("Container")?.str()?,
        }),
        proto: match v.get("Proto")?.str()? {
            "tcp" => Proto::Tcp,
            "udp" => Proto::Udp,
            _ => return None,
        },
        host_ip: ip("HostIp")?,
        host_port: port("HostPort")?,
        ctr_ip: ip("ContainerIp")?,
        ctr_port: port("ContainerPort")?,
    })
}

fn from_json(v: &Value) -> Option<Mapping> {
    from_entry(v, None)
}

/// Every published port (bad entries skipped).
pub fn all(root: &str) -> Result<Vec<Mapping>> {
    let p = path(root);
    let data = match fs::read(&cs(&p)?) {
        Ok(d) => d,
        Err(Errno::ENOENT) => return Ok(Vec::new()),
        Err(e) => return Err(Error::sys("read", p, e)),
    };
    let v = json::parse(&data).map_err(|_| Error::bad("ports", p.clone(), "not JSON"))?;
    Ok(v.get("Ports")
        .and_then(Value::arr)
        .unwrap_or(&[])
        .iter()
        .filter_map(from_json)
        .collect())
}

/// The ports `container` holds on a bridge network (from create to rm;
/// a slirp4netns run's forwards are `of_run`'s).
pub fn of(root: &str, container: &str) -> Result<Vec<Mapping>> {
    let mut v = all(root)?;
    v.retain(|m| m.container == container);
    Ok(v)
}

// One run's forwards (slirp4netns's, `--net slirp4netns`): no claim
// shared with other containers (slirp4netns binds the host ports as the
// user, and a port someone holds fails that bind), so no lock and no
// entry in the shared file (whose entries become DNAT rules). The parent
// records what it got, host ports chosen for `-p CTR` included, in the
// container's run directory (a reboot ends the run, `rm` removes the
// directory) beside the run's init pid: a record whose pid is not the
// running init's is a past run's, left by a pocket killed before it
// could remove it, and shows nothing.

/// The record's file name in the container's run directory.
pub const RUN_FILE: &str = "ports.json";

/// Record `ms`, the forwards made for the run whose init is `pid`.
pub fn save_run(run_dir: &str, pid: i32, ms: &[Mapping]) -> Result<()> {
    let data = document(alloc::vec![("Pid", Some(json::num(pid)))], ms, false);
    fs::write_atomic(&cs(run_dir)?, RUN_FILE, &data, false)
        .ctx("write", &format!("{run_dir}/{RUN_FILE}"))
}

/// The run's forwards are gone (its slirp4netns ends).
pub fn drop_run(run_dir: &str) {
    if let Ok(p) = cs(&format!("{run_dir}/{RUN_FILE}")) {
        let _ = fs::unlinkat(libc::AT_FDCWD, &p, 0);
    }
}

/// The forwards `container` (run directory `run_dir`) has for the run
/// whose init is `pid`; none if the record is another run's, or none is
/// (or can be) read: for display only.
pub fn of_run(run_dir: &str, container: &str, pid: i32) -> Vec<Mapping> {
    let Ok(p) = cs(&format!("{run_dir}/{RUN_FILE}")) else {
        return Vec::new();
    };
    let Some(v) = fs::read(&p).ok().and_then(|d| json::parse(&d).ok()) else {
        return Vec::new();
    };
    if pid <= 0 || v.get("Pid").and_then(Value::i64) != Some(i64::from(pid)) {
        return Vec::new();
    }
    v.get("Ports")
        .and_then(Value::arr)
        .unwrap_or(&[])
        .iter()
        .filter_map(|e| from_entry(e, Some(container)))
        .collect()
}

/// Two mappings would catch the same packets.
fn collides(m: &Mapping, proto: Proto, ip: Ip, port: u16) -> bool {
    m.proto == proto
        && m.host_port == port
        && (m.host_ip == [0; 4] || ip == [0; 4] || m.host_ip == ip)
}

/// "0.0.0.0:8080/tcp".
pub fn fmt_host(ip: Ip, port: u16, proto: Proto) -> String {
    format!("{}:{port}/{}", fmt_ip(ip), proto.as_str())
}

impl Nets {
    fn save_ports(&self, ms: &[Mapping]) -> Result<()> {
        let d = networks::dir(&self.root);
        fs::write_atomic(&cs(&d)?, "_ports.json", &to_json(ms), false)
            .ctx("write", &path(&self.root))
    }

    /// Publish `specs` for `container` (reached at `ctr_ip`), replacing
    /// what it published before. A host port another container holds
    /// (same protocol, overlapping host address) is refused and nothing
    /// changes; free ports are picked at random within the asked range.
    pub fn publish(&self, container: &str, ctr_ip: Ip, specs: &[PortSpec]) -> Result<Vec<Mapping>> {
        let mut ms = all(&self.root)?;
        ms.retain(|m| m.container != container);
        let mut new: Vec<Mapping> = Vec::new();
        for s in specs {
            let taken = |p: u16| {
                ms.iter()
                    .chain(&new)
                    .find(|m| collides(m, s.proto, s.host_ip, p))
            };
            // A host service on the port (sshd on 22): DNAT would steal its
            // clients, so the port is refused, as docker refuses it when
            // its bind fails.
            let udp = s.proto == Proto::Udp;
            let busy = |p: u16| !crate::sys::inet::port_free(udp, s.host_ip, p).unwrap_or(true);
            let host_port = if s.host_lo != 0 && s.host_lo == s.host_hi {
                if let Some(m) = taken(s.host_lo) {
                    return Err(Error::bad(
                        "publish",
                        fmt_host(s.host_ip, s.host_lo, s.proto),
                        format!(
                            "port is already allocated by container {}",
                            m.container.get(..12).unwrap_or(&m.container)
                        ),
                    ));
                }
                if busy(s.host_lo) {
                    return Err(Error::bad(
                        "publish",
                        fmt_host(s.host_ip, s.host_lo, s.proto),
                        "port is already in use on the host",
                    ));
                }
                s.host_lo
            } else {
                let (lo, hi) = if s.host_lo == 0 {
                    EPHEMERAL
                } else {
                    (s.host_lo, s.host_hi)
                };
                // A random start, so a port just freed is not handed out
                // again at once (a client may still talk to the old one).
                let mut r = [0u8; 2];
                let _ = proc::getrandom(&mut r);
                let n = (hi - lo) as u32 + 1;
                let start = u16::from_ne_bytes(r) as u32 % n;
                (0..n)
                    .map(|i| lo + ((start + i) % n) as u16)
                    .find(|&p| taken(p).is_none() && !busy(p))
                    .ok_or_else(|| {
                        Error::bad(
                            "publish",
                            format!("{}:{lo}-{hi}/{}", fmt_ip(s.host_ip), s.proto.as_str()),
                            "no free host port in the range",
                        )
                    })?
            };
            new.push(Mapping {
                container: String::from(container),
                proto: s.proto,
                host_ip: s.host_ip,
                host_port,
                ctr_ip,
                ctr_port: s.ctr_port,
            });
        }
        ms.extend(new.iter().cloned());
        self.save_ports(&ms)?;
        Ok(new)
    }

    /// Forget the mappings `drop` picks.
    pub(super) fn drop_ports(&self, drop: impl Fn(&Mapping) -> bool) -> Result<()> {
        let mut ms = all(&self.root)?;
        let before = ms.len();
        ms.retain(|m| !drop(m));
        if ms.len() != before {
            self.save_ports(&ms)?;
        }
        Ok(())
    }

    /// Everything nf_tables must hold: every network (masquerade from its
    /// subnet, its bridge) and every published port (DNAT), read under
    /// the lock so a sync never sees half a change.
    pub fn ruleset(&self) -> Result<(Vec<networks::Network>, Vec<Mapping>)> {
        Ok((networks::list(&self.root)?, all(&self.root)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run's record reads back for that run only, names the container
    /// it is asked for, and is gone once dropped; the shared file's shape
    /// is not changed by it.
    #[test]
    fn a_runs_forwards() {
        let d = std::env::temp_dir().join(format!("pocket-runports-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        let dir = d.to_str().unwrap();
        let m = |host_port, ctr_port, proto| Mapping {
            container: String::new(),
            proto,
            host_ip: [127, 0, 0, 1],
            host_port,
            ctr_ip: [10, 0, 2, 100],
            ctr_port,
        };
        let ms = [m(8080, 80, Proto::Tcp), m(40000, 53, Proto::Udp)];
        assert!(of_run(dir, "c1", 42).is_empty(), "no record yet");
        save_run(dir, 42, &ms).unwrap();
        let got = of_run(dir, "c1", 42);
        assert_eq!(got.len(), 2);
        assert!(got.iter().all(|g| g.container == "c1"));
        assert_eq!(
            (got[0].host_port, got[0].ctr_port, got[1].proto),
            (8080, 80, Proto::Udp)
        );
        let text = std::fs::read_to_string(d.join(RUN_FILE)).unwrap();
        assert!(
            text.contains("\"Pid\": 42") && !text.contains("\"Container\""),
            "{text}"
        );
        // Another run's (a pocket killed before it removed it), or none.
        assert!(of_run(dir, "c1", 43).is_empty());
        assert!(of_run(dir, "c1", 0).is_empty());
        drop_run(dir);
        assert!(of_run(dir, "c1", 42).is_empty());
        assert!(!d.join(RUN_FILE).exists());
        // Garbage reads as nothing, not an error.
        std::fs::write(
            d.join(RUN_FILE),
            b"{\"Pid\": 42, \"Ports\": [{\"Proto\": 7}]}",
        )
        .unwrap();
        assert!(of_run(dir, "c1", 42).is_empty());
        let _ = std::fs::remove_dir_all(&d);
        // The shared file keeps its entries' Container.
        let shared = String::from_utf8(to_json(&[Mapping {
            container: String::from("c2"),
            ..ms[0].clone()
        }]))
        .unwrap();
        assert!(
            shared.starts_with("{\n") && shared.contains("\"Container\": \"c2\""),
            "{shared}"
        );
        let v = json::parse(shared.as_bytes()).unwrap();
        let back = from_json(&v.get("Ports").unwrap().arr().unwrap()[0]).unwrap();
        assert_eq!(back.container, "c2");
    }

    /// Hostile `-p` values: refusals are one line; each mapping a value
    /// gives prints back (`IP:LO-HI:CTR/PROTO`) to itself alone.
    #[test]
    fn hostile_port_specs() {
        let corpus: &[&[u8]] = &[
            b"8080:80",
            b"127.0.0.1:53:53/udp",
            b"0.0.0.0::443/tcp",
            b"8000-8010:80",
            b"9000-9002:7000-7002/udp",
            b"10.0.0.1:5000-5001:6000-6001",
            b"3000-3003",
            b"80",
        ];
        let dict: &[&[u8]] = &[
            b":", b"-", b"/udp", b"/tcp", b"/sctp", b"65535", b"65536", b"0", b"[::1]", b"::",
        ];
        crate::rt::fuzz::run(
            "port specs",
            corpus,
            dict,
            std::time::Duration::from_secs(60),
            |b| {
                let s = String::from_utf8_lossy(b);
                let specs = parse_port(&s).map_err(|e| format!("{e}"))?;
                assert!(!specs.is_empty(), "{s}: no mapping");
                for p in &specs {
                    assert!(p.ctr_port > 0 && p.host_lo <= p.host_hi, "{s}: {p:?}");
                    let host = match p.host_lo {
                        0 => String::new(),
                        lo if lo == p.host_hi => format!("{lo}"),
                        lo => format!("{lo}-{}", p.host_hi),
                    };
                    let again = format!(
                        "{}:{host}:{}/{}",
                        fmt_ip(p.host_ip),
                        p.ctr_port,
                        p.proto.as_str()
                    );
                    let back = parse_port(&again).map_err(|e| format!("{e}"))?;
                    assert_eq!(back, [*p], "{s}: {again} reads otherwise");
                }
                Ok(())
            },
        );
    }
}
