use super::*;
use crate::net::ports::{self, EPHEMERAL, Mapping, PortSpec, Proto, parse_port};
use std::collections::HashSet;

/// A pocket root in a temp dir of its own (locks in its run/), removed
/// when dropped.
struct Tmp(String, String);

impl Tmp {
    fn new(tag: &str) -> Tmp {
        let d = std::env::temp_dir().join(format!(
            "pocket-nets-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        let s = d.to_str().unwrap().to_string();
        Tmp(s.clone(), format!("{s}/run"))
    }
    fn nets(&self) -> Nets {
        Nets::lock(&self.0, &self.1).unwrap()
    }
    fn files(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(format!("{}/networks", self.0))
            .map(|r| {
                r.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn ip(s: &str) -> Ip {
    parse_ip(s).unwrap()
}

fn cidr(s: &str) -> (Ip, u8) {
    parse_cidr(s).unwrap()
}

#[test]
fn addresses_parse_strictly() {
    assert_eq!(parse_ip("10.89.0.1"), Some([10, 89, 0, 1]));
    assert_eq!(parse_ip("0.0.0.0"), Some([0; 4]));
    assert_eq!(parse_ip("255.255.255.255"), Some([255; 4]));
    for bad in [
        "",
        "1.2.3",
        "1.2.3.4.5",
        "256.1.1.1",
        "1.2.3.-4",
        "01.2.3.4",
        "1..3.4",
        " 1.2.3.4",
        "1.2.3.4 ",
        "+1.2.3.4",
        "a.b.c.d",
        "1.2.3.4/24",
        "1234.1.1.1",
    ] {
        assert_eq!(parse_ip(bad), None, "{bad:?}");
    }
    assert_eq!(parse_cidr("10.0.0.0/8"), Some(([10, 0, 0, 0], 8)));
    assert_eq!(parse_cidr("0.0.0.0/0"), Some(([0; 4], 0)));
    for bad in [
        "10.0.0.0",
        "10.0.0.0/",
        "10.0.0.0/33",
        "10.0.0.0/+8",
        "10.0.0.0/008",
        "x/8",
    ] {
        assert_eq!(parse_cidr(bad), None, "{bad:?}");
    }
    assert_eq!(fmt_cidr([10, 89, 3, 0], 24), "10.89.3.0/24");
}

#[test]
fn overlap_and_containment() {
    assert!(overlaps(cidr("10.0.0.0/8"), cidr("10.89.0.0/24")));
    assert!(overlaps(cidr("10.89.0.0/24"), cidr("10.0.0.0/8")));
    assert!(!overlaps(cidr("10.89.0.0/24"), cidr("10.89.1.0/24")));
    assert!(overlaps(cidr("10.89.0.0/23"), cidr("10.89.1.0/24")));
    assert!(overlaps(cidr("0.0.0.0/0"), cidr("1.2.3.4/32")));
    assert!(contains(cidr("10.89.0.0/24"), ip("10.89.0.255")));
    assert!(!contains(cidr("10.89.0.0/24"), ip("10.89.1.0")));
    assert_eq!(mask(0), 0);
    assert_eq!(mask(32), u32::MAX);
    assert_eq!(mask(24), 0xffff_ff00);
}

#[test]
fn proc_net_route_is_read() {
    // 10.0.2.0/24 on eth0, the default route, a /32, and junk lines.
    let t =
        b"Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
eth0\t00000000\t0202000A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
eth0\t0002000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n\
docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n\
tun0\t0101A8C0\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0\n\
bad\tzz\n\
odd\t0002000A\t00000000\t0001\t0\t0\t0\t00FF00FF\t0\t0\t0\n";
    let r = parse_routes(t);
    if cfg!(target_endian = "little") {
        assert_eq!(
            r,
            vec![
                ([0; 4], 0),
                ([10, 0, 2, 0], 24),
                ([172, 17, 0, 0], 16),
                ([192, 168, 1, 1], 32)
            ]
        );
    }
    assert!(parse_routes(b"").is_empty());
    // This machine's own table parses without panicking.
    let _ = host_routes();
}

#[test]
fn bridge_names_fit_ifnamsiz() {
    let id = "0123456789abcdef".repeat(4);
    assert_eq!(bridge_name("bridge", &id), "pocket0");
    assert_eq!(bridge_name("web", &id), "pk-01234567");
    assert!(bridge_name("x".repeat(128).as_str(), &id).len() <= 15);
}

#[test]
fn create_picks_free_subnets_and_persists() {
    let t = Tmp::new("create");
    let n = t.nets();
    // The host routes 10.89.0.0/24 (and a default route, which is ignored).
    let routes = [([0; 4], 0), cidr("10.89.0.0/24")];
    let a = n.create("alpha", None, None, &routes, &[]).unwrap();
    assert_eq!(
        (a.subnet, a.prefix, a.gateway),
        (ip("10.89.1.0"), 24, ip("10.89.1.1"))
    );
    assert_eq!(a.id.len(), 64);
    assert!(a.id.bytes().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(a.bridge, format!("pk-{}", &a.id[..8]));
    let b = n.create("beta", None, None, &routes, &[]).unwrap();
    assert_eq!(b.cidr(), "10.89.2.0/24");
    let d = n.default_network(&routes).unwrap();
    assert_eq!(
        (d.name.as_str(), d.bridge.as_str(), d.cidr()),
        ("bridge", "pocket0", "10.88.0.0/16".into())
    );
    // Made once: the second call finds it.
    assert_eq!(n.default_network(&routes).unwrap(), d);
    assert_eq!(get(&t.0, "alpha").unwrap(), a);
    let names: Vec<String> = list(&t.0).unwrap().into_iter().map(|n| n.name).collect();
    assert_eq!(names, ["alpha", "beta", "bridge"]);
    assert_eq!(t.files(), ["alpha.json", "beta.json", "bridge.json"]);
    // By id and id prefix too.
    assert_eq!(resolve(&t.0, &a.id).unwrap().name, "alpha");
    assert_eq!(resolve(&t.0, &a.id[..10]).unwrap().name, "alpha");
    assert_eq!(resolve(&t.0, "nope").unwrap_err().code, 1);
    assert_eq!(get(&t.0, "../x").unwrap_err().code, 1);
}

#[test]
fn default_avoids_routes_and_docker() {
    let t = Tmp::new("default");
    let n = t.nets();
    // 10.0.0.0/8 routed by the host: nothing in 10.88-10.99 is free.
    let e = n.default_network(&[cidr("10.0.0.0/8")]).unwrap_err();
    assert!(e.to_string().contains("no free subnet"), "{e}");
    assert!(t.files().is_empty());
    let d = n
        .default_network(&[cidr("10.88.0.0/16"), cidr("10.89.0.0/24")])
        .unwrap();
    assert_eq!(d.cidr(), "10.89.1.0/24");
    assert!(candidates(true).all(|c| !overlaps(c, DOCKER)));
}

#[test]
fn create_refuses_clashes_and_bad_input_writing_nothing() {
    let t = Tmp::new("refuse");
    let n = t.nets();
    n.create("one", Some(cidr("10.50.0.0/16")), None, &[], &[])
        .unwrap();
    let before = t.files();
    let cases: &[(&str, Option<(Ip, u8)>, Option<Ip>, &[(Ip, u8)], &str)] = &[
        (
            "two",
            Some(cidr("10.50.3.0/24")),
            None,
            &[],
            "overlaps network one (10.50.0.0/16)",
        ),
        (
            "two",
            Some(cidr("10.0.0.0/8")),
            None,
            &[],
            "overlaps network one",
        ),
        (
            "two",
            Some(cidr("192.168.5.0/24")),
            None,
            &[cidr("192.168.0.0/16")],
            "overlaps the host's route to 192.168.0.0/16",
        ),
        (
            "two",
            Some(cidr("10.60.0.1/24")),
            None,
            &[],
            "host bits are set; the network is 10.60.0.0/24",
        ),
        ("two", Some(cidr("10.60.0.0/31")), None, &[], "/30 at most"),
        ("two", Some(cidr("127.1.0.0/16")), None, &[], "reserved"),
        ("two", Some(cidr("224.0.0.0/24")), None, &[], "reserved"),
        ("two", Some(cidr("0.0.0.0/0")), None, &[], "reserved"),
        (
            "two",
            Some(cidr("10.60.0.0/24")),
            Some(ip("10.61.0.1")),
            &[],
            "not a host address of subnet 10.60.0.0/24",
        ),
        (
            "two",
            Some(cidr("10.60.0.0/24")),
            Some(ip("10.60.0.0")),
            &[],
            "not a host address",
        ),
        (
            "two",
            Some(cidr("10.60.0.0/24")),
            Some(ip("10.60.0.255")),
            &[],
            "not a host address",
        ),
        ("two", None, Some(ip("10.60.0.1")), &[], "needs --subnet"),
        (
            "one",
            Some(cidr("10.70.0.0/24")),
            None,
            &[],
            "already exists",
        ),
        ("x", None, None, &[], "only [a-zA-Z0-9]"),
        ("../evil", None, None, &[], "only [a-zA-Z0-9]"),
        ("host", None, None, &[], "predefined"),
        ("none", None, None, &[], "predefined"),
    ];
    for (name, sub, gw, routes, want) in cases {
        let e = n.create(name, *sub, *gw, routes, &[]).unwrap_err();
        let m = e.to_string();
        assert!(m.contains(want), "{name} {sub:?}: {m}");
        assert!(!m.contains('\n'));
        assert_eq!(e.code, 125, "{m}");
        assert_eq!(t.files(), before, "{m}");
    }
    // A given gateway anywhere in the subnet is kept.
    let g = n
        .create(
            "gw",
            Some(cidr("10.60.0.0/24")),
            Some(ip("10.60.0.254")),
            &[],
            &[],
        )
        .unwrap();
    assert_eq!(g.gateway, ip("10.60.0.254"));
    // /30: one gateway, one container.
    let s = n
        .create("tiny", Some(cidr("10.61.0.0/30")), None, &[], &[])
        .unwrap();
    assert_eq!(
        n.allocate("tiny", "c1", None, |_| false).unwrap(),
        ip("10.61.0.2")
    );
    let e = n.allocate("tiny", "c2", None, |_| false).unwrap_err();
    assert!(e.to_string().contains("no free address"), "{e}");
    assert_eq!(s.broadcast(), ip("10.61.0.3"));
}

#[test]
fn allocate_skips_reserved_and_honours_want() {
    let t = Tmp::new("alloc");
    let n = t.nets();
    n.create(
        "net",
        Some(cidr("10.70.0.0/29")),
        Some(ip("10.70.0.3")),
        &[],
        &[],
    )
    .unwrap();
    // .0 network, .3 gateway, .7 broadcast: .1 .2 .4 .5 .6 usable.
    let got: Vec<Ip> = ["a", "b", "c"]
        .iter()
        .map(|c| n.allocate("net", c, None, |_| false).unwrap())
        .collect();
    assert_eq!(got, [ip("10.70.0.1"), ip("10.70.0.2"), ip("10.70.0.4")]);
    // Idempotent for a container that has one.
    assert_eq!(
        n.allocate("net", "b", None, |_| false).unwrap(),
        ip("10.70.0.2")
    );
    assert_eq!(
        n.allocate("net", "d", Some(ip("10.70.0.6")), |_| false)
            .unwrap(),
        ip("10.70.0.6")
    );
    for (w, why) in [
        ("10.70.0.6", "already in use by container d"),
        ("10.70.0.1", "already in use by container a"),
        ("10.70.0.3", "not a free host address"),
        ("10.70.0.0", "not a free host address"),
        ("10.70.0.7", "not a free host address"),
        ("10.71.0.5", "not a free host address"),
    ] {
        let e = n.allocate("net", "e", Some(ip(w)), |_| false).unwrap_err();
        assert!(e.to_string().contains(why), "{w}: {e}");
    }
    assert_eq!(
        n.allocate("net", "e", None, |_| false).unwrap(),
        ip("10.70.0.5")
    );
    assert!(n.allocate("net", "f", None, |_| false).is_err());
    assert_eq!(
        n.allocate("nope", "f", None, |_| false).unwrap_err().code,
        1
    );
    // Allocations are in the file, so inspect shows them.
    let raw = std::fs::read_to_string(format!("{}/networks/net.json", t.0)).unwrap();
    assert!(
        raw.contains("\"Containers\": {\n    \"a\": \"10.70.0.1\""),
        "{raw}"
    );
    // Released addresses come back.
    n.release("b").unwrap();
    assert_eq!(get(&t.0, "net").unwrap().ip_of("b"), None);
    assert_eq!(
        n.allocate("net", "g", None, |_| false).unwrap(),
        ip("10.70.0.2")
    );
    assert_eq!(endpoints(&t.0, "g").unwrap()[0].1, ip("10.70.0.2"));
    // An address whose last veth lingers (its namespace not torn down
    // yet) is passed over for the next free one; with every free one
    // lingering, the lowest is taken all the same. `want` is never
    // passed over.
    n.release("g").unwrap();
    n.release("e").unwrap();
    let mut asked = Vec::new();
    let got = n.allocate("net", "h", None, |a| {
        asked.push(a);
        a == ip("10.70.0.2")
    });
    assert_eq!(got.unwrap(), ip("10.70.0.5"));
    assert_eq!(asked, [ip("10.70.0.2"), ip("10.70.0.5")]);
    n.release("h").unwrap();
    assert_eq!(
        n.allocate("net", "h", None, |_| true).unwrap(),
        ip("10.70.0.2")
    );
    n.release("h").unwrap();
    assert_eq!(
        n.allocate("net", "h", Some(ip("10.70.0.2")), |_| true)
            .unwrap(),
        ip("10.70.0.2")
    );
}

#[test]
fn twenty_threads_get_twenty_addresses() {
    let t = Tmp::new("threads");
    t.nets()
        .create("par", Some(cidr("10.80.0.0/24")), None, &[], &[])
        .unwrap();
    let (root, run) = (&t.0, &t.1);
    let got: Vec<Ip> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..20)
            .map(|i| {
                s.spawn(move || {
                    Nets::lock(root, run)
                        .unwrap()
                        .allocate("par", &format!("c{i}"), None, |_| false)
                        .unwrap()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let set: HashSet<Ip> = got.iter().copied().collect();
    assert_eq!(set.len(), 20, "{got:?}");
    let n = get(&t.0, "par").unwrap();
    assert_eq!(n.containers.len(), 20);
    for a in &got {
        let last = a[3];
        assert!((2..=21).contains(&last), "{a:?}");
    }
}

#[test]
fn remove_refuses_attached_and_gc_frees() {
    let t = Tmp::new("rm");
    let n = t.nets();
    n.create("net", Some(cidr("10.71.0.0/24")), None, &[], &[])
        .unwrap();
    let ipa = n.allocate("net", "alive", None, |_| false).unwrap();
    n.allocate("net", "dead", None, |_| false).unwrap();
    n.publish("alive", ipa, &parse_port("8080:80").unwrap())
        .unwrap();
    let live = |c: &str| c == "alive";
    let mut torn = false;
    let e = n.remove("net", live, |_| {
        torn = true;
        Ok(())
    });
    let e = e.unwrap_err();
    assert_eq!(e.code, 1);
    assert!(e.to_string().contains("active endpoints: [alive]"), "{e}");
    assert!(!torn);
    // A teardown that fails keeps the record.
    let e = n
        .remove("net", |_| false, |_| Err(Error::bad("t", "", "no")))
        .unwrap_err();
    assert_eq!(e.to_string(), "t: no");
    assert!(get(&t.0, "net").is_ok());
    // After a SIGKILL: gc drops what the dead held.
    n.allocate("net", "dead2", None, |_| false).unwrap();
    n.gc(live).unwrap();
    let left: Vec<String> = get(&t.0, "net")
        .unwrap()
        .containers
        .into_iter()
        .map(|c| c.0)
        .collect();
    assert_eq!(left, ["alive"]);
    assert_eq!(ports::of(&t.0, "alive").unwrap().len(), 1);
    n.release("alive").unwrap();
    assert!(ports::all(&t.0).unwrap().is_empty());
    let mut seen = String::new();
    let r = n.remove(
        "net",
        |_| true,
        |net| {
            seen = net.bridge.clone();
            Ok(())
        },
    );
    assert_eq!(r.unwrap().name, "net");
    assert!(seen.starts_with("pk-"));
    assert_eq!(get(&t.0, "net").unwrap_err().code, 1);
    assert_eq!(t.files(), ["_ports.json"]);
    assert_eq!(n.remove("net", |_| false, |_| Ok(())).unwrap_err().code, 1);
}

fn spec(host_ip: &str, lo: u16, hi: u16, ctr: u16, proto: Proto) -> PortSpec {
    PortSpec {
        host_ip: ip(host_ip),
        host_lo: lo,
        host_hi: hi,
        ctr_port: ctr,
        proto,
    }
}

#[test]
fn port_specs_as_docker() {
    use Proto::*;
    let z = "0.0.0.0";
    let ok: &[(&str, Vec<PortSpec>)] = &[
        ("80", vec![spec(z, 0, 0, 80, Tcp)]),
        ("80/udp", vec![spec(z, 0, 0, 80, Udp)]),
        ("8080:80", vec![spec(z, 8080, 8080, 80, Tcp)]),
        ("0:80", vec![spec(z, 0, 0, 80, Tcp)]),
        ("8080:80/tcp", vec![spec(z, 8080, 8080, 80, Tcp)]),
        (
            "127.0.0.1:8080:80/udp",
            vec![spec("127.0.0.1", 8080, 8080, 80, Udp)],
        ),
        ("127.0.0.1::80", vec![spec("127.0.0.1", 0, 0, 80, Tcp)]),
        ("0.0.0.0:1:65535", vec![spec(z, 1, 1, 65535, Tcp)]),
        (
            "8000-8001:80-81",
            vec![spec(z, 8000, 8000, 80, Tcp), spec(z, 8001, 8001, 81, Tcp)],
        ),
        (
            "80-81",
            vec![spec(z, 0, 0, 80, Tcp), spec(z, 0, 0, 81, Tcp)],
        ),
        ("8000-8010:80", vec![spec(z, 8000, 8010, 80, Tcp)]),
        (":80", vec![spec(z, 0, 0, 80, Tcp)]),
    ];
    for (s, want) in ok {
        assert_eq!(&parse_port(s).unwrap(), want, "{s}");
    }
    let bad: &[(&str, &str)] = &[
        ("", "1-65535"),
        ("0", "1-65535"),
        ("65536", "1-65535"),
        ("80:0", "1-65535"),
        ("+80", "1-65535"),
        ("-80", "1-65535"),
        ("8o", "1-65535"),
        ("80/", "tcp or udp"),
        ("80/icmp", "tcp or udp"),
        ("80/TCP", "tcp or udp"),
        ("80/sctp", "sctp"),
        ("81-80", "low to high"),
        ("0-5:80", "low to high"),
        ("8000-8002:80-81", "differ in length"),
        ("1.2.3:80:80", "IPv4"),
        ("localhost:80:80", "IPv4"),
        ("[::1]:80:80", "IPv6"),
        ("::1:80:80", "IPv6"),
        ("1.2.3.4:80", "1-65535"),
        ("80:80:80:80", "IPv6"),
        ("99999999999:80", "1-65535"),
    ];
    for (s, why) in bad {
        let e = parse_port(s).unwrap_err();
        assert!(e.to_string().contains(why), "{s:?}: {e}");
        assert_eq!(e.code, 125);
        assert!(e.to_string().starts_with("invalid port mapping"), "{e}");
    }
}

#[test]
fn publish_refuses_taken_ports_and_picks_free_ones() {
    let t = Tmp::new("publish");
    let n = t.nets();
    let (a, b) = (ip("10.72.0.2"), ip("10.72.0.3"));
    let m = n.publish("ca", a, &parse_port("8080:80").unwrap()).unwrap();
    assert_eq!(
        m,
        [Mapping {
            container: "ca".into(),
            proto: Proto::Tcp,
            host_ip: [0; 4],
            host_port: 8080,
            ctr_ip: a,
            ctr_port: 80
        }]
    );
    for s in ["8080:81", "127.0.0.1:8080:80", "0.0.0.0:8080:80/tcp"] {
        let e = n.publish("cb", b, &parse_port(s).unwrap()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "publish 0.0.0.0:8080/tcp: port is already allocated by container ca".replace(
                "0.0.0.0",
                if s.starts_with("127") {
                    "127.0.0.1"
                } else {
                    "0.0.0.0"
                }
            ),
            "{s}"
        );
    }
    // Nothing of cb was kept.
    assert!(ports::of(&t.0, "cb").unwrap().is_empty());
    // Another protocol, or the same port twice in one request.
    n.publish("cb", b, &parse_port("8080:80/udp").unwrap())
        .unwrap();
    let mut two = parse_port("9000:1").unwrap();
    two.extend(parse_port("9000:2").unwrap());
    assert!(n.publish("cc", b, &two).is_err());
    // Two host addresses apart do not collide.
    n.publish("cc", b, &parse_port("127.0.0.1:9001:1").unwrap())
        .unwrap();
    n.publish("cd", b, &parse_port("127.0.0.2:9001:1").unwrap())
        .unwrap();
    // Random ports: from the ephemeral range, distinct, not the taken ones.
    let many: Vec<PortSpec> = (1..=50)
        .flat_map(|p| parse_port(&p.to_string()).unwrap())
        .collect();
    let got = n.publish("ce", b, &many).unwrap();
    let hp: HashSet<u16> = got.iter().map(|m| m.host_port).collect();
    assert_eq!(hp.len(), 50);
    assert!(hp.iter().all(|p| (EPHEMERAL.0..=EPHEMERAL.1).contains(p)));
    // A host range of three with two taken leaves one.
    n.publish("cf", b, &parse_port("7000:1").unwrap()).unwrap();
    n.publish("cg", b, &parse_port("7002:1").unwrap()).unwrap();
    let r = n
        .publish("ch", b, &parse_port("7000-7002:5").unwrap())
        .unwrap();
    assert_eq!(r[0].host_port, 7001);
    assert!(
        n.publish("ci", b, &parse_port("7000-7002:5").unwrap())
            .is_err()
    );
    // Publishing again replaces: the same fixed port is fine for its owner.
    n.publish("ca", a, &parse_port("8080:80").unwrap()).unwrap();
    assert_eq!(ports::of(&t.0, "ca").unwrap().len(), 1);
    let (nets, maps) = n.ruleset().unwrap();
    assert!(nets.is_empty());
    assert_eq!(maps.len(), 1 + 1 + 1 + 1 + 50 + 1 + 1 + 1);
}

#[test]
fn damaged_files_are_skipped_not_fatal() {
    let t = Tmp::new("damaged");
    let n = t.nets();
    n.create("good", None, None, &[], &[]).unwrap();
    std::fs::write(format!("{}/networks/bad.json", t.0), "{not json").unwrap();
    std::fs::write(
        format!("{}/networks/worse.json", t.0),
        r#"{"Name":"worse","Subnet":"10.1.0.0/16","Gateway":"10.2.0.1","Bridge":"x","Id":"y"}"#,
    )
    .unwrap();
    let names: Vec<String> = list(&t.0).unwrap().into_iter().map(|n| n.name).collect();
    assert_eq!(names, ["good"]);
    assert!(get(&t.0, "bad").is_err());
    std::fs::write(format!("{}/networks/_ports.json", t.0), "[").unwrap();
    assert!(ports::all(&t.0).is_err());
}

/// Mutated /proc/net/route text: only contiguous masks come out, each
/// address inside its prefix, at most one route a line.
#[test]
fn hostile_proc_net_route() {
    let corpus: &[&[u8]] = &[
        b"Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
eth0\t00000000\t0202000A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
eth0\t0002000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n",
        b"Iface\tDestination\tGateway\n\
docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n\
tun0\t0101A8C0\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0\n",
    ];
    let dict: &[&[u8]] = &[
        b"\t",
        b"00000000",
        b"FFFFFFFF",
        b"00FF00FF",
        b"+0000000",
        b"fffffff0",
    ];
    crate::rt::fuzz::run(
        "/proc/net/route",
        corpus,
        dict,
        std::time::Duration::from_secs(60),
        |b| {
            let r = parse_routes(b);
            assert!(r.len() <= b.split(|&c| c == b'\n').count());
            for (ip, prefix) in r {
                assert!(prefix <= 32);
                assert_eq!(ip_u32(ip) & !mask(prefix), 0, "{ip:?}/{prefix}");
            }
            Ok(())
        },
    );
}
