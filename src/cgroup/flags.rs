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
mod tests {
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
                }),
                pids: Some(Pids { limit: 64 }),
                block_io: Some(BlockIo { weight: Some(500) }),
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
}
