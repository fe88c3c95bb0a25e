//! The binding tables, one per mode, as data: every key conntop reads is
//! here. `keymap` looks keys up in them and generates hints and help.

use crossterm::event::KeyCode;

use super::keymap::Key::{Char, Code, Ctrl};
use super::keymap::{Action, Binding, Mode, Section};

/// The table of `mode`.
pub(super) fn table(mode: Mode) -> &'static [Binding] {
    match mode {
        Mode::Table => TABLE,
        Mode::Filter => FILTER,
        Mode::Confirm => CONFIRM,
        Mode::Detail => DETAIL,
        Mode::Help => HELP,
        Mode::Diagnosis => DIAGNOSIS,
        Mode::Replay => super::replay_bindings::REPLAY,
        Mode::GoTo => super::replay_bindings::GO_TO,
        Mode::Fleet => super::fleet_bindings::FLEET,
        Mode::Server => super::fleet_bindings::SERVER,
    }
}

/// The actions the handler of `mode` performs.
pub(super) fn actions(mode: Mode) -> &'static [Action] {
    use Action::*;
    match mode {
        Mode::Table => &[
            Quit,
            Suspend,
            Up,
            Down,
            PageUp,
            PageDown,
            Top,
            Bottom,
            NextSort,
            ReverseSort,
            Filter,
            ClearFilter,
            ToggleIdle,
            Detail,
            Pause,
            IntervalUp,
            IntervalDown,
            Help,
            NextView,
            Diagnosis,
            KillConnection,
            KillQuery,
            Tag,
            TagAll,
            KillIdle,
            KillLong,
            KillBlocker,
            Explain,
        ],
        Mode::Filter => &[ApplyFilter, ClearInput, DeleteChar, Quit],
        Mode::Confirm => &[Confirm, Cancel, ThresholdUp, ThresholdDown, Quit],
        Mode::Detail => &[
            KillConnection,
            KillQuery,
            Explain,
            Up,
            Down,
            PageUp,
            PageDown,
            Top,
            Bottom,
            Close,
            Quit,
        ],
        Mode::Help => &[Up, Down, PageUp, PageDown, Top, Bottom, Close, Quit],
        Mode::Diagnosis => &[
            KillIdle,
            KillLong,
            KillBlocker,
            Up,
            Down,
            PageUp,
            PageDown,
            Top,
            Bottom,
            Close,
            Quit,
        ],
        Mode::Replay => super::replay_bindings::REPLAY_ACTIONS,
        Mode::GoTo => super::replay_bindings::GO_TO_ACTIONS,
        Mode::Fleet => super::fleet_bindings::FLEET_ACTIONS,
        Mode::Server => super::fleet_bindings::SERVER_ACTIONS,
    }
}

/// The fields a table row leaves out.
pub(super) const BASE: Binding = Binding {
    keys: &[],
    also: &[],
    action: Action::Quit,
    hint: None,
    rank: 9,
    help: "",
    section: Section::General,
};

/// The table: sessions or groups.
const TABLE: &[Binding] = &[
    Binding {
        keys: &[Code(KeyCode::Up)],
        action: Action::Up,
        help: "previous row (k is kill)",
        section: Section::Move,
        ..BASE
    },
    Binding {
        keys: &[Code(KeyCode::Down), Char('j')],
        action: Action::Down,
        help: "next row",
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
        help: "first row",
        section: Section::Move,
        ..BASE
    },
    Binding {
        keys: &[Char('G'), Code(KeyCode::End)],
        action: Action::Bottom,
        help: "last row",
        section: Section::Move,
        ..BASE
    },
    Binding {
        keys: &[Code(KeyCode::Enter)],
        action: Action::Detail,
        hint: Some("detail"),
        rank: 5,
        help: "session detail / sessions of the group",
        section: Section::View,
        ..BASE
    },
    Binding {
        keys: &[Char('/')],
        action: Action::Filter,
        hint: Some("filter"),
        rank: 4,
        help: "filter: word user:app* db:shop !cmd:Sleep time>30s",
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
        rank: 5,
        help: "sort by the next column",
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
        keys: &[Char('i')],
        action: Action::ToggleIdle,
        hint: Some("idle"),
        rank: 3,
        help: "hide / show idle (Sleep) sessions",
        section: Section::View,
        ..BASE
    },
    Binding {
        keys: &[Code(KeyCode::Tab)],
        action: Action::NextView,
        hint: Some("group"),
        rank: 3,
        help: "view: sessions, by user, by host, by db, locks",
        section: Section::View,
        ..BASE
    },
    Binding {
        keys: &[Char('e')],
        action: Action::Explain,
        help: "the plan of the selected session's statement (EXPLAIN)",
        section: Section::View,
        ..BASE
    },
    Binding {
        keys: &[Char('d')],
        action: Action::Diagnosis,
        hint: Some("diagnose"),
        rank: 1,
        help: "diagnosis: causes, evidence, fixes",
        section: Section::View,
        ..BASE
    },
    Binding {
        keys: &[Char('p'), Char(' ')],
        action: Action::Pause,
        hint: Some("pause"),
        rank: 3,
        help: "pause / resume the view",
        section: Section::View,
        ..BASE
    },
    Binding {
        keys: &[Char('-')],
        also: &[Char('_')],
        action: Action::IntervalDown,
        hint: Some("interval"),
        rank: 6,
        help: "poll more often (250ms 500ms 1s 2s 5s 10s)",
        section: Section::View,
    },
    Binding {
        keys: &[Char('+')],
        also: &[Char('=')],
        action: Action::IntervalUp,
        hint: Some("interval"),
        rank: 6,
        help: "poll less often",
        section: Section::View,
    },
    Binding {
        keys: &[Char('k')],
        action: Action::KillConnection,
        hint: Some("kill"),
        rank: 2,
        help: "KILL CONNECTION of the selected (or tagged) sessions",
        section: Section::Kill,
        ..BASE
    },
    Binding {
        keys: &[Char('x')],
        action: Action::KillQuery,
        help: "KILL QUERY of the selected (or tagged) sessions",
        section: Section::Kill,
        ..BASE
    },
    Binding {
        keys: &[Char('t')],
        action: Action::Tag,
        help: "tag / untag the selected session",
        section: Section::Kill,
        ..BASE
    },
    Binding {
        keys: &[Char('T')],
        action: Action::TagAll,
        help: "tag every session shown (untag all if all are tagged)",
        section: Section::Kill,
        ..BASE
    },
    Binding {
        keys: &[Char('I')],
        action: Action::KillIdle,
        hint: Some("kill idle"),
        rank: 2,
        help: "kill idle sessions past the idle threshold",
        section: Section::Kill,
        ..BASE
    },
    Binding {
        keys: &[Char('L')],
        action: Action::KillLong,
        hint: Some("kill long"),
        rank: 4,
        help: "KILL QUERY of statements past the long threshold",
        section: Section::Kill,
        ..BASE
    },
    Binding {
        keys: &[Char('B')],
        action: Action::KillBlocker,
        help: "KILL CONNECTION of the root blocker of a lock pile-up",
        section: Section::Kill,
        ..BASE
    },
    Binding {
        keys: &[Char('?')],
        action: Action::Help,
        hint: Some("help"),
        rank: 1,
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
        rank: 1,
        help: "quit",
        section: Section::General,
        ..BASE
    },
];

/// Ctrl-C quits from every dialog.
pub(super) const CTRL_C_QUITS: Binding = Binding {
    keys: &[Ctrl('c')],
    action: Action::Quit,
    ..BASE
};

/// Scrolling a dialog's text.
const SCROLL: [Binding; 6] = [
    Binding {
        keys: &[Code(KeyCode::Up)],
        action: Action::Up,
        hint: Some("scroll"),
        ..BASE
    },
    Binding {
        keys: &[Code(KeyCode::Down)],
        action: Action::Down,
        hint: Some("scroll"),
        ..BASE
    },
    Binding {
        keys: &[Code(KeyCode::PageUp)],
        action: Action::PageUp,
        hint: Some("scroll"),
        ..BASE
    },
    Binding {
        keys: &[Code(KeyCode::PageDown)],
        action: Action::PageDown,
        hint: Some("scroll"),
        ..BASE
    },
    Binding {
        keys: &[Char('g')],
        also: &[Code(KeyCode::Home)],
        action: Action::Top,
        hint: Some("scroll"),
        ..BASE
    },
    Binding {
        keys: &[Char('G')],
        also: &[Code(KeyCode::End)],
        action: Action::Bottom,
        hint: Some("scroll"),
        ..BASE
    },
];

/// Esc closes a dialog.
const ESC_CLOSES: Binding = Binding {
    keys: &[Code(KeyCode::Esc)],
    action: Action::Close,
    hint: Some("close"),
    ..BASE
};

/// The filter prompt: every other character is typed.
const FILTER: &[Binding] = &[
    Binding {
        keys: &[Code(KeyCode::Enter)],
        action: Action::ApplyFilter,
        hint: Some("apply"),
        ..BASE
    },
    Binding {
        keys: &[Code(KeyCode::Esc)],
        action: Action::ClearInput,
        hint: Some("clear"),
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

/// A kill preview.
const CONFIRM: &[Binding] = &[
    Binding {
        keys: &[Char('y'), Code(KeyCode::Enter)],
        also: &[Char('Y')],
        action: Action::Confirm,
        hint: Some("kill"),
        ..BASE
    },
    Binding {
        keys: &[Char('n'), Code(KeyCode::Esc)],
        also: &[Char('N'), Char('q')],
        action: Action::Cancel,
        hint: Some("cancel"),
        ..BASE
    },
    Binding {
        keys: &[Char('+')],
        also: &[Char('=')],
        action: Action::ThresholdUp,
        hint: Some("threshold"),
        ..BASE
    },
    Binding {
        keys: &[Char('-')],
        also: &[Char('_')],
        action: Action::ThresholdDown,
        hint: Some("threshold"),
        ..BASE
    },
    CTRL_C_QUITS,
];

/// A session's detail.
const DETAIL: &[Binding] = &[
    Binding {
        keys: &[Char('k')],
        action: Action::KillConnection,
        hint: Some("kill"),
        ..BASE
    },
    Binding {
        keys: &[Char('x')],
        action: Action::KillQuery,
        hint: Some("kill query"),
        ..BASE
    },
    // No hint: the help overlay's detail line is full; help lists `e`.
    Binding {
        keys: &[Char('e')],
        action: Action::Explain,
        ..BASE
    },
    SCROLL[0],
    SCROLL[1],
    SCROLL[2],
    SCROLL[3],
    SCROLL[4],
    SCROLL[5],
    ESC_CLOSES,
    CTRL_C_QUITS,
];

/// The help overlay.
const HELP: &[Binding] = &[
    SCROLL[0],
    SCROLL[1],
    SCROLL[2],
    SCROLL[3],
    SCROLL[4],
    SCROLL[5],
    ESC_CLOSES,
    CTRL_C_QUITS,
];

/// The diagnosis.
const DIAGNOSIS: &[Binding] = &[
    Binding {
        keys: &[Char('I')],
        action: Action::KillIdle,
        hint: Some("kill idle"),
        ..BASE
    },
    Binding {
        keys: &[Char('L')],
        action: Action::KillLong,
        hint: Some("kill long"),
        ..BASE
    },
    // No hint: the finding's fix step shows the key.
    Binding {
        keys: &[Char('B')],
        action: Action::KillBlocker,
        ..BASE
    },
    SCROLL[0],
    SCROLL[1],
    SCROLL[2],
    SCROLL[3],
    SCROLL[4],
    SCROLL[5],
    ESC_CLOSES,
    CTRL_C_QUITS,
];
