//! `--userns auto[:size=N]` (podman's): each container a range of the
//! subordinate ids of the user "containers" that no other container
//! maps. The host's /etc/subuid and /etc/subgid are never touched: pocket
//! runs in a private mount namespace where files of the test's own are
//! bound over them.

mod common;
use common::checks::one_error_line;
use common::netns::Ns;
use common::snapshot::{assert_as_before, entries, quiet};
use common::*;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};

/// One test at a time: each compares the host's cgroups before and
/// after, which another test's containers would change.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// Binds the fake files over /etc/subuid and /etc/subgid, then runs the
/// rest. Where the host has no such file to bind over, /etc gets an
/// overlay (of this namespace only) that has it.
const SCRIPT: &str = r#"u=$1 g=$2 w=$3; shift 3
if [ ! -e /etc/subuid ] || [ ! -e /etc/subgid ]; then
  mkdir -p "$w/up" "$w/work" &&
  mount -t overlay overlay -o "lowerdir=/etc,upperdir=$w/up,workdir=$w/work" /etc &&
  touch /etc/subuid /etc/subgid || exit 99
fi
mount --bind "$u" /etc/subuid && mount --bind "$g" /etc/subgid || exit 99
exec "$@""#;

/// A test's stand-ins for /etc/subuid and /etc/subgid.
struct Ids(PathBuf, PathBuf, PathBuf);

impl Ids {
    fn new(r: &Root, tag: &str, subuid: &str, subgid: &str) -> Ids {
        let ids = Ids(
            r.0.join(format!("subuid-{tag}")),
            r.0.join(format!("subgid-{tag}")),
            r.0.join(format!("etc-{tag}")),
        );
        std::fs::write(&ids.0, subuid).unwrap();
        std::fs::write(&ids.1, subgid).unwrap();
        ids
    }

    fn cmd(&self, r: &Root, args: &[&str]) -> Command {
        let mut c = Command::new("unshare");
        c.env("POCKET_CONFIG", settings())
            .args(["-m", "--propagation", "private", "sh", "-c", SCRIPT, "sh"])
            .args([&self.0, &self.1, &self.2])
            .arg(bin())
            .arg("--root")
            .arg(&r.0)
            .args(args)
            .stdin(Stdio::null());
        c
    }

    /// `pocket --root R ARGS...` seeing these files.
    fn out(&self, r: &Root, args: &[&str]) -> Output {
        let o = self.cmd(r, args).output().expect("unshare (util-linux)");
        assert_ne!(
            o.status.code(),
            Some(99),
            "binding the fake files: {}",
            stderr(&o)
        );
        o
    }

    /// `run -d --userns auto ... sleep 100` on the test rootfs; the id.
    fn run_d(&self, r: &Root, extra: &[&str]) -> String {
        let rf = rootfs_str();
        let mut a = vec!["run", "-d", "--userns", "auto"];
        a.extend(extra);
        a.extend(["--rootfs", &rf, "sleep", "100"]);
        let o = self.out(r, &a);
        assert_eq!(o.status.code(), Some(0), "{a:?}: {}", stderr(&o));
        stdout(&o).trim().to_string()
    }
}

/// "inside outside count" lines of a uid_map or gid_map.
fn maps(text: &str) -> Vec<[u64; 3]> {
    text.lines()
        .map(|l| {
            let v: Vec<u64> = l.split_whitespace().map(|n| n.parse().unwrap()).collect();
            [v[0], v[1], v[2]]
        })
        .collect()
}

/// A running container's (uid_map, gid_map), as it sees them.
fn maps_of(r: &Root, id: &str) -> ([u64; 3], [u64; 3]) {
    let o = r.out(&[
        "exec",
        id,
        "cat",
        "/proc/self/uid_map",
        "/proc/self/gid_map",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let m = maps(&stdout(&o));
    assert_eq!(m.len(), 2, "one line each: {m:?}");
    (m[0], m[1])
}

/// `run --rm ... cat /proc/self/uid_map /proc/self/gid_map`: the maps a
/// foreground container sees.
fn maps_run(ids: &Ids, r: &Root, args: &[&str]) -> ([u64; 3], [u64; 3]) {
    let mut a = vec!["run", "--rm"];
    a.extend(args);
    a.extend(["cat", "/proc/self/uid_map", "/proc/self/gid_map"]);
    let o = ids.out(r, &a);
    assert_eq!(o.status.code(), Some(0), "{a:?}: {}", stderr(&o));
    let m = maps(&stdout(&o));
    assert_eq!(m.len(), 2, "one line each: {m:?}");
    (m[0], m[1])
}

fn disjoint(a: [u64; 3], b: [u64; 3]) -> bool {
    a[1] + a[2] <= b[1] || b[1] + b[2] <= a[1]
}

#[test]
fn each_container_gets_a_range_of_its_own() {
    if !root() {
        return;
    }
    let _one = one();
    let r = Root::new("userns-auto");
    let ns = Ns::new();
    let before = quiet(&ns, &r);
    let ids = Ids::new(
        &r,
        "pool",
        "# the pool\nalice:100000:65536\ncontainers:200000:100000\n",
        "containers:400000:100000\nbob:900000:10\n",
    );
    let rf = rootfs_str();
    // Root's map taken first by hand: auto leaves it alone. Its gids
    // (the same numbers) are outside the subgid pool.
    let explicit = r.run_d(&["--uidmap", "0:200000:1000", "sleep", "100"]);
    // Two at once: one range each, side by side, 1024 ids (the rootfs
    // names root and nobody only), root inside the range's start outside.
    let a = ids.run_d(&r, &[]);
    let b = ids.run_d(&r, &[]);
    assert_eq!(maps_of(&r, &a), ([0, 201000, 1024], [0, 400000, 1024]));
    assert_eq!(maps_of(&r, &b), ([0, 202024, 1024], [0, 401024, 1024]));
    assert_eq!(common::user::uid_of(r.pid(&a)) as u64, 201000);
    assert_eq!(common::user::uid_of(r.pid(&b)) as u64, 202024);
    // size=N, after them.
    let sized = ["--userns", "auto:size=2000", "--rootfs", &rf];
    assert_eq!(
        maps_run(&ids, &r, &sized),
        ([0, 203048, 2000], [0, 402048, 2000])
    );
    // A numeric -u counts: it must be mapped.
    let o = ids.out(
        &r,
        &[
            "run",
            "--rm",
            "--userns",
            "auto",
            "-u",
            "3000",
            "--rootfs",
            &rf,
            "sh",
            "-c",
            "id -u; cat /proc/self/uid_map",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.lines().next(), Some("3000"), "{out}");
    assert_eq!(
        maps(&out.lines().skip(1).collect::<Vec<_>>().join("\n")),
        [[0, 203048, 3001]]
    );
    // A rootfs whose /etc/passwd names uid 1500: 1501 ids.
    let big = r.0.join("rootfs-1500");
    let st = Command::new("cp")
        .arg("-a")
        .arg(rootfs())
        .arg(&big)
        .status()
        .unwrap();
    assert!(st.success());
    let passwd = big.join("etc/passwd");
    let mut p = std::fs::read_to_string(&passwd).unwrap();
    p.push_str("app:x:1500:1500:app:/:/bin/sh\n");
    std::fs::write(&passwd, p).unwrap();
    assert_eq!(
        maps_run(
            &ids,
            &r,
            &["--userns", "auto", "--rootfs", big.to_str().unwrap()]
        ),
        ([0, 203048, 1501], [0, 402048, 1501])
    );
    // Gone, its range is free for the next.
    assert_eq!(r.out(&["rm", "-f", &a]).status.code(), Some(0));
    assert_eq!(
        maps_run(&ids, &r, &["--userns", "auto", "--rootfs", &rf]),
        ([0, 201000, 1024], [0, 400000, 1024])
    );
    // A created container holds its range before it starts, and keeps it.
    let o = ids.out(
        &r,
        &[
            "create", "--userns", "auto", "--rootfs", &rf, "sleep", "100",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let c = stdout(&o).trim().to_string();
    assert_eq!(
        maps_run(&ids, &r, &["--userns", "auto", "--rootfs", &rf]),
        ([0, 203048, 1024], [0, 402048, 1024])
    );
    assert_eq!(r.out(&["start", &c]).status.code(), Some(0));
    assert_eq!(maps_of(&r, &c), ([0, 201000, 1024], [0, 400000, 1024]));
    for id in [&explicit, &b, &c] {
        assert_eq!(r.out(&["rm", "-f", id]).status.code(), Some(0));
    }
    assert_as_before(&ns, &r, &before, "left behind");
}

#[test]
fn an_image_is_sized_by_its_users() {
    if !root() {
        return;
    }
    let _one = one();
    if let Err(why) = common::features::overlay_fd_layers() {
        common::features::skip("userns auto image layers", &why);
        return;
    }
    let r = Root::new("userns-auto-image");
    for t in ["busybox-docker.tar", "user-docker.tar"] {
        let o = r.out(&["load", "-i", &format!("{}/{t}", test_images().display())]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let ns = Ns::new();
    let before = quiet(&ns, &r);
    let ids = Ids::new(
        &r,
        "pool",
        "containers:300000:200000\n",
        "containers:300000:200000\n",
    );
    // Root of the image owns its files, and writes as the range's start.
    let o = ids.out(
        &r,
        &[
            "run",
            "--name",
            "img",
            "--userns",
            "auto",
            "busybox",
            "sh",
            "-c",
            "cat /proc/self/uid_map; stat -c '%u:%g' /etc/passwd; echo hi > /etc/new && echo wrote",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let l: Vec<&str> = out.lines().collect();
    assert_eq!(maps(l[0]), [[0, 300000, 1024]], "{out}");
    assert_eq!(&l[1..], ["0:0", "wrote"], "{out}");
    let id = stdout(&r.out(&["inspect", "-f", "{{.Id}}", "img"]))
        .trim()
        .to_string();
    let m = std::fs::metadata(r.0.join("containers").join(&id).join("upper/etc/new")).unwrap();
    assert_eq!((m.uid(), m.gid()), (300000, 300000));
    // An image whose user is nobody: 65535 ids, or it could not run.
    let o = ids.out(&r, &["run", "--rm", "--userns", "auto", "withuser:1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "ep: default args\n");
    let o = ids.out(
        &r,
        &[
            "run",
            "--rm",
            "--userns",
            "auto",
            "--entrypoint",
            "",
            "withuser:1",
            "sh",
            "-c",
            "id -u; cat /proc/self/uid_map",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.lines().next(), Some("65534"), "{out}");
    assert_eq!(
        maps(out.lines().nth(1).unwrap()),
        [[0, 301024, 65535]],
        "{out}"
    );
    assert_eq!(r.out(&["rm", "img"]).status.code(), Some(0));
    assert_as_before(&ns, &r, &before, "left behind");
}

#[test]
fn refusals_are_125_and_leave_nothing() {
    if !root() {
        return;
    }
    let _one = one();
    let r = Root::new("userns-auto-bad");
    let ns = Ns::new();
    let rf = rootfs_str();
    // A pool of 2000: one container of 1024 fills it.
    let ids = Ids::new(
        &r,
        "pool",
        "containers:500000:2000\n",
        "containers:500000:2000\n",
    );
    let first = ids.run_d(&r, &[]);
    let before = quiet(&ns, &r);
    let no_uids = Ids::new(
        &r,
        "no-uids",
        "alice:100000:65536\ncontainersx:1:2\n",
        "containers:500000:2000\n",
    );
    let no_gids = Ids::new(&r, "no-gids", "containers:500000:2000\n", "");
    let exact_uid =
        "pocket: --userns auto: no subuid ranges found for user \"containers\" in /etc/subuid\n";
    let exact_gid =
        "pocket: --userns auto: no subgid ranges found for user \"containers\" in /etc/subgid\n";
    let cases: Vec<(&Ids, Vec<&str>, &str)> = vec![
        (&no_uids, vec!["--userns", "auto"], exact_uid),
        (&no_gids, vec!["--userns", "auto"], exact_gid),
        (&ids, vec!["--userns", "auto"], "no free range of 1024 ids"),
        (
            &ids,
            vec!["--userns", "auto:size=977"],
            "no free range of 977 ids",
        ),
        (&ids, vec!["--userns", "auto:size=0"], "invalid --userns"),
        (
            &ids,
            vec!["--userns", "auto:uidmapping=0:1:1"],
            "invalid --userns",
        ),
        (&ids, vec!["--userns", "auto:"], "invalid --userns"),
        (&ids, vec!["--userns", "keep-id"], "invalid --userns"),
        (
            &ids,
            vec!["--userns", "auto", "--uidmap", "0:1:10"],
            "not with --uidmap",
        ),
        (
            &ids,
            vec!["--userns", "auto", "--gidmap", "0:1:10"],
            "not with --uidmap",
        ),
        (
            &ids,
            vec!["--userns", "auto", "--net", "host"],
            "--net host",
        ),
        (
            &ids,
            vec!["--userns", "auto", "--pid", "host"],
            "--pid host",
        ),
        (
            &ids,
            vec!["--userns", "auto", "-u", "70000"],
            "needs 70001 ids",
        ),
    ];
    for (files, args, what) in cases {
        for verb in ["run", "create"] {
            let mut a = vec![verb, "--name", "bad"];
            a.extend(&args);
            a.extend(["--rootfs", &rf, "true"]);
            let o = files.out(&r, &a);
            assert_eq!(o.status.code(), Some(125), "{a:?}: {}", stderr(&o));
            one_error_line(&o, &format!("{a:?}"));
            if what.starts_with("pocket: ") {
                assert_eq!(stderr(&o), what, "{a:?}");
            } else {
                assert!(stderr(&o).contains(what), "{a:?}: {}", stderr(&o));
            }
        }
    }
    // Nothing made: no container but the first, no state of any other.
    let o = r.out(&["ps", "-aq", "--no-trunc"]);
    assert_eq!(stdout(&o).trim(), first);
    assert_eq!(entries(&r.0.join("containers")), [first.clone()]);
    assert_eq!(entries(&r.0.join("run/containers")), [first.clone()]);
    assert_as_before(&ns, &r, &before, "left behind");
    // Still fits: the rest of the pool.
    let o = ids.out(
        &r,
        &[
            "run",
            "--rm",
            "--userns",
            "auto:size=976",
            "--rootfs",
            &rf,
            "cat",
            "/proc/self/uid_map",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(maps(&stdout(&o)), [[0, 501024, 976]]);
    assert_eq!(r.out(&["rm", "-f", &first]).status.code(), Some(0));
}

#[test]
fn parallel_runs_get_disjoint_ranges() {
    if !root() {
        return;
    }
    let _one = one();
    let r = Root::new("userns-auto-parallel");
    let ns = Ns::new();
    let before = quiet(&ns, &r);
    let ids = Ids::new(
        &r,
        "pool",
        "containers:600000:65536\n",
        "containers:700000:65536\n",
    );
    let rf = rootfs_str();
    let children: Vec<_> = (0..4)
        .map(|_| {
            ids.cmd(
                &r,
                &[
                    "run", "-d", "--userns", "auto", "--rootfs", &rf, "sleep", "100",
                ],
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    let started: Vec<String> = children
        .into_iter()
        .map(|c| {
            let o = c.wait_with_output().unwrap();
            assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
            stdout(&o).trim().to_string()
        })
        .collect();
    let got: Vec<_> = started.iter().map(|id| maps_of(&r, id)).collect();
    for (i, a) in got.iter().enumerate() {
        assert_eq!(a.0[2], 1024, "{got:?}");
        assert!((600000..600000 + 4 * 1024).contains(&a.0[1]), "{got:?}");
        assert!((700000..700000 + 4 * 1024).contains(&a.1[1]), "{got:?}");
        for b in &got[i + 1..] {
            assert!(disjoint(a.0, b.0) && disjoint(a.1, b.1), "{got:?}");
        }
    }
    for id in &started {
        assert_eq!(r.out(&["rm", "-f", id]).status.code(), Some(0));
    }
    assert_as_before(&ns, &r, &before, "left behind");
}

#[test]
fn a_plain_user_is_refused() {
    if !root() {
        return;
    }
    // (Its pocket's pipes count as this process's fds.)
    let _one = one();
    // With a subordinate range of its own: what is refused is auto itself.
    let u = common::user::User::new("ua", true);
    let o = u.out(&[
        "run",
        "--rm",
        "--userns",
        "auto",
        "--rootfs",
        u.rootfs(),
        "true",
    ]);
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    one_error_line(&o, "a plain user's --userns auto");
    assert!(
        stderr(&o).contains("--userns auto: needs root"),
        "{}",
        stderr(&o)
    );
    assert_eq!(stdout(&u.out(&["ps", "-aq"])), "");
}
