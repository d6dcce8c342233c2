//! Name resolution between containers on a user network, without a
//! daemon: docker's embedded DNS answers a container's name, short id and
//! aliases on the networks it shares; pocket writes the same names into
//! the /etc/hosts of every container on the network, under the networks
//! lock, whenever the network's members change (create, rm, rename,
//! connect, disconnect). Every resolver reads /etc/hosts first, and no
//! process or port has to run for it.
//!
//! The file is bind-mounted into the container, which pins its inode: a
//! rename over it would never be seen inside. So it is rewritten in
//! place: the new text in one pwrite(2) from offset 0, then ftruncate(2)
//! to its length. A reader never sees it empty; the lock keeps two
//! writers apart. Only the part after the marker line is pocket's: what
//! is above it (localhost, the container's own name, --add-host, anything
//! the container wrote there) stays as it is.
//!
//! The default `bridge` network resolves no names, as docker's does not.

use crate::net::networks::{self, Nets};
use crate::state::Store;
use crate::sys::fd;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

const MARKER: &str = "# pocket: containers on ";
/// Largest hosts file rewritten (a network of thousands fits).
const MAX_HOSTS: i64 = 1 << 20;

/// The names a container answers to on `net`: its name, short id and its
/// aliases there.
fn names(rec: &crate::state::Record, net: &str) -> Vec<String> {
    let mut v = alloc::vec![rec.name.clone(), String::from(rec.short_id())];
    for (n, a) in &rec.aliases {
        if n == net && !v.contains(a) {
            v.push(a.clone());
        }
    }
    v
}

/// Rewrite the shared section of every member's /etc/hosts on each user
/// network (the caller holds the networks lock: `nets`).
pub fn sync_all(store: &Store, nets: &Nets) {
    let Ok(all) = networks::list(&store.root) else {
        return;
    };
    // A container's section lists every user network it is on.
    let mut member_of: Vec<(String, Vec<String>)> = Vec::new();
    let mut lines: Vec<(String, String)> = Vec::new(); // (network, hosts lines)
    for n in all.iter().filter(|n| n.name != networks::DEFAULT) {
        let mut text = String::new();
        for (id, ip) in &n.containers {
            let Ok(rec) = store.load(id) else { continue };
            text.push_str(&format!(
                "{}\t{}\n",
                networks::fmt_ip(*ip),
                names(&rec, &n.name).join(" ")
            ));
            match member_of.iter_mut().find(|(c, _)| c == id) {
                Some((_, v)) => v.push(n.name.clone()),
                None => member_of.push((id.clone(), alloc::vec![n.name.clone()])),
            }
        }
        lines.push((n.name.clone(), text));
    }
    let _ = nets;
    for (id, on) in member_of {
        let mut section = String::new();
        for n in &on {
            if let Some((_, t)) = lines.iter().find(|(x, _)| x == n) {
                section.push_str(MARKER);
                section.push_str(n);
                section.push('\n');
                section.push_str(t);
            }
        }
        rewrite(&format!("{}/hosts", store.dir(&id)), &section);
    }
}

/// A container left its last user network: its file keeps no section.
pub fn drop_section(store: &Store, id: &str, _net: &str) {
    let on_any = networks::list(&store.root).is_ok_and(|l| {
        l.iter()
            .any(|n| n.name != networks::DEFAULT && n.containers.iter().any(|(c, _)| c == id))
    });
    if !on_any {
        rewrite(&format!("{}/hosts", store.dir(id)), "");
    }
}

/// Replace what follows the first marker line of `path` with `section`.
fn rewrite(path: &str, section: &str) {
    let Ok(c) = crate::error::cpath(path) else {
        return;
    };
    let Ok(f) = fd::open(&c, libc::O_RDWR | libc::O_NOFOLLOW | libc::O_CLOEXEC, 0) else {
        return;
    };
    // The container owns this inode: one it grew (or made sparse and
    // huge) is left alone rather than read under the networks lock, also
    // if it grows between the size check and the read.
    match fd::fstatat(f.raw(), c"", libc::AT_EMPTY_PATH) {
        Ok(st) if st.st_size <= MAX_HOSTS && st.st_mode & libc::S_IFMT == libc::S_IFREG => {}
        _ => return,
    }
    let Ok(old) = crate::sys::fs::read_fd_max(&f, MAX_HOSTS as usize) else {
        return;
    };
    let old = String::from_utf8_lossy(&old);
    let keep = match old.find(MARKER) {
        Some(i) => &old[..i],
        None => &old[..],
    };
    let mut new = String::from(keep);
    if !new.is_empty() && !new.ends_with('\n') {
        new.push('\n');
    }
    new.push_str(section);
    if new == old {
        return;
    }
    if crate::sys::fd::pwrite(f.raw(), new.as_bytes(), 0).is_ok() {
        let _ = crate::sys::fd::ftruncate(f.raw(), new.len() as u64);
    }
}

/// `sync_all` under a fresh hold of the networks lock (when the caller
/// has none): after a removal or a rename.
pub fn resync(store: &Store) {
    // Nothing to do without user networks: skip the lock.
    if !networks::list(&store.root).is_ok_and(|l| l.iter().any(|n| n.name != networks::DEFAULT)) {
        return;
    }
    if let Ok(nets) = Nets::lock(&store.root, &store.run) {
        sync_all(store, &nets);
    }
}
