//! One error type for every layer above `sys`: the step that failed, the
//! file/flag/path it was about, and why (an errno or a short reason).
//! Printed once, at the top, as `pocket: <step> <arg>: <why>`.

use crate::sys::{Errno, strerror};
use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::string::String;
use core::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    Errno(Errno),
    Text(Cow<'static, str>),
    None,
}

/// What went wrong; reached through `Error`, which boxes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub op: Cow<'static, str>,
    pub arg: String,
    pub why: Why,
    /// The exit status pocket ends with (125, 126 or 127 as docker).
    pub code: i32,
}

/// One pointer wide, so `Result<T>` comes back in registers and every
/// `?` moves 8 bytes instead of 80: the error path is the rare one, and
/// its allocation is nothing next to the message it prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(Box<Failure>);

impl core::ops::Deref for Error {
    type Target = Failure;
    fn deref(&self) -> &Failure {
        &self.0
    }
}

impl core::ops::DerefMut for Error {
    fn deref_mut(&mut self) -> &mut Failure {
        &mut self.0
    }
}

pub type Result<T> = core::result::Result<T, Error>;

/// The one constructor every helper below ends in: out of line and cold,
/// so a call site costs a call, not an inlined allocation.
#[cold]
#[inline(never)]
fn make(op: Cow<'static, str>, arg: String, why: Why) -> Error {
    Error(Box::new(Failure {
        op,
        arg,
        why,
        code: 125,
    }))
}

impl Error {
    /// A failed syscall step: `pocket: <op> <arg>: <strerror>`.
    #[inline]
    pub fn sys(op: &'static str, arg: impl Into<String>, e: Errno) -> Error {
        make(Cow::Borrowed(op), arg.into(), Why::Errno(e))
    }
    /// Bad input: `pocket: <op> <arg>: <reason>`.
    #[inline]
    pub fn bad(
        op: impl Into<Cow<'static, str>>,
        arg: impl Into<String>,
        why: impl Into<Cow<'static, str>>,
    ) -> Error {
        make(op.into(), arg.into(), Why::Text(why.into()))
    }
    /// An error already formatted elsewhere (another pocket process).
    pub fn text(t: String) -> Error {
        make(Cow::Owned(t), String::new(), Why::None)
    }
    pub fn with_code(mut self, code: i32) -> Error {
        self.code = code;
        self
    }
    /// The parts, moved out of the box.
    pub fn into_parts(self) -> Failure {
        *self.0
    }
}

/// A path as a C string, refused (one line, exit 125) if it holds a NUL.
pub fn cpath(s: &str) -> Result<alloc::ffi::CString> {
    alloc::ffi::CString::new(s).map_err(|_| Error::bad("path", s, "contains a NUL byte"))
}

/// Attach a step name and argument to a bare errno.
pub trait Context<T> {
    fn ctx(self, op: &'static str, arg: &str) -> Result<T>;
}

impl<T> Context<T> for core::result::Result<T, Errno> {
    fn ctx(self, op: &'static str, arg: &str) -> Result<T> {
        match self {
            Ok(t) => Ok(t),
            Err(e) => Err(sys_str(op, arg, e)),
        }
    }
}

/// `ctx`'s error, out of line: the copy of `arg` is made here once, not
/// inlined at each of its ~150 callers.
#[cold]
#[inline(never)]
fn sys_str(op: &'static str, arg: &str, e: Errno) -> Error {
    Error::sys(op, arg, e)
}

/// Control characters as \xNN: names from archives and users reach the
/// terminal through errors, and must not forge lines or move the cursor.
fn clean(f: &mut fmt::Formatter, s: &str) -> fmt::Result {
    for part in s.split_inclusive(|c: char| c.is_control()) {
        match part.chars().last() {
            Some(c) if c.is_control() => {
                f.write_str(&part[..part.len() - c.len_utf8()])?;
                write!(f, "\\x{:02x}", c as u32)?;
            }
            _ => f.write_str(part)?,
        }
    }
    Ok(())
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        clean(f, &self.op)?;
        if !self.arg.is_empty() {
            f.write_str(" ")?;
            clean(f, &self.arg)?;
        }
        match &self.why {
            Why::Errno(e) => write!(f, ": {}", strerror(*e)),
            Why::Text(t) => {
                f.write_str(": ")?;
                clean(f, t)
            }
            Why::None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        let e = Error::bad("extract", "a\n\x1b[2Jb", "bad\r");
        assert_eq!(e.to_string(), "extract a\\x0a\\x1b[2Jb: bad\\x0d");
    }

    #[test]
    fn display_names_step_arg_and_errno() {
        let e = Error::sys("mount", "/proc", Errno::EPERM);
        assert_eq!(e.to_string(), "mount /proc: Operation not permitted");
        let e = Error::bad("unknown flag", "--frob", "see 'pocket run --help'");
        assert_eq!(
            e.to_string(),
            "unknown flag --frob: see 'pocket run --help'"
        );
        assert_eq!(e.code, 125);
    }
}
