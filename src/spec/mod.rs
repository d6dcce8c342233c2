//! The Spec: what a container is, shaped like the OCI runtime spec
//! (process, root, hostname, mounts, linux.namespaces), plus the few
//! run-time choices that are not part of a config.json (stdio, --init).
//!
//! Both front ends build one: the docker-like CLI from flags, the OCI CLI
//! (later) from config.json. Pure data; no syscalls here.

pub mod caps;
mod defaults;
pub mod oci;

pub use defaults::{DEFAULT_CAPS, DEFAULT_PATH, MASKED_PATHS, READONLY_PATHS, default_mounts};

pub use crate::net::NetAttach;
use alloc::string::String;
use alloc::vec::Vec;

/// OCI `process`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Process {
    pub args: Vec<Vec<u8>>,
    pub env: Vec<Vec<u8>>,
    pub cwd: Vec<u8>,
    pub terminal: bool,
    /// Bounding, effective, permitted and inheritable set, one bit per cap.
    pub capabilities: u64,
    pub user: User,
    /// OCI `process.noNewPrivileges`: execve never grants privileges
    /// (setuid bits, file capabilities) inside the container.
    pub no_new_privileges: bool,
}

/// Who the command runs as (OCI process.user): numeric, resolved against
/// the image's /etc/passwd and /etc/group before the Spec is made.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct User {
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
}

/// An image rootfs: overlayfs of read-only layers under the container's
/// own upper and work directories, mounted on `Root::path`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Overlay {
    /// Layer directories, top first (overlayfs' lowerdir order).
    pub lower: Vec<String>,
    pub upper: String,
    pub work: String,
    /// No syncs to the upper filesystem (overlayfs `volatile`): for --rm
    /// containers, whose upper dir is thrown away at exit anyway, as
    /// podman does. Spares the sync at unmount.
    pub volatile: bool,
}

/// OCI `root`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Root {
    pub path: Vec<u8>,
    pub readonly: bool,
    pub overlay: Option<Overlay>,
}

/// OCI `mounts[]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub destination: String,
    pub kind: String,
    pub source: String,
    pub options: Vec<String>,
}

/// OCI `linux.devices[]`: a node made in the container's /dev (`--device`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// In the container, below /dev.
    pub path: String,
    /// b'c' or b'b'.
    pub kind: u8,
    pub major: u32,
    pub minor: u32,
    /// Permission bits (the host node's).
    pub file_mode: u32,
    pub uid: u32,
    pub gid: u32,
}

/// OCI `linux.namespaces[].type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Namespace {
    Pid,
    Mount,
    Uts,
    Ipc,
    Network,
    Cgroup,
}

impl Namespace {
    pub fn clone_flag(self) -> i32 {
        match self {
            Namespace::Pid => libc::CLONE_NEWPID,
            Namespace::Mount => libc::CLONE_NEWNS,
            Namespace::Uts => libc::CLONE_NEWUTS,
            Namespace::Ipc => libc::CLONE_NEWIPC,
            Namespace::Network => libc::CLONE_NEWNET,
            Namespace::Cgroup => libc::CLONE_NEWCGROUP,
        }
    }
}

/// How the container's stdio is wired, and other choices of the runner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Io {
    /// `-i`: the container reads pocket's stdin (else /dev/null).
    pub stdin: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Spec {
    pub process: Process,
    pub root: Root,
    pub hostname: Vec<u8>,
    pub mounts: Vec<Mount>,
    /// OCI `linux.maskedPaths` and `linux.readonlyPaths`.
    pub masked_paths: Vec<String>,
    pub readonly_paths: Vec<String>,
    pub namespaces: Vec<Namespace>,
    /// OCI `linux.cgroupsPath` (relative to each hierarchy's root, e.g.
    /// `pocket/<id>`) and `linux.resources`.
    pub cgroups_path: Option<String>,
    pub resources: crate::cgroup::Resources,
    /// OCI `linux.devices`: nodes made in /dev beside the standard ones.
    pub devices: Vec<Device>,
    /// What `--device` and `--device-cgroup-rule` said, for inspect's
    /// HostConfig ("HOST:CONTAINER:PERMS", "c 1:3 rwm"); their effect is in
    /// `devices` and `resources.devices`.
    pub device_mappings: Vec<String>,
    pub device_cgroup_rules: Vec<String>,
    pub io: Io,
    /// `--init`: pocket stays PID 1, reaps zombies and forwards signals.
    pub init: bool,
    /// `--privileged`, as given (its effects are in the other fields:
    /// every capability, no masked paths, /sys writable...); kept for
    /// `inspect`.
    pub privileged: bool,
    /// `--no-pivot`: MS_MOVE + chroot instead of pivot_root.
    pub no_pivot: bool,
    /// The image the rootfs comes from (its id), if any.
    pub image: Option<String>,
    /// A bridge network to attach to (with a Network namespace).
    pub net: Option<NetAttach>,
    /// Join this network namespace instead of making one (OCI
    /// linux.namespaces[network].path, as another runtime's config gives).
    pub netns_path: Option<String>,
    /// `--net container:ID`: the container whose namespace is joined,
    /// found again at every start (its pid changes).
    pub net_container: Option<String>,
    /// That container's init (pid, start time) for this start: the
    /// namespace is opened from /proc/PID and the start time checked after,
    /// so a reused pid is never joined. Not saved.
    pub netns_owner: Option<(i32, u64)>,
    /// OCI `linux.seccomp`: docker's default profile unless said otherwise.
    pub seccomp: crate::seccomp::Seccomp,
}

impl Spec {
    pub fn clone_flags(&self) -> i32 {
        self.namespaces.iter().fold(0, |f, n| f | n.clone_flag())
    }
    pub fn has(&self, ns: Namespace) -> bool {
        self.namespaces.contains(&ns)
    }
}
