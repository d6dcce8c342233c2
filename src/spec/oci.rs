//! The Spec as an OCI runtime-spec config.json (the subset pocket uses),
//! so a container's record is the same file an engine would hand runc.
//! pocket's own run-time choices travel as annotations.

use super::oci_read::{self, At};
use super::{
    Device, Hook, IdMap, Io, Mount, Namespace, NetAttach, Overlay, Process, Root, Spec, caps,
};
use crate::cgroup::Resources;
use crate::error::{Error, Result};
use crate::json::{self, Value};
use crate::net::networks::{fmt_cidr, fmt_ip, parse_ip};
use crate::seccomp::Seccomp;
use alloc::string::String;
use alloc::vec::Vec;

const NS_NAMES: &[(Namespace, &str)] = &[
    (Namespace::Pid, "pid"),
    (Namespace::Mount, "mount"),
    (Namespace::Uts, "uts"),
    (Namespace::Ipc, "ipc"),
    (Namespace::Network, "network"),
    (Namespace::Cgroup, "cgroup"),
    (Namespace::User, "user"),
];

/// pocket's own annotations start so; the others are the config's own.
const POCKET: &str = "io.pocket.";
const A_STDIN: &str = "io.pocket.stdin";
const A_INIT: &str = "io.pocket.init";
const A_PRIVILEGED: &str = "io.pocket.privileged";
const A_IPC_SHAREABLE: &str = "io.pocket.ipc.shareable";
const A_NO_PIVOT: &str = "io.pocket.no-pivot";
const A_NO_KEYRING: &str = "io.pocket.no-new-keyring";
const A_IMAGE: &str = "io.pocket.image";
/// Spec::config, as docker's Config JSON on one line.
const A_CONFIG: &str = "io.pocket.config";
const A_LOWER: &str = "io.pocket.overlay.lower";
const A_UPPER: &str = "io.pocket.overlay.upper";
const A_WORK: &str = "io.pocket.overlay.work";
const A_VOLATILE: &str = "io.pocket.overlay.volatile";
const A_NET: &str = "io.pocket.net";
const A_BRIDGE: &str = "io.pocket.net.bridge";
const A_IP: &str = "io.pocket.net.ip";
const A_GATEWAY: &str = "io.pocket.net.gateway";
const A_NET_CONTAINER: &str = "io.pocket.net.container";
/// `network connect`'s networks: "NAME BRIDGE IP/PREFIX GATEWAY", ';' apart.
const A_NET_EXTRA: &str = "io.pocket.net.extra";
/// `--net slirp4netns`: its Config as one line of JSON (net/slirp.rs).
const A_SLIRP: &str = "io.pocket.net.slirp4netns";
/// `--pid/--ipc container:ID`: "pid=ID,ipc=ID".
const A_NS_CONTAINERS: &str = "io.pocket.ns.containers";
const A_DEVICES: &str = "io.pocket.devices";
const A_DEVICE_RULES: &str = "io.pocket.device-cgroup-rules";
/// docker's default seccomp profile, by name: 400 syscall names in every
/// config.json would cost each start a parse. Written out in full only
/// for a profile from a file (`linux.seccomp`).
const A_SECCOMP: &str = "io.pocket.seccomp";
const BUILTIN: &str = "builtin";

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn strings(v: &[Vec<u8>]) -> Value {
    Value::Arr(v.iter().map(|a| Value::Str(lossy(a))).collect())
}

fn ids(v: &[u32]) -> Value {
    Value::Arr(v.iter().map(|g| json::num(*g)).collect())
}

/// OCI `process`, as `process_from_value` reads it back.
pub fn process_to_value(p: &Process) -> Value {
    let set = |m: u64| Some(json::strs(&caps::names(m)));
    let sets = p.cap_sets.unwrap_or(caps::Sets {
        effective: p.capabilities,
        permitted: p.capabilities,
        inheritable: 0,
        ambient: 0,
    });
    let rlimits: Vec<Value> = p
        .rlimits
        .iter()
        .map(|r| {
            json::obj!(
                ("type", Some(json::str(super::rlimit::name(r.resource)))),
                ("soft", Some(json::num(r.soft))),
                ("hard", Some(json::num(r.hard))),
            )
        })
        .collect();
    json::obj!(
        ("terminal", Some(Value::Bool(p.terminal))),
        (
            "consoleSize",
            p.console_size.map(|(h, w)| {
                json::obj!(
                    ("height", Some(json::num(h))),
                    ("width", Some(json::num(w))),
                )
            })
        ),
        ("args", Some(strings(&p.args))),
        ("env", Some(strings(&p.env))),
        ("cwd", Some(Value::Str(lossy(&p.cwd)))),
        (
            "user",
            Some(json::obj!(
                ("uid", Some(json::num(p.user.uid))),
                ("gid", Some(json::num(p.user.gid))),
                ("umask", p.umask.map(json::num)),
                (
                    "additionalGids",
                    (!p.user.additional_gids.is_empty()).then(|| ids(&p.user.additional_gids))
                ),
            )),
        ),
        (
            "noNewPrivileges",
            p.no_new_privileges.then_some(Value::Bool(true))
        ),
        (
            "capabilities",
            Some(json::obj!(
                ("bounding", set(p.capabilities)),
                ("effective", set(sets.effective)),
                ("permitted", set(sets.permitted)),
                ("inheritable", set(sets.inheritable)),
                ("ambient", set(sets.ambient)),
            )),
        ),
        (
            "rlimits",
            (!rlimits.is_empty()).then_some(Value::Arr(rlimits))
        ),
        ("oomScoreAdj", p.oom_score_adj.map(json::num)),
    )
}

fn hooks_value(h: &super::Hooks) -> Option<Value> {
    if h.is_empty() {
        return None;
    }
    let list = |v: &[Hook]| -> Option<Value> {
        (!v.is_empty()).then(|| {
            Value::Arr(
                v.iter()
                    .map(|h| {
                        json::obj!(
                            ("path", Some(json::str(&h.path))),
                            ("args", (!h.args.is_empty()).then(|| json::strs(&h.args))),
                            ("env", (!h.env.is_empty()).then(|| json::strs(&h.env))),
                            ("timeout", h.timeout.map(json::num)),
                        )
                    })
                    .collect(),
            )
        })
    };
    Some(json::obj!(
        ("prestart", list(&h.prestart)),
        ("createRuntime", list(&h.create_runtime)),
        ("createContainer", list(&h.create_container)),
        ("startContainer", list(&h.start_container)),
        ("poststart", list(&h.poststart)),
        ("poststop", list(&h.poststop)),
    ))
}

/// The Spec as a config.json document.
pub fn to_value(s: &Spec) -> Value {
    // The config's own annotations first, then pocket's.
    let mut annotations: Vec<(String, Value)> = s
        .annotations
        .iter()
        .map(|(k, v)| (k.clone(), json::str(v)))
        .collect();
    annotations.extend(
        [
            (s.io.stdin, A_STDIN),
            (s.init, A_INIT),
            (s.no_pivot, A_NO_PIVOT),
            (s.no_new_keyring, A_NO_KEYRING),
            (s.privileged, A_PRIVILEGED),
            (s.ipc_shareable, A_IPC_SHAREABLE),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, k)| (String::from(*k), json::str("true"))),
    );
    // An OCI runtime gets a ready rootfs; pocket mounts the overlay itself,
    // so its parts ride along as annotations (lowerdirs ':'-joined, as
    // overlayfs writes them; layer paths never hold ':').
    if let Some(id) = &s.image {
        annotations.push((String::from(A_IMAGE), json::str(id)));
    }
    if let Some(c) = &s.config {
        annotations.push((
            String::from(A_CONFIG),
            json::str(&json::compact(&c.to_json())),
        ));
    }
    if let Some(o) = &s.root.overlay {
        annotations.push((String::from(A_LOWER), json::str(&o.lower.join(":"))));
        annotations.push((String::from(A_UPPER), json::str(&o.upper)));
        annotations.push((String::from(A_WORK), json::str(&o.work)));
        if o.volatile {
            annotations.push((String::from(A_VOLATILE), json::str("true")));
        }
    }
    if let Some(c) = &s.net_container {
        annotations.push((String::from(A_NET_CONTAINER), json::str(c)));
    }
    if !s.ns_containers.is_empty() {
        let v: Vec<String> = s
            .ns_containers
            .iter()
            .map(|(n, c)| alloc::format!("{}={c}", n.proc_name()))
            .collect();
        annotations.push((String::from(A_NS_CONTAINERS), json::str(&v.join(","))));
    }
    if !s.extra_nets.is_empty() {
        let v: Vec<String> = s
            .extra_nets
            .iter()
            .map(|n| {
                alloc::format!(
                    "{} {} {} {}",
                    n.network,
                    n.bridge,
                    fmt_cidr(n.ip, n.prefix),
                    fmt_ip(n.gateway)
                )
            })
            .collect();
        annotations.push((String::from(A_NET_EXTRA), json::str(&v.join(";"))));
    }
    if let Some(c) = &s.slirp {
        let v = crate::net::slirp::encode(c);
        annotations.push((String::from(A_SLIRP), json::str(&v)));
    }
    if s.seccomp == Seccomp::Builtin {
        annotations.push((String::from(A_SECCOMP), json::str(BUILTIN)));
    }
    if let Some(n) = &s.net {
        annotations.push((String::from(A_NET), json::str(&n.network)));
        annotations.push((String::from(A_BRIDGE), json::str(&n.bridge)));
        let ip = fmt_cidr(n.ip, n.prefix);
        annotations.push((String::from(A_IP), Value::Str(ip)));
        annotations.push((String::from(A_GATEWAY), Value::Str(fmt_ip(n.gateway))));
    }
    // One per line: --device paths never hold a newline (refused), rules
    // are docker's one-line syntax.
    for (list, key) in [
        (&s.device_mappings, A_DEVICES),
        (&s.device_cgroup_rules, A_DEVICE_RULES),
    ] {
        if !list.is_empty() {
            annotations.push((String::from(key), Value::Str(list.join("\n"))));
        }
    }
    let devices: Vec<Value> = s
        .devices
        .iter()
        .map(|d| {
            json::obj!(
                ("path", Some(json::str(&d.path))),
                ("type", Some(Value::Str(String::from(d.kind as char)))),
                ("major", Some(json::num(d.major))),
                ("minor", Some(json::num(d.minor))),
                ("fileMode", Some(json::num(d.file_mode))),
                ("uid", Some(json::num(d.uid))),
                ("gid", Some(json::num(d.gid))),
            )
        })
        .collect();
    let mounts = s
        .mounts
        .iter()
        .map(|m| {
            json::obj!(
                ("destination", Some(json::str(&m.destination))),
                ("type", Some(json::str(&m.kind))),
                ("source", Some(json::str(&m.source))),
                ("options", Some(json::strs(&m.options))),
            )
        })
        .collect();
    let mut namespaces: Vec<Value> = s
        .namespaces
        .iter()
        .filter_map(|n| NS_NAMES.iter().find(|x| x.0 == *n))
        .map(|x| json::obj!(("type", Some(json::str(x.1)))))
        .collect();
    for (n, p) in &s.ns_paths {
        if let Some(x) = NS_NAMES.iter().find(|x| x.0 == *n) {
            namespaces.push(json::obj!(
                ("type", Some(json::str(x.1))),
                ("path", Some(json::str(p))),
            ));
        }
    }
    let sysctl = (!s.sysctl.is_empty()).then(|| {
        Value::Obj(
            s.sysctl
                .iter()
                .map(|(k, v)| (k.clone(), json::str(v)))
                .collect(),
        )
    });
    json::obj!(
        ("ociVersion", Some(json::str("1.0.2"))),
        ("process", Some(process_to_value(&s.process))),
        (
            "root",
            Some(json::obj!(
                ("path", Some(Value::Str(lossy(&s.root.path)))),
                ("readonly", Some(Value::Bool(s.root.readonly))),
            )),
        ),
        (
            "hostname",
            (!s.hostname.is_empty()).then(|| Value::Str(lossy(&s.hostname)))
        ),
        ("mounts", Some(Value::Arr(mounts))),
        (
            "linux",
            Some(json::obj!(
                ("namespaces", Some(Value::Arr(namespaces))),
                ("uidMappings", id_maps_value(&s.uid_map)),
                ("gidMappings", id_maps_value(&s.gid_map)),
                ("maskedPaths", Some(json::strs(&s.masked_paths))),
                ("readonlyPaths", Some(json::strs(&s.readonly_paths))),
                ("sysctl", sysctl),
                (
                    "rootfsPropagation",
                    s.rootfs_propagation.as_deref().map(json::str)
                ),
                (
                    "devices",
                    (!devices.is_empty()).then_some(Value::Arr(devices))
                ),
                ("cgroupsPath", s.cgroups_path.as_deref().map(json::str)),
                (
                    "resources",
                    (!s.resources.is_empty()).then(|| s.resources.to_json())
                ),
                (
                    "seccomp",
                    match &s.seccomp {
                        Seccomp::Profile(p) => Some(crate::seccomp::json::to_value(p)),
                        _ => None,
                    }
                ),
            )),
        ),
        ("hooks", hooks_value(&s.hooks)),
        (
            "annotations",
            (!annotations.is_empty()).then_some(Value::Obj(annotations))
        ),
    )
}

fn id_maps_value(m: &[IdMap]) -> Option<Value> {
    (!m.is_empty()).then(|| {
        Value::Arr(
            m.iter()
                .map(|m| {
                    json::obj!(
                        ("containerID", Some(json::num(m.container))),
                        ("hostID", Some(json::num(m.host))),
                        ("size", Some(json::num(m.size))),
                    )
                })
                .collect(),
        )
    })
}

/// `ociVersion`: 1.0.x, 1.1.x or 1.2.x (with any pre-release or build
/// suffix, "1.0.2-dev" as podman writes it); the documents pocket reads
/// are the same in all three as far as it uses them.
fn check_version(at: &At) -> Result<()> {
    let v = at.str()?.ok_or_else(|| at.err("missing"))?;
    let core = v.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    let num = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    match parts[..] {
        ["1", "0" | "1" | "2", p] if num(p) => Ok(()),
        _ => Err(at.err(alloc::format!(
            "{v:?} is not supported (pocket reads 1.0.x to 1.2.x)"
        ))),
    }
}

/// `linux.rootfsPropagation`'s values (mount(8)'s propagation flags).
const PROPAGATIONS: &[&str] = &[
    "private",
    "rprivate",
    "slave",
    "rslave",
    "shared",
    "rshared",
    "unbindable",
    "runbindable",
];

/// `linux.uidMappings` or `gidMappings`: at most the kernel's 340 lines
/// of a map, none empty nor wrapping around.
fn id_maps(a: &At) -> Result<Vec<IdMap>> {
    let items = a.items()?;
    if items.len() > 340 {
        return Err(a.err("more than 340 mappings (the kernel's limit)"));
    }
    let mut out = Vec::new();
    for m in items {
        let get = |k: &str| {
            let x = m.key(k);
            x.u32()?.ok_or_else(|| x.err("missing"))
        };
        let map = IdMap {
            container: get("containerID")?,
            host: get("hostID")?,
            size: get("size")?,
        };
        let fits = |s: u32| (s as u64) + (map.size as u64) <= 1 << 32;
        if map.size == 0 || !fits(map.container) || !fits(map.host) {
            return Err(m
                .key("size")
                .err("must be 1 or more, the range within 32 bits"));
        }
        out.push(map);
    }
    Ok(out)
}

/// Read a config.json document into a Spec. Every field pocket uses is
/// checked; the first bad one is the error, naming it.
pub fn from_value(c: &Value) -> Result<Spec> {
    let at = At::root("config.json", c);
    if !matches!(c, Value::Obj(_)) {
        return Err(at.err("must be a JSON object"));
    }
    check_version(&at.key("ociVersion"))?;
    let process = oci_read::process(&at.key("process"))?;
    let r = at.key("root");
    if !r.object()? {
        return Err(r.err("missing"));
    }
    let root_path = r.key("path").string()?;
    if root_path.is_empty() {
        return Err(r.key("path").err("missing"));
    }
    let l = at.key("linux");
    l.object()?;
    let mut namespaces = Vec::new();
    let mut ns_paths: Vec<(Namespace, String)> = Vec::new();
    for n in l.key("namespaces").items()? {
        let t = n.key("type");
        let kind = t.str()?.ok_or_else(|| t.err("missing"))?;
        let ns = match NS_NAMES.iter().find(|x| x.1 == kind) {
            Some(x) => x.0,
            None => return Err(t.err(alloc::format!("unsupported namespace {kind:?}"))),
        };
        if namespaces.contains(&ns) || ns_paths.iter().any(|(x, _)| *x == ns) {
            return Err(n.err(alloc::format!("{kind} given twice")));
        }
        match n.key("path").str()? {
            None | Some("") => namespaces.push(ns),
            // Its namespaces would have to be made after the join, by
            // unshare and a fork for the pid one: not this spawn path.
            Some(_) if ns == Namespace::User => {
                return Err(n
                    .key("path")
                    .err("joining a user namespace is not supported yet"));
            }
            Some(p) if p.starts_with('/') => ns_paths.push((ns, String::from(p))),
            Some(_) => return Err(n.key("path").err("must be an absolute path")),
        }
    }
    // Without one, every mount below would be made on the host's tree.
    if !namespaces.contains(&Namespace::Mount) && !ns_paths.iter().any(|n| n.0 == Namespace::Mount)
    {
        return Err(l
            .key("namespaces")
            .err("a mount namespace is required (pocket never mounts in the host's)"));
    }
    let uid_map = id_maps(&l.key("uidMappings"))?;
    let gid_map = id_maps(&l.key("gidMappings"))?;
    if namespaces.contains(&Namespace::User) {
        // The kernel's "root" of the namespace must be someone: runc's
        // rule (and the child becomes uid 0 inside as its first step).
        for (m, k) in [(&uid_map, "uidMappings"), (&gid_map, "gidMappings")] {
            if IdMap::host_of(m, 0).is_none() {
                return Err(l.key(k).err("must map id 0 with a user namespace"));
            }
        }
        if !ns_paths.is_empty() {
            return Err(l
                .key("namespaces")
                .err("joining namespaces by path with a new user namespace is not supported yet"));
        }
    } else if !uid_map.is_empty() || !gid_map.is_empty() {
        return Err(l
            .key(if uid_map.is_empty() {
                "gidMappings"
            } else {
                "uidMappings"
            })
            .err("needs a user namespace (linux.namespaces)"));
    }
    let mut mounts = Vec::new();
    for m in at.key("mounts").items()? {
        let d = m.key("destination");
        let destination = d.string()?;
        if !destination.starts_with('/') {
            return Err(d.err("must be an absolute path"));
        }
        for k in ["uidMappings", "gidMappings"] {
            if !m.key(k).items()?.is_empty() {
                return Err(m.key(k).err("idmapped mounts are not supported yet"));
            }
        }
        mounts.push(Mount {
            destination,
            kind: m.key("type").string()?,
            source: m.key("source").string()?,
            options: m.key("options").strings()?,
        });
    }
    let all = at.key("annotations").string_map()?;
    let ann = |k: &str| all.iter().find(|(x, _)| x == k).map(|(_, v)| v.as_str());
    let on = |k: &str| ann(k) == Some("true");
    let overlay = match (ann(A_LOWER), ann(A_UPPER), ann(A_WORK)) {
        (Some(l), Some(u), Some(w)) => Some(Overlay {
            lower: l.split(':').map(String::from).collect(),
            upper: String::from(u),
            work: String::from(w),
            volatile: on(A_VOLATILE),
        }),
        _ => None,
    };
    let bad = |what: &str, why: &'static str| at.key("annotations").key(what).err(why);
    let net = match (ann(A_NET), ann(A_BRIDGE), ann(A_IP), ann(A_GATEWAY)) {
        (Some(name), Some(bridge), Some(ip), Some(gw)) => {
            let (a, p) = ip
                .split_once('/')
                .ok_or_else(|| bad(A_IP, "must be ADDRESS/PREFIX"))?;
            Some(NetAttach {
                network: String::from(name),
                bridge: String::from(bridge),
                ip: parse_ip(a).ok_or_else(|| bad(A_IP, "bad address"))?,
                prefix: p
                    .parse()
                    .ok()
                    .filter(|&p| p <= 32)
                    .ok_or_else(|| bad(A_IP, "bad prefix"))?,
                gateway: parse_ip(gw).ok_or_else(|| bad(A_GATEWAY, "bad address"))?,
            })
        }
        _ => None,
    };
    let mut devices = Vec::new();
    for d in l.key("devices").items()? {
        let n = |k: &str, default: u32| -> Result<u32> { Ok(d.key(k).u32()?.unwrap_or(default)) };
        let path = d.key("path").string()?;
        if !path.starts_with('/') {
            return Err(d.key("path").err("must be an absolute path"));
        }
        devices.push(Device {
            path,
            // "u" is an unbuffered character device: a character device.
            kind: match d.key("type").string()?.as_str() {
                "c" | "u" => b'c',
                "b" => b'b',
                _ => return Err(d.key("type").err("must be c, u or b")),
            },
            major: n("major", 0)?,
            minor: n("minor", 0)?,
            file_mode: n("fileMode", 0o666)?,
            uid: n("uid", 0)?,
            gid: n("gid", 0)?,
        });
    }
    let lines = |k: &str| -> Vec<String> {
        ann(k).map_or(Vec::new(), |v| v.lines().map(String::from).collect())
    };
    // No linux.seccomp is no filter (OCI); pocket's own records name the
    // built-in profile instead. Capability includes resolve against the
    // bounding set, as moby resolves them.
    let sc = l.key("seccomp");
    let seccomp = match sc.v {
        Some(v) => Seccomp::Profile(
            crate::seccomp::json::from_value(v, process.capabilities).map_err(|e| sc.err(e))?,
        ),
        None if ann(A_SECCOMP) == Some(BUILTIN) => Seccomp::Builtin,
        None => Seccomp::Unconfined,
    };
    let res = l.key("resources");
    oci_read::check_resources(&res)?;
    let prop = l.key("rootfsPropagation");
    if let Some(p) = prop.str()?
        && !PROPAGATIONS.contains(&p)
    {
        return Err(prop.err("must be private, slave, shared or unbindable (r-prefixed or not)"));
    }
    // Type-checked, not applied: no LSM labels (see oci_read::process).
    l.key("mountLabel").str()?;
    let mut spec = Spec {
        process,
        root: Root {
            path: root_path.into_bytes(),
            readonly: r.key("readonly").bool()?.unwrap_or(false),
            overlay,
        },
        hostname: at.key("hostname").string()?.into_bytes(),
        mounts,
        masked_paths: l.key("maskedPaths").strings()?,
        readonly_paths: l.key("readonlyPaths").strings()?,
        namespaces,
        uid_map,
        gid_map,
        ns_paths,
        cgroups_path: l.key("cgroupsPath").str()?.map(String::from),
        resources: res.v.map(Resources::from_json).unwrap_or_default(),
        devices,
        device_mappings: lines(A_DEVICES),
        device_cgroup_rules: lines(A_DEVICE_RULES),
        io: Io { stdin: on(A_STDIN) },
        init: on(A_INIT),
        privileged: on(A_PRIVILEGED),
        ipc_shareable: on(A_IPC_SHAREABLE),
        no_pivot: on(A_NO_PIVOT),
        no_new_keyring: on(A_NO_KEYRING),
        default_home: false,
        image: ann(A_IMAGE).map(String::from),
        config: ann(A_CONFIG)
            .and_then(|c| json::parse(c.as_bytes()).ok())
            .map(|v| crate::image::store::Config::from_json(&v)),
        net,
        net_container: ann(A_NET_CONTAINER).map(String::from),
        ns_containers: ann(A_NS_CONTAINERS)
            .map(|v| {
                v.split(',')
                    .filter_map(|e| match e.split_once('=')? {
                        ("pid", c) => Some((Namespace::Pid, String::from(c))),
                        ("ipc", c) => Some((Namespace::Ipc, String::from(c))),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        ns_owners: Vec::new(),
        extra_nets: ann(A_NET_EXTRA)
            .map(|v| v.split(';').filter_map(extra_net).collect())
            .unwrap_or_default(),
        slirp: ann(A_SLIRP).and_then(crate::net::slirp::decode),
        netns_owner: None,
        seccomp,
        sysctl: Vec::new(),
        rootfs_propagation: prop.str()?.map(String::from),
        hooks: oci_read::hooks(&at.key("hooks"))?,
        annotations: all
            .iter()
            .filter(|(k, _)| !k.starts_with(POCKET))
            .cloned()
            .collect(),
    };
    let uts = spec.has(Namespace::Uts) || spec.ns_path(Namespace::Uts).is_some();
    if !spec.hostname.is_empty() && !uts {
        return Err(at
            .key("hostname")
            .err("needs a UTS namespace (linux.namespaces)"));
    }
    let sy = l.key("sysctl");
    let sysctl = sy.string_map()?;
    if !sysctl.is_empty() && spec.ns_path(Namespace::Mount).is_some() {
        return Err(sy.err("not with a joined mount namespace (no /proc of the container's own)"));
    }
    for (k, _) in &sysctl {
        super::sysctl::check(&spec, k).map_err(|why| sy.err(why))?;
    }
    spec.sysctl = sysctl;
    Ok(spec)
}

/// Read `bundle`/config.json's document: as `from_value`, with a relative
/// `root.path` (containerd's "rootfs") taken below `bundle`, which should
/// be absolute (the child resolves the root from its own cwd otherwise).
pub fn from_bundle(bundle: &str, c: &Value) -> Result<Spec> {
    let mut s = from_value(c)?;
    if !s.root.path.starts_with(b"/") {
        let b = bundle.trim_end_matches('/');
        s.root.path = [b.as_bytes(), b"/", &s.root.path[..]].concat();
    }
    Ok(s)
}

/// Read an OCI `process` object on its own: what `exec --process FILE`
/// gives. Errors name the field as in that file
/// (`process.json: user.uid: must be a 32-bit number`).
pub fn process_from_value(v: &Value) -> Result<Process> {
    oci_read::process(&At::root("process.json", v))
}

/// The Spec as config.json text.
pub fn to_json(s: &Spec) -> Vec<u8> {
    let mut v = json::pretty(&to_value(s)).into_bytes();
    v.push(b'\n');
    v
}

/// Parse config.json text into a Spec.
pub fn from_json(b: &[u8]) -> Result<Spec> {
    let v = json::parse(b).map_err(|e| Error::bad("config.json", "", alloc::format!("{e}")))?;
    from_value(&v)
}

/// One entry of A_NET_EXTRA; None if malformed (skipped).
fn extra_net(e: &str) -> Option<NetAttach> {
    let f: Vec<&str> = e.split(' ').collect();
    let [name, bridge, cidr, gw] = f[..] else {
        return None;
    };
    let (a, p) = cidr.split_once('/')?;
    Some(NetAttach {
        network: String::from(name),
        bridge: String::from(bridge),
        ip: parse_ip(a)?,
        prefix: p.parse().ok().filter(|&p| p <= 32)?,
        gateway: parse_ip(gw)?,
    })
}

#[cfg(test)]
#[path = "oci_tests.rs"]
mod tests;
