//! pocket's settings file, `/etc/pocket/config.json` (`$POCKET_CONFIG`
//! names another), with docker daemon.json's keys: `registry-mirrors`,
//! `insecure-registries`, and `"bridge": "none"`, which (as dockerd's
//! `--bridge=none`) leaves containers without a --net on `none` instead
//! of the default bridge network. No file, or one that does not parse,
//! is no settings. `$POCKET_CONFIG` may also hold the JSON itself
//! (`POCKET_CONFIG='{"bridge":"none"}'`): read as a path, that would
//! silently be no settings, and a script meaning "no bridge" would get one.

use crate::json::{self, Value};
use alloc::string::String;

pub const PATH: &str = "/etc/pocket/config.json";

/// The settings, if any.
pub fn load(args: &crate::rt::args::Args) -> Option<Value> {
    let given = args.getenv(b"POCKET_CONFIG").filter(|p| !p.is_empty());
    if let Some(v) = given.filter(|v| v.trim_ascii_start().starts_with(b"{")) {
        return json::parse(v).ok();
    }
    let path = given
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .unwrap_or_else(|| String::from(PATH));
    let c = crate::error::cpath(&path).ok()?;
    json::parse(&crate::sys::fs::read(&c).ok()?).ok()
}

/// `"bridge": "none"`: no default bridge network.
pub fn default_bridge_off(settings: Option<&Value>) -> bool {
    settings
        .and_then(|v| v.get("bridge"))
        .and_then(Value::str)
        .is_some_and(|b| b == "none")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bridge_none_turns_the_default_bridge_off() {
        let v = |s: &str| json::parse(s.as_bytes()).ok();
        assert!(default_bridge_off(v(r#"{"bridge": "none"}"#).as_ref()));
        assert!(!default_bridge_off(v(r#"{"bridge": "pocket0"}"#).as_ref()));
        assert!(!default_bridge_off(
            v(r#"{"registry-mirrors": []}"#).as_ref()
        ));
        assert!(!default_bridge_off(None));
    }
}
