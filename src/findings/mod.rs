//! Diagnosis: pure rules over a snapshot, its history and the variables that
//! name the cause of connection exhaustion and its fix.
//!
//! One file per rule; each detects and returns typed evidence (numbers,
//! sessions, hosts). [`wording`] turns that evidence into the text a person
//! reads, [`fixes`] holds the fix steps several rules share. Every rule is a
//! pure function: no I/O, no clock, no panics on any input (empty snapshots,
//! `max_connections = 0`, counters that go backwards after a restart or
//! `FLUSH STATUS`). The history handed to [`diagnose`] ends with the sample of
//! the snapshot being diagnosed; history needs and windows are durations, so
//! the rules mean the same at any poll interval.

mod fixes;
mod headroom;
mod leak;
mod long_running;
mod pool;
mod series;
mod spike;
mod steady;
mod timeouts;
mod units;
mod wording;

#[cfg(test)]
mod tests;

use serde::{Serialize, Serializer};

use crate::action::Action;
use crate::history::History;
use crate::snapshot::Snapshot;
use crate::thresholds::Thresholds;
use fixes::{MaxConnections, WaitTimeout};
pub use steady::{STEADY_HOLD, Steady};

/// How bad a finding is; findings are listed most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; nothing is failing.
    Info,
    /// Heading for trouble; act soon.
    Warning,
    /// Clients are (about to be) refused; act now.
    Critical,
}

impl Severity {
    /// The stable name (as in the JSON): `info`, `warning`, `critical`.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }

    /// `Critical` when `critical`, else `Warning`.
    fn critical_if(critical: bool) -> Severity {
        if critical {
            Severity::Critical
        } else {
            Severity::Warning
        }
    }
}

/// The cause a finding names. The serialised names are a stable interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// An account leaves many sessions idle past the idle threshold.
    Leak,
    /// The server is (or was) close to max_connections, or refuses clients.
    Headroom,
    /// Statements (or idle transactions) running past the query threshold.
    LongRunning,
    /// Steady, similar per-host pools that together fill the server.
    Pool,
    /// Connection rate, connected threads or failed handshakes jump.
    Spike,
    /// Lax wait/interactive timeouts, no statement timeout, no slow log.
    Timeouts,
}

impl FindingKind {
    /// The stable name (as in the JSON): `leak`, `long_running`, ...
    pub fn name(self) -> &'static str {
        match self {
            FindingKind::Leak => "leak",
            FindingKind::Headroom => "headroom",
            FindingKind::LongRunning => "long_running",
            FindingKind::Pool => "pool",
            FindingKind::Spike => "spike",
            FindingKind::Timeouts => "timeouts",
        }
    }

    /// Position in the findings list among findings of equal severity.
    fn rank(self) -> u8 {
        match self {
            FindingKind::Leak => 0,
            FindingKind::Headroom => 1,
            FindingKind::LongRunning => 2,
            FindingKind::Pool => 3,
            FindingKind::Spike => 4,
            FindingKind::Timeouts => 5,
        }
    }
}

/// One step of a fix: what to do, the SQL or my.cnf lines to copy, and the
/// action (a conntop key) that does it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FixStep {
    /// Plain-language action ("Kill the idle sessions now").
    pub text: String,
    /// One SQL statement to copy, undecorated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
    /// my.cnf lines to copy: a `[mysqld]` block, one per finding; not SQL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    /// What performs it in conntop; serialised as its key (`"key": "I"`).
    #[serde(
        rename = "key",
        skip_serializing_if = "Option::is_none",
        serialize_with = "action_key"
    )]
    pub action: Option<Action>,
}

impl FixStep {
    /// The key that performs the step, as the keymap writes it (`I`).
    pub fn key(&self) -> Option<&'static str> {
        self.action.and_then(crate::app::keymap::key_label)
    }
}

/// Serialises an action as the key the keymap binds to it.
fn action_key<S: Serializer>(action: &Option<Action>, s: S) -> Result<S::Ok, S::Error> {
    match action.and_then(crate::app::keymap::key_label) {
        Some(key) => s.serialize_some(key),
        None => s.serialize_none(),
    }
}

/// A diagnosed cause with its evidence and fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The cause named.
    pub kind: FindingKind,
    /// How urgent it is.
    pub severity: Severity,
    /// One line for the findings strip.
    pub title: String,
    /// Numbers and names that support the title.
    pub evidence: Vec<String>,
    /// What to do, in order.
    pub fix: Vec<FixStep>,
    /// What the finding is about, stable from one snapshot to the next: the
    /// account of a leak, empty for the kinds found once per server.
    #[serde(skip)]
    subject: String,
}

impl Finding {
    /// What the finding is about, stable from one snapshot to the next (the
    /// account of a leak; empty for the kinds found once per server).
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// A finding with no evidence or fix, for tests elsewhere in the crate.
    #[cfg(test)]
    pub(crate) fn new_for_test(
        kind: FindingKind,
        severity: Severity,
        title: &str,
        subject: &str,
    ) -> Finding {
        Finding {
            kind,
            severity,
            title: title.to_string(),
            evidence: Vec::new(),
            fix: Vec::new(),
            subject: subject.to_string(),
        }
    }
}

/// Runs every rule; most severe first, then in the order leak, headroom,
/// long_running, pool, spike, timeouts. `history` must end with the sample
/// of `snap`; rules that need history stay silent without enough of it.
pub fn diagnose(snap: &Snapshot, history: &History, t: &Thresholds) -> Vec<Finding> {
    let leaks = leak::detect(snap, t);
    let leaked: usize = leaks.iter().map(|l| l.stale).sum();
    let leak_hosts: Vec<&str> = leaks
        .iter()
        .flat_map(|l| l.hosts.iter().map(|(h, _)| *h))
        .collect();
    // One advice each, shared by every rule that gives it.
    let wait = WaitTimeout::advise(snap, t, &leaks);
    let raise = MaxConnections::for_snapshot(snap);

    let mut out: Vec<Finding> = leaks.iter().map(|l| wording::leak(l, &wait)).collect();
    out.extend(headroom::detect(snap, history, t, leaked, raise).map(|h| wording::headroom(&h)));
    out.extend(long_running::detect(snap, t).map(|l| wording::long_running(&l)));
    out.extend(pool::detect(snap, history, t, &leak_hosts, raise).map(|p| wording::pool(&p)));
    out.extend(spike::detect(snap, history, t).map(|s| wording::spike(&s)));
    out.extend(timeouts::detect(snap, t, &wait, !leaks.is_empty()).map(|x| wording::timeouts(&x)));
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.kind.rank().cmp(&b.kind.rank()))
    });
    out
}
