//! Run options compose files use: --mount, -v ./relative, named volumes
//! filled from the image (copy-up), --shm-size, --pid/--ipc/--uts host,
//! --group-add, --cidfile, --domainname. Each checked inside the
//! container and from the host.

mod common;
use common::checks::*;
use common::*;

fn run(r: &Root, args: &[&str]) -> std::process::Output {
    let mut v = vec!["run", "--rm", "--rootfs", rootfs().to_str().unwrap()];
    v.extend(args);
    r.out(&v)
}

fn ok(o: std::process::Output) -> String {
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    stdout(&o)
}

#[test]
fn mount_flag_bind_volume_tmpfs_and_relative_paths() {
    if !root() {
        return;
    }
    let r = Root::new("mountflag");
    let host = r.0.join("hostdir");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("f"), "from host\n").unwrap();
    let src = format!("type=bind,src={},dst=/m,readonly", host.display());
    let out = ok(run(
        &r,
        &[
            "--mount",
            &src,
            "--mount",
            "type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1770",
            "--mount",
            "type=volume,src=mvol,dst=/v",
            "sh",
            "-c",
            "cat /m/f; touch /m/x 2>/dev/null && echo WROTE; df -k /t | tail -1 | awk '{print $2}'; stat -c %a /t; echo kept > /v/k",
        ],
    ));
    assert_eq!(out, "from host\n1024\n1770\n");
    assert!(!host.join("x").exists());
    // The volume is a named one, kept on the host after --rm.
    assert_eq!(
        std::fs::read_to_string(r.0.join("volumes/mvol/_data/k")).unwrap(),
        "kept\n"
    );
    // -v ./dir: relative to the caller's working directory.
    let mut c = r.cmd(&[
        "run",
        "--rm",
        "-v",
        "./hostdir:/relmount",
        "--rootfs",
        rootfs().to_str().unwrap(),
        "cat",
        "/relmount/f",
    ]);
    c.current_dir(&r.0);
    assert_eq!(stdout(&c.output().unwrap()), "from host\n");
    // Errors: docker's words, 125, nothing made.
    for (bad, words) in [
        (
            "type=bind,src=/no/such/dir,dst=/m",
            "bind source path does not exist",
        ),
        ("type=nfs,dst=/m", "unknown mount type"),
        ("type=volume,src=x", "target is required"),
        ("type=tmpfs,src=/a,dst=/t", "not allowed"),
        (
            "type=bind,src=/tmp,dst=/m,bind-propagation=shared",
            "propagation",
        ),
        ("type=volume,dst=/m,colour=red", "unexpected key"),
    ] {
        let o = run(&r, &["--mount", bad, "true"]);
        assert_eq!(o.status.code(), Some(125), "{bad}");
        one_error_line(&o, bad);
        assert!(stderr(&o).contains(words), "{bad}: {}", stderr(&o));
    }
    assert!(!std::path::Path::new("/no/such/dir").exists());
    assert_eq!(stdout(&r.out(&["volume", "ls", "-q"])), "mvol\n");
}

#[test]
fn named_volumes_are_filled_from_the_image_once() {
    if !root() {
        return;
    }
    let r = Root::new("copyup");
    ok(r.out(&[
        "load",
        "-q",
        "-i",
        test_images().join("busybox-docker.tar").to_str().unwrap(),
    ]));
    let image_etc = ok(r.out(&["run", "--rm", "busybox", "cat", "/etc/passwd"]));
    // First use: the image's /etc is copied in, owners and modes kept.
    let out = ok(r.out(&[
        "run",
        "--rm",
        "-v",
        "etcvol:/etc",
        "busybox",
        "sh",
        "-c",
        "cat /etc/passwd; echo extra >> /etc/passwd",
    ]));
    assert_eq!(out, image_etc);
    let on_host = r.0.join("volumes/etcvol/_data/passwd");
    assert!(
        std::fs::read_to_string(&on_host)
            .unwrap()
            .ends_with("extra\n")
    );
    // Not empty any more: never copied over again.
    let out = ok(r.out(&[
        "run",
        "--rm",
        "-v",
        "etcvol:/etc",
        "busybox",
        "tail",
        "-1",
        "/etc/passwd",
    ]));
    assert_eq!(out, "extra\n");
    // volume-nocopy: empty.
    let out = ok(r.out(&[
        "run",
        "--rm",
        "--mount",
        "type=volume,src=bare,dst=/etc,volume-nocopy",
        "busybox",
        "ls",
        "-A",
        "/etc",
    ]));
    assert!(!out.contains("passwd"), "{out}");
    // A path the image does not have: an empty volume, no error.
    let out = ok(r.out(&[
        "run",
        "--rm",
        "-v",
        "newvol:/nothing/here",
        "busybox",
        "ls",
        "-A",
        "/nothing/here",
    ]));
    assert_eq!(out, "");

    // A run that fails after its volumes were made (no such network)
    // leaves none behind: not the ones it made (anonymous, the image's,
    // named), and an empty one it filled is empty again.
    ok(r.out(&["volume", "create", "empty1"]));
    let before = ok(r.out(&["volume", "ls", "-q"]));
    let o = r.out(&[
        "run",
        "-v",
        "/data",
        "-v",
        "fresh1:/etc",
        "-v",
        "empty1:/bin",
        "--net",
        "nosuchnet",
        "busybox",
        "true",
    ]);
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    assert!(stderr(&o).contains("nosuchnet"), "{}", stderr(&o));
    assert_eq!(ok(r.out(&["volume", "ls", "-q"])), before);
    let left: Vec<_> = std::fs::read_dir(r.0.join("volumes/empty1/_data"))
        .unwrap()
        .collect();
    assert!(
        left.is_empty(),
        "the filled volume was not emptied: {left:?}"
    );
    assert_eq!(ok(r.out(&["ps", "-aq"])), "");
}

#[test]
fn namespaces_shm_groups_domain_and_cidfile() {
    if !root() {
        return;
    }
    let r = Root::new("runopts");
    // --shm-size: the tmpfs's size, seen inside.
    let out = ok(run(
        &r,
        &[
            "--shm-size",
            "128m",
            "sh",
            "-c",
            "df -k /dev/shm | tail -1 | awk '{print $2}'",
        ],
    ));
    assert_eq!(out, "131072\n");
    // --pid host: the host's pid 1 is visible; by default it is not.
    let host1 = std::fs::read_to_string("/proc/1/comm").unwrap();
    assert_eq!(
        ok(run(&r, &["--pid", "host", "cat", "/proc/1/comm"])),
        host1
    );
    assert_eq!(ok(run(&r, &["cat", "/proc/1/comm"])), "cat\n");
    // With the host's pid namespace a child outlives the init: it is
    // ended with the container (its cgroup emptied), not left behind.
    let left = ok(run(
        &r,
        &["--pid", "host", "sh", "-c", "sleep 100 & echo $!"],
    ));
    let left: i32 = left.trim().parse().unwrap();
    assert!(
        state(left).is_none_or(|s| s == 'Z'),
        "pid {left} still runs"
    );
    // --uts host: the host's name; --domainname: the container's own.
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(ok(run(&r, &["--uts", "host", "hostname"])), name);
    let domain_before = std::fs::read_to_string("/proc/sys/kernel/domainname").unwrap();
    assert_eq!(
        ok(run(
            &r,
            &[
                "--domainname",
                "example.test",
                "cat",
                "/proc/sys/kernel/domainname"
            ]
        )),
        "example.test\n"
    );
    assert_eq!(
        std::fs::read_to_string("/proc/sys/kernel/domainname").unwrap(),
        domain_before
    );
    // --ipc host: the host's /dev/shm; by default a private one.
    let marker = format!("/dev/shm/pocket-ipc-{}", std::process::id());
    std::fs::write(&marker, "shared\n").unwrap();
    let inside = format!("cat {marker}");
    let o = run(&r, &["--ipc", "host", "sh", "-c", &inside]);
    let private = run(&r, &["sh", "-c", &inside]);
    std::fs::remove_file(&marker).unwrap();
    assert_eq!(ok(o), "shared\n");
    assert_ne!(private.status.code(), Some(0));
    assert_eq!(
        ok(run(
            &r,
            &[
                "--ipc",
                "none",
                "sh",
                "-c",
                "test -d /dev/shm && echo yes || echo no"
            ]
        )),
        "no\n"
    );
    // --group-add: by number and by the container's group name.
    assert_eq!(
        ok(run(
            &r,
            &["--group-add", "tty", "--group-add", "1234", "id", "-G"]
        )),
        "0 5 1234\n"
    );
    // --cidfile: the id, written once; an existing file is refused.
    let cid = r.0.join("cid");
    let id = r.run_d(&["--cidfile", cid.to_str().unwrap(), "true"]);
    assert_eq!(std::fs::read_to_string(&cid).unwrap(), id);
    let o = r.out(&[
        "run",
        "-d",
        "--cidfile",
        cid.to_str().unwrap(),
        "--rootfs",
        rootfs().to_str().unwrap(),
        "true",
    ]);
    assert_eq!(o.status.code(), Some(125));
    assert!(
        stderr(&o).contains("Container ID file found"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        stdout(&r.out(&["ps", "-aq"])).lines().count(),
        1,
        "the refused run left a container"
    );
    // Bad values: 125, one line.
    for bad in [
        &["--pid", "nope"][..],
        &["--ipc", "weird"][..],
        &["--uts", "host", "-h", "x"][..],
        &["--shm-size", "lots"][..],
        &["--group-add", "nosuchgroup"][..],
        &["--uts", "host", "--domainname", "d"][..],
    ] {
        let mut v = bad.to_vec();
        v.push("true");
        let o = run(&r, &v);
        assert_eq!(o.status.code(), Some(125), "{bad:?}: {}", stderr(&o));
        one_error_line(&o, "bad run option");
    }
}

/// inspect's HostConfig and Config say what the flags asked for.
#[test]
fn inspect_shows_the_run_options() {
    if !root() {
        return;
    }
    let r = Root::new("runopts-inspect");
    let host = r.0.join("h");
    std::fs::create_dir_all(&host).unwrap();
    let bind = format!("{}:/hosttmp:ro", host.display());
    let id = ok(r.out(&[
        "create",
        "--pid",
        "host",
        "--shm-size",
        "128m",
        "--domainname",
        "d.test",
        "--group-add",
        "1234",
        "-v",
        &bind,
        "--dns",
        "10.0.0.9",
        "--add-host",
        "db:10.0.0.5",
        "--rootfs",
        rootfs().to_str().unwrap(),
        "true",
    ]));
    let f = "{{.HostConfig.PidMode}}|{{.HostConfig.IpcMode}}|{{.HostConfig.UTSMode}}|{{.HostConfig.ShmSize}}|{{.Config.Domainname}}|{{json .HostConfig.GroupAdd}}|{{json .HostConfig.Binds}}|{{json .HostConfig.Dns}}|{{json .HostConfig.ExtraHosts}}";
    let got = ok(r.out(&["inspect", "-f", f, id.trim()]));
    assert_eq!(
        got,
        format!(
            "host|private||134217728|d.test|[\"1234\"]|[\"{bind}\"]|[\"10.0.0.9\"]|[\"db:10.0.0.5\"]\n"
        )
    );
    let id = ok(r.out(&[
        "create",
        "--ipc",
        "none",
        "--uts",
        "host",
        "--rootfs",
        rootfs().to_str().unwrap(),
        "true",
    ]));
    let got = ok(r.out(&["inspect", "-f", f, id.trim()]));
    assert_eq!(got, "|none|host|0||[]|null|[]|null\n");
}

/// --pid container:X and --ipc container:X join that container's
/// namespaces (checked by their inode on the host); a stopped X is
/// refused with docker's words.
#[test]
fn pid_and_ipc_of_another_container() {
    if !root() {
        return;
    }
    let r = Root::new("runopts-nsjoin");
    let id = r.run_d(&["--name", "holder", "sleep", "60"]);
    let pid = init_pid(&r, &id);
    let link = |p: String| {
        std::fs::read_link(p)
            .unwrap()
            .to_string_lossy()
            .into_owned()
    };
    // Its pid 1 is the holder's sleep.
    assert_eq!(
        ok(run(
            &r,
            &["--pid", "container:holder", "cat", "/proc/1/comm"]
        )),
        "sleep\n"
    );
    let ns = ok(run(
        &r,
        &[
            "--pid",
            "container:holder",
            "--ipc",
            "container:holder",
            "sh",
            "-c",
            "readlink /proc/self/ns/pid; readlink /proc/self/ns/ipc",
        ],
    ));
    assert_eq!(
        ns,
        format!(
            "{}\n{}\n",
            link(format!("/proc/{pid}/ns/pid")),
            link(format!("/proc/{pid}/ns/ipc"))
        )
    );
    let c = ok(r.out(&[
        "create",
        "--pid",
        "container:holder",
        "--rootfs",
        rootfs().to_str().unwrap(),
        "true",
    ]));
    assert_eq!(
        ok(r.out(&["inspect", "-f", "{{.HostConfig.PidMode}}", c.trim()])),
        format!("container:{id}\n")
    );
    ok(r.out(&["rm", c.trim()]));
    ok(r.out(&["stop", "-t", "0", "holder"]));
    let o = run(&r, &["--pid", "container:holder", "true"]);
    assert_eq!(o.status.code(), Some(125));
    assert!(
        stderr(&o).contains("cannot join PID of a non running container"),
        "{}",
        stderr(&o)
    );
    let o = run(&r, &["--ipc", "container:nosuch", "true"]);
    assert_eq!(o.status.code(), Some(125));
    assert_eq!(stdout(&r.out(&["ps", "-aq"])).lines().count(), 1);
}

/// Seen from the host: --shm-size is the size of the container's
/// /dev/shm mount (its mountinfo), --group-add a supplementary group of
/// its process (/proc/PID/status).
#[test]
fn shm_size_and_group_add_seen_from_the_host() {
    if !root() {
        return;
    }
    let r = Root::new("runopts-host");
    let id = r.run_d(&["--shm-size", "64m", "--group-add", "1234", "sleep", "30"]);
    let pid = init_pid(&r, &id);
    let mi = std::fs::read_to_string(format!("/proc/{pid}/mountinfo")).unwrap();
    let shm: Vec<&str> = mi
        .lines()
        .filter(|l| l.split_whitespace().nth(4) == Some("/dev/shm"))
        .collect();
    assert_eq!(shm.len(), 1, "{mi}");
    let sb_opts = shm[0].split_whitespace().last().unwrap();
    assert!(sb_opts.split(',').any(|o| o == "size=65536k"), "{}", shm[0]);
    assert!(shm[0].contains(" - tmpfs "), "{}", shm[0]);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let groups = status
        .lines()
        .find(|l| l.starts_with("Groups:"))
        .unwrap()
        .to_string();
    assert!(
        groups.split_whitespace().skip(1).any(|g| g == "1234"),
        "{groups}"
    );
    ok(r.out(&["rm", "-f", &id]));
}

/// --ipc private and --ipc shareable, given explicitly: inspect says so,
/// and the container has an ipc namespace of its own (not the host's, not
/// the other's).
#[test]
fn ipc_private_and_shareable_explicitly() {
    if !root() {
        return;
    }
    let r = Root::new("runopts-ipc");
    let host = read_link("/proc/self/ns/ipc".into());
    let mut seen = vec![host.clone()];
    for mode in ["private", "shareable"] {
        let id = r.run_d(&["--ipc", mode, "sleep", "30"]);
        assert_eq!(
            ok(r.out(&["inspect", "-f", "{{.HostConfig.IpcMode}}", &id])),
            format!("{mode}\n")
        );
        let ns = read_link(format!("/proc/{}/ns/ipc", init_pid(&r, &id)));
        assert!(
            !seen.contains(&ns),
            "{mode}: {ns} is not its own ({seen:?})"
        );
        seen.push(ns);
    }
}

/// Bad values of the namespace, shm and group options: 125 and one error
/// line, and nothing left behind: no container, no volume (not even the
/// anonymous one asked for), nothing under the state root's containers/.
#[test]
fn bad_run_options_leave_nothing_behind() {
    if !root() {
        return;
    }
    let r = Root::new("runopts-bad");
    ok(r.out(&["volume", "create", "kept"]));
    let entries = |d: &str| -> Vec<String> {
        match std::fs::read_dir(r.0.join(d)) {
            Ok(rd) => rd
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect(),
            Err(_) => vec![],
        }
    };
    let volumes_before = entries("volumes");
    for bad in [
        &["--shm-size", "bogus"][..],
        &["--ipc", "bogus"][..],
        &["--group-add", "nosuchgroup"][..],
        &["--pid", "bogus"][..],
        &["--uts", "bogus"][..],
    ] {
        for detach in [false, true] {
            let mut v = vec!["run"];
            if detach {
                v.push("-d");
            }
            v.extend(["--name", "leftover", "-v", "/anon", "--rootfs"]);
            let rootfs = rootfs_str();
            v.push(&rootfs);
            v.extend(bad);
            v.push("true");
            let o = r.out(&v);
            assert_eq!(o.status.code(), Some(125), "{bad:?}: {}", stderr(&o));
            one_error_line(&o, &format!("{bad:?}"));
            assert_eq!(ok(r.out(&["ps", "-aq"])), "", "{bad:?} left a container");
            assert_eq!(
                ok(r.out(&["volume", "ls", "-q"])),
                "kept\n",
                "{bad:?} left a volume"
            );
            assert_eq!(entries("volumes"), volumes_before, "{bad:?}");
            assert_eq!(
                entries("containers"),
                Vec::<String>::new(),
                "{bad:?} left a container directory"
            );
        }
    }
}

/// The template functions lower and upper, in `inspect -f`.
#[test]
fn inspect_template_lower_and_upper() {
    if !root() {
        return;
    }
    let r = Root::new("runopts-lower");
    let id = r.run_d(&["--name", "MixedCase", "sleep", "30"]);
    assert_eq!(
        ok(r.out(&["inspect", "-f", "{{lower .State.Status}}", "MixedCase"])),
        "running\n"
    );
    assert_eq!(
        ok(r.out(&[
            "inspect",
            "-f",
            "{{lower .Name}} {{upper .State.Status}}",
            &id
        ])),
        "/mixedcase RUNNING\n"
    );
    // lower takes one argument.
    let o = r.out(&["inspect", "-f", "{{lower}}", &id]);
    assert_ne!(o.status.code(), Some(0), "{}", stdout(&o));
    ok(r.out(&["rm", "-f", &id]));
}

/// A user's command can reopen its own stdio (`echo > /dev/stdout`), as
/// with docker (runc gives the pipes to the user): pocket's pipes are
/// handed to the container's user, in run and exec. A file or terminal
/// of the caller's is not.
#[test]
fn a_users_command_can_reopen_its_stdio() {
    if !root() {
        return;
    }
    let r = Root::new("stdiouser");
    let script = "echo out > /dev/stdout && echo err > /dev/stderr";
    for args in [
        &["run", "--rm", "-u", "1000", "sh", "-c", script][..],
        &[
            "run",
            "--rm",
            "-u",
            "1000:1000",
            "--init",
            "sh",
            "-c",
            script,
        ][..],
    ] {
        let o = run(&r, &args[1..]);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {o:?}");
        assert_eq!(stdout(&o), "out\n", "{args:?}");
        assert_eq!(stderr(&o), "err\n", "{args:?}");
    }
    let id = ok(run(&r, &["-d", "-u", "1000", "sleep", "60"]));
    let id = id.trim();
    let o = r.out(&["exec", id, "sh", "-c", script]);
    assert_eq!(
        (stdout(&o).as_str(), stderr(&o).as_str()),
        ("out\n", "err\n"),
        "{o:?}"
    );
    // Not the caller's own file: it stays root's.
    let f = r.0.join("out.txt");
    let file = std::fs::File::create(&f).unwrap();
    let o = r.cmd(&["exec", id, "true"]).stdout(file).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(
        std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(&f).unwrap()),
        0
    );
    // Nor a socket of the caller's (journald's stream under systemd).
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    let kept = theirs.try_clone().unwrap();
    let o = r
        .cmd(&["exec", id, "true"])
        .stdout(std::os::fd::OwnedFd::from(theirs))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let fd = std::os::fd::AsRawFd::as_raw_fd(&kept);
    let st = std::fs::metadata(format!("/proc/self/fd/{fd}")).unwrap();
    let uid = std::os::unix::fs::MetadataExt::uid(&st);
    assert_eq!(uid, 0, "the caller's socket was given away");
    drop(ours);
    r.out(&["rm", "-f", id]);
}
