//! cgroup v1: limits written into one directory per hierarchy, with v1's
//! own file names and units (the OCI values are v1's).

use super::Resources;
use super::files::{cpuset_and_pids, exists, write};
use crate::error::Result;
use alloc::format;
use alloc::string::ToString;

/// Apply the limits that belong to `controllers` (those of the hierarchy
/// `dir` is in). `update` is set when changing a running container: the
/// memory+swap limit must then be raised before the memory limit.
pub fn apply(
    dir: &str,
    controllers: &[alloc::string::String],
    r: &Resources,
    update: bool,
) -> Result<()> {
    let has = |c: &str| controllers.iter().any(|x| x == c);
    if has("memory")
        && let Some(m) = &r.memory
    {
        // memsw must stay >= limit at every step: when raising, memsw
        // first; when lowering (or creating), the limit first.
        let sw = m
            .swap
            .filter(|_| exists(dir, "memory.memsw.limit_in_bytes"));
        if update && let Some(s) = sw {
            let _ = write(dir, "memory.memsw.limit_in_bytes", &s.to_string());
        }
        if let Some(l) = m.limit {
            write(dir, "memory.limit_in_bytes", &l.to_string())?;
        }
        if let Some(s) = sw {
            write(dir, "memory.memsw.limit_in_bytes", &s.to_string())?;
        }
        if let Some(res) = m.reservation {
            write(dir, "memory.soft_limit_in_bytes", &res.to_string())?;
        }
        if m.disable_oom_killer == Some(true) {
            write(dir, "memory.oom_control", "1")?;
        }
    }
    if has("cpu")
        && let Some(c) = &r.cpu
    {
        if let Some(s) = c.shares {
            write(dir, "cpu.shares", &s.to_string())?;
        }
        if let Some(p) = c.period {
            write(dir, "cpu.cfs_period_us", &p.to_string())?;
        }
        if let Some(q) = c.quota {
            write(dir, "cpu.cfs_quota_us", &q.to_string())?;
        }
    }
    if has("cpuset") {
        cpuset_and_pids(dir, r, true, false)?;
    }
    if has("pids") {
        cpuset_and_pids(dir, r, false, true)?;
    }
    if has("blkio")
        && let Some(w) = r.block_io.as_ref().and_then(|b| b.weight)
    {
        // CFQ's file, or BFQ's on kernels without CFQ.
        let name = if exists(dir, "blkio.weight") {
            "blkio.weight"
        } else {
            "blkio.bfq.weight"
        };
        write(dir, name, &format!("{w}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroup::resources::{Cpu, Memory, Pids};

    fn fake(files: &[&str]) -> std::path::PathBuf {
        let d =
            std::env::temp_dir().join(format!("pocket-v1-{}-{}", std::process::id(), files.len()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        for f in files {
            std::fs::write(d.join(f), "").unwrap();
        }
        d
    }

    #[test]
    fn writes_v1_files_in_v1_units() {
        let d = fake(&[
            "memory.limit_in_bytes",
            "memory.memsw.limit_in_bytes",
            "memory.soft_limit_in_bytes",
            "cpu.shares",
            "cpu.cfs_quota_us",
            "cpu.cfs_period_us",
            "pids.max",
        ]);
        let r = Resources {
            memory: Some(Memory {
                limit: Some(64 << 20),
                swap: Some(128 << 20),
                reservation: Some(32 << 20),
                disable_oom_killer: None,
            }),
            cpu: Some(Cpu {
                shares: Some(512),
                quota: Some(50000),
                period: Some(100000),
                cpus: Some("0".into()),
                mems: None,
            }),
            pids: Some(Pids { limit: 20 }),
            block_io: None,
        };
        let dir = d.to_str().unwrap();
        apply(dir, &["memory".into()], &r, false).unwrap();
        let rd = |f: &str| std::fs::read_to_string(d.join(f)).unwrap();
        assert_eq!(rd("memory.limit_in_bytes"), "67108864");
        assert_eq!(rd("memory.memsw.limit_in_bytes"), "134217728");
        assert_eq!(rd("memory.soft_limit_in_bytes"), "33554432");
        // Only this hierarchy's controllers are touched.
        assert_eq!(
            (rd("cpu.shares"), rd("pids.max")),
            (String::new(), String::new())
        );
        apply(dir, &["cpu".into(), "cpuacct".into()], &r, false).unwrap();
        assert_eq!(
            (
                rd("cpu.shares"),
                rd("cpu.cfs_quota_us"),
                rd("cpu.cfs_period_us")
            ),
            ("512".into(), "50000".into(), "100000".into())
        );
        apply(dir, &["pids".into()], &r, false).unwrap();
        assert_eq!(rd("pids.max"), "20");
        let r = Resources {
            pids: Some(Pids { limit: -1 }),
            ..Default::default()
        };
        apply(dir, &["pids".into()], &r, false).unwrap();
        assert_eq!(rd("pids.max"), "max");
        std::fs::remove_dir_all(d).unwrap();
    }
}
