//! Connection options for one server of several (`-h a,b:3307`, `--hosts`,
//! repeated `--url`): the common flags, option files and environment, with
//! the target's host and port, or with its URL over the flags.

use super::option_file::{OptionFs, RealFs};
use super::{ConfigError, ConnectArgs, ConnectOptions, Layer, merge, url};

/// Options for the server at `host` (`port`, else the common `-P`, else
/// 3306), with every other common option: user, password, option files,
/// TLS, timeouts. The common `-h` and `--url` are not used.
pub fn resolve_host(
    args: &ConnectArgs,
    host: &str,
    port: Option<u16>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ConnectOptions, ConfigError> {
    resolve_host_with(args, host, port, env, &RealFs)
}

fn resolve_host_with(
    args: &ConnectArgs,
    host: &str,
    port: Option<u16>,
    env: &dyn Fn(&str) -> Option<String>,
    fs: &dyn OptionFs,
) -> Result<ConnectOptions, ConfigError> {
    let flags = Layer {
        host: Some(host.to_string()),
        port: port.or(args.port),
        ..Layer::from_args(args)
    };
    merge(args, flags, Layer::default(), env, fs)
}

/// Options for the server `url` names: what the URL says wins over the
/// common flags, which fill in the rest (the common `-h` is not used).
pub fn resolve_url(
    args: &ConnectArgs,
    url: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ConnectOptions, ConfigError> {
    resolve_url_with(args, url, env, &RealFs)
}

fn resolve_url_with(
    args: &ConnectArgs,
    url: &str,
    env: &dyn Fn(&str) -> Option<String>,
    fs: &dyn OptionFs,
) -> Result<ConnectOptions, ConfigError> {
    let top = url::parse(url)?;
    let flags = Layer {
        host: None,
        ..Layer::from_args(args)
    };
    merge(args, top, flags, env, fs)
}

/// Checks that `url` is one conntop can connect with (errors never show
/// its user information).
pub fn check_url(url: &str) -> Result<(), ConfigError> {
    url::parse(url).map(|_| ())
}

/// `url` as messages may show it: `***` for the user information.
pub fn redact_url(url: &str) -> String {
    url::redact(url)
}

/// Several `--url`s where one server is expected.
pub(super) fn several_urls() -> ConfigError {
    ConfigError::Syntax {
        origin: "--url".to_string(),
        reason: "several URLs name several servers; each is watched on its own".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::path::{Path, PathBuf};
    use std::time::Duration;

    use clap::Parser;

    use super::*;
    use crate::config::{Password, normalize_argv};

    /// No files at all.
    struct NoFs;

    impl OptionFs for NoFs {
        fn read(&self, _: &Path) -> io::Result<String> {
            Err(io::Error::from(io::ErrorKind::NotFound))
        }
        fn list_dir(&self, _: &Path) -> io::Result<Vec<PathBuf>> {
            Err(io::Error::from(io::ErrorKind::NotFound))
        }
        fn exists(&self, _: &Path) -> bool {
            false
        }
    }

    #[derive(Parser)]
    #[command(disable_help_flag = true)]
    struct T {
        #[command(flatten)]
        c: ConnectArgs,
    }

    fn args(list: &[&str]) -> ConnectArgs {
        let argv = std::iter::once("conntop")
            .chain(list.iter().copied())
            .map(std::ffi::OsString::from)
            .collect();
        T::try_parse_from(normalize_argv(argv)).unwrap().c
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn a_host_target_takes_the_common_options_and_its_own_host_and_port() {
        let a = args(&[
            "-h",
            "a,b",
            "-P",
            "3310",
            "-uadmin",
            "-psecret",
            "--connect-timeout",
            "2s",
            "--url",
            "mysql://other@x",
        ]);
        let o = resolve_host_with(&a, "db2", Some(3307), &no_env, &NoFs).unwrap();
        assert_eq!(o.endpoint(), "db2:3307");
        assert_eq!(o.user, "admin");
        assert_eq!(o.password, Some(Password::new("secret")));
        assert_eq!(o.connect_timeout, Duration::from_secs(2));
        let o = resolve_host_with(&a, "db1", None, &no_env, &NoFs).unwrap();
        assert_eq!(o.endpoint(), "db1:3310", "the common -P");
        let o = resolve_host_with(&args(&[]), "db1", None, &no_env, &NoFs).unwrap();
        assert_eq!(o.endpoint(), "db1:3306");
    }

    #[test]
    fn a_url_target_overrides_the_common_flags() {
        let a = args(&["-h", "a,b", "-uadmin", "-psecret", "--ssl-mode=DISABLED"]);
        let o = resolve_url_with(&a, "mysql://app:pw@db3:3309/x", &no_env, &NoFs).unwrap();
        assert_eq!(o.endpoint(), "db3:3309");
        assert_eq!(o.user, "app");
        assert_eq!(o.password, Some(Password::new("pw")));
        assert_eq!(o.ssl_mode, crate::config::SslMode::Disabled);
        // What the URL leaves out comes from the flags.
        let o = resolve_url_with(&a, "mysql://db4", &no_env, &NoFs).unwrap();
        assert_eq!(
            (o.endpoint().as_str(), o.user.as_str()),
            ("db4:3306", "admin")
        );
        assert_eq!(o.password, Some(Password::new("secret")));
    }

    #[test]
    fn bad_urls_never_show_the_password() {
        let e = check_url("mysql://u:S3cr@h:99999").unwrap_err().to_string();
        assert!(!e.contains("S3cr"), "{e}");
        assert!(check_url("postgres://h").is_err());
        assert_eq!(redact_url("mysql://u:S3cr@h:1"), "mysql://***@h:1");
    }

    #[test]
    fn several_urls_are_not_one_server() {
        let a = args(&["--url", "mysql://a", "--url", "mysql://b"]);
        assert_eq!(a.url.len(), 2);
        let e = crate::config::resolve_with(&a, &no_env, &NoFs).unwrap_err();
        assert!(e.to_string().starts_with("--url: several URLs"), "{e}");
    }
}
