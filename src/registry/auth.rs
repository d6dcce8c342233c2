//! Registry authentication: the `WWW-Authenticate` challenge of a 401
//! (Basic, or Bearer with a token service), and the credentials docker
//! keeps in `~/.docker/config.json` (`auths.HOST.auth`: base64 of
//! `user:password`; docker.io under `https://index.docker.io/v1/`).

use crate::json::Value;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
}

/// `Bearer realm="https://auth/token",service="reg",scope="repository:a:pull"`
/// or `Basic realm="x"`. Unknown schemes: None.
pub fn parse_challenge(h: &str) -> Option<Challenge> {
    let h = h.trim();
    let (scheme, rest) = h.split_once(' ').unwrap_or((h, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        return Some(Challenge::Basic);
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let params = params(rest);
    let get = |k: &str| {
        params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.clone())
    };
    Some(Challenge::Bearer {
        realm: get("realm")?,
        service: get("service"),
        scope: get("scope"),
    })
}

/// `k="v", k2=v2` (quoted strings may hold commas and `\"`).
fn params(s: &str) -> Vec<(String, String)> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i] == b' ' || b[i] == b',') {
            i += 1;
        }
        let k0 = i;
        while i < b.len() && b[i] != b'=' && b[i] != b',' {
            i += 1;
        }
        let key = s[k0..i].trim();
        if i >= b.len() || b[i] != b'=' {
            continue;
        }
        i += 1;
        let mut val = String::new();
        if i < b.len() && b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' && i + 1 < b.len() {
                    i += 1;
                }
                val.push(b[i] as char);
                i += 1;
            }
            i += 1;
        } else {
            let v0 = i;
            while i < b.len() && b[i] != b',' {
                i += 1;
            }
            val.push_str(s[v0..i].trim());
        }
        if !key.is_empty() {
            out.push((String::from(key), val));
        }
    }
    out
}

/// The token of a token service's answer (`token`, or OAuth's
/// `access_token`).
pub fn token_of(v: &Value) -> Option<String> {
    v.get("token")
        .or_else(|| v.get("access_token"))
        .and_then(Value::str)
        .filter(|t| !t.is_empty())
        .map(String::from)
}

/// The key docker files a registry's credentials under.
pub fn config_key(domain: &str) -> String {
    if domain == crate::image::reference::DOCKER_IO {
        String::from("https://index.docker.io/v1/")
    } else {
        String::from(domain)
    }
}

/// The registry a config.json key names: `https://reg:5000/v2/` is
/// `reg:5000` (docker files the same registry under several spellings).
pub fn config_host(key: &str) -> &str {
    let k = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    k.split('/').next().unwrap_or(k)
}

/// docker's config directory: `$DOCKER_CONFIG`, else `$HOME/.docker`.
pub fn config_dir(args: &crate::rt::args::Args) -> Option<String> {
    let env = |k: &[u8]| {
        args.getenv(k)
            .filter(|v| !v.is_empty())
            .map(|v| String::from_utf8_lossy(v).into_owned())
    };
    env(b"DOCKER_CONFIG")
        .or_else(|| env(b"HOME").map(|h| format!("{}/.docker", h.trim_end_matches('/'))))
}

/// `user:password` of `domain` from a docker config.json document.
pub fn find_auth(config: &Value, domain: &str) -> Option<String> {
    let auths = config.get("auths")?;
    let Value::Obj(members) = auths else {
        return None;
    };
    let key = config_key(domain);
    let e = members
        .iter()
        .find(|(k, _)| *k == key)
        .or_else(|| {
            members
                .iter()
                .find(|(k, _)| config_host(k) == config_host(&key))
        })
        .map(|(_, v)| v)?;
    let raw = decode64(e.get("auth")?.str()?)?;
    let s = String::from_utf8(raw).ok()?;
    s.contains(':').then_some(s)
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn encode64(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len().div_ceil(3) * 4);
    for c in b.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub fn decode64(s: &str) -> Option<Vec<u8>> {
    let s = s.trim().trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes() {
        let v = B64.iter().position(|&x| x == c)? as u32;
        acc = acc << 6 | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// `Basic <base64(user:password)>`
pub fn basic(user_pass: &str) -> String {
    format!("Basic {}", encode64(user_pass.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mutated `WWW-Authenticate` values and docker config.json documents:
    /// a challenge's parameters come from the header (ASCII in, nothing
    /// invented), base64 round-trips, credentials hold their colon.
    #[test]
    fn hostile_auth() {
        let corpus: &[&[u8]] = &[
            br#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull""#,
            br#"Bearer realm=http://127.0.0.1:1/t, scope="a:b,c:pull", error="insufficient_scope""#,
            br#"bearer Realm="x\"y\\z",SERVICE=s"#,
            br#"Basic realm="Registry Realm""#,
            br#"{"auths":{"https://index.docker.io/v1/":{"auth":"dTpw"},"h:1":{"auth":"YTpi=="}}}"#,
        ];
        let dict: &[&[u8]] = &[
            b"realm=",
            b"\"",
            b"\\\"",
            b",",
            b"=",
            b"Bearer ",
            b"\"auth\":\"",
        ];
        crate::rt::fuzz::run(
            "auth",
            corpus,
            dict,
            std::time::Duration::from_secs(60),
            |b| {
                let h = String::from_utf8_lossy(b);
                if let Some(Challenge::Bearer {
                    realm,
                    service,
                    scope,
                }) = parse_challenge(&h)
                    && h.is_ascii()
                {
                    for v in [Some(realm), service, scope].into_iter().flatten() {
                        assert!(v.chars().all(|c| h.contains(c)), "{v:?} not from {h:?}");
                    }
                }
                if let Some(d) = decode64(&h) {
                    assert_eq!(decode64(&encode64(&d)).as_deref(), Some(&d[..]));
                }
                if let Ok(v) = crate::json::parse(b) {
                    for domain in ["docker.io", "h:1", ""] {
                        if let Some(up) = find_auth(&v, domain) {
                            assert!(up.contains(':'));
                        }
                    }
                    let _ = token_of(&v);
                }
                let _ = config_host(&h);
                Ok(())
            },
        );
    }

    #[test]
    fn challenges() {
        assert_eq!(
            parse_challenge(
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull""#
            ),
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/busybox:pull".into()),
            })
        );
        assert_eq!(
            parse_challenge(r#"Bearer realm=http://127.0.0.1:1/t, scope="a:b,c:pull""#),
            Some(Challenge::Bearer {
                realm: "http://127.0.0.1:1/t".into(),
                service: None,
                scope: Some("a:b,c:pull".into()),
            })
        );
        assert_eq!(
            parse_challenge(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(parse_challenge("Digest x"), None);
        assert_eq!(parse_challenge("Bearer service=x"), None);
    }

    #[test]
    fn base64_and_docker_config() {
        for (p, e) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("user:pa:ss", "dXNlcjpwYTpzcw=="),
        ] {
            assert_eq!(encode64(p.as_bytes()), e);
            assert_eq!(decode64(e).unwrap(), p.as_bytes());
        }
        assert!(decode64("a*b").is_none());
        let c = crate::json::parse(
            br#"{"auths":{"https://index.docker.io/v1/":{"auth":"dTpw"},"127.0.0.1:5000":{"auth":"YTpi"},"http://h:1/v2/":{"auth":"Yzpk"}}}"#,
        )
        .unwrap();
        assert_eq!(find_auth(&c, "docker.io").as_deref(), Some("u:p"));
        assert_eq!(find_auth(&c, "127.0.0.1:5000").as_deref(), Some("a:b"));
        assert_eq!(find_auth(&c, "h:1").as_deref(), Some("c:d"));
        assert_eq!(find_auth(&c, "other"), None);
        assert_eq!(basic("a:b"), "Basic YTpi");
    }
}
