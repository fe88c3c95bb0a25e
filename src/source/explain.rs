//! The plan of the statement a session runs now: `SHOW EXPLAIN FOR id` on
//! MariaDB (10.0+), `EXPLAIN FOR CONNECTION id` on MySQL (5.7+). One
//! statement, on demand, on conntop's one connection. The rows are read by
//! column name (MySQL adds `partitions` and `filtered`).

use mysql::Value;
use mysql::prelude::Queryable;

use super::Source;
use super::decode::{value_text, value_u64};
use super::error::{SourceError, classify};
use crate::explain::{Explained, PlanRow};
use crate::snapshot::{Flavor, ServerInfo};

/// The statement that asks for session `id`'s plan. Ids are integers:
/// nothing is quoted.
pub fn explain_sql(server: &ServerInfo, id: u64) -> String {
    match server.flavor {
        Flavor::MariaDb => format!("SHOW EXPLAIN FOR {id}"),
        Flavor::MySql => format!("EXPLAIN FOR CONNECTION {id}"),
    }
}

/// Positions of the plan's columns, found by name.
#[derive(Debug, Clone, Copy, Default)]
struct Layout {
    id: Option<usize>,
    select_type: Option<usize>,
    table: Option<usize>,
    access: Option<usize>,
    possible_keys: Option<usize>,
    key: Option<usize>,
    rows: Option<usize>,
    extra: Option<usize>,
}

impl Layout {
    fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Layout {
        let mut l = Layout::default();
        for (i, name) in names.into_iter().enumerate() {
            let slot = match name.to_ascii_lowercase().as_str() {
                "id" => &mut l.id,
                "select_type" => &mut l.select_type,
                "table" => &mut l.table,
                "type" => &mut l.access,
                "possible_keys" => &mut l.possible_keys,
                "key" => &mut l.key,
                "rows" => &mut l.rows,
                "extra" => &mut l.extra,
                _ => continue,
            };
            *slot = Some(i);
        }
        l
    }

    fn decode(&self, row: &[Value]) -> PlanRow {
        let get = |i: Option<usize>| i.and_then(|i| row.get(i));
        let text = |i| get(i).and_then(value_text);
        PlanRow {
            id: get(self.id).and_then(value_u64),
            select_type: text(self.select_type).unwrap_or_default(),
            table: text(self.table).unwrap_or_default(),
            access: text(self.access).unwrap_or_default(),
            possible_keys: text(self.possible_keys),
            key: text(self.key),
            rows: get(self.rows).and_then(value_u64),
            extra: text(self.extra).unwrap_or_default(),
        }
    }
}

/// Decodes the plan's rows (`names` are the result's column names); an
/// empty result is MySQL's answer for a session that runs nothing.
pub fn decode_plan<'a>(names: impl IntoIterator<Item = &'a str>, rows: &[Vec<Value>]) -> Explained {
    if rows.is_empty() {
        return Explained::NoPlan("it runs no statement now".to_string());
    }
    let layout = Layout::from_names(names);
    Explained::Plan(rows.iter().map(|r| layout.decode(r)).collect())
}

/// The plain answer for a server error that means "no plan here".
pub fn no_plan(code: u16, message: &str) -> Option<String> {
    match code {
        // MariaDB: idle, finished, or a statement without a plan.
        1933 => Some("it runs no statement with a query plan now (idle, or finished)".to_string()),
        // Unknown thread id.
        1094 => Some("the session is gone".to_string()),
        // MySQL: EXPLAIN FOR CONNECTION only explains SELECT, UPDATE,
        // INSERT, DELETE and REPLACE.
        _ if message.contains("supported only for") => Some(format!(
            "only SELECT, UPDATE, INSERT, DELETE and REPLACE can be explained: {}",
            crate::text::plain(message, 120)
        )),
        _ => None,
    }
}

impl Source {
    /// The plan session `id` runs its statement with, or why there is none.
    /// A lost connection is an error; the server's other refusals are one
    /// line in `Explained::NoPlan`.
    pub fn explain(&mut self, id: u64) -> Result<Explained, SourceError> {
        let sql = explain_sql(&self.server, id);
        let result = self.conn.query_iter(sql);
        let mut result = match result {
            Ok(r) => r,
            Err(e) => return server_no_plan(classify(&e, true)),
        };
        let names: Vec<String> = result
            .columns()
            .as_ref()
            .iter()
            .map(|c| c.name_str().into_owned())
            .collect();
        let mut rows = Vec::new();
        for row in result.by_ref() {
            match row {
                Ok(row) => rows.push(row.unwrap()),
                Err(e) => return server_no_plan(classify(&e, true)),
            }
        }
        Ok(decode_plan(names.iter().map(String::as_str), &rows))
    }
}

/// A server error as a plain answer; anything else stays an error.
fn server_no_plan(e: SourceError) -> Result<Explained, SourceError> {
    match e {
        SourceError::Server { code, message } => Ok(Explained::NoPlan(
            no_plan(code, &message).unwrap_or_else(|| {
                format!(
                    "the server cannot explain it: ERROR {code}: {}",
                    crate::text::plain(&message, 120)
                )
            }),
        )),
        other => Err(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Value {
        Value::Bytes(s.as_bytes().to_vec())
    }

    #[test]
    fn statement_per_flavor() {
        let maria = ServerInfo::from_version("10.11.6-MariaDB");
        let mysql = ServerInfo::from_version("8.0.36");
        assert_eq!(explain_sql(&maria, 12), "SHOW EXPLAIN FOR 12");
        assert_eq!(explain_sql(&mysql, 12), "EXPLAIN FOR CONNECTION 12");
    }

    /// Recorded: MariaDB 10.11 `SHOW EXPLAIN FOR` of a SELECT over a scan.
    #[test]
    fn decodes_a_mariadb_plan() {
        let names = [
            "id",
            "select_type",
            "table",
            "type",
            "possible_keys",
            "key",
            "key_len",
            "ref",
            "rows",
            "Extra",
        ];
        let rows = vec![vec![
            b("1"),
            b("SIMPLE"),
            b("big"),
            b("ALL"),
            Value::NULL,
            Value::NULL,
            Value::NULL,
            Value::NULL,
            b("4001"),
            b("Using where"),
        ]];
        let Explained::Plan(plan) = decode_plan(names, &rows) else {
            panic!("a plan");
        };
        assert_eq!(plan[0].table, "big");
        assert_eq!(plan[0].access, "ALL");
        assert_eq!(plan[0].rows, Some(4001));
        assert_eq!(plan[0].key, None);
        assert_eq!(
            crate::explain::worst(&plan).as_deref(),
            Some("full table scan on big (4001 rows)")
        );
    }

    /// Recorded shape of MySQL 8 `EXPLAIN FOR CONNECTION` (partitions and
    /// filtered added), and its empty answer for an idle session.
    #[test]
    fn decodes_a_mysql8_plan_and_an_idle_session() {
        let names = [
            "id",
            "select_type",
            "table",
            "partitions",
            "type",
            "possible_keys",
            "key",
            "key_len",
            "ref",
            "rows",
            "filtered",
            "Extra",
        ];
        let rows = vec![vec![
            Value::Int(1),
            b("SIMPLE"),
            b("orders"),
            Value::NULL,
            b("index"),
            Value::NULL,
            b("created"),
            b("5"),
            Value::NULL,
            Value::Int(120_000),
            b("100.00"),
            b("Using index; Using temporary; Using filesort"),
        ]];
        let Explained::Plan(plan) = decode_plan(names, &rows) else {
            panic!("a plan");
        };
        assert_eq!(plan[0].key.as_deref(), Some("created"));
        assert_eq!(plan[0].rows, Some(120_000));
        assert!(matches!(decode_plan(names, &[]), Explained::NoPlan(_)));
    }

    #[test]
    fn refusals_are_one_plain_line() {
        assert!(
            no_plan(
                1933,
                "Target is not executing an operation with a query plan"
            )
            .is_some_and(|m| m.contains("idle"))
        );
        assert_eq!(
            no_plan(1094, "Unknown thread id: 9").as_deref(),
            Some("the session is gone")
        );
        let mysql = "EXPLAIN FOR CONNECTION command is supported only for SELECT/UPDATE/INSERT/DELETE/REPLACE";
        assert!(no_plan(3012, mysql).is_some_and(|m| !m.contains('\n')));
        assert_eq!(no_plan(1045, "denied"), None);
        let e = SourceError::Server {
            code: 1227,
            message: "Access denied; you need (at least one of) the PROCESS privilege".into(),
        };
        assert!(
            matches!(server_no_plan(e), Ok(Explained::NoPlan(m)) if m.starts_with("the server cannot explain it: ERROR 1227"))
        );
        assert!(server_no_plan(SourceError::Lost("gone".into())).is_err());
    }
}
