//! `container|image|volume|network|system prune`, as docker: its warning
//! and `[y/N]` question unless `-f` (read from stdin, so `yes | pocket
//! system prune` works; no answer is no), its `Deleted ...:` lists and
//! `Total reclaimed space: ...` (the bytes the removed files held).

use super::Ctx;
use super::args::{Flag, flag};
use crate::error::{Error, Result};
use crate::net::networks::{self, Nets};
use crate::state::volumes;
use crate::sys::tree::tree_bytes;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

const FLAGS: &[Flag] = &[
    flag(b'f', "force", false),
    flag(b'a', "all", false),
    flag(0, "volumes", false),
    flag(0, "help", false),
];

/// What was removed, and the bytes it held.
#[derive(Default)]
struct Report {
    lines: Vec<String>,
    bytes: u64,
}

impl Report {
    /// `Deleted Containers:` and its lines, then a blank line (docker
    /// prints the list with a trailing newline, then a newline).
    fn show(&self, title: &str) {
        if self.lines.is_empty() {
            return;
        }
        crate::outln!("Deleted {title}:");
        for l in &self.lines {
            crate::outln!("{l}");
        }
        crate::outln!();
    }
}

/// docker's question; true to go on.
fn confirm(warning: &str, force: bool) -> bool {
    if force {
        return true;
    }
    crate::rt::out()
        .bytes(format!("{warning}\nAre you sure you want to continue? [y/N] ").as_bytes());
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    while line.len() < 64 {
        match crate::sys::fd::read(0, &mut b) {
            Ok(1) if b[0] != b'\n' => line.push(b[0]),
            _ => break,
        }
    }
    let a = String::from_utf8_lossy(&line).trim().to_ascii_lowercase();
    a == "y" || a == "yes"
}

fn total(bytes: u64) {
    crate::outln!(
        "Total reclaimed space: {}",
        crate::rt::units::human_size(bytes, 4)
    );
}

/// The bytes the files below `path` hold (0 if it is not there).
pub(super) fn bytes_of(path: &str) -> u64 {
    crate::error::cpath(path)
        .ok()
        .and_then(|c| tree_bytes(libc::AT_FDCWD, &c).ok())
        .unwrap_or(0)
}

fn parse<'a>(cmd: &str, argv: &'a [&'a [u8]]) -> Result<Option<super::args::Parsed<'a>>> {
    let p = super::flags(cmd, FLAGS, argv)?;
    if let Some(p) = &p
        && let Some(x) = p.rest.first()
    {
        return Err(Error::bad(
            String::from(cmd),
            super::args::text(x),
            "takes no arguments",
        ));
    }
    Ok(p)
}

fn containers(ctx: &Ctx) -> Result<Report> {
    ctx.store.init()?;
    // Sizes first: pruned, they are gone.
    let sizes: Vec<(String, u64)> = ctx
        .store
        .list()?
        .into_iter()
        .filter(|r| !r.running())
        .map(|r| {
            let b = bytes_of(&ctx.store.disk_dir(&r.id));
            (r.id, b)
        })
        .collect();
    let gone = crate::container::prune(&ctx.store)?;
    let bytes = sizes
        .iter()
        .filter(|(id, _)| gone.contains(id))
        .map(|(_, b)| b)
        .sum();
    Ok(Report { lines: gone, bytes })
}

/// Images no container uses: without tags only (dangling), or all.
fn images(ctx: &Ctx, all: bool) -> Result<Report> {
    let images = super::images::store(ctx)?;
    // Under the lock from here: a run holds it until its record exists,
    // so no image can gain a user unseen.
    let _l = images.lock()?;
    let used: Vec<String> = ctx
        .store
        .list()?
        .iter()
        .filter_map(|r| ctx.store.spec(&r.id).ok()?.image)
        .collect();
    let tags = images.tags();
    let layers = |ids: &[String]| -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = Vec::new();
        for i in ids {
            for l in images.get(i).map(|i| i.layers).unwrap_or_default() {
                if !v.iter().any(|(x, _)| *x == l) {
                    let n = images.layer_size(&l);
                    v.push((l, n));
                }
            }
        }
        v
    };
    let before = layers(&images.ids());
    let mut rep = Report::default();
    for id in images.ids() {
        let tagged: Vec<&String> = tags.iter().filter(|t| t.1 == id).map(|t| &t.0).collect();
        if used.contains(&id) || (!all && !tagged.is_empty()) {
            continue;
        }
        for t in tagged {
            images.untag(t)?;
            rep.lines.push(format!("untagged: {t}"));
        }
        images.remove(&id)?;
        rep.lines.push(format!("deleted: sha256:{id}"));
    }
    rep.bytes = before
        .iter()
        .filter(|(l, _)| !images.has_layer(l))
        .map(|(_, n)| n)
        .sum();
    // And the layers of pulls that were killed or failed (kept for the
    // next pull to resume): still under the lock, and not while a pull
    // runs.
    rep.bytes += images.drop_orphans()?;
    Ok(rep)
}

/// Volumes no container uses: anonymous ones only (docker 23's default),
/// or all.
fn volumes(ctx: &Ctx, all: bool) -> Result<Report> {
    let mut rep = Report::default();
    for v in volumes::list(&ctx.store.root)? {
        let anonymous = v.name.len() == 64 && v.name.bytes().all(|c| c.is_ascii_hexdigit());
        if !(all || anonymous) || !volumes::users(&ctx.store, &v.name)?.is_empty() {
            continue;
        }
        let b = bytes_of(&volumes::mountpoint(&ctx.store.root, &v.name));
        if volumes::remove(&ctx.store, &v.name).is_ok() {
            rep.lines.push(v.name);
            rep.bytes += b;
        }
    }
    Ok(rep)
}

/// Networks made with `network create` that no container is on.
fn networks(ctx: &Ctx) -> Result<Report> {
    let mut rep = Report::default();
    let list = networks::list(&ctx.store.root)?;
    if list.is_empty() {
        return Ok(rep);
    }
    let nets = Nets::lock(&ctx.store.root, &ctx.store.run)?;
    for n in list {
        if n.name == networks::DEFAULT {
            continue;
        }
        let exists = |c: &str| crate::container::network::on_network(&ctx.store, c, &n.name);
        // One with endpoints is refused, and kept.
        if nets
            .remove(&n.name, exists, crate::net::host::delete_bridge)
            .is_ok()
        {
            rep.lines.push(n.name);
        }
    }
    if !rep.lines.is_empty() {
        crate::net::host::sync(&nets)?;
    }
    // (Veths set aside for an address's next container, whose own
    // namespace something still holds: not listed, as no network is; a
    // failure there leaves them for the next prune.)
    let _ = crate::net::host::delete_retired();
    Ok(rep)
}

pub fn container(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = parse("container prune", argv)? else {
        return Ok(0);
    };
    if !confirm(
        "WARNING! This will remove all stopped containers.",
        p.on(FLAGS, "force"),
    ) {
        return Ok(0);
    }
    let r = containers(ctx)?;
    r.show("Containers");
    total(r.bytes);
    Ok(0)
}

pub fn image(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = parse("image prune", argv)? else {
        return Ok(0);
    };
    let all = p.on(FLAGS, "all");
    let warning = match all {
        true => {
            "WARNING! This will remove all images without at least one container associated to them."
        }
        false => "WARNING! This will remove all dangling images.",
    };
    if !confirm(warning, p.on(FLAGS, "force")) {
        return Ok(0);
    }
    let r = images(ctx, all)?;
    r.show("Images");
    total(r.bytes);
    Ok(0)
}

pub fn volume(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = parse("volume prune", argv)? else {
        return Ok(0);
    };
    if !confirm(
        "WARNING! This will remove anonymous local volumes not used by at least one container.",
        p.on(FLAGS, "force"),
    ) {
        return Ok(0);
    }
    let r = volumes(ctx, p.on(FLAGS, "all"))?;
    r.show("Volumes");
    total(r.bytes);
    Ok(0)
}

pub fn network(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = parse("network prune", argv)? else {
        return Ok(0);
    };
    if !confirm(
        "WARNING! This will remove all custom networks not used by at least one container.",
        p.on(FLAGS, "force"),
    ) {
        return Ok(0);
    }
    networks(ctx)?.show("Networks");
    Ok(0)
}

pub fn system(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = parse("system prune", argv)? else {
        return Ok(0);
    };
    let (all, vols) = (p.on(FLAGS, "all"), p.on(FLAGS, "volumes"));
    let mut warning = String::from(
        "WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n",
    );
    if vols {
        warning.push_str("  - all anonymous volumes not used by at least one container\n");
    }
    warning.push_str(match all {
        true => "  - all images without at least one container associated to them\n",
        false => "  - all dangling images\n",
    });
    if !confirm(&warning, p.on(FLAGS, "force")) {
        return Ok(0);
    }
    let c = containers(ctx)?;
    c.show("Containers");
    networks(ctx)?.show("Networks");
    let v = match vols {
        true => volumes(ctx, false)?,
        false => Report::default(),
    };
    v.show("Volumes");
    let i = images(ctx, all)?;
    i.show("Images");
    total(c.bytes + v.bytes + i.bytes);
    Ok(0)
}
