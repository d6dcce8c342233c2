//! cgroup v2: one directory in the unified tree, v2 file names, values
//! converted from the OCI (v1) form the way runc and crun convert them.

use super::Resources;
use super::files::{cpuset_and_pids, write};
use super::flags::{blkio_to_io_weight, cpu_max, shares_to_weight, swap_v2};
use super::support::Support;
use crate::error::Result;
use alloc::format;
use alloc::string::ToString;

/// Apply the limits whose controllers are in `enabled` (v2 names). `r`
/// was fitted to the host (`Support::fit`); `s` names the weight file.
pub fn apply(dir: &str, enabled: &[&str], r: &Resources, s: &Support) -> Result<()> {
    let has = |c: &str| enabled.contains(&c);
    if has("memory")
        && let Some(m) = &r.memory
    {
        if let Some(l) = m.limit {
            write(dir, "memory.max", &l.to_string())?;
        }
        if let Some(sw) = swap_v2(m.limit, m.swap) {
            write(dir, "memory.swap.max", &sw)?;
        }
        if let Some(res) = m.reservation {
            write(dir, "memory.low", &res.to_string())?;
        }
    }
    if has("cpu")
        && let Some(c) = &r.cpu
    {
        if let Some(s) = c.shares.filter(|s| *s > 0) {
            write(dir, "cpu.weight", &shares_to_weight(s).to_string())?;
        }
        if let Some(v) = cpu_max(c.quota, c.period) {
            write(dir, "cpu.max", &v)?;
        }
    }
    if has("cpuset") {
        cpuset_and_pids(dir, r, true, false)?;
    }
    if has("pids") {
        cpuset_and_pids(dir, r, false, true)?;
    }
    if has("io")
        && let Some(w) = r.block_io.as_ref().and_then(|b| b.weight)
    {
        // BFQ takes the v1 range as is; iocost's io.weight needs the
        // 1..10000 scale.
        match s.blkio_weight {
            Some("io.bfq.weight") => write(dir, "io.bfq.weight", &format!("{w}"))?,
            Some(f) => write(dir, f, &format!("default {}", blkio_to_io_weight(w)))?,
            None => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroup::resources::{BlockIo, Cpu, Memory, Pids};

    #[test]
    fn writes_converted_values_into_a_fake_v2_tree() {
        let d = std::env::temp_dir().join(format!("pocket-v2-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        for f in [
            "memory.max",
            "memory.swap.max",
            "memory.low",
            "cpu.weight",
            "cpu.max",
            "cpuset.cpus",
            "pids.max",
            "io.weight",
        ] {
            std::fs::write(d.join(f), "").unwrap();
        }
        let r = Resources {
            memory: Some(Memory {
                limit: Some(64 << 20),
                swap: Some(96 << 20),
                reservation: Some(16 << 20),
                disable_oom_killer: None,
            }),
            cpu: Some(Cpu {
                shares: Some(1024),
                quota: Some(50000),
                period: Some(100000),
                cpus: Some("0-1".into()),
                mems: None,
                ..Default::default()
            }),
            pids: Some(Pids { limit: 20 }),
            block_io: Some(BlockIo { weight: Some(1000) }),
            devices: Vec::new(),
        };
        let dir = d.to_str().unwrap();
        let s = Support {
            blkio_weight: Some("io.weight"),
            ..Default::default()
        };
        apply(dir, &["memory", "cpu", "cpuset", "pids", "io"], &r, &s).unwrap();
        let rd = |f: &str| std::fs::read_to_string(d.join(f)).unwrap();
        assert_eq!(rd("memory.max"), "67108864");
        assert_eq!(rd("memory.swap.max"), "33554432"); // swap - limit
        assert_eq!(rd("memory.low"), "16777216");
        assert_eq!(rd("cpu.weight"), "39"); // 1 + (1024-2)*9999/262142
        assert_eq!(rd("cpu.max"), "50000 100000");
        assert_eq!(rd("cpuset.cpus"), "0-1");
        assert_eq!(rd("pids.max"), "20");
        assert_eq!(rd("io.weight"), "default 10000");
        // A controller that is not enabled is left alone.
        std::fs::write(d.join("pids.max"), "").unwrap();
        apply(dir, &["memory"], &r, &s).unwrap();
        assert_eq!(rd("pids.max"), "");
        std::fs::remove_dir_all(d).unwrap();
    }
}
