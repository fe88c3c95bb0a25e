//! The locks view: root blockers first (most sessions waiting on them
//! first), each with its waiters as an indented tree; and the lock lines of
//! a session's detail and of a kill confirmation. Only the rows on screen
//! are built; every server string goes through `text::one_line`.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};

use crate::app::keymap::{self, Action};
use crate::app::table::scroll_offset;
use crate::app::{App, Plan};
use crate::locks::{Graph, TreeRow, TreeRowKind, Wait};
use crate::snapshot::Session;
use crate::text::{one_line, short_ms};
use crate::ui::fields::{self, Field};
use crate::ui::layout;
use crate::ui::theme::Theme;
use crate::ui::wrap::cut;

/// Columns: header and width (0: what is left). The Lock column takes
/// what is left when the Query column does not fit.
const COLUMNS: [(&str, u16); 8] = [
    ("Session", 16),
    ("User@host", 22),
    ("Command", 8),
    ("Time", 7),
    ("Trx", 7),
    ("Behind", 8),
    ("Lock", 46),
    ("Query", 0),
];

/// The columns drawn at `width` (indices into [`COLUMNS`]) and each one's
/// width: below 120 columns Query goes and Lock takes the rest; below 90 the
/// Command and Trx columns go and the first two narrow.
fn columns_for(width: u16) -> Vec<(usize, u16)> {
    let mut cols: Vec<(usize, u16)> = COLUMNS.iter().map(|(_, w)| *w).enumerate().collect();
    if width < 120 {
        cols.retain(|(i, _)| *i != 7);
        cols[6].1 = 0;
    }
    if width < 90 {
        cols.retain(|(i, _)| *i != 2 && *i != 4);
        cols[0].1 = 12;
        cols[1].1 = 18;
    }
    // What the fill column gets: the rest, less one column between columns.
    let fixed: u16 = cols.iter().map(|(_, w)| w).sum();
    let gaps = u16::try_from(cols.len().saturating_sub(1)).unwrap_or(0);
    let rest = width.saturating_sub(fixed + gaps);
    for c in cols.iter_mut().filter(|(_, w)| *w == 0) {
        c.1 = rest;
    }
    cols
}

/// `└ ` per level below the root, indented.
fn tree_label(row: &TreeRow) -> String {
    let indent = "  ".repeat(usize::from(row.depth.saturating_sub(1)));
    match row.kind {
        TreeRowKind::Root => format!("#{}", row.id),
        TreeRowKind::Waiter | TreeRowKind::Listed => format!("{indent}└ #{}", row.id),
        TreeRowKind::More { hidden } => format!("{indent}  … {hidden} more"),
        TreeRowKind::Unheld { count } => format!("holder unknown: {count}"),
    }
}

/// `metadata lock on appdb.t (inferred)`.
fn wait_text(w: &Wait) -> String {
    format!(
        "{} ({})",
        w.kind.held(w.object.as_deref()),
        if w.certain { "certain" } else { "inferred" }
    )
}

/// The cells of a row that shows a session.
fn session_cells(row: &TreeRow, s: &Session, locks: &Graph) -> [String; 8] {
    let lock = match row.kind {
        TreeRowKind::Root => {
            let holds: Vec<String> = locks
                .root_of(s.id)
                .map(|r| r.holds.iter().map(|h| h.describe()).collect())
                .unwrap_or_default();
            format!("holds {}", holds.join(", "))
        }
        TreeRowKind::Listed => "its waiters: listed above".to_string(),
        _ => s.wait.as_ref().map(wait_text).unwrap_or_default(),
    };
    let behind = match (row.kind, locks.root_of(s.id)) {
        (TreeRowKind::Root, Some(r)) => format!("{} ({})", r.total, r.direct),
        _ if row.direct > 0 => row.direct.to_string(),
        _ => String::new(),
    };
    [
        tree_label(row),
        format!(
            "{}@{}",
            one_line(&s.user, 12),
            one_line(s.client_host(), 24)
        ),
        one_line(&s.command, 12).into_owned(),
        crate::text::session_time(s.time_ms),
        s.trx_age_ms.map(short_ms).unwrap_or_default(),
        behind,
        one_line(&lock, 120).into_owned(),
        one_line(s.info.as_deref().unwrap_or(""), 400).into_owned(),
    ]
}

/// Draws the locks view into `area`.
pub fn render(app: &App, theme: Theme, frame: &mut Frame, area: Rect) {
    let table = &app.table;
    let locks = app.data.locks();
    let sessions = app.sessions();
    let body = layout::rows_in(area);
    let offset = scroll_offset(table.offset, table.cursor, body, table.tree.len());
    let cols = columns_for(area.width);
    let header =
        Row::new(cols.iter().map(|&(i, _)| Cell::from(COLUMNS[i].0))).style(theme.header());
    let rows = table
        .tree
        .iter()
        .enumerate()
        .skip(offset)
        .take(body)
        .map(|(pos, row)| {
            let session = locks.position(row.id).and_then(|i| sessions.get(i));
            let (cells, mut style) = match (row.kind, session) {
                (TreeRowKind::Root | TreeRowKind::Waiter | TreeRowKind::Listed, Some(s)) => {
                    let style = if row.kind == TreeRowKind::Root {
                        theme.crit()
                    } else {
                        Style::new()
                    };
                    (session_cells(row, s, locks), style)
                }
                (TreeRowKind::Root, None) => {
                    let mut cells: [String; 8] = Default::default();
                    cells[0] = tree_label(row);
                    cells[6] = "not in the processlist".to_string();
                    (cells, theme.crit())
                }
                (TreeRowKind::Unheld { .. }, _) => {
                    let mut cells: [String; 8] = Default::default();
                    cells[0] = tree_label(row);
                    cells[6] = "no holder can be named (see their detail)".to_string();
                    (cells, theme.warn())
                }
                _ => {
                    let mut cells: [String; 8] = Default::default();
                    cells[0] = tree_label(row);
                    (cells, theme.dim())
                }
            };
            if pos == table.cursor {
                style = theme.selected();
            }
            // Each cell cut to its column, ending in `…` when cut.
            Row::new(
                cols.iter()
                    .map(|&(i, w)| Cell::from(cut(&cells[i], usize::from(w)))),
            )
            .style(style)
        });
    // Whole fields only: the key hints go first when the line is too wide.
    let blockers = if locks.roots.len() == 1 {
        "blocker"
    } else {
        "blockers"
    };
    let field = |text: String, rank| Field::new(Span::raw(text), rank);
    let fields = vec![
        field("Locks".to_string(), 0),
        field(format!("{} waiting", locks.waiting), 0),
        field(format!("{} root {blockers}", locks.roots.len()), 0),
        field(
            format!("{}: kill the top root", keymap::key(Action::KillBlocker)),
            1,
        ),
        field(format!("{}: detail", keymap::key(Action::Detail)), 2),
        field(format!("{}: next view", keymap::key(Action::NextView)), 3),
    ];
    let room = usize::from(area.width).saturating_sub(2);
    let mut title = fields::fit(fields, room, Span::raw(" · "));
    title.spans.insert(0, Span::raw(" "));
    title.spans.push(Span::raw(" "));
    let mut block = Block::default().borders(Borders::TOP).title(title);
    if app.is_stale() {
        block = block.title(Span::styled(" STALE: not live ", theme.crit()));
    }
    let widget = Table::new(rows, cols.iter().map(|&(_, w)| Constraint::Length(w)))
        .header(header)
        .block(block)
        .column_spacing(1);
    frame.render_widget(widget, area);
    if table.tree.is_empty() && area.height > 3 {
        let r = Rect {
            x: area.x + 1,
            y: area.y + 2,
            width: area.width.saturating_sub(2),
            height: 1,
        };
        frame.render_widget(
            Paragraph::new(Span::styled("No session waits for a lock.", theme.dim())),
            r,
        );
    }
}

/// `#12 SELECT … → ALTER … #10 → #9`: a waiter's chain up to its root.
fn chain_text(app: &App, s: &Session) -> String {
    let locks = app.data.locks();
    let sessions = app.sessions();
    let links: Vec<String> = locks
        .chain(s.id)
        .iter()
        .skip(1)
        .map(|&id| {
            let what = locks
                .position(id)
                .and_then(|i| sessions.get(i))
                .map(|h| match h.info.as_deref() {
                    Some(q) if !h.is_sleeping() => one_line(q, 30).into_owned(),
                    _ if h.trx_age_ms.is_some() => "idle in a transaction".to_string(),
                    _ => one_line(&h.command, 12).into_owned(),
                })
                .unwrap_or_else(|| "not in the processlist".to_string());
            format!("#{id} ({what})")
        })
        .collect();
    links.join(" → ")
}

fn field(theme: Theme, name: &str, value: String) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{name:<12}"), theme.title()),
        Span::raw(value),
    ])
}

/// The detail's lock lines: what the session waits for (and why, and the
/// chain up to its root), and how many wait on it.
pub fn detail_lines(app: &App, s: &Session, theme: Theme) -> Vec<Line<'static>> {
    let locks = app.data.locks();
    let mut lines = Vec::new();
    if let Some(w) = &s.wait {
        lines.push(field(
            theme,
            "Waits for",
            one_line(&wait_text(w), 200).into_owned(),
        ));
        lines.push(field(theme, "Why", one_line(&w.why, 400).into_owned()));
        if s.blocked_by.is_empty() {
            lines.push(field(
                theme,
                "Blocked by",
                "nobody that can be named".to_string(),
            ));
        } else {
            lines.push(field(theme, "Chain", chain_text(app, s)));
            if s.blocked_by.len() > 1 {
                let ids: Vec<String> = s.blocked_by.iter().map(|id| format!("#{id}")).collect();
                lines.push(field(theme, "Blocked by", ids.join(", ")));
            }
        }
    }
    if let Some(r) = locks.root_of(s.id) {
        let holds: Vec<String> = r.holds.iter().map(|h| h.describe()).collect();
        lines.push(Line::from(vec![
            Span::styled(format!("{:<12}", "Root of"), theme.title()),
            Span::styled(
                format!(
                    "{} waiting ({} directly); holds {}; {} kills it",
                    r.total,
                    r.direct,
                    one_line(&holds.join(", "), 200),
                    keymap::key(Action::KillBlocker)
                ),
                theme.crit(),
            ),
        ]));
    } else if !locks.waiters_of(s.id).is_empty() {
        lines.push(field(
            theme,
            "Blocks",
            format!("{} waiting on it directly", locks.waiters_of(s.id).len()),
        ));
    }
    lines
}

/// The confirmation's line for a session others wait on.
pub fn blocks_line(plan: &Plan, theme: Theme) -> Option<Line<'static>> {
    let (total, direct) = plan.blocks;
    (total > 0).then(|| {
        Line::styled(
            format!(
                "{total} sessions wait on it for a lock ({direct} directly): killing it lets them go on."
            ),
            theme.warn(),
        )
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, SystemTime};

    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use crate::app::{App, Dialog, Event, Options, View, update};
    use crate::command::Feed;
    use crate::locks::{self, Graph, LockFacts, Sightings};
    use crate::snapshot::{Privileges, ServerInfo, Session, Snapshot, Status, Variables};

    const MDL: &str = "Waiting for table metadata lock";

    fn s(id: u64, command: &str, secs: u64, state: &str, info: Option<&str>) -> Session {
        Session {
            id,
            user: "app".into(),
            host: format!("10.0.0.1:{}", 40_000 + id),
            db: Some("shop".into()),
            command: command.into(),
            time_ms: secs * 1000,
            state: state.into(),
            info: info.map(str::to_string),
            ..Session::default()
        }
    }

    /// #100 idle in a transaction, #101 an ALTER behind it, #102..#104
    /// SELECTs behind the ALTER, #200 an unrelated idle session.
    fn pileup() -> Vec<Session> {
        let mut v = vec![
            s(100, "Sleep", 600, "", None),
            s(
                101,
                "Query",
                120,
                MDL,
                Some("ALTER TABLE t ADD COLUMN c INT"),
            ),
        ];
        v[0].trx_age_ms = Some(600_000);
        v.extend((102..105).map(|id| s(id, "Query", 30, MDL, Some("SELECT * FROM t"))));
        v.push(s(200, "Sleep", 5, "", None));
        v
    }

    fn snapshot(mut sessions: Vec<Session>) -> Snapshot {
        locks::apply(&mut sessions, &LockFacts::default(), &Sightings::default());
        let locks = Graph::build(&sessions);
        Snapshot {
            seq: 1,
            taken_at: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            server: ServerInfo::from_version("10.11.6-MariaDB"),
            variables: Variables {
                max_connections: 100,
                ..Variables::default()
            },
            status: Status {
                threads_connected: sessions.len() as u64,
                uptime_s: 1000,
                ..Status::default()
            },
            sessions,
            own_id: 1,
            privileges: Privileges {
                process: true,
                kill_any: true,
                ..Privileges::default()
            },
            poll_latency: Duration::from_millis(2),
            statements: 2,
            endpoint: "127.0.0.1:3306".into(),
            locks,
        }
    }

    fn app(sessions: Vec<Session>) -> App {
        let snap = snapshot(sessions);
        let mut app = App::new(Options {
            interval: Duration::from_secs(1),
            ..Options::default()
        });
        update(&mut app, Event::Tick(snap.taken_at));
        update(&mut app, Event::Resize(140, 40));
        update(&mut app, Event::Feed(Feed::Snapshot(Arc::new(snap))));
        app
    }

    fn press(app: &mut App, code: KeyCode) {
        let m = match code {
            KeyCode::Char(c) if c.is_ascii_uppercase() => KeyModifiers::SHIFT,
            _ => KeyModifiers::NONE,
        };
        update(app, Event::Key(KeyEvent::new(code, m)));
    }

    fn screen(app: &App) -> Vec<String> {
        let mut t = Terminal::new(TestBackend::new(140, 40)).expect("terminal");
        t.draw(|f| crate::ui::render(app, f)).expect("draw");
        let buf = t.backend().buffer().clone();
        (0..buf.area.height)
            .map(|y| (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect())
            .collect()
    }

    fn line<'a>(l: &'a [String], needle: &str) -> &'a str {
        l.iter()
            .find(|x| x.contains(needle))
            .unwrap_or_else(|| panic!("{needle:?} not on screen:\n{}", l.join("\n")))
    }

    #[test]
    fn the_sessions_table_marks_roots_and_waiters() {
        let a = app(pileup());
        let l = screen(&a);
        line(&l, "4 waiting on locks, 4 behind #100");
        assert!(line(&l, "!100").contains("app@") || line(&l, "!100").contains("app"));
        line(&l, "~101");
        line(&l, "~103");
        assert!(!l.iter().any(|x| x.contains("~200") || x.contains("!200")));
    }

    #[test]
    fn the_locks_view_lists_roots_then_waiters() {
        let mut a = app(pileup());
        for _ in 0..4 {
            press(&mut a, KeyCode::Tab);
        }
        assert_eq!(a.table.view, View::Locks);
        let l = screen(&a);
        line(&l, "Locks · 4 waiting · 1 root blocker");
        let root = line(&l, "holds metadata lock on shop.t");
        assert!(root.contains("#100 "), "{root}");
        assert!(root.contains("4 (1)"), "{root}");
        let alter = line(&l, "└ #101");
        assert!(
            alter.contains("metadata lock on shop.t (inferred)"),
            "{alter}"
        );
        line(&l, "  └ #102");
        assert_eq!(a.table.selected, Some(100));
        // Enter on a waiter: its detail shows the chain up to the root.
        press(&mut a, KeyCode::Down);
        press(&mut a, KeyCode::Down);
        assert_eq!(a.table.selected, Some(102));
        press(&mut a, KeyCode::Enter);
        assert!(matches!(a.dialog, Some(Dialog::Detail { id: 102, .. })));
        let l = screen(&a);
        let chain = line(&l, "Chain");
        assert!(
            chain.contains("#101 (ALTER TABLE t ADD COLUMN c INT) → #100 (idle in a transaction)"),
            "{chain}"
        );
        line(&l, "queued behind ALTER TABLE #101");
    }

    #[test]
    fn b_previews_the_kill_of_the_root() {
        let mut a = app(pileup());
        press(&mut a, KeyCode::Char('B'));
        let Some(Dialog::Confirm(plan)) = &a.dialog else {
            panic!("no preview: {:?}", a.message);
        };
        assert_eq!(plan.targets[0].session.id, 100);
        assert_eq!(plan.blocks, (4, 1));
        assert!(plan.reason().contains("4 sessions wait on it"));
        let l = screen(&a);
        line(&l, "KILL CONNECTION of root blocker 100");
        line(&l, "4 sessions wait on it for a lock (1 directly)");
        line(
            &l,
            "holds an open transaction: killing the connection rolls it back",
        );
    }

    #[test]
    fn nothing_waits() {
        let mut a = app(vec![s(5, "Sleep", 5, "", None)]);
        for _ in 0..4 {
            press(&mut a, KeyCode::Tab);
        }
        line(&screen(&a), "No session waits for a lock.");
        press(&mut a, KeyCode::Char('B'));
        assert!(a.dialog.is_none());
    }
}
