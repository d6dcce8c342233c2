//! `pocket pull` against registries on 127.0.0.1: Debian's docker-registry
//! (Distribution 2.8, images pushed by skopeo) for tags, digests, manifest
//! lists and htpasswd Basic auth; a small fake registry written here for
//! what a real one will not do on demand (a blob cut off mid-way, a
//! corrupt blob, a Bearer token service).

mod common;
use common::checks::{json, one_error_line};
use common::registry::*;
use common::*;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The (uncompressed) layer of the busybox test image's docker-archive.
fn busybox_base_layer() -> Vec<u8> {
    let arc = test_images().join("busybox-docker.tar");
    let m = sh(&format!("tar -xOf {} manifest.json", arc.display()));
    let layer_name = m
        .split("\"Layers\":[\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let base = Command::new("tar")
        .arg("-xOf")
        .arg(&arc)
        .arg(&layer_name)
        .output()
        .unwrap()
        .stdout;
    base
}

/// The busybox test image into `r`'s store.
fn load_busybox(r: &Root) {
    let tar = test_images().join("busybox-docker.tar");
    ok(r, &["load", "-i", tar.to_str().unwrap()]);
}

fn ok(r: &Root, args: &[&str]) -> String {
    let o = r.out(args);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    stdout(&o)
}

/// Nothing half-made in the store: no tmp entries, no image documents
/// beyond `images`, and only complete layers.
fn tmp_is_empty(r: &Root) -> bool {
    std::fs::read_dir(r.0.join("images/tmp")).map_or(true, |mut d| d.next().is_none())
}

fn image_docs(r: &Root) -> usize {
    std::fs::read_dir(r.0.join("images"))
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn pull_by_tag_and_by_digest_then_run() {
    if !root() {
        return;
    }
    let Some(reg) = Registry::start("tags", None) else {
        return;
    };
    let imgs = test_images();
    reg.push(
        &format!(
            "docker-archive:{}",
            imgs.join("busybox-docker.tar").display()
        ),
        "test/busybox:1",
        &[],
    );
    reg.push(
        &format!("oci:{}", imgs.join("layered-oci").display()),
        "test/layered:latest",
        &[],
    );
    let r = Root::new("pull-tags");
    let name = format!("{}/test/busybox:1", reg.addr());
    let out = ok(&r, &["pull", &name]);
    let want_digest = reg.digest("test/busybox:1", &[]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "1: Pulling from test/busybox", "{out}");
    assert!(
        lines[1].ends_with(": Pull complete") && lines[1].len() == 12 + 15,
        "{out}"
    );
    assert_eq!(lines[2], format!("Digest: {want_digest}"), "{out}");
    assert_eq!(
        lines[3],
        format!("Status: Downloaded newer image for {name}"),
        "{out}"
    );
    assert_eq!(lines[4], name, "{out}");
    assert_eq!(lines.len(), 5, "{out}");
    let list = ok(&r, &["images"]);
    assert!(
        list.lines()
            .any(|l| l.starts_with(&format!("{}/test/busybox ", reg.addr())) && l.contains(" 1 ")),
        "{list}"
    );
    // The image's own Cmd, as the archive had it.
    assert_eq!(
        ok(&r, &["run", "--rm", &name]).trim(),
        "hello from /srv/app"
    );
    // Again: nothing fetched.
    let out = ok(&r, &["pull", &name]);
    assert_eq!(
        out,
        format!(
            "1: Pulling from test/busybox\nDigest: {want_digest}\nStatus: Image is up to date for {name}\n{name}\n"
        )
    );
    assert_eq!(ok(&r, &["pull", "-q", &name]), format!("{name}\n"));
    // The digest it was pulled by, as docker shows it.
    let repo = format!("{}/test/busybox", reg.addr());
    let ins = ok(&r, &["image", "inspect", &name]);
    assert!(
        ins.contains(&format!(
            "\"RepoDigests\": [\n      \"{repo}@{want_digest}\""
        )),
        "{ins}"
    );
    let list = ok(&r, &["images", "--digests"]);
    assert!(list.starts_with("REPOSITORY"), "{list}");
    assert!(list.lines().next().unwrap().contains(" DIGEST "), "{list}");
    assert!(
        list.lines()
            .any(|l| l.starts_with(&repo) && l.contains(&want_digest)),
        "{list}"
    );
    // By digest, into a fresh store; run by that reference.
    let r2 = Root::new("pull-digest");
    let by_digest = format!("{}/test/busybox@{want_digest}", reg.addr());
    let out = ok(&r2, &["pull", &by_digest]);
    assert!(out.ends_with(&format!("{by_digest}\n")), "{out}");
    assert_eq!(
        ok(&r2, &["run", "--rm", &by_digest, "echo", "by digest"]),
        "by digest\n"
    );
    // A digest the registry does not have.
    let other = format!("{}/test/busybox@sha256:{}", reg.addr(), "0".repeat(64));
    let o = r2.out(&["pull", &other]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(
        stderr(&o).starts_with(&format!("pocket: manifest for {other} not found: ")),
        "{o:?}"
    );
    // Two layers with a whiteout, pulled by `run` itself (the pull's lines
    // on stderr, stdout is the container's).
    let layered = format!("{}/test/layered", reg.addr());
    let o = r2.out(&[
        "run",
        "--rm",
        &layered,
        "sh",
        "-c",
        "ls /etc/layered* 2>&1; echo end",
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let err = stderr(&o);
    assert!(
        err.starts_with(&format!(
            "Unable to find image '{layered}:latest' locally\nlatest: Pulling from test/layered\n"
        )),
        "{err}"
    );
    // The busybox layer is shared with the image pulled before.
    assert_eq!(err.matches(": Pull complete").count(), 1, "{err}");
    assert_eq!(err.matches(": Already exists").count(), 1, "{err}");
    assert!(stdout(&o).ends_with("end\n"), "{o:?}");
    // A missing tag: docker's words, exit 1; nothing added.
    let before = image_docs(&r2);
    let o = r2.out(&["pull", &format!("{}/test/busybox:nope", reg.addr())]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        format!(
            "pocket: manifest for {}/test/busybox:nope not found: manifest unknown: manifest unknown\n",
            reg.addr()
        )
    );
    assert_eq!(image_docs(&r2), before);
    assert!(tmp_is_empty(&r2));
    // --pull never does not pull; an invalid policy is refused.
    let o = r2.out(&[
        "run",
        "--rm",
        "--pull",
        "never",
        &format!("{}/test/x", reg.addr()),
        "true",
    ]);
    assert_eq!(o.status.code(), Some(125), "{o:?}");
    let o = r2.out(&["run", "--rm", "--pull", "maybe", &layered, "true"]);
    assert_eq!(o.status.code(), Some(125), "{o:?}");
}

/// zstd layers (OCI `+zstd`), as skopeo writes them: pulled and run,
/// and loaded from an OCI layout too.
#[test]
fn zstd_layers_pull_and_load() {
    if !root() {
        return;
    }
    let Some(reg) = Registry::start("zstd", None) else {
        return;
    };
    let src = busybox_archive();
    reg.push(
        &src,
        "test/zstd:1",
        &["--format", "oci", "--dest-compress-format", "zstd"],
    );
    let r = Root::new("pull-zstd");
    let name = format!("{}/test/zstd:1", reg.addr());
    let o = Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{name}"))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("tar+zstd"),
        "not a zstd layer: {o:?}"
    );
    ok(&r, &["pull", "-q", &name]);
    assert_eq!(ok(&r, &["run", "--rm", &name, "echo", "zstd"]), "zstd\n");
    // The same image in an OCI layout, loaded.
    let layout = r.0.join("oci");
    let o = Command::new("skopeo")
        .args(["copy", "-q", "--dest-compress-format", "zstd"])
        .arg(&src)
        .arg(format!("oci:{}:z", layout.display()))
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    let r2 = Root::new("load-zstd");
    ok(&r2, &["load", "-q", "-i", layout.to_str().unwrap()]);
    let list = ok(&r2, &["images", "-q"]);
    let id = list.lines().next().expect("an image").trim().to_string();
    assert_eq!(ok(&r2, &["run", "--rm", &id, "echo", "loaded"]), "loaded\n");
}

/// `registry-mirrors` (docker daemon.json's key, in pocket's config file):
/// docker.io's images come from the first mirror that has them.
#[test]
fn docker_io_through_a_mirror() {
    if !root() {
        return;
    }
    let Some(reg) = Registry::start("mirror", None) else {
        return;
    };
    reg.push(&busybox_archive(), "library/busybox:latest", &[]);
    let r = Root::new("pull-mirror");
    let cfg = r.0.join("pocket.json");
    // A dead mirror first: skipped.
    std::fs::write(
        &cfg,
        format!(
            r#"{{"registry-mirrors": ["http://127.0.0.1:{}", "http://{}"]}}"#,
            free_port(),
            reg.addr()
        ),
    )
    .unwrap();
    let o = r
        .cmd(&["pull", "busybox"])
        .env("POCKET_CONFIG", &cfg)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let out = stdout(&o);
    assert!(
        out.starts_with("Using default tag: latest\nlatest: Pulling from library/busybox\n"),
        "{out}"
    );
    assert!(
        out.ends_with(
            "Status: Downloaded newer image for busybox:latest\ndocker.io/library/busybox:latest\n"
        ),
        "{out}"
    );
    assert_eq!(
        ok(&r, &["run", "--rm", "busybox", "echo", "mirrored"]),
        "mirrored\n"
    );
}

/// An OCI layout holding an index of two platforms: the busybox layer plus
/// a layer whose /arch names the platform.
fn multi_arch_layout(dir: &Path) {
    // (busybox_base_layer reads the built test images)
    test_images();
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |b: &[u8]| -> (String, usize) {
        let h = sha256_hex(b);
        std::fs::write(blobs.join(&h), b).unwrap();
        (format!("sha256:{h}"), b.len())
    };
    let base = busybox_base_layer();
    let base_diff = format!("sha256:{}", sha256_hex(&base));
    let (base_d, base_n) = put(&base);
    let mut entries = Vec::new();
    for (arch, variant) in [("amd64", None), ("arm64", Some("v8"))] {
        let t = dir.join(format!("arch-{arch}"));
        std::fs::create_dir_all(&t).unwrap();
        std::fs::write(t.join("arch"), format!("{arch}\n")).unwrap();
        let layer = Command::new("tar")
            .args(["--owner=0", "--group=0", "--mtime=@0", "-C"])
            .arg(&t)
            .args(["-c", "arch"])
            .output()
            .unwrap()
            .stdout;
        let diff = format!("sha256:{}", sha256_hex(&layer));
        let (ld, ln) = put(&layer);
        let v = variant
            .map(|v| format!(",\"variant\":\"{v}\""))
            .unwrap_or_default();
        let config = format!(
            r#"{{"architecture":"{arch}"{v},"os":"linux","config":{{"Cmd":["cat","/arch"]}},"rootfs":{{"type":"layers","diff_ids":["{base_diff}","{diff}"]}}}}"#
        );
        let (cd, cn) = put(config.as_bytes());
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{cd}","size":{cn}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{base_d}","size":{base_n}}},{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{ld}","size":{ln}}}]}}"#
        );
        let (md, mn) = put(manifest.as_bytes());
        entries.push(format!(
            r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{md}","size":{mn},"platform":{{"architecture":"{arch}","os":"linux"{v}}}}}"#
        ));
    }
    let index = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{}]}}"#,
        entries.join(",")
    );
    let (id, n) = put(index.as_bytes());
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    std::fs::write(
        dir.join("index.json"),
        format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"{id}","size":{n},"annotations":{{"org.opencontainers.image.ref.name":"multi"}}}}]}}"#
        ),
    )
    .unwrap();
}

#[test]
fn manifest_lists_by_platform() {
    if !root() {
        return;
    }
    let Some(reg) = Registry::start("multi", None) else {
        return;
    };
    let r = Root::new("pull-multi");
    let layout = r.0.join("layout");
    multi_arch_layout(&layout);
    reg.push(
        &format!("oci:{}:multi", layout.display()),
        "test/multi:1",
        &["--all"],
    );
    let name = format!("{}/test/multi:1", reg.addr());
    let index_digest = reg.digest("test/multi:1", &[]);
    let out = ok(&r, &["pull", &name]);
    assert!(out.contains(&format!("Digest: {index_digest}\n")), "{out}");
    // The host's platform (amd64 here), then arm64 by --platform: the
    // busybox layer is shared, only the arch layer is new.
    assert_eq!(ok(&r, &["run", "--rm", &name]), "amd64\n");
    let out = ok(&r, &["pull", "--platform", "linux/arm64", &name]);
    assert_eq!(out.matches("Already exists").count(), 1, "{out}");
    assert_eq!(out.matches("Pull complete").count(), 1, "{out}");
    assert_eq!(ok(&r, &["run", "--rm", &name]), "arm64\n");
    let ins = ok(&r, &["image", "inspect", &name]);
    assert!(ins.contains("\"Architecture\": \"arm64\""), "{ins}");
    assert_eq!(
        ok(
            &r,
            &[
                "run",
                "--rm",
                "--pull",
                "always",
                "--platform",
                "linux/amd64",
                &name
            ]
        ),
        "amd64\n"
    );
    let o = r.out(&["pull", "--platform", "linux/s390x", &name]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert_eq!(
        stderr(&o),
        "pocket: no matching manifest for linux/s390x in the manifest list entries\n"
    );
    let o = r.out(&["pull", "--platform", "linux", &name]);
    assert_eq!(o.status.code(), Some(125), "{o:?}");
}

/// A registry behind htpasswd (alice:s3cret) holding private/bb:1.
fn private_registry(tag: &str) -> Option<Registry> {
    let reg = Registry::start(tag, Some(("alice", "s3cret")))?;
    reg.push(
        &busybox_archive(),
        "private/bb:1",
        &["--dest-creds", "alice:s3cret"],
    );
    Some(reg)
}

#[test]
fn basic_auth_with_dockers_stored_credentials() {
    if !root() {
        return;
    }
    let Some(reg) = private_registry("auth") else {
        return;
    };
    let r = Root::new("pull-auth");
    let name = format!("{}/private/bb:1", reg.addr());
    let cfg = r.0.join("dockercfg");
    std::fs::create_dir_all(&cfg).unwrap();
    let o = r
        .cmd(&["pull", &name])
        .env("DOCKER_CONFIG", &cfg)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert_eq!(
        stderr(&o),
        format!(
            "pocket: pull access denied for {}/private/bb, repository does not exist or may require 'pocket login'\n",
            reg.addr()
        )
    );
    // Wrong password: denied too.
    std::fs::write(
        cfg.join("config.json"),
        format!(
            r#"{{"auths":{{"{}":{{"auth":"YWxpY2U6bm9wZQ=="}}}}}}"#,
            reg.addr()
        ),
    )
    .unwrap();
    let o = r
        .cmd(&["pull", &name])
        .env("DOCKER_CONFIG", &cfg)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    // alice:s3cret, as `docker login` writes it.
    std::fs::write(
        cfg.join("config.json"),
        format!(
            r#"{{"auths":{{"{}":{{"auth":"YWxpY2U6czNjcmV0"}}}}}}"#,
            reg.addr()
        ),
    )
    .unwrap();
    let o = r
        .cmd(&["pull", "-q", &name])
        .env("DOCKER_CONFIG", &cfg)
        .output()
        .unwrap();
    assert_eq!(
        (o.status.code(), stdout(&o)),
        (Some(0), format!("{name}\n")),
        "{o:?}"
    );
    assert!(!stdout(&o).contains("s3cret") && !stderr(&o).contains("s3cret"));
}

/// `login` checks the credentials with the registry, then keeps them as
/// docker does (config.json, 0600, base64 user:pass); `pull` uses them;
/// `logout` removes them.
#[test]
fn login_and_logout_keep_dockers_config() {
    if !root() {
        return;
    }
    let Some(reg) = private_registry("login") else {
        return;
    };
    let r = Root::new("login");
    let cfg = r.0.join("dockercfg");
    let addr = reg.addr();
    let name = format!("{addr}/private/bb:1");
    let run = |args: &[&str], input: &str| {
        let mut c = r.cmd(args);
        c.env("DOCKER_CONFIG", &cfg)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut ch = c.spawn().unwrap();
        // (pocket may refuse before it reads: EPIPE is no failure here)
        let _ = ch.stdin.take().unwrap().write_all(input.as_bytes());
        ch.wait_with_output().unwrap()
    };
    let o = run(
        &["login", "-u", "alice", "--password-stdin", &addr],
        "wrong\n",
    );
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert_eq!(
        stderr(&o),
        format!("pocket: login {addr}: unauthorized: incorrect username or password\n")
    );
    assert!(
        !cfg.join("config.json").exists(),
        "nothing kept for refused credentials"
    );
    let o = run(&["login", "--password-stdin", &addr], "s3cret\n");
    assert_eq!(o.status.code(), Some(125), "{o:?}");
    let o = run(&["login", &addr], "");
    assert_eq!(
        stderr(&o),
        "pocket: Cannot perform an interactive login from a non TTY device\n",
        "{o:?}"
    );
    let o = run(
        &["login", "-u", "alice", "--password-stdin", &addr],
        "s3cret\n",
    );
    assert_eq!(
        (o.status.code(), stdout(&o).as_str()),
        (Some(0), "Login Succeeded\n"),
        "{o:?}"
    );
    assert!(!stdout(&o).contains("s3cret") && !stderr(&o).contains("s3cret"));
    let meta = std::fs::metadata(cfg.join("config.json")).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777,
        0o600
    );
    let doc = std::fs::read_to_string(cfg.join("config.json")).unwrap();
    assert!(
        doc.contains(&format!("\"{addr}\"")) && doc.contains("\"auth\": \"YWxpY2U6czNjcmV0\""),
        "{doc}"
    );
    let o = run(&["pull", "-q", &name], "");
    assert_eq!(
        (o.status.code(), stdout(&o)),
        (Some(0), format!("{name}\n")),
        "{o:?}"
    );
    let o = run(&["logout", &addr], "");
    assert_eq!(
        stdout(&o),
        format!("Removing login credentials for {addr}\n"),
        "{o:?}"
    );
    let o = run(&["logout", &addr], "");
    assert_eq!(stdout(&o), format!("Not logged in to {addr}\n"), "{o:?}");
    let r2 = Root::new("login2");
    let o = r2
        .cmd(&["pull", &name])
        .env("DOCKER_CONFIG", &cfg)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    // -p works too, with docker's warning.
    let o = run(&["login", "-u", "alice", "-p", "s3cret", &addr], "");
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(
        stderr(&o),
        "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n"
    );
}

/// A CA, and server certificates for 127.0.0.1: signed by it, signed by
/// it but expired, for another address, and self-signed.
fn make_certs(d: &Path) {
    std::fs::create_dir_all(d).unwrap();
    let ec = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
    sh(&format!(
        "cd {0} && openssl req -x509 {ec} -keyout ca.key -out ca.crt -subj '/CN=pocket test CA' -days 2 2>/dev/null \
         && printf 'subjectAltName=IP:127.0.0.1\\n' >ip1 && printf 'subjectAltName=IP:127.0.0.2\\n' >ip2 \
         && for n in good expired other; do openssl req {ec} -keyout $n.key -out $n.csr -subj /CN=127.0.0.1 2>/dev/null; done \
         && openssl x509 -req -in good.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out good.crt -days 2 -extfile ip1 2>/dev/null \
         && openssl x509 -req -in expired.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out expired.crt -days 0 -extfile ip1 2>/dev/null \
         && openssl x509 -req -in other.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out other.crt -days 2 -extfile ip2 2>/dev/null \
         && openssl req -x509 {ec} -keyout self.key -out self.crt -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -days 2 2>/dev/null",
        d.display()
    ));
}

/// HTTPS registries: the chain, the validity and the name are checked
/// against the CAs of certs.d (docker's layout) or of the bundle; an
/// untrusted, self-signed, expired or misnamed certificate is refused and
/// nothing is pulled, and plain HTTP is never tried against a TLS server.
#[test]
fn tls_registries_verified_by_their_certificates() {
    if !root() {
        return;
    }
    if !have("openssl") {
        features::skip(
            "TLS registry tests",
            "no openssl to make the test certificates",
        );
        return;
    }
    let r = Root::new("pull-tls-ok");
    let certs = r.0.join("certs");
    make_certs(&certs);
    // The expired one ends the second it was made (openssl -days 0).
    let made = Instant::now();
    let c = |n: &str| certs.join(n);
    let (gc, gk) = (c("good.crt"), c("good.key"));
    let Some(reg) = Registry::start_tls("tls", None, Some((&gc, &gk))) else {
        return;
    };
    reg.push(&busybox_archive(), "secure/bb:1", &[]);
    let name = format!("{}/secure/bb:1", reg.addr());
    let certs_d = r.0.join("certs.d");
    std::fs::create_dir_all(certs_d.join(reg.addr())).unwrap();
    let none = r.0.join("no-bundle.crt");
    std::fs::write(&none, "").unwrap();
    let pull = |root: &Root, certs_d: &Path, bundle: &Path, name: &str| {
        root.cmd(&["pull", "-q", name])
            .env("POCKET_CERTS_D", certs_d)
            .env("SSL_CERT_FILE", bundle)
            .output()
            .unwrap()
    };
    // Not trusted yet: refused, nothing kept, no plain-HTTP retry.
    let o = pull(&r, &certs_d, &none, &name);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(
        stderr(&o).contains("x509: certificate signed by unknown authority"),
        "{o:?}"
    );
    assert_eq!(stderr(&o).lines().count(), 1, "{o:?}");
    assert_eq!(image_docs(&r), 0);
    // The CA in certs.d/HOST:PORT/ca.crt, as docker reads it.
    std::fs::copy(c("ca.crt"), certs_d.join(reg.addr()).join("ca.crt")).unwrap();
    let o = pull(&r, &certs_d, &none, &name);
    assert_eq!(
        (o.status.code(), stdout(&o)),
        (Some(0), format!("{name}\n")),
        "{o:?}"
    );
    assert_eq!(
        ok(&r, &["run", "--rm", &name, "echo", "over tls"]),
        "over tls\n"
    );
    // Or in the bundle ($SSL_CERT_FILE).
    let r2 = Root::new("pull-tls-bundle");
    let o = pull(&r2, &r.0.join("empty.d"), &c("ca.crt"), &name);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    // Expired, for another address, self-signed: refused even with the CA.
    if let Some(d) = Duration::from_millis(2100).checked_sub(made.elapsed()) {
        std::thread::sleep(d);
    }
    for (crt, key, why) in [
        (
            "expired.crt",
            "expired.key",
            "x509: certificate has expired or is not yet valid",
        ),
        (
            "other.crt",
            "other.key",
            "x509: certificate is not valid for this host",
        ),
        ("self.crt", "self.key", "x509: certificate not accepted"),
    ] {
        let (cc, kk) = (c(crt), c(key));
        let bad = Registry::start_tls(crt, None, Some((&cc, &kk))).unwrap();
        std::fs::create_dir_all(certs_d.join(bad.addr())).unwrap();
        std::fs::copy(c("ca.crt"), certs_d.join(bad.addr()).join("ca.crt")).unwrap();
        let r3 = Root::new("pull-tls-bad");
        let o = pull(
            &r3,
            &certs_d,
            &c("ca.crt"),
            &format!("{}/secure/bb:1", bad.addr()),
        );
        assert_eq!(o.status.code(), Some(1), "{crt}: {o:?}");
        assert!(stderr(&o).contains(why), "{crt}: {o:?}");
        assert_eq!(image_docs(&r3), 0);
    }
}

#[test]
fn unknown_hosts_and_bad_names_are_one_line_errors() {
    if !root() {
        return;
    }
    let r = Root::new("pull-tls");
    let o = r.out(&["pull", "registry.example.invalid/a/b"]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert_eq!(
        stderr(&o),
        "pocket: lookup registry.example.invalid: no such host\n",
        "{o:?}"
    );
    let o = r.out(&["pull", "Bad/Name"]);
    assert_eq!(o.status.code(), Some(125), "{o:?}");
    assert_eq!(
        stderr(&o),
        "pocket: invalid reference format: repository name (Name) must be lowercase\n"
    );
}

// ---------------------------------------------------------------------
// A fake registry: one image of two gzip layers, served over keep-alive
// HTTP/1.1; the second layer can be cut off or corrupted, and access can
// need a Bearer token from its own token service.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Good,
    Cut,
    Corrupt,
    /// The blob, then a megabyte more than the manifest's size.
    Long,
}

struct Fake {
    port: u16,
    mode: Arc<Mutex<Mode>>,
    /// Request lines and their Authorization headers, in order.
    seen: Arc<Mutex<Vec<(String, String)>>>,
}

struct Blobs {
    manifest: Vec<u8>,
    blobs: HashMap<String, Vec<u8>>,
    layer2: String,
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut c = Command::new("gzip")
        .args(["-c", "-n"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut i = c.stdin.take().unwrap();
    let data = b.to_vec();
    let w = std::thread::spawn(move || i.write_all(&data));
    let o = c.wait_with_output().unwrap();
    w.join().unwrap().unwrap();
    o.stdout
}

fn fake_image(dir: &Path) -> Blobs {
    let base = busybox_base_layer();
    let t = dir.join("l2");
    std::fs::create_dir_all(&t).unwrap();
    // Big enough that a cut lands inside it.
    let big: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(t.join("big"), &big).unwrap();
    let l2 = Command::new("tar")
        .args(["--owner=0", "--group=0", "--mtime=@0", "-C"])
        .arg(&t)
        .args(["-c", "big"])
        .output()
        .unwrap()
        .stdout;
    let mut blobs = HashMap::new();
    let mut descs = Vec::new();
    let mut diffs = Vec::new();
    for raw in [&base, &l2] {
        diffs.push(format!("\"sha256:{}\"", sha256_hex(raw)));
        let gz = gzip(raw);
        let d = format!("sha256:{}", sha256_hex(&gz));
        descs.push(format!(
            r#"{{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","digest":"{d}","size":{}}}"#,
            gz.len()
        ));
        blobs.insert(d, gz);
    }
    let layer2 = blobs
        .keys()
        .find(|k| descs[1].contains(k.as_str()))
        .unwrap()
        .clone();
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","config":{{"Cmd":["sh","-c","wc -c </big"]}},"rootfs":{{"type":"layers","diff_ids":[{}]}}}}"#,
        diffs.join(",")
    );
    let cd = format!("sha256:{}", sha256_hex(config.as_bytes()));
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"{cd}","size":{}}},"layers":[{}]}}"#,
        config.len(),
        descs.join(",")
    );
    blobs.insert(cd, config.into_bytes());
    Blobs {
        manifest: manifest.into_bytes(),
        blobs,
        layer2,
    }
}

impl Fake {
    fn start(dir: &Path, token: bool) -> Fake {
        let img = Arc::new(fake_image(dir));
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let mode = Arc::new(Mutex::new(Mode::Good));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (m, s) = (mode.clone(), seen.clone());
        std::thread::spawn(move || {
            for c in l.incoming().flatten() {
                let (img, m, s) = (img.clone(), m.clone(), s.clone());
                std::thread::spawn(move || serve(c, &img, &m, &s, port, token));
            }
        });
        Fake { port, mode, seen }
    }
    fn set(&self, m: Mode) {
        *self.mode.lock().unwrap() = m;
    }
    fn name(&self) -> String {
        format!("127.0.0.1:{}/fake/app:v1", self.port)
    }
}

fn serve(
    c: TcpStream,
    img: &Blobs,
    mode: &Mutex<Mode>,
    seen: &Mutex<Vec<(String, String)>>,
    port: u16,
    token: bool,
) {
    let mut w = c.try_clone().unwrap();
    let mut r = BufReader::new(c);
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end().to_string();
        let mut authz = String::new();
        loop {
            let mut h = String::new();
            if r.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some(v) = h.strip_prefix("Authorization: ") {
                authz = v.to_string();
            }
        }
        seen.lock().unwrap().push((line.clone(), authz.clone()));
        let path = line.split(' ').nth(1).unwrap_or("").to_string();
        let send = |w: &mut TcpStream, status: &str, headers: &str, body: &[u8]| {
            let _ = write!(
                w,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\n{headers}\r\n",
                body.len()
            );
            let _ = w.write_all(body);
        };
        if path.starts_with("/token") {
            // Anonymous, or u:p; any other credentials are refused.
            if !authz.is_empty() && authz != "Basic dTpw" {
                send(&mut w, "401 Unauthorized", "", b"{}");
                continue;
            }
            send(
                &mut w,
                "200 OK",
                "Content-Type: application/json\r\n",
                br#"{"token":"good-token"}"#,
            );
            continue;
        }
        if token && authz != "Bearer good-token" {
            let h = format!(
                "WWW-Authenticate: Bearer realm=\"http://127.0.0.1:{port}/token\",service=\"fake\",scope=\"repository:fake/app:pull\"\r\n"
            );
            send(
                &mut w,
                "401 Unauthorized",
                &h,
                br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
            );
            continue;
        }
        if path == "/v2/fake/app/manifests/v1" {
            send(
                &mut w,
                "200 OK",
                "Content-Type: application/vnd.docker.distribution.manifest.v2+json\r\n",
                &img.manifest,
            );
            continue;
        }
        let Some(d) = path.strip_prefix("/v2/fake/app/blobs/") else {
            send(&mut w, "404 Not Found", "", br#"{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}"#);
            continue;
        };
        let Some(b) = img.blobs.get(d) else {
            send(
                &mut w,
                "404 Not Found",
                "",
                br#"{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}"#,
            );
            continue;
        };
        let m = *mode.lock().unwrap();
        if d == img.layer2 && m == Mode::Cut {
            // The whole length promised, a third sent, then the server dies.
            let _ = write!(w, "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", b.len());
            let _ = w.write_all(&b[..b.len() / 3]);
            return;
        }
        if d == img.layer2 && m == Mode::Corrupt {
            // A byte of the gzip header's mtime: the layer still inflates
            // to the right tar (no CRC covers it), so only the blob's
            // digest can tell.
            let mut bad = b.clone();
            bad[4] ^= 0x55;
            send(&mut w, "200 OK", "", &bad);
            continue;
        }
        // Chunked, as registries behind proxies answer.
        let _ = write!(w, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        let mut b = b.clone();
        if d == img.layer2 && m == Mode::Long {
            b.extend(std::iter::repeat_n(0u8, 1 << 20));
        }
        for part in b.chunks(100_000) {
            let _ = write!(w, "{:x};ext=1\r\n", part.len());
            let _ = w.write_all(part);
            let _ = w.write_all(b"\r\n");
        }
        let _ = w.write_all(b"0\r\nX-Trailer: t\r\n\r\n");
    }
}

#[test]
fn an_interrupted_or_corrupt_pull_leaves_no_image_and_resumes() {
    if !root() {
        return;
    }
    let r = Root::new("pull-cut");
    let fake = Fake::start(&r.0, false);
    let name = fake.name();
    for (mode, why) in [
        (Mode::Cut, "Broken pipe"),
        (Mode::Corrupt, "digest mismatch: the blob is corrupt"),
        (Mode::Long, "File too large"),
    ] {
        fake.set(mode);
        let o = r.out(&["pull", &name]);
        assert_ne!(o.status.code(), Some(0), "{o:?}");
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(why), "{err}");
        assert_eq!(image_docs(&r), 0, "an image was written: {err}");
        assert!(tmp_is_empty(&r), "a partial layer stayed in tmp/");
        let o = r.out(&["run", "--rm", "--pull", "never", &name, "true"]);
        assert_eq!(o.status.code(), Some(125), "{o:?}");
    }
    // The first layer was complete and verified: kept, not fetched again.
    fake.set(Mode::Good);
    let before = fake.seen.lock().unwrap().len();
    let out = ok(&r, &["pull", &name]);
    assert_eq!(out.matches("Already exists").count(), 1, "{out}");
    assert_eq!(out.matches("Pull complete").count(), 1, "{out}");
    let blob_gets = fake.seen.lock().unwrap()[before..]
        .iter()
        .filter(|(l, _)| l.contains("/blobs/"))
        .count();
    assert_eq!(blob_gets, 2, "config and the second layer only");
    assert_eq!(ok(&r, &["run", "--rm", &name]).trim(), "3000000");
}

#[test]
fn bearer_tokens_from_the_registrys_token_service() {
    if !root() {
        return;
    }
    let r = Root::new("pull-token");
    let fake = Fake::start(&r.0, true);
    let cfg = r.0.join("dockercfg");
    std::fs::create_dir_all(&cfg).unwrap();
    // Anonymous: a token for the repository's pull scope.
    let o = r
        .cmd(&["pull", "-q", &fake.name()])
        .env("DOCKER_CONFIG", &cfg)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let seen = fake.seen.lock().unwrap().clone();
    let tok: Vec<_> = seen
        .iter()
        .filter(|(l, _)| l.starts_with("GET /token?"))
        .collect();
    assert_eq!(tok.len(), 1, "{seen:?}");
    assert!(
        tok[0].0.contains("service=fake")
            && tok[0].0.contains("scope=repository%3Afake%2Fapp%3Apull"),
        "{seen:?}"
    );
    assert_eq!(tok[0].1, "", "anonymous");
    assert!(
        seen.iter()
            .filter(|(l, _)| l.contains("/blobs/"))
            .all(|(_, a)| a == "Bearer good-token"),
        "{seen:?}"
    );
    // With stored credentials: the token request carries them, Basic.
    std::fs::write(
        cfg.join("config.json"),
        format!(
            r#"{{"auths":{{"127.0.0.1:{}":{{"auth":"dTpw"}}}}}}"#,
            fake.port
        ),
    )
    .unwrap();
    let r2 = Root::new("pull-token2");
    let o = r2
        .cmd(&["pull", "-q", &fake.name()])
        .env("DOCKER_CONFIG", &cfg)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let seen = fake.seen.lock().unwrap().clone();
    let last_tok = seen
        .iter()
        .rev()
        .find(|(l, _)| l.starts_with("GET /token?"))
        .unwrap();
    assert_eq!(last_tok.1, "Basic dTpw");
    // `login` against the token service: u:p opens it, u:x does not.
    let cfg2 = r.0.join("dockercfg2");
    let addr = format!("127.0.0.1:{}", fake.port);
    let login = |pw: &str| {
        let mut c = r.cmd(&["login", "-u", "u", "--password-stdin", &addr]);
        c.env("DOCKER_CONFIG", &cfg2)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut ch = c.spawn().unwrap();
        let _ = ch
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{pw}\n").as_bytes());
        ch.wait_with_output().unwrap()
    };
    let o = login("x");
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert_eq!(
        stderr(&o),
        format!("pocket: login {addr}: unauthorized: incorrect username or password\n")
    );
    assert!(!cfg2.join("config.json").exists());
    let o = login("p");
    assert_eq!(
        (o.status.code(), stdout(&o).as_str()),
        (Some(0), "Login Succeeded\n"),
        "{o:?}"
    );
}

/// On a terminal each layer's line counts up in place while it downloads
/// (`abc123def456: Downloading  1.2MB/3.0MB`), then reads "Pull complete";
/// on a pipe only the final lines come (the other tests check them whole).
#[test]
fn progress_on_a_terminal_one_line_per_layer() {
    if !root() {
        return;
    }
    let r = Root::new("pull-tty");
    let fake = Fake::start(&r.0, false);
    let (mut master, slave) = pty();
    let mut c = r.cmd(&["pull", &fake.name()]);
    c.stdout(slave.try_clone().unwrap()).stderr(Stdio::piped());
    let child = c.spawn().unwrap();
    drop(slave);
    drop(c);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let mut out = Vec::new();
    let mut b = [0u8; 65536];
    loop {
        match std::io::Read::read(&mut master, &mut b) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&b[..n]),
        }
    }
    let out = String::from_utf8_lossy(&out).replace("\r\n", "\n");
    let layers: Vec<&str> = out
        .lines()
        .filter(|l| l.ends_with(": Pull complete"))
        .collect();
    assert_eq!(layers.len(), 2, "{out:?}");
    for l in layers {
        let name = l
            .rsplit("\x1b[K")
            .next()
            .unwrap()
            .split(':')
            .next()
            .unwrap();
        assert!(
            out.contains(&format!("\x1b[K{name}: Downloading  ")),
            "no progress for {name}: {out:?}"
        );
        assert!(
            l.ends_with(&format!("\r\x1b[K{name}: Pull complete")),
            "{l:?}"
        );
    }
}

/// `push` of what commit, pull and save made: skopeo sees the manifest
/// push printed; a fresh store pulls it back with that digest and the
/// same image id; a layer bigger than a chunk goes up in PATCHes and a
/// small one in a single PUT; a second push sends nothing; another
/// repository of the registry mounts the layers instead.
#[test]
fn push_then_pull_back_bit_for_bit() {
    if !root() {
        return;
    }
    let Some(reg) = Registry::start("push", None) else {
        return;
    };
    let addr = reg.addr();
    let r = Root::new("push");
    load_busybox(&r);
    // A container's changes: a word and 10 MB that do not compress (more
    // than one 8 MiB chunk).
    ok(
        &r,
        &[
            "run",
            "--name",
            "maker",
            "busybox",
            "sh",
            "-c",
            "echo pushed >/hello && head -c 10000000 /dev/urandom >/big",
        ],
    );
    let app = format!("{addr}/app:1");
    ok(&r, &["commit", "maker", &app]);
    ok(&r, &["rm", "maker"]);

    let out = ok(&r, &["push", &app]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        format!("The push refers to repository [{addr}/app]"),
        "{out}"
    );
    assert_eq!(lines.len(), 4, "{out}");
    for l in &lines[1..3] {
        assert!(l.len() == 12 + 8 && l.ends_with(": Pushed"), "{out}");
    }
    let (tag, rest) = lines[3].split_once(": digest: ").expect(&out);
    assert_eq!(tag, "1", "{out}");
    let (digest, size) = rest.split_once(" size: ").expect(&out);
    // skopeo reads what pocket says it pushed.
    assert_eq!(reg.digest("app:1", &[]), digest);
    let raw = Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{app}"))
        .output()
        .unwrap()
        .stdout;
    assert_eq!(raw.len().to_string(), size);
    let info = sh(&format!("skopeo inspect --tls-verify=false docker://{app}"));
    let info = json(&info).unwrap();
    assert_eq!(info.get("Digest").str(), digest);
    assert_eq!(info.get("Layers").arr().len(), 2, "{info:?}");
    assert_eq!(info.get("Os").str(), "linux");

    // Chunked for the big layer, one PUT for the small ones (and config).
    let reqs = reg.requests();
    let upload = |p: &str| p.split('?').next().unwrap_or("").to_string();
    let patched: Vec<String> = reqs
        .iter()
        .filter(|(m, p)| m == "PATCH" && p.starts_with("/v2/app/blobs/uploads/"))
        .map(|(_, p)| upload(p))
        .collect();
    assert!(patched.len() >= 2, "{reqs:?}");
    let whole = reqs
        .iter()
        .filter(|(m, p)| m == "PUT" && p.contains("digest=") && !patched.contains(&upload(p)))
        .count();
    assert!(whole >= 2, "layer and config in one PUT each: {reqs:?}");

    // Again: the registry has every layer; the same manifest.
    let again = ok(&r, &["push", &app]);
    assert_eq!(
        again.matches(": Layer already exists").count(),
        2,
        "{again}"
    );
    assert!(
        again.ends_with(&format!("1: digest: {digest} size: {size}\n")),
        "{again}"
    );

    // Pulled back elsewhere: that digest, the files, and pushed from there
    // to another repository, the same manifest, its layers mounted.
    let r2 = Root::new("push-back");
    let pulled = ok(&r2, &["pull", &app]);
    assert!(pulled.contains(&format!("Digest: {digest}\n")), "{pulled}");
    assert_eq!(ok(&r2, &["run", "--rm", &app, "cat", "/hello"]), "pushed\n");
    assert_eq!(
        ok(&r2, &["run", "--rm", &app, "sh", "-c", "wc -c </big"]).trim(),
        "10000000"
    );
    let copy = format!("{addr}/copy:1");
    ok(&r2, &["tag", &app, &copy]);
    let out = ok(&r2, &["push", &copy]);
    assert_eq!(out.matches(": Mounted from app").count(), 2, "{out}");
    assert!(
        out.ends_with(&format!("1: digest: {digest} size: {size}\n")),
        "{out}"
    );
    let id2 = ok(&r2, &["images", "-q", "--no-trunc", &app]);

    // What save wrote, loaded into a third store: the same image id, and
    // pushed, the same manifest.
    let tar = r2.0.join("saved.tar");
    ok(&r2, &["save", "-o", tar.to_str().unwrap(), &app]);
    let r3 = Root::new("push-saved");
    ok(&r3, &["load", "-i", tar.to_str().unwrap()]);
    assert_eq!(ok(&r3, &["images", "-q", "--no-trunc", &app]), id2);
    let out = ok(&r3, &["push", &app]);
    assert!(
        out.ends_with(&format!("1: digest: {digest} size: {size}\n")),
        "{out}"
    );

    // A commit onto layers pocket wrote: pulled back, the very image id.
    ok(
        &r2,
        &["run", "--name", "c2", &app, "sh", "-c", "echo two >/two"],
    );
    let v2 = format!("{addr}/app:2");
    let made = ok(&r2, &["commit", "c2", &v2]);
    ok(&r2, &["rm", "c2"]);
    ok(&r2, &["push", "-q", &v2]);
    let r4 = Root::new("push-commit");
    ok(&r4, &["pull", "-q", &v2]);
    assert_eq!(ok(&r4, &["images", "-q", "--no-trunc", &v2]), made);
    assert_eq!(ok(&r4, &["run", "--rm", &v2, "cat", "/two"]), "two\n");
    // `images --digests` knows what push recorded.
    let listed = ok(&r, &["images", "--digests", &app]);
    assert!(listed.contains(digest), "{listed}");
    assert!(tmp_is_empty(&r) && tmp_is_empty(&r2));
}

/// push's refusals in docker's words: no such local tag, a digest, -a
/// with a tag, no credentials for a registry that wants them; with
/// `login`, it goes; -a pushes every tag of the name, -q prints the
/// references only.
#[test]
fn push_refusals_credentials_and_all_tags() {
    if !root() {
        return;
    }
    let Some(reg) = private_registry("push-auth") else {
        return;
    };
    let addr = reg.addr();
    let r = Root::new("push-auth");
    let cfg = r.0.join("dockercfg");
    std::fs::create_dir_all(&cfg).unwrap();
    let pocket = |args: &[&str]| r.cmd(args).env("DOCKER_CONFIG", &cfg).output().unwrap();
    load_busybox(&r);
    let o = pocket(&["push", &format!("{addr}/nope:1")]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert_eq!(
        stderr(&o),
        format!("pocket: An image does not exist locally with the tag: {addr}/nope\n")
    );
    let d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let o = pocket(&["push", &format!("{addr}/bb@{d}")]);
    assert_eq!(o.status.code(), Some(125), "{o:?}");
    one_error_line(&o, "digest reference");
    assert!(stderr(&o).contains("digest reference"), "{o:?}");
    let o = pocket(&["push", "-a", &format!("{addr}/bb:1")]);
    assert_eq!(o.status.code(), Some(125), "{o:?}");
    one_error_line(&o, "all-tags");
    assert!(stderr(&o).contains("all-tags"), "{o:?}");

    for t in ["1", "2"] {
        ok(&r, &["tag", "busybox", &format!("{addr}/team/bb:{t}")]);
    }
    let o = pocket(&["push", &format!("{addr}/team/bb:1")]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(
        stderr(&o).ends_with("pocket: no basic auth credentials\n"),
        "{o:?}"
    );
    // Wrong credentials: the registry's refusal.
    std::fs::write(
        cfg.join("config.json"),
        format!(r#"{{"auths":{{"{addr}":{{"auth":"YWxpY2U6bm9wZQ=="}}}}}}"#),
    )
    .unwrap();
    let o = pocket(&["push", &format!("{addr}/team/bb:1")]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    // (after docker's first line, as docker)
    assert_eq!(
        stdout(&o),
        format!("The push refers to repository [{addr}/team/bb]\n")
    );
    assert!(
        stderr(&o).starts_with("pocket: unauthorized: ") && stderr(&o).lines().count() == 1,
        "{o:?}"
    );
    let mut c = r.cmd(&["login", "-u", "alice", "--password-stdin", &addr]);
    c.env("DOCKER_CONFIG", &cfg)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let mut ch = c.spawn().unwrap();
    ch.stdin.take().unwrap().write_all(b"s3cret\n").unwrap();
    assert!(ch.wait_with_output().unwrap().status.success());
    let o = pocket(&["push", "-q", "-a", &format!("{addr}/team/bb")]);
    assert_eq!(
        (o.status.code(), stdout(&o)),
        (Some(0), format!("{addr}/team/bb:1\n{addr}/team/bb:2\n")),
        "{o:?}"
    );
    let tags = sh(&format!(
        "skopeo list-tags --tls-verify=false --creds alice:s3cret docker://{addr}/team/bb"
    ));
    assert!(tags.contains("\"1\"") && tags.contains("\"2\""), "{tags}");
}

/// An image's VOLUMEs become anonymous volumes, its HEALTHCHECK runs,
/// and a VOLUME that reads like a -v value ("/:/host") is never a bind
/// of the host's root: the attack, from a hostile image's config.
#[test]
fn image_volumes_and_healthcheck_from_its_config() {
    if !root() {
        return;
    }
    test_images();
    let r = Root::new("imgcfg");
    let dir = r.0.join("layout");
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |b: &[u8]| -> (String, usize) {
        let h = sha256_hex(b);
        std::fs::write(blobs.join(&h), b).unwrap();
        (format!("sha256:{h}"), b.len())
    };
    let base = busybox_base_layer();
    let base_diff = format!("sha256:{}", sha256_hex(&base));
    let (ld, ln) = put(&base);
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","config":{{"Cmd":["sleep","60"],"Volumes":{{"/data":{{}},"/:/host":{{}}}},"Healthcheck":{{"Test":["CMD-SHELL","echo img-check"],"Interval":200000000,"Retries":1}}}},"rootfs":{{"type":"layers","diff_ids":["{base_diff}"]}}}}"#
    );
    let (cd, cn) = put(config.as_bytes());
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{cd}","size":{cn}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{ld}","size":{ln}}}]}}"#
    );
    let (md, mn) = put(manifest.as_bytes());
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    std::fs::write(
        dir.join("index.json"),
        format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{md}","size":{mn},"annotations":{{"org.opencontainers.image.ref.name":"cfg:latest"}}}}]}}"#
        ),
    )
    .unwrap();
    let o = r.out(&["load", "-q", "-i", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = r.out(&["run", "-d", "--name", "cfgc", "cfg"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("ignoring the image's VOLUME \"/:/host\""),
        "{}",
        stderr(&o)
    );
    // No /host at all, let alone the host's root; /data is a volume.
    let ls = r.out(&["exec", "cfgc", "ls", "/host"]);
    assert_ne!(ls.status.code(), Some(0), "{}", stdout(&ls));
    let vols = stdout(&r.out(&["volume", "ls", "-q"]));
    assert_eq!(vols.lines().count(), 1, "{vols}");
    let mounts = stdout(&r.out(&["exec", "cfgc", "cat", "/proc/mounts"]));
    assert!(
        mounts.lines().any(|l| l.split(' ').nth(1) == Some("/data")),
        "{mounts}"
    );
    assert!(
        !mounts.lines().any(|l| l.split(' ').nth(1) == Some("/host")),
        "{mounts}"
    );
    // The image's HEALTHCHECK: healthy, its output in the log.
    wait_for(20, "healthy", || {
        stdout(&r.out(&["ps"])).contains("(healthy)").then_some(())
    });
    let h = stdout(&r.out(&[
        "inspect",
        "-f",
        "{{(index .State.Health.Log 0).Output}}",
        "cfgc",
    ]));
    assert_eq!(h, "img-check\n\n");
    // --no-healthcheck drops it.
    let o = r.out(&["run", "-d", "--no-healthcheck", "cfg"]);
    let id = stdout(&o).trim().to_string();
    let f = stdout(&r.out(&["inspect", "-f", "{{json .Config.Healthcheck}}", &id]));
    assert_eq!(f, "null\n");
}
