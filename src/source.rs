//! All SQL conntop sends, per server flavor, and the decoding of its rows.
//!
//! Nothing else in the crate runs SQL against the monitored server. A
//! [`Source`] owns exactly one connection; every tick ([`Source::poll`]) sends
//! at most two statements:
//!
//! 1. status counters, open transactions and (every [`VARIABLES_EVERY`]) the
//!    variables, as one `UNION ALL` statement;
//! 2. the processlist.
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

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant, SystemTime};

use mysql::prelude::Queryable;
use mysql::{Conn, Opts, Value};

use crate::command::{KillMethod, KillMode};
use crate::snapshot::{
    MAX_INFO_BYTES, Privileges, ServerInfo, Session, Snapshot, Status, Variables, millis,
};

/// How often the variables are re-read (they rarely change).
pub const VARIABLES_EVERY: Duration = Duration::from_secs(10);

/// Open transactions are read at most this often. MariaDB refreshes its
/// `INNODB_TRX` cache only when the previous read is over 100 ms old, so a
/// monitor reading it every 100 ms would freeze it; in between, the last
/// reading is aged by the time passed.
pub const TRX_EVERY: Duration = Duration::from_millis(250);

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
fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

/// Which statement reads the sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcesslistSql {
    /// `SHOW PROCESSLIST` (MariaDB, MySQL < 8.0.22).
    Show,
    /// `performance_schema.processlist` (MySQL 8.0.22+).
    PerformanceSchema,
}

impl ProcesslistSql {
    /// The cheapest source for this server.
    pub fn for_server(server: &ServerInfo) -> ProcesslistSql {
        match server.flavor {
            crate::snapshot::Flavor::MySql if server.at_least(8, 0, 22) => {
                ProcesslistSql::PerformanceSchema
            }
            _ => ProcesslistSql::Show,
        }
    }

    /// The statement text. Statements come cut at [`LISTED_INFO_CHARS`].
    pub fn sql(self) -> &'static str {
        match self {
            ProcesslistSql::Show => "SHOW PROCESSLIST",
            ProcesslistSql::PerformanceSchema => {
                "SELECT ID, USER, HOST, DB, COMMAND, TIME, STATE, LEFT(INFO, 100) AS INFO \
                 FROM performance_schema.processlist"
            }
        }
    }
}

/// Stores one status counter.
type SetStatus = fn(&mut Status, u64);

/// Stores one variable from its value as a number and as text.
type SetVariable = fn(&mut Variables, u64, &str);

/// Status counters read every tick, each with where its value goes: the
/// statement's name list and the decoder are both built from this table.
const STATUS: [(&str, SetStatus); 8] = [
    ("Threads_connected", |s, n| s.threads_connected = n),
    ("Threads_running", |s, n| s.threads_running = n),
    ("Max_used_connections", |s, n| s.max_used_connections = n),
    ("Connections", |s, n| s.connections = n),
    ("Aborted_connects", |s, n| s.aborted_connects = n),
    ("Aborted_clients", |s, n| s.aborted_clients = n),
    ("Connection_errors_max_connections", |s, n| {
        s.connection_errors_max_connections = n
    }),
    ("Uptime", |s, n| s.uptime_s = n),
];

/// Variables read at connect and every [`VARIABLES_EVERY`], each with its
/// decoder (the value as a number, and as text).
const VARIABLES: [(&str, SetVariable); 18] = [
    ("max_connections", |v, n, _| v.max_connections = n),
    ("wait_timeout", |v, n, _| v.wait_timeout = n),
    ("interactive_timeout", |v, n, _| v.interactive_timeout = n),
    // MariaDB: seconds with decimals.
    ("max_statement_time", |v, _, text| {
        let secs = text.trim().parse::<f64>().unwrap_or(0.0);
        v.statement_timeout_ms = Some((secs * 1000.0).max(0.0) as u64);
    }),
    // MySQL: milliseconds, SELECT only.
    ("max_execution_time", |v, n, _| {
        v.statement_timeout_ms = Some(n)
    }),
    ("extra_port", |v, n, _| v.extra_port = u16::try_from(n).ok()),
    ("admin_port", |v, n, _| v.admin_port = u16::try_from(n).ok()),
    ("admin_address", |v, _, text| {
        let t = text.trim();
        v.admin_address = (!t.is_empty()).then(|| t.to_string());
    }),
    ("slow_query_log", |v, _, text| {
        v.slow_query_log = Some(matches!(
            text.trim().to_ascii_uppercase().as_str(),
            "ON" | "1"
        ));
    }),
    ("long_query_time", |v, _, text| {
        v.long_query_time_s = text.trim().parse().ok()
    }),
    ("sort_buffer_size", |v, n, _| v.sort_buffer_size = n),
    ("join_buffer_size", |v, n, _| v.join_buffer_size = n),
    ("read_buffer_size", |v, n, _| v.read_buffer_size = n),
    ("read_rnd_buffer_size", |v, n, _| v.read_rnd_buffer_size = n),
    ("thread_stack", |v, n, _| v.thread_stack = n),
    ("net_buffer_length", |v, n, _| v.net_buffer_length = n),
    ("binlog_cache_size", |v, n, _| v.binlog_cache_size = n),
    ("max_allowed_packet", |v, n, _| v.max_allowed_packet = n),
];

/// The names of a decoder table, quoted for an `IN (...)` list.
fn quoted_names<T>(table: &[(&str, T)]) -> String {
    table
        .iter()
        .map(|(n, _)| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The first statement of a tick: status rows tagged `S`, variable rows `V`
/// (when `with_variables`), open-transaction ages in seconds `T` (when
/// `with_trx`). All columns are cast to binary so the union never trips on
/// mixed collations between schemas.
pub fn status_sql(flavor: crate::snapshot::Flavor, with_variables: bool, with_trx: bool) -> String {
    let (status_table, variables_table) = match flavor {
        crate::snapshot::Flavor::MariaDb => (
            "information_schema.GLOBAL_STATUS",
            "information_schema.GLOBAL_VARIABLES",
        ),
        crate::snapshot::Flavor::MySql => (
            "performance_schema.global_status",
            "performance_schema.global_variables",
        ),
    };
    let mut sql = format!(
        "SELECT 'S', CAST(VARIABLE_NAME AS BINARY), CAST(VARIABLE_VALUE AS BINARY) \
         FROM {status_table} WHERE VARIABLE_NAME IN ({})",
        quoted_names(&STATUS)
    );
    if with_variables {
        sql.push_str(&format!(
            " UNION ALL SELECT 'V', CAST(VARIABLE_NAME AS BINARY), \
             CAST(VARIABLE_VALUE AS BINARY) FROM {variables_table} WHERE VARIABLE_NAME IN ({})",
            quoted_names(&VARIABLES)
        ));
    }
    if with_trx {
        sql.push_str(
            " UNION ALL SELECT 'T', CAST(trx_mysql_thread_id AS BINARY), \
             CAST(TIMESTAMPDIFF(SECOND, trx_started, NOW()) AS BINARY) \
             FROM information_schema.INNODB_TRX",
        );
    }
    sql
}

/// Where status counters and variables come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusSql {
    /// One `UNION ALL` over the status and variables tables ([`status_sql`]).
    Tables,
    /// MySQL with `performance_schema = OFF`: its `global_status` and
    /// `global_variables` tables fail, and `information_schema` has none since
    /// 8.0, so `SHOW GLOBAL STATUS` / `SHOW GLOBAL VARIABLES` (and a separate
    /// read of `INNODB_TRX`) take their place: one statement each
    /// ([`show_status_sql`]).
    Show,
}

/// The statements of [`StatusSql::Show`], each with the tag its rows fold
/// under: status (`S`) always, variables (`V`) and transactions (`T`) when
/// asked. Each returns two columns, name (or thread id) and value.
pub fn show_status_sql(with_variables: bool, with_trx: bool) -> Vec<(&'static str, String)> {
    let mut out = vec![(
        "S",
        format!(
            "SHOW GLOBAL STATUS WHERE Variable_name IN ({})",
            quoted_names(&STATUS)
        ),
    )];
    if with_variables {
        out.push((
            "V",
            format!(
                "SHOW GLOBAL VARIABLES WHERE Variable_name IN ({})",
                quoted_names(&VARIABLES)
            ),
        ));
    }
    if with_trx {
        out.push((
            "T",
            "SELECT trx_mysql_thread_id, TIMESTAMPDIFF(SECOND, trx_started, NOW()) \
             FROM information_schema.INNODB_TRX"
                .to_string(),
        ));
    }
    out
}

/// The KILL statement for one session. Ids are integers, so nothing is quoted.
pub fn kill_sql(id: u64, mode: KillMode, method: KillMethod) -> String {
    match (method, mode) {
        (KillMethod::Sql, KillMode::Connection) => format!("KILL CONNECTION {id}"),
        (KillMethod::Sql, KillMode::Query) => format!("KILL QUERY {id}"),
        (KillMethod::Rds, KillMode::Connection) => format!("CALL mysql.rds_kill({id})"),
        (KillMethod::Rds, KillMode::Query) => format!("CALL mysql.rds_kill_query({id})"),
    }
}

/// Lossy UTF-8 text of a value; `None` for NULL.
pub fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::NULL => None,
        Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::Int(i) => Some(i.to_string()),
        Value::UInt(u) => Some(u.to_string()),
        Value::Float(x) => Some(x.to_string()),
        Value::Double(x) => Some(x.to_string()),
        other => Some(other.as_sql(true)),
    }
}

/// Lossy text cut at `max` bytes (on a char boundary), marked with `…`.
fn value_text_capped(v: &Value, max: usize) -> Option<String> {
    match v {
        Value::Bytes(b) if b.len() > max => {
            let mut s = String::from_utf8_lossy(&b[..max]).into_owned();
            // A cut inside a multi-byte char shows as U+FFFD at the end; fine.
            s.push('…');
            Some(s)
        }
        other => value_text(other),
    }
}

/// A non-negative integer from a text or numeric value; `None` if absent or
/// not a number. Negative values (clock skew) become 0; decimals are truncated.
pub fn value_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Int(i) => Some((*i).max(0) as u64),
        Value::UInt(u) => Some(*u),
        Value::Float(x) => Some(x.max(0.0) as u64),
        Value::Double(x) => Some(x.max(0.0) as u64),
        Value::Bytes(b) => {
            let s = std::str::from_utf8(b).ok()?.trim();
            if let Ok(n) = s.parse::<u64>() {
                Some(n)
            } else if let Ok(n) = s.parse::<i64>() {
                Some(n.max(0) as u64)
            } else {
                s.parse::<f64>().ok().map(|x| x.max(0.0) as u64)
            }
        }
        _ => None,
    }
}

/// Positions of the processlist columns in a result, found by name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcesslistLayout {
    id: Option<usize>,
    user: Option<usize>,
    host: Option<usize>,
    db: Option<usize>,
    command: Option<usize>,
    time: Option<usize>,
    time_ms: Option<usize>,
    state: Option<usize>,
    info: Option<usize>,
}

impl ProcesslistLayout {
    /// Finds the columns by name, case-insensitively.
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> ProcesslistLayout {
        let mut l = ProcesslistLayout::default();
        for (i, name) in names.into_iter().enumerate() {
            let slot = match name.to_ascii_lowercase().as_str() {
                "id" => &mut l.id,
                "user" => &mut l.user,
                "host" => &mut l.host,
                "db" => &mut l.db,
                "command" => &mut l.command,
                "time" => &mut l.time,
                "time_ms" => &mut l.time_ms,
                "state" => &mut l.state,
                "info" => &mut l.info,
                _ => continue,
            };
            *slot = Some(i);
        }
        l
    }

    /// Decodes one row; `None` when it has no usable id.
    pub fn decode(&self, row: &[Value]) -> Option<Session> {
        let get = |i: Option<usize>| i.and_then(|i| row.get(i));
        let text = |i| get(i).and_then(value_text).unwrap_or_default();
        let id = get(self.id).and_then(value_u64)?;
        let time_ms = match get(self.time_ms).and_then(|v| match v {
            Value::Bytes(b) => std::str::from_utf8(b).ok()?.trim().parse::<f64>().ok(),
            Value::Double(x) => Some(*x),
            Value::Float(x) => Some(f64::from(*x)),
            other => value_u64(other).map(|n| n as f64),
        }) {
            Some(ms) => ms.max(0.0) as u64,
            None => get(self.time).and_then(value_u64).unwrap_or(0) * 1000,
        };
        Some(Session {
            id,
            user: text(self.user),
            host: text(self.host),
            db: get(self.db).and_then(value_text),
            command: text(self.command),
            time_ms,
            state: text(self.state),
            info: get(self.info).and_then(|v| value_text_capped(v, MAX_INFO_BYTES)),
            trx_age_ms: None,
        })
    }
}

/// Rows of the status statement, folded into status, variables and
/// transaction ages (thread id -> ms).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct StatusRows {
    pub status: Status,
    /// Set only when the statement carried variables.
    pub variables: Option<Variables>,
    pub trx_age_ms: HashMap<u64, u64>,
}

/// Folds `(tag, name, value)` rows of [`status_sql`] into [`StatusRows`].
pub fn fold_status_rows<'a>(
    rows: impl IntoIterator<Item = (&'a str, &'a str, &'a Value)>,
) -> StatusRows {
    let mut out = StatusRows::default();
    let mut vars = Variables::default();
    let mut saw_vars = false;
    for (tag, name, value) in rows {
        let n = || value_u64(value).unwrap_or(0);
        match tag {
            "S" => {
                if let Some((_, set)) = STATUS.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
                    set(&mut out.status, n());
                }
            }
            "V" => {
                saw_vars = true;
                if let Some((_, set)) = VARIABLES.iter().find(|(k, _)| k.eq_ignore_ascii_case(name))
                {
                    set(&mut vars, n(), &value_text(value).unwrap_or_default());
                }
            }
            "T" => {
                if let Ok(id) = name.trim().parse::<u64>() {
                    let age = n().saturating_mul(1000);
                    let e = out.trx_age_ms.entry(id).or_insert(0);
                    *e = (*e).max(age);
                }
            }
            _ => {}
        }
    }
    if saw_vars {
        out.variables = Some(vars);
    }
    out
}

/// Reads PROCESS and SUPER/CONNECTION_ADMIN from `SHOW GRANTS` lines
/// (MariaDB and MySQL spellings). Grants through roles are not followed.
pub fn parse_grants<S: AsRef<str>>(lines: &[S]) -> Privileges {
    let mut p = Privileges::default();
    for line in lines {
        let upper = line.as_ref().to_ascii_uppercase();
        // Only global grants count: `GRANT ... ON *.* TO ...`.
        let Some((privs, rest)) = upper.split_once(" ON ") else {
            continue;
        };
        if !rest.trim_start().starts_with("*.*") {
            continue;
        }
        let privs = privs.trim_start_matches("GRANT").trim();
        if privs.starts_with("ALL PRIVILEGES") || privs == "ALL" {
            p.process = true;
            p.kill_any = true;
            continue;
        }
        for item in privs.split(',').map(str::trim) {
            match item {
                "PROCESS" => p.process = true,
                "SUPER" | "CONNECTION ADMIN" | "CONNECTION_ADMIN" => p.kill_any = true,
                _ => {}
            }
        }
    }
    p
}

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
    /// Reads the server's identity and our privileges (two statements).
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
        let row: Option<(Value, Value)> = conn
            .query_first("SELECT VERSION(), CONNECTION_ID()")
            .map_err(|e| classify(&e, true))?;
        let (version, own_id) = match row {
            Some((v, id)) => (
                value_text(&v).unwrap_or_default(),
                value_u64(&id).unwrap_or(0),
            ),
            None => (String::new(), 0),
        };
        let server = ServerInfo::from_version(&version);
        let grants: Vec<Value> = conn.query("SHOW GRANTS").map_err(|e| classify(&e, true))?;
        let grants: Vec<String> = grants.iter().filter_map(value_text).collect();
        let privileges = parse_grants(&grants);
        Ok(Source {
            conn,
            processlist: ProcesslistSql::for_server(&server),
            status_sql: StatusSql::Tables,
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
        })
    }

    /// Our own connection id.
    pub fn own_id(&self) -> u64 {
        self.own_id
    }

    /// The server's identity.
    pub fn server(&self) -> &ServerInfo {
        &self.server
    }

    /// What our account may do.
    pub fn privileges(&self) -> Privileges {
        self.privileges
    }

    /// One tick: two statements (status [+ variables] + transactions, then
    /// the processlist). Falls back quietly when a source is not available
    /// (no INNODB_TRX privilege, performance schema off).
    pub fn poll(&mut self) -> Result<Snapshot, SourceError> {
        let started = Instant::now();
        let with_vars = self
            .variables_at
            .is_none_or(|at| at.elapsed() >= VARIABLES_EVERY);
        let with_trx = self.with_trx && self.trx_at.is_none_or(|at| at.elapsed() >= TRX_EVERY);
        let mut statements = 0;
        let status = match self.read_status(with_vars, with_trx, &mut statements) {
            Ok(s) => s,
            Err(SourceError::Server { .. })
                if self.server.flavor == crate::snapshot::Flavor::MySql
                    && self.status_sql == StatusSql::Tables =>
            {
                // performance_schema = OFF: its status tables are missing.
                self.status_sql = StatusSql::Show;
                self.read_status(with_vars, with_trx, &mut statements)?
            }
            Err(SourceError::Server { .. }) if with_trx => {
                // No PROCESS privilege for INNODB_TRX (or no InnoDB): drop it.
                self.with_trx = false;
                self.read_status(with_vars, false, &mut statements)?
            }
            Err(e) => return Err(e),
        };
        if with_trx && self.with_trx {
            self.trx_ages = status.trx_age_ms.clone();
            self.trx_at = Some(Instant::now());
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
        sessions.retain(|s| s.id != self.own_id);
        for s in &mut sessions {
            s.trx_age_ms = self
                .trx_ages
                .get(&s.id)
                .map(|age| age.saturating_add(trx_aged_by));
        }
        self.seq += 1;
        Ok(Snapshot {
            seq: self.seq,
            taken_at: SystemTime::now(),
            server: self.server.clone(),
            variables: self.variables.clone(),
            status: status.status,
            sessions,
            own_id: self.own_id,
            privileges: self.privileges,
            poll_latency: started.elapsed(),
            statements,
            endpoint: self.endpoint.clone(),
        })
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
            StatusSql::Tables => {
                let sql = status_sql(self.server.flavor, with_vars, with_trx);
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
        let mut result = self
            .conn
            .query_iter(self.processlist.sql())
            .map_err(|e| classify(&e, true))?;
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
                kill_any: true
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
                kill_any: true
            }
        );
        let root = ["GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION"];
        assert_eq!(
            parse_grants(&root),
            Privileges {
                process: true,
                kill_any: true
            }
        );
        let app = [
            "GRANT USAGE ON *.* TO `app`@`%`",
            "GRANT ALL PRIVILEGES ON `appdb`.* TO `app`@`%`",
        ];
        assert_eq!(parse_grants(&app), Privileges::default());
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
