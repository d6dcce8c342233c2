//! --format as docker's: Go templates (fields, json, index, range, if,
//! printf, join, upper, table) over ps, images, inspect (all kinds, with
//! --type), volume ls, network ls, version, info and events; network ls
//! filters and network create --label.

mod common;
use common::checks::*;
use common::features::skip;
use common::*;

fn ok(r: &Root, args: &[&str]) -> String {
    let o = r.out(args);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    stdout(&o)
}

#[test]
fn ps_inspect_and_events_through_templates() {
    if !root() {
        return;
    }
    let r = Root::new("format-ps");
    let id = r.run_d(&[
        "--name",
        "web",
        "-l",
        "tier=front",
        "-l",
        "team=a",
        "sleep",
        "30",
    ]);
    // Fields, one line per container.
    assert_eq!(
        ok(&r, &["ps", "--format", "{{.Names}} {{.State}} {{.Labels}}"]),
        "web running team=a,tier=front\n"
    );
    // docker's table: the headers of the fields asked, aligned columns.
    let t = ok(
        &r,
        &["ps", "--format", "table {{.ID}}\t{{.Names}}\t{{.Status}}"],
    );
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(lines.len(), 2, "{t}");
    assert!(
        lines[0].starts_with("CONTAINER ID")
            && lines[0].contains("NAMES")
            && lines[0].contains("STATUS"),
        "{t}"
    );
    assert_eq!(lines[0].find("NAMES"), lines[1].find("web"), "{t}");
    assert!(lines[1].starts_with(&id[..12]));
    // json: one object per line, docker's field names.
    let j = ok(&r, &["ps", "--format", "json"]);
    let v = json(j.trim()).unwrap();
    assert_eq!(v.get("Names").str(), "web");
    assert_eq!(v.get("State").str(), "running");
    assert_eq!(v.get("Command").str(), "\"sleep 30\"");
    // inspect: paths, json, index, range, if/else, printf, upper, len.
    let pid = init_pid(&r, &id);
    assert_eq!(
        ok(&r, &["inspect", "-f", "{{.State.Pid}}", "web"]),
        format!("{pid}\n")
    );
    assert_eq!(
        ok(
            &r,
            &["inspect", "--format", "{{json .Config.Labels}}", "web"]
        ),
        "{\"team\":\"a\",\"tier\":\"front\"}\n"
    );
    assert_eq!(
        ok(
            &r,
            &["inspect", "-f", "{{index .Config.Labels \"tier\"}}", "web"]
        ),
        "front\n"
    );
    assert_eq!(
        ok(
            &r,
            &[
                "inspect",
                "-f",
                "{{range $k, $v := .Config.Labels}}{{$k}}={{upper $v}};{{end}}",
                "web"
            ]
        ),
        "team=A;tier=FRONT;\n"
    );
    assert_eq!(
        ok(
            &r,
            &[
                "inspect",
                "-f",
                "{{if .State.Running}}up{{else}}down{{end}} {{printf \"%-5s|\" .Config.Hostname | len}}",
                "web"
            ]
        ),
        format!(
            "up {}\n",
            std::cmp::max(
                6,
                ok(&r, &["inspect", "-f", "{{.Config.Hostname}}", "web"])
                    .trim()
                    .len()
                    + 1
            )
        )
    );
    assert_eq!(
        ok(&r, &["inspect", "-f", "{{join .Config.Cmd \",\"}}", "web"]),
        "sleep,30\n"
    );
    // Two objects: a line each.
    r.run_d(&["--name", "db", "sleep", "30"]);
    assert_eq!(
        ok(&r, &["inspect", "-f", "{{.Name}}", "web", "db"]),
        "/web\n/db\n"
    );
    // Bad templates: one line, docker's words, nothing printed.
    for bad in ["{{.Name", "{{nosuch .Name}}", "{{end}}"] {
        let o = r.out(&["inspect", "-f", bad, "web"]);
        assert_ne!(o.status.code(), Some(0), "{bad}");
        assert!(stdout(&o).is_empty());
        assert!(stderr(&o).contains("template"), "{bad}: {}", stderr(&o));
        assert_eq!(stderr(&o).lines().count(), 1);
    }
    // events: the journal, filtered, through a template.
    let e = ok(
        &r,
        &[
            "events",
            "--since",
            "1h",
            "--until",
            "0s",
            "--filter",
            "container=web",
            "--format",
            "{{.Action}} {{.Actor.Attributes.name}}",
        ],
    );
    assert_eq!(e.lines().next(), Some("create web"), "{e}");
    assert!(e.contains("start web"), "{e}");
    assert!(!e.contains(" db"), "{e}");
    ok(&r, &["stop", "-t", "0", "web"]);
    let e = ok(
        &r,
        &[
            "events",
            "--since",
            "1h",
            "--until",
            "0s",
            "-f",
            "event=die",
            "--format",
            "{{json .}}",
        ],
    );
    let v = json(e.lines().next().unwrap()).unwrap();
    assert_eq!(v.get("Type").str(), "container");
    assert_eq!(v.get("status").str(), "die");
    assert_eq!(v.get("id").str(), id);
    assert_eq!(
        v.get("Actor").get("Attributes").get("exitCode").str(),
        "137"
    );
    assert_eq!(v.get("Actor").get("Attributes").get("tier").str(), "front");
    // The plain line: time, type, action, id, (attributes).
    let plain = ok(
        &r,
        &[
            "events",
            "--since",
            "1h",
            "--until",
            "0s",
            "-f",
            "event=stop",
        ],
    );
    let l = plain.lines().next().unwrap();
    let parts: Vec<&str> = l.splitn(5, ' ').collect();
    assert!(rfc3339(parts[0], true).is_some(), "{l}");
    assert_eq!(&parts[1..4], ["container", "stop", id.as_str()]);
    assert!(
        parts[4].starts_with('(') && parts[4].contains("name=web"),
        "{l}"
    );
    // events follows: a later start shows up, then --until ends it.
    let until = format!("{}", now().0 + 3);
    let mut c = r.cmd(&["events", "--until", &until, "--format", "{{.Action}}"]);
    c.stdout(std::process::Stdio::piped());
    let child = c.spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    ok(&r, &["start", "web"]);
    let out = child.wait_with_output().unwrap();
    assert!(
        stdout(&out).lines().any(|l| l == "start"),
        "{}",
        stdout(&out)
    );
    assert!(
        !stdout(&out).contains("create"),
        "old events shown without --since"
    );
}

#[test]
fn images_volumes_networks_version_info() {
    if !root() {
        return;
    }
    let r = Root::new("format-more");
    ok(
        &r,
        &[
            "load",
            "-i",
            test_images().join("busybox-docker.tar").to_str().unwrap(),
        ],
    );
    let tags = ok(&r, &["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert!(tags.lines().any(|l| l == "busybox:latest"), "{tags}");
    let t = ok(
        &r,
        &["images", "--format", "table {{.Repository}}\t{{.Size}}"],
    );
    assert!(
        t.starts_with("REPOSITORY") && t.lines().next().unwrap().contains("SIZE"),
        "{t}"
    );
    let id = ok(&r, &["images", "-q"])
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert_eq!(
        ok(
            &r,
            &["inspect", "--type", "image", "-f", "{{.Id}}", "busybox"]
        )
        .trim()
        .trim_start_matches("sha256:")
        .get(..12),
        Some(id.as_str())
    );
    // Volumes.
    ok(&r, &["volume", "create", "--label", "keep=1", "data"]);
    ok(&r, &["volume", "create", "other"]);
    assert_eq!(
        ok(
            &r,
            &[
                "volume",
                "ls",
                "--format",
                "{{.Name}} {{.Driver}} {{.Labels}}",
                "-f",
                "label=keep"
            ]
        ),
        "data local keep=1\n"
    );
    assert_eq!(
        ok(
            &r,
            &[
                "inspect",
                "--type",
                "volume",
                "-f",
                "{{.Name}} {{.Labels.keep}}",
                "data"
            ]
        ),
        "data 1\n"
    );
    assert_eq!(
        ok(&r, &["volume", "inspect", "-f", "{{.Mountpoint}}", "data"]).trim(),
        r.0.join("volumes/data/_data").to_str().unwrap()
    );
    // Networks: --label on create, ls filters and templates (no bridge
    // is made: records only, as the suite changes no host network).
    let net = |args: &[&str]| r.out(args);
    let o = net(&[
        "network",
        "create",
        "--label",
        "env=test",
        "--subnet",
        "10.97.0.0/24",
        "labeled",
    ]);
    if o.status.code() == Some(0) {
        assert_eq!(
            ok(
                &r,
                &[
                    "network",
                    "ls",
                    "-f",
                    "label=env=test",
                    "--format",
                    "{{.Name}} {{.Driver}} {{.Labels}}"
                ]
            ),
            "labeled bridge env=test\n"
        );
        assert_eq!(ok(&r, &["network", "ls", "-f", "name=nothing", "-q"]), "");
        assert_eq!(
            ok(
                &r,
                &[
                    "network",
                    "ls",
                    "-f",
                    "type=custom",
                    "--format",
                    "{{.Name}}"
                ]
            ),
            "labeled\n"
        );
        assert_eq!(
            ok(
                &r,
                &["network", "inspect", "-f", "{{.Labels.env}}", "labeled"]
            ),
            "test\n"
        );
        assert_eq!(
            ok(
                &r,
                &["inspect", "-f", "{{.Name}}", "--type", "network", "labeled"]
            ),
            "labeled\n"
        );
        ok(&r, &["network", "rm", "labeled"]);
    } else {
        skip("network create --label", stderr(&o).trim());
    }
    let o = r.out(&["network", "ls", "-f", "colour=red"]);
    assert_eq!(o.status.code(), Some(125));
    // version and info: docker's fields.
    assert_eq!(
        ok(&r, &["version", "--format", "{{.Client.Version}}"]).trim(),
        env!("CARGO_PKG_VERSION")
    );
    let v = json(ok(&r, &["version", "-f", "{{json .}}"]).trim()).unwrap();
    assert_eq!(v.get("Server").get("Os").str(), "linux");
    let info = ok(
        &r,
        &[
            "info",
            "-f",
            "{{.OSType}}/{{.Driver}}/{{.CgroupVersion}}/{{.Images}}",
        ],
    );
    let want_cg = if std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        "2"
    } else {
        "1"
    };
    assert_eq!(info, format!("linux/overlay2/{want_cg}/1\n"));
}
