//! `pocket port CONTAINER [PRIVATE_PORT[/PROTO]]`: its published ports,
//! as docker prints them ("80/tcp -> 0.0.0.0:8080").

use super::Ctx;
use super::args::{flag, text};
use crate::error::{Error, Result};
use crate::net::networks::fmt_ip;
use crate::net::ports;

const HELP: &str = "\
Usage: pocket port CONTAINER [PRIVATE_PORT[/PROTO]]

List a container's published ports, or where one of them is published.
";

pub fn main(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("port", &[flag(0, "help", false)], HELP, argv)? else {
        return Ok(0);
    };
    let (q, want) = match p.rest[..] {
        [q] => (q, None),
        [q, w] => (q, Some(text(w))),
        _ => {
            return Err(Error::bad(
                "port",
                "",
                "needs CONTAINER [PRIVATE_PORT[/PROTO]]",
            ));
        }
    };
    let id = ctx.store.resolve(&text(q))?;
    let mut found = false;
    for m in ports::of(&ctx.store.root, &id)? {
        let private = alloc::format!("{}/{}", m.ctr_port, m.proto.as_str());
        let shown = match &want {
            None => alloc::format!("{private} -> {}:{}", fmt_ip(m.host_ip), m.host_port),
            Some(w) if *w == private || *w == alloc::format!("{}", m.ctr_port) => {
                alloc::format!("{}:{}", fmt_ip(m.host_ip), m.host_port)
            }
            Some(_) => continue,
        };
        found = true;
        crate::outln!("{shown}");
    }
    match want {
        Some(w) if !found => {
            Err(Error::bad("no public port", w, "published for this container").with_code(1))
        }
        _ => Ok(0),
    }
}
