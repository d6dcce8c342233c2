//! Resource limits (OCI `process.rlimits`, docker's `--ulimit`): names as
//! setrlimit(2) numbers them, and docker's NAME=SOFT[:HARD] syntax.

use super::Rlimit;
use alloc::format;
use alloc::string::String;

/// getrlimit(2)'s resources, in their kernel order (RLIMIT_CPU = 0...).
pub const NAMES: &[&str] = &[
    "RLIMIT_CPU",
    "RLIMIT_FSIZE",
    "RLIMIT_DATA",
    "RLIMIT_STACK",
    "RLIMIT_CORE",
    "RLIMIT_RSS",
    "RLIMIT_NPROC",
    "RLIMIT_NOFILE",
    "RLIMIT_MEMLOCK",
    "RLIMIT_AS",
    "RLIMIT_LOCKS",
    "RLIMIT_SIGPENDING",
    "RLIMIT_MSGQUEUE",
    "RLIMIT_NICE",
    "RLIMIT_RTPRIO",
    "RLIMIT_RTTIME",
];

/// RLIM_INFINITY.
pub const UNLIMITED: u64 = u64::MAX;

/// The resource number of an OCI name ("RLIMIT_NOFILE").
pub fn resource(name: &str) -> Option<u32> {
    NAMES.iter().position(|n| *n == name).map(|i| i as u32)
}

/// The OCI name of a resource number.
pub fn name(resource: u32) -> &'static str {
    NAMES.get(resource as usize).copied().unwrap_or("RLIMIT_?")
}

/// docker's `--ulimit NAME=SOFT[:HARD]` (go-units ParseUlimit): NAME as
/// docker spells it ("nofile", "as"), HARD the SOFT one if not given, -1
/// unlimited. The error is docker's text.
pub fn parse_ulimit(v: &str) -> Result<Rlimit, String> {
    let Some((n, vals)) = v.split_once('=') else {
        return Err(format!("invalid ulimit argument: {v}"));
    };
    let up = n.to_ascii_uppercase();
    let resource = match n.bytes().all(|c| c.is_ascii_lowercase()) {
        true => resource(&format!("RLIMIT_{up}")),
        false => None,
    }
    .ok_or_else(|| format!("invalid ulimit type: {n}"))?;
    let num = |s: &str| -> Result<i64, String> {
        s.parse::<i64>()
            .map_err(|_| format!("strconv.ParseInt: parsing \"{s}\": invalid syntax"))
    };
    let (soft, hard) = match vals.split(':').collect::<alloc::vec::Vec<_>>()[..] {
        [s] => (num(s)?, num(s)?),
        [s, h] => (num(s)?, num(h)?),
        _ => {
            return Err(format!(
                "too many limit value arguments - {vals}, can only have up to two, `soft[:hard]`"
            ));
        }
    };
    if hard != -1 && soft > hard {
        return Err(format!(
            "ulimit soft limit must be less than or equal to hard limit: {soft} > {hard}"
        ));
    }
    // -1 (or any negative number, as runc casts it) is unlimited.
    let u = |x: i64| if x < 0 { UNLIMITED } else { x as u64 };
    Ok(Rlimit {
        resource,
        soft: u(soft),
        hard: u(hard),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_kernels_numbers() {
        assert_eq!(resource("RLIMIT_NOFILE"), Some(libc::RLIMIT_NOFILE as u32));
        assert_eq!(resource("RLIMIT_NPROC"), Some(libc::RLIMIT_NPROC as u32));
        assert_eq!(resource("RLIMIT_RTTIME"), Some(libc::RLIMIT_RTTIME as u32));
        assert_eq!(resource("RLIMIT_AS"), Some(libc::RLIMIT_AS as u32));
        assert_eq!(resource("nofile"), None);
        assert_eq!(name(7), "RLIMIT_NOFILE");
    }

    #[test]
    fn ulimit_flags_as_docker() {
        let r = |res: &str, soft, hard| Rlimit {
            resource: resource(res).unwrap(),
            soft,
            hard,
        };
        assert_eq!(
            parse_ulimit("nofile=1024:2048"),
            Ok(r("RLIMIT_NOFILE", 1024, 2048))
        );
        assert_eq!(parse_ulimit("nproc=50"), Ok(r("RLIMIT_NPROC", 50, 50)));
        assert_eq!(
            parse_ulimit("core=-1"),
            Ok(r("RLIMIT_CORE", UNLIMITED, UNLIMITED))
        );
        assert_eq!(parse_ulimit("as=1:-1"), Ok(r("RLIMIT_AS", 1, UNLIMITED)));
        for (bad, why) in [
            ("nofile", "invalid ulimit argument: nofile"),
            ("nofiles=1", "invalid ulimit type: nofiles"),
            ("NOFILE=1", "invalid ulimit type: NOFILE"),
            (
                "nofile=2:1",
                "ulimit soft limit must be less than or equal to hard limit: 2 > 1",
            ),
            (
                "nofile=1:2:3",
                "too many limit value arguments - 1:2:3, can only have up to two, `soft[:hard]`",
            ),
            (
                "nofile=x",
                "strconv.ParseInt: parsing \"x\": invalid syntax",
            ),
        ] {
            assert_eq!(parse_ulimit(bad), Err(why.into()), "{bad}");
        }
    }

    /// Hostile `--ulimit` values: refusals are one line as `run` prints
    /// them (cli/kernel.rs wraps docker's text in an Error: a raw newline
    /// in it is escaped there); what parses prints back as
    /// `name=SOFT:HARD` (-1 for unlimited) to the same limit.
    #[test]
    fn hostile_ulimit() {
        let corpus: &[&[u8]] = &[
            b"nofile=1024:2048",
            b"nproc=50",
            b"core=-1",
            b"as=1:-1",
            b"memlock=9223372036854775807:-1",
            b"rttime=0:0",
        ];
        let dict: &[&[u8]] = &[b"=", b":", b"-1", b"nofile", b"stack", b"RLIMIT_", b"+"];
        crate::rt::fuzz::run(
            "ulimit",
            corpus,
            dict,
            std::time::Duration::from_secs(60),
            |b| {
                let v = String::from_utf8_lossy(b);
                let r = parse_ulimit(&v).map_err(|why| {
                    format!(
                        "{}",
                        crate::error::Error::bad("invalid argument", format!("{v:?}"), why)
                    )
                })?;
                assert!((r.resource as usize) < NAMES.len());
                // (A negative soft limit under a finite hard one passes, as
                // in docker: the kernel refuses it at the container's start.)
                assert!(
                    r.hard == UNLIMITED || r.soft == UNLIMITED || r.soft <= r.hard,
                    "{v}: {r:?}"
                );
                let n = |x: u64| match x {
                    UNLIMITED => String::from("-1"),
                    x => format!("{x}"),
                };
                let again = format!(
                    "{}={}:{}",
                    name(r.resource)["RLIMIT_".len()..].to_ascii_lowercase(),
                    n(r.soft),
                    n(r.hard)
                );
                assert_eq!(parse_ulimit(&again), Ok(r), "{v}: {again}");
                Ok(())
            },
        );
    }
}
