//! `--init`: the cloned pocket child stays PID 1 of the container. It
//! forwards every signal it gets to the command, reaps every zombie that
//! is reparented to it, and exits with the command's status.

use crate::sys::{
    Errno, fd, proc,
    signal::{self, SigSet},
};

pub fn run(cmd: i32) -> ! {
    // Everything but KILL and STOP is blocked and taken with sigtimedwait:
    // a pid-namespace init drops signals it has no handler for, but blocked
    // ones are queued.
    let all = SigSet(!SigSet::of(&[libc::SIGKILL, libc::SIGSTOP]).0);
    let _ = signal::sigprocmask(libc::SIG_SETMASK, &all);
    // The init holds nothing the container could use.
    let _ = fd::close_range(3, u32::MAX, 0);
    loop {
        match signal::sigtimedwait(&all, 1000) {
            Ok(Some(libc::SIGCHLD)) | Ok(None) => {}
            Ok(Some(sig)) => {
                let _ = proc::kill(cmd, sig);
            }
            Err(_) => {}
        }
        loop {
            match proc::wait(-1, libc::WNOHANG) {
                Ok((0, _)) => break,
                Ok((pid, status)) if pid == cmd => proc::exit(proc::exit_code(status)),
                Ok(_) => continue,
                Err(Errno::ECHILD) => proc::exit(0),
                Err(_) => break,
            }
        }
    }
}
