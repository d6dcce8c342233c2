//! docker's resource flags (-m, --cpus, --cpuset-cpus, --pids-limit...):
//! their units, checks and defaults, turned into OCI `linux.resources` as
//! docker's daemon fills them for runc; and the v1 -> v2 value conversions
//! runc and crun apply. Pure: the host's CPU and memory-node lists come in
//! as arguments, so every rule is unit-tested without cgroupfs.
//!
//! Sources: docker/go-units `RAMInBytes` (sizes), moby
//! `daemon/daemon_unix.go` `verifyPlatformContainerResources` and
//! `adaptContainerSettings` (checks and defaults, messages quoted from
//! there), docker/cli `opts.NanoCPUs` (--cpus), moby `pkg/parsers`
//! `ParseUintList` (cpusets), runc `libcontainer/cgroups/utils.go` and crun
//! `src/libcrun/cgroup-utils.c` (v2 conversions).

use super::resources::{BlockIo, Cpu, Memory, Pids, Resources};
use crate::error::{Error, Result};
use alloc::borrow::Cow;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

/// docker's `linuxMinMemory`: smaller limits leave no room for the
/// container's own init and are refused ("Minimum memory limit allowed is 6MB").
pub const MIN_MEMORY: i64 = 6 * 1024 * 1024;
/// cpu.shares bounds in the kernel (`MIN_SHARES`, `MAX_SHARES` = 1 << 18);
/// docker clamps into them rather than failing.
pub const MIN_SHARES: u64 = 2;
pub const MAX_SHARES: u64 = 262_144;
/// The CFS period docker uses with --cpus (100 ms, in µs).
pub const CPUS_PERIOD: u64 = 100_000;
/// Highest CPU or memory-node index a cpuset list may name (the kernel's
/// largest NR_CPUS is 8192). Also bounds the work a hostile "0-4294967295"
/// could cause.
pub const CPUSET_MAX: u32 = 8191;

const NANOS: u64 = 1_000_000_000;

/// docker's `RAMInBytes`: a number ("64", "1.5") with an optional unit b,
/// k, m, g, t or p, case-insensitive, optionally followed by "b" or "ib"
/// ("64mb", "1GB", "2KiB"), with at most one space before the unit;
/// 1024-based; no unit means bytes. Fractions of a byte are dropped as
/// docker's `int64(float)` does. `None` on empty, negative, garbage or a
/// value above `i64::MAX`.
///
/// Unlike docker (which hands the number to `strconv.ParseFloat`), this
/// takes digits with at most one '.', no sign and no exponent, and computes
/// exactly in integers.
pub fn parse_bytes(s: &str) -> Option<i64> {
    let end = s
        .bytes()
        .position(|c| !c.is_ascii_digit() && c != b'.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(end);
    let unit = match unit.strip_prefix(' ') {
        Some(u) if !u.is_empty() => u,
        _ => unit,
    };
    let shift = unit_shift(unit)?;
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    if (int.is_empty() && frac.is_empty()) || frac.contains('.') {
        return None;
    }
    let mut whole: u128 = 0;
    for c in int.bytes() {
        whole = whole.checked_mul(10)?.checked_add(u128::from(c - b'0'))?;
        if whole > i64::MAX as u128 {
            return None;
        }
    }
    // 19 fraction digits at most: 10^19 << 50 still fits in u128, and
    // further digits move the result by less than 1e-4 byte.
    let (mut f, mut scale) = (0u128, 1u128);
    for c in frac.bytes().take(19) {
        f = f * 10 + u128::from(c - b'0');
        scale *= 10;
    }
    let v = (whole << shift) + (f << shift) / scale;
    i64::try_from(v).ok()
}

/// Bits to shift for a size unit: "", "b", or k/m/g/t/p alone or followed
/// by "b" or "ib", any case.
fn unit_shift(unit: &str) -> Option<u32> {
    let u = unit.as_bytes();
    let Some((&first, rest)) = u.split_first() else {
        return Some(0);
    };
    let shift = match first.to_ascii_lowercase() {
        b'b' if rest.is_empty() => return Some(0),
        b'k' => 10,
        b'm' => 20,
        b'g' => 30,
        b't' => 40,
        b'p' => 50,
        _ => return None,
    };
    if rest.is_empty() || rest.eq_ignore_ascii_case(b"b") || rest.eq_ignore_ascii_case(b"ib") {
        Some(shift)
    } else {
        None
    }
}

/// A cpuset list ("0-2,4", "3", "1,1,0") as a sorted list without
/// duplicates, as moby's `ParseUintList`. `None` for an empty list or
/// element, a reversed range ("1-0"), signs, spaces, anything but digits,
/// or an index above [`CPUSET_MAX`]. The caller trims the whole value.
pub fn parse_cpuset(s: &str) -> Option<Vec<u32>> {
    fn index(s: &str) -> Option<u32> {
        if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        s.parse::<u32>().ok().filter(|&n| n <= CPUSET_MAX)
    }
    // One bit per possible index: sorts and de-duplicates at once.
    let mut set = [0u64; (CPUSET_MAX as usize + 1) / 64];
    for part in s.split(',') {
        let (lo, hi) = match part.split_once('-') {
            Some((a, b)) => (index(a)?, index(b)?),
            None => (index(part)?, index(part)?),
        };
        if hi < lo {
            return None;
        }
        for i in lo..=hi {
            set[i as usize / 64] |= 1 << (i % 64);
        }
    }
    Some(
        (0..=CPUSET_MAX)
            .filter(|&i| set[i as usize / 64] & (1 << (i % 64)) != 0)
            .collect(),
    )
}

/// A list of indexes in cpuset form, runs folded into ranges:
/// [0, 1, 2, 4] -> "0-2,4". For messages about the host's CPUs.
pub fn format_cpuset(list: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < list.len() {
        let mut j = i;
        while j + 1 < list.len() && list[j + 1] == list[j].wrapping_add(1) {
            j += 1;
        }
        if !out.is_empty() {
            out.push(',');
        }
        let _ = match j > i {
            true => write!(out, "{}-{}", list[i], list[j]),
            false => write!(out, "{}", list[i]),
        };
        i = j + 1;
    }
    out
}

/// --cpus as nanoCPUs (docker/cli `opts.NanoCPUs`): a decimal with at most
/// 9 fraction digits ("value is too precise" beyond).
fn parse_nano_cpus(s: &str) -> core::result::Result<u64, &'static str> {
    const BAD: &str = "not a decimal number";
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |t: &str| t.bytes().all(|c| c.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) {
        return Err(BAD);
    }
    if frac.len() > 9 {
        return Err("value is too precise");
    }
    let mut n: u64 = 0;
    for c in int.bytes().chain(frac.bytes()) {
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(c - b'0')))
            .ok_or("value out of range")?;
    }
    n.checked_mul(10u64.pow(9 - frac.len() as u32))
        .ok_or("value out of range")
}

/// Go's `strconv.ParseBool`, which docker's boolean flags use.
fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

fn bad(name: &str, value: &str, why: impl Into<Cow<'static, str>>) -> Error {
    Error::bad("invalid argument", format!("--{name} {value}"), why)
}

fn int(name: &str, value: &str) -> Result<i64> {
    value
        .parse::<i64>()
        .map_err(|_| bad(name, value, "not an integer"))
}

/// A size flag: 0 means unset, as in docker.
fn size(name: &str, value: &str) -> Result<Option<i64>> {
    match parse_bytes(value) {
        Some(0) => Ok(None),
        Some(n) => Ok(Some(n)),
        None => Err(bad(name, value, format!("invalid size: '{value}'"))),
    }
}

/// A cpuset flag (`v`: its trimmed text), checked against what the host
/// has; the check is skipped when `host` is empty, meaning not known (the
/// kernel still refuses unavailable CPUs when the value is written).
fn cpuset(name: &str, text: &str, v: &str, host: &[u32], what: &str, noun: &str) -> Result<String> {
    let list = parse_cpuset(v).ok_or_else(|| {
        bad(
            name,
            text,
            format!("Invalid value {v} for cpuset {what}: invalid format: {v}"),
        )
    })?;
    if let Some(missing) = list.iter().find(|i| !host.is_empty() && !host.contains(i)) {
        return Err(bad(
            name,
            text,
            format!(
                "Requested {noun} are not available - requested {missing}, available: {}",
                format_cpuset(host)
            ),
        ));
    }
    Ok(String::from(v))
}

/// One flag's last value (docker's flags: the last one wins), with its
/// text for messages.
type Last<'a, T> = Option<(T, &'a str)>;

/// The flags seen, parsed for syntax only; ranges and combinations are
/// checked on the final values, as docker's daemon does.
#[derive(Default)]
struct Seen<'a> {
    memory: Last<'a, i64>,
    swap: Last<'a, i64>,
    reservation: Last<'a, i64>,
    oom_kill_disable: bool,
    nano_cpus: Last<'a, u64>,
    shares: Last<'a, i64>,
    quota: Last<'a, i64>,
    period: Last<'a, i64>,
    cpus: Last<'a, &'a str>,
    mems: Last<'a, &'a str>,
    pids: Last<'a, i64>,
    blkio: Last<'a, u16>,
    rt_runtime: Last<'a, i64>,
    rt_period: Last<'a, i64>,
}

/// Turn docker's resource flags — (long name, value) pairs in command-line
/// order — into OCI `linux.resources`, with docker's checks, clamps and
/// defaults. A flag given twice keeps its last value. `host_cpus` /
/// `host_mems` are the CPUs and memory nodes the container could use (an
/// empty list: not known, not checked); --cpus is bounded by the number of
/// host CPUs, as docker bounds it by NumCPU.
///
/// Every failure is `invalid argument --NAME VALUE: <reason>` (exit 125).
pub fn build(flags: &[(&str, &str)], host_cpus: &[u32], host_mems: &[u32]) -> Result<Resources> {
    let mut s = Seen::default();
    for &(name, value) in flags {
        let at = |n| Some((n, value));
        match name {
            "memory" => s.memory = size(name, value)?.and_then(at),
            "memory-reservation" => s.reservation = size(name, value)?.and_then(at),
            "memory-swap" => {
                s.swap = match value {
                    "-1" => at(-1),
                    _ => size(name, value)?.and_then(at),
                }
            }
            "oom-kill-disable" => {
                s.oom_kill_disable = parse_bool(value)
                    .ok_or_else(|| bad(name, value, "not a boolean (true or false)"))?
            }
            "cpus" => {
                let n = parse_nano_cpus(value).map_err(|why| bad(name, value, why))?;
                s.nano_cpus = Some((n, value));
            }
            "cpu-shares" => s.shares = at(int(name, value)?),
            "cpu-quota" => s.quota = at(int(name, value)?),
            "cpu-period" => s.period = at(int(name, value)?),
            "cpuset-cpus" => s.cpus = Some((value.trim(), value)),
            "cpuset-mems" => s.mems = Some((value.trim(), value)),
            "pids-limit" => s.pids = at(int(name, value)?),
            "cpu-rt-runtime" => s.rt_runtime = at(int(name, value)?),
            "cpu-rt-period" => s.rt_period = at(int(name, value)?),
            "blkio-weight" => {
                // docker's flag is a uint16: "x", "-1" or "65536" fail here.
                let w = value
                    .parse::<u16>()
                    .map_err(|_| bad(name, value, "Range of blkio weight is from 10 to 1000"))?;
                s.blkio = Some((w, value));
            }
            _ => return Err(bad(name, value, "not a resource flag")),
        }
    }
    let memory = memory(&s)?;
    let cpu = cpu(&s, host_cpus, host_mems)?;
    let pids = match s.pids {
        // 0 and -1 both mean unlimited: no limit written.
        Some((n, text)) if n < -1 => {
            return Err(bad(
                "pids-limit",
                text,
                "pids limit must be -1 (unlimited) or positive",
            ));
        }
        Some((n, _)) if n > 0 => Some(Pids { limit: n }),
        _ => None,
    };
    let block_io = match s.blkio {
        Some((w, text)) if w != 0 && !(10..=1000).contains(&w) => {
            return Err(bad(
                "blkio-weight",
                text,
                "Range of blkio weight is from 10 to 1000",
            ));
        }
        Some((w, _)) if w != 0 => Some(BlockIo { weight: Some(w) }),
        _ => None,
    };
    Ok(Resources {
        memory,
        cpu,
        pids,
        block_io,
        devices: Vec::new(),
    })
}

/// Memory checks in the order of moby's verifyPlatformContainerResources,
/// and adaptContainerSettings' default swap. Sizes of 0 were dropped as
/// "unset" already.
fn memory(s: &Seen) -> Result<Option<Memory>> {
    if let Some((m, text)) = s.memory
        && m < MIN_MEMORY
    {
        return Err(bad("memory", text, "Minimum memory limit allowed is 6MB"));
    }
    let mut swap = s.swap.map(|w| w.0);
    match (s.memory, s.swap) {
        (Some((m, _)), Some((w, text))) if w > 0 && w < m => {
            return Err(bad(
                "memory-swap",
                text,
                "Minimum memoryswap limit should be larger than memory limit",
            ));
        }
        (None, Some((w, text))) if w > 0 => {
            return Err(bad(
                "memory-swap",
                text,
                "You should always set the Memory limit when using Memoryswap limit",
            ));
        }
        // "By default, MemorySwap is set to twice the size of Memory."
        (Some((m, _)), None) => swap = Some(m.saturating_mul(2)),
        _ => {}
    }
    if let Some((r, text)) = s.reservation
        && r < MIN_MEMORY
    {
        return Err(bad(
            "memory-reservation",
            text,
            "Minimum memory reservation allowed is 6MB",
        ));
    }
    if let (Some((m, text)), Some((r, _))) = (s.memory, s.reservation)
        && m < r
    {
        return Err(bad(
            "memory",
            text,
            "Minimum memory limit can not be less than memory reservation limit",
        ));
    }
    let memory = Memory {
        limit: s.memory.map(|m| m.0),
        reservation: s.reservation.map(|r| r.0),
        swap,
        disable_oom_killer: s.oom_kill_disable.then_some(true),
    };
    Ok((memory != Memory::default()).then_some(memory))
}

/// CPU and cpuset checks, as moby's, then --cpus turned into a quota.
fn cpu(s: &Seen, host_cpus: &[u32], host_mems: &[u32]) -> Result<Option<Cpu>> {
    // 0 means unset for all three.
    let quota = s.quota.filter(|q| q.0 != 0);
    let period = s.period.filter(|p| p.0 != 0);
    let shares = s.shares.filter(|c| c.0 != 0);
    if let Some((n, text)) = s.nano_cpus {
        // Stricter than docker only for --cpu-quota -1, which docker lets
        // --cpus silently override.
        if period.is_some() {
            let why = "Conflicting options: Nano CPUs and CPU Period cannot both be set";
            return Err(bad("cpus", text, why));
        }
        if quota.is_some() {
            let why = "Conflicting options: Nano CPUs and CPU Quota cannot both be set";
            return Err(bad("cpus", text, why));
        }
        // Below 0.01 the quota would be under the kernel's 1 ms minimum.
        let max = host_cpus.len() as u64;
        if n < NANOS / 100 || (max > 0 && n > max * NANOS) {
            let why = match max {
                0 => String::from("Range of CPUs starts at 0.01"),
                _ => format!(
                    "Range of CPUs is from 0.01 to {max}.00, as there are only {max} CPUs available"
                ),
            };
            return Err(bad("cpus", text, why));
        }
    }
    if let Some((p, text)) = period
        && !(1000..=1_000_000).contains(&p)
    {
        let why =
            "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)";
        return Err(bad("cpu-period", text, why));
    }
    if let Some((q, text)) = quota
        && q != -1
        && q < 1000
    {
        let why = "CPU cfs quota can not be less than 1ms (i.e. 1000)";
        return Err(bad("cpu-quota", text, why));
    }
    if let Some((c, text)) = shares
        && c < 0
    {
        return Err(bad(
            "cpu-shares",
            text,
            "CPU shares must be a positive integer",
        ));
    }
    let cpus = match s.cpus {
        Some((v, text)) => Some(cpuset("cpuset-cpus", text, v, host_cpus, "cpus", "CPUs")?),
        None => None,
    };
    let mems = match s.mems {
        Some((v, text)) => Some(cpuset(
            "cpuset-mems",
            text,
            v,
            host_mems,
            "mems",
            "memory nodes",
        )?),
        None => None,
    };
    // 0 means unset, as docker's `if r.CPURealtimeRuntime != 0`.
    let rt_runtime = s.rt_runtime.filter(|r| r.0 != 0);
    let rt_period = s.rt_period.filter(|p| p.0 != 0);
    if let Some((p, text)) = rt_period
        && p < 0
    {
        return Err(bad(
            "cpu-rt-period",
            text,
            "must be a positive number of microseconds",
        ));
    }
    if let (Some((r, text)), Some((p, _))) = (rt_runtime, rt_period)
        && r > p
    {
        let why = "cpu real-time runtime cannot be higher than cpu real-time period";
        return Err(bad("cpu-rt-runtime", text, why));
    }
    let (mut quota, mut period) = (quota.map(|q| q.0), period.map(|p| p.0 as u64));
    if let Some((n, _)) = s.nano_cpus {
        // moby getCPUResources: quota = NanoCPUs * period / 1e9, truncated
        // (divided first here: same result, no overflow).
        period = Some(CPUS_PERIOD);
        quota = Some((n / (NANOS / CPUS_PERIOD)) as i64);
    }
    let cpu = Cpu {
        // Out-of-range shares are clamped (with a warning in docker's
        // daemon), not refused.
        shares: shares.map(|c| (c.0 as u64).clamp(MIN_SHARES, MAX_SHARES)),
        quota,
        period,
        cpus,
        mems,
        realtime_runtime: rt_runtime.map(|r| r.0),
        realtime_period: rt_period.map(|p| p.0 as u64),
    };
    Ok((cpu != Cpu::default()).then_some(cpu))
}

/// cpu.shares (v1, 2..=262144) -> cpu.weight (v2, 1..=10000), linearly:
/// `1 + ((shares - 2) * 9999) / 262142` (runc
/// `ConvertCPUSharesToCgroupV2Value`, crun `convert_shares_to_weight`,
/// both up to 2025). 0 stays 0, meaning unset; other values are clamped
/// into 2..=262144 first (runc would underflow on 1).
///
/// Note: runc >= 1.3.2 and crun >= 1.23 changed to a log-quadratic mapping
/// that sends the v1 default 1024 to the v2 default 100; this keeps the
/// older, widely deployed one (1024 -> 39).
pub fn shares_to_weight(shares: u64) -> u64 {
    if shares == 0 {
        return 0;
    }
    let s = shares.clamp(MIN_SHARES, MAX_SHARES);
    1 + ((s - 2) * 9999) / 262_142
}

/// blkio.weight (v1, 10..=1000) -> io.weight (v2, 1..=10000):
/// `1 + (weight - 10) * 9999 / 990` (crun `convert_blkio_weight`, runc
/// `ConvertBlkIOToIOWeightValue`). 0 stays 0 (unset); other values are
/// clamped into 10..=1000 first.
pub fn blkio_to_io_weight(w: u16) -> u64 {
    if w == 0 {
        return 0;
    }
    let w = u64::from(w.clamp(10, 1000));
    1 + (w - 10) * 9999 / 990
}

/// The v2 `cpu.max` line, "$QUOTA $PERIOD", as runc's fs2 `setCpu` writes
/// it: quota "max" unless positive; the period left out when unset (the
/// kernel keeps its own); `None` when neither is set. 0 counts as unset
/// for both, as in runc.
pub fn cpu_max(quota: Option<i64>, period: Option<u64>) -> Option<String> {
    let quota = quota.filter(|&q| q != 0);
    let period = period.filter(|&p| p != 0);
    if quota.is_none() && period.is_none() {
        return None;
    }
    let mut out = match quota {
        Some(q) if q > 0 => format!("{q}"),
        _ => String::from("max"),
    };
    if let Some(p) = period {
        let _ = write!(out, " {p}");
    }
    Some(out)
}

/// The v2 `memory.swap.max` from OCI's memory+swap total (runc
/// `ConvertMemorySwapToCgroupV2Value`): swap - limit, because v2 limits
/// swap alone. "max" for -1; `None` when swap is unset (or 0), and when
/// there is no positive memory limit to subtract (runc refuses that; the
/// flag checks in [`build`] already do). Never negative: clamped to 0.
pub fn swap_v2(limit: Option<i64>, swap: Option<i64>) -> Option<String> {
    match swap? {
        -1 => Some(String::from("max")),
        0 => None,
        s => {
            let l = limit.filter(|&l| l > 0)?;
            Some(format!("{}", s.saturating_sub(l).max(0)))
        }
    }
}

#[cfg(test)]
#[path = "flags_tests.rs"]
mod tests;
