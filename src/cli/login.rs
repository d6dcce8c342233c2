//! `pocket login` / `logout`: credentials checked against the registry,
//! then kept where docker keeps them (`~/.docker/config.json`, or
//! `$DOCKER_CONFIG/config.json`: `auths.HOST.auth` = base64 `user:pass`,
//! the file 0600), so pocket and docker share one login.

use super::Ctx;
use super::args::{Flag, flag, text};
use crate::error::{Context, Error, Result};
use crate::json::{self, Value};
use crate::registry::{self, auth};
use crate::sys::{fd, fs, tty};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

const LOGIN_FLAGS: &[Flag] = &[
    flag(b'u', "username", true),
    flag(b'p', "password", true),
    flag(0, "password-stdin", false),
    flag(0, "insecure-registry", true),
    flag(0, "help", false),
];
const LOGOUT_FLAGS: &[Flag] = &[flag(0, "help", false)];
/// docker's config.json: its directory and path.
fn config_path(ctx: &Ctx) -> Result<(String, String)> {
    let dir = auth::config_dir(ctx.args)
        .ok_or_else(|| Error::text(String::from("login: no $HOME for ~/.docker/config.json")))?;
    let path = format!("{dir}/config.json");
    Ok((dir, path))
}

fn read_config(path: &str) -> Result<Value> {
    match fs::read(&crate::error::cpath(path)?) {
        Ok(b) => {
            json::parse(&b).map_err(|e| Error::bad("read", String::from(path), format!("{e}")))
        }
        Err(crate::sys::Errno::ENOENT) => Ok(Value::Obj(Vec::new())),
        Err(e) => Err(Error::sys("read", String::from(path), e)),
    }
}

/// Replace (or with None, remove) `auths[key]`, keeping everything else
/// of the document.
fn set_auth(doc: &mut Value, key: &str, auth: Option<&str>) -> bool {
    let Value::Obj(top) = doc else {
        *doc = Value::Obj(Vec::new());
        return set_auth(doc, key, auth);
    };
    if !top.iter().any(|(k, _)| k == "auths") {
        top.push((String::from("auths"), Value::Obj(Vec::new())));
    }
    // An `auths` that is not an object (null, ...) is replaced.
    if let Some((_, v)) = top.iter_mut().find(|(k, _)| k == "auths")
        && !matches!(v, Value::Obj(_))
    {
        *v = Value::Obj(Vec::new());
    }
    let Some((_, Value::Obj(auths))) = top.iter_mut().find(|(k, _)| k == "auths") else {
        return false;
    };
    // Every spelling of the same registry (`https://reg/v1/`, `reg`, ...),
    // as docker's logout: pull would still find the others.
    let want = auth::config_host(key);
    let had = auths.iter().any(|(k, _)| auth::config_host(k) == want);
    auths.retain(|(k, _)| auth::config_host(k) != want);
    if let Some(a) = auth {
        auths.push((
            String::from(key),
            Value::Obj(alloc::vec![(String::from("auth"), json::str(a))]),
        ));
    }
    had
}

fn write_config(dir: &str, doc: &Value) -> Result<()> {
    fs::mkdir_all(dir, 0o700).ctx("mkdir", dir)?;
    let mut b = json::pretty(doc).into_bytes();
    b.push(b'\n');
    // 0600, replaced whole (write_atomic makes its files 0600).
    fs::write_atomic(&crate::error::cpath(dir)?, "config.json", &b, true)
        .ctx("write", &format!("{dir}/config.json"))
}

/// A line from stdin (the password, or the user name typed at a prompt);
/// the terminal's echo off when `secret`.
fn read_line(prompt: &str, secret: bool) -> Result<String> {
    let on_tty = tty::isatty(0);
    if on_tty {
        crate::rt::err().bytes(prompt.as_bytes());
    }
    let saved = if on_tty && secret {
        tty::tcgetattr(0).ok()
    } else {
        None
    };
    if let Some(t) = &saved {
        let mut quiet = *t;
        quiet.c_lflag &= !(linux_raw_sys::general::ECHO);
        let _ = tty::tcsetattr(0, &quiet);
    }
    let mut out = Vec::new();
    let mut b = [0u8; 1];
    loop {
        match fd::read(0, &mut b) {
            Ok(1) if b[0] != b'\n' => out.push(b[0]),
            Ok(_) => break,
            Err(crate::sys::Errno::EINTR) => {}
            Err(e) => {
                if let Some(t) = &saved {
                    let _ = tty::tcsetattr(0, t);
                }
                return Err(Error::sys("read", "stdin", e));
            }
        }
        if out.len() > 64 << 10 {
            break;
        }
    }
    if let Some(t) = &saved {
        let _ = tty::tcsetattr(0, t);
        crate::rt::err().bytes(b"\n");
    }
    if out.last() == Some(&b'\r') {
        out.pop();
    }
    String::from_utf8(out).map_err(|_| Error::text(String::from("login: the input is not UTF-8")))
}

fn server(p: &super::args::Parsed) -> Result<String> {
    match p.rest[..] {
        [] => Ok(String::from(crate::image::reference::DOCKER_IO)),
        [s] => {
            let s = text(s);
            // docker accepts a URL too: https://host/v1/ is host.
            let s = crate::registry::auth::config_host(&s);
            let s = if s == "index.docker.io" || s == "registry-1.docker.io" {
                crate::image::reference::DOCKER_IO
            } else {
                s
            };
            if s.is_empty() {
                return Err(Error::bad("login", "", "an empty server name"));
            }
            Ok(String::from(s))
        }
        _ => Err(Error::bad(
            "login",
            "",
            "takes at most 1 argument: [SERVER]",
        )),
    }
}

pub fn login(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("login", LOGIN_FLAGS, argv)? else {
        return Ok(0);
    };
    let domain = server(&p)?;
    let stdin_pw = p.on(LOGIN_FLAGS, "password-stdin");
    let user = match p.value(LOGIN_FLAGS, "username") {
        Some(u) => text(u),
        None if stdin_pw => {
            return Err(Error::text(String::from(
                "Must provide --username with --password-stdin",
            )));
        }
        None if tty::isatty(0) => read_line("Username: ", false)?,
        None => {
            return Err(Error::text(String::from(
                "Cannot perform an interactive login from a non TTY device",
            )));
        }
    };
    let pass = match (p.value(LOGIN_FLAGS, "password"), stdin_pw) {
        (Some(_), true) => {
            return Err(Error::text(String::from(
                "--password and --password-stdin are mutually exclusive",
            )));
        }
        (Some(pw), false) => {
            crate::errln!(
                "WARNING! Using --password via the CLI is insecure. Use --password-stdin."
            );
            text(pw)
        }
        (None, true) => read_line("", true)?,
        (None, false) if tty::isatty(0) => read_line("Password: ", true)?,
        (None, false) => {
            return Err(Error::text(String::from(
                "Cannot perform an interactive login from a non TTY device",
            )));
        }
    };
    if user.is_empty() || user.contains(':') {
        return Err(Error::bad("login", user, "not a valid username"));
    }
    if pass.is_empty() {
        return Err(Error::text(String::from("login: the password is empty")));
    }
    let user_pass = format!("{user}:{pass}");
    let opts = super::pull::options(ctx, &p, LOGIN_FLAGS);
    registry::Session::new(&domain, &opts)?.check_login(&user_pass)?;
    let (dir, path) = config_path(ctx)?;
    let mut doc = read_config(&path)?;
    set_auth(
        &mut doc,
        &auth::config_key(&domain),
        Some(&auth::encode64(user_pass.as_bytes())),
    );
    write_config(&dir, &doc)?;
    crate::outln!("Login Succeeded");
    Ok(0)
}

pub fn logout(argv: &[&[u8]], ctx: &Ctx) -> Result<i32> {
    let Some(p) = super::flags("logout", LOGOUT_FLAGS, argv)? else {
        return Ok(0);
    };
    let domain = server(&p)?;
    let key = auth::config_key(&domain);
    let (dir, path) = config_path(ctx)?;
    let mut doc = read_config(&path)?;
    if !set_auth(&mut doc, &key, None) {
        crate::outln!("Not logged in to {key}");
        return Ok(0);
    }
    write_config(&dir, &doc)?;
    crate::outln!("Removing login credentials for {key}");
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auths_replaced_and_removed_keeping_the_rest() {
        let mut d = json::parse(br#"{"auths":{"a":{"auth":"x"}},"credsStore":"pass"}"#).unwrap();
        assert!(!set_auth(&mut d, "b", Some("y")));
        assert!(set_auth(&mut d, "a", Some("z")));
        let s = json::compact(&d);
        assert_eq!(
            s,
            r#"{"auths":{"b":{"auth":"y"},"a":{"auth":"z"}},"credsStore":"pass"}"#
        );
        assert!(set_auth(&mut d, "a", None));
        assert!(!set_auth(&mut d, "a", None));
        let mut e = Value::Obj(Vec::new());
        set_auth(&mut e, "h", Some("q"));
        assert_eq!(json::compact(&e), r#"{"auths":{"h":{"auth":"q"}}}"#);
        let mut n = json::parse(br#"{"auths":null}"#).unwrap();
        set_auth(&mut n, "h", Some("q"));
        assert_eq!(json::compact(&n), r#"{"auths":{"h":{"auth":"q"}}}"#);
        let mut m = json::parse(br#"{"auths":{"https://h/v2/":{},"h":{},"i":{}}}"#).unwrap();
        assert!(set_auth(&mut m, "h", None));
        assert_eq!(json::compact(&m), r#"{"auths":{"i":{}}}"#);
    }
}
