//! A bounded ring of per-poll samples: the history chart and the findings'
//! baselines both read it.

use std::collections::VecDeque;
use std::time::SystemTime;

use crate::snapshot::Snapshot;

/// How many samples are kept (10 minutes at the default 1 s interval).
pub const HISTORY_LEN: usize = 600;

/// Hosts kept per sample for the pool rule, the busiest first.
pub const HOSTS_PER_SAMPLE: usize = 64;

/// The numbers of one snapshot worth remembering.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub at: SystemTime,
    pub uptime_s: u64,
    /// `Threads_connected` ([`crate::snapshot::Counts::connected`]).
    pub threads_connected: u64,
    /// `Threads_running` as the server counts it (conntop's own statement
    /// and, on MariaDB, system threads included); not drawn.
    pub threads_running: u64,
    pub max_connections: u64,
    /// Counters (monotonic while the server stays up).
    pub connections: u64,
    pub aborted_connects: u64,
    pub rejected: u64,
    /// Client sessions (those holding a slot) per client host (port
    /// stripped), busiest first, at most [`HOSTS_PER_SAMPLE`].
    pub per_host: Vec<(String, u32)>,
}

impl Sample {
    /// Condenses a snapshot.
    pub fn from_snapshot(s: &Snapshot) -> Sample {
        let mut counts: foldhash::HashMap<&str, u32> = foldhash::HashMapExt::new();
        for session in s.sessions.iter().filter(|x| x.holds_slot()) {
            *counts.entry(session.client_host()).or_default() += 1;
        }
        let mut per_host: Vec<(String, u32)> = counts
            .into_iter()
            .map(|(h, n)| (h.to_string(), n))
            .collect();
        per_host.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        per_host.truncate(HOSTS_PER_SAMPLE);
        Sample {
            at: s.taken_at,
            uptime_s: s.status.uptime_s,
            threads_connected: s.status.threads_connected,
            threads_running: s.status.threads_running,
            max_connections: s.variables.max_connections,
            connections: s.status.connections,
            aborted_connects: s.status.aborted_connects,
            rejected: s.status.connection_errors_max_connections,
            per_host,
        }
    }
}

/// Per-second rate of a counter between two samples; `None` when the time
/// did not advance or the server restarted (counter went down).
pub fn rate(older: &Sample, newer: &Sample, counter: fn(&Sample) -> u64) -> Option<f64> {
    let dt = newer.at.duration_since(older.at).ok()?.as_secs_f64();
    let (a, b) = (counter(older), counter(newer));
    if dt <= 0.0 || b < a || newer.uptime_s < older.uptime_s {
        return None;
    }
    Some((b - a) as f64 / dt)
}

/// The last [`HISTORY_LEN`] samples, oldest first.
#[derive(Debug, Clone, Default)]
pub struct History {
    samples: VecDeque<Sample>,
}

impl History {
    /// Appends a sample, dropping the oldest past the bound.
    pub fn push(&mut self, sample: Sample) {
        if self.samples.len() == HISTORY_LEN {
            self.samples.pop_front();
        }
        self.samples.push_back(sample);
    }

    /// All samples, oldest first.
    pub fn samples(&self) -> &VecDeque<Sample> {
        &self.samples
    }

    /// Rate of a counter over the last two samples.
    pub fn last_rate(&self, counter: fn(&Sample) -> u64) -> Option<f64> {
        let n = self.samples.len();
        if n < 2 {
            return None;
        }
        rate(&self.samples[n - 2], &self.samples[n - 1], counter)
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// True when nothing was pushed yet.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }
}
