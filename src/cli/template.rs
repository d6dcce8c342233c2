//! Go's text/template, the subset docker's `--format` uses, evaluated over
//! `json::Value`: fields, variables, pipelines, if/with/range, Go's
//! builtins and docker's own functions (json, join, split, upper, ...).
//!
//! The template comes from the command line, so it is hostile input:
//! nesting is bounded (parser and evaluator recurse), an execution has a
//! work budget (nested ranges multiply) and strings and output are capped
//! (printf widths and self-doubling variables grow without end).

use alloc::boxed::Box;
use alloc::format;
use alloc::rc::Rc;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::cmp::Ordering;
use core::iter::repeat_n;

use crate::json::{self, Value};

/// Nesting of blocks and parentheses.
const MAX_DEPTH: usize = 100;
/// Variables in scope at once.
const MAX_VARS: usize = 256;
/// Output, and any string a function builds.
const MAX_OUT: usize = 16 << 20;
/// Work units of one execution: a node, a range item, 64 bytes read or built.
const MAX_STEPS: usize = 1 << 21;
/// docker's table writer: tabwriter.NewWriter(out, 10, 1, 3, ' ', 0).
const MIN_WIDTH: usize = 10;
const PADDING: usize = 3;

const MANY: usize = usize::MAX;

/// The functions' fewest and most arguments; None: no such function.
fn arity(name: &str) -> Option<(usize, usize)> {
    Some(match name {
        "print" | "println" => (0, MANY),
        "and" | "or" | "index" | "printf" => (1, MANY),
        "eq" => (2, MANY),
        "not" | "len" | "json" | "lower" | "upper" | "title" => (1, 1),
        "ne" | "lt" | "le" | "gt" | "ge" | "join" | "split" | "truncate" => (2, 2),
        "pad" => (3, 3),
        _ => return None,
    })
}
/// docker's own functions: its header row runs them as identities.
const DOCKER_FUNCS: &[&str] = &[
    "json", "join", "split", "lower", "upper", "title", "truncate", "pad",
];
const KEYWORDS: &[&str] = &[
    "if", "else", "end", "range", "with", "break", "continue", "define", "template", "block",
];
const WS: &[char] = &[' ', '\t', '\r', '\n'];
static NULL: Value = Value::Null;

pub struct Template {
    nodes: Vec<Node>,
    table: bool,
    /// The text parsed (after `table`), for error positions.
    src: String,
}

enum Node {
    Text(String),
    Action(Pipe),
    If(Pipe, Vec<Node>, Vec<Node>),
    With(Pipe, Vec<Node>, Vec<Node>),
    Range(Pipe, Vec<Node>, Vec<Node>),
    Break,
    Continue,
}

struct Pipe {
    decl: Vec<String>,
    /// `$x = ...` rather than `$x := ...`.
    assign: bool,
    cmds: Vec<Cmd>,
}

struct Cmd {
    pos: usize,
    /// Its source, for execution errors (`at <index .A 9>`).
    text: String,
    args: Vec<Arg>,
}

enum Arg {
    Dot,
    Nil,
    Lit(Rc<Value>),
    Func(String),
    Field(Vec<String>),
    Var(String, Vec<String>),
    Pipe(Box<Pipe>, Vec<String>),
}

// Parsing: one pass over the text, recursive descent inside actions.

fn line(src: &str, pos: usize) -> usize {
    src.bytes().take(pos).filter(|&b| b == b'\n').count() + 1
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// `}}` or ` -}}` at `i`: its length, and whether it trims the text after.
fn close_at(b: &[u8], i: usize) -> Option<(usize, bool)> {
    let r = b.get(i..)?;
    if r.len() >= 4 && is_space(r[0]) && r[1..].starts_with(b"-}}") {
        return Some((4, true));
    }
    r.starts_with(b"}}").then_some((2, false))
}

enum Stop {
    End,
    /// `{{else}}`; true for `{{else if`/`{{else with`, the cursor on the keyword.
    Else(bool),
    Eof,
}

struct Parser<'s> {
    src: &'s str,
    i: usize,
    /// Start of what is being read: errors name its line.
    at: usize,
    /// The last action ended with ` -}}`: trim the text after it.
    trim: bool,
    vars: Vec<String>,
    loops: usize,
    depth: usize,
}

impl<'s> Parser<'s> {
    fn fail(&self, m: impl core::fmt::Display) -> String {
        format!("template: :{}: {m}", line(self.src, self.at))
    }
    fn err<T>(&self, m: impl core::fmt::Display) -> Result<T, String> {
        Err(self.fail(m))
    }
    fn b(&self, k: usize) -> u8 {
        self.src.as_bytes().get(self.i + k).copied().unwrap_or(0)
    }
    /// The identifier at `j`, possibly empty.
    fn word_at(&self, j: usize) -> &'s str {
        let r = self.src.get(j..).unwrap_or("");
        &r[..r
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(r.len())]
    }
    fn word(&self) -> &'s str {
        self.word_at(self.i)
    }
    /// Skip white space, but not that of a ` -}}`; whether there was any.
    fn space(&mut self) -> bool {
        let (b, start) = (self.src.as_bytes(), self.i);
        while self.i < b.len() && is_space(b[self.i]) && close_at(b, self.i).is_none() {
            self.i += 1;
        }
        self.i > start
    }
    fn close(&mut self) -> bool {
        let c = close_at(self.src.as_bytes(), self.i);
        if let Some((n, trim)) = c {
            (self.i, self.trim) = (self.i + n, trim);
        }
        c.is_some()
    }
    /// What is at the cursor, for "unexpected ..." errors.
    fn near(&self) -> String {
        match (self.src[self.i..].chars().next(), self.word()) {
            (None, _) => "EOF".into(),
            (Some(c), "") => format!("\"{c}\""),
            (_, w) if KEYWORDS.contains(&w) => format!("<{w}>"),
            (_, w) => format!("{w:?}"),
        }
    }
    fn expect_close(&mut self, ctx: &str) -> Result<(), String> {
        self.space();
        self.at = self.i;
        if self.close() {
            Ok(())
        } else {
            self.err(format!("unexpected {} in {ctx}", self.near()))
        }
    }
    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.err("max depth exceeded")
        } else {
            Ok(())
        }
    }

    fn list(&mut self) -> Result<(Vec<Node>, Stop), String> {
        let (src, b) = (self.src, self.src.as_bytes());
        let mut nodes = Vec::new();
        loop {
            let open = src[self.i..].find("{{").map_or(src.len(), |k| self.i + k);
            let ltrim =
                b.get(open + 2) == Some(&b'-') && b.get(open + 3).is_some_and(|&c| is_space(c));
            // docker turns a literal \t or \n of the format into the character.
            let text = src[self.i..open].replace("\\t", "\t").replace("\\n", "\n");
            let text = if self.trim {
                text.trim_start_matches(WS)
            } else {
                &text
            };
            let text = if ltrim {
                text.trim_end_matches(WS)
            } else {
                text
            };
            if !text.is_empty() {
                nodes.push(Node::Text(text.into()));
            }
            (self.at, self.trim) = (open, false);
            if open == src.len() {
                return Ok((nodes, Stop::Eof));
            }
            self.i = open + if ltrim { 4 } else { 2 };
            if src[self.i..].starts_with("/*") {
                let Some(k) = src[self.i + 2..].find("*/") else {
                    return self.err("unclosed comment");
                };
                self.i += k + 4;
                if !self.close() {
                    return self.err("comment ends before closing delimiter");
                }
                continue;
            }
            self.space();
            let kw = self.word();
            if !KEYWORDS.contains(&kw) {
                nodes.push(Node::Action(self.pipeline("command", false)?));
                continue;
            }
            self.i += kw.len();
            match kw {
                "if" | "with" | "range" => nodes.push(self.control(kw)?),
                "end" => {
                    self.expect_close(kw)?;
                    return Ok((nodes, Stop::End));
                }
                "else" => {
                    self.space();
                    let chained = matches!(self.word(), "if" | "with");
                    if !chained {
                        self.expect_close(kw)?;
                    }
                    return Ok((nodes, Stop::Else(chained)));
                }
                "break" | "continue" if self.loops > 0 => {
                    self.expect_close(kw)?;
                    nodes.push(if kw == "break" {
                        Node::Break
                    } else {
                        Node::Continue
                    });
                }
                "break" | "continue" => {
                    return self.err(format!("{{{{{kw}}}}} outside {{{{range}}}}"));
                }
                _ => return self.err(format!("{{{{{kw}}}}} is not supported")),
            }
        }
    }

    fn control(&mut self, kw: &str) -> Result<Node, String> {
        self.enter()?;
        let (mark, range) = (self.vars.len(), kw == "range");
        let pipe = self.pipeline(kw, false)?;
        self.loops += range as usize;
        let (body, stop) = self.list()?;
        self.loops -= range as usize;
        let els = match stop {
            Stop::Eof => return self.err("unexpected EOF"),
            Stop::End => Vec::new(),
            // `{{else if p}}` is `{{else}}{{if p}}` sharing the one `{{end}}`.
            Stop::Else(true) if !range && self.word() == kw => {
                self.i += kw.len();
                vec![self.control(kw)?]
            }
            Stop::Else(true) => return self.err(format!("unexpected {} in input", self.near())),
            Stop::Else(false) => match self.list()? {
                (els, Stop::End) => els,
                (_, Stop::Eof) => return self.err("unexpected EOF"),
                (_, Stop::Else(_)) => return self.err("expected end; found {{else}}"),
            },
        };
        self.vars.truncate(mark);
        self.depth -= 1;
        Ok(match kw {
            "if" => Node::If(pipe, body, els),
            "with" => Node::With(pipe, body, els),
            _ => Node::Range(pipe, body, els),
        })
    }

    fn pipeline(&mut self, ctx: &str, paren: bool) -> Result<Pipe, String> {
        self.enter()?;
        let b = self.src.as_bytes();
        let at = |j: usize| b.get(j).copied().unwrap_or(0);
        let skip = |mut j: usize| {
            while is_space(at(j)) {
                j += 1;
            }
            j
        };
        // Declarations: `$x :=`, `$x =`, and range's `$i, $e :=`.
        let (mut decl, mut assign) = (Vec::new(), false);
        loop {
            let j = skip(self.i);
            let v = if at(j) == b'$' {
                &self.src[j..j + 1 + self.word_at(j + 1).len()]
            } else {
                ""
            };
            let k = skip(j + v.len());
            let op = if v.is_empty() {
                (0, 0)
            } else {
                (at(k), at(k + 1))
            };
            match op {
                (b':', b'=') | (b'=', _) => {
                    assign = op.0 == b'=';
                    self.i = k + if assign { 1 } else { 2 };
                    decl.push(String::from(v));
                    break;
                }
                (b',', _) if ctx == "range" && decl.is_empty() => {
                    self.i = k + 1;
                    decl.push(String::from(v));
                }
                (b',', _) => return self.err(format!("too many declarations in {ctx}")),
                _ if !decl.is_empty() => return self.err("range can only initialize variables"),
                _ => break,
            }
        }
        if let Some(v) = decl.iter().find(|v| assign && !self.vars.contains(v)) {
            return self.err(format!("undefined variable {v:?}"));
        }
        let mut cmds = Vec::new();
        loop {
            self.space();
            self.at = self.i;
            match (close_at(b, self.i).is_some(), self.b(0)) {
                (true, _) if !paren => break,
                (_, b')') if paren => break,
                (true, _) => return self.err("unclosed left paren"),
                (_, b')') => return self.err("unexpected right paren"),
                _ if self.i >= b.len() => return self.err("unclosed action"),
                _ => cmds.push(self.command()?),
            }
        }
        if !self.close() {
            self.i += 1; // the `)`
        }
        if cmds.is_empty() {
            return self.err(format!("missing value for {ctx}"));
        }
        if let Some(k) = cmds
            .iter()
            .skip(1)
            .position(|c| matches!(c.args[0], Arg::Lit(_) | Arg::Nil | Arg::Dot))
        {
            return self.err(format!(
                "non executable command in pipeline stage {}",
                k + 2
            ));
        }
        if !assign {
            self.vars.extend(decl.iter().cloned());
        }
        // Variables are looked up by name, in a list: a hostile template may not make it long.
        if self.vars.len() > MAX_VARS {
            return self.err("too many variables");
        }
        self.depth -= 1;
        Ok(Pipe { decl, assign, cmds })
    }

    fn command(&mut self) -> Result<Cmd, String> {
        let pos = self.i;
        let mut args = Vec::new();
        loop {
            args.push(self.operand()?);
            let end = self.i;
            let spaced = self.space();
            self.at = self.i;
            let done = close_at(self.src.as_bytes(), self.i).is_some() || self.b(0) == b')';
            if done || self.b(0) == b'|' {
                self.i += !done as usize;
                return Ok(Cmd {
                    pos,
                    // Go prints a command re-rendered from its parse
                    // tree, white space (line breaks too) one space: an
                    // error naming it stays one line whatever the layout.
                    text: self.src[pos..end]
                        .split(WS)
                        .filter(|w| !w.is_empty())
                        .collect::<Vec<_>>()
                        .join(" "),
                    args,
                });
            }
            if self.i >= self.src.len() {
                return self.err("unclosed action");
            }
            if !spaced {
                return self.err(format!("unexpected {} in operand", self.near()));
            }
        }
    }

    fn operand(&mut self) -> Result<Arg, String> {
        let (src, b, s) = (self.src, self.src.as_bytes(), self.i);
        self.at = s;
        let lit = |v: Value| Arg::Lit(Rc::new(v));
        let mut arg = match self.b(0) {
            b'(' => {
                self.i += 1;
                Arg::Pipe(
                    Box::new(self.pipeline("parenthesized pipeline", true)?),
                    Vec::new(),
                )
            }
            b'"' => {
                let j = quoted_end(b, s).ok_or_else(|| self.fail("unterminated quoted string"))?;
                self.i = j + 1;
                lit(Value::Str(
                    unquote(&src[s + 1..j]).ok_or_else(|| self.fail("invalid syntax"))?,
                ))
            }
            b'`' => {
                let j = src[s + 1..]
                    .find('`')
                    .ok_or_else(|| self.fail("unterminated raw quoted string"))?;
                self.i = s + j + 2;
                lit(Value::Str(src[s + 1..s + 1 + j].replace('\r', "")))
            }
            b'$' => {
                self.i += 1 + self.word_at(s + 1).len();
                let v = String::from(&src[s..self.i]);
                if !self.vars.contains(&v) {
                    return self.err(format!("undefined variable {v:?}"));
                }
                Arg::Var(v, Vec::new())
            }
            b'.' if !self.b(1).is_ascii_digit() => {
                self.i += 1 + self.word_at(s + 1).len();
                if self.i == s + 1 {
                    Arg::Dot
                } else {
                    Arg::Field(vec![src[s + 1..self.i].into()])
                }
            }
            b'0'..=b'9' | b'-' | b'+' | b'.' => {
                self.i = number_end(b, s).ok_or_else(|| self.fail("bad number syntax"))?;
                let t = src[s..self.i].trim_start_matches('+');
                lit(Value::Num(
                    t.parse::<i64>().map_or(t.into(), |n| n.to_string()),
                ))
            }
            _ => match self.word() {
                "" if self.i >= b.len() => return self.err("unclosed action"),
                "" => {
                    let c = src[s..].chars().next().unwrap_or(' ');
                    let m = format!("unrecognized character in action: U+{:04X} '{c}'", c as u32);
                    return self.err(m);
                }
                w => {
                    self.i += w.len();
                    match w {
                        "true" | "false" => lit(Value::Bool(w == "true")),
                        "nil" => Arg::Nil,
                        _ if KEYWORDS.contains(&w) => {
                            return self.err(format!("unexpected <{w}> in operand"));
                        }
                        _ if arity(w).is_some() => Arg::Func(w.into()),
                        _ => return self.err(format!("function {w:?} not defined")),
                    }
                }
            },
        };
        // `.A.B`, `$x.A`, `(pipe).A`: fields written right after the term.
        while self.b(0) == b'.' && !self.word_at(self.i + 1).is_empty() {
            let f = String::from(self.word_at(self.i + 1));
            match &mut arg {
                Arg::Field(p) | Arg::Var(_, p) | Arg::Pipe(_, p) => p.push(f),
                _ => return self.err(format!("unexpected . after term {:?}", &src[s..self.i])),
            }
            self.i += 1 + self.word_at(self.i + 1).len();
        }
        Ok(arg)
    }
}

/// The closing quote of the string opening at `s`.
fn quoted_end(b: &[u8], s: usize) -> Option<usize> {
    let mut j = s + 1;
    loop {
        match *b.get(j)? {
            b'\\' if !matches!(b.get(j + 1), None | Some(b'\n')) => j += 2,
            b'\\' | b'\n' => return None,
            b'"' => return Some(j),
            _ => j += 1,
        }
    }
}

/// Go's escapes; `\x` only as ASCII, a String holds no lone byte.
fn unquote(s: &str) -> Option<String> {
    fn hex(it: &mut core::str::Chars, n: usize) -> Option<char> {
        char::from_u32((0..n).try_fold(0u32, |v, _| Some(v * 16 + it.next()?.to_digit(16)?))?)
    }
    let (mut out, mut it) = (String::new(), s.chars());
    while let Some(c) = it.next() {
        out.push(match (c, if c == '\\' { it.next()? } else { c }) {
            ('\\', 'a') => '\x07',
            ('\\', 'b') => '\x08',
            ('\\', 'f') => '\x0c',
            ('\\', 'n') => '\n',
            ('\\', 'r') => '\r',
            ('\\', 't') => '\t',
            ('\\', 'v') => '\x0b',
            ('\\', e @ ('\\' | '"')) => e,
            ('\\', 'x') => hex(&mut it, 2).filter(char::is_ascii)?,
            ('\\', 'u') => hex(&mut it, 4)?,
            ('\\', 'U') => hex(&mut it, 8)?,
            ('\\', _) => return None,
            (c, _) => c,
        });
    }
    Some(out)
}

fn number_end(b: &[u8], mut i: usize) -> Option<usize> {
    let digits = |i: &mut usize| {
        let s = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - s
    };
    i += matches!(b.get(i), Some(b'+' | b'-')) as usize;
    let mut n = digits(&mut i);
    if b.get(i) == Some(&b'.') {
        i += 1;
        n += digits(&mut i);
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        i += matches!(b.get(i), Some(b'+' | b'-')) as usize;
        n = n.min(digits(&mut i));
    }
    // A number runs into no letter, digit or dot.
    match b.get(i) {
        _ if n == 0 => None,
        Some(&c) if c.is_ascii_alphanumeric() || c == b'.' || c == b'_' || c >= 0x80 => None,
        _ => Some(i),
    }
}

// Execution.

/// A value in evaluation: borrowed from the data, built by the template,
/// or Go's missing map entry (printed `<no value>`).
#[derive(Clone)]
enum V<'a> {
    Missing,
    B(&'a Value),
    O(Rc<Value>),
}

impl V<'_> {
    fn val(&self) -> Option<&Value> {
        match self {
            V::Missing => None,
            V::B(v) => Some(v),
            V::O(v) => Some(v),
        }
    }
}

fn own<'a>(v: Value) -> V<'a> {
    V::O(Rc::new(v))
}

enum Key<'k> {
    Name(&'k str),
    Idx(usize),
}

/// A member or element, borrowed when its container is.
fn sub<'a>(v: &V<'a>, k: Key) -> V<'a> {
    fn pick<'x>(x: &'x Value, k: &Key) -> Option<&'x Value> {
        match (x, k) {
            (Value::Obj(_), Key::Name(n)) => x.get(n),
            (Value::Arr(a), Key::Idx(i)) => a.get(*i),
            _ => None,
        }
    }
    match v {
        V::B(x) => pick(x, &k).map_or(V::Missing, V::B),
        V::O(x) => pick(x, &k).map_or(V::Missing, |e| own(e.clone())),
        V::Missing => V::Missing,
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Flow {
    Go,
    Break,
    Continue,
}

type Items<'a> = Vec<(V<'a>, V<'a>)>;

struct Exec<'a, 't> {
    t: &'t Template,
    vars: Vec<(&'t str, V<'a>)>,
    out: String,
    steps: usize,
    /// docker's header row: a field not in the data is its name uppercased.
    header: bool,
}

fn check_size(s: &str) -> Result<(), String> {
    if s.len() > MAX_OUT {
        Err(format!("output exceeds {} MiB", MAX_OUT >> 20))
    } else {
        Ok(())
    }
}

/// Rough work to read or copy a value; shallow: nested data is pocket's own.
fn weight(v: &Value) -> usize {
    match v {
        Value::Str(s) | Value::Num(s) => s.len(),
        Value::Arr(a) => 32 * a.len(),
        Value::Obj(m) => 32 * m.len(),
        _ => 1,
    }
}

impl<'a, 't> Exec<'a, 't> {
    fn tick(&mut self, n: usize) -> Result<(), String> {
        self.steps = self.steps.saturating_add(n);
        if self.steps > MAX_STEPS {
            Err("too much work for one execution".into())
        } else {
            Ok(())
        }
    }

    fn emit(&mut self, s: &str) -> Result<(), String> {
        self.out.push_str(s);
        check_size(&self.out)
    }

    /// Go's error context: `template: :LINE:COL: executing "" at <CMD>: ...`.
    fn at(&self, c: Option<&Cmd>, e: String) -> String {
        let Some(c) = c.filter(|_| !e.starts_with("template: ")) else {
            return e;
        };
        let b = self.t.src.as_bytes();
        let pos = c.pos.min(b.len());
        let col = pos
            - b[..pos]
                .iter()
                .rposition(|&x| x == b'\n')
                .map_or(0, |k| k + 1);
        let mut ctx: String = c.text.chars().take(20).collect();
        if c.text.chars().nth(20).is_some() {
            ctx.push_str("...");
        }
        format!(
            "template: :{}:{col}: executing \"\" at <{ctx}>: {e}",
            line(&self.t.src, pos)
        )
    }

    fn walk(&mut self, dot: &V<'a>, nodes: &'t [Node]) -> Result<Flow, String> {
        for n in nodes {
            self.tick(1)?;
            let flow = match n {
                Node::Text(s) => {
                    self.emit(s)?;
                    Flow::Go
                }
                Node::Action(p) => {
                    let v = self.pipe(dot, p)?;
                    if p.decl.is_empty() {
                        self.emit(&show(&v))?;
                    }
                    Flow::Go
                }
                Node::If(p, then, els) | Node::With(p, then, els) => {
                    let mark = self.vars.len();
                    let v = self.pipe(dot, p)?;
                    let f = match (truth(v.val()), n) {
                        (true, Node::With(..)) => self.walk(&v, then),
                        (true, _) => self.walk(dot, then),
                        (false, _) => self.walk(dot, els),
                    };
                    self.vars.truncate(mark);
                    f?
                }
                Node::Range(p, body, els) => self.range(dot, p, body, els)?,
                Node::Break => Flow::Break,
                Node::Continue => Flow::Continue,
            };
            if flow != Flow::Go {
                return Ok(flow);
            }
        }
        Ok(Flow::Go)
    }

    fn range(
        &mut self,
        dot: &V<'a>,
        p: &'t Pipe,
        body: &'t [Node],
        els: &'t [Node],
    ) -> Result<Flow, String> {
        let mark = self.vars.len();
        let v = self.pipe(dot, p)?;
        let keys = p.decl.len() == 2; // else they need not be made
        let items = match &v {
            V::Missing => Some(Vec::new()),
            V::B(x) => self.items(x, keys, V::B)?,
            V::O(x) => self.items(x, keys, |e| own(e.clone()))?,
        };
        let items = match items {
            Some(items) => items,
            None if self.header => Vec::new(), // a column title has nothing to range over
            None => {
                return Err(self.at(
                    p.cmds.last(),
                    // Go prints the value as is; its line breaks are
                    // escaped so that the error stays one line.
                    format!(
                        "range can't iterate over {}",
                        show(&v).replace('\n', "\\n").replace('\r', "\\r")
                    ),
                ));
            }
        };
        if items.is_empty() {
            let f = self.walk(dot, els);
            self.vars.truncate(mark);
            return f;
        }
        let base = self.vars.len();
        for (k, e) in items {
            match &p.decl[..] {
                [x] => self.set(x, e.clone())?,
                [i, x] => {
                    self.set(i, k)?;
                    self.set(x, e.clone())?;
                }
                _ => {}
            }
            let f = self.walk(&e, body)?;
            self.vars.truncate(base);
            if f == Flow::Break {
                break;
            }
        }
        self.vars.truncate(mark);
        Ok(Flow::Go)
    }

    /// (key, element) pairs to range over; None if `x` is no collection.
    fn items<'x>(
        &mut self,
        x: &'x Value,
        keys: bool,
        wrap: impl Fn(&'x Value) -> V<'a>,
    ) -> Result<Option<Items<'a>>, String> {
        let pairs: Vec<(Key, &Value)> = match x {
            Value::Null => Vec::new(),
            Value::Arr(a) => a
                .iter()
                .enumerate()
                .map(|(i, e)| (Key::Idx(i), e))
                .collect(),
            Value::Obj(m) => sorted(m)
                .into_iter()
                .map(|(k, e)| (Key::Name(k), e))
                .collect(),
            _ => return Ok(None),
        };
        let mut r = Vec::with_capacity(pairs.len());
        for (k, e) in pairs {
            self.tick(1 + weight(e) / 64)?;
            let k = match k {
                _ if !keys => V::Missing,
                Key::Idx(i) => own(json::num(i)),
                Key::Name(k) => own(json::str(k)),
            };
            r.push((k, wrap(e)));
        }
        Ok(Some(r))
    }

    /// The innermost variable of that name; the search is paid for.
    fn var(&mut self, name: &str) -> Result<&mut V<'a>, String> {
        let k = self.vars.iter().rposition(|(n, _)| *n == name);
        self.tick((self.vars.len() - k.unwrap_or(0)) / 8)?;
        let k = k.ok_or_else(|| format!("undefined variable: {name}"))?;
        Ok(&mut self.vars[k].1)
    }

    fn set(&mut self, name: &str, v: V<'a>) -> Result<(), String> {
        *self.var(name)? = v;
        Ok(())
    }

    /// Evaluate, and declare or assign the pipeline's variables.
    fn pipe(&mut self, dot: &V<'a>, p: &'t Pipe) -> Result<V<'a>, String> {
        let mut v = None;
        for c in &p.cmds {
            // Each command's result is the next one's final argument.
            v = Some(
                self.cmd(dot, c, v.take())
                    .map_err(|e| self.at(Some(c), e))?,
            );
        }
        let v = v.unwrap_or(V::Missing);
        for d in &p.decl {
            if p.assign {
                self.set(d, v.clone())?;
            } else {
                self.vars.push((d, v.clone()));
            }
        }
        Ok(v)
    }

    fn cmd(&mut self, dot: &V<'a>, c: &'t Cmd, last: Option<V<'a>>) -> Result<V<'a>, String> {
        self.tick(1)?;
        match &c.args[..] {
            [Arg::Func(f), rest @ ..] => self.call(dot, f, rest, last),
            [Arg::Nil, ..] => Err("nil is not a command".into()),
            [a] if last.is_none() => self.arg(dot, a),
            _ => Err(format!("can't give argument to non-function {}", c.text)),
        }
    }

    fn arg(&mut self, dot: &V<'a>, a: &'t Arg) -> Result<V<'a>, String> {
        match a {
            Arg::Dot => Ok(dot.clone()),
            Arg::Nil => Ok(V::B(&NULL)),
            Arg::Lit(v) => Ok(V::O(v.clone())),
            Arg::Func(f) => self.call(dot, f, &[], None),
            Arg::Field(path) => self.fields(dot.clone(), path),
            Arg::Var(name, path) => {
                let v = self.var(name)?.clone();
                self.fields(v, path)
            }
            Arg::Pipe(p, path) => {
                let v = self.pipe(dot, p)?;
                self.fields(v, path)
            }
        }
    }

    fn fields(&mut self, mut v: V<'a>, path: &[String]) -> Result<V<'a>, String> {
        for name in path {
            self.tick(v.val().map_or(0, weight) / 64)?; // members are searched
            v = match v.val() {
                Some(x @ Value::Obj(_)) if !self.header || x.get(name).is_some() => {
                    sub(&v, Key::Name(name))
                }
                _ if self.header => own(Value::Str(name.to_uppercase())),
                None | Some(Value::Null) => V::Missing,
                Some(x) => {
                    return Err(format!(
                        "can't evaluate field {name} in type {}",
                        type_name(x)
                    ));
                }
            };
        }
        Ok(v)
    }

    fn call(
        &mut self,
        dot: &V<'a>,
        name: &str,
        args: &'t [Arg],
        last: Option<V<'a>>,
    ) -> Result<V<'a>, String> {
        let n = args.len() + last.is_some() as usize;
        let (lo, hi) = arity(name).unwrap_or((0, MANY));
        if n < lo || n > hi {
            let want = if hi == MANY {
                format!("at least {lo}")
            } else {
                lo.to_string()
            };
            return Err(format!(
                "wrong number of args for {name}: want {want} got {n}"
            ));
        }
        if name == "and" || name == "or" {
            // Lazy, as Go: the first falsy (and) or truthy (or) argument, else the last.
            let mut v = V::Missing;
            for a in args {
                v = self.arg(dot, a)?;
                if truth(v.val()) == (name == "or") {
                    return Ok(v);
                }
            }
            return Ok(last.unwrap_or(v));
        }
        let mut vs = Vec::with_capacity(n);
        for a in args {
            vs.push(self.arg(dot, a)?);
        }
        vs.extend(last);
        self.tick(vs.iter().filter_map(V::val).map(weight).sum::<usize>() / 64)?;
        let r = match vs.first() {
            Some(v) if self.header && DOCKER_FUNCS.contains(&name) => own(Value::Str(show(v))),
            _ => builtin(name, vs)?,
        };
        self.tick(r.val().map_or(0, weight) / 64)?;
        match r.val() {
            Some(Value::Str(s)) => check_size(s).map(|_| r),
            _ => Ok(r),
        }
    }
}

fn show(v: &V) -> String {
    let mut s = String::new();
    match v.val() {
        None => s.push_str("<no value>"),
        Some(x) => fmt_v(&mut s, x),
    }
    s
}

/// Go's truth: false, 0, "", empty, nil and missing are false.
fn truth(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Num(n)) => n
            .bytes()
            .take_while(|&c| c != b'e' && c != b'E')
            .any(|c| matches!(c, b'1'..=b'9')),
        Some(Value::Str(s)) => !s.is_empty(),
        Some(Value::Arr(a)) => !a.is_empty(),
        Some(Value::Obj(m)) => !m.is_empty(),
    }
}

fn type_name(x: &Value) -> &'static str {
    match x {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Num(n) if is_int(n) => "int",
        Value::Num(_) => "float64",
        Value::Str(_) => "string",
        Value::Arr(_) => "[]interface {}",
        Value::Obj(_) => "map[string]interface {}",
    }
}

fn is_int(n: &str) -> bool {
    let d = n.strip_prefix('-').unwrap_or(n);
    !d.is_empty() && d.bytes().all(|c| c.is_ascii_digit())
}

/// Members by key, as Go ranges over and prints maps; of duplicates the last.
fn sorted(m: &[(String, Value)]) -> Vec<(&str, &Value)> {
    let mut v: Vec<(&str, &Value)> = m.iter().map(|(k, x)| (k.as_str(), x)).collect();
    crate::rt::sort_by(&mut v, |a, b| a.0 < b.0);
    v.dedup_by(|later, kept| {
        later.0 == kept.0 && {
            *kept = *later;
            true
        }
    });
    v
}

/// A string argument; numbers and booleans as their text.
fn string(v: Option<&Value>) -> Result<String, String> {
    match v {
        Some(Value::Str(s) | Value::Num(s)) => Ok(s.clone()),
        Some(Value::Bool(b)) => Ok(b.to_string()),
        None | Some(Value::Null) => Err("invalid value; expected string".into()),
        Some(x) => Err(format!(
            "wrong type for value; expected string; got {}",
            type_name(x)
        )),
    }
}

/// A count argument: a non-negative integer.
fn count(v: Option<&Value>) -> Result<usize, String> {
    match v {
        Some(Value::Num(n)) => n.parse().map_err(|_| format!("expected a count; got {n}")),
        x => Err(format!(
            "wrong type for value; expected int; got {}",
            x.map_or("<nil>", type_name)
        )),
    }
}

/// The functions but `and` and `or`; the arity is checked.
fn builtin<'a>(name: &str, a: Vec<V<'a>>) -> Result<V<'a>, String> {
    let arg = |i: usize| a.get(i).and_then(V::val);
    let fail = |m: &str| format!("error calling {name}: {m}");
    let text = |s: String| Ok(own(Value::Str(s)));
    let yes = |b: bool| Ok(own(Value::Bool(b)));
    match name {
        "json" => text(arg(0).map_or_else(|| "null".into(), json::compact)),
        "printf" => text(sprintf(&string(arg(0))?, a.get(1..).unwrap_or(&[]))?),
        "print" | "println" => {
            let mut out = String::new();
            for (i, v) in a.iter().enumerate() {
                // Sprint spaces operands when neither is a string; Sprintln always.
                let is_str = |k: usize| matches!(arg(k), Some(Value::Str(_)));
                if i > 0 && (name == "println" || !(is_str(i) || is_str(i - 1))) {
                    out.push(' ');
                }
                fmt_v(&mut out, v.val().unwrap_or(&NULL));
                check_size(&out)?;
            }
            text(out + if name == "println" { "\n" } else { "" })
        }
        "len" => match arg(0) {
            Some(Value::Str(x)) => Ok(own(json::num(x.len()))),
            Some(Value::Arr(x)) => Ok(own(json::num(x.len()))),
            Some(Value::Obj(x)) => Ok(own(json::num(x.len()))),
            x => Err(fail(&format!(
                "len of type {}",
                x.map_or("<nil>", type_name)
            ))),
        },
        "index" => {
            let mut it = a.into_iter();
            let item = it.next().unwrap_or(V::Missing);
            it.try_fold(item, |cur, i| index(cur, i.val()).map_err(|e| fail(&e)))
        }
        "join" => {
            let sep = string(arg(1))?;
            let items = match arg(0) {
                Some(Value::Arr(x)) => &x[..],
                None | Some(Value::Null) => &[],
                Some(x) => {
                    return Err(format!(
                        "wrong type for value; expected []string; got {}",
                        type_name(x)
                    ));
                }
            };
            let mut out = String::new();
            for (i, x) in items.iter().enumerate() {
                out.push_str(if i > 0 { &sep } else { "" });
                fmt_v(&mut out, x);
                check_size(&out)?;
            }
            text(out)
        }
        "split" => {
            let (x, sep) = (string(arg(0))?, string(arg(1))?);
            let n = if sep.is_empty() {
                x.chars().count()
            } else {
                x.matches(sep.as_str()).count() + 1
            };
            if n > 1 << 20 {
                return Err(fail("too many pieces"));
            }
            let parts: Vec<Value> = match sep.as_str() {
                "" => x.chars().map(|c| Value::Str(c.into())).collect(),
                sep => x.split(sep).map(json::str).collect(),
            };
            Ok(own(Value::Arr(parts)))
        }
        "lower" => text(string(arg(0))?.to_lowercase()),
        "upper" => text(string(arg(0))?.to_uppercase()),
        "title" => {
            // strings.Title: upper-case a letter that follows a separator.
            let (mut out, mut sep) = (String::new(), true);
            for c in string(arg(0))?.chars() {
                if sep {
                    out.extend(c.to_uppercase());
                } else {
                    out.push(c);
                }
                sep = if c.is_ascii() {
                    !(c.is_ascii_alphanumeric() || c == '_')
                } else {
                    c.is_whitespace()
                };
            }
            text(out)
        }
        "truncate" => text(
            string(arg(0))?
                .chars()
                .take(count(arg(1)).map_err(|e| fail(&e))?)
                .collect(),
        ),
        "pad" => {
            let (x, l, r) = (string(arg(0))?, count(arg(1)), count(arg(2)));
            let (l, r) = (l.map_err(|e| fail(&e))?, r.map_err(|e| fail(&e))?);
            if l.saturating_add(r).saturating_add(x.len()) > MAX_OUT {
                return Err(fail("result too long"));
            }
            text(format!("{}{x}{}", " ".repeat(l), " ".repeat(r)))
        }
        "not" => yes(!truth(arg(0))),
        "eq" => {
            let mut r = false;
            for b in a.iter().skip(1) {
                r = r || eq(arg(0), b.val()).map_err(|e| fail(&e))?;
            }
            yes(r)
        }
        "ne" => yes(!eq(arg(0), arg(1)).map_err(|e| fail(&e))?),
        _ => {
            let o = order(arg(0), arg(1)).map_err(|e| fail(&e))?;
            yes(match name {
                "lt" => o.is_lt(),
                "le" => o.is_le(),
                "gt" => o.is_gt(),
                _ => o.is_ge(),
            })
        }
    }
}

fn index<'a>(cur: V<'a>, i: Option<&Value>) -> Result<V<'a>, String> {
    let ty = i.map_or("<nil>", type_name);
    match (cur.val(), i) {
        (None | Some(Value::Null), _) => Err("index of untyped nil".into()),
        (Some(x @ (Value::Arr(_) | Value::Str(_))), Some(Value::Num(n))) if is_int(n) => {
            match (x, n.parse::<usize>()) {
                (Value::Arr(a), Ok(k)) if k < a.len() => Ok(sub(&cur, Key::Idx(k))),
                // A string's element is a byte, as in Go.
                (Value::Str(s), Ok(k)) if k < s.len() => Ok(own(json::num(s.as_bytes()[k]))),
                _ => Err(format!("index out of range: {n}")),
            }
        }
        (Some(Value::Obj(_)), Some(Value::Str(k))) => Ok(sub(&cur, Key::Name(k))),
        (Some(Value::Obj(_)), _) => Err(format!("value has type {ty}; should be string")),
        (Some(Value::Arr(_) | Value::Str(_)), _) => {
            Err(format!("cannot index slice/array with type {ty}"))
        }
        (Some(x), _) => Err(format!("can't index item of type {}", type_name(x))),
    }
}

/// Compare number texts: as integers, else as plain decimals.
fn num_cmp(a: &str, b: &str) -> Option<Ordering> {
    if let (Ok(x), Ok(y)) = (a.parse::<i64>(), b.parse::<i64>()) {
        return Some(x.cmp(&y));
    }
    // (negative, integer digits, fraction digits), zeros that say nothing dropped.
    fn dec(s: &str) -> Option<(bool, &str, &str)> {
        let (neg, s) = s.strip_prefix('-').map_or((false, s), |r| (true, r));
        let (i, f) = s.split_once('.').unwrap_or((s, ""));
        let ok = |d: &str| d.bytes().all(|c| c.is_ascii_digit());
        let (i, f) = (i.trim_start_matches('0'), f.trim_end_matches('0'));
        (ok(i) && ok(f) && !s.is_empty()).then_some((neg && !(i.is_empty() && f.is_empty()), i, f))
    }
    let ((na, ia, fa), (nb, ib, fb)) = (dec(a)?, dec(b)?);
    // Same sign: the longer integer part is the bigger; fractions compare as text.
    let mag = ia.len().cmp(&ib.len()).then(ia.cmp(ib)).then(fa.cmp(fb));
    Some(if na != nb {
        nb.cmp(&na)
    } else if na {
        mag.reverse()
    } else {
        mag
    })
}

fn eq(a: Option<&Value>, b: Option<&Value>) -> Result<bool, String> {
    use Value::*;
    Ok(match (a.unwrap_or(&NULL), b.unwrap_or(&NULL)) {
        (Null, Null) => true,
        (Null, _) | (_, Null) => false,
        (Bool(x), Bool(y)) => x == y,
        (Str(x), Str(y)) => x == y,
        (Num(x), Num(y)) => num_cmp(x, y).map_or(x == y, |o| o.is_eq()),
        (Arr(_) | Obj(_), _) | (_, Arr(_) | Obj(_)) => return Err("non-comparable type".into()),
        _ => return Err("incompatible types for comparison".into()),
    })
}

fn order(a: Option<&Value>, b: Option<&Value>) -> Result<Ordering, String> {
    use Value::*;
    match (a.unwrap_or(&NULL), b.unwrap_or(&NULL)) {
        (Str(x), Str(y)) => Ok(x.cmp(y)),
        (Num(x), Num(y)) => num_cmp(x, y).ok_or_else(|| format!("can't compare {x} and {y}")),
        (Str(_), Num(_)) | (Num(_), Str(_)) => Err("incompatible types for comparison".into()),
        _ => Err("invalid type for comparison".into()),
    }
}

// Formatting, as Go's fmt.

#[derive(Default, Clone, Copy)]
struct Spec {
    minus: bool,
    plus: bool,
    zero: bool,
    width: usize,
    prec: Option<usize>,
}

/// `%v`: strings raw, `[a b]`, `map[k:v]`, `<nil>`.
fn fmt_v(out: &mut String, v: &Value) {
    fmt_arg(out, v, 'v', &Spec::default());
}

fn sprintf(f: &str, args: &[V]) -> Result<String, String> {
    type It<'c> = core::iter::Peekable<core::str::Chars<'c>>;
    fn num(it: &mut It) -> Option<usize> {
        let mut n = None;
        while let Some(d) = it.next_if(char::is_ascii_digit) {
            n = Some(
                n.unwrap_or(0usize)
                    .saturating_mul(10)
                    .saturating_add(d as usize - '0' as usize),
            );
        }
        n
    }
    let (mut out, mut next, mut it) = (String::new(), 0, f.chars().peekable());
    while let Some(c) = it.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut sp = Spec::default();
        while let Some(c) = it.next_if(|c| matches!(c, '-' | '+' | '#' | ' ' | '0')) {
            sp.minus |= c == '-';
            sp.zero |= c == '0';
            sp.plus |= c == '+';
        }
        sp.width = num(&mut it).unwrap_or(0);
        if it.next_if_eq(&'.').is_some() {
            sp.prec = Some(num(&mut it).unwrap_or(0));
        }
        if sp.width > 1_000_000 || sp.prec.is_some_and(|p| p > 1_000_000) {
            // Go's limit (such widths only exhaust memory): the rest of the format is lost.
            out.push_str("%!(NOVERB)");
            break;
        }
        match (it.next(), args.get(next)) {
            (None, _) => out.push_str("%!(NOVERB)"),
            (Some('%'), _) => out.push('%'),
            (Some(verb), None) => out.push_str(&format!("%!{verb}(MISSING)")),
            (Some(verb), Some(v)) => {
                fmt_arg(&mut out, v.val().unwrap_or(&NULL), verb, &sp);
                next += 1;
            }
        }
        check_size(&out)?;
    }
    if let Some(extra) = args.get(next..).filter(|e| !e.is_empty()) {
        out.push_str("%!(EXTRA ");
        for (i, v) in extra.iter().enumerate() {
            let x = v.val().unwrap_or(&NULL);
            out.push_str(if i > 0 { ", " } else { "" });
            if !x.is_null() {
                out.push_str(type_name(x));
                out.push('=');
            }
            fmt_v(&mut out, x);
            check_size(&out)?;
        }
        out.push(')');
    }
    Ok(out)
}

/// One operand; collections element by element with the same verb, as Go.
fn fmt_arg(out: &mut String, v: &Value, verb: char, sp: &Spec) {
    match (v, verb) {
        (Value::Arr(_) | Value::Obj(_), _) => {
            let items: Vec<(Option<&str>, &Value)> = match v {
                Value::Obj(m) => sorted(m).into_iter().map(|(k, e)| (Some(k), e)).collect(),
                Value::Arr(a) => a.iter().map(|e| (None, e)).collect(),
                _ => Vec::new(),
            };
            out.push_str(if matches!(v, Value::Obj(_)) {
                "map["
            } else {
                "["
            });
            for (i, (k, e)) in items.into_iter().enumerate() {
                if out.len() > MAX_OUT {
                    break; // a width applies to each element: this can grow large
                }
                out.push_str(if i > 0 { " " } else { "" });
                if let Some(k) = k {
                    fmt_arg(out, &json::str(k), verb, sp);
                    out.push(':');
                }
                fmt_arg(out, e, verb, sp);
            }
            out.push(']');
        }
        (Value::Str(s), 's' | 'v' | 'q' | 'x') => {
            let s = sp
                .prec
                .and_then(|p| s.char_indices().nth(p))
                .map_or(s.as_str(), |(i, _)| &s[..i]);
            let t = match verb {
                'q' => quote(s),
                'x' => s.bytes().map(|b| format!("{b:02x}")).collect(),
                _ => s.into(),
            };
            pad(out, &t, sp, ' ');
        }
        (Value::Null, 'v') => pad(out, "<nil>", sp, ' '),
        (Value::Null, _) => out.push_str(&format!("%!{verb}(<nil>)")),
        (Value::Bool(b), 't' | 'v' | 's') => pad(out, if *b { "true" } else { "false" }, sp, ' '),
        // %s of a number is lenient (Go says %!s(int=1)): docker users write it.
        (Value::Num(n), 'v' | 's') | (Value::Num(n), 'd') if verb != 'd' || is_int(n) => {
            // `+` shows the sign, `0` pads after it.
            let (sign, digits) = match n.strip_prefix('-') {
                Some(d) => ("-", d),
                None => (if sp.plus { "+" } else { "" }, n.as_str()),
            };
            if sp.zero && !sp.minus {
                out.push_str(sign);
                pad(
                    out,
                    digits,
                    &Spec {
                        width: sp.width.saturating_sub(sign.len()),
                        ..*sp
                    },
                    '0',
                );
            } else {
                pad(out, &format!("{sign}{digits}"), sp, ' ');
            }
        }
        (Value::Num(n), 'x') if n.parse::<i64>().is_ok() => {
            let i = n.parse::<i64>().unwrap_or(0);
            pad(
                out,
                &format!("{}{:x}", if i < 0 { "-" } else { "" }, i.unsigned_abs()),
                sp,
                ' ',
            );
        }
        _ => {
            out.push_str(&format!("%!{verb}({}=", type_name(v)));
            fmt_v(out, v);
            out.push(')');
        }
    }
}

/// Pad to the width, counted in characters as Go counts runes.
fn pad(out: &mut String, s: &str, sp: &Spec, fill: char) {
    let n = sp.width.saturating_sub(s.chars().count());
    if sp.minus {
        out.push_str(s);
        out.extend(repeat_n(' ', n));
    } else {
        out.extend(repeat_n(fill, n));
        out.push_str(s);
    }
}

/// strconv.Quote, near enough: escapes, printable characters kept.
fn quote(s: &str) -> String {
    let mut o = String::from('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => o.extend(['\\', c]),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if c.is_ascii_control() => o.push_str(&format!("\\x{:02x}", c as u32)),
            c if c.is_control() => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o + "\""
}

impl Template {
    /// Parse; errors are one line in Go's wording (`template: :1: ...`).
    /// A leading `table` (docker's directive) is taken off, with the
    /// spaces around what follows.
    pub fn parse(src: &str) -> Result<Template, String> {
        let (table, src) = match src.strip_prefix("table") {
            Some(rest) => (true, rest.trim_matches(' ')),
            None => (false, src),
        };
        let vars = vec![String::from("$")];
        let mut p = Parser {
            src,
            i: 0,
            at: 0,
            trim: false,
            vars,
            loops: 0,
            depth: 0,
        };
        match p.list()? {
            (nodes, Stop::Eof) => Ok(Template {
                nodes,
                table,
                src: src.into(),
            }),
            (_, Stop::End) => p.err("unexpected {{end}}"),
            (_, Stop::Else(_)) => p.err("unexpected {{else}}"),
        }
    }

    /// The source started with docker's `table` directive.
    pub fn is_table(&self) -> bool {
        self.table
    }

    pub fn execute(&self, dot: &Value) -> Result<String, String> {
        self.run(dot, false)
    }

    fn run(&self, dot: &Value, header: bool) -> Result<String, String> {
        let mut x = Exec {
            t: self,
            vars: vec![("$", V::B(dot))],
            out: String::new(),
            steps: 0,
            header,
        };
        match x.walk(&V::B(dot), &self.nodes) {
            Ok(_) => Ok(x.out),
            Err(e) if e.starts_with("template: ") => Err(e),
            Err(e) => Err(format!("template: : {e}")),
        }
    }
}

/// docker's output for a list: a line per row; for a table, first the
/// template over `headers` (field name to column title; a field missing
/// there is titled by its name uppercased), then the cells split at tabs
/// and aligned as Go's tabwriter does.
pub fn render_rows(t: &Template, rows: &[Value], headers: &Value) -> Result<String, String> {
    let mut buf = String::new();
    if t.table {
        buf = t.run(headers, true)? + "\n";
    }
    for r in rows {
        buf.push_str(&t.execute(r)?);
        buf.push('\n');
        check_size(&buf).map_err(|e| format!("template: : {e}"))?;
    }
    if t.table { tabulate(&buf) } else { Ok(buf) }
}

/// tabwriter: a cell ended by a tab belongs to a column block (the run of
/// adjacent lines that have that column) and is padded to the block's
/// widest cell + PADDING, at least MIN_WIDTH; a line's last cell is not.
fn tabulate(text: &str) -> Result<String, String> {
    let lines: Vec<Vec<&str>> = text
        .split_terminator('\n')
        .map(|l| l.split('\t').collect())
        .collect();
    let (mut widths, mut blocks) = (Vec::new(), Vec::<Vec<usize>>::with_capacity(lines.len()));
    for cells in &lines {
        let mut row = Vec::new();
        for (j, c) in cells
            .split_last()
            .map_or(&[][..], |(_, init)| init)
            .iter()
            .enumerate()
        {
            let id = blocks
                .last()
                .and_then(|prev| prev.get(j).copied())
                .unwrap_or_else(|| {
                    widths.push(MIN_WIDTH);
                    widths.len() - 1
                });
            widths[id] = widths[id].max(c.chars().count() + PADDING);
            row.push(id);
        }
        blocks.push(row);
    }
    let mut out = String::new();
    for (cells, row) in lines.iter().zip(&blocks) {
        for (j, c) in cells.iter().enumerate() {
            out.push_str(c);
            let w = row.get(j).map_or(0, |&id| widths[id]);
            out.extend(repeat_n(' ', w.saturating_sub(c.chars().count())));
        }
        out.push('\n');
        check_size(&out).map_err(|e| format!("template: : {e}"))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: &str = r#"{"Name":"web","Arr":["a","b"],"Obj":{"b":2,"a":1},"N":null,"Empty":[],
        "L":{"b":"2","a":"1"},"Config":{"Labels":{"a":"b"}},"State":{"Status":"running"},
        "Items":[{"Name":"x"}],"Ints":[0,1,2,3,4],"F":0.0,"T":"0"}"#;

    fn data(s: &str) -> Value {
        json::parse(s.as_bytes()).unwrap()
    }
    fn run(t: &str) -> Result<String, String> {
        Template::parse(t)?.execute(&data(C))
    }

    /// (template, output over C); each expectation is what Go prints.
    #[rustfmt::skip]
    const CASES: &[(&str, &str)] = &[
        ("{{.Name}} {{ .Name }}", "web web"),
        ("{{.Missing}}|{{.Missing.Deeper}}|{{.Obj.zz}}", "<no value>|<no value>|<no value>"),
        ("{{.Arr}} {{.Obj}} {{.Items}}", "[a b] map[a:1 b:2] [map[Name:x]]"),
        ("{{$.Name}} {{$.State}} {{(index .Items 0).Name}}", "web map[Status:running] x"),
        (r#"{{"a\tb\u00e9\"\\"}}{{`raw\n`}}"#, "a\tbé\"\\raw\\n"),
        ("{{-3}} {{+4}} {{1.5}} {{true}} {{false}} {{print nil}}", "-3 4 1.5 true false <nil>"),
        // Trim markers, comments, docker's \t and \n.
        ("a  {{- .Name -}}  \n b|x {{/* c */}} y|x {{- /* a\nb */ -}} y", "awebb|x  y|xy"),
        // Functions.
        ("{{json .Config.Labels}}|{{.Config.Labels | json}}|{{json .Missing}}", r#"{"a":"b"}|{"a":"b"}|null"#),
        (r#"{{index .Config.Labels "a"}} {{index .Arr 1}} {{index .Items 0 "Name"}}"#, "b b x"),
        (r#"{{index .Obj "zz"}} {{index .Obj "a"}}"#, "<no value> 1"),
        (r#"{{join (split "a b" " ") ","}}"#, "a,b"),
        (r#"{{split "a:b:c" ":"}} {{len (split "a,b,c" ",")}} {{split "hé" ""}}"#, "[a b c] 3 [h é]"),
        (r#"{{upper .Name}} {{lower "AbC"}} {{title "hello big-world_x"}}"#, "WEB abc Hello Big-World_x"),
        (r#"{{truncate "abcdef" 3}} {{truncate "ab" 9}} {{index "héllo" 1}}"#, "abc ab 195"),
        (r#"[{{pad "x" 2 1}}] {{len .Arr}} {{len .Obj}} {{len "héllo"}}"#, "[  x ] 2 2 6"),
        (r#"{{print "a" 1 2 "b"}}|{{println "a" 1}}"#, "a1 2b|a 1\n"),
        // printf.
        (r#"{{printf "%-6s|" .Name}}"#, "web   |"),
        (r#"{{printf "%5d|%-3d|%03d|%3d|%+d" 42 7 -5 -5 5}}"#, "   42|7  |-05| -5|+5"),
        (r#"{{printf "%.3s|%5.1s|%-4s|" "abcdef" "xyz" "é"}}"#, "abc|    x|é   |"),
        (r#"{{printf "%q %v %t %x %x %%" "a\"b" .Arr true "hi" 255}}"#, r#""a\"b" [a b] true 6869 ff %"#),
        (r#"{{printf "%q" .Arr}} {{printf "%3v" .Arr}} {{printf "%v" .Obj}}"#, r#"["a" "b"] [  a   b] map[a:1 b:2]"#),
        (r#"{{printf "%s-%d" .Name 3 | upper}}"#, "WEB-3"),
        (r#"{{printf "%d" "x"}} {{printf "%s"}} {{printf "%d" 1 2}}"#, "%!d(string=x) %!s(MISSING) 1%!(EXTRA int=2)"),
        (r#"{{printf "%s" .N}} {{printf "%99999999d|%d" 1 2}}"#, "%!s(<nil>) %!(NOVERB)%!(EXTRA int=1, int=2)"),
        // if, with.
        (r#"{{if eq .State.Status "running"}}up{{else}}down{{end}}"#, "up"),
        ("{{if .Missing}}a{{else if .Empty}}b{{else if .Arr}}c{{else}}d{{end}}", "c"),
        ("{{if .F}}a{{else if .N}}b{{else}}c{{end}}{{if .T}}t{{end}}", "ct"),
        ("{{with .Config.Labels}}{{.a}}{{end}}|{{with .Missing}}x{{else}}none{{end}}", "b|none"),
        ("{{with $x := .Name}}{{$x}}{{.}}{{end}}", "webweb"),
        // range.
        ("{{range $k, $v := .L}}{{$k}}={{$v}};{{end}} {{range .L}}{{.}}{{end}}", "a=1;b=2; 12"),
        ("{{range $i, $e := .Arr}}{{$i}}:{{$e}} {{end}}", "0:a 1:b "),
        ("{{range $e := .Arr}}[{{$e}}{{.}}]{{end}}", "[aa][bb]"),
        ("{{range .Empty}}x{{else}}none{{end}} {{range .Missing}}x{{else}}none{{end}}", "none none"),
        (r#"{{range split "a b" " "}}<{{.}}>{{end}}{{range .Arr}}{{$.Name}}{{end}}"#, "<a><b>webweb"),
        ("{{range .Ints}}{{if eq . 3}}{{break}}{{end}}{{if eq . 1}}{{continue}}{{end}}{{.}}{{end}}", "02"),
        // Variables.
        ("{{$x := .Name}}{{$x}}-{{$x | upper}}", "web-WEB"),
        ("{{$n := 0}}{{range .Arr}}{{$n = .}}{{end}}{{$n}}", "b"),
        ("{{$x := .Items}}{{(index $x 0).Name}}{{$y := index $x 0}}{{$y.Name}}", "xx"),
        // Comparisons and logic.
        (r#"{{eq 1 2 1}} {{ne "a" "b"}} {{eq .Missing "x"}} {{eq 1.5 1.5}}"#, "true true false true"),
        (r#"{{lt 2 10}} {{lt "2" "10"}} {{gt 1.5 1.25}} {{le 3 3}} {{ge -1 0}}"#, "true false true true false"),
        (r#"{{and 1 0 2}}|{{and 1 2}}|{{or 0 "" "x"}}|{{or 0 ""}}|{{not .Missing}}"#, "0|2|x||true"),
        ("{{and false (index .Arr 9)}} {{or .Name (index .Arr 9)}}", "false web"),
    ];

    /// Where pocket is lenient or docker-like: Go fails on mixed number
    /// kinds, on nil fields and on strings of non-strings (docker's values
    /// are typed, JSON's are not); \t and \n are docker's; `else with` is Go 1.23.
    #[rustfmt::skip]
    const LENIENT: &[(&str, &str)] = &[
        ("{{.N}}|{{.N.X}}|{{eq .N nil}}", "<nil>|<no value>|true"),
        (r"{{.Name}}\t{{.Name}}\n", "web\tweb\n"),
        (r#"{{join .Ints "+"}} {{truncate "héllo" 2}} {{upper 1}}"#, "0+1+2+3+4 hé 1"),
        (r#"{{eq 1 1.0}} {{ge -1 -0.5}} {{lt 1.5 2}}"#, "true false true"),
        (r#"{{printf "%s|%s" 1 .Obj}}"#, "1|map[a:1 b:2]"),
        ("{{with .Missing}}a{{else with .Name}}{{.}}{{end}}", "web"),
    ];

    #[test]
    fn go_behaviour() {
        for (t, want) in CASES.iter().chain(LENIENT) {
            assert_eq!(run(t).as_deref(), Ok(*want), "{t}");
        }
    }

    /// (template, text its error must contain).
    #[rustfmt::skip]
    const ERRORS: &[(&str, &str)] = &[
        ("{{foo}}", r#"template: :1: function "foo" not defined"#),
        ("{{.Name", "template: :1: unclosed action"),
        ("x\n{{end}}", "template: :2: unexpected {{end}}"),
        ("{{else}}", "template: :1: unexpected {{else}}"),
        ("{{if .A}}x", "template: :1: unexpected EOF"),
        ("{{}}", "template: :1: missing value for command"),
        ("{{break}}", "template: :1: {{break}} outside {{range}}"),
        ("{{index .Arr 9}}", r#"template: :1:2: executing "" at <index .Arr 9>: error calling index: index out of range: 9"#),
        ("a\n{{.Name.Foo}}", r#"template: :2:2: executing "" at <.Name.Foo>: can't evaluate field Foo in type string"#),
        (r#"{{"abc}}"#, "unterminated quoted string"),
        ("{{/* x }}", "unclosed comment"),
        ("{{(.Name}}", "unclosed left paren"),
        ("{{.Name)}}", "unexpected right paren"),
        ("{{range .Name}}{{end}}", "range can't iterate over web"),
        ("{{range .Arr}}{{else if 1}}{{end}}", "unexpected <if> in input"),
        ("{{if 1}}{{else}}{{else}}{{end}}", "expected end; found {{else}}"),
        ("{{end x}}", r#"unexpected "x" in end"#),
        ("{{.A | 1}}", "non executable command in pipeline stage 2"),
        ("{{.A .B}}", "can't give argument to non-function .A .B"),
        ("{{upper}}", "wrong number of args for upper: want 1 got 0"),
        ("{{template \"x\"}}", "not supported"),
        ("{{# x}}", "unrecognized character in action: U+0023 '#'"),
        ("{{if true}}{{$y := 1}}{{end}}{{$y}}", "undefined variable \"$y\""),
        ("{{$z = 1}}", "undefined variable \"$z\""),
        (r#"{{eq "a" 1}}"#, "incompatible types for comparison"),
        ("{{lt true false}}", "invalid type for comparison"),
        (r#"{{truncate "x" -1}}"#, "expected a count"),
    ];

    #[test]
    fn errors() {
        for (t, want) in ERRORS {
            let e = run(t).expect_err(t);
            assert!(e.contains(want), "{t}: {e}");
        }
    }

    #[test]
    fn hostile() {
        let deep = format!("{{{{{}1{}}}}}", "(".repeat(10000), ")".repeat(10000));
        let double = r#"{{$s := "xxxxxxxxxxxxxxxx"}}{{range .Ints}}{{range $.Ints}}{{$s = printf "%s%s" $s $s}}{{end}}{{end}}"#;
        let squares =
            r#"{{$a := split (printf "%100000s" "") ""}}{{range $a}}{{range $a}}{{end}}{{end}}"#;
        let wide = r#"{{printf "%999999v" (split (printf "%100000s" "") "")}}"#;
        let cases = [
            (deep.as_str(), "max depth exceeded"),
            (&"{{if 1}}".repeat(10000), "max depth exceeded"),
            (double, "exceeds 16 MiB"),
            (squares, "too much work"),
            (r#"{{pad "x" 99999999999 0}}"#, "too long"),
            (wide, "exceeds 16 MiB"),
            (&"{{$v := 1}}".repeat(300), "too many variables"),
        ];
        for (t, want) in cases {
            let e = run(t).expect_err(want);
            assert!(e.contains(want), "{e}");
        }
        // Every prefix of a busy template parses or fails cleanly, and runs without panicking.
        let busy = r#"table {{- range $i, $e := .Items -}} {{if and (eq $i 0) (ne .Name "y")}}{{printf "%-5.2q|%x" .Name 255 | upper}}{{else if .N}}{{index $.Arr 1}}{{else}}{{json .}}{{end}}{{/* c */}}{{`r`}}{{end}}"#;
        assert!(Template::parse(busy).is_ok());
        for (k, _) in busy.char_indices() {
            if let Ok(t) = Template::parse(&busy[..k]) {
                let _ = render_rows(&t, &[data(C)], &data("{}"));
            }
        }
    }

    /// Mutated `--format` templates (the README's, docker's documented
    /// ones) parsed, and run over a document when they parse: no panic,
    /// errors on one line in Go's wording, output within the cap.
    #[test]
    fn hostile_templates() {
        let doc = data(
            r#"{"ID":"0123456789ab","Names":"web","Name":"web","Args":["-c","x y"],
            "State":{"Status":"running","Health":{"Status":"healthy"}},"RestartCount":2,
            "Mounts":[{"Source":"/a","Destination":"/b"},{"Source":"/c"}],
            "Labels":{"a":"1","tier":"db"},"Config":{"Labels":{"a":"b"},"Env":["A=1"]},
            "NetworkSettings":{"Networks":{"back":{"IPAddress":"10.90.0.2"}}},
            "HostConfig":{"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":5}},
            "Ints":[0,1,2,3],"N":null,"F":1.5,"SecurityOptions":["name=seccomp"]}"#,
        );
        let heads = data(r#"{"ID":"CONTAINER ID","Names":"NAMES"}"#);
        // Values and layouts with line breaks, in errors that name them.
        for t in [
            "{{range \"a\\nb\"}}{{end}}",
            "{{range .Name}}{{end}}",
            "{{.State\n.Status}}",
            "{{index .Args\r\n9}}",
            "{{index `a\nb`\n9}}",
        ] {
            let e = Template::parse(t)
                .and_then(|t| t.execute(&data(r#"{"Name":"a\nb","Args":[]}"#)))
                .unwrap_err();
            assert!(!e.contains('\n'), "{t:?}: {e:?}");
        }
        let corpus: &[&[u8]] = &[
            b"{{json .}}",
            b"{{range .Mounts}}{{.Source}}{{end}}",
            br#"{{if eq .State.Status "running"}}up{{else}}down{{end}}"#,
            b"table {{.ID}}\t{{.Names}}",
            br#"{{printf "%s-%d" .Name 3}}"#,
            br#"{{join .Args ","}}"#,
            br#"{{index .Labels "a"}}"#,
            b"{{lower .Name}}",
            b"{{.State.Status}} {{.RestartCount}}",
            b"{{json .HostConfig.RestartPolicy}}",
            b"{{range $k, $v := .Config.Labels}}{{$k}}={{$v}} {{end}}",
            br#"{{(index .NetworkSettings.Networks "back").IPAddress}}"#,
            b"table {{.Names}}\\t{{.State.Health.Status}}",
            b"{{with $x := .Ints}}{{range $i, $e := $x}}{{if lt $i 2}}{{continue}}{{end}}{{$e}}{{end}}{{end}}",
            br#"{{- /* c */ -}}{{$n := 0}}{{range .Ints}}{{$n = printf "%v%v" $n .}}{{end}}{{len $n | print}}"#,
            br#"{{or .N (and .F (not .Missing))}} {{truncate (upper (title .Name)) 2}} {{pad "x" 1 2}} {{split "a:b" ":"}}"#,
        ];
        let dict: &[&[u8]] = &[
            b"{{range .Ints}}",
            b"{{range .Mounts}}",
            b"{{end}}",
            b"{{else}}",
            b"{{if .",
            b"{{$x := ",
            b"$x",
            b"printf \"%",
            b"%999v",
            b"(",
            b")",
            b" | ",
            b"\"",
            b"`",
            b"-}}",
            b"{{-",
            b"index . ",
        ];
        crate::rt::fuzz::run(
            "templates",
            corpus,
            dict,
            std::time::Duration::from_secs(60),
            |b| {
                let src = String::from_utf8_lossy(b);
                let t = Template::parse(&src)?;
                let out = render_rows(&t, &[doc.clone()], &heads)?;
                assert!(out.len() <= MAX_OUT * 2, "{} bytes of output", out.len());
                Ok(())
            },
        );
    }

    #[test]
    fn tables() {
        let t = Template::parse("table {{.ID}}\t{{.Name}}").unwrap();
        assert!(t.is_table());
        let heads = data(r#"{"ID":"CONTAINER ID","Name":"NAMES"}"#);
        let rows = [
            data(r#"{"ID":"abc","Name":"web"}"#),
            data(r#"{"ID":"0123456789abcdef","Name":"db"}"#),
        ];
        let out = render_rows(&t, &rows, &heads).unwrap();
        assert_eq!(
            out,
            "CONTAINER ID       NAMES\nabc                web\n0123456789abcdef   db\n"
        );
        // Short columns are MIN_WIDTH wide; a field missing from the headers is its name uppercased.
        let t = Template::parse(r"table {{.A}}\t{{json .Size}}\t{{.X.Y}}").unwrap();
        let out = render_rows(&t, &[data(r#"{"A":"a","Size":1,"X":{"Y":"z"}}"#)], &heads).unwrap();
        assert_eq!(out, "A         SIZE      Y\na         1         z\n");
        // Not a table: a line per row, no header.
        let t = Template::parse("{{.ID}}").unwrap();
        assert!(!t.is_table());
        assert_eq!(
            render_rows(&t, &rows, &heads).unwrap(),
            "abc\n0123456789abcdef\n"
        );
        // Ragged lines: a column block ends at a line without that column.
        let out = tabulate("a\tb\nno tabs\nlonger-cell\tc\n").unwrap();
        assert_eq!(out, "a         b\nno tabs\nlonger-cell   c\n");
    }
}
