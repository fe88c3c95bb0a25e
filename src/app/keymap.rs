//! The one keymap table: key handling, the footer and the help overlay are
//! all generated from [`BINDINGS`], so help can never drift from the keys.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

pub use crate::action::Action;

/// A key as written in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Char(char),
    Ctrl(char),
    Code(KeyCode),
}

impl Key {
    fn matches(self, ev: &KeyEvent) -> bool {
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        match self {
            Key::Char(c) => !ctrl && ev.code == KeyCode::Char(c),
            Key::Ctrl(c) => ctrl && ev.code == KeyCode::Char(c),
            Key::Code(code) => ev.code == code,
        }
    }
}

/// One row of the keymap.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub keys: &'static [Key],
    /// How the keys are written in help ("j ↓").
    pub label: &'static str,
    pub action: Action,
    /// What it does, for help.
    pub help: &'static str,
    /// Short word for the footer; `None` keeps it out of the footer.
    pub footer: Option<&'static str>,
    /// Help section.
    pub section: Section,
}

/// Help sections, in display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Move,
    View,
    Kill,
    General,
}

impl Section {
    /// Section heading.
    pub fn title(self) -> &'static str {
        match self {
            Section::Move => "Move",
            Section::View => "View",
            Section::Kill => "Kill (always previewed and confirmed)",
            Section::General => "General",
        }
    }

    /// All sections in order.
    pub const ALL: [Section; 4] = [
        Section::Move,
        Section::View,
        Section::Kill,
        Section::General,
    ];
}

use Key::{Char, Code, Ctrl};

/// The keymap of the main view. Dialogs (filter input, confirmation) have
/// their own few keys, listed in [`DIALOG_KEYS`].
pub const BINDINGS: &[Binding] = &[
    Binding {
        keys: &[Code(KeyCode::Up)],
        label: "↑",
        action: Action::Up,
        help: "previous row (k is kill)",
        footer: None,
        section: Section::Move,
    },
    Binding {
        keys: &[Code(KeyCode::Down), Char('j')],
        label: "↓ j",
        action: Action::Down,
        help: "next row",
        footer: None,
        section: Section::Move,
    },
    Binding {
        keys: &[Code(KeyCode::PageUp), Ctrl('b')],
        label: "PgUp",
        action: Action::PageUp,
        help: "page up",
        footer: None,
        section: Section::Move,
    },
    Binding {
        keys: &[Code(KeyCode::PageDown), Ctrl('f')],
        label: "PgDn",
        action: Action::PageDown,
        help: "page down",
        footer: None,
        section: Section::Move,
    },
    Binding {
        keys: &[Char('g'), Code(KeyCode::Home)],
        label: "g Home",
        action: Action::Top,
        help: "first row",
        footer: None,
        section: Section::Move,
    },
    Binding {
        keys: &[Char('G'), Code(KeyCode::End)],
        label: "G End",
        action: Action::Bottom,
        help: "last row",
        footer: None,
        section: Section::Move,
    },
    Binding {
        keys: &[Code(KeyCode::Enter)],
        label: "Enter",
        action: Action::Detail,
        help: "session detail / sessions of the group",
        footer: Some("detail"),
        section: Section::View,
    },
    Binding {
        keys: &[Char('/')],
        label: "/",
        action: Action::Filter,
        help: "filter (user, host, db, command, state, query)",
        footer: Some("filter"),
        section: Section::View,
    },
    Binding {
        keys: &[Code(KeyCode::Esc)],
        label: "Esc",
        action: Action::ClearFilter,
        help: "clear the filter",
        footer: None,
        section: Section::View,
    },
    Binding {
        keys: &[Char('s')],
        label: "s",
        action: Action::NextSort,
        help: "sort by the next column",
        footer: Some("sort"),
        section: Section::View,
    },
    Binding {
        keys: &[Char('S')],
        label: "S",
        action: Action::ReverseSort,
        help: "reverse the sort",
        footer: None,
        section: Section::View,
    },
    Binding {
        keys: &[Char('i')],
        label: "i",
        action: Action::ToggleIdle,
        help: "hide / show idle (Sleep) sessions",
        footer: Some("idle"),
        section: Section::View,
    },
    Binding {
        keys: &[Code(KeyCode::Tab)],
        label: "Tab",
        action: Action::NextView,
        help: "view: sessions, by user, by host, by db",
        footer: Some("group"),
        section: Section::View,
    },
    Binding {
        keys: &[Char('d')],
        label: "d",
        action: Action::Diagnosis,
        help: "diagnosis: causes, evidence, fixes",
        footer: Some("diagnose"),
        section: Section::View,
    },
    Binding {
        keys: &[Char('p'), Char(' ')],
        label: "p Space",
        action: Action::Pause,
        help: "pause / resume the view",
        footer: Some("pause"),
        section: Section::View,
    },
    Binding {
        keys: &[Char('k')],
        label: "k",
        action: Action::KillConnection,
        help: "KILL CONNECTION of the selected (or tagged) sessions",
        footer: Some("kill"),
        section: Section::Kill,
    },
    Binding {
        keys: &[Char('x')],
        label: "x",
        action: Action::KillQuery,
        help: "KILL QUERY of the selected (or tagged) sessions",
        footer: None,
        section: Section::Kill,
    },
    Binding {
        keys: &[Char('t')],
        label: "t",
        action: Action::Tag,
        help: "tag / untag the selected session",
        footer: None,
        section: Section::Kill,
    },
    Binding {
        keys: &[Char('T')],
        label: "T",
        action: Action::TagAll,
        help: "tag every session shown (untag all if all are tagged)",
        footer: None,
        section: Section::Kill,
    },
    Binding {
        keys: &[Char('I')],
        label: "I",
        action: Action::KillIdle,
        help: "kill idle sessions past the idle threshold",
        footer: Some("kill idle"),
        section: Section::Kill,
    },
    Binding {
        keys: &[Char('L')],
        label: "L",
        action: Action::KillLong,
        help: "KILL QUERY of statements past the long threshold",
        footer: Some("kill long"),
        section: Section::Kill,
    },
    Binding {
        keys: &[Char('?')],
        label: "?",
        action: Action::Help,
        help: "this help",
        footer: Some("help"),
        section: Section::General,
    },
    Binding {
        keys: &[Char('q'), Ctrl('c')],
        label: "q Ctrl-C",
        action: Action::Quit,
        help: "quit",
        footer: Some("quit"),
        section: Section::General,
    },
];

/// Keys of the dialogs, for the help overlay.
pub const DIALOG_KEYS: &[(&str, &str)] = &[
    ("y Enter", "confirm a kill"),
    ("n Esc", "cancel"),
    ("+ -", "raise / lower the threshold in a kill preview"),
    ("Enter", "apply the filter being typed"),
    ("Esc", "close a dialog, or clear the filter being typed"),
];

/// How the first key bound to `action` in the main view is written (`"I"`),
/// for hints and the `key` field of a fix step in the `--once` JSON.
pub fn key_label(action: Action) -> Option<&'static str> {
    BINDINGS
        .iter()
        .find(|b| b.action == action)
        .and_then(|b| b.label.split(' ').next())
}

/// The action bound to a key in the main view.
pub fn action_for(ev: &KeyEvent) -> Option<Action> {
    BINDINGS
        .iter()
        .find(|b| b.keys.iter().any(|k| k.matches(ev)))
        .map(|b| b.action)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_is_bound_once_and_keys_are_unique() {
        let mut seen = Vec::new();
        for b in BINDINGS {
            for k in b.keys {
                assert!(!seen.contains(k), "key {k:?} bound twice");
                seen.push(*k);
            }
        }
        let ev = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(action_for(&ev), Some(Action::Quit));
        let ev = KeyEvent::new(KeyCode::Char('k'), KeyModifiers::NONE);
        assert_eq!(action_for(&ev), Some(Action::KillConnection));
        let ev = KeyEvent::new(KeyCode::Char('I'), KeyModifiers::SHIFT);
        assert_eq!(action_for(&ev), Some(Action::KillIdle));
    }

    #[test]
    fn readme_lists_every_key() {
        let readme = include_str!("../../README.md");
        let keys = readme
            .split("## The keys")
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .expect("README has a keys section");
        for b in BINDINGS {
            for label in b.label.split(' ') {
                assert!(
                    keys.contains(&format!("`{label}`")),
                    "README keys table lacks `{label}`"
                );
            }
        }
    }
}
