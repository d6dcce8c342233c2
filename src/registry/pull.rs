//! `pocket pull`: a manifest negotiated (an index resolved to the wanted
//! platform), the config and each missing layer fetched and verified
//! against their digests. A layer streams from the socket through its
//! digest, the decompressor and the diff_id hash straight into the store
//! (download and extraction pipelined, one layer at a time: pocket is
//! single-threaded). Each verified layer is kept, so an interrupted pull
//! resumes at the next one; the image itself appears only when all of it
//! is there.

use super::manifest::{self, Compression, Descriptor, Manifest, Platform};
use super::meter::Meter;
use super::{Options, Session};
use crate::error::{Error, Result};
use crate::image::digest;
use crate::image::layer::Tee;
use crate::image::reference::Reference;
use crate::image::store::Images;
use crate::json::{self, Value};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

pub struct Pull {
    pub platform: Option<Platform>,
    /// Only the image's name at the end.
    pub quiet: bool,
    /// Everything on stderr (`run`: stdout is the container's).
    pub to_stderr: bool,
    pub registry: Options,
}

const MAX_CONFIG: usize = 16 << 20;

fn hex(d: &str) -> &str {
    d.trim_start_matches("sha256:")
}

fn short(d: &str) -> &str {
    &hex(d)[..12]
}

/// Pull `q` into `images`; returns the image id.
pub fn pull(images: &Images, q: &str, o: &Pull) -> Result<String> {
    let given = Reference::parse_name_only(q)?;
    let r = Reference::parse(q)?;
    let say = |l: &str| match (o.quiet, o.to_stderr) {
        (true, _) => {}
        (false, true) => crate::errln!("{l}"),
        (false, false) => crate::outln!("{l}"),
    };
    if given.tag.is_none() && given.digest.is_none() && !o.to_stderr {
        say("Using default tag: latest");
    }
    // Its tag and digest are file names in the store: refused before any
    // download if they could not be (a name of 255 and a long tag fit
    // the grammar, not NAME_MAX).
    if r.familiar_name().len() + 1 + 7 + 128 > 255 || r.familiar().len() > 255 {
        return Err(Error::bad(
            "pull",
            r.familiar(),
            "reference too long to keep in the store (255 bytes with its digest)",
        ));
    }
    let repo = r.path.clone();
    let what = format!("manifest for {}", r.familiar());

    // The manifest, or the index and then the platform's manifest; for
    // docker.io from the first mirror that has it, else from docker.io.
    let mut sessions = Vec::new();
    if r.domain == crate::image::reference::DOCKER_IO {
        for m in &o.registry.mirrors {
            sessions.push(Session::mirror(m, &o.registry)?);
        }
    }
    sessions.push(Session::new(&r.domain, &o.registry)?);
    let last = sessions.len() - 1;
    let mut found = None;
    for (i, mut s) in sessions.into_iter().enumerate() {
        match fetch_manifest(&mut s, &repo, r.object(), &what) {
            Ok(m) => {
                found = Some((s, m));
                break;
            }
            Err(e) if i == last => return Err(e),
            Err(_) => {}
        }
    }
    let Some((mut s, (top, body, ct))) = found else {
        return Err(Error::text(what));
    };
    crate::rt::crash::step("pull: manifest fetched");
    // (docker says so once the registry has the image)
    say(&format!("{}: Pulling from {}", r.object(), r.path));
    if let Some(d) = &r.digest
        && *d != top
    {
        return Err(Error::bad(
            what.clone(),
            d.clone(),
            format!("the registry sent {top}"),
        ));
    }
    let want = o.platform.clone().unwrap_or_else(Platform::host);
    let (config, layers) = match manifest::parse(ct.as_deref(), &body)? {
        Manifest::Image { config, layers } => (config, layers),
        Manifest::Index(list) => {
            let d = manifest::choose(&list, &want).ok_or_else(|| {
                Error::text(format!(
                    "no matching manifest for {} in the manifest list entries",
                    want.to_text()
                ))
                .with_code(1)
            })?;
            let (got, body, ct) = fetch_manifest(&mut s, &repo, &d.digest, &what)?;
            if got != d.digest {
                return Err(Error::bad(
                    what.clone(),
                    d.digest.clone(),
                    format!("the registry sent {got}"),
                ));
            }
            match manifest::parse(ct.as_deref(), &body)? {
                Manifest::Image { config, layers } => (config, layers),
                Manifest::Index(_) => {
                    return Err(Error::bad(
                        what.clone(),
                        d.digest.clone(),
                        "an index inside an index",
                    ));
                }
            }
        }
    };

    // The config: the image id is its digest.
    let cb = fetch_blob_small(&mut s, &repo, &config, MAX_CONFIG)?;
    crate::rt::crash::step("pull: config fetched");
    let cv = json::parse(&cb)
        .map_err(|e| Error::bad("image config", config.digest.clone(), format!("{e}")))?;
    check_platform(&cv, o.platform.as_ref(), &r)?;
    let diff_ids = cv
        .get("rootfs")
        .and_then(|x| x.get("diff_ids"))
        .and_then(Value::strings)
        .ok_or_else(|| Error::bad("image config", config.digest.clone(), "no rootfs.diff_ids"))?;
    if diff_ids.len() != layers.len() {
        return Err(Error::bad(
            "image config",
            config.digest.clone(),
            "layer count differs from rootfs.diff_ids",
        ));
    }
    let diff_ids: Vec<String> = diff_ids
        .iter()
        .map(|d| {
            manifest::valid_sha256(d)
                .then(|| String::from(hex(d)))
                .ok_or_else(|| Error::bad("image config", d.clone(), "not a sha256 diff_id"))
        })
        .collect::<Result<_>>()?;
    let id = String::from(hex(&config.digest));
    let fresh = images.get(&id).is_err() || !diff_ids.iter().all(|d| images.has_layer(d));
    // Layers stored and not yet listed by an image are this pull's:
    // `image prune` leaves them alone while it runs.
    let _busy = images.busy()?;

    let here = r.name();
    for (l, diff) in layers.iter().zip(&diff_ids) {
        // The registry has this blob of this layer: a push finds it.
        let gzip = matches!(manifest::compression(&l.media_type), Ok(Compression::Gzip))
            && !l.media_type.is_empty()
            && !l.media_type.contains("foreign")
            && !l.media_type.contains("nondistributable");
        let keep = || {
            if gzip {
                super::push::remember(images, diff, &l.digest, l.size, here.clone());
            }
        };
        if images.has_layer(diff) {
            if fresh {
                say(&format!("{}: Already exists", short(&l.digest)));
            }
            keep();
            continue;
        }
        // On a terminal the layer's line counts up while it downloads,
        // then reads "Pull complete" (docker's one line per layer).
        let fd = if o.to_stderr { 2 } else { 1 };
        let live = !o.quiet && crate::sys::tty::isatty(fd);
        fetch_layer(images, &mut s, &repo, l, diff, live.then_some(fd))?;
        if live {
            let _ = crate::sys::fd::write_all(fd, b"\r\x1b[K");
        }
        keep();
        say(&format!("{}: Pull complete", short(&l.digest)));
    }

    // All there: the image document, its tag and its digest.
    {
        let _l = images.lock()?;
        for d in &diff_ids {
            if !images.has_layer(d) {
                return Err(Error::bad(
                    "pull",
                    d.clone(),
                    "layer removed by a concurrent rmi; pull again",
                ));
            }
        }
        let size = diff_ids.iter().map(|l| images.layer_size(l)).sum();
        images.put(&cb, diff_ids.clone(), size)?;
        crate::rt::crash::step("pull: image stored");
        if r.tag.is_some() {
            let mut t = r.clone();
            t.digest = None;
            images.tag(&t.familiar(), &id)?;
            crate::rt::crash::step("pull: tagged");
        }
        images.add_digest(&format!("{}@{top}", r.familiar_name()), &id)?;
        crate::rt::crash::step("pull: digest recorded");
    }
    say(&format!("Digest: {top}"));
    say(&format!(
        "Status: {} for {}",
        if fresh {
            "Downloaded newer image"
        } else {
            "Image is up to date"
        },
        r.familiar()
    ));
    let mut full = r.name();
    if let Some(t) = &r.tag {
        full = format!("{full}:{t}");
    }
    if let Some(d) = &r.digest {
        full = format!("{full}@{d}");
    }
    // (`run` shows the pull's lines, not the name: as docker.)
    if !o.to_stderr {
        crate::outln!("{full}");
    }
    Ok(id)
}

/// A manifest by tag or digest: (its digest, its bytes, Content-Type).
fn fetch_manifest(
    s: &mut Session,
    repo: &str,
    object: &str,
    what: &str,
) -> Result<(String, Vec<u8>, Option<String>)> {
    let url = s.url(&format!("{repo}/manifests/{object}"))?;
    let mut r = s
        .get(url, manifest::ACCEPT, what, repo)
        .map_err(|e| not_found(e, what))?;
    let ct = r.header("content-type").map(String::from);
    let body = r.read_all(manifest::MAX_MANIFEST)?;
    s.recycle(r);
    Ok((digest::of(&body), body, ct))
}

/// docker's words for a missing tag: `manifest for x:y not found: ...`.
fn not_found(e: Error, what: &str) -> Error {
    let t = alloc::string::ToString::to_string(&e);
    match t.strip_prefix(what).and_then(|r| r.strip_prefix(": ")) {
        Some(why) if why.starts_with("manifest unknown") || why.starts_with("name unknown") => {
            Error::text(format!("{what} not found: {why}")).with_code(1)
        }
        _ => e,
    }
}

/// A small blob (the config), read whole and verified.
fn fetch_blob_small(s: &mut Session, repo: &str, d: &Descriptor, max: usize) -> Result<Vec<u8>> {
    let url = s.url(&format!("{repo}/blobs/{}", d.digest))?;
    let what = format!("blob {}", d.digest);
    let mut r = s.get(url, "", &what, repo)?;
    let b = r.read_all(max)?;
    s.recycle(r);
    let got = digest::of(&b);
    if got != d.digest {
        return Err(Error::bad(
            what.clone(),
            got,
            "digest mismatch: the blob is corrupt",
        ));
    }
    Ok(b)
}

/// One layer: streamed, verified (blob digest and size, diff_id), kept.
fn fetch_layer(
    images: &Images,
    s: &mut Session,
    repo: &str,
    l: &Descriptor,
    diff: &str,
    meter: Option<i32>,
) -> Result<()> {
    // gzip and zstd are told apart by their magic (gzip::plain), as load
    // does; the media type only has to name a tar layer.
    manifest::compression(&l.media_type)?;
    let what = format!("blob {}", l.digest);
    let url = s.url(&format!("{repo}/blobs/{}", l.digest))?;
    let mut body = s.get(url, "", &what, repo)?;
    // Never more than the manifest's size: a server sending endless
    // bytes after a valid tar is cut off at once.
    let mut capped = Capped {
        inner: &mut body,
        left: l.size,
        meter: meter.map(|fd| Meter::new(fd, short(&l.digest), "Downloading", l.size)),
    };
    let mut tee = Tee::new(&mut capped);
    let pending = {
        let mut plain = crate::image::gzip::plain(&mut tee)?;
        images
            .extract_layer(&mut *plain, None)
            .map_err(|e| plain.explain(e))?
    };
    tee.drain()?;
    let (got, n) = tee.finish();
    if got != hex(&l.digest) || n != l.size {
        return Err(Error::bad(
            what.clone(),
            format!("sha256:{got} ({n} bytes)"),
            "digest mismatch: the blob is corrupt",
        ));
    }
    if pending.diff_id != diff {
        return Err(Error::bad(
            what.clone(),
            format!("sha256:{}", pending.diff_id),
            format!("diff_id mismatch: sha256:{diff} expected"),
        ));
    }
    crate::rt::crash::step("pull: layer verified");
    pending.commit()?;
    crate::rt::crash::step("pull: layer committed");
    s.recycle(body);
    Ok(())
}

/// At most `left` bytes of `inner`; more is an error (EFBIG).
struct Capped<'a> {
    inner: &'a mut dyn crate::image::tar::Source,
    left: u64,
    meter: Option<Meter>,
}

impl crate::image::tar::Source for Capped<'_> {
    fn read(&mut self, buf: &mut [u8]) -> core::result::Result<usize, crate::sys::Errno> {
        if self.left == 0 {
            // One byte more than promised is already too many.
            let mut b = [0u8; 1];
            return match self.inner.read(&mut b)? {
                0 => Ok(0),
                _ => Err(crate::sys::Errno::EFBIG),
            };
        }
        let k = buf.len().min(self.left.min(usize::MAX as u64) as usize);
        let n = self.inner.read(&mut buf[..k])?;
        self.left -= n as u64;
        if let Some(m) = &mut self.meter {
            m.show(m.total - self.left);
        }
        Ok(n)
    }
}

/// A single-platform image pulled with --platform must be that platform.
fn check_platform(cv: &Value, want: Option<&Platform>, r: &Reference) -> Result<()> {
    let Some(w) = want else { return Ok(()) };
    let have = Platform {
        os: String::from(cv.get("os").and_then(Value::str).unwrap_or("linux")),
        arch: String::from(cv.get("architecture").and_then(Value::str).unwrap_or("")),
        variant: cv.get("variant").and_then(Value::str).map(String::from),
    };
    if have.os != w.os || have.arch != w.arch {
        return Err(Error::text(format!(
            "image with reference {} was found but does not match the specified platform: wanted {}, actual: {}",
            r.familiar(),
            w.to_text(),
            have.to_text()
        ))
        .with_code(1));
    }
    Ok(())
}
