//! The findings strip under the gauge: one line per finding, most severe first.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::App;
use crate::app::keymap::{self, Action};
use crate::findings::Severity;
use crate::text::one_line;
use crate::ui::theme::Theme;

/// Width of `CRIT leak         ` before a title.
const PREFIX_WIDTH: usize = 18;

/// Draws the strip.
pub fn render(app: &App, theme: Theme, frame: &mut Frame, area: Rect) {
    let rows = area.height as usize;
    let findings = &app.data.findings;
    let shown = findings.len().min(rows);
    let more = findings.len() - shown;
    let lines: Vec<Line> = findings
        .iter()
        .take(rows)
        .enumerate()
        .map(|(i, f)| {
            let (tag, style) = match f.severity {
                Severity::Critical => ("CRIT", theme.crit()),
                Severity::Warning => ("WARN", theme.warn()),
                Severity::Info => ("INFO", theme.dim()),
            };
            let key = f
                .fix
                .iter()
                .find_map(|s| s.key())
                .map(|k| format!("  [{k}]"))
                .unwrap_or_default();
            let hint = if i + 1 == shown && more > 0 {
                format!("  (+{more} more: {})", keymap::key(Action::Diagnosis))
            } else {
                String::new()
            };
            // The key and the hint always fit: the title gives way.
            let room = (area.width as usize)
                .saturating_sub(PREFIX_WIDTH + key.chars().count() + hint.chars().count())
                .max(8);
            Line::from(vec![
                Span::styled(format!("{tag} "), style),
                Span::styled(format!("{:<13}", f.kind.name()), theme.title()),
                Span::raw(one_line(&f.title, room.saturating_sub(1)).into_owned()),
                Span::styled(key, theme.key()),
                Span::styled(hint, theme.dim()),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), area);
}
