//! The statements conntop sends, per server flavor: the processlist, the
//! status/variables/transactions statement (or its SHOW fallback), KILL.

use crate::command::{KillMethod, KillMode};
use crate::snapshot::{Privileges, ServerInfo, Status, Variables};

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

/// The kill re-check's read of every session on MariaDB:
/// `information_schema.PROCESSLIST`, for its `TIME_MS` column (the
/// processlist's time to the microsecond; `TIME` is its whole seconds,
/// rounded down). Statement text cut as `SHOW PROCESSLIST` cuts it, at 100
/// bytes, so a statement re-read compares equal to the one on screen (for
/// clients whose character set is UTF-8; for others the two cuts may differ,
/// and the target is skipped as changed). Costs the server 5-6 ms at 2,000
/// sessions, once per re-check of up to 50 targets.
pub const EXACT_PROCESSLIST_SQL: &str = "SELECT ID, USER, HOST, DB, COMMAND, TIME, TIME_MS, STATE, \
     LEFT(CAST(INFO AS BINARY), 100) AS INFO FROM information_schema.PROCESSLIST";

/// Stores one status counter.
pub(crate) type SetStatus = fn(&mut Status, u64);

/// Stores one variable from its value as a number and as text.
pub(crate) type SetVariable = fn(&mut Variables, u64, &str);

/// Status counters read every tick, each with where its value goes: the
/// statement's name list and the decoder are both built from this table.
pub(crate) const STATUS: [(&str, SetStatus); 8] = [
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
pub(crate) const VARIABLES: [(&str, SetVariable); 18] = [
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
pub(crate) fn quoted_names<T>(table: &[(&str, T)]) -> String {
    table
        .iter()
        .map(|(n, _)| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The first statement of a tick: status rows tagged `S`, variable rows `V`
/// (when `with_variables`), open-transaction ages in seconds `T` and the
/// transactions waiting for a row lock `W` (when `with_trx`). All columns
/// are cast to binary so the union never trips on mixed collations between
/// schemas. Reads the global status table, which MariaDB answers by summing
/// every connection's counters (see [`session_status_sql`] for the cheap
/// form).
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
    union_sql(
        status_table,
        &quoted_names(&STATUS),
        variables_table,
        with_variables,
        with_trx,
    )
}

/// MariaDB's cheap first statement: [`status_sql`] over
/// `information_schema.SESSION_STATUS`. The counters conntop reads are
/// server-wide, so the session scope shows their global values without the
/// sum over every connection that the global scope computes first; all but
/// `Threads_running`, which that sum counts (its session value is 1: us).
/// [`SUMMED_STATUS`] leaves it out; the caller counts it from the
/// processlist.
pub fn session_status_sql(with_variables: bool, with_trx: bool) -> String {
    let names = STATUS
        .iter()
        .filter(|(n, _)| !SUMMED_STATUS.contains(n))
        .map(|(n, _)| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(",");
    union_sql(
        "information_schema.SESSION_STATUS",
        &names,
        "information_schema.GLOBAL_VARIABLES",
        with_variables,
        with_trx,
    )
}

/// Counters MariaDB computes only by summing every connection (left out of
/// [`session_status_sql`]).
pub const SUMMED_STATUS: [&str; 1] = ["Threads_running"];

fn union_sql(
    status_table: &str,
    status_names: &str,
    variables_table: &str,
    with_variables: bool,
    with_trx: bool,
) -> String {
    let mut sql = format!(
        "SELECT 'S', CAST(VARIABLE_NAME AS BINARY), CAST(VARIABLE_VALUE AS BINARY) \
         FROM {status_table} WHERE VARIABLE_NAME IN ({status_names})"
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
             FROM information_schema.INNODB_TRX \
             UNION ALL SELECT 'W', CAST(trx_mysql_thread_id AS BINARY), CAST(trx_id AS BINARY) \
             FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT'",
        );
    }
    sql
}

/// Where status counters and variables come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusSql {
    /// One `UNION ALL` over the global status and variables tables
    /// ([`status_sql`]).
    Tables,
    /// MariaDB with the PROCESS privilege: the same `UNION ALL` over the
    /// session status ([`session_status_sql`]), `Threads_running` counted from
    /// the processlist, which then lists every thread.
    Session,
    /// MySQL with `performance_schema = OFF`: its `global_status` and
    /// `global_variables` tables fail, and `information_schema` has none since
    /// 8.0, so `SHOW GLOBAL STATUS` / `SHOW GLOBAL VARIABLES` (and a separate
    /// read of `INNODB_TRX`) take their place: one statement each
    /// ([`show_status_sql`]).
    Show,
}

impl StatusSql {
    /// The cheapest source that reads right: session status on MariaDB when
    /// the processlist shows every thread (PROCESS), else the global tables.
    pub fn for_server(server: &ServerInfo, privileges: &Privileges) -> StatusSql {
        match server.flavor {
            crate::snapshot::Flavor::MariaDb if privileges.process => StatusSql::Session,
            _ => StatusSql::Tables,
        }
    }
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
