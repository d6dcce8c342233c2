//! Tests of link.rs: messages byte for byte (little-endian), parsers on
//! canned and broken replies, and the real thing in network namespaces of
//! the test's own.

use super::*;
use crate::net::nl::tests::{in_new_netns, netns_ino};
use std::time::{Duration, Instant};

/// nlmsghdr with seq and pid 0, as a message is before it is sent.
fn hdr(len: u8, ty: u8, flags: u16) -> Vec<u8> {
    let f = flags.to_le_bytes();
    vec![len, 0, 0, 0, ty, 0, f[0], f[1], 0, 0, 0, 0, 0, 0, 0, 0]
}

const CREATE_EXCL: u16 = 0x400 | 0x200;

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

#[test]
fn newlink_bridge_bytes() {
    let want = cat(&[
        &hdr(56, 16, CREATE_EXCL),                                // RTM_NEWLINK
        &[0; 16],                                                 // ifinfomsg: AF_UNSPEC, no index
        &[8, 0, 3, 0, b'b', b'r', b'0', 0],                       // IFLA_IFNAME
        &[16, 0, 18, 0x80],                                       // IFLA_LINKINFO, nested
        &[11, 0, 1, 0, b'b', b'r', b'i', b'd', b'g', b'e', 0, 0], // IFLA_INFO_KIND
    ]);
    assert_eq!(bridge_msg("br0").bytes(), &want[..]);
}

#[test]
fn newlink_veth_with_peer_in_netns_bytes() {
    let want = cat(&[
        &hdr(100, 16, CREATE_EXCL),
        &[0; 16],
        &[8, 0, 3, 0, b'v', b'h', b'0', 0],
        &[60, 0, 18, 0x80], // IFLA_LINKINFO
        &[9, 0, 1, 0, b'v', b'e', b't', b'h', 0, 0, 0, 0],
        &[44, 0, 2, 0x80], // IFLA_INFO_DATA
        &[40, 0, 1, 0x80], // VETH_INFO_PEER: ifinfomsg + attributes
        &[0; 16],
        &[9, 0, 3, 0, b'e', b't', b'h', b'0', 0, 0, 0, 0],
        &[8, 0, 28, 0, 7, 0, 0, 0], // IFLA_NET_NS_FD 7
    ]);
    assert_eq!(veth_msg("vh0", "eth0", 7).bytes(), &want[..]);
}

#[test]
fn unplug_and_rename_bytes() {
    let ifi = |index: u8, change: u8| -> Vec<u8> {
        let mut b = vec![0u8; 16];
        b[4] = index;
        b[12] = change;
        b
    };
    let want = cat(&[
        &hdr(40, 16, 0),
        &ifi(9, 1),                 // index 9, IFF_UP changed to off
        &[8, 0, 10, 0, 0, 0, 0, 0], // IFLA_MASTER 0: off its bridge
    ]);
    assert_eq!(unplug_msg(9).bytes(), &want[..]);
    let want = cat(&[
        &hdr(44, 16, 0),
        &ifi(9, 0),
        &[10, 0, 3, 0, b'p', b'k', b'x', b'9', b'9', 0, 0, 0], // IFLA_IFNAME
    ]);
    assert_eq!(rename_msg(9, "pkx99").bytes(), &want[..]);
}

#[test]
fn newlink_master_up_and_dellink_bytes() {
    let want = cat(&[
        &hdr(48, 16, 0),
        &[0; 16],
        &[8, 0, 3, 0, b'v', b'h', b'0', 0],
        &[8, 0, 10, 0, 3, 0, 0, 0], // IFLA_MASTER 3
    ]);
    assert_eq!(master_msg("vh0", 3).bytes(), &want[..]);

    let want = cat(&[
        &hdr(44, 16, 0),
        &[0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0], // flags, change: IFF_UP
        &[9, 0, 3, 0, b'e', b't', b'h', b'0', 0, 0, 0, 0],
    ]);
    assert_eq!(up_msg("eth0").bytes(), &want[..]);

    let want = cat(&[
        &hdr(40, 17, 0),
        &[0; 16],
        &[8, 0, 3, 0, b'v', b'h', b'0', 0],
    ]);
    assert_eq!(delete_msg("vh0").bytes(), &want[..]);

    let want = cat(&[
        &hdr(40, 18, 0),
        &[0; 16],
        &[8, 0, 3, 0, b'v', b'h', b'0', 0],
    ]);
    assert_eq!(getlink_msg("vh0").bytes(), &want[..]);
}

#[test]
fn newaddr_bytes() {
    let want = cat(&[
        &hdr(40, 20, CREATE_EXCL),   // RTM_NEWADDR
        &[2, 16, 0, 0, 5, 0, 0, 0],  // AF_INET, /16, scope universe, index 5
        &[8, 0, 2, 0, 10, 88, 0, 1], // IFA_LOCAL
        &[8, 0, 1, 0, 10, 88, 0, 1], // IFA_ADDRESS
    ]);
    assert_eq!(addr_msg(5, [10, 88, 0, 1], 16).bytes(), &want[..]);
}

#[test]
fn newroute_and_getroute_bytes() {
    let want = cat(&[
        &hdr(36, 24, CREATE_EXCL), // RTM_NEWROUTE
        // AF_INET, dst_len 0, src_len 0, tos 0, main table, RTPROT_BOOT,
        // scope universe, RTN_UNICAST, flags 0
        &[2, 0, 0, 0, 254, 3, 0, 1, 0, 0, 0, 0],
        &[8, 0, 5, 0, 10, 88, 0, 1], // RTA_GATEWAY
    ]);
    assert_eq!(default_route_msg([10, 88, 0, 1]).bytes(), &want[..]);

    let want = cat(&[&hdr(28, 26, 0), &[2, 0, 0, 0, 254, 0, 0, 0, 0, 0, 0, 0]]);
    assert_eq!(getroute_msg().bytes(), &want[..]);
}

#[test]
fn interface_names() {
    for ok in ["eth0", "a", "pocket0", "veth1234567890a", "br-x_y.z"] {
        check_name(ok).unwrap();
    }
    for bad in [
        "",
        ".",
        "..",
        "a/b",
        "a b",
        "a\tb",
        "a\nb",
        "eth0:1",
        "a\0b",
        "veth1234567890ab",
    ] {
        let e = check_name(bad).unwrap_err();
        assert!(e.to_string().starts_with("interface name"), "{e}");
    }
    assert_eq!(
        check_name("x y").unwrap_err().to_string(),
        "interface name x y: not an interface name (1 to 15 bytes without '/', ':' or whitespace)"
    );
}

/// An RTM_NEWROUTE payload as the kernel dumps it.
fn route(family: u8, dst_len: u8, table: u8, attrs: &[&[u8]]) -> Vec<u8> {
    let mut p = vec![family, dst_len, 0, 0, table, 2, 253, 1, 0, 0, 0, 0];
    for a in attrs {
        p.extend_from_slice(a);
    }
    p
}

#[test]
fn routes_from_canned_dumps() {
    let dst = [8, 0, 1, 0, 192, 168, 5, 0];
    let oif = [8, 0, 4, 0, 2, 0, 0, 0];
    assert_eq!(
        parse_route_v4(&route(2, 24, 254, &[&oif, &dst])),
        Some(([192, 168, 5, 0], 24))
    );
    // Default route, local table, IPv6, table > 255 in RTA_TABLE.
    assert_eq!(parse_route_v4(&route(2, 0, 254, &[&oif])), None);
    assert_eq!(parse_route_v4(&route(2, 24, 255, &[&dst])), None);
    assert_eq!(parse_route_v4(&route(10, 24, 254, &[&dst])), None);
    let t1000 = [8, 0, 15, 0, 0xe8, 0x03, 0, 0];
    assert_eq!(parse_route_v4(&route(2, 24, 252, &[&t1000, &dst])), None);
    let t254 = [8, 0, 15, 0, 254, 0, 0, 0];
    assert_eq!(
        parse_route_v4(&route(2, 24, 252, &[&t254, &dst])),
        Some(([192, 168, 5, 0], 24))
    );
    // Broken: no RTA_DST, short RTA_DST, prefix over 32, truncated header,
    // attribute running past the end.
    assert_eq!(parse_route_v4(&route(2, 24, 254, &[&oif])), None);
    assert_eq!(
        parse_route_v4(&route(2, 24, 254, &[&[7, 0, 1, 0, 1, 2, 3, 0]])),
        None
    );
    assert_eq!(parse_route_v4(&route(2, 33, 254, &[&dst])), None);
    assert_eq!(parse_route_v4(&[2, 24, 0]), None);
    assert_eq!(
        parse_route_v4(&route(2, 24, 254, &[&[40, 0, 1, 0, 1, 2, 3, 4]])),
        None
    );
}

#[test]
fn link_replies_from_canned_dumps() {
    let mut p = vec![0, 0, 1, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    p.extend_from_slice(&[8, 0, 3, 0, b'v', b'h', b'0', 0]);
    p.extend_from_slice(&[8, 0, 10, 0, 3, 0, 0, 0]);
    p.extend_from_slice(&[16, 0, 18, 0]); // LINKINFO without the nested flag
    p.extend_from_slice(&[9, 0, 1, 0, b'v', b'e', b't', b'h', 0, 0, 0, 0]);
    assert_eq!(parse_index(&p), Some(7));
    assert_eq!(parse_master(&p), Some(3));
    assert_eq!(parse_kind(&p), Some("veth"));
    assert_eq!(parse_index(&p[..6]), None);
    assert_eq!(parse_kind(&p[..30]), None);
    assert_eq!(parse_master(&p[..10]), None);
    assert_eq!(parse_index(&[0; 16]), None, "index 0 is no link");
}

fn proc_net(file: &str) -> String {
    std::fs::read_to_string(format!("/proc/thread-self/net/{file}")).unwrap()
}

fn dev_names() -> Vec<String> {
    proc_net("dev")
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(|n| n.trim().to_string())
        .collect()
}

/// sysfs as the calling thread's netns sees it: mounted in a private mount
/// namespace of this thread (the host's /sys shows the host's links).
struct Sysfs(std::path::PathBuf);

impl Sysfs {
    fn mount() -> Sysfs {
        crate::sys::proc::unshare(libc::CLONE_NEWNS).expect("unshare(CLONE_NEWNS)");
        // SAFETY: plain C strings; only this thread's new mount namespace changes.
        let r = unsafe {
            libc::mount(
                std::ptr::null(),
                c"/".as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            )
        };
        assert_eq!(r, 0, "make / private in the test's mount namespace");
        let dir = std::env::temp_dir().join(format!(
            "pocket-linktest-{}-{}",
            std::process::id(),
            netns_ino()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let c = std::ffi::CString::new(dir.to_str().unwrap()).unwrap();
        // SAFETY: as above.
        let r = unsafe {
            libc::mount(
                c"sysfs".as_ptr(),
                c.as_ptr(),
                c"sysfs".as_ptr(),
                0,
                std::ptr::null(),
            )
        };
        assert_eq!(r, 0, "mount sysfs");
        Sysfs(dir)
    }
    fn net(&self, rel: &str) -> std::path::PathBuf {
        self.0.join("class/net").join(rel)
    }
}

impl Drop for Sysfs {
    fn drop(&mut self) {
        let c = std::ffi::CString::new(self.0.to_str().unwrap()).unwrap();
        // SAFETY: a C string; the mount is this thread's own.
        unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// A second network namespace, made by a thread that unshares and hands
/// back a handle to it.
fn other_netns() -> Fd {
    std::thread::spawn(|| {
        crate::sys::proc::unshare(libc::CLONE_NEWNET).unwrap();
        fd::open(c"/proc/thread-self/ns/net", libc::O_RDONLY, 0).unwrap()
    })
    .join()
    .unwrap()
}

fn fd_ino(f: &Fd) -> u64 {
    crate::sys::fd::fstatat(f.raw(), c"", libc::AT_EMPTY_PATH)
        .unwrap()
        .st_ino
}

/// Send UDP datagrams from `send` (a socket in the peer netns) to `to`
/// until `recv` (here) gets one: links, addresses and routes really carry
/// traffic.
fn udp_reaches(
    send: &std::net::UdpSocket,
    recv: &std::net::UdpSocket,
    to: std::net::SocketAddr,
) -> bool {
    recv.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let t = Instant::now();
    let mut b = [0u8; 16];
    while t.elapsed() < Duration::from_secs(10) {
        let _ = send.send_to(b"ping", to);
        if let Ok((n, _)) = recv.recv_from(&mut b) {
            return &b[..n] == b"ping";
        }
    }
    false
}

#[test]
fn bridge_veth_addresses_routes_for_real() {
    in_new_netns(|| {
        let sys = Sysfs::mount();
        let here = netns_ino();
        let peer_ns = other_netns();
        let peer_ino = fd_ino(&peer_ns);
        assert_ne!(peer_ino, here);
        let mut s = nl::Sock::open(nl::NETLINK_ROUTE).unwrap();

        create_bridge(&mut s, "ptbr0").unwrap();
        create_bridge(&mut s, "ptbr0").unwrap(); // already there: fine
        create_veth(&mut s, "ptv0", "eth0", peer_ns.raw()).unwrap();
        let e = create_veth(&mut s, "ptv0", "eth1", peer_ns.raw()).unwrap_err();
        assert_eq!(e.to_string(), "create veth ptv0: File exists");
        // A veth under the bridge's name is not a bridge.
        let e = create_bridge(&mut s, "ptv0").unwrap_err();
        assert_eq!(
            e.to_string(),
            "create bridge ptv0: exists and is not a bridge"
        );
        set_master(&mut s, "ptv0", "ptbr0").unwrap();
        for l in ["lo", "ptbr0", "ptv0"] {
            set_up(&mut s, l).unwrap();
        }
        add_addr(&mut s, "ptbr0", [10, 99, 0, 1], 24).unwrap();
        add_addr(&mut s, "ptbr0", [10, 99, 0, 1], 24).unwrap(); // EEXIST: fine
        add_addr(&mut s, "lo", [10, 77, 0, 1], 32).unwrap();

        // Read back: netlink, /proc (this thread's netns) and sysfs.
        let br = index(&mut s, "ptbr0").unwrap().unwrap();
        assert_eq!(index(&mut s, "eth0").unwrap(), None, "the peer is not here");
        assert_eq!(index(&mut s, "nosuch0").unwrap(), None);
        let mut names = dev_names();
        names.sort();
        assert_eq!(names, ["lo", "ptbr0", "ptv0"]);
        let v = get_link(&mut s, "ptv0").unwrap().unwrap();
        assert_eq!(parse_master(&v), Some(br));
        assert_eq!(parse_kind(&v), Some("veth"));
        assert!(sys.net("ptbr0/bridge").is_dir());
        assert!(sys.net("ptbr0/brif/ptv0").exists());
        let ifindex = std::fs::read_to_string(sys.net("ptbr0/ifindex")).unwrap();
        assert_eq!(ifindex.trim(), br.to_string());
        assert!(routes_v4(&mut s).unwrap().contains(&([10, 99, 0, 0], 24)));
        assert!(
            proc_net("route")
                .lines()
                .any(|l| l.starts_with("ptbr0\t0000630A\t"))
        );
        assert!(proc_net("fib_trie").contains("10.99.0.1"));

        // The other end, from inside its netns; the socket made there
        // stays there after in_netns returns.
        let mut p = in_netns(&peer_ns, || {
            assert_eq!(netns_ino(), peer_ino);
            let mut p = nl::Sock::open(nl::NETLINK_ROUTE)?;
            assert!(index(&mut p, "eth0")?.is_some());
            assert!(dev_names().contains(&"eth0".to_string()));
            set_up(&mut p, "lo")?;
            set_up(&mut p, "eth0")?;
            add_addr(&mut p, "eth0", [10, 99, 0, 2], 24)?;
            add_default_route(&mut p, [10, 99, 0, 1])?;
            assert!(
                proc_net("route")
                    .lines()
                    .any(|l| l.starts_with("eth0\t00000000\t0100630A\t"))
            );
            // The default route is left out; the subnet's is there.
            assert_eq!(routes_v4(&mut p)?, [([10, 99, 0, 0], 24)]);
            Ok(p)
        })
        .unwrap();
        assert_eq!(netns_ino(), here, "in_netns came back");
        assert!(
            index(&mut p, "eth0").unwrap().is_some(),
            "socket still in the peer netns"
        );

        // Traffic: to the bridge address (on-link), and to 10.77.0.1 on lo
        // here, which only the default route via 10.99.0.1 reaches.
        for to in ["10.99.0.1", "10.77.0.1"] {
            let recv = std::net::UdpSocket::bind((to, 0)).unwrap();
            let dst = recv.local_addr().unwrap();
            let send = in_netns(&peer_ns, || {
                Ok(std::net::UdpSocket::bind("10.99.0.2:0").unwrap())
            })
            .unwrap();
            assert!(
                udp_reaches(&send, &recv, dst),
                "no datagram from the peer netns to {to}"
            );
        }

        // Delete: the veth takes its peer along; gone twice is fine.
        delete(&mut s, "ptv0").unwrap();
        delete(&mut s, "ptv0").unwrap();
        assert_eq!(
            index(&mut p, "eth0").unwrap(),
            None,
            "peer went with the veth"
        );
        assert!(!sys.net("ptbr0/brif/ptv0").exists());
        delete(&mut s, "ptbr0").unwrap();
        assert_eq!(dev_names(), ["lo"]);
        assert!(!sys.net("ptbr0").exists());
    });
}

/// A veth set aside: down, renamed `pkx<index>`; one whose namespace's
/// teardown took it between the lookup and the changes is as good as set
/// aside (ENODEV), not an error.
#[test]
fn retire_renames_and_a_link_gone_meanwhile_is_fine() {
    in_new_netns(|| {
        let peer_ns = other_netns();
        let mut s = nl::Sock::open(nl::NETLINK_ROUTE).unwrap();
        create_veth(&mut s, "ptv1", "eth0", peer_ns.raw()).unwrap();
        let i = index(&mut s, "ptv1").unwrap().unwrap();
        retire_if(&mut s, "ptv1", "veth").unwrap();
        assert_eq!(index(&mut s, "ptv1").unwrap(), None);
        assert_eq!(index(&mut s, &format!("pkx{i}")).unwrap(), Some(i));
        retire_if(&mut s, "ptv1", "veth").unwrap(); // gone: fine
        create_veth(&mut s, "ptv2", "eth1", peer_ns.raw()).unwrap();
        let j = index(&mut s, "ptv2").unwrap().unwrap();
        delete(&mut s, "ptv2").unwrap();
        retire(&mut s, "ptv2", j).unwrap();
        delete(&mut s, &format!("pkx{i}")).unwrap();
    });
}

#[test]
fn errors_name_the_step_and_the_link() {
    in_new_netns(|| {
        let mut s = nl::Sock::open(nl::NETLINK_ROUTE).unwrap();
        let e = set_up(&mut s, "nosuch0").unwrap_err();
        assert_eq!(e.to_string(), "set link up nosuch0: No such device");
        let e = set_master(&mut s, "lo", "nobr0").unwrap_err();
        assert_eq!(e.to_string(), "find interface nobr0: No such device");
        let e = add_addr(&mut s, "nosuch0", [10, 0, 0, 1], 8).unwrap_err();
        assert_eq!(e.to_string(), "find interface nosuch0: No such device");
        let e = add_addr(&mut s, "lo", [10, 0, 0, 1], 33).unwrap_err();
        assert_eq!(
            e.to_string(),
            "add address 10.0.0.1/33 lo: prefix length over 32"
        );
        // No route to the gateway: the kernel's own words come along.
        let e = add_default_route(&mut s, [10, 1, 2, 3]).unwrap_err();
        assert!(
            e.to_string().starts_with("add default route via 10.1.2.3"),
            "{e}"
        );
        assert_eq!(e.why, crate::error::Why::Errno(Errno::ENETUNREACH), "{e}");
        let e = create_bridge(&mut s, "bad/name").unwrap_err();
        assert!(e.to_string().starts_with("interface name bad/name"), "{e}");
        // in_netns with something that is no netns: error, and still here.
        let here = netns_ino();
        let f = fd::open(c"/proc/self/stat", libc::O_RDONLY, 0).unwrap();
        let e = in_netns(&f, || Ok(())).unwrap_err();
        assert_eq!(e.to_string(), "setns network namespace: Invalid argument");
        assert_eq!(netns_ino(), here);
        // An error from f comes out as is, after coming back.
        let ns = other_netns();
        let e = in_netns(&ns, || -> Result<()> {
            Err(Error::bad("inside", "", "no"))
        })
        .unwrap_err();
        assert_eq!(e.to_string(), "inside: no");
        assert_eq!(netns_ino(), here);
    });
}

#[test]
fn hairpin_bytes() {
    // RTM_SETLINK (19), family AF_BRIDGE (7), index 5; IFLA_PROTINFO (12)
    // nested, holding IFLA_BRPORT_MODE (4) = 1 as a u8 padded to 4.
    let mut h = [0u8; 16];
    h[0] = 7;
    h[4] = 5;
    let want = cat(&[
        &hdr(44, 19, 0),
        &h,
        &[12, 0, 12, 0x80],
        &[5, 0, 4, 0, 1, 0, 0, 0],
    ]);
    assert_eq!(hairpin_msg(5).bytes(), &want[..]);
}

/// Mutated RTM_NEWLINK and RTM_NEWROUTE payloads (as `Sock::dump`
/// returns them): the parsers never panic and what they return is sane.
#[test]
fn hostile_link_payloads() {
    let mut link = vec![0, 0, 1, 0, 7, 0, 0, 0, 0x43, 0x10, 1, 0, 0, 0, 0, 0];
    link.extend_from_slice(&[8, 0, 3, 0, b'v', b'h', b'0', 0]);
    link.extend_from_slice(&[8, 0, 10, 0, 3, 0, 0, 0]);
    link.extend_from_slice(&[28, 0, 18, 0x80]); // IFLA_LINKINFO
    link.extend_from_slice(&[11, 0, 1, 0, b'b', b'r', b'i', b'd', b'g', b'e', 0, 0]);
    link.extend_from_slice(&[12, 0, 2, 0x80, 8, 0, 1, 0, 1, 0, 0, 0]); // IFLA_INFO_DATA
    let dst = [8, 0, 1, 0, 192, 168, 5, 0];
    let oif = [8, 0, 4, 0, 2, 0, 0, 0];
    let t254 = [8, 0, 15, 0, 254, 0, 0, 0];
    let corpus: Vec<Vec<u8>> = vec![
        link,
        route(2, 24, 254, &[&oif, &dst]),
        route(2, 16, 252, &[&t254, &dst, &[8, 0, 5, 0, 10, 0, 0, 1]]),
        route(
            10,
            64,
            254,
            &[&[
                20, 0, 1, 0, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            ]],
        ),
    ];
    let corpus: Vec<&[u8]> = corpus.iter().map(|v| &v[..]).collect();
    let dict: &[&[u8]] = &[
        &[4, 0, 1, 0],
        &[8, 0, 1, 0],
        &[8, 0, 15, 0],
        &[8, 0, 10, 0],
        &[0, 0, 18, 0x80],
        &[0, 0, 0, 0],
        &[2, 32, 0, 0, 254],
    ];
    crate::rt::fuzz::run(
        "link payloads",
        &corpus,
        dict,
        Duration::from_secs(60),
        |p| {
            assert!(parse_index(p).is_none_or(|i| i > 0));
            if let Some(k) = parse_kind(p) {
                assert!(!k.contains('\0') && k.len() < p.len());
            }
            let _ = parse_master(p);
            if let Some((_, len)) = parse_route_v4(p) {
                assert!((1..=32).contains(&len), "prefix {len}");
                assert_eq!((p[0], p[1]), (2, len), "not what rtmsg says");
            }
            Ok(())
        },
    );
}
