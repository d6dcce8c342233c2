//! Registries, by the OCI distribution API v2: one session per registry
//! (its endpoint, one connection, the credentials and the token it
//! handed out), manifests negotiated across OCI and docker schema 2,
//! blobs streamed and verified by the caller.

pub mod auth;
pub mod http;
pub mod manifest;
pub mod meter;
pub mod pull;
pub mod push;
#[cfg(feature = "tls")]
pub mod tls;
#[cfg(not(feature = "tls"))]
#[path = "tls_off.rs"]
pub mod tls;

use crate::error::{Error, Result};
use crate::image::reference::{DOCKER_IO, Reference};
use crate::json::{self, Value};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use auth::Challenge;
use http::{Client, Response, Url};

/// Where registries' settings come from, and which may be spoken to in
/// plain HTTP.
#[derive(Default, Clone)]
pub struct Options {
    /// `--insecure-registry HOST[:PORT]` and the config file's
    /// `insecure-registries`: plain HTTP allowed.
    pub insecure: Vec<String>,
    /// `~/.docker/config.json` (credentials), if present.
    pub docker_config: Option<Value>,
    /// `$SSL_CERT_FILE`: the CA bundle instead of the distribution's.
    pub bundle: Option<String>,
    /// docker's per-registry CA directories (`$POCKET_CERTS_D`, else
    /// /etc/docker/certs.d).
    pub certs_d: String,
    /// `registry-mirrors` (URLs) for docker.io, tried in order before it.
    pub mirrors: Vec<String>,
}

impl Options {
    /// From the environment: `$HOME/.docker/config.json` (or
    /// `$DOCKER_CONFIG/config.json`) and `/etc/pocket/config.json`.
    pub fn from_env(args: &crate::rt::args::Args, insecure: Vec<String>) -> Options {
        let env = |k: &[u8]| {
            args.getenv(k)
                .map(|v| String::from_utf8_lossy(v).into_owned())
        };
        let path = auth::config_dir(args).map(|d| format!("{d}/config.json"));
        let read = |p: &str| {
            crate::error::cpath(p)
                .ok()
                .and_then(|c| crate::sys::fs::read(&c).ok())
                .and_then(|b| json::parse(&b).ok())
        };
        // pocket's settings, with docker daemon.json's keys.
        let own = crate::config::load(args);
        let list = |k: &str| {
            own.as_ref()
                .and_then(|v| v.get(k))
                .and_then(Value::strings)
                .unwrap_or_default()
        };
        let mut insecure = insecure;
        insecure.extend(list("insecure-registries"));
        Options {
            insecure,
            docker_config: path.as_deref().and_then(read),
            bundle: env(b"SSL_CERT_FILE").filter(|b| !b.is_empty()),
            certs_d: env(b"POCKET_CERTS_D")
                .filter(|d| !d.is_empty())
                .unwrap_or_else(|| String::from(tls::CERTS_D)),
            mirrors: list("registry-mirrors"),
        }
    }

    /// Plain HTTP allowed for this registry (after HTTPS was tried, as
    /// docker does): listed as insecure, or on the loopback (docker's own
    /// default: 127.0.0.0/8 is insecure).
    pub fn plain_http(&self, domain: &str) -> bool {
        let host = match domain.strip_prefix('[') {
            Some(r) => r.split(']').next().unwrap_or(r),
            None => domain.rsplit_once(':').map_or(domain, |(h, p)| {
                if p.bytes().all(|c| c.is_ascii_digit()) {
                    h
                } else {
                    domain
                }
            }),
        };
        host == "localhost"
            || host == "::1"
            || host
                .parse::<core::net::Ipv4Addr>()
                .is_ok_and(|a| a.is_loopback())
            || self
                .insecure
                .iter()
                .any(|i| i == domain || i.as_str() == host)
    }
}

/// A registry and the state of talking to it.
pub struct Session {
    pub domain: String,
    endpoint: String,
    /// HTTPS first; plain HTTP once HTTPS found no TLS server there.
    allow_plain: bool,
    base: Url,
    client: Client,
    /// `user:password`, if docker's config has them.
    creds: Option<String>,
    /// The Authorization header that worked last.
    authorization: Option<String>,
    /// Pushing: tokens are asked for `pull,push`, refusals worded so.
    pub push: bool,
}

/// The error document of a registry (`{"errors":[{"code","message"}]}`)
/// as docker shows it: `code: message`, lower-cased as the API wrote it.
fn api_error(body: &[u8]) -> Option<String> {
    let v = json::parse(body).ok()?;
    let e = v.get("errors")?.arr()?.first()?;
    let code = e.get("code").and_then(Value::str).unwrap_or("");
    let msg = e.get("message").and_then(Value::str).unwrap_or("");
    Some(format!(
        "{}: {msg}",
        code.to_ascii_lowercase().replace('_', " ")
    ))
}

impl Session {
    pub fn new(domain: &str, opts: &Options) -> Result<Session> {
        let endpoint = if domain == DOCKER_IO {
            "registry-1.docker.io"
        } else {
            domain
        };
        let base = Url::parse(&format!("https://{endpoint}/v2/"))?;
        let mut client = Client::default();
        client.trust = Some(tls::Trust {
            bundle: opts.bundle.clone(),
            certs_d: opts.certs_d.clone(),
        });
        Ok(Session {
            domain: String::from(domain),
            endpoint: String::from(endpoint),
            allow_plain: opts.plain_http(domain),
            base,
            client,
            creds: opts
                .docker_config
                .as_ref()
                .and_then(|c| auth::find_auth(c, domain)),
            authorization: None,
            push: false,
        })
    }

    /// docker.io through a mirror (`registry-mirrors`: `http://h:p` or
    /// `https://h`): the same API at another endpoint. Plain HTTP only as
    /// the mirror's URL says, or as for any registry (insecure, loopback).
    pub fn mirror(url: &str, opts: &Options) -> Result<Session> {
        let u = Url::parse(url)?;
        let endpoint = u.authority();
        let mut s = Session::new(DOCKER_IO, opts)?;
        s.allow_plain = !u.https || opts.plain_http(&endpoint);
        s.base = u.join("/v2/")?;
        s.endpoint = endpoint;
        // Credentials are docker.io's: a mirror gets none.
        s.creds = None;
        Ok(s)
    }

    fn url(&self, path: &str) -> Result<Url> {
        self.base.join(path)
    }

    /// One request to the registry itself (uploads, HEAD, manifests):
    /// credentials sent, a challenge answered once, no redirects
    /// followed. The response may have any status; the caller reads it.
    pub fn send(
        &mut self,
        method: &str,
        url: Url,
        headers: &[(&str, &str)],
        body: &[u8],
        repo: &str,
    ) -> Result<Response> {
        let mut url = url;
        let mut tried_auth = false;
        loop {
            let mut h: Vec<(&str, &str)> = headers.to_vec();
            // (an upload's Location may name another host: no credentials)
            let ours = url.host == self.base.host
                && url.port == self.base.port
                && url.https == self.base.https;
            let authz = self.authorization.clone().filter(|_| ours);
            if let Some(a) = &authz {
                h.push(("Authorization", a));
            }
            let mut r = match self.client.request(method, &url, &h, body) {
                // Only the registry itself is asked again in plain HTTP.
                Err(_) if ours && self.downgrade() => {
                    url = self.base.join(&url.path)?;
                    continue;
                }
                r => r?,
            };
            if r.status != 401 || tried_auth || !ours {
                return Ok(r);
            }
            tried_auth = true;
            let challenge = r.header("www-authenticate").map(String::from);
            let _ = r.read_all(64 << 10);
            self.client.recycle(r);
            self.authenticate(challenge.as_deref(), repo)?;
        }
    }

    /// A response to `send` that is not 2xx, as an error naming `what`.
    pub fn refused(&mut self, mut r: Response, what: &str, repo: &str) -> Error {
        let body = r.read_all(64 << 10).unwrap_or_default();
        let status = r.status;
        self.client.recycle(r);
        self.failure(status, &body, what, repo)
    }

    /// GET `url` with `accept`, answering an auth challenge once and
    /// following redirects (blob storage lives elsewhere); the response
    /// is 2xx, or an error naming `what`.
    pub fn get(&mut self, url: Url, accept: &str, what: &str, repo: &str) -> Result<Response> {
        let mut url = url;
        let mut tried_auth = false;
        for _ in 0..8 {
            let same_host = url.host == self.base.host
                && url.port == self.base.port
                && url.https == self.base.https;
            let mut h: Vec<(&str, &str)> = Vec::new();
            if !accept.is_empty() {
                h.push(("Accept", accept));
            }
            // Credentials only ever go to the registry itself, never to
            // the storage it redirects to.
            let authz = if same_host {
                self.authorization.clone()
            } else {
                None
            };
            if let Some(a) = &authz {
                h.push(("Authorization", a));
            }
            let mut r = match self.client.request("GET", &url, &h, &[]) {
                Err(_) if same_host && self.downgrade() => {
                    url = self.base.join(&url.path)?;
                    continue;
                }
                r => r?,
            };
            if (200..300).contains(&r.status) {
                return Ok(r);
            }
            let status = r.status;
            let location = r.header("location").map(String::from);
            let challenge = r.header("www-authenticate").map(String::from);
            let body = r.read_all(64 << 10).unwrap_or_default();
            self.client.recycle(r);
            if status == 401 && !tried_auth && same_host {
                tried_auth = true;
                self.authenticate(challenge.as_deref(), repo)?;
                continue;
            }
            if matches!(status, 301 | 302 | 303 | 307 | 308) {
                let l = location.ok_or_else(|| {
                    Error::bad(
                        String::from(what),
                        url.to_text(),
                        "redirect without a Location",
                    )
                })?;
                url = url.join(&l)?;
                continue;
            }
            return Err(self.failure(status, &body, what, repo));
        }
        Err(Error::bad(
            String::from(what),
            url.to_text(),
            "too many redirects",
        ))
    }

    /// After an HTTPS attempt met no TLS server: plain HTTP, where allowed
    /// (once). True if the caller should try again.
    fn downgrade(&mut self) -> bool {
        if !(self.allow_plain && self.base.https && self.client.not_tls) {
            return false;
        }
        match Url::parse(&format!("http://{}/v2/", self.endpoint)) {
            Ok(u) => {
                self.base = u;
                true
            }
            Err(_) => false,
        }
    }

    /// Hand a read response's connection back for the next request.
    pub fn recycle(&mut self, r: Response) {
        self.client.recycle(r);
    }

    /// Answer a 401: Basic with docker's stored credentials, or a Bearer
    /// token from the realm (anonymous, or with those credentials).
    fn authenticate(&mut self, challenge: Option<&str>, repo: &str) -> Result<()> {
        let domain = self.domain.clone();
        let push = self.push;
        let denied = || match push {
            true => Error::text(String::from(
                "denied: requested access to the resource is denied",
            ))
            .with_code(1),
            false => denied(&domain, repo),
        };
        match challenge.and_then(auth::parse_challenge) {
            Some(Challenge::Basic) => {
                // (docker's words when a push has nothing to offer)
                if push && self.creds.is_none() {
                    return Err(Error::text(String::from("no basic auth credentials")).with_code(1));
                }
                let c = self.creds.as_deref().ok_or_else(denied)?;
                self.authorization = Some(auth::basic(c));
                Ok(())
            }
            Some(Challenge::Bearer {
                realm,
                service,
                scope,
            }) => {
                let access = if self.push { "pull,push" } else { "pull" };
                let scope = scope.unwrap_or_else(|| format!("repository:{repo}:{access}"));
                let basic = self.creds.as_deref().map(auth::basic);
                let token = self
                    .token(&realm, service.as_deref(), Some(&scope), basic.as_deref())?
                    .ok_or_else(denied)?;
                self.authorization = Some(format!("Bearer {token}"));
                Ok(())
            }
            None => Err(denied()),
        }
    }

    /// A token from a token service; None when it refuses (401/403).
    fn token(
        &mut self,
        realm: &str,
        service: Option<&str>,
        scope: Option<&str>,
        basic: Option<&str>,
    ) -> Result<Option<String>> {
        let mut q = Vec::new();
        if let Some(sv) = service {
            q.push(format!("service={}", urlencode(sv)));
        }
        // A challenge may ask for several scopes (a cross-repository
        // mount: this one to push, that one to pull), one parameter each.
        for sc in scope.into_iter().flat_map(|s| s.split(' ')) {
            if !sc.is_empty() {
                q.push(format!("scope={}", urlencode(sc)));
            }
        }
        let mut realm_url = Url::parse(realm)?;
        if !q.is_empty() {
            let sep = if realm_url.path.contains('?') {
                '&'
            } else {
                '?'
            };
            realm_url.path = format!("{}{sep}{}", realm_url.path, q.join("&"));
        }
        let mut h: Vec<(&str, &str)> = Vec::new();
        // Credentials only over TLS, unless the registry itself is plain.
        if let Some(b) = basic
            && (realm_url.https || !self.base.https)
        {
            h.push(("Authorization", b));
        }
        let mut r = self.client.request("GET", &realm_url, &h, &[])?;
        let status = r.status;
        let body = r.read_all(1 << 20)?;
        self.client.recycle(r);
        if status == 401 || status == 403 {
            return Ok(None);
        }
        if !(200..300).contains(&status) {
            return Err(Error::bad(
                "token",
                realm_url.to_text(),
                format!("token service answered {status}"),
            ));
        }
        json::parse(&body)
            .ok()
            .as_ref()
            .and_then(auth::token_of)
            .map(Some)
            .ok_or_else(|| Error::bad("token", String::from(realm), "no token in the answer"))
    }

    /// `login`: do these credentials open the registry? Its `/v2/` is
    /// asked, and a challenge answered with them (Basic, or a token
    /// fetched with them); refused credentials are docker's words.
    pub fn check_login(&mut self, user_pass: &str) -> Result<()> {
        let mut r = match self.client.request("GET", &self.base.clone(), &[], &[]) {
            Err(_) if self.downgrade() => {
                self.client.request("GET", &self.base.clone(), &[], &[])?
            }
            r => r?,
        };
        let url = self.base.clone();
        let status = r.status;
        let challenge = r.header("www-authenticate").map(String::from);
        let _ = r.read_all(64 << 10);
        self.client.recycle(r);
        if (200..300).contains(&status) {
            return Ok(());
        }
        let domain = self.domain.clone();
        let wrong = || {
            Error::text(format!(
                "login {domain}: unauthorized: incorrect username or password"
            ))
            .with_code(1)
        };
        if status != 401 {
            return Err(Error::text(format!(
                "login {}: the registry answered HTTP status {status}",
                self.domain
            ))
            .with_code(1));
        }
        let basic = auth::basic(user_pass);
        match challenge.as_deref().and_then(auth::parse_challenge) {
            Some(Challenge::Basic) => {
                let mut r = self
                    .client
                    .request("GET", &url, &[("Authorization", &basic)], &[])?;
                let ok = (200..300).contains(&r.status);
                let _ = r.read_all(64 << 10);
                self.client.recycle(r);
                if ok { Ok(()) } else { Err(wrong()) }
            }
            Some(Challenge::Bearer { realm, service, .. }) => {
                match self.token(&realm, service.as_deref(), None, Some(&basic))? {
                    Some(_) => Ok(()),
                    None => Err(wrong()),
                }
            }
            None => Err(wrong()),
        }
    }

    fn failure(&self, status: u16, body: &[u8], what: &str, repo: &str) -> Error {
        if (status == 401 || status == 403) && self.push {
            // docker's words, or the registry's own when it gave some.
            let why = api_error(body).unwrap_or_else(|| {
                String::from("denied: requested access to the resource is denied")
            });
            return Error::text(why).with_code(1);
        }
        if status == 401 || status == 403 {
            return denied(&self.domain, repo);
        }
        let why = api_error(body).unwrap_or_else(|| format!("HTTP status {status}"));
        Error::text(format!("{what}: {why}")).with_code(1)
    }
}

fn denied(domain: &str, repo: &str) -> Error {
    Error::text(format!(
        "pull access denied for {}, repository does not exist or may require 'pocket login'",
        familiar(domain, repo)
    ))
    .with_code(1)
}

/// `docker.io/library/x` shown as docker does: `x`.
fn familiar(domain: &str, repo: &str) -> String {
    Reference {
        domain: String::from(domain),
        path: String::from(repo),
        tag: None,
        digest: None,
    }
    .familiar_name()
}

/// Query-string encoding of a value (RFC 3986 unreserved kept).
fn urlencode(s: &str) -> String {
    let mut o = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_where_docker_allows_it() {
        let o = Options {
            insecure: alloc::vec![String::from("reg.lan:5000"), String::from("other")],
            ..Default::default()
        };
        for d in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "[::1]:5000",
            "reg.lan:5000",
            "other:1",
        ] {
            assert!(o.plain_http(d), "{d}");
        }
        for d in [
            "docker.io",
            "ghcr.io",
            "reg.lan:5001",
            "10.0.0.1:5000",
            "localhost.evil.com",
        ] {
            assert!(!o.plain_http(d), "{d}");
        }
        assert_eq!(
            urlencode("repository:a/b:pull"),
            "repository%3Aa%2Fb%3Apull"
        );
        assert_eq!(
            api_error(br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#)
                .as_deref(),
            Some("manifest unknown: manifest unknown")
        );
        assert_eq!(familiar("docker.io", "library/busybox"), "busybox");
        assert_eq!(familiar("127.0.0.1:5000", "a/b"), "127.0.0.1:5000/a/b");
    }
}
