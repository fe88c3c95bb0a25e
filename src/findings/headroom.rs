//! `headroom`: the server is (or was) close to max_connections, or refuses clients.

use std::time::Duration;

use super::Severity;
use super::fixes::MaxConnections;
use super::series::counter_rise;
use crate::history::History;
use crate::snapshot::Snapshot;
use crate::thresholds::Thresholds;

/// `max_used_connections` at this share of max_connections means the server
/// was full at some point since it started.
pub(super) const MAX_USED_FULL: f64 = 0.95;
/// Window for "refused clients are rising".
pub(super) const REJECT_WINDOW: Duration = Duration::from_secs(60);

/// Why the rule fired, most pressing first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cause {
    /// Clients were refused with 1040 within the window.
    Refused,
    /// Connected is at or over the warning share.
    Near,
    /// `Max_used_connections` reached the limit since the server started.
    WasFull,
}

/// How close the server is to its limit.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Headroom {
    pub cause: Cause,
    /// `Threads_connected` ([`crate::snapshot::Counts::connected`]).
    pub connected: u64,
    /// Client sessions running a statement ([`crate::snapshot::Counts::running`]).
    pub running: u64,
    /// max_connections (0 when unknown).
    pub max: u64,
    pub max_used: u64,
    /// connected / max.
    pub usage: f64,
    /// Refusals since the server started.
    pub refused_total: u64,
    /// Refusals within the window actually covered.
    pub refused_recent: u64,
    /// The part of [`REJECT_WINDOW`] the history covers, in ms.
    pub span_ms: u64,
    /// Connected sessions the leak rule calls leaked.
    pub leaked: usize,
    /// The raised limit and what it costs.
    pub raise: MaxConnections,
    pub severity: Severity,
}

/// The headroom of `snap`, if it is short; `leaked` is the leak rule's
/// count, `raise` the one max_connections advice.
pub(super) fn detect(
    snap: &Snapshot,
    history: &History,
    t: &Thresholds,
    leaked: usize,
    raise: MaxConnections,
) -> Option<Headroom> {
    let max = snap.variables.max_connections;
    let st = &snap.status;
    let usage = snap.usage();
    let near = max > 0 && usage >= t.warn;
    let was_full = max > 0 && st.max_used_connections as f64 >= MAX_USED_FULL * max as f64;
    let (recent, span_ms) = counter_rise(history, REJECT_WINDOW, |s| s.rejected);
    let cause = if recent > 0 {
        Cause::Refused
    } else if near {
        Cause::Near
    } else if was_full {
        Cause::WasFull
    } else {
        return None;
    };
    Some(Headroom {
        cause,
        connected: st.threads_connected,
        running: snap.counts().running,
        max,
        max_used: st.max_used_connections,
        usage,
        refused_total: st.connection_errors_max_connections,
        refused_recent: recent,
        span_ms,
        leaked,
        raise,
        severity: Severity::critical_if((max > 0 && usage >= t.crit) || recent > 0),
    })
}
