//! The kill confirmation: what a kill would take, the warnings, and the
//! keys, which are pinned and always visible. On a short screen the lists
//! (accounts, targets, the query) give way, never the keys or a warning.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::app::keymap::{self, Action, Mode};
use crate::app::pools::YOUNG;
use crate::app::{Plan, PlanKind};
use crate::command::KillMode;
use crate::text::{one_line, short_duration};
use crate::ui::dialogs::session_lines;
use crate::ui::hint_pieces;
use crate::ui::overlay::{Overlay, pack};
use crate::ui::theme::Theme;
use crate::ui::wrap::{cell, cut, wrap_all};

/// How much of the lists the body shows.
#[derive(Debug, Clone, Copy)]
struct Room {
    accounts: usize,
    targets: usize,
    /// Characters of the query of a single session.
    query: usize,
}

/// The most the lists show, on a screen with room for all of it.
const ROOMIEST: Room = Room {
    accounts: 5,
    targets: 8,
    query: 300,
};

fn title(plan: &Plan) -> String {
    let verb = plan.mode.label();
    let n = plan.targets.len();
    match plan.kind {
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
        PlanKind::Blocker => format!(
            " {verb} of root blocker {} ? ",
            plan.targets.first().map_or(0, |t| t.session.id)
        ),
    }
}

/// One target row: id, user, host, command, time and as much of the query
/// as fits `cols`; columns give way from the right when narrow, and every
/// cut one ends in `…`.
fn target_row(s: &crate::snapshot::Session, cols: usize) -> String {
    // Without Command (an idle kill's are all Sleep) and with a shorter
    // host column below 75 columns.
    let wide = cols >= 75;
    let host_w = if cols >= 60 { 21 } else { 15 };
    let mut row = format!(
        "  {:>8} {} {} ",
        s.id,
        cell(&one_line(&s.user, 64), 12),
        cell(&one_line(&s.host, 64), host_w),
    );
    if wide {
        row.push_str(&cell(&one_line(&s.command, 64), 8));
        row.push(' ');
    }
    row.push_str(&format!("{:>7} ", crate::text::session_time(s.time_ms)));
    // The one the warning below is about: killing it rolls a transaction back.
    let what = match s.trx_age_ms {
        Some(age) => format!(
            "[open transaction {}] {}",
            crate::text::short_ms(age),
            s.info.as_deref().unwrap_or("")
        ),
        None => s.info.clone().unwrap_or_default(),
    };
    let room = cols.saturating_sub(crate::ui::wrap::width(&row));
    row.push_str(&cut(&one_line(&what, 400), room));
    cut(row.trim_end(), cols)
}

/// The lines above the closing ones, with the lists cut to `room`.
fn body(plan: &Plan, theme: Theme, cols: usize, room: Room) -> Vec<Line<'static>> {
    let mut lines: Vec<Line> = Vec::new();
    let n = plan.targets.len();
    if matches!(plan.kind, PlanKind::Selected | PlanKind::Blocker) {
        if let Some(t) = plan.targets.first() {
            lines.extend(session_lines(&t.session, theme, Some(room.query)));
        }
        lines.extend(crate::ui::locks::blocks_line(plan, theme));
        return lines;
    }
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
    for (account, count) in plan.groups.iter().take(room.accounts) {
        lines.push(Line::raw(format!(
            "  {count:>5}  {}",
            cut(&one_line(account, 200), cols.saturating_sub(9))
        )));
    }
    if plan.groups.len() > room.accounts {
        lines.push(Line::styled(
            format!("  … {} more accounts", plan.groups.len() - room.accounts),
            theme.dim(),
        ));
    }
    if room.targets > 0 && n > 0 {
        lines.push(Line::styled("Oldest first:", theme.title()));
        for t in plan.targets.iter().take(room.targets) {
            lines.push(Line::raw(target_row(&t.session, cols)));
        }
        if n > room.targets {
            lines.push(Line::styled(
                format!("  … {} more", n - room.targets),
                theme.dim(),
            ));
        }
    }
    lines
}

/// The warnings and the re-check note: never cut.
fn warnings(plan: &Plan, theme: Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    for p in plan.pools.iter().take(3) {
        lines.push(Line::styled(
            format!(
                "Busy pool? {} has {} running now and {} idle under {}: the pool reconnects \
                 the {} taken here at once ({} raises the threshold).",
                one_line(&p.account, 80),
                p.running,
                p.young_idle,
                short_duration(YOUNG),
                p.taken,
                keymap::hint_keys(Mode::Confirm, Action::ThresholdUp),
            ),
            theme.warn(),
        ));
    }
    if !plan.refused.is_empty() {
        lines.push(Line::styled(
            format!(
                "{} tagged sessions are protected and left out: {}",
                plan.refused.len(),
                one_line(&plan.refused[0].1, 200)
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
    lines.push(Line::styled(
        "Each session is re-checked just before its KILL; changed ones are skipped.",
        theme.dim(),
    ));
    lines
}

/// The pinned rows: the keys, or why there is nothing to confirm.
fn keys(plan: &Plan, theme: Theme) -> Vec<Vec<Span<'static>>> {
    if plan.targets.is_empty() {
        let mut pieces = vec![vec![Span::styled(
            format!(
                "Nothing matches. {} closes.",
                keymap::hint_keys(Mode::Confirm, Action::Cancel)
            ),
            theme.warn(),
        )]];
        if plan.kind.has_threshold() {
            pieces.extend(hint_pieces(
                Mode::Confirm,
                |a| matches!(a, Action::ThresholdUp | Action::ThresholdDown),
                theme,
            ));
        }
        return pieces;
    }
    hint_pieces(
        Mode::Confirm,
        |a| matches!(a, Action::Confirm | Action::Cancel),
        theme,
    )
}

/// The confirmation box for `plan` on `screen`, its lists cut to what fits.
pub fn overlay(plan: &Plan, theme: Theme, screen: Rect) -> Overlay {
    let max_width = screen.width.saturating_sub(6).max(40);
    let cols = usize::from(max_width.min(screen.width).saturating_sub(2)).max(1);
    let keys = keys(plan, theme);
    let fixed = wrap_all(&warnings(plan, theme), cols).len() + pack(&keys, cols, theme).len();
    let room_for = usize::from(screen.height).saturating_sub(2 + fixed);
    // The lists shrink until the body fits: targets, then accounts, then
    // the query of a single session.
    let mut room = ROOMIEST;
    let mut lines = body(plan, theme, cols, room);
    while wrap_all(&lines, cols).len() > room_for {
        if room.targets > 1 {
            room.targets -= 1;
        } else if room.accounts > 1 {
            room.accounts -= 1;
        } else if room.targets > 0 {
            room.targets = 0;
        } else if room.query > 40 {
            room.query = (room.query / 2).max(40);
        } else {
            break;
        }
        lines = body(plan, theme, cols, room);
    }
    lines.extend(warnings(plan, theme));
    Overlay {
        title: Line::styled(title(plan), theme.crit()),
        body: lines,
        keys,
        max_width,
    }
}
