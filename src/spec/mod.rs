//! The Spec: what a container is, shaped like the OCI runtime spec
//! (process, root, hostname, mounts, linux.namespaces), plus the few
//! run-time choices that are not part of a config.json (stdio, --init).
//!
//! Both front ends build one: the docker-like CLI from flags, the OCI CLI
//! (later) from config.json. Pure data; no syscalls here.

pub mod caps;
mod defaults;
pub mod oci;
mod oci_read;
pub mod rlimit;
pub mod sysctl;

pub use defaults::{
    DEFAULT_CAPS, DEFAULT_PATH, MASKED_PATHS, READONLY_PATHS, default_home, default_mounts,
    docker_env, getenv, override_env, setenv,
};

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
    /// The bounding set, one bit per cap; also the effective and
    /// permitted sets unless `cap_sets` says otherwise (docker's shape).
    pub capabilities: u64,
    /// OCI's effective, permitted, inheritable and ambient sets, when a
    /// config.json gives them otherwise than docker does (bounding =
    /// effective = permitted, the other two empty). None: docker's shape.
    pub cap_sets: Option<caps::Sets>,
    pub user: User,
    /// OCI `process.noNewPrivileges`: execve never grants privileges
    /// (setuid bits, file capabilities) inside the container.
    pub no_new_privileges: bool,
    /// OCI `process.user.umask`; None: 0022, as runc.
    pub umask: Option<u32>,
    /// OCI `process.rlimits`, at most one per resource.
    pub rlimits: Vec<Rlimit>,
    /// OCI `process.oomScoreAdj` (-1000..1000), written by the parent.
    pub oom_score_adj: Option<i32>,
    /// OCI `process.consoleSize` (rows, columns): the terminal's first
    /// size, instead of the caller's.
    pub console_size: Option<(u16, u16)>,
}

/// OCI `process.rlimits[]`: a resource (RLIMIT_*, as setrlimit(2)
/// numbers it) and its soft and hard limits (u64::MAX: unlimited).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rlimit {
    pub resource: u32,
    pub soft: u64,
    pub hard: u64,
}

/// One OCI hook: a program of the host run with the container's state
/// on its stdin (src/spawn/hooks.rs).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Hook {
    /// Absolute.
    pub path: String,
    /// argv, argv[0] included (empty: the path alone).
    pub args: Vec<String>,
    /// The whole environment (nothing is inherited).
    pub env: Vec<String>,
    /// Seconds before it is killed and counted as failed.
    pub timeout: Option<u32>,
}

/// OCI `hooks`, by the point of the container's life they run at.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Hooks {
    pub prestart: Vec<Hook>,
    pub create_runtime: Vec<Hook>,
    pub create_container: Vec<Hook>,
    pub start_container: Vec<Hook>,
    pub poststart: Vec<Hook>,
    pub poststop: Vec<Hook>,
}

impl Hooks {
    pub fn is_empty(&self) -> bool {
        *self == Hooks::default()
    }
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

impl Mount {
    /// A bind mount: type "bind", or a "bind"/"rbind" option (runc's rule).
    pub fn is_bind(&self) -> bool {
        self.kind == "bind" || self.options.iter().any(|o| o == "bind" || o == "rbind")
    }
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
    /// Made at clone with the others (which it then owns), its id maps
    /// written by the parent before the child goes on (`Spec::uid_map`).
    User,
}

impl Namespace {
    /// Its name under /proc/PID/ns.
    pub fn proc_name(self) -> &'static str {
        match self {
            Namespace::Pid => "pid",
            Namespace::Mount => "mnt",
            Namespace::Uts => "uts",
            Namespace::Ipc => "ipc",
            Namespace::Network => "net",
            Namespace::Cgroup => "cgroup",
            Namespace::User => "user",
        }
    }

    pub fn clone_flag(self) -> i32 {
        match self {
            Namespace::Pid => libc::CLONE_NEWPID,
            Namespace::Mount => libc::CLONE_NEWNS,
            Namespace::Uts => libc::CLONE_NEWUTS,
            Namespace::Ipc => libc::CLONE_NEWIPC,
            Namespace::Network => libc::CLONE_NEWNET,
            Namespace::Cgroup => libc::CLONE_NEWCGROUP,
            Namespace::User => libc::CLONE_NEWUSER,
        }
    }
}

/// One line of a user namespace's uid_map or gid_map (OCI
/// `linux.uidMappings[]`): ids `container..container+size` inside are
/// `host..host+size` outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdMap {
    pub container: u32,
    pub host: u32,
    pub size: u32,
}

impl IdMap {
    /// The host id of `id` inside, if the maps map it.
    pub fn host_of(maps: &[IdMap], id: u32) -> Option<u32> {
        maps.iter()
            .find(|m| id >= m.container && id - m.container < m.size)
            .map(|m| m.host + (id - m.container))
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
    /// The namespaces made new at clone.
    pub namespaces: Vec<Namespace>,
    /// With a User namespace: its uid_map and gid_map (both given, as
    /// runc wants), written by the parent while the child waits.
    pub uid_map: Vec<IdMap>,
    pub gid_map: Vec<IdMap>,
    /// Namespaces joined instead (OCI linux.namespaces[].path, as an
    /// engine's pods give them): at most one per kind, none of them in
    /// `namespaces`.
    pub ns_paths: Vec<(Namespace, String)>,
    /// OCI `linux.cgroupsPath`: relative or absolute, both below each
    /// hierarchy's root (`pocket/<id>`, `/libpod_parent/libpod-<id>`),
    /// or systemd's `slice:prefix:name` (cgroup::open maps it); and
    /// `linux.resources`.
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
    /// `--ipc shareable` (docker's word; the namespace is as private's):
    /// kept for `inspect`.
    pub ipc_shareable: bool,
    /// `--no-pivot`: MS_MOVE + chroot instead of pivot_root.
    pub no_pivot: bool,
    /// OCI `--no-new-keyring`: the init and every exec keep the session
    /// keyring they have, no fresh one (where keyctl is refused: nested
    /// under a seccomp profile, gVisor).
    pub no_new_keyring: bool,
    /// OCI: the init gets runc's HOME (spec::default_home) where its
    /// environment has none; set at create, never stored: an exec as
    /// another user gets its own.
    pub default_home: bool,
    /// The image the rootfs comes from (its id), if any.
    pub image: Option<String>,
    /// docker's container Config of a docker-CLI container, as its create
    /// made it from the image's and the flags: Env (--env-file and -e as
    /// given, then the image's others, as docker's merge; not what pocket
    /// adds, HOSTNAME, HOME, TERM),
    /// Entrypoint and Cmd apart (`process.args` holds them joined), the
    /// WorkingDir and User as given (`process` holds them resolved),
    /// ExposedPorts (the image's and -p's) and Volumes (the image's and an
    /// anonymous -v's). What `inspect` shows and `commit`
    /// starts from; labels, STOPSIGNAL and the health check are the
    /// record's. None: an OCI container, or one recorded before.
    pub config: Option<crate::image::store::Config>,
    /// A bridge network to attach to (with a Network namespace).
    pub net: Option<NetAttach>,
    /// Networks joined later (`network connect`): eth1, eth2... at each
    /// start, no default route through them.
    pub extra_nets: Vec<NetAttach>,
    /// `--net slirp4netns`: started for each run (with a Network
    /// namespace), its -p forwards asked of it.
    pub slirp: Option<crate::net::slirp::Config>,
    /// `--pid container:ID`, `--ipc container:ID`: whose namespace is
    /// joined, found again at every start (its pid changes), as the net's.
    pub ns_containers: Vec<(Namespace, String)>,
    /// Their inits (pid, start time) for this start. Not saved.
    pub ns_owners: Vec<(Namespace, i32, u64)>,
    /// `--net container:ID`: the container whose namespace is joined,
    /// found again at every start (its pid changes).
    pub net_container: Option<String>,
    /// That container's init (pid, start time) for this start: the
    /// namespace is opened from /proc/PID and the start time checked after,
    /// so a reused pid is never joined. Not saved.
    pub netns_owner: Option<(i32, u64)>,
    /// OCI `linux.seccomp`: docker's default profile unless said otherwise.
    pub seccomp: crate::seccomp::Seccomp,
    /// OCI `linux.sysctl` (key, value), checked by `sysctl::check`:
    /// written in the child once /proc is mounted.
    pub sysctl: Vec<(String, String)>,
    /// OCI `linux.rootfsPropagation`, as given: accepted and kept, but
    /// pocket keeps every mount of the container private (fs::plan's
    /// first step), so nothing propagates back to the host whatever it says.
    pub rootfs_propagation: Option<String>,
    /// OCI `hooks`.
    pub hooks: Hooks,
    /// OCI `annotations` but pocket's own (io.pocket.*), in order.
    pub annotations: Vec<(String, String)>,
}

impl Spec {
    pub fn clone_flags(&self) -> i32 {
        self.namespaces.iter().fold(0, |f, n| f | n.clone_flag())
    }
    pub fn has(&self, ns: Namespace) -> bool {
        self.namespaces.contains(&ns)
    }
    /// The path of a namespace joined instead of made, if any.
    pub fn ns_path(&self, ns: Namespace) -> Option<&str> {
        self.ns_paths
            .iter()
            .find(|(n, _)| *n == ns)
            .map(|(_, p)| p.as_str())
    }
}
