//! Image references, by docker's grammar (distribution/reference) and
//! normalisation: `busybox` is `docker.io/library/busybox:latest`,
//! `host:5000/a/b:tag`, `name@sha256:...`, `name:tag@sha256:...`.
//!
//! ```text
//! reference  := name [ ":" tag ] [ "@" digest ]
//! name       := [domain "/"] path            (at most 255 characters)
//! domain     := host [":" port]               host: dns labels, IPv4, [IPv6]
//! path       := component ("/" component)*
//! component  := [a-z0-9]+ ( ("." | "_" | "__" | "-"+) [a-z0-9]+ )*
//! tag        := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
//! digest     := algorithm ":" hex             sha256: 64, sha512: 128 hex
//! ```
//!
//! The first `/`-separated part is a registry only if it has a `.` or a
//! `:`, or is `localhost`, or has an upper-case letter (docker's rule);
//! otherwise the name is on docker.io, and a one-part name there is in
//! `library/`. The familiar form (what `images` shows) drops `docker.io/`
//! and `docker.io/library/` again.

use crate::error::{Error, Result};
use alloc::format;
use alloc::string::String;

pub const DOCKER_IO: &str = "docker.io";
const MAX_NAME: usize = 255;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// `docker.io`, `localhost:5000`, `[::1]:5000`, `ghcr.io`...
    pub domain: String,
    /// `library/busybox`, `org/app`, ...
    pub path: String,
    pub tag: Option<String>,
    /// `sha256:<hex>`
    pub digest: Option<String>,
}

fn invalid() -> Error {
    Error::text(String::from("invalid reference format"))
}

impl Reference {
    /// Parse and normalise `s` as docker does; a reference with neither
    /// tag nor digest gets `latest`.
    pub fn parse(s: &str) -> Result<Reference> {
        let mut r = Reference::parse_name_only(s)?;
        if r.tag.is_none() && r.digest.is_none() {
            r.tag = Some(String::from("latest"));
        }
        Ok(r)
    }

    /// As `parse`, without the default tag.
    pub fn parse_name_only(s: &str) -> Result<Reference> {
        if s.len() == 64 && s.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(Error::text(format!(
                "invalid repository name ({s}), cannot specify 64-byte hexadecimal strings"
            )));
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (r, Some(d)),
            None => (s, None),
        };
        if let Some(d) = digest
            && !valid_digest(d)
        {
            return Err(invalid());
        }
        // A tag follows the last ':' that comes after the last '/' (a
        // ':' before it is a port).
        let slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[slash..].rfind(':') {
            Some(i) => (&rest[..slash + i], Some(&rest[slash + i + 1..])),
            None => (rest, None),
        };
        if let Some(t) = tag
            && !valid_tag(t)
        {
            return Err(invalid());
        }
        let (domain, path) = split_domain(name);
        if path.bytes().any(|c| c.is_ascii_uppercase()) {
            return Err(Error::text(format!(
                "invalid reference format: repository name ({path}) must be lowercase"
            )));
        }
        if !valid_domain(domain) || !valid_path(&path) {
            return Err(invalid());
        }
        if domain.len() + 1 + path.len() > MAX_NAME {
            return Err(Error::text(format!(
                "invalid reference format: repository name must not be more than {MAX_NAME} characters"
            )));
        }
        Ok(Reference {
            domain: String::from(domain),
            path,
            tag: tag.map(String::from),
            digest: digest.map(String::from),
        })
    }

    /// `docker.io/library/busybox`
    pub fn name(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    /// `busybox`, `user/app`, `ghcr.io/org/app`: docker's short form.
    pub fn familiar_name(&self) -> String {
        if self.domain != DOCKER_IO {
            return self.name();
        }
        // A first part that would read as a registry (`foo.com/bar`,
        // `localhost/x`) keeps docker.io in front, or the short form would
        // name another registry (docker's own short form is ambiguous
        // there; pocket's store keeps tags in this form).
        if self
            .path
            .split_once('/')
            .is_some_and(|(first, _)| is_domain(first))
        {
            return self.name();
        }
        match self.path.strip_prefix("library/") {
            Some(p) if !p.contains('/') => String::from(p),
            _ => self.path.clone(),
        }
    }

    /// `busybox:latest`, `busybox@sha256:...`, `a/b:1@sha256:...`
    pub fn familiar(&self) -> String {
        let mut s = self.familiar_name();
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d);
        }
        s
    }

    /// What a registry is asked for: the digest if there is one, else the tag.
    pub fn object(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }
}

/// Whether the first part of a name is a registry, as docker decides.
fn is_domain(d: &str) -> bool {
    d.contains(['.', ':']) || d == "localhost" || d.bytes().any(|c| c.is_ascii_uppercase())
}

/// docker's splitDockerDomain.
fn split_domain(name: &str) -> (&str, String) {
    let (domain, rest) = match name.split_once('/') {
        Some((d, r)) if is_domain(d) => (d, r),
        _ => (DOCKER_IO, name),
    };
    let domain = if domain == "index.docker.io" {
        DOCKER_IO
    } else {
        domain
    };
    let path = if domain == DOCKER_IO && !rest.contains('/') {
        format!("library/{rest}")
    } else {
        String::from(rest)
    };
    (domain, path)
}

fn valid_digest(d: &str) -> bool {
    // go-digest: lower-case hex of the algorithm's length.
    let hex = |h: &str, n: usize| {
        h.len() == n && h.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
    };
    match d.split_once(':') {
        Some(("sha256", h)) => hex(h, 64),
        Some(("sha384", h)) => hex(h, 96),
        Some(("sha512", h)) => hex(h, 128),
        _ => false,
    }
}

fn valid_tag(t: &str) -> bool {
    let w = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && w(b[0])
        && b[1..].iter().all(|&c| w(c) || c == b'.' || c == b'-')
}

/// host[:port]: dns labels (alphanumeric, inner '-'), an IPv4 address
/// (labels of digits pass as dns labels), or a bracketed IPv6 address.
fn valid_domain(d: &str) -> bool {
    let (host, port) = if let Some(r) = d.strip_prefix('[') {
        let Some((v6, after)) = r.split_once(']') else {
            return false;
        };
        if v6.is_empty() || !v6.bytes().all(|c| c.is_ascii_hexdigit() || c == b':') {
            return false;
        }
        match after {
            "" => return true,
            a => match a.strip_prefix(':') {
                Some(p) => ("x", Some(p)),
                None => return false,
            },
        }
    } else {
        match d.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (d, None),
        }
    };
    let label = |l: &str| {
        let b = l.as_bytes();
        !b.is_empty()
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-')
    };
    host.split('.').all(label)
        && port.is_none_or(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()))
}

fn valid_path(p: &str) -> bool {
    !p.is_empty() && p.split('/').all(valid_component)
}

/// [a-z0-9]+ joined by '.', '_', '__' or any run of '-'.
fn valid_component(c: &str) -> bool {
    let b = c.as_bytes();
    let an = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !an(b[0]) || !an(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if an(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !an(b[i]) {
            i += 1;
        }
        let sep = &b[start..i];
        let ok = sep == b"." || sep == b"_" || sep == b"__" || sep.iter().all(|&x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn full(s: &str) -> String {
        let r = Reference::parse(s).unwrap();
        let mut o = r.name();
        if let Some(t) = &r.tag {
            o = format!("{o}:{t}");
        }
        if let Some(d) = &r.digest {
            o = format!("{o}@{d}");
        }
        o
    }

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn normalised_as_docker() {
        assert_eq!(full("busybox"), "docker.io/library/busybox:latest");
        assert_eq!(full("busybox:1.36"), "docker.io/library/busybox:1.36");
        assert_eq!(full("library/busybox"), "docker.io/library/busybox:latest");
        assert_eq!(full("bitnami/redis:7"), "docker.io/bitnami/redis:7");
        assert_eq!(full("index.docker.io/x"), "docker.io/library/x:latest");
        assert_eq!(
            full("localhost/peer/busybox:latest"),
            "localhost/peer/busybox:latest"
        );
        assert_eq!(full("localhost:5000/a"), "localhost:5000/a:latest");
        assert_eq!(full("127.0.0.1:5000/a/b/c:v1"), "127.0.0.1:5000/a/b/c:v1");
        assert_eq!(full("[::1]:5000/a"), "[::1]:5000/a:latest");
        assert_eq!(full("ghcr.io/org/app"), "ghcr.io/org/app:latest");
        assert_eq!(
            full(&format!("busybox@{D}")),
            format!("docker.io/library/busybox@{D}")
        );
        assert_eq!(full(&format!("a/b:t@{D}")), format!("docker.io/a/b:t@{D}"));
        // A domain is recognised by '.', ':', localhost or an upper case letter.
        assert_eq!(full("Registry/a"), "Registry/a:latest");
        assert_eq!(full("a/b.c_d__e-f--g"), "docker.io/a/b.c_d__e-f--g:latest");
    }

    #[test]
    fn familiar_forms() {
        let f = |s: &str| Reference::parse(s).unwrap().familiar();
        assert_eq!(f("docker.io/library/busybox"), "busybox:latest");
        assert_eq!(f("docker.io/u/x:1"), "u/x:1");
        assert_eq!(f("docker.io/library/a/b"), "library/a/b:latest");
        assert_eq!(f("localhost/peer/busybox"), "localhost/peer/busybox:latest");
        assert_eq!(f(&format!("busybox@{D}")), format!("busybox@{D}"));
        let r = Reference::parse(&format!("b:t@{D}")).unwrap();
        assert_eq!(r.object(), D);
        assert_eq!(Reference::parse("b:t").unwrap().object(), "t");
    }

    #[test]
    fn refused_with_dockers_words() {
        let e = |s: &str| Reference::parse(s).unwrap_err().to_string();
        for bad in [
            "",
            ":",
            "a:",
            "/a",
            "a/",
            "a//b",
            "-a",
            "a-",
            "a..b",
            "a___b",
            "a:t:t",
            "a:-t",
            "a@sha256:12",
            "a@md5:0123456789abcdef0123456789abcdef",
            "host:port/a",
            "a b",
            "a/.b",
            "[::1/a",
            "[..]/a",
            "a@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
            "a:x@",
            "./dir",
            "../dir",
            "a/b/../c",
        ] {
            assert_eq!(e(bad), "invalid reference format", "{bad:?}");
        }
        assert_eq!(
            e("Busybox"),
            "invalid reference format: repository name (library/Busybox) must be lowercase"
        );
        assert_eq!(
            e("ghcr.io/Org/app"),
            "invalid reference format: repository name (Org/app) must be lowercase"
        );
        assert_eq!(
            e(&"a".repeat(64).replace('a', "f")),
            format!(
                "invalid repository name ({}), cannot specify 64-byte hexadecimal strings",
                "f".repeat(64)
            )
        );
        assert!(e(&format!("x/{}", "a".repeat(250))).contains("not be more than 255"));
        assert!(Reference::parse(&format!("a:{}", "t".repeat(128))).is_ok());
        assert!(Reference::parse(&format!("a:{}", "t".repeat(129))).is_err());
    }

    /// Mutated references through `parse`; `check` looks at what parses.
    fn hostile(name: &str, check: impl Fn(&str, &Reference)) {
        let corpus: &[&[u8]] = &[
            b"docker.io/library/busybox:1.36@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            b"busybox",
            b"localhost:5000/a/b-c__d.e:v1.2_3",
            b"[::1]:5000/x@sha512:00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
            b"index.docker.io/u/app:latest",
            b"Registry.Example.COM/org/app",
            b"127.0.0.1/a@sha384:000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
        ];
        let dict: &[&[u8]] = &[
            b"docker.io/",
            b"library/",
            b"localhost",
            b"@sha256:",
            b":5000",
            b"[",
            b"]",
            b".",
            b"_",
            b"__",
            b"0123456789abcdef",
        ];
        crate::rt::fuzz::run(
            name,
            corpus,
            dict,
            std::time::Duration::from_secs(60),
            |b| {
                let s = String::from_utf8_lossy(b);
                let only = Reference::parse_name_only(&s);
                let r = match Reference::parse(&s) {
                    Ok(r) => r,
                    Err(e) => {
                        assert!(only.is_err(), "{s:?}");
                        return Err(e.to_string());
                    }
                };
                let only = only.unwrap();
                assert_eq!(
                    (&only.domain, &only.path, &only.digest),
                    (&r.domain, &r.path, &r.digest)
                );
                assert!(r.tag.is_some() || r.digest.is_some());
                assert!(!r.object().is_empty());
                check(&s, &r);
                Ok(())
            },
        );
    }

    #[test]
    fn hostile_reference() {
        // What parses prints back in full and parses again the same.
        hostile("reference", |s, r| {
            assert_eq!(Reference::parse(&full(s)).unwrap(), *r, "{s:?}");
            assert!(Reference::parse(&r.name()).is_ok(), "{s:?}");
        });
    }

    /// The familiar form (the tag `store::normalize` keeps) of a docker.io
    /// name whose first path component looks like a registry names that
    /// registry instead: "docker.io/libraryeeee.io/libra0" is
    /// {docker.io, "libraryeeee.io/libra0"}, its familiar form
    /// "libraryeeee.io/libra0:latest" parses as {libraryeeee.io, "libra0"}
    /// (as "docker.io/localhost/x" becomes "localhost/x"). docker's
    /// familiar form has the same ambiguity but docker keeps full names.
    #[test]
    fn hostile_reference_familiar() {
        hostile("reference familiar", |s, r| {
            assert_eq!(Reference::parse(&r.familiar()).unwrap(), *r, "{s:?}");
        });
    }
}
