//! Resource limits in OCI `linux.resources` form (the subset docker's
//! flags set), so the docker-like CLI and the OCI front end share them.
//! Values are as the OCI spec (and cgroup v1) count them; v2.rs converts.

use crate::json::{self, Value};
use alloc::string::String;

#[derive(Default, Debug, Clone, PartialEq, Eq)]
pub struct Resources {
    pub memory: Option<Memory>,
    pub cpu: Option<Cpu>,
    pub pids: Option<Pids>,
    pub block_io: Option<BlockIo>,
}

#[derive(Default, Debug, Clone, PartialEq, Eq)]
pub struct Memory {
    /// Bytes (`-m`); memory.limit_in_bytes / memory.max.
    pub limit: Option<i64>,
    /// Bytes (`--memory-reservation`); memory.soft_limit_in_bytes / memory.low.
    pub reservation: Option<i64>,
    /// Memory + swap in bytes (`--memory-swap`), -1 unlimited;
    /// memory.memsw.limit_in_bytes / memory.swap.max = swap - limit.
    pub swap: Option<i64>,
    pub disable_oom_killer: Option<bool>,
}

#[derive(Default, Debug, Clone, PartialEq, Eq)]
pub struct Cpu {
    /// Relative weight (`-c`, 2..262144); cpu.shares / cpu.weight.
    pub shares: Option<u64>,
    /// Microseconds per period (`--cpu-quota`, `--cpus`); -1 unlimited.
    pub quota: Option<i64>,
    /// Microseconds (`--cpu-period`, default 100000 with --cpus).
    pub period: Option<u64>,
    /// cpuset lists ("0-2,4").
    pub cpus: Option<String>,
    pub mems: Option<String>,
    /// Real-time bandwidth in µs per period (`--cpu-rt-runtime`);
    /// cpu.rt_runtime_us (v1 only).
    pub realtime_runtime: Option<i64>,
    /// µs (`--cpu-rt-period`); cpu.rt_period_us.
    pub realtime_period: Option<u64>,
}

#[derive(Default, Debug, Clone, PartialEq, Eq)]
pub struct Pids {
    /// Maximum processes; 0 or -1 unlimited.
    pub limit: i64,
}

#[derive(Default, Debug, Clone, PartialEq, Eq)]
pub struct BlockIo {
    /// 10..1000 (`--blkio-weight`); blkio.weight / io.bfq.weight or io.weight.
    pub weight: Option<u16>,
}

impl Resources {
    pub fn is_empty(&self) -> bool {
        *self == Resources::default()
    }

    /// OCI `linux.resources` JSON.
    pub fn to_json(&self) -> Value {
        let m = self.memory.as_ref().map(|m| {
            json::obj(alloc::vec![
                ("limit", m.limit.map(json::num)),
                ("reservation", m.reservation.map(json::num)),
                ("swap", m.swap.map(json::num)),
                ("disableOOMKiller", m.disable_oom_killer.map(Value::Bool)),
            ])
        });
        let c = self.cpu.as_ref().map(|c| {
            json::obj(alloc::vec![
                ("shares", c.shares.map(json::num)),
                ("quota", c.quota.map(json::num)),
                ("period", c.period.map(json::num)),
                ("cpus", c.cpus.as_deref().map(json::str)),
                ("mems", c.mems.as_deref().map(json::str)),
                ("realtimeRuntime", c.realtime_runtime.map(json::num)),
                ("realtimePeriod", c.realtime_period.map(json::num)),
            ])
        });
        json::obj(alloc::vec![
            ("memory", m),
            ("cpu", c),
            (
                "pids",
                self.pids
                    .as_ref()
                    .map(|p| json::obj(alloc::vec![("limit", Some(json::num(p.limit)))]))
            ),
            (
                "blockIO",
                self.block_io
                    .as_ref()
                    .map(|b| json::obj(alloc::vec![("weight", b.weight.map(json::num))])),
            ),
        ])
    }

    /// Read OCI `linux.resources`; fields pocket does not use are ignored.
    pub fn from_json(v: &Value) -> Resources {
        let s = |o: &Value, k: &str| o.get(k).and_then(|x| x.str()).map(String::from);
        Resources {
            memory: v.get("memory").map(|m| Memory {
                limit: m.get("limit").and_then(Value::i64),
                reservation: m.get("reservation").and_then(Value::i64),
                swap: m.get("swap").and_then(Value::i64),
                disable_oom_killer: m.get("disableOOMKiller").and_then(Value::bool),
            }),
            cpu: v.get("cpu").map(|c| Cpu {
                shares: c.get("shares").and_then(Value::u64),
                quota: c.get("quota").and_then(Value::i64),
                period: c.get("period").and_then(Value::u64),
                cpus: s(c, "cpus"),
                mems: s(c, "mems"),
                realtime_runtime: c.get("realtimeRuntime").and_then(Value::i64),
                realtime_period: c.get("realtimePeriod").and_then(Value::u64),
            }),
            pids: v
                .get("pids")
                .and_then(|p| p.get("limit"))
                .and_then(Value::i64)
                .map(|limit| Pids { limit }),
            block_io: v.get("blockIO").map(|b| BlockIo {
                weight: b
                    .get("weight")
                    .and_then(Value::u64)
                    .and_then(|w| u16::try_from(w).ok()),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_in_oci_names() {
        let r = Resources {
            memory: Some(Memory {
                limit: Some(64),
                reservation: None,
                swap: Some(-1),
                disable_oom_killer: Some(true),
            }),
            cpu: Some(Cpu {
                shares: Some(512),
                quota: Some(50000),
                period: Some(100000),
                cpus: Some("0-1".into()),
                mems: None,
                realtime_runtime: Some(950),
                realtime_period: Some(1000),
            }),
            pids: Some(Pids { limit: 20 }),
            block_io: Some(BlockIo { weight: Some(300) }),
        };
        let j = json::compact(&r.to_json());
        assert!(
            j.contains("\"disableOOMKiller\":true") && j.contains("\"blockIO\":{\"weight\":300}"),
            "{j}"
        );
        assert_eq!(Resources::from_json(&json::parse(j.as_bytes()).unwrap()), r);
        assert!(Resources::from_json(&json::parse(b"{}").unwrap()).is_empty());
    }
}
