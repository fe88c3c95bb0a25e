//! `spike`: connections, their rate or failed handshakes far above the
//! recent baseline.

use std::time::Duration;

use super::Severity;
use super::series::covered;
use super::units::median;
use crate::history::{History, Sample, rate};
use crate::snapshot::{Snapshot, millis};
use crate::thresholds::Thresholds;

/// History the rule needs before it judges.
pub(super) const SPIKE_MIN_HISTORY: Duration = Duration::from_secs(20);
/// History before the recent window needed as a baseline.
pub(super) const SPIKE_MIN_BASELINE: Duration = Duration::from_secs(10);
/// The "now" of the spike rule: the last few seconds.
pub(super) const SPIKE_RECENT: Duration = Duration::from_secs(5);
/// Current over baseline ratio that makes a spike.
pub(super) const SPIKE_FACTOR: f64 = 3.0;
/// New connections per second below which nothing is a spike.
pub(super) const SPIKE_MIN_RATE: f64 = 20.0;
/// Threads_connected growth below which nothing is a spike.
pub(super) const SPIKE_MIN_THREADS: u64 = 20;
/// Aborted connects per second below which nothing is a spike.
pub(super) const SPIKE_MIN_ABORTED: f64 = 5.0;

/// Which measure jumped (the first that did, in this order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Trigger {
    Rate,
    Threads,
    Aborted,
}

/// A measure now and at its baseline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct NowVsBase {
    pub now: f64,
    pub base: f64,
}

/// A jump above the baseline.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Spike<'a> {
    pub trigger: Trigger,
    /// New connections per second.
    pub rate: Option<NowVsBase>,
    /// Threads connected.
    pub threads: Option<NowVsBase>,
    /// Aborted connects per second.
    pub aborted: Option<NowVsBase>,
    /// The recent window actually covered, in ms.
    pub recent_ms: u64,
    /// The baseline's span, in ms.
    pub baseline_ms: u64,
    /// The host that grew most over the recent window, and by how many sessions.
    pub grower: Option<(&'a str, u32)>,
    pub severity: Severity,
}

/// The spike at the end of `history`, if there is one.
pub(super) fn detect<'a>(
    snap: &Snapshot,
    history: &'a History,
    t: &Thresholds,
) -> Option<Spike<'a>> {
    let samples = history.samples();
    if covered(history) < SPIKE_MIN_HISTORY {
        return None;
    }
    let newest = samples.back()?;
    // Baseline: samples older than SPIKE_RECENT; the rest is "now".
    let split = samples
        .iter()
        .position(|s| {
            newest
                .at
                .duration_since(s.at)
                .map_or(true, |age| age < SPIKE_RECENT)
        })
        .unwrap_or(samples.len());
    if split == 0 || split >= samples.len() {
        return None;
    }
    let base = &samples[split - 1];
    let baseline: Vec<&Sample> = samples.range(..split).collect();
    let baseline_span = base.at.duration_since(baseline[0].at).unwrap_or_default();
    if baseline_span < SPIKE_MIN_BASELINE {
        return None;
    }

    let baseline_rate = |counter: fn(&Sample) -> u64| -> Option<f64> {
        let mut rates: Vec<f64> = baseline
            .windows(2)
            .filter_map(|w| rate(w[0], w[1], counter))
            .collect();
        median(&mut rates)
    };
    let metric = |counter: fn(&Sample) -> u64| -> Option<NowVsBase> {
        Some(NowVsBase {
            now: rate(base, newest, counter)?,
            base: baseline_rate(counter)?,
        })
    };
    let conns = metric(|s| s.connections);
    let aborted = metric(|s| s.aborted_connects);
    let mut threads_base: Vec<f64> = baseline
        .iter()
        .map(|s| s.threads_connected as f64)
        .collect();
    let threads = median(&mut threads_base).map(|b| NowVsBase {
        now: newest.threads_connected as f64,
        base: b,
    });

    let jumped = |m: &NowVsBase| m.now >= SPIKE_FACTOR * m.base;
    let trigger = if conns.is_some_and(|m| jumped(&m) && m.now >= SPIKE_MIN_RATE) {
        Trigger::Rate
    } else if threads.is_some_and(|m| jumped(&m) && m.now - m.base >= SPIKE_MIN_THREADS as f64) {
        Trigger::Threads
    } else if aborted.is_some_and(|m| jumped(&m) && m.now >= SPIKE_MIN_ABORTED) {
        Trigger::Aborted
    } else {
        return None;
    };

    // The host that grew most since the baseline ended.
    let grower = newest
        .per_host
        .iter()
        .map(|(h, n)| {
            let before = base
                .per_host
                .iter()
                .find(|(bh, _)| bh == h)
                .map_or(0, |(_, bn)| *bn);
            (h.as_str(), n.saturating_sub(before))
        })
        .filter(|(_, g)| *g > 0)
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)));

    Some(Spike {
        trigger,
        rate: conns,
        threads,
        aborted,
        recent_ms: newest.at.duration_since(base.at).map_or(0, millis),
        baseline_ms: newest.at.duration_since(baseline[0].at).map_or(0, millis),
        grower,
        severity: Severity::critical_if(snap.usage() >= t.crit),
    })
}
