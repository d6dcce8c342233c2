//! Every command's `--help`, kept deflated in the binary: src/help.txt
//! (one `@@ KEY` section per command), packed by build.rs. 29 KB of text
//! take 10 KB this way, and nothing but `--help` reads them, so they are
//! inflated only then (~0.1 ms).

use alloc::string::String;

static PACKED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/help.deflate"));

/// The help of `key` ("run", "network create", "pocket-runc"); a
/// subcommand without a section of its own gets its group's ("volume").
pub fn text(key: &str) -> Option<String> {
    let all = miniz_oxide::inflate::decompress_to_vec(PACKED).ok()?;
    let all = core::str::from_utf8(&all).ok()?;
    let find = |k: &str| {
        all.split("@@ ")
            .find_map(|s| s.strip_prefix(k)?.strip_prefix('\n'))
            .map(String::from)
    };
    find(key).or_else(|| find(key.split(' ').next()?))
}

/// Print the help of `key` to stdout (see `text`).
pub fn print(key: &str) {
    match text(key) {
        Some(t) => crate::rt::out().bytes(t.as_bytes()),
        // Only a build without its section (tests/errors.rs asks each).
        None => crate::errln!("pocket: no help for {key}: see 'pocket --help'"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each key a command asks for, and the start of its usage line.
    const KEYS: &[(&str, &str)] = &[
        ("pocket", "Usage: pocket [--root DIR] COMMAND"),
        ("pocket-runc", "Usage: pocket-runc "),
        ("run", "Usage: pocket run "),
        ("network create", "Usage: pocket network create "),
        ("network prune", "Usage: pocket network prune"),
        ("system df", "Usage: pocket system df"),
        ("image inspect", "Usage: pocket image inspect "),
        ("tag", "Usage: pocket tag "),
        ("version", "Usage: pocket version"),
    ];

    #[test]
    fn each_key_finds_its_own_section() {
        for (k, usage) in KEYS {
            let t = text(k).unwrap_or_else(|| panic!("no help for {k}"));
            assert!(t.starts_with(usage), "{k}: {t}");
            assert!(t.ends_with('\n') && !t.contains("@@ "), "{k}: {t}");
        }
    }

    #[test]
    fn a_subcommand_without_a_section_gets_its_groups() {
        assert!(
            text("volume frob")
                .unwrap()
                .starts_with("Usage: pocket volume COMMAND")
        );
        assert!(text("run").unwrap() != text("runc").unwrap_or_default());
        assert_eq!(text("nonesuch"), None);
    }

    #[test]
    fn sections_are_unique_and_well_formed() {
        let all = include_str!("help.txt");
        assert!(all.starts_with("@@ "));
        let keys: alloc::vec::Vec<&str> = all
            .split("@@ ")
            .skip(1)
            .map(|s| s.split('\n').next().unwrap())
            .collect();
        for (i, k) in keys.iter().enumerate() {
            assert!(!keys[..i].contains(k), "{k} twice");
            assert!(text(k).unwrap().starts_with("Usage: "), "{k}");
        }
    }
}
