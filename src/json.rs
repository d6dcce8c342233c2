//! JSON, small: a value tree with a strict parser (RFC 8259: escapes,
//! surrogate pairs, depth limit for hostile input) and a pretty writer.
//!
//! Written here instead of serde + serde_json: pocket's documents are a
//! handful of small objects, and the generic (de)serializers cost more
//! than 100 KB of the static binary. Numbers are kept as their text and
//! read as integers on demand: no float code is linked.

use alloc::string::String;
use alloc::vec::Vec;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Bool(bool),
    /// A number, as written (validated JSON number syntax).
    Num(String),
    Str(String),
    Arr(Vec<Value>),
    /// Members in document order (duplicates: the last one wins in `get`).
    Obj(Vec<(String, Value)>),
}

/// Nesting deeper than this is refused: a hostile document cannot blow
/// the stack.
const MAX_DEPTH: usize = 64;

impl Value {
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Obj(m) => m.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    pub fn str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
    pub fn i64(&self) -> Option<i64> {
        match self {
            Value::Num(n) => n.parse().ok(),
            _ => None,
        }
    }
    pub fn u64(&self) -> Option<u64> {
        match self {
            Value::Num(n) => n.parse().ok(),
            _ => None,
        }
    }
    pub fn arr(&self) -> Option<&[Value]> {
        match self {
            Value::Arr(a) => Some(a),
            _ => None,
        }
    }
    /// An array of strings; None if it is not one.
    pub fn strings(&self) -> Option<Vec<String>> {
        self.arr()?
            .iter()
            .map(|v| v.str().map(String::from))
            .collect()
    }
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

// Building values.

pub fn str(s: &str) -> Value {
    Value::Str(String::from(s))
}

pub fn num(n: impl core::fmt::Display) -> Value {
    Value::Num(alloc::format!("{n}"))
}

pub fn strs<S: AsRef<str>>(v: &[S]) -> Value {
    Value::Arr(v.iter().map(|s| str(s.as_ref())).collect())
}

/// Go's `map[string]struct{}` (ExposedPorts, Volumes): each key to `{}`,
/// sorted as Go writes a map.
pub fn set<S: AsRef<str>>(keys: &[S]) -> Value {
    let mut m: Vec<(String, Value)> = keys
        .iter()
        .map(|k| (String::from(k.as_ref()), Value::Obj(Vec::new())))
        .collect();
    crate::rt::sort_by(&mut m, |a, b| a.0 < b.0);
    Value::Obj(m)
}

/// A string-to-string object (labels): `{"k": "v", ...}` in order.
pub fn pairs(v: &[(String, String)]) -> Value {
    Value::Obj(v.iter().map(|(k, x)| (k.clone(), str(x))).collect())
}

/// An object's string members as (key, value), in order; none if `v` is
/// no object.
pub fn str_pairs(v: Option<&Value>) -> Vec<(String, String)> {
    match v {
        Some(Value::Obj(m)) => m
            .iter()
            .filter_map(|(k, x)| Some((k.clone(), String::from(x.str()?))))
            .collect(),
        _ => Vec::new(),
    }
}

/// `json::obj!(("Id", Some(json::str(id))), ("Size", None), ...)`: an
/// object from (key, value) pairs, the `None` values left out, each pair
/// one call to `member`. (A `vec!` of the pairs handed to `obj` writes
/// each 48-byte pair out inline: ~20 bytes of code more per member, on
/// ~700 members.)
macro_rules! json_obj {
    ($( ($k:expr, $v:expr $(,)?) ),* $(,)?) => {{
        let mut m = ::alloc::vec::Vec::new();
        $( $crate::json::member(&mut m, $k, $v); )*
        $crate::json::Value::Obj(m)
    }};
}
pub(crate) use json_obj as obj;

/// One member of `obj!`'s object, if it has a value.
#[inline(never)]
pub fn member(m: &mut Vec<(String, Value)>, k: &str, v: Option<Value>) {
    if let Some(v) = v {
        m.push((String::from(k), v));
    }
}

/// An object from (key, value) pairs; `None` values are left out.
pub fn obj(members: Vec<(&str, Option<Value>)>) -> Value {
    Value::Obj(
        members
            .into_iter()
            .filter_map(|(k, v)| Some((String::from(k), v?)))
            .collect(),
    )
}

// Parsing.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub at: usize,
    pub what: &'static str,
}

impl core::fmt::Display for ParseError {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        write!(f, "{} at byte {}", self.what, self.at)
    }
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn err<T>(&self, what: &'static str) -> Result<T, ParseError> {
        Err(ParseError { at: self.i, what })
    }
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }
    fn eat(&mut self, lit: &[u8]) -> bool {
        if self.b[self.i..].starts_with(lit) {
            self.i += lit.len();
            true
        } else {
            false
        }
    }
    fn value(&mut self, depth: usize) -> Result<Value, ParseError> {
        if depth > MAX_DEPTH {
            return self.err("nested too deeply");
        }
        self.ws();
        match self.b.get(self.i) {
            None => self.err("unexpected end"),
            Some(b'{') => {
                self.i += 1;
                let mut m = Vec::new();
                self.ws();
                if self.eat(b"}") {
                    return Ok(Value::Obj(m));
                }
                loop {
                    self.ws();
                    if self.b.get(self.i) != Some(&b'"') {
                        return self.err("expected a string key");
                    }
                    let k = self.string()?;
                    self.ws();
                    if !self.eat(b":") {
                        return self.err("expected ':'");
                    }
                    let v = self.value(depth + 1)?;
                    m.push((k, v));
                    self.ws();
                    if self.eat(b",") {
                        continue;
                    }
                    if self.eat(b"}") {
                        return Ok(Value::Obj(m));
                    }
                    return self.err("expected ',' or '}'");
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut a = Vec::new();
                self.ws();
                if self.eat(b"]") {
                    return Ok(Value::Arr(a));
                }
                loop {
                    a.push(self.value(depth + 1)?);
                    self.ws();
                    if self.eat(b",") {
                        continue;
                    }
                    if self.eat(b"]") {
                        return Ok(Value::Arr(a));
                    }
                    return self.err("expected ',' or ']'");
                }
            }
            Some(b'"') => Ok(Value::Str(self.string()?)),
            Some(b't') if self.eat(b"true") => Ok(Value::Bool(true)),
            Some(b'f') if self.eat(b"false") => Ok(Value::Bool(false)),
            Some(b'n') if self.eat(b"null") => Ok(Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => self.err("unexpected character"),
        }
    }
    fn digits(&mut self) -> usize {
        let s = self.i;
        while self.i < self.b.len() && self.b[self.i].is_ascii_digit() {
            self.i += 1;
        }
        self.i - s
    }
    fn number(&mut self) -> Result<Value, ParseError> {
        let s = self.i;
        self.eat(b"-");
        let int_start = self.i;
        let n = self.digits();
        if n == 0 || (n > 1 && self.b[int_start] == b'0') {
            return self.err("bad number");
        }
        if self.eat(b".") && self.digits() == 0 {
            return self.err("bad number");
        }
        if self.i < self.b.len() && matches!(self.b[self.i], b'e' | b'E') {
            self.i += 1;
            if !self.eat(b"+") {
                self.eat(b"-");
            }
            if self.digits() == 0 {
                return self.err("bad number");
            }
        }
        Ok(Value::Num(String::from(
            core::str::from_utf8(&self.b[s..self.i]).unwrap_or("0"),
        )))
    }
    fn hex4(&mut self) -> Result<u32, ParseError> {
        let h = self.b.get(self.i..self.i + 4).ok_or(ParseError {
            at: self.i,
            what: "short \\u escape",
        })?;
        let mut v = 0;
        for &c in h {
            v = v * 16
                + (c as char).to_digit(16).ok_or(ParseError {
                    at: self.i,
                    what: "bad \\u escape",
                })?;
        }
        self.i += 4;
        Ok(v)
    }
    fn string(&mut self) -> Result<String, ParseError> {
        self.i += 1; // the opening quote
        // Most strings hold no escape: copied whole, in one allocation of
        // their size, instead of grown a byte at a time (a config.json's
        // ~250 strings cost ~4 reallocations each that way).
        let rest = &self.b[self.i.min(self.b.len())..];
        let run = rest
            .iter()
            .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
            .unwrap_or(rest.len());
        let mut out: Vec<u8> = Vec::new();
        if rest.get(run) == Some(&b'"') {
            out.extend_from_slice(&rest[..run]);
            self.i += run + 1;
            return String::from_utf8(out).map_err(|_| ParseError {
                at: self.i,
                what: "invalid UTF-8",
            });
        }
        loop {
            let Some(&c) = self.b.get(self.i) else {
                return self.err("unterminated string");
            };
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let Some(&e) = self.b.get(self.i) else {
                        return self.err("unterminated string");
                    };
                    self.i += 1;
                    let ch = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            let cp = if (0xd800..0xdc00).contains(&hi) {
                                // A high surrogate needs its low half.
                                if !self.eat(b"\\u") {
                                    return self.err("lone surrogate");
                                }
                                let lo = self.hex4()?;
                                if !(0xdc00..0xe000).contains(&lo) {
                                    return self.err("lone surrogate");
                                }
                                0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
                            } else if (0xdc00..0xe000).contains(&hi) {
                                return self.err("lone surrogate");
                            } else {
                                hi
                            };
                            char::from_u32(cp).ok_or(ParseError {
                                at: self.i,
                                what: "bad \\u escape",
                            })?
                        }
                        _ => return self.err("bad escape"),
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                0..=0x1f => return self.err("control character in string"),
                c => out.push(c),
            }
        }
        String::from_utf8(out).map_err(|_| ParseError {
            at: self.i,
            what: "invalid UTF-8",
        })
    }
}

/// Parse one JSON document (surrounding whitespace allowed, nothing else).
pub fn parse(b: &[u8]) -> Result<Value, ParseError> {
    let mut p = Parser { b, i: 0 };
    let v = p.value(0)?;
    p.ws();
    if p.i != b.len() {
        return p.err("trailing characters");
    }
    Ok(v)
}

// Writing.

/// Append `s` as a JSON string, quotes included. What needs no escape
/// (all but `"`, `\\` and control bytes; UTF-8 as is) goes in whole runs.
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    let mut plain = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..0x20 => "",
            _ => continue,
        };
        // (Every escaped byte is ASCII: the runs split on char bounds.)
        out.push_str(&s[plain..i]);
        plain = i + 1;
        match esc {
            "" => {
                let _ = core::fmt::Write::write_fmt(out, format_args!("\\u{:04x}", b));
            }
            e => out.push_str(e),
        }
    }
    out.push_str(&s[plain..]);
    out.push('"');
}

fn indent(out: &mut String, n: usize) {
    const SPACES: &str = "\n                                                                ";
    match SPACES.get(..1 + 2 * n) {
        Some(s) => out.push_str(s),
        None => {
            out.push('\n');
            (0..n).for_each(|_| out.push_str("  "));
        }
    }
}

fn write(out: &mut String, v: &Value, depth: usize, pretty: bool) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Num(n) => out.push_str(n),
        Value::Str(s) => write_str(out, s),
        Value::Arr(a) if a.is_empty() => out.push_str("[]"),
        Value::Obj(m) if m.is_empty() => out.push_str("{}"),
        Value::Arr(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if pretty {
                    indent(out, depth + 1);
                }
                write(out, x, depth + 1, pretty);
            }
            if pretty {
                indent(out, depth);
            }
            out.push(']');
        }
        Value::Obj(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if pretty {
                    indent(out, depth + 1);
                }
                write_str(out, k);
                out.push_str(if pretty { ": " } else { ":" });
                write(out, x, depth + 1, pretty);
            }
            if pretty {
                indent(out, depth);
            }
            out.push('}');
        }
    }
}

/// Two-space indented, as `docker inspect` prints.
pub fn pretty(v: &Value) -> String {
    let mut s = String::new();
    write(&mut s, v, 0, true);
    s
}

pub fn compact(v: &Value) -> String {
    let mut s = String::new();
    write(&mut s, v, 0, false);
    s
}

#[cfg(test)]
mod tests {

    /// Hostile input: mutated documents never panic, hang or allocate
    /// without bound, and a refusal is one line; what parses prints back
    /// to something that parses the same.
    #[test]
    fn hostile_json() {
        let corpus: &[&[u8]] = &[
            br#"{"a": [1, -2.5e3, "x\u00e9\n", true, null, {"b": {}}], "c": ""}"#,
            br#"[[[[["deep"]]]], {"k": "v", "k": "dup"}]"#,
            br#"{"schemaVersion": 2, "layers": [{"digest": "sha256:00", "size": 1}]}"#,
            b"  \"\\ud83d\\ude00\"  ",
        ];
        crate::rt::fuzz::run(
            "json",
            corpus,
            &[b"\\u", b"e+", b"{\"", b"[1,"],
            std::time::Duration::from_secs(60),
            |b| match parse(b) {
                Ok(v) => {
                    let again = parse(compact(&v).as_bytes()).map_err(|e| format!("{e}"))?;
                    assert_eq!(again, v, "a parsed document does not print back the same");
                    Ok(())
                }
                Err(e) => Err(format!("{e}")),
            },
        );
    }

    use super::*;

    #[test]
    fn parses_what_others_write() {
        let v = parse(br#" {"a": [1, -2.5e3, true, false, null], "s": "q\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00", "o": {}} "#).unwrap();
        assert_eq!(v.get("a").unwrap().arr().unwrap()[0].i64(), Some(1));
        assert_eq!(
            v.get("a").unwrap().arr().unwrap()[1],
            Value::Num("-2.5e3".into())
        );
        assert_eq!(
            v.get("s").unwrap().str(),
            Some("q\"\\/\u{8}\u{c}\n\r\t\u{e9}\u{1f600}")
        );
        assert_eq!(v.get("o"), Some(&Value::Obj(vec![])));
        assert_eq!(v.get("missing"), None);
    }

    #[test]
    fn strings_with_and_without_escapes_read_alike() {
        // Whole runs (no escape) and escaped ones, and the two mixed: a
        // run ends at a quote, a backslash or a control byte.
        for (doc, want) in [
            (&br#""""#[..], ""),
            ("\"plain é\"".as_bytes(), "plain é"),
            (br#""a\"b""#, "a\"b"),
            (br#""run then \n""#, "run then \n"),
            (br#""\t lead""#, "\t lead"),
            (br#""tail\u00e9""#, "tailé"),
        ] {
            let v = parse(doc).unwrap();
            assert_eq!(v.str(), Some(want), "{}", String::from_utf8_lossy(doc));
        }
        for bad in [
            &b"\"a\tb\""[..],
            b"\"abc",
            b"\"abc\\",
            b"\"ab\xc3\"",
            b"\"\x00\"",
        ] {
            assert!(parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        // Parsing goes on after a whole-run string.
        let v = parse(br#"{"a":"x","b":["y","z\"w"]}"#).unwrap();
        assert_eq!(v.get("a").unwrap().str(), Some("x"));
        assert_eq!(v.get("b").unwrap().arr().unwrap()[1].str(), Some("z\"w"));
    }

    #[test]
    fn refuses_malformed_and_hostile_input() {
        for bad in [
            &b""[..],
            b"{",
            b"[1,]",
            b"{\"a\" 1}",
            b"{\"a\":1,}",
            b"01",
            b"1.",
            b"-",
            b"1e",
            b"\"\\x\"",
            b"\"\\ud800\"",
            b"\"\\udc00\"",
            b"\"a\nb\"",
            b"tru",
            b"{} x",
            b"\"\xff\"",
            b"{1:2}",
            b"\"\\u12\"",
        ] {
            assert!(parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        let deep = "[".repeat(100) + &"]".repeat(100);
        assert!(parse(deep.as_bytes()).is_err());
        let ok = "[".repeat(50) + &"]".repeat(50);
        assert!(parse(ok.as_bytes()).is_ok());
        // Every prefix of a valid document fails cleanly, never panics.
        let doc = br#"{"k": ["v", 1, {"x": null}], "u": "\u00e9"}"#;
        for n in 0..doc.len() {
            assert!(parse(&doc[..n]).is_err());
        }
    }

    #[test]
    fn writes_and_reads_back() {
        let v = obj(vec![
            ("Id", Some(str("abc"))),
            ("Skip", None),
            ("N", Some(num(-7))),
            ("L", Some(strs(&["a\u{1}b", "\"q\""]))),
            ("E", Some(Value::Arr(vec![]))),
        ]);
        let p = pretty(&v);
        assert!(p.contains("\n  \"Id\": \"abc\","), "{p}");
        assert!(p.contains("\"a\\u0001b\""));
        assert!(!p.contains("Skip"));
        assert_eq!(parse(p.as_bytes()).unwrap(), v);
        assert_eq!(
            compact(&v),
            r#"{"Id":"abc","N":-7,"L":["a\u0001b","\"q\""],"E":[]}"#
        );
        assert_eq!(parse(compact(&v).as_bytes()).unwrap(), v);
    }
}
