//! Connection options like the mysql client: flags, option files, environment, URL.
//!
//! A DBA types what they type for `mysql`: `-h`, `-P`, `-u`, `-p`, `-S`, `--ssl-mode`,
//! `--defaults-file`, ... The sources are merged in this order, first wins:
//! command-line flags, then `--url`, then the environment (`MYSQL_PWD`, `MYSQL_HOST`,
//! `MYSQL_TCP_PORT`, `MYSQL_UNIX_PORT`), then the option files (`my.cnf`), then defaults.
//!
//! `-pSECRET` cannot be told apart from a cluster of short flags by clap, so the binary
//! passes its arguments through [`normalize_argv`] before parsing them, after
//! [`hide_passwords`] has overwritten them where `ps` shows them.
//!
//! Parts: `argv` (the raw arguments), `url` (`--url`), `option_file` (`my.cnf`), `prompt`
//! (bare `-p`), `error` ([`ConfigError`]).

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

mod argv;
mod error;
mod option_file;
mod prompt;
mod target;
mod url;

pub use argv::{hide_passwords, normalize_argv, password_spans};
pub use error::ConfigError;
use error::io_reason;
use option_file::{OptionFs, RealFs, read_option_files};
pub use prompt::prompt_password;
pub use target::{check_url, redact_url, resolve_host, resolve_url};

/// Port used when no source names one (as mysql).
pub const DEFAULT_PORT: u16 = 3306;

/// Connect timeout used when no source names one.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Floor of the read and write timeouts of an open connection (see [`ConnectOptions::io_timeout`]).
pub const MIN_IO_TIMEOUT: Duration = Duration::from_secs(10);

/// Option files read when neither `--defaults-file` nor `--no-defaults` is given,
/// before `~/.my.cnf` and `--defaults-extra-file`.
pub const SYSTEM_OPTION_FILES: [&str; 2] = ["/etc/my.cnf", "/etc/mysql/my.cnf"];

/// Sockets tried, in order, for `localhost` when no source names one.
pub const DEFAULT_SOCKETS: [&str; 3] = [
    "/run/mysqld/mysqld.sock",
    "/var/run/mysqld/mysqld.sock",
    "/tmp/mysql.sock",
];

/// Longest connect timeout accepted from a flag or an option file.
pub const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(3600);

/// Largest option file read (1 MiB); a bigger one is an error, not a long wait.
pub const MAX_OPTION_FILE_BYTES: u64 = 1024 * 1024;

/// Longest host name accepted (as the mysql client's `HOSTNAME_LENGTH`).
pub const MAX_HOST_LEN: usize = 255;

/// Longest Unix socket path the system can connect to (`sun_path` less its NUL).
pub const MAX_SOCKET_PATH_LEN: usize = if cfg!(target_os = "linux") { 107 } else { 103 };

/// How deep `!include` / `!includedir` may nest.
const MAX_INCLUDE_DEPTH: usize = 10;

/// Most characters of a value shown in a message; longer ones end in `…`.
const MAX_SHOWN: usize = 80;

/// Most characters of a path or a reason shown in a message.
const MAX_SHOWN_PATH: usize = 160;

/// A password: `Debug` and `Display` print `***`, so it never reaches a log or a screen.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Password(String);

impl Password {
    /// Wraps a password.
    pub fn new(secret: impl Into<String>) -> Self {
        Password(secret.into())
    }

    /// The password itself, for the connection handshake only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Password {
    fn from(secret: String) -> Self {
        Password(secret)
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// TLS policy, as mysql's `--ssl-mode`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SslMode {
    /// Never use TLS.
    #[value(name = "DISABLED")]
    Disabled,
    /// Use TLS when the server offers it, without checking its certificate.
    #[default]
    #[value(name = "PREFERRED")]
    Preferred,
    /// Require TLS, without checking the server's certificate.
    #[value(name = "REQUIRED")]
    Required,
    /// Require TLS and a certificate signed by the CA (`--ssl-ca`), any host name.
    #[value(name = "VERIFY_CA", alias = "verify-ca")]
    VerifyCa,
    /// Require TLS, a certificate signed by the CA and matching the host name.
    #[value(name = "VERIFY_IDENTITY", alias = "verify-identity")]
    VerifyIdentity,
}

impl SslMode {
    /// Parses an option-file value: case-insensitive, `-` and `_` alike.
    fn parse(text: &str) -> Option<SslMode> {
        match text.trim().to_ascii_uppercase().replace('-', "_").as_str() {
            "DISABLED" => Some(SslMode::Disabled),
            "PREFERRED" => Some(SslMode::Preferred),
            "REQUIRED" => Some(SslMode::Required),
            "VERIFY_CA" => Some(SslMode::VerifyCa),
            "VERIFY_IDENTITY" => Some(SslMode::VerifyIdentity),
            _ => None,
        }
    }
}

impl fmt::Display for SslMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SslMode::Disabled => "DISABLED",
            SslMode::Preferred => "PREFERRED",
            SslMode::Required => "REQUIRED",
            SslMode::VerifyCa => "VERIFY_CA",
            SslMode::VerifyIdentity => "VERIFY_IDENTITY",
        })
    }
}

/// Transport, as mysql's `--protocol` (TCP and SOCKET only).
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// TCP, even for `localhost`.
    #[value(name = "TCP")]
    Tcp,
    /// The Unix socket, whatever the host.
    #[value(name = "SOCKET")]
    Socket,
}

impl Protocol {
    /// Parses an option-file value, case-insensitive.
    fn parse(text: &str) -> Option<Protocol> {
        match text.trim().to_ascii_uppercase().as_str() {
            "TCP" => Some(Protocol::Tcp),
            "SOCKET" => Some(Protocol::Socket),
            _ => None,
        }
    }
}

/// Connection flags, spelled as the mysql client spells them.
///
/// `-h` is the host, so the root command must disable clap's `-h` help flag. The flags are
/// global: they may follow a subcommand. Call [`normalize_argv`] on the raw arguments first,
/// or `-pSECRET` is misread.
#[derive(clap::Args, Debug, Clone, Default)]
#[command(next_help_heading = "Connection")]
pub struct ConnectArgs {
    /// Server host name or IP; localhost (the default) means the Unix socket.
    #[arg(short = 'h', long, value_name = "HOST", global = true)]
    pub host: Option<String>,

    /// TCP port [default: 3306]; given with host localhost, connects over TCP.
    #[arg(short = 'P', long, value_name = "PORT", global = true,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub port: Option<u16>,

    /// User name [default: the login name].
    #[arg(short = 'u', long, value_name = "USER", global = true)]
    pub user: Option<String>,

    /// Password: -pSECRET or --password=SECRET; bare -p or --password prompts for it.
    #[arg(short = 'p', long, value_name = "PASSWORD", global = true,
          num_args = 0..=1, require_equals = true)]
    pub password: Option<Option<Password>>,

    /// Unix socket file, used when the host is localhost.
    #[arg(short = 'S', long, value_name = "PATH", global = true)]
    pub socket: Option<PathBuf>,

    /// Transport: TCP or SOCKET [default: SOCKET for localhost, else TCP].
    #[arg(long, value_name = "PROTOCOL", global = true, ignore_case = true)]
    pub protocol: Option<Protocol>,

    /// Connection URL: mysql://user[:pass]@host[:port][/db]; flags override its parts.
    /// Repeat it to watch several servers (each URL then overrides the flags).
    #[arg(long, value_name = "URL", global = true)]
    pub url: Vec<String>,

    /// Watch the servers listed in FILE: one per line, host, host:port or a mysql:// URL.
    #[arg(long, value_name = "FILE", global = true)]
    pub hosts: Option<PathBuf>,

    /// Read only this option file.
    #[arg(
        long,
        value_name = "FILE",
        global = true,
        conflicts_with = "no_defaults"
    )]
    pub defaults_file: Option<PathBuf>,

    /// Read this option file after the usual ones.
    #[arg(
        long,
        value_name = "FILE",
        global = true,
        conflicts_with = "no_defaults"
    )]
    pub defaults_extra_file: Option<PathBuf>,

    /// Read no option files.
    #[arg(long, global = true)]
    pub no_defaults: bool,

    /// TLS policy [default: PREFERRED].
    #[arg(long, value_name = "MODE", global = true, ignore_case = true)]
    pub ssl_mode: Option<SslMode>,

    /// CA certificate (PEM) for VERIFY_CA and VERIFY_IDENTITY.
    #[arg(long, value_name = "PATH", global = true)]
    pub ssl_ca: Option<PathBuf>,

    /// Give up connecting after this long, e.g. 5s or 500ms [default: 5s].
    #[arg(long, value_name = "DURATION", global = true, value_parser = parse_timeout)]
    pub connect_timeout: Option<Duration>,
}

/// Parses a `--connect-timeout` value: a humantime duration above zero, at most
/// [`MAX_CONNECT_TIMEOUT`].
fn parse_timeout(text: &str) -> Result<Duration, String> {
    match humantime::parse_duration(text) {
        Ok(d) if d.is_zero() => Err("must be greater than zero".to_string()),
        Ok(d) if d > MAX_CONNECT_TIMEOUT => Err(format!(
            "must be at most {}",
            humantime::format_duration(MAX_CONNECT_TIMEOUT)
        )),
        Ok(d) => Ok(d),
        Err(e) => Err(format!("{e} (try 5s or 500ms)")),
    }
}

/// Where and how to connect, after merging flags, URL, environment and option files.
#[derive(Clone, Debug, PartialEq)]
pub struct ConnectOptions {
    /// Server host; `None` means localhost.
    pub host: Option<String>,
    /// TCP port.
    pub port: u16,
    /// User name.
    pub user: String,
    /// Password, if any source gave one.
    pub password: Option<Password>,
    /// True when the password must be asked for (bare `-p`, or `password` without a value in
    /// an option file): call [`ConnectOptions::ask_password_if_needed`] before connecting.
    pub ask_password: bool,
    /// The Unix socket to connect through; `None` means TCP.
    pub socket: Option<PathBuf>,
    /// TLS policy.
    pub ssl_mode: SslMode,
    /// CA certificate for the VERIFY modes.
    pub ssl_ca: Option<PathBuf>,
    /// Timeout of the TCP connect.
    pub connect_timeout: Duration,
}

impl ConnectOptions {
    /// Where the connection goes: `db1:3306`, `[::1]:3306` or `/run/mysqld/mysqld.sock`.
    pub fn endpoint(&self) -> String {
        match &self.socket {
            Some(path) => path.display().to_string(),
            None => format!("{}:{}", bracket_ipv6(self.tcp_host()), self.port),
        }
    }

    /// True when the connection goes through the Unix socket.
    pub fn uses_socket(&self) -> bool {
        self.socket.is_some()
    }

    /// Read and write timeout of the open connection: the connect timeout, at least 10s.
    ///
    /// Long enough for the process list of a busy server, short enough for a hung server to
    /// show as unreachable rather than freeze the dashboard.
    pub fn io_timeout(&self) -> Duration {
        self.connect_timeout.max(MIN_IO_TIMEOUT)
    }

    /// Which TLS settings to try, in order, passing each to [`ConnectOptions::to_mysql_opts`].
    ///
    /// PREFERRED over TCP tries TLS, then plain (retry only when the first attempt fails
    /// because the server does not offer TLS). The Unix socket never uses TLS: the mysql
    /// crate does not encrypt sockets, and mysql counts a socket as a secure transport.
    pub fn tls_attempts(&self) -> &'static [bool] {
        if self.uses_socket() {
            return &[false];
        }
        match self.ssl_mode {
            SslMode::Disabled => &[false],
            SslMode::Preferred => &[true, false],
            SslMode::Required | SslMode::VerifyCa | SslMode::VerifyIdentity => &[true],
        }
    }

    /// The `mysql` crate options for one connection attempt, with TLS when `tls` is true.
    ///
    /// `prefer_socket` is off: the crate would otherwise open a second connection through the
    /// socket, and conntop uses exactly one. Without `--ssl-ca` the VERIFY modes check the
    /// certificate against the bundled Mozilla roots.
    pub fn to_mysql_opts(&self, tls: bool) -> mysql::Opts {
        let attrs = HashMap::from([("program_name", "conntop")]);
        let mut builder = mysql::OptsBuilder::new()
            .user(Some(self.user.clone()))
            .pass(self.password.as_ref().map(|p| p.expose().to_string()))
            .prefer_socket(false)
            .tcp_connect_timeout(Some(self.connect_timeout))
            .read_timeout(Some(self.io_timeout()))
            .write_timeout(Some(self.io_timeout()))
            .connect_attrs(Some(attrs));
        builder = match &self.socket {
            Some(path) => builder.socket(Some(path.to_string_lossy().into_owned())),
            None => builder
                .ip_or_hostname(Some(bracket_ipv6(self.tcp_host())))
                .tcp_port(self.port),
        };
        if tls {
            builder = builder.ssl_opts(Some(self.ssl_opts()));
        }
        builder.into()
    }

    /// Asks for the password on the terminal when [`ConnectOptions::ask_password`] is set.
    pub fn ask_password_if_needed(&mut self) -> Result<(), ConfigError> {
        if self.ask_password {
            self.password = Some(Password(prompt_password("Enter password: ")?));
            self.ask_password = false;
        }
        Ok(())
    }

    /// The host for TCP: the given host, else `localhost`.
    fn tcp_host(&self) -> &str {
        self.host.as_deref().unwrap_or("localhost")
    }

    /// TLS settings for the mode; PREFERRED and REQUIRED accept any certificate, as mysql.
    fn ssl_opts(&self) -> mysql::SslOpts {
        let ca = self.ssl_ca.clone();
        match self.ssl_mode {
            SslMode::Disabled | SslMode::Preferred | SslMode::Required => mysql::SslOpts::default()
                .with_danger_accept_invalid_certs(true)
                .with_danger_skip_domain_validation(true),
            SslMode::VerifyCa => mysql::SslOpts::default()
                .with_root_cert_path(ca)
                .with_danger_skip_domain_validation(true),
            SslMode::VerifyIdentity => mysql::SslOpts::default().with_root_cert_path(ca),
        }
    }
}

/// Puts an IPv6 address in brackets, as the mysql crate wants it.
fn bracket_ipv6(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// Merges flags, `--url`, the environment and the option files into [`ConnectOptions`].
///
/// `env` looks up an environment variable (`&|k| std::env::var(k).ok()` in the binary).
/// Reads the option files but never prompts: see [`ConnectOptions::ask_password`].
pub fn resolve(
    args: &ConnectArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ConnectOptions, ConfigError> {
    resolve_with(args, env, &RealFs)
}

/// [`resolve`] over any file system.
fn resolve_with(
    args: &ConnectArgs,
    env: &dyn Fn(&str) -> Option<String>,
    fs: &dyn OptionFs,
) -> Result<ConnectOptions, ConfigError> {
    let url = match args.url.as_slice() {
        [] => Layer::default(),
        [text] => url::parse(text)?,
        _ => return Err(target::several_urls()),
    };
    merge(args, Layer::from_args(args), url, env, fs)
}

/// `first` over `second` (the command line: flags and URLs) over the
/// environment over the option files of `args`.
fn merge(
    args: &ConnectArgs,
    first: Layer,
    second: Layer,
    env: &dyn Fn(&str) -> Option<String>,
    fs: &dyn OptionFs,
) -> Result<ConnectOptions, ConfigError> {
    let environment = Layer::from_env(env)?;
    let files = read_option_files(args, env, fs)?;

    // As MariaDB's client: a port on the command line means TCP, unless -S is also given.
    let port_on_command_line = first.port.is_some() || second.port.is_some();
    let socket_on_command_line = first.socket.is_some() || second.socket.is_some();
    let merged = first.over(second).over(environment).over(files);

    let host = merged
        .host
        .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_string())
        .filter(|h| !h.is_empty());
    let local = host
        .as_deref()
        .is_none_or(|h| h.eq_ignore_ascii_case("localhost"));
    let use_socket = match merged.protocol {
        Some(Protocol::Tcp) => false,
        Some(Protocol::Socket) => true,
        None => local && (socket_on_command_line || !port_on_command_line),
    };
    let socket = use_socket.then(|| {
        merged.socket.unwrap_or_else(|| {
            DEFAULT_SOCKETS
                .iter()
                .map(PathBuf::from)
                .find(|p| fs.exists(p))
                .unwrap_or_else(|| PathBuf::from(DEFAULT_SOCKETS[0]))
        })
    });
    if let Some(host) = &host {
        check_len("host name", host, MAX_HOST_LEN)?;
    }
    if let Some(socket) = &socket {
        check_len(
            "socket path",
            &socket.to_string_lossy(),
            MAX_SOCKET_PATH_LEN,
        )?;
    }
    let (password, ask_password) = match merged.password {
        Some(PasswordSource::Given(p)) => (Some(p), false),
        Some(PasswordSource::Prompt) => (None, true),
        None => (None, false),
    };
    Ok(ConnectOptions {
        host,
        port: merged.port.unwrap_or(DEFAULT_PORT),
        user: merged.user.unwrap_or_else(|| login_name(env)),
        password,
        ask_password,
        socket,
        ssl_mode: merged.ssl_mode.unwrap_or_default(),
        ssl_ca: merged.ssl_ca,
        connect_timeout: merged.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT),
    })
}

/// Refuses a value longer than `max` bytes, which no connection could use.
fn check_len(what: &'static str, value: &str, max: usize) -> Result<(), ConfigError> {
    if value.len() <= max {
        return Ok(());
    }
    Err(ConfigError::TooLong {
        what,
        value: value.chars().take(MAX_SHOWN + 1).collect(),
        len: value.len(),
        max,
    })
}

/// The login name, mysql's default user; `root` when the environment has none.
fn login_name(env: &dyn Fn(&str) -> Option<String>) -> String {
    ["USER", "LOGNAME", "LOGIN"]
        .iter()
        .filter_map(|k| env(k))
        .find(|v| !v.is_empty())
        .unwrap_or_else(|| "root".to_string())
}

/// Where a password comes from.
#[derive(Clone, Debug, PartialEq)]
enum PasswordSource {
    /// Given outright (possibly empty).
    Given(Password),
    /// To be asked for on the terminal.
    Prompt,
}

/// What one source says; `None` leaves it to the next source.
#[derive(Clone, Debug, Default, PartialEq)]
struct Layer {
    host: Option<String>,
    port: Option<u16>,
    user: Option<String>,
    password: Option<PasswordSource>,
    socket: Option<PathBuf>,
    protocol: Option<Protocol>,
    ssl_mode: Option<SslMode>,
    ssl_ca: Option<PathBuf>,
    connect_timeout: Option<Duration>,
}

impl Layer {
    /// This layer, with gaps filled from `lower`.
    fn over(self, lower: Layer) -> Layer {
        Layer {
            host: self.host.or(lower.host),
            port: self.port.or(lower.port),
            user: self.user.or(lower.user),
            password: self.password.or(lower.password),
            socket: self.socket.or(lower.socket),
            protocol: self.protocol.or(lower.protocol),
            ssl_mode: self.ssl_mode.or(lower.ssl_mode),
            ssl_ca: self.ssl_ca.or(lower.ssl_ca),
            connect_timeout: self.connect_timeout.or(lower.connect_timeout),
        }
    }

    /// The command-line flags.
    fn from_args(args: &ConnectArgs) -> Layer {
        Layer {
            host: args.host.clone(),
            port: args.port,
            user: args.user.clone(),
            password: args.password.clone().map(|p| match p {
                Some(p) => PasswordSource::Given(p),
                None => PasswordSource::Prompt,
            }),
            socket: args.socket.clone(),
            protocol: args.protocol,
            ssl_mode: args.ssl_mode,
            ssl_ca: args.ssl_ca.clone(),
            connect_timeout: args.connect_timeout,
        }
    }

    /// `MYSQL_HOST`, `MYSQL_TCP_PORT`, `MYSQL_UNIX_PORT` and `MYSQL_PWD`, as mysql reads them.
    fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Layer, ConfigError> {
        let nonempty = |key: &str| env(key).filter(|v| !v.is_empty());
        let port = match nonempty("MYSQL_TCP_PORT") {
            Some(text) => parse_port(&text, "MYSQL_TCP_PORT")?,
            None => None,
        };
        Ok(Layer {
            host: nonempty("MYSQL_HOST"),
            port,
            socket: nonempty("MYSQL_UNIX_PORT").map(PathBuf::from),
            password: env("MYSQL_PWD").map(|p| PasswordSource::Given(Password(p))),
            ..Layer::default()
        })
    }
}

/// Parses a port; 0 means "not set", as in mysql's option files.
fn parse_port(text: &str, origin: &str) -> Result<Option<u16>, ConfigError> {
    match text.trim().parse::<u16>() {
        Ok(0) => Ok(None),
        Ok(port) => Ok(Some(port)),
        Err(_) => Err(ConfigError::BadValue {
            key: "port".to_string(),
            value: text.to_string(),
            origin: origin.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::option_file::{fold_options, parse_options};
    use super::*;
    use clap::{CommandFactory, Parser};
    use std::collections::{BTreeMap, BTreeSet};
    use std::ffi::OsString;
    use std::io::{self, IsTerminal};
    use std::path::Path;

    #[derive(Parser, Debug)]
    #[command(disable_help_flag = true)]
    struct T {
        #[command(flatten)]
        c: ConnectArgs,
    }

    fn parse(args: &[&str]) -> Result<ConnectArgs, clap::Error> {
        let argv = std::iter::once("conntop")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        T::try_parse_from(normalize_argv(argv)).map(|t| t.c)
    }

    /// An in-memory file system: files by absolute path, plus paths that merely exist.
    #[derive(Default)]
    struct MemFs {
        files: BTreeMap<PathBuf, String>,
        present: BTreeSet<PathBuf>,
    }

    impl MemFs {
        fn with(mut self, path: &str, text: &str) -> Self {
            self.files.insert(PathBuf::from(path), text.to_string());
            self
        }
    }

    impl OptionFs for MemFs {
        fn read(&self, path: &Path) -> io::Result<String> {
            self.files
                .get(path)
                .cloned()
                .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
        }

        fn list_dir(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
            let entries: Vec<PathBuf> = self
                .files
                .keys()
                .filter(|p| p.parent() == Some(dir))
                .cloned()
                .collect();
            if entries.is_empty() {
                Err(io::Error::from(io::ErrorKind::NotFound))
            } else {
                Ok(entries.into_iter().rev().collect())
            }
        }

        fn exists(&self, path: &Path) -> bool {
            self.present.contains(path) || self.files.contains_key(path)
        }
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |key| {
            pairs
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.to_string())
        }
    }

    /// Parses one file `/f.cnf` over `fs` and folds it.
    fn file_layer(fs: &MemFs, text: &str) -> Result<Layer, ConfigError> {
        let mut lines = Vec::new();
        let mut stack = vec![PathBuf::from("/f.cnf")];
        parse_options(text, Path::new("/f.cnf"), fs, &mut stack, &mut lines)?;
        fold_options(lines)
    }

    fn layer(text: &str) -> Layer {
        file_layer(&MemFs::default(), text).unwrap()
    }

    fn resolve_mem(
        args: &[&str],
        env: &dyn Fn(&str) -> Option<String>,
        fs: &MemFs,
    ) -> ConnectOptions {
        resolve_with(&parse(args).unwrap(), env, fs).unwrap()
    }

    #[test]
    fn cli_definition_is_valid() {
        T::command().debug_assert();
    }

    #[test]
    fn attached_short_password_is_a_password() {
        let c = parse(&["-pSECRET"]).unwrap();
        assert_eq!(c.password, Some(Some(Password::new("SECRET"))));
        let c = parse(&["--password=SECRET"]).unwrap();
        assert_eq!(c.password, Some(Some(Password::new("SECRET"))));
        // As mysql: everything after -p is the password, even a leading '='.
        let c = parse(&["-p=x"]).unwrap();
        assert_eq!(c.password, Some(Some(Password::new("=x"))));
        let c = parse(&["--password="]).unwrap();
        assert_eq!(c.password, Some(Some(Password::new(""))));
    }

    #[test]
    fn bare_password_flag_prompts() {
        assert_eq!(parse(&["-p"]).unwrap().password, Some(None));
        assert_eq!(parse(&["--password"]).unwrap().password, Some(None));
        let c = parse(&["-p", "-uroot"]).unwrap();
        assert_eq!(c.password, Some(None));
        assert_eq!(c.user.as_deref(), Some("root"));
        assert_eq!(parse(&[]).unwrap().password, None);
    }

    #[test]
    fn separate_password_value_is_rejected() {
        assert!(parse(&["-p", "SECRET"]).is_err());
        assert!(parse(&["--password", "SECRET"]).is_err());
    }

    #[test]
    fn capital_p_is_the_port() {
        let c = parse(&["-P3306", "-p"]).unwrap();
        assert_eq!(c.port, Some(3306));
        assert_eq!(c.password, Some(None));
        assert_eq!(parse(&["-P", "3307"]).unwrap().port, Some(3307));
        assert!(parse(&["-P", "abc"]).is_err());
        assert!(parse(&["-P", "0"]).is_err());
        assert!(parse(&["-P", "70000"]).is_err());
    }

    #[test]
    fn normalize_leaves_other_arguments_alone() {
        let argv = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            normalize_argv(argv(&["-p", "-pX", "-P3306", "-uroot", "--", "-pY", "-p"])),
            argv(&["-p", "--password=X", "-P3306", "-uroot", "--", "-pY", "-p"])
        );
        assert_eq!(
            normalize_argv(argv(&["conntop", "-p", "--port", "1", "--password=z"])),
            argv(&["conntop", "--password", "--port", "1", "--password=z"])
        );
        assert!(normalize_argv(Vec::new()).is_empty());
    }

    #[test]
    fn short_flags_take_attached_values() {
        let c = parse(&["-hdb1", "-uroot", "-S/tmp/s.sock", "-P3307"]).unwrap();
        assert_eq!(c.host.as_deref(), Some("db1"));
        assert_eq!(c.user.as_deref(), Some("root"));
        assert_eq!(c.socket, Some(PathBuf::from("/tmp/s.sock")));
        assert_eq!(c.port, Some(3307));
    }

    #[test]
    fn ssl_mode_and_protocol_are_case_insensitive() {
        let c = parse(&["--ssl-mode=verify_ca", "--protocol", "tcp"]).unwrap();
        assert_eq!(c.ssl_mode, Some(SslMode::VerifyCa));
        assert_eq!(c.protocol, Some(Protocol::Tcp));
        let c = parse(&["--ssl-mode", "VERIFY_IDENTITY"]).unwrap();
        assert_eq!(c.ssl_mode, Some(SslMode::VerifyIdentity));
        assert!(parse(&["--ssl-mode=sometimes"]).is_err());
        assert!(parse(&["--protocol=pipe"]).is_err());
    }

    #[test]
    fn connect_timeout_is_humantime() {
        let c = parse(&["--connect-timeout", "500ms"]).unwrap();
        assert_eq!(c.connect_timeout, Some(Duration::from_millis(500)));
        let err = parse(&["--connect-timeout", "soon"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ValueValidation);
        assert!(parse(&["--connect-timeout=0s"]).is_err());
    }

    #[test]
    fn no_defaults_conflicts_with_defaults_file() {
        assert!(parse(&["--no-defaults", "--defaults-file=/x"]).is_err());
        assert!(parse(&["--no-defaults", "--defaults-extra-file=/x"]).is_err());
    }

    #[test]
    fn password_never_prints() {
        let c = parse(&["-pSECRET"]).unwrap();
        assert!(!format!("{c:?}").contains("SECRET"));
        let fs = MemFs::default();
        let o = resolve_mem(&["-pSECRET", "-hdb"], &no_env, &fs);
        assert!(!format!("{o:?}").contains("SECRET"));
        assert_eq!(format!("{}", Password::new("SECRET")), "***");
        assert_eq!(o.password.as_ref().map(Password::expose), Some("SECRET"));
    }

    #[test]
    fn quoting_and_escapes() {
        let l = layer(
            "[client]\n\
             user = \"a b\\tc\"\n\
             host='h\\'q'\n\
             socket=/x\\sy\\\\z\\q\n\
             password=\"p#ss\" # real comment\n",
        );
        assert_eq!(l.user.as_deref(), Some("a b\tc"));
        assert_eq!(l.host.as_deref(), Some("h'q"));
        assert_eq!(l.socket, Some(PathBuf::from("/x y\\z\\q")));
        assert_eq!(
            l.password,
            Some(PasswordSource::Given(Password::new("p#ss")))
        );
    }

    #[test]
    fn comments_and_blank_lines() {
        let l = layer(
            "# top\n; also\n\n[client]\n  # indented\nuser=u#trailing\n\
             host = h   ; not a comment in mysql\r\nport=3307 # p\n",
        );
        assert_eq!(l.user.as_deref(), Some("u"));
        assert_eq!(l.host.as_deref(), Some("h   ; not a comment in mysql"));
        assert_eq!(l.port, Some(3307));
    }

    #[test]
    fn dash_and_underscore_are_equal() {
        let l = layer("[client]\nssl_ca=/a.pem\nSSL-MODE=required\nconnect_timeout=7\n");
        assert_eq!(l.ssl_ca, Some(PathBuf::from("/a.pem")));
        assert_eq!(l.ssl_mode, Some(SslMode::Required));
        assert_eq!(l.connect_timeout, Some(Duration::from_secs(7)));
        let l = layer("[client]\nconnect-timeout=1500ms\n");
        assert_eq!(l.connect_timeout, Some(Duration::from_millis(1500)));
    }

    #[test]
    fn options_without_values() {
        let l = layer("[client]\nno-auto-rehash\nskip-ssl\npassword\n");
        assert_eq!(l.ssl_mode, Some(SslMode::Disabled));
        assert_eq!(l.password, Some(PasswordSource::Prompt));
        let l = layer("[client]\nssl=0\n");
        assert_eq!(l.ssl_mode, Some(SslMode::Disabled));
        let l = layer("[client]\nssl\n");
        assert_eq!(l.ssl_mode, Some(SslMode::Required));
        let l = layer("[client]\nssl-verify-server-cert\n");
        assert_eq!(l.ssl_mode, Some(SslMode::VerifyIdentity));
        let l = layer("[client]\npassword=\n");
        assert_eq!(l.password, Some(PasswordSource::Given(Password::new(""))));
        let l = layer("[client]\nskip-password\n");
        assert_eq!(l.password, Some(PasswordSource::Given(Password::new(""))));
        let l = layer("[client]\nloose-port=3310\n");
        assert_eq!(l.port, Some(3310));
    }

    #[test]
    fn conntop_section_overrides_client_and_others_are_ignored() {
        let l = layer(
            "[conntop]\nuser=monitor\n[mysqld]\nport=1\nuser=mysql\n[client]\nuser=me\n\
             port=3307\nhost=a\n[client-server]\nhost=b\n",
        );
        assert_eq!(l.user.as_deref(), Some("monitor"));
        assert_eq!(l.port, Some(3307));
        assert_eq!(l.host.as_deref(), Some("b"));
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let fs = MemFs::default();
        let err = file_layer(&fs, "user=x\n").unwrap_err();
        assert_eq!(err.to_string(), "/f.cnf:1: option outside any [section]");
        let err = file_layer(&fs, "[client\n").unwrap_err();
        assert_eq!(err.to_string(), "/f.cnf:1: section header without ]");
        let err = file_layer(&fs, "[client]\n\nport=abc\n").unwrap_err();
        assert_eq!(err.to_string(), "bad port \"abc\" in /f.cnf:3");
        let err = file_layer(&fs, "[client]\nhost\n").unwrap_err();
        assert_eq!(err.to_string(), "/f.cnf:2: option \"host\" needs a value");
        let err = file_layer(&fs, "[client]\nssl-mode=maybe\n").unwrap_err();
        assert_eq!(err.to_string(), "bad ssl-mode \"maybe\" in /f.cnf:2");
        // Bad values in sections conntop does not read are not its business.
        assert!(file_layer(&fs, "[mysqld]\nport=abc\n").is_ok());
    }

    #[test]
    fn include_and_includedir() {
        let fs = MemFs::default()
            .with("/inc/extra.cnf", "[client]\nuser=included\n")
            .with("/d/b.cnf", "[client]\nport=3308\n")
            .with("/d/a.cnf", "[client]\nport=3307\nhost=fromdir\n")
            .with("/d/c.txt", "[client]\nport=1\n");
        let l = file_layer(
            &fs,
            "[client]\nuser=before\n!include /inc/extra.cnf\n!includedir /d\n\
             !include /missing.cnf\nhost=after\n",
        )
        .unwrap();
        assert_eq!(l.user.as_deref(), Some("included"));
        assert_eq!(l.port, Some(3308));
        assert_eq!(l.host.as_deref(), Some("after"));
    }

    #[test]
    fn relative_include_is_relative_to_the_file() {
        let fs = MemFs::default().with("/inc.cnf", "[client]\nuser=rel\n");
        let l = file_layer(&fs, "!include inc.cnf\n").unwrap();
        assert_eq!(l.user.as_deref(), Some("rel"));
    }

    #[test]
    fn include_cycles_and_depth_are_errors() {
        let fs = MemFs::default()
            .with("/a.cnf", "!include /b.cnf\n")
            .with("/b.cnf", "!include /a.cnf\n");
        let err = file_layer(&fs, "!include /a.cnf\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "/a.cnf: include cycle: /f.cnf -> /a.cnf -> /b.cnf -> /a.cnf"
        );
        let mut deep = MemFs::default();
        for i in 0..20 {
            deep = deep.with(
                &format!("/n{i}.cnf"),
                &format!("!include /n{}.cnf\n", i + 1),
            );
        }
        let err = file_layer(&deep, "!include /n0.cnf\n").unwrap_err();
        assert!(
            err.to_string().contains("includes nested deeper than 10"),
            "{err}"
        );
        let err = file_layer(&MemFs::default(), "!includedir /nowhere\n").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cannot read option directory /nowhere"),
            "{err}"
        );
        let err = file_layer(&MemFs::default(), "!frobnicate x\n").unwrap_err();
        assert_eq!(err.to_string(), "/f.cnf:1: unknown directive !frobnicate");
    }

    #[test]
    fn includes_on_the_real_file_system() {
        let dir = std::env::temp_dir().join(format!("conntop-config-test-{}", std::process::id()));
        let confd = dir.join("conf.d");
        std::fs::create_dir_all(&confd).unwrap();
        std::fs::write(
            dir.join("main.cnf"),
            "[client]\nuser=main\n!includedir conf.d\n",
        )
        .unwrap();
        std::fs::write(confd.join("10-port.cnf"), "[client]\nport=3311\n").unwrap();
        std::fs::write(confd.join("20-loop.cnf"), "[client]\nuser=loop\n").unwrap();
        std::fs::write(confd.join("ignored.conf"), "[client]\nport=1\n").unwrap();
        let args = parse(&["--defaults-file", dir.join("main.cnf").to_str().unwrap()]).unwrap();
        let layer = read_option_files(&args, &no_env, &RealFs);
        std::fs::write(confd.join("30-cycle.cnf"), "!include ../main.cnf\n").unwrap();
        let cycle = read_option_files(&args, &no_env, &RealFs);
        let _ = std::fs::remove_dir_all(&dir);
        let layer = layer.unwrap();
        assert_eq!(layer.user.as_deref(), Some("loop"));
        assert_eq!(layer.port, Some(3311));
        assert!(cycle.unwrap_err().to_string().contains("include cycle"));
    }

    #[test]
    fn default_files_in_order_and_extra_file_last() {
        let fs = MemFs::default()
            .with("/etc/my.cnf", "[client]\nuser=etc\nport=3301\nhost=h1\n")
            .with("/etc/mysql/my.cnf", "[client]\nport=3302\n")
            .with("/home/u/.my.cnf", "[client]\nhost=h3\n")
            .with("/extra.cnf", "[client]\nuser=extra\n");
        let env = env_of(&[("HOME", "/home/u")]);
        let l = read_option_files(
            &parse(&["--defaults-extra-file=/extra.cnf"]).unwrap(),
            &env,
            &fs,
        )
        .unwrap();
        assert_eq!(l.user.as_deref(), Some("extra"));
        assert_eq!(l.port, Some(3302));
        assert_eq!(l.host.as_deref(), Some("h3"));
        let l =
            read_option_files(&parse(&["--defaults-file=/extra.cnf"]).unwrap(), &env, &fs).unwrap();
        assert_eq!(
            l,
            Layer {
                user: Some("extra".into()),
                ..Layer::default()
            }
        );
        let l = read_option_files(&parse(&["--no-defaults"]).unwrap(), &env, &fs).unwrap();
        assert_eq!(l, Layer::default());
    }

    #[test]
    fn named_option_files_must_exist() {
        let fs = MemFs::default();
        let err = read_option_files(
            &parse(&["--defaults-file=/x/my.cnf"]).unwrap(),
            &no_env,
            &fs,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot read option file /x/my.cnf: entity not found"
        );
        let args = parse(&["--defaults-file=/nonexistent/x.cnf"]).unwrap();
        let err = read_option_files(&args, &no_env, &RealFs).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot read option file /nonexistent/x.cnf: No such file or directory"
        );
    }

    #[test]
    fn precedence_flags_url_env_files_defaults() {
        let fs = MemFs::default().with(
            "/home/u/.my.cnf",
            "[client]\nhost=file\nport=3301\nuser=fileuser\npassword=filepw\nssl-mode=DISABLED\n\
             connect-timeout=9\n",
        );
        let env = env_of(&[
            ("HOME", "/home/u"),
            ("MYSQL_HOST", "envhost"),
            ("MYSQL_TCP_PORT", "3302"),
            ("MYSQL_PWD", "envpw"),
            ("USER", "osuser"),
        ]);
        let o = resolve_mem(&[], &env, &fs);
        assert_eq!(o.host.as_deref(), Some("envhost"));
        assert_eq!(o.port, 3302);
        assert_eq!(o.user, "fileuser");
        assert_eq!(o.password, Some(Password::new("envpw")));
        assert_eq!(o.ssl_mode, SslMode::Disabled);
        assert_eq!(o.connect_timeout, Duration::from_secs(9));

        let o = resolve_mem(
            &["--url", "mysql://urluser:urlpw@urlhost:3303/db"],
            &env,
            &fs,
        );
        assert_eq!(o.host.as_deref(), Some("urlhost"));
        assert_eq!(o.port, 3303);
        assert_eq!(o.user, "urluser");
        assert_eq!(o.password, Some(Password::new("urlpw")));

        let o = resolve_mem(
            &[
                "--url=mysql://urluser:urlpw@urlhost:3303",
                "-hflag",
                "-P3304",
                "-uflag",
                "-pflagpw",
            ],
            &env,
            &fs,
        );
        assert_eq!(o.host.as_deref(), Some("flag"));
        assert_eq!(o.port, 3304);
        assert_eq!(o.user, "flag");
        assert_eq!(o.password, Some(Password::new("flagpw")));
        assert!(!o.ask_password);

        // Bare -p prompts even when MYSQL_PWD is set, as mysql.
        let o = resolve_mem(&["-p"], &env, &fs);
        assert_eq!(o.password, None);
        assert!(o.ask_password);
    }

    #[test]
    fn defaults_when_nothing_is_given() {
        let env = env_of(&[("LOGNAME", "dba")]);
        let o = resolve_mem(&[], &env, &MemFs::default());
        assert_eq!(o.host, None);
        assert_eq!(o.port, 3306);
        assert_eq!(o.user, "dba");
        assert_eq!(o.password, None);
        assert!(!o.ask_password);
        assert_eq!(o.ssl_mode, SslMode::Preferred);
        assert_eq!(o.connect_timeout, Duration::from_secs(5));
        assert_eq!(resolve_mem(&[], &no_env, &MemFs::default()).user, "root");
    }

    #[test]
    fn password_in_file_without_value_prompts_unless_env_has_one() {
        let fs = MemFs::default().with("/c.cnf", "[client]\npassword\n");
        let o = resolve_mem(&["--defaults-file=/c.cnf"], &no_env, &fs);
        assert!(o.ask_password);
        let env = env_of(&[("MYSQL_PWD", "pw")]);
        let o = resolve_mem(&["--defaults-file=/c.cnf"], &env, &fs);
        assert!(!o.ask_password);
        assert_eq!(o.password, Some(Password::new("pw")));
    }

    #[test]
    fn localhost_uses_the_socket() {
        let mut fs = MemFs::default();
        fs.present
            .insert(PathBuf::from("/var/run/mysqld/mysqld.sock"));
        fs.present.insert(PathBuf::from("/tmp/mysql.sock"));
        let o = resolve_mem(&[], &no_env, &fs);
        assert_eq!(o.socket, Some(PathBuf::from("/var/run/mysqld/mysqld.sock")));
        assert!(o.uses_socket());
        assert_eq!(o.endpoint(), "/var/run/mysqld/mysqld.sock");
        assert_eq!(o.tls_attempts(), &[false]);

        let o = resolve_mem(&["-hlocalhost"], &no_env, &MemFs::default());
        assert_eq!(o.endpoint(), "/run/mysqld/mysqld.sock");

        let o = resolve_mem(&["-S", "/s.sock", "-P3307"], &no_env, &fs);
        assert_eq!(o.endpoint(), "/s.sock");

        let fs = fs.with("/c.cnf", "[client]\nsocket=/file.sock\nport=3310\n");
        let o = resolve_mem(&["--defaults-file=/c.cnf"], &no_env, &fs);
        assert_eq!(o.endpoint(), "/file.sock");
        let env = env_of(&[("MYSQL_UNIX_PORT", "/env.sock")]);
        let o = resolve_mem(&["--defaults-file=/c.cnf"], &env, &fs);
        assert_eq!(o.endpoint(), "/env.sock");
    }

    #[test]
    fn tcp_when_asked_or_not_local() {
        let fs = MemFs::default().with("/c.cnf", "[client]\nsocket=/file.sock\n");
        let o = resolve_mem(&["--defaults-file=/c.cnf", "-P3307"], &no_env, &fs);
        assert_eq!(o.endpoint(), "localhost:3307");
        assert!(!o.uses_socket());
        let o = resolve_mem(&["--defaults-file=/c.cnf", "--protocol=TCP"], &no_env, &fs);
        assert_eq!(o.endpoint(), "localhost:3306");
        let o = resolve_mem(&["--defaults-file=/c.cnf", "-h127.0.0.1"], &no_env, &fs);
        assert_eq!(o.endpoint(), "127.0.0.1:3306");
        assert_eq!(o.tls_attempts(), &[true, false]);
        let o = resolve_mem(
            &["--defaults-file=/c.cnf", "--url=mysql://u@localhost:3309"],
            &no_env,
            &fs,
        );
        assert_eq!(o.endpoint(), "localhost:3309");
        let o = resolve_mem(&["-h", "::1"], &no_env, &fs);
        assert_eq!(o.endpoint(), "[::1]:3306");
        let o = resolve_mem(&["--url=mysql://[::1]:3310"], &no_env, &fs);
        assert_eq!(o.endpoint(), "[::1]:3310");
        let o = resolve_mem(&["-hdb1", "--protocol=socket", "-S/x.sock"], &no_env, &fs);
        assert_eq!(o.endpoint(), "/x.sock");
    }

    #[test]
    fn tls_attempts_per_mode() {
        let tcp =
            |mode: &str| resolve_mem(&["-hdb", "--ssl-mode", mode], &no_env, &MemFs::default());
        assert_eq!(tcp("DISABLED").tls_attempts(), &[false]);
        assert_eq!(tcp("PREFERRED").tls_attempts(), &[true, false]);
        assert_eq!(tcp("REQUIRED").tls_attempts(), &[true]);
        assert_eq!(tcp("VERIFY_CA").tls_attempts(), &[true]);
        assert_eq!(tcp("VERIFY_IDENTITY").tls_attempts(), &[true]);
    }

    #[test]
    fn mysql_opts_use_one_connection_and_the_right_tls() {
        let o = resolve_mem(
            &[
                "-hdb1",
                "-P3307",
                "-uu",
                "-ppw",
                "--ssl-mode=VERIFY_CA",
                "--ssl-ca=/ca.pem",
            ],
            &no_env,
            &MemFs::default(),
        );
        let opts = o.to_mysql_opts(true);
        assert!(!opts.get_prefer_socket());
        assert_eq!(opts.get_ip_or_hostname(), "db1");
        assert_eq!(opts.get_tcp_port(), 3307);
        assert_eq!(opts.get_socket(), None);
        assert_eq!(opts.get_user(), Some("u"));
        assert_eq!(opts.get_pass(), Some("pw"));
        assert_eq!(opts.get_tcp_connect_timeout(), Some(Duration::from_secs(5)));
        assert_eq!(opts.get_read_timeout(), Some(&Duration::from_secs(10)));
        let ssl = opts.get_ssl_opts().unwrap();
        assert_eq!(ssl.root_cert_path(), Some(Path::new("/ca.pem")));
        assert!(ssl.skip_domain_validation());
        assert!(!ssl.accept_invalid_certs());
        assert!(o.to_mysql_opts(false).get_ssl_opts().is_none());
        let attrs = opts.get_connect_attrs().unwrap();
        assert_eq!(
            attrs.get("program_name").map(String::as_str),
            Some("conntop")
        );

        let mut o = o;
        o.ssl_mode = SslMode::Required;
        let ssl = o.to_mysql_opts(true).get_ssl_opts().cloned().unwrap();
        assert!(ssl.accept_invalid_certs() && ssl.skip_domain_validation());
        o.ssl_mode = SslMode::VerifyIdentity;
        let ssl = o.to_mysql_opts(true).get_ssl_opts().cloned().unwrap();
        assert!(!ssl.accept_invalid_certs() && !ssl.skip_domain_validation());

        let o = resolve_mem(
            &["-S/s.sock", "--connect-timeout=30s"],
            &no_env,
            &MemFs::default(),
        );
        let opts = o.to_mysql_opts(false);
        assert_eq!(opts.get_socket(), Some("/s.sock"));
        assert!(!opts.get_prefer_socket());
        assert_eq!(opts.get_write_timeout(), Some(&Duration::from_secs(30)));
    }

    #[test]
    fn only_regular_files_of_at_most_a_mebibyte_are_read() {
        let dir = std::env::temp_dir().join(format!("conntop-optfile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("fifo.cnf");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let big = dir.join("big.cnf");
        let mut text = "[client]\n".to_string();
        text.push_str(&"# padding\n".repeat(110_000));
        std::fs::write(&big, &text).unwrap();
        let limit = dir.join("limit.cnf");
        std::fs::write(&limit, vec![b'#'; MAX_OPTION_FILE_BYTES as usize]).unwrap();
        let including = dir.join("including.cnf");
        std::fs::write(&including, "[client]\n!include /dev/zero\n").unwrap();

        let read = |path: &Path| {
            let args = parse(&["--defaults-file", path.to_str().unwrap()]).unwrap();
            read_option_files(&args, &no_env, &RealFs).map(|_| ())
        };
        let errors = [
            read(&fifo),
            read(Path::new("/dev/zero")),
            read(&big),
            read(&dir),
            read(&including),
        ];
        let ok = read(&limit);
        let _ = std::fs::remove_dir_all(&dir);
        let texts: Vec<String> = errors
            .into_iter()
            .map(|e| e.unwrap_err().to_string())
            .collect();
        assert_eq!(
            texts[0],
            format!(
                "cannot read option file {}: not a regular file",
                fifo.display()
            )
        );
        assert_eq!(
            texts[1],
            "cannot read option file /dev/zero: not a regular file"
        );
        assert_eq!(
            texts[2],
            format!(
                "cannot read option file {}: larger than 1 MiB, the limit for an option file",
                big.display()
            )
        );
        assert!(texts[3].ends_with("not a regular file"), "{}", texts[3]);
        assert_eq!(
            texts[4],
            "cannot read option file /dev/zero: not a regular file"
        );
        ok.unwrap();
    }

    #[test]
    fn long_values_are_cut_in_messages() {
        let long = "9".repeat(1 << 20);
        let fs = MemFs::default().with("/c.cnf", &format!("[client]\nport={long}\n"));
        let args = parse(&["--defaults-file=/c.cnf"]).unwrap();
        let err = resolve_with(&args, &no_env, &fs).unwrap_err().to_string();
        assert_eq!(
            err,
            format!("bad port \"{}…\" in /c.cnf:2", "9".repeat(MAX_SHOWN))
        );
        let fs = MemFs::default().with("/c.cnf", &format!("[client]\n!{long} x\n"));
        let err = resolve_with(&args, &no_env, &fs).unwrap_err().to_string();
        assert!(err.chars().count() < 200, "{}", err.len());
        let err = ConfigError::Read {
            what: "option file",
            path: PathBuf::from(format!("/{long}")),
            reason: "File name too long".to_string(),
        }
        .to_string();
        assert!(err.chars().count() < 220, "{}", err.len());
        assert!(err.ends_with("…: File name too long"), "{err}");
    }

    #[test]
    fn hosts_and_sockets_no_connection_could_use_are_refused() {
        let host = "h".repeat(1 << 20);
        let fs = MemFs::default().with("/c.cnf", &format!("[client]\nhost={host}\n"));
        let args = parse(&["--defaults-file=/c.cnf"]).unwrap();
        let err = resolve_with(&args, &no_env, &fs).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "host name \"{}…\" is 1048576 bytes long (at most 255)",
                "h".repeat(MAX_SHOWN)
            )
        );
        let ok = "h".repeat(MAX_HOST_LEN);
        let o = resolve_mem(&["-h", &ok], &no_env, &MemFs::default());
        assert_eq!(o.host.as_deref(), Some(ok.as_str()));

        let socket = format!("/{}", "s".repeat(200));
        let args = parse(&["-S", &socket]).unwrap();
        let err = resolve_with(&args, &no_env, &MemFs::default())
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("socket path \"/sss"), "{err}");
        assert!(err.ends_with("is 201 bytes long (at most 107)") || !cfg!(target_os = "linux"));
        // An unused socket (TCP to another host) is not checked.
        let args = parse(&["-S", &socket, "-hdb1"]).unwrap();
        assert!(resolve_with(&args, &no_env, &MemFs::default()).is_ok());
    }

    #[test]
    fn connect_timeout_has_an_upper_bound() {
        assert!(parse(&["--connect-timeout", "1h"]).is_ok());
        let err = parse(&["--connect-timeout", "500000000000y"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ValueValidation);
        assert!(err.to_string().contains("must be at most 1h"), "{err}");
        for value in ["3601", "2h", "500000000000y"] {
            let fs =
                MemFs::default().with("/c.cnf", &format!("[client]\nconnect-timeout={value}\n"));
            let args = parse(&["--defaults-file=/c.cnf"]).unwrap();
            let err = resolve_with(&args, &no_env, &fs).unwrap_err().to_string();
            assert_eq!(
                err,
                format!("/c.cnf:2: connect-timeout \"{value}\" is over the limit of 1h")
            );
        }
    }

    #[test]
    fn bad_env_port_is_an_error() {
        let env = env_of(&[("MYSQL_TCP_PORT", "abc")]);
        let err = resolve_with(&ConnectArgs::default(), &env, &MemFs::default()).unwrap_err();
        assert_eq!(err.to_string(), "bad port \"abc\" in MYSQL_TCP_PORT");
    }

    #[test]
    fn prompt_without_terminal_is_a_clear_error() {
        if io::stdin().is_terminal() {
            return;
        }
        let err = prompt_password("Enter password: ").unwrap_err();
        assert_eq!(err, ConfigError::NoTerminal);
        assert!(err.to_string().starts_with("-p needs a terminal"));
    }

    #[test]
    fn io_reasons_drop_the_os_error_number() {
        let err = io::Error::from_raw_os_error(2);
        assert_eq!(io_reason(&err), "No such file or directory");
    }
}
