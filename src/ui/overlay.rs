//! A box over the dashboard: a title, a body wrapped to the box's width and
//! scrolled, and key hints pinned to its bottom so they are always visible.
//! The box is sized by the body's wrapped height, never by its line count,
//! and the app asks the same code how far the body scrolls.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::ui::theme::Theme;
use crate::ui::wrap::{self, wrap_all};

/// The separator between key hints.
const HINT_SEP: &str = " · ";

/// A box's content and how wide it may get.
#[derive(Debug, Clone)]
pub struct Overlay {
    pub title: Line<'static>,
    /// The body, one entry per logical line (wrapped when drawn).
    pub body: Vec<Line<'static>>,
    /// Key hints (or a closing note), kept whole and packed into the pinned
    /// rows under the body.
    pub keys: Vec<Vec<Span<'static>>>,
    /// Widest the box gets; the screen's width caps it too.
    pub max_width: u16,
}

/// Where a box goes and what it shows.
#[derive(Debug)]
struct Placed {
    area: Rect,
    body: Vec<Line<'static>>,
    keys: Vec<Line<'static>>,
    /// Body rows on screen.
    view: usize,
}

/// A centred rectangle of at most `w` x `h` inside `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Length(h.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [r] = Layout::horizontal([Constraint::Length(w.min(area.width))])
        .flex(Flex::Center)
        .areas(v);
    r
}

/// `pieces` packed whole into rows of `cols` columns, joined by `·`; a
/// piece wider than a row is wrapped on its own.
pub fn pack(pieces: &[Vec<Span<'static>>], cols: usize, theme: Theme) -> Vec<Line<'static>> {
    let mut rows: Vec<Line<'static>> = Vec::new();
    let mut row: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    for piece in pieces {
        let w: usize = piece.iter().map(Span::width).sum();
        let sep = if row.is_empty() {
            0
        } else {
            HINT_SEP.chars().count()
        };
        if !row.is_empty() && used + sep + w > cols {
            rows.push(Line::from(std::mem::take(&mut row)));
            used = 0;
        }
        if w > cols {
            rows.extend(wrap::wrap(&Line::from(piece.clone()), cols));
            continue;
        }
        if !row.is_empty() {
            row.push(Span::styled(HINT_SEP, theme.dim()));
            used += HINT_SEP.chars().count();
        }
        row.extend(piece.iter().cloned());
        used += w;
    }
    if !row.is_empty() {
        rows.push(Line::from(row));
    }
    rows
}

impl Overlay {
    fn place(&self, screen: Rect, theme: Theme) -> Placed {
        let width = self.max_width.min(screen.width);
        let cols = usize::from(width.saturating_sub(2)).max(1);
        let body = wrap_all(&self.body, cols);
        let keys = pack(&self.keys, cols, theme);
        let needed = body.len() + keys.len() + 2;
        let height = u16::try_from(needed).unwrap_or(u16::MAX).min(screen.height);
        let inner = usize::from(height.saturating_sub(2));
        // The keys first: a box too short for both still shows them.
        let keys_shown = keys.len().min(inner);
        let view = inner - keys_shown;
        let mut keys = keys;
        keys.truncate(keys_shown);
        Placed {
            area: centered(screen, width, height),
            body,
            keys,
            view,
        }
    }

    /// How far the body scrolls on `screen`: 0 when it fits.
    pub fn scroll_limit(&self, screen: Rect, theme: Theme) -> u16 {
        let p = self.place(screen, theme);
        u16::try_from(p.body.len().saturating_sub(p.view)).unwrap_or(u16::MAX)
    }

    /// Draws the box centred on `screen`, the body scrolled by `scroll`
    /// rows (at most to its end).
    pub fn render(&self, frame: &mut Frame, screen: Rect, scroll: u16, theme: Theme) {
        let p = self.place(screen, theme);
        let total = p.body.len();
        let top = usize::from(scroll).min(total.saturating_sub(p.view));
        frame.render_widget(Clear, p.area);
        let mut block = Block::default()
            .borders(Borders::ALL)
            .title(self.title.clone());
        if total > p.view && p.view > 0 {
            let last = (top + p.view).min(total);
            block = block.title_bottom(
                Line::styled(format!(" {}-{last} of {total} ", top + 1), theme.dim())
                    .right_aligned(),
            );
        }
        let inner = block.inner(p.area);
        frame.render_widget(block, p.area);
        let view = u16::try_from(p.view).unwrap_or(u16::MAX).min(inner.height);
        let [body_area, keys_area] =
            Layout::vertical([Constraint::Length(view), Constraint::Fill(1)]).areas(inner);
        let shown: Vec<Line> = p.body.into_iter().skip(top).take(p.view).collect();
        frame.render_widget(Paragraph::new(shown), body_area);
        frame.render_widget(Paragraph::new(p.keys), keys_area);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const THEME: Theme = Theme { color: false };

    fn overlay(body: usize) -> Overlay {
        Overlay {
            title: Line::from(" t "),
            body: (0..body).map(|i| Line::from(format!("line {i}"))).collect(),
            keys: vec![vec![Span::raw("y kill")], vec![Span::raw("n cancel")]],
            max_width: 40,
        }
    }

    #[test]
    fn the_box_is_as_tall_as_the_wrapped_body_and_keys() {
        let screen = Rect::new(0, 0, 80, 24);
        let p = overlay(3).place(screen, THEME);
        assert_eq!(p.area.height, 3 + 1 + 2);
        assert_eq!(p.area.width, 40);
        // A line three rows wide once wrapped counts three.
        let mut o = overlay(0);
        o.body.push(Line::from("word ".repeat(20)));
        assert_eq!(o.place(screen, THEME).body.len(), 3);
        assert_eq!(o.scroll_limit(screen, THEME), 0);
    }

    #[test]
    fn a_short_screen_scrolls_the_body_and_keeps_the_keys() {
        let screen = Rect::new(0, 0, 60, 10);
        let o = overlay(30);
        let p = o.place(screen, THEME);
        assert_eq!(p.area.height, 10);
        assert_eq!(p.keys.len(), 1);
        assert_eq!(p.view, 7);
        assert_eq!(o.scroll_limit(screen, THEME), 23);
        // Only room for the keys.
        let tiny = Rect::new(0, 0, 60, 3);
        let p = o.place(tiny, THEME);
        assert_eq!((p.view, p.keys.len()), (0, 1));
    }

    #[test]
    fn keys_pack_whole_into_rows() {
        let pieces: Vec<Vec<Span>> = ["y/Enter kill", "n/Esc cancel", "+/- threshold"]
            .iter()
            .map(|s| vec![Span::raw(*s)])
            .collect();
        let rows: Vec<String> = pack(&pieces, 30, THEME)
            .iter()
            .map(|l| l.to_string())
            .collect();
        assert_eq!(rows, ["y/Enter kill · n/Esc cancel", "+/- threshold"]);
    }
}
