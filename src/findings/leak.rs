//! `leak`: an account that leaves many sessions idle past the idle threshold.

use std::collections::HashMap;

use super::Severity;
use super::units::{ceil10, ratio};
use crate::snapshot::{Snapshot, millis};
use crate::thresholds::Thresholds;

/// An account with at least this many long-idle sessions leaks...
pub(super) const LEAK_MIN_SESSIONS: usize = 10;
/// ...or with this share of the used (non-system) slots...
pub(super) const LEAK_MIN_SHARE: f64 = 0.25;
/// ...provided there are at least this many (3 idle sessions of 4 are no leak).
pub(super) const LEAK_SHARE_FLOOR: usize = 3;
/// A leak holding this share of max_connections is critical.
pub(super) const LEAK_CRIT_SHARE: f64 = 0.5;

/// One leaking account.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Leak<'a> {
    /// The account (user name).
    pub user: &'a str,
    /// Its sessions idle at least the threshold: the leak.
    pub stale: usize,
    /// Its sessions running a command.
    pub active: usize,
    /// Its sessions idle for less than the threshold.
    pub recent: usize,
    /// The longest idle time among the stale sessions.
    pub oldest_ms: u64,
    /// Stale sessions per client host, most first.
    pub hosts: Vec<(&'a str, usize)>,
    /// Client (non-system) sessions on the server.
    pub used: usize,
    /// max_connections (0 when unknown).
    pub max: u64,
    /// The idle threshold.
    pub idle_ms: u64,
    /// The server's wait_timeout, in seconds.
    pub wait_timeout: u64,
    /// The wait_timeout that would have closed the leaked sessions.
    pub advised_wait: u64,
    pub severity: Severity,
}

#[derive(Default)]
struct Account<'a> {
    total: usize,
    active: usize,
    stale: usize,
    oldest_ms: u64,
    hosts: HashMap<&'a str, usize>,
}

/// `wait_timeout` that would have closed the leaked sessions: a bit over the
/// idle threshold, at least 60 s.
pub(super) fn wait_timeout(t: &Thresholds) -> u64 {
    let idle_s = millis(t.idle_over).div_ceil(1000);
    ceil10(idle_s as f64 * 1.2).max(60)
}

/// The leaking accounts, the biggest leak first.
pub(super) fn detect<'a>(snap: &'a Snapshot, t: &Thresholds) -> Vec<Leak<'a>> {
    let idle_ms = millis(t.idle_over);
    let mut used = 0usize;
    let mut accounts: HashMap<&str, Account> = HashMap::new();
    for s in snap.sessions.iter().filter(|s| !s.is_system()) {
        used += 1;
        let acc = accounts.entry(s.user.as_str()).or_default();
        acc.total += 1;
        if !s.is_sleeping() {
            acc.active += 1;
        } else if s.time_ms >= idle_ms {
            acc.stale += 1;
            acc.oldest_ms = acc.oldest_ms.max(s.time_ms);
            *acc.hosts.entry(s.client_host()).or_default() += 1;
        }
    }

    let mut leaking: Vec<(&str, Account)> = accounts
        .into_iter()
        .filter(|(_, a)| {
            let many = a.stale >= LEAK_MIN_SESSIONS;
            let large = a.stale >= LEAK_SHARE_FLOOR && ratio(a.stale, used) >= LEAK_MIN_SHARE;
            // An account whose sessions are mostly active is busy, not leaking.
            let mostly_active = a.active * 2 > a.total;
            (many || large) && !mostly_active
        })
        .collect();
    leaking.sort_by(|a, b| b.1.stale.cmp(&a.1.stale).then(a.0.cmp(b.0)));

    let max = snap.variables.max_connections;
    leaking
        .into_iter()
        .map(|(user, a)| {
            let mut hosts: Vec<(&str, usize)> = a.hosts.into_iter().collect();
            hosts.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(y.0)));
            let critical = max > 0
                && (snap.usage() >= t.crit || a.stale as f64 >= LEAK_CRIT_SHARE * max as f64);
            Leak {
                user,
                stale: a.stale,
                active: a.active,
                recent: a.total - a.active - a.stale,
                oldest_ms: a.oldest_ms,
                hosts,
                used,
                max,
                idle_ms,
                wait_timeout: snap.variables.wait_timeout,
                advised_wait: wait_timeout(t),
                severity: Severity::critical_if(critical),
            }
        })
        .collect()
}
