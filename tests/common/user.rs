//! A real unprivileged user for the rootless tests: made with useradd,
//! given (or not) a range in /etc/subuid and /etc/subgid, with its own
//! copy of pocket and of the test rootfs in a home of its own; removed
//! with all of it when dropped.

use super::{stderr, stdout};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// The range given to the user with subordinate ids.
pub const SUB_START: u32 = 624288;

/// A plain user for one test: made with useradd, removed (with its
/// subid lines and home) when dropped.
pub struct User {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: PathBuf,
    /// pocket and the rootfs, where the user can read them.
    pub bin: PathBuf,
    pub rootfs: PathBuf,
}

pub fn edit_subids(name: &str, line: Option<String>) {
    for f in ["/etc/subuid", "/etc/subgid"] {
        let old = std::fs::read_to_string(f).unwrap_or_default();
        let mut keep: Vec<&str> = old
            .lines()
            .filter(|l| l.split(':').next() != Some(name))
            .collect();
        if let Some(l) = &line {
            keep.push(l);
        }
        let mut new = keep.join("\n");
        if !new.is_empty() {
            new.push('\n');
        }
        std::fs::write(f, new).unwrap();
    }
}

impl User {
    pub fn new(tag: &str, subids: bool) -> User {
        let name = format!("pkrl{tag}{}", std::process::id() % 100000);
        let _ = Command::new("userdel").arg(&name).output();
        let o = Command::new("useradd")
            .args(["-M", "-N", "-s", "/usr/sbin/nologin", &name])
            .output()
            .expect("useradd");
        assert!(
            o.status.success(),
            "useradd: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        // useradd may give it a range of its own (SUB_UID_COUNT): only the
        // test's says what the user has.
        edit_subids(&name, subids.then(|| format!("{name}:{SUB_START}:65536")));
        let id = |f: &str| {
            let o = Command::new("id").args([f, &name]).output().unwrap();
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse::<u32>()
                .unwrap()
        };
        let (uid, gid) = (id("-u"), id("-g"));
        let home = std::env::temp_dir().join(format!("pocket-rl-{name}"));
        let _ = std::fs::remove_dir_all(&home);
        std::fs::create_dir_all(&home).unwrap();
        let bin = home.join("pocket");
        std::fs::copy(super::bin(), &bin).unwrap();
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::os::unix::fs::chown(&home, Some(uid), Some(gid)).unwrap();
        let rootfs = home.join("rootfs");
        let st = Command::new("cp")
            .arg("-a")
            .arg(super::rootfs())
            .arg(&rootfs)
            .status()
            .unwrap();
        assert!(st.success());
        // The user's own rootfs (root inside owns it), as podman wants one.
        let st = Command::new("chown")
            .args(["-R", &format!("{uid}:{gid}")])
            .arg(&rootfs)
            .status()
            .unwrap();
        assert!(st.success());
        User {
            name,
            uid,
            gid,
            home,
            bin,
            rootfs,
        }
    }

    /// pocket as this user, with only HOME and PATH (no XDG dirs: the
    /// fallbacks are what is tested).
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.args(args)
            .env_clear()
            .env("HOME", &self.home)
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("POCKET_CONFIG", r#"{"bridge":"none"}"#)
            .current_dir(&self.home)
            .stdin(Stdio::null())
            .uid(self.uid)
            .gid(self.gid);
        c
    }

    pub fn out(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("pocket as the user")
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.out(args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        stdout(&o)
    }

    pub fn rootfs(&self) -> &str {
        self.rootfs.to_str().unwrap()
    }

    pub fn state(&self) -> PathBuf {
        self.home.join(".local/share/pocket")
    }

    /// `load -i` of the test busybox image, from a copy in the user's
    /// home (the build tree is not the user's to read); load's output.
    pub fn load_busybox(&self) -> String {
        let tar = self.home.join("busybox.tar");
        std::fs::copy(super::test_images().join("busybox-docker.tar"), &tar).unwrap();
        std::fs::set_permissions(&tar, std::fs::Permissions::from_mode(0o644)).unwrap();
        self.ok(&["load", "-i", tar.to_str().unwrap()])
    }
}

impl Drop for User {
    fn drop(&mut self) {
        if let Ok(o) = self.cmd(&["ps", "-aq"]).output() {
            for id in String::from_utf8_lossy(&o.stdout).lines() {
                let _ = self.cmd(&["rm", "-f", id]).output();
            }
        }
        // What the container's ids own in the state (its upper dirs)
        // goes with root's rm.
        let _ = std::fs::remove_dir_all(&self.home);
        edit_subids(&self.name, None);
        let _ = Command::new("userdel").arg(&self.name).output();
    }
}

pub fn uid_of(pid: i32) -> u32 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let l = s.lines().find(|l| l.starts_with("Uid:")).unwrap();
    l.split_whitespace().nth(2).unwrap().parse().unwrap()
}

pub fn words(s: &str) -> Vec<Vec<String>> {
    s.lines()
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect()
}
