//! The help overlay, generated from the binding tables: the table's keys by
//! section, then one hint line per dialog.

use ratatui::text::{Line, Span};

use crate::app::keymap::{Mode, Section};
use crate::ui::overlay::Overlay;
use crate::ui::theme::Theme;
use crate::ui::{hint_pieces, hint_spans};

/// Widest the overlay gets.
const WIDTH: u16 = 84;

/// The dialogs help describes, in this order.
const DIALOGS: [Mode; 6] = [
    Mode::Filter,
    Mode::Confirm,
    Mode::Detail,
    Mode::Diagnosis,
    Mode::Replay,
    Mode::GoTo,
];

/// The overlay's lines.
pub fn lines(theme: Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    for section in Section::ALL {
        lines.push(Line::styled(section.title(), theme.title()));
        for b in Mode::Table
            .bindings()
            .iter()
            .filter(|b| b.section == section)
        {
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<12}", b.label()), theme.key()),
                Span::raw(b.help),
            ]));
        }
    }
    lines.push(Line::styled("In dialogs", theme.title()));
    for mode in DIALOGS {
        let mut spans = vec![Span::raw(format!("  {:<14}", mode.name()))];
        spans.extend(hint_spans(mode, |_| true, theme));
        lines.push(Line::from(spans));
    }
    lines
}

/// The overlay: the keys of every mode, with the scrolling keys pinned.
pub fn overlay(theme: Theme) -> Overlay {
    let mut keys = hint_pieces(Mode::Help, |_| true, theme);
    keys.push(vec![Span::styled("any other key closes", theme.dim())]);
    Overlay {
        title: Line::from(" Keys "),
        body: lines(theme),
        keys,
        max_width: WIDTH,
    }
}
