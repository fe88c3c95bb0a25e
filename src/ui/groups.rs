//! The grouped views: sessions by user, client host or database.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Row, Table};

use crate::app::keymap::{self, Action};
use crate::app::table::scroll_offset;
use crate::app::{App, View};
use crate::groups::{GroupBy, GroupSort};
use crate::text::{one_line, short_ms};
use crate::ui::fields::{self, Field, arrow, rows_field};
use crate::ui::layout;
use crate::ui::theme::Theme;
use crate::ui::wrap::cut;

/// The columns, in table order: header text, the sort that orders by it,
/// and its width.
fn columns(by: GroupBy) -> [(&'static str, GroupSort, Constraint); 7] {
    [
        (by.label(), GroupSort::Key, Constraint::Fill(1)),
        ("Sessions", GroupSort::Sessions, Constraint::Length(9)),
        ("Sleeping", GroupSort::Sleeping, Constraint::Length(9)),
        ("Active", GroupSort::Active, Constraint::Length(7)),
        ("Oldest idle", GroupSort::OldestIdle, Constraint::Length(12)),
        (
            "Longest run",
            GroupSort::LongestRunning,
            Constraint::Length(12),
        ),
        ("% of max", GroupSort::Share, Constraint::Length(9)),
    ]
}

/// Draws the group table into `area`.
pub fn render(app: &App, theme: Theme, frame: &mut Frame, area: Rect) {
    let View::Groups(by) = app.table.view else {
        return;
    };
    let table = &app.table;
    let body = layout::rows_in(area);
    let offset = scroll_offset(table.offset, table.cursor, body, table.groups.len());
    let order = table.group_sort;
    let cols = columns(by);
    let key_width = Layout::horizontal(cols.map(|(_, _, w)| w))
        .flex(Flex::Start)
        .spacing(1)
        .split(Rect::new(0, 0, area.width, 1))
        .first()
        .map_or(0, |r| usize::from(r.width));
    let header = Row::new(cols.iter().map(|(title, sort, _)| {
        let mut t = title.to_string();
        if *sort == order.by {
            t.push(arrow(order.descending));
        }
        Cell::from(t)
    }))
    .style(theme.header());
    let rows = table
        .groups
        .iter()
        .enumerate()
        .skip(offset)
        .take(body)
        .map(|(pos, g)| {
            let row = Row::new([
                cut(&one_line(&g.key, 200), key_width),
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
                // A group of system threads holds no slot.
                if g.slots > 0 {
                    format!("{:.1}%", g.share * 100.0)
                } else {
                    "–".into()
                },
            ]);
            if pos == table.cursor {
                row.style(theme.selected())
            } else {
                row
            }
        });
    let mut f = vec![
        Field::new(Span::raw(format!("By {}", by.label())), 0),
        Field::new(Span::raw(format!("{} groups", table.groups.len())), 0),
    ];
    f.extend(rows_field(offset, body, table.groups.len()));
    f.push(Field::new(
        Span::raw(format!(
            "sort {} {}",
            order.by.label(),
            arrow(order.descending)
        )),
        2,
    ));
    f.push(Field::new(
        Span::raw(format!("{}: its sessions", keymap::key(Action::Detail))),
        3,
    ));
    f.push(Field::new(
        Span::raw(format!("{}: next view", keymap::key(Action::NextView))),
        4,
    ));
    let fitted = fields::fit(
        f,
        usize::from(area.width).saturating_sub(2),
        Span::raw(" · "),
    );
    let mut spans = vec![Span::raw(" ")];
    spans.extend(fitted.spans);
    spans.push(Span::raw(" "));
    let title = Line::from(spans);
    let widget = Table::new(rows, cols.map(|(_, _, width)| width))
        .header(header)
        .block(Block::default().borders(Borders::TOP).title(title))
        .column_spacing(1);
    frame.render_widget(widget, area);
}
