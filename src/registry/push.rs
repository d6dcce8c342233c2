//! `pocket push`: an image's layers, its config and a manifest into a
//! registry, as docker pushes them (docker schema 2, gzip layers).
//!
//! pocket keeps layers extracted, not as the blobs they came in, so each
//! is written again as a tar (the caller's `write`) and deflated on its
//! way out: the very tar it came as where its split (image::split) still
//! makes it, else one from pocket's deterministic writer. Either way a
//! layer pocket made or recorded comes out with its own diff_id, so the
//! image keeps its config and id; one stored without a split (before
//! pocket kept them) whose files another tool wrote comes out as a new
//! tar, and the config sent names the new diff_ids.
//!
//! A layer streams: tar, diff_id hash, deflate, blob hash, upload, with
//! no copy on disk. One that fits in a chunk goes up in one PUT
//! (monolithic upload); a bigger one in PATCHes of a chunk each, then a
//! PUT naming its digest (chunked upload). What a layer became is kept
//! beside it (`<hex>.pushed`: blob digest, size, the repositories that
//! have it), so a later push asks the registry before sending it again
//! and, from another repository of the same registry, mounts it there
//! instead (cross-repository mount) when the registry offers that.

use super::http::{Response, Url};
use super::meter::Meter;
use super::{Options, Session, urlencode};
use crate::error::{Error, Result};
use crate::image::digest;
use crate::image::gzip_write::{self, Gzip};
use crate::image::reference::Reference;
use crate::image::store::{Image, Images};
use crate::image::tar_write::{Digest, Sink};
use crate::json::{self, Value};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// A blob that fits is sent in one request; a bigger one in PATCHes of
/// this size (distribution's chunked upload).
pub const CHUNK: usize = 8 << 20;

pub const MANIFEST_TYPE: &str = "application/vnd.docker.distribution.manifest.v2+json";
const CONFIG_TYPE: &str = "application/vnd.docker.container.image.v1+json";
const LAYER_TYPE: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

pub struct Push {
    /// Only the reference at the end.
    pub quiet: bool,
    pub registry: Options,
}

/// What the registry keeps for the image: its manifest's digest and size.
pub struct Pushed {
    pub digest: String,
    pub size: usize,
}

/// A layer as push made it: the blob, and which `domain/repository`s
/// have it (`layers/<hex>.pushed`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Made {
    /// The sha256 of the tar that was sent: the layer's own id when
    /// pocket wrote it first.
    diff_id: String,
    /// `sha256:...` of the gzip blob.
    digest: String,
    size: u64,
    repos: Vec<String>,
}

impl Made {
    /// (directory, file name): beside the layer's own directory.
    fn place(images: &Images, hex: &str) -> (String, String) {
        (format!("{}/layers", images.dir), format!("{hex}.pushed"))
    }

    fn read(images: &Images, hex: &str) -> Option<Made> {
        let (dir, name) = Made::place(images, hex);
        let c = crate::error::cpath(&format!("{dir}/{name}")).ok()?;
        let v = json::parse(&crate::sys::fs::read(&c).ok()?).ok()?;
        let m = Made {
            diff_id: String::from(v.get("diff_id")?.str()?),
            digest: String::from(v.get("digest")?.str()?),
            size: v.get("size")?.u64()?,
            repos: v.get("repos").and_then(Value::strings).unwrap_or_default(),
        };
        let ok = super::manifest::valid_sha256(&m.digest)
            && super::manifest::valid_sha256(&format!("sha256:{}", m.diff_id));
        ok.then_some(m)
    }

    /// Kept for next time; a record that cannot be written only costs
    /// that push an upload.
    fn write(&self, images: &Images, hex: &str) {
        let doc = json::compact(&json::obj!(
            ("diff_id", Some(json::str(&self.diff_id))),
            ("digest", Some(json::str(&self.digest))),
            ("size", Some(json::num(self.size))),
            ("repos", Some(json::strs(&self.repos))),
        ));
        let (dir, name) = Made::place(images, hex);
        if let Ok(dir) = crate::error::cpath(&dir) {
            let _ = crate::sys::fs::write_atomic(&dir, &name, doc.as_bytes(), true);
        }
    }
}

/// A gzip blob `digest` that `domain/repo` holds for layer `hex` (a pull
/// saw it): a push of that layer there finds it, and one to another
/// repository of that registry mounts it, as docker does with what it
/// pulled. The first blob known for a layer stays its record.
pub fn remember(images: &Images, hex: &str, digest: &str, size: u64, repo: String) {
    let m = match Made::read(images, hex) {
        None => Made {
            diff_id: String::from(hex),
            digest: String::from(digest),
            size,
            repos: Vec::new(),
        },
        Some(m) if m.digest == digest && !m.repos.contains(&repo) => m,
        Some(_) => return,
    };
    let mut m = m;
    m.repos.push(repo);
    m.write(images, hex);
}

/// Push `img` as `r` (a tag); `write` writes a layer (by its store hex)
/// as a tar into a sink. Returns the manifest the registry now holds.
pub fn push(
    images: &Images,
    img: &Image,
    r: &Reference,
    o: &Push,
    write: &mut dyn FnMut(&str, &mut dyn Sink) -> Result<()>,
) -> Result<Pushed> {
    let say = |l: &str| {
        if !o.quiet {
            crate::outln!("{l}");
        }
    };
    let tag = r.tag.as_deref().unwrap_or("latest");
    let repo = r.path.as_str();
    let here = r.name();
    let mut s = Session::new(&r.domain, &o.registry)?;
    s.push = true;
    say(&format!("The push refers to repository [{here}]"));
    let live = !o.quiet && crate::sys::tty::isatty(1);

    let mut layers: Vec<(String, u64)> = Vec::with_capacity(img.layers.len());
    let mut diff_ids: Vec<String> = Vec::with_capacity(img.layers.len());
    for hex in &img.layers {
        let shown = &hex[..12.min(hex.len())];
        let before = Made::read(images, hex);
        let mut start = None;
        let mut status = None;
        if let Some(m) = &before {
            if blob_exists(&mut s, repo, &m.digest)? {
                status = Some(String::from("Layer already exists"));
            } else if let Some(from) = m.repos.iter().find_map(|x| {
                x.strip_prefix(&r.domain)
                    .and_then(|p| p.strip_prefix('/'))
                    .filter(|p| *p != repo)
            }) {
                match mount(&mut s, repo, &m.digest, from)? {
                    None => status = Some(format!("Mounted from {from}")),
                    Some(u) => start = Some(u),
                }
            }
        }
        let (mut m, status) = match (status, before) {
            (Some(st), Some(m)) => (m, st),
            (_, before) => {
                let meter = live.then(|| Meter::new(1, shown, "Pushing", images.layer_size(hex)));
                let sent = upload_layer(&mut s, repo, hex, start, write, meter)?;
                // The record follows what the registry now has (another
                // deflater would make another blob of the same tar).
                let m = match before {
                    Some(old) if old.digest == sent.digest => old,
                    _ => sent,
                };
                (m, String::from("Pushed"))
            }
        };
        if !m.repos.contains(&here) {
            m.repos.push(here.clone());
        }
        m.write(images, hex);
        say(&format!("{shown}: {status}"));
        diff_ids.push(m.diff_id.clone());
        layers.push((m.digest, m.size));
    }

    // The config: as the image came when its layers are their own.
    let cfg = images.config_doc(img, &diff_ids);
    let cd = digest::of(&cfg);
    if !blob_exists(&mut s, repo, &cd)? {
        let mut up = Upload::new(&mut s, repo, None);
        up.put(&cfg)?;
        up.finish(&cd)?;
    }

    let manifest = manifest_doc((&cd, cfg.len() as u64), &layers);
    let md = digest::of(manifest.as_bytes());
    let url = s.url(&format!("{repo}/manifests/{tag}"))?;
    let what = format!("manifest for {}", r.familiar());
    let resp = s.send(
        "PUT",
        url,
        &[("Content-Type", MANIFEST_TYPE)],
        manifest.as_bytes(),
        repo,
    )?;
    if !(200..300).contains(&resp.status) {
        return Err(s.refused(resp, &what, repo));
    }
    let theirs = resp.header("docker-content-digest").map(String::from);
    drain(&mut s, resp);
    if let Some(t) = theirs
        && t != md
    {
        return Err(Error::bad(
            what,
            t,
            format!("the registry stored another manifest than the one sent ({md})"),
        ));
    }
    say(&format!("{tag}: digest: {md} size: {}", manifest.len()));
    Ok(Pushed {
        digest: md,
        size: manifest.len(),
    })
}

/// docker's schema 2 manifest: the config and the layers, bottom first.
fn manifest_doc(config: (&str, u64), layers: &[(String, u64)]) -> String {
    let desc = |t: &str, d: &str, n: u64| {
        json::obj!(
            ("mediaType", Some(json::str(t))),
            ("size", Some(json::num(n))),
            ("digest", Some(json::str(d))),
        )
    };
    json::compact(&json::obj!(
        ("schemaVersion", Some(json::num(2))),
        ("mediaType", Some(json::str(MANIFEST_TYPE))),
        ("config", Some(desc(CONFIG_TYPE, config.0, config.1))),
        (
            "layers",
            Some(Value::Arr(
                layers
                    .iter()
                    .map(|(d, n)| desc(LAYER_TYPE, d, *n))
                    .collect(),
            )),
        ),
    ))
}

/// A response's body read past and its connection kept.
fn drain(s: &mut Session, mut r: Response) {
    let _ = r.read_all(64 << 10);
    s.recycle(r);
}

/// Does the repository have this blob (HEAD)?
fn blob_exists(s: &mut Session, repo: &str, d: &str) -> Result<bool> {
    let url = s.url(&format!("{repo}/blobs/{d}"))?;
    let r = s.send("HEAD", url, &[], &[], repo)?;
    match r.status {
        200..=299 => {
            drain(s, r);
            Ok(true)
        }
        404 => {
            drain(s, r);
            Ok(false)
        }
        _ => Err(s.refused(r, &format!("blob {d}"), repo)),
    }
}

/// The upload URL a 202 names (relative to the request's).
fn location(s: &mut Session, r: Response, from: &Url, what: &str) -> Result<Url> {
    let loc = r.header("location").map(String::from);
    drain(s, r);
    let loc = loc.ok_or_else(|| Error::bad(String::from(what), from.to_text(), "no Location"))?;
    from.join(&loc)
}

/// Mount blob `d` from repository `from` (same registry): None when
/// mounted, else the upload the registry started instead.
fn mount(s: &mut Session, repo: &str, d: &str, from: &str) -> Result<Option<Url>> {
    let url = s.url(&format!(
        "{repo}/blobs/uploads/?mount={}&from={}",
        urlencode(d),
        urlencode(from)
    ))?;
    let r = s.send("POST", url.clone(), &[], &[], repo)?;
    let what = format!("blob {d}");
    match r.status {
        201 => {
            drain(s, r);
            Ok(None)
        }
        202 => location(s, r, &url, &what).map(Some),
        _ => Err(s.refused(r, &what, repo)),
    }
}

/// One layer: written, hashed, deflated, hashed, sent.
fn upload_layer(
    s: &mut Session,
    repo: &str,
    hex: &str,
    start: Option<Url>,
    write: &mut dyn FnMut(&str, &mut dyn Sink) -> Result<()>,
    meter: Option<Meter>,
) -> Result<Made> {
    let mut up = Upload::new(s, repo, start);
    let mut blob = Digest::new(Some(&mut up));
    let mut gz = Gzip::new(&mut blob, gzip_write::LEVEL)?;
    let mut tar = Digest::new(Some(&mut gz));
    let mut shown = Shown {
        inner: &mut tar,
        meter,
        done: 0,
    };
    write(hex, &mut shown)?;
    if let Some(m) = &shown.meter {
        m.clear();
    }
    let (diff_id, _) = tar.finish();
    gz.finish()?;
    let (d, size) = blob.finish();
    let digest = format!("sha256:{d}");
    up.finish(&digest)?;
    Ok(Made {
        diff_id,
        digest,
        size,
        repos: Vec::new(),
    })
}

/// The tar's bytes counted on the terminal (docker's push progress is
/// the layer read, not the blob sent).
struct Shown<'a> {
    inner: &'a mut dyn Sink,
    meter: Option<Meter>,
    done: u64,
}

impl Sink for Shown<'_> {
    fn put(&mut self, b: &[u8]) -> Result<()> {
        self.done += b.len() as u64;
        if let Some(m) = &mut self.meter {
            m.show(self.done);
        }
        self.inner.put(b)
    }
}

/// A blob on its way up: held until a chunk is full, then PATCHed; the
/// last PUT names its digest (and carries it whole if it never filled a
/// chunk).
struct Upload<'s> {
    s: &'s mut Session,
    repo: &'s str,
    buf: Vec<u8>,
    /// The upload's URL, once started (a POST, or the mount's answer).
    at: Option<Url>,
    sent: u64,
}

impl<'s> Upload<'s> {
    fn new(s: &'s mut Session, repo: &'s str, at: Option<Url>) -> Upload<'s> {
        Upload {
            s,
            repo,
            buf: Vec::new(),
            at,
            sent: 0,
        }
    }

    fn what(&self) -> String {
        format!("blob upload to {}", self.repo)
    }

    fn start(&mut self) -> Result<Url> {
        if let Some(u) = self.at.take() {
            return Ok(u);
        }
        let url = self.s.url(&format!("{}/blobs/uploads/", self.repo))?;
        let r = self.s.send("POST", url.clone(), &[], &[], self.repo)?;
        if r.status != 202 {
            return Err(self.s.refused(r, &self.what(), self.repo));
        }
        location(self.s, r, &url, &self.what())
    }

    fn patch(&mut self) -> Result<()> {
        let u = self.start()?;
        let end = self.sent + self.buf.len() as u64 - 1;
        let range = format!("{}-{end}", self.sent);
        let r = self.s.send(
            "PATCH",
            u.clone(),
            &[
                ("Content-Type", "application/octet-stream"),
                ("Content-Range", &range),
            ],
            &self.buf,
            self.repo,
        )?;
        if r.status != 202 {
            return Err(self.s.refused(r, &self.what(), self.repo));
        }
        self.at = Some(location(self.s, r, &u, &self.what())?);
        self.sent += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    fn finish(mut self, digest: &str) -> Result<()> {
        let monolithic = self.sent == 0;
        if !monolithic && !self.buf.is_empty() {
            self.patch()?;
        }
        let u = self.start()?;
        let sep = if u.path.contains('?') { '&' } else { '?' };
        let mut put = u.clone();
        put.path = format!("{}{sep}digest={}", u.path, urlencode(digest));
        let body: &[u8] = if monolithic { &self.buf } else { &[] };
        let r = self.s.send(
            "PUT",
            put,
            &[("Content-Type", "application/octet-stream")],
            body,
            self.repo,
        )?;
        if !(200..300).contains(&r.status) {
            return Err(self.s.refused(r, &self.what(), self.repo));
        }
        drain(self.s, r);
        Ok(())
    }
}

impl Sink for Upload<'_> {
    fn put(&mut self, mut b: &[u8]) -> Result<()> {
        while !b.is_empty() {
            if self.buf.capacity() == 0 {
                self.buf.reserve_exact(CHUNK);
            }
            let k = (CHUNK - self.buf.len()).min(b.len());
            self.buf.extend_from_slice(&b[..k]);
            b = &b[k..];
            if self.buf.len() == CHUNK {
                self.patch()?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schema2_manifest() {
        let (c, l) = (
            "sha256:".to_string() + &"c".repeat(64),
            "sha256:".to_string() + &"1".repeat(64),
        );
        let m = manifest_doc((&c, 7), &[(l.clone(), 9)]);
        assert_eq!(
            m,
            format!(
                r#"{{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{{"mediaType":"application/vnd.docker.container.image.v1+json","size":7,"digest":"{c}"}},"layers":[{{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":9,"digest":"{l}"}}]}}"#
            )
        );
        // What pull reads back.
        match super::super::manifest::parse(Some(MANIFEST_TYPE), m.as_bytes()) {
            Ok(super::super::manifest::Manifest::Image { config, layers }) => {
                assert_eq!((config.digest, config.size), (c, 7));
                assert_eq!(layers.len(), 1);
                assert_eq!((&*layers[0].digest, layers[0].size), (&*l, 9));
            }
            _ => panic!("not read back"),
        }
    }
}
