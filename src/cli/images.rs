//! Image commands: load, import, images, rmi, tag, image inspect.

use super::Ctx;
use super::args::text;
use super::args::{Flag, Parsed, flag};
use super::filter::Filters;
use crate::error::{Error, Result};
use crate::image::archive::Archive;
use crate::image::limits::Limits;
use crate::image::progress::Progress;
use crate::image::store::{Config, Image, Images};
use crate::image::{gzip, load};
use crate::json::{self, Value};
use crate::rt::time;
use crate::sys::{cstr, fd};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

pub fn store(ctx: &Ctx) -> Result<Images> {
    let i = Images::new(&ctx.store.root);
    i.init()?;
    Ok(i)
}

/// Bounds on each layer: the defaults, then $POCKET_MAX_LAYER_SIZE and
/// $POCKET_MAX_LAYER_ENTRIES, then the command's --max-layer-size and
/// --max-layer-entries (load, import and commit have them). 0 lifts a
/// bound.
pub fn layer_limits(ctx: &Ctx, flags: Option<(&[Flag], &Parsed)>) -> Result<Limits> {
    let mut l = Limits::DEFAULT;
    let given = |env: &'static str, flag: &'static str| -> Option<(String, &[u8])> {
        match flags.and_then(|(t, p)| p.value(t, flag)) {
            Some(v) => Some((format!("--{flag}"), v)),
            None => Some((String::from(env), ctx.args.getenv(env.as_bytes())?)),
        }
    };
    let none = |v: u64| if v == 0 { u64::MAX } else { v };
    if let Some((what, v)) = given("POCKET_MAX_LAYER_SIZE", "max-layer-size") {
        let n = core::str::from_utf8(v)
            .ok()
            .and_then(crate::cgroup::flags::parse_bytes)
            .ok_or_else(|| Error::bad(what, text(v), "not a size (bytes, or with k, m, g)"))?;
        l.size = none(n as u64);
    }
    if let Some((what, v)) = given("POCKET_MAX_LAYER_ENTRIES", "max-layer-entries") {
        let n = core::str::from_utf8(v)
            .ok()
            .filter(|s| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()))
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| Error::bad(what, text(v), "not a number of entries"))?;
        l.entries = none(n);
    }
    Ok(l)
}

const LOAD_FLAGS: &[Flag] = &[
    flag(b'i', "input", true),
    flag(b'q', "quiet", false),
    flag(0, "max-layer-size", true),
    flag(0, "max-layer-entries", true),
    flag(0, "help", false),
];
pub fn load_cmd(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("load", LOAD_FLAGS, argv)? else {
        return Ok(0);
    };
    if let Some(x) = p.rest.first() {
        return Err(Error::bad(
            "load",
            text(x),
            "takes no arguments (use -i FILE)",
        ));
    }
    let input = p
        .value(LOAD_FLAGS, "input")
        .map(text)
        .unwrap_or_else(|| "-".into());
    if input == "-" && crate::sys::tty::isatty(0) {
        return Err(Error::bad(
            "load",
            "stdin",
            "is a terminal; give -i FILE or a pipe",
        ));
    }
    let mut images = store(ctx)?;
    images.limits = layer_limits(ctx, Some((LOAD_FLAGS, &p)))?;
    let mut pr = Progress::new("Loading");
    if p.on(LOAD_FLAGS, "quiet") {
        pr = Progress::quiet("Loading");
    }
    let ar = Archive::open(&input, &images, &mut pr)?;
    let loaded = load::load(&images, &ar, &mut pr);
    pr.done();
    for l in loaded? {
        if l.tags.is_empty() {
            crate::outln!("Loaded image ID: sha256:{}", l.id);
        }
        for t in l.tags {
            crate::outln!("Loaded image: {t}");
        }
    }
    Ok(0)
}

/// `config` with each `--change` of `p` applied, in order.
pub fn changed(config: &Config, table: &[Flag], p: &super::args::Parsed) -> Result<Config> {
    let mut c = config.clone();
    let changes: Vec<String> = p
        .flags
        .iter()
        .filter(|&&(k, _)| table[k].long == "change")
        .map(|&(_, v)| text(v))
        .collect();
    crate::image::change::apply_all(&mut c, &changes)?;
    Ok(c)
}

const IMPORT_FLAGS: &[Flag] = &[
    flag(b'c', "change", true),
    flag(b'm', "message", true),
    flag(0, "max-layer-size", true),
    flag(0, "max-layer-entries", true),
    flag(0, "help", false),
];
pub fn import_cmd(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("import", IMPORT_FLAGS, argv)? else {
        return Ok(0);
    };
    let (src, tag) = match p.rest[..] {
        [s] => (text(s), None),
        [s, t] => (text(s), Some(crate::image::store::normalize(&text(t))?)),
        _ => return Err(Error::bad("import", "", "needs FILE|- [NAME[:TAG]]")),
    };
    let config = changed(&Config::default(), IMPORT_FLAGS, &p)?;
    let mut images = store(ctx)?;
    images.limits = layer_limits(ctx, Some((IMPORT_FLAGS, &p)))?;
    let f = if src == "-" {
        fd::Fd::from_raw(fd::dup(0).map_err(|e| Error::sys("dup", "stdin", e))?)
    } else {
        let c = cstr::cstring(src.as_bytes())
            .ok_or_else(|| Error::bad("import", &*src, "contains a NUL byte"))?;
        fd::open(&c, libc::O_RDONLY | libc::O_CLOEXEC, 0)
            .map_err(|e| Error::sys("open", &*src, e))?
    };
    let mut f = f;
    let mut pr = Progress::new("Importing");
    let pending = {
        let mut plain = gzip::plain(&mut f)?;
        images
            .extract_layer(&mut *plain, Some(&mut pr))
            .map_err(|e| plain.explain(e))?
    };
    pr.done();
    let size = pending.size;
    let _l = images.lock()?;
    let layer = pending.commit()?;
    let layers = alloc::vec![layer];
    // docker's default: where it came from (its CLI sends a file as "-").
    let comment = text(
        p.value(IMPORT_FLAGS, "message")
            .unwrap_or(b"Imported from -"),
    );
    let doc =
        crate::image::store::config_document_by(&config, time::now(), &layers, ("", &comment));
    let img = images.put(doc.as_bytes(), layers, size)?;
    if let Some(t) = tag {
        images.tag(&t, &img.id)?;
    }
    crate::outln!("sha256:{}", img.id);
    Ok(0)
}

const IMAGES_FLAGS: &[Flag] = &[
    flag(b'q', "quiet", false),
    flag(0, "no-trunc", false),
    flag(b'a', "all", false),
    flag(0, "digests", false),
    flag(b'f', "filter", true),
    flag(0, "format", true),
    flag(0, "help", false),
];

/// docker's image fields and titles.
const IMAGE_FIELDS: &[(&str, &str)] = &[
    ("Repository", "REPOSITORY"),
    ("Tag", "TAG"),
    ("Digest", "DIGEST"),
    ("ID", "IMAGE ID"),
    ("CreatedSince", "CREATED"),
    ("CreatedAt", "CREATED AT"),
    ("Size", "SIZE"),
];
/// `path.Match` as docker's reference filter uses it: `*` any run and
/// `?` any one character, neither crossing a `/`.
pub fn glob(pat: &[u8], s: &[u8]) -> bool {
    // Iterative, with one backtrack point: the last `*` (O(n*m)).
    let (mut p, mut i) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        match pat.get(p) {
            Some(b'*') => {
                star = Some((p, i));
                p += 1;
                continue;
            }
            Some(b'?') if s[i] != b'/' => {
                p += 1;
                i += 1;
                continue;
            }
            Some(&c) if c != b'?' && c == s[i] => {
                p += 1;
                i += 1;
                continue;
            }
            _ => {}
        }
        // Let the last `*` take one more character (never a '/').
        match star {
            Some((sp, si)) if s[si] != b'/' => {
                star = Some((sp, si + 1));
                p = sp + 1;
                i = si + 1;
            }
            _ => return false,
        }
    }
    pat[p..].iter().all(|&c| c == b'*')
}

/// Does image `img`, with tags `mine`, pass the filters?
fn image_matches(img: &Image, mine: &[&String], fs: &Filters) -> bool {
    fs.pass(&["dangling", "reference", "label"], |key, v| match key {
        "dangling" => (v == "true") == mine.is_empty(),
        "reference" => mine.iter().any(|t| reference(v, t)),
        "label" => super::filter::label(&img.config.labels, v),
        _ => false,
    })
}

/// `reference=PATTERN` against a tag, `repo:tag` or the repository alone.
fn reference(pat: &str, tag: &str) -> bool {
    let (r, _) = split_tag(tag);
    glob(pat.as_bytes(), tag.as_bytes()) || glob(pat.as_bytes(), r.as_bytes())
}

pub fn images_cmd(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("images", IMAGES_FLAGS, argv)? else {
        return Ok(0);
    };
    let (quiet, trunc) = (p.on(IMAGES_FLAGS, "quiet"), !p.on(IMAGES_FLAGS, "no-trunc"));
    // `images [REPOSITORY[:TAG]]`: only that repository (and tag).
    let want = match p.rest[..] {
        [] => None,
        [q] => {
            let r = crate::image::reference::Reference::parse_name_only(&text(q))?;
            Some((r.familiar_name(), r.tag))
        }
        _ => {
            return Err(Error::bad(
                "images",
                "",
                "takes at most one REPOSITORY[:TAG]",
            ));
        }
    };
    let wanted = |repo: &str, tag: &str| {
        want.as_ref()
            .is_none_or(|(r, t)| r == repo && t.as_deref().is_none_or(|t| t == tag))
    };
    let with_digests = p.on(IMAGES_FLAGS, "digests");
    let fs = Filters::parse("images", IMAGES_FLAGS, &p, |key, val| match key {
        "dangling" => val == "true" || val == "false",
        "reference" | "label" => !val.is_empty(),
        _ => false,
    })?;
    let images = Images::new(&ctx.store.root);
    let tags = images.tags();
    let digests = if with_digests {
        images.digests()
    } else {
        Vec::new()
    };
    let mut all: Vec<Image> = images
        .ids()
        .iter()
        .filter_map(|i| images.get(i).ok())
        .collect();
    crate::rt::sort_by(&mut all, |a, b| a.created.secs > b.created.secs);
    let now = time::now();
    let short = |id: &str| {
        if trunc {
            String::from(id.get(..12).unwrap_or(id))
        } else {
            format!("sha256:{id}")
        }
    };
    let fmt = super::format::flag(IMAGES_FLAGS, &p)?;
    let mut rows = Vec::new();
    let mut seen = Vec::new();
    for img in &all {
        let listed = tags.iter().filter(|t| t.1 == img.id).any(|t| {
            let (r, g) = split_tag(&t.0);
            wanted(r, g)
        });
        if want.is_some() && !listed {
            continue;
        }
        let own: Vec<&String> = tags
            .iter()
            .filter(|t| t.1 == img.id)
            .map(|t| &t.0)
            .collect();
        if !image_matches(img, &own, &fs) {
            continue;
        }
        if quiet {
            if !seen.contains(&img.id) {
                crate::outln!("{}", short(&img.id));
                seen.push(img.id.clone());
            }
            continue;
        }
        let mine: Vec<&String> = tags
            .iter()
            .filter(|t| t.1 == img.id)
            .map(|t| &t.0)
            .collect();
        let names: Vec<(String, String)> = if mine.is_empty() {
            alloc::vec![("<none>".into(), "<none>".into())]
        } else {
            mine.iter()
                .map(|t| {
                    let (r, g) = split_tag(t);
                    (String::from(r), String::from(g))
                })
                .collect()
        };
        for (repo, tag) in names {
            if want.is_some() && !wanted(&repo, &tag) {
                continue;
            }
            // Only the matching tags' rows, as docker shows them.
            let full = format!("{repo}:{tag}");
            if !fs.pass(&["reference"], |_, v| reference(v, &full)) {
                continue;
            }
            // The digest this repository's image was pulled by.
            let d = digests
                .iter()
                .find(|(n, id)| *id == img.id && n.split('@').next() == Some(repo.as_str()))
                .and_then(|(n, _)| n.split_once('@'))
                .map_or_else(|| String::from("<none>"), |(_, d)| String::from(d));
            // In IMAGE_COLUMNS' order.
            rows.push(alloc::vec![
                repo.clone(),
                tag,
                d,
                short(&img.id),
                time::human_ago(img.created, now),
                time::docker_date(img.created),
                crate::rt::units::human_size(img.size, 3),
            ]);
        }
    }
    if !quiet {
        let columns = super::format::Columns {
            fields: IMAGE_FIELDS,
            default: if with_digests {
                &["Repository", "Tag", "Digest", "ID", "CreatedSince", "Size"]
            } else {
                &["Repository", "Tag", "ID", "CreatedSince", "Size"]
            },
        };
        columns.print(fmt.as_ref(), &rows)?;
    }
    Ok(0)
}

/// "a/b:c" -> ("a/b", "c"); the tag is after the last ':' past the last '/'.
fn split_tag(t: &str) -> (&str, &str) {
    let slash = t.rfind('/').map_or(0, |i| i + 1);
    match t[slash..].rfind(':') {
        Some(i) => (&t[..slash + i], &t[slash + i + 1..]),
        None => (t, "latest"),
    }
}

/// Containers (in any state) made from `id`.
fn users(ctx: &Ctx, id: &str) -> Vec<String> {
    ctx.store
        .list()
        .unwrap_or_default()
        .into_iter()
        .filter(|r| {
            ctx.store
                .spec(&r.id)
                .is_ok_and(|s| s.image.as_deref() == Some(id))
        })
        .map(|r| r.id)
        .collect()
}

const RMI_FLAGS: &[Flag] = &[flag(b'f', "force", false), flag(0, "help", false)];
pub fn rmi_cmd(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("rmi", RMI_FLAGS, argv)? else {
        return Ok(0);
    };
    if p.rest.is_empty() {
        return Err(Error::bad("rmi", "", "needs at least one IMAGE"));
    }
    let force = p.on(RMI_FLAGS, "force");
    let images = Images::new(&ctx.store.root);
    let mut code = 0;
    for q in &p.rest {
        let q = text(q);
        if let Err(e) = rmi_one(ctx, &images, &q, force) {
            crate::errln!("pocket: {e}");
            code = e.code;
        }
    }
    Ok(code)
}

fn rmi_one(ctx: &Ctx, images: &Images, q: &str, force: bool) -> Result<()> {
    let id = images.resolve(q)?;
    let by_tag = crate::image::store::normalize(q)
        .ok()
        .filter(|t| images.tags().iter().any(|(x, i)| x == t && *i == id));
    let _l = images.lock()?;
    let tags: Vec<String> = images
        .tags()
        .into_iter()
        .filter(|t| t.1 == id)
        .map(|t| t.0)
        .collect();
    if let Some(t) = &by_tag
        && tags.len() > 1
    {
        images.untag(t)?;
        crate::outln!("Untagged: {t}");
        return Ok(());
    }
    if by_tag.is_none() && tags.len() > 1 && !force {
        return Err(Error::bad(
            "conflict: unable to delete image",
            String::from(q),
            "it is referenced in multiple repositories (untag them, or rmi -f)",
        )
        .with_code(1));
    }
    let used = users(ctx, &id);
    if !used.is_empty() && !force {
        return Err(Error::bad(
            "conflict: unable to remove image",
            format!("{q}"),
            format!(
                "in use by container {} (rm it, or rmi -f)",
                used[0].get(..12).unwrap_or(&used[0])
            ),
        )
        .with_code(1));
    }
    if !used.is_empty() {
        // -f with users: docker untags and keeps the image for them.
        for t in &tags {
            images.untag(t)?;
            crate::outln!("Untagged: {t}");
        }
        return Ok(());
    }
    for t in &tags {
        crate::outln!("Untagged: {t}");
    }
    images.remove(&id)?;
    crate::outln!("Deleted: sha256:{id}");
    Ok(())
}

pub fn tag_cmd(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("tag", &[flag(0, "help", false)], argv)? else {
        return Ok(0);
    };
    let [src, dst] = p.rest[..] else {
        return Err(Error::bad("tag", "", "needs SOURCE and TARGET"));
    };
    let images = Images::new(&ctx.store.root);
    let t = crate::image::store::normalize(&text(dst))?;
    images.init()?;
    // Under the lock: an rmi cannot remove the image between the two.
    let _l = images.lock()?;
    let id = images.resolve(&text(src))?;
    images.tag(&t, &id)?;
    Ok(0)
}

/// docker's `image inspect` shape, for what pocket knows.
pub fn inspect_value(images: &Images, img: &Image) -> Value {
    let tags: Vec<String> = images
        .tags()
        .into_iter()
        .filter(|t| t.1 == img.id)
        .map(|t| t.0)
        .collect();
    let repo_digests: Vec<String> = images
        .digests()
        .into_iter()
        .filter(|d| d.1 == img.id)
        .map(|d| d.0)
        .collect();
    let layers: Vec<String> = img.layers.iter().map(|l| format!("sha256:{l}")).collect();
    let host = crate::registry::manifest::Platform::host();
    let mut p = img.platform.split('/');
    let os = String::from(p.next().filter(|s| !s.is_empty()).unwrap_or(&host.os));
    let arch = String::from(p.next().unwrap_or(&host.arch));
    let variant = p.next().map(String::from);
    // docker's Author and Comment: the config document's own fields; a
    // comment only in the last history entry (containerd's store) too.
    let doc = json::parse(&images.config_doc(img, &img.layers)).ok();
    let own = |k: &str| doc.as_ref().and_then(|d| d.get(k)).and_then(Value::str);
    let last = doc
        .as_ref()
        .and_then(|d| d.get("history"))
        .and_then(|h| match h {
            Value::Arr(a) => a.last(),
            _ => None,
        })
        .and_then(|h| h.get("comment"))
        .and_then(Value::str);
    let field = |k: &str| {
        json::str(
            own(k)
                .or(if k == "comment" { last } else { None })
                .unwrap_or(""),
        )
    };
    json::obj!(
        ("Id", Some(json::str(&format!("sha256:{}", img.id)))),
        ("RepoTags", Some(json::strs(&tags))),
        ("RepoDigests", Some(json::strs(&repo_digests))),
        ("Comment", Some(field("comment"))),
        ("Created", Some(json::str(&time::rfc3339(img.created)))),
        ("Author", Some(field("author"))),
        ("Architecture", Some(json::str(&arch))),
        ("Variant", variant.map(|v| json::str(&v))),
        ("Os", Some(json::str(&os))),
        ("Size", Some(json::num(img.size))),
        ("Config", Some(img.config.to_json())),
        (
            "RootFS",
            Some(json::obj!(
                ("Type", Some(json::str("layers"))),
                ("Layers", Some(json::strs(&layers))),
            )),
        ),
    )
}

const INSPECT_FLAGS: &[Flag] = &[flag(b'f', "format", true), flag(0, "help", false)];

/// An image's document, as `image inspect` shows it.
pub fn image_doc(ctx: &Ctx, q: &str) -> Result<Value> {
    let images = Images::new(&ctx.store.root);
    let id = images.resolve(q)?;
    Ok(inspect_value(&images, &images.get(&id)?))
}

pub fn image_inspect(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("image inspect", INSPECT_FLAGS, argv)? else {
        return Ok(0);
    };
    if p.rest.is_empty() {
        return Err(Error::bad("image inspect", "", "needs at least one IMAGE"));
    }
    let fmt = super::format::flag(INSPECT_FLAGS, &p)?;
    super::inspect::inspect_each(&p.rest, fmt.as_ref(), |q| image_doc(ctx, q))
}

#[cfg(test)]
mod filter_tests {
    use super::glob;

    #[test]
    fn globs_as_path_match() {
        assert!(glob(b"busybox", b"busybox"));
        assert!(glob(b"busy*", b"busybox"));
        assert!(glob(b"team/*", b"team/app"));
        assert!(!glob(b"*", b"team/app"), "* does not cross /");
        assert!(glob(b"*/*:1", b"team/app:1"));
        assert!(glob(b"b?sybox", b"busybox"));
        assert!(!glob(b"b?sybox", b"bsybox"));
        assert!(!glob(b"busybox", b"busybox:latest"));
    }
}
