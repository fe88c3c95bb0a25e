//! `timeouts`: lax wait/interactive timeouts, no statement timeout, no slow log.

use super::Severity;
use super::fixes::{StatementTimeout, WaitTimeout};
use crate::snapshot::Snapshot;
use crate::thresholds::Thresholds;

/// `wait_timeout` / `interactive_timeout` above this (and above the advice)
/// are lax (seconds).
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
    /// The wait/interactive timeouts to set.
    pub advice: WaitTimeout,
    /// The statement timeout to set.
    pub statement_timeout: StatementTimeout,
    pub severity: Severity,
}

/// The lax settings of `snap`, if any; `advice` is the one wait_timeout
/// advice, `leaking` whether the leak rule found a leak (a warning then).
pub(super) fn detect(
    snap: &Snapshot,
    t: &Thresholds,
    advice: &WaitTimeout,
    leaking: bool,
) -> Option<Timeouts> {
    let v = &snap.variables;
    let lax = |value: u64, advised: u64| value > TIMEOUT_MAX_S.max(advised);
    let found = Timeouts {
        wait: lax(v.wait_timeout, advice.secs).then_some(v.wait_timeout),
        interactive: lax(v.interactive_timeout, advice.interactive_secs)
            .then_some(v.interactive_timeout),
        no_statement_timeout: v.statement_timeout_ms == Some(0),
        slow_log_off: v.slow_query_log == Some(false),
        advice: *advice,
        statement_timeout: StatementTimeout::for_threshold(snap.server.flavor, t),
        severity: if leaking {
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
