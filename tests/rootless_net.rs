//! A plain user's network through slirp4netns (rootless): real
//! unprivileged users made for the test, as tests/rootless.rs makes them.
//! Outbound TCP reaches a server on a non-loopback address of a network
//! namespace the test makes (pocket runs there as the user, as on a
//! host), the host's loopback only when allowed, `-p` forwards the host's
//! 127.0.0.1 to a server in the container, and nothing is left after:
//! no slirp4netns process, no API socket, the host port free again.

mod common;
use common::netns::Ns;
use common::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

const SLIRP: &str = "/usr/bin/slirp4netns";

/// Root, and slirp4netns installed; else a visible SKIP.
fn ready(what: &str) -> bool {
    if !root() {
        return false;
    }
    if !Path::new(SLIRP).exists() {
        common::features::skip(what, "slirp4netns is not installed (package slirp4netns)");
        return false;
    }
    true
}

/// A plain user (tests/common/user.rs, no subordinate ids) and, where the
/// host keeps /dev/net/tun root's, a world-usable node bound over it in a
/// mount namespace of pocket's own (slirp4netns opens it as the user;
/// most hosts have it 0666).
struct User {
    u: common::user::User,
    tun: Option<PathBuf>,
}

impl std::ops::Deref for User {
    type Target = common::user::User;
    fn deref(&self) -> &common::user::User {
        &self.u
    }
}

impl User {
    fn new(tag: &str) -> User {
        let u = common::user::User::new(&format!("n{tag}"), false);
        let mode = std::fs::metadata("/dev/net/tun").map_or(0, |m| m.permissions().mode());
        let tun = (mode & 0o006 != 0o006).then(|| {
            let t = u.home.join("tun");
            let st = Command::new("mknod")
                .arg(&t)
                .args(["c", "10", "200"])
                .status()
                .unwrap();
            assert!(st.success(), "mknod tun");
            std::fs::set_permissions(&t, std::fs::Permissions::from_mode(0o666)).unwrap();
            t
        });
        User { u, tun }
    }

    fn env(&self, c: &mut Command) {
        c.env_clear()
            .env("HOME", &self.home)
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .current_dir(&self.home)
            .stdin(Stdio::null());
    }

    /// pocket as this user, in the host's network namespace; no settings
    /// (the rootless default network is what is tested).
    fn cmd(&self, args: &[&str]) -> Command {
        self.cmd_ns(None, args)
    }

    /// pocket as this user in `ns`.
    fn cmd_in(&self, ns: &Ns, args: &[&str]) -> Command {
        self.cmd_ns(Some(ns), args)
    }

    /// As root: a mount namespace of its own with the tun node (if the
    /// host's is root's), `ns`'s network; then the user's ids and pocket.
    fn cmd_ns(&self, ns: Option<&Ns>, args: &[&str]) -> Command {
        if let (None, None) = (ns, &self.tun) {
            let mut c = Command::new(&self.bin);
            self.env(&mut c);
            c.args(args).uid(self.uid).gid(self.gid);
            return c;
        }
        let mut c = Command::new("/usr/bin/unshare");
        self.env(&mut c);
        let net = ns.map_or(String::new(), |n| {
            format!("nsenter --net=/proc/{}/ns/net --", n.0.id())
        });
        let tun = self.tun.as_ref().map_or(String::new(), |t| {
            format!("mount --bind {} /dev/net/tun || exit 99;", t.display())
        });
        let script = format!(
            "P=$PATH; export PATH=/usr/sbin:/usr/bin:/sbin:/bin; {tun} \
             exec {net} setpriv --reuid {} --regid {} --clear-groups -- env PATH=\"$P\" \"$@\"",
            self.uid, self.gid
        );
        c.args(["-m", "--propagation", "private", "--", "/bin/sh", "-c"])
            .arg(script)
            .arg("sh")
            .arg(&self.bin)
            .args(args);
        c
    }

    fn out(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("pocket as the user")
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = self.out(args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        stdout(&o)
    }

    /// The runtime dir (no XDG_RUNTIME_DIR: below the data dir).
    fn run_dir(&self) -> PathBuf {
        self.home.join(".local/share/pocket/run")
    }

    /// The user's slirp4netns processes.
    fn slirps(&self) -> Vec<i32> {
        procs_named("slirp4netns")
            .into_iter()
            .filter(|&p| uid_of(p) == Some(self.uid))
            .collect()
    }

    /// slirp4netns API sockets left in the runtime dir.
    fn sockets(&self) -> Vec<String> {
        std::fs::read_dir(self.run_dir())
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.starts_with("slirp") && n.ends_with(".sock"))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Nothing of slirp4netns left (it may take a moment to exit after
    /// its exit fd closed).
    fn assert_clean(&self) {
        let t = Instant::now();
        while !self.slirps().is_empty() && t.elapsed() < Duration::from_secs(3) {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(self.slirps(), Vec::<i32>::new(), "slirp4netns left running");
        assert_eq!(self.sockets(), Vec::<String>::new(), "API sockets left");
    }
}

impl Drop for User {
    /// Its containers go as `u`'s drop removes them (and the user, its
    /// home); a slirp4netns of a failed test first.
    fn drop(&mut self) {
        if let Ok(o) = self.cmd(&["ps", "-aq"]).output() {
            for id in String::from_utf8_lossy(&o.stdout).lines() {
                let _ = self.cmd(&["rm", "-f", id]).output();
            }
        }
        for p in self.slirps() {
            // SAFETY: a pid of the test user's, read just now.
            unsafe { libc::kill(p, libc::SIGKILL) };
        }
    }
}

fn uid_of(pid: i32) -> Option<u32> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let l = s.lines().find(|l| l.starts_with("Uid:"))?;
    l.split_whitespace().nth(2)?.parse().ok()
}

fn procs_named(name: &str) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c.trim() == name)
        })
        .collect()
}

/// A listening socket on `addr` in the network namespace of `ns`: bound
/// from a thread that entered it (the socket stays in that namespace).
fn listen_in(ns: &Ns, addr: &str) -> TcpListener {
    let path = format!("/proc/{}/ns/net", ns.0.id());
    let addr = addr.to_string();
    std::thread::spawn(move || {
        let f = std::fs::File::open(&path).unwrap();
        use std::os::fd::AsRawFd;
        // SAFETY: a valid namespace fd; this thread alone changes namespace.
        let r = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(r, 0, "setns {path}");
        TcpListener::bind(&addr).unwrap()
    })
    .join()
    .unwrap()
}

/// Serve one line per connection: "pong " + the line, until dropped.
fn pong(l: TcpListener) {
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let mut s = s;
            let mut buf = [0u8; 256];
            let n = s.read(&mut buf).unwrap_or(0);
            let _ = s.write_all(b"pong ");
            let _ = s.write_all(&buf[..n]);
        }
    });
}

#[test]
fn outbound_tcp_through_slirp4netns_and_no_host_loopback_unless_allowed() {
    if !ready("rootless slirp4netns outbound") {
        return;
    }
    let _one = one();
    let u = User::new("a");
    // A namespace of the test's own stands for the host: a non-loopback
    // address (TEST-NET-1, on its lo: no dummy module needed) with the
    // server, and its 127.0.0.1 another.
    let ns = Ns::new();
    ns.sh("ip link set lo up && ip addr add 192.0.2.1/32 dev lo");
    let out_l = listen_in(&ns, "192.0.2.1:0");
    let lo_l = listen_in(&ns, "127.0.0.1:0");
    let (out_port, lo_port) = (
        out_l.local_addr().unwrap().port(),
        lo_l.local_addr().unwrap().port(),
    );
    pong(out_l);
    pong(lo_l);
    let script = format!(
        "cat /etc/resolv.conf; ip -4 -o addr show; ip route; ls /proc/self/fd | tr '\\n' ' '; echo; \
         echo out | nc -w 5 192.0.2.1 {out_port}; echo; \
         echo lo | nc -w 2 10.0.2.2 {lo_port} || echo lo-refused"
    );
    // No --net: the default where slirp4netns is installed.
    let o = u
        .cmd_in(
            &ns,
            &["run", "--rm", "--rootfs", u.rootfs(), "sh", "-c", &script],
        )
        .output()
        .unwrap();
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
    assert!(out.contains("nameserver 10.0.2.3"), "{out}");
    assert!(out.contains("inet 10.0.2.100/24"), "{out}");
    assert!(out.contains("default via 10.0.2.2"), "{out}");
    // Nothing but stdio (and ls's own directory fd) in the container.
    assert!(
        out.lines().any(|l| l.trim() == "0 1 2 3"),
        "fds in the container: {out}"
    );
    assert!(out.contains("pong out"), "outbound TCP: {out}");
    assert!(out.contains("lo-refused"), "host loopback reached: {out}");
    assert!(!out.contains("pong lo"), "host loopback reached: {out}");
    u.assert_clean();
    // Allowed: 10.0.2.2 is the host's 127.0.0.1.
    let o = u
        .cmd_in(
            &ns,
            &[
                "run",
                "--rm",
                "--net",
                "slirp4netns:allow_host_loopback=true",
                "--rootfs",
                u.rootfs(),
                "sh",
                "-c",
                &format!("echo lo | nc -w 5 10.0.2.2 {lo_port}"),
            ],
        )
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), "pong lo", "{}", stderr(&o));
    u.assert_clean();
}

/// A free port on the host's 127.0.0.1 now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// What a connection to 127.0.0.1:port reads, retried until the
/// container's server answers.
fn fetch(port: u16) -> String {
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let mut got = String::new();
            let _ = s.read_to_string(&mut got);
            if !got.is_empty() {
                return got;
            }
        }
        assert!(Instant::now() < end, "nothing on 127.0.0.1:{port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn publish_reaches_a_server_in_the_container_and_leaves_nothing() {
    if !ready("rootless slirp4netns -p") {
        return;
    }
    let _one = one();
    let u = User::new("b");
    let port = free_port();
    let p = format!("127.0.0.1:{port}:8080");
    let id = u.ok(&[
        "run",
        "-d",
        "-p",
        &p,
        "--rootfs",
        u.rootfs(),
        "sh",
        "-c",
        "while true; do echo hello from inside | nc -l -p 8080; done",
    ]);
    let id = id.trim();
    assert_eq!(fetch(port).trim(), "hello from inside");
    assert_eq!(fetch(port).trim(), "hello from inside");
    // Its network: one slirp4netns of the user's, the monitor's child,
    // with nothing of the container's output pipes; no socket left.
    let slirps = u.slirps();
    assert_eq!(slirps.len(), 1, "{slirps:?}");
    let init: i32 = u
        .ok(&["inspect", "-f", "{{.State.Pid}}", id])
        .trim()
        .parse()
        .unwrap();
    let monitor = common::mem::ppid(init);
    assert_eq!(
        common::mem::ppid(slirps[0]),
        monitor,
        "slirp4netns is the monitor's"
    );
    assert_eq!(u.sockets(), Vec::<String>::new());
    // The same port twice: the second start fails, saying why, and
    // leaves nothing of its own.
    let o = u.out(&["run", "--rm", "-p", &p, "--rootfs", u.rootfs(), "true"]);
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    common::checks::one_error_line(&o, "a port held twice");
    assert!(stderr(&o).contains("publish"), "{}", stderr(&o));
    assert_eq!(u.slirps().len(), 1);
    u.ok(&["rm", "-f", id]);
    u.assert_clean();
    assert!(
        TcpListener::bind(("127.0.0.1", port)).is_ok(),
        "port {port} still held"
    );
    // In the foreground with --rm: the same, and gone with it.
    let port = free_port();
    let p = format!("127.0.0.1:{port}:8080");
    let mut c = u.cmd(&[
        "run",
        "--rm",
        "-p",
        &p,
        "--rootfs",
        u.rootfs(),
        "sh",
        "-c",
        "echo one shot | nc -l -p 8080",
    ]);
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert_eq!(fetch(port).trim(), "one shot");
    assert_eq!(wait_code(&mut child, 10), Some(0));
    u.assert_clean();
    assert_eq!(u.ok(&["ps", "-aq"]), "");
}

#[test]
fn without_slirp4netns_the_default_is_none_and_asking_for_it_says_why() {
    if !ready("rootless slirp4netns missing") {
        return;
    }
    let _one = one();
    let u = User::new("c");
    // A PATH without it stands for a host without it.
    let mut c = u.cmd(&[
        "run",
        "--rm",
        "--rootfs",
        u.rootfs(),
        "ls",
        "/sys/class/net",
    ]);
    let o = c.env("PATH", "/nonexistent").output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "lo\n");
    let mut c = u.cmd(&[
        "run",
        "--rm",
        "--net",
        "slirp4netns",
        "--rootfs",
        u.rootfs(),
        "true",
    ]);
    let o = c.env("PATH", "/nonexistent").output().unwrap();
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    common::checks::one_error_line(&o, "no slirp4netns");
    assert!(stderr(&o).contains("not installed"), "{}", stderr(&o));
    // A bad option, and -p with --net none, refused.
    for (args, why) in [
        (vec!["--net", "slirp4netns:mtu=9000"], "allow_host_loopback"),
        (vec!["--net", "none", "-p", "80"], "needs a bridge network"),
    ] {
        let mut a = vec!["run", "--rm"];
        a.extend(&args);
        a.extend(["--rootfs", u.rootfs(), "true"]);
        let o = u.out(&a);
        assert_eq!(o.status.code(), Some(125), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(why), "{args:?}: {}", stderr(&o));
    }
    assert_eq!(u.ok(&["ps", "-aq"]), "");
    u.assert_clean();
}

/// `pocket port ID` as lines.
fn port_lines(u: &User, id: &str) -> Vec<String> {
    u.ok(&["port", id]).lines().map(String::from).collect()
}

/// The host port `port ID` reports for `private` ("8081/tcp").
fn reported(lines: &[String], private: &str) -> u16 {
    let l = lines
        .iter()
        .find(|l| l.starts_with(&format!("{private} -> ")))
        .unwrap_or_else(|| panic!("no {private} in {lines:?}"));
    l.rsplit(':').next().unwrap().parse().unwrap()
}

/// inspect's document for `id` (as the user).
fn inspect_doc(u: &User, id: &str) -> common::checks::J {
    let out = u.ok(&["inspect", id]);
    let v = common::checks::json(&out).unwrap_or_else(|e| panic!("inspect JSON: {e}\n{out}"));
    v.arr()[0].clone()
}

/// A port map of inspect's as "80/tcp=0.0.0.0:8080" strings, in order.
fn bindings(m: &common::checks::J) -> Vec<String> {
    m.keys()
        .iter()
        .flat_map(|k| {
            m.get(k)
                .arr()
                .iter()
                .map(move |b| format!("{k}={}:{}", b.get("HostIp").str(), b.get("HostPort").str()))
        })
        .collect()
}

#[test]
fn port_ps_and_inspect_show_slirp_forwards_while_it_runs_and_nothing_after() {
    if !ready("rootless slirp4netns port/ps/inspect") {
        return;
    }
    let _one = one();
    let u = User::new("d");
    let fixed = free_port();
    let p = format!("127.0.0.1:{fixed}:8080");
    // A fixed host port, one chosen for it (tcp and udp).
    let id = u.ok(&[
        "run",
        "-d",
        "-p",
        &p,
        "-p",
        "8081",
        "-p",
        "5353/udp",
        "--rootfs",
        u.rootfs(),
        "sh",
        "-c",
        "(while true; do echo from 8080 | nc -l -p 8080; done) & \
         while true; do echo from 8081 | nc -l -p 8081; done",
    ]);
    let id = id.trim().to_string();
    let lines = port_lines(&u, &id);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0], format!("8080/tcp -> 127.0.0.1:{fixed}"));
    assert!(lines[1].starts_with("8081/tcp -> 0.0.0.0:"), "{lines:?}");
    assert!(lines[2].starts_with("5353/udp -> 0.0.0.0:"), "{lines:?}");
    let chosen = reported(&lines, "8081/tcp");
    let chosen_udp = reported(&lines, "5353/udp");
    for p in [chosen, chosen_udp] {
        assert!((32768..=60999).contains(&p), "not ephemeral: {p}");
    }
    // The ports reported are the ones that reach the servers inside.
    assert_eq!(fetch(fixed).trim(), "from 8080");
    assert_eq!(fetch(chosen).trim(), "from 8081");
    assert!(
        std::net::UdpSocket::bind(("127.0.0.1", chosen_udp)).is_err(),
        "udp {chosen_udp} not held by slirp4netns"
    );
    // One port asked for, as docker answers.
    assert_eq!(
        u.ok(&["port", &id, "8081"]).trim(),
        format!("0.0.0.0:{chosen}")
    );
    assert_eq!(
        u.ok(&["port", &id, "8080/tcp"]).trim(),
        format!("127.0.0.1:{fixed}")
    );
    let o = u.out(&["port", &id, "9999"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // ps: docker's PORTS cell (its order: by container port), in the
    // table and by --format.
    let cell = format!(
        "0.0.0.0:{chosen_udp}->5353/udp, 127.0.0.1:{fixed}->8080/tcp, 0.0.0.0:{chosen}->8081/tcp"
    );
    assert_eq!(u.ok(&["ps", "--format", "{{.Ports}}"]).trim(), cell);
    assert!(u.ok(&["ps"]).contains(&cell), "{}", u.ok(&["ps"]));
    // inspect: NetworkSettings.Ports and HostConfig.PortBindings, granted.
    let doc = inspect_doc(&u, &id);
    // (Keys in order, as Go writes a map.)
    let want = vec![
        format!("5353/udp=0.0.0.0:{chosen_udp}"),
        format!("8080/tcp=127.0.0.1:{fixed}"),
        format!("8081/tcp=0.0.0.0:{chosen}"),
    ];
    assert_eq!(bindings(doc.get("NetworkSettings").get("Ports")), want);
    assert_eq!(bindings(doc.get("HostConfig").get("PortBindings")), want);
    let record = u.run_dir().join("containers").join(&id).join("ports.json");
    assert!(record.exists(), "{}", record.display());

    // Stopped: no forward shown (slirp4netns is gone with them), the
    // record gone, the ports free; PortBindings says what was asked.
    u.ok(&["stop", "-t", "1", &id]);
    u.assert_clean();
    assert_eq!(u.ok(&["port", &id]), "");
    assert_eq!(u.ok(&["ps", "-a", "--format", "{{.Ports}}"]).trim(), "");
    let doc = inspect_doc(&u, &id);
    assert_eq!(
        bindings(doc.get("NetworkSettings").get("Ports")),
        Vec::<String>::new()
    );
    assert_eq!(
        bindings(doc.get("HostConfig").get("PortBindings")),
        [
            String::from("5353/udp=0.0.0.0:"),
            format!("8080/tcp=127.0.0.1:{fixed}"),
            String::from("8081/tcp=0.0.0.0:"),
        ]
    );
    assert!(!record.exists(), "{} left after stop", record.display());
    for p in [fixed, chosen] {
        assert!(
            TcpListener::bind(("0.0.0.0", p)).is_ok(),
            "port {p} still held"
        );
    }

    // Started again: this run's forwards (a host port chosen afresh).
    u.ok(&["start", &id]);
    let lines = port_lines(&u, &id);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0], format!("8080/tcp -> 127.0.0.1:{fixed}"));
    let chosen = reported(&lines, "8081/tcp");
    assert_eq!(fetch(chosen).trim(), "from 8081");
    assert_eq!(fetch(fixed).trim(), "from 8080");

    // Removed: nothing shown, nothing left, the ports free.
    u.ok(&["rm", "-f", &id]);
    u.assert_clean();
    let o = u.out(&["port", &id]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("no such container"), "{}", stderr(&o));
    assert_eq!(u.ok(&["ps", "-a", "--format", "{{.Ports}}"]), "");
    assert!(!u.run_dir().join("containers").join(&id).exists());
    for p in [fixed, chosen] {
        assert!(
            TcpListener::bind(("0.0.0.0", p)).is_ok(),
            "port {p} still held"
        );
    }
}
