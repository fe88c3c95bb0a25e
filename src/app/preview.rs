//! The kill preview: which sessions a kill would hit, grouped by account,
//! with the ones the safety rules keep out. Built before any confirmation;
//! nothing here sends anything.

use std::time::{Duration, SystemTime};

use crate::command::{Expect, KillMode, KillTarget};
use crate::kill::{self, Safety, Selection};
use crate::snapshot::Session;

use super::keymap::{self, Action};
use super::pools::{self, BusyPool};
use super::{App, Dialog, Level, View};

/// What a kill preview is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanKind {
    /// The selected session.
    Selected,
    /// The tagged sessions.
    Tagged,
    /// Sleeping past a threshold ([`Action::KillIdle`]).
    Idle,
    /// Running past a threshold ([`Action::KillLong`]).
    Long,
}

impl PlanKind {
    /// Does the preview have a threshold the user can move?
    pub fn has_threshold(self) -> bool {
        matches!(self, PlanKind::Idle | PlanKind::Long)
    }
}

/// A kill waiting for confirmation.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub kind: PlanKind,
    pub mode: KillMode,
    /// For `Idle`/`Long`: the threshold, moved along the ladder
    /// ([`super::ladder::rungs`]).
    pub threshold: Duration,
    pub targets: Vec<KillTarget>,
    /// `user@host` -> count, biggest first.
    pub groups: Vec<(String, usize)>,
    /// Chosen sessions the safety rules keep out, with why.
    pub refused: Vec<(u64, String)>,
    /// Accounts that look like busy pools whose young idle sessions a
    /// `KILL CONNECTION` would take (the preview warns).
    pub pools: Vec<BusyPool>,
    /// When the targets were read (the snapshot's time).
    pub seen_at: SystemTime,
}

impl Plan {
    /// Why the batch is killed, for the audit log.
    pub fn reason(&self) -> String {
        match self.kind {
            PlanKind::Selected => "selected session".to_string(),
            PlanKind::Tagged => format!("{} tagged sessions", self.targets.len()),
            PlanKind::Idle => format!(
                "idle kill: Sleep for at least {}",
                humantime::format_duration(self.threshold)
            ),
            PlanKind::Long => format!(
                "long-running kill: running for at least {}",
                humantime::format_duration(self.threshold)
            ),
        }
    }
}

/// Builds the preview of a kill of `kind`: `chosen` are the selected or
/// tagged sessions (ignored for `Idle`/`Long`, which pick from `sessions`
/// by `threshold`). Err is the one-line reason there is nothing to preview.
pub fn build(
    kind: PlanKind,
    mode: KillMode,
    threshold: Duration,
    sessions: &[Session],
    chosen: &[&Session],
    safety: &Safety,
    seen_at: SystemTime,
) -> Result<Plan, String> {
    let mut refused = Vec::new();
    let targets = match kind {
        PlanKind::Idle => kill::idle_targets(sessions, threshold, safety, &Selection::default()),
        PlanKind::Long => kill::long_targets(sessions, threshold, safety, &Selection::default()),
        PlanKind::Selected | PlanKind::Tagged => {
            let mut targets = Vec::new();
            for s in chosen {
                match safety.refusal(s) {
                    Some(why) => refused.push((s.id, why)),
                    None => targets.push(KillTarget {
                        session: (*s).clone(),
                        expect: Expect::Same,
                    }),
                }
            }
            targets.sort_by_key(|t| std::cmp::Reverse(t.session.time_ms));
            targets
        }
    };
    if kind == PlanKind::Selected && targets.is_empty() {
        return Err(refused.first().map_or_else(
            || "no session selected".to_string(),
            |(id, why)| format!("session {id} cannot be killed: {why}"),
        ));
    }
    if kind == PlanKind::Selected
        && mode == KillMode::Query
        && targets.iter().all(|t| t.session.is_sleeping())
    {
        return Err(format!(
            "the session is idle: no query to stop ({} kills the connection)",
            keymap::key(Action::KillConnection)
        ));
    }
    let groups = kill::group_by_account(&targets);
    let pools = match mode {
        KillMode::Connection => pools::busy_pools(sessions, &targets, safety.own_id),
        KillMode::Query => Vec::new(),
    };
    Ok(Plan {
        kind,
        mode,
        threshold,
        targets,
        groups,
        refused,
        pools,
        seen_at,
    })
}

impl App {
    /// The preview of a kill of `kind` from what is on screen, or why there is none.
    pub(super) fn plan(
        &self,
        kind: PlanKind,
        mode: KillMode,
        threshold: Duration,
    ) -> Result<Plan, String> {
        if self.replay.is_some() {
            return Err(super::replay::READ_ONLY.to_string());
        }
        if self.opts.safety.read_only {
            return Err("read-only mode: kills are disabled (--read-only)".to_string());
        }
        if self.data.down.is_some() {
            return Err("not connected: cannot kill until the connection is back".to_string());
        }
        let sessions = self.sessions();
        let chosen: Vec<&Session> = match kind {
            PlanKind::Tagged => sessions
                .iter()
                .filter(|s| self.table.tags.contains(&s.id))
                .collect(),
            PlanKind::Selected => self.selected_session().into_iter().collect(),
            PlanKind::Idle | PlanKind::Long => Vec::new(),
        };
        let seen_at = self.data.snapshot.as_ref().map_or(self.now, |s| s.taken_at);
        build(
            kind,
            mode,
            threshold,
            sessions,
            &chosen,
            &self.opts.safety,
            seen_at,
        )
    }

    /// Opens the preview of a kill, or says why there is none.
    pub(super) fn open_plan(&mut self, kind: PlanKind, mode: KillMode, threshold: Duration) {
        if self.kills.running.is_some() {
            self.say(Level::Warn, "a kill is still running");
            return;
        }
        match self.plan(kind, mode, threshold) {
            Ok(plan) => self.dialog = Some(Dialog::Confirm(plan)),
            Err(why) => self.say(Level::Warn, why),
        }
    }

    /// `k`/`x`: a preview of the tagged sessions, or of the selected one.
    pub(super) fn kill_selected_or_tagged(&mut self, mode: KillMode) {
        let kind = if self.table.tags.is_empty() {
            PlanKind::Selected
        } else {
            PlanKind::Tagged
        };
        if self.table.view != View::Sessions && kind == PlanKind::Selected {
            self.say(
                Level::Warn,
                format!(
                    "select a session first: {} opens the group's sessions",
                    keymap::key(Action::Detail)
                ),
            );
            return;
        }
        self.open_plan(kind, mode, Duration::ZERO);
    }
}
