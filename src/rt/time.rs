//! Wall-clock time for container records and docker-style display: RFC 3339
//! timestamps (what `docker inspect` and json-file logs carry) and go-units'
//! "About an hour ago" wording.
//!
//! Dates are computed here with Howard Hinnant's days <-> civil algorithms
//! instead of libc's gmtime/strftime, which would pull musl's timezone and
//! locale code into the static binary. Everything is UTC.

use alloc::format;
use alloc::string::String;
use core::fmt::Write;

/// An instant as Unix time (UTC): seconds since 1970-01-01T00:00:00Z plus
/// nanoseconds. Field order makes the derived `Ord` chronological.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Timestamp {
    pub secs: i64,
    pub nanos: u32,
}

const NANOS_PER_SEC: u32 = 1_000_000_000;
const SECS_PER_DAY: i64 = 86_400;
/// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the range a four-digit
/// year can write. Year 1 matters: docker prints Go's zero time,
/// 0001-01-01T00:00:00Z, for e.g. the FinishedAt of a never-stopped container.
const MIN_SECS: i64 = -62_167_219_200;
const MAX_SECS: i64 = 253_402_300_799;

fn clock_gettime(clock: libc::clockid_t) -> libc::timespec {
    // It fails only for a bad clock id, impossible here; should it happen
    // anyway, a zero time beats a panic.
    crate::sys::time::clock_gettime(clock).unwrap_or(libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    })
}

/// The current wall-clock time (CLOCK_REALTIME). It can jump when the
/// clock is set: use it for records, `monotonic_ms` for intervals.
// time_t and c_long are i64 here but i32 on some 32-bit targets.
#[allow(clippy::useless_conversion)]
pub fn now() -> Timestamp {
    let ts = clock_gettime(libc::CLOCK_REALTIME);
    let nanos = i64::from(ts.tv_nsec).clamp(0, i64::from(NANOS_PER_SEC) - 1);
    Timestamp {
        secs: i64::from(ts.tv_sec),
        nanos: nanos as u32,
    }
}

/// Milliseconds on CLOCK_MONOTONIC: never jumps, so timeouts and stop
/// grace periods survive the host clock being set.
pub fn monotonic_ms() -> u64 {
    let ts = clock_gettime(libc::CLOCK_MONOTONIC);
    let secs = u64::try_from(ts.tv_sec).unwrap_or(0);
    let nanos = u64::try_from(ts.tv_nsec).unwrap_or(0);
    secs.saturating_mul(1000).saturating_add(nanos / 1_000_000)
}

/// A Go duration ("1m30s", "500ms", "2h", "1.5s", "0"), in nanoseconds:
/// what docker's duration flags (--health-interval, logs --since 10m)
/// take. None if malformed, negative or beyond u64.
pub fn parse_duration(s: &str) -> Option<u64> {
    if s == "0" {
        return Some(0);
    }
    let mut rest = s.as_bytes();
    if rest.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let int_end = rest
            .iter()
            .position(|c| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (int, r) = rest.split_at(int_end);
        let (frac, r) = match r.split_first() {
            Some((b'.', r)) => {
                let e = r
                    .iter()
                    .position(|c| !c.is_ascii_digit())
                    .unwrap_or(r.len());
                r.split_at(e)
            }
            _ => (&b""[..], r),
        };
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        let unit_end = r
            .iter()
            .position(|c| c.is_ascii_digit() || *c == b'.')
            .unwrap_or(r.len());
        let (unit, r) = r.split_at(unit_end);
        let scale: u64 = match unit {
            b"ns" => 1,
            b"us" | b"\xc2\xb5s" | b"\xce\xbcs" => 1_000,
            b"ms" => 1_000_000,
            b"s" => 1_000_000_000,
            b"m" => 60_000_000_000,
            b"h" => 3_600_000_000_000,
            _ => return None,
        };
        let mut n: u64 = 0;
        for &d in int {
            n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
        }
        let mut v = n.checked_mul(scale)?;
        let mut place = scale;
        for &d in frac.iter().take(18) {
            place /= 10;
            v = v.checked_add(u64::from(d - b'0') * place)?;
        }
        total = total.checked_add(v)?;
        rest = r;
    }
    Some(total)
}

/// docker's --since/--until values (logs, events): a Unix time
/// ("1700000000", "1700000000.5"), RFC 3339 (a zone-less time or a bare
/// date is UTC), or a Go duration meaning that long before `now` ("10m").
pub fn parse_since(s: &str, now: Timestamp) -> Option<Timestamp> {
    if let Some(d) = parse_duration(s) {
        let back = Timestamp {
            secs: (d / 1_000_000_000) as i64,
            nanos: (d % 1_000_000_000) as u32,
        };
        let (mut secs, mut nanos) = (now.secs - back.secs, now.nanos as i64 - back.nanos as i64);
        if nanos < 0 {
            secs -= 1;
            nanos += i64::from(NANOS_PER_SEC);
        }
        return Some(Timestamp {
            secs,
            nanos: nanos as u32,
        });
    }
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if !int.is_empty()
        && int.bytes().all(|c| c.is_ascii_digit())
        && frac.bytes().all(|c| c.is_ascii_digit())
    {
        let secs = int.parse::<i64>().ok()?;
        let f = &frac[..frac.len().min(9)];
        let nanos = if f.is_empty() {
            0
        } else {
            f.parse::<u32>().ok()? * 10u32.pow(9 - f.len() as u32)
        };
        return Some(Timestamp { secs, nanos });
    }
    parse_rfc3339(s)
        .or_else(|| parse_rfc3339(&format!("{s}Z")))
        .or_else(|| parse_rfc3339(&format!("{s}T00:00:00Z")))
}

/// docker's CreatedAt in listings: "2026-12-06 00:35:35 +0000 UTC".
pub fn docker_date(t: Timestamp) -> String {
    let (s, _) = civil(t);
    format!("{} +0000 UTC", s.replace('T', " "))
}

/// Go's Duration.String(): "30s", "1m30s", "1.5s", "500ms", "2h0m0s".
pub fn go_duration(ns: u64) -> String {
    if ns == 0 {
        return String::from("0s");
    }
    let frac = |v: u64, unit: u64| {
        let (i, f) = (v / unit, v % unit);
        let digits = unit.ilog10() as usize;
        let f = format!("{f:0digits$}");
        let f = f.trim_end_matches('0');
        if f.is_empty() {
            format!("{i}")
        } else {
            format!("{i}.{f}")
        }
    };
    if ns < 1_000 {
        return format!("{ns}ns");
    }
    if ns < 1_000_000 {
        return format!("{}\u{b5}s", frac(ns, 1_000));
    }
    if ns < 1_000_000_000 {
        return format!("{}ms", frac(ns, 1_000_000));
    }
    let secs = ns / 1_000_000_000;
    let s = frac(ns % 60_000_000_000, 1_000_000_000);
    match (secs / 3600, secs / 60 % 60) {
        (0, 0) => format!("{s}s"),
        (0, m) => format!("{m}m{s}s"),
        (h, m) => format!("{h}h{m}m{s}s"),
    }
}

/// Days since 1970-01-01 -> (year, month 1..=12, day 1..=31), proleptic
/// Gregorian. Hinnant's civil_from_days: eras of 400 years starting on
/// March 1st, so the leap day is the last day of its "year".
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of era, 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // 0..=365, from March 1st
    let mp = (5 * doy + 2) / 153; // 0..=11, March = 0
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month as u32, day as u32)
}

/// (year, month, day) -> days since 1970-01-01; Hinnant's days_from_civil.
/// The caller has checked month and day.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = year - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// "YYYY-MM-DDTHH:MM:SS" and the nanoseconds. Nanos of a second or more
/// carry into the seconds; instants outside years 0000..=9999 are clamped so
/// the output always has four-digit years and parses back.
fn civil(t: Timestamp) -> (String, u32) {
    let secs = t.secs.saturating_add(i64::from(t.nanos / NANOS_PER_SEC));
    let (secs, nanos) = if secs < MIN_SECS {
        (MIN_SECS, 0)
    } else if secs > MAX_SECS {
        (MAX_SECS, NANOS_PER_SEC - 1)
    } else {
        (secs, t.nanos % NANOS_PER_SEC)
    };
    let (y, mo, d) = civil_from_days(secs.div_euclid(SECS_PER_DAY));
    let sod = secs.rem_euclid(SECS_PER_DAY);
    let text = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        y,
        mo,
        d,
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    );
    (text, nanos)
}

/// RFC 3339 in UTC with all nine fraction digits:
/// "2026-11-23T13:37:33.123456789Z". Fixed width, so records sort as text.
pub fn rfc3339(t: Timestamp) -> String {
    let (mut s, nanos) = civil(t);
    let _ = write!(s, ".{:09}Z", nanos);
    s
}

/// Go's time.RFC3339Nano, as docker writes in json-file logs and inspect:
/// trailing zeros of the fraction trimmed, and no '.' when it is all zero
/// ("...:56Z", "...:56.5Z").
pub fn rfc3339_nano_trimmed(t: Timestamp) -> String {
    let (mut s, nanos) = civil(t);
    if nanos != 0 {
        let (mut frac, mut width) = (nanos, 9);
        while frac % 10 == 0 {
            frac /= 10;
            width -= 1;
        }
        let _ = write!(s, ".{:0width$}", frac, width = width);
    }
    s.push('Z');
    s
}

/// A read position over the bytes of a timestamp; every step checks bounds,
/// so hostile input gives None, never a panic.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }
    fn expect(&mut self, any_of: &[u8]) -> Option<u8> {
        let c = self.next()?;
        any_of.contains(&c).then_some(c)
    }
    /// Exactly `n` ASCII digits (n <= 9, so no overflow).
    fn digits(&mut self, n: usize) -> Option<u32> {
        let mut v = 0;
        for _ in 0..n {
            let c = self.next()?;
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u32::from(c - b'0');
        }
        Some(v)
    }
}

/// Parse RFC 3339 ("YYYY-MM-DDTHH:MM:SS[.F]Z" or with "+HH:MM"/"-HH:MM"),
/// with 1 to 9 fraction digits, converting offsets to UTC. Both writers
/// above round-trip. 'T' and 'Z' may be lowercase, as the RFC allows. No
/// leap seconds (second 60), like Go. None for anything malformed.
pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
    let mut c = Cursor {
        b: s.as_bytes(),
        i: 0,
    };
    let year = c.digits(4)?;
    c.expect(b"-")?;
    let month = c.digits(2)?;
    c.expect(b"-")?;
    let day = c.digits(2)?;
    c.expect(b"Tt")?;
    let hour = c.digits(2)?;
    c.expect(b":")?;
    let minute = c.digits(2)?;
    c.expect(b":")?;
    let second = c.digits(2)?;

    let mut nanos = 0;
    if c.peek() == Some(b'.') {
        c.i += 1;
        let mut n = 0;
        while let Some(d) = c.peek().filter(u8::is_ascii_digit) {
            if n == 9 {
                return None;
            }
            nanos = nanos * 10 + u32::from(d - b'0');
            n += 1;
            c.i += 1;
        }
        if n == 0 {
            return None;
        }
        nanos *= 10u32.pow(9 - n);
    }

    let offset = match c.expect(b"Zz+-")? {
        b'Z' | b'z' => 0,
        sign => {
            let oh = c.digits(2)?;
            c.expect(b":")?;
            let om = c.digits(2)?;
            if oh > 23 || om > 59 {
                return None;
            }
            let off = i64::from(oh * 3600 + om * 60);
            if sign == b'-' { -off } else { off }
        }
    };
    if c.i != c.b.len() {
        return None;
    }

    let year = i64::from(year);
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let sod = i64::from(hour * 3600 + minute * 60 + second);
    Some(Timestamp {
        secs: days_from_civil(year, month, day) * SECS_PER_DAY + sod - offset,
        nanos,
    })
}

/// docker/go-units' HumanDuration, word for word: "Less than a second",
/// "About a minute", "3 hours", "2 weeks"... `docker ps` shows it as
/// "Up 3 hours" and "Exited (0) 2 weeks ago".
pub fn human_duration(secs: i64) -> String {
    if secs < 1 {
        // Includes negative spans: a clock set backwards reads as "just now".
        return String::from("Less than a second");
    }
    if secs == 1 {
        return String::from("1 second");
    }
    if secs < 60 {
        return format!("{} seconds", secs);
    }
    let minutes = secs / 60;
    if minutes == 1 {
        return String::from("About a minute");
    }
    if minutes < 60 {
        return format!("{} minutes", minutes);
    }
    // go-units rounds to the nearest hour here: int(d.Hours() + 0.5).
    let hours = secs / 3600 + i64::from(secs % 3600 >= 1800);
    if hours == 1 {
        String::from("About an hour")
    } else if hours < 48 {
        format!("{} hours", hours)
    } else if hours < 24 * 7 * 2 {
        format!("{} days", hours / 24)
    } else if hours < 24 * 30 * 2 {
        format!("{} weeks", hours / 24 / 7)
    } else if hours < 24 * 365 * 2 {
        format!("{} months", hours / 24 / 30)
    } else {
        // ...but its years use the truncated hours: int(d.Hours())/24/365.
        format!("{} years", secs / 3600 / 24 / 365)
    }
}

/// "5 minutes ago". The span is truncated to whole seconds as Go's
/// int(d.Seconds()) does; every go-units threshold is a whole second, so
/// nothing finer can change the wording.
pub fn human_ago(then: Timestamp, now: Timestamp) -> String {
    let ns = |t: Timestamp| i128::from(t.secs) * i128::from(NANOS_PER_SEC) + i128::from(t.nanos);
    let secs = (ns(now) - ns(then)) / i128::from(NANOS_PER_SEC);
    let secs = i64::try_from(secs).unwrap_or(if secs < 0 { i64::MIN } else { i64::MAX });
    let mut s = human_duration(secs);
    s.push_str(" ago");
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn go_duration_strings() {
        use super::go_duration as g;
        assert_eq!(g(0), "0s");
        assert_eq!(g(30_000_000_000), "30s");
        assert_eq!(g(90_000_000_000), "1m30s");
        assert_eq!(g(1_500_000_000), "1.5s");
        assert_eq!(g(500_000_000), "500ms");
        assert_eq!(g(7_200_000_000_000), "2h0m0s");
    }

    #[test]
    fn since_values() {
        use super::{Timestamp, parse_since as p};
        let now = Timestamp {
            secs: 1_000,
            nanos: 0,
        };
        assert_eq!(
            p("10s", now),
            Some(Timestamp {
                secs: 990,
                nanos: 0
            })
        );
        assert_eq!(
            p("1.5s", now),
            Some(Timestamp {
                secs: 998,
                nanos: 500_000_000
            })
        );
        assert_eq!(
            p("1700000000", now),
            Some(Timestamp {
                secs: 1_700_000_000,
                nanos: 0
            })
        );
        assert_eq!(
            p("1700000000.25", now),
            Some(Timestamp {
                secs: 1_700_000_000,
                nanos: 250_000_000
            })
        );
        assert_eq!(
            p("1970-01-01T00:01:00Z", now),
            Some(Timestamp { secs: 60, nanos: 0 })
        );
        assert_eq!(
            p("1970-01-01T00:01:00", now),
            Some(Timestamp { secs: 60, nanos: 0 })
        );
        assert_eq!(
            p("1970-01-02", now),
            Some(Timestamp {
                secs: 86_400,
                nanos: 0
            })
        );
        assert_eq!(p("yesterday", now), None);
        assert_eq!(p("", now), None);
    }

    #[test]
    fn go_durations() {
        use super::parse_duration as d;
        assert_eq!(d("0"), Some(0));
        assert_eq!(d("30s"), Some(30_000_000_000));
        assert_eq!(d("1m30s"), Some(90_000_000_000));
        assert_eq!(d("500ms"), Some(500_000_000));
        assert_eq!(d("1.5s"), Some(1_500_000_000));
        assert_eq!(d("2h"), Some(7_200_000_000_000));
        assert_eq!(d("10us"), Some(10_000));
        for bad in [
            "",
            "5",
            "s",
            "1x",
            "-1s",
            "1.s.",
            "99999999999999999999h",
            "1..5s",
        ] {
            assert_eq!(d(bad), None, "{bad}");
        }
    }

    use super::*;

    fn ts(secs: i64, nanos: u32) -> Timestamp {
        Timestamp { secs, nanos }
    }

    /// xorshift64*: deterministic pseudo-random inputs without a dependency.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
    }

    #[test]
    fn known_dates() {
        // Expected seconds from `date -u -d ... +%s`.
        let cases = [
            (0, 0, "1970-01-01T00:00:00.000000000Z"),
            (951_827_696, 1, "2000-02-29T12:34:56.000000001Z"),
            (1_795_441_053, 123_456_789, "2026-11-23T13:37:33.123456789Z"),
            (253_402_300_799, 0, "9999-12-31T23:59:59.000000000Z"),
            (-62_135_596_800, 0, "0001-01-01T00:00:00.000000000Z"),
            (-1, 0, "1969-12-31T23:59:59.000000000Z"),
        ];
        for (secs, nanos, full) in cases {
            let t = ts(secs, nanos);
            let trimmed = full.replace(".000000000Z", "Z");
            assert_eq!(rfc3339(t), full);
            assert_eq!(rfc3339_nano_trimmed(t), trimmed);
            assert_eq!(parse_rfc3339(full), Some(t), "{}", full);
            assert_eq!(parse_rfc3339(&trimmed), Some(t), "{}", trimmed);
        }
    }

    #[test]
    fn trimmed_fraction() {
        for (nanos, frac) in [
            (0, ""),
            (500_000_000, ".5"),
            (120_000_000, ".12"),
            (1_000, ".000001"),
            (999_999_990, ".99999999"),
            (1, ".000000001"),
        ] {
            let t = ts(951_827_696, nanos);
            let want = format!("2000-02-29T12:34:56{}Z", frac);
            assert_eq!(rfc3339_nano_trimmed(t), want);
            assert_eq!(parse_rfc3339(&want), Some(t));
        }
        assert_eq!(
            rfc3339(ts(951_827_696, 500_000_000)),
            "2000-02-29T12:34:56.500000000Z"
        );
    }

    #[test]
    fn out_of_range_is_clamped_not_garbled() {
        assert_eq!(
            rfc3339_nano_trimmed(ts(i64::MIN, 7)),
            "0000-01-01T00:00:00Z"
        );
        assert_eq!(
            rfc3339(ts(i64::MAX, u32::MAX)),
            "9999-12-31T23:59:59.999999999Z"
        );
        // Nanos of a second or more carry.
        assert_eq!(
            rfc3339_nano_trimmed(ts(0, 1_500_000_000)),
            "1970-01-01T00:00:01.5Z"
        );
    }

    #[test]
    fn civil_matches_day_by_day_count() {
        // Walk every day of years 0000..=9999 and check both directions.
        let mut days = days_from_civil(0, 1, 1);
        for year in 0..=9999 {
            for month in 1..=12 {
                for day in 1..=days_in_month(year, month) {
                    assert_eq!(civil_from_days(days), (year, month, day));
                    assert_eq!(days_from_civil(year, month, day), days);
                    days += 1;
                }
            }
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days, (MAX_SECS + 1) / SECS_PER_DAY);
    }

    #[test]
    fn round_trips() {
        let mut r = Rng(0x9e37_79b9_7f4a_7c15);
        let span = (MAX_SECS - MIN_SECS + 1) as u64;
        for i in 0..200_000 {
            let secs = MIN_SECS + (r.next() % span) as i64;
            let nanos = match i % 4 {
                0 => 0,
                1 => (r.next() % 1000) as u32 * 1_000_000,
                _ => (r.next() % u64::from(NANOS_PER_SEC)) as u32,
            };
            let t = ts(secs, nanos);
            assert_eq!(parse_rfc3339(&rfc3339(t)), Some(t));
            assert_eq!(parse_rfc3339(&rfc3339_nano_trimmed(t)), Some(t));
        }
    }

    #[test]
    fn offsets_convert_to_utc() {
        let p = |s| parse_rfc3339(s).map(|t| t.secs);
        assert_eq!(p("2024-03-01T00:00:00+02:00"), Some(1_709_244_000));
        assert_eq!(p("2024-02-29T18:30:00-05:30"), Some(1_709_251_200));
        assert_eq!(p("2024-02-29T22:00:00Z"), Some(1_709_244_000));
        assert_eq!(p("2024-02-29T22:00:00+00:00"), Some(1_709_244_000));
        assert_eq!(p("2024-02-29T22:00:00-00:00"), Some(1_709_244_000));
        assert_eq!(p("1970-01-01T00:00:00+23:59"), Some(-86_340));
        assert_eq!(
            parse_rfc3339("2024-02-29t22:00:00.25z"),
            Some(ts(1_709_244_000, 250_000_000))
        );
        assert_eq!(
            parse_rfc3339("2024-02-29T23:00:00.000000001+01:00"),
            Some(ts(1_709_244_000, 1))
        );
    }

    #[test]
    fn rejects_malformed() {
        for s in [
            "",
            "2024",
            "2024-02-29",
            "2024-02-29T22:00:00",
            "2024-02-30T22:00:00Z",
            "2023-02-29T22:00:00Z",
            "1900-02-29T00:00:00Z",
            "2024-00-10T22:00:00Z",
            "2024-13-10T22:00:00Z",
            "2024-01-00T22:00:00Z",
            "2024-01-32T22:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T23:60:00Z",
            "2024-01-01T23:59:60Z",
            "2024-01-01 23:59:59Z",
            "2024-01-01T23:59:59.Z",
            "2024-01-01T23:59:59.1234567890Z",
            "2024-01-01T23:59:59+0200",
            "2024-01-01T23:59:59+24:00",
            "2024-01-01T23:59:59+02:60",
            "2024-01-01T23:59:59+02",
            "2024-01-01T23:59:59Zjunk",
            "2024-01-01T23:59:59Z ",
            " 2024-01-01T23:59:59Z",
            "+2024-01-01T23:59:59Z",
            "12024-01-01T23:59:59Z",
            "2024-1-01T23:59:59Z",
            "2024-01-01T23:59:5٩Z",
            "2024-01-01T23:59:59.５Z",
        ] {
            assert_eq!(parse_rfc3339(s), None, "{:?}", s);
        }
        // 2000 is a leap year; 2400 too.
        assert!(parse_rfc3339("2000-02-29T00:00:00Z").is_some());
        assert!(parse_rfc3339("2400-02-29T00:00:00Z").is_some());
    }

    #[test]
    fn fuzz_parse_never_panics() {
        let seeds = [
            "2026-11-23T13:37:33.123456789Z",
            "2024-02-29T18:30:00-05:30",
            "9999-12-31T23:59:59.5+23:59",
            "0000-01-01T00:00:00-23:59",
        ];
        // Every truncation, including ones that split a multi-byte char.
        for s in seeds.iter().chain(["2024-01-01T00:00:0é.1Z"].iter()) {
            for end in 0..=s.len() {
                if let Some(p) = s.get(..end) {
                    let _ = parse_rfc3339(p);
                }
            }
        }
        let alphabet = b"0123456789-:.TtZz+ x\xc3\xa9";
        let mut r = Rng(42);
        for _ in 0..200_000 {
            let seed = seeds[(r.next() % seeds.len() as u64) as usize].as_bytes();
            let mut b = seed.to_vec();
            for _ in 0..=(r.next() % 4) {
                let pos = (r.next() % (b.len() as u64 + 1)) as usize;
                let c = alphabet[(r.next() % alphabet.len() as u64) as usize];
                match r.next() % 3 {
                    0 if pos < b.len() => b[pos] = c,
                    1 => b.insert(pos, c),
                    _ if pos < b.len() => {
                        b.remove(pos);
                    }
                    _ => {}
                }
            }
            if let Ok(s) = std::str::from_utf8(&b)
                && let Some(t) = parse_rfc3339(s)
            {
                // Whatever parses must format without panicking.
                let _ = rfc3339_nano_trimmed(t);
            }
            // Pure garbage, too.
            let len = (r.next() % 40) as usize;
            let g: std::string::String = (0..len)
                .map(|_| char::from(alphabet[(r.next() % 20) as usize]))
                .collect();
            let _ = parse_rfc3339(&g);
        }
    }

    #[test]
    fn human_duration_boundaries() {
        const H: i64 = 3600;
        const D: i64 = 24 * H;
        let cases: &[(i64, &str)] = &[
            (i64::MIN, "Less than a second"),
            (-5, "Less than a second"),
            (0, "Less than a second"),
            (1, "1 second"),
            (2, "2 seconds"),
            (59, "59 seconds"),
            (60, "About a minute"),
            (119, "About a minute"),
            (120, "2 minutes"),
            (H - 1, "59 minutes"),
            (H, "About an hour"),
            (H + 1799, "About an hour"),
            (H + 1800, "2 hours"),
            (47 * H + 1799, "47 hours"),
            (47 * H + 1800, "2 days"),
            (48 * H, "2 days"),
            (14 * D - 1801, "13 days"),
            (14 * D - 1800, "2 weeks"),
            (60 * D - 1801, "8 weeks"),
            (60 * D - 1800, "2 months"),
            (730 * D - 1801, "24 months"),
            // Rounded hours reach two years; go-units' truncated ones do not.
            (730 * D - 1800, "1 years"),
            (730 * D, "2 years"),
            (3 * 365 * D, "3 years"),
            (i64::MAX, "292471208677 years"),
        ];
        for &(secs, want) in cases {
            assert_eq!(human_duration(secs), want, "{}", secs);
        }
    }

    #[test]
    fn human_ago_truncates_to_seconds() {
        let now = ts(1_000_000, 200_000_000);
        assert_eq!(human_ago(ts(1_000_000, 0), now), "Less than a second ago");
        assert_eq!(
            human_ago(ts(999_999, 300_000_000), now),
            "Less than a second ago"
        );
        assert_eq!(human_ago(ts(999_999, 200_000_000), now), "1 second ago");
        assert_eq!(human_ago(ts(1_000_000 - 3600, 0), now), "About an hour ago");
        assert_eq!(human_ago(ts(2_000_000, 0), now), "Less than a second ago");
        assert_eq!(
            human_ago(ts(i64::MIN, 0), ts(i64::MAX, 999_999_999)),
            "292471208677 years ago"
        );
    }

    #[test]
    fn clocks_move() {
        let a = now();
        assert!(a.secs > 1_600_000_000 && a.nanos < NANOS_PER_SEC);
        let m = monotonic_ms();
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(monotonic_ms() >= m + 20);
        assert!(now() >= a);
    }

    /// Hostile times for duration flags, --since/--until and RFC 3339
    /// fields (each parser gets every input; a refusal is None, reported
    /// as one line). A duration prints back (Go's form) to itself, an RFC
    /// 3339 time in years 0000-9999 in both written forms, and whatever
    /// --since reads prints as a date and an age without panicking.
    #[test]
    fn hostile_times() {
        use super::*;
        let corpus: &[&[u8]] = &[
            b"1m30s",
            b"1.5h2m3.25s500ms7us8ns",
            b"10\xc2\xb5s",
            b"0",
            b"1700000000.123456789",
            b"2026-11-23T13:37:33.123456789Z",
            b"2024-02-29t23:59:59-23:59",
            b"2024-01-01T00:00:00+05:30",
            b"0000-01-01T00:00:00.5Z",
            b"9999-12-31T23:59:59Z",
            b"2024-03-01",
            b"2024-03-01T10:11:12",
        ];
        let dict: &[&[u8]] = &[
            b"h",
            b"m",
            b"s",
            b"ms",
            b"ns",
            b".",
            b"T",
            b"Z",
            b"+",
            b"-",
            b":",
            b"00",
            b"18446744073",
            b"9223372036854775807",
        ];
        let now = Timestamp {
            secs: 1_750_000_000,
            nanos: 5,
        };
        crate::rt::fuzz::run(
            "times",
            corpus,
            dict,
            std::time::Duration::from_secs(60),
            |b| {
                let s = String::from_utf8_lossy(b);
                let mut any = false;
                if let Some(d) = parse_duration(&s) {
                    let again = go_duration(d);
                    assert_eq!(parse_duration(&again), Some(d), "{s:?}: {again}");
                    any = true;
                }
                if let Some(t) = parse_rfc3339(&s) {
                    assert!(t.nanos < NANOS_PER_SEC, "{s:?}: {t:?}");
                    if (MIN_SECS..=MAX_SECS).contains(&t.secs) {
                        for again in [rfc3339(t), rfc3339_nano_trimmed(t)] {
                            assert_eq!(parse_rfc3339(&again), Some(t), "{s:?}: {again}");
                        }
                    }
                    any = true;
                }
                if let Some(t) = parse_since(&s, now) {
                    assert!(t.nanos < NANOS_PER_SEC, "{s:?}: {t:?}");
                    let _ = (docker_date(t), human_ago(t, now), rfc3339(t));
                    any = true;
                }
                match any {
                    true => Ok(()),
                    false => Err(String::from("not a time or duration")),
                }
            },
        );
    }
}
