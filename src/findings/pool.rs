//! `pool`: steady, similar per-host connection pools that together fill the server.

use std::time::Duration;

use super::Severity;
use super::fixes::MaxConnections;
use super::series::{covered, window};
use super::units::median;
use crate::history::{History, Sample};
use crate::snapshot::{Snapshot, millis};
use crate::thresholds::Thresholds;

/// History the rule needs before it judges.
pub(super) const POOL_MIN_HISTORY: Duration = Duration::from_secs(10);
/// Window over which a pool must be steady.
pub(super) const POOL_WINDOW: Duration = Duration::from_secs(30);
/// Samples within the window needed to call a count steady (at any interval).
pub(super) const POOL_MIN_WINDOW_SAMPLES: usize = 3;
/// Sessions a host must hold to count as a pool.
pub(super) const POOL_MIN_SESSIONS: u32 = 5;
/// Hosts within this share of their median are "similar".
pub(super) const POOL_SIMILAR: f64 = 0.20;
/// A host whose count stays within this share over the window is "steady".
pub(super) const POOL_STEADY: f64 = 0.10;
/// The pools' sum must reach this share of max_connections.
pub(super) const POOL_FILL: f64 = 0.70;
/// Pools sized to this share of max_connections leave room for admins.
pub(super) const POOL_TARGET: f64 = 0.80;

/// Hosts whose steady, similar pools fill the server.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Pools<'a> {
    /// The pooling hosts and their sessions, most first.
    pub hosts: Vec<(&'a str, u32)>,
    /// Their sessions together.
    pub sum: u64,
    pub max: u64,
    /// The window the counts were steady over, in ms.
    pub span_ms: u64,
    /// The pool size per instance that fits [`POOL_TARGET`] of max_connections.
    pub per_instance: u64,
    /// The raised limit, the other way out.
    pub raise: MaxConnections,
    pub severity: Severity,
}

/// The pools of the last [`POOL_WINDOW`], if they fill the server. Hosts in
/// `leaking` (the leak rule's) hold leaked sessions, not a pool: left out.
/// `raise` is the one max_connections advice.
pub(super) fn detect<'a>(
    snap: &Snapshot,
    history: &'a History,
    t: &Thresholds,
    leaking: &[&str],
    raise: MaxConnections,
) -> Option<Pools<'a>> {
    let max = snap.variables.max_connections;
    if covered(history) < POOL_MIN_HISTORY || max == 0 {
        return None;
    }
    let window = window(history, POOL_WINDOW);
    if window.len() < POOL_MIN_WINDOW_SAMPLES {
        return None;
    }
    let newest = *window.last()?;
    let count_in = |s: &Sample, host: &str| -> u32 {
        s.per_host
            .iter()
            .find(|(h, _)| h == host)
            .map_or(0, |(_, n)| *n)
    };

    let steady: Vec<(&str, u32)> = newest
        .per_host
        .iter()
        .filter(|(host, n)| *n >= POOL_MIN_SESSIONS && !leaking.contains(&host.as_str()))
        .filter(|(host, n)| {
            let tol = POOL_STEADY * f64::from(*n);
            window
                .iter()
                .all(|s| (f64::from(count_in(s, host)) - f64::from(*n)).abs() <= tol)
        })
        .map(|(h, n)| (h.as_str(), *n))
        .collect();
    if steady.len() < 2 {
        return None;
    }
    let mut counts: Vec<f64> = steady.iter().map(|(_, n)| f64::from(*n)).collect();
    let med = median(&mut counts)?;
    let mut similar: Vec<(&str, u32)> = steady
        .into_iter()
        .filter(|(_, n)| (f64::from(*n) - med).abs() <= POOL_SIMILAR * med)
        .collect();
    if similar.len() < 2 {
        return None;
    }
    similar.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let sum: u64 = similar.iter().map(|(_, n)| u64::from(*n)).sum();
    if (sum as f64) < POOL_FILL * max as f64 {
        return None;
    }
    let per_instance = ((POOL_TARGET * max as f64) / similar.len() as f64)
        .floor()
        .max(1.0) as u64;
    Some(Pools {
        sum,
        max,
        span_ms: newest.at.duration_since(window[0].at).map_or(0, millis),
        per_instance,
        raise,
        hosts: similar,
        severity: Severity::critical_if(snap.usage() >= t.crit),
    })
}
