//! `spike`: within seconds, sessions or new connections rise well above the
//! recent baseline, or connects start failing.
//!
//! The recent window (the last [`SPIKE_RECENT`]) is compared with the
//! baseline before it (up to [`SPIKE_BASELINE`]): the baseline's 90th
//! percentile of connected threads, so a past spike in it does not hide the
//! next, and its average counter rates. A steady ramp (a slow leak) is not a
//! spike: the baseline's own growth is allowed for.

use std::time::Duration;

use super::Severity;
use super::units::{quantile, slope_per_s};
use crate::history::{History, Sample};
use crate::snapshot::{Snapshot, millis};
use crate::thresholds::Thresholds;

/// The "now" of the spike rule: the last few seconds.
pub(super) const SPIKE_RECENT: Duration = Duration::from_secs(5);
/// The baseline: at most this much history before the recent window...
pub(super) const SPIKE_BASELINE: Duration = Duration::from_secs(60);
/// ...and at least this much, or the rule stays silent.
pub(super) const SPIKE_MIN_BASELINE: Duration = Duration::from_secs(10);
/// The baseline level of connected threads: this quantile of the baseline.
pub(super) const SPIKE_LEVEL_QUANTILE: f64 = 0.9;
/// A counter spikes when its rise is this many times what the baseline
/// rate predicts...
pub(super) const SPIKE_FACTOR: f64 = 3.0;
/// ...and exceeds the prediction by at least this many (sessions or new
/// connections), or [`SPIKE_MIN_SHARE`] of max_connections if more.
pub(super) const SPIKE_MIN_RISE: u64 = 10;
/// See [`SPIKE_MIN_RISE`].
pub(super) const SPIKE_MIN_SHARE: f64 = 0.05;
/// Failed connects (aborted or refused) over the prediction that make a spike.
pub(super) const SPIKE_MIN_FAILED: u64 = 5;

/// Which measure jumped (the first that did, in this order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Trigger {
    Threads,
    NewConnections,
    Failed,
}

/// Connected threads in the recent window against the baseline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Threads {
    /// The most connected in the recent window.
    pub peak: u64,
    /// Connected just before the window.
    pub before: u64,
    /// The baseline level ([`SPIKE_LEVEL_QUANTILE`]).
    pub level: f64,
    /// The baseline's own growth over a window's length (a ramp), >= 0.
    pub trend: f64,
}

/// A counter's rise in the recent window against its baseline rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Counter {
    pub rise: u64,
    /// Average per-second rate over the baseline.
    pub base_rate: f64,
}

/// A jump above the baseline.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Spike<'a> {
    pub trigger: Trigger,
    pub threads: Threads,
    /// New connection attempts (`Connections`).
    pub new: Option<Counter>,
    /// Failed connects: `Aborted_connects` plus 1040 refusals.
    pub failed: Option<Counter>,
    /// Of the failed rise, refused with 1040.
    pub refused: u64,
    /// The recent window actually covered, in ms.
    pub recent_ms: u64,
    /// The baseline's span, in ms.
    pub baseline_ms: u64,
    /// The host that grew most up to the peak, and by how many sessions.
    pub grower: Option<(&'a str, u32)>,
    pub severity: Severity,
}

/// Sum of a counter's positive steps over `samples` (a restart or
/// `FLUSH STATUS` never counts).
fn rise(samples: &[&Sample], counter: fn(&Sample) -> u64) -> u64 {
    samples
        .windows(2)
        .filter(|w| w[1].at >= w[0].at && w[1].uptime_s >= w[0].uptime_s)
        .fold(0u64, |sum, w| {
            sum.saturating_add(counter(w[1]).saturating_sub(counter(w[0])))
        })
}

/// Average per-second rate of a counter over `samples` (spanning `secs`);
/// `None` when they span no time. An average, not a median: a counter that
/// moves by one every few polls has a median rate of 0.
fn base_rate(samples: &[&Sample], secs: f64, counter: fn(&Sample) -> u64) -> Option<f64> {
    (secs > 0.0).then(|| rise(samples, counter) as f64 / secs)
}

/// True when `rise` over `secs` beats what `base_rate` predicts by the factor
/// and by `floor`.
fn jumped(c: &Counter, secs: f64, floor: f64) -> bool {
    let expected = c.base_rate * secs;
    let rise = c.rise as f64;
    rise >= SPIKE_FACTOR * expected && rise - expected >= floor
}

/// The spike at the end of `history`, if there is one.
pub(super) fn detect<'a>(
    snap: &Snapshot,
    history: &'a History,
    t: &Thresholds,
) -> Option<Spike<'a>> {
    let samples = history.samples();
    let newest = samples.back()?;
    let age = |s: &Sample| newest.at.duration_since(s.at).ok();
    // The last sample at least SPIKE_RECENT old starts the recent window.
    let base_i = samples
        .iter()
        .rposition(|s| age(s).is_some_and(|a| a >= SPIKE_RECENT))?;
    if base_i + 1 >= samples.len() {
        return None;
    }
    let base = &samples[base_i];
    let mut start = base_i;
    while start > 0 {
        let older = &samples[start - 1];
        match base.at.duration_since(older.at) {
            Ok(a) if a <= SPIKE_BASELINE && older.at <= samples[start].at => start -= 1,
            _ => break,
        }
    }
    let baseline: Vec<&Sample> = samples.range(start..=base_i).collect();
    let baseline_span = base.at.duration_since(baseline[0].at).unwrap_or_default();
    if baseline_span < SPIKE_MIN_BASELINE {
        return None;
    }
    let recent: Vec<&Sample> = samples.range(base_i..).collect();
    let recent_span = newest.at.duration_since(base.at).ok()?;
    let recent_s = recent_span.as_secs_f64();

    let max = snap.variables.max_connections;
    let floor = (SPIKE_MIN_RISE as f64).max(SPIKE_MIN_SHARE * max as f64);

    // Connected threads: the peak against the baseline level and the ramp.
    let peak_sample = recent[1..].iter().copied().max_by(|a, b| {
        a.threads_connected
            .cmp(&b.threads_connected)
            .then(b.at.cmp(&a.at))
    })?;
    let mut levels: Vec<f64> = baseline
        .iter()
        .map(|s| s.threads_connected as f64)
        .collect();
    let level = quantile(&mut levels, SPIKE_LEVEL_QUANTILE)?;
    let points: Vec<(f64, f64)> = baseline
        .iter()
        .filter_map(|s| {
            let at = s.at.duration_since(baseline[0].at).ok()?.as_secs_f64();
            Some((at, s.threads_connected as f64))
        })
        .collect();
    let threads = Threads {
        peak: peak_sample.threads_connected,
        before: base.threads_connected,
        level,
        trend: slope_per_s(&points).max(0.0) * recent_s,
    };
    let growth = threads.peak as f64 - level.max(threads.before as f64) - threads.trend;

    let counter = |c: fn(&Sample) -> u64| {
        Some(Counter {
            rise: rise(&recent, c),
            base_rate: base_rate(&baseline, baseline_span.as_secs_f64(), c)?,
        })
    };
    let failed_of = |s: &Sample| s.aborted_connects.saturating_add(s.rejected);
    let new = counter(|s| s.connections);
    let failed = counter(failed_of);

    let trigger = if growth >= floor {
        Trigger::Threads
    } else if new.is_some_and(|c| jumped(&c, recent_s, floor)) {
        Trigger::NewConnections
    } else if failed.is_some_and(|c| jumped(&c, recent_s, SPIKE_MIN_FAILED as f64)) {
        Trigger::Failed
    } else {
        return None;
    };

    // The host that grew most up to the peak.
    let grower = peak_sample
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

    let refused = rise(&recent, |s| s.rejected);
    let full = max > 0 && threads.peak as f64 >= t.crit * max as f64;
    Some(Spike {
        trigger,
        threads,
        new,
        failed,
        refused,
        recent_ms: millis(recent_span),
        baseline_ms: millis(baseline_span),
        grower,
        severity: Severity::critical_if(full || refused > 0 || snap.usage() >= t.crit),
    })
}
