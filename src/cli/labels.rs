//! `--label KEY=VALUE` and `--label-file FILE` (lines of KEY=VALUE; blank
//! lines and `#` comments skipped, leading white space trimmed), as docker
//! reads them for run/create, and pocket for volume and network create
//! too: the files first, then the flags (docker's order: a flag always
//! wins), each in command-line order, a later key replacing an earlier.

use super::args::text;
use crate::error::{Error, Result};
use alloc::string::String;
use alloc::vec::Vec;

/// `base` (an image's labels, or none) with the flags over it: each
/// `(is_file, value)`.
pub fn collect(
    mut out: Vec<(String, String)>,
    given: &[(bool, &[u8])],
) -> Result<Vec<(String, String)>> {
    let mut set = |kv: &str| -> Result<()> {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        if k.is_empty() {
            return Err(Error::bad("invalid label", String::from(kv), "empty key"));
        }
        out.retain(|(x, _)| x != k);
        out.push((String::from(k), String::from(v)));
        Ok(())
    };
    for &(_, v) in given.iter().filter(|g| g.0) {
        let body = super::run::read_file(v, "label file")?;
        for line in String::from_utf8_lossy(&body).lines() {
            let l = line.trim_start();
            if !l.trim_end().is_empty() && !l.starts_with('#') {
                set(l)?;
            }
        }
    }
    for &(_, v) in given.iter().filter(|g| !g.0) {
        set(&text(v))?;
    }
    // Kept as docker shows its maps: keys sorted.
    crate::rt::sort_by(&mut out, |a, b| a.0 < b.0);
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn later_wins_keys_sorted_and_empty_keys_are_refused() {
        let base = vec![("a".to_string(), "img".to_string())];
        let got = super::collect(base, &[(false, b"a=1"), (false, b"b"), (false, b"a=2")]).unwrap();
        assert_eq!(
            got,
            vec![
                ("a".to_string(), "2".to_string()),
                ("b".to_string(), String::new())
            ]
        );
        assert!(super::collect(vec![], &[(false, b"=x")]).is_err());
    }
}
