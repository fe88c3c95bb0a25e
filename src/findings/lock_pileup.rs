//! `lock_pileup`: sessions queue behind one session's lock. One session holds
//! a lock, every later query waits behind it, the pools open more
//! connections to keep up and the slots run out in seconds. The evidence is
//! the snapshot's wait-for graph (`locks`): the root blocker with the most
//! sessions waiting on it, the chain from a waiter up to it, and the kind of
//! chain, which decides the prevention.

use super::Severity;
use crate::locks::statement::{self, Verb};
use crate::locks::{Root, WaitKind};
use crate::snapshot::{Flavor, Session, Snapshot, millis};
use crate::thresholds::Thresholds;

/// Sessions waiting on one root that make a finding...
pub(super) const PILEUP_MIN: usize = 2;
/// ...or one session waiting this long.
pub(super) const PILEUP_LONG_MS: u64 = 10_000;
/// Critical at this many sessions waiting on one root...
pub(super) const PILEUP_CRIT: usize = 5;
/// ...or this share of the connected sessions.
pub(super) const PILEUP_CRIT_SHARE: f64 = 0.10;
/// Direct waiters whose statements are read for the kind of chain.
const KINDS_READ: usize = 50;

/// What the chains behind the root are made of: each kind has its prevention.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Kinds {
    /// The root sits idle in an open transaction.
    pub idle_trx: bool,
    /// A DDL (ALTER, DROP, TRUNCATE, ...) waits in the chain.
    pub ddl: bool,
    /// A backup's global read lock / backup lock is in the chain.
    pub backup: bool,
    /// Row locks are waited for.
    pub row: bool,
    /// Table-level locks (MyISAM, Aria) are waited for.
    pub table: bool,
    /// The root holds its lock through `LOCK TABLES` (or may: idle, no
    /// transaction, and metadata locks waited for).
    pub lock_tables: bool,
}

/// One lock pile-up: its worst root and how it is built.
#[derive(Debug, Clone)]
pub(super) struct LockPileup<'a> {
    pub root: &'a Root,
    /// The root's session; `None` when it is not in the processlist.
    pub session: Option<&'a Session>,
    /// From the waiter with the longest chain up to the root's direct
    /// waiter (the root not included).
    pub chain: Vec<&'a Session>,
    /// The longest any session has waited on the root, in ms.
    pub longest_wait_ms: u64,
    /// Connected sessions (Threads_connected).
    pub connected: u64,
    /// The other roots, most waiters first.
    pub others: Vec<&'a Root>,
    pub kinds: Kinds,
    /// How the direct waiters' edges are known (their wait's reason).
    pub why: String,
    pub flavor: Flavor,
    /// The server can end idle transactions itself (MariaDB 10.3+).
    pub has_idle_trx_timeout: bool,
    /// The query threshold, in seconds: the advised idle transaction timeout.
    pub threshold_s: u64,
    /// `db.table` of the first direct waiter's lock, when known.
    pub object: Option<String>,
    pub severity: Severity,
}

/// The worst lock pile-up of `snap`, if any.
pub(super) fn detect<'a>(snap: &'a Snapshot, t: &Thresholds) -> Option<LockPileup<'a>> {
    let graph = &snap.locks;
    let root = graph.roots.first()?;
    let find = |id: u64| graph.position(id).and_then(|i| snap.sessions.get(i));
    let (below, mut chain) = graph.walk(root.id);
    let below: Vec<&Session> = below.into_iter().filter_map(find).collect();
    let longest_wait_ms = below.iter().map(|s| s.time_ms).max().unwrap_or(0);
    if root.total < PILEUP_MIN && longest_wait_ms < PILEUP_LONG_MS {
        return None;
    }
    chain.pop();
    let chain: Vec<&Session> = chain.into_iter().filter_map(find).collect();
    let session = find(root.id);
    let direct: Vec<&Session> = graph
        .waiters_of(root.id)
        .iter()
        .take(KINDS_READ)
        .filter_map(|&id| find(id))
        .collect();
    let kinds = kinds(session, &direct, &below);
    let direct = graph.waiters_of(root.id).first().and_then(|&id| find(id));
    let wait = direct.and_then(|s| s.wait.as_ref());
    let connected = snap.status.threads_connected;
    let critical = root.total >= PILEUP_CRIT
        || (connected > 0 && root.total as f64 >= PILEUP_CRIT_SHARE * connected as f64);
    Some(LockPileup {
        root,
        session,
        chain,
        longest_wait_ms,
        connected,
        others: graph.roots.iter().skip(1).collect(),
        kinds,
        why: wait.map(|w| w.why.clone()).unwrap_or_default(),
        flavor: snap.server.flavor,
        has_idle_trx_timeout: snap.server.flavor == Flavor::MariaDb
            && snap.server.at_least(10, 3, 0),
        threshold_s: millis(t.query_over).div_ceil(1000).max(1),
        object: wait.and_then(|w| w.object.clone()),
        severity: Severity::critical_if(critical),
    })
}

/// What the chains are made of: the waits of every session below the root,
/// the statements of the root and of its `direct` waiters (a DDL or a
/// backup waits on the root itself).
fn kinds(root: Option<&Session>, direct: &[&Session], below: &[&Session]) -> Kinds {
    let verb = |s: &Session| {
        s.info
            .as_deref()
            .map_or(Verb::Other, |i| statement::parse(i, s.db.as_deref()).verb)
    };
    let mut k = Kinds {
        idle_trx: root.is_some_and(|s| s.is_sleeping() && s.trx_age_ms.is_some()),
        ..Kinds::default()
    };
    if let Some(r) = root.filter(|r| !r.is_sleeping()) {
        match verb(r) {
            Verb::Ftwrl | Verb::BackupStage => k.backup = true,
            Verb::LockTables => k.lock_tables = true,
            _ => {}
        }
    }
    let idle_without_trx = root.is_some_and(|s| s.is_sleeping() && s.trx_age_ms.is_none());
    for s in below {
        match s.wait.as_ref().map(|w| w.kind) {
            Some(WaitKind::Row) => k.row = true,
            Some(WaitKind::Table) => k.table = true,
            Some(WaitKind::GlobalRead | WaitKind::Backup) => k.backup = true,
            Some(WaitKind::Metadata) => k.lock_tables |= idle_without_trx,
            Some(WaitKind::Flush) | None => {}
        }
    }
    for s in direct {
        match verb(s) {
            Verb::Ddl => k.ddl = true,
            Verb::Ftwrl | Verb::BackupStage => k.backup = true,
            _ => {}
        }
    }
    k
}
