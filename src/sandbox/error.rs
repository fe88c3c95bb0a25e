//! Why a sandbox failed, and the helpers that build its errors.

use std::fmt;
use std::fs;
use std::io;
use std::path::PathBuf;

use super::binaries::{is_executable, search_dirs};

/// Why a sandbox could not be started, served or stopped.
#[derive(Debug)]
pub enum SandboxError {
    /// Neither `mariadbd` nor `mysqld` was found.
    NotFound,
    /// A MariaDB server was found but no `mariadb-install-db` next to it.
    InstallerNotFound {
        /// The server binary that was found.
        server: PathBuf,
    },
    /// Initialising the data directory failed.
    Install {
        /// The data directory being initialised.
        datadir: PathBuf,
        /// The installer's status and last lines of output.
        detail: String,
    },
    /// A file or process operation failed.
    Io {
        /// What was being done.
        action: String,
        /// The underlying error.
        source: io::Error,
    },
    /// The server did not come up.
    Start {
        /// What happened, with the last lines of the error log.
        detail: String,
    },
    /// A statement creating the accounts or the app database failed.
    Setup {
        /// What was being done.
        action: String,
        /// The server's or the driver's error.
        source: mysql::Error,
    },
    /// The server exited on its own while it was being served.
    Exited {
        /// Exit status and the last lines of the error log.
        detail: String,
    },
}

impl fmt::Display for SandboxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SandboxError::NotFound => write!(
                f,
                "no mariadbd or mysqld found: install MariaDB with {}",
                install_hint()
            ),
            SandboxError::InstallerNotFound { server } => write!(
                f,
                "found {} but no mariadb-install-db or mysql_install_db next to it or on PATH",
                server.display()
            ),
            SandboxError::Install { datadir, detail } => write!(
                f,
                "could not initialise the sandbox data directory {}: {detail}",
                datadir.display()
            ),
            SandboxError::Io { action, source } => write!(f, "could not {action}: {source}"),
            SandboxError::Start { detail } => write!(f, "sandbox server did not start: {detail}"),
            SandboxError::Setup { action, source } => {
                write!(
                    f,
                    "sandbox setup failed: {action}: {}",
                    error_on_one_line(&source.to_string())
                )
            }
            SandboxError::Exited { detail } => write!(f, "sandbox server exited: {detail}"),
        }
    }
}

/// The command that installs MariaDB on this machine: `brew` on macOS, else `apt-get`
/// (after `apt-get update`, which a fresh machine needs) as root, through `sudo`, or
/// "as root" when this user has no `sudo`.
fn install_hint() -> String {
    const APT: &str = "apt-get update && apt-get install -y mariadb-server";
    const MACOS: &str = "brew install mariadb";
    if cfg!(target_os = "macos") {
        return MACOS.to_string();
    }
    // The effective uid is the second number of the `Uid:` line.
    let root = fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            == Some("0")
    });
    let sudo = search_dirs().iter().any(|d| is_executable(&d.join("sudo")));
    let linux = match (root, sudo) {
        (true, _) => APT.to_string(),
        (false, true) => {
            "sudo apt-get update && sudo apt-get install -y mariadb-server".to_string()
        }
        (false, false) => format!("(as root) {APT}"),
    };
    format!("{linux} (Debian/Ubuntu; macOS: {MACOS})")
}

impl std::error::Error for SandboxError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SandboxError::Io { source, .. } => Some(source),
            SandboxError::Setup { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Wraps an `io::Error` with what was being done.
pub(super) fn io_err(action: impl Into<String>) -> impl FnOnce(io::Error) -> SandboxError {
    let action = action.into();
    move |source| SandboxError::Io { action, source }
}

/// Wraps a `mysql::Error` with what was being done.
pub(super) fn setup_err(action: impl Into<String>) -> impl FnOnce(mysql::Error) -> SandboxError {
    let action = action.into();
    move |source| SandboxError::Setup { action, source }
}

/// Joins the non-empty lines of `text` with " | " so an error stays on one
/// line, keeping the end (where the cause is) when it is long.
pub(super) fn error_on_one_line(text: &str) -> String {
    let joined = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" | ");
    const MAX: usize = 900;
    if joined.len() <= MAX {
        return joined;
    }
    let mut cut = joined.len() - MAX;
    while !joined.is_char_boundary(cut) {
        cut += 1;
    }
    format!("...{}", &joined[cut..])
}

/// The last `n` non-empty lines of `text`, on one line.
pub(super) fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    error_on_one_line(&lines[lines.len().saturating_sub(n)..].join("\n"))
}
