//! `leak`: an account that leaves many sessions idle past the idle threshold.
//!
//! A leaked session sleeps past the threshold outside a transaction: one
//! idle inside a transaction is stuck, not forgotten (it holds locks, and
//! `long_running` names it). Counts are per account; the hosts they come
//! from are listed.

use foldhash::{HashMap, HashMapExt};

use super::Severity;
use super::units::ratio;
use crate::snapshot::{Session, Snapshot, millis};
use crate::thresholds::Thresholds;

/// An account with at least this many leaked sessions leaks...
pub(super) const LEAK_MIN_SESSIONS: usize = 10;
/// ...or with this share of the used slots (`Threads_connected`)...
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
    /// Its leaked sessions: asleep past the threshold, outside a transaction.
    pub stale: usize,
    /// Its sessions running a command.
    pub active: usize,
    /// Its sessions idle for less than the threshold.
    pub recent: usize,
    /// Its sessions asleep past the threshold inside an open transaction.
    pub in_trx: usize,
    /// The longest idle time among the leaked sessions.
    pub oldest_ms: u64,
    /// Leaked sessions per client host, most first.
    pub hosts: Vec<(&'a str, usize)>,
    /// Slots in use: `Threads_connected`, the gauge's number
    /// ([`crate::snapshot::Counts::connected`]).
    pub used: usize,
    /// Client sessions asleep past the threshold, any account, in a
    /// transaction or not: what the `I` preview lists (before the ignore rules).
    pub idle_all: usize,
    /// Of [`Leak::idle_all`], those inside an open transaction.
    pub idle_all_in_trx: usize,
    /// max_connections (0 when unknown).
    pub max: u64,
    /// The idle threshold.
    pub idle_ms: u64,
    /// The server's wait_timeout, in seconds.
    pub wait_timeout: u64,
    /// Without the PROCESS privilege the server lists only our own
    /// account's sessions: the counts are partial.
    pub own_sessions_only: bool,
    pub severity: Severity,
}

/// True for a session the leak rule counts: asleep at least `idle_ms`,
/// outside a transaction.
pub(super) fn is_stale(s: &Session, idle_ms: u64) -> bool {
    s.is_sleeping() && s.time_ms >= idle_ms && s.trx_age_ms.is_none()
}

#[derive(Default)]
struct Account<'a> {
    total: usize,
    active: usize,
    stale: usize,
    in_trx: usize,
    oldest_ms: u64,
    hosts: HashMap<&'a str, usize>,
}

/// The leaking accounts, the biggest leak first.
pub(super) fn detect<'a>(snap: &'a Snapshot, t: &Thresholds) -> Vec<Leak<'a>> {
    let idle_ms = millis(t.idle_over);
    // Counts::connected, without a pass over the sessions for one number.
    let used = usize::try_from(snap.status.threads_connected).unwrap_or(usize::MAX);
    let (mut idle_all, mut idle_all_in_trx) = (0usize, 0usize);
    let mut accounts: HashMap<&str, Account> = HashMap::new();
    for s in snap.sessions.iter().filter(|s| s.holds_slot()) {
        let acc = accounts.entry(s.user.as_str()).or_default();
        acc.total += 1;
        if !s.is_sleeping() {
            acc.active += 1;
        } else if s.time_ms < idle_ms {
            continue;
        } else if s.trx_age_ms.is_some() {
            acc.in_trx += 1;
            idle_all += 1;
            idle_all_in_trx += 1;
        } else {
            acc.stale += 1;
            acc.oldest_ms = acc.oldest_ms.max(s.time_ms);
            *acc.hosts.entry(s.client_host()).or_default() += 1;
            idle_all += 1;
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
                recent: a.total - a.active - a.stale - a.in_trx,
                in_trx: a.in_trx,
                oldest_ms: a.oldest_ms,
                hosts,
                used,
                idle_all,
                idle_all_in_trx,
                max,
                idle_ms,
                wait_timeout: snap.variables.wait_timeout,
                own_sessions_only: !snap.privileges.process,
                severity: Severity::critical_if(critical),
            }
        })
        .collect()
}
