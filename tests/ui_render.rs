//! The dashboard drawn into a `TestBackend`: the state is built through
//! `conntop::app::update` with synthetic snapshots and keys, then the buffer
//! is read back as text (and, for colours, as cell styles).

mod common;

use std::sync::Arc;
use std::time::Duration;

use conntop::app::keymap::{self, Action, Mode};
use conntop::app::{App, Event, Options, update};
use conntop::command::{Down, Feed, KillTally, Reply};
use conntop::groups::GroupSort;
use conntop::snapshot::{Session, Snapshot};
use crossterm::event::KeyCode;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;

use common::fixtures::{code, key, leaky, raw_snapshot, session, t0};

fn snapshot(sessions: Vec<Session>, connected: u64, max: u64) -> Arc<Snapshot> {
    Arc::new(raw_snapshot(sessions, connected, max))
}

fn options(color: bool) -> Options {
    Options {
        interval: Duration::from_secs(1),
        color,
        ..Options::default()
    }
}

/// An app at [`t0`] showing `snap`.
fn app_showing(snap: Arc<Snapshot>, color: bool) -> App {
    let mut app = App::new(options(color));
    update(&mut app, Event::Tick(t0()));
    update(&mut app, Event::Feed(Feed::Snapshot(snap)));
    app
}

fn draw(app: &App, w: u16, h: u16) -> Buffer {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| conntop::ui::render(app, f)).unwrap();
    t.backend().buffer().clone()
}

fn lines(buf: &Buffer) -> Vec<String> {
    let a = buf.area;
    (a.top()..a.bottom())
        .map(|y| {
            (a.left()..a.right())
                .map(|x| buf[(x, y)].symbol())
                .collect()
        })
        .collect()
}

fn screen(app: &App, w: u16, h: u16) -> Vec<String> {
    lines(&draw(app, w, h))
}

fn find<'a>(lines: &'a [String], needle: &str) -> Option<&'a String> {
    lines.iter().find(|l| l.contains(needle))
}

#[track_caller]
fn shows(lines: &[String], needle: &str) {
    assert!(
        find(lines, needle).is_some(),
        "{needle:?} not on screen:\n{}",
        lines.join("\n")
    );
}

#[track_caller]
fn hides(lines: &[String], needle: &str) {
    assert!(
        find(lines, needle).is_none(),
        "{needle:?} on screen:\n{}",
        lines.join("\n")
    );
}

/// The row of the sessions table header.
fn table_header(lines: &[String]) -> &String {
    lines
        .iter()
        .find(|l| l.contains("Command") && l.contains("Query"))
        .expect("a table header")
}

/// 42 of 200 slots: a few applications, one query running 4m12s.
fn normal_load() -> Arc<Snapshot> {
    let mut sessions = vec![session(
        10,
        "app",
        "10.0.0.1:5001",
        "Query",
        252,
        "SELECT * FROM orders WHERE status = 'open'",
    )];
    for i in 0..30 {
        sessions.push(session(
            100 + i,
            "app",
            &format!("10.0.0.1:{}", 6000 + i),
            "Sleep",
            i,
            "",
        ));
    }
    for i in 0..11 {
        sessions.push(session(
            200 + i,
            "web",
            &format!("10.0.0.2:{}", 7000 + i),
            "Query",
            40,
            "SELECT 1",
        ));
    }
    let mut snap = raw_snapshot(sessions, 42, 200);
    snap.status.max_used_connections = 57;
    Arc::new(snap)
}

/// 190 of 200 slots.
fn nearly_full() -> Arc<Snapshot> {
    let sessions = (0..190)
        .map(|i| {
            session(
                i + 1,
                "app",
                &format!("10.0.0.1:{}", 5000 + i),
                "Sleep",
                i,
                "",
            )
        })
        .collect();
    snapshot(sessions, 190, 200)
}

// --- the main screen -------------------------------------------------------

#[test]
fn normal_load_at_120x40() {
    let app = app_showing(normal_load(), true);
    let l = screen(&app, 120, 40);
    assert!(l[0].contains("conntop"), "{}", l[0]);
    assert!(l[0].contains("10.11.6-MariaDB"), "{}", l[0]);
    assert!(l[0].contains("live"), "{}", l[0]);
    hides(&l, "STALE");
    let gauge = find(&l, "Slots").unwrap();
    assert!(gauge.contains("42/200 21.0%"), "{gauge}");
    assert!(gauge.contains("max used 57"), "{gauge}");
    shows(&l, "rejected 0");
    shows(&l, "sleeping 30");

    let header = table_header(&l);
    assert!(header.contains("Time▼"), "{header}");
    for col in ["Id", "User", "Host", "DB", "State"] {
        assert!(header.contains(col), "{col} missing: {header}");
    }
    shows(&l, "Sessions 42 of 42");
    // Longest first: the 4m12s query is the first row.
    let first = l.iter().position(|x| x == header).unwrap() + 1;
    assert!(l[first].contains("app"), "{}", l[first]);
    assert!(l[first].contains("4m12s"), "{}", l[first]);
    assert!(l[first].contains("SELECT * FROM orders"), "{}", l[first]);
    shows(&l, "web");

    // 120 columns hold every hint but the last-ranked one.
    let footer = &l[39];
    for h in keymap::footer_hints(Mode::Table) {
        let shown = footer.contains(&format!("{} {}", h.keys, h.word));
        assert_eq!(shown, h.rank < 6, "{} {}: {footer}", h.keys, h.word);
    }
    assert!(footer.contains("? help"), "{footer}");
    assert!(footer.contains("q quit"), "{footer}");
    let wide = screen(&app, 160, 40);
    for h in keymap::footer_hints(Mode::Table) {
        let hint = format!("{} {}", h.keys, h.word);
        assert!(wide[39].contains(&hint), "{hint}: {}", wide[39]);
    }
    assert!(wide[39].contains("-/+ interval"), "{}", wide[39]);
}

#[test]
fn nothing_yet_says_so() {
    let mut app = App::new(options(true));
    update(&mut app, Event::Tick(t0()));
    let l = screen(&app, 120, 40);
    shows(&l, "connecting…");
    shows(&l, "waiting for the first snapshot");
}

#[test]
fn nearly_full_is_critical_in_colour() {
    let app = app_showing(nearly_full(), true);
    let buf = draw(&app, 120, 40);
    let l = lines(&buf);
    let gauge_y = l.iter().position(|x| x.contains("Slots")).unwrap();
    assert!(l[gauge_y].contains("190/200 95.0%"), "{}", l[gauge_y]);
    let strip = find(&l, "headroom").expect("a headroom finding in the strip");
    assert!(strip.contains("190/200"), "{strip}");

    let bar: Vec<_> = (0..120)
        .map(|x| &buf[(x, gauge_y as u16)])
        .filter(|c| c.symbol() == "█")
        .collect();
    assert!(!bar.is_empty());
    for cell in bar {
        assert_eq!(cell.fg, Color::Red, "filled gauge cell {cell:?}");
    }
    let pct_x = l[gauge_y].chars().position(|c| c == '%').unwrap();
    assert_eq!(buf[(pct_x as u16, gauge_y as u16)].fg, Color::Red);
}

#[test]
fn no_color_has_no_colours_and_the_same_text() {
    for (snap, w, h) in [
        (nearly_full(), 120, 40),
        (normal_load(), 120, 40),
        (normal_load(), 80, 24),
    ] {
        let colour = app_showing(snap.clone(), true);
        let mut mono = app_showing(snap, false);
        let cbuf = draw(&colour, w, h);
        let mbuf = draw(&mono, w, h);
        assert_eq!(lines(&cbuf), lines(&mbuf));
        for cell in mbuf.content() {
            assert_eq!(cell.fg, Color::Reset, "{cell:?}");
            assert_eq!(cell.bg, Color::Reset, "{cell:?}");
        }
        // Dialogs and the grouped view stay monochrome too.
        for k in ['I', '?', 'd'] {
            key(&mut mono, k);
            for cell in draw(&mono, w, h).content() {
                assert_eq!((cell.fg, cell.bg), (Color::Reset, Color::Reset), "{k}");
            }
            code(&mut mono, KeyCode::Esc);
        }
        code(&mut mono, KeyCode::Tab);
        for cell in draw(&mono, w, h).content() {
            assert_eq!((cell.fg, cell.bg), (Color::Reset, Color::Reset));
        }
    }
}

#[test]
fn reconnecting_shows_the_error_and_stale() {
    let mut app = app_showing(normal_load(), true);
    update(&mut app, Event::Tick(t0() + Duration::from_secs(7)));
    update(
        &mut app,
        Event::Feed(Feed::Down(Down {
            since: t0() + Duration::from_secs(2),
            last_error: "Can't connect to server on '10.0.0.5' (111)".into(),
            attempts: 3,
        })),
    );
    let l = screen(&app, 120, 40);
    assert!(l[0].contains("RECONNECTING 5s (attempt 3)"), "{}", l[0]);
    // The reason has the header's third line to itself (the rates are stale).
    assert!(
        l[2].contains("Can't connect to server on '10.0.0.5' (111)"),
        "{}",
        l[2]
    );
    shows(&l, "STALE");
    // The last data stays on screen.
    shows(&l, "4m12s");
}

#[test]
fn an_old_snapshot_is_stale_and_pause_says_paused() {
    let mut app = app_showing(normal_load(), true);
    update(&mut app, Event::Tick(t0() + Duration::from_secs(10)));
    let l = screen(&app, 120, 40);
    assert!(l[0].contains("STALE 10s old"), "{}", l[0]);
    hides(&l, "● live");

    key(&mut app, 'p');
    let l = screen(&app, 120, 40);
    assert!(l[0].contains("PAUSED"), "{}", l[0]);
}

#[test]
fn small_terminal_80x24_keeps_the_query_column() {
    let app = app_showing(normal_load(), true);
    let l = screen(&app, 80, 24);
    assert_eq!(l.len(), 24);
    let header = table_header(&l);
    assert!(header.contains("Time▼"), "{header}");
    assert!(!header.contains("DB"), "DB is dropped: {header}");
    assert!(!header.contains("State"), "State is dropped: {header}");
    let first = l.iter().position(|x| x == header).unwrap() + 1;
    assert!(l[first].contains("4m12s"), "{}", l[first]);
    assert!(l[first].contains("SELECT"), "{}", l[first]);
    // Hints that do not fit are dropped by rank: diagnose, the views,
    // pause, help, quit and the kills stay.
    let footer = &l[23];
    for hint in [
        "d diagnose",
        "Tab group",
        "i idle",
        "p pause",
        "k kill",
        "I kill idle",
        "? help",
        "q quit",
    ] {
        assert!(footer.contains(hint), "{hint}: {footer}");
    }
    let narrow = screen(&app, 40, 24);
    assert!(narrow[23].contains("? help  q quit"), "{}", narrow[23]);
    for line in &l {
        assert!(line.chars().count() <= 80, "{line}");
    }
}

#[test]
fn tiny_terminals_do_not_panic() {
    let mut app = app_showing(nearly_full(), true);
    let sizes = [(20, 5), (1, 1), (40, 10), (10, 30), (200, 3)];
    for (w, h) in sizes {
        draw(&app, w, h);
    }
    for k in ['?', 'I', 'L', 'd', '/'] {
        key(&mut app, k);
        for (w, h) in sizes {
            draw(&app, w, h);
        }
        code(&mut app, KeyCode::Esc);
    }
    code(&mut app, KeyCode::Enter);
    for (w, h) in sizes {
        draw(&app, w, h);
    }
    code(&mut app, KeyCode::Esc);
    code(&mut app, KeyCode::Tab);
    for (w, h) in sizes {
        draw(&app, w, h);
    }
}

// --- hostile text ----------------------------------------------------------

const HOSTILE: &str = "\x1b]0;pwned\x07\x1b[2J\x1b[31mred";

fn hostile() -> Arc<Snapshot> {
    let mut s1 = session(1, "app", "10.0.0.1:5001", "Query", 900, HOSTILE);
    s1.state = "a\u{9b}31mb".into();
    let mut s2 = session(2, "mallory\u{202e}txt", "10.0.0.6:1", "Sleep", 800, "");
    s2.db = Some("caf\u{fffd}".into());
    let s3 = session(
        3,
        "bulk",
        "10.0.0.7:1",
        "Query",
        700,
        &format!(
            "INSERT INTO t VALUES {}",
            "(1,'\u{1b}x'),\n\t".repeat(100_000)
        ),
    );
    assert!(s3.info.as_ref().unwrap().len() > 1_000_000);
    let s4 = session(
        4,
        "bad\u{fffd}utf8",
        "\u{2066}host\u{2069}:1",
        "Query",
        600,
        "SELECT '\u{fffd}\u{0}\u{7f}\u{85}'",
    );
    snapshot(vec![s1, s2, s3, s4], 4, 200)
}

/// A character that must never reach the terminal as is.
fn unsafe_char(c: char) -> bool {
    let n = c as u32;
    n < 0x20
        || n == 0x7f
        || (0x80..=0x9f).contains(&n)
        || (0x200b..=0x200f).contains(&n)
        || (0x202a..=0x202e).contains(&n)
        || (0x2066..=0x2069).contains(&n)
        || n == 0xfeff
}

#[track_caller]
fn assert_inert(buf: &Buffer) {
    for cell in buf.content() {
        assert!(
            !cell.symbol().chars().any(unsafe_char),
            "unsafe cell {:?}",
            cell.symbol()
        );
    }
}

#[test]
fn hostile_text_is_drawn_inert() {
    let mut app = app_showing(hostile(), true);
    for (w, h) in [(120, 40), (80, 24)] {
        let buf = draw(&app, w, h);
        assert_inert(&buf);
    }
    let l = screen(&app, 120, 40);
    shows(&l, "␛]0;pwned␇␛[2J␛[31mred");
    shows(&l, "mallory�txt");
    shows(&l, "caf\u{fffd}");
    shows(&l, "bad\u{fffd}utf8");
    shows(&l, "a�31mb");
    shows(&l, "INSERT INTO t VALUES (1,'␛x'),");

    // The detail of each session, the huge one included.
    for _ in 0..4 {
        code(&mut app, KeyCode::Enter);
        let buf = draw(&app, 120, 40);
        assert_inert(&buf);
        code(&mut app, KeyCode::Esc);
        key(&mut app, 'j');
    }
    key(&mut app, 'g');
    code(&mut app, KeyCode::Enter);
    let l = screen(&app, 120, 40);
    shows(&l, "Session 1");
    shows(&l, "␛]0;pwned␇␛[2J␛[31mred");
    code(&mut app, KeyCode::Esc);

    // The kill confirmations and the filter echo too.
    for k in ['k', 'I', 'L'] {
        key(&mut app, k);
        assert_inert(&draw(&app, 120, 40));
        code(&mut app, KeyCode::Esc);
    }
    key(&mut app, 'T');
    key(&mut app, 'k');
    assert_inert(&draw(&app, 120, 40));
    code(&mut app, KeyCode::Esc);
    key(&mut app, '/');
    key(&mut app, '\u{1b}');
    key(&mut app, '\u{202e}');
    let buf = draw(&app, 120, 40);
    assert_inert(&buf);
    shows(&lines(&buf), "/␛�█");
    code(&mut app, KeyCode::Esc);

    // Grouped by user: the keys are server text as well.
    code(&mut app, KeyCode::Tab);
    let buf = draw(&app, 120, 40);
    assert_inert(&buf);
    shows(&lines(&buf), "mallory�txt");
}

// --- dialogs ---------------------------------------------------------------

#[test]
fn help_lists_every_binding() {
    let mut app = app_showing(normal_load(), true);
    key(&mut app, '?');
    // Tall enough for all of it.
    let l = screen(&app, 120, 60);
    shows(&l, "┌ Keys ─");
    shows(&l, "any other key closes");
    for b in Mode::Table.bindings() {
        let want = format!("{:<12}{}", b.label(), b.help);
        shows(&l, &want);
    }
    shows(&l, "In dialogs");
    for mode in [Mode::Filter, Mode::Confirm, Mode::Detail, Mode::Diagnosis] {
        let want = format!("{:<14}{}", mode.name(), keymap::hint_line(mode, |_| true));
        shows(&l, &want);
    }
    // Every key of a dialog binding with a hint is on its line.
    for mode in [Mode::Filter, Mode::Confirm, Mode::Detail, Mode::Diagnosis] {
        let line = find(&l, &format!("  {:<14}", mode.name())).unwrap();
        for b in mode.bindings().iter().filter(|b| b.hint.is_some()) {
            for k in b.keys {
                assert!(line.contains(k.label()), "{mode:?} {k:?}: {line}");
            }
        }
    }
    key(&mut app, 'x');
    hides(&screen(&app, 120, 40), "any other key closes");
}

/// 12 idle of app@10.0.0.1, 3 idle of web@10.0.0.2, two busy.
fn idle_load() -> Arc<Snapshot> {
    let mut sessions: Vec<Session> = (0..12)
        .map(|i| {
            session(
                i + 1,
                "app",
                &format!("10.0.0.1:{}", 5000 + i),
                "Sleep",
                400 + i,
                "",
            )
        })
        .collect();
    sessions.extend((0..3).map(|i| {
        session(
            20 + i,
            "web",
            &format!("10.0.0.2:{}", 6000 + i),
            "Sleep",
            900 + i,
            "",
        )
    }));
    sessions.push(session(30, "app", "10.0.0.1:7000", "Sleep", 10, ""));
    sessions.push(session(31, "app", "10.0.0.1:7001", "Query", 2, "SELECT 1"));
    snapshot(sessions, 17, 200)
}

#[test]
fn idle_kill_dialog_shows_count_accounts_and_keys() {
    let mut app = app_showing(idle_load(), true);
    key(&mut app, 'I');
    let l = screen(&app, 120, 40);
    shows(&l, "Kill 15 idle sessions (Sleep ≥ 5m) ?");
    shows(&l, "15 sessions, threshold 5m (+/- to change)");
    shows(&l, "12  app@10.0.0.1");
    shows(&l, "3  web@10.0.0.2");
    shows(&l, "Oldest first:");
    // Oldest first: web's 15m sleepers lead.
    let first = l.iter().position(|x| x.contains("Oldest first:")).unwrap() + 1;
    assert!(l[first].contains("web"), "{}", l[first]);
    assert!(l[first].contains("15m2s"), "{}", l[first]);
    shows(&l, "… 7 more");
    shows(&l, "y/Enter kill");
    shows(&l, "n/Esc cancel");
    hides(&l, "rolls it back");

    key(&mut app, '+');
    let l = screen(&app, 120, 40);
    shows(&l, "Kill 3 idle sessions (Sleep ≥ 10m) ?");
    shows(&l, "3  web@10.0.0.2");
    hides(&l, "12  app@10.0.0.1");

    key(&mut app, '+');
    let l = screen(&app, 120, 40);
    shows(&l, "Kill 3 idle sessions (Sleep ≥ 15m) ?");
    key(&mut app, '+');
    let l = screen(&app, 120, 40);
    shows(&l, "Kill 0 idle sessions (Sleep ≥ 30m) ?");
    shows(&l, "Nothing matches");
    hides(&l, "y/Enter kill");
}

#[test]
fn single_kill_dialog_shows_the_session_and_the_rollback_warning() {
    let mut s = session(
        4242,
        "billing",
        "10.0.0.7:5123",
        "Query",
        30,
        "UPDATE invoices SET paid = 1 WHERE id = 17",
    );
    s.trx_age_ms = Some(125_000);
    s.db = Some("ledger".into());
    let mut app = app_showing(snapshot(vec![s], 1, 200), true);
    key(&mut app, 'k');
    let l = screen(&app, 120, 40);
    shows(&l, "KILL CONNECTION of session 4242 ?");
    shows(&l, "4242");
    shows(&l, "billing@10.0.0.7:5123");
    shows(&l, "UPDATE invoices SET paid = 1 WHERE id = 17");
    shows(&l, "open for 2m5s");
    shows(&l, "rolls it back");
    shows(&l, "y/Enter kill");
    shows(&l, "n/Esc cancel");

    // KILL QUERY keeps the connection: no rollback warning.
    code(&mut app, KeyCode::Esc);
    key(&mut app, 'x');
    let l = screen(&app, 120, 40);
    shows(&l, "KILL QUERY of session 4242 ?");
    hides(&l, "rolls it back");
    shows(&l, "the connection stays");
}

#[test]
fn tagged_kill_dialog_names_the_protected_ones() {
    let mut sessions: Vec<Session> = idle_load().sessions.clone();
    sessions.push(session(
        40,
        "event_scheduler",
        "localhost",
        "Daemon",
        9000,
        "",
    ));
    let mut app = app_showing(snapshot(sessions, 18, 200), true);
    key(&mut app, 'T');
    key(&mut app, 'k');
    let l = screen(&app, 120, 40);
    shows(&l, "KILL CONNECTION of 17 tagged sessions ?");
    shows(&l, "1 tagged sessions are protected and left out: system");
    shows(&l, "tagged 18");
}

#[test]
fn grouped_view_shows_groups() {
    let mut app = app_showing(idle_load(), true);
    code(&mut app, KeyCode::Tab);
    let l = screen(&app, 120, 40);
    shows(&l, "By user · 2 groups");
    let header = find(&l, "Oldest idle").unwrap();
    assert!(header.contains("Sessions▼"), "{header}");
    let app_row = l
        .iter()
        .find(|x| x.trim_start().starts_with("app "))
        .expect("the app group");
    assert!(app_row.contains("14"), "{app_row}");
    assert!(app_row.contains("7.0%"), "{app_row}");
    let web_row = l
        .iter()
        .find(|x| x.trim_start().starts_with("web "))
        .expect("the web group");
    assert!(web_row.contains("15m2s"), "{web_row}");

    code(&mut app, KeyCode::Tab);
    let l = screen(&app, 120, 40);
    shows(&l, "By host · 2 groups");
    shows(&l, "10.0.0.1");
}

#[test]
fn diagnosis_shows_findings_with_their_fix() {
    let mut app = app_showing(snapshot(leaky(1), 20, 200), true);
    let l = screen(&app, 120, 40);
    let strip = find(&l, "leak ").expect("a leak line in the strip");
    assert!(strip.contains("20 sessions of leaky"), "{strip}");
    assert!(strip.contains("[I]"), "{strip}");
    key(&mut app, 'd');
    let l = screen(&app, 120, 40);
    shows(&l, "Diagnosis");
    shows(&l, "20 sessions of leaky");
    shows(&l, "SET GLOBAL wait_timeout");
}

// --- footer states ---------------------------------------------------------

#[test]
fn footer_shows_filter_input_progress_and_messages() {
    let mut app = app_showing(idle_load(), true);
    key(&mut app, '/');
    for c in "web".chars() {
        key(&mut app, c);
    }
    let l = screen(&app, 120, 40);
    assert!(l[39].starts_with("/web█"), "{}", l[39]);
    shows(&l, "Sessions 3 of 17");
    shows(&l, "filter \"web\"");
    code(&mut app, KeyCode::Enter);

    key(&mut app, 'T');
    key(&mut app, 'k');
    code(&mut app, KeyCode::Enter);
    let request = app.kills.running.unwrap().request;
    update(
        &mut app,
        Event::Reply(Reply::KillProgress {
            request,
            total: 3,
            tally: KillTally {
                killed: 1,
                would_kill: 0,
                skipped: 1,
                failed: 0,
            },
        }),
    );
    let l = screen(&app, 120, 40);
    assert!(
        l[39].starts_with("KILL CONNECTION: 2/3 done (killed 1, skipped 1, failed 0)"),
        "{}",
        l[39]
    );
    update(
        &mut app,
        Event::Reply(Reply::KillDone {
            request,
            mode: conntop::command::KillMode::Connection,
            tally: KillTally {
                killed: 2,
                would_kill: 0,
                skipped: 1,
                failed: 0,
            },
            first_error: None,
        }),
    );
    let l = screen(&app, 120, 40);
    assert!(l[39].starts_with("killed 2, skipped 1"), "{}", l[39]);
}

// --- group sorts -----------------------------------------------------------

/// Sorts the grouped view by `sort` (with `s`), draws it, and checks the
/// header marks exactly `column` with the sort's arrow, then `S` flips it.
#[track_caller]
fn group_header_marks(sort: GroupSort, column: &str) {
    let mut app = app_showing(idle_load(), true);
    code(&mut app, KeyCode::Tab);
    let next_sort = keymap::key(Action::NextSort).chars().next().unwrap();
    for _ in 0..GroupSort::ALL.len() {
        if app.table.group_sort.by == sort {
            break;
        }
        key(&mut app, next_sort);
    }
    assert_eq!(app.table.group_sort.by, sort);
    for _ in 0..2 {
        let arrow = if app.table.group_sort.descending {
            '▼'
        } else {
            '▲'
        };
        let l = screen(&app, 120, 40);
        let header = find(&l, "Oldest idle").expect("the group header");
        assert!(
            header.contains(&format!("{column}{arrow}")),
            "{sort:?}: {header}"
        );
        let arrows = header.chars().filter(|c| matches!(c, '▼' | '▲')).count();
        assert_eq!(arrows, 1, "{sort:?}: {header}");
        key(
            &mut app,
            keymap::key(Action::ReverseSort).chars().next().unwrap(),
        );
    }
}

#[test]
fn group_sort_by_key_marks_the_key_column() {
    group_header_marks(GroupSort::Key, "user");
}

#[test]
fn group_sort_by_sessions_marks_its_column() {
    group_header_marks(GroupSort::Sessions, "Sessions");
}

#[test]
fn group_sort_by_sleeping_marks_its_column() {
    group_header_marks(GroupSort::Sleeping, "Sleeping");
}

#[test]
fn group_sort_by_active_marks_its_column() {
    group_header_marks(GroupSort::Active, "Active");
}

#[test]
fn group_sort_by_oldest_idle_marks_its_column() {
    group_header_marks(GroupSort::OldestIdle, "Oldest idle");
}

#[test]
fn group_sort_by_longest_running_marks_its_column() {
    group_header_marks(GroupSort::LongestRunning, "Longest run");
}

#[test]
fn group_sort_by_share_marks_its_column() {
    group_header_marks(GroupSort::Share, "% of max");
}

// --- hints come from the binding tables ------------------------------------

#[test]
fn dialog_hint_lines_are_their_binding_tables() {
    let mut app = app_showing(snapshot(leaky(1), 20, 200), true);
    code(&mut app, KeyCode::Enter);
    shows(
        &screen(&app, 120, 40),
        &keymap::hint_line(Mode::Detail, |_| true),
    );
    code(&mut app, KeyCode::Esc);
    key(&mut app, 'd');
    shows(
        &screen(&app, 120, 40),
        &keymap::hint_line(Mode::Diagnosis, |_| true),
    );
    code(&mut app, KeyCode::Esc);
    key(&mut app, '/');
    let l = screen(&app, 120, 40);
    let footer = l[39].trim_end();
    assert!(
        footer.ends_with(&keymap::hint_line(Mode::Filter, |_| true)),
        "{footer}"
    );
}

// --- every box and view at 80x24 and 60x20 ---------------------------------

/// The small terminals every screen must fit.
const SMALL: [(u16, u16); 2] = [(80, 24), (60, 20)];

/// [`idle_load`] plus a long query with an open transaction (selected
/// first: it runs longest) and a leak, so every box has something to say.
fn busy_screen() -> Arc<Snapshot> {
    let mut sessions = idle_load().sessions.clone();
    let mut long = session(
        50,
        "reporting_user_with_a_long_name",
        "10.0.0.50:40000",
        "Query",
        5000,
        &format!("SELECT {} FROM big_table", "some_column, ".repeat(30)),
    );
    long.trx_age_ms = Some(5_000_000);
    sessions.push(long);
    sessions.extend(leaky(100));
    sessions.push(session(
        40,
        "event_scheduler",
        "localhost",
        "Daemon",
        9000,
        "",
    ));
    let n = sessions.len() as u64;
    snapshot(sessions, n, 60)
}

/// The row of `lines` holding `needle` lies inside a box: a border on each
/// side of it.
#[track_caller]
fn boxed(lines: &[String], needle: &str) {
    let line = find(lines, needle)
        .unwrap_or_else(|| panic!("{needle:?} not on screen:\n{}", lines.join("\n")));
    let at = line.find(needle).unwrap();
    assert!(line[..at].contains('│'), "{needle:?} not in a box: {line}");
    assert!(line[at..].contains('│'), "{needle:?} not in a box: {line}");
}

#[test]
fn every_box_and_view_fits_80x24_and_60x20_with_its_keys_visible() {
    for (w, h) in SMALL {
        let what = format!("{w}x{h}");
        let mut app = app_showing(busy_screen(), true);
        update(&mut app, Event::Resize(w, h));
        assert_eq!(app.table.selected, Some(40), "{what}");
        key(&mut app, 'j');
        assert_eq!(app.table.selected, Some(50), "{what}");

        // The views, and the footer's first-ranked hints.
        for _ in 0..4 {
            let l = screen(&app, w, h);
            assert!(l[0].starts_with("conntop"), "{what}: {}", l[0]);
            for hint in ["d diagnose", "? help", "q quit"] {
                assert!(l[usize::from(h) - 1].contains(hint), "{what} {hint}");
            }
            code(&mut app, KeyCode::Tab);
        }

        // The kill confirmations: the keys are whole and inside the box.
        for k in ['k', 'x'] {
            key(&mut app, k);
            let l = screen(&app, w, h);
            boxed(&l, "y/Enter kill · n/Esc cancel");
            shows(&l, "re-checked");
            code(&mut app, KeyCode::Esc);
        }
        key(&mut app, 'k');
        shows(&screen(&app, w, h), "an open transaction");
        code(&mut app, KeyCode::Esc);
        for k in ['I', 'L'] {
            key(&mut app, k);
            let l = screen(&app, w, h);
            boxed(&l, "y/Enter kill · n/Esc cancel");
            shows(&l, "threshold");
            code(&mut app, KeyCode::Esc);
        }
        // Nothing matches: the way out is shown instead.
        key(&mut app, 'L');
        for _ in 0..20 {
            key(&mut app, '+');
        }
        boxed(&screen(&app, w, h), "Nothing matches. n/Esc closes.");
        code(&mut app, KeyCode::Esc);
        key(&mut app, 'T');
        key(&mut app, 'k');
        let l = screen(&app, w, h);
        boxed(&l, "y/Enter kill · n/Esc cancel");
        shows(&l, "protected and left out");
        code(&mut app, KeyCode::Esc);
        key(&mut app, 'T');

        // The boxes that scroll: the keys stay at the bottom.
        for (open, keys) in [
            (Action::Detail, "Esc close"),
            (Action::Help, "any other key closes"),
            (Action::Diagnosis, "Esc close"),
        ] {
            let k = keymap::binding(Mode::Table, open).unwrap().keys[0];
            match k {
                keymap::Key::Char(c) => key(&mut app, c),
                keymap::Key::Code(c) => code(&mut app, c),
                keymap::Key::Ctrl(_) => unreachable!(),
            };
            for _ in 0..3 {
                let l = screen(&app, w, h);
                boxed(&l, keys);
                code(&mut app, KeyCode::PageDown);
            }
            code(&mut app, KeyCode::Esc);
        }
        key(&mut app, '/');
        let l = screen(&app, w, h);
        assert!(
            l[usize::from(h) - 1].contains("Enter apply"),
            "{what}: {}",
            l[usize::from(h) - 1]
        );
        code(&mut app, KeyCode::Esc);
    }
}

#[test]
fn a_long_single_kill_keeps_its_warning_and_keys_at_60x20() {
    let mut app = app_showing(busy_screen(), true);
    update(&mut app, Event::Resize(60, 20));
    key(&mut app, 'j');
    key(&mut app, 'k');
    let l = screen(&app, 60, 20);
    shows(&l, "KILL CONNECTION of session 50 ?");
    boxed(&l, "y/Enter kill · n/Esc cancel");
    shows(&l, "an open transaction");
    // The query gave way, cut with `…`.
    shows(&l, "some_column");
    shows(&l, "…");
}

#[test]
fn scrolling_stops_at_the_end_and_g_goes_back_to_the_top() {
    let mut app = app_showing(busy_screen(), true);
    update(&mut app, Event::Resize(60, 20));
    key(&mut app, 'd');
    let limit = app.scroll_limit();
    assert!(limit > 0);
    for _ in 0..50 {
        code(&mut app, KeyCode::PageDown);
    }
    assert_eq!(app.dialog.as_ref().and_then(|d| d.scroll()), Some(limit));
    let l = screen(&app, 60, 20);
    // The last row of text is on screen, not a blank box.
    let border = l
        .iter()
        .find(|r| r.contains('└') && r.contains(" of "))
        .expect("the position in the bottom border");
    // ` a-b of n `: at the end, b is n.
    let words: Vec<&str> = border.split_whitespace().collect();
    let of = words.iter().position(|w| *w == "of").unwrap();
    let last = words[of - 1].split('-').nth(1).unwrap();
    assert_eq!(last, words[of + 1].trim_end_matches('┘'), "{border}");
    code(&mut app, KeyCode::PageUp);
    assert_eq!(
        app.dialog.as_ref().and_then(|d| d.scroll()),
        Some(limit.saturating_sub(10))
    );
    key(&mut app, 'g');
    assert_eq!(app.dialog.as_ref().and_then(|d| d.scroll()), Some(0));
    key(&mut app, 'G');
    assert_eq!(app.dialog.as_ref().and_then(|d| d.scroll()), Some(limit));
    code(&mut app, KeyCode::Home);
    assert_eq!(app.dialog.as_ref().and_then(|d| d.scroll()), Some(0));
    code(&mut app, KeyCode::End);
    assert_eq!(app.dialog.as_ref().and_then(|d| d.scroll()), Some(limit));
}

// --- the header ------------------------------------------------------------

/// A snapshot whose header has every field: no privileges, an open
/// transaction of 1m3s, a 1 ms poll.
fn every_field() -> Arc<Snapshot> {
    let mut s = session(7, "app", "10.0.0.1:1", "Sleep", 70, "");
    s.trx_age_ms = Some(63_000);
    let mut snap = raw_snapshot(vec![s], 93, 100);
    snap.privileges.process = false;
    snap.privileges.kill_any = false;
    snap.poll_latency = Duration::from_millis(1);
    snap.status.connection_errors_max_connections = 4;
    Arc::new(snap)
}

#[test]
fn header_fields_are_whole_or_absent_at_every_width() {
    let mut opts = options(true);
    opts.safety.read_only = true;
    let mut app = App::new(opts);
    update(&mut app, Event::Tick(t0()));
    update(&mut app, Event::Feed(Feed::Snapshot(every_field())));
    // Each field: how it starts, and its whole forms.
    let fields: [(&str, &[&str]); 8] = [
        ("poll ", &["poll 1ms"]),
        ("every ", &["every 1s"]),
        ("up ", &["up 1d"]),
        ("trx ", &["oldest trx 1m3s", "trx 1m3s"]),
        (
            "rejected ",
            &["rejected 4 (+0 since start)", "rejected 4 (+0)"],
        ),
        ("running ", &["running 0"]),
        (
            "no PROCESS",
            &["no PROCESS: own sessions only", "no PROCESS"],
        ),
        ("kills own", &["kills own only", "kills own sessions only"]),
    ];
    for w in 40..=160u16 {
        let l = screen(&app, w, 24);
        let header = &l[..3];
        for line in header {
            for (start, whole) in fields {
                let mut rest = line.as_str();
                while let Some(at) = rest.find(start) {
                    let tail = &rest[at..];
                    assert!(
                        whole.iter().any(|f| tail.starts_with(f))
                            || (start == "trx " && rest[..at].ends_with("oldest ")),
                        "{w}: {start:?} cut in {line:?}"
                    );
                    rest = &rest[at + start.len()..];
                }
            }
        }
        assert!(l[0].contains("RO"), "{w}: {}", l[0]);
        assert!(l[0].contains("● live"), "{w}: {}", l[0]);
        assert!(l[2].contains("rejected 4"), "{w}: {}", l[2]);
        // The two privilege notes never run together.
        assert!(!l[0].contains("onlyno"), "{}", l[0]);
        assert!(!l[0].contains("only no"), "{}", l[0]);
    }
    let wide = screen(&app, 160, 24);
    shows(&wide, "no SUPER/CONNECTION ADMIN: kills own sessions only");
    shows(&wide, "oldest trx 1m3s");
    shows(&wide, "poll 1ms");
}

// --- pause, interval, chart, table position --------------------------------

#[test]
fn pause_freezes_the_findings_strip_too() {
    let mut app = app_showing(normal_load(), true);
    let before = screen(&app, 120, 40);
    hides(&before, "headroom");
    key(&mut app, 'p');
    let mut full = raw_snapshot(nearly_full().sessions.clone(), 190, 200);
    full.seq = 2;
    full.taken_at = t0() + Duration::from_secs(1);
    update(&mut app, Event::Feed(Feed::Snapshot(Arc::new(full))));
    let paused = screen(&app, 120, 40);
    shows(&paused, "PAUSED");
    hides(&paused, "headroom");
    hides(&paused, "190/200");
    shows(&paused, "42/200");
    key(&mut app, 'p');
    let live = screen(&app, 120, 40);
    shows(&live, "headroom");
    shows(&live, "190/200");
}

#[test]
fn plus_and_minus_change_the_interval_the_header_shows() {
    let mut app = app_showing(normal_load(), true);
    assert!(screen(&app, 80, 24)[0].contains("every 1s"));
    key(&mut app, '+');
    let l = screen(&app, 80, 24);
    assert!(l[0].contains("every 2s"), "{}", l[0]);
    assert!(l[23].contains("refresh every 2s"), "{}", l[23]);
    key(&mut app, '-');
    key(&mut app, '-');
    assert!(screen(&app, 80, 24)[0].contains("every 500ms"));
}

#[test]
fn read_only_says_ro_in_the_header() {
    let app = app_showing(normal_load(), true);
    assert!(!screen(&app, 80, 24)[0].contains(" RO"));
    let mut opts = options(true);
    opts.safety.read_only = true;
    let mut app = App::new(opts);
    update(&mut app, Event::Tick(t0()));
    update(&mut app, Event::Feed(Feed::Snapshot(normal_load())));
    assert!(screen(&app, 80, 24)[0].contains("● live  RO"));
}

#[test]
fn the_chart_scales_to_the_data_and_marks_the_limit() {
    let mut app = App::new(options(true));
    for (i, n) in [93u64, 95, 100, 97, 93].into_iter().enumerate() {
        let mut snap = raw_snapshot(Vec::new(), n, 100);
        snap.seq = i as u64 + 1;
        snap.taken_at = t0() + Duration::from_secs(i as u64);
        update(&mut app, Event::Feed(Feed::Snapshot(Arc::new(snap))));
    }
    let l = screen(&app, 120, 40);
    let title = find(&l, "Threads_connected").expect("the chart");
    assert!(title.contains("now 93"), "{title}");
    assert!(title.contains("max_connections 100 (red line)"), "{title}");
    // The y axis runs from near the data, not from 0.
    let chart: Vec<&String> = l[4..11].iter().collect();
    assert!(chart.iter().any(|r| r.starts_with("100")), "{chart:?}");
    assert!(!chart.iter().any(|r| r.starts_with("0")), "{chart:?}");
    // Small terminals give the chart's rows to the table.
    hides(&screen(&app, 80, 24), "Threads_connected");
}

#[test]
fn the_sessions_title_says_which_rows_are_on_screen() {
    let sessions = (0..2000)
        .map(|i| session(i + 1, "app", "10.0.0.1:1", "Sleep", 3000 - i, ""))
        .collect();
    let mut app = app_showing(snapshot(sessions, 2000, 4000), true);
    let l = screen(&app, 80, 24);
    let title = find(&l, "Sessions 2000 of 2000").expect("the title");
    assert!(title.contains("rows 1-"), "{title}");
    key(&mut app, 'G');
    let l = screen(&app, 80, 24);
    let title = find(&l, "Sessions 2000 of 2000").expect("the title");
    assert!(title.contains("-2000 of 2000"), "{title}");
}

#[test]
fn cut_cells_end_in_an_ellipsis() {
    let app = app_showing(busy_screen(), true);
    let l = screen(&app, 80, 24);
    shows(&l, "reporting_u…");
    let row = find(&l, "reporting_u…").unwrap();
    assert!(row.trim_end().ends_with('…'), "{row}");
}

#[test]
fn the_idle_preview_warns_of_a_busy_pool() {
    let mut sessions: Vec<Session> = (0..8)
        .map(|i| {
            session(
                10 + i,
                "api",
                &format!("10.0.0.3:{}", 5000 + i),
                "Sleep",
                12 + i,
                "",
            )
        })
        .collect();
    sessions.push(session(20, "api", "10.0.0.3:6000", "Query", 1, "SELECT 1"));
    let mut opts = options(true);
    opts.thresholds.idle_over = Duration::from_secs(10);
    let mut app = App::new(opts);
    update(&mut app, Event::Tick(t0()));
    update(
        &mut app,
        Event::Feed(Feed::Snapshot(snapshot(sessions, 9, 200))),
    );
    key(&mut app, 'I');
    for (w, h) in SMALL {
        let l = screen(&app, w, h);
        shows(&l, "Busy pool? api@10.0.0.3 has 1 running now and 8 idle");
        boxed(&l, "y/Enter kill · n/Esc cancel");
    }
}
