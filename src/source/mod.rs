//! All SQL conntop sends, per server flavor, and the decoding of its rows.
//!
//! Nothing else in the crate runs SQL against the monitored server. A
//! [`Source`] owns exactly one connection; every tick ([`Source::poll`]) sends
//! at most two statements in steady state:
//!
//! 1. status counters, open transactions and (every [`VARIABLES_EVERY`]) the
//!    variables, as one `UNION ALL` statement;
//! 2. the processlist;
//! 3. only while sessions wait for a lock, the lock tables (see `locks`).
//!
//! Status source, measured the same way (`benches/status_cost.rs`): MariaDB
//! answers any *global* status query by first summing every connection's
//! counters, so at 2,000 sessions the global status statement cost the server
//! as much as the processlist (a tick: 1.9x a bare `SHOW PROCESSLIST`). The
//! counters conntop shows are server-wide, and the session scope shows them
//! without that sum; only `Threads_running` is the sum's own count, so it is
//! counted from the processlist (threads not in `Sleep`). With the PROCESS
//! privilege (the processlist then lists every thread) MariaDB gets
//! [`StatusSql::Session`]: a tick costs 1.2x a bare `SHOW PROCESSLIST`.
//!
//! Processlist source, measured with `SET profiling = 1` on MariaDB 10.11 with
//! 2,000 idle sessions: `SHOW FULL PROCESSLIST` costs the server 2.5-4 ms,
//! `information_schema.PROCESSLIST` 5-6 ms (its `TIME_MS` column is the only
//! gain). So MariaDB and MySQL before 8.0.22 get `SHOW PROCESSLIST`, with
//! second precision. MySQL 8.0.22+ gets `performance_schema.processlist`, which
//! the manual describes as the replacement that does not take the global
//! thread mutex; if the performance schema is off we fall back to `SHOW`.
//! The MySQL paths are coded from the manual and tested on recorded rows.
//!
//! Bytes per tick are bounded on the server's side: the processlist carries
//! the first [`LISTED_INFO_CHARS`] characters of each statement (`SHOW
//! PROCESSLIST` without `FULL` cuts there; `LEFT(INFO, 100)` on MySQL 8), so
//! 50 sessions each running a 10 MB `INSERT` cost 5 KB a tick, not 500 MB.
//! The whole text, up to [`MAX_INFO_BYTES`], is read for one session at a
//! time ([`Source::statement`]), when the user looks at it.

mod decode;
mod error;
mod explain;
mod locks;
mod sql;

pub use decode::*;
pub use error::*;
pub use explain::*;
pub use locks::*;
pub use sql::*;

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant, SystemTime};

use mysql::prelude::Queryable;
use mysql::{Conn, Opts, Value};

use crate::command::{KillMethod, KillMode};
use crate::snapshot::{
    Flavor, MAX_INFO_BYTES, Privileges, ServerInfo, Session, Snapshot, Variables, millis,
};

/// How often the variables are re-read (they rarely change).
pub const VARIABLES_EVERY: Duration = Duration::from_secs(10);

/// Open transactions are read at most this often. MariaDB refreshes its
/// `INNODB_TRX` cache only when the previous read is over 100 ms old, so a
/// monitor reading it every 100 ms would freeze it; in between, the last
/// reading is aged by the time passed.
pub const TRX_EVERY: Duration = Duration::from_millis(250);

/// Opens one connection, giving up after the options' connect timeout
/// (handshake included). On a time-out the attempt is left to finish on its
/// own thread, which drops whatever it gets; nothing waits for it.
fn connect_within(opts: &Opts) -> Result<Conn, SourceError> {
    let Some(limit) = opts.get_tcp_connect_timeout() else {
        return Conn::new(opts.clone()).map_err(|e| classify(&e, false));
    };
    let (tx, rx) = crossbeam_channel::bounded(1);
    let opts = opts.clone();
    std::thread::Builder::new()
        .name("conntop-connect".to_string())
        .spawn(move || {
            let _ = tx.send(Conn::new(opts));
        })
        .map_err(|e| SourceError::Unreachable(format!("cannot start a thread: {e}")))?;
    match rx.recv_timeout(limit) {
        Ok(result) => result.map_err(|e| classify(&e, false)),
        Err(_) => Err(SourceError::Unreachable(format!(
            "timed out connecting after {}",
            humantime::format_duration(limit)
        ))),
    }
}

/// One connection to the monitored server and the SQL conntop runs on it.
pub struct Source {
    conn: Conn,
    server: ServerInfo,
    own_id: u64,
    privileges: Privileges,
    processlist: ProcesslistSql,
    status_sql: StatusSql,
    with_trx: bool,
    /// Transaction ages (thread id -> ms) at the last read of `INNODB_TRX`.
    trx_ages: HashMap<u64, u64>,
    trx_at: Option<Instant>,
    variables: Variables,
    variables_at: Option<Instant>,
    endpoint: String,
    seq: u64,
    /// Lock waits: read only while somebody waits (see `locks`).
    locks: LockReader,
    /// When the connection was made: every snapshot from it is later.
    connected_at: SystemTime,
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Source")
            .field("endpoint", &self.endpoint)
            .field("own_id", &self.own_id)
            .finish_non_exhaustive()
    }
}

impl Source {
    /// Connects with the first of `attempts` that works: each is tried in
    /// order while the previous failed on TLS (PREFERRED falls back to plain).
    /// Reads the server's identity, our privileges and the lock sources it
    /// offers (three statements).
    /// Each attempt, handshake included, ends within its connect timeout
    /// (a server that accepts TCP and never answers would otherwise hold it
    /// for the longer read timeout).
    pub fn connect(attempts: &[Opts], endpoint: &str) -> Result<Source, SourceError> {
        let mut last = SourceError::Unreachable("no connection options".to_string());
        for opts in attempts {
            match connect_within(opts) {
                Ok(conn) => return Source::start(conn, endpoint),
                Err(e) => {
                    last = e;
                    if !matches!(last, SourceError::Tls(_)) {
                        break;
                    }
                }
            }
        }
        if let SourceError::TooManyConnections(_) = last {
            last = SourceError::TooManyConnections(too_many_connections_help(endpoint, None));
        }
        Err(last)
    }

    fn start(mut conn: Conn, endpoint: &str) -> Result<Source, SourceError> {
        let row: Option<(Value, Value, Value)> = conn
            .query_first("SELECT VERSION(), CONNECTION_ID(), USER()")
            .map_err(|e| classify(&e, true))?;
        let (version, own_id, user) = match row {
            Some((v, id, user)) => (
                value_text(&v).unwrap_or_default(),
                value_u64(&id).unwrap_or(0),
                value_text(&user).unwrap_or_default(),
            ),
            None => (String::new(), 0, String::new()),
        };
        let server = ServerInfo::from_version(&version);
        let grants: Vec<Value> = conn.query("SHOW GRANTS").map_err(|e| classify(&e, true))?;
        let grants: Vec<String> = grants.iter().filter_map(value_text).collect();
        let mut privileges = parse_grants(&grants);
        // Without SUPER/CONNECTION ADMIN the server lets us kill only the
        // sessions of our own user name (the processlist's User, which is
        // USER() without the host). A role may grant it: then we cannot tell.
        if !privileges.kill_any && !grants_roles(&grants) {
            let name = user
                .rsplit_once('@')
                .map_or(user.as_str(), |(name, _)| name);
            privileges.kill_only_user = Some(name.to_string());
        }
        let locks = LockReader::new(&server, LockCaps::probe(&mut conn));
        Ok(Source {
            conn,
            processlist: ProcesslistSql::for_server(&server),
            status_sql: StatusSql::for_server(&server, &privileges),
            server,
            own_id,
            privileges,
            with_trx: true,
            trx_ages: HashMap::new(),
            trx_at: None,
            variables: Variables::default(),
            variables_at: None,
            endpoint: endpoint.to_string(),
            seq: 0,
            locks,
            connected_at: SystemTime::now(),
        })
    }

    /// Our own connection id.
    pub fn own_id(&self) -> u64 {
        self.own_id
    }

    /// When this connection was made: a snapshot taken earlier came from
    /// another connection (or another server).
    pub fn connected_at(&self) -> SystemTime {
        self.connected_at
    }

    /// The server's identity.
    pub fn server(&self) -> &ServerInfo {
        &self.server
    }

    /// What our account may do.
    pub fn privileges(&self) -> &Privileges {
        &self.privileges
    }

    /// One tick: two statements (status [+ variables] + transactions, then
    /// the processlist), a third while sessions wait for a lock; the waits go
    /// on the sessions and into the snapshot's graph. Falls back quietly
    /// when a source is not available (no INNODB_TRX privilege, performance
    /// schema off). With [`StatusSql::Session`], `Threads_running` is
    /// counted from the processlist.
    pub fn poll(&mut self) -> Result<Snapshot, SourceError> {
        let started = Instant::now();
        let with_vars = self
            .variables_at
            .is_none_or(|at| at.elapsed() >= VARIABLES_EVERY);
        let with_trx = self.with_trx && self.trx_at.is_none_or(|at| at.elapsed() >= TRX_EVERY);
        let mut statements = 0;
        let status = loop {
            match self.read_status(with_vars, with_trx && self.with_trx, &mut statements) {
                Ok(s) => break s,
                Err(e @ SourceError::Server { .. }) => {
                    if !self.fall_back(with_trx) {
                        return Err(e);
                    }
                }
                Err(e) => return Err(e),
            }
        };
        if with_trx && self.with_trx {
            self.trx_ages = status.trx_age_ms.clone();
            self.trx_at = Some(Instant::now());
            self.locks.set_lock_wait(status.lock_wait.clone());
        }
        let trx_aged_by = self.trx_at.map_or(0, |at| millis(at.elapsed()));
        if let Some(v) = status.variables.clone() {
            self.variables = v;
            self.variables_at = Some(Instant::now());
        }
        let mut sessions = match self.read_sessions() {
            Ok(s) => s,
            Err(SourceError::Server { .. })
                if self.processlist == ProcesslistSql::PerformanceSchema =>
            {
                self.processlist = ProcesslistSql::Show;
                statements += 1;
                self.read_sessions()?
            }
            Err(e) => return Err(e),
        };
        statements += 1;
        let mut counters = status.status;
        if self.status_sql == StatusSql::Session {
            // What MariaDB's global sum counts: threads not in `Sleep`, ours included.
            counters.threads_running = sessions.iter().filter(|s| !s.is_sleeping()).count() as u64;
        }
        sessions.retain(|s| s.id != self.own_id);
        for s in &mut sessions {
            s.trx_age_ms = self
                .trx_ages
                .get(&s.id)
                .map(|age| age.saturating_add(trx_aged_by));
        }
        let locks = self
            .locks
            .tick(&mut self.conn, &mut sessions, &mut statements)?;
        self.seq += 1;
        Ok(Snapshot {
            seq: self.seq,
            taken_at: SystemTime::now(),
            server: self.server.clone(),
            variables: self.variables.clone(),
            status: counters,
            sessions,
            own_id: self.own_id,
            privileges: self.privileges.clone(),
            poll_latency: started.elapsed(),
            statements,
            endpoint: self.endpoint.clone(),
            locks,
        })
    }

    /// After the status statement failed on the server: the next cheaper
    /// source to try, if any. Session status falls back to the global table;
    /// MySQL without the performance schema to `SHOW`; then `INNODB_TRX` is
    /// dropped (no PROCESS privilege, or no InnoDB).
    fn fall_back(&mut self, with_trx: bool) -> bool {
        match self.status_sql {
            StatusSql::Session => self.status_sql = StatusSql::Tables,
            StatusSql::Tables if self.server.flavor == Flavor::MySql => {
                self.status_sql = StatusSql::Show;
            }
            _ if with_trx && self.with_trx => self.with_trx = false,
            _ => return false,
        }
        true
    }

    /// Reads status, variables and transaction ages as [`Self::status_sql`]
    /// says, counting the statements sent into `statements`.
    fn read_status(
        &mut self,
        with_vars: bool,
        with_trx: bool,
        statements: &mut u32,
    ) -> Result<StatusRows, SourceError> {
        let mut rows: Vec<(String, Value, Value)> = Vec::new();
        match self.status_sql {
            StatusSql::Tables | StatusSql::Session => {
                let sql = if self.status_sql == StatusSql::Session {
                    session_status_sql(with_vars, with_trx)
                } else {
                    status_sql(self.server.flavor, with_vars, with_trx)
                };
                *statements += 1;
                let got: Vec<(Value, Value, Value)> =
                    self.conn.query(sql).map_err(|e| classify(&e, true))?;
                rows.extend(
                    got.into_iter()
                        .map(|(t, n, v)| (value_text(&t).unwrap_or_default(), n, v)),
                );
            }
            StatusSql::Show => {
                for (tag, sql) in show_status_sql(with_vars, with_trx) {
                    *statements += 1;
                    let got: Vec<(Value, Value)> =
                        self.conn.query(sql).map_err(|e| classify(&e, true))?;
                    rows.extend(got.into_iter().map(|(n, v)| (tag.to_string(), n, v)));
                }
            }
        }
        let names: Vec<String> = rows
            .iter()
            .map(|(_, n, _)| value_text(n).unwrap_or_default())
            .collect();
        Ok(fold_status_rows(
            rows.iter()
                .zip(&names)
                .map(|((t, _, v), n)| (t.as_str(), n.as_str(), v)),
        ))
    }

    /// The whole statement session `id` is running now (up to
    /// [`MAX_INFO_BYTES`]), `None` when it runs none or is gone. One row of
    /// one session, so a 10 MB statement costs 16 KiB once, not every tick.
    pub fn statement(&mut self, id: u64) -> Result<Option<String>, SourceError> {
        let table = match self.processlist {
            ProcesslistSql::Show => "information_schema.PROCESSLIST",
            ProcesslistSql::PerformanceSchema => "performance_schema.processlist",
        };
        let sql = format!("SELECT LEFT(INFO, {MAX_INFO_BYTES}) FROM {table} WHERE ID = {id}");
        let row: Option<Value> = self.conn.query_first(sql).map_err(|e| classify(&e, true))?;
        Ok(row.and_then(|v| value_text_capped(&v, MAX_INFO_BYTES)))
    }

    /// Reads every session (ours included), one statement.
    pub fn read_sessions(&mut self) -> Result<Vec<Session>, SourceError> {
        self.query_sessions(self.processlist.sql())
    }

    /// Reads every session (ours included) for the kill re-check, one
    /// statement; the flag is true when their times are exact to the
    /// millisecond. On MariaDB: [`EXACT_PROCESSLIST_SQL`] (falls back to
    /// [`Source::read_sessions`], whole seconds, if the server refuses it);
    /// MySQL has no `TIME_MS`: whole seconds.
    pub fn read_sessions_exact(&mut self) -> Result<(Vec<Session>, bool), SourceError> {
        if self.server.flavor == Flavor::MariaDb && self.processlist == ProcesslistSql::Show {
            match self.query_sessions(EXACT_PROCESSLIST_SQL) {
                Ok(sessions) => return Ok((sessions, true)),
                Err(SourceError::Server { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok((self.read_sessions()?, false))
    }

    /// Runs a processlist statement and decodes its rows by column name.
    fn query_sessions(&mut self, sql: &str) -> Result<Vec<Session>, SourceError> {
        let mut result = self.conn.query_iter(sql).map_err(|e| classify(&e, true))?;
        let layout = ProcesslistLayout::from_names(
            result
                .columns()
                .as_ref()
                .iter()
                .map(|c| c.name_str().into_owned())
                .collect::<Vec<_>>()
                .iter()
                .map(String::as_str),
        );
        let mut sessions = Vec::new();
        for row in result.by_ref() {
            let row = row.map_err(|e| classify(&e, true))?;
            let values = row.unwrap();
            if let Some(s) = layout.decode(&values) {
                sessions.push(s);
            }
        }
        Ok(sessions)
    }

    /// Sends one KILL (or RDS procedure call).
    pub fn kill(&mut self, id: u64, mode: KillMode, method: KillMethod) -> Result<(), SourceError> {
        self.conn
            .query_drop(kill_sql(id, mode, method))
            .map_err(|e| classify(&e, true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::Flavor;

    fn b(s: &str) -> Value {
        Value::Bytes(s.as_bytes().to_vec())
    }

    #[test]
    fn processlist_source_per_server() {
        let p = |v| ProcesslistSql::for_server(&ServerInfo::from_version(v));
        assert_eq!(p("10.11.6-MariaDB"), ProcesslistSql::Show);
        // Both forms cut statements on the server's side, at the same length.
        assert_eq!(ProcesslistSql::Show.sql(), "SHOW PROCESSLIST");
        let cut = format!("LEFT(INFO, {}) AS INFO", crate::snapshot::LISTED_INFO_CHARS);
        assert!(ProcesslistSql::PerformanceSchema.sql().contains(&cut));
        assert_eq!(p("8.0.21"), ProcesslistSql::Show);
        assert_eq!(p("8.0.22"), ProcesslistSql::PerformanceSchema);
        assert_eq!(p("8.4.3"), ProcesslistSql::PerformanceSchema);
        assert_eq!(p("5.7.44-log"), ProcesslistSql::Show);
    }

    /// The re-check's read: MariaDB's processlist table with `TIME_MS`,
    /// statements cut as `SHOW PROCESSLIST` cuts them (100 bytes).
    #[test]
    fn exact_processlist_read_decodes_milliseconds() {
        let cut = format!(
            "LEFT(CAST(INFO AS BINARY), {})",
            crate::snapshot::LISTED_INFO_CHARS
        );
        assert!(EXACT_PROCESSLIST_SQL.contains(&cut));
        assert!(EXACT_PROCESSLIST_SQL.contains("TIME_MS"));
        // Recorded from MariaDB 10.11 (TIME_MS is a decimal, sent as text).
        let layout = ProcesslistLayout::from_names([
            "ID", "USER", "HOST", "DB", "COMMAND", "TIME", "TIME_MS", "STATE", "INFO",
        ]);
        let row = [
            b("15"),
            b("app"),
            b("127.0.0.1:51234"),
            Value::NULL,
            b("Query"),
            b("1"),
            b("1186.999"),
            b("User sleep"),
            b("SELECT SLEEP(3)"),
        ];
        let s = layout.decode(&row).expect("row decodes");
        assert_eq!(s.time_ms, 1186);
        assert_eq!(s.info.as_deref(), Some("SELECT SLEEP(3)"));
    }

    #[test]
    fn decodes_mariadb_show_full_processlist_row() {
        // Recorded from MariaDB 10.11: Id, User, Host, db, Command, Time, State, Info, Progress.
        let names = [
            "Id", "User", "Host", "db", "Command", "Time", "State", "Info", "Progress",
        ];
        let layout = ProcesslistLayout::from_names(names);
        let row = [
            b("42"),
            b("app"),
            b("127.0.0.1:51234"),
            Value::NULL,
            b("Sleep"),
            b("312"),
            b(""),
            Value::NULL,
            b("0.000"),
        ];
        let s = layout.decode(&row).expect("row decodes");
        assert_eq!(s.id, 42);
        assert_eq!(s.user, "app");
        assert_eq!(s.client_host(), "127.0.0.1");
        assert_eq!(s.db, None);
        assert!(s.is_sleeping());
        assert_eq!(s.time_ms, 312_000);
        assert_eq!(s.info, None);
    }

    #[test]
    fn decodes_mysql8_performance_schema_row() {
        // performance_schema.processlist as documented for MySQL 8.0.22+,
        // columns as selected by ProcesslistSql::PerformanceSchema; the
        // binary protocol is not used, so values arrive as text.
        let layout = ProcesslistLayout::from_names([
            "ID", "USER", "HOST", "DB", "COMMAND", "TIME", "STATE", "INFO",
        ]);
        let row = [
            b("18446744073709551"),
            b("event_scheduler"),
            b("localhost"),
            Value::NULL,
            b("Daemon"),
            b("1200"),
            b("Waiting on empty queue"),
            Value::NULL,
        ];
        let s = layout.decode(&row).expect("row decodes");
        assert_eq!(s.id, 18_446_744_073_709_551);
        assert!(s.is_system());
        assert_eq!(s.time_ms, 1_200_000);
        let row = [
            b("9"),
            b("web"),
            b("10.0.0.7:40112"),
            b("shop"),
            b("Query"),
            b("-1"), // clock skew shows as negative on some versions
            b("executing"),
            b("SELECT SLEEP(100)"),
        ];
        let s = layout.decode(&row).expect("row decodes");
        assert_eq!(s.time_ms, 0);
        assert_eq!(s.db.as_deref(), Some("shop"));
        assert_eq!(s.info.as_deref(), Some("SELECT SLEEP(100)"));
    }

    #[test]
    fn time_ms_column_wins_when_present() {
        let layout = ProcesslistLayout::from_names(["ID", "TIME", "TIME_MS"]);
        let s = layout
            .decode(&[b("1"), b("3"), b("3456.789")])
            .expect("decodes");
        assert_eq!(s.time_ms, 3456);
    }

    #[test]
    fn bad_rows_and_hostile_text() {
        let layout = ProcesslistLayout::from_names(["Id", "Info"]);
        assert_eq!(layout.decode(&[b("x"), Value::NULL]), None);
        assert_eq!(layout.decode(&[]), None);
        let invalid = Value::Bytes(vec![b'S', 0xff, 0xfe, b'\x1b', b'[', b'2', b'J']);
        let s = layout.decode(&[b("1"), invalid]).expect("decodes");
        assert_eq!(s.info.as_deref(), Some("S\u{fffd}\u{fffd}\u{1b}[2J"));
        let huge = Value::Bytes(vec![b'a'; MAX_INFO_BYTES * 4]);
        let s = layout.decode(&[b("2"), huge]).expect("decodes");
        assert!(s.info.as_deref().unwrap_or("").len() <= MAX_INFO_BYTES + 3);
        assert!(s.info.as_deref().unwrap_or("").ends_with('…'));
    }

    #[test]
    fn folds_status_variables_and_transactions() {
        let rows = [
            ("S", "THREADS_CONNECTED", b("151")),
            ("S", "Threads_running", b("3")),
            ("S", "MAX_USED_CONNECTIONS", b("152")),
            ("S", "CONNECTIONS", b("9000")),
            ("S", "CONNECTION_ERRORS_MAX_CONNECTIONS", b("17")),
            ("S", "UPTIME", b("3600")),
            ("V", "MAX_CONNECTIONS", b("151")),
            ("V", "MAX_STATEMENT_TIME", b("2.500000")),
            ("V", "SLOW_QUERY_LOG", b("OFF")),
            ("V", "EXTRA_PORT", b("3307")),
            ("V", "admin_address", b("")),
            ("T", "42", b("95")),
            ("T", "42", b("12")),
        ];
        let out = fold_status_rows(rows.iter().map(|(t, n, v)| (*t, *n, v)));
        assert_eq!(out.status.threads_connected, 151);
        assert_eq!(out.status.threads_running, 3);
        assert_eq!(out.status.connection_errors_max_connections, 17);
        assert_eq!(out.status.uptime_s, 3600);
        let v = out.variables.expect("variables present");
        assert_eq!(v.max_connections, 151);
        assert_eq!(v.statement_timeout_ms, Some(2500));
        assert_eq!(v.slow_query_log, Some(false));
        assert_eq!(v.extra_port, Some(3307));
        assert_eq!(v.admin_address, None);
        assert_eq!(out.trx_age_ms.get(&42), Some(&95_000));
    }

    #[test]
    fn status_rows_without_variables_leave_them_unset() {
        let rows = [("S", "Threads_connected", b("5"))];
        let out = fold_status_rows(rows.iter().map(|(t, n, v)| (*t, *n, v)));
        assert_eq!(out.variables, None);
        // MySQL 8 spelling of the statement timeout: ms.
        let rows = [("V", "max_execution_time", b("30000"))];
        let out = fold_status_rows(rows.iter().map(|(t, n, v)| (*t, *n, v)));
        assert_eq!(
            out.variables.map(|v| v.statement_timeout_ms),
            Some(Some(30_000))
        );
    }

    #[test]
    fn status_sql_per_flavor() {
        let m = status_sql(Flavor::MariaDb, true, true);
        assert!(m.contains("information_schema.GLOBAL_STATUS"));
        assert!(m.contains("information_schema.GLOBAL_VARIABLES"));
        assert!(m.contains("INNODB_TRX"));
        let y = status_sql(Flavor::MySql, false, false);
        assert!(y.contains("performance_schema.global_status"));
        assert!(!y.contains("global_variables"));
        assert!(!y.contains("INNODB_TRX"));
    }

    #[test]
    fn mariadb_reads_server_wide_counters_from_the_session_scope() {
        let maria = ServerInfo::from_version("10.11.6-MariaDB");
        let process = Privileges {
            process: true,
            ..Privileges::default()
        };
        assert_eq!(StatusSql::for_server(&maria, &process), StatusSql::Session);
        // Without PROCESS the processlist shows our own sessions only, so
        // Threads_running cannot be counted from it: the global sum it is.
        assert_eq!(
            StatusSql::for_server(&maria, &Privileges::default()),
            StatusSql::Tables
        );
        let mysql = ServerInfo::from_version("8.0.36");
        assert_eq!(StatusSql::for_server(&mysql, &process), StatusSql::Tables);
        let sql = session_status_sql(true, true);
        assert!(sql.contains("FROM information_schema.SESSION_STATUS WHERE"));
        assert!(sql.contains("'Threads_connected'"));
        assert!(sql.contains("'Connection_errors_max_connections'"));
        assert!(!sql.contains("Threads_running"), "summed: {sql}");
        assert!(sql.contains("information_schema.GLOBAL_VARIABLES"));
        assert!(sql.contains("INNODB_TRX"));
        assert!(!session_status_sql(false, false).contains("UNION"));
    }

    #[test]
    fn kill_statements() {
        assert_eq!(
            kill_sql(7, KillMode::Connection, KillMethod::Sql),
            "KILL CONNECTION 7"
        );
        assert_eq!(
            kill_sql(7, KillMode::Query, KillMethod::Sql),
            "KILL QUERY 7"
        );
        assert_eq!(
            kill_sql(7, KillMode::Connection, KillMethod::Rds),
            "CALL mysql.rds_kill(7)"
        );
        assert_eq!(
            kill_sql(7, KillMode::Query, KillMethod::Rds),
            "CALL mysql.rds_kill_query(7)"
        );
    }

    #[test]
    fn grants_mariadb_and_mysql8() {
        let mariadb = [
            "GRANT PROCESS, CONNECTION ADMIN ON *.* TO `conntop`@`%` IDENTIFIED BY PASSWORD '*AB'",
        ];
        assert_eq!(
            parse_grants(&mariadb),
            Privileges {
                process: true,
                kill_any: true,
                ..Privileges::default()
            }
        );
        // Recorded shape of MySQL 8 SHOW GRANTS: static privileges, then dynamic ones.
        let mysql8 = [
            "GRANT PROCESS ON *.* TO `mon`@`%`",
            "GRANT CONNECTION_ADMIN ON *.* TO `mon`@`%`",
        ];
        assert_eq!(
            parse_grants(&mysql8),
            Privileges {
                process: true,
                kill_any: true,
                ..Privileges::default()
            }
        );
        let root = ["GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION"];
        assert_eq!(
            parse_grants(&root),
            Privileges {
                process: true,
                kill_any: true,
                ..Privileges::default()
            }
        );
        let app = [
            "GRANT USAGE ON *.* TO `app`@`%`",
            "GRANT ALL PRIVILEGES ON `appdb`.* TO `app`@`%`",
        ];
        assert_eq!(parse_grants(&app), Privileges::default());
        assert!(!grants_roles(&app));
        // A role may carry CONNECTION ADMIN (MariaDB, MySQL 8 spellings).
        assert!(grants_roles(&["GRANT `dba` TO `bob`@`%`"]));
        assert!(grants_roles(&["GRANT `dba`@`%` TO `bob`@`%`"]));
        assert!(!grants_roles(&["GRANT PROXY ON ''@'' TO `bob`@`%`"]));
    }

    #[test]
    fn error_classification() {
        let e = mysql::Error::MySqlError(mysql::MySqlError {
            state: "HY000".into(),
            code: 1040,
            message: "Too many connections".into(),
        });
        assert!(matches!(
            classify(&e, false),
            SourceError::TooManyConnections(_)
        ));
        let e = mysql::Error::IoError(std::io::Error::new(std::io::ErrorKind::BrokenPipe, "pipe"));
        assert!(classify(&e, true).is_connection_lost());
        assert!(matches!(classify(&e, false), SourceError::Unreachable(_)));
        let help = too_many_connections_help(
            "127.0.0.1:3306",
            Some(&Variables {
                extra_port: Some(3307),
                ..Variables::default()
            }),
        );
        assert!(help.contains("extra_port: -P 3307"));
        // An account that already has the privilege learns why it was refused anyway.
        assert!(
            help.contains("another such session (an admin's client, a monitoring agent) may already hold that slot"),
            "{help}"
        );
        assert!(!help.contains('\n'));
    }

    /// MySQL with the performance schema off: the SHOW statements' recorded
    /// rows (MySQL 8.0 `SHOW GLOBAL STATUS` / `SHOW GLOBAL VARIABLES` output,
    /// two columns) fold into the same status and variables as the union.
    #[test]
    fn show_statements_for_mysql_without_performance_schema() {
        let sql = show_status_sql(true, true);
        let tags: Vec<&str> = sql.iter().map(|(t, _)| *t).collect();
        assert_eq!(tags, ["S", "V", "T"]);
        assert!(
            sql[0]
                .1
                .starts_with("SHOW GLOBAL STATUS WHERE Variable_name IN ('Threads_connected',")
        );
        assert!(
            sql[1]
                .1
                .starts_with("SHOW GLOBAL VARIABLES WHERE Variable_name IN ('max_connections',")
        );
        assert!(sql[2].1.contains("information_schema.INNODB_TRX"));
        assert_eq!(show_status_sql(false, false).len(), 1);
        let b = |s: &str| Value::Bytes(s.as_bytes().to_vec());
        let recorded = [
            ("S", "Aborted_clients", b("3")),
            ("S", "Aborted_connects", b("17")),
            ("S", "Connection_errors_max_connections", b("5")),
            ("S", "Connections", b("1234")),
            ("S", "Max_used_connections", b("151")),
            ("S", "Threads_connected", b("150")),
            ("S", "Threads_running", b("4")),
            ("S", "Uptime", b("86400")),
            ("V", "admin_address", b("")),
            ("V", "admin_port", b("33062")),
            ("V", "max_connections", b("151")),
            ("V", "max_execution_time", b("0")),
            ("V", "wait_timeout", b("28800")),
            ("T", "42", Value::Int(7)),
        ];
        let rows = fold_status_rows(recorded.iter().map(|(t, n, v)| (*t, *n, v)));
        assert_eq!(rows.status.threads_connected, 150);
        assert_eq!(rows.status.max_used_connections, 151);
        assert_eq!(rows.status.connection_errors_max_connections, 5);
        assert_eq!(rows.status.uptime_s, 86_400);
        let vars = rows.variables.expect("variables");
        assert_eq!(vars.max_connections, 151);
        assert_eq!(vars.admin_port, Some(33062));
        assert_eq!(vars.admin_address, None);
        assert_eq!(vars.statement_timeout_ms, Some(0));
        assert_eq!(rows.trx_age_ms.get(&42), Some(&7000));
    }
}
