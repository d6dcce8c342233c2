//! `pocket save`: images as a docker-archive, what `docker save` writes
//! and `docker load` / `skopeo copy docker-archive:` read:
//!
//! ```text
//! manifest.json    [{"Config": "<hex>.json", "RepoTags": [..], "Layers": ["<hex>/layer.tar", ..]}]
//! <hex>.json       the image config (docker / OCI image-config JSON)
//! <hex>/layer.tar  each layer, an uncompressed tar
//! ```
//!
//! pocket keeps layers extracted, with the tar each came as recorded
//! without its files' data (image::split): a layer is written again as
//! that very tar, its headers from the record and its data from the
//! files, whose sha256 is the diff_id it is stored under; so the config
//! is the image's own, byte for byte, and the image keeps its id, as
//! docker's. A layer with no record (stored before there were any), or
//! whose files no longer make that tar, is written anew from its
//! directory (whiteouts in OCI form; pocket's writer is deterministic, so
//! layers pocket made come out the same) and the config gets the new
//! digests. The manifest and each tar header need a layer's digest and
//! size before its bytes, so every layer is read twice: once to measure
//! it, once to write it.

use super::Ctx;
use super::args::text;
use super::args::{Flag, flag};
use super::image_out::{Output, view_dir};
use crate::error::{Error, Result};
use crate::image::digest;
use crate::image::progress::Progress;
use crate::image::store::{self, Image, Images};
use crate::image::tar::{Entry, Kind};
use crate::image::tar_write::{self, Digest, Opts, Sink, Writer};
use crate::json::{self, Value};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::Cell;

const OCI: Opts = Opts {
    oci_whiteouts: true,
};

/// Counts bytes into the progress display on their way to `inner`.
struct Shown<'a> {
    inner: Option<&'a mut dyn Sink>,
    p: Progress,
    layer: &'a Cell<usize>,
}

impl Sink for Shown<'_> {
    fn put(&mut self, b: &[u8]) -> Result<()> {
        self.p.layer = self.layer.get();
        self.p.add(b.len() as u64);
        match self.inner.as_deref_mut() {
            Some(s) => s.put(b),
            None => Ok(()),
        }
    }
}

/// A nested archive: the bytes become the current entry's data.
struct Member<'w, 'a>(&'w mut Writer<'a>);

impl Sink for Member<'_, '_> {
    fn put(&mut self, b: &[u8]) -> Result<()> {
        self.0.data(b)
    }
}

fn member(path: String, kind: Kind, size: u64) -> Entry {
    Entry {
        path: path.into_bytes(),
        kind,
        mode: if kind == Kind::Dir { 0o755 } else { 0o644 },
        uid: 0,
        gid: 0,
        mtime: (0, 0),
        size,
        link: Vec::new(),
        major: 0,
        minor: 0,
        xattrs: Vec::new(),
    }
}

const FLAGS: &[Flag] = &[flag(b'o', "output", true), flag(0, "help", false)];

pub fn main(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("save", FLAGS, argv)? else {
        return Ok(0);
    };
    if p.rest.is_empty() {
        return Err(Error::bad("save", "", "needs at least one image"));
    }
    let images = Images::new(&ctx.store.root);
    // Every image is found before anything is written.
    let tags = images.tags();
    let mut sel: Vec<(Image, Vec<String>)> = Vec::new();
    for q in &p.rest {
        let q = text(q);
        let id = images.resolve(&q)?;
        let tag = store::normalize(&q)
            .ok()
            .filter(|t| tags.iter().any(|(n, i)| n == t && *i == id));
        match sel.iter_mut().find(|(i, _)| i.id == id) {
            Some((_, t)) => t.extend(tag.filter(|x| !t.contains(x))),
            None => sel.push((images.get(&id)?, tag.into_iter().collect())),
        }
    }
    let mut out = Output::open("save", p.value(FLAGS, "output"))?;
    let mut layers: Vec<String> = Vec::new();
    for l in sel.iter().flat_map(|(i, _)| &i.layers) {
        if !layers.contains(l) {
            layers.push(l.clone());
        }
    }
    let at = Cell::new(0);
    // Pass 1: each layer's tar measured, (hex, size).
    let mut made: Vec<(String, u64)> = Vec::with_capacity(layers.len());
    let mut shown = Shown {
        inner: None,
        p: Progress::new("Reading"),
        layer: &at,
    };
    shown.p.layers = layers.len();
    // Where the tar the layer came as can be written again (its split
    // replays to its diff_id), that: the image keeps its config and id.
    let mut as_came: Vec<bool> = Vec::with_capacity(layers.len());
    for (i, l) in layers.iter().enumerate() {
        at.set(i + 1);
        let same = replays_as_came(&images, l);
        match same {
            true => made.push((l.clone(), images.layer_size(l))),
            false => {
                let mut d = Digest::new(Some(&mut shown));
                write_layer(&images, l, false, &mut d)?;
                made.push(d.finish());
            }
        }
        as_came.push(same);
    }
    shown.p.done();
    let remade = |l: &String| &made[layers.iter().position(|x| x == l).unwrap_or(0)];
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut manifest = Vec::new();
    for (img, tags) in &sel {
        let ids: Vec<String> = img.layers.iter().map(|l| remade(l).0.clone()).collect();
        let doc = images.config_doc(img, &ids);
        let name = format!("{}.json", digest::of(&doc).trim_start_matches("sha256:"));
        let paths: Vec<String> = ids.iter().map(|d| format!("{d}/layer.tar")).collect();
        manifest.push(json::obj!(
            ("Config", Some(json::str(&name))),
            (
                "RepoTags",
                Some(match tags.is_empty() {
                    true => Value::Null,
                    false => json::strs(tags),
                })
            ),
            ("Layers", Some(json::strs(&paths))),
        ));
        if !files.iter().any(|(n, _)| *n == name) {
            files.push((name, doc));
        }
    }
    let m = json::compact(&Value::Arr(manifest));
    // The manifest first: a reader of a stream knows what comes.
    files.insert(0, (String::from("manifest.json"), m.into_bytes()));

    // Pass 2: the archive.
    let mut shown = Shown {
        inner: Some(&mut out),
        p: Progress::new("Saving"),
        layer: &at,
    };
    shown.p.layers = layers.len();
    at.set(0);
    let mut w = Writer::new(&mut shown);
    for (name, data) in &files {
        w.append(&member(name.clone(), Kind::File, data.len() as u64))?;
        w.data(data)?;
    }
    let mut written: Vec<&str> = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        at.set(i + 1);
        let (hex, size) = &made[i];
        if written.contains(&hex.as_str()) {
            continue;
        }
        written.push(hex);
        w.append(&member(format!("{hex}/"), Kind::Dir, 0))?;
        w.append(&member(format!("{hex}/layer.tar"), Kind::File, *size))?;
        let mut into = Member(&mut w);
        let mut d = Digest::new(Some(&mut into));
        write_layer(&images, l, as_came[i], &mut d)?;
        if d.finish() != (hex.clone(), *size) {
            return Err(Error::bad(
                "save",
                l.clone(),
                "the layer changed while being saved",
            ));
        }
    }
    w.finish()?;
    shown.p.done();
    out.done()?;
    Ok(0)
}

/// Layer `l` as a tar into `sink`: the tar it came as, from its split and
/// its files (`as_came`), or one written anew from its directory.
pub fn write_layer(images: &Images, l: &str, as_came: bool, sink: &mut dyn Sink) -> Result<()> {
    if !as_came {
        let v = view_dir(images.layer_dir(l).as_bytes())?;
        return tar_write::write_tree(&v, sink, &OCI).map(drop);
    }
    // The split first: a layer without one costs no view.
    let path = format!("{}.split", images.layer_dir(l));
    let c = crate::error::cpath(&path)?;
    let f = crate::sys::fd::open(&c, libc::O_RDONLY | libc::O_CLOEXEC, 0)
        .map_err(|e| Error::sys("open", path, e))?;
    let v = view_dir(images.layer_dir(l).as_bytes())?;
    crate::image::split::replay(f, &v, sink, images.layer_size(l))
}

/// Whether layer `l`'s split writes the very tar it came as (its sha256 is
/// the diff_id): read through once, nothing kept.
pub fn replays_as_came(images: &Images, l: &str) -> bool {
    let mut d = Digest::new(None);
    write_layer(images, l, true, &mut d).is_ok()
        && d.finish() == (String::from(l), images.layer_size(l))
}
