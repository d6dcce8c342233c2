//! `run` on bridge networks, end to end: real containers with veths on a
//! bridge, addresses, DNAT for `-p`, pocket's nf_tables table. Every test
//! runs pocket in a network namespace of its own (held by `unshare -n
//! sleep`), so the bridge, the veths and the table live and die there; the
//! host's interfaces, addresses, routes and tables are never touched, and
//! all traffic stays on that namespace's loopback, its bridge, or a veth
//! to a second throwaway namespace standing in for another host.
//!
//! The test side of the traffic (HTTP clients, a TCP server on the
//! bridge's address, UDP) runs in threads that setns(2) into the test's
//! namespace; `ip` and `nft` are used here only, to set up "hosts" and to
//! read the state back. The overlapping-subnet refusal is
//! tests/networks.rs `overlapping_subnets_are_refused`.

mod common;
use common::*;
use pocket::json::Value;
use std::ffi::OsStr;
use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Enter network namespace `fd` (this thread only: a netns is per task).
fn enter(fd: i32) {
    // SAFETY: a plain syscall on an fd the caller keeps open.
    let r = unsafe { libc::setns(fd, libc::CLONE_NEWNET) };
    assert_eq!(r, 0, "setns: {}", std::io::Error::last_os_error());
}

/// A throwaway network namespace: a sleeping process holds it; killing it
/// (Drop, also on panic) takes everything pocket made in it along.
struct Ns {
    holder: Child,
    fd: File,
}

impl Ns {
    fn new() -> Ns {
        let holder = Command::new("unshare")
            .args(["-n", "--", "sleep", "600"])
            .stdin(Stdio::null())
            .spawn()
            .expect("unshare (util-linux)");
        let pid = holder.id();
        // The guard exists before anything can panic.
        let mut ns = Ns {
            holder,
            fd: File::open("/proc/self/ns/net").unwrap(),
        };
        let me = std::fs::read_link("/proc/self/ns/net").unwrap();
        wait_for(10, "the new network namespace", || {
            let l = std::fs::read_link(format!("/proc/{pid}/ns/net")).ok()?;
            (l != me).then_some(())
        });
        ns.fd = File::open(format!("/proc/{pid}/ns/net")).unwrap();
        ns.sh("ip link set lo up");
        ns
    }

    fn pid(&self) -> u32 {
        self.holder.id()
    }

    /// PROG run inside the namespace: setns in the child before exec, so
    /// the child is PROG itself (its pid is the one to SIGKILL).
    fn cmd<S: AsRef<OsStr>>(&self, prog: S) -> Command {
        let mut c = Command::new(prog);
        let fd = self.fd.as_raw_fd();
        // SAFETY: setns is async-signal-safe; the fd is open in the child
        // until its exec (close-on-exec).
        unsafe {
            c.pre_exec(move || {
                if libc::setns(fd, libc::CLONE_NEWNET) == 0 {
                    Ok(())
                } else {
                    Err(std::io::Error::last_os_error())
                }
            });
        }
        c.stdin(Stdio::null());
        c
    }

    fn try_sh(&self, script: &str) -> Output {
        self.cmd("timeout")
            .args(["30", "sh", "-c", script])
            .output()
            .unwrap()
    }

    fn sh(&self, script: &str) -> String {
        let o = self.try_sh(script);
        assert!(o.status.success(), "{script}: {}", stderr(&o));
        stdout(&o)
    }

    /// Interface names (/proc/PID/net is PID's namespace).
    fn links(&self) -> Vec<String> {
        std::fs::read_to_string(format!("/proc/{}/net/dev", self.pid()))
            .unwrap()
            .lines()
            .skip(2)
            .filter_map(|l| l.split(':').next().map(|s| s.trim().to_string()))
            .collect()
    }

    /// Container veths (`pk` and 8 hex digits; not the bridges "pk-...").
    fn veths(&self) -> Vec<String> {
        self.links()
            .into_iter()
            .filter(|l| l.len() == 10 && l.starts_with("pk") && !l.contains('-'))
            .collect()
    }

    /// Wait for the container veths to be exactly `want`: a veth goes
    /// with its container's namespace, which the kernel frees lazily.
    fn wait_veths(&self, want: &[String]) {
        let mut want = want.to_vec();
        want.sort();
        let end = Instant::now() + Duration::from_secs(15);
        loop {
            let mut have = self.veths();
            have.sort();
            if have == want {
                return;
            }
            assert!(Instant::now() < end, "veths {have:?}, want {want:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `nft list table ip NAME`: lines trimmed, blank ones dropped; None
    /// if there is no such table.
    fn table(&self, name: &str) -> Option<String> {
        let o = self
            .cmd("nft")
            .args(["list", "table", "ip", name])
            .output()
            .unwrap();
        o.status.success().then(|| {
            let s = stdout(&o);
            let v: Vec<&str> = s.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
            v.join("\n")
        })
    }

    /// Run `f` on a thread inside the namespace, and wait for it.
    fn within<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        let fd = self.fd.as_raw_fd();
        std::thread::scope(|s| {
            s.spawn(move || {
                enter(fd);
                f()
            })
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e))
        })
    }

    /// Run `f` on a thread inside the namespace, in the background.
    fn spawn<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> std::thread::JoinHandle<T> {
        let fd = self.fd.try_clone().unwrap();
        std::thread::spawn(move || {
            enter(fd.as_raw_fd());
            drop(fd);
            f()
        })
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

/// One test's world: a namespace, a state root, a scratch dir. Drop
/// removes the containers from inside the namespace first: a `pocket rm`
/// run outside it (Root's own Drop) would sync pocket's table in the
/// host's namespace.
struct Env {
    ns: Ns,
    r: Root,
    tmp: PathBuf,
}

impl Env {
    fn new(tag: &str) -> Env {
        let ns = Ns::new();
        let r = Root::new(&format!("netrun-{tag}"));
        let tmp = r.0.with_extension("files");
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).unwrap();
        Env { ns, r, tmp }
    }

    /// pocket (no time limit: for the SIGKILL test, which needs its pid).
    fn raw(&self) -> Command {
        let mut c = self.ns.cmd(bin());
        c.env("POCKET_CONFIG", "/dev/null")
            .arg("--root")
            .arg(&self.r.0);
        c
    }

    /// pocket under a time limit.
    fn timed(&self) -> Command {
        let mut c = self.ns.cmd("timeout");
        // In its own namespace: pocket's defaults (no settings file).
        c.env("POCKET_CONFIG", "/dev/null");
        c.args(["-k", "5", "60"])
            .arg(bin())
            .arg("--root")
            .arg(&self.r.0);
        c
    }

    fn out(&self, args: &[&str]) -> Output {
        self.timed().args(args).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = self.out(args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        stdout(&o)
    }

    /// A refusal: exit 125, one line on stderr starting "pocket: ", no
    /// stdout. Returns the line.
    fn refused(&self, args: &[&str]) -> String {
        let o = self.out(args);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(125), "{args:?}: {e}");
        assert!(
            e.starts_with("pocket: ") && e.lines().count() == 1,
            "{args:?}: {e:?}"
        );
        assert_eq!(stdout(&o), "", "{args:?}");
        e
    }

    /// `run -d --rootfs BUSYBOX ARGS...`: the full id.
    fn run_d(&self, args: &[&str]) -> String {
        let mut v = vec!["run", "-d", "--rootfs", rootfs().to_str().unwrap()];
        v.extend_from_slice(args);
        let id = self.ok(&v).trim().to_string();
        assert_eq!(id.len(), 64, "{id:?}");
        id
    }

    /// `run --rootfs BUSYBOX ARGS...` in the foreground.
    fn run(&self, args: &[&str]) -> Output {
        let mut v = vec!["run", "--rootfs", rootfs().to_str().unwrap()];
        v.extend_from_slice(args);
        self.out(&v)
    }

    fn exec(&self, id: &str, cmd: &[&str]) -> String {
        let mut v = vec!["exec", id];
        v.extend_from_slice(cmd);
        self.ok(&v)
    }

    fn ids(&self) -> Vec<String> {
        self.ok(&["ps", "-aq", "--no-trunc"])
            .lines()
            .map(String::from)
            .collect()
    }

    fn net(&self, name: &str) -> Value {
        let s = self.ok(&["network", "inspect", name]);
        let v = pocket::json::parse(s.as_bytes()).expect("network inspect prints JSON");
        v.arr().expect("an array")[0].clone()
    }

    /// (container id, address without the prefix) of every endpoint.
    fn endpoints(&self, name: &str) -> Vec<(String, String)> {
        match self.net(name).get("Containers") {
            Some(Value::Obj(m)) => m
                .iter()
                .map(|(id, ep)| {
                    let a = ep.get("IPv4Address").and_then(Value::str).unwrap();
                    (id.clone(), a.split('/').next().unwrap().to_string())
                })
                .collect(),
            other => panic!("Containers: {other:?}"),
        }
    }

    fn ip(&self, net: &str, id: &str) -> String {
        self.endpoints(net)
            .into_iter()
            .find(|(c, _)| c == id)
            .unwrap_or_else(|| panic!("{id} not on {net}"))
            .1
    }

    /// A directory with one file for httpd to serve, as a -v argument.
    fn site(&self, name: &str, body: &str) -> String {
        let d = self.tmp.join(name);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("file"), body).unwrap();
        format!("{}:/w:ro", d.display())
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Ok(o) = self.timed().args(["ps", "-aq", "--no-trunc"]).output() {
            for id in stdout(&o).lines() {
                let _ = self.timed().args(["rm", "-f", id]).output();
            }
        }
        let _ = std::fs::remove_dir_all(&self.r.0);
        let _ = std::fs::remove_dir_all(&self.tmp);
    }
}

/// `GET PATH` over HTTP/1.0: the body of a 200 answer.
fn http_get(addr: &str, path: &str) -> std::io::Result<String> {
    let a: SocketAddr = addr.parse().unwrap();
    let mut s = TcpStream::connect_timeout(&a, Duration::from_secs(3))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.set_write_timeout(Some(Duration::from_secs(5)))?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: test\r\n\r\n")?;
    let mut b = String::new();
    s.read_to_string(&mut b)?;
    let bad = |why: &str| std::io::Error::other(format!("{why}: {b:?}"));
    let (head, body) = b
        .split_once("\r\n\r\n")
        .ok_or_else(|| bad("no header end"))?;
    if !head.lines().next().unwrap_or("").contains(" 200 ") {
        return Err(bad("not 200"));
    }
    Ok(body.to_string())
}

/// `http_get` from inside `ns`, retried until the server answers.
fn wait_http(ns: &Ns, addr: &str, path: &str) -> String {
    ns.within(|| {
        let end = Instant::now() + Duration::from_secs(20);
        loop {
            match http_get(addr, path) {
                Ok(b) => return b,
                Err(e) => assert!(Instant::now() < end, "GET http://{addr}{path}: {e}"),
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    })
}

/// A connection that must be refused (nothing listens, no DNAT).
fn refused_from(ns: &Ns, addr: &str) {
    let r = ns.within(|| http_get(addr, "/file"));
    match r {
        Err(e) if e.kind() == ErrorKind::ConnectionRefused => {}
        other => panic!("{addr}: want connection refused, got {other:?}"),
    }
}

/// The busybox httpd a test serves `site` with, on port 80.
const HTTPD: [&str; 6] = ["httpd", "-f", "-p", "80", "-h", "/w"];

#[test]
fn two_containers_on_a_network_talk_and_get_their_etc_files() {
    if !root() {
        return;
    }
    let e = Env::new("pair");
    let site = e.site("a", "served by a\n");
    let mut a_args = vec!["--net", "bridge", "--name", "web", "-v", &site];
    a_args.extend(HTTPD);
    let a = e.run_d(&a_args);
    let b = e.run_d(&[
        "--net",
        "bridge",
        "--name",
        "client",
        "--add-host",
        "db.test:10.1.2.3",
        "--dns",
        "10.0.0.53",
        "sleep",
        "60",
    ]);
    let eps = e.endpoints("bridge");
    assert_eq!(eps.len(), 2, "{eps:?}");
    let (ipa, ipb) = (e.ip("bridge", &a), e.ip("bridge", &b));
    assert_ne!(ipa, ipb);
    for ip in [&ipa, &ipb] {
        assert!(ip.starts_with("10.88.") && ip != "10.88.0.1", "{ip}");
    }
    let net = e.net("bridge");
    let names: Vec<&str> = [&a, &b]
        .iter()
        .map(|id| {
            net.get("Containers")
                .and_then(|c| c.get(id))
                .and_then(|ep| ep.get("Name"))
                .and_then(Value::str)
                .unwrap()
        })
        .collect();
    assert_eq!(names, ["web", "client"]);

    // b fetches from a, by address, across the bridge (retried in the
    // container until httpd listens).
    let script = format!(
        "for i in $(seq 100); do wget -q -O - http://{ipa}/file && exit 0; sleep 0.1; done; exit 1"
    );
    assert_eq!(e.exec(&b, &["sh", "-c", &script]), "served by a\n");

    for (id, ip) in [(&a, &ipa), (&b, &ipb)] {
        let hostname = e.exec(id, &["hostname"]).trim().to_string();
        assert!(!hostname.is_empty());
        assert_eq!(
            e.exec(id, &["cat", "/etc/hostname"]),
            format!("{hostname}\n")
        );
        let hosts = e.exec(id, &["cat", "/etc/hosts"]);
        let lines: Vec<Vec<&str>> = hosts
            .lines()
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert!(
            lines.contains(&vec![ip.as_str(), hostname.as_str()]),
            "{hosts}"
        );
        assert!(lines.contains(&vec!["127.0.0.1", "localhost"]), "{hosts}");
        let other = if *ip == ipa { &ipb } else { &ipa };
        assert!(!hosts.contains(other.as_str()), "{hosts}");
        // Its own address on eth0, default route via the gateway.
        let addr = e.exec(id, &["ip", "-4", "-o", "addr", "show", "dev", "eth0"]);
        assert!(addr.contains(&format!("inet {ip}/16 ")), "{addr}");
        let route = e.exec(id, &["ip", "route"]);
        assert!(
            route
                .lines()
                .any(|l| l.starts_with("default via 10.88.0.1 dev eth0")),
            "{route}"
        );
        let links = e.exec(id, &["ls", "/sys/class/net"]);
        let mut links: Vec<&str> = links.split_whitespace().collect();
        links.sort();
        assert_eq!(links, ["eth0", "lo"]);
    }
    let hosts_b = e.exec(&b, &["cat", "/etc/hosts"]);
    assert!(
        hosts_b
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["10.1.2.3", "db.test"]),
        "{hosts_b}"
    );
    // resolv.conf: --dns replaces the host's nameservers; without it the
    // file is there all the same.
    assert_eq!(
        e.exec(&b, &["grep", "^nameserver", "/etc/resolv.conf"]),
        "nameserver 10.0.0.53\n"
    );
    assert!(
        e.out(&["exec", &a, "test", "-f", "/etc/resolv.conf"])
            .status
            .success()
    );
    // The host ends: two veths on pocket0, named after the addresses.
    let mut want: Vec<String> = [&ipa, &ipb]
        .iter()
        .map(|ip| {
            let o: Vec<u8> = ip.split('.').map(|x| x.parse().unwrap()).collect();
            format!("pk{:02x}{:02x}{:02x}{:02x}", o[0], o[1], o[2], o[3])
        })
        .collect();
    want.sort();
    e.ns.wait_veths(&want);
    for v in &want {
        let l = e.ns.sh(&format!("ip -o link show dev {v}"));
        assert!(l.contains("master pocket0") && l.contains(",UP"), "{l}");
    }
    e.ok(&["rm", "-f", &a, &b]);
    assert_eq!(e.endpoints("bridge"), []);
    e.ns.wait_veths(&[]);
}

#[test]
fn a_container_reaches_a_server_on_the_bridge_address() {
    if !root() {
        return;
    }
    let e = Env::new("gw");
    let c = e.run_d(&["--net", "bridge", "sleep", "60"]);
    let ip = e.ip("bridge", &c);
    // The bridge exists now: listen on its address, in the test's "host".
    let l =
        e.ns.within(|| TcpListener::bind("10.88.0.1:8000").expect("bind the gateway address"));
    let server = e.ns.spawn(move || {
        l.set_nonblocking(true).unwrap();
        let end = Instant::now() + Duration::from_secs(20);
        let (mut s, peer) = loop {
            match l.accept() {
                Ok(x) => break x,
                Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < end => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Err(e) => return Err(format!("accept: {e}")),
            }
        };
        s.set_nonblocking(false).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut req = Vec::new();
        let mut b = [0u8; 1024];
        while !req.windows(4).any(|w| w == b"\r\n\r\n") {
            match s.read(&mut b) {
                Ok(0) | Err(_) => break,
                Ok(n) => req.extend_from_slice(&b[..n]),
            }
        }
        let _ = s.write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\npong\n");
        Ok((peer, String::from_utf8_lossy(&req).into_owned()))
    });
    let got = e.exec(&c, &["wget", "-q", "-O", "-", "http://10.88.0.1:8000/ping"]);
    assert_eq!(got, "pong\n");
    let (peer, req) = server.join().unwrap().unwrap();
    assert!(req.starts_with("GET /ping HTTP/1."), "{req:?}");
    // Straight from the container's address: no NAT on the way in.
    assert_eq!(peer.ip().to_string(), ip);

    // stats' NET I/O (docker's RX / TX of the container's networks, not
    // lo): that exchange went through its eth0 both ways, a handshake and
    // a request out, a response in (over 200 bytes each). A container on
    // the host's network has no network of its own: 0B / 0B, as docker.
    let io = e.ok(&["stats", "--no-stream", "--format", "{{.NetIO}}", &c]);
    let (rx, tx) = io
        .trim()
        .split_once(" / ")
        .unwrap_or_else(|| panic!("NET I/O {io:?}"));
    assert!(bytes(rx) >= 200.0 && bytes(tx) >= 200.0, "NET I/O {io:?}");
    let h = e.run_d(&["--net", "host", "sleep", "60"]);
    let io = e.ok(&["stats", "--no-stream", "--format", "{{.NetIO}}", &h]);
    assert_eq!(io, "0B / 0B\n");
}

/// docker's decimal sizes ("432B", "1.23kB") as bytes.
fn bytes(s: &str) -> f64 {
    let (num, unit) = s.split_at(s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len()));
    let k = match unit {
        "B" => 1.0,
        "kB" => 1e3,
        "MB" => 1e6,
        u => panic!("unit {u:?} in {s:?}"),
    };
    num.parse::<f64>().unwrap_or_else(|_| panic!("{s:?}")) * k
}

#[test]
fn published_ports_reach_the_container_from_everywhere() {
    if !root() {
        return;
    }
    let e = Env::new("pub");
    let site = e.site("p", "published\n");
    let mut args = vec![
        "--net",
        "bridge",
        "--name",
        "pub",
        "-p",
        "8080:80",
        "-p",
        "127.0.0.1:8081:80",
        "-p",
        "80",
        "-v",
        &site,
    ];
    args.extend(HTTPD);
    let c = e.run_d(&args);

    // Its Config exposes the published container port, once (docker's).
    let exposed = e.ok(&["inspect", "-f", "{{json .Config.ExposedPorts}}", "pub"]);
    assert_eq!(exposed, "{\"80/tcp\":{}}\n");

    // The mapping as port and ps show it; -p 80 got an ephemeral port.
    let port = e.ok(&["port", "pub"]);
    let lines: Vec<&str> = port.lines().collect();
    assert_eq!(lines.len(), 3, "{port}");
    assert!(lines.contains(&"80/tcp -> 0.0.0.0:8080"), "{port}");
    assert!(lines.contains(&"80/tcp -> 127.0.0.1:8081"), "{port}");
    let random = lines
        .iter()
        .filter_map(|l| l.strip_prefix("80/tcp -> 0.0.0.0:"))
        .map(|p| p.parse::<u16>().unwrap())
        .find(|&p| p != 8080)
        .unwrap_or_else(|| panic!("{port}"));
    assert!((32768..=60999).contains(&random), "{random}");
    let ps = e.ok(&["ps"]);
    let row = ps
        .lines()
        .find(|l| l.ends_with(" pub"))
        .unwrap_or_else(|| panic!("{ps}"));
    for m in [
        "0.0.0.0:8080->80/tcp".to_string(),
        "127.0.0.1:8081->80/tcp".to_string(),
        format!("0.0.0.0:{random}->80/tcp"),
    ] {
        assert!(row.contains(&m), "{m} in {row:?}");
    }

    // inspect: the bindings granted, in docker's two places.
    let b = e.ok(&[
        "inspect",
        "-f",
        "{{json .HostConfig.PortBindings}}|{{json .NetworkSettings.Ports}}",
        "pub",
    ]);
    let (hc, ns) = b.trim().split_once('|').unwrap();
    assert_eq!(hc, ns);
    for want in [
        r#"{"HostIp":"0.0.0.0","HostPort":"8080"}"#.to_string(),
        r#"{"HostIp":"127.0.0.1","HostPort":"8081"}"#.to_string(),
        format!(r#"{{"HostIp":"0.0.0.0","HostPort":"{random}"}}"#),
    ] {
        assert!(
            hc.starts_with(r#"{"80/tcp":["#) && hc.contains(&want),
            "{want} in {hc}"
        );
    }

    // From the host itself, on loopback.
    assert_eq!(wait_http(&e.ns, "127.0.0.1:8080", "/file"), "published\n");
    assert_eq!(wait_http(&e.ns, "127.0.0.1:8081", "/file"), "published\n");
    assert_eq!(
        wait_http(&e.ns, &format!("127.0.0.1:{random}"), "/file"),
        "published\n"
    );

    // Another host: a second namespace on a veth; the first gets an
    // address of its own on it.
    let other = Ns::new();
    e.ns.sh(&format!(
        "ip link add pkt-lan type veth peer name pkt-lan1 netns {} && \
         ip addr add 192.168.77.1/24 dev pkt-lan && ip link set pkt-lan up",
        other.pid()
    ));
    other.sh(
        "ip addr add 192.168.77.2/24 dev pkt-lan1 && ip link set pkt-lan1 up && \
         ip route add default via 192.168.77.1",
    );
    // The host on its own (non-loopback) address.
    assert_eq!(
        wait_http(&e.ns, "192.168.77.1:8080", "/file"),
        "published\n"
    );
    // The other host, through prerouting DNAT and forwarding.
    assert_eq!(
        wait_http(&other, "192.168.77.1:8080", "/file"),
        "published\n"
    );
    assert_eq!(
        wait_http(&other, &format!("192.168.77.1:{random}"), "/file"),
        "published\n"
    );
    // The container itself, through the host's address and its own
    // published port: hairpin (the bridge port sends the DNAT'd packet
    // back the way it came).
    let own = e.exec(
        &c,
        &["wget", "-q", "-O", "-", "http://192.168.77.1:8080/file"],
    );
    assert_eq!(own, "published\n");
    // 127.0.0.1:8081 is published on loopback only.
    refused_from(&e.ns, "192.168.77.1:8081");
    refused_from(&other, "192.168.77.1:8081");
    // A port nobody published.
    refused_from(&e.ns, "127.0.0.1:8082");

    // Gone with the container.
    e.ok(&["rm", "-f", &c]);
    refused_from(&e.ns, "127.0.0.1:8080");
    refused_from(&other, "192.168.77.1:8080");
    e.ns.wait_veths(&[]);
}

#[test]
fn publish_all_maps_the_image_exposed_ports() {
    if !root() {
        return;
    }
    // busybox-docker.tar (scripts/mkimages.sh, buildah) exposes 8080/tcp.
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let images = manifest.join("target/images");
    rootfs();
    let st = Command::new(manifest.join("scripts/mkimages.sh"))
        .arg(&images)
        .status()
        .expect("mkimages.sh");
    assert!(st.success(), "scripts/mkimages.sh failed");
    let e = Env::new("pall");
    let tar = images.join("busybox-docker.tar");
    e.ok(&["load", "-i", tar.to_str().unwrap()]);
    let o = e.ok(&[
        "run", "-d", "--net", "bridge", "-P", "busybox", "httpd", "-f", "-p", "8080", "-h",
        "/srv/app",
    ]);
    let c = o.trim();
    let port = e.ok(&["port", c]);
    let p: u16 = port
        .strip_prefix("8080/tcp -> 0.0.0.0:")
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("{port:?}"));
    assert!((32768..=60999).contains(&p), "{p}");
    assert_eq!(e.ok(&["port", c, "8080"]), format!("0.0.0.0:{p}\n"));
    assert_eq!(
        wait_http(&e.ns, &format!("127.0.0.1:{p}"), "/hello.txt"),
        "from the image\n"
    );
    // Without -P nothing is published; ps lists the exposed port while
    // the container runs (docker's PORTS), inspect has it as null.
    let o = e.ok(&["run", "-d", "--net", "bridge", "busybox", "sleep", "60"]);
    let plain = o.trim();
    assert_eq!(e.ok(&["port", plain]), "");
    let cell = |c: &str| {
        e.ok(&[
            "ps",
            "-a",
            "--format",
            "{{.Ports}}",
            "-f",
            &format!("id={c}"),
        ])
    };
    assert_eq!(cell(plain), "8080/tcp\n");
    assert_eq!(
        e.ok(&["inspect", "-f", "{{json .NetworkSettings.Ports}}", plain]),
        "{\"8080/tcp\":null}\n"
    );
    // --expose (a range too) adds to the image's; -P publishes every
    // exposed port that no -p publishes, once.
    let o = e.ok(&[
        "run",
        "-d",
        "--net",
        "bridge",
        "--expose",
        "7000-7001",
        "--expose",
        "53/udp",
        "-p",
        "9090:8080",
        "-P",
        "busybox",
        "sleep",
        "60",
    ]);
    let x = o.trim();
    let ports = e.ok(&["port", x]);
    assert_eq!(ports.lines().count(), 4, "{ports}");
    assert!(ports.contains("8080/tcp -> 0.0.0.0:9090\n"), "{ports}");
    for k in ["7000/tcp", "7001/tcp", "53/udp"] {
        assert!(ports.contains(&format!("{k} -> 0.0.0.0:")), "{k}: {ports}");
    }
    assert_eq!(
        e.ok(&["inspect", "-f", "{{json .Config.ExposedPorts}}", x]),
        "{\"53/udp\":{},\"7000/tcp\":{},\"7001/tcp\":{},\"8080/tcp\":{}}\n"
    );
    // ps's publish= (a host port) and expose= (a container port).
    let names = |f: &str| e.ok(&["ps", "-q", "--no-trunc", "-f", f]);
    assert_eq!(names("publish=9090").trim(), x);
    assert_eq!(names("expose=7001/tcp").trim(), x);
    assert_eq!(names("expose=53/udp").trim(), x);
    assert_eq!(names("publish=8080"), "");
    let both = names("expose=8080");
    assert!(both.contains(x) && both.contains(plain), "{both}");
    // publish= and expose= together: either is enough, as docker's.
    let o = e.ok(&[
        "ps",
        "-q",
        "--no-trunc",
        "-f",
        "publish=9090",
        "-f",
        "expose=8080",
    ]);
    assert!(o.contains(x) && o.contains(plain), "{o}");
    e.refused(&["ps", "-f", "publish=1:2"]);
    let err = e.refused(&["run", "--rm", "--expose", "80/icmp", "busybox", "true"]);
    assert!(
        err.contains("invalid range format for --expose: 80/icmp"),
        "{err}"
    );
    let err = e.refused(&["run", "--rm", "--expose", "80:80", "busybox", "true"]);
    assert!(
        err.contains("invalid port format for --expose: 80:80"),
        "{err}"
    );
    // Stopped: no ports listed (their host ports stay reserved).
    e.ok(&["stop", "-t", "0", plain]);
    assert_eq!(cell(plain), "\n");
    assert_eq!(
        e.ok(&["inspect", "-f", "{{json .NetworkSettings.Ports}}", plain]),
        "{}\n"
    );
}

/// Not a test of its own: the UDP echo server `udp_publish` runs inside a
/// container, from this very (static) binary mounted in, since busybox's
/// nc has no UDP. Does nothing unless NETRUN_UDP_ECHO names a port.
#[test]
#[ignore]
fn udp_echo_helper() {
    let Ok(port) = std::env::var("NETRUN_UDP_ECHO") else {
        return;
    };
    let s = UdpSocket::bind(("0.0.0.0", port.parse::<u16>().unwrap())).unwrap();
    println!("listening on {port}");
    let mut b = [0u8; 512];
    loop {
        let (n, peer) = s.recv_from(&mut b).unwrap();
        let msg = format!(
            "echo {} from {}",
            String::from_utf8_lossy(&b[..n]),
            peer.ip()
        );
        println!("{msg}");
        let _ = s.send_to(msg.as_bytes(), peer);
    }
}

#[test]
fn udp_publish() {
    if !root() {
        return;
    }
    let e = Env::new("udp");
    let exe = std::env::current_exe().unwrap();
    let vol = format!("{}:/udpecho:ro", exe.display());
    let c = e.run_d(&[
        "--net",
        "bridge",
        "-p",
        "5353:53/udp",
        "-v",
        &vol,
        "-e",
        "NETRUN_UDP_ECHO=53",
        "/udpecho",
        "--exact",
        "udp_echo_helper",
        "--ignored",
        "--nocapture",
        "--test-threads",
        "1",
    ]);
    assert_eq!(e.ok(&["port", &c]), "53/udp -> 0.0.0.0:5353\n");
    // Datagrams until one comes back: the first may arrive before the
    // server is bound.
    let (reply, from) = e.ns.within(|| {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let end = Instant::now() + Duration::from_secs(20);
        let mut b = [0u8; 512];
        loop {
            assert!(Instant::now() < end, "no UDP answer through 127.0.0.1:5353");
            let _ = s.send_to(b"ping-udp", "127.0.0.1:5353");
            if let Ok((n, from)) = s.recv_from(&mut b) {
                return (String::from_utf8_lossy(&b[..n]).into_owned(), from);
            }
        }
    });
    assert!(reply.starts_with("echo ping-udp from "), "{reply:?}");
    assert_eq!(from.to_string(), "127.0.0.1:5353");
    // The container saw it (its log, which the monitor may write a moment
    // after the answer went out), and TCP on that port is not mapped.
    wait_for(10, "the echo in the container's log", || {
        e.ok(&["logs", &c])
            .contains("echo ping-udp from ")
            .then_some(())
    });
    refused_from(&e.ns, "127.0.0.1:5353");
}

#[test]
fn twenty_parallel_runs_get_twenty_addresses() {
    if !root() {
        return;
    }
    let e = Env::new("par");
    let rootfs = rootfs_str();
    let kids: Vec<Child> = (0..20)
        .map(|_| {
            e.raw()
                .args([
                    "run", "-d", "--net", "bridge", "--rootfs", &rootfs, "sleep", "60",
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut ids = vec![];
    for k in kids {
        let o = k.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        ids.push(stdout(&o).trim().to_string());
    }
    let eps = e.endpoints("bridge");
    assert_eq!(eps.len(), 20, "{eps:?}");
    let mut addrs: Vec<String> = eps.iter().map(|(_, a)| a.clone()).collect();
    addrs.sort();
    addrs.dedup();
    assert_eq!(addrs.len(), 20, "{eps:?}");
    for id in &ids {
        let want = e.ip("bridge", id);
        let got = e.exec(id, &["ip", "-4", "-o", "addr", "show", "dev", "eth0"]);
        assert!(got.contains(&format!("inet {want}/16 ")), "{id}: {got}");
    }
    assert_eq!(e.ns.veths().len(), 20, "{:?}", e.ns.veths());
    let mut rm = vec!["rm", "-f"];
    rm.extend(ids.iter().map(String::as_str));
    e.ok(&rm);
    assert_eq!(e.endpoints("bridge"), []);
    assert_eq!(e.ids(), Vec::<String>::new());
    e.ns.wait_veths(&[]);
}

#[test]
fn a_taken_port_and_a_port_without_a_bridge_are_refused() {
    if !root() {
        return;
    }
    let e = Env::new("taken");
    let a = e.run_d(&["--net", "bridge", "-p", "8080:80", "sleep", "60"]);
    let snapshot = |e: &Env| {
        (
            e.ids(),
            e.endpoints("bridge"),
            e.ns.table("pocket"),
            e.ns.links(),
        )
    };
    let before = snapshot(&e);
    let short = &a[..12];
    for args in [
        &["-d", "--net", "bridge", "-p", "8080:80", "sleep", "60"][..],
        &["--net", "bridge", "-p", "8080:80", "true"],
        &[
            "-d",
            "--net",
            "bridge",
            "-p",
            "127.0.0.1:8080:81",
            "sleep",
            "60",
        ],
        &[
            "-d", "--net", "bridge", "-p", "9090:90", "-p", "8080:80", "sleep", "60",
        ],
    ] {
        let mut v = vec!["run", "--rootfs", rootfs().to_str().unwrap()];
        v.extend_from_slice(args);
        let err = e.refused(&v);
        assert!(
            err.contains(":8080/tcp")
                && err.contains(&format!("already allocated by container {short}")),
            "{args:?}: {err}"
        );
        assert_eq!(snapshot(&e), before, "{args:?}");
    }
    // The same port number in UDP is another port.
    let u = e.run_d(&["--net", "bridge", "-p", "8080:80/udp", "sleep", "60"]);
    e.ok(&["rm", "-f", &u]);
    assert_eq!(snapshot(&e).2, before.2);

    // -p needs a bridge network (the default is one).
    for args in [
        &["--net", "none", "-p", "9090:80", "true"][..],
        &["--net", "host", "-p", "9090:80", "true"],
    ] {
        let mut v = vec!["run", "--rootfs", rootfs().to_str().unwrap()];
        v.extend_from_slice(args);
        let err = e.refused(&v);
        assert!(err.contains("bridge network"), "{args:?}: {err}");
        assert_eq!(e.ids(), before.0, "{args:?}");
    }
    // Nor is there one without --net where the settings say "bridge": "none".
    let off = e.tmp.join("bridge-none.json");
    std::fs::write(&off, r#"{"bridge": "none"}"#).unwrap();
    let o = e
        .timed()
        .env("POCKET_CONFIG", &off)
        .args([
            "run",
            "--rootfs",
            rootfs().to_str().unwrap(),
            "-p",
            "9090:80",
            "true",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(125), "{o:?}");
    assert!(stderr(&o).contains("bridge network"), "{o:?}");
    assert_eq!(e.ids(), before.0);
}

/// The last container at an address is gone but its veth is not (its
/// network namespace, torn down by the kernel in the background, or still
/// held): the next container gets the next free address, fast, and the
/// veth is left alone. (Handed the same address, pocket deleted that
/// veth first, waiting ~20 ms for the teardown on every back-to-back
/// `run --rm`; and a held namespace kept a second port with the address.)
#[test]
fn an_address_whose_veth_lingers_is_passed_over() {
    if !root() {
        return;
    }
    let e = Env::new("linger");
    // The default bridge made, and 10.88.0.2 free again.
    let o = e.run(&["--rm", "--net", "bridge", "true"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // (its own veth gone with its namespace)
    wait_for(20, "the first container's veth to go", || {
        (!e.ns.links().contains(&"pk0a580002".to_string())).then_some(())
    });
    // What a namespace still being torn down leaves: the host end of
    // 10.88.0.2's pair (pk + its hex).
    e.ns.sh("ip link add pk0a580002 type veth peer name pk-linger");
    let o = e.run(&[
        "--rm",
        "--net",
        "bridge",
        "sh",
        "-c",
        "ip -4 -o addr show eth0",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains(" 10.88.0.3/16 "), "{}", stdout(&o));
    assert!(
        e.ns.links().contains(&"pk0a580002".to_string()),
        "the lingering veth was deleted: {:?}",
        e.ns.links()
    );
    // Once it is gone, the lowest address is handed out again.
    e.ns.sh("ip link del pk0a580002");
    let id = e.run_d(&["--net", "bridge", "sleep", "60"]);
    assert_eq!(e.ip("bridge", &id), "10.88.0.2");
    e.ok(&["rm", "-f", &id]);
}

/// `start` right after `stop` keeps the container's address, whose last
/// veth may still stand (its namespace torn down in the background, or
/// held): that pair is unplugged and renamed, not deleted, which would
/// wait for the teardown (6-52 ms a start, against 5-7 now).
#[test]
fn a_start_moves_a_lingering_veth_aside() {
    if !root() {
        return;
    }
    let e = Env::new("aside");
    let id = e.run_d(&["--net", "bridge", "sleep", "60"]);
    assert_eq!(e.ip("bridge", &id), "10.88.0.2");
    e.ok(&["stop", "-t", "0", &id]);
    wait_for(20, "the stopped container's veth to go", || {
        (!e.ns.links().contains(&"pk0a580002".to_string())).then_some(())
    });
    // One that lingers, on the bridge and up, as a held namespace's.
    e.ns.sh("ip link add pk0a580002 type veth peer name pk-held");
    e.ns.sh("ip link set pk0a580002 master pocket0 up");
    e.ok(&["start", &id]);
    assert_eq!(e.ip("bridge", &id), "10.88.0.2");
    let links = e.ns.links();
    assert!(
        links.contains(&"pk-held".to_string()),
        "the pair was deleted: {links:?}"
    );
    let aside: Vec<&String> = links.iter().filter(|l| l.starts_with("pkx")).collect();
    assert_eq!(aside.len(), 1, "{links:?}");
    let show = e.ns.sh(&format!("ip -o link show {}", aside[0]));
    assert!(!show.contains("master") && !show.contains(",UP"), "{show}");
    // The container's own is the one on the bridge, and it answers.
    let master = e.ns.sh("ip -o link show pk0a580002");
    assert!(master.contains("master pocket0"), "{master}");
    e.exec(&id, &["ping", "-c", "1", "-W", "2", "10.88.0.1"]);
    // A pair set aside whose namespace is held (here: the test's own)
    // goes with `network prune`; the container's own stays.
    e.ok(&["network", "prune", "-f"]);
    let links = e.ns.links();
    assert!(
        !links.iter().any(|l| l.starts_with("pkx") || l == "pk-held"),
        "{links:?}"
    );
    assert!(links.contains(&"pk0a580002".to_string()), "{links:?}");
    e.exec(&id, &["ping", "-c", "1", "-W", "2", "10.88.0.1"]);
    e.ok(&["rm", "-f", &id]);
}

/// The address the SIGKILL tests ask for, its veth, and the host port.
const KILL_IP: &str = "10.88.0.50";
const KILL_VETH: &str = "pk0a580032";

/// A foreground `run --ip KILL_IP -p 7070:80 ... sleep 100`: the child is
/// pocket itself.
fn start_killable(e: &Env) -> Child {
    e.raw()
        .args(["run", "--net", "bridge", "--ip", KILL_IP, "-p", "7070:80"])
        .args(["--rootfs", rootfs().to_str().unwrap(), "sleep", "100"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// `rm -f` of every container `ps -a` lists; the ids.
fn rm_all(e: &Env) -> Vec<String> {
    let ids = e.ids();
    for id in &ids {
        e.ok(&["rm", "-f", id]);
    }
    ids
}

/// What is left of containers at KILL_IP, as a user meets it: a veth
/// (after giving the kernel time to free the namespace); the address or
/// host port 7070 refused to a new container; DNAT rules besides that new
/// container's own; and once it is removed too, any rule, endpoint or
/// mention of the address in pocket's files. Empty when everything was
/// given back.
fn leftovers(e: &Env) -> Vec<String> {
    let mut out = vec![];
    let end = Instant::now() + Duration::from_secs(10);
    while !e.ns.veths().is_empty() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
    }
    if !e.ns.veths().is_empty() {
        out.push(format!("veths {:?}", e.ns.veths()));
    }
    let dnat = |e: &Env| -> Vec<String> {
        e.ns.table("pocket")
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains(" dnat to "))
            .map(String::from)
            .collect()
    };
    let mut v = vec!["run", "-d", "--rootfs", rootfs().to_str().unwrap()];
    v.extend([
        "--net", "bridge", "--ip", KILL_IP, "-p", "7070:80", "sleep", "60",
    ]);
    let o = e.out(&v);
    if o.status.code() != Some(0) {
        out.push(format!(
            "a new --ip {KILL_IP} -p 7070:80 is refused: {}",
            stderr(&o).trim()
        ));
        return out;
    }
    // prerouting and output: one rule each, the new container's.
    let rules = dnat(e);
    if rules.len() != 2 {
        out.push(format!("DNAT rules with the new container: {rules:?}"));
    }
    e.ok(&["rm", "-f", stdout(&o).trim()]);
    for l in dnat(e) {
        out.push(format!("rule `{l}` after rm"));
    }
    let eps = e.endpoints("bridge");
    if !eps.is_empty() {
        out.push(format!("endpoints {eps:?}"));
    }
    for f in ["bridge.json", "_ports.json"] {
        if let Ok(s) = std::fs::read_to_string(e.r.0.join("networks").join(f))
            && s.contains("\"10.88.0.50\"")
        {
            out.push(format!("{KILL_IP} still in networks/{f}"));
        }
    }
    out
}

#[test]
fn sigkill_of_a_running_foreground_pocket_then_rm() {
    if !root() {
        return;
    }
    let e = Env::new("kill-run");
    let mut p = start_killable(&e);
    wait_for(20, "the container's veth", || {
        e.ns.veths().contains(&KILL_VETH.to_string()).then_some(())
    });
    let id = e.ids().pop().expect("a record");
    assert_eq!(e.ip("bridge", &id), KILL_IP);
    let t = e.ns.table("pocket").unwrap();
    assert!(t.contains("dnat to 10.88.0.50:80"), "{t}");
    p.kill().unwrap();
    p.wait().unwrap();
    assert_eq!(rm_all(&e), [id]);
    assert_eq!(leftovers(&e), Vec::<String>::new());
}

#[test]
fn sigkill_of_pocket_during_setup_then_rm() {
    if !root() {
        return;
    }
    let e = Env::new("kill-setup");
    // Moments from exec on: before the network is made, while the
    // address, ports and rules are claimed, while the record is written,
    // while the container and its veth are made, once it runs.
    let mut leaks = vec![];
    for delay_us in [
        0, 300, 600, 800, 1000, 1200, 1500, 2000, 2500, 3000, 4000, 6000, 10000, 20000, 40000,
    ] {
        let mut p = start_killable(&e);
        std::thread::sleep(Duration::from_micros(delay_us));
        p.kill().unwrap();
        p.wait().unwrap();
        let ids = rm_all(&e);
        let left = leftovers(&e);
        if !left.is_empty() {
            // `container prune` gives back the claims of a pocket killed
            // before its record existed: after it, nothing may be left.
            e.ok(&["container", "prune", "-f"]);
            assert_eq!(
                leftovers(&e),
                Vec::<String>::new(),
                "killed after {delay_us}us, even after prune"
            );
            leaks.push(format!(
                "killed after {delay_us}us, records {ids:?}, after rm -f: {left:?}"
            ));
        }
    }
    // But prune must not be needed: `rm -f` of what ps lists has to be
    // enough. A pocket killed between claiming the address and ports and
    // writing the record leaves them held by an id no command shows
    // (ps, inspect, network inspect) and `rm` cannot name; the address
    // and the port are refused to everyone, and its DNAT rules stay.
    assert!(leaks.is_empty(), "{}", leaks.join("\n"));
}

#[test]
fn the_table_holds_exactly_the_rules() {
    if !root() {
        return;
    }
    let e = Env::new("nft");
    e.ns.sh("nft add table ip other && \
         nft add chain ip other c '{ type filter hook forward priority 0; policy accept; }' && \
         nft add rule ip other c iifname lo counter accept");
    let other = e.ns.table("other").unwrap();
    let a = e.run_d(&[
        "--net",
        "bridge",
        "-p",
        "8080:80",
        "-p",
        "127.0.0.1:5353:53/udp",
        "sleep",
        "60",
    ]);
    assert_eq!(e.ip("bridge", &a), "10.88.0.2");
    let n2 = e.ok(&["network", "create", "--subnet", "10.130.0.0/24", "n2"]);
    let br2 = format!("pk-{}", &n2.trim()[..8]);
    let b = e.run_d(&["--net", "n2", "-p", "9090:90", "sleep", "60"]);
    assert_eq!(e.ip("n2", &b), "10.130.0.2");

    // Loopback ports are DNATed for the host itself only (output).
    let head = |post: &str, dnat: &str, fwd: &str| {
        let pre: String = dnat
            .lines()
            .filter(|l| !l.contains(" ip daddr 127."))
            .map(|l| format!("{l}\n"))
            .collect();
        format!(
            "table ip pocket {{\n\
             chain postrouting {{\n\
             type nat hook postrouting priority srcnat; policy accept;\n\
             {post}}}\n\
             chain prerouting {{\n\
             type nat hook prerouting priority dstnat; policy accept;\n\
             {pre}}}\n\
             chain output {{\n\
             type nat hook output priority -100; policy accept;\n\
             {dnat}}}\n\
             chain forward {{\n\
             type filter hook forward priority filter; policy accept;\n\
             ct status dnat accept\n\
             {fwd}}}\n\
             chain raw {{\n\
             type filter hook prerouting priority raw; policy accept;\n\
             iifname != \"lo\" ip daddr 127.0.0.0/8 drop\n\
             }}\n\
             }}"
        )
    };
    let post = |br: &str, sub: &str| {
        format!(
            "ip saddr {sub} oifname != \"{br}\" masquerade\n\
             ip saddr 127.0.0.0/8 oifname \"{br}\" masquerade\n\
             ip saddr {sub} oifname \"{br}\" ct status dnat masquerade\n"
        )
    };
    let fwd = |br: &str| {
        format!(
            "iifname \"{br}\" accept\n\
             oifname \"{br}\" ct state established,related accept\n\
             oifname \"{br}\" drop\n"
        )
    };
    let dnat_a = "fib daddr type local tcp dport 8080 dnat to 10.88.0.2:80\n\
                  fib daddr type local ip daddr 127.0.0.1 udp dport 5353 dnat to 10.88.0.2:53\n";
    let dnat_b = "fib daddr type local tcp dport 9090 dnat to 10.130.0.2:90\n";
    let both_post = post("pocket0", "10.88.0.0/16") + &post(&br2, "10.130.0.0/24");
    // The two networks isolated from each other, then each's accepts.
    let both_fwd = format!(
        "iifname \"pocket0\" oifname \"{br2}\" drop\n\
         iifname \"{br2}\" oifname \"pocket0\" drop\n"
    ) + &fwd("pocket0")
        + &fwd(&br2);
    assert_eq!(
        e.ns.table("pocket").unwrap(),
        head(&both_post, &format!("{dnat_a}{dnat_b}"), &both_fwd)
    );

    // A container goes: its rules go, the networks' stay.
    e.ok(&["rm", "-f", &a]);
    assert_eq!(
        e.ns.table("pocket").unwrap(),
        head(&both_post, dnat_b, &both_fwd)
    );
    e.ok(&["rm", "-f", &b]);
    assert_eq!(
        e.ns.table("pocket").unwrap(),
        head(&both_post, "", &both_fwd)
    );
    e.ok(&["network", "rm", "n2"]);
    assert_eq!(
        e.ns.table("pocket").unwrap(),
        head(&post("pocket0", "10.88.0.0/16"), "", &fwd("pocket0"))
    );
    assert!(!e.ns.links().contains(&br2));
    // The last network takes the table with it; "other" never changed.
    e.ok(&["network", "rm", "bridge"]);
    assert_eq!(e.ns.table("pocket"), None);
    assert!(!e.ns.links().contains(&"pocket0".to_string()));
    assert_eq!(e.ns.table("other").unwrap(), other);
    assert_eq!(e.ns.sh("nft list tables"), "table ip other\n");
}

#[test]
fn none_host_and_missing_networks() {
    if !root() {
        return;
    }
    let e = Env::new("modes");
    e.ns.sh("ip link add pkt-h0 type veth peer name pkt-h1");
    // none (and the default with `"bridge": "none"` set): loopback only.
    let off = e.tmp.join("bridge-none.json");
    std::fs::write(&off, r#"{"bridge": "none"}"#).unwrap();
    for (args, cfg) in [
        (&["--rm", "--net", "none"][..], Path::new("/dev/null")),
        (&["--rm"], off.as_path()),
    ] {
        let mut v = vec!["run", "--rootfs", rootfs().to_str().unwrap()];
        v.extend_from_slice(args);
        v.extend(["ls", "/sys/class/net"]);
        let o = e
            .timed()
            .env("POCKET_CONFIG", cfg)
            .args(&v)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(stdout(&o), "lo\n", "{args:?}");
    }
    // host: the test namespace's interfaces.
    let o = e.run(&["--rm", "--net", "host", "ls", "/sys/class/net"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mut got: Vec<String> = stdout(&o).split_whitespace().map(String::from).collect();
    let mut want = e.ns.links();
    got.sort();
    want.sort();
    assert_eq!(got, want);
    assert!(want.contains(&"pkt-h0".to_string()));

    // A network that does not exist: nothing made, not even the default.
    let err = e.refused(&[
        "run",
        "--net",
        "nosuch",
        "--rootfs",
        rootfs().to_str().unwrap(),
        "true",
    ]);
    assert!(err.contains("nosuch"), "{err}");
    assert_eq!(e.ids(), Vec::<String>::new());
    assert_eq!(e.ok(&["network", "ls", "-q"]), "");
    assert_eq!(e.ns.table("pocket"), None);
    assert!(!e.ns.links().contains(&"pocket0".to_string()));
}

/// /etc/hosts, resolv.conf and hostname are 0644 as docker's, whatever
/// the network: a container running as a user (`-u`, an image's USER)
/// resolves names too. They were 0600, and such a process could read
/// none of them ("Permission denied", so no DNS).
#[test]
fn etc_files_are_readable_by_any_user() {
    if !root() {
        return;
    }
    let e = Env::new("etcmode");
    for net in ["none", "host", "bridge"] {
        let o = e.run(&[
            "--rm",
            "--net",
            net,
            "-u",
            "1000:1000",
            "sh",
            "-c",
            "stat -c '%a %n' /etc/hosts /etc/resolv.conf /etc/hostname && \
             cat /etc/hosts /etc/resolv.conf /etc/hostname >/dev/null && echo read",
        ]);
        assert_eq!(o.status.code(), Some(0), "--net {net}: {}", stderr(&o));
        assert_eq!(
            stdout(&o),
            "644 /etc/hosts\n644 /etc/resolv.conf\n644 /etc/hostname\nread\n",
            "--net {net}"
        );
    }
    // Whatever the caller's umask (root's 077 made them 0600 again).
    let mut c = e.ns.cmd("sh");
    c.arg("-c")
        .arg("umask 077; exec \"$@\"")
        .arg("sh")
        .arg(bin())
        .arg("--root")
        .arg(&e.r.0)
        .args(["run", "--rm", "--net", "none", "-u", "1000", "--rootfs"])
        .arg(rootfs())
        .args([
            "stat",
            "-c",
            "%a",
            "/etc/hosts",
            "/etc/resolv.conf",
            "/etc/hostname",
        ])
        .env("POCKET_CONFIG", "/dev/null");
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "umask 077: {}", stderr(&o));
    assert_eq!(stdout(&o), "644\n644\n644\n", "umask 077");
    // The user's own /etc/hosts wins over pocket's, also where a standard
    // mount is gone (--ipc none: no /dev/shm; pocket's went on top).
    let mine = e.tmp.join("myhosts");
    std::fs::write(&mine, "10.9.9.9 mine\n").unwrap();
    let v = format!("{}:/etc/hosts", mine.display());
    let o = e.run(&[
        "--rm",
        "--net",
        "none",
        "--ipc",
        "none",
        "-v",
        &v,
        "cat",
        "/etc/hosts",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "10.9.9.9 mine\n");
}

/// The LAN host of the isolation tests: a namespace on a veth to the
/// test's "host" (192.168.77.2, the host 192.168.77.1), routing
/// everything, the bridge subnets included, through the host: what any
/// machine on the host's LAN can do with one `ip route add`.
fn lan_host(e: &Env) -> Ns {
    let lan = Ns::new();
    e.ns.sh(&format!(
        "ip link add pkt-lan type veth peer name pkt-lan1 netns {} && \
         ip addr add 192.168.77.1/24 dev pkt-lan && ip link set pkt-lan up",
        lan.pid()
    ));
    lan.sh(
        "ip addr add 192.168.77.2/24 dev pkt-lan1 && ip link set pkt-lan1 up && \
         ip route add default via 192.168.77.1",
    );
    lan
}

/// A connection the host must drop: connect times out (a refusal would
/// mean it reached the container). Prints why.
fn dropped_from(ns: &Ns, who: &str, addr: &str) {
    match ns.within(|| http_get(addr, "/file")) {
        Err(e) if e.kind() == ErrorKind::TimedOut => eprintln!(
            "{who} to {addr}: {e}: dropped by `oifname \"pocket0\" drop` in ip pocket's \
             forward chain (neither an answer nor DNATed to a published port)"
        ),
        other => panic!("{who} reached {addr}, which nothing published: {other:?}"),
    }
}

/// A one-shot HTTP server in `ns` answering with the peer address.
fn serve_peer(ns: &Ns, addr: &str) -> std::thread::JoinHandle<String> {
    let l = ns.within(|| TcpListener::bind(addr).unwrap());
    ns.spawn(move || {
        let (mut s, peer) = l.accept().unwrap();
        let mut b = [0u8; 512];
        let _ = s.read(&mut b);
        let ip = peer.ip().to_string();
        let _ = write!(
            s,
            "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n{ip}",
            ip.len()
        );
        ip
    })
}

#[test]
fn another_host_reaches_published_ports_only() {
    if !root() {
        return;
    }
    let e = Env::new("lan");
    let site = e.site("l", "served\n");
    // httpd on 80, published as 8080, and on 81, not published.
    let c = e.run_d(&[
        "--net",
        "bridge",
        "-p",
        "8080:80",
        "-v",
        &site,
        "sh",
        "-c",
        "httpd -p 81 -h /w && exec httpd -f -p 80 -h /w",
    ]);
    let ip = e.ip("bridge", &c);
    let lan = lan_host(&e);
    let (p80, p81) = (format!("{ip}:80"), format!("{ip}:81"));
    // Both servers are up (the host itself reaches the container).
    assert_eq!(wait_http(&e.ns, &p81, "/file"), "served\n");
    assert_eq!(wait_http(&e.ns, &p80, "/file"), "served\n");
    // The published port, through the host's address.
    assert_eq!(wait_http(&lan, "192.168.77.1:8080", "/file"), "served\n");
    // The attack: the container's own address, routed through the host.
    // The unpublished port, and the published one not through DNAT.
    dropped_from(&lan, "another host", &p81);
    dropped_from(&lan, "another host", &p80);
    // The container still reaches out (masqueraded to the host's address)
    // and its neighbours on the same network (port 81 included).
    let seen = serve_peer(&lan, "192.168.77.2:9000");
    let got = e.exec(&c, &["wget", "-q", "-O", "-", "http://192.168.77.2:9000/"]);
    assert_eq!(got, "192.168.77.1");
    assert_eq!(seen.join().unwrap(), "192.168.77.1");
    let n = e.run_d(&["--net", "bridge", "sleep", "60"]);
    let url = format!("http://{p81}/file");
    assert_eq!(e.exec(&n, &["wget", "-q", "-O", "-", &url]), "served\n");

    // Without the rule the other host gets in: what it is there for (the
    // chain's policy is accept; pocket must not change anyone's policy).
    let l = e.ns.sh("nft -a list chain ip pocket forward");
    let h = l
        .lines()
        .find(|l| l.trim().starts_with("oifname \"pocket0\" drop"))
        .and_then(|l| l.rsplit("# handle ").next())
        .unwrap_or_else(|| panic!("no drop rule in {l}"))
        .trim()
        .to_string();
    e.ns.sh(&format!("nft delete rule ip pocket forward handle {h}"));
    assert_eq!(wait_http(&lan, &p81, "/file"), "served\n");
    e.ok(&["rm", "-f", &c, &n]);
    e.ns.wait_veths(&[]);
}

/// A router advertisement from `src` (a link-local address) to all
/// nodes, router lifetime 1800 s: "make me your default router".
fn router_advertisement(src: [u8; 16]) -> Vec<u8> {
    let dst = [0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    // type 134, code 0, checksum, hop limit 64, flags 0, lifetime,
    // reachable time 0, retransmit timer 0.
    let mut icmp = vec![134, 0, 0, 0, 64, 0, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0];
    // The checksum covers a pseudo-header: addresses, length, next header.
    let mut sum: u32 = 0;
    let mut pseudo = Vec::new();
    pseudo.extend_from_slice(&src);
    pseudo.extend_from_slice(&dst);
    pseudo.extend_from_slice(&(icmp.len() as u32).to_be_bytes());
    pseudo.extend_from_slice(&[0, 0, 0, 58]);
    pseudo.extend_from_slice(&icmp);
    for w in pseudo.chunks(2) {
        sum += u16::from_be_bytes([w[0], *w.get(1).unwrap_or(&0)]) as u32;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    icmp[2..4].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    // Ethernet to 33:33:00:00:00:01 from a made-up unicast MAC, then the
    // IPv6 header: payload length, next header ICMPv6, hop limit 255.
    let mut f = vec![0x33, 0x33, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 0x66, 0x86, 0xdd];
    f.extend_from_slice(&[0x60, 0, 0, 0, 0, icmp.len() as u8, 58, 255]);
    f.extend_from_slice(&src);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&icmp);
    f
}

/// Send `frame` out of `dev` over a packet socket, from the network
/// namespace of process `pid`: what a container with CAP_NET_RAW (in
/// docker's default set) can do on its eth0.
fn send_frame(pid: i32, dev: &str, frame: &[u8]) {
    let ns = File::open(format!("/proc/{pid}/ns/net")).unwrap();
    let dev = std::ffi::CString::new(dev).unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            enter(ns.as_raw_fd());
            // SAFETY: plain syscalls on a socket this thread owns and a
            // sockaddr_ll on the stack.
            unsafe {
                let fd = libc::socket(libc::AF_PACKET, libc::SOCK_RAW, 0);
                assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
                let mut sa: libc::sockaddr_ll = std::mem::zeroed();
                sa.sll_family = libc::AF_PACKET as u16;
                sa.sll_ifindex = libc::if_nametoindex(dev.as_ptr()) as i32;
                sa.sll_halen = 6;
                sa.sll_addr[..6].copy_from_slice(&frame[..6]);
                let n = libc::sendto(
                    fd,
                    frame.as_ptr().cast(),
                    frame.len(),
                    0,
                    (&raw const sa).cast(),
                    size_of::<libc::sockaddr_ll>() as u32,
                );
                let err = std::io::Error::last_os_error();
                libc::close(fd);
                assert_eq!(n, frame.len() as isize, "sendto: {err}");
            }
        });
    });
}

#[test]
fn ipv6_is_off_on_the_bridge_and_both_veth_ends() {
    if !root() {
        return;
    }
    let e = Env::new("v6");
    let c = e.run_d(&["--net", "bridge", "sleep", "60"]);
    let n = e.run_d(&["--net", "bridge", "sleep", "60"]);
    if !std::path::Path::new("/proc/sys/net/ipv6").exists() {
        eprintln!("SKIP ipv6: no /proc/sys/net/ipv6 (kernel without IPv6)");
        e.ok(&["rm", "-f", &c, &n]);
        return;
    }
    let veths = e.ns.veths();
    assert_eq!(veths.len(), 2, "{veths:?}");
    let conf = |dev: &str| format!("/proc/sys/net/ipv6/conf/{dev}");
    // In the test's "host" namespace: the bridge and the host ends.
    for dev in ["pocket0", &veths[0], &veths[1]] {
        let got =
            e.ns.sh(&format!("cat {0}/disable_ipv6 {0}/accept_ra", conf(dev)));
        assert_eq!(got, "1\n0\n", "{dev}: disable_ipv6, accept_ra");
    }
    // In the containers' namespaces (as they see their own /proc/sys).
    for id in [&c, &n] {
        let d = conf("eth0");
        let got = e.exec(
            id,
            &[
                "cat",
                &format!("{d}/disable_ipv6"),
                &format!("{d}/accept_ra"),
            ],
        );
        assert_eq!(got, "1\n0\n", "eth0: disable_ipv6, accept_ra");
        // No IPv6 address but loopback's.
        let a = e.exec(id, &["cat", "/proc/net/if_inet6"]);
        assert!(a.lines().all(|l| l.ends_with(" lo")), "{a}");
    }
    let a = std::fs::read_to_string(format!("/proc/{}/net/if_inet6", e.ns.pid())).unwrap();
    assert!(a.lines().all(|l| l.ends_with(" lo")), "host: {a}");

    // The attack (CVE-2020-13401): a container advertises itself as a
    // router. The host must not take it as its IPv6 default route.
    let ra = router_advertisement([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x66]);
    let pid = e.r.pid(&c);
    let default6 = || e.ns.sh("ip -6 route show default");
    for _ in 0..5 {
        send_frame(pid, "eth0", &ra);
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(default6(), "", "the host took a container's RA");
    eprintln!(
        "a container's router advertisement on pocket0: ignored (disable_ipv6=1, accept_ra=0)"
    );
    // With the kernel's defaults on the bridge it would have worked.
    e.ns.sh(&format!(
        "echo 1 > {0}/accept_ra && echo 0 > {0}/disable_ipv6",
        conf("pocket0")
    ));
    let route = wait_for(10, "the RA to be taken with IPv6 on", || {
        send_frame(pid, "eth0", &ra);
        let r = default6();
        (!r.is_empty()).then_some(r)
    });
    assert!(route.contains("via fe80::66 dev pocket0"), "{route}");
    e.ok(&["rm", "-f", &c, &n]);
    e.ns.wait_veths(&[]);
}

/// docker's default: a container without --net is on the default bridge
/// network (eth0, an address, -p works), and inspect says so.
#[test]
fn the_default_network_is_the_bridge() {
    if !root() {
        return;
    }
    let e = Env::new("default");
    let o = e.run(&["--rm", "ls", "/sys/class/net"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "eth0\nlo\n");
    assert_eq!(stderr(&o), "", "no warning where a bridge can be made");
    // -p without --net: the bridge it needs is the default.
    let id = e.run_d(&["-p", "18080:80", "sleep", "30"]);
    let doc = e.ok(&["inspect", &id]);
    assert!(doc.contains("\"NetworkMode\": \"bridge\""), "{doc}");
    let addr = e.exec(&id, &["ip", "-4", "-o", "addr", "show", "dev", "eth0"]);
    assert!(addr.contains("inet 10.88."), "{addr}");
    assert!(e.ns.sh("nft list table ip pocket").contains("dport 18080"));
    e.ok(&["rm", "-f", &id]);
    // --net none: lo only, and inspect says none.
    let id = e.run_d(&["--net", "none", "sleep", "30"]);
    assert!(
        e.ok(&["inspect", &id])
            .contains("\"NetworkMode\": \"none\"")
    );
    e.ok(&["rm", "-f", &id]);
}
