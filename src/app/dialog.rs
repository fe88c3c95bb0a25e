//! The dialog part of the state and its key handling: the filter prompt,
//! the kill preview, a session's detail, help and the diagnosis. Keys reach
//! a dialog as actions from its own binding table (see [`keymap`]).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::command::KillMode;
use crate::filter::Filter;

use super::keymap::{Action, Mode, OtherKeys};
use super::ladder;
use super::preview::{Plan, PlanKind};
use super::{App, Effect, Level};

/// Longest filter text, in characters.
const FILTER_MAX: usize = 200;

/// Lines a page scrolls in a dialog.
const DIALOG_PAGE: u16 = 10;

/// A dialog over the table.
#[derive(Debug, Clone, PartialEq)]
pub enum Dialog {
    /// The keys; it scrolls (it is taller than 24 rows).
    Help {
        scroll: u16,
    },
    Detail {
        id: u64,
        scroll: u16,
    },
    /// The filter being typed (applied live).
    Filter {
        input: String,
    },
    /// A kill preview waiting for confirmation.
    Confirm(Plan),
    Diagnosis {
        scroll: u16,
    },
    /// The plan of a session's statement (keys as in the detail).
    Explain {
        id: u64,
        scroll: u16,
    },
    /// A replay's go-to-a-time prompt.
    GoTo {
        input: String,
    },
}

impl Dialog {
    /// The binding table keys go to while the dialog is open.
    pub fn mode(&self) -> Mode {
        match self {
            Dialog::Help { .. } => Mode::Help,
            Dialog::Detail { .. } => Mode::Detail,
            Dialog::Filter { .. } => Mode::Filter,
            Dialog::Confirm(_) => Mode::Confirm,
            Dialog::Diagnosis { .. } => Mode::Diagnosis,
            Dialog::Explain { .. } => Mode::Detail,
            Dialog::GoTo { .. } => Mode::GoTo,
        }
    }

    /// The scroll offset of a dialog that scrolls.
    pub fn scroll(&self) -> Option<u16> {
        match self {
            Dialog::Help { scroll }
            | Dialog::Detail { scroll, .. }
            | Dialog::Explain { scroll, .. }
            | Dialog::Diagnosis { scroll } => Some(*scroll),
            Dialog::Filter { .. } | Dialog::Confirm(_) | Dialog::GoTo { .. } => None,
        }
    }

    /// Keeps the scroll offset at most `limit` (the end of the text).
    pub(super) fn clamp_scroll(&mut self, limit: u16) {
        match self {
            Dialog::Help { scroll }
            | Dialog::Detail { scroll, .. }
            | Dialog::Explain { scroll, .. }
            | Dialog::Diagnosis { scroll } => *scroll = (*scroll).min(limit),
            Dialog::Filter { .. } | Dialog::Confirm(_) | Dialog::GoTo { .. } => {}
        }
    }
}

/// The new scroll offset for a scrolling action, `None` for other actions.
/// Past the end is clamped after the update (the app knows the screen).
pub(super) fn scrolled(scroll: u16, action: Action) -> Option<u16> {
    match action {
        Action::Up => Some(scroll.saturating_sub(1)),
        Action::Down => Some(scroll.saturating_add(1)),
        Action::PageUp => Some(scroll.saturating_sub(DIALOG_PAGE)),
        Action::PageDown => Some(scroll.saturating_add(DIALOG_PAGE)),
        Action::Top => Some(0),
        Action::Bottom => Some(u16::MAX),
        _ => None,
    }
}

impl App {
    /// An action from the open dialog's table.
    pub(super) fn on_dialog_action(&mut self, action: Action) -> Vec<Effect> {
        let Some(dialog) = self.dialog.take() else {
            return Vec::new();
        };
        match dialog {
            Dialog::Confirm(plan) => return self.on_confirm(plan, action),
            Dialog::Filter { input } => self.on_filter(input, action),
            Dialog::GoTo { input } => return self.on_goto(input, action),
            Dialog::Help { scroll } => {
                self.dialog = scrolled(scroll, action).map(|scroll| Dialog::Help { scroll });
            }
            Dialog::Explain { id, scroll } => return self.on_explain_action(id, scroll, action),
            Dialog::Detail { id, scroll } => match action {
                Action::KillConnection => self.kill_selected_or_tagged(KillMode::Connection),
                Action::KillQuery => self.kill_selected_or_tagged(KillMode::Query),
                Action::Explain => {
                    self.open_explain(id);
                    return vec![Effect::Send(crate::command::Command::Explain { id })];
                }
                _ => {
                    self.dialog =
                        scrolled(scroll, action).map(|scroll| Dialog::Detail { id, scroll });
                }
            },
            Dialog::Diagnosis { scroll } => {
                let t = self.opts.thresholds;
                match action {
                    Action::KillIdle => {
                        self.open_plan(PlanKind::Idle, KillMode::Connection, t.idle_over)
                    }
                    Action::KillLong => {
                        self.open_plan(PlanKind::Long, KillMode::Query, t.query_over)
                    }
                    Action::KillBlocker => self.open_plan(
                        PlanKind::Blocker,
                        KillMode::Connection,
                        std::time::Duration::ZERO,
                    ),
                    _ => {
                        self.dialog =
                            scrolled(scroll, action).map(|scroll| Dialog::Diagnosis { scroll });
                    }
                }
            }
        }
        Vec::new()
    }

    /// A key outside the current mode's table.
    pub(super) fn on_other_key(&mut self, mode: Mode, key: &KeyEvent) {
        match mode.other_keys() {
            OtherKeys::Ignored => {}
            OtherKeys::Close => self.dialog = None,
            OtherKeys::Typed => {
                let KeyCode::Char(c) = key.code else {
                    return;
                };
                if key.modifiers.contains(KeyModifiers::CONTROL) {
                    return;
                }
                self.type_goto(c);
                if let Some(Dialog::Filter { input }) = &mut self.dialog {
                    if input.chars().count() < FILTER_MAX {
                        input.push(c);
                    }
                    let input = input.clone();
                    self.apply_filter(&input);
                }
            }
        }
    }

    /// Applies the typed filter when it parses; otherwise the table keeps
    /// the previous one (the prompt shows why). True when applied.
    fn apply_filter(&mut self, input: &str) -> bool {
        if Filter::parse(input).is_err() {
            return false;
        }
        if self.table.filter != input {
            // A new set of rows: start at its top, as top(1) does.
            self.table.cursor = 0;
            self.table.selected = None;
        }
        self.table.filter = input.to_string();
        self.refresh_rows();
        true
    }

    fn on_filter(&mut self, mut input: String, action: Action) {
        match action {
            // Enter on an expression that does not parse keeps the prompt open.
            Action::ApplyFilter if !self.apply_filter(&input) => {
                self.dialog = Some(Dialog::Filter { input });
            }
            Action::ApplyFilter => {}
            Action::ClearInput => {
                self.table.filter.clear();
                self.refresh_rows();
            }
            Action::DeleteChar => {
                input.pop();
                self.apply_filter(&input);
                self.dialog = Some(Dialog::Filter { input });
            }
            _ => self.dialog = Some(Dialog::Filter { input }),
        }
    }

    fn on_confirm(&mut self, plan: Plan, action: Action) -> Vec<Effect> {
        match action {
            Action::Confirm => return self.confirm(plan),
            Action::Cancel => self.say(Level::Info, "cancelled: nothing killed"),
            Action::ThresholdUp | Action::ThresholdDown if plan.kind.has_threshold() => {
                let rungs = ladder::rungs(plan.kind, self.configured_threshold(plan.kind));
                let threshold = ladder::step(plan.threshold, action == Action::ThresholdUp, &rungs);
                let plan = match self.plan(plan.kind, plan.mode, threshold) {
                    Ok(moved) => moved,
                    Err(why) => {
                        self.say(Level::Warn, why);
                        plan
                    }
                };
                self.dialog = Some(Dialog::Confirm(plan));
            }
            _ => self.dialog = Some(Dialog::Confirm(plan)),
        }
        Vec::new()
    }

    fn confirm(&mut self, plan: Plan) -> Vec<Effect> {
        if let Some(why) = self.stale_plan(&plan) {
            self.say(Level::Warn, why);
            return Vec::new();
        }
        if plan.targets.is_empty() {
            self.say(Level::Info, "nothing to kill");
            return Vec::new();
        }
        vec![Effect::Send(self.kills.start(plan))]
    }
}
