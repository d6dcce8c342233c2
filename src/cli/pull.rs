//! `pocket pull`: an image from a registry into the store.

use super::Ctx;
use super::args::{Flag, flag, text};
use crate::error::{Error, Result};
use crate::registry::{self, manifest::Platform, pull::Pull};
use alloc::string::String;
use alloc::vec::Vec;

pub const PULL_FLAGS: &[Flag] = &[
    flag(0, "platform", true),
    flag(b'q', "quiet", false),
    flag(0, "insecure-registry", true),
    flag(0, "help", false),
];
/// The registry settings of a command's flags (`--insecure-registry`).
pub fn options(ctx: &Ctx, p: &super::args::Parsed, table: &[Flag]) -> registry::Options {
    let insecure: Vec<String> = p
        .flags
        .iter()
        .filter(|&&(k, _)| table[k].long == "insecure-registry")
        .map(|&(_, v)| text(v))
        .collect();
    registry::Options::from_env(ctx.args, insecure)
}

pub fn main(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("pull", PULL_FLAGS, argv)? else {
        return Ok(0);
    };
    let [q] = p.rest[..] else {
        return Err(Error::bad(
            "pull",
            "",
            "requires exactly 1 argument: NAME[:TAG|@DIGEST]",
        ));
    };
    let platform = p
        .value(PULL_FLAGS, "platform")
        .map(|v| Platform::parse(&text(v)))
        .transpose()?;
    let images = super::images::store(ctx)?;
    let o = Pull {
        platform,
        quiet: p.on(PULL_FLAGS, "quiet"),
        to_stderr: false,
        registry: options(ctx, &p, PULL_FLAGS),
    };
    registry::pull::pull(&images, &text(q), &o)?;
    Ok(0)
}
