//! `pocket run`: flags -> Spec -> spawn.

use super::Ctx;
use super::args::text;
use super::args::{Flag, flag, parse};
use super::attach::Session;
use crate::container::Attach;
use crate::container::health::{self, Check};
use crate::container::network::{Mode, Request};
use crate::container::restart::Policy;
use crate::error::{Context, Error, Result};
use crate::image::store::Config;
use crate::net::networks;
use crate::rt::args::lookup;
use crate::spec::{
    DEFAULT_CAPS, Io, MASKED_PATHS, Namespace, Process, READONLY_PATHS, Root, Spec, default_mounts,
};
use crate::sys::{cstr, fd};
use alloc::string::String;
use alloc::vec::Vec;

const FLAGS: &[Flag] = &[
    flag(b'i', "interactive", false),
    flag(b't', "tty", false),
    flag(b'e', "env", true),
    flag(0, "env-file", true),
    flag(b'w', "workdir", true),
    flag(b'h', "hostname", true),
    flag(0, "net", true),
    flag(0, "network", true),
    flag(0, "read-only", false),
    flag(0, "init", false),
    flag(0, "rm", false),
    flag(0, "no-pivot", false),
    flag(0, "rootfs", true),
    flag(b'd', "detach", false),
    flag(0, "name", true),
    flag(0, "oom-kill-disable", false),
    flag(b'v', "volume", true),
    flag(0, "tmpfs", true),
    flag(0, "entrypoint", true),
    flag(b'u', "user", true),
    flag(0, "ip", true),
    flag(b'p', "publish", true),
    flag(b'P', "publish-all", false),
    flag(0, "expose", true),
    flag(0, "add-host", true),
    flag(0, "dns", true),
    flag(0, "cap-add", true),
    flag(0, "cap-drop", true),
    flag(0, "privileged", false),
    flag(0, "device", true),
    flag(0, "device-cgroup-rule", true),
    flag(0, "security-opt", true),
    flag(0, "ulimit", true),
    flag(0, "sysctl", true),
    flag(0, "oom-score-adj", true),
    flag(0, "pull", true),
    flag(b'l', "label", true),
    flag(0, "stop-signal", true),
    flag(0, "stop-timeout", true),
    flag(0, "label-file", true),
    flag(0, "platform", true),
    flag(0, "restart", true),
    flag(0, "health-cmd", true),
    flag(0, "health-interval", true),
    flag(0, "health-timeout", true),
    flag(0, "health-retries", true),
    flag(0, "health-start-period", true),
    flag(0, "health-start-interval", true),
    flag(0, "no-healthcheck", false),
    flag(0, "log-driver", true),
    flag(0, "log-opt", true),
    flag(0, "mount", true),
    flag(0, "shm-size", true),
    flag(0, "pid", true),
    flag(0, "ipc", true),
    flag(0, "uts", true),
    flag(0, "cgroupns", true),
    flag(0, "group-add", true),
    flag(0, "cidfile", true),
    flag(0, "domainname", true),
    flag(0, "network-alias", true),
    flag(0, "net-alias", true),
    flag(b'a', "attach", true),
    flag(0, "detach-keys", true),
    flag(0, "sig-proxy", false),
    flag(0, "userns", true),
    flag(0, "uidmap", true),
    flag(0, "gidmap", true),
    // From here on: the limits `update` takes too (LIMIT_FLAGS), and help.
    flag(b'm', "memory", true),
    flag(0, "memory-swap", true),
    flag(0, "memory-reservation", true),
    flag(0, "cpus", true),
    flag(b'c', "cpu-shares", true),
    flag(0, "cpu-quota", true),
    flag(0, "cpu-period", true),
    flag(0, "cpuset-cpus", true),
    flag(0, "cpuset-mems", true),
    flag(0, "pids-limit", true),
    flag(0, "blkio-weight", true),
    flag(0, "cpu-rt-period", true),
    flag(0, "cpu-rt-runtime", true),
    flag(0, "help", false),
];

/// The resource flags `run` and `update` share (with --help): the tail of
/// FLAGS, so the two commands cannot drift apart.
pub const LIMIT_FLAGS: &[Flag] = FLAGS.split_at(FLAGS.len() - 14).1;

/// `run`'s flags, parsed but not yet interpreted.
#[derive(Debug, Default)]
pub struct RunArgs<'a> {
    pub interactive: bool,
    pub tty: bool,
    /// -e and --env-file in command-line order: (is_file, value).
    pub env: Vec<(bool, &'a [u8])>,
    pub workdir: Option<&'a [u8]>,
    pub hostname: Option<&'a [u8]>,
    pub net: Option<&'a [u8]>,
    pub read_only: bool,
    pub init: bool,
    pub rm: bool,
    pub no_pivot: bool,
    pub rootfs: Option<&'a [u8]>,
    pub detach: bool,
    pub name: Option<&'a [u8]>,
    /// -v values, in order.
    pub volumes: Vec<&'a [u8]>,
    /// --tmpfs values, in order.
    pub tmpfs: Vec<&'a [u8]>,
    pub entrypoint: Option<&'a [u8]>,
    pub user: Option<&'a [u8]>,
    /// The image (NAME[:TAG] or id) when there is no rootfs dir.
    pub image: Option<&'a [u8]>,
    /// `--pull missing|always|never` (docker's default: missing).
    pub pull: Option<&'a [u8]>,
    pub stop_signal: Option<&'a [u8]>,
    pub stop_timeout: Option<&'a [u8]>,
    pub restart: Option<&'a [u8]>,
    /// --health-*: (long name, value); --no-healthcheck.
    pub health: Vec<(&'static str, &'a [u8])>,
    pub no_healthcheck: bool,
    pub log_driver: Option<&'a [u8]>,
    pub log_opts: Vec<&'a [u8]>,
    /// --mount values, in order.
    pub mounts: Vec<&'a [u8]>,
    pub shm_size: Option<&'a [u8]>,
    pub pid: Option<&'a [u8]>,
    pub ipc: Option<&'a [u8]>,
    pub uts: Option<&'a [u8]>,
    /// --cgroupns host|private.
    pub cgroupns: Option<&'a [u8]>,
    pub group_add: Vec<&'a [u8]>,
    pub cidfile: Option<&'a [u8]>,
    pub domainname: Option<&'a [u8]>,
    pub aliases: Vec<&'a [u8]>,
    /// -a values.
    pub attach: Vec<&'a [u8]>,
    pub detach_keys: Option<&'a [u8]>,
    /// --sig-proxy=false: false (docker's default: true).
    pub sig_proxy: bool,
    /// --userns (host), --uidmap and --gidmap values, in order.
    pub userns: Option<&'a [u8]>,
    pub uidmap: Vec<&'a [u8]>,
    pub gidmap: Vec<&'a [u8]>,
    /// --label and --label-file in command-line order: (is_file, value).
    pub labels: Vec<(bool, &'a [u8])>,
    /// `--platform OS/ARCH[/VARIANT]` for a pull.
    pub platform: Option<&'a [u8]>,
    /// --ip, -p (in order), -P, --add-host, --dns.
    pub ip: Option<&'a [u8]>,
    pub publish: Vec<&'a [u8]>,
    pub publish_all: bool,
    /// --expose values, in order.
    pub expose: Vec<&'a [u8]>,
    pub add_hosts: Vec<&'a [u8]>,
    pub dns: Vec<&'a [u8]>,
    /// --cap-add and --cap-drop values, in order; --privileged.
    pub cap_add: Vec<&'a [u8]>,
    pub cap_drop: Vec<&'a [u8]>,
    pub privileged: bool,
    /// --device and --device-cgroup-rule values, in order.
    pub devices: Vec<&'a [u8]>,
    pub device_rules: Vec<&'a [u8]>,
    /// --security-opt values, in order.
    pub security_opts: Vec<&'a [u8]>,
    /// --ulimit and --sysctl values, in order; --oom-score-adj.
    pub ulimits: Vec<&'a [u8]>,
    pub sysctls: Vec<&'a [u8]>,
    pub oom_score_adj: Option<&'a [u8]>,
    /// Resource flags (long name, value) in command-line order.
    pub limits: Vec<(&'static str, &'a [u8])>,
    pub help: bool,
    pub command: &'a [&'a [u8]],
}

pub fn parse_run<'a>(argv: &'a [&'a [u8]]) -> Result<RunArgs<'a>> {
    let p = parse("run", FLAGS, argv)?;
    let mut r = RunArgs {
        sig_proxy: true,
        ..RunArgs::default()
    };
    for &(k, v) in &p.flags {
        let on = v == b"true";
        match FLAGS[k].long {
            "interactive" => r.interactive = on,
            "tty" => r.tty = on,
            "env" => r.env.push((false, v)),
            "env-file" => r.env.push((true, v)),
            "workdir" => r.workdir = Some(v),
            "hostname" => r.hostname = Some(v),
            "net" | "network" => r.net = Some(v),
            "read-only" => r.read_only = on,
            "init" => r.init = on,
            "rm" => r.rm = on,
            "no-pivot" => r.no_pivot = on,
            "rootfs" => r.rootfs = Some(v),
            "detach" => r.detach = on,
            "name" => r.name = Some(v),
            "volume" => r.volumes.push(v),
            "tmpfs" => r.tmpfs.push(v),
            "entrypoint" => r.entrypoint = Some(v),
            "user" => r.user = Some(v),
            "ip" => r.ip = Some(v),
            "publish" => r.publish.push(v),
            "publish-all" => r.publish_all = on,
            "expose" => r.expose.push(v),
            "add-host" => r.add_hosts.push(v),
            "dns" => r.dns.push(v),
            "cap-add" => r.cap_add.push(v),
            "cap-drop" => r.cap_drop.push(v),
            "privileged" => r.privileged = on,
            "device" => r.devices.push(v),
            "device-cgroup-rule" => r.device_rules.push(v),
            "security-opt" => r.security_opts.push(v),
            "ulimit" => r.ulimits.push(v),
            "sysctl" => r.sysctls.push(v),
            "oom-score-adj" => r.oom_score_adj = Some(v),
            "pull" => r.pull = Some(v),
            "label" => r.labels.push((false, v)),
            "stop-signal" => r.stop_signal = Some(v),
            "stop-timeout" => r.stop_timeout = Some(v),
            "label-file" => r.labels.push((true, v)),
            "platform" => r.platform = Some(v),
            "restart" => r.restart = Some(v),
            "no-healthcheck" => r.no_healthcheck = on,
            "log-driver" => r.log_driver = Some(v),
            "log-opt" => r.log_opts.push(v),
            "mount" => r.mounts.push(v),
            "shm-size" => r.shm_size = Some(v),
            "pid" => r.pid = Some(v),
            "ipc" => r.ipc = Some(v),
            "uts" => r.uts = Some(v),
            "cgroupns" => r.cgroupns = Some(v),
            "group-add" => r.group_add.push(v),
            "cidfile" => r.cidfile = Some(v),
            "domainname" => r.domainname = Some(v),
            "network-alias" | "net-alias" => r.aliases.push(v),
            "attach" => r.attach.push(v),
            "detach-keys" => r.detach_keys = Some(v),
            "sig-proxy" => r.sig_proxy = on,
            "userns" => r.userns = Some(v),
            "uidmap" => r.uidmap.push(v),
            "gidmap" => r.gidmap.push(v),
            l if l.starts_with("health-") => r.health.push((l, v)),
            "memory" | "memory-swap" | "memory-reservation" | "cpus" | "cpu-shares"
            | "cpu-quota" | "cpu-period" | "cpuset-cpus" | "cpuset-mems" | "pids-limit"
            | "blkio-weight" | "oom-kill-disable" | "cpu-rt-period" | "cpu-rt-runtime" => {
                r.limits.push((FLAGS[k].long, v))
            }
            _ => r.help = on,
        }
    }
    // (options end at the image: the rest is a suffix of argv)
    r.command = &argv[argv.len() - p.rest.len()..];
    if r.rootfs.is_none() && !r.help {
        match r.command.split_first() {
            // A path (/..., ./..., ../...) can never be a reference; any
            // other word is one (`localhost/peer/busybox`, `org/app`).
            Some((dir, cmd)) if dir.starts_with(b"/") || dir.starts_with(b".") => {
                r.rootfs = Some(dir);
                r.command = cmd;
            }
            Some((img, cmd)) => {
                r.image = Some(img);
                r.command = cmd;
            }
            None => {
                return Err(Error::bad(
                    "run",
                    "",
                    "no image given (IMAGE, or --rootfs DIR)",
                ));
            }
        }
    }
    Ok(r)
}

use crate::spec::{docker_env, getenv, setenv};

/// One -e value or env-file line: KEY=VALUE as is; KEY alone takes the
/// host's value, or stays bare if the host has none, as docker's CLI
/// sends it: in Config.Env it hides the image's KEY, and the process
/// has no KEY (spec::override_env).
pub fn env_entry(entry: &[u8], host: &[&[u8]]) -> Result<Vec<u8>> {
    let key = entry.split(|&c| c == b'=').next().unwrap_or(b"");
    if key.is_empty() {
        return Err(Error::bad(
            "invalid environment variable",
            text(entry),
            "empty name",
        ));
    }
    if entry.contains(&0) {
        return Err(Error::bad(
            "invalid environment variable",
            text(key),
            "contains a NUL byte",
        ));
    }
    if entry.contains(&b'=') {
        return Ok(entry.to_vec());
    }
    Ok(lookup(host, entry).map_or_else(|| entry.to_vec(), |v| [entry, b"=", v].concat()))
}

/// An --env-file line as `env_entry`, but a name alone the host does not
/// have is left out, as docker's env files (kvfile) do.
pub fn env_file_entry(line: &[u8], host: &[&[u8]]) -> Result<Option<Vec<u8>>> {
    let e = env_entry(line, host)?;
    Ok(e.contains(&b'=').then_some(e))
}

/// Lines of an --env-file: blank lines and `#` comments are skipped,
/// leading whitespace is trimmed, and names may not contain whitespace.
pub fn env_file_lines(name: &[u8], data: &[u8]) -> Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    for line in data.split(|&c| c == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let start = line
            .iter()
            .position(|c| !c.is_ascii_whitespace())
            .unwrap_or(line.len());
        let line = &line[start..];
        if line.is_empty() || line[0] == b'#' {
            continue;
        }
        let key = line.split(|&c| c == b'=').next().unwrap_or(b"");
        if key.iter().any(|c| c.is_ascii_whitespace()) {
            return Err(Error::bad(
                "env file",
                text(name),
                alloc::format!("variable '{}' contains whitespace", text(key)),
            ));
        }
        out.push(line.to_vec());
    }
    Ok(out)
}

/// On a bridge network (`--net bridge`, a network's name, or no --net at
/// all: docker's default is its bridge network)?
pub fn bridged(r: &RunArgs) -> bool {
    !matches!(r.net, Some(b"none") | Some(b"host")) && joined(r).is_none() && !slirp(r)
}

/// `--net slirp4netns[:OPTIONS]` (net/slirp.rs).
fn slirp(r: &RunArgs) -> bool {
    r.net
        .is_some_and(|n| crate::net::slirp::parse_mode(n).is_some())
}

/// `--net container:ID`: the container whose network is joined.
fn joined<'a>(r: &RunArgs<'a>) -> Option<&'a [u8]> {
    r.net.and_then(|n| n.strip_prefix(b"container:"))
}

/// The command as docker builds it: `--entrypoint` (or the image's
/// Entrypoint) followed by the given command (or the image's Cmd, unless
/// --entrypoint was given, which resets it).
/// Entrypoint and Cmd apart: docker's Config keeps them so.
fn command(r: &RunArgs, image: Option<&Config>) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let given: Vec<Vec<u8>> = r.command.iter().map(|a| a.to_vec()).collect();
    let Some(img) = image else {
        return (Vec::new(), given);
    };
    let b = |v: &[String]| -> Vec<Vec<u8>> { v.iter().map(|a| a.clone().into_bytes()).collect() };
    let entry = match r.entrypoint {
        Some(b"") => Vec::new(),
        Some(e) => alloc::vec![e.to_vec()],
        None => b(&img.entrypoint),
    };
    let cmd = match (given.is_empty(), r.entrypoint) {
        (false, _) => given,
        (true, Some(_)) => Vec::new(),
        (true, None) => b(&img.cmd),
    };
    (entry, cmd)
}

/// Turn parsed flags (and the image's config, if any) into a Spec.
/// `files` holds the contents of each --env-file in order; `host` is
/// pocket's own environment.
pub fn to_spec(
    r: &RunArgs,
    host: &[&[u8]],
    files: &[Vec<u8>],
    hostname: Vec<u8>,
    image: Option<&Config>,
) -> Result<Spec> {
    let (entrypoint, cmd) = command(r, image);
    let args = [&entrypoint[..], &cmd[..]].concat();
    if args.is_empty() {
        return Err(Error::bad("run", "", "no command specified"));
    }
    let hostname = r.hostname.map(|h| h.to_vec()).unwrap_or(hostname);
    if hostname.is_empty() || hostname.len() > 64 || hostname.contains(&0) {
        return Err(Error::bad(
            "invalid hostname",
            text(&hostname),
            "must be 1 to 64 bytes",
        ));
    }
    let cwd = match (r.workdir, image) {
        (Some(w), _) => w,
        (None, Some(c)) if !c.working_dir.is_empty() => c.working_dir.as_bytes(),
        _ => b"/",
    };
    if !cwd.starts_with(b"/") {
        return Err(Error::bad(
            "invalid working directory",
            text(cwd),
            "must be an absolute path",
        ));
    }
    // docker applies all --env-file entries first, then all -e.
    let mut files = files.iter();
    let mut config_env = Vec::new();
    for &(is_file, v) in &r.env {
        if is_file {
            for e in env_file_lines(v, files.next().map_or(&[][..], |d| d))? {
                config_env.extend(env_file_entry(&e, host)?);
            }
        }
    }
    for e in r.env.iter().filter(|e| !e.0) {
        config_env.push(env_entry(e.1, host)?);
    }
    // docker's Config.Env (its merge at create): the user's entries as
    // given, then the image's whose names they do not set.
    let name = |e: &[u8]| e.split(|&c| c == b'=').next().unwrap_or(b"").to_vec();
    let named: Vec<Vec<u8>> = config_env.iter().map(|e| name(e)).collect();
    for e in image.map_or(&[][..], |c| &c.env[..]) {
        if !e.is_empty() && !e.contains('\0') && !named.contains(&name(e.as_bytes())) {
            config_env.push(e.clone().into_bytes());
        }
    }
    // The process's: PATH, HOSTNAME (and TERM) with Config.Env over them
    // (the image's PATH wins), HOME last unless set (runc's; set_home
    // takes the user's from passwd).
    let mut env = docker_env(&hostname, r.tty, &config_env);
    if getenv(&env, b"HOME").is_none_or(|h| h.is_empty()) {
        setenv(&mut env, b"HOME=/root".to_vec());
    }
    let bad_mode = |flag: &str, v: &[u8], modes: &'static str| {
        Error::bad(alloc::format!("invalid --{flag}"), text(v), modes)
    };
    let mut namespaces = alloc::vec![Namespace::Mount];
    // A cgroup namespace of its own (docker's default on v2; pocket's
    // everywhere): it sees its groups at "/". `host`: the host's paths.
    match r.cgroupns {
        None | Some(b"private") => namespaces.push(Namespace::Cgroup),
        Some(b"host") => {}
        Some(v) => return Err(bad_mode("cgroupns", v, "host or private")),
    }
    let (uid_map, gid_map) = id_maps(r)?;
    if !uid_map.is_empty() {
        namespaces.push(Namespace::User);
    }
    let mut ns_containers = Vec::new();
    match r.pid {
        None => namespaces.push(Namespace::Pid),
        Some(b"host") => {}
        Some(v) if v.starts_with(b"container:") && v.len() > 10 => {
            ns_containers.push((Namespace::Pid, text(&v[10..])))
        }
        Some(v) => return Err(bad_mode("pid", v, "host or container:NAME|ID")),
    }
    match r.uts {
        None => namespaces.push(Namespace::Uts),
        Some(b"host") if r.hostname.is_some() => {
            return Err(Error::bad(
                "conflicting options",
                "-h",
                "the host name cannot be set with --uts host",
            ));
        }
        Some(b"host") => {}
        Some(v) => return Err(bad_mode("uts", v, "host is the one mode docker has")),
    }
    match r.ipc {
        None | Some(b"private" | b"shareable" | b"none") => namespaces.push(Namespace::Ipc),
        Some(b"host") => {}
        Some(v) if v.starts_with(b"container:") && v.len() > 10 => {
            ns_containers.push((Namespace::Ipc, text(&v[10..])))
        }
        Some(v) => {
            return Err(bad_mode(
                "ipc",
                v,
                "private, shareable, host, none or container:NAME|ID",
            ));
        }
    }
    match r.net.unwrap_or(b"bridge") {
        b"none" => namespaces.push(Namespace::Network),
        b"host" => {}
        // Another container's namespace: main finds its path.
        other if other.starts_with(b"container:") => {}
        // bridge or a network's name: main attaches it.
        _ => namespaces.push(Namespace::Network),
    }
    if !bridged(r) {
        for (on, what) in [
            (
                (!r.publish.is_empty() || r.publish_all) && !slirp(r),
                "-p/-P",
            ),
            (r.ip.is_some(), "--ip"),
        ] {
            if on {
                return Err(Error::bad(
                    "conflicting options",
                    what,
                    "needs a bridge network (--net bridge or --net NAME; -p: or slirp4netns)",
                ));
            }
        }
    }
    let root = r.rootfs.unwrap_or(b"");
    if root.contains(&0) {
        return Err(Error::bad("rootfs", text(root), "contains a NUL byte"));
    }
    if let Some(a) = args.iter().find(|a| a.contains(&0)) {
        return Err(Error::bad("argument", text(a), "contains a NUL byte"));
    }
    let capabilities = capabilities(r)?;
    let mut mounts = default_mounts();
    shm(&mut mounts, r)?;
    if r.privileged {
        // docker --privileged: /sys and its cgroups writable (and no
        // masked paths below).
        for m in mounts
            .iter_mut()
            .filter(|m| m.kind == "sysfs" || m.kind == "cgroup")
        {
            m.options.retain(|o| o != "ro");
        }
    }
    // A plain user's pocket cannot make the tmpfs the groups are shown on
    // (its container's root could, on v2 only: not done yet).
    if crate::sys::proc::geteuid() != 0 {
        mounts.retain(|m| m.kind != "cgroup");
    }
    let masked: &[&str] = if r.privileged { &[] } else { MASKED_PATHS };
    let readonly: &[&str] = if r.privileged { &[] } else { READONLY_PATHS };
    let mut spec = Spec {
        process: Process {
            args,
            env,
            cwd: cwd.to_vec(),
            terminal: r.tty,
            capabilities,
            // On, as the issue asks (docker's default is off);
            // `--security-opt no-new-privileges=false` turns it off.
            no_new_privileges: true,
            ..Default::default()
        },
        root: Root {
            path: root.to_vec(),
            readonly: r.read_only,
            overlay: None,
        },
        hostname,
        mounts,
        masked_paths: masked.iter().map(|p| String::from(*p)).collect(),
        readonly_paths: readonly.iter().map(|p| String::from(*p)).collect(),
        privileged: r.privileged,
        ipc_shareable: r.ipc == Some(b"shareable"),
        namespaces,
        cgroups_path: None,
        resources: Default::default(),
        devices: Vec::new(),
        device_mappings: Vec::new(),
        device_cgroup_rules: Vec::new(),
        io: Io {
            stdin: r.interactive,
        },
        init: r.init,
        no_pivot: r.no_pivot,
        image: None,
        config: Some(container_config(
            r,
            image,
            config_env,
            entrypoint,
            cmd,
            exposed(r, image)?,
        )),
        net: None,
        net_container: None,
        netns_owner: None,
        seccomp: crate::seccomp::Seccomp::Builtin,
        ns_containers,
        uid_map,
        gid_map,
        ..Default::default()
    };
    // The host's UTS namespace: its name is the host's; none is set (an
    // OCI config may only name a host in a namespace of its own).
    if r.uts == Some(b"host") {
        spec.hostname.clear();
    }
    let mut sysctls = r.sysctls.clone();
    let domain = r.domainname.map(|d| [b"kernel.domainname=", d].concat());
    if let Some(d) = &domain {
        if r.uts == Some(b"host") {
            return Err(Error::bad(
                "conflicting options",
                "--domainname",
                "cannot be set with --uts host",
            ));
        }
        // The UTS namespace's own: a sysctl the child writes.
        sysctls.push(d);
    }
    super::kernel::apply(&mut spec, &r.ulimits, &sysctls, r.oom_score_adj)?;
    Ok(spec)
}

/// docker's container Config (Spec::config): the image's, with what the
/// flags set. Labels, STOPSIGNAL and the health check go in the record.
fn container_config(
    r: &RunArgs,
    image: Option<&Config>,
    env: Vec<Vec<u8>>,
    entrypoint: Vec<Vec<u8>>,
    cmd: Vec<Vec<u8>>,
    exposed: Vec<String>,
) -> Config {
    let strings = |v: Vec<Vec<u8>>| v.into_iter().map(|a| text(&a)).collect();
    let img = image.cloned().unwrap_or_default();
    // `-v /path` (a path alone: an anonymous volume) is a VOLUME of the
    // container's Config too, as docker's CLI makes it.
    let mut volumes = img.volumes;
    for v in r.volumes.iter().map(|v| text(v)) {
        if v.starts_with('/') && !v.contains(':') && !volumes.contains(&v) {
            volumes.push(v);
        }
    }
    crate::rt::sort_by(&mut volumes, |a, b| a < b);
    Config {
        env: strings(env),
        cmd: strings(cmd),
        entrypoint: strings(entrypoint),
        working_dir: r.workdir.map_or(img.working_dir, text),
        user: r.user.map_or(img.user, text),
        exposed_ports: exposed,
        volumes,
        ..Config::default()
    }
}

/// --uidmap and --gidmap (podman's CONTAINER:HOST:COUNT), --userns host:
/// the user namespace's maps, empty for none (and for --userns auto,
/// whose maps come from the image: userns_auto). The host's pid or network
/// namespace, or another container's, cannot go with one (docker's rule:
/// their owner is the host's user namespace, the container's root would
/// have no say in them).
fn id_maps(r: &RunArgs) -> Result<(Vec<crate::spec::IdMap>, Vec<crate::spec::IdMap>)> {
    let parse = |flag: &str, v: &[u8]| {
        let bad = || {
            Error::bad(
                alloc::format!("invalid --{flag}"),
                text(v),
                "CONTAINER_ID:HOST_ID:COUNT, COUNT 1 or more",
            )
        };
        let s = core::str::from_utf8(v).map_err(|_| bad())?;
        let mut it = s.split(':').map(|n| n.parse::<u32>().ok());
        match (
            it.next().flatten(),
            it.next().flatten(),
            it.next().flatten(),
            it.next(),
        ) {
            (Some(container), Some(host), Some(size), None)
                if size > 0
                    && container as u64 + size as u64 <= 1 << 32
                    && host as u64 + size as u64 <= 1 << 32 =>
            {
                Ok(crate::spec::IdMap {
                    container,
                    host,
                    size,
                })
            }
            _ => Err(bad()),
        }
    };
    let auto = super::userns_auto::request(r.userns)?.is_some();
    let uid = r
        .uidmap
        .iter()
        .map(|v| parse("uidmap", v))
        .collect::<Result<Vec<_>>>()?;
    let mut gid = r
        .gidmap
        .iter()
        .map(|v| parse("gidmap", v))
        .collect::<Result<Vec<_>>>()?;
    if auto {
        if !uid.is_empty() || !gid.is_empty() {
            return Err(Error::bad(
                "conflicting options",
                "--userns auto",
                "not with --uidmap/--gidmap",
            ));
        }
        return shared_namespace(r).map(|()| (uid, gid));
    }
    if uid.is_empty() && gid.is_empty() {
        return Ok((uid, gid));
    }
    if r.userns == Some(b"host") {
        return Err(Error::bad(
            "conflicting options",
            "--userns host",
            "not with --uidmap/--gidmap",
        ));
    }
    if uid.is_empty() {
        return Err(Error::bad("--gidmap", "", "needs --uidmap too"));
    }
    if gid.is_empty() {
        gid = uid.clone();
    }
    for (maps, flag) in [(&uid, "--uidmap"), (&gid, "--gidmap")] {
        if crate::spec::IdMap::host_of(maps, 0).is_none() {
            return Err(Error::bad(flag, "", "must map root (container id 0)"));
        }
    }
    shared_namespace(r).map(|()| (uid, gid))
}

/// A user namespace cannot go with the host's namespaces or another
/// container's (see id_maps).
fn shared_namespace(r: &RunArgs) -> Result<()> {
    let shared = [
        (r.net == Some(b"host"), "--net host"),
        (r.pid == Some(b"host"), "--pid host"),
        (r.ipc == Some(b"host"), "--ipc host"),
        (r.uts == Some(b"host"), "--uts host"),
        (
            r.net.is_some_and(|n| n.starts_with(b"container:")),
            "--net container:",
        ),
        (
            r.pid.is_some_and(|n| n.starts_with(b"container:")),
            "--pid container:",
        ),
        (
            r.ipc.is_some_and(|n| n.starts_with(b"container:")),
            "--ipc container:",
        ),
    ];
    if let Some((_, what)) = shared.iter().find(|s| s.0) {
        return Err(Error::bad(
            "conflicting options",
            *what,
            "cannot share a namespace with a user namespace (--uidmap, --userns auto)",
        ));
    }
    Ok(())
}

/// devpts' `gid=5` (tty) names a group the user namespace may not map:
/// then the kernel refuses the mount (EINVAL), so the option goes, and
/// new ptys belong to the opener's group (runc does the same).
fn devpts_gid(spec: &mut Spec) {
    if !spec.has(Namespace::User) || crate::spec::IdMap::host_of(&spec.gid_map, 5).is_some() {
        return;
    }
    for m in spec.mounts.iter_mut().filter(|m| m.kind == "devpts") {
        m.options.retain(|o| o != "gid=5");
    }
}

/// /dev/shm as --shm-size and --ipc ask: a sized tmpfs (docker's 64m by
/// default), the host's own with --ipc host, none with --ipc none.
fn shm(mounts: &mut Vec<crate::spec::Mount>, r: &RunArgs) -> Result<()> {
    let Some(i) = mounts.iter().position(|m| m.destination == "/dev/shm") else {
        return Ok(());
    };
    match r.ipc {
        Some(b"none") => {
            mounts.remove(i);
            return Ok(());
        }
        Some(b"host") => {
            mounts[i] = crate::spec::Mount {
                destination: String::from("/dev/shm"),
                kind: String::from("bind"),
                source: String::from("/dev/shm"),
                options: ["rbind", "rprivate", "nosuid", "nodev", "noexec"]
                    .iter()
                    .map(|o| String::from(*o))
                    .collect(),
            };
            return Ok(());
        }
        _ => {}
    }
    if let Some(v) = r.shm_size {
        let n = crate::cgroup::flags::parse_bytes(&text(v))
            .filter(|n| *n > 0)
            .ok_or_else(|| Error::bad("invalid --shm-size", text(v), "a size (64m, 1g) above 0"))?;
        let o = &mut mounts[i].options;
        o.retain(|x| !x.starts_with("size="));
        o.push(alloc::format!(
            "size={}k",
            (n as u64).saturating_add(1023) / 1024
        ));
    }
    Ok(())
}

/// docker's capability set for `r`: every one with --privileged, else the
/// default set tweaked by --cap-add/--cap-drop (docker's messages for an
/// unknown name).
fn capabilities(r: &RunArgs) -> Result<u64> {
    if r.privileged {
        return Ok(crate::spec::caps::ALL);
    }
    let names = |v: &[&[u8]]| -> Vec<String> { v.iter().map(|n| text(n)).collect() };
    let (add, drop) = (names(&r.cap_add), names(&r.cap_drop));
    crate::spec::caps::tweak(DEFAULT_CAPS, &add, &drop).map_err(|n| {
        let which = if add.contains(&n) {
            "CapAdd"
        } else {
            "CapDrop"
        };
        let full = match n.to_ascii_uppercase() {
            u if u.starts_with("CAP_") => u,
            u => alloc::format!("CAP_{u}"),
        };
        Error::bad(
            alloc::format!("invalid {which}"),
            "",
            alloc::format!("unknown capability: \"{full}\""),
        )
    })
}

/// The CPUs (or memory nodes) this host has online: "0-1" in
/// /sys/devices/system/{cpu,node}/online.
pub fn host_set(path: &[u8], fallback: &[u32]) -> Vec<u32> {
    read_file(path, "read")
        .ok()
        .and_then(|b| crate::cgroup::flags::parse_cpuset(String::from_utf8_lossy(&b).trim()))
        .unwrap_or_else(|| fallback.to_vec())
}

/// Resource flags -> OCI resources, validated as docker validates them.
pub fn resources(limits: &[(&str, &[u8])]) -> Result<crate::cgroup::Resources> {
    let pairs: Vec<(&str, String)> = limits.iter().map(|(k, v)| (*k, text(v))).collect();
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // The host's CPUs and nodes only check --cpus and --cpuset-*: most
    // runs have neither, and sysfs is slow to open.
    let asks = |k: &str| pairs.iter().any(|(f, _)| *f == k);
    let (cpus, mems) = match asks("cpus") || asks("cpuset-cpus") || asks("cpuset-mems") {
        true => (
            host_set(b"/sys/devices/system/cpu/online", &[0]),
            host_set(b"/sys/devices/system/node/online", &[0]),
        ),
        false => (Vec::new(), Vec::new()),
    };
    crate::cgroup::flags::build(&pairs, &cpus, &mems)
}

/// Read a whole (small) file.
pub fn read_file(path: &[u8], what: &'static str) -> Result<Vec<u8>> {
    let c =
        cstr::cstring(path).ok_or_else(|| Error::bad(what, text(path), "contains a NUL byte"))?;
    let f = fd::open(&c, libc::O_RDONLY, 0).ctx(what, &text(path))?;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match fd::read(f.raw(), &mut buf).ctx(what, &text(path))? {
            0 => return Ok(out),
            n => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// Make the rootfs path absolute and check it is a directory.
fn check_rootfs(path: &[u8]) -> Result<Vec<u8>> {
    let c = cstr::cstring(path)
        .ok_or_else(|| Error::bad("rootfs", text(path), "contains a NUL byte"))?;
    let real = crate::sys::fs::realpath(&c).ctx("rootfs", &text(path))?;
    let st = fd::fstatat(libc::AT_FDCWD, &c, 0).ctx("rootfs", &text(path))?;
    if st.st_mode & libc::S_IFMT != libc::S_IFDIR {
        return Err(Error::bad("rootfs", text(path), "not a directory"));
    }
    Ok(real)
}

/// `--pull`: fetch the image first (`always`), or when the store does not
/// have it (`missing`, docker's default), telling stderr as docker does;
/// `never` leaves a missing image to the usual error.
fn pull_if_needed(
    ctx: &Ctx,
    images: &crate::image::store::Images,
    r: &RunArgs,
    q: &[u8],
) -> Result<()> {
    let always = match r.pull {
        None | Some(b"missing") => false,
        Some(b"always") => true,
        Some(b"never") => return Ok(()),
        Some(o) => {
            return Err(Error::text(alloc::format!(
                "invalid pull option: '{}': must be one of \"always\", \"missing\" or \"never\"",
                text(o)
            )));
        }
    };
    let q = core::str::from_utf8(q)
        .map_err(|_| Error::bad("invalid reference format", text(q), "not UTF-8"))?;
    if !always {
        // (No `init` first: a store not made yet has no image to find.)
        match images.resolve(q) {
            Ok(_) => return Ok(()),
            // Not a reference (an id prefix that matched nothing, a bad
            // name): its own error, no pull.
            Err(e) => {
                let Ok(rf) = crate::image::reference::Reference::parse(q) else {
                    return Err(e.with_code(125));
                };
                if rf.digest.is_none() && is_id_prefix(q) {
                    return Err(e.with_code(125));
                }
                crate::errln!("Unable to find image '{}' locally", rf.familiar());
            }
        }
    }
    let platform = r
        .platform
        .map(|v| crate::registry::manifest::Platform::parse(&text(v)))
        .transpose()?;
    images.init()?;
    let o = crate::registry::pull::Pull {
        platform,
        quiet: false,
        to_stderr: true,
        registry: crate::registry::Options::from_env(ctx.args, Vec::new()),
    };
    let pull = || crate::registry::pull::pull(images, q, &o).map(|_| 0);
    // A plain user's layers get the image's owners (cli::makes_image_files).
    crate::spawn::userns::as_users_root(pull)
        .unwrap_or_else(pull)
        .map(drop)
        .map_err(|e| e.with_code(125))
}

/// A string that reads as an image id (prefix): 12 to 64 hex digits.
fn is_id_prefix(q: &str) -> bool {
    let h = q.strip_prefix("sha256:").unwrap_or(q);
    (12..=64).contains(&h.len()) && h.bytes().all(|c| c.is_ascii_hexdigit())
}

/// --network-alias: names on the container's user network (docker: none
/// on the default bridge network, which resolves no names).
fn aliases(r: &RunArgs) -> Result<Vec<(String, String)>> {
    if r.aliases.is_empty() {
        return Ok(Vec::new());
    }
    let net = r.net.map(text).unwrap_or_default();
    if !bridged(r) || net.is_empty() || net == networks::DEFAULT {
        return Err(Error::bad(
            "--network-alias",
            "",
            "network-scoped alias is supported only for containers in user defined networks",
        ));
    }
    let mut out = Vec::new();
    for a in &r.aliases {
        let a = text(a);
        if !crate::rt::names::valid(&a) {
            return Err(Error::bad("invalid --network-alias", a, "a host name"));
        }
        out.push((net.clone(), a));
    }
    Ok(out)
}

/// Where -v, --tmpfs and --mount put something (as given).
fn user_destinations(r: &RunArgs) -> Vec<String> {
    super::mounts::parse(&r.volumes, &r.tmpfs, &r.mounts)
        .map(|ps| ps.iter().map(|p| String::from(p.destination())).collect())
        .unwrap_or_default()
}

/// --group-add: names from the container's /etc/group, or numbers.
fn add_groups(spec: &mut Spec, r: &RunArgs, roots: &[String]) -> Result<()> {
    for g in &r.group_add {
        let gid = crate::image::user::group(&text(g), roots)?;
        let u = &mut spec.process.user;
        if !u.additional_gids.contains(&gid) {
            u.additional_gids.push(gid);
        }
    }
    Ok(())
}

/// --cidfile: refused if it exists (docker's words), before anything is
/// made.
fn check_cidfile(r: &RunArgs) -> Result<()> {
    let Some(f) = r.cidfile else { return Ok(()) };
    if super::image_out::exists(f) {
        return Err(Error::bad(
            "Container ID file found, make sure the other container isn't running or delete",
            text(f),
            "it exists",
        ));
    }
    Ok(())
}

/// Write the id to --cidfile (created new: a race with another run that
/// names the same file loses cleanly).
fn write_cidfile(r: &RunArgs, id: &str) -> Result<()> {
    let Some(f) = r.cidfile else { return Ok(()) };
    let c = crate::sys::cstr::cstring(f)
        .ok_or_else(|| Error::bad("--cidfile", text(f), "contains a NUL byte"))?;
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_CLOEXEC | libc::O_NOFOLLOW;
    let file = fd::open(&c, flags, 0o644).ctx("create --cidfile", &text(f))?;
    fd::write_all(file.raw(), id.as_bytes()).map_err(|e| {
        let _ = crate::sys::fs::unlinkat(libc::AT_FDCWD, &c, 0);
        Error::sys("write --cidfile", text(f), e)
    })
}

/// docker's refusal of `-it` where stdin is no terminal (`... | docker
/// run -it`): exit 1, before anything is made.
pub fn no_tty_input(it: bool) -> Result<()> {
    match it && !crate::sys::tty::isatty(0) {
        true => Err(Error::text(String::from("the input device is not a TTY")).with_code(1)),
        false => Ok(()),
    }
}

/// $HOME from the user's passwd entry (docker's rule), unless the
/// container's Config.Env (the image's, -e or an env file) sets it.
fn set_home(spec: &mut Spec, user: &str, roots: &[String]) {
    let given = spec
        .config
        .as_ref()
        .is_some_and(|c| getenv(&c.env, b"HOME").is_some_and(|h| !h.is_empty()));
    if given || user.is_empty() {
        return;
    }
    let home = crate::image::user::home(user, roots);
    setenv(&mut spec.process.env, [b"HOME=", home.as_bytes()].concat());
}

pub fn main(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    make(argv, ctx, false)
}

/// `pocket create`: run's flags, the container made and not started
/// (docker's `create`); `start` runs it, `start -a` in the foreground.
pub fn create(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    make(argv, ctx, true)
}

fn make(argv: &[&[u8]], ctx: &Ctx, create_only: bool) -> Result<i32> {
    let mut r = parse_run(argv)?;
    if r.help {
        crate::help::print("run");
        return Ok(0);
    }
    // docker's client: -it in the foreground needs a terminal to read.
    if !create_only && !r.detach {
        no_tty_input(r.tty && r.interactive)?;
    }
    // The container's init is a clone of this process: until its execve
    // its /proc/PID/exe is this binary, and a command that is a link to
    // /proc/self/exe runs it inside. Only ETXTBSY would keep the container
    // from writing it then, and only while the parent (this pocket, or the
    // monitor forked from it) lives: killed first, it leaves a window
    // before the kernel kills the rest (CVE-2019-5736). So run from the
    // sealed view or copy, as `exec` and OCI `create` do. Unless, in a
    // plain foreground run (no --init, no monitor: nothing of pocket's
    // stays in or by the container past its start), the command can start
    // through the dmz instead (spawn/dmz.rs, `fits_run`, once the Spec
    // is made): then the init's last execve is of the dmz's sealed memfd,
    // never of this binary, and no re-execution is needed (~0.45 ms).
    // What the flags and the host say now; the Spec's capabilities and
    // filter are checked once final, below.
    let plain = !create_only
        && !r.detach
        && !r.init
        && !r.tty
        && r.sig_proxy
        && r.attach.is_empty()
        && r.restart.is_none_or(|p| p == b"no")
        && r.pid.is_none()
        && r.userns.is_none()
        && r.uidmap.is_empty()
        && r.gidmap.is_empty()
        && !r.privileged
        && !r.cap_add.iter().any(|c| {
            let c = text(c);
            c.eq_ignore_ascii_case("ALL")
                || crate::spec::caps::mask(&[c])
                    .is_ok_and(|m| m & crate::spawn::dmz::SYS_PTRACE != 0)
        })
        // docker's profile or none, as `security::apply` will read them
        // (a profile of one's own might refuse what the dmz calls).
        && super::security::parse(&r.security_opts)
            .is_ok_and(|o| matches!(o.seccomp, None | Some(b"builtin" | b"unconfined")))
        && crate::sys::proc::geteuid() == 0
        && !super::rootless::active()
        && crate::spawn::dmz::host_fits();
    let mut dmz = match plain {
        true => crate::spawn::dmz::load().ok(),
        false => None,
    };
    if !create_only && dmz.is_none() {
        crate::spawn::sealed::ensure(ctx.args, &ctx.store.run, || None)?;
    }
    // No --net: the bridge network, unless the settings say
    // `"bridge": "none"` (dockerd's --bridge=none).
    if r.net.is_none() && crate::config::default_bridge_off(crate::config::load(ctx.args).as_ref())
    {
        r.net = Some(b"none");
    }
    super::rootless::adjust_args(&mut r, ctx.args)?;
    let files = r
        .env
        .iter()
        .filter(|e| e.0)
        .map(|e| read_file(e.1, "env file"))
        .collect::<Result<Vec<_>>>()?;
    check_cidfile(&r)?;
    let id = crate::rt::names::new_id();
    let images = crate::image::store::Images::new(&ctx.store.root);
    if let Some(q) = r.image {
        pull_if_needed(ctx, &images, &r, q)?;
    }
    // Held until the container's record exists: from then on `rmi` sees
    // it as a user; before, it must not remove the layers being mounted.
    let image_lock = match r.image {
        Some(_) => images.lock().ok(),
        None => None,
    };
    let image = match r.image {
        Some(q) => {
            let q = core::str::from_utf8(q)
                .map_err(|_| Error::bad("invalid reference format", text(q), "not UTF-8"))?;
            let id = images.resolve(q).map_err(|e| e.with_code(125))?;
            Some(images.get(&id)?)
        }
        None => None,
    };
    let hostname = id.as_bytes()[..12].to_vec();
    let mut spec = to_spec(
        &r,
        &ctx.args.env,
        &files,
        hostname,
        image.as_ref().map(|i| &i.config),
    )?;
    // A plain run, in the foreground or detached (its monitor, forked
    // after the helper is done, inherits them), on no network or bridge
    // networks (attached through the namespace's fd; slirp4netns is
    // given a pid): its namespaces are made on the other CPU while the
    // rest of the Spec and the record are (spawn/prefetch.rs; the spawn
    // takes them only if they still fit).
    if !create_only
        && !r.tty
        && r.sig_proxy
        && r.attach.is_empty()
        && r.restart.is_none_or(|p| p == b"no")
        && !slirp(&r)
        && crate::sys::proc::geteuid() == 0
    {
        crate::spawn::prefetch::start(spec.clone_flags());
    }
    // A capability pocket itself lacks cannot be given (capset would
    // fail): --privileged and --cap-add ALL get what the host lets pocket
    // hand on (here: all but CAP_SYS_RESOURCE); one named on its own must
    // be there.
    let have = crate::sys::caps::bounding();
    let lacking = spec.process.capabilities & !have;
    if lacking != 0 {
        let named: Vec<String> = r
            .cap_add
            .iter()
            .filter(|n| !n.eq_ignore_ascii_case(b"ALL"))
            .map(|n| text(n))
            .collect();
        let named = crate::spec::caps::mask(&named).unwrap_or(0) & lacking;
        if named != 0 && !r.privileged {
            return Err(Error::bad(
                "--cap-add",
                crate::spec::caps::names(named).join(","),
                "not in pocket's own capability bounding set (the host withholds it)",
            ));
        }
        spec.process.capabilities &= have;
    }
    // Limits are checked before anything is made (docker refuses them with
    // 125 too); every container gets its cgroup, limits or not, so it is
    // counted, contained and visible to `stats`.
    spec.resources = resources(&r.limits)?;
    // The devices cgroup (docker's list, --device, --device-cgroup-rule),
    // host nodes looked at now: a bad one leaves nothing behind.
    // (--privileged's every host device: not a plain user's, whose
    // container gets none it could not open itself.)
    let all_devices = r.privileged && !super::rootless::active();
    super::devices::apply(&mut spec, &r.devices, &r.device_rules, all_devices)?;
    // What this host cannot enforce is dropped with docker's warning (or
    // refused, as docker refuses --cpus and the real-time limits), before
    // the Spec is kept: inspect shows what was applied.
    let nano = r.limits.iter().any(|(k, _)| *k == "cpus");
    super::rootless::check_limits(&mut spec)?;
    if !spec.resources.is_empty() {
        for w in crate::cgroup::host()
            .support
            .fit(&mut spec.resources, nano)?
        {
            crate::errln!("WARNING: {w}");
        }
    }
    // Seccomp and no_new_privs (--security-opt), against the final
    // capability set: a profile's includes.caps are resolved with it.
    super::security::apply(&mut spec, &r.security_opts)?;
    if r.privileged {
        // docker --privileged: no seccomp filter, whatever was asked.
        spec.seccomp = crate::seccomp::Seccomp::Unconfined;
    }
    // The capabilities and the filter are final: through the dmz, or
    // (should the flags have missed a way in) sealed after all. Nothing
    // is made yet but a pulled image, which the second run reuses; the
    // namespaces' helper is waited for first. (The flags' checks above
    // keep this rare: a re-executed run reads its env files again, and a
    // pipe's come back empty.)
    if dmz.is_some() && !crate::spawn::dmz::fits_run(&spec) {
        dmz = None;
        crate::spawn::prefetch::discard();
        crate::spawn::sealed::ensure(ctx.args, &ctx.store.run, || None)?;
    }
    spec.cgroups_path = super::rootless::cgroups_path(&id);
    // (--rm: a volatile container, whose directory is on tmpfs; its
    // upper and work dirs are on the disk all the same.)
    let dir = ctx.store.dir_for(&id, r.rm);
    let disk = ctx.store.disk_dir(&id);
    match &image {
        Some(img) => {
            // Top layer first, as overlayfs stacks lowerdirs.
            // A layer listed twice (identical build steps) is one lowerdir:
            // overlayfs refuses the same dir twice, and the topmost copy
            // shadows all the lower one would show or hide.
            let mut lower: Vec<String> = Vec::new();
            for l in img.layers.iter().rev().map(|l| images.layer_dir(l)) {
                if !lower.contains(&l) {
                    lower.push(l);
                }
            }
            let user = r.user.map(text).unwrap_or_else(|| img.config.user.clone());
            spec.process.user = crate::image::user::resolve(&user, &lower)?;
            add_groups(&mut spec, &r, &lower)?;
            set_home(&mut spec, &user, &lower);
            // docker's "init layer" (container::init_layer). Only over a
            // real /etc: a directory above a symlinked /etc would hide the
            // image's.
            if crate::image::user::etc_is_dir(&lower) {
                lower.insert(0, crate::container::init_layer(&ctx.store)?);
            }
            spec.image = Some(img.id.clone());
            spec.root.path = alloc::format!("{dir}/rootfs").into_bytes();
            spec.root.overlay = Some(crate::spec::Overlay {
                lower,
                upper: alloc::format!("{disk}/upper"),
                work: alloc::format!("{disk}/work"),
                volatile: r.rm,
            });
        }
        None => {
            spec.root.path = check_rootfs(&spec.root.path)?;
            let user = r.user.map(text).unwrap_or_default();
            let root = [text(&spec.root.path)];
            spec.process.user = crate::image::user::resolve(&user, &root)?;
            add_groups(&mut spec, &r, &root)?;
            set_home(&mut spec, &user, &root);
        }
    }
    // --userns auto: sized by the ids the image (or rootfs) and the user
    // name; the lock keeps its range from other runs until create has
    // saved the Spec, which shows it as used.
    let userns_lock = super::userns_auto::request(r.userns)?
        .map(|a| super::userns_auto::apply(&ctx.store, &mut spec, a))
        .transpose()?;
    super::rootless::adjust_spec(&mut spec)?;
    devpts_gid(&mut spec);
    let name = match r.name {
        Some(n) => Some(
            core::str::from_utf8(n)
                .map_err(|_| Error::bad("invalid container name", text(n), "not UTF-8"))?,
        ),
        None => None,
    };
    let labels = labels(&r, image.as_ref().map(|i| &i.config))?;
    // --stop-signal, else the image's STOPSIGNAL; checked now, not at stop.
    let sig = r.stop_signal.map(text).or_else(|| {
        image
            .as_ref()
            .map(|i| i.config.stop_signal.clone())
            .filter(|s| !s.is_empty())
    });
    let stop_signal = match sig {
        Some(s) => super::manage::parse_signal(&s).ok_or_else(|| {
            Error::bad("invalid stop signal", s, "a name (SIGQUIT, QUIT) or number")
        })?,
        None => 0,
    };
    let stop_timeout = match r.stop_timeout {
        Some(v) => Some(
            core::str::from_utf8(v)
                .ok()
                .and_then(|s| s.parse::<i64>().ok())
                .filter(|t| *t >= -1)
                .ok_or_else(|| {
                    Error::bad("invalid --stop-timeout", text(v), "a number of seconds")
                })?,
        ),
        None => None,
    };
    let restart = Policy::parse(&r.restart.map(text).unwrap_or_default())?;
    if r.rm && restart != Policy::No {
        return Err(Error::bad(
            "conflicting options",
            "--restart",
            "cannot be used with --rm",
        ));
    }
    let healthcheck = health_check(&r, image.as_ref().map(|i| &i.config))?;
    let streams = attach_streams(&r)?;
    if let Some([stdin, _, _]) = streams {
        // -i keeps stdin open; only -a stdin gives it this terminal's.
        spec.io.stdin &= stdin;
    }
    let how = match streams {
        Some([_, stdout, stderr]) => Attach::Streams { stdout, stderr },
        None => Attach::Foreground,
    };
    let keys = super::attach::detach_keys(r.detach_keys)?;
    // Attached to a monitor, as `pocket attach` is, rather than the
    // container's parent: for -it on a terminal, so the detach keys can
    // leave it running; for --sig-proxy=false, so a signal that ends
    // this process leaves it running too (docker's client and daemon).
    let session = match streams {
        _ if create_only || r.detach || streams.is_some() => None,
        _ if r.tty && r.interactive && crate::sys::tty::isatty(0) => Some(Session {
            keys,
            stdin: true,
            tty: true,
            proxy: false,
        }),
        _ if !r.sig_proxy && !r.tty => Some(Session {
            keys,
            stdin: r.interactive,
            tty: false,
            proxy: false,
        }),
        _ => None,
    };
    let aliases = aliases(&r)?;
    let log = crate::state::log::Config::parse(
        r.log_driver.map(text).as_deref(),
        &r.log_opts.iter().map(|o| text(o)).collect::<Vec<_>>(),
    )
    .map_err(|e| Error::bad("invalid log config", "", e))?;
    // Last of the checks, first of the making: host dirs and volumes.
    // The image's VOLUMEs: an anonymous volume each, unless the user
    // mounts something there.
    let image_vols: Vec<Vec<u8>> = image
        .as_ref()
        .map(|i| i.config.volumes.clone())
        .unwrap_or_default()
        .into_iter()
        // A path in the container and nothing else: read as a -v value,
        // "/:/host" from an image would bind the host's root. One with a
        // ':' (or not absolute) is no anonymous volume: skipped, said.
        .filter(|v| {
            let ok = v.starts_with('/') && !v.contains(':');
            if !ok {
                crate::errln!(
                    "pocket: WARNING: ignoring the image's VOLUME {v:?}: not a plain absolute path"
                );
            }
            ok
        })
        .filter(|v| {
            !user_destinations(&r)
                .iter()
                .any(|d| d.trim_end_matches('/') == v.trim_end_matches('/'))
        })
        .map(String::into_bytes)
        .collect();
    let mut vols: Vec<&[u8]> = r.volumes.clone();
    vols.extend(image_vols.iter().map(|v| &v[..]));
    let lower: Option<Vec<String>> = spec.root.overlay.as_ref().map(|o| {
        o.lower
            .iter()
            .filter(|l| !l.ends_with("/init"))
            .cloned()
            .collect()
    });
    let mut network = net_request(&r, image.as_ref().map(|i| &i.config))?;
    if let (Some(n), Mode::None) = (r.net, &network.mode)
        && let Some(loopback) = crate::net::slirp::parse_mode(n)
    {
        network.mode = Mode::Slirp {
            bin: super::rootless::slirp_bin(ctx.args)?,
            host_loopback: loopback?,
        };
    }
    let (user, made) =
        super::mounts::user_mounts(&ctx.store, &vols, &r.tmpfs, &r.mounts, lower.as_deref())?;
    super::mounts::merge(&mut spec.mounts, user);
    if let Some(q) = joined(&r) {
        spec.net_container = Some(text(q));
    }
    let shown = r.image.map_or_else(|| text(&spec.root.path), text);

    let created = crate::container::create(
        &ctx.store,
        &mut spec,
        crate::container::Options {
            id,
            name,
            image: shown,
            network,
            auto_remove: r.rm,
            starts: !create_only,
            logged: r.detach || session.is_some(),
            bundle: String::new(),
            labels,
            stop_signal,
            stop_timeout,
            restart,
            healthcheck,
            log,
            aliases,
            image_lock,
        },
    );
    drop(userns_lock);
    // Not made: neither are the volumes made (or filled) for it.
    let rec = created.inspect_err(|_| made.undo(&ctx.store))?;
    if let Err(e) = write_cidfile(&r, &rec.id) {
        let _ = crate::container::delete(&ctx.store, &rec.id, true, true);
        return Err(e);
    }
    if create_only {
        crate::outln!("{}", rec.id);
        return Ok(0);
    }
    if r.detach {
        crate::container::start(&ctx.store, &rec, &spec, Attach::Detached, None)?;
        crate::outln!("{}", rec.id);
        return Ok(0);
    }
    if let Some(s) = session {
        let sock = crate::container::start_session(&ctx.store, &rec, &spec)?;
        return super::attach::session(ctx, &rec.id, sock, &s);
    }
    crate::container::start(&ctx.store, &rec, &spec, how, dmz.as_ref())
}

/// `-a STREAM...`: which of stdin, stdout and stderr this run is attached
/// to (all without -a), as docker checks them.
fn attach_streams(r: &RunArgs) -> Result<Option<[bool; 3]>> {
    if r.attach.is_empty() {
        return Ok(None);
    }
    if r.detach {
        return Err(Error::bad(
            "conflicting options",
            "-a",
            "cannot be used with -d",
        ));
    }
    let mut on = [false; 3];
    for a in &r.attach {
        let i = match text(a).to_ascii_lowercase().as_str() {
            "stdin" => 0,
            "stdout" => 1,
            "stderr" => 2,
            _ => {
                return Err(Error::bad(
                    alloc::format!("invalid argument \"{}\" for \"-a, --attach\" flag", text(a)),
                    "",
                    "valid streams are STDIN, STDOUT and STDERR",
                ));
            }
        };
        on[i] = true;
    }
    Ok(Some(on))
}

/// The --health-* flags over the image's HEALTHCHECK.
fn health_check(r: &RunArgs, image: Option<&Config>) -> Result<Option<Check>> {
    let texts: Vec<(&str, String)> = r.health.iter().map(|&(k, v)| (k, text(v))).collect();
    let get = |name: &str| {
        texts
            .iter()
            .rev()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    };
    let f = health::Flags {
        cmd: get("health-cmd"),
        interval: get("health-interval"),
        timeout: get("health-timeout"),
        start_period: get("health-start-period"),
        start_interval: get("health-start-interval"),
        retries: get("health-retries"),
        none: r.no_healthcheck,
    };
    health::merge(&f, image.and_then(|c| c.healthcheck.as_ref()))
}

/// docker's container labels: the image's, then --label and
/// --label-file lines in order (a later one wins; `KEY` alone is an
/// empty value; a file's blank and `#` lines are skipped).
fn labels(r: &RunArgs, image: Option<&Config>) -> Result<Vec<(String, String)>> {
    let base = image.map(|c| c.labels.clone()).unwrap_or_default();
    super::labels::collect(base, &r.labels)
}

/// The container's exposed ports ("80/tcp", sorted): the image's, each
/// `--expose` (a port or a range, docker's), and -p's container ports
/// (docker's create adds them; a bad -p is refused with the network's
/// checks).
fn exposed(r: &RunArgs, image: Option<&Config>) -> Result<Vec<String>> {
    let mut all = image.map_or_else(Vec::new, |i| i.exposed_ports.clone());
    let mut add = |e: String| {
        if !all.contains(&e) {
            all.push(e);
        }
    };
    for &v in &r.expose {
        let t = text(v);
        // docker's words, as its CLI has them.
        let (lo, hi, proto) = match crate::image::change::port_range(&t) {
            _ if t.contains(':') => {
                let why = alloc::format!("invalid port format for --expose: {t}");
                return Err(Error::text(why));
            }
            Some(r) => r,
            None => {
                let why = alloc::format!(
                    "invalid range format for --expose: {t}, error: not PORT[-PORT][/tcp|udp|sctp]"
                );
                return Err(Error::text(why));
            }
        };
        (lo..=hi).for_each(|n| add(alloc::format!("{n}/{proto}")));
    }
    for p in &r.publish {
        for m in crate::net::ports::parse_port(&text(p)).unwrap_or_default() {
            add(alloc::format!("{}/{}", m.ctr_port, m.proto.as_str()));
        }
    }
    crate::rt::sort_by(&mut all, |a, b| a < b);
    Ok(all)
}

/// The network `r` asks for, its flags parsed and checked (docker's
/// words), for the core to claim. `image`: its ExposedPorts for -P.
fn net_request(r: &RunArgs, image: Option<&Config>) -> Result<Request> {
    let bad =
        |what: &str, v: &[u8], why: &'static str| Error::bad(String::from(what), text(v), why);
    let mode = if joined(r).is_some() {
        Mode::Container
    } else if bridged(r) {
        Mode::Bridge(text(r.net.unwrap_or(b"bridge")))
    } else if r.net == Some(b"host") {
        Mode::Host
    } else {
        Mode::None
    };
    let ip = match r.ip {
        Some(v) => Some(
            networks::parse_ip(&text(v))
                .ok_or_else(|| bad("invalid --ip", v, "not an IPv4 address"))?,
        ),
        None => None,
    };
    let mut ports = Vec::new();
    for p in &r.publish {
        ports.extend(crate::net::ports::parse_port(&text(p))?);
    }
    if r.publish_all {
        // -P: each exposed port (the image's and --expose's) that no -p
        // publishes, on a random host port, as docker. (sctp ones stay
        // unpublished: pocket publishes tcp and udp.)
        for e in exposed(r, image)? {
            let asked = |p: &crate::net::ports::PortSpec| {
                alloc::format!("{}/{}", p.ctr_port, p.proto.as_str()) == e
            };
            if !ports.iter().any(asked) && !e.ends_with("/sctp") {
                ports.extend(crate::net::ports::parse_port(&e)?);
            }
        }
    }
    let mut add_hosts = Vec::new();
    for h in &r.add_hosts {
        add_hosts.push(
            crate::net::etc::parse_add_host(&text(h))
                .ok_or_else(|| bad("invalid --add-host", h, "use NAME:IP"))?,
        );
    }
    let mut dns = Vec::new();
    for d in &r.dns {
        let t = text(d);
        networks::parse_ip(&t).ok_or_else(|| bad("invalid --dns", d, "not an IPv4 address"))?;
        dns.push(t);
    }
    Ok(Request {
        mode,
        implicit: r.net.is_none(),
        ip,
        ports,
        add_hosts,
        dns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(v: &[&[u8]], host: &[&[u8]], files: &[Vec<u8>]) -> Result<Spec> {
        let r = parse_run(v)?;
        to_spec(&r, host, files, b"abc".to_vec(), None)
    }

    fn env_of(s: &Spec) -> Vec<String> {
        s.process.env.iter().map(|e| text(e)).collect()
    }

    #[test]
    fn limit_flags_are_the_resource_flags_and_help() {
        assert_eq!(LIMIT_FLAGS.first().map(|f| f.long), Some("memory"));
        assert_eq!(LIMIT_FLAGS.last().map(|f| f.long), Some("help"));
        assert!(
            !LIMIT_FLAGS
                .iter()
                .any(|f| f.long == "oom-kill-disable" || f.long == "name")
        );
    }

    #[test]
    fn default_env_like_docker() {
        let s = spec(&[b"--rootfs", b"/r", b"sh"], &[], &[]).unwrap();
        assert_eq!(
            env_of(&s),
            vec![
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "HOSTNAME=abc",
                "HOME=/root"
            ]
        );
        let s = spec(&[b"-t", b"--rootfs", b"/r", b"sh"], &[], &[]).unwrap();
        assert!(env_of(&s).contains(&"TERM=xterm".to_string()));
        assert!(s.process.terminal);
        assert_eq!(s.process.cwd, b"/");
        assert!(s.has(Namespace::Network) && s.has(Namespace::Pid));
    }

    #[test]
    fn env_order_files_then_flags_and_host_passthrough() {
        let host: &[&[u8]] = &[b"FROMHOST=h", b"X=hostx"];
        let file = b"# comment\n\n  A=file\nB=file\nFROMHOST\nMISSING\n".to_vec();
        let s = spec(
            &[
                b"-e",
                b"A=flag",
                b"--env-file",
                b"f",
                b"-e",
                b"X",
                b"-e",
                b"NOPE",
                b"-e",
                b"HOME=/h",
                b"--rootfs",
                b"/r",
                b"true",
            ],
            host,
            &[file],
        )
        .unwrap();
        let e = env_of(&s);
        assert!(e.contains(&"A=flag".to_string()), "{e:?}");
        assert!(e.contains(&"B=file".to_string()));
        assert!(e.contains(&"FROMHOST=h".to_string()));
        assert!(e.contains(&"X=hostx".to_string()));
        assert!(e.contains(&"HOME=/h".to_string()) && !e.contains(&"HOME=/root".to_string()));
        assert!(
            !e.iter()
                .any(|x| x.starts_with("NOPE") || x.starts_with("MISSING"))
        );
    }

    #[test]
    fn image_entrypoint_cmd_env_workdir() {
        let img = Config {
            env: vec!["PATH=/img/bin".into(), "A=image".into()],
            cmd: vec!["c1".into(), "c2".into()],
            entrypoint: vec!["/ep".into()],
            working_dir: "/srv".into(),
            ..Default::default()
        };
        let mk = |argv: &[&[u8]]| {
            let r = parse_run(argv).unwrap();
            to_spec(&r, &[], &[], b"h".to_vec(), Some(&img)).unwrap()
        };
        let s = mk(&[b"-e", b"A=flag", b"img"]);
        assert_eq!(
            s.process.args,
            vec![b"/ep".to_vec(), b"c1".to_vec(), b"c2".to_vec()]
        );
        assert!(s.process.env.contains(&b"PATH=/img/bin".to_vec()));
        assert!(s.process.env.contains(&b"A=flag".to_vec()));
        assert_eq!(s.process.cwd, b"/srv");
        // A command replaces Cmd, not the Entrypoint.
        assert_eq!(
            mk(&[b"img", b"x"]).process.args,
            vec![b"/ep".to_vec(), b"x".to_vec()]
        );
        // --entrypoint resets Cmd; "" clears the Entrypoint.
        assert_eq!(
            mk(&[b"--entrypoint", b"/e2", b"img"]).process.args,
            vec![b"/e2".to_vec()]
        );
        assert_eq!(
            mk(&[b"--entrypoint", b"", b"img", b"ls"]).process.args,
            vec![b"ls".to_vec()]
        );
        assert_eq!(mk(&[b"-w", b"/w", b"img"]).process.cwd, b"/w");
        let r = parse_run(&[b"--entrypoint", b"", b"img"]).unwrap();
        assert!(to_spec(&r, &[], &[], b"h".to_vec(), Some(&img)).is_err());
    }

    #[test]
    fn env_file_refuses_whitespace_in_names() {
        assert!(env_file_lines(b"f", b"A B=1\n").is_err());
        assert_eq!(
            env_file_lines(b"f", b"A=x y\r\n").unwrap(),
            vec![b"A=x y".to_vec()]
        );
    }

    #[test]
    fn rootfs_as_positional_dir_and_errors() {
        let s = spec(&[b"./r", b"echo", b"hi"], &[], &[]).unwrap();
        assert_eq!(s.root.path, b"./r");
        assert_eq!(s.process.args, vec![b"echo".to_vec(), b"hi".to_vec()]);
        let r = parse_run(&[b"busybox", b"sh"]).unwrap();
        assert_eq!((r.image, r.rootfs), (Some(&b"busybox"[..]), None));
        // A name with a '/' is an image; a path is a directory.
        for img in [&b"localhost/peer/busybox:latest"[..], b"org/app", b"r/"] {
            let argv = [img, b"sh"];
            let r = parse_run(&argv).unwrap();
            assert_eq!((r.image, r.rootfs), (Some(img), None));
        }
        for dir in [&b"/r"[..], b"./r", b"../r", b"."] {
            let argv = [dir, b"sh"];
            let r = parse_run(&argv).unwrap();
            assert_eq!((r.image, r.rootfs), (None, Some(dir)));
        }
        assert_eq!(r.command, &[&b"sh"[..]]);
        assert!(
            spec(&[b"--rootfs", b"/r"], &[], &[])
                .unwrap_err()
                .to_string()
                .contains("no command")
        );
        assert!(spec(&[b"-w", b"rel", b"--rootfs", b"/r", b"sh"], &[], &[]).is_err());
        // A bridge network gets its own namespace (main attaches it);
        // -p and --ip need one.
        let b = spec(&[b"--net", b"bridge", b"--rootfs", b"/r", b"sh"], &[], &[]).unwrap();
        assert!(b.has(Namespace::Network));
        // -p and --ip need a bridge network (not none, host, container:).
        let no_bridge: [&[&[u8]]; 3] = [
            &[b"--net", b"none", b"-p", b"80"],
            &[b"--net", b"host", b"--ip", b"10.0.0.2"],
            &[b"--net", b"container:x", b"-p", b"80"],
        ];
        for flags in no_bridge {
            let argv = [flags, &[b"--rootfs", b"/r", b"sh"]].concat();
            assert!(spec(&argv, &[], &[]).is_err(), "{argv:?}");
        }
        // Joining a container's network: no namespace of its own (main
        // finds the other's).
        let j = spec(
            &[b"--net", b"container:x", b"--rootfs", b"/r", b"sh"],
            &[],
            &[],
        )
        .unwrap();
        assert!(!j.has(Namespace::Network));
        assert!(spec(&[b"-h", &[b'x'; 65], b"--rootfs", b"/r", b"sh"], &[], &[]).is_err());
    }

    #[test]
    fn host_net_and_flags() {
        let s = spec(
            &[
                b"--net=host",
                b"--read-only",
                b"--init",
                b"--no-pivot",
                b"-h",
                b"box",
                b"-w",
                b"/tmp",
                b"-i",
                b"/r/",
                b"sh",
            ],
            &[],
            &[],
        )
        .unwrap();
        assert!(!s.has(Namespace::Network));
        assert!(s.root.readonly && s.init && s.no_pivot && s.io.stdin);
        assert_eq!(s.hostname, b"box");
        assert_eq!(s.process.cwd, b"/tmp");
    }

    #[test]
    fn a_run_spec_round_trips_through_config_json() {
        let argv: Vec<&[u8]> = vec![
            b"--init",
            b"-i",
            b"-e",
            b"A=1",
            b"-h",
            b"h",
            b"--rootfs",
            b"/r",
            b"sh",
            b"-c",
            b"echo \"$A\"",
        ];
        let r = parse_run(&argv).unwrap();
        let mut s = to_spec(&r, &[], &[], b"id".to_vec(), None).unwrap();
        s.net = Some(crate::spec::NetAttach {
            network: "n1".into(),
            bridge: "pocket0".into(),
            ip: [10, 89, 0, 7],
            prefix: 24,
            gateway: [10, 89, 0, 1],
        });
        s.process.user = crate::spec::User {
            uid: 7,
            gid: 8,
            additional_gids: vec![9],
        };
        s.image = Some("ab".repeat(32));
        s.devices = vec![crate::spec::Device {
            path: "/dev/fuse".into(),
            kind: b'c',
            major: 10,
            minor: 229,
            file_mode: 0o600,
            uid: 0,
            gid: 5,
        }];
        s.device_mappings = vec!["/dev/fuse:/dev/fuse:rwm".into(), "/dev/sda:/dev/x:r".into()];
        s.device_cgroup_rules = vec!["b 7:* r".into()];
        s.resources.devices = crate::cgroup::devices::defaults();
        let back = crate::spec::oci::from_json(&crate::spec::oci::to_json(&s)).unwrap();
        assert_eq!(back, s);
        let text = String::from_utf8(crate::spec::oci::to_json(&s)).unwrap();
        assert!(text.contains("\"fileMode\": 384"), "{text}");
        // Seccomp: the built-in profile by name, a file's profile in full
        // (OCI linux.seccomp), unconfined as no linux.seccomp at all.
        assert_eq!(back.seccomp, crate::seccomp::Seccomp::Builtin);
        assert!(back.process.no_new_privileges);
        let p = crate::seccomp::json::parse(
            br#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}"#,
            0,
        )
        .unwrap();
        for sc in [
            crate::seccomp::Seccomp::Profile(p),
            crate::seccomp::Seccomp::Unconfined,
        ] {
            s.seccomp = sc;
            s.process.no_new_privileges = false;
            assert_eq!(
                crate::spec::oci::from_json(&crate::spec::oci::to_json(&s)).unwrap(),
                s
            );
        }
    }

    /// Hostile command lines: `run`'s flags (and `update`'s table over the
    /// same argv), then everything `make` does with them before it touches
    /// the host: mounts, ports, limits, security options and the Spec,
    /// which must survive config.json and back.
    #[test]
    fn hostile_run_flags() {
        let corpus: &[&[u8]] = &[
            b"-it --rm -m 64m -v /a:/b:ro -e A=1 --name x busybox sh -c 'echo'",
            b"-d --name web -p 8080:80 -p 127.0.0.1:53:53/udp --restart unless-stopped --health-cmd true --health-interval 5s nginx:1.25",
            b"--rootfs /tmp/r --read-only --tmpfs /run:rw,size=64m,mode=1777 --mount type=bind,src=/a,dst=/b,ro --ulimit nofile=1024:2048 --sysctl net.ipv4.ip_forward=1 /bin/sh",
            b"--cap-add NET_ADMIN --cap-drop ALL --security-opt no-new-privileges --pid host --ipc shareable --oom-score-adj -500 --shm-size 128m -u 1000:1000 -w /work alpine id",
            b"--cpus 1.5 --cpuset-cpus 0-1 --memory-swap 1g --pids-limit 100 --blkio-weight 500 -c 512 --cpu-quota 50000 --net none --dns 1.1.1.1 --add-host h:1.2.3.4 --label a=b -e PATH --entrypoint= busybox",
            b"--privileged --device /dev/fuse --device-cgroup-rule c_10:229_rwm --domainname example.org -h host --group-add audio --env-file f --uts host ./rootfs true",
            b"-e=X=1 -eY --env-file=g --mount type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=700 --mount type=volume,src=data,dst=/d,volume-nocopy --pid container:db --net container:web --ipc none -P --rm=false img",
        ];
        let dict: &[&[u8]] = &[
            b" -v ",
            b" -e ",
            b" -p ",
            b" --mount ",
            b" --tmpfs ",
            b" --ulimit ",
            b" --sysctl ",
            b" --cap-add ",
            b" --security-opt ",
            b" --pid ",
            b" --ipc ",
            b" --uts ",
            b" --net ",
            b" -m ",
            b" --cpus ",
            b" --shm-size ",
            b" --rootfs ",
            b" --",
            b":ro",
            b"=",
            b"container:",
            b"host",
            b"seccomp=unconfined",
            b"no-new-privileges=false",
        ];
        let host: &[&[u8]] = &[b"PATH=/bin", b"FROMHOST=h"];
        let file = b"# comment\n  A=file\nFROMHOST\nB".to_vec();
        crate::rt::fuzz::run(
            "run flags",
            corpus,
            dict,
            std::time::Duration::from_secs(60),
            |b| {
                let argv: Vec<&[u8]> = b.split(|&c| c == b' ').collect();
                // Refusals on the way: each must be one line; the first
                // that is not is the one reported.
                let mut errs: Vec<String> = Vec::new();
                let mut note = |e: crate::error::Error| errs.push(format!("{e}"));
                match super::super::args::parse_interspersed("update", LIMIT_FLAGS, &argv) {
                    Ok(p) => {
                        let limits: Vec<(&str, String)> = p
                            .flags
                            .iter()
                            .map(|&(k, v)| (LIMIT_FLAGS[k].long, text(v)))
                            .collect();
                        let pairs: Vec<(&str, &str)> =
                            limits.iter().map(|(k, v)| (*k, v.as_str())).collect();
                        if let Err(e) = crate::cgroup::flags::build(&pairs, &[0, 1, 2, 3], &[0]) {
                            note(e);
                        }
                    }
                    Err(e) => note(e),
                }
                match parse_run(&argv) {
                    Err(e) => note(e),
                    Ok(r) => {
                        assert!(
                            argv.ends_with(r.command),
                            "the command is not the end of argv"
                        );
                        if let Err(e) = super::super::mounts::parse(&r.volumes, &r.tmpfs, &r.mounts)
                        {
                            note(e);
                        }
                        for p in &r.publish {
                            if let Err(e) = crate::net::ports::parse_port(&text(p)) {
                                note(e);
                            }
                        }
                        if let Err(e) = resources_of(&r) {
                            note(e);
                        }
                        let files: Vec<Vec<u8>> =
                            r.env.iter().filter(|e| e.0).map(|_| file.clone()).collect();
                        // --security-opt: a profile FILE would be read
                        // from the host, so only the other forms are applied.
                        let sec = super::super::security::parse(&r.security_opts);
                        let pure = matches!(
                            &sec,
                            Ok(o) if matches!(o.seccomp, None | Some(b"builtin" | b"unconfined"))
                        );
                        if let Err(e) = sec {
                            note(e);
                        }
                        match to_spec(&r, host, &files, b"abc".to_vec(), None).and_then(|mut s| {
                            if pure {
                                super::super::security::apply(&mut s, &r.security_opts)?;
                            }
                            Ok(s)
                        }) {
                            Err(e) => note(e),
                            // Lossy text (args, env) only changes non-UTF-8.
                            Ok(s) if core::str::from_utf8(b).is_ok() => {
                                let back =
                                    crate::spec::oci::from_json(&crate::spec::oci::to_json(&s))
                                        .map_err(|e| format!("{e}"))?;
                                assert_eq!(back, s, "a run's Spec does not read back the same");
                            }
                            Ok(_) => {}
                        }
                    }
                }
                match errs.iter().find(|e| e.trim_end().contains('\n')) {
                    Some(e) => Err(e.clone()),
                    None => errs.into_iter().next().map_or(Ok(()), Err),
                }
            },
        );
    }

    /// The resource flags as `make` checks them, with a fixed host (four
    /// CPUs, one memory node) instead of /sys.
    fn resources_of(r: &RunArgs) -> Result<crate::cgroup::Resources> {
        let pairs: Vec<(&str, String)> = r.limits.iter().map(|(k, v)| (*k, text(v))).collect();
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        crate::cgroup::flags::build(&pairs, &[0, 1, 2, 3], &[0])
    }
}
