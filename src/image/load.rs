//! `pocket load`: images from a docker-archive (`docker save`, `skopeo copy
//! ... docker-archive:`) or an OCI image layout (`oci:` directory or
//! `oci-archive:` tar). Every blob's digest is checked while it streams:
//! the config and manifests against their names, a compressed layer
//! against its blob digest and, uncompressed, against the config's
//! diff_id. Any mismatch fails the load; layers already extracted by it
//! are dropped, so no partial image is ever visible.

use super::archive::Archive;
use super::digest;
use super::layer::{Pending, Tee};
use super::progress::Progress;
use super::store::Images;
use super::tar::Source;
use crate::error::{Error, Result};
use crate::json::{self, Value};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// An image found in an archive.
struct Found {
    config: String,
    /// Expected sha256 of the config (from its name), if known.
    config_digest: Option<String>,
    /// (member name, expected blob sha256 if the name carries one).
    layers: Vec<(String, Option<String>)>,
    tags: Vec<String>,
}

/// What got loaded: image id and its tags.
pub struct Loaded {
    pub id: String,
    pub tags: Vec<String>,
}

fn bad(what: &str, why: impl Into<alloc::borrow::Cow<'static, str>>) -> Error {
    Error::bad("load", String::from(what), why)
}

fn parse(ar: &Archive, name: &str) -> Result<(Vec<u8>, Value)> {
    let b = ar.read(name)?;
    let v = json::parse(&b).map_err(|e| bad(name, format!("bad JSON: {e}")))?;
    Ok((b, v))
}

/// A sha256 digest as OCI writes it: 64 lowercase hex digits.
fn is_hex64(h: &str) -> bool {
    h.len() == 64 && h.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
}

/// "blobs/sha256/<hex>" -> Some(hex); "<hex>.json" -> Some(hex).
fn digest_in_name(name: &str) -> Option<String> {
    let last = name.rsplit('/').next()?;
    let hex = last.strip_suffix(".json").unwrap_or(last);
    let hex = hex.strip_suffix(".tar").unwrap_or(hex);
    is_hex64(hex).then(|| String::from(hex))
}

fn blob_path(digest: &str) -> Result<(String, String)> {
    let hex = digest
        .strip_prefix("sha256:")
        .filter(|h| is_hex64(h))
        .ok_or_else(|| bad(digest, "only sha256 digests are supported"))?;
    Ok((format!("blobs/sha256/{hex}"), String::from(hex)))
}

fn check(name: &str, data: &[u8], want: &Option<String>) -> Result<()> {
    if let Some(w) = want {
        let got = digest::of(data);
        if got.trim_start_matches("sha256:") != w {
            return Err(bad(
                name,
                format!("digest mismatch: sha256:{w} expected, {got} read"),
            ));
        }
    }
    Ok(())
}

fn docker_archive(ar: &Archive) -> Result<Vec<Found>> {
    let (_, m) = parse(ar, "manifest.json")?;
    let mut out = Vec::new();
    for img in m
        .arr()
        .ok_or_else(|| bad("manifest.json", "not an array"))?
    {
        let config = img
            .get("Config")
            .and_then(Value::str)
            .ok_or_else(|| bad("manifest.json", "an entry has no Config"))?;
        let layers = img
            .get("Layers")
            .and_then(Value::strings)
            .ok_or_else(|| bad("manifest.json", "an entry has no Layers"))?;
        out.push(Found {
            config: String::from(config),
            config_digest: digest_in_name(config),
            // Only names under blobs/ are digests: "<id>/layer.tar" is not.
            layers: layers
                .into_iter()
                .map(|l| {
                    let d = l
                        .starts_with("blobs/")
                        .then(|| digest_in_name(&l))
                        .flatten();
                    (l, d)
                })
                .collect(),
            tags: img
                .get("RepoTags")
                .and_then(Value::strings)
                .unwrap_or_default(),
        });
    }
    Ok(out)
}

/// Manifests reachable from an OCI index (nested indexes followed), with
/// the tag the index gives them.
fn oci_manifests(
    ar: &Archive,
    index: &Value,
    tag: Option<String>,
    out: &mut Vec<(Value, Option<String>)>,
    depth: u32,
) -> Result<()> {
    if depth > 4 {
        return Err(bad("index.json", "indexes nested too deep"));
    }
    for m in index.get("manifests").and_then(Value::arr).unwrap_or(&[]) {
        let ann = |k: &str| {
            m.get("annotations")
                .and_then(|a| a.get(k))
                .and_then(Value::str)
        };
        let name = ann("io.containerd.image.name")
            .or_else(|| ann("org.opencontainers.image.ref.name").filter(|n| n.contains([':', '/'])))
            .map(String::from)
            .or_else(|| tag.clone());
        if let Some(p) = m.get("platform")
            && (p
                .get("os")
                .and_then(Value::str)
                .is_some_and(|o| o != "linux")
                || p.get("architecture")
                    .and_then(Value::str)
                    .is_some_and(|a| a != "amd64"))
        {
            continue;
        }
        let digest = m
            .get("digest")
            .and_then(Value::str)
            .ok_or_else(|| bad("index", "a manifest has no digest"))?;
        let (path, hex) = blob_path(digest)?;
        let (b, v) = parse(ar, &path)?;
        check(&path, &b, &Some(hex))?;
        let media = m
            .get("mediaType")
            .and_then(Value::str)
            .or_else(|| v.get("mediaType").and_then(Value::str))
            .unwrap_or("");
        if media.contains("index")
            || media.contains("manifest.list")
            || v.get("manifests").is_some()
        {
            oci_manifests(ar, &v, name, out, depth + 1)?;
        } else {
            out.push((v, name));
        }
    }
    Ok(())
}

fn oci_layout(ar: &Archive) -> Result<Vec<Found>> {
    let (_, index) = parse(ar, "index.json")?;
    let mut ms = Vec::new();
    oci_manifests(ar, &index, None, &mut ms, 0)?;
    let mut out = Vec::new();
    for (m, name) in ms {
        let cfg = m
            .get("config")
            .and_then(|c| c.get("digest"))
            .and_then(Value::str)
            .ok_or_else(|| bad("manifest", "no config digest"))?;
        let (config, hex) = blob_path(cfg)?;
        let mut layers = Vec::new();
        for l in m.get("layers").and_then(Value::arr).unwrap_or(&[]) {
            let d = l
                .get("digest")
                .and_then(Value::str)
                .ok_or_else(|| bad("manifest", "a layer has no digest"))?;
            let (p, h) = blob_path(d)?;
            layers.push((p, Some(h)));
        }
        out.push(Found {
            config,
            config_digest: Some(hex),
            layers,
            tags: name.into_iter().collect(),
        });
    }
    Ok(out)
}

/// Load every image of the archive into the store.
pub fn load(images: &Images, ar: &Archive, p: &mut Progress) -> Result<Vec<Loaded>> {
    let found = if ar.has("manifest.json") {
        docker_archive(ar)?
    } else if ar.has("index.json") {
        oci_layout(ar)?
    } else {
        return Err(bad(
            &ar.name,
            "neither a docker-archive (manifest.json) nor an OCI layout (index.json)",
        ));
    };
    if found.is_empty() {
        return Err(bad(&ar.name, "holds no image (for linux/amd64)"));
    }
    let mut out = Vec::new();
    for f in found {
        out.push(load_one(images, ar, &f, p)?);
    }
    Ok(out)
}

fn load_one(images: &Images, ar: &Archive, f: &Found, p: &mut Progress) -> Result<Loaded> {
    let tags = f
        .tags
        .iter()
        .map(|t| super::store::normalize(t))
        .collect::<Result<Vec<_>>>()?;
    let (cb, cv) = parse(ar, &f.config)?;
    check(&f.config, &cb, &f.config_digest)?;
    let diff_ids = cv
        .get("rootfs")
        .and_then(|r| r.get("diff_ids"))
        .and_then(Value::strings)
        .ok_or_else(|| bad(&f.config, "no rootfs.diff_ids"))?;
    if diff_ids.len() != f.layers.len() {
        return Err(bad(&f.config, "layer count differs from rootfs.diff_ids"));
    }
    let mut pending: Vec<Pending> = Vec::new();
    let mut layers = Vec::new();
    p.layers = f.layers.len();
    for (i, ((name, blob_hex), diff)) in f.layers.iter().zip(&diff_ids).enumerate() {
        p.layer = i + 1;
        let (_, want) = blob_path(diff)?;
        layers.push(want.clone());
        if images.has_layer(&want) || pending.iter().any(|x| x.diff_id == want) {
            continue;
        }
        // A gzip or zstd blob is hashed twice (compressed: its digest;
        // plain: the diff_id); a plain one once, its digest being its diff_id.
        let gz = {
            let mut head = [0u8; 4];
            let mut b = ar.blob(name)?;
            let n = b.read(&mut head).unwrap_or(0);
            head[..n].starts_with(&[0x1f, 0x8b]) || head[..n] == [0x28, 0xb5, 0x2f, 0xfd]
        };
        let mut raw = ar.blob(name)?;
        let (got, blob) = if gz {
            let mut tee = Tee::new(&mut raw);
            let got = {
                let mut plain = super::gzip::plain(&mut tee)?;
                images
                    .extract_layer(&mut *plain, Some(&mut *p))
                    .map_err(|e| plain.explain(e))?
            };
            tee.drain()?;
            (got, tee.finish().0)
        } else {
            let mut plain = super::gzip::plain(&mut raw)?;
            let got = images
                .extract_layer(&mut *plain, Some(&mut *p))
                .map_err(|e| plain.explain(e))?;
            let d = got.diff_id.clone();
            (got, d)
        };
        if let Some(h) = blob_hex
            && *h != blob
        {
            return Err(bad(
                name,
                format!("digest mismatch: sha256:{h} expected, sha256:{blob} read"),
            ));
        }
        if got.diff_id != want {
            return Err(bad(
                name,
                format!(
                    "diff_id mismatch: sha256:{want} expected, sha256:{} read",
                    got.diff_id
                ),
            ));
        }
        crate::rt::crash::step("load: layer extracted");
        pending.push(got);
    }
    // Under the lock: no rmi can take a reused layer away in between.
    let _l = images.lock()?;
    for l in &layers {
        if !images.has_layer(l) && !pending.iter().any(|x| x.diff_id == *l) {
            return Err(bad(l, "layer removed by a concurrent rmi; load again"));
        }
    }
    for x in pending {
        x.commit()?;
        crate::rt::crash::step("load: layer committed");
    }
    let size = layers.iter().map(|l| images.layer_size(l)).sum();
    let img = images.put(&cb, layers, size)?;
    crate::rt::crash::step("load: image stored");
    for t in &tags {
        images.tag(t, &img.id)?;
        crate::rt::crash::step("load: tagged");
    }
    Ok(Loaded { id: img.id, tags })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn hex(b: &[u8]) -> String {
        String::from(&digest::of(b)[7..])
    }

    /// Mutated manifest.json (docker-archive) and index.json (OCI layout)
    /// over a layout directory holding a config, a manifest and a nested
    /// index: whatever they say, the images found name blobs by digest.
    #[test]
    fn hostile_load_manifests() {
        let shm = Path::new("/dev/shm");
        let base = match shm.is_dir() {
            true => shm.to_path_buf(),
            false => std::env::temp_dir(),
        };
        let dir = base.join(format!("pocket-load-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
        let put = |b: &[u8]| {
            let h = hex(b);
            std::fs::write(dir.join("blobs/sha256").join(&h), b).unwrap();
            h
        };
        let config = put(
            br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#,
        );
        let manifest = put(format!(
            r#"{{"schemaVersion":2,"config":{{"digest":"sha256:{config}","size":1}},"layers":[{{"digest":"sha256:{config}"}},{{"digest":"sha256:{config}"}}]}}"#
        ).as_bytes());
        let index = put(format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{manifest}","platform":{{"architecture":"amd64","os":"linux"}},"annotations":{{"org.opencontainers.image.ref.name":"1.0"}}}}]}}"#
        ).as_bytes());
        let corpus: Vec<Vec<u8>> = [
            format!(
                r#"{{"manifests":[{{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:{index}","annotations":{{"io.containerd.image.name":"docker.io/library/x:1"}}}}]}}"#
            ),
            format!(
                r#"{{"manifests":[{{"digest":"sha256:{manifest}","platform":{{"architecture":"arm64","os":"linux"}}}},{{"digest":"sha256:{manifest}","annotations":{{"org.opencontainers.image.ref.name":"reg.io/a:b"}}}}]}}"#
            ),
            format!(
                r#"[{{"Config":"{config}.json","RepoTags":["x:1","y"],"Layers":["abc/layer.tar","blobs/sha256/{config}"]}},{{"Config":"blobs/sha256/{config}","Layers":[]}}]"#
            ),
        ]
        .into_iter()
        .map(String::into_bytes)
        .collect();
        let corpus: Vec<&[u8]> = corpus.iter().map(|v| &v[..]).collect();
        let dict: Vec<Vec<u8>> = [
            format!("sha256:{index}"),
            format!("sha256:{manifest}"),
            format!("sha256:{config}"),
            String::from("\"manifests\":["),
            String::from("\"mediaType\":\"index\","),
            String::from("blobs/"),
        ]
        .into_iter()
        .map(String::into_bytes)
        .collect();
        let dict: Vec<&[u8]> = dict.iter().map(|v| &v[..]).collect();
        // One document under both names.
        let doc = dir.join("manifest.json");
        std::fs::write(&doc, b"").unwrap();
        std::fs::hard_link(&doc, dir.join("index.json")).unwrap();
        let images = Images::new(dir.to_str().unwrap());
        let mut p = Progress::quiet("load");
        let ar = Archive::open(dir.to_str().unwrap(), &images, &mut p).unwrap();
        let blob = |p: &str, h: &Option<String>| {
            let h = h.as_deref().expect("a blob without its digest");
            assert!(is_hex64(h) && p == format!("blobs/sha256/{h}"), "{p}");
        };
        crate::rt::fuzz::run(
            "load manifests",
            &corpus,
            &dict,
            std::time::Duration::from_secs(60),
            |b| {
                std::fs::write(&doc, b).unwrap();
                let mut errs = Vec::new();
                match docker_archive(&ar) {
                    Ok(found) => {
                        for f in found {
                            if let Some(h) = &f.config_digest {
                                assert!(is_hex64(h) && f.config.contains(h.as_str()));
                            }
                            // The digest a name carries is its last part's.
                            for (l, h) in &f.layers {
                                if let Some(h) = h {
                                    assert!(l.starts_with("blobs/") && is_hex64(h));
                                    assert!(l.rsplit('/').next().unwrap().starts_with(h.as_str()));
                                }
                            }
                        }
                    }
                    Err(e) => errs.push(format!("{e}")),
                }
                match oci_layout(&ar) {
                    Ok(found) => {
                        for f in found {
                            blob(&f.config, &f.config_digest);
                            for (l, h) in &f.layers {
                                blob(l, h);
                            }
                            assert!(f.tags.len() <= 1);
                        }
                    }
                    Err(e) => errs.push(format!("{e}")),
                }
                // A refusal of more than one line first.
                errs.sort_by_key(|e| !e.trim_end().contains('\n'));
                errs.into_iter().next().map_or(Ok(()), Err)
            },
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
