//! The live data part of the state: the snapshot on screen, the one held
//! back while paused, the connection's state, history and findings.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::command::{Down, Feed};
use crate::findings::{self, Finding};
use crate::history::{self, History, Sample};
use crate::locks::Graph;
use crate::snapshot::{Counts, Session, Snapshot};
use crate::thresholds::Thresholds;

/// Why the feed's connection changed ([`Data::link`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkChange {
    /// The poller reported the connection down.
    Lost,
    /// A snapshot came from another connection (another own id).
    Reconnected,
    /// The server's uptime went back: it restarted, and its ids name other
    /// sessions now.
    Restarted,
}

impl LinkChange {
    /// What happened, for a message.
    pub fn text(self) -> &'static str {
        match self {
            LinkChange::Lost => "the connection was lost",
            LinkChange::Reconnected => "conntop reconnected",
            LinkChange::Restarted => "the server restarted",
        }
    }
}

/// What the poller sent, and what is derived from it once per snapshot.
#[derive(Debug, Default)]
pub struct Data {
    /// The snapshot on screen.
    pub snapshot: Option<Arc<Snapshot>>,
    /// The newest snapshot while paused.
    pub pending: Option<Arc<Snapshot>>,
    /// The view is frozen; snapshots wait in `pending`.
    pub paused: bool,
    /// The poller cannot reach the server.
    pub down: Option<Down>,
    pub history: History,
    /// Findings of the snapshot on screen, most severe first, held steady
    /// for a few seconds so a line does not jump while it is read.
    pub findings: Vec<Finding>,
    steady: findings::Steady,
    /// Findings of the newest snapshot while paused (shown on resume).
    pub pending_findings: Vec<Finding>,
    /// Samples of `history` newer than the snapshot on screen (paused).
    pub held: usize,
    /// Counters when conntop started, for "since start" figures.
    pub baseline: Option<Sample>,
    /// `Sleep` sessions in the shown snapshot (counted once per snapshot).
    pub sleeping: usize,
    /// Every count of the shown snapshot (counted once per snapshot).
    pub counts: Counts,
    /// The oldest open transaction in the shown snapshot, in ms.
    pub oldest_trx_ms: Option<u64>,
    /// The whole statement of the one session being looked at, read on
    /// demand (the processlist carries only its start).
    pub statement: Option<(u64, Result<Option<String>, String>)>,
    /// The plan of the one session being explained, once the server answered.
    pub explain: Option<(u64, Result<crate::explain::Explained, String>)>,
    /// Counts the connections the feed came from: moves when the
    /// connection is reported down, when a snapshot comes from another
    /// connection or the server restarted. A kill preview built on an
    /// older one is stale (session ids may name other sessions now).
    pub link: u64,
    /// Why `link` last moved.
    pub link_change: Option<LinkChange>,
    /// `link` when the snapshot on screen was received.
    pub shown_link: u64,
    /// `link` when `pending` was received.
    pending_link: u64,
    /// Own id and uptime (s) of the newest snapshot received.
    newest: Option<(u64, u64)>,
}

impl Data {
    /// A plan read with EXPLAIN (`e`) for a statement still running past the
    /// threshold names its worst trait in the long_running finding.
    fn add_plan_evidence(&self, snap: &Snapshot, found: &mut [Finding]) {
        let Some((id, Ok(crate::explain::Explained::Plan(rows)))) = &self.explain else {
            return;
        };
        let running = snap
            .sessions
            .iter()
            .any(|s| s.id == *id && s.activity() == crate::snapshot::Activity::Running);
        let Some(worst) = crate::explain::worst(rows).filter(|_| running) else {
            return;
        };
        for f in found
            .iter_mut()
            .filter(|f| f.kind == findings::FindingKind::LongRunning)
        {
            f.evidence.push(format!("Plan of #{id} (EXPLAIN): {worst}"));
        }
    }

    /// The next snapshot's findings show as they are (see [`findings::Steady::forget`]).
    pub(super) fn forget_held_findings(&mut self) {
        self.steady.forget();
    }

    /// The sessions of the shown snapshot.
    pub fn sessions(&self) -> &[Session] {
        self.snapshot
            .as_deref()
            .map_or(&[], |s| s.sessions.as_slice())
    }

    /// The wait-for graph of the shown snapshot (empty before the first).
    pub fn locks(&self) -> &Graph {
        static EMPTY: std::sync::OnceLock<Graph> = std::sync::OnceLock::new();
        match self.snapshot.as_deref() {
            Some(s) => &s.locks,
            None => EMPTY.get_or_init(Graph::default),
        }
    }

    /// max_connections of the shown snapshot (0 before the first).
    pub fn max_connections(&self) -> u64 {
        self.snapshot
            .as_ref()
            .map_or(0, |s| s.variables.max_connections)
    }

    /// Takes in what the poller sent: history, findings and the connection
    /// state follow every snapshot. Returns the snapshot to show now (none
    /// while paused or down).
    pub(super) fn receive(&mut self, feed: Feed, thresholds: &Thresholds) -> Option<Arc<Snapshot>> {
        match feed {
            Feed::Snapshot(snap) => {
                self.follow_link(&snap);
                self.down = None;
                let sample = Sample::from_snapshot(&snap);
                let restarted = self
                    .baseline
                    .as_ref()
                    .is_some_and(|b| sample.uptime_s < b.uptime_s);
                if self.baseline.is_none() || restarted {
                    self.baseline = Some(sample.clone());
                }
                self.history.push(sample);
                let mut fresh = findings::diagnose(&snap, &self.history, thresholds);
                self.add_plan_evidence(&snap, &mut fresh);
                let found = self.steady.update(snap.taken_at, fresh);
                if self.paused {
                    // The screen stays as it was: findings, chart and rates too.
                    self.held = (self.held + 1).min(self.history.len());
                    self.pending_findings = found;
                    self.pending = Some(snap);
                    self.pending_link = self.link;
                    None
                } else {
                    self.findings = found;
                    self.shown_link = self.link;
                    Some(snap)
                }
            }
            Feed::Down(down) => {
                if self.down.is_none() {
                    self.moved(LinkChange::Lost);
                }
                self.down = Some(down);
                None
            }
        }
    }

    /// Moves [`Data::link`] when `snap` comes from another connection than
    /// the previous snapshot, or from a server that restarted since.
    fn follow_link(&mut self, snap: &Snapshot) {
        let now = (snap.own_id, snap.status.uptime_s);
        match self.newest {
            Some((_, uptime)) if now.1 < uptime => self.moved(LinkChange::Restarted),
            Some((own_id, _)) if now.0 != own_id => self.moved(LinkChange::Reconnected),
            _ => {}
        }
        self.newest = Some(now);
    }

    fn moved(&mut self, why: LinkChange) {
        self.link += 1;
        self.link_change = Some(why);
    }

    /// Puts `snap` on screen with its per-snapshot counts.
    pub(super) fn show(&mut self, snap: Arc<Snapshot>) {
        self.counts = snap.counts();
        self.sleeping = usize::try_from(self.counts.sleeping).unwrap_or(usize::MAX);
        self.oldest_trx_ms = snap.sessions.iter().filter_map(|s| s.trx_age_ms).max();
        self.snapshot = Some(snap);
    }

    /// Pauses or resumes; on resume, the snapshot that waited, to show.
    pub(super) fn toggle_pause(&mut self) -> Option<Arc<Snapshot>> {
        self.paused = !self.paused;
        if self.paused {
            return None;
        }
        self.held = 0;
        let snap = self.pending.take()?;
        self.shown_link = self.pending_link;
        self.findings = std::mem::take(&mut self.pending_findings);
        Some(snap)
    }

    /// The samples up to the snapshot on screen, oldest first (while
    /// paused, the newer ones wait).
    pub fn shown_samples(&self) -> impl Iterator<Item = &Sample> {
        let n = self.history.len().saturating_sub(self.held);
        self.history.samples().iter().take(n)
    }

    /// The per-second rate of a counter at the snapshot on screen.
    pub fn shown_rate(&self, counter: fn(&Sample) -> u64) -> Option<f64> {
        let n = self.history.len().checked_sub(self.held)?;
        let samples = self.history.samples();
        let newer = samples.get(n.checked_sub(1)?)?;
        let older = samples.get(n.checked_sub(2)?)?;
        history::rate(older, newer, counter)
    }

    /// True when what is on screen is not live at `now`: the connection is
    /// down, or the shown snapshot is older than three `interval`s and a
    /// second (a paused view gets there too, and says PAUSED in the header).
    pub fn is_stale(&self, now: SystemTime, interval: Duration) -> bool {
        if self.down.is_some() {
            return true;
        }
        // Paused on purpose: old, but not a sign of trouble.
        if self.paused {
            return false;
        }
        let limit = interval * 3 + Duration::from_secs(1);
        self.age(now).is_some_and(|age| age > limit)
    }

    /// Age of the shown snapshot at `now`.
    pub fn age(&self, now: SystemTime) -> Option<Duration> {
        let snap = self.snapshot.as_ref()?;
        now.duration_since(snap.taken_at).ok()
    }
}
