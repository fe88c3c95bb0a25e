//! Keys by mode: each [`Mode`] has its own binding table of key -> [`Action`]
//! (the tables are data, in `bindings`). The key handler, the footer, the
//! help overlay and every hint line are generated from them through this
//! module, so what the screen says can never drift from what the keys do.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

pub use crate::action::Action;

use super::bindings;

/// A key as written in a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A character typed without Ctrl (Shift is part of the character: `I`).
    Char(char),
    /// Ctrl and a lower-case letter.
    Ctrl(char),
    /// A named key.
    Code(KeyCode),
}

/// One-character labels of the printable ASCII characters, `!` to `~`.
const ASCII: &str = "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";

/// The label of a key that has none.
pub const NO_LABEL: &str = "<?>";

/// Labels of Ctrl and a letter.
const CTRL: [&str; 26] = [
    "Ctrl-A", "Ctrl-B", "Ctrl-C", "Ctrl-D", "Ctrl-E", "Ctrl-F", "Ctrl-G", "Ctrl-H", "Ctrl-I",
    "Ctrl-J", "Ctrl-K", "Ctrl-L", "Ctrl-M", "Ctrl-N", "Ctrl-O", "Ctrl-P", "Ctrl-Q", "Ctrl-R",
    "Ctrl-S", "Ctrl-T", "Ctrl-U", "Ctrl-V", "Ctrl-W", "Ctrl-X", "Ctrl-Y", "Ctrl-Z",
];

impl Key {
    /// Does the terminal event press this key?
    pub fn matches(self, ev: &KeyEvent) -> bool {
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        match self {
            Key::Char(c) => !ctrl && ev.code == KeyCode::Char(c),
            Key::Ctrl(c) => ctrl && ev.code == KeyCode::Char(c),
            Key::Code(code) => ev.code == code,
        }
    }

    /// How the key is written: `k`, `Space`, `Ctrl-C`, `↑`, `PgUp`;
    /// [`NO_LABEL`] for a key without one (a test keeps those out of the tables).
    pub fn label(self) -> &'static str {
        match self {
            Key::Char(' ') => "Space",
            Key::Char(c) if c.is_ascii_graphic() => {
                let i = c as usize - '!' as usize;
                ASCII.get(i..i + 1).unwrap_or(NO_LABEL)
            }
            Key::Ctrl(c) if c.is_ascii_lowercase() => CTRL[c as usize - 'a' as usize],
            Key::Code(code) => match code {
                KeyCode::Up => "↑",
                KeyCode::Down => "↓",
                KeyCode::Left => "←",
                KeyCode::Right => "→",
                KeyCode::PageUp => "PgUp",
                KeyCode::PageDown => "PgDn",
                KeyCode::Home => "Home",
                KeyCode::End => "End",
                KeyCode::Enter => "Enter",
                KeyCode::Esc => "Esc",
                KeyCode::Tab => "Tab",
                KeyCode::Backspace => "Backspace",
                _ => NO_LABEL,
            },
            _ => NO_LABEL,
        }
    }
}

/// One row of a binding table.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    /// The keys, as help and hints show them (the footer shows the first).
    pub keys: &'static [Key],
    /// More keys that do the same, accepted but left out of hints (`Y` for `y`).
    pub also: &'static [Key],
    pub action: Action,
    /// Short word for the footer and hint lines; `None` keeps it out of them.
    pub hint: Option<&'static str>,
    /// The footer's priority for the hint (table bindings): when the footer
    /// is short of room, the highest rank goes first, `1` stays longest.
    pub rank: u8,
    /// What it does, for the help overlay (table bindings).
    pub help: &'static str,
    /// Help section (table bindings).
    pub section: Section,
}

impl Binding {
    /// The keys as help writes them: `↓ j`.
    pub fn label(&self) -> String {
        join(self.keys, " ")
    }

    /// The first key's label: `↓`.
    pub fn first_key(&self) -> &'static str {
        self.keys.first().map_or(NO_LABEL, |k| k.label())
    }

    /// Is `ev` one of this binding's keys?
    pub fn matches(&self, ev: &KeyEvent) -> bool {
        self.keys.iter().chain(self.also).any(|k| k.matches(ev))
    }

    /// Every key, the accepted extra ones included.
    pub fn all_keys(&self) -> impl Iterator<Item = Key> {
        self.keys.iter().chain(self.also).copied()
    }
}

fn join(keys: &[Key], sep: &str) -> String {
    keys.iter().map(|k| k.label()).collect::<Vec<_>>().join(sep)
}

/// Help sections of the table bindings, in display order.
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

/// Where keys go: the table, or the dialog open over it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// The sessions table or a grouped view.
    Table,
    /// The filter prompt in the footer.
    Filter,
    /// A kill preview waiting for confirmation.
    Confirm,
    /// One session's detail.
    Detail,
    /// The help overlay.
    Help,
    /// The diagnosis.
    Diagnosis,
    /// Replay keys, tried before the table's while replaying.
    Replay,
    /// The go-to-a-time prompt of a replay.
    GoTo,
}

/// What a key that is not in a mode's table does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtherKeys {
    /// Nothing.
    Ignored,
    /// A character is typed into the input.
    Typed,
    /// The dialog closes.
    Close,
}

impl Mode {
    /// Every mode of the live dashboard.
    pub const ALL: [Mode; 6] = [
        Mode::Table,
        Mode::Filter,
        Mode::Confirm,
        Mode::Detail,
        Mode::Help,
        Mode::Diagnosis,
    ];

    /// The modes only a replay has.
    pub const REPLAY: [Mode; 2] = [Mode::Replay, Mode::GoTo];

    /// Every mode, a replay's included.
    pub fn every() -> impl Iterator<Item = Mode> {
        Mode::ALL.into_iter().chain(Mode::REPLAY)
    }

    /// The mode's binding table.
    pub fn bindings(self) -> &'static [Binding] {
        bindings::table(self)
    }

    /// The actions the mode's handler performs: each needs a key here.
    pub fn actions(self) -> &'static [Action] {
        bindings::actions(self)
    }

    /// What keys outside the table do.
    pub fn other_keys(self) -> OtherKeys {
        match self {
            Mode::Table | Mode::Confirm | Mode::Replay => OtherKeys::Ignored,
            Mode::Filter | Mode::GoTo => OtherKeys::Typed,
            Mode::Detail | Mode::Help | Mode::Diagnosis => OtherKeys::Close,
        }
    }

    /// The mode's name in help.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Table => "table",
            Mode::Filter => "filter",
            Mode::Confirm => "kill preview",
            Mode::Detail => "detail",
            Mode::Help => "help",
            Mode::Diagnosis => "diagnosis",
            Mode::Replay => "replay",
            Mode::GoTo => "go to",
        }
    }
}

/// The action a key asks for in `mode`.
pub fn action_for(mode: Mode, ev: &KeyEvent) -> Option<Action> {
    mode.bindings()
        .iter()
        .find(|b| b.matches(ev))
        .map(|b| b.action)
}

/// The binding of `action` in `mode`.
pub fn binding(mode: Mode, action: Action) -> Option<&'static Binding> {
    mode.bindings().iter().find(|b| b.action == action)
}

/// How the first key of `action` in `mode` is written (`"y"`).
pub fn label_in(mode: Mode, action: Action) -> Option<&'static str> {
    binding(mode, action).map(Binding::first_key)
}

/// How the first key bound to `action` in the table is written (`"I"`),
/// for hints and the `key` field of a fix step in the `--once` JSON.
pub fn key_label(action: Action) -> Option<&'static str> {
    label_in(Mode::Table, action)
}

/// [`key_label`] for text ([`NO_LABEL`] when the action has no key in the table).
pub fn key(action: Action) -> &'static str {
    key_label(action).unwrap_or(NO_LABEL)
}

/// The hints of `mode` for the actions `keep` accepts, in table order:
/// (`"y/Enter"`, `"kill"`). Neighbours with the same word share one hint
/// (`"↑/↓/PgUp/PgDn"`, `"scroll"`).
pub fn hints(mode: Mode, keep: impl Fn(Action) -> bool) -> Vec<(String, &'static str)> {
    let mut out: Vec<(String, &'static str)> = Vec::new();
    for b in mode.bindings().iter().filter(|b| keep(b.action)) {
        let Some(word) = b.hint else {
            continue;
        };
        let keys = join(b.keys, "/");
        match out.last_mut() {
            Some((k, w)) if *w == word => {
                k.push('/');
                k.push_str(&keys);
            }
            _ => out.push((keys, word)),
        }
    }
    out
}

/// A hint of the footer: the first key of each binding (neighbours with the
/// same word share one: `-/+`), its word and its rank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FooterHint {
    pub keys: String,
    pub word: &'static str,
    pub rank: u8,
}

/// The footer hints of `mode`, in table order.
pub fn footer_hints(mode: Mode) -> Vec<FooterHint> {
    let mut out: Vec<FooterHint> = Vec::new();
    for b in mode.bindings() {
        let Some(word) = b.hint else {
            continue;
        };
        match out.last_mut() {
            Some(h) if h.word == word => {
                h.keys.push('/');
                h.keys.push_str(b.first_key());
                h.rank = h.rank.min(b.rank);
            }
            _ => out.push(FooterHint {
                keys: b.first_key().to_string(),
                word,
                rank: b.rank,
            }),
        }
    }
    out
}

/// [`hints`] as one line: `y/Enter kill · n/Esc cancel`.
pub fn hint_line(mode: Mode, keep: impl Fn(Action) -> bool) -> String {
    hints(mode, keep)
        .iter()
        .map(|(k, w)| format!("{k} {w}"))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The keys of `action` in `mode` as a hint writes them (`"n/Esc"`).
pub fn hint_keys(mode: Mode, action: Action) -> String {
    binding(mode, action).map_or_else(|| NO_LABEL.to_string(), |b| join(b.keys, "/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(k: Key) -> KeyEvent {
        match k {
            Key::Char(c) if c.is_ascii_uppercase() => {
                KeyEvent::new(KeyCode::Char(c), KeyModifiers::SHIFT)
            }
            Key::Char(c) => KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE),
            Key::Ctrl(c) => KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL),
            Key::Code(code) => KeyEvent::new(code, KeyModifiers::NONE),
        }
    }

    #[test]
    fn no_two_bindings_of_a_mode_share_a_key() {
        for mode in Mode::every() {
            let mut seen = Vec::new();
            for b in mode.bindings() {
                for k in b.all_keys() {
                    assert!(!seen.contains(&k), "{mode:?}: {k:?} bound twice");
                    seen.push(k);
                }
            }
        }
    }

    #[test]
    fn every_action_of_every_mode_has_a_key_and_every_key_an_action() {
        for mode in Mode::every() {
            for &action in mode.actions() {
                let b = binding(mode, action)
                    .unwrap_or_else(|| panic!("{mode:?}: {action:?} has no key"));
                assert!(!b.keys.is_empty(), "{mode:?}: {action:?} has no key");
            }
            for b in mode.bindings() {
                assert!(
                    mode.actions().contains(&b.action),
                    "{mode:?}: {:?} is bound but not handled",
                    b.action
                );
                for k in b.all_keys() {
                    assert_ne!(k.label(), NO_LABEL, "{mode:?}: {k:?} has no label");
                    assert_eq!(
                        action_for(mode, &press(k)),
                        Some(b.action),
                        "{mode:?}: {k:?}"
                    );
                }
            }
        }
        for action in Action::ALL {
            assert!(
                Mode::every().any(|m| m.actions().contains(action)),
                "{action:?} is reachable in no mode"
            );
        }
    }

    #[test]
    fn ctrl_c_quits_everywhere_and_only_the_filter_types() {
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        for mode in Mode::every() {
            assert_eq!(action_for(mode, &ctrl_c), Some(Action::Quit), "{mode:?}");
            assert_eq!(
                matches!(mode, Mode::Filter | Mode::GoTo),
                mode.other_keys() == OtherKeys::Typed
            );
        }
        let q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
        assert_eq!(action_for(Mode::Table, &q), Some(Action::Quit));
        assert_eq!(
            action_for(Mode::Filter, &q),
            None,
            "q is text in the filter"
        );
        assert_eq!(action_for(Mode::Confirm, &q), Some(Action::Cancel));
        assert_eq!(action_for(Mode::Help, &q), None, "q closes help");
    }

    #[test]
    fn a_dialog_uses_the_table_key_for_the_same_action() {
        // A finding's `[I]` must work in the diagnosis as in the table.
        for mode in Mode::every() {
            for b in mode.bindings() {
                if matches!(
                    b.action,
                    Action::KillConnection
                        | Action::KillQuery
                        | Action::KillIdle
                        | Action::KillLong
                ) {
                    assert_eq!(Some(b.first_key()), key_label(b.action), "{mode:?}");
                }
            }
        }
    }

    #[test]
    fn labels() {
        assert_eq!(ASCII.len(), 94);
        for c in '!'..='~' {
            assert_eq!(Key::Char(c).label(), c.to_string());
        }
        assert_eq!(Key::Char(' ').label(), "Space");
        assert_eq!(Key::Ctrl('c').label(), "Ctrl-C");
        assert_eq!(Key::Char('é').label(), NO_LABEL);
        assert_eq!(key_label(Action::KillIdle), Some("I"));
        assert_eq!(key_label(Action::KillLong), Some("L"));
        assert_eq!(key_label(Action::KillConnection), Some("k"));
        assert_eq!(key_label(Action::Confirm), None, "not a table key");
        assert_eq!(label_in(Mode::Confirm, Action::Confirm), Some("y"));
        assert_eq!(binding(Mode::Table, Action::Down).unwrap().label(), "↓ j");
    }

    #[test]
    fn hint_lines_merge_neighbours_with_the_same_word() {
        assert_eq!(
            hint_line(Mode::Confirm, |_| true),
            "y/Enter kill · n/Esc cancel · +/- threshold"
        );
        assert_eq!(
            hint_line(Mode::Detail, |_| true),
            "k kill · x kill query · ↑/↓/PgUp/PgDn/g/G scroll · Esc close"
        );
        assert_eq!(
            hint_line(Mode::Filter, |a| a != Action::DeleteChar),
            "Enter apply · Esc clear"
        );
        assert_eq!(hint_keys(Mode::Confirm, Action::Cancel), "n/Esc");
    }

    #[test]
    fn readme_lists_every_key() {
        let readme = include_str!("../../README.md");
        let keys = readme
            .split("## The keys")
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .expect("README has a keys section");
        for mode in Mode::every() {
            for b in mode.bindings() {
                for k in b.all_keys() {
                    let label = k.label();
                    assert!(
                        keys.contains(&format!("`{label}`")),
                        "README keys section lacks `{label}` ({mode:?}, {:?})",
                        b.action
                    );
                }
            }
        }
    }
}
