//! Getting files out of a container: `pocket export` (its whole
//! filesystem as a tar) and `pocket commit` (its changes as a new image
//! layer), plus what `diff` and `save` share with them: read-only detached
//! views of directories and overlays, and archive outputs.

use super::Ctx;
use super::args::text;
use super::args::{Flag, flag};
use crate::error::{Context, Error, Result, Why};
use crate::image::layer::Pending;
use crate::image::store::{self, Config, Images};
use crate::image::tar_write::{self, Opts, Sink, Writer};
use crate::json::Value;
use crate::rt::time;
use crate::spec::Spec;
use crate::state::Record;
use crate::sys::fd::{self, Fd};
use crate::sys::{Errno, cstr, fs, mount as m, proc, tty};
use alloc::ffi::CString;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use linux_raw_sys::general as k;

fn cs(p: &[u8]) -> Result<CString> {
    cstr::cstring(p).ok_or_else(|| Error::bad("path", text(p), "contains a NUL byte"))
}

/// Read-only, and nothing in the view can be run or opened as a device:
/// a name swapped for a device node by a running container reads nothing.
const RO: u32 =
    k::MOUNT_ATTR_RDONLY | k::MOUNT_ATTR_NODEV | k::MOUNT_ATTR_NOSUID | k::MOUNT_ATTR_NOEXEC;

pub fn exists(path: &[u8]) -> bool {
    cs(path).is_ok_and(|c| fd::fstatat(libc::AT_FDCWD, &c, libc::AT_SYMLINK_NOFOLLOW).is_ok())
}

/// A read-only view of the directory `path`: a detached bind mount of it
/// alone (no submounts below it to wander into), never attached anywhere,
/// gone with the fd. Where the mount API is refused, the directory itself.
pub fn view_dir(path: &[u8]) -> Result<Fd> {
    let c = cs(path)?;
    let shown = text(path);
    match m::bind_tree(&c, false) {
        Ok(t) => {
            m::mount_setattr(&t, RO).ctx("make read-only", &shown)?;
            Ok(t)
        }
        Err(Errno::EPERM | Errno::ENOSYS) => {
            fd::open(&c, libc::O_PATH | libc::O_DIRECTORY, 0).ctx("open", &shown)
        }
        Err(e) => Err(Error::sys("open", shown, e)),
    }
}

/// A read-only overlay of `lower` (top first) as a detached mount: it is
/// never attached, so it touches no mount table, and it shows the same
/// files whether the container runs or not. A single directory is viewed
/// as it is (overlayfs needs two layers when there is no upper one).
pub fn view_overlay(lower: &[String]) -> Result<Fd> {
    match lower {
        [] => return Err(Error::bad("overlay", "", "no layers")),
        [one] => return view_dir(one.as_bytes()),
        _ => {}
    }
    let each = lower
        .iter()
        .map(|l| cs(l.as_bytes()))
        .collect::<Result<Vec<_>>>()?;
    let all = cs(lower.join(":").as_bytes())?;
    // A running container's upper dir is in use by its own overlay: with
    // no index of our own, that is only a warning in the kernel log.
    let fs = crate::fs::overlay::create(&each, &all, None, &[(c"index", Some(c"off"))])
        .map_err(|(op, e)| Error::sys(op, lower[0].clone(), e))?;
    m::fsmount(&fs, RO).ctx("mount overlay", &lower[0])
}

/// Copy the tree below `src` into the directory `dst`: owners, modes and
/// times kept, symlinks as symlinks, no device nodes. A tar stream
/// through a pipe, written by a forked child, so no tree is ever held in
/// memory and nothing is ever written outside `dst`.
pub fn copy_tree(src: &Fd, dst: &Fd) -> Result<()> {
    let (r, w) = fd::pipe().ctx("pipe", "copy")?;
    let child = proc::fork().ctx("fork", "copy")?;
    if child == 0 {
        drop(r);
        let mut w = w;
        let ok = tar_write::write_tree(src, &mut w, &Opts::default()).is_ok();
        proc::exit(if ok { 0 } else { 1 });
    }
    drop(w);
    let mut r = r;
    let opts = crate::image::extract::Opts {
        chown: true,
        ..Default::default()
    };
    let got = crate::image::extract::extract(&mut r, dst, &opts);
    drop(r);
    let status = proc::wait(child, 0).map(|(_, st)| proc::exit_code(st));
    got?;
    match status {
        Ok(0) => Ok(()),
        _ => Err(Error::bad("copy", "", "reading the source tree failed")),
    }
}

/// The container's root filesystem, as it would see it (without volumes):
/// its upper dir over the image layers, or its --rootfs directory.
pub fn rootfs_view(spec: &Spec) -> Result<Fd> {
    match &spec.root.overlay {
        Some(o) => {
            let mut lower = Vec::with_capacity(o.lower.len() + 1);
            // A container never started has no upper dir yet.
            if exists(o.upper.as_bytes()) {
                lower.push(o.upper.clone());
            }
            lower.extend(o.lower.iter().cloned());
            view_overlay(&lower)
        }
        None => view_dir(&spec.root.path),
    }
}

/// A container by id, name or prefix: (id, Spec).
pub fn container(ctx: &Ctx, q: &[u8]) -> Result<(String, Spec)> {
    let id = ctx.store.resolve(&text(q))?;
    let spec = ctx.store.spec(&id)?;
    Ok((id, spec))
}

/// Where an archive goes: stdout, which must not be a terminal, or
/// `-o FILE`, written beside FILE under a temporary name and renamed over
/// it once complete, so FILE is never half an archive.
pub struct Output {
    fd: Fd,
    tmp: Option<(CString, CString)>,
}

impl Output {
    pub fn open(cmd: &'static str, file: Option<&[u8]>) -> Result<Output> {
        let Some(file) = file.filter(|f| *f != b"-") else {
            if tty::isatty(1) {
                return Err(Error::bad(
                    cmd,
                    "",
                    "cowardly refusing to write an archive to a terminal: use -o FILE or redirect",
                ));
            }
            let d = fd::dup(1).ctx("dup", "stdout")?;
            return Ok(Output {
                fd: Fd::from_raw(d),
                tmp: None,
            });
        };
        let path = cs(file)?;
        let shown = text(file);
        let w = libc::O_WRONLY | libc::O_CLOEXEC;
        // Not a regular file (/dev/null, a fifo): written in place.
        if let Ok(st) = fd::fstatat(libc::AT_FDCWD, &path, 0)
            && st.st_mode & libc::S_IFMT != libc::S_IFREG
        {
            let f = fd::open(&path, w | libc::O_TRUNC, 0).ctx("open", &shown)?;
            return Ok(Output { fd: f, tmp: None });
        }
        let mut t = file.to_vec();
        // A fresh random name, O_EXCL: in a shared dir such as /tmp a file
        // someone planted under a guessable name must not get the data.
        let mut rnd = [0u8; 6];
        let _ = proc::getrandom(&mut rnd);
        t.extend_from_slice(format!(".tmp{}", crate::rt::hex(&rnd)).as_bytes());
        let tmp = cs(&t)?;
        let f = fd::open(
            &tmp,
            w | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW,
            0o644,
        )
        .ctx("create", &text(&t))?;
        Ok(Output {
            fd: f,
            tmp: Some((tmp, path)),
        })
    }

    /// Everything written: put FILE in place.
    pub fn done(mut self) -> Result<()> {
        if let Some((t, f)) = self.tmp.take() {
            let r = fs::renameat(libc::AT_FDCWD, &t, libc::AT_FDCWD, &f);
            if let Err(e) = r {
                let _ = fs::unlinkat(libc::AT_FDCWD, &t, 0);
                return Err(Error::sys("rename", text(f.as_bytes()), e));
            }
        }
        Ok(())
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        if let Some((t, _)) = self.tmp.take() {
            let _ = fs::unlinkat(libc::AT_FDCWD, &t, 0);
        }
    }
}

impl Sink for Output {
    fn put(&mut self, b: &[u8]) -> Result<()> {
        self.fd.put(b)
    }
}

const EXPORT_FLAGS: &[Flag] = &[flag(b'o', "output", true), flag(0, "help", false)];

pub fn export(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("export", EXPORT_FLAGS, argv)? else {
        return Ok(0);
    };
    let [q] = p.rest[..] else {
        return Err(Error::bad("export", "", "needs exactly one container"));
    };
    let (_, spec) = container(ctx, q)?;
    let mut out = Output::open("export", p.value(EXPORT_FLAGS, "output"))?;
    let root = rootfs_view(&spec)?;
    tar_write::write_tree(&root, &mut out, &Opts::default())?;
    out.done()?;
    Ok(0)
}

const COMMIT_FLAGS: &[Flag] = &[
    flag(b'p', "pause", false),
    flag(b'c', "change", true),
    flag(b'm', "message", true),
    flag(b'a', "author", true),
    flag(0, "max-layer-size", true),
    flag(0, "max-layer-entries", true),
    flag(0, "help", false),
];

pub fn commit(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("commit", COMMIT_FLAGS, argv)? else {
        return Ok(0);
    };
    let (q, tag) = match p.rest[..] {
        [q] => (q, None),
        [q, t] => (q, Some(store::normalize(&text(t))?)),
        _ => {
            return Err(Error::bad(
                "commit",
                "",
                "needs CONTAINER [REPOSITORY[:TAG]]",
            ));
        }
    };
    let (id, spec) = container(ctx, q)?;
    let (Some(image), Some(o)) = (&spec.image, &spec.root.overlay) else {
        return Err(Error::bad(
            "commit",
            text(q),
            "the container has no image (made with --rootfs DIR): nothing to commit onto",
        ));
    };
    let mut images = super::images::store(ctx)?;
    images.limits = super::images::layer_limits(ctx, Some((COMMIT_FLAGS, &p)))?;
    let parent = images
        .get(image)
        .map_err(|_| Error::bad("commit", id.clone(), "its image has been removed"))?;
    // As docker's: the container's Config (its run's -e, command, -w,
    // -u, labels...) over the image's, then the changes; a bad change
    // makes nothing.
    let rec = crate::container::state(&ctx.store, &id)?;
    let base = container_config(&parent.config, &spec, &rec);
    let config = super::images::changed(&base, COMMIT_FLAGS, &p)?;
    // As docker: a running container is paused while its upper dir is
    // read, so the layer is one moment of it, not files half-written.
    let pause = p.value(COMMIT_FLAGS, "pause") != Some(b"false");
    let paused_here = pause && rec.running() && !rec.paused;
    if paused_here {
        crate::container::pause(&ctx.store, &rec)?;
    }
    let upper = match exists(o.upper.as_bytes()) {
        true => view_dir(o.upper.as_bytes()).map(Some),
        false => Ok(None),
    };
    let pending = upper.and_then(|u| layer_from(&images, u.as_ref()));
    if paused_here {
        let _ = crate::container::resume(&ctx.store, &rec);
    }
    let pending = pending?;
    let size = pending.size;
    // Under the lock: no rmi takes the parent's layers away in between.
    let _l = images.lock()?;
    if let Some(l) = parent.layers.iter().find(|l| !images.has_layer(l)) {
        return Err(Error::bad(
            "commit",
            l.clone(),
            "a layer of the image is gone",
        ));
    }
    let mut layers = parent.layers.clone();
    // No change (a tar of nothing but its end: docker's empty-layer
    // digest): no layer, and an empty_layer step, as docker's commit.
    let empty = pending.diff_id == store::EMPTY_TAR;
    let size = if empty { 0 } else { size };
    if !empty {
        layers.push(pending.commit()?);
    }
    let by = (
        text(p.value(COMMIT_FLAGS, "author").unwrap_or(b"")),
        text(p.value(COMMIT_FLAGS, "message").unwrap_or(b"")),
    );
    // The image's history and one entry more, as docker's: created by the
    // container's command.
    let when = time::rfc3339_nano_trimmed(time::now());
    // (A step for every layer of the parent's: the new one meets the new
    // layer.)
    let mut history = images.history(&parent);
    let mut step = store::history_entry(&when, &base.cmd.join(" "), &by.0, &by.1);
    if let (true, Value::Obj(m)) = (empty, &mut step) {
        m.push(("empty_layer".into(), Value::Bool(true)));
    }
    history.push(step);
    let doc = store::document(&config, &when, &layers, history, (&by.0, &by.1));
    let img = images.put(doc.as_bytes(), layers, parent.size + size)?;
    if let Some(t) = tag {
        images.tag(&t, &img.id)?;
    }
    crate::outln!("sha256:{}", img.id);
    Ok(0)
}

/// What docker's commit starts from: the container's Config (Spec::config:
/// Env, Entrypoint, Cmd, WorkingDir, User, ExposedPorts, Volumes as its
/// create made them), its
/// labels, STOPSIGNAL and health check, over the image's Config. A
/// container recorded without one keeps the image's, but for its command.
fn container_config(image: &Config, spec: &crate::spec::Spec, rec: &Record) -> Config {
    let mut c = image.clone();
    match &spec.config {
        Some(k) => {
            c.env = k.env.clone();
            c.entrypoint = k.entrypoint.clone();
            c.cmd = k.cmd.clone();
            c.working_dir = k.working_dir.clone();
            c.user = k.user.clone();
            c.exposed_ports = k.exposed_ports.clone();
            c.volumes = k.volumes.clone();
        }
        None => {
            let args: Vec<String> = spec.process.args.iter().map(|a| text(a)).collect();
            let n = match args.starts_with(&image.entrypoint) {
                true => image.entrypoint.len(),
                false => 0,
            };
            c.entrypoint = args[..n].to_vec();
            c.cmd = args[n..].to_vec();
        }
    }
    c.labels = rec.labels.clone();
    // The image's own spelling when it is the same signal (QUIT, 3).
    let same = crate::sys::signal::by_name(&image.stop_signal) == Some(rec.stop_signal);
    if rec.stop_signal != 0 && !same {
        c.stop_signal = crate::sys::signal::name(rec.stop_signal);
    }
    // The record's check is the container's: the image's, --health-*
    // over it, none after --no-healthcheck.
    if spec.config.is_some() || rec.healthcheck.is_some() {
        c.healthcheck = rec.healthcheck.clone();
    }
    c
}

/// The upper dir as a new layer of the store. A forked child writes its
/// tar (whiteouts in OCI form) into a pipe while this process extracts
/// it: the layer is streamed, never held whole on disk or in memory, and
/// its diff_id is the digest of exactly what was extracted. A failure of
/// the child comes back as its message on a second pipe.
fn layer_from(images: &Images, upper: Option<&Fd>) -> Result<Pending> {
    let (r, w) = fd::pipe().ctx("pipe", "layer")?;
    let (er, ew) = fd::pipe().ctx("pipe", "layer")?;
    let pid = proc::fork().ctx("fork", "layer writer")?;
    if pid == 0 {
        drop((r, er));
        let mut w = w;
        let opts = Opts {
            oci_whiteouts: true,
        };
        let res = match upper {
            Some(u) => tar_write::write_tree(u, &mut w, &opts),
            None => Writer::new(&mut w).finish(),
        };
        let code = match res {
            Ok(_) => 0,
            // The reader gave up: its own error is the one to show.
            Err(e) if e.why == Why::Errno(Errno::EPIPE) => 1,
            Err(e) => {
                let _ = fd::write_all(ew.raw(), format!("{e}").as_bytes());
                125
            }
        };
        proc::exit(code);
    }
    drop((w, ew));
    let mut r = r;
    let got = images.extract_layer(&mut r, None);
    drop(r);
    let status = proc::wait(pid, 0).ctx("wait", "layer writer")?.1;
    let why = fs::read_fd(&er).unwrap_or_default();
    if !why.is_empty() {
        return Err(Error::text(text(&why)));
    }
    let p = got?;
    if proc::exit_code(status) != 0 {
        return Err(Error::bad("commit", "", "the layer writer failed"));
    }
    Ok(p)
}
