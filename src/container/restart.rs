//! Restart policies (docker's `--restart`): whether a container that
//! ended starts again, and after how long. The monitor applies them; there
//! is no daemon, so a reboot's comeback is `pocket boot` (a boot script
//! runs it), which starts what `always` and `unless-stopped` ask for.

use crate::error::{Error, Result};
use alloc::format;
use alloc::string::String;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    No,
    Always,
    UnlessStopped,
    /// On a non-zero exit, at most this many times (0: no bound).
    OnFailure(u32),
}

/// docker's first delay, doubled at each restart in a row; back to it
/// once a run lasted `RESET_MS`; never more than `MAX_MS`.
pub const FIRST_MS: u64 = 100;
pub const RESET_MS: u64 = 10_000;
pub const MAX_MS: u64 = 60_000;

impl Policy {
    /// `--restart` values, as docker takes and words them.
    pub fn parse(v: &str) -> Result<Policy> {
        let bad = |why: String| Error::bad("invalid restart policy", String::from(v), why);
        let (name, count) = match v.split_once(':') {
            Some((n, c)) => (n, Some(c)),
            None => (v, None),
        };
        let p = match name {
            "" | "no" => Policy::No,
            "always" => Policy::Always,
            "unless-stopped" => Policy::UnlessStopped,
            "on-failure" => {
                let n = match count {
                    None => 0,
                    Some(c) => c.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                        bad(format!(
                            "maximum retry count must be a positive integer: {c}"
                        ))
                    })?,
                };
                return Ok(Policy::OnFailure(n.min(u32::MAX as i64) as u32));
            }
            other => {
                return Err(bad(format!(
                    "unknown policy '{other}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"
                )));
            }
        };
        if count.is_some() {
            return Err(bad(String::from(
                "maximum retry count can only be used with 'on-failure'",
            )));
        }
        Ok(p)
    }

    /// The form state.json keeps and inspect shows (HostConfig.RestartPolicy).
    pub fn name(self) -> &'static str {
        match self {
            Policy::No => "no",
            Policy::Always => "always",
            Policy::UnlessStopped => "unless-stopped",
            Policy::OnFailure(_) => "on-failure",
        }
    }

    /// The value `--restart` took: what state.json keeps.
    pub fn value(self) -> String {
        match self {
            Policy::OnFailure(n) if n > 0 => format!("on-failure:{n}"),
            p => String::from(p.name()),
        }
    }

    pub fn max_retries(self) -> u32 {
        match self {
            Policy::OnFailure(n) => n,
            _ => 0,
        }
    }

    /// After an exit with `code`, restarted `count` times so far: start it
    /// again? Never once stopped by hand (stop, kill).
    pub fn restarts(self, code: i32, count: u32, manual: bool) -> bool {
        if manual {
            return false;
        }
        match self {
            Policy::No => false,
            Policy::Always | Policy::UnlessStopped => true,
            Policy::OnFailure(max) => code != 0 && (max == 0 || count < max),
        }
    }

    /// Does it come back when the host does (`pocket boot`)?
    pub fn at_boot(self, manual: bool) -> bool {
        match self {
            Policy::Always => true,
            Policy::UnlessStopped => !manual,
            _ => false,
        }
    }
}

/// The delay before the next start: doubled from the last one, or back
/// to the first after a run of `ran_ms` that lasted long enough.
pub fn next_delay(last: u64, ran_ms: u64) -> u64 {
    if last == 0 || ran_ms >= RESET_MS {
        FIRST_MS
    } else {
        last.saturating_mul(2).min(MAX_MS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_docker_values() {
        assert_eq!(Policy::parse("no").unwrap(), Policy::No);
        assert_eq!(Policy::parse("always").unwrap(), Policy::Always);
        assert_eq!(
            Policy::parse("unless-stopped").unwrap(),
            Policy::UnlessStopped
        );
        assert_eq!(Policy::parse("on-failure").unwrap(), Policy::OnFailure(0));
        assert_eq!(Policy::parse("on-failure:3").unwrap(), Policy::OnFailure(3));
        for bad in [
            "sometimes",
            "always:3",
            "on-failure:-1",
            "on-failure:x",
            "no:1",
        ] {
            let e = Policy::parse(bad).unwrap_err();
            assert!(
                e.to_string().contains("invalid restart policy"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn decides_as_docker() {
        assert!(!Policy::No.restarts(1, 0, false));
        assert!(Policy::Always.restarts(0, 100, false));
        assert!(!Policy::Always.restarts(0, 0, true), "stopped by hand");
        assert!(!Policy::OnFailure(0).restarts(0, 0, false), "a clean exit");
        assert!(Policy::OnFailure(0).restarts(1, 1000, false));
        assert!(Policy::OnFailure(2).restarts(1, 1, false));
        assert!(!Policy::OnFailure(2).restarts(1, 2, false));
        assert!(Policy::Always.at_boot(true));
        assert!(!Policy::UnlessStopped.at_boot(true));
        assert!(Policy::UnlessStopped.at_boot(false));
        assert!(!Policy::OnFailure(0).at_boot(false));
    }

    #[test]
    fn backoff_doubles_and_resets() {
        assert_eq!(next_delay(0, 0), 100);
        assert_eq!(next_delay(100, 5), 200);
        assert_eq!(next_delay(400, 9_999), 800);
        assert_eq!(next_delay(800, 10_000), 100);
        assert_eq!(next_delay(40_000, 0), 60_000);
    }
}
