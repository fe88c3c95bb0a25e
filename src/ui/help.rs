//! The help overlay, generated from the binding tables: the table's keys by
//! section, then one hint line per dialog.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span, Text};

use crate::app::keymap::{self, Action, Mode, Section};
use crate::ui::dialogs::{centered, popup};
use crate::ui::hint_spans;
use crate::ui::theme::Theme;

/// Widest the overlay gets.
const WIDTH: u16 = 80;

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

/// Draws the overlay, scrolled by `scroll` lines when it does not fit.
pub fn render(theme: Theme, frame: &mut Frame, area: Rect, scroll: u16) {
    let lines = lines(theme);
    let height = lines.len() as u16 + 2;
    let r = centered(area, WIDTH, height);
    let title = if r.height < height {
        let scrolls = keymap::hint_line(Mode::Help, |a| a != Action::Close);
        format!(" Keys ({scrolls}, any other key closes) ")
    } else {
        " Keys (any key closes) ".to_string()
    };
    let max_scroll = height.saturating_sub(r.height);
    popup(
        frame,
        r,
        Line::from(title),
        Text::from(lines),
        scroll.min(max_scroll),
    );
}
