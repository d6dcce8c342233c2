//! `run`'s flags for what the kernel keeps per process and namespace, as
//! docker reads them: `--ulimit NAME=SOFT[:HARD]` (OCI process.rlimits),
//! `--sysctl KEY=VALUE` (linux.sysctl: namespaced keys only, checked
//! against the container's namespaces) and `--oom-score-adj N`
//! (process.oomScoreAdj, -1000..1000).

use super::args::text;
use crate::error::{Error, Result};
use crate::spec::{Spec, rlimit, sysctl};
use alloc::format;
use alloc::string::String;

fn invalid(v: &[u8], flag: &str, why: String) -> Error {
    Error::bad(
        "invalid argument",
        format!("{:?} for \"--{flag}\" flag", text(v)),
        why,
    )
}

/// Put the flags' values in `spec`, whose namespaces are final.
pub fn apply(
    spec: &mut Spec,
    ulimits: &[&[u8]],
    sysctls: &[&[u8]],
    oom: Option<&[u8]>,
) -> Result<()> {
    for &u in ulimits {
        let r = rlimit::parse_ulimit(&text(u)).map_err(|why| invalid(u, "ulimit", why))?;
        // A name given twice: the last one, as docker's map keeps it.
        spec.process.rlimits.retain(|x| x.resource != r.resource);
        spec.process.rlimits.push(r);
    }
    for &s in sysctls {
        let t = text(s);
        let Some((k, v)) = t.split_once('=') else {
            return Err(invalid(
                s,
                "sysctl",
                format!("{t} is not a valid sysctl value"),
            ));
        };
        sysctl::check(spec, k).map_err(|why| invalid(s, "sysctl", why))?;
        spec.sysctl.retain(|(x, _)| x != k);
        spec.sysctl.push((String::from(k), String::from(v)));
    }
    if let Some(o) = oom {
        let t = text(o);
        let n: i32 = t.parse().map_err(|_| {
            invalid(
                o,
                "oom-score-adj",
                format!("strconv.ParseInt: parsing {t:?}: invalid syntax"),
            )
        })?;
        if !(-1000..=1000).contains(&n) {
            return Err(Error::bad(
                "invalid value",
                t,
                "range for oom score adj is [-1000, 1000]",
            ));
        }
        spec.process.oom_score_adj = Some(n);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Namespace;

    fn spec() -> Spec {
        Spec {
            namespaces: vec![Namespace::Ipc, Namespace::Network],
            ..Default::default()
        }
    }

    #[test]
    fn flags_into_the_spec() {
        let mut s = spec();
        apply(
            &mut s,
            &[b"nofile=1024:2048", b"nproc=10", b"nofile=7"],
            &[b"net.ipv4.ip_forward=1", b"kernel.shmmax=1=2"],
            Some(b"-500"),
        )
        .unwrap();
        assert_eq!(s.process.rlimits.len(), 2);
        assert_eq!(s.process.rlimits[1].soft, 7);
        assert_eq!(
            s.sysctl,
            vec![
                ("net.ipv4.ip_forward".into(), "1".into()),
                ("kernel.shmmax".into(), "1=2".into())
            ]
        );
        assert_eq!(s.process.oom_score_adj, Some(-500));
    }

    #[test]
    fn docker_messages() {
        let e = |u: &[&[u8]], sy: &[&[u8]], o: Option<&[u8]>| {
            apply(&mut spec(), u, sy, o).unwrap_err().to_string()
        };
        assert_eq!(
            e(&[b"nofile=x"], &[], None),
            "invalid argument \"nofile=x\" for \"--ulimit\" flag: strconv.ParseInt: parsing \"x\": invalid syntax"
        );
        assert_eq!(
            e(&[], &[b"kernel.panic=1"], None),
            "invalid argument \"kernel.panic=1\" for \"--sysctl\" flag: sysctl \"kernel.panic\" is not in a separate kernel namespace"
        );
        assert!(e(&[], &[b"x"], None).ends_with("x is not a valid sysctl value"));
        assert_eq!(
            e(&[], &[], Some(b"1001")),
            "invalid value 1001: range for oom score adj is [-1000, 1000]"
        );
        assert!(e(&[], &[], Some(b"x")).contains("\"--oom-score-adj\" flag"));
        // No network namespace of its own (--net host): no net.* keys.
        let mut host = spec();
        host.namespaces.retain(|n| *n != Namespace::Network);
        let r = apply(&mut host, &[], &[b"net.core.somaxconn=1"], None);
        assert!(
            r.unwrap_err()
                .to_string()
                .contains("host network namespace")
        );
    }
}
