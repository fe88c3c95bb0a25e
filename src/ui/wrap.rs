//! Text that fits a width: lines wrapped at spaces with their indent kept,
//! and cells cut at a display width with `…`. The text is drawn text
//! already (server strings went through `text::one_line`/`block`), so every
//! character is one or two columns wide.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthChar;

/// Columns `c` takes (the inert text has no zero-width characters; a
/// stray one counts as one column, never zero).
fn columns(c: char) -> usize {
    c.width().unwrap_or(1).max(1)
}

/// Columns `s` takes.
pub fn width(s: &str) -> usize {
    s.chars().map(columns).sum()
}

/// `s` cut to at most `max` columns; a cut one ends in `…`.
pub fn cut(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = columns(c);
        if used + w > max - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// `s` cut to `cols` columns and padded with spaces to exactly `cols`.
pub fn cell(s: &str, cols: usize) -> String {
    let mut out = cut(s, cols);
    let pad = cols.saturating_sub(width(&out));
    out.extend(std::iter::repeat_n(' ', pad));
    out
}

/// Widest label column a hanging indent lines text up after.
const LABEL_MAX: usize = 24;

/// The indent continuation rows of `chars` get (a hanging indent): its
/// leading spaces; two more after a leading `→ `, `• ` or `- ` marker; or,
/// for a label and its text (`Id          22`, `  /           filter`),
/// the text's column.
fn hang(chars: &[(char, Style)]) -> usize {
    let lead = chars.iter().take_while(|(c, _)| *c == ' ').count();
    let marker = matches!(
        chars.get(lead..lead + 2),
        Some([(m, _), (' ', _)]) if matches!(m, '→' | '•' | '-')
    );
    if marker {
        return lead + 2;
    }
    // A run of two spaces or more after the label, before LABEL_MAX.
    let mut i = lead;
    while i < chars.len().min(LABEL_MAX) {
        if chars[i].0 == ' ' && chars.get(i + 1).is_some_and(|c| c.0 == ' ') {
            let end = i + chars[i..].iter().take_while(|(c, _)| *c == ' ').count();
            if end < chars.len() && end <= LABEL_MAX {
                return end;
            }
            break;
        }
        i += 1;
    }
    lead
}

/// Joins runs of one style back into spans.
fn to_line(chars: &[(char, Style)], indent: usize, line_style: Style) -> Line<'static> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    if indent > 0 {
        spans.push(Span::raw(" ".repeat(indent)));
    }
    let mut text = String::new();
    let mut style = None;
    for &(c, s) in chars {
        if style.is_some_and(|st| st != s) {
            spans.push(Span::styled(
                std::mem::take(&mut text),
                style.unwrap_or_default(),
            ));
        }
        style = Some(s);
        text.push(c);
    }
    if !text.is_empty() {
        spans.push(Span::styled(text, style.unwrap_or_default()));
    }
    Line::from(spans).style(line_style)
}

/// `line` as rows of at most `cols` columns, broken at spaces where it can
/// be (inside a word too long for a row otherwise). Continuation rows keep
/// the line's indent (see [`hang`]), so wrapped evidence and SQL stay under
/// their heading.
pub fn wrap(line: &Line<'_>, cols: usize) -> Vec<Line<'static>> {
    let chars: Vec<(char, Style)> = line
        .spans
        .iter()
        .flat_map(|s| s.content.chars().map(move |c| (c, s.style)))
        .collect();
    let cols = cols.max(1);
    if chars.iter().map(|(c, _)| columns(*c)).sum::<usize>() <= cols {
        return vec![to_line(&chars, 0, line.style)];
    }
    let lead = hang(&chars);
    // Keep at least half the row for text.
    let indent = lead.min(cols / 2);
    let mut rows = Vec::new();
    let mut start = 0;
    let mut first = true;
    while start < chars.len() {
        let room = if first { cols } else { cols - indent };
        // How far `room` columns reach, and the last space within them.
        let mut used = 0;
        let mut end = start;
        let mut space = None;
        while end < chars.len() {
            let w = columns(chars[end].0);
            if used + w > room {
                break;
            }
            if chars[end].0 == ' ' && end > start + if first { lead } else { 0 } {
                space = Some(end);
            }
            used += w;
            end += 1;
        }
        if end == start {
            // A wide character in a one-column row: take it anyway.
            end = start + 1;
        }
        let cut_at = match space {
            Some(s) if end < chars.len() && chars[end].0 != ' ' => s,
            _ => end,
        };
        let mut row_end = cut_at;
        while row_end > start && chars[row_end - 1].0 == ' ' {
            row_end -= 1;
        }
        rows.push(to_line(
            &chars[start..row_end],
            if first { 0 } else { indent },
            line.style,
        ));
        start = cut_at;
        while start < chars.len() && chars[start].0 == ' ' {
            start += 1;
        }
        first = false;
    }
    rows
}

/// Every line of `lines` wrapped to `cols` columns.
pub fn wrap_all<'a>(
    lines: impl IntoIterator<Item = &'a Line<'a>>,
    cols: usize,
) -> Vec<Line<'static>> {
    lines.into_iter().flat_map(|l| wrap(l, cols)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(rows: &[Line]) -> Vec<String> {
        rows.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn cut_ends_in_an_ellipsis_and_counts_columns() {
        assert_eq!(cut("event_scheduler", 12), "event_sched…");
        assert_eq!(cut("short", 12), "short");
        assert_eq!(cut("日本語です", 5), "日本…");
        assert_eq!(cut("abc", 0), "");
        assert_eq!(cell("ab", 4), "ab  ");
        assert_eq!(width(&cell("日本語です", 5)), 5);
    }

    #[test]
    fn wrapped_rows_keep_the_indent_and_break_at_spaces() {
        let l = Line::from("  → make the application close its connections");
        let rows = text(&wrap(&l, 20));
        assert_eq!(
            rows,
            [
                "  → make the",
                "    application",
                "    close its",
                "    connections"
            ]
        );
        for r in &rows {
            assert!(width(r) <= 20, "{r}");
        }
        let sql = Line::from("    SET GLOBAL wait_timeout = 300;");
        assert_eq!(
            text(&wrap(&sql, 20)),
            ["    SET GLOBAL", "    wait_timeout =", "    300;"]
        );
    }

    #[test]
    fn a_label_and_its_text_hang_at_the_text() {
        let l = Line::from("  /           filter (user, host, db, command, state, query)");
        let rows = text(&wrap(&l, 40));
        assert_eq!(
            rows,
            [
                "  /           filter (user, host, db,",
                "              command, state, query)"
            ]
        );
    }

    #[test]
    fn a_long_word_is_broken_and_nothing_is_lost() {
        let word = "x".repeat(25);
        let rows = text(&wrap(&Line::from(word.as_str()), 10));
        assert_eq!(rows, ["x".repeat(10), "x".repeat(10), "x".repeat(5)]);
        assert_eq!(wrap(&Line::from(""), 10).len(), 1);
        assert_eq!(text(&wrap(&Line::from("ab"), 0)), ["a", "b"]);
    }

    #[test]
    fn styles_survive_wrapping() {
        let bold = Style::new().add_modifier(ratatui::style::Modifier::BOLD);
        let l = Line::from(vec![Span::raw("aaa "), Span::styled("bbb", bold)]);
        let rows = wrap(&l, 4);
        assert_eq!(text(&rows), ["aaa", "bbb"]);
        assert_eq!(rows[1].spans[0].style, bold);
    }
}
