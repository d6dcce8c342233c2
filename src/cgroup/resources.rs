//! Resource limits in OCI `linux.resources` form (the subset docker's
//! flags set), so the docker-like CLI and the OCI front end share them.
//! Values are as the OCI spec (and cgroup v1) count them; v2.rs converts.

use crate::json::{self, Value};
use alloc::string::String;
use alloc::vec::Vec;

#[derive(Default, Debug, Clone, PartialEq, Eq)]
pub struct Resources {
    pub memory: Option<Memory>,
    pub cpu: Option<Cpu>,
    pub pids: Option<Pids>,
    pub block_io: Option<BlockIo>,
    /// The devices cgroup, in order (`devices.rs` reads them as the v1
    /// kernel does). Empty: pocket's defaults (`devices::defaults`).
    pub devices: Vec<DeviceRule>,
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

/// mknod, read, write: the bits of the kernel's BPF_DEVCG_ACC_* (so the
/// v2 program compares them as they are).
pub const ACC_MKNOD: u8 = 1;
pub const ACC_READ: u8 = 2;
pub const ACC_WRITE: u8 = 4;
pub const ACC_ALL: u8 = 7;

/// "rwm", in that order, of the ACC_* bits set.
pub fn access_str(access: u8) -> String {
    [(ACC_READ, 'r'), (ACC_WRITE, 'w'), (ACC_MKNOD, 'm')]
        .iter()
        .filter(|(b, _)| access & b != 0)
        .map(|(_, c)| *c)
        .collect()
}

/// One OCI `linux.resources.devices[]` entry: allow or deny `access` to
/// the devices of `kind` (b'a' all, b'c' char, b'b' block) numbered
/// `major:minor` (None: any), as a devices.allow/deny line says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceRule {
    pub allow: bool,
    pub kind: u8,
    pub major: Option<u32>,
    pub minor: Option<u32>,
    pub access: u8,
}

impl DeviceRule {
    pub fn access_str(&self) -> String {
        access_str(self.access)
    }

    fn to_json(self) -> Value {
        json::obj!(
            ("allow", Some(Value::Bool(self.allow))),
            ("type", Some(Value::Str(String::from(self.kind as char)))),
            ("major", self.major.map(json::num)),
            ("minor", self.minor.map(json::num)),
            ("access", Some(Value::Str(self.access_str()))),
        )
    }

    /// Lenient, as the kernel's own parser: a missing type is 'a', a
    /// missing or negative number any. An entry that cannot mean a device
    /// (an unknown type, a number no device has) is dropped: it matches
    /// nothing.
    fn from_json(v: &Value) -> Option<DeviceRule> {
        let kind = match v.get("type").and_then(Value::str).unwrap_or("a") {
            "a" => b'a',
            "c" => b'c',
            "b" => b'b',
            _ => return None,
        };
        let num = |k: &str| match v.get(k).and_then(Value::i64) {
            None => Some(None),
            Some(n) if n < 0 => Some(None),
            Some(n) => i32::try_from(n).ok().map(|n| Some(n as u32)),
        };
        let mut access = 0;
        for c in v.get("access").and_then(Value::str).unwrap_or("").bytes() {
            access |= match c {
                b'r' => ACC_READ,
                b'w' => ACC_WRITE,
                b'm' => ACC_MKNOD,
                _ => 0,
            };
        }
        Some(DeviceRule {
            allow: v.get("allow").and_then(Value::bool).unwrap_or(false),
            kind,
            major: num("major")?,
            minor: num("minor")?,
            access,
        })
    }
}

impl core::fmt::Display for DeviceRule {
    /// As devices.allow takes it: "c 1:3 rwm", "b *:* m".
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        let n = |x: Option<u32>| x.map_or(String::from("*"), |n| alloc::format!("{n}"));
        write!(
            f,
            "{} {}:{} {}",
            self.kind as char,
            n(self.major),
            n(self.minor),
            self.access_str()
        )
    }
}

impl Resources {
    pub fn is_empty(&self) -> bool {
        *self == Resources::default()
    }

    /// OCI `linux.resources` JSON.
    pub fn to_json(&self) -> Value {
        let m = self.memory.as_ref().map(|m| {
            json::obj!(
                ("limit", m.limit.map(json::num)),
                ("reservation", m.reservation.map(json::num)),
                ("swap", m.swap.map(json::num)),
                ("disableOOMKiller", m.disable_oom_killer.map(Value::Bool)),
            )
        });
        let c = self.cpu.as_ref().map(|c| {
            json::obj!(
                ("shares", c.shares.map(json::num)),
                ("quota", c.quota.map(json::num)),
                ("period", c.period.map(json::num)),
                ("cpus", c.cpus.as_deref().map(json::str)),
                ("mems", c.mems.as_deref().map(json::str)),
                ("realtimeRuntime", c.realtime_runtime.map(json::num)),
                ("realtimePeriod", c.realtime_period.map(json::num)),
            )
        });
        json::obj!(
            ("memory", m),
            ("cpu", c),
            (
                "pids",
                self.pids
                    .as_ref()
                    .map(|p| json::obj!(("limit", Some(json::num(p.limit)))))
            ),
            (
                "blockIO",
                self.block_io
                    .as_ref()
                    .map(|b| json::obj!(("weight", b.weight.map(json::num)))),
            ),
            (
                "devices",
                (!self.devices.is_empty())
                    .then(|| Value::Arr(self.devices.iter().map(|d| d.to_json()).collect())),
            ),
        )
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
            devices: v
                .get("devices")
                .and_then(Value::arr)
                .unwrap_or(&[])
                .iter()
                .filter_map(DeviceRule::from_json)
                .collect(),
        }
    }
}

/// `new` over `old`: every limit `new` sets replaces the old one.
pub fn merge(old: &Resources, new: &Resources) -> Resources {
    let mut m = old.clone();
    if let Some(n) = &new.memory {
        let o = m.memory.get_or_insert_with(Default::default);
        let old_limit = o.limit;
        if n.limit.is_some() {
            o.limit = n.limit;
            // A swap left at docker's default (twice the memory) follows
            // the memory; an explicit one stays.
            if n.swap.is_none()
                && let (Some(ol), Some(os)) = (old_limit, o.swap)
                && os == 2 * ol
            {
                o.swap = n.limit.map(|l| 2 * l);
            }
        }
        if n.swap.is_some() {
            o.swap = n.swap;
        }
        if n.reservation.is_some() {
            o.reservation = n.reservation;
        }
    }
    if let Some(n) = &new.cpu {
        let o = m.cpu.get_or_insert_with(Default::default);
        if n.shares.is_some() {
            o.shares = n.shares;
        }
        if n.quota.is_some() {
            o.quota = n.quota;
        }
        if n.period.is_some() {
            o.period = n.period;
        }
        if n.cpus.is_some() {
            o.cpus = n.cpus.clone();
        }
        if n.mems.is_some() {
            o.mems = n.mems.clone();
        }
        if n.realtime_runtime.is_some() {
            o.realtime_runtime = n.realtime_runtime;
        }
        if n.realtime_period.is_some() {
            o.realtime_period = n.realtime_period;
        }
    }
    if new.pids.is_some() {
        m.pids = new.pids.clone();
    }
    if new.block_io.is_some() {
        m.block_io = new.block_io.clone();
    }
    m
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
            devices: crate::cgroup::devices::defaults(),
        };
        let j = json::compact(&r.to_json());
        assert!(
            j.contains("\"disableOOMKiller\":true") && j.contains("\"blockIO\":{\"weight\":300}"),
            "{j}"
        );
        assert_eq!(Resources::from_json(&json::parse(j.as_bytes()).unwrap()), r);
        assert!(Resources::from_json(&json::parse(b"{}").unwrap()).is_empty());
        assert!(
            j.contains(r#"{"allow":false,"type":"a","access":"rwm"}"#)
                && j.contains(r#"{"allow":true,"type":"c","major":136,"access":"rwm"}"#),
            "{j}"
        );
    }

    #[test]
    fn device_rules_read_as_the_kernel_would() {
        let r = Resources::from_json(
            &json::parse(
                br#"{"devices":[{"allow":false,"access":"rwm"},
                {"allow":true,"type":"b","major":-1,"minor":3,"access":"mrx"},
                {"allow":true,"type":"p","major":1,"access":"rwm"},
                {"allow":true,"type":"c","major":4294967296,"access":"rwm"}]}"#,
            )
            .unwrap(),
        );
        assert_eq!(r.devices.len(), 2);
        assert_eq!(alloc::format!("{}", r.devices[0]), "a *:* rwm");
        assert!(!r.devices[0].allow);
        assert_eq!(alloc::format!("{}", r.devices[1]), "b *:3 rm");
    }

    #[test]
    fn merge_keeps_what_is_not_updated_and_default_swap_follows() {
        let old = Resources {
            memory: Some(Memory {
                limit: Some(100),
                swap: Some(200),
                ..Default::default()
            }),
            pids: Some(Pids { limit: 5 }),
            ..Default::default()
        };
        let new = Resources {
            memory: Some(Memory {
                limit: Some(300),
                ..Default::default()
            }),
            ..Default::default()
        };
        let m = merge(&old, &new);
        assert_eq!(m.memory.as_ref().unwrap().limit, Some(300));
        assert_eq!(m.memory.as_ref().unwrap().swap, Some(600));
        assert_eq!(m.pids, Some(Pids { limit: 5 }));
        let old2 = Resources {
            memory: Some(Memory {
                limit: Some(100),
                swap: Some(-1),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(merge(&old2, &new).memory.unwrap().swap, Some(-1));
    }
}
