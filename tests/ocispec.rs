//! config.json, field by field, through the real spawn path, without the
//! OCI front end: each test writes a config.json (shaped like podman's),
//! reads it with `spec::oci::from_bundle` and runs it with
//! `spawn::parent::{start, create}` in this very process, as root, on a
//! private copy of the busybox rootfs. What the container sees is checked
//! from inside (its output) and from the host (cgroups, mounts, files).
//!
//! `harness = false` (Cargo.toml): the spawn path wants a single-threaded
//! caller (setns into a pid namespace, clone), which libtest's threads are
//! not. Run one test: `cargo test --release --test ocispec -- NAME`.

mod common;
use pocket::json::{self, Value};
use pocket::spawn::parent::{self, Output, Running, Waiting};
use pocket::spec::Spec;
use pocket::sys::proc;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A private copy of the busybox rootfs, and a directory for output that
/// containers get at /tmp.
struct Bundle {
    dir: PathBuf,
    rootfs: PathBuf,
    out: PathBuf,
}

impl Bundle {
    fn new(tag: &str) -> Bundle {
        let dir = std::env::temp_dir().join(format!("pocket-ocispec-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("out")).unwrap();
        let st = Command::new("cp")
            .arg("-a")
            .arg(common::rootfs())
            .arg(dir.join("rootfs"))
            .status()
            .unwrap();
        assert!(st.success());
        Bundle {
            rootfs: dir.join("rootfs"),
            out: dir.join("out"),
            dir,
        }
    }

    fn cgroup(&self) -> String {
        format!(
            "/pocket/ocispec-{}",
            self.dir.file_name().unwrap().to_string_lossy()
        )
    }

    /// podman's config.json for `podman run --read-only IMAGE sh -c SCRIPT`
    /// (podman 4.3, trimmed), root.path relative as containerd writes it.
    fn config(&self, script: &str) -> Value {
        let text = format!(
            r#"{{
  "ociVersion": "1.0.2-dev",
  "process": {{
    "user": {{"uid": 0, "gid": 0, "umask": 18}},
    "args": ["/bin/sh", "-c", {script}],
    "env": ["PATH=/bin:/sbin:/usr/bin", "container=podman"],
    "cwd": "/",
    "capabilities": {{
      "bounding": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT"],
      "effective": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT"],
      "permitted": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT"]
    }},
    "rlimits": [{{"type": "RLIMIT_NOFILE", "hard": 4096, "soft": 1024}}, {{"type": "RLIMIT_NPROC", "hard": 6000, "soft": 5000}}],
    "oomScoreAdj": 0,
    "apparmorProfile": "containers-default-0.50.1"
  }},
  "root": {{"path": "rootfs", "readonly": true}},
  "hostname": "podhost",
  "mounts": [
    {{"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]}},
    {{"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}},
    {{"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]}},
    {{"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]}},
    {{"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nodev", "noexec", "nosuid"]}},
    {{"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]}},
    {{"destination": "/tmp", "type": "bind", "source": {out:?}, "options": ["bind", "rprivate", "nosuid", "nodev"]}}
  ],
  "annotations": {{"io.podman.annotations.autoremove": "FALSE"}},
  "linux": {{
    "resources": {{"devices": [{{"allow": false, "access": "rwm"}},
      {{"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"}},
      {{"allow": true, "type": "c", "major": 1, "minor": 5, "access": "rwm"}},
      {{"allow": true, "type": "c", "major": 1, "minor": 7, "access": "rwm"}},
      {{"allow": true, "type": "c", "major": 1, "minor": 8, "access": "rwm"}},
      {{"allow": true, "type": "c", "major": 1, "minor": 9, "access": "rwm"}},
      {{"allow": true, "type": "c", "major": 5, "minor": 0, "access": "rwm"}},
      {{"allow": true, "type": "c", "major": 136, "access": "rwm"}},
      {{"allow": true, "type": "c", "major": 5, "minor": 2, "access": "rwm"}}],
      "pids": {{"limit": 2048}}}},
    "cgroupsPath": {cg:?},
    "namespaces": [{{"type": "pid"}}, {{"type": "network"}}, {{"type": "ipc"}}, {{"type": "uts"}}, {{"type": "mount"}}],
    "maskedPaths": ["/proc/timer_list", "/sys/firmware"],
    "readonlyPaths": ["/proc/sys", "/proc/sysrq-trigger"],
    "rootfsPropagation": "rslave"
  }}
}}"#,
            script = format!("{script:?}"),
            out = self.out.to_str().unwrap(),
            cg = self.cgroup(),
        );
        json::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}: {text}"))
    }

    fn spec(&self, v: &Value) -> pocket::error::Result<Spec> {
        pocket::spec::oci::from_bundle(self.dir.to_str().unwrap(), v)
    }

    /// Run to the end: (exit status, what it wrote on stdout and stderr).
    fn run(&self, v: &Value) -> pocket::error::Result<(i32, String)> {
        let spec = self.spec(v)?;
        let log = self.dir.join("log");
        let f = std::fs::File::create(&log).unwrap();
        let fd = f.as_raw_fd();
        let r = parent::start(
            &spec,
            Output {
                stdout: fd,
                stderr: fd,
            },
        )?;
        drop(f);
        let code = reap(r);
        Ok((code, std::fs::read_to_string(&log).unwrap()))
    }
}

impl Drop for Bundle {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Wait for the container's init, then remove its cgroup.
fn reap(mut r: Running) -> i32 {
    let (_, status) = proc::wait(r.pid, 0).unwrap();
    r.cleanup();
    proc::exit_code(status)
}

/// `v` with the member at dotted `path` set to `val` (JSON), or removed.
fn set(v: &mut Value, path: &str, val: Option<&str>) {
    let (head, last) = path
        .rsplit_once('.')
        .map_or((None, path), |(h, l)| (Some(h), l));
    let mut cur = v;
    for k in head.into_iter().flat_map(|h| h.split('.')) {
        let Value::Obj(m) = cur else { panic!("{k}") };
        if !m.iter().any(|(x, _)| x == k) {
            m.push((k.to_string(), Value::Obj(vec![])));
        }
        cur = &mut m.iter_mut().rev().find(|(x, _)| x == k).unwrap().1;
    }
    let Value::Obj(m) = cur else { panic!("{path}") };
    m.retain(|(x, _)| x != last);
    if let Some(t) = val {
        m.push((last.to_string(), json::parse(t.as_bytes()).unwrap()));
    }
}

/// The host's cgroup dirs of `path` (v1 hierarchies and v2), existing.
fn cgroup_dirs(path: &str) -> Vec<PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
        let p = e.path().join(path.trim_start_matches('/'));
        if p.exists() {
            out.push(p);
        }
    }
    if Path::new("/sys/fs/cgroup")
        .join(path.trim_start_matches('/'))
        .exists()
    {
        out.push(Path::new("/sys/fs/cgroup").join(path.trim_start_matches('/')));
    }
    out
}

fn line_of<'a>(out: &'a str, key: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(key))
        .unwrap_or_else(|| panic!("no {key:?} in:\n{out}"))
        .trim()
}

/// podman's config as podman writes it: every mount kind it uses
/// (unknown-to-the-kernel options among them), the cgroup mount,
/// tmpcopyup, read-only root, umask, rlimits, OOM score, sysctl, an
/// absolute cgroupsPath, masked and read-only paths.
fn podman_config_runs() {
    let b = Bundle::new("podman");
    let mut v = b.config(
        "umask | sed s/^/umask=/; grep -E 'open files|processes' /proc/self/limits; \
         echo oom=$(cat /proc/self/oom_score_adj); echo fwd=$(cat /proc/sys/net/ipv4/ip_forward); \
         echo host=$(hostname); echo cg=$(ls /sys/fs/cgroup | tr '\\n' ' '); \
         echo pids=$(cat /sys/fs/cgroup/pids/pids.max); \
         echo mem=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes); \
         echo memsw=$(cat /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes 2>/dev/null || echo none); \
         echo shares=$(cat /sys/fs/cgroup/cpu/cpu.shares); \
         echo cgchild=$(ls -d /sys/fs/cgroup/memory/*/ 2>/dev/null | wc -l); \
         touch /sys/fs/cgroup/x 2>/dev/null || echo cgro=yes; \
         echo 1 > /sys/fs/cgroup/pids/pids.max 2>/dev/null || echo pidsro=yes; \
         grep ' /etc ' /proc/self/mountinfo | sed 's/.* - /etcmnt=/'; \
         echo passwd=$(head -1 /etc/passwd); echo etcmode=$(stat -c %a /etc); \
         touch /etc/new && echo etcnew=ok; touch /newfile 2>/dev/null || echo rootro=yes; \
         echo masked=$(wc -c < /proc/timer_list); echo made > /tmp/made",
    );
    let memory = "134217728";
    set(
        &mut v,
        "linux.resources.memory",
        Some(&format!(r#"{{"limit":{memory},"swap":268435456}}"#)),
    );
    // containerd's cpu.shares.
    set(&mut v, "linux.resources.cpu", Some(r#"{"shares":512}"#));
    set(
        &mut v,
        "linux.sysctl",
        Some(r#"{"net.ipv4.ip_forward":"1"}"#),
    );
    set(&mut v, "process.user.umask", Some("23"));
    set(&mut v, "process.oomScoreAdj", Some("321"));
    // podman's own mounts: /etc as --read-only-tmpfs's /run would be, and
    // the cgroup tree.
    let Value::Obj(top) = &mut v else { panic!() };
    let mounts = top.iter_mut().find(|(k, _)| k == "mounts").unwrap();
    let Value::Arr(m) = &mut mounts.1 else {
        panic!()
    };
    for extra in [
        r#"{"destination":"/sys/fs/cgroup","type":"cgroup","source":"cgroup","options":["rprivate","nosuid","noexec","nodev","relatime","ro"]}"#,
        r#"{"destination":"/etc","type":"tmpfs","source":"tmpfs","options":["rw","rprivate","nosuid","nodev","tmpcopyup","size=1m"]}"#,
    ] {
        m.push(json::parse(extra.as_bytes()).unwrap());
    }
    let before = common::host_mounts().len();
    let (code, out) = b.run(&v).unwrap();
    println!("{out}");
    assert_eq!(code, 0, "{out}");
    assert_eq!(line_of(&out, "umask="), "0027");
    assert!(
        out.contains("Max open files            1024                 4096"),
        "{out}"
    );
    assert!(
        out.contains("Max processes             5000                 6000"),
        "{out}"
    );
    assert_eq!(line_of(&out, "oom="), "321");
    assert_eq!(line_of(&out, "fwd="), "1");
    assert_eq!(line_of(&out, "host="), "podhost");
    // Its own group of each hierarchy, read-only, and none of the host's.
    let cg = line_of(&out, "cg=");
    for h in ["memory", "pids", "cpu", "devices", "freezer"] {
        assert!(cg.split(' ').any(|x| x == h), "{h} in {cg}");
    }
    assert_eq!(line_of(&out, "pids="), "2048");
    assert_eq!(line_of(&out, "mem="), memory);
    // Memory + swap where the host accounts swap (else dropped quietly).
    let memsw = line_of(&out, "memsw=");
    assert!(memsw == "268435456" || memsw == "none", "{memsw}");
    assert_eq!(line_of(&out, "shares="), "512");
    assert_eq!(line_of(&out, "cgchild="), "0", "no other group is visible");
    assert_eq!(line_of(&out, "cgro="), "yes");
    assert_eq!(line_of(&out, "pidsro="), "yes");
    // tmpcopyup: a tmpfs, with the image's files and the directory's mode.
    assert!(
        line_of(&out, "etcmnt=").starts_with("tmpfs tmpfs rw"),
        "{out}"
    );
    assert_eq!(
        line_of(&out, "passwd="),
        std::fs::read_to_string(b.rootfs.join("etc/passwd"))
            .unwrap()
            .lines()
            .next()
            .unwrap()
    );
    assert_eq!(line_of(&out, "etcmode="), "755");
    assert_eq!(line_of(&out, "etcnew="), "ok");
    assert!(
        !b.rootfs.join("etc/new").exists(),
        "the image's /etc is untouched"
    );
    assert_eq!(line_of(&out, "rootro="), "yes");
    assert_eq!(line_of(&out, "masked="), "0");
    assert_eq!(
        std::fs::read_to_string(b.out.join("made")).unwrap(),
        "made\n"
    );
    // Nothing left on the host: its groups are gone, no mount leaked.
    assert!(
        cgroup_dirs(&b.cgroup()).is_empty(),
        "{:?}",
        cgroup_dirs(&b.cgroup())
    );
    assert_eq!(common::host_mounts().len(), before);
}

/// What podman asks by default (NOFILE 1048576) on a host whose hard
/// limit is lower, without CAP_SYS_RESOURCE: one clear line, nothing made.
fn rlimit_above_the_hosts_is_refused_by_name() {
    let b = Bundle::new("rlimit");
    let mut v = b.config("true");
    set(
        &mut v,
        "process.rlimits",
        Some(r#"[{"type":"RLIMIT_NOFILE","hard":1048576,"soft":1048576}]"#),
    );
    let (_, hard) = proc::prlimit(0, libc::RLIMIT_NOFILE as u32, None).unwrap();
    let can = pocket::sys::caps::effective().unwrap() & (1 << 24) != 0;
    if can || hard >= 1048576 {
        println!("SKIPPED: this host lets pocket raise NOFILE to 1048576");
        return;
    }
    let e = b.run(&v).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "setrlimit RLIMIT_NOFILE 1048576: Operation not permitted (the host's hard limit is {hard}; pocket lacks CAP_SYS_RESOURCE)"
        )
    );
    assert_eq!(e.code, 125);
    assert!(cgroup_dirs(&b.cgroup()).is_empty());
}

fn caps_line(out: &str, k: &str) -> u64 {
    u64::from_str_radix(line_of(out, k), 16).unwrap()
}

/// The five capability sets as given: a non-root user keeps the ambient
/// ones across execve; root gets effective and permitted apart.
fn capability_sets_as_given() {
    let b = Bundle::new("caps");
    let mut v = b.config("grep ^Cap /proc/self/status");
    set(
        &mut v,
        "process.capabilities",
        Some(
            r#"{"bounding":["CAP_NET_BIND_SERVICE","CAP_KILL","CAP_CHOWN"],"effective":["CAP_NET_BIND_SERVICE"],
            "permitted":["CAP_NET_BIND_SERVICE","CAP_KILL"],"inheritable":["CAP_NET_BIND_SERVICE"],"ambient":["CAP_NET_BIND_SERVICE"]}"#,
        ),
    );
    set(&mut v, "process.user", Some(r#"{"uid":1000,"gid":1000}"#));
    let (code, out) = b.run(&v).unwrap();
    println!("{out}");
    assert_eq!(code, 0, "{out}");
    let nbs = 1 << 10;
    assert_eq!(caps_line(&out, "CapAmb:"), nbs);
    assert_eq!(
        caps_line(&out, "CapEff:"),
        nbs,
        "ambient ones are effective after execve"
    );
    assert_eq!(caps_line(&out, "CapPrm:"), nbs);
    assert_eq!(caps_line(&out, "CapInh:"), nbs);
    assert_eq!(caps_line(&out, "CapBnd:"), nbs | 1 << 5 | 1);
    // As root: the inheritable set as given, no ambient; effective and
    // permitted are the bounding set after execve whatever was set
    // before (capabilities(7): root's execve), as with runc.
    set(&mut v, "process.user", Some(r#"{"uid":0,"gid":0}"#));
    set(&mut v, "process.capabilities.ambient", None);
    set(
        &mut v,
        "process.capabilities.inheritable",
        Some(r#"["CAP_KILL"]"#),
    );
    let (_, out) = b.run(&v).unwrap();
    assert_eq!(caps_line(&out, "CapInh:"), 1 << 5);
    assert_eq!(caps_line(&out, "CapAmb:"), 0);
    assert_eq!(caps_line(&out, "CapEff:"), nbs | 1 << 5 | 1);
    // docker's shape for a non-root user (the docker CLI's -u): nothing.
    set(
        &mut v,
        "process.capabilities",
        Some(r#"{"bounding":["CAP_KILL"],"effective":["CAP_KILL"],"permitted":["CAP_KILL"]}"#),
    );
    set(&mut v, "process.user", Some(r#"{"uid":1000,"gid":1000}"#));
    let (_, out) = b.run(&v).unwrap();
    assert_eq!(caps_line(&out, "CapEff:") | caps_line(&out, "CapPrm:"), 0);
}

/// A hook as a host shell script appending to `log` in the bundle.
fn hook(point: &str, script: &str) -> String {
    format!(
        r#"[{{"path":"/bin/sh","args":["sh","-c",{s:?}],"env":["POINT={point}"],"timeout":10}}]"#,
        s = script
    )
}

/// prestart, createRuntime, createContainer, startContainer in order,
/// each with the state document on stdin, where the spec says: the first
/// two in the runtime's namespaces, createContainer in the container's
/// mount namespace before pivot_root (the host's /bin/sh), startContainer
/// inside the container (its /bin/sh, its /tmp).
fn hooks_run_at_their_points() {
    let b = Bundle::new("hooks");
    let out = b.out.to_str().unwrap();
    let mut v = b.config("readlink /proc/self/ns/mnt > /tmp/cmd.ns; echo command >> /tmp/order");
    let host_side = format!(
        "cat > {out}/$POINT.state; readlink /proc/self/ns/mnt > {out}/$POINT.ns; echo $POINT >> {out}/order"
    );
    set(
        &mut v,
        "hooks.prestart",
        Some(&hook("prestart", &host_side)),
    );
    set(
        &mut v,
        "hooks.createRuntime",
        Some(&hook("createRuntime", &host_side)),
    );
    set(
        &mut v,
        "hooks.createContainer",
        Some(&hook("createContainer", &host_side)),
    );
    set(
        &mut v,
        "hooks.startContainer",
        Some(&hook(
            "startContainer",
            "cat > /tmp/$POINT.state; echo $POINT >> /tmp/order; echo inside > /tmp/$POINT.where",
        )),
    );
    set(&mut v, "annotations.example", Some(r#""v""#));
    let spec = b.spec(&v).unwrap();
    // OCI create: the init waits on its exec fifo for `start`.
    let fifo = b.dir.join("exec.fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let path_fd = pocket::sys::fd::open(&c, libc::O_PATH | libc::O_CLOEXEC, 0).unwrap();
    let bundle = b.dir.to_str().unwrap();
    let w = Waiting {
        fifo: &path_fd,
        preserve_fds: 0,
        id: "hooked",
        bundle,
    };
    let r = parent::create(&spec, parent::INHERIT, &w).unwrap();
    let order = || std::fs::read_to_string(b.out.join("order")).unwrap_or_default();
    assert_eq!(order(), "prestart\ncreateRuntime\ncreateContainer\n");
    // `start`: open the fifo, read what the init writes.
    let _ = std::fs::read(&fifo).unwrap();
    let pid = r.pid;
    assert_eq!(reap(r), 0);
    assert_eq!(
        order(),
        "prestart\ncreateRuntime\ncreateContainer\nstartContainer\ncommand\n"
    );
    let state = |p: &str| {
        let t = std::fs::read_to_string(b.out.join(format!("{p}.state"))).unwrap();
        json::parse(t.as_bytes()).unwrap_or_else(|e| panic!("{p}: {e}: {t}"))
    };
    for (p, status) in [
        ("prestart", "creating"),
        ("createRuntime", "creating"),
        ("createContainer", "creating"),
        ("startContainer", "created"),
    ] {
        let s = state(p);
        assert_eq!(s.get("status").and_then(Value::str), Some(status), "{p}");
        assert_eq!(s.get("id").and_then(Value::str), Some("hooked"), "{p}");
        assert_eq!(s.get("bundle").and_then(Value::str), Some(bundle), "{p}");
        assert_eq!(s.get("pid").and_then(Value::i64), Some(pid as i64), "{p}");
        let a = s.get("annotations").unwrap();
        assert_eq!(a.get("example").and_then(Value::str), Some("v"));
    }
    let ns = |p: &str| std::fs::read_to_string(b.out.join(format!("{p}.ns"))).unwrap();
    let host = std::fs::read_link("/proc/self/ns/mnt").unwrap();
    assert_eq!(ns("prestart").trim(), host.to_str().unwrap());
    assert_eq!(ns("createRuntime").trim(), host.to_str().unwrap());
    assert_eq!(
        ns("createContainer"),
        ns("cmd"),
        "createContainer: the container's mount namespace"
    );
    assert_ne!(ns("cmd").trim(), host.to_str().unwrap());
    assert_eq!(
        std::fs::read_to_string(b.out.join("startContainer.where")).unwrap(),
        "inside\n"
    );
}

/// A failing hook fails the create, naming it; nothing is left.
fn failing_hooks_fail_the_create() {
    let b = Bundle::new("hookfail");
    for (point, script, want) in [
        ("prestart", "exit 3", "prestart hook /bin/sh: exit status 3"),
        (
            "createRuntime",
            "kill -9 $$",
            "createRuntime hook /bin/sh: killed by signal 9",
        ),
        (
            "createContainer",
            "exit 4",
            "createContainer hook /bin/sh: exit status 4",
        ),
        (
            "startContainer",
            "exit 5",
            "startContainer hook /bin/sh: exit status 5",
        ),
    ] {
        let mut v = b.config("echo ran > /tmp/ran");
        set(
            &mut v,
            &format!("hooks.{point}"),
            Some(&hook(point, script)),
        );
        let e = b.run(&v).unwrap_err();
        assert_eq!(e.to_string(), want);
        assert!(
            !b.out.join("ran").exists(),
            "{point}: the command must not run"
        );
        assert!(cgroup_dirs(&b.cgroup()).is_empty(), "{point}");
    }
    let mut v = b.config("true");
    let slow = r#"[{"path":"/bin/sleep","args":["sleep","30"],"timeout":1}]"#;
    set(&mut v, "hooks.prestart", Some(slow));
    let t = std::time::Instant::now();
    assert_eq!(
        b.run(&v).unwrap_err().to_string(),
        "prestart hook /bin/sleep: timed out, killed"
    );
    assert!(t.elapsed().as_secs() < 10);
}

/// Namespaces joined by path, as an engine's pod does: ipc, uts, net and
/// pid of a running container; then its mount namespace as it is.
fn namespaces_joined_by_path() {
    let a = Bundle::new("nsa");
    let mut va = a.config("echo a > /home/marker; touch /tmp/ready; exec sleep 60");
    set(&mut va, "hostname", Some(r#""alpha""#));
    let Value::Obj(top) = &mut va else { panic!() };
    let Value::Arr(m) = &mut top.iter_mut().find(|(k, _)| k == "mounts").unwrap().1 else {
        panic!()
    };
    let home = r#"{"destination":"/home","type":"tmpfs","source":"tmpfs","options":["nosuid"]}"#;
    m.push(json::parse(home.as_bytes()).unwrap());
    let sa = a.spec(&va).unwrap();
    let dev = std::fs::File::create(a.dir.join("log")).unwrap();
    let ra = parent::start(
        &sa,
        Output {
            stdout: dev.as_raw_fd(),
            stderr: dev.as_raw_fd(),
        },
    )
    .unwrap();
    common::wait_for(10, "container a", || {
        a.out.join("ready").exists().then_some(())
    });
    let ns = |pid: i32, n: &str| std::fs::read_link(format!("/proc/{pid}/ns/{n}")).unwrap();
    let b = Bundle::new("nsb");
    let mut vb = b.config(
        "echo host=$(hostname); for n in ipc uts net pid; do echo $n=$(readlink /proc/self/ns/$n); done; \
         echo procs=$(ls /proc | grep -c '^[0-9]')",
    );
    let p = ra.pid;
    set(
        &mut vb,
        "linux.namespaces",
        Some(&format!(
            r#"[{{"type":"mount"}},{{"type":"ipc","path":"/proc/{p}/ns/ipc"}},{{"type":"uts","path":"/proc/{p}/ns/uts"}},
               {{"type":"network","path":"/proc/{p}/ns/net"}},{{"type":"pid","path":"/proc/{p}/ns/pid"}}]"#
        )),
    );
    set(&mut vb, "hostname", None);
    set(
        &mut vb,
        "linux.sysctl",
        Some(r#"{"net.ipv4.ip_forward":"1"}"#),
    );
    // A prestart hook sees the joined namespaces as the container's own.
    let peek = format!(
        r#"p=$(sed 's/.*"pid":\([0-9]*\).*/\1/'); readlink /proc/$p/ns/net /proc/$p/ns/ipc > {}/prestart.ns"#,
        b.out.to_str().unwrap()
    );
    set(&mut vb, "hooks.prestart", Some(&hook("prestart", &peek)));
    let (code, out) = b.run(&vb).unwrap();
    let seen = std::fs::read_to_string(b.out.join("prestart.ns")).unwrap();
    assert_eq!(
        seen,
        format!(
            "{}\n{}\n",
            ns(p, "net").to_str().unwrap(),
            ns(p, "ipc").to_str().unwrap()
        )
    );
    println!("{out}");
    assert_eq!(code, 0, "{out}");
    assert_eq!(line_of(&out, "host="), "alpha");
    for n in ["ipc", "uts", "net", "pid"] {
        assert_eq!(
            line_of(&out, &format!("{n}=")),
            ns(p, n).to_str().unwrap(),
            "{n}"
        );
    }
    // a's sleep, b's shell and its ls at least: one pid namespace.
    assert!(
        line_of(&out, "procs=").parse::<u32>().unwrap() >= 3,
        "{out}"
    );
    // The sysctl went into the joined (a's) network namespace.
    let fwd = Command::new("nsenter")
        .args([
            "-t",
            &p.to_string(),
            "-n",
            "cat",
            "/proc/sys/net/ipv4/ip_forward",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&fwd.stdout), "1\n");
    // We are back in our own pid namespace after the clone.
    assert_eq!(
        std::fs::read_link("/proc/self/ns/pid_for_children").unwrap(),
        std::fs::read_link("/proc/self/ns/pid").unwrap()
    );
    // a's mount namespace, as it is: its tmpfs at /mnt, its root.
    let c = Bundle::new("nsc");
    let mut vc = c.config("cat /home/marker; readlink /proc/self/ns/mnt");
    set(
        &mut vc,
        "linux.namespaces",
        Some(&format!(
            r#"[{{"type":"mount","path":"/proc/{p}/ns/mnt"}},{{"type":"pid","path":"/proc/{p}/ns/pid"}}]"#
        )),
    );
    set(&mut vc, "hostname", None);
    set(&mut vc, "mounts", Some("[]"));
    let (code, out) = c.run(&vc).unwrap();
    assert_eq!(code, 0, "{out}");
    assert_eq!(out, format!("a\n{}\n", ns(p, "mnt").to_str().unwrap()));
    proc::kill(p, libc::SIGKILL).unwrap();
    assert_eq!(reap(ra), 137);
    // A namespace path that is gone: an error naming it, nothing made.
    set(&mut vb, "hooks", None);
    let e = b.run(&vb).unwrap_err().to_string();
    assert_eq!(
        e,
        format!("open namespace /proc/{p}/ns/ipc: No such file or directory")
    );
}

/// podman's seccomp profile shape: defaultAction SCMP_ACT_ERRNO with
/// defaultErrnoRet 38, so a syscall missing from the allow-list fails
/// with ENOSYS ("Function not implemented"), not EPERM.
fn seccomp_default_errno_ret() {
    let b = Bundle::new("seccomp");
    let mut v = b.config("mkdir /tmp/d; echo rc=$?");
    let allow = [
        "read",
        "write",
        "open",
        "openat",
        "close",
        "stat",
        "fstat",
        "lstat",
        "newfstatat",
        "statx",
        "poll",
        "lseek",
        "mmap",
        "mprotect",
        "munmap",
        "brk",
        "rt_sigaction",
        "rt_sigprocmask",
        "rt_sigreturn",
        "ioctl",
        "pread64",
        "readv",
        "writev",
        "access",
        "pipe",
        "pipe2",
        "dup",
        "dup2",
        "dup3",
        "getpid",
        "getppid",
        "getuid",
        "geteuid",
        "getgid",
        "getegid",
        "clone",
        "clone3",
        "fork",
        "vfork",
        "execve",
        "exit",
        "exit_group",
        "wait4",
        "kill",
        "uname",
        "fcntl",
        "getcwd",
        "chdir",
        "fchdir",
        "readlink",
        "umask",
        "getrlimit",
        "prlimit64",
        "arch_prctl",
        "set_tid_address",
        "set_robust_list",
        "getrandom",
        "prctl",
        "futex",
        "getdents64",
        "sysinfo",
        "gettid",
        "tgkill",
        "madvise",
        "getpgrp",
        "setpgid",
        "getpgid",
        "getsid",
        "setsid",
        "faccessat",
        "faccessat2",
        "capget",
        "capset",
        "seccomp",
        "sigaltstack",
        "rseq",
        "clock_gettime",
        "gettimeofday",
        "nanosleep",
        // What pocket does once the filter is in (no_new_privs off, as
        // podman: it goes in before the capabilities are dropped).
        "setgroups",
        "setresgid",
        "setresuid",
        "close_range",
    ];
    let list: Vec<String> = allow.iter().map(|s| format!("{s:?}")).collect();
    set(
        &mut v,
        "linux.seccomp",
        Some(&format!(
            r#"{{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38,"architectures":["SCMP_ARCH_X86_64"],
               "syscalls":[{{"names":[{}],"action":"SCMP_ACT_ALLOW"}}]}}"#,
            list.join(",")
        )),
    );
    let (code, out) = b.run(&v).unwrap();
    println!("{out}");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Function not implemented"), "{out}");
    assert_eq!(line_of(&out, "rc="), "1");
    assert!(!b.out.join("d").exists());
}

/// Bad documents: one line naming the field, exit 125, nothing made.
fn bad_configs_name_the_field() {
    let b = Bundle::new("bad");
    for (path, val, want) in [
        (
            "linux.resources.memory.limit",
            r#""64m""#,
            "config.json: linux.resources.memory.limit: must be a number",
        ),
        (
            "ociVersion",
            r#""2.0.0""#,
            "config.json: ociVersion: \"2.0.0\" is not supported (pocket reads 1.0.x to 1.2.x)",
        ),
        (
            "linux.sysctl",
            r#"{"vm.swappiness":"1"}"#,
            "config.json: linux.sysctl: sysctl \"vm.swappiness\" is not in a separate kernel namespace",
        ),
        (
            "linux.cgroupsPath",
            r#""/pocket/../x""#,
            "cgroup path /pocket/../x: must be a path of plain names, without '..'",
        ),
    ] {
        let mut v = b.config("echo ran > /tmp/ran");
        set(&mut v, path, Some(val));
        let e = b.run(&v).unwrap_err();
        assert_eq!((e.to_string().as_str(), e.code), (want, 125));
        assert!(!b.out.join("ran").exists());
    }
}

fn main() {
    if !common::root() {
        return;
    }
    let tests: &[(&str, fn())] = &[
        ("podman_config_runs", podman_config_runs),
        (
            "rlimit_above_the_hosts_is_refused_by_name",
            rlimit_above_the_hosts_is_refused_by_name,
        ),
        ("capability_sets_as_given", capability_sets_as_given),
        ("hooks_run_at_their_points", hooks_run_at_their_points),
        (
            "failing_hooks_fail_the_create",
            failing_hooks_fail_the_create,
        ),
        ("namespaces_joined_by_path", namespaces_joined_by_path),
        ("seccomp_default_errno_ret", seccomp_default_errno_ret),
        ("bad_configs_name_the_field", bad_configs_name_the_field),
    ];
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let (mut passed, mut failed) = (0, vec![]);
    for (name, f) in tests {
        if !filter.is_empty() && !filter.iter().any(|x| name.contains(x.as_str())) {
            continue;
        }
        println!("test {name} ...");
        match std::panic::catch_unwind(f) {
            Ok(()) => {
                println!("test {name} ... ok");
                passed += 1;
            }
            Err(_) => {
                println!("test {name} ... FAILED");
                failed.push(*name);
            }
        }
    }
    // libtest's summary line, which scripts/test.sh counts.
    let verdict = if failed.is_empty() { "ok" } else { "FAILED" };
    println!(
        "test result: {verdict}. {passed} passed; {} failed; 0 ignored; 0 measured; 0 filtered out",
        failed.len()
    );
    if !failed.is_empty() {
        println!("failed: {failed:?}");
        std::process::exit(1);
    }
}
