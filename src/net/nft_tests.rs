//! Unit tests of nft.rs: the transaction byte for byte against what nft(8)
//! 1.0.6 sends for the same rule text, and (as root, each in a private
//! network namespace) the table the kernel ends up holding, and traffic.
use super::*;
use std::process::Command;

fn hex(s: &str) -> Vec<u8> {
    let h: Vec<u8> = s.bytes().filter(|b| b.is_ascii_hexdigit()).collect();
    h.chunks(2)
        .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 16).unwrap())
        .collect()
}

fn sample() -> (Vec<Net>, Vec<Port>) {
    let net = |bridge: &str, subnet, prefix| Net {
        bridge: bridge.into(),
        subnet,
        prefix,
    };
    let nets = vec![
        net("pocket0", [10, 88, 0, 0], 16),
        net("br-test", [10, 89, 16, 0], 20),
    ];
    let ports = vec![
        Port {
            proto: Proto::Tcp,
            host_ip: None,
            host_port: 8080,
            ctr_ip: [10, 88, 0, 2],
            ctr_port: 80,
        },
        Port {
            proto: Proto::Udp,
            host_ip: Some([127, 0, 0, 1]),
            host_port: 5353,
            ctr_ip: [10, 89, 16, 3],
            ctr_port: 53,
        },
    ];
    (nets, ports)
}

/// The rule text `sample()` stands for, as `nft list` prints it back.
const LISTING: &str = r#"table ip pocket {
chain postrouting {
type nat hook postrouting priority srcnat; policy accept;
ip saddr 10.88.0.0/16 oifname != "pocket0" masquerade
ip saddr 127.0.0.0/8 oifname "pocket0" masquerade
ip saddr 10.88.0.0/16 oifname "pocket0" ct status dnat masquerade
ip saddr 10.89.16.0/20 oifname != "br-test" masquerade
ip saddr 127.0.0.0/8 oifname "br-test" masquerade
ip saddr 10.89.16.0/20 oifname "br-test" ct status dnat masquerade
}
chain prerouting {
type nat hook prerouting priority dstnat; policy accept;
fib daddr type local tcp dport 8080 dnat to 10.88.0.2:80
}
chain output {
type nat hook output priority -100; policy accept;
fib daddr type local tcp dport 8080 dnat to 10.88.0.2:80
fib daddr type local ip daddr 127.0.0.1 udp dport 5353 dnat to 10.89.16.3:53
}
chain forward {
type filter hook forward priority filter; policy accept;
ct status dnat accept
iifname "pocket0" oifname "br-test" drop
iifname "br-test" oifname "pocket0" drop
iifname "pocket0" accept
oifname "pocket0" ct state established,related accept
oifname "pocket0" drop
iifname "br-test" accept
oifname "br-test" ct state established,related accept
oifname "br-test" drop
}
chain raw {
type filter hook prerouting priority raw; policy accept;
iifname != "lo" ip daddr 127.0.0.0/8 drop
}
}"#;

/// What `strace -e write=3 nft -f` showed nft 1.0.6 sending for LISTING
/// (one file with the five chains and their rules), sequence numbers
/// zeroed: one message per entry, in order.
const NFT: [&str; 27] = [
    // batch begin
    "140000001000010000000000000000000000000a",
    // table
    "28000000000a01000000000000000000020000000b000100706f636b657400000800020000000000",
    // chain postrouting
    "54000000030a01040000000000000000020000000b000100706f636b6574000010000300706f7374726f7574\
     696e6700080007006e61740008000500000000011400048008000100000000040800020000000064",
    // chain prerouting
    "54000000030a01040000000000000000020000000b000100706f636b657400000f000300707265726f757469\
     6e670000080007006e617400080005000000000114000480080001000000000008000200ffffff9c",
    // chain output
    "50000000030a01040000000000000000020000000b000100706f636b657400000b0003006f75747075740000\
     080007006e617400080005000000000114000480080001000000000308000200ffffff9c",
    // chain forward
    "54000000030a01040000000000000000020000000b000100706f636b657400000c000300666f727761726400\
     0b00070066696c746572000008000500000000011400048008000100000000020800020000000000",
    // chain raw
    "50000000030a01040000000000000000020000000b000100706f636b6574000008000300726177000b000700\
     66696c7465720000080005000000000114000480080001000000000008000200fffffed4",
    // ip saddr 10.88.0.0/16 oifname != "pocket0" masquerade
    "04010000060a010c0000000000000000020000000b000100706f636b6574000010000200706f7374726f7574\
     696e6700d4000480340001800c0001007061796c6f6164002400028008000100000000010800020000000001\
     080003000000000c08000400000000022c00018008000100636d700020000280080001000000000108000200\
     000000000c000380060001000a58000024000180090001006d65746100000000140002800800020000000007\
     08000100000000013800018008000100636d70002c0002800800010000000001080002000000000118000380\
     14000100706f636b65743000000000000000000014000180090001006d6173710000000004000280",
    // ip saddr 127.0.0.0/8 oifname "pocket0" masquerade
    "04010000060a010c0000000000000000020000000b000100706f636b6574000010000200706f7374726f7574\
     696e6700d4000480340001800c0001007061796c6f6164002400028008000100000000010800020000000001\
     080003000000000c08000400000000012c00018008000100636d700020000280080001000000000108000200\
     000000000c000380050001007f00000024000180090001006d65746100000000140002800800020000000007\
     08000100000000013800018008000100636d70002c0002800800010000000001080002000000000018000380\
     14000100706f636b65743000000000000000000014000180090001006d6173710000000004000280",
    // ip saddr 10.88.0.0/16 oifname "pocket0" ct status dnat masquerade
    "94010000060a010c0000000000000000020000000b000100706f636b6574000010000200706f7374726f7574\
     696e670064010480340001800c0001007061796c6f6164002400028008000100000000010800020000000001\
     080003000000000c08000400000000022c00018008000100636d700020000280080001000000000108000200\
     000000000c000380060001000a58000024000180090001006d65746100000000140002800800020000000007\
     08000100000000013800018008000100636d70002c0002800800010000000001080002000000000018000380\
     14000100706f636b657430000000000000000000200001800700010063740000140002800800020000000002\
     0800010000000001440001800c00010062697477697365003400028008000100000000010800020000000001\
     08000300000000040c00048008000100200000000c00058008000100000000002c00018008000100636d7000\
     20000280080001000000000108000200000000010c000380080001000000000014000180090001006d617371\
     0000000004000280",
    // ip saddr 10.89.16.0/20 oifname != "br-test" masquerade
    "48010000060a010c0000000000000000020000000b000100706f636b6574000010000200706f7374726f7574\
     696e670018010480340001800c0001007061796c6f6164002400028008000100000000010800020000000001\
     080003000000000c0800040000000004440001800c0001006269747769736500340002800800010000000001\
     080002000000000108000300000000040c00048008000100fffff0000c00058008000100000000002c000180\
     08000100636d700020000280080001000000000108000200000000000c000380080001000a59100024000180\
     090001006d6574610000000014000280080002000000000708000100000000013800018008000100636d7000\
     2c00028008000100000000010800020000000001180003801400010062722d74657374000000000000000000\
     14000180090001006d6173710000000004000280",
    // ip saddr 127.0.0.0/8 oifname "br-test" masquerade
    "04010000060a010c0000000000000000020000000b000100706f636b6574000010000200706f7374726f7574\
     696e6700d4000480340001800c0001007061796c6f6164002400028008000100000000010800020000000001\
     080003000000000c08000400000000012c00018008000100636d700020000280080001000000000108000200\
     000000000c000380050001007f00000024000180090001006d65746100000000140002800800020000000007\
     08000100000000013800018008000100636d70002c0002800800010000000001080002000000000018000380\
     1400010062722d7465737400000000000000000014000180090001006d6173710000000004000280",
    // ip saddr 10.89.16.0/20 oifname "br-test" ct status dnat masquerade
    "d8010000060a010c0000000000000000020000000b000100706f636b6574000010000200706f7374726f7574\
     696e6700a8010480340001800c0001007061796c6f6164002400028008000100000000010800020000000001\
     080003000000000c0800040000000004440001800c0001006269747769736500340002800800010000000001\
     080002000000000108000300000000040c00048008000100fffff0000c00058008000100000000002c000180\
     08000100636d700020000280080001000000000108000200000000000c000380080001000a59100024000180\
     090001006d6574610000000014000280080002000000000708000100000000013800018008000100636d7000\
     2c00028008000100000000010800020000000000180003801400010062722d74657374000000000000000000\
     2000018007000100637400001400028008000200000000020800010000000001440001800c00010062697477\
     69736500340002800800010000000001080002000000000108000300000000040c0004800800010020000000\
     0c00058008000100000000002c00018008000100636d70002000028008000100000000010800020000000001\
     0c000380080001000000000014000180090001006d6173710000000004000280",
    // prerouting: fib daddr type local tcp dport 8080 dnat to 10.88.0.2:80
    "c8010000060a010c0000000000000000020000000b000100706f636b657400000f000200707265726f757469\
     6e670000980104802800018008000100666962001c0002800800030000000002080002000000000308000100\
     000000012c00018008000100636d700020000280080001000000000108000200000000000c00038008000100\
     0200000024000180090001006d6574610000000014000280080002000000001008000100000000012c000180\
     08000100636d700020000280080001000000000108000200000000000c000380050001000600000034000180\
     0c0001007061796c6f6164002400028008000100000000010800020000000002080003000000000208000400\
     000000022c00018008000100636d700020000280080001000000000108000200000000000c00038006000100\
     1f9000002c0001800e000100696d6d6564696174650000001800028008000100000000010c00028008000100\
     0a5800022c0001800e000100696d6d6564696174650000001800028008000100000000020c00028006000100\
     0050000038000180080001006e6174002c000280080001000000000108000200000000020800030000000001\
     08000500000000020800070000000002",
    // output: (as prerouting)
    "c4010000060a010c0000000000000000020000000b000100706f636b657400000b0002006f75747075740000\
     980104802800018008000100666962001c000280080003000000000208000200000000030800010000000001\
     2c00018008000100636d700020000280080001000000000108000200000000000c0003800800010002000000\
     24000180090001006d6574610000000014000280080002000000001008000100000000012c00018008000100\
     636d700020000280080001000000000108000200000000000c0003800500010006000000340001800c000100\
     7061796c6f616400240002800800010000000001080002000000000208000300000000020800040000000002\
     2c00018008000100636d700020000280080001000000000108000200000000000c000380060001001f900000\
     2c0001800e000100696d6d6564696174650000001800028008000100000000010c000280080001000a580002\
     2c0001800e000100696d6d6564696174650000001800028008000100000000020c0002800600010000500000\
     38000180080001006e6174002c00028008000100000000010800020000000002080003000000000108000500\
     000000020800070000000002",
    // output: fib daddr type local ip daddr 127.0.0.1 udp dport 5353 dnat to 10.89.16.3:53
    "24020000060a010c0000000000000000020000000b000100706f636b657400000b0002006f75747075740000\
     f80104802800018008000100666962001c000280080003000000000208000200000000030800010000000001\
     2c00018008000100636d700020000280080001000000000108000200000000000c0003800800010002000000\
     340001800c0001007061796c6f61640024000280080001000000000108000200000000010800030000000010\
     08000400000000042c00018008000100636d700020000280080001000000000108000200000000000c000380\
     080001007f00000124000180090001006d657461000000001400028008000200000000100800010000000001\
     2c00018008000100636d700020000280080001000000000108000200000000000c0003800500010011000000\
     340001800c0001007061796c6f61640024000280080001000000000108000200000000020800030000000002\
     08000400000000022c00018008000100636d700020000280080001000000000108000200000000000c000380\
     0600010014e900002c0001800e000100696d6d6564696174650000001800028008000100000000010c000280\
     080001000a5910032c0001800e000100696d6d6564696174650000001800028008000100000000020c000280\
     060001000035000038000180080001006e6174002c0002800800010000000001080002000000000208000300\
     0000000108000500000000020800070000000002",
    // ct status dnat accept
    "f0000000060a010c0000000000000000020000000b000100706f636b657400000c000200666f727761726400\
     c40004802000018007000100637400001400028008000200000000020800010000000001440001800c000100\
     6269747769736500340002800800010000000001080002000000000108000300000000040c00048008000100\
     200000000c00058008000100000000002c00018008000100636d700020000280080001000000000108000200\
     000000010c0003800800010000000000300001800e000100696d6d6564696174650000001c00028008000100\
     00000000100002800c0002800800010000000001",
    // iifname "pocket0" oifname "br-test" drop
    "18010000060a010c0000000000000000020000000b000100706f636b657400000c000200666f727761726400\
     ec00048024000180090001006d65746100000000140002800800020000000006080001000000000138000180\
     08000100636d70002c000280080001000000000108000200000000001800038014000100706f636b65743000\
     000000000000000024000180090001006d657461000000001400028008000200000000070800010000000001\
     3800018008000100636d70002c00028008000100000000010800020000000000180003801400010062722d74\
     657374000000000000000000300001800e000100696d6d6564696174650000001c0002800800010000000000\
     100002800c0002800800010000000000",
    // iifname "br-test" oifname "pocket0" drop
    "18010000060a010c0000000000000000020000000b000100706f636b657400000c000200666f727761726400\
     ec00048024000180090001006d65746100000000140002800800020000000006080001000000000138000180\
     08000100636d70002c00028008000100000000010800020000000000180003801400010062722d7465737400\
     000000000000000024000180090001006d657461000000001400028008000200000000070800010000000001\
     3800018008000100636d70002c000280080001000000000108000200000000001800038014000100706f636b\
     657430000000000000000000300001800e000100696d6d6564696174650000001c0002800800010000000000\
     100002800c0002800800010000000000",
    // iifname "pocket0" accept
    "bc000000060a010c0000000000000000020000000b000100706f636b657400000c000200666f727761726400\
     9000048024000180090001006d65746100000000140002800800020000000006080001000000000138000180\
     08000100636d70002c000280080001000000000108000200000000001800038014000100706f636b65743000\
     0000000000000000300001800e000100696d6d6564696174650000001c000280080001000000000010000280\
     0c0002800800010000000001",
    // oifname "pocket0" ct state established,related accept
    "4c010000060a010c0000000000000000020000000b000100706f636b657400000c000200666f727761726400\
     2001048024000180090001006d65746100000000140002800800020000000007080001000000000138000180\
     08000100636d70002c000280080001000000000108000200000000001800038014000100706f636b65743000\
     0000000000000000200001800700010063740000140002800800020000000000080001000000000144000180\
     0c0001006269747769736500340002800800010000000001080002000000000108000300000000040c000480\
     08000100060000000c00058008000100000000002c00018008000100636d7000200002800800010000000001\
     08000200000000010c0003800800010000000000300001800e000100696d6d6564696174650000001c000280\
     0800010000000000100002800c0002800800010000000001",
    // oifname "pocket0" drop
    "bc000000060a010c0000000000000000020000000b000100706f636b657400000c000200666f727761726400\
     9000048024000180090001006d65746100000000140002800800020000000007080001000000000138000180\
     08000100636d70002c000280080001000000000108000200000000001800038014000100706f636b65743000\
     0000000000000000300001800e000100696d6d6564696174650000001c000280080001000000000010000280\
     0c0002800800010000000000",
    // iifname "br-test" accept
    "bc000000060a010c0000000000000000020000000b000100706f636b657400000c000200666f727761726400\
     9000048024000180090001006d65746100000000140002800800020000000006080001000000000138000180\
     08000100636d70002c00028008000100000000010800020000000000180003801400010062722d7465737400\
     0000000000000000300001800e000100696d6d6564696174650000001c000280080001000000000010000280\
     0c0002800800010000000001",
    // oifname "br-test" ct state established,related accept
    "4c010000060a010c0000000000000000020000000b000100706f636b657400000c000200666f727761726400\
     2001048024000180090001006d65746100000000140002800800020000000007080001000000000138000180\
     08000100636d70002c00028008000100000000010800020000000000180003801400010062722d7465737400\
     0000000000000000200001800700010063740000140002800800020000000000080001000000000144000180\
     0c0001006269747769736500340002800800010000000001080002000000000108000300000000040c000480\
     08000100060000000c00058008000100000000002c00018008000100636d7000200002800800010000000001\
     08000200000000010c0003800800010000000000300001800e000100696d6d6564696174650000001c000280\
     0800010000000000100002800c0002800800010000000001",
    // oifname "br-test" drop
    "bc000000060a010c0000000000000000020000000b000100706f636b657400000c000200666f727761726400\
     9000048024000180090001006d65746100000000140002800800020000000007080001000000000138000180\
     08000100636d70002c00028008000100000000010800020000000000180003801400010062722d7465737400\
     0000000000000000300001800e000100696d6d6564696174650000001c000280080001000000000010000280\
     0c0002800800010000000000",
    // raw: iifname != "lo" ip daddr 127.0.0.0/8 drop
    "18010000060a010c0000000000000000020000000b000100706f636b657400000800020072617700f0000480\
     24000180090001006d6574610000000014000280080002000000000608000100000000013800018008000100\
     636d70002c0002800800010000000001080002000000000118000380140001006c6f00000000000000000000\
     00000000340001800c0001007061796c6f616400240002800800010000000001080002000000000108000300\
     0000001008000400000000012c00018008000100636d70002000028008000100000000010800020000000000\
     0c000380050001007f000000300001800e000100696d6d6564696174650000001c0002800800010000000000\
     100002800c0002800800010000000000",
    // batch end
    "140000001100010000000000000000000000000a",
];

/// `nft delete table ip pocket`, seq zeroed.
const DELTABLE_BYTES: &str = "20000000020a01000000000000000000020000000b000100706f636b65740000";

/// Our transaction is nft's with the add+delete of the table in front.
fn check(range: core::ops::Range<usize>) {
    let (nets, ports) = sample();
    let ours = batch(&nets, &ports).unwrap();
    assert_eq!(ours.len(), NFT.len() + 2);
    for i in range {
        let our = if i == 0 { 0 } else { i + 2 };
        assert_eq!(
            hex_of(ours[our].bytes()),
            hex_of(&hex(NFT[i])),
            "message {i} of nft's batch"
        );
    }
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn table_and_chains_match_nft() {
    check(0..7);
}

#[test]
fn masquerade_and_hairpin_rules_match_nft() {
    check(7..13);
}

#[test]
fn dnat_rules_match_nft() {
    check(13..16);
}

#[test]
fn forward_and_isolation_rules_match_nft() {
    check(16..25);
}

#[test]
fn loopback_guard_and_batch_end_match_nft() {
    check(25..27);
}

#[test]
fn table_is_added_deleted_and_added_again() {
    let (nets, ports) = sample();
    let ours = batch(&nets, &ports).unwrap();
    assert_eq!(hex_of(ours[1].bytes()), hex_of(&hex(NFT[1])));
    assert_eq!(hex_of(ours[2].bytes()), DELTABLE_BYTES);
    assert_eq!(hex_of(ours[3].bytes()), hex_of(&hex(NFT[1])));
}

#[test]
fn nothing_to_hold_deletes_the_table() {
    let ours: Vec<String> = batch(&[], &[])
        .unwrap()
        .iter()
        .map(|m| hex_of(m.bytes()))
        .collect();
    let want = [hex(NFT[0]), hex(NFT[1]), hex(DELTABLE_BYTES), hex(NFT[26])];
    assert_eq!(ours, want.map(|b| hex_of(&b)));
}

#[test]
fn bad_bridge_names_are_refused() {
    for bad in ["", "sixteen-chars-xx", "a\0b"] {
        let n = Net {
            bridge: bad.into(),
            subnet: [10, 0, 0, 0],
            prefix: 8,
        };
        let e = batch(&[n], &[]).unwrap_err();
        assert!(e.to_string().contains("not an interface name"), "{e}");
    }
    // 15 bytes is the longest name a kernel interface can have.
    let n = Net {
        bridge: "fifteen-chars-x".into(),
        subnet: [10, 0, 0, 0],
        prefix: 8,
    };
    assert!(batch(&[n], &[]).is_ok());
}

#[test]
fn host_ip_0_0_0_0_means_any() {
    let (_, mut ports) = sample();
    ports.truncate(1);
    let any = batch(&[], &ports).unwrap();
    ports[0].host_ip = Some([0; 4]);
    assert_eq!(batch(&[], &ports).unwrap(), any);
}

// ---- as root, each in a network namespace of its own ----

/// Run `f` on a new thread in a new network namespace, so the host's
/// ruleset and interfaces are never touched; children it starts are in
/// that namespace too.
fn in_new_netns<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> Option<R> {
    if !root() {
        return None;
    }
    let t = std::thread::spawn(move || {
        // SAFETY: no pointers; only this thread's namespace changes.
        let r = unsafe { libc::unshare(libc::CLONE_NEWNET) };
        assert_eq!(
            r,
            0,
            "unshare(CLONE_NEWNET): {}",
            std::io::Error::last_os_error()
        );
        f()
    });
    Some(t.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
}

/// As tests/common: failing unless root, or skipped on explicit opt-out.
fn root() -> bool {
    // SAFETY: no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    if std::env::var_os("POCKET_SKIP_ROOT_TESTS").is_some() {
        eprintln!("SKIPPED: needs root (POCKET_SKIP_ROOT_TESTS is set)");
        return false;
    }
    panic!("nft tests need root; set POCKET_SKIP_ROOT_TESTS=1 to skip them");
}

fn sh(cmd: &str) -> (bool, String) {
    let o = Command::new("timeout")
        .args(["20", "sh", "-c", &format!("set -e\n{cmd}")])
        .output()
        .expect("sh");
    let mut s = String::from_utf8_lossy(&o.stdout).into_owned();
    s += &String::from_utf8_lossy(&o.stderr);
    (o.status.success(), s)
}

fn ok(cmd: &str) -> String {
    let (ok, out) = sh(cmd);
    assert!(ok, "{cmd}: {out}");
    out
}

/// `nft list table ip pocket`, lines trimmed, blank lines dropped.
fn listing() -> Option<String> {
    let (ok, out) = sh("nft list table ip pocket");
    ok.then(|| {
        let lines: Vec<&str> = out
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        lines.join("\n")
    })
}

#[test]
fn root_sync_replaces_the_table_and_leaves_others_alone() {
    in_new_netns(|| {
        ok(
            "nft add table ip other && nft add chain ip other c '{ type filter hook forward priority 0; policy drop; }' && nft add rule ip other c iifname lo counter accept",
        );
        let other = ok("nft list table ip other");
        remove().unwrap(); // absent: fine
        let (nets, mut ports) = sample();
        sync(&nets, &ports).unwrap();
        assert_eq!(listing().unwrap(), LISTING);
        // Again: the same, not twice the rules.
        sync(&nets, &ports).unwrap();
        assert_eq!(listing().unwrap(), LISTING);

        // A port gone (say its pocket was SIGKILLed): its rules go.
        ports.remove(0);
        sync(&nets, &ports).unwrap();
        let l = listing().unwrap();
        assert!(!l.contains("8080"), "{l}");
        assert_eq!(l.matches("udp dport 5353").count(), 1, "{l}");
        assert_eq!(l.lines().count(), LISTING.lines().count() - 2, "{l}");

        // A rule someone added to our table by hand goes too.
        ok("nft add rule ip pocket forward counter");
        sync(&nets, &ports).unwrap();
        assert!(!listing().unwrap().contains("counter"));

        assert_eq!(ok("nft list table ip other"), other);
        remove().unwrap();
        assert_eq!(listing(), None);
        remove().unwrap();
        sync(&[], &[]).unwrap();
        assert_eq!(ok("nft list tables"), "table ip other\n");
        assert_eq!(ok("nft list table ip other"), other);
    });
}

#[test]
fn root_kernel_errors_name_the_message() {
    in_new_netns(|| {
        // The kernel rejects a rule in a chain that is not there; that
        // cannot come from sync(), so send one by hand.
        let mut v = batch(&[], &[]).unwrap();
        let end = v.pop().unwrap();
        v.push(rule("nochain", &|m| accept(m)));
        v.push(end);
        let e = Sock::open(NETLINK_NETFILTER).unwrap().batch(v).unwrap_err();
        let s = e.to_string();
        assert!(s.starts_with("NFT_MSG_NEWRULE"), "{s}");
        assert!(s.ends_with("No such file or directory"), "{s}");
        assert_eq!(listing(), None);
    });
}

#[test]
fn root_sysctls_in_a_netns() {
    in_new_netns(|| {
        let fwd = "/proc/sys/net/ipv4/ip_forward";
        // A new namespace inherits the host's IPv4 settings (with
        // net.core.devconf_inherit_init_net at 0, the default), which a
        // bridge made on the host has turned on: off first.
        std::fs::write(fwd, "0\n").unwrap();
        assert_eq!(std::fs::read_to_string(fwd).unwrap(), "0\n");
        crate::net::sysctl::ip_forward().unwrap();
        assert_eq!(std::fs::read_to_string(fwd).unwrap(), "1\n");
        ok("ip link add pk-sysbr type bridge");
        let rl = "/proc/sys/net/ipv4/conf/pk-sysbr/route_localnet";
        assert_eq!(std::fs::read_to_string(rl).unwrap(), "0\n");
        crate::net::sysctl::route_localnet("pk-sysbr").unwrap();
        assert_eq!(std::fs::read_to_string(rl).unwrap(), "1\n");
        let e = crate::net::sysctl::route_localnet("pk-nosuch").unwrap_err();
        assert_eq!(
            e.to_string(),
            "open /proc/sys/net/ipv4/conf/pk-nosuch/route_localnet: No such file or directory"
        );
        if !std::path::Path::new("/proc/sys/net/ipv6").exists() {
            eprintln!("SKIP ipv6: no /proc/sys/net/ipv6 (kernel without IPv6)");
            crate::net::sysctl::ipv6_off("pk-sysbr").unwrap();
            return;
        }
        let v6 = |k: &str| {
            std::fs::read_to_string(format!("/proc/sys/net/ipv6/conf/pk-sysbr/{k}")).unwrap()
        };
        // The kernel's defaults for a new interface: what a container's
        // router advertisement would be accepted with.
        assert_eq!(
            (v6("disable_ipv6"), v6("accept_ra")),
            ("0\n".into(), "1\n".into())
        );
        crate::net::sysctl::ipv6_off("pk-sysbr").unwrap();
        assert_eq!(
            (v6("disable_ipv6"), v6("accept_ra")),
            ("1\n".into(), "0\n".into())
        );
        ok("ip link set pk-sysbr up");
        assert_eq!(ok("ip -6 addr show dev pk-sysbr"), "");
    });
}

mod traffic {
    //! A host namespace with a bridge, a "container" namespace on it
    //! through a veth, and an "other host" namespace on a second link.
    use super::*;
    use std::io::{Read, Write};
    use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
    use std::process::Child;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    /// A process holding a network namespace; killed and reaped on drop.
    struct Ns(Child);

    impl Ns {
        fn new() -> Ns {
            let me = std::fs::read_link("/proc/thread-self/ns/net").unwrap();
            let c = Command::new("unshare")
                .args(["-n", "sleep", "60"])
                .spawn()
                .expect("unshare");
            let ns = Ns(c);
            // unshare(1) makes the namespace just before exec: wait for it.
            let t = Instant::now();
            while std::fs::read_link(ns.path()).ok().as_ref() == Some(&me) {
                assert!(t.elapsed() < Duration::from_secs(5), "unshare -n too slow");
                std::thread::sleep(Duration::from_millis(5));
            }
            ns
        }
        fn pid(&self) -> u32 {
            self.0.id()
        }
        fn path(&self) -> String {
            format!("/proc/{}/ns/net", self.pid())
        }
        fn sh(&self, cmd: &str) {
            ok(&format!("nsenter -t {} -n sh -c '{cmd}'", self.pid()));
        }
        /// Run `f` on a thread inside this namespace.
        fn run<R: Send + 'static>(
            &self,
            f: impl FnOnce() -> R + Send + 'static,
        ) -> std::thread::JoinHandle<R> {
            let file = std::fs::File::open(self.path()).unwrap();
            std::thread::spawn(move || {
                use std::os::fd::AsRawFd;
                // SAFETY: a valid netns fd; only this thread moves.
                let r = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
                assert_eq!(r, 0, "setns: {}", std::io::Error::last_os_error());
                f()
            })
        }
        /// A TCP server in this namespace answering each connection with
        /// the peer address it sees; stops when the flag is set.
        fn serve_tcp(&self, port: u16, stop: Arc<AtomicBool>) {
            let (tx, rx) = std::sync::mpsc::channel();
            self.run(move || {
                let l = TcpListener::bind(("0.0.0.0", port)).unwrap();
                l.set_nonblocking(true).unwrap();
                tx.send(()).unwrap();
                while !stop.load(Ordering::Relaxed) {
                    match l.accept() {
                        Ok((mut s, peer)) => {
                            let _ = s.write_all(peer.ip().to_string().as_bytes());
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            });
            rx.recv_timeout(Duration::from_secs(5)).unwrap();
        }
        /// A UDP echo of the peer address.
        fn serve_udp(&self, port: u16, stop: Arc<AtomicBool>) {
            let (tx, rx) = std::sync::mpsc::channel();
            self.run(move || {
                let s = UdpSocket::bind(("0.0.0.0", port)).unwrap();
                s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
                tx.send(()).unwrap();
                let mut b = [0u8; 64];
                while !stop.load(Ordering::Relaxed) {
                    if let Ok((_, peer)) = s.recv_from(&mut b) {
                        let _ = s.send_to(peer.ip().to_string().as_bytes(), peer);
                    }
                }
            });
            rx.recv_timeout(Duration::from_secs(5)).unwrap();
        }
    }

    impl Drop for Ns {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    /// The address the server saw, or the error.
    fn ask(addr: &str) -> std::result::Result<String, String> {
        let a: SocketAddr = addr.parse().unwrap();
        let mut s =
            TcpStream::connect_timeout(&a, Duration::from_secs(2)).map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).map_err(|e| e.to_string())?;
        Ok(out)
    }

    fn ask_udp(addr: &str) -> std::result::Result<String, String> {
        let s = UdpSocket::bind("0.0.0.0:0").unwrap();
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        s.connect(addr).map_err(|e| e.to_string())?;
        s.send(b"?").map_err(|e| e.to_string())?;
        let mut b = [0u8; 64];
        let n = s.recv(&mut b).map_err(|e| e.to_string())?;
        Ok(String::from_utf8_lossy(&b[..n]).into_owned())
    }

    #[test]
    fn root_dnat_and_masquerade_carry_traffic() {
        in_new_netns(|| {
            let ctr = Ns::new();
            let far = Ns::new();
            ok("ip link set lo up
                ip link add pk-br type bridge && ip addr add 10.200.0.1/24 dev pk-br && ip link set pk-br up
                ip link add pk-h type veth peer name pk-c && ip link set pk-h master pk-br up");
            ok(&format!("ip link set pk-c netns {}", ctr.pid()));
            ctr.sh("ip link set lo up && ip addr add 10.200.0.2/24 dev pk-c && ip link set pk-c up && ip route add default via 10.200.0.1");
            ok(
                "ip link add pk-o type veth peer name pk-oc && ip addr add 10.201.0.1/24 dev pk-o && ip link set pk-o up",
            );
            ok(&format!("ip link set pk-oc netns {}", far.pid()));
            far.sh(
                "ip link set lo up && ip addr add 10.201.0.2/24 dev pk-oc && ip link set pk-oc up",
            );

            let stop = Arc::new(AtomicBool::new(false));
            ctr.serve_tcp(8000, stop.clone());
            ctr.serve_udp(53, stop.clone());
            far.serve_tcp(9000, stop.clone());

            // Before: nothing is published, nothing is masqueraded.
            assert!(ask("127.0.0.1:8080").is_err());
            let out = ctr.run(|| ask("10.201.0.2:9000")).join().unwrap();
            assert!(out.is_err(), "{out:?}");

            crate::net::sysctl::ip_forward().unwrap();
            crate::net::sysctl::route_localnet("pk-br").unwrap();
            let nets = [Net {
                bridge: "pk-br".into(),
                subnet: [10, 200, 0, 0],
                prefix: 24,
            }];
            let port = |proto, host_port, ctr_port| Port {
                proto,
                host_ip: None,
                host_port,
                ctr_ip: [10, 200, 0, 2],
                ctr_port,
            };
            let ports = [port(Proto::Tcp, 8080, 8000), port(Proto::Udp, 5353, 53)];
            sync(&nets, &ports).unwrap();

            // From the host itself: loopback (masqueraded to the bridge
            // address) and its own addresses.
            assert_eq!(ask("127.0.0.1:8080").unwrap(), "10.200.0.1");
            assert_eq!(ask("10.201.0.1:8080").unwrap(), "10.201.0.1");
            assert_eq!(ask("10.200.0.1:8080").unwrap(), "10.200.0.1");
            assert_eq!(ask_udp("127.0.0.1:5353").unwrap(), "10.200.0.1");
            // From another host: its own address reaches the container.
            let out = far.run(|| ask("10.201.0.1:8080")).join().unwrap();
            assert_eq!(out.unwrap(), "10.201.0.2");
            let out = far.run(|| ask_udp("10.201.0.1:5353")).join().unwrap();
            assert_eq!(out.unwrap(), "10.201.0.2");
            // Out of the container: masqueraded to the host's address.
            let out = ctr.run(|| ask("10.201.0.2:9000")).join().unwrap();
            assert_eq!(out.unwrap(), "10.201.0.1");
            // Another host routing the subnet through this one: dropped,
            // not refused (the host forwards, the container would answer).
            far.sh("ip route add 10.200.0.0/24 via 10.201.0.1");
            let out = far.run(|| ask("10.200.0.2:8000")).join().unwrap();
            assert!(
                out.as_ref().is_err_and(|e| e.contains("timed out")),
                "{out:?}"
            );
            ok("nft flush chain ip pocket forward");
            let out = far.run(|| ask("10.200.0.2:8000")).join().unwrap();
            assert_eq!(out.unwrap(), "10.201.0.2", "the test can tell");
            sync(&nets, &ports).unwrap();
            far.sh("ip route del 10.200.0.0/24");

            // The TCP port unpublished: refused from the host and far away.
            sync(&nets, &ports[1..]).unwrap();
            assert!(ask("127.0.0.1:8080").is_err());
            assert!(far.run(|| ask("10.201.0.1:8080")).join().unwrap().is_err());
            assert_eq!(ask_udp("127.0.0.1:5353").unwrap(), "10.200.0.1");

            remove().unwrap();
            // New connections only: conntrack keeps NAT for live flows.
            let out = ctr.run(|| ask("10.201.0.2:9000")).join().unwrap();
            assert!(out.is_err(), "{out:?}");
            stop.store(true, Ordering::Relaxed);
        });
    }

    /// A bridge with the host's address on it.
    fn bridge(name: &str, cidr: &str) {
        ok(&format!(
            "ip link add {name} type bridge && ip addr add {cidr} dev {name} && ip link set {name} up"
        ));
    }

    /// `ns` on bridge `br` through veth `{veth}h`/`{veth}c`, at `cidr`,
    /// routed through `gw`.
    fn plug(ns: &Ns, veth: &str, br: &str, cidr: &str, gw: &str) {
        ok(&format!(
            "ip link add {veth}h type veth peer name {veth}c && ip link set {veth}h master {br} up"
        ));
        ok(&format!("ip link set {veth}c netns {}", ns.pid()));
        ns.sh(&format!(
            "ip link set lo up && ip addr add {cidr} dev {veth}c && ip link set {veth}c up && ip route add default via {gw}"
        ));
    }

    /// "Another host" on a link of its own: 10.201.0.2, the host 10.201.0.1.
    fn far_link(far: &Ns) {
        ok(
            "ip link add pk-o type veth peer name pk-oc && ip addr add 10.201.0.1/24 dev pk-o && ip link set pk-o up",
        );
        ok(&format!("ip link set pk-oc netns {}", far.pid()));
        far.sh("ip link set lo up && ip addr add 10.201.0.2/24 dev pk-oc && ip link set pk-oc up");
    }

    /// Send 127.0.0.1 through `gw`, as a hostile neighbour would: the
    /// local table, looked up first, would keep it on lo, and answers from
    /// 127.0.0.1 would be martians.
    fn loopback_via(ns: &Ns, gw: &str) {
        ns.sh(&format!(
            "echo 1 > /proc/sys/net/ipv4/conf/all/route_localnet && ip route add 127.0.0.1/32 via {gw} table 100 && ip rule add to 127.0.0.1 lookup 100 pref 10 && ip rule add lookup local pref 100 && ip rule del pref 0"
        ));
    }

    fn net(bridge: &str, subnet: [u8; 4]) -> Net {
        Net {
            bridge: bridge.into(),
            subnet,
            prefix: 24,
        }
    }

    fn tcp(host_ip: Option<[u8; 4]>, host_port: u16, ctr_ip: [u8; 4], ctr_port: u16) -> Port {
        Port {
            proto: Proto::Tcp,
            host_ip,
            host_port,
            ctr_ip,
            ctr_port,
        }
    }

    #[test]
    fn root_loopback_stays_on_the_host() {
        in_new_netns(|| {
            let ctr = Ns::new();
            let far = Ns::new();
            ok("ip link set lo up");
            bridge("pk-br", "10.200.0.1/24");
            plug(&ctr, "pk-a", "pk-br", "10.200.0.2/24", "10.200.0.1");
            far_link(&far);
            loopback_via(&far, "10.201.0.1");
            loopback_via(&ctr, "10.200.0.1");
            let stop = Arc::new(AtomicBool::new(false));
            ctr.serve_tcp(8000, stop.clone());
            // A service of the host's own, on loopback only.
            let (tx, rx) = std::sync::mpsc::channel();
            let s = stop.clone();
            std::thread::spawn(move || {
                let l = TcpListener::bind(("127.0.0.1", 7000)).unwrap();
                l.set_nonblocking(true).unwrap();
                tx.send(()).unwrap();
                while !s.load(Ordering::Relaxed) {
                    if let Ok((mut c, peer)) = l.accept() {
                        let _ = c.write_all(peer.ip().to_string().as_bytes());
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
            });
            rx.recv_timeout(Duration::from_secs(5)).unwrap();

            crate::net::sysctl::ip_forward().unwrap();
            crate::net::sysctl::route_localnet("pk-br").unwrap();
            let ctr_ip = [10, 200, 0, 2];
            let ports = [
                tcp(Some([127, 0, 0, 1]), 8080, ctr_ip, 8000),
                tcp(None, 8081, ctr_ip, 8000),
            ];
            sync(&[net("pk-br", [10, 200, 0, 0])], &ports).unwrap();

            // The host itself reaches both ports and its own service.
            assert_eq!(ask("127.0.0.1:8080").unwrap(), "10.200.0.1");
            assert_eq!(ask("127.0.0.1:8081").unwrap(), "10.200.0.1");
            assert_eq!(ask("127.0.0.1:7000").unwrap(), "127.0.0.1");
            // Another host reaches the port published on all addresses,
            // but neither the loopback port nor the host's loopback
            // service, even sending 127.0.0.1 to the host's MAC.
            let out = far.run(|| ask("10.201.0.1:8081")).join().unwrap();
            assert_eq!(out.unwrap(), "10.201.0.2");
            let out = far.run(|| ask("10.201.0.1:8080")).join().unwrap();
            assert!(out.is_err(), "{out:?}");
            for port in [8080, 7000] {
                let out = far.run(move || ask(&format!("127.0.0.1:{port}")));
                let out = out.join().unwrap();
                // Timed out, not refused: sent, not kept on far's lo.
                assert!(
                    out.as_ref().is_err_and(|e| e.contains("timed out")),
                    "far to 127.0.0.1:{port}: {out:?}"
                );
            }
            // Nor does a container, on a bridge with route_localnet on.
            let out = ctr.run(|| ask("127.0.0.1:7000")).join().unwrap();
            assert!(out.is_err_and(|e| e.contains("timed out")));

            // Without the raw chain's rule the container gets through
            // (CVE-2020-8558): what the rule is there for.
            ok("nft flush chain ip pocket raw");
            let out = ctr.run(|| ask("127.0.0.1:7000")).join().unwrap();
            assert_eq!(out.unwrap(), "10.200.0.2");
            // And with the loopback port in prerouting too, far does.
            ok(
                "nft add rule ip pocket prerouting fib daddr type local ip daddr 127.0.0.1 tcp dport 8080 dnat to 10.200.0.2:8000",
            );
            let out = far.run(|| ask("127.0.0.1:8080")).join().unwrap();
            assert_eq!(out.unwrap(), "10.201.0.2");
            remove().unwrap();
            stop.store(true, Ordering::Relaxed);
        });
    }

    #[test]
    fn root_hairpin_through_a_published_port() {
        in_new_netns(|| {
            let ctr = Ns::new();
            let peer = Ns::new();
            let far = Ns::new();
            ok("ip link set lo up");
            bridge("pk-br", "10.200.0.1/24");
            plug(&ctr, "pk-a", "pk-br", "10.200.0.2/24", "10.200.0.1");
            plug(&peer, "pk-b", "pk-br", "10.200.0.3/24", "10.200.0.1");
            // The container reaching itself goes back out of the port it
            // came in by, which the bridge allows only in hairpin mode
            // (when br_netfilter sees the packet); docker sets it too.
            ok("ip link set pk-ah type bridge_slave hairpin on");
            far_link(&far);
            let stop = Arc::new(AtomicBool::new(false));
            ctr.serve_tcp(8000, stop.clone());
            crate::net::sysctl::ip_forward().unwrap();
            crate::net::sysctl::route_localnet("pk-br").unwrap();
            let nets = [net("pk-br", [10, 200, 0, 0])];
            let ports = [tcp(None, 8080, [10, 200, 0, 2], 8000)];
            // With br_netfilter's hooks on the bridge and without: in the
            // first the answer is un-NATed on its way across the bridge
            // even unmasqueraded; in the second it is not.
            let brnf = "/proc/sys/net/bridge/bridge-nf-call-iptables";
            // Without br_netfilter it is as with its hooks off.
            let modes: &[&str] = match std::path::Path::new(brnf).exists() {
                true => &["1\n", "0\n"],
                false => &["0\n"],
            };
            for &on in modes {
                if modes.len() > 1 {
                    std::fs::write(brnf, on).unwrap();
                }
                sync(&nets, &ports).unwrap();
                // A neighbour on the same bridge, and the container
                // itself, through the host's addresses: masqueraded, so
                // the answer comes back through the host.
                for addr in ["10.201.0.1:8080", "10.200.0.1:8080"] {
                    let out = peer.run(move || ask(addr)).join().unwrap();
                    assert_eq!(out.unwrap(), "10.200.0.1", "peer to {addr}, brnf {on}");
                    let out = ctr.run(move || ask(addr)).join().unwrap();
                    assert_eq!(out.unwrap(), "10.200.0.1", "self to {addr}, brnf {on}");
                }
                // Straight to the container, or from elsewhere: not
                // masqueraded.
                let out = peer.run(|| ask("10.200.0.2:8000")).join().unwrap();
                assert_eq!(out.unwrap(), "10.200.0.3");
                let out = far.run(|| ask("10.201.0.1:8080")).join().unwrap();
                assert_eq!(out.unwrap(), "10.201.0.2");

                // Without the hairpin rule the answer comes straight from
                // 10.200.0.2, which the peer never spoke to.
                let l = ok("nft -a list chain ip pocket postrouting");
                let h = l
                    .lines()
                    .find(|l| l.contains("ct status dnat masquerade"))
                    .and_then(|l| l.rsplit("# handle ").next())
                    .unwrap()
                    .trim()
                    .to_string();
                ok(&format!("nft delete rule ip pocket postrouting handle {h}"));
                let out = peer.run(|| ask("10.201.0.1:8080")).join().unwrap();
                if on == "1\n" {
                    assert_eq!(out.unwrap(), "10.200.0.3");
                } else {
                    assert!(out.is_err(), "{out:?}");
                }
            }
            remove().unwrap();
            stop.store(true, Ordering::Relaxed);
        });
    }

    #[test]
    fn root_networks_are_isolated() {
        in_new_netns(|| {
            let a = Ns::new();
            let b = Ns::new();
            let far = Ns::new();
            ok("ip link set lo up");
            bridge("pk-br", "10.200.0.1/24");
            bridge("pk-br2", "10.202.0.1/24");
            plug(&a, "pk-a", "pk-br", "10.200.0.2/24", "10.200.0.1");
            plug(&b, "pk-b", "pk-br2", "10.202.0.2/24", "10.202.0.1");
            far_link(&far);
            let stop = Arc::new(AtomicBool::new(false));
            a.serve_tcp(8000, stop.clone());
            b.serve_tcp(8000, stop.clone());
            far.serve_tcp(9000, stop.clone());
            crate::net::sysctl::ip_forward().unwrap();
            let na = net("pk-br", [10, 200, 0, 0]);
            let nb = net("pk-br2", [10, 202, 0, 0]);
            let ports = [tcp(None, 9090, [10, 202, 0, 2], 8000)];

            // With one network known, nothing stops its traffic to the
            // other bridge: the test can tell.
            sync(std::slice::from_ref(&na), &[]).unwrap();
            let out = a.run(|| ask("10.202.0.2:8000")).join().unwrap();
            assert_eq!(out.unwrap(), "10.202.0.1");

            sync(&[na, nb], &ports).unwrap();
            let out = a.run(|| ask("10.202.0.2:8000")).join().unwrap();
            assert!(out.is_err(), "a to b: {out:?}");
            let out = b.run(|| ask("10.200.0.2:8000")).join().unwrap();
            assert!(out.is_err(), "b to a: {out:?}");
            // Out to the world: still masqueraded, from both.
            for ns in [&a, &b] {
                let out = ns.run(|| ask("10.201.0.2:9000")).join().unwrap();
                assert_eq!(out.unwrap(), "10.201.0.1");
            }
            // A published port is for anyone reaching the host, another
            // network included.
            let out = a.run(|| ask("10.201.0.1:9090")).join().unwrap();
            assert_eq!(out.unwrap(), "10.202.0.1");
            let out = far.run(|| ask("10.201.0.1:9090")).join().unwrap();
            assert_eq!(out.unwrap(), "10.201.0.2");
            remove().unwrap();
            stop.store(true, Ordering::Relaxed);
        });
    }
}

/// host::sync's skip: the same rules again commit nothing (the
/// generation stays), but any commit since pocket's own (a rule added by
/// hand, a flush) has the table written again.
#[test]
fn root_the_same_rules_are_not_committed_twice() {
    in_new_netns(|| {
        let memo = std::env::temp_dir().join(format!("pocket-nft-memo-{}", std::process::id()));
        let memo = memo.to_str().unwrap().to_string();
        let _ = std::fs::remove_file(&memo);
        let generation_now = || generation(&mut Sock::open(NETLINK_NETFILTER).unwrap()).unwrap();
        let (nets, mut ports) = sample();
        let write = |n: &[Net], p: &[Port]| {
            crate::net::host::unchanged_or_write(batch(n, p).unwrap(), &memo).unwrap()
        };
        write(&nets, &ports);
        assert_eq!(listing().unwrap(), LISTING);
        let g = generation_now();
        write(&nets, &ports);
        assert_eq!(generation_now(), g, "nothing changed: no commit");
        assert_eq!(listing().unwrap(), LISTING);
        // Someone else's commit: ours again.
        ok("nft add rule ip pocket forward counter");
        write(&nets, &ports);
        assert_eq!(generation_now(), g + 2);
        assert_eq!(listing().unwrap(), LISTING);
        ok("nft flush ruleset");
        write(&nets, &ports);
        assert_eq!(listing().unwrap(), LISTING);
        // Other rules: written.
        ports.remove(0);
        let g = generation_now();
        write(&nets, &ports);
        assert_eq!(generation_now(), g + 1);
        assert!(!listing().unwrap().contains("8080"));
        // A memo from elsewhere (another namespace or boot) is not ours.
        std::fs::write(&memo, "other:1 0 0\n").unwrap();
        let g = generation_now();
        write(&nets, &ports);
        assert_eq!(generation_now(), g + 1);
        write(&[], &[]);
        assert_eq!(listing(), None);
        let _ = std::fs::remove_file(&memo);
    });
}
