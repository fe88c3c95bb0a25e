//! Why the connection options could not be worked out, in one short line.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use super::{MAX_SHOWN, MAX_SHOWN_PATH};
use crate::text::one_line;

/// Why the connection options could not be worked out; `Display` is one line, never a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// A file or directory that had to be read could not be.
    Read {
        /// "option file" or "option directory".
        what: &'static str,
        /// The path.
        path: PathBuf,
        /// The system's reason.
        reason: String,
    },
    /// A malformed option-file line.
    Syntax {
        /// `path:line`.
        origin: String,
        /// What is wrong.
        reason: String,
    },
    /// A value that cannot be used.
    BadValue {
        /// The option, e.g. `port`.
        key: String,
        /// The value as written.
        value: String,
        /// `path:line` or the environment variable.
        origin: String,
    },
    /// A `--url` that cannot be used.
    BadUrl {
        /// The URL with its password replaced by `***`.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// A host name or socket path longer than a connection can use.
    TooLong {
        /// "host name" or "socket path".
        what: &'static str,
        /// The value as given (shown cut).
        value: String,
        /// Its length in bytes.
        len: usize,
        /// The most allowed.
        max: usize,
    },
    /// Bare `-p` without a terminal to prompt on.
    NoTerminal,
    /// Ctrl-C or Ctrl-D at the password prompt.
    PromptCancelled,
    /// The terminal failed during the password prompt.
    Prompt(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Read { what, path, reason } => write!(
                f,
                "cannot read {what} {}: {}",
                shown_path(path),
                one_line(reason, MAX_SHOWN_PATH)
            ),
            ConfigError::Syntax { origin, reason } => write!(
                f,
                "{}: {}",
                one_line(origin, MAX_SHOWN_PATH),
                one_line(reason, MAX_SHOWN_PATH)
            ),
            ConfigError::BadValue { key, value, origin } => write!(
                f,
                "bad {} {:?} in {}",
                one_line(key, MAX_SHOWN),
                one_line(value, MAX_SHOWN),
                one_line(origin, MAX_SHOWN_PATH)
            ),
            ConfigError::BadUrl { url, reason } => {
                write!(f, "bad URL {:?}: {reason}", one_line(url, MAX_SHOWN_PATH))
            }
            ConfigError::TooLong {
                what,
                value,
                len,
                max,
            } => write!(
                f,
                "{what} {:?} is {len} bytes long (at most {max})",
                one_line(value, MAX_SHOWN)
            ),
            ConfigError::NoTerminal => f.write_str(
                "-p needs a terminal to prompt for the password; \
                 use -pSECRET, --password=SECRET or MYSQL_PWD",
            ),
            ConfigError::PromptCancelled => f.write_str("password prompt cancelled"),
            ConfigError::Prompt(reason) => write!(f, "cannot prompt for the password: {reason}"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// A path as messages show it: one line, cut at [`MAX_SHOWN_PATH`] characters.
fn shown_path(path: &Path) -> String {
    one_line(&path.display().to_string(), MAX_SHOWN_PATH).into_owned()
}

/// An I/O error's message without the `(os error N)` suffix.
pub(super) fn io_reason(err: &io::Error) -> String {
    let text = err.to_string();
    match text.find(" (os error ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}
