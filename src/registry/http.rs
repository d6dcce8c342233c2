//! A small HTTP/1.1 client, enough for the OCI distribution API: one
//! keep-alive connection reused while the host stays the same, requests
//! with a few headers and an optional body, responses read as a stream
//! (Content-Length, chunked, or until close) so a layer flows from the
//! socket through the digest and the decompressor into the store without
//! touching the disk first.
//!
//! `https://` goes through rustls (`tls.rs`) with the trust settings the
//! client was made with.

use crate::error::{Error, Result};
use crate::image::tar::Source;
use crate::sys::fd::{self, Fd};
use crate::sys::{Errno, tcp};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

const BUF: usize = 64 * 1024;
/// Status line and headers together may not be longer than this.
const MAX_HEAD: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    pub https: bool,
    /// A name, IPv4 address, or IPv6 address without brackets.
    pub host: String,
    pub port: u16,
    /// Path and query, starting with '/'.
    pub path: String,
}

impl Url {
    pub fn parse(s: &str) -> Result<Url> {
        let bad = |why: &'static str| Error::bad("URL", String::from(s), why);
        let (https, rest) = if let Some(r) = s.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = s.strip_prefix("http://") {
            (false, r)
        } else {
            return Err(bad("not http:// or https://"));
        };
        let (auth, path) = match rest.find(['/', '?']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        // user:pass@ is never used by registries; refused rather than sent.
        if auth.contains('@') || auth.is_empty() {
            return Err(bad("no host"));
        }
        let (host, port) = if let Some(r) = auth.strip_prefix('[') {
            let (h, after) = r.split_once(']').ok_or_else(|| bad("unclosed '['"))?;
            (h, after.strip_prefix(':'))
        } else {
            match auth.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (auth, None),
            }
        };
        let port = match port {
            Some(p) => p.parse::<u16>().map_err(|_| bad("bad port"))?,
            None if https => 443,
            None => 80,
        };
        if host.is_empty() || host.bytes().any(|c| c <= b' ' || c == 0x7f) {
            return Err(bad("bad host"));
        }
        let path = if path.starts_with('?') {
            format!("/{path}")
        } else {
            String::from(path)
        };
        if path.bytes().any(|c| c <= b' ' || c == 0x7f) {
            return Err(bad("bad path"));
        }
        Ok(Url {
            https,
            host: String::from(host),
            port,
            path,
        })
    }

    /// `host[:port]` as the Host header wants it (the default port left out).
    pub fn authority(&self) -> String {
        let h = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == if self.https { 443 } else { 80 } {
            h
        } else {
            format!("{h}:{}", self.port)
        }
    }

    pub fn to_text(&self) -> String {
        let s = if self.https { "https" } else { "http" };
        format!("{s}://{}{}", self.authority(), self.path)
    }

    /// A Location header against this URL: absolute, or a path on the
    /// same host.
    pub fn join(&self, loc: &str) -> Result<Url> {
        if loc.starts_with("http://") || loc.starts_with("https://") {
            return Url::parse(loc);
        }
        if let Some(r) = loc.strip_prefix("//") {
            let s = if self.https { "https" } else { "http" };
            return Url::parse(&format!("{s}://{r}"));
        }
        let mut u = self.clone();
        u.path = if loc.starts_with('/') {
            String::from(loc)
        } else {
            let base = self.path.split('?').next().unwrap_or("/");
            let dir = &base[..base.rfind('/').map_or(0, |i| i + 1)];
            format!("{dir}{loc}")
        };
        if u.path.bytes().any(|c| c <= b' ' || c == 0x7f) {
            return Err(Error::bad("Location", String::from(loc), "bad path"));
        }
        Ok(u)
    }

    /// A connection serves only this scheme, host and port.
    fn key(&self) -> String {
        let s = if self.https { "https" } else { "http" };
        format!("{s}://{}:{}", self.host, self.port)
    }
}

enum Stream {
    Plain(Fd),
    Tls(alloc::boxed::Box<super::tls::Tls>),
}

impl Stream {
    fn read(&mut self, b: &mut [u8]) -> core::result::Result<usize, Errno> {
        match self {
            Stream::Plain(f) => fd::read(f.raw(), b),
            Stream::Tls(t) => t.read(b),
        }
    }
    fn write_all(&mut self, b: &[u8]) -> core::result::Result<(), Errno> {
        match self {
            Stream::Plain(f) => fd::write_all(f.raw(), b),
            Stream::Tls(t) => t.write_all(b),
        }
    }
}

struct Conn {
    stream: Stream,
    key: String,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
}

impl Conn {
    /// More bytes into the buffer; 0 at EOF.
    fn fill(&mut self) -> core::result::Result<usize, Errno> {
        if self.pos == self.end {
            self.pos = 0;
            self.end = 0;
        } else if self.end == self.buf.len() {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        loop {
            match self.stream.read(&mut self.buf[self.end..]) {
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => return Err(Errno::ETIMEDOUT),
                Ok(n) => {
                    self.end += n;
                    return Ok(n);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// One line without its CRLF (or LF).
    fn line(&mut self, budget: &mut usize) -> core::result::Result<Vec<u8>, Errno> {
        loop {
            if let Some(i) = self.buf[self.pos..self.end]
                .iter()
                .position(|&c| c == b'\n')
            {
                let mut l = self.buf[self.pos..self.pos + i].to_vec();
                self.pos += i + 1;
                if l.last() == Some(&b'\r') {
                    l.pop();
                }
                *budget = budget.checked_sub(l.len() + 2).ok_or(Errno::E2BIG)?;
                return Ok(l);
            }
            if self.end - self.pos >= *budget {
                return Err(Errno::E2BIG);
            }
            if self.fill()? == 0 {
                return Err(Errno::EPIPE);
            }
        }
    }
}

/// A client holding at most one connection.
#[derive(Default)]
pub struct Client {
    conn: Option<Conn>,
    /// What https connections trust (None: the host's bundle only).
    pub trust: Option<super::tls::Trust>,
    configs: Vec<(String, alloc::sync::Arc<super::tls::Config>)>,
    /// The last https connection failed because the server does not speak
    /// TLS (not because of its certificate).
    pub not_tls: bool,
}

enum Body {
    Len(u64),
    Chunked { left: u64, last: bool },
    ToClose,
}

/// A response; it owns the connection while its body is read. Handed
/// back with `Client::recycle` once read, the connection serves the next
/// request; dropped, it is closed.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub url: Url,
    body: Body,
    keep: bool,
    done: bool,
    conn: Option<Conn>,
}

/// A network failure: exit status 1, as docker's for a failed pull.
fn io<'a>(url: &'a Url, what: &'static str) -> impl Fn(Errno) -> Error + 'a {
    move |e| Error::sys(what, url.to_text(), e).with_code(1)
}

impl Client {
    /// Send one request and read the response head. `headers` are extra
    /// (Accept, Authorization, ...); a body goes with its Content-Length.
    pub fn request(
        &mut self,
        method: &str,
        url: &Url,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Response> {
        let mut req = format!(
            "{method} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: pocket/{}\r\n",
            url.path,
            url.authority(),
            crate::VERSION
        );
        for (k, v) in headers {
            if v.bytes().any(|c| c == b'\r' || c == b'\n') {
                return Err(Error::bad("header", String::from(*k), "holds a line break"));
            }
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
            req.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        // A reused connection may have been closed by the server meanwhile:
        // one retry on a fresh one.
        let reused = self.conn.as_ref().is_some_and(|c| c.key == url.key());
        if !reused {
            self.conn = None;
        }
        for attempt in 0..2 {
            if self.conn.is_none() {
                let stream = self.connect(url)?;
                self.conn = Some(Conn {
                    stream,
                    key: url.key(),
                    buf: alloc::vec![0u8; BUF],
                    pos: 0,
                    end: 0,
                });
            }
            let c = self.conn.as_mut().unwrap();
            let sent = c
                .stream
                .write_all(req.as_bytes())
                .and_then(|_| c.stream.write_all(body));
            let head = match sent {
                Ok(()) => read_head(c),
                Err(e) => Err(e),
            };
            match head {
                Ok((status, headers)) => return self.response(method, url, status, headers),
                Err(Errno::EPIPE | Errno::ECONNRESET) if reused && attempt == 0 => {
                    self.conn = None;
                }
                Err(e) => {
                    self.conn = None;
                    return Err(io(url, "HTTP request")(e));
                }
            }
        }
        Err(io(url, "HTTP request")(Errno::EPIPE))
    }

    /// A TCP connection to the URL's host, with TLS for https.
    fn connect(&mut self, url: &Url) -> Result<Stream> {
        self.not_tls = false;
        // Built without TLS: no https at all (an insecure registry is
        // then tried over http, as after any TLS failure).
        if url.https && !super::tls::AVAILABLE {
            self.not_tls = true;
            return Err(super::tls::unavailable(&url.authority()));
        }
        let f = match tcp::connect(&url.host, url.port) {
            // (tcp::resolve's answer for a name that does not resolve)
            Err(Errno::ENOENT) => {
                return Err(
                    Error::text(alloc::format!("lookup {}: no such host", url.host)).with_code(1),
                );
            }
            r => r.map_err(io(url, "connect"))?,
        };
        if !url.https {
            return Ok(Stream::Plain(f));
        }
        let auth = url.authority();
        let cfg = match self.configs.iter().find(|(a, _)| *a == auth) {
            Some((_, c)) => c.clone(),
            None => {
                let t = self.trust.take().unwrap_or(super::tls::Trust {
                    bundle: None,
                    certs_d: String::from(super::tls::CERTS_D),
                });
                let c = super::tls::config(&auth, &t);
                self.trust = Some(t);
                let c = c?;
                self.configs.push((auth.clone(), c.clone()));
                c
            }
        };
        match super::tls::Tls::connect(f, &url.host, cfg) {
            Ok(t) => Ok(Stream::Tls(alloc::boxed::Box::new(t))),
            Err((e, why)) => {
                let why = why.unwrap_or_else(|| alloc::string::ToString::to_string(&e));
                // A certificate that does not verify is the answer; a
                // server that does not speak TLS at all may speak HTTP.
                self.not_tls = !why.starts_with("x509: ");
                Err(Error::bad("TLS", url.to_text(), why).with_code(1))
            }
        }
    }

    /// Take the connection back from a response whose body was read.
    pub fn recycle(&mut self, mut r: Response) {
        if r.done && r.keep {
            self.conn = r.conn.take();
        }
    }

    fn response(
        &mut self,
        method: &str,
        url: &Url,
        status: u16,
        headers: Vec<(String, String)>,
    ) -> Result<Response> {
        let h = |n: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.as_str())
        };
        let keep = !h("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let body = if method == "HEAD" || status == 204 || status == 304 || status < 200 {
            Body::Len(0)
        } else if h("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
        {
            Body::Chunked {
                left: 0,
                last: false,
            }
        } else if let Some(l) = h("content-length") {
            Body::Len(
                l.trim().parse().map_err(|_| {
                    Error::bad("HTTP response", url.to_text(), "bad Content-Length")
                })?,
            )
        } else {
            Body::ToClose
        };
        let done = matches!(body, Body::Len(0));
        let mut r = Response {
            status,
            headers,
            url: url.clone(),
            body,
            keep,
            done: false,
            conn: self.conn.take(),
        };
        if done {
            r.finish();
        }
        Ok(r)
    }
}

/// Status line and headers of the final response: interim ones (1xx but
/// 101) are read past.
fn read_head(c: &mut Conn) -> core::result::Result<(u16, Vec<(String, String)>), Errno> {
    loop {
        let (status, headers) = read_one_head(c)?;
        if !(100..200).contains(&status) || status == 101 {
            return Ok((status, headers));
        }
    }
}

fn read_one_head(c: &mut Conn) -> core::result::Result<(u16, Vec<(String, String)>), Errno> {
    let mut budget = MAX_HEAD;
    let status_line = c.line(&mut budget)?;
    let s = core::str::from_utf8(&status_line).map_err(|_| Errno::EPROTO)?;
    let mut parts = s.splitn(3, ' ');
    let (v, code) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if !v.starts_with("HTTP/1.") || code.len() != 3 {
        return Err(Errno::EPROTO);
    }
    let status: u16 = code.parse().map_err(|_| Errno::EPROTO)?;
    let mut headers = Vec::new();
    loop {
        let l = c.line(&mut budget)?;
        if l.is_empty() {
            break;
        }
        let l = String::from_utf8_lossy(&l).into_owned();
        if let Some((k, v)) = l.split_once(':') {
            headers.push((String::from(k.trim()), String::from(v.trim())));
        }
    }
    Ok((status, headers))
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The whole body, refused beyond `max` bytes (manifests, configs,
    /// tokens and error documents are small).
    pub fn read_all(&mut self, max: usize) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut b = [0u8; 8192];
        loop {
            let n = self
                .read(&mut b)
                .map_err(|e| Error::sys("read", self.url.to_text(), e))?;
            if n == 0 {
                return Ok(out);
            }
            if out.len() + n > max {
                return Err(Error::bad(
                    "read",
                    self.url.to_text(),
                    format!("response larger than {max} bytes"),
                ));
            }
            out.extend_from_slice(&b[..n]);
        }
    }

    /// The body is all read: the connection can serve the next request.
    fn finish(&mut self) {
        self.done = true;
        if matches!(self.body, Body::ToClose) {
            self.keep = false;
        }
    }

    fn conn(&mut self) -> core::result::Result<&mut Conn, Errno> {
        self.conn.as_mut().ok_or(Errno::EPIPE)
    }

    fn copy_out(&mut self, buf: &mut [u8], max: u64) -> core::result::Result<usize, Errno> {
        let c = self.conn()?;
        if c.pos == c.end && c.fill()? == 0 {
            return Ok(0);
        }
        let n = (c.end - c.pos)
            .min(buf.len())
            .min(max.min(usize::MAX as u64) as usize);
        buf[..n].copy_from_slice(&c.buf[c.pos..c.pos + n]);
        c.pos += n;
        Ok(n)
    }
}

impl Source for Response {
    fn read(&mut self, buf: &mut [u8]) -> core::result::Result<usize, Errno> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        match self.body {
            Body::Len(left) => {
                let n = self.copy_out(buf, left)?;
                if n == 0 {
                    // The server closed before Content-Length bytes.
                    self.keep = false;
                    return Err(Errno::EPIPE);
                }
                let left = left - n as u64;
                self.body = Body::Len(left);
                if left == 0 {
                    self.finish();
                }
                Ok(n)
            }
            Body::ToClose => {
                let n = self.copy_out(buf, u64::MAX)?;
                if n == 0 {
                    self.finish();
                }
                Ok(n)
            }
            Body::Chunked { left, last } => {
                if left == 0 {
                    let mut budget = MAX_HEAD;
                    let c = self.conn()?;
                    if last {
                        // The chunk's CRLF was read; now trailers to the blank line.
                        loop {
                            if c.line(&mut budget)?.is_empty() {
                                break;
                            }
                        }
                        self.finish();
                        return Ok(0);
                    }
                    let l = c.line(&mut budget)?;
                    let size = core::str::from_utf8(&l)
                        .ok()
                        .map(|s| s.split(';').next().unwrap_or("").trim())
                        .and_then(|s| u64::from_str_radix(s, 16).ok())
                        .ok_or(Errno::EPROTO)?;
                    if size == 0 {
                        self.body = Body::Chunked {
                            left: 0,
                            last: true,
                        };
                        return self.read(buf);
                    }
                    self.body = Body::Chunked {
                        left: size,
                        last: false,
                    };
                }
                let Body::Chunked { left, .. } = self.body else {
                    return Err(Errno::EPROTO);
                };
                let n = self.copy_out(buf, left)?;
                if n == 0 {
                    self.keep = false;
                    return Err(Errno::EPIPE);
                }
                let left = left - n as u64;
                if left == 0 {
                    // The CRLF after the chunk's data.
                    let mut budget = 2 + 1;
                    let c = self.conn()?;
                    if !c.line(&mut budget)?.is_empty() {
                        return Err(Errno::EPROTO);
                    }
                }
                self.body = Body::Chunked { left, last: false };
                Ok(n)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A connection whose peer sent `bytes` and closed, read through a
    /// buffer of `size` (small ones make the buffer compact and refill).
    fn served(bytes: &[u8], size: usize) -> Conn {
        let (r, w) = fd::pipe().unwrap();
        fd::write_all(w.raw(), bytes).unwrap();
        drop(w);
        Conn {
            stream: Stream::Plain(r),
            key: String::from("http://registry.test:5000"),
            buf: alloc::vec![0u8; size],
            pos: 0,
            end: 0,
        }
    }

    /// Mutated registry responses (status line, headers, Content-Length,
    /// chunked bodies with extensions and trailers, interim 1xx, pipelined
    /// responses on a kept-alive connection) read as `Client::request`
    /// reads them; a Location is joined and a challenge parsed.
    #[test]
    fn hostile_http_responses() {
        const D: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        let ok = alloc::format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDocker-Content-Digest: {D}\r\nContent-Length: 13\r\n\r\n{{\"token\":\"x\"}}"
        );
        let corpus: &[&[u8]] = &[
            ok.as_bytes(),
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n",
            b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"https://auth.test/token\",service=\"reg\",scope=\"repository:a:pull\"\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 307 Temporary Redirect\r\nLocation: https://cdn.test/blob?sig=1\r\nContent-Length: 0\r\n\r\n",
            b"HTTP/1.1 202 Accepted\r\nLocation: /v2/a/blobs/uploads/1?_state=x\r\nRange: 0-0\r\nContent-Length: 0\r\n\r\n",
            b"HTTP/1.0 200 OK\r\nConnection: close\r\n\r\nuntil the close",
            b"HTTP/1.1 204 No Content\nX: y\n\n",
        ];
        let dict: &[&[u8]] = &[
            b"\r\n",
            b"\r\n\r\n",
            b"HTTP/1.1 ",
            b"Content-Length: ",
            b"Transfer-Encoding: chunked\r\n",
            b"Connection: close\r\n",
            b"Location: ",
            b"//h:1/x",
            b"ffffffffffffffff",
            b"0\r\n\r\n",
            b";",
        ];
        let url = Url::parse("http://registry.test:5000/v2/a/manifests/latest").unwrap();
        crate::rt::fuzz::run(
            "http responses",
            corpus,
            dict,
            std::time::Duration::from_secs(60),
            |b| {
                let size = if b.len() % 4 == 1 {
                    16 + b.len() % 64
                } else {
                    BUF
                };
                let method = if b.len() % 7 == 0 { "HEAD" } else { "GET" };
                let mut client = Client::default();
                client.conn = Some(served(b, size));
                for _ in 0..3 {
                    let Some(c) = client.conn.as_mut() else {
                        break;
                    };
                    let (status, headers) = read_head(c).map_err(|e| {
                        alloc::string::ToString::to_string(&io(&url, "HTTP request")(e))
                    })?;
                    assert!(status < 1000 && !(100..200).contains(&status) || status == 101);
                    let mut r = client
                        .response(method, &url, status, headers)
                        .map_err(|e| format!("{e}"))?;
                    let body = r.read_all(1 << 20).map_err(|e| format!("{e}"))?;
                    assert!(body.len() <= b.len());
                    let chunked = r.header("transfer-encoding").is_some();
                    let len = r
                        .header("content-length")
                        .and_then(|l| l.trim().parse().ok());
                    if let (Some(n), false, "GET", 200..) = (len, chunked, method, status)
                        && status != 204
                        && status != 304
                    {
                        assert_eq!(body.len() as u64, n, "body and Content-Length differ");
                    }
                    if let Some(loc) = r.header("location")
                        && let Ok(u) = url.join(loc)
                    {
                        assert!(u.path.starts_with('/'), "{u:?}");
                        assert!(!u.host.is_empty() && !u.path.bytes().any(|c| c <= b' '));
                    }
                    if let Some(ch) = r.header("www-authenticate") {
                        let _ = super::super::auth::parse_challenge(ch);
                    }
                    client.recycle(r);
                }
                Ok(())
            },
        );
    }

    #[test]
    fn urls() {
        let u = Url::parse("http://127.0.0.1:5000/v2/a/b/manifests/latest").unwrap();
        assert_eq!(
            (u.https, u.host.as_str(), u.port),
            (false, "127.0.0.1", 5000)
        );
        assert_eq!(u.path, "/v2/a/b/manifests/latest");
        assert_eq!(u.authority(), "127.0.0.1:5000");
        let v6 = Url::parse("https://[::1]/token?scope=x").unwrap();
        assert_eq!(
            (v6.host.as_str(), v6.port, v6.path.as_str()),
            ("::1", 443, "/token?scope=x")
        );
        assert_eq!(v6.authority(), "[::1]");
        assert_eq!(Url::parse("http://h").unwrap().path, "/");
        assert_eq!(Url::parse("http://h?x=1").unwrap().path, "/?x=1");
        for bad in [
            "ftp://h/",
            "http://",
            "http://u@h/",
            "http://h:x/",
            "http://[::1/",
            "http://h/a b",
        ] {
            assert!(Url::parse(bad).is_err(), "{bad}");
        }
        let j = u.join("/v2/a/b/blobs/uploads/1?x").unwrap();
        assert_eq!(
            j.to_text(),
            "http://127.0.0.1:5000/v2/a/b/blobs/uploads/1?x"
        );
        assert_eq!(u.join("other").unwrap().path, "/v2/a/b/manifests/other");
        assert_eq!(
            u.join("https://s3.example/bucket/x").unwrap().to_text(),
            "https://s3.example/bucket/x"
        );
        assert_eq!(u.join("//cdn/x").unwrap().to_text(), "http://cdn/x");
    }
}
