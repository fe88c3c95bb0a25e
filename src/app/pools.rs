//! Busy pools among a kill's targets: an account with statements running
//! now and many idle sessions that are young is a connection pool between
//! uses, and a kill of those only makes the pool reconnect.

use std::collections::HashMap;
use std::time::Duration;

use crate::command::KillTarget;
use crate::snapshot::Session;

/// Idle for less than this, a pooled connection is between uses.
pub const YOUNG: Duration = Duration::from_secs(60);

/// Young idle sessions an account needs to look like a busy pool.
pub const MIN_YOUNG: usize = 3;

/// An account that looks like a busy pool, and what a kill would take of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusyPool {
    /// `user@client_host`, as the preview groups targets.
    pub account: String,
    /// Its sessions running a statement now.
    pub running: usize,
    /// Its sessions idle for less than [`YOUNG`].
    pub young_idle: usize,
    /// Young idle sessions of it among the targets.
    pub taken: usize,
}

fn account(s: &Session) -> String {
    format!("{}@{}", s.user, s.client_host())
}

fn young(s: &Session) -> bool {
    s.is_sleeping() && u128::from(s.time_ms) < YOUNG.as_millis()
}

/// The busy pools whose young idle sessions are among `targets`, most
/// taken first (`own_id`, conntop's connection, is not a pool's).
pub fn busy_pools(sessions: &[Session], targets: &[KillTarget], own_id: u64) -> Vec<BusyPool> {
    let mut taken: HashMap<String, usize> = HashMap::new();
    for t in targets.iter().filter(|t| young(&t.session)) {
        *taken.entry(account(&t.session)).or_default() += 1;
    }
    if taken.is_empty() {
        return Vec::new();
    }
    let mut counts: HashMap<String, (usize, usize)> = HashMap::new();
    for s in sessions.iter().filter(|s| !s.is_system() && s.id != own_id) {
        let key = account(s);
        if !taken.contains_key(&key) {
            continue;
        }
        let c = counts.entry(key).or_default();
        if !s.is_sleeping() {
            c.0 += 1;
        } else if young(s) {
            c.1 += 1;
        }
    }
    let mut pools: Vec<BusyPool> = counts
        .into_iter()
        .filter(|(_, (running, young_idle))| *running > 0 && *young_idle >= MIN_YOUNG)
        .map(|(account, (running, young_idle))| BusyPool {
            taken: taken.get(&account).copied().unwrap_or(0),
            account,
            running,
            young_idle,
        })
        .collect();
    pools.sort_by(|a, b| {
        b.taken
            .cmp(&a.taken)
            .then_with(|| a.account.cmp(&b.account))
    });
    pools
}
