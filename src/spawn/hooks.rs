//! OCI hooks: host programs run at points of a container's life, each
//! with the container's state (runtime-spec "state" JSON) on its stdin,
//! its own `env` only, and a timeout after which it is killed and counted
//! as failed.
//!
//! Where each point runs:
//! * prestart, createRuntime: by the spawn's parent (`parent::launch`),
//!   once the namespaces exist and before the child mounts anything (it
//!   waits on the sync socket meanwhile); in the runtime's namespaces.
//! * createContainer: by the container's init itself, in the container's
//!   namespaces, after its mounts and before pivot_root, so the hook's
//!   path is still the host's (the spec: "called in the container
//!   namespace", "path resolves in the runtime namespace"), as runc.
//! * startContainer: by the init after `start` opened the exec fifo,
//!   right before execve: in the container (its root, user, capabilities,
//!   seccomp), as runc.
//! * poststart, poststop: by the front end (`start`, `delete`) with
//!   `run_all` / `warn_all`.
//!
//! A failing hook of the first four fails the create (or the start);
//! poststart and poststop failures are warnings, as the spec says.
//!
//! The runner allocates nothing (the container's init uses it between
//! clone and execve): `prepare` makes the C strings, `StateDoc` the
//! state document around the two parts only known late (status, pid).

use crate::error::{Error, Result};
use crate::spec::Hook;
use crate::sys::{Errno, fd, proc, time};
use alloc::ffi::CString;
use alloc::string::String;
use alloc::vec::Vec;

/// A hook ready to run: its C strings and NULL-terminated tables.
pub struct Prepared {
    pub path: CString,
    argv: super::program::CTable,
    envp: super::program::CTable,
    /// Milliseconds; -1: none.
    timeout_ms: i32,
}

/// A hook as its C strings (argv[0] is the path when `args` is empty).
pub fn prepare(h: &Hook) -> Result<Prepared> {
    let nul = || Error::bad("hook", h.path.clone(), "contains a NUL byte");
    let path = crate::sys::cstr::cstring(h.path.as_bytes()).ok_or_else(nul)?;
    let args: &[String] = match h.args.is_empty() {
        true => core::slice::from_ref(&h.path),
        false => &h.args,
    };
    let table = super::program::CTable::new;
    Ok(Prepared {
        path,
        argv: table(args).ok_or_else(nul)?,
        envp: table(&h.env).ok_or_else(nul)?,
        timeout_ms: h
            .timeout
            .map_or(-1, |s| s.saturating_mul(1000).min(i32::MAX as u32) as i32),
    })
}

/// Prepare a list of hooks.
pub fn prepare_all(hooks: &[Hook]) -> Result<Vec<Prepared>> {
    hooks.iter().map(prepare).collect()
}

/// What the container's init needs to run its own hooks.
pub struct InChild {
    pub create_container: Vec<Prepared>,
    pub start_container: Vec<Prepared>,
    pub state: StateDoc,
}

/// The OCI state document, split where the status and the pid go:
/// `{"ociVersion":..,"id":..,"status":"` STATUS `","pid":` PID `,"bundle":..}`.
pub struct StateDoc {
    head: Vec<u8>,
    mid: &'static [u8],
    tail: Vec<u8>,
}

impl StateDoc {
    pub fn new(id: &str, bundle: &str, annotations: &[(String, String)]) -> StateDoc {
        let mut head = String::from("{\"ociVersion\":\"1.0.2\",\"id\":");
        crate::json::write_str(&mut head, id);
        head.push_str(",\"status\":\"");
        let mut tail = String::from(",\"bundle\":");
        crate::json::write_str(&mut tail, bundle);
        if !annotations.is_empty() {
            tail.push_str(",\"annotations\":{");
            for (i, (k, v)) in annotations.iter().enumerate() {
                if i > 0 {
                    tail.push(',');
                }
                crate::json::write_str(&mut tail, k);
                tail.push(':');
                crate::json::write_str(&mut tail, v);
            }
            tail.push('}');
        }
        tail.push_str("}\n");
        StateDoc {
            head: head.into_bytes(),
            mid: b"\",\"pid\":",
            tail: tail.into_bytes(),
        }
    }

    /// The document for `status` and `pid` (0: none, as after the end).
    pub fn render(&self, status: &str, pid: i32) -> Vec<u8> {
        let mut b = [0u8; 12];
        self.parts(status, crate::sys::cstr::decimal(pid, &mut b))
            .concat()
    }

    /// The same in pieces, for `run` without allocating: `pid` in
    /// decimal (`sys::cstr::decimal`).
    pub fn parts<'a>(&'a self, status: &'a str, pid: &'a [u8]) -> [&'a [u8]; 5] {
        [&self.head, status.as_bytes(), self.mid, pid, &self.tail]
    }
}

/// How a hook failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fail {
    /// A step of running it (pipe, fork, wait).
    Sys(&'static str, Errno),
    /// It exited with this status (127: it could not be executed).
    Exit(i32),
    /// A signal killed it.
    Signal(i32),
    /// It outlived its timeout and was killed.
    Timeout,
}

impl Fail {
    /// The child's error report carries an errno: this encodes the other
    /// cases in numbers no errno has (`decode` reads them back).
    pub fn code(self) -> i32 {
        match self {
            Fail::Sys(_, e) => e.into_raw(),
            Fail::Exit(n) => 1000 + n,
            Fail::Signal(n) => 2000 + n,
            Fail::Timeout => 3000,
        }
    }

    pub fn decode(code: i32) -> Fail {
        match code {
            3000 => Fail::Timeout,
            2000..3000 => Fail::Signal(code - 2000),
            1000..2000 => Fail::Exit(code - 1000),
            e => Fail::Sys("run", Errno::new(e)),
        }
    }

    /// `<point> hook <path>: <why>`, exit status 125 (pocket failed).
    pub fn error(self, point: &str, path: &str) -> Error {
        let why = match self {
            Fail::Sys(op, e) => alloc::format!("{op}: {}", crate::sys::strerror(e)),
            Fail::Exit(127) => String::from("exit status 127 (not found or not executable)"),
            Fail::Exit(n) => alloc::format!("exit status {n}"),
            Fail::Signal(n) => alloc::format!("killed by signal {n}"),
            Fail::Timeout => String::from("timed out, killed"),
        };
        Error::bad(alloc::format!("{point} hook"), path, why)
    }
}

/// Milliseconds on the monotonic clock.
fn now_ms() -> i64 {
    time::clock_gettime(libc::CLOCK_MONOTONIC)
        .map_or(0, |t| t.tv_sec * 1000 + t.tv_nsec / 1_000_000)
}

/// Run one hook with `parts` (the state document, in pieces) on its
/// stdin; Ok once it exited 0. Allocation-free. The hook inherits stdout
/// and stderr, nothing else: every other fd of ours is close-on-exec or
/// closed in it before execve.
pub fn run(h: &Prepared, parts: &[&[u8]]) -> core::result::Result<(), Fail> {
    let (r, w) = fd::pipe().map_err(|e| Fail::Sys("pipe", e))?;
    let deadline = match h.timeout_ms {
        -1 => None,
        t => Some(now_ms() + t as i64),
    };
    let pid = proc::fork().map_err(|e| Fail::Sys("fork", e))?;
    if pid == 0 {
        // The hook: stdin the state, our stdout and stderr.
        let fds = [r.raw(), 1, 2];
        super::program::exec_child(&fds, || true, &h.path, h.argv.as_ptr(), h.envp.as_ptr());
    }
    drop(r);
    let pidfd = proc::pidfd_open(pid);
    let left = |d: Option<i64>| d.map_or(-1, |d| (d - now_ms()).clamp(0, i32::MAX as i64) as i32);
    // The state, written as the hook reads it (one that never reads it
    // still ends at its timeout): EPIPE just means it did not read.
    let _ = fd::set_nonblock(w.raw(), true);
    'write: for part in parts {
        let mut p: &[u8] = part;
        while !p.is_empty() {
            match fd::write(w.raw(), p) {
                Ok(n) => p = &p[n..],
                Err(Errno::EAGAIN) => {
                    let mut fds = [libc::pollfd {
                        fd: w.raw(),
                        events: libc::POLLOUT,
                        revents: 0,
                    }];
                    if fd::poll(&mut fds, left(deadline)) != Ok(1) {
                        break 'write;
                    }
                }
                Err(_) => break 'write,
            }
        }
    }
    drop(w);
    let exited = match &pidfd {
        Ok(p) => crate::sys::procfs::wait_pidfd(p, left(deadline)),
        Err(_) => true,
    };
    if !exited {
        let _ = proc::kill(pid, libc::SIGKILL);
        let _ = proc::wait(pid, 0);
        return Err(Fail::Timeout);
    }
    let (_, status) = proc::wait(pid, 0).map_err(|e| Fail::Sys("wait", e))?;
    match (status & 0x7f, (status >> 8) & 0xff) {
        (0, 0) => Ok(()),
        (0, code) => Err(Fail::Exit(code)),
        (sig, _) => Err(Fail::Signal(sig)),
    }
}

/// Run `hooks` of `point` ("prestart", "poststart"...) in order with the
/// state document `state`; the first failure stops them and is the error.
pub fn run_all(point: &str, hooks: &[Hook], state: &[u8]) -> Result<()> {
    for h in hooks {
        let p = prepare(h)?;
        run(&p, &[state]).map_err(|f| f.error(point, &h.path))?;
    }
    Ok(())
}

/// As `run_all`, but every hook runs and a failure is a warning on
/// stderr (poststart, poststop).
pub fn warn_all(point: &str, hooks: &[Hook], state: &[u8]) {
    for h in hooks {
        let r = prepare(h).and_then(|p| run(&p, &[state]).map_err(|f| f.error(point, &h.path)));
        if let Err(e) = r {
            crate::errln!("WARNING: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_document_is_json_with_status_and_pid() {
        let d = StateDoc::new(
            "c1",
            "/b \"q\"",
            &[("a".into(), "1".into()), ("k\n".into(), "v".into())],
        );
        let v = crate::json::parse(&d.render("creating", 42)).unwrap();
        assert_eq!(v.get("id").and_then(|x| x.str()), Some("c1"));
        assert_eq!(v.get("status").and_then(|x| x.str()), Some("creating"));
        assert_eq!(v.get("pid").and_then(|x| x.i64()), Some(42));
        assert_eq!(v.get("bundle").and_then(|x| x.str()), Some("/b \"q\""));
        let a = v.get("annotations").unwrap();
        assert_eq!(a.get("k\n").and_then(|x| x.str()), Some("v"));
        let v = crate::json::parse(&StateDoc::new("x", "/", &[]).render("stopped", 0)).unwrap();
        assert!(v.get("annotations").is_none() && v.get("pid").is_some());
    }

    #[test]
    fn failures_round_trip_through_the_error_report() {
        for f in [
            Fail::Exit(1),
            Fail::Exit(127),
            Fail::Signal(9),
            Fail::Timeout,
        ] {
            assert_eq!(Fail::decode(f.code()), f);
        }
        assert_eq!(
            Fail::Exit(3).error("prestart", "/h").to_string(),
            "prestart hook /h: exit status 3"
        );
        assert_eq!(
            Fail::Timeout.error("createRuntime", "/h").to_string(),
            "createRuntime hook /h: timed out, killed"
        );
    }

    /// Real processes, no root needed: exit codes, stdin, env, timeout.
    #[test]
    fn runs_a_hook_with_the_state_on_stdin() {
        let dir = std::env::temp_dir().join(format!("pocket-hook-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("out");
        let h = |script: &str, timeout| Hook {
            path: "/bin/sh".into(),
            args: vec!["sh".into(), "-c".into(), script.into()],
            env: vec![format!("OUT={}", out.display())],
            timeout,
        };
        let doc = StateDoc::new("c1", "/b", &[]);
        let st = doc.render("creating", 7);
        run_all(
            "prestart",
            &[h("cat > \"$OUT\"; echo \"$OUT\" >> \"$OUT\"", None)],
            &st,
        )
        .unwrap();
        let got = std::fs::read_to_string(&out).unwrap();
        assert!(
            got.starts_with("{\"ociVersion\"") && got.contains("\"pid\":7"),
            "{got}"
        );
        assert!(got.ends_with(&format!("{}\n", out.display())), "{got}");
        let e = run_all("createRuntime", &[h("exit 3", None)], &st).unwrap_err();
        assert_eq!(e.to_string(), "createRuntime hook /bin/sh: exit status 3");
        let t = std::time::Instant::now();
        let e = run_all("prestart", &[h("sleep 5", Some(1))], &st).unwrap_err();
        assert!(e.to_string().ends_with("timed out, killed"), "{e}");
        assert!(t.elapsed() < std::time::Duration::from_secs(4));
        let missing = Hook {
            path: "/nonexistent/hook".into(),
            ..Default::default()
        };
        let e = run_all("poststop", &[missing], &st).unwrap_err();
        assert!(e.to_string().contains("exit status 127"), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
