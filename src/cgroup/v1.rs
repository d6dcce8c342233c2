//! cgroup v1: limits written into one directory per hierarchy, with v1's
//! own file names and units (the OCI values are v1's).

use super::Resources;
use super::files::{cpuset_and_pids, read, write};
use super::support::Support;
use crate::error::{Error, Result};
use alloc::format;
use alloc::string::ToString;

/// Apply the limits that belong to `controllers` (those of the hierarchy
/// `dir` is in). `r` was fitted to the host (`Support::fit`): everything
/// in it has its file; `s` names the file where the kernel offers two.
/// `update` is set when changing a running container: the memory+swap
/// limit must then be raised before the memory limit.
pub fn apply(
    dir: &str,
    controllers: &[alloc::string::String],
    r: &Resources,
    s: &Support,
    update: bool,
) -> Result<()> {
    let has = |c: &str| controllers.iter().any(|x| x == c);
    if has("memory")
        && let Some(m) = &r.memory
    {
        // memsw must stay >= limit at every step: when raising, memsw
        // first; when lowering (or creating), the limit first.
        let sw = m.swap;
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
        if let Some(p) = c.realtime_period {
            write(dir, "cpu.rt_period_us", &p.to_string())?;
        }
        if let Some(rt) = c.realtime_runtime {
            rt_budget(dir, rt, c.realtime_period)?;
            write(dir, "cpu.rt_runtime_us", &rt.to_string())?;
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
        && let Some(name) = s.blkio_weight
    {
        // CFQ's blkio.weight, or BFQ's: both take the weight as is.
        write(dir, name, &format!("{w}"))?;
    }
    Ok(())
}

/// A group's real-time runtime must fit in its parent's: the kernel
/// refuses (EINVAL) a child whose runtime/period exceeds what the parent
/// has left. docker's daemon gives its parent group a budget at start
/// (`--cpu-rt-runtime`); pocket has no daemon, so it raises the budget of
/// the parent (`pocket/`) to what its children ask, when they ask, and
/// gives it back as they go ([`rt_release`]). The root keeps its own limit
/// (95% by default): beyond that the kernel says no, and the error says
/// whose budget ran out.
fn rt_budget(dir: &str, runtime: i64, period: Option<u64>) -> Result<()> {
    let Some((parent, me)) = dir.rsplit_once('/') else {
        return Ok(());
    };
    let (Some(p_rt), Some(p_period)) = (
        num(parent, "cpu.rt_runtime_us"),
        num(parent, "cpu.rt_period_us"),
    ) else {
        return Ok(());
    };
    let my_period = match period {
        Some(p) => p as i64,
        None => num(dir, "cpu.rt_period_us").unwrap_or(p_period),
    };
    if runtime < 0 || p_rt < 0 || p_period <= 0 || my_period <= 0 {
        // Unlimited somewhere: the kernel's rules, not a sum, apply.
        return Ok(());
    }
    // Saturating: the runtime comes from a flag and may be huge.
    let need = held(parent, p_period, Some(me))
        .saturating_add(runtime.saturating_mul(p_period) / my_period);
    if need <= p_rt {
        return Ok(());
    }
    let need = need.min(p_period);
    write(parent, "cpu.rt_runtime_us", &need.to_string()).map_err(|_| {
        Error::bad(
            "cpu.rt_runtime_us",
            format!("{parent} ({need})"),
            "no real-time budget left for pocket's group under its parent (see the parent's cpu.rt_runtime_us)",
        )
    })
}

/// After a group below `parent` went: shrink the parent's real-time budget
/// to what its remaining children hold (nothing, usually), so no budget
/// stays reserved for containers that are gone.
pub fn rt_release(parent: &str) {
    let (Some(p_rt), Some(p_period)) = (
        num(parent, "cpu.rt_runtime_us"),
        num(parent, "cpu.rt_period_us"),
    ) else {
        return;
    };
    if p_rt <= 0 || p_period <= 0 {
        return;
    }
    let keep = held(parent, p_period, None).min(p_period);
    // A group just removed is freed after an RCU grace period; until then
    // the kernel still counts its runtime and refuses (EINVAL): retry for
    // up to ~100 ms. Only containers with real-time limits pay this.
    for _ in 0..50 {
        if keep >= p_rt || write(parent, "cpu.rt_runtime_us", &keep.to_string()).is_ok() {
            return;
        }
        crate::sys::time::sleep_ms(2);
    }
}

fn num(dir: &str, f: &str) -> Option<i64> {
    read(dir, f).and_then(|v| v.parse::<i64>().ok())
}

/// What the children of `parent` (but `except`) hold, in the parent's
/// period: the kernel's Σ runtime/period.
fn held(parent: &str, p_period: i64, except: Option<&str>) -> i64 {
    let mut sum = 0i64;
    for sib in super::list_groups(parent) {
        if Some(sib.as_str()) == except {
            continue;
        }
        let d = format!("{parent}/{sib}");
        if let (Some(r), Some(p)) = (num(&d, "cpu.rt_runtime_us"), num(&d, "cpu.rt_period_us"))
            && r > 0
            && p > 0
        {
            sum = sum.saturating_add(r.saturating_mul(p_period) / p);
        }
    }
    sum
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
                ..Default::default()
            }),
            pids: Some(Pids { limit: 20 }),
            block_io: None,
            devices: Vec::new(),
        };
        let dir = d.to_str().unwrap();
        let s = Support {
            swap: true,
            ..Default::default()
        };
        apply(dir, &["memory".into()], &r, &s, false).unwrap();
        let rd = |f: &str| std::fs::read_to_string(d.join(f)).unwrap();
        assert_eq!(rd("memory.limit_in_bytes"), "67108864");
        assert_eq!(rd("memory.memsw.limit_in_bytes"), "134217728");
        assert_eq!(rd("memory.soft_limit_in_bytes"), "33554432");
        // Only this hierarchy's controllers are touched.
        assert_eq!(
            (rd("cpu.shares"), rd("pids.max")),
            (String::new(), String::new())
        );
        apply(dir, &["cpu".into(), "cpuacct".into()], &r, &s, false).unwrap();
        assert_eq!(
            (
                rd("cpu.shares"),
                rd("cpu.cfs_quota_us"),
                rd("cpu.cfs_period_us")
            ),
            ("512".into(), "50000".into(), "100000".into())
        );
        apply(dir, &["pids".into()], &r, &s, false).unwrap();
        assert_eq!(rd("pids.max"), "20");
        let r = Resources {
            pids: Some(Pids { limit: -1 }),
            ..Default::default()
        };
        apply(dir, &["pids".into()], &r, &s, false).unwrap();
        assert_eq!(rd("pids.max"), "max");
        std::fs::remove_dir_all(d).unwrap();
    }
}
