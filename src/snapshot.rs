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
    /// Sessions this one waits for directly (empty when it waits for none
    /// that can be named); see `locks`.
    pub blocked_by: Vec<u64>,
    /// The lock it waits for, when it waits for one.
    pub wait: Option<crate::locks::Wait>,
}

/// Query text longer than this is cut when read from the server, so one huge
/// statement cannot blow up memory; the cut is marked with `…`.
pub const MAX_INFO_BYTES: usize = 16 * 1024;

/// How much of each statement the processlist carries every tick (what
/// `SHOW PROCESSLIST` keeps without `FULL`): 100 characters on MySQL,
/// 100 bytes on MariaDB (fewer characters of multibyte text).
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
    /// replica I/O, SQL and worker threads). A replica's feed is a client
    /// connection holding a slot ([`Session::holds_slot`]), protected from
    /// kills like the server's own threads.
    pub fn is_system(&self) -> bool {
        let cmd = self.command.as_str();
        self.is_server_thread() || cmd.starts_with("Binlog Dump") || cmd == "Register Slave"
    }

    /// A thread the server runs for itself: it is listed by the processlist
    /// but is no client connection, so it holds no slot of max_connections
    /// and `Threads_connected` does not count it.
    fn is_server_thread(&self) -> bool {
        let cmd = self.command.as_str();
        self.host.is_empty()
            || cmd == "Daemon"
            || cmd.starts_with("Slave_")
            || cmd == "Delayed insert"
    }

    /// What this thread is doing, as every count classifies it ([`Counts`]).
    pub fn activity(&self) -> Activity {
        let cmd = self.command.as_str();
        if self.is_server_thread() {
            Activity::System
        } else if self.is_sleeping() {
            Activity::Sleeping
        } else if cmd == "Query" {
            // Most of the rest: the common case first.
            Activity::Running
        } else if cmd.eq_ignore_ascii_case("Connect")
            || cmd.eq_ignore_ascii_case("Killed")
            || cmd.starts_with("Binlog Dump")
            || cmd == "Register Slave"
        {
            Activity::Other
        } else {
            Activity::Running
        }
    }

    /// True for a client connection: it holds one slot of max_connections.
    pub fn holds_slot(&self) -> bool {
        // The same as `activity() != System`, without the other tests: it
        // runs for every session in several places per snapshot.
        !self.is_server_thread()
    }
}

/// What a listed thread is doing. Every count conntop shows (header,
/// `--once`, group views, findings) classifies threads with this, once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Activity {
    /// A client session in `Sleep`: it holds a slot and does nothing.
    Sleeping,
    /// A client session executing a statement (any command but the others).
    Running,
    /// A client session neither sleeping nor running a statement: logging in
    /// (`Connect`), being killed (`Killed`), or streaming the binlog to a
    /// replica (`Binlog Dump`, `Register Slave`).
    Other,
    /// A server thread, no client connection: the event scheduler, replica
    /// I/O and SQL threads, daemons. It holds no slot.
    System,
}

/// The counts of one snapshot, each defined here once and shown the same
/// way everywhere (README, "What each number counts").
///
/// `connected` is what the server counts (`Threads_connected`, read by the
/// tick's first statement); the rest is what the processlist shows (the
/// second statement), conntop's own connection left out. With the PROCESS
/// privilege and nothing connecting or leaving between the two statements,
/// `clients + own == connected`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Slots in use as the server counts them: `Threads_connected`, with
    /// conntop's own connection and sessions the account cannot see.
    pub connected: u64,
    /// The server's `max_connections` (0 when unknown).
    pub max_connections: u64,
    /// Threads the processlist lists, conntop's own left out:
    /// `clients + system`.
    pub listed: u64,
    /// Client sessions listed, each holding a slot:
    /// `running + sleeping + other`.
    pub clients: u64,
    /// Client sessions executing a statement ([`Activity::Running`]).
    pub running: u64,
    /// Client sessions in `Sleep` ([`Activity::Sleeping`]).
    pub sleeping: u64,
    /// Client sessions logging in, being killed or serving a replica
    /// ([`Activity::Other`]).
    pub other: u64,
    /// Server threads listed; they hold no slot ([`Activity::System`]).
    pub system: u64,
    /// conntop's own connection: it holds a slot and is never listed (1).
    pub own: u64,
    /// Slots held by sessions the processlist did not list:
    /// `connected - own - clients`, at least 0. Other accounts' sessions
    /// without PROCESS, or sessions that connected between the statements.
    pub unlisted: u64,
}

impl Counts {
    /// Counts `sessions` (conntop's own left out) against the server's
    /// `connected` and `max_connections`.
    pub fn of<'a>(
        sessions: impl IntoIterator<Item = &'a Session>,
        connected: u64,
        max_connections: u64,
    ) -> Counts {
        let mut c = Counts {
            connected,
            max_connections,
            own: 1,
            ..Counts::default()
        };
        for s in sessions {
            match s.activity() {
                Activity::Sleeping => c.sleeping += 1,
                Activity::Running => c.running += 1,
                Activity::Other => c.other += 1,
                Activity::System => c.system += 1,
            }
        }
        c.clients = c.running + c.sleeping + c.other;
        c.listed = c.clients + c.system;
        c.unlisted = connected.saturating_sub(c.clients + c.own);
        c
    }

    /// `connected` as a share of max_connections, 0.0..=1.0+ (0 when unknown).
    pub fn usage(&self) -> f64 {
        share_of_max(self.connected, self.max_connections)
    }
}

/// `n` slots as a share of `max_connections` (0 when it is unknown).
pub fn share_of_max(n: u64, max_connections: u64) -> f64 {
    if max_connections == 0 {
        0.0
    } else {
        n as f64 / max_connections as f64
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
    /// Statements the tick sent (2; 3 while sessions wait for a lock).
    pub statements: u32,
    /// Human name of the endpoint (`127.0.0.1:3306`, `/run/mysqld/mysqld.sock`).
    pub endpoint: String,
    /// Who waits for whom: the root blockers and their waiters, read from
    /// the sessions' `blocked_by` ([`crate::locks::Graph::build`]).
    pub locks: crate::locks::Graph,
}

impl Snapshot {
    /// Threads_connected as a share of max_connections, 0.0..=1.0+ (0 when unknown).
    pub fn usage(&self) -> f64 {
        share_of_max(
            self.status.threads_connected,
            self.variables.max_connections,
        )
    }

    /// Every count of this snapshot ([`Counts`]), one pass over the sessions.
    pub fn counts(&self) -> Counts {
        Counts::of(
            &self.sessions,
            self.status.threads_connected,
            self.variables.max_connections,
        )
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
        // A replica's feed is protected, but it is a client holding a slot.
        assert!(s("repl", "10.0.0.2:51000", "Binlog Dump").holds_slot());
        assert!(!s("event_scheduler", "localhost", "Daemon").holds_slot());
        assert!(!s("system user", "", "Connect").holds_slot());
        assert!(s("event_scheduler", "10.0.0.6:40002", "Query").holds_slot());
    }

    #[test]
    fn activities() {
        let a = |user: &str, host: &str, command: &str| {
            Session {
                user: user.into(),
                host: host.into(),
                command: command.into(),
                ..Session::default()
            }
            .activity()
        };
        assert_eq!(a("app", "localhost", "Sleep"), Activity::Sleeping);
        assert_eq!(a("app", "10.0.0.1:4000", "Query"), Activity::Running);
        assert_eq!(a("app", "10.0.0.1:4000", "Execute"), Activity::Running);
        let login = a("unauthenticated user", "10.0.0.9:5000", "Connect");
        assert_eq!(login, Activity::Other);
        assert_eq!(a("app", "10.0.0.1:4000", "Killed"), Activity::Other);
        let feed = a("repl", "10.0.0.2:51000", "Binlog Dump GTID");
        assert_eq!(feed, Activity::Other);
        let scheduler = a("event_scheduler", "localhost", "Daemon");
        assert_eq!(scheduler, Activity::System);
        // MySQL's replica threads say Connect; they are still the server's.
        assert_eq!(a("system user", "", "Connect"), Activity::System);
        assert_eq!(a("system user", "", "Slave_SQL"), Activity::System);
    }

    #[test]
    fn counts_add_up() {
        let s = |user: &str, command: &str| Session {
            user: user.into(),
            host: "localhost".into(),
            command: command.into(),
            ..Session::default()
        };
        let sessions = [
            s("app", "Sleep"),
            s("app", "Sleep"),
            s("app", "Query"),
            s("unauthenticated user", "Connect"),
            s("event_scheduler", "Daemon"),
        ];
        let c = Counts::of(&sessions, 5, 100);
        assert_eq!((c.running, c.sleeping, c.other, c.system), (1, 2, 1, 1));
        assert_eq!(c.clients, 4);
        assert_eq!(c.listed, 5);
        assert_eq!(c.own, 1);
        assert_eq!(c.unlisted, 0);
        assert!((c.usage() - 0.05).abs() < 1e-9);
        // Without PROCESS the server counts sessions nobody lists.
        let c = Counts::of(&sessions[..1], 40, 100);
        assert_eq!((c.clients, c.unlisted), (1, 38));
        // A session that connected after the status read: never negative.
        let c = Counts::of(&sessions, 3, 0);
        assert_eq!(c.unlisted, 0);
        assert_eq!(c.usage(), 0.0);
    }
}
