//! Alerts: a pure detector over snapshots ([`Alerts::observe`]) and a
//! runner for the user's commands ([`run_alert`], [`Runner`]).
//!
//! Three kinds of event, each at most once per [`ALERT_EVERY`]:
//!
//! - `usage`: connections cross the `--alert-at` share of `max_connections`
//!   upward (the first snapshot counts when it is already over);
//! - `refused`: `Connection_errors_max_connections` (clients refused with
//!   ERROR 1040) rose since the previous snapshot;
//! - `critical`: a critical finding starts (one that was not critical in the
//!   previous snapshot, told apart by its kind and subject).
//!
//! An event suppressed by the rate limit is dropped, not queued. The detector
//! reads no clock: the rate limit runs on the snapshots' `taken_at`.
//!
//! [`hook`] ties the two to a stream of snapshots (findings computed there)
//! for the recorder and the dashboard.

pub mod hook;
mod run;

pub use run::{DEFAULT_TIMEOUT, MAX_RUNNING, Runner, run_alert};

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use crate::findings::{Finding, FindingKind, Severity};
use crate::snapshot::Snapshot;

/// The rate limit: at most one alert of each kind this often.
pub const ALERT_EVERY: Duration = Duration::from_secs(60);

/// Longest `CONNTOP_FINDINGS`; past it, each finding keeps its kind,
/// severity and title only.
pub const MAX_FINDINGS_ENV: usize = 64 * 1024;

/// What an alert is about; its name is `CONNTOP_ALERT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertKind {
    /// Usage crossed the `--alert-at` share upward.
    Usage,
    /// Clients were refused with ERROR 1040.
    Refused,
    /// A critical finding started.
    Critical,
}

impl AlertKind {
    /// `usage`, `refused`, `critical`.
    pub fn name(self) -> &'static str {
        match self {
            AlertKind::Usage => "usage",
            AlertKind::Refused => "refused",
            AlertKind::Critical => "critical",
        }
    }

    fn index(self) -> usize {
        match self {
            AlertKind::Usage => 0,
            AlertKind::Refused => 1,
            AlertKind::Critical => 2,
        }
    }
}

/// One alert with the facts its command gets in the environment
/// ([`AlertEvent::env`]).
#[derive(Debug, Clone, PartialEq)]
pub struct AlertEvent {
    pub kind: AlertKind,
    /// The snapshot's time.
    pub at: SystemTime,
    /// The endpoint (`db1:3306`).
    pub server: String,
    /// Connected threads as a percentage of `max_connections`.
    pub usage_pct: f64,
    pub connected: u64,
    pub max: u64,
    /// `Connection_errors_max_connections` now.
    pub rejected: u64,
    /// One plain line saying what happened.
    pub message: String,
    /// The snapshot's findings as JSON (the `--once` shape), at most
    /// [`MAX_FINDINGS_ENV`] bytes.
    pub findings_json: String,
}

impl AlertEvent {
    /// The environment of the alert command: `CONNTOP_ALERT` (the kind),
    /// `CONNTOP_SERVER`, `CONNTOP_USAGE_PCT` (one decimal), `CONNTOP_CONNECTED`,
    /// `CONNTOP_MAX`, `CONNTOP_REJECTED`, `CONNTOP_MESSAGE`, `CONNTOP_FINDINGS`.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("CONNTOP_ALERT", self.kind.name().to_string()),
            ("CONNTOP_SERVER", self.server.clone()),
            ("CONNTOP_USAGE_PCT", format!("{:.1}", self.usage_pct)),
            ("CONNTOP_CONNECTED", self.connected.to_string()),
            ("CONNTOP_MAX", self.max.to_string()),
            ("CONNTOP_REJECTED", self.rejected.to_string()),
            ("CONNTOP_MESSAGE", self.message.clone()),
            ("CONNTOP_FINDINGS", self.findings_json.clone()),
        ]
    }
}

/// The detector: remembers what the previous snapshot showed and when each
/// kind last fired.
#[derive(Debug, Clone)]
pub struct Alerts {
    /// The `usage` threshold, a share of max_connections (0.8 = 80%).
    at: f64,
    every: Duration,
    /// Usage was at or over `at` in the previous snapshot.
    above: bool,
    /// Refusals and uptime in the previous snapshot.
    rejected: Option<(u64, u64)>,
    /// Critical findings (kind, subject) in the previous snapshot.
    critical: HashSet<(FindingKind, String)>,
    /// When each kind last fired.
    fired: [Option<SystemTime>; 3],
}

impl Alerts {
    /// A detector with the `usage` threshold `at` (a share: 0.8 = 80%),
    /// rate-limited to [`ALERT_EVERY`].
    pub fn new(at: f64) -> Alerts {
        Alerts {
            at,
            every: ALERT_EVERY,
            above: false,
            rejected: None,
            critical: HashSet::new(),
            fired: [None; 3],
        }
    }

    /// The same with another rate limit.
    pub fn every(mut self, every: Duration) -> Alerts {
        self.every = every;
        self
    }

    /// Looks at the next snapshot and its findings; returns the alerts to run.
    pub fn observe(&mut self, snap: &Snapshot, findings: &[Finding]) -> Vec<AlertEvent> {
        let mut kinds: Vec<(AlertKind, String)> = Vec::new();
        let max = snap.variables.max_connections;
        let usage = snap.usage();
        if max > 0 {
            let above = usage >= self.at;
            if above && !self.above {
                kinds.push((
                    AlertKind::Usage,
                    format!(
                        "connections at {:.1}% of max_connections ({}/{max}), alert at {:.1}%",
                        usage * 100.0,
                        snap.status.threads_connected,
                        self.at * 100.0
                    ),
                ));
            }
            self.above = above;
        }
        let st = &snap.status;
        let now = (st.connection_errors_max_connections, st.uptime_s);
        let rose = self
            .rejected
            .is_some_and(|(before, uptime)| now.0 > before && now.1 >= uptime);
        if let (true, Some((before, _))) = (rose, self.rejected) {
            kinds.push((
                AlertKind::Refused,
                format!(
                    "{} clients refused with ERROR 1040 (Too many connections) since the last look, {} since the server started",
                    now.0 - before,
                    now.0
                ),
            ));
        }
        self.rejected = Some(now);
        let critical: HashSet<(FindingKind, String)> = findings
            .iter()
            .filter(|f| f.severity == Severity::Critical)
            .map(|f| (f.kind, f.subject().to_string()))
            .collect();
        let started: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.severity == Severity::Critical)
            .filter(|f| !self.critical.contains(&(f.kind, f.subject().to_string())))
            .collect();
        if let Some(first) = started.first() {
            let more = if started.len() > 1 {
                format!(" (+{} more)", started.len() - 1)
            } else {
                String::new()
            };
            kinds.push((
                AlertKind::Critical,
                format!("critical {}: {}{more}", first.kind.name(), first.title),
            ));
        }
        self.critical = critical;
        kinds.retain(|(kind, _)| self.allow(*kind, snap.taken_at));
        if kinds.is_empty() {
            return Vec::new();
        }
        let findings_json = findings_json(findings);
        kinds
            .into_iter()
            .map(|(kind, message)| AlertEvent {
                kind,
                at: snap.taken_at,
                server: snap.endpoint.clone(),
                usage_pct: usage * 100.0,
                connected: st.threads_connected,
                max,
                rejected: st.connection_errors_max_connections,
                message: crate::text::plain(&message, 400),
                findings_json: findings_json.clone(),
            })
            .collect()
    }

    /// True (and noted) when `kind` may fire at `at`: it never fired, or
    /// last fired at least `every` before (or the clock went back).
    fn allow(&mut self, kind: AlertKind, at: SystemTime) -> bool {
        let last = &mut self.fired[kind.index()];
        let ok = match *last {
            None => true,
            Some(t) => at.duration_since(t).map_or(true, |d| d >= self.every),
        };
        if ok {
            *last = Some(at);
        }
        ok
    }
}

/// The findings as JSON, cut to their kind, severity and title when the
/// whole is over [`MAX_FINDINGS_ENV`].
fn findings_json(findings: &[Finding]) -> String {
    let whole = serde_json::to_string(findings).unwrap_or_else(|_| "[]".to_string());
    if whole.len() <= MAX_FINDINGS_ENV {
        return whole;
    }
    let short: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            serde_json::json!({
                "kind": f.kind,
                "severity": f.severity,
                "title": crate::text::plain(&f.title, 200),
            })
        })
        .collect();
    let text = serde_json::to_string(&short).unwrap_or_else(|_| "[]".to_string());
    if text.len() <= MAX_FINDINGS_ENV {
        text
    } else {
        "[]".to_string()
    }
}

#[cfg(test)]
mod tests;
