//! `attach` to detached containers: without a terminal (output on the
//! right streams, signals passed on unless --sig-proxy=false), with one
//! and --no-stdin (output shown, keystrokes kept), containers that do not
//! run (1), and an --rm one's exit status.

mod common;
use common::checks::*;
use common::term::*;
use common::*;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a child wrote on one stream so far, read by a thread.
#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Sink {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
    fn drain<R: Read + Send + 'static>(mut from: R) -> Sink {
        let s = Sink::default();
        let to = s.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = from.read(&mut buf) {
                if n == 0 {
                    break;
                }
                to.0.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        s
    }
    /// Wait (bounded) until `want` was written.
    fn wait_for(&self, want: &str, secs: u64) {
        let end = Instant::now() + Duration::from_secs(secs);
        while !self.text().contains(want) {
            assert!(
                Instant::now() < end,
                "{want:?} did not arrive within {secs} s; got {:?}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// `pocket attach ARGS...` with stdout and stderr read by threads.
fn attach_piped(r: &Root, args: &[&str]) -> (Child, Sink, Sink) {
    let mut v = vec!["attach"];
    v.extend(args);
    let mut c = r
        .cmd(&v)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn pocket attach");
    let out = Sink::drain(c.stdout.take().unwrap());
    let err = Sink::drain(c.stderr.take().unwrap());
    (c, out, err)
}

fn sigterm(c: &Child) {
    // SAFETY: kill(2) on our own, not yet reaped, child.
    assert_eq!(unsafe { libc::kill(c.id() as i32, libc::SIGTERM) }, 0);
}

/// A loop printing `tick` on stdout and `tock` on stderr; SIGTERM makes
/// it say `trapped` and exit 7.
const TICKER: &str =
    "trap 'echo trapped; exit 7' TERM; while :; do echo tick; echo tock >&2; sleep 0.1; done";

/// Without a terminal: the container's stdout arrives on attach's stdout
/// and its stderr on attach's stderr; a SIGTERM sent to attach reaches
/// the container (its trap runs) and attach ends with its status.
#[test]
fn attach_without_tty_relays_streams_and_passes_signals() {
    if !root() {
        return;
    }
    let r = Root::new("attach-notty");
    let id = r.run_d(&["--name", "ticker", "sh", "-c", TICKER]);
    let (mut a, out, err) = attach_piped(&r, &["ticker"]);
    out.wait_for("tick\n", 10);
    err.wait_for("tock\n", 10);
    assert!(
        !out.text().contains("tock"),
        "stderr on stdout: {:?}",
        out.text()
    );
    assert!(
        !err.text().contains("tick"),
        "stdout on stderr: {:?}",
        err.text()
    );
    sigterm(&a);
    assert_eq!(
        wait_code(&mut a, 10),
        Some(7),
        "attach does not end with the container's status; stdout {:?} stderr {:?}",
        out.text(),
        err.text()
    );
    // The output reader threads see the end of the pipes soon after.
    out.wait_for("trapped\n", 5);
    assert_eq!(wait_exited(&r, &id), 7);
}

/// `--sig-proxy=false`: a SIGTERM ends attach (143) and is not passed
/// on: the container runs on (ps, its process on the host), its trap
/// never ran.
#[test]
fn attach_sig_proxy_false_leaves_the_container_running() {
    if !root() {
        return;
    }
    let r = Root::new("attach-noproxy");
    let id = r.run_d(&["--name", "ticker", "sh", "-c", TICKER]);
    let pid = init_pid(&r, &id);
    let (mut a, out, _err) = attach_piped(&r, &["--sig-proxy=false", "ticker"]);
    out.wait_for("tick\n", 10);
    sigterm(&a);
    assert_eq!(wait_code(&mut a, 10), Some(143));
    std::thread::sleep(Duration::from_millis(400));
    assert!(
        stdout(&r.out(&["ps", "-q", "--no-trunc"])).contains(&id),
        "the container stopped"
    );
    assert!(!gone(pid), "the container's process {pid} is gone");
    assert_eq!(
        stdout(&r.out(&["inspect", "-f", "{{.State.Status}}", "ticker"])),
        "running\n"
    );
    let logs = stdout(&r.out(&["logs", "ticker"]));
    assert!(!logs.contains("trapped"), "the signal reached it: {logs}");
    // It still writes, for a new attach.
    let (mut b, out2, _) = attach_piped(&r, &["ticker"]);
    out2.wait_for("tick\n", 10);
    sigterm(&b);
    assert_eq!(wait_code(&mut b, 10), Some(7));
}

/// `attach --no-stdin` from a terminal to a detached -it shell: what the
/// container writes to its terminal is shown, keystrokes never reach it
/// (the shell runs none of them), and attach ends with its status.
#[test]
fn attach_no_stdin_shows_output_but_sends_no_keystrokes() {
    if !root() {
        return;
    }
    let r = Root::new("attach-nostdin");
    let id = r.run_d(&["-it", "--name", "shell", "sh"]);
    let pid = init_pid(&r, &id);
    let pty = openpty(24, 80);
    let m = pty.master.as_raw_fd();
    let mut a = spawn_cmd_on(&pty, r.cmd(&["attach", "--no-stdin", "shell"]));
    let mut acc = Vec::new();
    // Output: written to the container's terminal from inside, by exec.
    let say = |word: &str| {
        let o = r.out(&[
            "exec",
            "shell",
            "sh",
            "-c",
            &format!("echo {word} > /proc/1/fd/1"),
        ]);
        assert_eq!(o.status.code(), Some(0), "exec: {}", stderr(&o));
    };
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        say("first-out");
        if read_until(m, &mut acc, "first-out", 1) {
            break;
        }
        assert!(
            Instant::now() < end,
            "no output through attach: {}",
            String::from_utf8_lossy(&acc)
        );
    }
    // Keystrokes: a command line the shell would run.
    write_all(m, b"echo got-$((6*7))\n");
    std::thread::sleep(Duration::from_millis(500));
    say("second-out");
    assert!(
        read_until(m, &mut acc, "second-out", 10),
        "{}",
        String::from_utf8_lossy(&acc)
    );
    // A moment more for anything late.
    read_until(m, &mut acc, "got-42", 1);
    let seen = String::from_utf8_lossy(&acc).into_owned();
    assert!(!seen.contains("got-42"), "a keystroke reached it: {seen}");
    let logs = stdout(&r.out(&["logs", "shell"]));
    assert!(!logs.contains("got-"), "a keystroke reached it: {logs}");
    // Ended from the host: attach returns its status.
    // SAFETY: kill(2) on the container's init.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    assert_eq!(wait_code(&mut a, 10), Some(137));
}

/// Containers that do not run cannot be attached to: created, exited,
/// and unknown ones end attach with 1 and one error line.
#[test]
fn attach_to_a_container_that_does_not_run_is_1() {
    if !root() {
        return;
    }
    let r = Root::new("attach-stopped");
    let rootfs = rootfs_str();
    let o = r.out(&["create", "--name", "made", "--rootfs", &rootfs, "true"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let id = r.run_d(&["--name", "done", "true"]);
    assert_eq!(wait_exited(&r, &id), 0);
    for name in ["made", "done", "nosuchcontainer"] {
        let mut c = r.cmd(&["attach", name]);
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        let o = output_within(c, 10, "attach");
        assert_eq!(o.status.code(), Some(1), "{name}: {}", stderr(&o));
        one_error_line(&o, name);
    }
    // Still there, as they were.
    assert_eq!(
        stdout(&r.out(&["ps", "-a", "--format", "{{.Names}} {{.State}}"])),
        "done exited\nmade created\n"
    );
}

/// An `--rm` detached container: attach shows its output and ends with
/// its exit status when it ends, and it is gone by then. (The trigger is
/// on a tmpfs: --rootfs is the shared test tree itself.)
#[test]
fn attach_to_an_rm_container_returns_its_status() {
    if !root() {
        return;
    }
    let r = Root::new("attach-rm");
    let id = r.run_d(&[
        "--rm",
        "--tmpfs",
        "/trigger",
        "--name",
        "brief",
        "sh",
        "-c",
        "while [ ! -e /trigger/go ]; do echo waiting; sleep 0.1; done; echo bye; exit 9",
    ]);
    // Its monitor listens before `run -d` returns: an attach right after
    // it finds the socket (it once failed "connect: ENOENT", seldom).
    assert!(r.0.join(format!("run/a-{}.sock", &id[..12])).exists());
    let (mut a, out, err) = attach_piped(&r, &["brief"]);
    let end = Instant::now() + Duration::from_secs(10);
    while !out.text().contains("waiting\n") {
        assert!(
            Instant::now() < end,
            "no output; attach said {:?}",
            err.text()
        );
        if let Ok(Some(s)) = a.try_wait() {
            panic!("attach ended ({s}) before any output: {:?}", err.text());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(err.text(), "");
    let o = r.out(&["exec", "brief", "touch", "/trigger/go"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(wait_code(&mut a, 10), Some(9), "{:?}", out.text());
    out.wait_for("bye\n", 5);
    assert_eq!(
        r.out(&["inspect", &id]).status.code(),
        Some(1),
        "--rm left it"
    );
    assert_eq!(stdout(&r.out(&["ps", "-aq"])), "");
}
