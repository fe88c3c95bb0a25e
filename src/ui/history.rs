//! The history chart: Threads_connected over the last minutes against the
//! max_connections line.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::symbols::Marker;
use ratatui::text::Span;
use ratatui::widgets::{Axis, Block, Borders, Chart, Dataset, GraphType};

use crate::app::App;
use crate::ui::theme::Theme;

/// Draws the chart into `area`.
pub fn render(app: &App, theme: Theme, frame: &mut Frame, area: Rect) {
    let samples = app.data.history.samples();
    let Some(last) = samples.back() else {
        return;
    };
    let first_at = samples.front().map_or(last.at, |s| s.at);
    let x =
        |at: std::time::SystemTime| at.duration_since(first_at).map_or(0.0, |d| d.as_secs_f64());
    let connected: Vec<(f64, f64)> = samples
        .iter()
        .map(|s| (x(s.at), s.threads_connected as f64))
        .collect();
    let span_s = x(last.at).max(1.0);
    let max_conn = last.max_connections as f64;
    let limit = [(0.0, max_conn), (span_s, max_conn)];
    let top = connected
        .iter()
        .map(|p| p.1)
        .fold(max_conn, f64::max)
        .max(1.0)
        * 1.05;
    let t = &app.opts.thresholds;
    let style = theme.level(
        if max_conn > 0.0 {
            last.threads_connected as f64 / max_conn
        } else {
            0.0
        },
        t.warn,
        t.crit,
    );
    let datasets = vec![
        Dataset::default()
            .name("max_connections")
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(theme.crit())
            .data(&limit),
        Dataset::default()
            .name("connected")
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(style)
            .data(&connected),
    ];
    let title = format!(
        " Threads_connected, last {} (max_connections {}) ",
        crate::text::short_duration(std::time::Duration::from_secs_f64(span_s)),
        last.max_connections
    );
    let chart = Chart::new(datasets)
        .block(
            Block::default()
                .borders(Borders::TOP)
                .title(Span::styled(title, theme.dim())),
        )
        .x_axis(Axis::default().bounds([0.0, span_s]))
        .y_axis(Axis::default().bounds([0.0, top]).labels([
            Span::raw("0"),
            Span::raw(format!("{}", last.max_connections)),
        ]))
        .hidden_legend_constraints((
            ratatui::layout::Constraint::Ratio(0, 1),
            ratatui::layout::Constraint::Ratio(0, 1),
        ));
    frame.render_widget(chart, area);
}
