//! The namespaces made ahead (spawn/prefetch.rs) across the fork of a
//! detached run's monitor: `settle` waits for the helper before the
//! fork, the child's `take` gets what it made (fds inherited), and the
//! parent's copies go with `discard`.
//!
//! `harness = false` (Cargo.toml): prefetch's state is the process's
//! (statics), and this process forks; one test at a time, on one thread.

mod common;
use pocket::spawn::prefetch;
use pocket::sys::proc;
use std::os::unix::fs::MetadataExt;

fn ino(path: &str) -> u64 {
    std::fs::metadata(path).unwrap().ino()
}

fn open(fd: i32) -> bool {
    // SAFETY: F_GETFD on any number only asks.
    let r = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    r >= 0
}

fn main() {
    if !common::root() {
        println!("SKIP prefetch: needs root");
        return;
    }
    // The crash hook's way: the helper is started whatever the load and
    // waited for as long as it takes (no step comes near this number).
    pocket::rt::crash::init(Some(b"999999999"));
    let all = prefetch::ALL;
    let own = ino("/proc/self/ns/net");

    println!("test settled namespaces are taken by the forked child ...");
    prefetch::start(all);
    let fds = prefetch::settle();
    assert_eq!(fds.len(), 4, "net, uts, ipc, mnt made: {fds:?}");
    let pid = proc::fork().unwrap();
    if pid == 0 {
        prefetch::after_fork();
        let code = match prefetch::take(all) {
            Some(m) => {
                let net = m.get(libc::CLONE_NEWNET).unwrap().raw();
                match ino(&format!("/proc/self/fd/{net}")) != own && m.joins().len() == 4 {
                    true => 0,
                    false => 2,
                }
            }
            None => 1,
        };
        proc::exit(code);
    }
    let (_, status) = proc::wait(pid, 0).unwrap();
    assert_eq!(proc::exit_code(status), 0, "1: nothing taken, 2: not new");
    // The parent's copies go once the child has them (as the monitor's
    // parent does): none is left for a later launch here.
    assert!(
        fds.iter().all(|&f| open(f)),
        "the parent's copies until then"
    );
    prefetch::settled_away();
    assert!(fds.iter().all(|&f| !open(f)), "closed");
    assert!(prefetch::take(all).is_none());
    println!("test settled namespaces are taken by the forked child ... ok");

    println!("test what does not fit is not taken, and closed ...");
    prefetch::start(libc::CLONE_NEWNET);
    let fds = prefetch::settle();
    assert_eq!(fds.len(), 1);
    assert!(prefetch::take(all).is_none());
    assert!(!open(fds[0]), "closed");
    assert!(prefetch::settle().is_empty(), "nothing pending: nothing");
    assert!(prefetch::take(libc::CLONE_NEWNET).is_none());
    println!("test what does not fit is not taken, and closed ... ok");
    // libtest's summary line, which scripts/test.sh counts (a failed
    // assert above ends this process with 101 before it).
    println!("test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out");
}
