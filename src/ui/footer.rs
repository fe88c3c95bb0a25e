//! The bottom line: the filter being typed, kill progress, a message, or the
//! main keys (from the keymap table).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::keymap::{self, Mode};
use crate::app::{App, Dialog, Level};
use crate::filter::Filter;
use crate::text::one_line;
use crate::ui::hint_spans;
use crate::ui::theme::Theme;
use crate::ui::wrap::cut;
use unicode_width::UnicodeWidthStr;

/// Draws the footer.
pub fn render(app: &App, theme: Theme, frame: &mut Frame, area: Rect) {
    let line = if let Some(Dialog::Filter { input }) = &app.dialog {
        // An expression that does not parse: why, instead of the hints (the
        // table keeps the previous filter). A long input shows its end.
        let error = Filter::parse(input)
            .err()
            .map(|e| one_line(&e.to_string(), 120).into_owned());
        let reserved = 2 + error.as_deref().map_or(0, |e| e.width() + 3);
        let room = (area.width as usize).saturating_sub(reserved).max(8);
        let mut spans = vec![
            Span::styled("/", theme.key()),
            Span::raw(tail(&one_line(input, 200), room)),
            Span::styled("█", theme.dim()),
        ];
        match error {
            Some(e) => spans.push(Span::styled(format!("  {e}"), theme.crit())),
            None => {
                spans.push(Span::raw("   "));
                spans.extend(hint_spans(Mode::Filter, |_| true, theme));
            }
        }
        Line::from(spans)
    } else if let Some(Dialog::GoTo { input }) = &app.dialog {
        crate::ui::replay::goto_line(input, theme)
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
        // A message longer than the line ends in `…`, never mid-word unmarked.
        let text = cut(&one_line(&m.text, 400), usize::from(area.width));
        Line::from(Span::styled(text, style))
    } else {
        if app.replay.is_some() {
            crate::ui::replay::hints(theme, usize::from(area.width))
        } else {
            table_hints(theme, usize::from(area.width), app.server.is_some())
        }
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// The end of `text` that fits in `cols` columns, `…` first when cut.
fn tail(text: &str, cols: usize) -> String {
    if text.width() <= cols {
        return text.to_string();
    }
    let mut kept = Vec::new();
    let mut used = 1;
    for c in text.chars().rev() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(1);
        if used + w > cols {
            break;
        }
        used += w;
        kept.push(c);
    }
    std::iter::once('…').chain(kept.into_iter().rev()).collect()
}

/// Gap after each hint.
const GAP: usize = 2;

/// The table's hints that fit `width`: when they do not all fit, the
/// highest rank goes first (the ranks are data, in the binding table), and
/// the rest keep their table order.
fn table_hints(theme: Theme, width: usize, in_fleet: bool) -> Line<'static> {
    let mut hints = keymap::footer_hints(Mode::Table);
    if in_fleet {
        // One of a fleet: the way back and to the neighbours come first.
        hints.splice(0..0, keymap::footer_hints(Mode::Server));
    }
    fit_hints(hints, theme, width)
}

/// `hints` as one line of `width`: when they do not all fit, the highest
/// rank goes first (the rightmost among equals), the rest keep their order.
pub fn fit_hints(mut hints: Vec<keymap::FooterHint>, theme: Theme, width: usize) -> Line<'static> {
    let cost = |h: &keymap::FooterHint| h.keys.chars().count() + 1 + h.word.chars().count();
    let total = |hints: &[keymap::FooterHint]| {
        (hints.iter().map(cost).sum::<usize>() + GAP * hints.len()).saturating_sub(GAP)
    };
    while total(&hints) > width && hints.len() > 1 {
        let Some(i) = (0..hints.len()).max_by_key(|&i| (hints[i].rank, i)) else {
            break;
        };
        hints.remove(i);
    }
    let mut spans = Vec::new();
    for h in hints {
        spans.push(Span::styled(h.keys, theme.key()));
        spans.push(Span::raw(format!(" {}  ", h.word)));
    }
    Line::from(spans)
}
