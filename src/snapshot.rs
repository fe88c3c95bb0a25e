//! Plain data that flows from the poller to the UI: one [`Snapshot`] per poll.
//!
//! Nothing here talks to a server or a terminal. The serde derives back the
//! `--once --format json` output (see `report.rs` for the stable JSON shape).

use std::time::{Duration, SystemTime};

use serde::Serialize;

/// Which server family we are talking to; decides the SQL in `source.rs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavor {
    MariaDb,
    MySql,
}

impl Flavor {
    /// Guesses the flavor from `SELECT VERSION()` (MariaDB always says so).
    pub fn from_version(version: &str) -> Flavor {
        if version.to_ascii_lowercase().contains("mariadb") {
            Flavor::MariaDb
        } else {
            Flavor::MySql
        }
    }
}

/// Identity of the server, read once per connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerInfo {
    /// `SELECT VERSION()`, e.g. `10.11.6-MariaDB-0+deb12u1`.
    pub version: String,
    pub flavor: Flavor,
    /// Numeric (major, minor, patch) parsed from `version`.
    #[serde(skip)]
    pub version_num: (u32, u32, u32),
}

impl ServerInfo {
    /// Builds the info from a `VERSION()` string.
    pub fn from_version(version: &str) -> ServerInfo {
        ServerInfo {
            version: version.to_string(),
            flavor: Flavor::from_version(version),
            version_num: parse_version(version),
        }
    }

    /// True when the version is at least `(major, minor, patch)`.
    pub fn at_least(&self, major: u32, minor: u32, patch: u32) -> bool {
        self.version_num >= (major, minor, patch)
    }
}

/// Parses the leading `X.Y.Z` of a version string; missing parts are 0.
pub fn parse_version(version: &str) -> (u32, u32, u32) {
    let mut parts = version
        .split(|c: char| !c.is_ascii_digit())
        .take(3)
        .map(|p| p.parse::<u32>().unwrap_or(0));
    (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}

/// Server variables that matter for connection slots. Read at connect and
/// refreshed every few seconds, not on every tick.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Variables {
    pub max_connections: u64,
    pub wait_timeout: u64,
    pub interactive_timeout: u64,
    /// MySQL `max_execution_time` (ms, SELECT only) or MariaDB
    /// `max_statement_time` (s, converted to ms); 0 means no limit; `None` when the
    /// server has no such variable.
    pub statement_timeout_ms: Option<u64>,
    /// MariaDB `extra_port` (0 = off).
    pub extra_port: Option<u16>,
    /// MySQL 8.0.14+ `admin_port` when `admin_address` is set.
    pub admin_port: Option<u16>,
    pub admin_address: Option<String>,
    pub slow_query_log: Option<bool>,
    pub long_query_time_s: Option<f64>,
    /// Per-connection buffers, in bytes, for the memory estimate of more slots.
    pub sort_buffer_size: u64,
    pub join_buffer_size: u64,
    pub read_buffer_size: u64,
    pub read_rnd_buffer_size: u64,
    pub thread_stack: u64,
    pub net_buffer_length: u64,
    pub binlog_cache_size: u64,
    pub max_allowed_packet: u64,
}

/// Global status counters read on every tick.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Status {
    pub threads_connected: u64,
    pub threads_running: u64,
    pub max_used_connections: u64,
    /// `Connections`: connection attempts since start (a counter).
    pub connections: u64,
    pub aborted_connects: u64,
    pub aborted_clients: u64,
    /// `Connection_errors_max_connections`: clients refused with 1040.
    pub connection_errors_max_connections: u64,
    pub uptime_s: u64,
}

/// One server thread as the processlist shows it. Text fields are raw (lossy
/// UTF-8 of what the server sent); sanitise before drawing (`text.rs`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Session {
    pub id: u64,
    pub user: String,
    /// `host:port` for TCP clients, `localhost` for socket clients, may be empty.
    pub host: String,
    pub db: Option<String>,
    pub command: String,
    /// Seconds in the current command (idle time for `Sleep`), in ms.
    pub time_ms: u64,
    pub state: String,
    /// The statement text (`Info`) as the processlist lists it: the first
    /// [`LISTED_INFO_CHARS`] characters.
    pub info: Option<String>,
    /// Age of the open InnoDB transaction, when there is one.
    pub trx_age_ms: Option<u64>,
}

/// Query text longer than this is cut when read from the server, so one huge
/// statement cannot blow up memory; the cut is marked with `…`.
pub const MAX_INFO_BYTES: usize = 16 * 1024;

/// How much of each statement the processlist carries every tick (what
/// MariaDB's and MySQL's `SHOW PROCESSLIST` keep without `FULL`).
pub const LISTED_INFO_CHARS: usize = 100;

impl Session {
    /// The client host without the port (`10.0.0.7:51234` -> `10.0.0.7`); a
    /// socket connection is `localhost`.
    pub fn client_host(&self) -> &str {
        client_host(&self.host)
    }

    /// `Sleep` sessions are idle: they hold a slot and do nothing.
    pub fn is_sleeping(&self) -> bool {
        self.command.eq_ignore_ascii_case("Sleep")
    }

    /// Server-internal threads, known by what only they have, never by the
    /// user name (an account called `system user` or `event_scheduler` is a
    /// client like any other): no client host (InnoDB and MariaDB background
    /// threads, MySQL replica threads in `Connect`), or a command no client
    /// session shows: `Daemon` (the event scheduler), `Binlog Dump*` (a
    /// replica's feed on the primary), `Register Slave`, `Slave_*` (MariaDB
    /// replica I/O, SQL and worker threads).
    pub fn is_system(&self) -> bool {
        let cmd = self.command.as_str();
        self.host.is_empty()
            || cmd == "Daemon"
            || cmd.starts_with("Binlog Dump")
            || cmd == "Register Slave"
            || cmd.starts_with("Slave_")
    }
}

/// A duration in whole milliseconds, the unit of every `*_ms` field
/// (saturating; a `u64` of ms is over 500 million years).
pub fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Strips the `:port` from a processlist host (IPv6 `[::1]:3306` too).
pub fn client_host(host: &str) -> &str {
    if host.is_empty() {
        return "localhost";
    }
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        // A bare IPv6 address has more than one colon: keep it whole.
        Some((h, port)) if !h.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

/// What the account we connect as may do, read at connect.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Privileges {
    /// Can see other users' sessions (PROCESS).
    pub process: bool,
    /// Can kill other users' sessions (SUPER or CONNECTION_ADMIN).
    pub kill_any: bool,
    /// Our user name, set when the account can kill only the sessions of
    /// that user (no SUPER or CONNECTION_ADMIN, none through a role
    /// either); `None` when it may kill any, or when that is not known.
    pub kill_only_user: Option<String>,
}

/// One poll of the server: everything the UI draws comes from here.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// Increases by one per snapshot from one poller.
    pub seq: u64,
    pub taken_at: SystemTime,
    pub server: ServerInfo,
    pub variables: Variables,
    pub status: Status,
    /// Every session but our own, idle ones included.
    pub sessions: Vec<Session>,
    /// Our own connection id (left out of `sessions`).
    pub own_id: u64,
    pub privileges: Privileges,
    /// Wall time the tick's statements took, round trips included.
    pub poll_latency: Duration,
    /// Statements the tick sent (at most 2).
    pub statements: u32,
    /// Human name of the endpoint (`127.0.0.1:3306`, `/run/mysqld/mysqld.sock`).
    pub endpoint: String,
}

impl Snapshot {
    /// Threads_connected as a share of max_connections, 0.0..=1.0+ (0 when unknown).
    pub fn usage(&self) -> f64 {
        if self.variables.max_connections == 0 {
            0.0
        } else {
            self.status.threads_connected as f64 / self.variables.max_connections as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_parsing() {
        assert_eq!(parse_version("10.11.6-MariaDB-0+deb12u1"), (10, 11, 6));
        assert_eq!(parse_version("8.0.36"), (8, 0, 36));
        assert_eq!(parse_version("8.4"), (8, 4, 0));
        assert_eq!(parse_version(""), (0, 0, 0));
        let info = ServerInfo::from_version("8.0.22-log");
        assert_eq!(info.flavor, Flavor::MySql);
        assert!(info.at_least(8, 0, 22));
        assert!(!info.at_least(8, 0, 23));
        assert_eq!(
            ServerInfo::from_version("11.4.2-MariaDB").flavor,
            Flavor::MariaDb
        );
    }

    #[test]
    fn host_without_port() {
        assert_eq!(client_host("10.0.0.7:51234"), "10.0.0.7");
        assert_eq!(client_host("localhost"), "localhost");
        assert_eq!(client_host(""), "localhost");
        assert_eq!(client_host("[::1]:3306"), "::1");
        assert_eq!(client_host("::1"), "::1");
        assert_eq!(client_host("app-1.example:40000"), "app-1.example");
    }

    #[test]
    fn system_threads_by_what_only_they_have() {
        // (user, host, command) as the processlist shows them.
        let s = |user: &str, host: &str, command: &str| Session {
            user: user.into(),
            host: host.into(),
            command: command.into(),
            ..Session::default()
        };
        // MariaDB: InnoDB purge and other background threads, the event
        // scheduler, replica threads.
        assert!(s("system user", "", "Daemon").is_system());
        assert!(s("system user", "", "").is_system());
        assert!(s("event_scheduler", "localhost", "Daemon").is_system());
        assert!(s("system user", "", "Slave_IO").is_system());
        assert!(s("system user", "", "Slave_SQL").is_system());
        assert!(s("system user", "", "Slave_worker").is_system());
        // MySQL 8 replica threads: `Connect` or `Query` with no host.
        assert!(s("system user", "", "Connect").is_system());
        assert!(s("system user", "", "Query").is_system());
        // A replica's feed on the primary, over TCP.
        assert!(s("repl", "10.0.0.2:51000", "Binlog Dump GTID").is_system());
        assert!(s("repl", "10.0.0.2:51000", "Binlog Dump").is_system());
        // Clients, whatever their account is called.
        assert!(!s("app", "10.0.0.1:4000", "Sleep").is_system());
        assert!(!s("app", "localhost", "Query").is_system());
        assert!(!s("system user", "10.0.0.5:40001", "Sleep").is_system());
        assert!(!s("event_scheduler", "10.0.0.6:40002", "Query").is_system());
        assert!(!s("event_scheduler", "localhost", "Sleep").is_system());
        // A client in its handshake has a host already.
        assert!(!s("unauthenticated user", "10.0.0.9:5000", "Connect").is_system());
    }
}
