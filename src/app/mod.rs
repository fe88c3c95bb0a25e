//! The dashboard's state and its one entry point, [`update`]: events in
//! (keys, snapshots, replies, ticks), state changed, effects out (commands
//! for the poller, quit). No terminal, no server: tested as plain data.

pub mod keymap;
pub mod rows;

use std::cell::Cell;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::command::{Command, Expect, Feed, KillMode, KillTally, KillTarget, Reply};
use crate::findings::{self, Finding};
use crate::groups::{self, Group, GroupBy, GroupSort};
use crate::history::{History, Sample};
use crate::kill::{self, Safety, Selection};
use crate::snapshot::{Session, Snapshot};
use crate::thresholds::Thresholds;
use keymap::Action;
use rows::{Column, Sort};

/// Settings the dashboard starts with.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub thresholds: Thresholds,
    /// Safety rules for kills; `own_id` comes from the snapshots.
    pub safety: Safety,
    /// The poll interval, to tell a stale snapshot from a live one.
    pub interval: Duration,
    /// Colours on (off with `--no-color` / `NO_COLOR`).
    pub color: bool,
}

/// Something that happened.
#[derive(Debug, Clone)]
pub enum Event {
    Key(KeyEvent),
    Feed(Feed),
    Reply(Reply),
    /// Wall clock moved on (marks stale data, expires messages).
    Tick(SystemTime),
    /// New terminal size (columns, rows).
    Resize(u16, u16),
}

/// What the loop must do after an update.
#[derive(Debug, Clone)]
pub enum Effect {
    Quit,
    Send(Command),
}

/// The main view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Sessions,
    Groups(GroupBy),
}

impl View {
    fn next(self) -> View {
        match self {
            View::Sessions => View::Groups(GroupBy::User),
            View::Groups(GroupBy::User) => View::Groups(GroupBy::Host),
            View::Groups(GroupBy::Host) => View::Groups(GroupBy::Db),
            View::Groups(GroupBy::Db) => View::Sessions,
        }
    }
}

/// What a kill preview is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanKind {
    /// The selected session.
    Selected,
    /// The tagged sessions.
    Tagged,
    /// `I`: sleeping past a threshold.
    Idle,
    /// `L`: running past a threshold.
    Long,
}

/// A kill waiting for confirmation.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub kind: PlanKind,
    pub mode: KillMode,
    /// For `Idle`/`Long`: the threshold, changed with `+`/`-`.
    pub threshold: Duration,
    pub targets: Vec<KillTarget>,
    /// `user@host` -> count, biggest first.
    pub groups: Vec<(String, usize)>,
    /// Tagged sessions the safety rules keep out, with why.
    pub refused: Vec<(u64, String)>,
}

/// A dialog over the main view.
#[derive(Debug, Clone, PartialEq)]
pub enum Modal {
    /// The keys; arrows scroll (it is taller than 24 rows), any other key closes.
    Help {
        scroll: u16,
    },
    Detail {
        id: u64,
        scroll: u16,
    },
    Filter {
        input: String,
    },
    Confirm(Plan),
    Diagnosis {
        scroll: u16,
    },
}

/// How a status message is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

/// A line for the footer that expires.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub text: String,
    pub level: Level,
    pub at: SystemTime,
}

/// How long a message stays.
pub const MESSAGE_FOR: Duration = Duration::from_secs(8);

/// A kill batch the poller is working on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KillRun {
    pub request: u64,
    pub mode: KillMode,
    pub total: usize,
    pub tally: KillTally,
}

/// The poller cannot reach the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Down {
    pub since: SystemTime,
    pub last_error: String,
    pub attempts: u32,
}

/// Threshold ladder for `+`/`-` in a kill preview.
const LADDER_SECS: [u64; 17] = [
    1, 5, 10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 43200, 86400, 172800,
];

/// The dashboard state.
#[derive(Debug)]
pub struct App {
    pub opts: Options,
    pub now: SystemTime,
    /// The snapshot on screen.
    pub snapshot: Option<Arc<Snapshot>>,
    /// The newest snapshot while paused.
    pub pending: Option<Arc<Snapshot>>,
    pub down: Option<Down>,
    pub history: History,
    /// Findings of the newest snapshot, most severe first.
    pub findings: Vec<Finding>,
    /// Counters when conntop started, for "since start" figures.
    pub baseline: Option<Sample>,
    pub view: View,
    pub sort: Sort,
    pub group_sort: (GroupSort, bool),
    /// Free-text filter.
    pub filter: String,
    /// Exact group scope set by Enter on a group row.
    pub scope: Option<(GroupBy, String)>,
    pub hide_idle: bool,
    /// Indices into the shown snapshot's sessions, filtered and sorted.
    pub rows: Vec<usize>,
    /// Group rows of the grouped views.
    pub groups: Vec<Group>,
    /// The selected session id (sessions view); follows the id, not the row.
    pub selected: Option<u64>,
    /// The selected group key (grouped views).
    pub selected_group: Option<String>,
    /// Row index of the selection in `rows` / `groups`.
    pub cursor: usize,
    /// First row drawn; kept by the renderer so the selection stays visible.
    pub offset: Cell<usize>,
    /// Rows the table showed last frame (for PgUp/PgDn).
    pub page: Cell<usize>,
    pub paused: bool,
    pub tags: BTreeSet<u64>,
    /// `Sleep` sessions in the shown snapshot (counted once per snapshot).
    pub sleeping: usize,
    /// The oldest open transaction in the shown snapshot, in ms.
    pub oldest_trx_ms: Option<u64>,
    pub modal: Option<Modal>,
    pub message: Option<Message>,
    pub kill: Option<KillRun>,
    next_request: u64,
}

impl App {
    /// A dashboard with no data yet.
    pub fn new(opts: Options) -> App {
        App {
            opts,
            now: SystemTime::now(),
            snapshot: None,
            pending: None,
            down: None,
            history: History::default(),
            findings: Vec::new(),
            baseline: None,
            view: View::Sessions,
            sort: Sort::default(),
            group_sort: (GroupSort::Sessions, true),
            filter: String::new(),
            scope: None,
            hide_idle: false,
            rows: Vec::new(),
            groups: Vec::new(),
            selected: None,
            selected_group: None,
            cursor: 0,
            offset: Cell::new(0),
            page: Cell::new(20),
            paused: false,
            tags: BTreeSet::new(),
            sleeping: 0,
            oldest_trx_ms: None,
            modal: None,
            message: None,
            kill: None,
            next_request: 1,
        }
    }

    /// The sessions of the shown snapshot.
    pub fn sessions(&self) -> &[Session] {
        self.snapshot
            .as_deref()
            .map_or(&[], |s| s.sessions.as_slice())
    }

    /// The selected session, if any.
    pub fn selected_session(&self) -> Option<&Session> {
        let id = self.selected?;
        self.sessions().iter().find(|s| s.id == id)
    }

    /// True when what is on screen is not live: the connection is down, or
    /// the shown snapshot is older than three intervals (a paused view gets
    /// there too, and says PAUSED in the header).
    pub fn is_stale(&self) -> bool {
        if self.down.is_some() {
            return true;
        }
        let Some(snap) = &self.snapshot else {
            return false;
        };
        let limit = self.opts.interval.max(Duration::from_millis(100)) * 3 + Duration::from_secs(1);
        self.now
            .duration_since(snap.taken_at)
            .is_ok_and(|age| age > limit)
    }

    /// Age of the shown snapshot.
    pub fn snapshot_age(&self) -> Option<Duration> {
        let snap = self.snapshot.as_ref()?;
        self.now.duration_since(snap.taken_at).ok()
    }

    fn say(&mut self, level: Level, text: impl Into<String>) {
        self.message = Some(Message {
            text: text.into(),
            level,
            at: self.now,
        });
    }

    /// Recomputes rows (or groups) and keeps the selection on the same id.
    fn refresh_rows(&mut self) {
        let sessions: &[Session] = self
            .snapshot
            .as_deref()
            .map_or(&[], |s| s.sessions.as_slice());
        match self.view {
            View::Sessions => {
                let mut rows =
                    rows::visible_rows(sessions, &self.filter, self.hide_idle, self.sort);
                if let Some((by, key)) = &self.scope {
                    rows.retain(|&i| by.key_of(&sessions[i]) == key);
                }
                self.rows = rows;
                let pos = self
                    .selected
                    .and_then(|id| self.rows.iter().position(|&i| sessions[i].id == id));
                self.cursor = match pos {
                    Some(p) => p,
                    None => self.cursor.min(self.rows.len().saturating_sub(1)),
                };
                self.selected = self.rows.get(self.cursor).map(|&i| sessions[i].id);
            }
            View::Groups(by) => {
                let max = self
                    .snapshot
                    .as_ref()
                    .map_or(0, |s| s.variables.max_connections);
                let shown: Vec<Session> = sessions
                    .iter()
                    .filter(|s| {
                        !(self.hide_idle && s.is_sleeping()) && rows::matches(s, &self.filter)
                    })
                    .cloned()
                    .collect();
                let mut g = groups::group(&shown, by, max);
                groups::sort_groups(&mut g, self.group_sort.0, self.group_sort.1);
                self.groups = g;
                let pos = self
                    .selected_group
                    .as_ref()
                    .and_then(|k| self.groups.iter().position(|g| &g.key == k));
                self.cursor = match pos {
                    Some(p) => p,
                    None => self.cursor.min(self.groups.len().saturating_sub(1)),
                };
                self.selected_group = self.groups.get(self.cursor).map(|g| g.key.clone());
            }
        }
    }

    fn row_count(&self) -> usize {
        match self.view {
            View::Sessions => self.rows.len(),
            View::Groups(_) => self.groups.len(),
        }
    }

    fn move_cursor(&mut self, to: usize) {
        let n = self.row_count();
        self.cursor = to.min(n.saturating_sub(1));
        match self.view {
            View::Sessions => {
                let sessions = self.sessions();
                self.selected = self.rows.get(self.cursor).map(|&i| sessions[i].id);
            }
            View::Groups(_) => {
                self.selected_group = self.groups.get(self.cursor).map(|g| g.key.clone());
            }
        }
    }

    fn apply_snapshot(&mut self, snap: Arc<Snapshot>) {
        self.opts.safety.own_id = snap.own_id;
        if !self.tags.is_empty() {
            let present: BTreeSet<u64> = snap.sessions.iter().map(|s| s.id).collect();
            self.tags.retain(|id| present.contains(id));
        }
        self.sleeping = snap.sessions.iter().filter(|s| s.is_sleeping()).count();
        self.oldest_trx_ms = snap.sessions.iter().filter_map(|s| s.trx_age_ms).max();
        self.snapshot = Some(snap);
        self.refresh_rows();
    }

    fn on_feed(&mut self, feed: Feed) {
        match feed {
            Feed::Snapshot(snap) => {
                self.now = self.now.max(snap.taken_at);
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
                self.findings = findings::diagnose(&snap, &self.history, &self.opts.thresholds);
                if self.paused {
                    self.pending = Some(snap);
                } else {
                    self.apply_snapshot(snap);
                }
            }
            Feed::Down {
                since,
                last_error,
                attempts,
            } => {
                self.down = Some(Down {
                    since,
                    last_error,
                    attempts,
                });
            }
        }
    }

    fn on_reply(&mut self, reply: Reply) -> Vec<Effect> {
        match reply {
            Reply::KillProgress {
                request,
                total,
                tally,
            } => {
                if let Some(run) = self.kill.as_mut().filter(|r| r.request == request) {
                    run.total = total;
                    run.tally = tally;
                }
                Vec::new()
            }
            Reply::KillDone {
                request,
                mode,
                tally,
                first_error,
            } => {
                if self.kill.is_some_and(|r| r.request == request) {
                    self.kill = None;
                }
                self.tags.clear();
                let mut text = kill::summary(mode, &tally);
                let level = if tally.failed > 0 {
                    Level::Error
                } else {
                    Level::Info
                };
                if let Some(e) = first_error {
                    text.push_str(": ");
                    text.push_str(&e);
                }
                self.say(level, text);
                Vec::new()
            }
        }
    }

    /// Builds a preview for `kind`, or says why there is none.
    fn plan(&mut self, kind: PlanKind, mode: KillMode, threshold: Duration) -> Option<Plan> {
        if self.opts.safety.read_only {
            self.say(
                Level::Warn,
                "read-only mode: kills are disabled (--read-only)",
            );
            return None;
        }
        if self.down.is_some() {
            self.say(
                Level::Warn,
                "not connected: cannot kill until the connection is back",
            );
            return None;
        }
        let sessions = self.sessions();
        let safety = &self.opts.safety;
        let mut refused = Vec::new();
        let targets = match kind {
            PlanKind::Idle => {
                kill::idle_targets(sessions, threshold, safety, &Selection::default())
            }
            PlanKind::Long => {
                kill::long_targets(sessions, threshold, safety, &Selection::default())
            }
            PlanKind::Selected | PlanKind::Tagged => {
                let chosen: Vec<&Session> = if kind == PlanKind::Tagged {
                    sessions
                        .iter()
                        .filter(|s| self.tags.contains(&s.id))
                        .collect()
                } else {
                    self.selected_session().into_iter().collect()
                };
                let mut targets = Vec::new();
                for s in chosen {
                    match safety.refusal(s) {
                        Some(why) => refused.push((s.id, why)),
                        None => targets.push(KillTarget {
                            session: s.clone(),
                            expect: Expect::Same,
                        }),
                    }
                }
                targets.sort_by_key(|t| std::cmp::Reverse(t.session.time_ms));
                targets
            }
        };
        if kind == PlanKind::Selected && targets.is_empty() {
            let why = refused
                .first()
                .map(|(id, why)| format!("session {id} cannot be killed: {why}"))
                .unwrap_or_else(|| "no session selected".to_string());
            self.say(Level::Warn, why);
            return None;
        }
        if kind == PlanKind::Selected
            && mode == KillMode::Query
            && targets.iter().all(|t| t.session.is_sleeping())
        {
            self.say(
                Level::Warn,
                "the session is idle: no query to stop (k kills the connection)",
            );
            return None;
        }
        let groups = kill::group_by_account(&targets);
        Some(Plan {
            kind,
            mode,
            threshold,
            targets,
            groups,
            refused,
        })
    }

    fn open_plan(&mut self, kind: PlanKind, mode: KillMode, threshold: Duration) {
        if self.kill.is_some() {
            self.say(Level::Warn, "a kill is still running");
            return;
        }
        if let Some(plan) = self.plan(kind, mode, threshold) {
            self.modal = Some(Modal::Confirm(plan));
        }
    }

    fn kill_selected_or_tagged(&mut self, mode: KillMode) {
        let kind = if self.tags.is_empty() {
            PlanKind::Selected
        } else {
            PlanKind::Tagged
        };
        if self.view != View::Sessions && kind == PlanKind::Selected {
            self.say(
                Level::Warn,
                "select a session first: Enter opens the group's sessions",
            );
            return;
        }
        self.open_plan(kind, mode, Duration::ZERO);
    }

    fn confirm(&mut self, plan: Plan) -> Vec<Effect> {
        if plan.targets.is_empty() {
            self.say(Level::Info, "nothing to kill");
            return Vec::new();
        }
        let request = self.next_request;
        self.next_request += 1;
        let why = match plan.kind {
            PlanKind::Selected => "selected session".to_string(),
            PlanKind::Tagged => format!("{} tagged sessions", plan.targets.len()),
            PlanKind::Idle => format!(
                "idle kill: Sleep for at least {}",
                humantime::format_duration(plan.threshold)
            ),
            PlanKind::Long => format!(
                "long-running kill: running for at least {}",
                humantime::format_duration(plan.threshold)
            ),
        };
        self.kill = Some(KillRun {
            request,
            mode: plan.mode,
            total: plan.targets.len(),
            tally: KillTally::default(),
        });
        vec![Effect::Send(Command::Kill {
            request,
            mode: plan.mode,
            targets: plan.targets,
            why,
        })]
    }

    fn on_confirm_key(&mut self, plan: Plan, key: &KeyEvent) -> Vec<Effect> {
        match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => {
                self.modal = None;
                return self.confirm(plan);
            }
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc | KeyCode::Char('q') => {
                self.modal = None;
                self.say(Level::Info, "cancelled: nothing killed");
            }
            KeyCode::Char('+') | KeyCode::Char('=') | KeyCode::Char('-') | KeyCode::Char('_')
                if matches!(plan.kind, PlanKind::Idle | PlanKind::Long) =>
            {
                let up = matches!(key.code, KeyCode::Char('+') | KeyCode::Char('='));
                let threshold = step_threshold(plan.threshold, up);
                self.modal = self
                    .plan(plan.kind, plan.mode, threshold)
                    .map(Modal::Confirm)
                    .or(Some(Modal::Confirm(plan)));
            }
            _ => self.modal = Some(Modal::Confirm(plan)),
        }
        Vec::new()
    }

    fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            return vec![Effect::Quit];
        }
        match self.modal.take() {
            Some(Modal::Confirm(plan)) => return self.on_confirm_key(plan, &key),
            Some(Modal::Filter { mut input }) => {
                match key.code {
                    KeyCode::Enter => self.filter = input,
                    KeyCode::Esc => self.filter.clear(),
                    KeyCode::Backspace => {
                        input.pop();
                        self.filter = input.clone();
                        self.modal = Some(Modal::Filter { input });
                    }
                    KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                        if input.chars().count() < 200 {
                            input.push(c);
                        }
                        self.filter = input.clone();
                        self.modal = Some(Modal::Filter { input });
                    }
                    _ => self.modal = Some(Modal::Filter { input }),
                }
                self.refresh_rows();
                return Vec::new();
            }
            Some(Modal::Help { scroll }) => {
                // Scroll keys scroll; any other key closes.
                if let Some(scroll) = scroll_key(scroll, key.code) {
                    self.modal = Some(Modal::Help { scroll });
                }
                return Vec::new();
            }
            Some(Modal::Detail { id, scroll }) => {
                match (scroll_key(scroll, key.code), key.code) {
                    (Some(scroll), _) => self.modal = Some(Modal::Detail { id, scroll }),
                    (None, KeyCode::Char('k')) => {
                        self.kill_selected_or_tagged(KillMode::Connection)
                    }
                    (None, KeyCode::Char('x')) => self.kill_selected_or_tagged(KillMode::Query),
                    _ => {}
                }
                return Vec::new();
            }
            Some(Modal::Diagnosis { scroll }) => {
                let t = self.opts.thresholds;
                match (scroll_key(scroll, key.code), key.code) {
                    (Some(scroll), _) => self.modal = Some(Modal::Diagnosis { scroll }),
                    (None, KeyCode::Char('I')) => {
                        self.open_plan(PlanKind::Idle, KillMode::Connection, t.idle_over)
                    }
                    (None, KeyCode::Char('L')) => {
                        self.open_plan(PlanKind::Long, KillMode::Query, t.query_over)
                    }
                    _ => {}
                }
                return Vec::new();
            }
            None => {}
        }
        let Some(action) = keymap::action_for(&key) else {
            return Vec::new();
        };
        self.on_action(action)
    }

    fn on_action(&mut self, action: Action) -> Vec<Effect> {
        let page = self.page.get().max(1);
        match action {
            Action::Quit => return vec![Effect::Quit],
            Action::Up => self.move_cursor(self.cursor.saturating_sub(1)),
            Action::Down => self.move_cursor(self.cursor + 1),
            Action::PageUp => self.move_cursor(self.cursor.saturating_sub(page)),
            Action::PageDown => self.move_cursor(self.cursor + page),
            Action::Top => self.move_cursor(0),
            Action::Bottom => self.move_cursor(usize::MAX),
            Action::NextSort | Action::ReverseSort => {
                let next = action == Action::NextSort;
                match self.view {
                    View::Sessions if next => {
                        self.sort.column = self.sort.column.next();
                        // Numbers read best largest first, text A to Z.
                        self.sort.descending = self.sort.column == Column::Time;
                    }
                    View::Sessions => self.sort.descending = !self.sort.descending,
                    View::Groups(_) if next => {
                        self.group_sort.0 = self.group_sort.0.next();
                        self.group_sort.1 = self.group_sort.0 != GroupSort::Key;
                    }
                    View::Groups(_) => self.group_sort.1 = !self.group_sort.1,
                }
                self.refresh_rows();
            }
            Action::Filter => {
                self.modal = Some(Modal::Filter {
                    input: self.filter.clone(),
                });
            }
            Action::ClearFilter => {
                self.filter.clear();
                self.scope = None;
                self.refresh_rows();
            }
            Action::ToggleIdle => {
                self.hide_idle = !self.hide_idle;
                self.refresh_rows();
            }
            Action::Detail => match self.view {
                View::Sessions => {
                    if let Some(id) = self.selected {
                        self.modal = Some(Modal::Detail { id, scroll: 0 });
                    }
                }
                View::Groups(by) => {
                    if let Some(key) = self.selected_group.clone() {
                        self.scope = Some((by, key));
                        self.view = View::Sessions;
                        self.cursor = 0;
                        self.selected = None;
                        self.refresh_rows();
                    }
                }
            },
            Action::Pause => {
                self.paused = !self.paused;
                if !self.paused {
                    if let Some(snap) = self.pending.take() {
                        self.apply_snapshot(snap);
                    }
                }
            }
            Action::Help => self.modal = Some(Modal::Help { scroll: 0 }),
            Action::NextView => {
                self.view = self.view.next();
                self.cursor = 0;
                self.refresh_rows();
            }
            Action::Diagnosis => self.modal = Some(Modal::Diagnosis { scroll: 0 }),
            Action::KillConnection => self.kill_selected_or_tagged(KillMode::Connection),
            Action::KillQuery => self.kill_selected_or_tagged(KillMode::Query),
            // `rows` is only kept up to date in the sessions view.
            Action::Tag | Action::TagAll if self.view != View::Sessions => self.say(
                Level::Warn,
                "tag in the sessions view: Enter opens the group's sessions",
            ),
            Action::Tag => {
                if let Some(id) = self.selected {
                    if !self.tags.remove(&id) {
                        self.tags.insert(id);
                    }
                    self.move_cursor(self.cursor + 1);
                }
            }
            Action::TagAll => {
                let sessions = self.sessions();
                let shown: BTreeSet<u64> = self.rows.iter().map(|&i| sessions[i].id).collect();
                if !shown.is_empty() && shown.is_subset(&self.tags) {
                    self.tags.retain(|id| !shown.contains(id));
                } else {
                    self.tags.extend(shown);
                }
            }
            Action::KillIdle => self.open_plan(
                PlanKind::Idle,
                KillMode::Connection,
                self.opts.thresholds.idle_over,
            ),
            Action::KillLong => self.open_plan(
                PlanKind::Long,
                KillMode::Query,
                self.opts.thresholds.query_over,
            ),
        }
        Vec::new()
    }
}

/// The new scroll offset of a scrolling dialog for a key, or `None` when
/// the key does not scroll (arrows by a line, PgUp/PgDn by ten).
fn scroll_key(scroll: u16, code: KeyCode) -> Option<u16> {
    match code {
        KeyCode::Up => Some(scroll.saturating_sub(1)),
        KeyCode::Down => Some(scroll.saturating_add(1)),
        KeyCode::PageUp => Some(scroll.saturating_sub(10)),
        KeyCode::PageDown => Some(scroll.saturating_add(10)),
        _ => None,
    }
}

/// The next rung of the threshold ladder up or down.
pub fn step_threshold(current: Duration, up: bool) -> Duration {
    let secs = current.as_secs();
    let next = if up {
        LADDER_SECS.iter().copied().find(|&s| s > secs)
    } else {
        LADDER_SECS.iter().rev().copied().find(|&s| s < secs)
    };
    Duration::from_secs(next.unwrap_or(secs.max(1)))
}

/// The state machine: applies one event, returns what the loop must do.
pub fn update(app: &mut App, event: Event) -> Vec<Effect> {
    match event {
        Event::Key(key) => app.on_key(key),
        Event::Feed(feed) => {
            app.on_feed(feed);
            Vec::new()
        }
        Event::Reply(reply) => app.on_reply(reply),
        Event::Tick(now) => {
            app.now = now;
            if app
                .message
                .as_ref()
                .is_some_and(|m| now.duration_since(m.at).is_ok_and(|age| age > MESSAGE_FOR))
            {
                app.message = None;
            }
            Vec::new()
        }
        Event::Resize(_, _) => Vec::new(),
    }
}
