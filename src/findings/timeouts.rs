//! `timeouts`: lax wait/interactive timeouts, no statement timeout, no slow log.

use super::Severity;
use super::fixes::StatementTimeout;
use crate::snapshot::Snapshot;
use crate::thresholds::Thresholds;

/// `wait_timeout` / `interactive_timeout` above this are lax (seconds).
pub(super) const TIMEOUT_MAX_S: u64 = 600;

/// The server's lax settings and what to set instead.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Timeouts {
    /// wait_timeout, when lax.
    pub wait: Option<u64>,
    /// interactive_timeout, when lax.
    pub interactive: Option<u64>,
    /// No statement timeout is set.
    pub no_statement_timeout: bool,
    /// The slow query log is off.
    pub slow_log_off: bool,
    /// The wait/interactive timeout to set, in seconds.
    pub advised_wait: u64,
    /// The statement timeout to set.
    pub statement_timeout: StatementTimeout,
    pub severity: Severity,
}

/// The lax settings of `snap`, if any. `leak_wait` is the leak rule's
/// advised wait_timeout when it found a leak (which makes this a warning).
pub(super) fn detect(snap: &Snapshot, t: &Thresholds, leak_wait: Option<u64>) -> Option<Timeouts> {
    let v = &snap.variables;
    let found = Timeouts {
        wait: (v.wait_timeout > TIMEOUT_MAX_S).then_some(v.wait_timeout),
        interactive: (v.interactive_timeout > TIMEOUT_MAX_S).then_some(v.interactive_timeout),
        no_statement_timeout: v.statement_timeout_ms == Some(0),
        slow_log_off: v.slow_query_log == Some(false),
        advised_wait: leak_wait.unwrap_or(TIMEOUT_MAX_S),
        statement_timeout: StatementTimeout::for_threshold(snap.server.flavor, t),
        severity: if leak_wait.is_some() {
            Severity::Warning
        } else {
            Severity::Info
        },
    };
    let any = found.wait.is_some()
        || found.interactive.is_some()
        || found.no_statement_timeout
        || found.slow_log_off;
    any.then_some(found)
}
