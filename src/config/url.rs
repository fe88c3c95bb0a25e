//! `--url mysql://user[:pass]@host[:port][/db]`: parsing, and the password's place in it.
//!
//! Passwords are often pasted unencoded, with `/`, `#`, `?` or `@` in them. So the
//! user information ends at the **last** `@`, and no error ever shows any part of it.

use std::ops::Range;

use super::{ConfigError, Layer, Password, PasswordSource};
use crate::text::one_line;

/// A URL cut at `://` and at the last `@`.
struct Split<'a> {
    /// Before `://`.
    scheme: &'a str,
    /// Between `://` and the last `@`, with its byte offset in the URL.
    userinfo: Option<(usize, &'a str)>,
    /// `host[:port][/db]`: after the last `@` (or after `://` without one).
    location: &'a str,
}

/// Cuts a URL; `None` when it has no `://`.
fn split(url: &str) -> Option<Split<'_>> {
    let (scheme, rest) = url.split_once("://")?;
    let rest_at = scheme.len() + 3;
    Some(match rest.rfind('@') {
        Some(at) => Split {
            scheme,
            userinfo: Some((rest_at, &rest[..at])),
            location: &rest[at + 1..],
        },
        None => Split {
            scheme,
            userinfo: None,
            location: rest,
        },
    })
}

/// Where the password is in `url`, as a byte range (empty passwords included); `None`
/// when the URL carries none.
pub(super) fn password_range(url: &str) -> Option<Range<usize>> {
    let (at, userinfo) = split(url)?.userinfo?;
    let colon = userinfo.find(':')?;
    Some(at + colon + 1..at + userinfo.len())
}

/// Parses `mysql://user[:pass]@host[:port][/db]` (also `mariadb://`); the database is ignored.
///
/// User and password may be percent-encoded; an IPv6 host goes in brackets. Errors show the
/// URL as [`redact`] does.
pub(super) fn parse(url: &str) -> Result<Layer, ConfigError> {
    let fail = |reason: &str| ConfigError::BadUrl {
        url: redact(url),
        reason: reason.to_string(),
    };
    let parts = split(url).ok_or_else(|| fail("expected mysql://user[:pass]@host[:port][/db]"))?;
    if !parts.scheme.eq_ignore_ascii_case("mysql") && !parts.scheme.eq_ignore_ascii_case("mariadb")
    {
        return Err(fail("the scheme must be mysql://"));
    }
    if parts.location.contains(['?', '#']) {
        return Err(fail("query parameters are not supported; use flags"));
    }
    let mut layer = Layer::default();
    if let Some((_, userinfo)) = parts.userinfo {
        let (user, pass) = match userinfo.split_once(':') {
            Some((user, pass)) => (user, Some(pass)),
            None => (userinfo, None),
        };
        let user = percent_decode(user).ok_or_else(|| fail("bad %-escape in the user name"))?;
        layer.user = Some(user).filter(|u| !u.is_empty());
        if let Some(pass) = pass {
            let pass = percent_decode(pass).ok_or_else(|| fail("bad %-escape in the password"))?;
            layer.password = Some(PasswordSource::Given(Password(pass)));
        }
    }
    let hostport = parts
        .location
        .split_once('/')
        .map_or(parts.location, |(h, _db)| h);
    let (host, port) = split_host_port(hostport).map_err(&fail)?;
    layer.host = Some(host.to_string()).filter(|h| !h.is_empty());
    if let Some(port) = port {
        layer.port = match port.parse::<u16>() {
            Ok(p) if p > 0 => Some(p),
            _ => return Err(fail("the port must be a number from 1 to 65535")),
        };
    }
    Ok(layer)
}

/// `host[:port]` or `[v6]:port` into host and port text.
fn split_host_port(hostport: &str) -> Result<(&str, Option<&str>), &'static str> {
    if let Some(bracketed) = hostport.strip_prefix('[') {
        let (host, after) = bracketed
            .split_once(']')
            .ok_or("missing ] after the IPv6 address")?;
        return match after {
            "" => Ok((host, None)),
            _ => match after.strip_prefix(':') {
                Some(port) => Ok((host, Some(port))),
                None => Err("unexpected text after the IPv6 address"),
            },
        };
    }
    Ok(match hostport.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (hostport, None),
    })
}

/// The URL as errors show it: the scheme, `***` for any user information, the host, and the
/// port only when it is a number; a path shows as `/…`. Text that is not a URL at all may be
/// a mistyped secret and shows as `***`.
pub(super) fn redact(url: &str) -> String {
    let Some(parts) = split(url) else {
        return "***".to_string();
    };
    let scheme = one_line(parts.scheme, 16);
    let userinfo = if parts.userinfo.is_some() { "***@" } else { "" };
    let (hostport, path) = match parts.location.split_once('/') {
        Some((hostport, _)) => (hostport, "/…"),
        None => (parts.location, ""),
    };
    let shown = match split_host_port(hostport) {
        Ok((host, None)) => one_line(host, super::MAX_SHOWN).into_owned(),
        Ok((host, Some(port))) => {
            let port = if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) {
                one_line(port, 8)
            } else {
                "***".into()
            };
            let host = one_line(host, super::MAX_SHOWN);
            if host.contains(':') {
                format!("[{host}]:{port}")
            } else {
                format!("{host}:{port}")
            }
        }
        Err(_) => "***".to_string(),
    };
    format!("{scheme}://{userinfo}{shown}{path}")
}

/// Decodes `%XX` escapes; `None` on a broken escape or invalid UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_forms() {
        let l = parse("mysql://u%40x:p%3Aw@h").unwrap();
        assert_eq!(l.user.as_deref(), Some("u@x"));
        assert_eq!(
            l.password,
            Some(PasswordSource::Given(Password::new("p:w")))
        );
        assert_eq!(l.host.as_deref(), Some("h"));
        assert_eq!(l.port, None);
        let l = parse("mariadb://h:3307/db").unwrap();
        assert_eq!(
            (l.host.as_deref(), l.port, l.user),
            (Some("h"), Some(3307), None)
        );
        assert_eq!(parse("mysql://").unwrap(), Layer::default());
        let l = parse("mysql://root@/").unwrap();
        assert_eq!((l.user.as_deref(), l.host), (Some("root"), None));
        let l = parse("mysql://[::1]:3310/db").unwrap();
        assert_eq!((l.host.as_deref(), l.port), (Some("::1"), Some(3310)));
    }

    #[test]
    fn unencoded_passwords_end_at_the_last_at_sign() {
        for (url, pass) in [
            ("mysql://admin:S3cr/et@host", "S3cr/et"),
            ("mysql://admin:S3cr#et@host:3307", "S3cr#et"),
            ("mysql://admin:a?b@c@host/db", "a?b@c"),
            ("mysql://admin:1234/x@host", "1234/x"),
            ("mysql://admin:@host", ""),
        ] {
            let l = parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(l.user.as_deref(), Some("admin"), "{url}");
            assert_eq!(l.host.as_deref(), Some("host"), "{url}");
            assert_eq!(
                l.password,
                Some(PasswordSource::Given(Password::new(pass))),
                "{url}"
            );
            assert_eq!(&url[password_range(url).unwrap()], pass, "{url}");
        }
        assert_eq!(password_range("mysql://admin@host"), None);
        assert_eq!(password_range("mysql://host:3306"), None);
        assert_eq!(password_range("not a url"), None);
    }

    #[test]
    fn errors_show_no_part_of_the_user_information() {
        for (url, shown) in [
            ("mysql://root:SECRET@db:x", "mysql://***@db:***"),
            ("mysql://root:SECRET@db:99999", "mysql://***@db:99999"),
            ("postgres://a:SECRET@b", "postgres://***@b"),
            ("mysql://a:SECRET@b?ssl=1", "mysql://***@b?ssl=1"),
            ("mysql://a:%zz@b", "mysql://***@b"),
            ("mysql://SECRET:x@[::1", "mysql://***@***"),
            ("mysql://root:SECRET", "mysql://root:***"),
            ("mysql://root:SECRET/x", "mysql://root:***/…"),
        ] {
            let err = parse(url).unwrap_err().to_string();
            assert!(!err.contains("SECRET"), "{url}: {err}");
            assert!(
                err.starts_with(&format!("bad URL {shown:?}: ")),
                "{url}: {err}"
            );
        }
        let err = parse("SECRET").unwrap_err().to_string();
        assert_eq!(
            err,
            "bad URL \"***\": expected mysql://user[:pass]@host[:port][/db]"
        );
        let err = parse("mysql://root:SECRET@db:x").unwrap_err().to_string();
        assert_eq!(
            err,
            "bad URL \"mysql://***@db:***\": the port must be a number from 1 to 65535"
        );
        let err = parse("mysql://u:p@[::1]x").unwrap_err().to_string();
        assert_eq!(
            err,
            "bad URL \"mysql://***@***\": unexpected text after the IPv6 address"
        );
    }

    #[test]
    fn long_hosts_are_cut_in_errors() {
        let url = format!("mysql://u:p@{}:x", "h".repeat(10_000));
        let err = parse(&url).unwrap_err().to_string();
        assert!(err.len() < 200, "{}", err.len());
        assert!(err.contains('…'), "{err}");
    }
}
