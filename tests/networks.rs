//! `pocket network create|ls|inspect|rm`. Every test runs pocket inside a
//! network namespace of its own (held by an `unshare -n sleep`), so the
//! bridges, addresses and nf_tables rules it makes live and die there and
//! the host's interfaces and tables are never touched.

mod common;
use common::netns::Ns;
use common::*;
use std::process::{Child, Output, Stdio};

fn ok(o: &Output, what: &str) -> String {
    assert_eq!(o.status.code(), Some(0), "{what}: {}", stderr(o));
    stdout(o)
}

/// The JSON files under <root>/networks.
fn files(r: &Root) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(r.0.join("networks"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn inspect(ns: &Ns, r: &Root, name: &str) -> pocket::json::Value {
    let out = ok(&ns.pocket(r, &["network", "inspect", name]), "inspect");
    let v = pocket::json::parse(out.as_bytes()).expect("inspect prints JSON");
    v.arr().expect("an array")[0].clone()
}

/// `pocket inspect CONTAINER`, parsed (the first element).
fn inspect_c(ns: &Ns, r: &Root, name: &str) -> pocket::json::Value {
    let out = ok(&ns.pocket(r, &["inspect", name]), "inspect");
    pocket::json::parse(out.as_bytes()).unwrap().arr().unwrap()[0].clone()
}

fn get<'a>(v: &'a pocket::json::Value, path: &[&str]) -> &'a pocket::json::Value {
    path.iter()
        .fold(v, |v, k| v.get(k).unwrap_or_else(|| panic!("{k} in {v:?}")))
}

#[test]
fn create_ls_inspect_rm() {
    if !root() {
        return;
    }
    let ns = Ns::new();
    let r = Root::new("net-cycle");
    let id = ok(&ns.pocket(&r, &["network", "create", "alpha"]), "create");
    let id = id.trim();
    assert!(
        id.len() == 64 && id.bytes().all(|c| c.is_ascii_hexdigit()),
        "{id:?}"
    );
    let br = format!("pk-{}", &id[..8]);
    // The bridge is real, up, with the gateway on it; and only in the test
    // namespace, never on the host.
    assert!(ns.links().contains(&br), "{:?}", ns.links());
    assert_eq!(ns.addrs(&br), ["10.89.0.1/24"]);
    assert!(ns.is_up(&br));
    assert!(!std::path::Path::new("/sys/class/net").join(&br).exists());
    assert_eq!(files(&r), ["alpha.json"]);

    let ls = ok(&ns.pocket(&r, &["network", "ls"]), "ls");
    let lines: Vec<&str> = ls.lines().collect();
    assert_eq!(lines.len(), 2, "{ls}");
    assert!(lines[0].starts_with("NETWORK ID") && lines[0].contains("NAME"));
    let row: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(row, [&id[..12], "alpha", "bridge", "local"]);
    assert_eq!(
        ok(&ns.pocket(&r, &["network", "ls", "-q"]), "ls -q"),
        format!("{}\n", &id[..12])
    );
    assert_eq!(
        ok(
            &ns.pocket(&r, &["network", "ls", "-q", "--no-trunc"]),
            "ls -q"
        ),
        format!("{id}\n")
    );

    let v = inspect(&ns, &r, "alpha");
    assert_eq!(get(&v, &["Name"]).str(), Some("alpha"));
    assert_eq!(get(&v, &["Id"]).str(), Some(id));
    assert_eq!(get(&v, &["Driver"]).str(), Some("bridge"));
    let cfg = &get(&v, &["IPAM", "Config"]).arr().unwrap()[0];
    assert_eq!(
        cfg.get("Subnet").and_then(|s| s.str()),
        Some("10.89.0.0/24")
    );
    assert_eq!(cfg.get("Gateway").and_then(|s| s.str()), Some("10.89.0.1"));
    assert_eq!(get(&v, &["Containers"]), &pocket::json::Value::Obj(vec![]));
    // By id prefix too; an unknown one is exit 1 and still prints the rest.
    assert_eq!(
        get(&inspect(&ns, &r, &id[..6]), &["Name"]).str(),
        Some("alpha")
    );
    let o = ns.pocket(&r, &["network", "inspect", "alpha", "nope"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("no such network nope"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        pocket::json::parse(&o.stdout).unwrap().arr().unwrap().len(),
        1
    );

    // A second network with its own subnet and gateway, then both removed.
    let o = ns.pocket(
        &r,
        &[
            "network",
            "create",
            "--subnet",
            "10.123.0.0/16",
            "--gateway",
            "10.123.4.5",
            "beta",
        ],
    );
    let id2 = ok(&o, "create beta").trim().to_string();
    let br2 = format!("pk-{}", &id2[..8]);
    assert_eq!(ns.addrs(&br2), ["10.123.4.5/16"]);
    let o = ns.pocket(&r, &["network", "rm", "alpha", "beta"]);
    assert_eq!(ok(&o, "rm"), "alpha\nbeta\n");
    assert!(
        !ns.links().contains(&br) && !ns.links().contains(&br2),
        "{:?}",
        ns.links()
    );
    assert!(
        files(&r)
            .iter()
            .all(|f| !f.ends_with(".json") || f.starts_with('_')),
        "{:?}",
        files(&r)
    );
    assert_eq!(ok(&ns.pocket(&r, &["network", "ls", "-q"]), "ls"), "");
    let o = ns.pocket(&r, &["network", "rm", "alpha"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o), "pocket: no such network alpha: not found\n");
}

#[test]
fn nf_tables_follow_the_networks() {
    if !root() {
        return;
    }
    let ns = Ns::new();
    let r = Root::new("net-nft");
    ok(
        &ns.pocket(
            &r,
            &["network", "create", "--subnet", "10.124.0.0/24", "n1"],
        ),
        "create",
    );
    let t = ns.table().expect("table ip pocket after create");
    assert!(
        t.contains("10.124.0.0/24") && t.contains("masquerade"),
        "{t}"
    );
    assert_eq!(ns.sh("cat /proc/sys/net/ipv4/ip_forward").trim(), "1");
    ok(
        &ns.pocket(
            &r,
            &["network", "create", "--subnet", "10.125.0.0/24", "n2"],
        ),
        "create",
    );
    let t = ns.table().unwrap();
    assert!(
        t.contains("10.124.0.0/24") && t.contains("10.125.0.0/24"),
        "{t}"
    );
    ok(&ns.pocket(&r, &["network", "rm", "n1"]), "rm");
    let t = ns.table().unwrap();
    assert!(
        !t.contains("10.124.0.0/24") && t.contains("10.125.0.0/24"),
        "{t}"
    );
    // The last network takes the table with it.
    ok(&ns.pocket(&r, &["network", "rm", "n2"]), "rm");
    assert_eq!(ns.table(), None);
}

#[test]
fn overlapping_subnets_are_refused() {
    if !root() {
        return;
    }
    let ns = Ns::new();
    let r = Root::new("net-overlap");
    ok(
        &ns.pocket(
            &r,
            &["network", "create", "--subnet", "10.126.0.0/16", "first"],
        ),
        "create",
    );
    let links = ns.links();
    for (sub, why) in [
        (
            "10.126.7.0/24",
            "subnet 10.126.7.0/24 overlaps network first (10.126.0.0/16)",
        ),
        (
            "10.0.0.0/8",
            "subnet 10.0.0.0/8 overlaps network first (10.126.0.0/16)",
        ),
        (
            "10.126.0.0/16",
            "subnet 10.126.0.0/16 overlaps network first (10.126.0.0/16)",
        ),
    ] {
        let o = ns.pocket(&r, &["network", "create", "--subnet", sub, "second"]);
        assert_eq!(o.status.code(), Some(125), "{sub}");
        assert_eq!(
            stderr(&o),
            format!("pocket: network create second: {why}\n")
        );
        assert_eq!(files(&r), ["first.json"]);
        assert_eq!(ns.links(), links);
    }
    // The host's own routes count as taken too: a LAN on a veth.
    ns.sh("ip link add pkt-lan type veth peer name pkt-lan1 && ip addr add 10.89.0.7/24 dev pkt-lan && ip link set pkt-lan1 up && ip link set pkt-lan up");
    let o = ns.pocket(
        &r,
        &["network", "create", "--subnet", "10.89.0.128/25", "lan"],
    );
    assert_eq!(o.status.code(), Some(125));
    assert_eq!(
        stderr(&o),
        "pocket: network create lan: subnet 10.89.0.128/25 overlaps the host's route to 10.89.0.0/24\n"
    );
    // ...and an automatic pick steps over it.
    ok(
        &ns.pocket(&r, &["network", "create", "auto"]),
        "create auto",
    );
    let v = inspect(&ns, &r, "auto");
    let cfg = &get(&v, &["IPAM", "Config"]).arr().unwrap()[0];
    assert_eq!(
        cfg.get("Subnet").and_then(|s| s.str()),
        Some("10.89.1.0/24")
    );
    // Same name twice.
    let o = ns.pocket(&r, &["network", "create", "auto"]);
    assert_eq!(o.status.code(), Some(125));
    assert!(stderr(&o).contains("already exists"), "{}", stderr(&o));
    ok(&ns.pocket(&r, &["network", "rm", "first", "auto"]), "rm");
}

#[test]
fn bad_subnet_gateway_and_names_fail_cleanly() {
    if !root() {
        return;
    }
    let ns = Ns::new();
    let r = Root::new("net-bad");
    let links = ns.links();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--subnet", "10.1.2.3/24", "n1"],
            "invalid --subnet 10.1.2.3/24: host bits are set; the network is 10.1.2.0/24",
        ),
        (
            &["--subnet", "10.1.2.0", "n1"],
            "invalid --subnet 10.1.2.0: expected an IPv4 CIDR",
        ),
        (&["--subnet", "10.1.2.0/33", "n1"], "invalid --subnet"),
        (&["--subnet", "fd00::/64", "n1"], "invalid --subnet"),
        (&["--subnet", "10.1.2.0/31", "n1"], "/30 at most"),
        (&["--subnet", "127.0.0.0/16", "n1"], "reserved"),
        (
            &["--subnet", "10.1.2.0/24", "--gateway", "10.1.3.1", "n1"],
            "invalid --gateway 10.1.3.1: not a host address of subnet 10.1.2.0/24",
        ),
        (
            &["--subnet", "10.1.2.0/24", "--gateway", "10.1.2.255", "n1"],
            "not a host address",
        ),
        (
            &["--subnet", "10.1.2.0/24", "--gateway", "10.1.2", "n1"],
            "invalid --gateway 10.1.2: expected an IPv4 address",
        ),
        (
            &["--gateway", "10.1.2.1", "n1"],
            "invalid --gateway 10.1.2.1: needs --subnet",
        ),
        (&["--subnet"], "flag needs an argument"),
        (&["--driver", "overlay", "n1"], "only bridge"),
        (&["--frob", "n1"], "unknown flag"),
        (&["x"], "invalid network name x"),
        (&["../up"], "invalid network name"),
        (&["host"], "predefined"),
        (&[], "needs a network name"),
        (&["n1", "n2"], "takes exactly one network name"),
    ];
    for (args, want) in cases {
        let mut a = vec!["network", "create"];
        a.extend_from_slice(args);
        let o = ns.pocket(&r, &a);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(125), "{args:?}: {e}");
        assert!(
            e.starts_with("pocket: ") && e.contains(want),
            "{args:?}: {e}"
        );
        assert_eq!(e.lines().count(), 1, "{e}");
        assert!(stdout(&o).is_empty());
        assert!(
            files(&r).iter().all(|f| !f.ends_with(".json")),
            "{args:?}: {:?}",
            files(&r)
        );
        assert_eq!(ns.links(), links, "{args:?}");
    }
    let o = ns.pocket(&r, &["network", "frob"]);
    assert_eq!(o.status.code(), Some(125));
    let o = ns.pocket(&r, &["network", "rm"]);
    assert_eq!(o.status.code(), Some(125));
}

#[test]
fn rm_refused_while_a_container_is_attached() {
    if !root() {
        return;
    }
    let ns = Ns::new();
    let r = Root::new("net-busy");
    let nid = ok(
        &ns.pocket(
            &r,
            &["network", "create", "--subnet", "10.127.0.0/24", "busy"],
        ),
        "create",
    );
    let br = format!("pk-{}", &nid.trim()[..8]);
    // An exited container (not removed) still holds its address.
    let o = ns.pocket(
        &r,
        &[
            "run",
            "--name",
            "holder",
            "--net",
            "busy",
            "--ip",
            "10.127.0.2",
            "--rootfs",
            &rootfs_str(),
            "true",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let id = stdout(&r.out(&["ps", "-aq", "--no-trunc"]))
        .trim()
        .to_string();
    assert_eq!(id.len(), 64);
    // (On it for real: an address the container's own Spec does not list
    // is a killed connect's leftover, no endpoint: tests/crash.rs.)

    let v = inspect(&ns, &r, "busy");
    let ep = get(&v, &["Containers", &id]);
    assert_eq!(
        ep.get("IPv4Address").and_then(|s| s.str()),
        Some("10.127.0.2/24")
    );
    assert_eq!(ep.get("Name").and_then(|s| s.str()), Some("holder"));

    let o = ns.pocket(&r, &["network", "rm", "busy"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        format!(
            "pocket: network rm busy: network has active endpoints: [{}]\n",
            &id[..12]
        )
    );
    assert!(ns.links().contains(&br));
    // (_ports.json: the run's port table, empty, as any bridge run's.)
    let f = files(&r);
    assert!(
        f == ["busy.json"] || f == ["_ports.json", "busy.json"],
        "{f:?}"
    );

    // Once the container is gone its allocation no longer counts. (In the
    // test's namespace: the removal rewrites pocket's nf_tables table,
    // which from the host's would make one there.)
    ok(&ns.pocket(&r, &["rm", &id]), "rm container");
    let v = inspect(&ns, &r, "busy");
    assert_eq!(get(&v, &["Containers"]), &pocket::json::Value::Obj(vec![]));
    ok(&ns.pocket(&r, &["network", "rm", "busy"]), "network rm");
    assert!(!ns.links().contains(&br));
    assert!(
        files(&r).is_empty() || files(&r) == ["_ports.json"],
        "{:?}",
        files(&r)
    );
}

#[test]
fn parallel_creates_get_distinct_subnets() {
    if !root() {
        return;
    }
    let ns = Ns::new();
    let r = Root::new("net-par");
    let ps: Vec<Child> = (0..10)
        .map(|i| {
            ns.cmd(&bin())
                .arg("--root")
                .arg(&r.0)
                .args(["network", "create", &format!("p{i}")])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for p in ps {
        let o = p.wait_with_output().unwrap();
        ok(&o, "parallel create");
    }
    let mut subs = vec![];
    for i in 0..10 {
        let v = inspect(&ns, &r, &format!("p{i}"));
        let cfg = &get(&v, &["IPAM", "Config"]).arr().unwrap()[0];
        subs.push(cfg.get("Subnet").unwrap().str().unwrap().to_string());
    }
    subs.sort();
    subs.dedup();
    assert_eq!(subs.len(), 10, "{subs:?}");
    assert_eq!(
        ns.links().iter().filter(|l| l.starts_with("pk-")).count(),
        10
    );
    let names: Vec<String> = (0..10).map(|i| format!("p{i}")).collect();
    let mut a = vec!["network", "rm"];
    a.extend(names.iter().map(|s| s.as_str()));
    ok(&ns.pocket(&r, &a), "rm all");
    assert_eq!(
        ns.links().iter().filter(|l| l.starts_with("pk-")).count(),
        0
    );
}

/// `network prune`: the networks no container is on go (bridges too),
/// one with a container stays; the question unless -f.
#[test]
fn prune_removes_networks_without_containers() {
    if !root() {
        return;
    }
    let ns = Ns::new();
    let r = Root::new("net-prune");
    for n in ["used", "idle1", "idle2"] {
        ok(&ns.pocket(&r, &["network", "create", n]), "create");
    }
    let rootfs = rootfs().to_str().unwrap().to_string();
    let id = ok(
        &ns.pocket(
            &r,
            &[
                "run", "-d", "--net", "used", "--rootfs", &rootfs, "sleep", "30",
            ],
        ),
        "run",
    );
    let id = id.trim();
    let bridges = |ns: &Ns| {
        ns.links()
            .into_iter()
            .filter(|l| l.starts_with("pk-"))
            .count()
    };
    assert_eq!(bridges(&ns), 3);
    // Without -f and no answer: nothing.
    let o = ns.pocket(&r, &["network", "prune"]);
    assert_eq!(
        stdout(&o),
        "WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] "
    );
    let nets = |r: &Root| files(r).into_iter().filter(|f| !f.starts_with('_')).count();
    assert_eq!(nets(&r), 3, "{:?}", files(&r));
    let out = ok(&ns.pocket(&r, &["network", "prune", "-f"]), "prune");
    assert_eq!(out, "Deleted Networks:\nidle1\nidle2\n\n");
    assert_eq!(nets(&r), 1, "{:?}", files(&r));
    assert_eq!(bridges(&ns), 1);
    ok(&ns.pocket(&r, &["rm", "-f", id]), "rm");
    assert_eq!(
        ok(&ns.pocket(&r, &["network", "prune", "-f"]), "prune"),
        "Deleted Networks:\nused\n\n"
    );
    assert_eq!(bridges(&ns), 0);
}

/// Whether an /etc/hosts text gives an address for `name` (a whole name
/// on a line, not a piece of a hex id such as `68dbe63dec63`).
fn has_name(hosts: &str, name: &str) -> bool {
    hosts
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .any(|l| l.split_whitespace().skip(1).any(|n| n == name))
}

/// Containers on a user network find each other by name, short id and
/// --network-alias (their /etc/hosts, kept in sync by pocket under the
/// networks lock); network connect adds a second interface and the
/// names of that network, disconnect takes both away; rm and rename
/// follow. The default network resolves no names, as docker's.
#[test]
fn names_resolve_on_user_networks_and_connect_disconnect() {
    if !root() {
        return;
    }
    let ns = Ns::new();
    let r = Root::new("net-dns");
    for (name, subnet) in [("front", "10.131.0.0/24"), ("back", "10.132.0.0/24")] {
        ok(
            &ns.pocket(&r, &["network", "create", "--subnet", subnet, name]),
            "create",
        );
    }
    let rootfs = rootfs_str();
    let run = |args: &[&str]| {
        let mut v = vec!["run", "-d"];
        v.extend(args);
        v.extend(["--rootfs", &rootfs, "sleep", "60"]);
        let o = ns.pocket(&r, &v);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        stdout(&o).trim().to_string()
    };
    let db = run(&[
        "--name",
        "db",
        "--net",
        "back",
        "--network-alias",
        "database",
    ]);
    run(&["--name", "api", "--net", "back"]);
    let web = run(&["--name", "web", "--net", "front"]);
    let exec = |c: &str, script: &str| {
        let o = ns.pocket(&r, &["exec", c, "sh", "-c", script]);
        (o.status.code(), stdout(&o))
    };
    // api reaches db by name and alias (ping: a real packet on the bridge).
    for name in ["db", "database", &db[..12]] {
        let (code, out) = exec("api", &format!("ping -c 1 -W 2 {name}"));
        assert_eq!(code, Some(0), "ping {name}: {out}");
        assert!(out.contains("10.132.0."), "{out}");
    }
    // inspect: the endpoint as docker shows it, checked against the
    // container's own eth0.
    let v = inspect_c(&ns, &r, "api");
    let ep = get(&v, &["NetworkSettings", "Networks", "back"]);
    let ip = ep
        .get("IPAddress")
        .and_then(|s| s.str())
        .unwrap()
        .to_string();
    let mac = ep
        .get("MacAddress")
        .and_then(|s| s.str())
        .unwrap()
        .to_string();
    let (_, inside) = exec(
        "api",
        "cat /sys/class/net/eth0/address; ip -4 -o addr show dev eth0",
    );
    assert!(
        inside.starts_with(&mac) && inside.contains(&format!("{ip}/24")),
        "{mac} {ip}: {inside}"
    );
    assert_eq!(ep.get("Gateway").and_then(|s| s.str()), Some("10.132.0.1"));
    assert_eq!(
        get(&v, &["NetworkSettings", "IPAddress"]).str(),
        Some(""),
        "user network: none at the top"
    );
    // web is on another network: no name for db.
    let (_, hosts) = exec("web", "cat /etc/hosts");
    assert!(!has_name(&hosts, "db"), "{hosts}");
    // connect: web gets eth1 on back, and the names there.
    ok(
        &ns.pocket(
            &r,
            &["network", "connect", "--alias", "frontend", "back", "web"],
        ),
        "connect",
    );
    let (code, out) = exec("web", "ip -4 -o addr show dev eth1");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("10.132.0."), "{out}");
    let (code, out) = exec("web", "ping -c 1 -W 2 db");
    assert_eq!(code, Some(0), "{out}");
    let (code, _) = exec("db", "ping -c 1 -W 2 frontend");
    assert_eq!(code, Some(0), "db reaches web by its alias on back");
    let v = inspect(&ns, &r, "back");
    assert!(
        get(&v, &["Containers"]).get(&web).is_some(),
        "web listed on back"
    );
    // Connecting twice is docker's error.
    let o = ns.pocket(&r, &["network", "connect", "back", "web"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("already exists in network back"),
        "{}",
        stderr(&o)
    );
    // rename and rm follow in the others' files.
    ok(&ns.pocket(&r, &["rename", "api", "api2"]), "rename");
    let (_, hosts) = exec("db", "cat /etc/hosts");
    assert!(
        hosts.contains("api2") && !hosts.contains("\tapi ") && !hosts.ends_with(" api\n"),
        "{hosts}"
    );
    ok(&ns.pocket(&r, &["rm", "-f", "api2"]), "rm");
    let (_, hosts) = exec("db", "cat /etc/hosts");
    assert!(!has_name(&hosts, "api2"), "{hosts}");
    // disconnect: the interface and the names go, the address comes back.
    ok(
        &ns.pocket(&r, &["network", "disconnect", "back", "web"]),
        "disconnect",
    );
    let (code, _) = exec("web", "ip link show eth1");
    assert_ne!(code, Some(0), "eth1 still there");
    let (_, hosts) = exec("web", "cat /etc/hosts");
    assert!(!has_name(&hosts, "db"), "{hosts}");
    let (_, hosts) = exec("db", "cat /etc/hosts");
    assert!(!has_name(&hosts, "frontend"), "{hosts}");
    let v = inspect(&ns, &r, "back");
    assert!(get(&v, &["Containers"]).get(&web).is_none());
    let o = ns.pocket(&r, &["network", "disconnect", "back", "web"]);
    assert_eq!(o.status.code(), Some(1));
    // Connected again, it keeps the network across a restart (eth1 again).
    ok(
        &ns.pocket(&r, &["network", "connect", "back", "web"]),
        "connect again",
    );
    ok(&ns.pocket(&r, &["restart", "-t", "0", "web"]), "restart");
    let (code, out) = exec("web", "ip -4 -o addr show dev eth1; ping -c 1 -W 2 db");
    assert_eq!(code, Some(0), "{out}");
    // A start in progress (another pocket's claim: a created record whose
    // claimant lives, here a `sleep` put in as one) is waited for, not
    // refused: disconnect goes through once the claimant is gone.
    ok(&ns.pocket(&r, &["stop", "-t", "0", "web"]), "stop");
    let mut claimant = std::process::Command::new("sleep")
        .arg("0.5")
        .spawn()
        .unwrap();
    let pid = claimant.id();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let start = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .nth(19)
        .unwrap()
        .to_string();
    // (the live record: on the run directory)
    let state = r.0.join("run/containers").join(&web).join("state.json");
    let text = std::fs::read_to_string(&state).unwrap();
    let text: Vec<String> = text
        .lines()
        .map(|l| match l.trim_start().split(':').next() {
            Some("\"status\"") => "  \"status\": \"created\",".to_string(),
            Some("\"monitor_pid\"") => format!("  \"monitor_pid\": {pid},"),
            Some("\"monitor_start\"") => format!("  \"monitor_start\": {start},"),
            _ => l.to_string(),
        })
        .collect();
    std::fs::write(&state, text.join("\n")).unwrap();
    let ps = stdout(&ns.pocket(
        &r,
        &["ps", "-a", "--filter", "name=web", "--format", "{{.State}}"],
    ));
    assert_eq!(ps, "created\n", "the claim did not take");
    ok(
        &ns.pocket(&r, &["network", "disconnect", "back", "web"]),
        "disconnect during a start",
    );
    assert!(
        claimant.try_wait().unwrap().is_some(),
        "disconnect did not wait for the start"
    );
    ok(&ns.pocket(&r, &["start", "web"]), "start");
    // Aliases need a user network.
    let o = ns.pocket(
        &r,
        &[
            "run",
            "--rm",
            "--network-alias",
            "x",
            "--rootfs",
            &rootfs_str(),
            "true",
        ],
    );
    assert_eq!(o.status.code(), Some(125));
    for c in [&db, &web] {
        ok(&ns.pocket(&r, &["rm", "-f", c]), "rm");
    }
}

/// $POCKET_CONFIG may hold the settings' JSON itself: `"bridge": "none"`
/// given inline leaves a container without --net on none (read as a file
/// name it would have meant no settings, and a bridge). In a namespace
/// of its own, so a failure cannot touch the host's network.
#[test]
fn inline_settings_in_pocket_config() {
    if !root() {
        return;
    }
    let ns = Ns::new();
    let r = Root::new("net-inline");
    let o = ns
        .cmd(&bin())
        .env("POCKET_CONFIG", r#" {"bridge": "none"}"#)
        .arg("--root")
        .arg(&r.0)
        .args([
            "run",
            "--rm",
            "--rootfs",
            &rootfs_str(),
            "ls",
            "/sys/class/net",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "lo\n");
    assert!(
        !ns.links().iter().any(|l| l == "pocket0"),
        "{:?}",
        ns.links()
    );
}
