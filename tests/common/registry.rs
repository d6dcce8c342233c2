//! Debian's docker-registry (Distribution 2.8) on a free loopback port,
//! images pushed into it by skopeo: for the registry, crash and soak tests.

use super::*;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// skopeo's name of the busybox test image (a docker-archive).
pub fn busybox_archive() -> String {
    format!(
        "docker-archive:{}",
        test_images()
            .to_path_buf()
            .join("busybox-docker.tar")
            .display()
    )
}

pub fn have(prog: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {prog}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn sh(cmd: &str) -> String {
    let o = Command::new("sh").args(["-c", cmd]).output().unwrap();
    assert!(
        o.status.success(),
        "{cmd}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn sha256_hex(b: &[u8]) -> String {
    let mut c = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(b).unwrap();
    let o = c.wait_with_output().unwrap();
    String::from_utf8_lossy(&o.stdout)[..64].to_string()
}

// ---------------------------------------------------------------------
// Debian's docker-registry, on a free loopback port, killed by pid.

pub struct Registry {
    pub child: Child,
    pub port: u16,
    pub dir: PathBuf,
}

impl Registry {
    pub fn start(tag: &str, htpasswd: Option<(&str, &str)>) -> Option<Registry> {
        Registry::start_tls(tag, htpasswd, None)
    }

    /// With `tls` (certificate, key): HTTPS only.
    pub fn start_tls(
        tag: &str,
        htpasswd: Option<(&str, &str)>,
        tls: Option<(&Path, &Path)>,
    ) -> Option<Registry> {
        if !have("docker-registry") || !have("skopeo") {
            features::skip(
                "registry tests",
                "docker-registry or skopeo not installed (scripts/setup.sh)",
            );
            return None;
        }
        let dir = std::env::temp_dir().join(format!("pocket-reg-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        let mut auth = String::new();
        if let Some((u, p)) = htpasswd {
            let line = sh(&format!("htpasswd -Bbn {u} {p}"));
            std::fs::write(dir.join("htpasswd"), line.trim()).unwrap();
            auth = format!(
                "auth:\n  htpasswd:\n    realm: pocket-test\n    path: {}\n",
                dir.join("htpasswd").display()
            );
        }
        let tls = tls
            .map(|(c, k)| {
                format!(
                    "  tls:\n    certificate: {}\n    key: {}\n",
                    c.display(),
                    k.display()
                )
            })
            .unwrap_or_default();
        let cfg = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n{tls}{auth}",
            dir.join("data").display()
        );
        std::fs::write(dir.join("config.yml"), cfg).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(dir.join("config.yml"))
            // Its access log: one line per request ("PATCH /v2/...").
            .stdout(std::fs::File::create(dir.join("access")).unwrap())
            .stderr(std::fs::File::create(dir.join("log")).unwrap())
            .spawn()
            .unwrap();
        let r = Registry { child, port, dir };
        let end = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < end, "docker-registry did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(r)
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// skopeo copy SRC docker://ADDR/DST (--all: every platform of a list).
    pub fn push(&self, src: &str, dst: &str, extra: &[&str]) {
        let o = Command::new("skopeo")
            .args(["copy", "-q", "--dest-tls-verify=false"])
            .args(extra)
            .arg(src)
            .arg(format!("docker://{}/{dst}", self.addr()))
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "skopeo copy {src}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }

    /// Request lines the registry logged: ("PATCH", "/v2/...").
    pub fn requests(&self) -> Vec<(String, String)> {
        std::fs::read_to_string(self.dir.join("access"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let q = l.split('"').nth(1)?;
                let mut w = q.split(' ');
                Some((w.next()?.to_string(), w.next()?.to_string()))
            })
            .collect()
    }

    /// The manifest digest skopeo sees for ADDR/NAME.
    pub fn digest(&self, name: &str, extra: &[&str]) -> String {
        let o = Command::new("skopeo")
            .args(["inspect", "--raw", "--tls-verify=false"])
            .args(extra)
            .arg(format!("docker://{}/{name}", self.addr()))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        format!("sha256:{}", sha256_hex(&o.stdout))
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
