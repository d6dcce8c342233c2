//! Rootless networking through slirp4netns (`--net slirp4netns`, a plain
//! user's default where it is installed, as podman's): a user-mode TCP/IP
//! stack in a process of the user's own, outside the container, that
//! reads the container's packets from a tap device in its namespace and
//! makes them the host's own sockets. No setuid helper, no rule in the
//! host's namespace: what the container reaches is what the user could.
//!
//! Why slirp4netns and not a stack of pocket's own (smoltcp in the
//! monitor): it is a 100 KB program distributions ship and keep patched,
//! podman and rootlesskit use it, and it costs a fork+exec per start
//! (measured in the README) where a stack in pocket would add its size
//! to every binary, root's included, and its bugs to pocket's.
//!
//! The parent starts it while the container's init waits (its network
//! namespace exists, its maps are written), waits for its ready fd, asks
//! it for the `-p` forwards on its API socket, records the host ports it
//! got in the container's run directory (for `port`, `ps` and `inspect`;
//! net/ports.rs `save_run`), and holds the write end of
//! its exit fd for the container's life: whoever waits for the container
//! (the foreground pocket or the monitor) holds it; when that process
//! lets go (or dies) slirp4netns exits. Nothing of it reaches the
//! container: its fds are made after the clone, close-on-exec, and the
//! container's init closes every fd above 2 before execve anyway.
//!
//! Its network (slirp's): the container is 10.0.2.100/24, the gateway
//! 10.0.2.2 (the host's 127.0.0.1 when host loopback is allowed), the DNS
//! forwarder 10.0.2.3.

use super::networks::{fmt_ip, parse_ip};
use super::ports::{self, Mapping, PortSpec, Proto};
use crate::error::{Context, Error, Result};
use crate::json::{self, Value};
use crate::sys::fd::{self, Fd};
use crate::sys::{Errno, proc};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// The mode's name, as `--net` takes it (podman's).
pub const NAME: &str = "slirp4netns";
/// Where the container's DNS queries go (slirp forwards them to the
/// host's resolvers).
pub const DNS: &str = "10.0.2.3";
/// The container's address on slirp's network (`--configure`).
pub const GUEST: [u8; 4] = [10, 0, 2, 100];
/// podman's MTU: large segments, fewer trips through the user-mode stack.
const MTU: &str = "--mtu=65520";
/// How long slirp4netns may take to configure the namespace.
const READY_MS: i32 = 10_000;

/// What a container on slirp4netns needs at each start: the program, the
/// host's loopback reachable at 10.0.2.2 or not (podman's
/// allow_host_loopback, off by default: a container should not reach
/// the user's local-only services), the ports to forward, the
/// directory its API socket is made in (the store's runtime dir), and
/// the container's run directory, where the forwards each start got are
/// recorded (empty in a Spec older than the record: not recorded).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Config {
    pub bin: String,
    pub host_loopback: bool,
    pub ports: Vec<PortSpec>,
    pub sock_dir: String,
    pub run_dir: String,
}

/// `slirp4netns` or `slirp4netns:opt=v,...` as `--net` says: Some(allow
/// host loopback) for this mode, None for another mode.
pub fn parse_mode(net: &[u8]) -> Option<Result<bool>> {
    let rest = net.strip_prefix(NAME.as_bytes())?;
    let opts = match rest {
        [] => return Some(Ok(false)),
        [b':', o @ ..] => o,
        _ => return None,
    };
    let mut loopback = false;
    for o in opts.split(|&c| c == b',').filter(|o| !o.is_empty()) {
        let text = String::from_utf8_lossy(o).into_owned();
        match o {
            b"allow_host_loopback=true" => loopback = true,
            b"allow_host_loopback=false" => loopback = false,
            _ => {
                return Some(Err(Error::bad(
                    "network option",
                    text,
                    "slirp4netns takes allow_host_loopback=true|false",
                )));
            }
        }
    }
    Some(Ok(loopback))
}

/// The slirp4netns program on `path` (the caller's $PATH, else the usual
/// directories), if one is there and executable.
pub fn find(path: Option<&[u8]>) -> Option<String> {
    let path = path.unwrap_or(b"/usr/local/bin:/usr/bin:/bin");
    path.split(|&c| c == b':')
        .filter(|d| d.starts_with(b"/"))
        .map(|d| {
            format!(
                "{}/{NAME}",
                String::from_utf8_lossy(d).trim_end_matches('/')
            )
        })
        .find(|p| crate::error::cpath(p).is_ok_and(|c| fd::access(&c, libc::X_OK).is_ok()))
}

// The Spec's annotation: the Config as one line of JSON.

fn port_text(p: &PortSpec) -> String {
    format!(
        "{}:{}:{}-{}:{}",
        p.proto.as_str(),
        fmt_ip(p.host_ip),
        p.host_lo,
        p.host_hi,
        p.ctr_port
    )
}

fn port_from(s: &str) -> Option<PortSpec> {
    let f: Vec<&str> = s.split(':').collect();
    let [proto, ip, range, ctr] = f[..] else {
        return None;
    };
    let (lo, hi) = range.split_once('-')?;
    Some(PortSpec {
        proto: match proto {
            "tcp" => Proto::Tcp,
            "udp" => Proto::Udp,
            _ => return None,
        },
        host_ip: parse_ip(ip)?,
        host_lo: lo.parse().ok()?,
        host_hi: hi.parse().ok()?,
        ctr_port: ctr.parse().ok()?,
    })
}

/// The Config as the annotation's text.
pub fn encode(c: &Config) -> String {
    let ports: Vec<String> = c.ports.iter().map(port_text).collect();
    json::compact(&json::obj!(
        ("bin", Some(json::str(&c.bin))),
        ("hostLoopback", Some(Value::Bool(c.host_loopback))),
        ("ports", Some(json::strs(&ports))),
        ("sockDir", Some(json::str(&c.sock_dir))),
        (
            "runDir",
            (!c.run_dir.is_empty()).then(|| json::str(&c.run_dir))
        ),
    ))
}

/// The annotation's text as a Config; None if it is not one.
pub fn decode(s: &str) -> Option<Config> {
    let v = json::parse(s.as_bytes()).ok()?;
    let ports = v.get("ports")?.strings()?;
    Some(Config {
        bin: String::from(v.get("bin")?.str()?),
        host_loopback: v.get("hostLoopback")?.bool()?,
        ports: ports.iter().map(|p| port_from(p)).collect::<Option<_>>()?,
        sock_dir: String::from(v.get("sockDir")?.str()?),
        run_dir: String::from(v.get("runDir").and_then(Value::str).unwrap_or("")),
    })
}

/// A running slirp4netns: dropped, its exit fd closes and it is reaped.
pub struct Slirp {
    pid: i32,
    exit: Option<Fd>,
    /// The read end of its stderr, kept open (and never read once it is
    /// ready) so that a late message is dropped (the write end is
    /// non-blocking), not a SIGPIPE.
    stderr: Fd,
    /// The run directory its forwards are recorded in, once they are.
    recorded: Option<String>,
}

impl Drop for Slirp {
    fn drop(&mut self) {
        // Opened first: the pid is ours until it is reaped below.
        let pidfd = proc::pidfd_open(self.pid);
        // Its forwards end with it: no longer shown from now on.
        if let Some(d) = self.recorded.take() {
            ports::drop_run(&d);
        }
        drop(self.exit.take());
        // It exits as soon as it sees the hang-up (the kernel then takes
        // its tap device down, some milliseconds); one that has not
        // within a second is killed. Waited for: nothing of the
        // container's outlives `rm` or a `run --rm`.
        if let Ok(p) = &pidfd {
            let mut pfd = [libc::pollfd {
                fd: p.raw(),
                events: libc::POLLIN,
                revents: 0,
            }];
            if !matches!(fd::poll(&mut pfd, 1000), Ok(1)) {
                let _ = proc::kill(self.pid, libc::SIGKILL);
            }
        } else {
            let _ = proc::kill(self.pid, libc::SIGKILL);
        }
        let _ = proc::wait(self.pid, 0);
    }
}

/// Its command line: fds 3 (ready) and 4 (exit) as the child sets them.
pub fn args(c: &Config, pid: i32, api: Option<&str>) -> Vec<String> {
    let mut a: Vec<String> = [c.bin.as_str(), "--configure", MTU]
        .iter()
        .map(|s| String::from(*s))
        .collect();
    if !c.host_loopback {
        a.push(String::from("--disable-host-loopback"));
    }
    a.extend(["--ready-fd=3", "--exit-fd=4"].map(String::from));
    if let Some(s) = api {
        a.push(format!("--api-socket={s}"));
    }
    a.extend([format!("{pid}"), String::from("tap0")]);
    a
}

/// Start slirp4netns for the network namespace of `pid` (the waiting
/// container init) and forward `c.ports` to it; returns once the
/// container's eth0 (tap0) is up, addressed and routed.
pub fn start(c: &Config, pid: i32) -> Result<Slirp> {
    let api = (!c.ports.is_empty()).then(|| format!("slirp-{pid}.sock"));
    // The socket is made relative to its cwd, our end reaches it through
    // a directory fd: no path is too long for sockaddr_un.
    let dir = match &api {
        Some(_) => Some(
            fd::open(
                &crate::error::cpath(&c.sock_dir)?,
                libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
                0,
            )
            .ctx("open", &c.sock_dir)?,
        ),
        None => None,
    };
    let cdir = crate::error::cpath(&c.sock_dir)?;
    let a = crate::spawn::program::CTable::new(&args(c, pid, api.as_deref()))
        .ok_or_else(|| Error::bad(NAME, "", "an argument contains a NUL byte"))?;
    let bin = crate::error::cpath(&c.bin)?;
    let (ready_r, ready_w) = fd::pipe().ctx("pipe", NAME)?;
    let (exit_r, exit_w) = fd::pipe().ctx("pipe", NAME)?;
    let (err_r, err_w) = fd::pipe().ctx("pipe", NAME)?;
    fd::set_nonblock(err_w.raw(), true).ctx("fcntl", NAME)?;
    let null =
        fd::open(c"/dev/null", libc::O_RDWR | libc::O_CLOEXEC, 0).ctx("open", "/dev/null")?;
    let child = proc::fork().ctx("fork", NAME)?;
    if child == 0 {
        // fds 0-4 as its command line says, nothing else of ours.
        let fds = [
            null.raw(),
            null.raw(),
            err_w.raw(),
            ready_w.raw(),
            exit_r.raw(),
        ];
        let setup = || {
            // Its own process group: ^C at the terminal is the
            // container's to get (pocket forwards it), not its network's.
            let _ = proc::setpgid(0, 0);
            // Out of the caller's cwd (it may be unmounted later); in the
            // directory its API socket is made in.
            proc::chdir(&cdir).is_ok() || api.is_none()
        };
        let envp = [core::ptr::null()];
        crate::spawn::program::exec_child(&fds, setup, &bin, a.as_ptr(), envp.as_ptr());
    }
    drop((ready_w, exit_r, err_w, null));
    let mut s = Slirp {
        pid: child,
        exit: Some(exit_w),
        stderr: err_r,
        recorded: None,
    };
    let mut pfd = [libc::pollfd {
        fd: ready_r.raw(),
        events: libc::POLLIN,
        revents: 0,
    }];
    let mut b = [0u8; 1];
    let ready = matches!(fd::poll(&mut pfd, READY_MS), Ok(1))
        && matches!(fd::read(ready_r.raw(), &mut b), Ok(1));
    if !ready {
        return Err(failed(s));
    }
    if let (Some(name), Some(dir)) = (&api, &dir) {
        let res = forward_all(c, dir, name);
        // Nothing more to ask of it: the socket goes now, so nothing is
        // left behind by a kill, and no one else can add forwards.
        if let Ok(n) = crate::error::cpath(name) {
            let _ = crate::sys::fs::unlinkat(dir.raw(), &n, 0);
        }
        let got = res?;
        if !c.run_dir.is_empty() {
            // Marked first: a record half made goes with `s` too.
            s.recorded = Some(c.run_dir.clone());
            ports::save_run(&c.run_dir, pid, &got)?;
        }
    }
    Ok(s)
}

/// slirp4netns died (or hung) before it was ready: ended, and what it
/// said on its stderr.
fn failed(s: Slirp) -> Error {
    let mut msg = [0u8; 2048];
    let _ = proc::kill(s.pid, libc::SIGKILL);
    let _ = fd::set_nonblock(s.stderr.raw(), true);
    let n = fd::read(s.stderr.raw(), &mut msg).unwrap_or(0);
    drop(s);
    Error::bad(NAME, "", failure(&String::from_utf8_lossy(&msg[..n])))
}

/// Its stderr as one line, with the usual cause said.
pub fn failure(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let mut m = match lines.is_empty() {
        true => String::from("failed to start (no message)"),
        false => format!("failed to start: {}", lines.join("; ")),
    };
    if stderr.contains("/dev/net/tun") {
        m.push_str(" (it needs /dev/net/tun readable and writable by the user: mode 0666)");
    }
    m
}

/// Whether this user may open /dev/net/tun, as slirp4netns must.
pub fn tun_usable() -> bool {
    fd::access(c"/dev/net/tun", libc::R_OK | libc::W_OK).is_ok()
}

/// Each -p as a forward from the host, as made: a range takes the first
/// host port slirp4netns can bind; no host port (`-p CTR`) one free on
/// the host now, picked here, since slirp4netns refuses host_port 0
/// ("bad arguments.host_port", 1.2.0) and would not say which it got.
fn forward_all(c: &Config, dir: &Fd, name: &str) -> Result<Vec<Mapping>> {
    let sock = format!("/proc/self/fd/{}/{name}", dir.raw());
    let mut got = Vec::with_capacity(c.ports.len());
    for p in &c.ports {
        got.push(forward(&sock, p)?);
    }
    Ok(got)
}

/// One -p: the first candidate host port slirp4netns binds (one freed
/// or taken between our look and its bind is passed over).
fn forward(sock: &str, p: &PortSpec) -> Result<Mapping> {
    let udp = p.proto == Proto::Udp;
    let candidates: Vec<u16> = match (p.host_lo, p.host_hi) {
        (0, _) => free_ports(udp, p.host_ip, 16),
        (lo, hi) => (lo..=hi).collect(),
    };
    let mut last = None;
    for port in candidates {
        match add_hostfwd(sock, p, port) {
            Ok(()) => return Ok(granted(p, port)),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        Error::bad(
            "publish",
            ports::fmt_host(p.host_ip, p.host_lo, p.proto),
            "no free host port",
        )
    }))
}

/// The forward made for `p` on host port `port`, as ports.rs keeps one
/// (the container is the record's: its directory).
pub fn granted(p: &PortSpec, port: u16) -> Mapping {
    Mapping {
        container: String::new(),
        proto: p.proto,
        host_ip: p.host_ip,
        host_port: port,
        ctr_ip: GUEST,
        ctr_port: p.ctr_port,
    }
}

/// Up to `n` ephemeral ports free on the host now, from a random start.
fn free_ports(udp: bool, ip: [u8; 4], n: usize) -> Vec<u16> {
    let (lo, hi) = ports::EPHEMERAL;
    let mut r = [0u8; 2];
    let _ = proc::getrandom(&mut r);
    let span = (hi - lo) as u32 + 1;
    let start = u16::from_le_bytes(r) as u32 % span;
    (0..span)
        .map(|i| lo + ((start + i) % span) as u16)
        .filter(|&p| crate::sys::inet::port_free(udp, ip, p).unwrap_or(false))
        .take(n)
        .collect()
}

/// The add_hostfwd request for host port `port`.
pub fn hostfwd_request(p: &PortSpec, port: u16) -> String {
    json::compact(&json::obj!(
        ("execute", Some(json::str("add_hostfwd"))),
        (
            "arguments",
            Some(json::obj!(
                ("proto", Some(json::str(p.proto.as_str()))),
                ("host_addr", Some(json::str(&fmt_ip(p.host_ip)))),
                ("host_port", Some(json::num(port))),
                ("guest_addr", Some(json::str(&fmt_ip(GUEST)))),
                ("guest_port", Some(json::num(p.ctr_port))),
            )),
        ),
    ))
}

/// Its answer: Ok, or the reason it gave.
pub fn hostfwd_answer(b: &[u8]) -> core::result::Result<(), String> {
    let v = json::parse(b).map_err(|_| String::from_utf8_lossy(b).into_owned())?;
    if v.get("return").is_some() {
        return Ok(());
    }
    Err(v
        .get("error")
        .and_then(|e| e.get("desc"))
        .and_then(Value::str)
        .map_or_else(|| String::from_utf8_lossy(b).into_owned(), String::from))
}

/// One request on the API socket: slirp4netns reads one, answers and
/// closes the connection.
fn add_hostfwd(sock: &str, p: &PortSpec, port: u16) -> Result<()> {
    let what = format!("-p {}:{port}:{}", fmt_ip(p.host_ip), p.ctr_port);
    let s = crate::sys::sock::connect_unix(sock.as_bytes()).ctx("connect", "slirp4netns API")?;
    fd::write_all(s.raw(), hostfwd_request(p, port).as_bytes()).ctx("write", "slirp4netns API")?;
    let mut buf = [0u8; 1024];
    let mut n = 0;
    while n < buf.len() {
        match fd::read(s.raw(), &mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(Errno::EINTR) => {}
            Err(e) => return Err(Error::sys("read", "slirp4netns API", e)),
        }
    }
    hostfwd_answer(&buf[..n]).map_err(|why| Error::bad("publish", what, why))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        assert_eq!(parse_mode(b"none"), None);
        assert_eq!(parse_mode(b"slirp4netnsx"), None);
        assert!(matches!(parse_mode(b"slirp4netns"), Some(Ok(false))));
        assert!(matches!(
            parse_mode(b"slirp4netns:allow_host_loopback=true"),
            Some(Ok(true))
        ));
        assert!(matches!(parse_mode(b"slirp4netns:mtu=1500"), Some(Err(_))));
    }

    #[test]
    fn config_round_trips() {
        let c = Config {
            bin: String::from("/usr/bin/slirp4netns"),
            host_loopback: true,
            ports: ports::parse_port("127.0.0.1:8080:80")
                .unwrap()
                .into_iter()
                .chain(ports::parse_port("53/udp").unwrap())
                .collect(),
            sock_dir: String::from("/run/user/1000/pocket"),
            run_dir: String::from("/run/user/1000/pocket/containers/abc"),
        };
        assert_eq!(decode(&encode(&c)), Some(c.clone()));
        assert_eq!(decode("{}"), None);
        // A Spec written before the run directory was: read, not recorded.
        let old = Config {
            run_dir: String::new(),
            ..c
        };
        let text = encode(&old);
        assert!(!text.contains("runDir"), "{text}");
        assert_eq!(decode(&text), Some(old));
    }

    #[test]
    fn command_line() {
        let c = Config {
            bin: String::from("/usr/bin/slirp4netns"),
            ..Default::default()
        };
        assert_eq!(
            args(&c, 42, Some("s.sock")).join(" "),
            "/usr/bin/slirp4netns --configure --mtu=65520 --disable-host-loopback \
             --ready-fd=3 --exit-fd=4 --api-socket=s.sock 42 tap0"
        );
    }

    #[test]
    fn failures_in_one_line() {
        assert_eq!(
            failure("open(\"/dev/net/tun\"): Permission denied\nchild failed(1)\n"),
            "failed to start: open(\"/dev/net/tun\"): Permission denied; child failed(1) \
             (it needs /dev/net/tun readable and writable by the user: mode 0666)"
        );
        assert_eq!(failure(""), "failed to start (no message)");
    }

    #[test]
    fn api_messages() {
        let p = ports::parse_port("8080:80").unwrap()[0];
        assert_eq!(
            hostfwd_request(&p, 8080),
            r#"{"execute":"add_hostfwd","arguments":{"proto":"tcp","host_addr":"0.0.0.0","host_port":8080,"guest_addr":"10.0.2.100","guest_port":80}}"#
        );
        assert_eq!(hostfwd_answer(br#"{"return": {"id": 1}}"#), Ok(()));
        assert_eq!(
            hostfwd_answer(
                br#"{"error": {"desc": "bad request: add_hostfwd: slirp_add_hostfwd failed"}}"#
            ),
            Err(String::from(
                "bad request: add_hostfwd: slirp_add_hostfwd failed"
            ))
        );
    }
}
