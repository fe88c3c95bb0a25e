//! A replay's parts of the screen: the header's first line (REPLAY, the
//! recorded wall-clock time, play speed, the recording's span) and the
//! go-to prompt in the footer.

use std::time::Duration;

use ratatui::text::{Line, Span};

use crate::app::App;
use crate::app::keymap::Mode;
use crate::record::clock::{Utc, show};
use crate::text::{one_line, short_duration};
use crate::ui::hint_spans;
use crate::ui::theme::Theme;

/// The header's first line while replaying; `None` when live.
pub fn status_line(app: &App, theme: Theme) -> Option<Line<'static>> {
    let r = app.replay.as_ref()?;
    let mut spans = vec![Span::styled("conntop ", theme.title())];
    if let Some(s) = &app.data.snapshot {
        spans.push(Span::raw(format!("{} ", one_line(&s.server.version, 40))));
        spans.push(Span::styled(
            format!("{} ", one_line(&s.endpoint, 60)),
            theme.dim(),
        ));
    }
    spans.push(Span::styled(" REPLAY ", theme.warn()));
    spans.push(Span::styled(format!(" {} ", show(r.at)), theme.title()));
    spans.push(Span::raw(match r.speed {
        Some(x) => format!("▶ {x}x  "),
        None => "❚❚ paused  ".to_string(),
    }));
    if let Some(down) = &app.data.down {
        let for_ = r.at.duration_since(down.since).unwrap_or_default();
        spans.push(Span::styled(
            format!(" SERVER UNREACHABLE for {} ", short_duration(for_)),
            theme.crit(),
        ));
    } else if let Some(s) = &app.data.snapshot {
        spans.push(Span::raw(format!(
            "up {}  ",
            short_duration(Duration::from_secs(s.status.uptime_s))
        )));
    }
    spans.push(Span::styled(
        format!("[{} – {}]", Utc::of(r.first).time(), Utc::of(r.last).time()),
        theme.dim(),
    ));
    Some(Line::from(spans))
}

/// The footer while the go-to prompt is open.
pub fn goto_line(input: &str, theme: Theme) -> Line<'static> {
    let mut spans = vec![
        Span::styled("go to (UTC): ", theme.key()),
        Span::raw(one_line(input, 40).into_owned()),
        Span::styled("█   ", theme.dim()),
    ];
    spans.extend(hint_spans(Mode::GoTo, |_| true, theme));
    Line::from(spans)
}
