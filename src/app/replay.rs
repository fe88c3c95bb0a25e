//! The replay part of the state: where the time cursor is, what the replay
//! source sent, and the replay keys (their binding table is tried before the
//! table's while replaying; the table's other keys work as live). A replay
//! is read-only: kills are refused by the read-only rule.

use std::time::SystemTime;

use crate::command::{Command, Feed};
use crate::findings;
use crate::replay::{ReplayCommand, ReplayFrame};

use super::dialog::Dialog;
use super::keymap::Action;
use super::{App, Effect, Level};

/// Longest typed time, in characters.
const GOTO_MAX: usize = 40;

/// Where the replay's cursor is, as the header shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayView {
    /// The recorded moment on screen.
    pub at: SystemTime,
    /// The first and last recorded moments.
    pub first: SystemTime,
    pub last: SystemTime,
    /// Playing at this multiple of recorded time; `None` when paused.
    pub speed: Option<u32>,
}

/// What a kill key says in a replay.
pub const READ_ONLY: &str = "a replay is read-only: nothing can be killed";

impl App {
    /// Turns this dashboard into a replay: read-only, with a time cursor.
    pub fn start_replay(&mut self) {
        self.opts.safety.read_only = true;
        self.replay = Some(ReplayView {
            at: SystemTime::UNIX_EPOCH,
            first: SystemTime::UNIX_EPOCH,
            last: SystemTime::UNIX_EPOCH,
            speed: None,
        });
    }

    /// Takes in where the replay is.
    pub(super) fn on_replay(&mut self, frame: ReplayFrame) {
        self.replay = Some(ReplayView {
            at: frame.at,
            first: frame.first,
            last: frame.last,
            speed: frame.speed,
        });
        if let Some(text) = frame.message {
            self.say(Level::Info, text);
        }
        if frame.baseline.is_some() {
            self.data.baseline = frame.baseline;
        }
        match frame.history {
            // One step forward: as a live snapshot arrives.
            None => match (frame.down, frame.snapshot) {
                (Some(down), _) => self.data.down = Some(down),
                (None, Some(snap)) => self.on_feed(Feed::Snapshot(snap)),
                (None, None) => {}
            },
            // A jump: the history up to the cursor replaces the app's.
            Some(history) => {
                self.data.history = history;
                self.data.down = frame.down;
                match frame.snapshot {
                    Some(snap) => {
                        self.data.findings =
                            findings::diagnose(&snap, &self.data.history, &self.opts.thresholds);
                        self.apply_snapshot(snap);
                    }
                    None => self.data.findings.clear(),
                }
            }
        }
    }

    /// An action from the replay's bindings.
    pub(super) fn on_replay_action(&mut self, action: Action) -> Vec<Effect> {
        let cmd = match action {
            Action::StepBack => ReplayCommand::Step(-1),
            Action::StepForward => ReplayCommand::Step(1),
            Action::MinuteBack => ReplayCommand::Skip(-crate::replay::source::MINUTE_MS),
            Action::MinuteForward => ReplayCommand::Skip(crate::replay::source::MINUTE_MS),
            Action::NextEvent => ReplayCommand::NextEvent,
            Action::PreviousEvent => ReplayCommand::PreviousEvent,
            Action::PlayPause => ReplayCommand::PlayPause,
            Action::Faster => ReplayCommand::Faster,
            Action::Slower => ReplayCommand::Slower,
            Action::GoTo => {
                self.dialog = Some(Dialog::GoTo {
                    input: String::new(),
                });
                return Vec::new();
            }
            Action::Quit => return vec![Effect::Quit],
            _ => return Vec::new(),
        };
        vec![Effect::Send(Command::Replay(cmd))]
    }

    /// An action of the go-to prompt.
    pub(super) fn on_goto(&mut self, mut input: String, action: Action) -> Vec<Effect> {
        match action {
            Action::ApplyFilter if !input.trim().is_empty() => {
                return vec![Effect::Send(Command::Replay(ReplayCommand::GoTo(input)))];
            }
            Action::ApplyFilter | Action::ClearInput => {}
            Action::DeleteChar => {
                input.pop();
                self.dialog = Some(Dialog::GoTo { input });
            }
            _ => self.dialog = Some(Dialog::GoTo { input }),
        }
        Vec::new()
    }

    /// A character typed into the go-to prompt.
    pub(super) fn type_goto(&mut self, c: char) {
        if let Some(Dialog::GoTo { input }) = &mut self.dialog {
            if input.chars().count() < GOTO_MAX {
                input.push(c);
            }
        }
    }
}
