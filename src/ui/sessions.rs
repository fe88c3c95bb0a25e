//! The sessions table. Only the rows on screen are built, so a frame costs
//! the same at 100 sessions as at 50,000.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Row, Table};

use crate::app::App;
use crate::app::keymap::{self, Action};
use crate::app::rows::Column;
use crate::app::table::scroll_offset;
use crate::snapshot::Session;
use crate::text::one_line;
use crate::ui::fields::{self, Field, arrow, rows_field};
use crate::ui::layout;
use crate::ui::theme::Theme;
use crate::ui::wrap::cut;

/// Columns shown at a terminal width: DB and State go first when narrow.
pub fn columns_for(width: u16) -> Vec<Column> {
    Column::ALL
        .into_iter()
        .filter(|c| match c {
            Column::Db => width >= 100,
            Column::State => width >= 112,
            _ => true,
        })
        .collect()
}

fn width_of(c: Column) -> Constraint {
    match c {
        Column::Id => Constraint::Length(8),
        Column::User => Constraint::Length(12),
        Column::Host => Constraint::Length(21),
        Column::Db => Constraint::Length(10),
        Column::Command => Constraint::Length(8),
        Column::Time => Constraint::Length(7),
        Column::State => Constraint::Length(16),
        Column::Query => Constraint::Fill(1),
    }
}

/// The widths the table gives `cols` in `width` columns (as `Table` lays
/// them out: one column of spacing, the query fills the rest).
fn column_widths(cols: &[Column], width: u16) -> Vec<u16> {
    Layout::horizontal(cols.iter().map(|c| width_of(*c)))
        .flex(Flex::Start)
        .spacing(1)
        .split(Rect::new(0, 0, width, 1))
        .iter()
        .map(|r| r.width)
        .collect()
}

/// The text of a cell, cut to its `width` with `…`.
fn cell_text(s: &Session, c: Column, marks: &str, width: u16) -> String {
    let max = match c {
        Column::Query => 400,
        _ => 64,
    };
    let text = match c {
        Column::Id => format!("{marks}{}", s.id),
        Column::User => one_line(&s.user, max).into_owned(),
        Column::Host => one_line(&s.host, max).into_owned(),
        Column::Db => one_line(s.db.as_deref().unwrap_or(""), max).into_owned(),
        Column::Command => one_line(&s.command, max).into_owned(),
        Column::Time => crate::text::session_time(s.time_ms),
        Column::State => one_line(&s.state, max).into_owned(),
        Column::Query => one_line(s.info.as_deref().unwrap_or(""), max).into_owned(),
    };
    cut(&text, usize::from(width))
}

/// The Id column's lock mark and the row's style: `!` for a root blocker
/// (others wait on it), `~` for a session waiting for a lock.
fn lock_mark(
    app: &App,
    s: &Session,
    theme: Theme,
) -> (&'static str, Option<ratatui::style::Style>) {
    if app.data.locks().is_root(s.id) {
        ("!", Some(theme.crit()))
    } else if s.wait.is_some() {
        ("~", Some(theme.warn()))
    } else {
        ("", None)
    }
}

/// The table title: counts, the rows on screen, sort, scope, filter;
/// whole fields only, the least needed go first when narrow.
fn title(app: &App, offset: usize, body: usize, width: usize) -> Line<'static> {
    let table = &app.table;
    let total = app.sessions().len();
    let shown = table.rows.len();
    let mut f = vec![Field::new(
        Span::raw(format!("Sessions {shown} of {total}")),
        0,
    )];
    f.extend(rows_field(offset, body, shown));
    f.push(Field::new(
        Span::raw(format!(
            "sort {} {}",
            table.sort.column.title(),
            arrow(table.sort.descending)
        )),
        3,
    ));
    if let Some((by, key)) = &table.scope {
        f.push(Field::new(
            Span::raw(format!("{}={}", by.label(), one_line(key, 40))),
            1,
        ));
    }
    if !table.filter.is_empty() {
        f.push(Field::new(
            Span::raw(format!("filter \"{}\"", one_line(&table.filter, 40))),
            1,
        ));
    }
    if table.hide_idle {
        f.push(Field::new(Span::raw("idle hidden"), 2));
    }
    let locks = app.data.locks();
    if let Some(top) = locks.roots.first() {
        f.push(
            Field::new(
                Span::raw(format!(
                    "{} waiting on locks, {} behind #{} ({}: locks view)",
                    locks.waiting,
                    top.total,
                    top.id,
                    keymap::key(Action::NextView)
                )),
                1,
            )
            .or_short(Span::raw(format!("{} waiting on locks", locks.waiting))),
        );
    }
    let line = fields::fit(f, width.saturating_sub(2), Span::raw(" · "));
    let mut spans = vec![Span::raw(" ")];
    spans.extend(line.spans);
    spans.push(Span::raw(" "));
    Line::from(spans)
}

/// Draws the table into `area`.
pub fn render(app: &App, theme: Theme, frame: &mut Frame, area: Rect) {
    let cols = columns_for(area.width);
    let table = &app.table;
    let body = layout::rows_in(area);
    let offset = scroll_offset(table.offset, table.cursor, body, table.rows.len());
    let sessions = app.sessions();
    let widths = column_widths(&cols, area.width);
    let header = Row::new(cols.iter().map(|c| {
        let mut t = c.title().to_string();
        if *c == table.sort.column {
            t.push(if table.sort.descending { '▼' } else { '▲' });
        }
        Cell::from(t)
    }))
    .style(theme.header());
    let rows = table
        .rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(body)
        .map(|(pos, &i)| {
            let s = &sessions[i];
            let tagged = table.tags.contains(&s.id);
            let lock = lock_mark(app, s, theme);
            let marks = format!("{}{}", if tagged { "*" } else { "" }, lock.0);
            let cells = cols
                .iter()
                .zip(&widths)
                .map(|(c, w)| Cell::from(cell_text(s, *c, &marks, *w)));
            let mut style = if let Some(mark) = lock.1 {
                mark
            } else if s.is_sleeping() {
                theme.idle()
            } else {
                ratatui::style::Style::new()
            };
            if tagged {
                style = theme.tagged();
            }
            if pos == table.cursor {
                style = theme.selected();
            }
            Row::new(cells).style(style)
        });
    let stale = " STALE: not live ";
    let room = usize::from(area.width).saturating_sub(if app.is_stale() {
        stale.chars().count()
    } else {
        0
    });
    let mut block = Block::default()
        .borders(Borders::TOP)
        .title(title(app, offset, body, room));
    if app.is_stale() {
        block = block.title(Span::styled(stale, theme.crit()));
    }
    let widget = Table::new(rows, cols.iter().map(|c| width_of(*c)))
        .header(header)
        .block(block)
        .column_spacing(1);
    frame.render_widget(widget, area);
    if table.rows.is_empty() && area.height > 3 {
        // No data yet and the server refuses us (1040 at startup): the
        // message says how an admin gets in, so it gets the room, wrapped.
        let (msg, style) = match (&app.data.snapshot, &app.data.down) {
            (None, Some(down)) => (one_line(&down.last_error, 2000).into_owned(), theme.warn()),
            (None, None) => ("waiting for the first snapshot…".to_string(), theme.dim()),
            _ => (
                format!(
                    "no session matches ({} clears the filter)",
                    keymap::key(Action::ClearFilter)
                ),
                theme.dim(),
            ),
        };
        let r = Rect {
            x: area.x + 1,
            y: area.y + 2,
            width: area.width.saturating_sub(2),
            height: area.height.saturating_sub(2),
        };
        frame.render_widget(
            ratatui::widgets::Paragraph::new(Span::styled(msg, style))
                .wrap(ratatui::widgets::Wrap { trim: true }),
            r,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_drops_db_and_state() {
        assert!(!columns_for(80).contains(&Column::Db));
        assert!(!columns_for(80).contains(&Column::State));
        assert!(columns_for(120).contains(&Column::State));
    }

    #[test]
    fn widths_are_the_tables_and_the_query_fills_the_rest() {
        let cols = columns_for(80);
        let w = column_widths(&cols, 80);
        assert_eq!(w.len(), cols.len());
        let used: u16 = w.iter().sum::<u16>() + (w.len() as u16 - 1);
        assert_eq!(used, 80);
    }
}
