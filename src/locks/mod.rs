//! Who waits for whom: the wait-for graph of one snapshot.
//!
//! A lock pile-up fills a server in seconds: one session holds a lock, every
//! later query waits behind it, the application's pools open more connections
//! to keep up. This module names the session to kill. Everything here is pure
//! (no SQL, no clock, no terminal):
//!
//! - [`statement`] reads what a statement does to locks and which table it
//!   names, from the processlist's text;
//! - [`facts`] holds what the server's lock tables said (InnoDB row lock
//!   waits, metadata locks), flavor-neutral, and which metadata lock modes
//!   conflict;
//! - [`sightings`] remembers, from one snapshot to the next, the sessions seen
//!   taking a lock that outlives the statement (`LOCK TABLES`, `FLUSH TABLES
//!   WITH READ LOCK`, `BACKUP STAGE`);
//! - [`infer`] puts a [`Wait`] and its holders (`blocked_by`) on every waiting
//!   session: from the lock tables when the server has them (certain), else
//!   from the processlist and the open transactions (inferred, and why);
//! - [`graph`] follows the edges to the root blockers, the sessions that wait
//!   for nobody, with how many wait on each, directly and in total.
//!
//! The source (`source/locks.rs`) reads the facts; the poller thread runs the
//! inference and builds the [`Graph`] once per snapshot, so the UI only reads.

pub mod facts;
pub mod graph;
pub mod infer;
pub mod sightings;
pub mod statement;

use serde::Serialize;

pub use facts::{LockFacts, MdlLock, MdlSource, Namespace, RowWait};
pub use graph::{Graph, Held, Root, TreeRow, TreeRowKind};
pub use infer::apply;
pub use sightings::Sightings;

/// What a session waits for. The serialised names are a stable interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitKind {
    /// A table's metadata lock (`Waiting for table metadata lock`): DDL,
    /// `LOCK TABLES`, and every statement queued behind them.
    Metadata,
    /// An InnoDB row lock (`INNODB_TRX.trx_state = 'LOCK WAIT'`).
    Row,
    /// A table-level lock (`Waiting for table level lock`: `LOCK TABLES`,
    /// MyISAM and Aria writes).
    Table,
    /// Old versions of a table to close (`Waiting for table flush`): a
    /// `FLUSH TABLES` (or MySQL's `FLUSH TABLES WITH READ LOCK`) behind a
    /// long statement, and statements queued behind the flush.
    Flush,
    /// The global read lock (`Waiting for global read lock` / `commit lock`):
    /// `FLUSH TABLES WITH READ LOCK` on MySQL.
    GlobalRead,
    /// MariaDB's backup lock (`Waiting for backup lock`): `FLUSH TABLES WITH
    /// READ LOCK` and `BACKUP STAGE` on MariaDB 10.4+.
    Backup,
}

impl WaitKind {
    /// The stable name, as in the JSON: `metadata`, `row`, ...
    pub fn name(self) -> &'static str {
        match self {
            WaitKind::Metadata => "metadata",
            WaitKind::Row => "row",
            WaitKind::Table => "table",
            WaitKind::Flush => "flush",
            WaitKind::GlobalRead => "global_read",
            WaitKind::Backup => "backup",
        }
    }

    /// What a holder of this kind of lock holds, in words, with the object:
    /// `metadata lock on appdb.t`, `row locks in appdb.t`, `global read lock`.
    pub fn held(self, object: Option<&str>) -> String {
        let on = |what: &str, prep: &str| match object {
            Some(o) => format!("{what} {prep} {o}"),
            None => what.to_string(),
        };
        match self {
            WaitKind::Metadata => on("metadata lock", "on"),
            WaitKind::Row => on("row locks", "in"),
            WaitKind::Table => on("table lock", "on"),
            WaitKind::Flush => match object {
                Some(o) => format!("{o} in use (a flush waits for it)"),
                None => "tables in use (a flush waits for them)".to_string(),
            },
            WaitKind::GlobalRead => "global read lock".to_string(),
            WaitKind::Backup => "backup lock".to_string(),
        }
    }
}

/// The lock a waiting session waits for (the `wait` of a session in the
/// JSON). Its holders are the session's `blocked_by`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Wait {
    pub kind: WaitKind,
    /// `db.table` when known.
    pub object: Option<String>,
    /// True when the holders come from the server's lock tables; false when
    /// they are inferred from the processlist and the open transactions.
    pub certain: bool,
    /// Why these holders, in one line (`INNODB_LOCK_WAITS`, or the reasoning
    /// of the inference).
    pub why: String,
}

/// The `db.table` of a table named `name` (maybe `db.table` already,
/// maybe quoted with backticks) by a session whose default database is `db`.
pub fn qualify(name: &str, db: Option<&str>) -> String {
    let plain: String = name.chars().filter(|c| *c != '`').collect();
    match (plain.contains('.'), db) {
        (false, Some(db)) if !db.is_empty() => format!("{db}.{plain}"),
        _ => plain,
    }
}

/// True when two objects name the same table: case-insensitively, and an
/// object without a schema matches that table in any schema.
pub fn same_object(a: &str, b: &str) -> bool {
    if a.eq_ignore_ascii_case(b) {
        return true;
    }
    let table = |s: &str| s.rsplit('.').next().unwrap_or(s).to_string();
    match (a.contains('.'), b.contains('.')) {
        (true, true) => false,
        _ => table(a).eq_ignore_ascii_case(&table(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_are_qualified_and_compared() {
        assert_eq!(qualify("t", Some("appdb")), "appdb.t");
        assert_eq!(qualify("`appdb`.`t`", Some("other")), "appdb.t");
        assert_eq!(qualify("t", None), "t");
        assert_eq!(qualify("t", Some("")), "t");
        assert!(same_object("appdb.t", "APPDB.T"));
        assert!(same_object("t", "appdb.t"));
        assert!(!same_object("a.t", "b.t"));
        assert!(!same_object("appdb.t", "appdb.u"));
    }

    #[test]
    fn kinds_name_what_is_held() {
        assert_eq!(
            WaitKind::Metadata.held(Some("appdb.t")),
            "metadata lock on appdb.t"
        );
        assert_eq!(WaitKind::Row.held(Some("appdb.t")), "row locks in appdb.t");
        assert_eq!(WaitKind::GlobalRead.held(Some("x")), "global read lock");
        assert_eq!(WaitKind::Table.held(None), "table lock");
        assert_eq!(
            serde_json::to_string(&WaitKind::GlobalRead).unwrap(),
            "\"global_read\""
        );
    }
}
