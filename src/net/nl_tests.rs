//! Unit tests of nl.rs: encoding byte for byte, parsing of canned and
//! hostile replies, and a real socket in a network namespace of the test's
//! own (never the host's).
//!
//! Expected buffers are written out for a little-endian machine.

use super::*;
use std::os::unix::fs::MetadataExt;

/// Run `f` on a fresh thread moved into a new network namespace (netns is
/// per thread), so nothing the test does reaches the host's network.
/// None only when the user opted out of root tests.
pub(crate) fn in_new_netns<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        if std::env::var_os("POCKET_SKIP_ROOT_TESTS").is_some() {
            eprintln!("SKIPPED: needs root (POCKET_SKIP_ROOT_TESTS is set)");
            return None;
        }
        panic!(
            "netlink tests need root (a network namespace); set POCKET_SKIP_ROOT_TESTS=1 to skip them"
        );
    }
    let t = std::thread::spawn(move || {
        let host = netns_ino();
        crate::sys::proc::unshare(libc::CLONE_NEWNET).expect("unshare(CLONE_NEWNET)");
        // The guard the rest relies on: this thread is no longer in the
        // namespace it started in.
        assert_ne!(
            netns_ino(),
            host,
            "unshare left the thread in the host netns"
        );
        f()
    });
    match t.join() {
        Ok(v) => Some(v),
        Err(p) => std::panic::resume_unwind(p),
    }
}

/// Inode of the calling thread's network namespace.
pub(crate) fn netns_ino() -> u64 {
    std::fs::metadata("/proc/thread-self/ns/net").unwrap().ino()
}

#[test]
fn header_and_family_header() {
    let mut m = Msg::new(0x1234, 0x0506);
    assert_eq!(
        m.bytes(),
        &[16, 0, 0, 0, 0x34, 0x12, 0x06, 0x05, 0, 0, 0, 0, 0, 0, 0, 0]
    );
    // A 3-byte family header is padded to 4; the length follows.
    m.put_bytes(&[1, 2, 3]);
    m.set_seq(0x0a0b0c0d);
    assert_eq!(
        m.bytes(),
        &[
            20, 0, 0, 0, 0x34, 0x12, 0x06, 0x05, 0x0d, 0x0c, 0x0b, 0x0a, 0, 0, 0, 0, //
            1, 2, 3, 0
        ]
    );
    assert_eq!((m.ty(), m.flags()), (0x1234, 0x0506));
}

#[test]
fn attributes_every_kind() {
    let mut m = Msg::new(16, 0);
    m.attr(1, &[]);
    m.attr_u8(2, 0xab);
    m.attr_u16(3, 0x0102);
    m.attr_u32(4, 0x01020304);
    m.attr_be16(5, 0x0102);
    m.attr_be32(6, 0x01020304);
    m.attr_be64(7, 0x0102030405060708);
    m.attr_str(8, "abcd");
    let want: &[u8] = &[
        84, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, //
        4, 0, 1, 0, // empty
        5, 0, 2, 0, 0xab, 0, 0, 0, // u8, padded
        6, 0, 3, 0, 2, 1, 0, 0, // u16 host order, padded
        8, 0, 4, 0, 4, 3, 2, 1, // u32 host order
        6, 0, 5, 0, 1, 2, 0, 0, // be16
        8, 0, 6, 0, 1, 2, 3, 4, // be32
        12, 0, 7, 0, 1, 2, 3, 4, 5, 6, 7, 8, // be64
        9, 0, 8, 0, b'a', b'b', b'c', b'd', 0, 0, 0, 0, // string + NUL, padded
    ];
    assert_eq!(m.bytes().len(), 16 + 4 + 8 + 8 + 8 + 8 + 8 + 12 + 12);
    assert_eq!(m.bytes()[0] as usize, m.bytes().len());
    assert_eq!(&m.bytes()[..want.len()], want);
    assert_eq!(m.bytes().len(), want.len());
}

#[test]
fn nested_attributes() {
    let mut m = Msg::new(16, 0);
    let a = m.nest(1);
    m.attr_u32(2, 7);
    let b = m.nest(3);
    m.attr_str(4, "x");
    m.end(b);
    m.end(a);
    let empty = m.nest(5);
    m.end(empty);
    assert_eq!(
        m.bytes(),
        &[
            44, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, //
            24, 0, 1, 0x80, // nest 1: 4 + 8 + 12
            8, 0, 2, 0, 7, 0, 0, 0, //
            12, 0, 3, 0x80, // nest 3: 4 + 8
            6, 0, 4, 0, b'x', 0, 0, 0, //
            4, 0, 5, 0x80, // empty nest
        ][..]
    );
    // And it reads back.
    let outer: Vec<_> = attrs(&m.bytes()[HDR..]).collect();
    assert_eq!(outer.len(), 2);
    assert_eq!(outer[0].0, 1, "NLA_F_NESTED masked off");
    assert_eq!(outer[1], (5, &[][..]));
    let inner: Vec<_> = attrs(outer[0].1).collect();
    assert_eq!(inner[0], (2, &7u32.to_ne_bytes()[..]));
    assert_eq!(str_of(find(inner[1].1, 4).unwrap()), Some("x"));
}

#[test]
fn oversized_or_misused_attributes_mark_the_message_bad() {
    let mut m = Msg::new(16, 0);
    m.attr(1, &vec![0u8; 70_000]);
    assert!(m.bad);
    assert_eq!(m.bytes().len(), HDR, "nothing half-written");

    let mut m = Msg::new(16, 0);
    m.end(3); // inside the header
    assert!(m.bad);
    let mut m = Msg::new(16, 0);
    m.end(1000); // past the end
    assert!(m.bad);

    let mut m = Msg::new(16, 0);
    let n = m.nest(1);
    m.attr(2, &vec![0u8; 40_000]);
    m.attr(2, &vec![0u8; 40_000]);
    m.end(n);
    assert!(m.bad, "a nest over 64 KiB cannot be encoded");
}

#[test]
fn a_bad_message_is_not_sent() {
    let mut s = Sock::open(NETLINK_ROUTE).unwrap();
    let mut m = Msg::new(16, 0);
    m.attr(1, &vec![0u8; 70_000]);
    let e = s.request(m).unwrap_err();
    assert_eq!(e.to_string(), "RTM_NEWLINK: attribute longer than 64 KiB");
}

fn hdr(len: u32, ty: u16, flags: u16, seq: u32) -> Vec<u8> {
    let mut v = len.to_ne_bytes().to_vec();
    v.extend_from_slice(&ty.to_ne_bytes());
    v.extend_from_slice(&flags.to_ne_bytes());
    v.extend_from_slice(&seq.to_ne_bytes());
    v.extend_from_slice(&0u32.to_ne_bytes());
    v
}

#[test]
fn messages_of_a_datagram() {
    // Two messages, the first with an unaligned length (its padding is
    // skipped), then a third truncated one.
    let mut d = hdr(21, 16, NLM_F_MULTI, 5);
    d.extend_from_slice(&[9, 0, 0, 0, 0, 0, 0, 0]); // 5 payload bytes + 3 pad
    d.extend(hdr(20, NLMSG_DONE, NLM_F_MULTI, 5));
    d.extend_from_slice(&0i32.to_ne_bytes());
    d.extend(hdr(100, 16, 0, 6));
    d.extend_from_slice(&[1, 2, 3]);
    let v: Vec<_> = messages(&d).collect();
    assert_eq!(v.len(), 2);
    assert_eq!(
        v[0],
        Message {
            ty: 16,
            flags: NLM_F_MULTI,
            seq: 5,
            pid: 0,
            payload: &[9, 0, 0, 0, 0]
        }
    );
    assert_eq!((v[1].ty, v[1].payload), (NLMSG_DONE, &[0, 0, 0, 0][..]));
}

#[test]
fn malformed_datagrams_stop_parsing() {
    // Shorter than a header, a length below the header size, zero.
    assert_eq!(messages(&[]).count(), 0);
    assert_eq!(messages(&[16, 0, 0]).count(), 0);
    assert_eq!(messages(&hdr(15, 16, 0, 1)).count(), 0);
    assert_eq!(messages(&hdr(0, 16, 0, 1)).count(), 0);
    assert_eq!(messages(&hdr(u32::MAX, 16, 0, 1)).count(), 0);
    // A good message followed by garbage shorter than a header.
    let mut d = hdr(16, 16, 0, 1);
    d.extend_from_slice(&[1, 2, 3, 4, 5]);
    assert_eq!(messages(&d).count(), 1);
    // A last message whose padding is missing still parses.
    let mut d = hdr(17, 16, 0, 1);
    d.push(7);
    let v: Vec<_> = messages(&d).collect();
    assert_eq!(v[0].payload, &[7]);
}

#[test]
fn malformed_attributes_stop_parsing() {
    assert_eq!(attrs(&[]).count(), 0);
    assert_eq!(attrs(&[4, 0, 1]).count(), 0, "short header");
    assert_eq!(attrs(&[3, 0, 1, 0]).count(), 0, "length below 4");
    assert_eq!(
        attrs(&[0, 0, 1, 0, 4, 0, 2, 0]).count(),
        0,
        "zero length never loops"
    );
    assert_eq!(
        attrs(&[9, 0, 1, 0, 1, 2, 3, 4]).count(),
        0,
        "length past the end"
    );
    // One good attribute, then one that overruns.
    let b = [5, 0, 1, 0, 0xaa, 0, 0, 0, 200, 0, 2, 0, 1];
    let v: Vec<_> = attrs(&b).collect();
    assert_eq!(v, vec![(1, &[0xaa][..])]);
    // The last attribute without its padding.
    let b = [4, 0, 1, 0, 5, 0, 0x02, 0xc0, 0xbb];
    let v: Vec<_> = attrs(&b).collect();
    assert_eq!(v, vec![(1, &[][..]), (2, &[0xbb][..])], "flags masked");
}

#[test]
fn number_and_string_helpers() {
    assert_eq!(u32_ne(&7u32.to_ne_bytes()), Some(7));
    assert_eq!(u32_ne(&[1, 2, 3]), None);
    assert_eq!(u16_be(&[1, 2]), Some(0x0102));
    assert_eq!(u32_be(&[1, 2, 3, 4]), Some(0x01020304));
    assert_eq!(u16_ne(&[1]), None);
    assert_eq!(str_of(b"eth0\0\0junk"), Some("eth0"));
    assert_eq!(str_of(b"eth0"), Some("eth0"));
    assert_eq!(str_of(b"\xff\0"), None);
}

/// An NLMSG_ERROR message as the kernel builds it with CAP_ACK and
/// EXT_ACK: errno, the request's header, then a NLMSGERR_ATTR_MSG.
fn err_msg(errno: i32, seq: u32, text: Option<&str>) -> Vec<u8> {
    let mut p = errno.to_ne_bytes().to_vec();
    p.extend(hdr(40, 16, NLM_F_REQUEST | NLM_F_ACK, seq));
    let mut flags = NLM_F_CAPPED;
    if let Some(t) = text {
        flags |= NLM_F_ACK_TLVS;
        let mut a = Msg::new(0, 0);
        a.attr_str(NLMSGERR_ATTR_MSG, t);
        p.extend_from_slice(&a.bytes()[HDR..]);
    }
    let mut d = hdr((HDR + p.len()) as u32, NLMSG_ERROR, flags, seq);
    d.extend(p);
    d
}

#[test]
fn acks_and_errors() {
    let d = err_msg(0, 3, None);
    let m = messages(&d).next().unwrap();
    assert_eq!(parse_error(&m), (0, None));

    let d = err_msg(-17, 3, Some("File exists here"));
    let m = messages(&d).next().unwrap();
    assert_eq!(m.seq, 3);
    assert_eq!(parse_error(&m), (17, Some("File exists here".into())));

    // Not capped: the whole request (40 bytes) comes back before the TLVs.
    let mut p = (-22i32).to_ne_bytes().to_vec();
    p.extend(hdr(40, 16, 0, 9));
    p.extend_from_slice(&[0xee; 24]);
    let mut a = Msg::new(0, 0);
    a.attr_str(NLMSGERR_ATTR_MSG, "bad attr");
    p.extend_from_slice(&a.bytes()[HDR..]);
    let mut d = hdr((HDR + p.len()) as u32, NLMSG_ERROR, NLM_F_ACK_TLVS, 9);
    d.extend(p);
    let m = messages(&d).next().unwrap();
    assert_eq!(parse_error(&m), (22, Some("bad attr".into())));

    // A dump's NLMSG_DONE with an error and TLVs right after it.
    let mut p = (-1i32).to_ne_bytes().to_vec();
    p.extend_from_slice(&a.bytes()[HDR..]);
    let mut d = hdr((HDR + p.len()) as u32, NLMSG_DONE, NLM_F_ACK_TLVS, 9);
    d.extend(p);
    let m = messages(&d).next().unwrap();
    assert_eq!(parse_error(&m), (1, Some("bad attr".into())));
}

#[test]
fn malformed_errors_are_protocol_errors_not_panics() {
    let eproto = Errno::EPROTO.into_raw();
    fn m(ty: u16, flags: u16, payload: &[u8]) -> Message<'_> {
        Message {
            ty,
            flags,
            seq: 1,
            pid: 0,
            payload,
        }
    }
    assert_eq!(parse_error(&m(NLMSG_ERROR, 0, &[1, 2])), (eproto, None));
    assert_eq!(
        parse_error(&m(NLMSG_ERROR, 0, &5i32.to_ne_bytes())),
        (eproto, None)
    );
    assert_eq!(
        parse_error(&m(NLMSG_ERROR, 0, &i32::MIN.to_ne_bytes())),
        (eproto, None)
    );
    // TLVs announced but the embedded length points past the end.
    let mut p = (-2i32).to_ne_bytes().to_vec();
    p.extend(hdr(5000, 16, 0, 1));
    assert_eq!(parse_error(&m(NLMSG_ERROR, NLM_F_ACK_TLVS, &p)), (2, None));
    // TLVs announced, capped, but none there.
    assert_eq!(
        parse_error(&m(
            NLMSG_ERROR,
            NLM_F_ACK_TLVS | NLM_F_CAPPED,
            &(-2i32).to_ne_bytes()
        )),
        (2, None)
    );
}

/// Bytes from a fixed LCG: every parser must take them without panicking.
#[test]
fn random_bytes_never_panic() {
    let mut x: u64 = 0x9e3779b97f4a7c15;
    for round in 0..20_000 {
        let len = round % 97;
        let b: Vec<u8> = (0..len)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                // Small numbers make plausible lengths more often.
                let v = (x >> 33) as u8;
                if v & 1 == 0 { v % 24 } else { v }
            })
            .collect();
        for m in messages(&b) {
            let _ = parse_error(&m);
            for (_, a) in attrs(m.payload) {
                let _ = attrs(a).count();
            }
        }
        let _ = attrs(&b).count();
        let _ = crate::net::link::parse_route_v4(&b);
        let _ = crate::net::link::parse_kind(&b);
        let _ = crate::net::link::parse_master(&b);
    }
}

#[test]
fn type_names() {
    assert_eq!(type_name(NETLINK_ROUTE, 16), "RTM_NEWLINK");
    assert_eq!(type_name(NETLINK_ROUTE, 24), "RTM_NEWROUTE");
    assert_eq!(type_name(NETLINK_ROUTE, 23), "netlink request");
    assert_eq!(type_name(NETLINK_ROUTE, 2), "netlink request");
    assert_eq!(type_name(NETLINK_ROUTE, 999), "netlink request");
    assert_eq!(type_name(NETLINK_NETFILTER, 10 << 8), "NFT_MSG_NEWTABLE");
    assert_eq!(
        type_name(NETLINK_NETFILTER, (10 << 8) | 6),
        "NFT_MSG_NEWRULE"
    );
    assert_eq!(type_name(NETLINK_NETFILTER, 16), "NFNL_MSG_BATCH_BEGIN");
    assert_eq!(
        type_name(NETLINK_NETFILTER, (10 << 8) | 200),
        "netlink request"
    );
}

// ---- against the kernel, in a private network namespace ----

fn bridge(name: &str) -> Msg {
    crate::net::link::bridge_msg(name)
}

fn links(s: &mut Sock) -> Vec<String> {
    let mut m = Msg::new(18, 0); // RTM_GETLINK
    m.put_bytes(&[0; 16]);
    s.dump(m)
        .unwrap()
        .iter()
        .filter_map(|p| str_of(find(p.get(16..)?, 3)?).map(String::from))
        .collect()
}

#[test]
fn request_error_names_the_message_and_carries_the_errno() {
    in_new_netns(|| {
        let mut s = Sock::open(NETLINK_ROUTE).unwrap();
        s.request(bridge("nltest0")).unwrap();
        let e = s.request(bridge("nltest0")).unwrap_err();
        assert_eq!(e.why, crate::error::Why::Errno(Errno::EEXIST));
        assert!(e.to_string().starts_with("RTM_NEWLINK"), "{e}");
        // Deleting what is not there: ENODEV, named RTM_DELLINK.
        let e = s
            .request(crate::net::link::delete_msg("nope0"))
            .unwrap_err();
        assert_eq!(e.why, crate::error::Why::Errno(Errno::ENODEV));
        assert_eq!(e.op, "RTM_DELLINK");
        // The socket is still in step after the errors.
        s.request(crate::net::link::delete_msg("nltest0")).unwrap();
        assert_eq!(links(&mut s), ["lo"]);
    });
}

#[test]
fn batch_reads_every_ack_and_the_first_error_wins() {
    in_new_netns(|| {
        let mut s = Sock::open(NETLINK_ROUTE).unwrap();
        s.batch(vec![bridge("b1"), bridge("b2"), bridge("b3")])
            .unwrap();
        let mut l = links(&mut s);
        l.sort();
        assert_eq!(l, ["b1", "b2", "b3", "lo"]);
        // The 2nd and 4th fail: the 2nd is reported; the 3rd still happened.
        let e = s
            .batch(vec![
                bridge("b4"),
                bridge("b1"),
                bridge("b5"),
                crate::net::link::delete_msg("none0"),
            ])
            .unwrap_err();
        assert_eq!(e.why, crate::error::Why::Errno(Errno::EEXIST), "{e}");
        assert_eq!(links(&mut s).len(), 6);
        // No stale ack is left to confuse the next request.
        s.request(crate::net::link::delete_msg("b4")).unwrap();
        assert_eq!(links(&mut s).len(), 5);
    });
}

#[test]
fn large_batch_and_a_dump_over_many_datagrams() {
    in_new_netns(|| {
        let mut s = Sock::open(NETLINK_ROUTE).unwrap();
        let names: Vec<String> = (0..300).map(|i| format!("d{i}")).collect();
        s.batch(names.iter().map(|n| bridge(n)).collect()).unwrap();
        let l = links(&mut s);
        assert_eq!(l.len(), 301);
        for n in &names {
            assert!(l.contains(n), "{n} missing from the dump");
        }
    });
}

/// nf_tables transactions: BATCH_BEGIN/END get no ack and must not be
/// waited for; an error inside is reported under its own message name.
#[test]
fn netfilter_batch_with_delimiters() {
    in_new_netns(|| {
        let mut s = Sock::open(NETLINK_NETFILTER).unwrap();
        let nfgen = |family: u8, res: u16| {
            let mut g = vec![family, 0];
            g.extend_from_slice(&res.to_be_bytes());
            g
        };
        let delim = |ty| {
            let mut m = Msg::new(ty, 0);
            m.put_bytes(&nfgen(0, 10)); // res_id: NFNL_SUBSYS_NFTABLES
            m
        };
        let table = |op: u16, name: &str| {
            let mut m = Msg::new((10 << 8) | op, NLM_F_CREATE);
            m.put_bytes(&nfgen(1, 0)); // NFPROTO_INET
            m.attr_str(1, name); // NFTA_TABLE_NAME
            m
        };
        s.batch(vec![
            delim(NFNL_MSG_BATCH_BEGIN),
            table(0, "nltest"),
            delim(NFNL_MSG_BATCH_END),
        ])
        .unwrap();
        let mut get = Msg::new((10 << 8) | 1, 0); // NFT_MSG_GETTABLE
        get.put_bytes(&nfgen(1, 0));
        let tables = s.dump(get.clone()).unwrap();
        assert_eq!(tables.len(), 1);
        assert_eq!(str_of(find(&tables[0][4..], 1).unwrap()), Some("nltest"));

        let e = s
            .batch(vec![
                delim(NFNL_MSG_BATCH_BEGIN),
                table(2, "nltest"),
                table(2, "absent"),
                delim(NFNL_MSG_BATCH_END),
            ])
            .unwrap_err();
        assert_eq!(e.op, "NFT_MSG_DELTABLE");
        assert_eq!(e.why, crate::error::Why::Errno(Errno::ENOENT));
        // The transaction was aborted as a whole: the table is still there.
        assert_eq!(s.dump(get.clone()).unwrap().len(), 1);

        s.batch(vec![
            delim(NFNL_MSG_BATCH_BEGIN),
            table(2, "nltest"),
            delim(NFNL_MSG_BATCH_END),
        ])
        .unwrap();
        assert_eq!(s.dump(get).unwrap().len(), 0);

        // A batch the kernel refuses as a whole answers on BATCH_BEGIN
        // only: reported, and nothing waits for acks that never come.
        let mut begin = Msg::new(NFNL_MSG_BATCH_BEGIN, 0);
        begin.put_bytes(&nfgen(0, 200)); // no such subsystem
        let e = s
            .batch(vec![begin, table(0, "never"), delim(NFNL_MSG_BATCH_END)])
            .unwrap_err();
        assert_eq!(e.op, "NFNL_MSG_BATCH_BEGIN", "{e}");
        s.batch(vec![
            delim(NFNL_MSG_BATCH_BEGIN),
            table(0, "after"),
            delim(NFNL_MSG_BATCH_END),
        ])
        .unwrap();
    });
}

/// Walk every attribute of `b`, nests included (to depth 4): the count is
/// bounded by the bytes (no zero-length loop), every slice lies inside.
fn walk_attrs(b: &[u8], depth: usize) -> usize {
    let mut n = 0;
    for (_, a) in attrs(b) {
        assert!(a.len() + 4 <= b.len(), "an attribute runs past its parent");
        let _ = (u16_ne(a), u32_ne(a), u16_be(a), u32_be(a), str_of(a));
        n += 1;
        if depth > 0 {
            n += walk_attrs(a, depth - 1);
        }
    }
    // Every header (nested ones included) takes 4 bytes of its own.
    assert!(n <= b.len() / 4, "{n} attributes in {} bytes", b.len());
    n
}

/// Mutated kernel replies (link and route dumps, acks, extended-ack
/// errors, an nf_tables generation): every message and attribute walked,
/// errors decoded, link and route payloads parsed.
#[test]
fn hostile_netlink_replies() {
    let link = {
        let mut p = vec![0, 0, 1, 0, 7, 0, 0, 0, 0x43, 0x10, 1, 0, 0, 0, 0, 0];
        p.extend_from_slice(&[8, 0, 3, 0, b'v', b'h', b'0', 0]);
        p.extend_from_slice(&[8, 0, 10, 0, 3, 0, 0, 0]);
        p.extend_from_slice(&[16, 0, 18, 0x80]);
        p.extend_from_slice(&[9, 0, 1, 0, b'v', b'e', b't', b'h', 0, 0, 0, 0]);
        p
    };
    let route = {
        let mut p = vec![2, 24, 0, 0, 254, 2, 253, 1, 0, 0, 0, 0];
        p.extend_from_slice(&[8, 0, 15, 0, 254, 0, 0, 0]);
        p.extend_from_slice(&[8, 0, 1, 0, 192, 168, 5, 0]);
        p.extend_from_slice(&[8, 0, 4, 0, 2, 0, 0, 0]);
        p
    };
    let msg = |ty: u16, flags: u16, p: &[u8]| {
        let mut d = hdr((HDR + p.len()) as u32, ty, flags, 7);
        d.extend_from_slice(p);
        d
    };
    let mut dump = msg(16, NLM_F_MULTI, &link);
    dump.extend(msg(24, NLM_F_MULTI | NLM_F_DUMP_INTR, &route));
    dump.extend(msg(NLMSG_DONE, NLM_F_MULTI, &0i32.to_ne_bytes()));
    let mut done_err = (-95i32).to_ne_bytes().to_vec();
    done_err.extend_from_slice(&[13, 0, 1, 0, b'n', b'o', b'p', b'e', b' ', b' ', 0, 0]);
    let gen_reply = msg((10 << 8) | 15, 0, &[0, 0, 0, 0, 8, 0, 1, 0, 0, 0, 0, 42]);
    let mut uncapped = (-22i32).to_ne_bytes().to_vec();
    uncapped.extend(hdr(20, 16, 0, 9));
    uncapped.extend_from_slice(&[0xee; 4]);
    uncapped.extend_from_slice(&[13, 0, 1, 0, b'b', b'a', b'd', b' ', b'a', 0, 0, 0]);
    let corpus: Vec<Vec<u8>> = vec![
        dump,
        err_msg(0, 3, None),
        err_msg(-17, 3, Some("File exists")),
        msg(NLMSG_DONE, NLM_F_MULTI | NLM_F_ACK_TLVS, &done_err),
        msg(NLMSG_ERROR, NLM_F_ACK_TLVS, &uncapped),
        gen_reply,
    ];
    let corpus: Vec<&[u8]> = corpus.iter().map(|v| &v[..]).collect();
    let dict: &[&[u8]] = &[
        &[0, 0, 0, 0],
        &[4, 0, 1, 0],
        &[16, 0, 0, 0],
        &[0xff, 0xff, 0, 0],
        &[0, 0, 0, 0x80],
        &[2, 0, 0, 0],
        &[3, 0, 0, 0],
        &[0x14, 0, 0, 0],
        &[0xff, 0xff, 0xff, 0xff],
    ];
    crate::rt::fuzz::run(
        "netlink replies",
        &corpus,
        dict,
        std::time::Duration::from_secs(60),
        |b| {
            let (mut used, mut count) = (0, 0);
            for m in messages(b) {
                used += HDR + m.payload.len();
                count += 1;
                assert!(used <= b.len(), "messages overrun the datagram");
                let (err, text) = parse_error(&m);
                assert!((0..4096).contains(&err), "errno {err}");
                if let Some(t) = text {
                    assert!(!t.is_empty() && !t.contains('\0') && t.trim_end() == t);
                }
                let _ = type_name(NETLINK_ROUTE, m.ty);
                let _ = type_name(NETLINK_NETFILTER, m.ty);
                walk_attrs(m.payload, 4);
                for skip in [4, 12, 16] {
                    walk_attrs(m.payload.get(skip..).unwrap_or(&[]), 4);
                }
                let p = m.payload;
                assert!(crate::net::link::parse_index(p).is_none_or(|i| i > 0));
                let _ = crate::net::link::parse_kind(p);
                let _ = crate::net::link::parse_master(p);
                if let Some((_, len)) = crate::net::link::parse_route_v4(p) {
                    assert!((1..=32).contains(&len));
                }
            }
            assert!(count <= b.len() / HDR);
            walk_attrs(b, 4);
            Ok(())
        },
    );
}
