//! A throwaway network namespace for tests that make bridges, veths and
//! nf_tables rules: they live and die in it, the host's are never touched.

use super::*;
use std::process::{Child, Command, Output, Stdio};

/// A throwaway network namespace: a sleeping process holds it; killing it
/// destroys the namespace with everything pocket made in it.
pub struct Ns(pub Child);

impl Ns {
    pub fn new() -> Ns {
        let c = Command::new("unshare")
            .args(["-n", "--", "sleep", "600"])
            .stdin(Stdio::null())
            .spawn()
            .expect("unshare (util-linux)");
        let pid = c.id();
        let me = std::fs::read_link("/proc/self/ns/net").unwrap();
        wait_for(10, "the new network namespace", || {
            let ns = std::fs::read_link(format!("/proc/{pid}/ns/net")).ok()?;
            (ns != me).then_some(())
        });
        Ns(c)
    }
    /// `nsenter --net=<ns> PROG ARGS...`.
    pub fn cmd(&self, prog: &std::path::Path) -> Command {
        let mut c = Command::new("nsenter");
        c.env("POCKET_CONFIG", settings())
            .arg(format!("--net=/proc/{}/ns/net", self.0.id()))
            .arg("--")
            .arg(prog)
            .stdin(Stdio::null());
        c
    }
    pub fn pocket(&self, r: &Root, args: &[&str]) -> Output {
        self.cmd(&bin())
            .arg("--root")
            .arg(&r.0)
            .args(args)
            .output()
            .unwrap()
    }
    pub fn sh(&self, script: &str) -> String {
        let o = self
            .cmd(std::path::Path::new("/bin/sh"))
            .args(["-c", script])
            .output()
            .unwrap();
        assert!(o.status.success(), "{script}: {}", stderr(&o));
        stdout(&o)
    }
    /// Interface names in the namespace (/proc/PID/net is the namespace of PID).
    pub fn links(&self) -> Vec<String> {
        std::fs::read_to_string(format!("/proc/{}/net/dev", self.0.id()))
            .unwrap()
            .lines()
            .skip(2)
            .filter_map(|l| l.split(':').next().map(|s| s.trim().to_string()))
            .collect()
    }
    /// `ip -4 -o addr show dev D`: "10.89.0.1/24" and the like.
    pub fn addrs(&self, dev: &str) -> Vec<String> {
        self.sh(&format!("ip -4 -o addr show dev {dev}"))
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                let i = f.iter().position(|w| *w == "inet")?;
                f.get(i + 1).map(|s| s.to_string())
            })
            .collect()
    }
    pub fn is_up(&self, dev: &str) -> bool {
        self.sh(&format!("ip -o link show dev {dev}"))
            .contains(",UP")
    }
    /// pocket's nf_tables table as nft prints it, None if absent.
    pub fn table(&self) -> Option<String> {
        let o = self
            .cmd(std::path::Path::new("nft"))
            .args(["list", "table", "ip", "pocket"])
            .output()
            .unwrap();
        o.status.success().then(|| stdout(&o))
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
