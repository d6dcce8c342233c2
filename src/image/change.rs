//! `commit --change` and `import --change`: Dockerfile instructions
//! applied to an image's config, as docker's: CMD, ENTRYPOINT, ENV,
//! EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR. Any other word is
//! refused by name (docker's "RUN is not a valid change command").

use super::store::Config;
use crate::error::{Error, Result};
use alloc::string::String;
use alloc::vec::Vec;

fn bad(why: impl Into<alloc::borrow::Cow<'static, str>>) -> Error {
    Error::bad("--change", "", why)
}

/// Apply one instruction (`CMD ["sh"]`, `ENV A=1 B=2`...) to `c`.
pub fn apply(c: &mut Config, change: &str) -> Result<()> {
    let change = change.trim();
    let (word, rest) = change
        .split_once(|ch: char| ch.is_ascii_whitespace())
        .unwrap_or((change, ""));
    let rest = rest.trim();
    match word.to_ascii_uppercase().as_str() {
        "CMD" => c.cmd = command(rest)?,
        "ENTRYPOINT" => c.entrypoint = command(rest)?,
        "ENV" => {
            for (k, v) in pairs(rest, "ENV")? {
                let at = c.env.iter().position(|e| e.split('=').next() == Some(&k));
                let kv = alloc::format!("{k}={v}");
                match at {
                    Some(i) => c.env[i] = kv,
                    None => c.env.push(kv),
                }
            }
        }
        "LABEL" => {
            for (k, v) in pairs(rest, "LABEL")? {
                match c.labels.iter_mut().find(|(l, _)| *l == k) {
                    Some(l) => l.1 = v,
                    None => c.labels.push((k, v)),
                }
            }
        }
        "EXPOSE" => {
            for p in words(rest)? {
                let p = match p.contains('/') {
                    true => p.to_ascii_lowercase(),
                    false => alloc::format!("{p}/tcp"),
                };
                let (port, proto) = p.split_once('/').unwrap_or((&p, "tcp"));
                if port.parse::<u16>().is_err() || !matches!(proto, "tcp" | "udp" | "sctp") {
                    return Err(bad(alloc::format!("EXPOSE: invalid port {p}")));
                }
                if !c.exposed_ports.contains(&p) {
                    c.exposed_ports.push(p);
                }
            }
        }
        "VOLUME" => {
            let paths = match rest.starts_with('[') {
                true => array(rest)?,
                false => words(rest)?,
            };
            for p in paths {
                if !c.volumes.contains(&p) {
                    c.volumes.push(p);
                }
            }
        }
        "USER" => c.user = one(rest, "USER")?,
        "STOPSIGNAL" => c.stop_signal = one(rest, "STOPSIGNAL")?,
        "WORKDIR" => {
            let w = one(rest, "WORKDIR")?;
            // Relative: below the one before, as in a Dockerfile.
            c.working_dir = match w.starts_with('/') {
                true => w,
                false => {
                    let base = c.working_dir.trim_end_matches('/');
                    alloc::format!("{base}/{w}")
                }
            };
        }
        "" => return Err(bad("empty")),
        w => {
            return Err(bad(alloc::format!(
                "{} is not a valid change command",
                w.to_ascii_uppercase()
            )));
        }
    }
    Ok(())
}

/// CMD/ENTRYPOINT: the exec form (a JSON array of strings), or the shell
/// form run by `/bin/sh -c`.
fn command(rest: &str) -> Result<Vec<String>> {
    if rest.starts_with('[')
        && let Ok(v) = array(rest)
    {
        return Ok(v);
    }
    if rest.is_empty() {
        return Ok(Vec::new());
    }
    Ok(["/bin/sh", "-c", rest].map(String::from).to_vec())
}

fn array(rest: &str) -> Result<Vec<String>> {
    let v = crate::json::parse(rest.as_bytes()).map_err(|_| bad("not a JSON array of strings"))?;
    match v {
        crate::json::Value::Arr(items) => items
            .iter()
            .map(|i| {
                i.str()
                    .map(String::from)
                    .ok_or_else(|| bad("not a JSON array of strings"))
            })
            .collect(),
        _ => Err(bad("not a JSON array of strings")),
    }
}

fn one(rest: &str, what: &'static str) -> Result<String> {
    match rest.is_empty() {
        true => Err(bad(alloc::format!("{what} requires exactly one argument"))),
        false => Ok(String::from(rest)),
    }
}

/// Words as a shell splits them: blanks between, "..." and '...' quoting,
/// backslash escapes (outside single quotes).
fn words(s: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut quote, mut any) = (None, false);
    let mut it = s.chars();
    while let Some(ch) = it.next() {
        match (quote, ch) {
            (None, c) if c.is_ascii_whitespace() => {
                if any {
                    out.push(core::mem::take(&mut cur));
                    any = false;
                }
            }
            (None, '"' | '\'') => (quote, any) = (Some(ch), true),
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => cur.push(c),
            (_, '\\') => {
                let n = it.next().ok_or_else(|| bad("a trailing backslash"))?;
                cur.push(n);
                any = true;
            }
            (_, c) => {
                cur.push(c);
                any = true;
            }
        }
    }
    if quote.is_some() {
        return Err(bad("an unterminated quote"));
    }
    if any {
        out.push(cur);
    }
    Ok(out)
}

/// ENV and LABEL: `K=V K2="v 2"`, or the old `K value with blanks`.
fn pairs(rest: &str, what: &'static str) -> Result<Vec<(String, String)>> {
    let first = rest.split_ascii_whitespace().next().unwrap_or("");
    if !first.contains('=') {
        let (k, v) = rest
            .split_once(|c: char| c.is_ascii_whitespace())
            .ok_or_else(|| bad(alloc::format!("{what} needs a name and a value")))?;
        return Ok(alloc::vec![(String::from(k), String::from(v.trim()))]);
    }
    words(rest)?
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((String::from(k), String::from(v))),
            _ => Err(bad(alloc::format!("{what}: {w} is not NAME=VALUE"))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| String::from(*x)).collect()
    }

    #[test]
    fn instructions_as_dockerfiles_spell_them() {
        let mut c = Config {
            env: s(&["PATH=/bin", "A=old"]),
            working_dir: String::from("/srv"),
            ..Default::default()
        };
        apply(&mut c, r#"CMD ["echo", "hi there"]"#).unwrap();
        assert_eq!(c.cmd, s(&["echo", "hi there"]));
        apply(&mut c, "cmd echo $HOME").unwrap();
        assert_eq!(c.cmd, s(&["/bin/sh", "-c", "echo $HOME"]));
        apply(&mut c, r#"ENTRYPOINT ["/init"]"#).unwrap();
        assert_eq!(c.entrypoint, s(&["/init"]));
        apply(&mut c, r#"ENV A=new B="two words" C=x\ y"#).unwrap();
        assert_eq!(c.env, s(&["PATH=/bin", "A=new", "B=two words", "C=x y"]));
        apply(&mut c, "ENV D the rest of it").unwrap();
        assert_eq!(c.env.last().unwrap(), "D=the rest of it");
        apply(&mut c, r#"LABEL a=1 "b c"=2"#).unwrap();
        assert_eq!(
            c.labels,
            [
                (s(&["a"]).remove(0), s(&["1"]).remove(0)),
                ("b c".into(), "2".into())
            ]
        );
        apply(&mut c, "EXPOSE 80 53/UDP 80/tcp").unwrap();
        assert_eq!(c.exposed_ports, s(&["80/tcp", "53/udp"]));
        apply(&mut c, r#"VOLUME ["/data", "/logs"]"#).unwrap();
        apply(&mut c, "VOLUME /more").unwrap();
        assert_eq!(c.volumes, s(&["/data", "/logs", "/more"]));
        apply(&mut c, "USER 1000:1000").unwrap();
        assert_eq!(c.user, "1000:1000");
        apply(&mut c, "WORKDIR app").unwrap();
        assert_eq!(c.working_dir, "/srv/app");
        apply(&mut c, "WORKDIR /w").unwrap();
        assert_eq!(c.working_dir, "/w");
        apply(&mut c, "STOPSIGNAL SIGQUIT").unwrap();
        assert_eq!(c.stop_signal, "SIGQUIT");
    }

    /// Hostile changes: never a panic or a hang, a refusal is one line,
    /// and what is kept stays within what was given.
    #[test]
    fn hostile_changes() {
        let corpus: &[&[u8]] = &[
            br#"CMD ["echo", "hi"]"#,
            b"ENTRYPOINT /init --flag",
            br#"ENV A=1 B="two words" C=x\ y"#,
            b"LABEL a=1 'b c'=2",
            b"EXPOSE 80 53/udp",
            br#"VOLUME ["/data"]"#,
            b"WORKDIR app",
            b"USER 1000:1000",
        ];
        let dict: &[&[u8]] = &[b"CMD ", b"ENV ", b"[", b"\"", b"'", b"\\", b"=", b"/udp"];
        crate::rt::fuzz::run(
            "change",
            corpus,
            dict,
            std::time::Duration::from_secs(60),
            |b| {
                let mut c = Config::default();
                let text = String::from_utf8_lossy(b);
                // A refusal goes back to the driver, which wants one line.
                apply(&mut c, &text).map_err(|e| e.to_string())?;
                let kept = c.env.len() + c.labels.len() + c.exposed_ports.len() + c.volumes.len();
                assert!(
                    kept <= b.len(),
                    "{kept} items from {} bytes: {text:?}",
                    b.len()
                );
                Ok(())
            },
        );
    }

    #[test]
    fn refusals_name_what_is_wrong() {
        let mut c = Config::default();
        let e = |c: &mut Config, ch: &str| apply(c, ch).unwrap_err().to_string();
        assert_eq!(
            e(&mut c, "RUN rm -rf /"),
            "--change: RUN is not a valid change command"
        );
        assert_eq!(
            e(&mut c, "from scratch"),
            "--change: FROM is not a valid change command"
        );
        assert!(e(&mut c, "EXPOSE 99999").contains("invalid port"));
        assert!(e(&mut c, "EXPOSE 80/icmp").contains("invalid port"));
        assert!(e(&mut c, "ENV A=\"open").contains("unterminated"));
        assert!(e(&mut c, "ENV =x").contains("is not NAME=VALUE"));
        assert!(e(&mut c, "ENV lonely").contains("needs a name and a value"));
        assert!(e(&mut c, "USER").contains("exactly one"));
        assert!(e(&mut c, "").contains("empty"));
        assert_eq!(c, Config::default());
    }
}
