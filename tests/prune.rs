//! `container|image|volume|system prune` as docker: the question unless
//! -f (answered on stdin; no answer is no), what goes and what stays,
//! checked in the state directory, and the reclaimed bytes. (network
//! prune is in tests/networks.rs, inside a network namespace.)

mod common;
use common::*;
use std::io::Write;
use std::process::{Output, Stdio};

fn ok(r: &Root, args: &[&str]) -> String {
    let o = r.out(args);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    stdout(&o)
}

/// pocket with `answer` on its stdin.
fn answered(r: &Root, args: &[&str], answer: &str) -> Output {
    let mut c = r.cmd(args);
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut ch = c.spawn().unwrap();
    let _ = ch.stdin.take().unwrap().write_all(answer.as_bytes());
    ch.wait_with_output().unwrap()
}

/// "Total reclaimed space: 2.13MB" -> bytes (docker's decimal units).
fn reclaimed(out: &str) -> f64 {
    let t = out
        .lines()
        .last()
        .and_then(|l| l.strip_prefix("Total reclaimed space: "))
        .unwrap_or_else(|| panic!("no total: {out:?}"));
    let (num, unit) = t.split_at(t.find(|c: char| c.is_ascii_alphabetic()).unwrap());
    let k = match unit {
        "B" => 1.0,
        "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        u => panic!("unit {u}"),
    };
    num.parse::<f64>().unwrap() * k
}

#[test]
fn container_prune_asks_then_removes_only_stopped_ones() {
    if !root() {
        return;
    }
    let r = Root::new("prune-c");
    ok(
        &r,
        &[
            "load",
            "-i",
            test_images().join("busybox-docker.tar").to_str().unwrap(),
        ],
    );
    let dead = ok(
        &r,
        &[
            "run",
            "-d",
            "busybox",
            "sh",
            "-c",
            "head -c 300000 /dev/zero >/big",
        ],
    );
    let dead = dead.trim();
    assert_eq!(ok(&r, &["wait", dead]), "0\n");
    let live = r.run_d(&["sleep", "30"]);
    // No answer (stdin at its end) is no; so is "n".
    for answer in ["", "n\n"] {
        let o = answered(&r, &["container", "prune"], answer);
        assert_eq!(o.status.code(), Some(0), "{o:?}");
        assert_eq!(
            stdout(&o),
            "WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] "
        );
        assert!(r.0.join("containers").join(dead).exists());
    }
    let o = answered(&r, &["container", "prune"], "y\n");
    let out = stdout(&o);
    let body = out.split_once("[y/N] ").unwrap().1;
    assert!(
        body.starts_with(&format!(
            "Deleted Containers:\n{dead}\n\nTotal reclaimed space: "
        )),
        "{out}"
    );
    assert!(reclaimed(body) >= 300000.0, "{body}");
    assert!(!r.0.join("containers").join(dead).exists());
    assert!(r.0.join("containers").join(&live).exists());
    // Nothing left to prune: the total only.
    assert_eq!(
        ok(&r, &["container", "prune", "-f"]),
        "Total reclaimed space: 0B\n"
    );
    ok(&r, &["rm", "-f", &live]);
}

#[test]
fn image_prune_dangling_then_all_unused() {
    if !root() {
        return;
    }
    let r = Root::new("prune-i");
    ok(
        &r,
        &[
            "load",
            "-i",
            test_images().join("busybox-docker.tar").to_str().unwrap(),
        ],
    );
    // A dangling image: imported without a name.
    let tar = test_images().join("rootfs.tar.gz");
    let dangling = ok(&r, &["import", tar.to_str().unwrap()]);
    let dangling = dangling.trim().trim_start_matches("sha256:").to_string();
    let busybox = ok(&r, &["images", "-q", "--no-trunc", "busybox"]);
    let busybox = busybox.trim().trim_start_matches("sha256:").to_string();
    let user = ok(&r, &["run", "-d", "--rm", "busybox", "sleep", "30"]);
    let user = user.trim();
    let out = ok(&r, &["image", "prune", "-f"]);
    assert!(
        out.starts_with(&format!("Deleted Images:\ndeleted: sha256:{dangling}\n\n")),
        "{out}"
    );
    assert!(reclaimed(&out) > 100000.0, "{out}");
    assert!(!r.0.join(format!("images/{dangling}.json")).exists());
    assert!(r.0.join(format!("images/{busybox}.json")).exists());
    // -a: busybox is used by a container, so it stays...
    assert_eq!(
        ok(&r, &["image", "prune", "-a", "-f"]),
        "Total reclaimed space: 0B\n"
    );
    ok(&r, &["rm", "-f", user]);
    // ...until nothing uses it.
    let out = ok(&r, &["image", "prune", "-a", "-f"]);
    assert!(
        out.starts_with(&format!(
            "Deleted Images:\nuntagged: busybox:latest\ndeleted: sha256:{busybox}\n\n"
        )),
        "{out}"
    );
    assert_eq!(ok(&r, &["images", "-q"]), "");
    let layers: Vec<_> = std::fs::read_dir(r.0.join("images/layers"))
        .unwrap()
        .collect();
    assert!(layers.is_empty(), "{layers:?}");
}

#[test]
fn volume_and_system_prune() {
    if !root() {
        return;
    }
    let r = Root::new("prune-v");
    ok(&r, &["volume", "create", "keep"]);
    // An anonymous volume whose container is gone (rm without -v), one
    // whose container exists.
    let gone = r.run_d(&[
        "-v",
        "/data",
        "sh",
        "-c",
        "head -c 50000 /dev/zero >/data/f",
    ]);
    assert_eq!(ok(&r, &["wait", &gone]), "0\n");
    let anon: Vec<String> = ok(&r, &["volume", "ls", "-q"])
        .lines()
        .filter(|l| l.len() == 64)
        .map(String::from)
        .collect();
    assert_eq!(anon.len(), 1);
    ok(&r, &["rm", &gone]);
    let held = r.run_d(&["-v", "/data", "sleep", "30"]);
    let out = ok(&r, &["volume", "prune", "-f"]);
    assert!(
        out.starts_with(&format!("Deleted Volumes:\n{}\n\n", anon[0])),
        "{out}"
    );
    assert!(reclaimed(&out) >= 50000.0, "{out}");
    let left = ok(&r, &["volume", "ls", "-q"]);
    assert!(left.contains("keep") && left.lines().count() == 2, "{left}");

    // system prune --volumes: the stopped container, then its anonymous
    // volume; the named one stays (no -a for volumes there, as docker).
    let held_vol: Vec<String> = ok(&r, &["volume", "ls", "-q"])
        .lines()
        .filter(|l| l.len() == 64)
        .map(String::from)
        .collect();
    assert_eq!(held_vol.len(), 1);
    ok(&r, &["stop", "-t", "0", &held]);
    let o = answered(&r, &["system", "prune", "--volumes"], "y\n");
    let out = stdout(&o);
    assert!(
        out.starts_with(
            "WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - all anonymous volumes not used by at least one container\n  - all dangling images\n\nAre you sure you want to continue? [y/N] "
        ),
        "{out}"
    );
    let body = out.split_once("[y/N] ").unwrap().1;
    assert!(
        body.starts_with(&format!(
            "Deleted Containers:\n{held}\n\nDeleted Volumes:\n{}\n\n",
            held_vol[0]
        )),
        "{body}"
    );
    assert!(body.contains("\nTotal reclaimed space: "), "{body}");
    assert_eq!(ok(&r, &["volume", "ls", "-q"]), "keep\n");
    assert_eq!(ok(&r, &["ps", "-aq"]), "");
    assert_eq!(
        ok(&r, &["volume", "prune", "-a", "-f"]),
        "Deleted Volumes:\nkeep\n\nTotal reclaimed space: 0B\n"
    );
    let o = r.out(&["system", "prune", "extra"]);
    assert_eq!(o.status.code(), Some(125), "{o:?}");
}
