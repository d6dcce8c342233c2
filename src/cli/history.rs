//! `pocket history IMAGE` (`image history`): docker's table of how an
//! image was made, newest step first, from its config's `history`: each
//! step that made a layer (not `empty_layer`) matched with the next of the
//! image's layers for its size. The top step names the image; the ones
//! below are `<missing>` (pocket keeps no parent images: docker's
//! containerd store shows the same, its classic one a local parent's id).

use super::Ctx;
use super::args::{Flag, flag, text};
use crate::error::{Error, Result};
use crate::image::store::{Image, Images};
use crate::json::Value;
use crate::rt::time;
use crate::rt::units::human_size;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

const FLAGS: &[Flag] = &[
    flag(b'H', "human", false),
    flag(0, "no-trunc", false),
    flag(b'q', "quiet", false),
    flag(0, "format", true),
    flag(0, "help", false),
];

const COLUMNS: super::format::Columns = super::format::Columns {
    fields: &[
        ("ID", "IMAGE"),
        ("CreatedSince", "CREATED"),
        ("CreatedBy", "CREATED BY"),
        ("Size", "SIZE"),
        ("Comment", "COMMENT"),
        ("CreatedAt", "CREATED AT"),
    ],
    default: &["ID", "CreatedSince", "CreatedBy", "Size", "Comment"],
};

/// One step: when, by what, its layer's size (None: no layer), comment.
struct Step {
    created: Option<time::Timestamp>,
    created_by: String,
    size: Option<u64>,
    comment: String,
}

/// The image's steps, oldest first (`Images::history`: every layer has
/// one), each step that made a layer with that layer's size.
fn steps(images: &Images, img: &Image) -> Vec<Step> {
    let mut layers = img.layers.iter();
    let mut out = Vec::new();
    for h in images.history(img) {
        let s = |k: &str| h.get(k).and_then(Value::str).unwrap_or("");
        let size = match crate::image::store::makes_layer(&h) {
            true => Some(layers.next().map_or(0, |l| images.layer_size(l))),
            false => None,
        };
        out.push(Step {
            created: time::parse_rfc3339(s("created")),
            created_by: String::from(s("created_by")),
            size,
            comment: String::from(s("comment")),
        });
    }
    out
}

pub fn main(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("history", FLAGS, argv)? else {
        return Ok(0);
    };
    let [q] = p.rest[..] else {
        return Err(Error::bad("history", "", "needs exactly one IMAGE"));
    };
    // The last -H wins: `-H=false -H` is human again.
    let human = p.value(FLAGS, "human") != Some(b"false");
    let trunc = !p.on(FLAGS, "no-trunc");
    let fmt = super::format::flag(FLAGS, &p)?;
    let images = Images::new(&ctx.store.root);
    let id = images.resolve(&text(q))?;
    let img = images.get(&id)?;
    let now = time::now();
    let top = match trunc {
        true => String::from(&id[..12.min(id.len())]),
        false => format!("sha256:{id}"),
    };
    let mut rows = Vec::new();
    for (i, s) in steps(&images, &img).iter().rev().enumerate() {
        let id = match i {
            0 => top.clone(),
            _ => String::from("<missing>"),
        };
        if p.on(FLAGS, "quiet") {
            crate::outln!("{id}");
            continue;
        }
        // docker's CreatedAt: RFC 3339 to the second.
        let at = |t: time::Timestamp| time::rfc3339_nano_trimmed(time::Timestamp { nanos: 0, ..t });
        let (since, at) = match (s.created, human) {
            (Some(t), true) => (time::human_ago(t, now), at(t)),
            (Some(t), false) => (at(t), at(t)),
            (None, _) => (String::from("N/A"), String::new()),
        };
        let by = s.created_by.replace('\t', " ");
        let size = s.size.unwrap_or(0);
        rows.push(alloc::vec![
            id,
            since,
            if trunc {
                super::table::ellipsis(&by, 45)
            } else {
                by
            },
            if human {
                human_size(size, 3)
            } else {
                format!("{size}")
            },
            s.comment.clone(),
            at,
        ]);
    }
    if !p.on(FLAGS, "quiet") {
        COLUMNS.print(fmt.as_ref(), &rows)?;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ellipsis_as_docker() {
        use super::super::table::ellipsis;
        assert_eq!(ellipsis("short", 45), "short");
        let long = "/bin/sh -c #(nop) ADD file:6d5b8f5f0f7e3c3b in / with more";
        let e = ellipsis(long, 45);
        assert_eq!(e.chars().count(), 45);
        assert!(e.ends_with("…") && long.starts_with(e.trim_end_matches('…')));
    }
}
