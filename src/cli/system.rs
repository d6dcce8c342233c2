//! `system df` and `info` (`system info`): what pocket holds and the
//! runtime facts of this host, in docker's shapes. Everything is read
//! from the store and the kernel's own files; nothing is asked of a
//! daemon, as there is none.

use super::Ctx;
use super::args::{Flag, flag};
use super::prune::bytes_of;
use crate::error::{Error, Result};
use crate::image::store::Images;
use crate::json::{self, Value};
use crate::state::volumes;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

const ONLY_HELP: &[Flag] = &[flag(0, "help", false)];

fn read(path: &str) -> String {
    crate::error::cpath(path)
        .ok()
        .and_then(|c| crate::sys::fs::read(&c).ok())
        .map(|b| String::from_utf8_lossy(&b).trim().into())
        .unwrap_or_default()
}

/// docker's `units.HumanSize`: decimal units, four significant digits.
fn human(n: u64) -> String {
    crate::rt::units::human_size(n, 4)
}

fn reclaimable(r: u64, total: u64) -> String {
    let pct = match total {
        0 => 0,
        t => r * 100 / t,
    };
    format!("{} ({pct}%)", human(r))
}

pub fn df(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("system df", ONLY_HELP, argv)? else {
        return Ok(0);
    };
    if let Some(x) = p.rest.first() {
        return Err(Error::bad(
            "system df",
            super::args::text(x),
            "takes no arguments",
        ));
    }
    let recs = ctx.store.list().unwrap_or_default();
    let specs: Vec<_> = recs
        .iter()
        .filter_map(|r| ctx.store.spec(&r.id).ok())
        .collect();

    // Images: layers counted once; active ones are those of images a
    // container uses.
    let images = Images::new(&ctx.store.root);
    let ids = images.ids();
    let used: Vec<&str> = specs.iter().filter_map(|s| s.image.as_deref()).collect();
    let mut layers: Vec<(String, u64, bool)> = Vec::new();
    for id in &ids {
        let active = used.contains(&id.as_str());
        for l in images.get(id).map(|i| i.layers).unwrap_or_default() {
            match layers.iter_mut().find(|x| x.0 == l) {
                Some(x) => x.2 |= active,
                None => {
                    let n = images.layer_size(&l);
                    layers.push((l, n, active));
                }
            }
        }
    }
    let img_size: u64 = layers.iter().map(|l| l.1).sum();
    let img_free: u64 = layers.iter().filter(|l| !l.2).map(|l| l.1).sum();
    let img_active = ids.iter().filter(|i| used.contains(&i.as_str())).count();

    // Containers: their writable layer, logs and files.
    let mut c_size = 0;
    let mut c_free = 0;
    let mut running = 0;
    for r in &recs {
        let b = bytes_of(&ctx.store.disk_dir(&r.id));
        c_size += b;
        if r.running() {
            running += 1;
        } else {
            c_free += b;
        }
    }

    let vols = volumes::list(&ctx.store.root).unwrap_or_default();
    let mut v_size = 0;
    let mut v_free = 0;
    let mut v_active = 0;
    for v in &vols {
        let b = bytes_of(&volumes::mountpoint(&ctx.store.root, &v.name));
        v_size += b;
        match volumes::users(&ctx.store, &v.name).is_ok_and(|u| !u.is_empty()) {
            true => v_active += 1,
            false => v_free += b,
        }
    }

    let rows = alloc::vec![
        alloc::vec![
            "TYPE".into(),
            "TOTAL".into(),
            "ACTIVE".into(),
            "SIZE".into(),
            "RECLAIMABLE".into()
        ],
        alloc::vec![
            "Images".into(),
            format!("{}", ids.len()),
            format!("{img_active}"),
            human(img_size),
            reclaimable(img_free, img_size)
        ],
        alloc::vec![
            "Containers".into(),
            format!("{}", recs.len()),
            format!("{running}"),
            human(c_size),
            reclaimable(c_free, c_size)
        ],
        alloc::vec![
            "Local Volumes".into(),
            format!("{}", vols.len()),
            format!("{v_active}"),
            human(v_size),
            reclaimable(v_free, v_size)
        ],
        alloc::vec![
            "Build Cache".into(),
            "0".into(),
            "0".into(),
            "0B".into(),
            "0B".into()
        ],
    ];
    crate::rt::out().bytes(super::table::render(&rows).as_bytes());
    Ok(0)
}

/// CPUs online, from the kernel's list ("0-1,4").
fn cpus() -> usize {
    read("/sys/devices/system/cpu/online")
        .split(',')
        .map(|r| match r.split_once('-') {
            Some((a, b)) => match (a.parse::<usize>(), b.parse::<usize>()) {
                (Ok(a), Ok(b)) if b >= a => b - a + 1,
                _ => 0,
            },
            None => usize::from(r.parse::<usize>().is_ok()),
        })
        .sum()
}

const INFO_FLAGS: &[Flag] = &[flag(b'f', "format", true), flag(0, "help", false)];

fn arch() -> (&'static str, &'static str) {
    // (uname's, Go's)
    if cfg!(target_arch = "x86_64") {
        ("x86_64", "amd64")
    } else if cfg!(target_arch = "aarch64") {
        ("aarch64", "arm64")
    } else {
        ("unknown", "unknown")
    }
}

pub fn info(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("info", INFO_FLAGS, argv)? else {
        return Ok(0);
    };
    if let Some(x) = p.rest.first() {
        return Err(Error::bad(
            "info",
            super::args::text(x),
            "takes no arguments",
        ));
    }
    let fmt = super::format::flag(INFO_FLAGS, &p)?;
    let recs = ctx.store.list().unwrap_or_default();
    let live: Vec<_> = recs.iter().map(|r| r.live()).collect();
    let running = live
        .iter()
        .filter(|r| r.status == crate::state::Status::Running)
        .count();
    let paused = live
        .iter()
        .filter(|r| r.paused && r.status == crate::state::Status::Running)
        .count();
    let images = Images::new(&ctx.store.root).ids().len();
    let layout = crate::cgroup::layout();
    // docker's "Cgroup Version": 2 only on a unified host (no v1 hierarchy).
    let cgv = if layout.v1.is_empty() && layout.v2.is_some() {
        2
    } else {
        1
    };
    let os = read("/etc/os-release")
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| String::from(v.trim_matches('"')))
        .unwrap_or_else(|| String::from("unknown"));
    let mem = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |k| k * 1024);
    let seccomp = read("/proc/self/status").contains("Seccomp:");
    let arch = arch().0;
    let (kernel, host) = (
        read("/proc/sys/kernel/osrelease"),
        read("/proc/sys/kernel/hostname"),
    );
    if let Some(f) = &fmt {
        // docker's `info` document (its field names), for templates.
        let mut sec = Vec::new();
        if seccomp {
            sec.push("name=seccomp,profile=builtin");
        }
        sec.push("name=cgroupns");
        let doc = json::obj!(
            ("ID", Some(json::str(""))),
            ("Containers", Some(json::num(recs.len()))),
            ("ContainersRunning", Some(json::num(running))),
            ("ContainersPaused", Some(json::num(paused))),
            ("ContainersStopped", Some(json::num(recs.len() - running))),
            ("Images", Some(json::num(images))),
            ("Driver", Some(json::str("overlay2"))),
            ("LoggingDriver", Some(json::str("json-file"))),
            ("CgroupDriver", Some(json::str("cgroupfs"))),
            ("CgroupVersion", Some(json::str(&format!("{cgv}")))),
            ("KernelVersion", Some(json::str(kernel.trim()))),
            ("OperatingSystem", Some(json::str(&os))),
            ("OSType", Some(json::str("linux"))),
            ("Architecture", Some(json::str(arch))),
            ("NCPU", Some(json::num(cpus()))),
            ("MemTotal", Some(json::num(mem))),
            ("Name", Some(json::str(host.trim()))),
            ("DockerRootDir", Some(json::str(&ctx.store.root))),
            ("ServerVersion", Some(json::str(crate::VERSION))),
            ("DefaultRuntime", Some(json::str("pocket"))),
            ("SecurityOptions", Some(json::strs(&sec))),
        );
        let mut o = crate::rt::out();
        o.bytes(f.one(&doc)?.as_bytes());
        o.bytes(b"\n");
        return Ok(0);
    }
    let mut o = String::new();
    o.push_str(&format!(
        "Client:\n Version:    {}\n Context:    default\n Debug Mode: false\n\n",
        crate::VERSION
    ));
    o.push_str(&format!(
        "Server:\n Containers: {}\n  Running: {running}\n  Paused: {paused}\n  Stopped: {}\n Images: {images}\n",
        recs.len(),
        recs.len() - running
    ));
    o.push_str(&format!(
        " Server Version: {} (no daemon: pocket itself)\n Storage Driver: overlay2\n  Backing Filesystem: {}\n Logging Driver: json-file\n Cgroup Driver: cgroupfs\n Cgroup Version: {cgv}\n",
        crate::VERSION,
        backing(&ctx.store.root)
    ));
    o.push_str(" Runtimes: pocket (OCI: pocket-runc)\n Default Runtime: pocket\n");
    o.push_str(" Security Options:\n");
    if seccomp {
        o.push_str("  seccomp\n   Profile: builtin\n");
    }
    o.push_str("  cgroupns\n");
    o.push_str(&format!(
        " Kernel Version: {}\n Operating System: {os}\n OSType: linux\n Architecture: {arch}\n CPUs: {}\n Total Memory: {}\n Name: {}\n Pocket Root Dir: {}\n",
        kernel,
        cpus(),
        crate::rt::units::bytes_size(mem),
        host,
        ctx.store.root,
    ));
    crate::rt::out().bytes(o.as_bytes());
    Ok(0)
}

pub fn version(argv: &[&[u8]], _ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("version", INFO_FLAGS, argv)? else {
        return Ok(0);
    };
    let goarch = arch().1;
    let (v, c) = (crate::VERSION, crate::COMMIT);
    if let Some(f) = super::format::flag(INFO_FLAGS, &p)? {
        let part = |extra: Option<(&str, Value)>| {
            let mut m = alloc::vec![
                ("Version", Some(json::str(v))),
                ("GitCommit", Some(json::str(c))),
                ("Os", Some(json::str("linux"))),
                ("Arch", Some(json::str(goarch))),
            ];
            if let Some((k, x)) = extra {
                m.push((k, Some(x)));
            }
            json::obj(m)
        };
        let doc = json::obj!(
            (
                "Client",
                Some(part(Some(("Context", json::str("default")))))
            ),
            ("Server", Some(part(None))),
        );
        let mut o = crate::rt::out();
        o.bytes(f.one(&doc)?.as_bytes());
        o.bytes(b"\n");
        return Ok(0);
    }
    crate::outln!(
        "Client:\n Version:           {v}\n Git commit:        {c}\n OS/Arch:           linux/{goarch}\n Context:           default\n\nServer: none (pocket runs containers itself, no daemon)\n Engine:\n  Version:          {v}\n  OS/Arch:          linux/{goarch}\n pocket-runc (OCI runtime CLI):\n  Version:          {v}\n  spec:             1.2.0"
    );
    Ok(0)
}

/// docker's name for the filesystem the store is on.
fn backing(root: &str) -> &'static str {
    let Ok(c) = crate::error::cpath(root) else {
        return "unknown";
    };
    // The root may not exist yet: / tells then.
    let open = |p: &core::ffi::CStr| crate::sys::fd::open(p, libc::O_PATH | libc::O_CLOEXEC, 0);
    let st = open(&c)
        .or_else(|_| open(c"/"))
        .and_then(|f| crate::sys::mount::fstatfs(&f));
    match st.map(|s| s.f_type) {
        Ok(0xef53) => "extfs",
        Ok(0x58465342) => "xfs",
        Ok(0x9123683e) => "btrfs",
        Ok(0x01021994) => "tmpfs",
        Ok(0x858458f6) => "ramfs",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_as_docker_writes_them() {
        assert_eq!(human(0), "0B");
        assert_eq!(human(212), "212B");
        assert_eq!(human(16_430_000), "16.43MB");
        assert_eq!(human(2_130_000), "2.13MB");
        assert_eq!(human(1_000_000), "1MB");
        assert_eq!(reclaimable(50, 200), "50B (25%)");
        assert_eq!(reclaimable(0, 0), "0B (0%)");
    }
}
