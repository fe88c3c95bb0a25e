//! The plan overlay: why a long statement is slow. The session's statement,
//! the plan's rows (access type, key, rows, extra) and the traits a DBA looks
//! for picked out first: full scans, filesorts, temporary tables. Every
//! server string goes through `text::one_line`.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::app::App;
use crate::app::keymap::Mode;
use crate::explain::{Explained, PlanRow, warnings};
use crate::text::one_line;
use crate::ui::hint_pieces;
use crate::ui::overlay::Overlay;
use crate::ui::theme::Theme;

/// Plan rows listed at most.
const MAX_ROWS: usize = 40;

/// One plan row, in fixed columns.
fn row_line(r: &PlanRow) -> String {
    format!(
        "{:>3} {:<12} {:<20} {:<8} {:<20} {:>10} {}",
        r.id.map(|i| i.to_string()).unwrap_or_default(),
        one_line(&r.select_type, 12),
        one_line(&r.table, 20),
        one_line(&r.access, 8),
        one_line(r.key.as_deref().unwrap_or("–"), 20),
        r.rows.map(|n| n.to_string()).unwrap_or_default(),
        one_line(&r.extra, 80)
    )
}

/// The plan of session `id`, as a box over the dashboard.
pub fn overlay(app: &App, theme: Theme, screen: Rect, id: u64) -> Overlay {
    let mut lines: Vec<Line<'static>> = Vec::new();
    match app.sessions().iter().find(|s| s.id == id) {
        Some(s) => {
            lines.push(Line::from(vec![
                Span::styled(format!("{:<12}", "Session"), theme.title()),
                Span::raw(format!(
                    "#{id} {}@{} {} for {}",
                    one_line(&s.user, 24),
                    one_line(s.client_host(), 40),
                    one_line(&s.command, 16),
                    crate::text::session_time(s.time_ms)
                )),
            ]));
            lines.push(Line::from(vec![
                Span::styled(format!("{:<12}", "Statement"), theme.title()),
                Span::raw(one_line(s.info.as_deref().unwrap_or("(none)"), 300).into_owned()),
            ]));
        }
        None => lines.push(Line::styled(
            format!("#{id} is no longer in the processlist"),
            theme.dim(),
        )),
    }
    lines.push(Line::raw(""));
    match &app.data.explain {
        Some((sid, answer)) if *sid == id => match answer {
            Ok(Explained::Plan(rows)) => {
                let found = warnings(rows);
                if found.is_empty() {
                    lines.push(Line::styled(
                        "No full scan, filesort or temporary table in this plan.",
                        theme.ok(),
                    ));
                } else {
                    lines.push(Line::styled("Why it is slow:", theme.title()));
                    for w in &found {
                        lines.push(Line::styled(
                            format!("  ! {}", one_line(&w.describe(), 120)),
                            theme.warn(),
                        ));
                    }
                }
                lines.push(Line::raw(""));
                lines.push(Line::styled(
                    format!(
                        "{:>3} {:<12} {:<20} {:<8} {:<20} {:>10} {}",
                        "id", "select_type", "table", "type", "key", "rows", "Extra"
                    ),
                    theme.header(),
                ));
                for r in rows.iter().take(MAX_ROWS) {
                    lines.push(Line::raw(row_line(r)));
                }
                if rows.len() > MAX_ROWS {
                    lines.push(Line::styled(
                        format!("… {} more rows", rows.len() - MAX_ROWS),
                        theme.dim(),
                    ));
                }
            }
            Ok(Explained::NoPlan(why)) => lines.push(Line::styled(
                format!("No plan: {}", one_line(why, 200)),
                theme.warn(),
            )),
            Err(e) => lines.push(Line::styled(
                format!("Cannot ask the server: {}", one_line(e, 200)),
                theme.crit(),
            )),
        },
        _ => lines.push(Line::styled("asking the server…", theme.dim())),
    }
    Overlay {
        title: Line::from(format!(" EXPLAIN of session {id} ")),
        body: lines,
        keys: hint_pieces(Mode::Detail, |_| true, theme),
        max_width: screen.width.saturating_sub(4).max(40),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, SystemTime};

    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use crate::app::{App, Dialog, Effect, Event, Options, update};
    use crate::command::{Command, Feed, Reply};
    use crate::explain::{Explained, PlanRow};
    use crate::snapshot::{Privileges, ServerInfo, Session, Snapshot, Status, Variables};

    fn app() -> App {
        let sessions = vec![Session {
            id: 7,
            user: "report".into(),
            host: "10.0.0.2:5000".into(),
            command: "Query".into(),
            time_ms: 95_000,
            state: "User sleep".into(),
            info: Some("SELECT v, SLEEP(0.05) FROM big WHERE v = 'x'".into()),
            ..Session::default()
        }];
        let snap = Snapshot {
            seq: 1,
            taken_at: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            server: ServerInfo::from_version("10.11.6-MariaDB"),
            variables: Variables {
                max_connections: 100,
                ..Variables::default()
            },
            status: Status {
                threads_connected: 1,
                ..Status::default()
            },
            sessions,
            own_id: 1,
            privileges: Privileges::default(),
            poll_latency: Duration::from_millis(2),
            statements: 2,
            endpoint: "127.0.0.1:3306".into(),
            locks: Default::default(),
        };
        let mut app = App::new(Options {
            interval: Duration::from_secs(1),
            ..Options::default()
        });
        update(&mut app, Event::Tick(snap.taken_at));
        update(&mut app, Event::Resize(120, 40));
        update(&mut app, Event::Feed(Feed::Snapshot(Arc::new(snap))));
        app
    }

    fn screen(app: &App) -> String {
        let mut t = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
        t.draw(|f| crate::ui::render(app, f)).expect("draw");
        let buf = t.backend().buffer().clone();
        (0..buf.area.height)
            .map(|y| {
                (0..buf.area.width)
                    .map(|x| buf[(x, y)].symbol())
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn press_e(app: &mut App) -> Vec<Effect> {
        update(
            app,
            Event::Key(KeyEvent::new(KeyCode::Char('e'), KeyModifiers::NONE)),
        )
    }

    #[test]
    fn e_asks_the_poller_and_shows_the_plan_with_its_warnings() {
        let mut a = app();
        let effects = press_e(&mut a);
        assert!(matches!(
            effects[..],
            [Effect::Send(Command::Explain { id: 7 })]
        ));
        assert!(matches!(a.dialog, Some(Dialog::Explain { id: 7, .. })));
        assert!(screen(&a).contains("asking the server…"));
        let plan = vec![PlanRow {
            id: Some(1),
            select_type: "SIMPLE".into(),
            table: "big".into(),
            access: "ALL".into(),
            rows: Some(4001),
            extra: "Using where; Using filesort".into(),
            ..PlanRow::default()
        }];
        update(
            &mut a,
            Event::Reply(Reply::Explain {
                id: 7,
                plan: Ok(Explained::Plan(plan)),
            }),
        );
        let s = screen(&a);
        assert!(s.contains("EXPLAIN of session 7"), "{s}");
        assert!(s.contains("Why it is slow:"), "{s}");
        assert!(s.contains("! full table scan on big (4001 rows)"), "{s}");
        assert!(s.contains("! filesort on big (4001 rows)"), "{s}");
        assert!(s.contains("SIMPLE       big"), "{s}");
        // e again asks again.
        let effects = press_e(&mut a);
        assert!(matches!(
            effects[..],
            [Effect::Send(Command::Explain { id: 7 })]
        ));
    }

    #[test]
    fn no_plan_is_one_clear_line() {
        let mut a = app();
        press_e(&mut a);
        update(
            &mut a,
            Event::Reply(Reply::Explain {
                id: 7,
                plan: Ok(Explained::NoPlan(
                    "it runs no statement with a query plan now (idle, or finished)".into(),
                )),
            }),
        );
        let s = screen(&a);
        assert!(
            s.contains("No plan: it runs no statement with a query plan now (idle, or finished)"),
            "{s}"
        );
        update(
            &mut a,
            Event::Reply(Reply::Explain {
                id: 7,
                plan: Err("not connected: refused".into()),
            }),
        );
        assert!(screen(&a).contains("Cannot ask the server: not connected: refused"));
    }
}
