//! The dashboard state without a terminal or a server: synthetic snapshots,
//! keys, replies and ticks go through `conntop::app::update`, and the tests
//! look at the state and the effects that come out.

mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use conntop::app::keymap;
use conntop::app::rows::Column;
use conntop::app::{
    Action, App, Dialog, Effect, Event, Level, Mode, Options, PlanKind, View, update,
};
use conntop::command::{Command, Down, Feed, KillMode, KillTally, Reply};
use conntop::findings::FindingKind;
use conntop::groups::GroupBy;
use conntop::snapshot::{Session, Snapshot, Status};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use common::fixtures::{code, key, leaky, raw_snapshot, session, t0};

/// conntop's own connection id in the snapshots.
const OWN_ID: u64 = 99;

/// Snapshot `seq`, taken `at`: [`raw_snapshot`] with [`OWN_ID`], 1 running
/// thread and 1000 connections since start.
fn snapshot_at(
    sessions: Vec<Session>,
    connected: u64,
    max: u64,
    at: SystemTime,
    seq: u64,
) -> Arc<Snapshot> {
    let base = raw_snapshot(sessions, connected, max);
    Arc::new(Snapshot {
        seq,
        taken_at: at,
        status: Status {
            threads_running: 1,
            connections: 1000,
            ..base.status
        },
        own_id: OWN_ID,
        ..base
    })
}

fn snapshot(sessions: Vec<Session>, connected: u64, max: u64) -> Arc<Snapshot> {
    snapshot_at(sessions, connected, max, t0(), 1)
}

fn options() -> Options {
    Options {
        interval: Duration::from_secs(1),
        color: true,
        ..Options::default()
    }
}

/// An app whose clock stands at [`t0`].
fn app_with(opts: Options) -> App {
    let mut app = App::new(opts);
    update(&mut app, Event::Tick(t0()));
    app
}

/// An app showing `sessions`.
fn app_showing(sessions: Vec<Session>) -> App {
    let mut app = app_with(options());
    let n = sessions.len() as u64;
    feed(&mut app, snapshot(sessions, n, 200));
    app
}

fn feed(app: &mut App, snap: Arc<Snapshot>) -> Vec<Effect> {
    update(app, Event::Feed(Feed::Snapshot(snap)))
}

fn keys(app: &mut App, text: &str) {
    for c in text.chars() {
        assert!(key(app, c).is_empty(), "typing {c:?} had an effect");
    }
}

/// Session ids of the rows, in table order.
fn ids(app: &App) -> Vec<u64> {
    let sessions = app.sessions();
    app.table.rows.iter().map(|&i| sessions[i].id).collect()
}

fn message(app: &App) -> String {
    app.message
        .as_ref()
        .map(|m| m.text.clone())
        .unwrap_or_default()
}

fn plan(app: &App) -> &conntop::app::Plan {
    match &app.dialog {
        Some(Dialog::Confirm(plan)) => plan,
        other => panic!("expected a confirmation, got {other:?}"),
    }
}

fn target_ids(app: &App) -> Vec<u64> {
    plan(app).targets.iter().map(|t| t.session.id).collect()
}

/// A mixed load. Time descending: 5, 4, 1, 6, 2, 3.
fn mixed() -> Vec<Session> {
    let mut s1 = session(1, "app", "10.0.0.1:5001", "Sleep", 600, "");
    s1.db = Some("shop".into());
    let mut s2 = session(
        2,
        "app",
        "10.0.0.1:5002",
        "Query",
        90,
        "SELECT * FROM orders WHERE status = 'open'",
    );
    s2.db = Some("shop".into());
    s2.state = "Sending data".into();
    let mut s3 = session(3, "web", "10.0.0.2:6001", "Sleep", 30, "");
    s3.db = Some("blog".into());
    let mut s4 = session(
        4,
        "report",
        "10.0.0.3:7001",
        "Query",
        700,
        "SELECT sum(total) FROM sales",
    );
    s4.db = Some("dw".into());
    s4.state = "Creating sort index".into();
    let mut s5 = session(5, "event_scheduler", "localhost", "Daemon", 5000, "");
    s5.state = "Waiting on empty queue".into();
    let mut s6 = session(6, "app", "10.0.0.4:5003", "Sleep", 400, "");
    s6.db = Some("shop".into());
    vec![s1, s2, s3, s4, s5, s6]
}

/// [`mixed`] plus conntop's own connection (normally left out by the poller).
fn mixed_with_own() -> Vec<Session> {
    let mut v = mixed();
    v.push(session(
        OWN_ID,
        "conntop",
        "localhost",
        "Query",
        0,
        "SHOW PROCESSLIST",
    ));
    v
}

// --- sorting ---------------------------------------------------------------

#[test]
fn default_sort_is_time_descending_and_s_cycles_columns() {
    // At 80 columns State and DB are not drawn: `s` passes them by.
    let mut narrow = app_showing(mixed());
    update(&mut narrow, Event::Resize(80, 24));
    key(&mut narrow, 's');
    assert_eq!(narrow.table.sort.column, Column::Query);

    let mut app = app_showing(mixed());
    update(&mut app, Event::Resize(140, 40));
    assert_eq!(app.table.sort.column, Column::Time);
    assert!(app.table.sort.descending);
    assert_eq!(ids(&app), vec![5, 4, 1, 6, 2, 3]);

    key(&mut app, 's');
    assert_eq!(app.table.sort.column, Column::State);
    assert!(!app.table.sort.descending, "text sorts A to Z first");
    // Empty states first (ties by id), then A to Z.
    assert_eq!(ids(&app), vec![1, 3, 6, 4, 2, 5]);

    key(&mut app, 'S');
    assert!(app.table.sort.descending);
    assert_eq!(ids(&app), vec![5, 2, 4, 1, 3, 6]);

    key(&mut app, 's');
    assert_eq!(app.table.sort.column, Column::Query);
    assert_eq!(ids(&app), vec![1, 3, 5, 6, 2, 4]);

    key(&mut app, 's');
    assert_eq!(app.table.sort.column, Column::Id);
    assert_eq!(ids(&app), vec![1, 2, 3, 4, 5, 6]);
    key(&mut app, 'S');
    assert_eq!(ids(&app), vec![6, 5, 4, 3, 2, 1]);

    key(&mut app, 's');
    assert_eq!(app.table.sort.column, Column::User);
    assert_eq!(ids(&app), vec![1, 2, 6, 5, 4, 3]);

    // Host, DB, Command, then back to Time, longest first.
    for _ in 0..4 {
        key(&mut app, 's');
    }
    assert_eq!(app.table.sort.column, Column::Time);
    assert!(app.table.sort.descending);
    assert_eq!(ids(&app), vec![5, 4, 1, 6, 2, 3]);
    key(&mut app, 'S');
    assert_eq!(ids(&app), vec![3, 2, 6, 1, 4, 5]);
}

// --- filter and idle -------------------------------------------------------

/// Types `text` into a fresh filter and applies it with Enter.
fn apply_filter(app: &mut App, text: &str) -> Vec<u64> {
    key(app, '/');
    // Start from an empty input.
    while matches!(&app.dialog, Some(Dialog::Filter { input }) if !input.is_empty()) {
        code(app, KeyCode::Backspace);
    }
    keys(app, text);
    code(app, KeyCode::Enter);
    assert_eq!(app.dialog, None);
    assert_eq!(app.table.filter, text);
    ids(app)
}

#[test]
fn filter_is_live_and_matches_every_text_column() {
    let mut app = app_showing(mixed());
    key(&mut app, '/');
    assert_eq!(
        app.dialog,
        Some(Dialog::Filter {
            input: String::new()
        })
    );
    key(&mut app, 'S');
    assert_eq!(app.table.filter, "S");
    key(&mut app, 'H');
    assert_eq!(app.table.filter, "SH");
    // "sh" is in db "shop" only... and in no other column.
    assert_eq!(ids(&app), vec![1, 6, 2]);
    keys(&mut app, "OP");
    assert_eq!(ids(&app), vec![1, 6, 2]);
    code(&mut app, KeyCode::Backspace);
    assert_eq!(app.table.filter, "SHO");
    code(&mut app, KeyCode::Enter);
    assert_eq!(app.dialog, None);
    assert_eq!(app.table.filter, "SHO", "Enter keeps the filter");
    assert_eq!(ids(&app), vec![1, 6, 2]);

    assert_eq!(apply_filter(&mut app, "WEB"), vec![3], "user");
    assert_eq!(apply_filter(&mut app, "10.0.0.3"), vec![4], "host");
    assert_eq!(apply_filter(&mut app, "blog"), vec![3], "db");
    assert_eq!(apply_filter(&mut app, "daemon"), vec![5], "command");
    assert_eq!(apply_filter(&mut app, "creating SORT"), vec![4], "state");
    assert_eq!(apply_filter(&mut app, "Orders"), vec![2], "query");
    assert_eq!(apply_filter(&mut app, "SeLeCt"), vec![4, 2], "query");
    assert_eq!(apply_filter(&mut app, "no such thing"), Vec::<u64>::new());
    assert_eq!(app.table.selected, None);

    // Esc while typing clears the filter.
    key(&mut app, '/');
    code(&mut app, KeyCode::Esc);
    assert_eq!(app.dialog, None);
    assert_eq!(app.table.filter, "");
    assert_eq!(ids(&app).len(), 6);

    // Esc in the main view clears an applied filter too.
    apply_filter(&mut app, "web");
    code(&mut app, KeyCode::Esc);
    assert_eq!(app.table.filter, "");
    assert_eq!(ids(&app).len(), 6);
}

#[test]
fn typing_q_or_k_in_the_filter_is_text_not_a_command() {
    let mut app = app_showing(mixed());
    key(&mut app, '/');
    for c in "qkIL?".chars() {
        assert!(key(&mut app, c).is_empty());
    }
    assert_eq!(
        app.dialog,
        Some(Dialog::Filter {
            input: "qkIL?".into()
        })
    );
}

#[test]
fn i_hides_and_shows_idle_sessions() {
    let mut app = app_showing(mixed());
    key(&mut app, 'i');
    assert!(app.table.hide_idle);
    assert_eq!(ids(&app), vec![5, 4, 2]);
    key(&mut app, 'i');
    assert!(!app.table.hide_idle);
    assert_eq!(ids(&app), vec![5, 4, 1, 6, 2, 3]);
}

// --- selection -------------------------------------------------------------

#[test]
fn selection_follows_the_session_across_refresh_and_resort() {
    let three = |a: u64, b: u64, c: u64| {
        vec![
            session(1, "a", "h:1", "Query", a, "SELECT 1"),
            session(2, "b", "h:2", "Query", b, "SELECT 2"),
            session(3, "c", "h:3", "Query", c, "SELECT 3"),
        ]
    };
    let mut app = app_showing(three(100, 50, 10));
    assert_eq!(ids(&app), vec![1, 2, 3]);
    assert_eq!((app.table.cursor, app.table.selected), (0, Some(1)));
    key(&mut app, 'j');
    assert_eq!((app.table.cursor, app.table.selected), (1, Some(2)));

    // Session 2 now runs longest: it moves to the top and stays selected.
    feed(
        &mut app,
        snapshot_at(
            three(101, 500, 11),
            3,
            200,
            t0() + Duration::from_secs(1),
            2,
        ),
    );
    assert_eq!(ids(&app), vec![2, 1, 3]);
    assert_eq!((app.table.cursor, app.table.selected), (0, Some(2)));

    // Sort by id: the selection moves with the row.
    update(&mut app, Event::Resize(140, 40));
    for _ in 0..3 {
        key(&mut app, 's'); // State, Query, Id
    }
    assert_eq!(app.table.sort.column, Column::Id);
    assert_eq!(ids(&app), vec![1, 2, 3]);
    assert_eq!((app.table.cursor, app.table.selected), (1, Some(2)));

    // The last row goes away: the cursor stays in range.
    key(&mut app, 'G');
    assert_eq!((app.table.cursor, app.table.selected), (2, Some(3)));
    let mut two = three(102, 501, 12);
    two.truncate(2);
    feed(
        &mut app,
        snapshot_at(two, 2, 200, t0() + Duration::from_secs(2), 3),
    );
    assert_eq!(ids(&app), vec![1, 2]);
    assert_eq!((app.table.cursor, app.table.selected), (1, Some(2)));
    assert!(app.selected_session().is_some());

    // Everything goes away: no selection, and no kill of nothing.
    feed(
        &mut app,
        snapshot_at(Vec::new(), 0, 200, t0() + Duration::from_secs(3), 4),
    );
    assert!(app.table.rows.is_empty());
    assert_eq!((app.table.cursor, app.table.selected), (0, None));
    key(&mut app, 'k');
    assert_eq!(app.dialog, None);
    assert!(message(&app).contains("no session selected"));
    key(&mut app, 'j');
    code(&mut app, KeyCode::PageDown);
    key(&mut app, 'G');
    assert_eq!((app.table.cursor, app.table.selected), (0, None));
}

#[test]
fn movement_keys_stay_in_range() {
    let mut app = app_showing(mixed());
    code(&mut app, KeyCode::Up);
    assert_eq!(app.table.cursor, 0);
    code(&mut app, KeyCode::End);
    assert_eq!((app.table.cursor, app.table.selected), (5, Some(3)));
    key(&mut app, 'j');
    assert_eq!(app.table.cursor, 5);
    code(&mut app, KeyCode::Home);
    assert_eq!((app.table.cursor, app.table.selected), (0, Some(5)));
    code(&mut app, KeyCode::PageDown);
    assert_eq!(app.table.cursor, 5);
    code(&mut app, KeyCode::PageUp);
    assert_eq!(app.table.cursor, 0);
}

// --- pause and staleness ---------------------------------------------------

#[test]
fn pause_keeps_the_view_and_resume_applies_the_newest() {
    let mut app = app_showing(mixed());
    assert_eq!(app.data.history.len(), 1);
    key(&mut app, 'p');
    assert!(app.data.paused);

    let later = t0() + Duration::from_secs(1);
    feed(
        &mut app,
        snapshot_at(mixed()[..2].to_vec(), 2, 200, later, 2),
    );
    assert_eq!(
        app.data.snapshot.as_ref().unwrap().seq,
        1,
        "the view is frozen"
    );
    assert_eq!(app.data.pending.as_ref().unwrap().seq, 2);
    assert_eq!(ids(&app).len(), 6);
    assert_eq!(app.data.history.len(), 2, "history grows while paused");

    let later = t0() + Duration::from_secs(2);
    feed(
        &mut app,
        snapshot_at(mixed()[..3].to_vec(), 3, 200, later, 3),
    );
    assert_eq!(app.data.snapshot.as_ref().unwrap().seq, 1);
    assert_eq!(
        app.data.pending.as_ref().unwrap().seq,
        3,
        "the newest waits"
    );
    assert_eq!(app.data.history.len(), 3);

    key(&mut app, ' ');
    assert!(!app.data.paused);
    assert_eq!(app.data.snapshot.as_ref().unwrap().seq, 3);
    assert!(app.data.pending.is_none());
    assert_eq!(ids(&app), vec![1, 2, 3]);

    // Space pauses too, p resumes.
    key(&mut app, ' ');
    assert!(app.data.paused);
    let later = t0() + Duration::from_secs(3);
    feed(&mut app, snapshot_at(mixed(), 6, 200, later, 4));
    assert_eq!(app.data.snapshot.as_ref().unwrap().seq, 3);
    key(&mut app, 'p');
    assert_eq!(app.data.snapshot.as_ref().unwrap().seq, 4);
    assert_eq!(app.data.history.len(), 4);
}

#[test]
fn down_and_old_snapshots_are_stale() {
    let mut app = app_showing(mixed());
    assert!(!app.is_stale());
    assert_eq!(app.snapshot_age(), Some(Duration::ZERO));

    update(
        &mut app,
        Event::Feed(Feed::Down(Down {
            since: t0(),
            last_error: "Lost connection to server during query".into(),
            attempts: 2,
        })),
    );
    assert!(app.is_stale());
    assert_eq!(app.data.down.as_ref().unwrap().attempts, 2);

    let t1 = t0() + Duration::from_secs(1);
    feed(&mut app, snapshot_at(mixed(), 6, 200, t1, 2));
    assert!(app.data.down.is_none());
    assert!(!app.is_stale());

    // Interval 1 s: stale after 3 intervals + 1 s without a snapshot.
    update(&mut app, Event::Tick(t1 + Duration::from_secs(4)));
    assert!(!app.is_stale());
    assert_eq!(app.snapshot_age(), Some(Duration::from_secs(4)));
    update(&mut app, Event::Tick(t1 + Duration::from_millis(4001)));
    assert!(app.is_stale());

    let t2 = t1 + Duration::from_secs(5);
    feed(&mut app, snapshot_at(mixed(), 6, 200, t2, 3));
    assert!(!app.is_stale());
}

#[test]
fn no_snapshot_yet_is_not_stale_but_down_is() {
    let mut app = app_with(options());
    assert!(!app.is_stale());
    assert!(app.table.rows.is_empty());
    update(
        &mut app,
        Event::Feed(Feed::Down(Down {
            since: t0(),
            last_error: "Connection refused".into(),
            attempts: 1,
        })),
    );
    assert!(app.is_stale());
}

// --- tags ------------------------------------------------------------------

#[test]
fn t_tags_and_moves_down_and_t_upper_tags_all_shown() {
    let mut app = app_showing(mixed());
    key(&mut app, 't');
    assert_eq!(app.table.tags.iter().copied().collect::<Vec<_>>(), vec![5]);
    assert_eq!((app.table.cursor, app.table.selected), (1, Some(4)));
    key(&mut app, 't');
    assert_eq!(
        app.table.tags.iter().copied().collect::<Vec<_>>(),
        vec![4, 5]
    );
    assert_eq!(app.table.cursor, 2);
    // t on a tagged session untags it.
    key(&mut app, 'g');
    key(&mut app, 't');
    assert_eq!(app.table.tags.iter().copied().collect::<Vec<_>>(), vec![4]);

    key(&mut app, 'T');
    assert_eq!(app.table.tags.len(), 6);
    key(&mut app, 'T');
    assert!(
        app.table.tags.is_empty(),
        "T untags when all shown are tagged"
    );

    // T tags only what is shown.
    apply_filter(&mut app, "shop");
    key(&mut app, 'T');
    assert_eq!(
        app.table.tags.iter().copied().collect::<Vec<_>>(),
        vec![1, 2, 6]
    );
    code(&mut app, KeyCode::Esc);
    key(&mut app, 'T');
    assert_eq!(
        app.table.tags.len(),
        6,
        "not all shown were tagged: tag all"
    );

    // Tags of sessions that are gone are dropped.
    let t1 = t0() + Duration::from_secs(1);
    feed(&mut app, snapshot_at(mixed()[..2].to_vec(), 2, 200, t1, 2));
    assert_eq!(
        app.table.tags.iter().copied().collect::<Vec<_>>(),
        vec![1, 2]
    );
}

#[test]
fn k_with_tags_previews_the_tagged_and_refuses_protected_ones() {
    let mut app = app_showing(mixed_with_own());
    key(&mut app, 'T');
    assert_eq!(app.table.tags.len(), 7);
    key(&mut app, 'k');
    let p = plan(&app);
    assert_eq!(p.kind, PlanKind::Tagged);
    assert_eq!(p.mode, KillMode::Connection);
    // Longest first; the system thread and our own connection are left out.
    assert_eq!(target_ids(&app), vec![4, 1, 6, 2, 3]);
    let refused: Vec<u64> = p.refused.iter().map(|(id, _)| *id).collect();
    assert_eq!(refused, vec![5, OWN_ID]);
    let why_own = &p.refused.iter().find(|(id, _)| *id == OWN_ID).unwrap().1;
    assert!(why_own.contains("own connection"), "{why_own}");
    let why_system = &p.refused.iter().find(|(id, _)| *id == 5).unwrap().1;
    assert!(why_system.contains("system"), "{why_system}");

    let effects = key(&mut app, 'y');
    assert_eq!(effects.len(), 1);
    match &effects[0] {
        Effect::Send(Command::Kill {
            mode, targets, why, ..
        }) => {
            assert_eq!(*mode, KillMode::Connection);
            let ids: Vec<u64> = targets.iter().map(|t| t.session.id).collect();
            assert_eq!(ids, vec![4, 1, 6, 2, 3]);
            assert!(why.contains("5 tagged"), "{why}");
        }
        other => panic!("expected a kill, got {other:?}"),
    }
}

#[test]
fn selected_own_connection_or_system_thread_is_refused() {
    let mut app = app_showing(mixed_with_own());
    // The system thread runs longest: it is the first row.
    assert_eq!(app.table.selected, Some(5));
    key(&mut app, 'k');
    assert_eq!(app.dialog, None);
    assert!(
        message(&app).contains("cannot be killed"),
        "{}",
        message(&app)
    );
    key(&mut app, 'G');
    assert_eq!(app.table.selected, Some(OWN_ID));
    key(&mut app, 'k');
    assert_eq!(app.dialog, None);
    assert!(
        message(&app).contains("own connection"),
        "{}",
        message(&app)
    );
}

// --- single kills ----------------------------------------------------------

#[test]
fn k_previews_the_selected_session_and_y_sends_one_kill() {
    let mut app = app_showing(mixed());
    key(&mut app, 'j'); // session 4
    assert_eq!(app.table.selected, Some(4));
    key(&mut app, 'k');
    let p = plan(&app);
    assert_eq!(p.kind, PlanKind::Selected);
    assert_eq!(p.mode, KillMode::Connection);
    assert_eq!(target_ids(&app), vec![4]);
    assert!(p.refused.is_empty());

    assert!(key(&mut app, 'n').is_empty());
    assert_eq!(app.dialog, None);
    assert!(app.kills.running.is_none());
    assert!(message(&app).contains("cancelled"));

    key(&mut app, 'k');
    assert!(code(&mut app, KeyCode::Esc).is_empty());
    assert_eq!(app.dialog, None);
    assert!(app.kills.running.is_none());

    // Other keys leave the dialog open.
    key(&mut app, 'k');
    assert!(key(&mut app, 'j').is_empty());
    assert!(matches!(app.dialog, Some(Dialog::Confirm(_))));

    let effects = key(&mut app, 'y');
    assert_eq!(app.dialog, None);
    assert_eq!(effects.len(), 1);
    match &effects[0] {
        Effect::Send(Command::Kill {
            request,
            mode,
            targets,
            ..
        }) => {
            assert_eq!(*mode, KillMode::Connection);
            assert_eq!(targets.len(), 1);
            assert_eq!(targets[0].session.id, 4);
            assert_eq!(targets[0].session.user, "report");
            let run = app.kills.running.unwrap();
            assert_eq!(run.request, *request);
            assert_eq!(run.total, 1);
        }
        other => panic!("expected a kill, got {other:?}"),
    }

    // One batch at a time.
    key(&mut app, 'k');
    assert_eq!(app.dialog, None);
    assert!(message(&app).contains("still running"));
}

#[test]
fn x_stops_queries_and_refuses_idle_sessions() {
    let mut app = app_showing(mixed());
    key(&mut app, 'j');
    key(&mut app, 'j'); // session 1, Sleep
    assert_eq!(app.table.selected, Some(1));
    assert!(key(&mut app, 'x').is_empty());
    assert_eq!(app.dialog, None);
    let m = app.message.clone().unwrap();
    assert_eq!(m.level, Level::Warn);
    assert!(m.text.contains("idle"), "{}", m.text);

    key(&mut app, 'g');
    key(&mut app, 'j'); // session 4, Query
    key(&mut app, 'x');
    let p = plan(&app);
    assert_eq!(p.kind, PlanKind::Selected);
    assert_eq!(p.mode, KillMode::Query);
    assert_eq!(target_ids(&app), vec![4]);
    let effects = code(&mut app, KeyCode::Enter);
    match &effects[..] {
        [Effect::Send(Command::Kill { mode, targets, .. })] => {
            assert_eq!(*mode, KillMode::Query);
            assert_eq!(targets[0].session.id, 4);
        }
        other => panic!("expected one kill, got {other:?}"),
    }
}

#[test]
fn enter_opens_detail_and_k_there_previews() {
    let mut app = app_showing(mixed());
    // A screen short enough for the detail to scroll.
    update(&mut app, Event::Resize(60, 8));
    key(&mut app, 'j');
    code(&mut app, KeyCode::Enter);
    assert_eq!(app.dialog, Some(Dialog::Detail { id: 4, scroll: 0 }));
    assert!(app.scroll_limit() >= 2, "{}", app.scroll_limit());
    code(&mut app, KeyCode::Down);
    code(&mut app, KeyCode::Down);
    code(&mut app, KeyCode::Up);
    assert_eq!(app.dialog, Some(Dialog::Detail { id: 4, scroll: 1 }));
    key(&mut app, 'k');
    assert_eq!(target_ids(&app), vec![4]);
    key(&mut app, 'n');
    code(&mut app, KeyCode::Enter);
    code(&mut app, KeyCode::Esc);
    assert_eq!(app.dialog, None);
}

// --- idle and long kills ---------------------------------------------------

#[test]
fn upper_i_previews_idle_sessions_and_plus_minus_walk_the_ladder() {
    let mut app = app_showing(mixed());
    key(&mut app, 'I');
    let p = plan(&app);
    assert_eq!(p.kind, PlanKind::Idle);
    assert_eq!(p.mode, KillMode::Connection);
    assert_eq!(p.threshold, Duration::from_secs(300));
    assert_eq!(target_ids(&app), vec![1, 6], "Sleep ≥ 5m, oldest first");
    assert_eq!(
        p.groups,
        vec![
            ("app@10.0.0.1".to_string(), 1),
            ("app@10.0.0.4".to_string(), 1)
        ]
    );

    key(&mut app, '+');
    assert_eq!(plan(&app).threshold, Duration::from_secs(600));
    assert_eq!(target_ids(&app), vec![1]);
    key(&mut app, '+');
    assert_eq!(plan(&app).threshold, Duration::from_secs(900));
    assert!(target_ids(&app).is_empty());
    for _ in 0..3 {
        key(&mut app, '-');
    }
    assert_eq!(plan(&app).threshold, Duration::from_secs(120));
    assert_eq!(target_ids(&app), vec![1, 6]);
    key(&mut app, '-');
    key(&mut app, '-');
    assert_eq!(plan(&app).threshold, Duration::from_secs(30));
    assert_eq!(target_ids(&app), vec![1, 6, 3]);
    // The bottom of the ladder holds: an idle kill stops at 10 s.
    for _ in 0..10 {
        key(&mut app, '-');
    }
    assert_eq!(plan(&app).threshold, Duration::from_secs(10));
    // And so does the top.
    for _ in 0..30 {
        key(&mut app, '+');
    }
    assert_eq!(plan(&app).threshold, Duration::from_secs(172_800));
    assert!(target_ids(&app).is_empty());

    // Confirming nothing sends nothing.
    assert!(key(&mut app, 'y').is_empty());
    assert_eq!(app.dialog, None);
    assert!(app.kills.running.is_none());
    assert!(message(&app).contains("nothing to kill"));
}

#[test]
fn upper_i_confirmed_sends_idle_expectations() {
    let mut app = app_showing(mixed());
    key(&mut app, 'I');
    let effects = key(&mut app, 'y');
    match &effects[..] {
        [Effect::Send(Command::Kill { mode, targets, .. })] => {
            assert_eq!(*mode, KillMode::Connection);
            let ids: Vec<u64> = targets.iter().map(|t| t.session.id).collect();
            assert_eq!(ids, vec![1, 6]);
            for t in targets {
                assert_eq!(
                    t.expect,
                    conntop::command::Expect::IdleAtLeast {
                        min: Duration::from_secs(300)
                    }
                );
            }
        }
        other => panic!("expected one kill, got {other:?}"),
    }
}

#[test]
fn upper_l_previews_long_statements_with_kill_query() {
    let mut app = app_showing(mixed_with_own());
    key(&mut app, 'L');
    let p = plan(&app);
    assert_eq!(p.kind, PlanKind::Long);
    assert_eq!(p.mode, KillMode::Query);
    assert_eq!(p.threshold, Duration::from_secs(60));
    // Not the Sleep sessions, not the system thread (5000 s), not our own.
    assert_eq!(target_ids(&app), vec![4, 2]);
    key(&mut app, '+');
    assert_eq!(plan(&app).threshold, Duration::from_secs(120));
    assert_eq!(target_ids(&app), vec![4]);
}

#[test]
fn read_only_opens_no_kill_dialog() {
    let mut opts = options();
    opts.safety.read_only = true;
    let mut app = app_with(opts);
    feed(&mut app, snapshot(mixed(), 6, 200));
    for c in ['k', 'x', 'I', 'L'] {
        app.message = None;
        assert!(key(&mut app, c).is_empty());
        assert_eq!(app.dialog, None, "{c} opened a dialog");
        assert!(
            message(&app).contains("read-only"),
            "{c}: {}",
            message(&app)
        );
    }
    key(&mut app, 'T');
    key(&mut app, 'k');
    assert_eq!(app.dialog, None);
    assert!(message(&app).contains("read-only"));
}

#[test]
fn no_kill_dialog_while_disconnected() {
    let mut app = app_showing(mixed());
    update(
        &mut app,
        Event::Feed(Feed::Down(Down {
            since: t0(),
            last_error: "gone".into(),
            attempts: 1,
        })),
    );
    key(&mut app, 'I');
    assert_eq!(app.dialog, None);
    assert!(message(&app).contains("not connected"));
}

// --- replies ---------------------------------------------------------------

#[test]
fn kill_progress_and_done_update_the_run_and_say_how_it_went() {
    let mut app = app_showing(mixed());
    key(&mut app, 'T');
    key(&mut app, 'k');
    let effects = key(&mut app, 'y');
    let request = match &effects[..] {
        [Effect::Send(Command::Kill { request, .. })] => *request,
        other => panic!("expected one kill, got {other:?}"),
    };
    let run = app.kills.running.unwrap();
    assert_eq!(run.total, 5);
    assert_eq!(run.tally, KillTally::default());

    let tally = KillTally {
        killed: 2,
        would_kill: 0,
        skipped: 0,
        failed: 0,
    };
    update(
        &mut app,
        Event::Reply(Reply::KillProgress {
            request,
            total: 5,
            tally,
        }),
    );
    assert_eq!(app.kills.running.unwrap().tally, tally);
    // A reply for another request changes nothing.
    update(
        &mut app,
        Event::Reply(Reply::KillProgress {
            request: request + 100,
            total: 9,
            tally: KillTally {
                killed: 9,
                ..KillTally::default()
            },
        }),
    );
    assert_eq!(app.kills.running.unwrap().tally, tally);

    let done = KillTally {
        killed: 3,
        would_kill: 0,
        skipped: 1,
        failed: 0,
    };
    let effects = update(
        &mut app,
        Event::Reply(Reply::KillDone {
            request,
            mode: KillMode::Connection,
            tally: done,
            first_error: None,
        }),
    );
    assert!(effects.is_empty());
    assert!(app.kills.running.is_none());
    assert!(app.table.tags.is_empty());
    let m = app.message.clone().unwrap();
    assert_eq!(m.level, Level::Info);
    assert!(m.text.starts_with("killed 3, skipped 1"), "{}", m.text);

    // Messages expire.
    update(&mut app, Event::Tick(t0() + Duration::from_secs(5)));
    assert!(app.message.is_some());
    update(&mut app, Event::Tick(t0() + Duration::from_secs(9)));
    assert!(app.message.is_none());
}

#[test]
fn a_failed_kill_is_an_error_with_its_reason() {
    let mut app = app_showing(mixed());
    key(&mut app, 'j');
    key(&mut app, 'x');
    key(&mut app, 'y');
    let request = app.kills.running.unwrap().request;
    update(
        &mut app,
        Event::Reply(Reply::KillDone {
            request,
            mode: KillMode::Query,
            tally: KillTally {
                killed: 0,
                would_kill: 0,
                skipped: 0,
                failed: 1,
            },
            first_error: Some("not owner of thread".into()),
        }),
    );
    let m = app.message.clone().unwrap();
    assert_eq!(m.level, Level::Error);
    assert!(m.text.contains("failed 1"), "{}", m.text);
    assert!(m.text.ends_with("not owner of thread"), "{}", m.text);
    assert!(app.kills.running.is_none());
}

// --- grouped views ---------------------------------------------------------

fn group_keys(app: &App) -> Vec<String> {
    app.table.groups.iter().map(|g| g.key.clone()).collect()
}

#[test]
fn tab_cycles_the_views_and_groups_are_computed() {
    let mut app = app_showing(mixed());
    assert_eq!(app.table.view, View::Sessions);
    code(&mut app, KeyCode::Tab);
    assert_eq!(app.table.view, View::Groups(GroupBy::User));
    assert_eq!(
        group_keys(&app),
        vec!["app", "event_scheduler", "report", "web"]
    );
    let app_group = &app.table.groups[0];
    assert_eq!((app_group.sessions, app_group.sleeping), (3, 2));
    assert_eq!(app.table.selected_group.as_deref(), Some("app"));

    code(&mut app, KeyCode::Tab);
    assert_eq!(app.table.view, View::Groups(GroupBy::Host));
    assert_eq!(
        group_keys(&app),
        vec!["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "localhost"]
    );
    code(&mut app, KeyCode::Tab);
    assert_eq!(app.table.view, View::Groups(GroupBy::Db));
    assert_eq!(group_keys(&app), vec!["shop", "(none)", "blog", "dw"]);
    code(&mut app, KeyCode::Tab);
    assert_eq!(app.table.view, View::Locks);
    code(&mut app, KeyCode::Tab);
    assert_eq!(app.table.view, View::Sessions);
    assert_eq!(ids(&app), vec![5, 4, 1, 6, 2, 3]);
}

#[test]
fn enter_on_a_group_scopes_the_sessions_exactly() {
    let mut sessions = mixed();
    sessions.push(session(7, "appadmin", "10.0.0.9:1", "Sleep", 10, ""));
    let mut app = app_showing(sessions);
    code(&mut app, KeyCode::Tab);
    assert_eq!(app.table.selected_group.as_deref(), Some("app"));
    code(&mut app, KeyCode::Enter);
    assert_eq!(app.table.view, View::Sessions);
    assert_eq!(app.table.scope, Some((GroupBy::User, "app".to_string())));
    assert_eq!(ids(&app), vec![1, 6, 2], "appadmin is not app");
    assert_eq!(app.table.selected, Some(1));

    // The scope holds across a refresh.
    let t1 = t0() + Duration::from_secs(1);
    let mut again = mixed();
    again.push(session(7, "appadmin", "10.0.0.9:1", "Sleep", 11, ""));
    feed(&mut app, snapshot_at(again, 7, 200, t1, 2));
    assert_eq!(ids(&app), vec![1, 6, 2]);

    code(&mut app, KeyCode::Esc);
    assert_eq!(app.table.scope, None);
    assert_eq!(ids(&app).len(), 7);

    // By host: the port is not part of the key.
    code(&mut app, KeyCode::Tab);
    code(&mut app, KeyCode::Tab);
    assert_eq!(app.table.view, View::Groups(GroupBy::Host));
    assert_eq!(app.table.selected_group.as_deref(), Some("10.0.0.1"));
    code(&mut app, KeyCode::Enter);
    assert_eq!(ids(&app), vec![1, 2]);
}

#[test]
fn tagging_in_a_grouped_view_after_sessions_went_away_does_not_panic() {
    let mut app = app_showing(mixed());
    code(&mut app, KeyCode::Tab);
    let t1 = t0() + Duration::from_secs(1);
    feed(&mut app, snapshot_at(mixed()[..1].to_vec(), 1, 200, t1, 2));
    key(&mut app, 'T');
    key(&mut app, 't');
    assert!(app.table.tags.is_empty(), "no sessions are shown to tag");
    assert!(message(&app).contains("sessions view"), "{}", message(&app));
    code(&mut app, KeyCode::Tab);
    code(&mut app, KeyCode::Tab);
    code(&mut app, KeyCode::Tab);
    assert_eq!(app.table.view, View::Locks);
    code(&mut app, KeyCode::Tab);
    assert_eq!(app.table.view, View::Sessions);
    assert_eq!(ids(&app), vec![1]);
}

#[test]
fn s_in_a_grouped_view_sorts_groups() {
    let mut app = app_showing(mixed());
    code(&mut app, KeyCode::Tab);
    key(&mut app, 's'); // Sleeping, most first
    assert_eq!(group_keys(&app)[0], "app");
    key(&mut app, 's'); // Active, most first
    assert_eq!(
        group_keys(&app),
        vec!["app", "event_scheduler", "report", "web"]
    );
    key(&mut app, 'S');
    assert_eq!(group_keys(&app)[0], "web");
    assert_eq!(
        app.table.sort.column,
        Column::Time,
        "the sessions sort is untouched"
    );
}

// --- help, quit, findings --------------------------------------------------

#[test]
fn help_opens_and_any_key_closes_it() {
    let mut app = app_showing(mixed());
    key(&mut app, '?');
    assert_eq!(app.dialog, Some(Dialog::Help { scroll: 0 }));
    assert!(key(&mut app, 'q').is_empty(), "q closes help, not the app");
    assert_eq!(app.dialog, None);
    key(&mut app, '?');
    key(&mut app, 'k');
    assert_eq!(app.dialog, None, "k closes help, no kill dialog");
}

#[test]
fn q_and_ctrl_c_quit() {
    let mut app = app_showing(mixed());
    assert!(matches!(key(&mut app, 'q')[..], [Effect::Quit]));
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert!(matches!(
        update(&mut app, Event::Key(ctrl_c))[..],
        [Effect::Quit]
    ));
    // Ctrl-C quits from inside a dialog too.
    key(&mut app, '/');
    assert!(matches!(
        update(&mut app, Event::Key(ctrl_c))[..],
        [Effect::Quit]
    ));
    assert!(update(&mut app, Event::Resize(80, 24)).is_empty());
}

#[test]
fn findings_are_computed_per_snapshot() {
    let mut app = app_showing(mixed());
    assert!(
        !app.data
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::Leak),
        "{:?}",
        app.data.findings
    );
    let mut leak = leaky(100);
    leak.extend(mixed());
    let t1 = t0() + Duration::from_secs(1);
    feed(&mut app, snapshot_at(leak, 26, 200, t1, 2));
    let f = app
        .data
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::Leak)
        .expect("a leak finding");
    assert!(f.title.contains("20 sessions"), "{}", f.title);
    assert!(f.title.contains("leaky"), "{}", f.title);
    assert!(f.fix.iter().any(|s| s.key() == Some("I")));

    // The leak is gone in the next snapshot: the finding is held a few
    // seconds so the strip does not jump while it is read, then goes.
    let t2 = t1 + Duration::from_secs(1);
    feed(&mut app, snapshot_at(mixed(), 6, 200, t2, 3));
    assert!(
        app.data
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::Leak)
    );
    let t3 = t2 + conntop::findings::STEADY_HOLD + Duration::from_secs(1);
    feed(&mut app, snapshot_at(mixed(), 6, 200, t3, 4));
    assert!(
        !app.data
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::Leak)
    );
}

// --- every binding of every mode -------------------------------------------

/// Presses `k` as a terminal reports it.
fn press(app: &mut App, k: keymap::Key) -> Vec<Effect> {
    let ev = match k {
        keymap::Key::Char(c) => return key(app, c),
        keymap::Key::Ctrl(c) => KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL),
        keymap::Key::Code(c) => KeyEvent::new(c, KeyModifiers::NONE),
    };
    update(app, Event::Key(ev))
}

/// Presses the first key of `action` in `mode`.
fn act(app: &mut App, mode: Mode, action: Action) -> Vec<Effect> {
    let b = keymap::binding(mode, action).expect("a bound action");
    press(app, b.keys[0])
}

/// [`mixed`] on screen with session 4 (a running query) selected, and
/// `mode` open: the filter holds "ap", the kill preview is `I`'s.
fn app_in(mode: Mode) -> App {
    let mut app = app_showing(mixed());
    act(&mut app, Mode::Table, Action::Down);
    assert_eq!(app.table.selected, Some(4));
    let opener = match mode {
        Mode::Table => None,
        Mode::Filter => Some(Action::Filter),
        Mode::Confirm => Some(Action::KillIdle),
        Mode::Detail => Some(Action::Detail),
        Mode::Help => Some(Action::Help),
        Mode::Diagnosis => Some(Action::Diagnosis),
        Mode::Replay | Mode::GoTo => unreachable!("a replay's modes: tests/record.rs"),
        Mode::Fleet | Mode::Server => unreachable!("a fleet's modes: tests/fleet.rs"),
    };
    if let Some(a) = opener {
        act(&mut app, Mode::Table, a);
    }
    if mode == Mode::Filter {
        keys(&mut app, "ap");
    }
    assert_eq!(app.mode(), mode);
    app
}

fn scroll_of(app: &App) -> Option<u16> {
    match &app.dialog {
        Some(Dialog::Help { scroll })
        | Some(Dialog::Detail { scroll, .. })
        | Some(Dialog::Diagnosis { scroll }) => Some(*scroll),
        _ => None,
    }
}

#[test]
fn every_dialog_key_does_what_its_binding_says() {
    for mode in Mode::ALL.into_iter().filter(|m| *m != Mode::Table) {
        for b in mode.bindings() {
            for k in b.all_keys() {
                let what = format!("{mode:?} {k:?} {:?}", b.action);
                let mut app = app_in(mode);
                // Short enough for every dialog's text to scroll.
                update(&mut app, Event::Resize(40, 8));
                let limit = app.scroll_limit();
                let start = limit.min(10);
                if scroll_of(&app).is_some() {
                    assert!(limit >= 2, "{what}: limit {limit}");
                    act(&mut app, mode, Action::PageDown);
                    assert_eq!(scroll_of(&app), Some(start), "{what}");
                }
                let effects = press(&mut app, k);
                match b.action {
                    Action::Quit => {
                        assert!(matches!(effects[..], [Effect::Quit]), "{what}");
                        continue;
                    }
                    Action::Confirm => {
                        assert!(
                            matches!(effects[..], [Effect::Send(Command::Kill { .. })]),
                            "{what}"
                        );
                        assert!(app.kills.running.is_some(), "{what}");
                    }
                    Action::Explain => assert!(
                        matches!(effects[..], [Effect::Send(Command::Explain { id: 4 })]),
                        "{what}"
                    ),
                    _ => assert!(effects.is_empty(), "{what}"),
                }
                match b.action {
                    Action::Close | Action::Confirm => assert_eq!(app.dialog, None, "{what}"),
                    Action::Cancel => {
                        assert_eq!(app.dialog, None, "{what}");
                        assert!(message(&app).contains("cancelled"), "{what}");
                    }
                    Action::ApplyFilter => {
                        assert_eq!(app.dialog, None, "{what}");
                        assert_eq!(app.table.filter, "ap", "{what}");
                    }
                    Action::ClearInput => {
                        assert_eq!(app.dialog, None, "{what}");
                        assert_eq!(app.table.filter, "", "{what}");
                    }
                    Action::DeleteChar => {
                        assert_eq!(app.table.filter, "a", "{what}");
                        assert_eq!(app.mode(), Mode::Filter, "{what}");
                    }
                    Action::ThresholdUp => {
                        assert_eq!(plan(&app).threshold, Duration::from_secs(600), "{what}")
                    }
                    Action::ThresholdDown => {
                        assert_eq!(plan(&app).threshold, Duration::from_secs(120), "{what}")
                    }
                    Action::Up => assert_eq!(scroll_of(&app), Some(start - 1), "{what}"),
                    Action::Down => {
                        assert_eq!(scroll_of(&app), Some((start + 1).min(limit)), "{what}")
                    }
                    Action::PageUp | Action::Top => {
                        assert_eq!(scroll_of(&app), Some(0), "{what}")
                    }
                    Action::PageDown => {
                        assert_eq!(scroll_of(&app), Some((start + 10).min(limit)), "{what}")
                    }
                    Action::Bottom => assert_eq!(scroll_of(&app), Some(limit), "{what}"),
                    Action::KillConnection | Action::KillQuery => {
                        assert_eq!(target_ids(&app), vec![4], "{what}");
                        let mode = if b.action == Action::KillQuery {
                            KillMode::Query
                        } else {
                            KillMode::Connection
                        };
                        assert_eq!(plan(&app).mode, mode, "{what}");
                    }
                    Action::KillIdle => assert_eq!(plan(&app).kind, PlanKind::Idle, "{what}"),
                    Action::KillLong => assert_eq!(plan(&app).kind, PlanKind::Long, "{what}"),
                    Action::KillBlocker => {
                        assert_eq!(app.dialog, None, "{what}");
                        assert!(message(&app).contains("no lock pile-up"), "{what}");
                    }
                    Action::Explain => assert!(
                        matches!(app.dialog, Some(Dialog::Explain { id: 4, .. })),
                        "{what}"
                    ),
                    other => panic!("{what}: no check for {other:?}"),
                }
            }
        }
    }
}

#[test]
fn keys_outside_a_dialog_table_type_close_or_do_nothing() {
    let mut app = app_in(Mode::Filter);
    keys(&mut app, "q?k");
    assert_eq!(app.table.filter, "apq?k", "typed into the filter");
    assert_eq!(app.mode(), Mode::Filter);

    let mut app = app_in(Mode::Confirm);
    assert!(key(&mut app, 'j').is_empty());
    assert_eq!(app.mode(), Mode::Confirm, "a preview waits for y or n");

    for mode in [Mode::Detail, Mode::Help, Mode::Diagnosis] {
        let mut app = app_in(mode);
        assert!(key(&mut app, 'j').is_empty());
        assert_eq!(app.mode(), Mode::Table, "{mode:?} closes on another key");
    }
}

#[test]
fn every_table_key_does_what_its_binding_says() {
    for b in Mode::Table.bindings() {
        for k in b.all_keys() {
            let what = format!("{k:?} {:?}", b.action);
            let mut app = app_in(Mode::Table);
            // Three rows (1, 6, 2), the cursor on the last.
            assert_eq!(apply_filter(&mut app, "app"), vec![1, 6, 2], "{what}");
            act(&mut app, Mode::Table, Action::Bottom);
            assert_eq!(app.table.selected, Some(2), "{what}");
            let sort = app.table.sort;
            let effects = press(&mut app, k);
            if b.action == Action::Quit {
                assert!(matches!(effects[..], [Effect::Quit]), "{what}");
                continue;
            }
            if b.action == Action::Suspend {
                assert!(matches!(effects[..], [Effect::Suspend]), "{what}");
                continue;
            }
            if matches!(b.action, Action::IntervalUp | Action::IntervalDown) {
                let want = if b.action == Action::IntervalUp {
                    Duration::from_secs(2)
                } else {
                    Duration::from_millis(500)
                };
                assert_eq!(app.opts.interval, want, "{what}");
                assert!(
                    matches!(effects[..], [Effect::Send(Command::SetInterval(d))] if d == want),
                    "{what}: {effects:?}"
                );
                continue;
            }
            // Looking at one session (detail, or a kill of it) reads its
            // whole statement; nothing else in the table talks to the poller.
            match effects.as_slice() {
                [] => {}
                [Effect::Send(Command::Statement { id: 2 })] => assert!(
                    matches!(
                        b.action,
                        Action::Detail | Action::KillConnection | Action::KillQuery
                    ),
                    "{what}"
                ),
                [Effect::Send(Command::Explain { id: 2 })] => {
                    assert_eq!(b.action, Action::Explain, "{what}")
                }
                other => panic!("{what}: {other:?}"),
            }
            let dialog = app.mode();
            match b.action {
                Action::Up => assert_eq!(app.table.cursor, 1, "{what}"),
                Action::Down | Action::PageDown | Action::Bottom => {
                    assert_eq!(app.table.cursor, 2, "{what}")
                }
                Action::PageUp | Action::Top => assert_eq!(app.table.cursor, 0, "{what}"),
                Action::NextSort => assert_ne!(app.table.sort.column, sort.column, "{what}"),
                Action::ReverseSort => {
                    assert_eq!(app.table.sort.descending, !sort.descending, "{what}")
                }
                Action::Filter => assert_eq!(dialog, Mode::Filter, "{what}"),
                Action::ClearFilter => assert_eq!(ids(&app).len(), 6, "{what}"),
                Action::ToggleIdle => assert!(app.table.hide_idle, "{what}"),
                Action::Detail => assert_eq!(dialog, Mode::Detail, "{what}"),
                Action::Pause => assert!(app.data.paused, "{what}"),
                Action::Help => assert_eq!(dialog, Mode::Help, "{what}"),
                Action::NextView => {
                    assert_eq!(app.table.view, View::Groups(GroupBy::User), "{what}")
                }
                Action::Diagnosis => assert_eq!(dialog, Mode::Diagnosis, "{what}"),
                Action::KillConnection | Action::KillQuery | Action::KillIdle => {
                    assert_eq!(dialog, Mode::Confirm, "{what}")
                }
                Action::KillLong => assert_eq!(dialog, Mode::Confirm, "{what}"),
                Action::KillBlocker => {
                    assert!(message(&app).contains("no lock pile-up"), "{what}")
                }
                Action::Explain => assert!(
                    matches!(app.dialog, Some(Dialog::Explain { id: 2, .. })),
                    "{what}"
                ),
                Action::Tag => assert!(app.table.tags.contains(&2), "{what}"),
                Action::TagAll => assert_eq!(app.table.tags.len(), 3, "{what}"),
                other => panic!("{what}: no check for {other:?}"),
            }
        }
    }
}

// --- the refresh interval --------------------------------------------------

#[test]
fn plus_and_minus_step_the_interval_and_tell_the_poller() {
    let mut app = app_showing(mixed());
    let sent = |effects: Vec<Effect>| match &effects[..] {
        [Effect::Send(Command::SetInterval(d))] => Some(*d),
        [] => None,
        other => panic!("unexpected effects {other:?}"),
    };
    assert_eq!(sent(key(&mut app, '+')), Some(Duration::from_secs(2)));
    assert_eq!(sent(key(&mut app, '=')), Some(Duration::from_secs(5)));
    assert_eq!(sent(key(&mut app, '+')), Some(Duration::from_secs(10)));
    assert_eq!(app.opts.interval, Duration::from_secs(10));
    assert!(
        message(&app).contains("refresh every 10s"),
        "{}",
        message(&app)
    );
    // The end of the ladder: nothing to send, and it says so.
    assert_eq!(sent(key(&mut app, '+')), None);
    assert!(message(&app).contains("longest"), "{}", message(&app));
    // Staleness follows the new interval: 3 x 10 s + 1 s.
    update(&mut app, Event::Tick(t0() + Duration::from_secs(30)));
    assert!(!app.is_stale());
    for want in [5000, 2000, 1000, 500, 250] {
        assert_eq!(sent(key(&mut app, '-')), Some(Duration::from_millis(want)));
    }
    assert_eq!(sent(key(&mut app, '_')), None);
    assert!(message(&app).contains("shortest"), "{}", message(&app));
    // Not a table key in a dialog: + moves the preview's threshold there.
    key(&mut app, 'I');
    assert!(key(&mut app, '+').is_empty());
    assert_eq!(app.opts.interval, Duration::from_millis(250));
}

#[test]
fn an_interval_off_the_ladder_steps_to_its_neighbours() {
    let mut app = app_with(Options {
        interval: Duration::from_secs(3),
        ..options()
    });
    assert!(matches!(
        key(&mut app, '-')[..],
        [Effect::Send(Command::SetInterval(d))] if d == Duration::from_secs(2)
    ));
    let mut app = app_with(Options {
        interval: Duration::from_secs(3),
        ..options()
    });
    assert!(matches!(
        key(&mut app, '+')[..],
        [Effect::Send(Command::SetInterval(d))] if d == Duration::from_secs(5)
    ));
}

// --- pause freezes everything ----------------------------------------------

#[test]
fn pause_freezes_findings_and_rates_until_resumed() {
    let mut app = app_showing(mixed());
    assert!(
        !app.data
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::Leak)
    );
    key(&mut app, 'p');
    let mut later = raw_snapshot(leaky(100), 20, 200);
    later.seq = 2;
    later.taken_at = t0() + Duration::from_secs(1);
    later.status.connections = 1500;
    feed(&mut app, Arc::new(later));
    // Findings and rates stay those of the snapshot on screen.
    assert!(
        !app.data
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::Leak),
        "the strip follows the frozen view"
    );
    assert_eq!(app.data.shown_samples().count(), 1);
    assert_eq!(app.data.shown_rate(|s| s.connections), None);
    assert_eq!(app.data.history.len(), 2, "history still grows");
    key(&mut app, 'p');
    assert!(
        app.data
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::Leak)
    );
    assert_eq!(app.data.shown_samples().count(), 2);
    assert_eq!(app.data.shown_rate(|s| s.connections), Some(500.0));
}

// --- the threshold ladder and busy pools -----------------------------------

#[test]
fn the_ladder_holds_the_configured_threshold_and_stops_at_ten_seconds() {
    let mut opts = options();
    opts.thresholds.idle_over = Duration::from_secs(20);
    let mut app = app_with(opts);
    feed(&mut app, snapshot(mixed(), 6, 200));
    key(&mut app, 'I');
    assert_eq!(plan(&app).threshold, Duration::from_secs(20));
    key(&mut app, '-');
    assert_eq!(plan(&app).threshold, Duration::from_secs(10));
    key(&mut app, '-');
    assert_eq!(plan(&app).threshold, Duration::from_secs(10), "the floor");
    key(&mut app, '+');
    assert_eq!(
        plan(&app).threshold,
        Duration::from_secs(20),
        "back on 20 s"
    );
    key(&mut app, '+');
    assert_eq!(plan(&app).threshold, Duration::from_secs(30));
    code(&mut app, KeyCode::Esc);
    // `L` keeps the short rungs: a statement can be killed at 1 s.
    key(&mut app, 'L');
    for _ in 0..10 {
        key(&mut app, '-');
    }
    assert_eq!(plan(&app).threshold, Duration::from_secs(1));
}

/// A pool: 2 statements running and 8 connections idle 5 to 40 s, next to
/// a leak of 12 sessions idle 20 minutes.
fn pool_and_leak() -> Vec<Session> {
    let mut sessions: Vec<Session> = (0..8)
        .map(|i| {
            session(
                10 + i,
                "api",
                &format!("10.0.0.3:{}", 5000 + i),
                "Sleep",
                5 + i * 5,
                "",
            )
        })
        .collect();
    sessions.push(session(20, "api", "10.0.0.3:6000", "Query", 1, "SELECT 1"));
    sessions.push(session(21, "api", "10.0.0.3:6001", "Query", 0, "SELECT 2"));
    sessions.extend((0..12).map(|i| {
        session(
            30 + i,
            "batch",
            &format!("10.0.0.4:{}", 7000 + i),
            "Sleep",
            1200,
            "",
        )
    }));
    sessions
}

#[test]
fn a_low_idle_threshold_warns_of_busy_pools() {
    let mut opts = options();
    opts.thresholds.idle_over = Duration::from_secs(30);
    let mut app = app_with(opts);
    feed(&mut app, snapshot(pool_and_leak(), 22, 200));
    key(&mut app, 'I');
    // At 30 s: the leak and the pool's three oldest (30, 35, 40 s).
    let p = plan(&app);
    assert_eq!(p.targets.len(), 15);
    assert_eq!(p.pools.len(), 1, "{:?}", p.pools);
    let pool = &p.pools[0];
    assert_eq!(pool.account, "api@10.0.0.3");
    assert_eq!((pool.running, pool.young_idle, pool.taken), (2, 8, 3));
    key(&mut app, '-');
    assert_eq!(plan(&app).pools[0].taken, 7, "10 s takes 15 s and up");
    // Up to a minute (10 s, 30 s, 60 s): only the leak, no warning.
    key(&mut app, '+');
    key(&mut app, '+');
    let p = plan(&app);
    assert_eq!(p.threshold, Duration::from_secs(60));
    assert_eq!(p.targets.len(), 12);
    assert!(p.pools.is_empty());
}

#[test]
fn a_leak_alone_is_no_busy_pool() {
    let mut opts = options();
    opts.thresholds.idle_over = Duration::from_secs(10);
    let mut app = app_with(opts);
    // 20 idle for 10 minutes and nothing running: no pool to spare.
    feed(&mut app, snapshot(leaky(1), 20, 200));
    key(&mut app, 'I');
    assert_eq!(plan(&app).targets.len(), 20);
    assert!(plan(&app).pools.is_empty());
}

/// Tags act on what is shown: a tagged session that leaves the view (hidden
/// as idle, filtered out) is untagged, so `k` never takes a row the user
/// cannot see.
#[test]
fn tags_follow_what_is_shown() {
    let mut app = app_showing(mixed());
    key(&mut app, 'T');
    let all = app.table.tags.len();
    assert_eq!(all, mixed().len());
    key(&mut app, 'i'); // hide idle
    let shown: Vec<u64> = ids(&app);
    assert!(shown.len() < all);
    assert_eq!(
        app.table.tags.iter().copied().collect::<Vec<_>>().len(),
        shown.len()
    );
    assert!(app.table.tags.iter().all(|id| shown.contains(id)));
    key(&mut app, 'i'); // idle shown again: the hidden ones stay untagged
    assert_eq!(app.table.tags.len(), shown.len());
}

/// A paused view is old on purpose: it says PAUSED, never STALE.
#[test]
fn paused_is_not_stale() {
    let mut app = app_showing(mixed());
    key(&mut app, 'p');
    update(&mut app, Event::Tick(t0() + Duration::from_secs(600)));
    assert!(app.data.paused);
    assert!(!app.is_stale());
}

/// After a kill the findings are not held: a leak that the kill freed is
/// gone with the next snapshot, not five seconds later.
#[test]
fn a_kill_releases_the_held_findings() {
    let mut sessions = mixed();
    sessions.extend(leaky(100));
    let mut app = app_showing(Vec::new());
    let t1 = t0() + Duration::from_secs(1);
    feed(&mut app, snapshot_at(sessions, 26, 200, t1, 2));
    assert!(
        app.data
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::Leak)
    );
    update(
        &mut app,
        Event::Reply(Reply::KillDone {
            request: 1,
            mode: KillMode::Connection,
            tally: KillTally {
                killed: 20,
                ..KillTally::default()
            },
            first_error: None,
        }),
    );
    feed(
        &mut app,
        snapshot_at(mixed(), 6, 200, t1 + Duration::from_secs(1), 3),
    );
    assert!(
        !app.data
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::Leak),
        "{:?}",
        app.data.findings
    );
}

/// A plan read with `e` for a statement still running past the threshold
/// names its worst trait in the long_running finding's evidence.
#[test]
fn the_long_running_finding_names_the_plans_worst_trait() {
    use conntop::explain::{Explained, PlanRow};
    let long = session(
        7,
        "reports",
        "10.0.0.6:1",
        "Query",
        600,
        "SELECT * FROM big",
    );
    let mut app = app_showing(vec![long.clone()]);
    update(
        &mut app,
        Event::Reply(Reply::Explain {
            id: 7,
            plan: Ok(Explained::Plan(vec![PlanRow {
                id: Some(1),
                select_type: "SIMPLE".into(),
                table: "big".into(),
                access: "ALL".into(),
                possible_keys: None,
                key: None,
                rows: Some(2_000_000),
                extra: String::new(),
            }])),
        }),
    );
    feed(
        &mut app,
        snapshot_at(vec![long], 2, 200, t0() + Duration::from_secs(1), 2),
    );
    let f = app
        .data
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::LongRunning)
        .expect("long_running");
    assert!(
        f.evidence
            .iter()
            .any(|e| e.contains("Plan of #7") && e.contains("full table scan")),
        "{:?}",
        f.evidence
    );
}
