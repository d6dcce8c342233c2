//! docker's `-f/--filter KEY=VALUE`: each checked against what the
//! command knows (a bad one is refused before anything is listed), and
//! matched as docker does: a key given twice passes either value,
//! different keys must all pass.

use super::args::{Flag, Parsed, text};
use crate::error::{Error, Result};
use alloc::string::String;
use alloc::vec::Vec;

pub struct Filters(Vec<(String, String)>);

impl Filters {
    /// The `filter` flags of `p`; `valid(key, value)` says which the
    /// command takes.
    pub fn parse(
        cmd: &str,
        table: &[Flag],
        p: &Parsed,
        valid: impl Fn(&str, &str) -> bool,
    ) -> Result<Filters> {
        let mut out = Vec::new();
        for &(k, v) in &p.flags {
            if table[k].long != "filter" {
                continue;
            }
            let t = text(v);
            let bad = || {
                Error::bad(
                    "invalid filter",
                    t.clone(),
                    alloc::format!("see 'pocket {cmd} --help'"),
                )
            };
            let (key, val) = t.split_once('=').ok_or_else(bad)?;
            if !valid(key, val) {
                return Err(bad());
            }
            out.push((String::from(key), String::from(val)));
        }
        Ok(Filters(out))
    }

    pub fn has(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }

    /// The values given for `key`.
    pub fn values<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every key of `keys` that was given has a value `test` passes.
    pub fn pass(&self, keys: &[&str], test: impl Fn(&str, &str) -> bool) -> bool {
        keys.iter().all(|key| {
            let mut vals = self.values(key).peekable();
            vals.peek().is_none() || vals.any(|v| test(key, v))
        })
    }
}

/// `label=KEY` or `label=KEY=VALUE` against a list of labels.
pub fn label(labels: &[(String, String)], v: &str) -> bool {
    match v.split_once('=') {
        Some((k, val)) => labels.iter().any(|(a, b)| a == k && b == val),
        None => labels.iter().any(|(a, _)| a == v),
    }
}

/// A `--since`/`--until` flag of `p` (RFC 3339, Unix seconds, or a
/// duration back from `now`), as logs and events take it.
pub fn time_flag(
    p: &Parsed,
    table: &[Flag],
    name: &str,
    now: crate::rt::time::Timestamp,
) -> Result<Option<crate::rt::time::Timestamp>> {
    match p.value(table, name) {
        Some(v) => crate::rt::time::parse_since(&text(v), now)
            .map(Some)
            .ok_or_else(|| {
                Error::bad(
                    alloc::format!("invalid --{name}"),
                    text(v),
                    "a time (RFC 3339, Unix seconds) or a duration (10m)",
                )
            }),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::super::args::{flag, parse_interspersed};
    use super::*;

    /// `ps`'s flags, as its filters are checked.
    const PS: &[Flag] = &[
        flag(b'a', "all", false),
        flag(b'q', "quiet", false),
        flag(b'f', "filter", true),
        flag(0, "format", true),
        flag(0, "since", true),
        flag(0, "until", true),
    ];
    const KEYS: &[&str] = &["id", "name", "label", "status", "exited", "ancestor"];
    const STATUSES: &[&str] = &["created", "running", "paused", "exited", "dead"];

    /// Hostile `-f` flags (a command line split at spaces): refusals are
    /// one line; what is kept is every filter given, each valid, and
    /// labels and --since/--until read without panicking.
    #[test]
    fn hostile_filters() {
        let corpus: &[&[u8]] = &[
            b"-a -f status=running --filter name=web -f label=a=1 -f label=b",
            b"--filter=exited=137 -f id=4f2a -f ancestor=busybox:latest -q",
            b"-f status=exited -f status=dead --since 10m --until 2026-01-01T00:00:00Z",
            b"--since=1700000000.5 -af name=x --format json",
        ];
        let dict: &[&[u8]] = &[
            b" -f ",
            b" --filter ",
            b"=",
            b"label=",
            b"status=",
            b" --since ",
        ];
        let labels = [
            (String::from("a"), String::from("1")),
            (String::from("b"), String::new()),
        ];
        let now = crate::rt::time::Timestamp {
            secs: 1_750_000_000,
            nanos: 0,
        };
        crate::rt::fuzz::run(
            "filters",
            corpus,
            dict,
            std::time::Duration::from_secs(60),
            |b| {
                let argv: Vec<&[u8]> = b.split(|&c| c == b' ').collect();
                let p = parse_interspersed("ps", PS, &argv).map_err(|e| format!("{e}"))?;
                let valid = |key: &str, val: &str| {
                    KEYS.contains(&key)
                        && (key != "status" || STATUSES.contains(&val))
                        && (key != "exited" || val.parse::<i32>().is_ok())
                };
                for name in ["since", "until"] {
                    time_flag(&p, PS, name, now).map_err(|e| format!("{e}"))?;
                }
                let fs = Filters::parse("ps", PS, &p, valid).map_err(|e| format!("{e}"))?;
                let given = p.flags.iter().filter(|f| PS[f.0].long == "filter").count();
                assert_eq!(fs.0.len(), given, "a filter was lost");
                for (k, v) in &fs.0 {
                    assert!(valid(k, v) && fs.has(k) && fs.values(k).any(|x| x == v));
                    if k == "label" {
                        let _ = label(&labels, v);
                    }
                }
                assert!(fs.pass(KEYS, |_, _| true));
                Ok(())
            },
        );
    }
}
