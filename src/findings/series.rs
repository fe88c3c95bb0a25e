//! Reading the history: windows by time, counter rises across restarts.

use std::time::Duration;

use crate::history::{History, Sample};
use crate::snapshot::millis;

/// Time the history covers: from its oldest to its newest sample (zero when
/// the clock went backwards in between).
pub(super) fn covered(history: &History) -> Duration {
    let samples = history.samples();
    match (samples.front(), samples.back()) {
        (Some(oldest), Some(newest)) => newest.at.duration_since(oldest.at).unwrap_or_default(),
        _ => Duration::ZERO,
    }
}

/// The samples of the last `span`, oldest first, walking back from the newest
/// while time goes forward.
pub(super) fn window(history: &History, span: Duration) -> Vec<&Sample> {
    let samples = history.samples();
    let Some(newest) = samples.back() else {
        return Vec::new();
    };
    let mut start = samples.len() - 1;
    while start > 0 {
        let older = &samples[start - 1];
        match newest.at.duration_since(older.at) {
            Ok(age) if age <= span && older.at <= samples[start].at => start -= 1,
            _ => break,
        }
    }
    samples.range(start..).collect()
}

/// How much a counter rose over the last `span` of the current server run
/// (positive steps only, so a reset by a restart or `FLUSH STATUS` never
/// counts), and the span actually covered, in ms.
pub(super) fn counter_rise(
    history: &History,
    span: Duration,
    counter: fn(&Sample) -> u64,
) -> (u64, u64) {
    let samples = history.samples();
    let Some(newest) = samples.back() else {
        return (0, 0);
    };
    let span_ms = millis(span);
    let mut rise = 0u64;
    let mut covered = 0u64;
    for i in (1..samples.len()).rev() {
        let (older, newer) = (&samples[i - 1], &samples[i]);
        let Ok(age) = newest.at.duration_since(older.at) else {
            break;
        };
        if newer.at < older.at || millis(age) > span_ms || newer.uptime_s < older.uptime_s {
            break;
        }
        rise = rise.saturating_add(counter(newer).saturating_sub(counter(older)));
        covered = millis(age);
    }
    (rise, covered)
}
