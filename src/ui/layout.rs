//! Where each part of the screen goes: a pure function of the terminal area
//! and the number of findings. The renderer draws into these areas; the app
//! asks how many table rows fit, for paging and scrolling.

use ratatui::layout::{Constraint, Layout, Rect};

/// The parts of the screen, top to bottom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub header: Rect,
    pub chart: Rect,
    /// One line per finding (a few at most).
    pub strip: Rect,
    /// The sessions table or a grouped view.
    pub main: Rect,
    pub footer: Rect,
}

/// Lines above the rows of a table: its top border and its header row.
const TABLE_CHROME: u16 = 2;

/// The parts of `area` with `findings` findings to list.
pub fn areas(area: Rect, findings: usize) -> Areas {
    // Below 30 rows the table needs the rows more than the chart does.
    let chart = match area.height {
        h if h >= 40 => 8,
        h if h >= 30 => 5,
        _ => 0,
    };
    let strip_max: u16 = if area.height >= 30 { 4 } else { 2 };
    let strip = findings.min(usize::from(strip_max)) as u16;
    let [header, chart, strip, main, footer] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Length(chart),
        Constraint::Length(strip),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(area);
    Areas {
        header,
        chart,
        strip,
        main,
        footer,
    }
}

/// Rows a table drawn into `area` shows.
pub fn rows_in(area: Rect) -> usize {
    usize::from(area.height.saturating_sub(TABLE_CHROME))
}

/// Rows the table shows on a screen of `area` with `findings` findings.
pub fn table_rows(area: Rect, findings: usize) -> usize {
    rows_in(areas(area, findings).main)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_gets_what_the_rest_leaves() {
        // 40 rows: header 3, chart 8, 2 findings, footer 1, table chrome 2.
        assert_eq!(table_rows(Rect::new(0, 0, 120, 40), 2), 24);
        // 24 rows: no chart, at most 2 strip lines.
        assert_eq!(table_rows(Rect::new(0, 0, 80, 24), 9), 16);
        // 30 rows: a chart of 5.
        assert_eq!(table_rows(Rect::new(0, 0, 80, 30), 0), 19);
        assert_eq!(table_rows(Rect::new(0, 0, 20, 5), 0), 0);
    }
}
