//! The findings strip under the gauge: one line per finding, most severe first.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::App;
use crate::findings::Severity;
use crate::text::one_line;
use crate::ui::theme::Theme;

/// Lines the strip needs for `app` (at most `max`).
pub fn height(app: &App, max: u16) -> u16 {
    (app.findings.len() as u16).min(max)
}

/// Draws the strip.
pub fn render(app: &App, theme: Theme, frame: &mut Frame, area: Rect) {
    let rows = area.height as usize;
    let more = app.findings.len().saturating_sub(rows);
    let mut lines: Vec<Line> = app
        .findings
        .iter()
        .take(rows)
        .map(|f| {
            let (tag, style) = match f.severity {
                Severity::Critical => ("CRIT", theme.crit()),
                Severity::Warning => ("WARN", theme.warn()),
                Severity::Info => ("INFO", theme.dim()),
            };
            let key = f.fix.iter().find_map(|s| s.key.clone());
            let mut spans = vec![
                Span::styled(format!("{tag} "), style),
                Span::styled(format!("{:<13}", f.kind.name()), theme.title()),
                Span::raw(one_line(&f.title, 200).into_owned()),
            ];
            if let Some(k) = key {
                spans.push(Span::styled(format!("  [{k}]"), theme.key()));
            }
            Line::from(spans)
        })
        .collect();
    if more > 0 {
        if let Some(last) = lines.last_mut() {
            last.spans
                .push(Span::styled(format!("  (+{more} more: d)"), theme.dim()));
        }
    }
    frame.render_widget(Paragraph::new(lines), area);
}
