//! Which limits this host's cgroups can enforce, decided once, from the
//! kernel's own files, and what to do with a limit it cannot: docker's
//! rule for each (moby `verifyPlatformContainerResources` and
//! `validateResources`): warn and discard it, or refuse the container.
//!
//! A control file's presence is the kernel's answer: `blkio.bfq.weight`
//! exists only while the BFQ scheduler is loaded, `memory.memsw.*` only
//! with swap accounting, `cpu.rt_*` only with RT_GROUP_SCHED. Many of them
//! are `CFTYPE_NOT_ON_ROOT` (BFQ's and iocost's weights, pids.max), so
//! they are looked for in a group below the root: the parent pocket makes
//! its containers' groups in (`pocket/`), as its children will get the
//! same files. Pure: the caller says whether a file exists.

use super::layout::{Layout, Place};
use super::resources::Resources;
use crate::error::{Error, Result};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// What the host can enforce. Built by [`Support::detect`] only, so no
/// writer decides on its own what to skip.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Support {
    pub memory: bool,
    /// Swap accounting: memory.memsw.limit_in_bytes / memory.swap.max.
    pub swap: bool,
    /// memory.soft_limit_in_bytes / memory.low.
    pub reservation: bool,
    /// v1's memory.oom_control; v2 has no switch.
    pub oom_kill_disable: bool,
    /// cpu.shares / cpu.weight.
    pub cpu_shares: bool,
    /// CFS bandwidth: cpu.cfs_quota_us + cpu.cfs_period_us / cpu.max.
    pub cfs: bool,
    /// Real-time bandwidth: cpu.rt_runtime_us + cpu.rt_period_us (v1 with
    /// CONFIG_RT_GROUP_SCHED; v2 has none).
    pub rt: bool,
    pub cpuset: bool,
    pub pids: bool,
    /// The file a block IO weight goes to: v1 `blkio.weight` (CFQ) or
    /// `blkio.bfq.weight`, v2 `io.bfq.weight` or `io.weight` (iocost);
    /// `None` when the kernel has neither (e.g. mq-deadline, no BFQ).
    pub blkio_weight: Option<&'static str>,
    /// Where the device rules go; `None`: nowhere, and containers are
    /// refused (docker: "Devices cgroup isn't mounted").
    pub devices: Option<DeviceCgroup>,
}

/// The devices cgroup of this host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceCgroup {
    /// A v1 hierarchy with the devices controller: devices.allow/deny.
    V1,
    /// The v2 tree: a BPF_PROG_TYPE_CGROUP_DEVICE program per group
    /// (CONFIG_CGROUP_BPF; a kernel without it fails at load, by name).
    Bpf,
}

/// docker's words (moby daemon.NewDaemon refuses to start without it: "a
/// hard requirement for container security").
pub fn no_devices_cgroup() -> Error {
    Error::bad(
        "devices cgroup",
        String::new(),
        "Devices cgroup isn't mounted",
    )
}

impl Support {
    /// Ask `has(dir, file)` about the control files of a group `probe`
    /// (relative to each hierarchy's mount, e.g. "pocket") in the
    /// hierarchy that holds each controller.
    pub fn detect(l: &Layout, probe: &str, has: impl Fn(&str, &str) -> bool) -> Support {
        // (directory, is v2) of the probe group for a controller.
        let at = |c: &str| match l.place(c) {
            Place::V1(m) => Some((format!("{m}/{probe}"), false)),
            Place::V2(m) => Some((format!("{m}/{probe}"), true)),
            Place::Missing => None,
        };
        // The first of (v1 file, v2 file) candidates that exists.
        let find = |c: &str, v1: &[&'static str], v2: &[&'static str]| -> Option<&'static str> {
            let (dir, is_v2) = at(c)?;
            let names = if is_v2 { v2 } else { v1 };
            names.iter().copied().find(|f| has(&dir, f))
        };
        let all = |c: &str, v1: &[&'static str], v2: &[&'static str]| -> bool {
            at(c).is_some_and(|(dir, is_v2)| {
                let names = if is_v2 { v2 } else { v1 };
                !names.is_empty() && names.iter().all(|f| has(&dir, f))
            })
        };
        Support {
            memory: at("memory").is_some(),
            swap: find(
                "memory",
                &["memory.memsw.limit_in_bytes"],
                &["memory.swap.max"],
            )
            .is_some(),
            reservation: find("memory", &["memory.soft_limit_in_bytes"], &["memory.low"]).is_some(),
            oom_kill_disable: find("memory", &["memory.oom_control"], &[]).is_some(),
            cpu_shares: find("cpu", &["cpu.shares"], &["cpu.weight"]).is_some(),
            cfs: all(
                "cpu",
                &["cpu.cfs_quota_us", "cpu.cfs_period_us"],
                &["cpu.max"],
            ),
            rt: all("cpu", &["cpu.rt_runtime_us", "cpu.rt_period_us"], &[]),
            cpuset: find("cpuset", &["cpuset.cpus"], &["cpuset.cpus"]).is_some(),
            pids: find("pids", &["pids.max"], &["pids.max"]).is_some(),
            blkio_weight: find(
                "blkio",
                &["blkio.weight", "blkio.bfq.weight"],
                &["io.bfq.weight", "io.weight"],
            ),
            devices: match l.place("devices") {
                Place::V1(m) if has(&format!("{m}/{probe}"), "devices.allow") => {
                    Some(DeviceCgroup::V1)
                }
                Place::V1(_) => None,
                _ => l.v2.as_ref().map(|_| DeviceCgroup::Bpf),
            },
        }
    }

    /// Fit `r` to the host as docker's daemon does: a limit the host
    /// cannot enforce is dropped with docker's warning (returned, for
    /// `WARNING: ...` lines), except --cpus and the real-time limits,
    /// which docker refuses (exit 125). `nano_cpus`: the CPU quota came
    /// from --cpus.
    pub fn fit(&self, r: &mut Resources, nano_cpus: bool) -> Result<Vec<&'static str>> {
        let mut warn = Vec::new();
        if !r.devices.is_empty()
            && self.devices.is_none()
            && super::devices::reduce(&r.devices).restricts()
        {
            return Err(no_devices_cgroup());
        }
        if let Some(c) = &r.cpu {
            let refuse = |what: &str| {
                Err(Error::bad(
                    format!("--cpu-rt-{what}"),
                    String::new(),
                    format!("Your kernel does not support cgroup cpu real-time {what}"),
                ))
            };
            if c.realtime_period.is_some() && !self.rt {
                return refuse("period");
            }
            if c.realtime_runtime.is_some() && !self.rt {
                return refuse("runtime");
            }
            if nano_cpus && c.quota.is_some() && !self.cfs {
                return Err(Error::bad(
                    "--cpus",
                    String::new(),
                    "NanoCPUs can not be set, as your kernel does not support CPU CFS scheduler or the cgroup is not mounted",
                ));
            }
        }
        if let Some(m) = &mut r.memory {
            if m.limit.is_some() && !self.memory {
                warn.push(MEMORY);
                m.limit = None;
                m.swap = None;
            }
            if m.limit.is_some() && m.swap.is_some_and(|s| s != -1) && !self.swap {
                warn.push(SWAP);
                m.swap = None;
            }
            // Without a memory limit there is nothing for swap to add to.
            if m.limit.is_none() {
                m.swap = None;
            }
            if m.reservation.is_some() && !(self.memory && self.reservation) {
                warn.push(RESERVATION);
                m.reservation = None;
            }
            if m.disable_oom_killer == Some(true) && !(self.memory && self.oom_kill_disable) {
                warn.push(OOM);
            }
            if !(self.memory && self.oom_kill_disable) {
                m.disable_oom_killer = None;
            }
        }
        if r.pids.is_some() && !self.pids {
            warn.push(PIDS);
            r.pids = None;
        }
        if let Some(c) = &mut r.cpu {
            if c.shares.is_some() && !self.cpu_shares {
                warn.push(SHARES);
                c.shares = None;
            }
            if c.period.is_some() && !self.cfs {
                warn.push(PERIOD);
                c.period = None;
            }
            if c.quota.is_some() && !self.cfs {
                warn.push(QUOTA);
                c.quota = None;
            }
            if (c.cpus.is_some() || c.mems.is_some()) && !self.cpuset {
                warn.push(CPUSET);
                c.cpus = None;
                c.mems = None;
            }
        }
        if r.block_io.as_ref().is_some_and(|b| b.weight.is_some()) && self.blkio_weight.is_none() {
            warn.push(BLKIO);
            r.block_io = None;
        }
        // What was discarded leaves no empty shells behind in the Spec.
        if r.memory.as_ref().is_some_and(|m| *m == Default::default()) {
            r.memory = None;
        }
        if r.cpu.as_ref().is_some_and(|c| *c == Default::default()) {
            r.cpu = None;
        }
        Ok(warn)
    }
}

// docker's words (moby daemon/daemon_unix.go), so scripts that grep for
// them keep working.
const MEMORY: &str = "Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded.";
const SWAP: &str = "Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.";
const RESERVATION: &str = "Your kernel does not support memory soft limit capabilities or the cgroup is not mounted. Limitation discarded.";
const OOM: &str = "Your kernel does not support OomKillDisable. OomKillDisable discarded.";
const PIDS: &str = "Your kernel does not support pids limit capabilities or the cgroup is not mounted. PIDs limit discarded.";
const SHARES: &str =
    "Your kernel does not support CPU shares or the cgroup is not mounted. Shares discarded.";
const PERIOD: &str =
    "Your kernel does not support CPU cfs period or the cgroup is not mounted. Period discarded.";
const QUOTA: &str =
    "Your kernel does not support CPU cfs quota or the cgroup is not mounted. Quota discarded.";
const CPUSET: &str =
    "Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.";
const BLKIO: &str =
    "Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.";

#[cfg(test)]
#[path = "support_tests.rs"]
mod tests;
