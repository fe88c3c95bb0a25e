//! Thresholds shared by the gauge colours, the kill keys and the findings.

use std::time::Duration;

/// Where "idle", "long-running" and "full" begin. Set by flags.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// A `Sleep` session idle this long counts as leaked (`--idle-over`, default 5m).
    pub idle_over: Duration,
    /// A statement running this long counts as long-running (`--query-over`, default 60s).
    pub query_over: Duration,
    /// Gauge share at which the gauge turns yellow (`--warn`, default 80%).
    pub warn: f64,
    /// Gauge share at which the gauge turns red (`--crit`, default 95%).
    pub crit: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            idle_over: Duration::from_secs(300),
            query_over: Duration::from_secs(60),
            warn: 0.80,
            crit: 0.95,
        }
    }
}
