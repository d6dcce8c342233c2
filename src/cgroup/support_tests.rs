//! Unit tests of support.rs: detection from fake control-file sets, and
//! docker's decision for each limit a host cannot enforce.

use super::*;
use crate::cgroup::resources::{BlockIo, Cpu, Memory, Pids};

const HYBRID: &[u8] = b"\
32 31 0:29 / /c/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
34 31 0:31 / /c/cpuset rw - cgroup cgroup rw,cpuset
35 31 0:32 / /c/memory rw - cgroup cgroup rw,memory
38 31 0:35 / /c/blkio rw - cgroup cgroup rw,blkio
39 31 0:36 / /c/pids rw - cgroup cgroup rw,pids
41 31 0:38 / /c/unified rw - cgroup2 cgroup2 rw
";

const V2: &[u8] = b"25 1 0:22 / /c rw - cgroup2 cgroup2 rw\n";

/// The files of this machine's kind: v1, swap accounting, RT groups,
/// mq-deadline (no BFQ, so no blkio weight file).
const THIS_HOST: &[&str] = &[
    "/c/memory/pocket/memory.memsw.limit_in_bytes",
    "/c/memory/pocket/memory.soft_limit_in_bytes",
    "/c/memory/pocket/memory.oom_control",
    "/c/cpu,cpuacct/pocket/cpu.shares",
    "/c/cpu,cpuacct/pocket/cpu.cfs_quota_us",
    "/c/cpu,cpuacct/pocket/cpu.cfs_period_us",
    "/c/cpu,cpuacct/pocket/cpu.rt_runtime_us",
    "/c/cpu,cpuacct/pocket/cpu.rt_period_us",
    "/c/cpuset/pocket/cpuset.cpus",
    "/c/pids/pocket/pids.max",
];

fn detect(mountinfo: &[u8], files: &[&str]) -> Support {
    let l = Layout::parse(mountinfo, |_| b"cpuset cpu io memory pids".to_vec());
    Support::detect(&l, "pocket", |d, f| {
        files.contains(&format!("{d}/{f}").as_str())
    })
}

fn full() -> Resources {
    Resources {
        memory: Some(Memory {
            limit: Some(64 << 20),
            reservation: Some(32 << 20),
            swap: Some(128 << 20),
            disable_oom_killer: Some(true),
        }),
        cpu: Some(Cpu {
            shares: Some(512),
            quota: Some(50_000),
            period: Some(100_000),
            cpus: Some("0".into()),
            mems: Some("0".into()),
            realtime_runtime: None,
            realtime_period: None,
        }),
        pids: Some(Pids { limit: 20 }),
        block_io: Some(BlockIo { weight: Some(300) }),
        devices: Vec::new(),
    }
}

#[test]
fn v1_host_without_bfq() {
    let s = detect(HYBRID, THIS_HOST);
    assert!(s.memory && s.swap && s.reservation && s.oom_kill_disable);
    assert!(s.cpu_shares && s.cfs && s.rt && s.cpuset && s.pids);
    assert_eq!(s.blkio_weight, None);
    let mut r = full();
    let w = s.fit(&mut r, false).unwrap();
    assert_eq!(w, [BLKIO]);
    assert_eq!(r.block_io, None);
    // Everything else is kept as it was.
    let mut want = full();
    want.block_io = None;
    assert_eq!(r, want);
}

#[test]
fn weight_files_in_preference_order() {
    let with = |f: &str| {
        let mut v = THIS_HOST.to_vec();
        v.push(f);
        detect(HYBRID, &v).blkio_weight
    };
    assert_eq!(
        with("/c/blkio/pocket/blkio.bfq.weight"),
        Some("blkio.bfq.weight")
    );
    assert_eq!(with("/c/blkio/pocket/blkio.weight"), Some("blkio.weight"));
    let v2 = |files: &[&str]| detect(V2, files).blkio_weight;
    assert_eq!(
        v2(&["/c/pocket/io.weight", "/c/pocket/io.bfq.weight"]),
        Some("io.bfq.weight")
    );
    assert_eq!(v2(&["/c/pocket/io.weight"]), Some("io.weight"));
    // Only in a group below the root: the root's own files do not count.
    assert_eq!(v2(&["/c/io.bfq.weight"]), None);
}

#[test]
fn v2_host_warns_for_oom_kill_disable_and_refuses_realtime() {
    let files = [
        "/c/pocket/memory.swap.max",
        "/c/pocket/memory.low",
        "/c/pocket/cpu.weight",
        "/c/pocket/cpu.max",
        "/c/pocket/cpuset.cpus",
        "/c/pocket/pids.max",
        "/c/pocket/io.bfq.weight",
    ];
    let s = detect(V2, &files);
    assert!(s.memory && s.swap && s.reservation && !s.oom_kill_disable && !s.rt);
    let mut r = full();
    assert_eq!(s.fit(&mut r, false).unwrap(), [OOM]);
    assert_eq!(r.memory.as_ref().unwrap().disable_oom_killer, None);
    assert_eq!(r.block_io, full().block_io);
    for (rt, p, what) in [(Some(950), None, "runtime"), (None, Some(1000), "period")] {
        let mut r = full();
        let c = r.cpu.as_mut().unwrap();
        (c.realtime_runtime, c.realtime_period) = (rt, p);
        let e = s.fit(&mut r, false).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("--cpu-rt-{what}: Your kernel does not support cgroup cpu real-time {what}")
        );
        assert_eq!(e.code, 125);
    }
}

#[test]
fn no_swap_accounting_keeps_the_memory_limit() {
    let files: Vec<&str> = THIS_HOST
        .iter()
        .copied()
        .filter(|f| !f.contains("memsw"))
        .collect();
    let s = detect(HYBRID, &files);
    assert!(!s.swap);
    let mut r = full();
    let w = s.fit(&mut r, false).unwrap();
    assert_eq!(w, [SWAP, BLKIO]);
    let m = r.memory.unwrap();
    assert_eq!((m.limit, m.swap), (Some(64 << 20), None));
    // Unlimited swap asks for nothing: no warning.
    let mut r = Resources {
        memory: Some(Memory {
            limit: Some(64 << 20),
            swap: Some(-1),
            ..Default::default()
        }),
        ..Default::default()
    };
    assert!(s.fit(&mut r, false).unwrap().is_empty());
}

#[test]
fn missing_controllers_warn_and_discard_but_cpus_is_refused() {
    // Only memory is mounted.
    let mi = b"35 31 0:32 / /c/memory rw - cgroup cgroup rw,memory\n";
    let s = detect(mi, &["/c/memory/pocket/memory.soft_limit_in_bytes"]);
    let mut r = full();
    let w = s.fit(&mut r, false).unwrap();
    assert_eq!(w, [SWAP, OOM, PIDS, SHARES, PERIOD, QUOTA, CPUSET, BLKIO]);
    assert_eq!(
        r,
        Resources {
            memory: Some(Memory {
                limit: Some(64 << 20),
                reservation: Some(32 << 20),
                ..Default::default()
            }),
            ..Default::default()
        }
    );
    let mut r = full();
    let e = s.fit(&mut r, true).unwrap_err();
    assert!(e.to_string().contains("NanoCPUs can not be set"), "{e}");
    // Nothing mounted at all: every limit goes, with its own warning.
    let none = detect(b"", &[]);
    let mut r = full();
    let w = none.fit(&mut r, false).unwrap();
    assert_eq!(w.len(), 9);
    assert_eq!(w[0], MEMORY);
    assert!(r.is_empty(), "{r:?}");
    // An empty request never warns.
    let mut r = Resources::default();
    assert!(none.fit(&mut r, true).unwrap().is_empty());
}

#[test]
fn devices_cgroup_v1_bpf_or_refused_as_docker() {
    // This host's kind: a v1 devices hierarchy.
    let with_devices = [
        HYBRID,
        b"36 31 0:33 / /c/devices rw - cgroup cgroup rw,devices\n",
    ]
    .concat();
    let mut files = THIS_HOST.to_vec();
    files.push("/c/devices/pocket/devices.allow");
    assert_eq!(
        detect(&with_devices, &files).devices,
        Some(DeviceCgroup::V1)
    );
    // v2 (pure, or hybrid without a v1 devices hierarchy): BPF.
    assert_eq!(detect(V2, &[]).devices, Some(DeviceCgroup::Bpf));
    assert_eq!(detect(HYBRID, THIS_HOST).devices, Some(DeviceCgroup::Bpf));
    // Neither: a restricting rule set is refused, with docker's words.
    let mi = b"35 31 0:32 / /c/memory rw - cgroup cgroup rw,memory\n";
    let none = detect(mi, &[]);
    assert_eq!(none.devices, None);
    let mut r = Resources {
        devices: crate::cgroup::devices::defaults(),
        ..Default::default()
    };
    let e = none.fit(&mut r, false).unwrap_err();
    assert_eq!(
        (e.to_string().as_str(), e.code),
        ("devices cgroup: Devices cgroup isn't mounted", 125)
    );
    // Allow-all (--privileged) and no rules at all (update) need none.
    r.devices = crate::cgroup::devices::allow_all();
    assert!(none.fit(&mut r, false).is_ok());
    assert!(none.fit(&mut Resources::default(), false).is_ok());
}
