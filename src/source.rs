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
//! gain). So MariaDB and MySQL before 8.0.22 get `SHOW FULL PROCESSLIST`, with
//! second precision. MySQL 8.0.22+ gets `performance_schema.processlist`, which
//! the manual describes as the replacement that does not take the global
//! thread mutex; if the performance schema is off we fall back to `SHOW`.
//! The MySQL paths are coded from the manual and tested on recorded rows.

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
         (MariaDB: CONNECTION ADMIN); connect as one"
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

/// Which statement reads the sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcesslistSql {
    /// `SHOW FULL PROCESSLIST` (MariaDB, MySQL < 8.0.22).
    ShowFull,
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
            _ => ProcesslistSql::ShowFull,
        }
    }

    /// The statement text.
    pub fn sql(self) -> &'static str {
        match self {
            ProcesslistSql::ShowFull => "SHOW FULL PROCESSLIST",
            ProcesslistSql::PerformanceSchema => {
                "SELECT ID, USER, HOST, DB, COMMAND, TIME, STATE, INFO \
                 FROM performance_schema.processlist"
            }
        }
    }
}

/// Status counters read every tick.
const STATUS_NAMES: [&str; 8] = [
    "Threads_connected",
    "Threads_running",
    "Max_used_connections",
    "Connections",
    "Aborted_connects",
    "Aborted_clients",
    "Connection_errors_max_connections",
    "Uptime",
];

/// Variables read at connect and every [`VARIABLES_EVERY`].
const VARIABLE_NAMES: [&str; 20] = [
    "max_connections",
    "wait_timeout",
    "interactive_timeout",
    "max_statement_time",
    "max_execution_time",
    "extra_port",
    "admin_port",
    "admin_address",
    "slow_query_log",
    "long_query_time",
    "sort_buffer_size",
    "join_buffer_size",
    "read_buffer_size",
    "read_rnd_buffer_size",
    "thread_stack",
    "net_buffer_length",
    "binlog_cache_size",
    "max_allowed_packet",
    "version",
    "version_comment",
];

fn quoted_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("'{n}'"))
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
        quoted_list(&STATUS_NAMES)
    );
    if with_variables {
        sql.push_str(&format!(
            " UNION ALL SELECT 'V', CAST(VARIABLE_NAME AS BINARY), \
             CAST(VARIABLE_VALUE AS BINARY) FROM {variables_table} WHERE VARIABLE_NAME IN ({})",
            quoted_list(&VARIABLE_NAMES)
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
    pub version: Option<String>,
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
                let s = &mut out.status;
                match name.to_ascii_lowercase().as_str() {
                    "threads_connected" => s.threads_connected = n(),
                    "threads_running" => s.threads_running = n(),
                    "max_used_connections" => s.max_used_connections = n(),
                    "connections" => s.connections = n(),
                    "aborted_connects" => s.aborted_connects = n(),
                    "aborted_clients" => s.aborted_clients = n(),
                    "connection_errors_max_connections" => {
                        s.connection_errors_max_connections = n()
                    }
                    "uptime" => s.uptime_s = n(),
                    _ => {}
                }
            }
            "V" => {
                saw_vars = true;
                let text = value_text(value).unwrap_or_default();
                match name.to_ascii_lowercase().as_str() {
                    "max_connections" => vars.max_connections = n(),
                    "wait_timeout" => vars.wait_timeout = n(),
                    "interactive_timeout" => vars.interactive_timeout = n(),
                    // MariaDB: seconds with decimals.
                    "max_statement_time" => {
                        let secs = text.trim().parse::<f64>().unwrap_or(0.0);
                        vars.statement_timeout_ms = Some((secs * 1000.0).max(0.0) as u64);
                    }
                    // MySQL: milliseconds, SELECT only.
                    "max_execution_time" => vars.statement_timeout_ms = Some(n()),
                    "extra_port" => vars.extra_port = u16::try_from(n()).ok(),
                    "admin_port" => vars.admin_port = u16::try_from(n()).ok(),
                    "admin_address" => {
                        let t = text.trim();
                        vars.admin_address = (!t.is_empty()).then(|| t.to_string());
                    }
                    "slow_query_log" => {
                        vars.slow_query_log = Some(matches!(
                            text.trim().to_ascii_uppercase().as_str(),
                            "ON" | "1"
                        ));
                    }
                    "long_query_time" => vars.long_query_time_s = text.trim().parse().ok(),
                    "sort_buffer_size" => vars.sort_buffer_size = n(),
                    "join_buffer_size" => vars.join_buffer_size = n(),
                    "read_buffer_size" => vars.read_buffer_size = n(),
                    "read_rnd_buffer_size" => vars.read_rnd_buffer_size = n(),
                    "thread_stack" => vars.thread_stack = n(),
                    "net_buffer_length" => vars.net_buffer_length = n(),
                    "binlog_cache_size" => vars.binlog_cache_size = n(),
                    "max_allowed_packet" => vars.max_allowed_packet = n(),
                    "version" => out.version = Some(text),
                    _ => {}
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

/// True when `SHOW GRANTS` lines grant a role (`GRANT `r` TO ...`, no `ON`).
pub fn grants_roles<S: AsRef<str>>(lines: &[S]) -> bool {
    lines.iter().any(|line| {
        let upper = line.as_ref().to_ascii_uppercase();
        upper.starts_with("GRANT ") && !upper.contains(" ON ")
    })
}

/// One connection to the monitored server and the SQL conntop runs on it.
pub struct Source {
    conn: Conn,
    server: ServerInfo,
    own_id: u64,
    privileges: Privileges,
    processlist: ProcesslistSql,
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
    pub fn connect(attempts: &[Opts], endpoint: &str) -> Result<Source, SourceError> {
        let mut last = SourceError::Unreachable("no connection options".to_string());
        for opts in attempts {
            match Conn::new(opts.clone()) {
                Ok(conn) => return Source::start(conn, endpoint),
                Err(e) => {
                    last = classify(&e, false);
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
        Ok(Source {
            conn,
            processlist: ProcesslistSql::for_server(&server),
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
    pub fn privileges(&self) -> &Privileges {
        &self.privileges
    }

    /// The last variables read.
    pub fn variables(&self) -> &Variables {
        &self.variables
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
        let status = match self.read_status(with_vars, with_trx) {
            Ok(s) => s,
            Err(SourceError::Server { .. }) if with_trx => {
                // No PROCESS privilege for INNODB_TRX (or no InnoDB): drop it.
                self.with_trx = false;
                statements += 1;
                self.read_status(with_vars, false)?
            }
            Err(e) => return Err(e),
        };
        statements += 1;
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
                self.processlist = ProcesslistSql::ShowFull;
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
            privileges: self.privileges.clone(),
            poll_latency: started.elapsed(),
            statements,
            endpoint: self.endpoint.clone(),
        })
    }

    fn read_status(&mut self, with_vars: bool, with_trx: bool) -> Result<StatusRows, SourceError> {
        let sql = status_sql(self.server.flavor, with_vars, with_trx);
        let rows: Vec<(Value, Value, Value)> =
            self.conn.query(sql).map_err(|e| classify(&e, true))?;
        let tagged: Vec<(String, String, &Value)> = rows
            .iter()
            .map(|(t, n, v)| {
                (
                    value_text(t).unwrap_or_default(),
                    value_text(n).unwrap_or_default(),
                    v,
                )
            })
            .collect();
        Ok(fold_status_rows(
            tagged.iter().map(|(t, n, v)| (t.as_str(), n.as_str(), *v)),
        ))
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
        assert_eq!(p("10.11.6-MariaDB"), ProcesslistSql::ShowFull);
        assert_eq!(p("8.0.21"), ProcesslistSql::ShowFull);
        assert_eq!(p("8.0.22"), ProcesslistSql::PerformanceSchema);
        assert_eq!(p("8.4.3"), ProcesslistSql::PerformanceSchema);
        assert_eq!(p("5.7.44-log"), ProcesslistSql::ShowFull);
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
    }
}
