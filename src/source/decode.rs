//! Decoding of the server's rows: values, processlist rows by column name,
//! the tagged status rows, and `SHOW GRANTS`.

use std::collections::HashMap;

use mysql::Value;

use super::sql::{STATUS, VARIABLES};
use crate::snapshot::{MAX_INFO_BYTES, Privileges, Session, Status, Variables};

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
pub(crate) fn value_text_capped(v: &Value, max: usize) -> Option<String> {
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

/// True when `SHOW GRANTS` lines grant a role (`GRANT `r` TO ...`, no `ON`).
pub fn grants_roles<S: AsRef<str>>(lines: &[S]) -> bool {
    lines.iter().any(|line| {
        let upper = line.as_ref().to_ascii_uppercase();
        upper.starts_with("GRANT ") && !upper.contains(" ON ")
    })
}
