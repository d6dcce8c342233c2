//! The image store, under the pocket root:
//!
//! ```text
//! <root>/images/layers/<hex>/     a layer, extracted, named by the sha256 of
//!                                 its uncompressed tar (the OCI diff_id)
//! <root>/images/layers/<hex>.size  its files' bytes; `.pushed`: the blob
//!                                 push made of it and where it went;
//!                                 `.split`: the tar it came as, without
//!                                 its files' data (image::split)
//! <root>/images/<id>.config       an image's config document as it came;
//!                                 <id> is its sha256 (docker's image id)
//! <root>/images/<id>.json         what pocket reads of it: config, ordered
//!                                 layers, size
//! <root>/images/tags/<name>       a file holding the image id, per tag
//!                                 ("busybox:latest" with '/' as '%')
//! ```
//!
//! Layers are stored once and shared by every image that lists them.
//! Every file is written atomically; tags are claimed under a flock.

use crate::error::cpath as cs;
use crate::error::{Context, Error, Result};
use crate::json::{self, Value};
use crate::rt::time::Timestamp;
use crate::sys::{fd, fs};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// What an image says about how to run it (docker's image config).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    pub env: Vec<String>,
    pub cmd: Vec<String>,
    pub entrypoint: Vec<String>,
    pub working_dir: String,
    pub user: String,
    /// "80/tcp" and the like.
    pub exposed_ports: Vec<String>,
    pub labels: Vec<(String, String)>,
    /// STOPSIGNAL ("SIGQUIT", "3"); empty: SIGTERM.
    pub stop_signal: String,
    /// HEALTHCHECK.
    pub healthcheck: Option<crate::container::health::Check>,
    /// VOLUME paths.
    pub volumes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub id: String,
    pub created: Timestamp,
    pub config: Config,
    /// Bottom first, as sha256 hex.
    pub layers: Vec<String>,
    pub size: u64,
    /// `os/arch[/variant]` from the image's config; empty: the host's.
    pub platform: String,
}

pub struct Images {
    pub dir: String,
    /// Bounds on each layer extracted into the store.
    pub limits: super::limits::Limits,
}

/// A tag name as a file name: `busybox:latest`, `a/b:c` -> `a%b:c`.
fn tag_file(tag: &str) -> String {
    tag.replace('/', "%")
}

/// A reference (docker's grammar, `latest` by default) in the familiar
/// form images are tagged with: `busybox:latest`,
/// `localhost/peer/busybox:latest`, `ghcr.io/org/app:1`. A tag cannot
/// hold a digest.
pub fn normalize(name: &str) -> Result<String> {
    let r = super::reference::Reference::parse(name)?;
    if r.digest.is_some() {
        return Err(Error::text(format!(
            "refusing to create a tag with a digest reference: {name}"
        )));
    }
    Ok(r.familiar())
}

impl Config {
    pub fn to_json(&self) -> Value {
        json::obj!(
            ("Env", Some(json::strs(&self.env))),
            ("Cmd", Some(json::strs(&self.cmd))),
            (
                "Entrypoint",
                (!self.entrypoint.is_empty()).then(|| json::strs(&self.entrypoint))
            ),
            ("WorkingDir", Some(json::str(&self.working_dir))),
            ("User", Some(json::str(&self.user))),
            (
                "ExposedPorts",
                (!self.exposed_ports.is_empty()).then(|| json::set(&self.exposed_ports))
            ),
            (
                "Labels",
                (!self.labels.is_empty()).then(|| { json::pairs(&self.labels) })
            ),
            (
                "StopSignal",
                (!self.stop_signal.is_empty()).then(|| json::str(&self.stop_signal))
            ),
            (
                "Healthcheck",
                self.healthcheck.as_ref().map(|h| h.to_json())
            ),
            (
                "Volumes",
                (!self.volumes.is_empty()).then(|| json::set(&self.volumes))
            ),
        )
    }
    /// Read a docker/OCI image config's `config` object.
    pub fn from_json(v: &Value) -> Config {
        let l = |k: &str| v.get(k).and_then(Value::strings).unwrap_or_default();
        // Go maps (ExposedPorts, Volumes) have no order: sorted, as Go
        // writes them (json::set), so a config reads back as it was.
        let keys = |k: &str| {
            let mut keys: Vec<String> = match v.get(k) {
                Some(Value::Obj(m)) => m.iter().map(|(k, _)| k.clone()).collect(),
                _ => Vec::new(),
            };
            crate::rt::sort_by(&mut keys, |a, b| a < b);
            keys
        };
        let s = |k: &str| {
            v.get(k)
                .and_then(Value::str)
                .map(String::from)
                .unwrap_or_default()
        };
        Config {
            env: l("Env"),
            cmd: l("Cmd"),
            entrypoint: l("Entrypoint"),
            working_dir: s("WorkingDir"),
            user: s("User"),
            exposed_ports: keys("ExposedPorts"),
            labels: json::str_pairs(v.get("Labels")),
            stop_signal: s("StopSignal"),
            healthcheck: v
                .get("Healthcheck")
                .and_then(crate::container::health::Check::from_json),
            volumes: keys("Volumes"),
        }
    }
}

impl Image {
    pub fn to_json(&self) -> Value {
        json::obj!(
            ("created", Some(json::num(self.created.secs))),
            ("config", Some(self.config.to_json())),
            ("layers", Some(json::strs(&self.layers))),
            ("size", Some(json::num(self.size))),
            (
                "platform",
                (!self.platform.is_empty()).then(|| json::str(&self.platform))
            ),
        )
    }
}

impl Images {
    pub fn new(root: &str) -> Images {
        Images {
            dir: format!("{root}/images"),
            limits: super::limits::Limits::DEFAULT,
        }
    }

    pub fn init(&self) -> Result<()> {
        // images/ itself 0700: the layers below keep their archive's modes.
        fs::mkdir_private(&self.dir).ctx("mkdir", &self.dir)?;
        for d in [
            format!("{}/layers", self.dir),
            format!("{}/tags", self.dir),
            format!("{}/tmp", self.dir),
        ] {
            fs::mkdir_all(&d, 0o700).ctx("mkdir", &d)?;
        }
        self.clear_tmp();
        Ok(())
    }

    /// Held while image documents are written or removed, so that `rmi`
    /// cannot delete a layer a concurrent load has just decided to reuse.
    pub fn lock(&self) -> Result<crate::sys::lock::Lock> {
        let p = format!("{}/.lock", self.dir);
        crate::sys::lock::Lock::file(&cs(&p)?).ctx("flock", &p)
    }

    pub fn has_layer(&self, hex: &str) -> bool {
        cs(&self.layer_dir(hex))
            .ok()
            .is_some_and(|c| fd::fstatat(libc::AT_FDCWD, &c, 0).is_ok())
    }

    pub fn layer_dir(&self, hex: &str) -> String {
        format!("{}/layers/{hex}", self.dir)
    }

    /// Store an image: its config document as it came (`<id>.config`,
    /// what push and save hand on) and the document pocket reads
    /// (`<id>.json`, written last: its presence is the image). The id is
    /// the config's sha256, as docker's; `layers` are its diff_ids.
    pub fn put(&self, config_doc: &[u8], layers: Vec<String>, size: u64) -> Result<Image> {
        let cv =
            json::parse(config_doc).map_err(|e| Error::bad("image config", "", format!("{e}")))?;
        let id = super::digest::of(config_doc);
        let img = Image {
            id: String::from(id.trim_start_matches("sha256:")),
            created: cv
                .get("created")
                .and_then(Value::str)
                .and_then(crate::rt::time::parse_rfc3339)
                .unwrap_or(Timestamp { secs: 0, nanos: 0 }),
            config: cv.get("config").map(Config::from_json).unwrap_or_default(),
            layers,
            size,
            platform: Images::platform_of(&cv),
        };
        let dir = cs(&self.dir)?;
        fs::write_atomic(&dir, &format!("{}.config", img.id), config_doc, true)
            .ctx("write image config", &img.id)?;
        let doc = json::pretty(&img.to_json());
        fs::write_atomic(&dir, &format!("{}.json", img.id), doc.as_bytes(), true)
            .ctx("write image", &img.id)?;
        Ok(img)
    }

    /// The image's config document with `diff_ids` as its layers: the one
    /// it came with when they are its own, else that one with only
    /// `rootfs.diff_ids` replaced (an image stored before configs were
    /// kept: one made from what pocket knows of it).
    pub fn config_doc(&self, img: &Image, diff_ids: &[String]) -> Vec<u8> {
        let kept = cs(&format!("{}/{}.config", self.dir, img.id))
            .ok()
            .and_then(|c| fs::read(&c).ok());
        if let Some(b) = &kept
            && img.layers == diff_ids
        {
            return b.clone();
        }
        let ids: Vec<String> = diff_ids.iter().map(|d| format!("sha256:{d}")).collect();
        match kept.and_then(|b| json::parse(&b).ok()) {
            Some(Value::Obj(mut m)) => {
                let rootfs = json::obj!(
                    ("type", Some(json::str("layers"))),
                    ("diff_ids", Some(json::strs(&ids))),
                );
                match m.iter_mut().find(|(k, _)| k == "rootfs") {
                    Some((_, v)) => *v = rootfs,
                    None => m.push((String::from("rootfs"), rootfs)),
                }
                json::compact(&Value::Obj(m)).into_bytes()
            }
            _ => config_document(&img.config, img.created, diff_ids).into_bytes(),
        }
    }

    /// The image's history, oldest first: its config's steps, and one
    /// (dated as the image, by no command) for each layer they do not
    /// account for, so every layer has its step.
    pub fn history(&self, img: &Image) -> Vec<Value> {
        let doc = json::parse(&self.config_doc(img, &img.layers)).ok();
        let mut h = doc
            .as_ref()
            .and_then(|d| d.get("history"))
            .and_then(Value::arr)
            .map(<[Value]>::to_vec)
            .unwrap_or_default();
        let when = crate::rt::time::rfc3339_nano_trimmed(img.created);
        for _ in h.iter().filter(|s| makes_layer(s)).count()..img.layers.len() {
            h.push(history_entry(&when, "", "", ""));
        }
        h
    }

    pub fn get(&self, id: &str) -> Result<Image> {
        let p = format!("{}/{id}.json", self.dir);
        let b = fs::read(&cs(&p)?).map_err(|e| Error::sys("read image", id, e).with_code(1))?;
        let v = json::parse(&b).map_err(|e| Error::bad("image", id, format!("{e}")))?;
        Ok(Image {
            id: String::from(id),
            created: Timestamp {
                secs: v.get("created").and_then(Value::i64).unwrap_or(0),
                nanos: 0,
            },
            config: v.get("config").map(Config::from_json).unwrap_or_default(),
            layers: v.get("layers").and_then(Value::strings).unwrap_or_default(),
            size: v.get("size").and_then(Value::u64).unwrap_or(0),
            platform: String::from(v.get("platform").and_then(Value::str).unwrap_or("")),
        })
    }

    /// `os/arch[/variant]` of an image config document (empty if it says
    /// nothing).
    pub fn platform_of(config: &Value) -> String {
        let (Some(os), Some(arch)) = (
            config.get("os").and_then(Value::str),
            config.get("architecture").and_then(Value::str),
        ) else {
            return String::new();
        };
        match config.get("variant").and_then(Value::str) {
            Some(v) => format!("{os}/{arch}/{v}"),
            None => format!("{os}/{arch}"),
        }
    }

    pub fn tag(&self, tag: &str, id: &str) -> Result<()> {
        let t = normalize(tag)?;
        fs::write_atomic(
            &cs(&format!("{}/tags", self.dir))?,
            &tag_file(&t),
            id.as_bytes(),
            true,
        )
        .ctx("tag", &t)
    }

    pub fn untag(&self, tag: &str) -> Result<()> {
        let t = normalize(tag)?;
        let p = format!("{}/tags/{}", self.dir, tag_file(&t));
        fs::unlinkat(libc::AT_FDCWD, &cs(&p)?, 0)
            .map_err(|e| Error::sys("untag", t, e).with_code(1))
    }

    /// Record that `name_at_digest` (`busybox@sha256:...`, the manifest
    /// digest a registry served) is image `id`.
    pub fn add_digest(&self, name_at_digest: &str, id: &str) -> Result<()> {
        let d = format!("{}/digests", self.dir);
        fs::mkdir_all(&d, 0o700).ctx("mkdir", &d)?;
        fs::write_atomic(&cs(&d)?, &tag_file(name_at_digest), id.as_bytes(), true)
            .ctx("write", name_at_digest)
    }

    /// The image a `name@digest` reference was pulled as.
    pub fn by_digest(&self, name_at_digest: &str) -> Option<String> {
        let p = format!("{}/digests/{}", self.dir, tag_file(name_at_digest));
        let id = fs::read(&cs(&p).ok()?).ok()?;
        Some(String::from_utf8_lossy(&id).trim().into())
    }

    /// (`name@digest`, image id) pairs: what pulls recorded.
    pub fn digests(&self) -> Vec<(String, String)> {
        self.name_files("digests")
    }

    /// The image id tag `t` (normalized) names: its file read, not every
    /// tag's (as `tags` does).
    fn tagged(&self, t: &str) -> Option<String> {
        let f = cs(&format!("{}/tags/{}", self.dir, tag_file(t))).ok()?;
        let id = fs::read(&f).ok()?;
        Some(String::from_utf8_lossy(&id).trim().into())
    }

    /// (tag, image id) pairs.
    pub fn tags(&self) -> Vec<(String, String)> {
        self.name_files("tags")
    }

    /// The files of `tags/` or `digests/`: each named after a reference
    /// ('/' as '%'), holding an image id.
    fn name_files(&self, sub: &str) -> Vec<(String, String)> {
        let d = format!("{}/{sub}", self.dir);
        let Ok(c) = cs(&d) else { return Vec::new() };
        let Ok(f) = fd::open(&c, libc::O_RDONLY | libc::O_DIRECTORY, 0) else {
            return Vec::new();
        };
        let mut out: Vec<(String, String)> = fs::list_dir(&f)
            .unwrap_or_default()
            .into_iter()
            .filter(|e| !e.name.starts_with('.'))
            .filter_map(|e| {
                let id = fs::read(&cs(&format!("{d}/{}", e.name)).ok()?).ok()?;
                Some((
                    e.name.replace('%', "/"),
                    String::from_utf8_lossy(&id).trim().into(),
                ))
            })
            .collect();
        crate::rt::sort_by(&mut out, |a, b| a.0 < b.0);
        out
    }

    /// Every image id.
    pub fn ids(&self) -> Vec<String> {
        let Ok(c) = cs(&self.dir) else {
            return Vec::new();
        };
        let Ok(f) = fd::open(&c, libc::O_RDONLY | libc::O_DIRECTORY, 0) else {
            return Vec::new();
        };
        fs::list_dir(&f)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|e| {
                e.name
                    .strip_suffix(".json")
                    .filter(|n| n.len() == 64)
                    .map(String::from)
            })
            .collect()
    }

    /// An image by tag (NAME[:TAG]), full id, or unique id prefix.
    pub fn resolve(&self, q: &str) -> Result<String> {
        let nf = || {
            Error::bad(
                "no such image",
                q,
                "not found (pocket import or pocket load it first)",
            )
            .with_code(1)
        };
        if let Ok(r) = super::reference::Reference::parse(q)
            && let Some(d) = &r.digest
        {
            return self
                .by_digest(&format!("{}@{d}", r.familiar_name()))
                .filter(|id| self.get(id).is_ok())
                .ok_or_else(nf);
        }
        let by_tag = normalize(q);
        if let Ok(t) = &by_tag
            && let Some(id) = self.tagged(t)
        {
            return Ok(id);
        }
        let q = q.strip_prefix("sha256:").unwrap_or(q);
        if q.len() < 4 || !q.bytes().all(|c| c.is_ascii_hexdigit()) {
            // Neither an id nor a valid reference: say what is wrong with it.
            return Err(by_tag.err().unwrap_or_else(nf));
        }
        let ids = self.ids();
        let mut m = ids.iter().filter(|i| i.starts_with(q));
        match (m.next(), m.next()) {
            (Some(id), None) => Ok(id.clone()),
            (Some(_), Some(_)) => {
                Err(Error::bad("ambiguous image id", q, "more than one image matches").with_code(1))
            }
            _ => Err(nf()),
        }
    }

    /// Remove an image document; layers no other image lists go too.
    pub fn remove(&self, id: &str) -> Result<()> {
        let img = self.get(id)?;
        for (t, i) in self.tags() {
            if i == id {
                let _ = self.untag(&t);
            }
        }
        fs::unlinkat(libc::AT_FDCWD, &cs(&format!("{}/{id}.json", self.dir))?, 0)
            .ctx("remove image", id)?;
        // Its repository digests too: a later image must not inherit them.
        for (d, i) in self.digests() {
            if i == id {
                let f = format!("{}/digests/{}", self.dir, tag_file(&d));
                let _ = fs::unlinkat(libc::AT_FDCWD, &cs(&f)?, 0);
            }
        }
        let _ = fs::unlinkat(
            libc::AT_FDCWD,
            &cs(&format!("{}/{id}.config", self.dir))?,
            0,
        );
        let still: Vec<String> = self
            .ids()
            .iter()
            .filter_map(|i| self.get(i).ok())
            .flat_map(|i| i.layers)
            .collect();
        for l in img.layers {
            if !still.contains(&l) {
                self.drop_layer(&l)?;
            }
        }
        Ok(())
    }
}

/// GOARCH names, as image configs spell the architecture.
const ARCH: &str = if cfg!(target_arch = "x86_64") {
    "amd64"
} else if cfg!(target_arch = "aarch64") {
    "arm64"
} else if cfg!(target_arch = "riscv64") {
    "riscv64"
} else {
    "unknown"
};

/// An image config document (docker's, which OCI's extends) for `c` with
/// layers `diff_ids` (hex, bottom first): compact JSON, whose sha256 is
/// the image's id for docker.
pub fn config_document(c: &Config, created: Timestamp, diff_ids: &[String]) -> String {
    config_document_by(c, created, diff_ids, ("", ""))
}

/// `config_document` with docker's `author` and the last layer's
/// history `comment` (`commit -a -m`, `import -m`), when not empty.
pub fn config_document_by(
    c: &Config,
    created: Timestamp,
    diff_ids: &[String],
    (author, comment): (&str, &str),
) -> String {
    let when = crate::rt::time::rfc3339_nano_trimmed(created);
    let last = diff_ids.len().saturating_sub(1);
    let history = (0..diff_ids.len())
        .map(|i| match i == last {
            // No command made these (docker's import leaves it empty too).
            true => history_entry(&when, "", author, comment),
            false => history_entry(&when, "", "", ""),
        })
        .collect();
    document(c, &when, diff_ids, history, (author, comment))
}

/// Whether a history step made a layer (docker's `empty_layer` unset).
pub fn makes_layer(step: &Value) -> bool {
    step.get("empty_layer") != Some(&Value::Bool(true))
}

/// One entry of a config's `history` (docker's fields; empty ones left out).
pub fn history_entry(when: &str, created_by: &str, author: &str, comment: &str) -> Value {
    let some = |s: &str| (!s.is_empty()).then(|| json::str(s));
    // docker's order (its History struct's); empty_layer goes last.
    json::obj!(
        ("created", Some(json::str(when))),
        ("author", some(author)),
        ("created_by", Some(json::str(created_by))),
        ("comment", some(comment)),
    )
}

/// The diff_id of a layer tar with no entries (1,024 zero bytes): docker's
/// commit makes no layer of it.
pub const EMPTY_TAR: &str = "5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef";

/// An image config document: `c`, created at `when` (RFC 3339), its
/// layers and history as given, docker's top-level author and comment.
pub fn document(
    c: &Config,
    when: &str,
    diff_ids: &[String],
    history: Vec<Value>,
    (author, comment): (&str, &str),
) -> String {
    let ids = diff_ids
        .iter()
        .map(|d| format!("sha256:{d}"))
        .collect::<Vec<_>>();
    json::compact(&json::obj!(
        ("architecture", Some(json::str(ARCH))),
        ("author", (!author.is_empty()).then(|| json::str(author))),
        ("comment", (!comment.is_empty()).then(|| json::str(comment))),
        ("config", Some(c.to_json())),
        ("created", Some(json::str(when))),
        ("history", Some(Value::Arr(history))),
        ("os", Some(json::str("linux"))),
        (
            "rootfs",
            Some(json::obj!(
                ("type", Some(json::str("layers"))),
                ("diff_ids", Some(json::strs(&ids))),
            ))
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        assert_eq!(normalize("busybox").unwrap(), "busybox:latest");
        assert_eq!(normalize("a/b:1.0").unwrap(), "a/b:1.0");
        assert_eq!(normalize("host:5000/a").unwrap(), "host:5000/a:latest");
        assert_eq!(
            normalize("docker.io/library/busybox").unwrap(),
            "busybox:latest"
        );
        assert_eq!(normalize("docker.io/u/x:1").unwrap(), "u/x:1");
        assert_eq!(
            normalize("localhost/peer/busybox").unwrap(),
            "localhost/peer/busybox:latest"
        );
        let d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert!(normalize(&format!("busybox@{d}")).is_err());
        for bad in ["", "../x", "a//b", "-x", "a b", "a/../b", "/abs", "Up"] {
            assert!(normalize(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn stop_signal_from_the_image_config() {
        let v = crate::json::parse(br#"{"Cmd":["sh"],"StopSignal":"SIGQUIT"}"#).unwrap();
        let c = Config::from_json(&v);
        assert_eq!(c.stop_signal, "SIGQUIT");
        assert_eq!(Config::from_json(&c.to_json()), c);
        let none = Config::from_json(&crate::json::parse(br#"{"Cmd":["sh"]}"#).unwrap());
        assert!(none.to_json().get("StopSignal").is_none());
    }

    #[test]
    fn empty_tar_is_the_digest_of_its_end() {
        assert_eq!(
            crate::image::digest::of(&[0u8; 1024]),
            format!("sha256:{EMPTY_TAR}")
        );
    }

    #[test]
    fn store_round_trip() {
        let root = std::env::temp_dir().join(format!("pocket-images-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let s = Images::new(root.to_str().unwrap());
        s.init().unwrap();
        let cfg = Config {
            env: vec!["A=1".into()],
            cmd: vec!["sh".into()],
            ..Default::default()
        };
        let layers = vec!["ab".repeat(32)];
        let doc = config_document(&cfg, crate::rt::time::now(), &layers);
        let img = s.put(doc.as_bytes(), layers.clone(), 10).unwrap();
        assert_eq!(img.id, crate::image::digest::of(doc.as_bytes())[7..]);
        // Its config comes back as it went in, or with other layers.
        assert_eq!(s.config_doc(&img, &layers), doc.as_bytes());
        let other = vec!["cd".repeat(32)];
        let v = crate::json::parse(&s.config_doc(&img, &other)).unwrap();
        let ids = v.get("rootfs").and_then(|r| r.get("diff_ids"));
        assert_eq!(
            ids.and_then(Value::strings),
            Some(vec![format!("sha256:{}", other[0])])
        );
        assert_eq!(v.get("config").map(Config::from_json), Some(cfg.clone()));
        // Its history: a step per layer, one added for a layer the config's
        // steps do not account for (an empty_layer step makes none).
        assert_eq!(s.history(&img).len(), 1);
        let two = vec!["ab".repeat(32), "ef".repeat(32)];
        let short = format!(
            r#"{{"config":{{}},"history":[{{"created_by":"a"}},{{"created_by":"b","empty_layer":true}}],"rootfs":{{"type":"layers","diff_ids":["sha256:{}","sha256:{}"]}}}}"#,
            two[0], two[1]
        );
        let img2 = s.put(short.as_bytes(), two, 20).unwrap();
        let h = s.history(&img2);
        let by: Vec<&str> = h
            .iter()
            .map(|x| x.get("created_by").and_then(Value::str).unwrap_or(""))
            .collect();
        assert_eq!(by, ["a", "b", ""]);
        assert_eq!(h.iter().filter(|x| makes_layer(x)).count(), 2);
        s.tag("t/x", &img.id).unwrap();
        assert_eq!(s.resolve("t/x:latest").unwrap(), img.id);
        assert_eq!(s.resolve(&img.id[..8]).unwrap(), img.id);
        assert_eq!(s.get(&img.id).unwrap().config, cfg);
        assert!(s.resolve("nope").is_err());
        s.remove(&img.id).unwrap();
        assert!(s.resolve("t/x").is_err());
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn hostile_image_config() {
        let corpus: &[&[u8]] = &[
            br#"{"architecture":"amd64","os":"linux","variant":"v8","config":{"Env":["PATH=/bin","A=1"],"Cmd":["sh","-c","echo hi"],"Entrypoint":["/init"],"WorkingDir":"/w","User":"1000:1000","ExposedPorts":{"80/tcp":{},"53/udp":{}},"Labels":{"a":"b","c":""},"StopSignal":"SIGQUIT","Volumes":{"/data":{}},"Healthcheck":{"Test":["CMD-SHELL","true"],"Interval":30000000000,"Retries":3}},"rootfs":{"type":"layers","diff_ids":["sha256:00"]}}"#,
            br#"{"Cmd":null,"Entrypoint":[],"Labels":null,"Healthcheck":{"Test":["NONE"]},"ExposedPorts":[]}"#,
            br#"{"config":{"Env":[1,"x"],"User":5,"Labels":{"k":1,"k":"v"},"Healthcheck":{"Test":"CMD","Retries":4294967297,"Timeout":-1}}}"#,
        ];
        let dict: &[&[u8]] = &[
            b"\"Env\":",
            b"\"Cmd\":",
            b"\"Healthcheck\":{\"Test\":[\"CMD\"],",
            b"\"Retries\":",
            b"\"Labels\":{",
            b"\"ExposedPorts\":{\"1/tcp\":{}}",
            b"\"Volumes\":",
            b"\"config\":",
            b"\"os\":\"linux\"",
        ];
        let created = Timestamp {
            secs: 1_700_000_000,
            nanos: 5,
        };
        crate::rt::fuzz::run(
            "image config",
            corpus,
            dict,
            std::time::Duration::from_secs(60),
            |b| {
                let v = crate::json::parse(b).map_err(|e| format!("{e}"))?;
                let _ = Images::platform_of(&v);
                for x in [Some(&v), v.get("config")].into_iter().flatten() {
                    let c = Config::from_json(x);
                    // What pocket keeps of a config reads back the same,
                    // as a value and through its text.
                    assert_eq!(Config::from_json(&c.to_json()), c);
                    let text = crate::json::compact(&c.to_json());
                    let again = crate::json::parse(text.as_bytes()).unwrap();
                    assert_eq!(Config::from_json(&again), c);
                    // And so does the config document made of it.
                    let ids = v
                        .get("rootfs")
                        .and_then(|r| r.get("diff_ids"))
                        .and_then(Value::strings)
                        .unwrap_or_default();
                    let doc = config_document(&c, created, &ids);
                    let d = crate::json::parse(doc.as_bytes()).unwrap();
                    assert_eq!(d.get("config").map(Config::from_json), Some(c));
                    let back = d.get("rootfs").and_then(|r| r.get("diff_ids"));
                    let want: Vec<String> = ids.iter().map(|i| format!("sha256:{i}")).collect();
                    assert_eq!(back.and_then(Value::strings), Some(want));
                }
                Ok(())
            },
        );
    }
}
