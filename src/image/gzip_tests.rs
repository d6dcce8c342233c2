//! Unit tests of gzip.rs, against what the `gzip` program makes.

use super::*;
use crate::rt::fuzz::Rng;
use std::io::Write;
use std::process::{Command, Stdio};
use std::vec::Vec;

/// Text-like runs with stretches of noise, as layers hold.
fn sample(len: usize, seed: u64) -> Vec<u8> {
    let mut r = Rng::new(seed);
    let words: [&[u8]; 6] = [
        b"usr ",
        b"lib ",
        b"pocket\n",
        b"layer ",
        b"\0\0\0\0",
        b"x86_64 ",
    ];
    let mut v = Vec::with_capacity(len + 16);
    while v.len() < len {
        if r.below(10) == 0 {
            for _ in 0..r.below(300) {
                v.push(r.next() as u8);
            }
        } else {
            v.extend_from_slice(words[r.below(words.len())]);
        }
    }
    v.truncate(len);
    v
}

/// `gzip <args>` of `data`, through its stdin.
fn gzip(args: &[&str], data: &[u8]) -> Vec<u8> {
    let mut c = Command::new("gzip")
        .args(args)
        .arg("-c")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the gzip program (tests compare against it)");
    let mut stdin = c.stdin.take().unwrap();
    let d = data.to_vec();
    let w = std::thread::spawn(move || stdin.write_all(&d).unwrap());
    let out = c.wait_with_output().unwrap();
    w.join().unwrap();
    assert!(out.status.success());
    out.stdout
}

/// A source handing out at most `step` bytes per read, with an EINTR
/// now and then, as a pipe might.
struct Slow<'a> {
    d: &'a [u8],
    step: usize,
    calls: u32,
}

impl Source for Slow<'_> {
    fn read(&mut self, buf: &mut [u8]) -> core::result::Result<usize, Errno> {
        self.calls += 1;
        if self.calls.is_multiple_of(5) {
            return Err(Errno::EINTR);
        }
        let n = buf.len().min(self.step).min(self.d.len());
        buf[..n].copy_from_slice(&self.d[..n]);
        self.d = &self.d[n..];
        Ok(n)
    }
}

/// Everything a source yields, reading `chunk` bytes at a time.
fn read_all(src: &mut dyn Source, chunk: usize) -> core::result::Result<Vec<u8>, Errno> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; chunk];
    loop {
        match src.read(&mut buf) {
            Ok(0) => return Ok(out),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
}

fn gunzip(z: &[u8], step: usize, chunk: usize) -> core::result::Result<Vec<u8>, &'static str> {
    let mut s = Slow {
        d: z,
        step,
        calls: 0,
    };
    let mut g = Gunzip::new(&mut s);
    let r = read_all(&mut g, chunk);
    // Errors are sticky: a second read fails the same way.
    if r.is_err() {
        assert_eq!(g.read(&mut [0u8; 8]), r.clone().map(|_| 0));
    }
    r.map_err(|e| {
        assert_eq!(e, Errno::EBADMSG);
        g.why().unwrap()
    })
}

#[test]
fn crc32_known_values() {
    let c = Crc::new();
    assert_eq!(c.update(0, b""), 0);
    assert_eq!(c.update(0, b"123456789"), 0xcbf4_3926);
    let d = sample(1000, 3);
    // In pieces or whole, the same.
    let whole = c.update(0, &d);
    assert_eq!(c.update(c.update(0, &d[..333]), &d[333..]), whole);
}

#[test]
fn matches_the_gzip_program() {
    for (len, seed) in [(0, 1), (1, 2), (100_000, 3), (1_500_000, 4)] {
        let d = sample(len, seed);
        for args in [&["-1"][..], &["-6"], &["-9"]] {
            let z = gzip(args, &d);
            for (step, chunk) in [(usize::MAX, 1 << 16), (4096, 512), (7, 1000), (100_000, 3)] {
                if len > 100_000 && step < 100 {
                    continue; // slow and adds nothing
                }
                let got = gunzip(&z, step, chunk).unwrap();
                assert!(got == d, "len {} args {:?} step {}", len, args, step);
            }
        }
    }
}

#[test]
fn concatenated_members() {
    let (a, b) = (sample(300_000, 5), sample(70_000, 6));
    let mut z = gzip(&["-9"], &a);
    z.extend(gzip(&["-1"], b""));
    z.extend(gzip(&["-1"], &b));
    let mut s: &[u8] = &z;
    let mut g = Gunzip::new(&mut s);
    let got = read_all(&mut g, 10_000).unwrap();
    assert_eq!(got.len(), a.len() + b.len());
    assert!(got[..a.len()] == a[..] && got[a.len()..] == b[..]);
    assert_eq!(g.members(), 3);
}

/// The deflate body and trailer of a `gzip -n` output (no name: a
/// 10-byte header).
fn body(d: &[u8]) -> Vec<u8> {
    let z = gzip(&["-n"], d);
    assert_eq!(z[3], 0, "gzip -n writes no optional fields");
    z[10..].to_vec()
}

/// A header with every optional field, FHCRC included.
fn full_header(flags: u8) -> Vec<u8> {
    let mut h = vec![0x1f, 0x8b, 8, flags, 1, 2, 3, 4, 0, 3];
    if flags & FEXTRA != 0 {
        h.extend_from_slice(&[5, 0, b'A', b'p', 1, 0, 9]);
    }
    if flags & FNAME != 0 {
        h.extend_from_slice(b"layer.tar\0");
    }
    if flags & FCOMMENT != 0 {
        h.extend_from_slice(b"made by a test\0");
    }
    if flags & FHCRC != 0 {
        let c = Crc::new().update(0, &h) as u16;
        h.extend_from_slice(&c.to_le_bytes());
    }
    h
}

#[test]
fn optional_header_fields() {
    let d = sample(50_000, 7);
    let b = body(&d);
    for flags in 0..32u8 {
        if flags & 1 != 0 {
            continue; // FTEXT: a hint only, but skip the odd values
        }
        let mut z = full_header(flags);
        z.extend_from_slice(&b);
        for step in [1, 3, usize::MAX] {
            assert!(gunzip(&z, step, 4096).unwrap() == d, "flags {:#x}", flags);
        }
    }
    // A wrong header crc, a reserved flag, another method.
    let mut z = full_header(FHCRC | FNAME);
    let n = z.len();
    z[n - 1] ^= 1;
    z.extend_from_slice(&b);
    assert_eq!(gunzip(&z, usize::MAX, 4096), Err("bad header"));
    for (at, v) in [(3, 0x20), (2, 7), (0, 0x1e)] {
        let mut z = full_header(0);
        z[at] = v;
        z.extend_from_slice(&b);
        assert_eq!(
            gunzip(&z, usize::MAX, 4096),
            Err("bad header"),
            "byte {}",
            at
        );
    }
    // An FEXTRA field longer than the input buffer is passed over too.
    let mut z = vec![0x1f, 0x8b, 8, FEXTRA, 0, 0, 0, 0, 0, 3, 0xff, 0xff];
    z.extend(std::iter::repeat_n(0xaa, 0xffff));
    z.extend_from_slice(&b);
    assert!(gunzip(&z, 40_000, 4096).unwrap() == d);
}

#[test]
fn trailer_checked() {
    let d = sample(20_000, 8);
    let z = gzip(&[], &d);
    let n = z.len();
    let mut c = z.clone();
    c[n - 8] ^= 0x40;
    assert_eq!(gunzip(&c, usize::MAX, 4096), Err("crc mismatch"));
    let mut c = z.clone();
    c[n - 2] ^= 1;
    assert_eq!(gunzip(&c, usize::MAX, 4096), Err("length mismatch"));
    // What follows the last member must be another member.
    for tail in [
        &b"\0"[..],
        b"\0\0\0\0\0\0\0\0\0\0\0\0",
        b"garbage",
        b"\x1f\x8b\x09",
    ] {
        let mut c = z.clone();
        c.extend_from_slice(tail);
        assert_eq!(
            gunzip(&c, usize::MAX, 4096),
            Err("bad header"),
            "{:?}",
            tail
        );
    }
    // A start of a member is only cut short.
    for cut in [1, 5, 12] {
        let mut c = z.clone();
        c.extend_from_slice(&z[..cut]);
        assert_eq!(gunzip(&c, usize::MAX, 4096), Err("truncated"));
    }
}

#[test]
fn truncated_anywhere() {
    let d = sample(30_000, 9);
    let z = gzip(&["-N"], &d);
    for cut in 0..z.len() {
        for step in [1, usize::MAX] {
            if step == 1 && cut % 37 != 0 {
                continue;
            }
            assert_eq!(
                gunzip(&z[..cut], step, 4096),
                Err("truncated"),
                "cut {}",
                cut
            );
        }
    }
}

#[test]
fn corrupted_never_panics_nor_lies() {
    let d = sample(40_000, 10);
    let z = gzip(&["-9"], &d);
    let mut r = Rng::new(0x5eed);
    for i in 0..3000 {
        let mut c = z.clone();
        for _ in 0..1 + r.below(4) {
            let at = r.below(c.len());
            c[at] ^= 1 << r.below(8);
        }
        if i % 3 == 0 {
            let cut = r.below(c.len());
            c.truncate(cut);
        }
        // Corrupt data is refused; only a flip in a field nobody checks
        // (mtime, OS) may read, and then it reads the original.
        if let Ok(got) = gunzip(&c, 1 + r.below(20_000), 1 + r.below(9000)) {
            assert!(got == d, "case {}", i);
        }
    }
    // Noise after a valid header.
    for i in 0..500 {
        let mut c = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
        c.extend((0..r.below(5000)).map(|_| r.next() as u8));
        assert!(gunzip(&c, usize::MAX, 4096).is_err(), "noise {}", i);
    }
}

/// A source that fails with EIO after some bytes.
struct Failing<'a>(&'a [u8]);

impl Source for Failing<'_> {
    fn read(&mut self, buf: &mut [u8]) -> core::result::Result<usize, Errno> {
        if self.0.is_empty() {
            return Err(Errno::EIO);
        }
        self.0.read(buf)
    }
}

#[test]
fn inner_errors_pass_through() {
    let z = gzip(&[], &sample(100_000, 11));
    for cut in [5, 20, z.len() / 2, z.len() - 3] {
        let mut s = Failing(&z[..cut]);
        let mut g = Gunzip::new(&mut s);
        assert_eq!(read_all(&mut g, 4096), Err(Errno::EIO));
        assert_eq!(g.read(&mut [0u8; 4]), Err(Errno::EIO));
        assert_eq!(g.why(), None);
    }
}

#[test]
fn plain_detects_and_passes_through() {
    let d = sample(10_000, 12);
    let z = gzip(&[], &d);
    let mut s: &[u8] = &z;
    let mut p = plain(&mut s).unwrap();
    assert!(p.is_gzip());
    assert!(read_all(&mut *p, 333).unwrap() == d);
    // Not compressed: every byte comes back, the peeked ones first, short
    // streams included.
    for len in [0, 1, 2, 5, 6, 7, 10_000] {
        let mut s = Slow {
            d: &d[..len],
            step: 2,
            calls: 0,
        };
        let mut p = plain(&mut s).unwrap();
        assert!(!p.is_gzip());
        assert!(read_all(&mut p, 4).unwrap() == d[..len], "len {}", len);
    }
    let mut s: &[u8] = &d;
    let mut p = plain(&mut s).unwrap();
    p.skip(3).unwrap();
    p.skip(5).unwrap();
    assert!(read_all(&mut p, 100).unwrap() == d[8..]);
    for (magic, why) in [
        (&b"\xfd7zXZ\0"[..], "xz layers are not supported"),
        (b"BZh91AY&SY", "bzip2 layers are not supported"),
    ] {
        let mut s: &[u8] = magic;
        let e = plain(&mut s).err().unwrap();
        assert_eq!(e.to_string(), format!("read layer: {}", why));
    }
    // A tar whose first member is named "BZh9..." is still a tar.
    let mut s: &[u8] = b"BZh9x.txt\0\0";
    assert!(!plain(&mut s).unwrap().is_gzip());
}

#[test]
fn explain_names_the_gzip_reason() {
    use crate::error::Error;
    let mut z = gzip(&[], &[0u8; 1024]);
    let n = z.len();
    z[n - 3] ^= 1; // ISIZE
    let mut s: &[u8] = &z;
    let mut p = plain(&mut s).unwrap();
    let e = read_all(&mut p, 512).unwrap_err();
    let e = Error::sys("read", "layer", e);
    assert_eq!(p.explain(e).to_string(), "gzip layer: length mismatch");
    let other = Error::sys("read tar", "", Errno::EIO);
    assert_eq!(p.explain(other.clone()), other);
    let mut s: &[u8] = b"plain";
    let p = plain(&mut s).unwrap();
    let e = Error::sys("read tar", "", Errno::EBADMSG);
    assert_eq!(p.explain(e.clone()), e);
}

/// zstd: every frame of a stream in turn, skippable frames passed over
/// (zstd:chunked layers are made so); a corrupt or cut frame is an error.
#[test]
fn zstd_frames_in_turn() {
    // `zstd -19` of one line, a skippable frame, `zstd` of another.
    let hex = "28b52ffd2418c1000068656c6c6f2066726f6d2061207a737464206672616d650ae6934344502a4d1804000000736b697028b52ffd2416b10000616e642066726f6d2061207365636f6e64206f6e650a5d916963";
    let d: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let mut s: &[u8] = &d;
    let mut p = plain(&mut s).unwrap();
    assert!(matches!(p, super::Plain::Zstd(_)));
    for chunk in [1, 3, 4096] {
        let mut s: &[u8] = &d;
        let mut p = plain(&mut s).unwrap();
        assert_eq!(
            read_all(&mut p, chunk).unwrap(),
            b"hello from a zstd frame\nand from a second one\n"
        );
    }
    let _ = read_all(&mut p, 7);
    // Cut in the second frame's data, or one byte of it changed (its
    // checksum is there): refused.
    let mut s: &[u8] = &d[..d.len() - 10];
    assert!(read_all(&mut plain(&mut s).unwrap(), 4096).is_err());
    let mut bad = d.clone();
    let n = bad.len();
    bad[n - 8] ^= 1;
    let mut s: &[u8] = &bad;
    assert!(read_all(&mut plain(&mut s).unwrap(), 4096).is_err());
}

/// `d` deflated by our writer (gzip_write) at `level`.
fn ours(d: &[u8], level: i32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut g = crate::image::gzip_write::Gzip::new(&mut out, level).unwrap();
    use crate::image::tar_write::Sink;
    g.put(d).unwrap();
    g.finish().unwrap();
    out
}

/// Gunzip `z` to its end, `chunk` bytes a read. Deflate makes at most
/// 1032 bytes of 2 bits: more output than that is a loop.
fn hostile_gunzip(z: &[u8], step: usize, chunk: usize) -> core::result::Result<Vec<u8>, String> {
    let bound = 1032 * z.len() + 1024;
    let mut s = Slow {
        d: z,
        step,
        calls: 0,
    };
    let mut g = Gunzip::new(&mut s);
    let mut out = Vec::new();
    let mut buf = vec![0u8; chunk];
    loop {
        match g.read(&mut buf) {
            Ok(0) => return Ok(out),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(Errno::EINTR) => {}
            Err(e) => {
                assert_eq!(e, Errno::EBADMSG);
                // Sticky, and explained in one line.
                assert_eq!(g.read(&mut buf), Err(e));
                assert!(g.why().is_some());
                let e = g.explain(crate::error::Error::sys("read tar", "", e));
                return Err(format!("{e}"));
            }
        }
        assert!(out.len() <= bound, "{} bytes out of {}", out.len(), z.len());
    }
}

/// `gzip -dc` of `z`: (success, output).
fn gzip_d(z: &[u8]) -> (bool, Vec<u8>) {
    let mut c = Command::new("gzip")
        .args(["-d", "-c"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the gzip program (tests compare against it)");
    let mut stdin = c.stdin.take().unwrap();
    let d = z.to_vec();
    let w = std::thread::spawn(move || {
        let _ = stdin.write_all(&d);
    });
    let out = c.wait_with_output().unwrap();
    w.join().unwrap();
    (out.status.success(), out.stdout)
}

#[test]
fn hostile_gzip() {
    let text = sample(600, 13);
    let mut corpus: Vec<Vec<u8>> = vec![
        ours(b"", 1),
        ours(b"hello hello hello\n", 1),
        ours(&text, 0), // stored blocks
        ours(&text, 1),
        ours(&[b'a'; 2000], 9),
    ];
    // Every optional header field, and two members.
    let mut z = full_header(FHCRC | FEXTRA | FNAME | FCOMMENT);
    z.extend_from_slice(&ours(b"with a full header\n", 6)[10..]);
    corpus.push(z);
    let mut two = ours(b"one\n", 1);
    two.extend(ours(b"two\n", 9));
    corpus.push(two);
    let refs: Vec<&[u8]> = corpus.iter().map(|v| &v[..]).collect();
    let dict: &[&[u8]] = &[
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff",
        b"\x1f\x8b\x08\x1e",
        b"\x00\x00\x00\x00",
        b"\xff\xff\xff\xff",
        b"\x01\x00\x00\xff\xff",
        b"\x01\xff\xff\x00\x00",
        b"\x03\x00",
    ];
    let mut r = Rng::new(1);
    let mut read: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    crate::rt::fuzz::run(
        "gzip",
        &refs,
        dict,
        std::time::Duration::from_secs(60),
        |b| {
            let (step, chunk) = (1 + r.below(600), 1 + r.below(5000));
            let got = hostile_gunzip(b, usize::MAX, 1 << 16);
            // However it is cut, the same outcome (checked for a quarter
            // of the cases: a stream's buffers cost more than its work).
            if r.one_in(4) {
                assert_eq!(
                    got,
                    hostile_gunzip(b, step, chunk),
                    "step {step} chunk {chunk}"
                );
            }
            if let Ok(d) = &got {
                read.push((b.to_vec(), d.clone()));
            }
            got.map(|_| ())
        },
    );
    // What we read (the few cases no crc refused), the gzip program reads
    // the same: all at once, as members in a row, then one by one to name
    // a culprit.
    let all: Vec<u8> = read.iter().flat_map(|(z, _)| z.clone()).collect();
    let want: Vec<u8> = read.iter().flat_map(|(_, d)| d.clone()).collect();
    if !read.is_empty() && gzip_d(&all) != (true, want) {
        for (z, d) in &read {
            assert_eq!(
                gzip_d(z),
                (true, d.clone()),
                "gzip -d reads {z:?} otherwise"
            );
        }
        panic!("gzip -d reads the {} cases read otherwise", read.len());
    }
}
