//! The dashboard's state and its one entry point, [`update`]: events in
//! (keys, snapshots, replies, ticks, resizes), state changed, effects out
//! (commands for the poller, quit). No terminal, no server: tested as plain
//! data, and drawn read-only by `ui::render`.
//!
//! The state comes in parts: live [`Data`], the [`TableView`], the open
//! [`Dialog`] and the [`Kills`] in progress. Keys become actions through the
//! binding table of the current [`Mode`] ([`keymap`]).

mod bindings;
pub mod data;
pub mod dialog;
mod explain;
mod fleet_bindings;
pub mod keymap;
pub mod ladder;
mod locks;
pub mod pools;
pub mod preview;
pub mod progress;
pub mod replay;
mod replay_bindings;
pub mod rows;
pub mod table;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crossterm::event::KeyEvent;
use ratatui::layout::Rect;

use crate::command::{Command, Feed, KillMode, Reply};
use crate::kill::Safety;
use crate::snapshot::{Session, Snapshot};
use crate::thresholds::Thresholds;

pub use data::Data;
pub use dialog::Dialog;
pub use keymap::{Action, Mode};
pub use preview::{Plan, PlanKind};
pub use progress::{KillRun, Kills};
pub use replay::ReplayView;
pub use table::{GroupOrder, TableView, View};

/// Settings the dashboard starts with.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub thresholds: Thresholds,
    /// Safety rules for kills; the connection's part (own id, whose
    /// sessions it may kill) comes from each snapshot.
    pub safety: Safety,
    /// The poll interval (validated against `poller::MIN_INTERVAL` by the
    /// command line), to tell a stale snapshot from a live one; `+`/`-`
    /// change it while running ([`ladder::INTERVALS`]).
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
    /// New terminal size (columns, rows); also sent once at start.
    Resize(u16, u16),
}

/// What the loop must do after an update.
#[derive(Debug, Clone)]
pub enum Effect {
    Quit,
    /// Leave the screen to the shell and stop until continued (Ctrl-Z).
    Suspend,
    Send(Command),
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

/// The terminal size assumed until the first [`Event::Resize`].
const DEFAULT_SCREEN: Rect = Rect {
    x: 0,
    y: 0,
    width: 80,
    height: 24,
};

/// The dashboard state.
#[derive(Debug)]
pub struct App {
    pub opts: Options,
    pub now: SystemTime,
    /// What the poller sent.
    pub data: Data,
    /// What the table shows and the selection in it.
    pub table: TableView,
    /// The dialog over the table, if any.
    pub dialog: Option<Dialog>,
    /// The kill batch in progress.
    pub kills: Kills,
    pub message: Option<Message>,
    /// Set while replaying a recording: the time cursor.
    pub replay: Option<ReplayView>,
    /// The server's name when this dashboard is one of a fleet: the header,
    /// every kill confirmation and every kill message name it.
    pub server: Option<String>,
    /// The terminal's area, for the table's height.
    screen: Rect,
}

impl App {
    /// A dashboard with no data yet.
    pub fn new(opts: Options) -> App {
        let mut app = App {
            opts,
            now: SystemTime::now(),
            data: Data::default(),
            table: TableView::default(),
            dialog: None,
            kills: Kills::default(),
            message: None,
            replay: None,
            server: None,
            screen: DEFAULT_SCREEN,
        };
        app.fit();
        app
    }

    /// Where keys go now.
    pub fn mode(&self) -> Mode {
        self.dialog.as_ref().map_or(Mode::Table, Dialog::mode)
    }

    /// The sessions of the shown snapshot.
    pub fn sessions(&self) -> &[Session] {
        self.data.sessions()
    }

    /// The selected session, if any.
    pub fn selected_session(&self) -> Option<&Session> {
        let id = self.table.acted_on()?;
        self.sessions().iter().find(|s| s.id == id)
    }

    /// True when what is on screen is not live: the connection is down, or
    /// the shown snapshot is older than three intervals (a paused view gets
    /// there too, and says PAUSED in the header).
    pub fn is_stale(&self) -> bool {
        // A replay shows the past on purpose; the header says REPLAY.
        self.replay.is_none() && self.data.is_stale(self.now, self.opts.interval)
    }

    /// Age of the shown snapshot.
    pub fn snapshot_age(&self) -> Option<Duration> {
        self.data.age(self.now)
    }

    fn say(&mut self, level: Level, text: impl Into<String>) {
        let text = text.into();
        let text = match &self.server {
            Some(name) => format!("{}: {text}", crate::text::one_line(name, 60)),
            None => text,
        };
        self.message = Some(Message {
            text,
            level,
            at: self.now,
        });
    }

    /// Recomputes the table's rows (or groups) from the shown snapshot.
    fn refresh_rows(&mut self) {
        self.table.refresh(
            self.data.sessions(),
            self.data.max_connections(),
            self.data.locks(),
        );
    }

    fn move_to(&mut self, row: usize) {
        self.table.move_to(row, self.data.sessions());
    }

    /// The terminal's area.
    pub fn screen(&self) -> Rect {
        self.screen
    }

    /// How far the open dialog's text scrolls on this screen (0 when it
    /// fits or does not scroll).
    pub fn scroll_limit(&self) -> u16 {
        crate::ui::scroll_limit(self, self.screen)
    }

    /// The table's height from the screen, the cursor kept in view, and
    /// the dialog's scrolling kept within its text.
    fn fit(&mut self) {
        self.table.height = crate::ui::layout::table_rows(self.screen, self.data.findings.len());
        self.table.scroll_to_cursor();
        let limit = self.scroll_limit();
        if let Some(d) = self.dialog.as_mut() {
            d.clamp_scroll(limit);
        }
    }

    /// The threshold `I` or `L` starts from (`--idle-over`, `--query-over`).
    fn configured_threshold(&self, kind: PlanKind) -> Duration {
        match kind {
            PlanKind::Long => self.opts.thresholds.query_over,
            _ => self.opts.thresholds.idle_over,
        }
    }

    /// `+`/`-` in the table: the next refresh interval, for the poller too.
    fn step_interval(&mut self, up: bool) -> Vec<Effect> {
        let next = ladder::step(self.opts.interval, up, &ladder::INTERVALS);
        if next == self.opts.interval {
            let end = if up { "longest" } else { "shortest" };
            self.say(
                Level::Info,
                format!(
                    "refresh every {}: the {end} step",
                    crate::text::short_duration(next)
                ),
            );
            return Vec::new();
        }
        self.opts.interval = next;
        self.say(
            Level::Info,
            format!("refresh every {}", crate::text::short_duration(next)),
        );
        vec![Effect::Send(Command::SetInterval(next))]
    }

    fn apply_snapshot(&mut self, snap: Arc<Snapshot>) {
        // The preview's rules follow the connection the snapshot came from
        // (its id, and whose sessions its account may kill).
        self.opts.safety = self.opts.safety.connected(snap.own_id, &snap.privileges);
        if !self.table.tags.is_empty() {
            let present: BTreeSet<u64> = snap.sessions.iter().map(|s| s.id).collect();
            self.table.tags.retain(|id| present.contains(id));
        }
        self.data.show(snap);
        self.refresh_rows();
    }

    fn on_feed(&mut self, feed: Feed) {
        if let Feed::Snapshot(snap) = &feed {
            self.now = self.now.max(snap.taken_at);
        }
        if let Some(snap) = self.data.receive(feed, &self.opts.thresholds) {
            self.apply_snapshot(snap);
        }
        self.close_stale_preview();
    }

    fn on_reply(&mut self, reply: Reply) {
        let reply = match reply {
            Reply::Replay(frame) => return self.on_replay(*frame),
            other => other,
        };
        if let Reply::Statement { id, text } = reply {
            self.data.statement = Some((id, text));
            return;
        }
        if let Reply::Explain { id, plan } = reply {
            self.data.explain = Some((id, plan));
            return;
        }
        if let Some((level, text)) = self.kills.on_reply(reply) {
            self.table.tags.clear();
            // What the kill changed shows with the next snapshot, not after
            // the findings' hold: a freed leak must not look still there.
            self.data.forget_held_findings();
            self.say(level, text);
        }
    }

    fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let mode = self.mode();
        if mode == Mode::Table && self.replay.is_some() {
            if let Some(action) = keymap::action_for(Mode::Replay, &key) {
                return self.on_replay_action(action);
            }
        }
        match keymap::action_for(mode, &key) {
            Some(Action::Quit) => vec![Effect::Quit],
            Some(Action::Suspend) => vec![Effect::Suspend],
            Some(action) if mode == Mode::Table => {
                let mut effects = self.on_table_action(action);
                effects.extend(self.read_statement());
                effects
            }
            Some(action) => self.on_dialog_action(action),
            None => {
                self.on_other_key(mode, &key);
                Vec::new()
            }
        }
    }

    /// An action from the table's bindings.
    fn on_table_action(&mut self, action: Action) -> Vec<Effect> {
        let (cursor, page) = (self.table.cursor, self.table.page());
        match action {
            Action::Up => self.move_to(cursor.saturating_sub(1)),
            Action::Down => self.move_to(cursor + 1),
            Action::PageUp => self.move_to(cursor.saturating_sub(page)),
            Action::PageDown => self.move_to(cursor + page),
            Action::Top => self.move_to(0),
            Action::Bottom => self.move_to(usize::MAX),
            Action::NextSort | Action::ReverseSort => {
                let visible = crate::ui::sessions::columns_for(self.screen.width);
                self.table.change_sort(action == Action::NextSort, &visible);
                self.refresh_rows();
            }
            Action::Filter => {
                self.dialog = Some(Dialog::Filter {
                    input: self.table.filter.clone(),
                });
            }
            Action::ClearFilter => {
                self.table.filter.clear();
                self.table.scope = None;
                self.refresh_rows();
            }
            Action::ToggleIdle => {
                self.table.hide_idle = !self.table.hide_idle;
                self.refresh_rows();
            }
            Action::Detail => match self.table.view {
                View::Sessions | View::Locks => {
                    if let Some(id) = self.table.acted_on() {
                        self.dialog = Some(Dialog::Detail { id, scroll: 0 });
                    }
                }
                View::Groups(by) => {
                    if let Some(key) = self.table.selected_group.clone() {
                        self.table.scope = Some((by, key));
                        self.table.view = View::Sessions;
                        self.table.cursor = 0;
                        self.table.selected = None;
                        self.refresh_rows();
                    }
                }
            },
            Action::Pause => {
                if let Some(snap) = self.data.toggle_pause() {
                    self.apply_snapshot(snap);
                }
            }
            Action::IntervalUp | Action::IntervalDown => {
                return self.step_interval(action == Action::IntervalUp);
            }
            Action::Help => self.dialog = Some(Dialog::Help { scroll: 0 }),
            Action::NextView => {
                self.table.view = self.table.view.next();
                self.table.cursor = 0;
                self.refresh_rows();
            }
            Action::Diagnosis => self.dialog = Some(Dialog::Diagnosis { scroll: 0 }),
            Action::KillConnection => self.kill_selected_or_tagged(KillMode::Connection),
            Action::KillQuery => self.kill_selected_or_tagged(KillMode::Query),
            // `rows` is only kept up to date in the sessions view.
            Action::Tag | Action::TagAll if self.table.view != View::Sessions => self.say(
                Level::Warn,
                format!(
                    "tag in the sessions view: {} opens the group's sessions",
                    keymap::key(Action::Detail)
                ),
            ),
            Action::Tag => {
                if let Some(id) = self.table.selected {
                    if !self.table.tags.remove(&id) {
                        self.table.tags.insert(id);
                    }
                    self.move_to(cursor + 1);
                }
            }
            Action::TagAll => self.table.tag_all(self.data.sessions()),
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
            Action::KillBlocker => {
                self.open_plan(PlanKind::Blocker, KillMode::Connection, Duration::ZERO)
            }
            Action::Explain => match self.table.acted_on() {
                Some(id) if !matches!(self.table.view, View::Groups(_)) => self.open_explain(id),
                _ => self.say(
                    Level::Warn,
                    format!(
                        "select a session first: {} opens the group's sessions",
                        keymap::key(Action::Detail)
                    ),
                ),
            },
            // Quit and Suspend are answered before; the rest belong to dialogs.
            Action::Quit
            | Action::Suspend
            | Action::Confirm
            | Action::Cancel
            | Action::ThresholdUp
            | Action::ThresholdDown
            | Action::ApplyFilter
            | Action::ClearInput
            | Action::DeleteChar
            | Action::Close
            | Action::StepBack
            | Action::StepForward
            | Action::MinuteBack
            | Action::MinuteForward
            | Action::NextEvent
            | Action::PreviousEvent
            | Action::PlayPause
            | Action::Faster
            | Action::Slower
            | Action::GoTo => {}
            // The fleet's, handled above the app.
            Action::OpenServer | Action::BackToFleet | Action::NextServer | Action::PrevServer => {}
        }
        Vec::new()
    }
}

impl App {
    /// A session just opened in the detail or a single-session confirmation
    /// gets its whole statement read (one row, on demand).
    fn read_statement(&mut self) -> Vec<Effect> {
        let id = match &self.dialog {
            Some(Dialog::Detail { id, .. }) => *id,
            Some(Dialog::Explain { id, .. }) if self.data.explain.is_none() => {
                return vec![Effect::Send(Command::Explain { id: *id })];
            }
            Some(Dialog::Confirm(plan))
                if matches!(plan.kind, PlanKind::Selected | PlanKind::Blocker) =>
            {
                match plan.targets.first() {
                    Some(t) => t.session.id,
                    None => return Vec::new(),
                }
            }
            _ => return Vec::new(),
        };
        self.data.statement = None;
        vec![Effect::Send(Command::Statement { id })]
    }

    /// The detail's whole statement is read again when the session moved on
    /// to another one (the listed start no longer matches what was read).
    fn reread_statement(&mut self) -> Vec<Effect> {
        let Some(Dialog::Detail { id, .. }) = &self.dialog else {
            return Vec::new();
        };
        let Some((read_id, Ok(read))) = &self.data.statement else {
            return Vec::new();
        };
        let listed = self
            .sessions()
            .iter()
            .find(|s| s.id == *id)
            .and_then(|s| s.info.as_deref());
        if read_id == id && !statement_matches(read.as_deref(), listed) {
            return self.read_statement();
        }
        Vec::new()
    }
}

/// Does a whole statement read earlier still belong to what the
/// processlist lists now (its first characters)?
pub fn statement_matches(whole: Option<&str>, listed: Option<&str>) -> bool {
    match (whole, listed) {
        (Some(whole), Some(listed)) => whole.starts_with(listed),
        (None, None) => true,
        _ => false,
    }
}

/// The state machine: applies one event, returns what the loop must do.
pub fn update(app: &mut App, event: Event) -> Vec<Effect> {
    let effects = match event {
        Event::Key(key) => app.on_key(key),
        Event::Feed(feed) => {
            app.on_feed(feed);
            app.reread_statement()
        }
        Event::Reply(reply) => {
            app.on_reply(reply);
            Vec::new()
        }
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
        Event::Resize(width, height) => {
            app.screen = Rect::new(0, 0, width, height);
            Vec::new()
        }
    };
    app.fit();
    effects
}
