//! Why talking to the server failed, classified for the user, and the help
//! for a full server.

use std::fmt;

use crate::snapshot::Variables;

/// Why talking to the server failed, classified for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceError {
    /// ERROR 1040: every slot is taken.
    TooManyConnections(String),
    /// Wrong user or password, or no access (1045, 1044, 1698).
    AccessDenied(String),
    /// Could not reach the server (refused, timeout, unknown host, socket missing).
    Unreachable(String),
    /// TLS could not be set up as asked.
    Tls(String),
    /// The connection dropped (server restart, our session killed).
    Lost(String),
    /// Any other error the server returned.
    Server { code: u16, message: String },
}

impl SourceError {
    /// Errors that mean "our connection is gone; reconnect".
    pub fn is_connection_lost(&self) -> bool {
        matches!(
            self,
            SourceError::Lost(_) | SourceError::Unreachable(_) | SourceError::TooManyConnections(_)
        )
    }

    /// The server error code, if the server sent one.
    pub fn code(&self) -> Option<u16> {
        match self {
            SourceError::Server { code, .. } => Some(*code),
            SourceError::TooManyConnections(_) => Some(1040),
            _ => None,
        }
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceError::TooManyConnections(m) => write!(f, "{m}"),
            SourceError::AccessDenied(m) => write!(f, "access denied: {m}"),
            SourceError::Unreachable(m) => write!(f, "cannot connect: {m}"),
            SourceError::Tls(m) => write!(f, "TLS: {m}"),
            SourceError::Lost(m) => write!(f, "connection lost: {m}"),
            SourceError::Server { code, message } => write!(f, "ERROR {code}: {message}"),
        }
    }
}

impl std::error::Error for SourceError {}

/// Text for a 1040 at connect: what it means and how an admin still gets in.
pub fn too_many_connections_help(endpoint: &str, vars: Option<&Variables>) -> String {
    let mut s = format!(
        "{endpoint} is full (ERROR 1040 Too many connections): every slot is taken. \
         One extra slot is kept for an account with SUPER or CONNECTION_ADMIN \
         (MariaDB: CONNECTION ADMIN), but only one: if this account has it, another such \
         session (an admin's client, a monitoring agent) may already hold that slot. \
         Connect as such an account while the slot is free"
    );
    match vars {
        Some(v) if v.extra_port.unwrap_or(0) > 0 => {
            s.push_str(&format!(
                ", or use MariaDB's extra_port: -P {}",
                v.extra_port.unwrap_or(0)
            ));
        }
        Some(v) if v.admin_port.is_some() && v.admin_address.is_some() => {
            s.push_str(&format!(
                ", or use MySQL's admin interface: -h {} -P {}",
                v.admin_address.as_deref().unwrap_or(""),
                v.admin_port.unwrap_or(0)
            ));
        }
        _ => s.push_str(
            ", or use MariaDB extra_port / MySQL 8.0.14+ admin_port if the server has one",
        ),
    }
    s.push('.');
    s
}

/// Maps a driver error to a [`SourceError`]; `connected` tells whether the
/// connection had been up (then an I/O error means it was lost).
pub fn classify(err: &mysql::Error, connected: bool) -> SourceError {
    use mysql::DriverError as D;
    match err {
        mysql::Error::MySqlError(e) => match e.code {
            1040 => SourceError::TooManyConnections(e.message.clone()),
            1044 | 1045 | 1698 => SourceError::AccessDenied(e.message.clone()),
            // Server shutting down, our thread killed (MySQL 1317/MariaDB 1927),
            // gone away / lost during query.
            1053 | 1927 | 2006 | 2013 => SourceError::Lost(e.message.clone()),
            code => SourceError::Server {
                code,
                message: e.message.clone(),
            },
        },
        mysql::Error::IoError(e) if is_timeout(e) && connected => {
            SourceError::Lost("the server stopped answering (read timed out)".to_string())
        }
        mysql::Error::IoError(e) if is_timeout(e) => SourceError::Unreachable(
            "the server accepted the connection but did not answer".to_string(),
        ),
        mysql::Error::IoError(e) if connected => SourceError::Lost(e.to_string()),
        mysql::Error::IoError(e) => SourceError::Unreachable(e.to_string()),
        mysql::Error::CodecError(e) => SourceError::Lost(e.to_string()),
        mysql::Error::DriverError(D::ConnectTimeout) => {
            SourceError::Unreachable("timed out".to_string())
        }
        mysql::Error::DriverError(D::CouldNotConnect(Some((_, desc, _)))) => {
            SourceError::Unreachable(desc.clone())
        }
        mysql::Error::DriverError(D::CouldNotConnect(None)) => {
            SourceError::Unreachable("could not connect".to_string())
        }
        mysql::Error::DriverError(D::TlsNotSupported) => {
            SourceError::Tls("the server does not support TLS".to_string())
        }
        mysql::Error::DriverError(e) if connected => SourceError::Lost(e.to_string()),
        mysql::Error::DriverError(e) => SourceError::Unreachable(e.to_string()),
        mysql::Error::TlsError(e) => SourceError::Tls(e.to_string()),
        mysql::Error::UrlError(e) => SourceError::Unreachable(e.to_string()),
        other => SourceError::Server {
            code: 0,
            message: other.to_string(),
        },
    }
}

/// A socket read or write that ran out of time (EAGAIN on Linux, where a
/// socket timeout reports "Resource temporarily unavailable").
pub(crate) fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}
