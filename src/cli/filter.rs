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
