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
    /// The root blocker of the worst lock pile-up ([`Action::KillBlocker`]).
    Blocker,
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
    /// For a single session: how many sessions wait on it for a lock, in
    /// total and directly (0 when none).
    pub blocks: (usize, usize),
    /// conntop's connection id when the targets were read.
    pub own_id: u64,
    /// [`super::Data::link`] of the snapshot the targets were read from: a
    /// preview of another connection's snapshot does not go ahead.
    pub link: u64,
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
            PlanKind::Blocker => {
                format!("lock pile-up root: {} sessions wait on it", self.blocks.0)
            }
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
        PlanKind::Selected | PlanKind::Tagged | PlanKind::Blocker => {
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
    let single = matches!(kind, PlanKind::Selected | PlanKind::Blocker);
    if single && targets.is_empty() {
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
        blocks: (0, 0),
        own_id: safety.own_id,
        link: 0,
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
        if self.data.shown_link != self.data.link {
            let why = self
                .data
                .link_change
                .map_or("the connection changed", |c| c.text());
            return Err(format!(
                "{why} while paused: {} to see the server as it is now, then kill",
                keymap::key(Action::Pause)
            ));
        }
        let sessions = self.sessions();
        let chosen: Vec<&Session> = match kind {
            PlanKind::Tagged => sessions
                .iter()
                .filter(|s| self.table.tags.contains(&s.id))
                .collect(),
            PlanKind::Selected => self.selected_session().into_iter().collect(),
            PlanKind::Blocker => vec![self.root_blocker()?],
            PlanKind::Idle | PlanKind::Long => Vec::new(),
        };
        let seen_at = self.data.snapshot.as_ref().map_or(self.now, |s| s.taken_at);
        let mut plan = build(
            kind,
            mode,
            threshold,
            sessions,
            &chosen,
            &self.opts.safety,
            seen_at,
        )?;
        if let (Some(snap), [one]) = (&self.data.snapshot, plan.targets.as_slice()) {
            if let Some(root) = snap.locks.root_of(one.session.id) {
                plan.blocks = (root.total, root.direct);
            }
        }
        plan.link = self.data.shown_link;
        Ok(plan)
    }

    /// The root blocker of the worst lock pile-up on screen, or why there
    /// is none.
    fn root_blocker(&self) -> Result<&Session, String> {
        let root = self
            .data
            .snapshot
            .as_ref()
            .and_then(|s| s.locks.roots.first())
            .ok_or_else(|| "no lock pile-up now: no session waits for another".to_string())?;
        self.sessions()
            .iter()
            .find(|s| s.id == root.id)
            .ok_or_else(|| format!("the root blocker #{} is not in the processlist", root.id))
    }

    /// Why a preview must not go ahead now: built on a snapshot of another
    /// connection (the connection was lost, conntop reconnected or the
    /// server restarted since), or the connection is down.
    pub(super) fn stale_plan(&self, plan: &Plan) -> Option<String> {
        if plan.link != self.data.link || plan.own_id != self.opts.safety.own_id {
            let why = self
                .data
                .link_change
                .map_or("the connection changed", |c| c.text());
            return Some(format!("{why}: preview closed"));
        }
        if self.data.down.is_some() {
            return Some("the connection is down: preview closed".to_string());
        }
        None
    }

    /// Closes an open kill preview that must not go ahead any more, saying why.
    pub(super) fn close_stale_preview(&mut self) {
        let Some(Dialog::Confirm(plan)) = &self.dialog else {
            return;
        };
        if let Some(why) = self.stale_plan(plan) {
            self.dialog = None;
            self.say(Level::Warn, why);
        }
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
        if matches!(self.table.view, View::Groups(_)) && kind == PlanKind::Selected {
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::app::{Effect, Event, Options, update};
    use crate::command::{Command, Down, Feed};
    use crate::snapshot::{ServerInfo, Snapshot, Status, Variables};

    fn t0() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    }

    fn idle(id: u64) -> Session {
        Session {
            id,
            user: "app".into(),
            host: format!("10.0.0.{id}:5000"),
            command: "Sleep".into(),
            time_ms: 900_000,
            ..Session::default()
        }
    }

    /// A snapshot from connection `own_id` of a server up `uptime_s`, taken
    /// `secs` after t0.
    fn snap(own_id: u64, uptime_s: u64, secs: u64) -> Feed {
        Feed::Snapshot(Arc::new(Snapshot {
            seq: secs + 1,
            taken_at: t0() + Duration::from_secs(secs),
            server: ServerInfo::from_version("10.11.6-MariaDB"),
            variables: Variables {
                max_connections: 100,
                ..Variables::default()
            },
            status: Status {
                threads_connected: 6,
                uptime_s,
                ..Status::default()
            },
            sessions: (1..=5).map(idle).collect(),
            own_id,
            privileges: Default::default(),
            poll_latency: Duration::ZERO,
            statements: 2,
            endpoint: "db:3306".into(),
            locks: Default::default(),
        }))
    }

    /// An app showing a snapshot of connection 9, with `I`'s preview open.
    fn previewing() -> App {
        let mut app = App::new(Options {
            interval: Duration::from_secs(1),
            ..Options::default()
        });
        update(&mut app, Event::Tick(t0()));
        update(&mut app, Event::Feed(snap(9, 1000, 0)));
        app.open_plan(
            PlanKind::Idle,
            KillMode::Connection,
            Duration::from_secs(60),
        );
        assert!(matches!(&app.dialog, Some(Dialog::Confirm(p)) if p.targets.len() == 5));
        app
    }

    fn message(app: &App) -> String {
        app.message
            .as_ref()
            .map(|m| m.text.clone())
            .unwrap_or_default()
    }

    #[test]
    fn a_preview_stays_open_while_the_connection_does() {
        let mut app = previewing();
        update(&mut app, Event::Feed(snap(9, 1001, 1)));
        assert!(matches!(app.dialog, Some(Dialog::Confirm(_))));
        let effects = app.on_dialog_action(Action::Confirm);
        assert!(
            matches!(&effects[..], [Effect::Send(Command::Kill { targets, .. })] if targets.len() == 5),
            "{effects:?}"
        );
    }

    /// After a server restart the ids name new connections: the preview
    /// built on the old ones closes, however the app learns of it.
    #[test]
    fn a_preview_closes_when_the_connection_changes() {
        let cases = [
            (snap(9, 3, 5), "the server restarted: preview closed"),
            (snap(12, 1005, 5), "conntop reconnected: preview closed"),
            (
                Feed::Down(Down {
                    since: t0(),
                    last_error: "gone away".into(),
                    attempts: 1,
                }),
                "the connection was lost: preview closed",
            ),
        ];
        for (feed, said) in cases {
            let mut app = previewing();
            update(&mut app, Event::Feed(feed));
            assert_eq!(app.dialog, None, "{said}");
            assert_eq!(message(&app), said);
        }
    }

    /// Paused on the old server's snapshot while the new one's arrive: no
    /// preview from what is on screen, and a preview already open does not
    /// go ahead.
    #[test]
    fn a_paused_view_of_an_older_connection_cannot_be_killed_from() {
        let mut app = previewing();
        app.dialog = None;
        app.data.toggle_pause();
        update(&mut app, Event::Feed(snap(9, 2, 5)));
        app.open_plan(
            PlanKind::Idle,
            KillMode::Connection,
            Duration::from_secs(60),
        );
        assert_eq!(app.dialog, None);
        assert!(
            message(&app).starts_with("the server restarted while paused: "),
            "{}",
            message(&app)
        );

        // Confirmed just as the link moved, before a feed closed it.
        let mut app = previewing();
        app.data.link += 1;
        app.data.link_change = Some(super::super::data::LinkChange::Reconnected);
        let effects = app.on_dialog_action(Action::Confirm);
        assert!(effects.is_empty(), "{effects:?}");
        assert_eq!(message(&app), "conntop reconnected: preview closed");
    }
}
