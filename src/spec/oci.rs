//! The Spec as an OCI runtime-spec config.json (the subset pocket uses),
//! so a container's record is the same file an engine would hand runc.
//! pocket's own run-time choices travel as annotations.

use super::{Io, Mount, Namespace, Process, Root, Spec, caps};
use crate::error::{Error, Result};
use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    pub oci_version: String,
    #[serde(default)]
    pub process: Option<OciProcess>,
    #[serde(default)]
    pub root: Option<OciRoot>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hostname: String,
    #[serde(default)]
    pub mounts: Vec<OciMount>,
    #[serde(default)]
    pub linux: Option<Linux>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize, Debug, Default, PartialEq)]
pub struct OciProcess {
    #[serde(default)]
    pub terminal: bool,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub env: Vec<String>,
    #[serde(default)]
    pub cwd: String,
    #[serde(default)]
    pub capabilities: Option<Capabilities>,
}

#[derive(Serialize, Deserialize, Debug, Default, PartialEq)]
pub struct Capabilities {
    #[serde(default)]
    pub bounding: Vec<String>,
    #[serde(default)]
    pub effective: Vec<String>,
    #[serde(default)]
    pub permitted: Vec<String>,
    #[serde(default)]
    pub inheritable: Vec<String>,
    #[serde(default)]
    pub ambient: Vec<String>,
}

#[derive(Serialize, Deserialize, Debug, Default, PartialEq)]
pub struct OciRoot {
    pub path: String,
    #[serde(default)]
    pub readonly: bool,
}

#[derive(Serialize, Deserialize, Debug, Default, PartialEq)]
pub struct OciMount {
    pub destination: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub options: Vec<String>,
}

#[derive(Serialize, Deserialize, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Linux {
    #[serde(default)]
    pub namespaces: Vec<OciNamespace>,
    #[serde(default)]
    pub masked_paths: Vec<String>,
    #[serde(default)]
    pub readonly_paths: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroups_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<crate::cgroup::Resources>,
}

#[derive(Serialize, Deserialize, Debug, Default, PartialEq)]
pub struct OciNamespace {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

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
const A_NO_PIVOT: &str = "io.pocket.no-pivot";

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

pub fn to_config(s: &Spec) -> Config {
    let caps = caps::names(s.process.capabilities);
    let mut annotations = BTreeMap::new();
    for (on, key) in [
        (s.io.stdin, A_STDIN),
        (s.init, A_INIT),
        (s.no_pivot, A_NO_PIVOT),
    ] {
        if on {
            annotations.insert(key.to_string(), "true".to_string());
        }
    }
    Config {
        oci_version: "1.0.2".into(),
        process: Some(OciProcess {
            terminal: s.process.terminal,
            args: s.process.args.iter().map(|a| lossy(a)).collect(),
            env: s.process.env.iter().map(|a| lossy(a)).collect(),
            cwd: lossy(&s.process.cwd),
            capabilities: Some(Capabilities {
                bounding: caps.clone(),
                effective: caps.clone(),
                permitted: caps.clone(),
                inheritable: caps,
                ambient: Vec::new(),
            }),
        }),
        root: Some(OciRoot {
            path: lossy(&s.root.path),
            readonly: s.root.readonly,
        }),
        hostname: lossy(&s.hostname),
        mounts: s
            .mounts
            .iter()
            .map(|m| OciMount {
                destination: m.destination.clone(),
                kind: m.kind.clone(),
                source: m.source.clone(),
                options: m.options.clone(),
            })
            .collect(),
        linux: Some(Linux {
            namespaces: s
                .namespaces
                .iter()
                .filter_map(|n| NS_NAMES.iter().find(|x| x.0 == *n))
                .map(|x| OciNamespace {
                    kind: x.1.into(),
                    path: None,
                })
                .collect(),
            masked_paths: s.masked_paths.clone(),
            readonly_paths: s.readonly_paths.clone(),
            cgroups_path: s.cgroups_path.clone(),
            resources: (!s.resources.is_empty()).then(|| s.resources.clone()),
        }),
        annotations,
    }
}

pub fn from_config(c: &Config) -> Result<Spec> {
    let p = c
        .process
        .as_ref()
        .ok_or_else(|| Error::bad("config.json", "", "no process"))?;
    let root = c
        .root
        .as_ref()
        .ok_or_else(|| Error::bad("config.json", "", "no root"))?;
    let capabilities = match &p.capabilities {
        Some(cs) => caps::mask(&cs.bounding)
            .map_err(|n| Error::bad("config.json", n, "unknown capability"))?,
        None => 0,
    };
    let linux = c.linux.as_ref();
    let mut namespaces = Vec::new();
    for n in linux.map_or(&[][..], |l| &l.namespaces[..]) {
        let ns = NS_NAMES.iter().find(|x| x.1 == n.kind);
        match ns {
            Some(x) if n.path.is_none() => namespaces.push(x.0),
            _ => {
                return Err(Error::bad(
                    "config.json",
                    n.kind.clone(),
                    "unsupported namespace",
                ));
            }
        }
    }
    let on = |k: &str| c.annotations.get(k).is_some_and(|v| v == "true");
    Ok(Spec {
        process: Process {
            args: p.args.iter().map(|a| a.as_bytes().to_vec()).collect(),
            env: p.env.iter().map(|a| a.as_bytes().to_vec()).collect(),
            cwd: if p.cwd.is_empty() {
                b"/".to_vec()
            } else {
                p.cwd.as_bytes().to_vec()
            },
            terminal: p.terminal,
            capabilities,
        },
        root: Root {
            path: root.path.as_bytes().to_vec(),
            readonly: root.readonly,
        },
        hostname: c.hostname.as_bytes().to_vec(),
        mounts: c
            .mounts
            .iter()
            .map(|m| Mount {
                destination: m.destination.clone(),
                kind: m.kind.clone(),
                source: m.source.clone(),
                options: m.options.clone(),
            })
            .collect(),
        masked_paths: linux.map(|l| l.masked_paths.clone()).unwrap_or_default(),
        readonly_paths: linux.map(|l| l.readonly_paths.clone()).unwrap_or_default(),
        namespaces,
        cgroups_path: linux.and_then(|l| l.cgroups_path.clone()),
        resources: linux.and_then(|l| l.resources.clone()).unwrap_or_default(),
        io: Io { stdin: on(A_STDIN) },
        init: on(A_INIT),
        no_pivot: on(A_NO_PIVOT),
    })
}

/// The Spec as config.json text.
pub fn to_json(s: &Spec) -> Vec<u8> {
    serde_json::to_vec_pretty(&to_config(s)).unwrap_or_default()
}

/// Parse config.json text into a Spec.
pub fn from_json(b: &[u8]) -> Result<Spec> {
    let c: Config = serde_json::from_slice(b)
        .map_err(|e| Error::bad("config.json", "", alloc::format!("{e}")))?;
    from_config(&c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::run::{parse_run, to_spec};

    #[test]
    fn spec_round_trips_through_config_json() {
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
        let s = to_spec(&r, &[], &[], b"id".to_vec()).unwrap();
        let back = from_json(&to_json(&s)).unwrap();
        assert_eq!(back, s);
    }

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
