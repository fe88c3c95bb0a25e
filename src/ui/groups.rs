//! The grouped views: sessions by user, client host or database.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Cell, Row, Table};

use crate::app::{App, View};
use crate::text::{one_line, short_ms};
use crate::ui::sessions::scroll_offset;
use crate::ui::theme::Theme;

/// Draws the group table into `area`.
pub fn render(app: &App, theme: Theme, frame: &mut Frame, area: Rect) {
    let View::Groups(by) = app.view else {
        return;
    };
    let body = area.height.saturating_sub(2) as usize;
    app.page.set(body.max(1));
    let offset = scroll_offset(app.offset.get(), app.cursor, body, app.groups.len());
    app.offset.set(offset);
    let (sort, desc) = app.group_sort;
    let titles = [
        by.label(),
        "Sessions",
        "Sleeping",
        "Active",
        "Oldest idle",
        "Longest run",
        "% of max",
    ];
    let sorted = sort.label();
    let header = Row::new(titles.iter().map(|t| {
        let mut t = t.to_string();
        if t.eq_ignore_ascii_case(sorted) {
            t.push(if desc { '▼' } else { '▲' });
        }
        Cell::from(t)
    }))
    .style(theme.header());
    let rows = app
        .groups
        .iter()
        .enumerate()
        .skip(offset)
        .take(body)
        .map(|(pos, g)| {
            let row = Row::new([
                one_line(&g.key, 80).into_owned(),
                g.sessions.to_string(),
                g.sleeping.to_string(),
                g.active.to_string(),
                if g.sleeping > 0 {
                    short_ms(g.oldest_idle_ms)
                } else {
                    "–".into()
                },
                if g.active > 0 {
                    short_ms(g.longest_running_ms)
                } else {
                    "–".into()
                },
                format!("{:.1}%", g.share * 100.0),
            ]);
            if pos == app.cursor {
                row.style(theme.selected())
            } else {
                row
            }
        });
    let title = Line::from(format!(
        " By {} · {} groups · sort {} {} · Enter: its sessions · Tab: next view ",
        by.label(),
        app.groups.len(),
        sorted,
        if desc { "▼" } else { "▲" }
    ));
    let widths = [
        Constraint::Fill(1),
        Constraint::Length(9),
        Constraint::Length(9),
        Constraint::Length(7),
        Constraint::Length(12),
        Constraint::Length(12),
        Constraint::Length(9),
    ];
    let table = Table::new(rows, widths)
        .header(header)
        .block(Block::default().borders(Borders::TOP).title(title))
        .column_spacing(1);
    frame.render_widget(table, area);
}
