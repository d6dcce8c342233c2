//! Unit tests of flags.rs (kept apart: the module stays readable).

use super::*;

const MIB: i64 = 1024 * 1024;
const HOST2: &[u32] = &[0, 1];

fn run(flags: &[(&str, &str)]) -> Result<Resources> {
    build(flags, HOST2, &[0])
}

fn err(flags: &[(&str, &str)]) -> String {
    run(flags).unwrap_err().to_string()
}

fn mem(flags: &[(&str, &str)]) -> Memory {
    run(flags).unwrap().memory.unwrap()
}

fn cpu(flags: &[(&str, &str)]) -> Cpu {
    run(flags).unwrap().cpu.unwrap()
}

#[test]
fn sizes() {
    let ok: &[(&str, i64)] = &[
        ("0", 0),
        ("100", 100),
        ("100b", 100),
        ("100B", 100),
        ("100k", 100 << 10),
        ("100K", 100 << 10),
        ("64m", 64 * MIB),
        ("64mb", 64 * MIB),
        ("64MB", 64 * MIB),
        ("64MiB", 64 * MIB),
        ("64 m", 64 * MIB),
        ("1g", 1 << 30),
        ("1GB", 1 << 30),
        ("1.5g", 3 << 29),
        ("1.5", 1),
        (".5k", 512),
        ("0.1m", 104_857),
        ("2t", 2 << 40),
        ("1p", 1 << 50),
        ("007k", 7 << 10),
        ("8191p", 8191 << 50),
        ("9223372036854775807", i64::MAX),
    ];
    for &(s, want) in ok {
        assert_eq!(parse_bytes(s), Some(want), "{s}");
    }
    let refused = [
        "",
        " ",
        "-1",
        "-1m",
        "+1m",
        "m",
        "b",
        ".",
        "1..5",
        "1.5.2",
        "1e3",
        "12x",
        "1mm",
        "1bb",
        "1kbb",
        "1ki",
        "1ib",
        "1 ",
        "1  m",
        " 1m",
        "1m ",
        "1.m.",
        "8192p",
        "9223372036854775808",
        "99999999999999999999999999999g",
        "1\0",
    ];
    for s in refused {
        assert_eq!(parse_bytes(s), None, "{s:?}");
    }
}

#[test]
fn cpusets() {
    let ok: &[(&str, &[u32])] = &[
        ("0", &[0]),
        ("0-2,4", &[0, 1, 2, 4]),
        ("4,0-2", &[0, 1, 2, 4]),
        ("1,1,0", &[0, 1]),
        ("3-3", &[3]),
        ("8191", &[8191]),
    ];
    for &(s, want) in ok {
        assert_eq!(parse_cpuset(s).as_deref(), Some(want), "{s}");
    }
    let refused = [
        "",
        ",",
        "0,",
        ",0",
        "0,,1",
        "1-0",
        "-1",
        "0-",
        "-",
        "0-1-2",
        "a",
        "0x1",
        "+1",
        " 0",
        "0 ",
        "1.5",
        "8192",
        "0-8192",
        "0-4294967295",
        "99999999999",
    ];
    for s in refused {
        assert_eq!(parse_cpuset(s), None, "{s:?}");
    }
    assert_eq!(format_cpuset(&[0, 1, 2, 4, 6, 7]), "0-2,4,6-7");
    assert_eq!(format_cpuset(&[3]), "3");
    assert_eq!(format_cpuset(&[]), "");
}

#[test]
fn no_flags_no_resources() {
    assert!(run(&[]).unwrap().is_empty());
    let zeros = [
        ("memory", "0"),
        ("memory-swap", "0"),
        ("memory-reservation", "0"),
        ("cpu-shares", "0"),
        ("cpu-quota", "0"),
        ("cpu-period", "0"),
        ("pids-limit", "0"),
        ("pids-limit", "-1"),
        ("blkio-weight", "0"),
        ("oom-kill-disable", "false"),
    ];
    assert!(run(&zeros).unwrap().is_empty());
}

#[test]
fn memory_limits_and_default_swap() {
    let m = mem(&[("memory", "6m")]);
    assert_eq!((m.limit, m.swap), (Some(6 * MIB), Some(12 * MIB)));
    assert_eq!(mem(&[("memory", "1g")]).swap, Some(2 << 30));
    assert_eq!(
        err(&[("memory", "5m")]),
        "invalid argument --memory 5m: Minimum memory limit allowed is 6MB"
    );
    assert_eq!(mem(&[("memory", "6291456")]).limit, Some(MIN_MEMORY));
    assert!(run(&[("memory", "6291455")]).is_err());
    // Last one wins.
    assert_eq!(
        mem(&[("memory", "5m"), ("memory", "7m")]).limit,
        Some(7 * MIB)
    );
    assert!(run(&[("memory", "7m"), ("memory", "5m")]).is_err());
    // A huge limit does not overflow its doubled swap.
    assert_eq!(mem(&[("memory", "8191p")]).swap, Some(i64::MAX));
    for v in ["", "-1", "-6m", "6x", "abc", "6 mb ", "1e9"] {
        assert!(
            err(&[("memory", v)])
                .starts_with(&format!("invalid argument --memory {v}: invalid size")),
            "{v:?}"
        );
    }
}

#[test]
fn memory_swap() {
    let m = mem(&[("memory", "64m"), ("memory-swap", "128m")]);
    assert_eq!((m.limit, m.swap), (Some(64 * MIB), Some(128 * MIB)));
    // Equal: no swap at all.
    assert_eq!(
        mem(&[("memory", "64m"), ("memory-swap", "64m")]).swap,
        Some(64 * MIB)
    );
    // Order on the command line does not matter.
    assert_eq!(
        mem(&[("memory-swap", "1g"), ("memory", "64m")]).swap,
        Some(1 << 30)
    );
    assert_eq!(
        mem(&[("memory", "64m"), ("memory-swap", "-1")]).swap,
        Some(-1)
    );
    // -1 without -m is fine for docker (unlimited swap, nothing to compare).
    let m = mem(&[("memory-swap", "-1")]);
    assert_eq!((m.limit, m.swap), (None, Some(-1)));
    // 0 means "default": twice the memory.
    assert_eq!(
        mem(&[("memory", "64m"), ("memory-swap", "0")]).swap,
        Some(128 * MIB)
    );
    assert_eq!(
        err(&[("memory-swap", "1g")]),
        "invalid argument --memory-swap 1g: You should always set the Memory limit when using Memoryswap limit"
    );
    assert_eq!(
        err(&[("memory", "64m"), ("memory-swap", "32m")]),
        "invalid argument --memory-swap 32m: Minimum memoryswap limit should be larger than memory limit"
    );
    for v in ["-2", "-1m", "", "x"] {
        assert!(
            run(&[("memory", "64m"), ("memory-swap", v)]).is_err(),
            "{v:?}"
        );
    }
}

#[test]
fn memory_reservation_and_oom() {
    let m = mem(&[("memory-reservation", "6m")]);
    assert_eq!(
        (m.reservation, m.limit, m.swap),
        (Some(6 * MIB), None, None)
    );
    assert_eq!(
        err(&[("memory-reservation", "5m")]),
        "invalid argument --memory-reservation 5m: Minimum memory reservation allowed is 6MB"
    );
    assert_eq!(
        mem(&[("memory", "64m"), ("memory-reservation", "64m")]).reservation,
        Some(64 * MIB)
    );
    assert_eq!(
        err(&[("memory", "64m"), ("memory-reservation", "65m")]),
        "invalid argument --memory 64m: Minimum memory limit can not be less than memory reservation limit"
    );
    assert_eq!(
        mem(&[("oom-kill-disable", "true")]).disable_oom_killer,
        Some(true)
    );
    assert_eq!(
        mem(&[
            ("oom-kill-disable", "true"),
            ("oom-kill-disable", "false"),
            ("memory", "6m")
        ])
        .disable_oom_killer,
        None
    );
    for v in ["", "yes", "2"] {
        assert!(run(&[("oom-kill-disable", v)]).is_err(), "{v:?}");
    }
}

#[test]
fn cpus() {
    let ok: &[(&str, i64)] = &[
        ("0.01", 1000),
        ("0.5", 50_000),
        (".5", 50_000),
        ("1", 100_000),
        ("1.5", 150_000),
        ("2", 200_000),
        ("2.000000000", 200_000),
        ("0.123456789", 12_345), // truncated, as moby does
    ];
    for &(v, quota) in ok {
        let c = cpu(&[("cpus", v)]);
        assert_eq!((c.quota, c.period), (Some(quota), Some(100_000)), "{v}");
    }
    assert_eq!(
        err(&[("cpus", "3")]),
        "invalid argument --cpus 3: Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available"
    );
    for v in ["0", "0.0", "0.009", "2.000000001", "3"] {
        assert!(err(&[("cpus", v)]).contains("Range of CPUs"), "{v}");
    }
    let junk = [
        "",
        ".",
        "-1",
        "-0.5",
        "1/2",
        "1e0",
        "one",
        "1.5.",
        "0.0000000001",
        " 1",
        "99999999999999999999",
    ];
    for v in junk {
        assert!(run(&[("cpus", v)]).is_err(), "{v:?}");
    }
    assert_eq!(
        err(&[("cpus", "0.0000000001")]),
        "invalid argument --cpus 0.0000000001: value is too precise"
    );
    // Last one wins.
    assert_eq!(cpu(&[("cpus", "3"), ("cpus", "1")]).quota, Some(100_000));
    // Host size unknown: only the lower bound applies.
    assert!(build(&[("cpus", "64")], &[], &[]).is_ok());
    let huge = build(&[("cpus", "10000000000")], &[], &[]).unwrap();
    assert_eq!(huge.cpu.unwrap().quota, Some(1_000_000_000_000_000));
    assert!(build(&[("cpus", "0.001")], &[], &[]).is_err());
    assert_eq!(
        err(&[("cpus", "1"), ("cpu-period", "50000")]),
        "invalid argument --cpus 1: Conflicting options: Nano CPUs and CPU Period cannot both be set"
    );
    assert_eq!(
        err(&[("cpu-quota", "50000"), ("cpus", "1")]),
        "invalid argument --cpus 1: Conflicting options: Nano CPUs and CPU Quota cannot both be set"
    );
    assert!(run(&[("cpus", "1"), ("cpu-quota", "-1")]).is_err());
}

#[test]
fn cpu_quota_period_shares() {
    let c = cpu(&[("cpu-quota", "50000"), ("cpu-period", "100000")]);
    assert_eq!((c.quota, c.period), (Some(50_000), Some(100_000)));
    for (v, ok) in [
        ("1000", true),
        ("-1", true),
        ("999", false),
        ("1", false),
        ("-2", false),
        ("x", false),
        ("", false),
    ] {
        assert_eq!(run(&[("cpu-quota", v)]).is_ok(), ok, "quota {v:?}");
    }
    assert_eq!(cpu(&[("cpu-quota", "-1")]).quota, Some(-1));
    for (v, ok) in [
        ("1000", true),
        ("1000000", true),
        ("999", false),
        ("1000001", false),
        ("-1", false),
        ("1.5", false),
    ] {
        assert_eq!(run(&[("cpu-period", v)]).is_ok(), ok, "period {v:?}");
    }
    assert_eq!(
        err(&[("cpu-period", "999")]),
        "invalid argument --cpu-period 999: CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"
    );
    for (v, want) in [
        ("1", 2),
        ("2", 2),
        ("512", 512),
        ("1024", 1024),
        ("262144", 262_144),
        ("262145", 262_144),
        ("999999999", 262_144),
    ] {
        assert_eq!(cpu(&[("cpu-shares", v)]).shares, Some(want), "shares {v}");
    }
    for v in ["-1", "", "1k", "99999999999999999999"] {
        assert!(run(&[("cpu-shares", v)]).is_err(), "shares {v:?}");
    }
}

#[test]
fn cpuset_flags() {
    assert_eq!(cpu(&[("cpuset-cpus", "0")]).cpus.as_deref(), Some("0"));
    assert_eq!(
        cpu(&[("cpuset-cpus", " 0-1 ")]).cpus.as_deref(),
        Some("0-1")
    );
    assert_eq!(cpu(&[("cpuset-cpus", "1,0")]).cpus.as_deref(), Some("1,0"));
    assert_eq!(
        err(&[("cpuset-cpus", "2")]),
        "invalid argument --cpuset-cpus 2: Requested CPUs are not available - requested 2, available: 0-1"
    );
    assert_eq!(
        build(&[("cpuset-cpus", "0,8")], &[0, 1], &[])
            .unwrap_err()
            .to_string(),
        "invalid argument --cpuset-cpus 0,8: Requested CPUs are not available - requested 8, available: 0-1"
    );
    assert_eq!(
        err(&[("cpuset-cpus", "1-0")]),
        "invalid argument --cpuset-cpus 1-0: Invalid value 1-0 for cpuset cpus: invalid format: 1-0"
    );
    for v in ["", " ", "0,", "a", "-1", "0-1-2"] {
        assert!(run(&[("cpuset-cpus", v)]).is_err(), "{v:?}");
    }
    assert_eq!(cpu(&[("cpuset-mems", "0")]).mems.as_deref(), Some("0"));
    assert_eq!(
        err(&[("cpuset-mems", "1")]),
        "invalid argument --cpuset-mems 1: Requested memory nodes are not available - requested 1, available: 0"
    );
    // Last one wins, and only it is checked against the host.
    assert_eq!(
        cpu(&[("cpuset-cpus", "8"), ("cpuset-cpus", "1")])
            .cpus
            .as_deref(),
        Some("1")
    );
    assert!(run(&[("cpuset-cpus", "1"), ("cpuset-cpus", "8")]).is_err());
    // Host lists not known: only the syntax is checked.
    assert!(build(&[("cpuset-cpus", "7"), ("cpuset-mems", "3")], &[], &[]).is_ok());
}

#[test]
fn pids_and_blkio() {
    let pids = |v: &str| run(&[("pids-limit", v)]).map(|r| r.pids);
    assert_eq!(pids("100").unwrap(), Some(Pids { limit: 100 }));
    assert_eq!(pids("1").unwrap(), Some(Pids { limit: 1 }));
    assert_eq!(pids("0").unwrap(), None);
    assert_eq!(pids("-1").unwrap(), None);
    for v in ["-2", "", "x", "1.5", "99999999999999999999"] {
        assert!(pids(v).is_err(), "{v:?}");
    }
    let blkio = |v: &str| run(&[("blkio-weight", v)]).map(|r| r.block_io);
    assert_eq!(blkio("10").unwrap(), Some(BlockIo { weight: Some(10) }));
    assert_eq!(blkio("1000").unwrap(), Some(BlockIo { weight: Some(1000) }));
    assert_eq!(blkio("0").unwrap(), None);
    for v in ["9", "1001", "-1", "65536", "", "x"] {
        assert!(blkio(v).is_err(), "{v:?}");
    }
    assert_eq!(
        blkio("9").unwrap_err().to_string(),
        "invalid argument --blkio-weight 9: Range of blkio weight is from 10 to 1000"
    );
}

#[test]
fn everything_together_and_errors_are_125() {
    let r = run(&[
        ("memory", "64mb"),
        ("memory-reservation", "32m"),
        ("cpus", "1.5"),
        ("cpu-shares", "512"),
        ("cpuset-cpus", "0-1"),
        ("cpuset-mems", "0"),
        ("pids-limit", "64"),
        ("blkio-weight", "500"),
    ])
    .unwrap();
    assert_eq!(
        r,
        Resources {
            memory: Some(Memory {
                limit: Some(64 * MIB),
                reservation: Some(32 * MIB),
                swap: Some(128 * MIB),
                disable_oom_killer: None,
            }),
            cpu: Some(Cpu {
                shares: Some(512),
                quota: Some(150_000),
                period: Some(100_000),
                cpus: Some("0-1".into()),
                mems: Some("0".into()),
                ..Default::default()
            }),
            pids: Some(Pids { limit: 64 }),
            block_io: Some(BlockIo { weight: Some(500) }),
            devices: Vec::new(),
        }
    );
    let e = run(&[("frobnicate", "1")]).unwrap_err();
    assert_eq!(e.code, 125);
    assert_eq!(
        e.to_string(),
        "invalid argument --frobnicate 1: not a resource flag"
    );
    assert_eq!(run(&[("memory", "5m")]).unwrap_err().code, 125);
}

#[test]
fn no_panic_on_odd_input() {
    let odd = [
        "",
        "-",
        "-0",
        "\u{e9}",
        "1\u{e9}",
        "0x10",
        "\0",
        "18446744073709551616",
        "1.",
        "9".repeat(400).leak(),
    ];
    let names = [
        "memory",
        "memory-swap",
        "memory-reservation",
        "cpus",
        "cpu-shares",
        "cpu-quota",
        "cpu-period",
        "cpuset-cpus",
        "cpuset-mems",
        "pids-limit",
        "blkio-weight",
        "oom-kill-disable",
    ];
    for n in names {
        for v in odd {
            let _ = run(&[(n, v)]);
        }
    }
}

#[test]
fn v2_weights() {
    assert_eq!(shares_to_weight(0), 0);
    assert_eq!(shares_to_weight(2), 1);
    assert_eq!(shares_to_weight(1024), 39);
    assert_eq!(shares_to_weight(262_144), 10_000);
    assert_eq!(shares_to_weight(1), 1); // clamped, no underflow
    assert_eq!(shares_to_weight(u64::MAX), 10_000);
    assert_eq!(blkio_to_io_weight(0), 0);
    assert_eq!(blkio_to_io_weight(10), 1);
    assert_eq!(blkio_to_io_weight(500), 4950); // 1 + 490*9999/990 = 1 + 4949
    assert_eq!(blkio_to_io_weight(1000), 10_000);
    assert_eq!(blkio_to_io_weight(1), 1);
    assert_eq!(blkio_to_io_weight(u16::MAX), 10_000);
}

#[test]
fn v2_cpu_max() {
    assert_eq!(cpu_max(None, None), None);
    assert_eq!(cpu_max(Some(0), Some(0)), None);
    assert_eq!(
        cpu_max(Some(50_000), Some(100_000)).as_deref(),
        Some("50000 100000")
    );
    assert_eq!(
        cpu_max(Some(-1), Some(100_000)).as_deref(),
        Some("max 100000")
    );
    assert_eq!(cpu_max(None, Some(100_000)).as_deref(), Some("max 100000"));
    assert_eq!(cpu_max(Some(50_000), None).as_deref(), Some("50000"));
    assert_eq!(cpu_max(Some(-1), None).as_deref(), Some("max"));
}

#[test]
fn v2_swap() {
    assert_eq!(swap_v2(Some(64), None), None);
    assert_eq!(swap_v2(None, None), None);
    assert_eq!(swap_v2(Some(64), Some(0)), None);
    assert_eq!(swap_v2(Some(64), Some(-1)).as_deref(), Some("max"));
    assert_eq!(swap_v2(None, Some(-1)).as_deref(), Some("max"));
    assert_eq!(swap_v2(Some(64), Some(128)).as_deref(), Some("64"));
    assert_eq!(swap_v2(Some(64), Some(64)).as_deref(), Some("0"));
    assert_eq!(swap_v2(Some(64), Some(32)).as_deref(), Some("0"));
    assert_eq!(swap_v2(None, Some(128)), None);
    assert_eq!(swap_v2(Some(-1), Some(128)), None);
    // Default from build: twice the memory -> as much swap as memory.
    let m = mem(&[("memory", "64m")]);
    assert_eq!(swap_v2(m.limit, m.swap), Some(format!("{}", 64 * MIB)));
}

#[test]
fn realtime() {
    let c = cpu(&[("cpu-rt-period", "1000000"), ("cpu-rt-runtime", "950000")]);
    assert_eq!(
        (c.realtime_period, c.realtime_runtime),
        (Some(1_000_000), Some(950_000))
    );
    // 0 is unset; -1 (no limit) is the kernel's to judge.
    assert!(run(&[("cpu-rt-runtime", "0")]).unwrap().cpu.is_none());
    assert_eq!(cpu(&[("cpu-rt-runtime", "-1")]).realtime_runtime, Some(-1));
    assert_eq!(
        err(&[("cpu-rt-period", "1000"), ("cpu-rt-runtime", "2000")]),
        "invalid argument --cpu-rt-runtime 2000: cpu real-time runtime cannot be higher than cpu real-time period"
    );
    assert!(err(&[("cpu-rt-period", "-5")]).contains("positive"));
    assert!(err(&[("cpu-rt-runtime", "x")]).contains("not an integer"));
}

/// Hostile resource flags: `NAME=VALUE` words (a space apart) through
/// `build`, each VALUE also through `parse_bytes` and `parse_cpuset`.
/// Refusals are one line; a size prints back as its byte count, a
/// cpuset as `format_cpuset`'s ranges, and the Resources as OCI JSON,
/// each reading back the same.
#[test]
fn hostile_resource_flags() {
    let corpus: &[&[u8]] = &[
        b"memory=64m memory-swap=1g memory-reservation=32MiB oom-kill-disable=true",
        b"cpus=1.5 cpu-shares=512 cpuset-cpus=0-1 cpuset-mems=0 pids-limit=100",
        b"cpu-quota=50000 cpu-period=100000 blkio-weight=500 cpu-rt-period=1000000 cpu-rt-runtime=950000",
        b"memory=1.5 GB cpuset-cpus=1,0,1 memory-swap=-1",
        b"cpuset-cpus=0-8191 memory=9223372036854775807",
    ];
    let dict: &[&[u8]] = &[
        b" memory=",
        b" cpuset-cpus=",
        b" cpus=",
        b" memory-swap=",
        b"k",
        b"m",
        b"g",
        b"ib",
        b"b",
        b".",
        b",",
        b"-",
        b"8191",
        b"8192",
    ];
    crate::rt::fuzz::run(
        "resource flags",
        corpus,
        dict,
        std::time::Duration::from_secs(60),
        |b| {
            let text = String::from_utf8_lossy(b);
            let pairs: Vec<(&str, &str)> = text
                .split(' ')
                .map(|w| w.split_once('=').unwrap_or((w, "")))
                .collect();
            for &(_, v) in &pairs {
                if let Some(n) = parse_bytes(v) {
                    assert!(n >= 0, "{v}: {n}");
                    assert_eq!(parse_bytes(&n.to_string()), Some(n), "{v}");
                }
                if let Some(list) = parse_cpuset(v) {
                    assert!(!list.is_empty() && list.windows(2).all(|w| w[0] < w[1]));
                    assert!(list.iter().all(|&i| i <= CPUSET_MAX), "{v}");
                    let again = format_cpuset(&list);
                    assert_eq!(parse_cpuset(&again).as_ref(), Some(&list), "{v}: {again}");
                }
            }
            let r = build(&pairs, &[0, 1, 2, 3], &[0]).map_err(|e| format!("{e}"))?;
            assert_eq!(Resources::from_json(&r.to_json()), r, "{text}");
            Ok(())
        },
    );
}
