//! Manifests of the distribution API: OCI image index and manifest,
//! docker's manifest list and image manifest (schema 2). Schema 1 is
//! refused by name (docker dropped it). An index is resolved to the
//! manifest of one platform (the host's unless `--platform` says).

use crate::error::{Error, Result};
use crate::json::{self, Value};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_V2: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_V1: &str = "application/vnd.docker.distribution.manifest.v1";

/// What a manifest request accepts, most wanted first.
pub const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

/// Manifests are small; anything larger is not one.
pub const MAX_MANIFEST: usize = 4 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub arch: String,
    pub variant: Option<String>,
}

impl Platform {
    /// The platform this binary runs on.
    pub fn host() -> Platform {
        let (arch, variant) = match () {
            _ if cfg!(target_arch = "x86_64") => ("amd64", None),
            _ if cfg!(target_arch = "aarch64") => ("arm64", Some("v8")),
            _ if cfg!(target_arch = "x86") => ("386", None),
            _ if cfg!(target_arch = "riscv64") => ("riscv64", None),
            _ if cfg!(target_arch = "s390x") => ("s390x", None),
            _ if cfg!(target_arch = "powerpc64") => ("ppc64le", None),
            _ => ("arm", Some("v7")),
        };
        Platform {
            os: String::from("linux"),
            arch: String::from(arch),
            variant: variant.map(String::from),
        }
    }

    /// `os/arch[/variant]`, as docker's --platform.
    pub fn parse(s: &str) -> Result<Platform> {
        let p: Vec<&str> = s.split('/').collect();
        let ok =
            |x: &str| !x.is_empty() && x.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_');
        if !(2..=3).contains(&p.len()) || !p.iter().all(|x| ok(x)) {
            return Err(Error::bad(
                "--platform",
                String::from(s),
                "want os/arch[/variant], e.g. linux/arm64",
            ));
        }
        Ok(Platform {
            os: p[0].to_ascii_lowercase(),
            arch: p[1].to_ascii_lowercase(),
            variant: p.get(2).map(|v| v.to_ascii_lowercase()),
        })
    }

    pub fn to_text(&self) -> String {
        match &self.variant {
            Some(v) => format!("{}/{}/{v}", self.os, self.arch),
            None => format!("{}/{}", self.os, self.arch),
        }
    }

    /// `have` (an index entry) serves `self` (what is wanted): same os and
    /// architecture; a variant only has to match when wanted, arm64's v8
    /// being the default.
    fn served_by(&self, have: &Platform) -> bool {
        let norm = |p: &Platform| match (p.arch.as_str(), p.variant.as_deref()) {
            ("arm64", None) => Some(String::from("v8")),
            (_, v) => v.map(String::from),
        };
        self.os == have.os
            && self.arch == have.arch
            && (self.variant.is_none() || norm(self) == norm(have))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    pub media_type: String,
    /// `sha256:<hex>`
    pub digest: String,
    pub size: u64,
    pub platform: Option<Platform>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Manifest {
    Index(Vec<Descriptor>),
    Image {
        config: Descriptor,
        layers: Vec<Descriptor>,
    },
}

fn bad(why: impl Into<alloc::borrow::Cow<'static, str>>) -> Error {
    Error::bad("manifest", String::new(), why)
}

fn descriptor(v: &Value) -> Result<Descriptor> {
    let digest = v
        .get("digest")
        .and_then(Value::str)
        .filter(|d| valid_sha256(d))
        .ok_or_else(|| bad("a descriptor without a sha256 digest"))?;
    let platform = v.get("platform").and_then(|p| {
        Some(Platform {
            os: String::from(p.get("os")?.str()?),
            arch: String::from(p.get("architecture")?.str()?),
            variant: p.get("variant").and_then(Value::str).map(String::from),
        })
    });
    Ok(Descriptor {
        media_type: String::from(v.get("mediaType").and_then(Value::str).unwrap_or("")),
        digest: String::from(digest),
        // Required by the spec; a pull trusts no stream beyond it.
        size: v
            .get("size")
            .and_then(Value::u64)
            .ok_or_else(|| bad("a descriptor without a size"))?,
        platform,
    })
}

pub fn valid_sha256(d: &str) -> bool {
    d.strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')))
}

/// A manifest document, typed by its own mediaType, else by the
/// response's Content-Type, else by its shape.
pub fn parse(content_type: Option<&str>, body: &[u8]) -> Result<Manifest> {
    let v = json::parse(body).map_err(|e| bad(format!("not JSON: {e}")))?;
    let ct = content_type.map(|c| c.split(';').next().unwrap_or("").trim());
    let mt = v.get("mediaType").and_then(Value::str).or(ct).unwrap_or("");
    if mt.starts_with(DOCKER_V1) || v.get("schemaVersion").and_then(Value::i64) == Some(1) {
        return Err(bad(
            "image manifest schema 1, which pocket does not support (nor does docker any more); push the image again with a current tool",
        ));
    }
    let is_index = match mt {
        OCI_INDEX | DOCKER_LIST => true,
        OCI_MANIFEST | DOCKER_V2 => false,
        _ => v.get("manifests").is_some(),
    };
    if is_index {
        let list = v
            .get("manifests")
            .and_then(Value::arr)
            .ok_or_else(|| bad("an index without manifests"))?;
        return Ok(Manifest::Index(
            list.iter().map(descriptor).collect::<Result<_>>()?,
        ));
    }
    let config = descriptor(v.get("config").ok_or_else(|| bad("no config"))?)?;
    let layers = v
        .get("layers")
        .and_then(Value::arr)
        .ok_or_else(|| bad("no layers"))?
        .iter()
        .map(descriptor)
        .collect::<Result<Vec<_>>>()?;
    Ok(Manifest::Image { config, layers })
}

/// The entry of an index for `want`.
pub fn choose<'a>(list: &'a [Descriptor], want: &Platform) -> Option<&'a Descriptor> {
    list.iter()
        .find(|d| d.platform.as_ref().is_some_and(|p| want.served_by(p)))
}

/// How a layer blob is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

pub fn compression(media_type: &str) -> Result<Compression> {
    let m = media_type;
    if m.ends_with("+zstd") || m.ends_with(".zstd") {
        Ok(Compression::Zstd)
    } else if m.ends_with("+gzip") || m.ends_with(".gzip") || m.ends_with(".tar.gzip") {
        Ok(Compression::Gzip)
    } else if m.ends_with(".tar") || m == "application/vnd.oci.image.layer.v1.tar" {
        Ok(Compression::None)
    } else if m.is_empty() {
        // Untyped: sniffed from the bytes (gzip magic) by the loader.
        Ok(Compression::Gzip)
    } else {
        Err(bad(format!("layer media type {m} is not a tar layer")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    /// Mutated manifests, image indexes and docker manifest lists under
    /// each media type: what parses holds only sha256 digests, an index
    /// entry chosen is one of its own, a layer's compression is known or
    /// refused on one line.
    #[test]
    fn hostile_manifests() {
        let index = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[{{"mediaType":"{OCI_MANIFEST}","digest":"{A}","size":1,"platform":{{"architecture":"arm64","os":"linux","variant":"v8"}}}},{{"digest":"{B}","size":2,"platform":{{"architecture":"amd64","os":"linux"}}}}]}}"#
        );
        let image = format!(
            r#"{{"schemaVersion":2,"mediaType":"{DOCKER_V2}","config":{{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"{A}","size":3}},"layers":[{{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","digest":"{B}","size":4}},{{"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","digest":"{A}","size":5}}]}}"#
        );
        let corpus: &[&[u8]] = &[
            index.as_bytes(),
            image.as_bytes(),
            br#"{"schemaVersion":1,"fsLayers":[]}"#,
            br#"{"manifests":[]}"#,
        ];
        let types = [
            None,
            Some(OCI_INDEX),
            Some(DOCKER_LIST),
            Some(OCI_MANIFEST),
            Some(DOCKER_V2),
        ];
        let dict: &[&[u8]] = &[
            A.as_bytes(),
            b"sha256:",
            b"\"size\":",
            b"\"mediaType\":",
            b"\"platform\":{",
        ];
        let want = [Platform::host(), Platform::parse("linux/arm64/v8").unwrap()];
        crate::rt::fuzz::run(
            "manifests",
            corpus,
            dict,
            std::time::Duration::from_secs(60),
            |b| {
                let ct = types[b.len() % types.len()];
                match parse(ct, b).map_err(|e| format!("{e}"))? {
                    Manifest::Index(list) => {
                        assert!(list.iter().all(|d| valid_sha256(&d.digest)));
                        for w in &want {
                            if let Some(d) = choose(&list, w) {
                                assert!(list.iter().any(|x| core::ptr::eq(x, d)));
                            }
                        }
                    }
                    Manifest::Image { config, layers } => {
                        assert!(valid_sha256(&config.digest));
                        for l in layers {
                            assert!(valid_sha256(&l.digest));
                            compression(&l.media_type).map_err(|e| format!("{e}"))?;
                        }
                    }
                }
                Ok(())
            },
        );
    }

    #[test]
    fn index_and_platforms() {
        let doc = format!(
            r#"{{"schemaVersion":2,"mediaType":"{DOCKER_LIST}","manifests":[
            {{"mediaType":"{DOCKER_V2}","digest":"{A}","size":1,"platform":{{"architecture":"arm64","os":"linux","variant":"v8"}}}},
            {{"mediaType":"{DOCKER_V2}","digest":"{B}","size":2,"platform":{{"architecture":"amd64","os":"linux"}}}}]}}"#
        );
        let Manifest::Index(l) = parse(None, doc.as_bytes()).unwrap() else {
            panic!()
        };
        assert_eq!(l.len(), 2);
        let amd = Platform::parse("linux/amd64").unwrap();
        assert_eq!(choose(&l, &amd).unwrap().digest, B);
        assert_eq!(
            choose(&l, &Platform::parse("linux/arm64").unwrap())
                .unwrap()
                .digest,
            A
        );
        assert_eq!(
            choose(&l, &Platform::parse("linux/arm64/v8").unwrap())
                .unwrap()
                .digest,
            A
        );
        assert!(choose(&l, &Platform::parse("linux/arm64/v7").unwrap()).is_none());
        assert!(choose(&l, &Platform::parse("linux/s390x").unwrap()).is_none());
        assert!(Platform::parse("linux").is_err());
        assert!(Platform::parse("linux/a/b/c").is_err());
        assert!(Platform::parse("linux//x").is_err());
        assert_eq!(Platform::host().os, "linux");
    }

    #[test]
    fn image_manifests_and_refusals() {
        let doc = format!(
            r#"{{"schemaVersion":2,"config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{A}","size":3}},
            "layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{B}","size":4}}]}}"#
        );
        let m = parse(Some(OCI_MANIFEST), doc.as_bytes()).unwrap();
        let Manifest::Image { config, layers } = m else {
            panic!()
        };
        assert_eq!((config.digest.as_str(), layers[0].size), (A, 4));
        let e = parse(None, br#"{"schemaVersion":1,"fsLayers":[]}"#).unwrap_err();
        assert!(e.to_string().contains("schema 1"), "{e}");
        let e = parse(
            Some("application/vnd.docker.distribution.manifest.v1+prettyjws"),
            b"{}",
        )
        .unwrap_err();
        assert!(e.to_string().contains("schema 1"), "{e}");
        assert!(parse(None, br#"{"config":{"digest":"sha256:12"},"layers":[]}"#).is_err());
        assert!(parse(None, b"[").is_err());
        assert_eq!(
            compression("application/vnd.oci.image.layer.v1.tar+zstd").unwrap(),
            Compression::Zstd
        );
        assert_eq!(
            compression("application/vnd.docker.image.rootfs.diff.tar.gzip").unwrap(),
            Compression::Gzip
        );
        assert_eq!(
            compression("application/vnd.oci.image.layer.v1.tar").unwrap(),
            Compression::None
        );
        assert!(compression("application/x-helm").is_err());
    }
}
