//! The top three lines: server and connection state, the slot gauge, rates.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use std::time::Duration;

use crate::app::App;
use crate::history::Sample;
use crate::text::{one_line, short_duration, short_ms};
use crate::ui::fields::{self, Field};
use crate::ui::theme::Theme;

/// Draws the header into `area` (3 lines).
pub fn render(app: &App, theme: Theme, frame: &mut Frame, area: Rect) {
    let lines = vec![
        status_line(app, theme, area.width),
        gauge_line(app, theme, area.width),
        rates_line(app, theme, area.width),
    ];
    frame.render_widget(Paragraph::new(lines), area);
}

/// Separator between header fields.
const SEP: &str = "  ";

/// The first line: what is watched and how the watching goes. Fields are
/// whole or absent (see `fields`).
fn status_line(app: &App, theme: Theme, width: u16) -> Line<'static> {
    let mut f = vec![Field::new(Span::styled("conntop", theme.title()), 0)];
    if let Some(s) = &app.data.snapshot {
        let version = one_line(&s.server.version, 40).into_owned();
        let number = version.split('-').next().unwrap_or_default().to_string();
        f.push(Field::new(Span::raw(version), 5).or_short(Span::raw(number)));
        f.push(Field::new(
            Span::styled(one_line(&s.endpoint, 60).into_owned(), theme.dim()),
            4,
        ));
    }
    let state = if let Some(replay) = crate::ui::replay::state(app, theme) {
        replay
    } else if let Some(down) = &app.data.down {
        let for_ = app.now.duration_since(down.since).unwrap_or_default();
        Span::styled(
            format!(
                "RECONNECTING {} (attempt {})",
                short_duration(for_),
                down.attempts
            ),
            theme.crit(),
        )
    } else if app.data.snapshot.is_none() {
        Span::styled("connecting…", theme.dim())
    } else if app.data.paused {
        Span::styled("PAUSED", theme.warn())
    } else if app.is_stale() {
        let age = app.snapshot_age().unwrap_or_default();
        Span::styled(format!("STALE {} old", short_duration(age)), theme.crit())
    } else {
        Span::styled("● live", theme.ok())
    };
    f.push(Field::new(state, 0));
    if let Some(span) = crate::ui::replay::span(app) {
        f.push(Field::new(Span::styled(span, theme.dim()), 3));
    }
    if app.opts.safety.read_only {
        f.push(Field::new(Span::styled("RO", theme.warn()), 0));
    }
    f.push(Field::new(
        Span::raw(format!("every {}", short_duration(app.opts.interval))),
        1,
    ));
    if let (Some(s), None) = (&app.data.snapshot, &app.data.down) {
        f.push(Field::new(
            Span::raw(format!(
                "up {}",
                short_duration(Duration::from_secs(s.status.uptime_s))
            )),
            6,
        ));
        f.push(Field::new(
            Span::raw(format!("poll {}", short_duration(s.poll_latency))),
            5,
        ));
        if !s.privileges.process {
            f.push(
                Field::new(
                    Span::styled("no PROCESS: own sessions only", theme.warn()),
                    1,
                )
                .or_short(Span::styled("no PROCESS", theme.warn())),
            );
        }
        if !s.privileges.kill_any {
            f.push(
                Field::new(
                    Span::styled(
                        "no SUPER/CONNECTION ADMIN: kills own sessions only",
                        theme.warn(),
                    ),
                    2,
                )
                .or_short(Span::styled("kills own only", theme.warn())),
            );
        }
    }
    fields::fit(f, usize::from(width), Span::raw(SEP))
}

fn gauge_line(app: &App, theme: Theme, width: u16) -> Line<'static> {
    let Some(s) = &app.data.snapshot else {
        return Line::from("");
    };
    let t = &app.opts.thresholds;
    let max = s.variables.max_connections;
    let used = s.status.threads_connected;
    let share = s.usage();
    let prefix = "Slots ";
    let mut label = format!(
        " {used}/{max} {:.1}%  max used {}",
        share * 100.0,
        s.status.max_used_connections
    );
    // The mark's number goes before the bar gets shorter than ten cells.
    if (width as usize) < prefix.len() + label.chars().count() + 2 + 10 {
        label = format!(" {used}/{max} {:.1}%", share * 100.0);
    }
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
    let Some(s) = &app.data.snapshot else {
        return Line::from("");
    };
    let conn_rate = app.data.shown_rate(|x: &Sample| x.connections);
    let aborted_rate = app.data.shown_rate(|x: &Sample| x.aborted_connects);
    let rate = |r: Option<f64>| r.map_or("–".to_string(), |r| format!("{r:.1}"));
    let rejected = s.status.connection_errors_max_connections;
    let since_start = app
        .data
        .baseline
        .as_ref()
        .map_or(0, |b| rejected.saturating_sub(b.rejected));
    let rejected_style = if since_start > 0 {
        theme.crit()
    } else {
        theme.dim()
    };
    let mut f = vec![
        Field::new(Span::raw(format!("running {}", app.data.counts.running)), 1),
        Field::new(
            Span::raw(format!("sleeping {}", app.data.counts.sleeping)),
            1,
        ),
        Field::new(Span::raw(format!("new/s {}", rate(conn_rate))), 3),
        Field::new(Span::raw(format!("aborted/s {}", rate(aborted_rate))), 4)
            .or_short(Span::raw(format!("abrt/s {}", rate(aborted_rate)))),
        Field::new(
            Span::styled(
                format!("rejected {rejected} (+{since_start} since start)"),
                rejected_style,
            ),
            0,
        )
        .or_short(Span::styled(
            format!("rejected {rejected} (+{since_start})"),
            rejected_style,
        )),
    ];
    if !app.table.tags.is_empty() {
        f.push(Field::new(
            Span::styled(format!("tagged {}", app.table.tags.len()), theme.tagged()),
            1,
        ));
    }
    if let Some(t) = app.data.oldest_trx_ms {
        f.push(
            Field::new(Span::raw(format!("oldest trx {}", short_ms(t))), 2)
                .or_short(Span::raw(format!("trx {}", short_ms(t)))),
        );
    }
    fields::fit(f, usize::from(width), Span::raw(SEP))
}
