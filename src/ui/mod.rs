//! Drawing the dashboard: a pure function of the app state. One file per
//! part of the screen; nothing here knows SQL.

pub mod dialogs;
pub mod findings;
pub mod footer;
pub mod groups;
pub mod header;
pub mod history;
pub mod sessions;
pub mod theme;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};

use crate::app::{App, Modal, View};
use theme::Theme;

/// Draws the whole screen.
pub fn render(app: &App, frame: &mut Frame) {
    let theme = Theme {
        color: app.opts.color,
    };
    let area = frame.area();
    let chart_h = match area.height {
        h if h >= 40 => 8,
        h if h >= 22 => 4,
        _ => 0,
    };
    let strip_h = findings::height(app, if area.height >= 30 { 4 } else { 2 });
    let [head, chart, strip, main, foot] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Length(chart_h),
        Constraint::Length(strip_h),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(area);
    header::render(app, theme, frame, head);
    if chart_h > 0 {
        history::render(app, theme, frame, chart);
    }
    if strip_h > 0 {
        findings::render(app, theme, frame, strip);
    }
    match app.view {
        View::Sessions => sessions::render(app, theme, frame, main),
        View::Groups(_) => groups::render(app, theme, frame, main),
    }
    footer::render(app, theme, frame, foot);
    match &app.modal {
        Some(Modal::Help { scroll }) => dialogs::help(theme, frame, area, *scroll),
        Some(Modal::Detail { id, scroll }) => {
            dialogs::detail(app, theme, frame, area, *id, *scroll)
        }
        Some(Modal::Confirm(plan)) => dialogs::confirm(theme, frame, area, plan),
        Some(Modal::Diagnosis { scroll }) => dialogs::diagnosis(app, theme, frame, area, *scroll),
        Some(Modal::Filter { .. }) | None => {}
    }
}
