//! One row per server, derived from that server's `App`: its state, slot
//! usage, rates and worst finding; and the fleet's order (sort and filter)
//! and totals. Pure functions of the state and the clock.

use std::cmp::Ordering;
use std::time::{Duration, SystemTime};

use crate::app::App;
use crate::findings::Finding;
use crate::history::Sample;
use crate::snapshot::Flavor;

/// How a server is doing, as its row says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerState {
    /// Nothing heard yet: the first connection is being made.
    Connecting,
    /// Fresh snapshots.
    Live,
    /// Connected, but the last snapshot is old (a hung server).
    Stale,
    /// The server refuses conntop with ERROR 1040: every slot is taken.
    Full,
    /// Was live, lost the connection, retrying with backoff.
    Reconnecting,
    /// Never connected; retrying with backoff.
    Down,
}

impl ServerState {
    /// The word in the State column and in the totals.
    pub fn label(self) -> &'static str {
        match self {
            ServerState::Connecting => "connecting",
            ServerState::Live => "live",
            ServerState::Stale => "stale",
            ServerState::Full => "full",
            ServerState::Reconnecting => "reconnecting",
            ServerState::Down => "down",
        }
    }

    /// Every state, in the totals' order.
    pub const ALL: [ServerState; 6] = [
        ServerState::Live,
        ServerState::Stale,
        ServerState::Full,
        ServerState::Reconnecting,
        ServerState::Down,
        ServerState::Connecting,
    ];

    /// True when the numbers of the row are current.
    pub fn is_current(self) -> bool {
        matches!(self, ServerState::Live | ServerState::Stale)
    }
}

/// One server's row.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary<'a> {
    pub name: &'a str,
    pub state: ServerState,
    /// Why it is down or reconnecting (raw: sanitise to draw).
    pub reason: Option<&'a str>,
    /// Reconnection attempts so far, while down.
    pub attempts: u32,
    /// Age of the newest snapshot.
    pub age: Option<Duration>,
    pub version: Option<&'a str>,
    pub flavor: Option<Flavor>,
    /// Threads_connected and max_connections of the newest snapshot.
    pub connected: Option<u64>,
    pub max: Option<u64>,
    pub max_used: Option<u64>,
    pub running: Option<u64>,
    /// New connections per second over the last two polls.
    pub new_per_s: Option<f64>,
    /// Clients refused with 1040 since conntop started.
    pub refused: Option<u64>,
    /// The most severe finding.
    pub worst: Option<&'a Finding>,
}

/// The marker conntop's errors carry for a full server.
const FULL_MARK: &str = "ERROR 1040";

impl Summary<'_> {
    /// connected / max_connections, when known (0 when max is 0).
    pub fn usage(&self) -> Option<f64> {
        match (self.connected, self.max) {
            (Some(c), Some(m)) if m > 0 => Some(c as f64 / m as f64),
            (Some(_), Some(_)) => Some(0.0),
            _ => None,
        }
    }

    /// The usage the fleet ranks by: a server refusing us is full whatever
    /// its last snapshot said; one that is not current ranks below all
    /// current ones.
    pub fn rank_usage(&self) -> f64 {
        match self.state {
            ServerState::Full => 2.0 + self.usage().unwrap_or(0.0),
            s if s.is_current() => self.usage().unwrap_or(0.0),
            ServerState::Reconnecting => -1.0,
            ServerState::Down => -2.0,
            _ => -3.0,
        }
    }

    /// Does the row hold `needle` (lower case) in its name, version,
    /// state, reason or worst finding?
    pub fn matches(&self, needle: &str) -> bool {
        if needle.is_empty() {
            return true;
        }
        let has = |s: &str| s.to_lowercase().contains(needle);
        has(self.name)
            || self.version.is_some_and(has)
            || has(self.state.label())
            || self.reason.is_some_and(has)
            || self
                .worst
                .is_some_and(|f| has(&f.title) || has(f.kind.name()) || has(f.severity.name()))
    }
}

/// The row of `app` (named `name`) at `now`, polled every `interval`.
pub fn summary<'a>(
    name: &'a str,
    app: &'a App,
    now: SystemTime,
    interval: Duration,
) -> Summary<'a> {
    let data = &app.data;
    // A paused dashboard keeps the newest snapshot aside: the fleet shows it.
    let snap = match (&data.pending, data.paused) {
        (Some(p), true) => Some(p.as_ref()),
        _ => data.snapshot.as_deref(),
    };
    let state = match (&data.down, snap) {
        (Some(d), _) if d.last_error.contains(FULL_MARK) => ServerState::Full,
        (Some(_), Some(_)) => ServerState::Reconnecting,
        (Some(_), None) => ServerState::Down,
        (None, None) => ServerState::Connecting,
        (None, Some(_)) if data.is_stale(now, interval) && !data.paused => ServerState::Stale,
        (None, Some(_)) => ServerState::Live,
    };
    let current = state.is_current();
    let live = |v: Option<u64>| if current { v } else { None };
    let refused = snap.map(|s| {
        let now = s.status.connection_errors_max_connections;
        data.baseline
            .as_ref()
            .map_or(0, |b| now.saturating_sub(b.rejected))
    });
    Summary {
        name,
        state,
        reason: data.down.as_ref().map(|d| d.last_error.as_str()),
        attempts: data.down.as_ref().map_or(0, |d| d.attempts),
        age: data.age(now),
        version: snap.map(|s| s.server.version.as_str()),
        flavor: snap.map(|s| s.server.flavor),
        connected: live(snap.map(|s| s.status.threads_connected)),
        max: live(snap.map(|s| s.variables.max_connections)),
        max_used: live(snap.map(|s| s.status.max_used_connections)),
        running: live(snap.map(|s| s.status.threads_running)),
        new_per_s: if current {
            data.history.last_rate(|x: &Sample| x.connections)
        } else {
            None
        },
        refused,
        worst: if current { data.findings.first() } else { None },
    }
}

/// What the fleet sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    /// connected / max_connections (servers refusing us on top).
    Usage,
    Connected,
    Running,
    NewPerSec,
    Refused,
    /// The worst finding's severity.
    Finding,
    Name,
}

impl SortBy {
    /// The order `s` steps through.
    pub const ALL: [SortBy; 7] = [
        SortBy::Usage,
        SortBy::Connected,
        SortBy::Running,
        SortBy::NewPerSec,
        SortBy::Refused,
        SortBy::Finding,
        SortBy::Name,
    ];

    /// The next one.
    pub fn next(self) -> SortBy {
        let i = SortBy::ALL.iter().position(|s| *s == self).unwrap_or(0);
        SortBy::ALL[(i + 1) % SortBy::ALL.len()]
    }

    /// The column title.
    pub fn title(self) -> &'static str {
        match self {
            SortBy::Usage => "usage",
            SortBy::Connected => "connected",
            SortBy::Running => "running",
            SortBy::NewPerSec => "new/s",
            SortBy::Refused => "refused",
            SortBy::Finding => "finding",
            SortBy::Name => "name",
        }
    }

    /// Names read best A to Z; numbers biggest first.
    pub fn descending_first(self) -> bool {
        self != SortBy::Name
    }
}

/// The fleet's sort.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub by: SortBy,
    pub descending: bool,
}

impl Default for Sort {
    fn default() -> Self {
        Sort {
            by: SortBy::Usage,
            descending: true,
        }
    }
}

fn cmp_f64(a: f64, b: f64) -> Ordering {
    a.partial_cmp(&b).unwrap_or(Ordering::Equal)
}

/// Compares two rows by `sort`; ties go by usage, then by name.
pub fn compare(a: &Summary<'_>, b: &Summary<'_>, sort: Sort) -> Ordering {
    let n = |v: Option<u64>| v.map_or(-1.0, |v| v as f64);
    let by = match sort.by {
        SortBy::Usage => cmp_f64(a.rank_usage(), b.rank_usage()),
        SortBy::Connected => cmp_f64(n(a.connected), n(b.connected)),
        SortBy::Running => cmp_f64(n(a.running), n(b.running)),
        SortBy::NewPerSec => cmp_f64(a.new_per_s.unwrap_or(-1.0), b.new_per_s.unwrap_or(-1.0)),
        SortBy::Refused => cmp_f64(n(a.refused), n(b.refused)),
        SortBy::Finding => a
            .worst
            .map(|f| f.severity)
            .cmp(&b.worst.map(|f| f.severity)),
        SortBy::Name => a.name.cmp(b.name),
    };
    let by = if sort.descending { by.reverse() } else { by };
    by.then_with(|| cmp_f64(b.rank_usage(), a.rank_usage()))
        .then_with(|| a.name.cmp(b.name))
}

/// Sums over the fleet.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    /// Servers.
    pub servers: usize,
    /// Servers per state, in [`ServerState::ALL`] order.
    pub by_state: [usize; 6],
    /// Threads_connected and max_connections over the current servers.
    pub connected: u64,
    pub max: u64,
    /// Clients refused with 1040 since start, over every server.
    pub refused: u64,
}

impl Totals {
    /// Adds up `rows`.
    pub fn of<'a>(rows: impl IntoIterator<Item = &'a Summary<'a>>) -> Totals {
        let mut t = Totals::default();
        for r in rows {
            t.servers += 1;
            if let Some(i) = ServerState::ALL.iter().position(|s| *s == r.state) {
                t.by_state[i] += 1;
            }
            t.connected += r.connected.unwrap_or(0);
            t.max += r.max.unwrap_or(0);
            t.refused += r.refused.unwrap_or(0);
        }
        t
    }

    /// How many servers are in `state`.
    pub fn count(&self, state: ServerState) -> usize {
        ServerState::ALL
            .iter()
            .position(|s| *s == state)
            .map_or(0, |i| self.by_state[i])
    }
}
