//! `pocket ps`: containers in docker's columns.

use super::args::{Flag, flag};
use super::{Ctx, table};
use crate::error::Result;
use crate::rt::time;
use crate::state::Status;
use alloc::string::String;
use alloc::vec::Vec;

const FLAGS: &[Flag] = &[
    flag(b'a', "all", false),
    flag(b'q', "quiet", false),
    flag(0, "no-trunc", false),
    flag(0, "help", false),
];

const HELP: &str = "\
Usage: pocket ps [OPTIONS]

List containers (running ones; -a for all).

Options:
  -a, --all        Show all containers
  -q, --quiet      Only print ids
      --no-trunc   Do not truncate ids and commands
";

/// docker's COMMAND cell: quoted, cut to 20 characters with an ellipsis.
pub fn command_cell(cmd: &[String], trunc: bool) -> String {
    let s = cmd.join(" ");
    if trunc && s.chars().count() > 20 {
        let cut: String = s.chars().take(19).collect();
        alloc::format!("\"{cut}…\"")
    } else {
        alloc::format!("\"{s}\"")
    }
}

/// docker's "0.0.0.0:8080->80/tcp".
pub fn port_cell(m: &crate::net::ports::Mapping) -> String {
    let h = crate::net::networks::fmt_ip(m.host_ip);
    alloc::format!("{h}:{}->{}/{}", m.host_port, m.ctr_port, m.proto.as_str())
}

pub fn main(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("ps", FLAGS, HELP, argv)? else {
        return Ok(0);
    };
    let on = |name: &str| {
        p.flags
            .iter()
            .any(|&(k, v)| FLAGS[k].long == name && v == b"true")
    };
    let (all, quiet, trunc) = (on("all"), on("quiet"), !on("no-trunc"));
    if let Some(extra) = p.rest.first() {
        return Err(crate::Error::bad(
            "ps",
            String::from_utf8_lossy(extra).into_owned(),
            "takes no arguments",
        ));
    }
    let now = time::now();
    let recs: Vec<_> = ctx
        .store
        .list()?
        .into_iter()
        .map(|r| ctx.store.live(r))
        .filter(|r| all || r.status == Status::Running)
        .collect();
    let mut out = crate::rt::out();
    if quiet {
        for r in &recs {
            out.bytes(if trunc { r.short_id() } else { &r.id }.as_bytes());
            out.bytes(b"\n");
        }
        return Ok(0);
    }
    let mut rows = alloc::vec![
        [
            "CONTAINER ID",
            "IMAGE",
            "COMMAND",
            "CREATED",
            "STATUS",
            "PORTS",
            "NAMES"
        ]
        .iter()
        .map(|s| String::from(*s))
        .collect::<Vec<_>>()
    ];
    // Read once: published ports of every container.
    let maps = crate::net::ports::all(&ctx.store.root).unwrap_or_default();
    for r in &recs {
        let ports: Vec<String> = maps
            .iter()
            .filter(|m| m.container == r.id)
            .map(port_cell)
            .collect();
        rows.push(alloc::vec![
            String::from(if trunc { r.short_id() } else { &r.id }),
            r.image.clone(),
            command_cell(&r.command, trunc),
            time::human_ago(r.created, now),
            r.status_text(now),
            ports.join(", "),
            r.name.clone(),
        ]);
    }
    out.bytes(table::render(&rows).as_bytes());
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::command_cell;

    #[test]
    fn command_is_quoted_and_cut() {
        assert_eq!(
            command_cell(&["sleep".into(), "10".into()], true),
            "\"sleep 10\""
        );
        let long = vec![
            "sh".into(),
            "-c".into(),
            "while true; do echo hi; done".into(),
        ];
        assert_eq!(command_cell(&long, true), "\"sh -c while true; d…\"");
        assert!(command_cell(&long, false).ends_with("done\""));
    }
}
