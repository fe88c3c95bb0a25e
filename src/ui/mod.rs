//! Drawing the dashboard: a pure, read-only function of the app state. One
//! file per part of the screen; nothing here knows SQL.

pub mod dialogs;
pub mod findings;
pub mod fleet;
pub mod footer;
pub mod groups;
pub mod header;
pub mod help;
pub mod history;
pub mod layout;
pub mod sessions;
pub mod theme;

use ratatui::Frame;

use crate::app::{App, Dialog, View};
use theme::Theme;

/// Draws the whole screen.
pub fn render(app: &App, frame: &mut Frame) {
    let theme = Theme {
        color: app.opts.color,
    };
    let area = frame.area();
    let parts = layout::areas(area, app.data.findings.len());
    header::render(app, theme, frame, parts.header);
    if parts.chart.height > 0 {
        history::render(app, theme, frame, parts.chart);
    }
    if parts.strip.height > 0 {
        findings::render(app, theme, frame, parts.strip);
    }
    match app.table.view {
        View::Sessions => sessions::render(app, theme, frame, parts.main),
        View::Groups(_) => groups::render(app, theme, frame, parts.main),
    }
    footer::render(app, theme, frame, parts.footer);
    match &app.dialog {
        Some(Dialog::Help { scroll }) if app.server.is_some() => {
            fleet::server_help(theme, frame, area, *scroll)
        }
        Some(Dialog::Help { scroll }) => help::render(theme, frame, area, *scroll),
        Some(Dialog::Detail { id, scroll }) => {
            dialogs::detail(app, theme, frame, area, *id, *scroll)
        }
        Some(Dialog::Confirm(plan)) => {
            dialogs::confirm(theme, frame, area, plan, app.server.as_deref())
        }
        Some(Dialog::Diagnosis { scroll }) => dialogs::diagnosis(app, theme, frame, area, *scroll),
        Some(Dialog::Filter { .. }) | None => {}
    }
}

/// The hints of `mode` for the actions `keep` accepts, keys highlighted:
/// `y/Enter kill · n/Esc cancel`.
pub fn hint_spans(
    mode: crate::app::Mode,
    keep: impl Fn(crate::app::Action) -> bool,
    theme: Theme,
) -> Vec<ratatui::text::Span<'static>> {
    use ratatui::text::Span;
    let mut spans = Vec::new();
    for (i, (keys, word)) in crate::app::keymap::hints(mode, keep)
        .into_iter()
        .enumerate()
    {
        if i > 0 {
            spans.push(Span::styled(" · ", theme.dim()));
        }
        spans.push(Span::styled(keys, theme.key()));
        spans.push(Span::styled(format!(" {word}"), theme.dim()));
    }
    spans
}
