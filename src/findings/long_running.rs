//! `long_running`: statements, or transactions of idle sessions, open past
//! the query threshold.

use super::Severity;
use super::fixes::StatementTimeout;
use crate::snapshot::{Activity, Flavor, Session, Snapshot, millis};
use crate::thresholds::Thresholds;

/// Long-running sessions holding this share of max_connections are critical.
pub(super) const LONG_CRIT_SHARE: f64 = 0.25;

/// What runs (or stays open) too long.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct LongRunning<'a> {
    /// The query threshold.
    pub threshold_ms: u64,
    /// Sessions running a statement past the threshold, longest first.
    pub statements: Vec<&'a Session>,
    /// Idle sessions whose transaction is open past the threshold, oldest first.
    pub idle_trx: Vec<&'a Session>,
    /// max_connections (0 when unknown).
    pub max: u64,
    /// The server's statement timeout, if it has one (0 = none set).
    pub statement_timeout_ms: Option<u64>,
    /// The server can close idle transactions itself (MariaDB 10.3+).
    pub has_idle_trx_timeout: bool,
    /// A statement timeout to set: statements run long and the server has
    /// none or a laxer one.
    pub advised_timeout: Option<StatementTimeout>,
    pub severity: Severity,
}

/// The long-running sessions of `snap`, if any.
pub(super) fn detect<'a>(snap: &'a Snapshot, t: &Thresholds) -> Option<LongRunning<'a>> {
    let threshold_ms = millis(t.query_over);
    let max = snap.variables.max_connections;
    let clients = || snap.sessions.iter().filter(|s| s.holds_slot());

    let mut statements: Vec<&Session> = clients()
        .filter(|s| s.activity() == Activity::Running && s.time_ms >= threshold_ms)
        .collect();
    statements.sort_by(|a, b| b.time_ms.cmp(&a.time_ms).then(a.id.cmp(&b.id)));
    let mut idle_trx: Vec<&Session> = clients()
        .filter(|s| s.is_sleeping() && s.trx_age_ms.is_some_and(|age| age >= threshold_ms))
        .collect();
    idle_trx.sort_by(|a, b| b.trx_age_ms.cmp(&a.trx_age_ms).then(a.id.cmp(&b.id)));
    if statements.is_empty() && idle_trx.is_empty() {
        return None;
    }

    let advice = StatementTimeout::for_threshold(snap.server.flavor, t);
    let lax = match snap.variables.statement_timeout_ms {
        Some(0) => true,
        Some(ms) => ms > advice.secs.saturating_mul(1000),
        None => false,
    };
    let held = statements.len() + idle_trx.len();
    Some(LongRunning {
        threshold_ms,
        advised_timeout: (!statements.is_empty() && lax).then_some(advice),
        statements,
        idle_trx,
        max,
        statement_timeout_ms: snap.variables.statement_timeout_ms,
        has_idle_trx_timeout: snap.server.flavor == Flavor::MariaDb
            && snap.server.at_least(10, 3, 0),
        severity: Severity::critical_if(max > 0 && held as f64 >= LONG_CRIT_SHARE * max as f64),
    })
}
