//! `pocket push`: an image of the store into a registry.

use super::Ctx;
use super::args::{Flag, flag, text};
use crate::error::{Error, Result};
use crate::image::reference::Reference;
use crate::image::tar_write::Sink;
use crate::registry::push::{Push, push};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

const FLAGS: &[Flag] = &[
    flag(b'a', "all-tags", false),
    flag(b'q', "quiet", false),
    flag(0, "insecure-registry", true),
    flag(0, "help", false),
];

pub fn main(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("push", FLAGS, argv)? else {
        return Ok(0);
    };
    let [q] = p.rest[..] else {
        return Err(Error::bad(
            "push",
            "",
            "requires exactly 1 argument: NAME[:TAG]",
        ));
    };
    let q = text(q);
    let given = Reference::parse_name_only(&q)?;
    let r = Reference::parse(&q)?;
    if r.digest.is_some() {
        return Err(Error::bad(
            "push",
            q,
            "cannot push a digest reference: tag it first",
        ));
    }
    let all = p.on(FLAGS, "all-tags");
    if all && given.tag.is_some() {
        return Err(Error::bad(
            "push",
            q,
            "tag can't be used with --all-tags/-a",
        ));
    }
    let quiet = p.on(FLAGS, "quiet");
    let images = super::images::store(ctx)?;
    // Each tag to push, with its image.
    let name = r.familiar_name();
    let tags: Vec<(Reference, String)> = match all {
        true => images
            .tags()
            .into_iter()
            .filter_map(|(t, id)| {
                let tr = Reference::parse(&t).ok()?;
                (tr.familiar_name() == name).then_some((tr, id))
            })
            .collect(),
        false => {
            if given.tag.is_none() && !quiet {
                crate::outln!("Using default tag: latest");
            }
            let id = images
                .tags()
                .into_iter()
                .find(|(t, _)| *t == r.familiar())
                .map(|(_, id)| id);
            id.map(|id| alloc::vec![(r.clone(), id)])
                .unwrap_or_default()
        }
    };
    if tags.is_empty() {
        return Err(Error::text(format!(
            "An image does not exist locally with the tag: {name}"
        ))
        .with_code(1));
    }
    let o = Push {
        quiet,
        registry: super::pull::options(ctx, &p, FLAGS),
    };
    for (tr, id) in tags {
        let img = images.get(&id)?;
        // Each layer the tar it came as where its split still makes it
        // (the image keeps its config and id in the registry), else one
        // written anew from its directory.
        let mut write = |hex: &str, sink: &mut dyn Sink| -> Result<()> {
            let as_came = super::save::replays_as_came(&images, hex);
            super::save::write_layer(&images, hex, as_came, sink)
        };
        let done = push(&images, &img, &tr, &o, &mut write)?;
        // As docker: the image now has this repository digest too.
        let _ = images.add_digest(&format!("{name}@{}", done.digest), &img.id);
        if quiet {
            crate::outln!(
                "{}",
                tr.name() + ":" + tr.tag.as_deref().unwrap_or("latest")
            );
        }
    }
    Ok(0)
}
