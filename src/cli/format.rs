//! `--format`, as docker's commands take it: `json` (each item as one
//! JSON line), `table` (the default table), `table TEMPLATE` (a table of
//! the template's columns, with headers), or a Go template run once per
//! item (template.rs).

use super::template::{self, Template};
use crate::error::{Error, Result};
use crate::json::{self, Value};
use alloc::string::String;

pub enum Format {
    Json,
    /// `table` alone: the command's own table.
    Default,
    Template(Template),
}

impl Format {
    pub fn parse(s: &str) -> Result<Format> {
        match s.trim() {
            "json" => Ok(Format::Json),
            "table" | "" => Ok(Format::Default),
            _ => Template::parse(s)
                .map(Format::Template)
                .map_err(|e| Error::text(alloc::format!("template parsing error: {e}"))),
        }
    }

    /// One item, without its newline.
    pub fn one(&self, v: &Value) -> Result<String> {
        match self {
            Format::Json => Ok(json::compact(v)),
            Format::Default => Ok(json::compact(v)),
            Format::Template(t) => t.execute(v).map_err(Error::text),
        }
    }

    /// Every item, one line each (a table: aligned, under headers taken
    /// from `headers`, an object of field name -> column title).
    pub fn rows(&self, items: &[Value], headers: &Value) -> Result<String> {
        match self {
            Format::Template(t) => template::render_rows(t, items, headers).map_err(Error::text),
            _ => {
                let mut out = String::new();
                for v in items {
                    out.push_str(&self.one(v)?);
                    out.push('\n');
                }
                Ok(out)
            }
        }
    }
}

/// The `--format` flag's value among `p`'s flags, parsed.
pub fn flag(table: &[super::args::Flag], p: &super::args::Parsed) -> Result<Option<Format>> {
    match p.value(table, "format") {
        Some(v) => Format::parse(&super::args::text(v)).map(Some),
        None => Ok(None),
    }
}

/// A listing's fields, in docker's names, with their column titles; the
/// ones the plain table shows. Each item is a cell per field, in order.
pub struct Columns<'a> {
    pub fields: &'a [(&'a str, &'a str)],
    pub default: &'a [&'a str],
}

impl Columns<'_> {
    fn object(&self, cells: &[String]) -> Value {
        let mut m: alloc::vec::Vec<(String, Value)> = self
            .fields
            .iter()
            .zip(cells)
            .map(|((f, _), c)| (String::from(*f), Value::Str(c.clone())))
            .collect();
        // docker's --format json: the fields as a Go map, keys sorted.
        crate::rt::sort_by(&mut m, |a, b| a.0 < b.0);
        Value::Obj(m)
    }

    /// Print `items` as the plain table, `--format json`, or a template.
    pub fn print(&self, fmt: Option<&Format>, items: &[alloc::vec::Vec<String>]) -> Result<()> {
        let out = match fmt {
            None | Some(Format::Default) => {
                let idx: alloc::vec::Vec<usize> = self
                    .default
                    .iter()
                    .filter_map(|d| self.fields.iter().position(|(f, _)| f == d))
                    .collect();
                let mut rows = alloc::vec![
                    idx.iter()
                        .map(|&i| String::from(self.fields[i].1))
                        .collect()
                ];
                for it in items {
                    rows.push(
                        idx.iter()
                            .map(|&i| it.get(i).cloned().unwrap_or_default())
                            .collect(),
                    );
                }
                super::table::render(&rows)
            }
            Some(f) => {
                let objs: alloc::vec::Vec<Value> = items.iter().map(|c| self.object(c)).collect();
                let headers = Value::Obj(
                    self.fields
                        .iter()
                        .map(|(f, h)| (String::from(*f), Value::Str(String::from(*h))))
                        .collect(),
                );
                f.rows(&objs, &headers)?
            }
        };
        crate::rt::out().bytes(out.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hostile `--format` values, run over two listing items as `ps`
    /// gives them: refusals (parse or execution) are one line; `json`
    /// prints the compact item; a template's rows are its items' lines.
    #[test]
    fn hostile_format() {
        let corpus: &[&[u8]] = &[
            b"json",
            b"table",
            b"table {{.ID}}\\t{{.Names}}\\t{{.Status}}",
            b"{{.Names}}: {{if eq .State \"running\"}}up{{else}}down{{end}}",
            b"{{range $k, $v := .Labels}}{{$k}}={{$v}},{{end}}",
            b"{{json .}} {{len .Ports}} {{index .Ports 0}} {{join .Ports \", \"}}",
            b"{{printf \"%-10s|%5d\" .ID 42}} {{upper .Image | lower}} {{title .Command}}",
            b"{{with .Missing}}x{{else}}{{truncate .ID 4}}{{end}} {{pad .Names 3}} {{split .Command \" \"}}",
            b"{{- range .Ports -}} {{.}} {{- end}}{{/* c */}}{{println}}",
        ];
        let dict: &[&[u8]] = &[
            b"{{",
            b"}}",
            b"{{end}}",
            b"{{else}}",
            b"{{range .}}",
            b"{{if ",
            b"{{with ",
            b"$x := ",
            b" | ",
            b".Labels",
            b".Ports",
            b"(",
            b")",
            b"\"",
            b"`",
            b"printf",
            b"index",
            b"pad",
        ];
        let item = |id: &str, state: &str, ports: &[&str]| {
            crate::json::parse(
                alloc::format!(
                    r#"{{"ID":"{id}","Image":"busybox:latest","Command":"\"sh -c 'echo'\"","Names":"web","State":"{state}",
                    "Status":"Up 3 hours","Labels":{{"a":"1","b":""}},"Ports":[{}],"Size":12.5,"Nested":{{"x":[1,[2,{{"y":null}}]]}}}}"#,
                    ports
                        .iter()
                        .map(|p| alloc::format!("{p:?}"))
                        .collect::<alloc::vec::Vec<_>>()
                        .join(",")
                )
                .as_bytes(),
            )
            .unwrap()
        };
        let items = [
            item("4f2a9c", "running", &["0.0.0.0:8080->80/tcp", "53/udp"]),
            item("77", "exited", &[]),
        ];
        let headers = crate::json::parse(br#"{"ID":"CONTAINER ID","Names":"NAMES"}"#).unwrap();
        crate::rt::fuzz::run(
            "format",
            corpus,
            dict,
            std::time::Duration::from_secs(60),
            |b| {
                let f = Format::parse(&String::from_utf8_lossy(b))
                    .map_err(|e| alloc::format!("{e}"))?;
                let rows = f.rows(&items, &headers).map_err(|e| alloc::format!("{e}"));
                let mut lines = String::new();
                for v in &items {
                    let one = f.one(v).map_err(|e| alloc::format!("{e}"))?;
                    if let Format::Json = f {
                        assert_eq!(one, json::compact(v));
                    }
                    lines.push_str(&one);
                    lines.push('\n');
                }
                match &f {
                    Format::Template(t) if t.is_table() => {
                        rows?;
                    }
                    _ => assert_eq!(rows?, lines, "rows are not the items' lines"),
                }
                Ok(())
            },
        );
    }
}
