//! Drawing the dashboard: a pure, read-only function of the app state. One
//! file per part of the screen; nothing here knows SQL.

pub mod confirm;
pub mod dialogs;
pub mod fields;
pub mod findings;
pub mod footer;
pub mod groups;
pub mod header;
pub mod help;
pub mod history;
pub mod layout;
pub mod overlay;
pub mod replay;
pub mod sessions;
pub mod theme;
pub mod wrap;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Span;

use crate::app::{Action, App, Dialog, Mode, View};
use overlay::Overlay;
use theme::Theme;

/// The theme of `app`.
fn theme_of(app: &App) -> Theme {
    Theme {
        color: app.opts.color,
    }
}

/// Draws the whole screen.
pub fn render(app: &App, frame: &mut Frame) {
    let theme = theme_of(app);
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
    if let Some(Dialog::Confirm(plan)) = &app.dialog {
        confirm::overlay(plan, theme, area).render(frame, area, 0, theme);
    } else if let (Some(o), Some(scroll)) = (
        scrolling_overlay(app, theme, area),
        app.dialog.as_ref().and_then(Dialog::scroll),
    ) {
        o.render(frame, area, scroll, theme);
    }
}

/// The open dialog's box when it is one that scrolls.
fn scrolling_overlay(app: &App, theme: Theme, screen: Rect) -> Option<Overlay> {
    match app.dialog.as_ref()? {
        Dialog::Help { .. } => Some(help::overlay(theme)),
        Dialog::Detail { id, .. } => Some(dialogs::detail(app, theme, screen, *id)),
        Dialog::Diagnosis { .. } => Some(dialogs::diagnosis(app, theme, screen)),
        Dialog::Filter { .. } | Dialog::Confirm(_) | Dialog::GoTo { .. } => None,
    }
}

/// How far the open dialog's text scrolls on `screen`: the app keeps its
/// scroll offset within this (0 when it fits or does not scroll).
pub fn scroll_limit(app: &App, screen: Rect) -> u16 {
    let theme = theme_of(app);
    scrolling_overlay(app, theme, screen).map_or(0, |o| o.scroll_limit(screen, theme))
}

/// The hints of `mode` for the actions `keep` accepts, one piece each
/// (keys highlighted), for a box's pinned key rows.
pub fn hint_pieces(
    mode: Mode,
    keep: impl Fn(Action) -> bool,
    theme: Theme,
) -> Vec<Vec<Span<'static>>> {
    crate::app::keymap::hints(mode, keep)
        .into_iter()
        .map(|(keys, word)| {
            vec![
                Span::styled(keys, theme.key()),
                Span::styled(format!(" {word}"), theme.dim()),
            ]
        })
        .collect()
}

/// The hints of `mode` for the actions `keep` accepts, keys highlighted:
/// `y/Enter kill · n/Esc cancel`.
pub fn hint_spans(mode: Mode, keep: impl Fn(Action) -> bool, theme: Theme) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    for (i, piece) in hint_pieces(mode, keep, theme).into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" · ", theme.dim()));
        }
        spans.extend(piece);
    }
    spans
}
