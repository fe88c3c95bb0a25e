//! A line of fields that fits its width: each field is whole or absent, never
//! cut (a number keeps its unit: `poll 1ms` never shows as `poll 1m`). When
//! the line is too wide, fields switch to their short form and then go, the
//! least important first.

use ratatui::text::{Line, Span};

/// One field of a header or title line.
#[derive(Debug, Clone)]
pub struct Field {
    pub full: Vec<Span<'static>>,
    /// A shorter form (`trx 3s` for `oldest trx 3s`), used before dropping.
    pub short: Option<Vec<Span<'static>>>,
    /// 0 is never dropped; the highest rank goes first.
    pub rank: u8,
}

impl Field {
    /// A field of one span.
    pub fn new(span: Span<'static>, rank: u8) -> Field {
        Field {
            full: vec![span],
            short: None,
            rank,
        }
    }

    /// A field of several spans.
    pub fn spans(spans: Vec<Span<'static>>, rank: u8) -> Field {
        Field {
            full: spans,
            short: None,
            rank,
        }
    }

    /// With a short form of one span.
    pub fn or_short(mut self, span: Span<'static>) -> Field {
        self.short = Some(vec![span]);
        self
    }
}

/// "rows 41-60 of 2000" when a table of `shown` rows scrolled to `offset`
/// does not fit its `body` rows; `None` when everything shows.
pub fn rows_field(offset: usize, body: usize, shown: usize) -> Option<Field> {
    (shown > body && body > 0).then(|| {
        let last = (offset + body).min(shown);
        Field::new(
            Span::raw(format!("rows {}-{last} of {shown}", offset + 1)),
            1,
        )
    })
}

/// The sort arrow of a column header or title.
pub fn arrow(descending: bool) -> char {
    if descending { '▼' } else { '▲' }
}

fn spans_width(spans: &[Span]) -> usize {
    spans.iter().map(Span::width).sum()
}

/// The fields that fit `width`, in their order, joined by `sep`.
pub fn fit(fields: Vec<Field>, width: usize, sep: Span<'static>) -> Line<'static> {
    let sep_w = sep.width();
    // (field, short form chosen, kept)
    let mut state: Vec<(Field, bool, bool)> =
        fields.into_iter().map(|f| (f, false, true)).collect();
    let total = |state: &[(Field, bool, bool)]| {
        let kept: Vec<usize> = state
            .iter()
            .filter(|(_, _, keep)| *keep)
            .map(|(f, short, _)| match (&f.short, short) {
                (Some(s), true) => spans_width(s),
                _ => spans_width(&f.full),
            })
            .collect();
        kept.iter().sum::<usize>() + sep_w * kept.len().saturating_sub(1)
    };
    // Least important first; among equals, the rightmost first.
    let mut order: Vec<usize> = (0..state.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(state[i].0.rank), std::cmp::Reverse(i)));
    for &i in &order {
        if total(&state) <= width {
            break;
        }
        if state[i].0.short.is_some() {
            state[i].1 = true;
        }
    }
    for &i in &order {
        if total(&state) <= width {
            break;
        }
        if state[i].0.rank > 0 {
            state[i].2 = false;
        }
    }
    let mut spans = Vec::new();
    for (f, short, keep) in state {
        if !keep {
            continue;
        }
        if !spans.is_empty() {
            spans.push(sep.clone());
        }
        match (f.short, short) {
            (Some(s), true) => spans.extend(s),
            (_, _) => spans.extend(f.full),
        }
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Vec<Field> {
        vec![
            Field::new(Span::raw("conntop"), 0),
            Field::new(Span::raw("● live"), 0),
            Field::new(Span::raw("up 53s"), 3),
            Field::new(Span::raw("poll 1ms"), 2),
            Field::new(Span::raw("oldest trx 1m3s"), 1).or_short(Span::raw("trx 1m3s")),
        ]
    }

    fn fitted(width: usize) -> String {
        fit(fields(), width, Span::raw("  ")).to_string()
    }

    #[test]
    fn fields_go_whole_by_rank_and_short_forms_come_first() {
        assert_eq!(
            fitted(100),
            "conntop  ● live  up 53s  poll 1ms  oldest trx 1m3s"
        );
        assert_eq!(fitted(45), "conntop  ● live  up 53s  poll 1ms  trx 1m3s");
        assert_eq!(fitted(40), "conntop  ● live  poll 1ms  trx 1m3s");
        assert_eq!(fitted(30), "conntop  ● live  trx 1m3s");
        assert_eq!(fitted(10), "conntop  ● live");
        for w in 0..60 {
            let line = fitted(w);
            for part in ["poll", "trx", "up"] {
                if let Some(at) = line.find(part) {
                    let rest = &line[at..];
                    assert!(
                        rest.starts_with("poll 1ms")
                            || rest.starts_with("trx 1m3s")
                            || rest.starts_with("up 53s"),
                        "{w}: {line}"
                    );
                }
            }
        }
    }
}
