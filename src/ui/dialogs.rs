//! Popups over the main view: kill confirmation, session detail and the
//! diagnosis (help is in `help`). Every server string goes through
//! `text::one_line`/`block`; every key hint comes from the binding tables.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::app::keymap::{self, Action, Mode};
use crate::app::{App, Plan, PlanKind};
use crate::command::KillMode;
use crate::findings::Severity;
use crate::snapshot::{LISTED_INFO_CHARS, Session};
use crate::text::{block, one_line, short_duration, short_ms};
use crate::ui::hint_spans;
use crate::ui::theme::Theme;

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

/// Clears `area` and draws a bordered, wrapped text into it.
pub fn popup<'a>(frame: &mut Frame, area: Rect, title: Line<'a>, text: Text<'a>, scroll: u16) {
    frame.render_widget(Clear, area);
    let p = Paragraph::new(text)
        .block(Block::default().borders(Borders::ALL).title(title))
        .wrap(Wrap { trim: false })
        .scroll((scroll, 0));
    frame.render_widget(p, area);
}

fn field(theme: Theme, name: &str, value: String) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{name:<12}"), theme.title()),
        Span::raw(value),
    ])
}

/// The lines describing one session (detail view and single-kill confirmation).
fn session_lines(s: &Session, theme: Theme, full_query: bool) -> Vec<Line<'static>> {
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
        field(theme, "Time", short_ms(s.time_ms)),
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
    if full_query {
        lines.push(Line::styled("Query", theme.title()));
        for l in block(q).lines() {
            lines.push(Line::raw(l.to_string()));
        }
    } else {
        lines.push(field(theme, "Query", one_line(q, 300).into_owned()));
    }
    lines
}

/// Session detail: every field and the whole query, wrapped.
pub fn detail(app: &App, theme: Theme, frame: &mut Frame, area: Rect, id: u64, scroll: u16) {
    let r = centered(
        area,
        area.width.saturating_sub(4).max(40),
        area.height.saturating_sub(2),
    );
    let text = match app.sessions().iter().find(|s| s.id == id) {
        Some(listed) => {
            // The processlist carries the statement's start; the whole one
            // is read on demand and shown once it is here.
            let whole = match &app.data.statement {
                Some((sid, Ok(Some(text)))) if *sid == id => Some(text.as_str()),
                _ => None,
            };
            let s = &Session {
                info: whole.map(str::to_string).or_else(|| listed.info.clone()),
                ..listed.clone()
            };
            let mut lines = session_lines(s, theme, true);
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
            lines.push(Line::raw(""));
            lines.push(Line::from(hint_spans(Mode::Detail, |_| true, theme)));
            Text::from(lines)
        }
        None => Text::raw(format!("session {id} is gone")),
    };
    popup(
        frame,
        r,
        Line::from(format!(" Session {id} ")),
        text,
        scroll,
    );
}

/// The kill confirmation; `server` names the server when it is one of a fleet.
pub fn confirm(theme: Theme, frame: &mut Frame, area: Rect, plan: &Plan, server: Option<&str>) {
    let mut lines: Vec<Line> = Vec::new();
    if let Some(name) = server {
        lines.push(Line::from(vec![
            Span::styled("On server ", theme.title()),
            Span::styled(one_line(name, 80).into_owned(), theme.key()),
        ]));
    }
    let verb = plan.mode.label();
    let n = plan.targets.len();
    let title = match plan.kind {
        PlanKind::Selected => format!(
            " {verb} of session {} ? ",
            plan.targets.first().map_or(0, |t| t.session.id)
        ),
        PlanKind::Tagged => format!(" {verb} of {n} tagged sessions ? "),
        PlanKind::Idle => format!(
            " Kill {n} idle sessions (Sleep ≥ {}) ? ",
            short_duration(plan.threshold)
        ),
        PlanKind::Long => format!(
            " KILL QUERY of {n} statements running ≥ {} ? ",
            short_duration(plan.threshold)
        ),
    };
    let title = match server {
        Some(name) => format!(
            "{} on {} ? ",
            title.trim_end_matches(" ? "),
            one_line(name, 40)
        ),
        None => title,
    };
    if plan.kind == PlanKind::Selected {
        if let Some(t) = plan.targets.first() {
            lines.extend(session_lines(&t.session, theme, false));
        }
    } else {
        if plan.kind.has_threshold() {
            let keys = keymap::hints(Mode::Confirm, |a| {
                matches!(a, Action::ThresholdUp | Action::ThresholdDown)
            });
            let keys: Vec<String> = keys.into_iter().map(|(k, _)| k).collect();
            lines.push(Line::from(vec![
                Span::raw(format!(
                    "{n} sessions, threshold {} ",
                    short_duration(plan.threshold)
                )),
                Span::styled(format!("({} to change)", keys.join(" ")), theme.dim()),
            ]));
        } else {
            lines.push(Line::raw(format!("{n} sessions")));
        }
        for (account, count) in plan.groups.iter().take(5) {
            lines.push(Line::raw(format!(
                "  {count:>5}  {}",
                one_line(account, 80)
            )));
        }
        if plan.groups.len() > 5 {
            lines.push(Line::styled(
                format!("  … {} more accounts", plan.groups.len() - 5),
                theme.dim(),
            ));
        }
        lines.push(Line::styled("Oldest first:", theme.title()));
        for t in plan.targets.iter().take(8) {
            let s = &t.session;
            lines.push(Line::raw(format!(
                "  {:>8} {:<12} {:<21} {:<8} {:>7} {}",
                s.id,
                one_line(&s.user, 12),
                one_line(&s.host, 21),
                one_line(&s.command, 8),
                short_ms(s.time_ms),
                one_line(s.info.as_deref().unwrap_or(""), 60)
            )));
        }
        if n > 8 {
            lines.push(Line::styled(format!("  … {} more", n - 8), theme.dim()));
        }
    }
    if !plan.refused.is_empty() {
        lines.push(Line::styled(
            format!(
                "{} tagged sessions are protected and left out: {}",
                plan.refused.len(),
                plan.refused[0].1
            ),
            theme.warn(),
        ));
    }
    let open_trx = plan
        .targets
        .iter()
        .filter(|t| t.session.trx_age_ms.is_some())
        .count();
    if plan.mode == KillMode::Connection && open_trx > 0 {
        lines.push(Line::styled(
            format!(
                "{open_trx} of them {} an open transaction: killing the connection rolls it back.",
                if open_trx == 1 { "holds" } else { "hold" }
            ),
            theme.warn(),
        ));
    }
    if plan.mode == KillMode::Query {
        lines.push(Line::styled(
            "KILL QUERY stops the statement; the connection stays.",
            theme.dim(),
        ));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "Each session is re-checked just before its KILL; changed ones are skipped.",
        theme.dim(),
    ));
    if n == 0 {
        lines.push(Line::styled(
            format!(
                "Nothing matches. {} closes.",
                keymap::hint_keys(Mode::Confirm, Action::Cancel)
            ),
            theme.warn(),
        ));
    } else {
        lines.push(Line::from(hint_spans(
            Mode::Confirm,
            |a| matches!(a, Action::Confirm | Action::Cancel),
            theme,
        )));
    }
    let r = centered(
        area,
        area.width.saturating_sub(6).max(40),
        lines.len() as u16 + 2,
    );
    popup(
        frame,
        r,
        Line::styled(title, theme.crit()),
        Text::from(lines),
        0,
    );
}

/// The diagnosis: every finding with evidence and fix; SQL on lines of its own.
pub fn diagnosis(app: &App, theme: Theme, frame: &mut Frame, area: Rect, scroll: u16) {
    let r = centered(
        area,
        area.width.saturating_sub(2),
        area.height.saturating_sub(1),
    );
    let mut lines = Vec::new();
    if app.data.findings.is_empty() {
        lines.push(Line::raw(
            "No findings: nothing points at connection trouble right now.",
        ));
    }
    for f in &app.data.findings {
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
        lines.push(Line::raw(""));
    }
    lines.push(Line::from(hint_spans(Mode::Diagnosis, |_| true, theme)));
    popup(
        frame,
        r,
        Line::from(" Diagnosis "),
        Text::from(lines),
        scroll,
    );
}
