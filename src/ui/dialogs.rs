//! The boxes that scroll: a session's detail and the diagnosis (help is in
//! `help`, the kill confirmation in `confirm`). Every server string goes
//! through `text::one_line`/`block`; every key hint comes from the binding
//! tables.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::app::App;
use crate::app::keymap::{Action, Mode};
use crate::findings::Severity;
use crate::snapshot::{LISTED_INFO_CHARS, Session};
use crate::text::{block, one_line, short_ms};
use crate::ui::hint_pieces;
use crate::ui::overlay::Overlay;
use crate::ui::theme::Theme;

fn field(theme: Theme, name: &str, value: String) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{name:<12}"), theme.title()),
        Span::raw(value),
    ])
}

/// The lines describing one session (detail view and single-kill
/// confirmation): the query whole (`None`) or cut at `query_max` characters.
pub fn session_lines(s: &Session, theme: Theme, query_max: Option<usize>) -> Vec<Line<'static>> {
    let mut lines = vec![
        field(theme, "Id", s.id.to_string()),
        field(
            theme,
            "User@host",
            format!("{}@{}", one_line(&s.user, 80), one_line(&s.host, 80)),
        ),
        field(
            theme,
            "DB",
            one_line(s.db.as_deref().unwrap_or("(none)"), 80).into_owned(),
        ),
        field(theme, "Command", one_line(&s.command, 80).into_owned()),
        field(theme, "Time", crate::text::session_time(s.time_ms)),
        field(theme, "State", one_line(&s.state, 120).into_owned()),
        field(
            theme,
            "Transaction",
            s.trx_age_ms.map_or("none open".to_string(), |t| {
                format!("open for {}", short_ms(t))
            }),
        ),
    ];
    let q = s.info.as_deref().unwrap_or("");
    match query_max {
        None => {
            lines.push(Line::styled("Query", theme.title()));
            for l in block(q).lines() {
                lines.push(Line::raw(l.to_string()));
            }
        }
        Some(max) => lines.push(field(theme, "Query", one_line(q, max).into_owned())),
    }
    lines
}

/// Session detail: every field and the whole query, wrapped.
pub fn detail(app: &App, theme: Theme, screen: Rect, id: u64) -> Overlay {
    let (body, keys) = match app.sessions().iter().find(|s| s.id == id) {
        Some(listed) => {
            // The processlist carries the statement's start; the whole one
            // is read on demand and shown once it is here.
            // (Only while it still is the statement listed: one read for an
            // earlier statement is never shown under the new one's fields.)
            let whole = match &app.data.statement {
                Some((sid, Ok(Some(text))))
                    if *sid == id
                        && crate::app::statement_matches(Some(text), listed.info.as_deref()) =>
                {
                    Some(text.as_str())
                }
                _ => None,
            };
            let s = &Session {
                info: whole.map(str::to_string).or_else(|| listed.info.clone()),
                ..listed.clone()
            };
            let mut lines = session_lines(s, theme, None);
            lines.extend(crate::ui::locks::detail_lines(app, listed, theme));
            match &app.data.statement {
                Some((sid, Err(e))) if *sid == id => lines.push(Line::styled(
                    format!(
                        "(only the first {LISTED_INFO_CHARS} characters: {})",
                        one_line(e, 120)
                    ),
                    theme.dim(),
                )),
                None if listed
                    .info
                    .as_ref()
                    .is_some_and(|q| q.chars().count() >= LISTED_INFO_CHARS) =>
                {
                    lines.push(Line::styled("(reading the whole statement…)", theme.dim()))
                }
                _ => {}
            }
            (lines, hint_pieces(Mode::Detail, |_| true, theme))
        }
        None => (
            vec![Line::raw(format!("session {id} is gone"))],
            hint_pieces(Mode::Detail, |a| a == Action::Close, theme),
        ),
    };
    Overlay {
        title: Line::from(format!(" Session {id} ")),
        body,
        keys,
        max_width: screen.width.saturating_sub(4).max(40),
    }
}

/// The diagnosis: every finding with evidence and fix; SQL on lines of its
/// own. Wrapped lines keep their indent.
pub fn diagnosis(app: &App, theme: Theme, screen: Rect) -> Overlay {
    let mut lines = Vec::new();
    if app.data.findings.is_empty() {
        lines.push(Line::raw(
            "No findings: nothing points at connection trouble right now.",
        ));
    }
    for (i, f) in app.data.findings.iter().enumerate() {
        if i > 0 {
            lines.push(Line::raw(""));
        }
        let style = match f.severity {
            Severity::Critical => theme.crit(),
            Severity::Warning => theme.warn(),
            Severity::Info => theme.dim(),
        };
        lines.push(Line::from(vec![
            Span::styled(f.severity.name().to_uppercase(), style),
            Span::raw(" "),
            Span::styled(one_line(&f.title, 300).into_owned(), theme.title()),
        ]));
        for e in &f.evidence {
            lines.push(Line::raw(format!("  {}", one_line(e, 500))));
        }
        for step in &f.fix {
            let key = step.key().map(|k| format!(" [{k}]")).unwrap_or_default();
            lines.push(Line::from(vec![
                Span::raw(format!("  → {}", one_line(&step.text, 500))),
                Span::styled(key, theme.key()),
            ]));
            for text in [&step.sql, &step.config].into_iter().flatten() {
                for l in block(text).lines() {
                    lines.push(Line::raw(format!("    {l}")));
                }
            }
        }
    }
    Overlay {
        title: Line::from(" Diagnosis "),
        body: lines,
        keys: hint_pieces(Mode::Diagnosis, |_| true, theme),
        max_width: screen.width.saturating_sub(2),
    }
}
