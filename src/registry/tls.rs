//! TLS for registries: rustls (no_std, its unbuffered state machine
//! driven over our own socket), ring's primitives, webpki's checks of the
//! chain, the validity dates and the host name. Trusted: the host's CA
//! bundle (`$SSL_CERT_FILE`, else the distribution's file) and, per
//! registry, `certs.d/HOST[:PORT]/*.crt` as docker reads them
//! (`/etc/docker/certs.d`, or `$POCKET_CERTS_D`).

use crate::error::{Error, Result};
use crate::sys::fd::{self, Fd};
use crate::sys::{Errno, fs};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use rustls::client::UnbufferedClientConnection;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::unbuffered::{ConnectionState, EncodeError, EncryptError, UnbufferedStatus};

/// docker's per-registry CA directories.
pub const CERTS_D: &str = "/etc/docker/certs.d";

/// Where distributions keep the CA bundle (Debian first).
const BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
    "/etc/ssl/ca-bundle.pem",
];

#[derive(Debug)]
struct Clock;

impl rustls::time_provider::TimeProvider for Clock {
    fn current_time(&self) -> Option<UnixTime> {
        let t = crate::rt::time::now();
        (t.secs > 0)
            .then(|| UnixTime::since_unix_epoch(core::time::Duration::from_secs(t.secs as u64)))
    }
}

/// This build speaks TLS (tls_off.rs is the one that does not).
pub const AVAILABLE: bool = true;

pub fn unavailable(authority: &str) -> crate::error::Error {
    crate::error::Error::bad("TLS", String::from(authority), "not available")
}

/// The client configuration a connection is made with.
pub type Config = rustls::ClientConfig;

/// What to trust for `authority` (`host[:port]`).
pub struct Trust {
    pub bundle: Option<String>,
    pub certs_d: String,
}

fn read(path: &str) -> Option<Vec<u8>> {
    fs::read(&crate::error::cpath(path).ok()?).ok()
}

/// The client configuration for one registry.
pub fn config(authority: &str, t: &Trust) -> Result<Arc<rustls::ClientConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    let mut add = |pem: &[u8]| {
        for c in CertificateDer::pem_slice_iter(pem).flatten() {
            let _ = roots.add(c);
        }
    };
    let bundle = match &t.bundle {
        Some(b) => read(b),
        None => BUNDLES.iter().find_map(|b| read(b)),
    };
    if let Some(b) = bundle {
        add(&b);
    }
    let dir = format!("{}/{authority}", t.certs_d);
    if let Ok(d) = crate::error::cpath(&dir).and_then(|c| {
        fd::open(&c, libc::O_RDONLY | libc::O_DIRECTORY, 0)
            .map_err(|e| Error::sys("open", dir.clone(), e))
    }) {
        for e in fs::list_dir(&d).unwrap_or_default() {
            if e.name.ends_with(".crt") {
                if let Some(b) = read(&format!("{dir}/{}", e.name)) {
                    add(&b);
                }
            }
        }
    }
    // ring's provider: no post-quantum key exchange (aws-lc-rs has it but
    // needs std); X25519 and the NIST curves are what registries offer.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_details(provider, Arc::new(Clock))
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::bad("TLS", String::from(authority), e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(cfg))
}

/// A certificate refused, in docker's (Go's x509) words, rustls' detail
/// after them; anything else in rustls' words.
fn words(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    let rustls::Error::InvalidCertificate(c) = e else {
        return e.to_string();
    };
    let what = match c {
        C::UnknownIssuer => "certificate signed by unknown authority",
        C::Expired | C::ExpiredContext { .. } | C::NotValidYet | C::NotValidYetContext { .. } => {
            "certificate has expired or is not yet valid"
        }
        C::NotValidForName | C::NotValidForNameContext { .. } => {
            "certificate is not valid for this host"
        }
        _ => "certificate not accepted (self-signed, or not a server certificate)",
    };
    format!("x509: {what} ({e})")
}

/// A TLS connection over a connected socket.
pub struct Tls {
    conn: UnbufferedClientConnection,
    fd: Fd,
    inbuf: Vec<u8>,
    inlen: usize,
    outbuf: Vec<u8>,
    outlen: usize,
    plain: Vec<u8>,
    ppos: usize,
    eof: bool,
    /// What went wrong, in rustls' words (certificate errors above all).
    pub why: Option<String>,
}

/// A failure of the TLS layer, as an errno for the byte-stream callers;
/// `Tls::why` keeps the words.
const TLS_FAILED: Errno = Errno::EPROTO;

impl Tls {
    /// Handshake as a client of `host` (a name or an IP address).
    pub fn connect(
        fd: Fd,
        host: &str,
        cfg: Arc<rustls::ClientConfig>,
    ) -> core::result::Result<Tls, (Errno, Option<String>)> {
        let name = ServerName::try_from(host.to_string())
            .map_err(|_| (Errno::EINVAL, Some(String::from("not a valid server name"))))?;
        let conn = UnbufferedClientConnection::new(cfg, name)
            .map_err(|e| (TLS_FAILED, Some(e.to_string())))?;
        let mut t = Tls {
            conn,
            fd,
            inbuf: alloc::vec![0u8; 32 * 1024],
            inlen: 0,
            outbuf: alloc::vec![0u8; 32 * 1024],
            outlen: 0,
            plain: Vec::new(),
            ppos: 0,
            eof: false,
            why: None,
        };
        match t.drive(None, false) {
            Ok(()) => Ok(t),
            Err(e) => Err((e, t.why.take())),
        }
    }

    pub fn write_all(&mut self, data: &[u8]) -> core::result::Result<(), Errno> {
        // One record carries at most 16 KiB.
        for chunk in data.chunks(16 * 1024) {
            self.drive(Some(chunk), false)?;
        }
        Ok(())
    }

    pub fn read(&mut self, buf: &mut [u8]) -> core::result::Result<usize, Errno> {
        if self.ppos == self.plain.len() {
            self.plain.clear();
            self.ppos = 0;
            self.drive(None, true)?;
        }
        let n = (self.plain.len() - self.ppos).min(buf.len());
        buf[..n].copy_from_slice(&self.plain[self.ppos..self.ppos + n]);
        self.ppos += n;
        Ok(n)
    }

    fn fail(&mut self, e: impl ToString) -> Errno {
        self.why = Some(e.to_string());
        TLS_FAILED
    }

    /// Advance the state machine: through the handshake; then, with
    /// `data`, until it is encrypted and sent; with `want_plain`, until
    /// plaintext (or the end) is there.
    fn drive(
        &mut self,
        mut data: Option<&[u8]>,
        want_plain: bool,
    ) -> core::result::Result<(), Errno> {
        loop {
            if want_plain && (self.ppos < self.plain.len() || self.eof) {
                return Ok(());
            }
            let (mut need_read, mut done) = (false, false);
            let mut failed: Option<String> = None;
            let UnbufferedStatus { mut discard, state } =
                self.conn.process_tls_records(&mut self.inbuf[..self.inlen]);
            match state {
                Err(e) => failed = Some(words(&e)),
                Ok(ConnectionState::ReadTraffic(mut r)) => {
                    while let Some(rec) = r.next_record() {
                        match rec {
                            Ok(rec) => {
                                discard += rec.discard;
                                self.plain.extend_from_slice(rec.payload);
                            }
                            Err(e) => {
                                failed = Some(e.to_string());
                                break;
                            }
                        }
                    }
                }
                Ok(ConnectionState::EncodeTlsData(mut e)) => loop {
                    match e.encode(&mut self.outbuf[self.outlen..]) {
                        Ok(n) => {
                            self.outlen += n;
                            break;
                        }
                        Err(EncodeError::InsufficientSize(s)) => {
                            self.outbuf.resize(self.outlen + s.required_size, 0);
                        }
                        Err(e) => {
                            failed = Some(e.to_string());
                            break;
                        }
                    }
                },
                Ok(ConnectionState::TransmitTlsData(t)) => {
                    fd::write_all(self.fd.raw(), &self.outbuf[..self.outlen])?;
                    self.outlen = 0;
                    t.done();
                }
                Ok(ConnectionState::BlockedHandshake) => need_read = true,
                Ok(ConnectionState::WriteTraffic(mut w)) => {
                    if let Some(d) = data.take() {
                        let n = loop {
                            match w.encrypt(d, &mut self.outbuf) {
                                Ok(n) => break Some(n),
                                Err(EncryptError::InsufficientSize(s)) => {
                                    self.outbuf.resize(s.required_size, 0);
                                }
                                Err(e) => {
                                    failed = Some(e.to_string());
                                    break None;
                                }
                            }
                        };
                        if let Some(n) = n {
                            fd::write_all(self.fd.raw(), &self.outbuf[..n])?;
                        }
                        done = !want_plain;
                    } else if want_plain {
                        need_read = true;
                    } else {
                        done = true;
                    }
                }
                Ok(ConnectionState::PeerClosed | ConnectionState::Closed) => {
                    self.eof = true;
                    if data.is_some() {
                        return Err(Errno::EPIPE);
                    }
                    done = true;
                }
                Ok(_) => failed = Some(String::from("unexpected TLS state")),
            }
            if let Some(f) = failed {
                return Err(self.fail(f));
            }
            if discard > 0 {
                self.inbuf.copy_within(discard..self.inlen, 0);
                self.inlen -= discard;
            }
            if done {
                return Ok(());
            }
            if need_read {
                if self.inlen == self.inbuf.len() {
                    let n = self.inbuf.len() * 2;
                    if n > 1 << 20 {
                        return Err(self.fail("TLS record too large"));
                    }
                    self.inbuf.resize(n, 0);
                }
                let n = loop {
                    match fd::read(self.fd.raw(), &mut self.inbuf[self.inlen..]) {
                        Err(Errno::EINTR) => continue,
                        Err(Errno::EAGAIN) => return Err(Errno::ETIMEDOUT),
                        r => break r?,
                    }
                };
                if n == 0 {
                    // The peer went away without close_notify: the end of
                    // the stream once the handshake is done, else a failure.
                    if !self.conn.is_handshaking() && want_plain {
                        self.eof = true;
                        return Ok(());
                    }
                    return Err(Errno::ECONNRESET);
                }
                self.inlen += n;
            }
        }
    }
}
