//! The binding tables of a replay (the time cursor) and of its go-to
//! prompt, as data, like the others in `bindings`.

use crossterm::event::KeyCode;

use super::bindings::{BASE, CTRL_C_QUITS};
use super::keymap::Key::{Char, Code};
use super::keymap::{Action, Binding, Section};

/// What the replay's handler performs.
pub(super) const REPLAY_ACTIONS: &[Action] = &[
    Action::StepBack,
    Action::StepForward,
    Action::MinuteBack,
    Action::MinuteForward,
    Action::NextEvent,
    Action::PreviousEvent,
    Action::PlayPause,
    Action::Slower,
    Action::Faster,
    Action::GoTo,
    Action::Quit,
];

/// What the go-to prompt's handler performs.
pub(super) const GO_TO_ACTIONS: &[Action] = &[
    Action::ApplyFilter,
    Action::ClearInput,
    Action::DeleteChar,
    Action::Quit,
];

/// A replay: these keys come before the table's (whose other keys work).
pub(super) const REPLAY: &[Binding] = &[
    Binding {
        keys: &[Code(KeyCode::Left)],
        action: Action::StepBack,
        hint: Some("back"),
        help: "one sample back",
        ..BASE
    },
    Binding {
        keys: &[Code(KeyCode::Right)],
        action: Action::StepForward,
        hint: Some("forward"),
        help: "one sample forward",
        ..BASE
    },
    Binding {
        keys: &[Char('[')],
        action: Action::MinuteBack,
        hint: Some("-1m"),
        help: "a minute back",
        section: Section::Move,
        ..BASE
    },
    Binding {
        keys: &[Char(']')],
        action: Action::MinuteForward,
        hint: Some("+1m"),
        help: "a minute forward",
        section: Section::Move,
        ..BASE
    },
    Binding {
        keys: &[Char('n')],
        action: Action::NextEvent,
        hint: Some("next event"),
        help: "next event: usage crossing warn/crit/100%, 1040 refusals, a finding, down",
        ..BASE
    },
    Binding {
        keys: &[Char('N')],
        action: Action::PreviousEvent,
        hint: Some("previous"),
        help: "previous event",
        section: Section::Move,
        ..BASE
    },
    Binding {
        keys: &[Char('p'), Char(' ')],
        action: Action::PlayPause,
        hint: Some("play"),
        help: "play / pause (1x; < and > change the speed)",
        ..BASE
    },
    Binding {
        keys: &[Char('<')],
        action: Action::Slower,
        hint: Some("slower"),
        help: "play slower",
        section: Section::View,
        ..BASE
    },
    Binding {
        keys: &[Char('>')],
        action: Action::Faster,
        hint: Some("faster"),
        help: "play faster: 1x, 10x, 60x, 600x, 3600x",
        section: Section::View,
        ..BASE
    },
    Binding {
        keys: &[Char(':')],
        action: Action::GoTo,
        hint: Some("go to"),
        help: "go to a time: 03:12, 2026-11-30 03:12:05 (UTC), -10m, start, end",
        ..BASE
    },
    CTRL_C_QUITS,
];

/// The go-to prompt of a replay: every other character is typed.
pub(super) const GO_TO: &[Binding] = &[
    Binding {
        keys: &[Code(KeyCode::Enter)],
        action: Action::ApplyFilter,
        hint: Some("go"),
        ..BASE
    },
    Binding {
        keys: &[Code(KeyCode::Esc)],
        action: Action::ClearInput,
        hint: Some("cancel"),
        ..BASE
    },
    Binding {
        keys: &[Code(KeyCode::Backspace)],
        action: Action::DeleteChar,
        hint: Some("delete"),
        ..BASE
    },
    CTRL_C_QUITS,
];
