//! `--log FILE` / `--log-format text|json`: runc appends one record per
//! error, which the engines read back (the shim's log.json, conmon's
//! oci-log): `{"level":"error","msg":"...","time":"..."}`.

use crate::error::Error;
use crate::json;
use alloc::string::String;

pub struct Log {
    /// Opened at once (runc creates it at start too): `exec` enters the
    /// container's root, where the path means nothing any more.
    file: Option<crate::sys::fd::Fd>,
    json: bool,
}

impl Log {
    pub fn new(path: Option<String>, json: bool) -> Log {
        let file = path.and_then(|p| {
            let c = crate::error::cpath(&p).ok()?;
            let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_APPEND | libc::O_CLOEXEC;
            crate::sys::fd::open(&c, flags, 0o644).ok()
        });
        Log { file, json }
    }

    /// Append `e` as runc would; best effort (the message also goes to
    /// stderr).
    pub fn error(&self, e: &Error) {
        let Some(f) = &self.file else {
            return;
        };
        let msg = alloc::format!("{e}");
        let time = crate::rt::time::rfc3339_nano_trimmed(crate::rt::time::now());
        let line = if self.json {
            json::compact(&json::obj!(
                ("level", Some(json::str("error"))),
                ("msg", Some(json::str(&msg))),
                ("time", Some(json::str(&time))),
            ))
        } else {
            alloc::format!(
                "time=\"{time}\" level=error msg={}",
                json::compact(&json::str(&msg))
            )
        };
        let mut v = alloc::vec::Vec::with_capacity(line.len() + 1);
        v.extend_from_slice(line.as_bytes());
        v.push(b'\n');
        let _ = crate::sys::fd::write_all(f.raw(), &v);
    }
}
