//! `system df` and `info` against what the store and the kernel say.

mod common;
use common::*;
use std::process::Command;

fn ok(r: &Root, args: &[&str]) -> String {
    let o = r.out(args);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    stdout(&o)
}

fn sh(cmd: &str) -> String {
    let o = Command::new("sh").args(["-c", cmd]).output().unwrap();
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// The cells of `system df`'s row for `kind` (columns split on 2+ spaces).
fn row(df: &str, kind: &str) -> Vec<String> {
    let l = df
        .lines()
        .find(|l| l.starts_with(kind))
        .unwrap_or_else(|| panic!("{kind}: {df}"));
    l.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(String::from)
        .collect()
}

#[test]
fn df_and_info_count_what_the_store_holds() {
    if !root() {
        return;
    }
    let r = Root::new("sysdf");
    ok(
        &r,
        &[
            "load",
            "-i",
            test_images().join("busybox-docker.tar").to_str().unwrap(),
        ],
    );
    ok(
        &r,
        &[
            "import",
            test_images().join("rootfs.tar.gz").to_str().unwrap(),
        ],
    );
    let up = ok(&r, &["run", "-d", "busybox", "sleep", "30"]);
    let up = up.trim();
    let done = r.run_d(&["-v", "/data", "sh", "-c", "head -c 5000 /dev/zero >/data/x"]);
    assert_eq!(ok(&r, &["wait", &done]), "0\n");

    let df = ok(&r, &["system", "df"]);
    assert!(df.starts_with("TYPE "), "{df}");
    let i = row(&df, "Images");
    assert_eq!(&i[1..3], ["2", "1"], "{df}");
    // What nothing uses is the imported image: its size, half or so.
    let list = ok(&r, &["images"]);
    let none_size = list
        .lines()
        .find(|l| l.starts_with("<none>"))
        .and_then(|l| l.split_whitespace().last())
        .unwrap()
        .to_string();
    assert!(i[4].ends_with("%)"), "{df}");
    let freed = i[4].split(' ').next().unwrap();
    // (df has four significant digits, images three)
    assert_eq!(&freed[..3], &none_size[..3], "{df}\n{list}");
    let c = row(&df, "Containers");
    assert_eq!(&c[1..3], ["2", "1"], "{df}");
    let v = row(&df, "Local Volumes");
    assert_eq!(v, ["Local Volumes", "1", "1", "5kB", "0B (0%)"], "{df}");
    assert_eq!(row(&df, "Build Cache")[1..], ["0", "0", "0B", "0B"]);

    let info = ok(&r, &["info"]);
    assert_eq!(info, ok(&r, &["system", "info"]));
    for want in [
        " Containers: 2\n  Running: 1\n  Paused: 0\n  Stopped: 1\n Images: 2\n".to_string(),
        format!(" Kernel Version: {}\n", sh("uname -r")),
        format!(" CPUs: {}\n", sh("getconf _NPROCESSORS_ONLN")),
        format!(" Name: {}\n", sh("cat /proc/sys/kernel/hostname")),
        format!(
            " Cgroup Version: {}\n",
            if sh("stat -f -c %T /sys/fs/cgroup") == "cgroup2fs" {
                2
            } else {
                1
            }
        ),
        " Storage Driver: overlay2\n".to_string(),
        " Cgroup Driver: cgroupfs\n".to_string(),
        format!(" Pocket Root Dir: {}\n", r.0.display()),
    ] {
        assert!(info.contains(&want), "{want:?} in\n{info}");
    }
    assert!(info.contains("  seccomp\n   Profile: builtin\n"), "{info}");
    ok(&r, &["rm", "-f", up, &done]);
    let df = ok(&r, &["system", "df"]);
    assert_eq!(
        &row(&df, "Containers")[1..],
        ["0", "0", "0B", "0B (0%)"],
        "{df}"
    );
}

/// `version`: docker's sections (no server: pocket is its own engine);
/// `--version`: one line.
#[test]
fn version_in_sections_and_one_line() {
    let o = pocket(&["version"]).output().unwrap();
    let v = stdout(&o);
    assert_eq!(o.status.code(), Some(0));
    let ver = env!("CARGO_PKG_VERSION");
    assert!(
        v.starts_with(&format!(
            "Client:\n Version:           {ver}\n Git commit:        "
        )),
        "{v}"
    );
    assert!(
        v.contains("\nServer: none (pocket runs containers itself, no daemon)\n"),
        "{v}"
    );
    let one = stdout(&pocket(&["--version"]).output().unwrap());
    assert!(
        one.starts_with(&format!("pocket version {ver} (commit ")) && one.lines().count() == 1,
        "{one}"
    );
}
