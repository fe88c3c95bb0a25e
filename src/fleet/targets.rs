//! Which servers to watch: `-h db1,db2:3307,db3`, `--hosts FILE` and
//! repeated `--url`, parsed into [`TargetSpec`]s, then resolved with the
//! common options into [`Target`]s.
//!
//! A fleet is formed only when one of those asks for several servers: a
//! comma in `-h`, a `--hosts` file, or `--url` given twice. A single `-h` or
//! `--url` keeps its meaning of today (flags override the URL's parts).

use std::path::Path;

use crate::config::{
    self, ConfigError, ConnectArgs, ConnectOptions, MAX_HOST_LEN, MAX_OPTION_FILE_BYTES,
};
use crate::text::one_line;

/// Most servers one conntop watches (a thread and a connection each).
pub const MAX_TARGETS: usize = 1000;

/// A server as the user named it, before the common options are applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSpec {
    /// `host` or `host:port` (`[v6]:port`).
    Host { host: String, port: Option<u16> },
    /// `mysql://user[:pass]@host[:port][/db]`.
    Url(String),
}

/// One server to watch: its name on screen and how to connect.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The name as given (`db2:3307`); the host and port of a URL, never its
    /// user information.
    pub name: String,
    pub opts: ConnectOptions,
}

/// The targets the flags name when they name a fleet, `None` when they name
/// one server the usual way. The file is read with `read` (`std::fs` in the
/// binary). An empty list is an error.
pub fn specs(
    args: &ConnectArgs,
    read: &dyn Fn(&Path) -> std::io::Result<String>,
) -> Result<Option<Vec<TargetSpec>>, ConfigError> {
    let list = args.host.as_deref().filter(|h| h.contains(','));
    if list.is_none() && args.hosts.is_none() && args.url.len() < 2 {
        return Ok(None);
    }
    let mut out = Vec::new();
    if let Some(host) = args.host.as_deref() {
        out.extend(parse_host_list(host)?);
    }
    if let Some(path) = &args.hosts {
        let text = read_hosts_file(path, read)?;
        out.extend(parse_hosts_file(&text, &path.display().to_string())?);
    }
    for url in &args.url {
        config::check_url(url)?;
        out.push(TargetSpec::Url(url.clone()));
    }
    if out.is_empty() {
        return Err(ConfigError::Syntax {
            origin: args
                .hosts
                .as_ref()
                .map_or_else(|| "-h".to_string(), |p| p.display().to_string()),
            reason: "no servers listed".to_string(),
        });
    }
    if out.len() > MAX_TARGETS {
        return Err(ConfigError::Syntax {
            origin: "the server list".to_string(),
            reason: format!("{} servers; at most {MAX_TARGETS}", out.len()),
        });
    }
    Ok(Some(out))
}

/// Resolves each spec with the common options (see
/// [`config::resolve_host`], [`config::resolve_url`]). Never prompts.
pub fn resolve(
    args: &ConnectArgs,
    specs: &[TargetSpec],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Target>, ConfigError> {
    specs
        .iter()
        .map(|spec| match spec {
            TargetSpec::Host { host, port } => {
                let opts = config::resolve_host(args, host, *port, env)?;
                let name = match port {
                    Some(p) if host.contains(':') => format!("[{host}]:{p}"),
                    Some(p) => format!("{host}:{p}"),
                    None => host.clone(),
                };
                Ok(Target { name, opts })
            }
            TargetSpec::Url(url) => {
                let opts = config::resolve_url(args, url, env)?;
                Ok(Target {
                    name: opts.endpoint(),
                    opts,
                })
            }
        })
        .collect()
}

/// `db1,db2:3307, [::1]:3308`: hosts and ports, comma-separated.
pub fn parse_host_list(text: &str) -> Result<Vec<TargetSpec>, ConfigError> {
    text.split(',')
        .map(|item| {
            parse_host_port(item.trim()).map_err(|reason| ConfigError::BadValue {
                key: "host".to_string(),
                value: item.to_string(),
                origin: format!("-h ({reason})"),
            })
        })
        .collect()
}

/// The lines of a `--hosts` file: one target a line (`host`, `host:port` or
/// a `mysql://` URL); blank lines and lines starting with `#` are skipped,
/// and a `#` after a host starts a comment (not after a URL: a password may
/// hold one). `origin` names the file in errors (`hosts.txt:3: ...`).
pub fn parse_hosts_file(text: &str, origin: &str) -> Result<Vec<TargetSpec>, ConfigError> {
    let mut out = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = || format!("{origin}:{}", n + 1);
        if line.contains("://") {
            config::check_url(line).map_err(|e| ConfigError::Syntax {
                origin: at(),
                reason: e.to_string(),
            })?;
            out.push(TargetSpec::Url(line.to_string()));
            continue;
        }
        let entry = line.split('#').next().unwrap_or("").trim();
        let spec = parse_host_port(entry).map_err(|reason| ConfigError::Syntax {
            origin: at(),
            reason: format!(
                "{reason} in {:?} (want host, host:port or mysql://...)",
                one_line(entry, 80)
            ),
        })?;
        out.push(spec);
    }
    Ok(out)
}

/// Reads a hosts file, at most [`MAX_OPTION_FILE_BYTES`].
fn read_hosts_file(
    path: &Path,
    read: &dyn Fn(&Path) -> std::io::Result<String>,
) -> Result<String, ConfigError> {
    let text = read(path).map_err(|e| ConfigError::Read {
        what: "hosts file",
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    if text.len() as u64 > MAX_OPTION_FILE_BYTES {
        return Err(ConfigError::Syntax {
            origin: path.display().to_string(),
            reason: format!("larger than {MAX_OPTION_FILE_BYTES} bytes"),
        });
    }
    Ok(text)
}

/// `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address.
fn parse_host_port(item: &str) -> Result<TargetSpec, String> {
    if item.is_empty() {
        return Err("empty host".to_string());
    }
    if item.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("one server per entry, no spaces".to_string());
    }
    let (host, port) = if let Some(rest) = item.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or("missing ] after the IPv6 address")?;
        match after {
            "" => (host, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return Err("unexpected text after the IPv6 address".to_string()),
            },
        }
    } else {
        match item.matches(':').count() {
            0 => (item, None),
            1 => match item.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (item, None),
            },
            // A bare IPv6 address; with a port it needs brackets.
            _ => (item, None),
        }
    };
    if host.is_empty() {
        return Err("empty host".to_string());
    }
    if host.len() > MAX_HOST_LEN {
        return Err(format!("host name longer than {MAX_HOST_LEN} bytes"));
    }
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(p) if p > 0 => Some(p),
            _ => {
                return Err(format!(
                    "bad port {:?}: a number from 1 to 65535",
                    one_line(p, 16)
                ));
            }
        },
    };
    Ok(TargetSpec::Host {
        host: host.to_string(),
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(h: &str, port: Option<u16>) -> TargetSpec {
        TargetSpec::Host {
            host: h.to_string(),
            port,
        }
    }

    #[test]
    fn host_lists() {
        assert_eq!(
            parse_host_list("db1, db2:3307,[::1]:3308,fe80::1,[::2]").unwrap(),
            vec![
                host("db1", None),
                host("db2", Some(3307)),
                host("::1", Some(3308)),
                host("fe80::1", None),
                host("::2", None),
            ]
        );
        for bad in [
            "db1,,db2", "db1,", "db:0", "db:x", "db:70000", ":3306", "[::1", "[::1]x",
        ] {
            let e = parse_host_list(bad).unwrap_err().to_string();
            assert!(e.starts_with("bad host "), "{bad}: {e}");
            assert!(e.contains("in -h ("), "{bad}: {e}");
        }
    }

    #[test]
    fn hosts_files() {
        let text = "# primaries\n\
                    db1\n\
                    \n   db2:3307   # the big one\n\
                    mysql://app:p#ss@db3:3309/x\n\
                    [::1]:3310\n";
        assert_eq!(
            parse_hosts_file(text, "h.txt").unwrap(),
            vec![
                host("db1", None),
                host("db2", Some(3307)),
                TargetSpec::Url("mysql://app:p#ss@db3:3309/x".to_string()),
                host("::1", Some(3310)),
            ]
        );
    }

    #[test]
    fn a_bad_line_is_named() {
        let e = parse_hosts_file("db1\ndb2:x\n", "h.txt").unwrap_err();
        assert_eq!(
            e.to_string(),
            "h.txt:2: bad port \"x\": a number from 1 to 65535 in \"db2:x\" \
             (want host, host:port or mysql://...)"
        );
        let e = parse_hosts_file("db1 db2\n", "h.txt")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("h.txt:1: one server per entry"), "{e}");
        let e = parse_hosts_file("\n\npostgres://u:S3cr@h\n", "h.txt")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("h.txt:3: bad URL"), "{e}");
        assert!(!e.contains("S3cr"), "{e}");
        let e = parse_hosts_file("\u{1b}[2J:1x\n", "h.txt")
            .unwrap_err()
            .to_string();
        assert!(!e.contains('\u{1b}'), "{e}");
    }

    fn args(list: &[&str]) -> ConnectArgs {
        use clap::Parser;
        #[derive(Parser)]
        #[command(disable_help_flag = true)]
        struct T {
            #[command(flatten)]
            c: ConnectArgs,
        }
        T::try_parse_from(std::iter::once("conntop").chain(list.iter().copied()))
            .unwrap()
            .c
    }

    fn no_file(_: &Path) -> std::io::Result<String> {
        Err(std::io::Error::from(std::io::ErrorKind::NotFound))
    }

    #[test]
    fn a_fleet_only_when_several_are_asked_for() {
        assert_eq!(specs(&args(&["-h", "db1"]), &no_file).unwrap(), None);
        assert_eq!(
            specs(&args(&["--url", "mysql://a"]), &no_file).unwrap(),
            None
        );
        assert_eq!(
            specs(&args(&["-h", "db1,db2"]), &no_file)
                .unwrap()
                .map(|v| v.len()),
            Some(2)
        );
        let both = specs(
            &args(&["-h", "db1", "--url", "mysql://a", "--url", "mysql://b:1"]),
            &no_file,
        )
        .unwrap()
        .unwrap();
        assert_eq!(both.len(), 3);
        assert_eq!(both[0], host("db1", None));
        let file = |_: &Path| Ok("db5\n# none\n".to_string());
        let one = specs(&args(&["--hosts", "f"]), &file).unwrap().unwrap();
        assert_eq!(one, vec![host("db5", None)]);
        let empty = |_: &Path| Ok("# nothing\n".to_string());
        let e = specs(&args(&["--hosts", "f"]), &empty).unwrap_err();
        assert_eq!(e.to_string(), "f: no servers listed");
        let e = specs(&args(&["--hosts", "/nope"]), &no_file).unwrap_err();
        assert!(
            e.to_string().starts_with("cannot read hosts file /nope"),
            "{e}"
        );
    }

    #[test]
    fn names_never_hold_user_information() {
        let a = args(&["--no-defaults", "-uroot"]);
        let specs = vec![
            host("db2", Some(3307)),
            host("::1", Some(3308)),
            TargetSpec::Url("mysql://app:S3cr@db3:3309".to_string()),
        ];
        let got = resolve(&a, &specs, &|_| None).unwrap();
        let names: Vec<&str> = got.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["db2:3307", "[::1]:3308", "db3:3309"]);
    }
}
