//! Big statements: every poll carries only the first characters of each
//! statement (bounded on the server's side); the whole one is read for the
//! one session a user looks at. The first test needs the shared server.

mod common;

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use conntop::app::{App, Dialog, Effect, Event, Options, update};
use conntop::command::{Command, Feed, Reply};
use conntop::snapshot::{LISTED_INFO_CHARS, MAX_INFO_BYTES};
use conntop::source::Source;
use crossterm::event::KeyCode;
use mysql::Opts;
use mysql::prelude::Queryable;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use common::fixtures::{code, raw_snapshot, session};
use common::{root_conn, server, test_user};

/// A 200 KB statement is listed as its first 100 characters every poll, and
/// read whole (up to the cap) for one session on demand.
#[test]
fn a_huge_statement_is_listed_short_and_read_whole_on_demand() {
    let user = test_user("big", &[]);
    let mut conn = user.connect();
    let id = conn.connection_id() as u64;
    let statement = format!("SELECT SLEEP(20) /* {} END */", "x".repeat(200_000));
    let runner = thread::spawn(move || {
        let _ = conn.query_drop(statement);
    });
    let mut source = Source::connect(&[Opts::from(server().opts("root", ""))], "test").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let listed = loop {
        let snap = source.poll().unwrap();
        if let Some(s) = snap
            .sessions
            .iter()
            .find(|s| s.id == id && s.info.is_some())
        {
            break s.info.clone().unwrap();
        }
        assert!(Instant::now() < deadline, "the statement never showed");
        thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(listed.chars().count(), LISTED_INFO_CHARS, "{listed}");
    assert!(listed.starts_with("SELECT SLEEP(20) /* xxx"));

    let whole = source.statement(id).unwrap().expect("still running");
    assert!(
        whole.len() > 10_000 && whole.len() <= MAX_INFO_BYTES + 3,
        "{}",
        whole.len()
    );
    assert!(whole.starts_with("SELECT SLEEP(20) /* xxx"));
    // A session that runs nothing has no statement; a gone one neither.
    // (The server may show a new connection's last setup statement for a
    // moment after the handshake.)
    let idle = user.connect();
    let deadline = Instant::now() + Duration::from_secs(5);
    while source
        .statement(idle.connection_id() as u64)
        .unwrap()
        .is_some()
    {
        assert!(
            Instant::now() < deadline,
            "an idle session still shows a statement"
        );
        thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(source.statement(u64::from(u32::MAX)).unwrap(), None);

    root_conn().query_drop(format!("KILL {id}")).unwrap();
    drop(user);
    runner.join().unwrap();
}

/// Opening the detail asks the poller for the whole statement; when it
/// arrives the detail shows it.
#[test]
fn the_detail_asks_for_the_whole_statement_and_shows_it() {
    let listed = format!("SELECT 1 /* {}", "y".repeat(LISTED_INFO_CHARS - 12));
    let snap = raw_snapshot(
        vec![session(7, "app", "10.0.0.1:5000", "Query", 30, &listed)],
        2,
        100,
    );
    let mut app = App::new(Options {
        interval: Duration::from_secs(1),
        ..Options::default()
    });
    update(&mut app, Event::Resize(100, 30));
    update(&mut app, Event::Feed(Feed::Snapshot(Arc::new(snap))));
    let effects = code(&mut app, KeyCode::Enter);
    assert!(matches!(app.dialog, Some(Dialog::Detail { id: 7, .. })));
    assert!(
        matches!(
            effects.as_slice(),
            [Effect::Send(Command::Statement { id: 7 })]
        ),
        "{effects:?}"
    );
    let screen = |app: &App| {
        let mut t = Terminal::new(TestBackend::new(100, 30)).unwrap();
        t.draw(|f| conntop::ui::render(app, f)).unwrap();
        let buf = t.backend().buffer().clone();
        (0..buf.area.height)
            .map(|y| {
                (0..buf.area.width)
                    .map(|x| buf[(x, y)].symbol())
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(screen(&app).contains("reading the whole statement"));
    let whole = format!("{listed}{} THE END */", "z".repeat(300));
    update(
        &mut app,
        Event::Reply(Reply::Statement {
            id: 7,
            text: Ok(Some(whole)),
        }),
    );
    let shown = screen(&app);
    assert!(shown.contains("THE END */"), "{shown}");
    assert!(!shown.contains("reading the whole statement"), "{shown}");
}

/// The session moves on to another statement while its detail is open: the
/// whole text read for the first one is not shown under the second, and the
/// second is read.
#[test]
fn the_detail_reads_again_when_the_statement_changes() {
    let first = format!("SELECT 'A' /* {}", "a".repeat(LISTED_INFO_CHARS - 14));
    let second = format!("SELECT 'B' /* {}", "b".repeat(LISTED_INFO_CHARS - 14));
    let snap = |info: &str, seq: u64| {
        let mut s = raw_snapshot(
            vec![session(7, "app", "10.0.0.1:5000", "Query", 3, info)],
            2,
            100,
        );
        s.seq = seq;
        Feed::Snapshot(Arc::new(s))
    };
    let mut app = App::new(Options {
        interval: Duration::from_secs(1),
        ..Options::default()
    });
    update(&mut app, Event::Resize(100, 30));
    update(&mut app, Event::Feed(snap(&first, 1)));
    code(&mut app, KeyCode::Enter);
    update(
        &mut app,
        Event::Reply(Reply::Statement {
            id: 7,
            text: Ok(Some(format!("{first} TAIL OF A */"))),
        }),
    );
    // Same statement listed again: nothing to read.
    assert!(update(&mut app, Event::Feed(snap(&first, 2))).is_empty());
    // Another statement: read again.
    let effects = update(&mut app, Event::Feed(snap(&second, 3)));
    assert!(
        matches!(
            effects.as_slice(),
            [Effect::Send(Command::Statement { id: 7 })]
        ),
        "{effects:?}"
    );
    let mut t = Terminal::new(TestBackend::new(100, 30)).unwrap();
    t.draw(|f| conntop::ui::render(&app, f)).unwrap();
    let buf = t.backend().buffer().clone();
    let shown: String = (0..buf.area.height)
        .flat_map(|y| (0..buf.area.width).map(move |x| (x, y)))
        .map(|(x, y)| buf[(x, y)].symbol().to_string())
        .collect();
    assert!(!shown.contains("TAIL OF A"), "{shown}");
    assert!(matches!(app.dialog, Some(Dialog::Detail { id: 7, .. })));
}
