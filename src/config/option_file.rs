//! Option files (`my.cnf`) as the mysql client reads them: sections, quoting, `!include`
//! and `!includedir`; only regular files of at most [`MAX_OPTION_FILE_BYTES`].

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{
    ConfigError, ConnectArgs, Layer, MAX_CONNECT_TIMEOUT, MAX_INCLUDE_DEPTH, MAX_OPTION_FILE_BYTES,
    MAX_SHOWN, Password, PasswordSource, Protocol, SYSTEM_OPTION_FILES, SslMode, io_reason,
    parse_port,
};
use crate::text::one_line;

/// File access for option files, so parsing can be tested without the real file system.
pub(super) trait OptionFs {
    /// The text of a file.
    fn read(&self, path: &Path) -> io::Result<String>;
    /// The entries of a directory.
    fn list_dir(&self, dir: &Path) -> io::Result<Vec<PathBuf>>;
    /// Whether a path exists (for the default sockets).
    fn exists(&self, path: &Path) -> bool;
    /// A path that is the same for the same file, for include-cycle detection.
    fn canonical(&self, path: &Path) -> PathBuf {
        path.to_path_buf()
    }
}

/// The real file system.
pub(super) struct RealFs;

impl OptionFs for RealFs {
    /// Reads a regular file of at most [`MAX_OPTION_FILE_BYTES`].
    ///
    /// Anything else is refused before it is opened: opening a FIFO waits for a writer,
    /// and a device such as `/dev/zero` never ends. The type is checked again on the open
    /// file, and the read stops one byte past the limit whatever the file claims.
    fn read(&self, path: &Path) -> io::Result<String> {
        use std::io::Read;
        let not_regular = || io::Error::new(io::ErrorKind::InvalidInput, "not a regular file");
        if !std::fs::metadata(path)?.is_file() {
            return Err(not_regular());
        }
        // Non-blocking: a "regular" file that blocks on read (/proc/kmsg)
        // fails at once instead of hanging the start.
        #[cfg(unix)]
        let file = {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(path)?
        };
        #[cfg(not(unix))]
        let file = std::fs::File::open(path)?;
        if !file.metadata()?.is_file() {
            return Err(not_regular());
        }
        let mut bytes = Vec::new();
        file.take(MAX_OPTION_FILE_BYTES + 1)
            .read_to_end(&mut bytes)?;
        if bytes.len() as u64 > MAX_OPTION_FILE_BYTES {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "larger than 1 MiB, the limit for an option file",
            ));
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    fn list_dir(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
        std::fs::read_dir(dir)?
            .map(|entry| entry.map(|e| e.path()))
            .collect()
    }

    fn exists(&self, path: &Path) -> bool {
        path.exists()
    }

    fn canonical(&self, path: &Path) -> PathBuf {
        std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
    }
}

/// Which option-file sections are read; a higher rank overrides a lower one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Section {
    /// `[client]`, and MariaDB's `[client-server]` and `[client-mariadb]`.
    Client,
    /// `[conntop]`.
    Conntop,
    /// Anything else: skipped.
    Other,
}

impl Section {
    /// The section a `[name]` header opens.
    fn from_name(name: &str) -> Section {
        match name.trim().to_ascii_lowercase().as_str() {
            "client" | "client-server" | "client-mariadb" => Section::Client,
            "conntop" => Section::Conntop,
            _ => Section::Other,
        }
    }
}

/// One `key[=value]` line of a read section.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct OptionLine {
    /// The section it is in.
    section: Section,
    /// Lower case, `_` turned into `-`.
    key: String,
    /// `None` for an option without `=`.
    value: Option<String>,
    /// `path:line`.
    origin: String,
}

/// Whether a file must exist.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Need {
    /// `--defaults-file` and `--defaults-extra-file`: any read error is an error.
    Required,
    /// Default files and includes: a missing file is skipped.
    IfPresent,
}

/// Reads the option files the flags ask for and folds them into a layer.
pub(super) fn read_option_files(
    args: &ConnectArgs,
    env: &dyn Fn(&str) -> Option<String>,
    fs: &dyn OptionFs,
) -> Result<Layer, ConfigError> {
    let mut lines = Vec::new();
    let mut stack = Vec::new();
    if args.no_defaults {
        return Ok(Layer::default());
    }
    if let Some(file) = &args.defaults_file {
        load_file(file, Need::Required, fs, &mut stack, &mut lines)?;
    } else {
        let home = env("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| Path::new(&h).join(".my.cnf"));
        let defaults = SYSTEM_OPTION_FILES.iter().map(PathBuf::from).chain(home);
        for file in defaults {
            load_file(&file, Need::IfPresent, fs, &mut stack, &mut lines)?;
        }
        if let Some(file) = &args.defaults_extra_file {
            load_file(file, Need::Required, fs, &mut stack, &mut lines)?;
        }
    }
    fold_options(lines)
}

/// Reads one option file (following its includes) and appends its lines.
fn load_file(
    path: &Path,
    need: Need,
    fs: &dyn OptionFs,
    stack: &mut Vec<PathBuf>,
    out: &mut Vec<OptionLine>,
) -> Result<(), ConfigError> {
    let text = match fs.read(path) {
        Ok(text) => text,
        Err(e) if need == Need::IfPresent && is_missing(&e) => return Ok(()),
        Err(e) => {
            return Err(ConfigError::Read {
                what: "option file",
                path: path.to_path_buf(),
                reason: io_reason(&e),
            });
        }
    };
    let canonical = fs.canonical(path);
    if stack.contains(&canonical) {
        let chain: Vec<String> = stack
            .iter()
            .chain([&canonical])
            .map(|p| p.display().to_string())
            .collect();
        return Err(ConfigError::Syntax {
            origin: path.display().to_string(),
            reason: format!("include cycle: {}", chain.join(" -> ")),
        });
    }
    if stack.len() >= MAX_INCLUDE_DEPTH {
        return Err(ConfigError::Syntax {
            origin: path.display().to_string(),
            reason: format!("includes nested deeper than {MAX_INCLUDE_DEPTH}"),
        });
    }
    stack.push(canonical);
    let result = parse_options(&text, path, fs, stack, out);
    stack.pop();
    result
}

/// Whether a read error means "there is no such file".
fn is_missing(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

/// Parses the text of an option file at `path`, appending the lines of the sections conntop
/// reads; `!include` and `!includedir` are followed through `fs`.
pub(super) fn parse_options(
    text: &str,
    path: &Path,
    fs: &dyn OptionFs,
    stack: &mut Vec<PathBuf>,
    out: &mut Vec<OptionLine>,
) -> Result<(), ConfigError> {
    let mut section = None;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (index, raw) in text.lines().enumerate() {
        let origin = format!("{}:{}", path.display(), index + 1);
        let syntax = |reason: &str| ConfigError::Syntax {
            origin: origin.clone(),
            reason: reason.to_string(),
        };
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(directive) = line.strip_prefix('!') {
            let (name, arg) = directive
                .split_once(char::is_whitespace)
                .unwrap_or((directive, ""));
            let arg = arg.trim();
            if arg.is_empty() {
                return Err(syntax(&format!("!{name} needs a path")));
            }
            let target = path.parent().unwrap_or(Path::new("")).join(arg);
            match name {
                "include" => load_file(&target, Need::IfPresent, fs, stack, out)?,
                "includedir" => include_dir(&target, fs, stack, out)?,
                _ => {
                    let name = one_line(name, MAX_SHOWN);
                    return Err(syntax(&format!("unknown directive !{name}")));
                }
            }
            continue;
        }
        let line = strip_end_comment(line).trim_end();
        if let Some(header) = line.strip_prefix('[') {
            let (name, _rest) = header
                .split_once(']')
                .ok_or_else(|| syntax("section header without ]"))?;
            section = Some(Section::from_name(name));
            continue;
        }
        let section = match section {
            None => return Err(syntax("option outside any [section]")),
            Some(Section::Other) => continue,
            Some(section) => section,
        };
        let (key, value) = match line.split_once('=') {
            Some((key, value)) => (key.trim(), Some(unquote(value.trim()))),
            None => (line, None),
        };
        if key.is_empty() {
            return Err(syntax("option without a name"));
        }
        out.push(OptionLine {
            section,
            key: key.to_ascii_lowercase().replace('_', "-"),
            value,
            origin,
        });
    }
    Ok(())
}

/// Reads the `*.cnf` files of a directory, sorted by name.
fn include_dir(
    dir: &Path,
    fs: &dyn OptionFs,
    stack: &mut Vec<PathBuf>,
    out: &mut Vec<OptionLine>,
) -> Result<(), ConfigError> {
    let mut files = fs.list_dir(dir).map_err(|e| ConfigError::Read {
        what: "option directory",
        path: dir.to_path_buf(),
        reason: io_reason(&e),
    })?;
    files.retain(|f| f.extension().is_some_and(|ext| ext == "cnf"));
    files.sort();
    for file in files {
        load_file(&file, Need::IfPresent, fs, stack, out)?;
    }
    Ok(())
}

/// Cuts a `#` comment that is outside quotes, as mysql does.
fn strip_end_comment(line: &str) -> &str {
    let mut quote = None;
    let mut escaped = false;
    for (at, c) in line.char_indices() {
        if (c == '\'' || c == '"') && !escaped {
            match quote {
                None => quote = Some(c),
                Some(q) if q == c => quote = None,
                Some(_) => {}
            }
        }
        if quote.is_none() && c == '#' {
            return &line[..at];
        }
        escaped = quote.is_some() && c == '\\' && !escaped;
    }
    line
}

/// Removes matching outer quotes, then turns `\n \t \r \b \s \\ \" \'` into their characters;
/// any other backslash is kept, as mysql does.
fn unquote(value: &str) -> String {
    let inner = match value.chars().next() {
        Some(q @ ('"' | '\'')) if value.len() >= 2 && value.ends_with(q) => {
            &value[1..value.len() - 1]
        }
        _ => value,
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('b') => out.push('\u{8}'),
            Some('s') => out.push(' '),
            Some(e @ ('\\' | '"' | '\'')) => out.push(e),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Applies option lines, `[client]` ones first, then `[conntop]`, each in file order; later wins.
pub(super) fn fold_options(mut lines: Vec<OptionLine>) -> Result<Layer, ConfigError> {
    lines.sort_by_key(|l| l.section);
    let mut layer = Layer::default();
    for line in &lines {
        apply_option(&mut layer, line)?;
    }
    Ok(layer)
}

/// Applies one option-file line; options conntop does not use are ignored.
fn apply_option(layer: &mut Layer, line: &OptionLine) -> Result<(), ConfigError> {
    let key = line.key.strip_prefix("loose-").unwrap_or(&line.key);
    // `skip-x` and `disable-x` turn `x` off, `enable-x` turns it on, as in mysql.
    let (key, switched_off) = match key
        .strip_prefix("skip-")
        .or_else(|| key.strip_prefix("disable-"))
    {
        Some(k) => (k, true),
        None => (key.strip_prefix("enable-").unwrap_or(key), false),
    };
    let bad = |what: &str| ConfigError::BadValue {
        key: what.to_string(),
        value: line.value.clone().unwrap_or_default(),
        origin: line.origin.clone(),
    };
    let needs_value = || {
        line.value.clone().ok_or_else(|| ConfigError::Syntax {
            origin: line.origin.clone(),
            reason: format!("option {key:?} needs a value"),
        })
    };
    if switched_off && key != "ssl" && key != "password" {
        return Ok(());
    }
    match key {
        "host" => layer.host = Some(needs_value()?).filter(|v| !v.is_empty()),
        "user" => layer.user = Some(needs_value()?).filter(|v| !v.is_empty()),
        "socket" => {
            layer.socket = Some(needs_value()?)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from);
        }
        "ssl-ca" => {
            layer.ssl_ca = Some(needs_value()?)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from);
        }
        "port" => layer.port = parse_port(&needs_value()?, &line.origin)?,
        "password" => {
            layer.password = Some(match (&line.value, switched_off) {
                (_, true) => PasswordSource::Given(Password::default()),
                (None, false) => PasswordSource::Prompt,
                (Some(v), false) => PasswordSource::Given(Password(v.clone())),
            });
        }
        "ssl-mode" => {
            let mode = SslMode::parse(&needs_value()?).ok_or_else(|| bad("ssl-mode"))?;
            layer.ssl_mode = Some(mode);
        }
        "ssl" => {
            let on =
                !switched_off && parse_switch(line.value.as_deref()).ok_or_else(|| bad("ssl"))?;
            // MariaDB's `ssl` requires TLS; `skip-ssl` and `ssl=0` disable it.
            layer.ssl_mode = Some(if on {
                SslMode::Required
            } else {
                SslMode::Disabled
            });
        }
        "ssl-verify-server-cert" => {
            // Turning it off leaves the mode alone: conntop does not verify by default.
            let verify = parse_switch(line.value.as_deref()).ok_or_else(|| bad(key))?;
            if verify {
                layer.ssl_mode = Some(SslMode::VerifyIdentity);
            }
        }
        "protocol" => {
            let protocol = Protocol::parse(&needs_value()?).ok_or_else(|| bad("protocol"))?;
            layer.protocol = Some(protocol);
        }
        "connect-timeout" => {
            let text = needs_value()?;
            let timeout = match text.trim().parse::<u64>() {
                Ok(secs) => Some(Duration::from_secs(secs)),
                Err(_) => {
                    Some(humantime::parse_duration(&text).map_err(|_| bad("connect-timeout"))?)
                }
            };
            if timeout.is_some_and(|t| t > MAX_CONNECT_TIMEOUT) {
                return Err(ConfigError::Syntax {
                    origin: line.origin.clone(),
                    reason: format!(
                        "connect-timeout {:?} is over the limit of {}",
                        one_line(&text, MAX_SHOWN),
                        humantime::format_duration(MAX_CONNECT_TIMEOUT)
                    ),
                });
            }
            // 0 means "no limit" to mysql; conntop keeps its default instead.
            layer.connect_timeout = timeout.filter(|t| !t.is_zero());
        }
        _ => {}
    }
    Ok(())
}

/// Parses a boolean option value; no value means on.
fn parse_switch(value: Option<&str>) -> Option<bool> {
    match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("1" | "on" | "true" | "yes") => Some(true),
        Some("0" | "off" | "false" | "no") => Some(false),
        Some(_) => None,
    }
}
