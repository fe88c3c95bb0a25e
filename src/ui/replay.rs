//! A replay's parts of the screen: the header's first line (REPLAY, the
//! recorded wall-clock time, play speed, the recording's span) and the
//! go-to prompt in the footer.

use ratatui::text::{Line, Span};

use crate::app::App;
use crate::app::keymap::{self, Mode};
use crate::record::clock::{Utc, show};
use crate::text::{one_line, short_duration};
use crate::ui::hint_spans;
use crate::ui::theme::Theme;

/// The header's state field while replaying (REPLAY, the recorded time,
/// play or pause, down at that moment); `None` when live.
pub fn state(app: &App, theme: Theme) -> Option<Span<'static>> {
    let r = app.replay.as_ref()?;
    let play = match r.speed {
        Some(x) => format!("▶ {x}x"),
        None => "paused".to_string(),
    };
    let mut text = format!("REPLAY {} {play}", show(r.at));
    let style = match &app.data.down {
        Some(down) => {
            let for_ = r.at.duration_since(down.since).unwrap_or_default();
            text.push_str(&format!(
                " · server unreachable for {}",
                short_duration(for_)
            ));
            theme.crit()
        }
        None => theme.warn(),
    };
    Some(Span::styled(text, style))
}

/// The recording's span, for the header: `[03:00:00 – 03:59:59]`.
pub fn span(app: &App) -> Option<String> {
    let r = app.replay.as_ref()?;
    Some(format!(
        "[{} – {}]",
        Utc::of(r.first).time(),
        Utc::of(r.last).time()
    ))
}

/// The footer's key hints while replaying: the replay's, then help and
/// quit; the highest rank goes first when they do not fit.
pub fn hints(theme: Theme, width: usize) -> Line<'static> {
    let mut hints = keymap::footer_hints(Mode::Replay);
    hints.extend(
        keymap::footer_hints(Mode::Table)
            .into_iter()
            .filter(|h| h.word == "help" || h.word == "quit"),
    );
    super::footer::fit_hints(hints, theme, width)
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
