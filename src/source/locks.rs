//! The lock statements and their decoding: who waits for which lock, read
//! only while somebody waits.
//!
//! In steady state a tick still sends two statements. The first one already
//! tells which InnoDB transactions are in `LOCK WAIT` (the `W` rows of
//! [`super::status_sql`]) and the processlist which sessions wait for a
//! metadata, table, flush or global lock (their state). Only then does the
//! tick add one statement, a tagged `UNION ALL` of what this server has:
//!
//! - `R`: InnoDB row lock waits (waiter, holder, table): MariaDB and MySQL
//!   5.7 `information_schema.INNODB_LOCK_WAITS` with `INNODB_TRX` and
//!   `INNODB_LOCKS`; MySQL 8 `performance_schema.data_lock_waits` with
//!   `data_locks`, thread ids mapped to processlist ids through
//!   `performance_schema.threads`. Sent when a transaction is in `LOCK WAIT`.
//! - `M`: `performance_schema.metadata_locks` (granted and pending), on the
//!   contested objects only; when the performance schema is on (MySQL 8 by
//!   default; MariaDB needs `performance_schema=ON` and the
//!   `wait/lock/metadata/sql/mdl` instrument, else the table is empty and the
//!   inference takes over).
//! - `P`: MariaDB's `information_schema.METADATA_LOCK_INFO`, where the
//!   `metadata_lock_info` plugin is installed (conntop never installs it).
//!
//! Which of these exist is read once at connect ([`PROBE_SQL`]). A part the
//! server refuses (no privilege) is dropped for the rest of the connection.

use mysql::prelude::Queryable;
use mysql::{Conn, Value};

use super::decode::{value_text, value_u64};
use super::error::{SourceError, classify};
use crate::locks::{
    self, Graph, LockFacts, MdlLock, MdlSource, Namespace, RowWait, Sightings, WaitKind,
};
use crate::snapshot::{Flavor, ServerInfo, Session};

/// What the server offers for lock data, read once at connect: the
/// performance schema's state and whether the `METADATA_LOCK_INFO` plugin
/// is active. One row, two numbers.
pub const PROBE_SQL: &str = "SELECT @@performance_schema, \
     (SELECT COUNT(*) FROM information_schema.PLUGINS \
      WHERE PLUGIN_NAME = 'METADATA_LOCK_INFO' AND PLUGIN_STATUS = 'ACTIVE')";

/// Lock sources a server has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LockCaps {
    /// `@@performance_schema` is on.
    pub performance_schema: bool,
    /// MariaDB's `METADATA_LOCK_INFO` plugin is active.
    pub mdl_plugin: bool,
}

impl LockCaps {
    /// Decodes the row of [`PROBE_SQL`].
    pub fn from_row(performance_schema: &Value, plugin: &Value) -> LockCaps {
        LockCaps {
            performance_schema: value_u64(performance_schema).unwrap_or(0) > 0,
            mdl_plugin: value_u64(plugin).unwrap_or(0) > 0,
        }
    }

    /// Runs [`PROBE_SQL`]; a server that refuses it offers nothing.
    pub fn probe(conn: &mut Conn) -> LockCaps {
        match conn.query_first::<(Value, Value), _>(PROBE_SQL) {
            Ok(Some((ps, plugin))) => LockCaps::from_row(&ps, &plugin),
            _ => LockCaps::default(),
        }
    }
}

/// Row lock waits, per flavor: (waiter, holder, table) as processlist ids.
fn row_waits_sql(server: &ServerInfo) -> Option<&'static str> {
    match server.flavor {
        Flavor::MySql if server.at_least(8, 0, 1) => Some(
            "SELECT 'R', CAST(rt.PROCESSLIST_ID AS BINARY), CAST(bt.PROCESSLIST_ID AS BINARY), \
             CAST(CONCAT(l.OBJECT_SCHEMA, '.', l.OBJECT_NAME) AS BINARY), \
             CAST(NULL AS BINARY), CAST(NULL AS BINARY) \
             FROM performance_schema.data_lock_waits w \
             JOIN performance_schema.threads rt ON rt.THREAD_ID = w.REQUESTING_THREAD_ID \
             JOIN performance_schema.threads bt ON bt.THREAD_ID = w.BLOCKING_THREAD_ID \
             LEFT JOIN performance_schema.data_locks l ON l.ENGINE = w.ENGINE \
             AND l.ENGINE_LOCK_ID = w.REQUESTING_ENGINE_LOCK_ID",
        ),
        _ => Some(
            "SELECT 'R', CAST(r.trx_mysql_thread_id AS BINARY), \
             CAST(b.trx_mysql_thread_id AS BINARY), CAST(l.lock_table AS BINARY), \
             CAST(NULL AS BINARY), CAST(NULL AS BINARY) \
             FROM information_schema.INNODB_LOCK_WAITS w \
             JOIN information_schema.INNODB_TRX r ON r.trx_id = w.requesting_trx_id \
             JOIN information_schema.INNODB_TRX b ON b.trx_id = w.blocking_trx_id \
             LEFT JOIN information_schema.INNODB_LOCKS l ON l.lock_id = w.requested_lock_id",
        ),
    }
}

/// The table row lock waits come from, for the reasons given.
fn row_waits_table(server: &ServerInfo) -> &'static str {
    match server.flavor {
        Flavor::MySql if server.at_least(8, 0, 1) => "performance_schema.data_lock_waits",
        _ => "information_schema.INNODB_LOCK_WAITS",
    }
}

/// `performance_schema.metadata_locks` on the objects somebody waits for.
const PS_MDL_SQL: &str = "SELECT 'M', CAST(t.PROCESSLIST_ID AS BINARY), \
     CAST(m.OBJECT_TYPE AS BINARY), \
     CAST(CONCAT_WS('.', m.OBJECT_SCHEMA, m.OBJECT_NAME) AS BINARY), \
     CAST(m.LOCK_TYPE AS BINARY), CAST(m.LOCK_STATUS AS BINARY) \
     FROM performance_schema.metadata_locks m \
     JOIN performance_schema.threads t ON t.THREAD_ID = m.OWNER_THREAD_ID \
     WHERE EXISTS (SELECT 1 FROM performance_schema.metadata_locks p \
     WHERE p.LOCK_STATUS = 'PENDING' AND p.OBJECT_TYPE = m.OBJECT_TYPE \
     AND p.OBJECT_SCHEMA <=> m.OBJECT_SCHEMA AND p.OBJECT_NAME <=> m.OBJECT_NAME)";

/// MariaDB's `METADATA_LOCK_INFO` plugin: granted locks only.
const PLUGIN_MDL_SQL: &str = "SELECT 'P', CAST(THREAD_ID AS BINARY), CAST(LOCK_TYPE AS BINARY), \
     CAST(CONCAT_WS('.', TABLE_SCHEMA, TABLE_NAME) AS BINARY), CAST(LOCK_MODE AS BINARY), \
     CAST('GRANTED' AS BINARY) FROM information_schema.METADATA_LOCK_INFO";

/// The parts of one tick's lock statement.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LockQuery {
    pub rows: bool,
    pub mdl: MdlSource,
}

impl LockQuery {
    /// The statement, `None` when there is nothing to read.
    pub fn sql(self, server: &ServerInfo) -> Option<String> {
        let mut parts: Vec<&str> = Vec::new();
        if self.rows {
            parts.extend(row_waits_sql(server));
        }
        match self.mdl {
            MdlSource::PerformanceSchema => parts.push(PS_MDL_SQL),
            MdlSource::Plugin => parts.push(PLUGIN_MDL_SQL),
            MdlSource::None => {}
        }
        (!parts.is_empty()).then(|| parts.join(" UNION ALL "))
    }
}

/// Folds the tagged rows of a lock statement into facts.
pub fn decode_lock_rows(rows: &[[Value; 6]], facts: &mut LockFacts) {
    for row in rows {
        let text = |i: usize| value_text(&row[i]).filter(|t| !t.is_empty());
        let id = |i: usize| value_u64(&row[i]);
        match text(0).as_deref() {
            Some("R") => {
                let (Some(waiter), Some(holder)) = (id(1), id(2)) else {
                    continue;
                };
                facts.rows.push(RowWait {
                    waiter,
                    holder,
                    object: text(3).map(|o| locks::qualify(&o, None)),
                });
            }
            Some(tag @ ("M" | "P")) => {
                let Some(session) = id(1) else { continue };
                let status = text(5).unwrap_or_default();
                facts.mdl.push(MdlLock {
                    session,
                    namespace: Namespace::parse(&text(2).unwrap_or_default()),
                    object: text(3),
                    mode: text(4)
                        .unwrap_or_default()
                        .trim_start_matches("MDL_")
                        .to_string(),
                    granted: tag == "P" || status.eq_ignore_ascii_case("GRANTED"),
                });
            }
            _ => {}
        }
    }
}

/// The lock part of the source: what the server offers, the transactions in
/// `LOCK WAIT` at the last read of `INNODB_TRX`, and the locks seen taken.
#[derive(Debug, Clone)]
pub struct LockReader {
    server: ServerInfo,
    caps: LockCaps,
    /// Parts dropped after the server refused them.
    rows_ok: bool,
    mdl_ok: bool,
    lock_wait: Vec<u64>,
    sightings: Sightings,
}

impl LockReader {
    /// A reader for `server` with what it offers.
    pub fn new(server: &ServerInfo, caps: LockCaps) -> LockReader {
        LockReader {
            server: server.clone(),
            caps,
            rows_ok: true,
            mdl_ok: true,
            lock_wait: Vec::new(),
            sightings: Sightings::default(),
        }
    }

    /// The transactions in `LOCK WAIT` as `INNODB_TRX` just said.
    pub fn set_lock_wait(&mut self, ids: Vec<u64>) {
        self.lock_wait = ids;
    }

    /// What this tick must read, from the processlist's states and the
    /// transactions in `LOCK WAIT`.
    pub fn query(&self, sessions: &[Session]) -> LockQuery {
        let rows = self.rows_ok
            && !self.lock_wait.is_empty()
            && (self.server.flavor == Flavor::MariaDb
                || !self.server.at_least(8, 0, 1)
                || self.caps.performance_schema);
        let mdl_wait = sessions.iter().any(|s| {
            matches!(
                locks::infer::state_wait(&s.state),
                Some(WaitKind::Metadata | WaitKind::GlobalRead | WaitKind::Backup)
            )
        });
        let mdl = if !mdl_wait || !self.mdl_ok {
            MdlSource::None
        } else if self.caps.performance_schema {
            MdlSource::PerformanceSchema
        } else if self.caps.mdl_plugin {
            MdlSource::Plugin
        } else {
            MdlSource::None
        };
        LockQuery { rows, mdl }
    }

    /// One tick's lock work: follows the sightings, reads the lock tables
    /// when somebody waits (one statement, counted in `statements`), puts
    /// the waits on `sessions` and returns the graph. A part the server
    /// refuses is dropped; a lost connection is an error.
    pub fn tick(
        &mut self,
        conn: &mut Conn,
        sessions: &mut [Session],
        statements: &mut u32,
    ) -> Result<Graph, SourceError> {
        self.sightings.update(sessions);
        let mut facts = LockFacts {
            lock_wait: self.lock_wait.clone(),
            ..LockFacts::default()
        };
        let query = self.query(sessions);
        if let Some(sql) = query.sql(&self.server) {
            *statements += 1;
            match conn.query::<(Value, Value, Value, Value, Value, Value), _>(sql) {
                Ok(rows) => {
                    let rows: Vec<[Value; 6]> = rows
                        .into_iter()
                        .map(|(a, b, c, d, e, f)| [a, b, c, d, e, f])
                        .collect();
                    decode_lock_rows(&rows, &mut facts);
                    if query.rows {
                        facts.rows_from = Some(row_waits_table(&self.server));
                    }
                    facts.mdl_source = query.mdl;
                }
                Err(e) => match classify(&e, true) {
                    SourceError::Server { .. } => {
                        if query.mdl != MdlSource::None {
                            self.mdl_ok = false;
                        } else {
                            self.rows_ok = false;
                        }
                    }
                    other => return Err(other),
                },
            }
        }
        locks::apply(sessions, &facts, &self.sightings);
        Ok(Graph::build(sessions))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Value {
        Value::Bytes(s.as_bytes().to_vec())
    }

    fn row(cols: [Option<&str>; 6]) -> [Value; 6] {
        cols.map(|c| c.map_or(Value::NULL, b))
    }

    fn mariadb() -> ServerInfo {
        ServerInfo::from_version("10.11.6-MariaDB")
    }

    fn mysql8() -> ServerInfo {
        ServerInfo::from_version("8.0.36")
    }

    fn waiting(id: u64, state: &str) -> Session {
        Session {
            id,
            command: "Query".into(),
            state: state.into(),
            ..Session::default()
        }
    }

    #[test]
    fn probe_row_and_statement_parts_per_server() {
        let caps = LockCaps::from_row(&b("1"), &Value::Int(0));
        assert!(caps.performance_schema && !caps.mdl_plugin);
        let caps = LockCaps::from_row(&Value::Int(0), &b("1"));
        assert!(!caps.performance_schema && caps.mdl_plugin);

        let maria = LockQuery {
            rows: true,
            mdl: MdlSource::Plugin,
        }
        .sql(&mariadb())
        .expect("two parts");
        assert!(maria.contains("information_schema.INNODB_LOCK_WAITS"));
        assert!(maria.contains("information_schema.METADATA_LOCK_INFO"));
        assert_eq!(maria.matches(" UNION ALL ").count(), 1);
        let my = LockQuery {
            rows: true,
            mdl: MdlSource::PerformanceSchema,
        }
        .sql(&mysql8())
        .expect("two parts");
        assert!(my.contains("performance_schema.data_lock_waits"));
        assert!(my.contains("performance_schema.threads"));
        assert!(my.contains("performance_schema.metadata_locks"));
        assert!(!my.contains("INNODB_LOCK_WAITS"));
        assert_eq!(LockQuery::default().sql(&mariadb()), None);
    }

    #[test]
    fn a_statement_only_when_somebody_waits() {
        let idle = vec![Session::default()];
        let mut r = LockReader::new(&mariadb(), LockCaps::default());
        assert_eq!(r.query(&idle), LockQuery::default());
        // MariaDB without the performance schema or the plugin: metadata
        // waits are inferred, nothing to read for them.
        let mdl = vec![waiting(1, "Waiting for table metadata lock")];
        assert_eq!(r.query(&mdl).sql(&mariadb()), None);
        r.set_lock_wait(vec![7]);
        assert_eq!(
            r.query(&idle),
            LockQuery {
                rows: true,
                mdl: MdlSource::None
            }
        );
        let ps = LockReader::new(
            &mysql8(),
            LockCaps {
                performance_schema: true,
                mdl_plugin: false,
            },
        );
        assert_eq!(ps.query(&mdl).mdl, MdlSource::PerformanceSchema);
        let backup = vec![waiting(1, "Waiting for backup lock")];
        assert_eq!(ps.query(&backup).mdl, MdlSource::PerformanceSchema);
        let table = vec![waiting(1, "Waiting for table level lock")];
        assert_eq!(ps.query(&table).mdl, MdlSource::None);
        // MySQL 8 with the performance schema off: no row wait table.
        let mut off = LockReader::new(&mysql8(), LockCaps::default());
        off.set_lock_wait(vec![7]);
        assert!(!off.query(&idle).rows);
    }

    /// Recorded from MariaDB 10.11: two UPDATEs of row 5 behind an idle
    /// transaction (47); 49 also waits for 48, queued ahead of it.
    #[test]
    fn decodes_mariadb_row_lock_waits() {
        let rows = [
            row([
                Some("R"),
                Some("49"),
                Some("48"),
                Some("`appdb`.`t`"),
                None,
                None,
            ]),
            row([
                Some("R"),
                Some("49"),
                Some("47"),
                Some("`appdb`.`t`"),
                None,
                None,
            ]),
            row([
                Some("R"),
                Some("48"),
                Some("47"),
                Some("`appdb`.`t`"),
                None,
                None,
            ]),
            row([Some("R"), None, Some("47"), None, None, None]),
        ];
        let mut facts = LockFacts::default();
        decode_lock_rows(&rows, &mut facts);
        assert_eq!(facts.rows.len(), 3);
        assert_eq!(facts.rows[0].object.as_deref(), Some("appdb.t"));
        assert_eq!((facts.rows[2].waiter, facts.rows[2].holder), (48, 47));
    }

    /// Recorded from MySQL 8.0 `performance_schema.metadata_locks` (joined to
    /// threads): an idle transaction (8) read t, an ALTER (9) waits, a SELECT
    /// (10) queues; and FTWRL (11) holding the global read lock with a
    /// writer (12) waiting.
    #[test]
    fn decodes_mysql8_metadata_locks() {
        let rows = [
            row([
                Some("M"),
                Some("8"),
                Some("TABLE"),
                Some("shop.t"),
                Some("SHARED_READ"),
                Some("GRANTED"),
            ]),
            row([
                Some("M"),
                Some("9"),
                Some("TABLE"),
                Some("shop.t"),
                Some("SHARED_UPGRADABLE"),
                Some("GRANTED"),
            ]),
            row([
                Some("M"),
                Some("9"),
                Some("TABLE"),
                Some("shop.t"),
                Some("EXCLUSIVE"),
                Some("PENDING"),
            ]),
            row([
                Some("M"),
                Some("10"),
                Some("TABLE"),
                Some("shop.t"),
                Some("SHARED_READ"),
                Some("PENDING"),
            ]),
            row([
                Some("M"),
                Some("11"),
                Some("GLOBAL"),
                Some(""),
                Some("SHARED"),
                Some("GRANTED"),
            ]),
            row([
                Some("M"),
                Some("12"),
                Some("GLOBAL"),
                Some(""),
                Some("INTENTION_EXCLUSIVE"),
                Some("PENDING"),
            ]),
        ];
        let mut facts = LockFacts::default();
        decode_lock_rows(&rows, &mut facts);
        assert_eq!(facts.mdl.len(), 6);
        assert_eq!(facts.mdl[4].object, None);
        assert_eq!(facts.mdl[4].namespace, Namespace::Global);
        assert!(!facts.mdl[2].granted);
        facts.mdl_source = MdlSource::PerformanceSchema;
        let mut sessions: Vec<Session> = vec![
            Session {
                id: 8,
                command: "Sleep".into(),
                trx_age_ms: Some(300_000),
                ..Session::default()
            },
            Session {
                info: Some("ALTER TABLE t ADD c INT".into()),
                db: Some("shop".into()),
                ..waiting(9, "Waiting for table metadata lock")
            },
            Session {
                info: Some("SELECT * FROM t".into()),
                db: Some("shop".into()),
                ..waiting(10, "Waiting for table metadata lock")
            },
            Session {
                command: "Sleep".into(),
                ..Session::default()
            },
            Session {
                id: 12,
                info: Some("INSERT INTO t VALUES (1)".into()),
                ..waiting(12, "Waiting for global read lock")
            },
        ];
        sessions[3].id = 11;
        locks::apply(&mut sessions, &facts, &Sightings::default());
        assert_eq!(sessions[1].blocked_by, vec![8]);
        assert_eq!(sessions[2].blocked_by, vec![9]);
        assert_eq!(sessions[4].blocked_by, vec![11]);
        let w = sessions[4].wait.as_ref().expect("waits");
        assert_eq!(w.kind, WaitKind::GlobalRead);
        assert!(w.certain);
        assert!(sessions[1].wait.as_ref().is_some_and(|w| w.certain
            && w.object.as_deref() == Some("shop.t")
            && w.why.contains("performance_schema.metadata_locks")));
        let g = Graph::build(&sessions);
        let roots: Vec<u64> = g.roots.iter().map(|r| r.id).collect();
        assert_eq!(roots, vec![8, 11]);
    }

    /// Recorded shape of MySQL 8 `data_lock_waits` joined to threads: the
    /// thread ids are already processlist ids; the table comes joined.
    #[test]
    fn decodes_mysql8_row_lock_waits() {
        let rows = [row([
            Some("R"),
            Some("21"),
            Some("20"),
            Some("shop.orders"),
            None,
            None,
        ])];
        let mut facts = LockFacts {
            lock_wait: vec![21],
            rows_from: Some(row_waits_table(&mysql8())),
            ..LockFacts::default()
        };
        decode_lock_rows(&rows, &mut facts);
        let mut sessions = vec![
            Session {
                id: 20,
                command: "Sleep".into(),
                trx_age_ms: Some(60_000),
                ..Session::default()
            },
            Session {
                id: 21,
                command: "Query".into(),
                state: "executing".into(),
                info: Some("UPDATE orders SET n = 1 WHERE id = 5".into()),
                ..Session::default()
            },
        ];
        locks::apply(&mut sessions, &facts, &Sightings::default());
        assert_eq!(sessions[1].blocked_by, vec![20]);
        let w = sessions[1].wait.as_ref().expect("waits");
        assert_eq!((w.kind, w.certain), (WaitKind::Row, true));
        assert!(
            w.why.starts_with("performance_schema.data_lock_waits"),
            "{}",
            w.why
        );
    }

    /// The plugin's rows (granted only): the holder is certain.
    #[test]
    fn decodes_the_metadata_lock_info_plugin() {
        let rows = [
            row([
                Some("P"),
                Some("5"),
                Some("Table metadata lock"),
                Some("appdb.t"),
                Some("MDL_SHARED_NO_READ_WRITE"),
                Some("GRANTED"),
            ]),
            row([
                Some("P"),
                Some("5"),
                Some("Backup lock"),
                Some(""),
                Some("MDL_BACKUP_DDL"),
                Some("GRANTED"),
            ]),
        ];
        let mut facts = LockFacts::default();
        decode_lock_rows(&rows, &mut facts);
        assert_eq!(facts.mdl[0].mode, "SHARED_NO_READ_WRITE");
        assert!(facts.mdl.iter().all(|l| l.granted));
        facts.mdl_source = MdlSource::Plugin;
        let mut sessions = vec![
            Session {
                id: 5,
                command: "Sleep".into(),
                ..Session::default()
            },
            Session {
                info: Some("SELECT * FROM appdb.t".into()),
                ..waiting(6, "Waiting for table metadata lock")
            },
        ];
        locks::apply(&mut sessions, &facts, &Sightings::default());
        assert_eq!(sessions[1].blocked_by, vec![5]);
        assert!(sessions[1].wait.as_ref().is_some_and(|w| w.certain));
    }
}
