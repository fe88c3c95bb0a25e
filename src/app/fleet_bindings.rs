//! The binding tables of the fleet (one row per server) and of a server's
//! dashboard opened from it, as data, like the others in `bindings`.

use crossterm::event::KeyCode;

use super::bindings::{BASE, CTRL_C_QUITS};
use super::keymap::Key::{Char, Code, Ctrl};
use super::keymap::{Action, Binding, Section};

/// What the fleet's handler performs.
pub(super) const FLEET_ACTIONS: &[Action] = &[
    Action::Up,
    Action::Down,
    Action::PageUp,
    Action::PageDown,
    Action::Top,
    Action::Bottom,
    Action::OpenServer,
    Action::Filter,
    Action::ClearFilter,
    Action::NextSort,
    Action::ReverseSort,
    Action::Help,
    Action::Suspend,
    Action::Quit,
];

/// What the fleet does on a server's dashboard, before the table's keys.
pub(super) const SERVER_ACTIONS: &[Action] = &[
    Action::BackToFleet,
    Action::NextServer,
    Action::PrevServer,
    Action::Quit,
];

/// The fleet: one row per server.
pub(super) const FLEET: &[Binding] = &[
    Binding {
        keys: &[Code(KeyCode::Up)],
        action: Action::Up,
        help: "previous server",
        section: Section::Move,
        ..BASE
    },
    Binding {
        keys: &[Code(KeyCode::Down), Char('j')],
        action: Action::Down,
        help: "next server",
        section: Section::Move,
        ..BASE
    },
    Binding {
        keys: &[Code(KeyCode::PageUp), Ctrl('b')],
        action: Action::PageUp,
        help: "page up",
        section: Section::Move,
        ..BASE
    },
    Binding {
        keys: &[Code(KeyCode::PageDown), Ctrl('f')],
        action: Action::PageDown,
        help: "page down",
        section: Section::Move,
        ..BASE
    },
    Binding {
        keys: &[Char('g'), Code(KeyCode::Home)],
        action: Action::Top,
        help: "first server",
        section: Section::Move,
        ..BASE
    },
    Binding {
        keys: &[Char('G'), Code(KeyCode::End)],
        action: Action::Bottom,
        help: "last server",
        section: Section::Move,
        ..BASE
    },
    Binding {
        keys: &[Code(KeyCode::Enter)],
        action: Action::OpenServer,
        hint: Some("open"),
        help: "open the server's dashboard (every view and key of one server)",
        section: Section::View,
        ..BASE
    },
    Binding {
        keys: &[Char('/')],
        action: Action::Filter,
        hint: Some("filter"),
        help: "filter (name, version, state, finding)",
        section: Section::View,
        ..BASE
    },
    Binding {
        keys: &[Code(KeyCode::Esc)],
        action: Action::ClearFilter,
        help: "clear the filter",
        section: Section::View,
        ..BASE
    },
    Binding {
        keys: &[Char('s')],
        action: Action::NextSort,
        hint: Some("sort"),
        help: "sort by the next column (usage first)",
        section: Section::View,
        ..BASE
    },
    Binding {
        keys: &[Char('S')],
        action: Action::ReverseSort,
        help: "reverse the sort",
        section: Section::View,
        ..BASE
    },
    Binding {
        keys: &[Char('?')],
        action: Action::Help,
        hint: Some("help"),
        help: "this help",
        section: Section::General,
        ..BASE
    },
    Binding {
        keys: &[Ctrl('z')],
        action: Action::Suspend,
        help: "suspend to the shell (fg brings conntop back)",
        section: Section::General,
        ..BASE
    },
    Binding {
        keys: &[Char('q'), Ctrl('c')],
        action: Action::Quit,
        hint: Some("quit"),
        help: "quit",
        section: Section::General,
        ..BASE
    },
];

/// A server's dashboard opened from the fleet.
pub(super) const SERVER: &[Binding] = &[
    Binding {
        keys: &[Code(KeyCode::Esc)],
        action: Action::BackToFleet,
        hint: Some("fleet"),
        rank: 1,
        help: "back to the fleet (first clears the table's filter, if any)",
        section: Section::View,
        ..BASE
    },
    Binding {
        keys: &[Char(']')],
        action: Action::NextServer,
        hint: Some("server"),
        rank: 1,
        help: "the next server, in the fleet's order",
        section: Section::View,
        ..BASE
    },
    Binding {
        keys: &[Char('[')],
        action: Action::PrevServer,
        hint: Some("server"),
        rank: 1,
        help: "the previous server",
        section: Section::View,
        ..BASE
    },
    CTRL_C_QUITS,
];
