//! `--net container:ID`: a container joins another's network namespace.

mod common;
use common::*;

fn netns(r: &Root, id: &str) -> String {
    let pid = r.pid(id);
    std::fs::read_link(format!("/proc/{pid}/ns/net"))
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

#[test]
fn a_container_joins_anothers_network() {
    if !root() {
        return;
    }
    let r = Root::new("netjoin");
    let rf = rootfs_str();
    std::fs::create_dir_all(r.0.join("www")).unwrap();
    std::fs::write(r.0.join("www/i"), "shared lo\n").unwrap();
    let www = format!("{}:/www:ro", r.0.join("www").display());
    let a = r.run_d(&[
        "-v",
        &www,
        "httpd",
        "-f",
        "-p",
        "127.0.0.1:8090",
        "-h",
        "/www",
    ]);
    let b = r.run_d(&["--net", &format!("container:{}", &a[..12]), "sleep", "30"]);
    assert_eq!(netns(&r, &a), netns(&r, &b), "one network namespace");
    let pid1 = std::process::id();
    assert_ne!(
        netns(&r, &a),
        std::fs::read_link(format!("/proc/{pid1}/ns/net"))
            .unwrap()
            .to_string_lossy(),
        "not the host's"
    );
    // b reaches a's server on their shared loopback.
    let got = wait_for(5, "httpd", || {
        let o = r.out(&[
            "exec",
            &b,
            "wget",
            "-q",
            "-O",
            "-",
            "http://127.0.0.1:8090/i",
        ]);
        (o.status.code() == Some(0)).then(|| stdout(&o))
    });
    assert_eq!(got, "shared lo\n");
    // Restarted, b joins a's namespace as it is now (a new pid), never a
    // stale /proc path; with a stopped, b does not start.
    r.out(&["stop", "-t", "0", &b]);
    r.out(&["restart", "-t", "0", &a]);
    let o = r.out(&["start", &b]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(netns(&r, &a), netns(&r, &b), "joined again after restarts");
    r.out(&["stop", "-t", "0", &b]);
    r.out(&["stop", "-t", "0", &a]);
    let o = r.out(&["start", &b]);
    assert_ne!(o.status.code(), Some(0));
    assert!(
        stderr(&o).contains("non running container"),
        "{}",
        stderr(&o)
    );
    let o = r.out(&[
        "run",
        "--net",
        &format!("container:{a}"),
        "--dns",
        "1.1.1.1",
        "--rootfs",
        &rf,
        "true",
    ]);
    assert_eq!(o.status.code(), Some(125));
    // Joining a container that does not run: 125, nothing made.
    r.out(&["rm", "-f", &a]);
    let before = stdout(&r.out(&["ps", "-aq"]));
    let o = r.out(&[
        "run",
        "--net",
        &format!("container:{a}"),
        "--rootfs",
        &rf,
        "true",
    ]);
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1);
    let o = r.out(&["run", "--net", "container:nosuch", "--rootfs", &rf, "true"]);
    assert_eq!(o.status.code(), Some(125));
    assert_eq!(stdout(&r.out(&["ps", "-aq"])), before);
}
