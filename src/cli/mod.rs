//! Command-line front end: the docker-like commands. Parsing is pure
//! (args.rs); each command turns its flags into a Spec or an action.

pub mod args;
pub mod run;

use crate::error::{Error, Result};
use crate::rt::Args;
use alloc::string::String;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const COMMIT: &str = env!("POCKET_COMMIT");

const HELP: &str = "\
Usage: pocket [--help] [--version] COMMAND [ARG...]

A container runtime in one static binary: no daemon, no shared libraries.

Commands:
  run        Run a command in a new container
  version    Show the version and the git commit it was built from

Run 'pocket COMMAND --help' for more on a command.
";

/// Entry point: returns the process exit status.
pub fn main(args: &Args) -> i32 {
    // A closed pipe on stdout must not kill pocket with SIGPIPE halfway
    // through cleanup; EPIPE from write(2) is handled where it matters.
    let _ = crate::sys::signal::ignore(libc::SIGPIPE);
    match dispatch(args) {
        Ok(code) => code,
        Err(e) => {
            crate::errln!("pocket: {}", e);
            e.code
        }
    }
}

fn version() {
    crate::outln!("pocket version {} (commit {})", VERSION, COMMIT);
}

fn dispatch(args: &Args) -> Result<i32> {
    let argv = args.argv.get(1..).unwrap_or(&[]);
    let Some((cmd, rest)) = argv.split_first() else {
        // As docker: no command prints the help and succeeds.
        crate::rt::out().bytes(HELP.as_bytes());
        return Ok(0);
    };
    match *cmd {
        b"run" => run::main(rest, args),
        b"version" | b"--version" | b"-v" => {
            version();
            Ok(0)
        }
        b"help" | b"--help" | b"-h" => {
            crate::rt::out().bytes(HELP.as_bytes());
            Ok(0)
        }
        other if other.starts_with(b"-") => Err(Error::bad(
            "unknown flag",
            String::from_utf8_lossy(other).into_owned(),
            "see 'pocket --help'",
        )),
        other => Err(Error::bad(
            "unknown command",
            String::from_utf8_lossy(other).into_owned(),
            "see 'pocket --help'",
        )),
    }
}
