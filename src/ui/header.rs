//! The top three lines: server and connection state, the slot gauge, rates.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::App;
use crate::history::Sample;
use crate::text::{one_line, short_duration, short_ms};
use crate::ui::theme::Theme;

/// Draws the header into `area` (3 lines).
pub fn render(app: &App, theme: Theme, frame: &mut Frame, area: Rect) {
    let lines = vec![
        status_line(app, theme),
        gauge_line(app, theme, area.width),
        rates_line(app, theme, area.width),
    ];
    frame.render_widget(Paragraph::new(lines), area);
}

fn status_line(app: &App, theme: Theme) -> Line<'static> {
    let mut spans = vec![Span::styled("conntop ", theme.title())];
    if let Some(name) = &app.server {
        spans.push(Span::styled(
            format!("[{}] ", one_line(name, 40)),
            theme.key(),
        ));
    }
    if let Some(s) = &app.data.snapshot {
        spans.push(Span::raw(format!("{} ", one_line(&s.server.version, 40))));
        spans.push(Span::styled(
            format!("{} ", one_line(&s.endpoint, 60)),
            theme.dim(),
        ));
    }
    if let Some(down) = &app.data.down {
        let for_ = app.now.duration_since(down.since).unwrap_or_default();
        spans.push(Span::styled(
            format!(
                " RECONNECTING {} (attempt {}) ",
                short_duration(for_),
                down.attempts
            ),
            theme.crit(),
        ));
        return Line::from(spans);
    }
    match &app.data.snapshot {
        None => spans.push(Span::styled("connecting…", theme.dim())),
        Some(s) => {
            if app.data.paused {
                spans.push(Span::styled(" PAUSED ", theme.warn()));
            } else if app.is_stale() {
                let age = app.snapshot_age().unwrap_or_default();
                spans.push(Span::styled(
                    format!(" STALE {} old ", short_duration(age)),
                    theme.crit(),
                ));
            } else {
                spans.push(Span::styled("● live", theme.ok()));
            }
            spans.push(Span::raw(format!(
                "  up {}  poll {}  ",
                short_duration(std::time::Duration::from_secs(s.status.uptime_s)),
                short_duration(s.poll_latency)
            )));
            if !s.privileges.process {
                spans.push(Span::styled("no PROCESS: own sessions only ", theme.warn()));
            }
            if !s.privileges.kill_any {
                spans.push(Span::styled(
                    "no SUPER/CONNECTION_ADMIN: can kill own sessions only",
                    theme.warn(),
                ));
            }
        }
    }
    Line::from(spans)
}

fn gauge_line(app: &App, theme: Theme, width: u16) -> Line<'static> {
    let Some(s) = &app.data.snapshot else {
        return Line::from("");
    };
    let t = &app.opts.thresholds;
    let max = s.variables.max_connections;
    let used = s.status.threads_connected;
    let share = s.usage();
    let label = format!(
        " {used}/{max} {:.1}%  max used {}",
        share * 100.0,
        s.status.max_used_connections
    );
    let prefix = "Slots ";
    let bar_width = (width as usize)
        .saturating_sub(prefix.len() + label.chars().count() + 2)
        .max(10);
    let filled = ((share.min(1.0)) * bar_width as f64).round() as usize;
    let mark = if max > 0 {
        Some(
            ((s.status.max_used_connections as f64 / max as f64).min(1.0) * bar_width as f64)
                .round() as usize,
        )
    } else {
        None
    };
    let mut bar_filled = String::new();
    let mut bar_empty = String::new();
    for i in 0..bar_width {
        let c = if Some(i) == mark.map(|m| m.min(bar_width - 1)) {
            '│'
        } else if i < filled {
            '█'
        } else {
            '░'
        };
        if i < filled {
            bar_filled.push(c)
        } else {
            bar_empty.push(c)
        }
    }
    let style = theme.level(share, t.warn, t.crit);
    Line::from(vec![
        Span::styled(prefix, theme.title()),
        Span::styled("[", theme.dim()),
        Span::styled(bar_filled, style),
        Span::styled(bar_empty, theme.gauge_empty()),
        Span::styled("]", theme.dim()),
        Span::styled(label, style),
    ])
}

fn rates_line(app: &App, theme: Theme, width: u16) -> Line<'static> {
    // While down the rates are stale; the reason matters more.
    if let Some(down) = &app.data.down {
        return Line::from(Span::styled(
            one_line(&down.last_error, 400).into_owned(),
            theme.warn(),
        ));
    }
    // Short labels on narrow terminals, so the line fits 80 columns.
    let narrow = width < 100;
    let Some(s) = &app.data.snapshot else {
        return Line::from("");
    };
    let conn_rate = app.data.history.last_rate(|x: &Sample| x.connections);
    let aborted_rate = app.data.history.last_rate(|x: &Sample| x.aborted_connects);
    let rate = |r: Option<f64>| r.map_or("–".to_string(), |r| format!("{r:.1}"));
    let rejected = s.status.connection_errors_max_connections;
    let since_start = app
        .data
        .baseline
        .as_ref()
        .map_or(0, |b| rejected.saturating_sub(b.rejected));
    let mut spans = vec![
        Span::raw(format!("running {}  ", s.status.threads_running)),
        Span::raw(format!("sleeping {}  ", app.data.sleeping)),
        Span::raw(format!("new/s {}  ", rate(conn_rate))),
        Span::raw(format!(
            "{} {}  ",
            if narrow { "abrt/s" } else { "aborted/s" },
            rate(aborted_rate)
        )),
        Span::styled(
            if narrow {
                format!("rejected {rejected} (+{since_start})")
            } else {
                format!("rejected {rejected} (+{since_start} since start)")
            },
            if since_start > 0 {
                theme.crit()
            } else {
                theme.dim()
            },
        ),
    ];
    if !app.table.tags.is_empty() {
        spans.push(Span::styled(
            format!("  tagged {}", app.table.tags.len()),
            theme.tagged(),
        ));
    }
    if let Some(t) = app.data.oldest_trx_ms {
        let label = if narrow { "trx" } else { "oldest trx" };
        spans.push(Span::raw(format!("  {label} {}", short_ms(t))));
    }
    Line::from(spans)
}
