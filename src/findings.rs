//! Diagnosis: pure rules over a snapshot, its history and the variables that
//! name the cause of connection exhaustion and its fix.

use serde::Serialize;

use crate::history::History;
use crate::snapshot::Snapshot;
use crate::thresholds::Thresholds;

/// How bad a finding is; findings are listed most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

/// The cause a finding names. The serialised names are a stable interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    Leak,
    Headroom,
    LongRunning,
    Pool,
    Spike,
    Timeouts,
}

/// One step of a fix: what to do, the SQL to copy, and the conntop key that does it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FixStep {
    /// Plain-language action ("Kill the idle sessions now").
    pub text: String,
    /// SQL (or a my.cnf line) to copy, undecorated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
    /// The conntop key that performs it, e.g. `I`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// A diagnosed cause with its evidence and fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub kind: FindingKind,
    pub severity: Severity,
    /// One line for the findings strip.
    pub title: String,
    /// Numbers and names that support the title.
    pub evidence: Vec<String>,
    pub fix: Vec<FixStep>,
}

/// Runs every rule; most severe first.
pub fn diagnose(_snap: &Snapshot, _history: &History, _t: &Thresholds) -> Vec<Finding> {
    Vec::new()
}
