//! `commit --change` and `import --change`: Dockerfile instructions
//! applied to an image's config, as docker's: CMD, ENTRYPOINT, ENV,
//! EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR. As docker, all the
//! `--change` values are one Dockerfile (each may hold several lines,
//! `#` comments and `\` continuations); `$VAR` and `${VAR}` expand from
//! the config's environment in all but CMD and ENTRYPOINT; an ENTRYPOINT
//! clears the image's CMD unless a CMD came before it. Any other word is
//! refused by name (docker's "run is not a valid change command");
//! HEALTHCHECK and ONBUILD are not supported.

use super::store::Config;
use crate::error::{Error, Result};
use alloc::string::String;
use alloc::vec::Vec;

fn bad(why: impl Into<alloc::borrow::Cow<'static, str>>) -> Error {
    Error::bad("--change", "", why)
}

/// Apply every `--change` value, in order, to `c`.
pub fn apply_all(c: &mut Config, changes: &[String]) -> Result<()> {
    let mut cmd_set = false;
    for text in changes {
        for line in lines(text) {
            apply(c, &line, &mut cmd_set)?;
        }
    }
    Ok(())
}

/// A value's instructions: lines, `\` at a line's end joining the next,
/// blank lines and `#` comments dropped.
fn lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for l in text.lines() {
        let t = l.trim();
        if cur.is_empty() && (t.is_empty() || t.starts_with('#')) {
            continue;
        }
        match t.strip_suffix('\\') {
            Some(head) => {
                cur.push_str(head);
                cur.push(' ');
            }
            None => {
                cur.push_str(t);
                out.push(core::mem::take(&mut cur));
            }
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out
}

/// One instruction. `cmd_set`: a CMD came before in this set.
fn apply(c: &mut Config, change: &str, cmd_set: &mut bool) -> Result<()> {
    let change = change.trim();
    let (word, rest) = change
        .split_once(|ch: char| ch.is_ascii_whitespace())
        .unwrap_or((change, ""));
    let rest = rest.trim();
    let env = c.env.clone();
    match word.to_ascii_uppercase().as_str() {
        "CMD" => {
            c.cmd = command(rest);
            *cmd_set = true;
        }
        "ENTRYPOINT" => {
            c.entrypoint = command(rest);
            if !*cmd_set {
                c.cmd.clear();
            }
        }
        "ENV" => {
            for (k, v) in pairs(rest, "ENV", &env)? {
                crate::spec::setenv(&mut c.env, alloc::format!("{k}={v}"));
            }
        }
        "LABEL" => {
            for (k, v) in pairs(rest, "LABEL", &env)? {
                match c.labels.iter_mut().find(|(l, _)| *l == k) {
                    Some(l) => l.1 = v,
                    None => c.labels.push((k, v)),
                }
            }
        }
        "EXPOSE" => {
            let ports = words(rest, &env)?;
            if ports.is_empty() {
                return Err(bad("EXPOSE requires at least one argument"));
            }
            for p in ports {
                for one in expose(&p)? {
                    if !c.exposed_ports.contains(&one) {
                        c.exposed_ports.push(one);
                    }
                }
            }
        }
        "VOLUME" => {
            let paths = match rest.starts_with('[') {
                true => array(rest).or_else(|_| words(rest, &env))?,
                false => words(rest, &env)?,
            };
            if paths.is_empty() || paths.iter().any(|p| p.is_empty()) {
                return Err(bad("VOLUME specified can not be an empty string"));
            }
            for p in paths {
                if !c.volumes.contains(&p) {
                    c.volumes.push(p);
                }
            }
        }
        "USER" => c.user = one(rest, "USER", &env)?,
        "STOPSIGNAL" => {
            let s = one(rest, "STOPSIGNAL", &env)?;
            if crate::sys::signal::by_name(&s).is_none() {
                return Err(bad(alloc::format!("STOPSIGNAL: invalid signal {s}")));
            }
            c.stop_signal = s;
        }
        "WORKDIR" => {
            let w = one(rest, "WORKDIR", &env)?;
            // Relative: below the one before, as in a Dockerfile.
            c.working_dir = match w.starts_with('/') {
                true => clean(&w),
                false => clean(&alloc::format!("{}/{w}", c.working_dir)),
            };
        }
        w => {
            let w = w.to_ascii_lowercase();
            return Err(bad(match w.as_str() {
                "healthcheck" | "onbuild" => alloc::format!("{w} is not supported by pocket"),
                _ => alloc::format!("{w} is not a valid change command"),
            }));
        }
    }
    Ok(())
}

/// CMD/ENTRYPOINT: the exec form (a JSON array of strings), or the shell
/// form run by `/bin/sh -c` (also what text that is not such an array
/// is, as docker's).
fn command(rest: &str) -> Vec<String> {
    if rest.starts_with('[')
        && let Ok(v) = array(rest)
    {
        return v;
    }
    if rest.is_empty() {
        return Vec::new();
    }
    ["/bin/sh", "-c", rest].map(String::from).to_vec()
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

/// USER, WORKDIR, STOPSIGNAL: the rest as one word (quotes removed,
/// blanks inside kept).
fn one(rest: &str, what: &'static str, env: &[String]) -> Result<String> {
    let w = words(rest, env)?.join(" ");
    match w.is_empty() {
        true => Err(bad(alloc::format!("{what} requires exactly one argument"))),
        false => Ok(w),
    }
}

/// `a/./b/../c` as `/a/c` (a join of WORKDIRs, as Go's path.Join).
fn clean(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for s in p.split('/') {
        match s {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    alloc::format!("/{}", parts.join("/"))
}

/// EXPOSE's `80`, `53/udp`, `8000-8010/tcp`: each port as "N/proto".
fn expose(p: &str) -> Result<Vec<String>> {
    let (lo, hi, proto) =
        port_range(p).ok_or_else(|| bad(alloc::format!("EXPOSE: invalid port {p}")))?;
    Ok((lo..=hi).map(|n| alloc::format!("{n}/{proto}")).collect())
}

/// `80`, `53/udp`, `8000-8010/tcp` (EXPOSE, `--expose`, ps's `expose=`
/// and `publish=`): the first and last port and the protocol (tcp when
/// none is given); None if it is not one.
pub fn port_range(p: &str) -> Option<(u16, u16, &'static str)> {
    let (ports, proto) = p.split_once('/').unwrap_or((p, ""));
    let proto = match proto.to_ascii_lowercase().as_str() {
        "" | "tcp" => "tcp",
        "udp" => "udp",
        "sctp" => "sctp",
        _ => return None,
    };
    let num = |s: &str| match s.bytes().all(|b| b.is_ascii_digit()) && !s.is_empty() {
        true => s.parse::<u16>().ok().filter(|n| *n > 0),
        false => None,
    };
    let (lo, hi) = match ports.split_once('-') {
        Some((a, b)) => (num(a)?, num(b)?),
        None => (num(ports)?, num(ports)?),
    };
    (lo <= hi).then_some((lo, hi, proto))
}

/// `$NAME` / `${NAME}` at `rest`'s start: (value, bytes used).
fn variable<'e>(rest: &str, env: &'e [String]) -> (Option<&'e str>, usize) {
    let (name, used) = match rest.strip_prefix('{') {
        Some(r) => match r.find('}') {
            Some(end) => (&r[..end], end + 2),
            None => return (None, 0),
        },
        None => {
            let n = rest
                .bytes()
                .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
                .count();
            (&rest[..n], n)
        }
    };
    if name.is_empty() {
        return (None, 0);
    }
    // Entries are Strings: what follows a `=` is UTF-8 too.
    let v = crate::spec::getenv(env, name.as_bytes()).and_then(|v| core::str::from_utf8(v).ok());
    (Some(v.unwrap_or("")), used)
}

/// Words as a shell splits them: blanks between, "..." and '...' quoting,
/// backslash escapes (outside single quotes; inside double quotes only
/// before `"`, `$` and `\`), `$VAR` expanded from `env` (outside single
/// quotes).
fn words(s: &str, env: &[String]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut quote, mut any) = (None, false);
    let mut i = 0;
    while let Some(ch) = s[i..].chars().next() {
        i += ch.len_utf8();
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
            (q, '\\') => {
                let n = s[i..]
                    .chars()
                    .next()
                    .ok_or_else(|| bad("a trailing backslash"))?;
                if q == Some('"') && !matches!(n, '"' | '$' | '\\') {
                    cur.push('\\');
                } else {
                    i += n.len_utf8();
                    cur.push(n);
                }
                any = true;
            }
            (_, '$') => {
                let (v, used) = variable(&s[i..], env);
                match v {
                    Some(v) => {
                        cur.push_str(v);
                        i += used;
                    }
                    None => cur.push('$'),
                }
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
fn pairs(rest: &str, what: &'static str, env: &[String]) -> Result<Vec<(String, String)>> {
    let all = words(rest, env)?;
    let Some(first) = all.first() else {
        return Err(bad(alloc::format!("{what} needs a name and a value")));
    };
    if !first.contains('=') {
        if all.len() < 2 {
            return Err(bad(alloc::format!("{what} needs a name and a value")));
        }
        return Ok(alloc::vec![(first.clone(), all[1..].join(" "))]);
    }
    all.into_iter()
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

    fn change(c: &mut Config, text: &str) -> Result<()> {
        apply_all(c, &[String::from(text)])
    }

    #[test]
    fn instructions_as_dockerfiles_spell_them() {
        let mut c = Config {
            env: s(&["PATH=/bin", "A=old"]),
            cmd: s(&["sh"]),
            working_dir: String::from("/srv"),
            ..Default::default()
        };
        change(&mut c, r#"ENTRYPOINT ["/init"]"#).unwrap();
        assert_eq!(
            (c.entrypoint.clone(), c.cmd.clone()),
            (s(&["/init"]), s(&[]))
        );
        apply_all(
            &mut c,
            &s(&[r#"CMD ["echo", "hi there"]"#, "ENTRYPOINT /e"]),
        )
        .unwrap();
        assert_eq!(c.cmd, s(&["echo", "hi there"]), "a CMD before keeps");
        assert_eq!(c.entrypoint, s(&["/bin/sh", "-c", "/e"]));
        change(&mut c, "cmd echo $HOME").unwrap();
        assert_eq!(c.cmd, s(&["/bin/sh", "-c", "echo $HOME"]));
        change(&mut c, "CMD [not json").unwrap();
        assert_eq!(c.cmd, s(&["/bin/sh", "-c", "[not json"]));
        change(
            &mut c,
            r#"ENV A=new B="two words" C=x\ y D="a\d" E=a=b F="""#,
        )
        .unwrap();
        assert_eq!(
            c.env,
            s(&[
                "PATH=/bin",
                "A=new",
                "B=two words",
                "C=x y",
                r"D=a\d",
                "E=a=b",
                "F="
            ])
        );
        change(&mut c, "ENV PATH=/opt/bin:$PATH G=${A}-$A 'H=$A'").unwrap();
        assert!(c.env.contains(&"PATH=/opt/bin:/bin".into()), "{:?}", c.env);
        assert!(c.env.contains(&"G=new-new".into()) && c.env.contains(&"H=$A".into()));
        change(&mut c, "ENV D the rest of it").unwrap();
        assert!(c.env.contains(&"D=the rest of it".into()), "{:?}", c.env);
        change(&mut c, r#"LABEL "my label"=1 b=2"#).unwrap();
        change(&mut c, "LABEL b 3").unwrap();
        assert_eq!(
            c.labels,
            [("my label".into(), "1".into()), ("b".into(), "3".into())]
        );
        change(&mut c, "EXPOSE 80 53/UDP 80/tcp 8000-8002").unwrap();
        assert_eq!(
            c.exposed_ports,
            s(&["80/tcp", "53/udp", "8000/tcp", "8001/tcp", "8002/tcp"])
        );
        change(&mut c, r#"VOLUME ["/data", "/logs"]"#).unwrap();
        change(&mut c, "VOLUME /more").unwrap();
        assert_eq!(c.volumes, s(&["/data", "/logs", "/more"]));
        change(&mut c, "USER 1000:1000").unwrap();
        assert_eq!(c.user, "1000:1000");
        change(&mut c, "WORKDIR app").unwrap();
        assert_eq!(c.working_dir, "/srv/app");
        change(&mut c, "WORKDIR ../x/./y").unwrap();
        assert_eq!(c.working_dir, "/srv/x/y");
        change(&mut c, r#"WORKDIR "/my dir""#).unwrap();
        assert_eq!(c.working_dir, "/my dir");
        change(&mut c, "STOPSIGNAL SIGQUIT").unwrap();
        assert_eq!(c.stop_signal, "SIGQUIT");
        // Several lines in one value, comments and continuations.
        let mut d = Config::default();
        change(
            &mut d,
            "# set up\nENV A=1\n\nEXPOSE 80 \\\n  81\nWORKDIR app",
        )
        .unwrap();
        assert_eq!(
            (d.env, d.exposed_ports),
            (s(&["A=1"]), s(&["80/tcp", "81/tcp"]))
        );
        assert_eq!(d.working_dir, "/app");
        let mut e = Config::default();
        change(&mut e, "").unwrap();
        assert_eq!(e, Config::default());
    }

    /// Hostile changes: never a panic or a hang, a refusal is one line,
    /// and what is kept stays within what was given.
    #[test]
    fn hostile_changes() {
        let corpus: &[&[u8]] = &[
            br#"CMD ["echo", "hi"]"#,
            b"ENTRYPOINT /init --flag",
            br#"ENV A=1 B="two words" C=x\ y D=$A${B}"#,
            b"LABEL a=1 'b c'=2",
            b"EXPOSE 80 53/udp 8000-8010",
            br#"VOLUME ["/data"]"#,
            b"WORKDIR app\nUSER 1000:1000",
        ];
        let dict: &[&[u8]] = &[
            b"CMD ", b"ENV ", b"[", b"\"", b"'", b"\\", b"=", b"/udp", b"$", b"${", b"\n", b"-",
        ];
        crate::rt::fuzz::run(
            "change",
            corpus,
            dict,
            std::time::Duration::from_secs(60),
            |b| {
                let mut c = Config::default();
                let text = String::from_utf8_lossy(b);
                // A refusal goes back to the driver, which wants one line.
                change(&mut c, &text).map_err(|e| e.to_string())?;
                let kept = c.env.len() + c.labels.len() + c.volumes.len();
                assert!(
                    kept <= b.len(),
                    "{kept} items from {} bytes: {text:?}",
                    b.len()
                );
                assert!(c.exposed_ports.len() <= 65535);
                Ok(())
            },
        );
    }

    #[test]
    fn refusals_name_what_is_wrong() {
        let mut c = Config::default();
        let e = |c: &mut Config, ch: &str| change(c, ch).unwrap_err().to_string();
        assert_eq!(
            e(&mut c, "RUN rm -rf /"),
            "--change: run is not a valid change command"
        );
        assert_eq!(
            e(&mut c, "from scratch"),
            "--change: from is not a valid change command"
        );
        assert!(e(&mut c, "HEALTHCHECK NONE").contains("not supported by pocket"));
        for p in ["99999", "80/icmp", "0", "+80", "90-80", "a-b"] {
            let got = e(&mut c, &alloc::format!("EXPOSE {p}"));
            assert!(got.contains("invalid port"), "{p}: {got}");
        }
        assert!(e(&mut c, "EXPOSE").contains("at least one"));
        assert!(e(&mut c, "VOLUME").contains("empty"));
        assert!(e(&mut c, r#"VOLUME [""]"#).contains("empty"));
        assert!(e(&mut c, "STOPSIGNAL FOO").contains("invalid signal"));
        assert!(e(&mut c, "ENV A=\"open").contains("unterminated"));
        assert!(e(&mut c, "ENV =x").contains("is not NAME=VALUE"));
        assert!(e(&mut c, "ENV lonely").contains("needs a name and a value"));
        assert!(e(&mut c, "USER").contains("exactly one"));
        assert_eq!(c, Config::default());
    }
}
