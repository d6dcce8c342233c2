//! The Spec as an OCI runtime-spec config.json (the subset pocket uses),
//! so a container's record is the same file an engine would hand runc.
//! pocket's own run-time choices travel as annotations.

use super::{Device, Io, Mount, Namespace, NetAttach, Overlay, Process, Root, Spec, User, caps};
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
];

const A_STDIN: &str = "io.pocket.stdin";
const A_INIT: &str = "io.pocket.init";
const A_PRIVILEGED: &str = "io.pocket.privileged";
const A_NO_PIVOT: &str = "io.pocket.no-pivot";
const A_IMAGE: &str = "io.pocket.image";
const A_LOWER: &str = "io.pocket.overlay.lower";
const A_UPPER: &str = "io.pocket.overlay.upper";
const A_WORK: &str = "io.pocket.overlay.work";
const A_VOLATILE: &str = "io.pocket.overlay.volatile";
const A_NET: &str = "io.pocket.net";
const A_BRIDGE: &str = "io.pocket.net.bridge";
const A_IP: &str = "io.pocket.net.ip";
const A_GATEWAY: &str = "io.pocket.net.gateway";
const A_NET_CONTAINER: &str = "io.pocket.net.container";
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

/// The Spec as a config.json document.
pub fn to_value(s: &Spec) -> Value {
    let caps = json::strs(&caps::names(s.process.capabilities));
    let mut annotations: Vec<(String, Value)> = [
        (s.io.stdin, A_STDIN),
        (s.init, A_INIT),
        (s.no_pivot, A_NO_PIVOT),
        (s.privileged, A_PRIVILEGED),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, k)| (String::from(*k), json::str("true")))
    .collect();
    // An OCI runtime gets a ready rootfs; pocket mounts the overlay itself,
    // so its parts ride along as annotations (lowerdirs ':'-joined, as
    // overlayfs writes them; layer paths never hold ':').
    if let Some(id) = &s.image {
        annotations.push((String::from(A_IMAGE), json::str(id)));
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
            json::obj(alloc::vec![
                ("path", Some(json::str(&d.path))),
                ("type", Some(Value::Str(String::from(d.kind as char)))),
                ("major", Some(json::num(d.major))),
                ("minor", Some(json::num(d.minor))),
                ("fileMode", Some(json::num(d.file_mode))),
                ("uid", Some(json::num(d.uid))),
                ("gid", Some(json::num(d.gid))),
            ])
        })
        .collect();
    let mounts = s
        .mounts
        .iter()
        .map(|m| {
            json::obj(alloc::vec![
                ("destination", Some(json::str(&m.destination))),
                ("type", Some(json::str(&m.kind))),
                ("source", Some(json::str(&m.source))),
                ("options", Some(json::strs(&m.options))),
            ])
        })
        .collect();
    let mut namespaces: Vec<Value> = s
        .namespaces
        .iter()
        .filter_map(|n| NS_NAMES.iter().find(|x| x.0 == *n))
        .map(|x| json::obj(alloc::vec![("type", Some(json::str(x.1)))]))
        .collect();
    if let Some(p) = &s.netns_path {
        namespaces.push(json::obj(alloc::vec![
            ("type", Some(json::str("network"))),
            ("path", Some(json::str(p))),
        ]));
    }
    json::obj(alloc::vec![
        ("ociVersion", Some(json::str("1.0.2"))),
        (
            "process",
            Some(json::obj(alloc::vec![
                ("terminal", Some(Value::Bool(s.process.terminal))),
                ("args", Some(strings(&s.process.args))),
                ("env", Some(strings(&s.process.env))),
                ("cwd", Some(Value::Str(lossy(&s.process.cwd)))),
                (
                    "user",
                    Some(json::obj(alloc::vec![
                        ("uid", Some(json::num(s.process.user.uid))),
                        ("gid", Some(json::num(s.process.user.gid))),
                        (
                            "additionalGids",
                            (!s.process.user.additional_gids.is_empty()).then(|| {
                                Value::Arr(
                                    s.process
                                        .user
                                        .additional_gids
                                        .iter()
                                        .map(|g| json::num(*g))
                                        .collect(),
                                )
                            })
                        ),
                    ])),
                ),
                (
                    "noNewPrivileges",
                    s.process.no_new_privileges.then_some(Value::Bool(true))
                ),
                (
                    "capabilities",
                    Some(json::obj(alloc::vec![
                        ("bounding", Some(caps.clone())),
                        ("effective", Some(caps.clone())),
                        ("permitted", Some(caps.clone())),
                        ("inheritable", Some(Value::Arr(Vec::new()))),
                        ("ambient", Some(Value::Arr(Vec::new()))),
                    ])),
                ),
            ])),
        ),
        (
            "root",
            Some(json::obj(alloc::vec![
                ("path", Some(Value::Str(lossy(&s.root.path)))),
                ("readonly", Some(Value::Bool(s.root.readonly))),
            ])),
        ),
        (
            "hostname",
            (!s.hostname.is_empty()).then(|| Value::Str(lossy(&s.hostname)))
        ),
        ("mounts", Some(Value::Arr(mounts))),
        (
            "linux",
            Some(json::obj(alloc::vec![
                ("namespaces", Some(Value::Arr(namespaces))),
                ("maskedPaths", Some(json::strs(&s.masked_paths))),
                ("readonlyPaths", Some(json::strs(&s.readonly_paths))),
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
            ])),
        ),
        (
            "annotations",
            (!annotations.is_empty()).then_some(Value::Obj(annotations))
        ),
    ])
}

fn bad(what: impl Into<String>, why: &'static str) -> Error {
    Error::bad("config.json", what, why)
}

/// An optional array of strings: absent is empty, anything else an error.
fn list(v: &Value, key: &str) -> Result<Vec<String>> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(x) => x
            .strings()
            .ok_or_else(|| bad(key, "must be an array of strings")),
    }
}

fn text(v: &Value, key: &str) -> Result<String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(x) => x
            .str()
            .map(String::from)
            .ok_or_else(|| bad(key, "must be a string")),
    }
}

/// Read a config.json document into a Spec.
pub fn from_value(c: &Value) -> Result<Spec> {
    let p = c.get("process").ok_or_else(|| bad("", "no process"))?;
    let root = c.get("root").ok_or_else(|| bad("", "no root"))?;
    let capabilities = match p.get("capabilities") {
        Some(cs) => caps::mask(&list(cs, "bounding")?).map_err(|n| bad(n, "unknown capability"))?,
        None => 0,
    };
    let linux = c.get("linux");
    let mut namespaces = Vec::new();
    let mut netns_path = None;
    for n in linux
        .and_then(|l| l.get("namespaces"))
        .and_then(Value::arr)
        .unwrap_or(&[])
    {
        let kind = text(n, "type")?;
        match NS_NAMES.iter().find(|x| x.1 == kind) {
            Some(x) if n.get("path").is_none_or(Value::is_null) => namespaces.push(x.0),
            // Joining an existing one: only the network namespace.
            Some(x) if x.0 == Namespace::Network => netns_path = Some(text(n, "path")?),
            _ => return Err(bad(kind, "unsupported namespace")),
        }
    }
    let mut mounts = Vec::new();
    for m in c.get("mounts").and_then(Value::arr).unwrap_or(&[]) {
        mounts.push(Mount {
            destination: text(m, "destination")?,
            kind: text(m, "type")?,
            source: text(m, "source")?,
            options: list(m, "options")?,
        });
    }
    let ann = |k: &str| {
        c.get("annotations")
            .and_then(|a| a.get(k))
            .and_then(Value::str)
    };
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
    let u = p.get("user");
    let id = |k: &str| -> Result<u32> {
        match u.and_then(|u| u.get(k)) {
            None | Some(Value::Null) => Ok(0),
            Some(v) => v
                .u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| bad(k, "must be a 32-bit number")),
        }
    };
    let mut additional_gids = Vec::new();
    for g in u
        .and_then(|u| u.get("additionalGids"))
        .and_then(Value::arr)
        .unwrap_or(&[])
    {
        additional_gids.push(
            g.u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| bad("additionalGids", "must be 32-bit numbers"))?,
        );
    }
    let empty = Value::Obj(Vec::new());
    let l = linux.unwrap_or(&empty);
    let mut devices = Vec::new();
    for d in l.get("devices").and_then(Value::arr).unwrap_or(&[]) {
        let n = |k: &str, default: u32| -> Result<u32> {
            match d.get(k) {
                None | Some(Value::Null) => Ok(default),
                Some(v) => v
                    .u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| bad(k, "must be a 32-bit number")),
            }
        };
        devices.push(Device {
            path: text(d, "path")?,
            // "u" is an unbuffered character device: a character device.
            kind: match text(d, "type")?.as_str() {
                "c" | "u" => b'c',
                "b" => b'b',
                _ => return Err(bad("linux.devices", "type must be c, u or b")),
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
    // built-in profile instead.
    let seccomp = match l.get("seccomp").filter(|v| !v.is_null()) {
        Some(v) => Seccomp::Profile(
            crate::seccomp::json::from_value(v, capabilities)
                .map_err(|e| Error::bad("config.json", "linux.seccomp", e))?,
        ),
        None if ann(A_SECCOMP) == Some(BUILTIN) => Seccomp::Builtin,
        None => Seccomp::Unconfined,
    };
    let cwd = text(p, "cwd")?;
    Ok(Spec {
        process: Process {
            args: list(p, "args")?
                .into_iter()
                .map(String::into_bytes)
                .collect(),
            env: list(p, "env")?
                .into_iter()
                .map(String::into_bytes)
                .collect(),
            cwd: if cwd.is_empty() {
                b"/".to_vec()
            } else {
                cwd.into_bytes()
            },
            terminal: p.get("terminal").and_then(Value::bool).unwrap_or(false),
            capabilities,
            no_new_privileges: p
                .get("noNewPrivileges")
                .and_then(Value::bool)
                .unwrap_or(false),
            user: User {
                uid: id("uid")?,
                gid: id("gid")?,
                additional_gids,
            },
        },
        root: Root {
            path: text(root, "path")?.into_bytes(),
            readonly: root.get("readonly").and_then(Value::bool).unwrap_or(false),
            overlay,
        },
        hostname: text(c, "hostname")?.into_bytes(),
        mounts,
        masked_paths: list(l, "maskedPaths")?,
        readonly_paths: list(l, "readonlyPaths")?,
        namespaces,
        cgroups_path: l.get("cgroupsPath").and_then(Value::str).map(String::from),
        resources: l
            .get("resources")
            .map(Resources::from_json)
            .unwrap_or_default(),
        devices,
        device_mappings: lines(A_DEVICES),
        device_cgroup_rules: lines(A_DEVICE_RULES),
        io: Io { stdin: on(A_STDIN) },
        init: on(A_INIT),
        privileged: on(A_PRIVILEGED),
        no_pivot: on(A_NO_PIVOT),
        image: ann(A_IMAGE).map(String::from),
        net,
        netns_path,
        net_container: ann(A_NET_CONTAINER).map(String::from),
        netns_owner: None,
        seccomp,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_runc_style_config() {
        let j = br#"{"ociVersion":"1.0.2","process":{"terminal":false,"args":["sh"],"env":["PATH=/bin"],"cwd":"/",
            "capabilities":{"bounding":["CAP_KILL"]}},"root":{"path":"rootfs","readonly":true},"hostname":"x",
            "mounts":[{"destination":"/proc","type":"proc","source":"proc"}],
            "linux":{"namespaces":[{"type":"pid"},{"type":"mount"}],"maskedPaths":["/proc/kcore"]},"extra":1}"#;
        let s = from_json(j).unwrap();
        assert_eq!(s.process.args, vec![b"sh".to_vec()]);
        assert_eq!(s.process.capabilities, 1 << 5);
        assert!(s.root.readonly && s.has(Namespace::Pid) && !s.has(Namespace::Network));
        assert!(from_json(b"{").is_err());
        assert!(from_json(br#"{"ociVersion":"1"}"#).is_err());
    }
}
