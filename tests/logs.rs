//! `logs`: docker's json-file log, stdout/stderr kept apart, --tail, -t,
//! -f; and the helpers' own checks.

mod common;
use common::checks::*;
use common::*;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

#[test]
fn rfc3339_and_json_helpers_can_fail() {
    // The checkers used below must reject what is wrong, or the tests
    // that rely on them would pass on anything.
    assert_eq!(rfc3339("1970-01-01T00:00:00Z", false), Some((0, 0)));
    assert_eq!(
        rfc3339("2023-11-14T22:13:20.000000005Z", true),
        Some((1_700_000_000, 5))
    );
    assert_eq!(
        rfc3339("2023-11-14T22:13:20.5Z", true),
        Some((1_700_000_000, 500_000_000))
    );
    assert_eq!(rfc3339("2023-11-14T22:13:20Z", true), None);
    assert_eq!(rfc3339("2023-11-14T22:13:20.123+01:00", true), None);
    assert_eq!(rfc3339("2023-11-14 22:13:20.1Z", true), None);
    assert_eq!(rfc3339("2023-11-14T22:13:20.1234567890Z", true), None);
    let v = json(r#"[{"a":"x\"\\\t\u00e9\ud83d\ude00","b":[1,-2.5e3,true,null]}]"#).unwrap();
    assert_eq!(v.arr()[0].get("a").str(), "x\"\\\té😀");
    assert_eq!(v.arr()[0].get("b").arr()[0].int(), 1);
    for bad in [
        "[1,]",
        "{\"a\":1,\"a\":2}",
        "{\"a\" 1}",
        "[\"x\ny\"]",
        "[1] x",
        "[\"\\q\"]",
        "{",
        "",
    ] {
        assert!(json(bad).is_err(), "accepted {bad:?}");
    }
}

// ---------------------------------------------------------------------------
// Helpers.

/// Kill a child we spawned (logs -f, a background exec) if a test fails.
#[test]
fn logs_keeps_stdout_and_stderr_apart_in_a_json_file_log() {
    if !root() {
        return;
    }
    let r = Root::new("logs-streams");
    let script = r#"echo out1; echo err1 >&2; printf '%s\n' 'q"b\s'; printf 't\tx\n' >&2; printf 'no newline'"#;
    let id = r.run_d(&["sh", "-c", script]);
    assert_eq!(wait_exited(&r, &id), 0);

    let want_out = "out1\nq\"b\\s\nno newline";
    let want_err = "err1\nt\tx\n";
    let o = r.out(&["logs", &id]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), want_out, "stdout of logs");
    assert_eq!(stderr(&o), want_err, "stderr of logs");

    // Both streams to one place (`2>&1`, a terminal): the log's order,
    // not all of stderr first (each stream had its own buffer).
    let both = r.0.join("both");
    let f = std::fs::File::create(&both).unwrap();
    let mut c = r.cmd(&["logs", &id]);
    c.stdout(f.try_clone().unwrap()).stderr(f);
    assert!(c.status().unwrap().success());
    let logged: String = log_file(&r, &id).iter().map(|e| e.log.clone()).collect();
    assert_eq!(std::fs::read_to_string(&both).unwrap(), logged);
    assert!(!logged.starts_with("err1"), "{logged}");

    // On disk: docker's json-file format, streams tagged, escapes intact.
    let es = log_file(&r, &id);
    assert_eq!(es.len(), 5, "one entry per line");
    assert_eq!(stream_text(&es, "stdout"), want_out);
    assert_eq!(stream_text(&es, "stderr"), want_err);
    assert!(
        es.iter()
            .any(|e| e.log == "q\"b\\s\n" && e.stream == "stdout")
    );
    assert!(es.iter().any(|e| e.log == "t\tx\n" && e.stream == "stderr"));
    // The log may hold secrets: not readable by other users.
    let path = r.0.join("containers").join(&id).join("container.log");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o007, 0, "log mode {mode:o}");
    // inspect names the same file.
    assert_eq!(
        inspect(&r, &id).get("LogPath").str(),
        path.to_str().unwrap()
    );
}

#[test]
fn logs_tail_and_timestamps() {
    if !root() {
        return;
    }
    let r = Root::new("logs-tail");
    let id = r.run_d(&[
        "--name",
        "counter",
        "sh",
        "-c",
        "for i in 1 2 3 4 5 6 7 8 9 10; do echo $i; done",
    ]);
    assert_eq!(wait_exited(&r, &id), 0);
    let all: String = (1..=10).map(|i| format!("{i}\n")).collect();
    let logs = |args: &[&str]| {
        let mut v = vec!["logs"];
        v.extend(args);
        let o = r.out(&v);
        assert_eq!(o.status.code(), Some(0), "logs {args:?}: {}", stderr(&o));
        assert_eq!(stderr(&o), "");
        stdout(&o)
    };
    assert_eq!(logs(&["counter"]), all, "by name");
    assert_eq!(logs(&["--tail", "3", &id]), "8\n9\n10\n");
    assert_eq!(logs(&["--tail=1", &id]), "10\n");
    assert_eq!(logs(&["--tail", "0", &id]), "");
    assert_eq!(logs(&["--tail", "100", &id]), all);
    assert_eq!(logs(&["--tail", "all", &id]), all);
    // A bad flag value is bad usage: 125, as docker's CLI.
    let o = r.out(&["logs", "--tail", "x", &id]);
    assert_eq!(o.status.code(), Some(125));
    one_error_line(&o, "--tail x");

    // -t: each line is "<its time from the log> <text>".
    let es = log_file(&r, &id);
    assert_eq!(es.len(), 10);
    let t = logs(&["-t", &id]);
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(lines.len(), 10, "{t}");
    for (i, (l, e)) in lines.iter().zip(&es).enumerate() {
        let (ts, text) = l.split_once(' ').unwrap_or_else(|| panic!("{l:?}"));
        assert!(rfc3339(ts, true).is_some(), "timestamp {ts:?}");
        assert_eq!(ts, e.time_text);
        assert_eq!(text, format!("{}", i + 1));
    }
    let t2 = logs(&["--timestamps", "--tail", "2", &id]);
    assert_eq!(t2.lines().count(), 2);
    assert!(t2.lines().nth(1).unwrap().ends_with(" 10"), "{t2}");
}

#[test]
fn logs_follow_sees_later_lines_and_ends_with_the_container() {
    if !root() {
        return;
    }
    let r = Root::new("logs-follow");
    // The container writes only when the test says so (a file in its own
    // /dev/shm), so the lines come after `logs -f` has started.
    let id = r.run_d(&[
        "sh",
        "-c",
        "echo ready; \
         while [ ! -e /dev/shm/go ]; do sleep 0.02; done; echo first; echo efirst >&2; \
         while [ ! -e /dev/shm/go2 ]; do sleep 0.02; done; echo second; exit 4",
    ]);
    let mut c = r.cmd(&["logs", "-f", &id]);
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut g = Guard(c.spawn().unwrap());
    let (tx, rx) = mpsc::channel::<(&'static str, String)>();
    let out = g.0.stdout.take().unwrap();
    let err = g.0.stderr.take().unwrap();
    for (name, pipe) in [
        ("stdout", Box::new(out) as Box<dyn Read + Send>),
        ("stderr", Box::new(err) as Box<dyn Read + Send>),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for l in BufReader::new(pipe).lines() {
                let Ok(l) = l else { break };
                if tx.send((name, l)).is_err() {
                    break;
                }
            }
        });
    }
    // Only the readers hold senders now: the channel closes with them.
    drop(tx);
    let next = |what: &str| {
        rx.recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("logs -f: no {what} line within 10s"))
    };
    assert_eq!(next("ready"), ("stdout", "ready".into()));
    // logs -f has printed "ready": whatever comes now it reads by following.
    sh(&r, &id, "touch /dev/shm/go");
    let mut got = vec![next("first"), next("efirst")];
    got.sort();
    assert_eq!(
        got,
        [("stderr", "efirst".into()), ("stdout", "first".into())]
    );
    sh(&r, &id, "touch /dev/shm/go2");
    assert_eq!(next("second"), ("stdout", "second".into()));
    // The container exits: logs -f returns by itself, with status 0.
    let st = wait_for(15, "logs -f to return", || g.0.try_wait().unwrap());
    assert_eq!(st.code(), Some(0));
    assert_eq!(wait_exited(&r, &id), 4);
    // Nothing printed twice, nothing after the end.
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(10)),
        Err(mpsc::RecvTimeoutError::Disconnected)
    );

    // -f on a container that has already exited prints all and returns.
    let o = output_within(
        r.cmd(&["logs", "-f", &id]),
        10,
        "logs -f of an exited container",
    );
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "ready\nfirst\nsecond\n");
    assert_eq!(stderr(&o), "efirst\n");
}

#[test]
fn run_d_with_tty_logs_the_pty() {
    if !root() {
        return;
    }
    let r = Root::new("logs-tty");
    let id = r.run_d(&["-t", "sh", "-c", "tty; echo done"]);
    assert_eq!(wait_exited(&r, &id), 0);
    let es = log_file(&r, &id);
    // A terminal turns \n into \r\n; docker keeps it so in the log.
    assert!(
        es.iter()
            .any(|e| e.log == "/dev/pts/0\r\n" && e.stream == "stdout"),
        "{:?}",
        es.iter().map(|e| &e.log).collect::<Vec<_>>()
    );
    let o = r.out(&["logs", &id]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("/dev/pts/0"), "{}", stdout(&o));
    assert!(inspect(&r, &id).get("Config").get("Tty").bool());
}

// ---------------------------------------------------------------------------
// exec

#[test]
fn an_exit_is_never_seen_as_137_while_the_monitor_writes_it() {
    if !root() {
        return;
    }
    let r = Root::new("exit-race");
    for round in 0..15 {
        let id = r.run_d(&["sh", "-c", "echo a; exit 3"]);
        // The first state other than running that inspect shows is the
        // real one: exited with 3 (not 137 while the monitor is busy).
        let first = wait_for(15, "the container to leave running", || {
            let st = inspect(&r, &id).get("State").clone();
            (st.get("Status").str() != "running")
                .then(|| (st.get("Status").str().to_string(), st.get("ExitCode").int()))
        });
        assert_eq!(first, ("exited".to_string(), 3), "round {round}");
        assert_eq!(wait_exited(&r, &id), 3);
        let o = r.out(&["rm", &id]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
}

#[test]
fn logs_f_started_with_the_container_gets_all_its_output() {
    if !root() {
        return;
    }
    let r = Root::new("follow-race");
    let want: String = (1..=2000).map(|i| format!("line {i}\n")).collect();
    for round in 0..15 {
        let id = r.run_d(&[
            "sh",
            "-c",
            "i=1; while [ $i -le 2000 ]; do echo line $i; i=$((i+1)); done; exit 3",
        ]);
        let o = output_within(r.cmd(&["logs", "-f", &id]), 15, "logs -f");
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(stdout(&o), want, "logs -f, round {round}");
        assert_eq!(wait_exited(&r, &id), 3);
        let o = r.out(&["rm", &id]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
}

/// --log-opt max-size/max-file rotate the log (a chatty container cannot
/// fill the disk: at most max-file files of about max-size each), logs
/// reads across them; -n, --since/--until; --log-driver none keeps none.
#[test]
fn rotation_drivers_and_time_filters() {
    if !root() {
        return;
    }
    let r = Root::new("logrot");
    let id = r.run_d(&[
        "--log-opt",
        "max-size=2k",
        "--log-opt",
        "max-file=3",
        "sh",
        "-c",
        "i=0; while [ $i -lt 400 ]; do echo line-$i-padding-padding-padding; i=$((i+1)); done",
    ]);
    wait_exited(&r, &id);
    let dir = r.0.join("containers").join(&id);
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("container.log"))
        .collect();
    files.sort();
    assert_eq!(
        files,
        ["container.log", "container.log.1", "container.log.2"]
    );
    for f in &files {
        let n = std::fs::metadata(dir.join(f)).unwrap().len();
        assert!(n <= 2048, "{f}: {n} bytes");
    }
    // The newest lines, in order, across the files.
    let out = stdout(&r.out(&["logs", &id]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(*lines.last().unwrap(), "line-399-padding-padding-padding");
    let first: usize = lines[0].split('-').nth(1).unwrap().parse().unwrap();
    assert_eq!(lines.len(), 400 - first, "a gap: {out}");
    assert_eq!(
        stdout(&r.out(&["logs", "-n", "2", &id])),
        "line-398-padding-padding-padding\nline-399-padding-padding-padding\n"
    );
    assert_eq!(
        stdout(&r.out(&["logs", "--since", "10m", &id]))
            .lines()
            .count(),
        lines.len()
    );
    assert_eq!(stdout(&r.out(&["logs", "--until", "10m", &id])), "");
    assert_eq!(
        stdout(&r.out(&[
            "logs",
            "--since",
            "2000-01-01T00:00:00Z",
            "--until",
            "4102444800",
            &id
        ]))
        .lines()
        .count(),
        lines.len()
    );
    let o = r.out(&["logs", "--since", "yesterday", &id]);
    assert_eq!(o.status.code(), Some(125));

    let none = r.run_d(&["--log-driver", "none", "echo", "hi"]);
    wait_exited(&r, &none);
    assert!(
        !r.0.join("containers")
            .join(&none)
            .join("container.log")
            .exists()
    );
    let o = r.out(&["logs", &none]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("does not support reading"),
        "{}",
        stderr(&o)
    );
    let doc = inspect(&r, &none);
    assert_eq!(
        doc.get("HostConfig").get("LogConfig").get("Type").str(),
        "none"
    );
    for bad in [
        &["--log-driver", "syslog"][..],
        &["--log-opt", "max-size=lots"][..],
        &["--log-opt", "compress=true"][..],
    ] {
        let mut v = vec!["run", "--rootfs", rootfs().to_str().unwrap()];
        v.extend(bad);
        v.push("true");
        let o = r.out(&v);
        assert_eq!(o.status.code(), Some(125), "{bad:?}");
        one_error_line(&o, "bad log config");
    }
}

/// A foreground run keeps its log too (docker's): the output reaches the
/// caller as before and `logs` shows it afterwards, stdout and stderr
/// apart; with -t the terminal's output. --rm keeps none (nothing could
/// read it).
#[test]
fn foreground_runs_keep_their_log() {
    if !root() {
        return;
    }
    let r = Root::new("logfg");
    let o = r.out(&[
        "run",
        "--name",
        "fg",
        "--rootfs",
        rootfs().to_str().unwrap(),
        "sh",
        "-c",
        "echo out; echo err >&2; exit 3",
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert_eq!(stdout(&o), "out\n");
    assert_eq!(stderr(&o), "err\n");
    let l = r.out(&["logs", "fg"]);
    assert_eq!(
        (stdout(&l), stderr(&l)),
        ("out\n".to_string(), "err\n".to_string())
    );
    // With a terminal the container's output is the pty's.
    let (m, s) = pty();
    let mut c = r.cmd(&[
        "run",
        "-t",
        "--name",
        "fgt",
        "--rootfs",
        rootfs().to_str().unwrap(),
        "echo",
        "on-a-tty",
    ]);
    c.stdout(s.try_clone().unwrap()).stderr(s);
    let st = c.status().unwrap();
    assert_eq!(st.code(), Some(0));
    drop(m);
    assert_eq!(stdout(&r.out(&["logs", "fgt"])), "on-a-tty\r\n");
    // --rm: no log is left anywhere (the container is gone with it).
    let o = r.out(&[
        "run",
        "--rm",
        "--rootfs",
        rootfs().to_str().unwrap(),
        "echo",
        "gone",
    ]);
    assert_eq!(stdout(&o), "gone\n");
    assert_eq!(stdout(&r.out(&["ps", "-aq"])).lines().count(), 2);
}

/// `pocket run IMG yes | head -1` still ends: once pocket's stdout reader
/// is gone, the container meets the closed pipe as if it wrote there
/// itself, though a foreground run's output passes
/// through pocket for its log.
#[test]
fn a_foreground_run_ends_when_its_reader_goes() {
    if !root() {
        return;
    }
    let r = Root::new("logpipe");
    let mut c = r.cmd(&[
        "run",
        "--name",
        "yes",
        "--rootfs",
        rootfs().to_str().unwrap(),
        "yes",
    ]);
    c.stdout(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut buf = [0u8; 2];
    out.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"y\n");
    drop(out);
    let end = std::time::Instant::now() + Duration::from_secs(10);
    let st = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(
            std::time::Instant::now() < end,
            "yes runs on without its reader"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    // SIGPIPE (141), or busybox yes's own exit on EPIPE (1), as when it
    // writes to the closed pipe itself (pocket before it kept logs).
    assert!(matches!(st.code(), Some(141 | 1)), "{st:?}");
}

/// `run -a STREAM`: only those streams here; the others still reach the
/// log (docker's). Bad streams and -a with -d are docker's 125.
#[test]
fn run_attaches_only_the_streams_asked() {
    if !root() {
        return;
    }
    let r = Root::new("attach-streams");
    let rootfs = rootfs().to_str().unwrap().to_string();
    let script = "echo out; echo err >&2";
    let o = r.out(&[
        "run", "--name", "only-out", "-a", "stdout", "--rootfs", &rootfs, "sh", "-c", script,
    ]);
    assert_eq!(
        (o.status.code(), stdout(&o), stderr(&o)),
        (Some(0), "out\n".into(), String::new())
    );
    let l = r.out(&["logs", "only-out"]);
    assert_eq!(
        (stdout(&l), stderr(&l)),
        ("out\n".to_string(), "err\n".to_string())
    );
    let o = r.out(&[
        "run", "--rm", "-a", "STDERR", "--rootfs", &rootfs, "sh", "-c", script,
    ]);
    assert_eq!(
        (o.status.code(), stdout(&o), stderr(&o)),
        (Some(0), String::new(), "err\n".into())
    );
    for bad in [&["-a", "stdsomething"][..], &["-d", "-a", "stdout"][..]] {
        let mut v = vec!["run"];
        v.extend(bad);
        v.extend(["--rootfs", &rootfs, "true"]);
        let o = r.out(&v);
        assert_eq!(o.status.code(), Some(125), "{bad:?}");
        assert_eq!(stderr(&o).lines().count(), 1);
    }
}

/// `logs --details` puts each line's log attributes first, then a space,
/// as docker does; a container whose log options add none gets only the
/// space, on stdout and stderr alike, after -t's time.
#[test]
fn logs_details_without_attributes_is_a_leading_space() {
    if !root() {
        return;
    }
    let r = Root::new("logs-details");
    let id = r.run_d(&["sh", "-c", "echo out1; echo err1 >&2; echo out2"]);
    assert_eq!(wait_exited(&r, &id), 0);
    let o = r.out(&["logs", "--details", &id]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), " out1\n out2\n");
    assert_eq!(stderr(&o), " err1\n");
    // -t: the time, a space, the (empty) attributes, a space, the line.
    let o = r.out(&["logs", "-t", "--details", &id]);
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 2, "{out}");
    for (l, want) in out.lines().zip(["out1", "out2"]) {
        let (ts, rest) = l.split_once(' ').unwrap_or_else(|| panic!("{l:?}"));
        assert!(rfc3339(ts, true).is_some(), "timestamp {ts:?}");
        assert_eq!(rest, format!(" {want}"));
    }
    // Without --details: no space.
    assert_eq!(stdout(&r.out(&["logs", &id])), "out1\nout2\n");
}

/// docker's json-file `--log-opt labels=K,...` and `env=K,...` put those
/// labels and variables of the container in every log entry; `logs
/// --details` prints them first, sorted by key, `k=v` joined by commas,
/// then a space (`docker run --label tier=web -e APP_MODE=prod
/// --log-opt labels=tier --log-opt env=APP_MODE ...; docker logs
/// --details` prints `APP_MODE=prod,tier=web hello`). Only the named ones:
/// other labels and variables stay out.
#[test]
fn logs_details_shows_the_labels_and_env_the_log_opts_name() {
    if !root() {
        return;
    }
    let r = Root::new("logs-details-attrs");
    let o = r.out(&[
        "run",
        "-d",
        "--label",
        "tier=web",
        "--label",
        "other=x",
        "-e",
        "APP_MODE=prod",
        "-e",
        "HIDDEN=1",
        "--log-opt",
        "labels=tier",
        "--log-opt",
        "env=APP_MODE",
        "--rootfs",
        rootfs().to_str().unwrap(),
        "sh",
        "-c",
        "echo hello; echo oops >&2",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "run --log-opt labels=tier --log-opt env=APP_MODE (docker's json-file accepts both): {}",
        stderr(&o)
    );
    let id = stdout(&o).trim().to_string();
    assert_eq!(wait_exited(&r, &id), 0);
    let o = r.out(&["logs", "--details", &id]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "APP_MODE=prod,tier=web hello\n");
    assert_eq!(stderr(&o), "APP_MODE=prod,tier=web oops\n");
    // The attributes are for --details only.
    assert_eq!(stdout(&r.out(&["logs", &id])), "hello\n");
    let cfg = inspect(&r, &id)
        .get("HostConfig")
        .get("LogConfig")
        .get("Config")
        .clone();
    assert_eq!(cfg.get("labels").str(), "tier");
    assert_eq!(cfg.get("env").str(), "APP_MODE");
}

/// `--log-driver local` keeps the output where `logs` reads it back
/// (stdout and stderr apart), and rotates: with max-size=1k the host has
/// the local driver's default of 5 files (`container.log`, `.1`...`.4`),
/// none past the size, and `logs` gives the newest lines without a gap.
#[test]
fn local_driver_reads_back_and_rotates_on_the_host() {
    if !root() {
        return;
    }
    let r = Root::new("logs-local");
    let small = r.run_d(&[
        "--log-driver",
        "local",
        "sh",
        "-c",
        "echo one; echo two >&2; echo three",
    ]);
    assert_eq!(wait_exited(&r, &small), 0);
    let o = r.out(&["logs", &small]);
    assert_eq!(
        (stdout(&o), stderr(&o)),
        ("one\nthree\n".to_string(), "two\n".to_string())
    );
    let doc = inspect(&r, &small);
    assert_eq!(
        doc.get("HostConfig").get("LogConfig").get("Type").str(),
        "local"
    );
    let dir = r.0.join("containers").join(&small);
    assert!(dir.join("container.log").exists());
    assert!(!dir.join("container.log.1").exists());

    let id = r.run_d(&[
        "--log-driver",
        "local",
        "--log-opt",
        "max-size=1k",
        "sh",
        "-c",
        "i=0; while [ $i -lt 300 ]; do echo local-$i-padding-padding; i=$((i+1)); done; echo the-end >&2",
    ]);
    assert_eq!(wait_exited(&r, &id), 0);
    let dir = r.0.join("containers").join(&id);
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("container.log"))
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "container.log",
            "container.log.1",
            "container.log.2",
            "container.log.3",
            "container.log.4"
        ]
    );
    for f in &files {
        let n = std::fs::metadata(dir.join(f)).unwrap().len();
        assert!(n > 0 && n <= 1024, "{f}: {n} bytes");
    }
    let o = r.out(&["logs", &id]);
    assert_eq!(stderr(&o), "the-end\n");
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(*lines.last().unwrap(), "local-299-padding-padding");
    let first: usize = lines[0].split('-').nth(1).unwrap().parse().unwrap();
    assert!(first > 0, "nothing rotated away: {out}");
    assert_eq!(lines.len(), 300 - first, "a gap: {out}");
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(*l, format!("local-{}-padding-padding", first + i));
    }
}

/// `logs NAME -f`: the flag after the container's name (docker's flags
/// go anywhere) still follows: a line written after logs started comes
/// through, and logs returns 0 by itself when the container exits.
#[test]
fn logs_name_then_f_follows_until_the_exit() {
    if !root() {
        return;
    }
    let r = Root::new("logs-name-f");
    let id = r.run_d(&[
        "--name",
        "tailme",
        "sh",
        "-c",
        "echo ready; while [ ! -e /dev/shm/go ]; do sleep 0.02; done; echo later; exit 3",
    ]);
    let mut c = r.cmd(&["logs", "tailme", "-f"]);
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut g = Guard(c.spawn().unwrap());
    let (tx, rx) = mpsc::channel::<String>();
    let out = g.0.stdout.take().unwrap();
    std::thread::spawn(move || {
        for l in BufReader::new(out).lines() {
            let Ok(l) = l else { break };
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    let mut err = g.0.stderr.take().unwrap();
    let next = |what: &str| {
        rx.recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("logs tailme -f: no {what} line within 10s ({e})"))
    };
    assert_eq!(next("ready"), "ready");
    sh(&r, &id, "touch /dev/shm/go");
    assert_eq!(next("later"), "later");
    let st = wait_for(10, "logs tailme -f to return", || g.0.try_wait().unwrap());
    let mut e = String::new();
    err.read_to_string(&mut e).unwrap();
    assert_eq!((st.code(), e.as_str()), (Some(0), ""));
    assert_eq!(wait_exited(&r, &id), 3);
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(10)),
        Err(mpsc::RecvTimeoutError::Disconnected)
    );
}
