//! Netlink: a message builder, a socket that sends requests and reads the
//! kernel's acks and dumps, and an attribute parser — netlink(7).
//!
//! Everything read from the socket is treated as untrusted: lengths are
//! checked before use, and a malformed message ends parsing, never a panic.

use crate::error::{Error, Result};
use crate::sys::fd::Fd;
use crate::sys::{Errno, nlsock};
use alloc::string::String;
use alloc::vec::Vec;
use linux_raw_sys::netlink as k;

pub const NETLINK_ROUTE: i32 = k::NETLINK_ROUTE as i32;
pub const NETLINK_NETFILTER: i32 = k::NETLINK_NETFILTER as i32;

pub const NLM_F_REQUEST: u16 = k::NLM_F_REQUEST as u16;
pub const NLM_F_MULTI: u16 = k::NLM_F_MULTI as u16;
pub const NLM_F_ACK: u16 = k::NLM_F_ACK as u16;
pub const NLM_F_DUMP_INTR: u16 = k::NLM_F_DUMP_INTR as u16;
pub const NLM_F_DUMP: u16 = k::NLM_F_DUMP as u16;
pub const NLM_F_REPLACE: u16 = k::NLM_F_REPLACE as u16;
pub const NLM_F_EXCL: u16 = k::NLM_F_EXCL as u16;
pub const NLM_F_CREATE: u16 = k::NLM_F_CREATE as u16;
pub const NLM_F_APPEND: u16 = k::NLM_F_APPEND as u16;
pub const NLM_F_CAPPED: u16 = k::NLM_F_CAPPED as u16;
pub const NLM_F_ACK_TLVS: u16 = k::NLM_F_ACK_TLVS as u16;

pub const NLMSG_NOOP: u16 = k::NLMSG_NOOP as u16;
pub const NLMSG_ERROR: u16 = k::NLMSG_ERROR as u16;
pub const NLMSG_DONE: u16 = k::NLMSG_DONE as u16;

pub const NLA_F_NESTED: u16 = k::NLA_F_NESTED as u16;
pub const NLA_F_NET_BYTEORDER: u16 = k::NLA_F_NET_BYTEORDER as u16;
pub const NLA_TYPE_MASK: u16 = k::NLA_TYPE_MASK as u16;

/// nf_tables batch delimiters (NFNL_MSG_BATCH_BEGIN/END, nfnetlink.h). On
/// NETLINK_NETFILTER the kernel never acks these two, so no ack is asked.
pub const NFNL_MSG_BATCH_BEGIN: u16 = k::NLMSG_MIN_TYPE as u16;
pub const NFNL_MSG_BATCH_END: u16 = k::NLMSG_MIN_TYPE as u16 + 1;

const NETLINK_CAP_ACK: i32 = k::NETLINK_CAP_ACK as i32;
const NETLINK_EXT_ACK: i32 = k::NETLINK_EXT_ACK as i32;
const NLMSGERR_ATTR_MSG: u16 = 1;

/// sizeof(struct nlmsghdr).
pub const HDR: usize = 16;
/// Large enough for the datagrams the kernel packs a dump into (it sizes
/// them after the reader's buffer, up to 32 KiB).
const RECV_BUF: usize = 32 * 1024;
/// What one queued ack costs the receive buffer (skb truesize, rounded up).
const ACK_TRUESIZE: usize = 2048;
const ACKS_IN_DEFAULT_RCVBUF: usize = 64;

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// One netlink message being built: nlmsghdr, family header, attributes.
/// The length field is kept current; seq is set by the socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    buf: Vec<u8>,
    /// An attribute outgrew its 16-bit length: the socket refuses to send.
    bad: bool,
}

impl Msg {
    pub fn new(ty: u16, flags: u16) -> Msg {
        let mut buf = Vec::with_capacity(256);
        buf.extend_from_slice(&(HDR as u32).to_ne_bytes());
        buf.extend_from_slice(&ty.to_ne_bytes());
        buf.extend_from_slice(&flags.to_ne_bytes());
        buf.extend_from_slice(&[0; 8]);
        Msg { buf, bad: false }
    }

    fn pad(&mut self) {
        self.buf.resize(align4(self.buf.len()), 0);
        let n = self.buf.len() as u32;
        self.buf[..4].copy_from_slice(&n.to_ne_bytes());
    }

    /// A family header (ifinfomsg, rtmsg, nfgenmsg...) as raw bytes.
    pub fn put_bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
        self.pad();
    }

    fn attr_parts(&mut self, ty: u16, parts: &[&[u8]]) {
        let len = 4 + parts.iter().map(|p| p.len()).sum::<usize>();
        if len > u16::MAX as usize {
            self.bad = true;
            return;
        }
        self.buf.extend_from_slice(&(len as u16).to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        for p in parts {
            self.buf.extend_from_slice(p);
        }
        self.pad();
    }

    pub fn attr(&mut self, ty: u16, data: &[u8]) {
        self.attr_parts(ty, &[data]);
    }
    pub fn attr_u8(&mut self, ty: u16, v: u8) {
        self.attr(ty, &[v]);
    }
    pub fn attr_u16(&mut self, ty: u16, v: u16) {
        self.attr(ty, &v.to_ne_bytes());
    }
    pub fn attr_u32(&mut self, ty: u16, v: u32) {
        self.attr(ty, &v.to_ne_bytes());
    }
    pub fn attr_be16(&mut self, ty: u16, v: u16) {
        self.attr(ty, &v.to_be_bytes());
    }
    pub fn attr_be32(&mut self, ty: u16, v: u32) {
        self.attr(ty, &v.to_be_bytes());
    }
    pub fn attr_be64(&mut self, ty: u16, v: u64) {
        self.attr(ty, &v.to_be_bytes());
    }
    /// A C string: the bytes of `s` and a NUL.
    pub fn attr_str(&mut self, ty: u16, s: &str) {
        self.attr_parts(ty, &[s.as_bytes(), &[0]]);
    }

    /// Open a nested attribute (NLA_F_NESTED set); close it with `end`.
    pub fn nest(&mut self, ty: u16) -> usize {
        let start = self.buf.len();
        self.attr_parts(ty | NLA_F_NESTED, &[]);
        start
    }

    /// Close the nest opened at `start`: its length now covers what was
    /// added since.
    pub fn end(&mut self, start: usize) {
        let len = self.buf.len().wrapping_sub(start);
        if start < HDR || start + 4 > self.buf.len() || len > u16::MAX as usize {
            self.bad = true;
            return;
        }
        self.buf[start..start + 2].copy_from_slice(&(len as u16).to_ne_bytes());
    }

    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }
    pub fn ty(&self) -> u16 {
        u16::from_ne_bytes([self.buf[4], self.buf[5]])
    }
    pub fn flags(&self) -> u16 {
        u16::from_ne_bytes([self.buf[6], self.buf[7]])
    }
    fn set_flags(&mut self, f: u16) {
        self.buf[6..8].copy_from_slice(&f.to_ne_bytes());
    }
    /// Set the sequence number (the socket does this; public for tests).
    pub fn set_seq(&mut self, seq: u32) {
        self.buf[8..12].copy_from_slice(&seq.to_ne_bytes());
    }
}

/// One received message: header fields and the payload after nlmsghdr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    pub ty: u16,
    pub flags: u16,
    pub seq: u32,
    pub pid: u32,
    pub payload: &'a [u8],
}

/// The messages packed in one datagram; stops at the first malformed one.
pub fn messages(buf: &[u8]) -> Messages<'_> {
    Messages { buf }
}

pub struct Messages<'a> {
    buf: &'a [u8],
}

impl<'a> Iterator for Messages<'a> {
    type Item = Message<'a>;
    fn next(&mut self) -> Option<Message<'a>> {
        let b = self.buf;
        let len = u32_ne(b.get(..4)?)? as usize;
        if len < HDR || len > b.len() {
            self.buf = &[];
            return None;
        }
        let m = Message {
            ty: u16::from_ne_bytes([b[4], b[5]]),
            flags: u16::from_ne_bytes([b[6], b[7]]),
            seq: u32_ne(&b[8..12])?,
            pid: u32_ne(&b[12..16])?,
            payload: &b[HDR..len],
        };
        self.buf = b.get(align4(len)..).unwrap_or(&[]);
        Some(m)
    }
}

/// The attributes in `payload` (after any family header) as
/// (type without the NESTED/NET_BYTEORDER flags, data).
pub fn attrs(payload: &[u8]) -> Attrs<'_> {
    Attrs { buf: payload }
}

pub struct Attrs<'a> {
    buf: &'a [u8],
}

impl<'a> Iterator for Attrs<'a> {
    type Item = (u16, &'a [u8]);
    fn next(&mut self) -> Option<(u16, &'a [u8])> {
        let b = self.buf;
        let h = b.get(..4)?;
        let len = u16::from_ne_bytes([h[0], h[1]]) as usize;
        let ty = u16::from_ne_bytes([h[2], h[3]]) & NLA_TYPE_MASK;
        if len < 4 || len > b.len() {
            self.buf = &[];
            return None;
        }
        self.buf = b.get(align4(len)..).unwrap_or(&[]);
        Some((ty, &b[4..len]))
    }
}

/// The first attribute of type `ty` in `payload`.
pub fn find(payload: &[u8], ty: u16) -> Option<&[u8]> {
    attrs(payload).find(|a| a.0 == ty).map(|a| a.1)
}

pub fn u16_ne(b: &[u8]) -> Option<u16> {
    Some(u16::from_ne_bytes(b.try_into().ok()?))
}
pub fn u32_ne(b: &[u8]) -> Option<u32> {
    Some(u32::from_ne_bytes(b.try_into().ok()?))
}
pub fn u16_be(b: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes(b.try_into().ok()?))
}
pub fn u32_be(b: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(b.try_into().ok()?))
}
/// A string attribute without its NUL (and anything after it).
pub fn str_of(b: &[u8]) -> Option<&str> {
    let n = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    core::str::from_utf8(&b[..n]).ok()
}

/// An NLMSG_ERROR (or a dump's NLMSG_DONE) payload: the errno (0 for an
/// ack) and the kernel's extended-ack text, if it sent one.
pub fn parse_error(m: &Message<'_>) -> (i32, Option<String>) {
    let p = m.payload;
    let Some(err) = p.get(..4).and_then(u32_ne) else {
        return (Errno::EPROTO.into_raw(), None);
    };
    // A negative errno or 0; anything else from the kernel is nonsense.
    let err = match err as i32 {
        0 => 0,
        e if e < 0 && e > -4096 => -e,
        _ => Errno::EPROTO.into_raw(),
    };
    if m.flags & NLM_F_ACK_TLVS == 0 {
        return (err, None);
    }
    // The request comes back after the errno, whole or (capped) its header.
    let tlv = if m.ty == NLMSG_DONE {
        4
    } else if m.flags & NLM_F_CAPPED != 0 {
        4 + HDR
    } else {
        match p.get(4..8).and_then(u32_ne) {
            Some(n) => 4 + align4(n as usize),
            None => return (err, None),
        }
    };
    let text = p
        .get(tlv..)
        .and_then(|t| find(t, NLMSGERR_ATTR_MSG))
        .and_then(str_of)
        .map(|s| String::from(s.trim_end()));
    (err, text.filter(|s| !s.is_empty()))
}

/// The kernel's name of a message type, for error messages.
pub fn type_name(protocol: i32, ty: u16) -> &'static str {
    const RT: &[&str] = &[
        "RTM_NEWLINK",
        "RTM_DELLINK",
        "RTM_GETLINK",
        "RTM_SETLINK",
        "RTM_NEWADDR",
        "RTM_DELADDR",
        "RTM_GETADDR",
        "",
        "RTM_NEWROUTE",
        "RTM_DELROUTE",
        "RTM_GETROUTE",
        "",
        "RTM_NEWNEIGH",
        "RTM_DELNEIGH",
        "RTM_GETNEIGH",
    ];
    const NFT: &[&str] = &[
        "NFT_MSG_NEWTABLE",
        "NFT_MSG_GETTABLE",
        "NFT_MSG_DELTABLE",
        "NFT_MSG_NEWCHAIN",
        "NFT_MSG_GETCHAIN",
        "NFT_MSG_DELCHAIN",
        "NFT_MSG_NEWRULE",
        "NFT_MSG_GETRULE",
        "NFT_MSG_DELRULE",
        "NFT_MSG_NEWSET",
        "NFT_MSG_GETSET",
        "NFT_MSG_DELSET",
        "NFT_MSG_NEWSETELEM",
        "NFT_MSG_GETSETELEM",
        "NFT_MSG_DELSETELEM",
        "NFT_MSG_NEWGEN",
        "NFT_MSG_GETGEN",
        "NFT_MSG_TRACE",
        "NFT_MSG_NEWOBJ",
        "NFT_MSG_GETOBJ",
        "NFT_MSG_DELOBJ",
        "NFT_MSG_GETOBJ_RESET",
        "NFT_MSG_NEWFLOWTABLE",
        "NFT_MSG_GETFLOWTABLE",
        "NFT_MSG_DELFLOWTABLE",
        "NFT_MSG_GETRULE_RESET",
        "NFT_MSG_DESTROYTABLE",
        "NFT_MSG_DESTROYCHAIN",
        "NFT_MSG_DESTROYRULE",
        "NFT_MSG_DESTROYSET",
        "NFT_MSG_DESTROYSETELEM",
    ];
    let name = match protocol {
        NETLINK_ROUTE => ty.checked_sub(16).and_then(|i| RT.get(i as usize)),
        NETLINK_NETFILTER => match ty {
            NFNL_MSG_BATCH_BEGIN => Some(&"NFNL_MSG_BATCH_BEGIN"),
            NFNL_MSG_BATCH_END => Some(&"NFNL_MSG_BATCH_END"),
            // NFNL_SUBSYS_NFTABLES (10) in the high byte.
            _ if ty >> 8 == 10 => NFT.get((ty & 0xff) as usize),
            _ => None,
        },
        _ => None,
    };
    match name {
        Some(n) if !n.is_empty() => n,
        _ => "netlink request",
    }
}

/// A netlink socket bound to the network namespace it was opened in.
pub struct Sock {
    fd: Fd,
    protocol: i32,
    seq: u32,
    buf: Vec<u8>,
    /// Acks the receive buffer was last grown for.
    acks_room: usize,
}

impl Sock {
    pub fn open(protocol: i32) -> Result<Sock> {
        let fd = nlsock::open(protocol).map_err(|e| Error::sys("socket", "AF_NETLINK", e))?;
        // Both are optional (older kernels): the kernel's reason text in
        // errors, and acks that do not echo the whole request back.
        let _ = nlsock::set_flag(fd.raw(), NETLINK_EXT_ACK);
        let _ = nlsock::set_flag(fd.raw(), NETLINK_CAP_ACK);
        Ok(Sock {
            fd,
            protocol,
            seq: 1,
            buf: Vec::new(),
            acks_room: 0,
        })
    }

    pub fn protocol(&self) -> i32 {
        self.protocol
    }

    /// The network namespace this socket talks to, as a number never
    /// reused (SO_NETNS_COOKIE).
    pub fn netns_cookie(&self) -> Result<u64> {
        nlsock::netns_cookie(self.fd.raw())
            .map_err(|e| Error::sys("getsockopt SO_NETNS_COOKIE", "", e))
    }

    /// Send one request and wait for its ack.
    pub fn request(&mut self, m: Msg) -> Result<()> {
        self.exchange(&mut [m], None)
    }

    /// Send one request (a GET of one object) and return the payloads of
    /// its replies once the ack came.
    pub fn get(&mut self, m: Msg) -> Result<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        self.exchange(&mut [m], Some(&mut out))?;
        Ok(out)
    }

    /// Send all messages in one datagram (an nf_tables transaction must be
    /// one), then read every ack; the error of the earliest failing message
    /// is returned.
    pub fn batch(&mut self, mut msgs: Vec<Msg>) -> Result<()> {
        self.exchange(&mut msgs, None)
    }

    fn name(&self, m: &Msg) -> &'static str {
        type_name(self.protocol, m.ty())
    }

    fn is_delimiter(&self, m: &Msg) -> bool {
        self.protocol == NETLINK_NETFILTER
            && matches!(m.ty(), NFNL_MSG_BATCH_BEGIN | NFNL_MSG_BATCH_END)
    }

    fn next_seq(&mut self) -> u32 {
        let s = self.seq;
        // 0 is what unsolicited kernel messages carry: never use it.
        self.seq = self.seq.wrapping_add(1).max(1);
        s
    }

    fn check(&self, msgs: &[Msg]) -> Result<()> {
        match msgs.iter().find(|m| m.bad) {
            Some(m) => Err(Error::bad(self.name(m), "", "attribute longer than 64 KiB")),
            None => Ok(()),
        }
    }

    fn exchange(&mut self, msgs: &mut [Msg], mut replies: Option<&mut Vec<Vec<u8>>>) -> Result<()> {
        self.check(msgs)?;
        let Some(first_msg) = msgs.first() else {
            return Ok(());
        };
        let op = self.name(first_msg);
        let first = self.seq;
        let mut wanted = Vec::with_capacity(msgs.len());
        for m in msgs.iter_mut() {
            let seq = self.next_seq();
            m.set_seq(seq);
            let ack = !self.is_delimiter(m);
            m.set_flags(m.flags() | NLM_F_REQUEST | if ack { NLM_F_ACK } else { 0 });
            wanted.push(ack);
        }
        // seq numbers run first.. in order, skipping 0 after a wrap.
        let count = wanted.len();
        let index = |seq: u32| {
            let d = seq.wrapping_sub(first) as usize;
            let d = if seq < first && seq != 0 { d - 1 } else { d };
            (seq != 0 && d < count).then_some(d)
        };
        let mut left = wanted.iter().filter(|w| **w).count();
        // All acks are queued at once, each costing the receive buffer far
        // more than its 36 bytes; past the default (~200 KiB) the kernel
        // drops them and reports ENOBUFS. Grow it first, as nft does.
        if left > ACKS_IN_DEFAULT_RCVBUF && left > self.acks_room {
            let want = left.saturating_mul(ACK_TRUESIZE).min(i32::MAX as usize);
            let _ = nlsock::set_rcvbuf(self.fd.raw(), want as i32);
            self.acks_room = left;
        }
        if msgs.len() == 1 {
            nlsock::send(self.fd.raw(), msgs[0].bytes())
        } else {
            let all: Vec<u8> = msgs.iter().flat_map(|m| m.bytes()).copied().collect();
            // One datagram must fit the send buffer (~208 KiB by default,
            // some 400 nf_tables rules): grow it first, as nft does.
            if all.len() > 128 << 10 {
                let _ = nlsock::set_sndbuf(
                    self.fd.raw(),
                    (all.len() * 2).min(i32::MAX as usize) as i32,
                );
            }
            nlsock::send(self.fd.raw(), &all)
        }
        .map_err(|e| Error::sys(op, "(send)", e))?;

        let mut fail: Option<(usize, i32, Option<String>)> = None;
        // The kernel handles a request inside our sendto, so every reply is
        // queued by now; reading without waiting only matters when an
        // error came for a message that asked for no ack (a batch
        // delimiter), after which the kernel may not ack the rest.
        let mut drain = false;
        while left > 0 {
            let n = match self.recv(drain) {
                Ok(n) => n,
                Err(Errno::EAGAIN) if drain => break,
                Err(e) => return Err(Error::sys(op, "(receive)", e)),
            };
            for m in messages(&self.buf[..n]) {
                let Some(i) = index(m.seq) else { continue };
                if m.ty != NLMSG_ERROR {
                    if let Some(r) = replies.as_mut() {
                        r.push(m.payload.to_vec());
                    }
                    continue;
                }
                let (err, text) = parse_error(&m);
                if err != 0 && fail.as_ref().is_none_or(|f| i < f.0) {
                    fail = Some((i, err, text));
                }
                if wanted[i] {
                    wanted[i] = false;
                    left -= 1;
                } else {
                    drain = true;
                }
            }
        }
        match fail {
            None => Ok(()),
            Some((i, err, text)) => Err(Error::sys(
                self.name(&msgs[i]),
                text.map(|t| alloc::format!("({t})")).unwrap_or_default(),
                Errno::new(err),
            )),
        }
    }

    /// A dump request (NLM_F_DUMP): the payload of every reply message
    /// until NLMSG_DONE. An interrupted dump (the table changed while it
    /// was read) is started again.
    pub fn dump(&mut self, m: Msg) -> Result<Vec<Vec<u8>>> {
        self.check(core::slice::from_ref(&m))?;
        let mut m = m;
        m.set_flags(m.flags() | NLM_F_REQUEST | NLM_F_DUMP);
        let op = self.name(&m);
        for _ in 0..5 {
            let seq = self.next_seq();
            m.set_seq(seq);
            nlsock::send(self.fd.raw(), m.bytes()).map_err(|e| Error::sys(op, "(send)", e))?;
            let mut out = Vec::new();
            let mut intr = false;
            'read: loop {
                let n = self
                    .recv(false)
                    .map_err(|e| Error::sys(op, "(receive)", e))?;
                for r in messages(&self.buf[..n]) {
                    if r.seq != seq {
                        continue;
                    }
                    intr |= r.flags & NLM_F_DUMP_INTR != 0;
                    match r.ty {
                        NLMSG_DONE | NLMSG_ERROR => {
                            // DONE carries the dump's own status (0 or
                            // -errno) when it has one.
                            let (err, text) = match r.payload.len() {
                                0 if r.ty == NLMSG_DONE => (0, None),
                                _ => parse_error(&r),
                            };
                            if err != 0 {
                                let arg = text.map(|t| alloc::format!("({t})"));
                                return Err(Error::sys(
                                    op,
                                    arg.unwrap_or_default(),
                                    Errno::new(err),
                                ));
                            }
                            break 'read;
                        }
                        NLMSG_NOOP => {}
                        _ => out.push(r.payload.to_vec()),
                    }
                }
            }
            if !intr {
                return Ok(out);
            }
        }
        Err(Error::bad(op, "", "dump kept changing while read"))
    }

    /// One datagram from the kernel into self.buf, grown to fit it.
    fn recv(&mut self, nonblock: bool) -> core::result::Result<usize, Errno> {
        let flags = if nonblock { libc::MSG_DONTWAIT } else { 0 };
        loop {
            let want = nlsock::peek_len(self.fd.raw(), flags)?.max(RECV_BUF);
            if self.buf.len() < want {
                self.buf.resize(want, 0);
            }
            let (n, pid) = nlsock::recv(self.fd.raw(), &mut self.buf, flags)?;
            // Only the kernel (port 0) answers requests.
            if pid == 0 {
                return Ok(n.min(self.buf.len()));
            }
        }
    }
}

#[cfg(test)]
#[path = "nl_tests.rs"]
pub(crate) mod tests;
