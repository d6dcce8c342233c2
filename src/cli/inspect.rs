//! `pocket inspect` (the record and config as JSON, in docker's shape)
//! and `pocket top` (the container's processes, seen from the host).

use super::Ctx;
use super::args::{Flag, flag};
use super::format::{self, Format};
use crate::container::health::Health;
use crate::error::{Error, Result};
use crate::json::{self, Value};
use crate::rt::time;
use crate::state::{Record, Status};
use crate::sys::fs;
use alloc::string::String;
use alloc::vec::Vec;

const FLAGS: &[Flag] = &[
    flag(b'f', "format", true),
    flag(0, "type", true),
    flag(0, "help", false),
];

fn sorted(v: &[(String, String)]) -> Vec<(String, String)> {
    let mut v = v.to_vec();
    crate::rt::sort_by(&mut v, |a, b| a.0 < b.0);
    v
}

fn rfc(t: time::Timestamp) -> String {
    time::rfc3339_nano_trimmed(t)
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn all(v: &[Vec<u8>]) -> Value {
    Value::Arr(v.iter().map(|a| Value::Str(lossy(a))).collect())
}

/// The overlay dirs of an image container, as docker shows them.
fn graph_driver(s: &crate::spec::Spec) -> Option<Value> {
    let o = s.root.overlay.as_ref()?;
    Some(json::obj!(
        ("Name", Some(json::str("overlay"))),
        (
            "Data",
            Some(json::obj!(
                ("LowerDir", Some(json::str(&o.lower.join(":")))),
                ("UpperDir", Some(json::str(&o.upper))),
                ("WorkDir", Some(json::str(&o.work))),
                ("MergedDir", Some(Value::Str(lossy(&s.root.path)))),
            )),
        ),
    ))
}

/// The user's mounts (-v, --tmpfs), not the standard /proc, /dev ones.
/// docker's Mounts: the user's binds, volumes and tmpfs (not the
/// standard ones, nor pocket's own /etc/hosts, resolv.conf, hostname of
/// container `id`), with docker's fields for each type.
fn mounts(s: &crate::spec::Spec, id: &str) -> Value {
    let standard = crate::spec::default_mounts();
    let own = |m: &&crate::spec::Mount| {
        crate::container::network::FILES.iter().any(|(file, dst)| {
            m.destination == *dst
                && m.source
                    .ends_with(&alloc::format!("/containers/{id}/{file}"))
        })
    };
    Value::Arr(
        s.mounts
            .iter()
            .filter(|m| !standard.contains(m))
            // Kinds no -v, --tmpfs or --mount makes: pocket's own, whatever
            // their options (--privileged's rw /sys and /sys/fs/cgroup).
            .filter(|m| {
                !matches!(
                    m.kind.as_str(),
                    "proc" | "sysfs" | "cgroup" | "cgroup2" | "devpts" | "mqueue"
                )
            })
            .filter(|m| !own(m))
            .map(|m| {
                let ro = m.options.iter().any(|o| o == "ro");
                let volume = m.kind == "bind"
                    && m.source.ends_with("/_data")
                    && m.source.contains("/volumes/");
                let propagation = m
                    .options
                    .iter()
                    .find(|o| {
                        matches!(
                            o.as_str(),
                            "rprivate" | "private" | "rshared" | "shared" | "rslave" | "slave"
                        )
                    })
                    .map_or("rprivate", |o| o.as_str());
                let name = m
                    .source
                    .strip_suffix("/_data")
                    .and_then(|s| s.rsplit('/').next())
                    .unwrap_or("");
                let (kind, source, mode, prop) = match m.kind.as_str() {
                    "bind" if volume => {
                        ("volume", m.source.as_str(), if ro { "ro" } else { "z" }, "")
                    }
                    "bind" => (
                        "bind",
                        m.source.as_str(),
                        if ro { "ro" } else { "" },
                        propagation,
                    ),
                    "tmpfs" => ("tmpfs", "", "", ""),
                    k => (k, m.source.as_str(), "", ""),
                };
                json::obj!(
                    ("Type", Some(json::str(kind))),
                    ("Name", volume.then(|| json::str(name))),
                    ("Source", Some(json::str(source))),
                    ("Destination", Some(json::str(&m.destination))),
                    ("Driver", volume.then(|| json::str("local"))),
                    ("Mode", Some(json::str(mode))),
                    ("RW", Some(Value::Bool(!ro))),
                    ("Propagation", Some(json::str(prop))),
                )
            })
            .collect(),
    )
}

/// HostConfig.Devices as docker shows --device: one entry per flag.
fn devices(s: &crate::spec::Spec) -> Value {
    let one = |m: &String| {
        let mut p = m.splitn(3, ':');
        let mut next = || Some(json::str(p.next().unwrap_or("")));
        json::obj!(
            ("PathOnHost", next()),
            ("PathInContainer", next()),
            ("CgroupPermissions", next()),
        )
    };
    Value::Arr(s.device_mappings.iter().map(one).collect())
}

/// docker inspect's shape: Id, State{...}, Config{...}, HostConfig{...}.
/// docker's HostConfig.Ulimits: `--ulimit` names, -1 for unlimited.
fn ulimits(r: &[crate::spec::Rlimit]) -> Value {
    if r.is_empty() {
        return Value::Null;
    }
    let n = |v: u64| json::num(if v == u64::MAX { -1 } else { v as i64 });
    Value::Arr(
        r.iter()
            .map(|r| {
                let name = crate::spec::rlimit::name(r.resource)
                    .trim_start_matches("RLIMIT_")
                    .to_ascii_lowercase();
                json::obj!(
                    ("Name", Some(Value::Str(name))),
                    ("Hard", Some(n(r.hard))),
                    ("Soft", Some(n(r.soft))),
                )
            })
            .collect(),
    )
}

fn describe(
    r: &Record,
    spec: Option<&crate::spec::Spec>,
    log_path: &str,
    health: Option<Value>,
) -> Value {
    let running = r.status == Status::Running;
    let config = spec.map(|s| {
        json::obj!(
            ("Hostname", Some(Value::Str(lossy(&s.hostname)))),
            (
                "Domainname",
                Some(json::str(
                    s.sysctl
                        .iter()
                        .find(|(k, _)| k == "kernel.domainname")
                        .map_or("", |(_, v)| v.as_str())
                ))
            ),
            // docker's Config where create recorded it, else what the
            // process is (OCI containers, older records).
            ("User", s.config.as_ref().map(|c| json::str(&c.user))),
            (
                "Env",
                Some(
                    s.config
                        .as_ref()
                        .map_or_else(|| all(&s.process.env), |c| json::strs(&c.env))
                )
            ),
            (
                "Cmd",
                Some(
                    s.config
                        .as_ref()
                        .map_or_else(|| all(&s.process.args), |c| json::strs(&c.cmd))
                )
            ),
            ("Image", Some(json::str(&r.image))),
            (
                "WorkingDir",
                Some(s.config.as_ref().map_or_else(
                    || Value::Str(lossy(&s.process.cwd)),
                    |c| json::str(&c.working_dir)
                ))
            ),
            (
                "ExposedPorts",
                s.config
                    .as_ref()
                    .filter(|c| !c.exposed_ports.is_empty())
                    .map(|c| json::set(&c.exposed_ports))
            ),
            // null when none: no omitempty on docker's.
            (
                "Volumes",
                Some(match &s.config {
                    Some(c) if !c.volumes.is_empty() => json::set(&c.volumes),
                    _ => Value::Null,
                })
            ),
            (
                "Entrypoint",
                Some(match &s.config {
                    Some(c) if !c.entrypoint.is_empty() => json::strs(&c.entrypoint),
                    _ => Value::Null,
                })
            ),
            ("Tty", Some(Value::Bool(s.process.terminal))),
            ("OpenStdin", Some(Value::Bool(s.io.stdin))),
            (
                "StopSignal",
                (r.stop_signal != 0).then(|| json::str(&crate::sys::signal::name(r.stop_signal)))
            ),
            ("StopTimeout", r.stop_timeout.map(json::num)),
            // A map in docker's document: keys sorted, as Go writes it.
            ("Labels", Some(json::pairs(&sorted(&r.labels)))),
            ("Healthcheck", r.healthcheck.as_ref().map(|h| h.to_json())),
        )
    });
    let host = spec.map(|s| {
        let res = &s.resources;
        let mem = res.memory.clone().unwrap_or_default();
        let cpu = res.cpu.clone().unwrap_or_default();
        let nano = match (cpu.quota, cpu.period) {
            (Some(q), Some(p)) if q > 0 && p > 0 => q * 1_000_000_000 / p as i64,
            _ => 0,
        };
        json::obj!(
            ("AutoRemove", Some(Value::Bool(r.auto_remove))),
            (
                "LogConfig",
                Some(json::obj!(
                    (
                        "Type",
                        Some(json::str(if r.log.driver.is_empty() {
                            "json-file"
                        } else {
                            &r.log.driver
                        }))
                    ),
                    ("Config", Some(json::pairs(&r.log.opts))),
                ))
            ),
            (
                "RestartPolicy",
                Some(json::obj!(
                    ("Name", Some(json::str(r.restart.name()))),
                    (
                        "MaximumRetryCount",
                        Some(json::num(r.restart.max_retries()))
                    ),
                ))
            ),
            ("ReadonlyRootfs", Some(Value::Bool(s.root.readonly))),
            ("Init", Some(Value::Bool(s.init))),
            ("SecurityOpt", Some(super::security::inspect(s))),
            (
                "NetworkMode",
                Some(json::str(&match (&s.net, &s.net_container) {
                    (Some(n), _) => n.network.clone(),
                    (None, Some(c)) => alloc::format!("container:{c}"),
                    (None, None) if s.has(crate::spec::Namespace::Network) => "none".into(),
                    (None, None) => "host".into(),
                })),
            ),
            (
                "Capabilities",
                Some(json::strs(&crate::spec::caps::names(
                    s.process.capabilities
                )))
            ),
            ("Privileged", Some(Value::Bool(s.privileged))),
            (
                "PidMode",
                Some(json::str(&ns_mode(s, crate::spec::Namespace::Pid)))
            ),
            ("IpcMode", Some(json::str(&ipc_mode(s)))),
            (
                "UTSMode",
                Some(json::str(&ns_mode(s, crate::spec::Namespace::Uts)))
            ),
            ("ShmSize", Some(json::num(shm_size(s)))),
            (
                "GroupAdd",
                Some(json::strs(
                    &s.process
                        .user
                        .additional_gids
                        .iter()
                        .map(|g| alloc::format!("{g}"))
                        .collect::<Vec<_>>()
                ))
            ),
            ("Binds", Some(binds(s))),
            // As docker's CLI fills them: the lists empty, ExtraHosts null.
            ("Dns", Some(json::strs(&r.dns))),
            ("DnsOptions", Some(Value::Arr(Vec::new()))),
            ("DnsSearch", Some(Value::Arr(Vec::new()))),
            (
                "ExtraHosts",
                Some(match r.extra_hosts.is_empty() {
                    true => Value::Null,
                    false => json::strs(&r.extra_hosts),
                })
            ),
            (
                "OomScoreAdj",
                Some(json::num(s.process.oom_score_adj.unwrap_or(0)))
            ),
            (
                "Sysctls",
                (!s.sysctl.is_empty()).then(|| { json::pairs(&s.sysctl) })
            ),
            ("Ulimits", Some(ulimits(&s.process.rlimits))),
            (
                "CapAdd",
                Some(json::strs(&crate::spec::caps::names(
                    s.process.capabilities & !crate::spec::DEFAULT_CAPS
                )))
            ),
            (
                "CapDrop",
                Some(json::strs(&crate::spec::caps::names(
                    crate::spec::DEFAULT_CAPS & !s.process.capabilities
                )))
            ),
            (
                "Cgroup",
                Some(json::str(s.cgroups_path.as_deref().unwrap_or("")))
            ),
            ("Memory", Some(json::num(mem.limit.unwrap_or(0)))),
            ("MemorySwap", Some(json::num(mem.swap.unwrap_or(0)))),
            (
                "MemoryReservation",
                Some(json::num(mem.reservation.unwrap_or(0)))
            ),
            (
                "OomKillDisable",
                Some(Value::Bool(mem.disable_oom_killer.unwrap_or(false)))
            ),
            ("NanoCpus", Some(json::num(nano))),
            ("CpuShares", Some(json::num(cpu.shares.unwrap_or(0)))),
            ("CpuQuota", Some(json::num(cpu.quota.unwrap_or(0)))),
            ("CpuPeriod", Some(json::num(cpu.period.unwrap_or(0)))),
            (
                "CpuRealtimePeriod",
                Some(json::num(cpu.realtime_period.unwrap_or(0)))
            ),
            (
                "CpuRealtimeRuntime",
                Some(json::num(cpu.realtime_runtime.unwrap_or(0)))
            ),
            (
                "CpusetCpus",
                Some(json::str(cpu.cpus.as_deref().unwrap_or("")))
            ),
            (
                "CpusetMems",
                Some(json::str(cpu.mems.as_deref().unwrap_or("")))
            ),
            (
                "PidsLimit",
                Some(json::num(res.pids.as_ref().map_or(0, |p| p.limit)))
            ),
            (
                "BlkioWeight",
                Some(json::num(
                    res.block_io.as_ref().and_then(|b| b.weight).unwrap_or(0)
                ))
            ),
            ("Devices", Some(devices(s))),
            (
                "DeviceCgroupRules",
                Some(match s.device_cgroup_rules.is_empty() {
                    true => Value::Null,
                    false => json::strs(&s.device_cgroup_rules),
                }),
            ),
        )
    });
    json::obj!(
        ("Id", Some(json::str(&r.id))),
        ("Created", Some(Value::Str(rfc(r.created)))),
        (
            "Path",
            Some(json::str(r.command.first().map_or("", |s| s.as_str())))
        ),
        ("Args", Some(json::strs(r.command.get(1..).unwrap_or(&[])))),
        (
            "State",
            Some(json::obj!(
                ("Status", Some(json::str(r.state_word()))),
                // docker: a restarting container is "running" too.
                ("Running", Some(Value::Bool(running || r.restarting))),
                ("Paused", Some(Value::Bool(running && r.paused))),
                (
                    "Restarting",
                    Some(Value::Bool(r.state_word() == "restarting"))
                ),
                ("OOMKilled", Some(Value::Bool(r.oom_killed))),
                ("Dead", Some(Value::Bool(false))),
                ("Pid", Some(json::num(if running { r.pid } else { 0 }))),
                ("ExitCode", Some(json::num(r.exit_code.unwrap_or(0)))),
                ("StartedAt", Some(Value::Str(rfc(r.started_at)))),
                ("FinishedAt", Some(Value::Str(rfc(r.finished_at)))),
                ("Health", health),
            )),
        ),
        ("Name", Some(Value::Str(alloc::format!("/{}", r.name)))),
        ("RestartCount", Some(json::num(r.restart_count))),
        ("Image", Some(json::str(&r.image))),
        (
            "LogPath",
            Some(json::str(if r.logged { log_path } else { "" }))
        ),
        ("Config", Some(config.unwrap_or(Value::Null))),
        ("HostConfig", Some(host.unwrap_or(Value::Null))),
        ("GraphDriver", spec.and_then(graph_driver)),
        ("Mounts", spec.map(|s| mounts(s, &r.id))),
    )
}

/// docker's PidMode/UTSMode: "host" when the namespace is the host's,
/// "container:ID" when another container's.
fn ns_mode(s: &crate::spec::Spec, ns: crate::spec::Namespace) -> String {
    if let Some((_, c)) = s.ns_containers.iter().find(|(n, _)| *n == ns) {
        return alloc::format!("container:{c}");
    }
    String::from(if s.has(ns) { "" } else { "host" })
}

fn ipc_mode(s: &crate::spec::Spec) -> String {
    let m = ns_mode(s, crate::spec::Namespace::Ipc);
    if !m.is_empty() {
        return m;
    }
    let shm = s.mounts.iter().any(|m| m.destination == "/dev/shm");
    String::from(match (shm, s.ipc_shareable) {
        (false, _) => "none",
        (true, true) => "shareable",
        (true, false) => "private",
    })
}

/// /dev/shm's size option, in bytes (0: none, or the host's).
fn shm_size(s: &crate::spec::Spec) -> u64 {
    s.mounts
        .iter()
        .find(|m| m.destination == "/dev/shm" && m.kind == "tmpfs")
        .and_then(|m| m.options.iter().find_map(|o| o.strip_prefix("size=")))
        .and_then(|v| {
            v.strip_suffix('k')
                .and_then(|k| k.parse::<u64>().ok())
                .map(|k| k * 1024)
        })
        .unwrap_or(0)
}

/// docker's Binds: "SRC:DST[:ro]" for each bind the user asked for (not
/// the /etc files pocket binds, nor /dev/shm with --ipc host).
fn binds(s: &crate::spec::Spec) -> Value {
    let v: Vec<String> = s
        .mounts
        .iter()
        .filter(|m| {
            m.kind == "bind" && !m.destination.starts_with("/etc/") && m.destination != "/dev/shm"
        })
        .map(|m| {
            let ro = m.options.iter().any(|o| o == "ro");
            alloc::format!(
                "{}:{}{}",
                m.source,
                m.destination,
                if ro { ":ro" } else { "" }
            )
        })
        .collect();
    if v.is_empty() {
        Value::Null
    } else {
        json::strs(&v)
    }
}

/// A container's document, as `inspect` shows it.
pub fn container_doc(ctx: &Ctx, q: &str) -> Result<Value> {
    let rec = ctx.store.resolve(q).and_then(|id| ctx.store.load(&id))?;
    let spec = ctx.store.spec(&rec.id).ok();
    let live = ctx.store.live(rec.clone());
    let mut doc = describe(
        &live,
        spec.as_ref(),
        &ctx.store.log_path(&rec.id),
        rec.healthcheck
            .as_ref()
            .and_then(|_| Health::read(&ctx.store, &rec.id)),
    );
    if let (Value::Obj(m), Some(s)) = (&mut doc, &spec) {
        let ns = network_settings(ctx, &live, s);
        // HostConfig.PortBindings: what -p asked, as it was granted; a
        // stopped slirp4netns container's as asked (granted at each start).
        let ports = match &s.slirp {
            Some(c) if live.status != Status::Running => Some(asked(&c.ports)),
            _ => Some(bindings(ctx, &live).0),
        };
        if let (Some(p), Some((_, Value::Obj(h)))) =
            (ports, m.iter_mut().find(|(k, _)| k == "HostConfig"))
        {
            h.push((String::from("PortBindings"), p));
        }
        m.push((String::from("NetworkSettings"), ns));
    }
    Ok(doc)
}

/// docker's port map: "80/tcp" -> [{HostIp, HostPort}...], the keys in
/// order as Go's JSON writes a map, each key's bindings in order.
fn port_map(binds: impl Iterator<Item = (String, Value)>) -> Value {
    let mut ports: Vec<(String, Value)> = Vec::new();
    for (key, b) in binds {
        match ports.iter_mut().find(|(k, _)| *k == key) {
            Some((_, Value::Arr(v))) => v.push(b),
            _ => ports.push((key, Value::Arr(alloc::vec![b]))),
        }
    }
    crate::rt::sort_by(&mut ports, |a, b| a.0 < b.0);
    Value::Obj(ports)
}

/// One binding: `host_port` as docker writes it ("8080", "" for any,
/// "8000-8010" for a range).
fn binding(key: String, ip: crate::net::networks::Ip, host_port: String) -> (String, Value) {
    let b = json::obj!(
        ("HostIp", Some(json::str(&crate::net::networks::fmt_ip(ip)))),
        ("HostPort", Some(json::str(&host_port))),
    );
    (key, b)
}

/// The `-p` values as asked, in docker's PortBindings shape.
fn asked(specs: &[crate::net::ports::PortSpec]) -> Value {
    port_map(specs.iter().map(|p| {
        let host = match (p.host_lo, p.host_hi) {
            (0, _) => String::new(),
            (lo, hi) if lo == hi => alloc::format!("{lo}"),
            (lo, hi) => alloc::format!("{lo}-{hi}"),
        };
        let key = alloc::format!("{}/{}", p.ctr_port, p.proto.as_str());
        binding(key, p.host_ip, host)
    }))
}

/// What `r` publishes, as docker's port map, and the mappings.
fn bindings(ctx: &Ctx, r: &Record) -> (Value, Vec<crate::net::ports::Mapping>) {
    let maps = crate::net::ports::of(&ctx.store.root, &r.id).unwrap_or_default();
    let published = super::port::published(&ctx.store, r, &maps);
    let v = port_map(published.iter().map(|m| {
        let key = alloc::format!("{}/{}", m.ctr_port, m.proto.as_str());
        binding(key, m.host_ip, alloc::format!("{}", m.host_port))
    }));
    (v, published)
}

/// docker's NetworkSettings: published ports, and an endpoint per
/// network (address, gateway, MAC, aliases); the top-level address only
/// for the default network, as docker shows it.
fn network_settings(ctx: &Ctx, r: &Record, s: &crate::spec::Spec) -> Value {
    use crate::net::{host, networks};
    // While it runs (docker empties them at the stop): its bindings and,
    // null, the exposed ports it does not publish; the keys in order, as
    // Go's JSON writes a map.
    let mut ports = Value::Obj(Vec::new());
    if r.status == Status::Running {
        let (b, published) = bindings(ctx, r);
        ports = b;
        if let Value::Obj(m) = &mut ports {
            for (port, proto) in super::port::exposed_only(&ctx.store, r, &published) {
                m.push((alloc::format!("{port}/{proto}"), Value::Null));
            }
            crate::rt::sort_by(m, |a, b| a.0 < b.0);
        }
    }
    let nets: Vec<&crate::net::NetAttach> = s.net.iter().chain(s.extra_nets.iter()).collect();
    let endpoint = |a: &crate::net::NetAttach| {
        let id = networks::get(&ctx.store.root, &a.network)
            .map(|n| n.id)
            .unwrap_or_default();
        let aliases: Vec<&String> = r
            .aliases
            .iter()
            .filter(|(n, _)| *n == a.network)
            .map(|(_, x)| x)
            .collect();
        let mut dns = alloc::vec![r.name.clone(), String::from(r.short_id())];
        dns.extend(aliases.iter().map(|a| (*a).clone()));
        json::obj!(
            (
                "Aliases",
                Some(if aliases.is_empty() {
                    Value::Null
                } else {
                    json::strs(&aliases)
                })
            ),
            (
                "MacAddress",
                Some(json::str(&host::fmt_mac(host::mac(a.ip))))
            ),
            ("NetworkID", Some(json::str(&id))),
            ("Gateway", Some(json::str(&networks::fmt_ip(a.gateway)))),
            ("IPAddress", Some(json::str(&networks::fmt_ip(a.ip)))),
            ("IPPrefixLen", Some(json::num(a.prefix))),
            (
                "DNSNames",
                Some(if a.network == networks::DEFAULT {
                    Value::Null
                } else {
                    json::strs(&dns)
                })
            ),
        )
    };
    let default = s.net.as_ref().filter(|a| a.network == networks::DEFAULT);
    let top = |f: &dyn Fn(&crate::net::NetAttach) -> Value, empty: Value| default.map_or(empty, f);
    json::obj!(
        ("Ports", Some(ports)),
        (
            "Gateway",
            Some(top(
                &|a| json::str(&networks::fmt_ip(a.gateway)),
                json::str("")
            ))
        ),
        (
            "IPAddress",
            Some(top(&|a| json::str(&networks::fmt_ip(a.ip)), json::str("")))
        ),
        (
            "IPPrefixLen",
            Some(top(&|a| json::num(a.prefix), json::num(0)))
        ),
        (
            "MacAddress",
            Some(top(
                &|a| json::str(&host::fmt_mac(host::mac(a.ip))),
                json::str("")
            ))
        ),
        (
            "Networks",
            Some(Value::Obj(
                nets.iter()
                    .map(|a| (a.network.clone(), endpoint(a)))
                    .collect()
            ))
        ),
    )
}

/// docker's inspect output: a JSON array of the pretty-printed objects,
/// or with --format the template's result for each, one a line.
pub fn print_docs(docs: &[Value], fmt: Option<&Format>) -> Result<()> {
    let mut o = crate::rt::out();
    if let Some(f) = fmt {
        for d in docs {
            o.bytes(f.one(d)?.as_bytes());
            o.bytes(b"\n");
        }
        return Ok(());
    }
    o.bytes(b"[");
    for (n, d) in docs.iter().enumerate() {
        o.bytes(if n == 0 { b"\n  " } else { b",\n  " });
        // Indented one level, as an element of the array around it.
        o.bytes(json::pretty(d).replace('\n', "\n  ").as_bytes());
    }
    o.bytes(if docs.is_empty() { b"]\n" } else { b"\n]\n" });
    Ok(())
}

/// Each of `names` by `doc` (errors on stderr, one a line), printed as
/// inspect prints; 1 if any was missing.
pub fn inspect_each(
    names: &[&[u8]],
    fmt: Option<&Format>,
    mut doc: impl FnMut(&str) -> Result<Value>,
) -> Result<i32> {
    let mut all = Vec::new();
    let mut failed = false;
    for q in names {
        match doc(&String::from_utf8_lossy(q)) {
            Ok(v) => all.push(v),
            Err(e) => {
                crate::errln!("pocket: {}", e);
                failed = true;
            }
        }
    }
    print_docs(&all, fmt)?;
    Ok(if failed { 1 } else { 0 })
}

pub fn inspect(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("inspect", FLAGS, argv)? else {
        return Ok(0);
    };
    if p.rest.is_empty() {
        return Err(Error::bad("inspect", "", "needs at least one object"));
    }
    let fmt = format::flag(FLAGS, &p)?;
    let kind = p.value(FLAGS, "type").map(super::args::text);
    let kind = kind.as_deref();
    if !matches!(
        kind,
        None | Some("container" | "image" | "volume" | "network")
    ) {
        return Err(Error::bad(
            "inspect",
            String::from(kind.unwrap_or("")),
            "unknown --type: container, image, volume or network",
        ));
    }
    inspect_each(&p.rest, fmt.as_ref(), |q| match kind {
        Some("container") => container_doc(ctx, q),
        Some("image") => super::images::image_doc(ctx, q),
        Some("volume") => super::volume::volume_doc(ctx, q),
        Some("network") => super::network::network_doc(ctx, q),
        // docker's order: a container, else an image, a network, a volume.
        _ => container_doc(ctx, q)
            .or_else(|_| super::images::image_doc(ctx, q))
            .or_else(|_| super::network::network_doc(ctx, q))
            .or_else(|_| super::volume::volume_doc(ctx, q))
            .map_err(|_| Error::text(alloc::format!("No such object: {q}")).with_code(1)),
    })
}

/// Host pids of the processes in the pid namespace of `pid`.
pub fn processes(pid: i32) -> Vec<i32> {
    let Some(ns) = ns_link(pid) else {
        return Vec::new();
    };
    let Ok(d) = crate::sys::fd::open(c"/proc", libc::O_RDONLY | libc::O_DIRECTORY, 0) else {
        return Vec::new();
    };
    let mut out: Vec<i32> = fs::list_dir(&d)
        .unwrap_or_default()
        .iter()
        .filter_map(|e| e.name.parse::<i32>().ok())
        .filter(|&p| ns_link(p).as_ref() == Some(&ns))
        .collect();
    crate::rt::sort_by(&mut out, |a, b| a < b);
    out
}

fn ns_link(pid: i32) -> Option<Vec<u8>> {
    let p = alloc::ffi::CString::new(alloc::format!("/proc/{pid}/ns/pid")).ok()?;
    fs::readlinkat(libc::AT_FDCWD, &p).ok()
}
