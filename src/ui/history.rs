//! The history chart: Threads_connected over the last minutes, scaled to
//! what the data does (so 93 and 100 do not share a row), with the
//! max_connections line drawn when it is near and named when it is not.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::symbols::Marker;
use ratatui::text::Span;
use ratatui::widgets::{Axis, Block, Borders, Chart, Dataset, GraphType};

use crate::app::App;
use crate::text::short_duration;
use crate::ui::fields::{self, Field};
use crate::ui::theme::Theme;

/// The y range of the chart: `(low, high, limit shown)`. The range spans
/// the data with a little room; the limit is in it when it is near the
/// highest value (within the data's span, or a tenth of the value).
pub fn y_range(values: &[u64], limit: u64) -> (f64, f64, bool) {
    let lo = values.iter().copied().min().unwrap_or(0);
    let hi = values.iter().copied().max().unwrap_or(0).max(lo);
    let span = (hi - lo).max(4);
    let near = limit >= hi && limit - hi <= span.max(hi / 10);
    let top = if near { limit } else { hi + span / 4 };
    let bottom = lo.saturating_sub(span / 4);
    (bottom as f64, (top as f64).max(bottom as f64 + 1.0), near)
}

/// Draws the chart into `area`.
pub fn render(app: &App, theme: Theme, frame: &mut Frame, area: Rect) {
    let samples: Vec<_> = app.data.shown_samples().collect();
    let Some(last) = samples.last() else {
        return;
    };
    let first_at = samples.first().map_or(last.at, |s| s.at);
    let x =
        |at: std::time::SystemTime| at.duration_since(first_at).map_or(0.0, |d| d.as_secs_f64());
    let values: Vec<u64> = samples.iter().map(|s| s.threads_connected).collect();
    let connected: Vec<(f64, f64)> = samples
        .iter()
        .map(|s| (x(s.at), s.threads_connected as f64))
        .collect();
    let span_s = x(last.at).max(1.0);
    let max_conn = last.max_connections;
    let (low, high, limit_shown) = y_range(&values, max_conn);
    let limit = [(0.0, max_conn as f64), (span_s, max_conn as f64)];
    let t = &app.opts.thresholds;
    let share = if max_conn > 0 {
        last.threads_connected as f64 / max_conn as f64
    } else {
        0.0
    };
    let mut datasets = Vec::new();
    if limit_shown {
        datasets.push(
            Dataset::default()
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(theme.crit())
                .data(&limit),
        );
    }
    datasets.push(
        Dataset::default()
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(theme.level(share, t.warn, t.crit))
            .data(&connected),
    );
    let lo = values.iter().min().copied().unwrap_or(0);
    let hi = values.iter().max().copied().unwrap_or(0);
    let limit_note = if limit_shown {
        format!("max_connections {max_conn} (red line)")
    } else {
        format!("max_connections {max_conn} (above the chart)")
    };
    let title = fields::fit(
        vec![
            Field::new(Span::raw("Threads_connected"), 0),
            Field::new(
                Span::raw(format!(
                    "last {}",
                    short_duration(std::time::Duration::from_secs_f64(span_s))
                )),
                2,
            ),
            Field::new(Span::raw(format!("now {}", last.threads_connected)), 0),
            Field::new(Span::raw(format!("low {lo} high {hi}")), 1),
            Field::new(Span::raw(limit_note), 1).or_short(Span::raw(format!("max {max_conn}"))),
        ],
        usize::from(area.width.saturating_sub(2)),
        Span::raw(" · "),
    );
    let mut title_spans = vec![Span::raw(" ")];
    title_spans.extend(title.spans.into_iter().map(|s| s.style(theme.dim())));
    title_spans.push(Span::raw(" "));
    let chart = Chart::new(datasets)
        .block(
            Block::default()
                .borders(Borders::TOP)
                .title(ratatui::text::Line::from(title_spans)),
        )
        .x_axis(Axis::default().bounds([0.0, span_s]))
        .y_axis(Axis::default().bounds([low, high]).labels([
            Span::raw(format!("{}", low.round())),
            Span::raw(format!("{}", high.round())),
        ]))
        .hidden_legend_constraints((Constraint::Ratio(0, 1), Constraint::Ratio(0, 1)));
    frame.render_widget(chart, area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_follows_the_data_and_takes_the_limit_when_near() {
        // 93 of 100, steady: the limit is near, the range starts near 93.
        let (lo, hi, shown) = y_range(&[90, 93, 93], 100);
        assert!(shown);
        assert_eq!(hi, 100.0);
        assert!(lo >= 85.0, "{lo}");
        // 40 of 1000: the limit is named, not drawn, and the data fills it.
        let (lo, hi, shown) = y_range(&[30, 40, 35], 1000);
        assert!(!shown);
        assert!(hi < 50.0 && lo >= 25.0, "{lo}..{hi}");
        // Flat and empty data still make a range.
        let (lo, hi, _) = y_range(&[0, 0], 0);
        assert!(hi > lo);
        let (lo, hi, _) = y_range(&[], 10);
        assert!(hi > lo);
    }
}
