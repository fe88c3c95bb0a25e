//! The fleet's state and its one entry point, [`update`]: one [`App`] per
//! server, kept up to date in the background from that server's feed, and
//! the fleet screen above them (order, cursor, filter). Enter opens a
//! server's `App` with every view and key it has; the fleet keeps only the
//! way back (`Esc`) and to the neighbours (`]`, `[`). Effects name the
//! server a command is for, so a kill reaches only that server's poller.
//! No terminal, no server: tested as plain data.

use std::time::{Duration, SystemTime};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;

use crate::app::keymap::{self, Action, Mode};
use crate::app::{self, App, Effect, Event, Options};
use crate::command::Command;

use super::rows::{self, Sort, Summary, Totals};
use super::source::{FleetMsg, Msg};

/// Longest filter text, in characters.
const FILTER_MAX: usize = 200;

/// Lines a page scrolls in the help overlay.
const HELP_PAGE: u16 = 10;

/// Lines of the fleet screen that are not rows: title, table border and
/// header, footer.
pub const CHROME: u16 = 4;

/// One server of the fleet.
#[derive(Debug)]
pub struct Member {
    /// The target's name (as given; sanitise to draw).
    pub name: String,
    /// Its dashboard, fed in the background.
    pub app: App,
}

/// A dialog over the fleet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FleetDialog {
    /// The filter being typed (applied live).
    Filter {
        input: String,
    },
    Help {
        scroll: u16,
    },
}

/// Something that happened.
#[derive(Debug, Clone)]
pub enum FleetEvent {
    Key(KeyEvent),
    /// A feed or reply of one server.
    Msg(FleetMsg),
    Tick(SystemTime),
    Resize(u16, u16),
}

/// What the loop must do.
#[derive(Debug, Clone)]
pub enum FleetEffect {
    Quit,
    /// Leave the screen to the shell until `fg` (Ctrl-Z).
    Suspend,
    /// A command for the poller of server `0` only.
    Send(usize, Command),
}

/// The fleet screen and the servers under it.
#[derive(Debug)]
pub struct Fleet {
    pub members: Vec<Member>,
    /// Member indices as shown: filtered and sorted.
    pub order: Vec<usize>,
    /// Position of the cursor in `order`.
    pub cursor: usize,
    /// The member the cursor follows when the order changes, once the user
    /// has moved it (before that the cursor stays on the top row: the
    /// fullest server).
    pub selected: Option<usize>,
    /// First row on screen.
    pub offset: usize,
    pub sort: Sort,
    pub filter: String,
    pub dialog: Option<FleetDialog>,
    /// The server whose dashboard is open.
    pub open: Option<usize>,
    pub now: SystemTime,
    pub interval: Duration,
    /// `--warn` and `--crit` as shares, and colours on.
    pub warn: f64,
    pub crit: f64,
    pub color: bool,
    /// Something on screen changed since the last [`Fleet::take_dirty`].
    dirty: bool,
    /// The rows changed since `order` was computed ([`Fleet::settle`]).
    reorder: bool,
    screen: Rect,
}

impl Fleet {
    /// A fleet of `names`, each with a dashboard made from `opts`.
    pub fn new(names: Vec<String>, opts: &Options) -> Fleet {
        let members = names
            .into_iter()
            .map(|name| {
                let mut app = App::new(opts.clone());
                app.server = Some(name.clone());
                Member { name, app }
            })
            .collect();
        let mut fleet = Fleet {
            members,
            order: Vec::new(),
            cursor: 0,
            selected: None,
            offset: 0,
            sort: Sort::default(),
            filter: String::new(),
            dialog: None,
            open: None,
            now: SystemTime::now(),
            interval: opts.interval,
            warn: opts.thresholds.warn,
            crit: opts.thresholds.crit,
            color: opts.color,
            dirty: true,
            reorder: false,
            screen: Rect::new(0, 0, 80, 24),
        };
        fleet.refresh();
        fleet
    }

    /// Where keys go now.
    pub fn mode(&self) -> Mode {
        match (&self.dialog, self.open) {
            (Some(FleetDialog::Filter { .. }), _) => Mode::Filter,
            (Some(FleetDialog::Help { .. }), _) => Mode::Help,
            (None, Some(_)) => Mode::Server,
            (None, None) => Mode::Fleet,
        }
    }

    /// The row of member `i`.
    pub fn summary(&self, i: usize) -> Option<Summary<'_>> {
        let m = self.members.get(i)?;
        Some(rows::summary(&m.name, &m.app, self.now, self.interval))
    }

    /// Totals over every server (the filter does not change them).
    pub fn totals(&self) -> Totals {
        let all: Vec<Summary<'_>> = (0..self.members.len())
            .filter_map(|i| self.summary(i))
            .collect();
        Totals::of(all.iter())
    }

    /// Rows that fit on the screen.
    pub fn page(&self) -> usize {
        usize::from(self.screen.height.saturating_sub(CHROME)).max(1)
    }

    /// True once after anything on screen changed: the loop redraws then.
    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }

    /// Marks the screen for a redraw (after the terminal came back).
    pub fn touch(&mut self) {
        self.dirty = true;
    }

    /// True when something on screen changed since the last draw.
    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    /// Brings the order up to date with the feeds that came in since it
    /// was computed (feeds only mark it: a hundred servers send a hundred
    /// a second, the screen is drawn a few times a second). Call before
    /// drawing; keys call it themselves.
    pub fn settle(&mut self) {
        if std::mem::take(&mut self.reorder) {
            self.refresh();
        }
    }

    /// Recomputes the order from the rows, keeping the selected server
    /// under the cursor.
    pub fn refresh(&mut self) {
        self.reorder = false;
        let needle = self.filter.to_lowercase();
        let mut shown: Vec<(usize, Summary<'_>)> = self
            .members
            .iter()
            .enumerate()
            .map(|(i, m)| (i, rows::summary(&m.name, &m.app, self.now, self.interval)))
            .filter(|(_, s)| s.matches(&needle))
            .collect();
        let sort = self.sort;
        shown.sort_by(|a, b| rows::compare(&a.1, &b.1, sort).then(a.0.cmp(&b.0)));
        let order: Vec<usize> = shown.into_iter().map(|(i, _)| i).collect();
        self.order = order;
        self.cursor = match self.selected {
            Some(sel) => self
                .order
                .iter()
                .position(|&i| i == sel)
                .unwrap_or(self.cursor),
            None => self.cursor,
        };
        self.cursor = self.cursor.min(self.order.len().saturating_sub(1));
        self.offset = crate::app::table::scroll_offset(
            self.offset,
            self.cursor,
            self.page(),
            self.order.len(),
        );
    }

    fn move_to(&mut self, pos: usize) {
        self.cursor = pos.min(self.order.len().saturating_sub(1));
        self.selected = self.order.get(self.cursor).copied();
        self.offset = crate::app::table::scroll_offset(
            self.offset,
            self.cursor,
            self.page(),
            self.order.len(),
        );
    }

    /// Opens member `i`'s dashboard, brought up to the fleet's clock and size.
    fn open_member(&mut self, i: usize) {
        let Some(m) = self.members.get_mut(i) else {
            return;
        };
        app::update(
            &mut m.app,
            Event::Resize(self.screen.width, self.screen.height),
        );
        app::update(&mut m.app, Event::Tick(self.now));
        self.open = Some(i);
        if let Some(pos) = self.order.iter().position(|&x| x == i) {
            self.move_to(pos);
        }
    }

    /// The server `step` places after (or before) the open one in the
    /// fleet's order, wrapping around.
    fn neighbour(&self, open: usize, forward: bool) -> Option<usize> {
        if self.order.is_empty() {
            return None;
        }
        let n = self.order.len();
        let next = match self.order.iter().position(|&i| i == open) {
            Some(pos) if forward => (pos + 1) % n,
            Some(pos) => (pos + n - 1) % n,
            None => 0,
        };
        self.order.get(next).copied()
    }

    fn on_key(&mut self, key: KeyEvent) -> Vec<FleetEffect> {
        self.settle();
        match self.mode() {
            Mode::Filter => self.on_filter_key(key),
            Mode::Help => self.on_help_key(key),
            Mode::Server => self.on_server_key(key),
            _ => self.on_fleet_key(key),
        }
    }

    fn on_fleet_key(&mut self, key: KeyEvent) -> Vec<FleetEffect> {
        let Some(action) = keymap::action_for(Mode::Fleet, &key) else {
            return Vec::new();
        };
        let (cursor, page) = (self.cursor, self.page());
        match action {
            Action::Quit => return vec![FleetEffect::Quit],
            Action::Suspend => return vec![FleetEffect::Suspend],
            Action::Up => self.move_to(cursor.saturating_sub(1)),
            Action::Down => self.move_to(cursor + 1),
            Action::PageUp => self.move_to(cursor.saturating_sub(page)),
            Action::PageDown => self.move_to(cursor + page),
            Action::Top => self.move_to(0),
            Action::Bottom => self.move_to(usize::MAX),
            Action::OpenServer => {
                if let Some(&i) = self.order.get(self.cursor) {
                    self.open_member(i);
                }
            }
            Action::Filter => {
                self.dialog = Some(FleetDialog::Filter {
                    input: self.filter.clone(),
                })
            }
            Action::ClearFilter => {
                self.filter.clear();
                self.refresh();
            }
            Action::NextSort => {
                let by = self.sort.by.next();
                self.sort = Sort {
                    by,
                    descending: by.descending_first(),
                };
                self.refresh();
            }
            Action::ReverseSort => {
                self.sort.descending = !self.sort.descending;
                self.refresh();
            }
            Action::Help => self.dialog = Some(FleetDialog::Help { scroll: 0 }),
            _ => {}
        }
        Vec::new()
    }

    fn on_filter_key(&mut self, key: KeyEvent) -> Vec<FleetEffect> {
        let Some(FleetDialog::Filter { input }) = &mut self.dialog else {
            return Vec::new();
        };
        match keymap::action_for(Mode::Filter, &key) {
            Some(Action::Quit) => return vec![FleetEffect::Quit],
            Some(Action::ApplyFilter) => {
                self.filter = std::mem::take(input);
                self.dialog = None;
            }
            Some(Action::ClearInput) => {
                self.filter.clear();
                self.dialog = None;
            }
            Some(Action::DeleteChar) => {
                input.pop();
                self.filter = input.clone();
            }
            Some(_) => {}
            // Every other character is typed (`OtherKeys::Typed`).
            None => {
                if let KeyCode::Char(c) = key.code
                    && !key.modifiers.contains(KeyModifiers::CONTROL)
                    && input.chars().count() < FILTER_MAX
                {
                    input.push(c);
                    self.filter = input.clone();
                }
            }
        }
        self.refresh();
        Vec::new()
    }

    fn on_help_key(&mut self, key: KeyEvent) -> Vec<FleetEffect> {
        let Some(FleetDialog::Help { scroll }) = &mut self.dialog else {
            return Vec::new();
        };
        *scroll = match keymap::action_for(Mode::Help, &key) {
            Some(Action::Quit) => return vec![FleetEffect::Quit],
            Some(Action::Up) => scroll.saturating_sub(1),
            Some(Action::Down) => scroll.saturating_add(1),
            Some(Action::PageUp) => scroll.saturating_sub(HELP_PAGE),
            Some(Action::PageDown) => scroll.saturating_add(HELP_PAGE),
            Some(Action::Top) => 0,
            // Clamped to the box when drawn.
            Some(Action::Bottom) => u16::MAX / 2,
            // Esc, and any other key (`OtherKeys::Close`).
            _ => {
                self.dialog = None;
                return Vec::new();
            }
        };
        Vec::new()
    }

    /// Keys on an open server's dashboard: the fleet's own first (only while
    /// no dialog of the dashboard is open), the rest to the dashboard, whose
    /// commands go to that server alone.
    fn on_server_key(&mut self, key: KeyEvent) -> Vec<FleetEffect> {
        let Some(open) = self.open else {
            return Vec::new();
        };
        let Some(member) = self.members.get_mut(open) else {
            self.open = None;
            return Vec::new();
        };
        if member.app.mode() == Mode::Table {
            let table = &member.app.table;
            let nothing_to_clear = table.filter.is_empty() && table.scope.is_none();
            match keymap::action_for(Mode::Server, &key) {
                Some(Action::Quit) => return vec![FleetEffect::Quit],
                Some(Action::BackToFleet) if nothing_to_clear => {
                    self.open = None;
                    self.refresh();
                    return Vec::new();
                }
                Some(Action::NextServer | Action::PrevServer) => {
                    let forward =
                        keymap::action_for(Mode::Server, &key) == Some(Action::NextServer);
                    if let Some(next) = self.neighbour(open, forward) {
                        self.open_member(next);
                    }
                    return Vec::new();
                }
                _ => {}
            }
        }
        app::update(&mut member.app, Event::Key(key))
            .into_iter()
            .map(|effect| match effect {
                Effect::Quit => FleetEffect::Quit,
                Effect::Suspend => FleetEffect::Suspend,
                Effect::Send(cmd) => FleetEffect::Send(open, cmd),
            })
            .collect()
    }

    fn on_msg(&mut self, m: FleetMsg) {
        let Some(member) = self.members.get_mut(m.server) else {
            return;
        };
        let event = match m.msg {
            Msg::Feed(feed) => Event::Feed(feed),
            Msg::Reply(reply) => Event::Reply(reply),
        };
        // Feeds and replies cause no effects in the app.
        let _ = app::update(&mut member.app, event);
        self.reorder = true;
        self.dirty |= self.open.is_none_or(|open| open == m.server);
    }
}

/// The state machine: applies one event, returns what the loop must do.
pub fn update(fleet: &mut Fleet, event: FleetEvent) -> Vec<FleetEffect> {
    match event {
        FleetEvent::Key(key) => {
            fleet.dirty = true;
            fleet.on_key(key)
        }
        FleetEvent::Msg(m) => {
            fleet.on_msg(m);
            Vec::new()
        }
        FleetEvent::Tick(now) => {
            fleet.now = now;
            if let Some(m) = fleet.open.and_then(|i| fleet.members.get_mut(i)) {
                app::update(&mut m.app, Event::Tick(now));
            } else {
                // Staleness moves with the clock.
                fleet.reorder = true;
            }
            fleet.dirty = true;
            Vec::new()
        }
        FleetEvent::Resize(w, h) => {
            fleet.screen = Rect::new(0, 0, w, h);
            for m in &mut fleet.members {
                app::update(&mut m.app, Event::Resize(w, h));
            }
            fleet.refresh();
            fleet.dirty = true;
            Vec::new()
        }
    }
}
