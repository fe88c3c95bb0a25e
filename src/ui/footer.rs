//! The bottom line: the filter being typed, kill progress, a message, or the
//! main keys (from the keymap table).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::keymap::{Action, Mode, Section};
use crate::app::{App, Dialog, Level};
use crate::text::one_line;
use crate::ui::hint_spans;
use crate::ui::theme::Theme;

/// Draws the footer.
pub fn render(app: &App, theme: Theme, frame: &mut Frame, area: Rect) {
    let line = if let Some(Dialog::Filter { input }) = &app.dialog {
        let mut spans = vec![
            Span::styled("/", theme.key()),
            Span::raw(one_line(input, 200).into_owned()),
            Span::styled("█   ", theme.dim()),
        ];
        spans.extend(hint_spans(Mode::Filter, |_| true, theme));
        Line::from(spans)
    } else if let Some(run) = &app.kills.running {
        Line::from(Span::styled(
            format!(
                "{}: {}/{} done (killed {}, skipped {}, failed {})…",
                run.mode.label(),
                run.tally.done(),
                run.total,
                run.tally.killed,
                run.tally.skipped,
                run.tally.failed
            ),
            theme.warn(),
        ))
    } else if let Some(m) = &app.message {
        let style = match m.level {
            Level::Info => theme.ok(),
            Level::Warn => theme.warn(),
            Level::Error => theme.crit(),
        };
        Line::from(Span::styled(one_line(&m.text, 400).into_owned(), style))
    } else {
        let mut hints: Vec<(String, &str, Section)> = Mode::Table
            .bindings()
            .iter()
            .filter_map(|b| {
                b.hint
                    .map(|word| (b.first_key().to_string(), word, b.section))
            })
            .collect();
        if app.server.is_some() {
            // One of a fleet: the way back and to the neighbours stay.
            let fleet = crate::app::keymap::hints(Mode::Server, |a| a != Action::Quit);
            let fleet = fleet.into_iter().map(|(k, w)| (k, w, Section::General));
            hints.splice(0..0, fleet);
        }
        // When the hints do not fit, View hints go first, then Kill ones;
        // `? help` and `q quit` always stay.
        let width = |h: &[(String, &str, Section)]| {
            h.iter()
                .map(|(k, w, _)| k.chars().count() + w.chars().count() + 3)
                .sum::<usize>()
                .saturating_sub(2)
        };
        for section in [Section::View, Section::Move, Section::Kill] {
            while width(&hints) > area.width as usize {
                let Some(i) = hints.iter().rposition(|h| h.2 == section) else {
                    break;
                };
                hints.remove(i);
            }
        }
        let mut spans = Vec::new();
        for (key, word, _) in hints {
            spans.push(Span::styled(key, theme.key()));
            spans.push(Span::raw(format!(" {word}  ")));
        }
        Line::from(spans)
    };
    frame.render_widget(Paragraph::new(line), area);
}
